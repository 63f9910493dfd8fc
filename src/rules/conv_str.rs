//! String converters (configuration.txt 7.3.1): `field`, `word`,
//! `bytes`, `ltrim`, `rtrim` (which slice their input: a borrowed input
//! stays borrowed), `regsub`, `concat`, `strcmp`, `secure_memcmp`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::conv::{build, check_var_at, defc, var_bytes, with_flags};
use super::expr::{Arg, ArgKind as K, ConvDef, EvalCx, ParseCx};
use super::sample::{Data, Sample, Smp, SmpType as T};

#[rustfmt::skip]
pub const STR: &[ConvDef] = &[
    defc("field", &[K::Sint, K::Str, K::Sint], 2, T::Str, T::Str, |a, s, cx| conv_field(a, s, cx, false), check_index),
    defc("word", &[K::Sint, K::Str, K::Sint], 2, T::Str, T::Str, |a, s, cx| conv_field(a, s, cx, true), check_index),
    super::conv::def("bytes", &[K::Sint, K::Sint], 1, T::Bin, T::Bin, conv_bytes),
    super::conv::def("ltrim", &[K::Str], 0, T::Str, T::Str, |a, s, cx| trim(a, s, cx, true)),
    super::conv::def("rtrim", &[K::Str], 0, T::Str, T::Str, |a, s, cx| trim(a, s, cx, false)),
    defc("regsub", &[K::Reg, K::Str, K::Str], 2, T::Str, T::Str, conv_regsub, check_regsub),
    defc("concat", &[K::Str, K::Str, K::Str], 0, T::Str, T::Str, conv_concat, |a, cx| check_var_at(1, false, a, cx)),
    defc("strcmp", &[K::Str], 0, T::Str, T::Sint, conv_strcmp, |a, cx| check_var_at(0, true, a, cx)),
    defc("secure_memcmp", &[K::Str], 0, T::Bin, T::Bool, conv_secure_memcmp, |a, cx| check_var_at(0, true, a, cx)),
];

/// Keeps `range` of a string or binary sample: a sub-slice of borrowed
/// bytes, or the owned buffer cut in place.
fn slice(s: Sample<'_>, start: usize, end: usize) -> Sample<'_> {
    let data = match s.data {
        Smp::Str(d) => Smp::Str(cut(d, start, end)),
        Smp::Bin(d) => Smp::Bin(cut(d, start, end)),
        other => other,
    };
    with_flags(data, s.flags)
}

fn cut(d: Data<'_>, start: usize, end: usize) -> Data<'_> {
    match d {
        Data::Ref(b) => Data::Ref(b.get(start..end).unwrap_or(&[])),
        Data::Own(mut v) => {
            v.truncate(end);
            v.drain(..start.min(v.len()));
            Data::Own(v)
        }
    }
}

// The signature is `CheckFn`'s, shared with checks that push arguments.
#[allow(clippy::ptr_arg)]
fn check_index(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    if args.first().map_or(0, Arg::int) == 0 {
        return Err("Unexpected value 0 for index.".into());
    }
    Ok(())
}

/// Spans of the fields of `b` split on any byte of `d` (words: the
/// non-empty fields).
fn spans<'b>(b: &'b [u8], d: &'b [u8], words: bool) -> impl Iterator<Item = (usize, usize)> + 'b {
    let base = b.as_ptr() as usize;
    b.split(move |c| d.contains(c))
        .map(move |t| {
            let s = t.as_ptr() as usize - base;
            (s, s + t.len())
        })
        .filter(move |(s, e)| !words || e > s)
}

/// The byte range `field` / `word` keep: from token `idx` (1-based, or
/// counted from the end when negative) over `count` tokens (0 or less:
/// all the rest, up to the string's end or start); a count running past
/// the last token also runs to the end or start.
fn select(b: &[u8], d: &[u8], idx: i64, count: i64, words: bool) -> Option<(usize, usize)> {
    let nth = |n: i64| spans(b, d, words).nth(usize::try_from(n - 1).ok()?);
    if idx > 0 {
        let (start, mut end) = nth(idx)?;
        if count <= 0 {
            end = b.len();
        } else {
            let mut it = spans(b, d, words).skip(usize::try_from(idx).ok()?);
            for _ in 1..count {
                match it.next() {
                    Some((_, e)) => end = e,
                    None => {
                        end = b.len();
                        break;
                    }
                }
            }
        }
        Some((start, end))
    } else {
        let total = spans(b, d, words).count() as i64;
        let last = total + idx + 1;
        let (_, end) = nth(last)?;
        let first = last - count + 1;
        let start = if count <= 0 || first < 1 {
            0
        } else {
            nth(first)?.0
        };
        Some((start, end))
    }
}

/// `field(<index>,<delimiters>[,<count>])`, `word(...)`: a missing field
/// fails, a missing word is the empty string (as HAProxy 2.6 does).
fn conv_field<'a>(
    a: &[Arg],
    s: Sample<'a>,
    cx: &mut EvalCx<'_>,
    words: bool,
) -> Option<Sample<'a>> {
    let idx = a.first().map_or(1, Arg::int);
    let d = a.get(1).map_or("", Arg::str).as_bytes();
    let count = a.get(2).map_or(1, Arg::int);
    let b = s.bytes().unwrap_or(&[]);
    match select(b, d, idx, count, words) {
        Some((start, end)) => Some(slice(s, start, end)),
        None if words => Some(slice(s, 0, 0)),
        None => {
            s.recycle(cx.pool);
            None
        }
    }
}

/// `bytes(<offset>[,<length>])`: an offset outside the input gives an
/// empty sample; a negative length means "to the end".
fn conv_bytes<'a>(a: &[Arg], s: Sample<'a>, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let len = s.bytes().map_or(0, <[u8]>::len);
    let off = usize::try_from(a.first().map_or(0, Arg::int))
        .unwrap_or(len)
        .min(len);
    let end = match a.get(1).map(Arg::int) {
        Some(n) if n >= 0 => off.saturating_add(usize::try_from(n).unwrap_or(0)).min(len),
        _ => len,
    };
    Some(slice(s, off, end))
}

fn trim<'a>(a: &[Arg], s: Sample<'a>, _: &mut EvalCx<'_>, left: bool) -> Option<Sample<'a>> {
    let set = a.first().map_or("", Arg::str).as_bytes();
    let b = s.bytes().unwrap_or(&[]);
    let (start, end) = if left {
        let n = b.iter().take_while(|c| set.contains(c)).count();
        (n, b.len())
    } else {
        let n = b.iter().rev().take_while(|c| set.contains(c)).count();
        (0, b.len() - n)
    };
    Some(slice(s, start, end))
}

/// `regsub(<regex>,<subst>[,<flags>])`: compiles the regex (`i`: case
/// insensitive) and keeps `g` as an integer third argument.
fn check_regsub(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    let pat = args
        .first()
        .map(|a| a.str().to_string())
        .unwrap_or_default();
    let flags = args.get(2).map(|a| a.str().to_string()).unwrap_or_default();
    let (mut icase, mut global) = (false, false);
    for c in flags.chars() {
        match c {
            'i' => icase = true,
            'g' => global = true,
            _ => {
                return Err(format!(
                    "invalid regex flag '{c}', only 'i' and 'g' are supported"
                ));
            }
        }
    }
    let re = regex::bytes::RegexBuilder::new(&pat)
        .case_insensitive(icase)
        .unicode(false)
        .build()
        .map_err(|e| format!("regex '{pat}' is invalid ({e})"))?;
    let subst = args.get(1).map(|a| a.str().to_string()).unwrap_or_default();
    *args = vec![Arg::Reg(re), Arg::Str(subst), Arg::Sint(i64::from(global))];
    Ok(())
}

/// Appends `subst` with `\0`..`\9` replaced by the groups of `caps`.
fn expand(subst: &[u8], caps: Option<&regex::bytes::Captures<'_>>, v: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&c) = subst.get(i) {
        match (c, subst.get(i + 1)) {
            (b'\\', Some(d)) if d.is_ascii_digit() => {
                let g = usize::from(d - b'0');
                if let Some(m) = caps.and_then(|c| c.get(g)) {
                    v.extend_from_slice(m.as_bytes());
                }
                i += 2;
            }
            _ => {
                v.push(c);
                i += 1;
            }
        }
    }
}

/// Replaces the first (or every, with `g`) match. Back-references need
/// the regex's capture groups, which the regex crate allocates per
/// match; a substitution without `\N` uses the allocation-free search.
fn conv_regsub<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let Some(Arg::Reg(re)) = a.first() else {
        return None;
    };
    let subst = a.get(1).map_or("", Arg::str).as_bytes();
    let global = a.get(2).is_some_and(|a| a.int() != 0);
    let refs = subst
        .windows(2)
        .any(|w| matches!(w, [b'\\', d] if d.is_ascii_digit()));
    build(s, cx, false, |b, v| {
        let mut last = 0;
        let mut put = |start: usize,
                       end: usize,
                       caps: Option<&regex::bytes::Captures<'_>>,
                       v: &mut Vec<u8>| {
            v.extend_from_slice(b.get(last..start).unwrap_or(&[]));
            expand(subst, caps, v);
            last = end;
        };
        if refs {
            for caps in re.captures_iter(b) {
                if let Some(m) = caps.get(0) {
                    put(m.start(), m.end(), Some(&caps), v);
                }
                if !global {
                    break;
                }
            }
        } else {
            for m in re.find_iter(b) {
                put(m.start(), m.end(), None, v);
                if !global {
                    break;
                }
            }
        }
        v.extend_from_slice(b.get(last..).unwrap_or(&[]));
        true
    })
}

/// `concat([<start>],[<var>],[<end>])`: a missing variable adds nothing.
fn conv_concat<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let mut var = cx.pool.get();
    var_bytes(a.get(1), T::Str, cx, &mut var);
    let out = build(s, cx, false, |b, v| {
        v.extend_from_slice(b);
        v.extend_from_slice(a.first().map_or("", Arg::str).as_bytes());
        v.extend_from_slice(&var);
        v.extend_from_slice(a.get(2).map_or("", Arg::str).as_bytes());
        true
    });
    cx.pool.put(var);
    out
}

/// `strcmp(<var>)`: the difference of the first differing bytes, else
/// -1, 0 or 1 as the input is shorter, as long or longer; fails when the
/// variable is unset.
fn conv_strcmp<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let mut var = cx.pool.get();
    let found = var_bytes(a.first(), T::Str, cx, &mut var);
    let b = s.bytes().unwrap_or(&[]);
    let n = b
        .iter()
        .zip(var.iter())
        .map(|(x, y)| i64::from(*x) - i64::from(*y))
        .find(|d| *d != 0)
        .unwrap_or_else(|| b.len().cmp(&var.len()) as i64);
    cx.pool.put(var);
    let flags = s.flags;
    s.recycle(cx.pool);
    found.then(|| with_flags(Smp::Sint(n), flags))
}

/// `secure_memcmp(<var>)`: equality in time independent of where the
/// contents differ (when the lengths are equal).
fn conv_secure_memcmp<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let mut var = cx.pool.get();
    let found = var_bytes(a.first(), T::Bin, cx, &mut var);
    let b = s.bytes().unwrap_or(&[]);
    let eq = b.len() == var.len()
        && b.iter()
            .zip(var.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0;
    cx.pool.put(var);
    let flags = s.flags;
    s.recycle(cx.pool);
    found.then(|| with_flags(Smp::Bool(eq), flags))
}

#[cfg(test)]
mod tests {
    use super::super::conv::testutil::{check, eval};

    /// Expected values printed by HAProxy 2.6.12 for the same expressions
    /// (`<none>`: the sample was missing, `-m found` false).
    #[test]
    fn fields_and_words_match_haproxy() {
        check(&[
            ("str(f1_f2_f3__f5),field(5,_)", "f5"),
            ("str(f1_f2_f3__f5),field(2,_,0)", "f2_f3__f5"),
            ("str(f1_f2_f3__f5),field(2,_,2)", "f2_f3"),
            ("str(f1_f2_f3__f5),field(-2,_,3)", "f2_f3_"),
            ("str(f1_f2_f3__f5),field(-3,_,0)", "f1_f2_f3"),
            ("str(f1_f2_f3__f5),field(9,_)", "<none>"),
            ("str(a_b_c),field(-5,_)", "<none>"),
            ("str(a_b_c),field(2,_,-1)", "b_c"),
            ("str(a_b_c),field(2,_,5)", "b_c"),
            ("str(a_b_c),field(2,_,0)", "b_c"),
            ("str(a_b_c),field(-1,_,0)", "a_b_c"),
            ("str(a_b_c),field(-1,_,2)", "b_c"),
            ("str(a_b.c),field(3,_.)", "c"),
            ("str(f1_f2_f3__f5),word(4,_)", "f5"),
            ("str(f1_f2_f3__f5),word(2,_,0)", "f2_f3__f5"),
            ("str(f1_f2_f3__f5),word(3,_,2)", "f3__f5"),
            ("str(f1_f2_f3__f5),word(-2,_,3)", "f1_f2_f3"),
            ("str(f1_f2_f3__f5),word(-3,_,0)", "f1_f2"),
            ("str(/f1/f2/f3/f4),word(1,/)", "f1"),
            ("str(/f1/f2/f3/f4/),word(-1,/)", "f4"),
            ("str(__a__b__),word(1,_)", "a"),
            ("str(__a__b__),word(-1,_)", "b"),
            ("str(__a__b__),word(3,_)", ""),
            ("str(__a__b__),word(2,_,5)", "b__"),
            ("str(_a_b_c_),word(-2,_,0)", "_a_b"),
            ("str('a b c'),word(2,' ')", "b"),
        ]);
        assert!(eval("str(abc),field(0,_)").contains("Unexpected value 0 for index."));
        assert!(eval("str(abc),word(0,_)").contains("Unexpected value 0 for index."));
    }

    #[test]
    fn slices_match_haproxy() {
        check(&[
            ("str(hello),bytes(1,3)", "ell"),
            ("str(hello),bytes(1)", "ello"),
            ("str(hello),bytes(9)", ""),
            ("str(hello),bytes(5)", ""),
            ("str(hello),bytes(3,9)", "lo"),
            ("str(hello),bytes(0,0)", ""),
            ("str(hello),bytes(-1)", ""),
            ("str(hello),bytes(2,-1)", "llo"),
            ("str(xxhixx),ltrim(x)", "hixx"),
            ("str(xxhixx),rtrim(x)", "xxhi"),
            ("str(xxhixx),ltrim(xh)", "ixx"),
            ("str(xxx),rtrim(x)", ""),
            ("int(2),ltrim(a)", "2"),
            ("str(hello),ltrim()", "hello"),
        ]);
    }

    #[test]
    fn regsub_matches_haproxy() {
        check(&[
            ("str(abcABC),regsub(b,X)", "aXcABC"),
            ("str(abcABCb),regsub(b,X,g)", "aXcABCX"),
            ("str(abcABCb),regsub(b,X,ig)", "aXcAXCX"),
            (
                "str(foo12bar),regsub('(foo|bar)([0-9]+)?','\\2\\1',g)",
                "12foobar",
            ),
            ("str(foo12bar),regsub(o,'[\\0]',g)", "f[o][o]12bar"),
            ("str(foo12bar),regsub('(o)','[\\3]',g)", "f[][]12bar"),
            ("str(abc),regsub('x*','-',g)", "-a-b-c-"),
            ("str(abc),regsub('x*','-')", "-abc"),
            ("str(abc),regsub(x,y)", "abc"),
            ("str(abc),regsub(b,X),upper", "AXC"),
        ]);
        assert!(
            eval("str(aaa),regsub('a','b',x)")
                .contains("invalid regex flag 'x', only 'i' and 'g' are supported")
        );
        assert!(eval("str(hello),regsub('(',x)").contains("regex '(' is invalid"));
        assert!(eval("str(hello),regsub(l)").contains("missing arguments"));
    }

    #[test]
    fn concat_and_compare_match_haproxy() {
        check(&[
            ("str(hello),concat(<,txn.s,>)", "hello<hello>"),
            ("str(hello),concat(<,txn.nope,>)", "hello<>"),
            ("str(hello),concat(,txn.x)", "hello5"),
            ("str(hello),concat(-)", "hello-"),
            ("str(hello),concat(,,>)", "hello>"),
            ("int(5),concat(a)", "5a"),
            ("str(hello),strcmp(txn.s)", "0"),
            ("str(hello),strcmp(txn.t)", "-1"),
            ("str(hellp),strcmp(txn.s)", "1"),
            ("str(hell),strcmp(txn.s)", "-1"),
            ("str(hellox),strcmp(txn.s)", "1"),
            ("str(he),strcmp(txn.s)", "-1"),
            ("str(hellozz),strcmp(txn.s)", "1"),
            ("str(hello),strcmp(txn.x)", "51"),
            ("str(5),strcmp(txn.x)", "0"),
            ("str(hello),strcmp(txn.nope)", "<none>"),
            ("str(hello),secure_memcmp(txn.s)", "1"),
            ("str(hellp),secure_memcmp(txn.s)", "0"),
            ("str(hell),secure_memcmp(txn.s)", "0"),
            ("str(hello),secure_memcmp(txn.nope)", "<none>"),
        ]);
        assert!(eval("str(hello),concat(a,b)").contains("failed to register variable name 'b'"));
        assert!(eval("str(hello),strcmp").contains("missing variable name"));
        assert!(
            eval("str(hello),secure_memcmp(hello)")
                .contains("failed to register variable name 'hello'")
        );
    }

    /// Whole expressions through `SampleExpr::parse`: type checks between
    /// converters happen at parse time, as `haproxy -c` does them.
    #[test]
    fn expressions_parse_and_type_check_like_haproxy() {
        check(&[
            (
                "str(hello),sha2(256),hex",
                "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
            ),
            ("int(7),add(3),mul(2)", "20"),
            ("int(1),ipmask(24)", "0.0.0.0"),
            ("int(1),json", "1"),
            ("ipv6(::1),hex2i", "<none>"),
        ]);
        assert_eq!(
            eval("ipv6(::1),add(1)"),
            "<error: converter 'add' cannot be applied.>"
        );
        assert_eq!(
            eval("str(a),sha1,ipmask(24)"),
            "<error: converter 'ipmask' cannot be applied.>"
        );
        assert!(eval("str(hello),bytes").starts_with("<error"));
        assert!(eval("str(hello),ipmask").starts_with("<error"));
    }
}
