//! AN_REQ_SWITCHING_RULES: the frontend's `use_backend` rules (static or
//! log-format names) and `default_backend` pick the stream's backend
//! (configuration.txt 4.2, use_backend).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::{Finst, SfFlags, Stream, StreamCtx, backend, rules_env, set_backend};
use crate::cfg::model::Mode;
use crate::channel::{AnFlags, CfFlags};
use crate::http::ana::FE_REQ_ANA;

/// AN_REQ_SWITCHING_RULES: picks the backend (the frontend's default one:
/// `use_backend` without condition, `default_backend`, or itself for a
/// `listen`), then sets the stream up for it. Returns false when the
/// analysers must start over (the stream was upgraded to HTTP) or stop
/// (it was aborted).
pub(super) fn process_switching_rules(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    s.req.analysers.remove(AnFlags::REQ_SWITCHING_RULES);
    let rules = cx
        .proxies
        .get(s.fe)
        .map(|p| std::rc::Rc::clone(&p.switch_rules));
    let chosen = match rules {
        Some(r) if !r.is_empty() => eval_switching_rules(s, cx, &r),
        _ => None,
    };
    let be = chosen.or_else(|| cx.proxies.get(s.fe).and_then(|p| p.default_backend));
    if let Some(b) = be {
        set_backend(s, b, cx.proxies);
        let modes = |i: usize| cx.proxies.get(i).map(|p| p.mode);
        match (modes(s.fe), modes(b), s.txn.is_some()) {
            // A TCP frontend's stream with an HTTP backend becomes an HTTP
            // stream, as in HAProxy 2.6.
            (Some(Mode::Tcp), Some(Mode::Http), false) => {
                upgrade_to_http(s, cx);
                return false;
            }
            // A later request of an upgraded connection sent to a TCP
            // backend: 2.6 cannot go back, it closes (`IR`).
            (Some(Mode::Tcp), Some(Mode::Tcp), true) => {
                s.set_term('I', Finst::Request);
                // Nothing more to analyse: no reply, the client is closed.
                s.req.analysers = AnFlags::empty();
                s.res.analysers = AnFlags::empty();
                super::abort_stream(s, cx);
                return false;
            }
            _ => {}
        }
        // TCP: the server rules run now (HTTP runs them after the
        // backend's http-request rules).
        if s.txn.is_none() {
            backend::process_server_rules(s, cx);
        }
    }
    true
}

/// Gives a TCP frontend's stream an HTTP transaction and the request
/// analysers of an HTTP stream: the request is parsed as HTTP, then the
/// frontend's `http-request` rules (2.6 runs them, though it warns they
/// are ignored) and the backend's run before it connects.
fn upgrade_to_http(s: &mut Stream, cx: &mut StreamCtx) {
    // The first transaction of the connection: it counts from the accept.
    s.txn = Some(cx.http.new_txn(s.t_accept, true));
    s.flags.insert(SfFlags::HTTP_UPGRADED);
    s.req
        .analysers
        .insert(FE_REQ_ANA.difference(AnFlags::REQ_SWITCHING_RULES));
    // It connects once the request is analysed, not at once as TCP does.
    s.req.flags.remove(CfFlags::AUTO_CONNECT);
    s.req.to_forward = 0;
}

/// The backend the first matching `use_backend` rule names. A dynamic name
/// that matches no backend ends the evaluation (the default backend is
/// used), as HAProxy 2.6 does.
fn eval_switching_rules(
    s: &mut Stream,
    cx: &mut StreamCtx,
    rules: &[crate::proxy::SwitchRule],
) -> Option<usize> {
    // A TCP stream's data is read as a request too (`use_backend b if HTTP`).
    let want = rules_env::Want {
        req: Some(crate::http::ana::req_opts(s, cx)),
        ..Default::default()
    };
    rules_env::with_rules(s, cx, want, |env, ecx| {
        let mut name = String::new();
        for r in rules {
            if let Some(c) = &r.cond
                && !c.test(env, ecx)
            {
                continue;
            }
            let Some(lf) = &r.dynamic else {
                return r.be;
            };
            env.render(lf, ecx, &mut name);
            return env
                .proxies
                .iter()
                .position(|p| p.is_be && !p.internal && p.name == name);
        }
        None
    })
}
