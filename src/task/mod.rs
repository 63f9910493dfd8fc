//! The scheduler: tasks in a slab, a run queue and a wait queue by expiry.
//!
//! A task is something the loop runs: a stream, a health check, an applet.
//! It is *runnable* when woken (`wakeup`) and *waiting* when it has an expiry
//! date (`queue`). One loop turn runs the expired timers' tasks and then the
//! run queue (bounded per turn so that I/O is not starved).
//!
//! Expiry dates may be set earlier than needed: a task woken by its timer
//! recomputes its real deadline and queues itself again. This lets the I/O
//! path refresh timeouts without touching the wait queue.

use crate::arena::{AppletId, Arena, ConnId, StreamId};
use crate::ticks::{Tick, tick_isset};
use std::collections::{BTreeSet, VecDeque};

pub use crate::arena::TaskId;

/// What a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// A stream: `process_stream`.
    Stream(StreamId),
    /// An applet: its I/O handler.
    Applet(AppletId),
    /// A health check (server index pair: proxy, server).
    Check(usize, usize),
    /// The soft-stop / hard-stop-after watchdog.
    Stopper,
    /// The time limit of an incoming connection's handshakes.
    Handshake(ConnId),
}

/// A task's scheduling state.
#[derive(Debug)]
struct Task {
    kind: TaskKind,
    /// Key in the wait queue, when queued (absolute ms).
    wq_key: Option<u64>,
    in_runq: bool,
}

/// The scheduler.
pub struct Scheduler {
    tasks: Arena<TaskId, Task>,
    runq: VecDeque<TaskId>,
    waitq: BTreeSet<(u64, TaskId)>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    /// An empty scheduler.
    pub fn new() -> Self {
        Scheduler {
            tasks: Arena::with_capacity(1024),
            runq: VecDeque::new(),
            waitq: BTreeSet::new(),
        }
    }

    /// Creates a task, neither queued nor runnable.
    pub fn create(&mut self, kind: TaskKind) -> TaskId {
        self.tasks.insert(Task {
            kind,
            wq_key: None,
            in_runq: false,
        })
    }

    /// Deletes a task, removing it from both queues.
    pub fn destroy(&mut self, id: TaskId) {
        if let Some(t) = self.tasks.remove(id)
            && let Some(k) = t.wq_key
        {
            self.waitq.remove(&(k, id));
        }
        // A stale run-queue entry is skipped when popped.
    }

    /// Makes the task runnable this turn (idempotent).
    #[inline]
    pub fn wakeup(&mut self, id: TaskId) {
        if let Some(t) = self.tasks.get_mut(id)
            && !t.in_runq
        {
            t.in_runq = true;
            self.runq.push_back(id);
        }
    }

    /// Sets the task's expiry (`abs_ms` from `Clock::tick_to_abs`, or None).
    pub fn queue(&mut self, id: TaskId, abs_ms: Option<u64>) {
        let Some(t) = self.tasks.get_mut(id) else {
            return;
        };
        if t.wq_key == abs_ms {
            return;
        }
        if let Some(k) = t.wq_key.take() {
            self.waitq.remove(&(k, id));
        }
        if let Some(k) = abs_ms {
            t.wq_key = Some(k);
            self.waitq.insert((k, id));
        }
    }

    /// Queues with a tick, converting through the clock.
    pub fn queue_tick(&mut self, id: TaskId, exp: Tick, clock: &crate::ticks::Clock) {
        let abs = if tick_isset(exp) {
            Some(clock.tick_to_abs(exp))
        } else {
            None
        };
        self.queue(id, abs);
    }

    /// Moves every task whose expiry is at or before `now_abs` to the run queue.
    pub fn wake_expired(&mut self, now_abs: u64) {
        while let Some(&(k, id)) = self.waitq.first() {
            if k > now_abs {
                break;
            }
            self.waitq.pop_first();
            if let Some(t) = self.tasks.get_mut(id) {
                t.wq_key = None;
            }
            self.wakeup(id);
        }
    }

    /// Milliseconds until the next timer (None: no timer).
    pub fn next_expiry(&self, now_abs: u64) -> Option<u64> {
        self.waitq.first().map(|&(k, _)| k.saturating_sub(now_abs))
    }

    /// True when tasks are waiting to run.
    pub fn has_runnable(&self) -> bool {
        !self.runq.is_empty()
    }

    /// Pops the next runnable task.
    pub fn pop_runnable(&mut self) -> Option<(TaskId, TaskKind)> {
        while let Some(id) = self.runq.pop_front() {
            // A task destroyed while runnable leaves a stale entry behind.
            if !self.tasks.contains(id) {
                continue;
            }
            if let Some(t) = self.tasks.get_mut(id)
                && t.in_runq
            {
                t.in_runq = false;
                return Some((id, t.kind));
            }
        }
        None
    }

    /// How many runnable entries are queued (upper bound for one turn).
    pub fn runq_len(&self) -> usize {
        self.runq.len()
    }

    /// Number of live tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when there is no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Id;

    #[test]
    fn wakeup_is_idempotent() {
        let mut s = Scheduler::new();
        let a = s.create(TaskKind::Stopper);
        s.wakeup(a);
        s.wakeup(a);
        assert_eq!(s.pop_runnable(), Some((a, TaskKind::Stopper)));
        assert_eq!(s.pop_runnable(), None);
    }

    #[test]
    fn timers_fire_in_order() {
        let mut s = Scheduler::new();
        let (one, two) = (StreamId::from_idx(1), StreamId::from_idx(2));
        let a = s.create(TaskKind::Stream(one));
        let b = s.create(TaskKind::Stream(two));
        s.queue(a, Some(200));
        s.queue(b, Some(100));
        assert_eq!(s.next_expiry(50), Some(50));
        s.wake_expired(150);
        assert_eq!(s.pop_runnable(), Some((b, TaskKind::Stream(two))));
        assert_eq!(s.pop_runnable(), None);
        s.queue(a, Some(120)); // re-arm earlier
        s.wake_expired(150);
        assert_eq!(s.pop_runnable(), Some((a, TaskKind::Stream(one))));
    }

    #[test]
    fn destroyed_task_never_runs() {
        let mut s = Scheduler::new();
        let a = s.create(TaskKind::Stopper);
        s.queue(a, Some(10));
        s.wakeup(a);
        s.destroy(a);
        s.wake_expired(100);
        assert_eq!(s.pop_runnable(), None);
        assert!(s.is_empty());
    }
}
