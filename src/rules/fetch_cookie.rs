//! Cookie fetches (configuration.txt 7.3.6): `req.cook`, `req.cook_cnt`,
//! `req.cook_val` on `Cookie` lines, `res.cook` and its forms on
//! `Set-Cookie` lines.
//!
//! ```text
//!   Cookie: a=1; b = 2 x ;c, $Version=1; d="q;x"
//!     header values (comma-split, quotes protect): "a=1; b = 2 x ;c"
//!                                                   "$Version=1; d=\"q;x\""
//!     pairs (';'-split, quotes protect, blanks trimmed):
//!        a=1 | b=2 x | (c: no '=', not a cookie) | ($Version: skipped) | d="q;x"
//!   Set-Cookie: a=1; Path=/; b=2
//!     with a name, only the first pair of a line is a cookie (a);
//!     without one, every pair counts (a, Path, b), as 2.6 does.
//! ```
//!
//! 2.6 quirk kept: the scan of a header value stops as soon as fewer than
//! `name length + 2` bytes remain from the start of a pair, so `x=1;a=`
//! has no cookie `a` while `x=1; a=` has an empty one.
//!
//! With a name, an expression returns the last occurrence; without one,
//! the first; an ACL tries each (configuration.txt 7.3.6, req.cook).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::rules::env::{Dir, Env, HttpView};
use crate::rules::expr::{Arg, ArgKind as K, EvalCx, FetchDef, Use};
use crate::rules::fetch::def;
use crate::rules::fetch_hdr::{Mode, pick, strl2ic, trim, values};
use crate::rules::fetch_http::{req, res};
use crate::rules::sample::{Sample, SmpFlags, SmpType as T};

const RQ: Use = Use::REQ.union(Use::HTTP);
const RS: Use = Use::RES.union(Use::HTTP);
const RQS: Use = Use::REQ.union(Use::RES).union(Use::HTTP);

/// Which header a cookie fetch reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `Cookie`: every pair is a cookie.
    Req,
    /// `Set-Cookie`: a named search looks at the first pair only.
    Res,
}

#[rustfmt::skip]
pub const COOKIE: &[FetchDef] = &[
    def("req.cook", &[K::Str], 0, T::Str, |a, e, cx| cook(a, req(e, cx)?, Side::Req, cx), RQ),
    def("cook", &[K::Str], 0, T::Str, |a, e, cx| cook(a, req(e, cx)?, Side::Req, cx), RQ),
    def("cookie", &[K::Str], 0, T::Str, fetch_cookie, RQS),
    def("req.cook_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, req(e, cx)?, Side::Req), RQ),
    def("cook_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, req(e, cx)?, Side::Req), RQ),
    def("req.cook_val", &[K::Str], 0, T::Sint, |a, e, cx| val(a, req(e, cx)?, Side::Req, cx), RQ),
    def("cook_val", &[K::Str], 0, T::Sint, |a, e, cx| val(a, req(e, cx)?, Side::Req, cx), RQ),
    def("res.cook", &[K::Str], 0, T::Str, |a, e, cx| cook(a, res(e, cx)?, Side::Res, cx), RS),
    def("scook", &[K::Str], 0, T::Str, |a, e, cx| cook(a, res(e, cx)?, Side::Res, cx), RS),
    def("res.cook_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, res(e, cx)?, Side::Res), RS),
    def("scook_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, res(e, cx)?, Side::Res), RS),
    def("res.cook_val", &[K::Str], 0, T::Sint, |a, e, cx| val(a, res(e, cx)?, Side::Res, cx), RS),
    def("scook_val", &[K::Str], 0, T::Sint, |a, e, cx| val(a, res(e, cx)?, Side::Res, cx), RS),
];

/// The cookie pairs of one header value named `name` (any when None),
/// yielding their values.
pub struct Pairs<'a, 'n> {
    v: &'a [u8],
    pos: usize,
    name: Option<&'n [u8]>,
    side: Side,
}

impl<'a, 'n> Pairs<'a, 'n> {
    pub fn new(v: &'a [u8], name: Option<&'n [u8]>, side: Side) -> Self {
        Pairs {
            v,
            pos: 0,
            name,
            side,
        }
    }
}

impl<'a> Iterator for Pairs<'a, '_> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let nlen = self.name.map_or(0, <[u8]>::len);
        loop {
            if self.pos + nlen + 1 >= self.v.len() {
                return None;
            }
            let rest = self.v.get(self.pos..)?;
            let stop = rest
                .iter()
                .position(|c| matches!(c, b'=' | b';'))
                .unwrap_or(rest.len());
            let name = trim(rest.get(..stop)?);
            if rest.get(stop) != Some(&b'=') {
                // No '=': not a cookie.
                self.pos += stop + 1;
                if self.side == Side::Res {
                    self.pos = self.v.len();
                }
                continue;
            }
            let after = rest.get(stop + 1..)?;
            let mut quoted = false;
            let vend = after
                .iter()
                .position(|&c| {
                    if c == b'"' {
                        quoted = !quoted;
                    }
                    c == b';' && !quoted
                })
                .unwrap_or(after.len());
            let value = trim(after.get(..vend)?);
            self.pos += stop + 1 + vend + 1;
            if name.first() == Some(&b'$') {
                continue;
            }
            if self.name.is_none_or(|n| n == name) {
                return Some(value);
            }
            if self.side == Side::Res {
                self.pos = self.v.len();
            }
        }
    }
}

fn header(side: Side) -> &'static [u8] {
    match side {
        Side::Req => b"cookie",
        Side::Res => b"set-cookie",
    }
}

/// Every value of cookie `name` (any when None) in the message.
pub fn cookies<'a, 'n>(
    v: HttpView<'a>,
    name: Option<&'n [u8]>,
    side: Side,
) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
    values(v, Some(header(side)), Mode::Split).flat_map(move |h| Pairs::new(h, name, side))
}

fn name_arg(a: &[Arg]) -> Option<&[u8]> {
    a.first()
        .map(|n| n.str().as_bytes())
        .filter(|n| !n.is_empty())
}

/// The chosen value: each in turn for an ACL, else the last occurrence of
/// a named cookie or the first cookie.
fn one<'a>(a: &[Arg], v: HttpView<'a>, side: Side, cx: &EvalCx<'_>) -> Option<(&'a [u8], bool)> {
    let name = name_arg(a);
    if name.is_none() && !cx.acl {
        return cookies(v, None, side).next().map(|c| (c, false));
    }
    pick(|| cookies(v, name, side), 0, cx)
}

fn flagged(mut s: Sample<'_>, more: bool) -> Sample<'_> {
    if more {
        s.flags |= SmpFlags::NOT_LAST;
    }
    s
}

fn cook<'a>(a: &[Arg], v: HttpView<'a>, side: Side, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (c, more) = one(a, v, side, cx)?;
    Some(flagged(Sample::str_ref(c), more))
}

/// `req.cook_val`: the value read as `strl2ic` does (`"3 x"` is 14).
fn val<'a>(a: &[Arg], v: HttpView<'a>, side: Side, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (c, more) = one(a, v, side, cx)?;
    Some(flagged(Sample::sint(i64::from(strl2ic(c))), more))
}

fn cnt<'a>(a: &[Arg], v: HttpView<'a>, side: Side) -> Option<Sample<'a>> {
    Some(Sample::sint(cookies(v, name_arg(a), side).count() as i64))
}

/// `cookie` (deprecated): `req.cook` on requests, `res.cook` on responses.
fn fetch_cookie<'a>(a: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    match e.rule_dir() {
        Some(Dir::Res) => cook(a, res(e, cx)?, Side::Res, cx),
        _ => cook(a, req(e, cx)?, Side::Req, cx),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::fetch_mock::{Mock, acl, eval};

    fn req(cookie: &str) -> Mock {
        Mock::req(&format!("GET / HTTP/1.1\r\nCookie: {cookie}\r\n\r\n"))
    }

    /// (expression, Cookie value, what 2.6.12 answered; None: no sample).
    const REQ_CASES: &[(&str, &str, Option<&str>)] = &[
        ("req.cook(a)", "a=1; b=2 ; a = 3 x ;c", Some("3 x")),
        ("req.cook()", "a=1; b=2 ; a = 3 x ;c", Some("1")),
        ("req.cook_cnt(a)", "a=1; b=2 ; a = 3 x ;c", Some("2")),
        ("req.cook_cnt()", "a=1; b=2 ; a = 3 x ;c", Some("3")),
        ("req.cook_val(a)", "a=1; b=2 ; a = 3 x ;c", Some("14")),
        ("cook(b)", "a=1, b=2", Some("2")),
        ("cook(a)", "a=\"q;x\"; b=2", Some("\"q;x\"")),
        ("cook_val(a)", "a=\"q;x\"; b=2", Some("-14")),
        ("cook()", "=v; a", Some("v")),
        ("cook_cnt()", "=v; a", Some("1")),
        ("cook(a)", "A=1", None),
        ("cook(a)", " a =  1  ;b= 2", Some("1")),
        ("cook(b)", "a=1;;b=2", Some("2")),
        ("cook()", "$Version=1; a=1", Some("1")),
        ("cook_cnt()", "$Version=1; a=1", Some("1")),
        ("cook()", "a", None),
        ("cook(a)", "a=", None),
        ("cook()", "a=", Some("")),
        ("cook(a)", "x=1; a=", Some("")),
        ("cook(a)", "x=1;a=", None),
        ("cook(a)", "a=;", Some("")),
        ("cook(ab)", "x=1;ab=", None),
        ("cook(ab)", "x=1; ab=", Some("")),
        ("cook(a)", "a=x,y;b=1", Some("x")),
        ("cook(a)", "a=\"x,y\";b=1", Some("\"x,y\"")),
        ("cook(a)", "a=x\"y;z\";b=1", Some("x\"y;z\"")),
        ("cook(a)", "a==1", Some("=1")),
        ("cook_val(a)", "a=1 2 ;b", Some("-58")),
        ("cook(a)", "a b=1", None),
        ("cook()", "a b=1", Some("1")),
        ("cook(c)", "c=3,a=5", Some("3")),
        ("cook(a)", "$a=1;b=2", None),
    ];

    #[test]
    fn request_cookies_as_haproxy() {
        for (expr, c, want) in REQ_CASES {
            assert_eq!(eval(&req(c), expr).as_deref(), *want, "{expr} on {c}");
        }
    }

    #[test]
    fn request_cookies_over_lines_and_acl() {
        let e = Mock::req("GET / HTTP/1.1\r\nCookie: a=1; c=0\r\nCookie: a=2; b=3\r\n\r\n");
        assert_eq!(eval(&e, "req.cook(a)").as_deref(), Some("2"));
        assert_eq!(eval(&e, "req.cook()").as_deref(), Some("1"));
        assert_eq!(eval(&e, "req.cook_cnt()").as_deref(), Some("4"));
        assert_eq!(eval(&e, "cookie(c)").as_deref(), Some("0"));
        assert!(acl(&e, "req.cook(a) 1"));
        assert!(acl(&e, "req.cook() 3"));
        assert!(acl(&e, "req.cook_val(a) 1"));
        assert!(acl(&e, "cook_beg(b) 3"));
        assert!(!acl(&e, "req.cook(a) 3"));
        assert!(acl(&e, "req.cook(c) -m found"));
        assert!(!acl(&e, "req.cook(d) -m found"));
    }

    #[test]
    fn response_cookies_as_haproxy() {
        let e = Mock::req("GET / HTTP/1.1\r\n\r\n").with_res(
            "HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/; b=2\r\n\
             Set-Cookie: b=3, a=4; Expires=Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
        );
        assert_eq!(eval(&e, "res.cook(a)").as_deref(), Some("4"));
        assert_eq!(eval(&e, "res.cook(b)").as_deref(), Some("3"));
        assert_eq!(eval(&e, "scook(Path)"), None);
        assert_eq!(eval(&e, "res.cook()").as_deref(), Some("1"));
        assert_eq!(eval(&e, "res.cook_cnt(a)").as_deref(), Some("2"));
        assert_eq!(eval(&e, "scook_cnt(b)").as_deref(), Some("1"));
        assert_eq!(eval(&e, "res.cook_cnt()").as_deref(), Some("6"));
        assert_eq!(eval(&e, "res.cook_val(a)").as_deref(), Some("4"));
        assert_eq!(eval(&e, "scook_val(b)").as_deref(), Some("3"));
        assert!(!acl(&e, "res.cook(b) 2"));
        assert!(acl(&e, "res.cook(b) 3"));
        assert!(acl(&e, "res.cook() 2"));
        let e = Mock::req("GET / HTTP/1.1\r\n\r\n")
            .with_res("HTTP/1.1 200 OK\r\nSet-Cookie: $x=1;a=2\r\nSet-Cookie: =5\r\n\r\n");
        assert_eq!(eval(&e, "res.cook(a)").as_deref(), Some("2"));
        assert_eq!(eval(&e, "res.cook_cnt()").as_deref(), Some("2"));
    }
}
