//! Traffic logs: the tcplog line and its delivery to syslog/stdout/stderr.
//!
//! `format_tcplog` is pure (the values are gathered by the stream); `Logger`
//! owns the sockets and sends one datagram (or one write) per line.
//! Format (configuration.txt 8.2.2):
//! `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`

use crate::cfg::model::{LogCfg, LogFormat, LogTarget};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// The values of one tcplog line.
#[derive(Debug, Clone, Default)]
pub struct TcpLog<'a> {
    pub client: Option<SocketAddr>,
    /// Accept date as (seconds since epoch, milliseconds).
    pub accept_date: (i64, u32),
    pub frontend: &'a str,
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
fn push_date(out: &mut String, date: (i64, u32)) {
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

/// Renders a tcplog line (without syslog header).
pub fn format_tcplog(l: &TcpLog<'_>) -> String {
    let mut s = String::with_capacity(160);
    push_addr(&mut s, l.client);
    push_date(&mut s, l.accept_date);
    let _ = write!(
        s,
        " {} {}/{} {}/{}/{} {} {}{} {}/{}/{}/{}/{}{} {}/{}",
        l.frontend,
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
) -> String {
    let mut s = String::from("Connect from ");
    push_addr(&mut s, client);
    s.push_str(" to ");
    push_addr(&mut s, local);
    let _ = write!(s, " ({frontend}/TCP)");
    s
}

/// Sends log lines to the configured targets.
pub struct Logger {
    udp4: RawFd,
    udp6: RawFd,
    unix: RawFd,
    pub tag: String,
    pub hostname: Option<String>,
    pub dropped: u64,
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
        }
    }

    /// Sends `msg` at `level` (6 = info) to every target in `logs`.
    pub fn send(&mut self, logs: &[LogCfg], level: u8, msg: &str) {
        for l in logs {
            if level > l.level {
                continue;
            }
            let line = self.frame(l, level, msg);
            let ok = match &l.target {
                LogTarget::Stdout => write_fd(1, line.as_bytes()),
                LogTarget::Stderr => write_fd(2, line.as_bytes()),
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
            if !ok {
                self.dropped += 1;
            }
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

fn write_fd(fd: RawFd, b: &[u8]) -> bool {
    // SAFETY: `b` is valid for reads of its length.
    unsafe { libc::write(fd, b.as_ptr() as *const libc::c_void, b.len()) >= 0 }
}

fn send_unix(fd: RawFd, path: &std::path::Path, b: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: zeroed sockaddr_un is valid.
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let p = path.as_os_str().as_bytes();
    if p.len() >= sun.sun_path.len() {
        return false;
    }
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in sun.sun_path.iter_mut().zip(p) {
        *d = *s as libc::c_char;
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + p.len() + 1) as libc::socklen_t;
    send_dgram(fd, b, &sun as *const _ as *const libc::sockaddr, len)
}

/// One non-blocking datagram to `addr`; false if the kernel refused it.
fn send_dgram(fd: RawFd, b: &[u8], addr: *const libc::sockaddr, len: libc::socklen_t) -> bool {
    // SAFETY: `b` is readable for its length and `addr` points to a live
    // sockaddr of `len` bytes owned by the caller.
    unsafe {
        libc::sendto(
            fd,
            b.as_ptr() as *const libc::c_void,
            b.len(),
            libc::MSG_DONTWAIT,
            addr,
            len,
        ) >= 0
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
        let s = format_connect("1.2.3.4:5".parse().ok(), "127.0.0.1:80".parse().ok(), "fe");
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
