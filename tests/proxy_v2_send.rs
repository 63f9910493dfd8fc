//! PROXY protocol headers sent to servers, TLVs included, byte for byte as
//! HAProxy 2.6 sends them: `send-proxy-v2 proxy-v2-options ...` (ssl,
//! cert-cn, ssl-cipher, cert-sig, cert-key, authority, crc32c, unique-id),
//! `send-proxy-v2-ssl[-cn]`, the `no-` forms, `default-server`, the ALPN
//! TLV, and the header of health checks (`check-send-proxy`).
//!
//! Each case runs a client through a frontend whose server is a capture
//! listener that records the first bytes of each connection (the whole
//! header). What haproxy-rs sends is compared with the header HAProxy 2.6
//! sent in the same case, recorded in `tests/fixtures/proxy_v2/<case>.hex`
//! (see the README there), and with a live HAProxy 2.6 when it is
//! installed. Ports differ from run to run, so headers are compared in a
//! canonical form: addresses zeroed (after checking them against the
//! client's and the frontend's) and the CRC32C value zeroed (after checking
//! it). Everything else - TLV order, lengths, TLS version, cipher, CN,
//! algorithms, flags - must be equal.

mod common;
#[path = "common/pp_capture.rs"]
mod pp_capture;
#[path = "common/tls.rs"]
mod tls_common;

use common::{HAPROXY, Proxy, free_port, have_haproxy, test_bin};
use openssl::ssl::SslVersion;
use pp_capture::{SIG, canon, capture, fixture, hex};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tls_common::{Tls, certs, tls_connect};

const ALL: &str = "ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id";

/// How a case's frontend listens.
#[derive(Clone, Copy)]
enum Bind {
    Plain,
    Plain6,
    /// TLS with this certificate of the test set; `alpn`/`verify` too when
    /// `full`.
    Tls(&'static str, bool),
}

/// What the client does.
#[derive(Clone, Copy)]
enum Client {
    Tcp,
    Tcp6,
    Http,
    /// TLS `version` (1.2 or 1.3), SNI, ALPN offered, client certificate,
    /// HTTP request (else a line of data).
    Tls {
        v13: bool,
        sni: bool,
        alpn: Option<&'static str>,
        cert: bool,
        http: bool,
    },
    /// Its own PROXY v2 header first (192.0.2.1:1234 to the frontend),
    /// with this AUTHORITY TLV when Some; then a line of data, or an HTTP
    /// request when `http`.
    Pp {
        authority: Option<&'static [u8]>,
        http: bool,
    },
    /// Nothing: the capture gets health checks only.
    None,
}

struct Case {
    name: &'static str,
    bind: Bind,
    /// Extra frontend lines (`mode http`, `unique-id-format`).
    fe: &'static str,
    /// `default-server` options ("" for none).
    dflt: &'static str,
    /// `server` options; `PORT` is replaced by the capture port (checks
    /// with `port`: the traffic address then points elsewhere).
    srv: String,
    client: Client,
}

const EXPECT: &str = "tcp-request connection expect-proxy layer4";

const fn pp(authority: Option<&'static [u8]>, http: bool) -> Client {
    Client::Pp { authority, http }
}

const fn tls(v13: bool, sni: bool, alpn: Option<&'static str>, cert: bool) -> Client {
    Client::Tls {
        v13,
        sni,
        alpn,
        cert,
        http: false,
    }
}

/// The cases of `tests/fixtures/proxy_v2/capture.py`, in its order.
fn cases() -> Vec<Case> {
    let c = |name, bind, fe, dflt, srv: &str, client| Case {
        name,
        bind,
        fe,
        dflt,
        srv: srv.to_string(),
        client,
    };
    let all = format!("send-proxy-v2 proxy-v2-options {ALL}");
    let full = Bind::Tls("www.pem", true);
    let ec = Bind::Tls("www-ec.pem", false);
    let keys = "send-proxy-v2 proxy-v2-options cert-key,cert-sig,ssl-cipher";
    let uid = "unique-id-format fixed-%ci";
    let long = Box::leak(format!("unique-id-format {}", "x".repeat(200)).into_boxed_str());
    let http_tls = Client::Tls {
        v13: true,
        sni: true,
        alpn: None,
        cert: false,
        http: true,
    };
    vec![
        c(
            "plain_v2",
            Bind::Plain,
            "",
            "",
            "send-proxy-v2",
            Client::Tcp,
        ),
        c(
            "plain_v2_all",
            Bind::Plain,
            "unique-id-format fixed-%ci-%[str(abc)]",
            "",
            &all,
            Client::Tcp,
        ),
        c(
            "tls13_all",
            full,
            uid,
            "",
            &all,
            tls(true, true, Some("http/1.1"), false),
        ),
        c(
            "tls13_all_cert",
            full,
            uid,
            "",
            &all,
            tls(true, true, Some("http/1.1"), true),
        ),
        c(
            "tls12_all_cert",
            full,
            uid,
            "",
            &all,
            tls(false, true, Some("http/1.1"), true),
        ),
        c(
            "tls12_all",
            full,
            uid,
            "",
            &all,
            tls(false, false, None, false),
        ),
        c(
            "tls13_v2_ssl",
            full,
            "",
            "",
            "send-proxy-v2-ssl",
            tls(true, true, Some("http/1.1"), true),
        ),
        c(
            "tls13_v2_ssl_cn",
            full,
            "",
            "",
            "send-proxy-v2-ssl-cn",
            tls(true, true, Some("http/1.1"), true),
        ),
        c(
            "tls13_v2_ssl_cn_nocert",
            full,
            "",
            "",
            "send-proxy-v2-ssl-cn",
            tls(true, true, Some("http/1.1"), false),
        ),
        c(
            "tls13_alpn_only",
            full,
            "",
            "",
            "send-proxy-v2",
            tls(true, true, Some("h2"), false),
        ),
        c(
            "tls13_ec_key",
            ec,
            "",
            "",
            keys,
            tls(true, false, None, false),
        ),
        c(
            "tls12_ec_key",
            ec,
            "",
            "",
            keys,
            tls(false, false, None, false),
        ),
        c(
            "plain_crc_only",
            Bind::Plain,
            "",
            "",
            "send-proxy-v2 proxy-v2-options crc32c",
            Client::Tcp,
        ),
        c(
            "plain_uid_noformat",
            Bind::Plain,
            "",
            "",
            "send-proxy-v2 proxy-v2-options unique-id",
            Client::Tcp,
        ),
        c(
            "plain_uid_long",
            Bind::Plain,
            long,
            "",
            "send-proxy-v2 proxy-v2-options unique-id",
            Client::Tcp,
        ),
        c(
            "v1_and_v2",
            Bind::Plain,
            "",
            "",
            "send-proxy send-proxy-v2",
            Client::Tcp,
        ),
        c("v1_only", Bind::Plain, "", "", "send-proxy", Client::Tcp),
        c(
            "default_server_opts",
            Bind::Plain,
            "",
            "send-proxy-v2 proxy-v2-options crc32c,ssl",
            "",
            Client::Tcp,
        ),
        c(
            "no_send_proxy_v2",
            Bind::Plain,
            "",
            "send-proxy-v2 proxy-v2-options crc32c",
            "no-send-proxy-v2",
            Client::Tcp,
        ),
        c(
            "no_send_proxy_v2_ssl",
            Bind::Plain,
            "",
            "send-proxy-v2-ssl",
            "no-send-proxy-v2-ssl",
            Client::Tcp,
        ),
        c(
            "opts_without_v2",
            Bind::Plain,
            "",
            "",
            "proxy-v2-options crc32c,ssl",
            Client::Tcp,
        ),
        c(
            "http_tls_uid_auth",
            full,
            "mode http\n  unique-id-format req-%[req.hdr(host)]-%ci",
            "",
            "send-proxy-v2 proxy-v2-options unique-id,authority,crc32c,ssl,cert-cn",
            http_tls,
        ),
        c(
            "http_plain_auth",
            Bind::Plain,
            "mode http",
            "",
            "send-proxy-v2 proxy-v2-options authority,crc32c",
            Client::Http,
        ),
        c(
            "tls13_nosni_auth",
            full,
            "",
            "",
            "send-proxy-v2 proxy-v2-options authority",
            tls(true, false, None, false),
        ),
        // A received AUTHORITY is passed on (an empty one too).
        c(
            "pp_authority_fwd",
            Bind::Plain,
            EXPECT,
            "",
            "send-proxy-v2 proxy-v2-options authority",
            pp(Some(b"fwd.example.test"), false),
        ),
        c(
            "pp_authority_empty",
            Bind::Plain,
            EXPECT,
            "",
            "send-proxy-v2 proxy-v2-options authority,crc32c",
            pp(Some(b""), false),
        ),
        c(
            "pp_no_authority",
            Bind::Plain,
            EXPECT,
            "",
            "send-proxy-v2 proxy-v2-options authority",
            pp(None, false),
        ),
        c(
            "http_pp_authority",
            Bind::Plain,
            "mode http\n  tcp-request connection expect-proxy layer4",
            "",
            "send-proxy-v2 proxy-v2-options authority,crc32c",
            pp(Some(b"fwd.example.test"), true),
        ),
        c(
            "plain6_crc",
            Bind::Plain6,
            "",
            "",
            "send-proxy-v2 proxy-v2-options crc32c",
            Client::Tcp6,
        ),
        c(
            "check_v2_opts",
            Bind::Plain,
            "",
            "",
            &format!("{all} check inter 300"),
            Client::None,
        ),
        c(
            "check_v1",
            Bind::Plain,
            "",
            "",
            "send-proxy check inter 300",
            Client::None,
        ),
        c(
            "check_v2_port_nohdr",
            Bind::Plain,
            "",
            "",
            "send-proxy-v2 check inter 300 port PORT",
            Client::None,
        ),
        c(
            "check_v2_port_csp",
            Bind::Plain,
            "",
            "",
            "send-proxy-v2 proxy-v2-options crc32c check inter 300 port PORT check-send-proxy",
            Client::None,
        ),
        c(
            "check_csp_alone",
            Bind::Plain,
            "",
            "",
            "check inter 300 check-send-proxy",
            Client::None,
        ),
        c(
            "check_v2_ssl_cn",
            Bind::Plain,
            "",
            "",
            "send-proxy-v2-ssl-cn check inter 300",
            Client::None,
        ),
    ]
}

// --------------------------------------------------------------- config --

fn config(cases: &[Case], fports: &[u16], cports: &[u16]) -> String {
    let certs = certs();
    let mut cfg = String::from(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 3s\n  timeout server 3s\n  timeout check 1s\n",
    );
    for (i, c) in cases.iter().enumerate() {
        let (f, cap) = (fports[i], cports[i]);
        let bind = match c.bind {
            Bind::Plain => format!("127.0.0.1:{f}"),
            Bind::Plain6 => format!("[::1]:{f}"),
            Bind::Tls(crt, full) => {
                let mut b = format!("127.0.0.1:{f} ssl crt {}", certs.path(crt));
                if full {
                    b += &format!(
                        " alpn h2,http/1.1 verify optional ca-file {}",
                        certs.path("ca.crt")
                    );
                }
                b
            }
        };
        cfg += &format!("listen {}\n  bind {bind}\n", c.name);
        if !c.fe.is_empty() {
            cfg += &format!("  {}\n", c.fe);
        }
        if !c.dflt.is_empty() {
            cfg += &format!("  default-server {}\n", c.dflt);
        }
        // Checks on `port`: the traffic address is a closed port.
        let (addr, srv) = if c.srv.contains("port PORT") {
            (free_port(), c.srv.replace("PORT", &cap.to_string()))
        } else {
            (cap, c.srv.clone())
        };
        cfg += &format!("  server s 127.0.0.1:{addr} {srv}\n");
    }
    cfg
}

// --------------------------------------------------------------- client --

/// Runs the case's client; returns its own address (the header's source).
fn run_client(c: &Case, port: u16) -> Option<SocketAddr> {
    let t = Duration::from_secs(3);
    let drain = |s: &mut dyn Read| {
        let mut b = [0u8; 4096];
        while matches!(s.read(&mut b), Ok(n) if n > 0) {}
    };
    match c.client {
        Client::None => None,
        Client::Tcp | Client::Tcp6 | Client::Http => {
            let host = if matches!(c.client, Client::Tcp6) {
                "[::1]"
            } else {
                "127.0.0.1"
            };
            let mut s = TcpStream::connect(format!("{host}:{port}")).expect("connect");
            s.set_read_timeout(Some(t)).ok();
            let me = s.local_addr().ok();
            let req: &[u8] = if matches!(c.client, Client::Http) {
                b"GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
            } else {
                b"hello\n"
            };
            s.write_all(req).expect("send");
            drain(&mut s);
            me
        }
        Client::Pp { authority, http } => {
            let mut s = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
            s.set_read_timeout(Some(t)).ok();
            let tlvs = authority.map_or(Vec::new(), |a| {
                let mut v = vec![0x02];
                v.extend_from_slice(&(a.len() as u16).to_be_bytes());
                v.extend_from_slice(a);
                v
            });
            let mut h = SIG.to_vec();
            h.extend_from_slice(&[0x21, 0x11]);
            h.extend_from_slice(&(12 + tlvs.len() as u16).to_be_bytes());
            h.extend_from_slice(&[192, 0, 2, 1, 127, 0, 0, 1]);
            h.extend_from_slice(&1234u16.to_be_bytes());
            h.extend_from_slice(&port.to_be_bytes());
            h.extend_from_slice(&tlvs);
            h.extend_from_slice(if http {
                b"GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
            } else {
                b"hello\n"
            });
            s.write_all(&h).expect("send");
            drain(&mut s);
            // The header the server gets carries the declared addresses.
            Some(SocketAddr::from(([192, 0, 2, 1], 1234)))
        }
        Client::Tls {
            v13,
            sni,
            alpn,
            cert,
            http,
        } => {
            let mut o = if sni {
                Tls::sni("www.example.test")
            } else {
                Tls::plain()
            }
            .no_verify()
            .version(if v13 {
                SslVersion::TLS1_3
            } else {
                SslVersion::TLS1_2
            });
            if let Some(a) = alpn {
                o = o.alpn(&[a]);
            }
            if cert {
                o = o.cert("client.pem");
            }
            let mut s = tls_connect(port, &o).unwrap_or_else(|e| panic!("{}: TLS: {e}", c.name));
            let me = s.get_ref().local_addr().ok();
            let req: &[u8] = if http {
                b"GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
            } else {
                b"hello\n"
            };
            s.write_all(req).expect("send");
            drain(&mut s);
            me
        }
    }
}

/// Runs every case through `program`; returns each case's first header in
/// canonical form ("" for none).
fn run(program: &str) -> Vec<Vec<u8>> {
    let cases = cases();
    let (cports, rx) = capture(cases.len());
    let fports: Vec<u16> = cases.iter().map(|_| free_port()).collect();
    let cfg = config(&cases, &fports, &cports);
    let _p = Proxy::start_program(program, &cfg, &fports, &["-db"]);
    let mut first: Vec<Option<Vec<u8>>> = vec![None; cases.len()];
    let mut srcs: Vec<Option<SocketAddr>> = vec![None; cases.len()];
    // Takes what arrived within `wait` (checks keep arriving: bounded by
    // time, not by silence).
    let take = |first: &mut Vec<Option<Vec<u8>>>, wait: Duration| {
        let end = Instant::now() + wait;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            let Ok((i, h)) = rx.recv_timeout(left) else {
                break;
            };
            if first[i].is_none() {
                first[i] = Some(h);
            }
        }
    };
    for (i, c) in cases.iter().enumerate() {
        srcs[i] = run_client(c, fports[i]);
        take(&mut first, Duration::from_millis(1));
    }
    // Checks run every 300 ms: wait for each checked capture's first one
    // (the check without header may close before the capture sees it).
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end
        && cases
            .iter()
            .zip(&first)
            .any(|(c, f)| f.is_none() && !c.name.ends_with("nohdr"))
    {
        take(&mut first, Duration::from_millis(50));
    }
    take(&mut first, Duration::from_millis(400));
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let what = format!("{program}: {}", c.name);
            let h = first[i].clone().unwrap_or_else(|| {
                assert!(c.name.ends_with("nohdr"), "{what}: no connection");
                Vec::new()
            });
            let dst = if matches!(c.client, Client::None) {
                Some(cports[i])
            } else {
                Some(fports[i])
            };
            // A v2 check is LOCAL: no address to check.
            canon(&what, &h, srcs[i], dst)
        })
        .collect()
}

/// Every case: haproxy-rs sends what HAProxy 2.6 sent (the recorded
/// fixtures), and what a live HAProxy 2.6 sends when installed.
#[test]
fn sent_headers_and_tlvs_are_byte_exact_with_haproxy() {
    let cases = cases();
    let ours = run(&test_bin());
    let mut bad = Vec::new();
    for (c, got) in cases.iter().zip(&ours) {
        let want = canon(c.name, &fixture(c.name), None, None);
        if *got != want {
            bad.push(format!(
                "{}:\n  haproxy-rs {}\n  fixture    {}",
                c.name,
                hex(got),
                hex(&want)
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "differs from HAProxy 2.6's recorded headers:\n{}",
        bad.join("\n")
    );
    if !have_haproxy() {
        return;
    }
    let theirs = run(HAPROXY);
    for ((c, got), want) in cases.iter().zip(&ours).zip(&theirs) {
        if got != want {
            bad.push(format!(
                "{}:\n  haproxy-rs {}\n  haproxy    {}",
                c.name,
                hex(got),
                hex(want)
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "differs from live HAProxy 2.6:\n{}",
        bad.join("\n")
    );
}

/// `proxy-v2-options` with an unknown option is refused with HAProxy's
/// message, the whole list with it.
#[test]
fn unknown_proxy_v2_option_is_refused_like_haproxy() {
    let dir = common::TempDir::new("ppv2opt");
    for (opts, bad) in [("ssl,foo", "'foo'"), ("crc32c,", "''")] {
        let cfg = dir.write(
            "h.cfg",
            &format!(
                "defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
                 listen a\n  bind 127.0.0.1:{}\n  server s 127.0.0.1:1 send-proxy-v2 proxy-v2-options {opts}\n",
                free_port()
            ),
        );
        let want = format!("'server a/s' : {bad} : proxy v2 option not implemented.");
        let cfg = cfg.to_string_lossy().into_owned();
        let mut programs = vec![test_bin()];
        if have_haproxy() {
            programs.push(HAPROXY.to_string());
        }
        for p in programs {
            let (code, out, err) = common::run_program(&p, &["-c", "-f", &cfg], &[]);
            assert_ne!(code, 0, "{p} {opts}: accepted");
            assert!(
                format!("{out}{err}").contains(&want),
                "{p} {opts}: expected {want:?} in {out}{err}"
            );
        }
    }
    // Every keyword of the family parses, on default-server too.
    let cfg = dir.write(
        "ok.cfg",
        &format!(
            "defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
             listen a\n  bind 127.0.0.1:{}\n  default-server send-proxy-v2-ssl-cn proxy-v2-options {ALL}\n\
             \x20 server s 127.0.0.1:1 no-send-proxy-v2-ssl-cn no-send-proxy-v2-ssl no-send-proxy-v2 \
             send-proxy-v2-ssl check-send-proxy\n",
            free_port()
        ),
    );
    let (code, out, err) =
        common::run_program(&test_bin(), &["-c", "-f", &cfg.to_string_lossy()], &[]);
    assert_eq!(code, 0, "{out}{err}");
}

/// `pp2-never-send-local`: a v2 health check sends a PROXY command with
/// its own addresses where it would send LOCAL (its TLVs as before; no
/// AUTHORITY, a check has no client), as 2.6 does.
#[test]
fn pp2_never_send_local_makes_checks_send_their_addresses() {
    let want = canon("fixture", &fixture("check_v2_never_local"), None, None);
    let mut programs = vec![test_bin()];
    if have_haproxy() {
        programs.push(HAPROXY.to_string());
    }
    for p in programs {
        let (cports, rx) = capture(1);
        let f = free_port();
        let cfg = format!(
            "global\n  pp2-never-send-local\ndefaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  \
             timeout server 1s\n  timeout check 1s\nlisten x\n  bind 127.0.0.1:{f}\n  server s 127.0.0.1:{} \
             send-proxy-v2 proxy-v2-options crc32c,authority check inter 300\n",
            cports[0]
        );
        let _p = Proxy::start_program(&p, &cfg, &[f], &["-db"]);
        let (_, h) = rx
            .recv_timeout(Duration::from_secs(3))
            .unwrap_or_else(|_| panic!("{p}: no check reached the server"));
        assert!(h.len() >= 28, "{p}: header {}", hex(&h));
        assert_eq!(h[12], 0x21, "{p}: a PROXY command, not LOCAL: {}", hex(&h));
        assert_eq!(h[16..20], [127, 0, 0, 1], "{p}: the check's own source");
        assert_eq!(h[26..28], cports[0].to_be_bytes(), "{p}: the server's port");
        assert_eq!(hex(&canon(&p, &h, None, None)), hex(&want), "{p}");
    }
}
