//! PROXY protocol, v1 and v2: `bind ... accept-proxy` (the addresses of the
//! header become the client's, exactly the header is consumed, bad or
//! missing headers close the connection with HAProxy's error log line) and
//! server `send-proxy` / `send-proxy-v2` (the header HAProxy sends, before
//! any data), with the same probes run against HAProxy 2.6 when it is
//! installed to compare messages and bytes.
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs. Two of them then fail on
//! purpose: HAProxy 2.6 does not wait for a header split across several
//! segments (`split_header_is_reassembled`, and the "PROX" half of
//! `handshake_timeout_closes_and_logs`), see
//! `partial_header_is_refused_at_once_like_haproxy`.

mod common;

use common::{
    Backend, HAPROXY, Proxy, free_port, have_haproxy, payload, set_linger0, tcplog_config, test_bin,
};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers --

/// The v2 signature.
const SIG: &[u8; 12] = b"\r\n\r\n\x00\r\nQUIT\n";

/// A v2 header: `ver_cmd`, `fam`, then `body` (addresses and TLVs).
fn v2(ver_cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut v = SIG.to_vec();
    v.push(ver_cmd);
    v.push(fam);
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// The address block of a v2 PROXY header for `src` -> `dst` (same family),
/// with its family byte (TCP over IPv4 or IPv6).
fn v2_addrs(src: SocketAddr, dst: SocketAddr) -> (u8, Vec<u8>) {
    let mut b = Vec::new();
    let fam = match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            b.extend_from_slice(&s.ip().octets());
            b.extend_from_slice(&d.ip().octets());
            0x11
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            b.extend_from_slice(&s.ip().octets());
            b.extend_from_slice(&d.ip().octets());
            0x21
        }
        _ => panic!("mixed families"),
    };
    b.extend_from_slice(&src.port().to_be_bytes());
    b.extend_from_slice(&dst.port().to_be_bytes());
    (fam, b)
}

/// A complete v2 PROXY (command 1) header for `src` -> `dst`.
fn v2_proxy(src: &str, dst: &str) -> Vec<u8> {
    let (fam, body) = v2_addrs(sa(src), sa(dst));
    v2(0x21, fam, &body)
}

/// A v1 line for `src` -> `dst`.
fn v1(src: &str, dst: &str) -> Vec<u8> {
    let (s, d) = (sa(src), sa(dst));
    let proto = if s.is_ipv4() { "TCP4" } else { "TCP6" };
    format!(
        "PROXY {proto} {} {} {} {}\r\n",
        s.ip(),
        d.ip(),
        s.port(),
        d.port()
    )
    .into_bytes()
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("bad address {s}: {e}"))
}

fn cat(a: &[u8], b: &[u8]) -> Vec<u8> {
    [a, b].concat()
}

/// `timeout client` for the tests that want no timeout to interfere.
const LONG: &str = "5s";

fn config(client_timeout: &str, extra_defaults: &str, body: &str) -> String {
    tcplog_config(
        &format!(
            "    timeout connect 2s\n    timeout client {client_timeout}\n    timeout server 5s\n{extra_defaults}"
        ),
        body,
    )
}

/// `listen fe` on `port` with `bind_opts` on its bind line, to `srv`.
fn listen_fe(port: u16, bind_opts: &str, srv: u16, srv_opts: &str) -> String {
    format!(
        "listen fe\n    bind 127.0.0.1:{port} {bind_opts}\n    server s1 127.0.0.1:{srv} {srv_opts}\n"
    )
}

/// Starts `program` on `cfg`, listening on `port`.
fn start(program: &str, cfg: &str, port: u16) -> Proxy {
    Proxy::start_program(program, cfg, &[port], &["-db"])
}

/// The reference, when installed, for the comparisons.
fn reference() -> Option<&'static str> {
    have_haproxy().then_some(HAPROXY)
}

fn connect(port: u16) -> TcpStream {
    let c = common::connect_with_timeouts(port, Duration::from_secs(10));
    c.set_nodelay(true).ok();
    c
}

fn cport(c: &TcpStream) -> u16 {
    c.local_addr().expect("local addr").port()
}

/// Writes `pieces` (the header, maybe cut, maybe with the start of the
/// data), 30 ms apart, then `data` from a thread, shuts the write side, and
/// reads everything back (an echo server is behind the proxy) until EOF or
/// an error. Returns the local port and the bytes read back.
fn echo_through(port: u16, pieces: &[Vec<u8>], data: &[u8]) -> (u16, Vec<u8>) {
    let mut c = connect(port);
    let p = cport(&c);
    let mut w = c.try_clone().expect("clone");
    std::thread::scope(|s| {
        s.spawn(move || {
            for (i, x) in pieces.iter().enumerate() {
                if i > 0 {
                    std::thread::sleep(Duration::from_millis(30));
                }
                if w.write_all(x).is_err() {
                    return;
                }
            }
            if w.write_all(data).is_ok() {
                let _ = w.shutdown(Shutdown::Write);
            }
        });
        let mut got = Vec::with_capacity(data.len());
        let _ = c.read_to_end(&mut got);
        (p, got)
    })
}

/// How the proxy ended a connection, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// Reset (unread data left, or SO_LINGER 0).
    Reset,
    /// Orderly close (FIN).
    Fin,
    /// Still open when the read timed out.
    Open,
    /// The proxy sent data: it should not.
    Data(Vec<u8>),
}

impl End {
    fn closed(&self) -> bool {
        matches!(self, End::Reset | End::Fin)
    }
}

/// Reads once with timeout `t`: how the connection ended, and when.
fn wait_end(c: &mut TcpStream, t: Duration) -> (End, Duration) {
    let t0 = Instant::now();
    c.set_read_timeout(Some(t)).ok();
    let mut b = [0u8; 256];
    let e = match c.read(&mut b) {
        Ok(0) => End::Fin,
        Ok(n) => End::Data(b[..n].to_vec()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => End::Open,
        Err(_) => End::Reset,
    };
    (e, t0.elapsed())
}

/// The error log line of the connection from local port `cport`, split as
/// (`<fe>/<bind>`, message); None if there is none after `t`.
fn error_line(p: &Proxy, cport: u16, t: Duration) -> Option<(String, String)> {
    let prefix = format!("127.0.0.1:{cport} [");
    let end = Instant::now() + t;
    loop {
        let found = p.stdout().lines().find_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (_, after) = rest.split_once("] ")?;
            let (who, msg) = after.split_once(": ")?;
            Some((who.to_string(), msg.to_string()))
        });
        if found.is_some() || Instant::now() > end {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What one probe connection met.
#[derive(Debug, Clone)]
struct Outcome {
    end: End,
    elapsed: Duration,
    /// `<fe>/<bind>` and message of the error log line.
    log: Option<(String, String)>,
    /// Connections the server accepted during the probe.
    reached_server: usize,
}

/// A probe: what the client sends, and how it goes on.
#[derive(Clone, Copy)]
enum Then {
    /// Waits for the proxy to act.
    Wait,
    /// Shuts its write side after the bytes.
    Close,
}

/// Connects to `port`, sends `bytes`, then waits for the end (at most
/// `t`); `be` is the server behind the proxy.
fn probe(p: &Proxy, port: u16, be: &Backend, bytes: &[u8], then: Then, t: Duration) -> Outcome {
    let before = be.accepted();
    let mut c = connect(port);
    let cp = cport(&c);
    let _ = c.write_all(bytes);
    if let Then::Close = then {
        let _ = c.shutdown(Shutdown::Write);
    }
    let (end, elapsed) = wait_end(&mut c, t);
    // A connection that got through would reach the server at once.
    std::thread::sleep(Duration::from_millis(30));
    let log = error_line(
        p,
        cp,
        Duration::from_millis(if end.closed() { 1500 } else { 50 }),
    );
    Outcome {
        end,
        elapsed,
        log,
        reached_server: be.accepted() - before,
    }
}

fn recv_one(rx: &Receiver<Vec<u8>>) -> Vec<u8> {
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the server got no complete connection within 5 s")
}

// ------------------------------------------------ accept-proxy: good ones --

#[test]
fn v1_tcp4_and_tcp6_set_client_address_payload_in_same_segment() {
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(
        &config(LONG, "", &listen_fe(port, "accept-proxy", be.port, "")),
        &[port],
    );
    let data = payload(200_000, 1);
    for (src, dst, ip) in [
        ("192.0.2.10:40000", "198.51.100.20:8080", "192.0.2.10"),
        (
            "[2001:db8::10]:40001",
            "[2001:db8::20]:8443",
            "2001:db8::10",
        ),
    ] {
        // Header and the start of the payload in one write, one segment.
        let first = cat(&v1(src, dst), &data[..1000]);
        let (_, got) = echo_through(port, &[first], &data[1000..]);
        assert!(
            got == data,
            "{src}: the server did not get exactly the payload ({} bytes back, {} sent; first bytes {:?})",
            got.len(),
            data.len(),
            String::from_utf8_lossy(&got[..got.len().min(60)])
        );
        let l = p.tcp_log_for(sa(src).port(), Duration::from_secs(5));
        assert_eq!(l.cip, ip, "client address in the log: {}", l.raw);
        assert_eq!(l.srv, "s1", "{}", l.raw);
        assert_eq!(l.term, "--", "{}", l.raw);
        assert_eq!(l.bytes, data.len() as u64, "{}", l.raw);
    }
    assert_eq!(be.accepted(), 2);
}

/// A header arriving in several segments, some of them cut in the middle
/// of the signature or of an address, with short pauses, is waited for
/// and then consumed exactly. (HAProxy 2.6 refuses such a header as
/// truncated: see `partial_header_is_refused_at_once_like_haproxy`.)

#[test]
fn v2_tcp4_tcp6_local_and_tlvs() {
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(
        &config(LONG, "", &listen_fe(port, "accept-proxy", be.port, "")),
        &[port],
    );
    let data = payload(100_000, 3);
    // TCP over IPv4 and IPv6.
    for (src, dst, ip) in [
        ("192.0.2.33:40002", "198.51.100.2:443", "192.0.2.33"),
        ("[2001:db8::33]:40003", "[2001:db8::2]:443", "2001:db8::33"),
    ] {
        let (_, got) = echo_through(port, &[cat(&v2_proxy(src, dst), &data[..7])], &data[7..]);
        assert!(
            got == data,
            "{src}: payload not intact ({} bytes back)",
            got.len()
        );
        let l = p.tcp_log_for(sa(src).port(), Duration::from_secs(5));
        assert_eq!(l.cip, ip, "{}", l.raw);
    }
    // TLVs after the addresses are skipped with the header.
    let (fam, mut body) = v2_addrs(sa("192.0.2.34:40004"), sa("198.51.100.2:443"));
    body.extend_from_slice(&[0x04, 0x00, 0x03, b'a', b'b', b'c']); // PP2_TYPE_NOOP
    body.extend_from_slice(&[0x01, 0x00, 0x02, b'h', b'2']); // PP2_TYPE_ALPN
    let (_, got) = echo_through(port, &[cat(&v2(0x21, fam, &body), &data[..7])], &data[7..]);
    assert!(
        got == data,
        "TLVs: payload not intact ({} bytes back)",
        got.len()
    );
    assert_eq!(
        p.tcp_log_for(40004, Duration::from_secs(5)).cip,
        "192.0.2.34"
    );
    // LOCAL keeps the connection's own addresses, with or without an
    // address block.
    for hdr in [
        v2(0x20, 0x00, &[]),
        v2(
            0x20,
            0x11,
            &v2_addrs(sa("192.0.2.35:40005"), sa("198.51.100.2:443")).1,
        ),
    ] {
        let (cp, got) = echo_through(port, &[cat(&hdr, &data[..7])], &data[7..]);
        assert!(
            got == data,
            "LOCAL: payload not intact ({} bytes back)",
            got.len()
        );
        let l = p.tcp_log_for(cp, Duration::from_secs(5));
        assert_eq!(
            l.cip, "127.0.0.1",
            "LOCAL keeps the real address: {}",
            l.raw
        );
    }
    assert!(
        !p.stdout().contains("40005"),
        "LOCAL must ignore the address block:\n{}",
        p.stdout()
    );
}

/// HAProxy takes v2 headers up to its buffer size (16 kB): a 5000-byte
/// TLV (an AWS/Azure-style blob) must pass.
#[test]
fn v2_header_larger_than_4k() {
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(
        &config(LONG, "", &listen_fe(port, "accept-proxy", be.port, "")),
        &[port],
    );
    let (fam, mut body) = v2_addrs(sa("192.0.2.36:40006"), sa("198.51.100.2:443"));
    body.extend_from_slice(&[0xE0, 0x13, 0x85]); // custom TLV, 4997 bytes
    body.extend_from_slice(&payload(4997, 9));
    let hdr = v2(0x21, fam, &body);
    assert_eq!(hdr.len(), 16 + 12 + 5000);
    let data = payload(20_000, 4);
    let (_, got) = echo_through(port, &[cat(&hdr, &data[..7])], &data[7..]);
    assert!(
        got == data,
        "a {}-byte v2 header was not accepted ({} bytes back); stdout:\n{}",
        hdr.len(),
        got.len(),
        p.stdout()
    );
    assert_eq!(
        p.tcp_log_for(40006, Duration::from_secs(5)).cip,
        "192.0.2.36"
    );
}

#[test]
fn v1_unknown_keeps_real_addresses() {
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(
        &config(LONG, "", &listen_fe(port, "accept-proxy", be.port, "")),
        &[port],
    );
    let data = payload(30_000, 5);
    let (cp, got) = echo_through(port, &[cat(b"PROXY UNKNOWN\r\n", &data[..9])], &data[9..]);
    assert!(got == data, "payload not intact ({} bytes back)", got.len());
    let l = p.tcp_log_for(cp, Duration::from_secs(5));
    assert_eq!(l.cip, "127.0.0.1", "{}", l.raw);
    assert_eq!(l.term, "--", "{}", l.raw);
}

// ------------------------------------------------- accept-proxy: bad ones --

/// (name, bytes, HAProxy 2.6.12's message). Every one is refused by HAProxy
/// at once (a reset: the unread bytes are still queued), without
/// connecting to the server.
fn bad_headers() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    const INVALID: &str = "Received an invalid PROXY protocol header";
    const NOT_PROXY: &str = "Received something which does not look like a PROXY protocol header";
    const TRUNCATED: &str = "Truncated PROXY protocol header received";
    const BAD_PROTO: &str = "Received an unhandled protocol in the PROXY protocol header";
    let mut long_tcp4 = b"PROXY TCP4 192.0.2.1 192.0.2.2 1111 2222".to_vec();
    long_tcp4.resize(120, b' ');
    vec![
        (
            "v1 TCP4 missing fields",
            b"PROXY TCP4 1.2.3.4\r\n".to_vec(),
            INVALID,
        ),
        ("v1 TCP4 line >107 bytes, no CRLF", long_tcp4, INVALID),
        (
            "v1 line >107 bytes, no CRLF, unknown protocol",
            cat(b"PROXY ", &[b'A'; 110]),
            BAD_PROTO,
        ),
        (
            "v1 TCP6 with IPv4 addresses",
            b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
            INVALID,
        ),
        (
            "v1 TCP5",
            b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
            BAD_PROTO,
        ),
        (
            "v1 UNKNOWN followed by addresses",
            b"PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
            BAD_PROTO,
        ),
        (
            "GARBAGE line (< 16 bytes)",
            b"GARBAGE\r\n".to_vec(),
            TRUNCATED,
        ),
        (
            "HTTP request",
            b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n".to_vec(),
            NOT_PROXY,
        ),
        (
            "v2 bad signature",
            cat(b"\r\n\r\n\x00\r\nQUIX\n", &[0x21, 0x11, 0, 0]),
            NOT_PROXY,
        ),
        ("v2 version 1", v2(0x11, 0x11, &[0; 12]), NOT_PROXY),
        ("v2 version 3", v2(0x31, 0x11, &[0; 12]), NOT_PROXY),
        ("v2 command 5", v2(0x25, 0x11, &[0; 12]), INVALID),
        ("v2 command 2", v2(0x22, 0x11, &[0; 12]), INVALID),
        ("v2 family 0x51", v2(0x21, 0x51, &[0; 12]), INVALID),
        ("v2 UDP over IPv4 (0x12)", v2(0x21, 0x12, &[0; 12]), INVALID),
        ("v2 PROXY with AF_UNSPEC", v2(0x21, 0x00, &[]), INVALID),
        (
            "v2 TCP4 address block too short",
            v2(0x21, 0x11, &[0; 4]),
            INVALID,
        ),
        (
            "v2 TCP6 address block too short",
            v2(0x21, 0x21, &[0; 12]),
            INVALID,
        ),
    ]
}

/// Runs every bad header against `program`; the outcomes in order.
fn run_bad_headers(program: &str) -> Vec<Outcome> {
    let (be, _rx) = Backend::collect();
    let port = free_port();
    let p = start(
        program,
        &config(LONG, "", &listen_fe(port, "accept-proxy", be.port, "")),
        port,
    );
    bad_headers()
        .iter()
        .map(|(_, bytes, _)| probe(&p, port, &be, bytes, Then::Wait, Duration::from_secs(1)))
        .collect()
}

#[test]
fn bad_headers_are_refused_with_haproxy_messages() {
    let got = run_bad_headers(&test_bin());
    let reference = reference().map(run_bad_headers);
    let mut report = Vec::new();
    for (i, (name, bytes, msg)) in bad_headers().iter().enumerate() {
        let o = &got[i];
        let mut bad = Vec::new();
        if !o.end.closed() || o.elapsed > Duration::from_millis(500) {
            bad.push(format!(
                "not closed at once ({:?} after {:?})",
                o.end, o.elapsed
            ));
        }
        if o.reached_server > 0 {
            bad.push("the server was connected to".to_string());
        }
        match &o.log {
            Some((who, m)) => {
                if who != "fe/1" {
                    bad.push(format!("logged as {who:?}, not \"fe/1\""));
                }
                if m != msg {
                    bad.push(format!("message {m:?}, HAProxy 2.6 says {msg:?}"));
                }
            }
            None => bad.push(format!("no error log line (HAProxy 2.6: {msg:?})")),
        }
        if let Some(r) = &reference {
            let r = &r[i];
            let rmsg = r.log.as_ref().map(|x| x.1.as_str());
            assert_eq!(
                rmsg,
                Some(*msg),
                "{name}: this test's table disagrees with {HAPROXY}"
            );
            assert!(
                r.end.closed() && r.reached_server == 0,
                "{name}: {HAPROXY}: {r:?}"
            );
        }
        if !bad.is_empty() {
            report.push(format!(
                "  {name} ({:?}): {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(40)]),
                bad.join("; ")
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} bad headers handled unlike HAProxy 2.6:\n{}",
        report.len(),
        got.len(),
        report.join("\n")
    );
}

/// The client leaving before the header is complete; the bind's name in
/// the log line.
#[test]
fn client_closing_before_header_is_logged() {
    let run = |program: &str| -> Vec<Outcome> {
        let (be, _rx) = Backend::collect();
        let port = free_port();
        let p = start(
            program,
            &config(
                LONG,
                "",
                &listen_fe(port, "accept-proxy name edge", be.port, ""),
            ),
            port,
        );
        [
            &b"PROXY TCP4 192.0.2.1 "[..],
            &SIG[..],
            &v2_proxy("192.0.2.1:1", "192.0.2.2:2")[..20],
            &b""[..],
        ]
        .iter()
        .map(|b| probe(&p, port, &be, b, Then::Close, Duration::from_secs(2)))
        .collect()
    };
    let expected = [
        "Truncated PROXY protocol header received",
        "Truncated PROXY protocol header received",
        "Truncated PROXY protocol header received",
        "Connection closed while waiting for PROXY protocol header",
    ];
    let got = run(&test_bin());
    for (o, msg) in got.iter().zip(expected) {
        assert!(o.end.closed(), "{msg}: {o:?}");
        assert_eq!(o.reached_server, 0, "{msg}: {o:?}");
        assert_eq!(
            o.log,
            Some(("fe/edge".to_string(), msg.to_string())),
            "{o:?}"
        );
    }
    if let Some(h) = reference() {
        let r = run(h);
        let msgs = |v: &[Outcome]| v.iter().map(|o| o.log.clone()).collect::<Vec<_>>();
        assert_eq!(msgs(&got), msgs(&r), "log lines differ from {h}'s");
    }
}

/// `timeout client` bounds the wait for the header: a client that sent
/// nothing is closed after ~300 ms, with HAProxy's log line.
#[test]
fn handshake_timeout_closes_and_logs() {
    let run = |program: &str, bytes: &[u8]| -> Outcome {
        let (be, _rx) = Backend::collect();
        let port = free_port();
        let p = start(
            program,
            &config("300ms", "", &listen_fe(port, "accept-proxy", be.port, "")),
            port,
        );
        probe(&p, port, &be, bytes, Then::Wait, Duration::from_secs(3))
    };
    const TIMEOUT: &str = "Timeout while waiting for PROXY protocol header";
    let bin = test_bin();
    // An incomplete header ("PROX") is refused at once, as HAProxy does
    // (see partial_header_is_refused_at_once_like_haproxy).
    {
        let bytes: &[u8] = b"";
        let o = run(&bin, bytes);
        let what = String::from_utf8_lossy(bytes);
        assert!(o.end.closed(), "{what:?}: not closed: {o:?}");
        assert!(
            o.elapsed >= Duration::from_millis(240) && o.elapsed < Duration::from_millis(2300),
            "{what:?}: closed after {:?}, timeout client is 300 ms",
            o.elapsed
        );
        assert_eq!(o.reached_server, 0);
        assert_eq!(
            o.log,
            Some(("fe/1".to_string(), TIMEOUT.to_string())),
            "{what:?}"
        );
    }
    if let Some(h) = reference() {
        let r = run(h, b"");
        assert_eq!(
            r.log,
            Some(("fe/1".to_string(), TIMEOUT.to_string())),
            "{h}"
        );
        assert!(
            r.end.closed() && r.elapsed >= Duration::from_millis(240),
            "{h}: {r:?}"
        );
    }
}

/// HAProxy 2.6 reads the header with one peek and does not wait for a
/// header that is incomplete in it: "PROX", or a v1 line ended by LF
/// alone, is refused at once as truncated. haproxy-rs waits for the rest
/// (see `split_header_is_reassembled`), so these behave differently.
#[test]
fn partial_header_is_refused_at_once_like_haproxy() {
    let (be, _rx) = Backend::collect();
    let port = free_port();
    let p = Proxy::start_under_test(
        &config(LONG, "", &listen_fe(port, "accept-proxy", be.port, "")),
        &[port],
    );
    for bytes in [
        &b"PROX"[..],
        &b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"[..],
        &SIG[..],
    ] {
        let o = probe(&p, port, &be, bytes, Then::Wait, Duration::from_secs(2));
        assert!(
            o.end.closed() && o.elapsed < Duration::from_millis(500),
            "{:?}: {o:?}",
            String::from_utf8_lossy(bytes)
        );
        assert_eq!(
            o.log.map(|x| x.1).as_deref(),
            Some("Truncated PROXY protocol header received")
        );
    }
}

/// With `option dontlognull`, HAProxy logs no error for a connection that
/// sent nothing (closed, or timed out), but still logs bad headers.
#[test]
fn dontlognull_hides_empty_handshakes() {
    let (be, _rx) = Backend::collect();
    let port = free_port();
    let p = Proxy::start_under_test(
        &config(
            "300ms",
            "    option dontlognull\n",
            &listen_fe(port, "accept-proxy", be.port, ""),
        ),
        &[port],
    );
    let closed = probe(&p, port, &be, b"", Then::Close, Duration::from_secs(2));
    let timed_out = probe(&p, port, &be, b"", Then::Wait, Duration::from_secs(2));
    let bad = probe(
        &p,
        port,
        &be,
        b"GARBAGE\r\n",
        Then::Wait,
        Duration::from_secs(2),
    );
    assert!(closed.end.closed() && timed_out.end.closed() && bad.end.closed());
    assert_eq!(
        bad.log.map(|x| x.1).as_deref(),
        Some("Truncated PROXY protocol header received")
    );
    assert_eq!(closed.log, None, "client closed without a byte");
    assert_eq!(timed_out.log, None, "timeout without a byte");
}

/// HAProxy logs a handshake error at level `info`, and only from a
/// frontend that has a log format (`option tcplog` here): a target
/// limited to `notice` gets nothing, nor does a frontend without
/// `option tcplog`.
#[test]
fn error_line_level_info_and_only_with_tcplog() {
    let run = |program: &str| -> Vec<Option<(String, String)>> {
        let (be, _rx) = Backend::collect();
        let ports = [free_port(), free_port(), free_port()];
        let cfg = format!(
            "global\n    log stdout format raw local0\n\n\
             defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\n\
             listen notice_only\n    bind 127.0.0.1:{} accept-proxy\n    option tcplog\n    log stdout format raw local0 notice\n    server s1 127.0.0.1:{srv}\n\
             listen info\n    bind 127.0.0.1:{} accept-proxy\n    option tcplog\n    log stdout format raw local0 info\n    server s1 127.0.0.1:{srv}\n\
             listen no_tcplog\n    bind 127.0.0.1:{} accept-proxy\n    log global\n    server s1 127.0.0.1:{srv}\n",
            ports[0],
            ports[1],
            ports[2],
            srv = be.port
        );
        let p = Proxy::start_program(program, &cfg, &ports, &["-db"]);
        ports
            .iter()
            .map(|&port| {
                probe(
                    &p,
                    port,
                    &be,
                    b"GARBAGE\r\n",
                    Then::Wait,
                    Duration::from_secs(2),
                )
                .log
            })
            .collect()
    };
    let msg = "Truncated PROXY protocol header received".to_string();
    let expected = vec![None, Some(("info/1".to_string(), msg)), None];
    assert_eq!(
        run(&test_bin()),
        expected,
        "[notice-only target, info target, no option tcplog]"
    );
    if let Some(h) = reference() {
        assert_eq!(run(h), expected, "{h}");
    }
}

/// Without `name`, the error line names the listener by its id, as
/// HAProxy numbers them: one per address (a `bind` line with two
/// addresses has two ids), counted from 1 in the proxy, or the `id` set on
/// the `bind` line.
#[test]
fn error_line_names_listener_by_id() {
    let run = |program: &str| -> Vec<Option<String>> {
        let (be, _rx) = Backend::collect();
        let ports = [free_port(), free_port(), free_port(), free_port()];
        let body = format!(
            "listen a\n    bind 127.0.0.1:{},127.0.0.1:{} accept-proxy\n    bind 127.0.0.1:{} accept-proxy\n    bind 127.0.0.1:{} accept-proxy id 7\n    server s1 127.0.0.1:{}\n",
            ports[0], ports[1], ports[2], ports[3], be.port
        );
        let p = Proxy::start_program(program, &config(LONG, "", &body), &ports, &["-db"]);
        ports
            .iter()
            .map(|&port| {
                probe(
                    &p,
                    port,
                    &be,
                    b"GARBAGE\r\n",
                    Then::Wait,
                    Duration::from_secs(2),
                )
                .log
                .map(|x| x.0)
            })
            .collect()
    };
    let expected: Vec<Option<String>> = ["a/1", "a/2", "a/3", "a/7"]
        .iter()
        .map(|x| Some(x.to_string()))
        .collect();
    assert_eq!(
        run(&test_bin()),
        expected,
        "[first line 1st address, first line 2nd address, second line, 'id 7']"
    );
    if let Some(h) = reference() {
        assert_eq!(run(h), expected, "{h}");
    }
}

// ------------------------------------------------- send-proxy, send-proxy-v2 --

/// Expected v1 line for a client at 127.0.0.1:`cport` on frontend port
/// `fport`.
fn local_v1(cport: u16, fport: u16) -> Vec<u8> {
    v1(&format!("127.0.0.1:{cport}"), &format!("127.0.0.1:{fport}"))
}

fn local_v2(cport: u16, fport: u16) -> Vec<u8> {
    v2_proxy(&format!("127.0.0.1:{cport}"), &format!("127.0.0.1:{fport}"))
}

/// Sends `first` then `rest` through the proxy on `port` and closes; the
/// client's port and what the server received.
fn send_through(port: u16, first: &[u8], rest: &[u8], rx: &Receiver<Vec<u8>>) -> (u16, Vec<u8>) {
    let mut c = connect(port);
    let cp = cport(&c);
    c.write_all(first).expect("write");
    c.write_all(rest).expect("write");
    c.shutdown(Shutdown::Write).expect("shutdown");
    let got = recv_one(rx);
    let _ = common::read_all(&mut c);
    (cp, got)
}

/// `send-proxy` and `send-proxy-v2`: the server gets the header built from
/// the client's address and the frontend's, then the payload unchanged.
#[test]
fn send_proxy_headers_match_haproxy() {
    let run = |program: &str| -> Vec<(String, Vec<u8>, Vec<u8>)> {
        let (be, rx) = Backend::collect();
        let (p1, p2) = (free_port(), free_port());
        let body = format!(
            "{}{}",
            listen_fe(p1, "", be.port, "send-proxy").replace("listen fe", "listen sp1"),
            listen_fe(p2, "", be.port, "send-proxy-v2").replace("listen fe", "listen sp2"),
        );
        let _p = Proxy::start_program(program, &config(LONG, "", &body), &[p1, p2], &["-db"]);
        let data = payload(300_000, 6);
        let mut out = Vec::new();
        for (name, port, v2) in [("send-proxy", p1, false), ("send-proxy-v2", p2, true)] {
            // Small then large payload: the header goes before any of it.
            for n in [5, data.len()] {
                let (cp, got) = send_through(port, &data[..n.min(5)], &data[n.min(5)..n], &rx);
                let hdr = if v2 {
                    local_v2(cp, port)
                } else {
                    local_v1(cp, port)
                };
                out.push((format!("{name} {n} bytes"), cat(&hdr, &data[..n]), got));
            }
        }
        out
    };
    let check = |program: &str| {
        for (what, want, got) in run(program) {
            let k = want.len().min(got.len()).min(64);
            assert!(
                got == want,
                "{program}: {what}: the server got {} bytes starting {:?}, expected {} starting {:?}",
                got.len(),
                String::from_utf8_lossy(&got[..k]),
                want.len(),
                String::from_utf8_lossy(&want[..k])
            );
        }
    };
    check(&test_bin());
    if let Some(h) = reference() {
        check(h);
    }
}

/// accept-proxy then send-proxy: the incoming header's addresses go on to
/// the server; UNKNOWN and LOCAL send the connection's own addresses.
#[test]
fn chained_accept_proxy_send_proxy_propagates_addresses() {
    let run = |program: &str| -> Vec<(String, Vec<u8>)> {
        let (be, rx) = Backend::collect();
        let (p1, p2) = (free_port(), free_port());
        let body = format!(
            "{}{}",
            listen_fe(p1, "accept-proxy", be.port, "send-proxy").replace("listen fe", "listen c1"),
            listen_fe(p2, "accept-proxy", be.port, "send-proxy-v2")
                .replace("listen fe", "listen c2"),
        );
        let _p = Proxy::start_program(program, &config(LONG, "", &body), &[p1, p2], &["-db"]);
        let t4 = ("192.0.2.7:1111", "198.51.100.8:2222");
        let t6 = ("[2001:db8::7]:1111", "[2001:db8::8]:2222");
        let mut out = Vec::new();
        for (port, v2_out) in [(p1, false), (p2, true)] {
            let enc = |s: &str, d: &str| if v2_out { v2_proxy(s, d) } else { v1(s, d) };
            let cases = vec![
                ("v1 TCP4", v1(t4.0, t4.1), Some(enc(t4.0, t4.1))),
                ("v1 TCP6", v1(t6.0, t6.1), Some(enc(t6.0, t6.1))),
                ("v2 TCP4", v2_proxy(t4.0, t4.1), Some(enc(t4.0, t4.1))),
                ("v2 TCP6", v2_proxy(t6.0, t6.1), Some(enc(t6.0, t6.1))),
                ("v1 UNKNOWN", b"PROXY UNKNOWN\r\n".to_vec(), None),
                ("v2 LOCAL", v2(0x20, 0x00, &[]), None),
            ];
            for (name, hdr, want) in cases {
                let (cp, got) = send_through(port, &hdr, b"hello", &rx);
                let want = want.unwrap_or_else(|| {
                    if v2_out {
                        local_v2(cp, port)
                    } else {
                        local_v1(cp, port)
                    }
                });
                let what = format!("{name} in, {} out", if v2_out { "v2" } else { "v1" });
                out.push((what.clone(), cat(&want, b"hello")));
                out.push((what, got));
            }
        }
        out
    };
    let check = |program: &str| {
        let v = run(program);
        for pair in v.chunks(2) {
            assert_eq!(
                String::from_utf8_lossy(&pair[1].1),
                String::from_utf8_lossy(&pair[0].1),
                "{program}: {}",
                pair[0].0
            );
        }
    };
    check(&test_bin());
    if let Some(h) = reference() {
        check(h);
    }
}

/// A server with `send-proxy` and `check` gets the header on its health
/// checks too, as HAProxy 2.6 sends it (no `port`/`addr` on the server):
/// v1 from the check's address to the server's, v2 as LOCAL.
#[test]
fn health_checks_send_the_header() {
    let run = |program: &str| -> (Vec<u8>, Vec<u8>, u16) {
        let (b1, rx1) = Backend::collect();
        let (b2, rx2) = Backend::collect();
        let (p1, p2) = (free_port(), free_port());
        let body = format!(
            "{}{}",
            listen_fe(p1, "", b1.port, "send-proxy check inter 200")
                .replace("listen fe", "listen hc1"),
            listen_fe(p2, "", b2.port, "send-proxy-v2 check inter 200")
                .replace("listen fe", "listen hc2"),
        );
        let _p = Proxy::start_program(program, &config(LONG, "", &body), &[p1, p2], &["-db"]);
        (recv_one(&rx1), recv_one(&rx2), b1.port)
    };
    let check = |program: &str| {
        let (got1, got2, srv) = run(program);
        let line = String::from_utf8_lossy(&got1).to_string();
        let ok = line
            .strip_prefix("PROXY TCP4 127.0.0.1 127.0.0.1 ")
            .and_then(|r| r.strip_suffix(&format!(" {srv}\r\n")))
            .is_some_and(|sport| sport.parse::<u16>().is_ok());
        assert!(ok, "{program}: send-proxy check sent {line:?}");
        assert_eq!(
            got2,
            v2(0x20, 0x00, &[]),
            "{program}: send-proxy-v2 check (LOCAL expected)"
        );
    };
    check(&test_bin());
    if let Some(h) = reference() {
        check(h);
    }
}

// ------------------------------------------------------------------ flood --

/// 200 bad headers from 4 threads while a good 4 MB transfer is half
/// done: the transfer is intact, each bad one gets its log line, no server
/// connection, and the fd count comes back to where it was.
#[test]
fn bad_header_flood_leaves_good_transfer_and_no_fd() {
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start_under_test(
        &config(LONG, "", &listen_fe(port, "accept-proxy", be.port, "")),
        &[port],
    );
    std::thread::sleep(Duration::from_millis(100));
    let baseline = p.fd_count();
    assert!(baseline > 0);
    let data = payload(4 << 20, 7);
    let bad: Vec<Vec<u8>> = vec![
        b"GARBAGE\r\n".to_vec(),
        b"PROXY TCP4 1.2.3.4\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n".to_vec(),
        v2(0x21, 0x11, &[0; 4]),
        b"PROXY TCP4 1.2.3.4 ".to_vec(), // then closed by the client
    ];
    let flood_done = AtomicBool::new(false);
    let (good, flood_ok) = std::thread::scope(|s| {
        // The good connection sends half its data, waits for the end of the
        // flood, then sends the rest: it is mid-transfer all along.
        let mut c = connect(port);
        let mut w = c.try_clone().expect("clone");
        let (data, flood_done) = (&data, &flood_done);
        s.spawn(move || {
            let half = data.len() / 2;
            let hdr = v1("192.0.2.99:40099", "198.51.100.1:80");
            if w.write_all(&cat(&hdr, &data[..half])).is_err() {
                return;
            }
            let end = Instant::now() + Duration::from_secs(20);
            while !flood_done.load(Ordering::SeqCst) && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(5));
            }
            if w.write_all(&data[half..]).is_ok() {
                let _ = w.shutdown(Shutdown::Write);
            }
        });
        let good = s.spawn(move || {
            let mut got = Vec::with_capacity(data.len());
            let _ = c.read_to_end(&mut got);
            got
        });
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let bad = &bad;
                s.spawn(move || {
                    let mut ok = 0;
                    for i in 0..50 {
                        let k = (w * 50 + i) % bad.len();
                        let mut c = connect(port);
                        let _ = c.write_all(&bad[k]);
                        if k == 4 {
                            let _ = c.shutdown(Shutdown::Write);
                        }
                        if i % 7 == 0 {
                            set_linger0(&c);
                        }
                        let (end, _) = wait_end(&mut c, Duration::from_secs(3));
                        if end.closed() {
                            ok += 1;
                        }
                    }
                    ok
                })
            })
            .collect();
        let ok: usize = workers.into_iter().map(|h| h.join().expect("worker")).sum();
        flood_done.store(true, Ordering::SeqCst);
        (good.join().expect("good transfer"), ok)
    });
    assert!(
        good == data,
        "the good transfer was damaged: {} bytes back of {}",
        good.len(),
        data.len()
    );
    assert_eq!(flood_ok, 200, "bad connections not closed by the proxy");
    let l = p.tcp_log_for(40099, Duration::from_secs(5));
    assert_eq!(
        (l.cip.as_str(), l.term.as_str()),
        ("192.0.2.99", "--"),
        "{}",
        l.raw
    );
    assert_eq!(
        be.accepted(),
        1,
        "only the good connection reaches the server"
    );
    let errors = |p: &Proxy| {
        p.stdout()
            .lines()
            .filter(|l| l.contains("] fe/1: ") && l.contains("PROXY protocol header"))
            .count()
    };
    let end = Instant::now() + Duration::from_secs(5);
    while errors(&p) < 200 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(errors(&p), 200, "one error line per bad header");
    let end = Instant::now() + Duration::from_secs(5);
    let mut now = p.fd_count();
    while now != baseline && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
        now = p.fd_count();
    }
    assert_eq!(
        now, baseline,
        "fd count after the flood (baseline {baseline})"
    );
    // The listener still works.
    let (_, got) = echo_through(port, &[v1("192.0.2.98:40098", "198.51.100.1:80")], b"after");
    assert_eq!(got, b"after");
}

/// A soft stop waits for connections still waiting for their PROXY header
/// (HAProxy counts them as jobs): the header that comes after SIGUSR1 is
/// served, then the process leaves. Checked on HAProxy 2.6 too when it is
/// installed.
#[test]
fn soft_stop_waits_for_a_connection_still_sending_its_header() {
    let be = Backend::echo();
    let port = free_port();
    let cfg = config("5s", "", &listen_fe(port, "accept-proxy", be.port, ""));
    let mut programs = vec![common::bin()];
    programs.extend(reference());
    for program in programs {
        let mut p = start(program, &cfg, port);
        let mut c = connect(port);
        // Let the proxy accept it (no byte sent yet), then ask for a soft stop.
        std::thread::sleep(Duration::from_millis(200));
        p.signal(libc::SIGUSR1);
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            p.child.try_wait().ok().flatten().is_none(),
            "{program}: left with a connection in its handshake"
        );
        c.write_all(&cat(&v1("10.0.0.1:1000", "10.0.0.2:80"), b"hello"))
            .expect("header");
        c.shutdown(Shutdown::Write).expect("shutdown");
        let mut got = Vec::new();
        c.read_to_end(&mut got).expect("echo");
        assert_eq!(got, b"hello", "{program}");
        let st = p.wait_exit(Duration::from_secs(5));
        assert_eq!(st.and_then(|s| s.code()), Some(0), "{program}: {st:?}");
    }
}
