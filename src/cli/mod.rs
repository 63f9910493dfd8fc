//! The stats socket (runtime API, management.txt 9.3): a line-based command
//! interpreter on UNIX or TCP sockets.
//!
//! Non-interactive mode (the default): the client sends one line, commands
//! separated by `;` run in turn, the reply is written and the connection is
//! closed. `prompt` switches to interactive mode: each reply ends with an
//! empty line and a `> ` prompt, until `quit` or the client closes.
//!
//! The session handler here is sans-policy: `cli_io` moves bytes, `execute`
//! (in `commands.rs`) turns one command line into text.

pub mod commands;

use crate::cfg::model::CliLevel;
use crate::engine::Engine;
use std::os::fd::RawFd;

/// Longest command line accepted; a longer one closes the session.
const MAX_LINE: usize = 64 * 1024;

/// One stats-socket connection.
#[derive(Debug)]
pub struct CliSession {
    pub fd: RawFd,
    pub level: CliLevel,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    interactive: bool,
    /// Close once the output is flushed.
    closing: bool,
    /// Last activity (monotonic ms), for `stats timeout`.
    pub last_active: u64,
}

impl CliSession {
    /// A new session on an accepted fd.
    pub fn new(fd: RawFd, level: CliLevel) -> Self {
        CliSession {
            fd,
            level,
            inbuf: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            interactive: false,
            closing: false,
            last_active: 0,
        }
    }
}

impl Engine {
    /// I/O callback of a CLI session fd.
    pub fn cli_io(&mut self, id: usize, can_r: bool, can_w: bool) {
        let Some(sess) = self.clis.get_mut(id) else {
            return;
        };
        let fd = sess.fd;
        if sess.closing {
            // Nothing more will be read: don't let a FIN keep us busy.
            self.fds.stop_recv(fd);
        }
        if can_r && !sess.closing {
            let mut tmp = [0u8; 4096];
            loop {
                // SAFETY: `tmp` is writable for its length.
                let n =
                    unsafe { libc::recv(fd, tmp.as_mut_ptr() as *mut libc::c_void, tmp.len(), 0) };
                if n > 0 {
                    sess.last_active = self.clock.now_abs;
                    sess.inbuf.extend_from_slice(&tmp[..n as usize]);
                    if sess.inbuf.len() > MAX_LINE {
                        sess.closing = true;
                        sess.inbuf.clear();
                        break;
                    }
                } else if n == 0 {
                    // Client closed: run what is complete, then close.
                    if !sess.inbuf.is_empty() && !sess.inbuf.ends_with(b"\n") {
                        sess.inbuf.push(b'\n');
                    }
                    sess.closing = true;
                    break;
                } else {
                    let e = std::io::Error::last_os_error().raw_os_error();
                    if e == Some(libc::EAGAIN) {
                        self.fds.cant_recv(fd);
                    } else if e != Some(libc::EINTR) {
                        sess.closing = true;
                        sess.out.clear();
                        sess.out_pos = 0;
                    }
                    break;
                }
            }
            self.cli_run_lines(id);
        }
        let Some(sess) = self.clis.get_mut(id) else {
            return;
        };
        if can_w || sess.out_pos < sess.out.len() {
            while sess.out_pos < sess.out.len() {
                let rest = &sess.out[sess.out_pos..];
                // SAFETY: `rest` is readable for its length.
                let n = unsafe {
                    libc::send(
                        fd,
                        rest.as_ptr() as *const libc::c_void,
                        rest.len(),
                        libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                    )
                };
                if n > 0 {
                    sess.out_pos += n as usize;
                    sess.last_active = self.clock.now_abs;
                } else {
                    let e = std::io::Error::last_os_error().raw_os_error();
                    if e == Some(libc::EAGAIN) {
                        self.fds.cant_send(fd);
                        self.fds.want_send(fd);
                        return;
                    }
                    if e != Some(libc::EINTR) {
                        sess.closing = true;
                        sess.out_pos = sess.out.len();
                    }
                }
            }
            sess.out.clear();
            sess.out_pos = 0;
            self.fds.stop_send(fd);
        }
        let Some(sess) = self.clis.get(id) else {
            return;
        };
        if sess.closing && sess.out.is_empty() {
            self.cli_close(id);
        }
    }

    fn cli_run_lines(&mut self, id: usize) {
        loop {
            let Some(sess) = self.clis.get_mut(id) else {
                return;
            };
            let Some(nl) = sess.inbuf.iter().position(|&b| b == b'\n') else {
                return;
            };
            let line: Vec<u8> = sess.inbuf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            let level = sess.level;
            let mut out = String::new();
            let mut quit = false;
            let mut prompt = false;
            for cmd in line.split(';') {
                let cmd = cmd.trim();
                match cmd {
                    "" => {}
                    "quit" => quit = true,
                    "prompt" => {
                        prompt = true;
                        out.push('\n');
                    }
                    _ => out.push_str(&self.cli_execute(cmd, level)),
                }
            }
            let Some(sess) = self.clis.get_mut(id) else {
                return;
            };
            if prompt {
                sess.interactive = !sess.interactive;
            }
            sess.out.extend_from_slice(out.as_bytes());
            if sess.interactive && !quit {
                // Every reply already ends with its empty line: HAProxy's
                // interactive terminator "\n> " is that line and "> ".
                sess.out.extend_from_slice(b"> ");
            } else if !sess.interactive || quit {
                sess.closing = true;
                sess.inbuf.clear();
                let fd = sess.fd;
                self.fds.want_send(fd);
                self.fds.may_send(fd);
                return;
            }
            let fd = sess.fd;
            self.fds.want_send(fd);
            self.fds.may_send(fd);
        }
    }

    /// Closes sessions idle for longer than `stats timeout`.
    pub fn cli_sweep(&mut self) {
        let now = self.clock.now_abs;
        let to = self.stats_timeout as u64;
        let idle: Vec<usize> = self
            .clis
            .iter()
            .filter(|(_, s)| now.saturating_sub(s.last_active) > to)
            .map(|(k, _)| k)
            .collect();
        for id in idle {
            self.cli_close(id);
        }
    }

    /// Closes a CLI session.
    pub fn cli_close(&mut self, id: usize) {
        if let Some(sess) = self.clis.try_remove(id) {
            self.fds.remove(sess.fd);
            crate::conn::sock::close(sess.fd);
        }
    }
}
