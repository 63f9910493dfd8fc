//! AN_REQ_SWITCHING_RULES: the frontend's `use_backend` rules (static or
//! log-format names) and `default_backend` pick the stream's backend
//! (configuration.txt 4.2, use_backend).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::{Stream, StreamCtx, backend, rules_env, set_backend};
use crate::channel::AnFlags;

/// AN_REQ_SWITCHING_RULES: picks the backend (the frontend's default one:
/// `use_backend` without condition, `default_backend`, or itself for a
/// `listen`), then sets the stream up for it.
pub(super) fn process_switching_rules(s: &mut Stream, cx: &mut StreamCtx) {
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
        // TCP: the server rules run now (HTTP runs them after the
        // backend's http-request rules).
        if s.txn.is_none() {
            backend::process_server_rules(s, cx);
        }
    }
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
