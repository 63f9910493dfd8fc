//! Each state handler driven on a hand-built stream: the proxies, queues
//! and clock are built by hand, connections are fake (no socket) except
//! where a real connect() is the point (ASS).
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
    http: crate::http::HttpScratch,
    rules: crate::rules::store::RuleStore,
    rx: super::super::rules_env::RuleScratch,
    logger: crate::log::Logger,
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
        http: crate::http::HttpScratch::new(101),
        rules: Default::default(),
        rx: Default::default(),
        logger: crate::log::Logger::new("test", None),
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
            http: &mut self.http,
            rules: &self.rules,
            rx: &mut self.rx,
            logger: &mut self.logger,
            actconn: 0,
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
