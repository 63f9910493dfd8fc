//! `http-request` and `http-response` actions (configuration.txt 4.2,
//! http-request / http-response), applied in order to a parsed head.
//!
//! A rule with a condition is applied when the condition holds on the
//! head being analysed (`cond_holds`). Each action is one arm of `apply`: a new
//! action is a new arm, and a final one (`deny`, `return`, `redirect`,
//! `tarpit`) answers the client instead of forwarding.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::hdr::{EditError, HeadEdit};
use super::parse::{Kind, ParseOpts};
use super::reply;
use super::txn::TxnFlags;
use crate::cfg::model::{Fmt, HttpAction};
use crate::rules::acl::Cond;
use crate::stream::rules_env::{Want, with_rules};
use crate::stream::{Finst, Stream, StreamCtx};
use std::rc::Rc;

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

/// Runs the `http-after-response` rules on the response head at the start
/// of the response input (the server's, or the proxy's own reply): the
/// backend's, then the frontend's, as 2.6 does. Edits that do not fit are
/// skipped.
pub fn run_after_rules(s: &mut Stream, cx: &mut StreamCtx) {
    let opts = ParseOpts {
        maxhdr: cx.http.maxhdr,
        accept_invalid: true,
        req_method: s
            .txn
            .as_ref()
            .and_then(|t| t.meth)
            .unwrap_or(super::parse::Method::Get),
    };
    let fe = s.fe;
    let pxs = [s.be.filter(|b| *b != fe), Some(fe)];
    for px in pxs.into_iter().flatten() {
        let Some(rules) = cx.proxies.get(px).map(|p| Rc::clone(&p.http.after_rules)) else {
            continue;
        };
        for rule in rules.iter() {
            if let Some(c) = &rule.cond
                && !cond_holds(s, cx, c, opts, Kind::Response)
            {
                continue;
            }
            match apply(s, cx, &rule.action, opts, Kind::Response) {
                Ok(Outcome::Continue) | Err(_) => {}
                Ok(Outcome::Stop | Outcome::Replied) => break,
            }
        }
    }
}

fn run(s: &mut Stream, cx: &mut StreamCtx, px: usize, opts: ParseOpts, kind: Kind) -> bool {
    // The list is shared with the proxy: holding it costs a count, not a
    // copy, and leaves `cx` free for the actions.
    let Some(rules) = cx.proxies.get(px).map(|p| match kind {
        Kind::Request => Rc::clone(&p.http.req_rules),
        Kind::Response => Rc::clone(&p.http.res_rules),
    }) else {
        return true;
    };
    for rule in rules.iter() {
        if let Some(c) = &rule.cond
            && !cond_holds(s, cx, c, opts, kind)
        {
            continue;
        }
        match apply(s, cx, &rule.action, opts, kind) {
            Ok(Outcome::Continue) => {}
            Ok(Outcome::Stop) => break,
            Ok(Outcome::Replied) => return false,
            Err(_)
                if s.txn
                    .as_ref()
                    .is_some_and(|t| t.flags.contains(TxnFlags::LAX_REWRITE)) => {}
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
        HttpAction::SetLogLevel(l) => {
            if let Some(t) = s.txn.as_mut() {
                t.log_level = Some(*l);
            }
            return Ok(Outcome::Continue);
        }
        HttpAction::SetTimeout { tunnel, ms, expr } => {
            let v = match (ms, expr) {
                (Some(ms), _) => Some(*ms),
                (None, Some(e)) => with_rules(s, cx, want(kind, opts), |env, ecx| {
                    match e
                        .eval(env, ecx)?
                        .cast(crate::rules::sample::SmpType::Sint, ecx.pool)?
                        .data
                    {
                        crate::rules::sample::Smp::Sint(n) => u32::try_from(n).ok(),
                        _ => None,
                    }
                }),
                (None, None) => None,
            };
            if let (Some(v), Some(t)) = (v, s.txn.as_mut()) {
                if *tunnel {
                    t.timeout_tunnel = Some(v);
                } else {
                    t.timeout_server = Some(v);
                }
            }
            return Ok(Outcome::Continue);
        }
        HttpAction::StrictMode(on) => {
            if let Some(t) = s.txn.as_mut() {
                t.flags.set(TxnFlags::LAX_REWRITE, !on);
            }
            return Ok(Outcome::Continue);
        }
        HttpAction::WaitForHandshake => return Ok(Outcome::Continue),
        HttpAction::SetMark(_) | HttpAction::SetTos(_) => {
            let fd = s.si[0]
                .conn()
                .and_then(|c| cx.io.conns.get(c))
                .map(|c| c.fd);
            if let Some(fd) = fd {
                use crate::conn::sock::setsockopt_int;
                let _ = match rule {
                    HttpAction::SetMark(m) => {
                        setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_MARK, *m as i32)
                    }
                    HttpAction::SetTos(t) => {
                        setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TOS, i32::from(*t))
                    }
                    _ => Ok(()),
                };
            }
            return Ok(Outcome::Continue);
        }
        HttpAction::SetSrc(e) | HttpAction::SetDst(e) => {
            let ip = with_rules(s, cx, want(kind, opts), |env, ecx| {
                let smp = e
                    .eval(env, ecx)?
                    .cast(crate::rules::sample::SmpType::Addr, ecx.pool)?;
                match smp.data {
                    crate::rules::sample::Smp::Ipv4(a) => Some(std::net::IpAddr::V4(a)),
                    crate::rules::sample::Smp::Ipv6(a) => Some(std::net::IpAddr::V6(a)),
                    _ => None,
                }
            });
            if let Some(ip) = ip {
                let slot = if matches!(rule, HttpAction::SetSrc(_)) {
                    &mut s.cli_addr
                } else {
                    &mut s.frt_addr
                };
                let port = slot.map_or(0, |a| a.port());
                *slot = Some(std::net::SocketAddr::new(ip, port));
            }
            return Ok(Outcome::Continue);
        }
        HttpAction::Capture {
            expr,
            slot,
            len,
            res,
        } => {
            // `id <n>`: the frontend's declared slot says how much is kept.
            let len = len
                .or_else(|| {
                    let fe = cx.proxies.get(s.fe)?;
                    let caps = if *res {
                        &fe.http.res_captures
                    } else {
                        &fe.http.req_captures
                    };
                    caps.get(*slot).map(|c| c.len)
                })
                .unwrap_or(0);
            let v = with_rules(s, cx, want(kind, opts), |env, ecx| {
                let smp = expr
                    .eval(env, ecx)?
                    .cast(crate::rules::sample::SmpType::Str, ecx.pool)?;
                let b = smp.bytes().map(|b| b.get(..len).unwrap_or(b).to_vec());
                smp.recycle(ecx.pool);
                b
            });
            if let (Some(v), Some(t)) = (v, s.txn.as_mut()) {
                let caps = if *res {
                    &mut t.res_caps
                } else {
                    &mut t.req_caps
                };
                if caps.len() <= *slot {
                    caps.resize(*slot + 1, None);
                }
                if let Some(c) = caps.get_mut(*slot) {
                    *c = Some(v);
                }
            }
            return Ok(Outcome::Continue);
        }
        HttpAction::NormalizeUri(n) => {
            let Some(b) = s.req.buf.as_mut() else {
                return Ok(Outcome::Continue);
            };
            let mut e = HeadEdit::open(b, kind, opts, &mut cx.http.hdrs)?;
            let u = e.head.uri;
            let uri = u.get(e.bytes()).to_vec();
            match n.apply(&uri) {
                Ok(new) if new != uri => e.set_uri(&new)?,
                Ok(_) => {}
                Err(crate::http::normalize::BadEscape) => {
                    // `strict`: a malformed escape makes the request invalid.
                    s.set_term('P', Finst::Request);
                    reply::reply_error(s, cx, 400);
                    return Ok(Outcome::Replied);
                }
            }
            let len = e.head.len;
            if let Some(t) = s.txn.as_mut() {
                t.req.head_len = len;
            }
            return Ok(Outcome::Continue);
        }
        HttpAction::SilentDrop => {
            deny(s, cx, kind);
            // The client must see nothing: in TCP repair mode a close sends
            // no packet (root only, as for HAProxy); otherwise a TTL of 1
            // keeps the reset from travelling beyond the first hop.
            if let Some(fd) = s.si[0]
                .conn()
                .and_then(|c| cx.io.conns.get(c))
                .map(|c| c.fd)
            {
                use crate::conn::sock::setsockopt_int;
                if setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_REPAIR, 1).is_err() {
                    let _ = setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TTL, 1);
                }
                // No clean close either: its shutdown(SHUT_WR) would send
                // a FIN even in repair mode.
                s.si[0].flags.insert(crate::si::SiFlags::NOLINGER);
            }
            crate::stream::abort_stream(s, cx);
            return Ok(Outcome::Replied);
        }
        HttpAction::Auth { realm } => {
            // Answered locally (`LR`, as 2.6 logs it), the connection kept.
            s.set_term('L', Finst::Request);
            let msg = crate::rules::auth::auth_reply(realm);
            reply::reply_msg(s, cx, 401, &msg, reply::After::KeepAlive);
            return Ok(Outcome::Replied);
        }
        HttpAction::Reject => {
            deny(s, cx, kind);
            crate::stream::abort_stream(s, cx);
            return Ok(Outcome::Replied);
        }
        HttpAction::SetVar { var, expr } => {
            let var = *var;
            with_rules(s, cx, want(kind, opts), |env, ecx| {
                if let Some(smp) = expr.eval(env, ecx) {
                    ecx.vars.set(var, &smp);
                    smp.recycle(ecx.pool);
                }
            });
            return Ok(Outcome::Continue);
        }
        HttpAction::SetVarFmt { var, fmt } => {
            let v = render_fmt(s, cx, fmt, kind, opts);
            let var = *var;
            with_rules(s, cx, Want::default(), |_, ecx| {
                ecx.vars
                    .set(var, &crate::rules::sample::Sample::str_ref(&v));
            });
            return Ok(Outcome::Continue);
        }
        HttpAction::UnsetVar(var) => {
            if let Some(v) = s.vars.as_mut() {
                v.unset(*var);
            }
            return Ok(Outcome::Continue);
        }
        HttpAction::Redirect {
            ignore_empty: true,
            target,
            ..
        } if render_fmt(s, cx, target, kind, opts).is_empty() => {
            return Ok(Outcome::Continue);
        }
        HttpAction::Redirect { .. } | HttpAction::Return { .. } => {
            let msg = super::redirect::build(s, cx, rule, kind, opts);
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
    // A value with `%` is rendered before the head is opened for edits.
    let rendered: Option<Vec<u8>> = match rule {
        HttpAction::SetHeader { value: f, .. }
        | HttpAction::AddHeader { value: f, .. }
        | HttpAction::SetPath(f)
        | HttpAction::SetPathq(f)
        | HttpAction::SetQuery(f)
        | HttpAction::SetUri(f)
        | HttpAction::SetMethod(f)
            if f.lf.is_some() =>
        {
            Some(render_fmt(s, cx, f, kind, opts))
        }
        _ => None,
    };
    let chn = match kind {
        Kind::Request => &mut s.req,
        Kind::Response => &mut s.res,
    };
    let Some(b) = chn.buf.as_mut() else {
        return Ok(Outcome::Continue);
    };
    let mut e = HeadEdit::open(b, kind, opts, &mut cx.http.hdrs)?;
    match rule {
        HttpAction::SetHeader { name, value } => e.set(name.as_bytes(), pick(&rendered, value))?,
        HttpAction::AddHeader { name, value } => e.add(name.as_bytes(), pick(&rendered, value))?,
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
            let p = pick(&rendered, p);
            let u = e.head.uri;
            let uri = u.get(e.bytes()).to_vec();
            let (path, rest) = super::redirect::split_path(&uri);
            let mut new = Vec::with_capacity(uri.len() + p.len());
            let before = uri.len().saturating_sub(path.len() + rest.len());
            new.extend_from_slice(uri.get(..before).unwrap_or(&[]));
            new.extend_from_slice(p);
            new.extend_from_slice(rest);
            e.set_uri(&new)?;
        }
        HttpAction::SetPathq(p) => {
            let p = pick(&rendered, p);
            let u = e.head.uri;
            let uri = u.get(e.bytes()).to_vec();
            let (path, rest) = super::redirect::split_path(&uri);
            let before = uri.len().saturating_sub(path.len() + rest.len());
            let mut new = uri.get(..before).unwrap_or(&[]).to_vec();
            new.extend_from_slice(p);
            e.set_uri(&new)?;
        }
        HttpAction::SetQuery(q) => {
            let q = pick(&rendered, q);
            let u = e.head.uri;
            let uri = u.get(e.bytes()).to_vec();
            let end = memchr::memchr(b'?', &uri).unwrap_or(uri.len());
            let mut new = uri.get(..end).unwrap_or(&uri).to_vec();
            if !q.is_empty() {
                new.push(b'?');
                new.extend_from_slice(q);
            }
            e.set_uri(&new)?;
        }
        HttpAction::SetUri(u) => e.set_uri(pick(&rendered, u))?,
        HttpAction::SetMethod(m) => e.set_method(pick(&rendered, m))?,
        HttpAction::SetStatus { status, reason } => {
            let r = reason
                .as_deref()
                .unwrap_or_else(|| super::redirect::reason(*status));
            e.set_status(*status, r.as_bytes())?;
            if let Some(t) = s.txn.as_mut() {
                t.status = *status;
            }
        }
        HttpAction::Allow
        | HttpAction::Deny { .. }
        | HttpAction::Tarpit { .. }
        | HttpAction::Redirect { .. }
        | HttpAction::Return { .. }
        | HttpAction::Reject
        | HttpAction::Auth { .. }
        | HttpAction::SetLogLevel(_)
        | HttpAction::SetTimeout { .. }
        | HttpAction::Capture { .. }
        | HttpAction::SetSrc(_)
        | HttpAction::SetDst(_)
        | HttpAction::SetMark(_)
        | HttpAction::SetTos(_)
        | HttpAction::StrictMode(_)
        | HttpAction::WaitForHandshake
        | HttpAction::SilentDrop
        | HttpAction::NormalizeUri(_)
        | HttpAction::SetVar { .. }
        | HttpAction::SetVarFmt { .. }
        | HttpAction::UnsetVar(_) => {}
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

/// The rendered value when there is one, else the string as written.
fn pick<'v>(rendered: &'v Option<Vec<u8>>, f: &'v Fmt) -> &'v [u8] {
    rendered.as_deref().unwrap_or(f.raw.as_bytes())
}

/// The value of a log-format string for this stream: as written when it
/// has no `%`, else rendered over the head being analysed.
pub fn render_fmt(
    s: &mut Stream,
    cx: &mut StreamCtx,
    f: &Fmt,
    kind: Kind,
    opts: ParseOpts,
) -> Vec<u8> {
    let Some(lf) = f.lf.as_deref() else {
        return f.raw.as_bytes().to_vec();
    };
    let mut out = Vec::new();
    with_rules(s, cx, want(kind, opts), |env, ecx| {
        env.render_bytes(lf, ecx, &mut out)
    });
    out
}

/// Runs `f` over the message a rule of `kind` analyses.
pub fn with_rules_for<R>(
    s: &mut Stream,
    cx: &mut StreamCtx,
    kind: Kind,
    opts: ParseOpts,
    f: impl FnOnce(&crate::stream::rules_env::StreamEnv<'_>, &mut crate::rules::expr::EvalCx<'_>) -> R,
) -> R {
    with_rules(s, cx, want(kind, opts), f)
}

/// The head a rule reads: the request's, or for response rules the
/// response's (the request head was forwarded).
fn want(kind: Kind, opts: ParseOpts) -> Want {
    match kind {
        Kind::Request => Want {
            req: Some(opts),
            ..Default::default()
        },
        Kind::Response => Want {
            res: Some(opts),
            ..Default::default()
        },
    }
}

/// Evaluates a rule's condition on the message head being analysed.
fn cond_holds(s: &mut Stream, cx: &mut StreamCtx, c: &Cond, opts: ParseOpts, kind: Kind) -> bool {
    with_rules(s, cx, want(kind, opts), |env, ecx| c.test(env, ecx))
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
