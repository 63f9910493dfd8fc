//! The back stream interface's state machine: server assignment, queueing,
//! connection, retries and redispatch. One handler per state; each names the
//! states it can produce. `update_back_si` is the driver.

use super::{Finst, SfFlags};
use crate::channel::CfFlags;
use crate::conn::{CoFlags, ConnOwner, Connection, Side};
use crate::engine::Engine;
use crate::proxy::lb::{self, Pick};
use crate::si::{End, ErrType, SiFlags, SiState};
use crate::ticks::{ETERNITY, tick_add, tick_add_ifset, tick_is_expired};

impl Engine {
    /// Drives the back SI one step from its current state.
    pub fn update_back_si(&mut self, sid: usize) {
        let Some(s) = self.streams.get(sid) else {
            return;
        };
        match s.si[1].state() {
            SiState::Ini => self.back_handle_st_ini(sid),
            SiState::Req => self.back_handle_st_req(sid),
            SiState::Que => self.back_handle_st_que(sid),
            SiState::Tar => self.back_handle_st_tar(sid),
            SiState::Ass => self.back_handle_st_ass(sid),
            SiState::Con => self.back_handle_st_con(sid),
            SiState::Cer => self.back_handle_st_cer(sid),
            SiState::Est => {}
            SiState::Dis => {
                if let Some(s) = self.streams.get_mut(sid) {
                    s.si[1].set_state(SiState::Clo);
                }
            }
            SiState::Clo => {}
        }
    }

    /// INI -> REQ when the request channel asks for a connection, or
    /// INI -> CLO when the client is already gone with nothing to forward.
    fn back_handle_st_ini(&mut self, sid: usize) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        if s.req.flags.contains(CfFlags::AUTO_CONNECT) {
            s.si[1].set_state(SiState::Req);
        } else if s.si[0].state() == SiState::Clo {
            s.si[1].set_state(SiState::Clo);
        }
    }

    /// REQ -> ASS (server picked), QUE (all servers full), or CLO (no server).
    fn back_handle_st_req(&mut self, sid: usize) {
        let now = self.clock.now;
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let Some(be) = s.be else {
            s.set_term('P', Finst::Connect);
            s.si[1].set_state(SiState::Clo);
            return;
        };
        let Some(px) = self.proxies.get_mut(be) else {
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
                let srv = &mut px.servers[i];
                srv.cur_sess += 1;
                srv.max_sess = srv.max_sess.max(srv.cur_sess);
                srv.cum_sess += 1;
                s.srv = Some(i);
                s.last_srv = Some(i);
                s.flags.insert(SfFlags::ASSIGNED | SfFlags::CURR_SESS);
                if avoid.is_some() && avoid != Some(i) {
                    srv.redispatches += 1;
                }
                s.si[1].set_state(SiState::Ass);
            }
            Pick::Queue => {
                px.queue.push_back(sid);
                // %bq counts the queue including this stream, as HAProxy logs it.
                s.queue_pos = (0, px.queue.len() as u32);
                s.flags.insert(SfFlags::QUEUED);
                s.t_queue.get_or_insert(self.clock.now_abs);
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

    /// QUE -> ASS (a slot was granted by `dequeue`), CLO (queue timeout, or
    /// client error).
    fn back_handle_st_que(&mut self, sid: usize) {
        let now = self.clock.now;
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        if !s.flags.contains(SfFlags::QUEUED) && s.flags.contains(SfFlags::ASSIGNED) {
            s.si[1].exp = ETERNITY;
            s.si[1].set_state(SiState::Ass);
            return;
        }
        // A client that errored, or closed with nothing to forward, gives up
        // its place in the queue.
        if s.client_gave_up() {
            s.set_term('C', Finst::Queue);
            s.si[1].err_type = ErrType::QueueAbrt;
            self.queue_remove(sid);
            if let Some(s) = self.streams.get_mut(sid) {
                s.si[1].exp = ETERNITY;
                s.si[1].set_state(SiState::Clo);
            }
            return;
        }
        if tick_is_expired(s.si[1].exp, now) {
            s.set_term('s', Finst::Queue);
            s.si[1].err_type = ErrType::QueueTo;
            s.si[1].exp = ETERNITY;
            self.queue_remove(sid);
            if let Some(s) = self.streams.get_mut(sid) {
                s.si[1].set_state(SiState::Clo);
            }
        }
    }

    /// TAR -> ASS (turn-around over, same server) or REQ (redispatch).
    fn back_handle_st_tar(&mut self, sid: usize) {
        let now = self.clock.now;
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        if s.client_gave_up() {
            s.set_term('C', Finst::Connect);
            s.si[1].exp = ETERNITY;
            s.si[1].set_state(SiState::Clo);
            self.release_server(sid);
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

    /// ASS -> CON (connect() issued) or CER (immediate failure).
    fn back_handle_st_ass(&mut self, sid: usize) {
        let now = self.clock.now;
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let (Some(be), Some(si)) = (s.be, s.srv) else {
            s.si[1].set_state(SiState::Cer);
            return;
        };
        let Some(px) = self.proxies.get(be) else {
            return;
        };
        let srv = &px.servers[si];
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
        let cto = px.timeouts.connect;
        let (send_v1, send_v2) = (srv.send_proxy, srv.send_proxy_v2);
        let keepalive = px.opts.tcpka || px.opts.srvtcpka;
        match crate::conn::sock::tcp_connect(&addr, None) {
            Ok((fd, connected)) => {
                let _ =
                    crate::conn::sock::setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
                if keepalive {
                    let _ = crate::conn::sock::setsockopt_int(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_KEEPALIVE,
                        1,
                    );
                }
                if self.tune.rcvbuf_server > 0 {
                    let _ = crate::conn::sock::setsockopt_int(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_RCVBUF,
                        self.tune.rcvbuf_server as i32,
                    );
                }
                if self.tune.sndbuf_server > 0 {
                    let _ = crate::conn::sock::setsockopt_int(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_SNDBUF,
                        self.tune.sndbuf_server as i32,
                    );
                }
                let mut conn = Connection::new(
                    fd,
                    ConnOwner::Stream {
                        sid,
                        side: Side::Back,
                    },
                );
                // HH_SEND_PROXY: the header goes out before any data.
                if send_v2 {
                    conn.out_hdr = Some(crate::conn::proxy_hdr::encode_v2(s.cli_addr, s.frt_addr));
                } else if send_v1 {
                    conn.out_hdr = Some(crate::conn::proxy_hdr::encode_v1(s.cli_addr, s.frt_addr));
                }
                conn.peer = Some(addr);
                if !connected {
                    conn.flags.insert(CoFlags::WAIT_L4_CONN);
                }
                let cid = self.conns.insert(conn);
                if self.fds.insert(fd, crate::fd::FdOwner::Conn(cid)).is_err() {
                    self.conns.remove(cid);
                    crate::conn::sock::close(fd);
                    s.si[1].err_type = ErrType::ConnOther;
                    s.si[1].set_state(SiState::Cer);
                    return;
                }
                // Wait for writability (connection result); reading is
                // enabled once established.
                self.fds.want_send(fd);
                s.si[1].end = End::Conn(cid);
                s.dbg_fds.1 = fd;
                s.si[1].exp = tick_add_ifset(now, cto);
                s.si[1].set_state(SiState::Con);
                if !s.flags.contains(SfFlags::BE_ASSIGNED) {
                    s.flags.insert(SfFlags::BE_ASSIGNED);
                    if let Some(px) = self.proxies.get_mut(be) {
                        px.beconn += 1;
                        px.cum_beconn += 1;
                    }
                }
            }
            Err(e) => {
                log::debug!("connect to {addr} failed: {e}");
                s.si[1].err_type = ErrType::ConnErr;
                s.si[1].flags.insert(SiFlags::ERR);
                s.si[1].set_state(SiState::Cer);
            }
        }
    }

    /// CON -> EST (connected), CER (error or `timeout connect`), or stays.
    fn back_handle_st_con(&mut self, sid: usize) {
        let now = self.clock.now;
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let Some(cid) = s.si[1].conn() else {
            s.si[1].set_state(SiState::Cer);
            return;
        };
        let flags = self
            .conns
            .get(cid)
            .map(|c| c.flags)
            .unwrap_or(CoFlags::ERROR);
        if flags.contains(CoFlags::ERROR) {
            s.si[1].err_type = ErrType::ConnErr;
            s.si[1].flags.insert(SiFlags::ERR);
            s.si[1].set_state(SiState::Cer);
            return;
        }
        if !flags.contains(CoFlags::WAIT_L4_CONN) {
            self.back_establish(sid);
            return;
        }
        if s.client_gave_up() {
            // The client aborted while we connect: give up now.
            s.set_term('C', Finst::Connect);
            s.si[1].err_type = ErrType::ConnAbrt;
            s.si[1].exp = ETERNITY;
            self.si_close(sid, Side::Back, true);
            if let Some(s) = self.streams.get_mut(sid) {
                s.si[1].set_state(SiState::Clo);
            }
            self.release_server(sid);
            return;
        }
        if tick_is_expired(s.si[1].exp, now) {
            s.si[1].err_type = ErrType::ConnTo;
            s.si[1].set_state(SiState::Cer);
        }
    }

    /// CON -> EST: arm data timeouts (or `timeout tunnel`) and start moving data.
    fn back_establish(&mut self, sid: usize) {
        let now = self.clock.now;
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        s.si[1].exp = ETERNITY;
        s.si[1].err_type = ErrType::None;
        s.si[1].set_state(SiState::Est);
        s.t_connect = Some(self.clock.now_abs);
        let fe_to = self
            .proxies
            .get(s.fe)
            .map(|p| p.timeouts)
            .unwrap_or_default();
        let be_to =
            s.be.and_then(|b| self.proxies.get(b))
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
        let back_fd = s.si[1].conn().and_then(|c| self.conns.get(c)).map(|c| c.fd);
        let front_fd = s.si[0].conn().and_then(|c| self.conns.get(c)).map(|c| c.fd);
        let req_full = s.req.flags.contains(CfFlags::FULL);
        if let Some(fd) = back_fd {
            self.fds.want_recv(fd);
        }
        // Send what the client already sent.
        self.si_send(sid, Side::Back);
        if let (Some(fd), false) = (front_fd, req_full) {
            self.fds.want_recv(fd);
        }
    }

    /// CER -> TAR (async error: wait before retrying), ASS (retry now on the
    /// same server), REQ (redispatch), or CLO (no retry left).
    fn back_handle_st_cer(&mut self, sid: usize) {
        let now = self.clock.now;
        self.si_close(sid, Side::Back, true);
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let Some(be) = s.be else { return };
        let Some(px) = self.proxies.get_mut(be) else {
            return;
        };
        if let Some(i) = s.srv {
            px.servers[i].failed_conns += 1;
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
            self.release_server(sid);
            return;
        }
        s.si[1].conn_retries -= 1;
        s.retries_done += 1;
        if let Some(i) = s.srv {
            px.servers[i].retries += 1;
        }
        // With `option redispatch`, a non-deterministic algorithm picks
        // another server right away when there is another one to pick
        // (hash-based `source` stays on its server but for the last retry).
        let usable = px.servers.iter().filter(|x| x.usable()).count();
        let hash = px.balance == crate::cfg::model::Balance::Source;
        let redisp = redispatch && usable > 1 && (!hash || s.si[1].conn_retries == 0);
        if redisp {
            s.prev_srv = s.srv;
            s.flags.insert(SfFlags::REDISP);
            self.release_server(sid);
        }
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let async_err = s.si[1].flags.contains(SiFlags::ERR);
        s.si[1].flags.remove(SiFlags::ERR);
        if redisp {
            // Another server: no reason to wait before trying it.
            s.si[1].set_state(SiState::Req);
        } else if async_err || err == ErrType::ConnErr {
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
    pub fn release_server(&mut self, sid: usize) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        let Some(be) = s.be else { return };
        let mut freed = None;
        if s.flags.contains(SfFlags::CURR_SESS) {
            s.flags.remove(SfFlags::CURR_SESS | SfFlags::ASSIGNED);
            if let (Some(px), Some(i)) = (self.proxies.get_mut(be), s.srv) {
                px.servers[i].cur_sess = px.servers[i].cur_sess.saturating_sub(1);
                freed = Some(i);
            }
            s.srv = None;
        }
        if let Some(i) = freed {
            self.dequeue(be, i);
        }
    }

    /// Hands a free slot of server `srv` to the oldest stream waiting for it
    /// (its own queue first, then the backend queue).
    pub fn dequeue(&mut self, be: usize, srv: usize) {
        let now_abs = self.clock.now_abs;
        let Some(px) = self.proxies.get_mut(be) else {
            return;
        };
        while !px.servers[srv].full() && px.servers[srv].usable() {
            let next = px.servers[srv]
                .queue
                .pop_front()
                .or_else(|| px.queue.pop_front());
            let Some(qsid) = next else { break };
            let Some(qs) = self.streams.get_mut(qsid) else {
                continue;
            };
            qs.flags.remove(SfFlags::QUEUED);
            qs.flags.insert(SfFlags::ASSIGNED | SfFlags::CURR_SESS);
            qs.srv = Some(srv);
            qs.last_srv = Some(srv);
            qs.t_dequeue = Some(now_abs);
            let s = &mut px.servers[srv];
            s.cur_sess += 1;
            s.max_sess = s.max_sess.max(s.cur_sess);
            s.cum_sess += 1;
            self.sched.wakeup(qs.task);
        }
    }

    /// Removes a stream from whatever queue holds it.
    pub fn queue_remove(&mut self, sid: usize) {
        let Some(s) = self.streams.get_mut(sid) else {
            return;
        };
        if !s.flags.contains(SfFlags::QUEUED) {
            return;
        }
        s.flags.remove(SfFlags::QUEUED);
        if let Some(px) = s.be.and_then(|b| self.proxies.get_mut(b)) {
            px.queue.retain(|&x| x != sid);
            for srv in px.servers.iter_mut() {
                srv.queue.retain(|&x| x != sid);
            }
        }
    }
}
