//! The rules engine's view of a stream: [`StreamEnv`] implements
//! `rules::env::Env` over a stream, its proxies and its parsed heads, and
//! [`with_rules`] sets up one evaluation (parse the heads wanted, lend the
//! stream's variables and the process ones, run, give everything back).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::{Stream, StreamCtx};
use crate::http::hdr::HdrTable;
use crate::http::parse::{Hdr, Head, Kind, ParseOpts, head_end, parse_head};
use crate::log::format::{LogAddr, LogVars};
use crate::proxy::{Proxy, SrvState};
use crate::rules::env::{BeLoad, Dir, Env, HttpView, PxInfo};
use crate::rules::expr::EvalCx;
use crate::rules::lf::Lf;
use crate::rules::sample::BufPool;
use crate::rules::vars::{Scope, VarScope, Vars};
use std::net::SocketAddr;

/// What rule evaluation keeps between uses: owned sample buffers, the
/// parsed header tables, the process variables, and an empty variable set
/// lent to streams that have none yet.
#[derive(Debug, Default)]
pub struct RuleScratch {
    pub pool: BufPool,
    pub res_hdrs: Vec<Hdr>,
    /// ACL results of the current evaluation (see `EvalCx::memo`).
    memo: Vec<u8>,
    pub proc_vars: VarScope,
    spare: Vars,
}

/// One stream as fetches see it.
pub struct StreamEnv<'a> {
    pub s: &'a Stream,
    pub proxies: &'a [Proxy],
    /// The connections, for the TLS fetches.
    pub io: &'a crate::conn::IoCtx,
    pub req: Option<HttpView<'a>>,
    pub res: Option<HttpView<'a>>,
    pub inspect_expired: bool,
    /// The request data was parsed as HTTP and refused (TCP mode).
    pub req_not_http: bool,
}

impl Env for StreamEnv<'_> {
    fn ssl_sock(&self, back: bool) -> Option<&crate::conn::ssl_sock::SslSock> {
        if !back {
            return self.io.front_ssl(self.s.id, self.s.si.first()?.conn());
        }
        let cid = self.s.si.get(1)?.conn()?;
        self.io.conns.get(cid)?.ssl_sock()
    }
    fn not_http(&self, dir: Dir) -> bool {
        dir == Dir::Req && self.req_not_http
    }
    fn src(&self) -> Option<SocketAddr> {
        self.s.cli_addr
    }
    fn pp(&self) -> Option<&crate::conn::proxy_hdr::PpRcvd> {
        self.s.pp.as_ref()
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.s.frt_addr
    }
    fn fe(&self) -> Option<PxInfo<'_>> {
        px_info(self.proxies.get(self.s.fe))
    }
    fn be(&self) -> Option<PxInfo<'_>> {
        px_info(self.proxies.get(self.s.be?))
    }
    fn srv(&self) -> Option<PxInfo<'_>> {
        let srv = self
            .proxies
            .get(self.s.be?)?
            .servers
            .get(self.s.last_srv?)?;
        Some(PxInfo {
            name: &srv.name,
            id: i64::from(srv.id),
        })
    }
    fn be_load(&self, be: Option<usize>) -> Option<BeLoad> {
        let p = self.proxies.get(be.or(self.s.be)?)?;
        let usable = |x: &&crate::proxy::Server| x.state == SrvState::Up && x.weight > 0;
        let nbsrv = p.servers.iter().filter(usable).count() as i64;
        let queue = p.queue.len() + p.servers.iter().map(|x| x.queue.len()).sum::<usize>();
        // Free slots: per server maxconn (and maxqueue) minus what is used;
        // unlimited when any usable server has no maxconn.
        let mut slots: Option<i64> = Some(0);
        for x in p.servers.iter().filter(usable) {
            slots = match (slots, x.maxconn) {
                (Some(n), m) if m > 0 => {
                    let q = i64::from(x.maxqueue);
                    Some(n + i64::from(m) - i64::from(x.cur_sess) + q - x.queue.len() as i64)
                }
                _ => None,
            };
        }
        Some(BeLoad {
            nbsrv,
            conn: i64::from(p.beconn),
            connslots: slots,
            queue: queue as i64,
            active: nbsrv,
        })
    }
    fn srv_is_up(&self, be: usize, srv: usize) -> Option<bool> {
        let x = self.proxies.get(be)?.servers.get(srv)?;
        Some(x.state == SrvState::Up)
    }
    fn payload(&self, dir: Dir) -> Option<&[u8]> {
        let chn = match dir {
            Dir::Req => &self.s.req,
            Dir::Res => &self.s.res,
        };
        Some(chn.buf.as_ref().map_or(&[][..], |b| b.in_data().0))
    }
    fn payload_final(&self, dir: Dir) -> bool {
        let chn = match dir {
            Dir::Req => &self.s.req,
            Dir::Res => &self.s.res,
        };
        self.inspect_expired
            || chn
                .flags
                .intersects(crate::channel::CfFlags::SHUTR | crate::channel::CfFlags::READ_NULL)
            || chn.buf.as_ref().is_some_and(|b| b.room() == 0)
    }
    fn inspect_expired(&self) -> bool {
        self.inspect_expired
    }
    fn http(&self, dir: Dir) -> Option<HttpView<'_>> {
        match dir {
            Dir::Req => self.req,
            Dir::Res => self.res,
        }
    }
    fn status(&self) -> Option<u16> {
        self.s.txn.as_ref().map(|t| t.status).filter(|s| *s > 0)
    }
    fn unique_id(&self) -> Option<&[u8]> {
        self.s
            .txn
            .as_ref()
            .map(|t| t.unique_id.as_slice())
            .filter(|u| !u.is_empty())
    }
    fn capture(&self, dir: Dir, idx: usize) -> Option<&[u8]> {
        let t = self.s.txn.as_ref()?;
        let caps = match dir {
            Dir::Req => &t.req_caps,
            Dir::Res => &t.res_caps,
        };
        caps.get(idx)?.as_deref()
    }
}

fn px_info(p: Option<&Proxy>) -> Option<PxInfo<'_>> {
    let p = p?;
    Some(PxInfo {
        name: &p.name,
        id: i64::from(p.id),
    })
}

/// Which message heads an evaluation reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Want {
    /// Parse the request head at the start of the request input.
    pub req: Option<ParseOpts>,
    /// Parse the response head at the start of the response input.
    pub res: Option<ParseOpts>,
    pub inspect_expired: bool,
}

/// Parses the head at the start of a channel's input into `hdrs`.
fn parse_at_input(s: &mut Stream, dir: Dir, opts: ParseOpts, hdrs: &mut Vec<Hdr>) -> Option<Head> {
    let (chn, kind) = match dir {
        Dir::Req => (&mut s.req, Kind::Request),
        Dir::Res => (&mut s.res, Kind::Response),
    };
    let data = chn.buf.as_mut()?.in_contig();
    let mut scanned = 0;
    let len = head_end(data, &mut scanned)?;
    parse_head(data.get(..len)?, kind, &opts, hdrs).ok()
}

/// The head at the start of a channel's input through the shared table
/// (no parse when the table already describes the buffer); Err(true) when
/// the data is not HTTP, Err(false) while it is incomplete.
fn table_head(s: &mut Stream, dir: Dir, opts: ParseOpts, t: &mut HdrTable) -> Result<Head, bool> {
    let (chn, kind) = match dir {
        Dir::Req => (&mut s.req, Kind::Request),
        Dir::Res => (&mut s.res, Kind::Response),
    };
    let b = chn.buf.as_mut().ok_or(false)?;
    t.parse(b, kind, &opts)
        .map_err(|e| e.why != crate::http::parse::WHY_INCOMPLETE)
}

fn view<'a>(
    head: Option<&'a Head>,
    hdrs: &'a [Hdr],
    chn: &'a crate::channel::Channel,
) -> Option<HttpView<'a>> {
    Some(HttpView {
        bytes: chn.buf.as_ref().map_or(&[][..], |b| b.in_data().0),
        head: head?,
        hdrs,
    })
}

/// Runs `f` with the stream's view and an evaluation context.
pub fn with_rules<R>(
    s: &mut Stream,
    cx: &mut StreamCtx,
    want: Want,
    f: impl FnOnce(&StreamEnv<'_>, &mut EvalCx<'_>) -> R,
) -> R {
    let rx = &mut *cx.rx;
    let table = &mut cx.http.hdrs;
    // One head goes through the shared table (usually parsed already); when
    // both are wanted the response gets a table of its own.
    let req_parse = want.req.map(|o| table_head(s, Dir::Req, o, table));
    let req_not_http = matches!(req_parse, Some(Err(true)));
    let req_head = req_parse.and_then(Result::ok);
    let res_head = match (want.req.is_some(), want.res) {
        (false, Some(o)) => table_head(s, Dir::Res, o, table).ok(),
        (true, Some(o)) => parse_at_input(s, Dir::Res, o, &mut rx.res_hdrs),
        (_, None) => None,
    };
    let mut own = s.vars.take();
    let had = own.is_some();
    let mut moved = None;
    let vars: &mut Vars = match own.as_deref_mut() {
        Some(v) => v,
        None => &mut rx.spare,
    };
    std::mem::swap(vars.scope_mut(Scope::Proc), &mut rx.proc_vars);
    let req = view(req_head.as_ref(), &cx.http.hdrs, &s.req);
    let res_hdrs: &[Hdr] = if want.req.is_some() {
        &rx.res_hdrs
    } else {
        &cx.http.hdrs
    };
    let res = view(res_head.as_ref(), res_hdrs, &s.res);
    let env = StreamEnv {
        s,
        proxies: cx.proxies,
        io: cx.io,
        req,
        res,
        inspect_expired: want.inspect_expired,
        req_not_http,
    };
    rx.memo.clear();
    rx.memo.resize(cx.rules.acls.len(), 0);
    let mut ecx = EvalCx {
        pool: &mut rx.pool,
        store: cx.rules,
        vars,
        occ: 0,
        acl: false,
        may_change: false,
        memo: Some(&mut rx.memo),
    };
    let r = f(&env, &mut ecx);
    std::mem::swap(ecx.vars.scope_mut(Scope::Proc), &mut rx.proc_vars);
    // A first variable set on a stream gets its own box.
    if !had && ecx.vars.scopes.iter().any(|v| !v.is_empty()) {
        moved = Some(Box::new(std::mem::take(ecx.vars)));
    }
    s.vars = moved.or(own);
    r
}

impl<'a> StreamEnv<'a> {
    /// The log-format variables a rule's format string may use (`%ci`,
    /// `%f`, `%b`, dates, ...); the timers of the logs are not known yet.
    pub fn log_vars(&self) -> LogVars<'a> {
        let s = self.s;
        let fe = self.proxies.get(s.fe).map_or("", |p| p.name.as_str());
        let be = s.be.and_then(|b| self.proxies.get(b));
        let srv = be.and_then(|b| b.servers.get(s.last_srv?));
        LogVars {
            client: s.cli_addr.map(LogAddr::Inet),
            frontend_addr: s.frt_addr.map(LogAddr::Inet),
            server_addr: srv.map(|x| LogAddr::Inet(x.addr)),
            frontend: fe,
            is_ssl: s.fe_ssl.is_some(),
            ssl_version: s.fe_ssl.map(|x| x.0),
            ssl_cipher: s.fe_ssl.map(|x| x.1),
            backend: be.map_or(fe, |b| b.name.as_str()),
            server: srv.map_or("<NOSRV>", |x| x.name.as_str()),
            accept_date: s.accept_date,
            request_date: s.txn.as_ref().map_or(s.accept_date, |t| t.times.req_date),
            th: 0,
            ti: -1,
            treq: -1,
            tq: -1,
            tw: -1,
            tc: -1,
            tr: -1,
            td: -1,
            ta: -1,
            tt: -1,
            tu: -1,
            status: s.txn.as_ref().map_or(-1, |t| i32::from(t.status)),
            term: [s.err as u8, s.finst.ch() as u8, b'-', b'-'],
            pid: crate::process::pid(),
            req_counter: u64::from(s.uniq_id),
            ..Default::default()
        }
    }

    /// Renders `lf` for this stream into `out`.
    pub fn render(&self, lf: &Lf, cx: &mut EvalCx<'_>, out: &mut String) {
        if lf.single {
            let mut b = Vec::new();
            lf.render_single(self, cx, &mut b);
            out.push_str(&String::from_utf8_lossy(&b));
            return;
        }
        let base = self.log_vars();
        lf.render(&base, self, cx, out);
    }

    /// Renders `lf` for this stream as bytes (header values, bodies).
    pub fn render_bytes(&self, lf: &Lf, cx: &mut EvalCx<'_>, out: &mut Vec<u8>) {
        if lf.render_single(self, cx, out) {
            return;
        }
        let mut s = String::new();
        let base = self.log_vars();
        lf.render(&base, self, cx, &mut s);
        out.extend_from_slice(s.as_bytes());
    }
}

/// The values of the frontend's `log-format` sample expressions for this
/// stream (empty when it has none). The request head is no longer in the
/// buffer when a stream logs: header fetches find nothing then.
pub fn log_samples(s: &mut Stream, cx: &mut StreamCtx) -> Vec<Option<String>> {
    if let Some(v) = s.log_smp.take() {
        return v;
    }
    let Some(lf) = cx.proxies.get(s.fe).and_then(|p| p.http.log_lf.clone()) else {
        return Vec::new();
    };
    with_rules(s, cx, Want::default(), |env, ecx| lf.eval_samples(env, ecx))
}

/// The values of `lf`'s sample expressions for this stream.
pub fn lf_samples(s: &mut Stream, cx: &mut StreamCtx, lf: &Lf) -> Vec<Option<String>> {
    with_rules(s, cx, Want::default(), |env, ecx| lf.eval_samples(env, ecx))
}
