//! Structural checks of what `errorfile`, `http-request return errorfile`
//! and the regex actions name: an error file must hold the head of an
//! HTTP/1 response, a regex must be well formed. The messages and offsets
//! are HAProxy 2.6's (its HTTP/1 parser, and PCRE2's texts).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// Reads the error file `path` and checks that it starts like an HTTP
/// response (an empty file is accepted: no response). The error is
/// HAProxy's text.
pub fn check_errorfile(path: &str) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|_| format!("error opening file '{path}'."))?;
    if bytes.is_empty() {
        return Ok(());
    }
    check_response_head(&bytes)
        .map_err(|off| format!("'{path}': unable to parse headers (error offset: {off})"))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks the head of an HTTP/1 response in `b` (start line, header
/// lines, the empty line). The error is the offset of the first byte that
/// does not fit, or -2 when the head is incomplete, as HAProxy reports
/// them. This is close to, not exactly, HAProxy 2.6's parser: the version
/// must start with `H`, the status with a digit, header names are tokens
/// and a `Content-Length` is digits.
fn check_response_head(b: &[u8]) -> Result<(), i64> {
    let at = |i: usize| b.get(i).copied();
    let mut i = 0;
    while matches!(at(i), Some(b'\r' | b'\n')) {
        i += 1;
    }
    match at(i) {
        None => return Err(-2),
        Some(b'H') => {}
        Some(_) => return Err(i as i64),
    }
    while let Some(c) = at(i).filter(|&c| c != b' ') {
        if c == b'\n' {
            return Err(i as i64);
        }
        i += 1;
    }
    while at(i) == Some(b' ') {
        i += 1;
    }
    match at(i) {
        None => return Err(-2),
        Some(c) if c.is_ascii_digit() => {}
        Some(_) => return Err(i as i64),
    }
    // Rest of the start line.
    i = match b.iter().skip(i).position(|&c| c == b'\n') {
        Some(p) => i + p + 1,
        None => return Err(-2),
    };
    loop {
        match (at(i), at(i + 1)) {
            (Some(b'\n'), _) | (Some(b'\r'), Some(b'\n')) => return Ok(()),
            (None, _) | (Some(b'\r'), None) => return Err(-2),
            _ => {}
        }
        let start = i;
        while let Some(c) = at(i).filter(|&c| c != b':') {
            if !is_tchar(c) {
                return Err(if c == b'\n' || c == b'\r' && at(i + 1).is_none() {
                    -2
                } else {
                    i as i64
                });
            }
            i += 1;
        }
        if at(i).is_none() {
            return Err(-2);
        }
        if i == start {
            return Err(i as i64);
        }
        let name = b.get(start..i).unwrap_or_default();
        i += 1;
        while matches!(at(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let value_start = i;
        let eol = match b.iter().skip(i).position(|&c| c == b'\n') {
            Some(p) => i + p,
            None => return Err(-2),
        };
        if name.eq_ignore_ascii_case(b"content-length") {
            let v = b.get(value_start..eol).unwrap_or_default();
            let v = v.strip_suffix(b"\r").unwrap_or(v);
            let v = v.trim_ascii_end();
            if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
                return Err(value_start as i64);
            }
        }
        i = eol + 1;
    }
}

/// Structural check of a regex the way PCRE2 reports the commonest
/// mistakes (unbalanced parentheses or brackets, a trailing backslash, a
/// quantifier with nothing to repeat). Other errors are found when the
/// analysers compile it. The error is HAProxy's message.
pub fn check_regex(re: &str) -> Result<(), String> {
    let err = |msg: &str, off: usize| {
        Err(format!(
            "regex '{re}' is invalid (error={msg}, erroffset={off})"
        ))
    };
    let b = re.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the previous item can be repeated.
    let mut repeatable = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => {
                if b.get(i + 1).is_none() {
                    return err("\\ at end of pattern", b.len());
                }
                i += 2;
                repeatable = true;
                continue;
            }
            b'[' => {
                let mut j = i + 1;
                if b.get(j) == Some(&b'^') {
                    j += 1;
                }
                if b.get(j) == Some(&b']') {
                    j += 1;
                }
                loop {
                    match b.get(j) {
                        None => return err("missing terminating ] for character class", b.len()),
                        Some(b'\\') => j += 2,
                        Some(b']') => break,
                        Some(_) => j += 1,
                    }
                }
                i = j + 1;
                repeatable = true;
                continue;
            }
            b'(' => {
                depth += 1;
                repeatable = false;
                // `(?`, `(*` open a group kind, not a quantifier.
                if matches!(b.get(i + 1), Some(b'?' | b'*')) {
                    i += 1;
                }
            }
            b')' => {
                if depth == 0 {
                    return err("unmatched closing parenthesis", i);
                }
                depth -= 1;
                repeatable = true;
            }
            b'|' => repeatable = false,
            b'*' | b'+' | b'?' => {
                if !repeatable {
                    return err("quantifier does not follow a repeatable item", i);
                }
                // A quantifier may take one `?` or `+` modifier.
                if matches!(b.get(i + 1), Some(b'?' | b'+')) {
                    i += 1;
                }
                repeatable = false;
            }
            _ => repeatable = true,
        }
        i += 1;
    }
    if depth > 0 {
        return err("missing closing parenthesis", b.len());
    }
    Ok(())
}
