//! The replies of `return`, `deny`/`tarpit` with a payload and
//! `http-error` (configuration.txt 4.2 "http-request return", "http-error"):
//! `[status <code>] [content-type <type>] [<body>] [hdr <name> <fmt>]*`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::Diags;
use super::http_model::*;
use super::http_rules::{HANDLED_CODES, arg, atol};

use super::http_syntax::check_errorfile;
use super::model::ProxyCfg;
use std::path::PathBuf;

/// A parsed reply: `[status <code>] [content-type <type>] [<body>]
/// [hdr <name> <fmt>]*` (configuration.txt 4.2, http-request return).
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: ReturnBody,
    pub hdrs: Vec<(String, Fmt)>,
    /// HAProxy's warnings about ignored parts (already removed above).
    pub warnings: Vec<String>,
    /// An argument that makes a `deny` / `tarpit` reply more than "the
    /// error file for a status" (see [`Reply::custom`]).
    custom: Option<String>,
}

impl Reply {
    /// For `deny` / `tarpit`: None when the reply is the proxy's error file
    /// for the status (no argument, `deny_status <code>`,
    /// `default-errorfiles`); else the first argument that customizes it.
    /// `status <code>` alone customizes it: HAProxy 2.6 then sends an empty
    /// response, not the error file.
    pub fn custom(&self) -> Option<&str> {
        self.custom.as_deref()
    }
}

/// Reads a reply from word `i`; `deny_like` accepts `deny_status` and
/// implies `default-errorfiles` as `deny` / `tarpit` do. Stops at the first
/// word that is not a reply argument and returns its index. An error is
/// HAProxy's message without context and final period.
pub fn parse_reply(
    w: &[String],
    mut i: usize,
    default_status: u16,
    deny_like: bool,
) -> Result<(Reply, usize), String> {
    let mut status = (default_status, false);
    let mut content_type = None;
    let mut body_kw: Option<(&str, String)> = None;
    let mut hdrs = Vec::new();
    let mut plain_status = false;
    while let Some(a) = w.get(i).map(String::as_str) {
        match a {
            "status" | "deny_status" if a == "status" || deny_like => {
                let Some(v) = arg(w, i + 1) else {
                    return Err("'status' expects <status_code> as argument".into());
                };
                let code = atol(v);
                if !(200..=599).contains(&code) {
                    return Err(format!("Unexpected status code '{code}'"));
                }
                status = (code as u16, true);
                plain_status |= a == "status";
                i += 2;
            }
            "content-type" => {
                let Some(v) = arg(w, i + 1) else {
                    return Err("'content-type' expects <ctype> as argument".into());
                };
                content_type = Some(v.to_string());
                i += 2;
            }
            "default-errorfiles" | "errorfile" | "errorfiles" | "file" | "lf-file" | "string"
            | "lf-string" => {
                if let Some((prev, _)) = &body_kw {
                    return Err(format!(
                        "unexpected '{a}' argument, '{prev}' already defined"
                    ));
                }
                if a == "default-errorfiles" {
                    body_kw = Some((a, String::new()));
                    i += 1;
                    continue;
                }
                let Some(v) = arg(w, i + 1) else {
                    let what = match a {
                        "errorfiles" => "name",
                        "file" | "lf-file" => "file",
                        "string" => "str",
                        _ => "fmt",
                    };
                    return Err(format!("'{a}' expects <{what}> as argument"));
                };
                body_kw = Some((a, v.to_string()));
                i += 2;
            }
            "hdr" => {
                let (Some(n), Some(v)) = (arg(w, i + 1), arg(w, i + 2)) else {
                    return Err("'hdr' expects <name> and <value> as arguments".into());
                };
                hdrs.push((n.to_string(), Fmt::from(v)));
                i += 3;
            }
            _ => break,
        }
    }
    // What makes a deny-like reply more than the error file for a status.
    let custom = if content_type.is_some() {
        Some("content-type".to_string())
    } else if !hdrs.is_empty() {
        Some("hdr".to_string())
    } else {
        match &body_kw {
            Some(("default-errorfiles", _)) => None,
            Some((k, _)) => Some(k.to_string()),
            None if plain_status => Some("status".to_string()),
            None => None,
        }
    };
    // What the payload is, and whether it is empty.
    let (body, empty) = match body_kw {
        None if deny_like && custom.is_none() => (ReturnBody::DefaultErrorFiles, true),
        None => (ReturnBody::None, true),
        Some(("default-errorfiles", _)) => {
            if status.1 && !HANDLED_CODES.contains(&status.0) {
                return Err(format!(
                    "status code '{}' not handled by default with 'default-errorfiles' argument.",
                    status.0
                ));
            }
            (ReturnBody::DefaultErrorFiles, true)
        }
        Some(("errorfile", f)) => {
            check_errorfile(&f)?;
            (ReturnBody::ErrorFile(PathBuf::from(f)), true)
        }
        Some(("errorfiles", n)) => (ReturnBody::ErrorFiles(n), true),
        Some((k @ ("file" | "lf-file"), f)) => {
            let data = std::fs::read(&f).map_err(|_| format!("error opening file '{f}'"))?;
            let empty = data.is_empty();
            let b = if k == "file" {
                ReturnBody::File(PathBuf::from(f))
            } else {
                // Compiled with the rule's other formats (`fmts_mut`).
                ReturnBody::LfFile(String::from_utf8_lossy(&data).into_owned().into())
            };
            (b, empty)
        }
        Some(("string", s)) => (ReturnBody::String(s), false),
        Some((_, s)) => (ReturnBody::LfString(s.into()), false),
    };
    let errorfile_like = matches!(
        body,
        ReturnBody::ErrorFile(_) | ReturnBody::ErrorFiles(_) | ReturnBody::DefaultErrorFiles
    );
    let mut warnings = Vec::new();
    if !errorfile_like && !empty {
        if content_type.is_none() {
            return Err(
                "a content type must be defined when non-empty payload is configured".into(),
            );
        }
        if matches!(status.0, 204 | 304) {
            return Err(format!("No body expected for {} responses", status.0));
        }
    }
    if let Some(t) = &content_type {
        let why = match &body {
            _ if errorfile_like => Some("when used with an erorrfile"),
            ReturnBody::None => Some("because neither errorfile nor payload defined"),
            ReturnBody::File(_) if empty => Some("when used with an empty payload"),
            _ => None,
        };
        if let Some(why) = why {
            warnings.push(format!(
                "content-type '{t}' ignored by the http reply {why}."
            ));
            content_type = None;
        }
    }
    if errorfile_like && !hdrs.is_empty() {
        warnings
            .push("hdr parameters ignored by the http reply when used with an erorrfile.".into());
        hdrs.clear();
    }
    hdrs.retain(|(n, _)| {
        let ignored = ["content-length", "transfer-encoding", "content-type"]
            .iter()
            .any(|x| n.eq_ignore_ascii_case(x));
        if ignored {
            warnings.push(format!("header '{n}' always ignored by the http reply."));
        }
        !ignored
    });
    let r = Reply {
        status: status.0,
        content_type,
        body,
        hdrs,
        warnings,
        custom,
    };
    Ok((r, i))
}

/// `http-error status <code> [content-type <t>] [<body>] [hdr <n> <v>]*`
/// (configuration.txt 4.2): appends `(code, ErrorSource::Reply)` to the
/// proxy's error files.
pub fn parse_http_error(
    d: &mut Diags,
    px: &mut ProxyCfg,
    w: &[String],
    file: &str,
    line: usize,
    rx: &mut super::rules_kw::RuleCx<'_>,
) {
    if w.get(1).map(String::as_str) != Some("status") {
        d.alert(
            file,
            line,
            "http-error : expects at least a <status> as arguments.\n",
        );
        return;
    }
    let (r, next) = match parse_reply(w, 1, 200, false) {
        Ok(x) => x,
        Err(m) => {
            d.alert(file, line, format!("http-error : {m}"));
            return;
        }
    };
    if let Some(x) = w.get(next) {
        d.alert(file, line, format!("http-error : unknown keyword '{x}'."));
        return;
    }
    if !HANDLED_CODES.contains(&r.status) {
        d.alert(
            file,
            line,
            format!("http-error: status code '{}' not handled.", r.status),
        );
        return;
    }
    let mut r = r;
    let http = px.mode == super::model::Mode::Http;
    for f in r.body.fmts_mut(&mut r.hdrs) {
        if !f.raw.contains('%') {
            continue;
        }
        match rx.lf(&f.raw, http, file, line) {
            Ok(lf) => f.lf = Some(Box::new(lf)),
            Err(m) => {
                d.alert(file, line, format!("http-error : {m}"));
                return;
            }
        }
    }
    for m in r.warnings {
        d.warn(file, line, m);
    }
    // `errorfiles <name>` here is the `errorfiles <name> <status>` line.
    let (src, at) = match r.body {
        ReturnBody::ErrorFiles(n) => (ErrorSource::Section(n), Some((file.to_string(), line))),
        body => {
            let src = ErrorSource::Reply {
                content_type: r.content_type,
                body,
                hdrs: r.hdrs,
            };
            (src, None)
        }
    };
    px.http.errorfiles.push((r.status, src));
    px.http.conf.errorfiles.push(at);
}
