//! PROXY protocol headers sent to servers (HAProxy's `make_proxy_line`):
//! the v1 line and the v2 binary header with its TLVs, as the HAProxy spec
//! `proxy-protocol.txt` defines them. The parsing half is `proxy_hdr`.
//!
//! Which header a server gets follows HAProxy 2.6's `srv->pp_opts`
//! ([`PpOpts`]): any bit set sends a header; `V2` makes it a v2 header,
//! otherwise it is the v1 line (so `proxy-v2-options` without
//! `send-proxy-v2` sends a v1 line, as 2.6 does).
//!
//! A v2 header is built in one buffer, TLVs in 2.6's order:
//!
//! ```text
//!   sig(12) ver_cmd fam len(2) addresses
//!   [CRC32C 0x03] [ALPN 0x01] [AUTHORITY 0x02] [UNIQUE_ID 0x05]
//!   [SSL 0x20: client verify(4) [VERSION 0x21] [CN 0x22] [KEY_ALG 0x25]
//!                               [SIG_ALG 0x24] [CIPHER 0x23]]
//! ```
//!
//! The CRC32C value is computed last, over the whole header with the value
//! zeroed, and written in network order.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::proxy_hdr::{V2_SIG, pp2};
use bitflags::bitflags;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};

bitflags! {
    /// What a server sends before its data (HAProxy's `SRV_PP_*`), set by
    /// the `server` keywords `send-proxy`, `send-proxy-v2`,
    /// `send-proxy-v2-ssl[-cn]`, `proxy-v2-options` and their `no-` forms.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct PpOpts: u16 {
        /// `send-proxy`.
        const V1 = 0x0001;
        /// `send-proxy-v2`.
        const V2 = 0x0002;
        /// The SSL TLV (`ssl`, implied by every `cert-*`/`ssl-cipher`).
        const V2_SSL = 0x0004;
        /// Its client certificate CN sub-TLV (`cert-cn`).
        const V2_SSL_CN = 0x0008;
        /// Its key algorithm sub-TLV (`cert-key`).
        const V2_SSL_KEY_ALG = 0x0010;
        /// Its signature algorithm sub-TLV (`cert-sig`).
        const V2_SSL_SIG_ALG = 0x0020;
        /// Its cipher sub-TLV (`ssl-cipher`).
        const V2_SSL_CIPHER = 0x0040;
        /// The AUTHORITY TLV: the client's SNI (`authority`).
        const V2_AUTHORITY = 0x0080;
        /// The CRC32C TLV (`crc32c`).
        const V2_CRC32C = 0x0100;
        /// The UNIQUE_ID TLV (`unique-id`).
        const V2_UNIQUE_ID = 0x0200;
        /// Health checks send a PROXY command with their own addresses, not
        /// LOCAL: the global `pp2-never-send-local`, set on every v2 server.
        const V2_CHECK_NEVER_LOCAL = 0x0400;
    }
}

impl PpOpts {
    /// Adds the options of a `proxy-v2-options a,b,c` list. Precondition:
    /// none. Returns the first unknown option as HAProxy words it
    /// (`'<opt>' : proxy v2 option not implemented`); nothing is added then.
    pub fn parse_v2_options(list: &str) -> Result<PpOpts, String> {
        let mut o = PpOpts::empty();
        for p in list.split(',') {
            o |= match p {
                "ssl" => PpOpts::V2_SSL,
                "cert-cn" => PpOpts::V2_SSL | PpOpts::V2_SSL_CN,
                "cert-key" => PpOpts::V2_SSL | PpOpts::V2_SSL_KEY_ALG,
                "cert-sig" => PpOpts::V2_SSL | PpOpts::V2_SSL_SIG_ALG,
                "ssl-cipher" => PpOpts::V2_SSL | PpOpts::V2_SSL_CIPHER,
                "authority" => PpOpts::V2_AUTHORITY,
                "crc32c" => PpOpts::V2_CRC32C,
                "unique-id" => PpOpts::V2_UNIQUE_ID,
                _ => return Err(format!("'{p}' : proxy v2 option not implemented")),
            };
        }
        Ok(o)
    }
}

/// The SSL TLV's `client` bits.
const PP2_CLIENT_SSL: u8 = 0x01;
const PP2_CLIENT_CERT_CONN: u8 = 0x02;
const PP2_CLIENT_CERT_SESS: u8 = 0x04;
/// HAProxy keeps a unique ID in a 128-byte buffer, NUL included.
pub const UNIQUE_ID_MAX: usize = 127;

/// What the SSL TLV says of the client's TLS session (HAProxy's
/// `ssl_sock_get_*` of the client connection).
#[derive(Debug, Clone, Copy, Default)]
pub struct SslInfo<'a> {
    /// `SSL_get_version`: `TLSv1.3`.
    pub version: &'a str,
    /// A client certificate is known to the session (`ssl_c_used`).
    pub cert_sess: bool,
    /// ... and was presented on this connection (not a resumption).
    pub cert_conn: bool,
    /// `SSL_get_verify_result`.
    pub verify: i32,
    /// The first CN of the client certificate's subject, raw.
    pub cn: Option<&'a [u8]>,
    /// Our certificate's key: algorithm and bits (`RSA`, 2048).
    pub key_alg: Option<(&'static str, u32)>,
    /// Our certificate's signature algorithm short name (`RSA-SHA256`).
    pub sig_alg: Option<&'a str>,
    /// The cipher's OpenSSL name.
    pub cipher: Option<&'a str>,
}

/// What the v2 TLVs carry about the client side of the connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientInfo<'a> {
    /// The ALPN negotiated with the client (sent whenever there is one).
    pub alpn: Option<&'a [u8]>,
    /// The client's SNI.
    pub authority: Option<&'a [u8]>,
    /// The stream's unique ID; None when there is no stream (checks), in
    /// which case no TLV is sent. An empty ID is sent as an empty TLV.
    pub unique_id: Option<&'a [u8]>,
    /// The client's TLS session; None on a clear connection (the SSL TLV
    /// then only says "not SSL").
    pub ssl: Option<SslInfo<'a>>,
}

impl<'a> SslInfo<'a> {
    /// Reads what the SSL TLV needs from a client-side TLS session.
    /// `peer` is its client certificate (`ssl.peer_certificate()`, held by
    /// the caller so the CN can be borrowed). Reads only; no allocation.
    pub fn from_ssl(
        ssl: &'a openssl::ssl::SslRef,
        peer: Option<&'a openssl::x509::X509Ref>,
    ) -> SslInfo<'a> {
        use openssl::nid::Nid;
        use openssl::pkey::Id;
        let cn = peer.and_then(|c| {
            c.subject_name()
                .entries_by_nid(Nid::COMMONNAME)
                .next()
                .map(|e| e.data().as_slice())
        });
        let own = ssl.certificate();
        let key_alg = own.and_then(|c| c.public_key().ok()).and_then(|k| {
            let name = match k.id() {
                Id::RSA => "RSA",
                Id::EC => "EC",
                Id::DSA => "DSA",
                _ => return None,
            };
            Some((name, k.bits()))
        });
        let sig_alg = own.and_then(|c| c.signature_algorithm().object().nid().short_name().ok());
        SslInfo {
            version: ssl.version_str(),
            cert_sess: peer.is_some(),
            // HAProxy's "verify done": the certificate came with this
            // handshake, not from a resumed session.
            cert_conn: peer.is_some() && !ssl.session_reused(),
            verify: ssl.verify_result().as_raw(),
            cn,
            key_alg,
            sig_alg,
            cipher: ssl.current_cipher().map(|c| c.name()),
        }
    }
}

/// The v1 line for a connection from `src` to `dst` (UNKNOWN if either is
/// missing; TCP6 with IPv4-mapped addresses when the families differ, as
/// HAProxy's `make_proxy_line_v1`).
pub fn encode_v1(src: Option<SocketAddr>, dst: Option<SocketAddr>) -> Vec<u8> {
    let mut v = Vec::with_capacity(crate::conn::proxy_hdr::V1_MAX);
    let _ = match (src, dst) {
        (Some(SocketAddr::V4(s)), Some(SocketAddr::V4(d))) => write!(
            v,
            "PROXY TCP4 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        ),
        (Some(s), Some(d)) => write!(
            v,
            "PROXY TCP6 {} {} {} {}\r\n",
            v6(s.ip()),
            v6(d.ip()),
            s.port(),
            d.port()
        ),
        _ => v.write_all(b"PROXY UNKNOWN\r\n"),
    };
    v
}

/// An address as IPv6 (IPv4-mapped for an IPv4 one).
fn v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// The v2 header with no TLV for a connection from `src` to `dst` (LOCAL
/// if unknown).
pub fn encode_v2(src: Option<SocketAddr>, dst: Option<SocketAddr>) -> Vec<u8> {
    encode_v2_tlv(src, dst, PpOpts::V2, &ClientInfo::default())
}

/// Appends one TLV.
fn tlv(v: &mut Vec<u8>, ty: u8, value: &[u8]) {
    // Every value is bounded well below 64 kB (ALPN and SNI by TLS, the
    // unique ID by UNIQUE_ID_MAX); `min` keeps the length honest anyway.
    let value = value
        .get(..value.len().min(usize::from(u16::MAX)))
        .unwrap_or(&[]);
    v.push(ty);
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
}

/// Overwrites a big-endian u16 at `at` (a length reserved earlier).
fn patch_u16(v: &mut [u8], at: usize, n: usize) {
    if let Some(d) = v.get_mut(at..at + 2) {
        d.copy_from_slice(&(n.min(usize::from(u16::MAX)) as u16).to_be_bytes());
    }
}

/// The v2 header for a connection from `src` to `dst`, with the TLVs
/// `opts` asks for filled from `cli` (HAProxy's `make_proxy_line_v2`).
/// A LOCAL command when an address is unknown (checks pass None). The
/// ALPN TLV goes whenever the client negotiated one. One allocation: the
/// returned buffer, sized for the whole header.
pub fn encode_v2_tlv(
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    opts: PpOpts,
    cli: &ClientInfo<'_>,
) -> Vec<u8> {
    let len_of = |x: Option<&[u8]>| x.map_or(0, |b| 3 + b.len());
    let ssl_len = cli.ssl.map_or(0, |s| {
        5 * 3
            + s.version.len()
            + s.cn.map_or(0, <[u8]>::len)
            + 16
            + s.sig_alg.map_or(0, str::len)
            + s.cipher.map_or(0, str::len)
    });
    let cap = 16
        + 36
        + 7
        + len_of(cli.alpn)
        + len_of(cli.authority)
        + cli.unique_id.map_or(0, |u| 3 + u.len().min(UNIQUE_ID_MAX))
        + 8
        + ssl_len;
    let mut v = Vec::with_capacity(cap);
    v.extend_from_slice(&V2_SIG);
    match (src, dst) {
        (Some(SocketAddr::V4(s)), Some(SocketAddr::V4(d))) => {
            v.extend_from_slice(&[0x21, 0x11, 0, 0]);
            v.extend_from_slice(&s.ip().octets());
            v.extend_from_slice(&d.ip().octets());
            v.extend_from_slice(&s.port().to_be_bytes());
            v.extend_from_slice(&d.port().to_be_bytes());
        }
        (Some(s), Some(d)) => {
            v.extend_from_slice(&[0x21, 0x21, 0, 0]);
            v.extend_from_slice(&v6(s.ip()).octets());
            v.extend_from_slice(&v6(d.ip()).octets());
            v.extend_from_slice(&s.port().to_be_bytes());
            v.extend_from_slice(&d.port().to_be_bytes());
        }
        _ => v.extend_from_slice(&[0x20, 0x00, 0, 0]),
    }
    let mut crc_at = None;
    if opts.contains(PpOpts::V2_CRC32C) {
        crc_at = Some(v.len() + 3);
        tlv(&mut v, pp2::CRC32C, &[0; 4]);
    }
    if let Some(a) = cli.alpn {
        tlv(&mut v, pp2::ALPN, a);
    }
    if opts.contains(PpOpts::V2_AUTHORITY)
        && let Some(a) = cli.authority
    {
        tlv(&mut v, pp2::AUTHORITY, a);
    }
    if opts.contains(PpOpts::V2_UNIQUE_ID)
        && let Some(u) = cli.unique_id
    {
        tlv(
            &mut v,
            pp2::UNIQUE_ID,
            u.get(..u.len().min(UNIQUE_ID_MAX)).unwrap_or(u),
        );
    }
    if opts.contains(PpOpts::V2_SSL) {
        let start = v.len();
        // type, length (patched below), client, verify
        v.extend_from_slice(&[pp2::SSL, 0, 0, 0, 0, 0, 0, 0]);
        let mut client = 0u8;
        let mut verify = 0i32;
        if let Some(s) = cli.ssl {
            client |= PP2_CLIENT_SSL;
            tlv(&mut v, pp2::SUBTYPE_SSL_VERSION, s.version.as_bytes());
            if s.cert_sess {
                client |= PP2_CLIENT_CERT_SESS;
                verify = s.verify;
                if s.cert_conn {
                    client |= PP2_CLIENT_CERT_CONN;
                }
            }
            if opts.contains(PpOpts::V2_SSL_CN)
                && let Some(cn) = s.cn.filter(|c| !c.is_empty())
            {
                tlv(&mut v, pp2::SUBTYPE_SSL_CN, cn);
            }
            if opts.contains(PpOpts::V2_SSL_KEY_ALG)
                && let Some((alg, bits)) = s.key_alg
            {
                v.push(pp2::SUBTYPE_SSL_KEY_ALG);
                let at = v.len();
                v.extend_from_slice(&[0, 0]);
                let _ = write!(v, "{alg}{bits}");
                let n = v.len() - at - 2;
                patch_u16(&mut v, at, n);
            }
            if opts.contains(PpOpts::V2_SSL_SIG_ALG)
                && let Some(sig) = s.sig_alg
            {
                tlv(&mut v, pp2::SUBTYPE_SSL_SIG_ALG, sig.as_bytes());
            }
            if opts.contains(PpOpts::V2_SSL_CIPHER)
                && let Some(c) = s.cipher
            {
                tlv(&mut v, pp2::SUBTYPE_SSL_CIPHER, c.as_bytes());
            }
        }
        let n = v.len() - start - 3;
        patch_u16(&mut v, start + 1, n);
        if let Some(b) = v.get_mut(start + 3) {
            *b = client;
        }
        if let Some(d) = v.get_mut(start + 4..start + 8) {
            d.copy_from_slice(&verify.to_be_bytes());
        }
    }
    let n = v.len() - 16;
    patch_u16(&mut v, 14, n);
    if let Some(at) = crc_at {
        let crc = super::crc32c::crc32c(&v);
        if let Some(d) = v.get_mut(at..at + 4) {
            d.copy_from_slice(&crc.to_be_bytes());
        }
    }
    v
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
            .collect()
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
        assert_eq!(
            encode_v1(Some(sa("1.2.3.4:1")), Some(sa("[::2]:2"))),
            b"PROXY TCP6 ::ffff:1.2.3.4 ::2 1 2\r\n"
        );
        assert_eq!(encode_v1(None, None), b"PROXY UNKNOWN\r\n");
    }

    #[test]
    fn options_parse_as_haproxy() {
        assert_eq!(
            PpOpts::parse_v2_options("cert-cn,crc32c"),
            Ok(PpOpts::V2_SSL | PpOpts::V2_SSL_CN | PpOpts::V2_CRC32C)
        );
        assert_eq!(
            PpOpts::parse_v2_options("ssl,foo"),
            Err("'foo' : proxy v2 option not implemented".to_string())
        );
        assert_eq!(
            PpOpts::parse_v2_options(""),
            Err("'' : proxy v2 option not implemented".to_string())
        );
    }

    /// HAProxy 2.6's header for 127.0.0.1:37888 -> 127.0.0.1:25501 with
    /// `proxy-v2-options ssl,cert-cn,...,unique-id` on a clear connection
    /// (tests/fixtures/proxy_v2/plain_v2_all.hex).
    #[test]
    fn clear_connection_all_options_matches_haproxy() {
        let want = hex(
            "0d0a0d0a000d0a515549540a211100317f0000017f0000018400639d03000463c31a16\
             05001366697865642d3132372e302e302e312d6162632000050000000000",
        );
        let all = PpOpts::parse_v2_options(
            "ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id",
        )
        .unwrap_or_default();
        let cli = ClientInfo {
            unique_id: Some(b"fixed-127.0.0.1-abc"),
            ..ClientInfo::default()
        };
        let got = encode_v2_tlv(
            Some(sa("127.0.0.1:33792")),
            Some(sa("127.0.0.1:25501")),
            PpOpts::V2 | all,
            &cli,
        );
        assert_eq!(got, want);
        // A check: LOCAL, no stream (no unique ID), SSL says "clear".
        let got = encode_v2_tlv(None, None, PpOpts::V2 | all, &ClientInfo::default());
        assert_eq!(
            got,
            hex("0d0a0d0a000d0a515549540a2000000f030004889da1df2000050000000000")
        );
    }

    #[test]
    fn tls_session_tlvs_in_haproxy_order() {
        let ssl = SslInfo {
            version: "TLSv1.2",
            cert_sess: true,
            cert_conn: true,
            verify: 0,
            cn: Some(b"client1"),
            key_alg: Some(("RSA", 2048)),
            sig_alg: Some("RSA-SHA256"),
            cipher: Some("ECDHE-RSA-AES256-GCM-SHA384"),
        };
        let cli = ClientInfo {
            alpn: Some(b"http/1.1"),
            authority: Some(b"www.example.test"),
            unique_id: Some(b"fixed-127.0.0.1"),
            ssl: Some(ssl),
        };
        let all = PpOpts::parse_v2_options(
            "ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id",
        )
        .unwrap_or_default();
        let got = encode_v2_tlv(
            Some(sa("127.0.0.1:58330")),
            Some(sa("127.0.0.1:25504")),
            PpOpts::V2 | all,
            &cli,
        );
        // tests/fixtures/proxy_v2/tls12_all_cert.hex
        let want = hex(
            "0d0a0d0a000d0a515549540a211100947f0000017f000001e3da63a003000448e999f5\
             010008687474702f312e310200107777772e6578616d706c652e746573740500\
             0f66697865642d3132372e302e302e3120004e0700000000210007544c537631\
             2e32220007636c69656e74312500075253413230343824000a5253412d534841\
             32353623001b45434448452d5253412d4145533235362d47434d2d5348413338\
             34",
        );
        assert_eq!(got, want);
        assert!(got.capacity() >= got.len() && got.capacity() <= got.len() + 64);
    }

    #[test]
    fn unique_id_is_cut_at_127_bytes() {
        let long = [b'x'; 200];
        let cli = ClientInfo {
            unique_id: Some(&long),
            ..ClientInfo::default()
        };
        let got = encode_v2_tlv(None, None, PpOpts::V2 | PpOpts::V2_UNIQUE_ID, &cli);
        assert_eq!(&got[16..19], &[0x05, 0x00, 0x7f]);
        assert_eq!(got.len(), 16 + 3 + 127);
    }

    #[test]
    fn mixed_families_become_ipv6() {
        let got = encode_v2_tlv(
            Some(sa("1.2.3.4:1")),
            Some(sa("[::1]:2")),
            PpOpts::V2,
            &ClientInfo::default(),
        );
        assert_eq!(&got[12..16], &[0x21, 0x21, 0, 36]);
        assert_eq!(
            &got[16..32],
            &std::net::Ipv6Addr::from([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]).octets()
        );
    }
}
