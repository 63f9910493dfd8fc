//! The implicit TCP -> HTTP upgrade: a `mode tcp` frontend whose backend
//! is `mode http` handles its streams as HTTP from the backend switch on
//! (the backend's `http-request` rules, HTTP errors, keep-alive), and logs
//! its `option tcplog` line once per transaction.
//!
//! Each expectation was checked on HAProxy 2.6.12 too: set
//! `HRS_TEST_BIN=/usr/sbin/haproxy` to run them against it.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Proxy, free_port};
use http_common::{Client, Origin, Reply, assert_bytes};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(5);

/// A `mode tcp` frontend `f` (with `fe_extra` lines) on a free port whose
/// default backend is `dflt`, the `mode http` backend `b` adding `X-Up:
/// yes`, plus `more` sections; returns the proxy and its port.
fn start(srv: u16, fe_extra: &str, dflt: &str, more: &str) -> (Proxy, u16) {
    let port = free_port();
    let cfg = format!(
        "global\n  log stdout format raw local0\n\n\
         defaults\n  log global\n  timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
         frontend f\n  mode tcp\n  bind 127.0.0.1:{port}\n{fe_extra}  default_backend {dflt}\n\n\
         backend b\n  mode http\n  http-request set-header X-Up yes\n  server s 127.0.0.1:{srv}\n\n{more}"
    );
    (Proxy::start_under_test(&cfg, &[port]), port)
}

/// The log lines written so far, waiting up to `T` for `n` of them.
fn log_lines(p: &Proxy, n: usize) -> Vec<String> {
    let end = Instant::now() + T;
    loop {
        let v: Vec<String> = p
            .stdout()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        if v.len() >= n || Instant::now() > end {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A tcplog line without its date and timers: `client f b/s bytes state
/// counters queues`, and its timers `[Tw, Tc, Tt]`.
fn tcplog(l: &str) -> (String, Vec<i64>) {
    let f: Vec<&str> = l.split(' ').collect();
    assert_eq!(f.len(), 9, "tcplog line {l:?}");
    let timers = f[4].split('/').map(|t| t.parse().unwrap_or(-99)).collect();
    let mut rest = vec![f[0], f[2], f[3]];
    rest.extend_from_slice(&f[5..]);
    (rest.join(" "), timers)
}

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// Two keep-alive requests on one connection: both reach the server as
/// HTTP (header names lower-cased, `X-Up` added by the backend, the
/// client's `Connection: keep-alive` dropped) over one server connection;
/// the client gets two HTTP responses; one tcplog line per transaction,
/// the second dated at the end of the first.
#[test]
fn tcplog_frontend_upgrades_to_http_for_each_keepalive_request() {
    let o = Origin::start(|_| Reply::ok(b"ok"));
    let (p, port) = start(o.port(), "  option tcplog\n", "b", "");
    let mut c = Client::connect(port);
    let cp = c.port();
    c.send(b"GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n");
    let r1 = c.response();
    assert_bytes(&r1.raw, RESPONSE, "first response");
    std::thread::sleep(Duration::from_millis(200));
    c.send(b"GET /b HTTP/1.1\r\nhost: x\r\nConnection: keep-alive\r\n\r\n");
    let r2 = c.response();
    assert_bytes(&r2.raw, RESPONSE, "second response");
    let seen = o.wait_requests(2, T);
    assert_eq!(seen.len(), 2);
    assert_bytes(
        &seen[0].raw,
        b"GET /a HTTP/1.1\r\nhost: x\r\nuser-agent: t\r\nx-up: yes\r\n\r\n",
        "first request",
    );
    assert_bytes(
        &seen[1].raw,
        b"GET /b HTTP/1.1\r\nhost: x\r\nx-up: yes\r\n\r\n",
        "second request",
    );
    assert_eq!(seen[0].conn, seen[1].conn, "one server connection");
    let l = log_lines(&p, 2);
    assert_eq!(l.len(), 2, "{l:?}");
    let want = format!("127.0.0.1:{cp} f b/s 51 -- 1/1/0/0/0 0/0");
    for (i, line) in l.iter().enumerate() {
        let (rest, t) = tcplog(line);
        assert_eq!(rest, want, "line {i}: {line}");
        // 0/0 on an idle machine; a loaded one may take a millisecond.
        assert!(t[0] < 50 && t[1] < 50, "Tw/Tc of line {i}: {line}");
    }
    // The second transaction counts from the end of the first: its Tt
    // holds the idle time.
    let (_, t2) = tcplog(&l[1]);
    assert!(t2[2] >= 150, "Tt of the second line: {}", l[1]);
    drop(c);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        log_lines(&p, 3).len(),
        2,
        "a closed idle connection logs nothing"
    );
}

/// Without a log option, 2.6 logs `Connect from` for each request of an
/// upgraded connection (one stream each), none when it closes idle.
#[test]
fn frontend_without_log_option_logs_connect_from_per_request() {
    let o = Origin::start(|_| Reply::ok(b"ok"));
    let (p, port) = start(o.port(), "", "b", "");
    let mut c = Client::connect(port);
    let cp = c.port();
    for path in ["/a", "/b"] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_bytes(&c.exchange(req.as_bytes()).raw, RESPONSE, path);
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(c);
    std::thread::sleep(Duration::from_millis(300));
    let want = format!("Connect from 127.0.0.1:{cp} to 127.0.0.1:{port} (f/TCP)");
    assert_eq!(log_lines(&p, 3), [want.clone(), want]);
}

/// An invalid request gets HAProxy's 400 and a close; the tcplog line
/// names the frontend as backend and no server (`PR`).
#[test]
fn bad_request_gets_a_400_and_a_frontend_log_line() {
    let o = Origin::start(|_| Reply::ok(b"ok"));
    let (p, port) = start(o.port(), "  option tcplog\n", "b", "");
    let mut c = Client::connect(port);
    let cp = c.port();
    c.send(b"GARBAGE\r\n\r\n");
    let (got, closed) = c.wait_close(T);
    assert!(closed);
    assert_bytes(
        &got,
        b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\n\
          Connection: close\r\nContent-Type: text/html\r\n\r\n\
          <html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n",
        "400",
    );
    let l = log_lines(&p, 1);
    assert_eq!(l.len(), 1, "{l:?}");
    let (rest, t) = tcplog(&l[0]);
    assert_eq!(
        rest,
        format!("127.0.0.1:{cp} f f/<NOSRV> 0 PR 1/1/0/0/0 0/0")
    );
    assert_eq!((t[0], t[1]), (-1, -1), "{}", l[0]);
    assert_eq!(o.accepted(), 0);
}

/// A tcplog frontend whose `tcp-request content` rules wait for the first
/// bytes: a GET goes to the HTTP backend `b`, anything else to the TCP
/// backend `t` (both on `o`).
fn start_by_method(o: &Origin) -> (Proxy, u16) {
    start(
        o.port(),
        "  option tcplog\n  tcp-request inspect-delay 1s\n  \
         tcp-request content accept if { req.len gt 0 }\n  \
         use_backend b if { req.payload(0,3) -m str GET }\n",
        "t",
        &format!("backend t\n  mode tcp\n  server s 127.0.0.1:{}\n", o.port()),
    )
}

/// A `use_backend` rule on the request's first bytes, after `tcp-request
/// content` rules waited for them, picks the HTTP backend: the request is
/// then processed as HTTP; another method goes to the TCP backend as is.
#[test]
fn use_backend_after_tcp_request_content_rules_upgrades() {
    let o = Origin::start(|_| Reply::ok(b"ok"));
    let (p, port) = start_by_method(&o);
    let mut c = Client::connect(port);
    let cp = c.port();
    let r = c.exchange(b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status(), 200);
    let (_, closed) = c.wait_close(T);
    assert!(closed);
    let mut c2 = Client::connect(port);
    let cp2 = c2.port();
    let r = c2.exchange(b"PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "TCP response",
    );
    drop(c2);
    let seen = o.wait_requests(2, T);
    assert_bytes(
        &seen[0].raw,
        b"GET /a HTTP/1.1\r\nhost: x\r\nx-up: yes\r\n\r\n",
        "upgraded request",
    );
    assert_bytes(
        &seen[1].raw,
        b"PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "TCP request",
    );
    let l = log_lines(&p, 2);
    assert_eq!(l.len(), 2, "{l:?}");
    let mut got: Vec<String> = l.iter().map(|x| tcplog(x).0).collect();
    got.sort();
    let mut want = vec![
        format!("127.0.0.1:{cp} f b/s 51 -- 1/1/0/0/0 0/0"),
        format!("127.0.0.1:{cp2} f t/s 40 -- 1/1/0/0/0 0/0"),
    ];
    want.sort();
    assert_eq!(got, want);
}

/// A later request of an upgraded connection whose rules pick a TCP
/// backend: 2.6 cannot go back to TCP, the connection is closed without a
/// reply and logged `IR`.
#[test]
fn later_request_sent_to_a_tcp_backend_closes_the_connection() {
    let o = Origin::start(|_| Reply::ok(b"ok"));
    let (p, port) = start_by_method(&o);
    let mut c = Client::connect(port);
    let cp = c.port();
    assert_bytes(
        &c.exchange(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").raw,
        RESPONSE,
        "first response",
    );
    std::thread::sleep(Duration::from_millis(100));
    c.send(b"PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    let (got, closed) = c.wait_close(T);
    assert!(closed);
    assert_bytes(&got, b"", "after the second request");
    assert_eq!(o.wait_requests(2, Duration::from_millis(300)).len(), 1);
    let l = log_lines(&p, 2);
    assert_eq!(l.len(), 2, "{l:?}");
    let (first, _) = tcplog(&l[0]);
    assert_eq!(first, format!("127.0.0.1:{cp} f b/s 51 -- 1/1/0/0/0 0/0"));
    // The counters are left out: 2.6 counts the stream on `t` (%bc 1).
    let (second, t) = tcplog(&l[1]);
    let f: Vec<&str> = second.split(' ').collect();
    assert_eq!(
        (f[0], f[1], f[2], f[3], f[4], f[6]),
        (
            format!("127.0.0.1:{cp}").as_str(),
            "f",
            "t/<NOSRV>",
            "0",
            "IR",
            "0/0"
        ),
        "{}",
        l[1]
    );
    assert_eq!((t[0], t[1]), (-1, -1), "{}", l[1]);
}

/// The frontend's `http-request` and `http-response` rules run on an
/// upgraded stream (before the backend's), although 2.6 warns that they
/// are ignored; its `option forwardfor` is dropped, as 2.6 warns.
#[test]
fn frontend_http_rules_run_but_not_its_forwardfor() {
    let o = Origin::start(|_| Reply::ok(b"ok"));
    let (_p, port) = start(
        o.port(),
        "  option forwardfor\n  http-request set-header X-Fe-Req 1\n  \
         http-response set-header X-Fe 1\n",
        "b",
        "",
    );
    let mut c = Client::connect(port);
    for path in ["/a", "/b"] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_bytes(
            &c.exchange(req.as_bytes()).raw,
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-fe: 1\r\n\r\nok",
            path,
        );
    }
    let seen = o.wait_requests(2, T);
    for (s, path) in seen.iter().zip(["/a", "/b"]) {
        let want = format!("GET {path} HTTP/1.1\r\nhost: x\r\nx-fe-req: 1\r\nx-up: yes\r\n\r\n");
        assert_bytes(&s.raw, want.as_bytes(), path);
    }
}

/// A client that closes before a complete head (with nothing sent, or a
/// partial head) is logged `PR` on the frontend, as 2.6's HTTP/1 layer
/// does under an upgraded stream (a `mode http` frontend logs `CR`).
#[test]
fn client_closing_before_a_complete_head_is_logged_pr() {
    let o = Origin::start(|_| Reply::ok(b"ok"));
    let (p, port) = start(o.port(), "  option tcplog\n", "b", "");
    let mut ports = Vec::new();
    for partial in [&b""[..], b"GET / HTTP/1.1\r\n"] {
        let mut c = Client::connect(port);
        ports.push(c.port());
        if !partial.is_empty() {
            c.send(partial);
        }
        std::thread::sleep(Duration::from_millis(150));
        drop(c);
        std::thread::sleep(Duration::from_millis(150));
    }
    let l = log_lines(&p, 2);
    assert_eq!(l.len(), 2, "{l:?}");
    for (line, cp) in l.iter().zip(ports) {
        let (rest, t) = tcplog(line);
        assert_eq!(
            rest,
            format!("127.0.0.1:{cp} f f/<NOSRV> 0 PR 1/1/0/0/0 0/0")
        );
        assert_eq!((t[0], t[1]), (-1, -1), "{line}");
    }
    assert_eq!(o.accepted(), 0);
}
