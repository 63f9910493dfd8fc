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
//!
//! The wait queue is a binary min-heap of `(expiry, task)` in a `Vec`, each
//! task knowing its position in it, so that re-arming or removing a timer
//! is O(log n) and, once the vectors have grown to the working set, never
//! allocates (a tree of nodes would allocate on every insert).

use crate::arena::{AppletId, Arena, ConnId, StreamId};
use crate::ticks::{Tick, tick_isset};
use std::collections::VecDeque;

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
    /// Purges idle server connections each `pool-purge-delay`.
    PoolPurge,
    /// `timeout http-keep-alive` of a parked client connection.
    KeepAlive(ConnId),
}

/// A task's scheduling state.
#[derive(Debug)]
struct Task {
    kind: TaskKind,
    /// Key in the wait queue, when queued (absolute ms).
    wq_key: Option<u64>,
    /// Index of its entry in the wait-queue heap (valid when queued).
    wq_pos: usize,
    in_runq: bool,
}

/// The scheduler.
pub struct Scheduler {
    tasks: Arena<TaskId, Task>,
    runq: VecDeque<TaskId>,
    /// Min-heap of (expiry, task).
    waitq: Vec<(u64, TaskId)>,
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
            runq: VecDeque::with_capacity(256),
            waitq: Vec::with_capacity(1024),
        }
    }

    /// Creates a task, neither queued nor runnable.
    pub fn create(&mut self, kind: TaskKind) -> TaskId {
        self.tasks.insert(Task {
            kind,
            wq_key: None,
            wq_pos: 0,
            in_runq: false,
        })
    }

    /// Deletes a task, removing it from both queues.
    pub fn destroy(&mut self, id: TaskId) {
        if let Some(t) = self.tasks.get(id)
            && t.wq_key.is_some()
        {
            let pos = t.wq_pos;
            self.heap_remove(pos);
        }
        self.tasks.remove(id);
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
    /// When task `id` is due (None: not queued).
    pub fn expiry(&self, id: TaskId) -> Option<u64> {
        self.tasks.get(id).and_then(|t| t.wq_key)
    }

    pub fn queue(&mut self, id: TaskId, abs_ms: Option<u64>) {
        let Some(t) = self.tasks.get_mut(id) else {
            return;
        };
        if t.wq_key == abs_ms {
            return;
        }
        let (old, pos) = (t.wq_key, t.wq_pos);
        t.wq_key = abs_ms;
        match (old, abs_ms) {
            (Some(_), None) => {
                debug_assert_eq!(self.waitq.get(pos).map(|e| e.1), Some(id));
                self.heap_remove(pos);
            }
            (Some(_), Some(k)) => {
                if let Some(e) = self.waitq.get_mut(pos) {
                    e.0 = k;
                }
                let pos = self.sift_up(pos);
                self.sift_down(pos);
            }
            (None, Some(k)) => {
                self.waitq.push((k, id));
                let last = self.waitq.len() - 1;
                self.set_pos(last);
                self.sift_up(last);
            }
            (None, None) => {}
        }
    }

    /// Records in its task where heap entry `i` now is.
    #[inline]
    fn set_pos(&mut self, i: usize) {
        if let Some(&(_, id)) = self.waitq.get(i)
            && let Some(t) = self.tasks.get_mut(id)
        {
            t.wq_pos = i;
        }
    }

    /// Moves entry `i` up while it is earlier than its parent; returns its
    /// final position.
    fn sift_up(&mut self, mut i: usize) -> usize {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.waitq[i] >= self.waitq[parent] {
                break;
            }
            self.waitq.swap(i, parent);
            self.set_pos(i);
            self.set_pos(parent);
            i = parent;
        }
        i
    }

    /// Moves entry `i` down while a child is earlier.
    fn sift_down(&mut self, mut i: usize) {
        let n = self.waitq.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < n && self.waitq[l] < self.waitq[m] {
                m = l;
            }
            if r < n && self.waitq[r] < self.waitq[m] {
                m = r;
            }
            if m == i {
                return;
            }
            self.waitq.swap(i, m);
            self.set_pos(i);
            self.set_pos(m);
            i = m;
        }
    }

    /// Removes heap entry `pos` (its task's key must be cleared by the
    /// caller if the task lives on).
    fn heap_remove(&mut self, pos: usize) {
        let last = self.waitq.len().saturating_sub(1);
        if pos > last || self.waitq.is_empty() {
            return;
        }
        self.waitq.swap(pos, last);
        self.waitq.pop();
        if pos < self.waitq.len() {
            self.set_pos(pos);
            let p = self.sift_up(pos);
            self.sift_down(p);
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
            self.heap_remove(0);
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
    fn wait_queue_matches_an_ordered_set_under_random_operations() {
        use std::collections::BTreeSet;
        let mut s = Scheduler::new();
        let mut model: BTreeSet<(u64, TaskId)> = BTreeSet::new();
        let mut keys: Vec<(TaskId, Option<u64>)> = Vec::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let mut now = 0;
        for _ in 0..20_000 {
            match rnd(10) {
                0..=1 => keys.push((s.create(TaskKind::Stopper), None)),
                2..=5 if !keys.is_empty() => {
                    let i = rnd(keys.len() as u64) as usize;
                    let (id, old) = keys[i];
                    let new = if rnd(4) == 0 {
                        None
                    } else {
                        Some(now + rnd(500))
                    };
                    if let Some(k) = old {
                        model.remove(&(k, id));
                    }
                    if let Some(k) = new {
                        model.insert((k, id));
                    }
                    keys[i].1 = new;
                    s.queue(id, new);
                }
                6 if !keys.is_empty() => {
                    let i = rnd(keys.len() as u64) as usize;
                    let (id, old) = keys.swap_remove(i);
                    if let Some(k) = old {
                        model.remove(&(k, id));
                    }
                    s.destroy(id);
                }
                _ => {
                    now += rnd(50);
                    s.wake_expired(now);
                    let mut fired = Vec::new();
                    while let Some((id, _)) = s.pop_runnable() {
                        fired.push(id);
                    }
                    let mut expected = Vec::new();
                    while let Some(&(k, id)) = model.first() {
                        if k > now {
                            break;
                        }
                        model.pop_first();
                        expected.push(id);
                    }
                    assert_eq!(fired, expected);
                    for e in keys.iter_mut() {
                        if expected.contains(&e.0) {
                            e.1 = None;
                        }
                    }
                }
            }
            assert_eq!(
                s.next_expiry(now),
                model.first().map(|&(k, _)| k.saturating_sub(now))
            );
        }
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
