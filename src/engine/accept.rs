//! Accepting connections, running their handshakes, creating streams, and
//! ending them.
//!
//! ```text
//!   accept() --> Connection (owner: listener) --handshake handlers done--> stream_new
//!                     |  (HH_ACCEPT_PROXY ..., bounded by `timeout client`)
//!                     \--failed / timed out--> error log line, close
//! ```
//!
//! A stats socket's connections take the same path; their streams belong
//! to the internal `GLOBAL` frontend and target the CLI applet. They are not
//! counted against `maxconn`.

use super::Engine;
use crate::applet::AppletKind;
use crate::arena::{ConnId, TaskId};
use crate::conn::{ConnOwner, Connection, HsErr, HsFlags, Side, handshake};
use crate::listener::{LiKind, LiState};
use crate::log::{TcpLog, format_connect, format_tcplog, wall_now};
use crate::si::{End, SiFlags};
use crate::stream::{SfFlags, Stream, StreamId, Target};
use crate::task::TaskKind;
use crate::ticks::tick_add_ifset;

impl Engine {
    /// Accepts up to `tune.maxaccept` connections on listener `li`, pausing
    /// it (state FULL) when a maxconn limit is reached.
    pub fn accept_loop(&mut self, li: usize) {
        let max = if self.maxaccept <= 0 {
            usize::MAX
        } else {
            self.maxaccept as usize
        };
        for _ in 0..max {
            let Some(l) = self.listeners.get(li) else {
                return;
            };
            if l.state != LiState::Ready {
                self.io.fds.stop_recv(l.fd);
                return;
            }
            let counted = l.kind == LiKind::Proxy;
            let fe_full = self
                .proxies
                .get(l.fe)
                .is_some_and(|p| p.maxconn > 0 && p.feconn >= p.maxconn);
            if counted
                && (self.actconn >= self.maxconn
                    || fe_full
                    || (l.maxconn > 0 && l.nbconn >= l.maxconn))
            {
                self.pause_full(li);
                return;
            }
            let lfd = l.fd;
            if let LiKind::SockPair(_) = l.kind {
                self.sockpair_accept(li);
                return;
            }
            match crate::conn::sock::accept(lfd) {
                Ok(Some((fd, peer))) => self.session_accept(li, fd, peer),
                Ok(None) => {
                    self.io.fds.cant_recv(lfd);
                    return;
                }
                Err(e) => {
                    match e.raw_os_error() {
                        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS)
                        | Some(libc::ENOMEM) => {
                            log::warn!("accept(): {e}; pausing listener");
                            self.pause_full(li);
                        }
                        _ => {} // ECONNABORTED and friends: try the next one
                    }
                    return;
                }
            }
        }
    }

    /// The master's socketpair: each message carries the fds of new CLI
    /// connections. Its end of file means the master is gone: a worker
    /// does not outlive its master (HAProxy's workers leave at once too).
    fn sockpair_accept(&mut self, li: usize) {
        let Some(lfd) = self.listeners.get(li).map(|l| l.fd) else {
            return;
        };
        let mut fds = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..64 {
            match crate::listener::xfer::recv_fds(lfd, &mut buf, &mut fds) {
                Ok(0) => {
                    for fd in fds.drain(..) {
                        crate::conn::sock::close(fd);
                    }
                    self.exit_code = 1;
                    self.exit_now = true;
                    return;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.io.fds.cant_recv(lfd);
                    break;
                }
                Err(_) => break,
            }
        }
        for fd in fds {
            let _ = crate::conn::sock::set_nonblocking(fd);
            self.session_accept(li, fd, None);
        }
    }

    fn pause_full(&mut self, li: usize) {
        self.listeners_full = true;
        if let Some(l) = self.listeners.get_mut(li) {
            if l.state == LiState::Ready {
                l.state = LiState::Full;
            }
            self.io.fds.stop_recv(l.fd);
        }
    }

    /// Resumes listeners paused on a maxconn limit that is no longer reached.
    pub(crate) fn resume_listeners(&mut self) {
        if self.actconn >= self.maxconn {
            return;
        }
        for i in 0..self.listeners.len() {
            let l = &self.listeners[i];
            if l.state != LiState::Full {
                continue;
            }
            let fe_full = self
                .proxies
                .get(l.fe)
                .is_some_and(|p| p.maxconn > 0 && p.feconn >= p.maxconn);
            if fe_full || (l.maxconn > 0 && l.nbconn >= l.maxconn) {
                continue;
            }
            let fd = l.fd;
            self.listeners[i].state = LiState::Ready;
            self.io.fds.want_recv(fd);
            // Connections may have queued in the backlog meanwhile.
            self.io.fds.may_recv(fd);
        }
    }

    /// Sets up an accepted connection: counts it, applies the socket
    /// options, and either creates its stream at once or starts its
    /// handshake handlers.
    fn session_accept(&mut self, li: usize, fd: i32, peer: Option<std::net::SocketAddr>) {
        let Some(l) = self.listeners.get_mut(li) else {
            crate::conn::sock::close(fd);
            return;
        };
        let (fe, counted, accept_proxy, tls) =
            (l.fe, l.kind == LiKind::Proxy, l.accept_proxy, l.tls);
        if counted {
            l.nbconn += 1;
            self.actconn += 1;
            self.counters.cum_conns += 1;
            if let Some(px) = self.proxies.get_mut(fe) {
                px.feconn += 1;
                px.feconn_max = px.feconn_max.max(px.feconn);
                px.cum_conn += 1;
            }
        }
        let verdict = if counted {
            self.conn_rules(fe, peer, fd)
        } else {
            super::conn_rules::ConnVerdict::Accept
        };
        if verdict == super::conn_rules::ConnVerdict::Reject {
            // Refused before anything is read: counted, closed, not logged.
            if let Some(px) = self.proxies.get_mut(fe) {
                px.denied_conn += 1;
            }
            crate::conn::sock::close(fd);
            self.session_uncount(li);
            return;
        }
        let accept_proxy = accept_proxy || verdict == super::conn_rules::ConnVerdict::ExpectProxy;
        let mut conn = Connection::new(fd, ConnOwner::Listener(li));
        conn.peer = peer;
        conn.accept_date = wall_now();
        if accept_proxy {
            conn.hs.insert(HsFlags::ACCEPT_PROXY);
        }
        if let Some(id) = tls {
            // The session is allocated now; the handshake runs after any
            // PROXY header (HH_SSL_HS).
            let ssl = crate::ssl::reg::bind(id).and_then(|b| {
                let ctx = b.initial()?;
                Some((openssl::ssl::Ssl::new(ctx).ok()?, b.maxrecord))
            });
            let ok = ssl.is_some_and(|(ssl, maxrecord)| conn.set_ssl(ssl, true, maxrecord));
            if !ok {
                crate::conn::sock::close(fd);
                if counted {
                    self.session_uncount(li);
                }
                return;
            }
        }
        let handshakes = !conn.hs.is_empty();
        let Ok(cid) = self.io.conn_insert(conn, false) else {
            if counted {
                self.session_uncount(li);
            }
            return;
        };
        if let Some(c) = self.io.conns.get(cid) {
            // No speculative first read: a client usually sends its first
            // bytes after its connect() returns, i.e. just after we accept,
            // so such a read mostly fails with EAGAIN. The registration
            // reports data that is already there at the next poll.
            c.want_recv(&mut self.io.fds);
        }
        if handshakes {
            // The handshakes are bounded by `timeout client`; the stream is
            // created once they are done (`handshake_io`).
            let cli_to = self.proxies.get(fe).map_or(0, |p| p.timeouts.client);
            let t = self.sched.create(TaskKind::Handshake(cid));
            if cli_to > 0 {
                self.sched
                    .queue(t, Some(self.clock.now_abs + cli_to as u64));
            }
            if let Some(c) = self.io.conns.get_mut(cid) {
                c.hs_task = Some(t);
            }
            self.handshakes += 1;
            return;
        }
        self.stream_new(li, cid);
    }

    /// TCP_NODELAY, keep-alive and buffer sizes for a frontend's clients,
    /// set once on its listening socket: accepted sockets inherit them, which
    /// saves the setsockopt() calls on every connection.
    pub(crate) fn set_client_sockopts(&self, lfd: i32, fe: usize) {
        use crate::conn::sock::setsockopt_int;
        let _ = setsockopt_int(lfd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
        if self
            .proxies
            .get(fe)
            .is_some_and(|p| p.opts.tcpka || p.opts.clitcpka)
        {
            let _ = setsockopt_int(lfd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
        }
        let t = self.io.tune;
        crate::conn::sock::set_buffer_sizes(lfd, t.rcvbuf_client, t.sndbuf_client);
    }

    /// Undoes the connection counts of an accepted connection that never
    /// became a stream.
    pub(crate) fn session_uncount(&mut self, li: usize) {
        self.actconn = self.actconn.saturating_sub(1);
        if let Some(l) = self.listeners.get_mut(li) {
            l.nbconn = l.nbconn.saturating_sub(1);
            let fe = l.fe;
            if let Some(px) = self.proxies.get_mut(fe) {
                px.feconn = px.feconn.saturating_sub(1);
            }
        }
        self.resume_listeners();
    }

    /// I/O callback of an accepted connection whose handshake handlers are
    /// still running: runs them; once all are done, the stream is created.
    pub fn handshake_io(&mut self, cid: ConnId, li: usize) {
        let Some(conn) = self.io.conns.get_mut(cid) else {
            return;
        };
        match handshake::run(conn, &mut self.io.fds, false) {
            handshake::HsStep::Done => {
                if let Some(t) = conn.hs_task.take() {
                    self.sched.destroy(t);
                }
                self.handshakes = self.handshakes.saturating_sub(1);
                self.stream_new(li, cid);
            }
            handshake::HsStep::Wait => {}
            handshake::HsStep::Failed(e) => self.handshake_fail(cid, li, e),
        }
    }

    /// The handshake timer fired before the handlers were done.
    pub fn handshake_timeout(&mut self, tid: TaskId, cid: ConnId) {
        self.sched.destroy(tid);
        let Some(conn) = self.io.conns.get_mut(cid) else {
            return;
        };
        debug_assert_eq!(conn.hs_task, Some(tid));
        conn.hs_task = None;
        if let ConnOwner::Listener(li) = conn.owner {
            let e = HsErr::timeout_of(conn.hs);
            self.handshake_fail(cid, li, e);
        }
    }

    /// Ends a failed handshake: HAProxy's error line (at `info`, from a
    /// frontend with `option tcplog`; errors where nothing was received are
    /// hidden by `option dontlognull`), reset, and the counts undone.
    fn handshake_fail(&mut self, cid: ConnId, li: usize, err: HsErr) {
        let Some(conn) = self.io.conns.get_mut(cid) else {
            return;
        };
        if let Some(t) = conn.hs_task.take() {
            self.sched.destroy(t);
        }
        self.handshakes = self.handshakes.saturating_sub(1);
        let (peer, date) = (conn.peer, conn.accept_date);
        if let Some(l) = self.listeners.get(li) {
            let bind = l.name.clone().unwrap_or_else(|| l.bind_id.to_string());
            let (fe, is_ssl) = (l.fe, l.tls.is_some());
            // Only a frontend with a log format (tcplog, httplog, log-format,
            // error-log-format) logs embryonic connections, as 2.6.
            if let Some(px) = self.proxies.get(fe)
                && (px.opts.tcplog
                    || px.http.httplog.is_some()
                    || px.log_fmt.is_some()
                    || px.http.error_log_lf.is_some())
                && !(err.is_empty() && px.opts.dontlognull)
            {
                let level = if px.opts.log_separate_errors { 3 } else { 6 };
                let legacy = crate::log::format_error(peer, date, &px.name, &bind, err.message());
                let line = self.error_log_line(fe, cid, is_ssl, err).unwrap_or(legacy);
                if let Some(px) = self.proxies.get(fe) {
                    self.logger.send(&px.logs, level, &line);
                }
            }
        }
        let counted = self
            .listeners
            .get(li)
            .is_some_and(|l| l.kind == LiKind::Proxy);
        self.io.conn_free(cid, true);
        if counted {
            self.session_uncount(li);
        }
    }

    /// Creates the stream of an accepted connection whose handshake handlers
    /// are all done. Precondition: `cid` is registered in the poller.
    pub fn stream_new(&mut self, li: usize, cid: ConnId) {
        self.stream_create(li, cid, None);
    }

    /// Creates the stream of a connection, new (`resumed` None) or a
    /// parked keep-alive client whose next request starts (no connect log,
    /// the transaction is a later one of the connection, idle since the
    /// date `resumed` holds).
    pub(crate) fn stream_create(&mut self, li: usize, cid: ConnId, resumed: Option<u64>) {
        let Some(l) = self.listeners.get(li) else {
            return;
        };
        let (fe, kind) = (l.fe, l.kind);
        let Some(conn) = self.io.conns.get(cid) else {
            return;
        };
        let (fd, peer, known_local, accept_date) =
            (conn.fd, conn.peer, conn.local, conn.accept_date);
        // A shared block: no copy of the TLVs per stream.
        let pp = conn.pp.clone();
        let Some(fe_px) = self.proxies.get(fe) else {
            return;
        };
        let (target, ana) = match kind {
            LiKind::Cli(level) | LiKind::SockPair(level) => {
                (Target::Applet(AppletKind::Cli(level)), Default::default())
            }
            LiKind::MasterCli(level) => (
                Target::Applet(AppletKind::MasterCli(level)),
                Default::default(),
            ),
            LiKind::Proxy => (Target::None, fe_px.fe_req_ana),
        };
        // Only HTTP streams park: a later request on a `mode tcp`
        // frontend's connection is one of a stream upgraded to HTTP.
        let upgraded = resumed.is_some() && fe_px.mode == crate::cfg::model::Mode::Tcp;
        let ana = if upgraded {
            crate::http::ana::FE_REQ_ANA | (ana & crate::channel::AnFlags::REQ_INSPECT_FE)
        } else {
            ana
        };
        let cli_to = fe_px.timeouts.client;
        // The local address costs a syscall: only when a log or a server
        // without explicit address/port needs it.
        // An upgraded connection's later requests log it when they start
        // (`http::ana::wait_for_request`).
        let default_log = resumed.is_none()
            && !fe_px.opts.tcplog
            && fe_px.http.httplog.is_none()
            && fe_px.log_fmt.is_none()
            && !fe_px.logs.is_empty();
        let need_dst = default_log
            || fe_px.has_rules
            || fe_px
                .default_backend
                .and_then(|b| self.proxies.get(b))
                .is_some_and(|p| p.uses_dst);
        let local = match known_local {
            Some(a) => Some(a),
            None if need_dst => crate::conn::sock::local_addr(fd),
            None => None,
        };
        if default_log {
            let http = fe_px.mode == crate::cfg::model::Mode::Http;
            let msg = format_connect(peer, local, &fe_px.name, http);
            self.logger.send(&fe_px.logs, 6, &msg);
        }
        let sid: StreamId = self.streams.next_id();
        let task = self.sched.create(TaskKind::Stream(sid));
        let mut s = Stream::new(sid, task, fe, li, target, ana);
        if (fe_px.mode == crate::cfg::model::Mode::Http || upgraded) && kind == LiKind::Proxy {
            let since = resumed.unwrap_or(self.clock.now_abs);
            s.txn = Some(self.http.new_txn(since, resumed.is_none()));
            if upgraded {
                s.flags.insert(SfFlags::HTTP_UPGRADED);
            }
        }
        s.req.rto = cli_to;
        s.req.rex = tick_add_ifset(self.clock.now, cli_to);
        s.si[0].end = End::Conn(cid);
        s.si[0].fin_to = fe_px.timeouts.client_fin;
        if fe_px.opts.nolinger {
            s.si[0].flags.insert(SiFlags::NOLINGER);
        }
        if kind == LiKind::Proxy {
            s.flags.insert(SfFlags::COUNTED);
        } else {
            self.cli_streams += 1;
        }
        s.cli_addr = peer;
        s.frt_addr = local;
        s.pp = pp;
        s.t_accept = self.clock.now_abs;
        s.accept_date = accept_date;
        s.uniq_id = self.stream_seq;
        s.dbg_fds = (fd, -1);
        s.fe_ssl = self.io.conns.get(cid).and_then(|c| {
            let ssl = c.ssl()?;
            Some((
                ssl.version_str(),
                ssl.current_cipher().map_or("", |c| c.name()),
            ))
        });
        if self.debug && kind == LiKind::Proxy {
            let lfd = self.listeners.get(li).map_or(-1, |l| l.fd);
            let peer_s = peer.map_or_else(|| "unix".to_string(), |a| a.to_string());
            crate::log::eprint_line(&format!(
                "{:08x}:{}.accept({lfd:04x})={fd:04x} from [{peer_s}] ALPN=<none>",
                self.stream_seq, fe_px.name
            ));
        }
        self.stream_seq = self.stream_seq.wrapping_add(1);
        let sid2 = self.streams.insert(s);
        debug_assert_eq!(sid, sid2);
        if let Some(c) = self.io.conns.get_mut(cid) {
            c.owner = ConnOwner::Stream {
                sid,
                side: Side::Front,
            };
            c.local = local;
        }
        self.sched.wakeup(task);
    }

    /// Logs the stream, updates counters, frees it and its task, and resumes
    /// listeners that were waiting for a free slot.
    pub fn stream_free(&mut self, sid: StreamId) {
        let Some(mut s) = self.streams.remove(sid) else {
            return;
        };
        {
            let (_, mut cx) = self.stream_ctx();
            crate::stream::backend::queue_leave(&mut s, &mut cx);
            crate::stream::backend::release_server(&mut s, &mut cx);
            s.req.drop_data(&mut cx.io.bufs, &mut cx.io.pipes);
            s.res.drop_data(&mut cx.io.bufs, &mut cx.io.pipes);
            // The TLS fetches of the log need the sessions: sample them
            // before the connections go.
            if s.fe_ssl.is_some()
                || s.si[1]
                    .conn()
                    .and_then(|c| cx.io.conns.get(c))
                    .is_some_and(|c| c.ssl().is_some())
            {
                s.log_smp = Some(crate::stream::rules_env::log_samples(&mut s, &mut cx));
            }
            for side in [Side::Front, Side::Back] {
                crate::stream::close_side(&mut s, side, false, &mut cx);
            }
        }
        self.sched.destroy(s.task);
        if !s.flags.contains(SfFlags::COUNTED) {
            // A stats socket session: nothing to log or count.
            self.cli_streams = self.cli_streams.saturating_sub(1);
            return;
        }
        if self.debug {
            let name =
                s.be.or(Some(s.fe))
                    .and_then(|b| self.proxies.get(b))
                    .map_or("", |p| p.name.as_str());
            let (c, v) = s.dbg_fds;
            let v = if v < 0 { 0xffff } else { v };
            for ev in ["srvcls", "clicls", "closed"] {
                crate::log::eprint_line(&format!("{:08x}:{name}.{ev}[{c:04x}:{v:04x}]", s.uniq_id));
            }
        }
        let now_abs = self.clock.now_abs;
        self.stream_account(&s);
        // Log before the counters drop, as HAProxy logs the counts it saw.
        // An HTTP stream logs the transaction it was in, if any (a
        // keep-alive connection closed between requests logs nothing).
        if s.flags.contains(crate::stream::SfFlags::NO_LOG) {
            // Refused by a `tcp-request connection` rule: no log.
        } else if s.txn.is_some() {
            let (_, mut cx) = self.stream_ctx();
            crate::http::log::log_txn(&mut s, &mut cx);
            self.recycle_txn(&mut s);
        } else if let Some(fe) = self.proxies.get(s.fe) {
            let dontlog = fe.opts.dontlognull && s.req.total == 0;
            if (fe.opts.tcplog || fe.log_fmt.is_some()) && !fe.logs.is_empty() && !dontlog {
                let samples = {
                    let (_, mut cx) = self.stream_ctx();
                    crate::stream::rules_env::log_samples(&mut s, &mut cx)
                };
                let refs: Vec<Option<&str>> = samples.iter().map(Option::as_deref).collect();
                let line = self.tcplog_line(&s, now_abs, &refs);
                if let Some(fe) = self.proxies.get(s.fe) {
                    let err =
                        s.err != '-' || s.retries_done > 0 || s.flags.contains(SfFlags::REDISP);
                    let level = if fe.opts.log_separate_errors && err {
                        3
                    } else {
                        6
                    };
                    self.logger.send(&fe.logs, level, &line);
                }
            }
        }
        self.io.forget_closed_tls(sid);
        self.actconn = self.actconn.saturating_sub(1);
        if let Some(px) = self.proxies.get_mut(s.fe) {
            px.feconn = px.feconn.saturating_sub(1);
        }
        if let Some(l) = self.listeners.get_mut(s.listener) {
            l.nbconn = l.nbconn.saturating_sub(1);
        }
        self.resume_listeners();
    }

    /// Gives a freed stream's transaction back for the next HTTP stream.
    pub(crate) fn recycle_txn(&mut self, s: &mut Stream) {
        if let Some(t) = s.txn.take()
            && self.http.txn_pool.len() < 4096
        {
            self.http.txn_pool.push(t);
        }
    }

    /// Adds a finished (or parked) stream's bytes to its proxies, server
    /// and the process, and takes it out of its backend's count.
    pub(crate) fn stream_account(&mut self, s: &Stream) {
        if let Some(b) = s.be
            && let Some(px) = self.proxies.get_mut(b)
        {
            if s.flags.contains(SfFlags::BE_ASSIGNED) {
                px.beconn = px.beconn.saturating_sub(1);
            }
            px.bytes_in += s.req.total;
            px.bytes_out += s.res.total;
            if let Some(srv) = s.last_srv.and_then(|i| px.servers.get_mut(i)) {
                srv.bytes_in += s.req.total;
                srv.bytes_out += s.res.total;
            }
        }
        self.counters.bytes_out += s.res.total;
        if let Some(fe) = self.proxies.get_mut(s.fe)
            && s.be != Some(s.fe)
        {
            fe.bytes_in += s.req.total;
            fe.bytes_out += s.res.total;
        }
    }

    /// The `option tcplog` line of a finished stream.
    fn tcplog_line(&self, s: &Stream, now_abs: u64, samples: &[Option<&str>]) -> String {
        let Some(fe) = self.proxies.get(s.fe) else {
            return String::new();
        };
        let be = s.be.and_then(|b| self.proxies.get(b));
        let srv = match (be, s.last_srv) {
            (Some(b), Some(i)) => b.servers.get(i),
            _ => None,
        };
        // Tw: time spent in queues; -1 when the stream never got as far as
        // a server or a queue.
        let tw = match s.t_queue {
            None if s.last_srv.is_none() => -1,
            None => 0,
            Some(q) => s.t_dequeue.unwrap_or(now_abs).saturating_sub(q) as i64,
        };
        let l = TcpLog {
            client: s.cli_addr,
            accept_date: s.accept_date,
            frontend: &fe.name,
            is_ssl: s.fe_ssl.is_some(),
            backend: be.map_or("<NOSRV>", |b| b.name.as_str()),
            server: srv.map_or("<NOSRV>", |x| x.name.as_str()),
            tw,
            // Tc counts from the end of the queue wait (or accept).
            tc: s.t_connect.map_or(-1, |c| {
                c.saturating_sub(s.t_dequeue.unwrap_or(s.t_accept)) as i64
            }),
            tt: now_abs.saturating_sub(s.t_accept) as i64,
            bytes: s.res.total,
            term: [s.err, s.finst.ch()],
            actconn: self.actconn,
            feconn: fe.feconn,
            beconn: be.map_or(0, |b| b.beconn),
            srvconn: srv.map_or(0, |x| x.cur_sess),
            retries: s.retries_done,
            redispatched: s.flags.contains(SfFlags::REDISP),
            srv_queue: s.queue_pos.0,
            be_queue: s.queue_pos.1,
        };
        match fe.log_fmt.as_ref() {
            Some(f) => {
                use crate::log::format::{LogAddr, LogVars};
                let v = LogVars {
                    client: l.client.map(LogAddr::Inet),
                    frontend_addr: s.frt_addr.map(LogAddr::Inet),
                    server_addr: srv.map(|x| LogAddr::Inet(x.addr)),
                    frontend: l.frontend,
                    is_ssl: l.is_ssl,
                    ssl_version: s.fe_ssl.map(|x| x.0),
                    ssl_cipher: s.fe_ssl.map(|x| x.1),
                    backend: l.backend,
                    server: l.server,
                    accept_date: l.accept_date,
                    request_date: l.accept_date,
                    th: 0,
                    ti: 0,
                    treq: -1,
                    tq: -1,
                    tw: l.tw,
                    tc: l.tc,
                    tr: -1,
                    td: -1,
                    ta: l.tt,
                    tt: l.tt,
                    tu: l.tt,
                    bytes_out: l.bytes,
                    bytes_in: s.req.total,
                    term: [l.term[0] as u8, l.term[1] as u8, b'-', b'-'],
                    actconn: l.actconn,
                    feconn: l.feconn,
                    beconn: l.beconn,
                    srvconn: l.srvconn,
                    retries: l.retries,
                    redispatched: l.redispatched,
                    srv_queue: l.srv_queue,
                    be_queue: l.be_queue,
                    pid: crate::process::pid(),
                    req_counter: u64::from(s.uniq_id),
                    samples,
                    ..Default::default()
                };
                let mut out = String::with_capacity(200);
                f.render(&v, &mut out);
                out
            }
            None => format_tcplog(&l),
        }
    }
}
