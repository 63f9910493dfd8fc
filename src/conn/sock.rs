//! Socket set-up for the ctrl layer: create, bind, listen, accept, connect,
//! options, address conversion. Every call returns `io::Result`.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Turns a negative libc return into the errno error.
#[inline]
pub fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A `sockaddr_storage` and its length for `addr`.
pub fn to_sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_scope_id = a.scope_id();
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// Converts a kernel address to a `SocketAddr` (None for unix/unknown).
pub fn from_sockaddr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match ss.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: family says this storage holds a sockaddr_in.
            let sin = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: family says this storage holds a sockaddr_in6.
            let sin6 = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Creates a non-blocking, close-on-exec socket.
pub fn socket(domain: libc::c_int, ty: libc::c_int) -> io::Result<RawFd> {
    // SAFETY: plain syscall.
    cvt(unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })
}

/// Sets an integer socket option.
pub fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    val: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `val` lives across the call and its size is passed.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &val as *const _ as *const libc::c_void,
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// Sets SO_RCVBUF and SO_SNDBUF when asked (0 = keep the kernel's);
/// failures are ignored as HAProxy ignores them.
pub fn set_buffer_sizes(fd: RawFd, rcvbuf: usize, sndbuf: usize) {
    if rcvbuf > 0 {
        let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, rcvbuf as i32);
    }
    if sndbuf > 0 {
        let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, sndbuf as i32);
    }
}

/// Creates, binds and listens on a TCP socket.
pub fn tcp_listen(
    addr: &SocketAddr,
    backlog: i32,
    reuseport: bool,
    v6only: bool,
) -> io::Result<RawFd> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = socket(domain, libc::SOCK_STREAM)?;
    let res = (|| {
        setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
        if reuseport {
            setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        }
        if addr.is_ipv6() && v6only {
            setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
        }
        let (ss, len) = to_sockaddr(addr);
        // SAFETY: `ss` holds a valid address of length `len`.
        cvt(unsafe { libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len) })?;
        // SAFETY: plain syscall on our socket.
        cvt(unsafe { libc::listen(fd, backlog) })?;
        Ok(())
    })();
    match res {
        Ok(()) => Ok(fd),
        Err(e) => {
            close(fd);
            Err(e)
        }
    }
}

/// Creates, binds and listens on a UNIX stream socket (removing a stale file).
pub fn unix_listen(path: &std::path::Path, backlog: i32, mode: Option<u32>) -> io::Result<RawFd> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: an all-zero sockaddr_un is valid.
    let mut sun: libc::sockaddr_un = unsafe { mem::zeroed() };
    if bytes.len() >= sun.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "socket path too long",
        ));
    }
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    let _ = std::fs::remove_file(path);
    let fd = socket(libc::AF_UNIX, libc::SOCK_STREAM)?;
    let len = (mem::size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
    // SAFETY: `sun` is a valid sockaddr_un of at least `len` bytes.
    let r = cvt(unsafe { libc::bind(fd, &sun as *const _ as *const libc::sockaddr, len) })
        // SAFETY: plain syscall on our socket.
        .and_then(|_| cvt(unsafe { libc::listen(fd, backlog) }));
    if let Err(e) = r {
        close(fd);
        return Err(e);
    }
    if let Some(m) = mode {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(m));
    }
    Ok(fd)
}

/// Accepts one connection (non-blocking, close-on-exec). `Ok(None)` on EAGAIN.
pub fn accept(lfd: RawFd) -> io::Result<Option<(RawFd, Option<SocketAddr>)>> {
    // SAFETY: zeroed storage is valid; the kernel writes at most `len` bytes.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `ss`/`len` are valid out-parameters.
    let fd = unsafe {
        libc::accept4(
            lfd,
            &mut ss as *mut _ as *mut libc::sockaddr,
            &mut len,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN) => Ok(None),
            _ => Err(e),
        };
    }
    Ok(Some((fd, from_sockaddr(&ss))))
}

/// Starts a non-blocking connect. Returns true if already connected.
pub fn tcp_connect(addr: &SocketAddr, source: Option<&SocketAddr>) -> io::Result<(RawFd, bool)> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = socket(domain, libc::SOCK_STREAM)?;
    if let Some(src) = source {
        let _ = setsockopt_int(fd, libc::SOL_IP, libc::IP_BIND_ADDRESS_NO_PORT, 1);
        let (ss, len) = to_sockaddr(src);
        // SAFETY: `ss` holds a valid address of length `len`.
        if let Err(e) =
            cvt(unsafe { libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len) })
        {
            close(fd);
            return Err(e);
        }
    }
    let (ss, len) = to_sockaddr(addr);
    // SAFETY: `ss` holds a valid address of length `len`.
    let r = unsafe { libc::connect(fd, &ss as *const _ as *const libc::sockaddr, len) };
    if r == 0 {
        return Ok((fd, true));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINPROGRESS) | Some(libc::EALREADY) => Ok((fd, false)),
        _ => {
            close(fd);
            Err(e)
        }
    }
}

/// Reads and clears SO_ERROR (0 = connected fine).
pub fn so_error(fd: RawFd) -> i32 {
    let mut v: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v`/`len` are valid out-parameters of the right size.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut v as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    if r < 0 {
        io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)
    } else {
        v
    }
}

/// The local address of a socket.
pub fn local_addr(fd: RawFd) -> Option<SocketAddr> {
    // SAFETY: zeroed storage is valid; the kernel writes at most `len` bytes.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: valid out-parameters.
    let r = unsafe { libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) };
    if r < 0 { None } else { from_sockaddr(&ss) }
}

/// shutdown(2) one or both directions; errors ignored (the peer may be gone).
pub fn shutdown(fd: RawFd, how: libc::c_int) {
    // SAFETY: plain syscall.
    unsafe { libc::shutdown(fd, how) };
}

/// Closes an fd.
pub fn close(fd: RawFd) {
    // SAFETY: the caller owns `fd` and never uses it again.
    unsafe { libc::close(fd) };
}

/// Closes with an RST instead of a FIN (SO_LINGER 0), used on aborts.
pub fn close_rst(fd: RawFd) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `l` lives across the call and its size is passed.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const _ as *const libc::c_void,
            mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    close(fd);
}

/// The unspecified address of the family of `ip` (for "*" binds).
pub fn any_of(ip: &IpAddr) -> bool {
    ip.is_unspecified()
}

/// The last errno.
#[inline]
fn last_errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Reads without consuming (MSG_PEEK) into `buf`; returns the count or the
/// errno (EINTR retried).
pub fn peek(fd: RawFd, buf: &mut [u8]) -> Result<usize, i32> {
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_PEEK) };
        if n >= 0 {
            return Ok(n as usize);
        }
        match last_errno() {
            libc::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// Consumes `n` bytes already known to be in the socket (peeked before),
/// using `scratch` (at least `n` bytes) as the landing area.
pub fn discard(fd: RawFd, scratch: &mut [u8], n: usize) {
    let n = n.min(scratch.len());
    // SAFETY: `scratch` is writable for `n` <= its length.
    unsafe { libc::recv(fd, scratch.as_mut_ptr().cast(), n, 0) };
}

/// One non-blocking send of `b`; MSG_MORE when `more` (more data follows at
/// once). Returns the count sent or the errno (EINTR retried).
pub fn send(fd: RawFd, b: &[u8], more: bool) -> Result<usize, i32> {
    let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT | if more { libc::MSG_MORE } else { 0 };
    loop {
        // SAFETY: `b` is readable for its length.
        let n = unsafe { libc::send(fd, b.as_ptr().cast(), b.len(), flags) };
        if n >= 0 {
            return Ok(n as usize);
        }
        match last_errno() {
            libc::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// Sets O_NONBLOCK on `fd`.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on our own fd.
    let fl = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    // SAFETY: same fd, adding O_NONBLOCK.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) }).map(|_| ())
}

/// Writes all of `b` to a control socket (a few bytes on an idle socket),
/// waiting up to a second in total if it is full. Returns false if not
/// everything went.
pub fn write_all_blocking(fd: RawFd, mut b: &[u8]) -> bool {
    for _ in 0..100 {
        if b.is_empty() {
            return true;
        }
        match send(fd, b, false) {
            Ok(n) => b = b.get(n..).unwrap_or(&[]),
            Err(e) if e == libc::EAGAIN => {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut p, 1, 10) };
            }
            Err(_) => return false,
        }
    }
    b.is_empty()
}
