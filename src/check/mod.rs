//! Health checks (configuration.txt 5.2 "check", "inter", "fastinter",
//! "downinter", "rise", "fall", "port"; 4.2 "timeout check").
//!
//! Layer-4 checks only: a check is a non-blocking TCP connect to the server
//! (or to its `port`), on the same connection layer as streams (a
//! `Connection` owned by `ConnOwner::Check`). Writable without error = passed
//! (`L4OK`), an error = `L4CON` with the `strerror` text, no answer in time =
//! `L4TOUT`. The connection is then closed (with an RST, as HAProxy does for
//! checks) and the check task re-armed one interval later.
//!
//! The rise/fall logic is HAProxy's `check->health` counter, kept sans-IO in
//! [`Health`] (`health.rs`). A server in maintenance is not checked (its
//! check is paused).

pub mod health;

pub use health::{CheckStatus, Health, Transition};

use crate::arena::ConnId;
use crate::cfg::diag::{Level, format_line};
use crate::cfg::model::ServerCfg;
use crate::conn::{CoFlags, ConnOwner, Connection, HsFlags, handshake};
use crate::engine::Engine;
use crate::proxy::{Server, SrvState};
use crate::task::{TaskId, TaskKind};
use std::net::SocketAddr;

/// Checks with an interval below this start at once instead of being spread
/// (HAProxy's SRV_CHK_INTER_THRES).
const SPREAD_THRESHOLD_MS: u32 = 1000;

/// A server's health-check state.
#[derive(Debug)]
pub struct CheckState {
    pub health: Health,
    pub inter: u32,
    pub fastinter: u32,
    pub downinter: u32,
    /// `port`: check this port instead of the server's.
    pub port: Option<u16>,
    /// The check task (created by `checks_start`).
    pub task: Option<TaskId>,
    /// The connection of the check in progress.
    pub conn: Option<ConnId>,
    /// When the check in progress started (monotonic ms).
    pub started: u64,
    /// When the check in progress times out (monotonic ms).
    pub expire: u64,
    /// When the next check starts (monotonic ms).
    pub next: u64,
    pub status: CheckStatus,
    /// Extra information on the last result ("Connection refused").
    pub info: String,
    /// Duration of the last completed check (ms).
    pub duration: Option<u64>,
    /// Failed checks (stats `chkfail`).
    pub failed: u64,
    /// UP -> DOWN transitions (stats `chkdown`).
    pub down_trans: u64,
    /// The server is in maintenance: no check runs.
    pub paused: bool,
    /// Checks over TLS (`check-ssl`, or a server with `ssl` checked on its
    /// own port): the context and the SNI (`check-sni`).
    pub tls: Option<(std::rc::Rc<crate::ssl::server::SrvTls>, Option<String>)>,
    /// Checks send the server's PROXY header: `check-send-proxy`, or a
    /// server that sends one checked on its own port (configuration.txt
    /// 5.2, check-send-proxy).
    pub send_proxy: bool,
}

impl CheckState {
    /// The check state of a server with `check`, None without.
    pub fn from_cfg(s: &ServerCfg) -> Option<Self> {
        // HAProxy refuses a checked server with neither service nor check
        // port; here it is simply not checked.
        if !s.check || (s.port.is_none() && s.check_port.is_none()) {
            return None;
        }
        Some(CheckState {
            health: Health::new(s.rise, s.fall),
            inter: s.inter.max(1),
            fastinter: s.fastinter,
            downinter: s.downinter,
            port: s.check_port,
            task: None,
            conn: None,
            started: 0,
            expire: 0,
            next: 0,
            status: CheckStatus::Ini,
            info: String::new(),
            duration: None,
            failed: 0,
            down_trans: 0,
            paused: s.disabled,
            tls: s
                .tls
                .clone()
                .filter(|_| s.ssl.check_ssl || (s.ssl.enabled && s.check_port.is_none()))
                .map(|t| (t, s.ssl.check_sni.clone())),
            send_proxy: s.check_send_proxy || (s.check_port.is_none() && !s.pp_opts.is_empty()),
        })
    }

    /// The current interval for a server in `state`.
    pub fn interval(&self, state: SrvState) -> u32 {
        self.health.interval(
            state == SrvState::Up,
            self.inter,
            self.fastinter,
            self.downinter,
        )
    }
}

/// Fills the check columns of a server's `show stat` row (`c` holds the
/// HAProxy 2.6 columns; `status` is already set for unchecked servers).
pub fn fill_stat(s: &Server, c: &mut [String]) {
    let Some(ck) = &s.check else { return };
    let set = |c: &mut [String], i: usize, v: String| {
        if let Some(x) = c.get_mut(i) {
            *x = v;
        }
    };
    if s.state != SrvState::Maint {
        set(c, 17, ck.health.status(s.state == SrvState::Up));
        let prefix = if ck.conn.is_some() { "* " } else { "" };
        set(c, 36, format!("{prefix}{}", ck.status.code()));
        if ck.status != CheckStatus::Ini {
            set(c, 38, ck.duration.unwrap_or(0).to_string());
        }
        set(c, 65, ck.status.desc().to_string());
    }
    set(c, 21, ck.failed.to_string());
    set(c, 22, ck.down_trans.to_string());
    set(c, 67, ck.health.rise.to_string());
    set(c, 68, ck.health.fall.to_string());
    set(c, 69, ck.health.health.to_string());
}

/// `strerror(errno)`.
fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a valid NUL-terminated string; the process is
    // single-threaded and the text is copied at once.
    unsafe { std::ffi::CStr::from_ptr(libc::strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

/// True for errnos worth reporting (HAProxy's `unclean_errno`).
fn unclean_errno(e: i32) -> bool {
    e != 0
        && e != libc::EAGAIN
        && e != libc::EWOULDBLOCK
        && e != libc::EINPROGRESS
        && e != libc::EISCONN
        && e != libc::EALREADY
}

/// The arenas the checks touch: the connection layer, the scheduler, the
/// clock, the proxies (server states), the queue entries (a server coming
/// UP takes queued streams) and the logger.
pub struct CheckCtx<'a> {
    pub io: &'a mut crate::conn::IoCtx,
    pub sched: &'a mut crate::task::Scheduler,
    pub clock: &'a crate::ticks::Clock,
    pub proxies: &'a mut [crate::proxy::Proxy],
    pub pends: &'a mut crate::arena::Arena<crate::arena::PendId, crate::stream::queue::PendConn>,
    pub logger: &'a mut crate::log::Logger,
}

impl Engine {
    /// The checks' context over the engine's arenas.
    pub fn check_ctx(&mut self) -> CheckCtx<'_> {
        CheckCtx {
            io: &mut self.io,
            sched: &mut self.sched,
            clock: &self.clock,
            proxies: &mut self.proxies,
            pends: &mut self.pends,
            logger: &mut self.logger,
        }
    }

    /// Creates the check tasks (see [`CheckCtx::checks_start`]).
    pub fn checks_start(&mut self) {
        self.check_ctx().checks_start();
    }

    /// The check task (see [`CheckCtx::process_check`]).
    pub fn process_check(&mut self, tid: TaskId, px: usize, srv: usize) {
        self.check_ctx().process_check(tid, px, srv);
    }

    /// I/O callback of a check connection (see [`CheckCtx::check_conn_io`]).
    pub fn check_conn_io(&mut self, cid: ConnId, can_r: bool, can_w: bool) {
        self.check_ctx().check_conn_io(cid, can_r, can_w);
    }
}

impl CheckCtx<'_> {
    /// Hands free slots of a server that came UP to queued streams.
    fn dequeue(&mut self, px: usize, srv: usize) {
        crate::stream::queue::dequeue(
            self.pends,
            self.proxies,
            self.sched,
            px,
            srv,
            self.clock.now_abs,
        );
    }

    /// Creates one check task per checked server. First runs are spread
    /// over the smallest interval of at least 1 s (checks with a shorter
    /// interval all start at once), as HAProxy's `start_checks` does.
    pub fn checks_start(&mut self) {
        let mut nbcheck = 0u64;
        let mut mininter = 0u64;
        for p in self.proxies.iter().filter(|p| !p.disabled) {
            for s in &p.servers {
                if let Some(ck) = &s.check {
                    nbcheck += 1;
                    let i = ck.interval(s.state);
                    if i >= SPREAD_THRESHOLD_MS && (mininter == 0 || mininter > i as u64) {
                        mininter = i as u64;
                    }
                }
            }
        }
        let now = self.clock.now_abs;
        let mut pos = 0u64;
        for px in 0..self.proxies.len() {
            if self.proxies[px].disabled {
                continue;
            }
            for srv in 0..self.proxies[px].servers.len() {
                if self.proxies[px].servers[srv].check.is_none() {
                    continue;
                }
                let tid = self.sched.create(TaskKind::Check(px, srv));
                let next = now + mininter * pos / nbcheck.max(1);
                self.sched.queue(tid, Some(next));
                if let Some(ck) = self.proxies[px].servers[srv].check.as_mut() {
                    ck.task = Some(tid);
                    ck.next = next;
                }
                pos += 1;
            }
        }
    }

    /// The check task: starts a check, or ends one that timed out.
    pub fn process_check(&mut self, tid: TaskId, px: usize, srv: usize) {
        let now = self.clock.now_abs;
        let Some(p) = self.proxies.get_mut(px) else {
            return;
        };
        let (cto, tcheck) = (p.timeouts.connect, p.timeouts.check);
        let Some(s) = p.servers.get_mut(srv) else {
            return;
        };
        let (state, addr) = (s.state, s.addr);
        let Some(ck) = s.check.as_mut() else {
            return;
        };
        if state == SrvState::Maint {
            // Paused: abandon a check in progress and look again later.
            ck.paused = true;
            let cid = ck.conn.take();
            let next = now + ck.inter as u64;
            ck.next = next;
            if let Some(cid) = cid {
                self.io.conn_free(cid, true);
            }
            self.sched.queue(tid, Some(next));
            return;
        }
        ck.paused = false;
        if state == SrvState::Up && ck.health.health < ck.health.rise {
            // Made UP from the CLI (back from maintenance, or "ready"): as
            // at start-up, it stays UP until its first failure.
            ck.health.health = ck.health.rise;
        }
        if ck.conn.is_some() {
            if now >= ck.expire {
                // Connected but still in the TLS handshake: a layer-6 timeout.
                let l6 = ck
                    .conn
                    .and_then(|c| self.io.conns.get(c))
                    .is_some_and(|c| !c.flags.contains(CoFlags::WAIT_L4_CONN) && c.ssl().is_some());
                let st = if l6 {
                    CheckStatus::L6Tout
                } else {
                    CheckStatus::L4Tout
                };
                self.check_done(px, srv, st, String::new());
            } else {
                let exp = ck.expire;
                self.sched.queue(tid, Some(exp));
            }
            return;
        }
        if now < ck.next {
            // Woken early (a check ended meanwhile): not due yet.
            let next = ck.next;
            self.sched.queue(tid, Some(next));
            return;
        }
        // Start a new check. Connect timeout: `inter`, or min(inter,
        // timeout connect) when `timeout check` is set (the latter only
        // bounds reading, which a layer-4 check never does).
        let mut to = ck.inter;
        if tcheck != 0 && cto != 0 {
            to = to.min(cto);
        }
        ck.started = now;
        ck.expire = now + to as u64;
        let mut dst: SocketAddr = addr;
        if let Some(port) = ck.port {
            dst.set_port(port);
        }
        // Checks send the PROXY header as HAProxy does (`make_proxy_line`
        // with the check's own connection): v1 with the check's addresses,
        // v2 as a LOCAL command whose TLVs describe no client (no ALPN,
        // authority nor unique ID; an SSL TLV saying "clear").
        let pp_opts = self
            .proxies
            .get(px)
            .and_then(|p| p.servers.get(srv))
            .filter(|s| s.check.as_ref().is_some_and(|c| c.send_proxy))
            .map(|s| s.pp_opts);
        let tls = self
            .proxies
            .get(px)
            .and_then(|p| p.servers.get(srv))
            .and_then(|s| s.check.as_ref())
            .and_then(|c| c.tls.clone());
        match crate::conn::sock::tcp_connect(&dst, None) {
            Ok((fd, connected)) => {
                let mut conn = Connection::new(fd, ConnOwner::Check { px, srv });
                conn.peer = Some(dst);
                if !connected {
                    conn.flags.insert(CoFlags::WAIT_L4_CONN);
                }
                use crate::conn::proxy_send::{self as pps, PpOpts};
                match pp_opts {
                    // LOCAL: the check speaks for no client (2.6), unless
                    // `pp2-never-send-local` asks for its own addresses.
                    Some(o) if o.contains(PpOpts::V2) => {
                        let (src, dst) = if o.contains(PpOpts::V2_CHECK_NEVER_LOCAL) {
                            (crate::conn::sock::local_addr(fd), Some(dst))
                        } else {
                            (None, None)
                        };
                        let hdr = pps::encode_v2_tlv(src, dst, o, &Default::default());
                        conn.out_hdr = Some(hdr);
                    }
                    Some(_) => {
                        let local = crate::conn::sock::local_addr(fd);
                        conn.out_hdr = Some(pps::encode_v1(local, Some(dst)));
                    }
                    None => {}
                }
                if conn.out_hdr.is_some() {
                    conn.hs.insert(HsFlags::SEND_PROXY);
                }
                if let Some((t, sni)) = &tls {
                    let ok = t
                        .new_ssl(sni.as_deref())
                        .is_ok_and(|ssl| conn.set_ssl(ssl, false, t.maxrecord));
                    if !ok {
                        crate::conn::sock::close(fd);
                        self.check_done(px, srv, CheckStatus::L6Rsp, String::new());
                        return;
                    }
                }
                let cid = match self.io.conn_insert(conn, true) {
                    Ok(cid) => cid,
                    Err(errno) => {
                        self.check_done(px, srv, CheckStatus::L4Con, strerror(errno));
                        return;
                    }
                };
                if let Some(ck) = self.server_check(px, srv) {
                    ck.conn = Some(cid);
                }
                if connected && tls.is_none() {
                    self.check_done(px, srv, CheckStatus::L4Ok, String::new());
                    return;
                }
                if let Some(c) = self.io.conns.get(cid) {
                    c.want_send(&mut self.io.fds);
                }
                self.sched.queue(tid, Some(now + to as u64));
            }
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(libc::EIO);
                let info = if unclean_errno(errno) {
                    strerror(errno)
                } else {
                    String::new()
                };
                self.check_done(px, srv, CheckStatus::L4Con, info);
            }
        }
    }

    /// I/O callback of a check connection: the connect's result, then the
    /// PROXY header if the server takes one.
    pub fn check_conn_io(&mut self, cid: ConnId, _can_r: bool, can_w: bool) {
        let Some(conn) = self.io.conns.get_mut(cid) else {
            return;
        };
        let ConnOwner::Check { px, srv } = conn.owner else {
            return;
        };
        if !conn.check_connected(&mut self.io.fds) {
            if conn.flags.contains(CoFlags::ERROR) {
                let err = conn.errno;
                let info = if unclean_errno(err) {
                    strerror(err)
                } else {
                    String::new()
                };
                self.check_done(px, srv, CheckStatus::L4Con, info);
            }
            return;
        }
        let tls = conn.ssl().is_some();
        if !can_w && !tls {
            // Only writability tells the connect's result: wait for it.
            conn.stop_recv(&mut self.io.fds);
            return;
        }
        // A short or failed send of the header only shortens what the
        // server sees of a check: the connect succeeded. Over TLS, the
        // handshake is the check (layer 6).
        match handshake::run(conn, &mut self.io.fds, false) {
            handshake::HsStep::Wait => {}
            handshake::HsStep::Failed(e @ crate::conn::HsErr::Ssl(_)) => {
                self.check_done(px, srv, CheckStatus::L6Rsp, e.message().to_string());
            }
            _ if tls => self.check_done(px, srv, CheckStatus::L6Ok, String::new()),
            _ => self.check_done(px, srv, CheckStatus::L4Ok, String::new()),
        }
    }

    fn server_check(&mut self, px: usize, srv: usize) -> Option<&mut CheckState> {
        self.proxies
            .get_mut(px)?
            .servers
            .get_mut(srv)?
            .check
            .as_mut()
    }

    /// Ends the check in progress with `status`: closes its connection,
    /// updates rise/fall and the server's state, re-arms the task.
    fn check_done(&mut self, px: usize, srv: usize, status: CheckStatus, info: String) {
        let now = self.clock.now_abs;
        let Some(s) = self
            .proxies
            .get_mut(px)
            .and_then(|p| p.servers.get_mut(srv))
        else {
            return;
        };
        let state = s.state;
        let Some(ck) = s.check.as_mut() else {
            return;
        };
        let cid = ck.conn.take();
        let ok = matches!(status, CheckStatus::L4Ok | CheckStatus::L6Ok);
        ck.status = status;
        ck.info = info;
        ck.duration = Some(now.saturating_sub(ck.started));
        let (failed, tr) = ck.health.record(ok, state == SrvState::Up);
        if failed {
            ck.failed += 1;
        }
        let task = ck.task;
        if let Some(cid) = cid {
            // A successful check that sent a PROXY header closes cleanly so
            // the server reads it; otherwise an RST spares a TIME_WAIT.
            let sent_hdr = ok && ck.send_proxy;
            self.io.conn_free(cid, !sent_hdr);
        }
        match tr {
            Transition::Up => self.server_up(px, srv),
            Transition::Down => self.server_down(px, srv),
            Transition::None => {}
        }
        let Some(s) = self.proxies.get(px).and_then(|p| p.servers.get(srv)) else {
            return;
        };
        let state = s.state;
        let Some(ck) = self.server_check(px, srv) else {
            return;
        };
        let next = now + ck.interval(state) as u64;
        ck.next = next;
        if let Some(tid) = task {
            self.sched.queue(tid, Some(next));
        }
    }

    /// ", reason: ..., info: "...", check duration: Nms" (srv_append_status).
    fn check_reason(ck: &CheckState) -> String {
        let mut m = format!(", reason: {}", ck.status.desc());
        if !ck.info.is_empty() {
            m.push_str(", info: \"");
            for ch in ck.info.chars() {
                if ch == '"' || ch.is_control() {
                    m.push_str(&format!("\\x{:02x}", ch as u32 & 0xff));
                } else {
                    m.push(ch);
                }
            }
            m.push('"');
        }
        if let Some(d) = ck.duration {
            m.push_str(&format!(", check duration: {d}ms"));
        }
        m
    }

    /// Usable (active, backup) servers of a backend.
    fn usable_counts(&self, px: usize) -> (usize, usize) {
        self.proxies.get(px).map_or((0, 0), |p| {
            let act = p.servers.iter().filter(|s| !s.backup && s.usable()).count();
            let bck = p.servers.iter().filter(|s| s.backup && s.usable()).count();
            (act, bck)
        })
    }

    /// Prints `msg` on stderr at `level` and sends it to the proxy's logs.
    fn check_report(&mut self, px: usize, level: Level, syslog_level: u8, msg: &str) {
        crate::log::eprint_line(&format_line(level, None, msg));
        let logs = self.proxies[px].logs.clone();
        self.logger.send(&logs, syslog_level, msg);
    }

    /// UP -> DOWN by the checks. Streams in progress keep their connection.
    fn server_down(&mut self, px: usize, srv: usize) {
        let (act0, bck0) = self.usable_counts(px);
        let p = &mut self.proxies[px];
        let s = &mut p.servers[srv];
        s.state = SrvState::Down;
        let Some(ck) = s.check.as_mut() else { return };
        ck.down_trans += 1;
        let reason = Self::check_reason(ck);
        let (cur, queued) = (s.cur_sess, s.queue.len());
        let prefix = if s.backup { "Backup " } else { "" };
        let head = format!("{prefix}Server {}/{} is DOWN{reason}", p.name, s.name);
        let (act, bck) = self.usable_counts(px);
        let on_backup = if bck > 0 && act == 0 {
            " Running on backup."
        } else {
            ""
        };
        let msg = format!(
            "{head}. {act} active and {bck} backup servers left.{on_backup} {cur} sessions active, 0 requeued, {queued} remaining in queue."
        );
        self.check_report(px, Level::Warning, 1, &msg);
        if act0 + bck0 > 0 && act + bck == 0 {
            let p = &self.proxies[px];
            let kind = if p.is_fe { "proxy" } else { "backend" };
            let name = p.name.clone();
            crate::log::eprint_line(&format_line(
                Level::Alert,
                None,
                &format!("{kind} '{name}' has no server available!"),
            ));
            let logs = self.proxies[px].logs.clone();
            self.logger
                .send(&logs, 0, &format!("{kind} {name} has no server available!"));
        }
    }

    /// DOWN -> UP by the checks: the server takes queued streams at once.
    fn server_up(&mut self, px: usize, srv: usize) {
        let before = self.proxies[px].queue.len();
        self.proxies[px].servers[srv].state = SrvState::Up;
        self.dequeue(px, srv);
        let p = &self.proxies[px];
        let xferred = before.saturating_sub(p.queue.len());
        let s = &p.servers[srv];
        let Some(ck) = s.check.as_ref() else { return };
        let prefix = if s.backup { "Backup " } else { "" };
        let head = format!(
            "{prefix}Server {}/{} is UP{}",
            p.name,
            s.name,
            Self::check_reason(ck)
        );
        let queued = s.queue.len();
        let (act, bck) = self.usable_counts(px);
        let on_backup = if bck > 0 && act == 0 {
            " Running on backup."
        } else {
            ""
        };
        let msg = format!(
            "{head}. {act} active and {bck} backup servers online.{on_backup} {xferred} sessions requeued, {queued} total in queue."
        );
        self.check_report(px, Level::Warning, 5, &msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Arena;
    use crate::cfg::model::{Cap, DefaultServer, ProxyCfg};
    use crate::conn::IoCtx;
    use crate::log::Logger;
    use crate::proxy::Proxy;
    use crate::task::Scheduler;
    use crate::ticks::Clock;

    /// The arenas a check touches, built by hand: backend `b` (index 0)
    /// with one checked server `s` (rise 2, fall 1, inter 2 s).
    struct World {
        io: IoCtx,
        sched: Scheduler,
        clock: Clock,
        proxies: Vec<Proxy>,
        pends: Arena<crate::arena::PendId, crate::stream::queue::PendConn>,
        logger: Logger,
    }

    fn world() -> World {
        let d = DefaultServer {
            check: true,
            fall: 1,
            ..DefaultServer::default()
        };
        let addr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let cfg = ProxyCfg {
            name: "b".into(),
            cap: Cap {
                fe: false,
                be: true,
            },
            servers: vec![ServerCfg::new("s".into(), addr, Some(9), &d, None, 1)],
            ..Default::default()
        };
        let mut clock = Clock::new();
        clock.jump_to(50_000);
        World {
            io: IoCtx::new(1024, 64, 1, 65536, false).expect("io"),
            sched: Scheduler::new(),
            clock,
            proxies: vec![Proxy::from_cfg(&cfg, 1, &[], 0)],
            pends: Arena::with_capacity(1),
            logger: Logger::new("haproxy", None),
        }
    }

    impl World {
        fn cx(&mut self) -> CheckCtx<'_> {
            CheckCtx {
                io: &mut self.io,
                sched: &mut self.sched,
                clock: &self.clock,
                proxies: &mut self.proxies,
                pends: &mut self.pends,
                logger: &mut self.logger,
            }
        }

        fn check(&mut self) -> &mut CheckState {
            self.proxies[0].servers[0].check.as_mut().expect("checked")
        }

        /// A check in progress on a fake connection (no socket).
        fn in_progress(&mut self, started: u64, expire: u64) -> ConnId {
            let c = Connection::new(-1, ConnOwner::Check { px: 0, srv: 0 });
            let cid = self.io.conns.insert(c);
            let ck = self.check();
            ck.conn = Some(cid);
            ck.started = started;
            ck.expire = expire;
            cid
        }
    }

    #[test]
    fn an_expired_check_is_l4tout_and_takes_the_server_down() {
        let mut w = world();
        let tid = w.sched.create(TaskKind::Check(0, 0));
        w.check().task = Some(tid);
        w.in_progress(48_000, 50_000);
        w.cx().process_check(tid, 0, 0);
        let ck = w.check();
        assert_eq!(ck.status, CheckStatus::L4Tout);
        assert_eq!(ck.duration, Some(2000));
        assert!(ck.conn.is_none());
        assert_eq!((ck.failed, ck.down_trans), (1, 1));
        // Fully DOWN: the next check comes `inter` later.
        assert_eq!(ck.next, 52_000);
        assert_eq!(w.proxies[0].servers[0].state, SrvState::Down);
        assert!(w.io.conns.is_empty(), "the check connection was closed");
        assert_eq!(w.sched.next_expiry(50_000), Some(2000));
    }

    #[test]
    fn a_check_in_progress_before_its_expiry_waits() {
        let mut w = world();
        let tid = w.sched.create(TaskKind::Check(0, 0));
        w.in_progress(49_000, 51_000);
        w.cx().process_check(tid, 0, 0);
        assert!(w.check().conn.is_some());
        assert_eq!(w.check().status, CheckStatus::Ini);
        assert_eq!(w.sched.next_expiry(50_000), Some(1000));
    }

    #[test]
    fn a_server_in_maintenance_is_not_checked() {
        let mut w = world();
        let tid = w.sched.create(TaskKind::Check(0, 0));
        w.proxies[0].servers[0].state = SrvState::Maint;
        w.in_progress(49_000, 51_000);
        w.cx().process_check(tid, 0, 0);
        let ck = w.check();
        assert!(ck.paused && ck.conn.is_none());
        assert_eq!(
            ck.status,
            CheckStatus::Ini,
            "an abandoned check has no result"
        );
        assert!(w.io.conns.is_empty());
        assert_eq!(w.sched.next_expiry(50_000), Some(2000));
    }

    #[test]
    fn strerror_texts() {
        assert_eq!(strerror(libc::ECONNREFUSED), "Connection refused");
    }
}
