//! A test [`Env`]: real HTTP heads parsed by `http::parse`, raw payloads,
//! and helpers to evaluate an expression or an ACL line against it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::http::parse::{Hdr, Head, Kind, ParseOpts, parse_head};
use crate::rules::acl::{self, AclRes};
use crate::rules::env::{Dir, Env, HttpView};
use crate::rules::expr::{EvalCx, ParseCx, SampleExpr};
use crate::rules::sample::{BufPool, Smp};
use crate::rules::store::RuleStore;
use crate::rules::vars::Vars;

pub struct Msg {
    bytes: Vec<u8>,
    head: Head,
    hdrs: Vec<Hdr>,
}

fn parse(raw: &str, kind: Kind) -> Msg {
    let mut hdrs = Vec::new();
    let head = parse_head(raw.as_bytes(), kind, &ParseOpts::default(), &mut hdrs).unwrap();
    Msg {
        bytes: raw.as_bytes().to_vec(),
        head,
        hdrs,
    }
}

#[derive(Default)]
pub struct Mock {
    pub req: Option<Msg>,
    pub res: Option<Msg>,
    pub payload: [Vec<u8>; 2],
    pub fin: bool,
    pub body: Option<(Vec<u8>, bool)>,
    pub dir: Option<Dir>,
    pub first: Option<bool>,
    pub line: Option<Vec<u8>>,
}

impl Mock {
    pub fn req(raw: &str) -> Mock {
        Mock {
            req: Some(parse(raw, Kind::Request)),
            fin: true,
            ..Mock::default()
        }
    }
    pub fn with_res(mut self, raw: &str) -> Mock {
        self.res = Some(parse(raw, Kind::Response));
        self
    }
    pub fn payload(data: &[u8], fin: bool) -> Mock {
        Mock {
            payload: [data.to_vec(), Vec::new()],
            fin,
            ..Mock::default()
        }
    }
}

fn view(m: &Msg) -> HttpView<'_> {
    HttpView {
        bytes: &m.bytes,
        head: &m.head,
        hdrs: &m.hdrs,
    }
}

impl Env for Mock {
    fn payload(&self, dir: Dir) -> Option<&[u8]> {
        Some(&self.payload[dir as usize])
    }
    fn payload_final(&self, _: Dir) -> bool {
        self.fin
    }
    fn http(&self, dir: Dir) -> Option<HttpView<'_>> {
        match dir {
            Dir::Req => self.req.as_ref().map(view),
            Dir::Res => self.res.as_ref().map(view),
        }
    }
    fn req_body(&self) -> Option<(&[u8], bool)> {
        self.body.as_ref().map(|(b, f)| (b.as_slice(), *f))
    }
    fn status(&self) -> Option<u16> {
        self.res.as_ref().map(|m| m.head.status)
    }
    fn rule_dir(&self) -> Option<Dir> {
        self.dir
    }
    fn first_req(&self) -> Option<bool> {
        self.first
    }
    fn req_line(&self) -> Option<&[u8]> {
        self.line.as_deref()
    }
}

/// Renders a sample as `%[...]` would (binary as hex).
fn render(s: &Smp<'_>) -> String {
    match s {
        Smp::Bool(b) => u8::from(*b).to_string(),
        Smp::Sint(n) => n.to_string(),
        Smp::Ipv4(a) => a.to_string(),
        Smp::Ipv6(a) => a.to_string(),
        Smp::Str(d) => String::from_utf8_lossy(d.as_bytes()).into_owned(),
        Smp::Bin(d) => d.as_bytes().iter().map(|b| format!("{b:02X}")).collect(),
    }
}

/// Evaluates `expr`; returns the rendered sample and whether the fetch
/// said "may change" (by flag or by `cx.may_change`).
pub fn eval_mc(env: &dyn Env, expr: &str) -> (Option<String>, bool) {
    let mut store = RuleStore::default();
    let mut pcx = ParseCx {
        store: &mut store,
        file: "t",
        line: 1,
        base_dir: None,
    };
    let e = SampleExpr::parse(expr, &mut pcx).unwrap();
    let mut pool = BufPool::default();
    let mut vars = Vars::default();
    let mut cx = EvalCx::new(&mut pool, &store, &mut vars);
    let s = e.eval(env, &mut cx);
    let mc = cx.may_change
        || s.as_ref()
            .is_some_and(|s| s.flags.contains(crate::rules::sample::SmpFlags::MAY_CHANGE));
    (s.map(|s| render(&s.data)), mc)
}

pub fn eval(env: &dyn Env, expr: &str) -> Option<String> {
    eval_mc(env, expr).0
}

/// The parse error of `expr`.
pub fn parse_err(expr: &str) -> String {
    let mut store = RuleStore::default();
    let mut pcx = ParseCx {
        store: &mut store,
        file: "t",
        line: 1,
        base_dir: None,
    };
    SampleExpr::parse(expr, &mut pcx)
        .err()
        .map(|e| e.0)
        .unwrap_or_default()
}

/// Evaluates an anonymous ACL line (`criterion [flags] patterns`).
pub fn acl_res(env: &dyn Env, line: &str) -> AclRes {
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let mut store = RuleStore::default();
    let mut pcx = ParseCx {
        store: &mut store,
        file: "t",
        line: 1,
        base_dir: None,
    };
    let t = acl::parse_term(&words, "t", &mut pcx).unwrap();
    let mut pool = BufPool::default();
    let mut vars = Vars::default();
    let mut cx = EvalCx::new(&mut pool, &store, &mut vars);
    acl::eval_term(&t, env, &mut cx)
}

pub fn acl(env: &dyn Env, line: &str) -> bool {
    acl_res(env, line) == AclRes::Pass
}
