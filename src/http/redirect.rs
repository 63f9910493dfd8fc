//! Building the responses of `redirect` and `return` rules, and the
//! regex rewrites of `replace-header` / `replace-value`
//! (configuration.txt 4.2, http-request redirect / return /
//! replace-header / replace-value).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::hdr::{EditError, HeadEdit};
use super::parse::{Kind, ParseOpts};
use crate::cfg::model::{HttpAction, RedirectKind, ReturnBody};
use crate::stream::{Stream, StreamCtx};
use std::io::Write;

/// The status a `redirect` / `return` rule answers with.
pub fn status_of(rule: &HttpAction) -> u16 {
    match rule {
        HttpAction::Redirect { code, .. } => *code,
        HttpAction::Return { status, .. } => *status,
        _ => 500,
    }
}

/// The reason phrase HAProxy puts after `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Other",
    }
}

/// The path of a request URI (origin or absolute form) and what follows
/// it (query), as slices of `uri`.
pub fn split_path(uri: &[u8]) -> (&[u8], &[u8]) {
    let start = if uri.first() == Some(&b'/') {
        0
    } else if let Some(i) = memchr::memmem::find(uri, b"://") {
        let auth = i + 3;
        uri.get(auth..)
            .and_then(|r| memchr::memchr(b'/', r))
            .map_or(uri.len(), |p| auth + p)
    } else {
        0
    };
    let tail = uri.get(start..).unwrap_or(&[]);
    let q = memchr::memchr(b'?', tail).unwrap_or(tail.len());
    (tail.get(..q).unwrap_or(&[]), tail.get(q..).unwrap_or(&[]))
}

/// The complete response of a `redirect` or `return` rule for the
/// current request; `kind` is the message the rule analyses (what its
/// log-format strings fetch from).
pub fn build(
    s: &mut Stream,
    cx: &mut StreamCtx,
    rule: &HttpAction,
    kind: Kind,
    opts: ParseOpts,
) -> Vec<u8> {
    match rule {
        HttpAction::Redirect {
            kind,
            target,
            code,
            drop_query,
            append_slash,
            cookie,
            ..
        } => {
            let target = super::rules::render_fmt(s, cx, target, Kind::Request, opts);
            let (uri, host) = request_uri_host(s, cx, opts);
            let (path, query) = split_path(&uri);
            let mut loc = Vec::with_capacity(target.len() + uri.len() + 16);
            match kind {
                RedirectKind::Location => loc.extend_from_slice(&target),
                RedirectKind::Prefix => {
                    // A prefix of "/" keeps the path as is.
                    if target != b"/" {
                        loc.extend_from_slice(&target);
                    }
                    loc.extend_from_slice(path);
                }
                RedirectKind::Scheme => {
                    loc.extend_from_slice(&target);
                    loc.extend_from_slice(b"://");
                    loc.extend_from_slice(&host);
                    loc.extend_from_slice(path);
                }
            }
            if *kind != RedirectKind::Location {
                if *append_slash && !loc.ends_with(b"/") {
                    loc.push(b'/');
                }
                if !*drop_query {
                    loc.extend_from_slice(query);
                }
            }
            let mut out = Vec::with_capacity(loc.len() + 128);
            out.extend_from_slice(
                format!(
                    "HTTP/1.1 {} {}\r\ncontent-length: 0\r\nlocation: ",
                    code,
                    reason(*code)
                )
                .as_bytes(),
            );
            out.extend_from_slice(&loc);
            // Temporary redirects are not to be cached (HAProxy 2.6 says so
            // for 302 and 303, not for permanent ones).
            if matches!(code, 302 | 303) {
                out.extend_from_slice(b"\r\ncache-control: no-cache");
            }
            if let Some(c) = cookie {
                out.extend_from_slice(b"\r\nset-cookie: ");
                out.extend_from_slice(c.as_bytes());
            }
            out.extend_from_slice(b"\r\n\r\n");
            out
        }
        HttpAction::Return {
            status,
            content_type,
            body,
            hdrs,
        } => {
            let body: Vec<u8> = match body {
                ReturnBody::None => Vec::new(),
                ReturnBody::String(t) => t.as_bytes().to_vec(),
                ReturnBody::LfString(t) | ReturnBody::LfFile(t) => {
                    super::rules::render_fmt(s, cx, t, kind, opts)
                }
                ReturnBody::File(p) => std::fs::read(p).unwrap_or_default(),
                ReturnBody::ErrorFile(p) => {
                    return std::fs::read(p)
                        .unwrap_or_else(|_| super::errors::builtin_or_500(*status).to_vec());
                }
                ReturnBody::ErrorFiles(_) | ReturnBody::DefaultErrorFiles => {
                    let own = [s.be, Some(s.fe)]
                        .into_iter()
                        .flatten()
                        .filter_map(|p| cx.proxies.get(p))
                        .find_map(|p| p.http_errmsg(*status));
                    return own
                        .unwrap_or(super::errors::builtin_or_500(*status))
                        .to_vec();
                }
            };
            let mut out = Vec::with_capacity(128 + body.len());
            let _ = write!(out, "HTTP/1.1 {} {}\r\n", status, reason(*status));
            // HAProxy 2.6's order: the `hdr` headers, then content-length
            // (none on 204 / 304), then content-type (only with a payload).
            for (n, v) in hdrs {
                let at = out.len();
                out.extend(n.bytes().map(|c| c.to_ascii_lowercase()));
                out.extend_from_slice(b": ");
                let value_at = out.len();
                match v.lf.as_deref() {
                    None => out.extend_from_slice(v.raw.as_bytes()),
                    Some(lf) => {
                        super::rules::with_rules_for(s, cx, kind, opts, |env, ecx| {
                            env.render_bytes(lf, ecx, &mut out)
                        });
                    }
                }
                // A value that evaluates to nothing drops the header.
                if out.len() == value_at {
                    out.truncate(at);
                } else {
                    out.extend_from_slice(b"\r\n");
                }
            }
            if !matches!(status, 204 | 304) {
                let _ = write!(out, "content-length: {}\r\n", body.len());
            }
            if let Some(ct) = content_type.as_deref().filter(|_| !body.is_empty()) {
                let _ = write!(out, "content-type: {ct}\r\n");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&body);
            out
        }
        _ => super::errors::builtin_or_500(500).to_vec(),
    }
}

/// The request's URI and Host header (empty when absent).
fn request_uri_host(s: &mut Stream, cx: &mut StreamCtx, opts: ParseOpts) -> (Vec<u8>, Vec<u8>) {
    let Some(b) = s.req.buf.as_mut() else {
        return (Vec::new(), Vec::new());
    };
    let Ok(mut e) = HeadEdit::open(b, Kind::Request, opts, &mut cx.http.hdrs) else {
        return (Vec::new(), Vec::new());
    };
    let host = e.value(b"host").unwrap_or_default();
    let uri = e.head.uri;
    (uri.get(e.bytes()).to_vec(), host)
}

/// HAProxy's `\N` back-references become the regex crate's `${N}`.
fn replacement(rep: &str) -> String {
    let mut out = String::with_capacity(rep.len() + 8);
    let mut it = rep.chars().peekable();
    while let Some(c) = it.next() {
        match (c, it.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str("${");
                out.push(*d);
                out.push('}');
                it.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// `replace-header` (whole value, `whole`) or `replace-value` (each
/// comma-separated value) on every header named `name`.
pub fn replace_values(
    e: &mut HeadEdit,
    name: &str,
    regex: &str,
    rep: &str,
    whole: bool,
) -> Result<(), EditError> {
    // Checked at parse time; an invalid one here changes nothing.
    let Ok(re) = regex::bytes::Regex::new(&format!("^(?:{regex})$")) else {
        return Ok(());
    };
    let rep = replacement(rep);
    let mut i = 0;
    while i < e.hdrs.len() {
        if !e.name_is(i, name.as_bytes()) {
            i += 1;
            continue;
        }
        let Some(h) = e.hdrs.get(i).copied() else {
            break;
        };
        let value = h.value.get(e.bytes()).to_vec();
        let new: Vec<u8> = if whole {
            re.replace(&value, rep.as_bytes()).into_owned()
        } else {
            let parts: Vec<Vec<u8>> = value
                .split(|&c| c == b',')
                .map(|p| {
                    let t = p.trim_ascii();
                    re.replace(t, rep.as_bytes()).into_owned()
                })
                .collect();
            parts.join(&b", "[..])
        };
        if new != value {
            e.replace(h.value.off as usize, h.value.len as usize, &new)?;
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_query_of_origin_and_absolute_forms() {
        assert_eq!(split_path(b"/a/b?x=1"), (&b"/a/b"[..], &b"?x=1"[..]));
        assert_eq!(split_path(b"http://h:80/p?q"), (&b"/p"[..], &b"?q"[..]));
        assert_eq!(split_path(b"http://h"), (&b""[..], &b""[..]));
        assert_eq!(split_path(b"*"), (&b"*"[..], &b""[..]));
    }

    #[test]
    fn back_references_are_translated() {
        assert_eq!(replacement("\\1-\\2$"), "${1}-${2}$$");
    }
}
