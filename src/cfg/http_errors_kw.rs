//! The error pages of a proxy (`errorfile`, `errorloc`, `errorloc302`,
//! `errorloc303`, `errorfiles`) and the `http-errors` sections that
//! `errorfiles` names (configuration.txt 3.8, 4.2), with HAProxy 2.6's
//! diagnostics. The files are checked here; `http_post` resolves
//! `errorfiles` once every section is known.

use super::diag::Diags;
use super::http_kw::{HttpParseState, arg};
use super::http_model::*;
use super::http_rules::{HANDLED_CODES, atol};
use super::http_syntax::check_errorfile;
use super::model::{Config, ProxyCfg};
use std::path::PathBuf;

/// A status code for `errorfile` & co: `Err` with HAProxy's message when
/// HAProxy has no error message for it.
fn handled_code(kw: &str, v: &str) -> Result<u16, String> {
    let c = atol(v);
    u16::try_from(c)
        .ok()
        .filter(|c| HANDLED_CODES.contains(c))
        .ok_or_else(|| format!("{kw} : status code '{c}' not handled."))
}

/// `errorfile <code> <file>`, `errorloc[302|303] <code> <url>`.
pub(super) fn errorfile(d: &mut Diags, px: &mut ProxyCfg, w: &[String], file: &str, line: usize) {
    let kw = w.first().map_or("", String::as_str);
    let (Some(code), Some(target)) = (arg(w, 1), arg(w, 2)) else {
        let what = if kw == "errorfile" { "file" } else { "url" };
        d.alert(
            file,
            line,
            format!("{kw} : expects <status_code> and <{what}> as arguments.\n"),
        );
        return;
    };
    let code = match handled_code(kw, code) {
        Ok(c) => c,
        Err(m) => return d.alert(file, line, m),
    };
    let src = match kw {
        "errorfile" => {
            if let Err(m) = check_errorfile(target) {
                return d.alert(file, line, format!("errorfile : {m}"));
            }
            ErrorSource::File(PathBuf::from(target))
        }
        "errorloc303" => ErrorSource::Loc303(target.to_string()),
        _ => ErrorSource::Loc302(target.to_string()),
    };
    px.http.errorfiles.push((code, src));
    px.http.conf.errorfiles.push(None);
}

/// `errorfiles <name> [<code> ...]`: resolved by `http_post::check_errors`
/// once every `http-errors` section is known.
pub(super) fn errorfiles(d: &mut Diags, px: &mut ProxyCfg, w: &[String], file: &str, line: usize) {
    let Some(name) = arg(w, 1) else {
        d.alert(file, line, "errorfiles : expects <name> as argument.");
        return;
    };
    let mut codes = Vec::new();
    for c in w.iter().skip(2) {
        match handled_code("errorfiles", c) {
            Ok(c) => codes.push(c),
            Err(m) => return d.alert(file, line, m),
        }
    }
    if codes.is_empty() {
        codes.push(0);
    }
    for c in codes {
        px.http
            .errorfiles
            .push((c, ErrorSource::Section(name.to_string())));
        px.http.conf.errorfiles.push(Some((file.to_string(), line)));
    }
}

/// Opens `http-errors <name>` (configuration.txt 3.8); returns the index
/// of the new section in `cfg.http_errors`, or None after an alert (its
/// lines are then skipped).
pub fn open_http_errors(
    st: &mut HttpParseState,
    cfg: &mut Config,
    d: &mut Diags,
    w: &[String],
    file: &str,
    line: usize,
) -> Option<usize> {
    let Some(name) = arg(w, 1) else {
        d.alert(file, line, "missing name for http-errors section.");
        return None;
    };
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
    {
        d.alert(
            file,
            line,
            format!("character '{c}' is not permitted in 'http-errors' name '{name}'."),
        );
        return None;
    }
    if let Some(i) = cfg.http_errors.iter().position(|(n, _)| n == name) {
        let (f, l) = st.http_errors_at.get(i).cloned().unwrap_or_default();
        d.alert_tight(
            file,
            line,
            format!("http-errors section '{name}' already exists (declared at {f}:{l})."),
        );
        return None;
    }
    cfg.http_errors.push((name.to_string(), Vec::new()));
    st.http_errors_at.push((file.to_string(), line));
    Some(cfg.http_errors.len() - 1)
}

/// A line of the `http-errors` section `idx`: `errorfile <code> <file>`.
pub fn http_errors_kw(
    cfg: &mut Config,
    idx: usize,
    d: &mut Diags,
    w: &[String],
    file: &str,
    line: usize,
) {
    let kw = w.first().map_or("", String::as_str);
    if kw != "errorfile" {
        d.alert(
            file,
            line,
            format!("unknown keyword '{kw}' in 'http-errors' section"),
        );
        return;
    }
    let (Some(code), Some(path)) = (arg(w, 1), arg(w, 2)) else {
        d.alert(
            file,
            line,
            "errorfile: expects <status_code> and <file> as arguments.",
        );
        return;
    };
    let code = match handled_code(kw, code) {
        Ok(c) => c,
        Err(m) => return d.alert(file, line, m),
    };
    if let Err(m) = check_errorfile(path) {
        return d.alert(file, line, format!("errorfile : {m}"));
    }
    if let Some((_, files)) = cfg.http_errors.get_mut(idx) {
        files.push((code, PathBuf::from(path)));
    }
}
