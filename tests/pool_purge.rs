//! The purge of idle server connections (`pool-purge-delay`), through
//! HAProxy 2.6 and haproxy-rs side by side: N keep-alive clients open N
//! server connections at once and leave; each period a part of the idle
//! ones beyond the recent need is closed. The server connections still
//! open at the middle of each period must match within one.

mod common;

use common::{Backend, HAPROXY, Proxy, bin, free_port, have_haproxy};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
const PERIOD_MS: u64 = 500;
const PERIODS: u64 = 6;

/// A keep-alive server answering each request after 200 ms (so that the
/// clients' requests overlap and need one connection each); counts its
/// open connections.
fn server(open: Arc<AtomicUsize>) -> Backend {
    Backend::start(move |mut c| {
        open.fetch_add(1, Ordering::SeqCst);
        let mut buf = Vec::new();
        let mut b = [0u8; 1024];
        loop {
            match c.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&b[..n]),
            }
            while let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                buf.drain(..i + 4);
                std::thread::sleep(Duration::from_millis(200));
                let _ = c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            }
        }
        open.fetch_sub(1, Ordering::SeqCst);
    })
}

/// The server connections open at the middle of each period after the
/// clients left.
fn run(program: &str) -> Vec<usize> {
    let open = Arc::new(AtomicUsize::new(0));
    let be = server(open.clone());
    let port = free_port();
    let cfg = format!(
        "global\n  nbthread 1\n\ndefaults\n  mode http\n  timeout connect 2s\n  \
         timeout client 10s\n  timeout server 10s\n\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\n\
         backend b\n  server s 127.0.0.1:{} pool-purge-delay {PERIOD_MS}\n",
        be.port
    );
    let _p = Proxy::start_program(program, &cfg, &[port], &["-db"]);
    let mut cs: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    for c in cs.iter_mut() {
        c.set_read_timeout(Some(Duration::from_secs(3))).ok();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
    }
    for c in cs.iter_mut() {
        let mut got = Vec::new();
        let mut b = [0u8; 256];
        while !got.ends_with(b"ok") {
            let n = c.read(&mut b).expect("response");
            assert!(n > 0, "closed before the response");
            got.extend_from_slice(&b[..n]);
        }
    }
    drop(cs);
    let t0 = Instant::now();
    (0..PERIODS)
        .map(|k| {
            let at = t0 + Duration::from_millis(k * PERIOD_MS + PERIOD_MS / 2);
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            open.load(Ordering::SeqCst)
        })
        .collect()
}

#[test]
fn idle_connections_are_purged_as_in_haproxy() {
    if !have_haproxy() {
        return;
    }
    let rs = run(bin());
    let hap = run(HAPROXY);
    let close = rs.iter().zip(&hap).all(|(a, b)| a.abs_diff(*b) <= 1);
    assert!(
        close,
        "open server connections per period: haproxy-rs {rs:?}, HAProxy 2.6 {hap:?}"
    );
    // Kept while recently needed, then purged a part at a time.
    assert_eq!(rs[2], CLIENTS, "{rs:?}");
    assert!(rs[3] > 0 && rs[3] < CLIENTS, "{rs:?}");
    assert_eq!(rs[PERIODS as usize - 1], 0, "{rs:?}");
}
