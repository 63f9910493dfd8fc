//! Chunked transfer coding pieces (RFC 9112 section 7.1), sans-IO, strict as
//! HAProxy 2.6 (checked by sending raw chunked requests to it):
//!
//! ```text
//!   chunk_size --size>0--> <size bytes of data> --> chunk_crlf --> chunk_size ...
//!        |
//!        +--size=0--> trailers (fields, then the empty line) --> done
//! ```
//!
//! | case | 2.6 outcome (pos from the line start) |
//! |---|---|
//! | hex digits, either case, any number of leading zeros | accepted |
//! | size >= 2^52 (`10000000000000`) | reject (the digit that overflows) |
//! | no digit, SP before the size, `0x5`, `-5` | reject (first byte / `x`) |
//! | SP / HT after the size, before `;` or the line end | accepted |
//! | `;` extension: any bytes (CTL, NUL, quotes, empty) up to the line end | accepted, dropped |
//! | junk after the size (`5x`, `5 x`) | reject (the junk byte) |
//! | bare LF after the size, after the data, in trailers | accepted |
//! | CR not followed by LF anywhere | reject (byte after CR) |
//! | data not followed by CRLF / LF | reject (first byte after the data) |
//! | trailer field name not tchar, no colon, obs-fold | reject; reject; accepted (unfolded) |
//! | trailer value with NUL | accepted |
//!
//! Positions returned are offsets in the `buf` given (the caller adds where
//! that is in the stream). 2.6 reports trailer errors at the start of the
//! chunked data it is parsing; here they are on the offending byte.
//! `option accept-invalid-http-*` does not relax trailers (2.6 neither).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use memchr::{memchr, memchr2};

use super::parse::{ParseError, bail, check_cr, is_sp, is_tchar, line_at};

/// Largest chunk size HAProxy 2.6 accepts, plus one.
pub const CHUNK_SIZE_LIMIT: u64 = 1 << 52;

/// Parses a chunk-size line `HEX [SP/HT*] [; ext] CRLF` at the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, `Ok(Some((size, consumed)))`
/// with `consumed` including the line end, or the first invalid byte.
pub fn chunk_size(buf: &[u8]) -> Result<Option<(u64, usize)>, ParseError> {
    let mut size: u64 = 0;
    let mut i = 0;
    while let Some(d) = buf.get(i).and_then(|&c| (c as char).to_digit(16)) {
        size = size * 16 + u64::from(d);
        if size >= CHUNK_SIZE_LIMIT {
            bail!(i, "chunk size too large");
        }
        i += 1;
    }
    if i == 0 {
        match buf.first() {
            None => return Ok(None),
            Some(_) => bail!(0, "missing chunk size"),
        }
    }
    while buf.get(i).is_some_and(|&c| is_sp(c)) {
        i += 1;
    }
    match buf.get(i) {
        None => Ok(None),
        Some(b';') => {
            // Extension: anything up to the line end; a CR must precede an LF.
            let ext = buf.get(i..).unwrap_or(&[]);
            match memchr2(b'\r', b'\n', ext) {
                None => Ok(None),
                Some(k) => {
                    let e = i + k;
                    line_end(buf, e).map(|r| r.map(|n| (size, n)))
                }
            }
        }
        Some(b'\r' | b'\n') => line_end(buf, i).map(|r| r.map(|n| (size, n))),
        Some(_) => bail!(i, "invalid chunk size"),
    }
}

/// The line end (CRLF or LF) at `buf[i]`, known to be CR or LF: the offset
/// after it, None if the LF after a CR is not there yet.
fn line_end(buf: &[u8], i: usize) -> Result<Option<usize>, ParseError> {
    match (buf.get(i), buf.get(i + 1)) {
        (Some(b'\n'), _) => Ok(Some(i + 1)),
        (Some(b'\r'), Some(b'\n')) => Ok(Some(i + 2)),
        (Some(b'\r'), None) => Ok(None),
        (Some(b'\r'), Some(_)) => bail!(i + 1, "CR not followed by LF"),
        (None, _) => Ok(None),
        (Some(_), _) => bail!(i, "expected CRLF"),
    }
}

/// The CRLF (or bare LF) after a chunk's data, at the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, `Ok(Some(consumed))`, or an
/// error on the first byte that is not the line end.
pub fn chunk_crlf(buf: &[u8]) -> Result<Option<usize>, ParseError> {
    line_end(buf, 0)
}

/// The trailer section after the last (size 0) chunk line: fields, then the
/// empty line, at the start of `buf`.
///
/// Precondition: `*scanned` is 0 or what a previous call on a prefix of the
/// same bytes left; complete lines before it were checked and are not parsed
/// again. Returns `Ok(Some(total len))` including the empty line,
/// `Ok(None)` when more bytes are needed, or the first invalid byte.
pub fn trailers(buf: &[u8], scanned: &mut usize) -> Result<Option<usize>, ParseError> {
    let mut pos = *scanned;
    loop {
        if memchr(b'\n', buf.get(pos..).unwrap_or(&[])).is_none() {
            // Incomplete line: only a CR at its start can already be judged.
            if buf.get(pos) == Some(&b'\r') && buf.len() > pos + 1 {
                bail!(pos + 1, "CR not followed by LF");
            }
            *scanned = pos;
            return Ok(None);
        }
        let l = line_at(buf, pos)?;
        if l.start == l.end {
            *scanned = l.next;
            return Ok(Some(l.next));
        }
        let c0 = buf.get(l.start).copied().unwrap_or(0);
        if c0 == b'\r' {
            bail!(l.start + 1, "CR not followed by LF");
        }
        if is_sp(c0) {
            // obs-fold: continues the previous field (checked lines before).
            if l.start == 0 {
                bail!(0, "obs-fold before any trailer field");
            }
        } else {
            let mut i = l.start;
            while i < l.end && buf.get(i).is_some_and(|&c| is_tchar(c)) {
                i += 1;
            }
            if i == l.start || i == l.end || buf.get(i) != Some(&b':') {
                bail!(i, "invalid trailer field name");
            }
        }
        check_cr(buf, l.start, l.end)?;
        pos = l.next;
        *scanned = pos;
    }
}

/// [`check_chunked`] on what came after a head of `len` bytes in `data`,
/// when the head says chunked: false (and a debug line for stream `id`)
/// when that part is already invalid, which makes the head a bad message.
pub fn body_with_head_ok(id: u32, chunked: bool, data: &[u8], len: usize) -> bool {
    if !chunked {
        return true;
    }
    match check_chunked(data.get(len..).unwrap_or(&[])) {
        Ok(()) => true,
        Err(e) => {
            log::debug!("stream {id}: bad chunked body at {}: {}", e.pos, e.why);
            false
        }
    }
}

/// Checks the part of a chunked body that is already in `buf` (the bytes
/// after the head): sizes, the line end after each chunk's data, the
/// trailers. HAProxy 2.6's HTTP/1 layer parses what came with the head in
/// the same pass, so an error there rejects the request as a bad head
/// would (`PR--`, `<BADREQ>`). `Ok` when all there is is valid so far (a
/// part cut short is left to the body analyser); stops at the end of the
/// message (what follows is the next request).
pub fn check_chunked(buf: &[u8]) -> Result<(), ParseError> {
    // An error's position, from its part's start to `buf`'s.
    let at = |k: usize| {
        move |e: ParseError| ParseError {
            pos: e.pos + k,
            why: e.why,
        }
    };
    let mut pos = 0usize;
    // Each round consumes at least one byte (a size line has a digit and a
    // line end), so this ends with `buf`.
    while let Some(rest) = buf.get(pos..).filter(|r| !r.is_empty()) {
        let Some((n, used)) = chunk_size(rest).map_err(at(pos))? else {
            return Ok(());
        };
        if n == 0 {
            let t = rest.get(used..).unwrap_or(&[]);
            return trailers(t, &mut 0).map(|_| ()).map_err(at(pos + used));
        }
        let data_end = used.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
        let Some(after) = rest.get(data_end..) else {
            return Ok(());
        };
        let Some(crlf) = chunk_crlf(after).map_err(at(pos + data_end))? else {
            return Ok(());
        };
        pos += data_end + crlf;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, clippy::unwrap_used)]
    use super::*;

    #[test]
    fn size_simple_and_line_ends() {
        assert_eq!(chunk_size(b"5\r\nhello"), Ok(Some((5, 3))));
        assert_eq!(chunk_size(b"a\n"), Ok(Some((10, 2))));
        assert_eq!(chunk_size(b"Ff\r\n"), Ok(Some((255, 4))));
        assert_eq!(chunk_size(b"00000000000000005\r\n"), Ok(Some((5, 19))));
        assert_eq!(chunk_size(b"0\r\n"), Ok(Some((0, 3))));
    }

    #[test]
    fn size_needs_more() {
        for p in [&b""[..], b"5", b"5\r", b"5 ", b"5;ext", b"5;ext\r", b"5 \t"] {
            assert_eq!(chunk_size(p), Ok(None), "{p:?}");
        }
    }

    #[test]
    fn size_extensions_and_spaces() {
        assert_eq!(chunk_size(b"5;foo=bar\r\n"), Ok(Some((5, 11))));
        assert_eq!(chunk_size(b"5;foo=\"b;r\"\r\n"), Ok(Some((5, 13))));
        assert_eq!(chunk_size(b"5 ;foo\r\n"), Ok(Some((5, 8))));
        assert_eq!(chunk_size(b"5\t;foo\r\n"), Ok(Some((5, 8))));
        assert_eq!(chunk_size(b"5 \r\n"), Ok(Some((5, 4))));
        assert_eq!(chunk_size(b"5;\r\n"), Ok(Some((5, 4))));
        assert_eq!(chunk_size(b"5;a\x01\x00b\n"), Ok(Some((5, 7))));
        assert_eq!(chunk_size(b"5;a\n"), Ok(Some((5, 4))));
    }

    #[test]
    fn size_errors_at_the_offending_byte() {
        let e = |b: &[u8]| chunk_size(b).map_err(|e| e.pos);
        assert_eq!(e(b" 5\r\n"), Err(0));
        assert_eq!(e(b"\r\n"), Err(0));
        assert_eq!(e(b"0x5\r\n"), Err(1));
        assert_eq!(e(b"-5\r\n"), Err(0));
        assert_eq!(e(b"5x\r\n"), Err(1));
        assert_eq!(e(b"5 x\r\n"), Err(2));
        assert_eq!(e(b"5\r\r\n"), Err(2));
        assert_eq!(e(b"5;a\rb\r\n"), Err(4));
        assert_eq!(e(b"\rx"), Err(0));
    }

    #[test]
    fn size_limit_is_2_pow_52() {
        assert_eq!(
            chunk_size(b"FFFFFFFFFFFFF\r\n"),
            Ok(Some(((1 << 52) - 1, 15)))
        );
        let e = |b: &[u8]| chunk_size(b).map_err(|e| e.pos);
        assert_eq!(e(b"10000000000000\r\n"), Err(13));
        assert_eq!(e(b"7FFFFFFFFFFFFFFF\r\n"), Err(13));
        assert_eq!(e(b"FFFFFFFFFFFFFFFFF\r\n"), Err(13));
        assert_eq!(e(b"000010000000000000\r\n"), Err(17));
    }

    #[test]
    fn crlf_after_data() {
        assert_eq!(chunk_crlf(b"\r\n0"), Ok(Some(2)));
        assert_eq!(chunk_crlf(b"\n"), Ok(Some(1)));
        assert_eq!(chunk_crlf(b""), Ok(None));
        assert_eq!(chunk_crlf(b"\r"), Ok(None));
        assert_eq!(chunk_crlf(b"XX\r\n").map_err(|e| e.pos), Err(0));
        assert_eq!(chunk_crlf(b" \r\n").map_err(|e| e.pos), Err(0));
        assert_eq!(chunk_crlf(b"\r0").map_err(|e| e.pos), Err(1));
    }

    #[test]
    fn trailers_complete_and_resumable() {
        let t = b"X-T: 1\r\nY: a\x00b\r\n \tfold\r\nZ:\n\r\nrest";
        let mut sc = 0;
        assert_eq!(trailers(t, &mut sc), Ok(Some(t.len() - 4)));
        for cut in 0..t.len() - 4 {
            let mut sc = 0;
            assert_eq!(trailers(&t[..cut], &mut sc), Ok(None), "cut {cut}");
            assert!(sc <= cut);
            assert_eq!(trailers(t, &mut sc), Ok(Some(t.len() - 4)), "cut {cut}");
        }
        assert_eq!(trailers(b"\r\n", &mut 0), Ok(Some(2)));
        assert_eq!(trailers(b"\n", &mut 0), Ok(Some(1)));
    }

    #[test]
    fn trailers_errors() {
        let e = |b: &[u8]| trailers(b, &mut 0).map_err(|e| e.pos);
        assert_eq!(e(b"X T: 1\r\n\r\n"), Err(1));
        assert_eq!(e(b"XT\r\n\r\n"), Err(2));
        assert_eq!(e(b": v\r\n\r\n"), Err(0));
        assert_eq!(e(b"X\xe9: v\r\n\r\n"), Err(1));
        assert_eq!(e(b"X: a\rb\r\n\r\n"), Err(5));
        assert_eq!(e(b"X: a\r\n\r\r\n"), Err(7));
        assert_eq!(e(b" fold\r\n\r\n"), Err(0));
        assert_eq!(e(b"\rX"), Err(1));
    }

    #[test]
    fn chunked_body_in_the_buffer_checked_up_to_its_end() {
        let e = |b: &[u8]| check_chunked(b).map_err(|e| e.pos);
        // Valid, whole or cut anywhere: nothing to reject yet.
        let ok = b"3\r\nabc\r\n5;x\r\nhello\r\n0\r\nT: 1\r\n\r\nGARBAGE";
        for cut in 0..=ok.len() {
            assert_eq!(e(&ok[..cut]), Ok(()), "cut {cut}");
        }
        assert_eq!(e(b"zz\r\nabc\r\n0\r\n\r\n"), Err(0));
        assert_eq!(e(b"z"), Err(0));
        assert_eq!(e(b"3x\r\n"), Err(1));
        assert_eq!(e(b"3\r\nabc\r\nzz\r\n"), Err(8));
        assert_eq!(e(b"3\r\nabcX\r\n"), Err(6));
        assert_eq!(e(b"0\r\nbad trailer\r\n\r\n"), Err(6));
    }
}
