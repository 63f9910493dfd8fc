//! Converters (configuration.txt 7.3.1): the registry, the helpers the
//! converter tables share, and the case and variable converters.
//! Arithmetic, addresses and dates live in `conv_num`; encodings, hashes
//! and digests in `conv_enc` (algorithms in `conv_hash`, `conv_digest`);
//! string slicing, regsub and comparisons in `conv_str`; map lookups in
//! `conv_map`.
//!
//! A converter takes its input already cast to its declared input type
//! and builds its output in a buffer from `cx.pool`, giving the input's
//! buffer back (`Sample::recycle`): no allocation once the pool is warm.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::expr::{Arg, ArgKind as K, CheckFn, ConvDef, ConvFn, EvalCx, ParseCx};
use super::sample::Smp;
use super::sample::{Data, Sample, SmpFlags, SmpType as T};

/// Every converter table.
const TABLES: &[&[ConvDef]] = &[
    STRING,
    super::conv_num::NUM,
    super::conv_enc::ENC,
    super::conv_str::STR,
    super::conv_map::MAP,
];

/// The converter named `name`.
pub fn find(name: &str) -> Option<&'static ConvDef> {
    super::expr::find_in(TABLES, name)
}

/// The closest converter name, for "did you mean".
pub fn suggest(name: &str) -> Option<&'static str> {
    super::expr::suggest_in(TABLES, name)
}

/// Shorthand for a table entry.
pub const fn def(
    name: &'static str,
    args: &'static [K],
    min_args: u8,
    input: T,
    out: T,
    f: ConvFn,
) -> ConvDef {
    ConvDef {
        name,
        args,
        min_args,
        input,
        out,
        f,
        check: None,
    }
}

/// A table entry with a `check` function.
pub const fn defc(
    name: &'static str,
    args: &'static [K],
    min_args: u8,
    input: T,
    out: T,
    f: ConvFn,
    check: CheckFn,
) -> ConvDef {
    ConvDef {
        name,
        args,
        min_args,
        input,
        out,
        f,
        check: Some(check),
    }
}

/// A new string sample in `v`, keeping the input's flags.
pub fn str_out<'a>(v: Vec<u8>, flags: SmpFlags) -> Sample<'a> {
    Sample {
        data: Smp::Str(Data::Own(v)),
        flags,
    }
}

/// A new binary sample in `v`, keeping the input's flags.
pub fn bin_out<'a>(v: Vec<u8>, flags: SmpFlags) -> Sample<'a> {
    Sample {
        data: Smp::Bin(Data::Own(v)),
        flags,
    }
}

/// A scalar result, keeping the input's flags.
pub fn with_flags(data: Smp<'_>, flags: SmpFlags) -> Sample<'_> {
    Sample { data, flags }
}

/// Builds a string or binary output from the input's bytes: `f` writes
/// into a pooled buffer and says whether it succeeded; the input buffer
/// goes back to the pool either way.
pub fn build<'a>(
    s: Sample<'a>,
    cx: &mut EvalCx<'_>,
    bin: bool,
    f: impl FnOnce(&[u8], &mut Vec<u8>) -> bool,
) -> Option<Sample<'a>> {
    let flags = s.flags;
    let mut v = cx.pool.get();
    let ok = f(s.bytes().unwrap_or(&[]), &mut v);
    s.recycle(cx.pool);
    if !ok {
        cx.pool.put(v);
        return None;
    }
    Some(if bin {
        bin_out(v, flags)
    } else {
        str_out(v, flags)
    })
}

/// Appends variable `a`'s value (cast to `to`) to `out`; false when the
/// variable is unset or does not cast.
pub fn var_bytes(a: Option<&Arg>, to: T, cx: &mut EvalCx<'_>, out: &mut Vec<u8>) -> bool {
    let Some(Arg::Var(r)) = a else {
        return false;
    };
    let Some(val) = cx.vars.get(*r) else {
        return false;
    };
    let Some(smp) = val.sample().cast(to, cx.pool) else {
        return false;
    };
    out.extend_from_slice(smp.bytes().unwrap_or(&[]));
    smp.recycle(cx.pool);
    true
}

/// Turns string argument `idx` into a variable reference, with
/// HAProxy's messages; an absent or empty argument is refused when
/// `required`, else left as is.
pub fn check_var_at(
    idx: usize,
    required: bool,
    args: &mut [Arg],
    cx: &mut ParseCx<'_>,
) -> Result<(), String> {
    let name = args
        .get(idx)
        .map(|a| a.str().to_string())
        .unwrap_or_default();
    if name.is_empty() {
        return if required {
            Err("missing variable name".into())
        } else {
            Ok(())
        };
    }
    let r = cx
        .store
        .vars
        .parse_ref(&name)
        .map_err(|_| format!("failed to register variable name '{name}'"))?;
    if let Some(a) = args.get_mut(idx) {
        *a = Arg::Var(r);
    }
    Ok(())
}

#[rustfmt::skip]
const STRING: &[ConvDef] = &[
    def("lower", &[], 0, T::Str, T::Str, |_, s, cx| Some(map_bytes(s, cx, |v| v.make_ascii_lowercase()))),
    def("upper", &[], 0, T::Str, T::Str, |_, s, cx| Some(map_bytes(s, cx, |v| v.make_ascii_uppercase()))),
    def("length", &[], 0, T::Str, T::Sint, conv_len),
    def("len", &[], 0, T::Str, T::Sint, conv_len),
    def("set-var", &[K::Var], 1, T::Any, T::Any, conv_set_var),
    def("unset-var", &[K::Var], 1, T::Any, T::Any, conv_unset_var),
];

/// Applies `f` to a string sample's bytes, in place when already owned.
pub fn map_bytes<'a>(
    s: Sample<'a>,
    cx: &mut EvalCx<'_>,
    f: impl FnOnce(&mut Vec<u8>),
) -> Sample<'a> {
    let flags = s.flags;
    let mut v = match s.data {
        Smp::Str(Data::Own(v)) | Smp::Bin(Data::Own(v)) => v,
        Smp::Str(Data::Ref(b)) | Smp::Bin(Data::Ref(b)) => {
            let mut v = cx.pool.get();
            v.extend_from_slice(b);
            v
        }
        other => return Sample { data: other, flags },
    };
    f(&mut v);
    Sample {
        data: Smp::Str(Data::Own(v)),
        flags,
    }
}

fn conv_len<'a>(_: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    let n = s.bytes().map_or(0, <[u8]>::len) as i64;
    s.recycle(cx.pool);
    Some(Sample::sint(n))
}

fn conv_set_var<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    if let Some(Arg::Var(r)) = a.first() {
        cx.vars.set(*r, &s);
    }
    Some(s)
}

fn conv_unset_var<'a>(a: &[Arg], s: Sample<'a>, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    if let Some(Arg::Var(r)) = a.first() {
        cx.vars.unset(*r);
    }
    Some(s)
}

/// Evaluates whole expressions the way a rule does, for the converter
/// tests: variables `txn.x` = 5, `txn.z` = 0, `txn.s` = "hello",
/// `txn.t` = "hellp", `txn.k` = "a2V5" are set, as in the HAProxy
/// configuration the expected values were taken from.
#[cfg(test)]
pub mod testutil {
    use super::super::env::NoEnv;
    use super::super::expr::{EvalCx, ParseCx, SampleExpr};
    use super::super::sample::{BufPool, Sample, Smp};
    use super::super::store::RuleStore;
    use super::super::vars::Vars;

    /// Parses `text`; the error message when refused.
    pub fn parse(text: &str, store: &mut RuleStore) -> Result<SampleExpr, String> {
        let mut pcx = ParseCx {
            store,
            file: "test",
            line: 1,
            base_dir: None,
        };
        SampleExpr::parse(text, &mut pcx).map_err(|e| e.0)
    }

    /// The result as HAProxy's `%[...]` prints it (bool as 0/1), or
    /// `<none>` when the sample is missing, `<error: ...>` when refused.
    pub fn eval(text: &str) -> String {
        let mut store = RuleStore::default();
        let mut vars = Vars::default();
        let sets: [(&str, Sample<'static>); 5] = [
            ("txn.x", Sample::sint(5)),
            ("txn.z", Sample::sint(0)),
            ("txn.s", Sample::str_ref(b"hello")),
            ("txn.t", Sample::str_ref(b"hellp")),
            ("txn.k", Sample::str_ref(b"a2V5")),
        ];
        for (name, smp) in &sets {
            if let Ok(r) = store.vars.parse_ref(name) {
                vars.set(r, smp);
            }
        }
        let expr = match parse(text, &mut store) {
            Ok(e) => e,
            Err(e) => return format!("<error: {e}>"),
        };
        let mut pool = BufPool::default();
        let mut cx = EvalCx::new(&mut pool, &store, &mut vars);
        match expr.eval(&NoEnv, &mut cx).map(|s| s.data) {
            None => "<none>".to_string(),
            Some(Smp::Bool(b)) => u8::from(b).to_string(),
            Some(Smp::Sint(n)) => n.to_string(),
            Some(Smp::Ipv4(a)) => a.to_string(),
            Some(Smp::Ipv6(a)) => a.to_string(),
            Some(Smp::Str(d) | Smp::Bin(d)) => String::from_utf8_lossy(d.as_bytes()).into_owned(),
        }
    }

    /// Checks every `(expression, expected)` pair, reporting all failures.
    pub fn check(cases: &[(&str, &str)]) {
        let bad: Vec<String> = cases
            .iter()
            .filter_map(|(e, want)| {
                let got = eval(e);
                (got != *want).then(|| format!("{e}: got {got:?}, want {want:?}"))
            })
            .collect();
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
