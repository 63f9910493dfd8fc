//! `tcp-request` and `tcp-response` rules (configuration.txt 4.2,
//! tcp-request connection / session / content / inspect-delay,
//! tcp-response content / inspect-delay), with HAProxy 2.6's messages.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::Diags;
use super::http_rules::px_kind;
use super::model::ProxyCfg;
use super::rules_kw::RuleCx;
use super::units::parse_time;
use crate::rules::acl::Cond;
use crate::rules::expr::SampleExpr;
use crate::rules::vars::VarRef;
use std::rc::Rc;

/// What a TCP rule does when its condition holds.
#[derive(Debug, Clone)]
pub enum TcpAction {
    /// Stop evaluating this rule set; the connection goes on.
    Accept,
    /// Close the connection (`tcp-response content close` shuts the server
    /// side only).
    Reject,
    Close,
    SetVar(VarRef, SampleExpr),
    UnsetVar(VarRef),
    /// `tcp-request connection expect-proxy layer4`.
    ExpectProxy,
}

/// A rule and its condition.
#[derive(Debug, Clone)]
pub struct TcpRule {
    pub action: TcpAction,
    pub cond: Option<Cond>,
}

/// A proxy's TCP rule sets.
#[derive(Debug, Clone, Default)]
pub struct TcpRules {
    /// `tcp-request inspect-delay` (ms, 0: none).
    pub inspect_delay: u32,
    pub res_inspect_delay: u32,
    pub connection: Rc<Vec<TcpRule>>,
    pub session: Rc<Vec<TcpRule>>,
    pub content: Rc<Vec<TcpRule>>,
    pub res_content: Rc<Vec<TcpRule>>,
}

impl TcpRules {
    /// True when any request-side rule exists.
    pub fn has_req(&self) -> bool {
        !(self.connection.is_empty() && self.session.is_empty() && self.content.is_empty())
    }
}

/// The actions of HAProxy 2.6 per rule set, as its alerts list them.
const CONTENT_26: &str = "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'";

/// Every action word any TCP rule set of 2.6 knows (for "not supported
/// yet" versus unknown).
const KNOWN_26: &[&str] = &[
    "accept",
    "reject",
    "close",
    "capture",
    "expect-proxy",
    "expect-netscaler-cip",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "ot-group",
    "set-log-level",
    "set-nice",
    "switch-mode",
    "use-service",
    "send-spoe-group",
    "set-src",
    "set-src-port",
    "set-dst",
    "set-dst-port",
    "set-mark",
    "set-tos",
    "silent-drop",
    "set-priority-class",
    "set-priority-offset",
];
const KNOWN_PREFIX_26: &[&str] = &[
    "sc-inc-gpc",
    "sc-set-gpt",
    "do-resolve(",
    "set-var-fmt(",
    "set-var(",
    "unset-var(",
];

/// Parses a `tcp-request` / `tcp-response` line.
pub fn parse(
    d: &mut Diags,
    px: &mut ProxyCfg,
    w: &[String],
    file: &str,
    line: usize,
    rx: &mut RuleCx<'_>,
) {
    let kw = w.first().map_or("", String::as_str);
    let res = kw == "tcp-response";
    let where_ = format!("in {} '{}'", px_kind(px), px.name);
    let set = w.get(1).map_or("", String::as_str);
    match set {
        "inspect-delay" => {
            let msg =
                format!("'{kw} inspect-delay' expects a positive delay in milliseconds, {where_}");
            let Some(v) = w.get(2) else {
                d.alert(file, line, msg);
                return;
            };
            match parse_time(v, 1) {
                Ok((ms, None)) if res => px.tcp.res_inspect_delay = ms,
                Ok((ms, None)) => px.tcp.inspect_delay = ms,
                _ => {
                    let c = v.chars().find(|c| !c.is_ascii_digit()).unwrap_or(' ');
                    d.alert(file, line, format!("{msg} (unexpected character '{c}')"));
                }
            }
            return;
        }
        "content" => {}
        "connection" | "session" if !res => {}
        _ => {
            let expects = if res {
                "'inspect-delay' or 'content'"
            } else {
                "'inspect-delay', 'connection', or 'content'"
            };
            d.alert(
                file,
                line,
                format!("'{kw}' expects {expects} {where_} (got '{set}')"),
            );
            return;
        }
    }
    let action = w.get(2).map_or("", String::as_str);
    let (act, next) = match action {
        "accept" => (TcpAction::Accept, 3),
        "reject" => (TcpAction::Reject, 3),
        "close" if res => (TcpAction::Close, 3),
        "expect-proxy" if set == "connection" => {
            if w.get(3).map(String::as_str) != Some("layer4") {
                d.alert(
                    file,
                    line,
                    format!("'{kw} {set} expect-proxy' only supports 'layer4', {where_}"),
                );
                return;
            }
            (TcpAction::ExpectProxy, 4)
        }
        a if a.starts_with("set-var(") || a.starts_with("unset-var(") => {
            let name = a
                .split_once('(')
                .and_then(|(_, r)| r.strip_suffix(')'))
                .unwrap_or("");
            let var = match rx.store.vars.parse_ref(name) {
                Ok(v) => v,
                Err(e) => {
                    d.alert(file, line, format!("'{kw} {set} {a}' : {e} {where_}"));
                    return;
                }
            };
            if a.starts_with("unset-var(") {
                (TcpAction::UnsetVar(var), 3)
            } else {
                let Some(e) = w.get(3) else {
                    d.alert(
                        file,
                        line,
                        format!("'{kw} {set} {a}' : missing expression {where_}"),
                    );
                    return;
                };
                match rx.expr(e, file, line) {
                    Ok(x) => (TcpAction::SetVar(var, x), 4),
                    Err(m) => {
                        d.alert(file, line, format!("'{kw} {set} {a}' : {m} {where_}"));
                        return;
                    }
                }
            }
        }
        a if KNOWN_26.contains(&a) || KNOWN_PREFIX_26.iter().any(|p| a.starts_with(p)) => {
            let name = a.split('(').next().unwrap_or(a);
            d.alert(
                file,
                line,
                format!("'{kw} {set} {name}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs"),
            );
            return;
        }
        a => {
            d.alert(
                file,
                line,
                format!("'{kw} {set}' expects {CONTENT_26} {where_} (got '{a}')."),
            );
            return;
        }
    };
    let rest = w.get(next..).unwrap_or(&[]);
    let cond = match rest {
        [] => None,
        [c, ..] if c == "if" || c == "unless" => {
            let what = format!("'{c}' condition");
            match rx.cond(rest, &what, file, line) {
                Ok(c) => Some(c),
                Err(m) => {
                    // 2.6: "'<kw> <set> <action>' : error detected in <px>
                    // while parsing '<if>' condition : <msg>" (no final dot).
                    let inner = m
                        .strip_prefix(&format!("error detected while parsing {what} : "))
                        .unwrap_or(&m)
                        .trim_end_matches('.');
                    d.alert(
                        file,
                        line,
                        format!("'{kw} {set} {action}' : error detected {where_} while parsing {what} : {inner}"),
                    );
                    return;
                }
            }
        }
        [other, ..] => {
            d.alert(
                file,
                line,
                format!(
                    "'{kw} {set} {action}' only accepts 'if' or 'unless', {where_} (got '{other}')"
                ),
            );
            return;
        }
    };
    let list = match (res, set) {
        (true, _) => &mut px.tcp.res_content,
        (false, "connection") => &mut px.tcp.connection,
        (false, "session") => &mut px.tcp.session,
        _ => &mut px.tcp.content,
    };
    Rc::make_mut(list).push(TcpRule { action: act, cond });
}
