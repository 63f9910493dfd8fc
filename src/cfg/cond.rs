//! Configuration preprocessor (configuration.txt 2.4 "Conditional blocks"):
//! the `.if` / `.elif` / `.else` / `.endif` blocks, the message directives
//! `.diag`, `.notice`, `.warning` and `.alert`, and the condition language
//! that `.if`, `.elif` and the `-cc` command-line option evaluate.
//!
//! Sans-IO: the caller hands over each tokenized line (plus the raw line, for
//! one quirk below) and an environment lookup; messages go into [`Diags`].
//! Everything here follows HAProxy 2.6.12 (`cfgcond.c` and `readcfgfile()`),
//! messages included, as checked against Debian's `/usr/sbin/haproxy`.
//!
//! Each open `.if` level is in one of HAProxy's `NESTED_COND_*` states.
//! Lines are parsed only when the innermost level is `IfTake`, `ElifTake` or
//! `ElseTake` (or no level is open); a `.if` inside a masked level starts in
//! `IfSkip` without evaluating its condition, so the mask is inherited.
//!
//! ```text
//!   .if c ──► c ? IfTake : IfDrop          (IfSkip if the level above is masked)
//!
//!   state      .elif c                .else       masked?
//!   IfTake     ElifSkip               ElseDrop    no
//!   IfDrop     c ? ElifTake : ElifDrop ElseTake   yes
//!   IfSkip     ElifSkip               ElseDrop    yes
//!   ElifTake   ElifSkip               ElseDrop    no
//!   ElifDrop   c ? ElifTake : ElifDrop ElseTake   yes
//!   ElifSkip   ElifSkip               ElseDrop    yes
//!   ElseTake   error                  error       no
//!   ElseDrop   error                  error       yes
//!
//!   .endif pops the level.
//! ```
//!
//! Errors end the file the way HAProxy does. Most of them "abort": nothing
//! more is read, not even the next files, and `Fatal errors found in
//! configuration.` is not printed. See [`Flow`] and [`Preproc::aborted`].
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub use super::cond_expr::{CondError, compare_version, eval_condition, has_feature};
use super::diag::{Diag, Diags, Level, PlaceStyle};

/// The version `version_atleast()` and `version_before()` compare with: the
/// one `haproxy-rs -v` prints. It reads as HAProxy 2.6.0 (the `-rs` suffix
/// is neither a `-dev`, `-rc` nor `-pre` tag, so it counts as a release).
pub const VERSION: &str = concat!("2.6.0-rs", env!("CARGO_PKG_VERSION"));

/// The build features `feature(<name>)` looks up, in the format and order of
/// HAProxy 2.6's `haproxy -vv` "Feature list" (`+` present, `-` absent).
/// haproxy-rs claims only what it does: `accept4()`, epoll, name resolution
/// through `getaddrinfo()` (Rust's resolver), `splice()` and TCP Fast Open on
/// `bind ... tfo`. It has no OpenSSL, Lua, PCRE (its regexes are Rust's),
/// threads, poll(), compression, systemd or Prometheus exporter, so
/// `.if feature(OPENSSL)` blocks are skipped as they should be.
pub const FEATURES: &str = "-51DEGREES +ACCEPT4 -BACKTRACE -CLOSEFROM -CPU_AFFINITY -CRYPT_H \
-DEVICEATLAS -DL -ENGINE +EPOLL -EVPORTS +GETADDRINFO -KQUEUE -LIBCRYPT +LINUX_SPLICE \
-LINUX_TPROXY -LUA -MEMORY_PROFILING -NETFILTER -NS -OBSOLETE_LINKER -OPENSSL -OT -PCRE \
-PCRE2 -PCRE2_JIT -PCRE_JIT -POLL -PRCTL -PROCCTL -PROMEX -QUIC -RT -SLZ -STATIC_PCRE \
-STATIC_PCRE2 -SYSTEMD +TFO -THREAD -THREAD_DUMP -TPROXY -WURFL -ZLIB";

/// HAProxy's MAXNESTEDCONDS: a 100th nested `.if` is refused.
const MAX_NESTED: usize = 100;

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x0b | 0x0c)
}

/// Where the words of a raw line start and end, as HAProxy's `parse_line()`
/// sees them: whether the line starts with blanks, whether blanks follow its
/// last word (HAProxy then has one more, empty, word), and the line with
/// every unquoted `#` escaped when `sharp` is false (for `-cc`, where `#` is
/// text); when `sharp` is true a `#` ends the scan.
struct LineShape {
    lead_blank: bool,
    /// A word (or a quote, or an escape) was seen.
    seen_word: bool,
    /// The last character before the end (or the comment) is a separator.
    last_blank: bool,
    no_comment: String,
}

fn line_shape(raw: &str, sharp: bool) -> LineShape {
    let s = raw.as_bytes();
    let (mut squote, mut dquote) = (false, false);
    let (mut seen_word, mut last_blank) = (false, false);
    let mut out = Vec::with_capacity(s.len() + 4);
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if matches!(c, b'\r' | b'\n' | 0) {
            break;
        }
        let blank = !squote && !dquote && is_blank(c);
        if squote {
            squote = c != b'\'';
            out.push(c);
        } else if c == b'\\' {
            match s.get(i + 1) {
                // Without comments, "\#" is no escape: keep the backslash.
                Some(b'#') if !sharp => {
                    out.extend_from_slice(b"\\\\\\#");
                    i += 1;
                }
                Some(&n) if !matches!(n, b'\r' | b'\n' | 0) => {
                    out.extend_from_slice(&[c, n]);
                    i += 1;
                }
                _ => out.push(c),
            }
        } else if dquote {
            dquote = c != b'"';
            out.push(c);
        } else if c == b'#' {
            if sharp {
                break;
            }
            out.extend_from_slice(b"\\#");
        } else {
            squote = c == b'\'';
            dquote = c == b'"';
            out.push(c);
        }
        seen_word |= !blank;
        last_blank = blank;
        i += 1;
    }
    LineShape {
        lead_blank: s.first().is_some_and(|&c| is_blank(c)),
        seen_word,
        last_blank,
        no_comment: String::from_utf8_lossy(&out).into_owned(),
    }
}

/// The expression text of a `.if` / `.elif` line: the words after the
/// directive joined by single spaces, as HAProxy re-merges them, including
/// its empty last word when blanks follow the last word of `raw`.
pub fn merge_words(raw: &str, words: &[String]) -> String {
    let mut w: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
    let shape = line_shape(raw, true);
    if shape.seen_word && shape.last_blank {
        w.push("");
    }
    w.join(" ")
}

/// `haproxy -cc <arg>`: tokenizes `arg` like a config line but with `#` as
/// plain text and leading blanks kept as an empty first word, then evaluates
/// it. Returns the truth value or the text of HAProxy's `[ALERT]` (exit 2).
pub fn eval_cc(arg: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<bool, String> {
    use super::tokenizer::{TokError, tokenize};
    let shape = line_shape(arg, false);
    let words = match tokenize(&shape.no_comment, env) {
        Ok(w) => w,
        Err(TokError::UnterminatedQuote(..)) => {
            return Err("Syntax Error in condition: Unmatched quote.".into());
        }
        Err(TokError::BadEscape(..)) => {
            return Err(
                "Syntax Error in condition: Truncated or invalid hexadecimal sequence.".into(),
            );
        }
        Err(TokError::TooManyWords(..)) => return Err("Error in condition: Too many words.".into()),
        Err(_) => {
            return Err(
                "Unhandled error in condition, please report this to the developers.".into(),
            );
        }
    };
    let mut w: Vec<&str> = Vec::with_capacity(words.len() + 2);
    if shape.lead_blank {
        w.push("");
    }
    w.extend(words.iter().map(String::as_str));
    // Leading blanks make an empty first word, so they count as a word here.
    if shape.last_blank && (shape.seen_word || shape.lead_blank) {
        w.push("");
    }
    eval_condition(&w.join(" "), env)
        .map_err(|e| format!("Failed to evaluate condition: {}", e.msg))
}

/// HAProxy's `sanitize_for_printing()`: the text as shown under an error,
/// blanks as spaces and other non-printable bytes as `?`, cut to `width`
/// columns around `pos` with `...` marks. Returns it and `pos` in it.
fn sanitize_for_printing(text: &str, pos: usize, width: usize) -> (String, usize) {
    let s = text.as_bytes();
    let mut out = String::with_capacity(width);
    let (mut from, mut max, mut shift) = (0, width, 0);
    if pos >= width {
        shift = pos - width / 2;
        from = shift + 3;
        max = width - 6;
        out.push_str("...");
    }
    for &c in s.iter().skip(from).take(max) {
        out.push(if c.is_ascii_whitespace() || c == 0x0b {
            ' '
        } else if (0x20..0x7f).contains(&c) {
            char::from(c)
        } else {
            '?'
        });
    }
    if pos >= width {
        out.push_str("...");
    }
    (out, pos - shift)
}

/// The state of one open `.if` level (HAProxy's `NESTED_COND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nest {
    IfTake,
    IfDrop,
    IfSkip,
    ElifTake,
    ElifDrop,
    ElifSkip,
    ElseTake,
    ElseDrop,
}

impl Nest {
    /// Lines of this level are not parsed.
    fn masked(self) -> bool {
        matches!(
            self,
            Nest::IfDrop | Nest::IfSkip | Nest::ElifDrop | Nest::ElifSkip | Nest::ElseDrop
        )
    }

    /// A branch of this block was (or, for IfSkip/ElifSkip, counts as) taken,
    /// so later `.elif` / `.else` branches are not.
    fn done(self) -> bool {
        matches!(
            self,
            Nest::IfTake | Nest::IfSkip | Nest::ElifTake | Nest::ElifSkip
        )
    }
}

/// What the parser does with a line after [`Preproc::line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// An ordinary line in a taken block (or outside any block): parse it.
    Parse,
    /// A directive, or a line in a masked block: nothing more to do.
    Skip,
    /// Read no more of this file; call [`Preproc::end_of_file`] next.
    Stop,
}

/// A `.diag` message, printed only in diagnostic mode (`-dD`). [`Level`] has
/// no DIAG level, so these are kept aside with their place among the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagLine {
    /// Number of [`Diags`] entries recorded before this one.
    pub before: usize,
    /// `parsing [file:line]: 'message'.`
    pub text: String,
}

impl DiagLine {
    /// The line as HAProxy prints it: `[DIAG]     (pid) : config : ...`.
    pub fn render(&self) -> String {
        format!(
            "[DIAG]     ({}) : config : {}",
            std::process::id(),
            self.text
        )
    }
}

/// The preprocessor state across the lines of a file, and across files for
/// [`Preproc::aborted`].
#[derive(Debug, Default)]
pub struct Preproc {
    /// One entry per open `.if`, innermost last.
    levels: Vec<Nest>,
    /// The file was stopped by an error that skips the end-of-file check.
    skip_eof_check: bool,
    /// An error that ends the whole configuration was seen.
    aborted: bool,
    /// `.diag` messages, in order.
    diag_lines: Vec<DiagLine>,
}

impl Preproc {
    /// True once an error that stops HAProxy from reading any further file
    /// was seen; HAProxy then also omits `Fatal errors found in configuration.`.
    pub fn aborted(&self) -> bool {
        self.aborted
    }

    /// The `.diag` messages seen, to print with `-dD`.
    pub fn diag_lines(&self) -> &[DiagLine] {
        &self.diag_lines
    }

    /// Handles one non-empty tokenized line (`words`, from `raw`) at
    /// `file:line`. Directives update the block state and record their
    /// messages in `diags`; `env` answers `defined()`. Returns whether the
    /// caller parses the line, skips it, or stops reading the file.
    pub fn line(
        &mut self,
        raw: &str,
        words: &[String],
        file: &str,
        line: usize,
        env: &dyn Fn(&str) -> Option<String>,
        diags: &mut Diags,
    ) -> Flow {
        let kw = words.first().map_or("", String::as_str);
        let arg = |i: usize| words.get(i).map_or("", String::as_str);
        let alert = |diags: &mut Diags, msg: String| diags.alert_tight(file, line, msg);
        let top = self.levels.last().copied();
        match kw {
            ".if" => {
                if self.levels.len() + 1 >= MAX_NESTED {
                    alert(
                        diags,
                        format!("too many nested '.if', max is {MAX_NESTED}."),
                    );
                    return self.abort();
                }
                if top.is_some_and(Nest::masked) {
                    self.levels.push(Nest::IfSkip);
                    return Flow::Skip;
                }
                match self.eval(raw, words, env) {
                    Ok(v) => {
                        self.levels
                            .push(if v { Nest::IfTake } else { Nest::IfDrop });
                        Flow::Skip
                    }
                    Err(m) => {
                        alert(diags, m);
                        self.abort()
                    }
                }
            }
            ".elif" => {
                let Some(top) = top else {
                    alert(diags, "lone '.elif' with no matching '.if'.".into());
                    return self.abort();
                };
                if matches!(top, Nest::ElseTake | Nest::ElseDrop) {
                    alert(diags, "'.elif' after '.else' is not permitted.".into());
                    return self.abort();
                }
                let next = if top.done() {
                    Nest::ElifSkip
                } else {
                    match self.eval(raw, words, env) {
                        Ok(true) => Nest::ElifTake,
                        Ok(false) => Nest::ElifDrop,
                        Err(m) => {
                            alert(diags, m);
                            return self.abort();
                        }
                    }
                };
                self.set_top(next);
                Flow::Skip
            }
            ".else" | ".endif" => {
                if !arg(1).is_empty() {
                    alert(
                        diags,
                        format!("Unexpected argument '{}' for '{kw}'.", arg(1)),
                    );
                    // HAProxy leaves its read loop: the end-of-file check runs.
                    self.aborted = true;
                    return Flow::Stop;
                }
                let Some(top) = top else {
                    alert(diags, format!("lone '{kw}' with no matching '.if'."));
                    return self.abort();
                };
                if kw == ".endif" {
                    self.levels.pop();
                } else if matches!(top, Nest::ElseTake | Nest::ElseDrop) {
                    alert(diags, "'.else' after '.else' is not permitted.".into());
                    return self.abort();
                } else {
                    self.set_top(if top.done() {
                        Nest::ElseDrop
                    } else {
                        Nest::ElseTake
                    });
                }
                Flow::Skip
            }
            _ if top.is_some_and(Nest::masked) => Flow::Skip,
            ".alert" | ".warning" | ".notice" | ".diag" => {
                if !arg(2).is_empty() {
                    alert(
                        diags,
                        format!(
                            "Unexpected argument '{}' for '{kw}'. Use quotes if the message should contain spaces.",
                            arg(2)
                        ),
                    );
                    return Flow::Skip;
                }
                let msg = format!("'{}'.", arg(1));
                let level = match kw {
                    ".alert" => Level::Alert,
                    ".warning" => Level::Warning,
                    ".notice" => Level::Notice,
                    _ => {
                        self.diag_lines.push(DiagLine {
                            before: diags.list.len(),
                            text: format!("parsing [{file}:{line}]: {msg}"),
                        });
                        return Flow::Skip;
                    }
                };
                diags.list.push(Diag {
                    level,
                    place: Some((file.to_string(), line)),
                    msg,
                    style: PlaceStyle::ParsingTight,
                });
                if level == Level::Alert {
                    return self.abort();
                }
                Flow::Skip
            }
            _ if kw.starts_with('.') => {
                alert(diags, format!("unknown directive '{kw}'."));
                // Not an abort: the next files are still read.
                Flow::Stop
            }
            _ => Flow::Parse,
        }
    }

    /// Ends a file whose last line read was `last_line`: an open `.if` is an
    /// alert there (unless the file was stopped by an error that skips this
    /// check). Resets the block state for the next file.
    pub fn end_of_file(&mut self, file: &str, last_line: usize, diags: &mut Diags) {
        if !self.skip_eof_check && !self.levels.is_empty() {
            diags.alert_tight(file, last_line, "non-terminated '.if' block.");
            self.aborted = true;
        }
        self.levels.clear();
        self.skip_eof_check = false;
    }

    fn set_top(&mut self, n: Nest) {
        if let Some(t) = self.levels.last_mut() {
            *t = n;
        }
    }

    /// HAProxy's `goto err` with ERR_ABORT: stop here, skip the end-of-file
    /// check, read no further file.
    fn abort(&mut self) -> Flow {
        self.aborted = true;
        self.skip_eof_check = true;
        Flow::Stop
    }

    /// Evaluates the condition of a `.if` / `.elif` line; on error, returns
    /// HAProxy's three-line message with the position and a caret.
    fn eval(
        &self,
        raw: &str,
        words: &[String],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<bool, String> {
        let text = merge_words(raw, words);
        eval_condition(&text, env).map_err(|e| {
            let kw = words.first().map_or("", String::as_str);
            // The excerpt and caret fit an 80-column line after "  .if ".
            let width = if kw == ".if" { 76 } else { 74 };
            let (shown, col) = sanitize_for_printing(&text, e.pos, width);
            format!(
                "{} in '{kw}' at position {}:\n  {kw} {shown}\n  {:>w$}",
                e.msg,
                e.pos + 1,
                "^",
                w = col + kw.len() + 2
            )
        })
    }
}

#[cfg(test)]
#[path = "cond_tests.rs"]
mod tests;
