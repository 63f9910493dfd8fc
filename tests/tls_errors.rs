//! TLS failures end to end: handshake errors and their log lines
//! (legacy and `error-log-format`), the TLS log formats (`option
//! httpslog`, `~` after `%ft`, `%sslv`/`%sslc`), configuration errors, and
//! bad input (garbage, truncated hellos, renegotiation, 10,000 failed
//! handshakes), each checked against HAProxy 2.6 run side by side where it
//! is installed. Tools are shared with `tests/tls.rs`.

mod common;
#[path = "common/tls.rs"]
mod tls_common;

use common::{Backend, HAPROXY, Proxy, TempDir, bin, free_port, have_haproxy, payload};
use openssl::ssl::SslVersion;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};
use tls_common::*;

// ----------------------------------------------- 8. handshake errors --

/// The ports of the error-log configuration.
struct ErrPorts {
    h: u16,
    t: u16,
    hd: u16,
    n: u16,
    named: u16,
    plain: u16,
}

/// Frontends `h` (http, httplog), `t` (tcp, tcplog), `hd` (http, httplog,
/// dontlognull), `n` (http, no log format), `named` (bind named tls-in),
/// `plain` (no TLS, httplog: the end marker); timeout client 1 s.
fn err_config(e: &ErrPorts, origin: u16) -> String {
    let fe = |name: &str, mode: &str, opts: &str, bind: String| {
        format!("frontend {name}\n  mode {mode}\n{opts}{bind}  default_backend be_{mode}\n\n")
    };
    let body = [
        fe("h", "http", "  option httplog\n", ssl_bind(e.h, "")),
        fe("t", "tcp", "  option tcplog\n", ssl_bind(e.t, "")),
        fe(
            "hd",
            "http",
            "  option httplog\n  option dontlognull\n",
            ssl_bind(e.hd, ""),
        ),
        fe("n", "http", "", ssl_bind(e.n, "")),
        fe(
            "named",
            "http",
            "  option httplog\n",
            ssl_bind(e.named, "name tls-in"),
        ),
        fe(
            "plain",
            "http",
            "  option httplog\n",
            format!("  bind 127.0.0.1:{}\n", e.plain),
        ),
        format!(
            "backend be_http\n  mode http\n  server s1 127.0.0.1:{origin}\n\n\
             backend be_tcp\n  mode tcp\n  server s1 127.0.0.1:{origin}\n"
        ),
    ]
    .concat();
    cfg("1s", &body)
}

/// Plays the client behaviours of the 2.6 reference table against `e`;
/// returns the sorted handshake-error lines (prefix checked then removed)
/// and what the clients saw.
fn play_error_cases(p: &Proxy, e: &ErrPorts) -> (Vec<String>, Vec<String>) {
    let ch = client_hello();
    let mut seen = Vec::new();
    // Stalls first, in threads: each waits for the proxy's timeout.
    let stall = |port: u16, send: Vec<u8>| {
        std::thread::spawn(move || {
            let mut c = tcp(port, Duration::from_secs(4));
            c.write_all(&send).expect("send");
            let t0 = Instant::now();
            let mut b = [0u8; 4096];
            let mut n = 0;
            while let Ok(k) = c.read(&mut b) {
                if k == 0 {
                    break;
                }
                n += k;
            }
            (t0.elapsed(), n)
        })
    };
    let stalls = vec![
        ("h nothing", stall(e.h, vec![])),
        ("h 40 bytes", stall(e.h, ch[..40].to_vec())),
        ("hd nothing", stall(e.hd, vec![])),
    ];
    // Plain HTTP: closed at once, nothing sent back (no alert, no 400).
    for port in [e.h, e.t, e.hd, e.n, e.named] {
        let mut c = tcp(port, Duration::from_secs(3));
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        let t0 = Instant::now();
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        seen.push(format!(
            "plain http: {} bytes back, closed fast: {}",
            got.len(),
            t0.elapsed() < Duration::from_millis(900)
        ));
    }
    // Connect then FIN, at once and after 0.2 s.
    for (port, wait) in [(e.h, 0), (e.h, 200), (e.t, 0), (e.hd, 0)] {
        let c = tcp(port, Duration::from_secs(3));
        std::thread::sleep(Duration::from_millis(wait));
        drop(c);
    }
    // Connect then RST.
    for port in [e.h, e.hd] {
        let c = tcp(port, Duration::from_secs(3));
        common::set_linger0(&c);
        std::thread::sleep(Duration::from_millis(20));
        drop(c);
    }
    // 40 bytes of ClientHello then FIN (reading to the proxy's close) / RST.
    let mut c = tcp(e.h, Duration::from_secs(3));
    c.write_all(&ch[..40]).expect("send");
    c.shutdown(Shutdown::Write).expect("shutdown");
    let _ = c.read_to_end(&mut Vec::new());
    let mut c = tcp(e.h, Duration::from_secs(3));
    c.write_all(&ch[..40]).expect("send");
    std::thread::sleep(Duration::from_millis(20));
    common::set_linger0(&c);
    drop(c);
    // The whole ClientHello, then close after 0.3 s without reading.
    let mut c = tcp(e.h, Duration::from_secs(3));
    c.write_all(&ch).expect("send");
    std::thread::sleep(Duration::from_millis(300));
    drop(c);
    for (what, t) in stalls {
        let (elapsed, n) = t.join().expect("stall thread");
        seen.push(format!(
            "stall {what}: {n} bytes, closed after timeout client: {}",
            elapsed > Duration::from_millis(800) && elapsed < Duration::from_millis(2500)
        ));
    }
    // End marker: a plain request, logged after everything above.
    let mut m = tcp(e.plain, Duration::from_secs(3));
    m.write_all(b"GET /marker HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("marker");
    let _ = m.read_to_end(&mut Vec::new());
    expect_line(p, "of the marker", |l| l.contains("/marker"));
    std::thread::sleep(Duration::from_millis(200));
    let mut lines: Vec<String> = p
        .stdout()
        .lines()
        .filter(|l| !l.contains("/marker"))
        .map(|l| match split_prefix(l) {
            Some((_, rest)) => rest.to_string(),
            None => format!("BAD PREFIX: {l}"),
        })
        .collect();
    lines.sort();
    (lines, seen)
}

#[test]
fn handshake_errors_are_logged_like_haproxy() {
    let origin = echo_origin();
    let run = move |program: String, origin: u16| {
        let e = ErrPorts {
            h: free_port(),
            t: free_port(),
            hd: free_port(),
            n: free_port(),
            named: free_port(),
            plain: free_port(),
        };
        let ports = [e.h, e.t, e.hd, e.n, e.named, e.plain];
        let p = Proxy::start_program(&program, &err_config(&e, origin), &ports, &["-db"]);
        play_error_cases(&p, &e)
    };
    let o = origin.port;
    let reference = have_haproxy().then(|| std::thread::spawn(move || run(HAPROXY.into(), o)));
    let (rs_lines, rs_seen) = run(bin().into(), o);

    let mut want: Vec<String> = [
        "h/1: SSL handshake failure",                  // plain HTTP
        "t/1: SSL handshake failure",                  // plain HTTP
        "hd/1: SSL handshake failure",                 // plain HTTP, dontlognull
        "named/tls-in: SSL handshake failure",         // plain HTTP, bind name
        "h/1: Connection closed during SSL handshake", // FIN
        "h/1: Connection closed during SSL handshake", // FIN after 0.2 s
        "t/1: Connection closed during SSL handshake", // FIN
        "h/1: SSL handshake failure",                  // RST
        "hd/1: SSL handshake failure",                 // RST, dontlognull
        "h/1: Connection closed during SSL handshake", // 40 bytes + FIN
        "h/1: SSL handshake failure",                  // 40 bytes + RST
        "h/1: SSL handshake failure",                  // ClientHello + close
        "h/1: Timeout during SSL handshake",           // nothing sent
        "h/1: Timeout during SSL handshake",           // 40 bytes then stall
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.sort();
    let want_seen = [
        "plain http: 0 bytes back, closed fast: true",
        "plain http: 0 bytes back, closed fast: true",
        "plain http: 0 bytes back, closed fast: true",
        "plain http: 0 bytes back, closed fast: true",
        "plain http: 0 bytes back, closed fast: true",
        "stall h nothing: 0 bytes, closed after timeout client: true",
        "stall h 40 bytes: 0 bytes, closed after timeout client: true",
        "stall hd nothing: 0 bytes, closed after timeout client: true",
    ];
    assert_eq!(rs_seen, want_seen, "what the clients saw (haproxy-rs)");
    assert_eq!(rs_lines, want, "haproxy-rs log lines");
    if let Some(t) = reference {
        let (h_lines, h_seen) = t.join().expect("reference run");
        assert_eq!(h_seen, want_seen, "what the clients saw (HAProxy 2.6)");
        assert_eq!(h_lines, want, "HAProxy 2.6 log lines (the expectation)");
    }
}

/// `error-log-format`: the line of a failed handshake, and of a TLS client
/// that closed before any request, with the connection-error fetches.
#[test]
fn error_log_format_lines_like_haproxy() {
    let c = certs();
    let run = move |program: String| {
        let port = free_port();
        let body = format!(
            "frontend fe_elf\n  mode http\n  option httplog\n  \
             error-log-format \"ELF ft=%ft b=%b s=%s ST=%ST fc_err=%[fc_err] \
             fc_err_str=[%[fc_err_str]] ssl_fc_err=%[ssl_fc_err,hex] \
             ssl_fc_err_str=[%[ssl_fc_err_str]] c_err=%[ssl_c_err] ca_err=%[ssl_c_ca_err] \
             sni=[%[ssl_fc_sni]] sslv=%sslv sslc=%sslc\"\n{}  \
             http-request return status 200\n",
            ssl_bind(
                port,
                &format!("verify optional ca-file {}", c.path("ca.crt"))
            )
        );
        let p = Proxy::start_program(&program, &cfg("3s", &body), &[port], &["-db"]);
        let hold = Duration::from_millis(300);
        let (exp_crt, exp_key) = (c.path("expired.crt"), c.path("expired.key"));
        let _ = s_client(
            port,
            &["-tls1_2", "-cert", &exp_crt, "-key", &exp_key],
            b"",
            hold,
        );
        let _ = s_client(port, &["-tls1_1"], b"", hold);
        let _ = s_client(
            port,
            &["-servername", "www.example.test"],
            b"",
            Duration::ZERO,
        );
        let mut t = tcp(port, Duration::from_secs(2));
        let _ = t.write_all(b"GET / HTTP/1.0\r\n\r\n");
        let _ = t.read(&mut [0u8; 64]);
        drop(t);
        drop(tcp(port, Duration::from_secs(2)));
        let end = Instant::now() + Duration::from_secs(5);
        let mut lines: Vec<String>;
        loop {
            lines = p
                .stdout()
                .lines()
                .filter(|l| l.starts_with("ELF"))
                .map(String::from)
                .collect();
            if lines.len() >= 5 || Instant::now() > end {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        lines.sort();
        lines
    };
    let reference = have_haproxy().then(|| std::thread::spawn(move || run(HAPROXY.into())));
    let got = run(bin().into());
    let mut want: Vec<String> = [
        "ELF ft=fe_elf~ b=fe_elf s=<NOSRV> ST=0 fc_err=31 fc_err_str=[SSL client certificate not trusted] ssl_fc_err=000000000A000086 ssl_fc_err_str=[error:0A000086:SSL routines::certificate verify failed] c_err=10 ca_err=0 sni=[-] sslv=TLSv1.2 sslc=(NONE)",
        "ELF ft=fe_elf~ b=fe_elf s=<NOSRV> ST=0 fc_err=34 fc_err_str=[SSL handshake failure] ssl_fc_err=000000000A000102 ssl_fc_err_str=[error:0A000102:SSL routines::unsupported protocol] c_err=0 ca_err=0 sni=[-] sslv=TLSv1.1 sslc=(NONE)",
        "ELF ft=fe_elf~ b=fe_elf s=<NOSRV> ST=400 fc_err=0 fc_err_str=[Success] ssl_fc_err=0000000000000000 ssl_fc_err_str=[-] c_err=0 ca_err=0 sni=[www.example.test] sslv=TLSv1.3 sslc=TLS_AES_256_GCM_SHA384",
        "ELF ft=fe_elf~ b=fe_elf s=<NOSRV> ST=0 fc_err=34 fc_err_str=[SSL handshake failure] ssl_fc_err=000000000A00009C ssl_fc_err_str=[error:0A00009C:SSL routines::http request] c_err=0 ca_err=0 sni=[-] sslv=TLSv1.3 sslc=(NONE)",
        "ELF ft=fe_elf~ b=fe_elf s=<NOSRV> ST=0 fc_err=24 fc_err_str=[Connection closed during SSL handshake] ssl_fc_err=0000000000000000 ssl_fc_err_str=[-] c_err=0 ca_err=0 sni=[-] sslv=TLSv1.3 sslc=(NONE)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.sort();
    assert_eq!(got, want, "haproxy-rs error-log-format lines");
    if let Some(t) = reference {
        assert_eq!(
            t.join().expect("reference run"),
            want,
            "HAProxy 2.6 (the expectation)"
        );
    }
}

// -------------------------------------------------------------- 9. logs --

/// Replaces the timers (`a/b/c/d/e` or `a/b/c`) and the connection
/// counters (`a/b/c/d/e`) of an httplog/tcplog-shaped rest of line by
/// `T` and `C`.
fn norm_counters(rest: &str) -> String {
    rest.split(' ')
        .enumerate()
        .map(|(i, f)| {
            let nums = f.split('/').all(|x| {
                !x.is_empty()
                    && x.trim_start_matches(['-', '+'])
                        .bytes()
                        .all(|b| b.is_ascii_digit())
            });
            let parts = f.split('/').count();
            if i >= 2 && nums && parts >= 3 && !f.starts_with("0/00") {
                if parts == 5 && i > 4 {
                    "C".to_string()
                } else {
                    "T".to_string()
                }
            } else {
                f.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn httpslog_tilde_sslv_sslc_and_tcplog_lines_like_haproxy() {
    let origin = echo_origin();
    let echo = Backend::echo();
    let run = |program: &str| -> Vec<String> {
        let (phs, phl, ptl, pcu, ppl) = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        );
        let body = format!(
            "frontend hs\n  mode http\n  option httpslog\n{}  default_backend be\n\n\
             frontend hl\n  mode http\n  option httplog\n{}  default_backend be\n\n\
             frontend tl\n  mode tcp\n  option tcplog\n{}  default_backend be_tcp\n\n\
             frontend cu\n  mode http\n  log-format \"cu ft=%ft f=%f sslv=%sslv sslc=%sslc fc=%[ssl_fc] proto=%[ssl_fc_protocol] sni=%[ssl_fc_sni] cipher=%[ssl_fc_cipher]\"\n{}  default_backend be\n\n\
             frontend pl\n  mode http\n  option httplog\n  bind 127.0.0.1:{ppl}\n  default_backend be\n\n\
             backend be\n  mode http\n  server s1 127.0.0.1:{}\n\n\
             backend be_tcp\n  mode tcp\n  server s1 127.0.0.1:{}\n",
            ssl_bind(phs, ""),
            ssl_bind(phl, ""),
            ssl_bind(ptl, ""),
            ssl_bind(pcu, ""),
            origin.port,
            echo.port
        );
        let p = Proxy::start_program(
            program,
            &cfg("5s", &body),
            &[phs, phl, ptl, pcu, ppl],
            &["-db"],
        );
        let www = Tls::sni("www.example.test");
        let mut out = Vec::new();
        for port in [phs, phl] {
            let (cport, r) = tls_try(port, &www.clone().version(SslVersion::TLS1_3));
            let mut s = r.expect("handshake");
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .expect("send");
            assert_eq!(
                read_resp(&mut s, &mut Vec::new()).expect("resp").status,
                200
            );
            out.push(norm_counters(&line_of(&p, cport)));
        }
        // httpslog over TLS 1.2 too.
        let (cport, r) = tls_try(phs, &www.clone().version(SslVersion::TLS1_2));
        let mut s = r.expect("handshake 1.2");
        s.write_all(b"GET /12 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send");
        assert_eq!(
            read_resp(&mut s, &mut Vec::new()).expect("resp").status,
            200
        );
        out.push(norm_counters(&line_of(&p, cport)));
        // tcplog: 5 bytes echoed.
        let (cport, r) = tls_try(ptl, &www);
        let mut s = r.expect("handshake tcp");
        s.write_all(b"hello").expect("send");
        let mut b = [0u8; 5];
        s.read_exact(&mut b).expect("echo");
        let _ = s.shutdown();
        drop(s);
        out.push(norm_counters(&line_of(&p, cport)));
        // custom format, TLS 1.2 and 1.3 (no SNI on the second).
        for o in [
            www.clone().version(SslVersion::TLS1_2),
            Tls::plain().version(SslVersion::TLS1_3),
        ] {
            let r = tls_get(pcu, &o, "/").expect("custom");
            assert_eq!(r.status, 200);
        }
        let mut cu: Vec<String> = Vec::new();
        let end = Instant::now() + Duration::from_secs(5);
        while cu.len() < 2 && Instant::now() < end {
            cu = p
                .stdout()
                .lines()
                .filter(|l| l.starts_with("cu "))
                .map(str::to_string)
                .collect();
            std::thread::sleep(Duration::from_millis(20));
        }
        cu.sort();
        out.extend(cu);
        // plain frontend: no tilde.
        let mut c = tcp(ppl, Duration::from_secs(5));
        let cport = c.local_addr().expect("addr").port();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send");
        let _ = c.read_to_end(&mut Vec::new());
        out.push(norm_counters(&line_of(&p, cport)));
        out
    };
    let rs = run(bin());
    let want = [
        "hs~ be/s1 T 200 64 - - ---- C 0/0 \"GET / HTTP/1.1\" 0/0000000000000000/0/0/0 www.example.test/TLSv1.3/TLS_AES_256_GCM_SHA384",
        "hl~ be/s1 T 200 64 - - ---- C 0/0 \"GET / HTTP/1.1\"",
        "hs~ be/s1 T 200 69 - - ---- C 0/0 \"GET /12 HTTP/1.1\" 0/0000000000000000/0/0/0 www.example.test/TLSv1.2/ECDHE-RSA-AES256-GCM-SHA384",
        "tl~ be_tcp/s1 T 5 -- C 0/0",
        "cu ft=cu~ f=cu sslv=TLSv1.2 sslc=ECDHE-RSA-AES256-GCM-SHA384 fc=1 proto=TLSv1.2 sni=www.example.test cipher=ECDHE-RSA-AES256-GCM-SHA384",
        "cu ft=cu~ f=cu sslv=TLSv1.3 sslc=TLS_AES_256_GCM_SHA384 fc=1 proto=TLSv1.3 sni=- cipher=TLS_AES_256_GCM_SHA384",
        "pl be/s1 T 200 64 - - ---- C 0/0 \"GET / HTTP/1.1\"",
    ];
    assert_eq!(rs, want, "haproxy-rs log lines (normalised)");
    if have_haproxy() {
        assert_eq!(
            run(HAPROXY),
            want,
            "HAProxy 2.6 log lines (the expectation)"
        );
    }
}

// ------------------------------------------------ 11. config errors --

#[test]
fn tls_config_errors_print_haproxy_alerts_and_exit_1() {
    let c = certs();
    let dir = TempDir::new("tlscfg");
    let port = free_port();
    let list = dir.write(
        "list_badkw.txt",
        &format!("{} [badkeyword] www.example.test\n", c.path("www.pem")),
    );
    let www = c.path("www.pem");
    let pre = "defaults\n    mode http\n    timeout connect 2s\n    timeout client 3s\n    timeout server 3s\n\n";
    let b = |opts: &str| format!("{pre}frontend fe\n    bind 127.0.0.1:{port} {opts}\n");
    // Expected lines, `@F@` standing for the config file's path.
    let bind = format!("'bind 127.0.0.1:{port}' in section 'frontend'");
    let post = |msg: &str, tail: &str, dup: bool| {
        let m = format!("Proxy 'fe': {msg} for bind '127.0.0.1:{port}' at [@F@:8]{tail}");
        let mut v = vec![format!("[ALERT]    (PID) : config : {m}")];
        if dup {
            v.push(m);
        }
        v
    };
    let parse = |msg: &str| {
        vec![
            format!("[ALERT]    (PID) : config : parsing [@F@:8] : {bind} : {msg}"),
            "[ALERT]    (PID) : config : Error(s) found in configuration file : @F@".to_string(),
        ]
    };
    let (missing, crt) = (c.path("nonexistent.pem"), c.path("www.crt"));
    let k48 = "A".repeat(64);
    let two_keys = dir.write("two.keys", &format!("{k48}\n{k48}\n"));
    let small_keys = dir.write("small.keys", "YWFh\nYmJi\nY2Nj\n");
    let bad_keys = dir.write("bad.keys", "abc\n");
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        ("no_crt", b("ssl"), post("no SSL certificate specified", " (use 'crt').", false)),
        (
            "keys_two",
            b(&format!("ssl crt {www} tls-ticket-keys {}", two_keys.display())),
            parse(&format!(
                "'{}' : please supply at least 3 keys in the tls-tickets-file",
                two_keys.display()
            )),
        ),
        (
            "keys_small",
            b(&format!("ssl crt {www} tls-ticket-keys {}", small_keys.display())),
            parse(&format!(
                "'{}' : wrong sized key on line 1",
                small_keys.display()
            )),
        ),
        (
            "keys_bad",
            b(&format!("ssl crt {www} tls-ticket-keys {}", bad_keys.display())),
            parse(&format!(
                "'{}' : unable to decode base64 key on line 1",
                bad_keys.display()
            )),
        ),
        (
            "keys_missing",
            b(&format!("ssl crt {www} tls-ticket-keys {missing}.keys")),
            parse(&format!("'{missing}.keys' : unable to load ssl tickets keys file")),
        ),
        (
            "crt_missing",
            b(&format!("ssl crt {missing}")),
            parse(&format!(
                "unable to stat SSL certificate from file '{missing}' : No such file or directory."
            )),
        ),
        (
            "crt_nokey",
            b(&format!("ssl crt {crt}")),
            parse(&format!("No Private Key found in '{crt}.key'.")),
        ),
        (
            "minver_tlsv9",
            b(&format!("ssl crt {www} ssl-min-ver TLSv9")),
            parse("'TLSv9' : unknown ssl/tls version"),
        ),
        (
            "crtlist_badkw",
            b(&format!("ssl crt-list {}", list.display())),
            parse(&format!(
                "'crt-list' : parsing [{}:1]: unknown ssl keyword badkeyword",
                list.display()
            )),
        ),
        (
            "ciphers_bad",
            b(&format!("ssl crt {www} ciphers NOTACIPHER")),
            post("unable to set SSL cipher list to 'NOTACIPHER'", ".", true),
        ),
        (
            "verify_noca",
            b(&format!("ssl crt {www} verify required")),
            post("verify is enabled but no CA file specified", ".", true),
        ),
        (
            "maxver_lt_min",
            b(&format!("ssl crt {www} ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2")),
            post("all SSL/TLS versions are disabled", ".", false),
        ),
        (
            "server_noverify",
            format!(
                "{pre}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\n\
                 backend be\n    server s1 127.0.0.1:{port} ssl\n"
            ),
            vec![
                "[ALERT]    (PID) : config : [@F@:12] : 'server be/s1' : verify is enabled by default \
                 but no CA file specified. If you're running on a LAN where you're certain to trust the \
                 server's certificate, please set an explicit 'verify none' statement on the 'server' \
                 line, or use 'ssl-server-verify none' in the global section to disable server-side \
                 verifications by default."
                    .to_string(),
            ],
        ),
    ];
    let norm = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| !l.starts_with("[NOTICE]") && !l.starts_with("[WARNING]") && !l.is_empty())
            .map(|l| match (l.find(" ("), l.find(") : ")) {
                (Some(a), Some(z)) if a < z && l[a + 2..z].bytes().all(|b| b.is_ascii_digit()) => {
                    format!("{} (PID){}", &l[..a], &l[z + 1..])
                }
                _ => l.to_string(),
            })
            .collect()
    };
    let mut failures = Vec::new();
    for (name, text, want) in &cases {
        let f = dir.write(&format!("{name}.cfg"), text);
        let fs = f.to_str().expect("utf-8");
        let mut want: Vec<String> = want.iter().map(|l| l.replace("@F@", fs)).collect();
        want.push("[ALERT]    (PID) : config : Fatal errors found in configuration.".into());
        let (code, _, err) = common::run_bin(&["-c", "-f", fs]);
        let got = norm(&err);
        if code != 1 || got != want {
            failures.push(format!(
                "{name}: exit {code}\n  got:  {got:#?}\n  want: {want:#?}"
            ));
        }
        if have_haproxy() {
            let (hcode, _, herr) = common::run_program(HAPROXY, &["-c", "-f", fs], &[]);
            let h = norm(&herr);
            if (hcode, &h) != (code, &got) {
                failures.push(format!(
                    "{name}: HAProxy exit {hcode}\n  HAProxy:    {h:#?}\n  haproxy-rs: {got:#?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// -------------------------------------------------- 12. robustness --

/// One failed handshake of kind `k % 4` on `port`: plain HTTP bytes,
/// connect then close, 40 bytes of ClientHello then FIN, the whole
/// ClientHello then close once the server's flight starts arriving.
fn fail_once(port: u16, k: usize, ch: &[u8]) {
    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    c.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let mut b = [0u8; 512];
    match k % 4 {
        0 => {
            let _ = c.write_all(b"GET / HTTP/1.0\r\n\r\n");
            let _ = c.read(&mut b);
        }
        1 => {}
        2 => {
            let _ = c.write_all(&ch[..40]);
            let _ = c.shutdown(Shutdown::Write);
            let _ = c.read(&mut b);
        }
        _ => {
            let _ = c.write_all(ch);
            let _ = c.read(&mut b);
        }
    }
}

/// `n` failed handshakes on `port` from 4 threads; returns when all are
/// done.
fn fail_many(port: u16, n: usize) {
    let ch = client_hello();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let ch = ch.clone();
            std::thread::spawn(move || {
                for i in (t..n).step_by(4) {
                    fail_once(port, i, &ch);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
}

#[test]
fn garbage_truncated_hello_renegotiation_and_many_failed_handshakes() {
    let origin = echo_origin();
    let (pf, pr) = (free_port(), free_port());
    let body = format!(
        "frontend fe_fast\n  mode http\n  option httplog\n  timeout client 1s\n{}  default_backend be\n\n\
         frontend fe\n  mode http\n  option httplog\n{}  default_backend be\n\n\
         backend be\n  mode http\n  server s1 127.0.0.1:{}\n",
        ssl_bind(pf, ""),
        ssl_bind(pr, ""),
        origin.port
    );
    let mut p = Proxy::start(&cfg("5s", &body), &[pf, pr]);
    let www = Tls::sni("www.example.test");

    // Garbage: closed at once, logged as a handshake failure.
    let mut c = tcp(pf, Duration::from_secs(3));
    let cport = c.local_addr().expect("addr").port();
    c.write_all(&payload(1024, 3)).expect("send");
    let t0 = Instant::now();
    let _ = c.read_to_end(&mut Vec::new());
    assert!(
        t0.elapsed() < Duration::from_millis(900),
        "garbage not refused at once"
    );
    assert_eq!(line_of(&p, cport), "fe_fast/1: SSL handshake failure");

    // A truncated ClientHello then nothing: closed at `timeout client`.
    let mut c = tcp(pf, Duration::from_secs(4));
    let cport = c.local_addr().expect("addr").port();
    c.write_all(&client_hello()[..100]).expect("send");
    let t0 = Instant::now();
    let _ = c.read_to_end(&mut Vec::new());
    let el = t0.elapsed();
    assert!(
        el > Duration::from_millis(800) && el < Duration::from_millis(2500),
        "closed after {el:?}"
    );
    assert_eq!(
        line_of(&p, cport),
        "fe_fast/1: Timeout during SSL handshake"
    );

    // Renegotiation asked by a TLS 1.2 client: no crash, and a keep-alive
    // connection opened before keeps working, as do new ones.
    let mut keep = tls_connect(pr, &www).expect("handshake");
    let mut kbuf = Vec::new();
    keep.write_all(b"GET /before HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    assert_eq!(
        read_resp(&mut keep, &mut kbuf).expect("resp").body,
        b"origin:/before"
    );
    if have("openssl", "version") {
        let (_, out) = s_client(
            pr,
            &["-tls1_2", "-servername", "www.example.test"],
            b"R\n",
            Duration::from_millis(800),
        );
        assert!(out.contains("RENEGOTIATING"), "{out}");
    }
    assert!(
        matches!(p.child.try_wait(), Ok(None)),
        "proxy died: {}",
        p.stderr()
    );
    keep.write_all(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    assert_eq!(
        read_resp(&mut keep, &mut kbuf).expect("resp").body,
        b"origin:/after"
    );
    drop(keep);
    assert_eq!(tls_get(pr, &www, "/new").expect("GET").body, b"origin:/new");

    // Many failed handshakes: memory stays flat, every one is logged, and
    // the proxy still serves. (10,000 runs in a few seconds here.)
    let logged = |p: &Proxy| p.stdout().matches("fe/1: ").count();
    fail_many(pr, 400);
    let end = Instant::now() + Duration::from_secs(10);
    while logged(&p) < 400 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let rss0 = rss_kib(p.pid());
    let t0 = Instant::now();
    const N: usize = 10_000;
    fail_many(pr, N);
    let end = Instant::now() + Duration::from_secs(15);
    while logged(&p) < 400 + N && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = t0.elapsed();
    let rss1 = rss_kib(p.pid());
    assert_eq!(logged(&p), 400 + N, "one error line per failed handshake");
    eprintln!("{N} failed handshakes in {took:?}; VmRSS {rss0} -> {rss1} KiB");
    assert!(
        rss1 < rss0 + 4096,
        "VmRSS grew from {rss0} to {rss1} KiB over {N} failed handshakes"
    );
    assert_eq!(
        tls_get(pr, &www, "/still").expect("GET").body,
        b"origin:/still"
    );
    assert!(matches!(p.child.try_wait(), Ok(None)), "proxy died");
}
