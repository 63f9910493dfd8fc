//! URL fetches (configuration.txt 7.3.6): `path`, `pathq`, `query`,
//! `url_ip`, `url_port`, `url_param` and `urlp_val`, `req.body_param`,
//! `base`, `baseq`, `base32`.
//!
//! ```text
//!   GET http://1.2.3.4:8080/p/q?a=1&b=2;c=3 HTTP/1.1     Host: 1.2.3.4:8080
//!       path /p/q   pathq /p/q?a=1&b=2;c=3   query a=1&b=2;c=3
//!       url_ip 1.2.3.4   url_port 8080   base 1.2.3.4:8080/p/q
//!   url_param(name[,delim]): the list starts after the first <delim>
//!       ('?' by default); parameters end at '&', ';' or <delim>; a
//!       parameter without '=' is none; the value is not decoded.
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::rules::env::{Env, HttpView};
use crate::rules::expr::{Arg, ArgKind as K, EvalCx, FetchDef, Use};
use crate::rules::fetch::def;
use crate::rules::fetch_hdr::{Mode, parse_ipv4_prefix, strl2ic, values};
use crate::rules::fetch_http::{path, pathq, req};
use crate::rules::sample::{Sample, Smp, SmpFlags, SmpType as T};

const RQ: Use = Use::REQ.union(Use::HTTP);

#[rustfmt::skip]
pub const URL: &[FetchDef] = &[
    def("path", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(path(req(e, cx)?.uri())?)), RQ),
    def("pathq", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(pathq(req(e, cx)?.uri())?)), RQ),
    def("query", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(query(req(e, cx)?.uri())?)), RQ),
    def("url_ip", &[], 0, T::Ipv4, fetch_url_ip, RQ),
    def("url_port", &[], 0, T::Sint, fetch_url_port, RQ),
    def("url_param", &[K::Str, K::Str], 0, T::Str, |a, e, cx| urlp(a, e, cx, false), RQ),
    def("urlp", &[K::Str, K::Str], 0, T::Str, |a, e, cx| urlp(a, e, cx, false), RQ),
    def("urlp_val", &[K::Str, K::Str], 0, T::Sint, |a, e, cx| urlp(a, e, cx, true), RQ),
    def("req.body_param", &[K::Str], 0, T::Str, fetch_body_param, RQ),
    def("base", &[], 0, T::Str, |_, e, cx| base(e, cx, false), RQ),
    def("baseq", &[], 0, T::Str, |_, e, cx| base(e, cx, true), RQ),
    def("base32", &[], 0, T::Sint, fetch_base32, RQ),
];

/// The query string: after the first `?` (None without one).
pub fn query(uri: &[u8]) -> Option<&[u8]> {
    uri.get(memchr::memchr(b'?', uri)? + 1..)
}

/// The values of the parameters named `name` (any when None) in the list
/// `list`, where parameters end at `&`, `;` or `delim`.
pub fn params<'a, 'n>(
    list: &'a [u8],
    name: Option<&'n [u8]>,
    delim: u8,
) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
    list.split(move |c| matches!(*c, b'&' | b';') || *c == delim)
        .filter_map(move |p| match name {
            Some(n) => p.strip_prefix(n)?.strip_prefix(b"="),
            None => p.get(memchr::memchr(b'=', p)? + 1..),
        })
}

fn str_arg(a: &[Arg], i: usize) -> Option<&[u8]> {
    a.get(i)
        .map(|n| n.str().as_bytes())
        .filter(|n| !n.is_empty())
}

/// One parameter value: the first, or each in turn for an ACL.
fn one_param<'a>(
    list: &'a [u8],
    name: Option<&[u8]>,
    delim: u8,
    cx: &EvalCx<'_>,
) -> Option<(&'a [u8], bool)> {
    let mut it = params(list, name, delim).skip(if cx.acl { cx.occ as usize } else { 0 });
    let v = it.next()?;
    Some((v, cx.acl && it.next().is_some()))
}

/// `url_param([name[,delim]])`, `urlp_val` (as an integer, `strl2ic`).
fn urlp<'a>(a: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>, int: bool) -> Option<Sample<'a>> {
    let uri = req(e, cx)?.uri();
    let delim = str_arg(a, 1)
        .and_then(|d| d.first().copied())
        .unwrap_or(b'?');
    let list = uri.get(memchr::memchr(delim, uri)? + 1..)?;
    let (v, more) = one_param(list, str_arg(a, 0), delim, cx)?;
    let mut s = if int {
        Sample::sint(i64::from(strl2ic(v)))
    } else {
        Sample::str_ref(v)
    };
    if more {
        s.flags |= SmpFlags::NOT_LAST;
    }
    Some(s)
}

/// `req.body_param([name])`: a parameter of a url-encoded body; "may
/// change" until the body is complete.
fn fetch_body_param<'a>(a: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (body, fin) = e.req_body()?;
    let found = one_param(body, str_arg(a, 0), b'&', cx);
    let Some((v, more)) = found else {
        if !fin {
            cx.may_change = true;
        }
        return None;
    };
    let mut s = Sample::str_ref(v);
    if more {
        s.flags |= SmpFlags::NOT_LAST;
    }
    if !fin {
        s.flags |= SmpFlags::MAY_CHANGE;
    }
    Some(s)
}

/// The IPv4 address and port of an absolute `http://a.b.c.d[:port]/` URI
/// (host names are not resolved: no sample, as 2.6).
fn url_addr(uri: &[u8]) -> Option<(std::net::Ipv4Addr, Option<&[u8]>)> {
    let scheme = uri.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"http://") {
        return None;
    }
    let (ip, rest) = parse_ipv4_prefix(uri.get(7..)?)?;
    match rest {
        [] | [b'/', ..] => Some((ip, None)),
        [b':', p @ ..] => {
            let end = p.iter().position(|c| *c == b'/').unwrap_or(p.len());
            Some((ip, Some(p.get(..end)?)))
        }
        _ => None,
    }
}

fn fetch_url_ip<'a>(_: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (ip, _) = url_addr(req(e, cx)?.uri())?;
    Some(Sample::new(Smp::Ipv4(ip)))
}

/// `url_port`: the port of an `http://a.b.c.d` URI, 80 when absent.
fn fetch_url_port<'a>(_: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (_, port) = url_addr(req(e, cx)?.uri())?;
    let n = match port {
        None => 80,
        Some(p) if !p.is_empty() && p.iter().all(u8::is_ascii_digit) && p.len() <= 5 => {
            p.iter().fold(0i64, |n, c| n * 10 + i64::from(c - b'0'))
        }
        Some(_) => return None,
    };
    (n <= 65535).then(|| Sample::sint(n))
}

/// The first value of the first Host header.
fn host(v: HttpView<'_>) -> Option<&[u8]> {
    values(v, Some(b"host"), Mode::Split).next()
}

/// `base`, `baseq`: Host then path (and query); just the path without a
/// Host header, just the host without a path.
fn base<'a>(e: &'a dyn Env, cx: &mut EvalCx<'_>, with_query: bool) -> Option<Sample<'a>> {
    let v = req(e, cx)?;
    let p = if with_query {
        pathq(v.uri())
    } else {
        path(v.uri())
    };
    let Some(h) = host(v) else {
        return Some(Sample::str_ref(p?));
    };
    let mut out = cx.pool.get();
    out.extend_from_slice(h);
    out.extend_from_slice(p.unwrap_or(b""));
    Some(Sample::str_own(out))
}

/// `base32`: SDBM over Host and path, then HAProxy's full avalanche
/// (`base,sdbm(1)`). Bytes are taken as C's signed `char` on x86.
fn fetch_base32<'a>(_: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let v = req(e, cx)?;
    let h = host(v).unwrap_or(b"");
    let p = path(v.uri()).unwrap_or(b"");
    let hash = h.iter().chain(p).fold(0u32, |hash, &c| {
        (c as i8 as u32)
            .wrapping_add(hash << 6)
            .wrapping_add(hash << 16)
            .wrapping_sub(hash)
    });
    Some(Sample::sint(i64::from(full_hash(hash))))
}

/// Bob Jenkins' 32-bit integer avalanche, then HAProxy's multiplication
/// by a prime near 3/4 of the space.
pub fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

#[cfg(test)]
mod tests {
    use crate::rules::fetch_mock::{Mock, acl, eval, eval_mc};

    fn get(uri: &str, host: Option<&str>) -> Mock {
        let h = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
        Mock::req(&format!("GET {uri} HTTP/1.1\r\n{h}\r\n"))
    }

    #[test]
    fn path_pathq_query() {
        let e = get("http://1.2.3.4:8080/p/q?z", Some("1.2.3.4:8080"));
        assert_eq!(eval(&e, "path").as_deref(), Some("/p/q"));
        assert_eq!(eval(&e, "pathq").as_deref(), Some("/p/q?z"));
        assert_eq!(eval(&e, "query").as_deref(), Some("z"));
        let e = get("/x?", Some("h"));
        assert_eq!(eval(&e, "query").as_deref(), Some(""));
        assert_eq!(eval(&e, "path").as_deref(), Some("/x"));
        let e = get("/x", Some("h"));
        assert_eq!(eval(&e, "query"), None);
        let e = get("http://h.com", Some("h.com"));
        assert_eq!(eval(&e, "path"), None);
        assert_eq!(eval(&e, "pathq"), None);
        assert!(acl(&e, "url_beg http://h"));
        let e = Mock::req("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(eval(&e, "path"), None);
        assert_eq!(eval(&e, "url").as_deref(), Some("*"));
        assert_eq!(eval(&e, "base").as_deref(), Some("h"));
    }

    #[test]
    fn url_ip_and_port() {
        let e = get("http://1.2.3.4:8080/p/q?z", Some("1.2.3.4:8080"));
        assert_eq!(eval(&e, "url_ip").as_deref(), Some("1.2.3.4"));
        assert_eq!(eval(&e, "url_port").as_deref(), Some("8080"));
        let e = get("http://1.2.3.4/p", Some("1.2.3.4"));
        assert_eq!(eval(&e, "url_port").as_deref(), Some("80"));
        for (uri, h) in [
            ("/x", "h"),
            ("http://example.com:81/p", "example.com:81"),
            ("http://[::1]:81/p", "[::1]:81"),
        ] {
            let e = get(uri, Some(h));
            assert_eq!(eval(&e, "url_ip"), None, "{uri}");
            assert_eq!(eval(&e, "url_port"), None, "{uri}");
        }
    }

    /// (expression, URI, what 2.6.12 answered).
    const URLP: &[(&str, &str, Option<&str>)] = &[
        ("urlp(a)", "/x?a=1&b=2&a=3", Some("1")),
        ("urlp(a,;)", "/x?a=1&b=2&a=3", None),
        ("urlp()", "/x?a=1&b=2&a=3", Some("1")),
        ("url_param(b)", "/x?a=1&b=2&a=3", Some("2")),
        ("urlp(a)", "/x;a=5?a=1;b=2", Some("1")),
        ("urlp(a,;)", "/x;a=5?a=1;b=2", Some("5?a=1")),
        ("urlp(,;)", "/x;a=5?a=1;b=2", Some("5?a=1")),
        ("urlp(a)", "/x?b&a&a=7", Some("7")),
        ("urlp()", "/x?b&a&a=7", Some("7")),
        ("urlp(b)", "/x?b&a&a=7", None),
        ("urlp(a)", "/x?=3&a=", Some("")),
        ("urlp()", "/x?=3&a=", Some("3")),
        ("urlp_val(a)", "/x?=3&a=", Some("0")),
        ("url_param(a,|)", "/x|a=9?a=1", Some("9?a=1")),
        ("urlp(a)", "/x?aa=1&a=2x", Some("2x")),
        ("urlp_val(a)", "/x?aa=1&a=2x", Some("2")),
        ("urlp(a)", "/x", None),
        ("urlp()", "/x?", None),
        ("urlp(a)", "http://h/x?a=4", Some("4")),
        ("urlp()", "/x?c=1&&a", Some("1")),
        ("urlp(b)", "/x?a=1?b=2&a=3", Some("2")),
        ("urlp(a)", "/x?a=1=2", Some("1=2")),
    ];

    #[test]
    fn url_param_as_haproxy() {
        for (expr, uri, want) in URLP {
            assert_eq!(
                eval(&get(uri, Some("h")), expr).as_deref(),
                *want,
                "{expr} {uri}"
            );
        }
        let e = get("/x?a=1?b=2&a=3", Some("h"));
        assert!(acl(&e, "urlp(a) 3"));
        assert!(acl(&e, "urlp() 3"));
        assert!(acl(&e, "urlp_val(a) 3"));
        assert!(!acl(&e, "urlp(a) 2"));
        assert!(acl(&e, "urlp_beg(b) 2"));
    }

    #[test]
    fn body_param() {
        let mut e = Mock::req("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n");
        e.body = Some((b"a=1&b=2&a".to_vec(), false));
        assert_eq!(eval_mc(&e, "req.body_param(b)"), (Some("2".into()), true));
        assert_eq!(eval_mc(&e, "req.body_param(c)"), (None, true));
        e.body = Some((b"a=1&b=2&a=3".to_vec(), true));
        assert_eq!(eval_mc(&e, "req.body_param(a)"), (Some("1".into()), false));
        assert_eq!(eval(&e, "req.body_param").as_deref(), Some("1"));
        assert!(acl(&e, "req.body_param(a) 3"));
    }

    #[test]
    fn base_and_base32_as_haproxy() {
        // Values printed by 2.6.12 for these requests.
        let e = get("/x?a=1", Some("h.com"));
        assert_eq!(eval(&e, "base").as_deref(), Some("h.com/x"));
        assert_eq!(eval(&e, "baseq").as_deref(), Some("h.com/x?a=1"));
        assert_eq!(eval(&e, "base32").as_deref(), Some("3947144189"));
        let e = get("http://example.com/p", Some("example.com"));
        assert_eq!(eval(&e, "base").as_deref(), Some("example.com/p"));
        assert_eq!(eval(&e, "base32").as_deref(), Some("380290732"));
        let e = get("http://1.2.3.4:8080/p/q?z", Some("1.2.3.4:8080"));
        assert_eq!(eval(&e, "base32").as_deref(), Some("693532497"));
        let e = get("/x", Some("a, b"));
        assert_eq!(eval(&e, "base").as_deref(), Some("a/x"));
        assert_eq!(eval(&e, "base32").as_deref(), Some("1844136846"));
        let e = Mock::req("GET /x HTTP/1.0\r\n\r\n");
        assert_eq!(eval(&e, "base").as_deref(), Some("/x"));
        assert_eq!(eval(&e, "base32").as_deref(), Some("2340802059"));
        let e = Mock::req("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(eval(&e, "base32").as_deref(), Some("1228821030"));
        assert!(acl(&e, "base h"));
    }
}
