//! Pending connections: streams waiting for a server slot (HAProxy's
//! pendconns, configuration.txt 4.2 "timeout queue", 5.2 "maxconn").
//!
//! A stream that finds every usable server at its `maxconn` queues a
//! [`PendConn`] in its backend's queue and sleeps in state QUE. When a slot
//! frees, [`dequeue`] grants it to the oldest entry (the server's own queue
//! first, then the backend's): it counts the stream on the server at once
//! and wakes its task. The stream takes the grant the next time it runs
//! ([`take_grant`]). Neither side ever touches the other's stream: the
//! queue entry is the only thing they share.
//!
//! ```text
//!   enqueue --> [waiting] --dequeue--> [granted] --take_grant--> stream ASS
//!                   \--remove (timeout, client abort)--> freed (grant handed back)
//! ```

use crate::arena::{Arena, PendId, TaskId};
use crate::proxy::Proxy;
use crate::task::Scheduler;

/// A stream's place in a queue.
#[derive(Debug)]
pub struct PendConn {
    /// The waiting stream's task (woken on grant).
    pub task: TaskId,
    /// The backend whose queue holds it.
    pub be: usize,
    /// The server slot granted by `dequeue`, once granted.
    pub granted: Option<usize>,
    /// When the grant happened (monotonic ms), for the logs' `Tw`.
    pub t_dequeue: u64,
}

/// Queues a stream (its task) at the back of backend `be`'s queue. Returns
/// the entry and the queue length including it (what `%bq` logs).
pub fn enqueue(
    pends: &mut Arena<PendId, PendConn>,
    px: &mut Proxy,
    be: usize,
    task: TaskId,
) -> (PendId, u32) {
    let p = pends.insert(PendConn {
        task,
        be,
        granted: None,
        t_dequeue: 0,
    });
    px.queue.push_back(p);
    (p, px.queue.len() as u32)
}

/// Hands free slots of server `srv` of backend `be` to the oldest waiting
/// entries (its own queue first, then the backend's): each one is counted
/// on the server and its stream woken.
pub fn dequeue(
    pends: &mut Arena<PendId, PendConn>,
    proxies: &mut [Proxy],
    sched: &mut Scheduler,
    be: usize,
    srv: usize,
    now_abs: u64,
) {
    let Some(px) = proxies.get_mut(be) else {
        return;
    };
    let Some(mut s) = px.servers.get(srv).map(|s| !s.full() && s.usable()) else {
        return;
    };
    while s {
        let next = px
            .servers
            .get_mut(srv)
            .and_then(|x| x.queue.pop_front())
            .or_else(|| px.queue.pop_front());
        let Some(p) = next else { break };
        let Some(pc) = pends.get_mut(p) else {
            continue;
        };
        pc.granted = Some(srv);
        pc.t_dequeue = now_abs;
        sched.wakeup(pc.task);
        let Some(x) = px.servers.get_mut(srv) else {
            break;
        };
        x.take_slot();
        s = !x.full() && x.usable();
    }
}

/// The grant of a queue entry: `Some((server, dequeue date))` once
/// granted, in which case the entry is freed and the server slot (already
/// counted) belongs to the caller.
pub fn take_grant(pends: &mut Arena<PendId, PendConn>, p: PendId) -> Option<(usize, u64)> {
    let granted = pends.get(p)?.granted?;
    let pc = pends.remove(p)?;
    Some((granted, pc.t_dequeue))
}

/// Takes an entry out of whatever queue holds it and frees it. Returns the
/// server slot it had been granted meanwhile, if any (the caller must give
/// it back or use it).
pub fn remove(
    pends: &mut Arena<PendId, PendConn>,
    proxies: &mut [Proxy],
    p: PendId,
) -> Option<(usize, u64)> {
    let pc = pends.remove(p)?;
    if let Some(srv) = pc.granted {
        return Some((srv, pc.t_dequeue));
    }
    if let Some(px) = proxies.get_mut(pc.be) {
        if let Some(i) = px.queue.iter().position(|&x| x == p) {
            px.queue.remove(i);
        } else {
            for s in px.servers.iter_mut() {
                if let Some(i) = s.queue.iter().position(|&x| x == p) {
                    s.queue.remove(i);
                    break;
                }
            }
        }
    }
    None
}
