//! AN_REQ_INSPECT_FE: the frontend's `tcp-request connection`, `session`
//! and `content` rules (configuration.txt 4.2), run before the backend is
//! chosen.
//!
//! ```text
//!   first call: connection rules, then session rules (reject: close, no log)
//!   content rules, in order:
//!     condition Miss (data may still change) and delay left -> wait
//!     condition Pass -> accept: done | reject: close (PR) | set-var: go on
//!   inspect-delay expired, buffer full or client closed: Miss counts as Fail
//! ```
//!
//! A wait restarts the content rules from the first one once more data
//! came in (`set-var` actions before it run again with the same result).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::rules_env::{Want, with_rules};
use super::{Finst, SfFlags, Stream, StreamCtx, abort_stream};
use crate::cfg::tcp_rules::{TcpAction, TcpRule};
use crate::channel::{AnFlags, CfFlags};
use crate::rules::acl::AclRes;
use crate::ticks::{ETERNITY, tick_add_ifset, tick_is_expired, tick_isset};
use std::rc::Rc;

/// What a rule set decided.
enum Verdict {
    /// No rule stopped the evaluation, or `accept`.
    Go,
    Reject,
    /// `tcp-response content close`: the server side closes, what it sent
    /// still reaches the client.
    CloseServer,
    /// A condition needs more data.
    Wait,
}

/// Runs the rules; returns true when the analyser is done (the stream goes
/// on), false while waiting or after a rejection (the stream is aborted).
pub fn inspect_fe(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let Some(tcp) = cx.proxies.get(s.fe).map(|p| p.tcp.clone()) else {
        s.req.analysers.remove(AnFlags::REQ_INSPECT_FE);
        return true;
    };
    if !s.flags.contains(SfFlags::L4_RULES_DONE) {
        s.flags.insert(SfFlags::L4_RULES_DONE);
        // The connection rules ran at accept time (`engine::conn_rules`).
        if let Verdict::Reject = run(s, cx, &tcp.session, true) {
            // Refused before the session exists: counted, not logged.
            s.flags.insert(SfFlags::NO_LOG);
            if let Some(fe) = cx.proxies.get_mut(s.fe) {
                fe.denied_conn += 1;
            }
            abort_stream(s, cx);
            return false;
        }
    }
    if tcp.content.is_empty() {
        done(s);
        return true;
    }
    let expired = inspect_window(&mut s.req, tcp.inspect_delay, cx.clock.now);
    match run(s, cx, &tcp.content, expired) {
        Verdict::Wait => false,
        // `close` exists on the response side only.
        Verdict::Go | Verdict::CloseServer => {
            done(s);
            true
        }
        Verdict::Reject => {
            s.set_term('P', Finst::Request);
            if let Some(fe) = cx.proxies.get_mut(s.fe) {
                fe.denied += 1;
            }
            abort_stream(s, cx);
            false
        }
    }
}

/// AN_RES_INSPECT: the backend's `tcp-response content` rules on the
/// response data. Returns true when done (the response flows), false while
/// waiting or once the stream was closed.
pub fn inspect_be_res(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let Some(tcp) = s.be.and_then(|b| cx.proxies.get(b)).map(|p| p.tcp.clone()) else {
        s.res.analysers.remove(AnFlags::RES_INSPECT);
        return true;
    };
    let expired = inspect_window(&mut s.res, tcp.res_inspect_delay, cx.clock.now);
    let verdict = run_set(s, cx, &tcp.res_content, expired, false);
    match verdict {
        Verdict::Wait => false,
        Verdict::Go | Verdict::CloseServer => {
            s.res.analysers.remove(AnFlags::RES_INSPECT);
            s.res.analyse_exp = ETERNITY;
            if s.txn.is_none() {
                s.res.forward_forever();
            }
            if let Verdict::CloseServer = verdict {
                super::close_side(s, super::Side::Back, false, cx);
            }
            true
        }
        Verdict::Reject => {
            s.set_term('P', Finst::Data);
            abort_stream(s, cx);
            false
        }
    }
}

/// Arms a channel's inspect delay on first use; true when no more waiting
/// is possible: no delay, delay over, input closed, or buffer full.
fn inspect_window(chn: &mut crate::channel::Channel, delay: u32, now: crate::ticks::Tick) -> bool {
    if delay > 0 && !tick_isset(chn.analyse_exp) {
        chn.analyse_exp = tick_add_ifset(now, delay);
    }
    delay == 0
        || tick_is_expired(chn.analyse_exp, now)
        || chn.flags.intersects(CfFlags::SHUTR | CfFlags::READ_ERROR)
        || chn.buf.as_ref().is_some_and(|b| b.room() == 0)
}

/// The rules let the stream go on: a TCP stream may connect now (an HTTP
/// one waits for its request first).
fn done(s: &mut Stream) {
    s.req.analysers.remove(AnFlags::REQ_INSPECT_FE);
    s.req.analyse_exp = ETERNITY;
    if !s.req.analysers.contains(AnFlags::REQ_WAIT_HTTP) {
        s.req.flags.insert(CfFlags::AUTO_CONNECT);
    }
}

/// Evaluates one request-side rule set.
fn run(s: &mut Stream, cx: &mut StreamCtx, rules: &Rc<Vec<TcpRule>>, expired: bool) -> Verdict {
    run_set(s, cx, rules, expired, true)
}

/// Evaluates one rule set (`req`: the request data is read as HTTP too).
fn run_set(
    s: &mut Stream,
    cx: &mut StreamCtx,
    rules: &Rc<Vec<TcpRule>>,
    expired: bool,
    req: bool,
) -> Verdict {
    // HTTP fetches work on a TCP stream too: its data is parsed as a
    // request (`tcp-request content accept if HTTP`).
    let want = Want {
        inspect_expired: expired,
        req: req.then_some(crate::http::parse::ParseOpts {
            maxhdr: cx.http.maxhdr,
            accept_invalid: false,
            req_method: crate::http::parse::Method::Get,
        }),
        ..Default::default()
    };
    with_rules(s, cx, want, |env, ecx| {
        for r in rules.iter() {
            if let Some(c) = &r.cond {
                match c.eval(env, ecx) {
                    AclRes::Miss if !expired => return Verdict::Wait,
                    AclRes::Miss => {
                        if !c.test(env, ecx) {
                            continue;
                        }
                    }
                    AclRes::Fail => continue,
                    AclRes::Pass => {}
                }
            }
            match &r.action {
                TcpAction::Accept => return Verdict::Go,
                TcpAction::Reject => return Verdict::Reject,
                TcpAction::Close => return Verdict::CloseServer,
                TcpAction::SetVar(v, e) => {
                    if let Some(smp) = e.eval(env, ecx) {
                        ecx.vars.set(*v, &smp);
                        smp.recycle(ecx.pool);
                    }
                }
                TcpAction::UnsetVar(v) => ecx.vars.unset(*v),
                // Handled at accept time (`engine::conn_rules`).
                TcpAction::ExpectProxy => {}
            }
        }
        Verdict::Go
    })
}
