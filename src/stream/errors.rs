//! Each side's errors and timeouts once it is established: they end the
//! stream at once (`check_front_side`), except on a server that failed
//! after some of its data was read: that data goes to the client first
//! (`salvage_server_data`).

use super::{Finst, Stream, StreamCtx, abort_stream, backend, close_side};
use crate::channel::{AnFlags, CfFlags};
use crate::conn::Side;
use crate::http::parse;
use crate::si::{SiFlags, SiState};
use crate::ticks::ETERNITY;

/// A server connection that failed (a reset on a send or a read) after
/// some of its data was read and not yet sent: an early reply (a 413 to
/// an upload, read by the read `conn_send` makes after a failed send), or
/// the end of a transfer cut by a reset. As HAProxy 2.6, which shuts a
/// failed server side but keeps the response channel, only the server
/// side is closed (`SD`): the response is analysed and forwarded as
/// usual, then the client gets the FIN; the request is dropped and the
/// client no longer read. Runs before the analysers, so that they see
/// the side closed and the whole response. Returns true when it acted
/// (the front side must send what is buffered).
pub fn salvage_server_data(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let back = &s.si[1];
    if back.state() != SiState::Est || !back.flags.contains(SiFlags::ERR) || s.res.is_empty() {
        return false;
    }
    // Nowhere to deliver it: the usual abort (`check_front_side`).
    let front_out = CfFlags::SHUTW | CfFlags::WRITE_ERROR | CfFlags::WRITE_TIMEOUT;
    if s.si[0].state() != SiState::Est
        || s.si[0].flags.contains(SiFlags::ERR)
        || s.res.flags.intersects(front_out)
    {
        return false;
    }
    let ph = failed_phase(s);
    s.set_term('S', ph);
    close_side(s, Side::Back, false, cx);
    s.si[1].set_state(SiState::Dis);
    s.si[1].set_state(SiState::Clo);
    s.si[1].exp = ETERNITY;
    backend::release_server(s, cx);
    s.res.flags.insert(CfFlags::SHUTR);
    s.res.rex = ETERNITY;
    s.req.flags.insert(CfFlags::SHUTW);
    s.req.wex = ETERNITY;
    // The rest of a request (an upload) has nowhere to go: it is dropped,
    // as 2.6's request body analyser does on a server abort, and the
    // client's connection ends once the response is sent (`end_txn`). A
    // complete HTTP request keeps the transaction as a server's close
    // would (keep-alive, the next request connects again); the response
    // head is left as the server sent it either way.
    if !s.txn.as_ref().is_some_and(|t| t.req.finished()) {
        s.req.flags.remove(CfFlags::AUTO_CONNECT);
        s.req.analysers = AnFlags::empty();
        s.req.drop_data(&mut cx.io.bufs, &mut cx.io.pipes);
    }
    true
}

/// The phase a salvaged server failure ends in: `H` while the HTTP
/// response head is not all there (the analysers answer 502, `SH`, as for
/// any server failure before a head), else the stream's (`D`).
fn failed_phase(s: &mut Stream) -> Finst {
    if !s.res.analysers.contains(AnFlags::RES_WAIT_HTTP) {
        return s.phase();
    }
    let mut scanned = 0;
    let head = s
        .res
        .buf
        .as_mut()
        .is_some_and(|b| parse::head_end(b.in_contig(), &mut scanned).is_some());
    if head { s.phase() } else { Finst::Header }
}

/// Client-side errors and timeouts, and server-side ones once established:
/// an error or a write timeout ends the stream (`C`/`c`/`S`/`s`); a read
/// timeout shuts only the side that went idle, as a read0 would: its FIN
/// goes to the other side and the other direction goes on
/// (configuration.txt 4.2, timeout client / timeout server).
pub fn check_front_side(s: &mut Stream, cx: &mut StreamCtx) {
    // Nothing to look at in the common case: no error, no timeout.
    let events = CfFlags::READ_TIMEOUT | CfFlags::WRITE_TIMEOUT;
    if !(s.req.flags | s.res.flags).intersects(events)
        && !(s.si[0].flags | s.si[1].flags).contains(SiFlags::ERR)
    {
        return;
    }
    let front_est = s.si[0].state() == SiState::Est;
    let back_est = s.si[1].state() == SiState::Est;
    if !front_est && !back_est {
        return;
    }
    let front_err = front_est && s.si[0].flags.contains(SiFlags::ERR);
    let srv_err = back_est && s.si[1].flags.contains(SiFlags::ERR);
    // Write timeouts: the peer stopped reading; nothing can progress.
    let cli_wto = front_est && s.res.flags.contains(CfFlags::WRITE_TIMEOUT);
    let srv_wto = back_est && s.req.flags.contains(CfFlags::WRITE_TIMEOUT);
    if front_err || cli_wto {
        let ph = s.phase();
        s.set_term(if front_err { 'C' } else { 'c' }, ph);
        abort_stream(s, cx);
        return;
    }
    if srv_err || srv_wto {
        let ph = s.phase();
        s.set_term(if srv_err { 'S' } else { 's' }, ph);
        abort_stream(s, cx);
        return;
    }
    for side in [Side::Front, Side::Back] {
        if (side == Side::Back && !back_est) || (side == Side::Front && !front_est) {
            continue;
        }
        let ph = s.phase();
        let task = s.task;
        let (si, _, ic, oc) = s.split(side);
        if ic.flags.contains(CfFlags::READ_TIMEOUT) && !ic.flags.contains(CfFlags::SHUTR) {
            si.shutr(ic, oc, &mut cx.si(task));
            s.set_term(if side == Side::Front { 'c' } else { 's' }, ph);
        }
    }
}
