//! Converters: see `conv` for the registry.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::expr::ConvDef;

pub const NUM: &[ConvDef] = &[];
