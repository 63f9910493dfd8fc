//! Connections: a socket (ctrl layer) carrying a data layer (xprt).
//!
//! A `Connection` knows its fd, its addresses, its flags, the handshake
//! handlers it still has to run, and its owner. Everything above reaches the
//! socket through it:
//!
//! - data: `rcv_buf` / `snd_buf` / `rcv_pipe` / `snd_pipe` dispatch on the
//!   xprt (`raw_sock` today; `ssl_sock` plugs in beside it) and return an
//!   [`Xfer`]: the bytes moved and why it stopped (room used up, would block
//!   on read, would block on write, read0, error). The connection turns that
//!   into poller verbs and `CO_FL_*` flags itself, so no upper layer touches
//!   the fd table.
//! - readiness: `want_recv` / `stop_recv` / `want_send` / `stop_send` are the
//!   poller's verbs applied to this connection's fd.
//! - shutdowns: `shutw` = data shutw then ctrl shutw, recorded as *asked* and
//!   *done* per layer so that a data layer that cannot finish at once (a TLS
//!   close_notify that would block) completes later; `close` = data close,
//!   ctrl close, fd close.
//! - handshakes (`handshake.rs`): the chain of handlers that runs before a
//!   stream exists (client side) or before data flows (server side).
//!
//! Flags follow HAProxy's `CO_FL_*`: the layer that sets each family is
//! noted beside it.
//!
//! ```text
//!   outgoing: connect() -> WAIT_L4_CONN --writable, no error--> [HH_SEND_PROXY] -> data
//!                                       \--error/timeout--> ERROR
//!   incoming: accept() -> [HH_ACCEPT_PROXY] -> stream
//! ```

pub mod crc32c;
pub mod handshake;
pub mod proxy_hdr;
pub mod proxy_send;
pub mod raw_sock;
pub mod sock;
mod ssl_bio;
pub mod ssl_sock;

use crate::buf::Buffer;
use crate::buf::pipe::Pipe;
use crate::fd::FdTab;
use bitflags::bitflags;
use std::net::SocketAddr;
use std::os::fd::RawFd;

pub use handshake::{HsErr, HsFlags};

pub use crate::arena::ConnId;

bitflags! {
    /// Connection status flags (HAProxy's CO_FL_*).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct CoFlags: u32 {
        // set by the ctrl layer on connect(), cleared once writable
        /// L4 (TCP) connection not yet confirmed.
        const WAIT_L4_CONN = 0x0000_0001;
        /// L6 (TLS) handshake not finished.
        const WAIT_L6_CONN = 0x0000_0002;
        // set by data layers on I/O
        /// A fatal error was seen; nothing more may be done but close.
        const ERROR        = 0x0000_0010;
        /// Read0 was received (peer sent FIN).
        const SOCK_RD_SH   = 0x0000_0020;
        /// shutdown(SHUT_WR) was done on the socket.
        const SOCK_WR_SH   = 0x0000_0040;
        /// The data layer will not read any more.
        const DATA_RD_SH   = 0x0000_0080;
        /// The data layer will not write any more.
        const DATA_WR_SH   = 0x0000_0100;
        // asked by the upper layer (done bits above say when it happened)
        /// A write shutdown was asked (finished by `shutw`, or later when
        /// the data layer could not complete it at once).
        const SHW_ASKED    = 0x0000_0200;
        /// A read shutdown was asked.
        const SHR_ASKED    = 0x0000_0400;
        // set by the ctrl layer on outgoing connections
        /// TCP_NODELAY is still to be set, before the first send Nagle's
        /// algorithm could hold back (see `snd_buf`).
        const NODELAY_LATE = 0x0000_1000;
        /// Some data was sent on this connection.
        const SENT         = 0x0000_2000;
        /// Closing must reset (HAProxy's `FD_LINGER_RISK`): set on server
        /// connections at connect(), cleared by read0. A server connection
        /// closed before its server closed leaves no TIME_WAIT behind.
        const LINGER_RISK  = 0x0000_4000;
        /// A server connection that served an HTTP transaction ...
        const HTTP_USED    = 0x0000_8000;
        /// ... and another one after it: "reused at least once", which
        /// `http-reuse aggressive` asks of a first request's connection.
        const HTTP_REUSED  = 0x0001_0000;
    }
}

/// Which side of a stream a connection serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Client side (stream interface 0).
    Front = 0,
    /// Server side (stream interface 1).
    Back = 1,
}

impl Side {
    /// The other side.
    #[inline]
    pub fn other(self) -> Side {
        match self {
            Side::Front => Side::Back,
            Side::Back => Side::Front,
        }
    }
    /// Index into `[front, back]` arrays.
    #[inline]
    pub fn idx(self) -> usize {
        self as usize
    }
}

/// Who owns a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnOwner {
    /// Accepted by this listener, handshake handlers still running: no
    /// stream yet (HAProxy's embryonic session).
    Listener(usize),
    /// One side of a stream.
    Stream {
        sid: crate::arena::StreamId,
        side: Side,
    },
    /// A health check.
    Check { px: usize, srv: usize },
    /// An idle HTTP server connection in its server's pool
    /// (`stream::reuse`).
    Idle { px: usize, srv: usize },
    /// A keep-alive HTTP client between two requests: no stream until its
    /// next request starts (`engine::keepalive`). `li` its listener,
    /// `since` when its previous transaction ended (monotonic ms: the next
    /// one's idle time, `%Ti`, counts from there).
    KeepAlive { li: usize, since: u64 },
}

/// The data layer.
#[derive(Debug)]
pub enum Xprt {
    /// Plain socket I/O, splice allowed.
    Raw,
    /// Through a TLS session (`ssl_sock`); no splice.
    Ssl(Box<ssl_sock::SslSock>),
}

/// Why a data-layer call stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Moved everything asked or all the room there was; more may follow.
    /// (For a send: everything was sent.)
    Progress,
    /// Would block on read: the socket has nothing more for now (EAGAIN or
    /// a short read).
    BlockedRead,
    /// Would block on write: the socket takes nothing more for now (EAGAIN
    /// or a short write). A data layer may also report it for a read that
    /// needs a write first (TLS).
    BlockedWrite,
    /// Splicing stopped because the pipe is full while the socket has more.
    PipeFull,
    /// The peer shut its write side.
    Read0,
    /// A fatal errno.
    Error(i32),
}

/// What a data-layer call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xfer {
    /// Bytes moved.
    pub n: usize,
    pub stop: Stop,
}

/// The largest send that always fits in one TCP segment (the minimum MSS,
/// RFC 1122): with nothing in flight, Nagle's algorithm never holds it.
const SMALL_SEND: usize = 536;

/// Socket buffer sizes from `global` (`tune.rcvbuf.*`, `tune.sndbuf.*`;
/// 0 = the kernel's default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SockTune {
    pub rcvbuf_client: usize,
    pub rcvbuf_server: usize,
    pub sndbuf_client: usize,
    pub sndbuf_server: usize,
}

/// Everything a socket operation needs: the poller, the connections, and
/// the buffer and pipe pools. Handlers borrow it whole instead of the
/// engine, so that the stream, applet and check layers can be driven with
/// just these arenas.
pub struct IoCtx {
    pub fds: FdTab,
    pub conns: crate::arena::Arena<ConnId, Connection>,
    pub bufs: crate::buf::BufPool,
    pub pipes: crate::buf::pipe::PipePool,
    /// Bytes a pipe may hold before the producer pauses (`tune.pipesize`).
    pub pipe_room: usize,
    /// Splicing allowed at all (`-dS`, `nosplice`).
    pub splice_enabled: bool,
    /// Room kept free in a buffer under analysis (`tune.maxrewrite`).
    pub maxrewrite: usize,
    /// Bytes spliced out so far (`show info` TotalSplicedBytesOut).
    pub spliced_total: u64,
    /// Socket buffer sizes for new connections.
    pub tune: SockTune,
    /// TLS sessions of client connections closed while their stream lives
    /// on: its log may still fetch from them (`ssl_fc_*`). Dropped with
    /// the stream.
    pub closed_tls: Vec<(crate::arena::StreamId, Box<ssl_sock::SslSock>)>,
}

impl IoCtx {
    /// An I/O context with a new poller and empty pools.
    pub fn new(
        bufsize: usize,
        maxrewrite: usize,
        maxpipes: usize,
        pipesize: usize,
        splice_enabled: bool,
    ) -> std::io::Result<Self> {
        Ok(IoCtx {
            fds: FdTab::new()?,
            conns: crate::arena::Arena::with_capacity(1024),
            bufs: crate::buf::BufPool::new(bufsize, 4096),
            pipes: crate::buf::pipe::PipePool::new(maxpipes, pipesize),
            pipe_room: pipesize,
            splice_enabled,
            maxrewrite,
            spliced_total: 0,
            tune: SockTune::default(),
            closed_tls: Vec::new(),
        })
    }

    /// Registers `conn` (its fd must be open and non-blocking) with the
    /// poller. `hear_writable`: report writability from the start (an
    /// outgoing connection learns its connect result so); otherwise it is
    /// asked for the first time a send blocks. On failure the connection is
    /// closed and the errno returned.
    pub fn conn_insert(&mut self, conn: Connection, hear_writable: bool) -> Result<ConnId, i32> {
        let fd = conn.fd;
        let cid = self.conns.insert(conn);
        let owner = crate::fd::FdOwner::Conn(cid);
        let r = if hear_writable {
            self.fds.insert(fd, owner)
        } else {
            self.fds.insert_muted_w(fd, owner)
        };
        match r {
            Ok(()) => Ok(cid),
            Err(e) => {
                if let Some(c) = self.conns.remove(cid) {
                    sock::close(c.fd);
                }
                Err(e.raw_os_error().unwrap_or(libc::EMFILE))
            }
        }
    }

    /// Closes and frees connection `cid` (see [`Connection::close`]).
    pub fn conn_free(&mut self, cid: ConnId, linger0: bool) {
        if let Some(c) = self.conns.remove(cid) {
            let owner = c.owner;
            let ssl = c.close_keep_ssl(&mut self.fds, linger0);
            if let (
                Some(ssl),
                ConnOwner::Stream {
                    sid,
                    side: Side::Front,
                },
            ) = (ssl, owner)
            {
                self.closed_tls.push((sid, ssl));
            }
        }
    }

    /// The TLS layer of stream `sid`'s client connection, live or closed.
    pub fn front_ssl(
        &self,
        sid: crate::arena::StreamId,
        cid: Option<ConnId>,
    ) -> Option<&ssl_sock::SslSock> {
        if let Some(s) = cid
            .and_then(|c| self.conns.get(c))
            .and_then(|c| c.ssl_sock())
        {
            return Some(s);
        }
        self.closed_tls
            .iter()
            .find(|(s, _)| *s == sid)
            .map(|(_, t)| &**t)
    }

    /// Forgets the closed sessions kept for stream `sid` (it is freed).
    pub fn forget_closed_tls(&mut self, sid: crate::arena::StreamId) {
        if !self.closed_tls.is_empty() {
            self.closed_tls.retain(|(s, _)| *s != sid);
        }
    }
}

/// A connection.
#[derive(Debug)]
pub struct Connection {
    pub fd: RawFd,
    pub flags: CoFlags,
    pub xprt: Xprt,
    /// Handshake handlers still to run (`handshake.rs`).
    pub hs: HsFlags,
    pub owner: ConnOwner,
    /// Peer address (client for incoming, server for outgoing).
    pub peer: Option<SocketAddr>,
    /// Local address.
    pub local: Option<SocketAddr>,
    /// Last errno seen by a layer (0 = none).
    pub errno: i32,
    /// Why a handshake failed (for the connection error log line).
    pub err_code: Option<HsErr>,
    /// Accept date (wall clock), for error logs before a stream exists.
    pub accept_date: (i64, u32),
    /// Timer bounding the handshakes of an incoming connection.
    pub hs_task: Option<crate::task::TaskId>,
    /// Bytes HH_SEND_PROXY still has to send before any data.
    pub out_hdr: Option<Vec<u8>>,
    /// The PROXY header HH_ACCEPT_PROXY received (`CO_FL_RCVD_PROXY`), with its TLVs.
    pub pp: Option<proxy_hdr::PpRcvd>,
    /// Held while a stream uses this server connection (purge figures).
    pub in_use: Option<crate::stream::reuse::InUse>,
}

impl Connection {
    /// A connection over `fd` for `owner`, raw data layer, no handshake.
    pub fn new(fd: RawFd, owner: ConnOwner) -> Self {
        Connection {
            fd,
            flags: CoFlags::empty(),
            xprt: Xprt::Raw,
            hs: HsFlags::empty(),
            owner,
            peer: None,
            local: None,
            errno: 0,
            err_code: None,
            accept_date: (0, 0),
            hs_task: None,
            out_hdr: None,
            pp: None,
            in_use: None,
        }
    }

    /// True when splice(2) may be used on this connection's data layer.
    #[inline]
    pub fn can_splice(&self) -> bool {
        matches!(self.xprt, Xprt::Raw)
    }

    /// The TLS session, when the data layer is TLS.
    #[inline]
    pub fn ssl(&self) -> Option<&openssl::ssl::SslRef> {
        self.ssl_sock().map(|s| s.ssl())
    }

    /// The TLS data layer, when it is TLS.
    #[inline]
    pub fn ssl_sock(&self) -> Option<&ssl_sock::SslSock> {
        match &self.xprt {
            Xprt::Ssl(s) => Some(s),
            Xprt::Raw => None,
        }
    }

    /// A TLS read is waiting for the socket to be writable.
    #[inline]
    pub fn read_waits_write(&self) -> bool {
        self.ssl_sock().is_some_and(|s| s.read_wants_write)
    }

    /// Puts a TLS session over this connection's socket: the TLS
    /// handshake (HH_SSL_HS) runs before data flows.
    pub fn set_ssl(&mut self, ssl: openssl::ssl::Ssl, accept: bool, maxrecord: usize) -> bool {
        match ssl_sock::SslSock::new(ssl, self.fd, accept, maxrecord) {
            Ok(s) => {
                self.xprt = Xprt::Ssl(Box::new(s));
                self.hs.insert(HsFlags::SSL_HS);
                self.flags.insert(CoFlags::WAIT_L6_CONN);
                true
            }
            Err(_) => false,
        }
    }

    /// True once data may flow: connected and no handshake left.
    #[inline]
    pub fn ready_for_data(&self) -> bool {
        self.hs.is_empty()
            && !self
                .flags
                .intersects(CoFlags::WAIT_L4_CONN | CoFlags::ERROR)
    }

    // ---- readiness: the poller's verbs on this connection's fd ----

    /// Be called when the socket can be read.
    #[inline]
    pub fn want_recv(&self, fds: &mut FdTab) {
        fds.want_recv(self.fd);
    }

    /// Stop being called for reads.
    #[inline]
    pub fn stop_recv(&self, fds: &mut FdTab) {
        fds.stop_recv(self.fd);
    }

    /// Be called when the socket can be written.
    #[inline]
    pub fn want_send(&self, fds: &mut FdTab) {
        fds.want_send(self.fd);
    }

    /// Stop being called for writes.
    #[inline]
    pub fn stop_send(&self, fds: &mut FdTab) {
        fds.stop_send(self.fd);
    }

    /// Stop being called at all (an error: only a close remains).
    #[inline]
    pub fn stop_both(&self, fds: &mut FdTab) {
        fds.stop_recv(self.fd);
        fds.stop_send(self.fd);
    }

    /// Records a fatal error: nothing more is polled, only a close remains.
    pub fn set_error(&mut self, fds: &mut FdTab, errno: i32) {
        self.flags.insert(CoFlags::ERROR);
        self.errno = errno;
        self.stop_both(fds);
    }

    // ---- data layer ----

    /// Receives into `buf`'s free area (as input), at most `max` bytes.
    pub fn rcv_buf(&mut self, fds: &mut FdTab, buf: &mut Buffer, max: usize) -> Xfer {
        let x = match &mut self.xprt {
            Xprt::Raw => raw_sock::rcv_buf(self.fd, buf, max),
            Xprt::Ssl(s) => s.rcv_buf(buf, max),
        };
        self.after_rcv(fds, x)
    }

    /// Splices from the socket into `pipe`, at most `max` bytes.
    pub fn rcv_pipe(&mut self, fds: &mut FdTab, pipe: &mut Pipe, max: usize) -> Xfer {
        let x = match self.xprt {
            Xprt::Raw => raw_sock::rcv_pipe(self.fd, pipe, max),
            // Never asked (`can_splice`); as a read that found nothing.
            Xprt::Ssl(_) => Xfer {
                n: 0,
                stop: Stop::BlockedRead,
            },
        };
        self.after_rcv(fds, x)
    }

    /// Sends `buf`'s output bytes (consuming what went out). `more`: more
    /// data or a shutdown follows at once, so the last segment may wait for
    /// it (MSG_MORE): data and FIN then share a segment.
    pub fn snd_buf(&mut self, fds: &mut FdTab, buf: &mut Buffer, more: bool) -> Xfer {
        self.nodelay_before_send(buf.output());
        let x = match &mut self.xprt {
            Xprt::Raw => raw_sock::snd_buf(self.fd, buf, more),
            Xprt::Ssl(s) => s.snd_buf(buf),
        };
        self.after_snd(fds, x)
    }

    /// Splices `pipe`'s bytes to the socket.
    pub fn snd_pipe(&mut self, fds: &mut FdTab, pipe: &mut Pipe) -> Xfer {
        self.nodelay_before_send(pipe.data);
        let x = match self.xprt {
            Xprt::Raw => raw_sock::snd_pipe(self.fd, pipe),
            Xprt::Ssl(_) => Xfer {
                n: 0,
                stop: Stop::Progress,
            },
        };
        self.after_snd(fds, x)
    }

    /// Readiness and flags after a receive. A drained socket whose peer's
    /// shutdown was already reported (EPOLLRDHUP) is a read0: the next read
    /// would return 0, so it is taken now and the syscall saved.
    fn after_rcv(&mut self, fds: &mut FdTab, mut x: Xfer) -> Xfer {
        match x.stop {
            // Not after an error report (a reset also sets RDHUP): the next
            // read returns the errno, which must not pass for a clean close.
            Stop::BlockedRead if fds.rdhup(self.fd) && !fds.err(self.fd) => {
                x.stop = Stop::Read0;
                self.read0(fds);
            }
            Stop::BlockedRead => fds.cant_recv(self.fd),
            // A TLS read that must write first: no read until writable
            // (`read_waits_write` makes that writability retry the read).
            Stop::BlockedWrite => {
                fds.cant_recv(self.fd);
                fds.want_send(self.fd);
            }
            Stop::Read0 => self.read0(fds),
            Stop::Error(e) => self.set_error(fds, e),
            Stop::Progress | Stop::PipeFull => {}
        }
        x
    }

    fn read0(&mut self, fds: &mut FdTab) {
        // The peer closed first: the TIME_WAIT is its own, a FIN will do.
        self.flags.remove(CoFlags::LINGER_RISK);
        self.flags.insert(CoFlags::SOCK_RD_SH);
        fds.stop_recv(self.fd);
    }

    /// TCP_NODELAY is set on outgoing connections as HAProxy does, but only
    /// right before the first send Nagle's algorithm could delay: a first
    /// send that fits in the smallest segment goes out at once anyway
    /// (nothing is in flight yet). A request/response connection then
    /// never needs the setsockopt().
    #[inline]
    fn nodelay_before_send(&mut self, len: usize) {
        if self.flags.contains(CoFlags::NODELAY_LATE)
            && (self.flags.contains(CoFlags::SENT) || len > SMALL_SEND)
        {
            self.flags.remove(CoFlags::NODELAY_LATE);
            let _ = sock::setsockopt_int(self.fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
        }
    }

    /// Readiness and flags after a send.
    fn after_snd(&mut self, fds: &mut FdTab, x: Xfer) -> Xfer {
        if x.n > 0 {
            self.flags.insert(CoFlags::SENT);
        }
        match x.stop {
            Stop::BlockedWrite => {
                fds.cant_send(self.fd);
                fds.want_send(self.fd);
            }
            Stop::BlockedRead => fds.want_recv(self.fd),
            Stop::Error(e) => self.set_error(fds, e),
            Stop::Progress | Stop::PipeFull | Stop::Read0 => {}
        }
        x
    }

    // ---- connection set-up and shutdowns ----

    /// An outgoing connect reported activity: learns its result. SO_ERROR is
    /// asked only when the poller reported an error; writable without error
    /// means connected. Clears `WAIT_L4_CONN` or sets `ERROR`; returns true
    /// when connected.
    pub fn check_connected(&mut self, fds: &mut FdTab) -> bool {
        if !self.flags.contains(CoFlags::WAIT_L4_CONN) {
            return !self.flags.contains(CoFlags::ERROR);
        }
        let polled_err = fds
            .get(self.fd)
            .is_none_or(|e| e.state.contains(crate::fd::FdState::ERR));
        let err = if polled_err {
            sock::so_error(self.fd)
        } else {
            0
        };
        if err == 0 {
            self.flags.remove(CoFlags::WAIT_L4_CONN);
            // Writability was only wanted for the result; the first send is
            // speculative and asks again if the socket is full.
            fds.stop_send(self.fd);
            true
        } else {
            self.set_error(fds, err);
            false
        }
    }

    /// Shuts the write side: data layer first (a TLS close_notify), then
    /// the socket (FIN). Asked and done bits are recorded so that a data
    /// layer that would block finishes later (`finish_shutw`).
    pub fn shutw(&mut self, fds: &mut FdTab) {
        self.flags.insert(CoFlags::SHW_ASKED);
        if !self.flags.contains(CoFlags::DATA_WR_SH) {
            let done = match &mut self.xprt {
                Xprt::Raw => true,
                // No close_notify before the handshake completed or after
                // an error: there is no session to close.
                Xprt::Ssl(_) if !self.hs.is_empty() || self.flags.contains(CoFlags::ERROR) => true,
                Xprt::Ssl(s) => s.shutw(),
            };
            if !done {
                fds.cant_send(self.fd);
                fds.want_send(self.fd);
                return;
            }
            self.flags.insert(CoFlags::DATA_WR_SH);
        }
        if self.flags.contains(CoFlags::DATA_WR_SH) && !self.flags.contains(CoFlags::SOCK_WR_SH) {
            self.flags.insert(CoFlags::SOCK_WR_SH);
            sock::shutdown(self.fd, libc::SHUT_WR);
        }
        fds.stop_send(self.fd);
    }

    /// A write shutdown asked earlier but not finished (the data layer
    /// would have blocked): tries again, now that the socket is writable.
    #[inline]
    pub fn finish_shutw(&mut self, fds: &mut FdTab) {
        if self.flags.contains(CoFlags::SHW_ASKED) && !self.flags.contains(CoFlags::SOCK_WR_SH) {
            self.shutw(fds);
        }
    }

    /// Stops reading: the data layer reads no more; the socket stays open
    /// (a read shutdown is never sent on TCP: the peer would not see it).
    pub fn shutr(&mut self, fds: &mut FdTab) {
        self.flags.insert(CoFlags::SHR_ASKED | CoFlags::DATA_RD_SH);
        fds.stop_recv(self.fd);
    }

    /// Before a clean close (HAProxy's `conn_xprt_shutw`, then
    /// `conn_sock_shutw(conn, clean)`): close_notify on TLS, then
    /// `shutdown(SHUT_WR)` unless the write side is shut already, the peer
    /// shut its side (read0: the close alone sends the FIN), an error ended
    /// the connection, or it is still connecting. A close that leaves input
    /// unread in the socket makes the kernel send a reset; the FIN sent
    /// ahead of it lets the peer read the end of the stream (a clean EOF)
    /// instead of `ECONNRESET`. Sets `SOCK_WR_SH` when it sent the FIN.
    pub fn sock_shutw_clean(&mut self) {
        // close_notify goes before the FIN: after it, it could not be sent.
        self.xprt_shutw_clean();
        let skip =
            CoFlags::SOCK_WR_SH | CoFlags::SOCK_RD_SH | CoFlags::ERROR | CoFlags::WAIT_L4_CONN;
        if !self.flags.intersects(skip) {
            self.flags.insert(CoFlags::SOCK_WR_SH);
            sock::shutdown(self.fd, libc::SHUT_WR);
        }
    }

    /// Before a clean close (HAProxy's `conn_xprt_shutw`): a TLS session
    /// established without error sends close_notify, once and without
    /// waiting (a full socket drops it: the close goes on regardless).
    fn xprt_shutw_clean(&mut self) {
        let skip = CoFlags::DATA_WR_SH | CoFlags::SOCK_WR_SH | CoFlags::ERROR;
        if let Xprt::Ssl(s) = &mut self.xprt
            && self.hs.is_empty()
            && !self.flags.intersects(skip)
        {
            self.flags.insert(CoFlags::DATA_WR_SH);
            let _ = s.shutw();
        }
    }

    /// Closes: data layer, then socket, then fd. `linger0` resets the
    /// connection (SO_LINGER 0) instead of a graceful FIN, unless an error
    /// already ended it.
    pub fn close(self, fds: &mut FdTab, linger0: bool) {
        drop(self.close_keep_ssl(fds, linger0));
    }

    /// As `close`, but hands the TLS session back (its socket closed).
    /// A clean close (not `linger0`) sends close_notify first, as 2.6 does
    /// on every such close (end of stream, `SD`/`sD`, idle keep-alive or
    /// pooled connection); a reset (`nolinger`, `CD` on the server side)
    /// is silent, as `CO_SHW_SILENT`; `LINGER_RISK` resets the socket too.
    pub fn close_keep_ssl(
        mut self,
        fds: &mut FdTab,
        linger0: bool,
    ) -> Option<Box<ssl_sock::SslSock>> {
        if !linger0 {
            self.xprt_shutw_clean();
        }
        // A session that ended without error stays resumable.
        if let Xprt::Ssl(s) = &mut self.xprt
            && !self.flags.contains(CoFlags::ERROR)
        {
            s.keep_session();
        }
        let ssl = match std::mem::replace(&mut self.xprt, Xprt::Raw) {
            Xprt::Ssl(s) => Some(s),
            Xprt::Raw => None,
        };
        fds.remove(self.fd);
        let rst = linger0 || self.flags.contains(CoFlags::LINGER_RISK);
        if rst && !self.flags.contains(CoFlags::ERROR) {
            sock::close_rst(self.fd);
        } else {
            sock::close(self.fd);
        }
        ssl
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Id;
    use crate::fd::FdOwner;
    use crate::fd::sys::socketpair;

    #[test]
    fn receive_results_become_poller_state() {
        let mut fds = FdTab::new().expect("epoll");
        let (a, b) = socketpair();
        fds.insert(a, FdOwner::Conn(ConnId::from_idx(0)))
            .expect("insert");
        let mut c = Connection::new(a, ConnOwner::Check { px: 0, srv: 0 });
        c.want_recv(&mut fds);
        fds.may_recv(a);
        let mut buf = Buffer::new(64);
        // Nothing there: would block on read, readiness cleared.
        let x = c.rcv_buf(&mut fds, &mut buf, 64);
        assert_eq!(
            x,
            Xfer {
                n: 0,
                stop: Stop::BlockedRead
            }
        );
        assert_eq!(fds.pending(a), (false, false));
        // Data then the peer's FIN: bytes, then read0 with reading stopped.
        sock::close(b);
        fds.may_recv(a);
        let x = c.rcv_buf(&mut fds, &mut buf, 64);
        assert_eq!(x.stop, Stop::Read0);
        assert!(c.flags.contains(CoFlags::SOCK_RD_SH));
        assert_eq!(fds.pending(a), (false, false));
        c.close(&mut fds, false);
    }

    #[test]
    fn a_send_that_fills_the_socket_waits_for_writability() {
        let mut fds = FdTab::new().expect("epoll");
        let (a, b) = socketpair();
        fds.insert(a, FdOwner::Conn(ConnId::from_idx(0)))
            .expect("insert");
        let mut c = Connection::new(a, ConnOwner::Check { px: 0, srv: 0 });
        fds.may_send(a);
        let mut total = 0;
        let mut last = Stop::Progress;
        for _ in 0..10_000 {
            let mut buf = Buffer::new(65536);
            buf.put(&[7u8; 65536]);
            buf.advance(65536);
            let x = c.snd_buf(&mut fds, &mut buf, false);
            total += x.n;
            last = x.stop;
            if last != Stop::Progress {
                break;
            }
        }
        assert_eq!(last, Stop::BlockedWrite, "after {total} bytes");
        // want_send set, readiness cleared: the fd waits for the kernel.
        let st = fds.get(a).expect("registered").state;
        assert!(st.contains(crate::fd::FdState::WANT_W));
        assert!(!st.contains(crate::fd::FdState::READY_W));
        c.close(&mut fds, false);
        sock::close(b);
    }

    #[test]
    fn errors_stop_polling_and_stick() {
        let mut fds = FdTab::new().expect("epoll");
        let (a, b) = socketpair();
        fds.insert(a, FdOwner::Conn(ConnId::from_idx(0)))
            .expect("insert");
        let mut c = Connection::new(a, ConnOwner::Check { px: 0, srv: 0 });
        c.want_recv(&mut fds);
        c.want_send(&mut fds);
        sock::close(b);
        let mut buf = Buffer::new(16);
        buf.put(b"x");
        buf.advance(1);
        let x = c.snd_buf(&mut fds, &mut buf, false);
        assert!(matches!(x.stop, Stop::Error(libc::EPIPE)), "{x:?}");
        assert!(c.flags.contains(CoFlags::ERROR));
        assert_eq!(c.errno, libc::EPIPE);
        let st = fds.get(a).expect("registered").state;
        assert!(!st.intersects(crate::fd::FdState::WANT_R | crate::fd::FdState::WANT_W));
        c.close(&mut fds, true);
    }
}
