//! HTTP/1.1 test tools for the `mode http` suites: a scripted origin server
//! that records every request byte for byte, a raw client that reads one
//! response at a time, an `option httplog` line parser, and the config
//! prelude shared by the suites.
//!
//! Include it from a test file that also declares `mod common;`:
//! `#[path = "common/http.rs"] mod http_common;`
//!
//! Everything here is bounded in time: client reads time out (5 s by
//! default), the origin's reads time out after 10 s.
#![allow(dead_code)]

use crate::common::{Backend, Proxy, free_port, set_linger0};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Per-read timeout of the client helper.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The config prelude of the HTTP suites: `global` (maxconn 1000, raw logs
/// on stdout) and `defaults` (`mode http`, `option httplog`, client/server
/// timeouts 5 s, connect 2 s) with `defaults_extra` lines, then `body`.
pub fn http_config(defaults_extra: &str, body: &str) -> String {
    format!(
        "global\n  maxconn 1000\n  log stdout format raw local0\n\n\
         defaults\n  mode http\n  log global\n  option httplog\n  timeout client 5s\n  \
         timeout server 5s\n  timeout connect 2s\n{defaults_extra}\n{body}"
    )
}

/// `frontend f` on `port` to `backend b` holding `server s` on `srv`, with
/// extra lines for each section (each line ends with `\n`).
pub fn fe_be(port: u16, srv: u16, fe_extra: &str, be_extra: &str) -> String {
    format!(
        "frontend f\n  bind 127.0.0.1:{port}\n{fe_extra}  default_backend b\n\n\
         backend b\n{be_extra}  server s 127.0.0.1:{srv}\n"
    )
}

/// `frontend name` on `port` with `extra` lines (each ending with `\n`),
/// whose `default_backend` is `backend`; ends with a blank line. Tests that
/// need several behaviours give each its own frontend, since the proxies
/// under test need not support ACL conditions.
pub fn frontend(name: &str, port: u16, extra: &str, backend: &str) -> String {
    format!("frontend {name}\n  bind 127.0.0.1:{port}\n{extra}  default_backend {backend}\n\n")
}

/// Starts the proxy under test ([`Proxy::start_under_test`]) on the
/// [`http_config`] prelude (no `defaults` extra) with one [`frontend`] per
/// `(name, extra lines, default backend)` of `fronts`, each on its own free
/// port, followed by `backends`; returns the ports in the order of `fronts`.
pub fn start_fronts(fronts: &[(&str, &str, &str)], backends: &str) -> (Proxy, Vec<u16>) {
    let ports: Vec<u16> = fronts.iter().map(|_| free_port()).collect();
    let mut body: String = fronts
        .iter()
        .zip(&ports)
        .map(|((name, extra, be), port)| frontend(name, *port, extra, be))
        .collect();
    body.push_str(backends);
    (
        Proxy::start_under_test(&http_config("", &body), &ports),
        ports,
    )
}

// ------------------------------------------------------------ parsing --

/// A parsed message head (request or response).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Head {
    /// The start line without its line end.
    pub start: String,
    /// Header fields in order: name as received, value trimmed of OWS.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of header `name` (case-insensitive).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// True when some `Connection` value holds `token`.
    pub fn conn_has(&self, token: &str) -> bool {
        self.all("connection")
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// True when the last `Transfer-Encoding` coding is chunked.
    pub fn chunked(&self) -> bool {
        self.all("transfer-encoding")
            .last()
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("chunked"))
    }

    /// The content-length, if exactly parsable.
    pub fn content_length(&self) -> Option<usize> {
        self.get("content-length").and_then(|v| v.parse().ok())
    }

    /// Start-line token `i` (0: method or version).
    pub fn token(&self, i: usize) -> &str {
        self.start.split(' ').nth(i).unwrap_or("")
    }
}

/// Position just past the `\r\n\r\n` ending a head in `buf`, if complete.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Parses a head ending with `\r\n\r\n` (lines split on `\r\n`; a line
/// without a colon is kept as a header with an empty value and its whole
/// text as the name, so odd input stays visible).
pub fn parse_head(head: &[u8]) -> Head {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or("").to_string();
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((n, v)) => (n.to_string(), v.trim_matches([' ', '\t']).to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect();
    Head { start, headers }
}

/// Decodes a chunked body starting at `buf[0]`. `Ok(Some((end, data)))`
/// once complete (the last chunk and trailers included), `Ok(None)` when
/// more bytes are needed, `Err` on a malformed chunk size.
pub fn dechunk(buf: &[u8]) -> Result<Option<(usize, Vec<u8>)>, String> {
    let mut pos = 0;
    let mut data = Vec::new();
    loop {
        let Some(nl) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = &buf[pos..pos + nl];
        let size_txt = line.split(|&c| c == b';').next().unwrap_or(b"");
        let size_txt = String::from_utf8_lossy(size_txt).trim().to_string();
        let size = usize::from_str_radix(&size_txt, 16)
            .map_err(|_| format!("bad chunk size {:?}", String::from_utf8_lossy(line)))?;
        pos += nl + 2;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let Some(nl) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                pos += nl + 2;
                if nl == 0 {
                    return Ok(Some((pos, data)));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        data.extend_from_slice(&buf[pos..pos + size]);
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".into());
        }
        pos += size + 2;
    }
}

/// Encodes `body` as chunks of at most `chunk` bytes, then the last chunk.
pub fn chunk(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + body.len() / chunk.max(1) * 8 + 8);
    for c in body.chunks(chunk.max(1)) {
        v.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        v.extend_from_slice(c);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"0\r\n\r\n");
    v
}

/// Shows bytes as an escaped string (for assertion messages).
pub fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// Asserts two byte strings are equal, printing both escaped.
#[track_caller]
pub fn assert_bytes(got: &[u8], want: &[u8], what: &str) {
    assert!(
        got == want,
        "{what}:\n  got:  b\"{}\"\n  want: b\"{}\"",
        show(got),
        show(want)
    );
}

// ------------------------------------------------------------- origin --

/// One request as received by the [`Origin`].
#[derive(Debug, Clone)]
pub struct Seen {
    /// Index of the server connection it came on (0 for the first accepted).
    pub conn: usize,
    /// Its position among all requests of the origin.
    pub seq: usize,
    /// Exactly the bytes it arrived as (head and framed body).
    pub raw: Vec<u8>,
    pub head: Head,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Seen {
    pub fn method(&self) -> &str {
        self.head.token(0)
    }
    pub fn target(&self) -> &str {
        self.head.token(1)
    }
}

/// How a [`Reply`] body is delimited.
#[derive(Debug, Clone, PartialEq)]
pub enum Framing {
    /// `Content-Length` added.
    Length,
    /// `Transfer-Encoding: chunked` added, chunks of this size.
    Chunked(usize),
    /// Nothing added, the connection is closed after the body.
    Close,
    /// Nothing added (the script's headers say it all: HEAD, 304, ...).
    AsIs,
}

/// What the origin does with a request.
#[derive(Debug, Clone)]
pub enum Action {
    /// Sends a response built from the fields of [`Reply`].
    Respond,
    /// Sends these bytes verbatim (then closes if `close`).
    Raw(Vec<u8>),
    /// Closes the connection without answering.
    Close,
    /// Resets the connection (RST) without answering.
    Reset,
    /// Never answers; waits for the proxy to close.
    Hang,
    /// Sends the response, then echoes every byte (a tunnel: 101, CONNECT).
    Tunnel,
}

/// The origin's answer to one request, built by the test's script.
#[derive(Debug, Clone)]
pub struct Reply {
    pub action: Action,
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
    /// Close the connection after the response.
    pub close: bool,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Raw interim responses (e.g. `HTTP/1.1 100 Continue\r\n\r\n`) sent
    /// before the final one.
    pub interim: Vec<Vec<u8>>,
}

impl Reply {
    /// `HTTP/1.1 <status> <reason>` with a content-length body.
    pub fn new(status: u16, reason: &str) -> Reply {
        Reply {
            action: Action::Respond,
            version: "HTTP/1.1".into(),
            status,
            reason: reason.into(),
            headers: Vec::new(),
            body: Vec::new(),
            framing: Framing::Length,
            close: false,
            delay: Duration::ZERO,
            interim: Vec::new(),
        }
    }
    /// `HTTP/1.1 200 OK` with `body` and a content-length.
    pub fn ok(body: &[u8]) -> Reply {
        Reply::new(200, "OK").body(body)
    }
    /// Sends `bytes` as they are.
    pub fn raw(bytes: &[u8]) -> Reply {
        Reply {
            action: Action::Raw(bytes.to_vec()),
            ..Reply::new(0, "")
        }
    }
    fn act(action: Action) -> Reply {
        Reply {
            action,
            ..Reply::new(0, "")
        }
    }
    pub fn close_now() -> Reply {
        Reply::act(Action::Close)
    }
    pub fn reset() -> Reply {
        Reply::act(Action::Reset)
    }
    pub fn hang() -> Reply {
        Reply::act(Action::Hang)
    }
    pub fn version(mut self, v: &str) -> Reply {
        self.version = v.into();
        self
    }
    pub fn header(mut self, n: &str, v: &str) -> Reply {
        self.headers.push((n.into(), v.into()));
        self
    }
    pub fn body(mut self, b: &[u8]) -> Reply {
        self.body = b.to_vec();
        self
    }
    pub fn chunked(mut self, size: usize) -> Reply {
        self.framing = Framing::Chunked(size);
        self
    }
    pub fn close_delimited(mut self) -> Reply {
        self.framing = Framing::Close;
        self.close = true;
        self
    }
    pub fn unframed(mut self) -> Reply {
        self.framing = Framing::AsIs;
        self
    }
    pub fn close(mut self) -> Reply {
        self.close = true;
        self
    }
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
    pub fn interim(mut self, raw: &[u8]) -> Reply {
        self.interim.push(raw.to_vec());
        self
    }
    pub fn tunnel(mut self) -> Reply {
        self.action = Action::Tunnel;
        self.framing = Framing::AsIs;
        self
    }

    /// The response bytes (head, then body framed as asked).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = format!("{} {} {}\r\n", self.version, self.status, self.reason).into_bytes();
        for (n, val) in &self.headers {
            v.extend_from_slice(format!("{n}: {val}\r\n").as_bytes());
        }
        match self.framing {
            Framing::Length => {
                v.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes())
            }
            Framing::Chunked(_) => v.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            Framing::Close | Framing::AsIs => {}
        }
        v.extend_from_slice(b"\r\n");
        match self.framing {
            Framing::Chunked(n) => v.extend_from_slice(&chunk(&self.body, n)),
            _ => v.extend_from_slice(&self.body),
        }
        v
    }
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A scripted HTTP/1.1 origin server on 127.0.0.1. Each connection reads
/// requests one after the other (head up to `\r\n\r\n`, body by
/// content-length or chunked), records each one ([`Seen`]), answers with
/// the script's [`Reply`], and serves the next request unless the reply
/// closes. A request head carrying `Expect: 100-continue` gets
/// `HTTP/1.1 100 Continue` before its body is read. Every byte received is
/// also kept per connection ([`Origin::conn_bytes`]), parsable or not.
pub struct Origin {
    pub backend: Backend,
    seen: Arc<Mutex<Vec<Seen>>>,
    conns: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Origin {
    /// Starts an origin answering each request with `script(request)`.
    pub fn start<F>(script: F) -> Origin
    where
        F: Fn(&Seen) -> Reply + Send + Sync + 'static,
    {
        Origin::start_opts(script, true)
    }

    /// Like [`Origin::start`], but never sends `100 Continue`.
    pub fn start_without_continue<F>(script: F) -> Origin
    where
        F: Fn(&Seen) -> Reply + Send + Sync + 'static,
    {
        Origin::start_opts(script, false)
    }

    fn start_opts<F>(script: F, send_continue: bool) -> Origin
    where
        F: Fn(&Seen) -> Reply + Send + Sync + 'static,
    {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let ids = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let (s2, c2) = (seen.clone(), conns.clone());
        let backend = Backend::start(move |c| {
            let id = ids.fetch_add(1, Ordering::SeqCst);
            {
                let mut cs = c2.lock().unwrap();
                while cs.len() <= id {
                    cs.push(Vec::new());
                }
            }
            serve(c, id, &*script, send_continue, &s2, &c2);
        });
        Origin {
            backend,
            seen,
            conns,
        }
    }

    /// Answers every request with `200 OK` and body `ok`.
    pub fn ok() -> Origin {
        Origin::start(|_| Reply::ok(b"ok"))
    }

    pub fn port(&self) -> u16 {
        self.backend.port
    }

    /// Number of connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.backend.accepted()
    }

    /// The requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (or `t` passed); returns them.
    pub fn wait_requests(&self, n: usize, t: Duration) -> Vec<Seen> {
        let end = Instant::now() + t;
        loop {
            let v = self.requests();
            if v.len() >= n || Instant::now() > end {
                return v;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Every byte received, per server connection in accept order.
    pub fn conn_bytes(&self) -> Vec<Vec<u8>> {
        self.conns.lock().unwrap().clone()
    }

    /// Forgets the requests and bytes recorded so far.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
        for c in self.conns.lock().unwrap().iter_mut() {
            c.clear();
        }
    }
}

/// Reads more bytes from `c` into `buf` (and the per-connection record).
/// False on EOF, error or timeout.
fn fill(c: &mut TcpStream, buf: &mut Vec<u8>, id: usize, conns: &Mutex<Vec<Vec<u8>>>) -> bool {
    let mut tmp = vec![0u8; 65536];
    match c.read(&mut tmp) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&tmp[..n]);
            if let Some(v) = conns.lock().unwrap().get_mut(id) {
                v.extend_from_slice(&tmp[..n]);
            }
            true
        }
    }
}

fn serve(
    mut c: TcpStream,
    id: usize,
    script: &Script,
    send_continue: bool,
    seen: &Mutex<Vec<Seen>>,
    conns: &Mutex<Vec<Vec<u8>>>,
) {
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    c.set_write_timeout(Some(Duration::from_secs(10))).ok();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Head.
        let hend = loop {
            if let Some(e) = head_end(&buf) {
                break e;
            }
            if !fill(&mut c, &mut buf, id, conns) {
                return;
            }
        };
        let head = parse_head(&buf[..hend]);
        if send_continue
            && head
                .get("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && c.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        // Body.
        let (end, body) = if head.chunked() {
            loop {
                match dechunk(&buf[hend..]) {
                    Ok(Some((n, data))) => break (hend + n, data),
                    Ok(None) => {
                        if !fill(&mut c, &mut buf, id, conns) {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        } else {
            let n = head.content_length().unwrap_or(0);
            while buf.len() < hend + n {
                if !fill(&mut c, &mut buf, id, conns) {
                    return;
                }
            }
            (hend + n, buf[hend..hend + n].to_vec())
        };
        let raw: Vec<u8> = buf.drain(..end).collect();
        let req = {
            let mut s = seen.lock().unwrap();
            let r = Seen {
                conn: id,
                seq: s.len(),
                raw,
                head,
                body,
            };
            s.push(r.clone());
            r
        };
        let reply = script(&req);
        if !reply.delay.is_zero() {
            std::thread::sleep(reply.delay);
        }
        for i in &reply.interim {
            if c.write_all(i).is_err() {
                return;
            }
        }
        match &reply.action {
            Action::Respond => {
                if c.write_all(&reply.encode()).is_err() {
                    return;
                }
            }
            Action::Raw(b) => {
                if c.write_all(b).is_err() {
                    return;
                }
            }
            Action::Close => return,
            Action::Reset => {
                set_linger0(&c);
                return;
            }
            Action::Hang => {
                while fill(&mut c, &mut buf, id, conns) {}
                return;
            }
            Action::Tunnel => {
                if c.write_all(&reply.encode()).is_err() {
                    return;
                }
                if !buf.is_empty() && c.write_all(&buf).is_err() {
                    return;
                }
                let mut tmp = vec![0u8; 65536];
                loop {
                    match c.read(&mut tmp) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if let Some(v) = conns.lock().unwrap().get_mut(id) {
                                v.extend_from_slice(&tmp[..n]);
                            }
                            if c.write_all(&tmp[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = c.shutdown(Shutdown::Write);
                return;
            }
        }
        if reply.close {
            let _ = c.shutdown(Shutdown::Write);
            // Drain until the proxy closes, so no RST is sent on unread data.
            let end = Instant::now() + Duration::from_secs(2);
            c.set_read_timeout(Some(Duration::from_millis(200))).ok();
            while Instant::now() < end && fill(&mut c, &mut buf, id, conns) {}
            return;
        }
    }
}

// ------------------------------------------------------------- client --

/// One response as read by [`Client`].
#[derive(Debug, Clone)]
pub struct Response {
    /// Exactly the bytes it arrived as.
    pub raw: Vec<u8>,
    pub head: Head,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    pub fn status(&self) -> u16 {
        self.head.token(1).parse().unwrap_or(0)
    }
}

/// Why [`Client::try_response`] could not read a whole response.
#[derive(Debug)]
pub struct ReadFail {
    /// Bytes of the incomplete response.
    pub partial: Vec<u8>,
    /// True when the connection ended (EOF or error), false on timeout.
    pub closed: bool,
}

/// A raw HTTP/1 client on 127.0.0.1 keeping unread bytes between
/// responses (pipelining).
pub struct Client {
    pub s: TcpStream,
    pub buf: Vec<u8>,
    eof: bool,
}

impl Client {
    /// Connects to the proxy on `port`; reads and writes time out after 5 s.
    pub fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to proxy");
        s.set_read_timeout(Some(READ_TIMEOUT)).ok();
        s.set_write_timeout(Some(READ_TIMEOUT)).ok();
        Client {
            s,
            buf: Vec::new(),
            eof: false,
        }
    }

    /// Local port (the `%cp` of the log line).
    pub fn port(&self) -> u16 {
        self.s.local_addr().expect("local addr").port()
    }

    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).expect("send to proxy");
    }

    /// Reads more into `buf` waiting at most `t`; false on EOF/error/timeout
    /// (EOF and errors set `eof`).
    fn more(&mut self, t: Duration) -> bool {
        if self.eof {
            return false;
        }
        self.s
            .set_read_timeout(Some(t.max(Duration::from_millis(1))))
            .ok();
        let mut tmp = vec![0u8; 65536];
        let r = self.s.read(&mut tmp);
        self.s.set_read_timeout(Some(READ_TIMEOUT)).ok();
        match r {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(_) => {
                self.eof = true;
                false
            }
        }
    }

    /// Reads one response within `t`. Its body is delimited by
    /// chunked encoding, content-length or the close, except when
    /// `no_body` (the answer to HEAD, or a 2xx to CONNECT) and for 1xx, 204
    /// and 304, which have none.
    pub fn try_response_within(
        &mut self,
        no_body: bool,
        t: Duration,
    ) -> Result<Response, ReadFail> {
        let end = Instant::now() + t;
        let fail = |me: &mut Client| ReadFail {
            partial: me.buf.clone(),
            closed: me.eof,
        };
        let hend = loop {
            if let Some(e) = head_end(&self.buf) {
                break e;
            }
            let left = end.saturating_duration_since(Instant::now());
            if !self.more(left) && (self.eof || left.is_zero()) {
                return Err(fail(self));
            }
        };
        let head = parse_head(&self.buf[..hend]);
        let status: u16 = head.token(1).parse().unwrap_or(0);
        let bodyless = no_body || (100..200).contains(&status) || status == 204 || status == 304;
        let (end_pos, body) = if bodyless {
            (hend, Vec::new())
        } else if head.chunked() {
            loop {
                match dechunk(&self.buf[hend..]) {
                    Ok(Some((n, d))) => break (hend + n, d),
                    Ok(None) => {
                        let left = end.saturating_duration_since(Instant::now());
                        if !self.more(left) && (self.eof || left.is_zero()) {
                            return Err(fail(self));
                        }
                    }
                    Err(_) => return Err(fail(self)),
                }
            }
        } else if let Some(n) = head.content_length() {
            while self.buf.len() < hend + n {
                let left = end.saturating_duration_since(Instant::now());
                if !self.more(left) && (self.eof || left.is_zero()) {
                    return Err(fail(self));
                }
            }
            (hend + n, self.buf[hend..hend + n].to_vec())
        } else {
            // Close-delimited.
            while !self.eof {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(fail(self));
                }
                self.more(left);
            }
            (self.buf.len(), self.buf[hend..].to_vec())
        };
        let raw: Vec<u8> = self.buf.drain(..end_pos).collect();
        Ok(Response { raw, head, body })
    }

    /// Reads one response within 5 s, or says why not.
    pub fn try_response(&mut self) -> Result<Response, ReadFail> {
        self.try_response_within(false, READ_TIMEOUT)
    }

    /// Reads one response to a non-HEAD request; panics after 5 s.
    #[track_caller]
    pub fn response(&mut self) -> Response {
        match self.try_response() {
            Ok(r) => r,
            Err(f) => panic!(
                "no complete response ({}); got b\"{}\"",
                if f.closed {
                    "connection closed"
                } else {
                    "timeout"
                },
                show(&f.partial)
            ),
        }
    }

    /// Reads one response without a body (to HEAD, or a 2xx to CONNECT);
    /// panics after 5 s.
    #[track_caller]
    pub fn head_response(&mut self) -> Response {
        match self.try_response_within(true, READ_TIMEOUT) {
            Ok(r) => r,
            Err(f) => panic!(
                "no complete response to HEAD; got b\"{}\"",
                show(&f.partial)
            ),
        }
    }

    /// Sends `req` and reads one response.
    #[track_caller]
    pub fn exchange(&mut self, req: &[u8]) -> Response {
        self.send(req);
        self.response()
    }

    /// Reads until the proxy closes the connection, waiting at most `t`.
    /// Returns the bytes read meanwhile (and left in the buffer) and whether
    /// the connection was closed.
    pub fn wait_close(&mut self, t: Duration) -> (Vec<u8>, bool) {
        let end = Instant::now() + t;
        while !self.eof {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.more(left);
        }
        (std::mem::take(&mut self.buf), self.eof)
    }

    /// True if the connection is still open after `t` with nothing read.
    pub fn stays_open(&mut self, t: Duration) -> bool {
        let (extra, closed) = self.wait_close(t);
        assert!(extra.is_empty(), "unexpected bytes: b\"{}\"", show(&extra));
        !closed
    }

    /// Everything until the connection closes (at most 5 s).
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let (v, closed) = self.wait_close(READ_TIMEOUT);
        assert!(closed, "connection not closed; got b\"{}\"", show(&v));
        v
    }
}

/// Sends `req` on a new connection and returns everything received until
/// the proxy closes it (5 s at most) and whether it closed.
pub fn one_shot(port: u16, req: &[u8], t: Duration) -> (Vec<u8>, bool) {
    let mut c = Client::connect(port);
    c.send(req);
    c.wait_close(t)
}

// -------------------------------------------------------------- logs --

/// One `option httplog` line: `%ci:%cp [%tr] %ft %b/%s
/// %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq
/// [%hr] [%hs] %{+Q}r`.
#[derive(Debug, Clone)]
pub struct HttpLog {
    pub raw: String,
    pub cport: u16,
    pub frontend: String,
    pub backend: String,
    pub server: String,
    /// TR, Tw, Tc, Tr, Ta.
    pub timers: [i64; 5],
    pub status: i32,
    pub bytes: u64,
    pub term: String,
    pub counters: String,
    pub queues: String,
    /// The captures (`{...}` fields), if any.
    pub captures: Vec<String>,
    /// The quoted request line, quotes removed.
    pub request: String,
}

impl HttpLog {
    pub fn parse(l: &str) -> Option<HttpLog> {
        let (pre, rest) = l.split_once(" \"")?;
        let request = rest.strip_suffix('"')?.to_string();
        let f: Vec<&str> = pre.split(' ').collect();
        if f.len() < 12 || !f[1].starts_with('[') {
            return None;
        }
        let (_, cport) = f[0].rsplit_once(':')?;
        let (backend, server) = f[3].split_once('/')?;
        let t: Vec<i64> = f[4]
            .split('/')
            .map(|x| x.trim_start_matches('+').parse())
            .collect::<Result<_, _>>()
            .ok()?;
        Some(HttpLog {
            raw: l.to_string(),
            cport: cport.parse().ok()?,
            frontend: f[2].to_string(),
            backend: backend.to_string(),
            server: server.to_string(),
            timers: t.try_into().ok()?,
            status: f[5].parse().ok()?,
            bytes: f[6].trim_start_matches('+').parse().ok()?,
            term: f[9].to_string(),
            counters: f[10].to_string(),
            queues: f[11].to_string(),
            captures: f[12..].iter().map(|s| s.to_string()).collect(),
            request,
        })
    }

    /// The line without client address, date and timer values: each timer
    /// is `-1` (stage never reached) or `T`. E.g.
    /// `f b/s T/T/T/T/T 200 55 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`.
    pub fn masked(&self) -> String {
        let t: Vec<String> = self
            .timers
            .iter()
            .map(|&x| if x < 0 { x.to_string() } else { "T".into() })
            .collect();
        let (_, after_date) = self.raw.split_once("] ").unwrap_or(("", &self.raw));
        let f: Vec<&str> = after_date.splitn(4, ' ').collect();
        // f[0] frontend, f[1] backend/server, f[2] timers, f[3] the rest.
        format!(
            "{} {} {} {}",
            f[0],
            f[1],
            t.join("/"),
            f.get(3).unwrap_or(&"")
        )
    }
}

/// The httplog lines in `stdout`.
pub fn http_logs(stdout: &str) -> Vec<HttpLog> {
    stdout.lines().filter_map(HttpLog::parse).collect()
}

/// Starts the proxy under test: `frontend f` on a free port with `fe`
/// lines, `backend b` with `be` lines and `server s` on `srv`, `defaults`
/// extended with `dflt`. Returns it and the frontend's port.
pub fn start(srv: u16, dflt: &str, fe: &str, be: &str) -> (Proxy, u16) {
    let port = free_port();
    let cfg = http_config(dflt, &fe_be(port, srv, fe, be));
    (Proxy::start_under_test(&cfg, &[port]), port)
}

/// Waits (5 s at most) for `n` httplog lines on the proxy's stdout; panics
/// with that stdout if they do not come.
pub fn logs(p: &Proxy, n: usize) -> Vec<HttpLog> {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let v = http_logs(&p.stdout());
        if v.len() >= n {
            return v;
        }
        assert!(
            Instant::now() < end,
            "expected {n} log lines; stdout:\n{}",
            p.stdout()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
