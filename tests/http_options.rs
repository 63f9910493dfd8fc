//! `mode http` options and timeouts that change when and how a request is
//! handled: `http-request tarpit` with `timeout tarpit`, `option
//! http-buffer-request`, `option http-ignore-probes`, `timeout
//! http-keep-alive`, `option http-pretend-keepalive`.
//!
//! Each expectation was checked on HAProxy 2.6.12 too: set
//! `HRS_TEST_BIN=/usr/sbin/haproxy` to run them against it.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Proxy, free_port};
use http_common::{Client, Origin, fe_be, http_config, http_logs, logs, start};
use std::net::Shutdown;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(5);

#[test]
fn tarpit_holds_the_request_for_timeout_tarpit_then_answers() {
    let o = Origin::ok();
    let (p, port) = start(
        o.port(),
        "  timeout tarpit 300ms\n",
        "  http-request tarpit deny_status 403\n",
        "",
    );
    let mut c = Client::connect(port);
    let t0 = Instant::now();
    let r = c.exchange(b"GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
    let held = t0.elapsed();
    assert_eq!(r.status(), 403);
    assert!(
        held >= Duration::from_millis(280),
        "answered after {held:?}"
    );
    assert!(
        held < Duration::from_millis(2000),
        "answered after {held:?}"
    );
    let l = logs(&p, 1);
    // The hold is logged as queue time (%Tw), the state is PT.
    assert_eq!(
        (l[0].status, l[0].term.as_str()),
        (403, "PT--"),
        "{}",
        l[0].raw
    );
    assert!(l[0].timers[1] >= 250, "Tw in {}", l[0].raw);
    assert_eq!(
        o.accepted(),
        0,
        "a tarpitted request never reaches a server"
    );
}

#[test]
fn http_buffer_request_connects_only_once_the_body_is_there() {
    let o = Origin::ok();
    let (_p, port) = start(o.port(), "", "  option http-buffer-request\n", "");
    let mut c = Client::connect(port);
    c.send(b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(o.accepted(), 0, "connected before the body was complete");
    c.send(b"56789");
    let r = c.response();
    assert_eq!(r.status(), 200);
    let seen = o.wait_requests(1, T);
    assert_eq!(seen[0].body, b"0123456789");
}

#[test]
fn http_ignore_probes_closes_an_empty_connection_without_reply_or_log() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "  option http-ignore-probes\n", "", "");
    let mut c = Client::connect(port);
    c.s.shutdown(Shutdown::Write).unwrap_or(());
    let (got, closed) = c.wait_close(T);
    assert!(closed);
    assert!(
        got.is_empty(),
        "probe got {:?}",
        String::from_utf8_lossy(&got)
    );
    // A real request afterwards is the only line logged.
    let mut c = Client::connect(port);
    c.exchange(b"GET /real HTTP/1.1\r\nHost: x\r\n\r\n");
    let l = logs(&p, 1);
    std::thread::sleep(Duration::from_millis(100));
    let l2 = http_logs(&p.stdout());
    assert_eq!(l2.len(), 1, "{l2:?}");
    assert!(l[0].raw.ends_with("\"GET /real HTTP/1.1\""), "{}", l[0].raw);
}

#[test]
fn timeout_http_keep_alive_closes_an_idle_client_silently() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "  timeout http-keep-alive 200ms\n", "", "");
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 200);
    let t0 = Instant::now();
    let (got, closed) = c.wait_close(T);
    assert!(closed);
    assert!(
        got.is_empty(),
        "idle close sent {:?}",
        String::from_utf8_lossy(&got)
    );
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(150),
        "closed after {waited:?}"
    );
    assert!(
        waited < Duration::from_millis(3000),
        "closed after {waited:?}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        http_logs(&p.stdout()).len(),
        1,
        "only the request is logged"
    );
}

#[test]
fn http_pretend_keepalive_does_not_tell_the_server_it_closes() {
    let o = Origin::ok();
    let (_p, port) = start(
        o.port(),
        "",
        "",
        "  option http-server-close\n  option http-pretend-keepalive\n",
    );
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 200);
    let seen = o.wait_requests(1, T);
    assert_eq!(
        String::from_utf8_lossy(&seen[0].raw),
        "GET /p HTTP/1.1\r\nhost: x\r\n\r\n"
    );
}

#[test]
fn option_splice_response_splices_a_content_length_body_byte_exact() {
    let body = common::payload(3 << 20, 7);
    let b2 = body.clone();
    let o = Origin::start(move |_| http_common::Reply::ok(&b2));
    let dir = common::TempDir::new("hsplice");
    let sock = dir.path().join("s");
    let port = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  option splice-response\n  default_backend b\n\n\
             backend b\n  server s 127.0.0.1:{}\n",
            o.port()
        ),
    )
    .replace(
        "log stdout format raw local0\n",
        &format!(
            "log stdout format raw local0\n  stats socket {} level admin\n",
            sock.display()
        ),
    );
    let _p = Proxy::start_under_test(&cfg, &[port]);
    let mut c = Client::connect(port);
    for _ in 0..2 {
        let r = c.exchange(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.status(), 200);
        assert!(r.body == body, "body differs ({} bytes)", r.body.len());
    }
    let info = common::cli(&sock, "show info");
    let spliced = common::info_field(&info, "TotalSplicdedBytesOut").unwrap_or(0);
    assert!(spliced > (4 << 20), "spliced only {spliced} bytes");
}

#[test]
fn custom_log_format_renders_httplog_variables() {
    let o = Origin::ok();
    let (p, port) = start(
        o.port(),
        "",
        "  log-format \"%ci %ft %b/%s %ST %B %HM %HP %HQ %HV %{+Q}r %tsc %rc\"\n",
        "",
    );
    let mut c = Client::connect(port);
    c.exchange(b"GET /lf?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    let end = Instant::now() + T;
    let line = loop {
        let out = p.stdout();
        if let Some(l) = out.lines().find(|l| l.contains("/lf")) {
            break l.to_string();
        }
        assert!(Instant::now() < end, "no log line; stdout:\n{out}");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        line,
        "127.0.0.1 f b/s 200 51 GET /lf ?x=1 HTTP/1.1 \"GET /lf?x=1 HTTP/1.1\" ---- 0"
    );
}

#[test]
fn custom_log_format_in_tcp_mode() {
    let be = common::Backend::echo();
    let port = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend t\n  mode tcp\n  bind 127.0.0.1:{port}\n  log-format \"%ci %ft %b/%s %B %U %ts\"\n  default_backend e\n\n\
             backend e\n  mode tcp\n  server s 127.0.0.1:{}\n",
            be.port
        ),
    );
    let p = Proxy::start_under_test(&cfg, &[port]);
    let mut c = Client::connect(port);
    c.send(b"hello");
    c.s.shutdown(Shutdown::Write).unwrap_or(());
    let (got, _) = c.wait_close(T);
    assert_eq!(got, b"hello");
    let end = Instant::now() + T;
    let line = loop {
        let out = p.stdout();
        if let Some(l) = out.lines().find(|l| l.starts_with("127.0.0.1 t ")) {
            break l.to_string();
        }
        assert!(Instant::now() < end, "no log line; stdout:\n{out}");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(line, "127.0.0.1 t e/s 5 5 --");
}

/// Clients one after the other through `http-reuse <mode>`: two closing
/// clients, one keep-alive client with two requests, then two closing
/// clients. Returns how many connections the server accepted.
fn reuse_accepts(program: &str, mode: &str) -> usize {
    let o = Origin::ok();
    let port = free_port();
    let be = format!("  http-reuse {mode}\n");
    let cfg = http_config("", &fe_be(port, o.port(), "", &be));
    let _p = Proxy::start_program(program, &cfg, &[port], &["-db"]);
    let closing = |i: usize| {
        let mut c = Client::connect(port);
        let r = c.exchange(
            format!("GET /c{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(r.status(), 200, "{program}: closing client {i}");
        let (_, closed) = c.wait_close(T);
        assert!(closed, "{program}: client {i} not closed");
        // 2.6 pools the server connection a moment after the client's
        // close: the next client must not race it.
        std::thread::sleep(Duration::from_millis(50));
    };
    closing(1);
    closing(2);
    let mut c = Client::connect(port);
    for i in 0..2 {
        let r = c.exchange(format!("GET /k{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(r.status(), 200, "{program}: keep-alive request {i}");
    }
    drop(c);
    std::thread::sleep(Duration::from_millis(100));
    closing(3);
    closing(4);
    o.wait_requests(6, T);
    o.accepted()
}

/// `http-reuse aggressive`: a first request takes only a pooled connection
/// that was reused at least once (the keep-alive client's); `always` takes
/// any. The counts are HAProxy 2.6's, checked live when it is installed.
#[test]
fn http_reuse_aggressive_gives_first_requests_only_reused_connections() {
    let mut programs = vec![common::test_bin()];
    if common::have_haproxy() && common::test_bin() != common::HAPROXY {
        programs.push(common::HAPROXY.to_string());
    }
    for p in &programs {
        assert_eq!(reuse_accepts(p, "aggressive"), 3, "{p}: aggressive");
        assert_eq!(reuse_accepts(p, "always"), 1, "{p}: always");
    }
}
