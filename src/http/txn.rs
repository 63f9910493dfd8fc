//! The HTTP transaction of a stream: one request and its response, and what
//! the analysers remember about them between wake-ups.
//!
//! A stream in an HTTP proxy carries one `HttpTxn`, reset (not reallocated)
//! for each request of a keep-alive connection. Each direction has an
//! `HttpMsg` whose state says where the analysers are in the message:
//!
//! ```text
//!   Head --complete head--> Body (length) ------------------> Done
//!    |                   \-> ChunkSize <-> ChunkData/ChunkCrlf -> Trailers -> Done
//!    |                   \-> UntilClose (response only) --read0--> Done
//!    |                   \-> Tunnel (101, CONNECT 2xx: bytes both ways until close)
//!    \--parse error / timeout--> Error
//! ```
//!
//! Header positions are not kept: the analysers parse the head once, act
//! on it, then forward it; only the body framing and the log fields stay.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::parse::{Framing, Method, MsgFlags};
use bitflags::bitflags;

/// Where the analysers are in one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MsgState {
    /// Waiting for (or parsing) the start line and headers.
    #[default]
    Head,
    /// Body of known length: `left` bytes still to schedule.
    Body,
    /// Before a chunk-size line.
    ChunkSize,
    /// Inside chunk data: `left` bytes still to schedule.
    ChunkData,
    /// The CRLF after chunk data.
    ChunkCrlf,
    /// Trailer fields after the last chunk.
    Trailers,
    /// Body delimited by the server closing (response only).
    UntilClose,
    /// The whole message was scheduled for forwarding.
    Done,
    /// Both directions carry opaque bytes until close (101, CONNECT).
    Tunnel,
    /// The message was rejected; an error reply (if any) is on its way.
    Error,
}

/// One direction's message.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpMsg {
    pub state: MsgState,
    /// Input bytes already scanned for the end of the head.
    pub scanned: usize,
    pub framing: Option<Framing>,
    pub flags: MsgFlags,
    /// Body bytes (or current chunk bytes) still to schedule.
    pub left: u64,
    /// Bytes of the head (start line, headers, empty line) as forwarded.
    pub head_len: usize,
    /// Chunk framing as received (size lines, CRLFs, last chunk,
    /// trailers), and what HAProxy 2.6 counts for it in its byte counters
    /// (1 for the end of the message, plus each trailer's name and value).
    pub chunk_wire: u64,
    pub chunk_htx: u64,
}

impl HttpMsg {
    /// True once the whole message was scheduled (or turned into a tunnel).
    pub fn finished(&self) -> bool {
        matches!(self.state, MsgState::Done | MsgState::Tunnel)
    }
}

bitflags! {
    /// Transaction flags (HAProxy's TX_*).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct TxnFlags: u32 {
        /// The client connection closes after this transaction.
        const CLI_CLOSE   = 0x0001;
        /// The server connection closes after this transaction.
        const SRV_CLOSE   = 0x0002;
        /// The proxy produced the response (error, redirect, return).
        const REPLIED     = 0x0004;
        /// Not the first request of the connection (keep-alive).
        const NOT_FIRST   = 0x0008;
        /// The request head was forwarded to the server.
        const REQ_SENT    = 0x0010;
        /// The response head was parsed (status known).
        const RES_HEAD    = 0x0020;
        /// `http-request deny` / `tarpit` counted this request as denied.
        const DENIED      = 0x0040;
        /// A keep-alive transaction waits for its first request byte.
        const IDLE        = 0x0080;
        /// The transaction's log line was emitted (or not wanted).
        const LOGGED      = 0x0100;
        /// `strict-mode off`: a rewrite that fails is skipped, not an error.
        const LAX_REWRITE = 0x0200;
        /// The response ended before the request: the transaction ends
        /// (and logs) with the request, as in 2.6.
        const RES_DONE    = 0x0400;
    }
}

/// Timers of one transaction for the logs, in absolute ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct TxnTimes {
    /// Start of the idle wait before this request (accept or end of the
    /// previous transaction).
    pub idle_start: u64,
    /// First byte of the request seen.
    pub req_start: Option<u64>,
    /// Complete request head received.
    pub req_head: Option<u64>,
    /// Request head handed to the server side.
    pub req_sent: Option<u64>,
    /// Complete response head received.
    pub res_head: Option<u64>,
    /// Wall-clock date of the request's start (`%tr`).
    pub req_date: (i64, u32),
}

/// A stream's HTTP transaction.
#[derive(Debug, Default)]
pub struct HttpTxn {
    pub req: HttpMsg,
    pub res: HttpMsg,
    pub flags: TxnFlags,
    pub meth: Option<Method>,
    /// Response status (from the server, or the one the proxy replied).
    pub status: u16,
    /// The request line as logged (`%r`), kept across requests so that
    /// its capacity is allocated once per connection, only when logging.
    pub uri: Vec<u8>,
    /// The request's unique id (`unique-id-format`), empty when none.
    pub unique_id: Vec<u8>,
    /// `set-log-level`: Some(None) is `silent`, Some(Some(l)) a level.
    pub log_level: Option<Option<u8>>,
    /// `set-timeout server` / `set-timeout tunnel` (ms).
    pub timeout_server: Option<u32>,
    pub timeout_tunnel: Option<u32>,
    /// Captured request and response header values (`capture request /
    /// response header`), in declaration order.
    pub req_caps: Vec<Option<Vec<u8>>>,
    pub res_caps: Vec<Option<Vec<u8>>>,
    /// `capture cookie`: the request's and the response's (`%CC`, `%CS`;
    /// empty: none).
    pub req_cookie: Vec<u8>,
    pub res_cookie: Vec<u8>,
    pub times: TxnTimes,
    /// Response bytes delivered for this transaction's earlier ones (the
    /// response channel counts the whole connection).
    pub res_base: u64,
    /// Request bytes of the earlier transactions.
    pub req_base: u64,
    /// The response head as received (bytes) and as HAProxy 2.6 counts it
    /// in `%B` (its internal message size, see `htx_head_size`).
    pub res_head_wire: u64,
    pub res_head_htx: u64,
    /// The status a tarpitted request is answered with.
    pub tarpit_status: u16,
}

impl HttpTxn {
    /// Resets for the next request of a keep-alive connection, keeping the
    /// capture areas (no allocation per request).
    pub fn reset(&mut self, now_abs: u64) {
        self.req = HttpMsg::default();
        self.res = HttpMsg::default();
        self.flags = TxnFlags::NOT_FIRST | TxnFlags::IDLE;
        self.meth = None;
        self.status = 0;
        self.uri.clear();
        self.unique_id.clear();
        self.log_level = None;
        self.timeout_server = None;
        self.timeout_tunnel = None;
        for c in self.req_caps.iter_mut().chain(self.res_caps.iter_mut()) {
            if let Some(v) = c.as_mut() {
                v.clear();
            }
            *c = None;
        }
        self.req_cookie.clear();
        self.res_cookie.clear();
        self.res_head_wire = 0;
        self.res_head_htx = 0;
        self.times = TxnTimes {
            idle_start: now_abs,
            ..Default::default()
        };
    }
}
