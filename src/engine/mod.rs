//! The engine: every arena, the event loop, and the glue between layers.
//!
//! One loop turn:
//! ```text
//!   poll(timeout: 0 if work is pending, else until the next timer)
//!     -> readiness merged into the fd table, wanted+ready fds go active
//!   I/O callbacks for active fds (listeners accept, connections move data)
//!   expired timers -> run queue
//!   run queue (streams: process_stream), bounded per turn
//! ```
//! The engine owns one slab per entity kind; everything else holds ids.

pub mod accept;
pub mod signals;

use crate::buf::BufPool;
use crate::buf::pipe::PipePool;
use crate::cfg::model::Config;
use crate::conn::Connection;
use crate::fd::{FdOwner, FdTab};
use crate::listener::Listener;
use crate::log::Logger;
use crate::proxy::Proxy;
use crate::stream::Stream;
use crate::task::{Scheduler, TaskKind};
use crate::ticks::Clock;
use slab::Slab;
use std::os::fd::RawFd;

/// Pipe size used when `tune.pipesize` is not set.
pub const DEFAULT_PIPESIZE: usize = 256 * 1024;

/// Socket tuning from `global`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tune {
    pub rcvbuf_client: usize,
    pub rcvbuf_server: usize,
    pub sndbuf_client: usize,
    pub sndbuf_server: usize,
    pub maxaccept: i32,
}

/// Process-wide counters (stats `show info`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub cum_conns: u64,
    pub bytes_out: u64,
}

/// The engine.
pub struct Engine {
    pub clock: Clock,
    pub fds: FdTab,
    pub sched: Scheduler,
    pub conns: Slab<Connection>,
    pub streams: Slab<Stream>,
    pub bufs: BufPool,
    pub pipes: PipePool,
    /// Bytes a pipe may hold before the producer pauses.
    pub pipe_room: usize,
    pub splice_enabled: bool,
    pub proxies: Vec<Proxy>,
    pub listeners: Vec<Listener>,
    pub tune: Tune,
    /// Global maxconn and current connections.
    pub maxconn: u32,
    pub actconn: u32,
    pub counters: Counters,
    pub spliced_total: u64,
    pub logger: Logger,
    /// Soft-stop in progress: no listener, exit when the last stream ends.
    pub stopping: bool,
    /// Hard stop requested: leave the loop now.
    pub exit_now: bool,
    /// The signal that asked for the hard stop (the process dies by it).
    pub exit_signal: Option<libc::c_int>,
    /// Deadline (monotonic ms) set by hard-stop-after.
    pub hard_stop_at: Option<u64>,
    pub hard_stop_after: u32,
    pub grace: u32,
    /// `stats timeout` in ms.
    pub stats_timeout: u32,
    /// Next idle sweep of stats sessions (monotonic ms).
    pub next_cli_sweep: u64,
    /// Some listener is paused on a limit or a resource error.
    pub listeners_full: bool,
    /// Next retry of paused listeners (monotonic ms).
    pub next_resume: u64,
    /// `-d`: print connection events on stderr as HAProxy's debug mode does.
    pub debug: bool,
    /// Streams created so far (their `uniq_id`).
    pub stream_seq: u32,
    /// SIGUSR1 received, soft stop waiting for `grace` to elapse.
    pub grace_pending: bool,
    pub signal_fd: RawFd,
    /// Global log targets (for process messages).
    pub global_logs: Vec<crate::cfg::model::LogCfg>,
    /// Stats-socket sessions.
    pub clis: Slab<crate::cli::CliSession>,
    /// Process start (seconds since the epoch).
    pub start_time: i64,
    /// Scratch list for the active fds of a turn.
    active: Vec<RawFd>,
}

impl Engine {
    /// Builds the run-time engine from a checked config. Binds nothing yet.
    pub fn new(
        cfg: &Config,
        maxconn: u32,
        default_pxconn: u32,
        nosplice: bool,
    ) -> std::io::Result<Self> {
        let g = &cfg.global;
        let mut proxies: Vec<Proxy> = cfg
            .proxies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Proxy::from_cfg(
                    p,
                    p.id.unwrap_or(i as u32 + 2),
                    &g.logs,
                    if default_pxconn > 0 {
                        default_pxconn
                    } else {
                        maxconn
                    },
                )
            })
            .collect();
        for (i, p) in cfg.proxies.iter().enumerate() {
            let target = p
                .use_backends
                .first()
                .map(|(n, _)| n.as_str())
                .or(p.default_backend.as_ref().map(|(n, _)| n.as_str()));
            proxies[i].default_backend = match target {
                Some(n) => cfg.find_backend(n),
                None if p.cap.be => Some(i),
                None => None,
            };
        }
        let maxpipes = if g.maxpipes > 0 {
            g.maxpipes as usize
        } else {
            (maxconn as usize / 4).max(1)
        };
        // Without tune.pipesize, pipes are enlarged so that one splice moves
        // more per call (fewer syscalls and wake-ups on both ends).
        let pipesize = if g.tune_pipesize > 0 {
            g.tune_pipesize
        } else {
            DEFAULT_PIPESIZE
        };
        let mut hostname = g.log_send_hostname.clone();
        if hostname.as_deref() == Some("") {
            hostname = None;
        }
        Ok(Engine {
            clock: Clock::new(),
            fds: FdTab::new()?,
            sched: Scheduler::new(),
            conns: Slab::with_capacity(1024),
            streams: Slab::with_capacity(512),
            bufs: BufPool::new(g.tune_bufsize, 4096),
            pipes: PipePool::new(maxpipes, pipesize),
            pipe_room: pipesize,
            splice_enabled: !nosplice && !g.nosplice,
            proxies,
            listeners: Vec::new(),
            tune: Tune {
                rcvbuf_client: g.tune_rcvbuf_client,
                rcvbuf_server: g.tune_rcvbuf_server,
                sndbuf_client: g.tune_sndbuf_client,
                sndbuf_server: g.tune_sndbuf_server,
                maxaccept: g.tune_maxaccept,
            },
            maxconn,
            actconn: 0,
            counters: Counters::default(),
            spliced_total: 0,
            logger: Logger::new(g.log_tag.as_deref().unwrap_or("haproxy"), hostname),
            stopping: false,
            exit_now: false,
            exit_signal: None,
            hard_stop_at: None,
            hard_stop_after: g.hard_stop_after,
            grace: g.grace,
            grace_pending: false,
            debug: false,
            stream_seq: 0,
            stats_timeout: g.stats_timeout,
            next_cli_sweep: 0,
            listeners_full: false,
            next_resume: 0,
            signal_fd: -1,
            global_logs: g.logs.clone(),
            clis: Slab::new(),
            start_time: crate::log::wall_now().0,
            active: Vec::with_capacity(256),
        })
    }

    /// Registers the bound listeners with the poller and starts accepting.
    pub fn start_listeners(&mut self) -> std::io::Result<()> {
        for i in 0..self.listeners.len() {
            let fd = self.listeners[i].fd;
            self.fds.insert(fd, FdOwner::Listener(i))?;
            self.fds.want_recv(fd);
            self.fds.may_recv(fd);
        }
        Ok(())
    }

    /// True while something keeps the process alive.
    fn has_jobs(&self) -> bool {
        !self.stopping || !self.streams.is_empty()
    }

    /// Runs the event loop until a stop completes.
    pub fn run(&mut self) {
        let mut active = std::mem::take(&mut self.active);
        while !self.exit_now && self.has_jobs() {
            // 1. Poll: don't sleep if work is already pending.
            let mut timeout = if self.fds.has_active() || self.sched.has_runnable() {
                0
            } else {
                match self.sched.next_expiry(self.clock.now_abs) {
                    // Round up so a sub-millisecond timer cannot spin.
                    Some(ms) => ms.min(60_000) as i32,
                    None => 60_000,
                }
            };
            if self.listeners_full {
                // A listener paused on a resource error (EMFILE...) is
                // retried every 100 ms even if no stream ends meanwhile.
                timeout = timeout.min(100);
                if self.clock.now_abs >= self.next_resume {
                    self.next_resume = self.clock.now_abs + 100;
                    self.resume_listeners();
                    self.listeners_full = self
                        .listeners
                        .iter()
                        .any(|l| l.state == crate::listener::LiState::Full);
                }
            }
            if !self.clis.is_empty() {
                // Stats sessions are swept for idleness once a second.
                timeout = timeout.min(1000);
                if self.clock.now_abs >= self.next_cli_sweep {
                    self.next_cli_sweep = self.clock.now_abs + 1000;
                    self.cli_sweep();
                }
            }
            self.fds.poll(timeout);
            self.clock.update();
            // 2. I/O callbacks.
            self.fds.take_active(&mut active);
            for &fd in active.iter() {
                let (r, w) = self.fds.pending(fd);
                if !r && !w {
                    continue;
                }
                match self.fds.owner(fd) {
                    FdOwner::Conn(cid) => self.conn_io(cid, r, w),
                    FdOwner::Listener(li) => self.accept_loop(li),
                    FdOwner::Signal => self.handle_signals(),
                    FdOwner::Cli(id) => self.cli_io(id, r, w),
                    FdOwner::None => {}
                }
                self.fds.requeue(fd);
            }
            // 3. Timers, then runnable tasks (bounded per turn).
            self.sched.wake_expired(self.clock.now_abs);
            let mut budget = self.sched.runq_len().max(200);
            while budget > 0 {
                budget -= 1;
                let Some((tid, kind)) = self.sched.pop_runnable() else {
                    break;
                };
                match kind {
                    TaskKind::Stream(sid) => self.process_stream(sid),
                    TaskKind::Stopper => self.stopper_task(tid),
                    TaskKind::Handshake(cid) => self.handshake_timeout(tid, cid),
                    TaskKind::Check(px, srv) => self.process_check(tid, px, srv),
                }
            }
        }
        self.active = active;
    }

    /// Total streams queued on backends (for logs).
    pub fn queued_total(&self, be: usize) -> u32 {
        self.proxies.get(be).map_or(0, |p| p.total_queued() as u32)
    }
}
