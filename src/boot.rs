//! Start-up once the configuration is checked: the file-descriptor limit,
//! the listeners (bound here, or taken over from the previous process with
//! `-x`), then either a standalone process or a master and its worker
//! (`crate::master`).
//!
//! ```text
//!   standalone:  bind_all -> signal -sf/-st pids -> daemonize? -> run_worker
//!   master:      bind_all -> fork --child--> run_worker (listeners, ipc end)
//!                             \--parent--> closes the listeners, supervises
//! ```

use crate::cfg::diag::{Level, format_line};
use crate::cfg::model::{BindCfg, Config, ProxyCfg};
use crate::engine::Engine;
use crate::engine::signals::setup_signalfd;
use crate::listener::xfer::Inherited;
use crate::listener::{self, LiAddr, LiKind, Listener};
use crate::process;

pub mod limits;
use limits::Limits;

/// What the command line asked for (see `main.rs` for the flags).
#[derive(Default, Clone)]
pub struct Opts {
    pub files: Vec<String>,
    pub chdir: Option<String>,
    pub check: bool,
    /// `-cc <condition>`: evaluate it and exit.
    pub cc: Option<String>,
    /// `-dD`: print `.diag` messages.
    pub diag: bool,
    pub debug: bool,
    pub foreground: bool,
    pub daemon: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub version: u8,
    pub maxconn: Option<u32>,
    pub pxconn: Option<u32>,
    pub pidfile: Option<String>,
    pub nosplice: bool,
    pub noreuseport: bool,
    pub ignore_resolve: bool,
    pub zero_warning: bool,
    pub localpeer: Option<String>,
    pub sf: Vec<i32>,
    pub st: Vec<i32>,
    /// `-W`, `-Ws` or `master-worker`: run as a master and its worker.
    pub master: bool,
    /// `-Ws`: tell systemd (`$NOTIFY_SOCKET`) about readiness and reloads.
    pub systemd: bool,
    /// `-S <addr>[,<opt>...]`: the master CLI's listeners.
    pub master_cli: Vec<String>,
    /// `-x <socket>`: where to take the listening sockets from.
    pub xfer: Option<String>,
    /// The arguments as given, for the master's re-execution.
    pub args: Vec<String>,
}

/// HAProxy's bind failure alert: `Binding [file:line] for <what>: cannot
/// bind socket (<error>) for [<addr>]`.
fn bind_alert(file: &str, line: usize, what: &str, e: &std::io::Error, addr: &LiAddr) {
    let msg = format!(
        "Binding [{file}:{line}] for {what}: cannot bind socket ({}) for [{addr}]",
        crate::cfg::parse::strerror(e)
    );
    eprintln!("{}", format_line(Level::Alert, None, &msg));
}

/// Socket options of a `bind` line that apply to the listening socket.
fn apply_bind_options(fd: i32, b: &BindCfg) {
    use crate::conn::sock::setsockopt_int;
    if b.defer_accept {
        let _ = setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 1);
    }
    if b.tfo {
        let _ = setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_FASTOPEN, 1024);
    }
    if let Some(ifname) = &b.interface {
        // SAFETY: the name bytes are valid for their length during the call.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_BINDTODEVICE,
                ifname.as_ptr() as *const libc::c_void,
                ifname.len() as libc::socklen_t,
            )
        };
    }
}

/// The fd budget of HAProxy 2.6 for this configuration, applied to
/// `RLIMIT_NOFILE` (see [`limits`]). `master`: run by a master, whose
/// worker has one more fd (its socketpair). None after the alert
/// `Cannot raise FD limit to <n>, limit is <m>.` (`strict-limits`); the
/// caller exits with status 1.
pub fn set_limits(o: &Opts, cfg: &Config, master: bool) -> Option<Limits> {
    let (soft, hard) = process::nofile();
    let inputs = limits::inputs(cfg, o.maxconn, o.pxconn.unwrap_or(0), master, (soft, hard));
    let mut l = limits::derive_limits(&inputs);
    // HAProxy names itself by argv[0] in these messages.
    let prog = std::env::args()
        .next()
        .unwrap_or_else(|| "haproxy-rs".into());
    let strict = cfg.global.strict_limits;
    match limits::apply_nofile(&mut l, inputs.fd_hard_limit, strict, hard) {
        Ok(msgs) => {
            for (level, m) in msgs {
                eprintln!(
                    "{}",
                    format_line(level, None, &format!("[{prog}.main()] {m}"))
                );
            }
            Some(l)
        }
        Err(limits::NofileRefused(m)) => {
            eprintln!(
                "{}",
                format_line(Level::Alert, None, &format!("[{prog}.main()] {m}"))
            );
            None
        }
    }
}

/// The `listen(2)` backlog of a listener as 2.6 picks it
/// (`listener_backlog()`): the bind's `backlog`, the proxy's `backlog`, the
/// bind's `maxconn`, the proxy's `maxconn` (default: `-N`, else the global
/// maxconn). A zero is "not set".
fn listener_backlog(b: &BindCfg, p: &ProxyCfg, pxconn: u32, maxconn: u32) -> i32 {
    let set = |v: Option<i32>| v.filter(|&n| n > 0);
    let conn = |n: u32| (n > 0).then_some(n.min(i32::MAX as u32) as i32);
    set(b.backlog)
        .or(set(p.backlog))
        .or(conn(b.maxconn))
        .or(conn(p.maxconn))
        .or(conn(pxconn))
        .unwrap_or(maxconn.min(i32::MAX as u32) as i32)
}

/// Some listener could not be bound (each failure was reported).
#[derive(Debug)]
pub struct BindFailed;

/// The listeners of the configuration, bound or taken from `inherited`.
/// `old` are processes that may hold the addresses without SO_REUSEPORT:
/// on EADDRINUSE they are paused (SIGTTOU) and the bind retried. Err after
/// every failure has been reported (and paused processes resumed).
/// `maxconn` (the global one) is the last default of the backlog.
pub fn bind_all(
    o: &Opts,
    cfg: &Config,
    maxconn: u32,
    inherited: &mut Inherited,
    old: &[i32],
) -> Result<Vec<Listener>, BindFailed> {
    let reuseport = !o.noreuseport && !cfg.global.noreuseport;
    let cli_fe = cfg.proxies.len();
    let mut out = Vec::new();
    let mut paused_old = false;
    let mut failed = false;
    for (pi, p) in cfg.proxies.iter().enumerate() {
        if !p.cap.fe || p.disabled {
            continue;
        }
        // Listeners are numbered per frontend, one per address, from 1 (or
        // from a bind line's `id`): error logs name them so.
        let mut next_id = 1usize;
        for b in p.binds.iter() {
            if let Some(id) = b.id {
                next_id = id as usize;
            }
            for ba in &b.addrs {
                for addr in listener::expand(ba) {
                    let backlog = listener_backlog(b, p, o.pxconn.unwrap_or(0), maxconn);
                    let mut res = match inherited.take(&addr) {
                        Some(fd) => Ok(fd),
                        None => listener::bind(&addr, backlog, reuseport, b.v6only),
                    };
                    if matches!(&res, Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE))
                        && !old.is_empty()
                    {
                        if !paused_old {
                            process::signal_pids(old, libc::SIGTTOU);
                            paused_old = true;
                        }
                        for _ in 0..20 {
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            res = listener::bind(&addr, backlog, reuseport, b.v6only);
                            if res.is_ok() {
                                break;
                            }
                        }
                    }
                    match res {
                        Ok(fd) => {
                            apply_bind_options(fd, b);
                            let mut l = Listener::new(fd, addr.clone(), pi, LiKind::Proxy);
                            l.name = b.name.clone();
                            l.maxconn = b.maxconn;
                            l.backlog = backlog;
                            l.accept_proxy = b.accept_proxy;
                            l.tls = b.tls_id;
                            l.bind_id = next_id;
                            l.place = (b.file.clone(), b.line);
                            out.push(l);
                            next_id += 1;
                        }
                        Err(e) => {
                            failed = true;
                            let what = format!(
                                "{} {}",
                                if p.kind == "listen" { "proxy" } else { p.kind },
                                p.name
                            );
                            bind_alert(&b.file, b.line, &what, &e, &addr);
                        }
                    }
                }
            }
        }
    }
    for sc in &cfg.global.stats_sockets {
        for addr in listener::expand(&sc.addr) {
            let res = match (inherited.take(&addr), &addr) {
                (Some(fd), _) => Ok(fd),
                (None, LiAddr::Unix(p)) => crate::conn::sock::unix_listen(p, 10, sc.mode),
                (None, a) => listener::bind(a, 10, reuseport, false),
            };
            match res {
                Ok(fd) => {
                    let mut l = Listener::new(fd, addr.clone(), cli_fe, LiKind::Cli(sc.level));
                    l.backlog = 10;
                    l.expose_fd = sc.expose_fd;
                    l.place = (sc.file.clone(), sc.line);
                    out.push(l);
                }
                Err(e) => {
                    failed = true;
                    bind_alert(&sc.file, sc.line, "stats socket", &e, &addr);
                }
            }
        }
    }
    inherited.close_rest();
    if failed {
        if paused_old {
            process::signal_pids(old, libc::SIGTTIN);
        }
        for l in &out {
            crate::conn::sock::close(l.fd);
        }
        let msg = "[haproxy-rs.main()] Some protocols failed to start their listeners! Exiting.";
        eprintln!("{}", format_line(Level::Alert, None, msg));
        return Err(BindFailed);
    }
    Ok(out)
}

/// Takes the listening sockets from `-x <socket>` when given. A failure
/// is reported and the listeners are bound anew, as HAProxy does.
pub fn inherited_sockets(o: &Opts) -> Inherited {
    match &o.xfer {
        None => Inherited::default(),
        Some(spec) => match crate::listener::xfer::fetch(spec) {
            Ok(i) => i,
            Err(e) => {
                let msg = format!("Failed to get the sockets from the old process! ({e})");
                eprintln!("{}", format_line(Level::Warning, None, &msg));
                Inherited::default()
            }
        },
    }
}

/// A standalone process (no master): binds, tells the old processes to
/// leave, daemonizes if asked, then serves.
pub fn run_standalone(o: Opts, cfg: Config) -> i32 {
    let Some(limits) = set_limits(&o, &cfg, false) else {
        return 1;
    };
    let mut inherited = inherited_sockets(&o);
    let old: Vec<i32> = o.sf.iter().chain(o.st.iter()).copied().collect();
    let Ok(listeners) = bind_all(&o, &cfg, limits.maxconn, &mut inherited, &old) else {
        return 1;
    };
    // Old processes: finish (-sf) or terminate (-st) now that we listen.
    process::signal_pids(&o.sf, libc::SIGUSR1);
    process::signal_pids(&o.st, libc::SIGTERM);
    let daemon = (o.daemon || cfg.global.daemon) && !o.foreground;
    let pidfile = o.pidfile.clone().or(cfg.global.pidfile.clone());
    if daemon && let Err(e) = process::daemonize(false, pidfile.as_deref()) {
        let msg = format!("[haproxy-rs.main()] Cannot fork: {e}.");
        eprintln!("{}", format_line(Level::Alert, None, &msg));
        return 1;
    }
    run_worker(&o, &cfg, listeners, limits, None)
}

/// Serves `listeners` until stopped: the worker's life (standalone or
/// forked by the master, then `ipc` is its end of the master's socketpair,
/// on which master CLI connections arrive), under the fd budget `limits`.
pub fn run_worker(
    o: &Opts,
    cfg: &Config,
    listeners: Vec<Listener>,
    limits: Limits,
    ipc: Option<i32>,
) -> i32 {
    let nosplice = o.nosplice || cfg.global.nosplice;
    // The listeners' TLS states, where handshakes and the CLI find them.
    crate::ssl::reg::install(
        cfg.tls_binds.clone(),
        cfg.tls_servers.clone(),
        cfg.global.ssl.clone(),
    );
    let mut engine = match Engine::new(cfg, limits.maxconn, o.pxconn.unwrap_or(0), nosplice) {
        Ok(e) => e,
        Err(e) => {
            let msg = format!("cannot create poller: {e}");
            eprintln!("{}", format_line(Level::Alert, None, &msg));
            return 1;
        }
    };
    engine.maxsock = limits.maxsock;
    engine.ulimit_n = limits.nofile;
    // 2.6's maxpipes: 0 when no proxy splices (unless `maxpipes` is set).
    engine.io.pipes.max = limits.maxpipes as usize;
    for l in listeners {
        engine.add_listener(l);
    }
    if let Some(fd) = ipc {
        // The master's connections come as fds on this socketpair: a CLI
        // listener at admin level that may hand out the listeners (-x).
        let mut l = Listener::new(
            fd,
            LiAddr::Fd(fd),
            engine.cli_fe,
            LiKind::SockPair(crate::cfg::model::CliLevel::Admin),
        );
        l.expose_fd = true;
        engine.add_listener(l);
    }
    if let Err(m) =
        process::drop_privileges(cfg.global.chroot.as_deref(), cfg.global.uid, cfg.global.gid)
    {
        eprintln!("{}", format_line(Level::Alert, None, &m));
        return 1;
    }
    if !start_engine(&mut engine, false) {
        return 1;
    }
    engine.checks_start();
    if let Some(fd) = ipc {
        // Tell the master this worker serves: only then does it stop the
        // previous ones (`master::wait_ready`).
        let _ = crate::conn::sock::send(fd, READY, false);
    }
    engine.debug = o.debug;
    if o.debug {
        eprintln!(
            "Available polling systems :\n      epoll : pref=300,  test result OK\nUsing epoll() as the polling mechanism."
        );
    }
    engine.run();
    if let Some(sig) = engine.exit_signal {
        Engine::die_by_signal(sig);
    }
    engine.exit_code
}

/// Registers the signals (with SIGCHLD for a master) and the listeners
/// with the engine's poller. False after a failure, which is reported.
pub fn start_engine(engine: &mut Engine, master: bool) -> bool {
    let res = setup_signalfd(master)
        .map_err(|e| format!("cannot set up signals: {e}"))
        .and_then(|fd| {
            engine
                .start_signals(fd)
                .and_then(|_| engine.start_listeners())
                .map_err(|e| format!("cannot register listeners: {e}"))
        });
    if let Err(msg) = &res {
        eprintln!("{}", format_line(Level::Alert, None, msg));
    }
    res.is_ok()
}

/// What a forked worker sends its master once it serves.
pub const READY: &[u8] = b"R";

/// Runs the checked configuration: as a master (`-W`, `-Ws`,
/// `master-worker`) or standalone.
pub fn run(o: Opts, cfg: Config) -> i32 {
    if o.master {
        crate::master::run(o, cfg)
    } else {
        run_standalone(o, cfg)
    }
}
