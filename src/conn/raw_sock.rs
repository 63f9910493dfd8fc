//! The raw socket data layer: bytes between a socket and a buffer or a pipe.
//!
//! The raw xprt's operations, called only through the connection
//! (`Connection::rcv_buf` and friends dispatch here). Each call does as few
//! syscalls as the data allows and reports what happened as an [`Xfer`],
//! without touching any upper-layer state:
//! - `rcv_buf`: one `recv`/`readv` per contiguous pass, stopping at EAGAIN, a
//!   short read (the socket is drained: edge-triggered polling will tell us
//!   when more comes), read0, an error or a full buffer.
//! - `snd_buf`: one `send`/`sendmsg` (two iovecs when the data wraps) with
//!   `MSG_DONTWAIT | MSG_NOSIGNAL`, and `MSG_MORE` when the caller knows more
//!   data follows.
//! - `rcv_pipe` / `snd_pipe`: `splice(2)` with `SPLICE_F_MOVE |
//!   SPLICE_F_NONBLOCK`; errno is kept and mapped (EAGAIN is "wait", anything
//!   else is an error, never "no progress").

use super::{Stop, Xfer};
use crate::buf::Buffer;
use crate::buf::pipe::Pipe;
use std::os::fd::RawFd;

#[inline]
fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Receives into `buf` (as input) until it is full (`Progress`), the socket
/// is drained (`BlockedRead`), read0 or an error. `limit` caps the bytes
/// taken (e.g. remaining forward budget).
pub fn rcv_buf(fd: RawFd, buf: &mut Buffer, limit: usize) -> Xfer {
    let mut st = Xfer {
        n: 0,
        stop: Stop::Progress,
    };
    let mut budget = limit;
    while budget > 0 {
        let [(a_off, a_len), (b_off, b_len)] = buf.free_ranges();
        if a_len == 0 {
            break;
        }
        // Raw pointers into the buffer's area: the free ranges may be
        // memory never written yet (not initialised), which only the
        // kernel writes, then `commit` records.
        let base = buf.area_ptr();
        let a_ptr = base.wrapping_add(a_off);
        let b_ptr = base.wrapping_add(b_off);
        let try_a = a_len.min(budget);
        let ret;
        let asked;
        if try_a == a_len && b_len > 0 && budget > a_len {
            // The free area wraps: fill both parts in one readv.
            let try_b = b_len.min(budget - a_len);
            let iov = [
                libc::iovec {
                    iov_base: a_ptr as *mut libc::c_void,
                    iov_len: a_len,
                },
                libc::iovec {
                    iov_base: b_ptr as *mut libc::c_void,
                    iov_len: try_b,
                },
            ];
            asked = a_len + try_b;
            // SAFETY: both iovecs lie in `buf`'s free ranges, inside its
            // allocation (capacity), valid for writes.
            ret = unsafe { libc::readv(fd, iov.as_ptr(), 2) };
        } else {
            asked = try_a;
            // SAFETY: the first free range is valid for writes of `try_a`
            // bytes (inside the allocation's capacity).
            ret = unsafe { libc::recv(fd, a_ptr as *mut libc::c_void, try_a, 0) };
        }
        if ret > 0 {
            let n = ret as usize;
            // SAFETY: the kernel wrote these `n` bytes at the free ranges.
            unsafe { buf.commit(n) };
            st.n += n;
            budget -= n;
            if n < asked {
                st.stop = Stop::BlockedRead;
                break;
            }
        } else if ret == 0 {
            st.stop = Stop::Read0;
            break;
        } else {
            match errno() {
                libc::EAGAIN => st.stop = Stop::BlockedRead,
                libc::EINTR => continue,
                e => st.stop = Stop::Error(e),
            }
            break;
        }
    }
    st
}

/// Sends `buf`'s output bytes (consuming what went out): `Progress` once
/// all went out, `BlockedWrite` when the socket is full. `more` sets
/// MSG_MORE.
pub fn snd_buf(fd: RawFd, buf: &mut Buffer, more: bool) -> Xfer {
    let mut st = Xfer {
        n: 0,
        stop: Stop::Progress,
    };
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL | if more { libc::MSG_MORE } else { 0 };
    while buf.output() > 0 {
        let (a, b) = buf.out_data();
        let asked = a.len() + b.len();
        let ret = if b.is_empty() {
            // SAFETY: `a` is valid for reads of its length.
            unsafe { libc::send(fd, a.as_ptr() as *const libc::c_void, a.len(), flags) }
        } else {
            let iov = [
                libc::iovec {
                    iov_base: a.as_ptr() as *mut libc::c_void,
                    iov_len: a.len(),
                },
                libc::iovec {
                    iov_base: b.as_ptr() as *mut libc::c_void,
                    iov_len: b.len(),
                },
            ];
            // SAFETY: zeroed msghdr is valid; iov points to live buffer slices.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = 2;
            // SAFETY: `msg` and its iovecs are valid for the call.
            unsafe { libc::sendmsg(fd, &msg, flags) }
        };
        if ret > 0 {
            let n = ret as usize;
            buf.consume(n);
            st.n += n;
            if n < asked {
                st.stop = Stop::BlockedWrite;
                break;
            }
        } else if ret < 0 {
            match errno() {
                libc::EAGAIN => st.stop = Stop::BlockedWrite,
                libc::EINTR => continue,
                e => st.stop = Stop::Error(e),
            }
            break;
        } else {
            st.stop = Stop::BlockedWrite;
            break;
        }
    }
    st
}

/// Splices from the socket into `pipe`, at most `max` bytes. A short splice
/// is either an empty socket or a full pipe (pipes count pages, not bytes);
/// FIONREAD tells them apart with one cheap call.
pub fn rcv_pipe(fd: RawFd, pipe: &mut Pipe, max: usize) -> Xfer {
    let mut st = Xfer {
        n: 0,
        stop: Stop::Progress,
    };
    let mut budget = max;
    while budget > 0 {
        // SAFETY: plain splice between two fds we own; null offsets for sockets/pipes.
        let ret = unsafe {
            libc::splice(
                fd,
                std::ptr::null_mut(),
                pipe.wr,
                std::ptr::null_mut(),
                budget,
                libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
            )
        };
        if ret > 0 {
            let n = ret as usize;
            pipe.data += n;
            st.n += n;
            budget -= n;
            if budget > 0 {
                st.stop = if socket_drained(fd) {
                    Stop::BlockedRead
                } else {
                    Stop::PipeFull
                };
                break;
            }
        } else if ret == 0 {
            st.stop = Stop::Read0;
            break;
        } else {
            match errno() {
                libc::EAGAIN => {
                    st.stop = if pipe.data == 0 || socket_drained(fd) {
                        Stop::BlockedRead
                    } else {
                        Stop::PipeFull
                    };
                }
                libc::EINTR => continue,
                e => st.stop = Stop::Error(e),
            }
            break;
        }
    }
    st
}

/// True when the socket has no pending input (checked with FIONREAD).
fn socket_drained(fd: RawFd) -> bool {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int into `n`.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    r < 0 || n == 0
}

/// Splices from `pipe` to the socket.
pub fn snd_pipe(fd: RawFd, pipe: &mut Pipe) -> Xfer {
    let mut st = Xfer {
        n: 0,
        stop: Stop::Progress,
    };
    while pipe.data > 0 {
        // SAFETY: plain splice between two fds we own.
        let ret = unsafe {
            libc::splice(
                pipe.rd,
                std::ptr::null_mut(),
                fd,
                std::ptr::null_mut(),
                pipe.data,
                libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
            )
        };
        if ret > 0 {
            let n = ret as usize;
            pipe.data -= n;
            st.n += n;
        } else if ret == 0 {
            st.stop = Stop::BlockedWrite;
            break;
        } else {
            match errno() {
                libc::EAGAIN => st.stop = Stop::BlockedWrite,
                libc::EINTR => continue,
                e => st.stop = Stop::Error(e),
            }
            break;
        }
    }
    st
}
