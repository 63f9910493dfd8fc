//! Proxies (frontends, backends, listens) and servers at run time.
//!
//! Built once from the typed config. A backend owns its servers, its LB state
//! and its queue of streams waiting for a server slot. Counters feed the logs
//! and the stats.

pub mod lb;

use crate::cfg::model::{Balance, LogCfg, Mode, ProxyCfg, ProxyOpts, Timeouts};
use std::collections::VecDeque;
use std::net::SocketAddr;

/// A server's administrative/operational state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrvState {
    Up,
    /// Up but takes no new traffic (CLI `set server ... state drain`).
    Drain,
    Down,
    Maint,
}

/// A server at run time.
#[derive(Debug)]
pub struct Server {
    pub name: String,
    pub id: u32,
    pub addr: SocketAddr,
    /// The port came from the config (a server without port uses the client's
    /// destination port).
    pub has_port: bool,
    pub weight: u32,
    /// Initial weight from the config (`set weight N%` is relative to it).
    pub iweight: u32,
    pub maxconn: u32,
    pub maxqueue: u32,
    pub backup: bool,
    pub state: SrvState,
    /// Streams currently using this server (connecting or established).
    pub cur_sess: u32,
    pub max_sess: u32,
    /// Streams queued for this server specifically.
    pub queue: VecDeque<crate::arena::PendId>,
    pub cum_sess: u64,
    pub failed_conns: u64,
    pub retries: u64,
    pub redispatches: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Smooth weighted round-robin state.
    pub rr_current: i64,
    /// The PROXY header sent to this server (HAProxy's `pp_opts`).
    pub pp_opts: crate::conn::proxy_send::PpOpts,
    /// Health-check state (servers with `check`).
    pub check: Option<crate::check::CheckState>,
    /// HTTP responses by class (`show stat` hrsp_*).
    pub http_stats: crate::http::HttpStats,
    /// Idle connections kept for reuse (`stream::reuse`), newest last.
    pub idle: Vec<crate::stream::reuse::IdleConn>,
    /// `pool-max-conn` (-1: no limit, 0: no pool).
    pub pool_max: i32,
    /// `pool-purge-delay` in ms.
    pub pool_purge_delay: u32,
    /// Connections in use by streams, for the purge (`stream::reuse`).
    pub conn_use: std::rc::Rc<crate::stream::reuse::ConnUse>,
    /// The most streams on this server since the last purge.
    pub peak_sess: u32,
    /// The purge's estimate of the connections this server needs.
    pub est_need: u32,
    /// When the next purge of the idle connections is due (0: none idle).
    pub next_purge: u64,
    /// Requests that took an idle connection (`show stat` reuse).
    pub reused: u64,
    /// `ssl`: TLS to this server.
    pub tls: Option<std::rc::Rc<crate::ssl::server::SrvTls>>,
    /// `sni <expr>`: the name sent in the TLS handshake.
    pub sni: Option<crate::rules::expr::SampleExpr>,
}

impl Server {
    /// A stream takes a slot on this server (`cur_sess`).
    #[inline]
    pub fn take_slot(&mut self) {
        self.cur_sess += 1;
        self.max_sess = self.max_sess.max(self.cur_sess);
        self.peak_sess = self.peak_sess.max(self.cur_sess);
        self.cum_sess += 1;
    }

    /// True when the server may take traffic.
    #[inline]
    pub fn usable(&self) -> bool {
        self.state == SrvState::Up && self.weight > 0
    }

    /// True when the server is at its maxconn.
    #[inline]
    pub fn full(&self) -> bool {
        self.maxconn > 0 && self.cur_sess >= self.maxconn
    }
}

/// An `http-error` reply with log-format parts, built for each error.
pub type ErrLf = (u16, std::rc::Rc<crate::cfg::model::HttpAction>);

/// A ready error message for a status.
pub type ErrMsg = (u16, Box<[u8]>);

/// The error messages of `errorfile`, `errorloc*`, `errorfiles` and
/// `http-error` (already expanded and checked by the configuration), by
/// status; a later entry for a status wins, as in HAProxy. An `http-error`
/// with log-format parts goes to the second list, to build per error.
fn load_errmsgs(list: &[(u16, crate::cfg::model::ErrorSource)]) -> (Vec<ErrMsg>, Vec<ErrLf>) {
    use crate::cfg::model::{ErrorSource, HttpAction, ReturnBody};
    let mut out: Vec<ErrMsg> = Vec::new();
    let mut lf: Vec<ErrLf> = Vec::new();
    for (status, src) in list {
        let msg: Option<Box<[u8]>> = match src {
            ErrorSource::File(p) => p
                .to_str()
                .and_then(|p| crate::http::errors::load_errorfile(p).ok()),
            ErrorSource::Loc302(u) => Some(crate::http::errors::errorloc(302, u).into()),
            ErrorSource::Loc303(u) => Some(crate::http::errors::errorloc(303, u).into()),
            ErrorSource::Reply {
                content_type,
                body,
                hdrs,
            } => {
                let dynamic = hdrs.iter().any(|(_, v)| v.lf.is_some())
                    || matches!(body, ReturnBody::LfString(f) | ReturnBody::LfFile(f) if f.lf.is_some());
                if dynamic {
                    out.retain(|(st, _)| st != status);
                    lf.retain(|(st, _)| st != status);
                    let a = HttpAction::Return {
                        status: *status,
                        content_type: content_type.clone(),
                        body: body.clone(),
                        hdrs: hdrs.clone(),
                    };
                    lf.push((*status, std::rc::Rc::new(a)));
                    continue;
                }
                Some(http_error_reply(*status, content_type.as_deref(), body, hdrs).into())
            }
            ErrorSource::Section(_) => None,
        };
        if let Some(m) = msg {
            out.retain(|(st, _)| st != status);
            lf.retain(|(st, _)| st != status);
            out.push((*status, m));
        }
    }
    (out, lf)
}

/// The message of `http-error status <code> ...` without log-format
/// parts: built as `http-request return` builds its reply, in 2.6's order
/// (files are read at start-up).
fn http_error_reply(
    status: u16,
    content_type: Option<&str>,
    body: &crate::cfg::model::ReturnBody,
    hdrs: &[(String, crate::cfg::model::Fmt)],
) -> Vec<u8> {
    use crate::cfg::model::ReturnBody;
    let payload: Vec<u8> = match body {
        ReturnBody::String(t) => t.as_bytes().to_vec(),
        ReturnBody::LfString(t) | ReturnBody::LfFile(t) => t.raw.as_bytes().to_vec(),
        ReturnBody::File(p) => std::fs::read(p).unwrap_or_default(),
        ReturnBody::ErrorFile(p) => {
            return std::fs::read(p).unwrap_or_default();
        }
        ReturnBody::None | ReturnBody::ErrorFiles(_) | ReturnBody::DefaultErrorFiles => {
            return crate::http::errors::builtin_or_500(status).to_vec();
        }
    };
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status,
        crate::http::redirect::reason(status)
    )
    .into_bytes();
    for (n, v) in hdrs.iter().filter(|(_, v)| !v.raw.is_empty()) {
        out.extend_from_slice(format!("{}: {}\r\n", n.to_ascii_lowercase(), v.raw).as_bytes());
    }
    out.extend_from_slice(format!("content-length: {}\r\n", payload.len()).as_bytes());
    if let Some(ct) = content_type.filter(|_| !payload.is_empty()) {
        out.extend_from_slice(format!("content-type: {ct}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&payload);
    out
}

/// The log format a frontend renders its lines with: its `log-format`, or
/// in `mode http` the one `option httplog [clf]` stands for (HAProxy's own
/// format strings), parsed once here; `option tcplog` alone in `mode http`
/// logs its TCP line for each transaction, as 2.6 does. In `mode tcp`,
/// `option tcplog` keeps its own writer.
fn log_format_of(c: &ProxyCfg) -> Option<crate::log::format::LogFormat> {
    use crate::log::format::{CLF_FORMAT, HTTPLOG_FORMAT, LogFormat, TCPLOG_FORMAT};
    let http = c.mode == Mode::Http;
    match (c.http.log_format.as_deref(), c.http.httplog) {
        (Some(f), _) => LogFormat::parse_for_mode(f, http).ok(),
        (None, Some(clf)) if http => {
            LogFormat::parse(if clf { CLF_FORMAT } else { HTTPLOG_FORMAT }).ok()
        }
        (None, None) if http && c.opts.tcplog => LogFormat::parse(TCPLOG_FORMAT).ok(),
        _ => None,
    }
}

/// A `use_backend` rule at run time.
#[derive(Debug, Clone)]
pub struct SwitchRule {
    /// The backend, for a static name.
    pub be: Option<usize>,
    /// The name as a log-format, looked up per request.
    pub dynamic: Option<crate::rules::lf::Lf>,
    pub cond: Option<crate::rules::acl::Cond>,
}

/// A proxy at run time.
#[derive(Debug)]
pub struct Proxy {
    pub name: String,
    pub id: u32,
    pub is_fe: bool,
    pub is_be: bool,
    pub mode: Mode,
    pub timeouts: Timeouts,
    pub retries: u32,
    pub opts: ProxyOpts,
    pub balance: Balance,
    pub maxconn: u32,
    /// Index of the default backend (self for a listen with servers).
    pub default_backend: Option<usize>,
    /// `use_backend` rules, in order (shared: no copy per stream).
    pub switch_rules: std::rc::Rc<Vec<SwitchRule>>,
    /// `use-server` rules: server index and condition, in order.
    pub server_rules: std::rc::Rc<Vec<(usize, crate::rules::acl::Cond)>>,
    /// `force-persist` (true) / `ignore-persist` (false) rules.
    pub persist_rules: std::rc::Rc<Vec<(bool, crate::rules::acl::Cond)>>,
    pub servers: Vec<Server>,
    /// Streams waiting for any server of this backend.
    pub queue: VecDeque<crate::arena::PendId>,
    /// Analysers a stream accepted by this frontend starts with.
    pub fe_req_ana: crate::channel::AnFlags,
    /// An internal proxy (the stats sockets' `GLOBAL` frontend): not in
    /// the stats, never stopped or logged.
    pub internal: bool,
    pub logs: Vec<LogCfg>,
    pub disabled: bool,
    /// Soft-stopped: responses tell their clients the connection closes.
    pub stopped: bool,
    /// Current connections on the frontend side.
    pub feconn: u32,
    /// Highest `feconn` seen.
    pub feconn_max: u32,
    /// Current connections on the backend side.
    pub beconn: u32,
    pub cum_conn: u64,
    pub cum_beconn: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub denied: u64,
    /// Connections refused by `tcp-request connection|session` rules.
    pub denied_conn: u64,
    /// The frontend has rules that may read the destination address.
    pub has_rules: bool,
    /// Streams that found no server to connect to (`econ` of the BACKEND
    /// row, with its servers' connection errors).
    pub failed_conns: u64,
    /// Listener indexes of this frontend.
    pub listeners: Vec<usize>,
    /// True while listeners are paused because `maxconn` was reached.
    pub full: bool,
    /// Round-robin cursor for `first`/`leastconn` ties.
    pub lb_cursor: usize,
    /// Some server has no port or no address: connections need the client's
    /// destination address.
    pub uses_dst: bool,
    /// HTTP settings (`mode http`).
    pub http: crate::cfg::model::HttpCfg,
    /// `tcp-request` / `tcp-response` rules.
    pub tcp: crate::cfg::tcp_rules::TcpRules,
    /// HTTP counters of the frontend role (`show stat` req_tot, hrsp_*, ...).
    pub http_stats: crate::http::HttpStats,
    /// HTTP counters of the backend role (a `listen` has both rows).
    pub be_http_stats: crate::http::HttpStats,
    /// Error messages by status, loaded from `errorfile`, `errorloc*`,
    /// `errorfiles` and `http-error` at start-up.
    pub errmsgs: Vec<ErrMsg>,
    /// `http-error` replies with log-format parts (none in `errmsgs`).
    pub errlf: Vec<ErrLf>,
    /// A custom `log-format` (checked by the configuration).
    pub log_fmt: Option<crate::log::format::LogFormat>,
    /// `option tcplog` of a `mode tcp` frontend as a log-format: what its
    /// streams upgraded to HTTP (an HTTP backend) log per transaction.
    pub upgrade_log_fmt: Option<crate::log::format::LogFormat>,
}

impl Proxy {
    /// Builds a run-time proxy from its config (servers resolved later).
    pub fn from_cfg(c: &ProxyCfg, id: u32, global_logs: &[LogCfg], default_maxconn: u32) -> Self {
        let mut logs = c.logs.clone();
        if c.log_global {
            logs.extend(global_logs.iter().cloned());
        }
        let servers = c
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| Server {
                name: s.name.clone(),
                id: s.id.unwrap_or(i as u32 + 1),
                addr: SocketAddr::new(s.addr, s.port.unwrap_or(0)),
                has_port: s.port.is_some(),
                weight: s.weight,
                iweight: s.weight,
                maxconn: s.maxconn,
                maxqueue: s.maxqueue,
                backup: s.backup,
                state: if s.disabled {
                    SrvState::Maint
                } else {
                    SrvState::Up
                },
                cur_sess: 0,
                max_sess: 0,
                queue: VecDeque::new(),
                cum_sess: 0,
                failed_conns: 0,
                retries: 0,
                redispatches: 0,
                bytes_in: 0,
                bytes_out: 0,
                rr_current: 0,
                pp_opts: s.pp_opts,
                check: crate::check::CheckState::from_cfg(s),
                http_stats: Default::default(),
                idle: Vec::new(),
                pool_max: s.pool_max_conn,
                pool_purge_delay: s.pool_purge_delay,
                conn_use: Default::default(),
                peak_sess: 0,
                est_need: 0,
                next_purge: 0,
                reused: 0,
                tls: s.tls.clone().filter(|_| s.ssl.enabled),
                sni: s.sni_expr.clone(),
            })
            .collect();
        let (errmsgs, errlf) = load_errmsgs(&c.http.errorfiles);
        Proxy {
            name: c.name.clone(),
            id,
            is_fe: c.cap.fe,
            is_be: c.cap.be,
            mode: c.mode,
            timeouts: c.timeouts,
            retries: c.retries,
            opts: c.opts,
            balance: c.balance,
            maxconn: if c.maxconn > 0 {
                c.maxconn
            } else {
                default_maxconn
            },
            default_backend: None,
            switch_rules: Default::default(),
            persist_rules: std::rc::Rc::new(c.persist_rules.clone()),
            server_rules: std::rc::Rc::new(
                c.use_servers
                    .iter()
                    .filter_map(|u| {
                        let i = c.servers.iter().position(|s| s.name == u.name)?;
                        Some((i, u.cond.clone()))
                    })
                    .collect(),
            ),
            denied_conn: 0,
            has_rules: c.tcp.has_req()
                || !c.use_backends.is_empty()
                || c.http.req_rules.iter().any(|r| r.cond.is_some()),
            servers,
            queue: VecDeque::new(),
            fe_req_ana: match (c.cap.fe, c.mode) {
                (true, Mode::Http) => crate::http::ana::FE_REQ_ANA,
                (true, Mode::Tcp) => crate::channel::AnFlags::REQ_SWITCHING_RULES,
                (false, _) => crate::channel::AnFlags::empty(),
            } | if c.cap.fe && c.tcp.has_req() {
                crate::channel::AnFlags::REQ_INSPECT_FE
            } else {
                crate::channel::AnFlags::empty()
            },
            internal: false,
            logs,
            disabled: c.disabled,
            stopped: false,
            feconn: 0,
            feconn_max: 0,
            beconn: 0,
            cum_conn: 0,
            cum_beconn: 0,
            bytes_in: 0,
            bytes_out: 0,
            denied: 0,
            failed_conns: 0,
            listeners: Vec::new(),
            full: false,
            lb_cursor: 0,
            uses_dst: c
                .servers
                .iter()
                .any(|s| s.port.is_none() || s.addr.is_unspecified() || !s.pp_opts.is_empty()),
            http: c.http.clone(),
            tcp: c.tcp.clone(),
            http_stats: Default::default(),
            be_http_stats: Default::default(),
            errmsgs,
            errlf,
            log_fmt: log_format_of(c),
            upgrade_log_fmt: (c.cap.fe
                && c.mode == Mode::Tcp
                && c.opts.tcplog
                && c.http.log_format.is_none())
            .then(|| crate::log::format::LogFormat::parse(crate::log::format::TCPLOG_FORMAT).ok())
            .flatten(),
        }
    }

    /// The `http-error` reply with log-format parts for `status`, if any.
    pub fn http_errlf(&self, status: u16) -> Option<&std::rc::Rc<crate::cfg::model::HttpAction>> {
        self.errlf
            .iter()
            .find(|(st, _)| *st == status)
            .map(|(_, a)| a)
    }

    /// The log format of an HTTP transaction of this frontend: its own, or
    /// `option tcplog` for a `mode tcp` frontend upgraded to HTTP.
    #[inline]
    pub fn txn_log_fmt(&self) -> Option<&crate::log::format::LogFormat> {
        self.log_fmt.as_ref().or(self.upgrade_log_fmt.as_ref())
    }

    /// The error message configured for `status`, if any.
    pub fn http_errmsg(&self, status: u16) -> Option<&[u8]> {
        self.errmsgs
            .iter()
            .find(|(st, _)| *st == status)
            .map(|(_, m)| &m[..])
    }

    /// The internal frontend of the stats sockets (HAProxy's `GLOBAL`
    /// proxy): its streams target the CLI applet, and `stats timeout` is its
    /// client timeout.
    pub fn cli_frontend(stats_timeout: u32) -> Self {
        let cfg = ProxyCfg {
            name: "GLOBAL".into(),
            kind: "frontend",
            ..Default::default()
        };
        let mut p = Proxy::from_cfg(&cfg, 0, &[], 0);
        p.internal = true;
        p.is_fe = false;
        p.is_be = false;
        p.fe_req_ana = crate::channel::AnFlags::empty();
        p.timeouts.client = stats_timeout;
        p
    }

    /// Total streams queued on this backend and its servers.
    pub fn total_queued(&self) -> usize {
        self.queue.len() + self.servers.iter().map(|s| s.queue.len()).sum::<usize>()
    }
}
