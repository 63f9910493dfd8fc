//! HTTP sample fetches (configuration.txt 7.3.6): request line, headers,
//! cookies, body, status, over the parsed head the analysers hold.
//!
//! Header fetches iterate: in an ACL every occurrence is tried (`hdr` splits
//! comma-separated values, `fhdr` does not); in an expression the last
//! occurrence is returned unless an occurrence number is given (negative
//! numbers count from the last).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::env::{Dir, Env, HttpView};
use super::expr::{Arg, ArgKind as K, EvalCx, FetchDef, Use};
use super::fetch::def;
use super::sample::{Sample, SmpFlags, SmpType as T};

const RQ: Use = Use::REQ.union(Use::HTTP);
const RS: Use = Use::RES.union(Use::HTTP);

#[rustfmt::skip]
pub const HTTP: &[FetchDef] = &[
    def("method", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(req(e, cx)?.method())), RQ),
    def("url", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(req(e, cx)?.uri())), RQ),
    def("path", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(path(req(e, cx)?.uri())?)), RQ),
    def("req.ver", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(version(req(e, cx)?.version()))), RQ),
    def("req_ver", &[], 0, T::Str, |_, e, cx| Some(Sample::str_ref(version(req(e, cx)?.version()))), RQ),
    def("req.proto_http", &[], 0, T::Bool, |_, e, cx| Some(Sample::bool(req(e, cx).is_some())), RQ),
    def("status", &[], 0, T::Sint, |_, e, _| Some(Sample::sint(i64::from(e.status()?))), RS),
    def("hdr", &[K::Str, K::Sint], 0, T::Str, |a, e, cx| hdr(a, req(e, cx)?, cx, true), RQ),
    def("req.hdr", &[K::Str, K::Sint], 0, T::Str, |a, e, cx| hdr(a, req(e, cx)?, cx, true), RQ),
    def("fhdr", &[K::Str, K::Sint], 0, T::Str, |a, e, cx| hdr(a, req(e, cx)?, cx, false), RQ),
    def("req.fhdr", &[K::Str, K::Sint], 0, T::Str, |a, e, cx| hdr(a, req(e, cx)?, cx, false), RQ),
    def("res.hdr", &[K::Str, K::Sint], 0, T::Str, |a, e, cx| hdr(a, e.http(Dir::Res)?, cx, true), RS),
    def("shdr", &[K::Str, K::Sint], 0, T::Str, |a, e, cx| hdr(a, e.http(Dir::Res)?, cx, true), RS),
    def("res.fhdr", &[K::Str, K::Sint], 0, T::Str, |a, e, cx| hdr(a, e.http(Dir::Res)?, cx, false), RS),
];

/// The request head, or None (and "may change" while it is incomplete).
pub fn req<'a>(e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<HttpView<'a>> {
    let v = e.http(Dir::Req);
    if v.is_none() && !e.payload_final(Dir::Req) {
        cx.may_change = true;
    }
    v
}

/// The path of a URI: from the first `/` after any scheme and authority,
/// up to `?`.
pub fn path(uri: &[u8]) -> Option<&[u8]> {
    let start = if uri.first() == Some(&b'/') {
        0
    } else {
        let a = memchr::memmem::find(uri, b"://")? + 3;
        a + memchr::memchr(b'/', uri.get(a..)?)?
    };
    let p = uri.get(start..)?;
    Some(
        p.get(..memchr::memchr(b'?', p).unwrap_or(p.len()))
            .unwrap_or(p),
    )
}

/// `HTTP/1.1` -> `1.1`.
pub fn version(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"HTTP/").unwrap_or(v)
}

/// Splits a header value on commas (outside quotes), trimming blanks.
pub fn split_values(v: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    v.split(|c| *c == b',').map(|s| {
        let s = match s.iter().position(|c| !matches!(c, b' ' | b'\t')) {
            Some(i) => s.get(i..).unwrap_or(&[]),
            None => &[],
        };
        let e = s
            .iter()
            .rposition(|c| !matches!(c, b' ' | b'\t'))
            .map_or(0, |e| e + 1);
        s.get(..e).unwrap_or(&[])
    })
}

/// The values of header `name` (all headers without a name), split on
/// commas when `split`.
fn values<'a: 'n, 'n>(
    v: HttpView<'a>,
    name: Option<&'n [u8]>,
    split: bool,
) -> impl DoubleEndedIterator<Item = &'a [u8]> + 'n {
    v.hdrs
        .iter()
        .filter(move |h| name.is_none_or(|n| h.name.get(v.bytes).eq_ignore_ascii_case(n)))
        .flat_map(move |h| {
            let val = h.value.get(v.bytes);
            let mut it = split_values(val);
            let whole = (!split).then_some(val);
            let first = if split { it.next() } else { None };
            whole
                .into_iter()
                .chain(first)
                .chain(if split { Some(it) } else { None }.into_iter().flatten())
        })
}

/// `hdr(name[,occ])`: one occurrence, or each in turn for an ACL.
fn hdr<'a>(a: &[Arg], v: HttpView<'a>, cx: &mut EvalCx<'_>, split: bool) -> Option<Sample<'a>> {
    let name = a
        .first()
        .map(|n| n.str().as_bytes())
        .filter(|n| !n.is_empty());
    let occ = a.get(1).map(Arg::int);
    match occ {
        Some(n) if n > 0 => values(v, name, split)
            .nth((n - 1) as usize)
            .map(Sample::str_ref),
        Some(n) if n < 0 => values(v, name, split)
            .rev()
            .nth((-n - 1) as usize)
            .map(Sample::str_ref),
        _ if cx.acl => {
            let mut it = values(v, name, split).skip(cx.occ as usize);
            let s = it.next()?;
            let mut smp = Sample::str_ref(s);
            if it.next().is_some() {
                smp.flags |= SmpFlags::NOT_LAST;
            }
            Some(smp)
        }
        _ => values(v, name, split).next_back().map(Sample::str_ref),
    }
}
