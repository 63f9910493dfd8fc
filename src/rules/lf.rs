//! Log-format strings with sample expressions (configuration.txt 8.2.4):
//! header values, redirect targets, `lf-string`, dynamic `use_backend`
//! names and `log-format` itself. The format is parsed once by
//! `log::format`; each `%[expr]` in it is compiled here, evaluated per use,
//! and handed to the renderer as text.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::env::Env;
use super::expr::{EvalCx, ParseCx, SampleExpr};
use super::sample::SmpType;
use crate::log::format::{LfFlags, LogFormat, LogVars, Token};

/// A parsed log-format string and its compiled sample expressions.
#[derive(Debug, Clone)]
pub struct Lf {
    pub fmt: LogFormat,
    pub exprs: Vec<SampleExpr>,
    /// The format is one `%[expr]` and nothing else (`%[req.hdr(host)]`):
    /// its value is the sample's bytes, no log machinery needed.
    pub single: bool,
}

impl Lf {
    /// Parses `text` (as in a `mode http` proxy when `http`).
    pub fn parse(text: &str, http: bool, cx: &mut ParseCx<'_>) -> Result<Lf, String> {
        let fmt = LogFormat::parse_for_mode(text, http)?;
        let mut exprs = Vec::with_capacity(fmt.sample_exprs().len());
        for e in fmt.sample_exprs() {
            let parsed = SampleExpr::parse(e, cx).map_err(|err| {
                // HAProxy quotes the format from the expression to its end.
                let at = text.find(&format!("%[{e}")).map_or(0, |i| i + 2);
                let rest = text.get(at..).unwrap_or(e);
                format!("failed to parse sample expression <{rest}> : {}", err.0)
            })?;
            exprs.push(parsed);
        }
        let single = exprs.len() == 1
            && matches!(fmt.tokens(), [Token::Sample(0, fl)] if *fl == LfFlags::default());
        Ok(Lf { fmt, exprs, single })
    }

    /// For a [`Lf::single`] format: appends the sample's bytes to `out`
    /// (nothing when it is missing). Returns false for any other format.
    pub fn render_single(&self, env: &dyn Env, cx: &mut EvalCx<'_>, out: &mut Vec<u8>) -> bool {
        let (true, Some(e)) = (self.single, self.exprs.first()) else {
            return false;
        };
        if let Some(s) = e.eval(env, cx).and_then(|s| s.cast(SmpType::Str, cx.pool)) {
            out.extend_from_slice(s.bytes().unwrap_or(&[]));
            s.recycle(cx.pool);
        }
        true
    }

    /// True when the format has no sample expression.
    pub fn is_static(&self) -> bool {
        self.exprs.is_empty()
    }

    /// Each expression's value as text (None when missing), in order: what
    /// `LogVars::samples` takes.
    pub fn eval_samples(&self, env: &dyn Env, cx: &mut EvalCx<'_>) -> Vec<Option<String>> {
        let mut texts: Vec<Option<String>> = Vec::with_capacity(self.exprs.len());
        for e in &self.exprs {
            let v = e
                .eval(env, cx)
                .and_then(|s| s.cast(SmpType::Str, cx.pool))
                .map(|s| {
                    let t = String::from_utf8_lossy(s.bytes().unwrap_or(&[])).into_owned();
                    s.recycle(cx.pool);
                    t
                });
            texts.push(v);
        }
        texts
    }

    /// Renders into `out`: evaluates each expression as text, then the
    /// format with `base`'s variables.
    pub fn render(&self, base: &LogVars<'_>, env: &dyn Env, cx: &mut EvalCx<'_>, out: &mut String) {
        if self.exprs.is_empty() {
            self.fmt.render(base, out);
            return;
        }
        let texts = self.eval_samples(env, cx);
        let refs: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
        let v = LogVars {
            samples: &refs,
            bare_samples: true,
            ..base.clone()
        };
        self.fmt.render(&v, out);
    }
}
