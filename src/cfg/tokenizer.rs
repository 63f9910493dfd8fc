//! Configuration line tokenizer (configuration manual sections 2.2 "Quoting
//! and escaping" and 2.3 "Environment variables").
//!
//! The behaviour mirrors what HAProxy 2.6 does in practice, which was checked
//! against the real binary:
//!
//! * words are separated by runs of blanks (space, tab, vertical tab, form
//!   feed); a CR, LF or NUL byte ends the line wherever it appears;
//! * an unquoted, unescaped `#` starts a comment, even in the middle of a word;
//! * outside quotes, `\ ` `\#` `\\` `\'` `\"` `\r` `\n` `\t` and `\xHH` are
//!   escapes; any other backslash (including `\$` and a trailing one) is kept
//!   literally;
//! * single quotes are strong: nothing is interpreted until the closing quote;
//! * double quotes are weak: the same escapes plus `\$` work, and environment
//!   variables are expanded. Variables are **only** expanded inside double
//!   quotes: `${HOME}` unquoted stays literal;
//! * inside double quotes `$NAME`, `${NAME}`, `${NAME-default}` (default used
//!   only when the variable is unset, taken raw up to the first `}`) and
//!   `${NAME[*]}` (value split into several words on blanks) are supported.
//!   Names start with a letter or `_` and go on with letters, digits and `_`.
//!   Names starting with a dot are pseudo-variables (`.FILE`, `.LINE`,
//!   `.SECTION`) that the `env` resolver must know, otherwise it is an error;
//! * quoted parts join adjacent text (`a"b c"d` is the single word `ab cd`) and
//!   `""` alone is an empty word;
//! * at most [`MAX_LINE_ARGS`] words are allowed; like HAProxy, blanks after
//!   the 64th word already count as starting a 65th one.
//!
//! Error positions are 1-based byte offsets in the line, as printed by
//! HAProxy. [`error_context`] renders the two-line excerpt with a caret that
//! HAProxy prints after such errors.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt;

/// Maximum number of words on one configuration line (HAProxy's MAX_LINE_ARGS).
pub const MAX_LINE_ARGS: usize = 64;

/// Tokenizer failure. Every variant carries a 1-based byte position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokError {
    /// A quote (the char) was opened at the position and never closed.
    UnterminatedQuote(char, usize),
    /// A truncated or invalid `\x` sequence (the text seen) at the position of
    /// its backslash.
    BadEscape(String, usize),
    /// `${` without its matching `}`; the position is the one of `{`.
    UnterminatedEnv(usize),
    /// The first character of a variable name is not allowed, or a
    /// pseudo-variable (`$.NAME`) is unknown; position of that character.
    BadEnvName(usize),
    /// Invalid word-expansion suffix (anything but `[*]`); position of `[`.
    BadExpansion(usize),
    /// More than [`MAX_LINE_ARGS`] words: position of the last kept word in
    /// the unescaped output (as HAProxy reports it) and that word.
    TooManyWords(usize, String),
}

impl TokError {
    /// The 1-based position reported in the message.
    pub fn position(&self) -> usize {
        match self {
            TokError::UnterminatedQuote(_, p)
            | TokError::BadEscape(_, p)
            | TokError::UnterminatedEnv(p)
            | TokError::BadEnvName(p)
            | TokError::BadExpansion(p)
            | TokError::TooManyWords(p, _) => *p,
        }
    }

    /// Whether HAProxy follows this message with the line excerpt and caret
    /// (see [`error_context`]); true for all errors but `TooManyWords`.
    pub fn wants_context(&self) -> bool {
        !matches!(self, TokError::TooManyWords(..))
    }
}

impl fmt::Display for TokError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokError::UnterminatedQuote(_, p) => write!(f, "unmatched quote at position {p}"),
            TokError::BadEscape(_, p) => {
                write!(
                    f,
                    "truncated or invalid hexadecimal sequence at position {p}"
                )
            }
            TokError::UnterminatedEnv(p) => write!(
                f,
                "unmatched brace in environment variable name at position {p}"
            ),
            TokError::BadEnvName(p) => write!(
                f,
                "forbidden first char in environment variable name at position {p}"
            ),
            TokError::BadExpansion(p) => write!(
                f,
                "truncated or invalid word expansion sequence at position {p}"
            ),
            TokError::TooManyWords(p, w) => write!(
                f,
                "too many words, truncating after word {MAX_LINE_ARGS}, position {p}: <{w}>"
            ),
        }
    }
}

impl std::error::Error for TokError {}

/// Renders HAProxy's excerpt shown after a tokenizer error: the line without
/// its leading blanks, indented by two spaces, then a caret under byte
/// position `pos` (1-based). Blanks are shown as spaces and other
/// non-printable or non-ASCII bytes as `?`. No trailing newline.
pub fn error_context(line: &str, pos: usize) -> String {
    let bytes = line.as_bytes();
    let lead = bytes.iter().take_while(|&&b| is_blank(b)).count();
    let mut shown = String::from("  ");
    for &b in bytes.iter().skip(lead) {
        if b == b'\n' {
            break;
        }
        shown.push(if is_blank(b) || b == b'\r' {
            ' '
        } else if (0x20..0x7f).contains(&b) {
            char::from(b)
        } else {
            '?'
        });
    }
    let col = pos.saturating_sub(1).saturating_sub(lead) + 2;
    shown.push('\n');
    shown.extend(std::iter::repeat_n(' ', col));
    shown.push('^');
    shown
}

/// Splits one logical line into words. `env` resolves environment variables
/// (and pseudo-variables such as `.LINE`); it is only consulted for `$`
/// expansions inside double quotes.
pub fn tokenize(line: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, TokError> {
    let bytes = line.as_bytes();
    let end = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n' || b == 0)
        .unwrap_or(bytes.len());
    let src = bytes.get(..end).unwrap_or(bytes);
    let mut t = Tok {
        src,
        env,
        words: Vec::new(),
        cur: Vec::new(),
        in_word: false,
    };
    t.run()?;
    Ok(t.words.into_iter().map(finish_word).collect())
}

/// Convenience: [`tokenize`] resolving variables with the process environment
/// (`std::env`). Pseudo-variables such as `.LINE` are then unknown.
pub fn tokenize_env(line: &str) -> Result<Vec<String>, TokError> {
    tokenize(line, &|name: &str| {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    })
}

/// Blank characters separating words (C `isspace` minus CR/LF which end the line).
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c)
}

/// Blank characters splitting a `${VAR[*]}` value into words.
fn is_split_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Turns raw word bytes into a String: a NUL (from `\x00`) ends the word as
/// it does in HAProxy's C strings; invalid UTF-8 is replaced lossily.
fn finish_word(mut w: Vec<u8>) -> String {
    if let Some(nul) = w.iter().position(|&b| b == 0) {
        w.truncate(nul);
    }
    match String::from_utf8(w) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

struct Tok<'a> {
    src: &'a [u8],
    env: &'a dyn Fn(&str) -> Option<String>,
    words: Vec<Vec<u8>>,
    cur: Vec<u8>,
    in_word: bool,
}

impl Tok<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.src.get(i).copied()
    }

    /// Ends the current word because a separator follows it. Like HAProxy,
    /// having already 64 words when a separator shows up is an error.
    fn close_word(&mut self) -> Result<(), TokError> {
        let w = std::mem::take(&mut self.cur);
        self.words.push(w);
        if self.words.len() >= MAX_LINE_ARGS {
            return Err(self.too_many());
        }
        Ok(())
    }

    fn too_many(&self) -> TokError {
        let keep = MAX_LINE_ARGS.saturating_sub(1);
        let pos = self
            .words
            .iter()
            .take(keep)
            .map(|w| w.len() + 1)
            .sum::<usize>()
            + 1;
        let word = self
            .words
            .get(keep)
            .map(|w| finish_word(w.clone()))
            .unwrap_or_default();
        TokError::TooManyWords(pos, word)
    }

    fn run(&mut self) -> Result<(), TokError> {
        let mut quote = Quote::None;
        let mut quote_pos = 0usize;
        let mut i = 0usize;
        while let Some(c) = self.at(i) {
            match quote {
                Quote::None => {
                    if is_blank(c) {
                        if self.in_word {
                            self.in_word = false;
                            self.close_word()?;
                        }
                        i += 1;
                        continue;
                    }
                    if c == b'#' {
                        break;
                    }
                    self.in_word = true;
                    match c {
                        b'\\' => i = self.escape(i, false)?,
                        b'"' => {
                            quote = Quote::Double;
                            quote_pos = i;
                            i += 1;
                        }
                        b'\'' => {
                            quote = Quote::Single;
                            quote_pos = i;
                            i += 1;
                        }
                        _ => {
                            self.cur.push(c);
                            i += 1;
                        }
                    }
                }
                Quote::Single => {
                    if c == b'\'' {
                        quote = Quote::None;
                    } else {
                        self.cur.push(c);
                    }
                    i += 1;
                }
                Quote::Double => match c {
                    b'"' => {
                        quote = Quote::None;
                        i += 1;
                    }
                    b'\\' => i = self.escape(i, true)?,
                    b'$' => i = self.expand(i)?,
                    _ => {
                        self.cur.push(c);
                        i += 1;
                    }
                },
            }
        }
        match quote {
            Quote::Single => return Err(TokError::UnterminatedQuote('\'', quote_pos + 1)),
            Quote::Double => return Err(TokError::UnterminatedQuote('"', quote_pos + 1)),
            Quote::None => {}
        }
        if self.in_word {
            let w = std::mem::take(&mut self.cur);
            self.words.push(w);
        }
        Ok(())
    }

    /// Handles a backslash at `i`; returns the index after the sequence.
    fn escape(&mut self, i: usize, in_dquote: bool) -> Result<usize, TokError> {
        let out = match self.at(i + 1) {
            Some(b' ') => b' ',
            Some(b'#') => b'#',
            Some(b'\\') => b'\\',
            Some(b'\'') => b'\'',
            Some(b'"') => b'"',
            Some(b'$') if in_dquote => b'$',
            Some(b'r') => b'\r',
            Some(b'n') => b'\n',
            Some(b't') => b'\t',
            Some(b'x') => {
                let hi = self.at(i + 2).and_then(hex_val);
                let lo = self.at(i + 3).and_then(hex_val);
                return match (hi, lo) {
                    (Some(h), Some(l)) => {
                        self.cur.push(h * 16 + l);
                        Ok(i + 4)
                    }
                    _ => {
                        let seq = self
                            .src
                            .get(i..(i + 4).min(self.src.len()))
                            .map(|s| String::from_utf8_lossy(s).into_owned())
                            .unwrap_or_default();
                        Err(TokError::BadEscape(seq, i + 1))
                    }
                };
            }
            _ => {
                // Not an escape: the backslash is kept, the next char is
                // processed normally.
                self.cur.push(b'\\');
                return Ok(i + 1);
            }
        };
        self.cur.push(out);
        Ok(i + 2)
    }

    /// Expands a variable whose `$` is at `i` (inside double quotes); returns
    /// the index after the reference.
    fn expand(&mut self, i: usize) -> Result<usize, TokError> {
        let braced = self.at(i + 1) == Some(b'{');
        let start = if braced { i + 2 } else { i + 1 };
        let first = self.at(start);
        let pseudo = first == Some(b'.');
        if !pseudo && !first.is_some_and(is_name_start) {
            return Err(TokError::BadEnvName(start + 1));
        }
        let mut j = start + 1;
        while self.at(j).is_some_and(is_name_char) {
            j += 1;
        }
        let name_bytes = self.src.get(start..j).unwrap_or_default();
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        let mut split = false;
        let mut default: Option<&[u8]> = None;
        if braced {
            let brace_err = TokError::UnterminatedEnv(i + 2);
            if self.at(j) == Some(b'[') {
                if self.at(j + 1) == Some(b'*') && self.at(j + 2) == Some(b']') {
                    split = true;
                    j += 3;
                } else {
                    return Err(TokError::BadExpansion(j + 1));
                }
            }
            if self.at(j) == Some(b'-') {
                let rest = self.src.get(j + 1..).unwrap_or_default();
                match rest.iter().position(|&b| b == b'}') {
                    Some(close) => {
                        default = rest.get(..close);
                        j += 1 + close;
                    }
                    None => return Err(brace_err),
                }
            }
            if self.at(j) != Some(b'}') {
                return Err(brace_err);
            }
            j += 1;
        }
        let value: Vec<u8> = match (self.env)(&name) {
            Some(v) => v.into_bytes(),
            None if pseudo => return Err(TokError::BadEnvName(start + 1)),
            None => default.map(<[u8]>::to_vec).unwrap_or_default(),
        };
        if split {
            let mut in_blank = false;
            for b in value {
                if is_split_blank(b) {
                    if !in_blank {
                        in_blank = true;
                        self.close_word()?;
                    }
                } else {
                    in_blank = false;
                    self.cur.push(b);
                }
            }
        } else {
            self.cur.extend_from_slice(&value);
        }
        Ok(j)
    }
}

#[cfg(test)]
#[path = "tokenizer_tests.rs"]
mod tests;
