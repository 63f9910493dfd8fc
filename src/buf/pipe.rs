//! The pipe pool for splice(2) forwarding.
//!
//! A `Pipe` is a kernel pipe used as a zero-copy buffer between two sockets.
//! Pipes are bounded by `maxpipes`, sized by `tune.pipesize`, reused across
//! streams, and handed back when a channel's pipe is empty.

use std::os::fd::RawFd;

/// A kernel pipe and how many bytes it holds.
#[derive(Debug)]
pub struct Pipe {
    pub rd: RawFd,
    pub wr: RawFd,
    /// Bytes spliced in and not yet spliced out.
    pub data: usize,
}

/// The pool: free pipes plus counters.
pub struct PipePool {
    free: Vec<Pipe>,
    /// Pipes handed out (stats `PipesUsed`).
    pub used: usize,
    /// Upper bound on pipes (global `maxpipes`).
    pub max: usize,
    /// Requested pipe size in bytes (0 = kernel default).
    pub size: usize,
}

impl PipePool {
    /// A pool allowing at most `max` pipes of `size` bytes.
    pub fn new(max: usize, size: usize) -> Self {
        PipePool {
            free: Vec::new(),
            used: 0,
            max,
            size,
        }
    }

    /// Free pipes held (stats `PipesFree`).
    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    /// A pipe, or None when the limit is reached or the kernel refuses.
    pub fn get(&mut self) -> Option<Pipe> {
        if let Some(p) = self.free.pop() {
            self.used += 1;
            return Some(p);
        }
        if self.used + self.free.len() >= self.max {
            return None;
        }
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if r < 0 {
            return None;
        }
        if self.size > 0 {
            // SAFETY: fds[0] is the pipe we just created; failure is harmless.
            unsafe { libc::fcntl(fds[0], libc::F_SETPIPE_SZ, self.size as libc::c_int) };
        }
        self.used += 1;
        Some(Pipe {
            rd: fds[0],
            wr: fds[1],
            data: 0,
        })
    }

    /// Returns a pipe: kept if empty, destroyed if it still holds bytes.
    pub fn put(&mut self, p: Pipe) {
        self.used = self.used.saturating_sub(1);
        if p.data == 0 {
            self.free.push(p);
        } else {
            close_pipe(p);
        }
    }
}

fn close_pipe(p: Pipe) {
    // SAFETY: both fds belong to this pipe and are not used again.
    unsafe {
        libc::close(p.rd);
        libc::close(p.wr);
    }
}

impl Drop for PipePool {
    fn drop(&mut self) {
        for p in self.free.drain(..) {
            close_pipe(p);
        }
    }
}
