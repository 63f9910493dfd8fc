//! The HTTP part of the typed configuration: what `mode http` proxies read
//! (configuration.txt 4 and 4.2). Produced by `http_kw` / `http_rules`,
//! re-exported by `model`, consumed by the HTTP analysers.
//!
//! Invariants after `Parser::check`:
//! * `HttpCfg::errorfiles` holds no `ErrorSource::Section`: each `errorfiles
//!   <name> [<code> ...]` was expanded into `File` entries from its
//!   `http-errors` section, in place. Later entries win for a given code.
//! * `req_rules` / `res_rules` hold rules with their conditions (ACL
//!   indexes into `Config::rules`).
//! * Strings that HAProxy evaluates as log-format (header values, redirect
//!   targets, `lf-string`, `log-format`) are kept raw, as written after the
//!   tokenizer's quoting and escaping.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::rules::acl::Cond;
use std::net::IpAddr;
use std::path::PathBuf;
use std::rc::Rc;

/// How client and server connections live across transactions
/// (configuration.txt 4, "option http-keep-alive / http-server-close /
/// httpclose"). The last of the three options wins; `no option X` goes back
/// to `KeepAlive` only when X is the current mode, as HAProxy 2.6 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

/// `http-reuse { never | safe | aggressive | always }`, default `safe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpReuse {
    Never,
    #[default]
    Safe,
    Aggressive,
    Always,
}

/// `option forwardfor [except <net>] [header <name>] [if-none]`.
#[derive(Debug, Clone)]
pub struct ForwardFor {
    /// Source network for which no header is added (address, prefix length).
    pub except: Option<(IpAddr, u8)>,
    pub header: String,
    /// Add the header only when the request has none.
    pub if_none: bool,
}

impl Default for ForwardFor {
    fn default() -> Self {
        ForwardFor {
            except: None,
            header: "X-Forwarded-For".to_string(),
            if_none: false,
        }
    }
}

/// `option originalto [except <net>] [header <name>]`.
#[derive(Debug, Clone)]
pub struct OriginalTo {
    /// Destination network for which no header is added.
    pub except: Option<(IpAddr, u8)>,
    pub header: String,
}

impl Default for OriginalTo {
    fn default() -> Self {
        OriginalTo {
            except: None,
            header: "X-Original-To".to_string(),
        }
    }
}

/// `capture request|response header <name> len <n>` and `capture cookie`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub name: String,
    /// Most bytes kept (a cookie capture is cut to 63 by the checks).
    pub len: usize,
}

/// Where an error response comes from (`errorfile`, `errorloc*`,
/// `errorfiles`, `http-error`).
#[derive(Debug, Clone)]
pub enum ErrorSource {
    /// `errorfile <code> <file>`: a full HTTP response, checked at parse time.
    File(PathBuf),
    /// `errorloc` / `errorloc302 <code> <url>`: a 302 to the URL.
    Loc302(String),
    /// `errorloc303 <code> <url>`: a 303 to the URL.
    Loc303(String),
    /// `errorfiles <name> [<code> ...]` before `check` expands it (code 0 in
    /// the list means "every code of the section").
    Section(String),
    /// `http-error status <code> [content-type <t>] [<body>] [hdr <n> <v>]*`:
    /// a reply built like `http-request return`.
    Reply {
        content_type: Option<String>,
        body: ReturnBody,
        hdrs: Vec<(String, Fmt)>,
    },
}

/// The kind of an `http-request redirect` (configuration.txt 4.2, redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

/// The payload of a `return` reply (or of an `http-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnBody {
    /// No payload: an empty response with the status only.
    None,
    /// `string <str>`: raw payload.
    String(String),
    /// `file <file>`: raw payload read from the file (checked readable).
    File(PathBuf),
    /// `errorfile <file>`: a full HTTP response (checked at parse time).
    ErrorFile(PathBuf),
    /// `lf-string <fmt>`: payload evaluated as a log-format string.
    LfString(Fmt),
    /// `lf-file <file>`: the file's content (read at start-up), evaluated
    /// as a log-format string.
    LfFile(Fmt),
    /// `errorfiles <name>`: the response for the status from that
    /// `http-errors` section (kept by name; see `Config::http_errors`).
    ErrorFiles(String),
    /// `default-errorfiles`: the proxy's own error response for the status.
    DefaultErrorFiles,
}

impl ReturnBody {
    /// The log-format strings of a reply (its body's and its header
    /// values), to compile at parse time.
    pub fn fmts_mut<'a>(&'a mut self, hdrs: &'a mut [(String, Fmt)]) -> Vec<&'a mut Fmt> {
        let mut v: Vec<&mut Fmt> = hdrs.iter_mut().map(|(_, f)| f).collect();
        if let ReturnBody::LfString(f) | ReturnBody::LfFile(f) = self {
            v.push(f);
        }
        v
    }
}

/// The action of one `http-request` / `http-response` rule
/// (configuration.txt 4.2); see [`HttpRule`] for its condition.
#[derive(Debug, Clone)]
pub enum HttpAction {
    SetHeader {
        name: String,
        value: Fmt,
    },
    AddHeader {
        name: String,
        value: Fmt,
    },
    /// Exact (case-insensitive) name match only: `-m str` or no `-m`.
    DelHeader {
        name: String,
    },
    ReplaceHeader {
        name: String,
        regex: String,
        replace: String,
    },
    ReplaceValue {
        name: String,
        regex: String,
        replace: String,
    },
    SetPath(Fmt),
    /// `set-pathq`: the path and the query.
    SetPathq(Fmt),
    SetQuery(Fmt),
    SetUri(Fmt),
    SetMethod(Fmt),
    Redirect {
        kind: RedirectKind,
        target: Fmt,
        /// 301, 302 (default), 303, 307 or 308.
        code: u16,
        drop_query: bool,
        append_slash: bool,
        /// `set-cookie` / `clear-cookie`: the `set-cookie` header value.
        cookie: Option<String>,
        /// `ignore-empty`: an empty target skips the rule.
        ignore_empty: bool,
    },
    Return {
        /// 200..=599, default 200.
        status: u16,
        content_type: Option<String>,
        body: ReturnBody,
        /// `hdr <name> <fmt>`: values are log-format strings.
        hdrs: Vec<(String, Fmt)>,
    },
    /// Default 403 for `http-request`, 502 for `http-response` (as 2.6).
    Deny {
        status: u16,
    },
    Allow,
    /// Default 500.
    Tarpit {
        status: u16,
    },
    /// `set-var(<var>) <expr>`.
    SetVar {
        var: crate::rules::vars::VarRef,
        expr: Box<crate::rules::expr::SampleExpr>,
    },
    /// `set-var-fmt(<var>) <fmt>`: the rendered string.
    SetVarFmt {
        var: crate::rules::vars::VarRef,
        fmt: Fmt,
    },
    UnsetVar(crate::rules::vars::VarRef),
    /// Closes the client connection at once, no response.
    Reject,
    /// `set-timeout server|tunnel <time>|<expr>` (`tunnel`: true for the
    /// tunnel timeout), for this transaction's server connection.
    SetTimeout {
        tunnel: bool,
        ms: Option<u32>,
        expr: Option<Box<crate::rules::expr::SampleExpr>>,
    },
    /// `set-log-level <level>|silent` (None: silent).
    SetLogLevel(Option<u8>),
    /// `capture <expr> len <n>` into request capture slot `slot`, or
    /// `capture <expr> id <n>` into a declared slot of the frontend (`len`
    /// None: the slot's; `res`: a response capture).
    Capture {
        expr: Box<crate::rules::expr::SampleExpr>,
        slot: usize,
        len: Option<usize>,
        res: bool,
    },
    /// `set-src <expr>` / `set-dst <expr>`: the address (the port stays).
    SetSrc(Box<crate::rules::expr::SampleExpr>),
    SetDst(Box<crate::rules::expr::SampleExpr>),
    /// `set-mark <n>` / `set-tos <n>` on the client socket.
    SetMark(u32),
    SetTos(u8),
    /// `strict-mode on|off`: a failed rewrite is an error (on) or skipped.
    StrictMode(bool),
    /// `wait-for-handshake`: nothing to wait for without TLS early data.
    WaitForHandshake,
    /// `silent-drop`: the client connection ends with no FIN sent first.
    SilentDrop,
    /// `normalize-uri <normalizer> [full|strict]` (experimental in 2.6).
    NormalizeUri(crate::http::normalize::Normalizer),
    /// `auth [realm <realm>]`: 401 asking for Basic credentials; the realm
    /// defaults to the name of the proxy holding the rule.
    Auth {
        realm: String,
    },
    /// `http-response set-status <code> [reason <str>]`.
    SetStatus {
        status: u16,
        reason: Option<String>,
    },
}

impl HttpAction {
    /// Whether no later rule of the same list is evaluated after this one.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            HttpAction::Redirect { .. }
                | HttpAction::Return { .. }
                | HttpAction::Deny { .. }
                | HttpAction::Allow
                | HttpAction::Tarpit { .. }
                | HttpAction::Reject
                | HttpAction::Auth { .. }
                | HttpAction::SilentDrop
        )
    }
}

/// A string HAProxy evaluates as a log-format (header values, redirect
/// targets, `lf-string`): as written, and compiled when it has a `%`.
#[derive(Clone, Default)]
pub struct Fmt {
    pub raw: String,
    pub lf: Option<Box<crate::rules::lf::Lf>>,
}

impl From<&str> for Fmt {
    fn from(s: &str) -> Fmt {
        Fmt {
            raw: s.to_string(),
            lf: None,
        }
    }
}

impl From<String> for Fmt {
    fn from(raw: String) -> Fmt {
        Fmt { raw, lf: None }
    }
}

impl std::ops::Deref for Fmt {
    type Target = str;
    fn deref(&self) -> &str {
        &self.raw
    }
}

impl std::fmt::Debug for Fmt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.raw)
    }
}

impl PartialEq for Fmt {
    fn eq(&self, o: &Fmt) -> bool {
        self.raw == o.raw
    }
}

impl Eq for Fmt {}

impl PartialEq<&str> for Fmt {
    fn eq(&self, o: &&str) -> bool {
        self.raw == *o
    }
}

impl HttpAction {
    /// The log-format strings of the action, to compile at parse time.
    pub fn fmts_mut(&mut self) -> Vec<&mut Fmt> {
        match self {
            HttpAction::SetHeader { value, .. } | HttpAction::AddHeader { value, .. } => {
                vec![value]
            }
            HttpAction::SetPath(f)
            | HttpAction::SetQuery(f)
            | HttpAction::SetPathq(f)
            | HttpAction::SetUri(f)
            | HttpAction::SetMethod(f) => vec![f],
            HttpAction::Redirect { target, .. } => vec![target],
            HttpAction::SetVarFmt { fmt, .. } => vec![fmt],
            HttpAction::Return { body, hdrs, .. } => body.fmts_mut(hdrs),
            _ => Vec::new(),
        }
    }
}

/// A rule: its action and the condition it applies under (None: always).
#[derive(Debug, Clone)]
pub struct HttpRule {
    pub action: HttpAction,
    pub cond: Option<Cond>,
}

/// The HTTP settings of a proxy.
#[derive(Debug, Clone, Default)]
pub struct HttpCfg {
    pub conn_mode: HttpConnMode,
    pub pretend_keepalive: bool,
    /// `Some(false)`: `option httplog`; `Some(true)`: `option httplog clf`.
    /// At most one of `httplog`, `log_format` and `ProxyOpts::tcplog` is set.
    pub httplog: Option<bool>,
    pub forwardfor: Option<ForwardFor>,
    pub originalto: Option<OriginalTo>,
    pub abortonclose: bool,
    /// `option http-buffer-request`.
    pub buffer_request: bool,
    /// `option http-no-delay`: no MSG_MORE on message data.
    pub no_delay: bool,
    pub ignore_probes: bool,
    pub dontlog_normal: bool,
    pub accept_invalid_req: bool,
    pub accept_invalid_res: bool,
    pub reuse: HttpReuse,
    pub monitor_uri: Option<String>,
    /// `capture request header <name> len <n>`, in order.
    pub req_captures: Vec<Capture>,
    pub res_captures: Vec<Capture>,
    /// `capture cookie <name> len <n>` (the last one wins).
    pub cookie_capture: Option<Capture>,
    /// In order; for one code the last entry wins.
    pub errorfiles: Vec<(u16, ErrorSource)>,
    /// `http-request` rules, in order (those of the `defaults` section
    /// first), shared with the running proxy (no copy per request).
    pub req_rules: Rc<Vec<HttpRule>>,
    /// `http-response` rules, in order.
    pub res_rules: Rc<Vec<HttpRule>>,
    /// `http-after-response` rules, in order.
    pub after_rules: Rc<Vec<HttpRule>>,
    /// `log-format <string>`, raw.
    pub log_format: Option<String>,
    /// Its `%[expr]` expressions, compiled (when it has any).
    pub log_lf: Option<Rc<crate::rules::lf::Lf>>,
    /// `error-log-format <string>`, compiled: the line of a connection
    /// that failed before its stream (a TLS handshake).
    pub error_log_lf: Option<Rc<crate::rules::lf::Lf>>,
    /// `capture ... id <n>` rules: (response side, id), checked against the
    /// declared slots once the configuration is read.
    pub capture_ids: Vec<(bool, usize)>,
    /// `unique-id-format <fmt>` and `unique-id-header <name>`.
    pub unique_id_fmt: Option<Rc<crate::rules::lf::Lf>>,
    pub unique_id_hdr: Option<String>,
    /// `http-request wait-for-body time <t> [at-least <n>]`: (ms, bytes).
    pub wait_for_body: Option<(u32, Option<u64>)>,
    /// Where some of the above were written (HAProxy's `px->conf`).
    pub conf: HttpConfPlaces,
}

/// Where some HTTP settings were written, for the post-parse diagnostics
/// that cite a `file:line`. Copied from `defaults` with the settings.
#[derive(Debug, Clone, Default)]
pub struct HttpConfPlaces {
    /// The log format in force: `option httplog`, `option tcplog` or
    /// `log-format`.
    pub log_format: Option<(String, usize)>,
    /// One entry per `HttpCfg::errorfiles` entry (same index): the
    /// `errorfiles` line of a `Section` entry, None for the others.
    pub errorfiles: Vec<Option<(String, usize)>>,
}
