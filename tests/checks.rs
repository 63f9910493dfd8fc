//! Health checks (configuration.txt 5.2 "check", "inter", "rise", "fall",
//! "port"; 4.2 "timeout check"): servers go DOWN and UP as HAProxy 2.6 does,
//! with its stderr/log messages, `show stat` columns, and traffic following
//! the servers' states.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A server answering `tag` on a fixed port, until dropped (the listening
/// socket is closed then, so connections to the port are refused again).
struct PortServer {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl PortServer {
    fn start(port: u16, tag: &'static str) -> PortServer {
        let l = TcpListener::bind(("127.0.0.1", port)).expect("bind server port");
        l.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let handle = thread::spawn(move || {
            while !s2.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        let _ = c.set_nonblocking(false);
                        thread::spawn(move || {
                            let _ = c.write_all(tag.as_bytes());
                            let _ = c.shutdown(std::net::Shutdown::Write);
                            let mut b = [0u8; 256];
                            while let Ok(n) = c.read(&mut b) {
                                if n == 0 {
                                    break;
                                }
                            }
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        PortServer {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for PortServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A listening socket whose accept queue is full: connects to it never
/// complete (the kernel drops their SYNs).
struct FullListener {
    _l: TcpListener,
    _clients: Vec<TcpStream>,
}

impl FullListener {
    fn start(port: u16) -> FullListener {
        let l = TcpListener::bind(("127.0.0.1", port)).expect("bind full listener");
        // SAFETY: listen(2) on our own socket, backlog 0.
        assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
        let mut clients = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&local(port), Duration::from_millis(200)) {
                Ok(c) => clients.push(c),
                Err(_) => {
                    return FullListener {
                        _l: l,
                        _clients: clients,
                    };
                }
            }
        }
        panic!("could not fill the accept queue of port {port}");
    }
}

/// Waits until `f(stderr, stdout)` holds; panics with both after `t`.
fn wait_for(p: &Proxy, t: Duration, what: &str, f: impl Fn(&str, &str) -> bool) {
    let end = Instant::now() + t;
    loop {
        let (e, o) = (p.stderr(), p.stdout());
        if f(&e, &o) {
            return;
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}\nstderr:\n{e}\nstdout:\n{o}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// The stderr lines `[LEVEL]  (pid) : <text>` whose text starts with `start`,
/// as (level label, text).
fn messages(stderr: &str, start: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .filter_map(|l| {
            let (label, rest) = l.split_once(" (")?;
            let (_, text) = rest.split_once(") : ")?;
            text.starts_with(start)
                .then(|| (label.trim().to_string(), text.to_string()))
        })
        .collect()
}

/// The `show stat` row of server `be/srv`, split into columns.
fn stat_row(sock: &Path, be: &str, srv: &str) -> Vec<String> {
    // The stats socket is bound just after the frontends: wait for it.
    let end = Instant::now() + Duration::from_secs(5);
    while std::os::unix::net::UnixStream::connect(sock).is_err() {
        assert!(Instant::now() < end, "no stats socket {}", sock.display());
        thread::sleep(Duration::from_millis(10));
    }
    let out = cli(sock, "show stat");
    let prefix = format!("{be},{srv},");
    out.lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no row {be}/{srv} in:\n{out}"))
        .split(',')
        .map(|s| s.to_string())
        .collect()
}

// Columns of HAProxy 2.6's `show stat`.
const STATUS: usize = 17;
const CHKFAIL: usize = 21;
const CHKDOWN: usize = 22;
const CHECK_STATUS: usize = 36;
const CHECK_DURATION: usize = 38;
const CHECK_DESC: usize = 65;
const CHECK_RISE: usize = 67;
const CHECK_FALL: usize = 68;
const CHECK_HEALTH: usize = 69;

/// Connects through the proxy and returns what the server sent (empty when
/// the proxy closed without a server) and the client's port.
fn fetch_from(port: u16) -> (String, u16) {
    let mut c = connect(port);
    let cport = c.local_addr().expect("local addr").port();
    let _ = c.shutdown(std::net::Shutdown::Write);
    (
        String::from_utf8_lossy(&read_all(&mut c)).to_string(),
        cport,
    )
}

fn fetch(port: u16) -> String {
    fetch_from(port).0
}

/// The tcplog line of the client on `cport`: (backend/server, termination).
fn tcplog(p: &Proxy, cport: u16) -> (String, String) {
    let end = Instant::now() + Duration::from_secs(5);
    let key = format!("127.0.0.1:{cport}");
    loop {
        let out = p.stdout();
        for l in out.lines() {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() == 9 && f[0] == key {
                return (f[3].to_string(), f[6].to_string());
            }
        }
        assert!(Instant::now() < end, "no log for {key}:\n{out}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn config(sock: &Path, body: &str) -> String {
    format!(
        "global\n    log stdout format raw local0\n    stats socket {} level admin\n\n\
         defaults\n    mode tcp\n    log global\n    option tcplog\n    timeout connect 2s\n    \
         timeout client 10s\n    timeout server 10s\n\n{body}",
        sock.display()
    )
}

#[test]
fn dead_server_goes_down_then_up_after_rise_then_down_after_fall() {
    let dir = TempDir::new("chk1");
    let sock = dir.path().join("s.sock");
    let good = Backend::banner("good");
    let bad_port = free_port();
    let port = free_port();
    let body = format!(
        "listen px\n    bind 127.0.0.1:{port}\n    balance roundrobin\n    \
         server good 127.0.0.1:{} check inter 100ms rise 2 fall 2\n    \
         server bad 127.0.0.1:{bad_port} check inter 100ms rise 2 fall 2\n",
        good.port
    );
    let p = Proxy::start(&config(&sock, &body), &[port]);

    // Servers start UP and a dead one falls at its first failed check.
    let down1 = "Server px/bad is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: ";
    let tail1 = "ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.";
    wait_for(&p, Duration::from_secs(5), "bad DOWN", |e, _| {
        !messages(e, down1).is_empty()
    });
    let m = messages(&p.stderr(), down1);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].0, "[WARNING]");
    assert!(m[0].1.ends_with(tail1), "{}", m[0].1);
    // The same text goes to the proxy's log.
    assert!(
        p.stdout().lines().any(|l| l == m[0].1),
        "log:\n{}",
        p.stdout()
    );
    assert!(!p.stderr().contains("has no server available"));

    // Wait for the healthy one's first check: fully UP.
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let good_row = stat_row(&sock, "px", "good");
        if good_row[STATUS] == "UP" {
            assert_eq!(good_row[CHECK_STATUS].trim_start_matches("* "), "L4OK");
            assert_eq!(good_row[CHECK_DESC], "Layer4 check passed");
            assert_eq!(good_row[CHKFAIL], "0");
            assert_eq!(good_row[CHECK_HEALTH], "3");
            break;
        }
        assert_eq!(good_row[STATUS], "UP 1/2", "{good_row:?}");
        assert!(Instant::now() < end, "good never fully UP: {good_row:?}");
        thread::sleep(Duration::from_millis(10));
    }
    let bad_row = stat_row(&sock, "px", "bad");
    assert_eq!(bad_row[STATUS], "DOWN");
    assert_eq!(bad_row[CHECK_STATUS].trim_start_matches("* "), "L4CON");
    assert_eq!(bad_row[CHECK_DESC], "Layer4 connection problem");
    assert!(!bad_row[CHECK_DURATION].is_empty());
    assert_eq!(bad_row[CHKFAIL], "1");
    assert_eq!(bad_row[CHKDOWN], "1");
    assert_eq!(bad_row[CHECK_RISE], "2");
    assert_eq!(bad_row[CHECK_FALL], "2");
    assert_eq!(bad_row[CHECK_HEALTH], "0");

    // Traffic goes to the healthy server only.
    for _ in 0..6 {
        let (r, cport) = fetch_from(port);
        assert_eq!(r, "good");
        assert_eq!(tcplog(&p, cport), ("px/good".into(), "--".into()));
    }

    // The port comes alive: UP again after `rise` (2) passed checks.
    let t0 = Instant::now();
    let bad = PortServer::start(bad_port, "bad");
    let up = "Server px/bad is UP, reason: Layer4 check passed, check duration: ";
    wait_for(&p, Duration::from_secs(5), "bad UP", |e, _| {
        !messages(e, up).is_empty()
    });
    assert!(
        t0.elapsed() >= Duration::from_millis(90),
        "UP after one check only ({:?})",
        t0.elapsed()
    );
    let m = messages(&p.stderr(), up);
    assert_eq!(m[0].0, "[WARNING]");
    assert!(
        m[0].1.ends_with(
            "ms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
        ),
        "{}",
        m[0].1
    );
    assert!(p.stdout().lines().any(|l| l == m[0].1));
    assert_eq!(stat_row(&sock, "px", "bad")[STATUS], "UP");
    let mut seen_bad = false;
    for _ in 0..6 {
        let r = fetch(port);
        assert!(r == "good" || r == "bad", "{r:?}");
        seen_bad |= r == "bad";
    }
    assert!(seen_bad, "no traffic to the server back UP");

    // Fully UP now: it takes `fall` (2) consecutive failures to go DOWN.
    let t0 = Instant::now();
    drop(bad);
    let down2 = "Server px/bad is DOWN, reason: Layer4 connection problem";
    wait_for(&p, Duration::from_secs(5), "bad DOWN again", |e, _| {
        messages(e, down2).len() == 2
    });
    assert!(
        t0.elapsed() >= Duration::from_millis(90),
        "DOWN after one failure only ({:?})",
        t0.elapsed()
    );
    let row = stat_row(&sock, "px", "bad");
    assert_eq!(row[STATUS], "DOWN");
    assert_eq!(row[CHKFAIL], "3", "1 + fall failures: {row:?}");
    assert_eq!(row[CHKDOWN], "2");
}

#[test]
fn no_server_left_alerts_and_closes_clients_with_sc() {
    let dir = TempDir::new("chk2");
    let sock = dir.path().join("s.sock");
    let port = free_port();
    let dead = free_port();
    let bk_port = free_port();
    let backup = PortServer::start(bk_port, "backup");
    let body = format!(
        "frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\n\
         backend be\n    default-server inter 100ms rise 2 fall 2\n    \
         server s1 127.0.0.1:{dead} check\n    \
         server b1 127.0.0.1:{bk_port} check backup\n"
    );
    let p = Proxy::start(&config(&sock, &body), &[port]);
    wait_for(&p, Duration::from_secs(5), "s1 DOWN", |e, _| {
        !messages(e, "Server be/s1 is DOWN").is_empty()
    });
    let m = messages(&p.stderr(), "Server be/s1 is DOWN");
    assert!(
        m[0].1.ends_with(
            ". 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue."
        ),
        "{}",
        m[0].1
    );
    let (r, cport) = fetch_from(port);
    assert_eq!(r, "backup");
    assert_eq!(tcplog(&p, cport), ("be/b1".into(), "--".into()));

    // The backup dies too: nothing left.
    drop(backup);
    wait_for(&p, Duration::from_secs(5), "no server alert", |e, o| {
        e.contains("backend 'be' has no server available!")
            && o.lines()
                .any(|l| l == "backend be has no server available!")
    });
    let m = messages(
        &p.stderr(),
        "Backup Server be/b1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: ",
    );
    assert_eq!(m.len(), 1, "{}", p.stderr());
    assert!(
        m[0].1.ends_with(
            ". 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
        ),
        "{}",
        m[0].1
    );
    let a = messages(&p.stderr(), "backend 'be' has no server available!");
    assert_eq!(
        a,
        [(
            "[ALERT]".to_string(),
            "backend 'be' has no server available!".to_string()
        )]
    );
    // The alert comes once, after the last server's DOWN message.
    let e = p.stderr();
    assert!(e.find("Backup Server be/b1 is DOWN") < e.find("has no server available"));

    // A client is closed at once, logged SC with no server.
    let t0 = Instant::now();
    let (r, cport) = fetch_from(port);
    assert_eq!(r, "");
    assert!(t0.elapsed() < Duration::from_secs(1));
    assert_eq!(tcplog(&p, cport), ("be/<NOSRV>".into(), "SC".into()));
    let row = stat_row(&sock, "be", "b1");
    assert_eq!(row[STATUS], "DOWN");
    assert_eq!(row[CHKDOWN], "1");
}

#[test]
fn unanswered_connect_is_layer4_timeout_bounded_as_the_manual_says() {
    let dir = TempDir::new("chk3");
    let sock = dir.path().join("s.sock");
    let port = free_port();
    let full_port = free_port();
    let _full = FullListener::start(full_port);
    // be1: `timeout check` set -> connect bounded by min(inter, timeout
    // connect) = 150ms. be2: unset -> `inter` (300ms) bounds the check.
    let body = format!(
        "frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be1\n\n\
         backend be1\n    timeout connect 150ms\n    timeout check 100ms\n    \
         server s1 127.0.0.1:{full_port} check inter 300ms\n\n\
         backend be2\n    timeout connect 150ms\n    \
         server s2 127.0.0.1:{full_port} check inter 300ms\n"
    );
    let p = Proxy::start(&config(&sock, &body), &[port]);
    let duration = |be: &str, srv: &str| -> u64 {
        let start = format!("Server {be}/{srv} is DOWN, reason: Layer4 timeout, check duration: ");
        wait_for(&p, Duration::from_secs(5), &start, |e, _| {
            !messages(e, &start).is_empty()
        });
        let m = messages(&p.stderr(), &start);
        let rest = &m[0].1[start.len()..];
        let (ms, tail) = rest.split_once("ms.").expect("duration");
        // (The harness's readiness probe may still be connecting to s1.)
        assert!(
            tail.starts_with(" 0 active and 0 backup servers left. ")
                && tail.ends_with(" sessions active, 0 requeued, 0 remaining in queue."),
            "{}",
            m[0].1
        );
        ms.parse().expect("duration in ms")
    };
    let d1 = duration("be1", "s1");
    assert!((150..280).contains(&d1), "be1 check took {d1}ms");
    let d2 = duration("be2", "s2");
    assert!((300..600).contains(&d2), "be2 check took {d2}ms");
    let row = stat_row(&sock, "be1", "s1");
    assert_eq!(row[STATUS], "DOWN");
    assert_eq!(row[CHECK_STATUS].trim_start_matches("* "), "L4TOUT");
    assert_eq!(row[CHECK_DESC], "Layer4 timeout");
    assert!(
        p.stderr()
            .contains("backend 'be1' has no server available!")
    );
}

#[test]
fn port_option_moves_checks_not_traffic() {
    let dir = TempDir::new("chk4");
    let sock = dir.path().join("s.sock");
    let port = free_port();
    let srv = Backend::banner("traffic");
    let check_port = free_port();
    let chk = PortServer::start(check_port, "check");
    let body = format!(
        "listen px\n    bind 127.0.0.1:{port}\n    \
         server s1 127.0.0.1:{} check port {check_port} inter 100ms\n",
        srv.port
    );
    let p = Proxy::start(&config(&sock, &body), &[port]);
    // Checks pass on the check port; traffic goes to the address's port.
    let end = Instant::now() + Duration::from_secs(5);
    while stat_row(&sock, "px", "s1")[STATUS] != "UP" {
        assert!(Instant::now() < end, "s1 never fully UP");
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fetch(port), "traffic");
    // Nothing on the check port any more: DOWN (after `fall` failures)
    // although the traffic port still answers.
    drop(chk);
    wait_for(&p, Duration::from_secs(5), "s1 DOWN", |e, _| {
        !messages(e, "Server px/s1 is DOWN, reason: Layer4 connection problem").is_empty()
    });
    assert_eq!(stat_row(&sock, "px", "s1")[CHKFAIL], "3");
    let before = srv.accepted();
    assert_eq!(fetch(port), "");
    assert_eq!(srv.accepted(), before);
}
