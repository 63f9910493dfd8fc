//! The master CLI (`-S`): its commands, levels, prompts and `@` routing,
//! and its replies compared byte for byte with HAProxy 2.6's.

mod common;
#[path = "common/mw.rs"]
mod mw_common;

use common::*;
use mw_common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

#[test]
fn master_cli() {
    let be = Backend::echo();
    let (port, uport) = (free_port(), free_port());
    let uspec = format!("ipv4@127.0.0.1:{uport},level,user");
    let mw = Mw::start(
        bin(),
        "mw-cli",
        &tcp_cfg("", port, be.port),
        &["-S", &uspec],
    );
    let m = mw.pid();
    let w1 = mw.worker();
    assert!(wait_listen(w1, port));
    let ver = mw.cli("show version\n");
    assert_eq!(ver, format!("{}\n\n", version()));
    let ver = ver.trim_end().to_string();

    // Fresh start.
    let sp = mw.cli("show proc\n");
    let l: Vec<&str> = sp.split('\n').collect();
    assert_eq!(
        l[0],
        "#<PID>          <type>          <reloads>       <uptime>        <version>      "
    );
    check_proc_line(l[1], m, "master", "0 [failed: 0]", &ver);
    assert_eq!(
        l[2..],
        ["# workers", l[3], "# programs", "", ""][..],
        "{sp}"
    );
    check_proc_line(l[3], w1, "worker", "0", &ver);

    // An old worker kept by a connection.
    let mut c = held(port);
    let w2 = mw.reload();
    assert_ne!(w1, w2);
    let sp = mw.cli("show proc\n");
    let l: Vec<&str> = sp.split('\n').collect();
    assert_eq!(l.len(), 9, "{sp}");
    check_proc_line(l[1], m, "master", "1 [failed: 0]", &ver);
    assert_eq!(l[2], "# workers");
    check_proc_line(l[3], w2, "worker", "0", &ver);
    assert_eq!(l[4], "# old workers");
    check_proc_line(l[5], w1, "worker", "1", &ver);
    assert_eq!(l[6..], ["# programs", "", ""][..], "{sp}");

    // Commands for the workers.
    let info = mw.cli("@1 show info\n");
    assert!(info.starts_with("Name: HAProxy\n"), "{info}");
    assert!(info.contains(&format!("\nPid: {w2}\n")), "{info}");
    assert!(info.ends_with("\n\n"), "{info:?}");
    let info = mw.cli(&format!("@!{w1} show info\n"));
    assert!(info.contains(&format!("\nPid: {w1}\n")), "{info}");
    let info = mw.cli(&format!("@!{w2} show info\n"));
    assert!(info.contains(&format!("\nPid: {w2}\n")), "{info}");
    assert_eq!(mw.cli("@master show version\n"), format!("{ver}\n\n"));
    assert_eq!(mw.cli("@0 show version\n"), format!("{ver}\n\n"));
    assert_eq!(mw.cli("@1 show cli level\n"), "admin\n\n");
    // A prefix alone sends the next lines there.
    let r = mw.cli("@1\nshow cli level\n");
    assert_eq!(r, "admin\n\n");
    // Pipelined commands, `;`-separated ones.
    assert_eq!(
        mw.cli("show version;show cli level\n"),
        format!("{ver}\n\nadmin\n\n")
    );
    assert_eq!(mw.cli("show cli sockets\n"), "\n");

    // No such process: the reply, and the connection closes.
    for bad in ["@2", "@!99999999", "@abc"] {
        let mut s = UnixStream::connect(&mw.sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.write_all(format!("{bad} show info\nshow version\n").as_bytes())
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{bad}: not closed: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("Can't find the target PID matching the prefix '{bad}'\n")
        );
    }

    // Levels.
    assert_eq!(mw.cli("show cli level\n"), "admin\n\n");
    assert_eq!(
        mw.cli("user\nshow cli level\nreload\n@1 show cli level\n"),
        "user\n\nPermission denied\n\nuser\n\n"
    );
    assert_eq!(mw.cli("operator\nshow cli level\n"), "operator\n\n");
    assert_eq!(mw.cli("user;reload\n"), "Permission denied\n\n");
    {
        // Raising the level: refused, and the connection closes.
        let mut s = UnixStream::connect(&mw.sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.write_all(b"user\noperator\nshow cli level\n").unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).expect("closed");
        assert_eq!(String::from_utf8_lossy(&out), "Permission denied!\n");
    }

    // help, unknown commands.
    assert_eq!(mw.cli("help\n"), format!("{MHELP}\n"));
    let unknown = mw.cli("foo\n");
    assert!(
        unknown.starts_with(
            "Unknown command, but maybe one of the following ones is a better match:\n  @!<pid>"
        ) && unknown.ends_with("  quit                                    : disconnect\n\n"),
        "{unknown}"
    );
    assert_eq!(
        mw.cli("\n"),
        format!(
            "Unknown command. Please enter one of the following commands only:\n{}\n",
            MHELP.split_once('\n').unwrap().1
        )
    );
    assert_eq!(mw.cli("quit\nshow version\n"), "");

    // Prompt mode.
    {
        let mut s = UnixStream::connect(&mw.sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut say = |line: &str, end: &str| {
            s.write_all(line.as_bytes()).unwrap();
            read_until(&mut s, end)
        };
        assert_eq!(say("prompt\n", "master> "), "master> ");
        assert_eq!(say("show cli level\n", "master> "), "admin\n\nmaster> ");
        let wp = format!("{w2}> ");
        assert_eq!(say("@1\n", &wp), wp);
        assert_eq!(say("show cli level\n", &wp), format!("admin\n\n{wp}"));
        assert_eq!(say("@master\n", "master> "), "master> ");
        assert_eq!(say("@1 show cli level\n", "master> "), "admin\n\nmaster> ");
        assert_eq!(say("user\n", "master> "), "master> ");
        assert_eq!(say("reload\n", "master> "), "Permission denied\n\nmaster> ");
        assert_eq!(say("prompt\n", "x"), "", "prompt off");
        assert_eq!(say("show cli level\n", "\n\n"), "user\n\n");
        s.write_all(b"quit\n").unwrap();
        closed(&mut s).expect("quit closes");
    }

    // The user-level TCP master CLI.
    let tcp = |input: &str| {
        let mut s = TcpStream::connect(local(uport)).expect("connect user CLI");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.write_all(input.as_bytes()).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).expect("closed");
        String::from_utf8_lossy(&out).into_owned()
    };
    assert_eq!(tcp("show cli level\n"), "user\n\n");
    assert_eq!(tcp("reload\n"), "Permission denied\n\n");
    assert_eq!(tcp("@1 show cli level\n"), "user\n\n");
    assert!(tcp("admin\n").starts_with("Unknown command, but maybe"));
    assert_eq!(
        mw.count("Reloading HAProxy"),
        1,
        "a refused reload reloaded"
    );

    // `reload` from the CLI: nothing back, the connection closes, a new
    // worker comes; the old ones stay while their connection is open.
    assert_eq!(mw.cli("reload\n"), "");
    assert!(
        mw.wait_count("Loading success.", 3, Duration::from_secs(10)),
        "{}",
        mw.stderr()
    );
    let w3 = mw.worker();
    assert!(![w1, w2].contains(&w3));
    assert!(wait_listen(w3, port));
    let (cur, old) = mw.workers();
    assert_eq!(cur, vec![w3]);
    assert!(old.contains(&w1), "{old:?}");
    // The held connection still works on the first worker.
    c.write_all(b"y").unwrap();
    let mut b = [0u8; 1];
    c.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"y");
    drop(c);
    let former = format!("Former worker ({w1}) exited with code 0 (Exit)");
    assert!(
        mw.wait_line("[WARNING]", m, &former, Duration::from_secs(5)),
        "{}",
        mw.stderr()
    );
}

/// `quit` in prompt mode: HAProxy 2.6 sends the prompt once more, then
/// closes (`master> `, or `<pid>> ` after `@1`).
#[test]
fn master_cli_quit_in_prompt_mode() {
    let be = Backend::echo();
    let port = free_port();
    let mw = Mw::start(bin(), "mw-quit", &tcp_cfg("", port, be.port), &[]);
    let w = mw.worker();
    for (lines, prompt) in [
        (vec!["prompt\n"], "master> ".to_string()),
        (vec!["prompt\n", "@1\n"], format!("{w}> ")),
    ] {
        let mut s = UnixStream::connect(&mw.sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        for l in lines {
            s.write_all(l.as_bytes()).unwrap();
            assert!(read_until(&mut s, "> ").ends_with("> "));
        }
        s.write_all(b"quit\n").unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).expect("closed");
        assert_eq!(String::from_utf8_lossy(&out), prompt, "reply to quit");
    }
}

// ---------------------------------------------------------------------------
// 10. The master CLI's replies, side by side with HAProxy

/// One master CLI exchange per input (fresh connection, half-closed after
/// the input), and `show proc` with an old worker kept; the version,
/// pids and uptimes named.
fn cli_transcript(bin: &str) -> Vec<(String, String)> {
    let be = Backend::echo();
    let port = free_port();
    let mw = Mw::start(bin, "mw-clicmp", &tcp_cfg("", port, be.port), &[]);
    let m = mw.pid();
    let w1 = mw.worker();
    assert!(wait_listen(w1, port));
    let _c = held(port);
    let w2 = mw.reload();
    assert!(wait_listen(w2, port));
    let ver = mw.cli("show version\n").trim_end().to_string();
    let norm = |s: String| {
        let mut s = s.replace(&ver, "<V>");
        for (pid, name) in [(m, "M"), (w1, "W1"), (w2, "W2")] {
            s = s.replace(&format!("{pid:<15}"), &format!("{name:<15}"));
            s = s.replace(&format!("{pid}> "), &format!("{name}> "));
            s = s.replace(&format!("{pid}("), &format!("{name}("));
        }
        // Uptimes: `0d00h00m05s` -> `<uptime>   `.
        let mut out = String::new();
        for l in s.split_inclusive('\n') {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.iter().find(|w| is_uptime(w)) {
                Some(up) => out += &l.replacen(up, &format!("{:<11}", "<up>"), 1),
                None => out += l,
            }
        }
        out
    };
    let inputs = [
        "help\n",
        "\n",
        "foo\n",
        "admin\n",
        "show version\n",
        "show cli level\n",
        "show cli sockets\n",
        "quit\n",
        "show version;show cli level\n",
        "user\nshow cli level\nreload\n@1 show cli level\n",
        "operator\nshow cli level\n",
        "user;reload\n",
        "user\noperator\nshow cli level\n",
        "@2 show info\nshow version\n",
        "@!99999999 show info\n",
        "@abc show info\n",
        "@1 show cli level\n",
        "@master show version\n",
        "@0 show version\n",
        "@1\nshow cli level\n",
        "prompt\nshow cli level\n@1\nshow cli level\n@master\nshow version\n@1 show cli level\nuser\nreload\nprompt\nshow cli level\n",
        "show proc\n",
        "@master show proc\n",
        // Modes: kept by the master (in its prompt), carried to the workers.
        "expert-mode on; @1 expert-mode\n",
        "experimental-mode on; @1 experimental-mode; expert-mode\n",
        "expert-mode on; expert-mode; @1 expert-mode\n",
        "expert-mode on; expert-mode bla; @1 expert-mode\n",
        "prompt\nexperimental-mode on\nmcli-debug-mode on\nexpert-mode on\nexperimental-mode off\n",
        "prompt\nexpert-mode on\n@1\nexpert-mode\nshow cli level\n",
        "prompt\noperator\nexpert-mode on\nshow cli level\n",
        "user; experimental-mode on\n",
        "operator; mcli-debug-mode on\n",
        "operator; @1 show cli level\n",
        "mcli-debug-mode off; show cli level\n",
        // `@<n>` takes one command; the next ones run on the master.
        "show cli level; @1 user; show cli level; show version\n",
        "@1 expert-mode on; expert-mode\n",
        "show cli level; @1 show cli level; @master show cli level\n",
        "@1 operator; show cli level\n",
    ];
    inputs
        .iter()
        .map(|i| (i.to_string(), norm(mw.cli(i))))
        .collect()
}

#[test]
fn master_cli_replies_match_haproxy() {
    if !have_haproxy() {
        return;
    }
    let ours = cli_transcript(bin());
    let theirs = cli_transcript(HAPROXY);
    let diffs: Vec<String> = ours
        .iter()
        .zip(theirs.iter())
        .filter(|(o, t)| o.1 != t.1)
        .map(|(o, t)| {
            format!(
                "reply to {:?}:\n  haproxy-rs: {:?}\n  HAProxy:    {:?}",
                o.0, o.1, t.1
            )
        })
        .collect();
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `show version` is a worker CLI command in HAProxy 2.6 too: `@1 show
/// version` on the master CLI (and `show version` on a stats socket)
/// gives the version and an empty line.
#[test]
fn worker_show_version_through_the_master_cli() {
    let be = Backend::echo();
    let port = free_port();
    let mw = Mw::start(bin(), "mw-wver", &tcp_cfg("", port, be.port), &[]);
    assert_eq!(mw.cli("@1 show version\n"), format!("{}\n\n", version()));
}
