//! Channels: one direction of a stream (request: client to server, response:
//! server to client), holding the bytes in flight in a buffer or a pipe.
//!
//! A channel's bytes are either *output* (scheduled for forwarding: the
//! consumer sends them without the stream looking) or *input* (waiting for
//! the analysers). `to_forward` says how many future bytes become output as
//! soon as they are read (`FORWARD_INFINITE` in TCP mode once the analysers
//! are done), so the I/O callbacks forward on their own exactly what the
//! analysers allowed and wake the stream for the rest. Pipe bytes are always
//! output: splicing is bounded by `to_forward`.
//!
//! ```text
//!   producer SI --read--> [ input | to_forward ] --advance--> [ output ] --send--> consumer SI
//!                                 ^ analysers (AN_*) look here
//! ```
//!
//! Flags follow HAProxy's `CF_*`. The producer side (the stream interface
//! that reads into the channel) sets the READ/SHUTR family; the consumer side
//! (the one that writes out of it) sets the WRITE/SHUTW family; the stream
//! sets the *_NOW requests and AUTO_CONNECT. A channel is empty when neither
//! its buffer nor its pipe holds a byte.

use crate::buf::pipe::{Pipe, PipePool};
use crate::buf::{BufPool, Buffer};
use crate::ticks::{ETERNITY, Tick};
use bitflags::bitflags;

bitflags! {
    /// Channel flags (HAProxy's CF_*).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct CfFlags: u32 {
        // set by the producer
        /// Some data was read (since the stream last looked).
        const READ_PARTIAL  = 0x0000_0001;
        /// Read0 received: no more input will come.
        const READ_NULL     = 0x0000_0002;
        /// A read error occurred.
        const READ_ERROR    = 0x0000_0004;
        /// The read timeout fired.
        const READ_TIMEOUT  = 0x0000_0008;
        /// Input side shut (no more reads).
        const SHUTR         = 0x0000_0010;
        // set by the stream
        /// Shut the input side as soon as possible.
        const SHUTR_NOW     = 0x0000_0020;
        // set by the consumer
        /// Some data was written (since the stream last looked).
        const WRITE_PARTIAL = 0x0000_0100;
        /// A write error occurred.
        const WRITE_ERROR   = 0x0000_0200;
        /// The write timeout fired.
        const WRITE_TIMEOUT = 0x0000_0400;
        /// Output side shut (FIN sent).
        const SHUTW         = 0x0000_0800;
        // set by the stream
        /// Shut the output side once the channel is empty.
        const SHUTW_NOW     = 0x0000_1000;
        /// Connect the consumer side automatically when data is to be sent.
        const AUTO_CONNECT  = 0x0001_0000;
        /// The producer stopped because the buffer was full.
        const FULL          = 0x0004_0000;
        /// Reads fill whole buffers: a bulk transfer (splice-auto kicks in).
        const STREAMER      = 0x0008_0000;
        /// The read timeout does not apply (set by the stream: an HTTP
        /// client waiting for its response is not idle).
        const READ_NOEXP    = 0x0010_0000;
        /// `option http-no-delay`: message data goes out at once, never
        /// held back with MSG_MORE (HAProxy's CF_NEVER_WAIT).
        const NEVER_WAIT    = 0x0020_0000;
        /// The next send goes out at once even if more of the message
        /// follows (set when a request head is scheduled, so that a server
        /// gets it before the body, and a client expecting `100 Continue`
        /// is not stalled); cleared once the output drained.
        const SEND_DONTWAIT = 0x0040_0000;
    }
}

bitflags! {
    /// Analysers (HAProxy's AN_*): the steps the stream runs, in bit order,
    /// over a channel's input before forwarding it. Each one clears its bit
    /// when done; while any is set, nothing is forwarded beyond `to_forward`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct AnFlags: u32 {
        /// Request: the frontend's `tcp-request connection|session|content`
        /// rules (`tcp-request inspect-delay` waits for data).
        const REQ_INSPECT_FE      = 0x0000_0001;
        /// Request: pick the backend (`use_backend`, `default_backend`) and
        /// set the stream up for it (configuration.txt 4.2, use_backend).
        const REQ_SWITCHING_RULES = 0x0000_0100;
        /// Request: wait for a complete HTTP request head and parse it
        /// (`timeout http-request`, 400/408).
        const REQ_WAIT_HTTP       = 0x0000_0002;
        /// Request: held by `http-request tarpit` until `timeout tarpit`,
        /// then answered with an error (`PT`).
        const REQ_HTTP_TARPIT     = 0x0000_0004;
        /// Request: wait for the body before connecting (`option
        /// http-buffer-request`, `http-request wait-for-body`).
        const REQ_HTTP_BODY       = 0x0000_0400;
        /// Request: the frontend's HTTP processing (`monitor-uri`,
        /// `http-request` rules).
        const REQ_HTTP_PROCESS_FE = 0x0000_0010;
        /// Request: the backend's HTTP processing (its `http-request`
        /// rules, `forwardfor`, `originalto`, connection header).
        const REQ_HTTP_PROCESS_BE = 0x0000_0200;
        /// Request: forward the head, then the body by its framing.
        const REQ_HTTP_XFER_BODY  = 0x0001_0000;
        /// Response: wait for a complete HTTP response head (`timeout
        /// server`, 502/504); interim 1xx responses are forwarded.
        const RES_WAIT_HTTP       = 0x0002_0000;
        /// Response: the backend's `tcp-response content` rules
        /// (`tcp-response inspect-delay` waits for data).
        const RES_INSPECT         = 0x0100_0000;
        /// Response: `http-response` rules, connection header, counters.
        const RES_HTTP_PROCESS    = 0x0004_0000;
        /// Response: forward the head, then the body by its framing; ends
        /// the transaction.
        const RES_HTTP_XFER_BODY  = 0x0008_0000;
    }
}

/// When a channel's producer may use splice(2) (configuration.txt 4.2,
/// option splice-*). Ordered from the weakest to the strongest, so that the
/// mode a stream gets from its frontend and backend is their `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum SpliceMode {
    /// Never: data goes through buffers.
    #[default]
    Off,
    /// `option splice-auto`: once reads fill whole buffers (a bulk transfer).
    Auto,
    /// `option splice-request` / `splice-response`: always.
    Always,
}

/// Infinite forwarding (TCP once the analysers are done).
pub const FORWARD_INFINITE: u64 = u64::MAX;

/// One direction of a stream.
pub struct Channel {
    pub flags: CfFlags,
    /// Analysers still to run on this channel.
    pub analysers: AnFlags,
    pub buf: Option<Buffer>,
    pub pipe: Option<Pipe>,
    /// Whether the producer may splice into this channel.
    pub splice: SpliceMode,
    /// Bytes not read yet that may be forwarded without analysis.
    pub to_forward: u64,
    /// Read expiry date (producer inactivity).
    pub rex: Tick,
    /// Write expiry date (consumer stuck with pending data).
    pub wex: Tick,
    /// Read timeout in ms (0 = none).
    pub rto: u32,
    /// Write timeout in ms (0 = none).
    pub wto: u32,
    /// Expiry of the analyser waiting on this channel (`timeout
    /// http-request`, `http-keep-alive`).
    pub analyse_exp: Tick,
    /// Total bytes that entered the channel.
    pub total: u64,
    /// Bytes that went through the pipe (spliced).
    pub spliced: u64,
}

impl Channel {
    /// An empty channel forwarding everything (no analyser).
    pub fn new() -> Self {
        Channel {
            flags: CfFlags::empty(),
            analysers: AnFlags::empty(),
            buf: None,
            pipe: None,
            splice: SpliceMode::Off,
            to_forward: FORWARD_INFINITE,
            rex: ETERNITY,
            wex: ETERNITY,
            rto: 0,
            wto: 0,
            analyse_exp: ETERNITY,
            total: 0,
            spliced: 0,
        }
    }

    /// True when no byte is pending (buffer and pipe both empty).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.as_ref().is_none_or(|b| b.is_empty())
            && self.pipe.as_ref().is_none_or(|p| p.data == 0)
    }

    /// Bytes pending in the buffer (output and input).
    #[inline]
    pub fn buf_len(&self) -> usize {
        self.buf.as_ref().map_or(0, |b| b.len())
    }

    /// Bytes pending in the pipe.
    #[inline]
    pub fn pipe_len(&self) -> usize {
        self.pipe.as_ref().map_or(0, |p| p.data)
    }

    /// Buffer bytes scheduled for forwarding.
    #[inline]
    pub fn out_len(&self) -> usize {
        self.buf.as_ref().map_or(0, |b| b.output())
    }

    /// Buffer bytes waiting for the analysers.
    #[inline]
    pub fn in_len(&self) -> usize {
        self.buf.as_ref().map_or(0, |b| b.input())
    }

    /// True when the consumer has something to send (pipe or output).
    #[inline]
    pub fn has_output(&self) -> bool {
        self.pipe_len() > 0 || self.out_len() > 0
    }

    /// Moves what `to_forward` allows of the input to the output; returns
    /// the bytes moved. Called by the producer after each read, so that
    /// forwarding needs no stream wake-up.
    #[inline]
    pub fn forward_input(&mut self) -> usize {
        let Some(b) = self.buf.as_mut() else {
            return 0;
        };
        let n = b.input();
        if n == 0 || self.to_forward == 0 {
            return 0;
        }
        if self.to_forward == FORWARD_INFINITE {
            b.advance(n);
            return n;
        }
        let n = (n as u64).min(self.to_forward) as usize;
        b.advance(n);
        self.to_forward -= n as u64;
        n
    }

    /// Schedules `n` more bytes for forwarding: those already in the input
    /// first, the rest as they arrive (HAProxy's `channel_forward`).
    pub fn forward(&mut self, n: u64) {
        let now = self.in_len() as u64;
        let direct = n.min(now) as usize;
        if let Some(b) = self.buf.as_mut() {
            b.advance(direct);
        }
        let rest = n - direct as u64;
        if self.to_forward != FORWARD_INFINITE {
            self.to_forward = self
                .to_forward
                .saturating_add(rest)
                .min(FORWARD_INFINITE - 1);
        }
    }

    /// Forwards everything from now on: the input now and all future bytes
    /// (TCP mode once the analysers are done).
    pub fn forward_forever(&mut self) {
        self.to_forward = FORWARD_INFINITE;
        self.forward_input();
    }

    /// How many bytes a read may add to the buffer: its room, minus the
    /// rewrite reserve (`tune.maxrewrite`) unless what is already scheduled
    /// will drain enough of it (HAProxy's `channel_recv_limit`): analysers
    /// that rewrite headers need that room, forwarded bytes do not.
    pub fn recv_room(&self, maxrewrite: usize) -> usize {
        let Some(b) = self.buf.as_ref() else {
            return 0;
        };
        let transit = (b.output() as u64).saturating_add(self.to_forward);
        let reserve = if transit >= maxrewrite as u64 {
            0
        } else {
            maxrewrite - transit as usize
        };
        b.room().saturating_sub(reserve)
    }

    /// Gives the buffer back to the pool once it is empty, and the pipe once
    /// drained: idle channels hold neither.
    #[inline]
    pub fn release_empty(&mut self, bufs: &mut BufPool, pipes: &mut PipePool) {
        if let Some(b) = self.buf.take_if(|b| b.is_empty()) {
            bufs.release(b);
        }
        if let Some(p) = self.pipe.take_if(|p| p.data == 0) {
            pipes.put(p);
        }
    }

    /// Drops whatever the channel holds, returning its buffer and pipe.
    pub fn drop_data(&mut self, bufs: &mut BufPool, pipes: &mut PipePool) {
        if let Some(b) = self.buf.take() {
            bufs.release(b);
        }
        if let Some(p) = self.pipe.take() {
            pipes.put(p);
        }
    }

    // ---- for applets: they consume output and produce input directly ----

    /// The length of the first line of the output, LF included, if a whole
    /// line is there.
    pub fn out_line_len(&self) -> Option<usize> {
        let b = self.buf.as_ref()?;
        let (x, y) = b.out_data();
        match memchr::memchr(b'\n', x) {
            Some(i) => Some(i + 1),
            None => memchr::memchr(b'\n', y).map(|i| x.len() + i + 1),
        }
    }

    /// Copies the first `n` output bytes to `dst` and consumes them.
    pub fn take_out(&mut self, n: usize, dst: &mut Vec<u8>) {
        let Some(b) = self.buf.as_mut() else { return };
        let n = n.min(b.output());
        let (x, y) = b.out_data();
        let nx = n.min(x.len());
        dst.extend_from_slice(&x[..nx]);
        dst.extend_from_slice(&y[..n - nx]);
        b.consume(n);
    }

    /// Appends as much of `src` as fits as input, taking a buffer from the
    /// pool if the channel has none; returns the bytes taken.
    pub fn put_input(&mut self, bufs: &mut BufPool, src: &[u8]) -> usize {
        if src.is_empty() {
            return 0;
        }
        let b = self.buf.get_or_insert_with(|| bufs.alloc());
        bufs.grow(b);
        b.put(src)
    }

    /// Asks for the output to be shut once everything is sent.
    #[inline]
    pub fn shutw_now(&mut self) {
        self.flags.insert(CfFlags::SHUTW_NOW);
    }

    /// Asks for the input to stop.
    #[inline]
    pub fn shutr_now(&mut self) {
        self.flags.insert(CfFlags::SHUTR_NOW);
    }

    /// Aborts the channel: stop reading now and shut the output now.
    pub fn abort(&mut self) {
        self.flags.insert(CfFlags::SHUTR_NOW | CfFlags::SHUTW_NOW);
    }
}

impl Default for Channel {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_input(data: &[u8], to_forward: u64) -> Channel {
        let mut c = Channel::new();
        c.to_forward = to_forward;
        let mut b = Buffer::new(64);
        b.put(data);
        c.buf = Some(b);
        c
    }

    #[test]
    fn empty_counts_buffer_and_pipe() {
        let mut c = Channel::new();
        assert!(c.is_empty());
        let mut b = Buffer::new(8);
        b.put(b"x");
        c.buf = Some(b);
        assert!(!c.is_empty());
        c.buf = None;
        c.pipe = Some(Pipe {
            rd: -1,
            wr: -1,
            data: 3,
        });
        assert!(!c.is_empty());
        assert!(c.has_output());
        assert_eq!(c.pipe_len(), 3);
        if let Some(p) = c.pipe.as_mut() {
            p.data = 0;
        }
        assert!(c.is_empty());
    }

    #[test]
    fn infinite_forwarding_moves_all_input() {
        let mut c = with_input(b"hello", FORWARD_INFINITE);
        assert_eq!(c.forward_input(), 5);
        assert_eq!((c.out_len(), c.in_len()), (5, 0));
        assert_eq!(c.to_forward, FORWARD_INFINITE);
    }

    #[test]
    fn bounded_forwarding_stops_at_to_forward() {
        let mut c = with_input(b"0123456789", 4);
        assert_eq!(c.forward_input(), 4);
        assert_eq!((c.out_len(), c.in_len(), c.to_forward), (4, 6, 0));
        // Nothing more until an analyser forwards again.
        assert_eq!(c.forward_input(), 0);
        c.forward(8);
        assert_eq!((c.out_len(), c.in_len(), c.to_forward), (10, 0, 2));
    }

    #[test]
    fn no_analysis_no_forwarding() {
        let mut c = with_input(b"GET / HTTP/1.1\r\n", 0);
        c.analysers = AnFlags::REQ_SWITCHING_RULES;
        assert_eq!(c.forward_input(), 0);
        assert!(!c.has_output());
        c.analysers.remove(AnFlags::REQ_SWITCHING_RULES);
        c.forward_forever();
        assert_eq!(c.in_len(), 0);
        assert!(c.has_output());
    }

    #[test]
    fn rewrite_reserve_applies_only_to_data_under_analysis() {
        // 64-byte buffer with 16 bytes of input, reserve 32.
        let mut c = with_input(&[b'x'; 16], 0);
        assert_eq!(c.recv_room(32), 64 - 16 - 32);
        // Forwarding at least the reserve frees it.
        c.to_forward = FORWARD_INFINITE;
        assert_eq!(c.recv_room(32), 48);
        c.to_forward = 10;
        c.forward_input();
        // 10 bytes out, nothing more to forward: reserve 32 - 10.
        assert_eq!(c.recv_room(32), 48 - 22);
        assert_eq!(Channel::new().recv_room(32), 0);
    }
}
