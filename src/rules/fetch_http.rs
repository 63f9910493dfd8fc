//! HTTP sample fetches (configuration.txt 7.3.6): request and status
//! lines, body, captures, over the parsed head the analysers hold.
//! Headers live in `fetch_hdr`, cookies in `fetch_cookie`, the URL and
//! its parameters in `fetch_url`.
//!
//! A fetch that needs a head which is not parsed yet sets `may_change`
//! while more data can arrive (`tcp-request content` waits on it), and
//! finds nothing.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::env::{Dir, Env, HttpView};
use super::expr::{Arg, ArgKind as K, EvalCx, FetchDef, Use};
use super::fetch::def;
use super::sample::{Sample, SmpFlags, SmpType as T};
use crate::http::parse::{Framing, MsgFlags};

const RQ: Use = Use::REQ.union(Use::HTTP);
const RS: Use = Use::RES.union(Use::HTTP);
const ANY: Use = Use::REQ.union(Use::RES).union(Use::HTTP);

#[rustfmt::skip]
pub const HTTP: &[FetchDef] = &[
    def("method", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(req(e, cx)?.method())), RQ),
    def("url", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(req(e, cx)?.uri())), RQ),
    def("req.ver", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(version(req(e, cx)?.version()))), RQ),
    def("req_ver", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(version(req(e, cx)?.version()))), RQ),
    def("req.proto_http", &[], 0, T::Bool, |_, e, cx| Some(Sample::bool(req(e, cx).is_some())), RQ),
    def("req_proto_http", &[], 0, T::Bool, |_, e, cx| Some(Sample::bool(req(e, cx).is_some())), RQ),
    def("http_first_req", &[], 0, T::Bool, |_, e, _| Some(Sample::bool(e.first_req()?)), RQ),
    def("status", &[], 0, T::Sint, fetch_status, RS),
    def("res.ver", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(version(res(e, cx)?.version()))), RS),
    def("resp_ver", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(version(res(e, cx)?.version()))), RS),
    def("req.body", &[], 0, T::Bin, fetch_body, RQ),
    def("req.body_len", &[], 0, T::Sint, fetch_body_len, RQ),
    def("req.body_size", &[], 0, T::Sint, fetch_body_size, RQ),
    def("capture.req.hdr", &[K::Sint], 1, T::Str, |a, e, _| capture(a, e, Dir::Req), ANY),
    def("capture.res.hdr", &[K::Sint], 1, T::Str, |a, e, _| capture(a, e, Dir::Res), ANY),
    def("capture.req.method", &[], 0, T::Str, fetch_cap_method, ANY),
    def("capture.req.uri", &[], 0, T::Str, fetch_cap_uri, ANY),
    def("capture.req.ver", &[], 0, T::Str, |_, e, _| cap_ver(e, Dir::Req), ANY),
    def("capture.res.ver", &[], 0, T::Str, |_, e, _| cap_ver(e, Dir::Res), ANY),
];

/// The request head, or None (and "may change" while it is incomplete).
pub fn req<'a>(e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<HttpView<'a>> {
    msg(e, cx, Dir::Req)
}

/// The response head, or None (and "may change" while it is incomplete).
pub fn res<'a>(e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<HttpView<'a>> {
    msg(e, cx, Dir::Res)
}

fn msg<'a>(e: &'a dyn Env, cx: &mut EvalCx<'_>, dir: Dir) -> Option<HttpView<'a>> {
    let v = e.http(dir);
    if v.is_none() && !e.payload_final(dir) && !e.not_http(dir) {
        cx.may_change = true;
    }
    v
}

/// The path of a URI: from the first `/` after any scheme and authority,
/// up to `?`. None for `*`, an authority (CONNECT) or `http://host`.
pub fn path(uri: &[u8]) -> Option<&[u8]> {
    let p = pathq(uri)?;
    Some(
        p.get(..memchr::memchr(b'?', p).unwrap_or(p.len()))
            .unwrap_or(p),
    )
}

/// The path and query of a URI (`pathq`): from the first `/` after any
/// scheme and authority.
pub fn pathq(uri: &[u8]) -> Option<&[u8]> {
    if uri.first() == Some(&b'/') {
        return Some(uri);
    }
    let a = memchr::memmem::find(uri, b"://")? + 3;
    uri.get(a + memchr::memchr(b'/', uri.get(a..)?)?..)
}

/// `HTTP/1.1` -> `1.1`.
pub fn version(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"HTTP/").unwrap_or(v)
}

fn fetch_status<'a>(_: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let st = match e.status() {
        Some(s) => s,
        None => res(e, cx)?.head.status,
    };
    Some(Sample::sint(i64::from(st)))
}

/// A sample flagged "may change" unless `fin`.
fn unless_final(mut s: Sample<'_>, fin: bool) -> Sample<'_> {
    if !fin {
        s.flags |= SmpFlags::MAY_CHANGE;
    }
    s
}

/// `req.body`: the body received so far; "may change" until complete.
fn fetch_body<'a>(_: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (b, fin) = e.req_body()?;
    Some(unless_final(Sample::bin_ref(b), fin))
}

fn fetch_body_len<'a>(_: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (b, fin) = e.req_body()?;
    Some(unless_final(Sample::sint(b.len() as i64), fin))
}

/// `req.body_size`: the advertised Content-Length, else (chunked) the
/// length received so far.
fn fetch_body_size<'a>(_: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    if let Some(Framing::Length(n)) = req(e, cx).map(|v| v.head.framing) {
        return Some(Sample::sint(i64::try_from(n).unwrap_or(i64::MAX)));
    }
    fetch_body_len(&[], e, cx)
}

fn capture<'a>(a: &[Arg], e: &'a dyn Env, dir: Dir) -> Option<Sample<'a>> {
    let idx = usize::try_from(a.first()?.int()).ok()?;
    Some(Sample::str_ref(e.capture(dir, idx)?))
}

/// `capture.req.method`: the logged request line up to its first space.
fn fetch_cap_method<'a>(_: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let l = e.req_line()?;
    Some(Sample::str_ref(l.split(|c| *c == b' ').next()?))
}

/// `capture.req.uri`: the logged request line's URI without scheme and
/// authority.
fn fetch_cap_uri<'a>(_: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let uri = e.req_line()?.split(|c| *c == b' ').nth(1)?;
    Some(Sample::str_ref(pathq(uri)?))
}

/// `capture.req.ver`, `capture.res.ver`: `HTTP/1.1` or `HTTP/1.0`.
fn cap_ver<'a>(e: &'a dyn Env, dir: Dir) -> Option<Sample<'a>> {
    let v11 = match e.msg_ver11(dir) {
        Some(v) => v,
        None => e.http(dir)?.head.flags.contains(MsgFlags::VER_11),
    };
    Some(Sample::str_ref(if v11 { b"HTTP/1.1" } else { b"HTTP/1.0" }))
}

#[cfg(test)]
mod tests {
    use super::super::fetch_mock::{Mock, eval, eval_mc};

    #[test]
    fn request_line() {
        let e = Mock::req("GET /x?a=1 HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(eval(&e, "method").as_deref(), Some("GET"));
        assert_eq!(eval(&e, "url").as_deref(), Some("/x?a=1"));
        assert_eq!(eval(&e, "req.ver").as_deref(), Some("1.1"));
        assert_eq!(eval(&e, "req_ver").as_deref(), Some("1.1"));
        assert_eq!(eval(&e, "req.proto_http").as_deref(), Some("1"));
        assert_eq!(eval(&e, "capture.req.ver").as_deref(), Some("HTTP/1.1"));
        let e = Mock::req("get /x HTTP/1.0\r\n\r\n");
        assert_eq!(eval(&e, "method").as_deref(), Some("get"));
        assert_eq!(eval(&e, "capture.req.ver").as_deref(), Some("HTTP/1.0"));
    }

    #[test]
    fn head_not_there_yet_may_change() {
        let mut e = Mock::payload(b"GET / HT", false);
        assert_eq!(eval_mc(&e, "method"), (None, true));
        assert_eq!(eval_mc(&e, "req.proto_http"), (Some("0".into()), true));
        e.fin = true;
        assert_eq!(eval_mc(&e, "method"), (None, false));
    }

    #[test]
    fn status_and_response_version() {
        let e = Mock::req("GET / HTTP/1.1\r\n\r\n").with_res("HTTP/1.0 302 Found\r\n\r\n");
        assert_eq!(eval(&e, "status").as_deref(), Some("302"));
        assert_eq!(eval(&e, "res.ver").as_deref(), Some("1.0"));
        assert_eq!(eval(&e, "resp_ver").as_deref(), Some("1.0"));
        assert_eq!(eval(&e, "capture.res.ver").as_deref(), Some("HTTP/1.0"));
    }

    #[test]
    fn body_and_sizes() {
        let mut e = Mock::req("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n");
        e.body = Some((b"a=1&b".to_vec(), false));
        assert_eq!(eval_mc(&e, "req.body"), (Some("613D312662".into()), true));
        assert_eq!(eval_mc(&e, "req.body_len"), (Some("5".into()), true));
        assert_eq!(eval(&e, "req.body_size").as_deref(), Some("10"));
        let mut e = Mock::req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        e.body = Some((b"abc".to_vec(), true));
        assert_eq!(eval_mc(&e, "req.body_size"), (Some("3".into()), false));
    }

    #[test]
    fn captures_and_first_req() {
        let mut e = Mock::req("GET http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(eval(&e, "capture.req.method"), None);
        assert_eq!(eval(&e, "http_first_req"), None);
        e.line = Some(b"GET http://h/p?q HTTP/1.1".to_vec());
        e.first = Some(true);
        assert_eq!(eval(&e, "capture.req.method").as_deref(), Some("GET"));
        assert_eq!(eval(&e, "capture.req.uri").as_deref(), Some("/p?q"));
        assert_eq!(eval(&e, "http_first_req").as_deref(), Some("1"));
        assert_eq!(eval(&e, "capture.req.hdr(0)"), None);
    }
}
