//! Stream-interface I/O: the callbacks that move bytes between a stream's
//! connections and its channels, and the shutdown/close verbs.
//!
//! Once both sides are established these run without the stream task: a
//! read fills the channel and immediately tries to send it out on the other
//! side; a send that frees room re-enables reading on the producer. The task
//! is woken only for special conditions (read0, error, shutdown done).

use crate::channel::{CfFlags, FORWARD_INFINITE};
use crate::conn::raw_sock;
use crate::conn::{CoFlags, ConnOwner, Side};
use crate::engine::Engine;
use crate::si::{SiFlags, SiState};
use crate::stream::SpliceMode;
use crate::ticks::{ETERNITY, tick_add_ifset, tick_is_lt, tick_isset};

/// Bytes one read may move (bounded by the buffer or pipe room anyway).
const RECV_BUDGET: usize = 256 * 1024;

/// Read-and-forward rounds per callback before yielding to other fds.
const RECV_ROUNDS: usize = 8;

impl Engine {
    /// I/O callback of a connection fd. `can_r` / `can_w`: the poller says
    /// the fd is wanted and ready in that direction.
    pub fn conn_io(&mut self, cid: usize, can_r: bool, can_w: bool) {
        let Some(conn) = self.conns.get(cid) else {
            return;
        };
        match conn.owner {
            ConnOwner::Stream { sid, side } => {
                if conn.flags.contains(CoFlags::WAIT_L4_CONN) {
                    self.conn_check_connected(cid, sid);
                    return;
                }
                if can_w {
                    self.si_send(sid, side);
                }
                if can_r {
                    self.si_recv(sid, side);
                }
            }
            ConnOwner::Check { .. } => self.check_conn_io(cid, can_r, can_w),
            ConnOwner::Pending { .. } => {
                if can_r {
                    self.handshake_io(cid);
                }
            }
        }
    }

    /// An outgoing connection reported activity while connecting: learn the
    /// result with SO_ERROR and wake the stream either way.
    fn conn_check_connected(&mut self, cid: usize, sid: usize) {
        let Some(conn) = self.conns.get_mut(cid) else {
            return;
        };
        // Writable without error: connected, no need to ask SO_ERROR.
        let polled_err = self
            .fds
            .get(conn.fd)
            .is_none_or(|e| e.state.contains(crate::fd::FdState::ERR));
        let err = if polled_err {
            crate::conn::sock::so_error(conn.fd)
        } else {
            0
        };
        if err == 0 {
            conn.flags.remove(CoFlags::WAIT_L4_CONN);
        } else {
            conn.flags.insert(CoFlags::ERROR);
            conn.errno = err;
            self.fds.stop_recv(conn.fd);
            self.fds.stop_send(conn.fd);
        }
        self.wake_stream(sid);
    }

    /// Wakes a stream's task.
    #[inline]
    pub fn wake_stream(&mut self, sid: usize) {
        if let Some(s) = self.streams.get(sid) {
            self.sched.wakeup(s.task);
        }
    }

    /// Reads from `side`'s connection and forwards, repeating while the
    /// socket still has data and the other side takes it all, up to
    /// `RECV_ROUNDS` rounds: bulk transfers then cost no poll per buffer.
    /// An fd still ready afterwards stays in the poller's active list.
    pub fn si_recv(&mut self, sid: usize, side: Side) {
        for _ in 0..RECV_ROUNDS {
            if !self.si_recv_once(sid, side) {
                break;
            }
        }
    }

    /// One read into `side`'s input channel (buffer, or pipe when
    /// splicing), then an immediate send on the other side. Wakes the stream
    /// on read0 or error. Returns true when another round may make progress.
    fn si_recv_once(&mut self, sid: usize, side: Side) -> bool {
        let Some(s) = self.streams.get_mut(sid) else {
            return false;
        };
        let Some(cid) = s.si[side.idx()].conn() else {
            return false;
        };
        let other_raw = s.si[side.other().idx()]
            .conn()
            .and_then(|c| self.conns.get(c))
            .is_none_or(|c| c.can_splice());
        let Some(conn) = self.conns.get_mut(cid) else {
            return false;
        };
        let fd = conn.fd;
        let mode = s.splice[side.idx()];
        let ic = s.ic(side);
        let splice_ok = self.splice_enabled
            && conn.can_splice()
            && other_raw
            && (mode == SpliceMode::Always
                || (mode == SpliceMode::Auto && ic.flags.contains(CfFlags::STREAMER)));
        if ic.flags.contains(CfFlags::SHUTR) {
            self.fds.stop_recv(fd);
            return false;
        }
        // Forwarding budget: infinite in TCP; an analyser (HTTP body of known
        // length) bounds it so spliced bytes never run past what it allowed.
        let budget = if ic.to_forward == FORWARD_INFINITE {
            RECV_BUDGET
        } else {
            ic.to_forward.min(RECV_BUDGET as u64) as usize
        };
        let use_pipe = splice_ok && budget > 0 && (ic.pipe.is_some() || ic.buf_len() == 0);
        if use_pipe && ic.pipe.is_none() {
            ic.pipe = self.pipes.get();
        }
        let mut st = if let (true, Some(pipe)) = (use_pipe, ic.pipe.as_mut()) {
            let room = self.pipe_room.saturating_sub(pipe.data);
            if room == 0 {
                ic.flags.insert(CfFlags::FULL);
                self.fds.stop_recv(fd);
                // Blocked on room, not idle: no read timeout meanwhile.
                ic.rex = ETERNITY;
                return false;
            }
            let st = raw_sock::rcv_pipe(fd, pipe, room.min(budget));
            ic.spliced += st.n as u64;
            if ic.to_forward != FORWARD_INFINITE {
                ic.to_forward = ic.to_forward.saturating_sub(st.n as u64);
            }
            if st.pipe_full {
                ic.flags.insert(CfFlags::FULL);
                self.fds.stop_recv(fd);
                // Blocked on room, not idle: no read timeout meanwhile.
                ic.rex = ETERNITY;
            }
            st
        } else {
            let buf = ic.buf.get_or_insert_with(|| self.bufs.alloc());
            if buf.room() == 0 {
                ic.flags.insert(CfFlags::FULL);
                self.fds.stop_recv(fd);
                // Blocked on room, not idle: no read timeout meanwhile.
                ic.rex = ETERNITY;
                return false;
            }
            let offered = buf.room();
            let st = raw_sock::rcv_buf(fd, buf, RECV_BUDGET);
            if st.n > 0 && ic.to_forward != FORWARD_INFINITE {
                ic.to_forward = ic.to_forward.saturating_sub(st.n as u64);
            }
            if st.n >= offered {
                ic.flags.insert(CfFlags::STREAMER);
            }
            if let Some(b) = ic.buf.take_if(|b| b.is_empty()) {
                self.bufs.release(b);
            }
            st
        };
        if st.n > 0 {
            ic.total += st.n as u64;
            ic.flags.insert(CfFlags::READ_PARTIAL);
            ic.rex = tick_add_ifset(self.clock.now, ic.rto);
        }
        // The peer's FIN was reported and the socket is drained: the next
        // read would return 0, so take the read0 now and save the syscall.
        if st.drained && !st.read0 && st.error.is_none() && self.fds.rdhup(fd) {
            st.read0 = true;
        }
        let mut wake = false;
        if let Some(e) = st.error {
            conn.flags.insert(CoFlags::ERROR);
            conn.errno = e;
            ic.flags.insert(CfFlags::READ_ERROR);
            s.si[side.idx()].flags.insert(SiFlags::ERR);
            self.fds.stop_recv(fd);
            self.fds.stop_send(fd);
            self.wake_stream(sid);
            return false;
        }
        if st.read0 {
            conn.flags.insert(CoFlags::SOCK_RD_SH);
            ic.flags.insert(CfFlags::READ_NULL | CfFlags::SHUTR);
            ic.rex = ETERNITY;
            self.fds.stop_recv(fd);
            wake = true;
        } else if st.drained {
            self.fds.cant_recv(fd);
        } else if !ic.is_empty() && ic.buf.as_ref().is_some_and(|b| b.room() == 0) {
            ic.flags.insert(CfFlags::FULL);
        }
        // Forward what we got right away.
        if st.n > 0 {
            self.si_send(sid, side.other());
        }
        // Still full after forwarding: stop reading until the consumer makes room.
        let mut more = st.n > 0 && !st.drained && !st.read0;
        if let Some(s) = self.streams.get_mut(sid) {
            let ic = s.ic(side);
            if ic.flags.contains(CfFlags::FULL) {
                let full = ic.buf.as_ref().is_some_and(|b| b.room() == 0) || ic.pipe_len() > 0;
                if full {
                    self.fds.stop_recv(fd);
                    ic.rex = ETERNITY;
                    more = false;
                } else {
                    ic.flags.remove(CfFlags::FULL);
                }
            }
            // Another round only if everything read went out already.
            more &= ic.is_empty();
        } else {
            more = false;
        }
        if wake {
            self.wake_stream(sid);
        }
        more
    }

    /// Sends `side`'s output channel to its connection. Performs a pending
    /// shutw once the channel is empty, re-enables the producer when room
    /// frees up, wakes the stream on error or completed shutdown.
    pub fn si_send(&mut self, sid: usize, side: Side) {
        let Some(s) = self.streams.get(sid) else {
            return;
        };
        if s.si[side.idx()].state() != SiState::Est {
            return;
        }
        let Some(cid) = s.si[side.idx()].conn() else {
            return;
        };
        let Some(conn) = self.conns.get(cid) else {
            return;
        };
        if conn.flags.contains(CoFlags::ERROR) {
            self.fds.stop_send(conn.fd);
            return;
        }
        if conn.flags.contains(CoFlags::WAIT_L4_CONN) {
            return;
        }
        if conn.out_hdr.is_some() && !self.send_out_hdr(sid, side, cid) {
            return;
        }
        let (Some(s), Some(conn)) = (self.streams.get_mut(sid), self.conns.get(cid)) else {
            return;
        };
        let fd = conn.fd;
        let now = self.clock.now;
        let (ic, oc) = s.chans(side);
        let _ = ic;
        if oc.flags.contains(CfFlags::SHUTW) {
            self.fds.stop_send(fd);
            return;
        }
        let mut sent = 0usize;
        let mut blocked = false;
        let mut error = None;
        if let Some(p) = oc.pipe.as_mut()
            && p.data > 0
        {
            let st = raw_sock::snd_pipe(fd, p);
            sent += st.n;
            self.spliced_total += st.n as u64;
            blocked |= st.blocked;
            error = error.or(st.error);
        }
        if error.is_none()
            && !blocked
            && oc.pipe_len() == 0
            && let Some(b) = oc.buf.as_mut()
            && !b.is_empty()
        {
            let st = raw_sock::snd_buf(fd, b, false);
            sent += st.n;
            blocked |= st.blocked;
            error = error.or(st.error);
        }
        let mut wake = false;
        if let Some(e) = error {
            if let Some(c) = self.conns.get_mut(cid) {
                c.flags.insert(CoFlags::ERROR);
                c.errno = e;
            }
            oc.flags.insert(CfFlags::WRITE_ERROR);
            s.si[side.idx()].flags.insert(SiFlags::ERR);
            self.fds.stop_send(fd);
            self.fds.stop_recv(fd);
            self.wake_stream(sid);
            return;
        }
        let (ic, oc) = s.chans(side);
        if sent > 0 {
            oc.flags.insert(CfFlags::WRITE_PARTIAL);
            // Write activity on a side refreshes that side's read timeout.
            if tick_isset(ic.rex) {
                ic.rex = tick_add_ifset(now, ic.rto);
            }
        }
        if blocked {
            self.fds.cant_send(fd);
            self.fds.want_send(fd);
            if !tick_isset(oc.wex) || sent > 0 {
                oc.wex = tick_add_ifset(now, oc.wto);
                let wex = oc.wex;
                if tick_isset(wex) && (!tick_isset(s.exp) || tick_is_lt(wex, s.exp)) {
                    s.exp = wex;
                    self.sched.queue_tick(s.task, wex, &self.clock);
                }
            }
        } else {
            self.fds.stop_send(fd);
            let Some(s) = self.streams.get_mut(sid) else {
                return;
            };
            let oc = s.oc(side);
            oc.wex = ETERNITY;
            if let Some(b) = oc.buf.take_if(|b| b.is_empty()) {
                self.bufs.release(b);
            }
            if oc.pipe.as_ref().is_some_and(|p| p.data == 0)
                && let Some(p) = oc.pipe.take()
            {
                self.pipes.put(p);
            }
            if oc.flags.contains(CfFlags::SHUTW_NOW) && oc.is_empty() {
                self.si_shutw(sid, side);
                wake = true;
            }
        }
        // Room freed: let the producer read again.
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let now = self.clock.now;
        let oc = s.oc(side);
        if sent > 0 && oc.flags.contains(CfFlags::FULL) {
            oc.flags.remove(CfFlags::FULL);
            let producer_open = !oc.flags.contains(CfFlags::SHUTR);
            if producer_open {
                // The producer was blocked on room, not idle: its read
                // timeout starts again now.
                oc.rex = tick_add_ifset(now, oc.rto);
                let rex = oc.rex;
                if tick_isset(rex) && (!tick_isset(s.exp) || tick_is_lt(rex, s.exp)) {
                    s.exp = rex;
                    self.sched.queue_tick(s.task, rex, &self.clock);
                }
            }
            if producer_open
                && let Some(pcid) = s.si[side.other().idx()].conn()
                && let Some(pc) = self.conns.get(pcid)
                && !pc.flags.intersects(CoFlags::WAIT_L4_CONN | CoFlags::ERROR)
            {
                self.fds.want_recv(pc.fd);
            }
        }
        if wake {
            self.wake_stream(sid);
        }
    }

    /// Sends the connection's pending header (PROXY protocol) before any
    /// data. Returns true once it is all out.
    fn send_out_hdr(&mut self, sid: usize, side: Side, cid: usize) -> bool {
        // MSG_MORE only when data follows at once: a server that speaks
        // first must get the header without delay.
        let more = self
            .streams
            .get_mut(sid)
            .is_some_and(|s| !s.oc(side).is_empty());
        let Some(conn) = self.conns.get_mut(cid) else {
            return false;
        };
        let Some(hdr) = conn.out_hdr.as_mut() else {
            return true;
        };
        let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT | if more { libc::MSG_MORE } else { 0 };
        // SAFETY: `hdr` is readable for its length.
        let n = unsafe {
            libc::send(
                conn.fd,
                hdr.as_ptr() as *const libc::c_void,
                hdr.len(),
                flags,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
            if e == libc::EAGAIN {
                self.fds.cant_send(conn.fd);
                self.fds.want_send(conn.fd);
            } else {
                // As any write error: the side errors and the stream decides.
                conn.flags.insert(CoFlags::ERROR);
                conn.errno = e;
                let fd = conn.fd;
                self.fds.stop_send(fd);
                self.fds.stop_recv(fd);
                if let Some(s) = self.streams.get_mut(sid) {
                    s.oc(side).flags.insert(CfFlags::WRITE_ERROR);
                    s.si[side.idx()].flags.insert(SiFlags::ERR);
                }
                self.wake_stream(sid);
            }
            return false;
        }
        hdr.drain(..n as usize);
        if hdr.is_empty() {
            conn.out_hdr = None;
            return true;
        }
        self.fds.cant_send(conn.fd);
        self.fds.want_send(conn.fd);
        false
    }

    /// Shuts the write side of `side`'s connection (FIN), marks the output
    /// channel SHUTW and switches the reading side to its `*-fin` timeout.
    /// If the input was already shut, the connection is closed instead.
    pub fn si_shutw(&mut self, sid: usize, side: Side) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let fin_to = s.fin_timeout(side, &self.proxies);
        let (ic, oc) = s.chans(side);
        if oc.flags.contains(CfFlags::SHUTW) {
            return;
        }
        oc.flags.insert(CfFlags::SHUTW);
        oc.wex = ETERNITY;
        if fin_to != 0 {
            ic.rto = fin_to;
            if !ic.flags.contains(CfFlags::SHUTR) {
                ic.rex = tick_add_ifset(self.clock.now, fin_to);
            }
        }
        let input_done = ic.flags.contains(CfFlags::SHUTR);
        let Some(cid) = s.si[side.idx()].conn() else {
            return;
        };
        if input_done {
            // Nothing more to read on this connection either: a close sends
            // the FIN and saves the shutdown() call (seeds: si_shutw).
            self.si_close(sid, side, false);
            return;
        }
        let Some(conn) = self.conns.get_mut(cid) else {
            return;
        };
        if !conn.flags.contains(CoFlags::SOCK_WR_SH) {
            conn.flags.insert(CoFlags::SOCK_WR_SH | CoFlags::DATA_WR_SH);
            crate::conn::sock::shutdown(conn.fd, libc::SHUT_WR);
        }
        self.fds.stop_send(conn.fd);
    }

    /// Closes `side`'s connection and detaches it. `abort` closes with an RST
    /// when data might be left unsent.
    pub fn si_close(&mut self, sid: usize, side: Side, abort: bool) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let Some(cid) = s.si[side.idx()].conn() else {
            return;
        };
        s.si[side.idx()].end = crate::si::End::None;
        // `option nolinger` closes with an RST on that proxy's side.
        let px = match side {
            Side::Front => Some(s.fe),
            Side::Back => s.be,
        };
        let nolinger = px
            .and_then(|p| self.proxies.get(p))
            .is_some_and(|p| p.opts.nolinger);
        self.conn_free(cid, abort || nolinger);
    }

    /// Closes and frees a connection.
    pub fn conn_free(&mut self, cid: usize, abort: bool) {
        if let Some(conn) = self.conns.try_remove(cid) {
            self.fds.remove(conn.fd);
            if abort && !conn.flags.contains(CoFlags::ERROR) {
                crate::conn::sock::close_rst(conn.fd);
            } else {
                crate::conn::sock::close(conn.fd);
            }
        }
    }

    /// Drops the data pending towards `side` (its output channel).
    pub fn channel_drop(&mut self, sid: usize, side: Side) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let oc = s.oc(side);
        if let Some(b) = oc.buf.take() {
            self.bufs.release(b);
        }
        if let Some(p) = oc.pipe.take() {
            self.pipes.put(p);
        }
    }

    /// Returns every buffer and pipe of a stream to the pools.
    pub fn stream_release_buffers(&mut self, sid: usize) {
        self.channel_drop(sid, Side::Front);
        self.channel_drop(sid, Side::Back);
    }
}

impl crate::stream::Stream {
    /// The timeout that replaces the read timeout of `side` once its output is
    /// shut: `timeout client-fin` on the client, `timeout server-fin` on the
    /// server (configuration.txt 4.2).
    fn fin_timeout(&self, side: Side, proxies: &[crate::proxy::Proxy]) -> u32 {
        match side {
            Side::Front => proxies.get(self.fe).map_or(0, |p| p.timeouts.client_fin),
            Side::Back => self
                .be
                .and_then(|b| proxies.get(b))
                .map_or(0, |p| p.timeouts.server_fin),
        }
    }
}
