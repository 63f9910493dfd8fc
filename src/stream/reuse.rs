//! Server connection reuse (configuration.txt 4.2, http-reuse,
//! pool-max-conn, pool-purge-delay): idle HTTP server connections kept per
//! server, handed to the next request that goes to that server.
//!
//! ```text
//!   stream's back SI EST --txn done, server keeps it--> server.idle (owner Idle)
//!        ^                                                   |  readable: the server
//!        +------- a request assigned to that server ---------+  closed -> freed
//!                 (ASS: no connect)                          |  purged (see `purge`) -> freed
//! ```
//!
//! `http-reuse never` keeps a connection private to its client session (the
//! session's own next requests still use it, see `http::ana_res::end_txn`);
//! `safe` (the default) lets only a session's second and later requests take
//! a pooled connection, so that a first request, which a browser cannot
//! retry, never meets a connection the server is closing; `aggressive`
//! gives a first request only a connection that has served two
//! transactions already (proof the server keeps connections alive), later
//! requests any; `always` lets any request take any.

use super::{Stream, StreamCtx};
use crate::cfg::model::HttpReuse;
use crate::conn::{ConnOwner, Side};
use crate::si::{End, SiState};
use std::cell::Cell;
use std::rc::Rc;

/// A server's connections owned by streams (a client session's kept
/// connection included), for the purge.
#[derive(Debug, Default)]
pub struct ConnUse {
    pub used: Cell<u32>,
}

/// One connection counted in a server's [`ConnUse`] while held (by the
/// connection itself; dropped with it or when it goes idle).
#[derive(Debug)]
pub struct InUse(Rc<ConnUse>);

impl InUse {
    pub fn new(u: &Rc<ConnUse>) -> InUse {
        u.used.set(u.used.get() + 1);
        InUse(u.clone())
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        self.0.used.set(self.0.used.get().saturating_sub(1));
    }
}

/// One idle connection of a server's pool.
#[derive(Debug, Clone, Copy)]
pub struct IdleConn {
    pub cid: crate::arena::ConnId,
    /// When it became idle (monotonic ms).
    pub since: u64,
    /// It was reused at least once (`CoFlags::HTTP_REUSED`).
    pub reused: bool,
}

/// True when `server`'s pool may keep one more idle connection. As in
/// HAProxy 2.6, an idle connection is kept only while the server's other
/// connections in use plus the idle ones stay within what it needs (the
/// most streams on it since the last purge, or the purge's estimate when
/// higher), so that clients that went idle do not leave a server
/// connection each (measured on 2.6: 10 keep-alive clients served one
/// after the other leave 2 pooled connections, 10 served at once leave
/// 10). `counted`: the connection given back is still in `conn_use`.
fn admits(server: &crate::proxy::Server, counted: bool) -> bool {
    let others = server
        .conn_use
        .used
        .get()
        .saturating_sub(u32::from(counted)) as usize;
    others + server.idle.len() <= server.peak_sess.max(server.est_need) as usize
}

/// Gives the stream's established server connection to its server's idle
/// pool when the backend reuses connections and the pool has room and
/// need for it ([`admits`]); the back SI is then closed without closing
/// the connection. Returns false
/// (nothing done) otherwise: the caller closes the connection.
pub fn give(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    if s.si[1].state() != SiState::Est {
        return false;
    }
    let (Some(be), Some(srv), Some(cid)) = (s.be, s.last_srv, s.si[1].conn()) else {
        return false;
    };
    // Only a clean connection: nothing unsent, nothing unread.
    if s.req.has_output() || s.res.in_len() > 0 {
        return false;
    }
    let Some(px) = cx.proxies.get_mut(be) else {
        return false;
    };
    if px.http.reuse == HttpReuse::Never {
        return false;
    }
    let Some(server) = px.servers.get_mut(srv) else {
        return false;
    };
    if server.pool_max == 0
        || (server.pool_max > 0 && server.idle.len() >= server.pool_max as usize)
        || cx.http.idle_total >= cx.http.idle_cap
    {
        return false;
    }
    let Some(conn) = cx.io.conns.get_mut(cid) else {
        return false;
    };
    if conn
        .flags
        .intersects(crate::conn::CoFlags::ERROR | crate::conn::CoFlags::SHW_ASKED)
        || !admits(server, conn.in_use.is_some())
    {
        return false;
    }
    conn.owner = ConnOwner::Idle { px: be, srv };
    conn.in_use = None;
    if server.next_purge == 0 {
        server.next_purge = cx.clock.now_abs + u64::from(server.pool_purge_delay);
    }
    // Reading stays on: a close or stray bytes from the server free it.
    conn.want_recv(&mut cx.io.fds);
    conn.stop_send(&mut cx.io.fds);
    server.idle.push(IdleConn {
        cid,
        since: cx.clock.now_abs,
        reused: conn.flags.contains(crate::conn::CoFlags::HTTP_REUSED),
    });
    cx.http.idle_total += 1;
    s.si[1].end = End::None;
    s.si[1].set_state(SiState::Dis);
    s.si[1].set_state(SiState::Clo);
    super::backend::release_server(s, cx);
    true
}

/// ASS with an idle connection to the assigned server that this request
/// may take: the connection becomes the stream's back end, no connect.
/// Returns true when one was taken (the caller establishes the SI).
pub fn take(s: &mut Stream, cx: &mut StreamCtx) -> bool {
    let (Some(be), Some(srv)) = (s.be, s.srv()) else {
        return false;
    };
    let Some(txn) = s.txn.as_ref() else {
        return false;
    };
    let Some(px) = cx.proxies.get_mut(be) else {
        return false;
    };
    let later = txn.flags.contains(crate::http::txn::TxnFlags::NOT_FIRST);
    let (allowed, reused_only) = match px.http.reuse {
        HttpReuse::Never => (false, false),
        HttpReuse::Safe => (later, false),
        HttpReuse::Aggressive => (true, !later),
        HttpReuse::Always => (true, false),
    };
    if !allowed {
        return false;
    }
    let Some(server) = px.servers.get_mut(srv) else {
        return false;
    };
    // The most recently used first: the warmest, the least likely closed.
    let Some(at) = server.idle.iter().rposition(|i| i.reused || !reused_only) else {
        return false;
    };
    let idle = server.idle.remove(at);
    cx.http.idle_total = cx.http.idle_total.saturating_sub(1);
    server.reused += 1;
    let Some(conn) = cx.io.conns.get_mut(idle.cid) else {
        return false;
    };
    conn.owner = ConnOwner::Stream {
        sid: s.id,
        side: Side::Back,
    };
    conn.in_use = Some(InUse::new(&server.conn_use));
    s.si[1].end = End::Conn(idle.cid);
    true
}

/// An idle connection's fd woke up: the server closed it (or sent bytes
/// nobody asked for). It leaves the pool and is closed. Returns true when
/// it was in the pool.
pub fn idle_event(
    proxies: &mut [crate::proxy::Proxy],
    io: &mut crate::conn::IoCtx,
    cid: crate::arena::ConnId,
    px: usize,
    srv: usize,
) -> bool {
    let mut was = false;
    if let Some(server) = proxies.get_mut(px).and_then(|p| p.servers.get_mut(srv)) {
        let before = server.idle.len();
        server.idle.retain(|c| c.cid != cid);
        was = server.idle.len() != before;
    }
    io.conn_free(cid, false);
    was
}

/// The purge of the idle connections, each `pool-purge-delay` from the
/// first one idle, as HAProxy 2.6 does it (measured): the server's
/// connections (idle or owned by streams) beyond what it needs (the most
/// streams on it since the last purge, or the estimate when higher) are
/// the excess; half of it rounded up, plus one, of the idle ones are
/// closed (the oldest first). The estimate then moves half way to that
/// most (never below it). A delay of 0 keeps none.
/// Returns the date the next purge is due (0: none) and how many closed.
pub fn purge(
    proxies: &mut [crate::proxy::Proxy],
    io: &mut crate::conn::IoCtx,
    now_abs: u64,
) -> (u64, usize) {
    let mut next = 0u64;
    let mut closed = 0;
    for px in proxies.iter_mut() {
        for server in px.servers.iter_mut() {
            if server.next_purge == 0 || server.next_purge > now_abs {
                if server.next_purge != 0 && (next == 0 || server.next_purge < next) {
                    next = server.next_purge;
                }
                continue;
            }
            let delay = u64::from(server.pool_purge_delay);
            let idle = server.idle.len();
            let kill = if delay == 0 {
                idle
            } else {
                let peak = server.peak_sess;
                let total = (server.conn_use.used.get() as usize + idle) as i64;
                let excess = total - i64::from(peak.max(server.est_need));
                server.est_need = ((server.est_need + peak) / 2).max(peak);
                server.peak_sess = server.cur_sess;
                if excess > 0 {
                    (excess as usize).div_ceil(2) + 1
                } else {
                    0
                }
            };
            for c in server.idle.drain(..kill.min(idle)) {
                io.conn_free(c.cid, false);
                closed += 1;
            }
            server.next_purge = if server.idle.is_empty() {
                0
            } else {
                now_abs + delay
            };
            if server.next_purge != 0 && (next == 0 || server.next_purge < next) {
                next = server.next_purge;
            }
        }
    }
    (next, closed)
}

/// The idle connections in all pools.
pub fn count(proxies: &[crate::proxy::Proxy]) -> usize {
    proxies
        .iter()
        .flat_map(|p| p.servers.iter())
        .map(|s| s.idle.len())
        .sum()
}

/// Closes every idle connection (soft stop) as HAProxy 2.6 ends them
/// (measured): a plain one with a reset (`LINGER_RISK`); a TLS one with a
/// bare FIN, no close_notify, as the process exit closes it (2.6 leaves
/// idle TLS connections to the exit).
pub fn close_all(proxies: &mut [crate::proxy::Proxy], io: &mut crate::conn::IoCtx) {
    use crate::conn::CoFlags;
    for px in proxies.iter_mut() {
        for server in px.servers.iter_mut() {
            for c in server.idle.drain(..) {
                if let Some(conn) = io.conns.get_mut(c.cid)
                    && conn.ssl().is_some()
                {
                    conn.flags.remove(CoFlags::LINGER_RISK);
                    conn.flags.insert(CoFlags::DATA_WR_SH);
                }
                io.conn_free(c.cid, false);
            }
        }
    }
}
