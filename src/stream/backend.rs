//! The back stream interface's state machine: server assignment, queueing,
//! connection, retries and redispatch. One handler per state; each names
//! the states it can produce. `update_back_si` is the driver. Every handler
//! takes the stream and the arenas it may touch ([`StreamCtx`]), so each
//! can be driven on a hand-built stream (see the tests below).

use super::queue;
use super::{Finst, SfFlags, Stream, StreamCtx, Target, close_side};
use crate::channel::CfFlags;
use crate::conn::{CoFlags, ConnOwner, Connection, HsFlags, Side};
use crate::proxy::lb::{self, Pick};
use crate::si::{End, ErrType, SiFlags, SiState};
use crate::ticks::{ETERNITY, tick_add, tick_add_ifset, tick_is_expired};

/// Drives the back SI one step from its current state.
pub fn update_back_si(s: &mut Stream, cx: &mut StreamCtx) {
    match s.si[1].state() {
        SiState::Ini => back_handle_st_ini(s),
        SiState::Req => back_handle_st_req(s, cx),
        SiState::Que => back_handle_st_que(s, cx),
        SiState::Tar => back_handle_st_tar(s, cx),
        SiState::Ass => back_handle_st_ass(s, cx),
        SiState::Con => back_handle_st_con(s, cx),
        SiState::Cer => back_handle_st_cer(s, cx),
        SiState::Est => {}
        SiState::Dis => s.si[1].set_state(SiState::Clo),
        SiState::Clo => {}
    }
}

/// INI -> REQ when the request channel asks for a connection, or
/// INI -> CLO when the client is already gone with nothing to forward.
fn back_handle_st_ini(s: &mut Stream) {
    if s.req.flags.contains(CfFlags::AUTO_CONNECT) {
        s.si[1].set_state(SiState::Req);
    } else if s.si[0].state() == SiState::Clo {
        s.si[1].set_state(SiState::Clo);
    }
}

/// REQ -> EST (an applet serves the stream), ASS (server picked), QUE (all
/// servers full), or CLO (no backend: `PC`, no server: `SC`).
fn back_handle_st_req(s: &mut Stream, cx: &mut StreamCtx) {
    let now = cx.clock.now;
    match s.target {
        Target::Applet(kind) => {
            super::attach_applet(s, kind, cx);
            return;
        }
        // A plain address needs no server: connect to it.
        Target::Addr(_) => {
            s.si[1].set_state(SiState::Ass);
            return;
        }
        Target::None | Target::Server(_) => {}
    }
    let Some(be) = s.be else {
        s.set_term('P', Finst::Connect);
        s.si[1].set_state(SiState::Clo);
        return;
    };
    let Some(px) = cx.proxies.get_mut(be) else {
        s.set_term('P', Finst::Connect);
        s.si[1].set_state(SiState::Clo);
        return;
    };
    let src = s.cli_addr.map(|a| a.ip());
    let avoid = if s.flags.contains(SfFlags::REDISP) {
        s.prev_srv
    } else {
        None
    };
    match lb::pick(px, src, avoid) {
        Pick::Server(i) => {
            let Some(srv) = px.servers.get_mut(i) else {
                s.si[1].set_state(SiState::Clo);
                return;
            };
            srv.cur_sess += 1;
            srv.max_sess = srv.max_sess.max(srv.cur_sess);
            srv.cum_sess += 1;
            if avoid.is_some() && avoid != Some(i) {
                srv.redispatches += 1;
            }
            s.target = Target::Server(i);
            s.last_srv = Some(i);
            s.flags.insert(SfFlags::ASSIGNED | SfFlags::CURR_SESS);
            s.si[1].set_state(SiState::Ass);
        }
        Pick::Queue => {
            let (p, len) = queue::enqueue(cx.pends, px, be, s.task);
            s.pend = Some(p);
            // %bq counts the queue including this stream, as HAProxy logs it.
            s.queue_pos = (0, len);
            s.t_queue.get_or_insert(cx.clock.now_abs);
            let qto = if px.timeouts.queue != 0 {
                px.timeouts.queue
            } else {
                px.timeouts.connect
            };
            s.si[1].exp = tick_add_ifset(now, qto);
            s.si[1].set_state(SiState::Que);
        }
        Pick::NoServer => {
            s.set_term('S', Finst::Connect);
            s.si[1].err_type = ErrType::ConnErr;
            s.si[1].set_state(SiState::Clo);
        }
    }
}

/// A slot granted by the queue becomes the stream's server.
pub(super) fn take_grant(s: &mut Stream, cx: &mut StreamCtx) {
    let Some(p) = s.pend else { return };
    if let Some((srv, t)) = queue::take_grant(cx.pends, p) {
        grant(s, srv, t);
    }
}

fn grant(s: &mut Stream, srv: usize, t_dequeue: u64) {
    s.pend = None;
    s.flags.insert(SfFlags::ASSIGNED | SfFlags::CURR_SESS);
    s.target = Target::Server(srv);
    s.last_srv = Some(srv);
    s.t_dequeue = Some(t_dequeue);
}

/// Leaves the queue the stream waits in, if any. A slot granted meanwhile
/// becomes the stream's (so that `release_server` gives it back).
pub fn queue_leave(s: &mut Stream, cx: &mut StreamCtx) {
    let Some(p) = s.pend.take() else { return };
    if let Some((srv, t)) = queue::remove(cx.pends, cx.proxies, p) {
        grant(s, srv, t);
    }
}

/// QUE -> ASS (a slot was granted by `dequeue`), CLO (queue timeout, or
/// client error).
fn back_handle_st_que(s: &mut Stream, cx: &mut StreamCtx) {
    let now = cx.clock.now;
    take_grant(s, cx);
    if s.pend.is_none() && s.flags.contains(SfFlags::ASSIGNED) {
        s.si[1].exp = ETERNITY;
        s.si[1].set_state(SiState::Ass);
        return;
    }
    // A client that errored, or closed with nothing to forward, gives up
    // its place in the queue.
    if s.client_gave_up() {
        s.set_term('C', Finst::Queue);
        s.si[1].err_type = ErrType::QueueAbrt;
        queue_leave(s, cx);
        release_server(s, cx);
        s.si[1].exp = ETERNITY;
        s.si[1].set_state(SiState::Clo);
        return;
    }
    if tick_is_expired(s.si[1].exp, now) {
        s.set_term('s', Finst::Queue);
        s.si[1].err_type = ErrType::QueueTo;
        s.si[1].exp = ETERNITY;
        queue_leave(s, cx);
        release_server(s, cx);
        s.si[1].set_state(SiState::Clo);
    }
}

/// TAR -> ASS (turn-around over, same server), REQ (redispatch), or CLO
/// (the client gave up meanwhile).
fn back_handle_st_tar(s: &mut Stream, cx: &mut StreamCtx) {
    let now = cx.clock.now;
    if s.client_gave_up() {
        s.set_term('C', Finst::Connect);
        s.si[1].exp = ETERNITY;
        s.si[1].set_state(SiState::Clo);
        release_server(s, cx);
        return;
    }
    if !tick_is_expired(s.si[1].exp, now) {
        return;
    }
    s.si[1].exp = ETERNITY;
    if s.flags.contains(SfFlags::ASSIGNED) {
        s.si[1].set_state(SiState::Ass);
    } else {
        s.si[1].set_state(SiState::Req);
    }
}

/// Where and how the back side connects: the target's address (a
/// server's, with the client's destination port or address where the
/// server has none), the connect timeout, the PROXY header to send and
/// whether to enable keep-alive.
struct ConnectPlan {
    addr: std::net::SocketAddr,
    timeout: u32,
    send_proxy: (bool, bool),
    keepalive: bool,
}

fn connect_plan(s: &Stream, cx: &StreamCtx) -> Option<ConnectPlan> {
    let px = s.be.and_then(|b| cx.proxies.get(b));
    let timeout = px.map_or(0, |p| p.timeouts.connect);
    let keepalive = px.is_some_and(|p| p.opts.tcpka || p.opts.srvtcpka);
    match s.target {
        Target::Addr(addr) => Some(ConnectPlan {
            addr,
            timeout,
            send_proxy: (false, false),
            keepalive,
        }),
        Target::Server(i) => {
            let srv = px?.servers.get(i)?;
            let mut addr = srv.addr;
            if !srv.has_port
                && let Some(f) = s.frt_addr
            {
                addr.set_port(f.port());
            }
            if addr.ip().is_unspecified()
                && let Some(f) = s.frt_addr
            {
                addr.set_ip(f.ip());
            }
            Some(ConnectPlan {
                addr,
                timeout,
                send_proxy: (srv.send_proxy, srv.send_proxy_v2),
                keepalive,
            })
        }
        Target::None | Target::Applet(_) => None,
    }
}

/// ASS -> CON (connect() issued) or CER (immediate failure).
fn back_handle_st_ass(s: &mut Stream, cx: &mut StreamCtx) {
    let now = cx.clock.now;
    let Some(plan) = connect_plan(s, cx) else {
        s.si[1].set_state(SiState::Cer);
        return;
    };
    let addr = plan.addr;
    let (send_v1, send_v2) = plan.send_proxy;
    let tune = cx.io.tune;
    let fd = match crate::conn::sock::tcp_connect(&addr, None) {
        Ok((fd, connected)) => {
            set_server_sockopts(fd, plan.keepalive, tune);
            let mut conn = Connection::new(
                fd,
                ConnOwner::Stream {
                    sid: s.id,
                    side: Side::Back,
                },
            );
            // HH_SEND_PROXY: the header goes out before any data.
            if send_v2 {
                conn.out_hdr = Some(crate::conn::proxy_hdr::encode_v2(s.cli_addr, s.frt_addr));
            } else if send_v1 {
                conn.out_hdr = Some(crate::conn::proxy_hdr::encode_v1(s.cli_addr, s.frt_addr));
            }
            if conn.out_hdr.is_some() {
                // The header goes first with MSG_MORE and the data right
                // after: TCP_NODELAY set between them would split them.
                conn.hs.insert(HsFlags::SEND_PROXY);
                let _ =
                    crate::conn::sock::setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
            } else {
                conn.flags.insert(CoFlags::NODELAY_LATE);
            }
            conn.peer = Some(addr);
            if !connected {
                conn.flags.insert(CoFlags::WAIT_L4_CONN);
            }
            match cx.io.conn_insert(conn, true) {
                Ok(cid) => {
                    // Wait for writability (the connection's result);
                    // reading is enabled once established.
                    if let Some(c) = cx.io.conns.get(cid) {
                        c.want_send(&mut cx.io.fds);
                    }
                    s.si[1].end = End::Conn(cid);
                    fd
                }
                Err(_) => {
                    s.si[1].err_type = ErrType::ConnOther;
                    s.si[1].set_state(SiState::Cer);
                    return;
                }
            }
        }
        Err(e) => {
            log::debug!("connect to {addr} failed: {e}");
            s.si[1].err_type = ErrType::ConnErr;
            s.si[1].flags.insert(SiFlags::ERR);
            s.si[1].set_state(SiState::Cer);
            return;
        }
    };
    s.dbg_fds.1 = fd;
    s.si[1].exp = tick_add_ifset(now, plan.timeout);
    s.si[1].set_state(SiState::Con);
    if !s.flags.contains(SfFlags::BE_ASSIGNED)
        && let Some(px) = s.be.and_then(|b| cx.proxies.get_mut(b))
    {
        s.flags.insert(SfFlags::BE_ASSIGNED);
        px.beconn += 1;
        px.cum_beconn += 1;
    }
}

/// The keep-alive and buffer sizes the configuration asks for on a new
/// server socket (TCP_NODELAY comes with the first send that needs it, see
/// `Connection::snd_buf`).
fn set_server_sockopts(fd: i32, keepalive: bool, tune: crate::conn::SockTune) {
    use crate::conn::sock::setsockopt_int;
    if keepalive {
        let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    }
    crate::conn::sock::set_buffer_sizes(fd, tune.rcvbuf_server, tune.sndbuf_server);
}

/// CON -> EST (connected), CER (error or `timeout connect`), CLO (the
/// client gave up: `CC`), or stays.
fn back_handle_st_con(s: &mut Stream, cx: &mut StreamCtx) {
    let now = cx.clock.now;
    let flags = match s.si[1].conn().and_then(|c| cx.io.conns.get(c)) {
        Some(c) => c.flags,
        None => CoFlags::ERROR,
    };
    if flags.contains(CoFlags::ERROR) {
        s.si[1].err_type = ErrType::ConnErr;
        s.si[1].flags.insert(SiFlags::ERR);
        s.si[1].set_state(SiState::Cer);
        return;
    }
    if !flags.contains(CoFlags::WAIT_L4_CONN) {
        back_establish(s, cx);
        return;
    }
    if s.client_gave_up() {
        // The client aborted while we connect: give up now.
        s.set_term('C', Finst::Connect);
        s.si[1].err_type = ErrType::ConnAbrt;
        s.si[1].exp = ETERNITY;
        close_side(s, Side::Back, true, cx);
        s.si[1].set_state(SiState::Clo);
        release_server(s, cx);
        return;
    }
    if tick_is_expired(s.si[1].exp, now) {
        s.si[1].err_type = ErrType::ConnTo;
        s.si[1].set_state(SiState::Cer);
    }
}

/// CON -> EST: arms the data timeouts (`timeout client` / `server`, or
/// `timeout tunnel` for both) and starts moving data: reading on the server
/// side, and what the client sent so far goes out at once.
fn back_establish(s: &mut Stream, cx: &mut StreamCtx) {
    let now = cx.clock.now;
    s.si[1].exp = ETERNITY;
    s.si[1].err_type = ErrType::None;
    s.si[1].set_state(SiState::Est);
    s.t_connect = Some(cx.clock.now_abs);
    let fe_to = cx.proxies.get(s.fe).map(|p| p.timeouts).unwrap_or_default();
    let be_to =
        s.be.and_then(|b| cx.proxies.get(b))
            .map(|p| p.timeouts)
            .unwrap_or_default();
    let (cli, srv) = if be_to.tunnel != 0 {
        (be_to.tunnel, be_to.tunnel)
    } else {
        (fe_to.client, be_to.server)
    };
    s.req.rto = cli;
    s.res.wto = cli;
    s.res.rto = srv;
    s.req.wto = srv;
    if !s.req.flags.contains(CfFlags::SHUTR) {
        s.req.rex = tick_add_ifset(now, cli);
    }
    s.res.rex = tick_add_ifset(now, srv);
    if let Some(c) = s.si[1].conn().and_then(|c| cx.io.conns.get(c)) {
        c.want_recv(&mut cx.io.fds);
    }
    // Send what the client already sent.
    let task = s.task;
    let req_full = s.req.flags.contains(CfFlags::FULL);
    if super::io::send(s, Side::Back, &mut cx.si(task)) {
        cx.sched.wakeup(task);
    }
    if !req_full && let Some(c) = s.si[0].conn().and_then(|c| cx.io.conns.get(c)) {
        c.want_recv(&mut cx.io.fds);
    }
}

/// CER -> TAR (async error: wait before retrying), ASS (retry now on the
/// same server), REQ (redispatch), or CLO (no retry left: `SC`/`sC`).
fn back_handle_st_cer(s: &mut Stream, cx: &mut StreamCtx) {
    let now = cx.clock.now;
    close_side(s, Side::Back, true, cx);
    let Some(be) = s.be else {
        s.si[1].set_state(SiState::Clo);
        return;
    };
    let Some(px) = cx.proxies.get_mut(be) else {
        s.si[1].set_state(SiState::Clo);
        return;
    };
    if let Some(x) = s.srv().and_then(|i| px.servers.get_mut(i)) {
        x.failed_conns += 1;
    }
    let err = s.si[1].err_type;
    let redispatch = px.opts.redispatch;
    let cto = px.timeouts.connect;
    if s.si[1].conn_retries == 0 || s.si[0].flags.contains(SiFlags::ERR) {
        let c = if err == ErrType::ConnTo { 's' } else { 'S' };
        if s.si[0].flags.contains(SiFlags::ERR) {
            s.set_term('C', Finst::Connect);
        } else {
            s.set_term(c, Finst::Connect);
        }
        s.si[1].exp = ETERNITY;
        s.si[1].set_state(SiState::Clo);
        release_server(s, cx);
        return;
    }
    s.si[1].conn_retries -= 1;
    s.retries_done += 1;
    if let Some(x) = s.srv().and_then(|i| px.servers.get_mut(i)) {
        x.retries += 1;
    }
    // With `option redispatch`, a non-deterministic algorithm picks
    // another server right away when there is another one to pick
    // (hash-based `source` stays on its server but for the last retry).
    let usable = px.servers.iter().filter(|x| x.usable()).count();
    let hash = px.balance == crate::cfg::model::Balance::Source;
    let redisp = redispatch && usable > 1 && (!hash || s.si[1].conn_retries == 0);
    if redisp {
        s.prev_srv = s.srv();
        s.flags.insert(SfFlags::REDISP);
        release_server(s, cx);
    }
    let async_err = s.si[1].flags.contains(SiFlags::ERR);
    s.si[1].flags.remove(SiFlags::ERR);
    if redisp {
        // Another server: no reason to wait before trying it.
        s.si[1].set_state(SiState::Req);
    } else if async_err || err == ErrType::ConnErr || err == ErrType::ConnOther {
        // Retrying at once would likely fail the same way: pause
        // min(1s, timeout connect) first.
        let delay = if cto != 0 && cto < 1000 { cto } else { 1000 };
        s.si[1].exp = tick_add(now, delay);
        s.si[1].set_state(SiState::Tar);
    } else if s.flags.contains(SfFlags::ASSIGNED) {
        s.si[1].set_state(SiState::Ass);
    } else {
        s.si[1].set_state(SiState::Req);
    }
}

/// Gives back the server slot (and backend count) a stream holds, then
/// lets the next queued stream take it.
pub fn release_server(s: &mut Stream, cx: &mut StreamCtx) {
    let Some(be) = s.be else { return };
    if !s.flags.contains(SfFlags::CURR_SESS) {
        return;
    }
    s.flags.remove(SfFlags::CURR_SESS | SfFlags::ASSIGNED);
    let srv = s.srv();
    s.target = Target::None;
    let Some(i) = srv else { return };
    if let Some(x) = cx.proxies.get_mut(be).and_then(|p| p.servers.get_mut(i)) {
        x.cur_sess = x.cur_sess.saturating_sub(1);
    }
    queue::dequeue(cx.pends, cx.proxies, cx.sched, be, i, cx.clock.now_abs);
}

/// Each state handler driven on a hand-built stream: the proxies, queues
/// and clock are built by hand, connections are fake (no socket) except
/// where a real connect() is the point (ASS).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::applet::{Applet, AppletKind};
    use crate::arena::{AppletId, Arena, Id, PendId, StreamId};
    use crate::cfg::model::{Cap, CliLevel, DefaultServer, ProxyCfg, ServerCfg, Timeouts};
    use crate::channel::AnFlags;
    use crate::conn::IoCtx;
    use crate::proxy::Proxy;
    use crate::stream::queue::PendConn;
    use crate::task::{Scheduler, TaskKind};
    use crate::ticks::Clock;

    /// Everything a handler may touch, built by hand.
    struct World {
        io: IoCtx,
        sched: Scheduler,
        clock: Clock,
        proxies: Vec<Proxy>,
        pends: Arena<PendId, PendConn>,
        applets: Arena<AppletId, Applet>,
    }

    /// A `listen` proxy (index 0) whose servers have these maxconns
    /// (0: none), with `timeout connect 1s`, `timeout queue 2s`,
    /// `timeout client 7s`, `timeout server 9s`, `retries 2`.
    fn world(maxconns: &[u32], redispatch: bool) -> World {
        let servers = maxconns
            .iter()
            .enumerate()
            .map(|(i, &maxconn)| {
                let d = DefaultServer {
                    maxconn,
                    ..DefaultServer::default()
                };
                let addr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
                ServerCfg::new(format!("s{i}"), addr, Some(9), &d, None, 1)
            })
            .collect();
        let mut cfg = ProxyCfg {
            name: "px".into(),
            cap: Cap { fe: true, be: true },
            servers,
            retries: 2,
            timeouts: Timeouts {
                connect: 1000,
                queue: 2000,
                client: 7000,
                server: 9000,
                ..Timeouts::default()
            },
            ..Default::default()
        };
        cfg.opts.redispatch = redispatch;
        let mut px = Proxy::from_cfg(&cfg, 1, &[], 0);
        px.default_backend = Some(0);
        let mut clock = Clock::new();
        clock.jump_to(10_000);
        World {
            io: IoCtx::new(1024, 64, 4, 65536, false).expect("io"),
            sched: Scheduler::new(),
            clock,
            proxies: vec![px],
            pends: Arena::with_capacity(4),
            applets: Arena::with_capacity(4),
        }
    }

    impl World {
        fn cx(&mut self) -> StreamCtx<'_> {
            StreamCtx {
                io: &mut self.io,
                sched: &mut self.sched,
                clock: &self.clock,
                proxies: &mut self.proxies,
                pends: &mut self.pends,
                applets: &mut self.applets,
            }
        }

        /// A stream on backend 0 whose back SI is in `state`, reached by
        /// allowed edges only.
        fn stream(&mut self, n: usize, state: SiState) -> Stream {
            let task = self.sched.create(TaskKind::Stopper);
            let id = StreamId::from_idx(n);
            let mut s = Stream::new(id, task, 0, 0, Target::None, AnFlags::empty());
            super::super::set_backend(&mut s, 0, &self.proxies);
            let path: &[SiState] = match state {
                SiState::Ini => &[],
                SiState::Req => &[SiState::Req],
                SiState::Que => &[SiState::Req, SiState::Que],
                SiState::Ass => &[SiState::Req, SiState::Ass],
                SiState::Con => &[SiState::Req, SiState::Ass, SiState::Con],
                SiState::Cer => &[SiState::Req, SiState::Ass, SiState::Cer],
                SiState::Tar => &[SiState::Req, SiState::Ass, SiState::Cer, SiState::Tar],
                other => panic!("no path to {other}"),
            };
            for &st in path {
                s.si[1].set_state(st);
            }
            s
        }

        /// A fake established connection (no socket) as the back end.
        fn fake_conn(&mut self, s: &mut Stream, flags: CoFlags) -> crate::arena::ConnId {
            let mut c = Connection::new(
                -1,
                ConnOwner::Stream {
                    sid: s.id,
                    side: Side::Back,
                },
            );
            c.flags = flags;
            let cid = self.io.conns.insert(c);
            s.si[1].end = End::Conn(cid);
            cid
        }

        /// Takes server `i` for a stream, as a successful REQ would.
        fn assign(&mut self, s: &mut Stream, i: usize) {
            s.target = Target::Server(i);
            s.last_srv = Some(i);
            s.flags.insert(SfFlags::ASSIGNED | SfFlags::CURR_SESS);
            self.proxies[0].servers[i].cur_sess += 1;
        }
    }

    #[test]
    fn ini_asks_for_a_connection_or_closes_without_a_client() {
        let mut w = world(&[0], false);
        let mut s = w.stream(0, SiState::Ini);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Req);
        let mut s = w.stream(1, SiState::Ini);
        s.req.flags.remove(CfFlags::AUTO_CONNECT);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(
            s.si[1].state(),
            SiState::Ini,
            "waits while the client is there"
        );
        s.si[0].set_state(SiState::Clo);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Clo);
    }

    #[test]
    fn req_assigns_a_free_server_and_counts_it() {
        let mut w = world(&[1, 0], false);
        w.proxies[0].servers[0].cur_sess = 1; // s0 is full
        let mut s = w.stream(0, SiState::Req);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Ass);
        assert_eq!(s.target, Target::Server(1));
        assert!(s.flags.contains(SfFlags::ASSIGNED | SfFlags::CURR_SESS));
        assert_eq!(w.proxies[0].servers[1].cur_sess, 1);
        assert_eq!(w.proxies[0].servers[1].cum_sess, 1);
    }

    #[test]
    fn req_queues_when_every_server_is_full() {
        let mut w = world(&[1], false);
        w.proxies[0].servers[0].cur_sess = 1;
        let mut s = w.stream(0, SiState::Req);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Que);
        assert_eq!(w.proxies[0].queue.len(), 1);
        assert_eq!(s.queue_pos, (0, 1), "%bq counts the stream itself");
        assert_eq!(s.si[1].exp, w.clock.now.wrapping_add(2000));
        assert_eq!(s.t_queue, Some(10_000));
    }

    #[test]
    fn req_without_usable_server_or_backend_closes() {
        let mut w = world(&[0], false);
        w.proxies[0].servers[0].state = crate::proxy::SrvState::Maint;
        let mut s = w.stream(0, SiState::Req);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Clo);
        assert_eq!((s.err, s.finst), ('S', Finst::Connect));
        let mut s = w.stream(1, SiState::Req);
        s.be = None;
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Clo);
        assert_eq!((s.err, s.finst), ('P', Finst::Connect));
    }

    #[test]
    fn req_with_an_applet_target_is_established_without_connecting() {
        let mut w = world(&[0], false);
        let mut s = w.stream(0, SiState::Req);
        s.target = Target::Applet(AppletKind::Cli(CliLevel::Admin));
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Est);
        let End::Applet { id, task } = s.si[1].end else {
            panic!("no applet attached: {:?}", s.si[1].end);
        };
        assert_eq!(w.applets.get(id).map(|a| a.sid), Some(s.id));
        assert_eq!(w.sched.pop_runnable(), Some((task, TaskKind::Applet(id))));
        assert_eq!(s.res.wto, 7000, "the client's timeout covers the reply");
        assert!(w.io.conns.is_empty());
        assert_eq!(w.proxies[0].servers[0].cur_sess, 0, "no server involved");
    }

    #[test]
    fn req_with_an_address_target_skips_load_balancing() {
        let mut w = world(&[0], false);
        let mut s = w.stream(0, SiState::Req);
        s.target = Target::Addr("127.0.0.1:9".parse().expect("addr"));
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Ass);
        assert_eq!(w.proxies[0].servers[0].cum_sess, 0);
    }

    #[test]
    fn que_takes_a_granted_slot() {
        let mut w = world(&[1], false);
        let mut holder = w.stream(0, SiState::Ass);
        w.assign(&mut holder, 0);
        let mut s = w.stream(1, SiState::Req);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Que);
        // Still full: nothing happens.
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Que);
        // The holder releases its slot: the queued stream is woken with it.
        w.clock.jump_to(10_500);
        release_server(&mut holder, &mut w.cx());
        assert_eq!(w.sched.pop_runnable(), Some((s.task, TaskKind::Stopper)));
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Ass);
        assert_eq!(s.target, Target::Server(0));
        assert_eq!(s.t_dequeue, Some(10_500));
        assert_eq!(w.proxies[0].servers[0].cur_sess, 1);
        assert!(w.pends.is_empty() && w.proxies[0].queue.is_empty());
    }

    #[test]
    fn que_times_out_with_sq_and_a_client_abort_is_cq() {
        let mut w = world(&[1], false);
        w.proxies[0].servers[0].cur_sess = 1;
        let mut s = w.stream(0, SiState::Req);
        update_back_si(&mut s, &mut w.cx());
        w.clock.jump_to(11_999);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Que, "1999 ms of 2000");
        w.clock.jump_to(12_000);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Clo);
        assert_eq!((s.err, s.finst), ('s', Finst::Queue));
        assert!(w.proxies[0].queue.is_empty() && w.pends.is_empty());

        let mut s = w.stream(1, SiState::Req);
        update_back_si(&mut s, &mut w.cx());
        s.req.flags.insert(CfFlags::SHUTR); // the client closed, nothing to send
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Clo);
        assert_eq!((s.err, s.finst), ('C', Finst::Queue));
        assert!(w.proxies[0].queue.is_empty() && w.pends.is_empty());
    }

    #[test]
    fn ass_connects_and_arms_the_connect_timeout() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        let mut w = world(&[0], false);
        let mut s = w.stream(0, SiState::Ass);
        s.target = Target::Addr(l.local_addr().expect("addr"));
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Con);
        assert_eq!(s.si[1].exp, w.clock.now.wrapping_add(1000));
        assert!(s.flags.contains(SfFlags::BE_ASSIGNED));
        assert_eq!(w.proxies[0].beconn, 1);
        let cid = s.si[1].conn().expect("connection");
        assert!(
            w.io.conns
                .get(cid)
                .is_some_and(|c| c.peer == l.local_addr().ok())
        );
        super::super::close_side(&mut s, Side::Back, true, &mut w.cx());
    }

    #[test]
    fn con_becomes_est_once_connected_with_the_data_timeouts() {
        let mut w = world(&[0], false);
        let mut s = w.stream(0, SiState::Con);
        w.assign(&mut s, 0);
        w.fake_conn(&mut s, CoFlags::WAIT_L4_CONN);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Con, "still connecting");
        let cid = s.si[1].conn().expect("conn");
        if let Some(c) = w.io.conns.get_mut(cid) {
            c.flags.remove(CoFlags::WAIT_L4_CONN);
        }
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Est);
        assert_eq!(s.t_connect, Some(10_000));
        assert_eq!(
            (s.req.rto, s.res.wto, s.res.rto, s.req.wto),
            (7000, 7000, 9000, 9000)
        );
        assert_eq!(s.res.rex, w.clock.now.wrapping_add(9000));
        assert_eq!(s.si[1].exp, crate::ticks::ETERNITY);
    }

    #[test]
    fn con_error_or_timeout_is_cer_and_a_client_abort_is_cc() {
        let mut w = world(&[0], false);
        let mut s = w.stream(0, SiState::Con);
        w.fake_conn(&mut s, CoFlags::WAIT_L4_CONN | CoFlags::ERROR);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Cer);
        assert_eq!(s.si[1].err_type, ErrType::ConnErr);

        let mut s = w.stream(1, SiState::Con);
        w.fake_conn(&mut s, CoFlags::WAIT_L4_CONN);
        s.si[1].exp = w.clock.now.wrapping_add(1000);
        w.clock.jump_to(11_000);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Cer);
        assert_eq!(s.si[1].err_type, ErrType::ConnTo);

        let mut s = w.stream(2, SiState::Con);
        w.assign(&mut s, 0);
        w.fake_conn(&mut s, CoFlags::WAIT_L4_CONN);
        s.si[0].flags.insert(SiFlags::ERR);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Clo);
        assert_eq!((s.err, s.finst), ('C', Finst::Connect));
        assert_eq!(s.si[1].end, End::None, "the attempt was closed");
        assert_eq!(w.proxies[0].servers[0].cur_sess, 0, "slot given back");
    }

    #[test]
    fn cer_after_a_refusal_waits_in_tar_then_retries_the_same_server() {
        let mut w = world(&[0, 0], false);
        let mut s = w.stream(0, SiState::Cer);
        w.assign(&mut s, 1);
        s.si[1].err_type = ErrType::ConnErr;
        s.si[1].flags.insert(SiFlags::ERR);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Tar);
        assert_eq!(
            s.si[1].exp,
            w.clock.now.wrapping_add(1000),
            "min(1s, timeout connect)"
        );
        assert_eq!((s.retries_done, s.si[1].conn_retries), (1, 1));
        assert_eq!(w.proxies[0].servers[1].failed_conns, 1);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Tar, "turn-around not over");
        w.clock.jump_to(11_000);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Ass);
        assert_eq!(s.target, Target::Server(1));
    }

    #[test]
    fn cer_after_a_local_resource_failure_waits_too() {
        let mut w = world(&[0], false);
        let mut s = w.stream(0, SiState::Cer);
        w.assign(&mut s, 0);
        s.si[1].err_type = ErrType::ConnOther;
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Tar, "no busy retry loop");
    }

    #[test]
    fn cer_after_a_timeout_retries_at_once() {
        let mut w = world(&[0], false);
        let mut s = w.stream(0, SiState::Cer);
        w.assign(&mut s, 0);
        s.si[1].err_type = ErrType::ConnTo;
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Ass);
    }

    #[test]
    fn cer_redispatches_to_another_server() {
        let mut w = world(&[0, 0], true);
        let mut s = w.stream(0, SiState::Cer);
        w.assign(&mut s, 0);
        s.si[1].err_type = ErrType::ConnErr;
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(s.si[1].state(), SiState::Req);
        assert!(s.flags.contains(SfFlags::REDISP));
        assert_eq!(w.proxies[0].servers[0].cur_sess, 0);
        update_back_si(&mut s, &mut w.cx());
        assert_eq!(
            s.target,
            Target::Server(1),
            "the previous server is avoided"
        );
        assert_eq!(w.proxies[0].servers[1].redispatches, 1);
    }

    #[test]
    fn cer_without_retries_left_closes_with_sc() {
        for (err, code) in [(ErrType::ConnErr, 'S'), (ErrType::ConnTo, 's')] {
            let mut w = world(&[0], false);
            let mut s = w.stream(0, SiState::Cer);
            w.assign(&mut s, 0);
            s.si[1].conn_retries = 0;
            s.si[1].err_type = err;
            update_back_si(&mut s, &mut w.cx());
            assert_eq!(s.si[1].state(), SiState::Clo);
            assert_eq!((s.err, s.finst), (code, Finst::Connect));
            assert_eq!(w.proxies[0].servers[0].cur_sess, 0);
        }
    }
}
