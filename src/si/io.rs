//! The stream-interface verbs: how a stream moves bytes and shutdowns
//! through one of its ends, whatever that end is.
//!
//! | verb | connection end | applet end |
//! |---|---|---|
//! | `conn_recv` | one read into the input channel (buffer, or pipe when splicing) | - |
//! | `conn_send` | handshakes left, then the pipe, then the buffer's output; after a reset, one last read | - |
//! | `chk_rcv` | room was made in the input channel: read again | wake the applet if it waited for room |
//! | `chk_snd` | output was scheduled: send it now | wake the applet |
//! | `update` | after analysis: `chk_rcv` if room was made, `chk_snd` if output was scheduled | same |
//! | `shutr` | stop reading (close if the output is shut too) | wake the applet |
//! | `shutw` | FIN (close if the input is shut too) | wake the applet |
//! | `close` | close_notify (TLS), FIN, then close the socket (RST with `nolinger`, on abort, or `LINGER_RISK`) | detach |
//!
//! Each verb works on one side: `ic` is the channel this end produces into,
//! `oc` the one it consumes. The stream (`stream/io.rs`) chains them, e.g. a
//! read followed by a send on the other side. Every verb reports what the
//! stream must know (bytes moved, a wake-up for a special condition) instead
//! of reaching into the stream.

use super::{End, SiCtx, SiFlags, SiState, StreamInterface};
use crate::channel::{CfFlags, Channel, FORWARD_INFINITE, SpliceMode};
use crate::conn::handshake::{self, HsStep};
use crate::conn::{CoFlags, Stop};
use crate::ticks::{ETERNITY, tick_add_ifset, tick_isset};

/// Bytes one read may move (bounded by the buffer or pipe room anyway).
const RECV_BUDGET: usize = 256 * 1024;

/// What a receive round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recv {
    /// Bytes read.
    pub n: usize,
    /// The socket may have more and there was room: another round may help.
    pub more: bool,
    /// The peer shut its side (this read's input channel is now SHUTR).
    pub read0: bool,
    /// Something the stream must look at: an error, or input the analysers
    /// have not released. (What a read0 needs is decided by the caller,
    /// once the other side had its chance to forward the shutdown.)
    pub wake: bool,
}

/// What a send did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Bytes sent.
    pub n: usize,
    /// Something the stream must look at: an error, or a shutdown that
    /// left this side done both ways (to be closed and detached).
    pub wake: bool,
}

impl StreamInterface {
    /// True when this end can take spliced data: a raw connection, or no
    /// end yet (the server connection is not made; it will be raw).
    pub fn can_splice(&self, cx: &SiCtx) -> bool {
        match self.end {
            End::Conn(cid) => cx.io.conns.get(cid).is_some_and(|c| c.can_splice()),
            End::None => true,
            End::Applet { .. } => false,
        }
    }

    /// One read from the connection into `ic` (the I/O callback when the
    /// socket is readable). Data goes to the pipe when splicing is allowed
    /// (the channel's mode, both ends raw) and the buffer is empty, else to
    /// the buffer; then what `to_forward` allows becomes output. A full
    /// buffer or pipe sets `CF_FULL` and stops reading until `chk_rcv`.
    /// `peer_can_splice`: the other end takes spliced data.
    pub fn conn_recv(&mut self, ic: &mut Channel, peer_can_splice: bool, cx: &mut SiCtx) -> Recv {
        let End::Conn(cid) = self.end else {
            return Recv::default();
        };
        let io = &mut *cx.io;
        let Some(conn) = io.conns.get_mut(cid) else {
            return Recv::default();
        };
        if ic.flags.contains(CfFlags::SHUTR) {
            conn.stop_recv(&mut io.fds);
            return Recv::default();
        }
        let splice_ok = io.splice_enabled
            && conn.can_splice()
            && peer_can_splice
            && (ic.splice == SpliceMode::Always
                || (ic.splice == SpliceMode::Auto && ic.flags.contains(CfFlags::STREAMER)));
        // Forwarding budget: infinite in TCP; an analyser (HTTP body of known
        // length) bounds it so spliced bytes never run past what it allowed.
        let budget = if ic.to_forward == FORWARD_INFINITE {
            RECV_BUDGET
        } else {
            ic.to_forward.min(RECV_BUDGET as u64) as usize
        };
        let use_pipe = splice_ok && budget > 0 && (ic.pipe.is_some() || ic.buf_len() == 0);
        if use_pipe && ic.pipe.is_none() {
            ic.pipe = io.pipes.get();
        }
        let x = if let (true, Some(pipe)) = (use_pipe, ic.pipe.as_mut()) {
            let room = io.pipe_room.saturating_sub(pipe.data);
            if room == 0 {
                block_on_room(ic);
                conn.stop_recv(&mut io.fds);
                return Recv::default();
            }
            let x = conn.rcv_pipe(&mut io.fds, pipe, room.min(budget));
            ic.spliced += x.n as u64;
            if ic.to_forward != FORWARD_INFINITE {
                ic.to_forward = ic.to_forward.saturating_sub(x.n as u64);
            }
            if x.stop == Stop::PipeFull {
                block_on_room(ic);
                conn.stop_recv(&mut io.fds);
            }
            // A pipe taken for a splice that found nothing goes back at once:
            // idle channels hold no pipe.
            ic.release_empty(&mut io.bufs, &mut io.pipes);
            x
        } else {
            match ic.buf.as_mut() {
                None => ic.buf = Some(io.bufs.alloc()),
                // A partial request head waited in a small buffer.
                Some(b) => io.bufs.grow(b),
            }
            let room = ic.recv_room(io.maxrewrite);
            let Some(buf) = ic.buf.as_mut() else {
                return Recv::default();
            };
            if room == 0 {
                block_on_room(ic);
                conn.stop_recv(&mut io.fds);
                return Recv::default();
            }
            let x = conn.rcv_buf(&mut io.fds, buf, room.min(RECV_BUDGET));
            if x.n >= room {
                ic.flags.insert(CfFlags::STREAMER);
            }
            ic.forward_input();
            ic.release_empty(&mut io.bufs, &mut io.pipes);
            x
        };
        if x.n > 0 {
            ic.total += x.n as u64;
            ic.flags.insert(CfFlags::READ_PARTIAL);
            ic.rex = tick_add_ifset(cx.now, ic.rto);
        }
        let mut r = Recv {
            n: x.n,
            more: false,
            read0: false,
            wake: false,
        };
        match x.stop {
            Stop::Error(_) => {
                ic.flags.insert(CfFlags::READ_ERROR);
                self.flags.insert(SiFlags::ERR);
                r.wake = true;
                return r;
            }
            Stop::Read0 => {
                ic.flags.insert(CfFlags::READ_NULL | CfFlags::SHUTR);
                ic.rex = ETERNITY;
                r.read0 = true;
            }
            Stop::Progress => {
                if ic.buf.as_ref().is_some_and(|b| b.room() == 0) {
                    ic.flags.insert(CfFlags::FULL);
                }
                r.more = x.n > 0;
            }
            Stop::PipeFull | Stop::BlockedWrite => r.more = x.n > 0,
            Stop::BlockedRead => {}
        }
        // Input the analysers have not released yet: they must look at it;
        // and so must they when the bytes they released are all in (an HTTP
        // body or chunk ends here).
        if ic.in_len() > 0 || (x.n > 0 && ic.to_forward == 0 && !ic.analysers.is_empty()) {
            r.wake = true;
        }
        r
    }

    /// After the other side had its chance to forward what `conn_recv`
    /// read: a channel that is still full stops the reading until `chk_rcv`
    /// (the consumer made room); one that drained is no longer full.
    /// Returns true when reading may go on.
    pub fn recv_settle(&mut self, ic: &mut Channel, cx: &mut SiCtx) -> bool {
        if !ic.flags.contains(CfFlags::FULL) {
            return true;
        }
        if !may_read(ic, cx.io.maxrewrite) {
            if let Some(c) = self.conn().and_then(|c| cx.io.conns.get(c)) {
                c.stop_recv(&mut cx.io.fds);
            }
            ic.rex = ETERNITY;
            false
        } else {
            ic.flags.remove(CfFlags::FULL);
            true
        }
    }

    /// Sends `oc`'s pending bytes (pipe first, then the buffer's output) to
    /// the connection, after any handshake handler still pending (the PROXY
    /// header). Performs a pending shutw once `oc` is empty. Write activity
    /// refreshes this side's read timeout; a blocked send arms `oc.wex`.
    pub fn conn_send(&mut self, ic: &mut Channel, oc: &mut Channel, cx: &mut SiCtx) -> Sent {
        if self.state != SiState::Est {
            return Sent::default();
        }
        let End::Conn(cid) = self.end else {
            return Sent::default();
        };
        let io = &mut *cx.io;
        let Some(conn) = io.conns.get_mut(cid) else {
            return Sent::default();
        };
        if conn.flags.contains(CoFlags::ERROR) {
            conn.stop_send(&mut io.fds);
            return Sent::default();
        }
        if conn.flags.contains(CoFlags::WAIT_L4_CONN) {
            return Sent::default();
        }
        if !conn.hs.is_empty() {
            match handshake::run(conn, &mut io.fds, oc.has_output()) {
                HsStep::Done => {}
                HsStep::Wait => return Sent::default(),
                HsStep::Failed(_) => {
                    // As any write error: the side errors, the stream decides.
                    oc.flags.insert(CfFlags::WRITE_ERROR);
                    self.flags.insert(SiFlags::ERR);
                    return Sent { n: 0, wake: true };
                }
            }
        }
        if oc.flags.contains(CfFlags::SHUTW) {
            conn.stop_send(&mut io.fds);
            return Sent::default();
        }
        // The producer is done and nothing analyses this channel: the
        // output is shut as soon as it is empty (HAProxy's CF_AUTO_CLOSE),
        // so the last bytes go with MSG_MORE and the FIN right behind them,
        // in one segment.
        let auto_close = oc.flags.contains(CfFlags::SHUTR) && oc.analysers.is_empty();
        // MSG_MORE only when the FIN goes right behind: not while input waits
        // in the buffer, and not when the close will be a reset (`nolinger`
        // with the input shut), which would drop the corked tail.
        let more = (auto_close
            && oc.in_len() == 0
            && !(self.flags.contains(SiFlags::NOLINGER) && ic.flags.contains(CfFlags::SHUTR)))
            || expects_more(oc);
        let mut sent = 0usize;
        let mut stop = Stop::Progress;
        if let Some(p) = oc.pipe.as_mut()
            && p.data > 0
        {
            let x = conn.snd_pipe(&mut io.fds, p);
            sent += x.n;
            io.spliced_total += x.n as u64;
            stop = x.stop;
        }
        if stop == Stop::Progress
            && oc.pipe_len() == 0
            && let Some(b) = oc.buf.as_mut()
            && b.output() > 0
        {
            let x = conn.snd_buf(&mut io.fds, b, more);
            sent += x.n;
            stop = x.stop;
        }
        if let Stop::Error(e) = stop {
            oc.flags.insert(CfFlags::WRITE_ERROR);
            self.flags.insert(SiFlags::ERR);
            // A peer that answered early and closed with our data unread
            // (a 413 to an upload) reset the connection after its reply,
            // which Linux keeps readable: read it once more before the
            // error is reported, so that the reply is not lost with the
            // connection (the stream then forwards it, see
            // `stream::salvage`). Into the buffer: no pipe for one read.
            if matches!(e, libc::ECONNRESET | libc::EPIPE) && !ic.flags.contains(CfFlags::SHUTR) {
                self.conn_recv(ic, false, cx);
            }
            return Sent {
                n: sent,
                wake: true,
            };
        }
        if sent > 0 {
            oc.flags.insert(CfFlags::WRITE_PARTIAL);
            if !oc.has_output() {
                oc.flags.remove(CfFlags::SEND_DONTWAIT);
            }
            // Write activity on a side refreshes that side's read timeout.
            if tick_isset(ic.rex) {
                ic.rex = tick_add_ifset(cx.now, ic.rto);
            }
        }
        let mut wake = false;
        if oc.has_output() {
            // Blocked (the connection asked for writability): the write
            // timeout runs from the last progress.
            if !tick_isset(oc.wex) || sent > 0 {
                oc.wex = tick_add_ifset(cx.now, oc.wto);
            }
        } else {
            conn.stop_send(&mut io.fds);
            oc.wex = ETERNITY;
            oc.release_empty(&mut io.bufs, &mut io.pipes);
            if (auto_close || oc.flags.contains(CfFlags::SHUTW_NOW)) && oc.is_empty() {
                oc.flags.insert(CfFlags::SHUTW_NOW);
                self.shutw(ic, oc, cx);
                // Only a side now done both ways needs the stream (to close
                // it); a half-close is complete as it is.
                wake = ic.flags.contains(CfFlags::SHUTR);
            }
        }
        Sent { n: sent, wake }
    }

    /// Room was made in `ic` (the consumer sent, or an analyser consumed):
    /// a producer stopped on a full channel reads again, and its read
    /// timeout starts again now (it was blocked, not idle).
    pub fn chk_rcv(&mut self, ic: &mut Channel, cx: &mut SiCtx) {
        if !ic.flags.contains(CfFlags::FULL) {
            return;
        }
        ic.flags.remove(CfFlags::FULL);
        if ic.flags.contains(CfFlags::SHUTR) {
            return;
        }
        ic.rex = tick_add_ifset(cx.now, ic.rto);
        match self.end {
            End::Conn(cid) => {
                if let Some(c) = cx.io.conns.get(cid)
                    && !c.flags.intersects(CoFlags::WAIT_L4_CONN | CoFlags::ERROR)
                {
                    c.want_recv(&mut cx.io.fds);
                }
            }
            End::Applet { task, .. } => {
                if self.flags.contains(SiFlags::WAIT_ROOM) {
                    self.flags.remove(SiFlags::WAIT_ROOM);
                    cx.sched.wakeup(task);
                }
            }
            End::None => {}
        }
    }

    /// Output was scheduled in `oc`: a connection sends it now
    /// (speculatively: the socket is usually writable), an applet is woken
    /// to consume it.
    pub fn chk_snd(&mut self, ic: &mut Channel, oc: &mut Channel, cx: &mut SiCtx) -> Sent {
        match self.end {
            End::Conn(_) => self.conn_send(ic, oc, cx),
            End::Applet { task, .. } => {
                cx.sched.wakeup(task);
                Sent::default()
            }
            End::None => Sent::default(),
        }
    }

    /// After the stream looked at the channels (analysers ran): a producer
    /// blocked on a full `ic` that now has room reads again, and output
    /// scheduled in `oc` is sent (or the applet woken).
    pub fn update(&mut self, ic: &mut Channel, oc: &mut Channel, cx: &mut SiCtx) -> Sent {
        if self.state != SiState::Est {
            return Sent::default();
        }
        if ic.flags.contains(CfFlags::FULL) && may_read(ic, cx.io.maxrewrite) {
            self.chk_rcv(ic, cx);
        }
        if oc.has_output() {
            return self.chk_snd(ic, oc, cx);
        }
        Sent::default()
    }

    /// Stops this side's input (`ic`): nothing more is read. A connection
    /// whose output is already shut is closed (both directions done).
    pub fn shutr(&mut self, ic: &mut Channel, oc: &mut Channel, cx: &mut SiCtx) {
        ic.flags.remove(CfFlags::SHUTR_NOW);
        if ic.flags.contains(CfFlags::SHUTR) {
            return;
        }
        ic.flags.insert(CfFlags::SHUTR);
        ic.rex = ETERNITY;
        match self.end {
            End::Conn(cid) => {
                if oc.flags.contains(CfFlags::SHUTW) {
                    self.close(cx, false);
                } else if let Some(c) = cx.io.conns.get_mut(cid) {
                    c.shutr(&mut cx.io.fds);
                }
            }
            End::Applet { task, .. } => cx.sched.wakeup(task),
            End::None => {}
        }
    }

    /// Shuts this side's output (`oc`): a FIN on a connection, and the
    /// reading side switches to its `*-fin` timeout. If the input was
    /// already shut, the connection is closed instead: a close sends the
    /// FIN and saves the shutdown() call (seeds: si_shutw).
    pub fn shutw(&mut self, ic: &mut Channel, oc: &mut Channel, cx: &mut SiCtx) {
        if oc.flags.contains(CfFlags::SHUTW) {
            return;
        }
        oc.flags.insert(CfFlags::SHUTW);
        oc.wex = ETERNITY;
        if self.fin_to != 0 {
            ic.rto = self.fin_to;
            if !ic.flags.contains(CfFlags::SHUTR) {
                ic.rex = tick_add_ifset(cx.now, self.fin_to);
            }
        }
        match self.end {
            End::Conn(cid) => {
                if ic.flags.contains(CfFlags::SHUTR) {
                    self.close(cx, false);
                } else if let Some(c) = cx.io.conns.get_mut(cid) {
                    c.shutw(&mut cx.io.fds);
                }
            }
            End::Applet { task, .. } => cx.sched.wakeup(task),
            End::None => {}
        }
    }

    /// Closes a connection end and detaches it: with a reset when `abort`
    /// (data may be left unsent) or under `option nolinger`; else a clean
    /// close, which sends the FIN with `shutdown(SHUT_WR)` first (see
    /// [`crate::conn::Connection::sock_shutw_clean`]) as HAProxy's
    /// `si_shutw` does before its close, so that input still unread (a
    /// request that came after the server reset, `SD`) turns the close into
    /// FIN then RST, which the peer reads as the end of the stream. An
    /// applet end is only detached; its owner frees it.
    pub fn close(&mut self, cx: &mut SiCtx, abort: bool) {
        if let End::Conn(cid) = self.end {
            let linger0 = abort || self.flags.contains(SiFlags::NOLINGER);
            if !linger0 && let Some(c) = cx.io.conns.get_mut(cid) {
                c.sock_shutw_clean();
            }
            cx.io.conn_free(cid, linger0);
        }
        self.end = End::None;
    }

    /// Releases a connection end as HAProxy's H1 mux releases a server
    /// connection it does not keep at the end of an HTTP transaction
    /// (`h1_release`): no `shutdown(SHUT_WR)` first; the close sends
    /// close_notify on TLS and resets a server that has not closed
    /// (`LINGER_RISK`), so the server sees RST, not FIN then RST.
    pub fn release(&mut self, cx: &mut SiCtx) {
        if let End::Conn(cid) = self.end {
            cx.io.conn_free(cid, self.flags.contains(SiFlags::NOLINGER));
            self.end = End::None;
        }
    }

    /// Blocked in state CON: true once the connection is established (the
    /// poller reported it writable and `check_connected` cleared
    /// `WAIT_L4_CONN`), false while waiting or after an error.
    pub fn connected(&self, cx: &SiCtx) -> bool {
        self.conn()
            .and_then(|c| cx.io.conns.get(c))
            .is_some_and(|c| !c.flags.intersects(CoFlags::WAIT_L4_CONN | CoFlags::ERROR))
    }
}

/// True when a read could add bytes to `ic` now: its pipe is drained and
/// its buffer (if it has one) has room beyond the rewrite reserve. The same
/// test decides when a producer stops on a full channel and when it may go
/// on.
#[inline]
fn may_read(ic: &Channel, maxrewrite: usize) -> bool {
    ic.pipe_len() == 0 && (ic.buf.is_none() || ic.recv_room(maxrewrite) > 0)
}

/// The producer stops on a full channel: blocked on room, not idle, so the
/// read timeout does not run meanwhile.
#[inline]
fn block_on_room(ic: &mut Channel) {
    ic.flags.insert(CfFlags::FULL);
    ic.rex = ETERNITY;
}

/// True when more of the message being forwarded is known to follow what
/// `oc` holds (a body of known length not read yet), so that a send may go
/// with MSG_MORE: the kernel then builds full segments out of several
/// buffers instead of one per send, as HAProxy does for HTTP messages.
/// Not with `option http-no-delay`, nor for a request head's first send.
#[inline]
fn expects_more(oc: &Channel) -> bool {
    oc.to_forward != 0
        && oc.to_forward != FORWARD_INFINITE
        && !oc
            .flags
            .intersects(CfFlags::NEVER_WAIT | CfFlags::SEND_DONTWAIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::{Id, TaskId};
    use crate::buf::Buffer;
    use crate::conn::{ConnOwner, Connection, IoCtx, Side};
    use crate::task::{Scheduler, TaskKind};
    use std::io::{Read, Write};
    use std::os::fd::IntoRawFd;
    use std::os::unix::net::UnixStream;

    /// An I/O context, a scheduler with the stream's task, and an
    /// established SI over one end of a socketpair (the other end returned).
    fn setup() -> (IoCtx, Scheduler, TaskId, StreamInterface, UnixStream) {
        let mut io = IoCtx::new(64, 16, 4, 65536, true).expect("io");
        let mut sched = Scheduler::new();
        let task = sched.create(TaskKind::Stopper);
        let (a, b) = UnixStream::pair().expect("pair");
        a.set_nonblocking(true).expect("nonblocking");
        let sid = crate::arena::StreamId::from_idx(0);
        let conn = Connection::new(
            a.into_raw_fd(),
            ConnOwner::Stream {
                sid,
                side: Side::Front,
            },
        );
        let cid = io.conn_insert(conn, false).expect("insert");
        let mut si = StreamInterface::new(0, SiState::Ini);
        si.set_state(SiState::Est);
        si.end = End::Conn(cid);
        b.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .expect("timeout");
        (io, sched, task, si, b)
    }

    fn ctx<'a>(io: &'a mut IoCtx, sched: &'a mut Scheduler, task: TaskId) -> SiCtx<'a> {
        SiCtx::new(io, sched, 1000, task)
    }

    #[test]
    fn recv_forwards_what_to_forward_allows_and_wakes_for_the_rest() {
        let (mut io, mut sched, task, mut si, mut peer) = setup();
        let mut cx = ctx(&mut io, &mut sched, task);
        let mut ic = Channel::new();
        ic.to_forward = 4;
        ic.rto = 500;
        peer.write_all(b"abcdefgh").expect("write");
        let r = si.conn_recv(&mut ic, true, &mut cx);
        assert_eq!(r.n, 8);
        assert!(r.wake, "4 bytes wait for the analysers");
        assert_eq!((ic.out_len(), ic.in_len()), (4, 4));
        assert_eq!(ic.rex, 1500);
        assert!(ic.flags.contains(CfFlags::READ_PARTIAL));
        // Fully forwarded data does not wake the stream.
        let mut ic = Channel::new();
        peer.write_all(b"xy").expect("write");
        let r = si.conn_recv(&mut ic, true, &mut cx);
        assert_eq!((r.n, r.wake), (2, false));
        assert_eq!(ic.out_len(), 2);
    }

    #[test]
    fn full_buffer_stops_reading_until_chk_rcv() {
        let (mut io, mut sched, task, mut si, mut peer) = setup();
        let mut cx = ctx(&mut io, &mut sched, task);
        let mut ic = Channel::new();
        ic.rto = 500;
        peer.write_all(&[1u8; 100]).expect("write");
        let r = si.conn_recv(&mut ic, true, &mut cx);
        // 64-byte buffers: full.
        assert_eq!(r.n, 64);
        assert!(ic.flags.contains(CfFlags::FULL));
        assert!(!si.recv_settle(&mut ic, &mut cx), "still full");
        assert_eq!(ic.rex, ETERNITY, "no read timeout while blocked on room");
        let fd = cx.io.conns.get(si.conn().expect("conn")).expect("live").fd;
        assert_eq!(cx.io.fds.pending(fd), (false, false));
        // The consumer takes the output: the producer is enabled again.
        if let Some(b) = ic.buf.as_mut() {
            b.consume(64);
        }
        si.chk_rcv(&mut ic, &mut cx);
        assert!(!ic.flags.contains(CfFlags::FULL));
        assert_eq!(ic.rex, 1500);
        let st = cx.io.fds.get(fd).expect("registered").state;
        assert!(st.contains(crate::fd::FdState::WANT_R));
    }

    #[test]
    fn send_then_pending_shutw_and_fin_timeout() {
        let (mut io, mut sched, task, mut si, mut peer) = setup();
        let mut cx = ctx(&mut io, &mut sched, task);
        si.fin_to = 300;
        let (mut ic, mut oc) = (Channel::new(), Channel::new());
        ic.rex = 1200;
        ic.rto = 200;
        let mut b = Buffer::new(64);
        b.put(b"reply");
        b.advance(5);
        oc.buf = Some(b);
        oc.flags.insert(CfFlags::SHUTW_NOW);
        let s = si.conn_send(&mut ic, &mut oc, &mut cx);
        assert_eq!(
            s,
            Sent { n: 5, wake: false },
            "a half-close needs no stream run"
        );
        assert!(oc.flags.contains(CfFlags::SHUTW));
        assert!(oc.buf.is_none(), "empty buffer released");
        assert_eq!(cx.io.bufs.used, 0);
        assert_eq!((ic.rto, ic.rex), (300, 1300), "client-fin timeout");
        let mut got = Vec::new();
        peer.read_to_end(&mut got).expect("read to FIN");
        assert_eq!(got, b"reply");
        // The socket is half-closed, not closed: the SI still holds it.
        assert!(si.conn().is_some());
    }

    #[test]
    fn a_send_that_fails_on_a_reset_reads_the_reply_first() {
        let (mut io, mut sched, task, mut si, _) = setup();
        // A TCP connection instead of the socketpair: a reset needs TCP.
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let ours = std::net::TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let (mut peer, _) = l.accept().expect("accept");
        ours.set_nonblocking(true).expect("nonblocking");
        let conn = Connection::new(
            ours.into_raw_fd(),
            ConnOwner::Stream {
                sid: crate::arena::StreamId::from_idx(0),
                side: Side::Back,
            },
        );
        si.end = End::Conn(io.conn_insert(conn, false).expect("insert"));
        let mut cx = ctx(&mut io, &mut sched, task);
        let (mut ic, mut oc) = (Channel::new(), Channel::new());
        let out = |oc: &mut Channel| {
            let mut b = Buffer::new(64);
            b.put(&[b'U'; 32]);
            b.advance(32);
            oc.buf = Some(b);
        };
        // The peer answers early and closes with our data unread: a reset.
        out(&mut oc);
        si.conn_send(&mut ic, &mut oc, &mut cx);
        std::thread::sleep(std::time::Duration::from_millis(50));
        peer.write_all(b"413 early").expect("reply");
        drop(peer);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut failed = false;
        for _ in 0..100 {
            out(&mut oc);
            if si.conn_send(&mut ic, &mut oc, &mut cx).wake {
                failed = true;
                break;
            }
        }
        assert!(failed, "a send fails on the reset");
        assert!(oc.flags.contains(CfFlags::WRITE_ERROR));
        assert!(si.flags.contains(SiFlags::ERR));
        let got = ic.buf.as_ref().map(|b| b.len()).unwrap_or(0);
        // The stream closes this side (`stream::errors`) and forwards it.
        assert_eq!(got, 9, "the reply was read before the error was reported");
    }

    #[test]
    fn shutw_with_input_shut_closes_and_shutr_with_output_shut_closes() {
        let (mut io, mut sched, task, mut si, _peer) = setup();
        let mut cx = ctx(&mut io, &mut sched, task);
        let (mut ic, mut oc) = (Channel::new(), Channel::new());
        ic.flags.insert(CfFlags::SHUTR);
        si.shutw(&mut ic, &mut oc, &mut cx);
        assert_eq!(si.end, End::None);
        assert!(cx.io.conns.is_empty());

        let (mut io, mut sched, task, mut si, _peer) = setup();
        let mut cx = ctx(&mut io, &mut sched, task);
        let (mut ic, mut oc) = (Channel::new(), Channel::new());
        si.shutr(&mut ic, &mut oc, &mut cx);
        assert!(ic.flags.contains(CfFlags::SHUTR));
        assert!(si.conn().is_some(), "output still open");
        si.shutw(&mut ic, &mut oc, &mut cx);
        assert_eq!(si.end, End::None);
    }

    #[test]
    fn input_under_analysis_keeps_the_rewrite_reserve_until_an_analyser_makes_room() {
        let (mut io, mut sched, task, mut si, mut peer) = setup();
        let mut cx = ctx(&mut io, &mut sched, task);
        // 64-byte buffers, 16 bytes of reserve; nothing may be forwarded.
        let mut ic = Channel::new();
        ic.to_forward = 0;
        peer.write_all(&[b'h'; 100]).expect("write");
        let r = si.conn_recv(&mut ic, true, &mut cx);
        assert_eq!(r.n, 48, "64 - the 16-byte reserve");
        assert!(r.wake, "the analysers must look");
        // The next read finds no room left but the reserve: blocked.
        si.conn_recv(&mut ic, true, &mut cx);
        assert!(ic.flags.contains(CfFlags::FULL));
        assert!(
            !si.recv_settle(&mut ic, &mut cx),
            "still blocked on the reserve"
        );
        assert!(ic.flags.contains(CfFlags::FULL));
        let fd = cx.io.conns.get(si.conn().expect("conn")).expect("live").fd;
        assert!(
            !cx.io
                .fds
                .get(fd)
                .expect("fd")
                .state
                .contains(crate::fd::FdState::WANT_R)
        );
        // An analyser forwards some: `update` lets the producer read again.
        ic.forward(20);
        if let Some(b) = ic.buf.as_mut() {
            b.consume(20);
        }
        let mut oc = Channel::new();
        si.update(&mut ic, &mut oc, &mut cx);
        assert!(!ic.flags.contains(CfFlags::FULL));
        assert!(
            cx.io
                .fds
                .get(fd)
                .expect("fd")
                .state
                .contains(crate::fd::FdState::WANT_R)
        );
    }

    #[test]
    fn a_splice_that_finds_nothing_gives_its_pipe_back() {
        let (mut io, mut sched, task, mut si, _peer) = setup();
        let mut cx = ctx(&mut io, &mut sched, task);
        let mut ic = Channel::new();
        ic.splice = SpliceMode::Always;
        let r = si.conn_recv(&mut ic, true, &mut cx);
        assert_eq!(r.n, 0);
        assert!(
            ic.pipe.is_none(),
            "an empty pipe stays with an idle channel"
        );
        assert_eq!(cx.io.pipes.used, 0);
    }

    #[test]
    fn applet_end_is_woken_not_written() {
        let mut io = IoCtx::new(64, 16, 4, 65536, true).expect("io");
        let mut sched = Scheduler::new();
        let task = sched.create(TaskKind::Stopper);
        let atask = sched.create(TaskKind::Stopper);
        let mut si = StreamInterface::new(1, SiState::Ini);
        si.end = End::Applet {
            id: crate::arena::AppletId::from_idx(0),
            task: atask,
        };
        let mut cx = ctx(&mut io, &mut sched, task);
        let (mut ic, mut oc) = (Channel::new(), Channel::new());
        assert_eq!(si.chk_snd(&mut ic, &mut oc, &mut cx), Sent::default());
        assert_eq!(cx.sched.pop_runnable(), Some((atask, TaskKind::Stopper)));
        // Room only wakes an applet that asked for it.
        ic.flags.insert(CfFlags::FULL);
        si.chk_rcv(&mut ic, &mut cx);
        assert_eq!(cx.sched.pop_runnable(), None);
        ic.flags.insert(CfFlags::FULL);
        si.flags.insert(SiFlags::WAIT_ROOM);
        si.chk_rcv(&mut ic, &mut cx);
        assert_eq!(cx.sched.pop_runnable(), Some((atask, TaskKind::Stopper)));
    }
}
