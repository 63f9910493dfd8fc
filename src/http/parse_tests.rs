//! Unit tests of `parse` (and of `framing` through it). Positions in the
//! assertions are the ones HAProxy 2.6 reported in `show errors` for the same
//! bytes, unless a comment says otherwise.
// A panic is how a test fails.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::*;

pub(crate) const STRICT: ParseOpts = ParseOpts {
    maxhdr: 101,
    accept_invalid: false,
    req_method: Method::Get,
};
pub(crate) const INVALID: ParseOpts = ParseOpts {
    maxhdr: 101,
    accept_invalid: true,
    req_method: Method::Get,
};

pub(crate) fn parse(
    b: &[u8],
    kind: Kind,
    opts: &ParseOpts,
) -> Result<(Head, Vec<Hdr>), ParseError> {
    let mut hdrs = Vec::with_capacity(opts.maxhdr);
    let head = parse_head(b, kind, opts, &mut hdrs)?;
    assert_eq!(head.nb_hdrs, hdrs.len());
    Ok((head, hdrs))
}

pub(crate) fn req(b: &[u8]) -> Result<Head, ParseError> {
    parse(b, Kind::Request, &STRICT).map(|r| r.0)
}

pub(crate) fn req_inv(b: &[u8]) -> Result<Head, ParseError> {
    parse(b, Kind::Request, &INVALID).map(|r| r.0)
}

pub(crate) fn req_pos(b: &[u8]) -> usize {
    match req(b) {
        Err(e) => e.pos,
        Ok(h) => panic!("accepted {:?}: {h:?}", String::from_utf8_lossy(b)),
    }
}

pub(crate) fn res_with(b: &[u8], req_method: Method) -> Result<Head, ParseError> {
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

pub(crate) fn res(b: &[u8]) -> Result<Head, ParseError> {
    res_with(b, Method::Get)
}

/// Runs a whole message: head, then its body as framed. Ok: the message end;
/// Err: (status, position from the first byte).
pub(crate) fn run(b: &[u8], kind: Kind, opts: &ParseOpts) -> Result<usize, (u16, usize)> {
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
    assert_eq!(
        res(b"HTTP/1.1 200 O\rK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap_err()
            .pos,
        15
    );
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
fn parse_opts_default_is_haproxy_default() {
    assert_eq!(ParseOpts::default(), STRICT);
}

#[test]
fn head_end_with_a_stale_scanned_does_not_panic() {
    let b = b"GET / HTTP/1.1\r\n\r\n";
    let mut sc = 1000;
    assert_eq!(head_end(b, &mut sc), None);
    assert_eq!(head_end(b"", &mut 0), None);
    let mut sc = 3;
    assert_eq!(head_end(b, &mut sc), Some(b.len()));
}

#[test]
fn bytes_after_the_head_are_not_parsed() {
    let b = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\0\r\x7f:";
    let h = req(b).unwrap();
    assert_eq!((h.len, h.framing), (b.len() - 4, Framing::Length(4)));
    let b = b"HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
    assert_eq!(res(b).unwrap().len, 19);
}

#[test]
fn leading_empty_lines_before_a_status_line() {
    let b = b"\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    let h = res(b).unwrap();
    assert_eq!((h.start_line.off, h.len, h.status), (3, b.len(), 204));
    assert_eq!(h.start_line.get(b), b"HTTP/1.1 204 No Content");
}

#[test]
fn method_from_bytes() {
    assert_eq!(Method::from_bytes(b"DELETE"), Method::Delete);
    assert_eq!(Method::from_bytes(b"CONNECTX"), Method::Other);
    assert_eq!(Method::from_bytes(b""), Method::Other);
}

/// 2.6's too-large threshold for complete heads (measured on 2.6.12 with
/// the default buffer: the largest request that passes, by header count).
#[test]
fn fits_htx_matches_2_6_thresholds() {
    let build = |extra: usize, total: usize| {
        let mut h = b"POST /a/b/c?d=e HTTP/1.1\r\nHost: example\r\n".to_vec();
        for i in 0..extra {
            h.extend_from_slice(format!("X-H{i:02}: v\r\n").as_bytes());
        }
        h.extend_from_slice(b"X-Pad: ");
        let pad = total - h.len() - 4;
        h.extend(std::iter::repeat_n(b'p', pad));
        h.extend_from_slice(b"\r\n\r\n");
        h
    };
    for (extra, largest) in [(0, 15273), (10, 15233), (50, 15073), (90, 14913)] {
        for (total, fits) in [(largest, true), (largest + 1, false)] {
            let b = build(extra, total);
            let mut hdrs = Vec::new();
            let head = parse_head(&b, Kind::Request, &STRICT, &mut hdrs).expect("parses");
            assert_eq!(
                fits_htx(&b, &head, &hdrs, 16384, 1024),
                fits,
                "{extra} headers, {total} bytes"
            );
        }
    }
}
