//! Encoding, hash and digest converters (configuration.txt 7.3.1): `hex`,
//! `hex2i`, `base64`, `b64dec`, `ub64enc`, `ub64dec`, `url_enc`,
//! `url_dec`, `json`, `be2dec`, `be2hex`, the 32/64-bit hashes (`djb2`,
//! `sdbm`, `wt6`, `crc32`, `crc32c`, `xxh32`, `xxh64`) and the digests
//! (`sha1`, `sha2`, `digest`, `hmac`).
//!
//! Hash algorithms live in `conv_hash`, digests in `conv_digest`; this
//! file adapts them to samples. A 32-bit hash is returned as an unsigned
//! value in a signed integer, a 64-bit one as its two's complement, as
//! HAProxy does.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::conv::{build, def, defc, with_flags};
use super::conv_digest::{self as dg, Algo};
use super::conv_hash as h;
use super::expr::{Arg, ArgKind as K, ConvDef, EvalCx, ParseCx};
use super::sample::{Sample, Smp, SmpType as T};
use std::fmt::Write as _;

#[rustfmt::skip]
pub const ENC: &[ConvDef] = &[
    def("hex", &[], 0, T::Bin, T::Str, |_, s, cx| build(s, cx, false, |b, v| { push_hex(v, b); true })),
    def("hex2i", &[], 0, T::Str, T::Sint, conv_hex2i),
    def("base64", &[], 0, T::Bin, T::Str, |_, s, cx| build(s, cx, false, |b, v| { b64_encode(b, v, false); true })),
    def("ub64enc", &[], 0, T::Bin, T::Str, |_, s, cx| build(s, cx, false, |b, v| { b64_encode(b, v, true); true })),
    def("b64dec", &[], 0, T::Str, T::Bin, |_, s, cx| build(s, cx, true, |b, v| b64_decode(b, v, false))),
    def("ub64dec", &[], 0, T::Str, T::Bin, |_, s, cx| build(s, cx, true, |b, v| b64_decode(b, v, true))),
    defc("url_enc", &[K::Str], 0, T::Str, T::Str, |_, s, cx| build(s, cx, false, |b, v| { url_encode(b, v); true }), check_url_enc),
    def("url_dec", &[K::Sint], 0, T::Str, T::Str, |a, s, cx| {
        let form = a.first().is_some_and(|a| a.int() != 0);
        build(s, cx, false, |b, v| url_decode(b, v, form))
    }),
    defc("json", &[K::Str], 0, T::Str, T::Str, |a, s, cx| {
        let mode = a.first().map_or(0, Arg::int);
        build(s, cx, false, |b, v| json_escape(b, v, mode))
    }, check_json),
    defc("be2dec", &[K::Str, K::Sint, K::Sint], 1, T::Bin, T::Str, |a, s, cx| be2(a, s, cx, false), check_be2dec),
    def("be2hex", &[K::Str, K::Sint, K::Sint], 0, T::Bin, T::Str, |a, s, cx| be2(a, s, cx, true)),
    def("djb2", &[K::Sint], 0, T::Bin, T::Sint, |a, s, cx| hash32(a, s, cx, h::djb2)),
    def("sdbm", &[K::Sint], 0, T::Bin, T::Sint, |a, s, cx| hash32(a, s, cx, h::sdbm)),
    def("wt6", &[K::Sint], 0, T::Bin, T::Sint, |a, s, cx| hash32(a, s, cx, h::wt6)),
    def("crc32", &[K::Sint], 0, T::Bin, T::Sint, |a, s, cx| hash32(a, s, cx, h::crc32)),
    def("crc32c", &[K::Sint], 0, T::Bin, T::Sint, |a, s, cx| hash32(a, s, cx, h::crc32c)),
    def("xxh32", &[K::Sint], 0, T::Bin, T::Sint, |a, s, cx| {
        let seed = a.first().map_or(0, Arg::int) as u32;
        hash_any(s, cx, |b| i64::from(h::xxh32(b, seed)))
    }),
    def("xxh64", &[K::Sint], 0, T::Bin, T::Sint, |a, s, cx| {
        let seed = a.first().map_or(0, Arg::int) as u64;
        hash_any(s, cx, |b| h::xxh64(b, seed) as i64)
    }),
    def("sha1", &[], 0, T::Bin, T::Bin, |_, s, cx| build(s, cx, true, |b, v| { dg::digest(Algo::Sha1, b, v); true })),
    defc("sha2", &[K::Sint], 0, T::Bin, T::Bin, conv_digest, check_sha2),
    defc("digest", &[K::Str], 0, T::Bin, T::Bin, conv_digest, check_digest),
    defc("hmac", &[K::Str, K::Str], 2, T::Bin, T::Bin, conv_hmac, check_hmac),
];

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `b` as upper-case hex digits.
pub fn push_hex(v: &mut Vec<u8>, b: &[u8]) {
    v.reserve(b.len() * 2);
    for &c in b {
        v.push(hex_digit(c >> 4));
        v.push(hex_digit(c & 15));
    }
}

fn hex_digit(n: u8) -> u8 {
    HEX.get(usize::from(n)).copied().unwrap_or(b'0')
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `hex2i`: hex digits to an integer, shifting older digits out; any
/// other character fails the conversion.
fn conv_hex2i<'a>(_: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let flags = s.flags;
    let n = s
        .bytes()
        .unwrap_or(&[])
        .iter()
        .try_fold(0i64, |n, &c| Some((n << 4) | i64::from(unhex(c)?)));
    s.recycle(cx.pool);
    Some(with_flags(Smp::Sint(n?), flags))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Appends the base64 (RFC 4648 4, padded) or base64url (5, unpadded)
/// encoding of `b`.
pub fn b64_encode(b: &[u8], v: &mut Vec<u8>, url: bool) {
    let alpha = if url { B64URL } else { B64 };
    let sym = |n: u32| alpha.get((n & 63) as usize).copied().unwrap_or(b'=');
    for c in b.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
        let out = c.len() + 1;
        for i in 0..4 {
            if i < out {
                v.push(sym(n >> (18 - 6 * i)));
            } else if !url {
                v.push(b'=');
            }
        }
    }
}

fn b64_val(c: u8, url: bool) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' if !url => 62,
        b'/' if !url => 63,
        b'-' if url => 62,
        b'_' if url => 63,
        _ => return None,
    } as u32)
}

/// Decodes base64 (length a multiple of 4, each quad may end in one or
/// two `=`) or base64url (no padding; a length of 4n+1 is refused).
/// Appends to `v`; false on a malformed input.
pub fn b64_decode(b: &[u8], v: &mut Vec<u8>, url: bool) -> bool {
    if (!url && !b.len().is_multiple_of(4)) || (url && b.len() % 4 == 1) {
        return false;
    }
    for q in b.chunks(4) {
        let (mut n, mut pad) = (0u32, 0usize);
        for (i, &c) in q.iter().enumerate() {
            match b64_val(c, url) {
                Some(d) if pad == 0 => n |= d << (18 - 6 * i),
                None if c == b'=' && !url && i >= 2 => pad += 1,
                _ => return false,
            }
        }
        let bytes = q.len() - 1 - pad;
        v.extend(n.to_be_bytes().iter().skip(1).take(bytes));
    }
    true
}

// The signature is `CheckFn`'s, shared with checks that push arguments.
#[allow(clippy::ptr_arg)]
fn check_url_enc(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    match args.first().map(Arg::str) {
        None | Some("query") => Ok(()),
        Some(_) => Err("Unexpected encode type. Allowed value is 'query'".into()),
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters.
pub fn url_encode(b: &[u8], v: &mut Vec<u8>) {
    for &c in b {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            v.push(c);
        } else {
            v.extend_from_slice(&[b'%', hex_digit(c >> 4), hex_digit(c & 15)]);
        }
    }
}

/// Decodes `%XX` escapes (a malformed one fails) and, in a form or after
/// a `?`, `+` as a space.
pub fn url_decode(b: &[u8], v: &mut Vec<u8>, mut form: bool) -> bool {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'%' => {
                let hi = b.get(i + 1).copied().and_then(unhex);
                let lo = b.get(i + 2).copied().and_then(unhex);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return false;
                };
                v.push(hi << 4 | lo);
                i += 3;
                continue;
            }
            b'+' if form => v.push(b' '),
            b'?' => {
                form = true;
                v.push(c);
            }
            _ => v.push(c),
        }
        i += 1;
    }
    true
}

const JSON_MODES: [&str; 5] = ["ascii", "utf8", "utf8s", "utf8p", "utf8ps"];

fn check_json(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    let mode = match args.first().map(Arg::str) {
        None | Some("") => 0,
        Some(m) => JSON_MODES.iter().position(|x| *x == m).ok_or(
            "Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'",
        )?,
    };
    args.clear();
    args.push(Arg::Sint(mode as i64));
    Ok(())
}

/// One UTF-8 character at the start of `b`: its length and code point,
/// whether it was overlong, or None (with the bytes to skip) when the
/// sequence is broken or out of range.
fn utf8_char(b: &[u8]) -> (usize, Option<(u32, bool)>) {
    let Some(&c0) = b.first() else {
        return (0, None);
    };
    let (len, init, min) = match c0 {
        0x00..=0x7f => return (1, Some((u32::from(c0), false))),
        0xc0..=0xdf => (2, u32::from(c0 & 0x1f), 0x80),
        0xe0..=0xef => (3, u32::from(c0 & 0x0f), 0x800),
        0xf0..=0xf7 => (4, u32::from(c0 & 0x07), 0x10000),
        _ => return (1, None),
    };
    let mut cp = init;
    for i in 1..len {
        match b.get(i) {
            Some(&c) if c & 0xc0 == 0x80 => cp = cp << 6 | u32::from(c & 0x3f),
            _ => return (i, None),
        }
    }
    if (0xd800..=0xdfff).contains(&cp) || cp > 0x10ffff {
        return (len, None);
    }
    (len, Some((cp, cp < min)))
}

/// JSON string escaping of `b` (HAProxy's `json` converter): `mode` is
/// the index in `JSON_MODES`. False when the input must be refused.
pub fn json_escape(b: &[u8], v: &mut Vec<u8>, mode: i64) -> bool {
    let (utf8, skip, fix) = match mode {
        1 => (true, false, false),
        2 => (true, true, false),
        3 => (true, false, true),
        4 => (true, true, true),
        _ => (false, false, false),
    };
    let mut rest = b;
    while !rest.is_empty() {
        let (len, cp) = if utf8 {
            utf8_char(rest)
        } else {
            (1, rest.first().map(|&c| (u32::from(c), false)))
        };
        rest = rest.get(len.max(1)..).unwrap_or(&[]);
        let cp = match cp {
            Some((cp, overlong)) if !overlong || fix => cp,
            _ if skip => continue,
            _ => return false,
        };
        match cp {
            0x22 => v.extend_from_slice(b"\\\""),
            0x5c => v.extend_from_slice(b"\\\\"),
            0x2f => v.extend_from_slice(b"\\/"),
            0x08 => v.extend_from_slice(b"\\b"),
            0x0c => v.extend_from_slice(b"\\f"),
            0x0a => v.extend_from_slice(b"\\n"),
            0x0d => v.extend_from_slice(b"\\r"),
            0x09 => v.extend_from_slice(b"\\t"),
            0x20..=0x7e => v.push(cp as u8),
            0..=0xffff => {
                let lower = |n: u32| {
                    b"0123456789abcdef"
                        .get((n & 15) as usize)
                        .copied()
                        .unwrap_or(b'0')
                };
                v.extend_from_slice(b"\\u");
                for sh in [12, 8, 4, 0] {
                    v.push(lower(cp >> sh));
                }
            }
            // Beyond 4 hex digits: JSON's \u cannot say it.
            _ if skip => {}
            _ => return false,
        }
    }
    true
}

// The signature is `CheckFn`'s, shared with checks that push arguments.
#[allow(clippy::ptr_arg)]
fn check_be2dec(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    let n = args.get(1).map_or(0, Arg::int);
    if !(1..=8).contains(&n) {
        return Err(format!("chunk_size out of [1..8] range ({n})"));
    }
    Ok(())
}

/// `be2dec(<sep>,<chunk>[,<truncate>])` and `be2hex([<sep>],[<chunk>],
/// [<truncate>])`: one number (decimal) or hex run per chunk, `<sep>`
/// between chunks; `<truncate>` drops a short last chunk.
fn be2<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>, hex: bool) -> Option<Sample<'a>> {
    let sep = a.first().map_or("", Arg::str).as_bytes();
    let chunk = a.get(1).map_or(0, Arg::int);
    let trunc = a.get(2).is_some_and(|a| a.int() != 0);
    build(s, cx, false, |b, v| {
        let size = match usize::try_from(chunk) {
            Ok(n) if n > 0 => n,
            _ => b.len().max(1),
        };
        for (i, c) in b.chunks(size).enumerate() {
            if trunc && c.len() < size {
                break;
            }
            if i > 0 {
                v.extend_from_slice(sep);
            }
            if hex {
                push_hex(v, c);
            } else {
                let n = c.iter().fold(0u64, |n, &x| n << 8 | u64::from(x));
                let _ = write!(super::sample::Vw(v), "{n}");
            }
        }
        true
    })
}

/// A hash over the input's bytes, as an integer sample.
fn hash_any<'a>(
    s: Sample<'a>,
    cx: &mut EvalCx<'_>,
    f: impl FnOnce(&[u8]) -> i64,
) -> Option<Sample<'a>> {
    let flags = s.flags;
    let n = f(s.bytes().unwrap_or(&[]));
    s.recycle(cx.pool);
    Some(with_flags(Smp::Sint(n), flags))
}

/// A 32-bit hash, mixed by `avalanche` when the argument is non-zero.
fn hash32<'a>(
    a: &[Arg],
    s: Sample<'a>,
    cx: &mut EvalCx<'_>,
    f: fn(&[u8]) -> u32,
) -> Option<Sample<'a>> {
    let mix = a.first().is_some_and(|a| a.int() != 0);
    hash_any(s, cx, |b| {
        let n = f(b);
        i64::from(if mix { h::avalanche(n) } else { n })
    })
}

fn check_sha2(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    let bits = args.first().map_or(256, Arg::int);
    let algo = match bits {
        224 => Algo::Sha224,
        256 => Algo::Sha256,
        384 => Algo::Sha384,
        512 => Algo::Sha512,
        _ => return Err(format!("Unsupported number of bits: '{bits}'")),
    };
    *args = vec![Arg::Sint(algo.index())];
    Ok(())
}

fn parse_algo(a: Option<&Arg>) -> Result<Arg, String> {
    Algo::from_name(a.map_or("", Arg::str))
        .map(|x| Arg::Sint(x.index()))
        .ok_or_else(|| "algorithm must be a valid OpenSSL message digest name.".to_string())
}

fn check_digest(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    *args = vec![parse_algo(args.first())?];
    Ok(())
}

/// `sha2` and `digest`: the algorithm index is the first argument.
fn conv_digest<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let algo = Algo::from_index(a.first()?.int())?;
    build(s, cx, true, |b, v| {
        dg::digest(algo, b, v);
        true
    })
}

/// `hmac(<algorithm>,<key>)`: the key is base64, given inline (checked
/// here, decoded per call into a pooled buffer) or in a variable.
fn check_hmac(args: &mut Vec<Arg>, cx: &mut ParseCx<'_>) -> Result<(), String> {
    let algo = parse_algo(args.first())?;
    let key = args.get(1).map(|a| a.str().to_string()).unwrap_or_default();
    let key = match cx.store.vars.parse_ref(&key) {
        Ok(r) => Arg::Var(r),
        Err(_) if !key.is_empty() && b64_decode(key.as_bytes(), &mut Vec::new(), false) => {
            Arg::Str(key)
        }
        Err(_) => {
            return Err("failed to parse key : argument needs to be base64 encoded, and can either be a string or a variable".into());
        }
    };
    *args = vec![algo, key];
    Ok(())
}

fn conv_hmac<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let algo = Algo::from_index(a.first()?.int())?;
    let mut text = cx.pool.get();
    let ok = match a.get(1) {
        Some(Arg::Str(k)) => {
            text.extend_from_slice(k.as_bytes());
            true
        }
        k => super::conv::var_bytes(k, T::Str, cx, &mut text),
    };
    let mut key = cx.pool.get();
    let ok = ok && b64_decode(&text, &mut key, false);
    cx.pool.put(text);
    let out = if ok {
        build(s, cx, true, |b, v| {
            dg::hmac(algo, &key, b, v);
            true
        })
    } else {
        s.recycle(cx.pool);
        None
    };
    cx.pool.put(key);
    out
}

#[cfg(test)]
mod tests {
    use super::super::conv::testutil::{check, eval};

    /// Expected values printed by HAProxy 2.6.12 for the same expressions.
    #[test]
    fn encodings_match_haproxy() {
        check(&[
            ("str(1A2b),hex2i", "6699"),
            ("str(zz),hex2i", "<none>"),
            ("str(12x),hex2i", "<none>"),
            ("str(x),bytes(1),hex2i", "0"),
            ("str(abc),hex2i", "2748"),
            ("str(ffffffffffffffffff),hex2i", "-1"),
            ("str(ffffffffffffffffff0),hex2i", "-16"),
            ("str(7fffffffffffffff),hex2i", "9223372036854775807"),
            ("str(hello),hex,hex2i", "448378203247"),
            ("str(hi),hex", "6869"),
            ("int(2),hex", "0000000000000002"),
            ("int(255),hex", "00000000000000FF"),
            ("bool(1),hex", "0000000000000001"),
            ("ipv4(1.2.3.4),hex", "01020304"),
            ("ipv6(::1),hex", "00000000000000000000000000000001"),
            ("str(hello),base64", "aGVsbG8="),
            ("int(2),base64", "AAAAAAAAAAI="),
            ("str(??>),base64", "Pz8+"),
            ("str(??>),ub64enc", "Pz8-"),
            ("str(aGVsbG8=),b64dec", "hello"),
            ("str(aGVs),b64dec", "hel"),
            ("str(YQ==),b64dec", "a"),
            ("str(YQ=),b64dec", "<none>"),
            ("str(aGVsbG8),b64dec", "<none>"),
            ("str(aGVsbG8=x),b64dec", "<none>"),
            ("str(x),bytes(1),b64dec", ""),
            ("str(Pz8-),ub64dec", "??>"),
            ("str(Pz8),ub64dec", "??"),
            ("str(aGVsbA),ub64dec", "hell"),
            ("str(aGVsb),ub64dec", "<none>"),
            ("str(a-_b),ub64dec,hex", "6BEFDB"),
            ("str(hello),url_enc", "hello"),
            ("str(ab),url_enc(query)", "ab"),
            ("str('a b&c=d/~'),url_enc", "a%20b%26c%3Dd%2F~"),
            ("str(a%20b+c%2),url_dec", "<none>"),
            ("str(a%20b+c),url_dec(1)", "a b c"),
            ("str(x?a+b),url_dec", "x?a b"),
            ("str(a%zzb),url_dec", "<none>"),
            ("str(a%41b),url_dec", "aAb"),
            ("str(a+b?c+d),url_dec(0)", "a+b?c d"),
            ("str(a%2B),url_dec(1)", "a+"),
            ("str(%4),url_dec", "<none>"),
            ("bin(01020304050607),be2dec(:,2)", "258:772:1286:7"),
            ("bin(01020304050607),be2dec(-,2,1)", "258-772-1286"),
            ("bin(7f000001),be2dec(.,1)", "127.0.0.1"),
            ("bin(01020304050607),be2hex(:,2)", "0102:0304:0506:07"),
            ("bin(0102030405060708),be2hex(,3,1)", "010203040506"),
            ("bin(01020304050607),be2hex", "01020304050607"),
        ]);
        assert!(eval("str(ab),url_enc(path)").contains("Allowed value is 'query'"));
        assert!(eval("str(hello),be2dec(:)").contains("chunk_size out of [1..8] range (0)"));
    }

    /// The header values sent to HAProxy, built byte for byte.
    #[test]
    fn json_matches_haproxy() {
        let j: &[u8] = b"a\"b\\c/d\x01\xc3\xa9<";
        let u: &[u8] = b"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80-\xc0\xaf-\x80-\t\xff";
        let cases: &[(&[u8], i64, Option<&str>)] = &[
            (j, 0, Some(r#"a\"b\\c\/d\u0001\u00c3\u00a9<"#)),
            (j, 1, Some(r#"a\"b\\c\/d\u0001\u00e9<"#)),
            (j, 2, Some(r#"a\"b\\c\/d\u0001\u00e9<"#)),
            (j, 3, Some(r#"a\"b\\c\/d\u0001\u00e9<"#)),
            (
                u,
                0,
                Some(
                    r#"\u00c3\u00a9\u00e2\u0082\u00ac\u00f0\u009f\u0098\u0080-\u00c0\u00af-\u0080-\t\u00ff"#,
                ),
            ),
            (u, 1, None),
            (u, 2, Some(r#"\u00e9\u20ac---\t"#)),
            (u, 3, None),
            (u, 4, Some(r#"\u00e9\u20ac-\/--\t"#)),
            (
                b"\n\r\x08\t\x0c\x1f\x7f'\"",
                0,
                Some(r#"\n\r\b\t\f\u001f\u007f'\""#),
            ),
        ];
        for (input, mode, want) in cases {
            let mut v = Vec::new();
            let ok = super::json_escape(input, &mut v, *mode);
            let got = ok.then(|| String::from_utf8_lossy(&v).into_owned());
            assert_eq!(got.as_deref(), *want, "mode {mode} on {input:?}");
        }
        assert_eq!(eval("str(x),json(utf8s)"), "x");
        assert!(eval("str(x),json(foo)").contains("Unexpected input code type"));
    }

    #[test]
    fn hashes_match_haproxy() {
        check(&[
            ("str(hello),sdbm", "684824882"),
            ("str(hello),sdbm(1)", "2061535398"),
            ("str(hello),djb2", "261238937"),
            ("str(hello),djb2(1)", "1119739105"),
            ("str(hello),djb2(2)", "1119739105"),
            ("str(hello),wt6", "3538347703"),
            ("str(hello),wt6(1)", "140457739"),
            ("str(hello),crc32", "907060870"),
            ("str(hello),crc32(0)", "907060870"),
            ("str(hello),crc32(1)", "3902247103"),
            ("str(hello),crc32c", "2591144780"),
            ("str(hello),crc32c(1)", "2290590055"),
            ("str(hello),xxh32", "4211111929"),
            ("str(hello),xxh32(1)", "4244634537"),
            ("str(hello),xxh32(-1)", "655458443"),
            ("str(hello),xxh64", "2794345569481354659"),
            ("str(hello),xxh64(1)", "2584346877953614258"),
            ("str(hello),xxh64(-1)", "125878816811915416"),
            ("str(x),bytes(1),xxh64", "-1205034819632174695"),
            ("str(x),bytes(1),crc32", "0"),
            ("str(x),bytes(1),djb2", "5381"),
            ("str(x),bytes(1),wt6", "4187620192"),
            ("str(x),bytes(1),sdbm", "0"),
            ("str(x),bytes(1),xxh32", "46947589"),
            ("int(5),sdbm", "5"),
        ]);
    }

    #[test]
    fn digests_match_haproxy() {
        check(&[
            (
                "str(hello),sha1,hex",
                "AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D",
            ),
            (
                "int(1700000000),sha1,hex",
                "55070AD41EAA19C349DA80ED24840246A3EDA4A0",
            ),
            (
                "str(hello),sha2,hex",
                "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
            ),
            (
                "str(hello),sha2(224),hex",
                "EA09AE9CC6768C50FCEE903ED054556E5BFC8347907F12598AA24193",
            ),
            (
                "str(hello),sha2(384),hex",
                "59E1748777448C69DE6B800D7A33BBFB9FF1B463E44354C3553BCDB9C666FA90125A3C79F90397BDF5F6A13DE828684F",
            ),
            (
                "str(hello),sha2(512),hex",
                "9B71D224BD62F3785D96D46AD3EA3D73319BFBC2890CAADAE2DFF72519673CA72323C3D99BA5C11D7C7ACC6E14B8C5DA0C4663475C2E5C3ADEF46F73BCDEC043",
            ),
            (
                "str(hello),digest(md5),hex",
                "5D41402ABC4B2A76B9719D911017C592",
            ),
            (
                "str(hello),digest(SHA256),hex",
                "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
            ),
            (
                "str(hello),hmac(sha256,a2V5),hex",
                "9307B3B915EFB5171FF14D8CB55FBCC798C6C0EF1456D66DED1A6AA723A58B7B",
            ),
            (
                "str(hello),hmac(md5,txn.k),hex",
                "04130747AFCA4D79E32E87CF2104F087",
            ),
            (
                "str(hello),hmac(sha1,a2V5),hex",
                "B34CEAC4516FF23A143E61D79D0FA7A4FBE5F266",
            ),
            (
                "str(hello),hmac(sha224,a2V5),hex",
                "6B30A4ECBE38B6A90D7DD0AC3EF17AA68C0AA8BD5C79D2B219F4E6F6",
            ),
            (
                "str(hello),hmac(sha384,a2V5),hex",
                "EACBAD575C301FA68AFB26DAE48B25BF5CD42FD08ED28C08C274CE62DF7928F01249976CD8AAF1AB0681D3ACCEDC9543",
            ),
            (
                "str(hello),hmac(sha512,a2V5),hex",
                "FF06AB36757777815C008D32C8E14A705B4E7BF310351A06A23B612DC4C7433E7757D20525A5593B71020EA2EE162D2311B247E9855862B270122419652C0C92",
            ),
            (
                "str(hello),hmac(sha256,YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh),hex",
                "99791C77007CDD5008E85B2A0A36D3209906D47F1F4FA824BFD81B3B6E2B349D",
            ),
            ("str(hello),hmac(sha512,txn.nope),hex", "<none>"),
        ]);
        assert!(eval("str(hello),sha2(100)").contains("Unsupported number of bits: '100'"));
        assert!(eval("str(hello),digest(nope)").contains("valid OpenSSL message digest name"));
        assert!(eval("str(hello),digest").contains("valid OpenSSL message digest name"));
        assert!(eval("str(hello),hmac(sha1,!!!)").contains("argument needs to be base64 encoded"));
    }
}
