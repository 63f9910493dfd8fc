//! Listeners: bound sockets that accept connections for a frontend.
//!
//! A listener is READY (accepting), FULL (paused because its own, its
//! frontend's or the global `maxconn` is reached; resumed when a connection
//! ends) or PAUSED (SIGTTOU, soft-stop). Accepting is bounded per loop turn by
//! `tune.maxaccept` so that one busy listener cannot starve the others.

use crate::cfg::units::BindAddr;
use crate::conn::sock;
use std::net::SocketAddr;
use std::os::fd::RawFd;

pub mod xfer;

/// Listener state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiState {
    Ready,
    /// Paused on a maxconn limit.
    Full,
    /// Paused by a signal or by soft-stop.
    Paused,
    /// Closed.
    Closed,
}

/// Where a listener's socket lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiAddr {
    Tcp(SocketAddr),
    Unix(std::path::PathBuf),
    Fd(i32),
}

impl std::fmt::Display for LiAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiAddr::Tcp(a) => write!(f, "{a}"),
            LiAddr::Unix(p) => write!(f, "{}", p.display()),
            LiAddr::Fd(n) => write!(f, "fd@{n}"),
        }
    }
}

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiKind {
    /// A frontend: connections become streams.
    Proxy,
    /// A stats socket at this level.
    Cli(crate::cfg::model::CliLevel),
    /// A worker's end of the master's socketpair: connections arrive as
    /// fds (SCM_RIGHTS), each a CLI session at this level.
    SockPair(crate::cfg::model::CliLevel),
    /// A master CLI socket (`-S`) at this level.
    MasterCli(crate::cfg::model::CliLevel),
}

impl LiKind {
    /// True for the kinds whose connections are CLI sessions, not traffic.
    pub fn is_cli(self) -> bool {
        !matches!(self, LiKind::Proxy)
    }
}

/// A bound socket.
#[derive(Debug)]
pub struct Listener {
    pub fd: RawFd,
    pub addr: LiAddr,
    /// Frontend index (unused for stats sockets).
    pub fe: usize,
    /// What accepted connections become.
    pub kind: LiKind,
    pub name: Option<String>,
    pub maxconn: u32,
    /// listen() backlog, kept to listen again after a pause.
    pub backlog: i32,
    /// `accept-proxy`: a PROXY protocol header comes first.
    pub accept_proxy: bool,
    /// `ssl`: the TLS state's index in `ssl::reg`.
    pub tls: Option<usize>,
    /// Rank of the bind line in its frontend (1-based): its name in logs
    /// when it has no `name`.
    pub bind_id: usize,
    pub nbconn: u32,
    pub state: LiState,
    /// Config place, for messages.
    pub place: (String, usize),
    /// `expose-fd listeners`: `_getsocks` may hand out the listeners.
    pub expose_fd: bool,
}

impl Listener {
    /// A ready listener on `fd` with no option set.
    pub fn new(fd: RawFd, addr: LiAddr, fe: usize, kind: LiKind) -> Self {
        Listener {
            fd,
            addr,
            fe,
            kind,
            name: None,
            maxconn: 0,
            backlog: 1024,
            accept_proxy: false,
            tls: None,
            bind_id: 0,
            nbconn: 0,
            state: LiState::Ready,
            place: (String::new(), 0),
            expose_fd: false,
        }
    }
}

/// One address to bind, expanded from a `bind` line (port ranges give one
/// listener per port).
pub fn expand(addr: &BindAddr) -> Vec<LiAddr> {
    match addr {
        BindAddr::Inet { ip, ports } => ports
            .clone()
            .map(|p| LiAddr::Tcp(SocketAddr::new(*ip, p)))
            .collect(),
        BindAddr::Unix(p) => vec![LiAddr::Unix(p.clone())],
        BindAddr::Fd(n) => vec![LiAddr::Fd(*n)],
    }
}

/// Binds `addr`. Returns the listening fd.
pub fn bind(addr: &LiAddr, backlog: i32, reuseport: bool, v6only: bool) -> std::io::Result<RawFd> {
    match addr {
        LiAddr::Tcp(a) => sock::tcp_listen(a, backlog, reuseport, v6only),
        LiAddr::Unix(p) => sock::unix_listen(p, backlog, None),
        LiAddr::Fd(n) => {
            // An inherited socket: make sure it is non-blocking and listening.
            let fd = *n;
            // SAFETY: fcntl on an fd number given by the user; errors are reported.
            let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            if fl < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: same fd, setting O_NONBLOCK.
            unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) };
            // SAFETY: plain listen on the inherited socket.
            unsafe { libc::listen(fd, backlog) };
            Ok(fd)
        }
    }
}
