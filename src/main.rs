//! haproxy-rs command line: parses HAProxy's flags and picks a mode
//! (version, check, run). See include-docs/management.md.

use haproxy_rs::boot::{self, Opts};
use haproxy_rs::cfg::cond;
use haproxy_rs::cfg::diag::{Level, format_line};
use haproxy_rs::cfg::parse::{expand_paths, parse_files};
use haproxy_rs::master;

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

fn usage_exit(msg: Option<&str>) -> ! {
    if let Some(m) = msg {
        eprintln!("{}", format_line(Level::Alert, None, m));
    }
    eprint!("{USAGE}");
    std::process::exit(1)
}

fn parse_args(args: &[String]) -> Opts {
    let mut o = Opts {
        args: args.to_vec(),
        ..Default::default()
    };
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
            "-W" => o.master = true,
            "-Ws" => {
                o.master = true;
                o.systemd = true;
            }
            "-S" => {
                i += 1;
                match args.get(i) {
                    Some(a) => o.master_cli.push(a.clone()),
                    None => usage_exit(None),
                }
            }
            "-x" => {
                i += 1;
                match args.get(i) {
                    Some(a) => o.xfer = Some(a.clone()),
                    None => usage_exit(None),
                }
            }
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
        fail(&o);
    }
    // `.diag` lines (only with -dD, even with -q, as in HAProxy) go where
    // they were met among the other messages.
    let mut diag_lines = pre.diag_lines().iter().filter(|_| o.diag).peekable();
    if master::reexecuted() && !quiet && !diags.list.is_empty() {
        // A master tells its version before its first warning.
        master::tell_version();
    }
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
        fail(&o);
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
        fail(&o);
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
        fail(&o);
    }
    let mut o = o;
    o.master |= cfg.global.master_worker;
    std::process::exit(boot::run(o, cfg));
}

/// The configuration cannot be loaded: a re-executed master keeps its
/// workers (wait mode), anything else exits 1.
fn fail(o: &Opts) -> ! {
    if master::reexecuted() {
        std::process::exit(master::wait_mode(o.clone()));
    }
    std::process::exit(1)
}
