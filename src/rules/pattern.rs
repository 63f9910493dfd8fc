//! Patterns and match methods (configuration.txt 7.1): what an ACL compares
//! a sample with, and the keys of a map.
//!
//! ```text
//!   PatRef  (a file, or an ACL line's inline words; what `show acl|map`
//!     |      lists and `add|del|set map` edit: keys, map values, versions)
//!     +--> PatExpr (one per user and match method: the compiled index)
//!            lookup(sample) -> the matching entry
//! ```
//!
//! Indexes (HAProxy keeps `str`, `beg` and `ip` sets in trees, the others
//! in lists; `get map` reports which as `idx=tree|list`):
//!
//! - `str`, `bin`: a hash table, key -> first entry with that key.
//! - `beg`: a hash table per key length, lengths probed longest first: the
//!   longest matching prefix wins, as in HAProxy's prefix tree. With `-i`
//!   HAProxy uses a list (first entry in source order wins): the same
//!   tables give it, as the smallest entry index over every length.
//! - `ip`: a hash table per prefix length (IPv4 networks stored IPv4-mapped
//!   in the IPv6 space), longest first: the most specific network wins.
//! - `int`, `len`: single values in a hash table, ranges in the list; the
//!   first entry in source order wins across both.
//! - `sub`, `end`, `dir`, `dom`, `reg`: the list, scanned in source order.
//!
//! Lookups cost one hash probe per distinct key length (bounded by the key
//! sizes, not by the number of entries) and allocate nothing: `-i` keys are
//! lower-cased in a stack buffer (samples over 256 bytes excepted), and
//! `map_regm` reuses capture slots kept beside each regex.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::sample::{BufPool, Sample, Smp, SmpType};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiply-rotate hasher (FxHash's scheme). The tables hold keys from
/// the configuration or the CLI, so an attacker cannot fill them with
/// colliding keys; SipHash's cost was the larger part of a lookup.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(d) = w.get_mut(..rest.len()) {
                d.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(w) ^ (rest.len() as u64) << 56);
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map with [`FxHasher`].
type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
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
    /// A `sub` pattern with its searcher built once (lowered under `-i`).
    Sub(Box<memchr::memmem::Finder<'static>>),
}

/// One entry of a pattern source: the key, and the value for a map.
#[derive(Debug, Clone)]
pub struct PatEntry {
    /// Unique id of the entry in the store (`show map` prints it, `del map
    /// <ref> #<id>` takes it back): HAProxy prints the entry's address.
    pub id: u64,
    pub key: String,
    pub value: Option<String>,
    /// Version the entry belongs to (`prepare`/`commit`).
    pub version: u32,
    /// Line of the file it was read from (0: added from the CLI or inline).
    pub line: u32,
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
    /// Two-column file (keys and values: HAProxy's `PAT_REF_SMP`).
    pub is_map: bool,
    /// Listed by `show acl` (used by an ACL: `PAT_REF_ACL`).
    pub in_acl: bool,
    /// Listed by `show map` (used by a map converter or `-M`: `PAT_REF_MAP`).
    pub in_map: bool,
    pub entries: Vec<PatEntry>,
    pub curr_gen: u32,
    pub next_gen: u32,
    /// HAProxy's `entry_cnt`, with its accounting: each set compiled from
    /// the source adds the entries it loads, each CLI addition adds one
    /// (a refused one takes one away), each removal takes one away.
    pub entry_cnt: u32,
    /// The compiled expressions built from this source, in creation order.
    pub exprs: Vec<usize>,
}

/// A map value parsed to the converter's output type at load.
#[derive(Debug, Clone, Copy)]
pub enum MapVal {
    /// String output: the value is read from the source entry.
    Str,
    Sint(i64),
    Ipv4(std::net::Ipv4Addr),
    Ipv6(std::net::Ipv6Addr),
}

/// Parses a map value for output type `out` (`Str`, `Sint` or `Addr`).
pub fn parse_map_val(out: SmpType, v: &str) -> Result<MapVal, String> {
    let bad = || format!("unable to parse '{v}'");
    match out {
        SmpType::Sint => v.parse::<i64>().map(MapVal::Sint).map_err(|_| bad()),
        SmpType::Addr | SmpType::Ipv4 | SmpType::Ipv6 => {
            let a = v.split_once('/').map_or(v, |(a, _)| a);
            match a.parse::<IpAddr>().map_err(|_| bad())? {
                IpAddr::V4(a) => Ok(MapVal::Ipv4(a)),
                IpAddr::V6(a) => Ok(MapVal::Ipv6(a)),
            }
        }
        _ => Ok(MapVal::Str),
    }
}

/// Keys indexed by length: a hash table per key length, longest first.
/// `beg` probes the sample's prefix of each indexed length, `ip` the
/// sample's network of each indexed prefix length: a lookup costs one hash
/// probe per distinct length, whatever the number of entries.
#[derive(Debug, Clone)]
struct ByLen<K> {
    tables: Vec<(u32, FxMap<K, u32>)>,
}

impl<K> Default for ByLen<K> {
    fn default() -> Self {
        ByLen { tables: Vec::new() }
    }
}

impl<K: std::hash::Hash + Eq> ByLen<K> {
    /// Indexes `key` of length `len` for entry `idx`; an equal key keeps
    /// its first entry.
    fn insert(&mut self, len: u32, key: K, idx: u32) {
        let i = match self.tables.binary_search_by(|(l, _)| len.cmp(l)) {
            Ok(i) => i,
            Err(i) => {
                self.tables.insert(i, (len, FxMap::default()));
                i
            }
        };
        if let Some((_, t)) = self.tables.get_mut(i) {
            let e = t.entry(key).or_insert(idx);
            *e = (*e).min(idx);
        }
    }
}

/// A compiled pattern set: one match method over one source, for one user
/// kind (the ACLs, or the map converters of one output type).
#[derive(Debug, Clone)]
pub struct PatExpr {
    pub method: Match,
    pub icase: bool,
    /// `map_regm`: `reg` whose value takes back-references.
    pub regm: bool,
    pub ref_id: usize,
    /// Output type of a map converter's set (`Str`, `Sint`, `Addr`); None
    /// for an ACL's, which reads no value.
    pub out: Option<SmpType>,
    /// Patterns without an index, in source order: (pattern, entry index).
    list: Vec<(Pat, u32)>,
    /// `str` (and `bin`): key -> first entry; lower-cased keys with `-i`.
    exact: FxMap<Vec<u8>, u32>,
    /// `beg`: prefixes by length (lower-cased with `-i`).
    prefix: ByLen<Vec<u8>>,
    /// `ip`: networks (IPv6 form, IPv4 mapped) by prefix length.
    nets: ByLen<u128>,
    /// `int` / `len`: single values -> first entry; ranges stay in `list`.
    ints: FxMap<i64, u32>,
    /// Entries compiled.
    n: usize,
    /// Parsed map values by entry index (int and ip outputs).
    vals: FxMap<u32, MapVal>,
    /// `map_regm`: capture slots per listed regex, reused by every lookup.
    locs: Vec<std::cell::RefCell<regex::bytes::CaptureLocations>>,
}

impl PatExpr {
    /// An empty set for an ACL.
    pub fn new(method: Match, icase: bool, ref_id: usize) -> PatExpr {
        PatExpr {
            method,
            icase,
            regm: false,
            ref_id,
            out: None,
            list: Vec::new(),
            exact: FxMap::default(),
            prefix: ByLen::default(),
            nets: ByLen::default(),
            ints: FxMap::default(),
            n: 0,
            vals: FxMap::default(),
            locs: Vec::new(),
        }
    }

    /// An empty set for map converters with output type `out`.
    pub fn new_map(method: Match, regm: bool, ref_id: usize, out: SmpType) -> PatExpr {
        PatExpr {
            regm,
            out: Some(out),
            ..PatExpr::new(method, false, ref_id)
        }
    }

    /// The method's name as `get map` prints it (`regm` for `map_regm`).
    pub fn method_name(&self) -> &'static str {
        if self.regm {
            "regm"
        } else {
            self.method.name()
        }
    }

    /// True when HAProxy keeps this set in a tree rather than a list (what
    /// `get map` reports as `idx=`).
    pub fn is_tree(&self) -> bool {
        match self.method {
            Match::Str | Match::Beg => !self.icase,
            Match::Ip => true,
            _ => false,
        }
    }

    /// Checks that `key` (and for a map set, `value`) compile, without
    /// adding them.
    pub fn check(&self, key: &str, value: Option<&str>) -> Result<(), String> {
        compile(self.method, self.icase, key)?;
        if let Some(out) = self.out {
            parse_map_val(out, value.unwrap_or(""))?;
        }
        Ok(())
    }

    /// Compiles and adds the key (and the value of a map set) of entry
    /// `idx`. Entries must be added in increasing `idx` order.
    pub fn add(&mut self, key: &str, value: Option<&str>, idx: u32) -> Result<(), String> {
        let val = match self.out {
            Some(out) => Some(parse_map_val(out, value.unwrap_or(""))?),
            None => None,
        };
        let pat = compile(self.method, self.icase, key)?;
        self.n += 1;
        match (self.method, pat) {
            (Match::Str | Match::Bin, Pat::Bytes(k)) => {
                self.exact.entry(k).or_insert(idx);
            }
            (Match::Beg, Pat::Bytes(k)) => {
                self.prefix.insert(k.len() as u32, k, idx);
            }
            (Match::Ip, Pat::Net(net, len)) => self.nets.insert(u32::from(len), net, idx),
            (Match::Int | Match::Len, Pat::Range(a, b)) if a == b => {
                self.ints.entry(a).or_insert(idx);
            }
            (_, pat) => {
                if let Pat::Reg(r) = &pat
                    && self.regm
                {
                    self.locs
                        .push(std::cell::RefCell::new(r.capture_locations()));
                }
                self.list.push((pat, idx));
            }
        }
        if let Some(v @ (MapVal::Sint(_) | MapVal::Ipv4(_) | MapVal::Ipv6(_))) = val {
            self.vals.insert(idx, v);
        }
        Ok(())
    }

    /// Rebuilds from a source's entries of version `version`.
    pub fn rebuild(&mut self, entries: &[PatEntry], version: u32) -> Result<(), String> {
        self.list.clear();
        self.exact.clear();
        self.prefix.tables.clear();
        self.nets.tables.clear();
        self.n = 0;
        self.ints.clear();
        self.vals.clear();
        self.locs.clear();
        for (i, e) in entries.iter().enumerate() {
            if e.version == version {
                let idx = u32::try_from(i).unwrap_or(u32::MAX);
                self.add(&e.key, e.value.as_deref(), idx)?;
            }
        }
        Ok(())
    }

    /// Number of entries compiled.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The parsed value of entry `idx` of a map set.
    pub fn value(&self, idx: u32) -> MapVal {
        self.vals.get(&idx).copied().unwrap_or(MapVal::Str)
    }

    /// The matching entry for `smp` (already cast to `method.smp_type()`):
    /// the most specific one for the tree-indexed methods (`str`, `beg`,
    /// `ip` without `-i`; the first in source order among equal keys),
    /// else the first in source order, as HAProxy's lists.
    pub fn lookup(&self, smp: &Sample<'_>) -> Option<u32> {
        match self.method {
            Match::Str | Match::Bin => {
                let b = smp.bytes()?;
                if self.icase {
                    return with_lower(b, |k| self.exact.get(k).copied());
                }
                self.exact.get(b).copied()
            }
            Match::Beg => {
                let b = smp.bytes()?;
                if self.icase {
                    // A list in HAProxy: the first entry in source order.
                    return with_lower(b, |k| self.prefix_hits(k).min());
                }
                self.prefix_hits(b).next()
            }
            Match::Ip => {
                let v = match smp.data {
                    Smp::Ipv4(a) => u128::from(a.to_ipv6_mapped()),
                    Smp::Ipv6(a) => u128::from(a),
                    _ => return None,
                };
                self.nets
                    .tables
                    .iter()
                    .find_map(|(l, t)| t.get(&(v & mask(*l as u8))).copied())
            }
            Match::Int | Match::Len => {
                let n = match (self.method, &smp.data) {
                    (Match::Int, Smp::Sint(n)) => *n,
                    (Match::Len, _) => smp.bytes()?.len() as i64,
                    _ => return None,
                };
                let hit = self.ints.get(&n).copied();
                match (hit, self.scan(smp)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            _ => self.scan(smp),
        }
    }

    /// Entries whose key is a prefix of `b`, longest first.
    fn prefix_hits<'s>(&'s self, b: &'s [u8]) -> impl Iterator<Item = u32> + 's {
        self.prefix
            .tables
            .iter()
            .filter_map(move |(l, t)| t.get(b.get(..*l as usize)?).copied())
    }

    /// The first listed pattern matching `smp`.
    fn scan(&self, smp: &Sample<'_>) -> Option<u32> {
        // With -i, string patterns were lowered when compiled: lower the
        // sample once and compare bytes (memmem for `sub`) instead of
        // folding case at every position of every pattern.
        if self.icase
            && matches!(
                self.method,
                Match::Sub | Match::End | Match::Dir | Match::Dom
            )
            && let Some(b) = smp.bytes()
        {
            return with_lower(b, |k| {
                let low = Sample::str_ref(k);
                self.list
                    .iter()
                    .find(|(p, _)| matches(self.method, false, p, &low))
                    .map(|(_, i)| *i)
            });
        }
        self.list
            .iter()
            .find(|(p, _)| matches(self.method, self.icase, p, smp))
            .map(|(_, i)| *i)
    }

    /// For a `map_regm` set: the first listed regex matching `s`, and its
    /// capture slots filled (`f` reads them).
    pub fn regm_lookup<R>(
        &self,
        s: &[u8],
        f: impl FnOnce(u32, &regex::bytes::CaptureLocations) -> R,
    ) -> Option<R> {
        for ((p, idx), locs) in self.list.iter().zip(&self.locs) {
            if let Pat::Reg(r) = p {
                let mut l = locs.borrow_mut();
                if r.captures_read(&mut l, s).is_some() {
                    return Some(f(*idx, &l));
                }
            }
        }
        None
    }
}

/// Runs `f` on `b` lower-cased, in a stack buffer when it fits.
fn with_lower<R>(b: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let mut tmp = [0u8; 256];
    if let Some(t) = tmp.get_mut(..b.len()) {
        t.copy_from_slice(b);
        t.make_ascii_lowercase();
        return f(t);
    }
    f(&b.to_ascii_lowercase())
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
        Match::Sub => {
            let k = if icase {
                key.to_ascii_lowercase().into_bytes()
            } else {
                key.as_bytes().to_vec()
            };
            Pat::Sub(Box::new(memchr::memmem::Finder::new(&k).into_owned()))
        }
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
        (Match::Sub, Pat::Sub(f)) => smp.bytes().is_some_and(|s| {
            if icase {
                find_sub(true, s, f.needle())
            } else {
                f.find(s).is_some()
            }
        }),
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
#[path = "pattern_tests.rs"]
mod tests;
