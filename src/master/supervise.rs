//! The master at run time: its signals (reload, stop, forwarding),
//! reaping its children with HAProxy's notices, and the re-execution that
//! a reload is (see the diagram in `mod.rs`).

use super::procs::{self, ProcKind};
use super::{ENV_MCLI_FDS, ENV_PROCESSES, ENV_REEXEC, exit_reason, notify, set_cloexec};
use crate::cfg::diag::Level;
use crate::engine::Engine;
use crate::process;

impl Engine {
    /// A signal reached the master.
    pub fn master_signal(&mut self, sig: libc::c_int) {
        match sig {
            libc::SIGUSR2 | libc::SIGHUP => self.master_reload(),
            libc::SIGCHLD => self.master_reap(),
            libc::SIGTERM | libc::SIGINT | libc::SIGUSR1 => {
                let Some(m) = self.master.as_mut() else {
                    return;
                };
                notify::send(m.systemd, "STOPPING=1");
                if m.leaving.is_none() {
                    m.say(Level::Warning, "Exiting Master process...");
                    m.leaving = Some(0);
                }
                process::signal_pids(&m.children(), sig);
                self.master_leave_if_done();
            }
            libc::SIGTTOU | libc::SIGTTIN => {
                if let Some(m) = self.master.as_ref() {
                    let pids: Vec<i32> = m
                        .procs
                        .iter()
                        .filter(|p| p.kind == ProcKind::Worker)
                        .map(|p| p.pid)
                        .collect();
                    process::signal_pids(&pids, sig);
                }
            }
            _ => {}
        }
    }

    /// Reaps the children that ended and says so.
    pub fn master_reap(&mut self) {
        use nix::sys::wait::{WaitPidFlag, waitpid};
        loop {
            let st = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(nix::sys::wait::WaitStatus::StillAlive) | Err(_) => break,
                Ok(st) => st,
            };
            let Some((pid, code, why)) = exit_reason(st) else {
                continue;
            };
            let Some(m) = self.master.as_mut() else {
                return;
            };
            let Some(i) = m.procs.iter().position(|p| p.pid == pid) else {
                continue;
            };
            let cur = match &m.procs[i].kind {
                // The newest instance of a program is its current one.
                ProcKind::Program(n) => {
                    let n = n.clone();
                    m.procs
                        .iter()
                        .position(|p| p.kind == ProcKind::Program(n.clone()))
                        == Some(i)
                }
                _ => m.current().map(|p| p.pid) == Some(pid),
            };
            let p = m.procs.remove(i);
            if p.ipc >= 0 {
                crate::conn::sock::close(p.ipc);
            }
            match &p.kind {
                ProcKind::Program(name) if cur => {
                    let msg =
                        format!("Current program '{name}' ({pid}) exited with code {code} ({why})");
                    m.say(Level::Alert, &msg);
                    if !matches!(code, 0 | 130 | 143)
                        && m.leaving.is_none()
                        && !m.no_exit_on_failure
                    {
                        m.leaving = Some(code);
                        m.exit_on_failure();
                    }
                }
                ProcKind::Program(name) => {
                    let msg =
                        format!("Former program '{name}' ({pid}) exited with code {code} ({why})");
                    m.say(Level::Warning, &msg);
                }
                _ if cur => {
                    let msg = format!("Current worker ({pid}) exited with code {code} ({why})");
                    m.say(
                        if code == 0 {
                            Level::Warning
                        } else {
                            Level::Alert
                        },
                        &msg,
                    );
                    // The master leaves with its worker (a SIGTERM-ed worker
                    // counts as a clean stop); one that failed takes the
                    // others with it, unless `no-exit-on-failure`.
                    let failed = !matches!(code, 0 | 130 | 143);
                    if failed && m.no_exit_on_failure && m.leaving.is_none() {
                        continue;
                    }
                    if m.leaving.is_none() || m.leaving == Some(0) {
                        m.leaving = Some(if code == 143 { 0 } else { code });
                    }
                    if failed {
                        m.exit_on_failure();
                    }
                }
                _ => {
                    let msg = format!("Former worker ({pid}) exited with code {code} ({why})");
                    m.say(Level::Warning, &msg);
                }
            }
        }
        self.master_leave_if_done();
    }

    /// Leaving and no child left: the master exits.
    fn master_leave_if_done(&mut self) {
        let Some(m) = self.master.as_mut() else {
            return;
        };
        let Some(code) = m.leaving else {
            return;
        };
        if m.procs.iter().any(|p| p.kind != ProcKind::Master) {
            return;
        }
        m.say(
            Level::Warning,
            &format!("All workers exited. Exiting... ({code})"),
        );
        self.exit_code = code;
        self.exit_now = true;
    }

    /// Reload: the master re-executes itself with its process list in the
    /// environment; the new image loads the configuration again.
    pub fn master_reload(&mut self) {
        let Some(m) = self.master.as_mut() else {
            return;
        };
        m.say(Level::Notice, "Reloading HAProxy");
        notify::send(m.systemd, "RELOADING=1");
        for p in m.procs.iter_mut() {
            p.reloads += 1;
            if p.ipc >= 0 {
                set_cloexec(p.ipc, false);
            }
        }
        let mut kept = Vec::new();
        for (spec, fd) in &m.mcli {
            set_cloexec(*fd, false);
            kept.push(format!("{spec}={fd}"));
        }
        let procs = procs::serialize(&m.procs);
        // SAFETY: single-threaded; the environment is read by the new image.
        unsafe {
            std::env::set_var(ENV_REEXEC, "1");
            std::env::set_var(ENV_PROCESSES, &procs);
            std::env::set_var(ENV_MCLI_FDS, kept.join("|"));
        }
        let argv0 = std::env::args_os()
            .next()
            .unwrap_or_else(|| std::ffi::OsString::from("haproxy-rs"));
        let err = exec(&argv0, &m.args);
        // Still here: the re-execution failed; keep going as we were.
        for p in m.procs.iter_mut() {
            p.reloads = p.reloads.saturating_sub(1);
            if p.ipc >= 0 {
                set_cloexec(p.ipc, true);
            }
        }
        for (_, fd) in &m.mcli {
            set_cloexec(*fd, true);
        }
        m.say(
            Level::Alert,
            &format!("[haproxy-rs.main()] Cannot re-execute the master: {err}"),
        );
    }
}

/// execvp(argv0, argv0 + args); returns only on failure.
fn exec(argv0: &std::ffi::OsStr, args: &[String]) -> nix::Error {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let Ok(prog) = CString::new(argv0.as_bytes()) else {
        return nix::Error::EINVAL;
    };
    let mut argv = vec![prog.clone()];
    for a in args {
        match CString::new(a.as_bytes()) {
            Ok(c) => argv.push(c),
            Err(_) => return nix::Error::EINVAL,
        }
    }
    match nix::unistd::execvp(&prog, &argv) {
        Err(e) => e,
        Ok(never) => match never {},
    }
}
