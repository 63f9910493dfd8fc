//! Unit tests of `framing` (what headers mean, body framing, Host and
//! authority checks) and of the smuggling corpus, through `parse_head`.
//! Positions are the ones HAProxy 2.6 reported for the same bytes.
// A panic is how a test fails.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use crate::http::corpus::{Expect, HAPROXY_ERROR_POS, SMUGGLING_CASES};
use crate::http::parse::tests::{
    INVALID, STRICT, parse, req, req_inv, req_pos, res, res_with, run,
};
use crate::http::parse::*;

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
fn content_length_is_checked_even_with_transfer_encoding() {
    let te = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n";
    assert_eq!(
        req_pos(format!("{te}Content-Length: abc\r\n\r\n").as_bytes()),
        61
    );
    assert_eq!(
        req_pos(b"POST / HTTP/1.1\r\nContent-Length: abc\r\nTransfer-Encoding: chunked\r\n\r\n"),
        33
    );
    let b = format!("{te}Content-Length: 1\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(req_pos(b.as_bytes()), 80);
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
