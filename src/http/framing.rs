//! What the headers of an HTTP/1 head mean (sans-IO): Content-Length,
//! Transfer-Encoding, Host, Connection, Upgrade, Expect; the checks HAProxy
//! 2.6 makes once all headers are known; the body framing (RFC 9112 section
//! 6.3 as 2.6 applies it, see the table in `super::parse`); and the check
//! that a request's Host matches its target's authority.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::parse::{
    Framing, Head, Kind, Method, MsgFlags, ParseError, ParseOpts, Span, WHY_TE_CODINGS, bail, trim,
};

/// Comma-separated list elements of `v`, each trimmed of OWS.
fn elements(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&c| c == b',').map(|e| {
        let (s, t) = trim(e, 0, e.len());
        e.get(s..t).unwrap_or(&[])
    })
}

/// Semantic state gathered over the headers.
#[derive(Default)]
pub(crate) struct Sem {
    cl: Option<u64>,
    cl_count: usize,
    te_seen: bool,
    chunked: bool,
    te_before: bool,
    te_after: bool,
    host: Option<Span>,
    conn_upgrade: bool,
    has_upgrade: bool,
    upgrade_ws: bool,
    ws_key: bool,
    ws_accept: bool,
    pub(crate) flags: MsgFlags,
}

/// Content-Length value: comma-separated decimal elements, all equal, each
/// at most 2^63-1. None: invalid.
fn parse_cl(v: &[u8]) -> Option<(u64, usize)> {
    let mut first = None;
    let mut n = 0;
    for e in elements(v) {
        if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut x: u64 = 0;
        for &d in e {
            x = x.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        if x > i64::MAX as u64 || first.is_some_and(|f| f != x) {
            return None;
        }
        first = Some(x);
        n += 1;
    }
    first.map(|f| (f, n))
}

impl Sem {
    /// Applies one complete header (value already trimmed).
    pub(crate) fn header(
        &mut self,
        b: &[u8],
        kind: Kind,
        name: &[u8],
        v: Span,
    ) -> Result<(), ParseError> {
        let val = v.get(b);
        let vpos = v.off as usize;
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("content-length") {
            let Some((x, n)) = parse_cl(val) else {
                bail!(vpos, "invalid content-length")
            };
            if self.cl.is_some_and(|c| c != x) {
                bail!(vpos, "conflicting content-length");
            }
            self.cl = Some(x);
            self.cl_count += n;
            self.flags |= MsgFlags::HAS_CL;
        } else if is("transfer-encoding") {
            self.te_seen = true;
            let last = elements(val).count().saturating_sub(1);
            for (i, e) in elements(val).enumerate() {
                if e.is_empty() && i == last {
                    continue;
                }
                if e.eq_ignore_ascii_case(b"chunked") {
                    if self.chunked {
                        bail!(vpos, "chunked applied twice");
                    }
                    self.chunked = true;
                } else if !self.chunked {
                    self.te_before = true;
                } else if kind == Kind::Request {
                    bail!(vpos, "coding after chunked");
                } else {
                    self.te_after = true;
                }
            }
        } else if is("host") && kind == Kind::Request {
            if let Some(h) = self.host {
                if !h.get(b).eq_ignore_ascii_case(val) {
                    bail!(vpos, "conflicting host");
                }
            } else {
                self.host = Some(v);
            }
            self.flags |= MsgFlags::HAS_HOST;
        } else if is("connection") {
            for e in elements(val) {
                if e.eq_ignore_ascii_case(b"close") {
                    self.flags |= MsgFlags::CONN_CLOSE;
                } else if e.eq_ignore_ascii_case(b"keep-alive") {
                    self.flags |= MsgFlags::CONN_KEEP_ALIVE;
                } else if e.eq_ignore_ascii_case(b"upgrade") {
                    self.conn_upgrade = true;
                }
            }
        } else if is("upgrade") {
            self.has_upgrade = true;
            self.upgrade_ws |= elements(val).any(|e| e.eq_ignore_ascii_case(b"websocket"));
        } else if is("expect") && kind == Kind::Request {
            if val.eq_ignore_ascii_case(b"100-continue") {
                self.flags |= MsgFlags::EXPECT_100;
            }
        } else if is("sec-websocket-key") {
            self.ws_key |= !val.is_empty();
        } else if is("sec-websocket-accept") {
            self.ws_accept |= !val.is_empty();
        }
        Ok(())
    }

    /// Once every header is in: sets the flags they imply, makes the checks
    /// that need all of them (errors at the end of the block), and sets the
    /// framing.
    pub(crate) fn complete(
        &self,
        b: &[u8],
        head: &mut Head,
        opts: &ParseOpts,
    ) -> Result<(), ParseError> {
        let len = head.len;
        head.flags |= self.flags;
        if self.conn_upgrade && self.has_upgrade {
            head.flags |= MsgFlags::CONN_UPGRADE;
        }
        if self.cl_count > 1 {
            head.flags |= MsgFlags::CL_MULTI;
        }
        if self.chunked {
            head.flags |= MsgFlags::TE_CHUNKED;
        }
        let ws = head.flags.contains(MsgFlags::CONN_UPGRADE) && self.upgrade_ws;
        match head.kind {
            Kind::Request => {
                head.method = Method::from_bytes(head.meth.get(b));
                if head.method == Method::Connect
                    && !opts.accept_invalid
                    && !connect_target_ok(head.uri.get(b))
                {
                    bail!(
                        head.uri.off as usize,
                        "CONNECT target is not authority-form"
                    );
                }
                if self.te_seen && !self.chunked {
                    bail!(len, "transfer-encoding without chunked");
                }
                if self.chunked && self.te_before {
                    bail!(len, WHY_TE_CODINGS);
                }
                if ws && !self.ws_key {
                    bail!(len, "websocket upgrade without Sec-WebSocket-Key");
                }
                check_authority(b, head, self.host, opts)?;
                self.request_framing(head);
            }
            Kind::Response => {
                if self.te_before || self.te_after {
                    bail!(len, "transfer-encoding with codings other than chunked");
                }
                if head.status == 101 && ws && !self.ws_accept {
                    bail!(len, "websocket 101 without Sec-WebSocket-Accept");
                }
                self.response_framing(head, opts);
            }
        }
        Ok(())
    }

    fn request_framing(&self, head: &mut Head) {
        if head.method == Method::Connect {
            // The analyser turns the stream into a tunnel after a 2xx.
            if self.cl.is_some() {
                head.flags |= MsgFlags::CL_DROP;
            }
            head.framing = Framing::None;
        } else if self.chunked {
            if self.cl.is_some() {
                head.flags |= MsgFlags::CL_DROP;
            }
            head.framing = Framing::Chunked;
        } else {
            head.framing = self.cl.map_or(Framing::None, Framing::Length);
        }
    }

    fn response_framing(&self, head: &mut Head, opts: &ParseOpts) {
        let st = head.status;
        let has_cl = self.cl.is_some();
        head.framing = if st == 101 {
            Framing::Tunnel
        } else if st < 200 || st == 204 {
            if has_cl {
                head.flags |= MsgFlags::CL_DROP;
            }
            if self.te_seen {
                head.flags |= MsgFlags::TE_DROP;
            }
            Framing::None
        } else if st == 304 || opts.req_method == Method::Head {
            Framing::None
        } else if opts.req_method == Method::Connect && (200..300).contains(&st) {
            Framing::Tunnel
        } else if self.te_seen {
            if has_cl {
                head.flags |= MsgFlags::CL_DROP;
            }
            if self.chunked {
                Framing::Chunked
            } else {
                Framing::UntilClose
            }
        } else {
            self.cl.map_or(Framing::UntilClose, Framing::Length)
        };
    }
}

/// CONNECT target: `authority:port` with port all digits (text after the
/// last `:` of what precedes the first `/`).
fn connect_target_ok(uri: &[u8]) -> bool {
    let auth = uri.split(|&c| c == b'/').next().unwrap_or(&[]);
    match port_of(auth) {
        Some((_, port)) => !port.is_empty() && port.iter().all(u8::is_ascii_digit),
        None => false,
    }
}

/// Splits `host:port` at the last `:` not inside `[...]`.
fn port_of(auth: &[u8]) -> Option<(&[u8], &[u8])> {
    let c = auth.iter().rposition(|&c| c == b':')?;
    if auth.iter().skip(c).any(|&c| c == b']') {
        return None;
    }
    Some((auth.get(..c)?, auth.get(c + 1..)?))
}

/// An authority without userinfo, an empty port, or the scheme's default port.
fn normalize<'a>(auth: &'a [u8], scheme: &[u8]) -> &'a [u8] {
    let auth = match auth.iter().rposition(|&c| c == b'@') {
        Some(at) => auth.get(at + 1..).unwrap_or(&[]),
        None => auth,
    };
    match port_of(auth) {
        Some((h, [])) => h,
        Some((h, b"80")) if scheme.eq_ignore_ascii_case(b"http") => h,
        Some((h, b"443")) if scheme.eq_ignore_ascii_case(b"https") => h,
        _ => auth,
    }
}

/// Sets ABS_URI and, unless accept-invalid, rejects a Host that differs from
/// the target's authority (origin-form and `*` have none; CONNECT's scheme
/// is http on port 80, https on 443).
fn check_authority(
    b: &[u8],
    head: &mut Head,
    host: Option<Span>,
    opts: &ParseOpts,
) -> Result<(), ParseError> {
    let uri = head.uri.get(b);
    if uri.first() == Some(&b'/') || uri == b"*" || uri.is_empty() {
        return Ok(());
    }
    let sep = uri.windows(3).position(|w| w == b"://");
    let (scheme, rest) = match sep {
        Some(k)
            if k > 0
                && head.method != Method::Connect
                && !uri.iter().take(k).any(|&c| c == b'/') =>
        {
            head.flags |= MsgFlags::ABS_URI;
            (uri.get(..k).unwrap_or(&[]), uri.get(k + 3..).unwrap_or(&[]))
        }
        _ => (&b""[..], uri),
    };
    let auth = rest.split(|&c| c == b'/').next().unwrap_or(&[]);
    let scheme = match (head.method, port_of(auth)) {
        (Method::Connect, Some((_, b"80"))) => b"http",
        (Method::Connect, Some((_, b"443"))) => &b"https"[..],
        _ => scheme,
    };
    let (Some(h), false) = (host, opts.accept_invalid) else {
        return Ok(());
    };
    let auth = normalize(auth, scheme);
    if !auth.is_empty() && !auth.eq_ignore_ascii_case(normalize(h.get(b), scheme)) {
        bail!(h.off as usize, "host does not match the URI authority");
    }
    Ok(())
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
