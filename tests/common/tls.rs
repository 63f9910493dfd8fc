//! TLS test tools for `tests/tls.rs` and `tests/tls_errors.rs`: test certificates generated once per
//! test binary with the `openssl` CLI, a TLS client built on the openssl
//! crate, runners for `openssl s_client`, `curl` and python3's `ssl`
//! module, an HTTP/1 response reader over any stream, and log-line helpers.
//!
//! Include it from a test file that also declares `mod common;`:
//! `#[path = "common/tls.rs"] mod tls_common;`
//!
//! Everything here is bounded in time: sockets have read/write timeouts,
//! external clients are killed (by their own pid) after a deadline.
#![allow(dead_code)]

use crate::common::Proxy;
use openssl::nid::Nid;
use openssl::ssl::{Ssl, SslContext, SslFiletype, SslMethod, SslStream, SslVerifyMode, SslVersion};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// --------------------------------------------------------------- certs --

/// The directory of the generated certificates (see [`certs`]).
pub struct Certs {
    pub dir: PathBuf,
}

impl Certs {
    /// Absolute path of file `name` of the set, as a string for configs.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

/// The certificate generation script, run in the target directory. Files:
/// `ca.crt` (RSA CA "Test CA"), `otherca.crt` ("Other CA"), `www.pem` (RSA,
/// www.example.test), `www-ec.pem` (ECDSA P-256, same name), `wild.pem`
/// (`*.wild.test`), `client.pem` (CN client1, by the CA), `expired.pem` (CN
/// expired-client, by the CA, expired in 2020), `self.pem` (self-signed,
/// CN selfsigned.test), `www.crt` (certificate only), `crtdir/` (www.pem and
/// wild.pem). `.pem` = certificate then key.
const GEN: &str = r#"set -e
exec >gen.log 2>&1
req() { openssl req -newkey "$1" $2 -nodes -keyout "$3.key" -out "$3.csr" -subj "$4"; }
sign() { openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" -days 825 -extfile "$3"; cat "$1.crt" "$1.key" > "$1.pem"; }
for ca in ca:Test otherca:Other; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "${ca%%:*}.key" -out "${ca%%:*}.crt" -days 3650 \
    -subj "/CN=${ca#*:} CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
done
printf "subjectAltName=DNS:www.example.test\nextendedKeyUsage=serverAuth\n" > www.ext
printf "subjectAltName=DNS:*.wild.test\nextendedKeyUsage=serverAuth\n" > wild.ext
printf "extendedKeyUsage=clientAuth\n" > client.ext
req rsa:2048 "" www "/CN=www.example.test"; sign www ca www.ext
req ec "-pkeyopt ec_paramgen_curve:P-256" www-ec "/CN=www.example.test"; sign www-ec ca www.ext
req rsa:2048 "" wild "/CN=*.wild.test"; sign wild ca wild.ext
req rsa:2048 "" client "/CN=client1"; sign client ca client.ext
mkdir -p cadb && : > cadb/index.txt && echo 1000 > cadb/serial
cat > ca.cnf <<EOC
[ca]
default_ca = CA_default
[CA_default]
dir = $PWD/cadb
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = pol
copy_extensions = none
unique_subject = no
[pol]
commonName = supplied
[ext_client]
extendedKeyUsage = clientAuth
EOC
req rsa:2048 "" expired "/CN=expired-client"
openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr -out expired.crt \
  -startdate 20200101000000Z -enddate 20200201000000Z -extensions ext_client -notext
cat expired.crt expired.key > expired.pem
openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.crt -days 365 \
  -subj "/CN=selfsigned.test" -addext "subjectAltName=DNS:selfsigned.test"
cat self.crt self.key > self.pem
mkdir -p crtdir && cp www.pem wild.pem crtdir/
echo done > ok
"#;

/// The certificates, generated on first use (once per test binary) under
/// `CARGO_TARGET_TMPDIR`; directories left by earlier runs whose process is
/// gone are removed then.
pub fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let me = std::process::id();
        if let Ok(rd) = std::fs::read_dir(&base) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("tls-certs-")
                    && pid.parse::<u32>().is_ok_and(|p| p != me)
                    && !Path::new(&format!("/proc/{pid}")).exists()
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("tls-certs-{me}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create cert dir");
        let st = Command::new("sh")
            .arg("-c")
            .arg(GEN)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .status()
            .expect("run sh for the certificates");
        assert!(
            st.success() && dir.join("ok").exists(),
            "certificate generation failed: {}",
            std::fs::read_to_string(dir.join("gen.log")).unwrap_or_default()
        );
        Certs { dir }
    })
}

// ---------------------------------------------------------- TLS client --

/// What a [`tls_connect`] client offers.
#[derive(Clone, Default)]
pub struct Tls {
    /// SNI to send (none when None).
    pub sni: Option<String>,
    /// ALPN protocols offered, e.g. `["h2", "http/1.1"]`.
    pub alpn: Vec<String>,
    /// Protocol version bounds (the library's default when None).
    pub min: Option<SslVersion>,
    pub max: Option<SslVersion>,
    /// Client certificate and key in one PEM file.
    pub cert: Option<String>,
    /// Verify the server's chain against the test CA.
    pub verify: bool,
    /// Allow TLS 1.0/1.1 on this client (`DEFAULT@SECLEVEL=0`).
    pub legacy: bool,
    /// Do not ask for session tickets (TLS 1.2 session-ID resumption).
    pub no_ticket: bool,
}

impl Tls {
    /// A client verifying the server against the test CA, sending `sni`.
    pub fn sni(name: &str) -> Tls {
        Tls {
            sni: Some(name.to_string()),
            verify: true,
            ..Tls::default()
        }
    }
    /// A client that sends no SNI and does not verify the server.
    pub fn plain() -> Tls {
        Tls::default()
    }
    pub fn version(mut self, v: SslVersion) -> Tls {
        self.min = Some(v);
        self.max = Some(v);
        if v == SslVersion::TLS1 || v == SslVersion::TLS1_1 {
            self.legacy = true;
        }
        self
    }
    pub fn alpn(mut self, protos: &[&str]) -> Tls {
        self.alpn = protos.iter().map(|p| p.to_string()).collect();
        self
    }
    pub fn cert(mut self, pem: &str) -> Tls {
        self.cert = Some(pem.to_string());
        self
    }
    pub fn no_verify(mut self) -> Tls {
        self.verify = false;
        self
    }
}

/// The client context for `o`.
pub fn client_ctx(o: &Tls) -> SslContext {
    let c = certs();
    let mut b = SslContext::builder(SslMethod::tls_client()).expect("ctx");
    b.set_ca_file(c.path("ca.crt")).expect("ca file");
    b.set_verify(if o.verify {
        SslVerifyMode::PEER
    } else {
        SslVerifyMode::NONE
    });
    if o.no_ticket {
        b.set_options(openssl::ssl::SslOptions::NO_TICKET);
    }
    if o.legacy {
        b.set_cipher_list("DEFAULT@SECLEVEL=0").expect("ciphers");
    }
    b.set_min_proto_version(o.min).expect("min");
    b.set_max_proto_version(o.max).expect("max");
    if !o.alpn.is_empty() {
        let mut wire = Vec::new();
        for p in &o.alpn {
            wire.push(p.len() as u8);
            wire.extend_from_slice(p.as_bytes());
        }
        b.set_alpn_protos(&wire).expect("alpn");
    }
    if let Some(pem) = &o.cert {
        let p = c.path(pem);
        b.set_certificate_file(&p, SslFiletype::PEM)
            .expect("client cert");
        b.set_private_key_file(&p, SslFiletype::PEM)
            .expect("client key");
    }
    b.build()
}

/// A TCP connection to 127.0.0.1:port with read/write timeouts `t`.
pub fn tcp(port: u16, t: Duration) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(t)).ok();
    s.set_write_timeout(Some(t)).ok();
    s.set_nodelay(true).ok();
    s
}

/// Connects and completes a TLS handshake as `o` says; the error text
/// (OpenSSL's, alerts included) when the handshake fails.
pub fn tls_connect(port: u16, o: &Tls) -> Result<SslStream<TcpStream>, String> {
    tls_connect_ctx(port, &client_ctx(o), o.sni.as_deref())
}

/// Same with a prepared context (to reuse a session, for example).
pub fn tls_connect_ctx(
    port: u16,
    ctx: &SslContext,
    sni: Option<&str>,
) -> Result<SslStream<TcpStream>, String> {
    let mut ssl = Ssl::new(ctx).expect("ssl");
    if let Some(n) = sni {
        ssl.set_hostname(n).expect("sni");
    }
    ssl.connect(tcp(port, Duration::from_secs(10)))
        .map_err(|e| format!("{e}"))
}

/// Like [`tls_connect`], also giving the client's local port (the `%cp`
/// of the proxy's log line).
pub fn tls_try(port: u16, o: &Tls) -> (u16, Result<SslStream<TcpStream>, String>) {
    let t = tcp(port, Duration::from_secs(10));
    let cport = t.local_addr().expect("local addr").port();
    let mut ssl = Ssl::new(&client_ctx(o)).expect("ssl");
    if let Some(n) = &o.sni {
        ssl.set_hostname(n).expect("sni");
    }
    (cport, ssl.connect(t).map_err(|e| format!("{e}")))
}

/// Two connections to `port` as `o` says, each with one GET (keep-alive
/// not asked), the second offering the session of the first: whether the
/// second was resumed, and the two client ports.
pub fn resumed(port: u16, o: &Tls) -> (bool, u16, u16) {
    let ctx = client_ctx(o);
    let get = |s: &mut SslStream<TcpStream>| {
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        let r = read_resp(s, &mut Vec::new()).expect("response");
        assert_eq!(r.status, 200);
    };
    let mut s1 = tls_connect_ctx(port, &ctx, o.sni.as_deref()).expect("first handshake");
    get(&mut s1);
    let sess = s1.ssl().session().expect("session").to_owned();
    let p1 = s1.get_ref().local_addr().expect("addr").port();
    // A session closed without close_notify is made not resumable.
    let _ = s1.shutdown();
    drop(s1);
    let mut ssl = Ssl::new(&ctx).expect("ssl");
    if let Some(n) = &o.sni {
        ssl.set_hostname(n).expect("sni");
    }
    // SAFETY: the session comes from a connection made with this context.
    unsafe { ssl.set_session(&sess).expect("set session") };
    let mut s2 = ssl
        .connect(tcp(port, Duration::from_secs(10)))
        .expect("second handshake");
    get(&mut s2);
    let p2 = s2.get_ref().local_addr().expect("addr").port();
    (s2.ssl().session_reused(), p1, p2)
}

/// The subject CN of the certificate the server presented.
pub fn peer_cn(s: &SslStream<TcpStream>) -> String {
    let c = s.ssl().peer_certificate().expect("server certificate");
    cn_of(&c)
}

pub fn cn_of(c: &openssl::x509::X509Ref) -> String {
    c.subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .map(|e| String::from_utf8_lossy(e.data().as_slice()).into_owned())
        .unwrap_or_default()
}

/// The ALPN protocol the server selected, `-` when none.
pub fn alpn_of(s: &SslStream<TcpStream>) -> String {
    s.ssl()
        .selected_alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_else(|| "-".into())
}

/// Handshake with `o`, send `req`, read to EOF (or an error): the bytes
/// received, or the error text when the handshake or the read failed
/// before any byte came.
pub fn tls_exchange(port: u16, o: &Tls, req: &[u8]) -> Result<Vec<u8>, String> {
    let mut s = tls_connect(port, o)?;
    s.write_all(req).map_err(|e| format!("write: {e}"))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if got.is_empty() => return Err(format!("read: {e}")),
            Err(_) => break,
        }
    }
    Ok(got)
}

/// The bytes of the first flight of a TLS client (the ClientHello record),
/// captured on a local listener.
pub fn client_hello() -> Vec<u8> {
    static CH: OnceLock<Vec<u8>> = OnceLock::new();
    CH.get_or_init(|| {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let t = std::thread::spawn(move || {
            let mut ssl = Ssl::new(&client_ctx(&Tls::sni("www.example.test"))).expect("ssl");
            ssl.set_hostname("www.example.test").expect("sni");
            let _ = ssl.connect(tcp(port, Duration::from_secs(3)));
        });
        let (mut c, _) = l.accept().expect("accept");
        c.set_read_timeout(Some(Duration::from_secs(3))).ok();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        // One TLS record: 5-byte header then its length.
        while got.len() < 5 || got.len() < 5 + u16::from_be_bytes([got[3], got[4]]) as usize {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        drop(c);
        let _ = t.join();
        assert!(got.len() > 100 && got[0] == 0x16, "captured ClientHello");
        got
    })
    .clone()
}

// ------------------------------------------------------- HTTP over any --

/// One HTTP/1 response: status, head (text), body (content-length framed).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// Reads one response from `r`, `buf` holding bytes already read (what
/// follows the response stays in it). Bodies must be content-length framed
/// (or absent). Err on EOF or an error before the response is whole.
pub fn read_resp<R: Read>(r: &mut R, buf: &mut Vec<u8>) -> Result<Resp, String> {
    let mut tmp = vec![0u8; 65536];
    let end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        match r.read(&mut tmp) {
            Ok(0) => return Err(format!("EOF in head after {} bytes", buf.len())),
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(e) => return Err(format!("read head: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut resp = Resp {
        status,
        head,
        body: Vec::new(),
    };
    let len: usize = resp
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < end + len {
        match r.read(&mut tmp) {
            Ok(0) => return Err("EOF in body".into()),
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(e) => return Err(format!("read body: {e}")),
        }
    }
    resp.body = buf[end..end + len].to_vec();
    buf.drain(..end + len);
    Ok(resp)
}

/// An HTTP/1.1 origin answering each request on a connection (keep-alive)
/// with 200 and, as body, the request body (content-length framed), or
/// `origin:<path>` when the request has none. Header `X-Path` echoes the
/// path.
pub fn echo_origin() -> crate::common::Backend {
    crate::common::Backend::start(|mut c| {
        c.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut buf = Vec::new();
        let mut tmp = vec![0u8; 65536];
        loop {
            let end = loop {
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(p + 4);
                }
                match c.read(&mut tmp) {
                    Ok(0) | Err(_) => break None,
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                }
            };
            let Some(end) = end else { return };
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.trim()
                        .eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + len {
                match c.read(&mut tmp) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                }
            }
            let body = if len > 0 {
                buf[end..end + len].to_vec()
            } else {
                format!("origin:{path}").into_bytes()
            };
            buf.drain(..end + len);
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Path: {path}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(&body);
            if c.write_all(&out).is_err() {
                return;
            }
        }
    })
}

// ------------------------------------------------------ external tools --

/// Runs `program args` with `input` on stdin; stdin stays open `hold`
/// after the input was written (then closed). Killed (by its pid) if still
/// running after `limit`. Returns (exit code or -1, stdout + stderr).
pub fn run_tool(
    program: &str,
    args: &[&str],
    input: &[u8],
    hold: Duration,
    limit: Duration,
) -> (i32, String) {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir();
    let tag = format!(
        "hrs-tool-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let out_p = dir.join(format!("{tag}.out"));
    let out = std::fs::File::create(&out_p).expect("tool output file");
    let err = out.try_clone().expect("clone");
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(input);
    let end = Instant::now() + limit;
    let hold_end = Instant::now() + hold;
    let mut stdin = Some(stdin);
    let code = loop {
        if stdin.is_some() && Instant::now() >= hold_end {
            stdin = None;
        }
        if let Ok(Some(st)) = child.try_wait() {
            break st.code().unwrap_or(-1);
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            break -1;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    let text = std::fs::read_to_string(&out_p).unwrap_or_default();
    let _ = std::fs::remove_file(&out_p);
    (code, text)
}

/// `openssl s_client -connect 127.0.0.1:port extra...` (CA file of the
/// test set), sending `input` and holding stdin open `hold`.
pub fn s_client(port: u16, extra: &[&str], input: &[u8], hold: Duration) -> (i32, String) {
    let ca = certs().path("ca.crt");
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["s_client", "-connect", &addr, "-CAfile", &ca];
    args.extend_from_slice(extra);
    run_tool("openssl", &args, input, hold, Duration::from_secs(10))
}

/// `curl` to `https://host:port/path` resolved to 127.0.0.1, verifying
/// against the test CA, with `extra` arguments. Returns (exit code,
/// stdout + stderr).
pub fn curl(port: u16, host: &str, path: &str, extra: &[&str]) -> (i32, String) {
    let ca = certs().path("ca.crt");
    let resolve = format!("{host}:{port}:127.0.0.1");
    let url = format!("https://{host}:{port}{path}");
    let mut args = vec![
        "-sS",
        "--max-time",
        "8",
        "--cacert",
        &ca,
        "--resolve",
        &resolve,
    ];
    args.extend_from_slice(extra);
    args.push(&url);
    run_tool("curl", &args, b"", Duration::ZERO, Duration::from_secs(10))
}

/// True when `program` can be run (`program --version` or `version`).
pub fn have(program: &str, arg: &str) -> bool {
    let ok = Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: {program} is missing, skipping that part");
    }
    ok
}

// ---------------------------------------------------------------- logs --

/// Waits until a stdout line satisfies `pred` (or `t` passed); returns it.
pub fn wait_line(p: &Proxy, t: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
    let end = Instant::now() + t;
    loop {
        if let Some(l) = p.stdout().lines().find(|l| pred(l)) {
            return Some(l.to_string());
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Like [`wait_line`] but panics with the whole log after `t`.
pub fn expect_line(p: &Proxy, what: &str, pred: impl Fn(&str) -> bool) -> String {
    wait_line(p, Duration::from_secs(5), pred).unwrap_or_else(|| {
        panic!(
            "no log line {what}; stdout:\n{}\nstderr:\n{}",
            p.stdout(),
            p.stderr()
        )
    })
}

/// Splits `127.0.0.1:PORT [dd/Mon/yyyy:hh:mm:ss.mmm] rest` into (port,
/// rest); None when the line does not start that way.
pub fn split_prefix(l: &str) -> Option<(u16, &str)> {
    let rest = l.strip_prefix("127.0.0.1:")?;
    let (port, rest) = rest.split_once(' ')?;
    let port = port.parse().ok()?;
    let date = rest.strip_prefix('[')?;
    let (date, rest) = date.split_once("] ")?;
    let b = date.as_bytes();
    let shape = b.len() == 24
        && b[2] == b'/'
        && b[6] == b'/'
        && b[11] == b':'
        && b[14] == b':'
        && b[17] == b':'
        && b[20] == b'.'
        && [0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 23]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
        && b[3..6].iter().all(|c| c.is_ascii_alphabetic());
    shape.then_some((port, rest))
}

/// The resident set size of process `pid` in KiB (VmRSS).
pub fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

// -------------------------------------------------------------- configs --

/// `global` (raw logs on stdout) and `defaults` (`timeout client` as given,
/// connect 2 s, server 5 s), then `body`.
pub fn cfg(timeout_client: &str, body: &str) -> String {
    format!(
        "global\n  nbthread 1\n  log stdout format raw local0\n\n\
         defaults\n  log global\n  timeout connect 2s\n  timeout client {timeout_client}\n  \
         timeout server 5s\n\n{body}"
    )
}

/// `bind 127.0.0.1:port ssl crt <www.pem>` plus `extra`.
pub fn ssl_bind(port: u16, extra: &str) -> String {
    format!(
        "  bind 127.0.0.1:{port} ssl crt {} {extra}\n",
        certs().path("www.pem")
    )
}

/// The stdout line of the connection from client port `cport`, without
/// its `ip:port [date] ` prefix (whose shape is checked).
pub fn line_of(p: &Proxy, cport: u16) -> String {
    let l = expect_line(p, &format!("for client port {cport}"), |l| {
        split_prefix(l).is_some_and(|(cp, _)| cp == cport)
    });
    split_prefix(&l).expect("prefix").1.to_string()
}

/// A GET over an established TLS stream with `Connection: close`: the
/// response.
pub fn tls_get(port: u16, o: &Tls, path: &str) -> Result<Resp, String> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n");
    let got = tls_exchange(port, o, req.as_bytes())?;
    read_resp(&mut &got[..], &mut Vec::new())
}
