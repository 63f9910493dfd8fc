//! The sizes HAProxy 2.6 gives message heads in its internal form (HTX),
//! which decide what it counts in its logs and byte counters (`%B`) and
//! where it finds a head too large. haproxy-rs forwards the bytes as
//! received and only computes these figures from the parsed head.

use super::parse::{Hdr, Head};

/// Whether a complete head fits a buffer once in HAProxy 2.6's internal
/// form, which is where 2.6 finds a head too large (400 for a request, 502
/// for a response): each block (start line, each header, end of headers)
/// costs 8 bytes, the start line 28 more and its three words, a header its
/// name and value; with the message's own 40 bytes and the rewrite reserve
/// that must stay below the buffer size. Measured on 2.6.12 with the
/// defaults: a request with 2 headers passes up to 15273 bytes on the wire,
/// with 12 up to 15233, with 52 up to 15073.
pub fn fits_htx(
    block: &[u8],
    head: &Head,
    hdrs: &[Hdr],
    bufsize: usize,
    maxrewrite: usize,
) -> bool {
    // `htx_head_size` counts 20 + 1 for the start line and no block.
    let size = htx_head_size(block, head, hdrs) as usize - 21 + 28 + 8 * (hdrs.len() + 2);
    size + 40 + maxrewrite < bufsize
}

/// The size HAProxy 2.6 gives a message head in its internal form, which is
/// what its logs (`%B`) and byte counters count: 20 bytes, the start line's
/// three words, each header's name and value, and 1, whatever the spacing
/// and line ends on the wire. `block` is the head's bytes.
pub fn htx_head_size(block: &[u8], head: &Head, hdrs: &[Hdr]) -> u64 {
    let line = head.start_line.get(block);
    let words: usize = line
        .split(|&c| c == b' ' || c == b'\t')
        .filter(|w| !w.is_empty())
        .take(2)
        .map(<[u8]>::len)
        .sum();
    // The third word (reason or version) runs to the end of the line.
    let third = line
        .splitn(3, |&c| c == b' ' || c == b'\t')
        .nth(2)
        .map_or(0, |r| r.len());
    let fields: usize = hdrs
        .iter()
        .map(|h| (h.name.len + h.value.len) as usize)
        .sum();
    (20 + words + third + fields + 1) as u64
}

/// [`htx_head_size`] of a message received from a peer, whose
/// `connection` headers 2.6's HTTP/1 layer trims first (see
/// `conn_htx_size`); its own replies keep theirs.
pub fn htx_head_size_received(block: &[u8], head: &Head, hdrs: &[Hdr]) -> u64 {
    let trimmed: usize = hdrs
        .iter()
        .filter(|h| h.name.get(block).eq_ignore_ascii_case(b"connection"))
        .map(|h| {
            ((h.name.len + h.value.len) as usize).saturating_sub(conn_htx_size(h.value.get(block)))
        })
        .sum();
    htx_head_size(block, head, hdrs).saturating_sub(trimmed as u64)
}

/// A `connection` header as 2.6's HTTP/1 layer keeps it: without its
/// `close` and `keep-alive` tokens (which it handles itself), gone when
/// nothing else is left (measured: `connection: close, x-foo` is
/// forwarded and counted as `connection: x-foo`).
fn conn_htx_size(value: &[u8]) -> usize {
    let mut n = 0;
    let mut kept = 0;
    for t in value.split(|&c| c == b',').map(<[u8]>::trim_ascii) {
        if t.is_empty() || t.eq_ignore_ascii_case(b"close") || t.eq_ignore_ascii_case(b"keep-alive")
        {
            continue;
        }
        n += t.len();
        kept += 1;
    }
    if kept == 0 {
        0
    } else {
        b"connection".len() + n + 2 * (kept - 1)
    }
}
