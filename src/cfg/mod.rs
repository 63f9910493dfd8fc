//! Configuration: tokenizer, `.if` preprocessor, units, sections and keywords,
//! diagnostics.
pub mod cond;
pub mod cond_expr;
pub mod diag;
pub mod http_actions;
pub mod http_capture;
pub mod http_errors_kw;
pub mod http_kw;
pub mod http_model;
pub mod http_post;
pub mod http_reply;
pub mod http_rules;
pub mod http_syntax;
pub mod model;
pub mod parse;
pub mod program_kw;
pub mod rules_kw;
pub mod ssl_kw;
pub mod suggest;
pub mod tcp_rules;
pub mod tokenizer;
pub mod units;
pub mod userlist;
