//! The HTTP request analysers (HAProxy's `http_wait_for_request`,
//! `http_process_req_common`, `http_process_request`,
//! `http_request_forward_body`), run by the stream in bit order over the
//! request channel's input:
//!
//! ```text
//!   REQ_WAIT_HTTP -> REQ_HTTP_PROCESS_FE -> REQ_SWITCHING_RULES -> REQ_HTTP_PROCESS_BE -> REQ_HTTP_XFER_BODY
//!   (head parsed)    (monitor-uri, rules)   (backend)              (rules, forwardfor,     (head, then body by
//!                                                                   connection mode)         its framing)
//! ```
//!
//! The head is parsed in place in the channel's buffer; it stays input
//! (unsent) until REQ_HTTP_XFER_BODY schedules it, so the rules can rewrite
//! it. A body of known length is then handed to the I/O layer in one
//! `forward(n)` (it may splice); a chunked body is walked chunk by chunk.
//! The response side lives in `ana_res.rs`, replies made by the proxy in
//! `reply.rs`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::hdr::HeadEdit;
use super::parse::{self, Framing, Kind, Method, MsgFlags, ParseOpts};
use super::reply;
use super::txn::{MsgState, TxnFlags};
use crate::cfg::model::HttpConnMode;
use crate::channel::{AnFlags, CfFlags};
use crate::stream::{Finst, Stream, StreamCtx};
use crate::ticks::{ETERNITY, tick_add_ifset, tick_is_expired, tick_isset};

/// The analysers a stream of an HTTP frontend starts each request with.
pub const FE_REQ_ANA: AnFlags = AnFlags::REQ_WAIT_HTTP
    .union(AnFlags::REQ_HTTP_PROCESS_FE)
    .union(AnFlags::REQ_SWITCHING_RULES)
    .union(AnFlags::REQ_HTTP_PROCESS_BE)
    .union(AnFlags::REQ_HTTP_BODY)
    .union(AnFlags::REQ_HTTP_XFER_BODY);

/// The analysers of a response.
pub const RES_ANA: AnFlags = AnFlags::RES_WAIT_HTTP
    .union(AnFlags::RES_HTTP_PROCESS)
    .union(AnFlags::RES_HTTP_XFER_BODY);

/// Longest request line kept for the logs (HAProxy's `tune.http.logurilen`).
const LOG_URI_LEN: usize = 1024;

/// Parser options for a request received by frontend `fe`.
pub fn req_opts(s: &Stream, cx: &StreamCtx) -> ParseOpts {
    let fe = cx.proxies.get(s.fe);
    ParseOpts {
        maxhdr: cx.http.maxhdr,
        accept_invalid: fe.is_some_and(|p| p.http.accept_invalid_req),
        req_method: Method::Get,
    }
}

/// REQ_WAIT_HTTP: waits for a complete request head, parses it and
/// records what the next analysers and the logs need. Returns true when the
/// head is complete (the analyser is done); false while waiting, or when
/// the request was rejected (the analysers are then cleared and a reply or
/// a close is on its way).
pub fn wait_for_request(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let now_abs = cx.clock.now_abs;
    let in_len = s.req.in_len();
    let Some(txn) = s.txn.as_mut() else {
        s.req.analysers.remove(AnFlags::REQ_WAIT_HTTP);
        return true;
    };
    if in_len > 0 && txn.times.req_start.is_none() {
        txn.times.req_start = Some(now_abs);
        txn.times.req_date = crate::log::wall_now();
        txn.flags.remove(TxnFlags::IDLE);
        // From the first byte on, `timeout http-request` applies.
        s.req.analyse_exp = ETERNITY;
        if txn.flags.contains(TxnFlags::NOT_FIRST)
            && s.flags.contains(crate::stream::SfFlags::HTTP_UPGRADED)
        {
            log_connect(s, cx);
        }
    }
    if in_len > 0 {
        let opts = req_opts(s, cx);
        let maxrewrite = cx.io.maxrewrite;
        let Some(txn) = s.txn.as_mut() else {
            return false;
        };
        let Some(b) = s.req.buf.as_mut() else {
            return false;
        };
        // The limit is a full buffer's even while the head waits in a small
        // one (`BufPool::shrink`).
        let size = cx.io.bufs.buf_size();
        let data = b.in_contig();
        if let Some(len) = parse::head_end(data, &mut txn.req.scanned) {
            let res = parse::parse_head(
                data.get(..len).unwrap_or(&[]),
                Kind::Request,
                &opts,
                &mut cx.http.hdrs,
            );
            return match res {
                // The `PRI` method (any case) is reserved for the HTTP/2
                // preface: 2.6's http_wait_for_request counts the request,
                // then refuses it with the stream's 400 (not the HTTP/1
                // layer's raw one), `PR--`, `<BADREQ>` (the URI is not
                // captured yet). Without HTTP/2 this is also what 2.6
                // answers to the full preface on a `proto h1` listener;
                // it must never reach a server as an HTTP/1 request.
                Ok(head)
                    if head.method == Method::Other
                        && head.meth.get(data).eq_ignore_ascii_case(b"PRI") =>
                {
                    s.set_term('P', Finst::Request);
                    if let Some(fe) = cx.proxies.get_mut(s.fe) {
                        fe.http_stats.req_tot += 1;
                        fe.http_stats.failed_req += 1;
                    }
                    reply::reply_error(s, cx, 400);
                    false
                }
                Ok(head)
                    if !parse::fits_htx(
                        data.get(..len).unwrap_or(&[]),
                        &head,
                        &cx.http.hdrs,
                        size,
                        maxrewrite,
                    ) =>
                {
                    bad_request(s, cx, 400);
                    false
                }
                Ok(head) => {
                    // 2.6's HTTP/1 layer parses a chunked body that came
                    // with the head in the same pass: an error there is a
                    // bad request (`PR--`, `<BADREQ>`), not a body error.
                    if !super::chunk::body_with_head_ok(
                        s.uniq_id,
                        head.framing == Framing::Chunked,
                        data,
                        len,
                    ) {
                        bad_request(s, cx, 400);
                        return false;
                    }
                    on_request_head(s, cx, head, opts);
                    true
                }
                Err(e) => {
                    log::debug!("stream {}: bad request at {}: {}", s.uniq_id, e.pos, e.why);
                    bad_request(s, cx, e.status(Kind::Request));
                    false
                }
            };
        }
        // No room left for the rest of the head: too large. A method that
        // already has a byte no method may have (a TLS hello on a clear
        // port) is refused at once, as 2.6's parser does, not at timeout.
        if in_len >= size.saturating_sub(maxrewrite) || bad_method_prefix(data) {
            bad_request(s, cx, 400);
            return false;
        }
        // The rest of the head is awaited: the bytes wait in a small buffer.
        cx.io.bufs.shrink(b);
    }
    let Some(txn) = s.txn.as_ref() else {
        return false;
    };
    let idle = txn.times.req_start.is_none();
    let upgraded = s.flags.contains(crate::stream::SfFlags::HTTP_UPGRADED);
    // `option http-ignore-probes`: a connection that never sent a byte
    // (browsers' pre-connects) is closed without a reply or a log line.
    let silent = idle
        && (txn.flags.contains(TxnFlags::NOT_FIRST)
            || cx.proxies.get(s.fe).is_some_and(|p| p.http.ignore_probes));
    let req_fl = s.req.flags;
    // The client went away before a complete request.
    if req_fl.intersects(CfFlags::SHUTR | CfFlags::READ_ERROR)
        || s.si[0].flags.contains(crate::si::SiFlags::ERR)
    {
        // Between keep-alive requests: a silent close. Otherwise HAProxy
        // logs a 400 `CR` and writes its raw 400 (which may still reach a
        // half-closed client).
        if silent {
            close_idle(s, cx);
        } else {
            // 2.6's HTTP/1 layer under an upgraded stream logs it `PR`.
            let who = if upgraded { 'P' } else { 'C' };
            s.set_term(who, Finst::Request);
            reply::reply_raw(s, cx, 400);
        }
        return false;
    }
    // `timeout http-request` / `http-keep-alive`, or `timeout client`.
    let expired =
        tick_is_expired(s.req.analyse_exp, cx.clock.now) || req_fl.contains(CfFlags::READ_TIMEOUT);
    if expired {
        s.req.flags.remove(CfFlags::READ_TIMEOUT);
        if silent {
            close_idle(s, cx);
        } else {
            let who = if upgraded { 'P' } else { 'c' };
            s.set_term(who, Finst::Request);
            reply::reply_raw(s, cx, 408);
        }
        return false;
    }
    if !tick_isset(s.req.analyse_exp) {
        let t = cx.proxies.get(s.fe).map(|p| p.timeouts).unwrap_or_default();
        let ka = if t.http_keep_alive != 0 {
            t.http_keep_alive
        } else {
            t.http_request
        };
        let to = if idle && txn.flags.contains(TxnFlags::NOT_FIRST) {
            ka
        } else {
            t.http_request
        };
        s.req.analyse_exp = tick_add_ifset(cx.clock.now, to);
    }
    false
}

/// A later request of a `mode tcp` frontend's connection upgraded to HTTP:
/// 2.6 starts a stream for it, which logs `Connect from` again when the
/// frontend has no log format.
fn log_connect(s: &Stream, cx: &mut StreamCtx) {
    let Some(fe) = cx.proxies.get(s.fe) else {
        return;
    };
    if fe.logs.is_empty() || fe.opts.tcplog || fe.log_fmt.is_some() {
        return;
    }
    let msg = crate::log::format_connect(s.cli_addr, s.frt_addr, &fe.name, false);
    cx.logger.send(&fe.logs, 6, &msg);
}

/// A keep-alive client left (or stayed silent) between requests: close
/// without a reply and without a log line, as HAProxy does.
fn close_idle(s: &mut Stream, cx: &mut StreamCtx) {
    // The server connection the session kept may serve another one.
    crate::stream::reuse::give(s, cx);
    if let Some(txn) = s.txn.as_mut() {
        txn.flags.insert(TxnFlags::LOGGED);
    }
    s.req.analysers = AnFlags::empty();
    s.req.analyse_exp = ETERNITY;
    s.req
        .flags
        .remove(CfFlags::AUTO_CONNECT | CfFlags::READ_TIMEOUT);
    s.req.shutr_now();
    s.res.shutw_now();
}

/// An invalid request: HAProxy's raw 400 (422 for codings before
/// `chunked`), `PR--`, and close.
fn bad_request(s: &mut Stream, cx: &mut StreamCtx, status: u16) {
    s.set_term('P', Finst::Request);
    if let Some(fe) = cx.proxies.get_mut(s.fe) {
        fe.http_stats.failed_req += 1;
    }
    reply::reply_raw(s, cx, status);
}

/// A complete head was parsed: remember its framing and connection
/// tokens, capture what the logs need, drop a `Content-Length` that a
/// `Transfer-Encoding` overrides (RFC 9112 6.3, as HAProxy 2.6 does).
fn on_request_head(s: &mut Stream, cx: &mut StreamCtx, head: parse::Head, opts: ParseOpts) {
    let now_abs = cx.clock.now_abs;
    let logs = cx
        .proxies
        .get(s.fe)
        .is_some_and(|p| p.txn_log_fmt().is_some() && !p.logs.is_empty());
    let caps = cx
        .proxies
        .get(s.fe)
        .map_or(0, |p| p.http.req_captures.len());
    s.req.analysers.remove(AnFlags::REQ_WAIT_HTTP);
    s.req.analyse_exp = ETERNITY;
    let Some(b) = s.req.buf.as_mut() else { return };
    let Some(txn) = s.txn.as_mut() else { return };
    txn.times.req_head = Some(now_abs);
    // HAProxy 2.6 emits every header name in lower case: done in place, the
    // only normalisation applied to every message (spacing is kept).
    parse::lowercase_names(b.in_contig_mut(), &cx.http.hdrs);
    if head.flags.contains(MsgFlags::OBS_FOLD) {
        parse::unfold(b.in_contig_mut(), &cx.http.hdrs);
    }
    txn.meth = Some(head.method);
    txn.req.flags = head.flags;
    txn.req.framing = Some(head.framing);
    if logs {
        let line = head.start_line.get(b.in_contig());
        txn.uri.clear();
        txn.uri
            .extend_from_slice(line.get(..LOG_URI_LEN.min(line.len())).unwrap_or(line));
    }
    let mut e = HeadEdit {
        buf: b,
        head,
        hdrs: &mut cx.http.hdrs,
        kind: Kind::Request,
        opts,
        settled: false,
    };
    if caps > 0
        && let Some(fe) = cx.proxies.get(s.fe)
    {
        txn.req_caps.resize(caps, None);
        for (i, c) in fe.http.req_captures.iter().enumerate() {
            if let Some(v) = e.value(c.name.as_bytes())
                && let Some(slot) = txn.req_caps.get_mut(i)
            {
                *slot = Some(v.get(..c.len.min(v.len())).unwrap_or(&v).to_vec());
            }
        }
    }
    if let Some(c) = cx
        .proxies
        .get(s.fe)
        .and_then(|p| p.http.cookie_capture.as_ref())
    {
        e.capture_cookie(c.name.as_bytes(), c.len, &mut txn.req_cookie);
    }
    let parsed = e.head.flags;
    let _ = super::head_norm::normalize_head(&mut e);
    if parsed.contains(MsgFlags::CL_DROP) && parsed.contains(MsgFlags::TE_CHUNKED) {
        // A request that had both lengths is served, then the client
        // connection closes (HAProxy 2.6).
        txn.flags.insert(TxnFlags::CLI_CLOSE);
    }
    if e.head.flags.contains(MsgFlags::ABS_URI) || e.head.method == Method::Connect {
        let _ = super::head_norm::normalize_default_port(&mut e);
    }
    let client_close = e.head.flags.contains(MsgFlags::CONN_CLOSE)
        || (!e.head.flags.contains(MsgFlags::VER_11)
            && !e.head.flags.contains(MsgFlags::CONN_KEEP_ALIVE));
    if client_close {
        txn.flags.insert(TxnFlags::CLI_CLOSE);
    }
    // The names were lowered in place: the parse still describes the head.
    e.remember();
    txn.req.head_len = e.head.len;
    if let Some(fe) = cx.proxies.get_mut(s.fe) {
        fe.http_stats.req_tot += 1;
    }
}

/// REQ_HTTP_PROCESS_FE: `monitor-uri`, then the frontend's `http-request`
/// rules. Returns false when the request was answered here.
pub fn process_fe(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    s.req.analysers.remove(AnFlags::REQ_HTTP_PROCESS_FE);
    let opts = req_opts(s, cx);
    if let Some(lf) = cx
        .proxies
        .get(s.fe)
        .and_then(|p| p.http.unique_id_fmt.clone())
    {
        let mut id = String::new();
        crate::stream::rules_env::with_rules(
            s,
            cx,
            crate::stream::rules_env::Want {
                req: Some(opts),
                ..Default::default()
            },
            |env, ecx| env.render(&lf, ecx, &mut id),
        );
        if let Some(t) = s.txn.as_mut() {
            t.unique_id.clear();
            t.unique_id.extend_from_slice(id.as_bytes());
        }
    }
    let monitor = cx
        .proxies
        .get(s.fe)
        .is_some_and(|p| p.http.monitor_uri.is_some());
    if monitor {
        let uri = request_uri(s, cx, opts);
        let m = cx
            .proxies
            .get(s.fe)
            .and_then(|p| p.http.monitor_uri.as_deref());
        if uri.is_some() && uri.as_deref() == m.map(str::as_bytes) {
            reply::monitor_reply(s, cx);
            return false;
        }
    }
    super::rules::run_req_rules(s, cx, s.fe, opts)
}

/// The request URI as received (start line), for `monitor-uri`.
fn request_uri(s: &mut Stream, cx: &mut StreamCtx, opts: ParseOpts) -> Option<Vec<u8>> {
    let b = s.req.buf.as_mut()?;
    let mut e = HeadEdit::open(b, Kind::Request, opts, &mut cx.http.hdrs).ok()?;
    let uri = e.head.uri;
    Some(uri.get(e.bytes()).to_vec())
}

/// After the backend switch: a server connection kept from the previous
/// request of another backend cannot serve this one.
pub fn on_backend_set(s: &mut Stream, cx: &mut StreamCtx, old_be: Option<usize>) {
    if old_be.is_some() && old_be != s.be && s.si[1].state() == crate::si::SiState::Est {
        super::reply::close_server(s, cx, true);
    }
}

/// REQ_HTTP_PROCESS_BE: the backend's `http-request` rules (when it is
/// not the frontend), `option forwardfor` / `originalto`, and the
/// connection mode for both sides. Then the request may connect.
pub fn process_be(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    s.req.analysers.remove(AnFlags::REQ_HTTP_PROCESS_BE);
    let opts = req_opts(s, cx);
    let be = s.be.unwrap_or(s.fe);
    if be != s.fe && !super::rules::run_req_rules(s, cx, be, opts) {
        return false;
    }
    crate::stream::backend::process_server_rules(s, cx);
    let (fe_px, be_px) = match (cx.proxies.get(s.fe), cx.proxies.get(be)) {
        (Some(f), Some(b)) => (f, b),
        _ => return true,
    };
    // The strongest mode of the two wins (configuration.txt 4, "HTTP
    // connection modes"): close > server-close > keep-alive.
    let mode = strongest(fe_px.http.conn_mode, be_px.http.conn_mode);
    let pretend = fe_px.http.pretend_keepalive || be_px.http.pretend_keepalive;
    // Borrowed, not cloned: no allocation per request for these options.
    let ff = be_px
        .http
        .forwardfor
        .as_ref()
        .or(fe_px.http.forwardfor.as_ref());
    let ot = be_px
        .http
        .originalto
        .as_ref()
        .or(fe_px.http.originalto.as_ref());
    let Some(txn) = s.txn.as_mut() else {
        return true;
    };
    match mode {
        HttpConnMode::Close => txn.flags.insert(TxnFlags::CLI_CLOSE | TxnFlags::SRV_CLOSE),
        HttpConnMode::ServerClose => txn.flags.insert(TxnFlags::SRV_CLOSE),
        HttpConnMode::KeepAlive => {}
    }
    // What the server is told (HAProxy 2.6's H1 encoder): an HTTP/1.1
    // request to a connection that closes says `connection: close`, an
    // HTTP/1.0 one to a kept connection `connection: keep-alive`; the
    // client's own close/keep-alive tokens are not forwarded. An upgrade
    // request keeps its header.
    let f = txn.req.flags;
    let ver11 = f.contains(MsgFlags::VER_11);
    // (An HTTP/1.0 request with a chunked body is not kept alive.)
    // `option http-pretend-keepalive`: the server is not told that its
    // connection will close (some servers then answer without chunking).
    let srv_close_said = txn.flags.contains(TxnFlags::SRV_CLOSE) && !pretend;
    let conn_want: Option<&[u8]> = match (srv_close_said, ver11) {
        (true, true) => Some(b"close"),
        (false, false) if !f.contains(MsgFlags::TE_CHUNKED) => Some(b"keep-alive"),
        _ => None,
    };
    let has_tokens = f.intersects(MsgFlags::CONN_CLOSE | MsgFlags::CONN_KEEP_ALIVE);
    let conn_edit = !f.contains(MsgFlags::CONN_UPGRADE) && (conn_want.is_some() || has_tokens);
    // The destination address costs a syscall: only when it is needed.
    if ot.is_some()
        && s.frt_addr.is_none()
        && let Some(c) = s.si[0].conn().and_then(|c| cx.io.conns.get(c))
    {
        s.frt_addr = crate::conn::sock::local_addr(c.fd);
    }
    let uid_hdr = fe_px.http.unique_id_hdr.as_deref();
    if ff.is_some() || ot.is_some() || conn_edit || uid_hdr.is_some() {
        let Some(b) = s.req.buf.as_mut() else {
            return true;
        };
        let Ok(mut e) = HeadEdit::open(b, Kind::Request, opts, &mut cx.http.hdrs) else {
            return true;
        };
        let mut ok = true;
        // The unique id goes first, as 2.6 adds it.
        if let (Some(h), Some(t)) = (uid_hdr, s.txn.as_ref()) {
            ok &= e.add(h.as_bytes(), &t.unique_id).is_ok();
        }
        if let (Some(f), Some(cli)) = (ff, s.cli_addr) {
            let skip = f
                .except
                .is_some_and(|(net, bits)| in_net(cli.ip(), net, bits))
                || (f.if_none && e.value(f.header.as_bytes()).is_some());
            if !skip {
                let ip = unmapped(cli.ip()).to_string();
                ok &= e.add(f.header.as_bytes(), ip.as_bytes()).is_ok();
            }
        }
        if let (Some(o), Some(dst)) = (ot, s.frt_addr)
            && !o
                .except
                .is_some_and(|(net, bits)| in_net(dst.ip(), net, bits))
        {
            let ip = unmapped(dst.ip()).to_string();
            ok &= e.add(o.header.as_bytes(), ip.as_bytes()).is_ok();
        }
        // `connection` goes last, as HAProxy emits it. The request's
        // connection state was recorded: no re-parse needed.
        if conn_edit {
            e.settled = true;
            ok &= e.del(b"connection").is_ok();
            if let Some(v) = conn_want {
                ok &= e.add(b"connection", v).is_ok();
            }
        }
        let len = e.head.len;
        if !ok {
            // No room for the header: HAProxy answers 500 ("rewrite failed").
            s.set_term('P', Finst::Request);
            reply::reply_error(s, cx, 500);
            return false;
        }
        if let Some(txn) = s.txn.as_mut() {
            txn.req.head_len = len;
        }
    }
    true
}

/// True when the stream is an HTTP client between two requests with
/// nothing in flight: it may give way to a parked connection
/// (`engine::keepalive`), as HAProxy keeps no stream for an idle client.
pub fn parkable(s: &Stream) -> bool {
    let Some(txn) = s.txn.as_ref() else {
        return false;
    };
    txn.flags.contains(TxnFlags::IDLE)
        && s.req.analysers == FE_REQ_ANA
        && s.si[0].state() == crate::si::SiState::Est
        && s.req.is_empty()
        && s.res.is_empty()
        && s.pend.is_none()
        && !(s.req.flags | s.res.flags)
            .intersects(CfFlags::SHUTR | CfFlags::SHUTR_NOW | CfFlags::SHUTW | CfFlags::SHUTW_NOW)
        && matches!(
            s.si[1].state(),
            crate::si::SiState::Ini | crate::si::SiState::Est
        )
}

/// The stronger of two connection modes: close > server-close > keep-alive.
fn strongest(a: HttpConnMode, b: HttpConnMode) -> HttpConnMode {
    let rank = |m| match m {
        HttpConnMode::KeepAlive => 0,
        HttpConnMode::ServerClose => 1,
        HttpConnMode::Close => 2,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// IPv4-mapped IPv6 addresses are logged and forwarded as IPv4.
fn unmapped(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    }
}

/// True when `ip` is inside `net/bits`.
pub fn in_net(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u8) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (unmapped(ip), net) {
        (V4(a), V4(n)) => {
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits.min(32))
            };
            u32::from(a) & m == u32::from(n) & m
        }
        (V6(a), V6(n)) => {
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits.min(128))
            };
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

/// `http-request tarpit`: the request is held (`timeout tarpit`, else
/// `timeout connect`) then answered with `status`; the hold counts as queue
/// time in the log (`%Tw`) and ends as `PT`.
pub fn start_tarpit(s: &mut Stream, cx: &mut StreamCtx, status: u16) {
    let t = cx.proxies.get(s.fe).map(|p| p.timeouts).unwrap_or_default();
    let hold = if t.tarpit != 0 { t.tarpit } else { t.connect };
    if let Some(txn) = s.txn.as_mut() {
        txn.tarpit_status = status;
        txn.times.req_head = None;
    }
    // Set outright: the deny that led here recorded `PR`.
    s.err = 'P';
    s.finst = Finst::Tarpit;
    s.t_queue = Some(cx.clock.now_abs);
    s.req.analysers = AnFlags::REQ_HTTP_TARPIT;
    s.req.analyse_exp = tick_add_ifset(cx.clock.now, hold);
    if !tick_isset(s.req.analyse_exp) {
        s.req.analyse_exp = cx.clock.now;
    }
}

/// REQ_HTTP_TARPIT: answers once the hold is over (or the client left).
/// Returns false while holding.
pub fn tarpit(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let gone = s.req.flags.intersects(CfFlags::SHUTR | CfFlags::READ_ERROR);
    if !gone && !tick_is_expired(s.req.analyse_exp, cx.clock.now) {
        return false;
    }
    s.t_dequeue = Some(cx.clock.now_abs);
    let status = s.txn.as_ref().map_or(500, |t| t.tarpit_status);
    reply::reply_error(s, cx, status);
    true
}

/// REQ_HTTP_XFER_BODY: schedules the head (once), then the body as its
/// framing delimits it. The analyser stays until the end of the
/// transaction (the response side ends it). Returns true when it
/// scheduled something.
pub fn xfer_req_body(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let Some(sent) = s.txn.as_ref().map(|t| t.flags.contains(TxnFlags::REQ_SENT)) else {
        s.req.analysers.remove(AnFlags::REQ_HTTP_XFER_BODY);
        return false;
    };
    let mut progressed = false;
    if !sent {
        start_request(s, cx);
        progressed = true;
    }
    let Some(txn) = s.txn.as_mut() else {
        return progressed;
    };
    let before = s.req.out_len();
    match super::body::xfer_body(&mut s.req, &mut txn.req) {
        Ok(_) => {}
        Err(e) => {
            log::debug!("stream {}: bad chunked request body: {}", s.uniq_id, e.why);
            if txn.flags.contains(TxnFlags::RES_DONE) {
                // The response went out already: 2.6 logs its status with
                // `PD` and closes both sides.
                s.set_term('P', Finst::Data);
                if let Some(fe) = cx.proxies.get_mut(s.fe) {
                    fe.http_stats.failed_req += 1;
                }
                reply::close_server(s, cx, true);
                if let Some(b) = s.req.buf.as_mut() {
                    b.drop_input();
                }
                reply::release_backend(s, cx);
                super::log::log_txn(s, cx);
                s.req.analysers = AnFlags::empty();
                s.req.shutr_now();
                s.res.shutw_now();
                return true;
            }
            // After the head left (a bad chunk with the head is refused
            // before, as `PR`), HAProxy 2.6 answers with the stream's 400
            // and logs `PH`, whatever part of the body went before.
            s.set_term('P', Finst::Header);
            if let Some(fe) = cx.proxies.get_mut(s.fe) {
                fe.http_stats.failed_req += 1;
            }
            reply::close_server(s, cx, true);
            reply::reply_error(s, cx, 400);
            return true;
        }
    }
    progressed |= s.req.out_len() != before;
    if txn.req.finished() && txn.flags.contains(TxnFlags::RES_DONE) {
        super::ana_res::end_txn(s, cx);
        return true;
    }
    if txn.req.finished() {
        // The client is not idle while it waits for its response.
        s.req.flags.insert(CfFlags::READ_NOEXP);
        s.req.rex = ETERNITY;
    } else if s.req.flags.contains(CfFlags::SHUTR) && s.req.in_len() == 0 && s.req.to_forward > 0 {
        // The client closed in the middle of its body: `CD`.
        s.set_term('C', Finst::Data);
    }
    progressed
}

/// The request head is complete and processed: schedule it, then its
/// body as far as its framing says, let the back side connect (or reuse
/// the kept connection), and start analysing the response.
fn start_request(s: &mut Stream, cx: &mut StreamCtx) {
    let now_abs = cx.clock.now_abs;
    if let Some(be) = s.be.and_then(|b| cx.proxies.get_mut(b)) {
        be.be_http_stats.req_tot += 1;
    }
    let Some(txn) = s.txn.as_mut() else { return };
    txn.flags.insert(TxnFlags::REQ_SENT);
    txn.times.req_sent = Some(now_abs);
    s.req.forward(txn.req.head_len as u64);
    s.req.flags.insert(CfFlags::SEND_DONTWAIT);
    txn.req.state = match txn.req.framing {
        Some(Framing::Length(n)) if n > 0 => {
            s.req.forward(n);
            MsgState::Body
        }
        Some(Framing::Chunked) => MsgState::ChunkSize,
        _ => MsgState::Done,
    };
    s.req.flags.insert(CfFlags::AUTO_CONNECT);
    // The response is analysed from its first byte.
    s.res.analysers = RES_ANA;
    s.res.to_forward = 0;
    reply::assign_backend(s, cx);
    if s.si[1].state() == crate::si::SiState::Est {
        reply::reacquire_server(s, cx);
        // A kept server connection: the response timeout starts now.
        s.res.rex = tick_add_ifset(cx.clock.now, s.res.rto);
    }
}

/// The start of a request whose method (after any empty lines) already
/// holds a byte that is not a token character.
fn bad_method_prefix(data: &[u8]) -> bool {
    let start = data
        .iter()
        .position(|c| *c != b'\r' && *c != b'\n')
        .unwrap_or(data.len());
    let rest = data.get(start..).unwrap_or(&[]);
    let end = rest.iter().position(|c| *c == b' ').unwrap_or(rest.len());
    rest.get(..end)
        .unwrap_or(&[])
        .iter()
        .any(|c| !(c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(c)))
}
