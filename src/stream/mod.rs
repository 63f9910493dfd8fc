//! Streams: a client connection, its server connection, and the two channels
//! between them.
//!
//! `process_stream` is the stream task: it checks timeouts, drives the back
//! stream interface through its state machine (one handler per state, see
//! `backend.rs`), propagates shutdowns from one side to the other, and when
//! both ends are closed logs the stream and frees it. Once both ends are
//! established the I/O callbacks (`io.rs`) forward data on their own and only
//! wake the task for special conditions: read0, errors, a finished shutdown,
//! a connection result, or a timer.

pub mod backend;
pub mod io;

use crate::channel::{CfFlags, Channel};
use crate::conn::Side;
use crate::engine::Engine;
use crate::si::{SiState, StreamInterface};
use crate::task::TaskId;
use crate::ticks::{ETERNITY, Tick, tick_first, tick_is_expired};
use bitflags::bitflags;
use std::net::SocketAddr;

bitflags! {
    /// Stream flags (HAProxy's SF_*).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct SfFlags: u32 {
        /// A server is assigned and its `cur_sess` counts this stream.
        const CURR_SESS  = 0x0001;
        /// A server was assigned (by LB or by the queue).
        const ASSIGNED   = 0x0002;
        /// The stream was redispatched to another server.
        const REDISP     = 0x0004;
        /// The stream is in a queue.
        const QUEUED     = 0x0008;
        /// The backend connection count includes this stream.
        const BE_ASSIGNED = 0x0010;
        /// The stream was counted in the frontend/global connection counts.
        const COUNTED    = 0x0020;
    }
}

/// Where the stream was when it ended (2nd termination char).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Finst {
    #[default]
    None,
    Queue,
    Connect,
    Data,
    Last,
}

impl Finst {
    /// The log character.
    pub fn ch(self) -> char {
        match self {
            Finst::None => '-',
            Finst::Queue => 'Q',
            Finst::Connect => 'C',
            Finst::Data => 'D',
            Finst::Last => 'L',
        }
    }
}

/// When a direction may use splice(2) (configuration.txt 4.2, option splice-*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpliceMode {
    /// Never: data goes through buffers.
    #[default]
    Off,
    /// `option splice-auto`: once reads fill whole buffers (a bulk transfer).
    Auto,
    /// `option splice-request` / `splice-response`: always.
    Always,
}

/// A stream.
pub struct Stream {
    pub task: TaskId,
    /// Frontend index.
    pub fe: usize,
    /// Backend index, once chosen.
    pub be: Option<usize>,
    /// Server index in the backend, once assigned.
    pub srv: Option<usize>,
    /// Previous server (to avoid it on redispatch).
    pub prev_srv: Option<usize>,
    /// The last server a connection was attempted to (for the logs).
    pub last_srv: Option<usize>,
    pub listener: usize,
    pub req: Channel,
    pub res: Channel,
    pub si: [StreamInterface; 2],
    pub flags: SfFlags,
    pub cli_addr: Option<SocketAddr>,
    pub frt_addr: Option<SocketAddr>,
    /// Expiry the task is queued with (to requeue only when it moves earlier).
    pub exp: Tick,
    /// 1st termination char ('-' normal).
    pub err: char,
    pub finst: Finst,
    /// Splice policy for each direction (req, res).
    pub splice: [SpliceMode; 2],
    // Timing (monotonic ms) for the logs.
    pub t_accept: u64,
    pub accept_date: (i64, u32),
    pub t_queue: Option<u64>,
    pub t_dequeue: Option<u64>,
    pub t_connect: Option<u64>,
    pub queue_pos: (u32, u32),
    pub retries_done: u32,
    /// Times process_stream ran (`show sess` calls).
    pub calls: u32,
    /// Unique stream number (debug output, logs).
    pub uniq_id: u32,
    /// Client and server fds, kept for the `-d` event lines.
    pub dbg_fds: (i32, i32),
}

impl Stream {
    /// The channel a side reads into: the client fills `req`, the server `res`.
    #[inline]
    pub fn ic(&mut self, side: Side) -> &mut Channel {
        match side {
            Side::Front => &mut self.req,
            Side::Back => &mut self.res,
        }
    }

    /// The channel a side writes out of.
    #[inline]
    pub fn oc(&mut self, side: Side) -> &mut Channel {
        match side {
            Side::Front => &mut self.res,
            Side::Back => &mut self.req,
        }
    }

    /// Both channels as (ic, oc) for a side.
    #[inline]
    pub fn chans(&mut self, side: Side) -> (&mut Channel, &mut Channel) {
        match side {
            Side::Front => (&mut self.req, &mut self.res),
            Side::Back => (&mut self.res, &mut self.req),
        }
    }

    /// Records the termination cause once (the first cause wins).
    pub fn set_term(&mut self, err: char, finst: Finst) {
        if self.err == '-' {
            self.err = err;
        }
        if self.finst == Finst::None {
            self.finst = finst;
        }
    }

    /// True when the client errored, or closed with nothing left to
    /// forward: a connection attempt or queue wait for it is pointless
    /// (HAProxy aborts then, logging `CC` / `CQ`).
    pub fn client_gave_up(&self) -> bool {
        self.si[0].flags.contains(crate::si::SiFlags::ERR)
            || (self.req.flags.contains(CfFlags::SHUTR) && self.req.is_empty())
    }

    /// The phase the stream is in, for the termination state.
    pub fn phase(&self) -> Finst {
        match self.si[1].state() {
            SiState::Que => Finst::Queue,
            SiState::Ini
            | SiState::Req
            | SiState::Tar
            | SiState::Ass
            | SiState::Con
            | SiState::Cer => Finst::Connect,
            // 'L': the server side is fully closed, we were still sending the
            // last data to the client.
            SiState::Dis | SiState::Clo if self.t_connect.is_some() => Finst::Last,
            _ => Finst::Data,
        }
    }
}

/// How many state-machine rounds one `process_stream` call may run before
/// the stream is considered stuck and ended with an internal error.
const MAX_LOOPS: u32 = 100;

impl Engine {
    /// The stream task. Precondition: `sid` is a live stream. Runs until its
    /// state is stable, then either re-arms the task timer or, when both ends
    /// are closed, logs and frees the stream.
    pub fn process_stream(&mut self, sid: usize) {
        let now = self.clock.now;
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        s.calls = s.calls.wrapping_add(1);
        // 1. Timers become flags.
        for (c, _) in [(&mut s.req, 0), (&mut s.res, 1)] {
            if !c.flags.contains(CfFlags::SHUTR) && tick_is_expired(c.rex, now) {
                c.flags.insert(CfFlags::READ_TIMEOUT);
                c.rex = ETERNITY;
            }
            if !c.flags.contains(CfFlags::SHUTW) && tick_is_expired(c.wex, now) {
                c.flags.insert(CfFlags::WRITE_TIMEOUT);
                c.wex = ETERNITY;
            }
        }
        let mut loops = 0;
        loop {
            loops += 1;
            if loops > MAX_LOOPS {
                log::error!("stream {sid}: state machine did not settle, aborting it");
                if let Some(s) = self.streams.get_mut(sid) {
                    s.set_term('I', s.phase());
                }
                self.abort_stream(sid);
                break;
            }
            let before = self.stream_fingerprint(sid);
            self.check_front_side(sid);
            self.update_back_si(sid);
            self.propagate_shutdowns(sid);
            if self.stream_fingerprint(sid) == before {
                break;
            }
        }
        let Some(s) = self.streams.get(sid) else {
            return;
        };
        if s.si[0].state() == SiState::Clo && s.si[1].state() == SiState::Clo {
            self.stream_free(sid);
            return;
        }
        debug_assert!(!matches!(
            s.si[1].state(),
            SiState::Req | SiState::Cer | SiState::Dis
        ));
        self.stream_requeue(sid);
    }

    /// A summary that changes whenever something the loop acts on changes.
    fn stream_fingerprint(&self, sid: usize) -> (SiState, SiState, u32, u32, bool, bool) {
        match self.streams.get(sid) {
            Some(s) => (
                s.si[0].state(),
                s.si[1].state(),
                s.req.flags.bits(),
                s.res.flags.bits(),
                s.req.is_empty(),
                s.res.is_empty(),
            ),
            None => (SiState::Clo, SiState::Clo, 0, 0, true, true),
        }
    }

    /// Re-arms the stream task timer with its earliest deadline.
    pub fn stream_requeue(&mut self, sid: usize) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let mut exp = tick_first(
            tick_first(s.req.rex, s.req.wex),
            tick_first(s.res.rex, s.res.wex),
        );
        exp = tick_first(exp, s.si[1].exp);
        s.exp = exp;
        let task = s.task;
        self.sched.queue_tick(task, exp, &self.clock);
    }

    /// Client-side errors and timeouts: the client aborts or times out.
    fn check_front_side(&mut self, sid: usize) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let front_est = s.si[0].state() == SiState::Est;
        let back_est = s.si[1].state() == SiState::Est;
        if !front_est && !back_est {
            return;
        }
        let front_err = front_est && s.si[0].flags.contains(crate::si::SiFlags::ERR);
        let srv_err = back_est && s.si[1].flags.contains(crate::si::SiFlags::ERR);
        // Write timeouts: the peer stopped reading; nothing can progress.
        let cli_wto = front_est && s.res.flags.contains(CfFlags::WRITE_TIMEOUT);
        let srv_wto = back_est && s.req.flags.contains(CfFlags::WRITE_TIMEOUT);
        if front_err || cli_wto {
            let ph = s.phase();
            s.set_term(if front_err { 'C' } else { 'c' }, ph);
            self.abort_stream(sid);
            return;
        }
        if srv_err || srv_wto {
            let ph = s.phase();
            s.set_term(if srv_err { 'S' } else { 's' }, ph);
            self.abort_stream(sid);
            return;
        }
        // Read timeouts shut only the side that went idle, as a read0
        // would: its FIN goes to the other side, the other direction goes
        // on (configuration.txt 4.2, timeout client / timeout server).
        for side in [Side::Front, Side::Back] {
            let Some(s) = self.streams.get_mut(sid) else {
                return;
            };
            if (side == Side::Back && !back_est) || (side == Side::Front && !front_est) {
                continue;
            }
            let ph = s.phase();
            let ic = s.ic(side);
            if ic.flags.contains(CfFlags::READ_TIMEOUT) && !ic.flags.contains(CfFlags::SHUTR) {
                ic.flags.insert(CfFlags::SHUTR);
                ic.rex = ETERNITY;
                s.set_term(if side == Side::Front { 'c' } else { 's' }, ph);
                if let Some(fd) = s.si[side.idx()]
                    .conn()
                    .and_then(|c| self.conns.get(c))
                    .map(|c| c.fd)
                {
                    self.fds.stop_recv(fd);
                }
            }
        }
    }

    /// Ends both sides now: buffered data is dropped, connections closed,
    /// the server slot and queue position released. Front and back go CLO.
    pub fn abort_stream(&mut self, sid: usize) {
        for side in [Side::Front, Side::Back] {
            self.si_close(sid, side, false);
        }
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        for c in [&mut s.req, &mut s.res] {
            c.flags.insert(CfFlags::SHUTR | CfFlags::SHUTW);
            c.rex = ETERNITY;
            c.wex = ETERNITY;
        }
        s.si[1].exp = ETERNITY;
        self.stream_release_buffers(sid);
        self.queue_remove(sid);
        self.release_server(sid);
        if let Some(s) = self.streams.get_mut(sid) {
            let st = s.si[1].state();
            if st != SiState::Clo {
                match st {
                    SiState::Est => {
                        s.si[1].set_state(SiState::Dis);
                        s.si[1].set_state(SiState::Clo);
                    }
                    SiState::Ini
                    | SiState::Req
                    | SiState::Que
                    | SiState::Tar
                    | SiState::Ass
                    | SiState::Con
                    | SiState::Cer => s.si[1].set_state(SiState::Clo),
                    SiState::Dis => s.si[1].set_state(SiState::Clo),
                    SiState::Clo => {}
                }
            }
            if s.si[0].state() == SiState::Est {
                s.si[0].set_state(SiState::Dis);
                s.si[0].set_state(SiState::Clo);
            }
        }
    }

    /// Shutdown propagation and the end of each side.
    ///
    /// - input shut on a channel (read0) => shut its output once empty
    ///   (half-close kept: the other direction goes on);
    /// - output shut => the reading side's timeout becomes client-fin /
    ///   server-fin;
    /// - a side whose input and output are both shut is closed.
    fn propagate_shutdowns(&mut self, sid: usize) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let back_est = s.si[1].state() == SiState::Est;
        // Request: client -> server.
        if s.req.flags.contains(CfFlags::SHUTR) && !s.req.flags.contains(CfFlags::SHUTW_NOW) {
            s.req.flags.insert(CfFlags::SHUTW_NOW);
        }
        if s.res.flags.contains(CfFlags::SHUTR) && !s.res.flags.contains(CfFlags::SHUTW_NOW) {
            s.res.flags.insert(CfFlags::SHUTW_NOW);
        }
        // The back side never connected and is closed: nothing will consume req.
        if s.si[1].state() == SiState::Clo && !s.req.flags.contains(CfFlags::SHUTW) {
            s.req.flags.insert(CfFlags::SHUTW | CfFlags::SHUTR);
            s.res.flags.insert(CfFlags::SHUTR | CfFlags::SHUTW_NOW);
            if s.req.buf.is_some() || s.req.pipe.is_some() {
                self.channel_drop(sid, Side::Back);
            }
        }
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let need_req_shutw = back_est
            && s.req.flags.contains(CfFlags::SHUTW_NOW)
            && !s.req.flags.contains(CfFlags::SHUTW)
            && s.req.is_empty();
        let need_res_shutw = s.si[0].state() == SiState::Est
            && s.res.flags.contains(CfFlags::SHUTW_NOW)
            && !s.res.flags.contains(CfFlags::SHUTW)
            && s.res.is_empty();
        if need_req_shutw {
            self.si_shutw(sid, Side::Back);
        }
        if need_res_shutw {
            self.si_shutw(sid, Side::Front);
        }
        // Close each side that is done both ways.
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        if s.si[0].state() == SiState::Est
            && s.req.flags.contains(CfFlags::SHUTR)
            && s.res.flags.contains(CfFlags::SHUTW)
        {
            self.si_close(sid, Side::Front, false);
            if let Some(s) = self.streams.get_mut(sid) {
                s.si[0].set_state(SiState::Dis);
                s.si[0].set_state(SiState::Clo);
            }
        }
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        if s.si[1].state() == SiState::Est
            && s.res.flags.contains(CfFlags::SHUTR)
            && s.req.flags.contains(CfFlags::SHUTW)
        {
            s.si[1].set_state(SiState::Dis);
            self.si_close(sid, Side::Back, false);
            self.release_server(sid);
            if let Some(s) = self.streams.get_mut(sid) {
                s.si[1].set_state(SiState::Clo);
            }
        }
        // Safety nets once the client side is closed: whatever the server
        // still sends has nowhere to go, so the response direction ends too.
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        if s.si[0].state() == SiState::Clo
            && s.si[1].state() == SiState::Est
            && s.res.flags.contains(CfFlags::SHUTR)
        {
            // Response has nowhere to go; drop it.
            s.res.flags.insert(CfFlags::SHUTW);
        }
        if s.si[0].state() == SiState::Clo
            && s.si[1].state() == SiState::Est
            && !s.res.flags.contains(CfFlags::SHUTR)
            && s.req.flags.contains(CfFlags::SHUTW)
        {
            // The client is gone and our FIN reached the server: stop reading
            // the server side too.
            s.res.flags.insert(CfFlags::SHUTR | CfFlags::SHUTW);
        }
    }
}
