//! Response heads: the first byte picks the options and the request method,
//! the rest is the message.
//! Checks what `tests/http_parser_fuzz.rs` checks: no panic, spans inside the
//! head, `head_end` (whole and fed byte by byte) agrees with `parse_head`.
#![no_main]

use haproxy_rs::http::parse::{Hdr, Kind, Method, ParseOpts, head_end, parse_head};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&o, msg)) = data.split_first() else {
        return;
    };
    let opts = ParseOpts {
        maxhdr: if o & 0x80 != 0 {
            1 + usize::from(o & 7)
        } else {
            101
        },
        accept_invalid: o & 1 != 0,
        req_method: [Method::Get, Method::Head, Method::Connect, Method::Post]
            [usize::from(o >> 1 & 3)],
    };
    check(msg, Kind::Response, &opts);
});

fn check(msg: &[u8], kind: Kind, opts: &ParseOpts) {
    let mut hdrs: Vec<Hdr> = Vec::with_capacity(opts.maxhdr);
    let (ptr, cap) = (hdrs.as_ptr(), hdrs.capacity());
    let end = head_end(msg, &mut 0);
    let mut sc = 0;
    for k in 0..=msg.len() {
        let r = head_end(&msg[..k], &mut sc);
        assert_eq!(r, end.filter(|&l| l <= k));
        if r.is_some() {
            break;
        }
    }
    match parse_head(msg, kind, opts, &mut hdrs) {
        Ok(h) => {
            assert_eq!(end, Some(h.len));
            assert!(h.len <= msg.len() && h.nb_hdrs == hdrs.len());
            for s in [h.meth, h.uri, h.version, h.reason, h.start_line] {
                assert!(s.end() <= h.len);
            }
            for x in &hdrs {
                assert!(x.name.end() <= x.value.off as usize && x.value.end() <= x.line.end());
                assert!(x.line.end() <= h.len);
            }
        }
        Err(e) => assert!(e.pos <= msg.len()),
    }
    assert_eq!((hdrs.as_ptr(), hdrs.capacity()), (ptr, cap));
    if let Some(l) = end {
        let mut again = Vec::with_capacity(opts.maxhdr);
        assert_eq!(
            parse_head(&msg[..l], kind, opts, &mut again),
            parse_head(msg, kind, opts, &mut hdrs)
        );
    }
}
