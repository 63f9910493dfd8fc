//! Authentication fetches (configuration.txt 7.3.6): `http_auth`,
//! `http_auth_group`, `http_auth_pass`, `http_auth_type`,
//! `http_auth_user`, over the request's first `Authorization` value.
//!
//! ```text
//!   Authorization: Basic c2NvdHQ6ZWxnYXRv      (first value, comma-split)
//!     http_auth_type   "Basic"  ("Bearer" for a token; none otherwise)
//!     http_auth_user   "scott"     http_auth_pass  "elgato"
//!     http_auth(L)     true if L has scott/elgato; false if not; none
//!                      when the header is not Basic
//!     http_auth_group(L)  expression: "scott" once authenticated
//!                         ACL: each group of scott in turn, so that
//!                         `http_auth_group(L) G1 G2` passes when scott
//!                         belongs to G1 or G2
//! ```
//!
//! The userlist argument is resolved when the expression is parsed: a
//! list declared later gets its slot then (see `UserLists::reference`),
//! and `cfg::userlist` refuses the configuration if it never comes.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::auth::{Credentials, UserList, parse_credentials};
use super::env::Env;
use super::expr::{Arg, ArgKind as K, EvalCx, FetchDef, ParseCx, Use};
use super::fetch::def;
use super::fetch_hdr::Values;
use super::fetch_http::req;
use super::sample::{Sample, SmpFlags, SmpType as T};

const RQ: Use = Use::REQ.union(Use::HTTP);

/// A table entry whose first argument is a userlist.
const fn udef(
    name: &'static str,
    out: T,
    f: super::expr::FetchFn,
    check: super::expr::CheckFn,
) -> FetchDef {
    let mut d = def(name, &[K::UserList], 1, out, f, RQ);
    d.check = Some(check);
    d
}

#[rustfmt::skip]
pub const AUTH: &[FetchDef] = &[
    udef("http_auth", T::Bool, fetch_auth, |a, cx| resolve(a, cx, "http_auth")),
    udef("http_auth_group", T::Str, fetch_auth_group, |a, cx| resolve(a, cx, "http_auth_group")),
    def("http_auth_pass", &[], 0, T::Str, |_, e, cx| basic_part(e, cx, false), RQ),
    def("http_auth_type", &[], 0, T::Str, fetch_type, RQ),
    def("http_auth_user", &[], 0, T::Str, |_, e, cx| basic_part(e, cx, true), RQ),
];

/// Gives the userlist argument its list index (a slot is made for a list
/// not declared yet).
#[allow(clippy::ptr_arg)] // CheckFn takes the Vec
fn resolve(args: &mut Vec<Arg>, cx: &mut ParseCx<'_>, fetch: &'static str) -> Result<(), String> {
    let Some(a) = args.first_mut() else {
        return Err("missing userlist".into());
    };
    let name = a.str().to_string();
    let idx = cx.store.userlists.reference(&name, fetch, cx.file, cx.line);
    *a = Arg::UserList(name, idx);
    Ok(())
}

/// Runs `f` over the credentials of the request's first `Authorization`
/// value.
fn with_creds<R>(
    e: &dyn Env,
    cx: &mut EvalCx<'_>,
    f: impl FnOnce(Credentials<'_>, &mut EvalCx<'_>) -> Option<R>,
) -> Option<R> {
    let v = req(e, cx)?;
    let line = v.values(b"authorization").next()?;
    let first = Values::new(line).next()?;
    let mut buf = cx.pool.get();
    let r = parse_credentials(first, &mut buf).and_then(|c| f(c, cx));
    cx.pool.put(buf);
    r
}

fn owned<'a>(cx: &mut EvalCx<'_>, b: &[u8]) -> Sample<'a> {
    let mut v = cx.pool.get();
    v.extend_from_slice(b);
    Sample::str_own(v)
}

/// The userlist an argument names, once declared.
fn list<'s>(a: &[Arg], cx: &EvalCx<'s>) -> Option<&'s UserList> {
    let Some(Arg::UserList(_, i)) = a.first() else {
        return None;
    };
    cx.store.userlists.lists.get(*i).filter(|l| l.declared)
}

/// `http_auth_type`: `Basic` or `Bearer` as 2.6 spells them.
fn fetch_type<'a>(_: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    with_creds(e, cx, |c, _| {
        Some(Sample::str_ref(match c {
            Credentials::Basic(..) => b"Basic".as_slice(),
            Credentials::Bearer(_) => b"Bearer".as_slice(),
        }))
    })
}

/// `http_auth_user` / `http_auth_pass`: Basic credentials only.
fn basic_part<'a>(e: &'a dyn Env, cx: &mut EvalCx<'_>, user: bool) -> Option<Sample<'a>> {
    with_creds(e, cx, |c, cx| match c {
        Credentials::Basic(u, p) => Some(owned(cx, if user { u } else { p })),
        Credentials::Bearer(_) => None,
    })
}

/// `http_auth(<userlist>)`: whether the Basic credentials are valid.
fn fetch_auth<'a>(a: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    with_creds(e, cx, |c, cx| match c {
        Credentials::Basic(u, p) => Some(Sample::bool(
            list(a, cx).is_some_and(|l| l.authenticate(u, p)),
        )),
        Credentials::Bearer(_) => None,
    })
}

/// `http_auth_group(<userlist>)`: the user once authenticated; for an
/// ACL, each of its groups in turn (2.6 matches the ACL's group names
/// against the user's groups).
fn fetch_auth_group<'a>(a: &[Arg], e: &'a dyn Env, cx: &mut EvalCx<'_>) -> Option<Sample<'a>> {
    with_creds(e, cx, |c, cx| {
        let Credentials::Basic(u, p) = c else {
            return None;
        };
        let l = list(a, cx)?;
        let user = l.user(u)?;
        if !super::auth::check_pass(&user.pass, p) {
            return None;
        }
        if !cx.acl {
            return Some(owned(cx, u));
        }
        let occ = cx.occ as usize;
        let g = user.groups.get(occ).and_then(|&g| l.groups.get(g))?;
        let mut s = owned(cx, g.name.as_bytes());
        if occ + 1 < user.groups.len() {
            s.flags |= SmpFlags::NOT_LAST;
        }
        Some(s)
    })
}

#[cfg(test)]
mod tests {
    use crate::cfg::diag::Diags;
    use crate::rules::acl::{self, AclRes};
    use crate::rules::expr::{EvalCx, ParseCx, SampleExpr};
    use crate::rules::fetch_mock::Mock;
    use crate::rules::sample::{BufPool, Smp};
    use crate::rules::store::RuleStore;
    use crate::rules::vars::Vars;

    /// A store holding the userlist section `lines` (post-parse checks
    /// done).
    fn store(lines: &str) -> RuleStore {
        let mut s = RuleStore::default();
        let mut d = Diags::default();
        for (i, l) in lines.lines().enumerate() {
            let w: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            crate::cfg::userlist::line(&mut s, &mut d, &w, "t", i + 1);
        }
        assert!(crate::cfg::userlist::check_lists(&mut s, &mut d), "{d:?}");
        s
    }

    const LISTS: &str = "userlist L1\n group G1 users tiger,scott\n group G2 users xdb,scott\n group G3\n\
         user tiger password $6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1\n\
         user scott insecure-password elgato\n user xdb insecure-password hello groups G3\n\
         user ann insecure-password\n user joe password\n";

    fn req(auth: &str) -> Mock {
        Mock::req(&format!(
            "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: {auth}\r\n\r\n"
        ))
    }

    fn eval(st: &mut RuleStore, env: &Mock, expr: &str) -> Option<String> {
        let mut pcx = ParseCx {
            store: st,
            file: "t",
            line: 99,
            base_dir: None,
        };
        let e = SampleExpr::parse(expr, &mut pcx).ok()?;
        let (mut pool, mut vars) = (BufPool::default(), Vars::default());
        let mut cx = EvalCx::new(&mut pool, st, &mut vars);
        e.eval(env, &mut cx).map(|s| match s.data {
            Smp::Bool(b) => u8::from(b).to_string(),
            Smp::Str(d) => String::from_utf8_lossy(d.as_bytes()).into_owned(),
            other => format!("{other:?}"),
        })
    }

    fn acl(st: &mut RuleStore, env: &Mock, line: &str) -> bool {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let mut pcx = ParseCx {
            store: st,
            file: "t",
            line: 99,
            base_dir: None,
        };
        let t = acl::parse_term(&words, "t", &mut pcx).unwrap_or_else(|e| panic!("{e}"));
        let (mut pool, mut vars) = (BufPool::default(), Vars::default());
        let mut cx = EvalCx::new(&mut pool, st, &mut vars);
        acl::eval_term(&t, env, &mut cx) == AclRes::Pass
    }

    /// `(user, pass, type, auth, group)` as the lf-string recorded from 2.6
    /// prints them.
    fn all(st: &mut RuleStore, env: &Mock) -> [Option<String>; 5] {
        [
            eval(st, env, "http_auth_user"),
            eval(st, env, "http_auth_pass"),
            eval(st, env, "http_auth_type"),
            eval(st, env, "http_auth(L1)"),
            eval(st, env, "http_auth_group(L1)"),
        ]
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn fetches_answer_as_26() {
        let mut st = store(LISTS);
        // curl -u tiger:secret (SHA-512-crypt), tiger:bad, scott:elgato:x.
        let e = req("Basic dGlnZXI6c2VjcmV0");
        assert_eq!(
            all(&mut st, &e),
            [s("tiger"), s("secret"), s("Basic"), s("1"), s("tiger")]
        );
        let e = req("Basic dGlnZXI6YmFk");
        assert_eq!(
            all(&mut st, &e),
            [s("tiger"), s("bad"), s("Basic"), s("0"), None]
        );
        let e = req("Basic c2NvdHQ6ZWxnYXRvOng=");
        assert_eq!(
            all(&mut st, &e),
            [s("scott"), s("elgato:x"), s("Basic"), s("0"), None]
        );
        // An empty insecure-password matches an empty password; an empty
        // `password` hash matches nothing.
        let e = req("Basic YW5uOg==");
        assert_eq!(eval(&mut st, &e, "http_auth(L1)"), s("1"));
        let e = req("Basic am9lOg==");
        assert_eq!(eval(&mut st, &e, "http_auth(L1)"), s("0"));
        // Not Basic: nothing, except the type for a bearer token.
        let e = req("bearer abc");
        assert_eq!(all(&mut st, &e), [None, None, s("Bearer"), None, None]);
        let e = req("Digest x");
        assert_eq!(all(&mut st, &e), [None, None, None, None, None]);
        // The first comma-separated value of the first header counts.
        let e = req("Basic c2NvdHQ6ZWxnYXRv,Basic x");
        assert_eq!(eval(&mut st, &e, "http_auth(L1)"), s("1"));
        let e = Mock::req(
            "GET / HTTP/1.1\r\nAuthorization: Basic Zm9vOmJhcg==\r\nAuthorization: Basic c2NvdHQ6ZWxnYXRv\r\n\r\n",
        );
        assert_eq!(eval(&mut st, &e, "http_auth_user"), s("foo"));
        let e = Mock::req("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(all(&mut st, &e), [None, None, None, None, None]);
    }

    #[test]
    fn group_acl_matches_the_users_groups() {
        let mut st = store(LISTS);
        let tiger = req("Basic dGlnZXI6c2VjcmV0");
        let scott = req("Basic c2NvdHQ6ZWxnYXRv");
        let xdb = req("Basic eGRiOmhlbGxv");
        assert!(acl(&mut st, &tiger, "http_auth_group(L1) G1"));
        assert!(!acl(&mut st, &tiger, "http_auth_group(L1) G2 G3"));
        assert!(acl(&mut st, &scott, "http_auth_group(L1) G2"));
        assert!(acl(&mut st, &scott, "http_auth_group(L1) G3 G1"));
        assert!(acl(&mut st, &xdb, "http_auth_group(L1) G3"));
        assert!(acl(&mut st, &xdb, "http_auth_group(L1) G2"));
        assert!(!acl(&mut st, &xdb, "http_auth_group(L1) G1"));
        let bad = req("Basic eGRiOmhlbGxw");
        assert!(!acl(&mut st, &bad, "http_auth_group(L1) G3"));
        assert!(acl(&mut st, &scott, "http_auth(L1)"));
        assert!(!acl(&mut st, &bad, "http_auth(L1)"));
    }

    #[test]
    fn a_list_declared_later_is_found_by_index() {
        let mut st = RuleStore::default();
        let e = req("Basic c2NvdHQ6ZWxnYXRv");
        // Referenced first: no list yet, so no match.
        assert_eq!(eval(&mut st, &e, "http_auth(L1)"), s("0"));
        let mut d = Diags::default();
        for (i, l) in ["userlist L1", "user scott insecure-password elgato"]
            .iter()
            .enumerate()
        {
            let w: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            crate::cfg::userlist::line(&mut st, &mut d, &w, "t", i + 1);
        }
        assert!(crate::cfg::userlist::check_lists(&mut st, &mut d));
        assert_eq!(st.userlists.lists.len(), 1);
        assert_eq!(eval(&mut st, &e, "http_auth(L1)"), s("1"));
    }
}
