//! Signals through a signalfd in the poller, and the stop sequences.
//!
//! | signal | effect (management.txt 4) |
//! |---|---|
//! | SIGUSR1 | soft stop: close listeners, finish streams, exit (bounded by `hard-stop-after`) |
//! | SIGTERM, SIGINT | hard stop: exit now |
//! | SIGTTOU / SIGTTIN | pause / resume listeners (used during `-sf` bind retries) |
//! | SIGHUP | log every server's state |
//! | SIGUSR2, SIGPIPE | ignored |

use super::Engine;
use crate::cfg::diag::{Level, format_line};
use crate::fd::FdOwner;
use crate::listener::LiState;
use crate::task::TaskKind;

/// The signals the engine handles.
const HANDLED: [libc::c_int; 7] = [
    libc::SIGUSR1,
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGTTOU,
    libc::SIGTTIN,
    libc::SIGHUP,
    libc::SIGUSR2,
];

/// True when `sig` is ignored (SIG_IGN inherited from the parent, as a
/// background job's SIGINT is): such a signal is left alone, as HAProxy does.
fn inherited_ignore(sig: libc::c_int) -> bool {
    // SAFETY: querying the current action into a zeroed sigaction.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Blocks the handled signals (and SIGCHLD in the master) and returns a
/// signalfd delivering them.
pub fn setup_signalfd(master: bool) -> std::io::Result<i32> {
    // SAFETY: sigset operations on a local set; SIGPIPE is set to ignored.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in HANDLED {
            // The master stops on SIGINT even when a shell made it ignored
            // (HAProxy's does; its worker keeps ignoring it).
            if s == libc::SIGINT && !master && inherited_ignore(s) {
                continue;
            }
            libc::sigaddset(&mut set, s);
        }
        if master {
            libc::sigaddset(&mut set, libc::SIGCHLD);
        }
        if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
        if fd < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(fd)
        }
    }
}

impl Engine {
    /// Registers the signalfd with the poller.
    pub fn start_signals(&mut self, fd: i32) -> std::io::Result<()> {
        self.signal_fd = fd;
        self.io.fds.insert(fd, FdOwner::Signal)?;
        self.io.fds.want_recv(fd);
        Ok(())
    }

    /// Reads pending signals and acts on each.
    pub fn handle_signals(&mut self) {
        loop {
            // SAFETY: zeroed siginfo is a valid buffer for read().
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let sz = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: `info` is writable for `sz` bytes.
            let n =
                unsafe { libc::read(self.signal_fd, &mut info as *mut _ as *mut libc::c_void, sz) };
            if n != sz as isize {
                self.io.fds.cant_recv(self.signal_fd);
                return;
            }
            if self.master.is_some() {
                self.master_signal(info.ssi_signo as libc::c_int);
                continue;
            }
            match info.ssi_signo as libc::c_int {
                libc::SIGUSR1 => self.soft_stop(),
                sig @ (libc::SIGTERM | libc::SIGINT) => {
                    self.exit_signal = Some(sig);
                    self.hard_stop();
                }
                libc::SIGTTOU => self.pause_listeners(),
                libc::SIGTTIN => self.resume_paused_listeners(),
                libc::SIGHUP => self.dump_servers(),
                _ => {}
            }
        }
    }

    /// Soft stop: stop every proxy (close listeners), keep streams running,
    /// exit when the last one ends or `hard-stop-after` expires.
    pub fn soft_stop(&mut self) {
        if self.stopping || self.grace_pending {
            return;
        }
        if self.grace > 0 {
            // `grace`: keep serving (and accepting) for a while first.
            self.grace_pending = true;
            let t = self.sched.create(TaskKind::Stopper);
            self.sched
                .queue(t, Some(self.clock.now_abs + self.grace as u64));
            return;
        }
        self.stopping = true;
        // Idle server connections serve no one any more; idle keep-alive
        // clients get their last request, or leave (keepalive.rs).
        crate::stream::reuse::close_all(&mut self.proxies, &mut self.io);
        self.http.idle_total = crate::stream::reuse::count(&self.proxies);
        self.drain_parked();
        for i in 0..self.listeners.len() {
            // Accept what already waits in the backlog so that no handshake
            // completed by the kernel is reset when the socket closes.
            if matches!(self.listeners[i].state, LiState::Ready | LiState::Full) {
                self.listeners[i].state = LiState::Ready;
                let saved = self.maxconn;
                self.maxconn = u32::MAX;
                let fd = self.listeners[i].fd;
                for _ in 0..1000 {
                    self.accept_loop(i);
                    if !self.io.fds.recv_ready(fd) || self.listeners[i].state != LiState::Ready {
                        break;
                    }
                }
                self.maxconn = saved;
            }
            let l = &mut self.listeners[i];
            // The master's socketpair stays: its CLI reaches old workers.
            if l.state != LiState::Closed && !matches!(l.kind, crate::listener::LiKind::SockPair(_))
            {
                self.io.fds.remove(l.fd);
                crate::conn::sock::close(l.fd);
                l.state = LiState::Closed;
            }
        }
        for p in self.proxies.iter_mut() {
            p.stopped = true;
        }
        for p in self.proxies.iter() {
            if p.is_fe || p.is_be {
                let msg = format!(
                    "Proxy {} stopped (cumulated conns: FE: {}, BE: {}).",
                    p.name, p.cum_conn, p.cum_beconn
                );
                crate::log::eprint_line(&format_line(Level::Warning, None, &msg));
                let logs = p.logs.clone();
                self.logger.send(&logs, 4, &msg);
            }
        }
        if self.hard_stop_after > 0 {
            self.hard_stop_at = Some(self.clock.now_abs + self.hard_stop_after as u64);
            let t = self.sched.create(TaskKind::Stopper);
            self.sched.queue(t, self.hard_stop_at);
        }
    }

    /// Ends the process by `sig` with its default action, so that the parent
    /// sees "killed by SIGTERM" exactly as with HAProxy (shell status 143).
    pub fn die_by_signal(sig: libc::c_int) -> ! {
        // SAFETY: restore the default action, unblock and re-raise.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
        }
        std::process::exit(128 + sig)
    }

    /// Hard stop: leave the loop now (connections are closed by exit).
    pub fn hard_stop(&mut self) {
        self.exit_now = true;
    }

    /// The stop timer fired: either the `grace` delay ended (start the soft
    /// stop now) or `hard-stop-after` expired (exit now).
    pub fn stopper_task(&mut self, tid: crate::task::TaskId) {
        self.sched.destroy(tid);
        if self.grace_pending && !self.stopping {
            self.grace_pending = false;
            self.grace = 0;
            self.soft_stop();
        } else if self.stopping {
            crate::log::eprint_line(&format_line(
                Level::Warning,
                None,
                "soft-stop running for too long, performing a hard-stop.",
            ));
            for p in self.proxies.iter().filter(|p| p.is_fe && p.feconn > 0) {
                let msg = format!(
                    "Proxy {} hard-stopped ({} remaining conns will be closed).",
                    p.name, p.feconn
                );
                crate::log::eprint_line(&format_line(Level::Warning, None, &msg));
            }
            self.exit_now = true;
        }
    }

    /// SIGTTOU: stop listening so that a new process can bind the same
    /// addresses even without SO_REUSEPORT (the socket stays open).
    fn pause_listeners(&mut self) {
        let mut touched = Vec::new();
        for l in self.listeners.iter_mut() {
            // The master's socketpair stays: the master CLI reaches us.
            if matches!(l.kind, crate::listener::LiKind::SockPair(_)) {
                continue;
            }
            if l.state == LiState::Ready || l.state == LiState::Full {
                touched.push(l.fe);
                l.state = LiState::Paused;
                self.io.fds.stop_recv(l.fd);
                if matches!(l.addr, crate::listener::LiAddr::Tcp(_)) {
                    crate::conn::sock::shutdown(l.fd, libc::SHUT_RD);
                }
            }
        }
        self.say_proxies("Paused", touched);
    }

    /// `Paused proxy l.`, `Resumed frontend GLOBAL.`: one line per proxy
    /// whose listeners changed, in configuration order, as 2.6 prints them.
    fn say_proxies(&self, what: &str, mut fes: Vec<usize>) {
        fes.sort_unstable();
        fes.dedup();
        for p in fes.into_iter().filter_map(|i| self.proxies.get(i)) {
            let kind = if p.is_fe && p.is_be {
                "proxy"
            } else {
                "frontend"
            };
            let msg = format!("{what} {kind} {}.", p.name);
            crate::log::eprint_line(&format_line(Level::Warning, None, &msg));
        }
    }

    /// SIGTTIN: listen again after a pause.
    fn resume_paused_listeners(&mut self) {
        let mut touched = Vec::new();
        for l in self.listeners.iter_mut() {
            if l.state == LiState::Paused {
                touched.push(l.fe);
                // SAFETY: plain listen() on our own socket.
                if unsafe { libc::listen(l.fd, l.backlog) } != 0 {
                    let e = std::io::Error::last_os_error();
                    crate::log::eprint_line(&format_line(
                        Level::Warning,
                        None,
                        &format!("Cannot resume listener {}: {e}", l.addr),
                    ));
                    continue;
                }
                l.state = LiState::Ready;
                self.io.fds.want_recv(l.fd);
                self.io.fds.may_recv(l.fd);
            }
        }
        self.say_proxies("Resumed", touched);
    }

    fn dump_servers(&mut self) {
        let mut lines = Vec::new();
        for p in &self.proxies {
            for s in &p.servers {
                let st = match s.state {
                    crate::proxy::SrvState::Up => "UP",
                    crate::proxy::SrvState::Drain => "DRAIN",
                    crate::proxy::SrvState::Down => "DOWN",
                    crate::proxy::SrvState::Maint => "MAINT",
                };
                lines.push(format!(
                    "SIGHUP: Server {}/{} is {}. Conn: {} act, {} pend, {} tot.",
                    p.name,
                    s.name,
                    st,
                    s.cur_sess,
                    s.queue.len(),
                    s.cum_sess
                ));
            }
        }
        let logs = self.global_logs.clone();
        for l in lines {
            crate::log::eprint_line(&format_line(Level::Notice, None, &l));
            self.logger.send(&logs, 5, &l);
        }
    }
}
