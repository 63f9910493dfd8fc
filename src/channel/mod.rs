//! Channels: one direction of a stream (request: client to server, response:
//! server to client), holding the bytes in flight in a buffer or a pipe.
//!
//! Flags follow HAProxy's `CF_*`. The producer side (the stream interface
//! that reads into the channel) sets the READ/SHUTR family; the consumer side
//! (the one that writes out of it) sets the WRITE/SHUTW family; the stream
//! sets the *_NOW requests and AUTO_CONNECT. A channel is empty when neither
//! its buffer nor its pipe holds a byte.

use crate::buf::Buffer;
use crate::buf::pipe::Pipe;
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
        /// The producer may splice into this channel.
        const KERN_SPLICING = 0x0002_0000;
        /// The producer stopped because the buffer was full.
        const FULL          = 0x0004_0000;
        /// Reads fill whole buffers: a bulk transfer (splice-auto kicks in).
        const STREAMER      = 0x0008_0000;
    }
}

/// Infinite forwarding (TCP once established).
pub const FORWARD_INFINITE: u64 = u64::MAX;

/// One direction of a stream.
pub struct Channel {
    pub flags: CfFlags,
    pub buf: Option<Buffer>,
    pub pipe: Option<Pipe>,
    /// Bytes the consumer may still forward without analysis.
    pub to_forward: u64,
    /// Read expiry date (producer inactivity).
    pub rex: Tick,
    /// Write expiry date (consumer stuck with pending data).
    pub wex: Tick,
    /// Read timeout in ms (0 = none).
    pub rto: u32,
    /// Write timeout in ms (0 = none).
    pub wto: u32,
    /// Total bytes that entered the channel.
    pub total: u64,
    /// Bytes that went through the pipe (spliced).
    pub spliced: u64,
}

impl Channel {
    /// An empty channel.
    pub fn new() -> Self {
        Channel {
            flags: CfFlags::empty(),
            buf: None,
            pipe: None,
            to_forward: FORWARD_INFINITE,
            rex: ETERNITY,
            wex: ETERNITY,
            rto: 0,
            wto: 0,
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

    /// Bytes pending in the buffer.
    #[inline]
    pub fn buf_len(&self) -> usize {
        self.buf.as_ref().map_or(0, |b| b.len())
    }

    /// Bytes pending in the pipe.
    #[inline]
    pub fn pipe_len(&self) -> usize {
        self.pipe.as_ref().map_or(0, |p| p.data)
    }

    /// Asks for the output to be shut once everything is sent.
    #[inline]
    pub fn shutw_now(&mut self) {
        self.flags.insert(CfFlags::SHUTW_NOW);
    }

    /// Asks for the input to stop (and implies closing the output later).
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
        assert_eq!(c.pipe_len(), 3);
        if let Some(p) = c.pipe.as_mut() {
            p.data = 0;
        }
        assert!(c.is_empty());
    }
}
