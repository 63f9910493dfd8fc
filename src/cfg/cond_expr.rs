//! The condition language of `.if`, `.elif` and `-cc` (configuration.txt
//! 2.4): `defined()`, `feature()`, `streq()`, `strneq()`,
//! `version_atleast()`, `version_before()`, numbers, `!`, `&&`, `||` and
//! parentheses, evaluated as HAProxy 2.6.12's `cfgcond.c` does, error
//! messages and offsets included. The blocks themselves are in `cond.rs`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::cond::{FEATURES, VERSION};

/// HAProxy's MAX_CFG_RECURSION: the depth budget of the expression parser.
const MAX_DEPTH: i32 = 1024;

/// An expression that does not parse: HAProxy's message and the byte offset
/// (0-based) of the first bad character in the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondError {
    pub msg: String,
    pub pos: usize,
}

/// Evaluates a condition (configuration.txt 2.4). `text` is the expression
/// with its words already joined by single spaces (see [`merge_words`]);
/// `env` answers `defined()`. The whole text is parsed before anything is
/// evaluated, as in HAProxy, so `1 || foo` is an error. An empty text is
/// false. Returns the truth value, or the parse error.
pub fn eval_condition(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<bool, CondError> {
    if text.is_empty() {
        return Ok(false);
    }
    let p = ExprParser {
        s: text.as_bytes(),
        env,
    };
    let mut at = 0;
    match p.expr(&mut at, MAX_DEPTH)? {
        Some(v) => {
            let end = p.skip_blanks(at);
            match p.byte(end) {
                0 => Ok(v),
                c => Err(CondError {
                    msg: format!(
                        "unexpected character '{}' at the end of conditional expression '{text}'",
                        char::from(c)
                    ),
                    pos: end,
                }),
            }
        }
        None => Err(CondError {
            msg: format!("unparsable conditional expression '{text}'"),
            pos: at,
        }),
    }
}

/// The expression parser, a port of `cfgcond.c`: `expr := and ['||' expr]`,
/// `and := term ['&&' and]`, `term := '!'* (number | '(' expr ')' |
/// predicate['(' args ')'])`. Each level spends one unit of depth. The
/// `Ok(None)` result is HAProxy's "0": nothing to parse here (empty input).
/// On success `at` moves past what was parsed; on `Ok(None)` it may have
/// moved as HAProxy's text pointer does, which the error positions rely on.
struct ExprParser<'a> {
    s: &'a [u8],
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl ExprParser<'_> {
    /// The byte at `i`, or 0 past the end (C's terminating NUL).
    fn byte(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn rest(&self, i: usize) -> String {
        String::from_utf8_lossy(self.s.get(i..).unwrap_or_default()).into_owned()
    }

    fn skip_blanks(&self, mut i: usize) -> usize {
        while matches!(self.byte(i), b' ' | b'\t') {
            i += 1;
        }
        i
    }

    fn unparsable(&self, what: &str, at: usize) -> CondError {
        CondError {
            msg: format!("unparsable conditional {what} '{}'", self.rest(at)),
            pos: at,
        }
    }

    fn expr(&self, text: &mut usize, depth: i32) -> Result<Option<bool>, CondError> {
        let mut at = *text;
        if self.byte(at) == 0 {
            return Ok(None);
        }
        if depth <= 0 {
            return Err(self.unparsable("expression", at));
        }
        let Some(left) = self.and(&mut at, depth - 1)? else {
            return Err(self.unparsable("expression", at));
        };
        at = self.skip_blanks(at);
        *text = at;
        if self.byte(at) != b'|' || self.byte(at + 1) != b'|' {
            return Ok(Some(left));
        }
        at = self.skip_blanks(at + 2);
        let right = self.expr(&mut at, depth - 1)?;
        if right.is_some() {
            *text = at;
        }
        // OR: the right side only matters when the left one is false.
        Ok(right.map(|r| left || r))
    }

    fn and(&self, text: &mut usize, depth: i32) -> Result<Option<bool>, CondError> {
        let mut at = *text;
        if self.byte(at) == 0 {
            return Ok(None);
        }
        if depth <= 0 {
            return Err(self.unparsable("sub-expression", at));
        }
        let Some(left) = self.term(&mut at, depth - 1)? else {
            return Err(self.unparsable("sub-expression", at));
        };
        at = self.skip_blanks(at);
        *text = at;
        if self.byte(at) != b'&' || self.byte(at + 1) != b'&' {
            return Ok(Some(left));
        }
        at = self.skip_blanks(at + 2);
        let right = self.and(&mut at, depth - 1)?;
        if right.is_some() {
            *text = at;
        }
        Ok(right.map(|r| left && r))
    }

    fn term(&self, text: &mut usize, depth: i32) -> Result<Option<bool>, CondError> {
        let mut at = self.skip_blanks(*text);
        if self.byte(at) == 0 {
            return Ok(None);
        }
        let fail0 = || Err(self.unparsable("expression", *text));
        if depth <= 0 {
            return fail0();
        }
        let mut neg = false;
        while self.byte(at) == b'!' {
            neg = !neg;
            at = self.skip_blanks(at + 1);
        }
        if let Some((nonzero, end)) = c_strtol_base0(self.s, at) {
            *text = end;
            return Ok(Some(nonzero != neg));
        }
        if self.byte(at) == b'(' {
            at = self.skip_blanks(at + 1);
            let Some(v) = self.expr(&mut at, depth - 1)? else {
                return fail0();
            };
            at = self.skip_blanks(at);
            if self.byte(at) != b')' {
                return Err(CondError {
                    msg: format!(
                        "expected ')' after conditional expression '{}'",
                        self.rest(*text)
                    ),
                    pos: *text,
                });
            }
            *text = self.skip_blanks(at + 1);
            return Ok(Some(v != neg));
        }
        // A predicate name ends at a space, a '(' or the end.
        let name_end = (at..self.s.len())
            .find(|&i| matches!(self.byte(i), b' ' | b'('))
            .unwrap_or(self.s.len());
        let name = self.s.get(at..name_end).unwrap_or_default();
        let Some(&(word, pred)) = PREDICATES.iter().find(|(w, _)| w.as_bytes() == name) else {
            return fail0();
        };
        let nbargs = if matches!(pred, Pred::StrEq | Pred::StrNeq) {
            2
        } else {
            1
        };
        match self.args(name_end, nbargs) {
            Ok((args, end)) => {
                *text = end;
                Ok(Some(self.eval_pred(pred, &args) != neg))
            }
            Err((msg, arg, end)) => Err(CondError {
                msg: format!(
                    "{msg} in argument {arg} of predicate '{word}' used in conditional expression"
                ),
                pos: end,
            }),
        }
    }

    /// HAProxy's `make_arg_list()` for `nbargs` mandatory string arguments
    /// between parentheses: quotes group, `\` escapes `\`, space and quotes
    /// and gives `\r`, `\n`, `\t`; any other backslash stays. No `(` means a
    /// single empty argument. Returns the arguments and the offset after
    /// `)`, or (message, argument number, offset) as HAProxy reports them.
    fn args(
        &self,
        start: usize,
        nbargs: usize,
    ) -> Result<(Vec<String>, usize), (String, usize, usize)> {
        let mut at = start;
        let empty = self.byte(at) != b'(';
        if !empty {
            at += 1;
        }
        let mut args = Vec::with_capacity(nbargs);
        while args.len() < nbargs {
            let (mut squote, mut dquote) = (false, false);
            let mut word = Vec::new();
            while !empty && self.byte(at) != 0 {
                let c = self.byte(at);
                if c == b'"' && !squote {
                    dquote = !dquote;
                } else if c == b'\'' && !dquote {
                    squote = !squote;
                } else if c == b'\\' && !squote {
                    let escaped = match self.byte(at + 1) {
                        0 => {
                            return Err((
                                format!(
                                    "failed to parse '{}' after '{}' as type 'string' at position {}",
                                    self.rest(at),
                                    String::from_utf8_lossy(&word),
                                    args.len() + 1
                                ),
                                args.len(),
                                at,
                            ));
                        }
                        e @ (b'\\' | b' ' | b'"' | b'\'') => Some(e),
                        b'r' => Some(b'\r'),
                        b'n' => Some(b'\n'),
                        b't' => Some(b'\t'),
                        _ => None,
                    };
                    match escaped {
                        Some(e) => {
                            word.push(e);
                            at += 1;
                        }
                        None => word.push(b'\\'),
                    }
                } else if !squote && !dquote && (c == b',' || c == b')') {
                    break;
                } else {
                    word.push(c);
                }
                at += 1;
            }
            args.push(String::from_utf8_lossy(&word).into_owned());
            if empty || matches!(self.byte(at), 0 | b')') || args.len() >= nbargs {
                break;
            }
            at += 1; // the comma
        }
        let mut pos = args.len();
        if pos < nbargs {
            return Err((
                format!("missing arguments (got {pos}/{nbargs}), type 'string' expected"),
                pos,
                at,
            ));
        }
        if !empty {
            if self.byte(at) != b')' {
                let rest = self.rest(at);
                let msg = if rest.is_empty() {
                    "expected ')'".to_string()
                } else {
                    format!("expected ')' before '{rest}'")
                };
                // HAProxy counts the empty argument before a missing ')'.
                if pos > 1 {
                    pos -= 1;
                }
                return Err((msg, pos, at));
            }
            at += 1;
        }
        Ok((args, at))
    }

    fn eval_pred(&self, pred: Pred, args: &[String]) -> bool {
        let arg = |i: usize| args.get(i).map_or("", String::as_str);
        match pred {
            Pred::Defined => (self.env)(arg(0)).is_some(),
            Pred::Feature => has_feature(FEATURES, arg(0)),
            Pred::StrEq => arg(0) == arg(1),
            Pred::StrNeq => arg(0) != arg(1),
            Pred::VersionAtLeast => compare_version(VERSION, arg(0)) <= 0,
            Pred::VersionBefore => compare_version(VERSION, arg(0)) > 0,
        }
    }
}

/// The predicates of HAProxy 2.6 (`enabled()` came later, in 2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pred {
    Defined,
    Feature,
    StrEq,
    StrNeq,
    VersionAtLeast,
    VersionBefore,
}

const PREDICATES: &[(&str, Pred)] = &[
    ("defined", Pred::Defined),
    ("feature", Pred::Feature),
    ("streq", Pred::StrEq),
    ("strneq", Pred::StrNeq),
    ("version_atleast", Pred::VersionAtLeast),
    ("version_before", Pred::VersionBefore),
];

/// C's `strtol(s + at, &end, 0)` reduced to what a condition needs: None if
/// no digit was converted, else whether the value is non-zero and the offset
/// after the number. Leading white space, a sign, `0x` (hex) and `0` (octal)
/// prefixes behave as in C; an overflow saturates, which is non-zero anyway.
fn c_strtol_base0(s: &[u8], at: usize) -> Option<(bool, usize)> {
    let b = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = at;
    while matches!(b(i), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    if matches!(b(i), b'+' | b'-') {
        i += 1;
    }
    let (radix, digits_at) = if b(i) == b'0' && matches!(b(i + 1), b'x' | b'X') {
        if char::from(b(i + 2)).is_ascii_hexdigit() {
            (16, i + 2)
        } else {
            // "0x" without a hex digit is the number 0 followed by 'x'.
            return Some((false, i + 1));
        }
    } else if b(i) == b'0' {
        (8, i)
    } else {
        (10, i)
    };
    let mut j = digits_at;
    let mut nonzero = false;
    while char::from(b(j)).is_digit(radix) {
        nonzero |= b(j) != b'0';
        j += 1;
    }
    (j > digits_at).then_some((nonzero, j))
}

/// Whether `name` is listed with a `+` in `list` (an `haproxy -vv` feature
/// list), the way HAProxy searches it: the first occurrence preceded by `+`
/// or `-` and followed by a space or the end decides. An empty name is never
/// present (HAProxy 2.6 reads past its string in that case).
pub fn has_feature(list: &str, name: &str) -> bool {
    let (l, n) = (list.as_bytes(), name.as_bytes());
    if n.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(rel) = l
        .get(from..)
        .and_then(|t| t.windows(n.len()).position(|w| w == n))
    {
        let p = from + rel;
        let after = l.get(p + n.len()).copied().unwrap_or(b' ');
        if p > 0 && after == b' ' {
            match l.get(p - 1) {
                Some(b'+') => return true,
                Some(b'-') => return false,
                _ => {}
            }
        }
        from = p + 1;
    }
    false
}

/// HAProxy's `split_version()`: `<a>[.<b>[.<c>[.<d>]]][-{dev,pre,rc}<f>][-*][-<g>]`
/// into 7 numbers (a, b, c, d, tag, f, g), tag 1 for dev, 2 for rc and pre,
/// 3 for a release. None if it does not parse.
pub(super) fn split_version(v: &str) -> Option<[u32; 7]> {
    let s = v.as_bytes();
    let b = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut val = [0, 0, 0, 0, 3, 0, 0];
    if s.is_empty() {
        return None;
    }
    let mut p = 0;
    let mut tag = false;
    for slot in val.iter_mut().take(4) {
        let (n, end) = c_strtol10(s, p);
        *slot = n as u32;
        p = end + 1;
        match b(end) {
            0 => return Some(val),
            b'-' => {
                tag = true;
                break;
            }
            b'.' => {}
            _ => return None,
        }
    }
    if !tag {
        return None; // a fifth dotted number
    }
    if !b(p).is_ascii_digit() {
        let kind = [("dev", 1), ("rc", 2), ("pre", 2)]
            .into_iter()
            .find(|(t, _)| s.get(p..).is_some_and(|r| r.starts_with(t.as_bytes())));
        if let Some((t, k)) = kind {
            val[4] = k;
            p += t.len();
            let (n, end) = c_strtol10(s, p);
            val[5] = n as u32;
            p = end + 1;
            match b(end) {
                0 => return Some(val),
                b'-' => {}
                _ => return None,
            }
        }
    }
    // The commit count is the number after the last '-', if it is one.
    let tail = s.get(p.min(s.len())..).unwrap_or_default();
    let num = match tail.iter().rposition(|&c| c == b'-') {
        Some(d) => {
            let after = tail.get(d + 1..).unwrap_or_default();
            if after.is_empty() {
                return None;
            }
            after
        }
        None => tail,
    };
    let (n, end) = c_strtol10(num, 0);
    val[6] = if end == num.len() { n as u32 } else { 0 };
    Some(val)
}

/// C's `strtol(s + at, &end, 10)`: the value (saturated) and the offset of
/// `end` (`at` itself when no digit was read).
fn c_strtol10(s: &[u8], at: usize) -> (i64, usize) {
    let b = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = at;
    while matches!(b(i), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = b(i) == b'-';
    if matches!(b(i), b'+' | b'-') {
        i += 1;
    }
    let start = i;
    let mut v: i64 = 0;
    while b(i).is_ascii_digit() {
        let d = i64::from(b(i) - b'0');
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
        i += 1;
    }
    if i == start { (0, at) } else { (v, i) }
}

/// HAProxy's `compare_current_version()`: -1 if `v` is older than `current`,
/// 0 if equal, 1 if newer, -2 if `current` does not parse, -3 if `v` does not.
/// (So `version_atleast()` of garbage is true, as in HAProxy.)
pub fn compare_version(current: &str, v: &str) -> i32 {
    let Some(loc) = split_version(current) else {
        return -2;
    };
    let Some(m) = split_version(v) else {
        return -3;
    };
    match m.cmp(&loc) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}
