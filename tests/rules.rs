//! The rule language end to end: ACLs and conditions on `http-request`
//! rules and `use_backend`, dynamic backend names, `%[expr]` in header
//! values, redirects and `lf-string` replies, and `tcp-request content`
//! rules with an inspect delay.
//!
//! Every expectation holds on HAProxy 2.6.12 too: set
//! `HRS_TEST_BIN=/usr/sbin/haproxy` to run them against it.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Backend, Proxy, free_port};
use http_common::{Client, http_config};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn http_rules_config(port: u16) -> String {
    http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n\
  acl api path_beg /api\n\
  acl img path_end .jpg\n\
  acl img path_end .png\n\
  acl admin hdr(host) -i admin.example.com\n\
  acl local src 127.0.0.0/8 ::1\n\
  http-request deny if admin !{{ src 10.0.0.0/8 }}\n\
  http-request deny deny_status 429 unless {{ method GET HEAD POST }}\n\
  http-request redirect location /new%[path] code 301 if {{ path_beg /old }}\n\
  http-request return status 200 content-type text/plain lf-string \"api %[path] %[req.hdr(x-a)]\" if api\n\
  http-request set-header X-Src %[src] if local\n\
  http-request set-header X-Path %[path,lower]\n\
  use_backend b_img if img\n\
  use_backend %[req.hdr(x-be)] if {{ req.hdr(x-be) -m found }}\n\
  default_backend b_def\n\n\
backend b_img\n  http-request return status 200 content-type text/plain string img\n\n\
backend b_def\n  http-request return status 200 content-type text/plain lf-string \"def %[req.hdr(x-src)] %[req.hdr(x-path)]\"\n\n\
backend b_x\n  http-request return status 200 content-type text/plain string bx\n"
        ),
    )
}

#[test]
fn http_requests_are_routed_denied_redirected_and_answered_by_conditions() {
    let port = free_port();
    let _p = Proxy::start_under_test(&http_rules_config(port), &[port]);
    // (request, status, body, location)
    let cases: &[(&str, u16, &str, Option<&str>)] = &[
        (
            "GET /api/v1 HTTP/1.1\r\nHost: x\r\nX-A: 7\r\n\r\n",
            200,
            "api /api/v1 7",
            None,
        ),
        ("GET /pic.jpg HTTP/1.1\r\nHost: x\r\n\r\n", 200, "img", None),
        ("GET /pic.png HTTP/1.1\r\nHost: x\r\n\r\n", 200, "img", None),
        // path_end is case-sensitive; the header gets the lowered path.
        (
            "GET /Pic.JPG HTTP/1.1\r\nHost: x\r\n\r\n",
            200,
            "def 127.0.0.1 /pic.jpg",
            None,
        ),
        (
            "GET / HTTP/1.1\r\nHost: ADMIN.example.com\r\n\r\n",
            403,
            "",
            None,
        ),
        (
            "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            429,
            "",
            None,
        ),
        (
            "GET /old/a?q=1 HTTP/1.1\r\nHost: x\r\n\r\n",
            301,
            "",
            Some("/new/old/a"),
        ),
        (
            "GET /z HTTP/1.1\r\nHost: x\r\nX-Be: b_x\r\n\r\n",
            200,
            "bx",
            None,
        ),
        // A dynamic name that matches no backend falls to the default one.
        (
            "GET /z HTTP/1.1\r\nHost: x\r\nX-Be: nosuch\r\n\r\n",
            200,
            "def 127.0.0.1 /z",
            None,
        ),
    ];
    for (req, status, body, loc) in cases {
        let mut c = Client::connect(port);
        let r = c.exchange(req.as_bytes());
        assert_eq!(r.status(), *status, "{req:?}");
        if *status == 200 {
            assert_eq!(String::from_utf8_lossy(&r.body), *body, "{req:?}");
        }
        assert_eq!(r.head.get("location"), *loc, "{req:?}");
    }
}

#[test]
fn tcp_content_rules_wait_for_data_then_accept_route_or_reject() {
    let echo = Backend::echo();
    let port = free_port();
    let cfg = format!(
        "global\n  maxconn 100\n\ndefaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
frontend t\n  bind 127.0.0.1:{port}\n  tcp-request inspect-delay 600ms\n\
  tcp-request content accept if {{ req.len ge 5 }}\n  tcp-request content reject\n\
  use_backend long if {{ req.len gt 10 }}\n  default_backend echo\n\n\
backend echo\n  server s 127.0.0.1:{}\n\n\
backend long\n  server s 127.0.0.1:1\n",
        echo.port
    );
    let _p = Proxy::start_under_test(&http_config_free(&cfg), &[port]);
    // Five bytes in two writes: the rule waits for the second.
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    c.write_all(b"hel").expect("write");
    std::thread::sleep(Duration::from_millis(100));
    c.write_all(b"lo").expect("write");
    let mut got = [0u8; 5];
    c.read_exact(&mut got).expect("echo");
    assert_eq!(&got, b"hello");
    // Too short: rejected once the delay expired, nothing forwarded.
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let t0 = Instant::now();
    c.write_all(b"hi").expect("write");
    let mut buf = [0u8; 16];
    let n = c.read(&mut buf).unwrap_or(0);
    let waited = t0.elapsed();
    assert_eq!(n, 0, "rejected connection got data");
    assert!(
        waited >= Duration::from_millis(500),
        "rejected after {waited:?}"
    );
    // More than 10 bytes at once: routed to `long`, whose server refuses.
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    c.write_all(b"hello world!").expect("write");
    let n = c.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "long payload reached the echo server");
}

/// The TCP test's config as is (kept as a function so that the prelude can
/// change in one place).
fn http_config_free(cfg: &str) -> String {
    cfg.to_string()
}

/// `-c` on a frontend with `lines`; the checker's stderr (it must fail).
fn check_fails(lines: &str) -> String {
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{}\n{lines}  default_backend b\n\nbackend b\n",
            free_port()
        ),
    );
    let dir = std::env::temp_dir().join(format!("hrs-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let f = dir.join("c.cfg");
    std::fs::write(&f, cfg).expect("write cfg");
    let o = std::process::Command::new(common::test_bin())
        .args(["-c", "-f"])
        .arg(&f)
        .output()
        .expect("run -c");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!o.status.success(), "{lines} was accepted");
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn condition_errors_are_reported_with_haproxy_wording() {
    let out = check_fails("  acl a nosuch /x\n  http-request deny if nosuchacl\n");
    assert!(
        out.contains("error detected while parsing ACL 'a' : unknown fetch method 'nosuch' in ACL expression 'nosuch'."),
        "{out}"
    );
    assert!(
        out.contains("error detected while parsing an 'http-request deny' condition : no such ACL : 'nosuchacl'."),
        "{out}"
    );
    let out = check_fails("  acl b path_reg (\n");
    assert!(
        out.contains("error detected while parsing ACL 'b' : regex '(' is invalid"),
        "{out}"
    );
    let out = check_fails("  tcp-request content reject if nosuch\n");
    assert!(
        out.contains("'tcp-request content reject' : error detected in frontend 'f' while parsing 'if' condition : no such ACL : 'nosuch'"),
        "{out}"
    );
    let out = check_fails("  use-server s1\n");
    assert!(
        out.contains("'use-server' requires either 'if' or 'unless' followed by a condition."),
        "{out}"
    );
    let out = check_fails("  use-server s1 if TRUE\n");
    assert!(
        out.contains("'use-server' ignored because frontend 'f' has no backend capability.")
            && out.contains(
                "frontend 'f' : unable to find server 's1' referenced in a 'use-server' rule."
            ),
        "{out}"
    );
    let out = check_fails("  http-request set-header X %[path,nosuch]\n");
    assert!(
        out.contains("error detected in frontend 'f' while parsing 'http-request set-header' rule : failed to parse sample expression <path,nosuch]> : unknown converter 'nosuch'"),
        "{out}"
    );
}

#[test]
fn variables_set_status_and_reject() {
    let (port, origin) = (free_port(), free_port());
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n\
  http-request set-var(txn.host) req.hdr(host),lower\n\
  http-request set-var-fmt(txn.msg) \"hello %[var(txn.host)] from %[src]\"\n\
  http-request reject if {{ path /rej }}\n\
  http-request return status 200 content-type text/plain lf-string \"%[var(txn.msg)] %[var(txn.host),upper]\" if {{ var(txn.host) -m beg exa }}\n\
  default_backend b\n\n\
backend b\n  http-response set-status 299 reason Fine\n  server s 127.0.0.1:{origin}\n\n\
frontend o\n  bind 127.0.0.1:{origin}\n  http-request return status 200 content-type text/plain string ok\n"
        ),
    );
    let _p = Proxy::start_under_test(&cfg, &[port, origin]);
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET / HTTP/1.1\r\nHost: EXAmple.com\r\n\r\n");
    assert_eq!(r.status(), 200);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "hello example.com from 127.0.0.1 EXAMPLE.COM"
    );
    let r = c.exchange(b"GET / HTTP/1.1\r\nHost: other\r\n\r\n");
    assert_eq!(r.status(), 299);
    assert_eq!(r.head.token(2), "Fine");
    // `reject` closes the connection without a response.
    let mut c = Client::connect(port);
    c.send(b"GET /rej HTTP/1.1\r\nHost: x\r\n\r\n");
    let (got, closed) = c.wait_close(Duration::from_secs(5));
    assert!(closed && got.is_empty(), "{got:?}");
}

#[test]
fn log_format_sample_expressions_are_rendered() {
    let (port, tport) = (free_port(), free_port());
    let cfg = format!(
        "global\n  log stdout format raw local0\n\ndefaults\n  mode http\n  log global\n  \
         timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
frontend f\n  bind 127.0.0.1:{port}\n  log-format \"H %ci %[src] %[var(txn.h)] %[fe_name] %ST\"\n\
  http-request set-var(txn.h) req.hdr(host),lower\n\
  http-request return status 200 content-type text/plain string ok\n\n\
frontend t\n  mode tcp\n  bind 127.0.0.1:{tport}\n  log-format \"T %[src] %[dst_port] %[var(sess.x)] %[var(txn.none)]\"\n\
  tcp-request content set-var(sess.x) str(hello)\n  default_backend tb\n\n\
backend tb\n  mode tcp\n  server s 127.0.0.1:{port}\n"
    );
    let p = Proxy::start_under_test(&cfg, &[port, tport]);
    let mut c = Client::connect(port);
    assert_eq!(
        c.exchange(b"GET / HTTP/1.1\r\nHost: AbC\r\n\r\n").status(),
        200
    );
    drop(c);
    let mut t = TcpStream::connect(("127.0.0.1", tport)).expect("connect");
    t.set_read_timeout(Some(Duration::from_secs(5))).ok();
    t.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("write");
    let mut sink = Vec::new();
    let _ = t.read_to_end(&mut sink);
    drop(t);
    let end = Instant::now() + Duration::from_secs(5);
    let want_h = "H 127.0.0.1 127.0.0.1 abc f 200";
    let want_t = format!("T 127.0.0.1 {tport} hello -");
    loop {
        let out = p.stdout();
        let lines: Vec<&str> = out.lines().collect();
        if lines.contains(&want_h) && lines.contains(&want_t.as_str()) {
            break;
        }
        assert!(Instant::now() < end, "log lines not found in:\n{out}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn unique_id_is_generated_sent_fetched_and_logged() {
    let (port, origin) = (free_port(), free_port());
    let cfg = format!(
        "global\n  log stdout format raw local0\n\ndefaults\n  mode http\n  log global\n  \
         timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
frontend f\n  bind 127.0.0.1:{port}\n  unique-id-format %ci_%[req.hdr(x-id)]_%f\n  unique-id-header X-Unique-ID\n\
  log-format \"ID=%ID u=%[unique-id]\"\n  default_backend b\n\n\
backend b\n  server s 127.0.0.1:{origin}\n\n\
frontend o\n  bind 127.0.0.1:{origin}\n\
  http-request return status 200 content-type text/plain lf-string \"got %[req.hdr(x-unique-id)]\"\n"
    );
    let p = Proxy::start_under_test(&cfg, &[port, origin]);
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET / HTTP/1.1\r\nHost: x\r\nX-Id: 42\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(&r.body), "got 127.0.0.1_42_f");
    drop(c);
    let end = Instant::now() + Duration::from_secs(5);
    while !p.stdout().contains("ID=127.0.0.1_42_f u=127.0.0.1_42_f") {
        assert!(Instant::now() < end, "{}", p.stdout());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn use_server_picks_the_named_server_while_it_is_up() {
    let (port, o1, o2) = (free_port(), free_port(), free_port());
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\n\
backend b\n  balance roundrobin\n  use-server s2 if {{ req.hdr(x-s) two }}\n  use-server down if {{ req.hdr(x-s) down }}\n\
  force-persist if {{ req.hdr(x-force) -m found }}\n\
  server s1 127.0.0.1:{o1}\n  server s2 127.0.0.1:{o2}\n  server down 127.0.0.1:{o1} disabled\n\n\
frontend one\n  bind 127.0.0.1:{o1}\n  http-request return status 200 content-type text/plain string one\n\n\
frontend two\n  bind 127.0.0.1:{o2}\n  http-request return status 200 content-type text/plain string two\n"
        ),
    );
    let _p = Proxy::start_under_test(&cfg, &[port, o1, o2]);
    let body = |req: &[u8]| {
        let mut c = Client::connect(port);
        String::from_utf8_lossy(&c.exchange(req).body).to_string()
    };
    for _ in 0..4 {
        assert_eq!(
            body(b"GET / HTTP/1.1\r\nHost: x\r\nX-S: two\r\n\r\n"),
            "two"
        );
    }
    // A server in maintenance is not forced: load balancing decides.
    let mut seen: Vec<String> = (0..4)
        .map(|_| body(b"GET / HTTP/1.1\r\nHost: x\r\nX-S: down\r\n\r\n"))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, ["one", "two"]);
    // Under `force-persist` the server in maintenance is used anyway (it
    // answers "one": it points at the first origin).
    for _ in 0..4 {
        assert_eq!(
            body(b"GET / HTTP/1.1\r\nHost: x\r\nX-S: down\r\nX-Force: 1\r\n\r\n"),
            "one"
        );
    }
}

#[test]
fn http_after_response_rules_see_server_and_proxy_responses() {
    let (port, origin) = (free_port(), free_port());
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  http-after-response set-header X-After fe-%[status]\n\
  http-after-response del-header X-Drop\n\
  http-request return status 404 content-type text/plain string nf hdr X-Drop 1 if {{ path /nf }}\n\
  http-request deny if {{ path /deny }}\n  default_backend b\n\n\
backend b\n  http-after-response add-header X-Be yes\n  http-after-response set-status 201 if {{ status 200 }}\n\
  server s 127.0.0.1:{origin}\n\n\
frontend o\n  bind 127.0.0.1:{origin}\n  http-request return status 200 content-type text/plain string ok hdr X-Drop 1\n"
        ),
    );
    let _p = Proxy::start_under_test(&cfg, &[port, origin]);
    let mut c = Client::connect(port);
    // (path, status, x-after, x-be)
    for (path, status, after, be) in [
        ("/", 201, "fe-201", Some("yes")),
        ("/nf", 404, "fe-404", None),
        ("/deny", 403, "fe-403", None),
    ] {
        let r = c.exchange(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(r.head.get("x-after"), Some(after), "{path}");
        assert_eq!(r.head.get("x-be"), be, "{path}");
        assert_eq!(r.head.get("x-drop"), None, "{path}");
        if status == 403 {
            break;
        }
    }
}

#[test]
fn capture_set_src_set_log_level_and_silent_drop() {
    let (port, origin) = (free_port(), free_port());
    let cfg = format!(
        "global\n  log stdout format raw local0\n\ndefaults\n  mode http\n  log global\n  \
         timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
frontend f\n  bind 127.0.0.1:{port}\n  log-format \"L %ci %hr %[var(txn.x)]\"\n\
  http-request capture req.hdr(x-cap) len 3\n\
  http-request set-src req.hdr(x-src) if {{ req.hdr(x-src) -m found }}\n\
  http-request set-log-level silent if {{ path /quiet }}\n\
  http-request silent-drop if {{ path /drop }}\n\
  http-request strict-mode off\n  http-request set-mark 0x10\n  http-request set-tos 0\n  http-request wait-for-handshake\n\
  http-request set-var(txn.x) str(ok)\n\
  default_backend b\n\n\
backend b\n  option forwardfor\n  server s 127.0.0.1:{origin}\n\n\
frontend o\n  bind 127.0.0.1:{origin}\n\
  http-request return status 200 content-type text/plain lf-string \"xff=%[req.hdr(x-forwarded-for)]\"\n"
    );
    let p = Proxy::start_under_test(&cfg, &[port, origin]);
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET / HTTP/1.1\r\nHost: x\r\nX-Cap: abcdef\r\nX-Src: 10.1.2.3\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(&r.body), "xff=10.1.2.3");
    let r = c.exchange(b"GET /quiet HTTP/1.1\r\nHost: x\r\nX-Cap: zz\r\n\r\n");
    assert_eq!(r.status(), 200);
    drop(c);
    // `silent-drop`: the client is told nothing, not even a close.
    let mut d = Client::connect(port);
    d.send(b"GET /drop HTTP/1.1\r\nHost: x\r\n\r\n");
    let (got, closed) = d.wait_close(Duration::from_millis(800));
    assert!(!closed && got.is_empty(), "{got:?} closed={closed}");
    // The first request's line shows the capture and the new source; the
    // silent one logs nothing.
    let end = Instant::now() + Duration::from_secs(5);
    while !p.stdout().contains("L 10.1.2.3 {abc} ok") {
        assert!(Instant::now() < end, "{}", p.stdout());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(!p.stdout().contains("{zz}"), "{}", p.stdout());
}

/// A backend that answers every connection with `name` and closes.
fn named_backend(name: &'static str) -> Backend {
    Backend::start(move |mut c| {
        let mut b = [0u8; 256];
        let _ = c.read(&mut b);
        let _ = c.write_all(name.as_bytes());
    })
}

#[test]
fn tcp_mode_routes_by_protocol_without_waiting_for_what_is_not_http() {
    let (web, tls, other) = (
        named_backend("web"),
        named_backend("tls"),
        named_backend("other"),
    );
    let port = free_port();
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
frontend t\n  bind 127.0.0.1:{port}\n  tcp-request inspect-delay 3s\n\
  tcp-request content accept if HTTP\n  tcp-request content accept if {{ req_ssl_hello_type 1 }}\n\
  use_backend web if HTTP\n  use_backend tls if {{ req_ssl_hello_type 1 }}\n  default_backend other\n\n\
backend web\n  server s 127.0.0.1:{}\n\nbackend tls\n  server s 127.0.0.1:{}\n\nbackend other\n  server s 127.0.0.1:{}\n",
        web.port, tls.port, other.port
    );
    let _p = Proxy::start_under_test(&cfg, &[port]);
    // A minimal TLS 1.2 ClientHello: version, random, no session id, one
    // cipher suite, null compression.
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0u8; 32]);
    body.extend_from_slice(&[0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00]);
    let mut hs = vec![0x01, 0x00, 0x00, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01, 0x00, hs.len() as u8];
    rec.extend_from_slice(&hs);
    let hello: &[u8] = &rec;
    for (send, want) in [
        (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], "web"),
        (&b"SSH-2.0-OpenSSH_9.2\r\n"[..], "other"),
        (hello, "tls"),
    ] {
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let t0 = Instant::now();
        c.write_all(send).expect("write");
        let mut got = String::new();
        let _ = c.read_to_string(&mut got);
        assert_eq!(got, want, "{}", String::from_utf8_lossy(send));
        // Data that cannot be HTTP is not held for the whole delay.
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "{want}: {:?}",
            t0.elapsed()
        );
    }
}

#[test]
fn tcp_response_content_rules_inspect_what_the_server_sends() {
    let hello = Backend::start(|mut c| {
        let _ = c.write_all(b"hello");
        let mut b = [0u8; 16];
        let _ = c.read(&mut b);
    });
    let (p1, p2) = (free_port(), free_port());
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
listen ok\n  bind 127.0.0.1:{p1}\n  tcp-response inspect-delay 2s\n\
  tcp-response content accept if {{ res.len ge 5 }}\n  tcp-response content reject\n  server s 127.0.0.1:{}\n\n\
listen bad\n  bind 127.0.0.1:{p2}\n  tcp-response inspect-delay 2s\n\
  tcp-response content reject if {{ res.payload(0,2) -m str he }}\n  server s 127.0.0.1:{}\n",
        hello.port, hello.port
    );
    let _p = Proxy::start_under_test(&cfg, &[p1, p2]);
    let mut c = TcpStream::connect(("127.0.0.1", p1)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut got = [0u8; 5];
    c.read_exact(&mut got).expect("response");
    assert_eq!(&got, b"hello");
    let mut c = TcpStream::connect(("127.0.0.1", p2)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert!(
        buf.is_empty(),
        "rejected response reached the client: {buf:?}"
    );
}

/// A TLS 1.2 ClientHello record carrying `sni` in a server_name extension.
fn client_hello(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut ext = Vec::new();
    // server_name extension: list length, type host_name, name length, name.
    let list_len = 3 + name.len();
    ext.extend_from_slice(&[0x00, 0x00]);
    ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    ext.extend_from_slice(&(list_len as u16).to_be_bytes());
    ext.push(0x00);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7u8; 32]);
    body.extend_from_slice(&[0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![0x01, 0x00];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[test]
fn tls_passthrough_is_routed_by_sni_after_the_hello_arrives() {
    let (a, b, other) = (
        named_backend("a"),
        named_backend("b"),
        named_backend("other"),
    );
    let port = free_port();
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
frontend t\n  bind 127.0.0.1:{port}\n  tcp-request inspect-delay 3s\n\
  tcp-request content accept if {{ req_ssl_hello_type 1 }}\n\
  use_backend be_a if {{ req_ssl_sni -i a.example.com }}\n\
  use_backend be_b if {{ req.ssl_sni -m end .b.example.com }}\n  default_backend be_other\n\n\
backend be_a\n  server s 127.0.0.1:{}\n\nbackend be_b\n  server s 127.0.0.1:{}\n\nbackend be_other\n  server s 127.0.0.1:{}\n",
        a.port, b.port, other.port
    );
    let _p = Proxy::start_under_test(&cfg, &[port]);
    for (sni, want) in [
        ("A.example.com", "a"),
        ("x.b.example.com", "b"),
        ("c.example.com", "other"),
    ] {
        let hello = client_hello(sni);
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(5))).ok();
        // The hello comes in two pieces: the rules wait for the whole of it.
        let (x, y) = hello.split_at(20);
        c.write_all(x).expect("write");
        std::thread::sleep(Duration::from_millis(150));
        c.write_all(y).expect("write");
        let mut got = String::new();
        let _ = c.read_to_string(&mut got);
        assert_eq!(got, want, "{sni}");
    }
}

#[test]
fn set_timeout_server_and_set_pathq_apply_to_this_request() {
    use http_common::{Origin, Reply};
    let o = Origin::start(|_| Reply::ok(b"late").delay(Duration::from_millis(900)));
    let port = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\n\
backend b\n  http-request set-timeout server 300ms if {{ path_beg /fast }}\n\
  http-request set-pathq /new?x=1 if {{ path_beg /fast }}\n  server s 127.0.0.1:{}\n",
            o.port()
        ),
    );
    let _p = Proxy::start_under_test(&cfg, &[port]);
    let mut c = Client::connect(port);
    let t0 = Instant::now();
    let r = c.exchange(b"GET /fast/a?q HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 504);
    assert!(
        t0.elapsed() < Duration::from_millis(800),
        "{:?}",
        t0.elapsed()
    );
    let seen = o.wait_requests(1, Duration::from_secs(5));
    assert_eq!(
        seen.first().map(|s| s.target().to_string()),
        Some("/new?x=1".into())
    );
    // Without the rule, `timeout server` (5 s) lets the late answer in.
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 200);
}

#[test]
fn tcp_request_connection_rules_reject_or_expect_a_proxy_header() {
    let (p1, p2) = (free_port(), free_port());
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{p1}\n  bind 127.0.0.1:{p2}\n\
  tcp-request connection reject if {{ dst_port {p2} }}\n\
  tcp-request connection expect-proxy layer4 if {{ src 127.0.0.0/8 }}\n\
  http-request return status 200 content-type text/plain lf-string \"src=%[src]\"\n"
        ),
    );
    let _p = Proxy::start_under_test(&cfg, &[p1, p2]);
    let mut c = Client::connect(p1);
    let r =
        c.exchange(b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(&r.body), "src=1.2.3.4");
    let mut c = Client::connect(p2);
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let (got, closed) = c.wait_close(Duration::from_secs(5));
    assert!(closed && got.is_empty(), "{got:?}");
}

#[test]
fn normalize_uri_rewrites_as_26_and_needs_the_experimental_switch() {
    let port = free_port();
    let cfg = format!(
        "global\n  expose-experimental-directives\n\ndefaults\n  mode http\n  timeout client 5s\n  \
         timeout server 5s\n  timeout connect 2s\n\nfrontend f\n  bind 127.0.0.1:{port}\n\
  http-request normalize-uri path-merge-slashes\n  http-request normalize-uri path-strip-dotdot\n\
  http-request normalize-uri percent-decode-unreserved strict\n  http-request normalize-uri query-sort-by-name\n\
  http-request return status 200 content-type text/plain lf-string \"%[url]\"\n"
    );
    let _p = Proxy::start_under_test(&cfg, &[port]);
    for (uri, want) in [
        ("//a///b/c/../d?z=1&a=2", "200 /a/b/d?a=2&z=1"),
        ("/%7euser/x%41?b=%7e&a", "200 /~user/xA?a&b=~"),
        ("/%zz", "400 "),
    ] {
        let mut c = Client::connect(port);
        let r = c.exchange(format!("GET {uri} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let body = if r.status() == 200 {
            String::from_utf8_lossy(&r.body).to_string()
        } else {
            String::new()
        };
        assert_eq!(format!("{} {body}", r.status()), want, "{uri}");
    }
    let out = check_fails("  http-request normalize-uri path-merge-slashes\n");
    assert!(
        out.contains("'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'"),
        "{out}"
    );
}

#[test]
fn declared_captures_are_filled_by_capture_id_rules() {
    let (port, origin) = (free_port(), free_port());
    let cfg = format!(
        "global\n  log stdout format raw local0\n\ndefaults\n  mode http\n  log global\n  \
         timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
frontend f\n  bind 127.0.0.1:{port}\n  log-format \"C %hr %hs\"\n  capture request header X-A len 5\n\
  declare capture request len 4\n  declare capture response len 3\n\
  http-request capture req.hdr(x-b) id 1\n  http-response capture res.hdr(x-c) id 0\n  default_backend b\n\n\
backend b\n  server s 127.0.0.1:{origin}\n\n\
frontend o\n  bind 127.0.0.1:{origin}\n  http-request return status 200 content-type text/plain string ok hdr X-C abcdef\n"
    );
    let p = Proxy::start_under_test(&cfg, &[port, origin]);
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1234567\r\nX-B: qwerty\r\n\r\n");
    assert_eq!(r.status(), 200);
    drop(c);
    let end = Instant::now() + Duration::from_secs(5);
    while !p.stdout().contains("C {12345|qwer} {abc}") {
        assert!(Instant::now() < end, "{}", p.stdout());
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = check_fails("  http-request capture req.hdr(x) id 5\n");
    assert!(
        out.contains(
            "Proxy 'f': unable to find capture id '5' referenced by http-request capture rule."
        ),
        "{out}"
    );
}
