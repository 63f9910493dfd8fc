//! Keep-alive HTTP clients between two requests hold no stream: their
//! stream is freed once a response is all sent and nothing else is in
//! flight, and the client connection waits alone ("parked"), owned by its
//! listener, under `timeout http-keep-alive`. Its next bytes create a new
//! stream (as HAProxy 2.6 creates one per request); the timer closes it
//! silently. An idle client then costs a connection and a timer, not a
//! stream and a server connection: the stream's server connection goes to
//! its server's idle pool (`stream::reuse`), or is closed.
//!
//! ```text
//!   stream (txn done, all sent) --park--> ConnOwner::KeepAlive(li) + TaskKind::KeepAlive timer
//!        ^                                     | bytes              | timer
//!        +------------- stream_create ---------+                    v
//!                                                             closed, counts undone
//! ```
//!
//! Soft stop: a parked client whose next request is already there is
//! served at once; the others keep their connection for at most
//! [`STOP_IDLE_MS`] more, so that a request already on its way is served
//! (its response says `connection: close`) instead of meeting a reset. The
//! stopping process waits for them (`Engine::parked`).

use super::Engine;

/// How long a soft stop leaves an idle keep-alive client connected: the
/// time for a request the client sent just before the stop to arrive.
/// HAProxy 2.6 closes them at once, and a client whose request crosses
/// the close sees a reset.
pub const STOP_IDLE_MS: u64 = 1000;
use crate::arena::{ConnId, StreamId, TaskId};
use crate::conn::ConnOwner;
use crate::si::{End, SiState};
use crate::task::TaskKind;

impl Engine {
    /// Frees a parkable stream (`http::ana::parkable`) and parks its client
    /// connection.
    pub(crate) fn park(&mut self, sid: StreamId) {
        let cid = {
            let (streams, mut cx) = self.stream_ctx();
            let Some(s) = streams.get_mut(sid) else {
                return;
            };
            if s.si[1].state() == SiState::Est && !crate::stream::reuse::give(s, &mut cx) {
                crate::http::reply::close_server(s, &mut cx, false);
            }
            let Some(cid) = s.si[0].conn() else {
                return;
            };
            s.si[0].end = End::None;
            for c in [&mut s.req, &mut s.res] {
                c.drop_data(&mut cx.io.bufs, &mut cx.io.pipes);
            }
            crate::stream::backend::release_server(s, &mut cx);
            cid
        };
        let Some(mut s) = self.streams.remove(sid) else {
            return;
        };
        let since = s
            .txn
            .as_ref()
            .map_or(self.clock.now_abs, |t| t.times.idle_start);
        self.sched.destroy(s.task);
        self.stream_account(&s);
        self.recycle_txn(&mut s);
        let to = self.proxies.get(s.fe).map_or(0, |p| {
            let t = p.timeouts;
            [t.http_keep_alive, t.http_request, t.client]
                .into_iter()
                .find(|&v| v != 0)
                .unwrap_or(0)
        });
        let t = self.sched.create(TaskKind::KeepAlive(cid));
        let mut due = (to > 0).then(|| self.clock.now_abs + u64::from(to));
        if self.stopping {
            let cap = self.clock.now_abs + STOP_IDLE_MS;
            due = Some(due.map_or(cap, |d| d.min(cap)));
        }
        if due.is_some() {
            self.sched.queue(t, due);
        }
        self.parked += 1;
        if let Some(c) = self.io.conns.get_mut(cid) {
            c.owner = ConnOwner::KeepAlive {
                li: s.listener,
                since,
            };
            c.hs_task = Some(t);
            c.want_recv(&mut self.io.fds);
            // Bytes the TLS session already took from the socket get no
            // new edge: the next request must be looked for now.
            if c.ssl().is_some_and(crate::ssl::has_pending) {
                self.io.fds.may_recv(c.fd);
            }
        }
    }

    /// A parked client's fd woke up: its next request starts (or it
    /// closed: the new stream sees it and ends silently).
    pub(crate) fn unpark(&mut self, cid: ConnId, li: usize, since: u64, can_r: bool, can_w: bool) {
        if let Some(t) = self.io.conns.get_mut(cid).and_then(|c| c.hs_task.take()) {
            self.sched.destroy(t);
        }
        self.parked = self.parked.saturating_sub(1);
        // Even when stopping: the request is served, its response closes.
        self.stream_create(li, cid, Some(since));
        if let Some(c) = self.io.conns.get(cid)
            && matches!(c.owner, ConnOwner::Stream { .. })
        {
            self.conn_io(cid, can_r, can_w);
        }
    }

    /// `timeout http-keep-alive` of a parked client: closed, no log.
    pub(crate) fn keepalive_timeout(&mut self, tid: TaskId, cid: ConnId) {
        self.sched.destroy(tid);
        let Some(c) = self.io.conns.get_mut(cid) else {
            return;
        };
        c.hs_task = None;
        if let ConnOwner::KeepAlive { li, .. } = c.owner {
            self.parked_close(cid, li);
        }
    }

    /// Closes a parked client and undoes its connection counts.
    fn parked_close(&mut self, cid: ConnId, li: usize) {
        if let Some(t) = self.io.conns.get_mut(cid).and_then(|c| c.hs_task.take()) {
            self.sched.destroy(t);
        }
        self.parked = self.parked.saturating_sub(1);
        self.io.conn_free(cid, false);
        self.session_uncount(li);
    }

    /// Soft stop: a parked client whose next request has already arrived
    /// is served (its response says `connection: close`); the others get
    /// at most [`STOP_IDLE_MS`] more before they are closed. Closing them
    /// at once, as 2.6 does, resets every client whose request crosses the
    /// close: failed requests at each reload under keep-alive load.
    pub(crate) fn drain_parked(&mut self) {
        let parked: Vec<(ConnId, usize, u64)> = self
            .io
            .conns
            .iter()
            .filter_map(|(id, c)| match c.owner {
                ConnOwner::KeepAlive { li, since } => Some((id, li, since)),
                _ => None,
            })
            .collect();
        for (cid, li, since) in parked {
            let Some(c) = self.io.conns.get(cid) else {
                continue;
            };
            let mut one = [0u8; 1];
            let waiting = c.ssl().is_some_and(crate::ssl::has_pending)
                || crate::conn::sock::peek(c.fd, &mut one).is_ok_and(|n| n > 0);
            if waiting {
                self.unpark(cid, li, since, true, false);
                continue;
            }
            let cap = self.clock.now_abs + STOP_IDLE_MS;
            if let Some(t) = c.hs_task {
                let due = self.sched.expiry(t).map_or(cap, |d| d.min(cap));
                self.sched.queue(t, Some(due));
            }
        }
    }
}
