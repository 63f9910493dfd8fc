//! HTTP/1 message head parser (sans-IO), strict as HAProxy 2.6 by default.
//!
//! ```text
//!   bytes arrive --> head_end(buf, &mut scanned) --None--> wait for more
//!                          | Some(len)
//!                          v
//!                    parse_head(buf, kind, opts, &mut hdrs) --Err--> 400 / 422 / 502
//!                          | Ok(Head { framing, flags, .. })
//!                          v
//!        body: Length(n) | Chunked -> chunk::{chunk_size, chunk_crlf, trailers}
//!              | UntilClose | Tunnel | None
//! ```
//!
//! Invariants: no function panics or allocates (`hdrs` is the caller's); every
//! `Span` lies inside the bytes parsed; `Head.len` is the length of the block
//! including leading empty lines and the final empty line; a `ParseError.pos`
//! is the offset of the offending byte as HAProxy's `show errors` reports it
//! (or the end of the block for checks made once all headers are known).
//!
//! Behaviour checked against HAProxy 2.6.12 (Debian), `mode http`, by sending
//! raw bytes to a frontend with and without `option accept-invalid-http-*`
//! (the request-smuggling cases and their outcomes are in `super::corpus`):
//!
//! | case | 2.6 outcome (pos) | accept-invalid |
//! |---|---|---|
//! | bare LF line ends (start line, headers, chunks, trailers) | accepted | |
//! | empty lines (CRLF or LF) before the start line | skipped, req and res | |
//! | CR not followed by LF (outside a header name) | reject (byte after CR) | same |
//! | SP or HT runs between start-line tokens | accepted, normalised | |
//! | leading SP / HT before the method | reject (0) | same |
//! | method char not tchar (`(`, 8-bit, NUL) | reject (char) | same |
//! | URI: CTL, SP-ended, DEL, NUL | reject (char) | same |
//! | URI: `#`, bytes >= 0x80 | reject (char) | accepted |
//! | URI: `"<>{}|\^` and other printable | accepted | |
//! | no version (HTTP/0.9 `GET /`) | reject (line end) | accepted as 1.0 |
//! | version chars outside `[A-Z0-9./]` (`http/1.1`, trailing SP) | reject (char) | same |
//! | request version not `HTTP/D.D` (`HTTP/1.10`, `XTTP/1.1`) | reject (version start) | accepted |
//! | `HTTP/2.0`, `HTTP/1.2` | accepted as 1.1 | |
//! | response version not `????/D.D` (`ABCDE1.1`) | reject (0) | accepted |
//! | status: any number of digits; empty or non-digit | accepted; reject (char) | same |
//! | header name not tchar, SP/HT before `:` | reject (char) | accepted (name = bytes up to `:`) |
//! | empty header name; line without `:` | reject (`:`; CR) | reject (`:`; LF) |
//! | obs-fold after a header | accepted, unfolded (CR LF -> SP) | |
//! | obs-fold as first header line | reject (SP) | accepted as a name |
//! | NUL, CTL, DEL, 8-bit in a header value | accepted, forwarded | |
//! | more than `maxhdr - 1` headers (default 101: 100 pass) | reject | same |
//! | Content-Length not digits / empty / sign / `5,` / `5 5` / > 2^63-1 | reject (value) | same |
//! | Content-Length duplicates or list with equal values (`5, 5`, `05`+`5`) | one `content-length: <first>` forwarded | |
//! | Content-Length differing values | reject (value of the 2nd) | same |
//! | Transfer-Encoding + Content-Length | TE wins, every CL line dropped | |
//! | ... with an invalid or conflicting Content-Length | reject (CL value) | same |
//! | request TE: `chunked` twice, or a coding after `chunked` | 400 (value) | same |
//! | request TE without `chunked` (`xchunked`, `gzip`, `""`, `chunked;q=1`) | 400 (end) | same |
//! | request TE with codings before `chunked` (`gzip, chunked`, `,chunked`) | 422 (end) | same |
//! | response TE with any coding but `chunked` | 502 (end) | same |
//! | response TE empty | until close, CL dropped | |
//! | TE in an HTTP/1.0 request or response | honoured | |
//! | two Host with different values | reject (2nd value) | same |
//! | URI authority != Host (default port per scheme ignored) | reject (Host value) | accepted |
//! | CONNECT target not `authority:digits` | reject (URI) | accepted |
//! | `Connection: upgrade` + `Upgrade: websocket` without Sec-WebSocket-Key | 400 (end) | same |
//! | 101 websocket response without Sec-WebSocket-Accept | 502 (end) | same |
//! | 1xx / 204 response | no body, CL and TE dropped | |
//! | 304, response to HEAD | no body, headers kept | |
//! | 2xx to CONNECT, 101 | tunnel | |
//!
//! Deliberate differences: a Content-Length in (2^63-1, 2^64+9] is rejected
//! (2.6.12 wraps some of them, e.g. 2^64 reads as 0 -- a smuggling vector);
//! errors in an incomplete head are found once its empty line arrived (2.6
//! rejects as soon as the bad byte arrives), except a CR not followed by LF at
//! a line start, which `head_end` reports at once.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub use super::htx_size::{fits_htx, htx_head_size, htx_head_size_received};
use bitflags::bitflags;
use memchr::memchr;

pub use super::chunk::{check_chunked, chunk_crlf, chunk_size, trailers};
use super::framing::Sem;

/// A byte range in the parsed block (offsets from the block's first byte).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Span {
    pub off: u32,
    pub len: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        // Blocks are capped at u32::MAX bytes by parse_head.
        let off = u32::try_from(start).unwrap_or(u32::MAX);
        let len = u32::try_from(end.saturating_sub(start)).unwrap_or(0);
        Span { off, len }
    }

    /// The bytes of `b` this span covers, or an empty slice if it does not fit.
    pub fn get<'a>(&self, b: &'a [u8]) -> &'a [u8] {
        b.get(self.off as usize..self.end()).unwrap_or(&[])
    }

    /// Offset just past the span.
    pub fn end(&self) -> usize {
        self.off as usize + self.len as usize
    }
}

/// Request method (HAProxy's `HTTP_METH_*`); the spelling is case-sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Options,
    Get,
    Head,
    Post,
    Put,
    Delete,
    Trace,
    Connect,
    Other,
}

impl Method {
    /// The method named by `m` (exact, case-sensitive match).
    pub fn from_bytes(m: &[u8]) -> Method {
        match m {
            b"OPTIONS" => Method::Options,
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"TRACE" => Method::Trace,
            b"CONNECT" => Method::Connect,
            _ => Method::Other,
        }
    }
}

/// Which start line the block begins with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
}

/// One header: name, value (without leading/trailing OWS), and the whole
/// line including its line end (and its obs-fold continuations).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Hdr {
    pub name: Span,
    pub value: Span,
    pub line: Span,
}

/// What the proxy's configuration changes in parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseOpts {
    /// `tune.http.maxhdr` (default 101): like HAProxy 2.6, at most
    /// `maxhdr - 1` headers are accepted.
    pub maxhdr: usize,
    /// `option accept-invalid-http-request` / `-response`.
    pub accept_invalid: bool,
    /// For responses: the request's method (HEAD, CONNECT change framing).
    pub req_method: Method,
}

impl Default for ParseOpts {
    fn default() -> ParseOpts {
        ParseOpts {
            maxhdr: 101,
            accept_invalid: false,
            req_method: Method::Get,
        }
    }
}

/// How the body is delimited (RFC 9112 section 6.3 as HAProxy 2.6 applies it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
    Tunnel,
}

bitflags! {
    /// Facts about a message head, set by `parse_head` only.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub struct MsgFlags: u32 {
        /// HTTP/1.1 or later (`HTTP/D.D` with D.D >= 1.1); else 1.0.
        const VER_11          = 0x0001;
        /// A `close` token in Connection.
        const CONN_CLOSE      = 0x0002;
        /// A `keep-alive` token in Connection.
        const CONN_KEEP_ALIVE = 0x0004;
        /// An `upgrade` token in Connection and an Upgrade header.
        const CONN_UPGRADE    = 0x0008;
        /// Request `Expect: 100-continue` (case-insensitive).
        const EXPECT_100      = 0x0010;
        /// A Content-Length header was present.
        const HAS_CL          = 0x0020;
        /// Transfer-Encoding ends with `chunked`.
        const TE_CHUNKED      = 0x0040;
        /// The analyser must delete every Content-Length line (TE present,
        /// 1xx or 204 response, CONNECT request).
        const CL_DROP         = 0x0080;
        /// Request target is absolute-form (`scheme://authority...`).
        const ABS_URI         = 0x0100;
        /// A Host header is present.
        const HAS_HOST        = 0x0200;
        /// Some value has obs-fold continuations: call `unfold` before
        /// forwarding (2.6 forwards them as one line, CR and LF as SP).
        const OBS_FOLD        = 0x0400;
        /// Several Content-Length values (duplicate lines or a list), all
        /// equal: 2.6 forwards one `content-length` line with the first value.
        const CL_MULTI        = 0x0800;
        /// The analyser must delete every Transfer-Encoding line (1xx, 204).
        const TE_DROP         = 0x1000;
    }
}

/// A parsed head. Spans are offsets in the buffer given to `parse_head`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub kind: Kind,
    /// Request only (responses: `Other` and empty spans).
    pub method: Method,
    pub meth: Span,
    pub uri: Span,
    /// Response only (requests: 0 and empty). Digits beyond u16 saturate.
    pub status: u16,
    pub reason: Span,
    /// Version text, e.g. `HTTP/1.1`; empty for an accepted HTTP/0.9 request
    /// (the analyser forwards it as `HTTP/1.0`, as 2.6 does).
    pub version: Span,
    /// First line without its line end; `start_line.off` is the length of the
    /// skipped leading empty lines, which are not forwarded.
    pub start_line: Span,
    /// Headers pushed into the caller's Vec<Hdr>.
    pub nb_hdrs: usize,
    /// Whole block including leading empty lines and the final empty line.
    pub len: usize,
    pub framing: Framing,
    pub flags: MsgFlags,
}

/// Why and where a message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Offset of the offending byte (HAProxy's "show errors" position).
    pub pos: usize,
    pub why: &'static str,
}

/// Request Transfer-Encoding with codings before `chunked`: 2.6 answers 422.
pub const WHY_TE_CODINGS: &str = "transfer-encoding with codings before chunked";
/// The head is not complete in the buffer given.
pub const WHY_INCOMPLETE: &str = "incomplete header block";

impl ParseError {
    /// The status HAProxy 2.6 answers with: 502 for a response, 422 for
    /// `WHY_TE_CODINGS`, 400 for any other request error.
    pub fn status(&self, kind: Kind) -> u16 {
        match kind {
            Kind::Response => 502,
            Kind::Request if self.why == WHY_TE_CODINGS => 422,
            Kind::Request => 400,
        }
    }
}

/// Returns `Err(ParseError { pos, why })` from the enclosing function.
macro_rules! bail {
    ($pos:expr, $why:expr) => {
        return Err($crate::http::parse::ParseError {
            pos: $pos,
            why: $why,
        })
    };
}
pub(crate) use bail;

/// RFC 9110 tchar.
pub(crate) const fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

pub(crate) fn is_sp(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

pub(crate) fn is_ows(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_ver_char(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'.' || c == b'/'
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Where an invalid byte at `i` is reported: a CR is reported on the byte
/// after it (2.6 expects its LF there).
fn bad_at(b: &[u8], i: usize, end: usize) -> usize {
    if i < end && at(b, i) == b'\r' {
        i + 1
    } else {
        i
    }
}

/// One line: content `[start, end)` without its line end, `next` after its LF.
#[derive(Clone, Copy)]
pub(crate) struct Line {
    pub start: usize,
    pub end: usize,
    pub next: usize,
}

/// The line starting at `start`, or an error: the byte after a CR at the line
/// start that is not an LF, else `WHY_INCOMPLETE` at `b.len()`.
pub(crate) fn line_at(b: &[u8], start: usize) -> Result<Line, ParseError> {
    let rest = b.get(start..).unwrap_or(&[]);
    match memchr(b'\n', rest) {
        Some(i) => {
            let lf = start + i;
            let end = if lf > start && at(b, lf - 1) == b'\r' {
                lf - 1
            } else {
                lf
            };
            Ok(Line {
                start,
                end,
                next: lf + 1,
            })
        }
        None if rest.len() >= 2 && at(b, start) == b'\r' => {
            bail!(start + 1, "CR not followed by LF")
        }
        None => bail!(b.len(), WHY_INCOMPLETE),
    }
}

/// First CR in `b[from..to]` as an error on the byte after it.
pub(crate) fn check_cr(b: &[u8], from: usize, to: usize) -> Result<(), ParseError> {
    match memchr(b'\r', b.get(from..to).unwrap_or(&[])) {
        Some(i) => bail!(from + i + 1, "CR not followed by LF"),
        None => Ok(()),
    }
}

pub(crate) fn trim(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && is_ows(at(b, s)) {
        s += 1;
    }
    while e > s && is_ows(at(b, e - 1)) {
        e -= 1;
    }
    (s, e)
}

/// Resumable scan for the end of the header block.
///
/// Precondition: `buf` starts with the message (leading empty lines
/// allowed) and `*scanned` is 0 or the value a previous call on a prefix of
/// the same bytes left. Skips leading empty lines (CRLF or bare LF, as 2.6
/// does before a request or status line), then looks for an LF followed by
/// an empty line (`\n\n` or `\n\r\n`) from `*scanned` on, and leaves in
/// `*scanned` where the next call resumes, so no byte is searched twice.
/// Returns the length of the block including the final empty line, or,
/// when a line starts with a CR not followed by an LF, the length up to that
/// byte so that `parse_head` reports it at once (2.6 rejects it as soon as it
/// arrives). None: need more bytes.
pub fn head_end(buf: &[u8], scanned: &mut usize) -> Option<usize> {
    let mut skip = 0;
    loop {
        match buf.get(skip) {
            Some(b'\n') => skip += 1,
            Some(b'\r') => match buf.get(skip + 1) {
                Some(b'\n') => skip += 2,
                Some(_) => return Some(skip + 2),
                None => return None,
            },
            _ => break,
        }
    }
    let mut from = (*scanned).max(skip);
    while let Some(i) = memchr(b'\n', buf.get(from..).unwrap_or(&[])) {
        let lf = from + i;
        match (buf.get(lf + 1), buf.get(lf + 2)) {
            (Some(b'\n'), _) => return Some(lf + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
            (Some(b'\r'), Some(_)) => return Some(lf + 3),
            (None, _) | (Some(b'\r'), None) => {
                *scanned = lf;
                return None;
            }
            _ => from = lf + 1,
        }
    }
    *scanned = buf.len().max(skip);
    None
}

/// The start line as parsed.
#[derive(Default)]
struct Start {
    meth: Span,
    uri: Span,
    version: Span,
    status: u16,
    reason: Span,
}

/// `HTTP/D.D` (request) or `????/D.D` (response), as 2.6 validates it.
fn version_ok(v: &[u8], kind: Kind) -> bool {
    match (kind, v) {
        (Kind::Request, [b'H', b'T', b'T', b'P', b'/', a, b'.', c]) => {
            a.is_ascii_digit() && c.is_ascii_digit()
        }
        (Kind::Response, [_, _, _, _, b'/', a, b'.', c]) => {
            a.is_ascii_digit() && c.is_ascii_digit()
        }
        _ => false,
    }
}

/// HTTP/1.1 or later.
fn version_11(v: &[u8]) -> bool {
    match v {
        [_, _, _, _, _, a, b'.', c] if a.is_ascii_digit() && c.is_ascii_digit() => {
            *a > b'1' || (*a == b'1' && *c >= b'1')
        }
        _ => false,
    }
}

fn skip_sp(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && is_sp(at(b, i)) {
        i += 1;
    }
    i
}

/// Scans a version token from `i`; errors on a byte outside `[A-Z0-9./]`.
fn scan_version(b: &[u8], mut i: usize, end: usize) -> Result<usize, ParseError> {
    while i < end && !is_sp(at(b, i)) {
        if !is_ver_char(at(b, i)) {
            bail!(bad_at(b, i, end), "invalid version");
        }
        i += 1;
    }
    Ok(i)
}

fn request_line(b: &[u8], l: Line, opts: &ParseOpts) -> Result<Start, ParseError> {
    let (s, end) = (l.start, l.end);
    let mut i = s;
    while i < end && is_tchar(at(b, i)) {
        i += 1;
    }
    if i == s || (i < end && !is_sp(at(b, i))) {
        bail!(bad_at(b, i, end), "invalid method");
    }
    if i == end {
        bail!(end, "truncated request line");
    }
    let meth = Span::new(s, i);
    i = skip_sp(b, i, end);
    let u = i;
    while i < end && !is_sp(at(b, i)) {
        let c = at(b, i);
        if c < 0x20 || c == 0x7f || (!opts.accept_invalid && (c == b'#' || c >= 0x80)) {
            bail!(bad_at(b, i, end), "invalid URI");
        }
        i += 1;
    }
    if i == u {
        bail!(end, "missing URI");
    }
    let uri = Span::new(u, i);
    i = skip_sp(b, i, end);
    if i == end {
        if !opts.accept_invalid {
            bail!(end, "missing version (HTTP/0.9)");
        }
        return Ok(Start {
            meth,
            uri,
            version: Span::new(end, end),
            ..Start::default()
        });
    }
    let v = i;
    i = scan_version(b, i, end)?;
    if i < end {
        bail!(i, "invalid version");
    }
    if !opts.accept_invalid && !version_ok(b.get(v..i).unwrap_or(&[]), Kind::Request) {
        bail!(v, "invalid version");
    }
    Ok(Start {
        meth,
        uri,
        version: Span::new(v, i),
        ..Start::default()
    })
}

fn status_line(b: &[u8], l: Line, opts: &ParseOpts) -> Result<Start, ParseError> {
    let (s, end) = (l.start, l.end);
    let mut i = scan_version(b, s, end)?;
    if i == end {
        bail!(end, "truncated status line");
    }
    let version = Span::new(s, i);
    i = skip_sp(b, i, end);
    let st = i;
    let mut status: u32 = 0;
    while i < end && at(b, i).is_ascii_digit() {
        status = status
            .saturating_mul(10)
            .saturating_add(u32::from(at(b, i) - b'0'));
        i += 1;
    }
    if i == st || (i < end && !is_sp(at(b, i))) {
        bail!(bad_at(b, i, end), "invalid status");
    }
    i = skip_sp(b, i, end);
    check_cr(b, i, end)?;
    // 2.6 checks the version's form once the whole line is parsed.
    if !opts.accept_invalid && !version_ok(version.get(b), Kind::Response) {
        bail!(s, "invalid version");
    }
    let status = u16::try_from(status).unwrap_or(u16::MAX);
    Ok(Start {
        version,
        status,
        reason: Span::new(i, end),
        ..Start::default()
    })
}

/// A header whose line may still get obs-fold continuations.
#[derive(Clone, Copy)]
struct Pending {
    name: Span,
    vstart: usize,
    vend: usize,
    line: usize,
    next: usize,
}

/// Parses the head at the start of `buf` (a complete block, as found by
/// `head_end`; bytes after it are ignored).
///
/// Clears `hdrs` and pushes one `Hdr` per header (at most `opts.maxhdr`, so
/// it never reallocates when `hdrs.capacity() >= opts.maxhdr`). Returns the
/// head, or the first error as HAProxy 2.6 reports it (`ParseError::status`
/// gives the answer; a block that does not end in `buf` is `WHY_INCOMPLETE`).
pub fn parse_head(
    buf: &[u8],
    kind: Kind,
    opts: &ParseOpts,
    hdrs: &mut Vec<Hdr>,
) -> Result<Head, ParseError> {
    hdrs.clear();
    let b = buf.get(..buf.len().min(u32::MAX as usize)).unwrap_or(&[]);
    let mut pos = 0;
    while let Some(&c) = b.get(pos) {
        match c {
            b'\n' => pos += 1,
            b'\r' if at(b, pos + 1) == b'\n' => pos += 2,
            b'\r' if pos + 1 < b.len() => bail!(pos + 1, "CR not followed by LF"),
            b'\r' => bail!(b.len(), WHY_INCOMPLETE),
            _ => break,
        }
    }
    let l = line_at(b, pos)?;
    let start = match kind {
        Kind::Request => request_line(b, l, opts)?,
        Kind::Response => status_line(b, l, opts)?,
    };
    let mut sem = Sem::default();
    let mut pending: Option<Pending> = None;
    let mut count = 0;
    pos = l.next;
    let len = loop {
        let h = line_at(b, pos)?;
        pos = h.next;
        let c0 = at(b, h.start);
        if h.start < h.end && c0 == b'\r' {
            bail!(h.start + 1, "CR not followed by LF");
        }
        if h.start < h.end && is_sp(c0) {
            if let Some(p) = pending.as_mut() {
                check_cr(b, h.start, h.end)?;
                let (s, e) = trim(b, h.start, h.end);
                if s < e {
                    p.vend = e;
                }
                p.next = h.next;
                sem.flags |= MsgFlags::OBS_FOLD;
                continue;
            }
            if !opts.accept_invalid {
                bail!(h.start, "obs-fold before any header");
            }
        }
        if let Some(p) = pending.take() {
            finish(b, kind, opts, p, &mut count, &mut sem, hdrs)?;
        }
        if h.start == h.end {
            break h.next;
        }
        let colon = if opts.accept_invalid {
            match memchr(b':', b.get(h.start..h.end).unwrap_or(&[])) {
                Some(i) => h.start + i,
                None => bail!(h.next - 1, "header without colon"),
            }
        } else {
            let mut i = h.start;
            while i < h.end && is_tchar(at(b, i)) {
                i += 1;
            }
            if at(b, i) != b':' || i == h.end {
                bail!(i, "invalid header name");
            }
            i
        };
        if colon == h.start {
            bail!(colon, "empty header name");
        }
        check_cr(b, colon, h.end)?;
        let vstart = skip_sp(b, colon + 1, h.end);
        let name = Span::new(h.start, colon);
        pending = Some(Pending {
            name,
            vstart,
            vend: h.end,
            line: h.start,
            next: h.next,
        });
    };
    if count >= opts.maxhdr.max(1) {
        bail!(len, "too many headers");
    }
    let mut head = Head {
        kind,
        method: Method::Other,
        meth: start.meth,
        uri: start.uri,
        status: start.status,
        reason: start.reason,
        version: start.version,
        start_line: Span::new(l.start, l.end),
        nb_hdrs: count,
        len,
        framing: Framing::None,
        flags: MsgFlags::empty(),
    };
    if version_11(head.version.get(b)) {
        head.flags |= MsgFlags::VER_11;
    }
    sem.complete(b, &mut head, opts)?;
    Ok(head)
}

/// Completes a header: counts it against maxhdr (error at the line after it),
/// pushes it, applies its meaning.
fn finish(
    b: &[u8],
    kind: Kind,
    opts: &ParseOpts,
    p: Pending,
    count: &mut usize,
    sem: &mut Sem,
    hdrs: &mut Vec<Hdr>,
) -> Result<(), ParseError> {
    *count += 1;
    if *count > opts.maxhdr {
        bail!(p.next, "too many headers");
    }
    let (s, e) = trim(b, p.vstart, p.vend);
    let hdr = Hdr {
        name: p.name,
        value: Span::new(s, e),
        line: Span::new(p.line, p.next),
    };
    hdrs.push(hdr);
    sem.header(b, kind, p.name.get(b), hdr.value)
}

/// Lowercases every header name in place (2.6 emits HTTP/1 header names in
/// lower case). Spans outside `buf` are skipped.
pub fn lowercase_names(buf: &mut [u8], hdrs: &[Hdr]) {
    for h in hdrs {
        if let Some(n) = buf.get_mut(h.name.off as usize..h.name.end()) {
            n.make_ascii_lowercase();
        }
    }
}

/// Replaces the CR and LF of obs-fold continuations inside every header value
/// by SP, in place (2.6 forwards a folded value as one line). Needed only
/// when `MsgFlags::OBS_FOLD` is set.
pub fn unfold(buf: &mut [u8], hdrs: &[Hdr]) {
    for h in hdrs {
        // From the colon on: a fold may come before the value's first byte.
        if let Some(v) = buf.get_mut(h.name.end()..h.value.end()) {
            for c in v.iter_mut().filter(|c| **c == b'\r' || **c == b'\n') {
                *c = b' ';
            }
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
pub(crate) mod tests;
