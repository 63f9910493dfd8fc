//! `http-request` and `http-response` actions (configuration.txt 4.2,
//! http-request / http-response), applied in order to a parsed head.
//!
//! Conditions (`if`/`unless` with ACLs) come with the rules engine; the
//! configuration keeps only unconditional rules (and resolves `if TRUE` /
//! `if FALSE` at parse time). Each action is one arm of `apply`: a new
//! action is a new arm, and a final one (`deny`, `return`, `redirect`,
//! `tarpit`) answers the client instead of forwarding.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::hdr::{EditError, HeadEdit};
use super::parse::{Kind, ParseOpts};
use super::reply;
use super::txn::TxnFlags;
use crate::cfg::model::HttpAction;
use crate::stream::{Finst, Stream, StreamCtx};

/// What one action did.
enum Outcome {
    /// Go on with the next rule.
    Continue,
    /// Stop evaluating rules, forward the message (`allow`).
    Stop,
    /// The client was answered (or the message rejected): stop everything.
    Replied,
}

/// Runs proxy `px`'s `http-request` rules on the request head. Returns
/// false when the client was answered instead.
pub fn run_req_rules(s: &mut Stream, cx: &mut StreamCtx, px: usize, opts: ParseOpts) -> bool {
    run(s, cx, px, opts, Kind::Request)
}

/// Runs proxy `px`'s `http-response` rules on the response head.
pub fn run_res_rules(s: &mut Stream, cx: &mut StreamCtx, px: usize, opts: ParseOpts) -> bool {
    run(s, cx, px, opts, Kind::Response)
}

fn run(s: &mut Stream, cx: &mut StreamCtx, px: usize, opts: ParseOpts, kind: Kind) -> bool {
    let n = cx.proxies.get(px).map_or(0, |p| match kind {
        Kind::Request => p.http.req_rules.len(),
        Kind::Response => p.http.res_rules.len(),
    });
    for i in 0..n {
        // Rules are cloned one at a time only when a proxy has any; the
        // common path (no rule) costs nothing.
        let Some(rule) = cx.proxies.get(px).and_then(|p| match kind {
            Kind::Request => p.http.req_rules.get(i).cloned(),
            Kind::Response => p.http.res_rules.get(i).cloned(),
        }) else {
            break;
        };
        match apply(s, cx, &rule, opts, kind) {
            Ok(Outcome::Continue) => {}
            Ok(Outcome::Stop) => break,
            Ok(Outcome::Replied) => return false,
            Err(_) => {
                // A rewrite that does not fit: 500 for a request, 502 for a
                // response, as HAProxy answers a failed rewrite.
                let status = if kind == Kind::Request { 500 } else { 502 };
                s.set_term(
                    'P',
                    if kind == Kind::Request {
                        Finst::Request
                    } else {
                        Finst::Header
                    },
                );
                if kind == Kind::Response {
                    reply::close_server(s, cx, true);
                }
                reply::reply_error(s, cx, status);
                return false;
            }
        }
    }
    true
}

fn apply(
    s: &mut Stream,
    cx: &mut StreamCtx,
    rule: &HttpAction,
    opts: ParseOpts,
    kind: Kind,
) -> Result<Outcome, EditError> {
    match rule {
        HttpAction::Allow => return Ok(Outcome::Stop),
        HttpAction::Deny { status } => {
            deny(s, cx, kind);
            reply::reply_error(s, cx, *status);
            return Ok(Outcome::Replied);
        }
        HttpAction::Tarpit { status } => {
            deny(s, cx, kind);
            super::ana::start_tarpit(s, cx, *status);
            return Ok(Outcome::Replied);
        }
        HttpAction::Redirect { .. } | HttpAction::Return { .. } => {
            let msg = super::redirect::build(s, cx, rule, opts);
            let status = super::redirect::status_of(rule);
            // Answered locally: `LR` (or `LH` on a response).
            s.set_term(
                'L',
                if kind == Kind::Request {
                    Finst::Request
                } else {
                    Finst::Header
                },
            );
            if kind == Kind::Response {
                reply::close_server(s, cx, false);
            }
            reply::reply_msg(s, cx, status, &msg, reply::After::KeepAlive);
            return Ok(Outcome::Replied);
        }
        _ => {}
    }
    let chn = match kind {
        Kind::Request => &mut s.req,
        Kind::Response => &mut s.res,
    };
    let Some(b) = chn.buf.as_mut() else {
        return Ok(Outcome::Continue);
    };
    let mut e = HeadEdit::open(b, kind, opts, &mut cx.http.hdrs)?;
    match rule {
        HttpAction::SetHeader { name, value } => e.set(name.as_bytes(), value.as_bytes())?,
        HttpAction::AddHeader { name, value } => e.add(name.as_bytes(), value.as_bytes())?,
        HttpAction::DelHeader { name } => {
            e.del(name.as_bytes())?;
        }
        HttpAction::ReplaceHeader {
            name,
            regex,
            replace,
        } => super::redirect::replace_values(&mut e, name, regex, replace, true)?,
        HttpAction::ReplaceValue {
            name,
            regex,
            replace,
        } => super::redirect::replace_values(&mut e, name, regex, replace, false)?,
        HttpAction::SetPath(p) => {
            let u = e.head.uri;
            let uri = u.get(e.bytes()).to_vec();
            let (path, rest) = super::redirect::split_path(&uri);
            let mut new = Vec::with_capacity(uri.len() + p.len());
            let before = uri.len().saturating_sub(path.len() + rest.len());
            new.extend_from_slice(uri.get(..before).unwrap_or(&[]));
            new.extend_from_slice(p.as_bytes());
            new.extend_from_slice(rest);
            e.set_uri(&new)?;
        }
        HttpAction::SetQuery(q) => {
            let u = e.head.uri;
            let uri = u.get(e.bytes()).to_vec();
            let end = memchr::memchr(b'?', &uri).unwrap_or(uri.len());
            let mut new = uri.get(..end).unwrap_or(&uri).to_vec();
            if !q.is_empty() {
                new.push(b'?');
                new.extend_from_slice(q.as_bytes());
            }
            e.set_uri(&new)?;
        }
        HttpAction::SetUri(u) => e.set_uri(u.as_bytes())?,
        HttpAction::SetMethod(m) => e.set_method(m.as_bytes())?,
        HttpAction::Allow
        | HttpAction::Deny { .. }
        | HttpAction::Tarpit { .. }
        | HttpAction::Redirect { .. }
        | HttpAction::Return { .. } => {}
    }
    let len = e.head.len;
    let method = e.head.method;
    if let Some(txn) = s.txn.as_mut() {
        match kind {
            Kind::Request => {
                txn.req.head_len = len;
                txn.meth = Some(method);
            }
            Kind::Response => txn.res.head_len = len,
        }
    }
    Ok(Outcome::Continue)
}

/// Counts a denied request or response on the frontend.
fn deny(s: &mut Stream, cx: &mut StreamCtx, kind: Kind) {
    if let Some(txn) = s.txn.as_mut() {
        txn.flags.insert(TxnFlags::DENIED);
    }
    if let Some(fe) = cx.proxies.get_mut(s.fe) {
        match kind {
            Kind::Request => fe.denied += 1,
            Kind::Response => fe.http_stats.denied_resp += 1,
        }
    }
    s.set_term(
        'P',
        if kind == Kind::Request {
            Finst::Request
        } else {
            Finst::Header
        },
    );
}
