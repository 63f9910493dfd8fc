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
    /// The connection, once it has a data layer (TLS fetches).
    conn: Option<&'a crate::conn::Connection>,
    /// Why it failed (`fc_err`), for its error log line.
    err: Option<crate::conn::HsErr>,
}

impl Env for ConnEnv<'_> {
    fn ssl_sock(&self, back: bool) -> Option<&crate::conn::ssl_sock::SslSock> {
        self.conn.filter(|_| !back)?.ssl_sock()
    }
    fn conn_err(&self) -> Option<crate::conn::HsErr> {
        self.err
    }
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn pp(&self) -> Option<&crate::conn::proxy_hdr::PpRcvd> {
        self.conn?.pp.as_ref()
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
            conn: None,
            err: None,
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

    /// The `error-log-format` line of connection `cid` of frontend `fe`,
    /// which failed before its stream existed with `err`. None when the
    /// frontend has no such format.
    pub(crate) fn error_log_line(
        &mut self,
        fe: usize,
        cid: crate::arena::ConnId,
        is_ssl: bool,
        err: crate::conn::HsErr,
    ) -> Option<String> {
        use crate::log::format::{LogAddr, LogVars};
        let px = self.proxies.get(fe)?;
        let lf = std::rc::Rc::clone(px.http.error_log_lf.as_ref()?);
        let conn = self.io.conns.get(cid)?;
        let env = ConnEnv {
            src: conn.peer,
            fd: conn.fd,
            dst: std::cell::OnceCell::new(),
            fe: PxInfo {
                name: &px.name,
                id: i64::from(px.id),
            },
            conn: Some(conn),
            err: Some(err),
        };
        let ssl = conn.ssl();
        let base = LogVars {
            client: conn.peer.map(LogAddr::Inet),
            frontend_addr: conn.local.map(LogAddr::Inet),
            frontend: &px.name,
            is_ssl,
            ssl_version: ssl.map(|s| s.version_str()),
            ssl_cipher: ssl.map(|s| s.current_cipher().map_or("(NONE)", |c| c.name())),
            backend: &px.name,
            server: "<NOSRV>",
            accept_date: conn.accept_date,
            request_date: conn.accept_date,
            status: 0,
            pid: crate::process::pid(),
            ..Default::default()
        };
        let mut vars = Vars::default();
        let mut cx = EvalCx::new(&mut self.rx.pool, &self.rules, &mut vars);
        let texts = lf.eval_samples(&env, &mut cx);
        let samples: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
        let v = LogVars {
            samples: &samples,
            ..base
        };
        let mut line = String::with_capacity(128);
        lf.fmt.render(&v, &mut line);
        Some(line)
    }
}
