//! Sample expressions: a fetch and its converters, `fetch(args),conv(args),..`
//! (configuration.txt 7.3), parsed once at start-up into resolved
//! definitions and typed arguments, then evaluated per stream.
//!
//! ```text
//!   "req.hdr(host),lower,map(hosts.map,www)"
//!      parse(): find the fetch, parse its args, then per converter: find,
//!               parse args, check the input type casts from the previous
//!               output type, run its `check` (load the map, compile regex)
//!      eval():  fetch -> cast -> conv -> cast -> conv ... -> Sample
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::env::Env;
use super::sample::{BufPool, Sample, SmpType};
use super::store::RuleStore;
use super::vars::{VarRef, Vars};
use std::net::{Ipv4Addr, Ipv6Addr};

/// What an argument must be (HAProxy's `ARGT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    Str,
    Sint,
    Ipv4,
    Ipv6,
    /// IPv4 netmask, dotted or prefix length.
    Msk4,
    /// IPv6 prefix length.
    Msk6,
    /// A backend name, resolved once the configuration is read.
    Backend,
    /// A frontend name.
    Frontend,
    /// `backend/server` or `server` (in the current backend).
    Server,
    /// A variable name `scope.name`.
    Var,
    /// A regular expression (compiled by the definition's `check`).
    Reg,
    /// A map file (loaded by the definition's `check`).
    Map,
    /// A userlist name.
    UserList,
}

/// A parsed argument.
#[derive(Debug, Clone)]
pub enum Arg {
    Str(String),
    Sint(i64),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// A netmask as a prefix length (IPv4: 0-32, IPv6: 0-128).
    Mask(u8),
    /// A proxy: its name and index once resolved (`usize::MAX` before).
    Proxy(String, usize),
    /// A server: backend name (empty: the current one), server name, and
    /// indexes once resolved.
    Server(String, String, usize, usize),
    Var(VarRef),
    Reg(regex::bytes::Regex),
    /// A pattern expression of the store (maps).
    Pat(usize),
    /// A userlist of the store.
    UserList(String, usize),
}

impl Arg {
    pub fn str(&self) -> &str {
        match self {
            Arg::Str(s) | Arg::Proxy(s, _) | Arg::UserList(s, _) => s,
            _ => "",
        }
    }
    pub fn int(&self) -> i64 {
        match self {
            Arg::Sint(n) => *n,
            _ => 0,
        }
    }
}

/// Context of one evaluation: what a fetch or converter may write.
pub struct EvalCx<'s> {
    pub pool: &'s mut BufPool,
    pub store: &'s RuleStore,
    pub vars: &'s mut Vars,
    /// Occurrence cursor of a multi-valued fetch: the ACL evaluator asks
    /// for occurrence 0, 1, ... while the fetch says `NOT_LAST`.
    pub occ: u32,
    /// Evaluated for an ACL (multi-valued fetches iterate) rather than as a
    /// plain sample expression (they return one value, usually the last).
    pub acl: bool,
    /// Set by a fetch that found nothing yet but may once more data
    /// arrives (the rule waits instead of failing).
    pub may_change: bool,
    /// ACL results of this evaluation, by ACL index (0: not computed), when
    /// the caller keeps them (`stream::rules_env::with_rules`).
    pub memo: Option<&'s mut Vec<u8>>,
}

impl<'s> EvalCx<'s> {
    /// A context for one evaluation (no occurrence cursor, not in an ACL).
    pub fn new(pool: &'s mut BufPool, store: &'s RuleStore, vars: &'s mut Vars) -> Self {
        EvalCx {
            pool,
            store,
            vars,
            occ: 0,
            acl: false,
            may_change: false,
            memo: None,
        }
    }
}

/// A fetch: `args` as declared, the stream's view, the evaluation context.
pub type FetchFn = for<'a> fn(&[Arg], &'a dyn Env, &mut EvalCx<'_>) -> Option<Sample<'a>>;
/// A converter: `args`, the input sample (already cast to `input`).
pub type ConvFn = for<'a> fn(&[Arg], Sample<'a>, &mut EvalCx<'_>) -> Option<Sample<'a>>;
/// Checks and completes parsed arguments (load a map, compile a regex);
/// an error message says why they are refused.
pub type CheckFn = fn(&mut Vec<Arg>, &mut ParseCx<'_>) -> Result<(), String>;

bitflags::bitflags! {
    /// Where a fetch's data exists (HAProxy's `SMP_USE_*`, reduced to what
    /// decides whether a rule can ever match).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Use: u8 {
        /// Constants and process state: everywhere.
        const CONST = 0x01;
        /// Connection addresses: everywhere a connection exists.
        const L4    = 0x02;
        /// Request contents (payload, HTTP request).
        const REQ   = 0x04;
        /// Response contents.
        const RES   = 0x08;
        /// Backend and server state.
        const BE    = 0x10;
        /// An HTTP message is needed.
        const HTTP  = 0x20;
    }
}

/// A sample fetch keyword.
pub struct FetchDef {
    pub name: &'static str,
    pub args: &'static [ArgKind],
    /// Mandatory leading arguments.
    pub min_args: u8,
    pub out: SmpType,
    pub f: FetchFn,
    pub check: Option<CheckFn>,
    pub use_: Use,
}

/// A converter keyword.
pub struct ConvDef {
    pub name: &'static str,
    pub args: &'static [ArgKind],
    pub min_args: u8,
    pub input: SmpType,
    pub out: SmpType,
    pub f: ConvFn,
    pub check: Option<CheckFn>,
}

/// A keyword of a registry (fetches, converters).
pub trait Named: 'static {
    fn name(&self) -> &'static str;
}

impl Named for FetchDef {
    fn name(&self) -> &'static str {
        self.name
    }
}

impl Named for ConvDef {
    fn name(&self) -> &'static str {
        self.name
    }
}

/// The keyword named `name` in a registry made of several tables.
pub fn find_in<T: Named>(tables: &'static [&'static [T]], name: &str) -> Option<&'static T> {
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|d| d.name() == name)
}

/// The registry's closest keyword to `name`, for "did you mean".
pub fn suggest_in<T: Named>(tables: &'static [&'static [T]], name: &str) -> Option<&'static str> {
    let names: Vec<&'static str> = tables.iter().flat_map(|t| t.iter()).map(T::name).collect();
    crate::cfg::suggest::did_you_mean(name, &names)
}

/// What the expression parser can reach: the store (maps, variables,
/// userlists) and where the expression was written.
pub struct ParseCx<'s> {
    pub store: &'s mut RuleStore,
    pub file: &'s str,
    pub line: usize,
    /// Directory relative map and pattern files are read from.
    pub base_dir: Option<&'s std::path::Path>,
}

/// A parsed sample expression.
#[derive(Clone)]
pub struct SampleExpr {
    pub fetch: &'static FetchDef,
    pub args: Vec<Arg>,
    pub convs: Vec<(&'static ConvDef, Vec<Arg>)>,
}

impl std::fmt::Debug for SampleExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.fetch.name)?;
        for (c, _) in &self.convs {
            write!(f, ",{}", c.name)?;
        }
        Ok(())
    }
}

/// Why an expression was refused, with HAProxy's wording where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError(pub String);

impl SampleExpr {
    /// Parses `text` (one config word, or the inside of `%[...]`).
    pub fn parse(text: &str, cx: &mut ParseCx<'_>) -> Result<SampleExpr, ExprError> {
        let (first, mut rest) = split_item(text)?;
        let (name, argtxt) = first;
        let fetch = super::fetch::find(name).ok_or_else(|| {
            let hint = super::fetch::suggest(name)
                .map(|s| format!(" (did you mean '{s}' ?)"))
                .unwrap_or_default();
            ExprError(format!("unknown fetch method '{name}'{hint}"))
        })?;
        let mut args = parse_args(
            fetch.name,
            argtxt,
            fetch.args,
            fetch.min_args,
            cx,
            "fetch method",
        )?;
        if let Some(check) = fetch.check {
            check(&mut args, cx).map_err(|e| {
                ExprError(format!(
                    "invalid args in fetch method '{}' : {e}",
                    fetch.name
                ))
            })?;
        }
        let mut out = fetch.out;
        let mut convs = Vec::new();
        while !rest.is_empty() {
            let Some(r) = rest.strip_prefix(',') else {
                return Err(ExprError(format!(
                    "missing comma after fetch keyword '{}'",
                    fetch.name
                )));
            };
            let ((cname, cargs), r) = split_item(r)?;
            rest = r;
            let conv = super::conv::find(cname).ok_or_else(|| {
                let hint = super::conv::suggest(cname)
                    .map(|s| format!(" (did you mean '{s}' ?)"))
                    .unwrap_or_default();
                ExprError(format!("unknown converter '{cname}'{hint}"))
            })?;
            if !out.casts_to(conv.input) {
                return Err(ExprError(format!(
                    "converter '{}' cannot be applied.",
                    conv.name
                )));
            }
            let mut a = parse_args(conv.name, cargs, conv.args, conv.min_args, cx, "converter")?;
            if let Some(check) = conv.check {
                check(&mut a, cx).map_err(|e| {
                    ExprError(format!("invalid args in converter '{}' : {e}", conv.name))
                })?;
            }
            if conv.out != SmpType::Any {
                out = conv.out;
            }
            convs.push((conv, a));
        }
        Ok(SampleExpr { fetch, args, convs })
    }

    /// The type of the expression's result.
    pub fn out_type(&self) -> SmpType {
        self.convs
            .iter()
            .rev()
            .map(|(c, _)| c.out)
            .find(|t| *t != SmpType::Any)
            .unwrap_or(self.fetch.out)
    }

    /// Evaluates the expression; None when the sample is missing.
    pub fn eval<'a>(&self, env: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
        let mut smp = (self.fetch.f)(&self.args, env, cx)?;
        for (conv, args) in &self.convs {
            let flags = smp.flags;
            smp = smp.cast(conv.input, cx.pool)?;
            smp = (conv.f)(args, smp, cx)?;
            smp.flags |= flags;
        }
        Some(smp)
    }

    /// Resolves proxy and server arguments by name once every section is
    /// read; the error names the first one that does not exist.
    pub fn resolve(&mut self, r: &dyn Fn(&Arg) -> Result<Arg, String>) -> Result<(), String> {
        for a in self
            .args
            .iter_mut()
            .chain(self.convs.iter_mut().flat_map(|(_, a)| a.iter_mut()))
        {
            if matches!(a, Arg::Proxy(..) | Arg::Server(..) | Arg::UserList(..)) {
                *a = r(a)?;
            }
        }
        Ok(())
    }
}

type Item<'t> = (&'t str, Option<&'t str>);

/// Splits `name(args)` off the front of `text`: the name, the text between
/// the parentheses (quotes and backslashes protect a `)`), and the rest.
fn split_item(text: &str) -> Result<(Item<'_>, &str), ExprError> {
    let end = text.find(['(', ',']).unwrap_or(text.len());
    let (name, rest) = text.split_at(end);
    if name.is_empty() {
        return Err(ExprError("missing fetch method".into()));
    }
    let Some(inner) = rest.strip_prefix('(') else {
        return Ok(((name, None), rest));
    };
    let (mut quote, mut esc) = (None, false);
    for (i, c) in inner.char_indices() {
        match c {
            _ if esc => esc = false,
            '\\' => esc = true,
            '"' | '\'' if quote == Some(c) => quote = None,
            '"' | '\'' if quote.is_none() => quote = Some(c),
            ')' if quote.is_none() => {
                let args = inner.get(..i).unwrap_or("");
                let after = inner.get(i + 1..).unwrap_or("");
                return Ok(((name, Some(args)), after));
            }
            _ => {}
        }
    }
    Err(ExprError(format!(
        "syntax error: missing ')' after argument list of '{name}'"
    )))
}

/// Splits an argument list on commas, honouring quotes and backslashes
/// (which are removed, except inside single quotes where they are kept
/// as written: `regsub('(a)','\1')`).
pub fn split_args(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut quote, mut esc) = (None, false);
    for c in s.chars() {
        let cur = out.last_mut();
        match c {
            _ if esc => {
                esc = false;
                if let Some(w) = cur {
                    w.push(c);
                }
            }
            '\\' if quote != Some('\'') => esc = true,
            '"' | '\'' if quote == Some(c) => quote = None,
            '"' | '\'' if quote.is_none() => quote = Some(c),
            ',' if quote.is_none() => out.push(String::new()),
            _ => {
                if let Some(w) = cur {
                    w.push(c);
                }
            }
        }
    }
    out
}

fn parse_args(
    kw: &str,
    text: Option<&str>,
    kinds: &[ArgKind],
    min: u8,
    cx: &mut ParseCx<'_>,
    what: &str,
) -> Result<Vec<Arg>, ExprError> {
    let words = match text {
        None => Vec::new(),
        Some(t) => split_args(t),
    };
    // `f()` is `f` with no argument, except that a mandatory string reads
    // it as one empty string (`str()`), as 2.6 does.
    let empty_str_ok = min > 0 && kinds.first() == Some(&ArgKind::Str);
    let words: Vec<String> =
        if words.len() == 1 && words.first().is_some_and(String::is_empty) && !empty_str_ok {
            Vec::new()
        } else {
            words
        };
    // HAProxy names the place differently for fetches and converters.
    let place = |i: usize| {
        if what == "converter" {
            format!("invalid arg {i} in converter '{kw}'")
        } else {
            format!("fetch method '{kw}'")
        }
    };
    if words.len() < usize::from(min) {
        let n = words.len();
        let kind = kinds.get(n).map_or("string", |k| kind_name(*k));
        return Err(ExprError(if n == 0 {
            format!(
                "{} : expected type '{kind}' at position 1, but got nothing",
                place(1)
            )
        } else {
            format!(
                "{} : missing arguments (got {n}/{min}), type '{kind}' expected",
                place(n + 1)
            )
        }));
    }
    if words.len() > kinds.len() {
        let rest = words.get(kinds.len()..).unwrap_or(&[]).join(",");
        let sep = if kinds.is_empty() { "" } else { "," };
        return Err(ExprError(format!(
            "{} : expected ')' before '{sep}{rest})'",
            place(kinds.len() + 1)
        )));
    }
    let mut args = Vec::with_capacity(words.len());
    for (i, (w, k)) in words.iter().zip(kinds).enumerate() {
        let a = parse_arg(w, *k, cx).map_err(|e| {
            ExprError(format!(
                "{} : failed to parse '{w}' as type '{}' at position {}{e}",
                place(i + 1),
                kind_name(*k),
                i + 1
            ))
        })?;
        args.push(a);
    }
    Ok(args)
}

fn kind_name(k: ArgKind) -> &'static str {
    match k {
        ArgKind::Str | ArgKind::Reg | ArgKind::Map => "string",
        ArgKind::Sint => "integer",
        ArgKind::Ipv4 => "IPv4 address",
        ArgKind::Ipv6 => "IPv6 address",
        ArgKind::Msk4 => "IPv4 mask",
        ArgKind::Msk6 => "IPv6 mask",
        ArgKind::Backend => "backend",
        ArgKind::Frontend => "frontend",
        ArgKind::Server => "server",
        ArgKind::Var => "variable",
        ArgKind::UserList => "user list",
    }
}

fn parse_arg(w: &str, k: ArgKind, cx: &mut ParseCx<'_>) -> Result<Arg, String> {
    Ok(match k {
        ArgKind::Str | ArgKind::Reg | ArgKind::Map => Arg::Str(w.to_string()),
        ArgKind::Sint => {
            Arg::Sint(super::sample::parse_leading_int(w.as_bytes()).ok_or(String::new())?)
        }
        ArgKind::Ipv4 => Arg::Ipv4(w.parse().map_err(|_| String::new())?),
        ArgKind::Ipv6 => Arg::Ipv6(w.parse().map_err(|_| String::new())?),
        ArgKind::Msk4 => Arg::Mask(parse_mask4(w).ok_or(String::new())?),
        ArgKind::Msk6 => Arg::Mask(parse_mask6(w).ok_or(String::new())?),
        ArgKind::Backend | ArgKind::Frontend => Arg::Proxy(w.to_string(), usize::MAX),
        ArgKind::Server => match w.split_once('/') {
            Some((b, s)) => Arg::Server(b.into(), s.into(), usize::MAX, usize::MAX),
            None => Arg::Server(String::new(), w.into(), usize::MAX, usize::MAX),
        },
        ArgKind::UserList => Arg::UserList(w.to_string(), usize::MAX),
        ArgKind::Var => Arg::Var(cx.store.vars.parse_ref(w).map_err(|e| format!(" ({e})"))?),
    })
}

/// An IPv4 mask as dotted quad or prefix length.
pub fn parse_mask4(w: &str) -> Option<u8> {
    if let Ok(n) = w.parse::<u8>() {
        return (n <= 32).then_some(n);
    }
    let m: Ipv4Addr = w.parse().ok()?;
    let m = u32::from(m);
    let n = m.leading_ones();
    (m.checked_shl(n).unwrap_or(0) == 0).then_some(n as u8)
}

/// An IPv6 mask as prefix length or address form (`ffff:ffff::`).
pub fn parse_mask6(w: &str) -> Option<u8> {
    if let Ok(n) = w.parse::<u8>() {
        return (n <= 128).then_some(n);
    }
    let m = u128::from(w.parse::<Ipv6Addr>().ok()?);
    let n = m.leading_ones();
    (m.checked_shl(n).unwrap_or(0) == 0).then_some(n as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_items_and_args() {
        let ((n, a), rest) = split_item("req.hdr(host),lower").unwrap_or((("", None), ""));
        assert_eq!((n, a, rest), ("req.hdr", Some("host"), ",lower"));
        let ((n, a), rest) = split_item("regsub('a)b',x),len").unwrap_or((("", None), ""));
        assert_eq!((n, a, rest), ("regsub", Some("'a)b',x"), ",len"));
        assert!(split_item("hdr(host").is_err());
        assert_eq!(split_args("a,\"b,c\",d\\,e"), ["a", "b,c", "d,e"]);
        assert_eq!(parse_mask4("255.255.0.0"), Some(16));
        assert_eq!(parse_mask4("255.0.255.0"), None);
        assert_eq!(parse_mask4("24"), Some(24));
    }
}
