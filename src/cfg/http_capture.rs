//! `capture cookie|request header|response header` and `declare capture`
//! (configuration.txt 4.2): the capture slots a frontend logs in `%hr`,
//! `%hs`, `%CC`, `%CS`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::Diags;
use super::http_kw::{OptCap, arg, warn_if_not_cap};
use super::http_model::Capture;
use super::http_rules::atol;
use super::model::ProxyCfg;

/// `capture cookie <name> len <n>`, `capture request|response header
/// <name> len <n>` (configuration.txt 4.2).
pub fn capture(d: &mut Diags, px: &mut ProxyCfg, w: &[String], file: &str, line: usize) {
    let what = w.get(1).map_or("", String::as_str);
    if px.kind == "defaults" && matches!(what, "cookie" | "request" | "response") {
        d.alert(
            file,
            line,
            format!("'capture {what}' not allowed in 'defaults' section."),
        );
        return;
    }
    warn_if_not_cap(d, px, OptCap::Fe, "capture", file, line);
    let len = |v: &str| usize::try_from(atol(v)).unwrap_or(0);
    if what == "cookie" {
        let (Some(name), Some(_), Some(l)) = (arg(w, 2), arg(w, 3), arg(w, 4)) else {
            d.alert(
                file,
                line,
                "'capture' expects 'cookie' <cookie_name> 'len' <len>.",
            );
            return;
        };
        px.http.cookie_capture = Some(Capture {
            name: name.to_string(),
            len: len(l),
        });
        return;
    }
    if !matches!(what, "request" | "response") || w.get(2).map(String::as_str) != Some("header") {
        d.alert(
            file,
            line,
            "'capture' expects 'cookie' or 'request header' or 'response header'.",
        );
        return;
    }
    let (Some(name), Some("len"), Some(l)) = (arg(w, 3), arg(w, 4), arg(w, 5)) else {
        d.alert(
            file,
            line,
            format!("'capture {what}' expects 'header' <header_name> 'len' <len>."),
        );
        return;
    };
    if let Some(x) = w.get(6) {
        d.alert(
            file,
            line,
            format!("'capture {what}' cannot handle unexpected argument '{x}'."),
        );
        return;
    }
    let c = Capture {
        name: name.to_string(),
        len: len(l),
    };
    if what == "request" {
        px.http.req_captures.push(c);
    } else {
        px.http.res_captures.push(c);
    }
}

/// `declare capture request|response len <n>`: a capture slot that only
/// `http-request|response capture ... id <n>` fills.
pub fn declare_capture(d: &mut Diags, px: &mut ProxyCfg, w: &[String], file: &str, line: usize) {
    if w.get(1).map(String::as_str) != Some("capture") {
        d.alert(file, line, "'declare' only supports 'capture'.");
        return;
    }
    let res = match w.get(2).map(String::as_str) {
        Some("request") => false,
        Some("response") => true,
        _ => {
            d.alert(
                file,
                line,
                "'declare capture' requires a direction ('request' or 'response')",
            );
            return;
        }
    };
    let len = match (
        w.get(3).map(String::as_str),
        w.get(4).map(|n| n.parse::<usize>()),
    ) {
        (Some("len"), Some(Ok(n))) if n > 0 => n,
        _ => {
            d.alert(
                file,
                line,
                "'declare capture' requires a capture length ('len')",
            );
            return;
        }
    };
    let list = if res {
        &mut px.http.res_captures
    } else {
        &mut px.http.req_captures
    };
    list.push(Capture {
        name: String::new(),
        len,
    });
}
