//! The stats socket (management.txt 9.3) seen from a client: one command per
//! connection, `;`-separated commands, interactive mode with `prompt`,
//! levels, `stats timeout`, replies larger than a buffer, slow and abusive
//! clients, with HAProxy 2.6's exact bytes; and the weight commands
//! compared with HAProxy 2.6 (`/usr/sbin/haproxy`), which is the
//! specification: the exact reply bytes of a non-interactive session, and
//! the state the commands leave behind (`get weight`). Set
//! `HRS_TEST_BIN=/usr/sbin/haproxy` to run the latter against HAProxy.

mod common;

use common::*;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HELP: &str = "The following commands are valid at this level:
  help [<command>]                        : list matching or all commands
  prompt                                  : toggle interactive mode with prompt
  quit                                    : disconnect
  show info                               : report information about the running process
  show stat                               : report counters for each proxy and server
  show version                            : show version of the current process
  show cli level                          : display the level of the current CLI session
  operator                                : lower the level of the current CLI session to operator
  user                                    : lower the level of the current CLI session to user
  get weight <bk>/<srv>                   : report a server's current weight
  set weight <bk>/<srv> (<w>|<w>%)        : change a server's weight
  set server <bk>/<srv> state <st>        : set a server's state (ready|drain|maint)
  disable server <bk>/<srv>               : disable a server for maintenance (use 'enable' to reenable)
  enable server <bk>/<srv>                : enable a disabled server
  add acl [@<ver>] <acl> <pattern>        : add an acl entry
  add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)
  clear acl [@<ver>] <acl>                : clear the contents of this acl
  clear map [@<ver>] <map>                : clear the contents of this map
  commit acl @<ver> <acl>                 : commit the ACL at this version
  commit map @<ver> <map>                 : commit the map at this version
  del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>
  del map <map> [<key>|#<ref>]            : delete map entries matching <key>
  get acl <acl> <value>                   : report the patterns matching a sample for an ACL
  get map <acl> <value>                   : report the keys and values matching a sample for a map
  prepare acl <acl>                       : prepare a new version for atomic ACL replacement
  prepare map <acl>                       : prepare a new version for atomic map replacement
  set map <map> [<key>|#<ref>] <value>    : modify a map entry
  show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents
  show map [@ver] [map]                   : report available maps or dump a map's contents
  abort ssl ca-file <cafile>              : abort a transaction for a CA file
  abort ssl cert <certfile>               : abort a transaction for a certificate file
  abort ssl crl-file <crlfile>            : abort a transaction for a CRL file
  add ssl crt-list <list> <cert> [opts]*  : add to crt-list file <list> a line <cert> or a payload
  commit ssl ca-file <cafile>             : commit a CA file
  commit ssl cert <certfile>              : commit a certificate file
  commit ssl crl-file <crlfile>           : commit a CRL file
  del ssl ca-file <cafile>                : delete an unused CA file
  del ssl cert <certfile>                 : delete an unused certificate file
  del ssl crl-file <crlfile>              : delete an unused CRL file
  del ssl crt-list <list> <cert[:line]>   : delete a line <cert> from crt-list file <list>
  new ssl ca-file <cafile>                : create a new CA file to be used in a crt-list
  new ssl cert <certfile>                 : create a new certificate file to be used in a crt-list or a directory
  new ssl crlfile <crlfile>               : create a new CRL file to be used in a crt-list
  set ssl ca-file <cafile> <payload>      : replace a CA file
  set ssl cert <certfile> <payload>       : replace a certificate file
  set ssl crl-file <crlfile> <payload>    : replace a CRL file
  set ssl tls-key [id|file] <key>         : set the next TLS key for the <id> or <file> listener to <key>
  show ssl ca-file [<cafile>[:<index>]]   : display the SSL CA files used in memory, or the details of a <cafile>, or a single certificate of index <index> of a CA file <cafile>
  show ssl cert [<certfile>]              : display the SSL certificates used in memory, or the details of a file
  show ssl crl-file [<crlfile[:<index>>]] : display the SSL CRL files used in memory, or the details of a <crlfile>, or a single CRL of index <index> of CRL file <crlfile>
  show ssl crt-list [-n] [<list>]         : show the list of crt-lists or the content of a crt-list file <list>
  show ssl ocsp-response [id]             : display the IDs of the OCSP responses used in memory, or the details of a single OCSP response
  show tls-keys [id|*]                    : show tls keys references or dump tls ticket keys when id specified
";

/// A proxy with an admin UNIX stats socket, an operator TCP one, and a
/// backend `l` with `nsrv` servers (`s1`..).
struct Cli {
    px: Proxy,
    sock: PathBuf,
    tcp: u16,
}

fn start(nsrv: usize, stats_timeout: &str) -> Cli {
    let dir = TempDir::new("cli");
    let sock = dir.path().join("admin.sock");
    let (tcp, fe) = (free_port(), free_port());
    let mut servers = String::new();
    for i in 1..=nsrv {
        servers += &format!("    server s{i} 127.0.0.1:{}\n", 1000 + i);
    }
    let cfg = format!(
        "global\n    stats socket {} level admin\n    stats socket ipv4@127.0.0.1:{tcp} level operator\n    stats timeout {stats_timeout}\n\n\
         defaults\n    mode tcp\n    timeout client 5s\n    timeout server 5s\n    timeout connect 5s\n\n\
         listen l\n    bind 127.0.0.1:{fe}\n{servers}",
        sock.display()
    );
    let px = Proxy::start(&cfg, &[tcp, fe]);
    // Keep the socket's directory alive as long as the proxy.
    std::mem::forget(dir);
    Cli { px, sock, tcp }
}

fn unix(path: &PathBuf) -> UnixStream {
    let s = UnixStream::connect(path).expect("connect stats socket");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s
}

/// Reads until the text read so far ends with `end` (or EOF / 5 s).
fn read_until(s: &mut impl Read, end: &str) -> String {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    while !got.ends_with(end.as_bytes()) {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// True when the peer closed (EOF or reset) within `t`.
fn closed_within(s: &mut impl Read, t: Duration) -> bool {
    let end = Instant::now() + t;
    let mut b = [0u8; 4096];
    while Instant::now() < end {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn one_command_is_answered_then_the_connection_closes() {
    let c = start(1, "10s");
    assert_eq!(cli(&c.sock, "get weight l/s1"), "1 (initial 1)\n\n");
    let info = cli(&c.sock, "show info");
    assert!(info.starts_with("Name: HAProxy\nVersion: "), "{info}");
    assert!(info.ends_with("\n\n"), "{info}");
    assert_eq!(info_field(&info, "Nbthread"), Some(1));
}

#[test]
fn semicolon_separated_commands_run_in_order() {
    let c = start(2, "10s");
    assert_eq!(
        cli(
            &c.sock,
            "set weight l/s2 7; get weight l/s1;get weight l/s2"
        ),
        "\n1 (initial 1)\n\n7 (initial 1)\n\n"
    );
}

#[test]
fn unknown_command_lists_the_commands() {
    let c = start(1, "10s");
    assert_eq!(
        cli(&c.sock, "foo bar"),
        format!("Unknown command: 'foo'\n\n{HELP}\n")
    );
    assert_eq!(cli(&c.sock, "help"), format!("{HELP}\n"));
}

#[test]
fn prompt_mode_prompts_after_each_reply_until_quit() {
    let c = start(1, "10s");
    let mut s = unix(&c.sock);
    s.write_all(b"prompt\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "\n> ");
    s.write_all(b"get weight l/s1\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "1 (initial 1)\n\n> ");
    s.write_all(b"\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "> ");
    s.write_all(b"help\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), format!("{HELP}\n> "));
    // Two commands in one segment: two replies, each followed by a prompt.
    s.write_all(b"get weight l/s1\nget weight l/s1\n").unwrap();
    let two = read_until(&mut s, "1 (initial 1)\n\n> 1 (initial 1)\n\n> ");
    assert_eq!(two, "1 (initial 1)\n\n> 1 (initial 1)\n\n> ");
    s.write_all(b"quit\n").unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert_eq!(rest, b"", "quit answers nothing and closes");
}

#[test]
fn prompt_again_leaves_interactive_mode() {
    let c = start(1, "10s");
    let mut s = unix(&c.sock);
    s.write_all(b"prompt\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "\n> ");
    s.write_all(b"prompt;get weight l/s1\n").unwrap();
    let mut rest = String::new();
    let _ = s.read_to_string(&mut rest);
    assert_eq!(rest, "\n1 (initial 1)\n\n");
}

#[test]
fn show_stat_larger_than_a_buffer_arrives_whole() {
    let c = start(600, "10s");
    let stat = cli(&c.sock, "show stat");
    assert!(stat.len() > 64 * 1024, "only {} bytes", stat.len());
    assert!(
        stat.ends_with(",\n\n"),
        "truncated: {:?}",
        &stat[stat.len() - 40..]
    );
    let rows: Vec<&str> = stat.lines().filter(|l| l.starts_with("l,")).collect();
    // FRONTEND, 600 servers, BACKEND.
    assert_eq!(rows.len(), 602);
    assert!(rows[1].starts_with("l,s1,"));
    assert!(rows[600].starts_with("l,s600,"));
    assert!(rows[601].starts_with("l,BACKEND,"));
}

#[test]
fn a_slow_reader_gets_the_whole_reply_and_others_are_served_meanwhile() {
    let c = start(600, "10s");
    let whole = cli(&c.sock, "show stat");
    let mut slow = unix(&c.sock);
    slow.write_all(b"show stat\n").unwrap();
    // While the slow client reads nothing, other sessions are answered.
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..20 {
        assert_eq!(cli(&c.sock, "get weight l/s3"), "1 (initial 1)\n\n");
    }
    let mut got = Vec::new();
    let mut b = [0u8; 512];
    loop {
        match slow.read(&mut b) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&b[..n]);
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => panic!("slow reader: {e} after {} bytes", got.len()),
        }
    }
    // Same rows (the counters of `l` may only differ in the CLI's own use).
    let norm = |s: &str| s.lines().count();
    assert_eq!(norm(&String::from_utf8_lossy(&got)), norm(&whole));
    assert!(got.ends_with(b",\n\n"));
}

#[test]
fn many_sessions_at_once_are_all_answered() {
    let c = start(50, "10s");
    let sock = c.sock.clone();
    let handles: Vec<_> = (0..40)
        .map(|i| {
            let sock = sock.clone();
            std::thread::spawn(move || {
                let cmd = if i % 2 == 0 { "show stat" } else { "show info" };
                cli(&sock, cmd)
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let out = h.join().unwrap();
        if i % 2 == 0 {
            assert_eq!(out.lines().filter(|l| l.starts_with("l,")).count(), 52);
        } else {
            assert!(out.starts_with("Name: HAProxy\n") && out.ends_with("\n\n"));
        }
    }
}

#[test]
fn stats_timeout_closes_an_idle_session() {
    let c = start(1, "1s");
    let mut s = unix(&c.sock);
    s.write_all(b"prompt\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "\n> ");
    let t0 = Instant::now();
    assert!(
        closed_within(&mut s, Duration::from_secs(5)),
        "idle session kept"
    );
    let idle = t0.elapsed();
    assert!(idle >= Duration::from_millis(900), "closed after {idle:?}");
    // A session that keeps talking is not closed.
    let mut s = unix(&c.sock);
    s.write_all(b"prompt\n").unwrap();
    read_until(&mut s, "> ");
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(400));
        s.write_all(b"get weight l/s1\n").unwrap();
        assert_eq!(read_until(&mut s, "> "), "1 (initial 1)\n\n> ");
    }
}

#[test]
fn operator_level_may_read_but_not_change() {
    let c = start(1, "10s");
    let ask = |cmd: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", c.tcp)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.write_all(format!("{cmd}\n").as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    assert_eq!(ask("set weight l/s1 5"), "Permission denied\n\n");
    assert_eq!(ask("disable server l/s1"), "Permission denied\n\n");
    assert_eq!(ask("get weight l/s1"), "1 (initial 1)\n\n");
    assert!(ask("show info").starts_with("Name: HAProxy\n"));
}

#[test]
fn command_without_newline_runs_when_the_client_shuts_its_side() {
    let c = start(1, "10s");
    let mut s = unix(&c.sock);
    s.write_all(b"get weight l/s1").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert_eq!(out, "1 (initial 1)\n\n");
}

#[test]
fn an_endless_line_closes_only_that_session() {
    let c = start(1, "10s");
    let mut s = unix(&c.sock);
    s.set_write_timeout(Some(Duration::from_secs(5))).ok();
    let chunk = vec![b'x'; 8192];
    for _ in 0..16 {
        if s.write_all(&chunk).is_err() {
            break;
        }
    }
    assert!(
        closed_within(&mut s, Duration::from_secs(5)),
        "kept a 128 KB line"
    );
    assert_eq!(cli(&c.sock, "get weight l/s1"), "1 (initial 1)\n\n");
    assert_eq!(c.px.stderr().matches("panicked").count(), 0);
}

#[test]
fn a_client_resetting_mid_reply_does_not_disturb_the_process() {
    let c = start(600, "10s");
    for _ in 0..20 {
        let s = unix(&c.sock);
        (&s).write_all(b"show stat\n").unwrap();
        // Close at once with the reply unread: the kernel resets.
        drop(s);
    }
    let stat = cli(&c.sock, "show stat");
    assert!(stat.ends_with(",\n\n"));
    let info = cli(&c.sock, "show info");
    assert_eq!(info_field(&info, "CurrConns"), Some(0), "{info}");
}

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

/// Levels and modes, with HAProxy 2.6's replies: every command of a line
/// ends its reply with an empty line, even `operator`; a last `-` (what the
/// master CLI prefixes forwarded lines with) makes it silent.
const MODES_SCRIPT: &[(&str, &str)] = &[
    ("operator; show cli level", "\noperator\n\n"),
    ("user; show cli level", "\nuser\n\n"),
    ("operator -; show cli level", "operator\n\n"),
    ("expert-mode", "expert-mode is OFF\n\n"),
    ("expert-mode on; expert-mode", "\nexpert-mode is ON\n\n"),
    (
        "experimental-mode on; experimental-mode; expert-mode",
        "\nexperimental-mode is ON\n\nexpert-mode is OFF\n\n",
    ),
    ("expert-mode on -; expert-mode", "expert-mode is ON\n\n"),
    (
        "expert-mode on; expert-mode bla; expert-mode",
        "\n\nexpert-mode is OFF\n\n",
    ),
    ("user; expert-mode", "\nPermission denied\n\n"),
    ("operator; experimental-mode on", "\nPermission denied\n\n"),
    ("expert-mode off", "\n"),
];

/// Runs `script` on `sock`; returns every (command, reply).
fn run_script(sock: &Path, script: &[(&str, &str)]) -> Vec<(String, String)> {
    script
        .iter()
        .map(|(cmd, _)| (cmd.to_string(), cli(sock, cmd)))
        .collect()
}

fn assert_script(who: &str, script: &[(&str, &str)], got: &[(String, String)]) {
    for ((cmd, want), (_, reply)) in script.iter().zip(got) {
        assert_eq!(reply, want, "{who}: reply to '{cmd}'");
    }
}

/// Runs `script` on the proxy under test, then (the recorded replies are
/// still HAProxy's) on HAProxy 2.6 when installed.
fn script_matches_haproxy(script: &[(&str, &str)]) {
    let (px, sock) = start_weights(&test_bin());
    let got = run_script(&sock, script);
    assert_script("proxy under test", script, &got);
    drop(px);
    if test_bin() != HAPROXY && have_haproxy() {
        let (h, hsock) = start_weights(HAPROXY);
        let reference = run_script(&hsock, script);
        drop(h);
        assert_script("HAProxy 2.6", script, &reference);
        assert_eq!(got, reference, "haproxy-rs and HAProxy 2.6 transcripts");
    }
}

#[test]
fn set_weight_replies_and_results_match_haproxy_without_overflow() {
    script_matches_haproxy(WEIGHT_SCRIPT);
}

#[test]
fn levels_and_modes_reply_as_haproxy() {
    script_matches_haproxy(MODES_SCRIPT);
}

/// More lines in one buffer than the applet answers in one run: it runs
/// again on its own until every line is answered.
#[test]
fn thousands_of_lines_in_one_buffer_are_all_answered() {
    let c = start(1, "10s");
    let mut s = unix(&c.sock);
    s.write_all(b"prompt\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "\n> ");
    // 10,000 empty lines fit in one 16 KiB buffer; each gets a prompt.
    s.write_all(&vec![b'\n'; 10_000]).unwrap();
    let want = "> ".repeat(10_000);
    let got = read_until(&mut s, &want);
    assert_eq!(got.len(), want.len(), "answered {} lines", got.len() / 2);
    s.write_all(b"get weight l/s1\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "1 (initial 1)\n\n> ");
}
