//! A stream's I/O callbacks: what happens when one of its connections is
//! readable or writable. They chain the SI verbs without the stream task:
//! a read fills the side's input channel and what `to_forward` released is
//! sent at once on the other side; a send that frees room lets the producer
//! read again. The task is woken only for special conditions (read0, error,
//! shutdown done, a connection result, input to analyse).

use super::Stream;
use crate::channel::CfFlags;
use crate::conn::Side;
use crate::si::SiCtx;

/// Read-and-forward rounds per callback before yielding to other fds.
const RECV_ROUNDS: usize = 8;

/// I/O callback of `side`'s connection. `can_r` / `can_w`: the poller says
/// the fd is wanted and ready in that direction. Returns true when the
/// stream task must run.
pub fn conn_io(s: &mut Stream, side: Side, can_r: bool, can_w: bool, cx: &mut SiCtx) -> bool {
    let Some(cid) = s.si[side.idx()].conn() else {
        return false;
    };
    let Some(conn) = cx.io.conns.get_mut(cid) else {
        return false;
    };
    if conn.flags.contains(crate::conn::CoFlags::WAIT_L4_CONN) {
        // The connect's result: the stream decides (EST, or CER).
        conn.check_connected(&mut cx.io.fds);
        return true;
    }
    if conn.flags.contains(crate::conn::CoFlags::WAIT_L6_CONN) {
        // The TLS handshake to a server runs in the stream's CON state.
        return true;
    }
    if can_w {
        // A shutdown that the data layer could not finish earlier.
        conn.finish_shutw(&mut cx.io.fds);
    }
    // A TLS read that had to write first goes on now that we may write.
    let can_r = can_r || (can_w && conn.read_waits_write());
    let mut wake = false;
    if can_w {
        wake |= send(s, side, cx);
    }
    if can_r {
        wake |= recv(s, side, cx);
    }
    wake
}

/// Sends `side`'s output (`chk_snd`: a connection sends now, an applet is
/// woken); room freed there lets the other side (its producer) read again.
/// Returns true when the stream task must run.
pub fn send(s: &mut Stream, side: Side, cx: &mut SiCtx) -> bool {
    let (si, other, ic, oc) = s.split(side);
    let r = si.chk_snd(ic, oc, cx);
    if r.n > 0 {
        other.chk_rcv(oc, cx);
    }
    r.wake
}

/// Reads from `side`'s connection and forwards, repeating while the
/// socket still has data and the other side takes it all, up to
/// `RECV_ROUNDS` rounds: bulk transfers then cost no poll per buffer, yet
/// one busy fd cannot starve the others. An fd still ready afterwards stays
/// in the poller's active list.
pub fn recv(s: &mut Stream, side: Side, cx: &mut SiCtx) -> bool {
    let mut wake = false;
    for _ in 0..RECV_ROUNDS {
        let (si, other, ic, oc) = s.split(side);
        let peer_splice = other.can_splice(cx);
        let r = si.conn_recv(ic, peer_splice, cx);
        wake |= r.wake;
        // Forward what we got right away, and the shutdown with it: the
        // other side shuts its output itself once it is empty.
        if (r.n > 0 && ic.has_output()) || r.read0 {
            let sent = other.chk_snd(oc, ic, cx);
            wake |= sent.wake;
            if sent.n > 0 {
                si.chk_rcv(ic, cx);
            }
        }
        if r.read0 {
            // The stream must look if this side is now done both ways, if
            // analysers must see the end, or if the shutdown could not be
            // passed on yet (the other side is not connected, or blocked).
            wake |= oc.flags.contains(CfFlags::SHUTW)
                || !ic.analysers.is_empty()
                || !ic.flags.contains(CfFlags::SHUTW);
        }
        // Still full after forwarding: stop until the consumer makes room.
        let settled = si.recv_settle(ic, cx);
        let mut more = r.more && settled;
        // Another round only if everything read went out already.
        more &= ic.is_empty();
        if !more {
            break;
        }
    }
    wake
}
