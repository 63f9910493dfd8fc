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

use crate::ticks::{Tick, tick_isset};
use slab::Slab;
use std::collections::{BTreeSet, VecDeque};

/// What a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// A stream (key in the engine's stream slab).
    Stream(usize),
    /// A health check (server index pair: proxy, server).
    Check(usize, usize),
    /// The soft-stop / hard-stop-after watchdog.
    Stopper,
    /// The timeout of a connection's handshake (connection id).
    Handshake(usize),
}

/// A task's scheduling state.
#[derive(Debug)]
struct Task {
    kind: TaskKind,
    /// Key in the wait queue, when queued (absolute ms).
    wq_key: Option<u64>,
    in_runq: bool,
}

/// Typed task id.
pub type TaskId = usize;

/// The scheduler.
#[derive(Default)]
pub struct Scheduler {
    tasks: Slab<Task>,
    runq: VecDeque<TaskId>,
    waitq: BTreeSet<(u64, TaskId)>,
}

impl Scheduler {
    /// An empty scheduler.
    pub fn new() -> Self {
        Self::default()
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
        if let Some(t) = self.tasks.try_remove(id)
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
        let a = s.create(TaskKind::Stream(1));
        let b = s.create(TaskKind::Stream(2));
        s.queue(a, Some(200));
        s.queue(b, Some(100));
        assert_eq!(s.next_expiry(50), Some(50));
        s.wake_expired(150);
        assert_eq!(s.pop_runnable(), Some((b, TaskKind::Stream(2))));
        assert_eq!(s.pop_runnable(), None);
        s.queue(a, Some(120)); // re-arm earlier
        s.wake_expired(150);
        assert_eq!(s.pop_runnable(), Some((a, TaskKind::Stream(1))));
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
