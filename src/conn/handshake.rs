//! Handshake handlers: the steps a connection runs before data flows.
//!
//! Each connection carries the set of handlers it still has to run
//! (`Connection::hs`), set up by whoever creates it: a bind line's options
//! for an accepted connection, a server line's for an outgoing one. [`run`]
//! drives them in a fixed order; each removes itself when done, and the
//! chain stops at the first one that has to wait for the socket.
//!
//! ```text
//!   incoming: HH_ACCEPT_PROXY --> (tcp-request connection, TLS: later) --> stream created
//!   outgoing: connected --> HH_SEND_PROXY --> (TLS: later) --> data flows
//! ```
//!
//! An incoming connection's handshakes run before any stream exists: a
//! failure closes it with the handler's error (HAProxy's `conn->err_code`),
//! logged as a connection error line. An outgoing connection's handshakes
//! run when it becomes writable, before the stream's first send.
//!
//! The PROXY header is read at the socket level (below any data layer, as it
//! precedes TLS): peeked, parsed, then exactly its bytes are consumed, so
//! the payload that follows stays for the data layer.

use super::{CoFlags, Connection, sock};
use crate::fd::FdTab;
use bitflags::bitflags;

bitflags! {
    /// Handshake handlers still to run, in bit order (HAProxy's
    /// CO_FL_ACCEPT_PROXY, CO_FL_SEND_PROXY, ...).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct HsFlags: u8 {
        /// HH_ACCEPT_PROXY: wait for and parse a PROXY protocol header.
        const ACCEPT_PROXY = 0x01;
        /// HH_SEND_PROXY: send the PROXY protocol header first.
        const SEND_PROXY   = 0x10;
        /// HH_SSL_HS: the TLS handshake (both sides).
        const SSL_HS       = 0x20;
    }
}

/// Why a handshake failed (HAProxy's connection error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HsErr {
    /// The client closed before its PROXY header was complete.
    PrxAbort,
    /// A socket error while waiting for the PROXY header.
    PrxError,
    /// No PROXY header before the handshake timeout.
    PrxTimeout,
    /// A PROXY header that was refused.
    Prx(super::proxy_hdr::ProxyErr),
    /// The PROXY header could not be sent.
    PrxSend,
    /// The TLS handshake failed.
    Ssl(super::ssl_sock::SslFail),
    /// No TLS handshake before the handshake timeout.
    SslTimeout,
}

impl HsErr {
    /// The text HAProxy logs for this error.
    pub fn message(self) -> &'static str {
        match self {
            HsErr::PrxAbort => "Connection closed while waiting for PROXY protocol header",
            HsErr::PrxError => "Connection error while waiting for PROXY protocol header",
            HsErr::PrxTimeout => "Timeout while waiting for PROXY protocol header",
            HsErr::Prx(e) => e.message(),
            HsErr::PrxSend => "Connection error while sending PROXY protocol header",
            HsErr::Ssl(f) => {
                use super::ssl_sock::SslFail;
                match f {
                    SslFail::Empty => "Connection closed during SSL handshake",
                    SslFail::Handshake => "SSL handshake failure",
                    SslFail::CrtFail => "SSL client certificate not trusted",
                    SslFail::CaFail => "SSL client CA chain cannot be verified",
                }
            }
            HsErr::SslTimeout => "Timeout during SSL handshake",
        }
    }

    /// HAProxy's number for this error (`fc_err`, `CO_ER_*`).
    pub fn id(self) -> i64 {
        use super::ssl_sock::SslFail;
        match self {
            HsErr::PrxAbort => 2,
            HsErr::PrxError => 3,
            HsErr::PrxTimeout => 4,
            HsErr::Prx(_) => 6,
            HsErr::PrxSend => 7,
            HsErr::Ssl(SslFail::Empty) => 24,
            HsErr::SslTimeout => 26,
            HsErr::Ssl(SslFail::CaFail) => 30,
            HsErr::Ssl(SslFail::CrtFail) => 31,
            HsErr::Ssl(SslFail::Handshake) => 34,
        }
    }

    /// True when nothing at all was received: such errors are not logged
    /// under `option dontlognull`.
    pub fn is_empty(self) -> bool {
        use super::ssl_sock::SslFail;
        matches!(
            self,
            HsErr::PrxAbort | HsErr::PrxTimeout | HsErr::SslTimeout | HsErr::Ssl(SslFail::Empty)
        )
    }

    /// The error for a handshake still pending when its timer fires.
    pub fn timeout_of(pending: HsFlags) -> HsErr {
        if pending.contains(HsFlags::ACCEPT_PROXY) || !pending.contains(HsFlags::SSL_HS) {
            HsErr::PrxTimeout
        } else {
            HsErr::SslTimeout
        }
    }
}

/// Where the chain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HsStep {
    /// No handler left: data may flow.
    Done,
    /// A handler waits for the socket (readiness already requested).
    Wait,
    /// A handler failed; the connection must be closed.
    Failed(HsErr),
}

/// Longest PROXY header accepted: a buffer (16 KiB, TLVs included), as
/// HAProxy does.
const MAX_PROXY_HDR: usize = 16 * 1024 + 16;

/// Runs the pending handlers in order. `data_follows` says that the upper
/// layer has data to send right after (the PROXY header then goes out with
/// MSG_MORE so that both share a segment). Returns where the chain stands;
/// a failure is also recorded in `conn.err_code`.
pub fn run(conn: &mut Connection, fds: &mut FdTab, data_follows: bool) -> HsStep {
    if conn.hs.contains(HsFlags::ACCEPT_PROXY) {
        match accept_proxy(conn, fds) {
            HsStep::Done => conn.hs.remove(HsFlags::ACCEPT_PROXY),
            other => return record(conn, other),
        }
    }
    if conn.hs.contains(HsFlags::SEND_PROXY) {
        if conn.flags.contains(CoFlags::WAIT_L4_CONN) {
            return HsStep::Wait;
        }
        match send_proxy(conn, fds, data_follows) {
            HsStep::Done => conn.hs.remove(HsFlags::SEND_PROXY),
            other => return record(conn, other),
        }
    }
    if conn.hs.contains(HsFlags::SSL_HS) {
        if conn.flags.contains(CoFlags::WAIT_L4_CONN) {
            return HsStep::Wait;
        }
        match ssl_hs(conn, fds) {
            HsStep::Done => {
                conn.hs.remove(HsFlags::SSL_HS);
                conn.flags.remove(CoFlags::WAIT_L6_CONN);
            }
            other => return record(conn, other),
        }
    }
    HsStep::Done
}

/// HH_SSL_HS: one handshake step; waits in the direction OpenSSL asks.
fn ssl_hs(conn: &mut Connection, fds: &mut FdTab) -> HsStep {
    use super::ssl_sock::HsRes;
    let super::Xprt::Ssl(s) = &mut conn.xprt else {
        return HsStep::Done;
    };
    match s.handshake() {
        HsRes::Done => {
            // Data may already sit in the session (read ahead with the
            // last handshake record): then the first read must be tried,
            // as no new edge will announce it.
            if s.may_have_more() {
                fds.may_recv(conn.fd);
            }
            fds.stop_send(conn.fd);
            HsStep::Done
        }
        HsRes::WantRead => {
            fds.cant_recv(conn.fd);
            fds.want_recv(conn.fd);
            fds.stop_send(conn.fd);
            HsStep::Wait
        }
        HsRes::WantWrite => {
            fds.cant_send(conn.fd);
            fds.want_send(conn.fd);
            HsStep::Wait
        }
        HsRes::Failed(f) => {
            conn.flags.insert(CoFlags::ERROR);
            conn.stop_both(fds);
            HsStep::Failed(HsErr::Ssl(f))
        }
    }
}

fn record(conn: &mut Connection, step: HsStep) -> HsStep {
    if let HsStep::Failed(e) = step {
        conn.err_code = Some(e);
    }
    step
}

/// HH_ACCEPT_PROXY: peeks at what the client sent; once a complete header
/// is there, consumes exactly its bytes and takes the addresses it carries.
/// HAProxy 2.6 does not wait for the rest of a header that came incomplete:
/// it is refused at once.
fn accept_proxy(conn: &mut Connection, fds: &mut FdTab) -> HsStep {
    let mut buf = [0u8; MAX_PROXY_HDR];
    let n = match sock::peek(conn.fd, &mut buf) {
        Ok(0) => return HsStep::Failed(HsErr::PrxAbort),
        Ok(n) => n,
        Err(e) if e == libc::EAGAIN => {
            fds.cant_recv(conn.fd);
            return HsStep::Wait;
        }
        Err(_) => return HsStep::Failed(HsErr::PrxError),
    };
    let data = buf.get(..n).unwrap_or(&[]);
    match super::proxy_hdr::parse_with_tlvs(data) {
        Ok(Some((hdr, len, tlvs))) => {
            // Kept before the bytes are consumed: `tlvs` borrows the peek
            // buffer, which the discard reuses.
            conn.pp = Some(super::proxy_hdr::PpRcvd::new(tlvs));
            // The header was peeked whole: consuming it cannot come short.
            sock::discard(conn.fd, &mut buf, len);
            if let Some((src, dst)) = hdr.addrs {
                conn.peer = Some(src);
                conn.local = Some(dst);
            }
            HsStep::Done
        }
        Ok(None) => HsStep::Failed(HsErr::Prx(super::proxy_hdr::ProxyErr::Truncated)),
        Err(e) => HsStep::Failed(HsErr::Prx(e)),
    }
}

/// HH_SEND_PROXY: sends the pending header; waits for writability when the
/// socket takes only part of it.
fn send_proxy(conn: &mut Connection, fds: &mut FdTab, data_follows: bool) -> HsStep {
    let Some(hdr) = conn.out_hdr.as_mut() else {
        return HsStep::Done;
    };
    match sock::send(conn.fd, hdr, data_follows) {
        Ok(n) => {
            hdr.drain(..n.min(hdr.len()));
            if hdr.is_empty() {
                conn.out_hdr = None;
                return HsStep::Done;
            }
            fds.cant_send(conn.fd);
            fds.want_send(conn.fd);
            HsStep::Wait
        }
        Err(e) if e == libc::EAGAIN => {
            fds.cant_send(conn.fd);
            fds.want_send(conn.fd);
            HsStep::Wait
        }
        Err(e) => {
            conn.set_error(fds, e);
            HsStep::Failed(HsErr::PrxSend)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::{ConnId, Id};
    use crate::conn::ConnOwner;
    use crate::fd::FdOwner;
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, IntoRawFd};
    use std::os::unix::net::UnixStream;

    fn pair(fds: &mut FdTab) -> (Connection, UnixStream) {
        let (a, b) = UnixStream::pair().expect("socketpair");
        a.set_nonblocking(true).expect("nonblocking");
        let fd = a.into_raw_fd();
        fds.insert(fd, FdOwner::Conn(ConnId::from_idx(0)))
            .expect("insert");
        fds.want_recv(fd);
        fds.may_recv(fd);
        (Connection::new(fd, ConnOwner::Listener(0)), b)
    }

    #[test]
    fn accept_proxy_waits_then_consumes_exactly_the_header() {
        let mut fds = FdTab::new().expect("epoll");
        let (mut c, mut peer) = pair(&mut fds);
        c.hs = HsFlags::ACCEPT_PROXY;
        assert_eq!(run(&mut c, &mut fds, false), HsStep::Wait);
        peer.write_all(b"PROXY TCP4 10.0.0.1 10.0.0.2 1111 2222\r\nGET /")
            .expect("write");
        fds.may_recv(c.fd);
        assert_eq!(run(&mut c, &mut fds, false), HsStep::Done);
        assert!(c.hs.is_empty());
        assert_eq!(c.peer, "10.0.0.1:1111".parse().ok());
        assert_eq!(c.local, "10.0.0.2:2222".parse().ok());
        // The payload is left for the data layer.
        let mut rest = [0u8; 16];
        let n = sock::peek(c.fd, &mut rest).expect("peek");
        assert_eq!(&rest[..n], b"GET /");
        c.close(&mut fds, false);
    }

    #[test]
    fn accept_proxy_failures_carry_haproxy_messages() {
        let mut fds = FdTab::new().expect("epoll");
        let (mut c, mut peer) = pair(&mut fds);
        c.hs = HsFlags::ACCEPT_PROXY;
        peer.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("write");
        let step = run(&mut c, &mut fds, false);
        assert_eq!(
            step,
            HsStep::Failed(HsErr::Prx(crate::conn::proxy_hdr::ProxyErr::NotProxy))
        );
        assert_eq!(
            c.err_code,
            Some(HsErr::Prx(crate::conn::proxy_hdr::ProxyErr::NotProxy))
        );
        c.close(&mut fds, true);

        let (mut c, peer) = pair(&mut fds);
        c.hs = HsFlags::ACCEPT_PROXY;
        drop(peer);
        assert_eq!(
            run(&mut c, &mut fds, false),
            HsStep::Failed(HsErr::PrxAbort)
        );
        assert!(HsErr::PrxAbort.is_empty());
        assert_eq!(
            HsErr::PrxAbort.message(),
            "Connection closed while waiting for PROXY protocol header"
        );
        c.close(&mut fds, true);
    }

    #[test]
    fn send_proxy_waits_for_the_connection_then_sends_first() {
        let mut fds = FdTab::new().expect("epoll");
        let (mut c, mut peer) = pair(&mut fds);
        c.hs = HsFlags::SEND_PROXY;
        c.out_hdr = Some(b"PROXY UNKNOWN\r\n".to_vec());
        c.flags.insert(CoFlags::WAIT_L4_CONN);
        assert_eq!(run(&mut c, &mut fds, true), HsStep::Wait);
        c.flags.remove(CoFlags::WAIT_L4_CONN);
        assert_eq!(run(&mut c, &mut fds, false), HsStep::Done);
        assert!(c.out_hdr.is_none() && c.hs.is_empty());
        peer.set_nonblocking(true).expect("nonblocking");
        let mut got = [0u8; 64];
        let n = peer.read(&mut got).expect("read");
        assert_eq!(&got[..n], b"PROXY UNKNOWN\r\n");
        assert!(peer.as_raw_fd() >= 0);
        c.close(&mut fds, false);
    }
}
