//! `http-request return` / `http-response return` through HAProxy 2.6 and
//! haproxy-rs on the same configuration: `hdr` values and `lf-string` /
//! `lf-file` bodies are log-format strings evaluated per request (a value
//! that evaluates to nothing drops its header), and the replies and their
//! log lines must be the same byte for byte.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{HAPROXY, Proxy, TempDir, bin, free_port, have_haproxy};
use http_common::{Client, http_config, show};
use std::time::Duration;

fn config(port: u16, origin: u16, lf_file: &str) -> String {
    http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n\
  http-request set-var(txn.p) path\n\
  http-request return status 201 content-type text/plain lf-string \"p=%[path] q=%[query]\" hdr X-Path \"%[path]\" hdr X-Empty \"%[req.hdr(x-none)]\" hdr X-Lit \"lit %ci\" hdr X-Plain bar if {{ path_beg /a }}\n\
  http-request return status 200 content-type text/plain lf-file {lf_file} hdr X-M %[method] if {{ path_beg /f }}\n\
  http-request return status 204 hdr X-Q %[query] if {{ path_beg /e }}\n\
  http-request return status 200 content-type text/plain lf-string \"%[req.hdr(x-none)]\" if {{ path_beg /z }}\n\
  default_backend b\n\n\
backend b\n\
  http-response return status 202 content-type text/plain lf-string \"from %ci\" hdr X-P \"%[var(txn.p)]\" if {{ var(txn.p) -m str /r1 }}\n\
  http-response deny if {{ var(txn.p) -m str /r2 }}\n\
  server s 127.0.0.1:{origin}\n\n\
frontend o\n  bind 127.0.0.1:{origin}\n\
  http-request return status 200 content-type text/plain string 0123456789 hdr X-O origin\n"
        ),
    )
}

/// Sent in order on one keep-alive connection (the 204s must not end it).
const REQUESTS: &[&str] = &[
    "GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /f/z HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /e HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /e?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
    "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /z HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /r1 HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /r2 HTTP/1.1\r\nHost: h\r\n\r\n",
];

/// What is compared of a log line: proxies, whether each timer was
/// measured, status, bytes, termination state, request line.
fn log_key(line: &str) -> String {
    let w: Vec<&str> = line.split_whitespace().collect();
    let timers: Vec<&str> = w
        .get(4)
        .unwrap_or(&"")
        .split('/')
        .map(|t| if t == "-1" { "-1" } else { "n" })
        .collect();
    let rest = w.get(5..).unwrap_or_default();
    format!(
        "{} {} {} {} {} {} {}",
        w.get(2).unwrap_or(&""),
        w.get(3).unwrap_or(&""),
        timers.join("/"),
        rest.first().unwrap_or(&""),
        rest.get(1).unwrap_or(&""),
        rest.get(4).unwrap_or(&""),
        rest.get(7..).unwrap_or_default().join(" ")
    )
}

#[test]
fn return_headers_and_bodies_are_evaluated_as_in_haproxy() {
    if !have_haproxy() {
        return;
    }
    let dir = TempDir::new("return-lf");
    let lf_file = dir.write("body.txt", "lf body %[path] from %ci\n");
    let lf_file = lf_file.to_string_lossy().to_string();
    let mut runs: Vec<(Vec<Vec<u8>>, Vec<String>)> = Vec::new();
    for program in [bin(), HAPROXY] {
        let (port, origin) = (free_port(), free_port());
        let p = Proxy::start_program(
            program,
            &config(port, origin, &lf_file),
            &[port, origin],
            &["-db"],
        );
        let mut c = Client::connect(port);
        let mut raw = Vec::new();
        for req in REQUESTS {
            c.send(req.as_bytes());
            let r = if req.starts_with("HEAD") {
                c.head_response()
            } else {
                c.response()
            };
            raw.push(r.raw);
        }
        // Two lines for /r1 and /r2 (the origin's and the client's).
        let n = REQUESTS.len() + 2;
        let logs: Vec<String> = p
            .wait_log_lines(n, Duration::from_secs(3))
            .iter()
            .filter(|l| l.contains(" f "))
            .map(|l| log_key(l))
            .collect();
        runs.push((raw, logs));
    }
    let (rs, hap) = (&runs[0], &runs[1]);
    for (i, req) in REQUESTS.iter().enumerate() {
        assert_eq!(
            show(&rs.0[i]),
            show(&hap.0[i]),
            "reply to {req:?} (left haproxy-rs, right HAProxy 2.6)"
        );
    }
    assert_eq!(
        rs.1, hap.1,
        "log lines (left haproxy-rs, right HAProxy 2.6)"
    );
    assert_eq!(rs.1.len(), REQUESTS.len(), "{:?}", rs.1);
    // The evaluation itself, not only the agreement.
    let first = String::from_utf8_lossy(&rs.0[0]).to_string();
    assert!(
        first.contains("x-path: /a/b\r\n") && first.ends_with("p=/a/b q=x=1"),
        "{first}"
    );
    assert!(!first.contains("x-empty"), "{first}");
}

/// `http-error` replies too: log-format parts evaluated for each error
/// (over the request that never reached a server), and the headers in
/// 2.6's order.
#[test]
fn http_error_replies_are_evaluated_as_in_haproxy() {
    if !have_haproxy() {
        return;
    }
    let mut runs: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for program in [bin(), HAPROXY] {
        let (lf, plain) = (free_port(), free_port());
        let cfg = http_config(
            "",
            &format!(
                "frontend lf\n  bind 127.0.0.1:{lf}\n\
  http-error status 503 content-type text/plain lf-string \"p=%[path] %ci\" hdr X-P %[path] hdr X-E %[req.hdr(x-none)]\n\
  default_backend none\n\n\
frontend plain\n  bind 127.0.0.1:{plain}\n\
  http-error status 503 content-type text/plain string static hdr X-A lit\n\
  default_backend none\n\n\
backend none\n"
            ),
        );
        let p = Proxy::start_program(program, &cfg, &[lf, plain], &["-db"]);
        let mut raw = Vec::new();
        for (port, req) in [
            (lf, "GET /abc HTTP/1.1\r\nHost: h\r\n\r\n"),
            (lf, "GET /x?y HTTP/1.1\r\nHost: h\r\n\r\n"),
            (plain, "GET /abc HTTP/1.1\r\nHost: h\r\n\r\n"),
        ] {
            let mut c = Client::connect(port);
            raw.push(show(&c.exchange(req.as_bytes()).raw));
        }
        let logs: Vec<String> = p
            .wait_log_lines(3, Duration::from_secs(3))
            .iter()
            .map(|l| log_key(l))
            .collect();
        runs.push((raw, logs));
    }
    assert_eq!(runs[0], runs[1], "left haproxy-rs, right HAProxy 2.6");
    assert!(runs[0].0[0].contains("x-p: /abc"), "{:?}", runs[0].0);
}
