//! Configuration diagnostics, printed HAProxy's way:
//! `[ALERT]    (pid) : config : parsing [file:line] : message`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Write as _;

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Notice,
    Warning,
    Alert,
}

impl Level {
    /// The label padded to 10 columns, as HAProxy prints it.
    pub fn label(self) -> &'static str {
        match self {
            Level::Alert => "[ALERT]   ",
            Level::Warning => "[WARNING] ",
            Level::Notice => "[NOTICE]  ",
        }
    }
}

/// How the `file:line` of a diagnostic is printed; HAProxy uses all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlaceStyle {
    /// `parsing [file:line] : msg`
    #[default]
    Parsing,
    /// `parsing [file:line]: msg`
    ParsingTight,
    /// `[file:line] : msg` (server line errors)
    Bare,
    /// The message alone, no prefix (2.6 repeats some TLS errors so).
    Raw,
}

/// One diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub level: Level,
    /// `file:line` when the message is about a config line.
    pub place: Option<(String, usize)>,
    pub msg: String,
    /// How `place` is printed.
    pub style: PlaceStyle,
}

/// Formats a message line for stderr: `[LABEL] (pid) : ctx : text`.
pub fn format_line(level: Level, ctx: Option<&str>, text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 40);
    let _ = write!(s, "{} ({}) : ", level.label(), std::process::id());
    if let Some(c) = ctx {
        let _ = write!(s, "{c} : ");
    }
    s.push_str(text);
    s
}

impl Diag {
    /// The line as printed on stderr.
    pub fn render(&self) -> String {
        if self.style == PlaceStyle::Raw {
            return self.msg.clone();
        }
        let text = match &self.place {
            Some((f, l)) => match self.style {
                PlaceStyle::Parsing => format!("parsing [{f}:{l}] : {}", self.msg),
                PlaceStyle::ParsingTight => format!("parsing [{f}:{l}]: {}", self.msg),
                PlaceStyle::Bare => format!("[{f}:{l}] : {}", self.msg),
                PlaceStyle::Raw => self.msg.clone(),
            },
            None => self.msg.clone(),
        };
        format_line(self.level, Some("config"), &text)
    }
}

/// Collected diagnostics.
#[derive(Debug, Default)]
pub struct Diags {
    pub list: Vec<Diag>,
}

impl Diags {
    /// Records an alert at `file:line`.
    pub fn alert(&mut self, file: &str, line: usize, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Alert,
            place: Some((file.to_string(), line)),
            msg: msg.into(),
            style: PlaceStyle::Parsing,
        });
    }

    /// Records a warning at `file:line`.
    pub fn warn(&mut self, file: &str, line: usize, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Warning,
            place: Some((file.to_string(), line)),
            msg: msg.into(),
            style: PlaceStyle::Parsing,
        });
    }

    /// Records an alert at `file:line`, printed `parsing [file:line]: msg`.
    pub fn alert_tight(&mut self, file: &str, line: usize, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Alert,
            place: Some((file.to_string(), line)),
            msg: msg.into(),
            style: PlaceStyle::ParsingTight,
        });
    }

    /// Records a warning at `file:line`, printed `parsing [file:line]: msg`.
    pub fn warn_tight(&mut self, file: &str, line: usize, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Warning,
            place: Some((file.to_string(), line)),
            msg: msg.into(),
            style: PlaceStyle::ParsingTight,
        });
    }

    /// Records an alert at `file:line`, printed `[file:line] : msg`.
    pub fn alert_bare(&mut self, file: &str, line: usize, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Alert,
            place: Some((file.to_string(), line)),
            msg: msg.into(),
            style: PlaceStyle::Bare,
        });
    }

    /// Records an alert printed as its bare text (no level, no prefix).
    pub fn raw(&mut self, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Alert,
            place: None,
            msg: msg.into(),
            style: PlaceStyle::Raw,
        });
    }

    /// Records a message with no place.
    pub fn global(&mut self, level: Level, msg: impl Into<String>) {
        self.list.push(Diag {
            level,
            place: None,
            msg: msg.into(),
            style: PlaceStyle::Parsing,
        });
    }

    /// Number of alerts.
    pub fn alerts(&self) -> usize {
        self.list.iter().filter(|d| d.level == Level::Alert).count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.list
            .iter()
            .filter(|d| d.level == Level::Warning)
            .count()
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_haproxy() {
        let mut d = Diags::default();
        d.alert("h.cfg", 12, "unknown keyword 'foo' in 'global' section");
        let s = d.list[0].render();
        let pid = std::process::id();
        assert_eq!(
            s,
            format!(
                "[ALERT]    ({pid}) : config : parsing [h.cfg:12] : unknown keyword 'foo' in 'global' section"
            )
        );
        d.warn_tight("h.cfg", 3, "previous rule is final.");
        assert_eq!(
            d.list[1].render(),
            format!("[WARNING]  ({pid}) : config : parsing [h.cfg:3]: previous rule is final.")
        );
        assert!(format_line(Level::Warning, None, "x").starts_with("[WARNING]  ("));
        assert!(format_line(Level::Notice, None, "x").starts_with("[NOTICE]   ("));
    }
}
