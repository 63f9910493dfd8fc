//! Thin syscall wrappers for the poller: each returns `io::Result` or a count.

use std::io;
use std::os::fd::RawFd;

/// Creates an epoll instance (close-on-exec).
pub fn epoll_create() -> io::Result<RawFd> {
    // SAFETY: plain syscall, no pointers.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(fd)
    }
}

/// Adds `fd` with the given event mask; the fd number is the user data.
pub fn epoll_add(epfd: RawFd, fd: RawFd, events: u32) -> io::Result<()> {
    epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, events)
}

/// Changes the event mask of a registered `fd`.
pub fn epoll_mod(epfd: RawFd, fd: RawFd, events: u32) -> io::Result<()> {
    epoll_ctl(epfd, libc::EPOLL_CTL_MOD, fd, events)
}

fn epoll_ctl(epfd: RawFd, op: libc::c_int, fd: RawFd, events: u32) -> io::Result<()> {
    let mut ev = libc::epoll_event {
        events,
        u64: fd as u64,
    };
    // SAFETY: `ev` is a valid epoll_event for the duration of the call.
    let r = unsafe { libc::epoll_ctl(epfd, op, fd, &mut ev) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Removes `fd` from the epoll set (errors ignored: the fd may be gone).
pub fn epoll_del(epfd: RawFd, fd: RawFd) {
    // A failure only means the fd was not registered.
    let _ = epoll_ctl(epfd, libc::EPOLL_CTL_DEL, fd, 0);
}

/// Waits for events; returns how many were written to `events` (0 on EINTR).
pub fn epoll_wait(epfd: RawFd, events: &mut [libc::epoll_event], timeout_ms: i32) -> usize {
    // SAFETY: `events` is a valid writable slice of the given length.
    let n = unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), events.len() as i32, timeout_ms) };
    if n < 0 { 0 } else { n as usize }
}

/// Closes an fd, ignoring errors (nothing useful can be done with them).
pub fn close(fd: RawFd) {
    // SAFETY: the caller owns `fd` and never uses it again.
    unsafe { libc::close(fd) };
}

/// A connected pair of non-blocking UNIX stream sockets, for tests of the
/// layers that poll or read sockets.
#[cfg(test)]
pub fn socketpair() -> (RawFd, RawFd) {
    let mut sv = [0; 2];
    // SAFETY: `sv` is a valid 2-element array for the kernel to fill.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK,
            0,
            sv.as_mut_ptr(),
        )
    };
    assert_eq!(r, 0, "socketpair");
    (sv[0], sv[1])
}
