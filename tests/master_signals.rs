//! Master-worker endings (signals, failed workers, exit codes), systemd
//! notifications (`-Ws`), socket transfer (`-x`) and `program` sections,
//! each compared with HAProxy 2.6 where cheap.

mod common;
#[path = "common/mw.rs"]
mod mw_common;

use common::*;
use mw_common::*;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

// Signals and exit codes, compared with HAProxy

#[derive(Clone, Copy, Debug)]
enum Ending {
    Term,
    Int,
    Usr1,
    KillWorker,
    TermWorker,
}

/// Starts `bin` in master-worker mode, ends it as `how`; returns the exit
/// code and the master's normalized lines.
fn ending(bin: &str, how: Ending) -> (Option<i32>, Vec<String>, String) {
    let be = Backend::echo();
    let port = free_port();
    let mut mw = Mw::start(bin, "mw-sig", &tcp_cfg("", port, be.port), &[]);
    let w = mw.worker();
    assert!(wait_listen(w, port));
    echo_once(port).expect("serves");
    match how {
        Ending::Term => kill(mw.pid(), libc::SIGTERM),
        Ending::Int => kill(mw.pid(), libc::SIGINT),
        Ending::Usr1 => kill(mw.pid(), libc::SIGUSR1),
        Ending::KillWorker => kill(w, libc::SIGKILL),
        Ending::TermWorker => kill(w, libc::SIGTERM),
    }
    let st = mw
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{bin} master still there; stderr:\n{}", mw.stderr()));
    assert!(!alive(w), "worker {w} survived");
    (code(st), normalized(&mw), mw.stderr())
}

/// Ends a fresh master-worker as `how`: the exit code and the master's
/// lines must be `want_code` and `want`, and HAProxy 2.6's the same.
fn ending_case(how: Ending, want_code: i32, want: &[&str], what: &str) {
    let (code, lines, err) = ending(bin(), how);
    assert_eq!(code, Some(want_code), "{what}: {err}");
    expect_lines(&lines, want, what, &err);
    if have_haproxy() {
        let (hcode, hlines, herr) = ending(HAPROXY, how);
        assert_eq!(hcode, code, "{what}, HAProxy: {herr}");
        assert_eq!(hlines, lines, "{what}, HAProxy: {herr}");
    }
}

#[test]
fn sigterm_stops_master_and_worker() {
    ending_case(
        Ending::Term,
        0,
        &[
            "[NOTICE]   (M) : New worker (W1) forked",
            "[NOTICE]   (M) : Loading success.",
            "[NOTICE]   (M) : haproxy version is *",
            "[NOTICE]   (M) : path to executable is *",
            "[WARNING]  (M) : Exiting Master process...",
            "[ALERT]    (M) : Current worker (W1) exited with code 143 (Terminated)",
            "[WARNING]  (M) : All workers exited. Exiting... (0)",
        ],
        "SIGTERM",
    );
}

#[test]
fn sigint_stops_with_130() {
    ending_case(
        Ending::Int,
        130,
        &[
            "[NOTICE]   (M) : New worker (W1) forked",
            "[NOTICE]   (M) : Loading success.",
            "[NOTICE]   (M) : haproxy version is *",
            "[NOTICE]   (M) : path to executable is *",
            "[WARNING]  (M) : Exiting Master process...",
            "[ALERT]    (M) : Current worker (W1) exited with code 130 (Interrupt)",
            "[WARNING]  (M) : All workers exited. Exiting... (130)",
        ],
        "SIGINT",
    );
}

#[test]
fn killed_worker_takes_the_master_down() {
    ending_case(
        Ending::KillWorker,
        137,
        &[
            "[NOTICE]   (M) : New worker (W1) forked",
            "[NOTICE]   (M) : Loading success.",
            "[NOTICE]   (M) : haproxy version is *",
            "[NOTICE]   (M) : path to executable is *",
            "[ALERT]    (M) : Current worker (W1) exited with code 137 (Killed)",
            "[ALERT]    (M) : exit-on-failure: killing every processes with SIGTERM",
            "[WARNING]  (M) : All workers exited. Exiting... (137)",
        ],
        "worker SIGKILLed",
    );
}

#[test]
fn sigusr1_is_a_soft_stop() {
    ending_case(
        Ending::Usr1,
        0,
        &[
            "[NOTICE]   (M) : New worker (W1) forked",
            "[NOTICE]   (M) : Loading success.",
            "[NOTICE]   (M) : haproxy version is *",
            "[NOTICE]   (M) : path to executable is *",
            "[WARNING]  (M) : Exiting Master process...",
            "[WARNING]  (M) : Current worker (W1) exited with code 0 (Exit)",
            "[WARNING]  (M) : All workers exited. Exiting... (0)",
        ],
        "SIGUSR1",
    );
}

#[test]
fn worker_terminated_stops_the_master_cleanly() {
    ending_case(
        Ending::TermWorker,
        0,
        &[
            "[NOTICE]   (M) : New worker (W1) forked",
            "[NOTICE]   (M) : Loading success.",
            "[NOTICE]   (M) : haproxy version is *",
            "[NOTICE]   (M) : path to executable is *",
            "[ALERT]    (M) : Current worker (W1) exited with code 143 (Terminated)",
            "[WARNING]  (M) : All workers exited. Exiting... (0)",
        ],
        "worker SIGTERMed",
    );
}

#[test]
fn no_exit_on_failure_keeps_the_master() {
    let be = Backend::echo();
    let port = free_port();
    let mut mw = Mw::start(
        bin(),
        "mw-noexit",
        &tcp_cfg("  master-worker no-exit-on-failure\n", port, be.port),
        &[],
    );
    let m = mw.pid();
    let w = mw.worker();
    assert!(wait_listen(w, port));
    kill(w, libc::SIGKILL);
    let msg = format!("Current worker ({w}) exited with code 137 (Killed)");
    assert!(
        mw.wait_line("[ALERT]", m, &msg, Duration::from_secs(5)),
        "{}",
        mw.stderr()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        mw.wait_exit(Duration::from_millis(10)).is_none(),
        "{}",
        mw.stderr()
    );
    assert!(!mw.stderr().contains("exit-on-failure"), "{}", mw.stderr());
    let sp = mw.cli("show proc\n");
    assert!(
        sp.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with(&format!("{m:<15} master "))),
        "{sp}"
    );
    assert_eq!(mw.workers(), (vec![], vec![]));
    kill(m, libc::SIGTERM);
    let st = mw.wait_exit(Duration::from_secs(5)).expect("master exits");
    assert_eq!(code(st), Some(0), "{}", mw.stderr());
}

/// The master's lines over a reload and a stop, as HAProxy prints them
/// (item 10). SIGHUP reloads as SIGUSR2 does; a worker's stats socket is
/// no proxy of its own: the old worker's soft stop never lists GLOBAL.
fn reload_then_stop(bin: &str) -> (Option<i32>, Vec<String>, String) {
    let be = Backend::echo();
    let port = free_port();
    let sdir = TempDir::new("mw-cmp-sock");
    let global = format!(
        "  stats socket {}/w.sock level admin\n",
        sdir.path().display()
    );
    let mut mw = Mw::start(bin, "mw-cmp", &tcp_cfg(&global, port, be.port), &[]);
    let w1 = mw.worker();
    assert!(wait_listen(w1, port));
    let w2 = mw.reload_with(libc::SIGHUP);
    let former = format!("Former worker ({w1}) exited with code 0 (Exit)");
    assert!(
        mw.wait_line("[WARNING]", mw.pid(), &former, Duration::from_secs(5)),
        "{bin}: {}",
        mw.stderr()
    );
    let old: Vec<String> = lines_of(&mw.stderr())
        .into_iter()
        .filter(|l| l.pid == w1 && !l.msg.contains("<HTTPCLIENT>"))
        .map(|l| format!("{} {}", l.label, l.msg))
        .collect();
    assert_eq!(
        old,
        ["[WARNING] Proxy l stopped (cumulated conns: FE: 0, BE: 0)."],
        "{bin}: the old worker's lines"
    );
    assert!(wait_listen(w2, port));
    echo_once(port).expect("serves after the reload");
    kill(mw.pid(), libc::SIGTERM);
    let st = mw.wait_exit(Duration::from_secs(5)).expect("exits");
    (code(st), normalized(&mw), mw.stderr())
}

#[test]
fn reload_and_stop_lines_match_haproxy() {
    let (code, lines, err) = reload_then_stop(bin());
    assert_eq!(code, Some(0));
    expect_lines(
        &lines,
        &[
            "[NOTICE]   (M) : New worker (W1) forked",
            "[NOTICE]   (M) : Loading success.",
            "[NOTICE]   (M) : Reloading HAProxy",
            "[NOTICE]   (M) : New worker (W2) forked",
            "[NOTICE]   (M) : Loading success.",
            "[NOTICE]   (M) : haproxy version is *",
            "[NOTICE]   (M) : path to executable is *",
            "[WARNING]  (M) : Former worker (W1) exited with code 0 (Exit)",
            "[WARNING]  (M) : Exiting Master process...",
            "[ALERT]    (M) : Current worker (W2) exited with code 143 (Terminated)",
            "[WARNING]  (M) : All workers exited. Exiting... (0)",
        ],
        "reload then SIGTERM",
        &err,
    );
    if have_haproxy() {
        let (hcode, hlines, herr) = reload_then_stop(HAPROXY);
        assert_eq!(hcode, code, "HAProxy: {herr}");
        assert_eq!(hlines, lines, "HAProxy: {herr}");
    }
}

// ---------------------------------------------------------------------------
// 8. sd_notify

/// Datagrams until one equal to `last` (5 s at most).
fn notes_until(rx: &UnixDatagram, last: &str) -> Vec<String> {
    let mut v = Vec::new();
    let t = Instant::now();
    let mut b = [0u8; 512];
    while t.elapsed() < Duration::from_secs(5) {
        match rx.recv(&mut b) {
            Ok(n) => {
                let s = String::from_utf8_lossy(&b[..n]).into_owned();
                let done = s == last;
                v.push(s);
                if done {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    v
}

fn notify_run(bin: &str) -> Vec<Vec<String>> {
    let be = Backend::echo();
    let port = free_port();
    let ndir = TempDir::new("mw-notify-sock");
    let np = ndir.path().join("notify.sock");
    let rx = UnixDatagram::bind(&np).expect("bind notify socket");
    rx.set_read_timeout(Some(Duration::from_millis(500))).ok();
    let env = OsString::from(np.as_os_str());
    let mut mw = Mw::start_env(
        bin,
        "mw-notify",
        &tcp_cfg("", port, be.port),
        "-Ws",
        &[],
        &[("NOTIFY_SOCKET", &env)],
    );
    let m = mw.pid();
    let ready = format!("READY=1\nMAINPID={m}");
    let mut out = vec![notes_until(&rx, &ready)];
    assert!(wait_listen(mw.worker(), port));
    kill(m, libc::SIGUSR2);
    out.push(notes_until(&rx, &ready));
    assert!(mw.wait_count("Loading success.", 2, Duration::from_secs(5)));
    mw.wait_ready();
    kill(m, libc::SIGTERM);
    out.push(notes_until(&rx, "STOPPING=1"));
    let st = mw.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(code(st), Some(0), "{}", mw.stderr());
    // Nothing after STOPPING=1.
    out.push(notes_until(&rx, ""));
    // The pid is the only difference allowed with HAProxy.
    for v in out.iter_mut() {
        for s in v.iter_mut() {
            *s = s.replace(&format!("MAINPID={m}"), "MAINPID=<M>");
        }
    }
    out
}

#[test]
fn sd_notify_with_ws() {
    let got = notify_run(bin());
    let want: Vec<Vec<&str>> = vec![
        vec!["RELOADING=1", "READY=1\nMAINPID=<M>"],
        vec!["RELOADING=1", "RELOADING=1", "READY=1\nMAINPID=<M>"],
        vec!["STOPPING=1"],
        vec![],
    ];
    assert_eq!(got, want);
    if have_haproxy() {
        assert_eq!(notify_run(HAPROXY), want, "HAProxy");
    }
}

// ---------------------------------------------------------------------------
// 9. -x: the listening sockets of a standalone process

/// `old` (already listening on `port`, its stats socket `sock` with
/// expose-fd) hands over to a new haproxy-rs `-x sock -sf old` under a
/// connect loop: the new one serves the very same socket, the old one
/// exits 0, no connection fails.
fn handover(old: &mut Proxy, port: u16, sock: &Path) {
    let inodes = listen_inodes(port);
    assert_eq!(inodes.len(), 1, "{inodes:?}");
    let inode = inodes[0].clone();
    assert!(holds_inode(old.pid(), &inode));
    let stop = Arc::new(AtomicBool::new(false));
    let _guard = StopOnDrop(stop.clone());
    let (load, h) = tcp_load(port, stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    let dir = TempDir::new("mw-xnew");
    let oldpid = old.pid().to_string();
    let args: Vec<OsString> = vec![
        "-f".into(),
        old.cfg.clone().into(),
        "-db".into(),
        "-x".into(),
        sock.into(),
        "-sf".into(),
        oldpid.into(),
    ];
    let mut new = Proxy::spawn(bin(), dir, old.cfg.clone(), &args, &[], &[port]);
    assert!(
        holds_inode(new.pid(), &inode),
        "the new process listens on another socket: {:?}, inodes now {:?}",
        fd_targets(new.pid()),
        listen_inodes(port)
    );
    let st = old
        .wait_exit(Duration::from_secs(5))
        .expect("the old process exits");
    assert_eq!(code(st), Some(0), "old process: {}", old.stderr());
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    h.join().unwrap();
    assert!(load.failed().is_empty(), "{:#?}", load.failed());
    assert!(load.ok.load(Ordering::SeqCst) > 20);
    assert_eq!(listen_inodes(port), vec![inode]);
    echo_once(port).expect("the new process serves");
    assert!(
        !new.stderr().contains("Failed to get the sockets"),
        "{}",
        new.stderr()
    );
    new.signal(libc::SIGTERM);
    new.wait_exit(Duration::from_secs(5));
}

fn xfer_cfg(sockdir: &Path, port: u16, srv: u16) -> (String, PathBuf) {
    let sock = sockdir.join("x.sock");
    let global = format!(
        "  stats socket {} level admin expose-fd listeners\n",
        sock.display()
    );
    (tcp_cfg(&global, port, srv), sock)
}

#[test]
fn x_takes_over_the_listening_socket() {
    let be = Backend::echo();
    let port = free_port();
    let sdir = TempDir::new("mw-xsock");
    let (cfg, sock) = xfer_cfg(sdir.path(), port, be.port);
    let mut old = Proxy::start(&cfg, &[port]);
    handover(&mut old, port, &sock);
}

#[test]
fn x_takes_over_from_haproxy() {
    if !have_haproxy() {
        return;
    }
    let be = Backend::echo();
    let port = free_port();
    let sdir = TempDir::new("mw-xhap");
    let (cfg, sock) = xfer_cfg(sdir.path(), port, be.port);
    let mut old = Proxy::start_program(HAPROXY, &cfg, &[port], &["-db"]);
    assert!(wait_for(Duration::from_secs(5), || sock.exists()));
    handover(&mut old, port, &sock);
}

// ---------------------------------------------------------------------------
// 11. program sections

#[test]
fn program_section() {
    program(bin());
}

#[test]
fn program_section_haproxy() {
    if have_haproxy() {
        program(HAPROXY);
    }
}

fn program(bin: &str) {
    let be = Backend::echo();
    let port = free_port();
    let cfg = format!(
        "{}program p1\n  command sleep 1000\n",
        tcp_cfg("", port, be.port)
    );
    let mut mw = Mw::start(bin, "mw-prog", &cfg, &[]);
    let m = mw.pid();
    let lines = mw.master_lines();
    let p1 = pid_after(&lines[0].msg, "New program 'p1' (")
        .unwrap_or_else(|| panic!("first line: {:?}", lines[0]));
    let w1 = mw.worker();
    assert_eq!(lines[1].msg, format!("New worker ({w1}) forked"));
    assert_eq!(lines[2].msg, "Loading success.");
    assert_eq!(stat(p1).map(|s| s.1), Some(m));
    assert!(
        std::fs::read(format!("/proc/{p1}/cmdline")).unwrap() == b"sleep\x001000\x00",
        "program's command line"
    );
    let sp = mw.cli("show proc\n");
    let l: Vec<&str> = sp.split('\n').collect();
    assert_eq!(l[4], "# programs", "{sp}");
    check_proc_line(l[5], p1, "p1", "0", &format!("{:<15}", "-"));
    assert_eq!(l[6..], ["", ""][..], "{sp}");

    // Reload: a new instance, the old one gets SIGUSR1.
    let w2 = mw.reload();
    assert_ne!(w1, w2);
    let p2 = mw
        .master_lines()
        .iter()
        .rev()
        .find_map(|l| pid_after(&l.msg, "New program 'p1' ("))
        .unwrap();
    assert_ne!(p1, p2);
    let msg = format!("Former program 'p1' ({p1}) exited with code 138 (User defined signal 1)");
    assert!(
        mw.wait_line("[WARNING]", m, &msg, Duration::from_secs(5)),
        "{}",
        mw.stderr()
    );
    let after: Vec<String> = mw
        .master_lines()
        .iter()
        .skip(3)
        .take(4)
        .map(|l| l.msg.clone())
        .collect();
    assert_eq!(
        after,
        [
            "Reloading HAProxy".to_string(),
            format!("New program 'p1' ({p2}) forked"),
            format!("New worker ({w2}) forked"),
            "Loading success.".into(),
        ]
    );
    assert!(alive(p2));
    let sp = mw.cli("show proc\n");
    let l: Vec<&str> = sp.split('\n').collect();
    let i = l.iter().position(|x| *x == "# programs").expect(&sp);
    check_proc_line(l[i + 1], p2, "p1", "0", &format!("{:<15}", "-"));

    // Stop: the program goes too.
    kill(m, libc::SIGTERM);
    let st = mw.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(code(st), Some(0), "{}", mw.stderr());
    assert!(!alive(p2));
    let msg = format!("Current program 'p1' ({p2}) exited with code 143 (Terminated)");
    assert!(mw.stderr().contains(&msg), "{}", mw.stderr());
}
