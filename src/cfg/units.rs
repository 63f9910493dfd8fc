//! Value parsers for configuration arguments: times (section 2.5 "Time
//! format"), sizes, bounded integers, and listening / server addresses
//! (section 11 "Address formats").
//!
//! Errors are short message fragments in HAProxy's wording (for example
//! "unexpected character 'x'"), meant to be completed by the caller with the
//! keyword and location. The behaviour was checked against HAProxy 2.6:
//!
//! * times need at least one digit, then an optional unit among `us`, `ms`,
//!   `s`, `m`, `h`, `d`; a wrong first unit character is an error, but junk
//!   after a valid unit (`1sec`) is only a warning (see [`parse_time`]);
//!   results above 2147483647 ms are a "timer overflow"; microseconds are
//!   rounded up to the next millisecond;
//! * sizes accept `k`, `m`, `g` (either case, 1024-based) and report an
//!   overflow as an unexpected character at the offending position, except
//!   for the `tune` sizes that HAProxy reads with `atol()` and never refuses
//!   (see [`parse_size_atol`]);
//! * addresses follow the last-colon rule for IPv6, accept `[v6]:port`,
//!   `*`/empty host, IPv4 shorthands such as `127.1` (inet_aton style),
//!   family prefixes (`ipv4@`, `ipv6@`, `ip@`, `tcp@`, `tcp4@`, `tcp6@`,
//!   `unix@`, `fd@`), and resolve host names through the system resolver;
//! * like HAProxy's address parser, `$VAR` / `${VAR}` are expanded inside
//!   addresses even when the tokenizer left them alone (unquoted or single
//!   quoted), see [`expand_addr_env`].
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::ops::RangeInclusive;
use std::path::PathBuf;

/// Largest timer HAProxy accepts, in milliseconds (`i32::MAX`, ~24.8 days).
pub const MAX_TIMER_MS: u64 = i32::MAX as u64;

/// Longest UNIX socket path accepted on a `bind` line (HAProxy keeps room in
/// `sun_path` for its temporary-name suffix).
pub const MAX_BIND_UNIX_PATH: usize = 97;

/// Why a time value was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// The argument is empty.
    Empty,
    /// No digit where one was expected, or an unknown unit: the offending char.
    UnexpectedChar(char),
    /// The value exceeds [`MAX_TIMER_MS`].
    Overflow,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::Empty => f.write_str("empty value"),
            TimeError::UnexpectedChar(c) => write!(f, "unexpected character '{c}'"),
            TimeError::Overflow => f.write_str("timer overflow"),
        }
    }
}

impl std::error::Error for TimeError {}

/// Parses a time value; returns milliseconds and, when HAProxy would only
/// warn about junk after a valid unit (`1sec`), the first junk character.
/// A bare number is in units of `default_unit_ms` milliseconds (0 acts as 1).
pub fn parse_time(s: &str, default_unit_ms: u64) -> Result<(u32, Option<char>), TimeError> {
    let first = s.chars().next().ok_or(TimeError::Empty)?;
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(TimeError::UnexpectedChar(first));
    }
    let mut value: u64 = 0;
    for b in s.bytes().take(digits) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(TimeError::Overflow)?;
    }
    let rest = s.get(digits..).unwrap_or_default();
    let (ms, after) = if rest.is_empty() {
        (value.checked_mul(default_unit_ms.max(1)), "")
    } else if let Some(r) = rest.strip_prefix("us") {
        (Some(value.div_ceil(1000)), r)
    } else if let Some(r) = rest.strip_prefix("ms") {
        (Some(value), r)
    } else if let Some(r) = rest.strip_prefix('s') {
        (value.checked_mul(1000), r)
    } else if let Some(r) = rest.strip_prefix('m') {
        (value.checked_mul(60_000), r)
    } else if let Some(r) = rest.strip_prefix('h') {
        (value.checked_mul(3_600_000), r)
    } else if let Some(r) = rest.strip_prefix('d') {
        (value.checked_mul(86_400_000), r)
    } else {
        let c = rest.chars().next().unwrap_or('?');
        return Err(TimeError::UnexpectedChar(c));
    };
    let ms = ms
        .filter(|&v| v <= MAX_TIMER_MS)
        .ok_or(TimeError::Overflow)?;
    let ms = u32::try_from(ms).map_err(|_| TimeError::Overflow)?;
    Ok((ms, after.chars().next()))
}

/// HAProxy's warning for junk character `c` after the valid time value `arg`.
pub fn time_trailing_warning(arg: &str, c: char) -> String {
    format!(
        "unexpected character '{c}' after the timer value '{arg}', only \
         (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. \
         This will be reported as an error in next versions."
    )
}

/// Time value: bare number = `default_unit_ms` units (1 for ms); suffixes us,
/// ms, s, m, h, d. Returns milliseconds (us rounded up to 1 ms when non-zero).
/// Overflow past i32::MAX ms is an error ("timer overflow"). Junk after a
/// valid unit is tolerated as HAProxy does (use [`parse_time`] to warn).
pub fn parse_time_ms(s: &str, default_unit_ms: u64) -> Result<u32, String> {
    parse_time(s, default_unit_ms)
        .map(|(ms, _)| ms)
        .map_err(|e| e.to_string())
}

/// HAProxy's reading of `tune.pipesize`, `tune.rcvbuf.*` and `tune.sndbuf.*`
/// (cfgparse-global.c: `atol(args[1])`): optional leading white space and
/// sign, then decimal digits; whatever follows is ignored, and no digit at
/// all reads as 0. haproxy-rs also applies a `k`/`m`/`g` suffix (either
/// case, 1024-based) right after the digits, as [`parse_size`] does. The
/// value saturates at the bounds of `i64`. It never fails: HAProxy 2.6
/// accepts any argument for these keywords without a word.
pub fn parse_size_atol(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let v = t.bytes().take(digits).fold(0i64, |v, b| {
        v.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    let mult: i64 = match t.as_bytes().get(digits) {
        Some(b'k' | b'K') if digits > 0 => 1 << 10,
        Some(b'm' | b'M') if digits > 0 => 1 << 20,
        Some(b'g' | b'G') if digits > 0 => 1 << 30,
        _ => 1,
    };
    let v = v.saturating_mul(mult);
    if neg { -v } else { v }
}

/// Size: bare number bytes, suffix k/K m/M g/G (1024-based).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let mut chars = s.chars();
    let first = chars.next().ok_or_else(|| "empty value".to_string())?;
    if !first.is_ascii_digit() {
        return Err(unexpected(first));
    }
    let mut value: u64 = 0;
    let mut iter = s.chars().peekable();
    while let Some(&c) = iter.peek() {
        let Some(d) = c.to_digit(10) else { break };
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or_else(|| unexpected(c))?;
        iter.next();
    }
    if let Some(c) = iter.next() {
        let mult: u64 = match c {
            'k' | 'K' => 1 << 10,
            'm' | 'M' => 1 << 20,
            'g' | 'G' => 1 << 30,
            _ => return Err(unexpected(c)),
        };
        value = value.checked_mul(mult).ok_or_else(|| unexpected(c))?;
        if let Some(junk) = iter.next() {
            return Err(unexpected(junk));
        }
    }
    Ok(value)
}

fn unexpected(c: char) -> String {
    format!("unexpected character '{c}'")
}

/// Plain unsigned integer (decimal digits only) with range check `min..=max`.
pub fn parse_uint(s: &str, min: u64, max: u64) -> Result<u64, String> {
    if s.is_empty() {
        return Err("empty value".to_string());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid integer value '{s}'"));
    }
    let range_err = || format!("value must be between {min} and {max} (was {s})");
    let v: u64 = s.parse().map_err(|_| range_err())?;
    if v < min || v > max {
        return Err(range_err());
    }
    Ok(v)
}

/// A listening address as written on a `bind` line (one element of a comma
/// separated list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    /// TCP address with a port range (a single port is `p..=p`).
    Inet {
        /// Address to bind (0.0.0.0 / :: for "any").
        ip: IpAddr,
        /// Ports to listen on, never containing 0.
        ports: RangeInclusive<u16>,
    },
    /// UNIX stream socket path.
    Unix(PathBuf),
    /// Inherited file descriptor (`fd@N`).
    Fd(i32),
}

/// Address family forced by a prefix.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Any,
    V4,
    V6,
}

/// Splits a known prefix off `s`. Returns the prefix word (without `@`) and
/// the rest, or None when `s` has no recognised prefix.
fn split_prefix(s: &str) -> Option<(&str, &str)> {
    let (p, rest) = s.split_once('@')?;
    const KNOWN: &[&str] = &[
        "ipv4",
        "ipv6",
        "ip",
        "tcp",
        "tcp4",
        "tcp6",
        "stream+ipv4",
        "stream+ipv6",
        "stream+ip",
        "unix",
        "stream+unix",
        "fd",
        "stream+fd",
        "abns",
        "sockpair",
        "udp",
        "udp4",
        "udp6",
        "quic4",
        "quic6",
        "dgram+ipv4",
        "dgram+ipv6",
        "dgram+ip",
        "dgram+unix",
        "dgram+abns",
        "stream+abns",
        "uxst",
        "uxdg",
    ];
    KNOWN.contains(&p).then_some((p, rest))
}

fn family_of(prefix: &str) -> Option<Family> {
    match prefix {
        "ip" | "tcp" | "stream+ip" => Some(Family::Any),
        "ipv4" | "tcp4" | "stream+ipv4" => Some(Family::V4),
        "ipv6" | "tcp6" | "stream+ipv6" => Some(Family::V6),
        _ => None,
    }
}

/// Process-environment resolver used by the convenience address parsers.
fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Expands variables the way HAProxy's address parser does on top of the
/// tokenizer (so `bind :${PORT}` works even unquoted): `$NAME` or `${NAME}`
/// where NAME is made of letters, digits and `_`; the closing brace is
/// optional, unset variables and empty names expand to nothing, there is no
/// default value syntax and no escaping.
pub fn expand_addr_env(s: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    if !s.contains('$') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(dollar) = rest.find('$') {
        out.push_str(rest.get(..dollar).unwrap_or_default());
        let mut after = rest.get(dollar + 1..).unwrap_or_default();
        let braced = after.starts_with('{');
        if braced {
            after = after.get(1..).unwrap_or_default();
        }
        let name_len = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let name = after.get(..name_len).unwrap_or_default();
        after = after.get(name_len..).unwrap_or_default();
        if braced && after.starts_with('}') {
            after = after.get(1..).unwrap_or_default();
        }
        if !name.is_empty()
            && let Some(v) = env(name)
        {
            out.push_str(&v);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Address "host:port" / "ipv4:port" / "[ipv6]:port" / "ipv6:port" (last
/// colon) / ":port" / "*:port" / port range ("127.0.0.1:8000-8010") /
/// "unix@/path" or "/abs/path" / "fd@N" / "ipv4@addr:port" / "ipv6@addr:port".
/// Empty host or "*" means 0.0.0.0 (or :: with an IPv6 prefix). `$VAR` /
/// `${VAR}` are expanded from the process environment first (see
/// [`expand_addr_env`]; use [`parse_bind_addr_env`] to supply a resolver).
pub fn parse_bind_addr(s: &str) -> Result<BindAddr, String> {
    parse_bind_addr_env(s, &process_env)
}

/// [`parse_bind_addr`] with variables resolved by `env`. Messages quote the
/// address as written, before expansion, as HAProxy does.
pub fn parse_bind_addr_env(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BindAddr, String> {
    let x = expand_addr_env(s, env);
    if x.is_empty() {
        return Err("missing address".to_string());
    }
    if x.starts_with('/') {
        return unix_path(&x);
    }
    let (family, rest) = match split_prefix(&x) {
        None => (Family::Any, x.as_str()),
        Some((p, rest)) => match p {
            "unix" | "stream+unix" | "uxst" => return unix_path(rest),
            "fd" | "stream+fd" => return parse_fd(rest, s).map(BindAddr::Fd),
            _ => match family_of(p) {
                Some(f) => (f, rest),
                None => return Err(format!("unsupported address family '{p}@' in '{s}'")),
            },
        },
    };
    let hp = split_host_port(rest);
    let Some(port) = hp.port.filter(|p| !p.is_empty() && !hp.junk) else {
        return Err(format!("missing port specification in '{s}'"));
    };
    let ports = parse_port_range(port, s)?;
    let ip = parse_host(&hp, family, true).ok_or_else(|| invalid_address(hp.raw, s))?;
    Ok(BindAddr::Inet { ip, ports })
}

/// Server address "ip:port" or "ip" (port optional -> None) or hostname:port
/// (resolved with the system resolver, first IPv4 preferred; `resolve=false`
/// makes a non-IP host an error "could not resolve address 'x'"). Empty host
/// or "*" means 0.0.0.0; a port of 0 is kept as `Some(0)`. `$VAR` / `${VAR}`
/// are expanded from the process environment first (see
/// [`parse_server_addr_env`]).
pub fn parse_server_addr(s: &str, resolve: bool) -> Result<(IpAddr, Option<u16>), String> {
    parse_server_addr_env(s, resolve, &process_env)
}

/// [`parse_server_addr`] with variables resolved by `env`.
pub fn parse_server_addr_env(
    s: &str,
    resolve: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(IpAddr, Option<u16>), String> {
    let x = expand_addr_env(s, env);
    if x.starts_with('/') {
        return Err(format!(
            "UNIX socket addresses are not supported here in '{s}'"
        ));
    }
    let (family, rest) = match split_prefix(&x) {
        None => (Family::Any, x.as_str()),
        Some((p, rest)) => match family_of(p) {
            Some(f) => (f, rest),
            None if p == "fd" || p == "stream+fd" => {
                return Err(format!("a file descriptor is not acceptable here in '{s}'"));
            }
            None => return Err(format!("unsupported address family '{p}@' in '{s}'")),
        },
    };
    let hp = split_host_port(rest);
    let port = match hp.port.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => {
            if p.starts_with('+') || p.starts_with('-') {
                return Err(format!("port offsets are not supported in '{s}'"));
            }
            if p.contains('-') {
                return Err(format!("port range not permitted here in '{s}'"));
            }
            Some(parse_port(p, s, true)?)
        }
    };
    let ip = parse_host(&hp, family, resolve)
        .ok_or_else(|| format!("could not resolve address '{}'", hp.raw))?;
    Ok((ip, port))
}

fn invalid_address(host: &str, s: &str) -> String {
    format!("invalid address: '{host}' in '{s}'")
}

fn unix_path(path: &str) -> Result<BindAddr, String> {
    if path.len() > MAX_BIND_UNIX_PATH {
        return Err(format!(
            "socket path '{path}' too long (max {MAX_BIND_UNIX_PATH})"
        ));
    }
    Ok(BindAddr::Unix(PathBuf::from(path)))
}

fn parse_fd(n: &str, whole: &str) -> Result<i32, String> {
    let digits = n.strip_prefix('+').unwrap_or(n);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "file descriptor '{n}' is not a valid integer in '{whole}'"
        ));
    }
    digits
        .parse::<i32>()
        .map_err(|_| format!("file descriptor '{n}' is not a valid integer in '{whole}'"))
}

/// Host and port parts of an address.
struct HostPort<'a> {
    /// Host as written (with its brackets), for messages.
    raw: &'a str,
    /// Host without brackets.
    host: &'a str,
    /// Whether the host was bracketed.
    bracketed: bool,
    /// Port text after the separating colon, if any.
    port: Option<&'a str>,
    /// Text after `]` that does not start with a colon.
    junk: bool,
}

/// Splits "host:port": a bracketed host (`[v6]`) is honoured when the closing
/// bracket exists; otherwise the last colon separates the port.
fn split_host_port(s: &str) -> HostPort<'_> {
    if let Some(inner) = s.strip_prefix('[')
        && let Some((host, after)) = inner.split_once(']')
    {
        let raw = s.get(..host.len() + 2).unwrap_or(s);
        let (port, junk) = match after.strip_prefix(':') {
            Some(p) => (Some(p), false),
            None => (None, !after.is_empty()),
        };
        return HostPort {
            raw: if junk { s } else { raw },
            host,
            bracketed: true,
            port,
            junk,
        };
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    HostPort {
        raw: host,
        host,
        bracketed: false,
        port,
        junk: false,
    }
}

fn parse_port(p: &str, whole: &str, allow_zero: bool) -> Result<u16, String> {
    if let Some(bad) = p.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!(
            "invalid character '{bad}' in port number '{p}' in '{whole}'"
        ));
    }
    match p.parse::<u32>() {
        Ok(v) if v <= 65535 && (allow_zero || v != 0) => {
            u16::try_from(v).map_err(|_| invalid_port(p))
        }
        _ => Err(invalid_port(p)),
    }
}

fn invalid_port(p: &str) -> String {
    format!("invalid port '{p}'")
}

fn parse_port_range(p: &str, whole: &str) -> Result<RangeInclusive<u16>, String> {
    if p.starts_with('+') || p.starts_with('-') {
        return Err(format!("port offset not permitted here in '{whole}'"));
    }
    match p.split_once('-') {
        None => {
            let v = parse_port(p, whole, false)?;
            Ok(v..=v)
        }
        Some((lo, hi)) => {
            let lo_v = parse_port(lo, whole, false)?;
            if hi.is_empty() {
                return Err(invalid_port(hi));
            }
            let hi_v = parse_port(hi, whole, false)?;
            if lo_v > hi_v {
                return Err(format!("invalid port range '{p}'"));
            }
            Ok(lo_v..=hi_v)
        }
    }
}

/// Resolves a host part: "" and "*" are "any", then literal IPv6, literal
/// IPv4 (inet_aton forms), then the system resolver when `resolve` is set
/// (never for purely numeric strings, which getaddrinfo would reject too).
fn parse_host(hp: &HostPort<'_>, family: Family, resolve: bool) -> Option<IpAddr> {
    let host = hp.host;
    if hp.junk || (hp.bracketed && host.is_empty()) {
        return None;
    }
    if host.is_empty() || host == "*" {
        return Some(match family {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return (family != Family::V4).then_some(IpAddr::V6(v6));
    }
    if let Some(v4) = parse_ipv4_loose(host) {
        return (family != Family::V6).then_some(IpAddr::V4(v4));
    }
    let numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !resolve || numeric || host.contains([':', '[', ']']) {
        return None;
    }
    let addrs: Vec<IpAddr> = (host, 0u16)
        .to_socket_addrs()
        .ok()?
        .map(|sa| sa.ip())
        .collect();
    match family {
        Family::V4 => addrs.iter().copied().find(IpAddr::is_ipv4),
        Family::V6 => addrs.iter().copied().find(IpAddr::is_ipv6),
        Family::Any => addrs
            .iter()
            .copied()
            .find(IpAddr::is_ipv4)
            .or_else(|| addrs.first().copied()),
    }
}

/// Parses IPv4 the way inet_aton does: 1 to 4 dot-separated parts, each in
/// decimal, octal (leading 0) or hexadecimal (0x); the last part fills the
/// remaining bytes ("127.1" is 127.0.0.1, "1" is 0.0.0.1).
pub fn parse_ipv4_loose(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u32> = s
        .split('.')
        .map(parse_c_number)
        .collect::<Option<Vec<u32>>>()?;
    let (last, head) = parts.split_last()?;
    if head.len() > 3 || head.iter().any(|&p| p > 255) {
        return None;
    }
    let shift = 8 * (3 - head.len() as u32);
    let last_max: u64 = (1u64 << (shift + 8)) - 1;
    if u64::from(*last) > last_max {
        return None;
    }
    let mut v: u32 = 0;
    for (i, p) in head.iter().enumerate() {
        v |= p << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from(v | last))
}

/// One inet_aton component: decimal, 0-prefixed octal or 0x-prefixed hex.
fn parse_c_number(p: &str) -> Option<u32> {
    if p.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (p.get(1..)?, 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        // "0x" alone is accepted as 0 by inet_aton
        return (radix == 16).then_some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    #[test]
    fn tune_sizes_read_like_atol_with_suffixes() {
        assert_eq!(parse_size_atol("2147483647"), 2_147_483_647);
        assert_eq!(parse_size_atol("2147483648"), 2_147_483_648);
        assert_eq!(parse_size_atol("4294967296"), 4_294_967_296);
        assert_eq!(parse_size_atol("3g"), 3 << 30);
        assert_eq!(parse_size_atol("1G"), 1 << 30);
        assert_eq!(parse_size_atol("16k"), 16 << 10);
        assert_eq!(parse_size_atol("-1"), -1);
        assert_eq!(parse_size_atol("+5"), 5);
        assert_eq!(parse_size_atol(" 5"), 5);
        assert_eq!(parse_size_atol("1.5k"), 1);
        assert_eq!(parse_size_atol("0x10"), 0);
        assert_eq!(parse_size_atol("abc"), 0);
        assert_eq!(parse_size_atol("k"), 0);
        assert_eq!(parse_size_atol(""), 0);
        assert_eq!(parse_size_atol("99999999999999999999"), i64::MAX);
        assert_eq!(parse_size_atol("9999999999g"), i64::MAX);
        assert_eq!(parse_size_atol("-99999999999999999999"), -i64::MAX);
    }

    #[test]
    fn time_units() {
        assert_eq!(parse_time_ms("0", 1), Ok(0));
        assert_eq!(parse_time_ms("1500", 1), Ok(1500));
        assert_eq!(parse_time_ms("00012", 1), Ok(12));
        assert_eq!(parse_time_ms("5ms", 1), Ok(5));
        assert_eq!(parse_time_ms("5s", 1), Ok(5000));
        assert_eq!(parse_time_ms("2m", 1), Ok(120_000));
        assert_eq!(parse_time_ms("1h", 1), Ok(3_600_000));
        assert_eq!(parse_time_ms("1d", 1), Ok(86_400_000));
        assert_eq!(parse_time_ms("24d", 1), Ok(2_073_600_000));
        assert_eq!(parse_time_ms("10", 1000), Ok(10_000));
        assert_eq!(parse_time_ms("10ms", 1000), Ok(10));
        assert_eq!(parse_time_ms("10", 0), Ok(10));
    }

    #[test]
    fn time_microseconds_round_up() {
        assert_eq!(parse_time_ms("0us", 1), Ok(0));
        assert_eq!(parse_time_ms("1us", 1), Ok(1));
        assert_eq!(parse_time_ms("1000us", 1), Ok(1));
        assert_eq!(parse_time_ms("1500us", 1), Ok(2));
        assert_eq!(parse_time_ms("2147483648us", 1), Ok(2_147_484));
        assert_eq!(parse_time_ms("2147483647000us", 1), Ok(2_147_483_647));
        assert_eq!(
            parse_time_ms("2147483647999us", 1),
            Err("timer overflow".into())
        );
    }

    #[test]
    fn time_overflow() {
        assert_eq!(parse_time_ms("2147483647", 1), Ok(2_147_483_647));
        for s in [
            "2147483648",
            "3000000000",
            "25d",
            "597h",
            "35792m",
            "2147484s",
            "4294967297",
            "18446744073709551617",
            "99999999999999999999",
            "2147483648ms",
        ] {
            assert_eq!(parse_time(s, 1), Err(TimeError::Overflow), "{s}");
            assert_eq!(parse_time_ms(s, 1), Err("timer overflow".into()));
        }
        assert_eq!(parse_time_ms("596h", 1), Ok(2_145_600_000));
        assert_eq!(parse_time_ms("35791m", 1), Ok(2_147_460_000));
        assert_eq!(parse_time_ms("2147483s", 1), Ok(2_147_483_000));
        assert_eq!(parse_time("2147483648", 1000), Err(TimeError::Overflow));
        assert_eq!(parse_time("2147484", 1000), Err(TimeError::Overflow));
    }

    #[test]
    fn time_errors() {
        assert_eq!(parse_time("", 1), Err(TimeError::Empty));
        let cases = [
            ("10x", 'x'),
            ("-1", '-'),
            ("+5", '+'),
            ("1.5s", '.'),
            ("10S", 'S'),
            ("10Ms", 'M'),
            ("s", 's'),
            ("ms", 'm'),
            ("1u", 'u'),
            ("1ux", 'u'),
            ("0x10", 'x'),
            (" 5", ' '),
            ("5 s", ' '),
            ("é", 'é'),
            ("5é", 'é'),
        ];
        for (s, c) in cases {
            assert_eq!(parse_time(s, 1), Err(TimeError::UnexpectedChar(c)), "{s}");
        }
        assert_eq!(
            parse_time_ms("10x", 1),
            Err("unexpected character 'x'".into())
        );
        assert_eq!(TimeError::Empty.to_string(), "empty value");
    }

    #[test]
    fn time_trailing_junk_is_a_warning() {
        assert_eq!(parse_time("1sec", 1), Ok((1000, Some('e'))));
        assert_eq!(parse_time("1mz", 1), Ok((60_000, Some('z'))));
        assert_eq!(parse_time("1m5", 1), Ok((60_000, Some('5'))));
        assert_eq!(parse_time("1usx", 1), Ok((1, Some('x'))));
        assert_eq!(parse_time("1msx", 1), Ok((1, Some('x'))));
        assert_eq!(parse_time("1hs", 1), Ok((3_600_000, Some('s'))));
        assert_eq!(parse_time("1s", 1), Ok((1000, None)));
        assert_eq!(parse_time_ms("1sec", 1), Ok(1000));
        assert_eq!(
            time_trailing_warning("1sec", 'e'),
            "unexpected character 'e' after the timer value '1sec', only \
             (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are \
             supported. This will be reported as an error in next versions."
        );
    }

    fn test_env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("8080".into()),
            "HOSTX" => Some("127.0.0.9".into()),
            "P1" => Some("1".into()),
            "SOCK" => Some("h.sock".into()),
            _ => None,
        }
    }

    #[test]
    fn address_env_expansion() {
        let x = |s: &str| expand_addr_env(s, &test_env);
        assert_eq!(x("127.0.0.1:${PORT}"), "127.0.0.1:8080");
        assert_eq!(x("127.0.0.1:$PORT"), "127.0.0.1:8080");
        assert_eq!(x("${HOSTX}:${PORT}"), "127.0.0.9:8080");
        assert_eq!(x("1:${PORT}${PORT}"), "1:80808080");
        assert_eq!(x("1:${PORT"), "1:8080");
        assert_eq!(x("1:${NOPE}x"), "1:x");
        assert_eq!(x("1:${NOPE-1}"), "1:-1}");
        assert_eq!(x("1:$NOPE.x"), "1:.x");
        assert_eq!(x("1:$PORT_X"), "1:");
        assert_eq!(x("1:$"), "1:");
        assert_eq!(x("1:${}"), "1:");
        assert_eq!(x("1:${.LINE}"), "1:.LINE}");
        assert_eq!(x("1:\\$PORT"), "1:\\8080");
        assert_eq!(x("1:$P1$P1"), "1:11");
        assert_eq!(x("é$PORTé"), "é8080é");
        assert_eq!(x("no variables"), "no variables");
    }

    #[test]
    fn addresses_with_variables() {
        let b = |s: &str| parse_bind_addr_env(s, &test_env);
        assert_eq!(
            b("127.0.0.1:${PORT}"),
            Ok(BindAddr::Inet {
                ip: v4(127, 0, 0, 1),
                ports: 8080..=8080
            })
        );
        assert_eq!(
            b("$HOSTX:$P1-$PORT"),
            Ok(BindAddr::Inet {
                ip: v4(127, 0, 0, 9),
                ports: 1..=8080
            })
        );
        assert_eq!(b("/run/$SOCK"), Ok(BindAddr::Unix("/run/h.sock".into())));
        assert_eq!(
            b("127.0.0.1:${NOPE}"),
            Err("missing port specification in '127.0.0.1:${NOPE}'".into())
        );
        assert_eq!(
            b("127.0.0.1:${NOPE-8081}"),
            Err("port offset not permitted here in '127.0.0.1:${NOPE-8081}'".into())
        );
        assert_eq!(
            b("127.0.0.1:${PORT}${PORT}"),
            Err("invalid port '80808080'".into())
        );
        assert_eq!(
            parse_server_addr_env("${HOSTX}:${PORT}", false, &test_env),
            Ok((v4(127, 0, 0, 9), Some(8080)))
        );
        assert_eq!(
            parse_server_addr_env("$NOPE", false, &test_env),
            Ok((v4(0, 0, 0, 0), None))
        );
        // the convenience forms use the process environment
        assert_eq!(
            parse_server_addr("127.0.0.1:$HAPROXY_RS_SURELY_UNSET_VAR", false),
            Ok((v4(127, 0, 0, 1), None))
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("16384"), Ok(16384));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("2m"), Ok(2 << 20));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("3g"), Ok(3 << 30));
        assert_eq!(parse_size("3G"), Ok(3 << 30));
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn size_errors() {
        assert_eq!(parse_size(""), Err("empty value".into()));
        let cases = [
            ("1t", 't'),
            ("1kb", 'b'),
            ("1.5k", '.'),
            ("x", 'x'),
            ("-1", '-'),
            ("k", 'k'),
            ("1kk", 'k'),
            (" 5", ' '),
            ("18446744073709551616", '6'),
            ("99999999999999999999", '9'),
            ("17179869184g", 'g'),
            ("é", 'é'),
        ];
        for (s, c) in cases {
            assert_eq!(
                parse_size(s),
                Err(format!("unexpected character '{c}'")),
                "{s}"
            );
        }
    }

    #[test]
    fn uints() {
        assert_eq!(parse_uint("0", 0, 10), Ok(0));
        assert_eq!(parse_uint("10", 0, 10), Ok(10));
        assert_eq!(parse_uint("007", 1, 10), Ok(7));
        assert_eq!(parse_uint("", 0, 10), Err("empty value".into()));
        assert_eq!(
            parse_uint("abc", 0, 10),
            Err("invalid integer value 'abc'".into())
        );
        assert_eq!(
            parse_uint("-1", 0, 10),
            Err("invalid integer value '-1'".into())
        );
        assert_eq!(
            parse_uint("+1", 0, 10),
            Err("invalid integer value '+1'".into())
        );
        assert_eq!(
            parse_uint("1k", 0, 10),
            Err("invalid integer value '1k'".into())
        );
        assert_eq!(
            parse_uint("0", 1, 64),
            Err("value must be between 1 and 64 (was 0)".into())
        );
        assert_eq!(
            parse_uint("5000", 1, 64),
            Err("value must be between 1 and 64 (was 5000)".into())
        );
        assert_eq!(
            parse_uint("99999999999999999999", 0, u64::MAX),
            Err(format!(
                "value must be between 0 and {} (was 99999999999999999999)",
                u64::MAX
            ))
        );
        assert_eq!(
            parse_uint("18446744073709551615", 0, u64::MAX),
            Ok(u64::MAX)
        );
    }

    fn inet(s: &str) -> (IpAddr, RangeInclusive<u16>) {
        match parse_bind_addr(s) {
            Ok(BindAddr::Inet { ip, ports }) => (ip, ports),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn bind_inet_forms() {
        assert_eq!(inet(":80"), (v4(0, 0, 0, 0), 80..=80));
        assert_eq!(inet("*:80"), (v4(0, 0, 0, 0), 80..=80));
        assert_eq!(inet("0.0.0.0:8080"), (v4(0, 0, 0, 0), 8080..=8080));
        assert_eq!(inet("127.0.0.1:8000-8010"), (v4(127, 0, 0, 1), 8000..=8010));
        assert_eq!(inet("127.0.0.1:5-5"), (v4(127, 0, 0, 1), 5..=5));
        assert_eq!(inet("127.0.0.1:1-65535"), (v4(127, 0, 0, 1), 1..=65535));
        assert_eq!(inet("127.0.0.1:018080"), (v4(127, 0, 0, 1), 18080..=18080));
        assert_eq!(
            inet("[::]:80"),
            (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 80..=80)
        );
        assert_eq!(inet(":::80"), (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 80..=80));
        assert_eq!(inet("::1:80"), (IpAddr::V6(Ipv6Addr::LOCALHOST), 80..=80));
        assert_eq!(inet("[::1]:80"), (IpAddr::V6(Ipv6Addr::LOCALHOST), 80..=80));
        assert_eq!(inet("[127.0.0.1]:80"), (v4(127, 0, 0, 1), 80..=80));
        let mapped = "::ffff:127.0.0.1".parse::<Ipv6Addr>().map(IpAddr::V6);
        assert_eq!(Ok(inet("::ffff:127.0.0.1:80").0), mapped);
        assert_eq!(inet("127.1:80"), (v4(127, 0, 0, 1), 80..=80));
        assert_eq!(inet("1:80"), (v4(0, 0, 0, 1), 80..=80));
        assert_eq!(inet("010.0.0.1:80"), (v4(8, 0, 0, 1), 80..=80));
        assert_eq!(inet("0x7f.1:80"), (v4(127, 0, 0, 1), 80..=80));
    }

    #[test]
    fn bind_prefixes() {
        assert_eq!(inet("ipv4@127.0.0.1:80"), (v4(127, 0, 0, 1), 80..=80));
        assert_eq!(inet("ipv4@:80"), (v4(0, 0, 0, 0), 80..=80));
        assert_eq!(
            inet("ipv6@::1:80"),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), 80..=80)
        );
        assert_eq!(
            inet("ipv6@:80"),
            (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 80..=80)
        );
        assert_eq!(
            inet("ipv6@*:80"),
            (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 80..=80)
        );
        assert_eq!(
            inet("ip@::1:80"),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), 80..=80)
        );
        assert_eq!(inet("tcp@127.0.0.1:80"), (v4(127, 0, 0, 1), 80..=80));
        assert_eq!(inet("tcp4@127.0.0.1:80"), (v4(127, 0, 0, 1), 80..=80));
        assert_eq!(
            inet("tcp6@[::1]:80"),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), 80..=80)
        );
        assert_eq!(
            parse_bind_addr("ipv4@::1:80"),
            Err("invalid address: '::1' in 'ipv4@::1:80'".into())
        );
        assert_eq!(
            parse_bind_addr("ipv6@127.0.0.1:80"),
            Err("invalid address: '127.0.0.1' in 'ipv6@127.0.0.1:80'".into())
        );
        assert_eq!(
            parse_bind_addr("foo@1.2.3.4:80"),
            Err("invalid address: 'foo@1.2.3.4' in 'foo@1.2.3.4:80'".into())
        );
        assert_eq!(
            parse_bind_addr("abns@foo"),
            Err("unsupported address family 'abns@' in 'abns@foo'".into())
        );
        assert_eq!(
            parse_bind_addr("UNIX@/tmp/x"),
            Err("missing port specification in 'UNIX@/tmp/x'".into())
        );
        assert_eq!(
            parse_bind_addr("ipv4@/x"),
            Err("missing port specification in 'ipv4@/x'".into())
        );
    }

    #[test]
    fn bind_unix_and_fd() {
        assert_eq!(
            parse_bind_addr("/var/run/h.sock"),
            Ok(BindAddr::Unix("/var/run/h.sock".into()))
        );
        assert_eq!(
            parse_bind_addr("unix@/tmp/s"),
            Ok(BindAddr::Unix("/tmp/s".into()))
        );
        assert_eq!(
            parse_bind_addr("unix@rel"),
            Ok(BindAddr::Unix("rel".into()))
        );
        assert_eq!(
            parse_bind_addr("/tmp/a@b:1"),
            Ok(BindAddr::Unix("/tmp/a@b:1".into()))
        );
        let p97 = format!("/tmp/{}", "a".repeat(92));
        assert_eq!(
            parse_bind_addr(&p97),
            Ok(BindAddr::Unix(p97.clone().into()))
        );
        let p98 = format!("/tmp/{}", "a".repeat(93));
        assert_eq!(
            parse_bind_addr(&p98),
            Err(format!("socket path '{p98}' too long (max 97)"))
        );
        assert_eq!(parse_bind_addr("fd@3"), Ok(BindAddr::Fd(3)));
        assert_eq!(parse_bind_addr("fd@+3"), Ok(BindAddr::Fd(3)));
        for bad in ["fd@x", "fd@", "fd@-1", "fd@3x", "fd@99999999999"] {
            let n = bad.trim_start_matches("fd@");
            assert_eq!(
                parse_bind_addr(bad),
                Err(format!(
                    "file descriptor '{n}' is not a valid integer in '{bad}'"
                ))
            );
        }
    }

    #[test]
    fn bind_errors() {
        let cases = [
            ("", "missing address"),
            ("127.0.0.1", "missing port specification in '127.0.0.1'"),
            ("[::1]", "missing port specification in '[::1]'"),
            ("[::1]18080", "missing port specification in '[::1]18080'"),
            ("::", "missing port specification in '::'"),
            ("*", "missing port specification in '*'"),
            (":", "missing port specification in ':'"),
            ("*:", "missing port specification in '*:'"),
            (
                "127.0.0.1:80:",
                "missing port specification in '127.0.0.1:80:'",
            ),
            ("127.0.0.1:0", "invalid port '0'"),
            ("127.0.0.1:0-5", "invalid port '0'"),
            ("127.0.0.1:65536", "invalid port '65536'"),
            ("127.0.0.1:99999999999", "invalid port '99999999999'"),
            ("127.0.0.1:18080-", "invalid port ''"),
            ("127.0.0.1:8010-8000", "invalid port range '8010-8000'"),
            (
                "127.0.0.1:x",
                "invalid character 'x' in port number 'x' in '127.0.0.1:x'",
            ),
            (
                "127.0.0.1:80x",
                "invalid character 'x' in port number '80x' in '127.0.0.1:80x'",
            ),
            (
                "127.0.0.1: 80",
                "invalid character ' ' in port number ' 80' in '127.0.0.1: 80'",
            ),
            (
                "127.0.0.1:+80",
                "port offset not permitted here in '127.0.0.1:+80'",
            ),
            (
                "127.0.0.1:-80",
                "port offset not permitted here in '127.0.0.1:-80'",
            ),
            (
                "1.2.3.4.5:80",
                "invalid address: '1.2.3.4.5' in '1.2.3.4.5:80'",
            ),
            (
                " 127.0.0.1:80",
                "invalid address: ' 127.0.0.1' in ' 127.0.0.1:80'",
            ),
            ("[::1:80", "invalid address: '[::1' in '[::1:80'"),
            ("::1]:80", "invalid address: '::1]' in '::1]:80'"),
            ("[]:80", "invalid address: '[]' in '[]:80'"),
            (
                "[fe80::1%lo]:80",
                "invalid address: '[fe80::1%lo]' in '[fe80::1%lo]:80'",
            ),
            (
                "08.0.0.1:80",
                "invalid address: '08.0.0.1' in '08.0.0.1:80'",
            ),
            (
                "256.0.0.1:80",
                "invalid address: '256.0.0.1' in '256.0.0.1:80'",
            ),
            (
                "1.2.3.256:80",
                "invalid address: '1.2.3.256' in '1.2.3.256:80'",
            ),
            ("1.2..3:80", "invalid address: '1.2..3' in '1.2..3:80'"),
        ];
        for (s, msg) in cases {
            assert_eq!(parse_bind_addr(s), Err(msg.to_string()), "{s}");
        }
    }

    #[test]
    fn bind_hostnames() {
        assert_eq!(inet("localhost:80").1, 80..=80);
        assert!(inet("localhost:80").0.is_loopback());
        assert_eq!(
            parse_bind_addr("nosuchhost.invalid:80"),
            Err("invalid address: 'nosuchhost.invalid' in 'nosuchhost.invalid:80'".into())
        );
    }

    #[test]
    fn loose_ipv4() {
        assert_eq!(parse_ipv4_loose("1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(
            parse_ipv4_loose("01.02.03.04"),
            Some(Ipv4Addr::new(1, 2, 3, 4))
        );
        assert_eq!(
            parse_ipv4_loose("10.1.65535"),
            Some(Ipv4Addr::new(10, 1, 255, 255))
        );
        assert_eq!(
            parse_ipv4_loose("10.16777215"),
            Some(Ipv4Addr::new(10, 255, 255, 255))
        );
        assert_eq!(
            parse_ipv4_loose("4294967295"),
            Some(Ipv4Addr::new(255, 255, 255, 255))
        );
        assert_eq!(
            parse_ipv4_loose("0xA.0X0.0x.1"),
            Some(Ipv4Addr::new(10, 0, 0, 1))
        );
        assert_eq!(parse_ipv4_loose("0"), Some(Ipv4Addr::new(0, 0, 0, 0)));
        for bad in [
            "",
            ".",
            "1.",
            ".1",
            "1.2.3.4.5",
            "4294967296",
            "10.1.65536",
            "09",
            "0xg",
            "a",
            "1 .2",
            "-1",
            "+1",
        ] {
            assert_eq!(parse_ipv4_loose(bad), None, "{bad}");
        }
    }

    #[test]
    fn server_addresses() {
        assert_eq!(
            parse_server_addr("127.0.0.1:80", false),
            Ok((v4(127, 0, 0, 1), Some(80)))
        );
        assert_eq!(
            parse_server_addr("127.0.0.1", false),
            Ok((v4(127, 0, 0, 1), None))
        );
        assert_eq!(
            parse_server_addr("127.0.0.1:", false),
            Ok((v4(127, 0, 0, 1), None))
        );
        assert_eq!(
            parse_server_addr("127.0.0.1:0", false),
            Ok((v4(127, 0, 0, 1), Some(0)))
        );
        assert_eq!(
            parse_server_addr(":80", false),
            Ok((v4(0, 0, 0, 0), Some(80)))
        );
        assert_eq!(
            parse_server_addr("*:80", false),
            Ok((v4(0, 0, 0, 0), Some(80)))
        );
        assert_eq!(
            parse_server_addr("127.1:80", false),
            Ok((v4(127, 0, 0, 1), Some(80)))
        );
        let lo6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(parse_server_addr("::1:80", false), Ok((lo6, Some(80))));
        assert_eq!(parse_server_addr("[::1]:80", false), Ok((lo6, Some(80))));
        assert_eq!(parse_server_addr("[::1]", false), Ok((lo6, None)));
        assert_eq!(parse_server_addr("ipv6@::1:80", false), Ok((lo6, Some(80))));
        assert_eq!(
            parse_server_addr("ipv4@10.0.0.1:80", false),
            Ok((v4(10, 0, 0, 1), Some(80)))
        );
        // last-colon rule: a bare "::1" is host ':' with port 1
        assert_eq!(
            parse_server_addr("::1", true),
            Err("could not resolve address ':'".into())
        );
    }

    #[test]
    fn server_address_errors() {
        let cases = [
            ("127.0.0.1:65536", "invalid port '65536'".to_string()),
            (
                "127.0.0.1:80-90",
                "port range not permitted here in '127.0.0.1:80-90'".into(),
            ),
            (
                "127.0.0.1:x",
                "invalid character 'x' in port number 'x' in '127.0.0.1:x'".into(),
            ),
            (
                "127.0.0.1:+10",
                "port offsets are not supported in '127.0.0.1:+10'".into(),
            ),
            (
                "127.0.0.1:-10",
                "port offsets are not supported in '127.0.0.1:-10'".into(),
            ),
            (
                "fd@3",
                "a file descriptor is not acceptable here in 'fd@3'".into(),
            ),
            (
                "/tmp/sock",
                "UNIX socket addresses are not supported here in '/tmp/sock'".into(),
            ),
            (
                "unix@/tmp/sock",
                "unsupported address family 'unix@' in 'unix@/tmp/sock'".into(),
            ),
            ("ipv4@::1:80", "could not resolve address '::1'".into()),
            (
                "localhost:80",
                "could not resolve address 'localhost'".into(),
            ),
            (
                "nosuchhost.invalid",
                "could not resolve address 'nosuchhost.invalid'".into(),
            ),
            (
                "[::1]18080",
                "could not resolve address '[::1]18080'".into(),
            ),
            ("[::1]x", "could not resolve address '[::1]x'".into()),
            ("[]:80", "could not resolve address '[]'".into()),
            ("08.0.0.1:80", "could not resolve address '08.0.0.1'".into()),
        ];
        for (s, msg) in cases {
            assert_eq!(parse_server_addr(s, false), Err(msg), "{s}");
        }
    }

    #[test]
    fn server_hostnames_resolve() {
        match parse_server_addr("localhost:8080", true) {
            Ok((ip, port)) => {
                assert!(ip.is_loopback());
                assert_eq!(port, Some(8080));
            }
            Err(e) => panic!("{e}"),
        }
        assert_eq!(
            parse_server_addr("nosuchhost.invalid:80", true),
            Err("could not resolve address 'nosuchhost.invalid'".into())
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let samples = [
            "",
            ":",
            "[",
            "]",
            "[]",
            "[:",
            "@",
            "@@",
            "fd@",
            "ipv4@",
            "ipv6@[",
            "é:é",
            "[é]:1",
            "1-",
            "-",
            "0x",
            "0x.0x",
            "....",
            "::::::::::",
            "[::1]:",
            "1:2:3:4:5:6:7:8:9:10",
        ];
        for s in samples {
            let _ = parse_bind_addr(s);
            let _ = parse_server_addr(s, false);
            let _ = parse_time(s, 1);
            let _ = parse_size(s);
            let _ = parse_uint(s, 0, 1);
            let _ = parse_ipv4_loose(s);
        }
    }
}
