//! The engine: it owns every arena and runs the event loop; the layers'
//! handlers borrow only the arenas they need from it.
//!
//! One loop turn:
//! ```text
//!   poll(timeout: 0 if work is pending, else until the next timer)
//!     -> readiness merged into the fd table, wanted+ready fds go active
//!   I/O callbacks for active fds: listeners accept, connections go to
//!     their owner (handshake, stream, check)
//!   expired timers -> run queue
//!   run queue (streams, applets, checks), bounded per turn
//! ```
//!
//! | arena / state | owner of the entries | borrowed by |
//! |---|---|---|
//! | `io` ([`IoCtx`]: fds, connections, buffer and pipe pools) | connection layer | SI verbs, checks, handshakes |
//! | `streams`, `pends` (queue entries), `applets` | stream layer | `process_stream`, applets |
//! | `proxies`, `listeners` | configuration, counters | LB, logs, stats |

pub mod accept;
pub mod conn_rules;
pub mod keepalive;
pub mod signals;

use crate::applet::Applet;
use crate::arena::{AppletId, Arena, ConnId, PendId};
use crate::cfg::model::Config;
use crate::conn::{ConnOwner, IoCtx, SockTune};
use crate::fd::FdOwner;
use crate::listener::Listener;
use crate::log::Logger;
use crate::proxy::Proxy;
use crate::stream::queue::PendConn;
use crate::stream::{Stream, StreamCtx, StreamId};
use crate::task::{Scheduler, TaskKind};
use crate::ticks::Clock;
use std::os::fd::RawFd;

/// Pipe size used when `tune.pipesize` is not set.
pub const DEFAULT_PIPESIZE: usize = 256 * 1024;

/// HAProxy's default `tune.maxrewrite` (configuration.txt 3.2).
pub const DEFAULT_MAXREWRITE: usize = 1024;

/// Process-wide counters (stats `show info`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub cum_conns: u64,
    pub bytes_out: u64,
}

/// The engine.
pub struct Engine {
    pub clock: Clock,
    /// Poller, connections, buffer and pipe pools.
    pub io: IoCtx,
    pub sched: Scheduler,
    pub streams: Arena<StreamId, Stream>,
    pub applets: Arena<AppletId, Applet>,
    /// Queue entries of streams waiting for a server slot.
    pub pends: Arena<PendId, PendConn>,
    pub proxies: Vec<Proxy>,
    pub listeners: Vec<Listener>,
    /// The internal frontend of the stats sockets (`GLOBAL`).
    pub cli_fe: usize,
    /// `tune.maxaccept`.
    pub maxaccept: i32,
    /// Global maxconn and current connections.
    pub maxconn: u32,
    /// The fds budgeted at boot (`show info` Maxsock; 0: not computed,
    /// the fd limit is shown instead).
    pub maxsock: u64,
    /// The fd limit as 2.6 reports it (`show info` Ulimit-n; 0: read it).
    pub ulimit_n: u64,
    pub actconn: u32,
    pub counters: Counters,
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
    /// Some listener is paused on a limit or a resource error.
    pub listeners_full: bool,
    /// Next retry of paused listeners (monotonic ms).
    pub next_resume: u64,
    /// `-d`: print connection events on stderr as HAProxy's debug mode does.
    pub debug: bool,
    /// Streams created so far (their `uniq_id`).
    pub stream_seq: u32,
    /// Streams of the stats sockets (they do not keep a stopping process
    /// alive).
    pub cli_streams: usize,
    /// Accepted connections still running their handshake handlers (they
    /// keep a stopping process alive, as HAProxy's embryonic sessions do).
    pub handshakes: usize,
    /// Parked keep-alive client connections (they keep a stopping
    /// process alive until their next request or their timer).
    pub parked: usize,
    /// SIGUSR1 received, soft stop waiting for `grace` to elapse.
    pub grace_pending: bool,
    pub signal_fd: RawFd,
    /// Global log targets (for process messages).
    pub global_logs: Vec<crate::cfg::model::LogCfg>,
    /// Process start (seconds since the epoch).
    pub start_time: i64,
    /// Scratch list for the active fds of a turn.
    active: Vec<RawFd>,
    /// The HTTP analysers' scratch space.
    pub http: crate::http::HttpScratch,
    /// ACLs, maps and pattern files (the CLI edits them at run time).
    pub rules: crate::rules::store::RuleStore,
    /// Rule evaluation's reusable buffers and the process variables.
    pub rx: crate::stream::rules_env::RuleScratch,
    /// Set in the master process (master-worker mode).
    pub master: Option<Box<crate::master::Master>>,
    /// The process's exit status once the loop ends.
    pub exit_code: i32,
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
            let rules: Vec<crate::proxy::SwitchRule> = p
                .use_backends
                .iter()
                .map(|u| crate::proxy::SwitchRule {
                    be: if u.dynamic.is_some() {
                        None
                    } else {
                        cfg.find_backend(&u.name)
                    },
                    dynamic: u.dynamic.clone(),
                    cond: u.cond.clone(),
                })
                .collect();
            proxies[i].switch_rules = std::rc::Rc::new(rules);
            let target = p.default_backend.as_ref().map(|(n, _)| n.as_str());
            proxies[i].default_backend = match target {
                Some(n) => cfg.find_backend(n),
                None if p.cap.be => Some(i),
                None => None,
            };
        }
        let cli_fe = proxies.len();
        proxies.push(Proxy::cli_frontend(g.stats_timeout));
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
        let mut io = IoCtx::new(
            g.tune_bufsize,
            // Readjusted to half a buffer when larger (configuration.txt
            // 3.2, tune.maxrewrite).
            g.tune_maxrewrite
                .unwrap_or(DEFAULT_MAXREWRITE)
                .min(g.tune_bufsize / 2),
            maxpipes,
            pipesize,
            !nosplice && !g.nosplice,
        )?;
        io.tune = SockTune {
            rcvbuf_client: g.tune_rcvbuf_client,
            rcvbuf_server: g.tune_rcvbuf_server,
            sndbuf_client: g.tune_sndbuf_client,
            sndbuf_server: g.tune_sndbuf_server,
        };
        let mut hostname = g.log_send_hostname.clone();
        if hostname.as_deref() == Some("") {
            hostname = None;
        }
        Ok(Engine {
            clock: Clock::new(),
            io,
            sched: Scheduler::new(),
            streams: Arena::with_capacity(512),
            applets: Arena::with_capacity(16),
            pends: Arena::with_capacity(64),
            proxies,
            listeners: Vec::new(),
            cli_fe,
            maxaccept: g.tune_maxaccept,
            maxconn,
            maxsock: 0,
            ulimit_n: 0,
            actconn: 0,
            counters: Counters::default(),
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
            cli_streams: 0,
            handshakes: 0,
            parked: 0,
            listeners_full: false,
            next_resume: 0,
            signal_fd: -1,
            global_logs: g.logs.clone(),
            start_time: crate::log::wall_now().0,
            active: Vec::with_capacity(256),
            http: {
                let mut h = crate::http::HttpScratch::new(cfg.global.tune_http_maxhdr);
                h.idle_cap = (crate::process::nofile().0 / 4) as usize;
                h
            },
            rules: cfg.rules.clone(),
            rx: Default::default(),
            master: None,
            exit_code: 0,
        })
    }

    /// Adds a bound listener (registered by [`Self::start_listeners`]).
    pub fn add_listener(&mut self, l: Listener) {
        let li = self.listeners.len();
        if l.kind == crate::listener::LiKind::Proxy
            && let Some(p) = self.proxies.get_mut(l.fe)
        {
            p.listeners.push(li);
        }
        self.listeners.push(l);
    }

    /// Registers the bound listeners with the poller and starts accepting.
    pub fn start_listeners(&mut self) -> std::io::Result<()> {
        for i in 0..self.listeners.len() {
            let l = &self.listeners[i];
            let fd = l.fd;
            if l.kind == crate::listener::LiKind::Proxy
                && !matches!(l.addr, crate::listener::LiAddr::Unix(_))
            {
                self.set_client_sockopts(fd, l.fe);
            }
            self.io.fds.insert(fd, FdOwner::Listener(i))?;
            self.io.fds.want_recv(fd);
            self.io.fds.may_recv(fd);
        }
        // HTTP backends keep idle server connections: purge them in time.
        let pooled = self.proxies.iter().any(|p| {
            p.mode == crate::cfg::model::Mode::Http && p.servers.iter().any(|s| s.pool_max != 0)
        });
        if pooled {
            let t = self.sched.create(TaskKind::PoolPurge);
            self.sched.wakeup(t);
        }
        Ok(())
    }

    /// True while something keeps the process alive.
    fn has_jobs(&self) -> bool {
        self.master.is_some()
            || !self.stopping
            || self.streams.len() > self.cli_streams
            || self.handshakes > 0
            || self.parked > 0
    }

    /// Runs the event loop until a stop completes.
    pub fn run(&mut self) {
        let mut active = std::mem::take(&mut self.active);
        while !self.exit_now && self.has_jobs() {
            // 1. Poll: don't sleep if work is already pending.
            let mut timeout = if self.io.fds.has_active() || self.sched.has_runnable() {
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
            self.io.fds.poll(timeout);
            self.clock.update();
            // 2. I/O callbacks.
            self.io.fds.take_active(&mut active);
            for &fd in active.iter() {
                let (r, w) = self.io.fds.pending(fd);
                if !r && !w {
                    continue;
                }
                match self.io.fds.owner(fd) {
                    FdOwner::Conn(cid) => self.conn_io(cid, r, w),
                    FdOwner::Listener(li) => self.accept_loop(li),
                    FdOwner::Signal => self.handle_signals(),
                    FdOwner::Relay(aid) => {
                        if let Some(a) = self.applets.get(aid) {
                            self.sched.wakeup(a.task);
                        }
                    }
                    FdOwner::None => {}
                }
                self.io.fds.requeue(fd);
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
                    TaskKind::Applet(aid) => self.applet_run(aid),
                    TaskKind::Stopper => self.stopper_task(tid),
                    TaskKind::Handshake(cid) => self.handshake_timeout(tid, cid),
                    TaskKind::Check(px, srv) => self.process_check(tid, px, srv),
                    TaskKind::PoolPurge => self.pool_purge(tid),
                    TaskKind::KeepAlive(cid) => self.keepalive_timeout(tid, cid),
                }
            }
        }
        self.active = active;
    }

    /// I/O callback of a connection fd: hands it to its owner.
    fn conn_io(&mut self, cid: ConnId, can_r: bool, can_w: bool) {
        let Some(conn) = self.io.conns.get(cid) else {
            return;
        };
        match conn.owner {
            ConnOwner::Stream { sid, side } => {
                let Some(s) = self.streams.get_mut(sid) else {
                    return;
                };
                let mut cx =
                    crate::si::SiCtx::new(&mut self.io, &mut self.sched, self.clock.now, s.task);
                if crate::stream::io::conn_io(s, side, can_r, can_w, &mut cx) {
                    self.sched.wakeup(s.task);
                }
                s.note_timers(&mut self.sched, &self.clock);
            }
            ConnOwner::Check { .. } => self.check_conn_io(cid, can_r, can_w),
            ConnOwner::Listener(li) => self.handshake_io(cid, li),
            ConnOwner::KeepAlive { li, since } => self.unpark(cid, li, since, can_r, can_w),
            ConnOwner::Idle { px, srv } => {
                if crate::stream::reuse::idle_event(&mut self.proxies, &mut self.io, cid, px, srv) {
                    self.http.idle_total = self.http.idle_total.saturating_sub(1);
                }
            }
        }
    }

    /// The stream task: runs the stream until its state is stable, then
    /// either re-arms its timer or, when both ends are closed, logs and
    /// frees it.
    pub fn process_stream(&mut self, sid: StreamId) {
        let (streams, mut cx) = self.stream_ctx();
        let Some(s) = streams.get_mut(sid) else {
            return;
        };
        let done = crate::stream::step(s, &mut cx);
        if !done {
            if crate::http::ana::parkable(s) {
                self.park(sid);
                return;
            }
            s.requeue(cx.sched, cx.clock);
            return;
        }
        self.stream_free(sid);
    }

    /// The idle-connection purge task: purges the servers whose period is
    /// over and comes back when the next one is due (or after the shortest
    /// delay).
    fn pool_purge(&mut self, tid: crate::arena::TaskId) {
        let (next, closed) =
            crate::stream::reuse::purge(&mut self.proxies, &mut self.io, self.clock.now_abs);
        self.http.idle_total = self.http.idle_total.saturating_sub(closed);
        let period = self
            .proxies
            .iter()
            .flat_map(|p| p.servers.iter())
            .map(|s| s.pool_purge_delay.max(100))
            .min()
            .unwrap_or(5000);
        let wait = if next == 0 {
            u64::from(period)
        } else {
            next.saturating_sub(self.clock.now_abs).max(100)
        };
        let at = crate::ticks::tick_add(self.clock.now, wait.min(u64::from(u32::MAX >> 1)) as u32);
        self.sched.queue_tick(tid, at, &self.clock);
    }

    /// An applet's task.
    pub fn applet_run(&mut self, aid: AppletId) {
        let Some(a) = self.applets.get(aid) else {
            return;
        };
        match a.state {
            crate::applet::AppletState::Cli(_) => self.cli_applet_run(aid),
            crate::applet::AppletState::MasterCli(_) => self.master_cli_run(aid),
        }
    }

    /// Hands free slots of server `srv` of backend `be` to queued streams
    /// (after a slot was released, the server came UP, or its state changed
    /// from the CLI).
    pub fn dequeue(&mut self, be: usize, srv: usize) {
        crate::stream::queue::dequeue(
            &mut self.pends,
            &mut self.proxies,
            &mut self.sched,
            be,
            srv,
            self.clock.now_abs,
        );
    }

    /// Total streams queued on backends (for logs).
    pub fn queued_total(&self, be: usize) -> u32 {
        self.proxies.get(be).map_or(0, |p| p.total_queued() as u32)
    }

    /// A stream context over the engine's arenas (for the stream layer's
    /// handlers called outside `process_stream`).
    pub fn stream_ctx(&mut self) -> (&mut Arena<StreamId, Stream>, StreamCtx<'_>) {
        (
            &mut self.streams,
            StreamCtx {
                io: &mut self.io,
                sched: &mut self.sched,
                clock: &self.clock,
                proxies: &mut self.proxies,
                pends: &mut self.pends,
                applets: &mut self.applets,
                http: &mut self.http,
                rules: &self.rules,
                rx: &mut self.rx,
                logger: &mut self.logger,
                actconn: self.actconn,
            },
        )
    }
}
