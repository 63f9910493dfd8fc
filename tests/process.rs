//! Process life cycle, compared with HAProxy 2.6 where it matters: SIGTERM,
//! SIGUSR1 soft stop, `hard-stop-after`, `-sf`/`-st` handover, daemon mode
//! with a pidfile, bind failures and frontend `maxconn` with the backlog.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A TCP config: frontend on `port` to one server on `srv`.
fn tcp_cfg(global: &str, port: u16, srv: u16, fe_extra: &str) -> String {
    format!(
        "global\n{global}defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n\
         frontend f\n  bind 127.0.0.1:{port}\n{fe_extra}  default_backend b\nbackend b\n  server s 127.0.0.1:{srv}\n"
    )
}

/// One short connection: send 4 bytes, expect them echoed, close.
fn echo_once(port: u16) -> std::io::Result<()> {
    let mut c = TcpStream::connect_timeout(&local(port), Duration::from_secs(3))?;
    c.set_read_timeout(Some(Duration::from_secs(3)))?;
    c.set_write_timeout(Some(Duration::from_secs(3)))?;
    c.write_all(b"ping")?;
    let mut b = [0u8; 4];
    c.read_exact(&mut b)?;
    if &b != b"ping" {
        return Err(std::io::Error::other(format!("bad echo {b:?}")));
    }
    Ok(())
}

/// Waits until connecting to `port` is refused; returns how long it took.
fn wait_refused(port: u16, t: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < t {
        match TcpStream::connect(local(port)) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => return Some(start.elapsed()),
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    None
}

/// True if `pid` names a live (non-zombie) process.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rsplit(')')
            .next()
            .map(|r| !r.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// A process we started but that is not our child (daemon): SIGKILLed on
/// drop if still alive and still ours (its command line names our config).
struct DaemonGuard {
    pid: i32,
    marker: String,
}

impl DaemonGuard {
    fn is_ours(&self) -> bool {
        std::fs::read(format!("/proc/{}/cmdline", self.pid))
            .map(|c| String::from_utf8_lossy(&c).contains(&self.marker))
            .unwrap_or(false)
    }
}

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        if self.pid > 0 && self.is_ours() {
            // SAFETY: kill on the pid of the daemon this test started.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
    }
}

/// How a process ended, as its parent sees it: "exit N" or "signal N".
fn how(st: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => format!("{st:?}"),
    }
}

/// What HAProxy 2.6 in the foreground (`-db`) does on `sig`, as seen by its
/// parent: it is terminated by the signal itself (a shell shows 128+sig).
fn haproxy_end_on(sig: i32, srv: u16) -> String {
    let port = free_port();
    let cfg = tcp_cfg("", port, srv, "");
    match have_haproxy().then(|| Proxy::start_program(HAPROXY, &cfg, &[port], &["-db"])) {
        Some(mut h) => {
            h.signal(sig);
            how(h
                .wait_exit(Duration::from_secs(3))
                .expect("haproxy exits on the signal"))
        }
        None => format!("signal {sig}"),
    }
}

/// Starts haproxy-rs with a live stream, sends `sig`, returns how it ended.
fn rs_end_on(sig: i32, srv: u16) -> String {
    let port = free_port();
    let mut px = Proxy::start(&tcp_cfg("", port, srv, ""), &[port]);
    // An established stream must not delay a hard stop.
    let mut c = connect(port);
    c.write_all(b"x").unwrap();
    let mut b = [0u8; 1];
    c.read_exact(&mut b).unwrap();
    let t = Instant::now();
    px.signal(sig);
    let st = px
        .wait_exit(Duration::from_secs(3))
        .expect("haproxy-rs did not exit within 3 s of the signal");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "exit took {:?}",
        t.elapsed()
    );
    how(st)
}

#[test]
fn sigterm_exits_promptly_and_ends_like_haproxy() {
    let be = Backend::echo();
    let rs = rs_end_on(libc::SIGTERM, be.port);
    let reference = haproxy_end_on(libc::SIGTERM, be.port);
    assert_eq!(
        rs, reference,
        "how the process ends on SIGTERM (HAProxy 2.6 -db is killed by SIGTERM, shell status 143)"
    );
}

#[test]
fn sigint_exits_promptly_and_ends_like_haproxy() {
    let be = Backend::echo();
    let rs = rs_end_on(libc::SIGINT, be.port);
    let reference = haproxy_end_on(libc::SIGINT, be.port);
    assert_eq!(
        rs, reference,
        "how the process ends on SIGINT (HAProxy 2.6 -db is killed by SIGINT, shell status 130)"
    );
}

#[test]
fn sigusr1_soft_stop_refuses_new_connections_and_finishes_live_transfer() {
    let be = Backend::echo();
    let port = free_port();
    let mut px = Proxy::start(&tcp_cfg("", port, be.port, ""), &[port]);
    let data = payload(10 * 16384, 7);
    let mut c = connect(port);
    let mut reader = c.try_clone().unwrap();
    let total = data.len();
    let rd = std::thread::spawn(move || {
        let mut got = Vec::with_capacity(total);
        let _ = reader.read_to_end(&mut got);
        got
    });
    // Ten chunks over ~1 s; SIGUSR1 after the third.
    let mut refused_after = None;
    for (i, chunk) in data.chunks(16384).enumerate() {
        c.write_all(chunk).expect("write chunk during soft stop");
        if i == 2 {
            px.signal(libc::SIGUSR1);
            refused_after = wait_refused(port, Duration::from_millis(500));
        } else {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let refused_after = refused_after.expect("new connections still accepted 500 ms after SIGUSR1");
    assert!(
        refused_after < Duration::from_millis(500),
        "listener closed after {refused_after:?}"
    );
    assert!(
        alive(px.pid()),
        "the process must wait for the live transfer: {}",
        px.stderr()
    );
    c.shutdown(Shutdown::Write).unwrap();
    let got = rd.join().unwrap();
    assert_eq!(got.len(), data.len(), "echoed byte count during soft stop");
    assert!(got == data, "echoed bytes differ from sent bytes");
    let st = px
        .wait_exit(Duration::from_secs(3))
        .expect("process did not exit after the last stream ended");
    assert_eq!(
        st.code(),
        Some(0),
        "soft stop exit status; stderr: {}",
        px.stderr()
    );
}

#[test]
fn hard_stop_after_bounds_soft_stop_with_idle_connection() {
    let be = Backend::echo();
    let port = free_port();
    let mut px = Proxy::start(
        &tcp_cfg("  hard-stop-after 500ms\n", port, be.port, ""),
        &[port],
    );
    let mut c = connect(port);
    c.write_all(b"idle").unwrap();
    let mut b = [0u8; 4];
    c.read_exact(&mut b).unwrap();
    let t = Instant::now();
    px.signal(libc::SIGUSR1);
    let st = px
        .wait_exit(Duration::from_secs(5))
        .expect("hard-stop-after did not end the soft stop");
    let el = t.elapsed();
    assert!(
        el >= Duration::from_millis(400),
        "exited after {el:?}, before hard-stop-after (the connection was open)"
    );
    assert!(el <= Duration::from_millis(2500), "exited after {el:?}");
    // HAProxy 2.6 exits 0 when hard-stop-after expires.
    assert_eq!(st.code(), Some(0), "stderr: {}", px.stderr());
    // The idle connection was closed by the exit.
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut rest = Vec::new();
    let r = c.read_to_end(&mut rest);
    assert!(
        r.is_err() || rest.is_empty(),
        "no data expected, got {rest:?}"
    );
}

/// Reads one `http-request return` response ("ok" body) from `c`.
fn read_ok_response(c: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut b = [0u8; 512];
    let t = Instant::now();
    while !got.ends_with(b"\r\n\r\nok") && t.elapsed() < Duration::from_secs(3) {
        match c.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Soft stop under HTTP keep-alive: a client idle at the stop still gets
/// the request it sends just after answered (with `connection: close`,
/// then the close), instead of a reset; one that sends nothing is closed
/// about a second after the stop, and the process then exits 0.
#[test]
fn soft_stop_serves_the_next_keepalive_request_then_closes() {
    let port = free_port();
    let cfg = format!(
        "defaults\n mode http\n timeout client 30s\n timeout server 5s\n timeout connect 1s\n\
         frontend f\n bind 127.0.0.1:{port}\n \
         http-request return status 200 content-type text/plain string ok\n"
    );
    let mut px = Proxy::start(&cfg, &[port]);
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let (mut a, mut b) = (connect(port), connect(port));
    for c in [&mut a, &mut b] {
        c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        c.write_all(req).unwrap();
        let r = read_ok_response(c);
        assert!(r.starts_with("HTTP/1.1 200"), "{r:?}");
        assert!(!r.contains("connection: close"), "{r:?}");
    }
    let t = Instant::now();
    px.signal(libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(200));
    a.write_all(req).unwrap();
    let mut last = Vec::new();
    a.read_to_end(&mut last)
        .expect("answered, then closed cleanly");
    let last = String::from_utf8_lossy(&last);
    assert!(last.starts_with("HTTP/1.1 200"), "{last:?}");
    assert!(last.contains("\r\nconnection: close\r\n"), "{last:?}");
    assert!(last.ends_with("\r\n\r\nok"), "{last:?}");
    let mut rest = Vec::new();
    assert_eq!(b.read_to_end(&mut rest).map(|_| rest.len()).ok(), Some(0));
    let closed = t.elapsed();
    assert!(
        closed >= Duration::from_millis(800) && closed < Duration::from_millis(2500),
        "the idle client was closed {closed:?} after the stop"
    );
    let st = px.wait_exit(Duration::from_secs(3)).expect("exits");
    assert_eq!(st.code(), Some(0), "stderr: {}", px.stderr());
}

/// Client loop through `port` until `stop` or the bounds; counts successes
/// and keeps the failures.
fn client_loop(
    port: u16,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut n = 0;
        while !stop.load(Ordering::SeqCst) && n < 3000 && start.elapsed() < Duration::from_secs(4) {
            n += 1;
            match echo_once(port) {
                Ok(()) => {
                    ok.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => failures
                    .lock()
                    .unwrap()
                    .push(format!("#{n} at {:?}: {e}", start.elapsed())),
            }
        }
    })
}

#[test]
fn sf_handover_old_process_finishes_and_no_connection_fails() {
    let be = Backend::echo();
    let port = free_port();
    let cfg = tcp_cfg("", port, be.port, "");
    let mut a = Proxy::start(&cfg, &[port]);
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let h = client_loop(port, stop.clone(), ok.clone(), failures.clone());
    std::thread::sleep(Duration::from_millis(300));
    let before = ok.load(Ordering::SeqCst);
    let apid = a.pid().to_string();
    let mut b = Proxy::start_args(&cfg, &[port], &["-db", "-sf", &apid]);
    let a_exit = a.wait_exit(Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    h.join().unwrap();
    let a_exit = a_exit.expect("old process did not exit after -sf");
    assert_eq!(
        a_exit.code(),
        Some(0),
        "old process exit status after soft stop; stderr: {}",
        a.stderr()
    );
    assert!(
        before > 0,
        "the client loop made no connection before the handover"
    );
    let total = ok.load(Ordering::SeqCst);
    assert!(total > before, "no connection served after the handover");
    let f = failures.lock().unwrap().clone();
    assert!(
        f.is_empty(),
        "{} of {} connections failed during the -sf handover: {:?}",
        f.len(),
        total + f.len(),
        &f[..f.len().min(10)]
    );
    assert!(
        b.wait_exit(Duration::from_millis(10)).is_none(),
        "new process died: {}",
        b.stderr()
    );
    echo_once(port).expect("new process serves");
}

#[test]
fn st_handover_terminates_old_process_and_new_one_serves() {
    let be = Backend::echo();
    let port = free_port();
    let cfg = tcp_cfg("", port, be.port, "");
    let mut a = Proxy::start(&cfg, &[port]);
    // A live stream on A must not keep it alive with -st.
    let mut c = connect(port);
    c.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    c.read_exact(&mut one).unwrap();
    let apid = a.pid().to_string();
    let t = Instant::now();
    let mut b = Proxy::start_args(&cfg, &[port], &["-db", "-st", &apid]);
    let st = a
        .wait_exit(Duration::from_secs(3))
        .expect("old process not terminated by -st");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "-st took {:?}",
        t.elapsed()
    );
    // -st sends SIGTERM: the old process must end as HAProxy 2.6 does on
    // SIGTERM (killed by the signal).
    assert_eq!(
        how(st),
        format!("signal {}", libc::SIGTERM),
        "how the old process ended after -st"
    );
    for _ in 0..5 {
        echo_once(port).expect("new process serves after -st");
    }
    assert!(
        b.wait_exit(Duration::from_millis(10)).is_none(),
        "new process died: {}",
        b.stderr()
    );
}

#[test]
fn daemon_mode_writes_pidfile_with_the_serving_daemon_pid() {
    let be = Backend::echo();
    let port = free_port();
    let dir = TempDir::new("daemon");
    let cfg = dir.write("daemon.cfg", &tcp_cfg("", port, be.port, ""));
    let pidfile = dir.path().join("haproxy.pid");
    let mut parent = Command::new(bin())
        .arg("-D")
        .arg("-p")
        .arg(&pidfile)
        .arg("-f")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
        .spawn()
        .expect("spawn haproxy-rs -D");
    let parent_pid = parent.id() as i32;
    let end = Instant::now() + Duration::from_secs(5);
    let pst = loop {
        if let Some(s) = parent.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > end {
            let _ = parent.kill();
            let _ = parent.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Read the pidfile (the daemon may write it just after the parent left).
    let mut text = String::new();
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        text = std::fs::read_to_string(&pidfile).unwrap_or_default();
        if text.ends_with('\n') {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid: i32 = text.trim().parse().unwrap_or(0);
    let _guard = DaemonGuard {
        pid,
        marker: cfg.to_string_lossy().to_string(),
    };
    let pst = pst.expect("the launching process did not return within 5 s");
    assert_eq!(
        pst.code(),
        Some(0),
        "launcher exit status; stderr: {}",
        std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default()
    );
    assert!(pid > 0, "pidfile content {text:?}");
    assert_eq!(
        text,
        format!("{pid}\n"),
        "pidfile holds one pid and a newline"
    );
    assert_ne!(
        pid, parent_pid,
        "the pidfile holds the daemon's pid, not the launcher's"
    );
    assert!(
        alive(pid) && _guard.is_ours(),
        "pid {pid} from the pidfile is not a running haproxy-rs"
    );
    assert!(
        wait_port(port, Duration::from_secs(5)),
        "daemon does not listen"
    );
    echo_once(port).expect("daemon serves");
    // Its session: detached from ours (setsid).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        fields.get(3).copied(),
        Some(pid.to_string().as_str()),
        "daemon is a session leader: {stat}"
    );
    // Stop it by the pid of the pidfile.
    // SAFETY: kill on the daemon this test started (checked by is_ours).
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let end = Instant::now() + Duration::from_secs(3);
    while alive(pid) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "daemon did not stop on SIGTERM");
}

#[test]
fn bind_failure_exits_1_with_cannot_bind_socket_like_haproxy() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind blocker");
    let port = taken.local_addr().unwrap().port();
    let dir = TempDir::new("bindfail");
    let cfg = dir.write("bind.cfg", &tcp_cfg("", port, 9, ""));
    let cs = cfg.to_str().unwrap();
    let t = Instant::now();
    let o = Command::new(bin())
        .args(["-db", "-f", cs])
        .stdin(Stdio::null())
        .output()
        .expect("run haproxy-rs");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "bind failure took {:?}",
        t.elapsed()
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    // HAProxy names the proxy by its type: "frontend f" here.
    let want = format!(
        "Binding [{cs}:8] for frontend f: cannot bind socket (Address already in use) for [127.0.0.1:{port}]"
    );
    let line = err
        .lines()
        .find(|l| l.contains("cannot bind socket"))
        .unwrap_or_default()
        .to_string();
    assert!(line.starts_with("[ALERT]    ("), "stderr: {err}");
    if have_haproxy() {
        let h = Command::new(HAPROXY)
            .args(["-db", "-f", cs])
            .stdin(Stdio::null())
            .output()
            .expect("run haproxy");
        let herr = String::from_utf8_lossy(&h.stderr).to_string();
        assert_eq!(
            h.status.code(),
            o.status.code(),
            "exit code differs from HAProxy 2.6: {herr}"
        );
        let hline = herr
            .lines()
            .find(|l| l.contains("cannot bind socket"))
            .unwrap_or_default();
        let strip = |l: &str| {
            l.split_once(") : ")
                .map(|(_, r)| r.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            strip(&line),
            strip(hline),
            "message differs from HAProxy 2.6"
        );
    }
    assert!(line.ends_with(&want), "got {line:?}, want ...{want:?}");
    drop(taken);
}

#[test]
fn connections_past_frontend_maxconn_wait_in_backlog_and_are_served_later() {
    let be = Backend::echo();
    let port = free_port();
    let mut px = Proxy::start(&tcp_cfg("", port, be.port, "  maxconn 10\n"), &[port]);
    // Fill the frontend: 10 established streams.
    let mut held = Vec::new();
    for i in 0..10 {
        let mut c = connect(port);
        c.write_all(b"held").unwrap();
        let mut b = [0u8; 4];
        c.read_exact(&mut b)
            .unwrap_or_else(|e| panic!("held connection {i}: {e}"));
        held.push(c);
    }
    // Count the backend's connections from here on.
    let baseline = be.accepted();
    // 10 more: the kernel completes them (backlog) but they are not served.
    let served = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut waiting = Vec::new();
    for i in 0..10 {
        let (served, errors) = (served.clone(), errors.clone());
        waiting.push(std::thread::spawn(move || {
            let r = (|| -> std::io::Result<()> {
                let mut c = TcpStream::connect_timeout(&local(port), Duration::from_secs(8))?;
                c.set_read_timeout(Some(Duration::from_secs(10)))?;
                let msg = format!("wait{i}");
                c.write_all(msg.as_bytes())?;
                let mut b = vec![0u8; msg.len()];
                c.read_exact(&mut b)?;
                if b != msg.as_bytes() {
                    return Err(std::io::Error::other("bad echo"));
                }
                Ok(())
            })();
            match r {
                Ok(()) => {
                    served.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => errors.lock().unwrap().push(format!("conn {i}: {e}")),
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        served.load(Ordering::SeqCst),
        0,
        "connections past maxconn were served while 10 were open"
    );
    assert!(
        errors.lock().unwrap().is_empty(),
        "connections past maxconn failed: {:?}",
        errors.lock().unwrap()
    );
    assert_eq!(
        be.accepted(),
        baseline,
        "the backend saw more than maxconn connections"
    );
    // Free the slots: every waiting connection is served.
    drop(held);
    for h in waiting {
        h.join().unwrap();
    }
    let errs = errors.lock().unwrap().clone();
    assert!(errs.is_empty(), "waiting connections failed: {errs:?}");
    assert_eq!(served.load(Ordering::SeqCst), 10);
    // Still healthy.
    assert!(
        px.wait_exit(Duration::from_millis(10)).is_none(),
        "process died: {}",
        px.stderr()
    );
    for _ in 0..3 {
        echo_once(port).expect("served after the flood");
    }
}

/// Waits until the stats socket at `sock` accepts connections (it is bound
/// after the frontends).
fn wait_stats_socket(sock: &std::path::Path) {
    let end = Instant::now() + Duration::from_secs(5);
    while std::os::unix::net::UnixStream::connect(sock).is_err() {
        assert!(Instant::now() < end, "no stats socket {}", sock.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn log_stdout_to_a_full_pipe_drops_lines_and_never_blocks_the_proxy() {
    // configuration.txt 3.1 `log`, fd@<n>/stdout: one writev() per line,
    // "messages ... may be dropped, in which case the DroppedLogs counter
    // will be incremented". HAProxy makes the fd non-blocking at its first
    // line, so a reader that stops reading costs log lines, not service.
    const CONNS: usize = 3000;
    let be = Backend::echo();
    let port = free_port();
    let dir = TempDir::new("logpipe");
    let sock = dir.path().join("stats.sock");
    let cfg = dir.write(
        "haproxy.cfg",
        &tcp_cfg(
            &format!(
                "  log stdout format raw local0\n  stats socket {} level admin\n",
                sock.display()
            ),
            port,
            be.port,
            "  log global\n  option tcplog\n",
        ),
    );
    let out = dir.path().join("stdout.log");
    let err = dir.path().join("stderr.log");
    // stdout is a pipe that this test keeps open and never reads (the
    // harness's own capture writes to a file, which never fills up).
    let child = Command::new(test_bin())
        .arg("-f")
        .arg(&cfg)
        .arg("-db")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err).expect("create stderr.log"))
        .spawn()
        .expect("spawn the proxy");
    let mut px = Proxy {
        child,
        dir,
        cfg,
        out,
        err,
    };
    px.wait_listening(&[port]);
    wait_stats_socket(&sock);
    // A 64 KiB pipe holds some 700 tcplog lines: 3000 connections fill it
    // several times over. Each one must still be served at once.
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..CONNS {
        let t = Instant::now();
        if let Err(e) = echo_once(port) {
            panic!(
                "connection {i} of {CONNS} failed after {:?} ({e}): the proxy is blocked \
                 writing its log to the full stdout pipe; stderr: {}",
                t.elapsed(),
                px.stderr()
            );
        }
        slowest = slowest.max(t.elapsed());
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "only {i} connections served in 120 s"
        );
    }
    assert!(
        slowest < Duration::from_secs(2),
        "a connection took {slowest:?}: the proxy stalled while its log pipe was full"
    );
    // Nothing read the pipe: the lines that did not fit were dropped and
    // counted, and the process still answers.
    let info = cli(&sock, "show info");
    let dropped = info_field(&info, "DroppedLogs").expect("DroppedLogs in show info");
    assert!(
        dropped > 0,
        "DroppedLogs is 0 after {CONNS} log lines into a pipe nobody reads:\n{info}"
    );
    assert!(
        dropped < CONNS as u64,
        "every one of the {CONNS} lines was dropped ({dropped}): the pipe took none"
    );
    assert!(
        px.wait_exit(Duration::from_millis(10)).is_none(),
        "process died: {}",
        px.stderr()
    );
    echo_once(port).expect("served after the flood");
    // The read end stays open until here: the lines were dropped for EAGAIN,
    // not lost to EPIPE.
    assert!(px.child.stdout.is_some());
}
