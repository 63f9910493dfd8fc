//! `tcp-request connection` rules, run as HAProxy runs them: on the
//! accepted connection, before any byte is read and before a stream
//! exists (configuration.txt 4.2, tcp-request connection). Only the
//! connection's addresses and the frontend are known then.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::Engine;
use crate::cfg::tcp_rules::TcpAction;
use crate::rules::env::{Env, PxInfo};
use crate::rules::expr::EvalCx;
use crate::rules::vars::Vars;
use std::net::SocketAddr;

/// What the connection rules decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnVerdict {
    Accept,
    /// The connection waits for a PROXY protocol header first
    /// (`expect-proxy layer4`).
    ExpectProxy,
    Reject,
}

/// A connection not yet attached to a stream, as fetches see it.
struct ConnEnv<'a> {
    src: Option<SocketAddr>,
    /// The local address costs a syscall: read on first use only.
    fd: i32,
    dst: std::cell::OnceCell<Option<SocketAddr>>,
    fe: PxInfo<'a>,
}

impl Env for ConnEnv<'_> {
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        *self
            .dst
            .get_or_init(|| crate::conn::sock::local_addr(self.fd))
    }
    fn fe(&self) -> Option<PxInfo<'_>> {
        Some(self.fe)
    }
}

impl Engine {
    /// Runs frontend `fe`'s `tcp-request connection` rules for a client
    /// from `peer` on socket `fd`. Variables set here have no stream to
    /// live in yet and are dropped.
    pub(crate) fn conn_rules(
        &mut self,
        fe: usize,
        peer: Option<SocketAddr>,
        fd: i32,
    ) -> ConnVerdict {
        let Some(px) = self.proxies.get(fe) else {
            return ConnVerdict::Accept;
        };
        let rules = std::rc::Rc::clone(&px.tcp.connection);
        if rules.is_empty() {
            return ConnVerdict::Accept;
        }
        let env = ConnEnv {
            src: peer,
            fd,
            dst: std::cell::OnceCell::new(),
            fe: PxInfo {
                name: &px.name,
                id: i64::from(px.id),
            },
        };
        let mut vars = Vars::default();
        std::mem::swap(
            vars.scope_mut(crate::rules::vars::Scope::Proc),
            &mut self.rx.proc_vars,
        );
        let mut cx = EvalCx::new(&mut self.rx.pool, &self.rules, &mut vars);
        let mut verdict = ConnVerdict::Accept;
        for r in rules.iter() {
            if let Some(c) = &r.cond
                && !c.test(&env, &mut cx)
            {
                continue;
            }
            match &r.action {
                TcpAction::Accept | TcpAction::Close => break,
                TcpAction::Reject => {
                    verdict = ConnVerdict::Reject;
                    break;
                }
                TcpAction::ExpectProxy => verdict = ConnVerdict::ExpectProxy,
                TcpAction::SetVar(v, e) => {
                    if let Some(smp) = e.eval(&env, &mut cx) {
                        cx.vars.set(*v, &smp);
                        smp.recycle(cx.pool);
                    }
                }
                TcpAction::UnsetVar(v) => cx.vars.unset(*v),
            }
        }
        std::mem::swap(
            vars.scope_mut(crate::rules::vars::Scope::Proc),
            &mut self.rx.proc_vars,
        );
        verdict
    }
}
