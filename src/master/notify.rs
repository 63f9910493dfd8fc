//! systemd's readiness protocol (sd_notify(3)) without libsystemd: one
//! datagram of `KEY=value` lines to the socket named by `$NOTIFY_SOCKET`
//! (a path, or an abstract name when it starts with `@`).

use std::os::unix::net::UnixDatagram;

/// Sends `state` when `enabled` (`-Ws`) and systemd asked for it. Errors
/// are ignored: systemd may be gone, the service must not stop for that.
pub fn send(enabled: bool, state: &str) {
    if !enabled {
        return;
    }
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET") {
        send_to(&path, state);
    }
}

/// Sends `state` to the notify socket `path`.
fn send_to(path: &std::ffi::OsStr, state: &str) {
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path);
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name) {
            let _ = sock.send_to_addr(state.as_bytes(), &addr);
        }
    } else {
        let _ = sock.send_to(state.as_bytes(), path);
    }
}

/// The readiness message HAProxy 2.6 sends (no final newline).
pub fn ready() -> String {
    format!("READY=1\nMAINPID={}", crate::process::pid())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_datagram_reaches_the_notify_socket() {
        let dir = std::env::temp_dir().join(format!("hrs-notify-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("n.sock");
        let rx = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
        super::send(false, "NOPE=1\n");
        super::send_to(path.as_os_str(), "READY=1\n");
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"READY=1\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
