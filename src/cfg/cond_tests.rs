//! Tests of `cond.rs`: expressions and blocks against HAProxy 2.6.12.
#![allow(clippy::indexing_slicing, clippy::expect_used)]

use super::*;
use crate::cfg::cond_expr::split_version;
use crate::cfg::tokenizer::tokenize;

fn env(k: &str) -> Option<String> {
    (k == "SET" || k == "EMPTY").then(|| if k == "SET" { "yes" } else { "" }.to_string())
}

#[test]
fn expressions_evaluate_like_haproxy_2_6() {
    let table: &[(&str, bool)] = &[
        ("", false),
        ("1", true),
        ("0", false),
        ("-1", true),
        ("+0", false),
        ("0x10", true),
        ("0x0", false),
        ("007", true),
        ("!0", true),
        ("!!1", true),
        ("! ! 0", false),
        ("!-0", true),
        ("1 && 0", false),
        ("1 || 0", true),
        ("0 || 1 && 0", false),
        ("1 || 1 && 0", true),
        ("(1)", true),
        (" ( 1 && !0 ) || 0", true),
        ("!(0)", true),
        ("defined(SET)", true),
        ("defined(EMPTY)", true),
        ("defined(UNSET)", false),
        ("defined( SET )", false),
        ("defined()", false),
        ("defined", false),
        ("feature(EPOLL)", true),
        ("feature(LINUX_SPLICE)", true),
        ("feature(OPENSSL)", false),
        ("feature(EPOL)", false),
        ("feature(+EPOLL)", false),
        ("feature()", false),
        ("streq(a,a)", true),
        ("streq(a,b)", false),
        ("streq(a, a)", false),
        ("streq( a , a )", true),
        ("streq(,)", true),
        ("strneq(a,b)", true),
        ("strneq(,)", false),
        ("streq(\"a,b\",'a,b')", true),
        ("streq(a\\ b,\"a b\")", true),
        ("streq(a\\x,a\\x)", true),
        ("streq(\"a\"b,ab)", true),
        ("version_atleast(2.6)", true),
        ("version_atleast(2.6.0)", true),
        ("version_atleast(2.6.1)", false),
        ("version_atleast(2.4-dev19)", true),
        ("version_atleast(2.6-dev1)", true),
        ("version_atleast(2.7)", false),
        ("version_atleast(abc)", true),
        ("version_atleast()", true),
        ("version_atleast(-1)", false),
        ("version_before(2.6.1)", true),
        ("version_before(2.6)", false),
        ("version_before(abc)", false),
    ];
    for &(expr, want) in table {
        assert_eq!(eval_condition(expr, &env), Ok(want), "{expr}");
    }
}

#[test]
fn expression_errors_carry_haproxy_messages_and_positions() {
    let table: &[(&str, &str, usize)] = &[
        ("foo", "unparsable conditional expression 'foo'", 0),
        (
            "1x",
            "unexpected character 'x' at the end of conditional expression '1x'",
            1,
        ),
        (
            "08",
            "unexpected character '8' at the end of conditional expression '08'",
            1,
        ),
        (
            "1 1",
            "unexpected character '1' at the end of conditional expression '1 1'",
            2,
        ),
        ("(1", "expected ')' after conditional expression '(1'", 0),
        ("(", "unparsable conditional expression '('", 0),
        ("()", "unparsable conditional expression ')'", 1),
        ("1 &&", "unparsable conditional expression '&&'", 2),
        ("1 || ", "unparsable conditional expression '1 || '", 2),
        ("1 || foo", "unparsable conditional expression 'foo'", 5),
        (" ", "unparsable conditional sub-expression ' '", 0),
        (
            "enabled(POLL)",
            "unparsable conditional expression 'enabled(POLL)'",
            0,
        ),
        (
            "streq(a)",
            "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression",
            7,
        ),
        (
            "streq(a,b,c)",
            "expected ')' before ',c)' in argument 1 of predicate 'streq' used in conditional expression",
            9,
        ),
        (
            "defined(X",
            "expected ')' in argument 1 of predicate 'defined' used in conditional expression",
            9,
        ),
        (
            "streq(a\\",
            "failed to parse '\\' after 'a' as type 'string' at position 1 in argument 0 of predicate 'streq' used in conditional expression",
            7,
        ),
    ];
    for &(expr, msg, pos) in table {
        let e = eval_condition(expr, &env).expect_err(expr);
        assert_eq!((e.msg.as_str(), e.pos), (msg, pos), "{expr}");
    }
}

#[test]
fn nesting_depth_is_bounded_like_haproxy() {
    let deep = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(eval_condition(&deep(340), &env), Ok(true));
    let e = eval_condition(&deep(341), &env).expect_err("too deep");
    assert!(
        e.msg
            .starts_with("unparsable conditional sub-expression '1)"),
        "{}",
        e.msg
    );
}

#[test]
fn versions_split_and_compare_like_haproxy() {
    assert_eq!(
        split_version("2.6.12-1+deb12u4"),
        Some([2, 6, 12, 0, 3, 0, 0])
    );
    assert_eq!(
        split_version("2.4-dev18-f6818d-20"),
        Some([2, 4, 0, 0, 1, 18, 20])
    );
    assert_eq!(split_version("1.3.16-rc1"), Some([1, 3, 16, 0, 2, 1, 0]));
    assert_eq!(split_version(VERSION), Some([2, 6, 0, 0, 3, 0, 0]));
    assert_eq!(split_version("1.2.3.4.5"), None);
    assert_eq!(split_version("2.6-"), Some([2, 6, 0, 0, 3, 0, 0]));
    let deb = "2.6.12-1+deb12u4";
    assert_eq!(compare_version(deb, "2.6.12-1"), 1);
    assert_eq!(compare_version(deb, "2.6.12"), 0);
    assert_eq!(compare_version(deb, "2.6.12-dev"), -1);
    assert_eq!(compare_version(deb, "x"), -3);
}

#[test]
fn features_are_found_as_haproxy_searches_them() {
    assert!(has_feature("-A +AB +C", "AB"));
    assert!(!has_feature("-A +AB +C", "A"));
    assert!(has_feature("-A +AB +C", "C"));
    assert!(!has_feature("+XA -A", "A"));
}

#[test]
fn cc_tokenizes_its_argument_without_comments() {
    let cc = |a: &str| eval_cc(a, &env);
    assert_eq!(cc("1"), Ok(true));
    assert_eq!(cc(""), Ok(false));
    assert_eq!(cc("\"\""), Ok(false));
    assert_eq!(cc("'1'"), Ok(true));
    assert_eq!(cc("1  "), Ok(true));
    assert_eq!(
        cc("\"$SET\" && 0"),
        Err("Failed to evaluate condition: unparsable conditional expression 'yes && 0'".into())
    );
    assert_eq!(cc("1 #x"), Err("Failed to evaluate condition: unexpected character '#' at the end of conditional expression '1 #x'".into()));
    assert_eq!(cc("1 \\# 2"), Err("Failed to evaluate condition: unexpected character '\\' at the end of conditional expression '1 \\# 2'".into()));
    assert_eq!(cc(" 1x"), Err("Failed to evaluate condition: unexpected character 'x' at the end of conditional expression ' 1x'".into()));
    assert_eq!(
        cc("  "),
        Err("Failed to evaluate condition: unparsable conditional sub-expression ' '".into())
    );
    assert_eq!(
        cc("\"1"),
        Err("Syntax Error in condition: Unmatched quote.".into())
    );
    assert_eq!(
        cc("\\x4"),
        Err("Syntax Error in condition: Truncated or invalid hexadecimal sequence.".into())
    );
    assert_eq!(
        cc("\"${X\""),
        Err("Unhandled error in condition, please report this to the developers.".into())
    );
}

/// Runs `text` through the preprocessor; returns the lines it lets
/// through and the rendered messages (pid and prefix cut).
fn run(text: &str) -> (Vec<usize>, Vec<String>, Preproc) {
    let (mut pre, mut diags, mut parsed) = (Preproc::default(), Diags::default(), Vec::new());
    let mut last = 0;
    for (i, raw) in text.lines().enumerate() {
        last = i + 1;
        let words = tokenize(raw, &env).expect("tokenize");
        if words.is_empty() {
            continue;
        }
        match pre.line(raw, &words, "c", i + 1, &env, &mut diags) {
            Flow::Parse => parsed.push(i + 1),
            Flow::Skip => {}
            Flow::Stop => break,
        }
    }
    pre.end_of_file("c", last, &mut diags);
    let msgs = diags
        .list
        .iter()
        .map(|d| {
            let r = d.render();
            r[r.find(" : config : ").map_or(0, |p| p + 12)..].to_string()
        })
        .collect();
    (parsed, msgs, pre)
}

#[test]
fn blocks_take_one_branch_and_mask_nested_ones() {
    let text = "a\n.if 0\nb\n.elif 1\nc\n.if 1\nd\n.else\ne\n.endif\n.elif 1\nf\n.else\ng\n.endif\nh\n\
                .if 0\n.if foo\ni\n.elif bar\n.else\nj\n.endif\n.alert x\n.bogus\n.else\nk\n.endif\n";
    let (parsed, msgs, pre) = run(text);
    assert_eq!(parsed, vec![1, 5, 7, 16, 27]);
    assert!(msgs.is_empty(), "{msgs:?}");
    assert!(!pre.aborted());
}

#[test]
fn message_directives_print_their_level() {
    let (parsed, msgs, pre) =
        run(".notice \"hi there\"\n.warning w\n.diag d\n.notice a b\nx\n.alert\ny\n");
    assert_eq!(parsed, vec![5]);
    assert_eq!(
        msgs,
        vec![
            "parsing [c:1]: 'hi there'.",
            "parsing [c:2]: 'w'.",
            "parsing [c:4]: Unexpected argument 'b' for '.notice'. Use quotes if the message should contain spaces.",
            "parsing [c:6]: ''.",
        ]
    );
    assert_eq!(pre.diag_lines().len(), 1);
    assert_eq!(pre.diag_lines()[0].text, "parsing [c:3]: 'd'.");
    assert_eq!(pre.diag_lines()[0].before, 2);
    assert!(pre.aborted());
}

#[test]
fn block_errors_stop_the_file_like_haproxy() {
    let table: &[(&str, &[&str], bool)] = &[
        (
            ".endif\nx\n",
            &["parsing [c:1]: lone '.endif' with no matching '.if'."],
            true,
        ),
        (
            ".else\n",
            &["parsing [c:1]: lone '.else' with no matching '.if'."],
            true,
        ),
        (
            ".elif 1\n",
            &["parsing [c:1]: lone '.elif' with no matching '.if'."],
            true,
        ),
        (
            ".if 1\n.else\n.else\n",
            &["parsing [c:3]: '.else' after '.else' is not permitted."],
            true,
        ),
        (
            ".if 1\n.else\n.elif 1\n",
            &["parsing [c:3]: '.elif' after '.else' is not permitted."],
            true,
        ),
        (
            ".if 0\nx\n\n",
            &["parsing [c:3]: non-terminated '.if' block."],
            true,
        ),
        (
            ".if 1\n.endif x\ny\n",
            &[
                "parsing [c:2]: Unexpected argument 'x' for '.endif'.",
                "parsing [c:2]: non-terminated '.if' block.",
            ],
            true,
        ),
        (
            ".if 1\n.foo\ny\n",
            &[
                "parsing [c:2]: unknown directive '.foo'.",
                "parsing [c:2]: non-terminated '.if' block.",
            ],
            true,
        ),
        (
            ".foo\ny\n",
            &["parsing [c:1]: unknown directive '.foo'."],
            false,
        ),
        (
            ".if 1x \n",
            &[
                "parsing [c:1]: unexpected character 'x' at the end of conditional expression '1x ' in '.if' at position 2:\n  .if 1x \n       ^",
            ],
            true,
        ),
        (
            ".if 0\n.elif foo # c\n",
            &[
                "parsing [c:2]: unparsable conditional expression 'foo ' in '.elif' at position 1:\n  .elif foo \n        ^",
            ],
            true,
        ),
    ];
    for &(text, want, aborted) in table {
        let (parsed, msgs, pre) = run(text);
        assert!(parsed.is_empty(), "{text:?}: {parsed:?}");
        assert_eq!(msgs, want, "{text:?}");
        assert_eq!(pre.aborted(), aborted, "{text:?}");
    }
    let (_, msgs, _) = run(&".if 1\n".repeat(120));
    assert_eq!(
        msgs,
        vec!["parsing [c:100]: too many nested '.if', max is 100."]
    );
}

#[test]
fn long_expressions_are_cut_around_the_error() {
    let expr = format!("{} x", vec!["1"; 30].join(" && "));
    let (_, msgs, _) = run(&format!(".if {expr}\n"));
    let lines: Vec<&str> = msgs[0].lines().collect();
    assert!(
        lines[0].ends_with("in '.if' at position 148:"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "  .if ...&& 1 && 1 && 1 && 1 && 1 && 1 && 1 x...");
    assert_eq!(lines[2], format!("{}^", " ".repeat(44)));
}
