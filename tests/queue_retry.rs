//! Server `maxconn` and queues, `timeout queue`, connection retries,
//! `option redispatch` and `timeout connect`, checked on the client side and
//! in the tcplog line (termination state, timers, retries, queue positions).
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs.

mod common;

use common::{Backend, Blackhole, Proxy, TcpLog, free_port, tcplog_config};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers --

/// A `listen` proxy on `port` with extra proxy lines `body` (servers, ...).
fn config(port: u16, body: &str) -> String {
    tcplog_config(
        "    timeout client 30s\n    timeout server 30s\n",
        &format!("listen px\n    bind 127.0.0.1:{port}\n{body}"),
    )
}

fn connect(port: u16) -> (TcpStream, u16) {
    let c = common::connect(port);
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let cport = c.local_addr().expect("local addr").port();
    (c, cport)
}

/// Reads until the proxy closes the connection (EOF or reset); returns the
/// bytes received and when it ended. Panics if still open after `t`.
fn wait_closed(c: &mut TcpStream, t: Duration) -> (Vec<u8>, Instant) {
    c.set_read_timeout(Some(t)).ok();
    let end = Instant::now() + t;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return (got, Instant::now()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("connection still open after {t:?}")
            }
            Err(_) => return (got, Instant::now()),
        }
        assert!(Instant::now() < end, "connection still open after {t:?}");
    }
}

/// True if nothing arrives on `c` within `t` (and it is not closed).
fn silent_for(c: &mut TcpStream, t: Duration) -> bool {
    c.set_read_timeout(Some(t)).ok();
    let mut b = [0u8; 64];
    let r = matches!(c.read(&mut b), Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut));
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    r
}

fn read_exact_str(c: &mut TcpStream, n: usize) -> String {
    let mut b = vec![0u8; n];
    c.read_exact(&mut b).expect("read from server");
    String::from_utf8_lossy(&b).to_string()
}

/// A server that greets with `tag` and keeps the connection until the client
/// closes it.
fn greeter(tag: &'static str) -> Backend {
    Backend::start(move |mut c| {
        let _ = c.write_all(tag.as_bytes());
        let mut b = [0u8; 1024];
        while let Ok(n) = c.read(&mut b) {
            if n == 0 {
                break;
            }
        }
    })
}

/// A port with nothing listening on it (connections are refused).
fn refusing_port() -> u16 {
    let p = free_port();
    assert!(
        TcpStream::connect(("127.0.0.1", p)).is_err(),
        "port {p} unexpectedly accepts"
    );
    p
}

/// Records a failed expectation about a log line (all are reported at once).
fn check(errs: &mut Vec<String>, ok: bool, what: &str, l: &TcpLog) {
    if !ok {
        errs.push(format!("{what}: {}", l.raw));
    }
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

/// A proxy in front of one `maxconn 1` server greeting with `greeting`, with
/// `timeout queue` set to `queue`; returns both and the proxy's port.
fn one_slot(greeting: &'static str, queue: &str) -> (Backend, Proxy, u16) {
    let be = greeter(greeting);
    let port = free_port();
    let body = format!(
        "    timeout connect 2s\n    timeout queue {queue}\n    server s1 127.0.0.1:{} maxconn 1\n",
        be.port
    );
    let p = Proxy::start_under_test(&config(port, &body), &[port]);
    (be, p, port)
}

// ------------------------------------------------------------------ tests --

#[test]
fn maxconn_1_queues_extra_clients_and_serves_them_in_arrival_order() {
    let (be, p, port) = one_slot("served\n", "20s");
    let (mut c1, p1) = connect(port);
    assert_eq!(
        read_exact_str(&mut c1, 7),
        "served\n",
        "first client is served at once"
    );
    let (mut c2, p2) = connect(port);
    std::thread::sleep(Duration::from_millis(100));
    let (mut c3, p3) = connect(port);
    assert!(
        silent_for(&mut c2, Duration::from_millis(300)),
        "second client must wait in the queue"
    );
    assert!(
        silent_for(&mut c3, Duration::from_millis(100)),
        "third client must wait in the queue"
    );
    assert_eq!(
        be.accepted(),
        1,
        "the server never holds more than maxconn connections"
    );
    let t_free1 = Instant::now();
    drop(c1);
    assert_eq!(
        read_exact_str(&mut c2, 7),
        "served\n",
        "second client served when the slot frees"
    );
    assert!(
        silent_for(&mut c3, Duration::from_millis(300)),
        "third still queued behind the second"
    );
    assert_eq!(be.accepted(), 2);
    drop(c2);
    assert_eq!(
        read_exact_str(&mut c3, 7),
        "served\n",
        "third client served last"
    );
    assert_eq!(be.accepted(), 3);
    let waited = t_free1.elapsed();
    drop(c3);
    let (l1, l2, l3) = (
        p.tcp_log_for(p1, Duration::from_secs(5)),
        p.tcp_log_for(p2, Duration::from_secs(5)),
        p.tcp_log_for(p3, Duration::from_secs(5)),
    );
    let mut errs = Vec::new();
    for l in [&l1, &l2, &l3] {
        check(
            &mut errs,
            l.term == "--" && l.srv == "s1" && l.retries == 0,
            "normal end on s1, no retry",
            l,
        );
        // %Tc is the connect time alone, measured after the queue.
        check(
            &mut errs,
            l.tc >= 0 && l.tc < 100,
            "Tc excludes the time spent in the queue",
            l,
        );
    }
    check(&mut errs, l1.tw < 100, "first client did not queue", &l1);
    check(
        &mut errs,
        l2.tw >= 300,
        "second client waited in the queue (400+ ms)",
        &l2,
    );
    check(
        &mut errs,
        l3.tw >= 600 && l3.tw <= ms(waited) + 2000,
        "third client queued the longest",
        &l3,
    );
    check(
        &mut errs,
        l3.tw > l2.tw,
        "third queued longer than second",
        &l3,
    );
    // HAProxy 2.6 logs 0/0, 0/1, 0/2 here: queued in the backend queue (no
    // server assigned yet), %bq is the position counted by the queue index.
    check(
        &mut errs,
        (l1.sq, l1.bq) == (0, 0),
        "%sq/%bq of an unqueued stream is 0/0",
        &l1,
    );
    check(
        &mut errs,
        (l2.sq, l2.bq) == (0, 1),
        "%sq/%bq of the first queued stream is 0/1",
        &l2,
    );
    check(
        &mut errs,
        (l3.sq, l3.bq) == (0, 2),
        "%sq/%bq of the second queued stream is 0/2",
        &l3,
    );
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn queue_timeout_closes_the_queued_client_after_timeout_queue_with_sq() {
    let (be, p, port) = one_slot("busy\n", "300ms");
    let (mut c1, _) = connect(port);
    assert_eq!(read_exact_str(&mut c1, 5), "busy\n");
    let t0 = Instant::now();
    let (mut c2, p2) = connect(port);
    let (got, at) = wait_closed(&mut c2, Duration::from_secs(5));
    let waited = at - t0;
    assert!(got.is_empty(), "queued client got data: {got:?}");
    assert!(
        waited >= Duration::from_millis(240),
        "closed too early: {waited:?}"
    );
    assert!(
        waited <= Duration::from_millis(2300),
        "closed too late: {waited:?}"
    );
    let l = p.tcp_log_for(p2, Duration::from_secs(5));
    let mut errs = Vec::new();
    check(&mut errs, l.term == "sQ", "queue timeout is logged sQ", &l);
    check(
        &mut errs,
        l.tw >= 240 && l.tw <= 2300,
        "Tw is the time spent in the queue (~300 ms)",
        &l,
    );
    check(&mut errs, l.tc == -1, "never connected: Tc is -1", &l);
    check(&mut errs, l.srv == "<NOSRV>", "no server was assigned", &l);
    check(
        &mut errs,
        (l.sq, l.bq) == (0, 1),
        "%sq/%bq is 0/1 as in HAProxy 2.6",
        &l,
    );
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    assert_eq!(
        be.accepted(),
        1,
        "the queued client never reached the server"
    );
    drop(c1);
}

#[test]
fn retries_against_a_refusing_server_end_with_sc_and_retry_count_3() {
    let dead = refusing_port();
    let port = free_port();
    // Turn-around between retries is min(timeout connect, 1s) = 200 ms.
    let body =
        format!("    timeout connect 200ms\n    retries 3\n    server s1 127.0.0.1:{dead}\n");
    let p = Proxy::start_under_test(&config(port, &body), &[port]);
    let t0 = Instant::now();
    let (mut c, cp) = connect(port);
    let (got, at) = wait_closed(&mut c, Duration::from_secs(5));
    assert!(got.is_empty());
    let took = at - t0;
    assert!(
        took >= Duration::from_millis(480),
        "3 turn-arounds of 200 ms expected, took {took:?}"
    );
    assert!(took <= Duration::from_millis(2600), "took {took:?}");
    let l = p.tcp_log_for(cp, Duration::from_secs(5));
    assert_eq!(l.term, "SC", "{}", l.raw);
    assert_eq!(l.retries, 3, "{}", l.raw);
    assert!(!l.redispatched, "{}", l.raw);
    assert_eq!(l.srv, "s1", "{}", l.raw);
    assert_eq!(l.tc, -1, "{}", l.raw);
    assert!(l.tt >= 480, "{}", l.raw);
}

#[test]
fn retries_0_against_a_refusing_server_fails_at_once_with_sc() {
    let dead = refusing_port();
    let port = free_port();
    let body = format!("    timeout connect 2s\n    retries 0\n    server s1 127.0.0.1:{dead}\n");
    let p = Proxy::start_under_test(&config(port, &body), &[port]);
    let t0 = Instant::now();
    let (mut c, cp) = connect(port);
    let (_, at) = wait_closed(&mut c, Duration::from_secs(5));
    assert!(
        at - t0 < Duration::from_millis(1000),
        "no retry, no turn-around: {:?}",
        at - t0
    );
    let l = p.tcp_log_for(cp, Duration::from_secs(5));
    assert_eq!(l.term, "SC", "{}", l.raw);
    assert_eq!(l.retries, 0, "{}", l.raw);
}

#[test]
fn redispatch_serves_from_the_good_server_at_once_and_logs_the_plus_marker() {
    let dead = refusing_port();
    let good = greeter("good\n");
    let port = free_port();
    // Non-deterministic algorithm, no persistence and two active servers:
    // HAProxy redispatches right after the first failure, without waiting
    // for the turn-around (here 1 s) nor for the last retry.
    let body = format!(
        "    balance roundrobin\n    timeout connect 1s\n    retries 3\n    option redispatch\n    \
         server bad 127.0.0.1:{dead}\n    server ok 127.0.0.1:{}\n",
        good.port
    );
    let p = Proxy::start_under_test(&config(port, &body), &[port]);
    let mut conns = Vec::new();
    for i in 0..4 {
        let t0 = Instant::now();
        let (mut c, cp) = connect(port);
        assert_eq!(
            read_exact_str(&mut c, 5),
            "good\n",
            "connection {i} served by the good server"
        );
        conns.push((cp, t0.elapsed()));
    }
    let mut errs = Vec::new();
    let mut redispatched = 0;
    for (cp, took) in conns {
        let l = p.tcp_log_for(cp, Duration::from_secs(5));
        check(
            &mut errs,
            l.srv == "ok" && l.term == "--" && l.tc >= 0,
            "served normally by ok",
            &l,
        );
        if l.redispatched {
            redispatched += 1;
            check(
                &mut errs,
                l.retries == 1,
                "one failed attempt, then an immediate redispatch (+1)",
                &l,
            );
            check(
                &mut errs,
                took < Duration::from_millis(700),
                &format!("no turn-around before redispatch (took {took:?})"),
                &l,
            );
        } else {
            check(&mut errs, l.retries == 0, "direct hits need no retry", &l);
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    assert!(
        redispatched > 0,
        "round robin sent some to the bad server and redispatched them:\n{}",
        p.stdout()
    );
}

#[test]
fn without_redispatch_retries_stay_on_the_refusing_server_and_end_with_sc() {
    let dead = refusing_port();
    let good = greeter("good\n");
    let port = free_port();
    let body = format!(
        "    balance roundrobin\n    timeout connect 100ms\n    retries 2\n    \
         server bad 127.0.0.1:{dead}\n    server ok 127.0.0.1:{}\n",
        good.port
    );
    let p = Proxy::start_under_test(&config(port, &body), &[port]);
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let (mut c, cp) = connect(port);
        c.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut got = Vec::new();
        let _ = (&mut c).take(5).read_to_end(&mut got);
        drop(c);
        outcomes.push((
            String::from_utf8_lossy(&got).to_string(),
            p.tcp_log_for(cp, Duration::from_secs(5)),
        ));
    }
    let failed: Vec<&TcpLog> = outcomes
        .iter()
        .filter(|(g, _)| g.is_empty())
        .map(|(_, l)| l)
        .collect();
    assert!(
        !failed.is_empty(),
        "round robin sent some to the bad server: {outcomes:#?}"
    );
    for l in failed {
        assert_eq!(
            (l.srv.as_str(), l.term.as_str(), l.retries, l.redispatched),
            ("bad", "SC", 2, false),
            "{}",
            l.raw
        );
    }
    for (g, l) in outcomes.iter().filter(|(g, _)| !g.is_empty()) {
        assert_eq!(
            (g.as_str(), l.srv.as_str(), l.retries),
            ("good\n", "ok", 0),
            "{}",
            l.raw
        );
    }
}

#[test]
fn connect_timeout_against_a_full_backlog_ends_with_sc_after_retries() {
    let hole = Blackhole::new();
    let port = free_port();
    let body = format!(
        "    timeout connect 300ms\n    retries 1\n    server s1 127.0.0.1:{}\n",
        hole.port
    );
    let p = Proxy::start_under_test(&config(port, &body), &[port]);
    let t0 = Instant::now();
    let (mut c, cp) = connect(port);
    let (got, at) = wait_closed(&mut c, Duration::from_secs(5));
    assert!(got.is_empty());
    let took = at - t0;
    // Two attempts of 300 ms each.
    assert!(took >= Duration::from_millis(480), "took {took:?}");
    assert!(took <= Duration::from_millis(2600), "took {took:?}");
    let l = p.tcp_log_for(cp, Duration::from_secs(5));
    assert_eq!(l.term, "sC", "{}", l.raw);
    assert_eq!(l.retries, 1, "{}", l.raw);
    assert_eq!(l.tc, -1, "{}", l.raw);
    assert!(l.tt >= 480 && l.tt <= 2600, "{}", l.raw);
}

#[test]
fn client_leaving_the_queue_is_logged_cq_and_never_reaches_the_server() {
    let (be, p, port) = one_slot("served\n", "20s");
    let (mut c1, _) = connect(port);
    assert_eq!(read_exact_str(&mut c1, 7), "served\n");
    // A queued client that gives up (closes without sending anything).
    let (c2, p2) = connect(port);
    std::thread::sleep(Duration::from_millis(100));
    drop(c2);
    let l = p.tcp_log_for(p2, Duration::from_secs(3));
    let mut errs = Vec::new();
    check(
        &mut errs,
        l.term == "CQ",
        "client abort while queued is logged CQ",
        &l,
    );
    check(&mut errs, l.tc == -1, "never connected", &l);
    check(
        &mut errs,
        l.tw >= 50 && l.tw < 2000,
        "Tw is the time spent queued (~100 ms)",
        &l,
    );
    check(
        &mut errs,
        (l.sq, l.bq) == (0, 1),
        "%sq/%bq is 0/1 as in HAProxy 2.6",
        &l,
    );
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    // The abandoned place is not handed a server slot: the next client is served.
    let (mut c3, _) = connect(port);
    std::thread::sleep(Duration::from_millis(100));
    drop(c1);
    assert_eq!(read_exact_str(&mut c3, 7), "served\n");
    assert_eq!(
        be.accepted(),
        2,
        "the client that left the queue never reached the server"
    );
}

/// A client that closes without sending anything while the connection to
/// the server is still pending makes HAProxy give up at once (`CC`) instead
/// of waiting for the connect timeout.
#[test]
fn client_closing_during_connect_aborts_it_with_cc() {
    let hole = Blackhole::new();
    let port = free_port();
    let body = format!(
        "    timeout connect 3s\n    retries 0\n    server s1 127.0.0.1:{}\n",
        hole.port
    );
    let p = Proxy::start_under_test(&config(port, &body), &[port]);
    let (c, cp) = connect(port);
    std::thread::sleep(Duration::from_millis(150));
    let t0 = Instant::now();
    drop(c);
    let l = p.tcp_log_for(cp, Duration::from_secs(5));
    assert!(
        t0.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(l.term, "CC", "{}", l.raw);
    assert_eq!(l.tc, -1, "{}", l.raw);
}
