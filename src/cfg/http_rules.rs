//! `http-request` / `http-response` rules (configuration.txt 4.2
//! "http-request", "http-response"); their replies and `http-error` are in
//! `http_reply`.
//!
//! A rule line is `<http-request|http-response> <action> [args] [if|unless
//! <cond>]`. The action is looked up first: unknown to HAProxy 2.6 gives its
//! "expects ... but got" alert; known to 2.6 but not implemented gives the
//! haproxy-rs "not supported yet" alert. The action then reads its
//! arguments, and whatever follows must be a condition, parsed into the
//! rule store (`rules_kw`) and evaluated by the HTTP analysers.
//!
//! Log-format strings (header values, redirect targets, `lf-string`) are
//! kept raw; they are not checked here (HAProxy 2.6 refuses a bad `%[...]`
//! expression at parse time, haproxy-rs will when the analysers evaluate
//! them). Regexes get a structural check only (see `http_syntax`).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::Diags;
use super::http_actions::{mark_value, parse_expr_action, parse_redirect, parse_var_action};
use super::http_model::*;
use super::http_syntax::check_regex;
use super::model::ProxyCfg;
use super::rules_kw::RuleCx;
use super::suggest::did_you_mean;
use super::units::{TimeError, parse_size, parse_time};

pub use super::http_reply::{Reply, parse_http_error, parse_reply};

/// Status codes HAProxy 2.6 has a built-in error message for: the only
/// ones `errorfile`, `errorloc`, `errorfiles` and `http-error` accept.
pub const HANDLED_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504,
];

/// Every `http-request` action of HAProxy 2.6 (as its own alert lists them;
/// `(*)` marks a prefix: `set-var(txn.x)`, `track-sc0`).
#[rustfmt::skip]
const REQ_ACTIONS_26: &[&str] = &[
    "wait-for-handshake", "ot-group", "set-log-level", "set-nice", "use-service", "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)", "sc-inc-gpc1(*)", "sc-set-gpt(*)", "sc-set-gpt0(*)", "send-spoe-group",
    "do-resolve(*)", "cache-use", "add-acl(*)", "add-header", "allow", "auth", "capture",
    "del-acl(*)", "del-header", "del-map(*)", "deny", "disable-l7-retry", "early-hint",
    "normalize-uri", "redirect", "reject", "replace-header", "replace-path", "replace-pathq",
    "replace-uri", "replace-value", "return", "set-header", "set-map(*)", "set-method", "set-path",
    "set-pathq", "set-query", "set-uri", "strict-mode", "tarpit", "track-sc(*)", "set-timeout",
    "wait-for-body", "set-var-fmt(*)", "set-var(*)", "unset-var(*)", "set-dst", "set-dst-port",
    "set-mark", "set-src", "set-src-port", "set-tos", "silent-drop", "set-priority-class",
    "set-priority-offset",
];

/// Every `http-response` action of HAProxy 2.6.
#[rustfmt::skip]
const RES_ACTIONS_26: &[&str] = &[
    "ot-group", "set-log-level", "set-nice", "sc-inc-gpc(*)", "sc-inc-gpc0(*)", "sc-inc-gpc1(*)",
    "sc-set-gpt(*)", "sc-set-gpt0(*)", "send-spoe-group", "cache-store", "add-acl(*)",
    "add-header", "allow", "capture", "del-acl(*)", "del-header", "del-map(*)", "deny", "redirect",
    "replace-header", "replace-value", "return", "set-header", "set-map(*)", "set-status",
    "strict-mode", "track-sc(*)", "wait-for-body", "set-var-fmt(*)", "set-var(*)", "unset-var(*)",
    "set-mark", "set-tos", "silent-drop",
];

/// Every `http-after-response` action of HAProxy 2.6.
#[rustfmt::skip]
const AFTER_ACTIONS_26: &[&str] = &[
    "ot-group", "add-header", "allow", "capture", "del-header", "replace-header", "replace-value",
    "set-header", "set-status", "strict-mode", "set-var-fmt(*)", "set-var(*)", "unset-var(*)",
];
#[rustfmt::skip]
const AFTER_ACTIONS_RS: &[&str] = &[
    "add-header", "allow", "del-header", "replace-header", "replace-value", "set-header",
    "set-status", "set-var-fmt(*)", "set-var(*)", "unset-var(*)",
];

/// The actions haproxy-rs implements.
#[rustfmt::skip]
const REQ_ACTIONS_RS: &[&str] = &[
    "set-header", "add-header", "del-header", "replace-header", "replace-value", "set-path",
    "set-query", "set-uri", "set-method", "redirect", "return", "deny", "allow", "tarpit",
    "wait-for-body", "set-var(*)", "set-var-fmt(*)", "unset-var(*)", "reject", "auth",
    "set-log-level", "capture", "set-src", "set-dst", "set-mark", "set-tos", "strict-mode",
    "set-pathq", "set-timeout", "normalize-uri",
    "wait-for-handshake", "silent-drop",
];
#[rustfmt::skip]
const RES_ACTIONS_RS: &[&str] = &[
    "set-header", "add-header", "del-header", "replace-header", "replace-value", "redirect",
    "return", "deny", "allow", "set-var(*)", "set-var-fmt(*)", "unset-var(*)", "set-status",
    "set-log-level", "set-mark", "set-tos", "strict-mode", "silent-drop", "capture",
];

/// Which rule list a line feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleDir {
    Req,
    Res,
    /// `http-after-response`: every response, the proxy's own included.
    After,
}

impl RuleDir {
    /// The keyword: `http-request` or `http-response`.
    pub fn keyword(self) -> &'static str {
        match self {
            RuleDir::Req => "http-request",
            RuleDir::Res => "http-response",
            RuleDir::After => "http-after-response",
        }
    }
}

/// Why an action's arguments were refused.
pub(super) enum ArgErr {
    /// HAProxy 2.6 refuses them too: its message, without the context.
    Invalid(String),
    /// Valid in 2.6, not implemented: the complete haproxy-rs message.
    Unsupported(String),
}

/// What a rule line turned into.
pub(super) enum Parsed {
    Action(HttpAction),
    WaitForBody(u32, Option<u64>),
}

/// How a proxy is named in messages: `frontend`, `backend`, `defaults`, and
/// `proxy` for a `listen` section (HAProxy's `proxy_type_str`).
pub fn px_kind(px: &ProxyCfg) -> &'static str {
    match px.kind {
        "listen" => "proxy",
        "" => "defaults",
        k => k,
    }
}

/// C's `atol()` on a word: optional blanks and sign, then digits; what
/// follows is ignored, no digit reads 0. Saturates at the `i64` bounds.
pub fn atol(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = t.bytes().take_while(u8::is_ascii_digit).fold(0i64, |v, b| {
        v.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    if neg { -v } else { v }
}

/// A word that is present and not empty (HAProxy treats `""` as missing).
pub(super) fn arg(w: &[String], i: usize) -> Option<&str> {
    w.get(i).map(String::as_str).filter(|s| !s.is_empty())
}

pub(super) fn is_cond(w: Option<&String>) -> bool {
    matches!(w.map(String::as_str), Some("if" | "unless"))
}

/// Whether `word` names an action of `list` (exactly, or by the prefix of a
/// `(*)` entry).
fn in_list(list: &[&str], word: &str) -> bool {
    list.iter().any(|k| match k.strip_suffix("(*)") {
        Some(prefix) => word.starts_with(prefix),
        None => *k == word,
    })
}

/// Parses one `http-request` / `http-response` line of `px` into its rule
/// list (or `wait_for_body`). `prev_final` says whether the previous rule
/// of this list in this section is final with no condition; it is updated.
/// Every problem is reported in `d`; a refused line changes nothing.
// The line, where it was written, and the three places it writes to.
#[allow(clippy::too_many_arguments)]
pub fn parse_rule(
    dir: RuleDir,
    prev_final: &mut bool,
    d: &mut Diags,
    px: &mut ProxyCfg,
    w: &[String],
    file: &str,
    line: usize,
    rx: &mut RuleCx<'_>,
) {
    let kw = dir.keyword();
    if px.kind == "defaults" && px.name.is_empty() {
        d.alert(
            file,
            line,
            format!("'{kw}' not allowed in anonymous 'defaults' section."),
        );
        return;
    }
    let (all, ours) = match dir {
        RuleDir::Req => (REQ_ACTIONS_26, REQ_ACTIONS_RS),
        RuleDir::Res => (RES_ACTIONS_26, RES_ACTIONS_RS),
        RuleDir::After => (AFTER_ACTIONS_26, AFTER_ACTIONS_RS),
    };
    let action = w.get(1).map_or("", String::as_str);
    if !in_list(all, action) {
        let list: Vec<String> = all.iter().map(|a| format!("'{a}', ")).collect();
        let mut msg = if action.is_empty() {
            format!(
                "'{kw}' expects {}but got '' (missing argument).",
                list.concat()
            )
        } else {
            format!("'{kw}' expects {}but got '{action}'.", list.concat())
        };
        let names: Vec<&str> = all
            .iter()
            .map(|a| a.strip_suffix("(*)").unwrap_or(a))
            .collect();
        if !action.is_empty()
            && let Some(s) = did_you_mean(action, &names)
        {
            msg.push_str(&format!(" Did you mean '{s}' maybe ?"));
        }
        d.alert_tight(file, line, msg);
        return;
    }
    if !in_list(ours, action) {
        let name = action.split('(').next().unwrap_or(action);
        d.alert(
            file,
            line,
            format!("'{kw} {name}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs"),
        );
        return;
    }
    let mut warnings = Vec::new();
    let parsed = match parse_var_action(action, w, rx, file, line)
        .or_else(|| parse_expr_action(dir, action, w, rx, px, file, line))
    {
        Some(r) => r,
        None => parse_action(dir, action, w, &mut warnings),
    };
    let (parsed, next) = match parsed {
        Ok(x) => x,
        Err(ArgErr::Invalid(m)) => {
            d.alert(
                file,
                line,
                format!(
                    "error detected in {} '{}' while parsing '{kw} {action}' rule : {m}.",
                    px_kind(px),
                    px.name
                ),
            );
            return;
        }
        Err(ArgErr::Unsupported(m)) => {
            d.alert(file, line, m);
            return;
        }
    };
    let rest = w.get(next..).unwrap_or_default();
    let cond = match rest {
        [] => None,
        [c, ..] if is_cond(Some(c)) => {
            let what = format!("an '{kw} {action}' condition");
            match rx.cond(rest, &what, file, line) {
                Ok(c) => Some(c),
                Err(m) => {
                    d.alert(file, line, m);
                    return;
                }
            }
        }
        [other, ..] => {
            d.alert_tight(
                file,
                line,
                format!("'{kw} {action}' expects either 'if' or 'unless' followed by a condition but found '{other}'."),
            );
            return;
        }
    };
    for m in warnings {
        d.warn(file, line, m);
    }
    if *prev_final {
        d.warn_tight(
            file,
            line,
            format!(
                "previous '{kw}' action is final and has no condition attached, further entries are NOOP."
            ),
        );
    }
    let action_word = action;
    let mut parsed = parsed;
    if let Parsed::Action(HttpAction::Auth { realm }) = &mut parsed
        && realm.is_empty()
    {
        realm.clone_from(&px.name);
    }
    if let Parsed::Action(action) = &mut parsed {
        let http = px.mode == super::model::Mode::Http;
        for f in action.fmts_mut() {
            if !f.raw.contains('%') {
                continue;
            }
            match rx.lf(&f.raw, http, file, line) {
                Ok(lf) => f.lf = Some(Box::new(lf)),
                Err(m) => {
                    d.alert(
                        file,
                        line,
                        format!(
                            "error detected in {} '{}' while parsing '{kw} {action_word}' rule : {m}.",
                            px_kind(px),
                            px.name,
                        ),
                    );
                    return;
                }
            }
        }
    }
    let h = &mut px.http;
    match parsed {
        Parsed::Action(action) => {
            *prev_final = cond.is_none() && action.is_final();
            let list = match dir {
                RuleDir::Req => &mut h.req_rules,
                RuleDir::Res => &mut h.res_rules,
                RuleDir::After => &mut h.after_rules,
            };
            std::rc::Rc::make_mut(list).push(HttpRule { action, cond });
        }
        Parsed::WaitForBody(ms, at_least) => {
            // The body wait applies to every request; a condition on it is
            // accepted and not evaluated (see include-docs).
            *prev_final = false;
            h.wait_for_body = Some((ms, at_least));
        }
    }
}

/// Reads the arguments of `action` (from word 2); returns what it built
/// and the index of the first word after them.
fn parse_action(
    dir: RuleDir,
    action: &str,
    w: &[String],
    warnings: &mut Vec<String>,
) -> Result<(Parsed, usize), ArgErr> {
    let inv = |m: &str| ArgErr::Invalid(m.to_string());
    let (parsed, next) = match action {
        "set-header" | "add-header" => {
            let (Some(name), Some(value)) = (arg(w, 2), arg(w, 3)) else {
                return Err(inv("expects exactly 2 arguments"));
            };
            let (name, value) = (name.to_string(), value.to_string());
            let a = if action == "set-header" {
                HttpAction::SetHeader {
                    name,
                    value: value.into(),
                }
            } else {
                HttpAction::AddHeader {
                    name,
                    value: value.into(),
                }
            };
            (Parsed::Action(a), 4)
        }
        "del-header" => {
            let Some(name) = arg(w, 2) else {
                return Err(inv("expects at least 1 argument"));
            };
            let mut next = 3;
            if w.get(3).map(String::as_str) == Some("-m") {
                let Some(meth) = arg(w, 4) else {
                    return Err(inv("-m flag expects exactly 1 argument"));
                };
                match meth {
                    "str" => {}
                    "beg" | "end" | "sub" | "reg" => {
                        return Err(ArgErr::Unsupported(format!(
                            "'{} del-header -m {meth}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs (only '-m str')",
                            dir.keyword()
                        )));
                    }
                    _ => {
                        return Err(ArgErr::Invalid(format!(
                            "-m with unsupported matching method '{meth}'"
                        )));
                    }
                }
                next = 5;
            }
            let a = HttpAction::DelHeader {
                name: name.to_string(),
            };
            (Parsed::Action(a), next)
        }
        "replace-header" | "replace-value" => {
            let (Some(name), Some(regex), Some(replace)) = (arg(w, 2), arg(w, 3), arg(w, 4)) else {
                return Err(inv("expects exactly 3 arguments"));
            };
            check_regex(regex).map_err(ArgErr::Invalid)?;
            let (name, regex, replace) = (name.to_string(), regex.to_string(), replace.to_string());
            let a = if action == "replace-header" {
                HttpAction::ReplaceHeader {
                    name,
                    regex,
                    replace,
                }
            } else {
                HttpAction::ReplaceValue {
                    name,
                    regex,
                    replace,
                }
            };
            (Parsed::Action(a), 5)
        }
        "set-path" | "set-pathq" | "set-query" | "set-uri" | "set-method" => {
            // The format is the one word before the condition.
            let n = w.iter().skip(2).take_while(|x| !is_cond(Some(x))).count();
            let Some(fmt) = arg(w, 2).filter(|_| n == 1) else {
                return Err(inv("expects exactly 1 argument <format>"));
            };
            let fmt = fmt.to_string();
            let a = match action {
                "set-path" => HttpAction::SetPath(fmt.into()),
                "set-pathq" => HttpAction::SetPathq(fmt.into()),
                "set-query" => HttpAction::SetQuery(fmt.into()),
                "set-uri" => HttpAction::SetUri(fmt.into()),
                _ => HttpAction::SetMethod(fmt.into()),
            };
            (Parsed::Action(a), 3)
        }
        "redirect" => return parse_redirect(dir, w),
        "allow" => (Parsed::Action(HttpAction::Allow), 2),
        "reject" => (Parsed::Action(HttpAction::Reject), 2),
        "silent-drop" => (Parsed::Action(HttpAction::SilentDrop), 2),
        "wait-for-handshake" => (Parsed::Action(HttpAction::WaitForHandshake), 2),
        "set-log-level" => {
            const LEVELS: &[&str] = &[
                "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
            ];
            let lvl = match arg(w, 2) {
                Some("silent") => None,
                Some(l) => match LEVELS.iter().position(|x| *x == l) {
                    Some(i) => Some(i as u8),
                    None => {
                        return Err(inv(
                            "expects exactly 1 argument (log level name or 'silent')",
                        ));
                    }
                },
                None => {
                    return Err(inv(
                        "expects exactly 1 argument (log level name or 'silent')",
                    ));
                }
            };
            (Parsed::Action(HttpAction::SetLogLevel(lvl)), 3)
        }
        "set-mark" | "set-tos" => {
            let Some(v) = arg(w, 2) else {
                return Err(inv("expects exactly 1 argument (integer/hex value)"));
            };
            let Some(n) = mark_value(v) else {
                return Err(ArgErr::Invalid(format!(
                    "invalid character starting at '{v}' (integer/hex value expected)"
                )));
            };
            let a = if action == "set-mark" {
                HttpAction::SetMark(n as u32)
            } else {
                HttpAction::SetTos(n as u8)
            };
            (Parsed::Action(a), 3)
        }
        "strict-mode" => match arg(w, 2) {
            Some("on") => (Parsed::Action(HttpAction::StrictMode(true)), 3),
            Some("off") => (Parsed::Action(HttpAction::StrictMode(false)), 3),
            other => {
                return Err(ArgErr::Invalid(format!(
                    "Unexpected value '{}'. Only 'on' and 'off' are supported",
                    other.unwrap_or("")
                )));
            }
        },
        "auth" => match (w.get(2).map(String::as_str), arg(w, 3)) {
            (Some("realm"), Some(r)) => (
                Parsed::Action(HttpAction::Auth {
                    realm: r.to_string(),
                }),
                4,
            ),
            (Some("realm"), None) => return Err(inv("missing realm value")),
            _ => (
                Parsed::Action(HttpAction::Auth {
                    realm: String::new(),
                }),
                2,
            ),
        },
        "set-status" => {
            let code = arg(w, 2).map(atol).filter(|c| (100..=999).contains(c));
            let Some(code) = code else {
                return Err(inv("expects an integer status code between 100 and 999"));
            };
            let (reason, next) = match (w.get(3).map(String::as_str), arg(w, 4)) {
                (Some("reason"), Some(r)) => (Some(r.to_string()), 5),
                _ => (None, 3),
            };
            (
                Parsed::Action(HttpAction::SetStatus {
                    status: code as u16,
                    reason,
                }),
                next,
            )
        }
        "return" | "deny" | "tarpit" => {
            let default = match (action, dir) {
                ("return", _) => 200,
                ("tarpit", _) => 500,
                (_, RuleDir::Req) => 403,
                (_, RuleDir::Res | RuleDir::After) => 502,
            };
            let deny_like = action != "return";
            let (r, next) = parse_reply(w, 2, default, deny_like).map_err(ArgErr::Invalid)?;
            if deny_like {
                if let Some(k) = r.custom() {
                    return Err(ArgErr::Unsupported(format!(
                        "'{} {action}' with a custom reply ('{k}') is valid in HAProxy 2.6 but not supported yet by haproxy-rs (only [deny_status <code>] [default-errorfiles])",
                        dir.keyword()
                    )));
                }
                let a = if action == "deny" {
                    HttpAction::Deny { status: r.status }
                } else {
                    HttpAction::Tarpit { status: r.status }
                };
                (Parsed::Action(a), next)
            } else {
                warnings.extend(r.warnings);
                let a = HttpAction::Return {
                    status: r.status,
                    content_type: r.content_type,
                    body: r.body,
                    hdrs: r.hdrs,
                };
                (Parsed::Action(a), next)
            }
        }
        _ => return parse_wait_for_body(w),
    };
    Ok((parsed, next))
}

/// `wait-for-body time <time> [at-least <bytes>]`.
fn parse_wait_for_body(w: &[String]) -> Result<(Parsed, usize), ArgErr> {
    let mut i = 2;
    let (mut time, mut at_least) = (None, None);
    loop {
        match w.get(i).map(String::as_str) {
            Some("time") => {
                let Some(v) = arg(w, i + 1) else {
                    return Err(ArgErr::Invalid("missing argument for 'time'".into()));
                };
                time = Some(match parse_time(v, 1) {
                    Ok((ms, _)) => ms,
                    Err(TimeError::Overflow) => {
                        return Err(ArgErr::Invalid(
                            "time overflow (maximum value is 2147483647 ms or ~24.8 days)".into(),
                        ));
                    }
                    Err(e) => return Err(ArgErr::Invalid(e.to_string())),
                });
            }
            Some("at-least") => {
                let Some(v) = arg(w, i + 1) else {
                    return Err(ArgErr::Invalid("missing argument for 'at-least'".into()));
                };
                // 0 means "no minimum", as no `at-least` at all.
                at_least = Some(parse_size(v).map_err(ArgErr::Invalid)?).filter(|&n| n > 0);
            }
            _ => break,
        }
        i += 2;
    }
    let Some(ms) = time else {
        return Err(ArgErr::Invalid(
            "expects time <time> [ at-least <bytes> ]".into(),
        ));
    };
    Ok((Parsed::WaitForBody(ms, at_least), i))
}

#[cfg(test)]
#[path = "http_rules_tests.rs"]
mod tests;
