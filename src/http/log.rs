//! The HTTP log line of one transaction (configuration.txt 8.2.3, HTTP
//! log format; 8.2.5 for `option httplog clf`).
//!
//! `format_httplog` is pure (the values are gathered from the stream by
//! `log_txn`), so that golden lines are unit-tested. Default format:
//!
//! ```text
//! %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::txn::{HttpTxn, TxnFlags};
use crate::stream::{SfFlags, Stream, StreamCtx};
use std::fmt::Write as _;
use std::net::SocketAddr;

/// The values of one HTTP log line.
#[derive(Debug, Clone, Default)]
pub struct HttpLog<'a> {
    pub client: Option<SocketAddr>,
    /// Date of the request's start (`%tr`), (seconds, milliseconds).
    pub date: (i64, u32),
    pub frontend: &'a str,
    pub backend: &'a str,
    pub server: &'a str,
    /// %TR %Tw %Tc %Tr %Ta in ms (-1 when not reached).
    pub t_r: i64,
    pub t_w: i64,
    pub t_c: i64,
    pub t_rsp: i64,
    pub t_a: i64,
    pub status: i32,
    pub bytes: u64,
    pub term: [char; 2],
    pub actconn: u32,
    pub feconn: u32,
    pub beconn: u32,
    pub srvconn: u32,
    pub retries: u32,
    pub redispatched: bool,
    pub srv_queue: u32,
    pub be_queue: u32,
    /// Captured request / response headers (None: no capture configured).
    pub req_caps: Option<&'a [Option<Vec<u8>>]>,
    pub res_caps: Option<&'a [Option<Vec<u8>>]>,
    /// The request line (empty: `<BADREQ>`).
    pub request: &'a [u8],
    /// `option httplog clf`.
    pub clf: bool,
}

/// Appends `{v1|v2}` with HAProxy's escaping of `"`, `|`, `{`, `}` and
/// control characters (`#XX`).
fn push_caps(out: &mut String, caps: &[Option<Vec<u8>>]) {
    out.push_str(" {");
    for (i, c) in caps.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        if let Some(v) = c {
            push_escaped(out, v, b"\"{|}#");
        }
    }
    out.push('}');
}

/// Bytes as text; control characters and those in `esc` become `#XX`.
fn push_escaped(out: &mut String, v: &[u8], esc: &[u8]) {
    for &b in v {
        if !(0x20..0x7f).contains(&b) || esc.contains(&b) {
            let _ = write!(out, "#{b:02X}");
        } else {
            out.push(b as char);
        }
    }
}

/// Renders an HTTP log line (without syslog header).
pub fn format_httplog(l: &HttpLog<'_>) -> String {
    let mut s = String::with_capacity(200 + l.request.len());
    if l.clf {
        return format_clf(l, s);
    }
    match l.client {
        Some(a) => {
            let _ = write!(s, "{}:{}", a.ip(), a.port());
        }
        None => s.push_str("-:-"),
    }
    crate::log::push_date(&mut s, l.date);
    let _ = write!(
        s,
        " {} {}/{} {}/{}/{}/{}/{} {} {} - - {}{}-- {}/{}/{}/{}/{}{} {}/{}",
        l.frontend,
        l.backend,
        l.server,
        l.t_r,
        l.t_w,
        l.t_c,
        l.t_rsp,
        l.t_a,
        l.status,
        l.bytes,
        l.term[0],
        l.term[1],
        l.actconn,
        l.feconn,
        l.beconn,
        l.srvconn,
        if l.redispatched { "+" } else { "" },
        l.retries,
        l.srv_queue,
        l.be_queue
    );
    if let Some(c) = l.req_caps {
        push_caps(&mut s, c);
    }
    if let Some(c) = l.res_caps {
        push_caps(&mut s, c);
    }
    s.push_str(" \"");
    if l.request.is_empty() {
        s.push_str("<BADREQ>");
    } else {
        push_escaped(&mut s, l.request, b"\"");
    }
    s.push('"');
    s
}

/// The Common Log Format variant (`option httplog clf`).
fn format_clf(l: &HttpLog<'_>, mut s: String) -> String {
    let (ip, port) = l
        .client
        .map_or(("-".to_string(), 0), |a| (a.ip().to_string(), a.port()));
    let _ = write!(s, "{ip} - - [");
    crate::log::push_clf_date(&mut s, l.date.0);
    s.push_str("] \"");
    if l.request.is_empty() {
        s.push_str("<BADREQ>");
    } else {
        push_escaped(&mut s, l.request, b"\"");
    }
    let _ = write!(
        s,
        "\" {} {} \"\" \"\" {} {:03} \"{}\" \"{}\" \"{}\" {} {} {} {} {} {}{}-- {} {} {} {} {}{} {} {} \"\" \"\" ",
        l.status,
        l.bytes,
        port,
        l.date.1,
        l.frontend,
        l.backend,
        l.server,
        l.t_r,
        l.t_w,
        l.t_c,
        l.t_rsp,
        l.t_a,
        l.term[0],
        l.term[1],
        l.actconn,
        l.feconn,
        l.beconn,
        l.srvconn,
        if l.redispatched { "+" } else { "" },
        l.retries,
        l.srv_queue,
        l.be_queue
    );
    s
}

/// What a custom `log-format` may show beyond the httplog fields.
struct Extra {
    ti: i64,
    tt: i64,
    bytes_in: u64,
    frontend_addr: Option<SocketAddr>,
    server_addr: Option<SocketAddr>,
    uniq_id: u32,
}

/// The `log-format` variables of a transaction, from its httplog values.
fn custom_vars<'a>(l: &'a HttpLog<'a>, x: &Extra) -> crate::log::format::LogVars<'a> {
    use crate::log::format::{LogAddr, LogVars};
    let known = |v: i64| v >= 0;
    // Tq = Th + Ti + TR; Td = Tt - (Tq + Tw + Tc + Tr), as HAProxy derives them.
    let tq = if known(x.ti) && known(l.t_r) {
        x.ti + l.t_r
    } else {
        -1
    };
    let td = if [tq, l.t_w, l.t_c, l.t_rsp].iter().all(|&v| known(v)) {
        x.tt - (tq + l.t_w + l.t_c + l.t_rsp)
    } else {
        -1
    };
    let term = [l.term[0] as u8, l.term[1] as u8, b'-', b'-'];
    LogVars {
        client: l.client.map(LogAddr::Inet),
        frontend_addr: x.frontend_addr.map(LogAddr::Inet),
        server_addr: x.server_addr.map(LogAddr::Inet),
        frontend: l.frontend,
        backend: l.backend,
        server: l.server,
        accept_date: l.date,
        request_date: l.date,
        th: 0,
        ti: x.ti,
        treq: l.t_r,
        tq,
        tw: l.t_w,
        tc: l.t_c,
        tr: l.t_rsp,
        td,
        ta: l.t_a,
        tt: x.tt,
        tu: if known(x.ti) { x.tt - x.ti } else { x.tt },
        status: l.status,
        bytes_out: l.bytes,
        bytes_in: x.bytes_in,
        term,
        actconn: l.actconn,
        feconn: l.feconn,
        beconn: l.beconn,
        srvconn: l.srvconn,
        retries: l.retries,
        redispatched: l.redispatched,
        srv_queue: l.srv_queue,
        be_queue: l.be_queue,
        request_line: (!l.request.is_empty()).then_some(l.request),
        pid: std::process::id(),
        req_counter: u64::from(x.uniq_id),
        ..Default::default()
    }
}

/// Milliseconds from `a` to `b`, or -1 when either is unknown.
fn span(a: Option<u64>, b: Option<u64>) -> i64 {
    match (a, b) {
        (Some(a), Some(b)) => b.saturating_sub(a) as i64,
        _ => -1,
    }
}

/// True when the frontend logs this transaction (`option httplog` with a
/// log target; not a null request under `dontlognull`; not a normal one
/// under `dontlog-normal`).
fn wanted(s: &Stream, cx: &StreamCtx, txn: &HttpTxn) -> bool {
    let Some(fe) = cx.proxies.get(s.fe) else {
        return false;
    };
    if (fe.http.httplog.is_none() && fe.log_fmt.is_none()) || fe.logs.is_empty() {
        return false;
    }
    if fe.opts.dontlognull && txn.times.req_start.is_none() {
        return false;
    }
    if fe.http.dontlog_normal && s.err == '-' && txn.status < 500 && s.retries_done == 0 {
        return false;
    }
    true
}

/// Sends the log line of the stream's current transaction.
pub fn log_txn(s: &mut Stream, cx: &mut StreamCtx) {
    let Some(txn) = s.txn.as_mut() else { return };
    if txn.flags.contains(TxnFlags::LOGGED) {
        return;
    }
    txn.flags.insert(TxnFlags::LOGGED);
    // A keep-alive connection closed between two requests logs nothing.
    if txn.flags.contains(TxnFlags::IDLE) {
        return;
    }
    let Some(txn) = s.txn.as_ref() else { return };
    if !wanted(s, cx, txn) {
        return;
    }
    let now_abs = cx.clock.now_abs;
    let Some(fe) = cx.proxies.get(s.fe) else {
        return;
    };
    let be = s.be.and_then(|b| cx.proxies.get(b));
    let srv = match (be, s.last_srv) {
        (Some(b), Some(i)) if s.t_connect.is_some() || s.t_queue.is_some() => b.servers.get(i),
        _ => None,
    };
    let t = &txn.times;
    let start = t.req_start.unwrap_or(now_abs);
    let t_w = match s.t_queue {
        None if srv.is_none() => -1,
        None => 0,
        Some(q) => s.t_dequeue.unwrap_or(now_abs).saturating_sub(q) as i64,
    };
    // Tc counts from the moment the request could be sent: the end of the
    // queue wait, or the complete head.
    let conn_from = s.t_dequeue.or(t.req_head);
    let t_c = match (s.t_connect, conn_from) {
        (Some(c), Some(f)) => c.saturating_sub(f) as i64,
        (Some(_), None) => 0,
        _ => -1,
    };
    let rsp_from = match (s.t_connect, t.req_sent) {
        (Some(c), Some(r)) => Some(c.max(r)),
        (c, r) => c.or(r),
    };
    let caps = |v: &[Option<Vec<u8>>], n: usize| -> Option<Vec<Option<Vec<u8>>>> {
        (n > 0).then(|| {
            let mut out = v.to_vec();
            out.resize(n, None);
            out
        })
    };
    let req_caps = caps(&txn.req_caps, fe.http.req_captures.len());
    let res_caps = caps(&txn.res_caps, fe.http.res_captures.len());
    let l = HttpLog {
        client: s.cli_addr,
        date: if t.req_start.is_some() {
            t.req_date
        } else {
            s.accept_date
        },
        frontend: &fe.name,
        backend: be.map_or(fe.name.as_str(), |b| b.name.as_str()),
        server: srv.map_or("<NOSRV>", |x| x.name.as_str()),
        t_r: span(t.req_start, t.req_head),
        t_w,
        t_c,
        t_rsp: span(rsp_from, t.res_head),
        t_a: now_abs.saturating_sub(start) as i64,
        status: if txn.status == 0 {
            -1
        } else {
            i32::from(txn.status)
        },
        // HAProxy counts the head as its internal message, not as received.
        bytes: (s.res.total.saturating_sub(txn.res_base) + txn.res_head_htx)
            .saturating_sub(txn.res_head_wire),
        term: [s.err, s.finst.ch()],
        actconn: cx.actconn,
        feconn: fe.feconn,
        beconn: be.map_or(0, |b| b.beconn),
        srvconn: srv.map_or(0, |x| x.cur_sess),
        retries: s.retries_done,
        redispatched: s.flags.contains(SfFlags::REDISP),
        srv_queue: s.queue_pos.0,
        be_queue: s.queue_pos.1,
        req_caps: req_caps.as_deref(),
        res_caps: res_caps.as_deref(),
        request: &txn.uri,
        clf: fe.http.httplog == Some(true),
    };
    let line = match fe.log_fmt.as_ref() {
        Some(f) => {
            // Idle time before the request, and the whole session so far.
            let ti = t
                .req_start
                .map_or(-1, |r| r.saturating_sub(t.idle_start) as i64);
            let tt = now_abs.saturating_sub(t.idle_start) as i64;
            let extra = Extra {
                ti,
                tt,
                bytes_in: s.req.total.saturating_sub(txn.req_base),
                frontend_addr: s.frt_addr,
                server_addr: srv.map(|x| x.addr),
                uniq_id: s.uniq_id,
            };
            let mut out = String::with_capacity(256);
            f.render(&custom_vars(&l, &extra), &mut out);
            out
        }
        None => format_httplog(&l),
    };
    let level = if s.err != '-' || txn.status >= 500 {
        3
    } else {
        6
    };
    cx.logger.send(&fe.logs, level, &line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_httplog_line() {
        let l = HttpLog {
            client: "127.0.0.1:40000".parse().ok(),
            date: (0, 5),
            frontend: "fe",
            backend: "be",
            server: "s1",
            t_r: 0,
            t_w: 0,
            t_c: 1,
            t_rsp: 2,
            t_a: 3,
            status: 200,
            bytes: 120,
            term: ['-', '-'],
            actconn: 1,
            feconn: 1,
            beconn: 1,
            srvconn: 1,
            request: b"GET / HTTP/1.1",
            ..Default::default()
        };
        let s = format_httplog(&l);
        let (head, tail) = s.split_once(']').unwrap_or_default();
        assert!(head.starts_with("127.0.0.1:40000 ["), "{s}");
        assert_eq!(
            tail,
            " fe be/s1 0/0/1/2/3 200 120 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\""
        );
    }

    #[test]
    fn clf_line_as_haproxy_writes_it() {
        // Captured from HAProxy 2.6.12 (`option httplog clf`).
        let l = HttpLog {
            client: "127.0.0.1:60148".parse().ok(),
            date: (0, 174),
            frontend: "fclf",
            backend: "b",
            server: "s",
            status: 200,
            bytes: 55,
            term: ['-', '-'],
            actconn: 1,
            feconn: 1,
            request: b"GET /clf?q=1 HTTP/1.1",
            clf: true,
            ..Default::default()
        };
        let s = format_httplog(&l);
        let (head, tail) = s.split_once(']').unwrap_or_default();
        assert!(head.starts_with("127.0.0.1 - - ["), "{s}");
        assert_eq!(
            tail,
            " \"GET /clf?q=1 HTTP/1.1\" 200 55 \"\" \"\" 60148 174 \"fclf\" \"b\" \"s\" 0 0 0 0 0 ---- 1 1 0 0 0 0 0 \"\" \"\" "
        );
    }

    #[test]
    fn captures_and_bad_request() {
        let caps = [Some(b"a|b".to_vec()), None];
        let l = HttpLog {
            status: 400,
            term: ['P', 'R'],
            req_caps: Some(&caps),
            ..Default::default()
        };
        let s = format_httplog(&l);
        assert!(
            s.ends_with(" PR-- 0/0/0/0/0 0/0 {a#7Cb|} \"<BADREQ>\""),
            "{s}"
        );
    }
}
