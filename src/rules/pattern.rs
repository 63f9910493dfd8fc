//! Patterns and match methods (configuration.txt 7.1): what an ACL compares
//! a sample with, and the keys of a map.
//!
//! ```text
//!   PatRef  (a file, or an ACL line's inline words; what `show acl|map`
//!     |      lists and `add|del|set map` edit: keys, map values, versions)
//!     +--> PatExpr (one per user and match method: the compiled index)
//!            lookup(sample) -> the first matching entry
//! ```
//!
//! Exact-string methods index a hash table; the others scan the entries in
//! file order (the first match wins, as HAProxy's lists do).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::sample::{BufPool, Sample, Smp, SmpType};
use std::collections::HashMap;
use std::net::IpAddr;

/// A match method (`-m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Found,
    Bool,
    Int,
    Ip,
    Bin,
    Len,
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dir,
    Dom,
}

impl Match {
    /// The method named after `-m`.
    pub fn from_name(s: &str) -> Option<Match> {
        Some(match s {
            "found" => Match::Found,
            "bool" => Match::Bool,
            "int" => Match::Int,
            "ip" => Match::Ip,
            "bin" => Match::Bin,
            "len" => Match::Len,
            "str" => Match::Str,
            "beg" => Match::Beg,
            "end" => Match::End,
            "sub" => Match::Sub,
            "reg" => Match::Reg,
            "dir" => Match::Dir,
            "dom" => Match::Dom,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Match::Found => "found",
            Match::Bool => "bool",
            Match::Int => "int",
            Match::Ip => "ip",
            Match::Bin => "bin",
            Match::Len => "len",
            Match::Str => "str",
            Match::Beg => "beg",
            Match::End => "end",
            Match::Sub => "sub",
            Match::Reg => "reg",
            Match::Dir => "dir",
            Match::Dom => "dom",
        }
    }

    /// The method an ACL uses on a fetch of type `t` without `-m`.
    pub fn default_for(t: SmpType) -> Match {
        match t {
            SmpType::Bool => Match::Bool,
            SmpType::Sint => Match::Int,
            SmpType::Ipv4 | SmpType::Ipv6 | SmpType::Addr => Match::Ip,
            SmpType::Bin => Match::Bin,
            SmpType::Str | SmpType::Any => Match::Str,
        }
    }

    /// The type a sample is cast to before matching.
    pub fn smp_type(self) -> SmpType {
        match self {
            Match::Found => SmpType::Any,
            Match::Bool => SmpType::Bool,
            Match::Int => SmpType::Sint,
            Match::Ip => SmpType::Addr,
            Match::Bin => SmpType::Bin,
            _ => SmpType::Str,
        }
    }

    /// True when the method takes no pattern.
    pub fn no_pattern(self) -> bool {
        matches!(self, Match::Found | Match::Bool)
    }
}

/// One compiled pattern.
#[derive(Debug, Clone)]
pub enum Pat {
    Bytes(Vec<u8>),
    /// Inclusive integer range (`1:5`, `gt 3`, `10`).
    Range(i64, i64),
    /// Network and prefix length, IPv6 form (IPv4 mapped).
    Net(u128, u8),
    Reg(regex::bytes::Regex),
}

/// One entry of a pattern source: the key, and the value for a map.
#[derive(Debug, Clone)]
pub struct PatEntry {
    pub key: String,
    pub value: Option<String>,
    /// Version the entry belongs to (`prepare`/`commit`).
    pub version: u32,
}

/// A pattern source: a file, or the inline patterns of an ACL line.
#[derive(Debug, Clone, Default)]
pub struct PatRef {
    /// Unique id (`#<id>` on the CLI).
    pub id: u32,
    /// The file name, or empty for inline patterns.
    pub file: String,
    /// How `show acl|map` describes it.
    pub display: String,
    pub is_map: bool,
    pub entries: Vec<PatEntry>,
    pub curr_gen: u32,
    pub next_gen: u32,
    /// The compiled expressions built from this source.
    pub exprs: Vec<usize>,
}

/// A compiled pattern set: one match method over one source.
#[derive(Debug, Clone)]
pub struct PatExpr {
    pub method: Match,
    pub icase: bool,
    pub ref_id: usize,
    /// Compiled entries, in source order: (pattern, entry index).
    list: Vec<(Pat, u32)>,
    /// Exact-string index (`str`): key -> first entry.
    exact: HashMap<Vec<u8>, u32>,
}

impl PatExpr {
    pub fn new(method: Match, icase: bool, ref_id: usize) -> PatExpr {
        PatExpr {
            method,
            icase,
            ref_id,
            list: Vec::new(),
            exact: HashMap::new(),
        }
    }

    /// Compiles and adds the key of entry `idx`.
    pub fn add(&mut self, key: &str, idx: u32) -> Result<(), String> {
        if self.method == Match::Str {
            let k = if self.icase {
                key.to_ascii_lowercase().into_bytes()
            } else {
                key.as_bytes().to_vec()
            };
            self.exact.entry(k).or_insert(idx);
            return Ok(());
        }
        let pat = compile(self.method, self.icase, key)?;
        self.list.push((pat, idx));
        Ok(())
    }

    /// Rebuilds from a source's entries of version `version`.
    pub fn rebuild(&mut self, entries: &[PatEntry], version: u32) -> Result<(), String> {
        self.list.clear();
        self.exact.clear();
        for (i, e) in entries.iter().enumerate() {
            if e.version == version {
                self.add(&e.key, u32::try_from(i).unwrap_or(u32::MAX))?;
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.exact.is_empty()
    }

    /// The first entry matching `smp` (already cast to `method.smp_type()`).
    pub fn lookup(&self, smp: &Sample<'_>) -> Option<u32> {
        match self.method {
            Match::Str => {
                let b = smp.bytes()?;
                if self.icase {
                    // Keys are short: a stack copy avoids allocating.
                    let mut tmp = [0u8; 256];
                    if let Some(t) = tmp.get_mut(..b.len()) {
                        t.copy_from_slice(b);
                        t.make_ascii_lowercase();
                        return self.exact.get(&t[..]).copied();
                    }
                    return self.exact.get(&b.to_ascii_lowercase()).copied();
                }
                self.exact.get(b).copied()
            }
            _ => self
                .list
                .iter()
                .find(|(p, _)| matches(self.method, self.icase, p, smp))
                .map(|(_, i)| *i),
        }
    }
}

/// Compiles one pattern word for `method`.
pub fn compile(method: Match, icase: bool, key: &str) -> Result<Pat, String> {
    Ok(match method {
        Match::Found | Match::Bool => Pat::Bytes(Vec::new()),
        Match::Int | Match::Len => {
            let (a, b) = parse_range(key).ok_or_else(|| format!("'{key}' is not a number"))?;
            Pat::Range(a, b)
        }
        Match::Ip => {
            let (net, len) = parse_net(key)
                .ok_or_else(|| format!("'{key}' is not a valid IPv4 or IPv6 address"))?;
            Pat::Net(net, len)
        }
        Match::Bin => Pat::Bytes(
            parse_hex(key)
                .ok_or_else(|| format!("'{key}' is not a valid hexadecimal binary string"))?,
        ),
        Match::Reg => Pat::Reg(
            regex::bytes::RegexBuilder::new(key)
                .case_insensitive(icase)
                .unicode(false)
                .build()
                .map_err(|e| format!("regex '{key}' is invalid: {}", first_line(&e.to_string())))?,
        ),
        _ => Pat::Bytes(if icase {
            key.to_ascii_lowercase().into_bytes()
        } else {
            key.as_bytes().to_vec()
        }),
    })
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s)
}

/// `a:b`, `a:`, `:b`, `a`: an inclusive integer range.
pub fn parse_range(s: &str) -> Option<(i64, i64)> {
    let num = |t: &str| t.parse::<i64>().ok();
    match s.split_once(':') {
        Some((a, b)) => {
            let lo = if a.is_empty() { i64::MIN } else { num(a)? };
            let hi = if b.is_empty() { i64::MAX } else { num(b)? };
            Some((lo, hi))
        }
        None => num(s).map(|n| (n, n)),
    }
}

/// An address with an optional `/mask` (IPv4 dotted mask or prefix
/// length), as an IPv6-form network.
pub fn parse_net(s: &str) -> Option<(u128, u8)> {
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let ip: IpAddr = a.parse().ok()?;
    let (v, base, max) = match ip {
        IpAddr::V4(v4) => (u128::from(v4.to_ipv6_mapped()), 96u8, 32u8),
        IpAddr::V6(v6) => (u128::from(v6), 0, 128),
    };
    let len = match m {
        None => max,
        Some(m) if base == 96 => super::expr::parse_mask4(m)?,
        Some(m) => m.parse().ok().filter(|n| *n <= 128)?,
    };
    let len = base + len;
    Some((v & mask(len), len))
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|c| {
            let h = std::str::from_utf8(c).ok()?;
            u8::from_str_radix(h, 16).ok()
        })
        .collect()
}

fn eq_bytes(icase: bool, a: &[u8], b: &[u8]) -> bool {
    if icase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Whether `smp` matches `p` under `method`.
pub fn matches(method: Match, icase: bool, p: &Pat, smp: &Sample<'_>) -> bool {
    match (method, p) {
        (Match::Found, _) => true,
        (Match::Bool, _) => match smp.data {
            Smp::Bool(b) => b,
            Smp::Sint(n) => n != 0,
            _ => false,
        },
        (Match::Int, Pat::Range(a, b)) => {
            matches!(smp.data, Smp::Sint(n) if (*a..=*b).contains(&n))
        }
        (Match::Len, Pat::Range(a, b)) => smp
            .bytes()
            .is_some_and(|s| (*a..=*b).contains(&(s.len() as i64))),
        (Match::Ip, Pat::Net(net, len)) => {
            let v = match smp.data {
                Smp::Ipv4(a) => u128::from(a.to_ipv6_mapped()),
                Smp::Ipv6(a) => u128::from(a),
                _ => return false,
            };
            v & mask(*len) == *net
        }
        (Match::Reg, Pat::Reg(r)) => smp.bytes().is_some_and(|s| r.is_match(s)),
        (_, Pat::Bytes(pat)) => {
            let Some(s) = smp.bytes() else {
                return false;
            };
            match method {
                Match::Str | Match::Bin => eq_bytes(icase, s, pat),
                Match::Beg => s.get(..pat.len()).is_some_and(|h| eq_bytes(icase, h, pat)),
                Match::End => s
                    .len()
                    .checked_sub(pat.len())
                    .and_then(|o| s.get(o..))
                    .is_some_and(|t| eq_bytes(icase, t, pat)),
                Match::Sub => find_sub(icase, s, pat),
                Match::Dir => delimited(icase, s, pat, b"/?"),
                Match::Dom => delimited(icase, s, pat, b"/?.:"),
                _ => false,
            }
        }
        _ => false,
    }
}

fn find_sub(icase: bool, s: &[u8], pat: &[u8]) -> bool {
    if pat.is_empty() {
        return true;
    }
    if !icase {
        return memchr::memmem::find(s, pat).is_some();
    }
    s.windows(pat.len()).any(|w| w.eq_ignore_ascii_case(pat))
}

/// `dir` / `dom`: `pat` (its own delimiters trimmed) appears in `s` bounded
/// on both sides by a delimiter or the ends of `s`.
fn delimited(icase: bool, s: &[u8], pat: &[u8], delims: &[u8]) -> bool {
    let is_d = |c: &u8| delims.contains(c);
    let start = pat.iter().position(|c| !is_d(c)).unwrap_or(pat.len());
    let end = pat.iter().rposition(|c| !is_d(c)).map_or(start, |e| e + 1);
    let pat = pat.get(start..end).unwrap_or(&[]);
    if pat.is_empty() {
        return true;
    }
    let n = pat.len();
    (0..=s.len().saturating_sub(n)).any(|i| {
        s.get(i..i + n).is_some_and(|w| eq_bytes(icase, w, pat))
            && (i == 0 || s.get(i - 1).is_some_and(is_d))
            && s.get(i + n).is_none_or(is_d)
    })
}

/// Casts `smp` for `method` and looks it up.
pub fn lookup<'a>(
    pe: &PatExpr,
    smp: Sample<'a>,
    pool: &mut BufPool,
) -> (Option<u32>, Option<Sample<'a>>) {
    let Some(s) = smp.cast(pe.method.smp_type(), pool) else {
        return (None, None);
    };
    let hit = pe.lookup(&s);
    (hit, Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(method: Match, icase: bool, key: &str, s: &[u8]) -> bool {
        let p = compile(method, icase, key).unwrap_or(Pat::Range(1, 0));
        matches(method, icase, &p, &Sample::str_ref(s))
    }

    #[test]
    fn string_methods() {
        assert!(m(Match::Beg, false, "/api", b"/api/v1"));
        assert!(!m(Match::Beg, false, "/API", b"/api/v1"));
        assert!(m(Match::Beg, true, "/API", b"/api/v1"));
        assert!(m(Match::End, false, ".jpg", b"/a/b.jpg"));
        assert!(m(Match::Sub, false, "b/c", b"/a/b/c/d"));
        assert!(m(Match::Dir, false, "b", b"/a/b/c"));
        assert!(!m(Match::Dir, false, "b", b"/a/bc/d"));
        assert!(m(Match::Dom, false, "example.com", b"www.example.com"));
        assert!(!m(Match::Dom, false, "example.com", b"www.myexample.com"));
        assert!(m(Match::Reg, false, "^/img/[0-9]+$", b"/img/42"));
        assert!(m(Match::Len, false, "3:5", b"abcd"));
        assert!(!m(Match::Len, false, "3:5", b"ab"));
    }

    #[test]
    fn ranges_and_nets() {
        assert_eq!(parse_range("1:5"), Some((1, 5)));
        assert_eq!(parse_range(":5"), Some((i64::MIN, 5)));
        assert_eq!(parse_range("7"), Some((7, 7)));
        let (n, l) = parse_net("10.0.0.0/8").unwrap_or((0, 0));
        let p = Pat::Net(n, l);
        let s = Sample::new(Smp::Ipv4(std::net::Ipv4Addr::new(10, 1, 2, 3)));
        assert!(matches(Match::Ip, false, &p, &s));
        let s = Sample::new(Smp::Ipv4(std::net::Ipv4Addr::new(11, 1, 2, 3)));
        assert!(!matches(Match::Ip, false, &p, &s));
        assert!(parse_net("10.0.0.0/255.255.0.0").is_some_and(|(_, l)| l == 112));
        assert!(parse_net("::1/128").is_some());
    }

    #[test]
    fn exact_index_keeps_first_entry() {
        let mut pe = PatExpr::new(Match::Str, true, 0);
        for (i, k) in ["Host", "other", "host"].iter().enumerate() {
            assert!(pe.add(k, i as u32).is_ok());
        }
        assert_eq!(pe.lookup(&Sample::str_ref(b"HOST")), Some(0));
        assert_eq!(pe.lookup(&Sample::str_ref(b"none")), None);
    }
}
