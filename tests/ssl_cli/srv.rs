//! Server-side certificates and `crt <directory>` on the stats socket, as
//! HAProxy 2.6 handles them: a `server ... ssl crt` client certificate and
//! its CA/CRL files are listed and committed like a bind's (one `.` per
//! server instance), and the next connections to the server present the
//! committed certificate while a live one keeps its session; a directory
//! given to `crt` is a crt-list for `show|add|del ssl crt-list`.
//!
//! The TLS server of the backend is a frontend of the same process that
//! verifies client certificates and answers with the presented one's CN.

use super::common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

/// Two client certificates of the test CA (`clientAuth`), the CA/CRL
/// copies only some servers use, and a directory of two certificates.
fn gen_client_certs(d: &Path) {
    std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("ext");
    for (name, cn) in [("client1", "client1"), ("client2", "client2")] {
        super::sign(d, name, cn, &["-newkey", "rsa:2048"], "client.ext");
    }
    for (from, to) in [
        ("ca.crt", "ca3.crt"),
        ("ca.crl", "ca3.crl"),
        ("ca.crt", "ca4.crt"),
    ] {
        std::fs::copy(d.join(from), d.join(to)).expect("copy");
    }
    std::fs::create_dir_all(d.join("dir")).expect("dir");
    for f in ["www.pem", "wild.pem"] {
        std::fs::copy(d.join(f), d.join("dir").join(f)).expect("copy");
    }
}

/// s1 verifies with a CA and a CRL file and presents client1; s2 and s4
/// present it too (without verifying: their files are not linked); s3
/// verifies without a certificate (not an instance: its files neither).
fn config(d: &str, sock: &Path, p: [u16; 3]) -> String {
    format!(
        "global\n    stats socket {sock} level admin\n\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 3s\n    timeout server 3s\n\n\
         frontend fe_tls\n    bind 127.0.0.1:{p0} ssl crt {d}/www.pem verify required ca-file {d}/ca2.crt\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"cn=%[ssl_c_s_dn(cn)]\"\n\n\
         frontend fe_in\n    bind 127.0.0.1:{p1}\n    default_backend be\n\n\
         backend be\n\
         \x20   server s1 127.0.0.1:{p0} ssl crt {d}/client1.pem ca-file {d}/ca.crt crl-file {d}/ca.crl verify required sni str(www.example.test)\n\
         \x20   server s2 127.0.0.1:{p0} ssl crt {d}/client1.pem verify none disabled\n\
         \x20   server s3 127.0.0.1:{p0} ssl ca-file {d}/ca3.crt crl-file {d}/ca3.crl verify required disabled\n\
         \x20   server s4 127.0.0.1:{p0} ssl crt {d}/client1.pem ca-file {d}/ca4.crt verify none disabled\n\n\
         frontend fe_dir\n    bind 127.0.0.1:{p2} ssl crt {d}/dir/\n\
         \x20   http-request return status 200 content-type text/plain string \"dir\"\n",
        sock = sock.display(),
        p0 = p[0],
        p1 = p[1],
        p2 = p[2],
    )
}

/// One step of the script.
enum Step {
    /// A command, with the file whose text is its payload.
    Cli(&'static str, Option<&'static str>),
    /// A request on a new connection to `fe_in`: the CN s1 presented.
    Get,
    /// A request on the connection kept open since the first `Live`.
    Live,
    /// The subject `fe_dir` serves to a handshake asking this name.
    Sni(&'static str),
}

fn script() -> Vec<Step> {
    use Step::*;
    let c = |s: &'static str| Cli(s, None);
    let p = |s: &'static str, f: &'static str| Cli(s, Some(f));
    vec![
        c("show ssl cert"),
        c("show ssl cert D/client1.pem"),
        c("show ssl ca-file"),
        c("show ssl ca-file D/ca.crt"),
        c("show ssl ca-file D/ca3.crt"),
        c("show ssl ca-file D/ca4.crt"),
        c("show ssl crl-file"),
        c("show ssl crl-file D/ca.crl"),
        c("show ssl crl-file D/ca3.crl"),
        Get,
        Live,
        p("set ssl cert D/client1.pem", "client2.pem"),
        c("show ssl cert *D/client1.pem"),
        c("commit ssl cert D/client1.pem"),
        Get,
        Live,
        c("show ssl cert D/client1.pem"),
        p("set ssl ca-file D/ca.crt", "ca2.crt"),
        c("commit ssl ca-file D/ca.crt"),
        p("set ssl crl-file D/ca.crl", "ca.crl"),
        c("commit ssl crl-file D/ca.crl"),
        p("set ssl ca-file D/ca3.crt", "ca2.crt"),
        c("commit ssl ca-file D/ca3.crt"),
        p("set ssl ca-file D/ca4.crt", "ca2.crt"),
        c("commit ssl ca-file D/ca4.crt"),
        p("set ssl crl-file D/ca3.crl", "ca.crl"),
        c("commit ssl crl-file D/ca3.crl"),
        Get,
        c("del ssl cert D/client1.pem"),
        c("del ssl ca-file D/ca.crt"),
        c("del ssl crl-file D/ca.crl"),
        c("del ssl ca-file D/ca3.crt"),
        c("del ssl ca-file D/ca4.crt"),
        c("del ssl crl-file D/ca3.crl"),
        // crt <directory>
        c("show ssl crt-list"),
        c("show ssl crt-list D/dir"),
        c("show ssl crt-list -n D/dir/"),
        c("show ssl cert D/dir/www.pem"),
        c("new ssl cert D/n1.pem"),
        p("set ssl cert D/n1.pem", "self.pem"),
        c("commit ssl cert D/n1.pem"),
        c("add ssl crt-list D/dir D/n1.pem"),
        c("new ssl cert D/dir/n2.pem"),
        p("set ssl cert D/dir/n2.pem", "self.pem"),
        c("commit ssl cert D/dir/n2.pem"),
        p("add ssl crt-list D/dir", "dirline.txt"),
        c("add ssl crt-list D/dir/ D/dir/n2.pem"),
        c("add ssl crt-list D/dir D/dir/n2.pem"),
        c("show ssl crt-list -n D/dir"),
        Sni("selfsigned.test"),
        c("del ssl crt-list D/dir D/n1.pem"),
        c("del ssl crt-list D/dir D/dir/wild.pem"),
        c("del ssl crt-list D/dir D/dir/www.pem:0"),
        Sni("www.example.test"),
        c("del ssl crt-list D/dir D/dir/n2.pem:1"),
        c("del ssl crt-list D/dir D/dir/n2.pem"),
        Sni("selfsigned.test"),
        c("show ssl crt-list D/dir"),
        c("del ssl cert D/dir/www.pem"),
        c("show ssl cert"),
    ]
}

/// An HTTP/1.1 exchange on `s`: the response body (`Content-Length`).
fn exchange(s: &mut TcpStream, close: bool) -> String {
    let conn = if close { "close" } else { "keep-alive" };
    s.write_all(format!("GET / HTTP/1.1\r\nHost: x\r\nConnection: {conn}\r\n\r\n").as_bytes())
        .expect("send");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..100 {
        if let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..h]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= h + 4 + len {
                let status = head.lines().next().unwrap_or("").to_string();
                let body = String::from_utf8_lossy(&buf[h + 4..h + 4 + len]).into_owned();
                return format!("{status} {body}");
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    format!("incomplete: {}", String::from_utf8_lossy(&buf))
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s
}

/// Runs the script: (step, reply) pairs.
fn run(sock: &Path, d: &str, p: [u16; 3]) -> Vec<(String, String)> {
    let mut live: Option<TcpStream> = None;
    let path = |s: &str| s.replace("D/", &format!("{d}/"));
    script()
        .into_iter()
        .map(|st| match st {
            Step::Cli(cmd, pl) => {
                let cmd = path(cmd);
                let line = match pl {
                    Some(f) => {
                        let text = std::fs::read_to_string(format!("{d}/{f}")).expect("payload");
                        format!("{cmd} <<\n{text}")
                    }
                    None => cmd.clone(),
                };
                let out = cli(sock, &line);
                (cmd, out)
            }
            Step::Get => ("GET".into(), exchange(&mut connect(p[1]), true)),
            Step::Live => {
                let s = live.get_or_insert_with(|| connect(p[1]));
                ("LIVE".into(), exchange(s, false))
            }
            Step::Sni(n) => (
                format!("SNI {n}"),
                super::subject(p[2], &["-servername", n]),
            ),
        })
        .collect()
}

#[test]
fn server_certificates_and_directories_follow_haproxy_2_6() {
    let dir = super::make_dir();
    gen_client_certs(dir.path());
    let d = dir.path().display().to_string();
    dir.write("dirline.txt", &format!("{d}/dir/n2.pem [verify none]\n"));
    let ports = [free_port(), free_port(), free_port()];
    let sock = dir.path().join("srv.sock");
    let ours = {
        let px = Proxy::start(&config(&d, &sock, ports), &ports);
        super::normalise(run(&sock, &d, ports), &px)
    };
    let get = |what: &str, nth: usize| -> String {
        let what = what.replace("D/", &format!("{d}/"));
        ours.iter()
            .filter(|(c, _)| *c == what)
            .nth(nth)
            .map(|(_, o)| o.replace(&format!("{d}/"), "D/"))
            .unwrap_or_else(|| panic!("no reply to {what}"))
    };
    // The client certificate: listed, used, committed to s1, s2 and s4.
    assert_eq!(
        get("show ssl cert", 0),
        "# filename\nD/client1.pem\nD/dir/wild.pem\nD/dir/www.pem\nD/www.pem\n\n"
    );
    assert!(
        get("show ssl cert D/client1.pem", 0)
            .starts_with("Filename: D/client1.pem\nStatus: Used\n")
    );
    assert_eq!(
        get("commit ssl cert D/client1.pem", 0),
        "Committing D/client1.pem...\nSuccess!\n\n"
    );
    // New connections present the new certificate, the live one keeps its
    // session (and the certificate it was made with).
    assert_eq!(get("GET", 0), "http/1.1 200 ok cn=client1");
    assert_eq!(get("GET", 1), "http/1.1 200 ok cn=client2");
    assert_eq!(get("GET", 2), "http/1.1 200 ok cn=client2");
    assert_eq!(get("LIVE", 0), "http/1.1 200 ok cn=client1");
    assert_eq!(get("LIVE", 1), "http/1.1 200 ok cn=client1");
    // Only s1 (a certificate, and verify) is linked to its CA/CRL files.
    assert!(get("show ssl ca-file D/ca3.crt", 0).contains("Status: Unused\n"));
    assert!(get("show ssl ca-file D/ca.crt", 0).contains("Status: Used\n"));
    assert_eq!(
        get("commit ssl ca-file D/ca.crt", 0),
        "Committing D/ca.crt.\nSuccess!\n\n"
    );
    assert_eq!(
        get("commit ssl ca-file D/ca4.crt", 0),
        "Committing D/ca4.crt\nSuccess!\n\n"
    );
    // The directory.
    assert_eq!(get("show ssl crt-list", 0), "D/dir\n\n");
    assert_eq!(
        get("show ssl crt-list -n D/dir/", 0),
        "# D/dir\nD/dir/wild.pem:0\nD/dir/www.pem:0\n\n"
    );
    assert_eq!(
        get("add ssl crt-list D/dir D/n1.pem", 0),
        "Can't edit the crt-list: 'D/dir' is a directory, certificate path 'D/n1.pem' must contain the directory path\n\n"
    );
    assert_eq!(
        get("add ssl crt-list D/dir", 0),
        "Can't edit the crt-list: this is a directory, SSL configuration and filters are not allowed\n\n"
    );
    assert_eq!(
        get("add ssl crt-list D/dir D/dir/n2.pem", 0),
        "Can't edit the crt-list: file already exists in this directory!\n\n"
    );
    assert_eq!(
        get("show ssl crt-list -n D/dir", 0),
        "# D/dir\nD/dir/wild.pem:0\nD/dir/www.pem:0\nD/dir/n2.pem:1\n\n"
    );
    assert!(get("SNI selfsigned.test", 0).contains("selfsigned.test"));
    assert!(get("SNI selfsigned.test", 1).contains("wild.test"));
    assert_eq!(
        get("del ssl crt-list D/dir D/dir/wild.pem", 0),
        "Can't delete the entry: certificate 'D/dir/wild.pem' cannot be deleted, it is used as default certificate by the following frontends:\n\t- CFG:25\n\n\n"
    );
    if !have_haproxy() {
        return;
    }
    let ports = [free_port(), free_port(), free_port()];
    let sock = dir.path().join("srv-ref.sock");
    let theirs = {
        let px = Proxy::start_program(HAPROXY, &config(&d, &sock, ports), &ports, &["-db"]);
        super::normalise(run(&sock, &d, ports), &px)
    };
    assert_eq!(ours.len(), theirs.len());
    for ((cmd, a), (_, b)) in ours.iter().zip(theirs.iter()) {
        assert_eq!(a, b, "reply to `{cmd}` differs from HAProxy 2.6");
    }
}
