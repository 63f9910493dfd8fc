//! PROXY protocol, receive side, against HAProxy 2.6: which v1 lines and v2
//! headers are accepted and which refused (with the message and the client
//! address logged), the TLVs kept for the fetches (`fc_rcvd_proxy`,
//! `fc_pp_authority`, `fc_pp_unique_id`, and `fc_pp_tlv` which is HAProxy
//! 2.9's), and `tcp-request connection expect-proxy layer4 if <cond>`.
//!
//! Each case is sent to haproxy-rs and, when it is installed, to
//! `/usr/sbin/haproxy`; both must give the outcome of the table, which was
//! recorded from HAProxy 2.6.12.

mod common;

use common::{Backend, HAPROXY, Proxy, free_port, have_haproxy, test_bin};
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers --

const SIG: &[u8; 12] = b"\r\n\r\n\x00\r\nQUIT\n";

/// A v2 header: `ver_cmd`, `fam`, then `body` (addresses and TLVs).
fn v2(ver_cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut v = SIG.to_vec();
    v.extend_from_slice(&[ver_cmd, fam]);
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// The TCP4 address block 192.0.2.1:40001 -> 198.51.100.2:443.
fn a4() -> Vec<u8> {
    let mut b = vec![192, 0, 2, 1, 198, 51, 100, 2];
    b.extend_from_slice(&40001u16.to_be_bytes());
    b.extend_from_slice(&443u16.to_be_bytes());
    b
}

fn tlv(ty: u8, v: &[u8]) -> Vec<u8> {
    let mut t = vec![ty];
    t.extend_from_slice(&(v.len() as u16).to_be_bytes());
    t.extend_from_slice(v);
    t
}

/// CRC-32C, bit by bit: an independent check of the table-driven one.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A TCP4 PROXY header with a CRC32C TLV after `before` and followed by
/// `after`; its checksum right, or off by one bit.
fn with_crc(before: &[u8], after: &[u8], good: bool) -> Vec<u8> {
    let body = [&a4()[..], before, &tlv(0x03, &[0; 4]), after].concat();
    let mut h = v2(0x21, 0x11, &body);
    let crc = crc32c(&h) ^ u32::from(!good);
    let at = 16 + 12 + before.len() + 3;
    h[at..at + 4].copy_from_slice(&crc.to_be_bytes());
    h
}

/// The log format of the comparison: the client address, what 2.6's
/// PROXY fetches return.
const LF: &str = "LOG %ci:%cp rcvd=%[fc_rcvd_proxy] auth=%[fc_pp_authority] uid=%[fc_pp_unique_id]";

fn config(port: u16, srv: u16, bind_opts: &str, extra: &str) -> String {
    format!(
        "global\n    log stdout format raw local0\n\n\
         defaults\n    mode tcp\n    log global\n    option tcplog\n    log-format \"{LF}\"\n\
         \x20   timeout connect 2s\n    timeout client 3s\n    timeout server 3s\n\n\
         listen fe\n    bind 127.0.0.1:{port} {bind_opts}\n{extra}    server s1 127.0.0.1:{srv}\n"
    )
}

/// A server that closes each connection at once: the session ends and is
/// logged without waiting for a timeout.
fn closing_backend() -> Backend {
    Backend::start(drop)
}

/// The log lines of `p` from line `from` on, waiting up to `t` for one.
fn new_lines(p: &Proxy, from: usize, t: Duration) -> Vec<String> {
    let end = Instant::now() + t;
    loop {
        let lines: Vec<String> = p.stdout().lines().skip(from).map(String::from).collect();
        if !lines.is_empty() || Instant::now() > end {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `bytes` on a new connection to `port`, waits for the proxy to end
/// it, and returns the log line it produced, normalised: `LOG <addr> ...`
/// for a session (the real client port replaced by `*`), `fe/1: <msg>` for
/// a refused connection.
fn send_case(p: &Proxy, port: u16, bytes: &[u8]) -> String {
    let seen = p.stdout().lines().count();
    let mut c = common::connect_with_timeouts(port, Duration::from_secs(5));
    let cport = c.local_addr().map(|a| a.port()).unwrap_or(0);
    let _ = c.write_all(bytes);
    c.set_read_timeout(Some(Duration::from_secs(2))).ok();
    let mut b = [0u8; 64];
    match c.read(&mut b) {
        Ok(_) => {}
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            return "still open".into();
        }
        Err(_) => {}
    }
    drop(c);
    let lines = new_lines(p, seen, Duration::from_secs(2));
    let Some(l) = lines.first() else {
        return "no log line".into();
    };
    if let Some(rest) = l.strip_prefix("LOG ") {
        return format!("LOG {}", rest.replace(&format!(":{cport} "), ":* "));
    }
    // `<ip>:<port> [<date>] fe/1: <msg>`
    l.split_once("] ")
        .map_or_else(|| l.clone(), |(_, m)| m.to_string())
}

/// The reference, when installed.
fn reference() -> Option<&'static str> {
    have_haproxy().then_some(HAPROXY)
}

// ------------------------------------------------------ validation table --

const INVALID: &str = "fe/1: Received an invalid PROXY protocol header";
const TRUNCATED: &str = "fe/1: Truncated PROXY protocol header received";
const BAD_PROTO: &str = "fe/1: Received an unhandled protocol in the PROXY protocol header";

/// The session log of an accepted TCP4 v2 header (`a4()`).
fn ok4(auth: &str, uid: &str) -> String {
    format!("LOG 192.0.2.1:40001 rcvd=1 auth={auth} uid={uid}")
}

/// The session log of an accepted v1 line from `addr`.
fn ok1(addr: &str) -> String {
    format!("LOG {addr} rcvd=1 auth=- uid=-")
}

/// A LOCAL header: the real address, nothing read from the header.
const LOCAL: &str = "LOG 127.0.0.1:* rcvd=1 auth=- uid=-";

/// (name, bytes, HAProxy 2.6.12's outcome).
fn cases() -> Vec<(&'static str, Vec<u8>, String)> {
    let a = a4();
    let v1 = |s: &str| s.as_bytes().to_vec();
    let ssl = [
        &[0x07, 0, 0, 0, 0][..],
        &tlv(0x21, b"TLSv1.3"),
        &tlv(0x22, b"client"),
    ]
    .concat();
    vec![
        // v2 TLV framing.
        (
            "v2 NOOP TLV",
            v2(0x21, 0x11, &[&a[..], &tlv(0x04, b"abc")].concat()),
            ok4("-", "-"),
        ),
        (
            "v2 TLV length past the header",
            v2(0x21, 0x11, &[&a[..], &tlv(0x04, b"abc")[..5]].concat()),
            INVALID.into(),
        ),
        (
            "v2 1 trailing byte",
            v2(0x21, 0x11, &[&a[..], b"\x04"].concat()),
            INVALID.into(),
        ),
        (
            "v2 2 trailing bytes",
            v2(0x21, 0x11, &[&a[..], b"\x04\x00"].concat()),
            INVALID.into(),
        ),
        (
            "v2 empty TLV",
            v2(0x21, 0x11, &[&a[..], b"\x04\x00\x00"].concat()),
            ok4("-", "-"),
        ),
        // CRC32C.
        ("v2 CRC32C right", with_crc(b"", b"", true), ok4("-", "-")),
        ("v2 CRC32C wrong", with_crc(b"", b"", false), INVALID.into()),
        (
            "v2 CRC32C 3 bytes long",
            v2(0x21, 0x11, &[&a[..], &tlv(0x03, b"abc")].concat()),
            INVALID.into(),
        ),
        (
            "v2 CRC32C between TLVs",
            with_crc(&tlv(0x01, b"h2"), &tlv(0x02, b"example.com"), true),
            ok4("example.com", "-"),
        ),
        // AUTHORITY and UNIQUE_ID limits.
        (
            "v2 AUTHORITY 255 bytes",
            v2(0x21, 0x11, &[&a[..], &tlv(0x02, &[b'a'; 255])].concat()),
            ok4(&"a".repeat(255), "-"),
        ),
        (
            "v2 AUTHORITY 256 bytes",
            v2(0x21, 0x11, &[&a[..], &tlv(0x02, &[b'a'; 256])].concat()),
            INVALID.into(),
        ),
        (
            "v2 UNIQUE_ID 128 bytes",
            v2(0x21, 0x11, &[&a[..], &tlv(0x05, &[b'u'; 128])].concat()),
            ok4("-", &"u".repeat(128)),
        ),
        (
            "v2 UNIQUE_ID 129 bytes",
            v2(0x21, 0x11, &[&a[..], &tlv(0x05, &[b'u'; 129])].concat()),
            INVALID.into(),
        ),
        (
            "v2 AUTHORITY empty",
            v2(0x21, 0x11, &[&a[..], &tlv(0x02, b"")].concat()),
            ok4("-", "-"),
        ),
        (
            "v2 two AUTHORITY: the last kept",
            v2(
                0x21,
                0x11,
                &[&a[..], &tlv(0x02, b"one"), &tlv(0x02, b"two")].concat(),
            ),
            ok4("two", "-"),
        ),
        (
            "v2 SSL, ALPN, NETNS TLVs",
            v2(
                0x21,
                0x11,
                &[
                    &a[..],
                    &tlv(0x20, &ssl),
                    &tlv(0x01, b"h2"),
                    &tlv(0x30, b"blue"),
                ]
                .concat(),
            ),
            ok4("-", "-"),
        ),
        (
            "v2 SSL sub-TLV past its TLV (not checked)",
            v2(
                0x21,
                0x11,
                &[
                    &a[..],
                    &tlv(0x20, &[&[0x07, 0, 0, 0, 0][..], b"\x21\x00\x30"].concat()),
                ]
                .concat(),
            ),
            ok4("-", "-"),
        ),
        // Families.
        (
            "v2 AF_UNIX stream (0x31)",
            v2(0x21, 0x31, &[0; 216]),
            INVALID.into(),
        ),
        (
            "v2 AF_UNIX, no address (0x31)",
            v2(0x21, 0x31, b""),
            INVALID.into(),
        ),
        (
            "v2 AF_UNIX dgram (0x32)",
            v2(0x21, 0x32, &[0; 216]),
            INVALID.into(),
        ),
        (
            "v2 UNSPEC stream (0x01)",
            v2(0x21, 0x01, &a),
            INVALID.into(),
        ),
        (
            "v2 TCP4 address block 11 bytes",
            v2(0x21, 0x11, &a[..11]),
            INVALID.into(),
        ),
        // LOCAL: nothing after the family is read.
        (
            "v2 LOCAL with a broken TLV",
            v2(0x20, 0x11, &[&a[..], b"\x04\x00\x09"].concat()),
            LOCAL.into(),
        ),
        (
            "v2 LOCAL with a wrong CRC32C",
            v2(0x20, 0x11, &[&a[..], &tlv(0x03, &[0, 0, 0, 1])].concat()),
            LOCAL.into(),
        ),
        (
            "v2 LOCAL UNSPEC with 2 bytes",
            v2(0x20, 0x00, b"\x01\x02"),
            LOCAL.into(),
        ),
        // v1 TCP4 addresses and ports as inetaddr_host_lim_ret / read_uint.
        (
            "v1 999.1.1.1",
            v1("PROXY TCP4 999.1.1.1 5.6.7.8 1111 2222\r\n"),
            ok1("231.1.1.1:1111"),
        ),
        (
            "v1 1.999.1.1",
            v1("PROXY TCP4 1.999.1.1 5.6.7.8 1111 2222\r\n"),
            ok1("4.231.1.1:1111"),
        ),
        (
            "v1 1234.5.6.7",
            v1("PROXY TCP4 1234.5.6.7 5.6.7.8 1111 2222\r\n"),
            ok1("234.5.6.7:1111"),
        ),
        (
            "v1 1.2.3",
            v1("PROXY TCP4 1.2.3 5.6.7.8 1111 2222\r\n"),
            ok1("1.2.3.0:1111"),
        ),
        (
            "v1 1..2.3",
            v1("PROXY TCP4 1..2.3 5.6.7.8 1111 2222\r\n"),
            ok1("1.0.2.3:1111"),
        ),
        (
            "v1 1.2.3.4.5",
            v1("PROXY TCP4 1.2.3.4.5 5.6.7.8 1111 2222\r\n"),
            INVALID.into(),
        ),
        (
            "v1 01.002.3.4",
            v1("PROXY TCP4 01.002.3.4 5.6.7.8 1111 2222\r\n"),
            ok1("1.2.3.4:1111"),
        ),
        (
            "v1 empty source",
            v1("PROXY TCP4  5.6.7.8 1111 2222\r\n"),
            ok1("0.0.0.0:1111"),
        ),
        (
            "v1 port 70000",
            v1("PROXY TCP4 1.2.3.4 5.6.7.8 70000 2222\r\n"),
            ok1("1.2.3.4:4464"),
        ),
        (
            "v1 port 4294967297",
            v1("PROXY TCP4 1.2.3.4 5.6.7.8 4294967297 2222\r\n"),
            ok1("1.2.3.4:1"),
        ),
        (
            "v1 port empty",
            v1("PROXY TCP4 1.2.3.4 5.6.7.8  2222\r\n"),
            ok1("1.2.3.4:0"),
        ),
        (
            "v1 port +5",
            v1("PROXY TCP4 1.2.3.4 5.6.7.8 +5 2222\r\n"),
            INVALID.into(),
        ),
        (
            "v1 destination port 70000",
            v1("PROXY TCP4 1.2.3.4 5.6.7.8 1111 70000\r\n"),
            ok1("1.2.3.4:1111"),
        ),
        (
            "v1 a fifth field",
            v1("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 9\r\n"),
            INVALID.into(),
        ),
        (
            "v1 TCP4 line of 128 bytes",
            v1(&format!(
                "PROXY TCP4 1.2.3.4 5.6.7.8 1111 {}2\r\n",
                "0".repeat(90)
            )),
            ok1("1.2.3.4:1111"),
        ),
        (
            "v1 TCP4 LF without CR",
            v1("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\n"),
            TRUNCATED.into(),
        ),
        (
            "v1 TCP4 CR then x",
            v1("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\rx"),
            INVALID.into(),
        ),
        // v1 TCP6.
        (
            "v1 TCP6 port 70000",
            v1("PROXY TCP6 2001:db8::1 2001:db8::2 70000 2222\r\n"),
            ok1("2001:db8::1:4464"),
        ),
        (
            "v1 TCP6 a fifth field",
            v1("PROXY TCP6 2001:db8::1 2001:db8::2 1111 2222 9\r\n"),
            ok1("2001:db8::1:1111"),
        ),
        (
            "v1 TCP6 line of 123 bytes",
            v1(&format!(
                "PROXY TCP6 2001:db8::1 2001:db8::2 1111 {}2\r\n",
                "0".repeat(80)
            )),
            ok1("2001:db8::1:1111"),
        ),
        (
            "v1 TCP6 120 bytes, no CRLF",
            v1(&format!(
                "PROXY TCP6 2001:db8::1 2001:db8::2 1111 {}",
                "0".repeat(80)
            )),
            TRUNCATED.into(),
        ),
        (
            "v1 TCP6 source port 11x1",
            v1("PROXY TCP6 ::1 ::2 11x1 2222\r\n"),
            INVALID.into(),
        ),
        (
            "v1 TCP6 destination port 22x",
            v1("PROXY TCP6 ::1 ::2 1111 22x\r\n"),
            INVALID.into(),
        ),
        ("v1 UNKNOWNX", v1("PROXY UNKNOWNX\r\n"), BAD_PROTO.into()),
    ]
}

/// Every case against `program`: the outcomes in order.
fn run_cases(program: &str) -> Vec<String> {
    let be = closing_backend();
    let port = free_port();
    let p = Proxy::start_program(
        program,
        &config(port, be.port, "accept-proxy", ""),
        &[port],
        &["-db"],
    );
    cases()
        .iter()
        .map(|(_, bytes, _)| send_case(&p, port, bytes))
        .collect()
}

#[test]
fn receive_validation_matches_haproxy_26() {
    let got = run_cases(&test_bin());
    let reference = reference().map(run_cases);
    let mut report = Vec::new();
    for (i, (name, _, want)) in cases().iter().enumerate() {
        if let Some(r) = &reference {
            assert_eq!(&r[i], want, "{name}: this table disagrees with {HAPROXY}");
        }
        if &got[i] != want {
            report.push(format!("  {name}: got {:?}, HAProxy 2.6: {want:?}", got[i]));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} cases unlike HAProxy 2.6:\n{}",
        report.len(),
        got.len(),
        report.join("\n")
    );
}

// ---------------------------------------------------------- TLV fetches --

/// A header with every TLV kept: ALPN, AUTHORITY, a right CRC32C,
/// UNIQUE_ID, SSL with its sub-TLVs, NETNS, and a custom 0xE0.
fn full_header() -> Vec<u8> {
    let ssl = [
        &[0x07, 0, 0, 0, 0][..],
        &tlv(0x21, b"TLSv1.3"),
        &tlv(0x22, b"client.example"),
        &tlv(0x23, b"TLS_AES_128_GCM_SHA256"),
        &tlv(0x24, b"RSA-SHA256"),
        &tlv(0x25, b"RSA2048"),
    ]
    .concat();
    let before = [
        tlv(0x01, b"h2"),
        tlv(0x02, b"www.example.com"),
        tlv(0x05, b"req-42"),
    ]
    .concat();
    let after = [tlv(0x20, &ssl), tlv(0x30, b"blue"), tlv(0xE0, b"custom")].concat();
    with_crc(&before, &after, true)
}

/// The 2.6 fetches see the TLVs in logs and in rules, in both proxies; a
/// connection without a header has none.
#[test]
fn pp_fetches_in_logs_and_rules_as_haproxy() {
    let run = |program: &str| -> Vec<String> {
        let be = closing_backend();
        let port = free_port();
        let extra = "    tcp-request content reject if { fc_pp_unique_id -m str deny-me }\n";
        let p = Proxy::start_program(
            program,
            &config(port, be.port, "accept-proxy", extra),
            &[port],
            &["-db"],
        );
        let deny = v2(0x21, 0x11, &[&a4()[..], &tlv(0x05, b"deny-me")].concat());
        let before = be.accepted();
        let out = vec![
            send_case(&p, port, &full_header()),
            send_case(&p, port, &deny),
            send_case(&p, port, b"PROXY UNKNOWN\r\n"),
        ];
        std::thread::sleep(Duration::from_millis(100));
        // The denied one never reached the server.
        assert_eq!(be.accepted() - before, 2, "{program}:\n{}", p.stdout());
        out
    };
    let want = vec![
        ok4("www.example.com", "req-42"),
        ok4("-", "deny-me"),
        "LOG 127.0.0.1:* rcvd=1 auth=- uid=-".to_string(),
    ];
    if let Some(h) = reference() {
        assert_eq!(run(h), want, "{HAPROXY}");
    }
    assert_eq!(run(&test_bin()), want);
}

/// `fc_pp_tlv` (HAProxy 2.9's, so haproxy-rs only): any TLV by number or
/// name, the SSL one whole.
#[test]
fn fc_pp_tlv_returns_each_tlv() {
    let be = closing_backend();
    let port = free_port();
    let lf = "TLV alpn=%[fc_pp_tlv(ALPN)] auth=%[fc_pp_tlv(0x02)] uid=%[fc_pp_tlv(5)] netns=%[fc_pp_tlv(NETNS)] \
              custom=%[fc_pp_tlv(0xE0)] crc=%[fc_pp_tlv(CRC32C),hex] ssl=%[fc_pp_tlv(32),length] none=%[fc_pp_tlv(0x99)]";
    let cfg = config(port, be.port, "accept-proxy", "").replace(LF, lf);
    let p = Proxy::start_under_test(&cfg, &[port]);
    let h = full_header();
    let crc = &h[16 + 12 + 5 + 18 + 9 + 3..][..4];
    let seen = p.stdout().lines().count();
    let mut c = common::connect_with_timeouts(port, Duration::from_secs(5));
    c.write_all(&h).expect("write");
    let _ = c.read(&mut [0u8; 16]);
    // The server closed: closing the client too ends the session now, not
    // at `timeout client` (3 s, as long as the wait below).
    drop(c);
    let lines = new_lines(&p, seen, Duration::from_secs(3));
    let want = format!(
        "TLV alpn=h2 auth=www.example.com uid=req-42 netns=blue custom=custom crc={} ssl={} none=-",
        crc.iter().map(|b| format!("{b:02X}")).collect::<String>(),
        5 + 10 + 17 + 25 + 13 + 10
    );
    assert_eq!(
        lines.first(),
        Some(&want),
        "stdout:\n{}\nstderr:\n{}",
        p.stdout(),
        p.stderr()
    );
}

#[test]
fn fc_pp_tlv_refuses_a_bad_id() {
    let port = free_port();
    let cfg = config(port, 1, "accept-proxy", "").replace(LF, "%[fc_pp_tlv(SSL_CN)]");
    let dir = common::TempDir::new("ppv2");
    let path = dir.write("bad.cfg", &cfg);
    let (code, out, err) =
        common::run_program(&test_bin(), &["-c", "-f", path.to_str().unwrap_or("")], &[]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("invalid TLV ID 'SSL_CN'"), "{err}");
}

// ------------------------------------------------------------ expect-proxy --

/// `tcp-request connection expect-proxy layer4 if <cond>`: the header is
/// read only where the condition holds, as in HAProxy 2.6.
#[test]
fn expect_proxy_layer4_only_where_the_condition_holds() {
    let run = |program: &str| -> Vec<String> {
        let be = closing_backend();
        let (p1, p2) = (free_port(), free_port());
        let extra = format!(
            "    bind 127.0.0.1:{p2}\n    tcp-request connection expect-proxy layer4 if {{ dst_port {p1} }}\n"
        );
        let cfg = config(p1, be.port, "", &extra);
        let p = Proxy::start_program(program, &cfg, &[p1, p2], &["-db"]);
        let hdr = v2(
            0x21,
            0x11,
            &[&a4()[..], &tlv(0x02, b"example.org")].concat(),
        );
        vec![
            send_case(&p, p1, &hdr),
            // Without the rule the bytes are data, sent to the server.
            send_case(&p, p2, b"hello"),
        ]
    };
    let want = vec![
        ok4("example.org", "-"),
        "LOG 127.0.0.1:* rcvd=0 auth=- uid=-".to_string(),
    ];
    if let Some(h) = reference() {
        assert_eq!(run(h), want, "{HAPROXY}");
    }
    assert_eq!(run(&test_bin()), want);
}
