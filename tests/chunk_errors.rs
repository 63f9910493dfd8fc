//! An invalid chunk size after the head has left, through HAProxy 2.6 and
//! haproxy-rs side by side: on the request, the stream's 400 and `PH--`;
//! on the response, the client connection cut and `SD--`; with the head
//! in the same read, a bad response (502 `PH--`); after a response that
//! came first, `PD--`. The client's bytes and the log line's status,
//! bytes and termination state must be the same.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Backend, HAPROXY, Proxy, bin, free_port, have_haproxy};
use http_common::{http_config, show};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Reads a request head, then sends `parts` with a pause before each but
/// the first; holds the connection until the proxy closes it.
fn server(parts: &'static [&'static [u8]]) -> Backend {
    Backend::start(move |mut c| {
        let _ = c.set_read_timeout(Some(Duration::from_secs(3)));
        let mut got = Vec::new();
        let mut b = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match c.read(&mut b) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&b[..n]),
            }
        }
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.write_all(p);
        }
        while matches!(c.read(&mut b), Ok(n) if n > 0) {}
    })
}

/// Sends `parts` to the proxy (a pause before each but the first), reads
/// until it closes or 0.6 s pass; returns what came and the log line's
/// status, bytes and termination state.
fn run(program: &str, srv: u16, parts: &[&[u8]]) -> (String, String) {
    let port = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\n\
             backend b\n  server s 127.0.0.1:{srv}\n"
        ),
    );
    let p = Proxy::start_program(program, &cfg, &[port], &["-db"]);
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_millis(600))).ok();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
        c.write_all(part).expect("send");
    }
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    let line = p
        .wait_log_lines(1, Duration::from_secs(3))
        .into_iter()
        .next()
        .unwrap_or_default();
    let w: Vec<&str> = line.split_whitespace().collect();
    let key = format!(
        "{} {} {}",
        w.get(5).unwrap_or(&""),
        w.get(6).unwrap_or(&""),
        w.get(9).unwrap_or(&"")
    );
    (show(&got), key)
}

/// Both proxies on the same case; returns haproxy-rs's log key.
fn compare(srv: &Backend, parts: &[&[u8]], what: &str) -> String {
    let rs = run(bin(), srv.port, parts);
    let hap = run(HAPROXY, srv.port, parts);
    assert_eq!(rs, hap, "{what} (left haproxy-rs, right HAProxy 2.6)");
    rs.1
}

const POST: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const HEAD_CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn bad_chunk_size_in_a_later_read() {
    if !have_haproxy() {
        return;
    }
    // The request: the server never answers.
    let hold = server(&[]);
    let k = compare(&hold, &[POST, b"zz\r\n"], "request, bad size first");
    assert_eq!(k, "400 206 PH--");
    compare(
        &hold,
        &[POST, b"5\r\nhel", b"lo\r\nzz\r\n"],
        "request, after data",
    );
    // The response: head, then a bad size (after a good chunk or not).
    let late = server(&[HEAD_CHUNKED, b"zz\r\nabc\r\n"]);
    assert_eq!(
        compare(&late, &[GET], "response, bad size first"),
        "200 58 SD--"
    );
    let after = server(&[HEAD_CHUNKED, b"5\r\nhello\r\n3\r\nabc\r\nzz\r\n"]);
    compare(&after, &[GET], "response, after data");
    let same = server(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]);
    assert_eq!(
        compare(&same, &[GET], "response, with the head"),
        "502 209 PH--"
    );
    // The server answered on the head: the transaction ends with the
    // request, which keeps the response's status and ends as `PD`.
    let early = server(&[b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]);
    assert_eq!(
        compare(&early, &[POST, b"zz\r\n"], "early response"),
        "200 51 PD--"
    );
}

/// The log's byte count of a response is 2.6's internal size: a chunked
/// body's payload (plus 1 for its end and each trailer's name and value),
/// a head without the `close` / `keep-alive` tokens of `connection`.
#[test]
fn response_bytes_are_counted_as_in_haproxy() {
    if !have_haproxy() {
        return;
    }
    let good = server(&[HEAD_CHUNKED, b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"]);
    assert_eq!(compare(&good, &[GET], "chunks and trailers"), "200 68 ----");
    let close = server(&[b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: close\r\n\r\nok"]);
    assert_eq!(compare(&close, &[GET], "connection: close"), "200 51 ----");
    let other = server(&[
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: keep-alive, x-foo\r\n\r\nok",
    ]);
    let k = run(bin(), other.port, &[GET]).1;
    assert_eq!(
        k,
        run(HAPROXY, other.port, &[GET]).1,
        "connection: keep-alive, x-foo"
    );
}
