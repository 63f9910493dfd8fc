//! Load-balancing algorithms: each server is a banner backend that answers
//! with its own name, so the client sees which server it got.
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs.

mod common;

use common::{Backend, Proxy, free_port, tcplog_config};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::TcpStream;
use std::os::fd::FromRawFd;
use std::time::Duration;

// ---------------------------------------------------------------- helpers --

/// A `listen` proxy on `port` with `balance <algo>` and the given server lines.
fn config(port: u16, algo: &str, servers: &str) -> String {
    tcplog_config(
        "    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n    \
         timeout queue 10s\n",
        &format!("listen lb\n    bind 127.0.0.1:{port}\n    balance {algo}\n{servers}"),
    )
}

fn connect(port: u16) -> TcpStream {
    let c = common::connect(port);
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    c
}

/// Reads a banner backend's name up to its FIN; the connection stays open
/// from the client side (the backend waits for our close).
fn read_name(c: &mut TcpStream) -> String {
    let mut v = Vec::new();
    c.read_to_end(&mut v).expect("read server name");
    String::from_utf8_lossy(&v).to_string()
}

/// One short connection: returns the name of the server that answered.
fn name_of(port: u16) -> String {
    let mut c = connect(port);
    read_name(&mut c)
}

/// A held connection and the server it landed on.
fn hold(port: u16) -> (TcpStream, String) {
    let mut c = connect(port);
    let n = read_name(&mut c);
    (c, n)
}

/// Closes a held connection and waits until the proxy logged it (its server
/// slot is then released).
fn release(p: &Proxy, c: TcpStream) {
    let before = p.tcp_logs().len();
    drop(c);
    let got = p.wait_tcp_logs(before + 1, Duration::from_secs(5)).len();
    assert!(
        got > before,
        "closed connection not logged; stdout:\n{}",
        p.stdout()
    );
}

/// Connects to 127.0.0.1:port from the local address 127.0.0.`last`.
fn connect_from(last: u8, port: u16) -> TcpStream {
    // SAFETY: plain socket calls on a fd we own; sockaddr_in is zeroed then
    // filled, and its size is passed along.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let s = TcpStream::from_raw_fd(fd);
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, last]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let r = libc::bind(
            fd,
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            len,
        );
        assert_eq!(
            r,
            0,
            "bind 127.0.0.{last}: {}",
            std::io::Error::last_os_error()
        );
        sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        sa.sin_port = port.to_be();
        let r = libc::connect(
            fd,
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            len,
        );
        assert_eq!(
            r,
            0,
            "connect from 127.0.0.{last}: {}",
            std::io::Error::last_os_error()
        );
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        s
    }
}

fn counts(names: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for n in names {
        *m.entry(n.clone()).or_insert(0) += 1;
    }
    m
}

fn server_line(name: &str, port: u16, extra: &str) -> String {
    format!("    server {name} 127.0.0.1:{port} {extra}\n")
}

/// One banner backend per `(name, server options)` and a proxy on `port`
/// balancing over them with `algo`; the backends come back in that order.
fn farm<const N: usize>(
    port: u16,
    algo: &str,
    specs: [(&'static str, &str); N],
) -> (Proxy, [Backend; N]) {
    let backends = specs.map(|(name, _)| Backend::banner(name));
    let servers: String = specs
        .iter()
        .zip(&backends)
        .map(|((name, opts), b)| server_line(name, b.port, opts))
        .collect();
    let p = Proxy::start_under_test(&config(port, algo, &servers), &[port]);
    (p, backends)
}

/// Checks weighted distribution for `roundrobin` / `static-rr`: weights
/// 1/2/3 (plus a weight-0 and a disabled server that must get nothing) over
/// 600 sequential connections give exactly 100/200/300, and every window of 6
/// consecutive connections (one full weight cycle) holds each server in
/// proportion 1/2/3 within one.
fn check_weighted(algo: &str) {
    let port = free_port();
    let (p, [_a, _b, _c, z, d]) = farm(
        port,
        algo,
        [
            ("a", "weight 1"),
            ("b", "weight 2"),
            ("c", "weight 3"),
            ("z", "weight 0"),
            ("d", "weight 5 disabled"),
        ],
    );
    let seq: Vec<String> = (0..600).map(|_| name_of(port)).collect();
    let m = counts(&seq);
    let want: BTreeMap<String, usize> = [
        ("a".to_string(), 100),
        ("b".to_string(), 200),
        ("c".to_string(), 300),
    ]
    .into();
    assert_eq!(m, want, "{algo}: connections per server over 600");
    for (i, w) in seq.windows(6).enumerate() {
        let wc = counts(w);
        for (name, weight) in [("a", 1usize), ("b", 2), ("c", 3)] {
            let n = wc.get(name).copied().unwrap_or(0);
            assert!(
                n.abs_diff(weight) <= 1,
                "{algo}: window at {i} not interleaved by weight: {w:?}"
            );
        }
    }
    let lines = p.wait_tcp_logs(600, Duration::from_secs(10));
    assert_eq!(lines.len(), 600);
    assert!(
        lines.iter().all(|l| l.term == "--"),
        "{algo}: all normal terminations"
    );
    assert_eq!(
        counts(&lines.iter().map(|l| l.srv.clone()).collect::<Vec<_>>()),
        want,
        "{algo}: logged servers"
    );
    assert_eq!(
        z.accepted() + d.accepted(),
        0,
        "weight 0 and disabled servers never get traffic"
    );
}

// ------------------------------------------------------------------ tests --

#[test]
fn roundrobin_weights_1_2_3_give_exact_proportions_over_600_connections() {
    check_weighted("roundrobin");
}

#[test]
fn static_rr_weights_1_2_3_give_exact_proportions_over_600_connections() {
    check_weighted("static-rr");
}

#[test]
fn leastconn_sends_new_connections_to_the_least_loaded_server() {
    let port = free_port();
    let (p, _backends) = farm(port, "leastconn", [("a", ""), ("b", ""), ("c", "")]);
    let mut held: Vec<(TcpStream, String)> = Vec::new();
    // Two rounds of three long-held connections: each round covers every server.
    for round in 0..2 {
        let r: Vec<(TcpStream, String)> = (0..3).map(|_| hold(port)).collect();
        let mut names: Vec<&str> = r.iter().map(|(_, n)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["a", "b", "c"],
            "round {round}: each server gets one connection"
        );
        held.extend(r);
    }
    // Free both connections of "b": loads are now a=2, b=0, c=2.
    let (on_b, rest): (Vec<_>, Vec<_>) = held.into_iter().partition(|(_, n)| n == "b");
    assert_eq!(on_b.len(), 2);
    for (s, _) in on_b {
        release(&p, s);
    }
    held = rest;
    let n1 = hold(port);
    let n2 = hold(port);
    assert_eq!(
        (n1.1.as_str(), n2.1.as_str()),
        ("b", "b"),
        "least loaded server b gets the next two"
    );
    held.push(n1);
    held.push(n2);
    // Free one of "c": c=1, others 2.
    let pos = held
        .iter()
        .position(|(_, n)| n == "c")
        .expect("a connection on c");
    let (s, _) = held.remove(pos);
    release(&p, s);
    let n3 = hold(port);
    assert_eq!(n3.1, "c", "least loaded server c gets the next one");
    held.push(n3);
    // All equal (2 each): the next three spread over the three servers.
    let mut next: Vec<String> = (0..3)
        .map(|_| hold(port))
        .map(|h| {
            let n = h.1.clone();
            held.push(h);
            n
        })
        .collect();
    next.sort_unstable();
    assert_eq!(next, ["a", "b", "c"], "equal loads: one each");
    drop(held);
}

#[test]
fn first_fills_servers_in_declaration_order_up_to_maxconn() {
    let port = free_port();
    // Declared out of alphabetical order on purpose: "first" follows ids
    // (declaration order), not names.
    let (p, _backends) = farm(
        port,
        "first",
        [("c", "maxconn 2"), ("a", "maxconn 2"), ("b", "maxconn 2")],
    );
    let mut held: Vec<(TcpStream, String)> = (0..6).map(|_| hold(port)).collect();
    let names: Vec<&str> = held.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        ["c", "c", "a", "a", "b", "b"],
        "servers filled in order up to maxconn"
    );
    // Free a slot on the first server: the next connection goes back to it.
    let pos = held.iter().position(|(_, n)| n == "c").expect("on c");
    let (s, _) = held.remove(pos);
    release(&p, s);
    let again = hold(port);
    assert_eq!(again.1, "c", "first server with a free slot is used again");
    held.push(again);
    // Free a slot on the second server only: the next goes there.
    let pos = held.iter().position(|(_, n)| n == "a").expect("on a");
    let (s, _) = held.remove(pos);
    release(&p, s);
    let again = hold(port);
    assert_eq!(again.1, "a");
    held.push(again);
    // Sequential short connections with free slots everywhere stay on the first.
    drop(held);
    let _ = p.wait_tcp_logs(8, Duration::from_secs(5));
    let seq: Vec<String> = (0..10).map(|_| name_of(port)).collect();
    assert!(
        seq.iter().all(|n| n == "c"),
        "idle farm: always the first server, got {seq:?}"
    );
}

#[test]
fn source_sends_the_same_client_ip_to_the_same_server() {
    let port = free_port();
    let (p, _backends) = farm(port, "source", [("a", ""), ("b", ""), ("c", "")]);
    let mut by_ip: HashMap<u8, String> = HashMap::new();
    for round in 0..3 {
        for last in 2u8..=25 {
            let mut s = connect_from(last, port);
            let name = read_name(&mut s);
            let first = by_ip.entry(last).or_insert_with(|| name.clone());
            assert_eq!(*first, name, "round {round}: 127.0.0.{last} changed server");
        }
    }
    let distinct: std::collections::BTreeSet<&String> = by_ip.values().collect();
    assert!(
        distinct.len() >= 2,
        "24 source addresses all hashed to one server: {by_ip:?}"
    );
    let lines = p.wait_tcp_logs(72, Duration::from_secs(5));
    assert_eq!(lines.len(), 72);
    for l in &lines {
        let last: u8 = l
            .cip
            .rsplit('.')
            .next()
            .and_then(|x| x.parse().ok())
            .expect("client ip in log");
        assert!(l.cip.starts_with("127.0.0."), "{}", l.raw);
        assert_eq!(
            by_ip.get(&last),
            Some(&l.srv),
            "log agrees with the client: {}",
            l.raw
        );
    }
}

#[test]
fn backup_server_unused_while_an_active_server_is_usable() {
    let port = free_port();
    let (_p, [_a, b, k1, k2]) = farm(
        port,
        "roundrobin",
        [
            ("a", ""),
            ("b", "disabled"),
            ("k1", "backup"),
            ("k2", "backup"),
        ],
    );
    let seq: Vec<String> = (0..20).map(|_| name_of(port)).collect();
    assert!(
        seq.iter().all(|n| n == "a"),
        "only the usable active server: {seq:?}"
    );
    assert_eq!(k1.accepted() + k2.accepted() + b.accepted(), 0);
}

#[test]
fn first_backup_server_takes_all_traffic_when_all_actives_are_disabled() {
    let port = free_port();
    let (p, [a, b, _k1, k2]) = farm(
        port,
        "roundrobin",
        [
            ("a", "disabled"),
            ("b", "disabled"),
            ("k1", "backup"),
            ("k2", "backup"),
        ],
    );
    let seq: Vec<String> = (0..20).map(|_| name_of(port)).collect();
    // Without "option allbackups" only the first backup is used.
    assert!(seq.iter().all(|n| n == "k1"), "first backup only: {seq:?}");
    assert_eq!(a.accepted() + b.accepted() + k2.accepted(), 0);
    let lines = p.wait_tcp_logs(20, Duration::from_secs(5));
    assert!(
        lines.iter().all(|l| l.srv == "k1" && l.term == "--"),
        "{lines:#?}"
    );
}
