//! Test harness: start the real haproxy-rs binary with a temporary config,
//! wait for its ports, talk to it over real sockets, and always reap it.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_haproxy-rs")
}

/// The proxy run by the suites that may also be pointed at the reference:
/// `$HRS_TEST_BIN` when set and not empty (e.g. `/usr/sbin/haproxy`), else
/// haproxy-rs.
pub fn test_bin() -> String {
    std::env::var("HRS_TEST_BIN")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| bin().to_string())
}

/// HAProxy 2.6, the reference implementation.
pub const HAPROXY: &str = "/usr/sbin/haproxy";

/// True if the reference binary is installed (`make test` installs it); says
/// so on stderr when it is not.
pub fn have_haproxy() -> bool {
    let ok = Path::new(HAPROXY).exists();
    if !ok {
        eprintln!("note: {HAPROXY} is missing, skipping the comparison with HAProxy 2.6");
    }
    ok
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A free TCP port on 127.0.0.1 (bound then released; the range is split by
/// test binary pid to avoid collisions between test binaries run in parallel).
/// Ports stay in 20000..32000, below Linux's ephemeral range (32768 and up by
/// default), so that no outgoing connection's local port takes one between
/// this check and the proxy's bind.
pub fn free_port() -> u16 {
    loop {
        let base = 20000 + (std::process::id() % 120) as u16 * 100;
        let n = NEXT_PORT.fetch_add(1, Ordering::SeqCst) % 100;
        let p = base + n;
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let n = NEXT_PORT.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("hrs-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).expect("write file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running haproxy-rs; killed (SIGKILL) and reaped on drop if still alive.
pub struct Proxy {
    pub child: Child,
    pub dir: TempDir,
    pub cfg: PathBuf,
    pub out: PathBuf,
    pub err: PathBuf,
}

impl Proxy {
    /// Starts `haproxy-rs -f cfg -db` and waits until it listens on every
    /// port in `ports` (see [`Proxy::wait_listening`]).
    pub fn start(cfg_text: &str, ports: &[u16]) -> Proxy {
        Self::start_args(cfg_text, ports, &["-db"])
    }

    /// Starts `haproxy-rs -f cfg args...` and waits for `ports`.
    pub fn start_args(cfg_text: &str, ports: &[u16], args: &[&str]) -> Proxy {
        Self::start_program(bin(), cfg_text, ports, args)
    }

    /// Starts `$HRS_TEST_BIN` (haproxy-rs by default, see [`test_bin`]) with
    /// `-f cfg -db` and waits for `ports`.
    pub fn start_under_test(cfg_text: &str, ports: &[u16]) -> Proxy {
        Self::start_program(&test_bin(), cfg_text, ports, &["-db"])
    }

    /// Starts `program -f cfg args...`, the config written to a fresh
    /// temporary directory, and waits for `ports`.
    pub fn start_program(program: &str, cfg_text: &str, ports: &[u16], args: &[&str]) -> Proxy {
        let dir = TempDir::new("px");
        let cfg = dir.write("haproxy.cfg", cfg_text);
        let mut argv: Vec<OsString> = vec!["-f".into(), cfg.clone().into()];
        argv.extend(args.iter().map(OsString::from));
        Self::spawn(program, dir, cfg, &argv, &[], ports)
    }

    /// Spawns `program args...` with `envs` added to the environment, its
    /// stdout and stderr going to `stdout.log` and `stderr.log` in `dir`, and
    /// waits for `ports`. `cfg` is only recorded in the returned guard.
    pub fn spawn<S: AsRef<OsStr>>(
        program: impl AsRef<OsStr>,
        dir: TempDir,
        cfg: PathBuf,
        args: &[S],
        envs: &[(&str, &str)],
        ports: &[u16],
    ) -> Proxy {
        let program = program.as_ref();
        let out = dir.path().join("stdout.log");
        let err = dir.path().join("stderr.log");
        let child = Command::new(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.to_string_lossy()));
        let mut p = Proxy {
            child,
            dir,
            cfg,
            out,
            err,
        };
        p.wait_listening(ports);
        p
    }

    /// Waits until this very process owns a socket in LISTEN state on every
    /// port in `ports`. Readiness is read from /proc (see [`listening`])
    /// rather than by connecting, so that no probe connection is forwarded
    /// to a server, logged, or counted. Panics after 5 s, or as soon as the
    /// process exits, with its stderr; the process is killed and reaped then.
    pub fn wait_listening(&mut self, ports: &[u16]) {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let missing: Vec<u16> = ports
                .iter()
                .copied()
                .filter(|&port| !listening(self.pid(), port))
                .collect();
            if missing.is_empty() {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "proxy exited ({st}) before listening on {missing:?}; stderr: {}",
                    self.stderr()
                );
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "proxy did not listen on {missing:?} within 5 s; stderr: {}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Sends a signal to the proxy.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill on our own child's pid.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Waits for exit up to `t`; returns the exit status if it exited.
    pub fn wait_exit(&mut self, t: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + t;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Number of open fds of the proxy process.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// The `option tcplog` lines logged so far on stdout.
    pub fn tcp_logs(&self) -> Vec<TcpLog> {
        self.stdout().lines().filter_map(TcpLog::parse).collect()
    }

    /// Waits until at least `n` tcplog lines are there (or `t` passed);
    /// returns them.
    pub fn wait_tcp_logs(&self, n: usize, t: Duration) -> Vec<TcpLog> {
        let end = Instant::now() + t;
        loop {
            let v = self.tcp_logs();
            if v.len() >= n || Instant::now() > end {
                return v;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the tcplog line of the connection from local port `cport`;
    /// panics with stdout after `t`.
    pub fn tcp_log_for(&self, cport: u16, t: Duration) -> TcpLog {
        let end = Instant::now() + t;
        loop {
            if let Some(l) = self.tcp_logs().into_iter().find(|l| l.cport == cport) {
                return l;
            }
            if Instant::now() > end {
                panic!(
                    "no log line for client port {cport}; stdout:\n{}",
                    self.stdout()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the stdout log has at least `n` lines; returns them.
    pub fn wait_log_lines(&self, n: usize, t: Duration) -> Vec<String> {
        let end = Instant::now() + t;
        loop {
            let lines: Vec<String> = self.stdout().lines().map(|s| s.to_string()).collect();
            if lines.len() >= n || Instant::now() > end {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// True when process `pid` owns a TCP socket in LISTEN state on `port`, on
/// any local address, IPv4 or IPv6 (/proc/net/tcp and tcp6, matched by inode
/// against /proc/PID/fd, so a foreign listener on the same port never
/// counts).
pub fn listening(pid: i32, port: u16) -> bool {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .flat_map(|tab| {
            tab.lines()
                .skip(1)
                .filter_map(|l| {
                    let c: Vec<&str> = l.split_whitespace().collect();
                    let lport = c.get(1)?.rsplit(':').next()?;
                    (c.len() > 9 && u16::from_str_radix(lport, 16) == Ok(port) && c[3] == "0A")
                        .then(|| format!("socket:[{}]", c[9]))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    !inodes.is_empty()
        && std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .any(|t| inodes.iter().any(|i| t.as_os_str() == i.as_str()))
        })
}

/// True once something accepts connections on 127.0.0.1:port (this opens a
/// connection: prefer [`Proxy::wait_listening`] for a proxy under test).
pub fn wait_port(port: u16, t: Duration) -> bool {
    let end = Instant::now() + t;
    while Instant::now() < end {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Runs `haproxy-rs args...` to completion; returns (exit code, stdout, stderr).
pub fn run_bin(args: &[&str]) -> (i32, String, String) {
    run_program(bin(), args, &[])
}

/// Runs `program args...` with `envs` added to the environment, to
/// completion; returns (exit code, stdout, stderr).
pub fn run_program(program: &str, args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let o = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// A test backend server running in a thread. Each accepted connection is
/// handed to `handler`. Dropping it stops accepting (the thread ends at the
/// next accept or after a short poll).
pub struct Backend {
    pub port: u16,
    pub accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Backend {
    pub fn start<F>(handler: F) -> Backend
    where
        F: Fn(TcpStream) + Send + Sync + 'static,
    {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind backend");
        let port = l.local_addr().expect("addr").port();
        l.set_nonblocking(true).expect("nonblocking");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (s2, a2) = (stop.clone(), accepted.clone());
        let handler = std::sync::Arc::new(handler);
        let handle = std::thread::spawn(move || {
            while !s2.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((c, _)) => {
                        a2.fetch_add(1, Ordering::SeqCst);
                        let _ = c.set_nonblocking(false);
                        let h = handler.clone();
                        std::thread::spawn(move || h(c));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Backend {
            port,
            accepted,
            stop,
            handle: Some(handle),
        }
    }

    /// An echo server: returns every byte, half-closes after the client does.
    pub fn echo() -> Backend {
        Backend::start(|mut c| echo_back(&mut c))
    }

    /// A server that reads each connection to its end (the client's FIN or
    /// an error) and sends what it got on the returned channel.
    pub fn collect() -> (Backend, std::sync::mpsc::Receiver<Vec<u8>>) {
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let tx = std::sync::Mutex::new(tx);
        let be = Backend::start(move |mut c| {
            let mut got = Vec::new();
            let _ = c.read_to_end(&mut got);
            let _ = tx.lock().map(|t| t.send(got));
        });
        (be, rx)
    }

    /// A server that writes `tag` then waits for the client to close.
    pub fn banner(tag: &'static str) -> Backend {
        Backend::start(move |mut c| {
            let _ = c.write_all(tag.as_bytes());
            let _ = c.shutdown(std::net::Shutdown::Write);
            let mut b = [0u8; 1024];
            while let Ok(n) = c.read(&mut b) {
                if n == 0 {
                    break;
                }
            }
        })
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Writes back every byte read from `c` until EOF (or an error), then
/// half-closes it.
pub fn echo_back(c: &mut TcpStream) {
    let mut buf = vec![0u8; 65536];
    loop {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if c.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = c.shutdown(std::net::Shutdown::Write);
}

/// Connects to the proxy on 127.0.0.1:port with read/write timeouts (20 s).
pub fn connect(port: u16) -> TcpStream {
    connect_with_timeouts(port, Duration::from_secs(20))
}

/// Connects to the proxy on 127.0.0.1:port with read and write timeouts `t`.
pub fn connect_with_timeouts(port: u16, t: Duration) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", port)).expect("connect to proxy");
    c.set_read_timeout(Some(t)).ok();
    c.set_write_timeout(Some(t)).ok();
    c
}

/// Reads until EOF (or error); returns the bytes.
pub fn read_all(c: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = c.read_to_end(&mut v);
    v
}

/// Reads until `done` holds for what was read, or EOF, an error or the
/// socket's read timeout; returns the bytes.
pub fn recv_until(c: &mut TcpStream, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut got = Vec::new();
    let mut b = [0u8; 16384];
    while !done(&got) {
        match c.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    got
}

/// True once `b` holds a whole message head.
pub fn has_head(b: &[u8]) -> bool {
    b.windows(4).any(|w| w == b"\r\n\r\n")
}

/// Sends a command to a stats socket (UNIX path) and returns the reply.
pub fn cli(path: &Path, cmd: &str) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(path).expect("connect stats socket");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(format!("{cmd}\n").as_bytes())
        .expect("send command");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// One `Name: value` field of `show info`.
pub fn info_field(info: &str, name: &str) -> Option<u64> {
    info.lines().find_map(|l| {
        l.strip_prefix(&format!("{name}: "))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Deterministic pseudo-random payload of `n` bytes.
pub fn payload(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A sockaddr for 127.0.0.1:port.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The start of a TCP-mode config logging one `option tcplog` line per
/// connection to stdout: a `global` section (`maxconn 4000`, raw log to
/// stdout), then `defaults` (`mode tcp`, `log global`, `option tcplog`) with
/// `defaults_extra` lines, a blank line, and `body`.
pub fn tcplog_config(defaults_extra: &str, body: &str) -> String {
    format!(
        "global\n    maxconn 4000\n    log stdout format raw local0\n\n\
         defaults\n    mode tcp\n    log global\n    option tcplog\n{defaults_extra}\n{body}"
    )
}

/// One `option tcplog` line:
/// `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`.
#[derive(Debug, Clone)]
pub struct TcpLog {
    pub raw: String,
    pub cip: String,
    pub cport: u16,
    pub srv: String,
    pub tw: i64,
    pub tc: i64,
    pub tt: i64,
    pub bytes: u64,
    pub term: String,
    /// `%rc` carried the `+` marker.
    pub redispatched: bool,
    pub retries: u32,
    pub sq: u32,
    pub bq: u32,
}

impl TcpLog {
    /// Parses a tcplog line; None for anything else.
    pub fn parse(l: &str) -> Option<TcpLog> {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() != 9 || !f[1].starts_with('[') {
            return None;
        }
        let (cip, cport) = f[0].rsplit_once(':')?;
        let (_, srv) = f[3].split_once('/')?;
        let t: Vec<i64> = f[4]
            .split('/')
            .map(|x| x.trim_start_matches('+').parse())
            .collect::<Result<_, _>>()
            .ok()?;
        let c: Vec<&str> = f[7].split('/').collect();
        let rc = *c.get(4)?;
        let q: Vec<u32> = f[8]
            .split('/')
            .map(|x| x.parse())
            .collect::<Result<_, _>>()
            .ok()?;
        Some(TcpLog {
            raw: l.to_string(),
            cip: cip.to_string(),
            cport: cport.parse().ok()?,
            srv: srv.to_string(),
            tw: *t.first()?,
            tc: *t.get(1)?,
            tt: *t.get(2)?,
            bytes: f[5].trim_start_matches('+').parse().ok()?,
            term: f[6].to_string(),
            redispatched: rc.starts_with('+'),
            retries: rc.trim_start_matches('+').parse().ok()?,
            sq: *q.first()?,
            bq: *q.get(1)?,
        })
    }
}

/// Sets SO_LINGER {on, 0} so that the next close() sends a RST.
pub fn set_linger0(s: &TcpStream) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: valid socket fd and a properly sized linger struct.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt(SO_LINGER)");
}

/// A listener that never accepts, with listen(fd, 0) and its accept queue
/// pre-filled: further SYNs are dropped, so connecting to it hangs until the
/// connector gives up (`timeout connect`).
pub struct Blackhole {
    fd: RawFd,
    pub port: u16,
    _fillers: Vec<TcpStream>,
}

impl Blackhole {
    pub fn new() -> Blackhole {
        // SAFETY: plain socket calls on a fd we own; sockaddr_in zeroed then
        // filled, sizes passed along.
        let (fd, port) = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket");
            let mut sa: libc::sockaddr_in = std::mem::zeroed();
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let sp = &mut sa as *mut libc::sockaddr_in as *mut libc::sockaddr;
            assert_eq!(libc::bind(fd, sp, len), 0, "bind");
            assert_eq!(libc::listen(fd, 0), 0, "listen");
            assert_eq!(libc::getsockname(fd, sp, &mut len), 0, "getsockname");
            (fd, u16::from_be(sa.sin_port))
        };
        let addr = local(port);
        let mut fillers = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => fillers.push(s),
                Err(_) => break,
            }
        }
        assert!(!fillers.is_empty(), "could not fill the accept queue");
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err(),
            "the blackhole listener still completes connections"
        );
        Blackhole {
            fd,
            port,
            _fillers: fillers,
        }
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        // SAFETY: our own fd, closed once.
        unsafe { libc::close(self.fd) };
    }
}

/// An integer socket option (`getsockopt(level, opt)`) of the socket that
/// process `pid` holds for the established TCP connection whose ports
/// match: local `lport` (None: any) and remote `rport`. The socket is found
/// through /proc/net/tcp and /proc/PID/fd, then duplicated with
/// pidfd_getfd(2). None when no such socket exists, or when this kernel or
/// sandbox does not allow pidfd_getfd.
pub fn peer_sockopt(
    pid: i32,
    lport: Option<u16>,
    rport: u16,
    level: libc::c_int,
    opt: libc::c_int,
) -> Option<i32> {
    let tab = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let inodes: Vec<String> = tab
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let lp = u16::from_str_radix(f.get(1)?.rsplit(':').next()?, 16).ok()?;
            let rp = u16::from_str_radix(f.get(2)?.rsplit(':').next()?, 16).ok()?;
            (lport.is_none_or(|p| p == lp) && rp == rport && *f.get(3)? == "01")
                .then(|| format!("socket:[{}]", f.get(9).copied().unwrap_or("")))
        })
        .collect();
    let target: i32 = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|e| e.ok())
        .find(|e| {
            std::fs::read_link(e.path())
                .is_ok_and(|t| inodes.iter().any(|i| t.as_os_str() == i.as_str()))
        })
        .and_then(|e| e.file_name().to_str()?.parse().ok())?;
    // SAFETY: plain syscalls; the fds they return are ours and closed below,
    // getsockopt writes one int into a variable of that size.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid, 0) as i32;
        if pidfd < 0 {
            return None;
        }
        let fd = libc::syscall(libc::SYS_pidfd_getfd, pidfd, target, 0) as i32;
        libc::close(pidfd);
        if fd < 0 {
            return None;
        }
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let r = libc::getsockopt(
            fd,
            level,
            opt,
            &mut v as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        );
        libc::close(fd);
        (r == 0).then_some(v)
    }
}
