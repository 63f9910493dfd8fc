//! Unit tests of `parse` (and of `framing` through it). Positions in the
//! assertions are the ones HAProxy 2.6 reported in `show errors` for the same
//! bytes, unless a comment says otherwise.
// A panic is how a test fails.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::http::corpus::{Expect, HAPROXY_ERROR_POS, SMUGGLING_CASES};

const STRICT: ParseOpts = ParseOpts {
    maxhdr: 101,
    accept_invalid: false,
    req_method: Method::Get,
};
const INVALID: ParseOpts = ParseOpts {
    maxhdr: 101,
    accept_invalid: true,
    req_method: Method::Get,
};

fn parse(b: &[u8], kind: Kind, opts: &ParseOpts) -> Result<(Head, Vec<Hdr>), ParseError> {
    let mut hdrs = Vec::with_capacity(opts.maxhdr);
    let head = parse_head(b, kind, opts, &mut hdrs)?;
    assert_eq!(head.nb_hdrs, hdrs.len());
    Ok((head, hdrs))
}

fn req(b: &[u8]) -> Result<Head, ParseError> {
    parse(b, Kind::Request, &STRICT).map(|r| r.0)
}

fn req_inv(b: &[u8]) -> Result<Head, ParseError> {
    parse(b, Kind::Request, &INVALID).map(|r| r.0)
}

fn req_pos(b: &[u8]) -> usize {
    match req(b) {
        Err(e) => e.pos,
        Ok(h) => panic!("accepted {:?}: {h:?}", String::from_utf8_lossy(b)),
    }
}

fn res_with(b: &[u8], req_method: Method) -> Result<Head, ParseError> {
    parse(
        b,
        Kind::Response,
        &ParseOpts {
            req_method,
            ..STRICT
        },
    )
    .map(|r| r.0)
}

fn res(b: &[u8]) -> Result<Head, ParseError> {
    res_with(b, Method::Get)
}

/// Runs a whole message: head, then its body as framed. Ok: the message end;
/// Err: (status, position from the first byte).
fn run(b: &[u8], kind: Kind, opts: &ParseOpts) -> Result<usize, (u16, usize)> {
    let mut scanned = 0;
    let len = head_end(b, &mut scanned).ok_or((0, b.len()))?;
    let mut hdrs = Vec::new();
    let head = parse_head(&b[..len], kind, opts, &mut hdrs).map_err(|e| (e.status(kind), e.pos))?;
    assert_eq!(head.len, len);
    let shift = |p: usize| move |e: ParseError| (e.status(kind), p + e.pos);
    match head.framing {
        Framing::Length(n) => Ok(len + n as usize),
        Framing::Chunked => {
            let mut p = len;
            loop {
                let (size, n) = chunk_size(&b[p..]).map_err(shift(p))?.ok_or((0, b.len()))?;
                p += n;
                if size == 0 {
                    let n = trailers(&b[p..], &mut 0)
                        .map_err(shift(p))?
                        .ok_or((0, b.len()))?;
                    return Ok(p + n);
                }
                p += size as usize;
                if p > b.len() {
                    return Err((0, b.len()));
                }
                p += chunk_crlf(&b[p..]).map_err(shift(p))?.ok_or((0, b.len()))?;
            }
        }
        _ => Ok(b.len()),
    }
}

#[test]
fn span_get_never_panics() {
    let b = b"hello";
    assert_eq!(Span { off: 1, len: 3 }.get(b), b"ell");
    assert_eq!(Span { off: 4, len: 3 }.get(b), b"");
    assert_eq!(
        Span {
            off: u32::MAX,
            len: u32::MAX
        }
        .get(b),
        b""
    );
    assert_eq!(Span { off: 2, len: 3 }.end(), 5);
}

#[test]
fn simple_request_fields() {
    let b = b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nX-A:  v  \r\n\r\nbody";
    let (h, hdrs) = parse(b, Kind::Request, &STRICT).unwrap();
    assert_eq!(h.method, Method::Get);
    assert_eq!(h.meth.get(b), b"GET");
    assert_eq!(h.uri.get(b), b"/index.html?x=1");
    assert_eq!(h.version.get(b), b"HTTP/1.1");
    assert_eq!(h.start_line.get(b), b"GET /index.html?x=1 HTTP/1.1");
    assert_eq!(h.len, b.len() - 4);
    assert_eq!(h.framing, Framing::None);
    assert_eq!(h.flags, MsgFlags::VER_11 | MsgFlags::HAS_HOST);
    assert_eq!(hdrs.len(), 2);
    assert_eq!(hdrs[0].name.get(b), b"Host");
    assert_eq!(hdrs[0].value.get(b), b"example.com");
    assert_eq!(hdrs[0].line.get(b), b"Host: example.com\r\n");
    assert_eq!(hdrs[1].value.get(b), b"v");
}

#[test]
fn simple_response_fields() {
    let b = b"HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nabc";
    let h = res(b).unwrap();
    assert_eq!(h.status, 404);
    assert_eq!(h.reason.get(b), b"Not Found");
    assert_eq!(h.version.get(b), b"HTTP/1.0");
    assert_eq!(h.method, Method::Other);
    assert!(!h.flags.contains(MsgFlags::VER_11));
    assert_eq!(h.framing, Framing::Length(3));
    assert_eq!(
        res(b"HTTP/1.1 200\r\n\r\n").unwrap().reason,
        Span { off: 12, len: 0 }
    );
}

#[test]
fn head_end_whole_and_resumed_at_every_split() {
    let msgs: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\nbody",
        b"\r\n\n\r\nGET / HTTP/1.1\nHost: a\n\nbody",
        b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
    ];
    for m in msgs {
        let whole = head_end(m, &mut 0);
        assert!(whole.is_some());
        for cut in 0..m.len() {
            let mut sc = 0;
            let first = head_end(&m[..cut], &mut sc);
            if first.is_some() {
                assert_eq!(first, whole);
                continue;
            }
            assert!(sc <= cut);
            assert_eq!(head_end(m, &mut sc), whole, "cut {cut}");
        }
    }
}

#[test]
fn head_end_byte_by_byte_scans_each_byte_once() {
    let m = b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut sc = 0;
    for n in 0..m.len() {
        assert_eq!(head_end(&m[..n], &mut sc), None);
        assert!(sc + 2 >= n, "scanned {sc} lags {n}");
    }
    assert_eq!(head_end(m, &mut sc), Some(m.len()));
}

#[test]
fn head_end_leading_empty_lines_are_not_the_end() {
    assert_eq!(head_end(b"\r\n\r\n", &mut 0), None);
    assert_eq!(head_end(b"\n\n\n", &mut 0), None);
    assert_eq!(
        head_end(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", &mut 0),
        Some(22)
    );
    let b = b"\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let h = req(b).unwrap();
    assert_eq!(h.start_line.off, 3);
    assert_eq!(h.len, b.len());
}

#[test]
fn head_end_hands_over_a_cr_without_lf_at_once() {
    // 2.6 rejects these as soon as the byte after the CR arrives.
    let b = b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n";
    let n = head_end(b, &mut 0).unwrap();
    assert_eq!(n, 27);
    assert_eq!(parse(&b[..n], Kind::Request, &STRICT).unwrap_err().pos, 26);
    assert_eq!(req_pos(b), 26);
    assert_eq!(head_end(b"\rG", &mut 0), Some(2));
    assert_eq!(req_pos(b"\rGET / HTTP/1.1\r\n\r\n"), 1);
    assert_eq!(req_pos(b"\rG"), 1);
}

#[test]
fn bare_lf_line_ends_everywhere() {
    let b = b"POST / HTTP/1.1\nHost: a\nContent-Length: 5\n\nhello";
    let h = req(b).unwrap();
    assert_eq!(h.framing, Framing::Length(5));
    assert_eq!(h.len, b.len() - 5);
    assert_eq!(h.version.get(b), b"HTTP/1.1");
    assert_eq!(
        res(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok")
            .unwrap()
            .framing,
        Framing::Length(2)
    );
}

#[test]
fn cr_without_lf_is_reported_on_the_next_byte() {
    assert_eq!(req_pos(b"GET / HTTP/1.1\rHost: a\r\n\r\n"), 15);
    assert_eq!(req_pos(b"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), 15);
    assert_eq!(req_pos(b"GE\rT / HTTP/1.1\r\nHost: a\r\n\r\n"), 3);
    assert_eq!(req_pos(b"GET /a\rb HTTP/1.1\r\n\r\n"), 7);
    assert_eq!(
        req_pos(b"GET / HTTP/1.1\r\nX-A: a\rb\r\nHost: a\r\n\r\n"),
        23
    );
    assert_eq!(req_pos(b"\r\n GET / HTTP/1.1\r\n\r\n"), 2);
    assert!(res(b"HTTP/1.1 200 O\rK\r\n\r\n").is_err());
}

#[test]
fn request_line_accepts_runs_of_sp_and_ht() {
    for b in [
        &b"GET  / HTTP/1.1\r\n\r\n"[..],
        b"GET /  HTTP/1.1\r\n\r\n",
        b"GET\t/ HTTP/1.1\r\n\r\n",
        b"GET\t/\tHTTP/1.1\r\n\r\n",
        b"GET   /   HTTP/1.1\r\n\r\n",
    ] {
        let h = req(b).unwrap();
        assert_eq!(
            (h.meth.get(b), h.uri.get(b), h.version.get(b)),
            (&b"GET"[..], &b"/"[..], &b"HTTP/1.1"[..])
        );
    }
}

#[test]
fn method_must_be_tchars() {
    let b = b"G!#$%&'*+-.^_`|~T / HTTP/1.1\r\n\r\n";
    assert_eq!(req(b).unwrap().method, Method::Other);
    assert_eq!(req_pos(b" GET / HTTP/1.1\r\n\r\n"), 0);
    assert_eq!(req_pos(b"\tGET / HTTP/1.1\r\n\r\n"), 0);
    assert_eq!(req_pos(b"G(T / HTTP/1.1\r\n\r\n"), 1);
    assert_eq!(req_pos(b"G\xe9T / HTTP/1.1\r\n\r\n"), 1);
    assert_eq!(req_pos(b"G\0T / HTTP/1.1\r\n\r\n"), 1);
    assert_eq!(req_pos(b"GE:T / HTTP/1.1\r\n\r\n"), 2);
    assert_eq!(req_pos(b"GET\r\n\r\n"), 3);
    assert_eq!(req_pos(b"GET \r\n\r\n"), 4);
    assert!(req(&[b"A".repeat(100).as_slice(), b" / HTTP/1.1\r\n\r\n"].concat()).is_ok());
}

#[test]
fn method_names_are_case_sensitive() {
    let m = |b: &[u8]| req(b).unwrap().method;
    assert_eq!(m(b"OPTIONS * HTTP/1.1\r\n\r\n"), Method::Options);
    assert_eq!(m(b"HEAD / HTTP/1.1\r\n\r\n"), Method::Head);
    assert_eq!(m(b"POST / HTTP/1.1\r\n\r\n"), Method::Post);
    assert_eq!(m(b"PUT / HTTP/1.1\r\n\r\n"), Method::Put);
    assert_eq!(m(b"DELETE / HTTP/1.1\r\n\r\n"), Method::Delete);
    assert_eq!(m(b"TRACE / HTTP/1.1\r\n\r\n"), Method::Trace);
    assert_eq!(m(b"CONNECT a:443 HTTP/1.1\r\n\r\n"), Method::Connect);
    assert_eq!(m(b"get / HTTP/1.1\r\n\r\n"), Method::Other);
}

#[test]
fn uri_control_bytes_are_always_rejected() {
    for (b, pos) in [
        (&b"GET /\x01 HTTP/1.1\r\n\r\n"[..], 5),
        (b"GET /\0 HTTP/1.1\r\n\r\n", 5),
        (b"GET /\x7f HTTP/1.1\r\n\r\n", 5),
        (b"GET /a b HTTP/1.1\r\n\r\n", 7),
        (b"GET /a\tb HTTP/1.1\r\n\r\n", 7),
    ] {
        assert_eq!(req_pos(b), pos, "{b:?}");
        assert!(req_inv(b).is_err());
    }
}

#[test]
fn uri_hash_and_8bit_need_accept_invalid() {
    assert_eq!(req_pos(b"GET /a#b HTTP/1.1\r\n\r\n"), 6);
    assert_eq!(req_pos(b"GET /a?b#c HTTP/1.1\r\n\r\n"), 8);
    assert_eq!(req_pos(b"GET /\xe9 HTTP/1.1\r\n\r\n"), 5);
    assert!(req_inv(b"GET /a#b HTTP/1.1\r\n\r\n").is_ok());
    assert!(req_inv(b"GET /\xe9 HTTP/1.1\r\n\r\n").is_ok());
    for b in [
        &b"GET /\"a\" HTTP/1.1\r\n\r\n"[..],
        b"GET /<a>{}|\\^` HTTP/1.1\r\n\r\n",
        b"GET /[]@!$&'()*+,;=%25~ HTTP/1.1\r\n\r\n",
    ] {
        assert!(req(b).is_ok(), "{b:?}");
    }
}

#[test]
fn http09_only_with_accept_invalid() {
    assert_eq!(req_pos(b"GET /\r\n\r\n"), 5);
    assert_eq!(req_pos(b"GET /\n\n"), 5);
    assert_eq!(req_pos(b"GET / \r\n\r\n"), 6);
    let b = b"GET /\r\n\r\n";
    let h = req_inv(b).unwrap();
    assert_eq!(h.uri.get(b), b"/");
    assert_eq!(h.version.len, 0);
    assert!(!h.flags.contains(MsgFlags::VER_11));
    // Two spaces and no URI: the version is taken for the URI (as 2.6 does).
    let b = b"GET  HTTP/1.1\r\n\r\n";
    assert_eq!(req_pos(b), 13);
    assert_eq!(req_inv(b).unwrap().uri.get(b), b"HTTP/1.1");
}

#[test]
fn request_version_strict_and_relaxed() {
    for b in [
        &b"GET / HTTP/1.10\r\n\r\n"[..],
        b"GET / HTTP/10.1\r\n\r\n",
        b"GET / HTTP/1.\r\n\r\n",
        b"GET / XTTP/1.1\r\n\r\n",
        b"GET / HTTPX1.1\r\n\r\n",
        b"GET / H\r\n\r\n",
        b"GET / HTTP/1.1.\r\n\r\n",
    ] {
        assert_eq!(req_pos(b), 6, "{b:?}");
        assert!(req_inv(b).is_ok(), "{b:?}");
    }
    for (b, pos) in [
        (&b"GET / http/1.1\r\n\r\n"[..], 6),
        (b"GET / hTTP/1.1\r\n\r\n", 6),
        (b"GET / HTTP/a.1\r\n\r\n", 11),
        (b"GET / HTTP/1-1\r\n\r\n", 12),
        (b"GET / HTTP/1,1\r\n\r\n", 12),
        (b"GET / HTTP/1.1 \r\n\r\n", 14),
        (b"GET / HTTP/1.1\t\r\n\r\n", 14),
        (b"GET / HTTP/1.1x\r\n\r\n", 14),
    ] {
        assert_eq!(req_pos(b), pos, "{b:?}");
        assert_eq!(req_inv(b).unwrap_err().pos, pos, "{b:?}");
    }
}

#[test]
fn version_flags() {
    let v11 = |b: &[u8]| req_inv(b).unwrap().flags.contains(MsgFlags::VER_11);
    assert!(v11(b"GET / HTTP/1.1\r\n\r\n"));
    assert!(v11(b"GET / HTTP/2.0\r\n\r\n"));
    assert!(v11(b"GET / HTTP/1.2\r\n\r\n"));
    assert!(v11(b"GET / XTTP/1.1\r\n\r\n"));
    assert!(!v11(b"GET / HTTP/1.0\r\n\r\n"));
    assert!(!v11(b"GET / HTTP/0.9\r\n\r\n"));
    assert!(!v11(b"GET / HTTP/1.1/\r\n\r\n"));
    assert!(req(b"GET / HTTP/3.0\r\n\r\n").is_ok());
}

#[test]
fn response_version() {
    assert!(res(b"XTTP/1.1 200 OK\r\n\r\n").is_ok());
    assert!(res(b"ABCD/1.1 200 OK\r\n\r\n").is_ok());
    assert!(res(b"HTTP/0.9 200 OK\r\n\r\n").is_ok());
    assert!(
        res(b"HTTP/2.0 200 OK\r\n\r\n")
            .unwrap()
            .flags
            .contains(MsgFlags::VER_11)
    );
    assert_eq!(res(b"ABCDE1.1 200 OK\r\n\r\n").unwrap_err().pos, 0);
    assert_eq!(res(b"HTTP/1.10 200 OK\r\n\r\n").unwrap_err().pos, 0);
    let inv = ParseOpts {
        accept_invalid: true,
        ..STRICT
    };
    assert!(parse(b"HTTP/1.10 200 OK\r\n\r\n", Kind::Response, &inv).is_ok());
    assert_eq!(res(b"http/1.1 200 OK\r\n\r\n").unwrap_err().pos, 0);
    assert_eq!(res(b"HTTP/1.1x 200 OK\r\n\r\n").unwrap_err().pos, 8);
    assert_eq!(res(b"HTTP/1.1200 OK\r\n\r\n").unwrap_err().pos, 12);
    assert!(res(b"\r\nHTTP/1.1 200 OK\r\n\r\n").is_ok());
}

#[test]
fn status_is_any_number_of_digits() {
    assert_eq!(res(b"HTTP/1.1 20 OK\r\n\r\n").unwrap().status, 20);
    assert_eq!(res(b"HTTP/1.1 2000 OK\r\n\r\n").unwrap().status, 2000);
    assert_eq!(
        res(b"HTTP/1.1 99999999999 OK\r\n\r\n").unwrap().status,
        u16::MAX
    );
    assert_eq!(res(b"HTTP/1.1  200 OK\r\n\r\n").unwrap().status, 200);
    assert_eq!(res(b"HTTP/1.1\t200\tOK\r\n\r\n").unwrap().status, 200);
    assert_eq!(res(b"HTTP/1.1 \r\n\r\n").unwrap_err().pos, 9);
    assert_eq!(res(b"HTTP/1.1\r\n\r\n").unwrap_err().pos, 8);
    assert_eq!(res(b"HTTP/1.1 2x0 OK\r\n\r\n").unwrap_err().pos, 10);
    let b = b"HTTP/1.1 200 O\x01\xe9\tK\r\n\r\n";
    assert_eq!(res(b).unwrap().reason.get(b), b"O\x01\xe9\tK");
}

#[test]
fn header_names_are_tchars_unless_accept_invalid() {
    let r = b"GET / HTTP/1.1\r\n";
    for (line, pos) in [
        (&b"Host : a"[..], 20),
        (b"Host\t: a", 20),
        (b"X Y: a", 17),
        (b"X-\xe9: a", 18),
        (b"X-(: a", 18),
        (b"X-\0: a", 18),
        (b"X-\x01: a", 18),
        (b"X\rY: a", 17),
    ] {
        let b = [r, line, b"\r\n\r\n"].concat();
        assert_eq!(req_pos(&b), pos, "{line:?}");
        let (_, hdrs) = parse(&b, Kind::Request, &INVALID).unwrap();
        assert_eq!(
            hdrs[0].name.get(&b),
            &line[..line.iter().position(|&c| c == b':').unwrap()]
        );
    }
}

#[test]
fn space_before_colon_is_not_the_header_in_accept_invalid() {
    let b = b"POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n";
    assert_eq!(req_pos(b), 34);
    let h = req_inv(b).unwrap();
    assert_eq!(h.framing, Framing::None);
    assert!(!h.flags.contains(MsgFlags::TE_CHUNKED));
}

#[test]
fn empty_name_and_missing_colon() {
    assert_eq!(req_pos(b"GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n"), 16);
    assert_eq!(
        req_inv(b"GET / HTTP/1.1\r\n: a\r\n\r\n").unwrap_err().pos,
        16
    );
    assert_eq!(req_pos(b"GET / HTTP/1.1\r\nFoo\r\nHost: a\r\n\r\n"), 19);
    assert_eq!(
        req_inv(b"GET / HTTP/1.1\r\nFoo\r\nHost: a\r\n\r\n")
            .unwrap_err()
            .pos,
        20
    );
    assert_eq!(req_pos(b"GET / HTTP/1.1\r\nFoo\n\n"), 19);
}

#[test]
fn header_values_keep_nul_ctl_del_8bit() {
    for v in [&b"a\0b"[..], b"a\x01b", b"a\x7fb", b"a\xe9b", b"a\tb"] {
        let b = [b"GET / HTTP/1.1\r\nX-A: ", v, b"\r\n\r\n"].concat();
        let (_, hdrs) = parse(&b, Kind::Request, &STRICT).unwrap();
        assert_eq!(hdrs[0].value.get(&b), v);
    }
}

#[test]
fn values_are_trimmed_of_ows() {
    let b = b"GET / HTTP/1.1\r\nX-A: \t a b \t \r\nX-B:\r\nX-C:   \r\n\r\n";
    let (_, hdrs) = parse(b, Kind::Request, &STRICT).unwrap();
    assert_eq!(hdrs[0].value.get(b), b"a b");
    assert_eq!(hdrs[1].value.get(b), b"");
    assert_eq!(hdrs[2].value.get(b), b"");
    assert_eq!(hdrs[2].line.get(b), b"X-C:   \r\n");
}

#[test]
fn obs_fold_is_joined_and_unfolded() {
    let b = b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\tc \r\nHost: h\r\n\r\n";
    let (h, hdrs) = parse(b, Kind::Request, &STRICT).unwrap();
    assert!(h.flags.contains(MsgFlags::OBS_FOLD));
    assert_eq!(hdrs.len(), 2);
    assert_eq!(hdrs[0].value.get(b), b"a\r\n b\r\n\tc");
    assert_eq!(hdrs[0].line.get(b), b"X-A: a\r\n b\r\n\tc \r\n");
    let mut m = b.to_vec();
    unfold(&mut m, &hdrs);
    assert_eq!(hdrs[0].value.get(&m), b"a   b  \tc");
    // A whitespace-only continuation adds nothing; the fold counts as one header.
    let b = b"GET / HTTP/1.1\r\nX: a\r\n \r\nHost: a\r\n\r\n";
    let (_, hdrs) = parse(b, Kind::Request, &STRICT).unwrap();
    assert_eq!((hdrs.len(), hdrs[0].value.get(b)), (2, &b"a"[..]));
}

#[test]
fn obs_fold_before_any_header() {
    let b = b"GET / HTTP/1.1\r\n X-A: a\r\nHost: a\r\n\r\n";
    assert_eq!(req_pos(b), 16);
    let (_, hdrs) = parse(b, Kind::Request, &INVALID).unwrap();
    assert_eq!(hdrs[0].name.get(b), b" X-A");
    assert_eq!(
        res(b"HTTP/1.1 200 OK\r\n X: a\r\n\r\n").unwrap_err().pos,
        17
    );
    assert_eq!(req_pos(b"GET / HTTP/1.1\r\n \r\nHost: a\r\n\r\n"), 16);
    assert_eq!(
        req_inv(b"GET / HTTP/1.1\r\n \r\nHost: a\r\n\r\n")
            .unwrap_err()
            .pos,
        18
    );
}

#[test]
fn maxhdr_allows_maxhdr_minus_one_headers() {
    let with = |n: usize| {
        let mut b = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..n {
            b.extend_from_slice(format!("X-{i}: a\r\n").as_bytes());
        }
        b.extend_from_slice(b"\r\n");
        b
    };
    assert_eq!(req(&with(100)).unwrap().nb_hdrs, 100);
    assert_eq!(req_pos(&with(101)), 918);
    assert_eq!(req_pos(&with(102)), 926);
    let small = ParseOpts {
        maxhdr: 3,
        ..STRICT
    };
    assert!(parse(&with(2), Kind::Request, &small).is_ok());
    assert!(parse(&with(3), Kind::Request, &small).is_err());
    // Never grows a Vec that has room for maxhdr entries.
    let mut hdrs = Vec::with_capacity(101);
    let ptr = hdrs.as_ptr();
    for n in [100, 101, 150] {
        let _ = parse_head(&with(n), Kind::Request, &STRICT, &mut hdrs);
        assert_eq!((hdrs.as_ptr(), hdrs.capacity()), (ptr, 101));
    }
}

#[test]
fn content_length_valid_forms() {
    let cl = |v: &str| req(format!("POST / HTTP/1.1\r\nContent-Length: {v}\r\n\r\n").as_bytes());
    assert_eq!(cl("5").unwrap().framing, Framing::Length(5));
    assert_eq!(cl("0005").unwrap().framing, Framing::Length(5));
    assert_eq!(cl("5 ").unwrap().framing, Framing::Length(5));
    assert_eq!(
        cl("9223372036854775807").unwrap().framing,
        Framing::Length(i64::MAX as u64)
    );
    let h = cl("5, 5").unwrap();
    assert_eq!(h.framing, Framing::Length(5));
    assert!(h.flags.contains(MsgFlags::HAS_CL | MsgFlags::CL_MULTI));
    assert!(cl("5\t,\t5").unwrap().flags.contains(MsgFlags::CL_MULTI));
    assert!(!cl("5").unwrap().flags.contains(MsgFlags::CL_MULTI));
}

#[test]
fn content_length_invalid_forms_point_at_the_value() {
    for v in [
        "",
        "+5",
        "-5",
        "0x5",
        "5 5",
        "5,",
        ",5",
        "5,,5",
        "5, 6",
        "99999999999999999999",
        "9223372036854775808",
        "18446744073709551616",
        "5x",
    ] {
        let b = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {v}\r\n\r\n");
        assert_eq!(req_pos(b.as_bytes()), 42, "{v:?}");
        assert_eq!(req_inv(b.as_bytes()).unwrap_err().pos, 42, "{v:?}");
    }
    assert_eq!(
        res(b"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok")
            .unwrap_err()
            .pos,
        33
    );
}

#[test]
fn content_length_duplicates() {
    let b = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 05\r\nContent-Length: 5\r\n\r\nhello";
    let (h, hdrs) = parse(b, Kind::Request, &STRICT).unwrap();
    assert_eq!(h.framing, Framing::Length(5));
    assert!(h.flags.contains(MsgFlags::CL_MULTI));
    assert_eq!(
        hdrs.iter()
            .filter(|x| x.name.get(b).eq_ignore_ascii_case(b"content-length"))
            .count(),
        2
    );
    assert_eq!(
        req_pos(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
        61
    );
    assert_eq!(
        res(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n")
            .unwrap_err()
            .pos,
        52
    );
    // A folded value is one value: "2 2" is not a number.
    assert_eq!(
        req_pos(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n 2\r\n\r\nok"),
        33
    );
    assert_eq!(
        req(b"POST / HTTP/1.1\r\nContent-Length:\r\n 2\r\n\r\nok")
            .unwrap()
            .framing,
        Framing::Length(2)
    );
}

#[test]
fn transfer_encoding_chunked_forms() {
    for v in [
        "chunked",
        "CHUNKED",
        "\tchunked",
        "chunked\t",
        "chunked,",
        "Chunked , ",
    ] {
        let b = format!("POST / HTTP/1.1\r\nTransfer-Encoding: {v}\r\n\r\n");
        let h = req(b.as_bytes()).unwrap();
        assert_eq!(h.framing, Framing::Chunked, "{v:?}");
        assert!(h.flags.contains(MsgFlags::TE_CHUNKED));
    }
    let h = req(b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n").unwrap();
    assert_eq!(h.framing, Framing::Chunked);
    assert!(h.flags.contains(MsgFlags::OBS_FOLD));
    let h = req(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    assert_eq!(h.framing, Framing::Chunked);
}

#[test]
fn transfer_encoding_wins_over_content_length() {
    for b in [
        &b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"POST / HTTP/1.0\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let h = req(b).unwrap();
        assert_eq!(h.framing, Framing::Chunked);
        assert!(
            h.flags
                .contains(MsgFlags::CL_DROP | MsgFlags::HAS_CL | MsgFlags::TE_CHUNKED)
        );
    }
    let h =
        res(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    assert_eq!(h.framing, Framing::Chunked);
    assert!(h.flags.contains(MsgFlags::CL_DROP));
}

#[test]
fn request_transfer_encoding_errors() {
    let te = |v: &str| {
        let b = format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {v}\r\n\r\n");
        let e = req(b.as_bytes()).unwrap_err();
        (e.status(Kind::Request), e.pos, b.len())
    };
    // A coding after chunked, or chunked twice: at the value.
    assert_eq!(te("chunked, identity").1, 45);
    assert_eq!(te("chunked, chunked").1, 45);
    // No chunked at all: 400 at the end of the head.
    for v in [
        "xchunked",
        "gzip",
        "identity",
        "",
        "\"chunked\"",
        "chunked;q=1",
        "chunked identity",
        "\x0bchunked",
    ] {
        let (st, pos, len) = te(v);
        assert_eq!((st, pos), (400, len), "{v:?}");
    }
    // Codings before chunked: 422 at the end of the head.
    for v in ["identity, chunked", "gzip, chunked", ",chunked"] {
        let (st, pos, len) = te(v);
        assert_eq!((st, pos), (422, len), "{v:?}");
    }
    let two = |a: &str, b: &str| {
        let m = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {a}\r\nTransfer-Encoding: {b}\r\n\r\n"
        );
        let e = req(m.as_bytes()).unwrap_err();
        (e.status(Kind::Request), e.pos)
    };
    assert_eq!(two("chunked", "chunked"), (400, 73));
    assert_eq!(two("chunked", "gzip"), (400, 73));
    assert_eq!(two("gzip", "chunked"), (422, 81));
    assert_eq!(
        req_pos(b"POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n"),
        44
    );
    assert_eq!(
        req_pos(b"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok"),
        67
    );
}

#[test]
fn response_transfer_encoding() {
    for (v, pos) in [
        ("gzip, chunked", 53),
        ("gzip", 44),
        ("chunked, gzip", 53),
        ("xchunked", 48),
        (",chunked", 48),
    ] {
        let b = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {v}\r\n\r\n");
        let e = res(b.as_bytes()).unwrap_err();
        assert_eq!((e.status(Kind::Response), e.pos), (502, pos), "{v:?}");
    }
    let e =
        res(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap_err();
    assert_eq!(e.pos, 64);
    let h = res(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\nContent-Length: 2\r\n\r\nok").unwrap();
    assert_eq!(h.framing, Framing::UntilClose);
    assert!(h.flags.contains(MsgFlags::CL_DROP));
    assert_eq!(
        res(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .framing,
        Framing::Chunked
    );
}

#[test]
fn response_framing_by_status_and_method() {
    let f = |b: &[u8], m| res_with(b, m).unwrap();
    let cl = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    assert_eq!(f(cl, Method::Get).framing, Framing::Length(2));
    assert_eq!(f(cl, Method::Head).framing, Framing::None);
    assert!(!f(cl, Method::Head).flags.contains(MsgFlags::CL_DROP));
    assert_eq!(f(cl, Method::Connect).framing, Framing::Tunnel);
    assert_eq!(
        f(
            b"HTTP/1.1 407 No\r\nContent-Length: 2\r\n\r\n",
            Method::Connect
        )
        .framing,
        Framing::Length(2)
    );
    assert_eq!(
        f(b"HTTP/1.1 200 OK\r\n\r\n", Method::Get).framing,
        Framing::UntilClose
    );
    assert_eq!(
        f(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            Method::Head
        )
        .framing,
        Framing::None
    );
    for st in ["100", "103", "204", "20", "099"] {
        let h = f(
            format!("HTTP/1.1 {st} X\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n")
                .as_bytes(),
            Method::Get,
        );
        assert_eq!(h.framing, Framing::None, "{st}");
        assert!(
            h.flags.contains(MsgFlags::CL_DROP | MsgFlags::TE_DROP),
            "{st}"
        );
    }
    let h = f(b"HTTP/1.1 304 NM\r\nContent-Length: 2\r\n\r\n", Method::Get);
    assert_eq!(h.framing, Framing::None);
    assert!(!h.flags.contains(MsgFlags::CL_DROP));
    assert_eq!(
        f(
            b"HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n",
            Method::Get
        )
        .framing,
        Framing::Tunnel
    );
}

#[test]
fn request_framing() {
    assert_eq!(
        req(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap()
            .framing,
        Framing::Length(5)
    );
    assert_eq!(
        req(b"POST / HTTP/1.1\r\n\r\n").unwrap().framing,
        Framing::None
    );
    let h = req(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 2\r\n\r\nok").unwrap();
    assert_eq!(h.framing, Framing::None);
    assert!(h.flags.contains(MsgFlags::CL_DROP));
}

#[test]
fn connection_tokens() {
    let flags = |c: &str| {
        req(format!("GET / HTTP/1.1\r\nConnection: {c}\r\n\r\n").as_bytes())
            .unwrap()
            .flags
    };
    assert!(flags("close").contains(MsgFlags::CONN_CLOSE));
    assert!(flags("Keep-Alive").contains(MsgFlags::CONN_KEEP_ALIVE));
    let f = flags("keep-alive, Foo , CLOSE");
    assert!(f.contains(MsgFlags::CONN_CLOSE | MsgFlags::CONN_KEEP_ALIVE));
    assert!(!flags("closed, xclose").intersects(MsgFlags::CONN_CLOSE | MsgFlags::CONN_KEEP_ALIVE));
    // upgrade needs an Upgrade header too.
    assert!(!flags("upgrade").contains(MsgFlags::CONN_UPGRADE));
    let h = req(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n").unwrap();
    assert!(h.flags.contains(MsgFlags::CONN_UPGRADE));
    let h = req(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").unwrap();
    assert!(!h.flags.contains(MsgFlags::CONN_UPGRADE));
}

#[test]
fn websocket_upgrade_needs_its_key() {
    let base = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n";
    let b = format!("{base}\r\n");
    assert_eq!(req_pos(b.as_bytes()), 68);
    assert!(
        req(format!("{base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").as_bytes())
            .is_ok()
    );
    let b = format!("{base}Sec-WebSocket-Key:\r\n\r\n");
    assert_eq!(req_pos(b.as_bytes()), b.len());
    assert!(req(b"GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n").is_err());
    let b = b"GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: foo, WebSocket\r\n\r\n";
    assert_eq!(req_pos(b), 76);
    assert!(req(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket/13\r\n\r\n").is_ok());
    let r = "HTTP/1.1 101 Switching\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n";
    assert_eq!(res(format!("{r}\r\n").as_bytes()).unwrap_err().pos, 67);
    assert!(
        res(format!("{r}Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").as_bytes())
            .is_ok()
    );
    assert!(res(b"HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n").is_ok());
}

#[test]
fn expect_100_continue() {
    let h = req(b"POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok").unwrap();
    assert!(h.flags.contains(MsgFlags::EXPECT_100));
    assert!(
        !req(b"POST / HTTP/1.1\r\nExpect: 100-continued\r\n\r\n")
            .unwrap()
            .flags
            .contains(MsgFlags::EXPECT_100)
    );
    assert!(
        !res(b"HTTP/1.1 200 OK\r\nExpect: 100-continue\r\n\r\n")
            .unwrap()
            .flags
            .contains(MsgFlags::EXPECT_100)
    );
}

#[test]
fn duplicate_host_must_match() {
    assert!(req(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n").is_ok());
    assert!(req(b"GET / HTTP/1.1\r\nHost: a\r\nHost: A\r\n\r\n").is_ok());
    assert!(req(b"GET / HTTP/1.1\r\nHost: a\r\nHost:  a \r\n\r\n").is_ok());
    assert_eq!(req_pos(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 31);
    assert_eq!(
        req_pos(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a:80\r\n\r\n"),
        31
    );
    assert_eq!(
        req_inv(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
            .unwrap_err()
            .pos,
        31
    );
    assert_eq!(
        req_pos(b"GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: a:80\r\n\r\n"),
        39
    );
    assert!(
        req(b"GET / HTTP/1.1\r\nHost:\r\n\r\n")
            .unwrap()
            .flags
            .contains(MsgFlags::HAS_HOST)
    );
}

#[test]
fn absolute_uri_authority_must_match_host() {
    for (uri, host, ok) in [
        ("http://a/x", "a", true),
        ("http://A/", "a", true),
        ("http://a:80/", "a", true),
        ("http://a/", "a:80", true),
        ("http://a:80/", "a:80", true),
        ("HTTP://a:80/", "a", true),
        ("http://a:/", "a", true),
        ("https://a:443/", "a", true),
        ("https://a/", "a:443", true),
        ("http://u@a/", "a", true),
        ("http://u:p@a:80/", "a", true),
        ("http://a", "a", true),
        ("http://a?x", "a?x", true),
        ("http:///", "a", true),
        ("ftp://a/", "a", true),
        ("x+y://a/", "a", true),
        ("//a/", "b", true),
        ("http://b/", "a", false),
        ("http://a:81/", "a:80", false),
        ("http://a/", "a:443", false),
        ("https://a/", "a:80", false),
        ("https://a:80/", "a", false),
        ("http://a:443/", "a", false),
        ("ftp://a:80/", "a", false),
        ("http://a:8080/", "a", false),
        ("http://a:0080/", "a", false),
        ("http://a?x", "a", false),
        ("a/b", "a", true),
        ("a", "b", false),
        ("a:80/x", "a", false),
        ("a/", "a:80", false),
        ("a:8080/x", "a:8080", true),
    ] {
        let b = format!("GET {uri} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let r = req(b.as_bytes());
        assert_eq!(r.is_ok(), ok, "{uri} {host}");
        if let Err(e) = r {
            assert_eq!(e.pos, 4 + uri.len() + 17, "{uri} {host}");
        }
        assert!(req_inv(b.as_bytes()).is_ok());
    }
    assert!(
        req(b"GET http://a/ HTTP/1.1\r\n\r\n")
            .unwrap()
            .flags
            .contains(MsgFlags::ABS_URI)
    );
    assert!(
        !req(b"GET a/b HTTP/1.1\r\n\r\n")
            .unwrap()
            .flags
            .contains(MsgFlags::ABS_URI)
    );
    assert!(
        !req(b"GET * HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap()
            .flags
            .contains(MsgFlags::ABS_URI)
    );
}

#[test]
fn connect_target_and_host() {
    for (uri, ok) in [
        ("a:443", true),
        (":443", true),
        ("[::1]:443", true),
        ("a:1:2", true),
        ("a:443/x", true),
        ("a", false),
        ("a:", false),
        ("a:x", false),
        ("a:443?x", false),
        ("*", false),
        ("/x", false),
        ("http://a/", false),
        ("[::1]", false),
    ] {
        let b = format!("CONNECT {uri} HTTP/1.1\r\n\r\n");
        assert_eq!(
            req(b.as_bytes()).map_err(|e| e.pos),
            if ok {
                Ok(req(b.as_bytes()).unwrap())
            } else {
                Err(8)
            },
            "{uri}"
        );
        assert!(req_inv(b.as_bytes()).is_ok());
    }
    for (uri, host, ok) in [
        ("a:443", "a", true),
        ("a:80", "a", true),
        ("a:443", "a:443", true),
        ("a:80", "a:80", true),
        ("a:443", "A", true),
        ("u@a:443", "a", true),
        ("a:8443", "a:8443", true),
        ("a:443", "a:80", false),
        ("a:80", "a:443", false),
        ("a:8443", "a", false),
        ("a:8443", "a:443", false),
        ("a:443", "b:443", false),
    ] {
        let b = format!("CONNECT {uri} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let r = req(b.as_bytes()).map_err(|e| e.pos);
        assert_eq!(r.is_ok(), ok, "{uri} {host}");
        if !ok {
            assert_eq!(r.unwrap_err(), 8 + uri.len() + 17);
        }
    }
}

#[test]
fn lowercase_names_in_place() {
    let b = b"GET / HTTP/1.1\r\nX-Foo-BAR: VaLue\r\nHOST: A\r\n\r\n";
    let (_, hdrs) = parse(b, Kind::Request, &STRICT).unwrap();
    let mut m = b.to_vec();
    lowercase_names(&mut m, &hdrs);
    assert_eq!(
        &m[..],
        b"GET / HTTP/1.1\r\nx-foo-bar: VaLue\r\nhost: A\r\n\r\n"
    );
    // Spans outside the buffer are ignored.
    lowercase_names(&mut m[..10], &hdrs);
    unfold(&mut m[..10], &hdrs);
}

#[test]
fn error_status_mapping() {
    let e = ParseError {
        pos: 0,
        why: WHY_TE_CODINGS,
    };
    assert_eq!(
        (e.status(Kind::Request), e.status(Kind::Response)),
        (422, 502)
    );
    let e = ParseError { pos: 0, why: "x" };
    assert_eq!(
        (e.status(Kind::Request), e.status(Kind::Response)),
        (400, 502)
    );
}

#[test]
fn incomplete_head_is_reported_as_such() {
    for b in [
        &b""[..],
        b"GET / HTTP/1.1",
        b"GET / HTTP/1.1\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n",
        b"\r\n\r",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r",
    ] {
        let e = req(b).unwrap_err();
        assert_eq!((e.why, e.pos), (WHY_INCOMPLETE, b.len()), "{b:?}");
    }
}

#[test]
fn corpus_is_large_and_names_are_unique() {
    assert!(SMUGGLING_CASES.len() >= 40);
    let mut names: Vec<_> = SMUGGLING_CASES.iter().map(|c| c.0).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SMUGGLING_CASES.len());
    for (name, _) in HAPROXY_ERROR_POS {
        let case = SMUGGLING_CASES.iter().find(|c| c.0 == *name).unwrap();
        assert_ne!(case.2, Expect::Forward, "{name}");
    }
}

#[test]
fn corpus_outcomes_match_haproxy() {
    for (name, b, expect) in SMUGGLING_CASES {
        let got = match run(b, Kind::Request, &STRICT) {
            Ok(end) => {
                assert_eq!(end, b.len(), "{name}: whole message consumed");
                Expect::Forward
            }
            Err((400, _)) => Expect::Reject400,
            Err((422, _)) => Expect::Reject422,
            Err(e) => panic!("{name}: {e:?}"),
        };
        assert_eq!(got, *expect, "{name}");
    }
}

#[test]
fn corpus_error_positions_match_haproxy() {
    // 2.6 reports trailer errors at the start of the chunked data it was
    // parsing; we report the offending byte.
    let differ = ["trailer_bad_name", "trailer_no_colon"];
    for (name, pos) in HAPROXY_ERROR_POS {
        let b = SMUGGLING_CASES.iter().find(|c| c.0 == *name).unwrap().1;
        let got = run(b, Kind::Request, &STRICT).unwrap_err().1;
        if differ.contains(name) {
            assert_ne!(got, *pos, "{name} now matches: update the list");
        } else {
            assert_eq!(got, *pos, "{name}");
        }
    }
}

#[test]
fn spans_of_corpus_heads_lie_inside_the_head() {
    for (name, b, _) in SMUGGLING_CASES {
        let mut hdrs = Vec::new();
        if let Ok(h) = parse_head(b, Kind::Request, &INVALID, &mut hdrs) {
            for s in [h.meth, h.uri, h.version, h.start_line, h.reason] {
                assert!(s.end() <= h.len, "{name}");
            }
            for x in &hdrs {
                assert!(
                    x.name.end() <= x.value.off as usize || x.value.len == 0,
                    "{name}"
                );
                assert!(
                    x.line.off <= x.name.off
                        && x.value.end() <= x.line.end()
                        && x.line.end() <= h.len,
                    "{name}"
                );
            }
        }
    }
}
