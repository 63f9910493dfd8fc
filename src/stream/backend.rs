//! The back stream interface's state machine: server assignment, queueing,
//! connection, retries and redispatch. One handler per state; each names
//! the states it can produce. `update_back_si` is the driver. Every handler
//! takes the stream and the arenas it may touch ([`StreamCtx`]), so each
//! can be driven on a hand-built stream (see the tests below).

use super::queue;
use super::{Finst, SfFlags, Stream, StreamCtx, Target, close_side};
use crate::channel::CfFlags;
use crate::conn::handshake::HsStep;
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
    if let Some(i) = s.use_srv.take().map(|i| i as usize)
        && usable_now(cx, be, i, s.flags.contains(SfFlags::FORCE_PRST))
        && let Some(srv) = cx.proxies.get_mut(be).and_then(|p| p.servers.get_mut(i))
    {
        srv.take_slot();
        s.target = Target::Server(i);
        s.last_srv = Some(i);
        s.flags.insert(SfFlags::ASSIGNED | SfFlags::CURR_SESS);
        s.si[1].set_state(SiState::Ass);
        return;
    }
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
            srv.take_slot();
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
            // Counted as a connection error of the backend (`econ`).
            px.failed_conns += 1;
            s.set_term('S', Finst::Connect);
            s.si[1].err_type = ErrType::ConnErr;
            s.si[1].set_state(SiState::Clo);
        }
    }
}

/// AN_REQ_SRV_RULES: the backend's `use-server` rules, run once the backend
/// is known and before the request is forwarded; the server named by the
/// first matching rule is taken when the stream connects (`use_srv`).
pub fn process_server_rules(s: &mut Stream, cx: &mut StreamCtx) {
    persist_rules(s, cx);
    s.use_srv =
        s.be.and_then(|be| use_server(s, cx, be))
            .and_then(|i| u32::try_from(i).ok());
}

/// The backend's `force-persist` / `ignore-persist` rules: the first that
/// matches sets the stream's flag.
fn persist_rules(s: &mut Stream, cx: &mut StreamCtx) {
    let Some(rules) =
        s.be.and_then(|b| cx.proxies.get(b))
            .map(|p| std::rc::Rc::clone(&p.persist_rules))
            .filter(|r| !r.is_empty())
    else {
        return;
    };
    let want = super::rules_env::Want {
        req: Some(crate::http::ana::req_opts(s, cx)),
        ..Default::default()
    };
    let hit = super::rules_env::with_rules(s, cx, want, |env, ecx| {
        rules
            .iter()
            .find(|(_, c)| c.test(env, ecx))
            .map(|(f, _)| *f)
    });
    match hit {
        Some(true) => s.flags.insert(SfFlags::FORCE_PRST),
        Some(false) => s.flags.insert(SfFlags::IGNORE_PRST),
        None => {}
    }
}

/// Whether server `i` of `be` can take the stream now: up (or in any state
/// under `force-persist`), with a free slot; otherwise load balancing
/// decides, as 2.6 does for a server that is down (a full one is not
/// queued on).
fn usable_now(cx: &StreamCtx, be: usize, i: usize, forced: bool) -> bool {
    cx.proxies
        .get(be)
        .and_then(|p| p.servers.get(i))
        .is_some_and(|srv| {
            (forced || srv.state == crate::proxy::SrvState::Up)
                && (srv.maxconn == 0 || srv.cur_sess < srv.maxconn)
        })
}

/// The server the first matching `use-server` rule of `be` names.
fn use_server(s: &mut Stream, cx: &mut StreamCtx, be: usize) -> Option<usize> {
    let rules = cx
        .proxies
        .get(be)
        .map(|p| std::rc::Rc::clone(&p.server_rules))
        .filter(|r| !r.is_empty())?;
    let want = super::rules_env::Want {
        req: Some(crate::http::ana::req_opts(s, cx)),
        ..Default::default()
    };
    super::rules_env::with_rules(s, cx, want, |env, ecx| {
        rules
            .iter()
            .find(|(_, c)| c.test(env, ecx))
            .map(|(i, _)| *i)
    })
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
    pp_opts: crate::conn::proxy_send::PpOpts,
    keepalive: bool,
    /// TLS to the server, and the SNI to send.
    tls: Option<(std::rc::Rc<crate::ssl::server::SrvTls>, Option<String>)>,
    /// The server's count of connections in use (`reuse::purge`).
    conn_use: Option<std::rc::Rc<super::reuse::ConnUse>>,
}

fn connect_plan(s: &mut Stream, cx: &mut StreamCtx) -> Option<ConnectPlan> {
    let px = s.be.and_then(|b| cx.proxies.get(b));
    let timeout = px.map_or(0, |p| p.timeouts.connect);
    let keepalive = px.is_some_and(|p| p.opts.tcpka || p.opts.srvtcpka);
    match s.target {
        Target::Addr(addr) => Some(ConnectPlan {
            addr,
            timeout,
            pp_opts: Default::default(),
            keepalive,
            tls: None,
            conn_use: None,
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
            let pp_opts = srv.pp_opts;
            let tls = srv.tls.clone();
            let sni = srv.sni.clone();
            let conn_use = srv.conn_use.clone();
            let tls = tls.map(|t| (t, sni.and_then(|x| eval_sni(s, cx, &x))));
            Some(ConnectPlan {
                addr,
                timeout,
                pp_opts,
                keepalive,
                tls,
                conn_use: Some(conn_use),
            })
        }
        Target::None | Target::Applet(_) => None,
    }
}

/// The PROXY header for this stream's server connection (HAProxy's
/// `make_proxy_line` with the client connection as `remote`): v2 when the
/// server has `send-proxy-v2`, with the TLVs its options ask for and the
/// ALPN the client negotiated; the v1 line otherwise.
fn make_proxy_line(
    s: &Stream,
    cx: &StreamCtx,
    opts: crate::conn::proxy_send::PpOpts,
    rendered_id: Option<&[u8]>,
) -> Vec<u8> {
    use crate::conn::proxy_send::{self as pps, ClientInfo, PpOpts, SslInfo};
    if !opts.contains(PpOpts::V2) {
        return pps::encode_v1(s.cli_addr, s.frt_addr);
    }
    let ssl = cx
        .io
        .front_ssl(s.id, s.si.first().and_then(|si| si.conn()))
        .map(|x| x.ssl());
    // The client certificate, held here for the CN sub-TLV to borrow.
    let peer = ssl.and_then(|x| x.peer_certificate());
    let unique_id = s
        .txn
        .as_ref()
        .map(|t| t.unique_id.as_slice())
        .filter(|u| !u.is_empty())
        .or(rendered_id)
        .or(Some(b""));
    let cli = ClientInfo {
        alpn: ssl.and_then(|x| x.selected_alpn_protocol()),
        // An AUTHORITY received in the client's own PROXY header is passed
        // on; the SNI the client sent otherwise (as 2.6).
        authority: s
            .pp
            .as_ref()
            .and_then(|p| p.last(crate::conn::proxy_hdr::pp2::AUTHORITY))
            .or_else(|| ssl.and_then(|x| x.servername_raw(openssl::ssl::NameType::HOST_NAME))),
        unique_id,
        ssl: ssl.map(|x| SslInfo::from_ssl(x, peer.as_deref())),
    };
    pps::encode_v2_tlv(s.cli_addr, s.frt_addr, opts, &cli)
}

/// The frontend's `unique-id-format` rendered for a PROXY v2 UNIQUE_ID TLV
/// when the stream has no ID yet (TCP mode; an HTTP transaction renders it
/// in `process_fe`). None when not needed.
fn pp_unique_id(
    s: &mut Stream,
    cx: &mut StreamCtx,
    opts: crate::conn::proxy_send::PpOpts,
) -> Option<Vec<u8>> {
    use crate::conn::proxy_send::PpOpts;
    if !opts.contains(PpOpts::V2 | PpOpts::V2_UNIQUE_ID)
        || s.txn.as_ref().is_some_and(|t| !t.unique_id.is_empty())
    {
        return None;
    }
    let lf = cx.proxies.get(s.fe)?.http.unique_id_fmt.clone()?;
    let mut id = Vec::new();
    super::rules_env::with_rules(s, cx, Default::default(), |env, ecx| {
        env.render_bytes(&lf, ecx, &mut id)
    });
    Some(id)
}

/// The server name to send (`sni <expr>`), evaluated on the stream.
fn eval_sni(
    s: &mut Stream,
    cx: &mut StreamCtx,
    x: &crate::rules::expr::SampleExpr,
) -> Option<String> {
    let want = super::rules_env::Want {
        req: s.txn.is_some().then(|| crate::http::ana::req_opts(s, cx)),
        ..Default::default()
    };
    super::rules_env::with_rules(s, cx, want, |env, ecx| {
        let smp = x.eval(env, ecx)?;
        let smp = smp.cast(crate::rules::sample::SmpType::Str, ecx.pool)?;
        let name = String::from_utf8_lossy(smp.bytes()?).into_owned();
        smp.recycle(ecx.pool);
        Some(name)
    })
}

/// ASS -> CON (connect() issued) or CER (immediate failure).
fn back_handle_st_ass(s: &mut Stream, cx: &mut StreamCtx) {
    let now = cx.clock.now;
    // An idle connection to the assigned server: no connect (HTTP reuse).
    if s.txn.is_some() && super::reuse::take(s, cx) {
        s.si[1].set_state(SiState::Con);
        back_establish(s, cx);
        return;
    }
    let Some(plan) = connect_plan(s, cx) else {
        s.si[1].set_state(SiState::Cer);
        return;
    };
    let addr = plan.addr;
    let pp_opts = plan.pp_opts;
    // Rendered before the connect: it needs the whole stream.
    let unique_id = pp_unique_id(s, cx, pp_opts);
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
            conn.in_use = plan.conn_use.as_ref().map(super::reuse::InUse::new);
            // HH_SEND_PROXY: the header goes out before any data.
            if !pp_opts.is_empty() {
                conn.out_hdr = Some(make_proxy_line(s, cx, pp_opts, unique_id.as_deref()));
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
            // HAProxy's "close hard if needed" (FD_LINGER_RISK).
            conn.flags.insert(CoFlags::LINGER_RISK);
            if !connected {
                conn.flags.insert(CoFlags::WAIT_L4_CONN);
            }
            if let Some((tls, sni)) = &plan.tls {
                let ok = tls
                    .new_ssl(sni.as_deref())
                    .is_ok_and(|ssl| conn.set_ssl(ssl, false, tls.maxrecord));
                if !ok {
                    crate::conn::sock::close(fd);
                    s.si[1].err_type = ErrType::ConnOther;
                    s.si[1].set_state(SiState::Cer);
                    return;
                }
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
        if !flags.contains(CoFlags::WAIT_L6_CONN) {
            back_establish(s, cx);
            return;
        }
        // TLS to the server: established once the handshake is done, within
        // `timeout connect`; a failed one is a connection error (retried).
        let has_output = s.req.has_output();
        let step = match s.si[1].conn().and_then(|c| cx.io.conns.get_mut(c)) {
            Some(c) => crate::conn::handshake::run(c, &mut cx.io.fds, has_output),
            None => HsStep::Failed(crate::conn::HsErr::PrxSend),
        };
        match step {
            HsStep::Done => {
                back_establish(s, cx);
                return;
            }
            HsStep::Failed(_) => {
                s.si[1].err_type = ErrType::ConnErr;
                s.si[1].flags.insert(SiFlags::ERR);
                s.si[1].set_state(SiState::Cer);
                return;
            }
            HsStep::Wait => {}
        }
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
    // `http-request set-timeout` overrides the backend's for this request.
    let (srv_over, tun_over) = s
        .txn
        .as_ref()
        .map_or((None, None), |t| (t.timeout_server, t.timeout_tunnel));
    let tunnel = tun_over.unwrap_or(be_to.tunnel);
    let (cli, srv) = if tunnel != 0 {
        (tunnel, tunnel)
    } else {
        (fe_to.client, srv_over.unwrap_or(be_to.server))
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

/// Each state handler driven on a hand-built stream (`backend_tests.rs`).
#[cfg(test)]
#[path = "backend_tests.rs"]
mod tests;
