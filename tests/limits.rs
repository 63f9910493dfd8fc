//! Resource limits as HAProxy 2.6 enforces them (configuration.txt 3.1
//! `maxconn`, `ulimit-n`, `fd-hard-limit`, `strict-limits`, `maxpipes`;
//! management.txt `-n`/`-N`): each case runs HAProxy 2.6 and haproxy-rs
//! under the same `prlimit --nofile` and asserts the same outcome, either
//! the same refusal (exit code and alert) or the same `show info` Maxconn,
//! Maxsock, Ulimit-n and Maxpipes, the same soft fd limit in
//! /proc/<pid>/limits, the same listen backlogs and the same warnings.
//! Skipped when /usr/sbin/haproxy or prlimit is missing.

mod common;

use common::{HAPROXY, TempDir, bin, free_port, have_haproxy, listening};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One configuration run under one fd limit.
#[derive(Clone, Copy, Default)]
struct Case {
    /// `prlimit --nofile=<soft>:<hard>`.
    soft: u64,
    hard: u64,
    /// `bind` lines in the one `listen` section.
    listeners: usize,
    /// A `stats socket` (to read `show info`).
    stats: bool,
    /// `option splice-auto` in the `listen` section.
    splice: bool,
    /// Extra lines in `global`, `\n`-separated.
    global: &'static str,
    /// Extra lines in the `listen` section, `\n`-separated.
    listen: &'static str,
    /// Extra command-line arguments.
    args: &'static [&'static str],
}

/// What a run led to.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Exited at start-up: exit code and its alert/warning lines.
    Refused(i32, Vec<String>),
    Running {
        /// Maxconn, Maxsock, Ulimit-n, Maxpipes, Hard_maxconn from `show
        /// info` (empty without a stats socket).
        info: Vec<String>,
        /// The soft "Max open files" of /proc/<pid>/limits.
        nofile: String,
        /// The backlog (Send-Q of the LISTEN socket) of each listener.
        backlogs: Vec<String>,
        /// Warning and alert lines printed at start-up.
        msgs: Vec<String>,
    },
}

fn have_tools() -> bool {
    let ok = Path::new("/usr/bin/prlimit").exists() && Path::new("/usr/bin/ss").exists();
    if !ok {
        eprintln!("note: prlimit or ss missing, skipping");
    }
    ok && have_haproxy()
}

/// `[ALERT]    (123) : [/usr/sbin/haproxy.main()] msg` -> `[ALERT] msg`;
/// lines other than warnings and alerts are dropped.
fn messages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("[ALERT]") || l.starts_with("[WARNING]"))
        .map(|l| {
            let level = l.split_whitespace().next().unwrap_or("");
            let msg = l.split_once(".main()] ").map_or(l, |(_, m)| m);
            format!("{level} {msg}")
        })
        .collect()
}

fn config(c: &Case, dir: &TempDir, ports: &[u16]) -> String {
    let mut s = String::from("global\n");
    if c.stats {
        s += &format!(
            "  stats socket {}/stats.sock level admin\n",
            dir.path().display()
        );
    }
    for l in c.global.lines().filter(|l| !l.is_empty()) {
        s += &format!("  {l}\n");
    }
    s += "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";
    s += "listen l\n";
    if c.splice {
        s += "  option splice-auto\n";
    }
    for l in c.listen.lines().filter(|l| !l.is_empty()) {
        s += &format!("  {l}\n");
    }
    for p in ports {
        s += &format!("  bind 127.0.0.1:{p}\n");
    }
    // Nothing connects: the server needs no listener.
    s += &format!("  server s 127.0.0.1:{}\n", free_port());
    s
}

fn show_info(sock: &Path) -> Vec<String> {
    let out = common::cli(sock, "show info");
    ["Maxconn", "Hard_maxconn", "Maxsock", "Ulimit-n", "Maxpipes"]
        .iter()
        .map(|k| {
            out.lines()
                .find(|l| l.split(':').next() == Some(k))
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn soft_nofile(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .unwrap_or("")
        .to_string()
}

fn backlog(port: u16) -> String {
    let o = Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("ss");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    out.split_whitespace().nth(2).unwrap_or("").to_string()
}

/// Kills and reaps the child on every path.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `program` on case `c` and reports what happened.
fn run(program: &str, c: &Case) -> Outcome {
    let dir = TempDir::new("limits");
    let ports: Vec<u16> = (0..c.listeners).map(|_| free_port()).collect();
    let cfg = dir.write("haproxy.cfg", &config(c, &dir, &ports));
    let err = dir.path().join("stderr.log");
    let mut args = vec![
        format!("--nofile={}:{}", c.soft, c.hard),
        program.to_string(),
        "-db".into(),
        "-f".into(),
        cfg.display().to_string(),
    ];
    args.extend(c.args.iter().map(|a| a.to_string()));
    let child = Command::new("prlimit")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("spawn prlimit");
    let mut child = Reap(child);
    let pid = child.0.id();
    let sock = dir.path().join("stats.sock");
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(st)) = child.0.try_wait() {
            let stderr = std::fs::read_to_string(&err).unwrap_or_default();
            return Outcome::Refused(st.code().unwrap_or(-1), messages(&stderr));
        }
        let up = ports.iter().all(|&p| listening(pid as i32, p))
            && (!c.stats || std::os::unix::net::UnixStream::connect(&sock).is_ok());
        if up {
            break;
        }
        assert!(Instant::now() < end, "{program} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let info = if c.stats {
        show_info(&sock)
    } else {
        Vec::new()
    };
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    Outcome::Running {
        info,
        nofile: soft_nofile(pid),
        backlogs: ports.iter().map(|&p| backlog(p)).collect(),
        msgs: messages(&stderr),
    }
}

/// Runs each case on HAProxy 2.6 and haproxy-rs and asserts the same
/// outcome; returns the outcomes for further checks.
fn same_as_haproxy(cases: &[(&str, Case)]) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (name, c) in cases {
        let want = run(HAPROXY, c);
        let got = run(bin(), c);
        eprintln!("{name}: {want:?}");
        assert_eq!(
            got, want,
            "case {name}: haproxy-rs (left) vs HAProxy 2.6 (right)"
        );
        out.push(got);
    }
    out
}

fn lim(soft: u64, hard: u64, listeners: usize, stats: bool, splice: bool) -> Case {
    Case {
        soft,
        hard,
        listeners,
        stats,
        splice,
        ..Default::default()
    }
}

#[test]
fn derived_maxconn_is_haproxy_26s_for_the_same_fd_limit() {
    if !have_tools() {
        return;
    }
    let mut cases = Vec::new();
    for (s, h) in [(256, 256), (1024, 1024), (20000, 20000), (256, 1024)] {
        for n in [1, 3] {
            for splice in [false, true] {
                cases.push(("auto", lim(s, h, n, true, splice)));
            }
        }
    }
    let outs = same_as_haproxy(&cases);
    // 256 fds with splicing: maxconn 100 needs 278 fds, so both refuse.
    assert!(
        matches!(&outs[1], Outcome::Refused(1, m) if m == &["[ALERT] Cannot raise FD limit to 278, limit is 256."])
    );
}

#[test]
fn derived_maxconn_without_stats_socket_shows_in_backlog_and_ulimit() {
    if !have_tools() {
        return;
    }
    same_as_haproxy(&[
        ("1024 1 listener", lim(1024, 1024, 1, false, false)),
        ("1024 3 listeners", lim(1024, 1024, 3, false, false)),
        ("20000 splice", lim(20000, 20000, 1, false, true)),
        ("256 3 listeners", lim(256, 256, 3, false, false)),
    ]);
}

#[test]
fn strict_limits_refuses_a_maxconn_the_fd_limit_cannot_hold() {
    if !have_tools() {
        return;
    }
    let base = lim(1024, 1024, 1, true, false);
    let outs = same_as_haproxy(&[
        (
            "global maxconn",
            Case {
                global: "maxconn 600",
                ..base
            },
        ),
        (
            "-n",
            Case {
                args: &["-n", "600"],
                ..base
            },
        ),
        (
            "soft below hard",
            Case {
                soft: 256,
                args: &["-n", "600"],
                ..base
            },
        ),
        (
            "explicit strict-limits",
            Case {
                global: "maxconn 600\nstrict-limits",
                ..base
            },
        ),
        (
            "maxpipes counts",
            Case {
                global: "maxpipes 50",
                ..base
            },
        ),
        (
            "ulimit-n above hard",
            Case {
                global: "ulimit-n 2000",
                ..base
            },
        ),
        (
            "fits",
            Case {
                global: "maxconn 400",
                ..base
            },
        ),
        (
            "maxconn lowers the soft limit",
            Case {
                soft: 20000,
                hard: 20000,
                global: "maxconn 100",
                ..base
            },
        ),
    ]);
    assert_eq!(
        outs[0],
        Outcome::Refused(
            1,
            vec!["[ALERT] Cannot raise FD limit to 1228, limit is 1024.".into()]
        )
    );
}

#[test]
fn no_strict_limits_warns_and_keeps_maxconn() {
    if !have_tools() {
        return;
    }
    let base = Case {
        global: "maxconn 600\nno strict-limits",
        ..lim(1024, 1024, 1, true, false)
    };
    let outs = same_as_haproxy(&[
        ("maxconn 600", base),
        (
            "maxconn 600 splice",
            Case {
                splice: true,
                ..base
            },
        ),
        (
            "derived with splice at 256",
            Case {
                global: "no strict-limits",
                splice: true,
                ..lim(256, 256, 1, true, false)
            },
        ),
        (
            "ulimit-n above hard",
            Case {
                global: "ulimit-n 2000\nno strict-limits",
                ..base
            },
        ),
    ]);
    match &outs[0] {
        Outcome::Running { info, msgs, .. } => {
            assert_eq!(info[0], "Maxconn: 600");
            assert_eq!(msgs.len(), 2, "{msgs:?}");
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn fd_hard_limit_caps_the_budget() {
    if !have_tools() {
        return;
    }
    let base = lim(20000, 20000, 1, true, false);
    same_as_haproxy(&[
        (
            "1000",
            Case {
                global: "fd-hard-limit 1000",
                ..base
            },
        ),
        (
            "1000 soft 256",
            Case {
                soft: 256,
                global: "fd-hard-limit 1000",
                ..base
            },
        ),
        (
            "above the hard limit",
            Case {
                soft: 1024,
                hard: 1024,
                global: "fd-hard-limit 50000",
                ..base
            },
        ),
        (
            "1000 splice",
            Case {
                splice: true,
                global: "fd-hard-limit 1000",
                ..base
            },
        ),
        (
            "maxconn over it",
            Case {
                global: "fd-hard-limit 1000\nmaxconn 600",
                ..base
            },
        ),
        (
            "maxconn over it, no strict",
            Case {
                global: "fd-hard-limit 1000\nmaxconn 600\nno strict-limits",
                ..base
            },
        ),
        (
            "ulimit-n over it",
            Case {
                global: "ulimit-n 900\nfd-hard-limit 800",
                ..base
            },
        ),
        (
            "too low for 100",
            Case {
                global: "fd-hard-limit 100",
                ..base
            },
        ),
    ]);
}

#[test]
fn other_fd_consumers_and_backlog_defaults() {
    if !have_tools() {
        return;
    }
    let base = lim(1024, 1024, 1, true, false);
    same_as_haproxy(&[
        (
            "ulimit-n below",
            Case {
                soft: 20000,
                hard: 20000,
                global: "ulimit-n 500",
                ..base
            },
        ),
        (
            "stats maxconn",
            Case {
                global: "stats maxconn 20",
                ..base
            },
        ),
        (
            "nbthread 1",
            Case {
                global: "nbthread 1",
                ..base
            },
        ),
        (
            "maxpipes with splice",
            Case {
                splice: true,
                global: "maxpipes 50",
                ..base
            },
        ),
        (
            "frontend maxconn",
            Case {
                listen: "maxconn 300",
                ..base
            },
        ),
        (
            "-N",
            Case {
                args: &["-N", "700"],
                ..base
            },
        ),
        (
            "proxy backlog",
            Case {
                listen: "maxconn 300\nbacklog 60",
                ..base
            },
        ),
        (
            "splice fullconn",
            Case {
                splice: true,
                listen: "maxconn 300\nfullconn 200",
                ..base
            },
        ),
    ]);
}
