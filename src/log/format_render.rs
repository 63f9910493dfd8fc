//! Rendering of each `log-format` variable (the half of `format.rs` that
//! writes): dates, addresses, encodings and flags, as HAProxy 2.6 prints
//! them.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use std::net::IpAddr;
use std::ops::ControlFlow;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down date.
struct Civil {
    year: i64,
    mon: usize,
    day: i64,
    hour: i64,
    min: i64,
    sec: i64,
    /// Offset east of UTC in seconds.
    off: i64,
}

/// UTC broken-down date of `secs` shifted by `off` (days-from-civil
/// inverse, proleptic Gregorian).
fn civil(secs: i64, off: i64) -> Civil {
    let t = secs.saturating_add(off);
    let days = t.div_euclid(86_400);
    let sod = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let mon = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(mon <= 2);
    Civil {
        year,
        mon: (mon - 1) as usize,
        day,
        hour: sod / 3600,
        min: sod / 60 % 60,
        sec: sod % 60,
        off,
    }
}

fn local(secs: i64, tz: LogTz) -> Civil {
    match tz {
        LogTz::Fixed(off) => civil(secs, i64::from(off)),
        LogTz::Local => {
            let tm = crate::log::local_tm(secs);
            Civil {
                year: i64::from(tm.tm_year) + 1900,
                mon: tm.tm_mon as usize,
                day: i64::from(tm.tm_mday),
                hour: i64::from(tm.tm_hour),
                min: i64::from(tm.tm_min),
                sec: i64::from(tm.tm_sec),
                off: tm.tm_gmtoff,
            }
        }
    }
}

/// `dd/Mmm/yyyy:HH:MM:SS`.
fn push_day_time(out: &mut String, c: &Civil) {
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02}",
        c.day,
        MONTHS.get(c.mon).unwrap_or(&"Jan"),
        c.year,
        c.hour,
        c.min,
        c.sec
    );
}

/// `%t %tr`: local date with milliseconds.
fn push_date_ms(out: &mut String, d: (i64, u32), tz: LogTz) {
    push_day_time(out, &local(d.0, tz));
    let _ = write!(out, ".{:03}", d.1);
}

/// `%T %Tl %trg %trl`: date and `+hhmm` offset.
fn push_date_zone(out: &mut String, c: &Civil) {
    push_day_time(out, c);
    let m = c.off / 60;
    let sign = if m < 0 { '-' } else { '+' };
    let _ = write!(out, " {sign}{:02}{:02}", m.abs() / 60, m.abs() % 60);
}

/// A string value: `-` (or `""` with Q) when missing.
pub(super) fn push_text(out: &mut String, s: Option<&str>, fl: LfFlags) {
    match s {
        Some(s) => push_text_parts(out, s, "", fl),
        None if fl.has(LfFlags::QUOTE) => out.push_str("\"\""),
        None => out.push('-'),
    }
}

/// The string `a` then `b`, quoted with Q, escaped with E.
fn push_text_parts(out: &mut String, a: &str, b: &str, fl: LfFlags) {
    let q = fl.has(LfFlags::QUOTE);
    if q {
        out.push('"');
    }
    for s in [a, b] {
        if fl.has(LfFlags::ESC) {
            for c in s.chars() {
                if matches!(c, '"' | '\\' | ']') {
                    out.push('\\');
                }
                out.push(c);
            }
        } else {
            out.push_str(s);
        }
    }
    if q {
        out.push('"');
    }
}

/// Which bytes are written as `#XX`.
#[derive(Clone, Copy)]
enum Enc {
    /// Request line: controls, 127 and above, `"`, `#`.
    Url,
    /// Captured headers: the same plus `{`, `|`, `}`.
    Hdr,
}

fn must_encode(b: u8, map: Enc) -> bool {
    !(32..127).contains(&b)
        || b == b'"'
        || b == b'#'
        || (matches!(map, Enc::Hdr) && matches!(b, b'{' | b'|' | b'}'))
}

/// Bytes encoded per `map`, then `E`-escaped, without quotes.
fn push_encoded_raw(out: &mut String, bytes: &[u8], map: Enc, fl: LfFlags) {
    let esc = fl.has(LfFlags::ESC);
    for &b in bytes {
        if must_encode(b, map) {
            let _ = write!(out, "#{b:02X}");
        } else {
            if esc && matches!(b, b'\\' | b']') {
                out.push('\\');
            }
            out.push(char::from(b));
        }
    }
}

/// Bytes encoded per `map`, quoted with Q.
fn push_encoded(out: &mut String, bytes: &[u8], map: Enc, fl: LfFlags) {
    let q = fl.has(LfFlags::QUOTE);
    if q {
        out.push('"');
    }
    push_encoded_raw(out, bytes, map, fl);
    if q {
        out.push('"');
    }
}

/// `%hr %hs` (`{a|b}`) or `%hrl %hsl` (`a b`, `-` for an absent header).
/// Returns false (nothing written) when there is no capture.
fn push_caps(out: &mut String, caps: Option<Captures<'_>>, clf: bool, fl: LfFlags) -> bool {
    let Some(caps) = caps.filter(|c| !c.is_empty()) else {
        return false;
    };
    let q = fl.has(LfFlags::QUOTE);
    if clf {
        for (i, cap) in caps.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            match cap {
                Some(b) => push_encoded(out, b, Enc::Hdr, fl),
                None => out.push_str(if q { "\"\"" } else { "-" }),
            }
        }
    } else {
        if q {
            out.push('"');
        }
        out.push('{');
        for (i, cap) in caps.iter().enumerate() {
            if i > 0 {
                out.push('|');
            }
            if let Some(b) = cap {
                push_encoded_raw(out, b, Enc::Hdr, fl);
            }
        }
        out.push('}');
        if q {
            out.push('"');
        }
    }
    true
}

/// The parts of a request line that `%HM %HU %HP %HPO %HQ %HV` show.
#[derive(Clone, Copy)]
enum Part {
    Method,
    Uri,
    Path,
    PathOnly,
    Query,
    Version,
}

fn line_part(line: &[u8], part: Part) -> &[u8] {
    let mut fields = line.splitn(3, |&b| b == b' ');
    let method = fields.next().unwrap_or(&[]);
    let uri = fields.next().unwrap_or(&[]);
    let version = fields.next().unwrap_or(&[]);
    let qpos = uri.iter().position(|&b| b == b'?');
    let path = qpos.and_then(|p| uri.get(..p)).unwrap_or(uri);
    match part {
        Part::Method => method,
        Part::Uri => uri,
        Part::Version => version,
        Part::Path => path,
        Part::Query => qpos.and_then(|p| uri.get(p..)).unwrap_or(&[]),
        Part::PathOnly => {
            if path.first() == Some(&b'/') {
                path
            } else if let Some(s) = path.windows(3).position(|w| w == b"://") {
                // absolute-form: skip "scheme://authority"
                let auth = path.get(s + 3..).unwrap_or(&[]);
                match auth.iter().position(|&b| b == b'/') {
                    Some(p) => auth.get(p..).unwrap_or(&[]),
                    None => &[],
                }
            } else {
                // "*" or authority-form
                &[]
            }
        }
    }
}

/// `%ci %fi %bi %si`. Break when an AF_UNIX address is asked in hex.
fn push_ip(out: &mut String, a: Option<LogAddr<'_>>, fl: LfFlags) -> ControlFlow<()> {
    match a {
        None => push_text(out, None, fl),
        Some(LogAddr::Unix { .. }) if fl.has(LfFlags::HEX) => return ControlFlow::Break(()),
        Some(LogAddr::Unix { .. }) => push_text(out, Some("unix"), fl),
        Some(LogAddr::Inet(sa)) if fl.has(LfFlags::HEX) => match sa.ip() {
            IpAddr::V4(ip) => {
                for b in ip.octets() {
                    let _ = write!(out, "{b:02X}");
                }
            }
            IpAddr::V6(ip) => {
                for b in ip.octets() {
                    let _ = write!(out, "{b:02X}");
                }
            }
        },
        Some(LogAddr::Inet(sa)) => push_text(out, Some(&sa.ip().to_string()), fl),
    }
    ControlFlow::Continue(())
}

/// `%cp %fp` (`accept_side`) and `%bp %sp`.
fn push_port(out: &mut String, a: Option<LogAddr<'_>>, fl: LfFlags, accept_side: bool) {
    let hex = fl.has(LfFlags::HEX);
    match a {
        None => push_text(out, None, fl),
        Some(LogAddr::Inet(sa)) if hex => {
            let _ = write!(out, "{:04X}", sa.port());
        }
        Some(LogAddr::Inet(sa)) => {
            let _ = write!(out, "{}", sa.port());
        }
        Some(LogAddr::Unix { listener_id, .. }) if accept_side => {
            let _ = write!(out, "{listener_id}");
        }
        Some(LogAddr::Unix { path, .. }) if hex => {
            let hi = path.first().copied().unwrap_or(0);
            let lo = path.get(1).copied().unwrap_or(0);
            let _ = write!(out, "{hi:02X}{lo:02X}");
        }
        Some(LogAddr::Unix { .. }) => out.push('0'),
    }
}

/// A number, in `{:0width$X}` hex with X.
fn push_num_hex(out: &mut String, n: u64, fl: LfFlags, width: usize) {
    if fl.has(LfFlags::HEX) {
        let _ = write!(out, "{n:0width$X}");
    } else {
        let _ = write!(out, "{n}");
    }
}

/// A timer or byte count, `+` first when logged as soon as possible.
fn push_asap(out: &mut String, n: impl std::fmt::Display, asap: bool) {
    if asap {
        out.push('+');
    }
    let _ = write!(out, "{n}");
}

/// Renders one variable. Continue(true) when something was written (even
/// an empty string), Continue(false) when the variable vanished, Break
/// when the line must end here.
pub(super) fn render_var(
    var: Var,
    fl: LfFlags,
    v: &LogVars<'_>,
    out: &mut String,
) -> ControlFlow<(), bool> {
    let n = |out: &mut String, x: &dyn std::fmt::Display| {
        let _ = write!(out, "{x}");
    };
    match var {
        Var::o => return ControlFlow::Continue(false),
        Var::B => push_asap(out, v.bytes_out, v.logasap),
        Var::U => n(out, &v.bytes_in),
        Var::CC => push_text(out, v.req_cookie, fl),
        Var::CS => push_text(out, v.res_cookie, fl),
        Var::H => push_text(out, Some(v.hostname), fl),
        Var::HM | Var::HP | Var::HPO | Var::HQ | Var::HU | Var::HV => {
            let part = match var {
                Var::HM => Part::Method,
                Var::HP => Part::Path,
                Var::HPO => Part::PathOnly,
                Var::HQ => Part::Query,
                Var::HU => Part::Uri,
                _ => Part::Version,
            };
            match v.request_line {
                Some(line) => push_encoded(out, line_part(line, part), Enc::Url, fl),
                None => push_text(out, Some("<BADREQ>"), fl),
            }
        }
        Var::r => match v.request_line {
            Some(line) => push_encoded(out, line, Enc::Url, fl),
            None => push_text(out, Some("<BADREQ>"), fl),
        },
        Var::ID => push_text(out, v.unique_id, fl),
        Var::ST => n(out, &v.status),
        Var::T => push_date_zone(out, &civil(v.accept_date.0, 0)),
        Var::Tl => push_date_zone(out, &local(v.accept_date.0, v.tz)),
        Var::t => push_date_ms(out, v.accept_date, v.tz),
        Var::tr => push_date_ms(out, v.request_date, v.tz),
        Var::trg => push_date_zone(out, &civil(v.request_date.0, 0)),
        Var::trl => push_date_zone(out, &local(v.request_date.0, v.tz)),
        Var::Ts => {
            if fl.has(LfFlags::HEX) {
                // HAProxy prints the seconds as an unsigned int.
                let _ = write!(out, "{:08X}", v.accept_date.0 as u32);
            } else {
                n(out, &v.accept_date.0);
            }
        }
        Var::ms => {
            if fl.has(LfFlags::HEX) {
                let _ = write!(out, "{:02X}", v.accept_date.1);
            } else {
                let _ = write!(out, "{:03}", v.accept_date.1);
            }
        }
        Var::Th => n(out, &v.th),
        Var::Ti => n(out, &v.ti),
        Var::TR => n(out, &v.treq),
        Var::Tq => n(out, &v.tq),
        Var::Tw => n(out, &v.tw),
        Var::Tc => n(out, &v.tc),
        Var::Tr => n(out, &v.tr),
        Var::Td => n(out, &v.td),
        Var::Ta => push_asap(out, v.ta, v.logasap),
        Var::Tt => push_asap(out, v.tt, v.logasap),
        Var::Tu => push_asap(out, v.tu, v.logasap),
        Var::ac => n(out, &v.actconn),
        Var::fc => n(out, &v.feconn),
        Var::bc => n(out, &v.beconn),
        Var::sc => n(out, &v.srvconn),
        Var::rc => {
            if v.redispatched {
                out.push('+');
            }
            n(out, &v.retries);
        }
        Var::sq => n(out, &v.srv_queue),
        Var::bq => n(out, &v.be_queue),
        Var::b => push_text(out, Some(v.backend), fl),
        Var::f => push_text(out, Some(v.frontend), fl),
        Var::ft => push_text_parts(out, v.frontend, if v.is_ssl { "~" } else { "" }, fl),
        Var::s => push_text(out, Some(v.server), fl),
        Var::ci => push_ip(out, v.client, fl)?,
        Var::fi => push_ip(out, v.frontend_addr, fl)?,
        Var::bi => push_ip(out, v.backend_src, fl)?,
        Var::si => push_ip(out, v.server_addr, fl)?,
        Var::cp => push_port(out, v.client, fl, true),
        Var::fp => push_port(out, v.frontend_addr, fl, true),
        Var::bp => push_port(out, v.backend_src, fl, false),
        Var::sp => push_port(out, v.server_addr, fl, false),
        Var::lc => push_num_hex(out, v.log_counter, fl, 4),
        Var::rt => push_num_hex(out, v.req_counter, fl, 4),
        Var::pid => push_num_hex(out, u64::from(v.pid), fl, 4),
        Var::hr => return ControlFlow::Continue(push_caps(out, v.req_caps, false, fl)),
        Var::hrl => return ControlFlow::Continue(push_caps(out, v.req_caps, true, fl)),
        Var::hs => return ControlFlow::Continue(push_caps(out, v.res_caps, false, fl)),
        Var::hsl => return ControlFlow::Continue(push_caps(out, v.res_caps, true, fl)),
        Var::sslc => push_text(out, v.ssl_cipher, fl),
        Var::sslv => push_text(out, v.ssl_version, fl),
        Var::ts => push_term(out, v.term.get(..2).unwrap_or(&[])),
        Var::tsc => push_term(out, &v.term),
    }
    ControlFlow::Continue(true)
}

fn push_term(out: &mut String, t: &[u8]) {
    for &b in t {
        out.push(char::from(b));
    }
}
