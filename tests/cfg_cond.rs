//! Conditional blocks (`.if` / `.elif` / `.else` / `.endif`), the message
//! directives (`.diag`, `.notice`, `.warning`, `.alert`) and `-cc`
//! (configuration.txt 2.4), run through the real binary with `-c -f <file>`
//! and `-cc <expr>`. The expected exit codes and `[ALERT]` lines are HAProxy
//! 2.6's. Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run the suite against
//! HAProxy, except `haproxy_rs_claims_its_own_features_and_version`.

mod common;

use common::*;

/// Runs the binary under test with `args`.
fn run(args: &[&str]) -> (i32, String, String) {
    run_program(&test_bin(), args, &[("HRS_COND_SET", "yes")])
}

/// The `[ALERT]`, `[WARNING]`, `[NOTICE]` and `[DIAG]` lines of stderr (and
/// the lines that continue them), pid replaced by `PID`. HAProxy's one-time
/// "haproxy version is" / "path to executable" notices are left out.
fn messages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| !l.contains("haproxy version is") && !l.contains("path to executable is"))
        .map(|l| match (l.find(" ("), l.find(") : ")) {
            (Some(a), Some(b)) if a < b && l.starts_with('[') => {
                format!("{} (PID{}", &l[..a], &l[b..])
            }
            _ => l.to_string(),
        })
        .collect()
}

/// A frontend that passes `-c`, followed by `extra`.
fn with_frontend(extra: &str) -> String {
    format!(
        "frontend f\n  bind 127.0.0.1:{}\n  timeout client 1s\n{extra}",
        free_port()
    )
}

/// Writes `text` to a temporary file and runs `-c -f file args...`; returns
/// the exit code, the messages (file name replaced by `c.cfg`) and stdout.
fn check(text: &str, args: &[&str]) -> (i32, Vec<String>, String) {
    let dir = TempDir::new("cond");
    let f = dir.write("c.cfg", text);
    let f = f.to_str().expect("utf-8 path");
    let mut a = vec!["-c", "-f", f];
    a.extend_from_slice(args);
    let (code, out, err) = run(&a);
    let msgs = messages(&err.replace(f, "c.cfg"));
    (code, msgs, out)
}

fn alert(text: &str) -> String {
    format!("[ALERT]    (PID) : config : {text}")
}

#[test]
fn cc_exits_0_when_true_and_1_when_false() {
    let table: &[(&str, i32)] = &[
        ("1", 0),
        ("0", 1),
        ("", 1),
        ("\"\"", 1),
        ("'1'", 0),
        ("-1", 0),
        ("0x10", 0),
        ("!0", 0),
        ("! ! 0", 1),
        ("1 && 0", 1),
        ("0 || 1 && 0", 1),
        ("1 || 1 && 0", 0),
        ("( 1 && !0 ) || 0", 0),
        ("defined(HRS_COND_SET)", 0),
        ("defined(HRS_COND_UNSET)", 1),
        ("defined()", 1),
        ("streq(\"$HRS_COND_SET\",yes)", 0),
        ("strneq(\"$HRS_COND_SET\",yes)", 1),
        ("streq( a , a )", 0),
        ("streq(a, a)", 1),
        ("streq(a\\\\,a\\\\)", 0),
        ("feature(LINUX_SPLICE)", 0),
        ("feature(NO_SUCH_FEATURE)", 1),
        ("feature(+LINUX_SPLICE)", 1),
        ("version_atleast(2.6)", 0),
        ("version_atleast(2.4-dev19)", 0),
        ("version_atleast(3.0)", 1),
        ("version_before(3.0)", 0),
        ("version_before(2.6)", 1),
        ("version_atleast(garbage)", 0),
    ];
    for &(expr, want) in table {
        let (code, _, err) = run(&["-cc", expr]);
        assert_eq!(code, want, "-cc {expr:?}: {err}");
        assert!(messages(&err).is_empty(), "-cc {expr:?}: {err}");
    }
}

#[test]
fn cc_errors_exit_2_with_haproxy_alert() {
    let eval = |m: &str| format!("Failed to evaluate condition: {m}");
    let table: Vec<(&str, String)> = vec![
        ("foo", eval("unparsable conditional expression 'foo'")),
        (
            "enabled(POLL)",
            eval("unparsable conditional expression 'enabled(POLL)'"),
        ),
        ("1 || foo", eval("unparsable conditional expression 'foo'")),
        ("1 &&", eval("unparsable conditional expression '&&'")),
        ("  ", eval("unparsable conditional sub-expression ' '")),
        (
            "1x ",
            eval("unexpected character 'x' at the end of conditional expression '1x '"),
        ),
        (
            "foo   bar",
            eval("unparsable conditional expression 'foo bar'"),
        ),
        (
            "1 #x",
            eval("unexpected character '#' at the end of conditional expression '1 #x'"),
        ),
        ("(1", eval("expected ')' after conditional expression '(1'")),
        (
            "streq(a)",
            eval(
                "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression",
            ),
        ),
        (
            "defined(A,B)",
            eval(
                "expected ')' before ',B)' in argument 1 of predicate 'defined' used in conditional expression",
            ),
        ),
        (
            "\"1",
            "Syntax Error in condition: Unmatched quote.".to_string(),
        ),
        (
            "\\x4",
            "Syntax Error in condition: Truncated or invalid hexadecimal sequence.".to_string(),
        ),
        (
            "\"${A\"",
            "Unhandled error in condition, please report this to the developers.".to_string(),
        ),
    ];
    for (expr, msg) in table {
        let (code, _, err) = run(&["-cc", expr]);
        assert_eq!(code, 2, "-cc {expr:?}: {err}");
        assert_eq!(messages(&err), vec![alert(&msg)], "-cc {expr:?}");
    }
    // -q silences the alert, not the exit code.
    let (code, _, err) = run(&["-q", "-cc", "foo"]);
    assert_eq!((code, err.as_str()), (2, ""));
}

#[test]
fn cc_is_evaluated_after_the_whole_command_line() {
    let (code, _, err) = run(&["-cc"]);
    assert_eq!(code, 1);
    assert!(err.contains("Usage : "), "{err}");
    // A bad option after -cc is still a usage error, as in HAProxy.
    let (code, _, err) = run(&["-cc", "1", "-zzz"]);
    assert_eq!(code, 1);
    assert!(err.contains("Usage : "), "{err}");
    let (code, _, _) = run(&["-cc", "foo", "-q"]);
    assert_eq!(code, 2);
}

#[test]
fn if_blocks_keep_one_branch_and_skip_the_others_unparsed() {
    let text = with_frontend(
        ".if 0\n  no-such-keyword\n.elif defined(HRS_COND_SET)\n  maxconn 100\n\
         .if 1\n.else\n  .bogus-directive\n  .alert \"not shown\"\n.endif\n\
         .elif 1\n  no-such-keyword\n.else\n  no-such-keyword\n.endif\n\
         .if 0\n.if foo(\n.elif bar(\n.endif\n.endif # comment\n",
    );
    let (code, msgs, out) = check(&text, &[]);
    assert_eq!(
        (code, msgs, out.as_str()),
        (0, vec![], "Configuration file is valid\n")
    );
    // A false block around the only frontend leaves nothing to listen on.
    let (code, _, out) = check(&format!(".if 0\n{}.endif\n", with_frontend("")), &[]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn tokenizer_errors_in_false_blocks_are_still_reported() {
    let (code, msgs, _) = check(&with_frontend(".if 0\n  bar \"unterminated\n.endif\n"), &[]);
    assert_eq!(code, 1);
    assert!(
        msgs.iter()
            .any(|m| m.contains("[c.cfg:5]") && m.contains("unmatched quote at position 7")),
        "{msgs:?}"
    );
}

#[test]
fn block_errors_print_haproxy_alerts_and_stop_reading() {
    let err_in = alert("Error(s) found in configuration file : c.cfg");
    let fatal = alert("Fatal errors found in configuration.");
    let table: Vec<(&str, Vec<String>)> = vec![
        (
            ".endif\nfoo\n",
            vec![
                alert("parsing [c.cfg:1]: lone '.endif' with no matching '.if'."),
                err_in.clone(),
            ],
        ),
        (
            ".elif 1\n",
            vec![
                alert("parsing [c.cfg:1]: lone '.elif' with no matching '.if'."),
                err_in.clone(),
            ],
        ),
        (
            ".if 1\n.else\n.else\n",
            vec![
                alert("parsing [c.cfg:3]: '.else' after '.else' is not permitted."),
                err_in.clone(),
            ],
        ),
        (
            ".if 0\n.else\n.elif 1\n",
            vec![
                alert("parsing [c.cfg:3]: '.elif' after '.else' is not permitted."),
                err_in.clone(),
            ],
        ),
        (
            ".if 1\nglobal\n\n",
            vec![
                alert("parsing [c.cfg:3]: non-terminated '.if' block."),
                err_in.clone(),
            ],
        ),
        (
            ".if 1\n.endif foo\nfoo\n",
            vec![
                alert("parsing [c.cfg:2]: Unexpected argument 'foo' for '.endif'."),
                alert("parsing [c.cfg:2]: non-terminated '.if' block."),
                err_in.clone(),
            ],
        ),
        (
            // Not an abort: "Fatal errors" is printed, but reading stops.
            ".foo\nfoo\n",
            vec![
                alert("parsing [c.cfg:1]: unknown directive '.foo'."),
                err_in.clone(),
                fatal.clone(),
            ],
        ),
        (
            ".if foo\n",
            vec![
                alert(
                    "parsing [c.cfg:1]: unparsable conditional expression 'foo' in '.if' at position 1:",
                ),
                "  .if foo".to_string(),
                "      ^".to_string(),
                err_in.clone(),
            ],
        ),
        (
            ".if 0\n.elif 1 1 # c\n",
            vec![
                alert(
                    "parsing [c.cfg:2]: unexpected character '1' at the end of conditional expression '1 1 ' in '.elif' at position 3:",
                ),
                "  .elif 1 1 ".to_string(),
                "          ^".to_string(),
                err_in.clone(),
            ],
        ),
    ];
    for (text, want) in table {
        let (code, msgs, _) = check(text, &[]);
        assert_eq!(code, 1, "{text:?}: {msgs:?}");
        assert_eq!(msgs, want, "{text:?}");
    }
    let (code, msgs, _) = check(&".if 1\n".repeat(101), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        msgs,
        vec![
            alert("parsing [c.cfg:100]: too many nested '.if', max is 100."),
            err_in
        ]
    );
}

#[test]
fn message_directives_print_at_their_level() {
    let (code, msgs, out) = check(
        &with_frontend(".notice \"hello world\"\n.warning w\n.diag d\n"),
        &[],
    );
    assert_eq!(code, 0, "{msgs:?}");
    assert_eq!(
        msgs,
        vec![
            "[NOTICE]   (PID) : config : parsing [c.cfg:4]: 'hello world'.".to_string(),
            "[WARNING]  (PID) : config : parsing [c.cfg:5]: 'w'.".to_string(),
        ]
    );
    assert_eq!(out, "Warnings were found.\nConfiguration file is valid\n");
    // .diag only in diagnostic mode, in order with the others.
    let (_, msgs, _) = check(&with_frontend(".diag d1\n.warning w\n.diag d2\n"), &["-dD"]);
    assert_eq!(
        msgs,
        vec![
            "[DIAG]     (PID) : config : parsing [c.cfg:4]: 'd1'.".to_string(),
            "[WARNING]  (PID) : config : parsing [c.cfg:5]: 'w'.".to_string(),
            "[DIAG]     (PID) : config : parsing [c.cfg:6]: 'd2'.".to_string(),
        ]
    );
    // .alert is fatal and stops reading; "Fatal errors" is not printed.
    let (code, msgs, _) = check(&with_frontend(".alert \"stop here\"\nfoo\n"), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        msgs,
        vec![
            alert("parsing [c.cfg:4]: 'stop here'."),
            alert("Error(s) found in configuration file : c.cfg"),
        ]
    );
    // An unquoted message with spaces is an error, and reading goes on.
    let (code, msgs, _) = check(&with_frontend(".notice two words\n"), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        msgs,
        vec![
            alert(
                "parsing [c.cfg:4]: Unexpected argument 'words' for '.notice'. Use quotes if the message should contain spaces."
            ),
            alert("Error(s) found in configuration file : c.cfg"),
            alert("Fatal errors found in configuration."),
        ]
    );
    // Directives in a false block are skipped.
    let (code, msgs, _) = check(
        &with_frontend(".if 0\n.alert x\n.notice a b\n.endif\n"),
        &[],
    );
    assert_eq!((code, msgs), (0, vec![]));
}

#[test]
fn haproxy_rs_claims_its_own_features_and_version() {
    let rs = |expr: &str| run_program(bin(), &["-cc", expr], &[]).0;
    assert_eq!(rs("feature(EPOLL) && feature(LINUX_SPLICE)"), 0);
    assert_eq!(rs("feature(OPENSSL) || feature(LUA) || feature(THREAD)"), 1);
    // haproxy-rs -v says 2.6.0.
    assert_eq!(rs("version_atleast(2.6.0) && version_before(2.6.1)"), 0);
    let (code, out, _) = run_program(bin(), &["-vv"], &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains("\nFeature list : -51DEGREES +ACCEPT4 "),
        "{out}"
    );
    if have_haproxy() {
        // Same names, in the same order, as HAProxy 2.6's list.
        let names = |s: &str| -> Vec<String> {
            let l = s
                .lines()
                .find(|l| l.starts_with("Feature list : "))
                .unwrap_or("");
            l.split_whitespace()
                .skip(3)
                .map(|w| w[1..].to_string())
                .collect()
        };
        let (_, h, _) = run_program(HAPROXY, &["-vv"], &[]);
        assert_eq!(names(&out), names(&h));
    }
}
