//! Byte forwarding in TCP mode: exact contents both ways, half-closes kept in
//! each direction, many concurrent streams, resets confined to their own
//! stream, and no fd left behind once traffic stops.
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs.

mod common;

use common::{Backend, Proxy, TcpLog, echo_back, free_port, payload, set_linger0, tcplog_config};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers --

fn config(body: &str) -> String {
    tcplog_config(
        "    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n",
        body,
    )
}

/// A `listen` proxy on `port` with one server on `srv`.
fn listen_one(port: u16, srv: u16) -> String {
    config(&format!(
        "listen fwd\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{srv}\n"
    ))
}

fn connect(port: u16) -> TcpStream {
    let c = common::connect(port);
    c.set_read_timeout(Some(Duration::from_secs(30))).ok();
    c.set_write_timeout(Some(Duration::from_secs(30))).ok();
    c
}

/// A server that reads each connection to EOF, waits `delay_ms`, then
/// answers `got <n> bytes` and closes.
fn counting_backend(delay_ms: u64) -> Backend {
    Backend::start(move |mut c| {
        let mut n = 0usize;
        let mut buf = vec![0u8; 65536];
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = c.write_all(format!("got {n} bytes").as_bytes());
    })
}

/// Sends `data` from a writer thread (then shuts the write side) while this
/// thread reads everything back until EOF.
fn echo_through(port: u16, data: &[u8]) -> (u16, Vec<u8>) {
    let mut c = connect(port);
    let cport = c.local_addr().expect("local addr").port();
    let mut w = c.try_clone().expect("clone");
    std::thread::scope(|s| {
        s.spawn(move || {
            w.write_all(data).expect("write to proxy");
            w.shutdown(Shutdown::Write).expect("shutdown write");
        });
        let mut got = Vec::with_capacity(data.len());
        c.read_to_end(&mut got).expect("read echo");
        (cport, got)
    })
}

/// Content of the long stream at byte offset `off..off + buf.len()`: a
/// position-dependent pseudo-random sequence, so any chunking can be checked.
fn fill_at(off: u64, buf: &mut [u8]) {
    let word = |k: u64| {
        let mut z = k.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_le_bytes()
    };
    for (i, b) in buf.iter_mut().enumerate() {
        let pos = off + i as u64;
        *b = word(pos / 8)[(pos % 8) as usize];
    }
}

/// Echo backend that resets (RST) any connection starting with `KILL` after
/// having received 64 KiB from it.
fn echo_or_reset_backend() -> Backend {
    Backend::start(|mut c| {
        let mut head = [0u8; 4];
        if c.read_exact(&mut head).is_err() {
            return;
        }
        if &head == b"KILL" {
            let mut sink = vec![0u8; 65536];
            let _ = c.read_exact(&mut sink);
            set_linger0(&c);
            return;
        }
        if c.write_all(&head).is_err() {
            return;
        }
        echo_back(&mut c);
    })
}

/// Sends up to 1 MiB starting with `head` without reading (non-blocking,
/// stops when the socket is full), then reads at least `want` bytes back.
fn push_then_read(c: &mut TcpStream, head: &[u8], want: usize) -> usize {
    c.set_nonblocking(true).expect("nonblocking");
    let mut data = payload(1 << 20, 99);
    data[..head.len()].copy_from_slice(head);
    let mut sent = 0;
    let end = Instant::now() + Duration::from_secs(5);
    while sent < data.len() && Instant::now() < end {
        match c.write(&data[sent..(sent + 65536).min(data.len())]) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    assert!(sent >= 80 * 1024, "could only push {sent} bytes");
    let mut got = 0;
    let mut buf = vec![0u8; 65536];
    while got < want && Instant::now() < end {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Err(_) => break,
        }
    }
    c.set_nonblocking(false).expect("blocking");
    sent
}

/// Four paced 4 MiB echo transfers running beside a victim connection.
struct Bystanders(Vec<std::thread::JoinHandle<(Vec<u8>, Vec<u8>)>>);

impl Bystanders {
    /// Starts them; returns once each has had its first bytes echoed.
    fn start(port: u16) -> Bystanders {
        let (tx, rx) = mpsc::channel();
        let others = paced_transfers(port, 4, 4 << 20, tx);
        for _ in 0..4 {
            rx.recv_timeout(Duration::from_secs(10))
                .expect("other transfers started");
        }
        Bystanders(others)
    }

    /// Waits for them to end: each got back exactly what it sent.
    fn check(self) {
        for (i, h) in self.0.into_iter().enumerate() {
            let (sent, got) = h.join().expect("transfer thread");
            assert_eq!(got.len(), sent.len(), "transfer {i}: length");
            assert!(got == sent, "transfer {i}: contents differ");
        }
    }
}

/// Runs `n` paced echo transfers of `size` bytes in threads; each signals on
/// `started` once its first echoed bytes came back. Returns a join handle per
/// transfer yielding (sent, received).
fn paced_transfers(
    port: u16,
    n: usize,
    size: usize,
    started: mpsc::Sender<()>,
) -> Vec<std::thread::JoinHandle<(Vec<u8>, Vec<u8>)>> {
    (0..n)
        .map(|i| {
            let started = started.clone();
            std::thread::spawn(move || {
                let data = payload(size, 1000 + i as u64);
                let mut c = connect(port);
                let mut w = c.try_clone().expect("clone");
                let d2 = data.clone();
                let wt = std::thread::spawn(move || {
                    for ch in d2.chunks(32 * 1024) {
                        if w.write_all(ch).is_err() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    let _ = w.shutdown(Shutdown::Write);
                });
                let mut got = Vec::with_capacity(size);
                let mut buf = vec![0u8; 65536];
                let mut signalled = false;
                loop {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => {
                            got.extend_from_slice(&buf[..k]);
                            if !signalled {
                                signalled = true;
                                let _ = started.send(());
                            }
                        }
                    }
                }
                let _ = wt.join();
                (data, got)
            })
        })
        .collect()
}

fn wait_fd_baseline(p: &Proxy, base: usize) {
    let end = Instant::now() + Duration::from_secs(10);
    let mut now = p.fd_count();
    while now > base && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
        now = p.fd_count();
    }
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", p.pid()))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| {
                    format!(
                        "{} -> {:?}",
                        e.file_name().to_string_lossy(),
                        std::fs::read_link(e.path()).ok()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        now, base,
        "proxy fd count did not return to its idle baseline {base}; open fds: {fds:#?}"
    );
}

// ------------------------------------------------------------------ tests --

#[test]
fn echo_is_byte_exact_for_various_sizes_and_logged_bytes_match() {
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let sizes = [
        1usize,
        100,
        1460,
        16383,
        16384,
        16385,
        65536,
        100_000,
        1 << 20,
        3 * (1 << 20) + 7,
    ];
    let mut ports = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let data = payload(n, i as u64 + 1);
        let (cport, got) = echo_through(port, &data);
        assert_eq!(got.len(), n, "size {n}: echoed length");
        assert!(got == data, "size {n}: echoed contents differ");
        ports.push((cport, n));
    }
    for (cport, n) in ports {
        let l = p.tcp_log_for(cport, Duration::from_secs(5));
        assert_eq!(l.term, "--", "size {n}: {}", l.raw);
        assert_eq!(
            l.bytes, n as u64,
            "size {n}: %B is server->client bytes: {}",
            l.raw
        );
        assert_eq!(l.srv, "s1", "{}", l.raw);
    }
}

#[test]
fn hundred_megabyte_stream_is_byte_exact_both_ways() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    echo_stream_is_byte_exact(&p, port, TOTAL);
}

#[test]
fn hundred_megabyte_stream_is_byte_exact_with_splice_auto() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    let be = Backend::echo();
    let port = free_port();
    let cfg = config(&format!(
        "listen fwd\n    bind 127.0.0.1:{port}\n    option splice-auto\n    server s1 127.0.0.1:{}\n",
        be.port
    ));
    let p = Proxy::start_under_test(&cfg, &[port]);
    echo_stream_is_byte_exact(&p, port, TOTAL);
}

#[test]
fn client_half_close_still_receives_server_reply_sent_after_eof() {
    // The server reads to EOF, waits a bit, then answers and closes.
    let be = counting_backend(300);
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let mut c = connect(port);
    let cport = c.local_addr().expect("addr").port();
    c.write_all(&payload(200_000, 7)).expect("write");
    c.shutdown(Shutdown::Write).expect("shutdown write");
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("read reply");
    assert_eq!(String::from_utf8_lossy(&got), "got 200000 bytes");
    let l = p.tcp_log_for(cport, Duration::from_secs(5));
    assert_eq!(l.term, "--", "{}", l.raw);
    assert_eq!(l.bytes, 16, "{}", l.raw);
}

#[test]
fn server_half_close_client_can_still_send_to_server() {
    // The server sends a banner and shuts its write side, then reads to EOF
    // and reports what it received.
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let tx = std::sync::Mutex::new(tx);
    let be = Backend::start(move |mut c| {
        let _ = c.write_all(b"BANNER\n");
        let _ = c.shutdown(Shutdown::Write);
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        let _ = tx.lock().map(|t| t.send(got));
    });
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let mut c = connect(port);
    let cport = c.local_addr().expect("addr").port();
    let mut banner = Vec::new();
    c.read_to_end(&mut banner).expect("read banner up to EOF");
    assert_eq!(
        banner, b"BANNER\n",
        "banner then EOF forwarded to the client"
    );
    // The server's FIN reached us; our direction must still work.
    let data = payload(300_000, 11);
    c.write_all(&data)
        .expect("client writes after server half-close");
    c.shutdown(Shutdown::Write).expect("shutdown write");
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server reports what it received");
    assert_eq!(
        got.len(),
        data.len(),
        "bytes reaching the server after its half-close"
    );
    assert!(got == data, "contents reaching the server differ");
    let l = p.tcp_log_for(cport, Duration::from_secs(5));
    assert_eq!(l.term, "--", "{}", l.raw);
}

#[test]
fn two_hundred_concurrent_echo_clients_are_byte_exact() {
    const N: usize = 200;
    const SIZE: usize = 64 * 1024;
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let handles: Vec<_> = (0..N)
        .map(|i| {
            std::thread::spawn(move || {
                let data = payload(SIZE, 500 + i as u64);
                let (_, got) = echo_through(port, &data);
                got == data
            })
        })
        .collect();
    let ok = handles
        .into_iter()
        .map(|h| h.join().unwrap_or(false))
        .filter(|&b| b)
        .count();
    assert_eq!(ok, N, "clients with an exact echo");
    let lines = p.wait_tcp_logs(N, Duration::from_secs(10));
    let odd: Vec<String> = p
        .stdout()
        .lines()
        .filter(|l| TcpLog::parse(l).is_none())
        .map(String::from)
        .collect();
    assert_eq!(
        lines.len(),
        N,
        "one log line per connection; unparsed stdout lines: {odd:#?}"
    );
    for l in &lines {
        assert_eq!(l.term, "--", "{}", l.raw);
        assert_eq!(l.bytes, SIZE as u64, "{}", l.raw);
    }
}

#[test]
fn client_reset_mid_transfer_does_not_disturb_other_transfers() {
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let base = p.fd_count();
    let others = Bystanders::start(port);
    // The victim pushes data, reads a little, then resets.
    let mut v = connect(port);
    let vport = v.local_addr().expect("addr").port();
    push_then_read(&mut v, b"", 32 * 1024);
    set_linger0(&v);
    drop(v);
    others.check();
    let l = p.tcp_log_for(vport, Duration::from_secs(5));
    assert_eq!(l.term, "CD", "client reset during data: {}", l.raw);
    let lines = p.wait_tcp_logs(5, Duration::from_secs(5));
    assert_eq!(
        lines.iter().filter(|l| l.term == "--").count(),
        4,
        "{lines:#?}"
    );
    wait_fd_baseline(&p, base);
}

#[test]
fn server_reset_mid_transfer_ends_only_that_connection() {
    let be = echo_or_reset_backend();
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let base = p.fd_count();
    let others = Bystanders::start(port);
    let mut v = connect(port);
    let vport = v.local_addr().expect("addr").port();
    let sent = push_then_read(&mut v, b"KILL", 0);
    // The victim's connection must end (EOF or error), promptly.
    v.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let t0 = Instant::now();
    let mut buf = vec![0u8; 65536];
    let mut got = 0usize;
    let ended = loop {
        match v.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break false;
            }
            Err(_) => break true,
        }
        if t0.elapsed() > Duration::from_secs(5) {
            break false;
        }
    };
    assert!(
        ended,
        "victim connection still open 5 s after the server reset it"
    );
    assert!(
        got < sent,
        "victim cannot have received everything ({got} of {sent})"
    );
    others.check();
    let l = p.tcp_log_for(vport, Duration::from_secs(5));
    assert_eq!(l.term, "SD", "server reset during data: {}", l.raw);
    drop(v);
    wait_fd_baseline(&p, base);
}

#[test]
fn fd_count_returns_to_idle_baseline_after_mixed_traffic() {
    let be = echo_or_reset_backend();
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let base = p.fd_count();
    assert!(base > 0, "cannot read /proc/<pid>/fd of the proxy");
    // Plain echoes of several sizes.
    for (i, n) in [1usize, 5000, 70_000, 1 << 20].into_iter().enumerate() {
        let mut data = payload(n + 4, 40 + i as u64);
        data[..4].copy_from_slice(b"ECHO");
        let (_, got) = echo_through(port, &data);
        assert!(got == data, "echo of {n} bytes");
    }
    // 50 concurrent.
    let hs: Vec<_> = (0..50)
        .map(|i| {
            std::thread::spawn(move || {
                let mut data = payload(20_000, 60 + i as u64);
                data[..4].copy_from_slice(b"ECHO");
                echo_through(port, &data).1 == data
            })
        })
        .collect();
    assert!(
        hs.into_iter().all(|h| h.join().unwrap_or(false)),
        "concurrent echoes"
    );
    // Client half-close with data still flowing back, then server reset, then client reset.
    let mut c = connect(port);
    c.write_all(b"ECHOhello").expect("write");
    c.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(common::read_all(&mut c), b"ECHOhello");
    drop(c);
    let mut v = connect(port);
    push_then_read(&mut v, b"KILL", 0);
    v.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let _ = common::read_all(&mut v);
    drop(v);
    let mut v = connect(port);
    push_then_read(&mut v, b"ECHO", 32 * 1024);
    set_linger0(&v);
    drop(v);
    // A client that connects and leaves at once.
    drop(connect(port));
    let lines = p.wait_tcp_logs(4 + 50 + 4, Duration::from_secs(10));
    assert_eq!(lines.len(), 58, "one log line per connection");
    wait_fd_baseline(&p, base);
}

#[test]
fn client_data_sent_just_before_close_reaches_the_server() {
    let (be, rx) = Backend::collect();
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let mut cports = Vec::new();
    for i in 0..5u64 {
        let data = payload(300_000, 70 + i);
        let mut c = connect(port);
        cports.push(c.local_addr().expect("addr").port());
        c.write_all(&data).expect("write");
        drop(c); // full close right after the last write
        let got = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server got EOF");
        assert_eq!(
            got.len(),
            data.len(),
            "connection {i}: bytes reaching the server"
        );
        assert!(
            got == data,
            "connection {i}: contents reaching the server differ"
        );
    }
    for cp in cports {
        let l = p.tcp_log_for(cp, Duration::from_secs(5));
        assert_eq!(l.term, "--", "{}", l.raw);
    }
}

#[test]
fn server_data_sent_just_before_close_reaches_the_client() {
    let be = Backend::start(|mut c| {
        let _ = c.write_all(&payload(2 << 20, 5));
        // full close right after the last write
    });
    let port = free_port();
    let p = Proxy::start_under_test(&listen_one(port, be.port), &[port]);
    let want = payload(2 << 20, 5);
    for i in 0..5 {
        let mut c = connect(port);
        let cport = c.local_addr().expect("addr").port();
        let mut got = Vec::new();
        c.read_to_end(&mut got).expect("read to EOF");
        assert_eq!(
            got.len(),
            want.len(),
            "connection {i}: bytes reaching the client"
        );
        assert!(got == want, "connection {i}: contents differ");
        drop(c);
        let l = p.tcp_log_for(cport, Duration::from_secs(5));
        assert_eq!(l.term, "--", "{}", l.raw);
        assert_eq!(l.bytes, want.len() as u64, "{}", l.raw);
    }
}

/// Streams `total` bytes through the echo proxy on `port` from a writer
/// thread while reading them back, checking every byte and the log line.
fn echo_stream_is_byte_exact(p: &Proxy, port: u16, total: u64) {
    let mut c = connect(port);
    let cport = c.local_addr().expect("addr").port();
    let mut w = c.try_clone().expect("clone");
    let writer = std::thread::spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        let mut off = 0u64;
        while off < total {
            let n = (total - off).min(buf.len() as u64) as usize;
            fill_at(off, &mut buf[..n]);
            w.write_all(&buf[..n]).expect("write stream");
            off += n as u64;
        }
        w.shutdown(Shutdown::Write).expect("shutdown write");
    });
    let mut got = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    let mut want = vec![0u8; 256 * 1024];
    loop {
        let n = match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => panic!("read after {got} bytes: {e}"),
        };
        fill_at(got, &mut want[..n]);
        if buf[..n] != want[..n] {
            let i = (0..n).find(|&i| buf[i] != want[i]).unwrap_or(0);
            panic!("stream differs at byte {}", got + i as u64);
        }
        got += n as u64;
    }
    writer.join().expect("writer thread");
    assert_eq!(got, total, "bytes echoed back");
    let l = p.tcp_log_for(cport, Duration::from_secs(5));
    assert_eq!(l.term, "--", "{}", l.raw);
    assert_eq!(l.bytes, total, "{}", l.raw);
}

// ------------------------------------------ blocked readers stay asleep --

/// Bytes waiting in the receive queue of the proxy's socket for the client
/// connection `cport` -> `fe` (from /proc/net/tcp: rx_queue, in hex).
fn proxy_rx_queue(fe: u16, cport: u16) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let port = |a: &str| {
            a.rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok())
        };
        if f.len() > 4 && port(f[1]) == Some(fe) && port(f[2]) == Some(cport) {
            u64::from_str_radix(f[4].split(':').nth(1)?, 16).ok()
        } else {
            None
        }
    })
}

/// Context switches of process `pid` so far (each sleep in the poller is one).
fn ctx_switches(pid: i32) -> u64 {
    let st = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    st.lines()
        .filter(|l| l.contains("ctxt_switches:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

fn pattern(off: u64, n: usize) -> Vec<u8> {
    (off..off + n as u64).map(|i| (i % 251) as u8).collect()
}

/// The server reads nothing until released, so the stream's channel fills
/// and the proxy stops reading from the client. The client then trickles
/// small segments: each lands in the proxy's socket, and none may wake the
/// proxy (it has nothing to do with them). Released, the server must get
/// every byte in order.
fn blocked_reader_is_not_woken_by_each_segment(defaults_extra: &str) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let release = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<(u64, bool)>();
    let tx = std::sync::Mutex::new(tx);
    let rel = release.clone();
    let be = Backend::start(move |mut c| {
        while !rel.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        c.set_read_timeout(Some(Duration::from_secs(20))).ok();
        let (mut got, mut exact, mut buf) = (0u64, true, vec![0u8; 64 * 1024]);
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    exact &= buf[..n] == pattern(got, n)[..];
                    got += n as u64;
                }
            }
        }
        let _ = tx.lock().map(|t| t.send((got, exact)));
    });
    let port = free_port();
    let cfg = tcplog_config(
        &format!(
            "    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n{defaults_extra}"
        ),
        &format!(
            "listen fwd\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{}\n",
            be.port
        ),
    );
    let p = Proxy::start(&cfg, &[port]);
    let mut c = connect(port);
    c.set_nodelay(true).expect("nodelay");
    let cport = c.local_addr().expect("addr").port();

    // Fill: 4 KiB writes until data stays queued in the proxy's socket,
    // i.e. the proxy stopped reading because the stream cannot move it on.
    let mut sent = 0u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut queued_since: Option<Instant> = None;
    loop {
        assert!(
            Instant::now() < deadline,
            "the proxy never stopped reading ({sent} bytes sent)"
        );
        let q = proxy_rx_queue(port, cport).unwrap_or(0);
        if q == 0 {
            queued_since = None;
            c.write_all(&pattern(sent, 4096)).expect("fill write");
            sent += 4096;
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let since = *queued_since.get_or_insert_with(Instant::now);
        if since.elapsed() > Duration::from_millis(200) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }

    // Trickle: 80 segments of 512 bytes, 4 ms apart, into the blocked stream.
    let q0 = proxy_rx_queue(port, cport).unwrap_or(0);
    let cs0 = ctx_switches(p.pid());
    for _ in 0..80 {
        c.write_all(&pattern(sent, 512)).expect("trickle write");
        sent += 512;
        std::thread::sleep(Duration::from_millis(4));
    }
    std::thread::sleep(Duration::from_millis(50));
    let woken = ctx_switches(p.pid()) - cs0;
    let arrived = proxy_rx_queue(port, cport).unwrap_or(0).saturating_sub(q0);
    eprintln!("fill {sent} bytes; trickle: {arrived} bytes arrived, proxy woken {woken} times");
    assert!(
        arrived >= 30 * 1024,
        "precondition: the trickle must reach the proxy's socket (only {arrived} bytes arrived)"
    );
    assert!(
        woken < 20,
        "the proxy was woken {woken} times by {arrived} bytes it could not forward"
    );

    // Release the server: every byte must come through, in order.
    release.store(true, Ordering::SeqCst);
    c.shutdown(Shutdown::Write).expect("shutdown write");
    let (got, exact) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("server result");
    assert_eq!(got, sent, "bytes received by the server");
    assert!(
        exact,
        "the server received the bytes out of order or altered"
    );
}

#[test]
fn blocked_stream_sleeps_while_its_client_trickles_data() {
    blocked_reader_is_not_woken_by_each_segment("");
}

#[test]
fn blocked_spliced_stream_sleeps_while_its_client_trickles_data() {
    blocked_reader_is_not_woken_by_each_segment("    option splice-request\n");
}

/// With `option nolinger`, a side done both ways is closed with a reset.
/// The server's last bytes, which go out just before the client side is
/// closed that way (the client had already half-closed), must still reach
/// the client: the reply is not held back to share a segment with a FIN
/// that a reset replaces.
#[test]
fn nolinger_reply_after_client_half_close_is_delivered_before_the_reset() {
    let be = counting_backend(50);
    let port = free_port();
    let cfg = config(&format!(
        "listen fwd\n    bind 127.0.0.1:{port}\n    option nolinger\n    server s1 127.0.0.1:{}\n",
        be.port
    ));
    let _p = Proxy::start(&cfg, &[port]);
    for i in 0..20 {
        let mut c = connect(port);
        c.write_all(&payload(1000, i)).expect("write");
        c.shutdown(Shutdown::Write).expect("shutdown write");
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&got),
            "got 1000 bytes",
            "connection {i}"
        );
    }
}

/// TCP_NODELAY is on for both sockets of a stream, as HAProxy sets it: the
/// client one from the start (inherited from the listener), the server one
/// by the time a second send could be held back by Nagle's algorithm.
/// Checked on HAProxy 2.6 too when it is installed.
#[test]
fn both_sides_run_without_nagle_once_it_could_matter() {
    let be = Backend::echo();
    let mut programs = vec![common::bin().to_string()];
    if common::have_haproxy() {
        programs.push(common::HAPROXY.to_string());
    }
    for program in programs {
        let port = free_port();
        let p = Proxy::start_program(&program, &listen_one(port, be.port), &[port], &["-db"]);
        let mut c = connect(port);
        let cport = c.local_addr().expect("addr").port();
        for (i, msg) in [&b"first"[..], b"second", b"third"].iter().enumerate() {
            c.write_all(msg).expect("write");
            let mut got = vec![0u8; msg.len()];
            c.read_exact(&mut got).expect("echo");
            assert_eq!(&got, msg, "{program}: message {i}");
        }
        let nodelay = |lport, rport| {
            common::peer_sockopt(p.pid(), lport, rport, libc::IPPROTO_TCP, libc::TCP_NODELAY)
        };
        let Some(client_side) = nodelay(Some(port), cport) else {
            eprintln!("note: pidfd_getfd unavailable, skipping");
            return;
        };
        assert_eq!(client_side, 1, "{program}: client side");
        assert_eq!(nodelay(None, be.port), Some(1), "{program}: server side");
    }
}
