//! The rewrites HAProxy 2.6's HTTP/1 layer makes to every head it forwards
//! (both directions), applied in place by the analysers once a head is
//! parsed: empty lines before the start line, overridden or repeated
//! `Content-Length`, `Transfer-Encoding` without a body, and a scheme's
//! default port in an absolute URI and the Host header.

use super::hdr::{EditError, HeadEdit};
use super::parse::{Framing, Method, MsgFlags};

/// What HAProxy 2.6 removes from a head before forwarding it: the empty
/// lines before the start line, every `Content-Length` that framing
/// overrides (`CL_DROP`) or all but the first of equal ones (`CL_MULTI`),
/// and `Transfer-Encoding` where there is no body (`TE_DROP`).
pub fn normalize_head(e: &mut HeadEdit) -> Result<(), EditError> {
    let lead = e.head.start_line.off as usize;
    if lead > 0 {
        e.replace(0, lead, b"")?;
    }
    if e.is_irregular() {
        e.rebuild()?;
    }
    let f = e.head.flags;
    if f.contains(MsgFlags::CL_DROP) {
        e.del(b"content-length")?;
    } else if f.contains(MsgFlags::CL_MULTI)
        && let Framing::Length(n) = e.head.framing
    {
        // One line with the first value as written (leading zeros kept).
        let first = e.value(b"content-length").unwrap_or_default();
        let first = first
            .split(|&c| c == b',')
            .next()
            .map(|v| v.trim_ascii().to_vec())
            .unwrap_or_else(|| n.to_string().into_bytes());
        e.del(b"content-length")?;
        e.add(b"content-length", &first)?;
    }
    if f.contains(MsgFlags::TE_DROP) {
        e.del(b"transfer-encoding")?;
    }
    Ok(())
}

/// HAProxy 2.6 drops the scheme's default port from an absolute URI's
/// authority and from the Host header (`http://h:80/` -> `http://h/`,
/// `Host: h:80` -> `Host: h`); for CONNECT, from the Host header. Only these
/// forms are touched: an origin-form request keeps its Host as sent.
pub fn normalize_default_port(e: &mut HeadEdit) -> Result<(), EditError> {
    let u = e.head.uri;
    let uri = u.get(e.bytes()).to_vec();
    let port: &[u8] = if e.head.method == Method::Connect {
        if uri.ends_with(b":80") {
            b":80"
        } else {
            b":443"
        }
    } else if uri
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"http://"))
    {
        b":80"
    } else if uri
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"https://"))
    {
        b":443"
    } else {
        return Ok(());
    };
    if e.head.method != Method::Connect {
        let auth_start = memchr::memmem::find(&uri, b"://").map_or(0, |i| i + 3);
        let auth = uri.get(auth_start..).unwrap_or(&[]);
        let auth_end = auth
            .iter()
            .position(|&c| c == b'/' || c == b'?')
            .map_or(uri.len(), |p| auth_start + p);
        if uri
            .get(auth_start..auth_end)
            .is_some_and(|a| a.ends_with(port))
        {
            let off = u.off as usize + auth_end - port.len();
            e.replace(off, port.len(), b"")?;
        }
    }
    // The Host value is cut in place (its position is kept).
    for i in 0..e.hdrs.len() {
        if !e.name_is(i, b"host") {
            continue;
        }
        let Some(h) = e.hdrs.get(i).copied() else {
            break;
        };
        if h.value.get(e.bytes()).ends_with(port) {
            let off = h.value.end() - port.len();
            e.replace(off, port.len(), b"")?;
        }
        break;
    }
    Ok(())
}
