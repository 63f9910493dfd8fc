//! Tests of `pattern.rs`: match methods, indexes against linear scans.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

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
        assert!(pe.add(k, None, i as u32).is_ok());
    }
    assert_eq!(pe.lookup(&Sample::str_ref(b"HOST")), Some(0));
    assert_eq!(pe.lookup(&Sample::str_ref(b"none")), None);
}

fn ip(s: &str) -> Sample<'static> {
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Sample::new(Smp::Ipv4(a)),
        Ok(IpAddr::V6(a)) => Sample::new(Smp::Ipv6(a)),
        Err(_) => Sample::bool(false),
    }
}

#[test]
fn ip_is_a_longest_prefix_match_with_first_of_equal_keys() {
    let mut pe = PatExpr::new(Match::Ip, false, 0);
    let keys = [
        "10.0.0.0/8",
        "10.1.0.0/16",
        "127.0.0.1",
        "10.1.2.0/24",
        "10.1.2.0/24",
        "::1",
        "2001:db8::/32",
        "0.0.0.0/0",
    ];
    for (i, k) in keys.iter().enumerate() {
        assert!(pe.add(k, None, i as u32).is_ok());
    }
    // As HAProxy 2.6's `get map` answers for the same file.
    assert_eq!(pe.lookup(&ip("10.1.2.3")), Some(3));
    assert_eq!(pe.lookup(&ip("10.1.9.9")), Some(1));
    assert_eq!(pe.lookup(&ip("10.9.9.9")), Some(0));
    assert_eq!(pe.lookup(&ip("127.0.0.1")), Some(2));
    assert_eq!(pe.lookup(&ip("1.1.1.1")), Some(7));
    assert_eq!(pe.lookup(&ip("::1")), Some(5));
    assert_eq!(pe.lookup(&ip("2001:db8:1::5")), Some(6));
    assert_eq!(pe.lookup(&ip("2002::1")), None);
    assert_eq!(pe.lookup(&ip("::ffff:10.1.2.3")), Some(3));
    assert!(pe.is_tree());
}

#[test]
fn beg_is_a_longest_prefix_match_and_first_in_order_with_icase() {
    let keys = ["/api", "/api/v1", "/", "/static", "/api/v1"];
    let mut pe = PatExpr::new(Match::Beg, false, 0);
    let mut pi = PatExpr::new(Match::Beg, true, 0);
    for (i, k) in keys.iter().enumerate() {
        assert!(pe.add(k, None, i as u32).is_ok());
        assert!(pi.add(k, None, i as u32).is_ok());
    }
    assert_eq!(pe.lookup(&Sample::str_ref(b"/api/v1/x")), Some(1));
    assert_eq!(pe.lookup(&Sample::str_ref(b"/nope")), Some(2));
    assert_eq!(pe.lookup(&Sample::str_ref(b"nope")), None);
    assert_eq!(pe.lookup(&Sample::str_ref(b"/API/v1")), Some(2));
    // -i: a list in HAProxy, the first entry in file order wins.
    assert_eq!(pi.lookup(&Sample::str_ref(b"/API/V1/x")), Some(0));
    assert_eq!(pi.lookup(&Sample::str_ref(b"/STATIC/a")), Some(2));
    assert!(pe.is_tree() && !pi.is_tree());
}

/// A small xorshift generator: deterministic random data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn word(&mut self, max: u64) -> String {
        let n = 1 + self.next() % max;
        (0..n)
            .map(|_| {
                char::from(
                    b"ab/c"
                        .get((self.next() % 4) as usize)
                        .copied()
                        .unwrap_or(b'a'),
                )
            })
            .collect()
    }
}

#[test]
fn beg_index_agrees_with_a_linear_scan_on_random_data() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for icase in [false, true] {
        let keys: Vec<String> = (0..2000).map(|_| rng.word(8)).collect();
        let mut pe = PatExpr::new(Match::Beg, icase, 0);
        for (i, k) in keys.iter().enumerate() {
            assert!(pe.add(k, None, i as u32).is_ok());
        }
        for _ in 0..2000 {
            let s = rng.word(12);
            let hits = keys
                .iter()
                .enumerate()
                .filter(|(_, k)| s.starts_with(k.as_str()));
            // Tree: the longest key, then the first; list: the first.
            let want = if icase {
                hits.map(|(i, _)| i as u32).next()
            } else {
                hits.max_by_key(|(i, k)| (k.len(), std::cmp::Reverse(*i)))
                    .map(|(i, _)| i as u32)
            };
            assert_eq!(pe.lookup(&Sample::str_ref(s.as_bytes())), want, "{s}");
        }
    }
}

#[test]
fn ip_index_agrees_with_a_linear_scan_on_random_data() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut pe = PatExpr::new(Match::Ip, false, 0);
    let mut nets = Vec::new();
    for i in 0..3000u32 {
        let a = std::net::Ipv4Addr::from((rng.next() as u32) & 0x0f0f_ffff);
        let len = 8 + rng.next() % 25;
        let key = format!("{a}/{len}");
        let Some((net, l)) = parse_net(&key) else {
            panic!("{key}");
        };
        assert!(pe.add(&key, None, i).is_ok());
        nets.push((net, l, i));
    }
    for _ in 0..3000 {
        let a = std::net::Ipv4Addr::from((rng.next() as u32) & 0x0f0f_ffff);
        let v = u128::from(a.to_ipv6_mapped());
        let want = nets
            .iter()
            .filter(|(n, l, _)| v & mask(*l) == *n)
            .max_by_key(|(_, l, i)| (*l, std::cmp::Reverse(*i)))
            .map(|(_, _, i)| *i);
        assert_eq!(pe.lookup(&Sample::new(Smp::Ipv4(a))), want, "{a}");
    }
}

#[test]
fn int_keeps_first_in_order_across_values_and_ranges() {
    let mut pe = PatExpr::new(Match::Int, false, 0);
    for (i, k) in ["1:10", "5", "3:4", "20"].iter().enumerate() {
        assert!(pe.add(k, None, i as u32).is_ok());
    }
    assert_eq!(pe.lookup(&Sample::sint(5)), Some(0));
    assert_eq!(pe.lookup(&Sample::sint(20)), Some(3));
    assert_eq!(pe.lookup(&Sample::sint(11)), None);
    assert!(!pe.is_tree());
}

#[test]
fn map_values_are_parsed_to_the_output_type() {
    let mut pe = PatExpr::new_map(Match::Str, false, 0, SmpType::Sint);
    assert!(pe.add("a", Some("12"), 0).is_ok());
    assert_eq!(pe.add("b", Some("x"), 1), Err("unable to parse 'x'".into()));
    assert!(matches!(pe.value(0), MapVal::Sint(12)));
    let pe = PatExpr::new_map(Match::Str, false, 0, SmpType::Addr);
    assert!(pe.check("a", Some("1.1.1.1/8")).is_ok());
    assert!(pe.check("a", Some("zz")).is_err());
}
