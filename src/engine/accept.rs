//! Accepting connections, creating streams, and ending them.

use super::Engine;
use crate::channel::{CfFlags, Channel};
use crate::conn::{CoFlags, ConnOwner, Connection, Side};
use crate::fd::FdOwner;
use crate::listener::LiState;
use crate::log::{TcpLog, format_connect, format_tcplog, wall_now};
use crate::si::{End, SiState, StreamInterface};
use crate::stream::{Finst, SfFlags, Stream};
use crate::task::TaskKind;
use crate::ticks::{ETERNITY, tick_add_ifset};

impl Engine {
    /// Accepts up to `tune.maxaccept` connections on listener `li`, pausing
    /// it (state FULL) when a maxconn limit is reached.
    pub fn accept_loop(&mut self, li: usize) {
        let max = if self.tune.maxaccept <= 0 {
            usize::MAX
        } else {
            self.tune.maxaccept as usize
        };
        for _ in 0..max {
            let Some(l) = self.listeners.get(li) else {
                return;
            };
            if l.state != LiState::Ready {
                self.fds.stop_recv(l.fd);
                return;
            }
            if let crate::listener::LiKind::Cli(level) = l.kind {
                self.cli_accept(li, level);
                return;
            }
            let fe = l.fe;
            let fe_full = self
                .proxies
                .get(fe)
                .is_some_and(|p| p.maxconn > 0 && p.feconn >= p.maxconn);
            if self.actconn >= self.maxconn || fe_full || (l.maxconn > 0 && l.nbconn >= l.maxconn) {
                self.pause_full(li);
                return;
            }
            let lfd = l.fd;
            match crate::conn::sock::accept(lfd) {
                Ok(Some((fd, peer))) => self.session_accept(li, fd, peer),
                Ok(None) => {
                    self.fds.cant_recv(lfd);
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

    /// Accepts stats-socket connections (not counted in maxconn).
    fn cli_accept(&mut self, li: usize, level: crate::cfg::model::CliLevel) {
        let Some(l) = self.listeners.get(li) else {
            return;
        };
        let lfd = l.fd;
        for _ in 0..16 {
            match crate::conn::sock::accept(lfd) {
                Ok(Some((fd, _))) => {
                    let mut sess = crate::cli::CliSession::new(fd, level);
                    sess.last_active = self.clock.now_abs;
                    let id = self.clis.insert(sess);
                    if self.fds.insert(fd, FdOwner::Cli(id)).is_err() {
                        self.clis.remove(id);
                        crate::conn::sock::close(fd);
                        continue;
                    }
                    self.fds.want_recv(fd);
                    self.fds.may_recv(fd);
                }
                Ok(None) => {
                    self.fds.cant_recv(lfd);
                    return;
                }
                Err(e) => {
                    // Out of fds or memory: stop trying until a resume.
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                    ) {
                        self.pause_full(li);
                    }
                    return;
                }
            }
        }
    }

    fn pause_full(&mut self, li: usize) {
        self.listeners_full = true;
        if let Some(l) = self.listeners.get_mut(li) {
            if l.state == LiState::Ready {
                l.state = LiState::Full;
            }
            self.fds.stop_recv(l.fd);
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
            self.fds.want_recv(fd);
            // Connections may have queued in the backlog meanwhile.
            self.fds.may_recv(fd);
        }
    }

    /// Sets up an accepted connection and its stream.
    fn session_accept(&mut self, li: usize, fd: i32, peer: Option<std::net::SocketAddr>) {
        let Some(l) = self.listeners.get_mut(li) else {
            return;
        };
        let fe = l.fe;
        l.nbconn += 1;
        self.actconn += 1;
        self.counters.cum_conns += 1;
        let _ = crate::conn::sock::setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
        if self
            .proxies
            .get(fe)
            .is_some_and(|p| p.opts.tcpka || p.opts.clitcpka)
        {
            let _ = crate::conn::sock::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
        }
        if self.tune.rcvbuf_client > 0 {
            let _ = crate::conn::sock::setsockopt_int(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                self.tune.rcvbuf_client as i32,
            );
        }
        if self.tune.sndbuf_client > 0 {
            let _ = crate::conn::sock::setsockopt_int(
                fd,
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                self.tune.sndbuf_client as i32,
            );
        }
        let Some(px) = self.proxies.get_mut(fe) else {
            return;
        };
        px.feconn += 1;
        px.feconn_max = px.feconn_max.max(px.feconn);
        px.cum_conn += 1;
        let accept_proxy = self.listeners.get(li).is_some_and(|l| l.accept_proxy);
        let mut conn = Connection::new(fd, ConnOwner::Pending { listener: li });
        conn.peer = peer;
        conn.accept_date = wall_now();
        if accept_proxy {
            conn.flags.insert(CoFlags::ACCEPT_PROXY);
        }
        let cid = self.conns.insert(conn);
        if self.fds.insert(fd, FdOwner::Conn(cid)).is_err() {
            self.conn_free(cid, true);
            self.session_uncount(li);
            return;
        }
        self.fds.want_recv(fd);
        // Speculative first read: the client often sent data already.
        self.fds.may_recv(fd);
        if accept_proxy {
            // HH_ACCEPT_PROXY: no stream until the header is in, bounded by
            // `timeout client`.
            let cli_to = self.proxies.get(fe).map_or(0, |p| p.timeouts.client);
            let t = self.sched.create(TaskKind::Handshake(cid));
            if cli_to > 0 {
                self.sched
                    .queue(t, Some(self.clock.now_abs + cli_to as u64));
            }
            if let Some(c) = self.conns.get_mut(cid) {
                c.hs_task = Some(t);
            }
            return;
        }
        self.stream_new(li, cid);
    }

    /// Undoes the connection counts of an accepted connection that never
    /// became a stream.
    fn session_uncount(&mut self, li: usize) {
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

    /// Creates the stream of an accepted connection whose handshake handlers
    /// are all done. Precondition: `cid` is registered in the poller.
    pub fn stream_new(&mut self, li: usize, cid: usize) {
        let Some(l) = self.listeners.get(li) else {
            return;
        };
        let fe = l.fe;
        let Some(conn) = self.conns.get(cid) else {
            return;
        };
        let (fd, peer, known_local, accept_date) =
            (conn.fd, conn.peer, conn.local, conn.accept_date);
        let Some(px) = self.proxies.get(fe) else {
            return;
        };
        let be = px.default_backend;
        // The frontend's and the backend's options both count (HAProxy ORs them).
        let splice = {
            use crate::stream::SpliceMode;
            let mode = |p: Option<&crate::proxy::Proxy>,
                        always: fn(&crate::proxy::Proxy) -> bool| match p {
                Some(p) if always(p) => SpliceMode::Always,
                Some(p) if p.opts.splice_auto => SpliceMode::Auto,
                _ => SpliceMode::Off,
            };
            let bep = be.and_then(|b| self.proxies.get(b));
            let fep = self.proxies.get(fe);
            let pick = |f: fn(&crate::proxy::Proxy) -> bool| {
                let (a, b) = (mode(fep, f), mode(bep, f));
                if a == SpliceMode::Always || b == SpliceMode::Always {
                    SpliceMode::Always
                } else if a == SpliceMode::Auto || b == SpliceMode::Auto {
                    SpliceMode::Auto
                } else {
                    SpliceMode::Off
                }
            };
            [
                pick(|p| p.opts.splice_request),
                pick(|p| p.opts.splice_response),
            ]
        };
        let fe_px = &self.proxies[fe];
        let cli_to = fe_px.timeouts.client;
        let retries = be
            .and_then(|b| self.proxies.get(b))
            .map_or(3, |p| p.retries);
        // The local address costs a syscall: only when a log or a server
        // without explicit address/port needs it.
        let default_log = !fe_px.opts.tcplog && !fe_px.logs.is_empty();
        let need_dst = default_log
            || be
                .and_then(|b| self.proxies.get(b))
                .is_some_and(|p| p.uses_dst);
        let local = match known_local {
            Some(a) => Some(a),
            None if need_dst => crate::conn::sock::local_addr(fd),
            None => None,
        };
        if default_log {
            let msg = format_connect(peer, local, &fe_px.name);
            let logs = fe_px.logs.clone();
            self.logger.send(&logs, 6, &msg);
        }
        let now = self.clock.now;
        let sid = self.streams.vacant_key();
        let task = self.sched.create(TaskKind::Stream(sid));
        let mut req = Channel::new();
        req.flags.insert(CfFlags::AUTO_CONNECT);
        req.rto = cli_to;
        req.rex = tick_add_ifset(now, cli_to);
        let res = Channel::new();
        let mut front = StreamInterface::new(0, SiState::Ini);
        front.set_state(SiState::Est);
        let mut back = StreamInterface::new(1, SiState::Ini);
        back.conn_retries = retries;
        let stream = Stream {
            task,
            fe,
            be,
            srv: None,
            prev_srv: None,
            last_srv: None,
            listener: li,
            req,
            res,
            si: [front, back],
            flags: SfFlags::COUNTED,
            cli_addr: peer,
            frt_addr: local,
            exp: ETERNITY,
            err: '-',
            finst: Finst::None,
            splice,
            t_accept: self.clock.now_abs,
            accept_date,
            t_queue: None,
            t_dequeue: None,
            t_connect: None,
            queue_pos: (0, 0),
            retries_done: 0,
            calls: 0,
            uniq_id: self.stream_seq,
            dbg_fds: (fd, -1),
        };
        if self.debug {
            let fe_name = self.proxies.get(fe).map_or("", |p| p.name.as_str());
            let lfd = self.listeners.get(li).map_or(-1, |l| l.fd);
            let peer_s = peer.map_or_else(|| "unix".to_string(), |a| a.to_string());
            crate::log::eprint_line(&format!(
                "{:08x}:{fe_name}.accept({lfd:04x})={fd:04x} from [{peer_s}] ALPN=<none>",
                self.stream_seq
            ));
        }
        self.stream_seq = self.stream_seq.wrapping_add(1);
        let sid2 = self.streams.insert(stream);
        debug_assert_eq!(sid, sid2);
        if let Some(c) = self.conns.get_mut(cid) {
            c.owner = ConnOwner::Stream {
                sid,
                side: Side::Front,
            };
            c.local = local;
        }
        if let Some(s) = self.streams.get_mut(sid) {
            s.si[0].end = End::Conn(cid);
        }
        self.sched.wakeup(task);
    }

    /// HH_ACCEPT_PROXY: waits for the PROXY protocol header (peeking so that
    /// exactly the header is consumed), then creates the stream with the
    /// addresses it carries. Bad or missing headers close the connection
    /// with HAProxy's error log line.
    pub fn handshake_io(&mut self, cid: usize) {
        let Some(conn) = self.conns.get(cid) else {
            return;
        };
        let ConnOwner::Pending { listener: li } = conn.owner else {
            return;
        };
        let fd = conn.fd;
        // HAProxy accepts headers up to a buffer (16 KiB, TLVs included).
        let mut buf = [0u8; 16 * 1024 + 16];
        // SAFETY: `buf` is writable for its length.
        let n = unsafe {
            libc::recv(
                fd,
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_PEEK,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EAGAIN) {
                self.fds.cant_recv(fd);
                return;
            }
            return self.handshake_fail(
                cid,
                li,
                "Connection error while waiting for PROXY protocol header",
                false,
            );
        }
        if n == 0 {
            return self.handshake_fail(
                cid,
                li,
                "Connection closed while waiting for PROXY protocol header",
                true,
            );
        }
        let data = &buf[..n as usize];
        match crate::conn::proxy_hdr::parse(data) {
            Ok(Some((hdr, len))) => {
                // Consume exactly the header; the payload stays for the stream.
                // SAFETY: `buf` is writable for `len` <= its length.
                unsafe { libc::recv(fd, buf.as_mut_ptr() as *mut libc::c_void, len, 0) };
                let Some(conn) = self.conns.get_mut(cid) else {
                    return;
                };
                conn.flags.remove(CoFlags::ACCEPT_PROXY);
                if let Some((src, dst)) = hdr.addrs {
                    conn.peer = Some(src);
                    conn.local = Some(dst);
                }
                if let Some(t) = conn.hs_task.take() {
                    self.sched.destroy(t);
                }
                self.stream_new(li, cid);
            }
            // HAProxy 2.6 does not wait for the rest of a header that came
            // incomplete: it is refused at once.
            Ok(None) => {
                let msg = crate::conn::proxy_hdr::ProxyErr::Truncated.message();
                self.handshake_fail(cid, li, msg, false)
            }
            Err(e) => self.handshake_fail(cid, li, e.message(), false),
        }
    }

    /// The handshake timer fired before the header arrived.
    pub fn handshake_timeout(&mut self, tid: usize, cid: usize) {
        self.sched.destroy(tid);
        let Some(conn) = self.conns.get_mut(cid) else {
            return;
        };
        if conn.hs_task != Some(tid) {
            return;
        }
        conn.hs_task = None;
        if let ConnOwner::Pending { listener } = conn.owner {
            self.handshake_fail(
                cid,
                listener,
                "Timeout while waiting for PROXY protocol header",
                true,
            );
        }
    }

    /// Ends a failed handshake: HAProxy's error line (at `info`, from a
    /// frontend with `option tcplog`; `empty` errors are hidden by
    /// `option dontlognull`), reset, and the counts undone.
    fn handshake_fail(&mut self, cid: usize, li: usize, msg: &str, empty: bool) {
        let Some(conn) = self.conns.get_mut(cid) else {
            return;
        };
        if let Some(t) = conn.hs_task.take() {
            self.sched.destroy(t);
        }
        let (peer, date) = (conn.peer, conn.accept_date);
        if let Some(l) = self.listeners.get(li) {
            let bind = l.name.clone().unwrap_or_else(|| l.bind_id.to_string());
            if let Some(px) = self.proxies.get(l.fe)
                && px.opts.tcplog
                && !(empty && px.opts.dontlognull)
            {
                let line = crate::log::format_error(peer, date, &px.name, &bind, msg);
                let logs = px.logs.clone();
                self.logger.send(&logs, 6, &line);
            }
        }
        self.conn_free(cid, true);
        self.session_uncount(li);
    }

    /// Logs the stream, updates counters, frees it and its task, and resumes
    /// listeners that were waiting for a free slot.
    pub fn stream_free(&mut self, sid: usize) {
        self.queue_remove(sid);
        self.release_server(sid);
        self.stream_release_buffers(sid);
        for side in [Side::Front, Side::Back] {
            self.si_close(sid, side, false);
        }
        let Some(s) = self.streams.try_remove(sid) else {
            return;
        };
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
        self.sched.destroy(s.task);
        let now_abs = self.clock.now_abs;
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
        // Log before the counters drop, as HAProxy logs the counts it saw.
        if let Some(fe) = self.proxies.get(s.fe) {
            let dontlog = fe.opts.dontlognull && s.req.total == 0;
            if fe.opts.tcplog && !fe.logs.is_empty() && !dontlog {
                let be = s.be.and_then(|b| self.proxies.get(b));
                let srv = match (be, s.last_srv) {
                    (Some(b), Some(i)) => b.servers.get(i).map(|x| x.name.as_str()),
                    _ => None,
                };
                // Tw: time spent in queues; -1 when the stream never left them.
                let tw = match s.t_queue {
                    // -1: the stream never got as far as a server or a queue.
                    None if s.last_srv.is_none() => -1,
                    None => 0,
                    Some(q) => s.t_dequeue.unwrap_or(now_abs).saturating_sub(q) as i64,
                };
                let line = format_tcplog(&TcpLog {
                    client: s.cli_addr,
                    accept_date: s.accept_date,
                    frontend: &fe.name,
                    backend: be.map_or("<NOSRV>", |b| b.name.as_str()),
                    server: srv.unwrap_or("<NOSRV>"),
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
                    srvconn: match (be, s.last_srv) {
                        (Some(b), Some(i)) => b.servers.get(i).map_or(0, |x| x.cur_sess),
                        _ => 0,
                    },
                    retries: s.retries_done,
                    redispatched: s.flags.contains(SfFlags::REDISP),
                    srv_queue: s.queue_pos.0,
                    be_queue: s.queue_pos.1,
                });
                let logs = fe.logs.clone();
                self.logger.send(&logs, 6, &line);
            }
        }
        if s.flags.contains(SfFlags::COUNTED) {
            self.actconn = self.actconn.saturating_sub(1);
            if let Some(px) = self.proxies.get_mut(s.fe) {
                px.feconn = px.feconn.saturating_sub(1);
            }
            if let Some(l) = self.listeners.get_mut(s.listener) {
                l.nbconn = l.nbconn.saturating_sub(1);
            }
        }
        self.resume_listeners();
    }
}
