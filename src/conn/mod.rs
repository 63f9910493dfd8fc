//! Connections: a socket (ctrl layer) carrying a data layer (xprt).
//!
//! A `Connection` knows its fd, its addresses, its flags and its owner. The
//! data layer moves bytes between the socket and a buffer or a pipe
//! (`raw_sock`). Flags follow HAProxy's `CO_FL_*`: the layer that sets each
//! family is noted beside it. Shutdowns are recorded at two levels, data
//! (xprt) and sock (ctrl), and per direction, so that an asynchronous step can
//! be finished later.
//!
//! ```text
//!   outgoing: connect() -> WAIT_L4_CONN --writable/SO_ERROR=0--> established
//!                                       \--error/timeout--> ERROR
//!   incoming: accept() -> [handshake handlers: ACCEPT_PROXY...] -> stream
//! ```

pub mod proxy_hdr;
pub mod raw_sock;
pub mod sock;

use bitflags::bitflags;
use std::net::SocketAddr;
use std::os::fd::RawFd;

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
        // asked by the upper layer (not yet done)
        /// A write shutdown was asked and waits for pending data.
        const SHW_ASKED    = 0x0000_0200;
        /// A read shutdown was asked (delayed abort: drain until close).
        const SHR_ASKED    = 0x0000_0400;
        // handshake handlers still to run on an incoming connection
        /// Waiting for a PROXY protocol header.
        const ACCEPT_PROXY = 0x0001_0000;
        /// Must send a PROXY protocol header first.
        const SEND_PROXY   = 0x0002_0000;
        /// The connection was accepted (incoming side).
        const ACCEPTED     = 0x0010_0000;
        /// The last recv() filled the whole room offered: more may be pending.
        const RCV_FULL     = 0x0020_0000;
    }
}

impl CoFlags {
    /// Handshake handlers that must complete before data flows.
    pub const HANDSHAKE: CoFlags = CoFlags::ACCEPT_PROXY.union(CoFlags::SEND_PROXY);
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
    /// Not attached yet (handshake running on an accepted connection).
    Pending { listener: usize },
    /// One side of a stream.
    Stream { sid: usize, side: Side },
    /// A health check.
    Check { px: usize, srv: usize },
}

/// The data layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Xprt {
    /// Plain socket I/O, splice allowed.
    Raw,
}

/// A connection.
#[derive(Debug)]
pub struct Connection {
    pub fd: RawFd,
    pub flags: CoFlags,
    pub xprt: Xprt,
    pub owner: ConnOwner,
    /// Peer address (client for incoming, server for outgoing).
    pub peer: Option<SocketAddr>,
    /// Local address.
    pub local: Option<SocketAddr>,
    /// Last errno seen by a data layer (0 = none).
    pub errno: i32,
    /// Accept date (wall clock), for error logs before a stream exists.
    pub accept_date: (i64, u32),
    /// Timer of a pending handshake (HH_ACCEPT_PROXY).
    pub hs_task: Option<usize>,
    /// Bytes to send before any data (HH_SEND_PROXY header).
    pub out_hdr: Option<Vec<u8>>,
}

impl Connection {
    /// A connection over `fd` for `owner`.
    pub fn new(fd: RawFd, owner: ConnOwner) -> Self {
        Connection {
            fd,
            flags: CoFlags::empty(),
            xprt: Xprt::Raw,
            owner,
            peer: None,
            local: None,
            errno: 0,
            accept_date: (0, 0),
            hs_task: None,
            out_hdr: None,
        }
    }

    /// True when splice(2) may be used on this connection's data layer.
    #[inline]
    pub fn can_splice(&self) -> bool {
        self.xprt == Xprt::Raw
    }
}
