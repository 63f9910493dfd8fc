//! Listening-socket transfer between processes (management.txt 4, `-x`):
//! the file descriptors travel over a UNIX socket as SCM_RIGHTS ancillary
//! data, so that a new process serves the very sockets of the old one: no
//! rebind, no refused connection, no lost backlog.
//!
//! ```text
//!   new process                            old process (CLI, expose-fd listeners)
//!   "_getsocks\n"  ------------------->
//!                  <-------------------    count of fds (u32, native order)
//!                  <-------------------    batches: per fd a record, the fds as SCM_RIGHTS
//! ```
//!
//! A record is `<ns len: u8><ns><if len: u8><interface><options: u32>`,
//! the layout HAProxy 2.6 sends, so that haproxy-rs takes its sockets from
//! a running HAProxy as well as from itself. The receiver matches the fds
//! to its `bind` lines by their local address.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::RawFd;

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};

use super::LiAddr;

/// Most fds one message carries (the kernel's SCM_MAX_FD is 253).
pub const MAX_FDS_PER_MSG: usize = 253;

/// Sends `data` with `fds` attached. The socket may be non-blocking: a
/// partial or refused send is an error for the caller (these messages are
/// small and go on an otherwise idle socket).
pub fn send_fds(sock: RawFd, data: &[u8], fds: &[RawFd]) -> std::io::Result<usize> {
    let iov = [IoSlice::new(data)];
    let cmsg = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsg };
    sendmsg::<()>(sock, &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None).map_err(std::io::Error::from)
}

/// Receives one message into `buf`; the fds it carried are appended to
/// `fds` (close-on-exec). Returns the data length (0: the peer closed).
pub fn recv_fds(sock: RawFd, buf: &mut [u8], fds: &mut Vec<RawFd>) -> std::io::Result<usize> {
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS_PER_MSG]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(std::io::Error::from)?;
    let n = msg.bytes;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let ControlMessageOwned::ScmRights(got) = c {
                fds.extend_from_slice(&got);
            }
        }
    }
    Ok(n)
}

/// One transferred socket's record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SockInfo {
    pub namespace: String,
    pub interface: String,
    pub options: u32,
}

/// Appends the record of one socket.
pub fn encode_info(out: &mut Vec<u8>, info: &SockInfo) {
    for s in [&info.namespace, &info.interface] {
        let b = &s.as_bytes()[..s.len().min(255)];
        out.push(b.len() as u8);
        out.extend_from_slice(b);
    }
    out.extend_from_slice(&info.options.to_ne_bytes());
}

/// Reads the records of a batch, one per fd; None if the bytes do not
/// hold exactly `n` records.
pub fn decode_infos(mut b: &[u8], n: usize) -> Option<Vec<SockInfo>> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (h, t) = (b.get(..n)?, b.get(n..)?);
        *b = t;
        Some(h)
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut strs = [String::new(), String::new()];
        for s in strs.iter_mut() {
            let len = *take(&mut b, 1)?.first()? as usize;
            *s = String::from_utf8_lossy(take(&mut b, len)?).into_owned();
        }
        let options = u32::from_ne_bytes(take(&mut b, 4)?.try_into().ok()?);
        let [namespace, interface] = strs;
        out.push(SockInfo {
            namespace,
            interface,
            options,
        });
    }
    b.is_empty().then_some(out)
}

/// Answers `_getsocks` on `sock`: the count, then the listening sockets
/// in batches, each fd with its record.
pub fn send_listeners(sock: RawFd, fds: &[RawFd]) -> std::io::Result<()> {
    let count = (fds.len() as u32).to_ne_bytes();
    if !crate::conn::sock::write_all_blocking(sock, &count) {
        return Err(std::io::ErrorKind::WriteZero.into());
    }
    let mut data = Vec::new();
    for batch in fds.chunks(MAX_FDS_PER_MSG) {
        data.clear();
        for _ in batch {
            encode_info(&mut data, &SockInfo::default());
        }
        let mut sent = 0;
        // The fds go with the first bytes; the rest of the records follow.
        for _ in 0..100 {
            let with: &[RawFd] = if sent == 0 { batch } else { &[] };
            match send_fds(sock, data.get(sent..).unwrap_or(&[]), with) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                Err(e) => return Err(e),
            }
            if sent >= data.len() {
                break;
            }
        }
        if sent < data.len() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
    }
    Ok(())
}

/// Sockets taken from the old process, waiting to be matched to the
/// listeners of the configuration.
#[derive(Debug, Default)]
pub struct Inherited {
    socks: Vec<(RawFd, Option<LiAddr>)>,
}

impl Inherited {
    /// Number of sockets not taken yet.
    pub fn len(&self) -> usize {
        self.socks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.socks.is_empty()
    }

    /// The inherited socket bound to `addr`, if any (it is ours from now).
    pub fn take(&mut self, addr: &LiAddr) -> Option<RawFd> {
        let i = self
            .socks
            .iter()
            .position(|(_, a)| a.as_ref() == Some(addr))?;
        Some(self.socks.swap_remove(i).0)
    }

    /// Closes what no listener took (the configuration dropped it).
    pub fn close_rest(&mut self) {
        for (fd, _) in self.socks.drain(..) {
            crate::conn::sock::close(fd);
        }
    }

    /// Adopts `fd`, learning its address from the kernel.
    pub fn push(&mut self, fd: RawFd) {
        self.socks.push((fd, sock_addr(fd)));
    }
}

/// The local address of a listening socket, TCP or UNIX.
pub fn sock_addr(fd: RawFd) -> Option<LiAddr> {
    if let Some(a) = crate::conn::sock::local_addr(fd) {
        return Some(LiAddr::Tcp(a));
    }
    let un: nix::sys::socket::UnixAddr = nix::sys::socket::getsockname(fd).ok()?;
    un.path().map(|p| LiAddr::Unix(p.to_path_buf()))
}

/// Time allowed to the old process to hand its sockets over.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Asks the process behind `spec` for its listening sockets: `spec` is a
/// stats socket path (`-x /run/haproxy.sock`) or `sockpair@<fd>`, the
/// master's socketpair with the current worker (a fresh connection is sent
/// over it).
pub fn fetch(spec: &str) -> Result<Inherited, String> {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    let mut s = match spec.strip_prefix("sockpair@") {
        Some(n) => {
            let ipc: RawFd = n.parse().map_err(|_| format!("invalid '{spec}'"))?;
            let (mine, theirs) = UnixStream::pair().map_err(|e| e.to_string())?;
            send_fds(ipc, &[0], &[theirs.as_raw_fd()]).map_err(|e| e.to_string())?;
            mine
        }
        None => UnixStream::connect(spec.strip_prefix("unix@").unwrap_or(spec))
            .map_err(|e| format!("cannot connect to '{spec}': {e}"))?,
    };
    s.set_read_timeout(Some(FETCH_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.write_all(b"_getsocks\n").map_err(|e| e.to_string())?;
    let mut count = [0u8; 4];
    s.read_exact(&mut count).map_err(|e| e.to_string())?;
    let want = u32::from_ne_bytes(count) as usize;
    let mut out = Inherited::default();
    let mut fds = Vec::new();
    let mut data = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while fds.len() < want {
        let n = recv_fds(s.as_raw_fd(), &mut buf, &mut fds).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(buf.get(..n).unwrap_or(&[]));
    }
    for fd in fds.iter().copied() {
        out.push(fd);
    }
    if fds.len() != want || decode_infos(&data, want).is_none() {
        out.close_rest();
        return Err(format!("got {} of {want} sockets", fds.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_reject_trailing_or_short_bytes() {
        let a = SockInfo::default();
        let b = SockInfo {
            namespace: "ns1".into(),
            interface: "lo".into(),
            options: 0x24,
        };
        let mut out = Vec::new();
        encode_info(&mut out, &a);
        encode_info(&mut out, &b);
        assert_eq!(out.len(), 6 + 6 + 3 + 2);
        assert_eq!(decode_infos(&out, 2), Some(vec![a.clone(), b]));
        assert_eq!(decode_infos(&out, 1), None, "trailing bytes");
        assert_eq!(decode_infos(&out[..out.len() - 1], 2), None, "short");
        assert_eq!(decode_infos(&[], 0), Some(vec![]));
    }

    #[test]
    fn fds_travel_over_a_socketpair() {
        let (a, b) = std::os::unix::net::UnixStream::pair().expect("pair");
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let want = l.local_addr().expect("addr");
        send_fds(a.as_raw_fd(), b"x", &[l.as_raw_fd()]).expect("send");
        let mut buf = [0u8; 8];
        let mut fds = Vec::new();
        let n = recv_fds(b.as_raw_fd(), &mut buf, &mut fds).expect("recv");
        assert_eq!((n, fds.len()), (1, 1));
        assert_eq!(crate::conn::sock::local_addr(fds[0]), Some(want));
        crate::conn::sock::close(fds[0]);
    }
}
