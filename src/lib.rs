//! haproxy-rs: an HAProxy-compatible load balancer, one thread, one epoll loop.
//!
//! Layers, bottom-up (see `include-docs/architecture.md`):
//! `ticks` (time) -> `fd` (poller) -> `task` (scheduler) -> `listener` ->
//! `conn` (connections, raw socket data layer) -> `buf` (buffers, pipes) ->
//! `channel` -> `si` (stream interfaces) -> `stream` (process_stream, backend
//! state machine) -> `http` (HTTP/1 parser and analysers) -> `proxy`
//! (frontends, backends, LB) -> `engine` (arenas, loop). `cfg` parses
//! configuration, `log` renders traffic logs, `process` handles
//! daemon/pidfile/-sf.
//!
//! Lint policy: code fed by bytes from outside (parsers) never unwraps. The
//! sans-IO parsers and codecs (`conn::proxy_hdr`, every module of `cfg`,
//! `log`, the HTTP parser, header edits and log line in `http`) deny `clippy::unwrap_used`, `clippy::expect_used` and
//! `clippy::indexing_slicing` at their top; their test modules may allow
//! indexing. A parser module that does not deny them says why at its top
//! (`cli::commands`).

pub mod applet;
pub mod arena;
pub mod boot;
pub mod buf;
pub mod cfg;
pub mod channel;
pub mod check;
pub mod cli;
pub mod conn;
pub mod engine;
pub mod fd;
pub mod http;
pub mod listener;
pub mod log;
pub mod master;
pub mod process;
pub mod proxy;
pub mod rules;
pub mod si;
pub mod ssl;
pub mod stream;
pub mod task;
pub mod ticks;
