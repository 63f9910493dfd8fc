//! Capturing the PROXY headers a proxy sends to its servers, and comparing
//! them in a canonical form (shared by the PROXY-sending tests).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

pub const SIG: &[u8; 12] = b"\r\n\r\n\x00\r\nQUIT\n";

// ------------------------------------------------------------- capture --

/// Reads the PROXY header at the start of a connection: a whole v2 header,
/// a v1 line, or nothing when the data is something else (or none comes
/// within a second).
pub fn read_header(c: &mut TcpStream) -> Vec<u8> {
    c.set_read_timeout(Some(Duration::from_secs(1))).ok();
    let mut data = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        if data.len() >= 16 && data.starts_with(SIG) {
            let n = 16 + usize::from(u16::from_be_bytes([data[14], data[15]]));
            if data.len() >= n {
                data.truncate(n);
                return data;
            }
        } else if data.starts_with(b"PROXY") {
            if let Some(i) = data.windows(2).position(|w| w == b"\r\n") {
                data.truncate(i + 2);
                return data;
            }
        } else if !data.is_empty() && !SIG.starts_with(&data[..data.len().min(12)]) {
            return Vec::new();
        }
        match c.read(&mut b) {
            Ok(0) | Err(_) => return Vec::new(),
            Ok(n) => data.extend_from_slice(&b[..n]),
        }
    }
}

/// A capture listener per case: each connection's header goes on the
/// channel as (case index, header); the connection gets a short HTTP
/// response. The listener threads end with the test process.
pub fn capture(n: usize) -> (Vec<u16>, Receiver<(usize, Vec<u8>)>) {
    let (tx, rx) = channel();
    let mut ports = Vec::new();
    for i in 0..n {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind capture");
        ports.push(l.local_addr().expect("addr").port());
        let tx: Sender<(usize, Vec<u8>)> = tx.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let h = read_header(&mut c);
                    let _ = tx.send((i, h));
                    let _ = c.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    );
                    let _ = c.shutdown(std::net::Shutdown::Write);
                    let mut b = [0u8; 1024];
                    while matches!(c.read(&mut b), Ok(n) if n > 0) {}
                });
            }
        });
    }
    (ports, rx)
}

// ---------------------------------------------------------- comparison --

/// CRC32C (Castagnoli), bit by bit: an independent check of the TLV.
pub fn crc32c(b: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &x in b {
        crc ^= u32::from(x);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The header in canonical form: v2 addresses and CRC32C value zeroed
/// (after checking the CRC and, when known, the addresses), v1 ports
/// replaced by 0 (after checking them). `src`/`dst`: the addresses the
/// header must carry (None: not checked).
pub fn canon(what: &str, h: &[u8], src: Option<SocketAddr>, dst: Option<u16>) -> Vec<u8> {
    if h.starts_with(SIG) {
        let mut b = h.to_vec();
        let n = match b[13] {
            0x11 => 12,
            0x21 => 36,
            _ => 0,
        };
        if let (Some(s), Some(d)) = (src, dst) {
            let ports = &b[16 + n - 4..16 + n];
            assert_eq!(ports[..2], s.port().to_be_bytes(), "{what}: source port");
            assert_eq!(ports[2..], d.to_be_bytes(), "{what}: destination port");
        }
        b[16..16 + n].fill(0);
        let mut i = 16 + n;
        while i + 3 <= b.len() {
            let l = usize::from(u16::from_be_bytes([b[i + 1], b[i + 2]]));
            if b[i] == 0x03 && l == 4 && i + 7 <= b.len() {
                let mut z = h.to_vec();
                z[i + 3..i + 7].fill(0);
                assert_eq!(
                    h[i + 3..i + 7],
                    crc32c(&z).to_be_bytes(),
                    "{what}: CRC32C TLV value"
                );
                b[i + 3..i + 7].fill(0);
            }
            i += 3 + l;
        }
        assert_eq!(i, b.len(), "{what}: TLVs fill the header exactly");
        return b;
    }
    if h.starts_with(b"PROXY") {
        let line = String::from_utf8_lossy(h).into_owned();
        let f: Vec<&str> = line.trim_end().split(' ').collect();
        assert_eq!(f.len(), 6, "{what}: v1 line {line:?}");
        if let Some(d) = dst {
            assert_eq!(f[5], d.to_string(), "{what}: v1 destination port");
        }
        if let Some(s) = src {
            assert_eq!(f[4], s.port().to_string(), "{what}: v1 source port");
        }
        return format!("{} {} {} {} 0 0\r\n", f[0], f[1], f[2], f[3]).into_bytes();
    }
    h.to_vec()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/proxy_v2/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let t = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let t = t.trim();
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).expect("hex fixture"))
        .collect()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
