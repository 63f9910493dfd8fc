//! A chunked body: chunk-size lines, data, CRLFs and trailers, walked like
//! the analyser does. Checks: no panic, consumed lengths and error positions
//! inside the input, and every prefix answers "need more" or the answer the
//! whole input gives.
#![no_main]

use haproxy_rs::http::parse::{ParseError, chunk_crlf, chunk_size, trailers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = 0;
    while p < data.len() {
        let rest = &data[p..];
        let r = chunk_size(rest);
        agree(rest, r, chunk_size);
        let (size, n) = match r {
            Ok(Some(x)) => x,
            Ok(None) => return,
            Err(e) => return assert!(e.pos <= rest.len()),
        };
        assert!(n <= rest.len());
        p += n;
        if size == 0 {
            let rest = &data[p..];
            let whole = trailers(rest, &mut 0);
            let mut sc = 0;
            for k in 0..=rest.len() {
                match trailers(&rest[..k], &mut sc) {
                    Ok(None) => assert!(sc <= k),
                    r => return assert_eq!(r, whole),
                }
            }
            return;
        }
        let Some(after) = usize::try_from(size).ok().and_then(|s| p.checked_add(s)) else {
            return;
        };
        if after > data.len() {
            return;
        }
        p = after;
        let rest = &data[p..];
        let r = chunk_crlf(rest);
        agree(rest, r, chunk_crlf);
        match r {
            Ok(Some(n)) => p += n,
            Ok(None) => return,
            Err(e) => return assert!(e.pos <= rest.len()),
        }
    }
});

fn agree<T: PartialEq + std::fmt::Debug>(
    b: &[u8],
    whole: Result<Option<T>, ParseError>,
    f: impl Fn(&[u8]) -> Result<Option<T>, ParseError>,
) {
    for k in 0..b.len() {
        let r = f(&b[..k]);
        assert!(
            r == Ok(None) || r == whole,
            "prefix {k}: {r:?} vs {whole:?}"
        );
    }
}
