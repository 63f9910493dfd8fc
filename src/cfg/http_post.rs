//! Post-parse checks of the HTTP settings, run by `Parser::check` when
//! parsing found no alert, in HAProxy 2.6's order for each proxy:
//!
//! ```text
//!   check_proxy_pre   monitor-uri / httplog need mode http (httplog falls back)
//!   (parse.rs)        no bind, backend references + switch_mode_alert, timeouts
//!   check_proxy_post  cookie capture length, log format without log target,
//!                     HTTP settings a mode tcp proxy ignores
//!   ... all proxies, then servers ...
//!   check_errors      replies and `errorfiles` naming http-errors sections
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::{Diags, Level};
use super::http_kw::{BOOL_OPTS, OptCap, current_log_format};
use super::http_model::*;
use super::http_rules::px_kind;
use super::model::{Config, GlobalCfg, Mode, ProxyCfg};

/// The alert for a frontend `fe` switching to backend `be` of another mode
/// (`what`: "as its default backend" or "in a 'use_backend' rule"), None
/// when the modes match. A TCP frontend may use an HTTP backend: its
/// stream is upgraded to HTTP when the backend is set, as in HAProxy 2.6.
pub fn switch_mode_alert(fe: &ProxyCfg, be: &ProxyCfg, what: &str) -> Option<String> {
    match (fe.mode, be.mode) {
        (Mode::Http, Mode::Tcp) => Some(format!(
            "http {} '{}' ({}:{}) tries to use incompatible tcp backend '{}' ({}:{}) {what} (see 'mode').",
            px_kind(fe),
            fe.name,
            fe.file,
            fe.line,
            be.name,
            be.file,
            be.line
        )),
        _ => None,
    }
}

/// Post-parse checks run first on each enabled proxy: `monitor-uri` and
/// `option httplog` need `mode http` (httplog then falls back to tcplog).
pub fn check_proxy_pre(px: &mut ProxyCfg, d: &mut Diags) {
    if px.mode != Mode::Tcp {
        return;
    }
    let who = format!("{} '{}'", px_kind(px), px.name);
    if px.http.monitor_uri.is_some() {
        d.global(
            Level::Warning,
            format!("monitor-uri will be ignored for {who} (needs 'mode http')."),
        );
    }
    if px.cap.fe && px.http.httplog.is_some() {
        let msg = format!(
            "'option httplog' not usable with {who} (needs 'mode http'). Falling back to 'option tcplog'."
        );
        match &px.http.conf.log_format {
            Some((f, l)) => d.warn(f, *l, msg),
            None => d.global(Level::Warning, msg),
        }
        px.http.httplog = None;
        px.opts.tcplog = true;
    }
}

/// Post-parse checks run last on each enabled proxy: the cookie capture
/// length, a log format with nowhere to log, and HTTP settings that a
/// `mode tcp` proxy ignores (warnings, in HAProxy's order).
pub fn check_proxy_post(px: &mut ProxyCfg, global: &GlobalCfg, d: &mut Diags) {
    if px.cap.fe
        && let (Some(f), Some((file, line))) = (&px.http.log_format, &px.http.conf.log_format)
        && let Err(e) = crate::log::format::LogFormat::parse_for_mode(f, px.mode == Mode::Http)
    {
        d.alert(file, *line, format!("failed to parse log-format : {e}."));
    }
    let who = format!("{} '{}'", px_kind(px), px.name);
    let mut warn = |m: String| d.global(Level::Warning, m);
    if let Some(c) = px.http.cookie_capture.as_mut().filter(|c| c.len > 63) {
        warn(format!("truncating capture length to 63 bytes for {who}."));
        c.len = 63;
    }
    let logs = !px.logs.is_empty() || px.log_global && !global.logs.is_empty();
    if px.cap.fe && current_log_format(px).is_some() && !logs {
        warn(format!(
            "log format ignored for {who} since it has no log address."
        ));
    }
    if px.mode != Mode::Tcp {
        return;
    }
    let h = &px.http;
    if h.cookie_capture.is_some() {
        warn(format!(
            "'capture' statement ignored for {who} as it requires HTTP mode."
        ));
    }
    if !h.req_rules.is_empty() || h.wait_for_body.is_some() {
        warn(format!(
            "'http-request' rules ignored for {who} as they require HTTP mode."
        ));
    }
    if !h.res_rules.is_empty() {
        warn(format!(
            "'http-response' rules ignored for {who} as they require HTTP mode."
        ));
    }
    for (set, name) in [
        (h.forwardfor.is_some(), "forwardfor"),
        (h.originalto.is_some(), "originalto"),
    ] {
        if set {
            warn(format!(
                "'option {name}' ignored for {who} as it requires HTTP mode."
            ));
        }
    }
    // Dropped as 2.6 does: a stream upgraded to HTTP by an HTTP backend
    // does not apply them (its frontend's rules do run).
    px.http.forwardfor = None;
    px.http.originalto = None;
    let cap = (px.cap.fe, px.cap.be);
    for &(name, c, warns, field) in BOOL_OPTS {
        let in_cap = match c {
            OptCap::Fe => cap.0,
            OptCap::Be => cap.1,
            OptCap::Both => true,
        };
        if warns && in_cap && *field(&mut px.http) {
            warn(format!(
                "'option {name}' ignored for {who} as it requires HTTP mode."
            ));
            // Dropped as 2.6 does, for an upgraded stream; `http-no-delay`
            // is kept: TCP streams have always applied it here.
            if name != "http-no-delay" {
                *field(&mut px.http) = false;
            }
        }
    }
}

/// Post-parse checks of the error files of every enabled proxy, once all
/// `http-errors` sections are known: replies that name a section, then
/// `errorfiles` lines, which are replaced by the section's files (see the
/// invariants in `http_model`).
pub fn check_errors(cfg: &mut Config, d: &mut Diags) {
    let Config {
        proxies,
        http_errors,
        ..
    } = cfg;
    let section = |name: &str| http_errors.iter().find(|(n, _)| n == name).map(|(_, f)| f);
    for px in proxies.iter_mut().filter(|p| !p.disabled) {
        let h = &mut px.http;
        let replies = h
            .req_rules
            .iter()
            .chain(h.res_rules.iter())
            .filter_map(|r| match &r.action {
                HttpAction::Return {
                    status,
                    body: ReturnBody::ErrorFiles(n),
                    ..
                } => Some((*status, n)),
                _ => None,
            });
        for (status, name) in replies {
            match section(name) {
                None => d.global(
                    Level::Alert,
                    format!(
                        "Proxy '{}': unknown http-errors section '{name}' referenced by an http reply .",
                        px.name
                    ),
                ),
                Some(files) if !files.iter().any(|(c, _)| *c == status) => d.global(
                    Level::Warning,
                    format!(
                        "Proxy '{}': status '{status}' referenced by an http reply not declared in http-errors section '{name}'.",
                        px.name
                    ),
                ),
                Some(_) => {}
            }
        }
        let old = std::mem::take(&mut h.errorfiles);
        let places = std::mem::take(&mut h.conf.errorfiles);
        let mut reported: Option<(String, usize)> = None;
        for (k, (code, src)) in old.into_iter().enumerate() {
            let ErrorSource::Section(name) = src else {
                h.errorfiles.push((code, src));
                continue;
            };
            let at = places.get(k).cloned().flatten().unwrap_or_default();
            let place = format!("{}:{}", at.0, at.1);
            match section(&name) {
                None if reported.as_ref() != Some(&at) => {
                    d.global(
                        Level::Alert,
                        format!(
                            "proxy '{}': unknown http-errors section '{name}' (at {place}).",
                            px.name
                        ),
                    );
                    reported = Some(at);
                }
                None => {}
                Some(files) if code == 0 => h
                    .errorfiles
                    .extend(files.iter().map(|(c, p)| (*c, ErrorSource::File(p.clone())))),
                Some(files) => match files.iter().rev().find(|(c, _)| *c == code) {
                    Some((c, p)) => h.errorfiles.push((*c, ErrorSource::File(p.clone()))),
                    None => d.global(
                        Level::Warning,
                        format!(
                            "config: proxy '{}' : status '{code}' not declared in http-errors section '{name}' (at {place}).",
                            px.name
                        ),
                    ),
                },
            }
        }
        h.conf.errorfiles = vec![None; h.errorfiles.len()];
    }
}

#[cfg(test)]
#[path = "http_post_tests.rs"]
mod tests;
