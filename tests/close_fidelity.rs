//! Close fidelity: what a client (or server) sees when the other side of
//! the proxy fails, counted per termination state over many connections,
//! against HAProxy 2.6 (the reference) and haproxy-rs with the same config.
//!
//! - `SD` / `SC` (TCP) and `SH` (HTTP): a server that resets each
//!   connection as soon as it is accepted, while the client keeps sending
//!   (input the proxy has not read yet when it closes). HAProxy sends
//!   `shutdown(SHUT_WR)` before its close, so the client reads a clean end
//!   of stream (the kernel's RST for the unread input comes after the FIN).
//! - `CD`: a client that resets after its request; HAProxy closes the
//!   server side with a reset too (`SI_FL_NOLINGER` when the request
//!   channel has a read error).
//!
//! Tolerance: HAProxy 2.6 itself showed no exception over the runs made
//! while writing this (0 RST of 2,000 for `SD`/`SC`, 0 FIN of 1,000 for
//! `CD`); haproxy-rs may differ from HAProxy's rate by at most 0.1% of the
//! connections of a case (2 of 2,000) so that one scheduling accident does
//! not fail the suite. Before the fix haproxy-rs gave ~5% RST in `SD`.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The two tests run one at a time: each loads the machine with 100
/// concurrent clients and timing is what they measure.
static SERIAL: Mutex<()> = Mutex::new(());

/// Concurrent clients.
const CONC: usize = 100;

/// How a connection ended, as seen by one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum End {
    Fin,
    Rst,
    Timeout,
    Other,
}

/// Reads until the end of the stream or an error; how it ended.
fn read_end(c: &mut TcpStream) -> End {
    let mut b = [0u8; 16384];
    loop {
        match c.read(&mut b) {
            Ok(0) => return End::Fin,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return End::Rst,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return End::Timeout;
            }
            Err(_) => return End::Other,
        }
    }
}

/// Runs `n` client connections, `CONC` at a time, through `port`; each
/// one runs `client` and returns (its local port, what it saw).
fn run_clients<F>(port: u16, n: usize, client: F) -> Vec<(u16, End)>
where
    F: Fn(TcpStream) -> End + Send + Sync + 'static,
{
    let left = Arc::new(AtomicUsize::new(n));
    let out = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let client = Arc::new(client);
    let workers: Vec<_> = (0..CONC)
        .map(|_| {
            let (left, out, client) = (left.clone(), out.clone(), client.clone());
            std::thread::spawn(move || {
                while left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |x| x.checked_sub(1))
                    .is_ok()
                {
                    let c = connect_with_timeouts(port, Duration::from_secs(5));
                    let lport = c.local_addr().map_or(0, |a| a.port());
                    let e = client(c);
                    out.lock().expect("results").push((lport, e));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("client worker");
    }
    Arc::try_unwrap(out)
        .map(|m| m.into_inner().expect("results"))
        .unwrap_or_default()
}

/// A client that sends a request and keeps sending (256 KiB, from a
/// second thread) while it reads to the end: input the proxy has not read
/// yet when the server's reset makes it close.
fn blasting_client(mut c: TcpStream) -> End {
    let _ = c.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    let mut w = c.try_clone().expect("clone");
    let writer = std::thread::spawn(move || {
        let chunk = [b'x'; 16384];
        for _ in 0..16 {
            if w.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let e = read_end(&mut c);
    // The proxy is gone: the writer fails at once if it still writes.
    let _ = writer.join();
    e
}

/// A client that sends a request, waits for it to reach the server, then
/// resets (`CD`).
fn aborting_client(mut c: TcpStream) -> End {
    let _ = c.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    std::thread::sleep(Duration::from_millis(100));
    set_linger0(&c);
    drop(c);
    End::Other
}

/// The termination state (2 chars) of each logged connection, by client
/// port: tcplog (`%ts`, 7th field) or httplog (`%tsc`, 10th field).
fn term_codes(stdout: &str) -> BTreeMap<u16, String> {
    stdout
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let port = f.first()?.rsplit_once(':')?.1.parse().ok()?;
            let ts = if f.len() == 9 { f.get(6)? } else { f.get(9)? };
            Some((port, ts.get(..2)?.to_string()))
        })
        .collect()
}

/// Counts per (termination state, what the client saw).
type Counts = BTreeMap<(String, End), usize>;

fn count(results: &[(u16, End)], terms: &BTreeMap<u16, String>) -> Counts {
    let mut c = Counts::new();
    for (p, e) in results {
        let t = terms.get(p).cloned().unwrap_or_else(|| "??".into());
        *c.entry((t, *e)).or_default() += 1;
    }
    c
}

/// One proxy's config: `mode`, one frontend on `fport` to one server.
fn config(mode: &str, fport: u16, sport: u16) -> String {
    let log = if mode == "http" { "httplog" } else { "tcplog" };
    format!(
        "global\n    maxconn 4000\n    log stdout format raw local0\n\n\
         defaults\n    mode {mode}\n    log global\n    option {log}\n\
         \x20   timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\n\
         frontend fe\n    bind 127.0.0.1:{fport}\n    default_backend be\n\n\
         backend be\n    server s1 127.0.0.1:{sport}\n"
    )
}

/// Runs `n` clients through `program` in `mode` in front of `sport`;
/// returns the counts per termination state and what the client saw.
fn run_proxy<F>(program: &str, mode: &str, sport: u16, n: usize, client: F) -> Counts
where
    F: Fn(TcpStream) -> End + Send + Sync + 'static,
{
    let fport = free_port();
    let px = Proxy::start_program(program, &config(mode, fport, sport), &[fport], &["-db"]);
    let res = run_clients(fport, n, client);
    let mut terms = BTreeMap::new();
    for _ in 0..100 {
        terms = term_codes(&px.stdout());
        if terms.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let c = count(&res, &terms);
    // A few connections (0.1%, HAProxy as haproxy-rs) may have no log
    // line when the harness looks; they are left out of the comparison.
    let unlogged: usize = c
        .iter()
        .filter(|((t, _), _)| t == "??")
        .map(|(_, k)| k)
        .sum();
    assert!(
        unlogged <= n / 200,
        "{program} {mode}: {unlogged} of {n} not logged: {c:?}"
    );
    c.into_iter().filter(|((t, _), _)| t != "??").collect()
}

/// A server that resets every connection as soon as it accepts it.
fn resetting_backend() -> Backend {
    Backend::start(|c| {
        set_linger0(&c);
        drop(c);
    })
}

/// Sums of `what` per termination state.
fn per_term(c: &Counts, what: End) -> BTreeMap<String, (usize, usize)> {
    let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((t, e), n) in c {
        let x = m.entry(t.clone()).or_default();
        x.1 += n;
        if *e == what {
            x.0 += n;
        }
    }
    m
}

/// For each termination state haproxy-rs logged, its rate of `what`
/// (what the client or server saw) is HAProxy's rate for the same state
/// (0 if HAProxy never logged it) within 0.1% of `n`.
fn assert_same_close(rs: &Counts, hap: Option<&Counts>, what: End, n: usize, case: &str) {
    eprintln!("{case}: haproxy-rs {rs:?}");
    if let Some(h) = hap {
        eprintln!("{case}: haproxy 2.6 {h:?}");
    }
    let slack = n as f64 / 1000.0;
    let hap_rate = |t: &str| -> f64 {
        hap.map(|h| per_term(h, what))
            .and_then(|m| m.get(t).copied())
            .map_or(0.0, |(k, tot)| k as f64 / tot as f64)
    };
    for (t, (k, tot)) in per_term(rs, what) {
        let want = hap_rate(&t) * tot as f64;
        assert!(
            (k as f64 - want).abs() <= slack,
            "{case}, termination {t}: haproxy-rs {what:?} {k} of {tot}, HAProxy rate gives {want:.1}\n\
             haproxy-rs {rs:?}\nhaproxy {hap:?}"
        );
    }
}

#[test]
fn server_reset_ends_clients_with_a_fin_as_haproxy_does_tcp_and_http() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let be = resetting_backend();
    for (mode, n) in [("tcp", 2000), ("http", 1000)] {
        let rs = run_proxy(bin(), mode, be.port, n, blasting_client);
        let hap = have_haproxy().then(|| run_proxy(HAPROXY, mode, be.port, n, blasting_client));
        // Every client ended on a FIN or a reset, none waited.
        for c in std::iter::once(&rs).chain(hap.as_ref()) {
            assert!(
                c.iter().all(|((_, e), _)| matches!(e, End::Fin | End::Rst)),
                "{mode}: a client neither saw FIN nor RST: {c:?}"
            );
        }
        assert_same_close(&rs, hap.as_ref(), End::Rst, n, mode);
        // The common case is the reference's: SD in TCP, SH in HTTP.
        let main = if mode == "tcp" { "SD" } else { "SH" };
        let fins = per_term(&rs, End::Fin).get(main).map_or(0, |x| x.0);
        assert!(fins > n / 2, "{mode}: {main} FINs {fins} of {n}: {rs:?}");
    }
}

/// Connections counted in `c`.
fn got_total(c: &Counts) -> usize {
    c.values().sum()
}

#[test]
fn client_reset_resets_the_server_as_haproxy_does_cd() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const N: usize = 1000;
    // The server reads each connection to its end and records how it ended.
    let seen: Arc<Mutex<Vec<End>>> = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let be = Backend::start(move |mut c| {
        c.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let e = read_end(&mut c);
        s2.lock().expect("seen").push(e);
    });
    let run = |program: &str| -> Counts {
        seen.lock().expect("seen").clear();
        let logged = run_proxy(program, "tcp", be.port, N, aborting_client);
        let mut got = Vec::new();
        for _ in 0..100 {
            got = seen.lock().expect("seen").clone();
            if got.len() >= N {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            got.len() >= N - N / 200,
            "{program}: {} of {N} connections reached the server",
            got.len()
        );
        assert_eq!(
            logged.keys().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
            ["CD"],
            "{program}: all logged CD: {logged:?}"
        );
        // The server's view, under the client's termination state.
        let mut c = Counts::new();
        for e in got {
            *c.entry(("CD".into(), e)).or_default() += 1;
        }
        c
    };
    let rs = run(bin());
    let hap = have_haproxy().then(|| run(HAPROXY));
    assert_same_close(&rs, hap.as_ref(), End::Rst, N, "CD (server's view)");
    let rst = per_term(&rs, End::Rst).get("CD").map_or(0, |x| x.0);
    assert!(
        rst + 2 >= got_total(&rs),
        "CD: the server saw {rst} resets: {rs:?}"
    );
}
