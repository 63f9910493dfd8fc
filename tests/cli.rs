//! Stats socket commands compared with HAProxy 2.6 (`/usr/sbin/haproxy`),
//! which is the specification: the exact reply bytes of a non-interactive
//! session, and the state the commands leave behind (`get weight`).
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs.

mod common;

use common::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A proxy with an admin stats socket and one roundrobin backend `b` with
/// servers `s` (weight 10), `m` (256), `one` (no weight: 1) and `z` (0).
/// Returns the guard and the socket's path (inside the guard's directory).
fn start_weights(program: &str) -> (Proxy, PathBuf) {
    let port = free_port();
    let dir = TempDir::new("cli");
    let sock = dir.path().join("stats.sock");
    let cfg = dir.write(
        "haproxy.cfg",
        &format!(
            "global\n    stats socket {} level admin\n\n\
             defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
             listen l\n    bind 127.0.0.1:{port}\n    server x 127.0.0.1:9\n\n\
             backend b\n    server s 127.0.0.1:9 weight 10\n    server m 127.0.0.1:9 weight 256\n\
             \x20   server one 127.0.0.1:9\n    server z 127.0.0.1:9 weight 0\n",
            sock.display()
        ),
    );
    let args: [&OsStr; 3] = ["-f".as_ref(), cfg.as_os_str(), "-db".as_ref()];
    let px = Proxy::spawn(program, dir, cfg.clone(), &args, &[], &[port]);
    let end = Instant::now() + Duration::from_secs(5);
    while std::os::unix::net::UnixStream::connect(&sock).is_err() {
        assert!(Instant::now() < end, "no stats socket {}", sock.display());
        std::thread::sleep(Duration::from_millis(10));
    }
    (px, sock)
}

/// `set weight` / `set server ... weight` / `get weight`, in order, with
/// the replies HAProxy 2.6.12 gives (recorded on a stats socket, one
/// non-interactive connection per line; the state carries over).
const WEIGHT_SCRIPT: &[(&str, &str)] = &[
    ("get weight b/s", "10 (initial 10)\n\n"),
    ("set weight b/s 50%", "\n"),
    ("get weight b/s", "5 (initial 10)\n\n"),
    ("set weight b/s 1000%", "\n"),
    ("get weight b/s", "100 (initial 10)\n\n"),
    ("set weight b/s 99999999999%", "\n"),
    ("get weight b/s", "256 (initial 10)\n\n"),
    (
        "set weight b/s -5%",
        "Relative weight must be positive.\n\n",
    ),
    ("get weight b/s", "256 (initial 10)\n\n"),
    (
        "set weight b/s 300",
        "Absolute weight can only be between 0 and 256 inclusive.\n\n",
    ),
    ("get weight b/s", "256 (initial 10)\n\n"),
    ("set weight b/s 0", "\n"),
    ("get weight b/s", "0 (initial 10)\n\n"),
    // 256 * 16777216 is 2^32: a u32 product wraps to 0.
    ("set weight b/m 16777216%", "\n"),
    ("get weight b/m", "256 (initial 256)\n\n"),
    ("set weight b/m 25600%", "\n"),
    ("get weight b/m", "256 (initial 256)\n\n"),
    ("set weight b/s 99999999999999999999999%", "\n"),
    ("get weight b/s", "256 (initial 10)\n\n"),
    (
        "set weight b/s -99999999999999999999999%",
        "Relative weight must be positive.\n\n",
    ),
    (
        "set weight b/s 99999999999999999999999",
        "Absolute weight can only be between 0 and 256 inclusive.\n\n",
    ),
    (
        "set weight b/s -5",
        "Absolute weight can only be between 0 and 256 inclusive.\n\n",
    ),
    ("set weight b/s +7", "\n"),
    ("get weight b/s", "7 (initial 10)\n\n"),
    ("set weight b/s 007", "\n"),
    ("get weight b/s", "7 (initial 10)\n\n"),
    (
        "set weight b/s abc",
        "Empty weight string empty or preceded by garbage\n",
    ),
    (
        "set weight b/s %",
        "Empty weight string empty or preceded by garbage\n",
    ),
    ("set weight b/s 5x", "Trailing garbage in weight string\n"),
    ("set weight b/s 5%x", "Trailing garbage in weight string\n"),
    ("set weight b/s 5%%", "Trailing garbage in weight string\n"),
    ("set weight b/s 0x10", "Trailing garbage in weight string\n"),
    (
        "set weight b/s 300x",
        "Absolute weight can only be between 0 and 256 inclusive.\n\n",
    ),
    ("get weight b/s", "7 (initial 10)\n\n"),
    ("set weight b/s -0%", "\n"),
    ("get weight b/s", "0 (initial 10)\n\n"),
    ("set weight b/s", "Require <weight> or <weight%>.\n\n"),
    ("set weight b/s 5 extra", "\n"),
    ("get weight b/s", "5 (initial 10)\n\n"),
    ("set server b/s weight 20%", "\n"),
    ("get weight b/s", "2 (initial 10)\n\n"),
    ("set server b/s weight 1000%", "\n"),
    ("get weight b/s", "100 (initial 10)\n\n"),
    (
        "set server b/s weight 300",
        "Absolute weight can only be between 0 and 256 inclusive.\n\n",
    ),
    (
        "set server b/s weight -5%",
        "Relative weight must be positive.\n\n",
    ),
    ("set server b/s weight 99999999999%", "\n"),
    ("get weight b/s", "256 (initial 10)\n\n"),
    (
        "set server b/s weight",
        "Require <weight> or <weight%>.\n\n",
    ),
    ("set weight b/one 99999999999%", "\n"),
    ("get weight b/one", "256 (initial 1)\n\n"),
    ("set weight b/z 50%", "\n"),
    ("get weight b/z", "0 (initial 0)\n\n"),
    ("set weight b/nosuch 5", "No such server.\n\n"),
    ("set weight x/s 5", "No such backend.\n\n"),
    ("set weight bs 5", "Require 'backend/server'.\n\n"),
    ("set weight", "Require 'backend/server'.\n\n"),
    ("get weight", "Require 'backend/server'.\n\n"),
    ("set weight b/s 4; get weight b/s", "\n4 (initial 10)\n\n"),
];

/// Runs [`WEIGHT_SCRIPT`] on `sock`; returns every (command, reply).
fn run_script(sock: &Path) -> Vec<(String, String)> {
    WEIGHT_SCRIPT
        .iter()
        .map(|(cmd, _)| (cmd.to_string(), cli(sock, cmd)))
        .collect()
}

fn assert_script(who: &str, got: &[(String, String)]) {
    for ((cmd, want), (_, reply)) in WEIGHT_SCRIPT.iter().zip(got) {
        assert_eq!(reply, want, "{who}: reply to '{cmd}'");
    }
}

#[test]
fn set_weight_replies_and_results_match_haproxy_without_overflow() {
    let (px, sock) = start_weights(&test_bin());
    let got = run_script(&sock);
    assert_script("proxy under test", &got);
    drop(px);
    // The recorded replies are still HAProxy's.
    if test_bin() != HAPROXY && have_haproxy() {
        let (h, hsock) = start_weights(HAPROXY);
        let reference = run_script(&hsock);
        drop(h);
        assert_script("HAProxy 2.6", &reference);
        assert_eq!(got, reference, "haproxy-rs and HAProxy 2.6 transcripts");
    }
}
