//! ACLs and conditions (configuration.txt 7.1, 7.2, 7.4).
//!
//! ```text
//!   acl <name> <criterion> [flags] [operator] [patterns...]
//!       criterion = a sample expression, or a fetch with a match suffix
//!                   (`path_beg`, `hdr_dom(host)`); flags -i -f -m -M -n -u --
//!   if|unless <term> [<term>...] [or|'||' <term>...]
//!       term = [!]<acl name> | [!]{ <criterion> [flags] [patterns] }
//! ```
//!
//! An ACL passes when any of its lines passes; a line passes when any value
//! of its sample matches any pattern. Results are three-valued like
//! HAProxy's: a sample that may still change (more data to come) gives
//! `Miss`, which rules with an inspect delay wait on.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::env::Env;
use super::expr::{EvalCx, ParseCx, SampleExpr};
use super::pattern::{Match, lookup};
use super::sample::{Smp, SmpFlags};
use std::collections::HashMap;

/// One `acl` line (or an anonymous `{ }` ACL).
#[derive(Debug, Clone)]
pub struct AclTerm {
    pub expr: SampleExpr,
    pub method: Match,
    /// Compiled pattern sets (store indexes): inline words, then `-f` files.
    pub pats: Vec<usize>,
    /// Its value may differ between two evaluations of one request (random
    /// values, the clock, variables a converter may set): never memoized.
    pub volatile: bool,
}

/// A named ACL: its lines, ORed.
#[derive(Debug, Clone)]
pub struct Acl {
    pub name: String,
    pub terms: Vec<AclTerm>,
}

/// A three-valued test result (HAProxy's `ACL_TEST_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclRes {
    Fail,
    /// Undecided until more data arrives.
    Miss,
    Pass,
}

impl AclRes {
    fn not(self) -> AclRes {
        match self {
            AclRes::Pass => AclRes::Fail,
            AclRes::Fail => AclRes::Pass,
            AclRes::Miss => AclRes::Miss,
        }
    }
}

/// One term of a condition.
#[derive(Debug, Clone, Copy)]
pub struct CondTerm {
    pub neg: bool,
    pub acl: usize,
}

/// `if` / `unless` and its terms: alternatives (`||`) of conjunctions.
#[derive(Debug, Clone)]
pub struct Cond {
    pub unless: bool,
    pub alts: Vec<Vec<CondTerm>>,
}

/// The ACLs declared in one proxy, by name (store indexes).
pub type AclScope = HashMap<String, usize>;

/// HAProxy 2.6's predefined ACLs (configuration.txt 7.4).
const PREDEFINED: &[(&str, &str)] = &[
    ("FALSE", "always_false"),
    ("HTTP", "req.proto_http"),
    ("HTTP_1.0", "req.ver 1.0"),
    ("HTTP_1.1", "req.ver 1.1"),
    ("HTTP_2.0", "req.ver 2.0"),
    ("HTTP_3.0", "req.ver 3.0"),
    ("HTTP_CONTENT", "req.hdr_val(content-length) gt 0"),
    ("HTTP_URL_ABS", "url_reg ^[^/:]*://"),
    ("HTTP_URL_SLASH", "url_beg /"),
    ("HTTP_URL_STAR", "url *"),
    ("LOCALHOST", "src 127.0.0.1/8 ::1"),
    ("METH_CONNECT", "method CONNECT"),
    ("METH_DELETE", "method DELETE"),
    ("METH_GET", "method GET HEAD"),
    ("METH_HEAD", "method HEAD"),
    ("METH_OPTIONS", "method OPTIONS"),
    ("METH_POST", "method POST"),
    ("METH_PUT", "method PUT"),
    ("METH_TRACE", "method TRACE"),
    ("RDP_COOKIE", "req.rdp_cookie_cnt gt 0"),
    ("REQ_CONTENT", "req.len gt 0"),
    ("TRUE", "always_true"),
    ("WAIT_END", "wait_end"),
];

/// Match suffixes an ACL keyword may carry (`path_beg`).
const SUFFIXES: &[(&str, Match)] = &[
    ("_beg", Match::Beg),
    ("_end", Match::End),
    ("_sub", Match::Sub),
    ("_reg", Match::Reg),
    ("_dom", Match::Dom),
    ("_dir", Match::Dir),
    ("_len", Match::Len),
    ("_found", Match::Found),
    ("_ip", Match::Ip),
    ("_str", Match::Str),
    ("_int", Match::Int),
];

/// Parses one ACL line's criterion, flags and patterns (`words` starts at
/// the criterion). `name` labels the inline pattern source.
pub fn parse_term(words: &[String], name: &str, cx: &mut ParseCx<'_>) -> Result<AclTerm, String> {
    let crit = words.first().ok_or("missing ACL expression")?;
    let (expr, suffix) = parse_criterion(crit, cx)?;
    let mut method = suffix.unwrap_or_else(|| default_method(&expr));
    let (mut icase, mut files, mut as_map) = (false, Vec::new(), false);
    let mut i = 1;
    while let Some(w) = words.get(i).filter(|w| w.starts_with('-')) {
        i += 1;
        match w.as_str() {
            "-i" => icase = true,
            "-n" => {}
            // `-M`: the `-f` files are maps (their first column is matched).
            "-M" => as_map = true,
            "--" => break,
            "-f" | "-m" | "-u" => {
                let v = words
                    .get(i)
                    .ok_or_else(|| format!("missing argument after '{w}'"))?;
                i += 1;
                match w.as_str() {
                    "-f" => files.push(v.clone()),
                    "-m" => {
                        method = Match::from_name(v).ok_or_else(|| {
                            format!("unknown matching method '{v}' when parsing ACL expression")
                        })?;
                    }
                    _ => {}
                }
            }
            _ => {
                return Err(format!(
                    "'{w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
                ));
            }
        }
    }
    let mut pats = Vec::new();
    let words = words.get(i..).unwrap_or(&[]);
    for f in &files {
        // How `show acl|map` names this user of the file.
        let user = format!(
            "{} at file '{}' line {}",
            if as_map { "map" } else { "acl" },
            cx.file,
            cx.line
        );
        let r = cx.store.load_file(f, cx.base_dir, as_map, user)?;
        pats.push(cx.store.expr_for(r, method, icase)?);
    }
    // The line's own words get a source of their own, after the files',
    // even when there is none (2.6 numbers sources that way).
    let display = format!(
        "acl '{}' file '{}' line {}",
        crit_name(crit),
        cx.file,
        cx.line
    );
    let r = cx.store.new_ref("", display, false);
    let pe = cx.store.expr_for(r, method, icase)?;
    add_words(cx, r, method, words)?;
    pats.push(pe);
    let _ = name;
    const VOLATILE: &[&str] = &["rand", "uuid", "date", "var", "set-var", "unset-var"];
    let volatile = std::iter::once(expr.fetch.name)
        .chain(expr.convs.iter().map(|(c, _)| c.name))
        .any(|n| VOLATILE.contains(&n));
    Ok(AclTerm {
        expr,
        method,
        pats,
        volatile,
    })
}

/// The keyword part of a criterion, as `show acl` names inline sources.
fn crit_name(crit: &str) -> &str {
    crit.split(['(', ',']).next().unwrap_or(crit)
}

/// Adds inline pattern words to source `r`: integer operators (`gt 3`)
/// turn into ranges; other words are patterns as written.
fn add_words(
    cx: &mut ParseCx<'_>,
    r: usize,
    method: Match,
    words: &[String],
) -> Result<(), String> {
    let int = matches!(method, Match::Int | Match::Len);
    let mut op: Option<&str> = None;
    for w in words {
        if int && matches!(w.as_str(), "eq" | "ge" | "gt" | "le" | "lt") {
            op = Some(w);
            continue;
        }
        let key = match (op, int) {
            (Some(o), true) if o != "eq" => {
                let n: i64 = w.parse().map_err(|_| format!("'{w}' is not a number"))?;
                match o {
                    "ge" => format!("{n}:"),
                    "gt" => format!("{}:", n.saturating_add(1)),
                    "le" => format!(":{n}"),
                    _ => format!(":{}", n.saturating_sub(1)),
                }
            }
            _ => w.clone(),
        };
        cx.store.add_entry(r, &key, None)?;
    }
    Ok(())
}

/// A criterion: a plain sample expression, or a fetch name carrying a
/// match suffix (`hdr_beg(host)`).
fn parse_criterion(
    crit: &str,
    cx: &mut ParseCx<'_>,
) -> Result<(SampleExpr, Option<Match>), String> {
    let head = crit.split(['(', ',']).next().unwrap_or(crit);
    if super::fetch::find(head).is_none() {
        for (sfx, m) in SUFFIXES {
            if let Some(base) = head
                .strip_suffix(sfx)
                .filter(|b| super::fetch::find(b).is_some())
            {
                let text = format!("{base}{}", crit.get(head.len()..).unwrap_or(""));
                let e = SampleExpr::parse(&text, cx).map_err(|e| acl_expr_err(e.0, crit))?;
                return Ok((e, Some(*m)));
            }
        }
    }
    let e = SampleExpr::parse(crit, cx).map_err(|e| acl_expr_err(e.0, crit))?;
    Ok((e, None))
}

fn acl_expr_err(msg: String, crit: &str) -> String {
    match msg.strip_prefix("fetch method ") {
        Some(rest) if msg.contains("expected ')'") => format!("ACL keyword {rest}"),
        _ if msg.starts_with("unknown") || msg.starts_with("fetch method") => {
            format!("{msg} in ACL expression '{crit}'")
        }
        _ => msg,
    }
}

fn default_method(e: &SampleExpr) -> Match {
    Match::default_for(e.out_type())
}

/// Declares (or extends) ACL `name` in `scope` from an `acl` line.
pub fn declare(
    scope: &mut AclScope,
    name: &str,
    words: &[String],
    cx: &mut ParseCx<'_>,
) -> Result<(), String> {
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        return Err(format!(
            "character '{c}' is not permitted in acl name '{name}'"
        ));
    }
    let term = parse_term(words, name, cx)?;
    match scope.get(name) {
        Some(&id) => {
            if let Some(a) = cx.store.acls.get_mut(id) {
                a.terms.push(term);
            }
        }
        None => {
            cx.store.acls.push(Acl {
                name: name.to_string(),
                terms: vec![term],
            });
            scope.insert(name.to_string(), cx.store.acls.len() - 1);
        }
    }
    Ok(())
}

/// Parses a condition (`words` starts with `if` or `unless`).
pub fn parse_cond(
    words: &[String],
    scope: &mut AclScope,
    cx: &mut ParseCx<'_>,
) -> Result<Cond, String> {
    let unless = match words.first().map(String::as_str) {
        Some("if") => false,
        Some("unless") => true,
        _ => return Err("expects 'if' or 'unless'".into()),
    };
    let mut alts = vec![Vec::new()];
    let mut i = 1;
    let mut neg = false;
    while let Some(w) = words.get(i) {
        i += 1;
        if w == "||" || w == "or" {
            if alts.last().is_none_or(Vec::is_empty) {
                return Err(format!("missing ACL expression before '{w}'"));
            }
            alts.push(Vec::new());
            continue;
        }
        let mut word = w.as_str();
        while let Some(r) = word.strip_prefix('!') {
            neg = !neg;
            word = r;
        }
        if word.is_empty() {
            continue;
        }
        let acl = if word == "{" {
            let end = words
                .get(i..)
                .and_then(|r| r.iter().position(|w| w == "}"))
                .ok_or("missing closing '}' in condition")?;
            let inner = words.get(i..i + end).unwrap_or(&[]);
            i += end + 1;
            let term = parse_term(inner, "", cx)?;
            cx.store.acls.push(Acl {
                name: String::new(),
                terms: vec![term],
            });
            cx.store.acls.len() - 1
        } else {
            find_acl(word, scope, cx)?
        };
        if let Some(a) = alts.last_mut() {
            a.push(CondTerm { neg, acl });
        }
        neg = false;
    }
    if alts.iter().any(Vec::is_empty) {
        return Err("no condition after 'if' or 'unless'".into());
    }
    Ok(Cond { unless, alts })
}

/// A declared ACL, else a predefined one (built on first use in `scope`).
fn find_acl(name: &str, scope: &mut AclScope, cx: &mut ParseCx<'_>) -> Result<usize, String> {
    if let Some(&id) = scope.get(name) {
        return Ok(id);
    }
    let Some((_, def)) = PREDEFINED.iter().find(|(n, _)| *n == name) else {
        return Err(format!("no such ACL : '{name}'"));
    };
    let words: Vec<String> = def.split(' ').map(str::to_string).collect();
    let term = parse_term(&words, name, cx)?;
    cx.store.acls.push(Acl {
        name: name.to_string(),
        terms: vec![term],
    });
    let id = cx.store.acls.len() - 1;
    scope.insert(name.to_string(), id);
    Ok(id)
}

/// Evaluates one ACL line: each value of the sample against the patterns.
pub fn eval_term(t: &AclTerm, env: &dyn Env, cx: &mut EvalCx<'_>) -> AclRes {
    cx.acl = true;
    cx.occ = 0;
    cx.may_change = false;
    let mut res = AclRes::Fail;
    // Multi-valued fetches are bounded by their data; the cap guards a
    // fetch that would keep saying NOT_LAST.
    for _ in 0..10_000 {
        let Some(smp) = t.expr.eval(env, cx) else {
            if cx.may_change {
                res = AclRes::Miss;
            }
            break;
        };
        let flags = smp.flags;
        let hit = if t.method == Match::Found {
            smp.recycle(cx.pool);
            true
        } else if t.method == Match::Bool {
            // `-m bool` takes no pattern: the value decides
            // (configuration.txt 7.1.1), so `acl ok http_auth(L)` passes
            // when the fetch says true.
            let hit =
                matches!(smp.data, Smp::Bool(true)) || matches!(smp.data, Smp::Sint(n) if n != 0);
            smp.recycle(cx.pool);
            hit
        } else {
            let mut hit = false;
            let mut smp = Some(smp);
            for &p in &t.pats {
                let (Some(s), Some(pe)) = (smp.take(), cx.store.exprs.get(p)) else {
                    break;
                };
                let (h, back) = lookup(pe, s, cx.pool);
                smp = back;
                if h.is_some() {
                    hit = true;
                    break;
                }
            }
            if let Some(s) = smp {
                s.recycle(cx.pool);
            }
            hit
        };
        if hit {
            res = AclRes::Pass;
            break;
        }
        if flags.contains(SmpFlags::MAY_CHANGE) {
            res = AclRes::Miss;
        }
        if !flags.contains(SmpFlags::NOT_LAST) {
            break;
        }
        cx.occ += 1;
    }
    cx.acl = false;
    cx.occ = 0;
    res
}

/// Evaluates ACL `id`: its lines ORed.
pub fn eval_acl(id: usize, env: &dyn Env, cx: &mut EvalCx<'_>) -> AclRes {
    let Some(acl) = cx.store.acls.get(id) else {
        return AclRes::Fail;
    };
    // Within one evaluation (one rule set over an unchanged message) an
    // ACL named by several rules is computed once.
    let memo = !acl.terms.iter().any(|t| t.volatile);
    if memo
        && let Some(r) = cx
            .memo
            .as_ref()
            .and_then(|m| m.get(id))
            .and_then(|v| from_memo(*v))
    {
        return r;
    }
    let mut res = AclRes::Fail;
    for t in &acl.terms {
        match eval_term(t, env, cx) {
            AclRes::Pass => {
                res = AclRes::Pass;
                break;
            }
            AclRes::Miss => res = AclRes::Miss,
            AclRes::Fail => {}
        }
    }
    if memo && let Some(slot) = cx.memo.as_mut().and_then(|m| m.get_mut(id)) {
        *slot = match res {
            AclRes::Fail => 1,
            AclRes::Miss => 2,
            AclRes::Pass => 3,
        };
    }
    res
}

fn from_memo(v: u8) -> Option<AclRes> {
    match v {
        1 => Some(AclRes::Fail),
        2 => Some(AclRes::Miss),
        3 => Some(AclRes::Pass),
        _ => None,
    }
}

impl Cond {
    /// Evaluates the condition: `Pass` means the rule applies, `Miss` that
    /// it cannot be decided before more data arrives.
    pub fn eval(&self, env: &dyn Env, cx: &mut EvalCx<'_>) -> AclRes {
        match self.eval_terms(env, cx) {
            AclRes::Miss => AclRes::Miss,
            r if self.unless => r.not(),
            r => r,
        }
    }

    /// Evaluates with undecided terms counted as failed before `unless`
    /// applies, as HAProxy does once there is no delay left to wait.
    pub fn test(&self, env: &dyn Env, cx: &mut EvalCx<'_>) -> bool {
        (self.eval_terms(env, cx) == AclRes::Pass) != self.unless
    }

    fn eval_terms(&self, env: &dyn Env, cx: &mut EvalCx<'_>) -> AclRes {
        let mut res = AclRes::Fail;
        for alt in &self.alts {
            let mut all = AclRes::Pass;
            for t in alt {
                let mut r = eval_acl(t.acl, env, cx);
                if t.neg {
                    r = r.not();
                }
                match r {
                    AclRes::Fail => {
                        all = AclRes::Fail;
                        break;
                    }
                    AclRes::Miss => all = AclRes::Miss,
                    AclRes::Pass => {}
                }
            }
            match all {
                AclRes::Pass => {
                    res = AclRes::Pass;
                    break;
                }
                AclRes::Miss => res = AclRes::Miss,
                AclRes::Fail => {}
            }
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::env::NoEnv;
    use crate::rules::sample::BufPool;
    use crate::rules::store::RuleStore;
    use crate::rules::vars::Vars;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn acl_results_are_memoized_per_evaluation_unless_volatile() {
        let mut store = RuleStore::default();
        let mut scope = AclScope::default();
        let mut pcx = ParseCx {
            store: &mut store,
            file: "t",
            line: 1,
            base_dir: None,
        };
        assert!(declare(&mut scope, "one", &words("int(1) 1"), &mut pcx).is_ok());
        assert!(declare(&mut scope, "dice", &words("rand(2) 0:1"), &mut pcx).is_ok());
        let cond = parse_cond(&words("if one dice || !one"), &mut scope, &mut pcx);
        let Ok(cond) = cond else {
            panic!("{cond:?}");
        };
        let id = |n: &str| scope.get(n).copied().unwrap_or(usize::MAX);
        let (one, dice) = (id("one"), id("dice"));
        let (mut pool, mut vars) = (BufPool::default(), Vars::default());
        let mut memo = vec![0u8; store.acls.len()];
        let mut cx = EvalCx::new(&mut pool, &store, &mut vars);
        cx.memo = Some(&mut memo);
        assert!(cond.test(&NoEnv, &mut cx));
        assert_eq!(memo.get(one), Some(&3), "a stable ACL is kept");
        assert_eq!(memo.get(dice), Some(&0), "a random one is not");
    }
}
