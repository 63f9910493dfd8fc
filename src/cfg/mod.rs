//! Configuration: tokenizer, units, sections and keywords, diagnostics.
pub mod diag;
pub mod model;
pub mod parse;
pub mod suggest;
pub mod tokenizer;
pub mod units;
