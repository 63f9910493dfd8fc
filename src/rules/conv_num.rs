//! Integer, address and date converters (configuration.txt 7.3.1): `add`
//! to `even`, `ipmask`, `ltime`, `utime`, `http_date`.
//!
//! The arithmetic converters take an integer or a variable name; `check`
//! turns the word into `Arg::Sint` or `Arg::Var` at parse time. They
//! saturate instead of wrapping, as HAProxy does: `div(0)` and the one
//! overflowing division give `i64::MAX`, `mod(0)` gives 0.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::conv::{def, defc, str_out, with_flags};
use super::expr::{Arg, ArgKind as K, ConvDef, EvalCx, ParseCx};
use super::sample::{Sample, Smp, SmpType as T};
use std::net::{Ipv4Addr, Ipv6Addr};

#[rustfmt::skip]
pub const NUM: &[ConvDef] = &[
    defc("add", &[K::Str], 0, T::Sint, T::Sint, |a, s, cx| arith(a, s, cx, i64::saturating_add), check_int_or_var),
    defc("sub", &[K::Str], 0, T::Sint, T::Sint, |a, s, cx| arith(a, s, cx, i64::saturating_sub), check_int_or_var),
    defc("mul", &[K::Str], 0, T::Sint, T::Sint, |a, s, cx| arith(a, s, cx, i64::saturating_mul), check_int_or_var),
    defc("div", &[K::Str], 0, T::Sint, T::Sint, |a, s, cx| arith(a, s, cx, div), check_int_or_var),
    defc("mod", &[K::Str], 0, T::Sint, T::Sint, |a, s, cx| arith(a, s, cx, modulo), check_int_or_var),
    defc("and", &[K::Str], 0, T::Sint, T::Sint, |a, s, cx| arith(a, s, cx, |x, y| x & y), check_int_or_var),
    defc("or", &[K::Str], 0, T::Sint, T::Sint, |a, s, cx| arith(a, s, cx, |x, y| x | y), check_int_or_var),
    defc("xor", &[K::Str], 0, T::Sint, T::Sint, |a, s, cx| arith(a, s, cx, |x, y| x ^ y), check_int_or_var),
    def("neg", &[], 0, T::Sint, T::Sint, |_, s, _| unary(s, |n| Smp::Sint(n.saturating_neg()))),
    def("cpl", &[], 0, T::Sint, T::Sint, |_, s, _| unary(s, |n| Smp::Sint(!n))),
    def("bool", &[], 0, T::Sint, T::Bool, |_, s, _| unary(s, |n| Smp::Bool(n != 0))),
    def("not", &[], 0, T::Sint, T::Bool, |_, s, _| unary(s, |n| Smp::Bool(n == 0))),
    def("odd", &[], 0, T::Sint, T::Bool, |_, s, _| unary(s, |n| Smp::Bool(n & 1 == 1))),
    def("even", &[], 0, T::Sint, T::Bool, |_, s, _| unary(s, |n| Smp::Bool(n & 1 == 0))),
    def("ipmask", &[K::Msk4, K::Msk6], 1, T::Addr, T::Addr, conv_ipmask),
    defc("ltime", &[K::Str, K::Sint], 0, T::Sint, T::Str, |a, s, cx| conv_time(a, s, cx, true), check_time_format),
    defc("utime", &[K::Str, K::Sint], 0, T::Sint, T::Str, |a, s, cx| conv_time(a, s, cx, false), check_time_format),
    defc("http_date", &[K::Sint, K::Str], 0, T::Sint, T::Str, conv_http_date, check_date_unit),
];

fn div(x: i64, y: i64) -> i64 {
    if y == 0 {
        i64::MAX
    } else {
        x.checked_div(y).unwrap_or(i64::MAX)
    }
}

fn modulo(x: i64, y: i64) -> i64 {
    x.checked_rem(y).unwrap_or(0)
}

/// `add(<value>)` and its kin: `<value>` is an integer or a variable.
// The signature is `CheckFn`'s, shared with checks that push arguments.
#[allow(clippy::ptr_arg)]
fn check_int_or_var(args: &mut Vec<Arg>, cx: &mut ParseCx<'_>) -> Result<(), String> {
    let Some(a) = args.first_mut() else {
        return Ok(());
    };
    let w = a.str().to_string();
    *a = match w.parse::<i64>() {
        Ok(n) => Arg::Sint(n),
        Err(_) => Arg::Var(
            cx.store
                .vars
                .parse_ref(&w)
                .map_err(|_| "expects an integer or a variable name".to_string())?,
        ),
    };
    Ok(())
}

/// The integer an arithmetic argument stands for; None when it names a
/// variable that is unset or does not cast to an integer.
fn arg_int(a: Option<&Arg>, cx: &mut EvalCx<'_>) -> Option<i64> {
    match a {
        None => Some(0),
        Some(Arg::Var(r)) => {
            let smp = cx.vars.get(*r)?.sample().cast(T::Sint, cx.pool)?;
            match smp.data {
                Smp::Sint(n) => Some(n),
                _ => None,
            }
        }
        Some(a) => Some(a.int()),
    }
}

fn arith<'a>(
    a: &[Arg],
    s: Sample<'a>,
    cx: &mut EvalCx<'_>,
    op: fn(i64, i64) -> i64,
) -> Option<Sample<'a>> {
    let Smp::Sint(n) = s.data else { return None };
    let m = arg_int(a.first(), cx)?;
    Some(with_flags(Smp::Sint(op(n, m)), s.flags))
}

fn unary(s: Sample<'_>, op: impl FnOnce(i64) -> Smp<'static>) -> Option<Sample<'_>> {
    let Smp::Sint(n) = s.data else { return None };
    Some(with_flags(op(n), s.flags))
}

/// `ipmask(<mask4>[,<mask6>])`: an IPv4-mapped IPv6 address is masked as
/// IPv4; other IPv6 addresses need `<mask6>`.
fn conv_ipmask<'a>(a: &[Arg], s: Sample<'a>, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let mask = |i: usize| match a.get(i) {
        Some(Arg::Mask(m)) => Some(u32::from(*m)),
        _ => None,
    };
    let v4 = |ip: Ipv4Addr| {
        let m = u32::MAX
            .checked_shl(32 - mask(0).unwrap_or(32))
            .unwrap_or(0);
        Smp::Ipv4(Ipv4Addr::from(u32::from(ip) & m))
    };
    let data = match s.data {
        Smp::Ipv4(ip) => v4(ip),
        Smp::Ipv6(ip) => match ip.to_ipv4_mapped() {
            Some(ip4) => v4(ip4),
            None => {
                let m = u128::MAX.checked_shl(128 - mask(1)?).unwrap_or(0);
                Smp::Ipv6(Ipv6Addr::from(u128::from(ip) & m))
            }
        },
        _ => return None,
    };
    Some(with_flags(data, s.flags))
}

/// Keeps the strftime format NUL-terminated for libc.
fn check_time_format(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    match args.first_mut() {
        Some(Arg::Str(f)) => f.push('\0'),
        _ => args.insert(0, Arg::Str("\0".into())),
    }
    Ok(())
}

/// `ltime` / `utime`: strftime(3) of the input date plus the offset, in
/// local time or UTC.
fn conv_time<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>, local: bool) -> Option<Sample<'a>> {
    let Smp::Sint(n) = s.data else { return None };
    let t = n.saturating_add(a.get(1).map_or(0, Arg::int));
    let fmt = a.first().map_or("\0", Arg::str);
    let mut buf = [0u8; 256];
    let len = strftime(&mut buf, fmt, t, local)?;
    let mut v = cx.pool.get();
    v.extend_from_slice(buf.get(..len)?);
    Some(str_out(v, s.flags))
}

/// Formats `t` with `fmt` (NUL-terminated) into `buf`; the length written.
fn strftime(buf: &mut [u8], fmt: &str, t: i64, local: bool) -> Option<usize> {
    if !fmt.ends_with('\0') {
        return None;
    }
    let t = libc::time_t::try_from(t).ok()?;
    // SAFETY: `tm` is plain data that gmtime_r/localtime_r fill in; `t`
    // and `tm` outlive the calls. strftime writes at most `buf.len()`
    // bytes into `buf` and reads `fmt` up to its NUL, checked above.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        let ok = if local {
            libc::localtime_r(&t, &mut tm)
        } else {
            libc::gmtime_r(&t, &mut tm)
        };
        if ok.is_null() {
            return None;
        }
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr().cast(), &tm);
        Some(n)
    }
}

/// `http_date([<offset>[,<unit>]])`: the unit is kept as the divisor to
/// seconds (1, 1000, 1000000).
fn check_date_unit(args: &mut Vec<Arg>, _: &mut ParseCx<'_>) -> Result<(), String> {
    let unit = match args.get(1).map(Arg::str) {
        None | Some("s") => 1,
        Some("ms") => 1000,
        Some("us") => 1_000_000,
        Some(u) => return Err(format!("expects 's', 'ms' or 'us', got '{u}'")),
    };
    if args.is_empty() {
        args.push(Arg::Sint(0));
    }
    args.truncate(1);
    args.push(Arg::Sint(unit));
    Ok(())
}

/// RFC 7231 IMF-fixdate, with the sub-second part when the unit is ms or
/// us: `Tue, 14 Nov 2023 22:13:20.123 GMT`.
fn conv_http_date<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let Smp::Sint(n) = s.data else { return None };
    let unit = a.get(1).map_or(1, Arg::int).max(1);
    let t = n.saturating_add(a.first().map_or(0, Arg::int));
    let (secs, frac) = (t.div_euclid(unit), t.rem_euclid(unit));
    let mut v = cx.pool.get();
    write_http_date(&mut v, secs, frac, unit);
    Some(str_out(v, s.flags))
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Appends the HTTP date of `secs` since the epoch (UTC).
pub fn write_http_date(v: &mut Vec<u8>, secs: i64, frac: i64, unit: i64) {
    use std::fmt::Write as _;
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let wd = DAYS
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .unwrap_or(&"");
    let mon = MONTHS
        .get(usize::try_from(m - 1).unwrap_or(0))
        .unwrap_or(&"");
    let mut w = super::sample::Vw(v);
    let _ = write!(
        w,
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    match unit {
        1000 => {
            let _ = write!(w, ".{frac:03}");
        }
        1_000_000 => {
            let _ = write!(w, ".{frac:06}");
        }
        _ => {}
    }
    let _ = write!(w, " GMT");
}

/// Year, month (1-12), day (1-31) of a day count since 1970-01-01
/// (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::super::conv::testutil::{check, eval};

    /// Expected values printed by HAProxy 2.6.12 for the same expressions.
    #[test]
    fn arithmetic_matches_haproxy() {
        check(&[
            ("int(7),add(3),mul(2)", "20"),
            ("int(7),add(txn.x)", "12"),
            ("int(7),sub(txn.x)", "2"),
            ("int(7),sub(10)", "-3"),
            ("int(7),div(2)", "3"),
            ("int(-7),div(2)", "-3"),
            ("int(7),div(0)", "9223372036854775807"),
            ("int(-7),div(0)", "9223372036854775807"),
            ("int(7),div(txn.z)", "9223372036854775807"),
            ("int(7),div(txn.nope)", "<none>"),
            ("int(7),mod(3)", "1"),
            ("int(-7),mod(3)", "-1"),
            ("int(-5),mod(-3)", "-2"),
            ("int(5),mod(-3)", "2"),
            ("int(5),div(-3)", "-1"),
            ("int(7),mod(0)", "0"),
            ("int(7),neg", "-7"),
            ("int(12),and(10)", "8"),
            ("int(12),or(3)", "15"),
            ("int(12),xor(10)", "6"),
            ("int(12),cpl", "-13"),
            ("int(5),neg,cpl", "4"),
            ("int(5),add(-3)", "2"),
            ("int(3),bool", "1"),
            ("int(0),bool", "0"),
            ("int(3),not", "0"),
            ("int(3),odd", "1"),
            ("int(3),even", "0"),
            ("int(9223372036854775807),add(1)", "9223372036854775807"),
            ("int(9223372036854775807),mul(2)", "9223372036854775807"),
            ("int(-9223372036854775807),sub(5)", "-9223372036854775808"),
            ("int(-9223372036854775808),neg", "9223372036854775807"),
            ("int(-9223372036854775808),div(-1)", "9223372036854775807"),
            ("int(-9223372036854775808),mod(-1)", "0"),
            ("bool(1),add(2)", "3"),
            ("str(12),add(2)", "14"),
            ("int(1),add", "1"),
            ("int(1),add()", "1"),
        ]);
        assert!(eval("int(5),add(abc)").contains("expects an integer or a variable name"));
        assert!(eval("int(1),neg(1)").starts_with("<error"));
    }

    #[test]
    fn ipmask_matches_haproxy() {
        check(&[
            ("int(7),ipmask(24)", "0.0.0.0"),
            ("ipv4(192.168.1.77),ipmask(24)", "192.168.1.0"),
            ("ipv4(192.168.1.77),ipmask(255.255.0.0)", "192.168.0.0"),
            ("ipv6(2001:db8::1234),ipmask(24,64)", "2001:db8::"),
            ("ipv6(2001:db8::1234),ipmask(24)", "<none>"),
            ("str(10.1.2.3),ipmask(8)", "10.0.0.0"),
            ("ipv6(::ffff:10.1.2.3),ipmask(8,64)", "10.0.0.0"),
            ("ipv6(2001:db8:ffff::1),ipmask(8,ffff:ffff::)", "2001:db8::"),
            ("ipv6(2001:db8:ffff::1),ipmask(8,30)", "2001:db8::"),
            ("str(::1),ipmask(8,64)", "::"),
            ("str(-),ipmask(24)", "<none>"),
        ]);
        assert!(eval("int(7),ipmask(33)").contains("failed to parse '33' as type 'IPv4 mask'"));
    }

    #[test]
    fn dates_match_haproxy() {
        check(&[
            (
                "int(1700000000),utime(%Y-%m-%d %H:%M:%S)",
                "2023-11-14 22:13:20",
            ),
            ("int(1700000000),utime(%Y,-86400)", "2023"),
            (
                "int(1700000000),utime(%a %A %b %B %d %e %j %m %y %Y %H %I %M %S %p %s %% %u %w %D %T %F %R)",
                "Tue Tuesday Nov November 14 14 318 11 23 2023 22 10 13 20 PM 1700000000 % 2 2 11/14/23 22:13:20 2023-11-14 22:13",
            ),
            ("int(1700000000),utime()", ""),
            ("int(1700000000),http_date", "Tue, 14 Nov 2023 22:13:20 GMT"),
            (
                "int(1700000000),http_date(10)",
                "Tue, 14 Nov 2023 22:13:30 GMT",
            ),
            (
                "int(1700000000),http_date(-3600)",
                "Tue, 14 Nov 2023 21:13:20 GMT",
            ),
            (
                "int(1700000000),http_date(0,s)",
                "Tue, 14 Nov 2023 22:13:20 GMT",
            ),
            (
                "int(1700000000123),http_date(0,ms)",
                "Tue, 14 Nov 2023 22:13:20.123 GMT",
            ),
            (
                "int(1700000000123456),http_date(0,us)",
                "Tue, 14 Nov 2023 22:13:20.123456 GMT",
            ),
        ]);
        // ltime depends on the machine's zone; with TZ unset it is UTC.
        assert_eq!(eval("int(1700000000),ltime(%Y)"), "2023");
        assert!(
            eval("int(1700000000),http_date(0,xx)").contains("expects 's', 'ms' or 'us', got 'xx'")
        );
    }
}
