//! Payload sample fetches (configuration.txt 7.3.5): the bytes received
//! and not yet forwarded, read during `tcp-request content` /
//! `tcp-response content` inspection.
//!
//! A fetch that needs bytes which have not arrived yet finds nothing and
//! says "may change" (`cx.may_change`) unless no more data can come; a
//! fetch that returns everything from an offset flags its sample
//! `MAY_CHANGE` likewise. TLS hello parsing lives in `fetch_tls`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::env::{Dir, Env};
use super::expr::{Arg, ArgKind as K, EvalCx, FetchDef, ParseCx, Use};
use super::fetch::def;
use super::sample::{Sample, SmpFlags, SmpType as T};

const LV: &[K] = &[K::Sint, K::Sint, K::Str];

/// A table entry with an argument check.
const fn cdef(
    name: &'static str,
    args: &'static [K],
    min: u8,
    out: T,
    f: super::expr::FetchFn,
    check: super::expr::CheckFn,
    use_: Use,
) -> FetchDef {
    let mut d = def(name, args, min, out, f, use_);
    d.check = Some(check);
    d
}

#[rustfmt::skip]
pub const PAYLOAD: &[FetchDef] = &[
    def("req.len", &[], 0, T::Sint, |_, e, _| len(e.payload(Dir::Req)?, e.payload_final(Dir::Req)), Use::REQ),
    def("req_len", &[], 0, T::Sint, |_, e, _| len(e.payload(Dir::Req)?, e.payload_final(Dir::Req)), Use::REQ),
    def("res.len", &[], 0, T::Sint, |_, e, _| len(e.payload(Dir::Res)?, e.payload_final(Dir::Res)), Use::RES),
    def("wait_end", &[], 0, T::Bool, |_, e, cx| {
        // True only once the inspect delay expired: until then the rule waits.
        if e.inspect_expired() {
            Some(Sample::bool(true))
        } else {
            cx.may_change = true;
            None
        }
    }, Use::CONST),
    cdef("req.payload", &[K::Sint, K::Sint], 2, T::Bin, |a, e, cx| payload(a, e, cx, Some(Dir::Req)), check_payload, Use::REQ),
    cdef("res.payload", &[K::Sint, K::Sint], 2, T::Bin, |a, e, cx| payload(a, e, cx, Some(Dir::Res)), check_payload, Use::RES),
    cdef("payload", &[K::Sint, K::Sint], 2, T::Bin, |a, e, cx| payload(a, e, cx, None), check_payload, Use::REQ.union(Use::RES)),
    cdef("req.payload_lv", LV, 2, T::Bin, |a, e, cx| payload_lv(a, e, cx, Some(Dir::Req)), check_lv, Use::REQ),
    cdef("res.payload_lv", LV, 2, T::Bin, |a, e, cx| payload_lv(a, e, cx, Some(Dir::Res)), check_lv, Use::RES),
    cdef("payload_lv", LV, 2, T::Bin, |a, e, cx| payload_lv(a, e, cx, None), check_lv, Use::REQ.union(Use::RES)),
    def("req.rdp_cookie", &[K::Str], 0, T::Str, fetch_rdp_cookie, Use::REQ),
    def("rdp_cookie", &[K::Str], 0, T::Str, fetch_rdp_cookie, Use::REQ),
    def("req.rdp_cookie_cnt", &[K::Str], 0, T::Sint, fetch_rdp_cookie_cnt, Use::REQ),
    def("rdp_cookie_cnt", &[K::Str], 0, T::Sint, fetch_rdp_cookie_cnt, Use::REQ),
];

fn len(data: &[u8], fin: bool) -> Option<Sample<'static>> {
    let mut s = Sample::sint(data.len() as i64);
    if !fin {
        s.flags |= SmpFlags::MAY_CHANGE;
    }
    Some(s)
}

/// What a parser of a partial buffer concludes.
pub enum Parse<T> {
    Found(T),
    /// More bytes are needed to tell.
    Short,
    /// The bytes do not hold what is looked for.
    No,
}

/// The buffer of `dir` (the rule's direction for the deprecated aliases)
/// and whether it is final.
pub fn buf(e: &dyn Env, dir: Option<Dir>) -> Option<(&[u8], bool)> {
    let dir = dir.unwrap_or(e.rule_dir().unwrap_or(Dir::Req));
    Some((e.payload(dir)?, e.payload_final(dir)))
}

/// Turns a parse into a sample: a short buffer sets `may_change` unless
/// final.
pub fn settle<T>(p: Parse<T>, fin: bool, cx: &mut EvalCx<'_>) -> Option<T> {
    match p {
        Parse::Found(v) => Some(v),
        Parse::Short => {
            if !fin {
                cx.may_change = true;
            }
            None
        }
        Parse::No => None,
    }
}

#[allow(clippy::ptr_arg)] // CheckFn takes the Vec
fn check_payload(a: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    if a.first().is_some_and(|o| o.int() < 0) {
        return Err("payload offset must be >= 0".into());
    }
    if a.get(1).is_some_and(|l| l.int() < 0) {
        return Err("payload length must be >= 0".into());
    }
    Ok(())
}

/// Checks `payload_lv` arguments; a relative `offset2` (`+n`, `-n`) stays
/// a string, an absolute one becomes an integer.
#[allow(clippy::ptr_arg)] // CheckFn takes the Vec
fn check_lv(a: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    if a.first().is_some_and(|o| o.int() < 0) {
        return Err("payload offset1 must be >= 0".into());
    }
    if a.get(1).is_some_and(|l| !(1..=8).contains(&l.int())) {
        return Err("payload length must be > 0 and <= 8".into());
    }
    if let Some(o2) = a.get_mut(2) {
        let s = o2.str().to_string();
        let n: i64 = s
            .parse()
            .map_err(|_| format!("payload offset2 '{s}' is not a number"))?;
        if !s.starts_with(['+', '-']) {
            if n < 0 {
                return Err("payload offset2 must be >= 0".into());
            }
            *o2 = Arg::Sint(n);
        }
    }
    Ok(())
}

/// `req.payload(offset,length)`: `length` bytes at `offset`; length 0
/// means up to the end (that sample "may change").
fn payload<'a>(
    a: &[Arg],
    e: &'a dyn Env,
    cx: &mut EvalCx<'_>,
    dir: Option<Dir>,
) -> Option<Sample<'a>> {
    let (data, fin) = buf(e, dir)?;
    let off = usize::try_from(a.first()?.int()).ok()?;
    let n = usize::try_from(a.get(1)?.int()).ok()?;
    let p = if n == 0 {
        match data.get(off..).filter(|r| !r.is_empty()) {
            Some(r) => Parse::Found(r),
            None => Parse::Short,
        }
    } else {
        match data.get(off..off.checked_add(n)?) {
            Some(r) => Parse::Found(r),
            None => Parse::Short,
        }
    };
    let mut s = Sample::bin_ref(settle(p, fin, cx)?);
    if n == 0 && !fin {
        s.flags |= SmpFlags::MAY_CHANGE;
    }
    Some(s)
}

/// `req.payload_lv(offset1,length[,offset2])`: a block whose size is the
/// big-endian integer of `length` bytes at `offset1`, starting at
/// `offset2` (relative to the end of the size when signed) or just after
/// the size.
fn payload_lv<'a>(
    a: &[Arg],
    e: &'a dyn Env,
    cx: &mut EvalCx<'_>,
    dir: Option<Dir>,
) -> Option<Sample<'a>> {
    let (data, fin) = buf(e, dir)?;
    let off1 = usize::try_from(a.first()?.int()).ok()?;
    let lsize = usize::try_from(a.get(1)?.int()).ok()?;
    let after = off1.checked_add(lsize)?;
    let Some(field) = data.get(off1..after) else {
        return settle(Parse::Short, fin, cx);
    };
    let n = field.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
    let start = match a.get(2) {
        None => after as i64,
        Some(Arg::Sint(o)) => *o,
        Some(rel) => (after as i64).checked_add(rel.str().parse::<i64>().ok()?)?,
    };
    let start = usize::try_from(start).ok()?;
    let end = start.checked_add(usize::try_from(n).ok()?)?;
    let p = match data.get(start..end) {
        Some(r) => Parse::Found(r),
        None => Parse::Short,
    };
    Some(Sample::bin_ref(settle(p, fin, cx)?))
}

/// The RDP cookie of an X.224 Connection Request (MS-RDPBCGR 2.2.1.1):
/// `Cookie: <name>=<value>\r\n` after the 11 bytes of TPKT and X.224
/// headers (not checked, as 2.6). The name matches case-insensitively;
/// None takes any name. Only the first cookie is looked at.
pub fn rdp_cookie<'a>(data: &'a [u8], name: Option<&[u8]>) -> Parse<&'a [u8]> {
    let Some(d) = data.get(11..).filter(|d| d.len() > 7) else {
        return Parse::Short;
    };
    let (Some(kw), Some(mut d)) = (d.get(..7), d.get(7..)) else {
        return Parse::Short;
    };
    if !kw.eq_ignore_ascii_case(b"Cookie:") {
        return Parse::No;
    }
    while let [b' ', rest @ ..] = d {
        d = rest;
    }
    match name {
        Some(n) => {
            if d.len() <= n.len() {
                return Parse::Short;
            }
            match (d.get(..n.len()), d.get(n.len()), d.get(n.len() + 1..)) {
                (Some(k), Some(b'='), Some(rest)) if k.eq_ignore_ascii_case(n) => d = rest,
                _ => return Parse::No,
            }
        }
        None => match d.iter().position(|c| matches!(c, b'=' | b'\r' | b'\n')) {
            Some(i) if d.get(i) == Some(&b'=') => d = d.get(i + 1..).unwrap_or(&[]),
            Some(_) => return Parse::No,
            None => return Parse::Short,
        },
    }
    let Some(cr) = memchr::memchr(b'\r', d) else {
        return Parse::Short;
    };
    match d.get(cr + 1) {
        None => Parse::Short,
        Some(b'\n') => d.get(..cr).map_or(Parse::No, Parse::Found),
        Some(_) => Parse::No,
    }
}

fn rdp_name(a: &[Arg]) -> Option<&[u8]> {
    a.first()
        .map(|n| n.str().as_bytes())
        .filter(|n| !n.is_empty())
}

fn fetch_rdp_cookie<'a>(a: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (data, fin) = buf(e, Some(Dir::Req))?;
    Some(Sample::str_ref(settle(
        rdp_cookie(data, rdp_name(a)),
        fin,
        cx,
    )?))
}

/// `req.rdp_cookie_cnt([name])`: 1 when the request carries the cookie,
/// else 0 (nothing while more data may tell).
fn fetch_rdp_cookie_cnt<'a>(a: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (data, fin) = buf(e, Some(Dir::Req))?;
    let n = match rdp_cookie(data, rdp_name(a)) {
        Parse::Found(_) => 1,
        Parse::No => 0,
        Parse::Short if fin => 0,
        Parse::Short => {
            cx.may_change = true;
            return None;
        }
    };
    Some(Sample::sint(n))
}

#[cfg(test)]
mod tests {
    use super::super::acl::AclRes;
    use super::super::fetch_mock::{Mock, acl, acl_res, eval, eval_mc, parse_err};

    #[test]
    fn req_len_may_change_until_final() {
        assert_eq!(
            eval_mc(&Mock::payload(b"abc", false), "req.len"),
            (Some("3".into()), true)
        );
        assert_eq!(
            eval_mc(&Mock::payload(b"abc", true), "req.len"),
            (Some("3".into()), false)
        );
    }

    #[test]
    fn payload_blocks() {
        let e = Mock::payload(b"\x02ABCDEFGH", true);
        assert_eq!(eval(&e, "req.payload(5,3)").as_deref(), Some("454647"));
        assert_eq!(
            eval(&e, "req.payload(2,0)").as_deref(),
            Some("42434445464748")
        );
        assert_eq!(eval(&e, "req.payload(100,0)"), None);
        assert_eq!(eval(&e, "payload(0,1)").as_deref(), Some("02"));
        assert!(acl(&e, "req.payload(1,2) 4142"));
        let e = Mock::payload(b"\x02AB", false);
        assert_eq!(eval_mc(&e, "req.payload(2,4)"), (None, true));
        assert_eq!(eval_mc(&e, "req.payload(1,0)"), (Some("4142".into()), true));
        assert_eq!(acl_res(&e, "req.payload(2,4) 0000"), AclRes::Miss);
        assert!(parse_err("req.payload(-1,2)").contains("offset"));
    }

    #[test]
    fn payload_lv_offsets_as_haproxy() {
        let e = Mock::payload(b"\x02ABCDEFGH", true);
        assert_eq!(eval(&e, "req.payload_lv(0,1)").as_deref(), Some("4142"));
        assert_eq!(eval(&e, "req.payload_lv(0,1,+1)").as_deref(), Some("4243"));
        assert_eq!(eval(&e, "req.payload_lv(0,1,-1)").as_deref(), Some("0241"));
        assert_eq!(eval(&e, "req.payload_lv(0,1,4)").as_deref(), Some("4445"));
        assert_eq!(eval(&e, "req.payload_lv(1,2,0)"), None);
        let e = Mock::payload(b"\x00\x04AB", false);
        assert_eq!(eval_mc(&e, "payload_lv(0,2)"), (None, true));
        assert!(parse_err("req.payload_lv(0,0)").contains("length"));
        assert!(parse_err("req.payload_lv(0,1,x)").contains("offset2"));
    }

    #[test]
    fn response_payload() {
        let mut e = Mock::payload(b"", true);
        e.payload[1] = b"HTTP/1.1 200".to_vec();
        assert_eq!(eval(&e, "res.payload(0,4)").as_deref(), Some("48545450"));
        assert_eq!(eval(&e, "res.payload_lv(0,1)"), None);
    }

    const RDP: &[u8] = b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=User1\r\n\x01\x00\x08\x00\x03\x00\x00\x00";

    #[test]
    fn rdp_cookie_as_haproxy() {
        let e = Mock::payload(RDP, true);
        assert_eq!(eval(&e, "req.rdp_cookie").as_deref(), Some("User1"));
        assert_eq!(eval(&e, "rdp_cookie(MSTSHASH)").as_deref(), Some("User1"));
        assert_eq!(eval(&e, "req.rdp_cookie(other)"), None);
        assert_eq!(eval(&e, "req.rdp_cookie_cnt").as_deref(), Some("1"));
        assert_eq!(eval(&e, "rdp_cookie_cnt(other)").as_deref(), Some("0"));
        let e = Mock::payload(b"XXXXXXXXXXXCookie: other=bob\r\nzz", true);
        assert_eq!(eval(&e, "req.rdp_cookie").as_deref(), Some("bob"));
        let e = Mock::payload(b"XXXXXXXXXXXCookie:mstshash=bob\rzz", true);
        assert_eq!(eval(&e, "req.rdp_cookie_cnt").as_deref(), Some("0"));
        let e = Mock::payload(RDP.get(..20).unwrap_or_default(), false);
        assert_eq!(eval_mc(&e, "req.rdp_cookie(mstshash)"), (None, true));
        assert_eq!(eval_mc(&e, "req.rdp_cookie_cnt"), (None, true));
    }
}
