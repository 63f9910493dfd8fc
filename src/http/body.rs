//! HTTP message bodies: walking a body by its framing (`xfer_body`: a
//! length is one `forward(n)`, chunks are walked one by one and their size
//! lines and trailers written as HAProxy 2.6 writes them), and waiting for
//! a whole body before connecting (`AN_REQ_HTTP_BODY`: `option
//! http-buffer-request`, `http-request wait-for-body`).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::parse::{self, Framing};
use super::reply;
use super::txn::{HttpMsg, MsgState};
use crate::channel::{AnFlags, CfFlags, Channel};
use crate::stream::{Finst, Stream, StreamCtx};
use crate::ticks::{ETERNITY, tick_add_ifset, tick_is_expired, tick_isset};

/// REQ_HTTP_BODY: with `option http-buffer-request` or `http-request
/// wait-for-body`, the request waits for its body (all of it, `at-least`
/// bytes of it, or a full buffer) before a server is connected, within
/// `timeout http-request` (or the rule's time): 408 on expiry. Returns false
/// while waiting.
pub fn wait_for_body(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let (fe, be) = (cx.proxies.get(s.fe), s.be.and_then(|b| cx.proxies.get(b)));
    let buffer =
        fe.is_some_and(|p| p.http.buffer_request) || be.is_some_and(|p| p.http.buffer_request);
    let wfb = be
        .and_then(|p| p.http.wait_for_body)
        .or(fe.and_then(|p| p.http.wait_for_body));
    let http_req_to = fe.map_or(0, |p| p.timeouts.http_request);
    let Some(txn) = s.txn.as_ref() else {
        s.req.analysers.remove(AnFlags::REQ_HTTP_BODY);
        return true;
    };
    if !buffer && wfb.is_none() {
        s.req.analysers.remove(AnFlags::REQ_HTTP_BODY);
        return true;
    }
    let head_len = txn.req.head_len;
    let in_len = s.req.in_len();
    let body_in = in_len.saturating_sub(head_len) as u64;
    let at_least = wfb.and_then(|(_, n)| n);
    let complete = match txn.req.framing {
        Some(Framing::Length(n)) => body_in >= at_least.map_or(n, |a| a.min(n)),
        Some(Framing::Chunked) => {
            at_least.is_some_and(|a| body_in >= a)
                || s.req
                    .buf
                    .as_mut()
                    .is_some_and(|b| chunked_complete(b.in_contig(), head_len))
        }
        _ => true,
    };
    let full = s.req.recv_room(cx.io.maxrewrite) == 0;
    let gone = s.req.flags.intersects(CfFlags::SHUTR | CfFlags::READ_ERROR);
    if complete || full || gone {
        s.req.analysers.remove(AnFlags::REQ_HTTP_BODY);
        s.req.analyse_exp = ETERNITY;
        return true;
    }
    if !tick_isset(s.req.analyse_exp) {
        let to = wfb.map_or(http_req_to, |(t, _)| t);
        s.req.analyse_exp = tick_add_ifset(cx.clock.now, to);
    } else if tick_is_expired(s.req.analyse_exp, cx.clock.now) {
        s.req.analyse_exp = ETERNITY;
        s.set_term('c', Finst::Request);
        reply::reply_error(s, cx, 408);
    }
    false
}

/// True when a whole chunked body follows the `head_len` bytes of `data`.
fn chunked_complete(data: &[u8], head_len: usize) -> bool {
    let mut pos = head_len;
    loop {
        let Some(rest) = data.get(pos..) else {
            return false;
        };
        match parse::chunk_size(rest) {
            Ok(Some((0, used))) => {
                let mut sc = 0;
                return matches!(
                    parse::trailers(rest.get(used..).unwrap_or(&[]), &mut sc),
                    Ok(Some(_))
                );
            }
            Ok(Some((n, used))) => {
                // Data, then its CRLF.
                pos = pos
                    .saturating_add(used)
                    .saturating_add(n as usize)
                    .saturating_add(2);
            }
            _ => return false,
        }
    }
}

/// Schedules what `msg`'s framing allows of `c`'s input, walking chunk
/// boundaries. Returns Ok(true) once the whole message is scheduled.
pub fn xfer_body(c: &mut Channel, msg: &mut HttpMsg) -> Result<bool, parse::ParseError> {
    loop {
        match msg.state {
            MsgState::Head | MsgState::Error => return Ok(false),
            MsgState::Done | MsgState::Tunnel => return Ok(true),
            MsgState::Body => {
                if c.to_forward != 0 {
                    return Ok(false);
                }
                msg.state = MsgState::Done;
            }
            MsgState::UntilClose => {
                if c.to_forward != crate::channel::FORWARD_INFINITE {
                    c.forward_forever();
                }
                if !c.flags.contains(CfFlags::SHUTR) {
                    return Ok(false);
                }
                msg.state = MsgState::Done;
            }
            MsgState::ChunkData => {
                if c.to_forward != 0 {
                    return Ok(false);
                }
                msg.state = MsgState::ChunkCrlf;
            }
            MsgState::ChunkSize => {
                let Some(b) = c.buf.as_mut() else {
                    return Ok(false);
                };
                let Some((n, used)) = parse::chunk_size(b.in_contig())? else {
                    return Ok(false);
                };
                msg.chunk_wire += used as u64;
                let used = canonical_chunk_line(b, n, used);
                c.forward(used as u64);
                if n == 0 {
                    msg.scanned = 0;
                    msg.state = MsgState::Trailers;
                } else {
                    c.forward(n);
                    msg.state = MsgState::ChunkData;
                }
            }
            MsgState::ChunkCrlf => {
                let Some(b) = c.buf.as_mut() else {
                    return Ok(false);
                };
                match parse::chunk_crlf(b.in_contig())? {
                    None => return Ok(false),
                    Some(used) => {
                        msg.chunk_wire += used as u64;
                        // A bare LF goes out as CRLF.
                        if used == 1 && b.replace_input(0, 1, b"\r\n") {
                            c.forward(2);
                        } else {
                            c.forward(used as u64);
                        }
                        msg.state = MsgState::ChunkSize;
                    }
                }
            }
            MsgState::Trailers => {
                let Some(b) = c.buf.as_mut() else {
                    return Ok(false);
                };
                match parse::trailers(b.in_contig(), &mut msg.scanned)? {
                    None => return Ok(false),
                    Some(used) => {
                        msg.chunk_wire += used as u64;
                        msg.chunk_htx += 1 + trailers_htx_size(b.in_contig().get(..used));
                        let used = canonical_trailers(b, used);
                        c.forward(used as u64);
                        msg.state = MsgState::Done;
                    }
                }
            }
        }
    }
}

/// A chunk-size line goes out as HAProxy 2.6 writes it: the size in
/// upper-case hex, no extension, no padding, CRLF (so that a server never
/// parses a size line the proxy read differently). A line already in that
/// form is left alone. Returns the line's length after the rewrite.
fn canonical_chunk_line(b: &mut crate::buf::Buffer, n: u64, used: usize) -> usize {
    let mut line = [0u8; 18];
    let digits = if n == 0 {
        1
    } else {
        (64 - n.leading_zeros()).div_ceil(4) as usize
    };
    for (i, d) in line.iter_mut().take(digits).enumerate() {
        let nibble = (n >> (4 * (digits - 1 - i))) & 0xf;
        *d = b"0123456789ABCDEF"
            .get(nibble as usize)
            .copied()
            .unwrap_or(b'0');
    }
    if let Some(end) = line.get_mut(digits..digits + 2) {
        end.copy_from_slice(b"\r\n");
    }
    let canon = line.get(..digits + 2).unwrap_or(b"0\r\n");
    if b.in_contig().get(..used) == Some(canon) {
        return used;
    }
    if b.replace_input(0, used, canon) {
        canon.len()
    } else {
        used
    }
}

/// What HAProxy 2.6 counts of a trailers block: each field's name and
/// value (trimmed), as its internal message holds them.
fn trailers_htx_size(block: Option<&[u8]>) -> u64 {
    let block = block.unwrap_or(&[]);
    block
        .split(|&c| c == b'\n')
        .filter_map(|l| {
            let colon = l.iter().position(|&c| c == b':')?;
            let value = l.get(colon + 1..).unwrap_or(&[]);
            Some((colon + value.trim_ascii().len()) as u64)
        })
        .sum()
}

/// Trailer fields go out with lower-case names and CRLF line ends, as
/// HAProxy 2.6 emits them. Returns the block's length after the rewrite.
fn canonical_trailers(b: &mut crate::buf::Buffer, used: usize) -> usize {
    let Some(block) = b.in_contig_mut().get_mut(..used) else {
        return used;
    };
    let mut bare_lf = false;
    let mut line_start = 0;
    let mut prev = 0u8;
    for i in 0..block.len() {
        let c = block.get(i).copied().unwrap_or(0);
        if c == b'\n' {
            bare_lf |= prev != b'\r';
            if let Some(line) = block.get_mut(line_start..i)
                && let Some(colon) = line.iter().position(|&c| c == b':')
                && let Some(name) = line.get_mut(..colon)
            {
                name.make_ascii_lowercase();
            }
            line_start = i + 1;
        }
        prev = c;
    }
    if !bare_lf {
        return used;
    }
    let mut out = Vec::with_capacity(used + 8);
    for line in block.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if b.replace_input(0, used, &out) {
        out.len()
    } else {
        used
    }
}
