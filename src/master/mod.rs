//! Master-worker mode (`-W`, `-Ws`, `master-worker`; management.txt 4 and
//! 9.4): a master process that binds, forks the worker that serves, and
//! supervises it; a reload re-executes the master, which takes the
//! listening sockets over from the current worker, forks a new worker and
//! lets the old ones finish.
//!
//! ```text
//!   master (pid M)                      worker (current)      old workers
//!     start: bind, fork -------------->  serves
//!     SIGUSR2 / SIGHUP / CLI reload:
//!       "Reloading HAProxy", execvp(argv) (process list in the environment,
//!        socketpairs kept open)
//!     new image: parse  --fails--> wait mode: the worker keeps serving
//!                  |ok
//!       _getsocks over sockpair@fd <--- its listeners (SCM_RIGHTS)
//!       fork the new worker ---------->  serves
//!       SIGUSR1 to the previous ones ------------------------> soft stop, exit
//!     SIGCHLD: "Former worker (pid) exited with code 0 (Exit)"
//!     SIGTERM/SIGINT/SIGUSR1: forwarded; leave once every worker is gone
//! ```
//!
//! The master runs an engine of its own with no proxy: its listeners are
//! the master CLI's (`cli.rs`). `procs.rs` is its process list, `notify.rs`
//! speaks to systemd.

pub mod cli;
pub mod notify;
pub mod procs;
pub mod program;
mod supervise;

use std::os::fd::RawFd;

use crate::boot::{self, BindFailed, Opts};
use crate::cfg::diag::{Level, format_line};
use crate::cfg::model::{CliLevel, Config};
use crate::engine::Engine;
use crate::listener::{LiAddr, LiKind, Listener};
use crate::process;
use procs::{Proc, ProcKind};

/// The environment variables a re-executed master reads.
const ENV_REEXEC: &str = "HAPROXY_MWORKER_REEXEC";
const ENV_PROCESSES: &str = "HAPROXY_PROCESSES";
/// The master CLI listeners kept across re-execution: `<spec>=<fd>|...`.
const ENV_MCLI_FDS: &str = "HAPROXY_RS_MCLI_FDS";

/// The master's state, owned by its engine.
pub struct Master {
    /// Every process, newest first; the master's own entry among them.
    pub procs: Vec<Proc>,
    /// The arguments to re-execute with.
    pub args: Vec<String>,
    /// `master-worker no-exit-on-failure`.
    pub no_exit_on_failure: bool,
    /// `mworker-max-reloads`.
    pub max_reloads: Option<u32>,
    /// `-Ws`.
    pub systemd: bool,
    /// A stop was asked for (SIGTERM, SIGINT, SIGUSR1, a failed worker):
    /// leave once no worker is left, with this status.
    pub leaving: Option<i32>,
    /// "haproxy version is" was printed by this image (HAProxy prints it
    /// once, before its first warning).
    version_told: bool,
    /// The master CLI listeners (spec and fd), kept across re-execution.
    mcli: Vec<(String, RawFd)>,
    /// `program` sections (restarted by `start-on-reload`).
    programs: Vec<crate::cfg::model::ProgramCfg>,
}

impl Master {
    /// The current worker: the newest.
    fn current(&self) -> Option<&Proc> {
        self.procs.iter().find(|p| p.kind == ProcKind::Worker)
    }

    /// A worker's pid from a prefix word: `1` (the current worker) or
    /// `!<pid>`.
    pub fn find_worker(&self, w: &str) -> Option<i32> {
        if let Some(pid) = w.strip_prefix('!') {
            let pid: i32 = pid.parse().ok()?;
            return self
                .procs
                .iter()
                .find(|p| p.pid == pid && p.kind != ProcKind::Master)
                .map(|p| p.pid);
        }
        match w {
            "1" => self.current().map(|p| p.pid),
            _ => None,
        }
    }

    /// A new CLI connection to worker `pid`: one end of a fresh socketpair,
    /// the other sent over the worker's socketpair.
    pub fn connect_worker(&self, pid: i32) -> std::io::Result<RawFd> {
        let ipc = self
            .procs
            .iter()
            .find(|p| p.pid == pid && p.ipc >= 0)
            .map(|p| p.ipc)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        let (mine, theirs) = std::os::unix::net::UnixStream::pair()?;
        use std::os::fd::{AsRawFd, IntoRawFd};
        crate::listener::xfer::send_fds(ipc, &[0], &[theirs.as_raw_fd()])?;
        mine.set_nonblocking(true)?;
        Ok(mine.into_raw_fd())
    }

    /// `show proc`.
    pub fn show_proc(&self, now: i64) -> String {
        let col = |s: &str| format!("{s:<15} ");
        let line = |p: &Proc, reloads: String| {
            let mut l = String::new();
            l += &col(&p.pid.to_string());
            l += &col(match &p.kind {
                ProcKind::Master => "master",
                ProcKind::Worker => "worker",
                ProcKind::Program(n) => n,
            });
            l += &col(&reloads);
            l += &col(&procs::uptime(now - p.started));
            match (&p.kind, &p.version) {
                (ProcKind::Program(_), _) => l += &format!("{:<15}", "-"),
                (_, v) => l += v.as_deref().unwrap_or(crate::cfg::cond::VERSION),
            }
            l.push('\n');
            l
        };
        let mut out = String::from(
            "#<PID>          <type>          <reloads>       <uptime>        <version>      \n",
        );
        for p in self.procs.iter().filter(|p| p.kind == ProcKind::Master) {
            out += &line(p, format!("{} [failed: {}]", p.reloads, p.failed_reloads));
        }
        let cur = self.current().map(|p| p.pid);
        out += "# workers\n";
        for p in self.procs.iter().filter(|p| Some(p.pid) == cur) {
            out += &line(p, p.reloads.to_string());
        }
        let old: Vec<&Proc> = self
            .procs
            .iter()
            .filter(|p| p.kind == ProcKind::Worker && Some(p.pid) != cur)
            .collect();
        if !old.is_empty() {
            out += "# old workers\n";
            for p in old {
                out += &line(p, p.reloads.to_string());
            }
        }
        out += "# programs\n";
        for p in self
            .procs
            .iter()
            .filter(|p| matches!(p.kind, ProcKind::Program(_)))
        {
            out += &line(p, p.reloads.to_string());
        }
        out.push('\n');
        out
    }

    /// Prints a master message; the first warning or alert of this image
    /// comes after the version and executable lines, as in HAProxy.
    pub fn say(&mut self, level: Level, msg: &str) {
        if level != Level::Notice && !self.version_told {
            self.version_told = true;
            tell_version();
        }
        crate::log::eprint_line(&format_line(level, None, msg));
    }
}

/// The version and executable notices a master prints before its first
/// warning or alert (main.rs calls it before a failed reload's alerts).
pub fn tell_version() {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let v = format!("haproxy version is {}", crate::cfg::cond::VERSION);
    crate::log::eprint_line(&format_line(Level::Notice, None, &v));
    let p = format!("path to executable is {exe}");
    crate::log::eprint_line(&format_line(Level::Notice, None, &p));
}

/// Why a process ended, as HAProxy words it: the code, and "Exit" or the
/// signal's description.
pub fn exit_reason(status: nix::sys::wait::WaitStatus) -> Option<(i32, i32, String)> {
    use nix::sys::wait::WaitStatus;
    match status {
        WaitStatus::Exited(pid, code) => Some((pid.as_raw(), code, "Exit".into())),
        WaitStatus::Signaled(pid, sig, _) => {
            let desc = signal_desc(sig as i32);
            Some((pid.as_raw(), 128 + sig as i32, desc))
        }
        _ => None,
    }
}

/// strsignal(3)'s text for `sig`.
fn signal_desc(sig: i32) -> String {
    // SAFETY: strsignal returns a pointer to a static (or thread-local)
    // string, copied at once.
    unsafe {
        let p = libc::strsignal(sig);
        if p.is_null() {
            return format!("signal {sig}");
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// Clears or sets FD_CLOEXEC.
fn set_cloexec(fd: RawFd, on: bool) {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    let flags = if on {
        FdFlag::FD_CLOEXEC
    } else {
        FdFlag::empty()
    };
    let _ = fcntl(fd, FcntlArg::F_SETFD(flags));
}

/// True when this image is a re-executed master.
pub fn reexecuted() -> bool {
    std::env::var(ENV_REEXEC).is_ok_and(|v| v == "1")
}

/// The process list inherited from the previous image (empty at start).
fn inherited_procs() -> Vec<Proc> {
    std::env::var(ENV_PROCESSES)
        .map(|s| procs::parse(&s))
        .unwrap_or_default()
}

/// Master CLI listeners kept from the previous image.
fn inherited_mcli() -> Vec<(String, RawFd)> {
    let Ok(s) = std::env::var(ENV_MCLI_FDS) else {
        return Vec::new();
    };
    s.split('|')
        .filter_map(|e| {
            let (spec, fd) = e.rsplit_once('=')?;
            Some((spec.to_string(), fd.parse().ok()?))
        })
        .collect()
}

/// Binds the master CLI listeners (`-S`), reusing those the previous image
/// kept. Err: the alerts to print.
fn master_cli_listeners(
    specs: &[String],
    kept: Vec<(String, RawFd)>,
) -> Result<Vec<(String, RawFd, CliLevel)>, String> {
    let mut kept = kept;
    let mut out = Vec::new();
    for spec in specs {
        let mut words = spec.split(',');
        let addr = words.next().unwrap_or("");
        let mut level = CliLevel::Admin;
        let mut mode = None;
        let mut rest = words.filter(|w| !w.is_empty());
        while let Some(w) = rest.next() {
            match (w, rest.next()) {
                ("level", Some("user")) => level = CliLevel::User,
                ("level", Some("operator")) => level = CliLevel::Operator,
                ("level", Some("admin")) => level = CliLevel::Admin,
                ("mode", Some(m)) => mode = u32::from_str_radix(m, 8).ok(),
                ("user" | "group" | "uid" | "gid", Some(_)) => {}
                _ => {
                    return Err(format!(
                        "'{}' : unknown keyword '{w}'.",
                        spec.replace(',', " ")
                    ));
                }
            }
        }
        if let Some(i) = kept.iter().position(|(s, _)| s == spec) {
            let (_, fd) = kept.swap_remove(i);
            set_cloexec(fd, true);
            out.push((spec.clone(), fd, level));
            continue;
        }
        let bind =
            crate::cfg::units::parse_bind_addr(addr).map_err(|e| format!("'{addr}' : {e}"))?;
        let li = crate::listener::expand(&bind);
        let Some(a) = li.first() else {
            return Err(format!("'{addr}' : no address"));
        };
        let fd = match a {
            LiAddr::Unix(p) => crate::conn::sock::unix_listen(p, 10, mode),
            a => crate::listener::bind(a, 10, true, false),
        }
        .map_err(|e| format!("cannot bind the master CLI on '{addr}': {e}"))?;
        out.push((spec.clone(), fd, level));
    }
    for (_, fd) in kept {
        crate::conn::sock::close(fd);
    }
    Ok(out)
}

/// Forks a worker serving `listeners`. Returns its pid and the master's
/// end of its socketpair. `close_in_child` are master-only fds.
fn fork_worker(
    o: &Opts,
    cfg: &Config,
    listeners: Vec<Listener>,
    limits: boot::limits::Limits,
    close_in_child: &[RawFd],
) -> std::io::Result<(i32, RawFd)> {
    use std::os::fd::IntoRawFd;
    let (m_end, w_end) = std::os::unix::net::UnixStream::pair()?;
    let (m_end, w_end) = (m_end.into_raw_fd(), w_end.into_raw_fd());
    // SAFETY: the process is single-threaded here; the child only runs our
    // own code and exits.
    match unsafe { nix::unistd::fork() } {
        Err(e) => {
            crate::conn::sock::close(m_end);
            crate::conn::sock::close(w_end);
            Err(e.into())
        }
        Ok(nix::unistd::ForkResult::Child) => {
            process::forget_pid();
            crate::conn::sock::close(m_end);
            for &fd in close_in_child {
                crate::conn::sock::close(fd);
            }
            worker_env();
            let _ = crate::conn::sock::set_nonblocking(w_end);
            let code = boot::run_worker(o, cfg, listeners, limits, Some(w_end));
            std::process::exit(code)
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            crate::conn::sock::close(w_end);
            for l in &listeners {
                crate::conn::sock::close(l.fd);
            }
            set_cloexec(m_end, true);
            // A worker that does not read must not block the master.
            let _ = crate::conn::sock::set_nonblocking(m_end);
            Ok((child.as_raw(), m_end))
        }
    }
}

/// How long a new worker may take to start serving before the master
/// goes on as if it did.
const READY_TIMEOUT_MS: i32 = 10_000;

/// Waits for a new worker's ready byte on its socketpair. False when it
/// closed first: it died while starting.
fn wait_ready(ipc: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd: ipc,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    if unsafe { libc::poll(&mut p, 1, READY_TIMEOUT_MS) } <= 0 {
        return true;
    }
    let mut b = [0u8; 1];
    // SAFETY: reading one byte into a local buffer.
    let n = unsafe { libc::read(ipc, b.as_mut_ptr().cast(), 1) };
    n == 1 && b == *boot::READY
}

/// The worker's environment: the master's own variables go, HAPROXY_MWORKER
/// says what it is (configurations may read it).
fn worker_env() {
    // SAFETY: called in the freshly forked, single-threaded child.
    unsafe {
        std::env::remove_var(ENV_REEXEC);
        std::env::remove_var(ENV_PROCESSES);
        std::env::remove_var(ENV_MCLI_FDS);
        std::env::set_var("HAPROXY_MWORKER", "1");
    }
}

/// The master: binds, forks the worker, then supervises. A re-executed
/// master whose binding fails keeps the old workers (wait mode).
pub fn run(o: Opts, cfg: Config) -> i32 {
    let reexec = reexecuted();
    let mut list = inherited_procs();
    for p in list.iter().filter(|p| p.ipc >= 0) {
        set_cloexec(p.ipc, true);
    }
    let now = crate::log::wall_now().0;
    let me = process::pid() as i32;
    if !list.iter().any(|p| p.kind == ProcKind::Master) {
        list.push(Proc::new(ProcKind::Master, me, -1, now));
    }
    let pidfile = o.pidfile.clone().or(cfg.global.pidfile.clone());
    if !reexec {
        let daemon = (o.daemon || cfg.global.daemon) && !o.foreground && !o.systemd;
        if daemon {
            if let Err(e) = process::daemonize(false, pidfile.as_deref()) {
                let msg = format!("[haproxy-rs.main()] Cannot fork: {e}.");
                eprintln!("{}", format_line(Level::Alert, None, &msg));
                return 1;
            }
            if let Some(m) = list.iter_mut().find(|p| p.kind == ProcKind::Master) {
                m.pid = process::pid() as i32;
            }
        } else if let Some(p) = &pidfile
            && let Err(e) = process::write_pidfile(p, me as u32)
        {
            let msg = format!("[haproxy-rs.main()] Cannot create pidfile {p}: {e}");
            eprintln!("{}", format_line(Level::Alert, None, &msg));
            return 1;
        }
    }
    notify::send(o.systemd, "RELOADING=1");
    let mcli = match master_cli_listeners(&o.master_cli, inherited_mcli()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{}", format_line(Level::Alert, Some("config"), &e));
            let msg = "Can't create the master's CLI.";
            eprintln!("{}", format_line(Level::Alert, Some("config"), msg));
            return 1;
        }
    };
    let mut master = Master {
        procs: list,
        args: o.args.clone(),
        no_exit_on_failure: cfg.global.mworker_no_exit_on_failure,
        max_reloads: cfg.global.mworker_max_reloads,
        systemd: o.systemd,
        leaving: None,
        version_told: false,
        mcli: mcli.iter().map(|(s, fd, _)| (s.clone(), *fd)).collect(),
        programs: cfg.programs.clone(),
    };
    let limits = boot::set_limits(&o, &cfg, true);
    let mut o_fetch = o.clone();
    if reexec {
        o_fetch.xfer = master.current().map(|p| format!("sockpair@{}", p.ipc));
    }
    let mut inherited = boot::inherited_sockets(&o_fetch);
    let mut close_in_child: Vec<RawFd> = master.procs.iter().map(|p| p.ipc).collect();
    close_in_child.extend(mcli.iter().map(|(_, fd, _)| *fd));
    close_in_child.retain(|&fd| fd >= 0);
    let bound = match limits {
        Some(l) => boot::bind_all(&o, &cfg, l.maxconn, &mut inherited, &[]).map(|ls| (ls, l)),
        None => {
            inherited.close_rest();
            Err(BindFailed)
        }
    };
    let loaded = match bound {
        Ok((listeners, limits)) => {
            program::start_all(&mut master, reexec, &close_in_child);
            let forked = fork_worker(&o, &cfg, listeners, limits, &close_in_child);
            match forked {
                Ok((pid, ipc)) => {
                    master.say(Level::Notice, &format!("New worker ({pid}) forked"));
                    if wait_ready(ipc) {
                        master
                            .procs
                            .insert(0, Proc::new(ProcKind::Worker, pid, ipc, now));
                        true
                    } else {
                        // It died before serving: the previous workers stay.
                        crate::conn::sock::close(ipc);
                        let st = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
                        let (code, why) = st
                            .ok()
                            .and_then(exit_reason)
                            .map_or((-1, "unknown".to_string()), |(_, c, w)| (c, w));
                        master.say(
                            Level::Alert,
                            &format!(
                                "New worker ({pid}) exited with code {code} ({why}) while starting"
                            ),
                        );
                        false
                    }
                }
                Err(e) => {
                    master.say(
                        Level::Alert,
                        &format!("[haproxy-rs.main()] Cannot fork: {e}."),
                    );
                    false
                }
            }
        }
        Err(BindFailed) => false,
    };
    if loaded {
        master.say(Level::Notice, "Loading success.");
        if let Some(m) = master.procs.iter_mut().find(|p| p.kind == ProcKind::Master) {
            m.failed_reloads = 0;
        }
        // Hook for the stick-table issue: the new worker learns the
        // tables from the old one over the local peer before it is told
        // to leave (2.6 does this through `peers` with the local name).
        // The previous workers finish their streams and leave.
        let cur = master.current().map(|p| p.pid);
        let old: Vec<i32> = master
            .procs
            .iter()
            .filter(|p| p.kind == ProcKind::Worker && Some(p.pid) != cur)
            .map(|p| p.pid)
            .collect();
        process::signal_pids(&old, libc::SIGUSR1);
        master.enforce_max_reloads();
        notify::send(o.systemd, &notify::ready());
    } else if reexec {
        if let Some(m) = master.procs.iter_mut().find(|p| p.kind == ProcKind::Master) {
            m.failed_reloads += 1;
        }
        master.say(Level::Warning, "Loading failure!");
        notify::send(o.systemd, &notify::ready());
    } else {
        return 1;
    }
    master_loop(master, &cfg, mcli)
}

/// A re-executed master whose new configuration does not parse: it keeps
/// supervising the workers it had (main.rs has printed the alerts).
pub fn wait_mode(o: Opts) -> i32 {
    let mut cfg = Config::default();
    // The previous image's settings are not known any more: the defaults.
    cfg.global.stats_timeout = 10_000;
    let mut master = Master {
        procs: inherited_procs(),
        args: o.args.clone(),
        no_exit_on_failure: false,
        max_reloads: None,
        systemd: o.systemd,
        leaving: None,
        version_told: false,
        mcli: Vec::new(),
        programs: Vec::new(),
    };
    if let Some(m) = master.procs.iter_mut().find(|p| p.kind == ProcKind::Master) {
        m.failed_reloads += 1;
    }
    master.version_told = true;
    master.say(Level::Warning, "Loading failure!");
    let mcli = master_cli_listeners(&o.master_cli, inherited_mcli()).unwrap_or_default();
    master.mcli = mcli.iter().map(|(s, fd, _)| (s.clone(), *fd)).collect();
    notify::send(o.systemd, &notify::ready());
    master_loop(master, &cfg, mcli)
}

/// The master's engine: no proxy, the master CLI listeners, signals with
/// SIGCHLD.
fn master_loop(master: Master, cfg: &Config, mcli: Vec<(String, RawFd, CliLevel)>) -> i32 {
    let mcfg = Config {
        global: cfg.global.clone(),
        ..Default::default()
    };
    let mut engine = match Engine::new(&mcfg, 100, 0, true) {
        Ok(e) => e,
        Err(e) => {
            let msg = format!("cannot create poller: {e}");
            eprintln!("{}", format_line(Level::Alert, None, &msg));
            return 1;
        }
    };
    for (spec, fd, level) in mcli {
        let addr = crate::listener::xfer::sock_addr(fd).unwrap_or(LiAddr::Fd(fd));
        let mut l = Listener::new(fd, addr, engine.cli_fe, LiKind::MasterCli(level));
        l.backlog = 10;
        l.place = (spec, 0);
        engine.add_listener(l);
    }
    engine.master = Some(Box::new(master));
    if !boot::start_engine(&mut engine, true) {
        return 1;
    }
    // Children may have ended while this image started.
    engine.master_reap();
    engine.run();
    engine.exit_code
}

impl Master {
    /// The pids of every worker and program.
    fn children(&self) -> Vec<i32> {
        self.procs
            .iter()
            .filter(|p| p.kind != ProcKind::Master)
            .map(|p| p.pid)
            .collect()
    }

    /// A current worker or program failed: everything else is stopped.
    fn exit_on_failure(&mut self) {
        self.say(
            Level::Alert,
            "exit-on-failure: killing every processes with SIGTERM",
        );
        process::signal_pids(&self.children(), libc::SIGTERM);
    }

    /// `mworker-max-reloads`: old workers that lived through more reloads
    /// are terminated (SIGTERM, no message: their exit is reported).
    fn enforce_max_reloads(&mut self) {
        let Some(max) = self.max_reloads else {
            return;
        };
        let cur = self.current().map(|p| p.pid);
        let over: Vec<i32> = self
            .procs
            .iter()
            .filter(|p| p.kind == ProcKind::Worker && Some(p.pid) != cur && p.reloads > max)
            .map(|p| p.pid)
            .collect();
        process::signal_pids(&over, libc::SIGTERM);
    }
}
