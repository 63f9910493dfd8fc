//! Sample fetches (configuration.txt 7.3.2-7.3.6): the registry, and the
//! fetches that need no message: constants, addresses, proxies, servers.
//! Payload and HTTP fetches live in `fetch_payload` and `fetch_http`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::env::{Env, PxInfo};
use super::expr::{Arg, ArgKind as K, EvalCx, FetchDef, Use};
use super::sample::{Sample, Smp, SmpType as T};
use std::net::{IpAddr, SocketAddr};

/// Every fetch table.
const TABLES: &[&[FetchDef]] = &[
    MISC,
    L4,
    super::fetch_http::HTTP,
    super::fetch_hdr::HDR,
    super::fetch_cookie::COOKIE,
    super::fetch_url::URL,
    super::fetch_payload::PAYLOAD,
    super::fetch_tls::TLS,
    super::fetch_ssl::SSL,
    super::fetch_pp::PP,
    super::fetch_auth::AUTH,
];

/// The fetch named `name`.
pub fn find(name: &str) -> Option<&'static FetchDef> {
    super::expr::find_in(TABLES, name)
}

/// The closest fetch name, for "did you mean".
pub fn suggest(name: &str) -> Option<&'static str> {
    super::expr::suggest_in(TABLES, name)
}

/// Shorthand for a table entry.
pub const fn def(
    name: &'static str,
    args: &'static [K],
    min_args: u8,
    out: T,
    f: super::expr::FetchFn,
    use_: Use,
) -> FetchDef {
    FetchDef {
        name,
        args,
        min_args,
        out,
        f,
        check: None,
        use_,
    }
}

#[rustfmt::skip]
const MISC: &[FetchDef] = &[
    def("always_true", &[], 0, T::Bool, |_, _, _| Some(Sample::bool(true)), Use::CONST),
    def("always_false", &[], 0, T::Bool, |_, _, _| Some(Sample::bool(false)), Use::CONST),
    def("int", &[K::Sint], 1, T::Sint, |a, _, _| Some(Sample::sint(a.first()?.int())), Use::CONST),
    def("bool", &[K::Sint], 1, T::Bool, |a, _, _| Some(Sample::bool(a.first()?.int() != 0)), Use::CONST),
    def("str", &[K::Str], 1, T::Str, fetch_str, Use::CONST),
    def("bin", &[K::Str], 1, T::Bin, fetch_bin, Use::CONST),
    def("ipv4", &[K::Ipv4], 1, T::Ipv4, fetch_ip, Use::CONST),
    def("ipv6", &[K::Ipv6], 1, T::Ipv6, fetch_ip, Use::CONST),
    def("meth", &[K::Str], 1, T::Str, fetch_str, Use::CONST),
    def("env", &[K::Str], 1, T::Str, fetch_env, Use::CONST),
    def("date", &[K::Sint, K::Str], 0, T::Sint, fetch_date, Use::CONST),
    def("rand", &[K::Sint], 0, T::Sint, fetch_rand, Use::CONST),
    def("uuid", &[K::Sint], 0, T::Str, fetch_uuid, Use::CONST),
    def("hostname", &[], 0, T::Str, fetch_hostname, Use::CONST),
    def("nbproc", &[], 0, T::Sint, |_, _, _| Some(Sample::sint(1)), Use::CONST),
    def("nbthread", &[], 0, T::Sint, |_, _, _| Some(Sample::sint(1)), Use::CONST),
    def("thread", &[], 0, T::Sint, |_, _, _| Some(Sample::sint(0)), Use::CONST),
    def("proc", &[], 0, T::Sint, |_, _, _| Some(Sample::sint(1)), Use::CONST),
    def("pid", &[], 0, T::Sint, |_, _, _| Some(Sample::sint(i64::from(crate::process::pid()))), Use::CONST),
    def("var", &[K::Var, K::Str], 1, T::Any, fetch_var, Use::CONST),
    def("unique-id", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.unique_id()?)), Use::REQ),
];

#[rustfmt::skip]
const L4: &[FetchDef] = &[
    def("src", &[], 0, T::Addr, |_, e, _| addr(e.src()), Use::L4),
    def("src_port", &[], 0, T::Sint, |_, e, _| port(e.src()), Use::L4),
    def("dst", &[], 0, T::Addr, |_, e, _| addr(e.dst()), Use::L4),
    def("dst_port", &[], 0, T::Sint, |_, e, _| port(e.dst()), Use::L4),
    def("so_name", &[], 0, T::Str, |_, e, _| Some(Sample::str_ref(e.so_name()?.as_bytes())), Use::L4),
    def("fe_name", &[], 0, T::Str, |_, e, _| px_name(e.fe()), Use::L4),
    def("fe_id", &[], 0, T::Sint, |_, e, _| px_id(e.fe()), Use::L4),
    def("be_name", &[], 0, T::Str, |_, e, _| px_name(e.be()), Use::BE),
    def("be_id", &[], 0, T::Sint, |_, e, _| px_id(e.be()), Use::BE),
    def("srv_name", &[], 0, T::Str, |_, e, _| px_name(e.srv()), Use::BE),
    def("srv_id", &[], 0, T::Sint, |_, e, _| px_id(e.srv()), Use::BE),
    def("nbsrv", &[K::Backend], 0, T::Sint, |a, e, _| Some(Sample::sint(e.be_load(be_arg(a))?.nbsrv)), Use::BE),
    def("be_conn", &[K::Backend], 0, T::Sint, |a, e, _| Some(Sample::sint(e.be_load(be_arg(a))?.conn)), Use::BE),
    def("connslots", &[K::Backend], 0, T::Sint, fetch_connslots, Use::BE),
    def("queue", &[K::Backend], 0, T::Sint, |a, e, _| Some(Sample::sint(e.be_load(be_arg(a))?.queue)), Use::BE),
    def("avg_queue", &[K::Backend], 0, T::Sint, fetch_avg_queue, Use::BE),
    def("srv_is_up", &[K::Server], 1, T::Bool, fetch_srv_is_up, Use::BE),
];

fn addr(a: Option<SocketAddr>) -> Option<Sample<'static>> {
    Some(Sample::new(match a?.ip() {
        IpAddr::V4(v) => Smp::Ipv4(v),
        IpAddr::V6(v) => Smp::Ipv6(v),
    }))
}

fn port(a: Option<SocketAddr>) -> Option<Sample<'static>> {
    Some(Sample::sint(i64::from(a?.port())))
}

fn px_name(p: Option<PxInfo<'_>>) -> Option<Sample<'_>> {
    Some(Sample::str_ref(p?.name.as_bytes()))
}

fn px_id(p: Option<PxInfo<'_>>) -> Option<Sample<'static>> {
    Some(Sample::sint(p?.id))
}

/// The backend an optional argument names (None: the stream's).
fn be_arg(a: &[Arg]) -> Option<usize> {
    match a.first() {
        Some(Arg::Proxy(_, i)) => Some(*i),
        _ => None,
    }
}

fn fetch_str<'a>(a: &[Arg], _: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let mut v = cx.pool.get();
    v.extend_from_slice(a.first()?.str().as_bytes());
    Some(Sample::str_own(v))
}

fn fetch_bin<'a>(a: &[Arg], _: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let hex = a.first()?.str().as_bytes();
    let mut v = cx.pool.get();
    for c in hex.chunks(2) {
        let s = std::str::from_utf8(c).ok()?;
        v.push(u8::from_str_radix(s, 16).ok()?);
    }
    Some(Sample::bin_own(v))
}

fn fetch_ip<'a>(a: &[Arg], _: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    Some(Sample::new(match a.first()? {
        Arg::Ipv4(v) => Smp::Ipv4(*v),
        Arg::Ipv6(v) => Smp::Ipv6(*v),
        _ => return None,
    }))
}

fn fetch_env<'a>(a: &[Arg], _: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let v = std::env::var_os(a.first()?.str())?;
    let mut out = cx.pool.get();
    out.extend_from_slice(std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()));
    Some(Sample::str_own(out))
}

/// `date([offset[,unit]])`: seconds (or ms, us) since the epoch.
fn fetch_date<'a>(a: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let (secs, us) = e.date();
    let off = a.first().map_or(0, Arg::int);
    let n = match a.get(1).map(Arg::str) {
        Some("ms") => (secs + off) * 1000 + i64::from(us / 1000),
        Some("us") => (secs + off) * 1_000_000 + i64::from(us),
        _ => secs + off,
    };
    Some(Sample::sint(n))
}

/// A xorshift generator seeded from the clock: `rand` needs spread, not
/// cryptographic strength.
fn next_rand() -> u64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0) });
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
                | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}

fn fetch_rand<'a>(a: &[Arg], _: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let r = next_rand() & 0xffff_ffff;
    let n = match a.first().map(Arg::int) {
        Some(range) if range > 0 => ((r * range as u64) >> 32) as i64,
        _ => r as i64,
    };
    Some(Sample::sint(n))
}

/// `uuid([4])`: a random (version 4) UUID.
fn fetch_uuid<'a>(a: &[Arg], _: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    if a.first().is_some_and(|v| v.int() != 4) {
        return None;
    }
    let (hi, lo) = (next_rand(), next_rand());
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&hi.to_be_bytes());
    b[8..].copy_from_slice(&lo.to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut v = cx.pool.get();
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            v.push(b'-');
        }
        let _ = std::fmt::Write::write_fmt(&mut super::sample::Vw(&mut v), format_args!("{x:02x}"));
    }
    Some(Sample::str_own(v))
}

fn fetch_hostname<'a>(_: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    if let Some(h) = e.hostname() {
        return Some(Sample::str_ref(h.as_bytes()));
    }
    let mut v = cx.pool.get();
    v.extend_from_slice(crate::cfg::parse::local_hostname().as_bytes());
    Some(Sample::str_own(v))
}

fn fetch_var<'a>(a: &[Arg], _: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let Some(Arg::Var(r)) = a.first() else {
        return None;
    };
    let Some(val) = cx.vars.get(*r) else {
        // `var(name,default)`: the default as a string.
        let d = a.get(1)?.str();
        let mut v = cx.pool.get();
        v.extend_from_slice(d.as_bytes());
        return Some(Sample::str_own(v));
    };
    // The variable may be set again by a later converter: copy it out.
    let s = val.sample();
    Some(match s.data {
        Smp::Str(d) => {
            let mut v = cx.pool.get();
            v.extend_from_slice(d.as_bytes());
            Sample::str_own(v)
        }
        Smp::Bin(d) => {
            let mut v = cx.pool.get();
            v.extend_from_slice(d.as_bytes());
            Sample::bin_own(v)
        }
        Smp::Bool(b) => Sample::bool(b),
        Smp::Sint(n) => Sample::sint(n),
        Smp::Ipv4(x) => Sample::new(Smp::Ipv4(x)),
        Smp::Ipv6(x) => Sample::new(Smp::Ipv6(x)),
    })
}

fn fetch_connslots<'a>(a: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let l = e.be_load(be_arg(a))?;
    // Unlimited slots: HAProxy returns -1.
    Some(Sample::sint(l.connslots.unwrap_or(-1)))
}

fn fetch_avg_queue<'a>(a: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let l = e.be_load(be_arg(a))?;
    Some(Sample::sint(if l.active > 0 {
        (l.queue + l.active - 1) / l.active
    } else {
        l.queue
    }))
}

fn fetch_srv_is_up<'a>(a: &[Arg], e: &'a dyn Env, _: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let Some(Arg::Server(_, _, b, s)) = a.first() else {
        return None;
    };
    Some(Sample::bool(e.srv_is_up(*b, *s)?))
}

#[cfg(test)]
mod tests {
    use super::super::env::NoEnv;
    use super::*;

    #[test]
    fn every_fetch_name_is_unique() {
        let mut names: Vec<&str> = TABLES
            .iter()
            .flat_map(|t| t.iter())
            .map(|f| f.name)
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(suggest("src_prot"), Some("src_port"));
    }

    #[test]
    fn constants() {
        let mut pool = Default::default();
        let store = Default::default();
        let mut vars = Default::default();
        let mut cx = EvalCx::new(&mut pool, &store, &mut vars);
        let f = find("int").map(|f| f.f);
        let s = f.and_then(|f| f(&[Arg::Sint(7)], &NoEnv, &mut cx));
        assert!(matches!(s.map(|s| s.data), Some(Smp::Sint(7))));
        let s = fetch_uuid(&[], &NoEnv, &mut cx);
        let u = s
            .and_then(|s| s.bytes().map(<[u8]>::to_vec))
            .unwrap_or_default();
        assert_eq!(u.len(), 36);
        assert_eq!(u.get(14), Some(&b'4'));
    }
}
