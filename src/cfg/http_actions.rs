//! The arguments of the `http-request|response|after-response` actions that
//! need more than words: sample expressions and variables (`set-var`,
//! `set-src`, `capture`, `set-timeout`), `normalize-uri`, `set-mark`/`set-tos`
//! values, and `redirect` (configuration.txt 4.2). Split from `http_rules`,
//! which dispatches to them.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::http_model::*;
use super::http_rules::{ArgErr, Parsed, RuleDir, arg, atol, is_cond};
use super::model::ProxyCfg;
use super::rules_kw::RuleCx;
use super::units::parse_time;

/// `set-var(<var>) <expr>`, `set-var-fmt(<var>) <fmt>`, `unset-var(<var>)`
/// (None for any other action).
pub(super) fn parse_var_action(
    action: &str,
    w: &[String],
    rx: &mut RuleCx<'_>,
    file: &str,
    line: usize,
) -> Option<Result<(Parsed, usize), ArgErr>> {
    let (kind, rest) = action.split_once('(')?;
    if !matches!(kind, "set-var" | "set-var-fmt" | "unset-var") {
        return None;
    }
    let name = rest.strip_suffix(')').unwrap_or(rest);
    // `set-var(txn.x,ifexists)`: the conditions of 2.6 are not kept.
    let name = name.split(',').next().unwrap_or(name);
    let var = match rx.store.vars.parse_ref(name) {
        Ok(v) => v,
        Err(e) => return Some(Err(ArgErr::Invalid(e))),
    };
    Some(match kind {
        "unset-var" => Ok((Parsed::Action(HttpAction::UnsetVar(var)), 2)),
        "set-var-fmt" => {
            let fmt = w.get(2).map_or("", String::as_str);
            let next = if w.get(2).is_some() { 3 } else { 2 };
            Ok((
                Parsed::Action(HttpAction::SetVarFmt {
                    var,
                    fmt: fmt.into(),
                }),
                next,
            ))
        }
        _ => match w.get(2).filter(|e| !is_cond(Some(e))) {
            None => Err(ArgErr::Invalid("missing fetch method".into())),
            Some(e) => match rx.expr(e, file, line) {
                Ok(expr) => Ok((
                    Parsed::Action(HttpAction::SetVar {
                        var,
                        expr: Box::new(expr),
                    }),
                    3,
                )),
                Err(m) => Err(ArgErr::Invalid(m)),
            },
        },
    })
}

/// `set-src <expr>`, `set-dst <expr>`, `capture <expr> len <n>` (None for
/// any other action). A capture gets a request capture slot of its own.
pub(super) fn parse_expr_action(
    dir: RuleDir,
    action: &str,
    w: &[String],
    rx: &mut RuleCx<'_>,
    px: &mut ProxyCfg,
    file: &str,
    line: usize,
) -> Option<Result<(Parsed, usize), ArgErr>> {
    let req_only = matches!(
        action,
        "set-src" | "set-dst" | "set-timeout" | "normalize-uri"
    );
    let both = action == "capture" && dir != RuleDir::After;
    if !(both || req_only && dir == RuleDir::Req) {
        return None;
    }
    let inv = |m: &str| ArgErr::Invalid(m.to_string());
    if action == "set-timeout" {
        return Some(parse_set_timeout(w, rx, px, file, line));
    }
    if action == "normalize-uri" {
        return Some(parse_normalize_uri(w, rx.experimental));
    }
    let Some(e) = w.get(2).filter(|e| !is_cond(Some(e))) else {
        return Some(Err(inv(if action == "capture" {
            "expects <expression> [ 'len' <length> | id <idx> ]"
        } else {
            "missing fetch method"
        })));
    };
    let expr = match rx.expr(e, file, line) {
        Ok(x) => Box::new(x),
        Err(m) => return Some(Err(ArgErr::Invalid(m))),
    };
    Some(match action {
        "set-src" => Ok((Parsed::Action(HttpAction::SetSrc(expr)), 3)),
        "set-dst" => Ok((Parsed::Action(HttpAction::SetDst(expr)), 3)),
        _ => match (w.get(3).map(String::as_str), w.get(4)) {
            (Some("len"), Some(n)) if dir == RuleDir::Req => match n.parse::<usize>() {
                Ok(len) if len > 0 => {
                    let slot = px.http.req_captures.len();
                    // A slot with no header name: filled by the rule only.
                    px.http.req_captures.push(Capture {
                        name: String::new(),
                        len,
                    });
                    Ok((
                        Parsed::Action(HttpAction::Capture {
                            expr,
                            slot,
                            len: Some(len),
                            res: false,
                        }),
                        5,
                    ))
                }
                _ => Err(inv("length must be > 0")),
            },
            (Some("id"), Some(n)) => match n.parse::<usize>() {
                Ok(slot) => {
                    // Checked once every section is read (`check_capture_ids`).
                    px.http.capture_ids.push((dir == RuleDir::Res, slot));
                    Ok((
                        Parsed::Action(HttpAction::Capture {
                            expr,
                            slot,
                            len: None,
                            res: dir == RuleDir::Res,
                        }),
                        5,
                    ))
                }
                Err(_) => Err(inv("expects <expression> [ 'len' <length> | id <idx> ]")),
            },
            _ => Err(inv(if dir == RuleDir::Req {
                "expects <expression> [ 'len' <length> | id <idx> ]"
            } else {
                "expects <expression> id <idx>"
            })),
        },
    })
}

/// `set-timeout server|tunnel <time>|<expr>`, with 2.6's messages.
fn parse_set_timeout(
    w: &[String],
    rx: &mut RuleCx<'_>,
    px: &ProxyCfg,
    file: &str,
    line: usize,
) -> Result<(Parsed, usize), ArgErr> {
    if !px.cap.be {
        return Err(ArgErr::Invalid(format!(
            "proxy '{}' has no backend capability",
            px.name
        )));
    }
    let (Some(which), Some(v)) = (arg(w, 2), arg(w, 3)) else {
        return Err(ArgErr::Invalid("expects exactly 2 arguments".into()));
    };
    let tunnel = match which {
        "server" => false,
        "tunnel" => true,
        other => {
            return Err(ArgErr::Invalid(format!(
                "'set-timeout' rule supports 'server'/'tunnel' (got '{other}')"
            )));
        }
    };
    // A time when it reads as one, else a sample expression (as 2.6).
    let (ms, expr) = match parse_time(v, 1) {
        Ok((ms, None)) => (Some(ms), None),
        _ => match rx.expr(v, file, line) {
            Ok(e) => (None, Some(Box::new(e))),
            Err(_) => {
                let c = v.chars().find(|c| !c.is_ascii_digit()).unwrap_or(' ');
                return Err(ArgErr::Invalid(format!(
                    "unexpected character '{c}' in rule 'set-timeout {which}'"
                )));
            }
        },
    };
    Ok((
        Parsed::Action(HttpAction::SetTimeout { tunnel, ms, expr }),
        4,
    ))
}

/// `normalize-uri <normalizer> [option]`: experimental in 2.6.
fn parse_normalize_uri(w: &[String], experimental: bool) -> Result<(Parsed, usize), ArgErr> {
    if !experimental {
        return Err(ArgErr::Unsupported(
            "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'".into(),
        ));
    }
    let name = arg(w, 2).unwrap_or("");
    let opt = arg(w, 3).filter(|o| *o != "if" && *o != "unless");
    let n = crate::http::normalize::Normalizer::parse(name, opt).map_err(ArgErr::Invalid)?;
    Ok((
        Parsed::Action(HttpAction::NormalizeUri(n)),
        if opt.is_some() { 4 } else { 3 },
    ))
}

/// An integer as `set-mark`/`set-tos` read it: decimal or `0x` hex.
pub(super) fn mark_value(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// `redirect {location|prefix|scheme} <target> [code <n>] [drop-query]
/// [append-slash]` (configuration.txt 4.2, redirect).
pub(super) fn parse_redirect(dir: RuleDir, w: &[String]) -> Result<(Parsed, usize), ArgErr> {
    let mut i = 2;
    let mut target: Option<(RedirectKind, String)> = None;
    let mut code = 302;
    let (mut cookie, mut ignore_empty): (Option<String>, bool) = (None, false);
    let (mut drop_query, mut append_slash) = (false, false);
    while let Some(a) = w.get(i).filter(|x| !is_cond(Some(x))) {
        let a = a.as_str();
        match a {
            "location" | "prefix" | "scheme" | "code" | "set-cookie" | "clear-cookie" => {
                let Some(v) = arg(w, i + 1) else {
                    return Err(ArgErr::Invalid(format!("missing argument for '{a}'")));
                };
                match a {
                    "location" => target = Some((RedirectKind::Location, v.to_string())),
                    "prefix" => target = Some((RedirectKind::Prefix, v.to_string())),
                    "scheme" => target = Some((RedirectKind::Scheme, v.to_string())),
                    "code" => {
                        code = match atol(v) {
                            c @ (301 | 302 | 303 | 307 | 308) => c as u16,
                            _ => {
                                return Err(ArgErr::Invalid(format!(
                                    "'code': unsupported HTTP code '{v}' (must be one of 301, 302, 303, 307 or 308)"
                                )));
                            }
                        }
                    }
                    // The header value as 2.6 writes it.
                    "set-cookie" => cookie = Some(format!("{v}; path=/;")),
                    _ => cookie = Some(format!("{v}; path=/; Max-Age=0;")),
                }
                i += 2;
            }
            "drop-query" => {
                drop_query = true;
                i += 1;
            }
            "append-slash" => {
                append_slash = true;
                i += 1;
            }
            "ignore-empty" => {
                ignore_empty = true;
                i += 1;
            }
            other => {
                return Err(ArgErr::Invalid(format!(
                    "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '{other}')"
                )));
            }
        }
    }
    let Some((kind, target)) = target else {
        return Err(ArgErr::Invalid(
            "redirection type expected ('prefix', 'location', or 'scheme')".to_string(),
        ));
    };
    if dir != RuleDir::Req && kind != RedirectKind::Location {
        return Err(ArgErr::Invalid(
            "response only supports redirect type 'location'".to_string(),
        ));
    }
    let a = HttpAction::Redirect {
        kind,
        target: target.into(),
        code,
        drop_query,
        append_slash,
        cookie,
        ignore_empty,
    };
    Ok((Parsed::Action(a), i))
}
