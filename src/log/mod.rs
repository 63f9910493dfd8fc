//! Traffic logs: the tcplog line and its delivery to syslog/stdout/stderr.
//!
//! `format_tcplog` is pure (the values are gathered by the stream); `Logger`
//! owns the sockets and sends one datagram (or one write) per line.
//! Format (configuration.txt 8.2.2):
//! `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`
//!
//! Delivery never blocks the loop (configuration.txt 3.1, `log`: "Messages
//! sent this way will not be truncated but may be dropped, in which case the
//! DroppedLogs counter will be incremented"). Datagrams go out with
//! `MSG_DONTWAIT`; `stdout`/`stderr` (fd@1, fd@2) are switched to
//! `O_NONBLOCK` once, at their first line, unless they are a terminal, as
//! HAProxy's `fd_write_frag_line()` does. A line that would block is dropped
//! and counted in `dropped` (`show info` DroppedLogs); any other error is
//! reported once per process with HAProxy's alert and not counted.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod format;
use crate::cfg::model::{LogCfg, LogFormat, LogTarget};
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// The values of one tcplog line.
#[derive(Debug, Clone, Default)]
pub struct TcpLog<'a> {
    pub client: Option<SocketAddr>,
    /// Accept date as (seconds since epoch, milliseconds).
    pub accept_date: (i64, u32),
    pub frontend: &'a str,
    /// The client connection is TLS: `~` after the frontend's name.
    pub is_ssl: bool,
    pub backend: &'a str,
    pub server: &'a str,
    /// Queue time, connect time (-1 when not reached), total time, in ms.
    pub tw: i64,
    pub tc: i64,
    pub tt: i64,
    pub bytes: u64,
    pub term: [char; 2],
    pub actconn: u32,
    pub feconn: u32,
    pub beconn: u32,
    pub srvconn: u32,
    pub retries: u32,
    pub redispatched: bool,
    pub srv_queue: u32,
    pub be_queue: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Broken-down local time of `secs`.
pub fn local_tm(secs: i64) -> libc::tm {
    // SAFETY: zeroed tm is a valid out-parameter; localtime_r fills it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let t = secs as libc::time_t;
    // SAFETY: both pointers are valid for the call.
    unsafe { libc::localtime_r(&t, &mut tm) };
    tm
}

/// Wall-clock now as (seconds, milliseconds).
pub fn wall_now() -> (i64, u32) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_millis())
}

fn push_addr(out: &mut String, a: Option<SocketAddr>) {
    match a {
        Some(a) => {
            let _ = write!(out, "{}:{}", a.ip(), a.port());
        }
        None => out.push_str("-:-"),
    }
}

/// Appends ` [dd/Mmm/yyyy:HH:MM:SS.mmm]`, HAProxy's accept date (local time).
pub fn push_date(out: &mut String, date: (i64, u32)) {
    let tm = local_tm(date.0);
    let _ = write!(
        out,
        " [{:02}/{}/{:04}:{:02}:{:02}:{:02}.{:03}]",
        tm.tm_mday,
        MONTHS.get(tm.tm_mon as usize).unwrap_or(&"Jan"),
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        date.1
    );
}

/// Appends `dd/Mmm/yyyy:HH:MM:SS +zzzz` (local time), the Common Log
/// Format date.
pub fn push_clf_date(out: &mut String, secs: i64) {
    let tm = local_tm(secs);
    let off = tm.tm_gmtoff / 60;
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} {}{:02}{:02}",
        tm.tm_mday,
        MONTHS.get(tm.tm_mon as usize).unwrap_or(&"Jan"),
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        if off < 0 { '-' } else { '+' },
        off.abs() / 60,
        off.abs() % 60
    );
}

/// Renders a tcplog line (without syslog header).
pub fn format_tcplog(l: &TcpLog<'_>) -> String {
    let mut s = String::with_capacity(160);
    push_addr(&mut s, l.client);
    push_date(&mut s, l.accept_date);
    let _ = write!(
        s,
        " {}{} {}/{} {}/{}/{} {} {}{} {}/{}/{}/{}/{}{} {}/{}",
        l.frontend,
        if l.is_ssl { "~" } else { "" },
        l.backend,
        l.server,
        l.tw,
        l.tc,
        l.tt,
        l.bytes,
        l.term[0],
        l.term[1],
        l.actconn,
        l.feconn,
        l.beconn,
        l.srvconn,
        if l.redispatched { "+" } else { "" },
        l.retries,
        l.srv_queue,
        l.be_queue
    );
    s
}

/// Renders a connection error line (failed handshake):
/// `<ci>:<cp> [<accept_date>] <frontend>/<bind>: <message>`.
pub fn format_error(
    client: Option<SocketAddr>,
    date: (i64, u32),
    frontend: &str,
    bind: &str,
    msg: &str,
) -> String {
    let mut s = String::with_capacity(96 + msg.len());
    push_addr(&mut s, client);
    push_date(&mut s, date);
    let _ = write!(s, " {frontend}/{bind}: {msg}");
    s
}

/// Renders the default (non-tcplog) connection line.
pub fn format_connect(
    client: Option<SocketAddr>,
    local: Option<SocketAddr>,
    frontend: &str,
    http: bool,
) -> String {
    let mut s = String::from("Connect from ");
    push_addr(&mut s, client);
    s.push_str(" to ");
    push_addr(&mut s, local);
    let mode = if http { "HTTP" } else { "TCP" };
    let _ = write!(s, " ({frontend}/{mode})");
    s
}

/// Sends log lines to the configured targets.
pub struct Logger {
    udp4: RawFd,
    udp6: RawFd,
    unix: RawFd,
    pub tag: String,
    pub hostname: Option<String>,
    /// Lines dropped because the target would have blocked (DroppedLogs).
    pub dropped: u64,
    /// fd@1 and fd@2 already prepared for non-blocking writes (indexed by fd).
    fd_ready: [bool; 3],
    /// The one "failed in logger" alert was printed.
    alerted: bool,
}

impl Logger {
    /// A logger with lazily useful sockets (created up front, cheap).
    pub fn new(tag: &str, hostname: Option<String>) -> Self {
        let mk = |d| crate::conn::sock::socket(d, libc::SOCK_DGRAM).unwrap_or(-1);
        Logger {
            udp4: mk(libc::AF_INET),
            udp6: mk(libc::AF_INET6),
            unix: mk(libc::AF_UNIX),
            tag: tag.to_string(),
            hostname,
            dropped: 0,
            fd_ready: [false; 3],
            alerted: false,
        }
    }

    /// Sends `msg` at `level` (6 = info) to every target in `logs`. Never
    /// blocks: a line the target cannot take now is dropped and counted in
    /// `dropped`; another error prints one alert per process (HAProxy's
    /// `__do_send_log()`), later ones are silent.
    pub fn send(&mut self, logs: &[LogCfg], level: u8, msg: &str) {
        let mut nblogger = 0;
        for l in logs {
            if level > l.level {
                continue;
            }
            nblogger += 1;
            let line = self.frame(l, level, msg);
            let sent = match &l.target {
                LogTarget::Stdout => self.write_fd(1, line.as_bytes()),
                LogTarget::Stderr => self.write_fd(2, line.as_bytes()),
                LogTarget::Udp(a) => {
                    let fd = if a.is_ipv4() { self.udp4 } else { self.udp6 };
                    let (ss, len) = crate::conn::sock::to_sockaddr(a);
                    send_dgram(
                        fd,
                        line.as_bytes(),
                        &ss as *const _ as *const libc::sockaddr,
                        len,
                    )
                }
                LogTarget::Unix(p) => send_unix(self.unix, p, line.as_bytes()),
            };
            match sent {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.dropped += 1,
                Err(e) => {
                    if !self.alerted {
                        self.alerted = true;
                        let m = format!(
                            "sendmsg()/writev() failed in logger #{nblogger}: {} (errno={})",
                            crate::cfg::parse::strerror(&e),
                            e.raw_os_error().unwrap_or(0)
                        );
                        eprint_line(&crate::cfg::diag::format_line(
                            crate::cfg::diag::Level::Alert,
                            None,
                            &m,
                        ));
                    }
                }
            }
        }
    }

    /// One write of `b` to fd@`fd` (1 or 2). The first call per fd sets
    /// `O_NONBLOCK` on it unless it is a terminal, as HAProxy does, so that
    /// a reader that stops reading costs lines (EAGAIN), never the loop.
    /// Unlike HAProxy's `fcntl(fd, F_SETFL, O_NONBLOCK)`, the other status
    /// flags are kept: HAProxy also clears `O_APPEND` of a `>>` redirection,
    /// which lets concurrent writers of that file overwrite each other.
    fn write_fd(&mut self, fd: RawFd, b: &[u8]) -> io::Result<usize> {
        if let Some(ready) = self.fd_ready.get_mut(fd as usize)
            && !*ready
        {
            *ready = true;
            set_nonblock_unless_tty(fd);
        }
        // SAFETY: `b` is valid for reads of its length.
        let n = unsafe { libc::write(fd, b.as_ptr() as *const libc::c_void, b.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    fn frame(&self, l: &LogCfg, level: u8, msg: &str) -> String {
        let mut s = String::with_capacity(msg.len() + 64);
        match l.format {
            LogFormat::Raw => {}
            LogFormat::Short => {
                let _ = write!(s, "<{}>", level);
            }
            LogFormat::Rfc3164 => {
                let (secs, _) = wall_now();
                let tm = local_tm(secs);
                let _ = write!(
                    s,
                    "<{}>{} {:2} {:02}:{:02}:{:02} ",
                    (l.facility as u32) * 8 + level as u32,
                    MONTHS.get(tm.tm_mon as usize).unwrap_or(&"Jan"),
                    tm.tm_mday,
                    tm.tm_hour,
                    tm.tm_min,
                    tm.tm_sec
                );
                if let Some(h) = &self.hostname {
                    let _ = write!(s, "{h} ");
                }
                let _ = write!(s, "{}[{}]: ", self.tag, std::process::id());
            }
        }
        let room = l.maxlen.saturating_sub(s.len() + 1);
        let mut end = msg.len().min(room);
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        s.push_str(&msg[..end]);
        s.push('\n');
        s
    }
}

/// Sets `O_NONBLOCK` on `fd` (keeping its other status flags), unless it is
/// a terminal: the terminal's file description is shared with the shell,
/// which must not find it non-blocking.
fn set_nonblock_unless_tty(fd: RawFd) {
    // SAFETY: plain fcntl/isatty calls on a descriptor number; a closed fd
    // only makes them fail, and the write that follows reports it.
    unsafe {
        if libc::isatty(fd) == 1 {
            return;
        }
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl >= 0 && fl & libc::O_NONBLOCK == 0 {
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }
}

/// Prints `line` and a newline on stderr, ignoring errors. For messages
/// printed while the loop runs: stderr may be a log target, hence
/// non-blocking, and `eprintln!` would panic on EAGAIN where HAProxy's
/// stdio just loses the message.
pub fn eprint_line(line: &str) {
    use std::io::Write as _;
    let mut e = io::stderr().lock();
    let _ = e
        .write_all(line.as_bytes())
        .and_then(|_| e.write_all(b"\n"));
}

fn send_unix(fd: RawFd, path: &std::path::Path, b: &[u8]) -> io::Result<usize> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: zeroed sockaddr_un is valid.
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let p = path.as_os_str().as_bytes();
    if p.len() >= sun.sun_path.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in sun.sun_path.iter_mut().zip(p) {
        *d = *s as libc::c_char;
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + p.len() + 1) as libc::socklen_t;
    send_dgram(fd, b, &sun as *const _ as *const libc::sockaddr, len)
}

/// One non-blocking datagram to `addr`; the bytes sent, or why the kernel
/// refused it (`WouldBlock` when the socket buffer is full).
fn send_dgram(
    fd: RawFd,
    b: &[u8],
    addr: *const libc::sockaddr,
    len: libc::socklen_t,
) -> io::Result<usize> {
    // SAFETY: `b` is readable for its length and `addr` points to a live
    // sockaddr of `len` bytes owned by the caller.
    let n = unsafe {
        libc::sendto(
            fd,
            b.as_ptr() as *const libc::c_void,
            b.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            addr,
            len,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcplog_shape() {
        let l = TcpLog {
            client: "10.0.1.2:33313".parse().ok(),
            accept_date: (1_234_567_890, 443),
            frontend: "fnt",
            is_ssl: false,
            backend: "bck",
            server: "srv1",
            tw: 0,
            tc: 0,
            tt: 5007,
            bytes: 212,
            term: ['-', '-'],
            actconn: 0,
            feconn: 0,
            beconn: 0,
            srvconn: 0,
            retries: 3,
            redispatched: true,
            srv_queue: 0,
            be_queue: 0,
        };
        let s = format_tcplog(&l);
        assert!(s.starts_with("10.0.1.2:33313 ["), "{s}");
        assert!(
            s.ends_with("] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/+3 0/0"),
            "{s}"
        );
        let date = &s[16..s.find(']').unwrap_or(0)];
        assert_eq!(date.len(), "13/Feb/2009:23:31:30.443".len(), "{date}");
        assert!(date.ends_with(".443"));
    }

    #[test]
    fn connect_line() {
        let s = format_connect(
            "1.2.3.4:5".parse().ok(),
            "127.0.0.1:80".parse().ok(),
            "fe",
            false,
        );
        assert_eq!(s, "Connect from 1.2.3.4:5 to 127.0.0.1:80 (fe/TCP)");
    }

    #[test]
    fn raw_frame_truncates_to_len() {
        let lg = Logger::new("haproxy", None);
        let cfg = LogCfg {
            target: LogTarget::Stdout,
            format: LogFormat::Raw,
            facility: 16,
            level: 7,
            maxlen: 10,
        };
        assert_eq!(lg.frame(&cfg, 6, "abcdefghijklmnop"), "abcdefghi\n");
        let cfg = LogCfg {
            format: LogFormat::Rfc3164,
            maxlen: 1024,
            ..cfg
        };
        let f = lg.frame(&cfg, 6, "hello");
        assert!(f.starts_with("<134>"), "{f}");
        assert!(
            f.ends_with(&format!("haproxy[{}]: hello\n", std::process::id())),
            "{f}"
        );
    }
}
