//! The HTTP response analysers (HAProxy's `http_wait_for_response`,
//! `http_process_res_common`, `http_response_forward_body`) and the end of
//! a transaction (`http_end_txn_clean_session`):
//!
//! ```text
//!   RES_WAIT_HTTP --head--> RES_HTTP_PROCESS --> RES_HTTP_XFER_BODY --message done--> end_txn
//!     ^   | 1xx: forwarded, wait again            (rules, counters,   (body by framing)    | keep-alive:
//!     +---+                                        connection mode)                        | next request
//! ```
//!
//! A server that closes, errors or times out before a complete head gets
//! the client a 502 or 504 and the termination state HAProxy logs.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::body::xfer_body;
use super::hdr::HeadEdit;
use super::parse::{self, Framing, Kind, Method, MsgFlags, ParseOpts};
use super::reply;
use super::txn::{MsgState, TxnFlags};
use crate::channel::{AnFlags, CfFlags};
use crate::conn::CoFlags;
use crate::si::{SiFlags, SiState};
use crate::stream::{Finst, Stream, StreamCtx};
use crate::ticks::ETERNITY;

fn res_opts(s: &Stream, cx: &StreamCtx) -> ParseOpts {
    let be = s.be.and_then(|b| cx.proxies.get(b));
    ParseOpts {
        maxhdr: cx.http.maxhdr,
        accept_invalid: be.is_some_and(|p| p.http.accept_invalid_res),
        req_method: s.txn.as_ref().and_then(|t| t.meth).unwrap_or(Method::Get),
    }
}

/// RES_WAIT_HTTP: waits for a complete response head. Interim responses
/// (1xx but 101) are forwarded and the wait goes on. Returns true when a
/// final response head is parsed.
pub fn wait_for_response(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    loop {
        let in_len = s.res.in_len();
        if in_len == 0 {
            break;
        }
        let opts = res_opts(s, cx);
        let maxrewrite = cx.io.maxrewrite;
        let Some(txn) = s.txn.as_mut() else {
            return false;
        };
        let Some(b) = s.res.buf.as_mut() else {
            return false;
        };
        let size = cx.io.bufs.buf_size();
        let data = b.in_contig();
        let Some(len) = parse::head_end(data, &mut txn.res.scanned) else {
            if in_len >= size.saturating_sub(maxrewrite) {
                bad_response(s, cx);
                return false;
            }
            break;
        };
        let head = match parse::parse_head(
            data.get(..len).unwrap_or(&[]),
            Kind::Response,
            &opts,
            &mut cx.http.hdrs,
        ) {
            Ok(h)
                if parse::fits_htx(
                    data.get(..len).unwrap_or(&[]),
                    &h,
                    &cx.http.hdrs,
                    size,
                    maxrewrite,
                ) =>
            {
                h
            }
            Ok(_) => {
                log::debug!("stream {}: response head too large", s.uniq_id);
                bad_response(s, cx);
                return false;
            }
            Err(e) => {
                log::debug!("stream {}: bad response at {}: {}", s.uniq_id, e.pos, e.why);
                bad_response(s, cx);
                return false;
            }
        };
        // A 101 only switches protocols that the request asked to switch.
        if head.status == 101
            && !(head.flags.contains(MsgFlags::CONN_UPGRADE)
                && txn.req.flags.contains(MsgFlags::CONN_UPGRADE))
        {
            bad_response(s, cx);
            return false;
        }
        if (100..200).contains(&head.status) && head.status != 101 {
            // Interim response: forwarded as is, the final one follows.
            s.res.forward(head.len as u64);
            txn.res.scanned = 0;
            continue;
        }
        // As for requests, 2.6's HTTP/1 layer parses a chunked body that
        // came with the head in the same pass: an error there is a bad
        // response (502, `PH--`), not a body error.
        if !super::chunk::body_with_head_ok(s.uniq_id, head.framing == Framing::Chunked, data, len)
        {
            bad_response(s, cx);
            return false;
        }
        on_response_head(s, cx, head, opts);
        return true;
    }
    // Nothing complete: the server's end decides.
    // A connection attempt's error is the connect states' to handle
    // (retries, then 503): only an established side's error is a 502.
    let attempt = matches!(
        s.si[1].state(),
        crate::si::SiState::Con | crate::si::SiState::Cer
    );
    let srv_err = (s.si[1].flags.contains(SiFlags::ERR) && !attempt)
        || s.res.flags.contains(CfFlags::READ_ERROR);
    if srv_err || s.res.flags.contains(CfFlags::SHUTR) {
        s.set_term('S', Finst::None);
        srv_failed(s, cx, 502);
        return false;
    }
    if s.res.flags.contains(CfFlags::READ_TIMEOUT) {
        s.res.flags.remove(CfFlags::READ_TIMEOUT);
        s.set_term('s', Finst::None);
        srv_failed(s, cx, 504);
        return false;
    }
    false
}

/// The server sent an invalid or oversized response: 502, `PH`.
fn bad_response(s: &mut Stream, cx: &mut StreamCtx) {
    s.set_term('P', Finst::None);
    if let Some(be) = s.be.and_then(|b| cx.proxies.get_mut(b)) {
        be.be_http_stats.failed_resp += 1;
    }
    srv_failed(s, cx, 502);
}

/// The server side failed before a response head: close it, count the
/// failure on the server and answer `status` (the phase is `H`).
fn srv_failed(s: &mut Stream, cx: &mut StreamCtx, status: u16) {
    if s.finst == Finst::None {
        s.finst = Finst::Header;
    }
    reply::close_server(s, cx, true);
    reply::reply_error(s, cx, status);
}

/// A final response head was parsed: status, framing, captures, counters.
fn on_response_head(s: &mut Stream, cx: &mut StreamCtx, head: parse::Head, opts: ParseOpts) {
    let now_abs = cx.clock.now_abs;
    s.res.analysers.remove(AnFlags::RES_WAIT_HTTP);
    let caps = cx
        .proxies
        .get(s.fe)
        .map_or(0, |p| p.http.res_captures.len());
    let Some(txn) = s.txn.as_mut() else { return };
    let Some(b) = s.res.buf.as_mut() else { return };
    txn.times.res_head = Some(now_abs);
    parse::lowercase_names(b.in_contig_mut(), &cx.http.hdrs);
    if head.flags.contains(MsgFlags::OBS_FOLD) {
        parse::unfold(b.in_contig_mut(), &cx.http.hdrs);
    }
    txn.res_head_wire = head.len as u64;
    txn.res_head_htx = parse::htx_head_size_received(
        b.in_contig().get(..head.len).unwrap_or(&[]),
        &head,
        &cx.http.hdrs,
    );
    txn.status = head.status;
    txn.flags.insert(TxnFlags::RES_HEAD);
    txn.res.flags = head.flags;
    txn.res.framing = Some(head.framing);
    let mut e = HeadEdit {
        buf: b,
        head,
        hdrs: &mut cx.http.hdrs,
        kind: Kind::Response,
        opts,
        settled: false,
    };
    if caps > 0
        && let Some(fe) = cx.proxies.get(s.fe)
    {
        txn.res_caps.resize(caps, None);
        for (i, c) in fe.http.res_captures.iter().enumerate() {
            if let Some(v) = e.value(c.name.as_bytes())
                && let Some(slot) = txn.res_caps.get_mut(i)
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
        e.capture_cookie(c.name.as_bytes(), c.len, &mut txn.res_cookie);
    }
    let _ = super::head_norm::normalize_head(&mut e);
    let f = e.head.flags;
    // The server closes after this response: its connection cannot be kept.
    if f.contains(MsgFlags::CONN_CLOSE)
        || (!f.contains(MsgFlags::VER_11) && !f.contains(MsgFlags::CONN_KEEP_ALIVE))
        || e.head.framing == Framing::UntilClose
    {
        txn.flags.insert(TxnFlags::SRV_CLOSE);
    }
    // A close-delimited body can only reach the client delimited the same way.
    if e.head.framing == Framing::UntilClose {
        txn.flags.insert(TxnFlags::CLI_CLOSE);
    }
    e.remember();
    txn.res.head_len = e.head.len;
    let class = (e.head.status / 100) as usize;
    let srv = s.srv();
    if let Some(fe) = cx.proxies.get_mut(s.fe) {
        fe.http_stats.count_status(class);
    }
    if let Some(be) = s.be.and_then(|b| cx.proxies.get_mut(b)) {
        be.be_http_stats.count_status(class);
        if let Some(x) = srv.and_then(|i| be.servers.get_mut(i)) {
            x.http_stats.count_status(class);
            x.http_stats.req_tot += 1;
        }
    }
}

/// RES_HTTP_PROCESS: the backend's then the frontend's `http-response`
/// rules, and the connection header the client gets. Returns false when
/// the response was replaced by an error.
pub fn process_res(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    s.res.analysers.remove(AnFlags::RES_HTTP_PROCESS);
    let opts = res_opts(s, cx);
    let be = s.be.unwrap_or(s.fe);
    if !super::rules::run_res_rules(s, cx, be, opts) {
        return false;
    }
    if be != s.fe && !super::rules::run_res_rules(s, cx, s.fe, opts) {
        return false;
    }
    super::rules::run_after_rules(s, cx);
    // The client is told when its connection will close after this
    // response (HTTP/1.1), or that it stays open (HTTP/1.0 keep-alive).
    let stopping = cx.proxies.get(s.fe).is_some_and(|p| p.stopped);
    let Some(txn) = s.txn.as_mut() else {
        return true;
    };
    if stopping {
        // A stopping process serves this response and closes: the client
        // learns it from the header instead of from a closed connection.
        txn.flags.insert(TxnFlags::CLI_CLOSE);
    }
    let cli_close = txn.flags.contains(TxnFlags::CLI_CLOSE);
    let req_11 = txn.req.flags.contains(MsgFlags::VER_11);
    // What the client is told (HAProxy 2.6's H1 encoder): `connection:
    // close` when its connection closes after an HTTP/1.1 response
    // (implicit in 1.0), `connection: keep-alive` when it stays open and
    // the request or the response is HTTP/1.0; the server's own tokens are
    // not forwarded. Decided on the flags of the parse: the common case (an
    // HTTP/1.1 exchange kept alive, no token) touches nothing.
    let f = txn.res.flags;
    let res_11 = f.contains(MsgFlags::VER_11);
    let want: Option<&[u8]> = match (cli_close, res_11, req_11) {
        (true, true, _) => Some(b"close"),
        (true, false, _) => None,
        (false, true, true) => None,
        (false, _, _) => Some(b"keep-alive"),
    };
    let has_tokens = f.intersects(MsgFlags::CONN_CLOSE | MsgFlags::CONN_KEEP_ALIVE);
    if f.contains(MsgFlags::CONN_UPGRADE) || (want.is_none() && !has_tokens) {
        return true;
    }
    let Some(b) = s.res.buf.as_mut() else {
        return true;
    };
    let Ok(mut e) = HeadEdit::open(b, Kind::Response, opts, &mut cx.http.hdrs) else {
        return true;
    };
    // The response's connection state was recorded: no re-parse needed.
    e.settled = true;
    let r = e.del(b"connection").and_then(|_| match want {
        Some(v) => e.add(b"connection", v),
        None => Ok(()),
    });
    let len = e.head.len;
    if r.is_err() {
        s.set_term('P', Finst::Header);
        reply::close_server(s, cx, true);
        reply::reply_error(s, cx, 502);
        return false;
    }
    txn.res.head_len = len;
    true
}

/// RES_HTTP_XFER_BODY: schedules the head (once), then the body; when the
/// response is complete, ends the transaction.
pub fn xfer_res_body(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let Some(txn) = s.txn.as_mut() else {
        s.res.analysers.remove(AnFlags::RES_HTTP_XFER_BODY);
        return false;
    };
    let mut progressed = false;
    if txn.res.state == MsgState::Head {
        s.res.forward(txn.res.head_len as u64);
        let tunnel = txn.status == 101
            || (txn.meth == Some(Method::Connect) && (200..300).contains(&txn.status));
        txn.res.state = match txn.res.framing {
            _ if tunnel => MsgState::Tunnel,
            Some(Framing::Length(n)) if n > 0 => {
                s.res.forward(n);
                MsgState::Body
            }
            Some(Framing::Chunked) => MsgState::ChunkSize,
            Some(Framing::UntilClose) => MsgState::UntilClose,
            _ => MsgState::Done,
        };
        progressed = true;
        if txn.res.state == MsgState::Tunnel {
            // Both directions become opaque (websocket, CONNECT).
            txn.req.state = MsgState::Tunnel;
            txn.flags.insert(TxnFlags::CLI_CLOSE | TxnFlags::SRV_CLOSE);
            s.req.analysers = AnFlags::empty();
            s.res.analysers = AnFlags::empty();
            s.req.flags.remove(CfFlags::READ_NOEXP);
            s.req.forward_forever();
            s.res.forward_forever();
            let tunnel_to = txn.timeout_tunnel.unwrap_or_else(|| {
                s.be.and_then(|b| cx.proxies.get(b))
                    .map_or(0, |p| p.timeouts.tunnel)
            });
            if tunnel_to != 0 {
                for c in [&mut s.req, &mut s.res] {
                    c.rto = tunnel_to;
                    c.wto = tunnel_to;
                }
            }
            s.req.rex = crate::ticks::tick_add_ifset(cx.clock.now, s.req.rto);
            return true;
        }
    }
    let before = s.res.out_len();
    let chunk_counts = (txn.res.chunk_wire, txn.res.chunk_htx);
    if let Err(e) = xfer_body(&mut s.res, &mut txn.res) {
        log::debug!("stream {}: bad chunked response body: {}", s.uniq_id, e.why);
        s.set_term('S', Finst::Data);
        reply::close_server(s, cx, true);
        // The head went out already: the client connection is cut once
        // what was scheduled is sent (the bad part never is).
        // 2.6's HTTP/1 layer loses the whole read that failed: the chunks
        // before the bad one in it are neither sent nor counted.
        let dropped = s.res.out_len().saturating_sub(before) + s.res.in_len();
        s.res.total = s.res.total.saturating_sub(dropped as u64);
        if let Some(txn) = s.txn.as_mut() {
            (txn.res.chunk_wire, txn.res.chunk_htx) = chunk_counts;
        }
        if let Some(b) = s.res.buf.as_mut() {
            b.truncate_output(before);
        }
        s.res.to_forward = 0;
        s.res.analysers = AnFlags::empty();
        s.req.analysers = AnFlags::empty();
        s.res.shutw_now();
        s.req.shutr_now();
        return true;
    }
    progressed |= s.res.out_len() != before;
    if txn.res.state == MsgState::Done {
        end_txn(s, cx);
        return true;
    }
    // The server closed in the middle of a delimited body: `SD`.
    if s.res.flags.contains(CfFlags::SHUTR) && s.res.in_len() == 0 && s.res.to_forward > 0 {
        txn.flags.insert(TxnFlags::CLI_CLOSE | TxnFlags::SRV_CLOSE);
        s.set_term('S', Finst::Data);
        s.res.analysers = AnFlags::empty();
        s.req.analysers = AnFlags::empty();
        s.res.shutw_now();
        s.req.shutr_now();
    }
    progressed
}

/// The response is complete: log the transaction, then either close the
/// client side (after the response is sent) or prepare the stream for
/// the next request, keeping the server connection when it may serve it.
pub fn end_txn(s: &mut Stream, cx: &mut StreamCtx) {
    let Some(txn) = s.txn.as_mut() else { return };
    let req_done = txn.req.finished();
    // A client still sending its body: the transaction waits for it (the
    // request analyser ends it), as 2.6 ends it when both messages are.
    if !req_done
        && !txn.flags.contains(TxnFlags::REPLIED)
        && txn.req.state != MsgState::Tunnel
        && s.req.analysers.contains(AnFlags::REQ_HTTP_XFER_BODY)
        && !s.req.flags.intersects(CfFlags::SHUTR | CfFlags::READ_ERROR)
        && s.si[0].state() == SiState::Est
        && s.si[1].state() == SiState::Est
    {
        txn.flags.insert(TxnFlags::RES_DONE);
        s.res.analysers = AnFlags::empty();
        return;
    }
    let cli_close = txn.flags.contains(TxnFlags::CLI_CLOSE)
        || !req_done
        || s.req.flags.intersects(CfFlags::SHUTR | CfFlags::READ_ERROR)
        || s.si[0].state() != SiState::Est;
    let srv_close = !req_done || txn.flags.contains(TxnFlags::SRV_CLOSE);
    // One more transaction served: the second makes it "reused".
    if let Some(c) = s.si[1].conn().and_then(|c| cx.io.conns.get_mut(c)) {
        let used = c.flags.contains(CoFlags::HTTP_USED);
        c.flags.insert(if used {
            CoFlags::HTTP_REUSED
        } else {
            CoFlags::HTTP_USED
        });
    }
    reply::release_backend(s, cx);
    super::log::log_txn(s, cx);
    s.res.analysers = AnFlags::empty();
    s.req.analysers = AnFlags::empty();
    if cli_close {
        // The server connection outlives the client's when another request
        // may use it: pooled under `http-reuse aggressive|always` (any
        // request may take it). Under `safe` only a session's later
        // requests could, and those come with their own (parked) session's
        // connection: keeping it would only hold a socket.
        let reusable = !srv_close
            && s.be.and_then(|b| cx.proxies.get(b)).is_some_and(|p| {
                matches!(
                    p.http.reuse,
                    crate::cfg::model::HttpReuse::Aggressive | crate::cfg::model::HttpReuse::Always
                )
            });
        if s.si[1].state() == SiState::Est && (!reusable || !crate::stream::reuse::give(s, cx)) {
            reply::close_server(s, cx, false);
        }
        s.req.flags.remove(CfFlags::AUTO_CONNECT);
        s.req.shutr_now();
        s.res.shutw_now();
        return;
    }
    if srv_close && s.si[1].state() == SiState::Est {
        reply::close_server(s, cx, false);
    }
    reply::next_request(s, cx);
}

/// When the back SI closed with no response head (no server, connection
/// failure, queue timeout): the reply HAProxy sends for that cause.
pub fn on_server_gone(s: &mut Stream, cx: &mut StreamCtx) {
    let Some(txn) = s.txn.as_ref() else { return };
    if txn.flags.intersects(TxnFlags::REPLIED | TxnFlags::RES_HEAD) {
        return;
    }
    use crate::si::ErrType;
    let status = match s.si[1].err_type {
        ErrType::None => return,
        ErrType::QueueAbrt | ErrType::ConnAbrt => {
            // The client left: nothing to answer.
            s.res.analysers = AnFlags::empty();
            s.req.analysers = AnFlags::empty();
            return;
        }
        ErrType::QueueTo | ErrType::QueueErr | ErrType::ConnTo | ErrType::ConnErr => 503,
        ErrType::ConnOther => 500,
    };
    s.res.analysers = AnFlags::empty();
    s.res.rex = ETERNITY;
    reply::reply_error(s, cx, status);
}
