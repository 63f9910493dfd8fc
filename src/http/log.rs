//! The log line of one HTTP transaction (configuration.txt 8.2.3, HTTP log
//! format; 8.2.5 for `option httplog clf`; 8.2.6 for `log-format`).
//!
//! `option httplog`, `option httplog clf` and `log-format` are all rendered
//! by the one log-format renderer (`log::format`), the first two through
//! HAProxy's own format strings (`HTTPLOG_FORMAT`, `CLF_FORMAT`), parsed
//! once per proxy at start-up. This module only gathers the transaction's
//! values:
//!
//! ```text
//! %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::txn::{HttpTxn, TxnFlags};
use crate::log::format::{LogAddr, LogVars};
use crate::stream::{SfFlags, Stream, StreamCtx};

/// Milliseconds from `a` to `b`, or -1 when either is unknown.
fn span(a: Option<u64>, b: Option<u64>) -> i64 {
    match (a, b) {
        (Some(a), Some(b)) => b.saturating_sub(a) as i64,
        _ => -1,
    }
}

/// True when the frontend logs this transaction (a log format with a log
/// target; not a null request under `dontlognull`; not a normal one under
/// `dontlog-normal`).
fn wanted(s: &Stream, cx: &StreamCtx, txn: &HttpTxn) -> bool {
    let Some(fe) = cx.proxies.get(s.fe) else {
        return false;
    };
    if fe.txn_log_fmt().is_none() || fe.logs.is_empty() {
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

/// The captured header values as the renderer takes them, one per
/// configured capture (`None` when none is configured).
fn captures(v: &[Option<Vec<u8>>], n: usize) -> Option<Vec<Option<&[u8]>>> {
    (n > 0).then(|| {
        (0..n)
            .map(|i| v.get(i).and_then(|c| c.as_deref()))
            .collect()
    })
}

/// Sends the log line of the stream's current transaction (once).
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
    let Some(txn) = s.txn.as_deref() else { return };
    if !wanted(s, cx, txn) {
        return;
    }
    // A request that never came (`<BADREQ>`) is an error: 2.6 logs it
    // with `error-log-format` when there is one.
    let err_lf = cx
        .proxies
        .get(s.fe)
        .and_then(|p| p.http.error_log_lf.clone())
        .filter(|_| txn.uri.is_empty());
    let samples = match &err_lf {
        Some(lf) => crate::stream::rules_env::lf_samples(s, cx, lf),
        None => crate::stream::rules_env::log_samples(s, cx),
    };
    let sample_refs: Vec<Option<&str>> = samples.iter().map(Option::as_deref).collect();
    let Some(txn) = s.txn.as_deref() else { return };
    let Some(fe) = cx.proxies.get(s.fe) else {
        return;
    };
    let Some(fmt) = err_lf.as_deref().map(|l| &l.fmt).or(fe.txn_log_fmt()) else {
        return;
    };
    let now_abs = cx.clock.now_abs;
    // A `mode tcp` frontend upgraded to HTTP: 2.6's HTTP/1 layer reports
    // the errors before a request head is parsed, on the frontend alone.
    let mux_err = fe.mode == crate::cfg::model::Mode::Tcp && txn.uri.is_empty();
    let be = s.be.filter(|_| !mux_err).and_then(|b| cx.proxies.get(b));
    let srv = match (be, s.last_srv) {
        // A server counts once a connection to it was tried (2.6 names it
        // after failed attempts too).
        (Some(b), Some(i))
            if s.t_connect.is_some()
                || s.t_queue.is_some()
                || s.flags.contains(SfFlags::BE_ASSIGNED)
                || s.retries_done > 0
                || matches!(
                    s.si[1].err_type,
                    crate::si::ErrType::ConnErr | crate::si::ErrType::ConnTo
                ) =>
        {
            b.servers.get(i)
        }
        _ => None,
    };
    let t = &txn.times;
    let t_w = match s.t_queue {
        None if srv.is_none() => -1,
        None => 0,
        Some(q) => s.t_dequeue.unwrap_or(now_abs).saturating_sub(q) as i64,
    };
    // Tc counts from the moment the request could be sent: the end of the
    // queue wait, or the complete head.
    let t_c = match (s.t_connect, s.t_dequeue.or(t.req_head)) {
        (Some(c), Some(f)) => c.saturating_sub(f) as i64,
        (Some(_), None) => 0,
        _ => -1,
    };
    let rsp_from = match (s.t_connect, t.req_sent) {
        (Some(c), Some(r)) => Some(c.max(r)),
        (c, r) => c.or(r),
    };
    let t_r = span(t.req_start, t.req_head);
    let t_rsp = span(rsp_from, t.res_head);
    let ti = t
        .req_start
        .map_or(-1, |r| r.saturating_sub(t.idle_start) as i64);
    let tt = now_abs.saturating_sub(t.idle_start) as i64;
    // Tq = Th + Ti + TR; Td = Tt - (Tq + Tw + Tc + Tr), as HAProxy derives them.
    let tq = if ti >= 0 && t_r >= 0 { ti + t_r } else { -1 };
    let td = if [tq, t_w, t_c, t_rsp].iter().all(|&v| v >= 0) {
        tt - (tq + t_w + t_c + t_rsp)
    } else {
        -1
    };
    let parsed = !txn.uri.is_empty();
    // A `<BADREQ>` line shows no captures, as in HAProxy 2.6.
    let req_caps = captures(&txn.req_caps, fe.http.req_captures.len()).filter(|_| parsed);
    let res_caps = captures(&txn.res_caps, fe.http.res_captures.len()).filter(|_| parsed);
    let date = if t.req_start.is_some() {
        t.req_date
    } else {
        s.accept_date
    };
    let v = LogVars {
        client: s.cli_addr.map(LogAddr::Inet),
        frontend_addr: s.frt_addr.map(LogAddr::Inet),
        server_addr: srv.map(|x| LogAddr::Inet(x.addr)),
        frontend: &fe.name,
        is_ssl: s.fe_ssl.is_some(),
        ssl_version: s.fe_ssl.map(|x| x.0),
        ssl_cipher: s.fe_ssl.map(|x| x.1),
        backend: be.map_or(fe.name.as_str(), |b| b.name.as_str()),
        server: srv.map_or("<NOSRV>", |x| x.name.as_str()),
        accept_date: txn_accept_date(s.accept_date, txn),
        request_date: date,
        th: 0,
        ti,
        treq: t_r,
        tq,
        tw: t_w,
        tc: t_c,
        tr: t_rsp,
        td,
        ta: now_abs.saturating_sub(t.req_start.unwrap_or(now_abs)) as i64,
        tt,
        tu: if ti >= 0 { tt - ti } else { tt },
        status: if txn.status == 0 {
            -1
        } else {
            i32::from(txn.status)
        },
        // HAProxy counts the head as its internal message, not as received.
        // So is a chunked body: its payload, not its framing.
        bytes_out: (s.res.total.saturating_sub(txn.res_base)
            + txn.res_head_htx
            + txn.res.chunk_htx)
            .saturating_sub(txn.res_head_wire + txn.res.chunk_wire),
        bytes_in: s.req.total.saturating_sub(txn.req_base),
        term: [s.err as u8, s.finst.ch() as u8, b'-', b'-'],
        actconn: cx.actconn,
        feconn: fe.feconn,
        beconn: be.map_or(0, |b| b.beconn),
        srvconn: srv.map_or(0, |x| x.cur_sess),
        retries: s.retries_done,
        redispatched: s.flags.contains(SfFlags::REDISP),
        srv_queue: s.queue_pos.0,
        be_queue: s.queue_pos.1,
        req_cookie: std::str::from_utf8(&txn.req_cookie)
            .ok()
            .filter(|c| !c.is_empty() && parsed),
        res_cookie: std::str::from_utf8(&txn.res_cookie)
            .ok()
            .filter(|c| !c.is_empty() && parsed),
        req_caps: req_caps.as_deref(),
        res_caps: res_caps.as_deref(),
        request_line: parsed.then_some(txn.uri.as_slice()),
        pid: crate::process::pid(),
        req_counter: u64::from(s.uniq_id),
        samples: &sample_refs,
        unique_id: std::str::from_utf8(&txn.unique_id)
            .ok()
            .filter(|u| !u.is_empty()),
        ..Default::default()
    };
    let mut line = String::with_capacity(256);
    fmt.render(&v, &mut line);
    let level = match txn.log_level {
        Some(Some(l)) => l,
        // `set-log-level silent`.
        Some(None) => return,
        // Errors, timeouts, retries, redispatches and 5xx are raised to
        // `err` only with `option log-separate-errors`, as in 2.6.
        None if fe.opts.log_separate_errors
            && (s.err != '-'
                || txn.status >= 500
                || s.retries_done > 0
                || s.flags.contains(SfFlags::REDISP)) =>
        {
            3
        }
        None => 6,
    };
    cx.logger.send(&fe.logs, level, &line);
}

/// `%t` of a transaction: the connection's accept date for its first one;
/// for a later one on a keep-alive connection, the end of the one before
/// (2.6 starts a new stream there, dated then).
fn txn_accept_date(accept: (i64, u32), txn: &crate::http::txn::HttpTxn) -> (i64, u32) {
    let t = &txn.times;
    match t.req_start {
        Some(start) if txn.flags.contains(TxnFlags::NOT_FIRST) => {
            let idle = start.saturating_sub(t.idle_start) as i64;
            let ms = t.req_date.0 * 1000 + i64::from(t.req_date.1) - idle;
            (ms.div_euclid(1000), ms.rem_euclid(1000) as u32)
        }
        _ => accept,
    }
}
