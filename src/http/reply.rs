//! Responses made by the proxy itself (errors, `monitor-uri`, `return`,
//! `redirect`), and the transitions around a transaction's server side:
//! closing the server connection, and getting the stream ready for the
//! next request of a keep-alive client.
//!
//! A reply replaces whatever the response channel held and drops the
//! request (HAProxy's `http_reply_and_close`); the client connection is
//! closed after it, or kept for the next request where HAProxy 2.6 keeps
//! it (see `After`).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::ana::FE_REQ_ANA;
use super::parse::{Framing, MsgFlags};
use super::txn::TxnFlags;
use crate::channel::{AnFlags, CfFlags};
use crate::conn::Side;
use crate::si::SiState;
use crate::stream::{Finst, SfFlags, Stream, StreamCtx, backend, close_side};
use crate::ticks::{ETERNITY, tick_add_ifset};

/// How the client connection goes on after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Closed once the reply is sent.
    Close,
    /// Closed once the reply is sent, the message sent exactly as it is
    /// (the HTTP/1 layer's raw 400, 408 and 422).
    CloseRaw,
    /// Kept for the next request when the request was complete (else
    /// closed), as HAProxy 2.6 does after 502, 503, `deny` and
    /// `monitor-uri`.
    KeepAlive,
}

/// Answers `status` with the backend's (else the frontend's) `errorfile`
/// for it, or HAProxy's built-in message, as a stream does: the client
/// connection stays open, except after 400 and 408 whose messages close it.
pub fn reply_error(s: &mut Stream, cx: &mut StreamCtx, status: u16) {
    let builtin = match status {
        400 => super::errors::STREAM_400,
        408 => super::errors::STREAM_408,
        _ => super::errors::builtin_or_500(status),
    };
    let after = if matches!(status, 400 | 408) {
        After::Close
    } else {
        After::KeepAlive
    };
    reply_configured(s, cx, status, builtin, after, true);
}

/// 400 or 408 from the HTTP/1 layer (an invalid or incomplete request):
/// HAProxy's raw message (an `errorfile` replaces it), then close.
pub fn reply_raw(s: &mut Stream, cx: &mut StreamCtx, status: u16) {
    // The HTTP/1 layer writes it, not the stream: the log counts 0 bytes.
    let msg = if status == 422 {
        super::errors::RAW_422
    } else {
        super::errors::builtin_or_500(status)
    };
    reply_configured(s, cx, status, msg, After::CloseRaw, false);
}

fn reply_configured(
    s: &mut Stream,
    cx: &mut StreamCtx,
    status: u16,
    dflt: &[u8],
    after: After,
    counted: bool,
) {
    let msg = [s.be, Some(s.fe)]
        .into_iter()
        .flatten()
        .filter_map(|p| cx.proxies.get(p))
        .find_map(|p| p.http_errmsg(status));
    // Copied out of the proxy first: the reply goes into a channel while
    // the proxies are borrowed by the counters.
    let mut tmp = std::mem::take(&mut cx.http.reply);
    tmp.clear();
    tmp.extend_from_slice(msg.unwrap_or(dflt));
    reply_msg(s, cx, status, &tmp, after);
    if !counted {
        s.res.total = s
            .res
            .total
            .saturating_sub(msg_size(&tmp, &mut cx.http.hdrs));
    }
    cx.http.reply = tmp;
}

/// Sends `msg` (a complete response with status `status`) to the client
/// instead of anything else. The request is dropped; the client
/// connection is closed after the reply, or (`KeepAlive`, when the
/// request had no body left to read) the transaction ends and the next
/// request is awaited.
pub fn reply_msg(s: &mut Stream, cx: &mut StreamCtx, status: u16, msg: &[u8], after: After) {
    // A stopping process closes after this reply (as after a response).
    let stopping = cx.proxies.get(s.fe).is_some_and(|p| p.stopped);
    let Some(txn) = s.txn.as_mut() else { return };
    txn.status = status;
    txn.flags.insert(TxnFlags::REPLIED);
    let body_left = match txn.req.framing {
        None => txn.req.head_len == 0,
        Some(Framing::Length(n)) => n > 0,
        Some(Framing::Chunked | Framing::UntilClose | Framing::Tunnel) => true,
        Some(Framing::None) => false,
    };
    // A message without content-length (an errorfile) ends with the
    // connection, as does an empty one (which sends nothing).
    let until_close = !has_header(msg, b"content-length");
    let close = after != After::KeepAlive
        || until_close
        || stopping
        || txn.flags.contains(TxnFlags::CLI_CLOSE)
        || body_left
        || s.req.flags.intersects(CfFlags::SHUTR | CfFlags::READ_ERROR);
    let ver11 = txn.req.flags.contains(MsgFlags::VER_11);
    // A response to HEAD has no body on the wire (nor in the counters).
    let msg = if txn.meth == Some(super::parse::Method::Head) {
        memchr::memmem::find(msg, b"\r\n\r\n").map_or(msg, |i| msg.get(..i + 4).unwrap_or(msg))
    } else {
        msg
    };
    let head_len = txn.req.head_len;
    let req_sent = txn.flags.contains(TxnFlags::REQ_SENT);
    if close {
        txn.flags.insert(TxnFlags::CLI_CLOSE);
    }
    let class = (status / 100) as usize;
    if let Some(fe) = cx.proxies.get_mut(s.fe) {
        fe.http_stats.count_status(class);
    }
    // A request that reached its backend counts there too (503, 502, 504).
    if req_sent && let Some(be) = s.be.and_then(|b| cx.proxies.get_mut(b)) {
        be.be_http_stats.count_status(class);
    }
    s.res.analysers = AnFlags::empty();
    // What the server sent for this transaction goes; what is scheduled
    // for the client (an earlier response of a pipeline) still goes out.
    if let Some(b) = s.res.buf.as_mut() {
        b.drop_input();
    }
    s.res.to_forward = 0;
    s.res.flags.remove(CfFlags::READ_TIMEOUT);
    let n = if after == After::CloseRaw {
        s.res.put_input(&mut cx.io.bufs, msg)
    } else {
        let n = put_reply(s, cx, msg, close, ver11);
        // `http-after-response` rules see the proxy's own replies too.
        let has_after = [s.be, Some(s.fe)]
            .into_iter()
            .flatten()
            .filter_map(|p| cx.proxies.get(p))
            .any(|p| !p.http.after_rules.is_empty());
        if has_after && n > 0 {
            super::rules::run_after_rules(s, cx);
            s.res.in_len()
        } else {
            n
        }
    };
    s.res.forward(n as u64);
    // Counted as HAProxy counts it: the message's internal size, and only
    // it (what the server sent before is dropped).
    let size = msg_size(msg, &mut cx.http.hdrs);
    if let Some(txn) = s.txn.as_mut() {
        txn.res_head_wire = 0;
        txn.res_head_htx = 0;
        s.res.total = txn.res_base + size;
    }
    if close {
        stop_request(s, cx);
        s.res.shutw_now();
        return;
    }
    // Keep-alive: the request leaves the buffer, what follows it stays.
    if let Some(b) = s.req.buf.as_mut() {
        if req_sent {
            let out = b.output();
            b.consume(out);
        } else {
            b.replace_input(0, head_len.min(b.input()), b"");
        }
    }
    s.req.release_empty(&mut cx.io.bufs, &mut cx.io.pipes);
    release_backend(s, cx);
    super::log::log_txn(s, cx);
    if s.si[1].state() != SiState::Est {
        // Nothing was sent to a server: the next request connects again.
        backend::queue_leave(s, cx);
        backend::release_server(s, cx);
        if !matches!(s.si[1].state(), SiState::Ini | SiState::Clo) {
            close_side(s, Side::Back, true, cx);
            s.si[1].force_closed();
        }
    }
    next_request(s, cx);
}

/// A reply's size as HAProxy 2.6 counts it (`%B`, bytes out): its head in
/// internal form plus its body.
fn msg_size(msg: &[u8], hdrs: &mut Vec<super::parse::Hdr>) -> u64 {
    use super::parse::{self, Kind, ParseOpts};
    let mut sc = 0;
    let Some(len) = parse::head_end(msg, &mut sc) else {
        return msg.len() as u64;
    };
    let block = msg.get(..len).unwrap_or(&[]);
    match parse::parse_head(block, Kind::Response, &ParseOpts::default(), hdrs) {
        Ok(head) => parse::htx_head_size(block, &head, hdrs) + (msg.len() - len) as u64,
        Err(_) => msg.len() as u64,
    }
}

/// Puts `msg` in the response channel with the connection header the
/// client needs (HAProxy's H1 encoder adds `connection: close` when the
/// connection closes, `connection: keep-alive` for an HTTP/1.0 client
/// kept open). A message that already says so is sent as is.
fn put_reply(s: &mut Stream, cx: &mut StreamCtx, msg: &[u8], close: bool, ver11: bool) -> usize {
    if msg.is_empty() {
        return 0;
    }
    let has_conn = has_header(msg, b"connection");
    // An HTTP/1.0 message closes unless told otherwise (an errorfile's).
    let msg10 = msg.starts_with(b"HTTP/1.0");
    let add: &[u8] = match (has_conn, close) {
        (true, _) => b"",
        (false, true) if msg10 => b"",
        (false, true) => b"connection: close\r\n",
        (false, false) if msg10 || !ver11 => b"connection: keep-alive\r\n",
        (false, false) => b"",
    };
    let split = if add.is_empty() {
        None
    } else {
        memchr::memmem::find(msg, b"\r\n\r\n").map(|i| i + 2)
    };
    match split {
        Some(at) => {
            let (head, body) = msg.split_at(at);
            let mut n = s.res.put_input(&mut cx.io.bufs, head);
            n += s.res.put_input(&mut cx.io.bufs, add);
            n + s.res.put_input(&mut cx.io.bufs, body)
        }
        None => s.res.put_input(&mut cx.io.bufs, msg),
    }
}

/// Whether the head of `msg` (names in any case) has a header `name`
/// (lower case).
fn has_header(msg: &[u8], name: &[u8]) -> bool {
    let head = memchr::memmem::find(msg, b"\r\n\r\n").map_or(msg, |i| msg.get(..i).unwrap_or(msg));
    head.split(|&c| c == b'\n').skip(1).any(|l| {
        l.len() > name.len()
            && l.get(name.len()) == Some(&b':')
            && l.get(..name.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

/// The request goes nowhere: drop it, stop reading the client, do not
/// connect.
fn stop_request(s: &mut Stream, cx: &mut StreamCtx) {
    s.req.analysers = AnFlags::empty();
    s.req.analyse_exp = ETERNITY;
    s.req
        .flags
        .remove(CfFlags::AUTO_CONNECT | CfFlags::READ_TIMEOUT);
    if s.si[1].state() != SiState::Est {
        s.req.drop_data(&mut cx.io.bufs, &mut cx.io.pipes);
    }
    s.req.to_forward = 0;
    s.req.shutr_now();
}

/// The `monitor-uri` answer (configuration.txt 4.2, monitor-uri): 200, or
/// 503 when a `monitor fail` condition matches (conditions come with the
/// rules engine).
pub fn monitor_reply(s: &mut Stream, cx: &mut StreamCtx) {
    if let Some(fe) = cx.proxies.get_mut(s.fe) {
        fe.http_stats.intercepted += 1;
    }
    if let Some(txn) = s.txn.as_mut() {
        // Not logged (HAProxy does not log monitor requests).
        txn.flags.insert(TxnFlags::LOGGED);
    }
    reply_msg(s, cx, 200, super::errors::BUILTIN_200, After::KeepAlive);
}

/// At the end of a transaction, before its log line: the stream leaves its
/// backend and server counts (`%bc`, `%sc`, the server's slot, which may
/// go to a queued stream), as HAProxy 2.6 does per request. A server
/// connection kept for the next request does not hold a slot.
pub fn release_backend(s: &mut Stream, cx: &mut StreamCtx) {
    if s.flags.contains(SfFlags::BE_ASSIGNED) {
        s.flags.remove(SfFlags::BE_ASSIGNED);
        if let Some(px) = s.be.and_then(|b| cx.proxies.get_mut(b)) {
            px.beconn = px.beconn.saturating_sub(1);
        }
    }
    backend::release_server(s, cx);
}

/// A request handed to its backend counts there (`%bc`, the BACKEND row's
/// `scur` and `stot`), whether or not a server takes it, as HAProxy counts
/// each HTTP request as a stream of its backend.
pub fn assign_backend(s: &mut Stream, cx: &mut StreamCtx) {
    if s.flags.contains(SfFlags::BE_ASSIGNED) {
        return;
    }
    if let Some(px) = s.be.and_then(|b| cx.proxies.get_mut(b)) {
        s.flags.insert(SfFlags::BE_ASSIGNED);
        px.beconn += 1;
        px.cum_beconn += 1;
    }
}

/// A request about to use the server connection kept from the previous
/// one takes that server's slot again.
pub fn reacquire_server(s: &mut Stream, cx: &mut StreamCtx) {
    let (Some(be), Some(i)) = (s.be, s.last_srv) else {
        return;
    };
    let Some(px) = cx.proxies.get_mut(be) else {
        return;
    };
    if s.srv().is_none()
        && let Some(srv) = px.servers.get_mut(i)
    {
        srv.count_sess();
        s.target = crate::stream::Target::Server(i);
        s.flags.insert(SfFlags::ASSIGNED | SfFlags::CURR_SESS);
    }
}

/// Closes the server connection of the current transaction (reset on
/// `abort`), releases its server slot, and leaves the back SI closed.
pub fn close_server(s: &mut Stream, cx: &mut StreamCtx, abort: bool) {
    if s.si[1].state() == SiState::Est {
        if abort || s.si[1].conn().is_none() {
            close_side(s, Side::Back, abort, cx);
        } else {
            let task = s.task;
            s.si[1].release(&mut cx.si(task));
        }
        s.si[1].set_state(SiState::Dis);
        s.si[1].set_state(SiState::Clo);
    }
    backend::release_server(s, cx);
    s.res.flags.insert(CfFlags::SHUTR);
    s.res.rex = ETERNITY;
    s.req.flags.insert(CfFlags::SHUTW);
    s.req.wex = ETERNITY;
}

/// Gets the stream ready for the next request of a keep-alive client:
/// the transaction and the per-request stream fields are reset, the back
/// SI goes back to INI if its connection was closed (the next request
/// connects again), and the request analysers start over on whatever the
/// client already sent (pipelining).
pub fn next_request(s: &mut Stream, cx: &mut StreamCtx) {
    let now_abs = cx.clock.now_abs;
    if let Some(txn) = s.txn.as_mut() {
        txn.req_base = s.req.total;
        txn.res_base = s.res.total;
        txn.reset(now_abs);
        // Variables of the transaction end with it; `sess` ones stay.
        if let Some(v) = s.vars.as_mut() {
            use crate::rules::vars::Scope;
            for sc in [Scope::Txn, Scope::Req, Scope::Res] {
                v.scope_mut(sc).clear();
            }
        }
    }
    if s.si[1].state() == SiState::Clo {
        let retries =
            s.be.and_then(|b| cx.proxies.get(b))
                .map_or(0, |p| p.retries);
        s.si[1].reset_closed(retries);
        s.req.flags.remove(
            CfFlags::SHUTW | CfFlags::SHUTW_NOW | CfFlags::WRITE_ERROR | CfFlags::WRITE_TIMEOUT,
        );
        s.res.flags.remove(
            CfFlags::SHUTR
                | CfFlags::SHUTR_NOW
                | CfFlags::READ_NULL
                | CfFlags::READ_ERROR
                | CfFlags::READ_TIMEOUT
                | CfFlags::FULL
                | CfFlags::STREAMER,
        );
        s.res.rex = ETERNITY;
        s.req.wex = ETERNITY;
        s.t_connect = None;
        s.flags.remove(SfFlags::REDISP);
    }
    s.t_queue = None;
    s.t_dequeue = None;
    s.queue_pos = (0, 0);
    s.retries_done = 0;
    s.err = '-';
    s.finst = Finst::None;
    s.req
        .flags
        .remove(CfFlags::AUTO_CONNECT | CfFlags::READ_NOEXP);
    s.req.analysers = FE_REQ_ANA;
    s.req.to_forward = 0;
    s.req.analyse_exp = ETERNITY;
    s.req.rex = tick_add_ifset(cx.clock.now, s.req.rto);
    s.res.analysers = AnFlags::empty();
    s.res.to_forward = 0;
}
