//! Streams: a client end, a server (or applet) end, and the two channels
//! between them.
//!
//! `step` is the body of the stream task (`process_stream`): it turns
//! expired timers into flags, runs the analysers over each channel's input,
//! checks for errors and timeouts, drives the back stream interface through
//! its state machine (one handler per state, `backend.rs`), propagates
//! shutdowns from one side to the other, and reports when both ends are
//! closed so that the engine logs and frees the stream. Once both ends are
//! established the I/O callbacks (`io.rs`) forward on their own whatever the
//! analysers released (`to_forward`) and only wake the task for special
//! conditions: read0, errors, a finished shutdown, a connection result,
//! input to analyse, or a timer.
//!
//! Every function here takes the stream and a [`StreamCtx`] (the arenas it
//! may touch), never the whole engine, so that each can be driven on a
//! hand-built stream.

pub mod backend;
mod errors;
pub mod io;
pub mod queue;
pub mod reuse;
pub mod rules_env;
pub mod switching;
pub mod tcp_rules;

use crate::applet::{Applet, AppletKind};
use crate::arena::{AppletId, Arena, PendId, TaskId};
use crate::channel::{AnFlags, CfFlags, Channel, FORWARD_INFINITE, SpliceMode};
use crate::conn::{IoCtx, Side};
use crate::proxy::Proxy;
use crate::si::{End, SiCtx, SiFlags, SiState, StreamInterface};
use crate::task::Scheduler;
use crate::ticks::{Clock, ETERNITY, Tick, tick_first, tick_is_expired, tick_is_lt, tick_isset};
use bitflags::bitflags;
use std::net::SocketAddr;

pub use crate::arena::StreamId;
use queue::PendConn;

bitflags! {
    /// Stream flags (HAProxy's SF_*).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct SfFlags: u32 {
        /// A server is assigned and its `cur_sess` counts this stream.
        const CURR_SESS  = 0x0001;
        /// A server was assigned (by LB or by the queue).
        const ASSIGNED   = 0x0002;
        /// The stream was redispatched to another server.
        const REDISP     = 0x0004;
        /// The backend connection count includes this stream.
        const BE_ASSIGNED = 0x0010;
        /// The stream was counted in the frontend/global connection counts.
        const COUNTED    = 0x0020;
        /// `option abortonclose`: a client that closes aborts a request still
        /// queued or connecting.
        const ABORT_ON_CLOSE = 0x0040;
        /// The `tcp-request connection|session` rules ran.
        const L4_RULES_DONE = 0x0080;
        /// Refused before the session existed: no log line.
        const NO_LOG = 0x0100;
        /// `force-persist`: a server named by `use-server` (or persistence)
        /// is used even when it is down.
        const FORCE_PRST = 0x0200;
        /// `ignore-persist`: persistence information is not used.
        const IGNORE_PRST = 0x0400;
        /// A `mode tcp` frontend's stream upgraded to HTTP by its HTTP
        /// backend (it then has a transaction, and so have the later
        /// requests of its connection).
        const HTTP_UPGRADED = 0x0800;
    }
}

/// Where the stream was when it ended (2nd termination char).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Finst {
    #[default]
    None,
    /// Waiting for the client's request (HTTP).
    Request,
    Queue,
    Connect,
    /// Waiting for the server's response headers (HTTP).
    Header,
    Data,
    Last,
    /// Held by `http-request tarpit`.
    Tarpit,
}

impl Finst {
    /// The log character.
    pub fn ch(self) -> char {
        match self {
            Finst::None => '-',
            Finst::Request => 'R',
            Finst::Queue => 'Q',
            Finst::Header => 'H',
            Finst::Tarpit => 'T',
            Finst::Connect => 'C',
            Finst::Data => 'D',
            Finst::Last => 'L',
        }
    }
}

/// What the back side connects to (HAProxy's `s->target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Not decided yet: the backend's load balancing picks a server.
    None,
    /// A server of the backend (index), assigned by LB or by the queue.
    Server(usize),
    /// An applet serves the stream (stats socket, later stats page, peers).
    Applet(AppletKind),
    /// A plain address (a peer, a `dispatch`).
    Addr(SocketAddr),
}

/// A stream.
pub struct Stream {
    /// Its own id (what its connections and applets point back to).
    pub id: StreamId,
    pub task: TaskId,
    /// Frontend index.
    pub fe: usize,
    /// Backend index, once chosen.
    pub be: Option<usize>,
    /// What the back side connects to.
    pub target: Target,
    /// Previous server (to avoid it on redispatch).
    pub prev_srv: Option<usize>,
    /// The last server a connection was attempted to (for the logs).
    pub last_srv: Option<usize>,
    pub listener: usize,
    pub req: Channel,
    pub res: Channel,
    pub si: [StreamInterface; 2],
    pub flags: SfFlags,
    /// The stream's place in a queue while waiting for a server slot.
    pub pend: Option<PendId>,
    pub cli_addr: Option<SocketAddr>,
    pub frt_addr: Option<SocketAddr>,
    /// The PROXY header of the client connection, if one was received
    /// (its TLVs shared with the connection, for the `fc_pp_*` fetches,
    /// which must still answer once the connection is closed).
    pub pp: Option<crate::conn::proxy_hdr::PpRcvd>,
    /// Expiry the task is queued with (to requeue only when it moves earlier).
    pub exp: Tick,
    /// 1st termination char ('-' normal).
    pub err: char,
    pub finst: Finst,
    // Timing (monotonic ms) for the logs.
    pub t_accept: u64,
    pub accept_date: (i64, u32),
    pub t_queue: Option<u64>,
    pub t_dequeue: Option<u64>,
    pub t_connect: Option<u64>,
    pub queue_pos: (u32, u32),
    pub retries_done: u32,
    /// Times process_stream ran (`show sess` calls).
    pub calls: u32,
    /// Unique stream number (debug output, logs).
    pub uniq_id: u32,
    /// Client and server fds, kept for the `-d` event lines.
    pub dbg_fds: (i32, i32),
    /// The client connection's TLS version and cipher (`%sslv %sslc`, the
    /// `~` of `%ft`), kept past its close for the log.
    pub fe_ssl: Option<(&'static str, &'static str)>,
    /// Log-format samples taken before the connections closed (TLS
    /// fetches need the live session).
    pub log_smp: Option<Vec<Option<String>>>,
    /// The HTTP transaction (streams of `mode http` frontends), boxed so
    /// that a TCP stream does not carry its size; boxes are recycled
    /// (`HttpScratch::txn_pool`).
    pub txn: Option<Box<crate::http::txn::HttpTxn>>,
    /// Variables of the `sess`, `txn`, `req` and `res` scopes, boxed on
    /// the first `set-var` (most streams have none).
    pub vars: Option<Box<crate::rules::vars::Vars>>,
    /// The server a `use-server` rule chose, taken at connection time.
    pub use_srv: Option<u32>,
}

/// The arenas a stream's handlers may touch.
pub struct StreamCtx<'a> {
    pub io: &'a mut IoCtx,
    pub sched: &'a mut Scheduler,
    pub clock: &'a Clock,
    pub proxies: &'a mut [Proxy],
    pub pends: &'a mut Arena<PendId, PendConn>,
    pub applets: &'a mut Arena<AppletId, Applet>,
    /// HTTP analysers' scratch space.
    pub http: &'a mut crate::http::HttpScratch,
    /// ACLs, maps and pattern sets the rules refer to.
    pub rules: &'a crate::rules::store::RuleStore,
    /// Rule evaluation's reusable state.
    pub rx: &'a mut rules_env::RuleScratch,
    /// Traffic logs (HTTP logs one line per transaction).
    pub logger: &'a mut crate::log::Logger,
    /// Process-wide current connections (`%ac` in the logs).
    pub actconn: u32,
}

impl StreamCtx<'_> {
    /// The SI verbs' context for the stream whose task is `task`.
    #[inline]
    pub fn si(&mut self, task: TaskId) -> SiCtx<'_> {
        SiCtx::new(self.io, self.sched, self.clock.now, task)
    }
}

impl Stream {
    /// A stream for an accepted client connection: the front SI is
    /// established, the back one waits (INI) for the request channel to ask
    /// for a connection, and the request channel holds its data for the
    /// frontend's analysers (`fe_ana`).
    pub fn new(
        id: StreamId,
        task: TaskId,
        fe: usize,
        listener: usize,
        target: Target,
        fe_ana: AnFlags,
    ) -> Self {
        let mut req = Channel::new();
        // An HTTP stream connects once its request is analysed, one with
        // `tcp-request` rules once they let it through.
        if !fe_ana.intersects(AnFlags::REQ_WAIT_HTTP | AnFlags::REQ_INSPECT_FE) {
            req.flags.insert(CfFlags::AUTO_CONNECT);
        }
        req.analysers = fe_ana;
        if !fe_ana.is_empty() {
            req.to_forward = 0;
        }
        let mut front = StreamInterface::new(0, SiState::Ini);
        front.set_state(SiState::Est);
        Stream {
            id,
            task,
            fe,
            be: None,
            target,
            prev_srv: None,
            last_srv: None,
            listener,
            req,
            res: Channel::new(),
            si: [front, StreamInterface::new(1, SiState::Ini)],
            flags: SfFlags::empty(),
            pend: None,
            cli_addr: None,
            frt_addr: None,
            pp: None,
            exp: ETERNITY,
            err: '-',
            finst: Finst::None,
            t_accept: 0,
            accept_date: (0, 0),
            t_queue: None,
            t_dequeue: None,
            t_connect: None,
            queue_pos: (0, 0),
            retries_done: 0,
            calls: 0,
            uniq_id: 0,
            dbg_fds: (-1, -1),
            fe_ssl: None,
            log_smp: None,
            txn: None,
            vars: None,
            use_srv: None,
        }
    }

    /// The channel a side reads into: the client fills `req`, the server `res`.
    #[inline]
    pub fn ic(&mut self, side: Side) -> &mut Channel {
        match side {
            Side::Front => &mut self.req,
            Side::Back => &mut self.res,
        }
    }

    /// The channel a side writes out of.
    #[inline]
    pub fn oc(&mut self, side: Side) -> &mut Channel {
        match side {
            Side::Front => &mut self.res,
            Side::Back => &mut self.req,
        }
    }

    /// A side's SI, the other SI, and the side's input and output channels.
    #[inline]
    pub fn split(
        &mut self,
        side: Side,
    ) -> (
        &mut StreamInterface,
        &mut StreamInterface,
        &mut Channel,
        &mut Channel,
    ) {
        let [front, back] = &mut self.si;
        match side {
            Side::Front => (front, back, &mut self.req, &mut self.res),
            Side::Back => (back, front, &mut self.res, &mut self.req),
        }
    }

    /// The server currently assigned, if any.
    #[inline]
    pub fn srv(&self) -> Option<usize> {
        match self.target {
            Target::Server(i) => Some(i),
            _ => None,
        }
    }

    /// Records the termination cause once (the first cause wins).
    pub fn set_term(&mut self, err: char, finst: Finst) {
        if self.err == '-' {
            self.err = err;
        }
        if self.finst == Finst::None {
            self.finst = finst;
        }
    }

    /// True when the client errored, or closed with nothing left to
    /// forward: a connection attempt or queue wait for it is pointless
    /// (HAProxy aborts then, logging `CC` / `CQ`).
    pub fn client_gave_up(&self) -> bool {
        self.si[0].flags.contains(SiFlags::ERR)
            || (self.req.flags.contains(CfFlags::SHUTR)
                && (self.req.is_empty() || self.flags.contains(SfFlags::ABORT_ON_CLOSE)))
    }

    /// The phase the stream is in, for the termination state.
    pub fn phase(&self) -> Finst {
        match self.si[1].state() {
            SiState::Que => Finst::Queue,
            SiState::Ini
            | SiState::Req
            | SiState::Tar
            | SiState::Ass
            | SiState::Con
            | SiState::Cer => Finst::Connect,
            // 'L': the server side is fully closed, we were still sending the
            // last data to the client.
            SiState::Dis | SiState::Clo if self.t_connect.is_some() => Finst::Last,
            _ => Finst::Data,
        }
    }

    /// The earliest of the channels' and the back SI's dates.
    pub fn next_expiry(&self) -> Tick {
        // A client waiting for its HTTP response is not idle.
        let req_rex = if self.req.flags.contains(CfFlags::READ_NOEXP) {
            ETERNITY
        } else {
            self.req.rex
        };
        let exp = tick_first(
            tick_first(req_rex, self.req.wex),
            tick_first(self.res.rex, self.res.wex),
        );
        tick_first(
            tick_first(exp, self.si[1].exp),
            tick_first(self.req.analyse_exp, self.res.analyse_exp),
        )
    }

    /// Re-arms the task timer when the I/O layer set a date earlier than
    /// the one it is queued with (later dates need nothing: the task wakes,
    /// sees nothing expired and re-queues itself).
    #[inline]
    pub fn note_timers(&mut self, sched: &mut Scheduler, clock: &Clock) {
        let e = self.next_expiry();
        if tick_isset(e) && (!tick_isset(self.exp) || tick_is_lt(e, self.exp)) {
            self.exp = e;
            sched.queue_tick(self.task, e, clock);
        }
    }

    /// Re-arms the task timer with the stream's earliest deadline.
    pub fn requeue(&mut self, sched: &mut Scheduler, clock: &Clock) {
        self.exp = self.next_expiry();
        sched.queue_tick(self.task, self.exp, clock);
    }

    /// A summary that changes whenever something the loop acts on changes.
    fn fingerprint(&self) -> (SiState, SiState, u32, u32, u32, bool, bool) {
        (
            self.si[0].state(),
            self.si[1].state(),
            self.req.flags.bits(),
            self.res.flags.bits(),
            self.req.analysers.bits() | self.res.analysers.bits(),
            self.req.is_empty(),
            self.res.is_empty(),
        )
    }
}

/// How many state-machine rounds one `step` may run before the stream is
/// considered stuck and ended with an internal error. A round is one state
/// change; immediate connection failures with many `retries` and
/// redispatch take three per retry.
const MAX_LOOPS: u32 = 1000;

/// The stream task's body. Runs until the stream's state is stable;
/// returns true when both ends are closed (the caller logs and frees it),
/// else the caller re-arms the task timer.
pub fn step(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let now = cx.clock.now;
    s.calls = s.calls.wrapping_add(1);
    backend::take_grant(s, cx);
    // 1. Timers become flags.
    for c in [&mut s.req, &mut s.res] {
        if !c.flags.intersects(CfFlags::SHUTR | CfFlags::READ_NOEXP) && tick_is_expired(c.rex, now)
        {
            c.flags.insert(CfFlags::READ_TIMEOUT);
            c.rex = ETERNITY;
        }
        if !c.flags.contains(CfFlags::SHUTW) && tick_is_expired(c.wex, now) {
            c.flags.insert(CfFlags::WRITE_TIMEOUT);
            c.wex = ETERNITY;
        }
    }
    let mut loops = 0;
    let mut analysed = false;
    let mut before = s.fingerprint();
    loop {
        loops += 1;
        if loops > MAX_LOOPS {
            log::error!(
                "stream {}: state machine did not settle, aborting it",
                s.uniq_id
            );
            let ph = s.phase();
            s.set_term('I', ph);
            abort_stream(s, cx);
            break;
        }
        // Before the analysers: they must see a salvaged response whole.
        analysed |= errors::salvage_server_data(s, cx);
        if !s.req.analysers.is_empty() {
            analysed |= run_req_analysers(s, cx);
        }
        if !s.res.analysers.is_empty() {
            analysed |= run_res_analysers(s, cx);
        }
        errors::check_front_side(s, cx);
        backend::update_back_si(s, cx);
        if s.txn.is_some() && s.si[1].state() == SiState::Clo {
            crate::http::ana_res::on_server_gone(s, cx);
            analysed = true;
        }
        propagate_shutdowns(s, cx);
        let after = s.fingerprint();
        if after == before {
            break;
        }
        before = after;
    }
    if analysed {
        update_both(s, cx);
    }
    let done = s.si[0].state() == SiState::Clo && s.si[1].state() == SiState::Clo;
    debug_assert!(
        done || !matches!(s.si[1].state(), SiState::Req | SiState::Cer | SiState::Dis),
        "transient state {} survived",
        s.si[1].state()
    );
    done
}

/// Runs the request analysers in bit order. Returns true when one of them
/// finished (the channel's forwarding may have changed).
fn run_req_analysers(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let before = analysis_mark(s);
    let progressed = req_analysers(s, cx);
    progressed || before != analysis_mark(s)
}

/// What an analyser that made progress changes: the analysers left, or the
/// output scheduled on either channel (to be sent by `update_both`).
fn analysis_mark(s: &Stream) -> (AnFlags, AnFlags, usize, usize) {
    (
        s.req.analysers,
        s.res.analysers,
        s.req.out_len(),
        s.res.out_len(),
    )
}

fn req_analysers(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    use crate::http::ana;
    let mut progressed = false;
    if s.req.analysers.contains(AnFlags::REQ_INSPECT_FE) {
        if !tcp_rules::inspect_fe(s, cx) {
            return false;
        }
        progressed = true;
    }
    if s.req.analysers.contains(AnFlags::REQ_WAIT_HTTP) {
        if !ana::wait_for_request(s, cx) {
            return false;
        }
        progressed = true;
    }
    if s.req.analysers.contains(AnFlags::REQ_HTTP_TARPIT) {
        return ana::tarpit(s, cx);
    }
    if s.req.analysers.contains(AnFlags::REQ_HTTP_PROCESS_FE) && !ana::process_fe(s, cx) {
        return true;
    }
    if s.req.analysers.contains(AnFlags::REQ_SWITCHING_RULES) {
        let old_be = s.be;
        let go_on = switching::process_switching_rules(s, cx);
        if s.txn.is_some() {
            ana::on_backend_set(s, cx, old_be);
        }
        // Upgraded to HTTP: the next round parses the head first.
        if !go_on {
            return true;
        }
        progressed = true;
    }
    if s.req.analysers.contains(AnFlags::REQ_HTTP_PROCESS_BE) && !ana::process_be(s, cx) {
        return true;
    }
    if s.req.analysers.contains(AnFlags::REQ_HTTP_BODY) && !crate::http::body::wait_for_body(s, cx)
    {
        return progressed;
    }
    if s.req.analysers.contains(AnFlags::REQ_HTTP_XFER_BODY) {
        progressed |= ana::xfer_req_body(s, cx);
    }
    // No analyser left: TCP forwards everything from now on.
    if s.txn.is_none() && s.req.analysers.is_empty() && s.req.to_forward != FORWARD_INFINITE {
        s.req.forward_forever();
    }
    progressed
}

/// Runs the response analysers (HTTP) in bit order. Returns true when one
/// of them scheduled data or finished.
fn run_res_analysers(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let before = analysis_mark(s);
    let progressed = res_analysers(s, cx);
    progressed || before != analysis_mark(s)
}

fn res_analysers(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    use crate::http::ana_res;
    if s.res.analysers.contains(AnFlags::RES_INSPECT) && !tcp_rules::inspect_be_res(s, cx) {
        return false;
    }
    if s.res.analysers.contains(AnFlags::RES_WAIT_HTTP) && !ana_res::wait_for_response(s, cx) {
        return s.res.analysers.is_empty();
    }
    if s.res.analysers.contains(AnFlags::RES_HTTP_PROCESS) && !ana_res::process_res(s, cx) {
        return true;
    }
    if s.res.analysers.contains(AnFlags::RES_HTTP_XFER_BODY) {
        return ana_res::xfer_res_body(s, cx);
    }
    false
}

/// Attaches backend `be` to the stream: its retries, its splice options
/// (ORed with the frontend's, as HAProxy does), `server-fin` and
/// `nolinger` for the back side.
pub fn set_backend(s: &mut Stream, be: usize, proxies: &[Proxy]) {
    s.be = Some(be);
    let (fep, bep) = (proxies.get(s.fe), proxies.get(be));
    let mode = |p: Option<&Proxy>, always: fn(&Proxy) -> bool| match p {
        Some(p) if always(p) => SpliceMode::Always,
        Some(p) if p.opts.splice_auto => SpliceMode::Auto,
        _ => SpliceMode::Off,
    };
    let pick = |f: fn(&Proxy) -> bool| mode(fep, f).max(mode(bep, f));
    s.req.splice = pick(|p| p.opts.splice_request);
    s.res.splice = pick(|p| p.opts.splice_response);
    if fep.is_some_and(|p| p.http.abortonclose) || bep.is_some_and(|p| p.http.abortonclose) {
        s.flags.insert(SfFlags::ABORT_ON_CLOSE);
    }
    if fep.is_some_and(|p| p.http.no_delay) || bep.is_some_and(|p| p.http.no_delay) {
        s.req.flags.insert(CfFlags::NEVER_WAIT);
        s.res.flags.insert(CfFlags::NEVER_WAIT);
    }
    // `tcp-response content` rules hold the response until they decide.
    if bep.is_some_and(|p| !p.tcp.res_content.is_empty()) {
        s.res.analysers.insert(AnFlags::RES_INSPECT);
        s.res.to_forward = 0;
    }
    if let Some(p) = bep {
        s.si[1].conn_retries = p.retries;
        s.si[1].fin_to = p.timeouts.server_fin;
        if p.opts.nolinger {
            s.si[1].flags.insert(SiFlags::NOLINGER);
        }
    }
}

/// After the analysers changed what a channel holds: resume reading where
/// room was made, send what was scheduled.
fn update_both(s: &mut Stream, cx: &mut StreamCtx) {
    let task = s.task;
    for side in [Side::Front, Side::Back] {
        let (si, other, ic, oc) = s.split(side);
        let mut sx = cx.si(task);
        let r = si.update(ic, oc, &mut sx);
        if r.n > 0 {
            other.chk_rcv(oc, &mut sx);
        }
        if r.wake {
            sx.sched.wakeup(task);
        }
    }
}

/// Closes one side's end: a connection (reset on `abort` or `nolinger`),
/// or an applet, which is freed with its task.
pub fn close_side(s: &mut Stream, side: Side, abort: bool, cx: &mut StreamCtx) {
    let task = s.task;
    let si = &mut s.si[side.idx()];
    if let End::Applet { id, task: atask } = si.end {
        if let Some(mut a) = cx.applets.remove(id) {
            crate::applet::release(&mut a, &mut cx.io.fds);
        }
        cx.sched.destroy(atask);
    }
    si.close(&mut cx.si(task), abort);
}

/// Ends both sides now: buffered data is dropped, connections closed,
/// the server slot and queue position released. Front and back go CLO.
/// Each side gets a FIN (then the close), except the server when the
/// client's read failed (it reset, `CD`): as HAProxy's `process_stream`
/// sets `SI_FL_NOLINGER` on the server side when `req` has a read error,
/// the server gets a reset too.
pub fn abort_stream(s: &mut Stream, cx: &mut StreamCtx) {
    let cli_reset = s.req.flags.contains(CfFlags::READ_ERROR);
    close_side(s, Side::Front, false, cx);
    close_side(s, Side::Back, cli_reset, cx);
    for c in [&mut s.req, &mut s.res] {
        c.flags.insert(CfFlags::SHUTR | CfFlags::SHUTW);
        c.rex = ETERNITY;
        c.wex = ETERNITY;
        c.drop_data(&mut cx.io.bufs, &mut cx.io.pipes);
    }
    s.si[1].exp = ETERNITY;
    backend::queue_leave(s, cx);
    backend::release_server(s, cx);
    match s.si[1].state() {
        SiState::Est => {
            s.si[1].set_state(SiState::Dis);
            s.si[1].set_state(SiState::Clo);
        }
        SiState::Ini
        | SiState::Req
        | SiState::Que
        | SiState::Tar
        | SiState::Ass
        | SiState::Con
        | SiState::Cer
        | SiState::Dis => s.si[1].set_state(SiState::Clo),
        SiState::Clo => {}
    }
    if s.si[0].state() == SiState::Est {
        s.si[0].set_state(SiState::Dis);
        s.si[0].set_state(SiState::Clo);
    }
}

/// Shutdown propagation and the end of each side.
///
/// - input shut on a channel (read0) => shut its output once empty
///   (half-close kept: the other direction goes on);
/// - output shut while the input is still open (an applet that is done)
///   => the input stops too;
/// - a side whose input and output are both shut is closed.
fn propagate_shutdowns(s: &mut Stream, cx: &mut StreamCtx) {
    // Nothing shut or to shut, both ends alive: nothing to propagate.
    let shut = CfFlags::SHUTR | CfFlags::SHUTW | CfFlags::SHUTR_NOW | CfFlags::SHUTW_NOW;
    if !(s.req.flags | s.res.flags).intersects(shut)
        && s.si[0].state() != SiState::Clo
        && s.si[1].state() != SiState::Clo
    {
        return;
    }
    let task = s.task;
    let back_est = s.si[1].state() == SiState::Est;
    for c in [&mut s.req, &mut s.res] {
        if c.flags.contains(CfFlags::SHUTR) && !c.flags.contains(CfFlags::SHUTW_NOW) {
            c.flags.insert(CfFlags::SHUTW_NOW);
        }
        // The consumer is gone before the producer: stop the producer too
        // (HAProxy's "shutdown(write) done on the other side").
        if c.flags.contains(CfFlags::SHUTW)
            && !c.flags.intersects(CfFlags::SHUTR | CfFlags::SHUTR_NOW)
            && c.analysers.is_empty()
        {
            c.shutr_now();
        }
    }
    for side in [Side::Front, Side::Back] {
        let (si, _, ic, oc) = s.split(side);
        if si.state() == SiState::Est
            && ic.flags.contains(CfFlags::SHUTR_NOW)
            && !ic.flags.contains(CfFlags::SHUTR)
        {
            si.shutr(ic, oc, &mut cx.si(task));
        }
    }
    // The back side never connected and is closed: nothing will consume req.
    if s.si[1].state() == SiState::Clo && !s.req.flags.contains(CfFlags::SHUTW) {
        s.req.flags.insert(CfFlags::SHUTW | CfFlags::SHUTR);
        s.res.flags.insert(CfFlags::SHUTR | CfFlags::SHUTW_NOW);
        s.req.drop_data(&mut cx.io.bufs, &mut cx.io.pipes);
    }
    let need_req_shutw = back_est
        && s.req.flags.contains(CfFlags::SHUTW_NOW)
        && !s.req.flags.contains(CfFlags::SHUTW)
        && s.req.is_empty();
    let need_res_shutw = s.si[0].state() == SiState::Est
        && s.res.flags.contains(CfFlags::SHUTW_NOW)
        && !s.res.flags.contains(CfFlags::SHUTW)
        && s.res.is_empty();
    if need_req_shutw {
        let (si, _, ic, oc) = s.split(Side::Back);
        si.shutw(ic, oc, &mut cx.si(task));
    }
    if need_res_shutw {
        let (si, _, ic, oc) = s.split(Side::Front);
        si.shutw(ic, oc, &mut cx.si(task));
    }
    // Close each side that is done both ways.
    if s.si[0].state() == SiState::Est
        && s.req.flags.contains(CfFlags::SHUTR)
        && s.res.flags.contains(CfFlags::SHUTW)
    {
        close_side(s, Side::Front, false, cx);
        s.si[0].set_state(SiState::Dis);
        s.si[0].set_state(SiState::Clo);
    }
    if s.si[1].state() == SiState::Est
        && s.res.flags.contains(CfFlags::SHUTR)
        && s.req.flags.contains(CfFlags::SHUTW)
    {
        s.si[1].set_state(SiState::Dis);
        close_side(s, Side::Back, false, cx);
        backend::release_server(s, cx);
        s.si[1].set_state(SiState::Clo);
    }
    // Safety nets once the client side is closed: whatever the server
    // still sends has nowhere to go, so the response direction ends too.
    if s.si[0].state() == SiState::Clo
        && s.si[1].state() == SiState::Est
        && s.res.flags.contains(CfFlags::SHUTR)
    {
        s.res.flags.insert(CfFlags::SHUTW);
    }
    if s.si[0].state() == SiState::Clo
        && s.si[1].state() == SiState::Est
        && !s.res.flags.contains(CfFlags::SHUTR)
        && s.req.flags.contains(CfFlags::SHUTW)
    {
        // The client is gone and our FIN reached the server: stop reading
        // the server side too.
        s.res.flags.insert(CfFlags::SHUTR | CfFlags::SHUTW);
    }
}

/// Creates the applet a stream's target names and attaches it to the back
/// SI (REQ -> EST: an applet needs no connection).
pub fn attach_applet(s: &mut Stream, kind: AppletKind, cx: &mut StreamCtx) {
    let atask_id = cx.applets.next_id();
    let atask = cx.sched.create(crate::task::TaskKind::Applet(atask_id));
    let id = cx.applets.insert(Applet::new(kind, s.id, atask));
    debug_assert_eq!(id, atask_id);
    s.si[1].end = End::Applet { id, task: atask };
    s.si[1].set_state(SiState::Est);
    // The applet's side has no timeouts of its own; the client's apply.
    let cli_to = cx.proxies.get(s.fe).map_or(0, |p| p.timeouts.client);
    s.res.wto = cli_to;
    s.res.rto = 0;
    s.req.wto = 0;
    s.res.flags.remove(CfFlags::AUTO_CONNECT);
    cx.sched.wakeup(atask);
}
