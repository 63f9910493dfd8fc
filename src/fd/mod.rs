//! The fd table and the epoll poller.
//!
//! Every file descriptor the process polls has an entry here: who owns it and
//! its per-direction state. The verbs mean what they mean in HAProxy:
//!
//! ```text
//!   want_recv / want_send   the owner wants to be told it can read / write
//!   stop_recv / stop_send   the owner no longer wants to
//!   cant_recv / cant_send   a syscall returned EAGAIN: readiness is gone
//!   may_recv  / may_send    the kernel reported readiness (poller sets it)
//! ```
//!
//! I/O is speculative: an fd that is both *wanted* and *ready* in a direction
//! is "active" and its owner is called without asking the kernel first; only
//! after EAGAIN does the fd wait for the kernel again. Sockets are registered
//! edge-triggered for both directions, so no `epoll_ctl` is needed when the
//! wanted set changes: the readiness bits remember what the kernel said and
//! the active list holds what must be done this turn.
//!
//! One exception keeps a blocked reader from being woken for nothing: when
//! the kernel reports input on a connection that does not want to read (its
//! channel is full, its peer is slow), reading is muted in epoll until the
//! owner wants to read again. Each new segment from a fast sender would
//! otherwise wake the process to do nothing. Muting is lazy, so a reader
//! that stops and resumes without the kernel noticing costs no syscall.

pub mod sys;

use bitflags::bitflags;
use std::os::fd::RawFd;

bitflags! {
    /// Per-fd state. WANT bits are set by the owner, READY bits by the
    /// poller (and cleared by the owner on EAGAIN).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct FdState: u16 {
        const WANT_R  = 0x01;
        const WANT_W  = 0x02;
        const READY_R = 0x04;
        const READY_W = 0x08;
        /// The kernel reported an error or hang-up (EPOLLERR / EPOLLHUP).
        const ERR     = 0x10;
        /// The fd is queued in the active list.
        const ACTIVE  = 0x20;
        /// The peer shut its write side (EPOLLRDHUP): a read0 is pending, so
        /// readiness for reading never goes away.
        const RDHUP   = 0x40;
        /// EPOLLIN is currently left out of the epoll registration.
        const MUTED_R = 0x80;
        /// EPOLLOUT is left out of the epoll registration (until a send
        /// blocks: sends are speculative, writability is rarely needed).
        const MUTED_W = 0x100;
        /// The kernel reported an error (EPOLLERR, e.g. a reset), not just
        /// a hang-up.
        const SOCK_ERR = 0x200;
    }
}

/// The epoll registration of a connection in state `st`: edge-triggered,
/// both directions but those muted. EPOLLRDHUP always stays, so that a
/// peer's shutdown is seen even while reading is muted.
fn conn_events(st: FdState) -> u32 {
    let mut ev = (libc::EPOLLRDHUP | libc::EPOLLET) as u32;
    if !st.contains(FdState::MUTED_R) {
        ev |= libc::EPOLLIN as u32;
    }
    if !st.contains(FdState::MUTED_W) {
        ev |= libc::EPOLLOUT as u32;
    }
    ev
}

/// Who to call when the fd has something to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FdOwner {
    #[default]
    None,
    /// A listening socket (index in the engine's listener table).
    Listener(usize),
    /// A connection.
    Conn(crate::arena::ConnId),
    /// The signalfd.
    Signal,
    /// A master CLI applet's connection to a worker.
    Relay(crate::arena::AppletId),
}

/// One fd's entry.
#[derive(Debug, Clone, Copy, Default)]
pub struct FdEntry {
    pub owner: FdOwner,
    pub state: FdState,
}

/// The fd table plus the epoll instance.
pub struct FdTab {
    epfd: RawFd,
    entries: Vec<FdEntry>,
    /// Fds whose owner must be called this turn (wanted and ready).
    active: Vec<RawFd>,
    events: Vec<libc::epoll_event>,
    /// Number of fds registered.
    pub used: usize,
}

impl FdTab {
    /// Creates the epoll instance. Fails only if the kernel refuses one.
    pub fn new() -> std::io::Result<Self> {
        let epfd = sys::epoll_create()?;
        Ok(FdTab {
            epfd,
            entries: Vec::new(),
            active: Vec::with_capacity(256),
            events: vec![libc::epoll_event { events: 0, u64: 0 }; 512],
            used: 0,
        })
    }

    /// Registers `fd` (non-blocking, already set up) for `owner`, edge-triggered:
    /// reading only for listeners and the signal fd, both directions for
    /// connections. Readiness is then remembered in the READY bits.
    pub fn insert(&mut self, fd: RawFd, owner: FdOwner) -> std::io::Result<()> {
        self.insert_with(fd, owner, FdState::empty())
    }

    /// Registers a connection that does not need to hear about writability
    /// yet (an accepted one: it is written speculatively, and `want_send`
    /// adds EPOLLOUT the first time a send blocks). This spares an event
    /// for every ACK that frees room in its socket.
    pub fn insert_muted_w(&mut self, fd: RawFd, owner: FdOwner) -> std::io::Result<()> {
        self.insert_with(fd, owner, FdState::MUTED_W)
    }

    fn insert_with(&mut self, fd: RawFd, owner: FdOwner, st: FdState) -> std::io::Result<()> {
        let idx = fd as usize;
        if idx >= self.entries.len() {
            self.entries.resize(idx + 64, FdEntry::default());
        }
        let ev = match owner {
            FdOwner::Conn(_) => conn_events(st),
            _ => (libc::EPOLLIN | libc::EPOLLET) as u32,
        };
        sys::epoll_add(self.epfd, fd, ev)?;
        self.entries[idx] = FdEntry { owner, state: st };
        self.used += 1;
        Ok(())
    }

    /// Forgets `fd` (the caller closes it; closing removes it from epoll).
    pub fn remove(&mut self, fd: RawFd) {
        if let Some(e) = self.entries.get_mut(fd as usize) {
            if e.owner != FdOwner::None {
                self.used -= 1;
            }
            *e = FdEntry::default();
        }
    }

    /// Removes `fd` from epoll without closing it (used before handing a
    /// listening socket to another process, or when pausing).
    pub fn unregister(&mut self, fd: RawFd) {
        sys::epoll_del(self.epfd, fd);
        self.remove(fd);
    }

    /// The entry for `fd`, if registered.
    #[inline]
    pub fn get(&self, fd: RawFd) -> Option<&FdEntry> {
        self.entries
            .get(fd as usize)
            .filter(|e| e.owner != FdOwner::None)
    }

    #[inline]
    fn state_mut(&mut self, fd: RawFd) -> Option<&mut FdState> {
        self.entries.get_mut(fd as usize).map(|e| &mut e.state)
    }

    #[inline]
    fn update_active(&mut self, fd: RawFd) {
        let Some(st) = self.state_mut(fd) else { return };
        let live = (st.contains(FdState::WANT_R) && st.intersects(FdState::READY_R | FdState::ERR))
            || (st.contains(FdState::WANT_W) && st.intersects(FdState::READY_W | FdState::ERR));
        if live && !st.contains(FdState::ACTIVE) {
            st.insert(FdState::ACTIVE);
            self.active.push(fd);
        }
    }

    /// The owner wants to read: if the fd is already known readable it
    /// becomes active (speculative read this turn).
    #[inline]
    pub fn want_recv(&mut self, fd: RawFd) {
        let epfd = self.epfd;
        if let Some(st) = self.state_mut(fd) {
            st.insert(FdState::WANT_R);
            // Unmuting makes the kernel re-check readiness and report an
            // edge if data is waiting, so nothing that arrived is missed.
            if st.contains(FdState::MUTED_R)
                && sys::epoll_mod(epfd, fd, conn_events(*st - FdState::MUTED_R)).is_ok()
            {
                st.remove(FdState::MUTED_R);
            }
        }
        self.update_active(fd);
    }

    /// The owner wants to write (speculative write if known writable).
    #[inline]
    pub fn want_send(&mut self, fd: RawFd) {
        let epfd = self.epfd;
        if let Some(st) = self.state_mut(fd) {
            st.insert(FdState::WANT_W);
            // As for reading: the kernel reports writability at once if
            // there is room by now.
            if st.contains(FdState::MUTED_W)
                && sys::epoll_mod(epfd, fd, conn_events(*st - FdState::MUTED_W)).is_ok()
            {
                st.remove(FdState::MUTED_W);
            }
        }
        self.update_active(fd);
    }

    /// The owner does not want to read any more.
    #[inline]
    pub fn stop_recv(&mut self, fd: RawFd) {
        if let Some(st) = self.state_mut(fd) {
            st.remove(FdState::WANT_R);
        }
    }

    /// The owner does not want to write any more.
    #[inline]
    pub fn stop_send(&mut self, fd: RawFd) {
        if let Some(st) = self.state_mut(fd) {
            st.remove(FdState::WANT_W);
        }
    }

    /// A read returned EAGAIN (or drained the socket): wait for the kernel.
    /// Without effect once the peer's shutdown was reported: the next read
    /// returns 0 and no new edge would announce it.
    #[inline]
    pub fn cant_recv(&mut self, fd: RawFd) {
        if let Some(st) = self.state_mut(fd)
            && !st.contains(FdState::RDHUP)
        {
            st.remove(FdState::READY_R);
        }
    }

    /// A write returned EAGAIN (or filled the socket): wait for the kernel.
    #[inline]
    pub fn cant_send(&mut self, fd: RawFd) {
        if let Some(st) = self.state_mut(fd) {
            st.remove(FdState::READY_W);
        }
    }

    /// Marks the fd readable (used by the poller, and to force one more try).
    #[inline]
    pub fn may_recv(&mut self, fd: RawFd) {
        if let Some(st) = self.state_mut(fd) {
            st.insert(FdState::READY_R);
        }
        self.update_active(fd);
    }

    /// Marks the fd writable.
    #[inline]
    pub fn may_send(&mut self, fd: RawFd) {
        if let Some(st) = self.state_mut(fd) {
            st.insert(FdState::READY_W);
        }
        self.update_active(fd);
    }

    /// True when a read may be tried now.
    #[inline]
    pub fn recv_ready(&self, fd: RawFd) -> bool {
        self.entries
            .get(fd as usize)
            .is_some_and(|e| e.state.intersects(FdState::READY_R | FdState::ERR))
    }

    /// True once the peer's shutdown (EPOLLRDHUP) was reported on `fd`.
    #[inline]
    pub fn rdhup(&self, fd: RawFd) -> bool {
        self.entries
            .get(fd as usize)
            .is_some_and(|e| e.state.contains(FdState::RDHUP))
    }

    /// True once the kernel reported an error (EPOLLERR) on `fd`.
    #[inline]
    pub fn err(&self, fd: RawFd) -> bool {
        self.entries
            .get(fd as usize)
            .is_some_and(|e| e.state.contains(FdState::SOCK_ERR))
    }

    /// True when a write may be tried now.
    #[inline]
    pub fn send_ready(&self, fd: RawFd) -> bool {
        self.entries
            .get(fd as usize)
            .is_some_and(|e| e.state.intersects(FdState::READY_W | FdState::ERR))
    }

    /// True when there is work to do without waiting for the kernel.
    pub fn has_active(&self) -> bool {
        !self.active.is_empty()
    }

    /// Waits up to `timeout_ms` (-1 = forever) for events and merges them
    /// into the readiness bits; wanted-and-ready fds join the active list.
    pub fn poll(&mut self, timeout_ms: i32) {
        let n = sys::epoll_wait(self.epfd, &mut self.events, timeout_ms);
        let epfd = self.epfd;
        for i in 0..n {
            let Some(ev) = self.events.get(i) else { break };
            let (bits, fd) = (ev.events, ev.u64 as RawFd);
            if let Some(e) = self.entries.get_mut(fd as usize) {
                let st = &mut e.state;
                if bits & (libc::EPOLLIN | libc::EPOLLRDHUP) as u32 != 0 {
                    st.insert(FdState::READY_R);
                }
                if bits & libc::EPOLLRDHUP as u32 != 0 {
                    st.insert(FdState::RDHUP);
                }
                if bits & libc::EPOLLOUT as u32 != 0 {
                    st.insert(FdState::READY_W);
                }
                if bits & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
                    st.insert(FdState::ERR | FdState::READY_R | FdState::READY_W);
                }
                if bits & libc::EPOLLERR as u32 != 0 {
                    st.insert(FdState::SOCK_ERR);
                }
                // Input nobody wants right now: mute it until wanted again.
                if bits & libc::EPOLLIN as u32 != 0
                    && !st.intersects(
                        FdState::WANT_R | FdState::MUTED_R | FdState::RDHUP | FdState::ERR,
                    )
                    && matches!(e.owner, FdOwner::Conn(_))
                    && sys::epoll_mod(epfd, fd, conn_events(*st | FdState::MUTED_R)).is_ok()
                {
                    st.insert(FdState::MUTED_R);
                }
            }
            self.update_active(fd);
        }
        if n == self.events.len() && n < 8192 {
            self.events
                .resize(n * 2, libc::epoll_event { events: 0, u64: 0 });
        }
    }

    /// Takes the current active list; the caller handles each fd then calls
    /// `requeue` so that fds still wanted and ready stay active.
    pub fn take_active(&mut self, into: &mut Vec<RawFd>) {
        into.clear();
        std::mem::swap(into, &mut self.active);
        for &fd in into.iter() {
            if let Some(st) = self.state_mut(fd) {
                st.remove(FdState::ACTIVE);
            }
        }
    }

    /// What the owner of `fd` may do now: (read, write).
    #[inline]
    pub fn pending(&self, fd: RawFd) -> (bool, bool) {
        match self.entries.get(fd as usize) {
            Some(e) => {
                let s = e.state;
                (
                    s.contains(FdState::WANT_R) && s.intersects(FdState::READY_R | FdState::ERR),
                    s.contains(FdState::WANT_W) && s.intersects(FdState::READY_W | FdState::ERR),
                )
            }
            None => (false, false),
        }
    }

    /// Re-evaluates `fd` after its owner ran (keeps it active if needed).
    #[inline]
    pub fn requeue(&mut self, fd: RawFd) {
        self.update_active(fd);
    }

    /// The owner of `fd`.
    #[inline]
    pub fn owner(&self, fd: RawFd) -> FdOwner {
        self.entries
            .get(fd as usize)
            .map(|e| e.owner)
            .unwrap_or_default()
    }
}

impl Drop for FdTab {
    fn drop(&mut self) {
        sys::close(self.epfd);
    }
}

#[cfg(test)]
mod tests {
    use super::sys::socketpair;
    use super::*;
    use crate::arena::{ConnId, Id};

    fn send(fd: RawFd, data: &[u8]) {
        // SAFETY: `data` is a valid readable slice.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        assert_eq!(n, data.len() as isize);
    }

    fn state(t: &FdTab, fd: RawFd) -> FdState {
        t.get(fd).expect("registered").state
    }

    #[test]
    fn unwanted_input_mutes_reading_and_want_recv_reports_waiting_data() {
        let mut t = FdTab::new().expect("epoll");
        let (a, b) = socketpair();
        t.insert(a, FdOwner::Conn(ConnId::from_idx(0)))
            .expect("insert");
        // Writable at once; nobody wants to read: input mutes the fd.
        t.poll(0);
        send(b, b"x");
        t.poll(100);
        let st = state(&t, a);
        assert!(st.contains(FdState::MUTED_R | FdState::READY_R), "{st:?}");
        // Drained by a read elsewhere, more data comes: no event while muted.
        t.cant_recv(a);
        send(b, b"y");
        t.poll(0);
        assert!(
            !state(&t, a).contains(FdState::READY_R),
            "muted fd reported input"
        );
        // Wanting to read again unmutes and the kernel reports the waiting byte.
        t.want_recv(a);
        assert!(!state(&t, a).contains(FdState::MUTED_R));
        t.poll(100);
        assert_eq!(t.pending(a), (true, false));
        sys::close(a);
        sys::close(b);
    }

    #[test]
    fn wanted_input_does_not_mute() {
        let mut t = FdTab::new().expect("epoll");
        let (a, b) = socketpair();
        t.insert(a, FdOwner::Conn(ConnId::from_idx(0)))
            .expect("insert");
        t.want_recv(a);
        send(b, b"x");
        t.poll(100);
        assert!(!state(&t, a).contains(FdState::MUTED_R));
        assert_eq!(t.pending(a), (true, false));
        sys::close(a);
        sys::close(b);
    }
}
