//! Stream interfaces: each end of a stream, its connection state machine,
//! and the verbs the stream uses to drive it (`io.rs`).
//!
//! An SI's end is a connection (a socket, through the connection layer) or
//! an applet (a task that reads and writes the channels itself). The back
//! SI goes through the connection states below; the front SI of an accepted
//! connection starts EST.
//!
//! ```text
//!   INI --want conn--> REQ --server assigned--> ASS --connect()--> CON --connected--> EST
//!                      | | \--all full--> QUE --slot--> ASS         | \               |
//!                      | |                 \--timeout--> CLO        |  error/timeout  | both
//!                      | \--applet target--> EST                    v                 | ways shut
//!                      \--no server--> CLO          ASS <--retry-- CER --no retry--> CLO
//!                                                   REQ <--redispatch-/|              ^
//!                                                   TAR <--error------/               |
//!                                      (TAR --delay over--> ASS)      EST --> DIS ----+
//! ```
//!
//! CER is a *past* connection error: the I/O layer never jumps to CLO by
//! itself, the stream decides between a retry (TAR then ASS, or REQ with
//! redispatch) and giving up (CLO). REQ, CER and DIS are transient and never
//! survive a return from `process_stream`.

pub mod io;

use crate::arena::{AppletId, ConnId, TaskId};
use crate::conn::IoCtx;
use crate::task::Scheduler;
use crate::ticks::{ETERNITY, Tick};
use bitflags::bitflags;

/// Stream-interface states (HAProxy's SI_ST_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiState {
    /// Not initialised yet.
    Ini,
    /// A connection is wanted (transient).
    Req,
    /// Waiting in a server or backend queue.
    Que,
    /// Turn-around: waiting before a retry.
    Tar,
    /// A server is assigned, connect() not yet called.
    Ass,
    /// connect() issued, waiting for the connection.
    Con,
    /// A connection error happened (transient).
    Cer,
    /// Connection established.
    Est,
    /// Disconnected, resources to release (transient).
    Dis,
    /// Closed.
    Clo,
}

impl SiState {
    /// HAProxy's three-letter name.
    pub fn name(self) -> &'static str {
        match self {
            SiState::Ini => "INI",
            SiState::Req => "REQ",
            SiState::Que => "QUE",
            SiState::Tar => "TAR",
            SiState::Ass => "ASS",
            SiState::Con => "CON",
            SiState::Cer => "CER",
            SiState::Est => "EST",
            SiState::Dis => "DIS",
            SiState::Clo => "CLO",
        }
    }

    /// True for the edges the state machine may take.
    pub fn edge_allowed(self, to: SiState) -> bool {
        use SiState::*;
        matches!(
            (self, to),
            (Ini, Req)
                | (Ini, Est)
                | (Ini, Clo)
                | (Req, Ass)
                | (Req, Que)
                | (Req, Est)
                | (Req, Clo)
                | (Que, Ass)
                | (Que, Req)
                | (Que, Clo)
                | (Tar, Ass)
                | (Tar, Req)
                | (Tar, Clo)
                | (Ass, Con)
                | (Ass, Cer)
                | (Ass, Clo)
                | (Con, Est)
                | (Con, Cer)
                | (Con, Clo)
                | (Cer, Tar)
                | (Cer, Req)
                | (Cer, Ass)
                | (Cer, Clo)
                | (Est, Dis)
                | (Est, Clo)
                | (Dis, Clo)
                | (Clo, Ini)
        )
    }
}

impl std::fmt::Display for SiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

bitflags! {
    /// Stream-interface flags (HAProxy's SI_FL_*). Set by the I/O verbs
    /// (ERR, WAIT_ROOM) or at set-up by the stream (NOLINGER).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct SiFlags: u16 {
        /// An I/O error was reported on this side.
        const ERR       = 0x0001;
        /// The applet end waits for room in its input channel.
        const WAIT_ROOM = 0x0002;
        /// Close this side with a reset (`option nolinger`).
        const NOLINGER  = 0x0004;
    }
}

/// Why the last connection attempt failed (HAProxy's SI_ET_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrType {
    #[default]
    None,
    /// Queue timeout.
    QueueTo,
    /// Queue error (no slot, aborted).
    QueueErr,
    /// Client aborted while in queue.
    QueueAbrt,
    /// Connect timeout.
    ConnTo,
    /// Connect error (refused, unreachable...).
    ConnErr,
    /// Client aborted during connect.
    ConnAbrt,
    /// Other connection failure (resources).
    ConnOther,
}

/// What a stream-interface end is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    None,
    /// A connection.
    Conn(ConnId),
    /// An applet, driven by its own task.
    Applet {
        id: AppletId,
        task: TaskId,
    },
}

/// What the SI verbs need besides the stream's own parts: the I/O arenas,
/// the scheduler (to wake applets and the stream), the time, and the task
/// of the stream being driven.
pub struct SiCtx<'a> {
    pub io: &'a mut IoCtx,
    pub sched: &'a mut Scheduler,
    pub now: Tick,
    /// The stream's own task.
    pub task: TaskId,
}

impl<'a> SiCtx<'a> {
    /// The context for the stream whose task is `task`, at time `now`.
    #[inline]
    pub fn new(io: &'a mut IoCtx, sched: &'a mut Scheduler, now: Tick, task: TaskId) -> Self {
        SiCtx {
            io,
            sched,
            now,
            task,
        }
    }
}

/// One end of a stream.
#[derive(Debug)]
pub struct StreamInterface {
    state: SiState,
    pub flags: SiFlags,
    pub err_type: ErrType,
    /// Connection attempts left (`retries`).
    pub conn_retries: u32,
    /// Expiry of the current state (connect timeout, turn-around, queue).
    pub exp: Tick,
    pub end: End,
    /// Read timeout of this side once its output is shut (`timeout
    /// client-fin` / `server-fin`), 0 to keep the current one.
    pub fin_to: u32,
    /// Index of the SI for traces (0 front, 1 back).
    idx: u8,
}

impl StreamInterface {
    /// A new SI in `state`.
    pub fn new(idx: u8, state: SiState) -> Self {
        StreamInterface {
            state,
            flags: SiFlags::empty(),
            err_type: ErrType::None,
            conn_retries: 0,
            exp: ETERNITY,
            end: End::None,
            fin_to: 0,
            idx,
        }
    }

    /// CLO -> INI: a closed back SI made ready for the next HTTP request of
    /// a keep-alive client (the next request connects again). Keeps the
    /// `nolinger` and `fin_to` settings of the backend.
    pub fn reset_closed(&mut self, retries: u32) {
        self.set_state(SiState::Ini);
        self.flags &= SiFlags::NOLINGER;
        self.err_type = ErrType::None;
        self.conn_retries = retries;
        self.exp = ETERNITY;
        self.end = End::None;
    }

    /// Any state -> CLO by allowed edges (EST goes through DIS): a back SI
    /// abandoned before or during its connection.
    pub fn force_closed(&mut self) {
        match self.state {
            SiState::Clo => {}
            SiState::Est => {
                self.set_state(SiState::Dis);
                self.set_state(SiState::Clo);
            }
            _ => self.set_state(SiState::Clo),
        }
    }

    /// The current state.
    #[inline]
    pub fn state(&self) -> SiState {
        self.state
    }

    /// The only writer of the state: checks the edge and traces it.
    pub fn set_state(&mut self, to: SiState) {
        debug_assert!(
            self.state.edge_allowed(to),
            "si{} {} -> {} not allowed",
            self.idx,
            self.state,
            to
        );
        log::trace!("si{} {} -> {}", self.idx, self.state, to);
        self.state = to;
    }

    /// The attached connection id, if any.
    #[inline]
    pub fn conn(&self) -> Option<ConnId> {
        match self.end {
            End::Conn(c) => Some(c),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_path_edges() {
        let mut si = StreamInterface::new(1, SiState::Ini);
        for s in [
            SiState::Req,
            SiState::Ass,
            SiState::Con,
            SiState::Cer,
            SiState::Tar,
            SiState::Ass,
            SiState::Con,
            SiState::Est,
            SiState::Dis,
            SiState::Clo,
        ] {
            si.set_state(s);
            assert_eq!(si.state(), s);
        }
    }

    #[test]
    fn forbidden_edges() {
        assert!(!SiState::Ini.edge_allowed(SiState::Con));
        assert!(!SiState::Clo.edge_allowed(SiState::Est));
        assert!(!SiState::Est.edge_allowed(SiState::Con));
        assert!(!SiState::Que.edge_allowed(SiState::Est));
        assert!(SiState::Que.edge_allowed(SiState::Ass));
        assert!(SiState::Cer.edge_allowed(SiState::Req));
        // An applet target is established without connecting.
        assert!(SiState::Req.edge_allowed(SiState::Est));
    }

    #[test]
    fn names() {
        assert_eq!(SiState::Tar.to_string(), "TAR");
        assert_eq!(SiState::Cer.name(), "CER");
    }
}
