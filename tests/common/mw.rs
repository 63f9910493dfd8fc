//! Master-worker test helpers: starting a master (haproxy-rs or HAProxy)
//! under a guard that reaps it and its descendants, reading its stderr
//! lines, talking to its master CLI, and load generators for reloads.
#![allow(dead_code)]

use crate::common::*;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Processes

/// State letter and parent pid of `pid` (/proc/PID/stat).
pub fn stat(pid: i32) -> Option<(char, i32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.rsplit_once(')')?.1;
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}

/// True if `pid` is a live process (not a zombie).
pub fn alive(pid: i32) -> bool {
    stat(pid).is_some_and(|(s, _)| s != 'Z' && s != 'X')
}

/// The children of `pid` (any state) with their state.
pub fn children(pid: i32) -> Vec<(i32, char)> {
    let Ok(d) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    d.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|p| {
            let (s, pp) = stat(p)?;
            (pp == pid).then_some((p, s))
        })
        .collect()
}

/// Every descendant of `pid`.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for (c, _) in children(p) {
            if !out.contains(&c) && out.len() < 1000 {
                out.push(c);
                todo.push(c);
            }
        }
    }
    out
}

pub fn kill(pid: i32, sig: i32) {
    assert!(pid > 0);
    // SAFETY: kill(2) on the pid of a process this test started.
    unsafe { libc::kill(pid, sig) };
}

/// Waits until `f` holds, up to `t`; returns whether it did.
pub fn wait_for(t: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + t;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `pid` listens on `port`.
pub fn wait_listen(pid: i32, port: u16) -> bool {
    wait_for(Duration::from_secs(5), || listening(pid, port))
}

/// The inodes of the sockets in LISTEN state on `port` (/proc/net/tcp).
pub fn listen_inodes(port: u16) -> Vec<String> {
    let tab = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    tab.lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            let lport = c.get(1)?.rsplit(':').next()?;
            (c.len() > 9 && u16::from_str_radix(lport, 16) == Ok(port) && c[3] == "0A")
                .then(|| c[9].to_string())
        })
        .collect()
}

/// The targets of /proc/PID/fd/* (`socket:[123]`, ...).
pub fn fd_targets(pid: i32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|t| t.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub fn holds_inode(pid: i32, inode: &str) -> bool {
    fd_targets(pid).contains(&format!("socket:[{inode}]"))
}

pub fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Exit code of a process that exited (None: killed by a signal).
pub fn code(st: ExitStatus) -> Option<i32> {
    st.code()
}

// ---------------------------------------------------------------------------
// stderr lines: `[LABEL]   (<pid>) : <msg>`

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub pid: i32,
    pub msg: String,
}

pub fn parse_line(l: &str) -> Option<Line> {
    if !l.starts_with('[') || l.len() < 12 {
        return None;
    }
    let label = l.get(..10)?.trim_end().to_string();
    let rest = l.get(11..)?.strip_prefix('(')?;
    let (pid, msg) = rest.split_once(") : ")?;
    Some(Line {
        label,
        pid: pid.parse().ok()?,
        msg: msg.to_string(),
    })
}

pub fn lines_of(text: &str) -> Vec<Line> {
    text.lines().filter_map(parse_line).collect()
}

/// The pid in `<prefix><pid>)` within `msg`.
pub fn pid_after(msg: &str, prefix: &str) -> Option<i32> {
    let i = msg.find(prefix)? + prefix.len();
    let rest = msg.get(i..)?;
    rest.split(')').next()?.parse().ok()
}

// ---------------------------------------------------------------------------
// A master and its workers

/// A master-worker instance (haproxy-rs or HAProxy): SIGKILLed with every
/// descendant on drop if still running.
pub struct Mw {
    pub child: Child,
    pub err: PathBuf,
    pub cfg: PathBuf,
    pub sock: PathBuf,
    pub _dir: TempDir,
}

impl Mw {
    /// `bin -W -S <dir>/m.sock -f <dir>/h.cfg extra...`, waits for
    /// "Loading success.".
    pub fn start(bin: &str, tag: &str, cfg: &str, extra: &[&str]) -> Mw {
        Self::start_env(bin, tag, cfg, "-W", extra, &[])
    }

    pub fn start_env(
        bin: &str,
        tag: &str,
        cfg: &str,
        mode: &str,
        extra: &[&str],
        envs: &[(&str, &OsString)],
    ) -> Mw {
        let dir = TempDir::new(tag);
        let cfgp = dir.write("h.cfg", cfg);
        let sock = dir.path().join("m.sock");
        let mut args: Vec<OsString> = vec![
            mode.into(),
            "-S".into(),
            sock.clone().into(),
            "-f".into(),
            cfgp.clone().into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        let err = dir.path().join("stderr.log");
        let child = Command::new(bin)
            .args(&args)
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("stdout.log")).expect("stdout"))
            .stderr(std::fs::File::create(&err).expect("stderr"))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let mut mw = Mw {
            child,
            err,
            cfg: cfgp,
            sock,
            _dir: dir,
        };
        if !mw.wait_count("Loading success.", 1, Duration::from_secs(10)) {
            let st = mw.child.try_wait();
            panic!("{bin} did not load ({st:?}); stderr:\n{}", mw.stderr());
        }
        mw.wait_ready();
        mw
    }

    /// Waits until the master CLI lists the newest worker as the current
    /// one: HAProxy's master re-executes itself (wait mode) after
    /// "Loading success.", and a signal in between would kill it.
    pub fn wait_ready(&self) {
        let w = self.worker();
        let ok = wait_for(Duration::from_secs(10), || {
            try_mcli(&self.sock, "show proc\n").is_some_and(|sp| {
                sp.split_once("# workers\n")
                    .is_some_and(|(_, r)| r.starts_with(&format!("{w:<15} worker ")))
            })
        });
        assert!(
            ok,
            "master CLI does not list worker {w}; stderr:\n{}",
            self.stderr()
        );
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// The master's own lines.
    pub fn master_lines(&self) -> Vec<Line> {
        let m = self.pid();
        lines_of(&self.stderr())
            .into_iter()
            .filter(|l| l.pid == m)
            .collect()
    }

    /// Number of the master's lines whose message is `msg`.
    pub fn count(&self, msg: &str) -> usize {
        self.master_lines().iter().filter(|l| l.msg == msg).count()
    }

    pub fn wait_count(&self, msg: &str, n: usize, t: Duration) -> bool {
        wait_for(t, || self.count(msg) >= n)
    }

    /// Waits for a line (any process) equal to `label` + `pid` + `msg`.
    pub fn wait_line(&self, label: &str, pid: i32, msg: &str, t: Duration) -> bool {
        wait_for(t, || {
            lines_of(&self.stderr())
                .iter()
                .any(|l| l.label == label && l.pid == pid && l.msg == msg)
        })
    }

    /// The newest "New worker (W) forked".
    pub fn worker(&self) -> i32 {
        self.master_lines()
            .iter()
            .rev()
            .find_map(|l| pid_after(&l.msg, "New worker ("))
            .expect("a New worker line")
    }

    /// SIGUSR2, then waits for the next "Loading success." (or failure);
    /// returns the newest worker's pid.
    pub fn reload(&self) -> i32 {
        self.reload_with(libc::SIGUSR2)
    }

    pub fn reload_with(&self, sig: i32) -> i32 {
        let n = self.count("Loading success.") + self.count("Loading failure!");
        kill(self.pid(), sig);
        let ok = wait_for(Duration::from_secs(10), || {
            self.count("Loading success.") + self.count("Loading failure!") > n
        });
        assert!(ok, "reload did not complete; stderr:\n{}", self.stderr());
        self.wait_ready();
        self.worker()
    }

    /// Sends `input` to the master CLI, half-closes, returns all it got.
    pub fn cli(&self, input: &str) -> String {
        mcli(&self.sock, input)
    }

    pub fn wait_exit(&mut self, t: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + t;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// The workers `show proc` lists: (current, old ones).
    pub fn workers(&self) -> (Vec<i32>, Vec<i32>) {
        let sp = self.cli("show proc\n");
        let (mut cur, mut old) = (Vec::new(), Vec::new());
        let mut section = "";
        for l in sp.lines() {
            if l.starts_with('#') {
                section = l;
                continue;
            }
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.get(1) == Some(&"worker") {
                let pid = f[0].parse().expect("pid");
                match section {
                    "# workers" => cur.push(pid),
                    "# old workers" => old.push(pid),
                    _ => panic!("worker line in {section}: {sp}"),
                }
            }
        }
        (cur, old)
    }
}

impl Drop for Mw {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pids = descendants(self.pid());
            let _ = self.child.kill();
            for p in pids {
                kill(p, libc::SIGKILL);
            }
            let _ = self.child.wait();
        }
    }
}

/// [`mcli`] that gives up quietly (None) on any error.
pub fn try_mcli(path: &Path, input: &str) -> Option<String> {
    let mut s = UnixStream::connect(path).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(input.as_bytes()).ok()?;
    s.shutdown(Shutdown::Write).ok();
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// A whole exchange with a master CLI on a UNIX socket: `input`, then
/// SHUT_WR, then everything until the master closes (5 s at most).
pub fn mcli(path: &Path, input: &str) -> String {
    let mut s =
        UnixStream::connect(path).unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(input.as_bytes()).expect("send");
    s.shutdown(Shutdown::Write).ok();
    let mut out = Vec::new();
    let r = s.read_to_end(&mut out);
    assert!(
        r.is_ok(),
        "master CLI did not close after {input:?}: {r:?}, got {:?}",
        String::from_utf8_lossy(&out)
    );
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads from `s` until what came ends with `end` (5 s at most).
pub fn read_until<S: Read>(s: &mut S, end: &str) -> String {
    let mut got = Vec::new();
    let t = Instant::now();
    let mut b = [0u8; 4096];
    while !got.ends_with(end.as_bytes()) && t.elapsed() < Duration::from_secs(5) {
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// True if the peer closed `s` (EOF within 5 s, nothing more sent).
pub fn closed<S: Read>(s: &mut S) -> Result<(), String> {
    let mut b = [0u8; 256];
    match s.read(&mut b) {
        Ok(0) => Ok(()),
        Ok(n) => Err(format!(
            "more bytes: {:?}",
            String::from_utf8_lossy(&b[..n])
        )),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(()),
        Err(e) => Err(format!("not closed: {e}")),
    }
}

// ---------------------------------------------------------------------------
// Traffic

/// A TCP config: `listen l` on `port` to the server on `srv`.
pub fn tcp_cfg(global: &str, port: u16, srv: u16) -> String {
    format!(
        "global\n{global}defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n\
         listen l\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:{srv}\n"
    )
}

/// One short connection: send, expect the echo, close.
pub fn echo_once(port: u16) -> std::io::Result<()> {
    let mut c = TcpStream::connect_timeout(&local(port), Duration::from_secs(10))?;
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    c.set_write_timeout(Some(Duration::from_secs(10)))?;
    c.write_all(b"ping-pong-0123456")?;
    let mut b = [0u8; 17];
    c.read_exact(&mut b)?;
    if &b != b"ping-pong-0123456" {
        return Err(std::io::Error::other(format!("bad echo {b:?}")));
    }
    Ok(())
}

/// An open connection through the proxy, checked with one echo: it keeps
/// the worker that accepted it alive.
pub fn held(port: u16) -> TcpStream {
    let mut c = connect(port);
    c.write_all(b"x").unwrap();
    let mut b = [0u8; 1];
    c.read_exact(&mut b).unwrap();
    c
}

/// Sets a flag on drop: stops the load threads even when a test panics.
pub struct StopOnDrop(pub Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counters of a load thread.
#[derive(Default)]
pub struct Load {
    pub ok: AtomicUsize,
    pub retried: AtomicUsize,
    pub failures: Mutex<Vec<String>>,
}

impl Load {
    pub fn fail(&self, what: String) {
        let mut f = self.failures.lock().unwrap();
        if f.len() < 20 {
            f.push(what);
        } else if f.len() == 20 {
            f.push("...".into());
        }
    }
    pub fn failed(&self) -> Vec<String> {
        self.failures.lock().unwrap().clone()
    }
}

/// New TCP connections in a loop until `stop`.
pub fn tcp_load(port: u16, stop: Arc<AtomicBool>) -> (Arc<Load>, std::thread::JoinHandle<()>) {
    let load = Arc::new(Load::default());
    let l2 = load.clone();
    let h = std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match echo_once(port) {
                Ok(()) => {
                    l2.ok.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => l2.fail(format!("tcp: {e} ({:?})", e.kind())),
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    (load, h)
}

/// A tiny HTTP/1.1 server: answers every request with a 200 and a body
/// naming the request's number on the connection, keeps the connection.
pub fn http_backend() -> Backend {
    Backend::start(|c| {
        let mut w = c.try_clone().expect("clone");
        let mut r = BufReader::new(c);
        let mut n = 0u64;
        loop {
            // Headers only: the test's requests have no body.
            let mut line = String::new();
            let mut ended = false;
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    Ok(0) | Err(_) => {
                        ended = true;
                        break;
                    }
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            if ended {
                return;
            }
            n += 1;
            let body = format!("response {n} {}\n", "x".repeat(200));
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if w.write_all(resp.as_bytes()).is_err() {
                return;
            }
        }
    })
}

/// Why an HTTP exchange failed: before any response byte (retryable on a
/// reused connection), or after (a truncated response: always a failure).
pub enum HttpErr {
    NoResponse(String),
    Broken(String),
}

/// Sends one request on `c` and reads the complete response; returns
/// whether the connection may be reused.
pub fn http_exchange(c: &mut BufReader<TcpStream>) -> Result<bool, HttpErr> {
    let req = b"GET /x HTTP/1.1\r\nHost: test\r\n\r\n";
    if let Err(e) = c.get_mut().write_all(req) {
        return Err(HttpErr::NoResponse(format!("write: {e}")));
    }
    match c.fill_buf() {
        Ok([]) => return Err(HttpErr::NoResponse("EOF".into())),
        Err(e) => return Err(HttpErr::NoResponse(format!("read: {e}"))),
        Ok(_) => {}
    }
    let broken = |what: String| HttpErr::Broken(what);
    let mut status = String::new();
    c.read_line(&mut status)
        .map_err(|e| broken(format!("status: {e}")))?;
    if !status.starts_with("HTTP/1.1 200 ") {
        return Err(broken(format!("status line {status:?}")));
    }
    let mut len = None;
    let mut keep = true;
    for _ in 0..100 {
        let mut h = String::new();
        match c.read_line(&mut h) {
            Ok(0) => return Err(broken("EOF in headers".into())),
            Err(e) => return Err(broken(format!("headers: {e}"))),
            Ok(_) => {}
        }
        if h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse::<usize>().ok();
        }
        if lower.starts_with("connection:") && lower.contains("close") {
            keep = false;
        }
    }
    let len = len.ok_or_else(|| broken("no content-length".into()))?;
    let mut body = vec![0u8; len];
    c.read_exact(&mut body)
        .map_err(|e| broken(format!("body ({len} bytes): {e}")))?;
    if !body.starts_with(b"response ") || !body.ends_with(b"x\n") {
        return Err(broken(format!("body {:?}", String::from_utf8_lossy(&body))));
    }
    Ok(keep)
}

pub fn http_connect(port: u16) -> std::io::Result<BufReader<TcpStream>> {
    let c = TcpStream::connect_timeout(&local(port), Duration::from_secs(10))?;
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    c.set_write_timeout(Some(Duration::from_secs(10)))?;
    Ok(BufReader::new(c))
}

/// HTTP keep-alive requests in a loop until `stop`. A request on a reused
/// connection that gets nothing back is retried once on a new one (RFC
/// 9112 9.3.1); any other failure counts.
pub fn http_load(port: u16, stop: Arc<AtomicBool>) -> (Arc<Load>, std::thread::JoinHandle<()>) {
    let load = Arc::new(Load::default());
    let l2 = load.clone();
    let h = std::thread::spawn(move || {
        let mut conn: Option<BufReader<TcpStream>> = None;
        while !stop.load(Ordering::SeqCst) {
            let reused = conn.is_some();
            let mut c = match conn.take() {
                Some(c) => c,
                None => match http_connect(port) {
                    Ok(c) => c,
                    Err(e) => {
                        l2.fail(format!("http connect: {e}"));
                        continue;
                    }
                },
            };
            let r = match http_exchange(&mut c) {
                Err(HttpErr::NoResponse(_)) if reused => {
                    l2.retried.fetch_add(1, Ordering::SeqCst);
                    match http_connect(port) {
                        Ok(c2) => {
                            c = c2;
                            http_exchange(&mut c)
                        }
                        Err(e) => Err(HttpErr::NoResponse(format!("retry connect: {e}"))),
                    }
                }
                r => r,
            };
            match r {
                Ok(keep) => {
                    l2.ok.fetch_add(1, Ordering::SeqCst);
                    if keep {
                        conn = Some(c);
                    }
                }
                Err(HttpErr::NoResponse(e)) => l2.fail(format!("http (no response): {e}")),
                Err(HttpErr::Broken(e)) => l2.fail(format!("http (truncated): {e}")),
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    (load, h)
}

// ---------------------------------------------------------------------------
// Normalized master lines, to compare with HAProxy

/// The master's lines with pids named: `M`, and `W1`, `W2`, ... for
/// workers in the order of their "New worker" lines (`P1`... programs);
/// the version and executable path blanked.
pub fn normalized(mw: &Mw) -> Vec<String> {
    let m = mw.pid();
    let lines = mw.master_lines();
    let mut names: Vec<(i32, String)> = vec![(m, "M".into())];
    for l in &lines {
        if let Some(w) = pid_after(&l.msg, "New worker (") {
            let n = names.iter().filter(|(_, s)| s.starts_with('W')).count();
            names.push((w, format!("W{}", n + 1)));
        }
    }
    lines
        .iter()
        .map(|l| {
            let mut msg = l.msg.clone();
            if msg.starts_with("haproxy version is ") {
                msg = "haproxy version is *".into();
            } else if msg.starts_with("path to executable is ") {
                msg = "path to executable is *".into();
            }
            for (pid, name) in &names {
                msg = msg.replace(&format!("({pid})"), &format!("({name})"));
            }
            format!("{:<10} (M) : {msg}", l.label)
        })
        .collect()
}

pub fn expect_lines(got: &[String], want: &[&str], what: &str, stderr: &str) {
    let got: Vec<&str> = got.iter().map(String::as_str).collect();
    assert_eq!(got, want, "{what}; stderr:\n{stderr}");
}

// ---------------------------------------------------------------------------
// 1. Start

pub fn version_of(bin: &str) -> String {
    let (_, out, _) = run_program(bin, &["-v"], &[]);
    out.split_whitespace().nth(2).unwrap_or("").to_string()
}

pub fn version() -> String {
    version_of(bin())
}

// ---------------------------------------------------------------------------
// 5. hard-stop-after

pub const MHELP: &str = "The following commands are valid at this level:
  @!<pid>                                 : send a command to the <pid> process
  @<relative pid>                         : send a command to the <relative pid> process
  @master                                 : send a command to the master process
  operator                                : lower the level of the current CLI session to operator
  reload                                  : reload haproxy
  show cli level                          : display the level of the current CLI session
  show cli sockets                        : dump list of cli sockets
  show proc                               : show processes status
  show version                            : show version of the current process
  user                                    : lower the level of the current CLI session to user
  help [<command>]                        : list matching or all commands
  prompt                                  : toggle interactive mode with prompt
  quit                                    : disconnect
";

/// `%dd%02dh%02dm%02ds`.
pub fn is_uptime(s: &str) -> bool {
    let b = s.as_bytes();
    let n = b.len();
    n >= 11
        && s.ends_with('s')
        && b[n - 4] == b'm'
        && b[n - 7] == b'h'
        && b[n - 10] == b'd'
        && s.chars()
            .filter(|c| !"dhms".contains(*c))
            .all(|c| c.is_ascii_digit())
}

/// Checks one `show proc` line: pid, type, reloads, uptime, version
/// (15-wide columns).
pub fn check_proc_line(l: &str, pid: i32, ty: &str, reloads: &str, ver: &str) {
    let head = format!("{pid:<15} {ty:<15} {reloads:<15} ");
    assert!(l.starts_with(&head), "{l:?} does not start with {head:?}");
    let rest = &l[head.len()..];
    let (up, v) = rest.split_at(16.min(rest.len()));
    assert!(is_uptime(up.trim_end()), "uptime {up:?} in {l:?}");
    assert_eq!(up.len(), 16, "{l:?}");
    assert_eq!(v, ver, "version column of {l:?}");
}
