//! PROXY protocol v1 and v2 codec (sans-IO), as the HAProxy spec
//! `proxy-protocol.txt` defines it.
//!
//! `parse` looks at the first bytes received on a connection and returns the
//! header and its length once complete, `Ok(None)` while more bytes are
//! needed, or an error naming what is wrong (the texts are HAProxy's log
//! messages). `encode_v1` / `encode_v2` build the header sent to servers.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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
    let n = buf.len().min(6);
    if buf.get(..n) == b"PROXY ".get(..n) {
        return parse_v1(buf);
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
    let line =
        std::str::from_utf8(window.get(6..end).unwrap_or(b"")).map_err(|_| ProxyErr::Invalid)?;
    let len = end + 2;
    let mut f = line.split(' ');
    let proto = f.next().ok_or(ProxyErr::Invalid)?;
    if proto == "UNKNOWN" {
        // HAProxy 2.6 accepts UNKNOWN only alone on its line.
        return if line == "UNKNOWN" {
            Ok(Some((ProxyHdr { addrs: None }, len)))
        } else {
            Err(ProxyErr::Unhandled)
        };
    }
    let (src, dst, sp, dp) = (f.next(), f.next(), f.next(), f.next());
    let (Some(src), Some(dst), Some(sp), Some(dp), None) = (src, dst, sp, dp, f.next()) else {
        return Err(ProxyErr::Invalid);
    };
    let port = |p: &str| -> Result<u16, ProxyErr> {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProxyErr::Invalid);
        }
        p.parse().map_err(|_| ProxyErr::Invalid)
    };
    let (s, d): (IpAddr, IpAddr) = match proto {
        "TCP4" => (
            src.parse::<Ipv4Addr>()
                .map_err(|_| ProxyErr::Invalid)?
                .into(),
            dst.parse::<Ipv4Addr>()
                .map_err(|_| ProxyErr::Invalid)?
                .into(),
        ),
        "TCP6" => (
            src.parse::<Ipv6Addr>()
                .map_err(|_| ProxyErr::Invalid)?
                .into(),
            dst.parse::<Ipv6Addr>()
                .map_err(|_| ProxyErr::Invalid)?
                .into(),
        ),
        _ => return Err(ProxyErr::Invalid),
    };
    let addrs = (SocketAddr::new(s, port(sp)?), SocketAddr::new(d, port(dp)?));
    Ok(Some((ProxyHdr { addrs: Some(addrs) }, len)))
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

fn parse_v2(buf: &[u8]) -> Result<Option<(ProxyHdr, usize)>, ProxyErr> {
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
        0 => return Ok(Some((ProxyHdr { addrs: None }, total))), // LOCAL
        1 => {}                                                  // PROXY
        _ => return Err(ProxyErr::Invalid),
    }
    // Only TCP (STREAM) over IPv4/IPv6 carries addresses HAProxy takes:
    // source address, destination address, source port, destination port.
    let mut b = Reader::new(body);
    let addrs = match fam {
        0x11 => {
            let (Some(src), Some(dst), Some(sp), Some(dp)) =
                (b.array::<4>(), b.array::<4>(), b.u16_be(), b.u16_be())
            else {
                return Err(ProxyErr::Invalid);
            };
            Some((
                SocketAddr::new(Ipv4Addr::from(src).into(), sp),
                SocketAddr::new(Ipv4Addr::from(dst).into(), dp),
            ))
        }
        0x21 => {
            let (Some(src), Some(dst), Some(sp), Some(dp)) =
                (b.array::<16>(), b.array::<16>(), b.u16_be(), b.u16_be())
            else {
                return Err(ProxyErr::Invalid);
            };
            Some((
                SocketAddr::new(Ipv6Addr::from(src).into(), sp),
                SocketAddr::new(Ipv6Addr::from(dst).into(), dp),
            ))
        }
        0x31 => None, // AF_UNIX stream: no IP addresses to take
        _ => return Err(ProxyErr::Invalid),
    };
    Ok(Some((ProxyHdr { addrs }, total)))
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
        assert_eq!(
            parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"),
            Err(ProxyErr::Invalid)
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

    #[test]
    fn v1_encode_matches_haproxy() {
        assert_eq!(
            encode_v1(Some(sa("127.0.0.1:57510")), Some(sa("127.0.0.1:9400"))),
            b"PROXY TCP4 127.0.0.1 127.0.0.1 57510 9400\r\n"
        );
        assert_eq!(
            encode_v1(Some(sa("[::1]:1")), Some(sa("[::2]:2"))),
            b"PROXY TCP6 ::1 ::2 1 2\r\n"
        );
        assert_eq!(encode_v1(None, None), b"PROXY UNKNOWN\r\n");
        let enc = encode_v1(Some(sa("1.2.3.4:5")), Some(sa("6.7.8.9:10")));
        assert_eq!(parse(&enc).ok().flatten().map(|x| x.1), Some(enc.len()));
    }
}
