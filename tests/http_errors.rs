//! Errors the proxy produces itself in `mode http`, byte for byte as the
//! client sees them, with the log line and what becomes of the client
//! connection (kept alive or closed): 400, 408, 502, 503, 504, 403 and
//! every other `deny_status`, `errorfile`, `errorloc302` and the
//! `http-errors` section.
//!
//! The byte strings are HAProxy 2.6.12's (`src/http/errors.rs` on branch
//! http-facts): 400 and 408 raised by the HTTP/1 layer are sent raw (mixed
//! case names, `Connection: close`); everything a stream produces goes
//! through the HTTP/1 encoder (lower-case names, `connection: close` last
//! when the connection closes).
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Proxy, TempDir, free_port};
use http_common::{
    Client, HttpLog, Origin, Reply, assert_bytes, http_config, logs, start, start_fronts,
};
use std::time::{Duration, Instant};

// ------------------------------------------------------ HAProxy's bytes --

const BUILTIN_400: &[u8] = b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
const STREAM_400: &[u8] = b"HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
const BUILTIN_403: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";
const BUILTIN_404: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 83\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n";
const BUILTIN_405: &[u8] = b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 146\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n";
const BUILTIN_408: &[u8] = b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
const STREAM_408: &[u8] = b"HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
const BUILTIN_410: &[u8] = b"HTTP/1.1 410 Gone\r\ncontent-length: 114\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n";
const BUILTIN_425: &[u8] = b"HTTP/1.1 425 Too Early\r\ncontent-length: 80\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n";
const BUILTIN_429: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n";
const BUILTIN_500: &[u8] = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n";
const BUILTIN_501: &[u8] = b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 136\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n";
const BUILTIN_502: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n";
const BUILTIN_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
const BUILTIN_504: &[u8] = b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";

// ---------------------------------------------------------------- helpers --

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// Waits for `n` httplog lines; returns them masked (see
/// [`HttpLog::masked`]).
fn masked_logs(p: &Proxy, n: usize) -> Vec<String> {
    logs(p, n).iter().map(HttpLog::masked).collect()
}

/// Asserts the client connection is closed (nothing more read) within 2 s.
#[track_caller]
fn assert_closed(c: &mut Client, what: &str) {
    let (extra, closed) = c.wait_close(Duration::from_secs(2));
    assert!(closed, "{what}: client connection should be closed");
    assert!(
        extra.is_empty(),
        "{what}: extra bytes b\"{}\"",
        http_common::show(&extra)
    );
}

/// Asserts the client connection is still usable: `req` gets a response
/// with `status`.
#[track_caller]
fn assert_kept_alive(c: &mut Client, req: &[u8], status: u16, what: &str) {
    c.send(req);
    match c.try_response() {
        Ok(r) => assert_eq!(
            r.status(),
            status,
            "{what}: next request on the same connection"
        ),
        Err(f) => panic!(
            "{what}: connection not kept alive (closed: {}, got b\"{}\")",
            f.closed,
            http_common::show(&f.partial)
        ),
    }
}

/// `backend b` with `server s` on `srv`.
fn backend_b(srv: u16) -> String {
    format!("backend b\n  server s 127.0.0.1:{srv}\n")
}

/// Asserts that a frontend leading to `backend b` (see [`backend_b`])
/// forwards `GET /` and gets 200.
#[track_caller]
fn assert_forwards(port: u16, what: &str) {
    let r = Client::connect(port).exchange(GET);
    assert_eq!(r.status(), 200, "{what}: another frontend forwards");
}

// ------------------------------------------------------------------ tests --

#[test]
fn garbage_request_line_gets_raw_400_then_close() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"this is not http\r\n\r\n");
    let r = c.response();
    assert_bytes(&r.raw, BUILTIN_400, "400");
    assert_closed(&mut c, "400");
    assert_eq!(
        masked_logs(&p, 1),
        ["f f/<NOSRV> -1/-1/-1/-1/T 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""]
    );
    assert_eq!(o.accepted(), 0);
}

/// A chunked body that came with the head, with an invalid chunk size,
/// or invalid further on (a second size, the CRLF after a chunk's data, a
/// trailer): 2.6's HTTP/1 layer parses it with the head, so the request is
/// refused as a bad head, `PR--` and `<BADREQ>` (not `PD--` with the
/// request line), with the raw 400; no server connection.
#[test]
fn bad_chunked_body_sent_with_the_head_is_a_bad_request() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "", "", "");
    let head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let bodies: [&[u8]; 4] = [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabc\r\nzz\r\n0\r\n\r\n",
        b"3\r\nabcX\r\n",
        b"0\r\nbad trailer\r\n\r\n",
    ];
    for body in bodies {
        let mut c = Client::connect(port);
        c.send(&[head.as_bytes(), body].concat());
        let r = c.response();
        assert_bytes(&r.raw, BUILTIN_400, "400");
        assert_closed(&mut c, "400");
    }
    let line = "f f/<NOSRV> -1/-1/-1/-1/T 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\"";
    assert_eq!(masked_logs(&p, bodies.len()), vec![line; bodies.len()]);
    assert_eq!(o.accepted(), 0);
}

#[test]
fn partial_request_gets_raw_408_after_timeout_http_request() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "  timeout http-request 300ms\n", "", "");
    let mut c = Client::connect(port);
    let t0 = Instant::now();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n");
    let r = c.response();
    let dt = t0.elapsed();
    assert!(
        dt >= Duration::from_millis(240) && dt < Duration::from_millis(2300),
        "408 after {dt:?}"
    );
    assert_bytes(&r.raw, BUILTIN_408, "408");
    assert_closed(&mut c, "408");
    assert_eq!(
        masked_logs(&p, 1),
        ["f f/<NOSRV> -1/-1/-1/-1/T 408 0 - - cR-- 1/1/0/0/0 0/0 \"<BADREQ>\""]
    );
    assert_eq!(o.accepted(), 0);
}

#[test]
fn garbage_response_gets_502_and_keeps_the_client_open() {
    let o = Origin::start(|s| {
        if s.target() == "/gar" {
            Reply::raw(b"garbage\r\n\r\n").close()
        } else {
            Reply::ok(b"ok")
        }
    });
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /gar HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, BUILTIN_502, "502");
    assert_eq!(
        masked_logs(&p, 1),
        ["f b/s T/T/T/-1/T 502 209 - - PH-- 1/1/0/0/0 0/0 \"GET /gar HTTP/1.1\""]
    );
    assert_kept_alive(&mut c, GET, 200, "502 PH");
}

#[test]
fn server_closing_without_response_gets_502_and_keeps_the_client_open() {
    let o = Origin::start(|s| {
        if s.target() == "/close" {
            Reply::close_now()
        } else {
            Reply::ok(b"ok")
        }
    });
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, BUILTIN_502, "502");
    assert_eq!(
        masked_logs(&p, 1),
        ["f b/s T/T/T/-1/T 502 209 - - SH-- 1/1/0/0/0 0/0 \"GET /close HTTP/1.1\""]
    );
    assert_kept_alive(&mut c, GET, 200, "502 SH");
}

#[test]
fn server_reset_without_response_gets_502_and_keeps_the_client_open() {
    let o = Origin::start(|s| {
        if s.target() == "/rst" {
            Reply::reset()
        } else {
            Reply::ok(b"ok")
        }
    });
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /rst HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, BUILTIN_502, "502");
    assert_eq!(
        masked_logs(&p, 1),
        ["f b/s T/T/T/-1/T 502 209 - - SH-- 1/1/0/0/0 0/0 \"GET /rst HTTP/1.1\""]
    );
    assert_kept_alive(&mut c, GET, 200, "502 after a reset");
}

#[test]
fn backend_without_server_gets_503_and_keeps_the_client_open() {
    let o = Origin::ok();
    let (p, ports) = start_fronts(
        &[("fnone", "", "bnone"), ("f", "", "b")],
        &format!("backend bnone\n\n{}", backend_b(o.port())),
    );
    let mut c = Client::connect(ports[0]);
    let r = c.exchange(b"GET /none HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, BUILTIN_503, "503");
    assert_eq!(
        masked_logs(&p, 1),
        ["fnone bnone/<NOSRV> T/-1/-1/-1/T 503 217 - - SC-- 1/1/0/0/0 0/0 \"GET /none HTTP/1.1\""]
    );
    assert_kept_alive(&mut c, GET, 503, "503");
    assert_eq!(o.accepted(), 0);
    assert_forwards(ports[1], "503");
}

#[test]
fn all_servers_disabled_gets_503_and_keeps_the_client_open() {
    let o = Origin::ok();
    let port = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\n\
             backend b\n  server s1 127.0.0.1:{0} disabled\n  server s2 127.0.0.1:{0} disabled\n",
            o.port()
        ),
    );
    let p = Proxy::start_under_test(&cfg, &[port]);
    let mut c = Client::connect(port);
    let r = c.exchange(GET);
    assert_bytes(&r.raw, BUILTIN_503, "503");
    assert_kept_alive(&mut c, GET, 503, "503");
    assert_eq!(
        masked_logs(&p, 2),
        ["f b/<NOSRV> T/-1/-1/-1/T 503 217 - - SC-- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""; 2]
    );
    assert_eq!(o.accepted(), 0);
}

#[test]
fn server_timeout_gets_504_and_keeps_the_client_open() {
    let o = Origin::start(|_| Reply::hang());
    let (p, port) = start(o.port(), "", "", "  timeout server 300ms\n");
    let mut c = Client::connect(port);
    let t0 = Instant::now();
    let r = c.exchange(GET);
    let dt = t0.elapsed();
    assert!(
        dt >= Duration::from_millis(240) && dt < Duration::from_millis(2300),
        "504 after {dt:?}"
    );
    assert_bytes(&r.raw, BUILTIN_504, "504");
    assert_eq!(
        masked_logs(&p, 1),
        ["f b/s T/T/T/-1/T 504 198 - - sH-- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""]
    );
    // HAProxy 2.6 keeps the client connection after a 504 (it is closed
    // later by `timeout http-keep-alive`, here `timeout client`): a next
    // request is served, and times out the same way.
    assert_kept_alive(&mut c, GET, 504, "504");
}

#[test]
fn deny_gets_403_and_keeps_the_client_open() {
    let o = Origin::ok();
    let (p, ports) = start_fronts(
        &[("fdeny", "  http-request deny\n", "b"), ("f", "", "b")],
        &backend_b(o.port()),
    );
    let mut c = Client::connect(ports[0]);
    let r = c.exchange(b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, BUILTIN_403, "403");
    assert_kept_alive(&mut c, GET, 403, "403");
    assert_eq!(
        masked_logs(&p, 1)[0],
        "fdeny fdeny/<NOSRV> T/-1/-1/-1/T 403 192 - - PR-- 1/1/0/0/0 0/0 \"GET /deny HTTP/1.1\""
    );
    assert_eq!(o.accepted(), 0);
    assert_forwards(ports[1], "403");
}

#[test]
fn deny_status_sends_each_builtin_message() {
    let o = Origin::ok();
    let codes: [(u16, &[u8], bool); 9] = [
        (404, BUILTIN_404, true),
        (405, BUILTIN_405, true),
        (410, BUILTIN_410, true),
        (425, BUILTIN_425, true),
        (429, BUILTIN_429, true),
        (500, BUILTIN_500, true),
        (501, BUILTIN_501, true),
        // 400 and 408 built-in messages ask for the connection to close.
        (400, STREAM_400, false),
        (408, STREAM_408, false),
    ];
    // Frontend `d<status>` denies every request with that status; `f`
    // forwards.
    let names: Vec<String> = codes.iter().map(|(s, _, _)| format!("d{s}")).collect();
    let rules: Vec<String> = codes
        .iter()
        .map(|(s, _, _)| format!("  http-request deny deny_status {s}\n"))
        .collect();
    let mut fronts: Vec<(&str, &str, &str)> = names
        .iter()
        .zip(&rules)
        .map(|(n, r)| (n.as_str(), r.as_str(), "b"))
        .collect();
    fronts.push(("f", "", "b"));
    let (p, ports) = start_fronts(&fronts, &backend_b(o.port()));
    let mut lines = 0;
    for ((status, want, open), port) in codes.into_iter().zip(ports.iter().copied()) {
        let mut c = Client::connect(port);
        let r = c.exchange(format!("GET /d{status} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_bytes(&r.raw, want, &format!("deny_status {status}"));
        lines += 1;
        let l = masked_logs(&p, lines);
        assert!(
            l[lines - 1].starts_with(&format!(
                "d{status} d{status}/<NOSRV> T/-1/-1/-1/T {status} "
            )) && l[lines - 1].contains(" - - PR-- ")
                && l[lines - 1].ends_with(&format!(" 0/0 \"GET /d{status} HTTP/1.1\"")),
            "{}",
            l[lines - 1]
        );
        if open {
            assert_kept_alive(&mut c, GET, status, &format!("deny_status {status}"));
            lines += 1;
            masked_logs(&p, lines);
        } else {
            assert_closed(&mut c, &format!("deny_status {status}"));
        }
    }
    assert_eq!(o.accepted(), 0);
    assert_forwards(ports[codes.len()], "deny_status");
}

#[test]
fn errorfile_503_is_sent_from_the_file() {
    let o = Origin::ok();
    let dir = TempDir::new("errfile");
    // Written in the form HAProxy re-encodes to (lower-case names, one
    // space after the colon, content-length), so that it goes out as is.
    let body: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\nsorry\n";
    let f = dir.write("503.http", std::str::from_utf8(body).unwrap());
    let (p, ports) = start_fronts(
        &[("fnone", "", "bnone"), ("f", "", "b")],
        &format!(
            "backend bnone\n  errorfile 503 {}\n  server s 127.0.0.1:{} disabled\n\n{}",
            f.display(),
            o.port(),
            backend_b(o.port())
        ),
    );
    let mut c = Client::connect(ports[0]);
    let r = c.exchange(b"GET /none HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, body, "errorfile 503");
    assert_kept_alive(&mut c, GET, 503, "errorfile 503");
    // An HTTP/1.0 client gets connection: close after the file's headers.
    let mut c = Client::connect(ports[0]);
    c.send(b"GET /none HTTP/1.0\r\n\r\n");
    assert_bytes(
        &c.read_to_close(),
        b"HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsorry\n",
        "errorfile 503 to HTTP/1.0",
    );
    let l = masked_logs(&p, 3);
    assert_eq!(
        l[0],
        "fnone bnone/<NOSRV> T/-1/-1/-1/T 503 115 - - SC-- 1/1/0/0/0 0/0 \"GET /none HTTP/1.1\""
    );
    assert_eq!(o.accepted(), 0);
    assert_forwards(ports[1], "errorfile 503");
}

#[test]
fn errorloc302_503_sends_a_redirect() {
    let o = Origin::ok();
    // The backend's only server is disabled: 503, replaced by the redirect.
    let port2 = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port2}\n  default_backend b\n\n\
             backend b\n  errorloc302 503 http://x/\n  server s 127.0.0.1:{} disabled\n",
            o.port()
        ),
    );
    let p = Proxy::start_under_test(&cfg, &[port2]);
    let mut c = Client::connect(port2);
    let r = c.exchange(GET);
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: http://x/\r\n\r\n",
        "errorloc302",
    );
    assert_kept_alive(&mut c, GET, 302, "errorloc302");
    // %B is the size of the internal message (see tests/http.rs).
    assert_eq!(
        masked_logs(&p, 1)[0],
        "f b/<NOSRV> T/-1/-1/-1/T 503 90 - - SC-- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""
    );
}

#[test]
fn http_errors_section_applies_through_errorfiles() {
    let o = Origin::ok();
    let dir = TempDir::new("httperrs");
    let f403: &[u8] =
        b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nno\n";
    let f503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nbusy\n";
    let p403 = dir.write("403.http", std::str::from_utf8(f403).unwrap());
    let p503 = dir.write("503.http", std::str::from_utf8(f503).unwrap());
    let own = dir.write(
        "503b.http",
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nown\n",
    );
    // Every frontend uses the `site` errorfiles. They serve the frontend's
    // own deny (`fdeny`) and, for a backend with no message of its own, the
    // backend's 503 too (`fnone`); a backend's own errorfiles win over the
    // frontend's (`fown`).
    let site = "  errorfiles site\n";
    let (_p, ports) = start_fronts(
        &[
            ("fdeny", &format!("{site}  http-request deny\n"), "b"),
            ("fnone", site, "bnone"),
            ("fown", site, "bown"),
            ("f", site, "b"),
        ],
        &format!(
            "http-errors site\n  errorfile 403 {p403}\n  errorfile 503 {p503}\n\n\
             http-errors other\n  errorfile 503 {own}\n\n\
             backend bnone\n  server s 127.0.0.1:{srv} disabled\n\n\
             backend bown\n  errorfiles other\n  server s 127.0.0.1:{srv} disabled\n\n{b}",
            p403 = p403.display(),
            p503 = p503.display(),
            own = own.display(),
            srv = o.port(),
            b = backend_b(o.port()),
        ),
    );
    let mut c = Client::connect(ports[0]);
    let r = c.exchange(b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, f403, "403 from http-errors");
    assert_kept_alive(&mut c, GET, 403, "errorfiles 403");
    let mut c = Client::connect(ports[1]);
    let r = c.exchange(b"GET /none HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, f503, "503 from the frontend's http-errors");
    assert_kept_alive(&mut c, GET, 503, "frontend's errorfiles 503");
    let mut c = Client::connect(ports[2]);
    let r = c.exchange(b"GET /own HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nown\n",
        "503 from the backend's own errorfile",
    );
    assert_kept_alive(&mut c, GET, 503, "backend's errorfiles 503");
    assert_eq!(o.accepted(), 0);
    assert_forwards(ports[3], "errorfiles");
}

/// What a raw client gets for `req` within 500 ms, and whether the
/// connection was closed by then.
fn raw_exchange(port: u16, req: &[u8]) -> (Vec<u8>, bool) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(500))).ok();
    s.write_all(req).expect("send");
    let (mut got, mut b) = (Vec::new(), [0u8; 4096]);
    loop {
        match s.read(&mut b) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(_) => return (got, false),
        }
    }
}

/// Errorfiles go out as 2.6 re-encodes them: names lower-cased, values
/// trimmed, the file's `Connection` dropped and the connection mode's own
/// added (`keep-alive` for an HTTP/1.0 message kept alive, `close` for an
/// HTTP/1.1 one closed), and without content-length the connection closes
/// after the body. Recorded from HAProxy 2.6.12.
#[test]
fn errorfiles_are_reencoded_as_haproxy_sends_them() {
    let dir = TempDir::new("errfile-enc");
    let files = [
        (
            503,
            "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\nX-Custom:   spaced  \r\n\r\n<html>x</html>\n",
        ),
        (
            403,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nnope\n",
        ),
        (
            502,
            "HTTP/1.0 502 Bad\r\nContent-Length: 3\r\nX-A: b\r\n\r\nbad",
        ),
        (504, "HTTP/1.1 504 Slow\r\nX-B:  c \r\n\r\nslow body"),
    ];
    let mut dflt = String::new();
    for (code, text) in files {
        let f = dir.write(&format!("{code}.http"), text);
        dflt += &format!("  errorfile {code} {}\n", f.display());
    }
    let port = free_port();
    let cfg = http_config(
        &dflt,
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  http-request deny if {{ path /deny }}\n  \
             http-request deny deny_status 502 if {{ path /502 }}\n  \
             http-request deny deny_status 504 if {{ path /504 }}\n  default_backend b\n\n\
             backend b\n  server s 127.0.0.1:1 disabled\n"
        ),
    );
    let _p = Proxy::start_under_test(&cfg, &[port]);
    let cases: [(&str, &str, &[u8], bool); 6] = [
        ("/", "1.1", b"HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-custom: spaced\r\n\r\n<html>x</html>\n", true),
        ("/deny", "1.1", b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nnope\n", false),
        ("/502", "1.1", b"HTTP/1.0 502 Bad\r\ncontent-length: 3\r\nx-a: b\r\nconnection: keep-alive\r\n\r\nbad", false),
        ("/504", "1.1", b"HTTP/1.1 504 Slow\r\nx-b: c\r\nconnection: close\r\n\r\nslow body", true),
        ("/deny", "1.0", b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nconnection: close\r\n\r\nnope\n", true),
        ("/502", "1.0", b"HTTP/1.0 502 Bad\r\ncontent-length: 3\r\nx-a: b\r\n\r\nbad", true),
    ];
    for (path, ver, want, closes) in cases {
        let what = format!("GET {path} HTTP/{ver}");
        let (got, closed) = raw_exchange(port, format!("{what}\r\nHost: x\r\n\r\n").as_bytes());
        assert_bytes(&got, want, &what);
        assert_eq!(closed, closes, "{what}: connection closed");
    }
}
