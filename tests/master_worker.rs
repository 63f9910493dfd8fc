//! Master-worker mode (`-W`, `-Ws`, `-S`, reloads, `-x`), seen from outside:
//! the real binary, real signals, real sockets on 127.0.0.1, and the exact
//! lines and replies HAProxy 2.6 gives in the same cases (checked side by
//! side with `/usr/sbin/haproxy` where that is cheap).
//!
//! Every process a test starts is reaped by a guard, even on panic: the
//! master and every descendant it has at that time (workers, programs),
//! each by pid. Every wait is bounded in time.

mod common;
#[path = "common/mw.rs"]
mod mw_common;

use common::*;
use mw_common::*;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[test]
fn start_forks_one_worker_and_serves() {
    let be = Backend::echo();
    let port = free_port();
    let dir = TempDir::new("mw-pid");
    let pidfile = dir.path().join("pid");
    let pf = pidfile.to_string_lossy().into_owned();
    let mw = Mw::start(bin(), "mw-start", &tcp_cfg("", port, be.port), &["-p", &pf]);
    let m = mw.pid();
    let w = mw.worker();
    assert!(wait_listen(w, port), "worker does not listen");
    let err = mw.stderr();
    assert_eq!(
        err,
        format!(
            "[NOTICE]   ({m}) : New worker ({w}) forked\n[NOTICE]   ({m}) : Loading success.\n"
        ),
    );
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), format!("{m}\n"));
    assert_eq!(stat(w).map(|s| s.1), Some(m), "worker's parent");
    assert_eq!(
        children(m).iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![w],
        "the master's only child"
    );
    // The master does not listen, the worker does.
    assert!(!listening(m, port));
    for _ in 0..5 {
        echo_once(port).expect("echo through the worker");
    }
    let mut c = held(port);
    c.write_all(&payload(100_000, 1)).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let back = read_all(&mut c);
    assert_eq!(back.len(), 100_000);
    assert!(back == payload(100_000, 1));
    // A reload keeps the master: its pid, its command line, the pidfile.
    let cmdline = std::fs::read(format!("/proc/{m}/cmdline")).unwrap();
    let w2 = mw.reload();
    assert_ne!(w2, w);
    assert!(wait_listen(w2, port));
    assert_eq!(
        std::fs::read(format!("/proc/{m}/cmdline")).unwrap(),
        cmdline
    );
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), format!("{m}\n"));
    assert_eq!(stat(w2).map(|s| s.1), Some(m), "new worker's parent");
    echo_once(port).expect("echo through the new worker");
}

// ---------------------------------------------------------------------------
// 2. Reload storm under load

#[test]
fn reload_storm_under_load_loses_nothing() {
    let be = Backend::echo();
    let hbe = http_backend();
    let (port, hport) = (free_port(), free_port());
    let cfg = format!(
        "{}listen h\n  mode http\n  bind 127.0.0.1:{hport}\n  server s 127.0.0.1:{}\n",
        tcp_cfg("", port, be.port),
        hbe.port
    );
    let mw = Mw::start(bin(), "mw-storm", &cfg, &[]);
    let m = mw.pid();
    assert!(wait_listen(mw.worker(), port) && wait_listen(mw.worker(), hport));
    // First reload, before any load: the master's fds then.
    mw.reload();
    assert!(
        wait_for(Duration::from_secs(5), || mw.workers().1.is_empty()),
        "old worker stays after the first reload"
    );
    let fds_first = fd_count(m);
    let targets_first = fd_targets(m);

    let stop = Arc::new(AtomicBool::new(false));
    let _guard = StopOnDrop(stop.clone());
    let (tcp, th) = tcp_load(port, stop.clone());
    let (http, hh) = http_load(hport, stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    let reloads = 100;
    for i in 0..reloads {
        let before = mw.worker();
        let w = mw.reload();
        assert_ne!(w, before, "reload {i}: no new worker");
        assert!(
            mw.count("Loading failure!") == 0,
            "reload {i} failed: {}",
            mw.stderr()
        );
        std::thread::sleep(Duration::from_millis(50 + (i * 37 % 51) as u64));
    }
    let storm = t0.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    th.join().unwrap();
    hh.join().unwrap();
    let (tok, hok) = (
        tcp.ok.load(Ordering::SeqCst),
        http.ok.load(Ordering::SeqCst),
    );
    eprintln!(
        "storm: {reloads} reloads in {storm:?}; {tok} tcp exchanges, {hok} http requests ({} retried on a new connection)",
        http.retried.load(Ordering::SeqCst)
    );
    assert!(tcp.failed().is_empty(), "TCP failures: {:#?}", tcp.failed());
    assert!(
        http.failed().is_empty(),
        "HTTP failures: {:#?}",
        http.failed()
    );
    assert!(
        tok > 100 && hok > 100,
        "too little traffic: {tok} tcp, {hok} http"
    );

    // Old workers finish; one worker is left, no zombie, no fd leak.
    let last = mw.worker();
    assert!(
        wait_for(Duration::from_secs(10), || mw.workers()
            == (vec![last], vec![])),
        "old workers left: {:?}",
        mw.workers()
    );
    assert!(
        wait_for(Duration::from_secs(5), || children(m)
            .iter()
            .all(|&(p, s)| p == last && s != 'Z')),
        "children of the master: {:?} (current worker {last})",
        children(m)
    );
    assert!(
        wait_for(Duration::from_secs(3), || fd_count(m) == fds_first),
        "master fds: {} after the storm, {fds_first} after the first reload\nfirst: {targets_first:?}\nnow: {:?}",
        fd_count(m),
        fd_targets(m)
    );
    let exits = mw
        .master_lines()
        .iter()
        .filter(|l| l.msg.starts_with("Former worker ("))
        .map(|l| l.msg.clone())
        .collect::<Vec<_>>();
    assert_eq!(exits.len(), reloads + 1, "{exits:#?}");
    assert!(
        exits
            .iter()
            .all(|e| e.ends_with(" exited with code 0 (Exit)")),
        "{exits:#?}"
    );
    assert_eq!(mw.count("Loading success."), reloads + 2);
    assert!(
        !mw.master_lines().iter().any(|l| l.label == "[ALERT]"),
        "{}",
        mw.stderr()
    );
    assert!(stat(m).is_some_and(|s| s.0 != 'Z'), "master gone");
}

// ---------------------------------------------------------------------------
// 3. A long transfer across a reload

#[test]
fn long_transfer_finishes_on_the_old_worker() {
    const TOTAL: usize = 20 << 20;
    let data = Arc::new(payload(TOTAL, 7));
    let d2 = data.clone();
    let be = Backend::start(move |mut c| {
        let _ = c.write_all(&d2);
        let _ = c.shutdown(Shutdown::Write);
        let mut b = [0u8; 64];
        let _ = c.read(&mut b);
    });
    let port = free_port();
    let mw = Mw::start(bin(), "mw-long", &tcp_cfg("", port, be.port), &[]);
    let old = mw.worker();
    assert!(wait_listen(old, port));
    let mut c = connect(port);
    let mut got = Vec::with_capacity(TOTAL);
    let mut buf = vec![0u8; 65536];
    let mut reloaded_at = None;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(30) {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read after {} bytes: {e}", got.len()),
        }
        if reloaded_at.is_none() && got.len() >= 2 << 20 {
            reloaded_at = Some(got.len());
            kill(mw.pid(), libc::SIGUSR2);
        }
        std::thread::sleep(Duration::from_millis(4));
    }
    assert!(reloaded_at.is_some_and(|n| n < TOTAL));
    assert!(
        mw.wait_count("Loading success.", 2, Duration::from_secs(5)),
        "{}",
        mw.stderr()
    );
    let new = mw.worker();
    assert_ne!(new, old);
    assert_eq!(got.len(), TOTAL, "transfer length");
    assert!(got == *data, "transfer content differs");
    // The server closed; so does the client: the old worker has no more
    // connection.
    drop(c);
    let former = format!("Former worker ({old}) exited with code 0 (Exit)");
    assert!(
        mw.wait_line("[WARNING]", mw.pid(), &former, Duration::from_secs(5)),
        "{}",
        mw.stderr()
    );
    // The new worker serves (the backend sends its data at once).
    let mut c = connect(port);
    let mut b = [0u8; 1000];
    c.read_exact(&mut b).expect("new worker serves");
    assert!(b[..] == data[..1000]);
}

// ---------------------------------------------------------------------------
// 4. A reload with a bad configuration

#[test]
fn bad_config_reload_keeps_the_worker() {
    bad_config_reload(bin());
}

#[test]
fn bad_config_reload_keeps_the_worker_haproxy() {
    if have_haproxy() {
        bad_config_reload(HAPROXY);
    }
}

fn bad_config_reload(bin: &str) {
    let be = Backend::echo();
    let port = free_port();
    let good = tcp_cfg("", port, be.port);
    let mw = Mw::start(bin, "mw-bad", &good, &[]);
    let m = mw.pid();
    let w = mw.worker();
    assert!(wait_listen(w, port));
    let bad = format!("{good}  bogus_keyword\n");
    let nlines = bad.lines().count();
    std::fs::write(&mw.cfg, &bad).unwrap();
    let before = mw.master_lines().len();
    assert_eq!(mw.reload(), w, "no new worker on a bad config");
    let cfg = mw.cfg.display().to_string();
    let after: Vec<String> = mw.master_lines()[before..]
        .iter()
        .map(|l| format!("{} {}", l.label, l.msg))
        .collect();
    let want = [
        "[NOTICE] Reloading HAProxy".to_string(),
        format!("[NOTICE] haproxy version is {}", version_of(bin)),
        format!("[NOTICE] path to executable is {bin}"),
        format!(
            "[ALERT] config : parsing [{cfg}:{nlines}] : unknown keyword 'bogus_keyword' in 'listen' section"
        ),
        format!("[ALERT] config : Error(s) found in configuration file : {cfg}"),
        "[ALERT] config : Fatal errors found in configuration.".into(),
        "[WARNING] Loading failure!".into(),
    ];
    assert_eq!(after, want, "stderr:\n{}", mw.stderr());
    assert!(
        mw.stderr()
            .contains(&format!("[WARNING]  ({m}) : Loading failure!\n"))
    );
    // The old worker was not told to stop and still serves.
    assert!(alive(w));
    assert!(!mw.stderr().contains(&format!("({w}) : Proxy l stopped")));
    echo_once(port).expect("the old worker serves");
    let sp = mw.cli("show proc\n");
    let lines: Vec<&str> = sp.lines().collect();
    assert!(
        lines[1].starts_with(&format!("{m:<15} master          1 [failed: 1]   ")),
        "{sp}"
    );
    assert_eq!(lines[2], "# workers", "{sp}");
    assert!(
        lines[3].starts_with(&format!("{w:<15} worker          1               ")),
        "{sp}"
    );
    assert_eq!(lines[4], "# programs", "{sp}");
    // Fixed: a new worker, the failure count back to 0.
    std::fs::write(&mw.cfg, &good).unwrap();
    let w2 = mw.reload();
    assert_ne!(w2, w);
    assert!(wait_listen(w2, port));
    echo_once(port).expect("the new worker serves");
    let sp = mw.cli("show proc\n");
    assert!(
        sp.lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("{m:<15} master          2 [failed: 0]   ")),
        "{sp}"
    );
    assert_eq!(mw.workers().0, vec![w2]);
}

/// A new worker that dies while starting (here: a `chroot` it cannot
/// enter) fails the reload: the worker and the master say why, and the
/// old worker keeps serving, as after a configuration that does not parse.
/// (HAProxy 2.6 takes every worker down in this case: exit-on-failure.)
#[test]
fn a_worker_dying_at_start_fails_the_reload() {
    let be = Backend::echo();
    let port = free_port();
    let good = tcp_cfg("", port, be.port);
    let mw = Mw::start(bin(), "mw-die", &good, &[]);
    let m = mw.pid();
    let w = mw.worker();
    assert!(wait_listen(w, port));
    let dying = tcp_cfg("  chroot /nonexistent-hrs-dir\n", port, be.port);
    std::fs::write(&mw.cfg, dying).unwrap();
    let n = mw.count("Loading failure!");
    kill(m, libc::SIGUSR2);
    assert!(
        wait_for(Duration::from_secs(10), || mw.count("Loading failure!") > n),
        "{}",
        mw.stderr()
    );
    assert_eq!(mw.workers().0, vec![w], "the old worker stays current");
    let err = mw.stderr();
    assert!(
        err.contains("Cannot chroot(/nonexistent-hrs-dir)."),
        "{err}"
    );
    assert!(
        err.contains(") exited with code 1 (Exit) while starting\n"),
        "{err}"
    );
    assert!(
        err.contains(&format!("[WARNING]  ({m}) : Loading failure!\n")),
        "{err}"
    );
    assert!(alive(w));
    assert!(!err.contains(&format!("({w}) : Proxy l stopped")), "{err}");
    echo_once(port).expect("the old worker serves");
    std::fs::write(&mw.cfg, &good).unwrap();
    let w2 = mw.reload();
    assert_ne!(w2, w);
    assert!(wait_listen(w2, port));
    echo_once(port).expect("the new worker serves");
}

#[test]
fn hard_stop_after_ends_an_old_worker() {
    hard_stop_after(bin());
}

#[test]
fn hard_stop_after_ends_an_old_worker_haproxy() {
    if have_haproxy() {
        hard_stop_after(HAPROXY);
    }
}

fn hard_stop_after(bin: &str) {
    let be = Backend::echo();
    let port = free_port();
    let mw = Mw::start(
        bin,
        "mw-hard",
        &tcp_cfg("  hard-stop-after 1s\n", port, be.port),
        &[],
    );
    let old = mw.worker();
    assert!(wait_listen(old, port));
    let mut c = held(port);
    let t0 = Instant::now();
    let new = mw.reload();
    assert_ne!(new, old);
    let former = format!("Former worker ({old}) exited with code 0 (Exit)");
    assert!(
        mw.wait_line("[WARNING]", mw.pid(), &former, Duration::from_secs(6)),
        "{}",
        mw.stderr()
    );
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "old worker ended after {took:?}"
    );
    let err = mw.stderr();
    assert!(
        err.contains(&format!(
            "[WARNING]  ({old}) : soft-stop running for too long, performing a hard-stop.\n"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "[WARNING]  ({old}) : Proxy l hard-stopped (1 remaining conns will be closed).\n"
        )),
        "{err}"
    );
    c.set_read_timeout(Some(Duration::from_secs(3))).ok();
    closed(&mut c).expect("the held connection is closed");
    echo_once(port).expect("the new worker serves");
}

// ---------------------------------------------------------------------------
// 6. The master CLI
