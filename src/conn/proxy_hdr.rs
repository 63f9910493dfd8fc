//! PROXY protocol v1 and v2 codec (sans-IO), as the HAProxy spec
//! `proxy-protocol.txt` defines it.
//!
//! `parse` looks at the first bytes received on a connection and returns the
//! header and its length once complete, `Ok(None)` while more bytes are
//! needed, or an error naming what is wrong (the texts are HAProxy's log
//! messages). `encode_v1` / `encode_v2` build the header sent to servers.
//!
//! What is accepted is what HAProxy 2.6 accepts, case
//! by case (`tests/proxy_v2.rs` compares them): v1 TCP4 fields are read
//! left to right with 2.6's lenient number readers, v2 TLVs are checked
//! (framing, CRC32C, AUTHORITY / UNIQUE_ID sizes) and returned as one
//! borrowed block by [`parse_with_tlvs`]; [`PpRcvd`] keeps them.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

/// The v2 signature.
pub const V2_SIG: [u8; 12] = *b"\r\n\r\n\x00\r\nQUIT\n";
/// Longest v1 header, CRLF included.
pub const V1_MAX: usize = 107;

/// A decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHdr {
    /// Source and destination, or None for `UNKNOWN` / v2 `LOCAL` (use the
    /// connection's own addresses).
    pub addrs: Option<(SocketAddr, SocketAddr)>,
}

/// Why a header was refused (HAProxy's messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyErr {
    NotProxy,
    Unhandled,
    Truncated,
    Invalid,
}

impl ProxyErr {
    /// The log message HAProxy prints for this error.
    pub fn message(self) -> &'static str {
        match self {
            ProxyErr::NotProxy => {
                "Received something which does not look like a PROXY protocol header"
            }
            ProxyErr::Truncated => "Truncated PROXY protocol header received",
            ProxyErr::Invalid => "Received an invalid PROXY protocol header",
            ProxyErr::Unhandled => "Received an unhandled protocol in the PROXY protocol header",
        }
    }
}

/// Parses the start of `buf`. `Ok(Some((hdr, len)))`: complete header of
/// `len` bytes; `Ok(None)`: need more bytes.
pub fn parse(buf: &[u8]) -> Result<Option<(ProxyHdr, usize)>, ProxyErr> {
    parse_with_tlvs(buf).map(|o| o.map(|(h, len, _)| (h, len)))
}

/// A complete header, its length and its TLV block; `Ok(None)`: need more.
pub type Parsed<'a> = Result<Option<(ProxyHdr, usize, &'a [u8])>, ProxyErr>;

/// As [`parse`], and also returns the TLV block of a v2 PROXY header over
/// TCP/IPv4 or TCP/IPv6 (validated: every TLV whole, CRC32C right,
/// AUTHORITY and UNIQUE_ID within HAProxy's limits); empty otherwise. HAProxy
/// 2.6 neither reads nor checks the TLVs of a LOCAL header.
pub fn parse_with_tlvs(buf: &[u8]) -> Parsed<'_> {
    let n = buf.len().min(6);
    if buf.get(..n) == b"PROXY ".get(..n) {
        return parse_v1(buf).map(|o| o.map(|(h, len)| (h, len, &[][..])));
    }
    let n = buf.len().min(V2_SIG.len());
    if buf.get(..n) == V2_SIG.get(..n) {
        return parse_v2(buf);
    }
    // Short data that is neither header: HAProxy reports it as truncated.
    if buf.len() < 16 {
        Err(ProxyErr::Truncated)
    } else {
        Err(ProxyErr::NotProxy)
    }
}

fn parse_v1(buf: &[u8]) -> Result<Option<(ProxyHdr, usize)>, ProxyErr> {
    // The protocol is checked first, as HAProxy does: "PROXY X..." with an
    // unknown X is "unhandled" whatever follows.
    let rest = buf.get(6..).unwrap_or(b"");
    if rest.starts_with(b"TCP4 ") {
        return parse_v1_tcp4(buf);
    }
    if rest.starts_with(b"TCP6 ") {
        return parse_v1_tcp6(buf);
    }
    let known = [&b"TCP4 "[..], b"TCP6 ", b"UNKNOWN"].iter().any(|p| {
        let n = rest.len().min(p.len());
        rest.get(..n) == p.get(..n)
    });
    if !known {
        return Err(ProxyErr::Unhandled);
    }
    let window = buf.get(..buf.len().min(V1_MAX)).unwrap_or(buf);
    let Some(end) = window.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= V1_MAX {
            Err(ProxyErr::Invalid)
        } else {
            Ok(None)
        };
    };
    // "TCP4 " and "TCP6 " were taken above: what is left is UNKNOWN, which
    // HAProxy 2.6 accepts only alone on its line.
    if window.get(6..end) == Some(&b"UNKNOWN"[..]) {
        Ok(Some((ProxyHdr { addrs: None }, end + 2)))
    } else {
        Err(ProxyErr::Unhandled)
    }
}

/// After a v1 TCP4 field: the end of the data is "need more", anything but
/// one space is invalid; the space is skipped.
macro_rules! let_sep {
    ($buf:expr, $pos:ident) => {
        match $buf.get($pos) {
            None => return Ok(None),
            Some(b' ') => $pos += 1,
            Some(_) => return Err(ProxyErr::Invalid),
        }
    };
}

/// Offset of the first address in a v1 TCP4/TCP6 line.
const V1_ADDR: usize = 11;

/// `PROXY TCP4 ...`, read left to right the way HAProxy 2.6 reads it:
/// each address by `lenient_ipv4`, each port by `lenient_uint`, so that
/// it accepts what HAProxy accepts (`999.1.1.1` is
/// 231.1.1.1, `1.2.3` is 1.2.3.0, port 70000 is 4464) and refuses the
/// rest. Running out of bytes anywhere is "need more"; a wrong separator is
/// invalid. There is no 107-byte limit here: HAProxy reads as far as the
/// fields go.
fn parse_v1_tcp4(buf: &[u8]) -> Result<Option<(ProxyHdr, usize)>, ProxyErr> {
    let mut pos = V1_ADDR;
    let src = lenient_ipv4(buf, &mut pos);
    let_sep!(buf, pos);
    let dst = lenient_ipv4(buf, &mut pos);
    let_sep!(buf, pos);
    let sport = lenient_uint(buf, &mut pos);
    let_sep!(buf, pos);
    let dport = lenient_uint(buf, &mut pos);
    let Some(crlf) = buf.get(pos..pos + 2) else {
        return Ok(None);
    };
    if crlf != b"\r\n" {
        return Err(ProxyErr::Invalid);
    }
    // `htons()` of an unsigned int: the port is its low 16 bits.
    let addrs = (
        SocketAddr::new(Ipv4Addr::from(src).into(), sport as u16),
        SocketAddr::new(Ipv4Addr::from(dst).into(), dport as u16),
    );
    Ok(Some((ProxyHdr { addrs: Some(addrs) }, pos + 2)))
}

/// `PROXY TCP6 ...` as HAProxy 2.6 reads it: the line up to its CR LF is
/// cut at its first three spaces; the addresses go to `inet_pton()`, the
/// source port must be all digits (none is 0), the destination port is the
/// digits before the end of the line or a further space (so extra fields
/// are ignored); each port keeps its low 16 bits.
fn parse_v1_tcp6(buf: &[u8]) -> Result<Option<(ProxyHdr, usize)>, ProxyErr> {
    let mut spaces = [0usize; 3];
    let mut nsp = 0;
    let mut p = V1_ADDR;
    let end = loop {
        let Some(two) = buf.get(p..p + 2) else {
            return Ok(None);
        };
        match two {
            [b'\r', b'\n'] => break p,
            [b'\r', _] => return Err(ProxyErr::Invalid),
            [b' ', _] => {
                if let Some(slot) = spaces.get_mut(nsp) {
                    *slot = p;
                    nsp += 1;
                }
            }
            _ => {}
        }
        p += 1;
    };
    let [s1, s2, s3] = spaces;
    if nsp < 3 {
        return Err(ProxyErr::Invalid);
    }
    let field = |a: usize, b: usize| buf.get(a..b).unwrap_or(b"");
    let ip6 = |f: &[u8]| -> Result<Ipv6Addr, ProxyErr> {
        // inet_pton() reads a C string: up to a NUL byte.
        let f = f.split(|&b| b == 0).next().unwrap_or(b"");
        std::str::from_utf8(f)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or(ProxyErr::Invalid)
    };
    let sport_f = field(s2 + 1, s3);
    let mut i = 0;
    let sport = lenient_uint(sport_f, &mut i);
    if !matches!(sport_f.get(i), None | Some(0)) {
        return Err(ProxyErr::Invalid);
    }
    let dport_f = field(s3 + 1, end);
    let mut i = 0;
    let dport = lenient_uint(dport_f, &mut i);
    // The line's further spaces were cut to NULs too.
    if !matches!(dport_f.get(i), None | Some(0) | Some(b' ')) {
        return Err(ProxyErr::Invalid);
    }
    let src = ip6(field(V1_ADDR, s1))?;
    let dst = ip6(field(s1 + 1, s2))?;
    let addrs = (
        SocketAddr::new(src.into(), sport as u16),
        SocketAddr::new(dst.into(), dport as u16),
    );
    Ok(Some((ProxyHdr { addrs: Some(addrs) }, end + 2)))
}

/// A v1 IPv4 address read as leniently as 2.6 reads it (measured,
/// `tests/proxy_v2.rs`): up to four dot-separated groups of digits
/// starting at `*pos`, each worth its last three digits (missing ones 0),
/// summed at shifts 24, 16, 8, 0, bits past 32 lost (`999.1.1.1` is
/// 231.1.1.1). Stops at the first byte that is neither a digit nor the dot
/// of a group still expected; `*pos` is left there.
fn lenient_ipv4(buf: &[u8], pos: &mut usize) -> u32 {
    let mut addr = 0u32;
    let mut shift = 24u32;
    loop {
        let start = *pos;
        while buf.get(*pos).is_some_and(u8::is_ascii_digit) {
            *pos += 1;
        }
        let digits = buf.get(start..*pos).unwrap_or(b"");
        let last3 = digits.get(digits.len().saturating_sub(3)..).unwrap_or(b"");
        let v = last3.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
        // Bits shifted past 32 are lost (as 2.6 reads them).
        addr = addr.wrapping_add(v << shift);
        if shift == 0 || buf.get(*pos) != Some(&b'.') {
            return addr;
        }
        shift -= 8;
        *pos += 1;
    }
}

/// A v1 port as 2.6 reads it: the digits at `*pos` as an unsigned 32-bit
/// number that wraps on overflow (none: 0); `*pos` is left on the first
/// non-digit. The caller keeps the low 16 bits (port 70000 is 4464).
fn lenient_uint(buf: &[u8], pos: &mut usize) -> u32 {
    let mut v = 0u32;
    while let Some(&d) = buf.get(*pos).filter(|d| d.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add(u32::from(d - b'0'));
        *pos += 1;
    }
    v
}

/// A panic-free cursor over received bytes: each read takes bytes from the
/// front, or returns `None` (consuming nothing) when too few remain.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { rest: buf }
    }

    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// The next `N` bytes, by value.
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        self.array().map(|[b]: [u8; 1]| b)
    }

    /// A big-endian (network order) u16.
    fn u16_be(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }
}

fn parse_v2(buf: &[u8]) -> Parsed<'_> {
    // 12-byte signature (already matched), version/command, family and
    // protocol, then the length of what follows.
    let mut r = Reader::new(buf);
    let (Some(_sig), Some(ver_cmd), Some(fam), Some(plen)) =
        (r.take(V2_SIG.len()), r.u8(), r.u8(), r.u16_be())
    else {
        return Ok(None);
    };
    if ver_cmd >> 4 != 2 {
        return Err(ProxyErr::NotProxy);
    }
    let Some(body) = r.take(usize::from(plen)) else {
        return Ok(None);
    };
    let total = V2_SIG.len() + 4 + usize::from(plen);
    match ver_cmd & 0x0f {
        // LOCAL: addresses and TLVs are ignored, not even checked (2.6).
        0 => return Ok(Some((ProxyHdr { addrs: None }, total, &[][..]))),
        1 => {} // PROXY
        _ => return Err(ProxyErr::Invalid),
    }
    // Only TCP (STREAM) over IPv4/IPv6 is taken: source address,
    // destination address, source port, destination port, then TLVs.
    // Any other family, AF_UNIX (0x31) included, is refused by 2.6.
    let mut b = Reader::new(body);
    let addrs = match fam {
        0x11 => {
            let (Some(src), Some(dst), Some(sp), Some(dp)) =
                (b.array::<4>(), b.array::<4>(), b.u16_be(), b.u16_be())
            else {
                return Err(ProxyErr::Invalid);
            };
            (
                SocketAddr::new(Ipv4Addr::from(src).into(), sp),
                SocketAddr::new(Ipv4Addr::from(dst).into(), dp),
            )
        }
        0x21 => {
            let (Some(src), Some(dst), Some(sp), Some(dp)) =
                (b.array::<16>(), b.array::<16>(), b.u16_be(), b.u16_be())
            else {
                return Err(ProxyErr::Invalid);
            };
            (
                SocketAddr::new(Ipv6Addr::from(src).into(), sp),
                SocketAddr::new(Ipv6Addr::from(dst).into(), dp),
            )
        }
        _ => return Err(ProxyErr::Invalid),
    };
    let tlvs = b.rest;
    let hdr = buf.get(..total).unwrap_or(buf);
    check_tlvs(hdr, tlvs)?;
    Ok(Some((ProxyHdr { addrs: Some(addrs) }, total, tlvs)))
}

/// PP2_TYPE_* (proxy-protocol.txt 2.2).
pub mod pp2 {
    pub const ALPN: u8 = 0x01;
    pub const AUTHORITY: u8 = 0x02;
    pub const CRC32C: u8 = 0x03;
    pub const NOOP: u8 = 0x04;
    pub const UNIQUE_ID: u8 = 0x05;
    pub const SSL: u8 = 0x20;
    pub const SUBTYPE_SSL_VERSION: u8 = 0x21;
    pub const SUBTYPE_SSL_CN: u8 = 0x22;
    pub const SUBTYPE_SSL_CIPHER: u8 = 0x23;
    pub const SUBTYPE_SSL_SIG_ALG: u8 = 0x24;
    pub const SUBTYPE_SSL_KEY_ALG: u8 = 0x25;
    pub const NETNS: u8 = 0x30;
}

/// Longest AUTHORITY value HAProxy takes (`PP2_AUTHORITY_MAX`).
pub const PP2_AUTHORITY_MAX: usize = 255;
/// Longest UNIQUE_ID value HAProxy takes (`UNIQUEID_LEN`).
pub const UNIQUEID_LEN: usize = 128;

/// Checks the TLV block `tlvs` ending header `hdr` as HAProxy 2.6 does:
/// each TLV needs its 3-byte head and its whole value inside the header;
/// a CRC32C TLV is exactly 4 bytes and matches the CRC-32C of the header
/// with those 4 bytes zeroed; AUTHORITY and UNIQUE_ID are not longer than
/// HAProxy stores. Other TLVs (SSL and its sub-TLVs included) are not
/// looked into.
fn check_tlvs(hdr: &[u8], tlvs: &[u8]) -> Result<(), ProxyErr> {
    let mut r = Reader::new(tlvs);
    while !r.rest.is_empty() {
        let (Some(ty), Some(len)) = (r.u8(), r.u16_be()) else {
            return Err(ProxyErr::Invalid);
        };
        let Some(v) = r.take(usize::from(len)) else {
            return Err(ProxyErr::Invalid);
        };
        match ty {
            pp2::CRC32C => {
                let Ok(want) = <[u8; 4]>::try_from(v) else {
                    return Err(ProxyErr::Invalid);
                };
                // The value ends where the rest of the header starts.
                let at = hdr.len().saturating_sub(r.rest.len() + 4);
                let (before, after) = (
                    hdr.get(..at).unwrap_or(b""),
                    hdr.get(at + 4..).unwrap_or(b""),
                );
                let got = super::crc32c::Crc32c::default()
                    .update(before)
                    .update(&[0; 4])
                    .update(after)
                    .finish();
                if got != u32::from_be_bytes(want) {
                    return Err(ProxyErr::Invalid);
                }
            }
            pp2::AUTHORITY if v.len() > PP2_AUTHORITY_MAX => return Err(ProxyErr::Invalid),
            pp2::UNIQUE_ID if v.len() > UNIQUEID_LEN => return Err(ProxyErr::Invalid),
            _ => {}
        }
    }
    Ok(())
}

/// The TLVs of a block already checked by [`parse_with_tlvs`] (or any
/// block: iteration stops at the first incomplete TLV), as
/// `(type, value)`.
pub fn tlv_iter(tlvs: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut r = Reader::new(tlvs);
    std::iter::from_fn(move || {
        let (ty, len) = (r.u8()?, r.u16_be()?);
        Some((ty, r.take(usize::from(len))?))
    })
}

/// What a received PROXY header leaves on the connection besides its
/// addresses (`CO_FL_RCVD_PROXY` and the TLVs, for `fc_rcvd_proxy` and the
/// `fc_pp_*` fetches). The TLV block is kept as received, in one shared
/// allocation made only when the header has TLVs; streams of the
/// connection share it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PpRcvd {
    tlvs: Option<std::rc::Rc<[u8]>>,
}

impl PpRcvd {
    /// Keeps the (checked) TLV block `tlvs`; allocates only if not empty.
    pub fn new(tlvs: &[u8]) -> Self {
        PpRcvd {
            tlvs: (!tlvs.is_empty()).then(|| std::rc::Rc::from(tlvs)),
        }
    }

    /// Every TLV, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &[u8])> {
        tlv_iter(self.tlvs.as_deref().unwrap_or(b""))
    }

    /// The value of the first TLV of type `ty` (`fc_pp_tlv`, as HAProxy
    /// 2.9 which introduced it).
    pub fn first(&self, ty: u8) -> Option<&[u8]> {
        self.iter().find(|(t, _)| *t == ty).map(|(_, v)| v)
    }

    /// The value of the last TLV of type `ty`: HAProxy 2.6 keeps the last
    /// AUTHORITY and UNIQUE_ID it reads (`fc_pp_authority`,
    /// `fc_pp_unique_id`).
    pub fn last(&self, ty: u8) -> Option<&[u8]> {
        self.iter().filter(|(t, _)| *t == ty).last().map(|(_, v)| v)
    }

    /// The SSL TLV: client flags, verify result, and its sub-TLVs.
    pub fn ssl(&self) -> Option<PpSsl<'_>> {
        let v = self.first(pp2::SSL)?;
        let mut r = Reader::new(v);
        let (client, verify) = (r.u8()?, r.array::<4>()?);
        Some(PpSsl {
            client,
            verify: u32::from_be_bytes(verify),
            sub: r.rest,
        })
    }
}

/// A received PP2_TYPE_SSL TLV (proxy-protocol.txt 2.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PpSsl<'a> {
    /// PP2_CLIENT_SSL (0x01), PP2_CLIENT_CERT_CONN (0x02),
    /// PP2_CLIENT_CERT_SESS (0x04).
    pub client: u8,
    /// 0 when the client presented a certificate that was verified.
    pub verify: u32,
    /// The sub-TLVs (VERSION, CN, CIPHER, SIG_ALG, KEY_ALG), unchecked.
    sub: &'a [u8],
}

impl<'a> PpSsl<'a> {
    /// The value of sub-TLV `ty` (`pp2::SUBTYPE_SSL_*`).
    pub fn sub(&self, ty: u8) -> Option<&'a [u8]> {
        tlv_iter(self.sub).find(|(t, _)| *t == ty).map(|(_, v)| v)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::conn::proxy_send::{encode_v1, encode_v2};

    #[test]
    fn reader_takes_from_the_front_or_nothing() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.u16_be(), Some(0x0203));
        assert_eq!(r.array::<4>(), None, "too few bytes: nothing consumed");
        assert_eq!(r.take(2), Some(&[4u8, 5][..]));
        assert_eq!(r.take(0), Some(&[][..]));
        assert_eq!(r.u8(), None);
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    #[test]
    fn v1_tcp4_and_payload_after() {
        let b = b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\nhello";
        let (h, len) = parse(b)
            .ok()
            .flatten()
            .unwrap_or((ProxyHdr { addrs: None }, 0));
        assert_eq!(len, b.len() - 5);
        assert_eq!(h.addrs, Some((sa("1.2.3.4:1111"), sa("5.6.7.8:2222"))));
    }

    #[test]
    fn v1_incomplete_then_errors() {
        assert_eq!(parse(b"PRO"), Ok(None));
        assert_eq!(parse(b"PROXY TCP4 1.2.3.4"), Ok(None));
        assert_eq!(parse(b"PROXY TCP4 1.2.3.4\r\n"), Err(ProxyErr::Invalid));
        // 2.6 keeps the low 16 bits of a port: 99999 is 34463.
        assert_eq!(
            parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"),
            Ok(Some((
                ProxyHdr {
                    addrs: Some((sa("1.2.3.4:1"), sa("5.6.7.8:34463")))
                },
                36
            )))
        );
        assert_eq!(parse(b"PROXY TCP4 ::1 ::2 1 2\r\n"), Err(ProxyErr::Invalid));
        assert_eq!(
            parse(&[b'P', b'R', b'O', b'X', b'Y', b' ', b'A'].repeat(20)),
            Err(ProxyErr::Unhandled)
        );
        assert_eq!(
            parse(b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"),
            Err(ProxyErr::Unhandled)
        );
        assert_eq!(
            parse(b"PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n"),
            Err(ProxyErr::Unhandled)
        );
        assert_eq!(
            parse(b"PROXY UNKNOWN\r\n"),
            Ok(Some((ProxyHdr { addrs: None }, 15)))
        );
    }

    #[test]
    fn not_a_header() {
        assert_eq!(parse(b"GARBAGE\r\n"), Err(ProxyErr::Truncated));
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Err(ProxyErr::NotProxy)
        );
    }

    #[test]
    fn v2_round_trip_v4_v6_and_local() {
        for (s, d) in [
            (sa("10.0.0.1:1234"), sa("10.0.0.2:80")),
            (sa("[::1]:5"), sa("[2001:db8::2]:443")),
        ] {
            let enc = encode_v2(Some(s), Some(d));
            assert_eq!(
                parse(&enc),
                Ok(Some((
                    ProxyHdr {
                        addrs: Some((s, d))
                    },
                    enc.len()
                )))
            );
            // Every strict prefix asks for more.
            for k in 0..enc.len() {
                assert_eq!(parse(&enc[..k]), Ok(None), "prefix {k}");
            }
        }
        let local = encode_v2(None, None);
        assert_eq!(parse(&local), Ok(Some((ProxyHdr { addrs: None }, 16))));
    }

    #[test]
    fn v2_bad_version_and_command() {
        let mut h = encode_v2(None, None);
        h[12] = 0x11;
        assert_eq!(parse(&h), Err(ProxyErr::NotProxy));
        h[12] = 0x25;
        assert_eq!(parse(&h), Err(ProxyErr::Invalid));
        let mut h = encode_v2(Some(sa("1.1.1.1:1")), Some(sa("2.2.2.2:2")));
        h[13] = 0x51;
        assert_eq!(parse(&h), Err(ProxyErr::Invalid));
        h[13] = 0x12; // UDP over IPv4
        assert_eq!(parse(&h), Err(ProxyErr::Invalid));
    }

    /// The source address and port of a v1 line, or the error.
    fn v1_src(line: &str) -> Result<Option<SocketAddr>, ProxyErr> {
        parse(line.as_bytes()).map(|o| o.and_then(|(h, _)| h.addrs).map(|a| a.0))
    }

    #[test]
    fn v1_addresses_and_ports_read_as_haproxy_26() {
        for (src, want) in [
            ("999.1.1.1", "231.1.1.1"),
            ("1.999.1.1", "4.231.1.1"),
            ("1234.5.6.7", "234.5.6.7"),
            ("1.2.3", "1.2.3.0"),
            ("1..2.3", "1.0.2.3"),
            ("01.002.3.4", "1.2.3.4"),
            ("", "0.0.0.0"),
        ] {
            let l = format!("PROXY TCP4 {src} 5.6.7.8 1111 2222\r\n");
            assert_eq!(v1_src(&l), Ok(Some(sa(&format!("{want}:1111")))), "{src}");
        }
        for (port, want) in [("70000", 4464), ("4294967297", 1), ("", 0), ("0012", 12)] {
            let l = format!("PROXY TCP4 1.2.3.4 5.6.7.8 {port} 2222\r\n");
            assert_eq!(
                v1_src(&l).map(|a| a.map(|a| a.port())),
                Ok(Some(want)),
                "{port}"
            );
        }
        for bad in [
            "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 +5 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx",
            "PROXY TCP6 ::1 ::2 11x1 2\r\n",
            "PROXY TCP6 ::1 ::2 1 22x\r\n",
            "PROXY TCP6 ::1 ::2 1\r\n",
            "PROXY TCP6 1.2.3.4 ::2 1 2\r\n",
        ] {
            assert_eq!(v1_src(bad), Err(ProxyErr::Invalid), "{bad:?}");
        }
        // Out of bytes before the end of the line: more needed.
        assert_eq!(v1_src("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), Ok(None));
        assert_eq!(v1_src("PROXY TCP6 ::1 ::2 1 2"), Ok(None));
        // TCP6: a fifth field is ignored, the line may pass 107 bytes.
        assert_eq!(
            v1_src("PROXY TCP6 2001:db8::1 ::2 70000 2 9\r\n"),
            Ok(Some(sa("[2001:db8::1]:4464")))
        );
        let long = format!("PROXY TCP6 ::1 ::2 1 {}2\r\n", "0".repeat(100));
        assert!(long.len() > V1_MAX);
        assert_eq!(v1_src(&long), Ok(Some(sa("[::1]:1"))));
        assert_eq!(parse(b"PROXY UNKNOWNX\r\n"), Err(ProxyErr::Unhandled));
    }

    fn tlv(ty: u8, v: &[u8]) -> Vec<u8> {
        let mut t = vec![ty];
        t.extend_from_slice(&(v.len() as u16).to_be_bytes());
        t.extend_from_slice(v);
        t
    }

    /// A TCP4 PROXY header followed by `tlvs`.
    fn with_tlvs(tlvs: &[u8]) -> Vec<u8> {
        let mut h = encode_v2(Some(sa("1.1.1.1:1")), Some(sa("2.2.2.2:2")));
        h.extend_from_slice(tlvs);
        let len = (12 + tlvs.len()) as u16;
        h[14..16].copy_from_slice(&len.to_be_bytes());
        h
    }

    #[test]
    fn v2_tlvs_checked_as_haproxy_26() {
        let ok = |t: &[u8]| parse_with_tlvs(&with_tlvs(t)).map(|o| o.map(|x| x.2.to_vec()));
        let bad = |t: &[u8]| assert_eq!(ok(t), Err(ProxyErr::Invalid), "{t:?}");
        assert_eq!(ok(&tlv(4, b"abc")), Ok(Some(tlv(4, b"abc"))));
        assert_eq!(ok(b"\x04\x00\x00"), Ok(Some(b"\x04\x00\x00".to_vec())));
        bad(&tlv(4, b"abc")[..5]);
        bad(b"\x04");
        bad(b"\x04\x00");
        bad(&tlv(pp2::AUTHORITY, &[b'a'; 256]));
        assert!(ok(&tlv(pp2::AUTHORITY, &[b'a'; 255])).is_ok());
        bad(&tlv(pp2::UNIQUE_ID, &[b'u'; 129]));
        assert!(ok(&tlv(pp2::UNIQUE_ID, &[b'u'; 128])).is_ok());
        bad(&tlv(pp2::CRC32C, b"abc"));
        // CRC32C over the whole header with its value zeroed.
        let t = [
            tlv(pp2::ALPN, b"h2"),
            tlv(pp2::CRC32C, &[0; 4]),
            tlv(pp2::NOOP, b"x"),
        ]
        .concat();
        let mut h = with_tlvs(&t);
        let crc = crate::conn::crc32c::crc32c(&h);
        let at = 16 + 12 + 5 + 3;
        h[at..at + 4].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(parse_with_tlvs(&h), Ok(Some(_))));
        h[at] ^= 0x80;
        assert_eq!(parse_with_tlvs(&h), Err(ProxyErr::Invalid));
        // AF_UNIX is refused; LOCAL headers are not looked into.
        let mut u = with_tlvs(&[0; 204]);
        u[13] = 0x31;
        assert_eq!(parse(&u), Err(ProxyErr::Invalid));
        let mut l = with_tlvs(b"\x04\x00\x09");
        l[12] = 0x20;
        assert_eq!(
            parse_with_tlvs(&l),
            Ok(Some((ProxyHdr { addrs: None }, l.len(), &[][..])))
        );
    }

    #[test]
    fn received_tlvs_by_type_and_ssl_sub_tlvs() {
        assert_eq!(PpRcvd::new(b""), PpRcvd::default(), "no TLV: no allocation");
        let ssl = [
            &[0x05, 0, 0, 0, 0][..],
            &tlv(pp2::SUBTYPE_SSL_VERSION, b"TLSv1.3"),
            &tlv(pp2::SUBTYPE_SSL_CN, b"client"),
            &tlv(pp2::SUBTYPE_SSL_CIPHER, b"TLS_AES_128_GCM_SHA256"),
            &tlv(pp2::SUBTYPE_SSL_SIG_ALG, b"RSA-SHA256"),
            &tlv(pp2::SUBTYPE_SSL_KEY_ALG, b"RSA2048"),
        ]
        .concat();
        let t = [
            tlv(pp2::AUTHORITY, b"one"),
            tlv(pp2::SSL, &ssl),
            tlv(pp2::AUTHORITY, b"two"),
            tlv(pp2::NETNS, b"blue"),
        ]
        .concat();
        let r = PpRcvd::new(&t);
        assert_eq!(r.first(pp2::AUTHORITY), Some(&b"one"[..]));
        assert_eq!(r.last(pp2::AUTHORITY), Some(&b"two"[..]));
        assert_eq!(r.first(pp2::NETNS), Some(&b"blue"[..]));
        assert_eq!(r.first(pp2::ALPN), None);
        let s = r.ssl().unwrap_or(PpSsl {
            client: 0,
            verify: 1,
            sub: b"",
        });
        assert_eq!((s.client, s.verify), (0x05, 0));
        assert_eq!(s.sub(pp2::SUBTYPE_SSL_VERSION), Some(&b"TLSv1.3"[..]));
        assert_eq!(s.sub(pp2::SUBTYPE_SSL_CN), Some(&b"client"[..]));
        assert_eq!(
            s.sub(pp2::SUBTYPE_SSL_CIPHER),
            Some(&b"TLS_AES_128_GCM_SHA256"[..])
        );
        assert_eq!(s.sub(pp2::SUBTYPE_SSL_SIG_ALG), Some(&b"RSA-SHA256"[..]));
        assert_eq!(s.sub(pp2::SUBTYPE_SSL_KEY_ALG), Some(&b"RSA2048"[..]));
    }

    /// What the sender writes, this parser reads back whole (the sender's
    /// own bytes are checked against HAProxy's in `proxy_send`).
    #[test]
    fn v1_encoded_line_parses_back() {
        let enc = encode_v1(Some(sa("1.2.3.4:5")), Some(sa("6.7.8.9:10")));
        assert_eq!(parse(&enc).ok().flatten().map(|x| x.1), Some(enc.len()));
    }
}
