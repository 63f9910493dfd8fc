//! Request heads that arrive in pieces. While the rest of a head is
//! awaited its bytes wait in a small buffer (1 KiB) instead of a full one,
//! and go back to a full buffer at the next read: what reaches the server,
//! and where a head becomes too large, must not change.
//!
//! Each expectation was checked on HAProxy 2.6.12 too: set
//! `HRS_TEST_BIN=/usr/sbin/haproxy` to run them against it.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::recv_until;
use http_common::{Origin, start};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

/// Sends `parts` with a pause after each, then reads the response head's
/// status line.
fn send_in_parts(port: u16, parts: &[&[u8]]) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(T)).expect("timeout");
    for p in parts {
        // A peer that closed on a too-large head may reset the rest.
        if c.write_all(p).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    let got = recv_until(&mut c, |g| g.windows(2).any(|w| w == b"\r\n"));
    let line = got.split(|&x| x == b'\r').next().unwrap_or(&[]);
    String::from_utf8_lossy(line).into_owned()
}

/// A head with a `X-Pad` header making it `total` bytes long.
fn head_of(total: usize) -> Vec<u8> {
    let start = b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    let end = b"\r\n\r\n";
    let pad = total - start.len() - end.len();
    [start.as_slice(), &vec![b'p'; pad], end].concat()
}

#[test]
fn a_head_sent_byte_by_byte_reaches_the_server_whole() {
    let o = Origin::ok();
    let (_p, port) = start(o.port(), "", "", "");
    let head = b"GET /bytes?q=1 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
    let parts: Vec<&[u8]> = head.chunks(1).collect();
    assert_eq!(send_in_parts(port, &parts), "HTTP/1.1 200 OK");
    let seen = o.wait_requests(1, T);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target(), "/bytes?q=1");
    assert_eq!(seen[0].head.get("x-a"), Some("1"));
}

#[test]
fn a_head_growing_past_a_small_buffer_is_forwarded_intact() {
    // 900 bytes wait in the small buffer, then 3 KiB more arrive.
    let o = Origin::ok();
    let (_p, port) = start(o.port(), "", "", "");
    let head = head_of(4000);
    let parts = [&head[..900], &head[900..1500], &head[1500..]];
    assert_eq!(send_in_parts(port, &parts), "HTTP/1.1 200 OK");
    let seen = o.wait_requests(1, T);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].head.get("x-pad").map(str::len), Some(4000 - 40));
}

#[test]
fn the_too_large_limit_is_2_6_s() {
    // With the default tune.bufsize and tune.maxrewrite, 2.6 takes this
    // head (2 headers) up to 15273 bytes, whatever pieces it came in.
    let o = Origin::ok();
    let (_p, port) = start(o.port(), "", "", "");
    for (total, want) in [
        (15273, "HTTP/1.1 200 OK"),
        (15274, "HTTP/1.1 400 Bad request"),
    ] {
        let head = head_of(total);
        let parts = [&head[..100], &head[100..1000], &head[1000..]];
        assert_eq!(send_in_parts(port, &parts), want, "head of {total} bytes");
    }
}
