//! Header edits in place on a message head held in a channel buffer's input.
//!
//! The head is parsed once into the caller's header table; each edit
//! shifts the bytes after it (`Buffer::replace_input`) and re-parses, so the
//! table always matches the buffer. Edits are rare (configured actions,
//! `forwardfor`, a `Content-Length` dropped for `Transfer-Encoding`): the
//! common path only parses.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::parse::{self, Hdr, Head, Kind, ParseError, ParseOpts, Span};
use crate::buf::Buffer;

/// A head under edit: the buffer whose input starts with it, its parse,
/// and the header table.
pub struct HeadEdit<'a> {
    pub buf: &'a mut Buffer,
    pub head: Head,
    pub hdrs: &'a mut HdrTable,
    pub kind: Kind,
    pub opts: ParseOpts,
    /// The message's framing and connection state were read already and
    /// will not be read again: edits, even of `connection`, only move
    /// spans (the cached parse is then dropped, its flags being stale).
    pub settled: bool,
}

/// The header table of the last head parsed, and which buffer content it
/// describes: the buffer's generation when it was parsed (or last edited
/// through [`HeadEdit`], which keeps the table in step). A head opened
/// again while the buffer has not changed is not parsed again: the rules,
/// the frontend and backend processing and the header actions of one
/// request share one parse.
///
/// Any write to the table through `DerefMut` forgets the key, so a table
/// filled by anyone else is never mistaken for a known parse.
#[derive(Debug, Default)]
pub struct HdrTable {
    v: Vec<Hdr>,
    key: Option<(u64, Kind, Head)>,
}

impl HdrTable {
    pub fn with_capacity(n: usize) -> Self {
        HdrTable {
            v: Vec::with_capacity(n),
            key: None,
        }
    }

    /// Records that the table holds the parse `head` of `buf`'s input.
    pub fn remember(&mut self, buf: &Buffer, kind: Kind, head: Head) {
        self.key = Some((buf.generation(), kind, head));
    }

    /// The head parsed from `buf`'s input as it is now, when known.
    pub fn known(&self, buf: &Buffer, kind: Kind) -> Option<Head> {
        match &self.key {
            Some((g, k, h)) if *g == buf.generation() && *k == kind => Some(*h),
            _ => None,
        }
    }

    /// The head at the start of `buf`'s input, parsed unless known.
    pub fn parse(
        &mut self,
        buf: &mut Buffer,
        kind: Kind,
        opts: &ParseOpts,
    ) -> Result<Head, ParseError> {
        if let Some(h) = self.known(buf, kind) {
            return Ok(h);
        }
        let head = parse_input(buf, kind, opts, &mut self.v)?;
        self.remember(buf, kind, head);
        Ok(head)
    }
}

impl std::ops::Deref for HdrTable {
    type Target = Vec<Hdr>;
    fn deref(&self) -> &Vec<Hdr> {
        &self.v
    }
}

impl std::ops::DerefMut for HdrTable {
    fn deref_mut(&mut self) -> &mut Vec<Hdr> {
        self.key = None;
        &mut self.v
    }
}

/// Why an edit could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditError {
    /// No room left in the buffer (HAProxy answers 500 then, or 502 for a
    /// response: "rewrite failed").
    NoRoom,
    /// The edited head no longer parses (a bad value from the config).
    Invalid(ParseError),
}

/// Parses the head at the start of `buf`'s input (realigning it if it
/// wraps) into `hdrs`.
fn parse_input(
    buf: &mut Buffer,
    kind: Kind,
    opts: &ParseOpts,
    hdrs: &mut Vec<Hdr>,
) -> Result<Head, ParseError> {
    let mut scanned = 0;
    let data = buf.in_contig();
    let Some(len) = parse::head_end(data, &mut scanned) else {
        return Err(ParseError {
            pos: data.len(),
            why: parse::WHY_INCOMPLETE,
        });
    };
    parse::parse_head(data.get(..len).unwrap_or(&[]), kind, opts, hdrs)
}

impl<'a> HeadEdit<'a> {
    /// Opens the head at the start of `buf`'s input for reading or edits
    /// (a head the analysers already parsed once).
    pub fn open(
        buf: &'a mut Buffer,
        kind: Kind,
        opts: ParseOpts,
        hdrs: &'a mut HdrTable,
    ) -> Result<HeadEdit<'a>, EditError> {
        let head = hdrs.parse(buf, kind, &opts).map_err(EditError::Invalid)?;
        Ok(HeadEdit {
            buf,
            head,
            hdrs,
            kind,
            opts,
            settled: false,
        })
    }
}

impl HeadEdit<'_> {
    /// The head's bytes.
    pub fn bytes(&mut self) -> &[u8] {
        let data = self.buf.in_contig();
        data.get(..self.head.len.min(data.len())).unwrap_or(&[])
    }

    /// True when header `i`'s name equals `name` (case-insensitive).
    pub fn name_is(&mut self, i: usize, name: &[u8]) -> bool {
        let Some(h) = self.hdrs.get(i).copied() else {
            return false;
        };
        h.name.get(self.bytes()).eq_ignore_ascii_case(name)
    }

    /// Indexes of the headers named `name`.
    pub fn find(&mut self, name: &[u8], out: &mut Vec<usize>) {
        out.clear();
        for i in 0..self.hdrs.len() {
            if self.name_is(i, name) {
                out.push(i);
            }
        }
    }

    /// The value of the first header named `name`.
    pub fn value(&mut self, name: &[u8]) -> Option<Vec<u8>> {
        for i in 0..self.hdrs.len() {
            if self.name_is(i, name) {
                let h = self.hdrs.get(i).copied()?;
                return Some(h.value.get(self.bytes()).to_vec());
            }
        }
        None
    }

    /// `capture cookie`: the first cookie whose name starts with `prefix`,
    /// as `name=value` cut to `len`, into `out` (left empty when none). A
    /// request's `Cookie` headers hold `;`-separated cookies; a response's
    /// `Set-Cookie` one cookie, then its attributes.
    pub fn capture_cookie(&mut self, prefix: &[u8], len: usize, out: &mut Vec<u8>) {
        out.clear();
        let set_cookie = self.kind == Kind::Response;
        let name: &[u8] = if set_cookie { b"set-cookie" } else { b"cookie" };
        for i in 0..self.hdrs.len() {
            if !self.name_is(i, name) {
                continue;
            }
            let Some(h) = self.hdrs.get(i).copied() else {
                continue;
            };
            if let Some(c) = cookie_match(h.value.get(self.bytes()), prefix, set_cookie) {
                out.extend_from_slice(c.get(..len.min(c.len())).unwrap_or(c));
                return;
            }
        }
    }

    /// Whether the parser derives message state from headers named `name`
    /// (framing, connection, host...): editing those needs a full re-parse;
    /// others only move spans.
    fn semantic(name: &[u8]) -> bool {
        const SEM: &[&[u8]] = &[
            b"content-length",
            b"transfer-encoding",
            b"host",
            b"connection",
            b"upgrade",
            b"expect",
            b"sec-websocket-key",
            b"sec-websocket-accept",
        ];
        SEM.iter().any(|s| s.eq_ignore_ascii_case(name))
    }

    fn reparse(&mut self) -> Result<(), EditError> {
        self.head =
            parse_input(self.buf, self.kind, &self.opts, self.hdrs).map_err(EditError::Invalid)?;
        self.remember();
        Ok(())
    }

    /// Records that the table describes the buffer as it is now (after an
    /// edit kept it in step, or after in-place normalisation).
    pub fn remember(&mut self) {
        if self.settled {
            // Spans are right, flags may not be: the next open parses.
            self.hdrs.key = None;
        } else {
            self.hdrs.remember(self.buf, self.kind, self.head);
        }
    }

    /// Whether editing `name` needs a full re-parse.
    fn needs_reparse(&self, name: &[u8]) -> bool {
        !self.settled && Self::semantic(name)
    }

    /// Replaces `span` of the head by `ins` and re-parses.
    pub fn replace(&mut self, off: usize, del: usize, ins: &[u8]) -> Result<(), EditError> {
        if !self.buf.replace_input(off, del, ins) {
            return Err(EditError::NoRoom);
        }
        self.reparse()
    }

    /// Deletes every header named `name`; returns how many.
    pub fn del(&mut self, name: &[u8]) -> Result<usize, EditError> {
        let mut n = 0;
        let mut i = self.hdrs.len();
        while i > 0 {
            i -= 1;
            if self.name_is(i, name) {
                let Some(h) = self.hdrs.get(i).copied() else {
                    break;
                };
                if !self
                    .buf
                    .replace_input(h.line.off as usize, h.line.len as usize, b"")
                {
                    return Err(EditError::NoRoom);
                }
                // Earlier spans stay valid; later ones move back.
                self.head.len -= h.line.len as usize;
                self.hdrs.remove(i);
                for later in self.hdrs.iter_mut().skip(i) {
                    for sp in [&mut later.name, &mut later.value, &mut later.line] {
                        sp.off -= h.line.len;
                    }
                }
                n += 1;
            }
        }
        if n > 0 {
            if self.needs_reparse(name) {
                self.reparse()?;
            } else {
                self.head.nb_hdrs = self.hdrs.len();
                self.remember();
            }
        }
        Ok(n)
    }

    /// Appends `name: value` as the last header.
    pub fn add(&mut self, name: &[u8], value: &[u8]) -> Result<(), EditError> {
        // Insert before the empty line, with the line end the head uses.
        let bytes = self.bytes();
        let crlf = bytes.ends_with(b"\r\n");
        let at = self.head.len - if crlf { 2 } else { 1 };
        let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let parts: [&[u8]; 3] = [b": ", value, eol];
        let n = name.len() + parts.iter().map(|p| p.len()).sum::<usize>();
        // Built on the stack when it fits (the `connection` header of every
        // closing response): no allocation per request.
        let mut small = [0u8; 128];
        let mut big = Vec::new();
        let line: &mut [u8] = match small.get_mut(..n) {
            Some(l) => l,
            None => {
                big.resize(n, 0);
                &mut big
            }
        };
        // Names go out in lower case, as HAProxy 2.6 emits them.
        let mut at_w = 0;
        for (d, c) in line.iter_mut().zip(name) {
            *d = c.to_ascii_lowercase();
            at_w += 1;
        }
        for p in parts {
            if let Some(d) = line.get_mut(at_w..at_w + p.len()) {
                d.copy_from_slice(p);
            }
            at_w += p.len();
        }
        if self.needs_reparse(name) {
            return self.replace(at, 0, line);
        }
        // Any other header only adds a line at the end of the table.
        if !self.buf.replace_input(at, 0, line) {
            return Err(EditError::NoRoom);
        }
        let span = |off: usize, len: usize| Span {
            off: u32::try_from(off).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(0),
        };
        self.hdrs.push(Hdr {
            name: span(at, name.len()),
            value: span(at + name.len() + 2, value.len()),
            line: span(at, n),
        });
        self.head.len += n;
        self.head.nb_hdrs = self.hdrs.len();
        self.remember();
        Ok(())
    }

    /// Deletes every `name` header, then adds one with `value`.
    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), EditError> {
        self.del(name)?;
        self.add(name, value)
    }

    /// True when the head is not in the canonical form HAProxy 2.6 emits
    /// (bare LF line ends, start-line words separated by anything but one
    /// space): such a head is rebuilt before it is forwarded, so that a
    /// server never parses what the proxy did not. Two bytes per line are
    /// looked at; a regular head costs nothing more.
    pub fn is_irregular(&mut self) -> bool {
        let h = self.head;
        self.buf.in_contig();
        let b = self.buf.in_data().0;
        let crlf = |end: usize| end >= 2 && b.get(end - 2) == Some(&b'\r');
        let sl = h.start_line;
        let words = match h.kind {
            Kind::Request => h.meth.len + h.uri.len + h.version.len,
            Kind::Response => sl
                .len
                .saturating_sub(2)
                .min(h.version.len + h.reason.len + 3),
        };
        let sl_ok = match h.kind {
            Kind::Request => {
                sl.len == words + 2
                    && b.get(h.meth.end()) == Some(&b' ')
                    && b.get(h.uri.end()) == Some(&b' ')
                    && b.get(sl.end()) == Some(&b'\r')
            }
            Kind::Response => b.get(sl.end()) == Some(&b'\r'),
        };
        !sl_ok || !crlf(h.len) || self.hdrs.iter().any(|x| !crlf(x.line.end()))
    }

    /// Rewrites the head in canonical form: `method SP uri SP version` (or
    /// the status line as received), each header as `name: value`, CRLF
    /// line ends.
    pub fn rebuild(&mut self) -> Result<(), EditError> {
        let h = self.head;
        self.buf.in_contig();
        let b = self.buf.in_data().0;
        let mut out = Vec::with_capacity(h.len + 16);
        match h.kind {
            Kind::Request => {
                out.extend_from_slice(h.meth.get(b));
                out.push(b' ');
                out.extend_from_slice(h.uri.get(b));
                out.push(b' ');
                let v = h.version.get(b);
                out.extend_from_slice(if v.is_empty() { b"HTTP/1.0" } else { v });
            }
            Kind::Response => out.extend_from_slice(h.start_line.get(b)),
        }
        out.extend_from_slice(b"\r\n");
        for x in self.hdrs.iter() {
            out.extend_from_slice(x.name.get(b));
            out.extend_from_slice(b": ");
            out.extend_from_slice(x.value.get(b));
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        self.replace(0, h.len, &out)
    }

    /// Replaces the request URI (start line) by `uri`.
    pub fn set_uri(&mut self, uri: &[u8]) -> Result<(), EditError> {
        let u = self.head.uri;
        self.replace(u.off as usize, u.len as usize, uri)
    }

    /// Replaces a response's status code and reason.
    pub fn set_status(&mut self, code: u16, reason: &[u8]) -> Result<(), EditError> {
        let v = self.head.version;
        let start = v.off as usize + v.len as usize + 1;
        let sl = self.head.start_line;
        let end = sl.off as usize + sl.len as usize;
        let mut out = Vec::with_capacity(4 + reason.len());
        out.extend_from_slice(code.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(reason);
        self.replace(start, end.saturating_sub(start), &out)
    }

    /// Replaces the request method by `meth`.
    pub fn set_method(&mut self, meth: &[u8]) -> Result<(), EditError> {
        let m = self.head.meth;
        self.replace(m.off as usize, m.len as usize, meth)
    }
}

/// The cookie of one `Cookie` (all of its `;`-separated ones) or
/// `Set-Cookie` (its first part) header value whose name starts with
/// `prefix`, trimmed: `name=value`.
pub fn cookie_match<'a>(value: &'a [u8], prefix: &[u8], set_cookie: bool) -> Option<&'a [u8]> {
    let mut parts = value.split(|&b| b == b';');
    let trim = |c: &'a [u8]| c.trim_ascii();
    if set_cookie {
        return parts.next().map(trim).filter(|c| c.starts_with(prefix));
    }
    parts.map(trim).find(|c| c.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse::Method;

    #[test]
    fn cookie_match_takes_the_first_cookie_by_prefix() {
        fn m<'a>(v: &'a str, p: &str, set: bool) -> Option<&'a [u8]> {
            cookie_match(v.as_bytes(), p.as_bytes(), set)
        }
        assert_eq!(
            m("a=1; SESSID=abc; x=2", "SESS", false),
            Some(&b"SESSID=abc"[..])
        );
        assert_eq!(m("a=1;SESSb=2", "SESS", false), Some(&b"SESSb=2"[..]));
        assert_eq!(m("sess=1", "SESS", false), None);
        assert_eq!(
            m("SESSID=xyz; Path=/", "SESS", true),
            Some(&b"SESSID=xyz"[..])
        );
        // A Set-Cookie's attributes are not cookies.
        assert_eq!(m("a=1; SESSION=x", "SESS", true), None);
        assert_eq!(m("SESSID=1", "SESSID=", false), Some(&b"SESSID=1"[..]));
    }

    fn edit_on(buf: &mut Buffer, hdrs: &mut Vec<Hdr>) -> Option<(Head, ParseOpts)> {
        let opts = ParseOpts {
            maxhdr: 101,
            accept_invalid: false,
            req_method: Method::Get,
        };
        let mut sc = 0;
        let data = buf.in_contig();
        let len = parse::head_end(data, &mut sc)?;
        let head = parse::parse_head(data.get(..len)?, Kind::Request, &opts, hdrs).ok()?;
        Some((head, opts))
    }

    fn text(b: &Buffer) -> String {
        let (x, y) = b.in_data();
        String::from_utf8_lossy(&[x, y].concat()).into_owned()
    }

    #[test]
    fn add_set_del_keep_the_table_in_step() {
        let mut buf = Buffer::new(256);
        buf.put(b"GET /a HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 0\r\nA: 2\r\n\r\n");
        let mut hdrs = HdrTable::default();
        let Some((head, opts)) = edit_on(&mut buf, &mut hdrs) else {
            panic!("head did not parse");
        };
        let mut e = HeadEdit {
            buf: &mut buf,
            head,
            hdrs: &mut hdrs,
            kind: Kind::Request,
            opts,
            settled: false,
        };
        assert_eq!(e.del(b"a"), Ok(2));
        assert_eq!(e.hdrs.len(), 2);
        assert_eq!(e.del(b"b"), Ok(1));
        assert_eq!(e.add(b"X-Forwarded-For", b"127.0.0.1"), Ok(()));
        assert_eq!(e.set(b"host", b"example"), Ok(()));
        assert_eq!(e.value(b"HOST"), Some(b"example".to_vec()));
        assert_eq!(e.set_uri(b"/new?q"), Ok(()));
        assert_eq!(e.set_method(b"POST"), Ok(()));
        assert_eq!(
            text(&buf),
            "POST /new?q HTTP/1.1\r\nx-forwarded-for: 127.0.0.1\r\nhost: example\r\n\r\n"
        );
    }

    #[test]
    fn incremental_edits_leave_the_table_a_fresh_parse_would_build() {
        let mut buf = Buffer::new(512);
        buf.put(b"GET /a HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 0\r\nA: 2\r\nC: 3\r\n\r\n");
        let mut hdrs = HdrTable::default();
        let opts = ParseOpts {
            maxhdr: 101,
            accept_invalid: false,
            req_method: Method::Get,
        };
        let Ok(mut e) = HeadEdit::open(&mut buf, Kind::Request, opts, &mut hdrs) else {
            panic!("head did not parse");
        };
        assert_eq!(e.del(b"a"), Ok(2));
        assert_eq!(e.add(b"X-Map", b"pool-1"), Ok(()));
        assert_eq!(e.set(b"C", b"33"), Ok(()));
        let (len, n) = (e.head.len, e.head.nb_hdrs);
        let kept = e.hdrs.known(e.buf, Kind::Request).map(|h| h.len);
        let got: Vec<(u32, u32, u32, u32, u32, u32)> = e
            .hdrs
            .iter()
            .map(|h| {
                (
                    h.name.off,
                    h.name.len,
                    h.value.off,
                    h.value.len,
                    h.line.off,
                    h.line.len,
                )
            })
            .collect();
        let mut fresh = Vec::new();
        let Some((head2, _)) = edit_on(&mut buf, &mut fresh) else {
            panic!("edited head did not parse");
        };
        let want: Vec<(u32, u32, u32, u32, u32, u32)> = fresh
            .iter()
            .map(|h| {
                (
                    h.name.off,
                    h.name.len,
                    h.value.off,
                    h.value.len,
                    h.line.off,
                    h.line.len,
                )
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!((len, n), (head2.len, head2.nb_hdrs));
        // The edits kept the table's key: the next open reuses this parse.
        assert_eq!(kept, Some(len));
        assert_eq!(
            text(&buf),
            "GET /a HTTP/1.1\r\nHost: x\r\nB: 0\r\nx-map: pool-1\r\nc: 33\r\n\r\n"
        );
    }

    #[test]
    fn an_edit_that_does_not_fit_changes_nothing() {
        let mut buf = Buffer::new(48);
        buf.put(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut hdrs = HdrTable::default();
        let Some((head, opts)) = edit_on(&mut buf, &mut hdrs) else {
            panic!("head did not parse");
        };
        let mut e = HeadEdit {
            buf: &mut buf,
            head,
            hdrs: &mut hdrs,
            kind: Kind::Request,
            opts,
            settled: false,
        };
        assert_eq!(e.add(b"X-Long", &[b'v'; 40]), Err(EditError::NoRoom));
        assert_eq!(text(&buf), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    }
}
