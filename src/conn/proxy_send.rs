//! PROXY protocol headers sent to servers (HAProxy's `make_proxy_line`):
//! the v1 line and the v2 binary header, as the HAProxy spec
//! `proxy-protocol.txt` defines them. The parsing half is `proxy_hdr`.

use super::proxy_hdr::V2_SIG;
use std::net::SocketAddr;

/// The v1 line for a connection from `src` to `dst` (UNKNOWN if either is
/// missing or the families differ).
pub fn encode_v1(src: Option<SocketAddr>, dst: Option<SocketAddr>) -> Vec<u8> {
    match (src, dst) {
        (Some(SocketAddr::V4(s)), Some(SocketAddr::V4(d))) => format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        )
        .into_bytes(),
        (Some(SocketAddr::V6(s)), Some(SocketAddr::V6(d))) => format!(
            "PROXY TCP6 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        )
        .into_bytes(),
        _ => b"PROXY UNKNOWN\r\n".to_vec(),
    }
}

/// The v2 header for a connection from `src` to `dst` (LOCAL if unknown).
pub fn encode_v2(src: Option<SocketAddr>, dst: Option<SocketAddr>) -> Vec<u8> {
    let mut v = V2_SIG.to_vec();
    match (src, dst) {
        (Some(SocketAddr::V4(s)), Some(SocketAddr::V4(d))) => {
            v.extend_from_slice(&[0x21, 0x11, 0, 12]);
            v.extend_from_slice(&s.ip().octets());
            v.extend_from_slice(&d.ip().octets());
            v.extend_from_slice(&s.port().to_be_bytes());
            v.extend_from_slice(&d.port().to_be_bytes());
        }
        (Some(SocketAddr::V6(s)), Some(SocketAddr::V6(d))) => {
            v.extend_from_slice(&[0x21, 0x21, 0, 36]);
            v.extend_from_slice(&s.ip().octets());
            v.extend_from_slice(&d.ip().octets());
            v.extend_from_slice(&s.port().to_be_bytes());
            v.extend_from_slice(&d.port().to_be_bytes());
        }
        _ => v.extend_from_slice(&[0x20, 0x00, 0, 0]),
    }
    v
}
