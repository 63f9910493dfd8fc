//! splice(2) zero-copy forwarding: byte-exact bulk transfers in every splice
//! mode with the `TotalSplicdedBytesOut` counter as proof that the kernel
//! path was taken (and stayed unused when splicing is disabled), half-closes
//! through pipes, a slow reader filling the pipe without the proxy spinning,
//! resets mid-transfer leaking neither fds nor pipes, and the fallback to
//! buffers when `maxpipes` is exhausted. Extras: `tune.pipesize` extremes,
//! splice-auto leaving interactive traffic in buffers, and pipes released
//! when the server cannot be reached.
//!
//! Every test takes a process-wide lock: they move gigabytes and measure CPU
//! time, so running them in parallel on a small machine would distort both.

mod common;

use common::{Backend, Proxy, TempDir, connect_with_timeouts, free_port, info_field, set_linger0};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread;
use std::time::{Duration, Instant};

const KB: u64 = 1 << 10;
const MB: u64 = 1 << 20;
const GB: u64 = 1 << 30;

/// Size of the chunks written and read by the stream helpers.
const CHUNK: usize = 256 * 1024;

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises the tests of this file (see the module comment).
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

// -------------------------------------------------------------- payload --

/// splitmix64 of (seed, word index): the 8 stream bytes at offset 8 * i.
fn word(seed: u64, i: u64) -> u64 {
    let mut z = (seed ^ 0xA076_1D64_78BD_642F)
        .wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic, position-addressable pseudo-random byte stream: any
/// chunking of it can be generated (and checked) without holding it.
struct Gen {
    seed: u64,
    pos: u64,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen { seed, pos: 0 }
    }

    /// Writes the next `out.len()` bytes of the stream into `out`.
    fn fill(&mut self, out: &mut [u8]) {
        let mut i = 0;
        while i < out.len() && !self.pos.is_multiple_of(8) {
            out[i] = word(self.seed, self.pos / 8).to_le_bytes()[(self.pos % 8) as usize];
            i += 1;
            self.pos += 1;
        }
        let mut chunks = out[i..].chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&word(self.seed, self.pos / 8).to_le_bytes());
            self.pos += 8;
        }
        for b in chunks.into_remainder() {
            *b = word(self.seed, self.pos / 8).to_le_bytes()[(self.pos % 8) as usize];
            self.pos += 1;
        }
    }
}

/// Checks received bytes against the stream of `seed`, incrementally.
struct Checker {
    stream: Gen,
    scratch: Vec<u8>,
}

impl Checker {
    fn new(seed: u64) -> Checker {
        Checker {
            stream: Gen::new(seed),
            scratch: vec![0; CHUNK],
        }
    }

    fn check(&mut self, data: &[u8]) -> Result<(), String> {
        let start = self.stream.pos;
        if self.scratch.len() < data.len() {
            self.scratch.resize(data.len(), 0);
        }
        let exp = &mut self.scratch[..data.len()];
        self.stream.fill(exp);
        if exp != data {
            let k = exp.iter().zip(data).position(|(a, b)| a != b).unwrap_or(0);
            return Err(format!(
                "content mismatch at stream offset {} (got {:#04x}, expected {:#04x})",
                start + k as u64,
                data[k],
                exp[k]
            ));
        }
        Ok(())
    }
}

/// Writes `len` bytes of the stream `seed`; returns the bytes written and
/// the error that stopped it, if any.
fn send_stream(w: &mut TcpStream, seed: u64, len: u64) -> (u64, Option<std::io::Error>) {
    let mut g = Gen::new(seed);
    let mut buf = vec![0u8; CHUNK];
    let mut sent = 0u64;
    while sent < len {
        let n = (len - sent).min(CHUNK as u64) as usize;
        g.fill(&mut buf[..n]);
        let mut off = 0;
        while off < n {
            match w.write(&buf[off..n]) {
                Ok(0) => return (sent, Some(ErrorKind::WriteZero.into())),
                Ok(k) => {
                    off += k;
                    sent += k as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return (sent, Some(e)),
            }
        }
    }
    (sent, None)
}

/// How a read loop ended.
#[derive(Debug)]
enum End {
    /// The requested number of bytes arrived (EOF not read yet).
    Limit,
    Eof,
    Error(ErrorKind),
    Mismatch(String),
}

#[derive(Debug)]
struct Recv {
    n: u64,
    end: End,
}

/// Reads up to `max` bytes, checking them against the stream `seed` as they
/// come. Stops at `max`, EOF, an error or the first wrong byte.
fn recv_stream(r: &mut TcpStream, seed: u64, max: u64) -> Recv {
    recv_stream_with(r, &mut Checker::new(seed), max, CHUNK)
}

fn recv_stream_with(r: &mut TcpStream, ck: &mut Checker, max: u64, chunk: usize) -> Recv {
    let mut buf = vec![0u8; chunk];
    let mut n = 0u64;
    while n < max {
        let want = (max - n).min(chunk as u64) as usize;
        match r.read(&mut buf[..want]) {
            Ok(0) => return Recv { n, end: End::Eof },
            Ok(k) => {
                if let Err(e) = ck.check(&buf[..k]) {
                    return Recv {
                        n,
                        end: End::Mismatch(e),
                    };
                }
                n += k as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                return Recv {
                    n,
                    end: End::Error(e.kind()),
                };
            }
        }
    }
    Recv { n, end: End::Limit }
}

/// Reads what remains until EOF; returns (extra bytes, how it ended).
fn drain_to_end(r: &mut TcpStream) -> (u64, Result<(), ErrorKind>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut extra = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (extra, Ok(())),
            Ok(k) => extra += k as u64,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return (extra, Err(e.kind())),
        }
    }
}

fn is_timeout(k: ErrorKind) -> bool {
    matches!(k, ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Closes with a RST.
fn reset(s: TcpStream) {
    set_linger0(&s);
    drop(s);
}

fn set_rcvbuf(s: &TcpStream, bytes: i32) {
    // SAFETY: valid socket fd and an int option value.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &bytes as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt(SO_RCVBUF)");
}

// ------------------------------------------------------------ the proxy --

/// A proxy under test with its stats socket.
struct Px {
    proxy: Proxy,
    sock: PathBuf,
    port: u16,
    _dir: TempDir,
}

impl Px {
    /// Starts haproxy-rs with a frontend on a fresh port forwarding to
    /// `be_port`. `global` lines are added to the global section; `fe`,
    /// `be` and `defaults` lines to those sections. `args` are extra
    /// command-line arguments (e.g. `-dS`).
    fn start(be_port: u16, global: &str, defaults: &str, fe: &str, be: &str, args: &[&str]) -> Px {
        let dir = TempDir::new("splice");
        let sock = dir.path().join("s.sock");
        let port = free_port();
        let cfg = format!(
            "global\n    maxconn 1000\n    stats socket {sock} level admin\n{global}\n\
             defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30s\n    \
             timeout server 30s\n{defaults}\n\
             frontend fe\n    bind 127.0.0.1:{port}\n{fe}\n    default_backend be\n\n\
             backend be\n{be}\n    server s1 127.0.0.1:{be_port}\n",
            sock = sock.display()
        );
        let proxy = Proxy::start_args(&cfg, &[port], &[&["-db"][..], args].concat());
        let px = Px {
            proxy,
            sock,
            port,
            _dir: dir,
        };
        // The stats socket answers before any test traffic.
        let _ = px.info();
        px
    }

    /// `show info` (retried while the socket is not there yet).
    fn info(&self) -> String {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            match UnixStream::connect(&self.sock) {
                Ok(mut s) => {
                    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
                    s.write_all(b"show info\n").expect("send show info");
                    let mut out = String::new();
                    let _ = s.read_to_string(&mut out);
                    if out.contains("Pid:") || out.contains("Name:") {
                        return out;
                    }
                    assert!(
                        Instant::now() < end,
                        "bad `show info` reply: {out:?}; stderr: {}",
                        self.proxy.stderr()
                    );
                }
                Err(e) => assert!(
                    Instant::now() < end,
                    "stats socket {} unavailable: {e}; stderr: {}",
                    self.sock.display(),
                    self.proxy.stderr()
                ),
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn field(info: &str, name: &str) -> u64 {
        info_field(info, name).unwrap_or_else(|| panic!("no `{name}` in show info:\n{info}"))
    }

    fn get(&self, name: &str) -> u64 {
        Self::field(&self.info(), name)
    }

    fn spliced(&self) -> u64 {
        self.get("TotalSplicdedBytesOut")
    }

    fn pid(&self) -> i32 {
        self.proxy.pid()
    }

    fn assert_alive(&mut self) {
        if let Ok(Some(st)) = self.proxy.child.try_wait() {
            panic!("haproxy-rs died ({st}); stderr: {}", self.proxy.stderr());
        }
    }

    /// Waits until `CurrConns` is 0; returns the last `show info`.
    fn wait_idle(&self, t: Duration) -> String {
        let end = Instant::now() + t;
        loop {
            let info = self.info();
            let cur = Self::field(&info, "CurrConns");
            if cur == 0 {
                return info;
            }
            assert!(
                Instant::now() < end,
                "CurrConns still {cur} after {t:?}: streams were not freed"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// (all fds, fds that are pipes) of the proxy process.
    fn fds(&self) -> (usize, usize) {
        let mut all = 0;
        let mut pipes = 0;
        if let Ok(d) = std::fs::read_dir(format!("/proc/{}/fd", self.pid())) {
            for e in d.flatten() {
                all += 1;
                if std::fs::read_link(e.path())
                    .is_ok_and(|t| t.to_string_lossy().starts_with("pipe:"))
                {
                    pipes += 1;
                }
            }
        }
        (all, pipes)
    }

    /// utime + stime of the proxy, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("stat");
        let rest = &stat[stat.rfind(')').expect("comm") + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // Fields after the comm start at field 3 (state): utime is field 14,
        // stime field 15.
        let ticks: u64 =
            f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime");
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        ticks as f64 / hz
    }
}

/// Polls `show info` in the background and keeps the maxima of PipesUsed
/// and PipesUsed + PipesFree.
struct PipeMonitor {
    stop: Arc<AtomicBool>,
    max_used: Arc<AtomicU64>,
    max_total: Arc<AtomicU64>,
    samples: Arc<AtomicU64>,
    handle: Option<thread::JoinHandle<()>>,
}

impl PipeMonitor {
    fn start(sock: &Path, every: Duration) -> PipeMonitor {
        let stop = Arc::new(AtomicBool::new(false));
        let max_used = Arc::new(AtomicU64::new(0));
        let max_total = Arc::new(AtomicU64::new(0));
        let samples = Arc::new(AtomicU64::new(0));
        let (s, u, t, n) = (
            stop.clone(),
            max_used.clone(),
            max_total.clone(),
            samples.clone(),
        );
        let sock = sock.to_path_buf();
        let handle = thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                if let Ok(mut c) = UnixStream::connect(&sock) {
                    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
                    if c.write_all(b"show info\n").is_ok() {
                        let mut out = String::new();
                        let _ = c.read_to_string(&mut out);
                        if let (Some(used), Some(free)) =
                            (info_field(&out, "PipesUsed"), info_field(&out, "PipesFree"))
                        {
                            u.fetch_max(used, Ordering::SeqCst);
                            t.fetch_max(used + free, Ordering::SeqCst);
                            n.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                thread::sleep(every);
            }
        });
        PipeMonitor {
            stop,
            max_used,
            max_total,
            samples,
            handle: Some(handle),
        }
    }

    /// Stops polling; returns (max PipesUsed, max PipesUsed+PipesFree, samples).
    fn finish(mut self) -> (u64, u64, u64) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        (
            self.max_used.load(Ordering::SeqCst),
            self.max_total.load(Ordering::SeqCst),
            self.samples.load(Ordering::SeqCst),
        )
    }
}

impl Drop for PipeMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

// ------------------------------------------------------------ transfers --

/// Streams `len` bytes of `seed` to the proxy from a writer thread (then
/// shuts the write side) while this thread checks the echo incrementally
/// and finally expects EOF. Panics with a description on any deviation.
fn echo_transfer(port: u16, len: u64, seed: u64, what: &str) -> Result<Duration, String> {
    let t0 = Instant::now();
    let mut c = connect_with_timeouts(port, Duration::from_secs(20));
    let mut w = c.try_clone().expect("clone");
    let writer = thread::spawn(move || {
        let (n, err) = send_stream(&mut w, seed, len);
        if err.is_none() {
            let _ = w.shutdown(Shutdown::Write);
        }
        (n, err)
    });
    let got = recv_stream(&mut c, seed, len);
    let tail = if matches!(got.end, End::Limit) {
        Some(drain_to_end(&mut c))
    } else {
        // Unblock the writer before joining it.
        let _ = c.shutdown(Shutdown::Both);
        None
    };
    let (sent, werr) = writer.join().expect("writer thread");
    // The reader's verdict first: when it fails, the writer is stopped by
    // our own shutdown and its error says nothing.
    if !matches!(got.end, End::Limit) || got.n != len {
        return Err(format!(
            "{what}: echo incomplete or wrong: {} of {len} bytes, ended by {:?} (writer had \
             sent {sent} bytes, {werr:?}), after {:?}",
            got.n,
            got.end,
            t0.elapsed()
        ));
    }
    if werr.is_some() || sent != len {
        return Err(format!(
            "{what}: writer stopped after {sent} of {len} bytes: {werr:?}"
        ));
    }
    match tail {
        Some((0, Ok(()))) => Ok(t0.elapsed()),
        t => Err(format!(
            "{what}: expected a clean EOF right after the {len} echoed bytes, got {t:?}"
        )),
    }
}

/// Panics with `err` plus the proxy's state (alive? stderr) for context.
fn fail_with_proxy_state(px: &mut Px, err: &str) -> ! {
    let state = match px.proxy.child.try_wait() {
        Ok(Some(st)) => format!("haproxy-rs DIED: {st}"),
        _ => "haproxy-rs still running".to_string(),
    };
    panic!("{err}\n{state}; stderr: {}", px.proxy.stderr());
}

/// One 1 GB echo transfer through a proxy configured with the given lines;
/// returns (proxy, bytes spliced during the transfer).
fn bulk_echo(what: &str, global: &str, defaults: &str, fe: &str, be: &str, args: &[&str]) -> u64 {
    let backend = Backend::echo();
    let mut px = Px::start(backend.port, global, defaults, fe, be, args);
    let before = px.spliced();
    let took = echo_transfer(px.port, GB, 0x5EED_0001, what)
        .unwrap_or_else(|e| fail_with_proxy_state(&mut px, &e));
    let after = px.spliced();
    let spliced = after - before;
    eprintln!(
        "{what}: 1 GiB echoed in {took:?} ({:.0} MB/s each way), spliced {spliced} bytes",
        GB as f64 / took.as_secs_f64() / 1e6
    );
    let info = px.wait_idle(Duration::from_secs(10));
    assert_eq!(
        Px::field(&info, "PipesUsed"),
        0,
        "{what}: pipes still in use once the transfer is over"
    );
    drop(px);
    drop(backend);
    spliced
}

// --------------------------------------------------------- 1. bulk 1 GB --

/// A 1 GB echo with splicing turned on for one direction only (`fe` or
/// `be` holds the option): that direction's bytes are spliced, the other's
/// are not.
fn one_direction_spliced(opt: &str, fe: &str, be: &str, dir: &str, other: &str) {
    let _g = serial();
    let spliced = bulk_echo(opt, "", "", fe, be, &[]);
    assert!(
        spliced >= GB * 9 / 10,
        "option {opt}: only {spliced} of {GB} {dir} bytes were spliced"
    );
    assert!(
        spliced <= GB,
        "option {opt}: {spliced} bytes spliced, more than the {GB} bytes of the \
         {dir} direction: the {other} direction was spliced too"
    );
}

#[test]
fn splice_request_1gb_echo_byte_exact_and_only_request_direction_spliced() {
    one_direction_spliced(
        "splice-request",
        "    option splice-request",
        "",
        "request",
        "response",
    );
}

#[test]
fn splice_response_1gb_echo_byte_exact_and_only_response_direction_spliced() {
    one_direction_spliced(
        "splice-response",
        "",
        "    option splice-response",
        "response",
        "request",
    );
}

#[test]
fn splice_request_and_response_1gb_echo_byte_exact_both_directions_spliced() {
    let _g = serial();
    let spliced = bulk_echo(
        "splice-request+response",
        "",
        "",
        "    option splice-request",
        "    option splice-response",
        &[],
    );
    assert!(
        spliced >= 2 * GB * 9 / 10,
        "splice-request + splice-response: only {spliced} of {} bytes were spliced",
        2 * GB
    );
    assert!(
        spliced <= 2 * GB,
        "{spliced} bytes spliced out of {}",
        2 * GB
    );
}

#[test]
fn splice_auto_1gb_echo_byte_exact_and_bulk_gets_spliced() {
    let _g = serial();
    let spliced = bulk_echo("splice-auto", "", "    option splice-auto", "", "", &[]);
    // Auto switches to pipes once reads fill whole buffers, which a 1 GB
    // stream does almost immediately, in both directions.
    assert!(
        spliced >= GB,
        "option splice-auto: only {spliced} of {} bytes were spliced",
        2 * GB
    );
    assert!(
        spliced <= 2 * GB,
        "{spliced} bytes spliced out of {}",
        2 * GB
    );
}

#[test]
fn splice_disabled_by_ds_flag_1gb_echo_byte_exact_and_nothing_spliced() {
    let _g = serial();
    let spliced = bulk_echo(
        "-dS control",
        "",
        "",
        "    option splice-request",
        "    option splice-response",
        &["-dS"],
    );
    assert_eq!(spliced, 0, "-dS must disable splicing entirely");
}

#[test]
fn splice_disabled_by_global_nosplice_1gb_echo_byte_exact_and_nothing_spliced() {
    let _g = serial();
    let spliced = bulk_echo(
        "nosplice control",
        "    nosplice",
        "    option splice-auto",
        "    option splice-request",
        "    option splice-response",
        &[],
    );
    assert_eq!(spliced, 0, "global nosplice must disable splicing entirely");
}

// ------------------------------------------------------- 2. half-closes --

#[test]
fn splice_half_close_client_shuts_write_then_server_replies_with_trailer() {
    let _g = serial();
    const UP: u64 = 32 * MB;
    const DOWN: u64 = 16 * MB;
    const UP_SEED: u64 = 0xC11E;
    const DOWN_SEED: u64 = 0x5E12;
    let (tx, rx) = mpsc::channel::<Recv>();
    let tx = Mutex::new(tx);
    let backend = Backend::start(move |mut c| {
        c.set_read_timeout(Some(Duration::from_secs(20))).ok();
        c.set_write_timeout(Some(Duration::from_secs(20))).ok();
        // Everything up to EOF, checked on the fly.
        let got = recv_stream(&mut c, UP_SEED, u64::MAX);
        let n = got.n;
        let eof = matches!(got.end, End::Eof);
        let _ = tx.lock().map(|t| t.send(got));
        if !eof {
            return;
        }
        let _ = send_stream(&mut c, DOWN_SEED, DOWN);
        let _ = c.write_all(format!("TRAILER: received {n} bytes, bye\n").as_bytes());
        // Plain close: FIN after the data.
    });
    let px = Px::start(
        backend.port,
        "",
        "",
        "    option splice-request",
        "    option splice-response",
        &[],
    );
    let before = px.spliced();
    let mut c = connect_with_timeouts(px.port, Duration::from_secs(20));
    let mut w = c.try_clone().expect("clone");
    let writer = thread::spawn(move || {
        let r = send_stream(&mut w, UP_SEED, UP);
        w.shutdown(Shutdown::Write).expect("shutdown(SHUT_WR)");
        r
    });
    let body = recv_stream(&mut c, DOWN_SEED, DOWN);
    let mut rest = Vec::new();
    let rest_end = c.read_to_end(&mut rest);
    let (sent, werr) = writer.join().expect("writer");
    assert!(
        werr.is_none() && sent == UP,
        "client upload stopped at {sent}: {werr:?}"
    );
    let srv = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("server never reported what it received");
    assert!(
        matches!(srv.end, End::Eof) && srv.n == UP,
        "server should read all {UP} bytes then EOF (the client's shutdown forwarded \
         as a FIN once the pipe was flushed); got {} bytes, ended by {:?}",
        srv.n,
        srv.end
    );
    assert!(
        matches!(body.end, End::Limit) && body.n == DOWN,
        "client should receive the {DOWN}-byte reply after its half-close; got {} bytes, \
         ended by {:?}",
        body.n,
        body.end
    );
    assert!(rest_end.is_ok(), "reply should end with EOF: {rest_end:?}");
    assert_eq!(
        String::from_utf8_lossy(&rest),
        format!("TRAILER: received {UP} bytes, bye\n"),
        "trailer after the reply body"
    );
    let spliced = px.spliced() - before;
    assert!(
        spliced >= (UP + DOWN) * 9 / 10,
        "only {spliced} of {} bytes were spliced",
        UP + DOWN
    );
    px.wait_idle(Duration::from_secs(5));
}

#[test]
fn splice_half_close_server_sends_64mb_and_closes_while_client_still_receiving() {
    let _g = serial();
    const LEN: u64 = 64 * MB;
    const SEED: u64 = 0xD0_5E;
    // Bytes the client has received so far, read by the server when it
    // closes to show that the close overtook data still in flight.
    let progress = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel::<(u64, Option<String>, u64)>();
    let tx = Mutex::new(tx);
    let prog = progress.clone();
    let backend = Backend::start(move |mut c| {
        c.set_write_timeout(Some(Duration::from_secs(20))).ok();
        let (n, err) = send_stream(&mut c, SEED, LEN);
        // Full close (FIN after the data) while the client is still reading.
        drop(c);
        let at_close = prog.load(Ordering::SeqCst);
        let _ = tx
            .lock()
            .map(|t| t.send((n, err.map(|e| e.to_string()), at_close)));
    });
    let px = Px::start(backend.port, "", "", "", "    option splice-response", &[]);
    let before = px.spliced();
    let mut c = connect_with_timeouts(px.port, Duration::from_secs(20));
    set_rcvbuf(&c, 256 * 1024);
    // Let the path fill up (pipe included) before reading, then read at a
    // bounded pace so that the server finishes first.
    thread::sleep(Duration::from_millis(200));
    let mut ck = Checker::new(SEED);
    let mut total = 0u64;
    let end = loop {
        let r = recv_stream_with(&mut c, &mut ck, 256 * KB, CHUNK);
        total += r.n;
        progress.store(total, Ordering::SeqCst);
        if !matches!(r.end, End::Limit) {
            break r.end;
        }
        thread::sleep(Duration::from_millis(1));
    };
    let (srv_sent, srv_err, at_close) = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("server never finished writing");
    assert!(
        srv_err.is_none() && srv_sent == LEN,
        "server wrote {srv_sent} of {LEN}: {srv_err:?}"
    );
    assert!(
        matches!(end, End::Eof) && total == LEN,
        "client should get all {LEN} bytes then EOF after the server's close; got {total}, \
         ended by {end:?}"
    );
    assert!(
        at_close < LEN,
        "the server closed only after the client had everything ({at_close} bytes): the \
         close-while-receiving case was not exercised"
    );
    eprintln!(
        "server closed when the client had {at_close} of {LEN} bytes ({} MB in flight)",
        (LEN - at_close) / MB
    );
    drop(c);
    let spliced = px.spliced() - before;
    assert!(
        spliced >= LEN * 9 / 10,
        "only {spliced} of {LEN} bytes were spliced"
    );
    px.wait_idle(Duration::from_secs(5));
}

// ------------------------------------------------------ 3. slow reader --

#[test]
fn splice_slow_reader_pipe_full_no_busy_loop_then_byte_exact() {
    let _g = serial();
    slow_reader_case("default pipe size", "");
    // A one-page pipe fills with partial pages: the "pipe full" state is
    // reached through EAGAIN with less than `tune.pipesize` bytes in it.
    slow_reader_case("tune.pipesize 4096", "    tune.pipesize 4096");
}

/// Server sends 64 MB at full speed; the client first reads 1 KB every
/// 10 ms for a second (pipe full), then everything at full speed.
fn slow_reader_case(tag: &str, global: &str) {
    const LEN: u64 = 64 * MB;
    const SEED: u64 = 0x5100;
    let backend = Backend::start(move |mut c| {
        c.set_write_timeout(Some(Duration::from_secs(30))).ok();
        let _ = send_stream(&mut c, SEED, LEN);
    });
    let px = Px::start(
        backend.port,
        global,
        "",
        "",
        "    option splice-response",
        &[],
    );
    let before = px.spliced();
    let mut c = connect_with_timeouts(px.port, Duration::from_secs(20));
    // A small receive buffer so that the path fills up quickly and stays
    // full: server socket, proxy socket, pipe.
    set_rcvbuf(&c, 64 * 1024);
    let mut ck = Checker::new(SEED);
    // Fill phase.
    thread::sleep(Duration::from_millis(300));
    let info = px.info();
    let used = Px::field(&info, "PipesUsed");
    assert!(
        used >= 1,
        "{tag}: the response pipe should hold data while the client does not read (PipesUsed {used})"
    );
    // Slow phase: 1 KB every 10 ms for about one second.
    let cpu0 = px.cpu_seconds();
    let t0 = Instant::now();
    let mut slow = 0u64;
    while t0.elapsed() < Duration::from_secs(1) {
        let r = recv_stream_with(&mut c, &mut ck, KB, KB as usize);
        assert!(
            matches!(r.end, End::Limit),
            "{tag}: slow read at offset {slow}: {r:?}"
        );
        slow += r.n;
        thread::sleep(Duration::from_millis(10));
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = px.cpu_seconds() - cpu0;
    eprintln!(
        "{tag}: slow phase: {slow} bytes read in {wall:.2}s, proxy CPU {cpu:.3}s ({:.1}%)",
        100.0 * cpu / wall
    );
    let used = px.get("PipesUsed");
    assert!(
        used >= 1,
        "{tag}: the pipe should still be in use after the slow phase (PipesUsed {used})"
    );
    // Fast phase.
    let rest = recv_stream_with(&mut c, &mut ck, u64::MAX, CHUNK);
    let total = slow + rest.n;
    assert!(
        matches!(rest.end, End::Eof) && total == LEN,
        "{tag}: slow reader should end up with all {LEN} bytes then EOF; got {total}, ended by {:?}",
        rest.end
    );
    drop(c);
    eprintln!(
        "{tag}: proxy CPU over the whole transfer: {:.3}s",
        px.cpu_seconds()
    );
    assert!(
        cpu < 0.3 * wall,
        "{tag}: proxy used {cpu:.3}s of CPU in {wall:.2}s while the pipe was full and the client \
         slow: it is busy-looping instead of waiting for the client's socket to drain"
    );
    let spliced = px.spliced() - before;
    assert!(
        spliced >= LEN * 9 / 10,
        "{tag}: only {spliced} of {LEN} bytes were spliced"
    );
    px.wait_idle(Duration::from_secs(5));
}

// -------------------------------------------------------------- 4. resets --

const RESET_TRANSFERS: u64 = 1000;
const RESET_CONCURRENCY: u64 = 20;
const RESET_STREAM: u64 = 4 * MB;
const FINAL_IDX: u64 = u64::MAX;
const FINAL_LEN: u64 = 16 * MB;

/// What transfer `idx` does: (upload?, the client resets?, cut point).
fn reset_plan(idx: u64) -> (bool, bool, u64) {
    let upload = idx % 4 >= 2;
    let client_resets = idx.is_multiple_of(2);
    let span = RESET_STREAM - 128 * KB;
    let cut = 64 * KB + word(0xC07, idx) % span;
    (upload, client_resets, cut)
}

/// Server side of a reset transfer; returns a problem description, if any.
fn reset_server(mut c: TcpStream) -> Option<String> {
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    c.set_write_timeout(Some(Duration::from_secs(5))).ok();
    let mut hdr = [0u8; 8];
    if let Err(e) = c.read_exact(&mut hdr) {
        // A client resetting early may be gone before its header was
        // forwarded: only a stuck connection is a problem here.
        return is_timeout(e.kind()).then(|| format!("server: header read timed out: {e}"));
    }
    let idx = u64::from_le_bytes(hdr);
    let seed = idx.wrapping_add(1);
    if idx == FINAL_IDX {
        let (n, err) = send_stream(&mut c, seed, FINAL_LEN);
        let _ = c.shutdown(Shutdown::Write);
        let _ = drain_to_end(&mut c);
        return err.map(|e| format!("final transfer: server wrote {n}: {e}"));
    }
    let (upload, client_resets, cut) = reset_plan(idx);
    match (upload, client_resets) {
        (false, true) => {
            // Download, the client resets: write until the proxy closes on us.
            let (n, err) = send_stream(&mut c, seed, RESET_STREAM);
            if let Some(e) = err
                && is_timeout(e.kind())
            {
                return Some(format!(
                    "#{idx}: server write blocked after {n} bytes: the client's reset was \
                     never propagated"
                ));
            }
            if let (_, Err(k)) = drain_to_end(&mut c)
                && is_timeout(k)
            {
                return Some(format!(
                    "#{idx}: server never saw the connection close after the client's reset"
                ));
            }
            None
        }
        (false, false) => {
            let (n, err) = send_stream(&mut c, seed, cut);
            reset(c);
            err.map(|e| format!("#{idx}: server wrote {n} of {cut} before resetting: {e}"))
        }
        (true, true) => {
            let got = recv_stream(&mut c, seed, u64::MAX);
            match got.end {
                End::Mismatch(m) => Some(format!("#{idx}: upload corrupted: {m}")),
                End::Error(k) if is_timeout(k) => Some(format!(
                    "#{idx}: server read timed out after {} bytes: the client's reset was \
                     never propagated",
                    got.n
                )),
                _ => None,
            }
        }
        (true, false) => {
            let got = recv_stream(&mut c, seed, cut);
            reset(c);
            match got.end {
                End::Limit => None,
                e => Some(format!(
                    "#{idx}: server got {} of the first {cut} upload bytes: {e:?}",
                    got.n
                )),
            }
        }
    }
}

/// Client side of a reset transfer; returns a problem description, if any.
fn reset_client(port: u16, idx: u64) -> Option<String> {
    let mut c = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(c) => c,
        Err(e) => return Some(format!("#{idx}: connect: {e}")),
    };
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    c.set_write_timeout(Some(Duration::from_secs(5))).ok();
    if let Err(e) = c.write_all(&idx.to_le_bytes()) {
        return Some(format!("#{idx}: header: {e}"));
    }
    let seed = idx.wrapping_add(1);
    let (upload, client_resets, cut) = reset_plan(idx);
    match (upload, client_resets) {
        (false, true) => {
            let got = recv_stream(&mut c, seed, cut);
            reset(c);
            match got.end {
                End::Limit => None,
                e => Some(format!(
                    "#{idx}: client got {} of the first {cut} download bytes: {e:?}",
                    got.n
                )),
            }
        }
        (false, false) => {
            let got = recv_stream(&mut c, seed, u64::MAX);
            match got.end {
                End::Mismatch(m) => Some(format!("#{idx}: download corrupted: {m}")),
                End::Error(k) if is_timeout(k) => Some(format!(
                    "#{idx}: client read timed out after {} bytes: the server's reset was \
                     never propagated",
                    got.n
                )),
                _ if got.n > cut => Some(format!(
                    "#{idx}: client got {} bytes but the server only sent {cut}",
                    got.n
                )),
                _ => None,
            }
        }
        (true, true) => {
            let (n, err) = send_stream(&mut c, seed, cut);
            reset(c);
            err.map(|e| format!("#{idx}: client wrote {n} of {cut} before resetting: {e}"))
        }
        (true, false) => {
            let (n, err) = send_stream(&mut c, seed, RESET_STREAM);
            if let Some(e) = err
                && is_timeout(e.kind())
            {
                return Some(format!(
                    "#{idx}: client write blocked after {n} bytes: the server's reset was \
                     never propagated"
                ));
            }
            if let (_, Err(k)) = drain_to_end(&mut c)
                && is_timeout(k)
            {
                return Some(format!(
                    "#{idx}: client never saw its connection close after the server's reset"
                ));
            }
            None
        }
    }
}

#[test]
fn splice_resets_mid_transfer_leak_no_fds_or_pipes_and_proxy_keeps_serving() {
    let _g = serial();
    let problems = Arc::new(Mutex::new(Vec::<String>::new()));
    let p2 = problems.clone();
    let backend = Backend::start(move |c| {
        if let Some(p) = reset_server(c)
            && let Ok(mut v) = p2.lock()
        {
            v.push(p);
        }
    });
    let px = Px::start(
        backend.port,
        "    maxpipes 16",
        "",
        "    option splice-request",
        "    option splice-response",
        &[],
    );
    let mut px = px;
    let info0 = px.info();
    let maxpipes = Px::field(&info0, "Maxpipes");
    assert_eq!(maxpipes, 16, "global maxpipes 16");
    let spliced0 = Px::field(&info0, "TotalSplicdedBytesOut");
    thread::sleep(Duration::from_millis(100));
    let (fd0, pipe_fd0) = px.fds();
    let free0 = px.get("PipesFree");

    let monitor = PipeMonitor::start(&px.sock, Duration::from_millis(20));
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(60);
    let t0 = Instant::now();
    let workers: Vec<_> = (0..RESET_CONCURRENCY)
        .map(|_| {
            let (next, done, problems) = (next.clone(), done.clone(), problems.clone());
            let port = px.port;
            thread::spawn(move || {
                loop {
                    let idx = next.fetch_add(1, Ordering::SeqCst);
                    if idx >= RESET_TRANSFERS || Instant::now() > deadline {
                        return;
                    }
                    if let Some(p) = reset_client(port, idx)
                        && let Ok(mut v) = problems.lock()
                    {
                        v.push(p);
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let took = t0.elapsed();
    let (max_used, max_total, samples) = monitor.finish();
    let done = done.load(Ordering::SeqCst) as u64;
    eprintln!(
        "{done} reset transfers in {took:?}; PipesUsed max {max_used}, used+free max \
         {max_total} over {samples} samples"
    );
    assert_eq!(
        done, RESET_TRANSFERS,
        "only {done} transfers ran within the deadline"
    );

    let info = px.wait_idle(Duration::from_secs(10));
    // Backend threads finish right after the proxy closes their side.
    thread::sleep(Duration::from_millis(200));
    {
        let v = problems.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            v.is_empty(),
            "{} problems during the reset transfers, first ones:\n{}",
            v.len(),
            v.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    }
    let spliced = Px::field(&info, "TotalSplicdedBytesOut") - spliced0;
    assert!(
        spliced >= 100 * MB,
        "only {spliced} bytes spliced over {RESET_TRANSFERS} multi-megabyte transfers"
    );
    assert!(
        max_used <= maxpipes && max_total <= maxpipes,
        "pipes beyond maxpipes {maxpipes}: PipesUsed max {max_used}, used+free max {max_total}"
    );

    // fds: back to the baseline plus the pooled free pipes.
    let end = Instant::now() + Duration::from_secs(3);
    loop {
        let info = px.info();
        let used = Px::field(&info, "PipesUsed");
        let free = Px::field(&info, "PipesFree");
        let (fds, pipe_fds) = px.fds();
        let pooled = (free - free0.min(free)) as usize;
        let ok = used == 0
            && used + free <= maxpipes
            && fds <= fd0 + 2 * pooled
            && pipe_fds == pipe_fd0 + 2 * pooled;
        if ok {
            break;
        }
        if Instant::now() > end {
            panic!(
                "leak after resets: PipesUsed {used} (want 0), PipesFree {free}, Maxpipes \
                 {maxpipes}; fds {fds} (baseline {fd0} + 2 x {pooled} pooled pipes allowed), \
                 pipe fds {pipe_fds} (baseline {pipe_fd0}, want +{})",
                2 * pooled
            );
        }
        thread::sleep(Duration::from_millis(100));
    }

    // Still alive and serving byte-exact spliced data.
    px.assert_alive();
    let s0 = px.spliced();
    let mut c = connect_with_timeouts(px.port, Duration::from_secs(20));
    c.write_all(&FINAL_IDX.to_le_bytes()).expect("final header");
    let got = recv_stream(&mut c, FINAL_IDX.wrapping_add(1), FINAL_LEN);
    assert!(
        matches!(got.end, End::Limit) && got.n == FINAL_LEN,
        "final transfer after the resets: {} of {FINAL_LEN} bytes, ended by {:?}",
        got.n,
        got.end
    );
    c.shutdown(Shutdown::Write).expect("shutdown");
    let (extra, eof) = drain_to_end(&mut c);
    assert_eq!((extra, eof), (0, Ok(())), "final transfer: clean EOF");
    let s1 = px.spliced();
    assert!(
        s1 - s0 >= FINAL_LEN * 9 / 10,
        "final transfer: only {} of {FINAL_LEN} bytes spliced",
        s1 - s0
    );
    px.assert_alive();
}

// --------------------------------------------------- 5. no pipe left --

#[test]
fn splice_maxpipes_1_four_concurrent_transfers_fall_back_to_buffers_byte_exact() {
    let _g = serial();
    const LEN: u64 = 64 * MB;
    let backend = Backend::echo();
    let mut px = Px::start(
        backend.port,
        "    maxpipes 1",
        "",
        "    option splice-request",
        "    option splice-response",
        &[],
    );
    let info = px.info();
    assert_eq!(Px::field(&info, "Maxpipes"), 1, "global maxpipes 1");
    let before = Px::field(&info, "TotalSplicdedBytesOut");
    let monitor = PipeMonitor::start(&px.sock, Duration::from_millis(5));
    let port = px.port;
    let handles: Vec<_> = (0..4u64)
        .map(|i| {
            thread::spawn(move || {
                echo_transfer(port, LEN, 0xF00 + i, &format!("maxpipes 1, transfer #{i}"))
            })
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .filter_map(|h| h.join().expect("transfer thread").err())
        .collect();
    let (max_used, max_total, samples) = monitor.finish();
    eprintln!("maxpipes 1: PipesUsed max {max_used}, used+free max {max_total}, {samples} samples");
    if !failures.is_empty() {
        fail_with_proxy_state(&mut px, &failures.join("\n"));
    }
    assert!(samples > 10, "too few show info samples ({samples})");
    assert!(
        max_used <= 1 && max_total <= 1,
        "maxpipes 1 exceeded: PipesUsed max {max_used}, used+free max {max_total}"
    );
    let info = px.wait_idle(Duration::from_secs(5));
    let spliced = Px::field(&info, "TotalSplicdedBytesOut") - before;
    assert!(
        spliced > 0,
        "the single pipe should have been used by some transfer"
    );
    assert!(
        spliced < 8 * LEN,
        "all {} bytes were spliced although only one pipe exists for 8 directions",
        8 * LEN
    );
    assert_eq!(Px::field(&info, "PipesUsed"), 0, "pipe released at the end");
}

// ------------------------------------------------------------- extras --

#[test]
fn splice_tune_pipesize_tiny_large_and_oversized_pipes_byte_exact() {
    let _g = serial();
    const LEN: u64 = 128 * MB;
    // One page (a single pipe slot), the largest size an unprivileged
    // process may set, and more than /proc/sys/fs/pipe-max-size allows
    // (F_SETPIPE_SZ may fail: the proxy must cope with the smaller pipe).
    for size in [4096u64, MB, 8 * MB] {
        let backend = Backend::echo();
        let mut px = Px::start(
            backend.port,
            &format!("    tune.pipesize {size}"),
            "",
            "    option splice-request",
            "    option splice-response",
            &[],
        );
        let before = px.spliced();
        let what = format!("tune.pipesize {size}");
        let took = echo_transfer(px.port, LEN, 0x9195 + size, &what)
            .unwrap_or_else(|e| fail_with_proxy_state(&mut px, &e));
        let spliced = px.spliced() - before;
        eprintln!("{what}: {LEN} bytes echoed in {took:?}, spliced {spliced}");
        assert!(
            spliced >= 2 * LEN * 9 / 10,
            "{what}: only {spliced} of {} bytes spliced",
            2 * LEN
        );
        let info = px.wait_idle(Duration::from_secs(5));
        assert_eq!(Px::field(&info, "PipesUsed"), 0, "{what}: pipes released");
    }
}

#[test]
fn splice_auto_interactive_small_messages_stay_in_buffers() {
    let _g = serial();
    let backend = Backend::echo();
    let px = Px::start(backend.port, "", "    option splice-auto", "", "", &[]);
    let before = px.spliced();
    let mut c = connect_with_timeouts(px.port, Duration::from_secs(10));
    let mut g = Gen::new(0x1A7E);
    let mut ck = Checker::new(0x1A7E);
    let mut msg = [0u8; 100];
    for i in 0..200 {
        g.fill(&mut msg);
        c.write_all(&msg).expect("send message");
        let r = recv_stream_with(&mut c, &mut ck, msg.len() as u64, msg.len());
        assert!(matches!(r.end, End::Limit), "message #{i}: {r:?}");
    }
    c.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(
        drain_to_end(&mut c),
        (0, Ok(())),
        "clean EOF after the exchange"
    );
    let spliced = px.spliced() - before;
    assert_eq!(
        spliced, 0,
        "splice-auto spliced {spliced} bytes of a ping-pong of 100-byte messages: reads \
         never fill the buffer, so it should never switch to pipes"
    );
}

#[test]
fn splice_request_pipes_released_when_server_unreachable() {
    let _g = serial();
    // A port nothing listens on.
    let dead = free_port();
    let px = Px::start(
        dead,
        "",
        "    retries 0",
        "    option splice-request",
        "    option splice-response",
        &[],
    );
    thread::sleep(Duration::from_millis(100));
    let (fd0, pipe_fd0) = px.fds();
    let free0 = px.get("PipesFree");
    let handles: Vec<_> = (0..20u64)
        .map(|i| {
            let port = px.port;
            thread::spawn(move || {
                let mut c = connect_with_timeouts(port, Duration::from_secs(10));
                // Data lands in the request pipe before the connect fails.
                let (_, err) = send_stream(&mut c, 0xDEAD + i, 256 * KB);
                let end = drain_to_end(&mut c).1;
                (err.map(|e| e.kind()), end)
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let (werr, end) = h.join().expect("client");
        assert!(
            !werr.is_some_and(is_timeout) && !end.is_err_and(is_timeout),
            "client #{i}: the proxy never closed after the connect failure \
             (write {werr:?}, read {end:?})"
        );
    }
    let info = px.wait_idle(Duration::from_secs(10));
    let used = Px::field(&info, "PipesUsed");
    let free = Px::field(&info, "PipesFree");
    assert_eq!(used, 0, "request pipes not released after connect failures");
    let pooled = (free - free0.min(free)) as usize;
    let end = Instant::now() + Duration::from_secs(3);
    loop {
        let (fds, pipe_fds) = px.fds();
        if fds <= fd0 + 2 * pooled && pipe_fds == pipe_fd0 + 2 * pooled {
            break;
        }
        assert!(
            Instant::now() < end,
            "fd leak after connect failures: fds {fds} (baseline {fd0} + {} for {pooled} \
             pooled pipes), pipe fds {pipe_fds} (baseline {pipe_fd0})",
            2 * pooled
        );
        thread::sleep(Duration::from_millis(100));
    }
}
