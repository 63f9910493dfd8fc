//! Inactivity timeouts in TCP mode: client, server, tunnel, client-fin,
//! server-fin and connect. Each is checked from the socket side (when the
//! connection ends) and in the tcplog line (termination state, %Tt), with
//! tolerances for a loaded CI machine: closed after >= 0.8*T and before
//! T + 2 s.
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs.

mod common;

use common::{Backend, Blackhole, Proxy, TcpLog, free_port, tcplog_config};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers --

/// A `listen` proxy on `port` to one server, with the given timeout lines.
fn config(port: u16, srv: u16, timeouts: &str) -> String {
    tcplog_config(
        "    retries 0\n",
        &format!("listen px\n    bind 127.0.0.1:{port}\n{timeouts}    server s1 127.0.0.1:{srv}\n"),
    )
}

/// Starts the proxy under test on a free port in front of `srv` with these
/// `timeout` lines.
fn start(srv: u16, timeouts: &str) -> (Proxy, u16) {
    let port = free_port();
    (
        Proxy::start_under_test(&config(port, srv, timeouts), &[port]),
        port,
    )
}

/// Waits for the first log line; returns it with the instant it was seen.
fn first_log(p: &Proxy, t: Duration) -> (TcpLog, Instant) {
    let end = Instant::now() + t;
    loop {
        if let Some(l) = p.stdout().lines().find_map(TcpLog::parse) {
            return (l, Instant::now());
        }
        if Instant::now() > end {
            panic!(
                "no log line after {t:?}; stdout:\n{}\nstderr:\n{}",
                p.stdout(),
                p.stderr()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn connect(port: u16) -> TcpStream {
    let c = common::connect(port);
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    c
}

/// Reads (discarding) until the peer closes (EOF or error). Returns when it
/// ended, or None if still open after `t`.
fn wait_closed(c: &mut TcpStream, t: Duration) -> Option<Instant> {
    let end = Instant::now() + t;
    let mut buf = [0u8; 4096];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        c.set_read_timeout(Some(left)).ok();
        match c.read(&mut buf) {
            Ok(0) => return Some(Instant::now()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None;
            }
            Err(_) => return Some(Instant::now()),
        }
    }
}

/// Asserts `d` is within [0.8*t, t + 2 s].
fn assert_about(what: &str, d: Duration, t: Duration) {
    assert!(
        d >= t.mul_f64(0.8),
        "{what}: after {d:?}, expected about {t:?} (too early)"
    );
    assert!(
        d <= t + Duration::from_secs(2),
        "{what}: after {d:?}, expected about {t:?} (too late)"
    );
}

fn assert_tt_about(l: &TcpLog, t: Duration) {
    let t = t.as_millis() as i64;
    assert!(
        l.tt >= t * 8 / 10 && l.tt <= t + 2000,
        "%Tt should be about {t} ms: {}",
        l.raw
    );
}

/// A server that accepts and stays silent until the client closes.
fn silent_server() -> Backend {
    Backend::start(|mut c| {
        let mut b = [0u8; 1024];
        while let Ok(n) = c.read(&mut b) {
            if n == 0 {
                break;
            }
        }
    })
}

/// True once writes on `c` fail (the peer closed or reset the connection),
/// trying for up to `t`.
fn writes_fail(c: &mut TcpStream, t: Duration) -> bool {
    let end = Instant::now() + t;
    while Instant::now() < end {
        if c.write_all(b"x").is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

const T: Duration = Duration::from_millis(500);

// ------------------------------------------------------------------ tests --

#[test]
fn timeout_client_closes_an_idle_client_with_cd() {
    let be = silent_server();
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 500ms\n    timeout server 10s\n",
    );
    let t0 = Instant::now();
    let mut c = connect(port);
    let at =
        wait_closed(&mut c, Duration::from_secs(5)).expect("idle client closed by timeout client");
    assert_about("idle client closed", at - t0, T);
    drop(c);
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "cD", "{}", l.raw);
    assert_tt_about(&l, T);
}

#[test]
fn timeout_server_closes_an_idle_server_with_sd() {
    let be = silent_server();
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 10s\n    timeout server 500ms\n",
    );
    let t0 = Instant::now();
    let mut c = connect(port);
    let at = wait_closed(&mut c, Duration::from_secs(5)).expect("EOF forwarded on timeout server");
    assert_about("idle server side closed", at - t0, T);
    // HAProxy only shuts the server's read side and forwards a FIN: the
    // stream ends (and is logged) once the client closes too.
    drop(c);
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "sD", "{}", l.raw);
    assert_tt_about(&l, T);
}

#[test]
fn timeout_server_shuts_only_the_server_read_side_and_client_data_still_flows() {
    // HAProxy 2.6: a server read timeout shuts the server's read side and
    // forwards a FIN to the client; the client->server direction stays open.
    let (be, rx) = Backend::collect();
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 10s\n    timeout server 500ms\n",
    );
    let t0 = Instant::now();
    let mut c = connect(port);
    let mut got = Vec::new();
    c.read_to_end(&mut got)
        .expect("EOF forwarded on timeout server");
    assert_about("server timeout", t0.elapsed(), T);
    let late = c
        .write_all(b"late")
        .and_then(|_| c.shutdown(Shutdown::Write));
    let at_server = rx.recv_timeout(Duration::from_secs(5));
    assert!(
        late.is_ok(),
        "client can still write after the server timeout: {late:?}"
    );
    assert_eq!(
        at_server.ok().as_deref(),
        Some(&b"late"[..]),
        "client data sent after the server timeout reaches the server"
    );
    drop(c);
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "sD", "{}", l.raw);
}

#[test]
fn timeout_client_shuts_only_the_client_read_side_and_the_server_reply_still_flows() {
    // HAProxy 2.6: a client read timeout shuts the client's read side and
    // forwards a FIN to the server; the server->client direction stays open.
    let be = Backend::start(|mut c| {
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        let _ = c.write_all(format!("got {}", got.len()).as_bytes());
    });
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 500ms\n    timeout server 10s\n",
    );
    let t0 = Instant::now();
    let mut c = connect(port);
    c.write_all(b"abc").expect("write");
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert_about("client timeout", t0.elapsed(), T);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "got 3",
        "the server's answer to the forwarded FIN reaches the client"
    );
    drop(c);
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "cD", "{}", l.raw);
}

#[test]
fn timeout_tunnel_overrides_client_and_server_timeouts_once_established() {
    let be = Backend::echo();
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 300ms\n    timeout server 300ms\n    timeout tunnel 1500ms\n",
    );
    let mut c = connect(port);
    let mut b = [0u8; 4];
    c.write_all(b"ping").expect("write");
    c.read_exact(&mut b).expect("echo");
    // Idle well past client/server timeouts, within the tunnel timeout.
    std::thread::sleep(Duration::from_millis(900));
    c.write_all(b"pong").expect("write after 900 ms idle");
    c.read_exact(&mut b)
        .expect("echo after 900 ms idle: the tunnel timeout applies");
    assert_eq!(&b, b"pong");
    let t0 = Instant::now();
    let at = wait_closed(&mut c, Duration::from_secs(6)).expect("closed by timeout tunnel");
    assert_about("idle tunnel closed", at - t0, Duration::from_millis(1500));
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "cD", "{}", l.raw);
}

#[test]
fn timeout_client_fin_closes_a_half_closed_client() {
    // The server says goodbye and closes; the client keeps its side open.
    let be = Backend::start(|mut c| {
        let _ = c.write_all(b"bye\n");
    });
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n    timeout client-fin 500ms\n",
    );
    let mut c = connect(port);
    let mut got = Vec::new();
    c.read_to_end(&mut got)
        .expect("read up to the forwarded FIN");
    let t0 = Instant::now();
    assert_eq!(got, b"bye\n");
    let (l, seen) = first_log(&p, Duration::from_secs(5));
    assert_about("half-closed client released", seen - t0, T);
    assert_tt_about(&l, T);
    assert!(
        writes_fail(&mut c, Duration::from_secs(2)),
        "the proxy closed its side: writes must fail"
    );
    // The server side is still established (only half-closed), so HAProxy
    // reports the data phase: 'D', not 'L'.
    assert_eq!(l.term, "cD", "{}", l.raw);
}

#[test]
fn timeout_server_fin_closes_a_half_closed_server() {
    // The server reads up to the client's FIN, then holds its side open.
    let be = Backend::start(|mut c| {
        let mut b = [0u8; 1024];
        while let Ok(n) = c.read(&mut b) {
            if n == 0 {
                break;
            }
        }
        std::thread::sleep(Duration::from_secs(4));
    });
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n    timeout server-fin 500ms\n",
    );
    let mut c = connect(port);
    c.write_all(b"hello").expect("write");
    c.shutdown(Shutdown::Write).expect("shutdown write");
    let t0 = Instant::now();
    let at = wait_closed(&mut c, Duration::from_secs(5)).expect("closed by timeout server-fin");
    assert_about("half-closed server released", at - t0, T);
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "sD", "{}", l.raw);
    assert_tt_about(&l, T);
}

#[test]
fn timeout_connect_closes_the_client_with_sc_when_the_server_never_answers() {
    let hole = Blackhole::new();
    let (p, port) = start(
        hole.port,
        "    timeout connect 500ms\n    timeout client 10s\n    timeout server 10s\n",
    );
    let t0 = Instant::now();
    let mut c = connect(port);
    let at = wait_closed(&mut c, Duration::from_secs(5)).expect("closed by timeout connect");
    assert_about("connect timeout", at - t0, T);
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "sC", "{}", l.raw);
    assert_eq!(l.tc, -1, "{}", l.raw);
    assert_tt_about(&l, T);
}

#[test]
fn timeout_client_counts_inactivity_not_connection_age() {
    let be = Backend::echo();
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 500ms\n    timeout server 500ms\n",
    );
    let mut c = connect(port);
    let mut b = [0u8; 100];
    let t0 = Instant::now();
    for i in 0..10u8 {
        c.write_all(&[i; 100]).expect("write while active");
        c.read_exact(&mut b)
            .unwrap_or_else(|e| panic!("echo {i} after {:?}: {e}", t0.elapsed()));
        assert_eq!(b, [i; 100]);
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(
        t0.elapsed() > Duration::from_millis(1500),
        "lived longer than the timeouts"
    );
    c.shutdown(Shutdown::Write).expect("shutdown");
    assert!(wait_closed(&mut c, Duration::from_secs(3)).is_some());
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "--", "{}", l.raw);
}

#[test]
fn one_way_upload_longer_than_timeout_server_is_not_cut() {
    // The server only reads, and answers once at the end. Without "option
    // independent-streams", writing to the server refreshes its read timeout.
    let be = Backend::start(|mut c| {
        let mut n = 0usize;
        let mut b = [0u8; 4096];
        loop {
            match c.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        let _ = c.write_all(format!("got {n}").as_bytes());
    });
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 500ms\n    timeout server 500ms\n",
    );
    let mut c = connect(port);
    for _ in 0..16 {
        c.write_all(&[7u8; 1000]).expect("upload");
        std::thread::sleep(Duration::from_millis(100));
    }
    c.shutdown(Shutdown::Write).expect("shutdown");
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "got 16000",
        "upload completed and answered"
    );
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "--", "{}", l.raw);
}

#[test]
fn one_way_download_longer_than_timeout_client_is_not_cut() {
    // The client only reads. Writing to the client refreshes its read timeout.
    let be = Backend::start(|mut c| {
        for _ in 0..16 {
            if c.write_all(&[9u8; 1000]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let (p, port) = start(
        be.port,
        "    timeout connect 2s\n    timeout client 500ms\n    timeout server 500ms\n",
    );
    let mut c = connect(port);
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert_eq!(got.len(), 16000, "whole download received");
    drop(c);
    let (l, _) = first_log(&p, Duration::from_secs(3));
    assert_eq!(l.term, "--", "{}", l.raw);
}

/// A reader blocked because the other side does not read is not idle: its
/// read timeout is suspended while the channel is full (HAProxy does the
/// same), so a paused download longer than `timeout server` completes.
#[test]
fn timeout_server_does_not_cut_a_download_paused_by_the_client() {
    const SIZE: usize = 48 << 20;
    // Made before any connection: building it in the handler could keep
    // the server silent past `timeout server` on a slow machine.
    let data = std::sync::Arc::new(common::payload(SIZE, 7));
    let d2 = data.clone();
    let be = Backend::start(move |mut c| {
        let _ = c.write_all(&d2);
        let _ = c.shutdown(std::net::Shutdown::Write);
        let mut b = [0u8; 64];
        while let Ok(n) = c.read(&mut b) {
            if n == 0 {
                break;
            }
        }
    });
    let port = free_port();
    let cfg = tcplog_config(
        "    timeout connect 2s\n    timeout client 10s\n    timeout server 400ms\n",
        &format!(
            "listen px\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{}\n",
            be.port
        ),
    );
    let p = Proxy::start_under_test(&cfg, &[port]);
    let mut c = common::connect(port);
    // Pause well past `timeout server` with the buffers full.
    std::thread::sleep(Duration::from_millis(1200));
    let got = common::read_all(&mut c);
    assert_eq!(got.len(), SIZE, "download cut short");
    assert!(got == *data, "download corrupted");
    drop(c);
    let l = p.wait_tcp_logs(1, Duration::from_secs(5));
    assert!(l.first().is_some_and(|l| l.term == "--"), "{l:?}");
}
