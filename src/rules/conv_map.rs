//! Map converters (configuration.txt 7.3.1, `map`): `map(<file>[,<default>])`
//! and `map_<match>[_<output>]`, exactly the set HAProxy 2.6 registers:
//!
//! ```text
//!   match   input  outputs (str is the default)
//!   str     str    map_str (= map), map_str_int, map_str_ip
//!   beg sub dir dom end reg
//!           str    map_<m>, map_<m>_int, map_<m>_ip
//!   regm    str    map_regm (the value takes \1..\9 from the match)
//!   int     int    map_int, map_int_int, map_int_ip
//!   ip      addr   map_ip, map_ip_int, map_ip_ip
//! ```
//!
//! At start-up the converter's `check` loads the file through the store
//! (one source per file, shared with the ACLs and the other maps using it),
//! gets the compiled set for its match and output type (the values are
//! parsed to the output type then; a refused key or value names its file
//! line), parses the default value to the output type, and replaces the
//! file argument by `Arg::Pat(set)`. A lookup allocates nothing: string
//! values are copied into a pooled buffer.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::expr::{Arg, ArgKind as K, ConvDef, EvalCx, ParseCx};
use super::pattern::{MapVal, Match};
use super::sample::{Sample, Smp, SmpType as T};

/// The match methods, as the converters' const parameter.
const STR: u8 = 0;
const BEG: u8 = 1;
const SUB: u8 = 2;
const DIR: u8 = 3;
const DOM: u8 = 4;
const END: u8 = 5;
const REG: u8 = 6;
const REGM: u8 = 7;
const INT: u8 = 8;
const IP: u8 = 9;

/// The output types, as the converters' const parameter.
const OSTR: u8 = 0;
const OINT: u8 = 1;
const OIP: u8 = 2;

const fn method(m: u8) -> (Match, bool) {
    match m {
        BEG => (Match::Beg, false),
        SUB => (Match::Sub, false),
        DIR => (Match::Dir, false),
        DOM => (Match::Dom, false),
        END => (Match::End, false),
        REG => (Match::Reg, false),
        REGM => (Match::Reg, true),
        INT => (Match::Int, false),
        IP => (Match::Ip, false),
        _ => (Match::Str, false),
    }
}

const fn out_type(o: u8) -> T {
    match o {
        OINT => T::Sint,
        OIP => T::Addr,
        _ => T::Str,
    }
}

/// One table entry: the name, the match method and the output type.
const fn def<const M: u8, const O: u8>(name: &'static str) -> ConvDef {
    ConvDef {
        name,
        // An integer default is parsed with the arguments; a string or
        // address one by `check`.
        args: if O == OINT {
            &[K::Map, K::Sint]
        } else {
            &[K::Map, K::Str]
        },
        // HAProxy reports a missing file as a file it cannot open.
        min_args: 0,
        input: match M {
            INT => T::Sint,
            IP => T::Addr,
            _ => T::Str,
        },
        out: out_type(O),
        f: conv_map,
        check: Some(check_map::<M, O>),
    }
}

#[rustfmt::skip]
pub const MAP: &[ConvDef] = &[
    def::<STR, OSTR>("map"),
    def::<STR, OSTR>("map_str"), def::<STR, OINT>("map_str_int"), def::<STR, OIP>("map_str_ip"),
    def::<BEG, OSTR>("map_beg"), def::<BEG, OINT>("map_beg_int"), def::<BEG, OIP>("map_beg_ip"),
    def::<SUB, OSTR>("map_sub"), def::<SUB, OINT>("map_sub_int"), def::<SUB, OIP>("map_sub_ip"),
    def::<DIR, OSTR>("map_dir"), def::<DIR, OINT>("map_dir_int"), def::<DIR, OIP>("map_dir_ip"),
    def::<DOM, OSTR>("map_dom"), def::<DOM, OINT>("map_dom_int"), def::<DOM, OIP>("map_dom_ip"),
    def::<END, OSTR>("map_end"), def::<END, OINT>("map_end_int"), def::<END, OIP>("map_end_ip"),
    def::<REG, OSTR>("map_reg"), def::<REG, OINT>("map_reg_int"), def::<REG, OIP>("map_reg_ip"),
    def::<REGM, OSTR>("map_regm"),
    def::<INT, OSTR>("map_int"), def::<INT, OINT>("map_int_int"), def::<INT, OIP>("map_int_ip"),
    def::<IP, OSTR>("map_ip"), def::<IP, OINT>("map_ip_int"), def::<IP, OIP>("map_ip_ip"),
];

/// Loads the map, builds its set and parses the default (see the module
/// comment). Arguments after: `[Pat(set), default]`, the default being
/// `Str`, `Sint`, `Ipv4` or `Ipv6`.
fn check_map<const M: u8, const O: u8>(
    args: &mut Vec<Arg>,
    cx: &mut ParseCx<'_>,
) -> Result<(), String> {
    let file = args
        .first()
        .map(|a| a.str().to_string())
        .unwrap_or_default();
    let user = format!("map at file '{}' line {}", cx.file, cx.line);
    let r = cx.store.load_map_file(&file, cx.base_dir, user)?;
    let (m, regm) = method(M);
    let e = cx.store.map_expr_for(r, m, regm, out_type(O))?;
    match args.first_mut() {
        Some(a) => *a = Arg::Pat(e),
        None => args.push(Arg::Pat(e)),
    }
    if O == OIP
        && let Some(d) = args.get_mut(1)
    {
        let s = d.str();
        let a = s.split_once('/').map_or(s, |(a, _)| a);
        *d = match a.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => Arg::Ipv4(a),
            Ok(std::net::IpAddr::V6(a)) => Arg::Ipv6(a),
            Err(_) => return Err(format!("map: cannot parse default ip <{s}>.")),
        };
    }
    Ok(())
}

/// Looks the input up; the value (or the default) converted to the output
/// type, or no sample when neither exists.
fn conv_map<'a>(args: &[Arg], smp: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let Some(Arg::Pat(e)) = args.first() else {
        smp.recycle(cx.pool);
        return None;
    };
    let pe = cx.store.exprs.get(*e)?;
    let out = if pe.regm {
        regm(pe, &smp, cx)
    } else {
        pe.lookup(&smp).map(|idx| match pe.value(idx) {
            MapVal::Str => {
                let v = cx.store.value(*e, idx).unwrap_or("");
                let mut b = cx.pool.get();
                b.extend_from_slice(v.as_bytes());
                Sample::str_own(b)
            }
            MapVal::Sint(n) => Sample::sint(n),
            MapVal::Ipv4(a) => Sample::new(Smp::Ipv4(a)),
            MapVal::Ipv6(a) => Sample::new(Smp::Ipv6(a)),
        })
    };
    let flags = smp.flags;
    smp.recycle(cx.pool);
    let mut out = out.or_else(|| match args.get(1)? {
        Arg::Str(s) => {
            let mut b = cx.pool.get();
            b.extend_from_slice(s.as_bytes());
            Some(Sample::str_own(b))
        }
        Arg::Sint(n) => Some(Sample::sint(*n)),
        Arg::Ipv4(a) => Some(Sample::new(Smp::Ipv4(*a))),
        Arg::Ipv6(a) => Some(Sample::new(Smp::Ipv6(*a))),
        _ => None,
    })?;
    out.flags = flags;
    Some(out)
}

/// `map_regm`: the value of the first matching regex, `\0`..`\9` replaced
/// by the match's groups (an unset group is empty), `\xHH` by that byte,
/// and a backslash before any other character by that character.
fn regm<'a>(
    pe: &super::pattern::PatExpr,
    smp: &Sample<'_>,
    cx: &mut EvalCx<'_>,
) -> Option<Sample<'a>> {
    let s = smp.bytes()?;
    let mut b = cx.pool.get();
    let store = cx.store;
    let r = pe.ref_id;
    let hit = pe.regm_lookup(s, |idx, locs| {
        let v = store
            .refs
            .get(r)
            .and_then(|src| src.entries.get(idx as usize))
            .and_then(|e| e.value.as_deref())
            .unwrap_or("");
        substitute(v.as_bytes(), s, |g| locs.get(g), &mut b);
    });
    if hit.is_none() {
        cx.pool.put(b);
        return None;
    }
    Some(Sample::str_own(b))
}

/// Writes `tmpl` into `out`, back-references resolved by `group(n)` (the
/// byte range of group `n` in `subject`).
pub fn substitute(
    tmpl: &[u8],
    subject: &[u8],
    group: impl Fn(usize) -> Option<(usize, usize)>,
    out: &mut Vec<u8>,
) {
    let hex = |c: u8| (c as char).to_digit(16);
    let mut i = 0;
    while let Some(&c) = tmpl.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&n) = tmpl.get(i) else {
            break;
        };
        i += 1;
        if n.is_ascii_digit() {
            if let Some(g) = group(usize::from(n - b'0')).and_then(|(a, z)| subject.get(a..z)) {
                out.extend_from_slice(g);
            }
        } else if n == b'x'
            && let (Some(h), Some(l)) = (
                tmpl.get(i).and_then(|c| hex(*c)),
                tmpl.get(i + 1).and_then(|c| hex(*c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 2;
        } else {
            out.push(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::expr::SampleExpr;
    use crate::rules::sample::BufPool;
    use crate::rules::store::RuleStore;
    use crate::rules::vars::Vars;

    /// A map file in a fresh temporary directory.
    fn map_file(tag: &str, text: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("hrs-convmap-{tag}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        let p = d.join("m.map");
        assert!(std::fs::write(&p, text).is_ok());
        p
    }

    fn parse(store: &mut RuleStore, text: &str) -> Result<SampleExpr, String> {
        let mut cx = ParseCx {
            store,
            file: "h.cfg",
            line: 7,
            base_dir: None,
        };
        SampleExpr::parse(text, &mut cx).map_err(|e| e.0)
    }

    /// Runs converter `conv` of `expr` on `input` directly.
    fn run(store: &RuleStore, expr: &SampleExpr, input: Sample<'_>) -> Option<String> {
        let (conv, args) = expr.convs.last()?;
        let mut pool = BufPool::default();
        let mut vars = Vars::default();
        let mut cx = EvalCx::new(&mut pool, store, &mut vars);
        let input = input.cast(conv.input, cx.pool)?;
        let out = (conv.f)(args, input, &mut cx)?;
        Some(match out.data {
            Smp::Sint(n) => format!("int:{n}"),
            Smp::Ipv4(a) => format!("ipv4:{a}"),
            Smp::Ipv6(a) => format!("ipv6:{a}"),
            _ => String::from_utf8_lossy(out.bytes()?).into_owned(),
        })
    }

    #[test]
    fn the_converter_set_is_haproxy_2_6_s() {
        let names: Vec<&str> = MAP.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), 29);
        for n in ["map", "map_regm", "map_ip_ip", "map_int_int", "map_dom_ip"] {
            assert!(names.contains(&n), "{n}");
        }
        for n in ["map_len", "map_str_str", "map_regm_int", "map_bin"] {
            assert!(!names.contains(&n), "{n}");
        }
    }

    #[test]
    fn every_match_kind_looks_up_its_value() {
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("map_str", "a.com A\nb.com B\n", "b.com", Some("B")),
            ("map_str", "a.com A\n", "x.com", None),
            (
                "map_beg",
                "/api API\n/api/v1 V1\n/ ROOT\n",
                "/api/v1/x",
                Some("V1"),
            ),
            ("map_beg", "/api API\n/ ROOT\n", "/other", Some("ROOT")),
            ("map_sub", "foo FOO\nbar BAR\n", "xbarfoo", Some("FOO")),
            ("map_dir", "img IMG\n", "/a/img/b", Some("IMG")),
            ("map_dom", "example.com EX\n", "www.example.com", Some("EX")),
            ("map_end", ".jpg JPG\n.png PNG\n", "/a.png", Some("PNG")),
            ("map_reg", "^/u/[0-9]+$ U\n", "/u/42", Some("U")),
            ("map_int", "1:10 LOW\n5 FIVE\n", "5", Some("LOW")),
            ("map_int", "5 FIVE\n20: BIG\n", "99", Some("BIG")),
            (
                "map_ip",
                "10.0.0.0/8 TEN\n10.1.0.0/16 TEN1\n",
                "10.1.2.3",
                Some("TEN1"),
            ),
            ("map_ip", "::1 LO6\n", "::1", Some("LO6")),
            ("map_str_int", "a 12\n", "a", Some("int:12")),
            ("map_str_ip", "a 1.2.3.4\nb ::2\n", "b", Some("ipv6:::2")),
        ];
        for (i, (conv, text, input, want)) in cases.iter().enumerate() {
            let f = map_file(&format!("k{i}"), &text.replace("\\n", "\n"));
            let mut store = RuleStore::default();
            let e = parse(&mut store, &format!("str(x),{conv}({})", f.display()));
            let e = match e {
                Ok(e) => e,
                Err(m) => panic!("{conv}: {m}"),
            };
            let got = run(&store, &e, Sample::str_ref(input.as_bytes()));
            assert_eq!(got.as_deref(), *want, "{conv} {input}");
        }
    }

    #[test]
    fn defaults_are_parsed_at_start_up_to_the_output_type() {
        let f = map_file("def", "a 1\n");
        let mut store = RuleStore::default();
        let e = parse(&mut store, &format!("str(x),map({},none)", f.display()));
        let e = e.unwrap_or_else(|m| panic!("{m}"));
        assert_eq!(
            run(&store, &e, Sample::str_ref(b"zz")).as_deref(),
            Some("none")
        );
        let e = parse(
            &mut store,
            &format!("str(x),map_str_int({},7)", f.display()),
        );
        let e = e.unwrap_or_else(|m| panic!("{m}"));
        assert_eq!(
            run(&store, &e, Sample::str_ref(b"a")).as_deref(),
            Some("int:1")
        );
        assert_eq!(
            run(&store, &e, Sample::str_ref(b"b")).as_deref(),
            Some("int:7")
        );
        let bad = parse(
            &mut store,
            &format!("str(x),map_str_ip({},zz)", f.display()),
        );
        assert!(bad.is_err());
        let e = parse(
            &mut store,
            &format!("str(x),map_str_ip({},10.0.0.9)", f.display()),
        );
        assert!(
            e.is_err(),
            "'1' is no address: the values are checked first"
        );
    }

    #[test]
    fn load_errors_have_haproxy_s_wording() {
        let mut store = RuleStore::default();
        let e = parse(&mut store, "str(x),map(/nonexistent/x.map)").err();
        assert_eq!(
            e.as_deref(),
            Some(
                "invalid args in converter 'map' : failed to open pattern file </nonexistent/x.map>"
            )
        );
        let f = map_file("int", "a 1\nb x\n");
        let e = parse(&mut store, &format!("str(x),map_str_int({})", f.display())).err();
        assert_eq!(
            e,
            Some(format!(
                "invalid args in converter 'map_str_int' : unable to parse 'x' at line 2 of file '{}'",
                f.display()
            ))
        );
        let e = parse(&mut store, &format!("str(x),map_int({})", f.display())).err();
        assert!(e.is_some_and(|e| e.contains("'a' is not a number at line 1")));
    }

    #[test]
    fn users_of_one_file_share_its_source_and_identical_sets() {
        let f = map_file("share", "a 1\n");
        let mut store = RuleStore::default();
        for _ in 0..2 {
            assert!(parse(&mut store, &format!("str(x),map({})", f.display())).is_ok());
        }
        assert!(parse(&mut store, &format!("str(x),map_beg({})", f.display())).is_ok());
        assert_eq!(store.refs.len(), 1);
        assert_eq!(store.exprs.len(), 2);
        let r = store.refs.first().map(|r| (r.display.clone(), r.entry_cnt));
        let disp = format!(
            "pattern loaded from file '{}' used by map at file 'h.cfg' line 7, by map at file 'h.cfg' line 7, by map at file 'h.cfg' line 7",
            f.display()
        );
        assert_eq!(r, Some((disp, 2)));
    }

    #[test]
    fn regm_substitutes_back_references() {
        let f = map_file(
            "regm",
            "^/u/([0-9]+)/(.*)$ user=\\1 rest=\\2\n^/x(.*) x\\1\\0\\9|\\\\1|\\a\\x41\n^/o(a)?(b) [\\1][\\2]\n",
        );
        let mut store = RuleStore::default();
        let e = parse(&mut store, &format!("str(x),map_regm({})", f.display()));
        let e = e.unwrap_or_else(|m| panic!("{m}"));
        let r = |s: &str| run(&store, &e, Sample::str_ref(s.as_bytes()));
        // Recorded from HAProxy 2.6 (lf-string "%[path,map_regm(...)]").
        assert_eq!(r("/u/12/abc").as_deref(), Some("user=12 rest=abc"));
        assert_eq!(r("/xyz").as_deref(), Some("xyz/xyz|\\1|aA"));
        assert_eq!(r("/ob").as_deref(), Some("[][b]"));
        assert_eq!(r("/ab"), None);
    }
}
