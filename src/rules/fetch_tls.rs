//! TLS hello fetches on the raw request buffer (configuration.txt 7.3.5):
//! `req.ssl_ver`, `req.ssl_hello_type`, `req.ssl_sni`, for `tcp-request
//! content` rules in front of TLS servers.
//!
//! ```text
//!   record  16 | 03 xx | len(2) | handshake: type(1) len(3) version(2)
//!           random(32) sid(1+n) ciphers(2+n) compression(1+n)
//!           extensions(2+n): type(2) len(2) data ; type 0 = server_name:
//!           list(2) { name_type(1) = 0, name(2+n) }
//!   SSLv2   [80|len] len | 01 | version(2) cipher_len(2) sid_len(2)
//!           challenge_len(2) ...   (ssl_ver only)
//! ```
//!
//! Only the first record is read. A record not fully received gives no
//! sample and "may change" (the rule waits for the rest within the inspect
//! delay). As 2.6, `req.ssl_ver` reports the version the hello announces
//! (3.3 for TLS 1.2 and 1.3), not the record's (often 3.1), and nothing
//! for records other than handshakes.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::rules::env::{Dir, Env};
use crate::rules::expr::{Arg, EvalCx, FetchDef, Use};
use crate::rules::fetch::def;
use crate::rules::fetch_payload::{Parse, buf, settle};
use crate::rules::sample::{Sample, SmpType as T};

#[rustfmt::skip]
pub const TLS: &[FetchDef] = &[
    def("req.ssl_ver", &[], 0, T::Sint, |_, e, cx| run(e, cx, Dir::Req, ssl_ver).map(Sample::sint), Use::REQ),
    def("req_ssl_ver", &[], 0, T::Sint, |_, e, cx| run(e, cx, Dir::Req, ssl_ver).map(Sample::sint), Use::REQ),
    def("req.ssl_hello_type", &[], 0, T::Sint, |_, e, cx| run(e, cx, Dir::Req, hello_type).map(Sample::sint), Use::REQ),
    def("req_ssl_hello_type", &[], 0, T::Sint, |_, e, cx| run(e, cx, Dir::Req, hello_type).map(Sample::sint), Use::REQ),
    def("res.ssl_hello_type", &[], 0, T::Sint, |_, e, cx| run(e, cx, Dir::Res, hello_type).map(Sample::sint), Use::RES),
    def("rep_ssl_hello_type", &[], 0, T::Sint, |_, e, cx| run(e, cx, Dir::Res, hello_type).map(Sample::sint), Use::RES),
    def("req.ssl_sni", &[], 0, T::Str, fetch_sni, Use::REQ),
    def("req_ssl_sni", &[], 0, T::Str, fetch_sni, Use::REQ),
];

fn run(e: &dyn Env, cx: &mut EvalCx<'_>, dir: Dir, f: fn(&[u8]) -> Parse<i64>) -> Option<i64> {
    let (data, fin) = buf(e, Some(dir))?;
    settle(f(data), fin, cx)
}

fn fetch_sni<'a>(_: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (data, fin) = buf(e, Some(Dir::Req))?;
    Some(Sample::str_ref(settle(sni(data), fin, cx)?))
}

/// Largest TLS record body (2^14 plus the expansion allowance).
const MAX_REC: usize = (1 << 14) + 2048;

fn be(b: &[u8]) -> usize {
    b.iter().fold(0, |n, c| (n << 8) | usize::from(*c))
}

/// The first record if it is a TLS handshake: its body once complete.
fn handshake_record(d: &[u8]) -> Parse<&[u8]> {
    let Some(h) = d.get(..5) else {
        return if d.first().is_some_and(|c| *c != 0x16) {
            Parse::No
        } else {
            Parse::Short
        };
    };
    let (Some(&typ), Some(&major)) = (h.first(), h.get(1)) else {
        return Parse::Short;
    };
    let len = be(h.get(3..5).unwrap_or(&[]));
    if typ != 0x16 || major < 3 || len == 0 || len > MAX_REC {
        return Parse::No;
    }
    match d.get(5..5 + len) {
        Some(body) => Parse::Found(body),
        None => Parse::Short,
    }
}

/// `req.ssl_ver`: major * 65536 + minor, from a handshake record's hello
/// or an SSLv2 CLIENT-HELLO.
pub fn ssl_ver(d: &[u8]) -> Parse<i64> {
    let Some(&b0) = d.first() else {
        return Parse::Short;
    };
    if (0x14..=0x17).contains(&b0) {
        let body = match handshake_record(d) {
            Parse::Found(b) => b,
            Parse::Short => return Parse::Short,
            Parse::No => return Parse::No,
        };
        return match (body.get(4), body.get(5)) {
            (Some(&ma), Some(&mi)) => Parse::Found(i64::from(ma) << 16 | i64::from(mi)),
            _ => Parse::No,
        };
    }
    // SSLv2: a two-byte header (high bit set) or three with padding.
    let (hlen, rlen, pad) = if b0 & 0x80 != 0 {
        let Some(&b1) = d.get(1) else {
            return Parse::Short;
        };
        (2, usize::from(b0 & 0x7f) << 8 | usize::from(b1), 0)
    } else {
        let (Some(&b1), Some(&p)) = (d.get(1), d.get(2)) else {
            return Parse::Short;
        };
        (
            3,
            usize::from(b0 & 0x3f) << 8 | usize::from(b1),
            usize::from(p),
        )
    };
    let Some(&msg) = d.get(hlen) else {
        return Parse::Short;
    };
    if msg != 1 {
        return Parse::No;
    }
    let Some(h) = d.get(hlen + 1..hlen + 9) else {
        return Parse::Short;
    };
    let (ver, ci, si, ch) = (
        be(h.get(..2).unwrap_or(&[])),
        be(h.get(2..4).unwrap_or(&[])),
        be(h.get(4..6).unwrap_or(&[])),
        be(h.get(6..8).unwrap_or(&[])),
    );
    if ci % 3 != 0 || (si != 0 && si != 16) || !(16..=32).contains(&ch) || rlen != 9 + ci + si + ch
    {
        return Parse::No;
    }
    if d.len() < hlen + rlen + pad {
        return Parse::Short;
    }
    Parse::Found(((ver >> 8) as i64) << 16 | (ver & 0xff) as i64)
}

/// `req.ssl_hello_type`: the handshake type of a complete handshake
/// message at the start of the first record (1: client hello, 2: server).
pub fn hello_type(d: &[u8]) -> Parse<i64> {
    let Some(h) = d.get(..5) else {
        return if d.first().is_some_and(|c| *c != 0x16) {
            Parse::No
        } else {
            Parse::Short
        };
    };
    let rec = be(h.get(3..5).unwrap_or(&[]));
    if h.first() != Some(&0x16) || h.get(1).is_none_or(|m| *m < 3) || rec < 4 {
        return Parse::No;
    }
    let Some(hs) = d.get(5..9) else {
        return Parse::Short;
    };
    let hs_len = be(hs.get(1..4).unwrap_or(&[]));
    if hs_len + 4 > rec {
        return Parse::No;
    }
    if d.len() < 9 + hs_len {
        return Parse::Short;
    }
    Parse::Found(i64::from(hs.first().copied().unwrap_or(0)))
}

/// A panic-free reader over a hello.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn vec(&mut self, len_bytes: usize) -> Option<&'a [u8]> {
        let n = be(self.take(len_bytes)?);
        self.take(n)
    }
}

/// `req.ssl_sni`: the first host name of the server_name extension of a
/// ClientHello in the first record.
pub fn sni(d: &[u8]) -> Parse<&[u8]> {
    let body = match handshake_record(d) {
        Parse::Found(b) => b,
        Parse::Short => return Parse::Short,
        Parse::No => return Parse::No,
    };
    find_sni(body).map_or(Parse::No, Parse::Found)
}

fn find_sni(body: &[u8]) -> Option<&[u8]> {
    let mut r = Rd(body);
    if r.take(1)? != [1] {
        return None;
    }
    let hs_len = be(r.take(3)?);
    // A hello spread over several records: read what the first one holds.
    let mut r = Rd(r.0.get(..hs_len.min(r.0.len()))?);
    r.take(2 + 32)?; // version, random
    r.vec(1)?; // session id
    r.vec(2)?; // cipher suites
    r.vec(1)?; // compression methods
    let mut ext = Rd(r.vec(2)?);
    while !ext.0.is_empty() {
        let typ = be(ext.take(2)?);
        let data = ext.vec(2)?;
        if typ != 0 {
            continue;
        }
        let mut names = Rd(Rd(data).vec(2)?);
        while !names.0.is_empty() {
            let kind = names.take(1)?;
            let name = names.vec(2)?;
            if kind == [0] {
                return Some(name);
            }
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::rules::acl::AclRes;
    use crate::rules::fetch_mock::{Mock, acl, acl_res, eval, eval_mc};

    /// A ClientHello from `openssl s_client -tls1_2 -servername example.com`
    /// (OpenSSL 3.0), captured with socat.
    const HELLO: &[u8] = &[
        0x16, 0x03, 0x01, 0x00, 0xcb, 0x01, 0x00, 0x00, 0xc7, 0x03, 0x03, 0x6b, 0x2a, 0xf3, 0x4b,
        0x9b, 0x5d, 0xfc, 0x73, 0x35, 0x75, 0xda, 0x56, 0x1a, 0x7f, 0xb2, 0x23, 0x53, 0x16, 0xd7,
        0x88, 0xb7, 0xd9, 0xbf, 0xd4, 0xcb, 0x0a, 0xf9, 0x6f, 0x4a, 0x0d, 0xee, 0x71, 0x00, 0x00,
        0x38, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa, 0xc0, 0x2b,
        0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b, 0xc0, 0x23, 0xc0, 0x27, 0x00,
        0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d,
        0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00,
        0x66, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70,
        0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00,
        0x0a, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18,
        0x00, 0x23, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00,
        0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09,
        0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06,
        0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02,
    ];

    #[test]
    fn sni_of_a_real_client_hello() {
        let e = Mock::payload(HELLO, true);
        assert_eq!(eval(&e, "req.ssl_sni").as_deref(), Some("example.com"));
        assert_eq!(eval(&e, "req_ssl_sni").as_deref(), Some("example.com"));
        assert!(acl(&e, "req.ssl_sni -i EXAMPLE.com"));
        assert!(acl(&e, "req_ssl_sni_end .com"));
    }

    #[test]
    fn incomplete_hello_may_change() {
        let part = HELLO.get(..100).unwrap_or_default();
        let e = Mock::payload(part, false);
        assert_eq!(eval_mc(&e, "req.ssl_sni"), (None, true));
        assert_eq!(eval_mc(&e, "req.ssl_ver"), (None, true));
        assert_eq!(acl_res(&e, "req.ssl_sni example.com"), AclRes::Miss);
        let e = Mock::payload(part, true);
        assert_eq!(eval_mc(&e, "req.ssl_sni"), (None, false));
        let e = Mock::payload(b"GET / HTTP/1.1\r\n", false);
        assert_eq!(eval_mc(&e, "req.ssl_sni"), (None, false));
        assert_eq!(eval_mc(&e, "req.ssl_hello_type"), (None, false));
    }

    /// (bytes, ssl_ver, ssl_hello_type) as 2.6.12 reported them.
    const RECORDS: &[(&[u8], Option<&str>, Option<&str>)] = &[
        (
            b"\x16\x03\x01\x00\x06\x01\x00\x00\x02\x03\x03",
            Some("196611"),
            Some("1"),
        ),
        (
            b"\x16\x03\x01\x00\x06\x02\x00\x00\x02\x03\x03",
            Some("196611"),
            Some("2"),
        ),
        (b"\x15\x03\x01\x00\x02\x01\x00", None, None),
        (b"\x17\x03\x03\x00\x01\x00", None, None),
        (
            b"\x16\x03\x01\x00\x06\x01\x00\x00\x02\x02\x00",
            Some("131072"),
            Some("1"),
        ),
        (
            b"\x16\x03\x00\x00\x06\x01\x00\x00\x02\x03\x01",
            Some("196609"),
            Some("1"),
        ),
        (b"\x16\x02\x00\x00\x06\x01\x00\x00\x02\x03\x01", None, None),
        (
            b"\x16\x03\x01\x00\x06\x01\x00\x00\x09\x03\x03",
            Some("196611"),
            None,
        ),
        (
            b"\x16\x03\x01\x00\x08\x01\x00\x00\x02\x03\x03\x00\x00",
            Some("196611"),
            Some("1"),
        ),
        (b"\x16\x03\x01\x00\x02\x01\x00", None, None),
        (
            b"\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            Some("196609"),
            None,
        ),
        (b"\x80\x05\x01\x03\x01\x00\x00", None, None),
    ];

    #[test]
    fn ssl_ver_and_hello_type_as_haproxy() {
        for (b, ver, typ) in RECORDS {
            let e = Mock::payload(b, true);
            assert_eq!(eval(&e, "req.ssl_ver").as_deref(), *ver, "{b:02x?}");
            assert_eq!(eval(&e, "req_ssl_hello_type").as_deref(), *typ, "{b:02x?}");
        }
        let e = Mock::payload(HELLO, true);
        assert_eq!(eval(&e, "req_ssl_ver").as_deref(), Some("196611"));
        assert_eq!(eval(&e, "req.ssl_hello_type").as_deref(), Some("1"));
        // 2.6 also takes `3.3` here (a dotted-version pattern parser the
        // ACL layer does not have yet).
        assert!(acl(&e, "req.ssl_ver 196611"));
        assert!(acl(&e, "req.ssl_hello_type 1"));
    }
}
