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
//! - TLS (`tls_closes_send_close_notify_as_haproxy_does`): every clean
//!   close of an established TLS client connection sends close_notify
//!   before the FIN, aborts (`SD`, `sD`, 502, 504) as normal ends.
//! - Buffered data (`server_data_read_before_a_reset_reaches_the_client_as_haproxy_does`):
//!   what was read from a server before its reset is delivered, then FIN.
//! - Idle closes (`idle_closes_end_as_haproxy_does`): a keep-alive client
//!   gets a FIN; a server connection closed before its server closed is
//!   reset (HAProxy's `FD_LINGER_RISK`), with close_notify first on TLS.
//!
//! Tolerance: HAProxy 2.6 itself showed no exception over the runs made
//! while writing this (0 RST of 2,000 for `SD`/`SC`, 0 FIN of 1,000 for
//! `CD`); haproxy-rs may differ from HAProxy's rate by at most 0.1% of the
//! connections of a case (2 of 2,000) so that one scheduling accident does
//! not fail the suite. Before the fix haproxy-rs gave ~5% RST in `SD`.

mod common;
#[path = "common/tls.rs"]
mod tls_common;

use common::*;
use openssl::ssl::{ErrorCode, SslAcceptor, SslFiletype, SslMethod, SslStream};
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
    for _ in 0..250 {
        terms = term_codes(&px.stdout());
        if terms.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let c = count(&res, &terms);
    // A few connections (up to 1%, HAProxy as haproxy-rs, on a loaded
    // machine) may have no log line when the harness looks; they are left
    // out of the comparison.
    let unlogged: usize = c
        .iter()
        .filter(|((t, _), _)| t == "??")
        .map(|(_, k)| k)
        .sum();
    assert!(
        unlogged <= n / 100,
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

// ------------------------------------------------- TLS, data, idle closes --

/// Reads a TLS stream to its end: the plaintext bytes and how it ended,
/// `close_notify+Fin`, `close_notify+Rst` (then the TCP end) or, with no
/// close_notify, `Fin` / `Rst`.
fn tls_read_end(s: &mut SslStream<TcpStream>) -> (usize, String) {
    let mut b = [0u8; 16384];
    let mut n = 0;
    loop {
        match s.ssl_read(&mut b) {
            Ok(0) => return (n, "Fin".into()),
            Ok(k) => n += k,
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                return (n, format!("close_notify+{:?}", read_end(s.get_mut())));
            }
            Err(e) => {
                let end = match e.io_error().map(|io| io.kind()) {
                    Some(ErrorKind::ConnectionReset) => "Rst".into(),
                    Some(ErrorKind::WouldBlock | ErrorKind::TimedOut) => "Timeout".into(),
                    // EOF without close_notify (OpenSSL 3 says "unexpected eof").
                    None if e.to_string().contains("unexpected eof")
                        || e.code() == ErrorCode::SYSCALL =>
                    {
                        "Fin".into()
                    }
                    _ => format!("{e}"),
                };
                return (n, end);
            }
        }
    }
}

/// A TLS client (no verification) connected to `port`.
fn tls_client(port: u16) -> SslStream<TcpStream> {
    tls_common::tls_connect(port, &tls_common::Tls::plain()).expect("TLS handshake")
}

/// How a server saw the proxy end its connection: `Fin`, `Fin+Rst` (a
/// reset after the FIN: the socket is closed 150 ms later), `Rst`.
fn server_end(c: &mut TcpStream) -> String {
    match read_end(c) {
        End::Fin => {
            std::thread::sleep(Duration::from_millis(150));
            let mut info = [0u8; 256];
            let mut len = info.len() as libc::socklen_t;
            // SAFETY: the buffer and its length are passed together; the
            // kernel writes at most `len` bytes.
            let r = unsafe {
                libc::getsockopt(
                    std::os::fd::AsRawFd::as_raw_fd(c),
                    libc::IPPROTO_TCP,
                    libc::TCP_INFO,
                    info.as_mut_ptr().cast(),
                    &mut len,
                )
            };
            // tcpi_state: TCP_CLOSE (7) after a reset, CLOSE_WAIT before.
            if r == 0 && info[0] == 7 {
                "Fin+Rst"
            } else {
                "Fin"
            }
            .into()
        }
        e => format!("{e:?}"),
    }
}

const OK_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/// An HTTP server answering one request (keep-alive), then recording in
/// `seen` how the proxy ended the connection (`tls`: over TLS).
fn recording_server(seen: Arc<Mutex<Vec<String>>>, tls: bool) -> Backend {
    let acceptor = tls.then(|| {
        let pem = tls_common::certs().path("www.pem");
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).expect("acceptor");
        b.set_certificate_chain_file(&pem).expect("cert");
        b.set_private_key_file(&pem, SslFiletype::PEM).expect("key");
        b.build()
    });
    Backend::start(move |mut c| {
        c.set_read_timeout(Some(Duration::from_secs(4))).ok();
        let end = match &acceptor {
            Some(a) => {
                let Ok(mut s) = a.accept(c) else { return };
                let mut b = [0u8; 4096];
                let _ = s.ssl_read(&mut b);
                let _ = s.ssl_write(OK_RESPONSE);
                tls_read_end(&mut s).1
            }
            None => {
                let mut b = [0u8; 4096];
                let _ = c.read(&mut b);
                let _ = c.write_all(OK_RESPONSE);
                server_end(&mut c)
            }
        };
        seen.lock().expect("seen").push(end);
    })
}

/// Waits (at most 4 s) until `seen` holds `n` entries; takes them.
fn take_seen(seen: &Mutex<Vec<String>>, n: usize) -> Vec<String> {
    for _ in 0..200 {
        if seen.lock().expect("seen").len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::mem::take(&mut *seen.lock().expect("seen"))
}

/// Sends `req` and reads the response until the connection ends (TLS when
/// `tls`), after `pause` (data left in the proxy meanwhile).
fn exchange(port: u16, tls: bool, req: &[u8], pause: Duration) -> (usize, String) {
    if tls {
        let mut s = tls_client(port);
        let _ = s.ssl_write(req);
        std::thread::sleep(pause);
        tls_read_end(&mut s)
    } else {
        let mut c = connect_with_timeouts(port, Duration::from_secs(5));
        let _ = c.write_all(req);
        std::thread::sleep(pause);
        let mut n = 0;
        let mut b = [0u8; 16384];
        loop {
            match c.read(&mut b) {
                Ok(0) => return (n, "Fin".into()),
                Ok(k) => n += k,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return (n, "Rst".into()),
                Err(e) => return (n, format!("{:?}", e.kind())),
            }
        }
    }
}

/// Runs `run` against haproxy-rs then HAProxy 2.6 (when installed) and
/// asserts the same outcome; returns haproxy-rs's.
fn same_outcome<T: PartialEq + std::fmt::Debug>(case: &str, run: impl Fn(&str) -> T) -> T {
    let rs = run(bin());
    eprintln!("{case}: haproxy-rs {rs:?}");
    if have_haproxy() {
        let hap = run(HAPROXY);
        eprintln!("{case}: haproxy 2.6 {hap:?}");
        assert_eq!(
            rs, hap,
            "{case}: haproxy-rs (left) and HAProxy 2.6 (right) differ"
        );
    }
    rs
}

const GET_KA: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const GET_CLOSE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/// A TLS close case: name, mode, frontend extra, server port, backend
/// extra, request.
type TlsCase<'a> = (&'a str, &'a str, &'a str, u16, &'a str, &'a [u8]);

#[test]
fn tls_closes_send_close_notify_as_haproxy_does() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let reset = Backend::start(|mut c| {
        let _ = c.read(&mut [0u8; 4096]);
        std::thread::sleep(Duration::from_millis(50));
        set_linger0(&c);
    });
    let hang = Backend::start(|mut c| {
        let _ = c.read(&mut [0u8; 4096]);
        std::thread::sleep(Duration::from_secs(2));
    });
    let tcp_ok = Backend::start(|mut c| {
        let _ = c.read(&mut [0u8; 4096]);
        let _ = c.write_all(b"hello");
    });
    let http_ok = recording_server(Arc::new(Mutex::new(Vec::new())), false);
    // 502 and 504 with `connection: close`: under keep-alive both proxies
    // keep the client after them, until its keep-alive timeout.
    let cases: [TlsCase; 7] = [
        (
            "tcp server reset (SD)",
            "tcp",
            "",
            reset.port,
            "",
            b"hello\n",
        ),
        (
            "http server reset (502)",
            "http",
            "",
            reset.port,
            "",
            GET_CLOSE,
        ),
        (
            "tcp server timeout (sD)",
            "tcp",
            "",
            hang.port,
            "timeout server 300ms",
            b"hello\n",
        ),
        (
            "http server timeout (504)",
            "http",
            "",
            hang.port,
            "timeout server 300ms",
            GET_CLOSE,
        ),
        ("tcp normal end", "tcp", "", tcp_ok.port, "", b"hello\n"),
        (
            "http end, connection: close",
            "http",
            "",
            http_ok.port,
            "",
            GET_CLOSE,
        ),
        (
            "http keep-alive timeout",
            "http",
            "timeout http-keep-alive 300ms",
            http_ok.port,
            "",
            GET_KA,
        ),
    ];
    let run = |program: &str| -> Vec<(usize, String)> {
        let ports: Vec<u16> = cases.iter().map(|_| free_port()).collect();
        let mut cfg = String::from(
            "global\n    maxconn 100\n\ndefaults\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n",
        );
        for (i, (_, mode, fe, sport, be, _)) in cases.iter().enumerate() {
            let (fport, crt) = (ports[i], tls_common::certs().path("www.pem"));
            cfg += &format!(
                "\nfrontend f{i}\n    mode {mode}\n    bind 127.0.0.1:{fport} ssl crt {crt}\n    {fe}\n    default_backend b{i}\n\
                 backend b{i}\n    mode {mode}\n    {be}\n    server s 127.0.0.1:{sport}\n"
            );
        }
        let _px = Proxy::start_program(program, &cfg, &ports, &["-db"]);
        let mut out = Vec::new();
        for (i, (.., req)) in cases.iter().enumerate() {
            for _ in 0..2 {
                out.push(exchange(ports[i], true, req, Duration::ZERO));
            }
        }
        out
    };
    let rs = same_outcome("TLS closes", run);
    // Every one of these closes is clean: close_notify, then the FIN.
    for ((name, ..), got) in cases.iter().zip(rs.chunks(2)) {
        for (_, end) in got {
            assert_eq!(end, "close_notify+Fin", "{name}: {got:?}");
        }
    }
}

/// A server that answers with `head`, `n` bytes of body and `tail`, waits
/// 100 ms and resets.
fn data_then_reset(head: &'static [u8], n: usize, tail: &'static [u8]) -> Backend {
    Backend::start(move |mut c| {
        let _ = c.read(&mut [0u8; 4096]);
        let _ = c.write_all(head);
        let _ = c.write_all(&vec![b'x'; n]);
        let _ = c.write_all(tail);
        std::thread::sleep(Duration::from_millis(100));
        set_linger0(&c);
    })
}

/// A data-then-reset case: name, mode, TLS or not, server port, request,
/// body bytes the server sends before its reset.
type DataCase<'a> = (&'a str, &'a str, bool, u16, &'a [u8], usize);

#[test]
fn server_data_read_before_a_reset_reaches_the_client_as_haproxy_does() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const N: usize = 100_000;
    let raw = data_then_reset(b"", N, b"");
    let cl = data_then_reset(b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n", N, b"");
    // One chunk, never ended; small: HAProxy re-chunks what it forwards
    // by buffer (its chunk sizes are not the server's), not compared here.
    let chunked = data_then_reset(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n",
        1000,
        b"\r\n",
    );
    let cases: [DataCase; 5] = [
        ("tcp", "tcp", false, raw.port, b"hello\n", N),
        ("tcp over TLS", "tcp", true, raw.port, b"hello\n", N),
        ("http content-length", "http", false, cl.port, GET_KA, N),
        (
            "http content-length over TLS",
            "http",
            true,
            cl.port,
            GET_KA,
            N,
        ),
        ("http chunked", "http", false, chunked.port, GET_KA, 1000),
    ];
    let run = |program: &str| -> Vec<(usize, String)> {
        let ports: Vec<u16> = cases.iter().map(|_| free_port()).collect();
        let mut cfg = String::from(
            "global\n    maxconn 100\n\ndefaults\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n",
        );
        for (i, (_, mode, tls, sport, ..)) in cases.iter().enumerate() {
            let ssl = if *tls {
                format!(" ssl crt {}", tls_common::certs().path("www.pem"))
            } else {
                String::new()
            };
            cfg += &format!(
                "\nlisten l{i}\n    mode {mode}\n    bind 127.0.0.1:{}{ssl}\n    server s 127.0.0.1:{sport}\n",
                ports[i]
            );
        }
        let _px = Proxy::start_program(program, &cfg, &ports, &["-db"]);
        let mut out = Vec::new();
        for (i, (_, _, tls, _, req, _)) in cases.iter().enumerate() {
            for _ in 0..2 {
                // The client reads late: the reset comes while the data
                // is still on its way, in the proxy or its sockets.
                out.push(exchange(ports[i], *tls, req, Duration::from_millis(300)));
            }
        }
        out
    };
    let rs = same_outcome("data then reset", run);
    // All of it arrived, then a clean end.
    for ((name, _, tls, .., sent), got) in cases.iter().zip(rs.chunks(2)) {
        for (n, end) in got {
            assert!(n >= sent, "{name}: {n} bytes of {sent}: {got:?}");
            assert_eq!(end, if *tls { "close_notify+Fin" } else { "Fin" }, "{name}");
        }
    }
}

#[test]
fn idle_closes_end_as_haproxy_does() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A fresh recording server per case: what each saw is its own.
    type Seen = Arc<Mutex<Vec<String>>>;
    let new_server = |tls: bool| -> (Backend, Seen, String) {
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let b = recording_server(seen.clone(), tls);
        let line = format!(
            "server s 127.0.0.1:{}{}",
            b.port,
            if tls { " ssl verify none" } else { "" }
        );
        (b, seen, line)
    };
    const DEFAULTS: &str = "global\n    maxconn 100\n\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n    default-server pool-purge-delay 300ms\n";
    // (name, frontend extra, backend extra); the first one is the client's
    // view (its server connection, pooled by HAProxy but closed with the
    // session by haproxy-rs, is not compared), the others the server's.
    let cases: [(&str, &str, &str); 3] = [
        ("keep-alive timeout", "timeout http-keep-alive 300ms", ""),
        ("http-server-close", "option http-server-close", ""),
        ("pool purge", "", "http-reuse always"),
    ];
    let get = |port: u16| {
        let mut c = connect_with_timeouts(port, Duration::from_secs(5));
        let _ = c.write_all(GET_KA);
        let _ = c.read(&mut [0u8; 4096]);
    };
    let run = |program: &str| -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for tls in [false, true] {
            let ports: Vec<u16> = cases.iter().map(|_| free_port()).collect();
            let servers: Vec<_> = cases.iter().map(|_| new_server(tls)).collect();
            let mut cfg = String::from(DEFAULTS);
            for (i, (_, fe, be)) in cases.iter().enumerate() {
                cfg += &format!(
                    "\nfrontend f{i}\n    bind 127.0.0.1:{}\n    {fe}\n    default_backend b{i}\n\
                     backend b{i}\n    {be}\n    {}\n",
                    ports[i], servers[i].2
                );
            }
            let _px = Proxy::start_program(program, &cfg, &ports, &["-db"]);
            let (_, end) = exchange(ports[0], false, GET_KA, Duration::ZERO);
            out.push((
                format!("client sees, keep-alive timeout, tls server {tls}"),
                vec![end],
            ));
            for (i, (name, ..)) in cases.iter().enumerate().skip(1) {
                get(ports[i]);
                out.push((
                    format!("server sees, {name}, tls {tls}"),
                    take_seen(&servers[i].1, 1),
                ));
            }
            // Soft stop: the idle pooled connection of a stopping proxy.
            let port = free_port();
            let (_b, seen, line) = new_server(tls);
            let cfg = format!(
                "{DEFAULTS}\nlisten l\n    bind 127.0.0.1:{port}\n    http-reuse always\n    {line}\n"
            );
            let px = Proxy::start_program(program, &cfg, &[port], &["-db"]);
            get(port);
            std::thread::sleep(Duration::from_millis(100));
            px.signal(libc::SIGUSR1);
            let mut got = take_seen(&seen, 1);
            if tls {
                // 2.6 leaves the idle TLS connection to its exit: no
                // close_notify, then FIN or RST (the kernel's choice, as
                // input is left unread or not): only the first is compared.
                got.iter_mut()
                    .for_each(|e| *e = format!("close_notify {}", e.starts_with("close_notify")));
            }
            out.push((format!("server sees, soft stop, tls {tls}"), got));
        }
        out
    };
    same_outcome("idle closes", run);
}
