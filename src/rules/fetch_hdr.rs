//! HTTP header fetches (configuration.txt 7.3.6): `req.hdr`, `req.fhdr`,
//! their `_cnt`, `_ip`, `_val` forms, `req.hdr_names`, and the `res.`
//! counterparts, over the parsed head the analysers hold.
//!
//! ```text
//!   "X: 1, \"2,3\" , ,4"  hdr  values: 1 | "2,3" | (empty) | 4
//!                         fhdr values: 1, "2,3" , ,4   (the whole line)
//!   occurrence:  none/0  expression: the last value; ACL: each in turn
//!                n > 0   the n-th from the first
//!                n < 0   the n-th from the last (down to -10, checked at
//!                        parse time: "header occurrence must be >= -10")
//! ```
//!
//! Commas inside double quotes do not split (a backslash escapes inside
//! quotes); each value is trimmed of blanks; empty values count. `hdr`
//! alone reads the response when the rule runs on the response (2.6 does
//! so although its `hdr_*` ACL keywords are documented as request-only).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::rules::env::{Dir, Env, HttpView};
use crate::rules::expr::{Arg, ArgKind as K, EvalCx, FetchDef, ParseCx, Use};
use crate::rules::fetch::def;
use crate::rules::fetch_http::{req, res};
use crate::rules::sample::{Sample, Smp, SmpFlags, SmpType as T};
use std::net::{IpAddr, Ipv4Addr};

const RQ: Use = Use::REQ.union(Use::HTTP);
const RS: Use = Use::RES.union(Use::HTTP);
const RQS: Use = Use::REQ.union(Use::RES).union(Use::HTTP);

/// How a header fetch reads values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Comma-separated values (`hdr`).
    Split,
    /// Whole lines (`fhdr`).
    Full,
}

const HA: &[K] = &[K::Str, K::Sint];

/// A table entry with the occurrence check.
const fn hdef(name: &'static str, out: T, f: crate::rules::expr::FetchFn, use_: Use) -> FetchDef {
    let mut d = def(name, HA, 0, out, f, use_);
    d.check = Some(check_occ);
    d
}

#[rustfmt::skip]
pub const HDR: &[FetchDef] = &[
    hdef("hdr", T::Str, |a, e, cx| hdr(a, dir_msg(e, cx)?, cx, Mode::Split), RQS),
    hdef("req.hdr", T::Str, |a, e, cx| hdr(a, req(e, cx)?, cx, Mode::Split), RQ),
    hdef("req.fhdr", T::Str, |a, e, cx| hdr(a, req(e, cx)?, cx, Mode::Full), RQ),
    hdef("res.hdr", T::Str, |a, e, cx| hdr(a, res(e, cx)?, cx, Mode::Split), RS),
    hdef("shdr", T::Str, |a, e, cx| hdr(a, res(e, cx)?, cx, Mode::Split), RS),
    hdef("res.fhdr", T::Str, |a, e, cx| hdr(a, res(e, cx)?, cx, Mode::Full), RS),
    def("hdr_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, req(e, cx)?, Mode::Split), RQ),
    def("req.hdr_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, req(e, cx)?, Mode::Split), RQ),
    def("req.fhdr_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, req(e, cx)?, Mode::Full), RQ),
    def("res.hdr_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, res(e, cx)?, Mode::Split), RS),
    def("shdr_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, res(e, cx)?, Mode::Split), RS),
    def("res.fhdr_cnt", &[K::Str], 0, T::Sint, |a, e, cx| cnt(a, res(e, cx)?, Mode::Full), RS),
    hdef("hdr_ip", T::Addr, |a, e, cx| hdr_ip(a, req(e, cx)?, cx), RQ),
    hdef("req.hdr_ip", T::Addr, |a, e, cx| hdr_ip(a, req(e, cx)?, cx), RQ),
    hdef("res.hdr_ip", T::Addr, |a, e, cx| hdr_ip(a, res(e, cx)?, cx), RS),
    hdef("shdr_ip", T::Addr, |a, e, cx| hdr_ip(a, res(e, cx)?, cx), RS),
    hdef("hdr_val", T::Sint, |a, e, cx| hdr_val(a, req(e, cx)?, cx), RQ),
    hdef("req.hdr_val", T::Sint, |a, e, cx| hdr_val(a, req(e, cx)?, cx), RQ),
    hdef("res.hdr_val", T::Sint, |a, e, cx| hdr_val(a, res(e, cx)?, cx), RS),
    hdef("shdr_val", T::Sint, |a, e, cx| hdr_val(a, res(e, cx)?, cx), RS),
    def("req.hdr_names", &[K::Str], 0, T::Str, |a, e, cx| names(a, req(e, cx)?, cx), RQ),
    def("res.hdr_names", &[K::Str], 0, T::Str, |a, e, cx| names(a, res(e, cx)?, cx), RS),
];

/// Refuses an occurrence below -10, as 2.6 does (it keeps a history of
/// the last ten values only).
#[allow(clippy::ptr_arg)] // CheckFn takes the Vec
fn check_occ(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    if args.get(1).is_some_and(|a| a.int() < -10) {
        return Err("header occurrence must be >= -10.".into());
    }
    Ok(())
}

/// The message of the direction the rule runs in (`hdr`).
fn dir_msg<'a>(e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<HttpView<'a>> {
    match e.rule_dir() {
        Some(Dir::Res) => res(e, cx),
        _ => req(e, cx),
    }
}

/// Splits a header value on commas outside double quotes; each part is
/// trimmed of blanks. Yields at least one (maybe empty) value.
pub struct Values<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Values<'a> {
    pub fn new(v: &'a [u8]) -> Self {
        Values { rest: Some(v) }
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let v = self.rest?;
        let (mut quoted, mut esc) = (false, false);
        let mut end = v.len();
        for (i, &c) in v.iter().enumerate() {
            match c {
                _ if esc => esc = false,
                b'\\' if quoted => esc = true,
                b'"' => quoted = !quoted,
                b',' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        self.rest = v.get(end + 1..).filter(|_| end < v.len());
        Some(trim(v.get(..end).unwrap_or(&[])))
    }
}

/// `s` without leading and trailing blanks.
pub fn trim(s: &[u8]) -> &[u8] {
    let b = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t'))
        .unwrap_or(s.len());
    let e = s
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t'))
        .map_or(b, |e| e + 1);
    s.get(b..e).unwrap_or(&[])
}

/// The values of header `name` (every header when None), in order.
pub fn values<'a, 'n>(
    v: HttpView<'a>,
    name: Option<&'n [u8]>,
    mode: Mode,
) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
    v.hdrs
        .iter()
        .filter(move |h| name.is_none_or(|n| h.name.get(v.bytes).eq_ignore_ascii_case(n)))
        .flat_map(move |h| {
            let val = h.value.get(v.bytes);
            let (split, whole) = match mode {
                Mode::Split => (Some(Values::new(val)), None),
                Mode::Full => (None, Some(val)),
            };
            split.into_iter().flatten().chain(whole)
        })
}

/// The name argument: None (every header) when absent or empty.
fn name_arg(a: &[Arg]) -> Option<&[u8]> {
    a.first()
        .map(|n| n.str().as_bytes())
        .filter(|n| !n.is_empty())
}

/// Picks one value of `mk()` as header fetches do: occurrence `occ` (n-th
/// from the first, or from the last when negative); else the last one,
/// or in an ACL the `cx.occ`-th with whether more follow.
pub fn pick<'a, I, F>(mk: F, occ: i64, cx: &EvalCx<'_>) -> Option<(&'a [u8], bool)>
where
    I: Iterator<Item = &'a [u8]>,
    F: Fn() -> I,
{
    if occ > 0 {
        return mk().nth(usize::try_from(occ - 1).ok()?).map(|v| (v, false));
    }
    if occ < 0 {
        let n = mk().count();
        let back = usize::try_from(occ.checked_neg()?).ok()?;
        return mk().nth(n.checked_sub(back)?).map(|v| (v, false));
    }
    if cx.acl {
        let mut it = mk().skip(cx.occ as usize);
        let v = it.next()?;
        return Some((v, it.next().is_some()));
    }
    mk().last().map(|v| (v, false))
}

fn flagged(mut s: Sample<'_>, more: bool) -> Sample<'_> {
    if more {
        s.flags |= SmpFlags::NOT_LAST;
    }
    s
}

/// `req.hdr(name[,occ])`, `req.fhdr`: one value, or each for an ACL.
fn hdr<'a>(a: &[Arg], v: HttpView<'a>, cx: &mut EvalCx<'_>, mode: Mode) -> Option<Sample<'a>> {
    let name = name_arg(a);
    let occ = a.get(1).map_or(0, Arg::int);
    let (s, more) = pick(|| values(v, name, mode), occ, cx)?;
    Some(flagged(Sample::str_ref(s), more))
}

/// `req.hdr_cnt([name])`: how many values (lines for `fhdr_cnt`).
fn cnt<'a>(a: &[Arg], v: HttpView<'a>, mode: Mode) -> Option<Sample<'a>> {
    Some(Sample::sint(values(v, name_arg(a), mode).count() as i64))
}

/// `req.hdr_val`: the value as HAProxy's `strl2ic` reads it (never fails).
fn hdr_val<'a>(a: &[Arg], v: HttpView<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let occ = a.get(1).map_or(0, Arg::int);
    let (s, more) = pick(|| values(v, name_arg(a), Mode::Split), occ, cx)?;
    Some(flagged(Sample::sint(i64::from(strl2ic(s))), more))
}

/// `req.hdr_ip`: the value as an address (RFC 7239 forms, an IPv4 address
/// may carry a `:port`). In an ACL values that are not addresses are
/// skipped; otherwise the chosen value must be one.
fn hdr_ip<'a>(a: &[Arg], v: HttpView<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let occ = a.get(1).map_or(0, Arg::int);
    let name = name_arg(a);
    if cx.acl && occ == 0 {
        let mut it = values(v, name, Mode::Split)
            .filter_map(parse_hdr_ip)
            .skip(cx.occ as usize);
        let ip = it.next()?;
        return Some(flagged(ip_sample(ip), it.next().is_some()));
    }
    let (s, _) = pick(|| values(v, name, Mode::Split), occ, cx)?;
    Some(ip_sample(parse_hdr_ip(s)?))
}

fn ip_sample(ip: IpAddr) -> Sample<'static> {
    Sample::new(match ip {
        IpAddr::V4(a) => Smp::Ipv4(a),
        IpAddr::V6(a) => Smp::Ipv6(a),
    })
}

/// An address as `hdr_ip` accepts it: dotted IPv4 (leading zeros allowed)
/// with an optional `:port` of 0-65535, or a bare IPv6 address.
pub fn parse_hdr_ip(s: &[u8]) -> Option<IpAddr> {
    if let Some((a, rest)) = parse_ipv4_prefix(s) {
        return match rest {
            [] => Some(IpAddr::V4(a)),
            [b':', port @ ..] if valid_port(port) => Some(IpAddr::V4(a)),
            _ => None,
        };
    }
    std::str::from_utf8(s).ok()?.parse().ok().map(IpAddr::V6)
}

fn valid_port(p: &[u8]) -> bool {
    !p.is_empty()
        && p.iter().all(u8::is_ascii_digit)
        && p.iter()
            .try_fold(0u32, |n, c| {
                let n = n * 10 + u32::from(c - b'0');
                (n <= 65535).then_some(n)
            })
            .is_some()
}

/// A dotted IPv4 address at the start of `s`, and what follows it.
pub fn parse_ipv4_prefix(s: &[u8]) -> Option<(Ipv4Addr, &[u8])> {
    let mut oct = [0u8; 4];
    let mut i = 0;
    for (k, o) in oct.iter_mut().enumerate() {
        if k > 0 {
            if s.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut n: u32 = 0;
        while let Some(c) = s.get(i).filter(|c| c.is_ascii_digit()) {
            n = n * 10 + u32::from(c - b'0');
            if n > 255 {
                return None;
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        *o = n as u8;
    }
    Some((Ipv4Addr::from(oct), s.get(i..).unwrap_or(&[])))
}

/// HAProxy's `strl2ic`: a 32-bit integer read from the leading characters,
/// with its quirks kept because 2.6 answers with them: any byte below `'0'`
/// is taken as a negative digit (`"1.5"` gives 85, `"+5"` gives -45), the
/// first byte above `'9'` stops, and arithmetic wraps.
pub fn strl2ic(s: &[u8]) -> i32 {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    let mut n: i32 = 0;
    for &c in digits {
        let d = i32::from(c) - i32::from(b'0');
        if d > 9 {
            break;
        }
        n = if neg {
            n.wrapping_mul(10).wrapping_sub(d)
        } else {
            n.wrapping_mul(10).wrapping_add(d)
        };
    }
    n
}

/// `req.hdr_names([delim])`: the header names in order, lower case (as
/// HTX stores them), joined by the first character of `delim` (`,`).
fn names<'a>(a: &[Arg], v: HttpView<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let delim = a
        .first()
        .and_then(|d| d.str().as_bytes().first().copied())
        .unwrap_or(b',');
    let mut out = cx.pool.get();
    for (i, h) in v.hdrs.iter().enumerate() {
        if i > 0 {
            out.push(delim);
        }
        out.extend(h.name.get(v.bytes).iter().map(u8::to_ascii_lowercase));
    }
    Some(Sample::str_own(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::env::Dir;
    use crate::rules::fetch_mock::{Mock, acl, eval};

    fn m() -> Mock {
        Mock::req(
            "GET / HTTP/1.1\r\nHost: h\r\nX: 1, \"2,3\" , ,4\r\nCookie: a=1\r\nx: 5\r\n\
             Y: 1.2.3.4:80, ::1, 1.2.3.4:99999, junk\r\nV: 1.5, +5, 12abc, abc, 99999999999\r\n\r\n",
        )
    }

    #[test]
    fn hdr_occurrences_as_haproxy() {
        let e = m();
        assert_eq!(eval(&e, "hdr(x)").as_deref(), Some("5"));
        assert_eq!(eval(&e, "req.hdr(x,1)").as_deref(), Some("1"));
        assert_eq!(eval(&e, "req.hdr(x,2)").as_deref(), Some("\"2,3\""));
        assert_eq!(eval(&e, "req.hdr(x,3)").as_deref(), Some(""));
        assert_eq!(eval(&e, "req.hdr(x,-1)").as_deref(), Some("5"));
        assert_eq!(eval(&e, "req.hdr(x,-2)").as_deref(), Some("4"));
        assert_eq!(eval(&e, "req.hdr(x,0)").as_deref(), Some("5"));
        assert_eq!(eval(&e, "req.hdr(x,6)"), None);
        assert_eq!(eval(&e, "req.hdr(x,-6)"), None);
        assert_eq!(eval(&e, "req.hdr(nope)"), None);
        assert!(crate::rules::fetch_mock::parse_err("req.hdr(x,-11)").contains(">= -10"));
        assert!(acl(&e, "hdr(x) 4"));
        assert!(acl(&e, "hdr(x) \"2,3\""));
        assert!(!acl(&e, "hdr(x,1) 4"));
        assert!(acl(&e, "hdr_beg(host) h"));
    }

    #[test]
    fn fhdr_keeps_commas() {
        let e = m();
        assert_eq!(eval(&e, "req.fhdr(x)").as_deref(), Some("5"));
        assert_eq!(
            eval(&e, "req.fhdr(x,1)").as_deref(),
            Some("1, \"2,3\" , ,4")
        );
        assert_eq!(eval(&e, "req.fhdr_cnt(x)").as_deref(), Some("2"));
        assert_eq!(eval(&e, "req.fhdr_cnt").as_deref(), Some("6"));
    }

    #[test]
    fn hdr_cnt_counts_values() {
        let e = m();
        assert_eq!(eval(&e, "hdr_cnt(x)").as_deref(), Some("5"));
        assert_eq!(eval(&e, "req.hdr_cnt(nope)").as_deref(), Some("0"));
        // h, 5 of X/x, a=1, 4 of Y, 5 of V
        assert_eq!(eval(&e, "req.hdr_cnt()").as_deref(), Some("16"));
    }

    #[test]
    fn hdr_val_keeps_strl2ic_quirks() {
        let e = m();
        assert_eq!(eval(&e, "hdr_val(v,1)").as_deref(), Some("85"));
        assert_eq!(eval(&e, "hdr_val(v,2)").as_deref(), Some("-45"));
        assert_eq!(eval(&e, "hdr_val(v,3)").as_deref(), Some("12"));
        assert_eq!(eval(&e, "hdr_val(v,4)").as_deref(), Some("0"));
        assert_eq!(eval(&e, "req.hdr_val(v)").as_deref(), Some("1215752191"));
        assert_eq!(strl2ic(b"1 2"), -58);
        assert_eq!(strl2ic(b"-5"), -5);
        assert_eq!(strl2ic(b"-2147483649"), 2147483647);
        assert_eq!(strl2ic(b""), 0);
        assert!(acl(&e, "hdr_val(v) 12"));
    }

    #[test]
    fn hdr_ip_accepts_ipv4_port() {
        let e = m();
        assert_eq!(eval(&e, "hdr_ip(y,1)").as_deref(), Some("1.2.3.4"));
        assert_eq!(eval(&e, "req.hdr_ip(y,2)").as_deref(), Some("::1"));
        assert_eq!(eval(&e, "req.hdr_ip(y,3)"), None);
        assert_eq!(eval(&e, "req.hdr_ip(y)"), None);
        assert!(acl(&e, "hdr_ip(y) ::1"));
        assert!(acl(&e, "hdr_ip(y) 1.2.3.0/24"));
        for (s, ok) in [
            ("1.2.3.4:0080", true),
            ("1.2.3.4:65535", true),
            ("01.2.3.4", true),
            ("1.2.3.4:65536", false),
            ("1.2.3.4:", false),
            ("[::1]", false),
            ("[::1]:80", false),
            ("::ffff:1.2.3.4", true),
            ("1.2.3", false),
            ("256.1.1.1", false),
            ("1.2.3.4:+80", false),
            ("fe80::1%eth0", false),
        ] {
            assert_eq!(parse_hdr_ip(s.as_bytes()).is_some(), ok, "{s}");
        }
    }

    #[test]
    fn hdr_names_lowercase() {
        let e = m();
        assert_eq!(
            eval(&e, "req.hdr_names").as_deref(),
            Some("host,x,cookie,x,y,v")
        );
        assert_eq!(
            eval(&e, "req.hdr_names(;:)").as_deref(),
            Some("host;x;cookie;x;y;v")
        );
    }

    #[test]
    fn response_headers() {
        let mut e = m().with_res("HTTP/1.1 200 OK\r\nX: 1,2\r\nX: 3\r\nSet-Cookie: a=1\r\n\r\n");
        assert_eq!(eval(&e, "res.hdr(x)").as_deref(), Some("3"));
        assert_eq!(eval(&e, "shdr(x,1)").as_deref(), Some("1"));
        assert_eq!(eval(&e, "res.fhdr(x,1)").as_deref(), Some("1,2"));
        assert_eq!(eval(&e, "res.hdr_cnt(x)").as_deref(), Some("3"));
        assert_eq!(eval(&e, "res.fhdr_cnt(x)").as_deref(), Some("2"));
        assert_eq!(eval(&e, "res.hdr_val(x)").as_deref(), Some("3"));
        assert_eq!(eval(&e, "res.hdr_ip(x)"), None);
        assert_eq!(eval(&e, "res.hdr_names").as_deref(), Some("x,x,set-cookie"));
        // `hdr` follows the rule's direction.
        assert_eq!(eval(&e, "hdr(x)").as_deref(), Some("5"));
        e.dir = Some(Dir::Res);
        assert_eq!(eval(&e, "hdr(x)").as_deref(), Some("3"));
    }
}
