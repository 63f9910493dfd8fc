//! haproxy-rs command line: parses HAProxy's flags and picks a mode
//! (version, check, run). See include-docs/management.md.

use haproxy_rs::cfg::cond;
use haproxy_rs::cfg::diag::{Level, format_line};
use haproxy_rs::cfg::parse::{expand_paths, parse_files};
use haproxy_rs::engine::Engine;
use haproxy_rs::engine::signals::setup_signalfd;
use haproxy_rs::listener::{self, LiKind, LiState, Listener};
use haproxy_rs::process;

/// The version `-v` prints, which `version_atleast()` also compares with.
const VERSION: &str = cond::VERSION;
const DATE: &str = "2026/11/23";

const USAGE: &str =
    "Usage : haproxy-rs [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -N sets the default, per-proxy maximum # of connections (0)
        -L set local peer name (default to hostname)
        -p writes pids of all children to this file
        -dS disables splice usage (broken on old kernels)
        -dr ignores server address resolution failures
        -dW fails if any warning is emitted
        -sf/-st [pid ]* finishes/terminates old pids.
";

/// Parsed command line.
#[derive(Default)]
struct Opts {
    files: Vec<String>,
    chdir: Option<String>,
    check: bool,
    /// `-cc <condition>`: evaluate it and exit.
    cc: Option<String>,
    /// `-dD`: print `.diag` messages.
    diag: bool,
    debug: bool,
    foreground: bool,
    daemon: bool,
    quiet: bool,
    verbose: bool,
    version: u8,
    maxconn: Option<u32>,
    pxconn: Option<u32>,
    pidfile: Option<String>,
    nosplice: bool,
    noreuseport: bool,
    ignore_resolve: bool,
    zero_warning: bool,
    localpeer: Option<String>,
    sf: Vec<i32>,
    st: Vec<i32>,
}

fn usage_exit(msg: Option<&str>) -> ! {
    if let Some(m) = msg {
        eprintln!("{}", format_line(Level::Alert, None, m));
    }
    eprint!("{USAGE}");
    std::process::exit(1)
}

fn parse_args(args: &[String]) -> Opts {
    let mut o = Opts::default();
    let mut i = 0;
    let next_num = |i: &mut usize, flag: &str| -> u32 {
        *i += 1;
        match args.get(*i).and_then(|v| v.parse().ok()) {
            Some(v) => v,
            None => usage_exit(Some(&format!("'{flag}' expects an integer argument."))),
        }
    };
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--" => {
                o.files.extend(args[i + 1..].iter().cloned());
                break;
            }
            "-f" => {
                i += 1;
                match args.get(i) {
                    Some(f) => o.files.push(f.clone()),
                    None => usage_exit(None),
                }
            }
            "-C" => {
                i += 1;
                o.chdir = args.get(i).cloned();
            }
            "-c" => o.check = true,
            "-cc" => {
                // Evaluated once every argument is read, as HAProxy does.
                i += 1;
                match args.get(i) {
                    Some(c) => o.cc = Some(c.clone()),
                    None => usage_exit(None),
                }
            }
            "-d" => {
                o.debug = true;
                o.foreground = true;
            }
            "-db" => o.foreground = true,
            "-D" => o.daemon = true,
            "-q" => o.quiet = true,
            "-V" => o.verbose = true,
            "-v" => o.version = o.version.max(1),
            "-vv" => o.version = 2,
            "-dS" => o.nosplice = true,
            "-dR" => o.noreuseport = true,
            "-dr" => o.ignore_resolve = true,
            "-dW" => o.zero_warning = true,
            "-dD" => o.diag = true,
            "-de" | "-dp" | "-dk" | "-dG" | "-dV" => {}
            "-n" => o.maxconn = Some(next_num(&mut i, "-n")),
            "-N" => o.pxconn = Some(next_num(&mut i, "-N")),
            "-p" => {
                i += 1;
                o.pidfile = args.get(i).cloned();
            }
            "-L" => {
                i += 1;
                o.localpeer = args.get(i).cloned();
            }
            "-sf" | "-st" => {
                // The pid list ends at the next argument starting with '-'.
                while let Some(p) = args.get(i + 1).filter(|s| !s.starts_with('-')) {
                    match p.parse::<i32>() {
                        Ok(pid) if a == "-sf" => o.sf.push(pid),
                        Ok(pid) => o.st.push(pid),
                        Err(_) => usage_exit(Some(&format!(
                            "'{a}' expects pids as arguments, got '{p}'."
                        ))),
                    }
                    i += 1;
                }
            }
            "-W" | "-Ws" | "-S" | "-x" => usage_exit(Some(&format!(
                "'{a}': master-worker mode and socket transfer are not supported yet by haproxy-rs."
            ))),
            other if other.starts_with("-d") => {}
            other => usage_exit(Some(&format!("unknown option '{other}'."))),
        }
        i += 1;
    }
    o
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = parse_args(&args);
    if o.version > 0 {
        println!("HAProxy version {VERSION} {DATE} - https://haproxy.org/");
        println!(
            "haproxy-rs {}: an HAProxy 2.6 compatible load balancer written in Rust",
            env!("CARGO_PKG_VERSION")
        );
        if o.version > 1 {
            println!(
                "Build options : single thread, epoll (edge-triggered), splice, no SSL, no Lua"
            );
            println!("\nFeature list : {}", cond::FEATURES);
            println!("Available polling systems :\n      epoll : pref=300,  test result OK");
        }
        std::process::exit(0);
    }
    if let Some(c) = &o.cc {
        // configuration.txt 2.4: exit 0 if true, 1 if false, 2 on an error.
        let env = |k: &str| std::env::var(k).ok();
        match cond::eval_cc(c, &env) {
            Ok(v) => std::process::exit(if v { 0 } else { 1 }),
            Err(m) => {
                if !o.quiet || o.verbose {
                    eprintln!("{}", format_line(Level::Alert, Some("config"), &m));
                }
                std::process::exit(2)
            }
        }
    }
    if o.files.is_empty() {
        usage_exit(None);
    }
    if let Some(d) = &o.chdir
        && std::env::set_current_dir(d).is_err()
    {
        eprintln!(
            "{}",
            format_line(Level::Alert, None, &format!("Cannot chdir to {d}"))
        );
        std::process::exit(1);
    }
    if let Some(l) = &o.localpeer {
        // SAFETY: single-threaded at this point.
        unsafe { std::env::set_var("HAPROXY_LOCALPEER", l) };
    }
    let files = expand_paths(&o.files);
    let (cfg, diags, pre) = parse_files(&files, o.ignore_resolve);
    let quiet = (o.quiet || cfg.global.quiet) && !o.verbose;
    let zero_warning = o.zero_warning || cfg.global.zero_warning;
    let cannot_open = diags
        .list
        .iter()
        .any(|d| d.msg.starts_with("Cannot open configuration file"));
    if cannot_open {
        // HAProxy stops at the first file it cannot open, with only that line.
        if let Some(d) = diags
            .list
            .iter()
            .find(|d| d.msg.starts_with("Cannot open configuration file"))
            .filter(|_| !quiet)
        {
            eprintln!("{}", d.render());
        }
        std::process::exit(1);
    }
    // `.diag` lines (only with -dD, even with -q, as in HAProxy) go where
    // they were met among the other messages.
    let mut diag_lines = pre.diag_lines().iter().filter(|_| o.diag).peekable();
    if !quiet {
        for (i, d) in diags.list.iter().enumerate() {
            while let Some(l) = diag_lines.next_if(|l| l.before <= i) {
                eprintln!("{}", l.render());
            }
            eprintln!("{}", d.render());
        }
    }
    for l in diag_lines {
        eprintln!("{}", l.render());
    }
    if diags.alerts() > 0 {
        if !quiet {
            let parse_errs = diags
                .list
                .iter()
                .any(|d| d.level == Level::Alert && d.place.is_some());
            if parse_errs {
                for f in &o.files {
                    eprintln!(
                        "{}",
                        format_line(
                            Level::Alert,
                            Some("config"),
                            &format!("Error(s) found in configuration file : {f}")
                        )
                    );
                }
            }
            // After an error that aborts (see cfg::cond), HAProxy skips this line.
            if !pre.aborted() {
                eprintln!(
                    "{}",
                    format_line(
                        Level::Alert,
                        Some("config"),
                        "Fatal errors found in configuration."
                    )
                );
            }
        }
        std::process::exit(1);
    }
    if zero_warning && diags.warnings() > 0 {
        if !quiet {
            eprintln!(
                "{}",
                format_line(
                    Level::Alert,
                    None,
                    "Some warnings were found and 'zero-warning' is set. Aborting."
                )
            );
        }
        std::process::exit(1);
    }
    let has_listener = cfg
        .proxies
        .iter()
        .any(|p| p.cap.fe && !p.disabled && !p.binds.is_empty());
    if o.check {
        if !quiet && diags.warnings() > 0 {
            println!("Warnings were found.");
        }
        if !has_listener {
            if !quiet {
                println!(
                    "Configuration file has no error but will not start (no listener) => exit(2)."
                );
            }
            std::process::exit(2);
        }
        if !quiet {
            println!("Configuration file is valid");
        }
        std::process::exit(0);
    }
    if !has_listener {
        eprintln!(
            "{}",
            format_line(
                Level::Alert,
                None,
                "[haproxy-rs.main()] No enabled listener found (check for 'bind' directives) ! Exiting."
            )
        );
        std::process::exit(1);
    }
    std::process::exit(run(o, cfg));
}

/// HAProxy's bind failure alert: `Binding [file:line] for <what>: cannot
/// bind socket (<error>) for [<addr>]`.
fn bind_alert(file: &str, line: usize, what: &str, e: &std::io::Error, addr: &listener::LiAddr) {
    let msg = format!(
        "Binding [{file}:{line}] for {what}: cannot bind socket ({}) for [{addr}]",
        haproxy_rs::cfg::parse::strerror(e)
    );
    eprintln!("{}", format_line(Level::Alert, None, &msg));
}

/// Socket options of a `bind` line that apply to the listening socket.
fn apply_bind_options(fd: i32, b: &haproxy_rs::cfg::model::BindCfg) {
    use haproxy_rs::conn::sock::setsockopt_int;
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

/// Global maxconn as HAProxy derives it: `-n`, else `global maxconn`, else
/// what the file-descriptor hard limit allows (2 fds per proxied connection).
fn compute_maxconn(o: &Opts, cfg: &haproxy_rs::cfg::model::Config, nlisteners: u64) -> u32 {
    let hard = process::nofile_hard();
    let reserve = nlisteners + 100;
    match o.maxconn.or(if cfg.global.maxconn > 0 {
        Some(cfg.global.maxconn)
    } else {
        None
    }) {
        Some(m) => m,
        None => (hard.saturating_sub(reserve) / 2).clamp(100, 1_000_000) as u32,
    }
}

fn run(o: Opts, cfg: haproxy_rs::cfg::model::Config) -> i32 {
    let nl: u64 = cfg
        .proxies
        .iter()
        .map(|p| p.binds.iter().map(|b| b.addrs.len() as u64).sum::<u64>())
        .sum();
    let maxconn = compute_maxconn(&o, &cfg, nl);
    let want_fds = if cfg.global.ulimit_n > 0 {
        cfg.global.ulimit_n
    } else {
        maxconn as u64 * 2 + nl + 100
    };
    let got = process::raise_nofile(want_fds);
    if got < want_fds {
        eprintln!(
            "{}",
            format_line(
                Level::Warning,
                None,
                &format!(
                    "[haproxy-rs.main()] Cannot raise FD limit to {want_fds}, limit is {got}."
                )
            )
        );
    }
    let nosplice = o.nosplice || cfg.global.nosplice;
    // The listeners' TLS states, where handshakes and the CLI find them.
    haproxy_rs::ssl::reg::install(
        cfg.tls_binds.clone(),
        cfg.tls_servers.clone(),
        cfg.global.ssl.clone(),
    );
    let mut engine = match Engine::new(&cfg, maxconn, o.pxconn.unwrap_or(0), nosplice) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "{}",
                format_line(Level::Alert, None, &format!("cannot create poller: {e}"))
            );
            return 1;
        }
    };
    // Bind every listener; on EADDRINUSE with old pids, pause them and retry.
    let reuseport = !o.noreuseport && !cfg.global.noreuseport;
    let old: Vec<i32> = o.sf.iter().chain(o.st.iter()).copied().collect();
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
                    let backlog = b.backlog.or(p.backlog).unwrap_or(if p.maxconn > 0 {
                        p.maxconn as i32
                    } else {
                        1024
                    });
                    let mut res = listener::bind(&addr, backlog, reuseport, b.v6only);
                    if matches!(&res, Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE))
                        && !old.is_empty()
                    {
                        if !paused_old {
                            process::signal_pids(&old, libc::SIGTTOU);
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
                            let li = engine.listeners.len();
                            apply_bind_options(fd, b);
                            engine.listeners.push(Listener {
                                fd,
                                addr: addr.clone(),
                                fe: pi,
                                kind: LiKind::Proxy,
                                name: b.name.clone(),
                                maxconn: b.maxconn,
                                backlog,
                                accept_proxy: b.accept_proxy,
                                tls: b.tls_id,
                                bind_id: next_id,
                                nbconn: 0,
                                state: LiState::Ready,
                                place: (b.file.clone(), b.line),
                            });
                            engine.proxies[pi].listeners.push(li);
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
            let res = match &addr {
                listener::LiAddr::Unix(p) => haproxy_rs::conn::sock::unix_listen(p, 10, sc.mode),
                a => listener::bind(a, 10, reuseport, false),
            };
            match res {
                Ok(fd) => engine.listeners.push(Listener {
                    fd,
                    addr: addr.clone(),
                    fe: engine.cli_fe,
                    kind: LiKind::Cli(sc.level),
                    name: None,
                    maxconn: 0,
                    backlog: 10,
                    accept_proxy: false,
                    tls: None,
                    bind_id: 0,
                    nbconn: 0,
                    state: LiState::Ready,
                    place: (sc.file.clone(), sc.line),
                }),
                Err(e) => {
                    failed = true;
                    bind_alert(&sc.file, sc.line, "stats socket", &e, &addr);
                }
            }
        }
    }
    if failed {
        if paused_old {
            process::signal_pids(&old, libc::SIGTTIN);
        }
        eprintln!(
            "{}",
            format_line(
                Level::Alert,
                None,
                "[haproxy-rs.main()] Some protocols failed to start their listeners! Exiting."
            )
        );
        return 1;
    }
    // Old processes: finish (-sf) or terminate (-st) now that we listen.
    process::signal_pids(&o.sf, libc::SIGUSR1);
    process::signal_pids(&o.st, libc::SIGTERM);
    let daemon = (o.daemon || cfg.global.daemon) && !o.foreground;
    let pidfile = o.pidfile.clone().or(cfg.global.pidfile.clone());
    if daemon && let Err(e) = process::daemonize(false, pidfile.as_deref()) {
        eprintln!(
            "{}",
            format_line(
                Level::Alert,
                None,
                &format!("[haproxy-rs.main()] Cannot fork: {e}.")
            )
        );
        return 1;
    }
    if let Err(m) =
        process::drop_privileges(cfg.global.chroot.as_deref(), cfg.global.uid, cfg.global.gid)
    {
        eprintln!("{}", format_line(Level::Alert, None, &m));
        return 1;
    }
    let sfd = match setup_signalfd() {
        Ok(fd) => fd,
        Err(e) => {
            eprintln!(
                "{}",
                format_line(Level::Alert, None, &format!("cannot set up signals: {e}"))
            );
            return 1;
        }
    };
    if let Err(e) = engine
        .start_signals(sfd)
        .and_then(|_| engine.start_listeners())
    {
        eprintln!(
            "{}",
            format_line(
                Level::Alert,
                None,
                &format!("cannot register listeners: {e}")
            )
        );
        return 1;
    }
    engine.checks_start();
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
    0
}
