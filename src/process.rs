//! Process-level duties: file-descriptor limit, daemon mode, pidfile,
//! chroot and privilege drop, and signalling old processes (`-sf`/`-st`).

use std::io;

/// The soft and hard `RLIMIT_NOFILE` (1024, 1024 if unreadable).
pub fn nofile() -> (u64, u64) {
    // SAFETY: zeroed rlimit is a valid out-parameter.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `rl` is valid for writing.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return (1024, 1024);
    }
    (rl.rlim_cur as u64, rl.rlim_max as u64)
}

/// Sets `RLIMIT_NOFILE` to `soft`/`hard` exactly (the soft limit may go
/// down; the hard one may only go up with CAP_SYS_RESOURCE).
pub fn set_nofile(soft: u64, hard: u64) -> io::Result<()> {
    let rl = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: `rl` is a valid rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

static PID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The process id, read once: `getpid` is a syscall and log lines and
/// rules ask for it per request. A fork must call [`forget_pid`].
pub fn pid() -> u32 {
    use std::sync::atomic::Ordering::Relaxed;
    match PID.load(Relaxed) {
        0 => {
            let p = std::process::id();
            PID.store(p, Relaxed);
            p
        }
        p => p,
    }
}

/// After a fork: the next [`pid`] reads the new one.
pub fn forget_pid() {
    PID.store(0, std::sync::atomic::Ordering::Relaxed);
}

/// Forks into the background: the parent writes the child's pid to
/// `pidfile` (so it exists when the launcher returns) and exits 0 (1 if the
/// pidfile cannot be written); the child starts a new session with its
/// standard descriptors on /dev/null (unless `keep_stdio`).
pub fn daemonize(keep_stdio: bool, pidfile: Option<&str>) -> io::Result<()> {
    // SAFETY: single-threaded process; the parent only writes a file and exits.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        child => {
            let mut code = 0;
            if let Some(p) = pidfile
                && let Err(e) = write_pidfile(p, child as u32)
            {
                eprintln!(
                    "[ALERT]    ({}) : [haproxy-rs.main()] Cannot create pidfile {p}: {e}",
                    std::process::id()
                );
                // SAFETY: the child is ours.
                unsafe { libc::kill(child, libc::SIGTERM) };
                code = 1;
            }
            // SAFETY: the parent leaves at once.
            unsafe { libc::_exit(code) }
        }
    }
    forget_pid();
    // SAFETY: plain syscall in the child.
    unsafe { libc::setsid() };
    if !keep_stdio
        && let Ok(f) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        let fd = f.as_raw_fd();
        // SAFETY: dup2 onto the standard descriptors.
        unsafe {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
        }
    }
    Ok(())
}

/// Writes `pid` to `path`.
pub fn write_pidfile(path: &str, pid: u32) -> io::Result<()> {
    std::fs::write(path, format!("{pid}\n"))
}

/// chroot, then setgid/setuid as configured.
pub fn drop_privileges(
    chroot: Option<&str>,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<(), String> {
    if let Some(dir) = chroot {
        let c = std::ffi::CString::new(dir).map_err(|_| format!("Cannot chroot({dir})."))?;
        // SAFETY: valid C strings.
        if unsafe { libc::chroot(c.as_ptr()) } != 0 || unsafe { libc::chdir(c"/".as_ptr()) } != 0 {
            return Err(format!("[haproxy.main()] Cannot chroot({dir})."));
        }
    }
    if let Some(g) = gid {
        // SAFETY: plain syscalls.
        if unsafe { libc::setgroups(0, std::ptr::null()) } != 0 || unsafe { libc::setgid(g) } != 0 {
            return Err(format!("[haproxy.main()] Cannot set gid {g}."));
        }
    }
    if let Some(u) = uid {
        // SAFETY: plain syscall.
        if unsafe { libc::setuid(u) } != 0 {
            return Err(format!("[haproxy.main()] Cannot set uid {u}."));
        }
    }
    Ok(())
}

/// Sends `sig` to each pid (errors ignored: the process may be gone).
pub fn signal_pids(pids: &[i32], sig: libc::c_int) {
    for &p in pids {
        if p > 0 {
            // SAFETY: plain syscall.
            unsafe { libc::kill(p, sig) };
        }
    }
}
