//! When forwarded HTTP data leaves at once and when it may wait for more
//! of its message (MSG_MORE): a body of known length goes out in full
//! segments, a request head is never held back behind its body, the last
//! bytes of a message are never held, and `option http-no-delay` holds
//! nothing.
//!
//! Each expectation was checked on HAProxy 2.6.12 too: set
//! `HRS_TEST_BIN=/usr/sbin/haproxy` to run them against it.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Backend, has_head, recv_until};
use http_common::start;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n";

/// A server that answers every request (read in one recv) with a
/// 2000-byte body: 1000 bytes with the head, the rest after `pause`.
fn split_body_server(pause: Duration) -> Backend {
    Backend::start(move |mut c| {
        let mut b = [0u8; 4096];
        if c.read(&mut b).unwrap_or(0) == 0 {
            return;
        }
        let mut first = HEAD.to_vec();
        first.extend_from_slice(&[b'a'; 1000]);
        let _ = c.write_all(&first);
        std::thread::sleep(pause);
        let _ = c.write_all(&[b'b'; 1000]);
        let _ = c.read(&mut b);
    })
}

/// Sends a GET and returns how long the first 1000 body bytes took, and
/// whether the whole body came.
fn first_part_delay(port: u16) -> (Duration, bool) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let t0 = Instant::now();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let mut got = Vec::new();
    let mut first = None;
    let mut b = [0u8; 8192];
    while got.len() < HEAD.len() + 2000 {
        match c.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
        if first.is_none() && got.len() >= HEAD.len() + 1000 {
            first = Some(t0.elapsed());
        }
    }
    let whole = got.len() == HEAD.len() + 2000 && got.ends_with(&[b'b'; 1000]);
    (first.unwrap_or(Duration::MAX), whole)
}

#[test]
fn a_body_of_known_length_may_wait_for_the_rest() {
    // The first part goes with MSG_MORE since 1000 more bytes are due: the
    // kernel holds it until they come or its cork ceiling (200 ms on
    // Linux) passes, long before the server's 800 ms pause ends.
    let srv = split_body_server(Duration::from_millis(800));
    let (_p, port) = start(srv.port, "", "", "");
    let (d, whole) = first_part_delay(port);
    assert!(whole, "the whole body must arrive");
    assert!(
        d >= Duration::from_millis(150) && d < Duration::from_millis(700),
        "first part after {d:?}: expected the kernel's cork delay (about 200 ms)"
    );
}

#[test]
fn http_no_delay_holds_nothing() {
    for (fe, be) in [
        ("  option http-no-delay\n", ""),
        ("", "  option http-no-delay\n"),
    ] {
        let srv = split_body_server(Duration::from_millis(800));
        let (_p, port) = start(srv.port, "", fe, be);
        let (d, whole) = first_part_delay(port);
        assert!(whole, "the whole body must arrive");
        assert!(
            d < Duration::from_millis(120),
            "first part after {d:?} with http-no-delay ({fe:?} {be:?})"
        );
    }
}

#[test]
fn the_last_bytes_are_never_held() {
    // A 64 KiB body sent at once crosses several buffers, all but the last
    // with MSG_MORE; the last one must push everything out.
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n";
    let resp = [head.as_slice(), &[b'z'; 65536]].concat();
    let want = resp.len();
    let srv = Backend::start(move |mut c| {
        let mut b = [0u8; 4096];
        while c.read(&mut b).unwrap_or(0) > 0 {
            let _ = c.write_all(&resp);
        }
    });
    let (_p, port) = start(srv.port, "", "", "");
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        let t0 = Instant::now();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        let mut got = 0usize;
        let mut b = [0u8; 65536];
        while got < want {
            match c.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        assert_eq!(got, want, "whole response");
        worst = worst.max(t0.elapsed());
    }
    assert!(
        worst < Duration::from_millis(120),
        "a 64 KiB response took {worst:?}"
    );
}

#[test]
fn a_request_head_goes_out_before_its_body() {
    // A client that asks `Expect: 100-continue` sends its body only after
    // the server's 100: the head must not wait for the body.
    let srv = Backend::start(|mut c| {
        if !has_head(&recv_until(&mut c, has_head)) {
            return;
        }
        let _ = c.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        let mut b = [0u8; 4096];
        let mut body = 0;
        while body < 10 {
            match c.read(&mut b) {
                Ok(0) | Err(_) => return,
                Ok(n) => body += n,
            }
        }
        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let _ = c.read(&mut b);
    });
    let (_p, port) = start(srv.port, "", "", "");
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let t0 = Instant::now();
    c.write_all(
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n",
    )
    .expect("send head");
    let got = recv_until(&mut c, has_head);
    let d = t0.elapsed();
    assert!(
        got.starts_with(b"HTTP/1.1 100 Continue\r\n"),
        "got {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(d < Duration::from_millis(120), "100 Continue after {d:?}");
    c.write_all(b"0123456789").expect("send body");
    let rest = recv_until(&mut c, |r| r.ends_with(b"ok"));
    assert!(
        String::from_utf8_lossy(&rest).contains("200 OK"),
        "final response"
    );
}
