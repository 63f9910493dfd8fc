//! Samples: the typed values fetches produce and converters transform
//! (configuration.txt 7.3), and the casts between their types.
//!
//! A string sample borrows the stream's bytes when it can (`Data::Ref`: a
//! header value is a slice of the channel buffer) and owns a buffer only
//! when a converter made a new string; owned buffers come from and return
//! to a [`BufPool`], so evaluating a rule allocates nothing once the pool
//! is warm.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use bitflags::bitflags;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A sample's type (HAProxy's `SMP_T_*`). `Meth` is not kept apart:
/// methods are strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmpType {
    /// Accepts any type (converter inputs such as `bool`'s, `set-var`'s).
    Any,
    Bool,
    Sint,
    /// IPv4 or IPv6 (converter inputs such as `ipmask`'s).
    Addr,
    Ipv4,
    Ipv6,
    Str,
    Bin,
}

impl SmpType {
    /// HAProxy's name for the type, as its error messages print it.
    pub fn name(self) -> &'static str {
        match self {
            SmpType::Any => "any",
            SmpType::Bool => "bool",
            SmpType::Sint => "sint",
            SmpType::Addr => "addr",
            SmpType::Ipv4 => "ipv4",
            SmpType::Ipv6 => "ipv6",
            SmpType::Str => "str",
            SmpType::Bin => "bin",
        }
    }

    /// True when a sample of type `self` can be cast to `to` (HAProxy's
    /// `sample_casts` matrix): what the expression parser checks between a
    /// fetch and each converter.
    pub fn casts_to(self, to: SmpType) -> bool {
        use SmpType::*;
        match (self, to) {
            (_, Any) | (Any, _) => true,
            (a, b) if a == b => true,
            (Addr, Ipv4 | Ipv6) | (Ipv4 | Ipv6, Addr) => true,
            (Bool | Sint, Bool | Sint | Str | Bin) => true,
            (Bool | Sint, Ipv4 | Ipv6 | Addr) => to != Addr || self == Sint,
            (Ipv4, Ipv6 | Str | Bin | Sint) => true,
            (Ipv6, Ipv4 | Str | Bin) => true,
            (Str, _) => true,
            (Bin, Str) => true,
            _ => false,
        }
    }
}

/// Bytes of a string or binary sample: borrowed from the stream, or owned
/// (a pooled buffer).
#[derive(Debug)]
pub enum Data<'a> {
    Ref(&'a [u8]),
    Own(Vec<u8>),
}

impl Data<'_> {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Data::Ref(b) => b,
            Data::Own(v) => v,
        }
    }
}

/// A sample's value.
#[derive(Debug)]
pub enum Smp<'a> {
    Bool(bool),
    Sint(i64),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Str(Data<'a>),
    Bin(Data<'a>),
}

bitflags! {
    /// What the fetch says about its result (HAProxy's `SMP_F_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct SmpFlags: u8 {
        /// More occurrences follow (an ACL asks for the next one).
        const NOT_LAST   = 0x01;
        /// The value may change once more data arrives (rules with an
        /// inspect delay wait instead of deciding).
        const MAY_CHANGE = 0x02;
    }
}

/// A fetched or converted sample.
#[derive(Debug)]
pub struct Sample<'a> {
    pub data: Smp<'a>,
    pub flags: SmpFlags,
}

impl<'a> Sample<'a> {
    pub fn new(data: Smp<'a>) -> Self {
        Sample {
            data,
            flags: SmpFlags::empty(),
        }
    }
    pub fn bool(b: bool) -> Self {
        Sample::new(Smp::Bool(b))
    }
    pub fn sint(n: i64) -> Self {
        Sample::new(Smp::Sint(n))
    }
    pub fn str_ref(b: &'a [u8]) -> Self {
        Sample::new(Smp::Str(Data::Ref(b)))
    }
    pub fn str_own(v: Vec<u8>) -> Self {
        Sample::new(Smp::Str(Data::Own(v)))
    }
    pub fn bin_ref(b: &'a [u8]) -> Self {
        Sample::new(Smp::Bin(Data::Ref(b)))
    }
    pub fn bin_own(v: Vec<u8>) -> Self {
        Sample::new(Smp::Bin(Data::Own(v)))
    }

    pub fn smp_type(&self) -> SmpType {
        match self.data {
            Smp::Bool(_) => SmpType::Bool,
            Smp::Sint(_) => SmpType::Sint,
            Smp::Ipv4(_) => SmpType::Ipv4,
            Smp::Ipv6(_) => SmpType::Ipv6,
            Smp::Str(_) => SmpType::Str,
            Smp::Bin(_) => SmpType::Bin,
        }
    }

    /// The bytes of a string or binary sample.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.data {
            Smp::Str(d) | Smp::Bin(d) => Some(d.as_bytes()),
            _ => None,
        }
    }

    /// Gives an owned buffer back to the pool.
    pub fn recycle(self, pool: &mut BufPool) {
        if let Smp::Str(Data::Own(v)) | Smp::Bin(Data::Own(v)) = self.data {
            pool.put(v);
        }
    }

    /// Casts to `to` as HAProxy's `sample_casts` does; None when the cast
    /// fails (the sample is then missing, and a rule on it is false).
    pub fn cast(self, to: SmpType, pool: &mut BufPool) -> Option<Sample<'a>> {
        let flags = self.flags;
        let data = match (self.data, to) {
            (d, SmpType::Any) => d,
            (Smp::Bool(b), SmpType::Bool) => Smp::Bool(b),
            (Smp::Sint(n), SmpType::Sint) => Smp::Sint(n),
            (Smp::Bool(b), SmpType::Sint) => Smp::Sint(i64::from(b)),
            (Smp::Sint(n), SmpType::Bool) => Smp::Bool(n != 0),
            // A number read as binary is its 8 bytes in network order, an
            // address its 4 or 16 bytes (HAProxy's c_int2bin, c_addr2bin).
            (Smp::Bool(b), SmpType::Bin) => {
                Smp::Bin(Data::Own(be_bytes(pool, &i64::from(b).to_be_bytes())))
            }
            (Smp::Sint(n), SmpType::Bin) => Smp::Bin(Data::Own(be_bytes(pool, &n.to_be_bytes()))),
            (Smp::Ipv4(a), SmpType::Bin) => Smp::Bin(Data::Own(be_bytes(pool, &a.octets()))),
            (Smp::Ipv6(a), SmpType::Bin) => Smp::Bin(Data::Own(be_bytes(pool, &a.octets()))),
            (Smp::Bool(b), SmpType::Str) => {
                let mut v = pool.get();
                v.push(if b { b'1' } else { b'0' });
                text_or_bin(v, to)
            }
            (Smp::Sint(n), SmpType::Str) => {
                let mut v = pool.get();
                push_int(&mut v, n);
                text_or_bin(v, to)
            }
            (Smp::Sint(n), SmpType::Ipv4 | SmpType::Addr) => {
                // HAProxy stores the integer in network order.
                Smp::Ipv4(Ipv4Addr::from(n as u32))
            }
            (Smp::Sint(n), SmpType::Ipv6) => Smp::Ipv6(Ipv4Addr::from(n as u32).to_ipv6_mapped()),
            (Smp::Ipv4(a), SmpType::Ipv4 | SmpType::Addr) => Smp::Ipv4(a),
            (Smp::Ipv6(a), SmpType::Ipv6 | SmpType::Addr) => Smp::Ipv6(a),
            (Smp::Ipv4(a), SmpType::Ipv6) => Smp::Ipv6(a.to_ipv6_mapped()),
            (Smp::Ipv6(a), SmpType::Ipv4) => Smp::Ipv4(a.to_ipv4_mapped()?),
            (Smp::Ipv4(a), SmpType::Sint) => Smp::Sint(i64::from(u32::from(a))),
            (Smp::Ipv4(a), SmpType::Str) => {
                let mut v = pool.get();
                let _ = write!(Vw(&mut v), "{a}");
                text_or_bin(v, to)
            }
            (Smp::Ipv6(a), SmpType::Str) => {
                let mut v = pool.get();
                let _ = write!(Vw(&mut v), "{a}");
                text_or_bin(v, to)
            }
            (Smp::Str(d), SmpType::Str) => Smp::Str(d),
            (Smp::Str(d) | Smp::Bin(d), SmpType::Bin) => Smp::Bin(d),
            // A binary sample read as text stops at its first NUL, as
            // HAProxy's C strings do.
            (Smp::Bin(d), SmpType::Str) => Smp::Str(truncate_nul(d)),
            (Smp::Str(d), SmpType::Sint) => {
                let n = str_to_int(d.as_bytes());
                recycle_data(d, pool);
                Smp::Sint(n?)
            }
            (Smp::Str(d), SmpType::Bool) => {
                let n = str_to_int(d.as_bytes());
                recycle_data(d, pool);
                Smp::Bool(n? != 0)
            }
            (Smp::Str(d), SmpType::Ipv4) => {
                let a = parse_ipv4(d.as_bytes());
                recycle_data(d, pool);
                Smp::Ipv4(a?)
            }
            (Smp::Str(d), SmpType::Ipv6) => {
                let a = parse_ip(d.as_bytes()).map(|a| match a {
                    std::net::IpAddr::V4(a) => a.to_ipv6_mapped(),
                    std::net::IpAddr::V6(a) => a,
                });
                recycle_data(d, pool);
                Smp::Ipv6(a?)
            }
            (Smp::Str(d), SmpType::Addr) => {
                let a = parse_ip(d.as_bytes());
                recycle_data(d, pool);
                match a? {
                    std::net::IpAddr::V4(a) => Smp::Ipv4(a),
                    std::net::IpAddr::V6(a) => Smp::Ipv6(a),
                }
            }
            (d, _) => {
                Sample { data: d, flags }.recycle(pool);
                return None;
            }
        };
        Some(Sample { data, flags })
    }
}

fn text_or_bin(v: Vec<u8>, to: SmpType) -> Smp<'static> {
    if to == SmpType::Bin {
        Smp::Bin(Data::Own(v))
    } else {
        Smp::Str(Data::Own(v))
    }
}

fn be_bytes(pool: &mut BufPool, b: &[u8]) -> Vec<u8> {
    let mut v = pool.get();
    v.extend_from_slice(b);
    v
}

fn truncate_nul(d: Data<'_>) -> Data<'_> {
    match d {
        Data::Ref(b) => Data::Ref(
            b.get(..memchr::memchr(0, b).unwrap_or(b.len()))
                .unwrap_or(b),
        ),
        Data::Own(mut v) => {
            if let Some(i) = memchr::memchr(0, &v) {
                v.truncate(i);
            }
            Data::Own(v)
        }
    }
}

fn recycle_data(d: Data<'_>, pool: &mut BufPool) {
    if let Data::Own(v) = d {
        pool.put(v);
    }
}

/// `io::Write`-free adapter to format into a byte vector.
pub struct Vw<'v>(pub &'v mut Vec<u8>);

impl std::fmt::Write for Vw<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Appends `n` in decimal.
pub fn push_int(v: &mut Vec<u8>, n: i64) {
    let _ = write!(Vw(v), "{n}");
}

/// HAProxy's string-to-integer cast: a leading sign and digits, whatever
/// follows ignored; no digit reads 0 (`abc` -> 0, ` 12` -> 0); only an
/// empty string fails.
pub fn str_to_int(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    if b.first().is_some_and(|c| matches!(c, b' ' | b'\t')) {
        return Some(0);
    }
    Some(parse_leading_int(b).unwrap_or(0))
}

/// C's `strtoll` as HAProxy's string-to-integer cast uses it: optional
/// blanks and sign, then digits; no digit at all fails the cast. Saturates.
pub fn parse_leading_int(b: &[u8]) -> Option<i64> {
    let mut i = 0;
    while b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t')) {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut n: i64 = 0;
    while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
        let d = i64::from(c - b'0');
        n = if neg {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
        i += 1;
    }
    (i > start).then_some(n)
}

/// An IPv4 address in dotted form (the whole input).
pub fn parse_ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

/// An IPv4 or IPv6 address (the whole input).
pub fn parse_ip(b: &[u8]) -> Option<std::net::IpAddr> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

/// Recycled byte buffers for owned samples (HAProxy's trash chunks): a
/// converter takes one with `get` and the evaluator gives it back once the
/// sample is consumed.
#[derive(Debug, Default)]
pub struct BufPool {
    free: Vec<Vec<u8>>,
}

impl BufPool {
    /// An empty buffer, reused when one is free.
    pub fn get(&mut self) -> Vec<u8> {
        let mut v = self.free.pop().unwrap_or_default();
        v.clear();
        v
    }

    /// Gives a buffer back; a few are kept, oversized ones dropped.
    pub fn put(&mut self, v: Vec<u8>) {
        if self.free.len() < 16 && v.capacity() <= 64 * 1024 {
            self.free.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast_str(s: Sample<'_>) -> String {
        let mut p = BufPool::default();
        let out = s
            .cast(SmpType::Str, &mut p)
            .map(|s| s.bytes().map(<[u8]>::to_vec));
        String::from_utf8(out.flatten().unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn casts_follow_haproxy_matrix() {
        let mut p = BufPool::default();
        assert_eq!(cast_str(Sample::sint(-42)), "-42");
        assert_eq!(cast_str(Sample::bool(true)), "1");
        assert_eq!(
            cast_str(Sample::new(Smp::Ipv4(Ipv4Addr::new(10, 0, 0, 1)))),
            "10.0.0.1"
        );
        let s = Sample::str_ref(b"12abc").cast(SmpType::Sint, &mut p);
        assert!(matches!(s.map(|s| s.data), Some(Smp::Sint(12))));
        let s = Sample::str_ref(b"abc").cast(SmpType::Sint, &mut p);
        assert!(matches!(s.map(|s| s.data), Some(Smp::Sint(0))));
        assert!(Sample::str_ref(b"").cast(SmpType::Sint, &mut p).is_none());
        let s = Sample::str_ref(b"192.168.0.1").cast(SmpType::Ipv4, &mut p);
        assert!(
            matches!(s.map(|s| s.data), Some(Smp::Ipv4(a)) if a == Ipv4Addr::new(192, 168, 0, 1))
        );
        let s = Sample::bin_ref(b"ab\0cd").cast(SmpType::Str, &mut p);
        assert_eq!(
            s.and_then(|s| s.bytes().map(<[u8]>::to_vec)),
            Some(b"ab".to_vec())
        );
        assert!(!SmpType::Ipv6.casts_to(SmpType::Sint));
        assert!(SmpType::Str.casts_to(SmpType::Ipv4));
    }

    #[test]
    fn pool_reuses_buffers() {
        let mut p = BufPool::default();
        let mut v = p.get();
        v.extend_from_slice(b"hello");
        let cap = v.capacity();
        p.put(v);
        let v = p.get();
        assert!(v.is_empty());
        assert_eq!(v.capacity(), cap);
    }
}
