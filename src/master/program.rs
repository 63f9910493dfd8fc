//! `program` sections: commands the master forks, before the worker, and
//! supervises next to it. At a reload, a program with `option
//! start-on-reload` (the default) gets SIGUSR1 and a new instance starts;
//! with `no option start-on-reload` the running one is kept (as documented;
//! 2.6.12 stops it and starts none). A program the configuration no longer
//! has gets SIGUSR1.

use std::os::fd::RawFd;

use super::Master;
use super::procs::{Proc, ProcKind};
use crate::cfg::diag::Level;
use crate::cfg::model::ProgramCfg;

/// Starts (or keeps) the configuration's programs.
pub fn start_all(m: &mut Master, reexec: bool, close_in_child: &[RawFd]) {
    let programs = m.programs.clone();
    // Old instances: those to restart and those no longer configured.
    let stop: Vec<i32> = m
        .procs
        .iter()
        .filter_map(|p| match &p.kind {
            ProcKind::Program(n) => {
                let cfg = programs.iter().find(|c| &c.name == n);
                cfg.is_none_or(|c| c.start_on_reload).then_some(p.pid)
            }
            _ => None,
        })
        .collect();
    crate::process::signal_pids(&stop, libc::SIGUSR1);
    for c in &programs {
        let running = m
            .procs
            .iter()
            .any(|p| p.kind == ProcKind::Program(c.name.clone()) && !stop.contains(&p.pid));
        if reexec && running {
            continue;
        }
        match spawn(c, close_in_child) {
            Ok(pid) => {
                let now = crate::log::wall_now().0;
                let mut p = Proc::new(ProcKind::Program(c.name.clone()), pid, -1, now);
                p.version = None;
                m.procs.insert(0, p);
                m.say(
                    Level::Notice,
                    &format!("New program '{}' ({pid}) forked", c.name),
                );
            }
            Err(e) => m.say(
                Level::Alert,
                &format!("Cannot fork program '{}': {e}", c.name),
            ),
        }
    }
}

/// Forks and executes a program. The child gets the default signal
/// state back and leaves the master's descriptors behind.
fn spawn(c: &ProgramCfg, close_in_child: &[RawFd]) -> std::io::Result<i32> {
    use std::ffi::CString;
    let args: Vec<CString> = c
        .command
        .iter()
        .filter_map(|a| CString::new(a.as_bytes()).ok())
        .collect();
    let Some(prog) = args.first().cloned() else {
        return Err(std::io::ErrorKind::InvalidInput.into());
    };
    let ids = resolve_ids(c)?;
    // SAFETY: single-threaded master; the child only calls async-signal-safe
    // functions until execvp, or exits.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(child.as_raw()),
        nix::unistd::ForkResult::Child => {
            for &fd in close_in_child {
                // SAFETY: closing the master's own descriptors in the child.
                unsafe { libc::close(fd) };
            }
            // SAFETY: restoring the default signal state before exec.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            }
            if let Some(g) = ids.1 {
                let _ = nix::unistd::setgid(nix::unistd::Gid::from_raw(g));
            }
            if let Some(u) = ids.0 {
                let _ = nix::unistd::setuid(nix::unistd::Uid::from_raw(u));
            }
            let err = nix::unistd::execvp(&prog, &args).err();
            crate::process::forget_pid();
            super::tell_version();
            let msg = format!(
                "Cannot execute {}: {}",
                c.command.first().map_or("", String::as_str),
                err.map_or_else(String::new, |e| e.desc().to_string())
            );
            crate::log::eprint_line(&crate::cfg::diag::format_line(Level::Alert, None, &msg));
            // SAFETY: leaving the forked child without running the master's
            // exit handlers.
            unsafe { libc::_exit(1) }
        }
    }
}

/// The uid and gid of `user` and `group`, looked up before the fork.
fn resolve_ids(c: &ProgramCfg) -> std::io::Result<(Option<u32>, Option<u32>)> {
    let uid = match &c.user {
        None => None,
        Some(u) => Some(
            nix::unistd::User::from_name(u)
                .ok()
                .flatten()
                .ok_or(std::io::ErrorKind::NotFound)?
                .uid
                .as_raw(),
        ),
    };
    let gid = match &c.group {
        None => None,
        Some(g) => Some(
            nix::unistd::Group::from_name(g)
                .ok()
                .flatten()
                .ok_or(std::io::ErrorKind::NotFound)?
                .gid
                .as_raw(),
        ),
    };
    Ok((uid, gid))
}
