//! Converters (configuration.txt 7.3.1): the registry and the string and
//! variable converters. Arithmetic, encodings and hashes live in
//! `conv_num` and `conv_enc`; map lookups in `conv_map`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::expr::{Arg, ArgKind as K, ConvDef, ConvFn, EvalCx};
use super::sample::{Data, Sample, Smp, SmpType as T};

/// Every converter table.
const TABLES: &[&[ConvDef]] = &[
    STRING,
    super::conv_num::NUM,
    super::conv_enc::ENC,
    super::conv_map::MAP,
];

/// The converter named `name`.
pub fn find(name: &str) -> Option<&'static ConvDef> {
    TABLES
        .iter()
        .flat_map(|t| t.iter())
        .find(|c| c.name == name)
}

/// The closest converter name, for "did you mean".
pub fn suggest(name: &str) -> Option<&'static str> {
    let names: Vec<&'static str> = TABLES
        .iter()
        .flat_map(|t| t.iter())
        .map(|c| c.name)
        .collect();
    crate::cfg::suggest::did_you_mean(name, &names)
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
