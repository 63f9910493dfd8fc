//! Tests of `http-request`, `http-response` and `http-error` lines
//! (`http_rules.rs`). Diagnostic texts are HAProxy 2.6's, from `haproxy -c`.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use super::atol;
use crate::cfg::http_kw::tests::{E503, Files, px};
use crate::cfg::http_syntax::check_regex;
use crate::cfg::model::*;
use std::path::PathBuf;

/// The request rules of a frontend with `body`, and its diagnostics.
fn req(body: &str) -> (Vec<HttpAction>, Vec<String>) {
    let (p, l) = px("frontend", body);
    (
        p.http.req_rules.iter().map(|r| r.action.clone()).collect(),
        l,
    )
}

/// The one diagnostic of a frontend with the single line `rule`.
fn err(rule: &str) -> String {
    let (_, l) = px("frontend", &format!("  {rule}\n"));
    assert_eq!(l.len(), 1, "{l:?}");
    l.into_iter().next().unwrap()
}

/// HAProxy's context for an invalid rule of frontend `x` at line 8.
fn ctx(action: &str, msg: &str) -> String {
    format!(
        "ALERT parsing [t.cfg:8] : error detected in frontend 'x' while parsing 'http-request {action}' rule : {msg}."
    )
}

#[test]
fn header_actions() {
    let (r, l) = req(
        "  http-request set-header X-A \"%[src] x\"\n  http-request add-header X-B b\n  \
         http-request del-header X-C\n  http-request del-header X-D -m str\n  \
         http-request replace-header Cookie foo=([^;]*);(.*) foo=\\1;\\2\n  \
         http-request replace-value Accept ^text/(.*)$ t/\\1\n",
    );
    assert!(l.is_empty(), "{l:?}");
    let got: Vec<String> = r.iter().map(|a| format!("{a:?}")).collect();
    assert_eq!(
        got,
        [
            r#"SetHeader { name: "X-A", value: "%[src] x" }"#,
            r#"AddHeader { name: "X-B", value: "b" }"#,
            r#"DelHeader { name: "X-C" }"#,
            r#"DelHeader { name: "X-D" }"#,
            r#"ReplaceHeader { name: "Cookie", regex: "foo=([^;]*);(.*)", replace: "foo=\\1;\\2" }"#,
            r#"ReplaceValue { name: "Accept", regex: "^text/(.*)$", replace: "t/\\1" }"#,
        ]
    );
    assert_eq!(
        err("http-request set-header X"),
        ctx("set-header", "expects exactly 2 arguments")
    );
    assert_eq!(
        err("http-request add-header \"\" a"),
        ctx("add-header", "expects exactly 2 arguments")
    );
    assert_eq!(
        err("http-request set-header X a b"),
        "ALERT parsing [t.cfg:8]: 'http-request set-header' expects either 'if' or 'unless' followed by a condition but found 'b'."
    );
    assert_eq!(
        err("http-request del-header"),
        ctx("del-header", "expects at least 1 argument")
    );
    assert_eq!(
        err("http-request del-header X -m"),
        ctx("del-header", "-m flag expects exactly 1 argument")
    );
    assert_eq!(
        err("http-request del-header X -m foo"),
        ctx("del-header", "-m with unsupported matching method 'foo'")
    );
    assert_eq!(
        err("http-request del-header X -m beg"),
        "ALERT parsing [t.cfg:8] : 'http-request del-header -m beg' is valid in HAProxy 2.6 but not supported yet by haproxy-rs (only '-m str')"
    );
    assert_eq!(
        err("http-request replace-value X a"),
        ctx("replace-value", "expects exactly 3 arguments")
    );
    assert_eq!(
        err("http-request replace-header X (a(b) b"),
        ctx(
            "replace-header",
            "regex '(a(b)' is invalid (error=missing closing parenthesis, erroffset=5)"
        )
    );
}

#[test]
fn regexes_get_pcres_commonest_errors() {
    for ok in [
        "^/api/(.*)$",
        "(?i)foo",
        "(?:a|b)+?",
        "[]a]",
        "[^]a]*",
        "a{2,3}",
        "\\d+\\.\\(",
        "[[:alpha:]]+",
        "x*+",
        "",
    ] {
        assert_eq!(check_regex(ok), Ok(()), "{ok}");
    }
    let e = |re: &str| check_regex(re).unwrap_err();
    assert_eq!(
        e("("),
        "regex '(' is invalid (error=missing closing parenthesis, erroffset=1)"
    );
    assert_eq!(
        e("a)"),
        "regex 'a)' is invalid (error=unmatched closing parenthesis, erroffset=1)"
    );
    assert_eq!(
        e("[a"),
        "regex '[a' is invalid (error=missing terminating ] for character class, erroffset=2)"
    );
    assert_eq!(
        e("a\\"),
        "regex 'a\\' is invalid (error=\\ at end of pattern, erroffset=2)"
    );
    assert_eq!(
        e("*"),
        "regex '*' is invalid (error=quantifier does not follow a repeatable item, erroffset=0)"
    );
    assert_eq!(
        e("a|+"),
        "regex 'a|+' is invalid (error=quantifier does not follow a repeatable item, erroffset=2)"
    );
}

#[test]
fn path_query_uri_and_method() {
    let (r, l) = req(
        "  http-request set-path /v2%[path]\n  http-request set-query a=1\n  \
         http-request set-uri /x?y\n  http-request set-method GET\n",
    );
    assert!(l.is_empty(), "{l:?}");
    let got: Vec<String> = r.iter().map(|a| format!("{a:?}")).collect();
    assert_eq!(
        got,
        [
            r#"SetPath("/v2%[path]")"#,
            r#"SetQuery("a=1")"#,
            r#"SetUri("/x?y")"#,
            r#"SetMethod("GET")"#
        ]
    );
    let one = "expects exactly 1 argument <format>";
    assert_eq!(err("http-request set-path"), ctx("set-path", one));
    assert_eq!(err("http-request set-query a b"), ctx("set-query", one));
    assert_eq!(err("http-request set-uri if TRUE"), ctx("set-uri", one));
}

#[test]
fn redirects() {
    let (r, l) = req("  http-request redirect location /a if TRUE\n  \
         http-request redirect code 301 prefix https://x drop-query append-slash if TRUE\n  \
         http-request redirect scheme https code 308 set-cookie A=1 ignore-empty if TRUE\n  \
         http-request redirect location /b clear-cookie B\n");
    assert!(l.is_empty(), "{l:?}");
    let got: Vec<String> = r.iter().map(|a| format!("{a:?}")).collect();
    assert_eq!(
        got,
        [
            r#"Redirect { kind: Location, target: "/a", code: 302, drop_query: false, append_slash: false, cookie: None, ignore_empty: false }"#,
            r#"Redirect { kind: Prefix, target: "https://x", code: 301, drop_query: true, append_slash: true, cookie: None, ignore_empty: false }"#,
            r#"Redirect { kind: Scheme, target: "https", code: 308, drop_query: false, append_slash: false, cookie: Some("A=1; path=/;"), ignore_empty: true }"#,
            r#"Redirect { kind: Location, target: "/b", code: 302, drop_query: false, append_slash: false, cookie: Some("B; path=/; Max-Age=0;"), ignore_empty: false }"#,
        ]
    );
    assert_eq!(
        err("http-request redirect"),
        ctx(
            "redirect",
            "redirection type expected ('prefix', 'location', or 'scheme')"
        )
    );
    assert_eq!(
        err("http-request redirect location /x bar"),
        ctx(
            "redirect",
            "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'bar')"
        )
    );
    assert_eq!(
        err("http-request redirect location"),
        ctx("redirect", "missing argument for 'location'")
    );
    assert_eq!(
        err("http-request redirect location /x code 300"),
        ctx(
            "redirect",
            "'code': unsupported HTTP code '300' (must be one of 301, 302, 303, 307 or 308)"
        )
    );
    let (_, l) = px("backend", "  http-response redirect prefix /x\n");
    assert_eq!(
        l,
        [
            "ALERT parsing [t.cfg:7] : error detected in backend 'x' while parsing 'http-response redirect' rule : response only supports redirect type 'location'."
        ]
    );
}

#[test]
fn return_replies() {
    let f = Files::new("return");
    let body = f.put("body.txt", b"hello");
    let empty = f.put("empty.txt", b"");
    let ef = f.put("503.http", E503);
    let (r, l) = req(&format!(
        "  http-request return if FALSE\n  \
         http-request return status 404 content-type text/plain string nope hdr X-A a if TRUE\n  \
         http-request return content-type image/x-icon file {body} if TRUE\n  \
         http-request return status 403 content-type text/plain lf-string \"no %[src]\" if TRUE\n  \
         http-request return errorfile {ef} if TRUE\n  http-request return errorfiles site if TRUE\n  \
         http-request return status 503 default-errorfiles if TRUE\n  http-request return file {empty}\n\
         http-errors site\n  errorfile 200 {ef}\n"
    ));
    assert!(l.is_empty(), "{l:?}");
    let ret: Vec<(u16, Option<&str>, &ReturnBody, usize)> = r
        .iter()
        .map(|a| match a {
            HttpAction::Return {
                status,
                content_type,
                body,
                hdrs,
            } => (*status, content_type.as_deref(), body, hdrs.len()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ret,
        [
            (200, None, &ReturnBody::None, 0),
            (
                404,
                Some("text/plain"),
                &ReturnBody::String("nope".into()),
                1
            ),
            (
                200,
                Some("image/x-icon"),
                &ReturnBody::File(PathBuf::from(&body)),
                0
            ),
            (
                403,
                Some("text/plain"),
                &ReturnBody::LfString("no %[src]".into()),
                0
            ),
            (200, None, &ReturnBody::ErrorFile(PathBuf::from(&ef)), 0),
            (200, None, &ReturnBody::ErrorFiles("site".into()), 0),
            (503, None, &ReturnBody::DefaultErrorFiles, 0),
            (200, None, &ReturnBody::File(PathBuf::from(&empty)), 0),
        ]
    );
}

#[test]
fn return_errors_and_warnings() {
    let e = |args: &str, msg: &str| {
        assert_eq!(
            err(&format!("http-request return {args}")),
            ctx("return", msg),
            "{args}"
        );
    };
    e("status 99", "Unexpected status code '99'");
    e("status", "'status' expects <status_code> as argument");
    e("content-type", "'content-type' expects <ctype> as argument");
    e("string \"\"", "'string' expects <str> as argument");
    e("lf-file", "'lf-file' expects <file> as argument");
    e("errorfile", "'errorfile' expects <fmt> as argument");
    e(
        "string abc",
        "a content type must be defined when non-empty payload is configured",
    );
    e(
        "content-type a string x string y",
        "unexpected 'string' argument, 'string' already defined",
    );
    e(
        "status 204 content-type a string x",
        "No body expected for 204 responses",
    );
    e("file /nonexistent/x", "error opening file '/nonexistent/x'");
    e(
        "errorfile /nonexistent/x",
        "error opening file '/nonexistent/x'.",
    );
    e("hdr a", "'hdr' expects <name> and <value> as arguments");
    e(
        "status 201 default-errorfiles",
        "status code '201' not handled by default with 'default-errorfiles' argument.",
    );
    let f = Files::new("return-warn");
    let ef = f.put("503.http", E503);
    let (r, l) = req(&format!(
        "  http-request return content-type a hdr X-A b if TRUE\n  \
         http-request return content-type a errorfile {ef} hdr X b if TRUE\n  \
         http-request return content-type t/p string x hdr Content-Length 3 hdr X c\n"
    ));
    assert_eq!(
        l,
        [
            "WARNING parsing [t.cfg:8] : content-type 'a' ignored by the http reply because neither errorfile nor payload defined.",
            "WARNING parsing [t.cfg:9] : content-type 'a' ignored by the http reply when used with an erorrfile.",
            "WARNING parsing [t.cfg:9] : hdr parameters ignored by the http reply when used with an erorrfile.",
            "WARNING parsing [t.cfg:10] : header 'Content-Length' always ignored by the http reply.",
        ]
    );
    let hdrs: Vec<usize> = r
        .iter()
        .map(|a| match a {
            HttpAction::Return { hdrs, .. } => hdrs.len(),
            _ => 9,
        })
        .collect();
    assert_eq!(hdrs, [1, 0, 1]);
}

#[test]
fn deny_tarpit_and_allow() {
    let (r, l) = req(
        "  http-request deny if FALSE\n  http-request deny deny_status 429 if TRUE\n  \
         http-request tarpit if TRUE\n  http-request tarpit deny_status 503 if TRUE\n  \
         http-request deny status 404 default-errorfiles if TRUE\n  http-request allow\n",
    );
    assert!(l.is_empty(), "{l:?}");
    let got: Vec<String> = r.iter().map(|a| format!("{a:?}")).collect();
    assert_eq!(
        got,
        [
            "Deny { status: 403 }",
            "Deny { status: 429 }",
            "Tarpit { status: 500 }",
            "Tarpit { status: 503 }",
            "Deny { status: 404 }",
            "Allow"
        ]
    );
    assert!(matches!(
        req("  http-request deny\n").0[..],
        [HttpAction::Deny { status: 403 }]
    ));
    let (p, _) = px("backend", "  http-response deny\n");
    assert!(matches!(
        p.http.res_rules[..],
        [HttpRule {
            action: HttpAction::Deny { status: 502 },
            cond: None
        }]
    ));
    assert_eq!(
        err("http-request deny status 999"),
        ctx("deny", "Unexpected status code '999'")
    );
    assert_eq!(
        err("http-request tarpit status abc"),
        ctx("tarpit", "Unexpected status code '0'")
    );
    assert_eq!(
        err("http-request allow foo"),
        "ALERT parsing [t.cfg:8]: 'http-request allow' expects either 'if' or 'unless' followed by a condition but found 'foo'."
    );
    // HAProxy sends an empty response for these, not the error file.
    assert_eq!(
        err("http-request deny status 429"),
        "ALERT parsing [t.cfg:8] : 'http-request deny' with a custom reply ('status') is valid in HAProxy 2.6 but not supported yet by haproxy-rs (only [deny_status <code>] [default-errorfiles])"
    );
    assert!(err("http-request tarpit content-type a string b").contains("('content-type')"));
}

#[test]
fn wait_for_body() {
    let (p, l) = px(
        "frontend",
        "  http-request wait-for-body time 1s at-least 10k\n",
    );
    assert!(l.is_empty(), "{l:?}");
    assert_eq!(p.http.wait_for_body, Some((1000, Some(10240))));
    let (p, _) = px(
        "frontend",
        "  http-request wait-for-body time 20 at-least 0\n",
    );
    assert_eq!(p.http.wait_for_body, Some((20, None)));
    let e = |args: &str, msg: &str| {
        assert_eq!(
            err(&format!("http-request wait-for-body {args}")),
            ctx("wait-for-body", msg)
        );
    };
    e("", "expects time <time> [ at-least <bytes> ]");
    e("at-least 10", "expects time <time> [ at-least <bytes> ]");
    e("time", "missing argument for 'time'");
    e("time abc", "unexpected character 'a'");
    e(
        "time 5000000000",
        "time overflow (maximum value is 2147483647 ms or ~24.8 days)",
    );
    e("time 1s at-least", "missing argument for 'at-least'");
    e("time 1s at-least 10x", "unexpected character 'x'");
}

#[test]
fn conditions_are_kept_and_checked() {
    let (r, l) = req(
        "  http-request set-header A 1 if TRUE\n  http-request set-header B 1 if FALSE\n  \
         http-request set-header C 1 unless TRUE\n  http-request set-header D 1 unless FALSE\n",
    );
    assert!(l.is_empty(), "{l:?}");
    let names: Vec<String> = r
        .iter()
        .map(|a| match a {
            HttpAction::SetHeader { name, .. } => name.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(names, ["A", "B", "C", "D"]);
    let (p, l) = px("frontend", "  http-request deny if { path /x } || TRUE\n");
    assert!(l.is_empty(), "{l:?}");
    assert!(
        p.http.req_rules[0]
            .cond
            .as_ref()
            .is_some_and(|c| c.alts.len() == 2)
    );
    // HAProxy 2.6's messages.
    assert_eq!(
        err("http-request deny if nosuch"),
        "ALERT parsing [t.cfg:8] : error detected while parsing an 'http-request deny' condition : no such ACL : 'nosuch'."
    );
    assert_eq!(
        err("http-request deny if { path_xyz /a }"),
        "ALERT parsing [t.cfg:8] : error detected while parsing an 'http-request deny' condition : unknown fetch method 'path_xyz' in ACL expression 'path_xyz'."
    );
}

#[test]
fn variables_reject_and_set_status() {
    let (r, l) = req(
        "  http-request set-var(txn.h) req.hdr(host),lower\n  http-request set-var-fmt(txn.m) \"%[src] x\"\n  \
         http-request unset-var(txn.h)\n  http-request reject if { path /r }\n",
    );
    assert!(l.is_empty(), "{l:?}");
    assert!(matches!(
        r[..],
        [
            HttpAction::SetVar { .. },
            HttpAction::SetVarFmt { .. },
            HttpAction::UnsetVar(_),
            HttpAction::Reject
        ]
    ));
    // HAProxy 2.6's messages.
    assert_eq!(
        err("http-request set-var(foo) str(a)"),
        "ALERT parsing [t.cfg:8] : error detected in frontend 'x' while parsing 'http-request set-var(foo)' rule : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."
    );
    assert_eq!(
        err("http-request set-var(txn.foo)"),
        "ALERT parsing [t.cfg:8] : error detected in frontend 'x' while parsing 'http-request set-var(txn.foo)' rule : missing fetch method."
    );
    assert_eq!(
        err("http-request set-var(txn.foo) nosuch"),
        "ALERT parsing [t.cfg:8] : error detected in frontend 'x' while parsing 'http-request set-var(txn.foo)' rule : unknown fetch method 'nosuch'."
    );
    assert_eq!(
        err("http-request reject x"),
        "ALERT parsing [t.cfg:8]: 'http-request reject' expects either 'if' or 'unless' followed by a condition but found 'x'."
    );
    let (p, l) = px("backend", "  http-response set-status 299 reason Fine\n");
    assert!(l.is_empty(), "{l:?}");
    assert!(matches!(
        p.http.res_rules[0].action,
        HttpAction::SetStatus { status: 299, .. }
    ));
    assert_eq!(
        err("http-response set-status abc"),
        "ALERT parsing [t.cfg:8] : error detected in frontend 'x' while parsing 'http-response set-status' rule : expects an integer status code between 100 and 999."
    );
}

#[test]
fn unknown_and_unsupported_actions() {
    let all = err("http-request foo");
    assert!(all.starts_with(
        "ALERT parsing [t.cfg:8]: 'http-request' expects 'wait-for-handshake', 'ot-group', "
    ));
    assert!(
        all.ends_with(", 'set-priority-class', 'set-priority-offset', but got 'foo'."),
        "{all}"
    );
    assert!(err("http-request").ends_with("but got '' (missing argument)."));
    assert!(err("http-request deni").ends_with("but got 'deni'. Did you mean 'deny' maybe ?"));
    for (line, name) in [
        (
            "http-request set-priority-offset int(1)",
            "http-request set-priority-offset",
        ),
        ("http-request track-sc0 src", "http-request track-sc0"),
        (
            "http-request set-priority-class int(1)",
            "http-request set-priority-class",
        ),
        ("http-request replace-path a b", "http-request replace-path"),
    ] {
        assert_eq!(
            err(line),
            format!(
                "ALERT parsing [t.cfg:8] : '{name}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs"
            )
        );
    }
    let (_, l) = px(
        "backend",
        "  http-response set-path /x\n  http-response wait-for-body time 1s\n",
    );
    assert!(
        l[0].starts_with("ALERT parsing [t.cfg:7]: 'http-response' expects 'ot-group', "),
        "{l:?}"
    );
    assert!(
        l[0].ends_with(", 'silent-drop', but got 'set-path'. Did you mean 'set-map' maybe ?"),
        "{l:?}"
    );
    assert_eq!(
        l[1],
        "ALERT parsing [t.cfg:8] : 'http-response wait-for-body' is valid in HAProxy 2.6 but not supported yet by haproxy-rs"
    );
}

#[test]
fn rules_after_a_final_rule_are_warned_about() {
    let (r, l) = req(
        "  http-request deny if TRUE\n  http-request allow\n  http-request set-header A 1\n  \
         http-request set-header B 1\n",
    );
    assert_eq!(r.len(), 4);
    let w = "previous 'http-request' action is final and has no condition attached, further entries are NOOP.";
    assert_eq!(
        l,
        [format!("WARNING parsing [t.cfg:10]: {w}")],
        "a condition, even TRUE, is attached to the first deny"
    );
    let (_, l) = px("backend", "  http-response return\n  http-response deny\n");
    assert_eq!(
        l,
        [
            "WARNING parsing [t.cfg:8]: previous 'http-response' action is final and has no condition attached, further entries are NOOP."
        ]
    );
}

#[test]
fn http_error_replies() {
    let f = Files::new("http-error");
    let ef = f.put("503.http", E503);
    let (p, l) = px(
        "frontend",
        &format!(
            "  http-error status 503 content-type text/plain string down hdr Retry-After 5\n  \
             http-error status 403\n  http-error status 404 errorfile {ef}\n  \
             http-error status 500 errorfiles site\nhttp-errors site\n  errorfile 500 {ef}\n"
        ),
    );
    assert!(l.is_empty(), "{l:?}");
    let e = &p.http.errorfiles;
    assert_eq!(e.len(), 4);
    assert!(
        matches!(&e[0], (503, ErrorSource::Reply { content_type: Some(t), body: ReturnBody::String(s), hdrs })
        if t == "text/plain" && s == "down" && hdrs.len() == 1)
    );
    assert!(matches!(
        &e[1],
        (
            403,
            ErrorSource::Reply {
                body: ReturnBody::None,
                ..
            }
        )
    ));
    assert!(matches!(
        &e[2],
        (
            404,
            ErrorSource::Reply {
                body: ReturnBody::ErrorFile(_),
                ..
            }
        )
    ));
    // `errorfiles <name>` is resolved like the `errorfiles` keyword.
    assert!(matches!(&e[3], (500, ErrorSource::File(x)) if x == &PathBuf::from(&ef)));
    let (_, l) = px(
        "frontend",
        "  http-error\n  http-error foo\n  http-error status\n  http-error status 302\n  \
         http-error status abc\n  http-error status 503 string abc\n  http-error status 503 foo\n",
    );
    let at_least = "http-error : expects at least a <status> as arguments.\n";
    assert_eq!(
        l,
        [
            format!("ALERT parsing [t.cfg:8] : {at_least}"),
            format!("ALERT parsing [t.cfg:9] : {at_least}"),
            "ALERT parsing [t.cfg:10] : http-error : 'status' expects <status_code> as argument".into(),
            "ALERT parsing [t.cfg:11] : http-error: status code '302' not handled.".into(),
            "ALERT parsing [t.cfg:12] : http-error : Unexpected status code '0'".into(),
            "ALERT parsing [t.cfg:13] : http-error : a content type must be defined when non-empty payload is configured".into(),
            "ALERT parsing [t.cfg:14] : http-error : unknown keyword 'foo'.".into(),
        ]
    );
}

#[test]
fn replies_naming_http_errors_sections_are_checked() {
    let f = Files::new("reply-sections");
    let ef = f.put("503.http", E503);
    let (_, l) = px(
        "frontend",
        &format!(
            "  http-request return status 404 errorfiles site if TRUE\n  \
             http-request return errorfiles nosuch\nhttp-errors site\n  errorfile 503 {ef}\n"
        ),
    );
    assert_eq!(
        l,
        [
            "WARNING Proxy 'x': status '404' referenced by an http reply not declared in http-errors section 'site'.",
            "ALERT Proxy 'x': unknown http-errors section 'nosuch' referenced by an http reply .",
        ]
    );
}

#[test]
fn atol_reads_like_c() {
    assert_eq!(atol(" 42abc"), 42);
    assert_eq!(atol("-7"), -7);
    assert_eq!(atol("+301"), 301);
    assert_eq!(atol("abc"), 0);
    assert_eq!(atol("99999999999999999999999"), i64::MAX);
}
