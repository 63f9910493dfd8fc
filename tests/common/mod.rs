//! Test harness: start the real haproxy-rs binary with a temporary config,
//! wait for its ports, talk to it over real sockets, and always reap it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_haproxy-rs")
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A free TCP port on 127.0.0.1 (bound then released; the range is split by
/// test binary pid to avoid collisions between test binaries run in parallel).
pub fn free_port() -> u16 {
    loop {
        let base = 20000 + (std::process::id() % 200) as u16 * 100;
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
    /// Starts `haproxy-rs -db -f cfg [extra]` and waits until every port in
    /// `ports` accepts connections (panics after 5 s).
    pub fn start(cfg_text: &str, ports: &[u16]) -> Proxy {
        Self::start_args(cfg_text, ports, &["-db"])
    }

    pub fn start_args(cfg_text: &str, ports: &[u16], args: &[&str]) -> Proxy {
        let dir = TempDir::new("px");
        let cfg = dir.write("haproxy.cfg", cfg_text);
        let out = dir.0.join("stdout.log");
        let err = dir.0.join("stderr.log");
        let child = Command::new(bin())
            .arg("-f")
            .arg(&cfg)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("spawn haproxy-rs");
        let mut p = Proxy {
            child,
            dir,
            cfg,
            out,
            err,
        };
        for &port in ports {
            if !wait_port(port, Duration::from_secs(5)) {
                let _ = p.child.kill();
                let _ = p.child.wait();
                panic!(
                    "haproxy-rs did not listen on {port}; stderr: {}",
                    p.stderr()
                );
            }
        }
        p
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

/// True once something accepts connections on 127.0.0.1:port.
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
    let o = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run haproxy-rs");
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
        Backend::start(|mut c| {
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
        })
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

/// Connects to the proxy on 127.0.0.1:port with read/write timeouts.
pub fn connect(port: u16) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", port)).expect("connect to proxy");
    c.set_read_timeout(Some(Duration::from_secs(20))).ok();
    c.set_write_timeout(Some(Duration::from_secs(20))).ok();
    c
}

/// Reads until EOF (or error); returns the bytes.
pub fn read_all(c: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = c.read_to_end(&mut v);
    v
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
