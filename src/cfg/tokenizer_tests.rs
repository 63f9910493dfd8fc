//! Tests of the configuration line tokenizer.

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/root".into()),
        "X" => Some("a b".into()),
        "Y" => Some("  ".into()),
        "E" => Some(String::new()),
        "Z" => Some("p  q ".into()),
        "W" => Some(" p".into()),
        "_A1" => Some("u".into()),
        ".LINE" => Some("2".into()),
        ".SECTION" => Some("global".into()),
        _ => None,
    }
}

fn tok(s: &str) -> Vec<String> {
    match tokenize(s, &env) {
        Ok(v) => v,
        Err(e) => panic!("unexpected error for {s:?}: {e}"),
    }
}

fn err(s: &str) -> TokError {
    match tokenize(s, &env) {
        Ok(v) => panic!("expected error for {s:?}, got {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn plain_words_and_blanks() {
    assert_eq!(
        tok("  bind :80   ssl\tcrt  x"),
        ["bind", ":80", "ssl", "crt", "x"]
    );
    assert_eq!(tok("a\x0bb\x0cc"), ["a", "b", "c"]);
    assert!(tok("").is_empty());
    assert!(tok("   \t ").is_empty());
}

#[test]
fn comments() {
    assert!(tok("# only a comment").is_empty());
    assert_eq!(tok("mode http # or tcp"), ["mode", "http"]);
    assert_eq!(tok("global#this is the global section"), ["global"]);
    assert_eq!(tok("a#b"), ["a"]);
    assert_eq!(tok("\"a#b\""), ["a#b"]);
    assert_eq!(tok("'a#b'"), ["a#b"]);
    assert_eq!(tok("\\#x"), ["#x"]);
    assert_eq!(tok("\"a\"#b"), ["a"]);
}

#[test]
fn line_ends() {
    assert_eq!(tok("a b\r\n"), ["a", "b"]);
    assert_eq!(tok("a b\n"), ["a", "b"]);
    assert_eq!(tok("a\rb"), ["a"]);
    assert_eq!(tok("a\0b c"), ["a"]);
    assert_eq!(err("\"a\rb\""), TokError::UnterminatedQuote('"', 1));
}

#[test]
fn escapes_outside_quotes() {
    assert_eq!(tok("\\ x"), [" x"]);
    assert_eq!(tok("a\\ b"), ["a b"]);
    assert_eq!(tok("\\\\"), ["\\"]);
    assert_eq!(tok("\\'"), ["'"]);
    assert_eq!(tok("\\\""), ["\""]);
    assert_eq!(tok("\\r\\n\\t"), ["\r\n\t"]);
    assert_eq!(tok("a\\x41b"), ["aAb"]);
    assert_eq!(tok("\\xc3\\xA9"), ["é"]);
    // unknown escapes keep their backslash, `\$` is not an escape here
    assert_eq!(tok("\\a \\z \\X41"), ["\\a", "\\z", "\\X41"]);
    assert_eq!(tok("\\$HOME"), ["\\$HOME"]);
    assert_eq!(tok("\\\\x41"), ["\\x41"]);
    // trailing backslash is literal
    assert_eq!(tok("ab\\"), ["ab\\"]);
    assert_eq!(tok("\"a\"\\"), ["a\\"]);
    // backslash-tab is not an escape: tab still separates
    assert_eq!(tok("a\\\tb"), ["a\\", "b"]);
}

#[test]
fn nul_escape_truncates_word() {
    assert_eq!(tok("a\\x00b c"), ["a", "c"]);
    assert_eq!(tok("\"a\\x00b\""), ["a"]);
}

#[test]
fn invalid_utf8_is_lossy() {
    assert_eq!(tok("\\xe9"), ["\u{fffd}"]);
}

#[test]
fn bad_hex_escapes() {
    assert_eq!(err("\\x4"), TokError::BadEscape("\\x4".into(), 1));
    assert_eq!(err("ab \\xZZ"), TokError::BadEscape("\\xZZ".into(), 4));
    assert_eq!(err("\\x"), TokError::BadEscape("\\x".into(), 1));
    assert_eq!(err("\\x4g").position(), 1);
    assert_eq!(err("\"\\xZZ\"").position(), 2);
    assert_eq!(
        err("    .notice \\x41\\x").to_string(),
        "truncated or invalid hexadecimal sequence at position 17"
    );
}

#[test]
fn single_quotes_are_literal() {
    assert_eq!(tok("'a b'"), ["a b"]);
    assert_eq!(tok("'${HOME}' '$HOME'"), ["${HOME}", "$HOME"]);
    assert_eq!(tok("'\\x41' 'a\\ b' '\\#'"), ["\\x41", "a\\ b", "\\#"]);
    assert_eq!(tok("'a\"b'"), ["a\"b"]);
    assert_eq!(tok("''"), [""]);
}

#[test]
fn double_quotes() {
    assert_eq!(tok("description \"a b\""), ["description", "a b"]);
    assert_eq!(tok("\"a'b\""), ["a'b"]);
    assert_eq!(tok("\"\\\"\" \"\\'\" \"\\\\\""), ["\"", "'", "\\"]);
    assert_eq!(tok("\"\\#\" \"a\\ b\" \"\\t\""), ["#", "a b", "\t"]);
    assert_eq!(tok("\"\\a\" \"\\z\""), ["\\a", "\\z"]);
    assert_eq!(tok("\"\\$HOME\" \"\\${HOME}\""), ["$HOME", "${HOME}"]);
    assert_eq!(tok("\"a\\x41b\""), ["aAb"]);
    assert_eq!(tok("\"a\tb\""), ["a\tb"]);
}

#[test]
fn quotes_join_adjacent_text() {
    assert_eq!(tok("a\"b c\"d"), ["ab cd"]);
    assert_eq!(tok("a'b c'd e"), ["ab cd", "e"]);
    assert_eq!(tok("\"a\"'b'c"), ["abc"]);
    assert_eq!(tok("\"\"\"\""), [""]);
    assert_eq!(tok("''\"\""), [""]);
    assert_eq!(tok("x \"\" y"), ["x", "", "y"]);
}

#[test]
fn unterminated_quotes() {
    assert_eq!(err("\""), TokError::UnterminatedQuote('"', 1));
    assert_eq!(err("'"), TokError::UnterminatedQuote('\'', 1));
    assert_eq!(
        err("    .notice a\"b"),
        TokError::UnterminatedQuote('"', 14)
    );
    assert_eq!(err(".notice \"ab\\\"").position(), 9);
    assert_eq!(
        err("    .notice \"${NOPE-a}"),
        TokError::UnterminatedQuote('"', 13)
    );
    assert_eq!(
        err("      .notice \"").to_string(),
        "unmatched quote at position 15"
    );
}

#[test]
fn env_only_in_double_quotes() {
    assert_eq!(
        tok("${HOME} $HOME x${NOPE}y"),
        ["${HOME}", "$HOME", "x${NOPE}y"]
    );
    assert_eq!(tok("\"${HOME}\" \"$HOME\""), ["/root", "/root"]);
    assert_eq!(
        tok("\"$HOME/x\" \"${HOME}x\" \"$HOMEx\""),
        ["/root/x", "/rootx", ""]
    );
    assert_eq!(tok("a\"${X}\"b"), ["aa bb"]);
    assert_eq!(tok("\"$X$X\""), ["a ba b"]);
    assert_eq!(tok("\"$_A1\" \"${_A1}\""), ["u", "u"]);
    assert_eq!(tok("\"$X[*]\""), ["a b[*]"]);
    assert_eq!(tok("\"$HOME\\x41\""), ["/rootA"]);
}

#[test]
fn env_defaults() {
    assert_eq!(tok("\"${NOPE-def}\""), ["def"]);
    assert_eq!(tok("\"${NOPE}\" \"$NOPE\""), ["", ""]);
    assert_eq!(tok("\"${NOPE-}\" \"${NOPE-}x\""), ["", "x"]);
    // default only replaces unset variables, not empty ones
    assert_eq!(tok("\"${E-d}\""), [""]);
    assert_eq!(tok("\"${HOME-x}\""), ["/root"]);
    // the default is raw text up to the first closing brace
    assert_eq!(tok("\"${NOPE-a}b}\""), ["ab}"]);
    assert_eq!(tok("\"${NOPE-${HOME}}\""), ["${HOME}"]);
    assert_eq!(tok("\"${NOPE-a\"b}\""), ["a\"b"]);
    assert_eq!(tok("\"${NOPE-a'b}\""), ["a'b"]);
    assert_eq!(tok("\"${NOPE-a\\x41}\""), ["a\\x41"]);
    assert_eq!(tok("\"${NOPE-a b}\" \"${NOPE-a#b}\""), ["a b", "a#b"]);
    assert_eq!(tok("\"${NOPE-$HOME}\""), ["$HOME"]);
    assert_eq!(tok("\"${NOPE-\\}\""), ["\\"]);
}

#[test]
fn env_word_expansion() {
    assert_eq!(tok("\"${X[*]}\""), ["a", "b"]);
    assert_eq!(tok("\"q${X[*]}r\""), ["qa", "br"]);
    assert_eq!(tok("\"${Z[*]}\" x"), ["p", "q", "", "x"]);
    assert_eq!(tok("\"${W[*]}\" x"), ["", "p", "x"]);
    assert_eq!(tok("\"${Y[*]}\""), ["", ""]);
    assert_eq!(tok("\"x${Y[*]}y\""), ["x", "y"]);
    assert_eq!(tok("\"${E[*]}\" x"), ["", "x"]);
    assert_eq!(tok("\"${NOPE[*]}\" x"), ["", "x"]);
    assert_eq!(tok("\"${NOPE[*]-u v}\""), ["u", "v"]);
    assert_eq!(tok("\"${NOPE-u v[*]}\""), ["u v[*]"]);
    assert_eq!(tok("${X[*]}"), ["${X[*]}"]);
}

#[test]
fn pseudo_variables() {
    assert_eq!(tok("\"${.LINE}\" \"$.LINE\""), ["2", "2"]);
    assert_eq!(tok("\"$.LINE.x\""), ["2.x"]);
    assert_eq!(tok("\"${.SECTION}x\""), ["globalx"]);
    assert_eq!(tok("\"${.LINE-q}\" \"${.LINE[*]}\""), ["2", "2"]);
    assert_eq!(err("    .notice \"$.NOPE\""), TokError::BadEnvName(15));
    assert_eq!(err("    .notice \"${.LINEx}\""), TokError::BadEnvName(16));
    assert_eq!(err("\"$.line\""), TokError::BadEnvName(3));
}

#[test]
fn env_errors() {
    let p = "    .notice ";
    assert_eq!(err(&format!("{p}\"${{NOPE")), TokError::UnterminatedEnv(15));
    assert_eq!(
        err(&format!("{p}\"${{NOPE-x")),
        TokError::UnterminatedEnv(15)
    );
    assert_eq!(
        err(&format!("{p}\"${{A.B}}\"")),
        TokError::UnterminatedEnv(15)
    );
    assert_eq!(
        err(&format!("{p}\"${{HOME:-x}}\"")),
        TokError::UnterminatedEnv(15)
    );
    assert_eq!(
        err(&format!("{p}\"${{X }}\"")),
        TokError::UnterminatedEnv(15)
    );
    assert_eq!(
        err(&format!("{p}\"${{X[*]\"")),
        TokError::UnterminatedEnv(15)
    );
    assert_eq!(err(&format!("{p}\"$\"")), TokError::BadEnvName(15));
    assert_eq!(err(&format!("{p}\"${{}}\"")), TokError::BadEnvName(16));
    assert_eq!(err(&format!("{p}\"${{}}x\"")), TokError::BadEnvName(16));
    assert_eq!(err(&format!("{p}\"$ x\"")), TokError::BadEnvName(15));
    assert_eq!(err(&format!("{p}\"$1A\"")), TokError::BadEnvName(15));
    assert_eq!(err(&format!("{p}\"${{1A}}\"")), TokError::BadEnvName(16));
    assert_eq!(err(&format!("{p}\"$-x\"")), TokError::BadEnvName(15));
    assert_eq!(err(&format!("{p}\"$é\"")), TokError::BadEnvName(15));
    assert_eq!(err(&format!("{p}\"$")), TokError::BadEnvName(15));
    assert_eq!(err(&format!("{p}\"${{")), TokError::BadEnvName(16));
    assert_eq!(err(&format!("{p}\"${{X")), TokError::UnterminatedEnv(15));
    assert_eq!(
        err(&format!("{p}\"${{X[0]}}\"")),
        TokError::BadExpansion(17)
    );
    assert_eq!(err(&format!("{p}\"${{X[}}\"")), TokError::BadExpansion(17));
    assert_eq!(err(&format!("{p}\"${{X[*}}\"")), TokError::BadExpansion(17));
    assert_eq!(
        err(&format!("{p}\"$\"")).to_string(),
        "forbidden first char in environment variable name at position 15"
    );
    assert_eq!(
        err(&format!("{p}\"${{NOPE")).to_string(),
        "unmatched brace in environment variable name at position 15"
    );
    assert_eq!(
        err(&format!("{p}\"${{X[0]}}\"")).to_string(),
        "truncated or invalid word expansion sequence at position 17"
    );
}

fn numbers(from: usize, to: usize) -> String {
    (from..=to)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn word_limit() {
    let ok = format!("setenv {}", numbers(1, 63));
    assert_eq!(tok(&ok).len(), 64);
    assert_eq!(tok(&format!("{ok}#c")).len(), 64);
    let e = err(&format!(".notice {}", numbers(1, 70)));
    assert_eq!(e, TokError::TooManyWords(186, "63".into()));
    assert_eq!(
        e.to_string(),
        "too many words, truncating after word 64, position 186: <63>"
    );
    assert!(!e.wants_context());
    // position counts unescaped output, not the input
    let e = err(&format!(".notice \\x41\\x41\\x41 {}", numbers(2, 70)));
    assert_eq!(e.position(), 188);
    let e = err(&format!(".notice \"${{HOME}}\" {}", numbers(2, 70)));
    assert_eq!(e.position(), 190);
    // leading blanks do not count
    let e = err(&format!("        setenv {}", numbers(1, 64)));
    assert_eq!(e, TokError::TooManyWords(185, "63".into()));
    // blanks after the 64th word already overflow, as in HAProxy
    for tail in ["   ", " # c", " \"\"", "\t"] {
        let e = err(&format!("setenv {}{tail}", numbers(1, 63)));
        assert_eq!(e, TokError::TooManyWords(185, "63".into()));
    }
    // word splitting counts too
    let e = err(&format!("\"${{X[*]}}\" {}", numbers(1, 70)));
    assert!(matches!(e, TokError::TooManyWords(..)));
}

#[test]
fn error_context_rendering() {
    assert_eq!(
        error_context("    .notice \"ab\\\"", 13),
        "  .notice \"ab\\\"\n          ^"
    );
    assert_eq!(
        error_context("      .notice \"", 15),
        "  .notice \"\n          ^"
    );
    assert_eq!(error_context(".notice \"", 9), "  .notice \"\n          ^");
    assert_eq!(
        error_context("    .notice a\tb \"", 17),
        "  .notice a b \"\n              ^"
    );
    assert_eq!(
        error_context("    .notice \"$é\"", 15),
        "  .notice \"$??\"\n            ^"
    );
    assert_eq!(
        error_context("    .notice \x01 \"\n", 15),
        "  .notice ? \"\n            ^"
    );
    assert_eq!(error_context("", 0), "  \n  ^");
}

#[test]
fn tokenize_env_uses_process_environment() {
    // PATH is virtually always set; just check the plumbing.
    let expected = std::env::var("PATH").unwrap_or_default();
    assert_eq!(
        tokenize_env("x \"$PATH\""),
        Ok(vec!["x".to_string(), expected])
    );
    assert_eq!(
        tokenize_env("\"${HAPROXY_RS_SURELY_UNSET_VAR-dflt}\""),
        Ok(vec!["dflt".to_string()])
    );
    assert!(tokenize_env("\"$.LINE\"").is_err());
}

#[test]
fn never_panics_on_odd_input() {
    let samples = [
        "\\",
        "\"\\",
        "\"$",
        "\"${",
        "\"${X",
        "\"${X[",
        "\"${X[*",
        "\"${X-",
        "'",
        "\"",
        "\\x",
        "\\x4",
        "\"\\x",
        "#",
        "\"#\"",
        "é \"é\" 'é' \\é",
        "\"${é}\"",
    ];
    for s in samples {
        let _ = tokenize(s, &env);
        let _ = tokenize_env(s);
        let _ = error_context(s, 1000);
    }
}
