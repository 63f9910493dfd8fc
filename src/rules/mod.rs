//! The rules engine (configuration.txt 7): samples, converters, ACLs,
//! maps and variables, as a sans-IO core the analysers call.
//!
//! ```text
//!   config:  "acl api path_beg /api"     acl::declare  -> store.acls
//!            "use_backend b if api"      acl::parse_cond -> Cond
//!            "%[req.hdr(host),lower]"    SampleExpr::parse
//!   run:     the stream implements env::Env (a read-only view);
//!            Cond::eval / SampleExpr::eval read it through an EvalCx
//!            (buffer pool, variables, the store) and never do I/O
//! ```
//!
//! Layers inside: `sample` (typed values, casts) <- `expr` (fetch and
//! converter chains; registries in `fetch*`, `conv*`) <- `pattern` (match
//! methods, compiled sets) <- `acl` (ACLs, conditions) ; `store` holds what
//! rules refer to by index and what the CLI edits; `vars` the variables.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod acl;
pub mod auth;
pub mod conv;
pub mod conv_digest;
pub mod conv_enc;
pub mod conv_hash;
pub mod conv_map;
pub mod conv_num;
pub mod conv_str;
pub mod env;
pub mod expr;
pub mod fetch;
pub mod fetch_auth;
pub mod fetch_cookie;
pub mod fetch_hdr;
pub mod fetch_http;
#[cfg(test)]
pub mod fetch_mock;
pub mod fetch_payload;
pub mod fetch_pp;
pub mod fetch_ssl;
pub mod fetch_tls;
pub mod fetch_url;
pub mod lf;
pub mod pattern;
pub mod sample;
pub mod store;
pub mod vars;
