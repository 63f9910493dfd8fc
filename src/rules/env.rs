//! What a sample fetch may look at: a read-only view of one stream and the
//! process (configuration.txt 7.3.2-7.3.6).
//!
//! The rules core never touches a socket or a stream: the stream layer
//! implements [`Env`] over its channels, transaction and proxies, and unit
//! tests implement it over plain values. Every method has a default that
//! says "not available here", so a view implements only what it has (a
//! TCP connection rule has no HTTP message; a log line has no payload).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::http::parse::{Hdr, Head};
use std::net::SocketAddr;

/// A proxy as fetches see it (`fe_name`, `be_id`, ...).
#[derive(Debug, Clone, Copy)]
pub struct PxInfo<'a> {
    pub name: &'a str,
    pub id: i64,
}

/// A backend's load as `nbsrv`, `be_conn`, `connslots`, `queue`,
/// `avg_queue` report it.
#[derive(Debug, Clone, Copy, Default)]
pub struct BeLoad {
    /// Usable servers (`nbsrv`).
    pub nbsrv: i64,
    /// Current connections (`be_conn`).
    pub conn: i64,
    /// Free connection and queue slots (`connslots`), None if unlimited.
    pub connslots: Option<i64>,
    /// Requests queued on the backend and its servers (`queue`).
    pub queue: i64,
    /// Active servers plus backups (for `avg_queue`: queue / that).
    pub active: i64,
}

/// A parsed HTTP message head: the bytes it was parsed from and the parse.
#[derive(Debug, Clone, Copy)]
pub struct HttpView<'a> {
    /// The head's bytes (start of the block at offset 0).
    pub bytes: &'a [u8],
    pub head: &'a Head,
    pub hdrs: &'a [Hdr],
}

impl<'a> HttpView<'a> {
    /// Header values named `name` (case-insensitive), in order, each the
    /// whole line's value (`fhdr`: commas not split).
    pub fn values(self, name: &'a [u8]) -> impl DoubleEndedIterator<Item = &'a [u8]> + 'a {
        self.hdrs
            .iter()
            .filter(move |h| h.name.get(self.bytes).eq_ignore_ascii_case(name))
            .map(move |h| h.value.get(self.bytes))
    }

    pub fn uri(self) -> &'a [u8] {
        self.head.uri.get(self.bytes)
    }
    pub fn method(self) -> &'a [u8] {
        self.head.meth.get(self.bytes)
    }
    pub fn version(self) -> &'a [u8] {
        self.head.version.get(self.bytes)
    }
}

/// Which direction's data a payload fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Req,
    Res,
}

/// The read-only view a fetch evaluates against.
pub trait Env {
    /// Wall-clock date (seconds, microseconds) for `date`, `http_date`.
    fn date(&self) -> (i64, u32) {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_micros(),
        )
    }
    /// Client address (`src`).
    /// The TLS layer of the client connection (`back` false) or of the
    /// server connection.
    fn ssl_sock(&self, back: bool) -> Option<&crate::conn::ssl_sock::SslSock> {
        let _ = back;
        None
    }
    /// Its TLS session.
    fn ssl(&self, back: bool) -> Option<&openssl::ssl::SslRef> {
        self.ssl_sock(back).map(|s| s.ssl())
    }
    /// The client connection's error (HAProxy's `fc_err` number), for
    /// the error log of a connection that failed before its stream.
    fn conn_err(&self) -> Option<crate::conn::HsErr> {
        None
    }
    fn src(&self) -> Option<SocketAddr> {
        None
    }
    /// The PROXY header the client connection started with, if any
    /// (`fc_rcvd_proxy`, `fc_pp_*`).
    fn pp(&self) -> Option<&crate::conn::proxy_hdr::PpRcvd> {
        None
    }
    /// Address the client connected to (`dst`).
    fn dst(&self) -> Option<SocketAddr> {
        None
    }
    /// The listener's `name` (`so_name`).
    fn so_name(&self) -> Option<&str> {
        None
    }
    fn fe(&self) -> Option<PxInfo<'_>> {
        None
    }
    fn be(&self) -> Option<PxInfo<'_>> {
        None
    }
    /// The server the stream is assigned to (`srv_name`, `srv_id`).
    fn srv(&self) -> Option<PxInfo<'_>> {
        None
    }
    /// A backend by index (an argument resolved at start-up), or the
    /// stream's backend for None.
    fn be_load(&self, be: Option<usize>) -> Option<BeLoad> {
        let _ = be;
        None
    }
    /// Whether server `srv` of backend `be` is up (`srv_is_up`).
    fn srv_is_up(&self, be: usize, srv: usize) -> Option<bool> {
        let _ = (be, srv);
        None
    }
    /// Bytes received and not yet forwarded (`req.len`, `req.payload`).
    fn payload(&self, dir: Dir) -> Option<&[u8]> {
        let _ = dir;
        None
    }
    /// True once no more data can arrive in `dir` (or the buffer is full):
    /// a payload sample is final then.
    fn payload_final(&self, dir: Dir) -> bool {
        let _ = dir;
        true
    }
    /// True when no inspect delay is left to wait for more data (always,
    /// outside `tcp-request content` / `tcp-response content`).
    fn inspect_expired(&self) -> bool {
        true
    }
    /// True when the data in `dir` cannot be an HTTP message (TCP mode,
    /// HTTP fetches): they fail at once instead of waiting for more.
    fn not_http(&self, dir: Dir) -> bool {
        let _ = dir;
        false
    }
    /// The parsed message head in `dir`, once complete.
    fn http(&self, dir: Dir) -> Option<HttpView<'_>> {
        let _ = dir;
        None
    }
    /// The request body received so far (`req.body`), and whether it is
    /// complete.
    fn req_body(&self) -> Option<(&[u8], bool)> {
        None
    }
    /// The response status (`status`), also for a reply the proxy made.
    fn status(&self) -> Option<u16> {
        None
    }
    /// Captured request/response header `idx` (`capture.req.hdr(idx)`).
    fn capture(&self, dir: Dir, idx: usize) -> Option<&[u8]> {
        let _ = (dir, idx);
        None
    }
    /// The stream's unique id (`unique-id`), rendered on first use.
    fn unique_id(&self) -> Option<&[u8]> {
        None
    }
    /// The direction the rule being evaluated runs in (`http-request`,
    /// `tcp-request`: Req; `http-response`, `tcp-response`: Res). `hdr`
    /// reads that direction's headers. None is taken as Req.
    fn rule_dir(&self) -> Option<Dir> {
        None
    }
    /// Whether the request is the first of its connection
    /// (`http_first_req`).
    fn first_req(&self) -> Option<bool> {
        None
    }
    /// The request line kept for the logs (`%r`), which outlives the
    /// request head (`capture.req.method`, `capture.req.uri`); None when
    /// the frontend's log format does not capture it, as in 2.6.
    fn req_line(&self) -> Option<&[u8]> {
        None
    }
    /// Whether the message in `dir` was HTTP/1.1 or later, a flag kept
    /// after its head is forwarded (`capture.req.ver`, `capture.res.ver`).
    /// When None the fetch falls back to the head if it is still there.
    fn msg_ver11(&self, dir: Dir) -> Option<bool> {
        let _ = dir;
        None
    }
    /// Number of threads (`nbthread`/`thread`): one.
    fn hostname(&self) -> Option<&str> {
        None
    }
}

/// An environment with nothing in it (config-time checks, tests).
pub struct NoEnv;

impl Env for NoEnv {}
