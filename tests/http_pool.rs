//! How many idle server connections the pool keeps for keep-alive clients
//! that went idle: as HAProxy 2.6, no more than recent traffic used at
//! once (`http-reuse safe`: a client's first request never takes a pooled
//! connection, so without this rule every idle client would pin one).
//!
//! Each expectation was measured on HAProxy 2.6.12: set
//! `HRS_TEST_BIN=/usr/sbin/haproxy` to run them against it.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::Backend;
use http_common::start;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A keep-alive server answering each request after `delay`; `open`
/// counts its connections not yet closed by the proxy.
fn server(delay: Duration) -> (Backend, Arc<AtomicUsize>) {
    let open = Arc::new(AtomicUsize::new(0));
    let o = open.clone();
    let be = Backend::start(move |mut c| {
        o.fetch_add(1, Ordering::SeqCst);
        let mut b = [0u8; 4096];
        while let Ok(n) = c.read(&mut b) {
            if n == 0 {
                break;
            }
            std::thread::sleep(delay);
            if c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .is_err()
            {
                break;
            }
        }
        o.fetch_sub(1, Ordering::SeqCst);
    });
    (be, open)
}

/// One keep-alive request; the connection is returned open, idle.
fn request(port: u16) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let mut got = Vec::new();
    let mut b = [0u8; 1024];
    while !got.ends_with(b"ok") {
        match c.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    assert!(got.starts_with(b"HTTP/1.1 200"), "response {got:?}");
    c
}

/// Waits up to 2 s for `open` to reach `want`; returns its last value.
fn settle(open: &AtomicUsize, want: usize) -> usize {
    let end = Instant::now() + Duration::from_secs(2);
    loop {
        let n = open.load(Ordering::SeqCst);
        if n == want || Instant::now() > end {
            return n;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn clients_one_after_the_other_leave_two_pooled_connections() {
    let (srv, open) = server(Duration::ZERO);
    let (_p, port) = start(srv.port, "", "", "");
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(request(port));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        srv.accepted(),
        10,
        "a first request never takes a pooled connection"
    );
    assert_eq!(
        settle(&open, 2),
        2,
        "server connections kept for 10 idle clients"
    );
}

#[test]
fn clients_served_at_once_keep_their_connections() {
    let (srv, open) = server(Duration::from_millis(300));
    let (_p, port) = start(srv.port, "", "", "");
    let clients: Vec<_> = (0..10)
        .map(|_| std::thread::spawn(move || request(port)))
        .collect();
    let idle: Vec<TcpStream> = clients
        .into_iter()
        .map(|t| t.join().expect("client"))
        .collect();
    assert_eq!(idle.len(), 10);
    assert_eq!(
        settle(&open, 10),
        10,
        "server connections kept after 10 at once"
    );
    // Their next requests reuse them (second requests may take any).
    for mut c in idle {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        let mut b = [0u8; 256];
        let n = c.read(&mut b).expect("second response");
        assert!(b[..n].starts_with(b"HTTP/1.1 200"));
    }
    assert_eq!(
        srv.accepted(),
        10,
        "second requests reused the pooled connections"
    );
}
