//! Sections and keywords: turns config files into a typed `Config`.
//!
//! Every line is tokenized (`tokenizer`), then dispatched on the current
//! section. Every error is recorded with its `file:line` and parsing goes on,
//! so one run reports all errors of a file, as HAProxy does. A keyword HAProxy
//! 2.6 knows but haproxy-rs does not implement yet gets an explicit alert,
//! never a silent skip. After parsing, `check` resolves cross references
//! (backends, modes) and emits HAProxy's post-parse warnings.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::cond::{Flow, Preproc};
use super::diag::{Diags, Level};
use super::http_kw::{self, HttpParseState};
use super::http_post;
use super::model::*;
use super::rules_kw::RuleCx;
use super::suggest::did_you_mean;
use super::tokenizer::tokenize;
use super::units::{
    parse_bind_addr, parse_bind_addr_env, parse_server_addr, parse_server_addr_env, parse_size,
    parse_size_atol, parse_time_ms, parse_uint,
};
use crate::conn::proxy_send::PpOpts;
use crate::rules::acl::AclScope;
use std::path::{Path, PathBuf};

const KNOWN_KEYWORDS: &str = include_str!("haproxy26_keywords.txt");

/// Sections HAProxy 2.6 has that haproxy-rs does not implement yet.
const UNSUPPORTED_SECTIONS: &[&str] = &[
    "peers",
    "resolvers",
    "mailers",
    "ring",
    "cache",
    "fcgi-app",
    "log-forward",
    "crt-store",
    "dynamic-update",
    "filters",
];

const GLOBAL_KEYWORDS: &[&str] = &[
    "maxconn",
    "daemon",
    "pidfile",
    "user",
    "group",
    "uid",
    "gid",
    "chroot",
    "nbthread",
    "maxpipes",
    "nosplice",
    "tune.bufsize",
    "tune.maxaccept",
    "tune.maxrewrite",
    "tune.pipesize",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    "hard-stop-after",
    "grace",
    "log",
    "quiet",
    "zero-warning",
    "node",
    "noreuseport",
    "log-send-hostname",
    "log-tag",
    "stats",
    "nbproc",
    "description",
    "master-worker",
    "ulimit-n",
    "strict-limits",
    "pp2-never-send-local",
    "fd-hard-limit",
    "tune.http.maxhdr",
    "expose-experimental-directives",
];

const PROXY_KEYWORDS: &[&str] = &[
    "mode",
    "bind",
    "server",
    "default-server",
    "balance",
    "timeout",
    "retries",
    "option",
    "maxconn",
    "backlog",
    "default_backend",
    "use_backend",
    "acl",
    "use-server",
    "force-persist",
    "declare",
    "ignore-persist",
    "tcp-request",
    "tcp-response",
    "log",
    "disabled",
    "enabled",
    "id",
    "description",
    "fullconn",
    "hash-type",
    "no",
    "monitor-uri",
    "http-reuse",
    "capture",
    "errorfile",
    "errorfiles",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "http-error",
    "http-request",
    "http-response",
    "http-after-response",
    "log-format",
    "unique-id-format",
    "unique-id-header",
];

const OPTIONS: &[&str] = &[
    "splice-auto",
    "splice-request",
    "splice-response",
    "redispatch",
    "tcplog",
    "dontlognull",
    "log-separate-errors",
    "logasap",
    "tcpka",
    "clitcpka",
    "srvtcpka",
    "nolinger",
    "httplog",
    "forwardfor",
    "originalto",
    "http-keep-alive",
    "http-server-close",
    "httpclose",
    "http-pretend-keepalive",
    "http-buffer-request",
    "http-ignore-probes",
    "dontlog-normal",
    "abortonclose",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
];

const TIMEOUTS: &[&str] = &[
    "client",
    "server",
    "connect",
    "queue",
    "tunnel",
    "client-fin",
    "server-fin",
    "check",
    "http-request",
    "http-keep-alive",
    "tarpit",
];

/// Where the parser is.
enum Section {
    None,
    Global,
    /// Index into `Parser::defaults`.
    Defaults(usize),
    /// Index into `Config::proxies`.
    Proxy(usize),
    /// Index into `Config::http_errors`.
    HttpErrors(usize),
    /// A `userlist` section (the current list is `RuleStore::userlists.cur`).
    UserList,
    /// Index into `Config::programs`.
    Program(usize),
    /// A section we skip (after one alert).
    Skipped,
}

/// The parser state across files.
pub struct Parser<'e> {
    pub cfg: Config,
    pub diags: Diags,
    /// Defaults sections in order; the last one is the implicit default.
    defaults: Vec<ProxyCfg>,
    section: Section,
    env: &'e dyn Fn(&str) -> Option<String>,
    /// Resolve host names in server addresses (`-dr` turns failures into warnings).
    pub resolve: bool,
    pub ignore_resolve_errors: bool,
    /// What the HTTP keywords remember across lines.
    http: HttpParseState,
    /// The ACLs declared in the open proxy section.
    acls: AclScope,
    /// The `.if` blocks and message directives (configuration.txt 2.4).
    pub cond: Preproc,
}

/// Parses `files` in order and checks the result. The preprocessor state
/// comes back too: `.diag` lines, and whether an error stopped everything.
pub fn parse_files(files: &[PathBuf], ignore_resolve_errors: bool) -> (Config, Diags, Preproc) {
    let env = |k: &str| std::env::var(k).ok();
    let mut p = Parser::new(&env);
    p.ignore_resolve_errors = ignore_resolve_errors;
    for f in files {
        match std::fs::read(f) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                p.parse_text(&text, &f.display().to_string());
                if p.cond.aborted() {
                    break;
                }
            }
            Err(e) => p.diags.global(
                Level::Alert,
                format!(
                    "Cannot open configuration file/directory {} : {}",
                    f.display(),
                    strerror(&e)
                ),
            ),
        }
    }
    if p.diags.alerts() == 0 {
        p.check();
    }
    (p.cfg, p.diags, p.cond)
}

/// The C library's text for an I/O error (without Rust's " (os error N)").
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Expands `-f` arguments: a directory gives its non-hidden `*.cfg` files in
/// byte order (LC_COLLATE=C).
pub fn expand_paths(args: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for a in args {
        let p = Path::new(a);
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|x| {
                            let n = x
                                .file_name()
                                .map(|n| n.to_string_lossy().to_string())
                                .unwrap_or_default();
                            !n.starts_with('.') && n.ends_with(".cfg") && x.is_file()
                        })
                        .collect()
                })
                .unwrap_or_default();
            v.sort_by(|a, b| {
                a.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.as_os_str().as_encoded_bytes())
            });
            out.extend(v);
        } else {
            out.push(p.to_path_buf());
        }
    }
    out
}

fn known_keyword(section: &str, words: &[String]) -> Option<String> {
    let joined2 = words.iter().take(2).cloned().collect::<Vec<_>>().join(" ");
    let joined3 = words.iter().take(3).cloned().collect::<Vec<_>>().join(" ");
    let first = words.first().cloned().unwrap_or_default();
    for l in KNOWN_KEYWORDS.lines() {
        let Some((sec, kw)) = l.split_once('\t') else {
            continue;
        };
        let sec_ok = match section {
            "global" => sec == "global",
            "defaults" => sec.starts_with("proxy:") && sec.contains('d'),
            "frontend" => sec.starts_with("proxy:") && sec.contains('f'),
            "listen" => sec.starts_with("proxy:") && sec.contains('l'),
            "backend" => sec.starts_with("proxy:") && sec.contains('b'),
            _ => false,
        };
        if sec_ok && (kw == joined3 || kw == joined2 || kw == first) {
            return Some(kw.to_string());
        }
    }
    None
}

/// The byte count to keep for `tune.pipesize` / `tune.rcvbuf.*` /
/// `tune.sndbuf.*` read as `v` by [`parse_size_atol`]: within
/// `0..=i32::MAX`, so that the `int` given to `setsockopt()` or
/// `fcntl(F_SETPIPE_SZ)` is exactly this value; 0 means "not set".
///
/// HAProxy 2.6 stores the `long` into an `int`, which wraps: 2147483648
/// becomes negative, 4294967296 becomes 0 (not set). haproxy-rs saturates
/// at `i32::MAX` instead, so a larger value never turns into a small one.
/// A negative value gets the effect HAProxy's negative `int` has on the
/// kernel: `SO_RCVBUF`/`SO_SNDBUF` read it as a huge unsigned value capped
/// at `net.core.rmem_max`/`wmem_max` (so `i32::MAX` here), while
/// `F_SETPIPE_SZ` refuses it and the pipe keeps its default size (0 here).
fn tune_int_size(kw: &str, v: i64) -> usize {
    let max = i32::MAX as usize;
    match usize::try_from(v) {
        Ok(v) => v.min(max),
        Err(_) if kw == "tune.pipesize" => 0,
        Err(_) => max,
    }
}

fn facility(s: &str) -> Option<u8> {
    const F: &[&str] = &[
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
        "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
        "local5", "local6", "local7",
    ];
    F.iter().position(|f| *f == s).map(|i| i as u8)
}

fn level(s: &str) -> Option<u8> {
    const L: &[&str] = &[
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    L.iter().position(|f| *f == s).map(|i| i as u8)
}

impl<'e> Parser<'e> {
    /// A parser resolving `${VAR}` through `env`.
    pub fn new(env: &'e dyn Fn(&str) -> Option<String>) -> Self {
        Parser {
            cfg: Config::default(),
            diags: Diags::default(),
            defaults: vec![ProxyCfg {
                retries: 3,
                ..Default::default()
            }],
            section: Section::None,
            env,
            resolve: true,
            ignore_resolve_errors: false,
            http: HttpParseState::default(),
            acls: AclScope::default(),
            cond: Preproc::default(),
        }
    }

    /// Parses one file's text.
    pub fn parse_text(&mut self, text: &str, file: &str) {
        self.section = Section::None;
        let mut last = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            last = line;
            let words = match tokenize(raw, self.env) {
                Ok(w) => w,
                Err(e) => {
                    self.diags.alert(file, line, e.to_string());
                    continue;
                }
            };
            if words.is_empty() {
                continue;
            }
            match self
                .cond
                .line(raw, &words, file, line, self.env, &mut self.diags)
            {
                Flow::Parse => self.parse_line(&words, file, line),
                Flow::Skip => {}
                Flow::Stop => break,
            }
        }
        self.cond.end_of_file(file, last, &mut self.diags);
    }

    fn parse_line(&mut self, w: &[String], file: &str, line: usize) {
        let kw = w.first().map_or("", String::as_str);
        if matches!(
            kw,
            "global"
                | "defaults"
                | "frontend"
                | "backend"
                | "listen"
                | "http-errors"
                | "userlist"
                | "program"
        ) {
            // Userlist references and ACLs made from now on belong to no
            // proxy until a proxy line says so.
            self.cfg.rules.auth_no_proxy();
        }
        match kw {
            "userlist" => {
                super::userlist::line(&mut self.cfg.rules, &mut self.diags, w, file, line);
                self.section = Section::UserList;
                return;
            }
            "global" => {
                self.section = Section::Global;
                return;
            }
            "defaults" | "frontend" | "backend" | "listen" => {
                self.open_proxy(kw, w, file, line);
                return;
            }
            "program" => {
                let opened = super::program_kw::open(&mut self.cfg, &mut self.diags, w, file, line);
                self.section = opened.map_or(Section::Skipped, Section::Program);
                return;
            }
            "http-errors" => {
                let opened = super::http_errors_kw::open_http_errors(
                    &mut self.http,
                    &mut self.cfg,
                    &mut self.diags,
                    w,
                    file,
                    line,
                );
                self.section = opened.map_or(Section::Skipped, Section::HttpErrors);
                return;
            }
            _ => {}
        }
        if UNSUPPORTED_SECTIONS.contains(&kw) {
            self.diags.alert(
                file,
                line,
                format!(
                    "section '{kw}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs"
                ),
            );
            self.section = Section::Skipped;
            return;
        }
        match self.section {
            Section::None => self.diags.alert(
                file,
                line,
                format!("unknown keyword '{kw}' out of section."),
            ),
            Section::Skipped => {}
            Section::Global => self.global_kw(w, file, line),
            Section::Program(i) => {
                super::program_kw::line(&mut self.cfg, i, &mut self.diags, w, file, line)
            }
            Section::HttpErrors(i) => super::http_errors_kw::http_errors_kw(
                &mut self.cfg,
                i,
                &mut self.diags,
                w,
                file,
                line,
            ),
            Section::UserList => {
                super::userlist::line(&mut self.cfg.rules, &mut self.diags, w, file, line)
            }
            Section::Defaults(i) => {
                if let Some(slot) = self.defaults.get_mut(i) {
                    let mut px = std::mem::take(slot);
                    self.proxy_kw(&mut px, w, file, line);
                    if let Some(slot) = self.defaults.get_mut(i) {
                        *slot = px;
                    }
                }
            }
            Section::Proxy(i) => {
                if let Some(slot) = self.cfg.proxies.get_mut(i) {
                    let mut px = std::mem::take(slot);
                    self.cfg.rules.auth_line(&px.name, w, file, line);
                    self.proxy_kw(&mut px, w, file, line);
                    if let Some(slot) = self.cfg.proxies.get_mut(i) {
                        *slot = px;
                    }
                }
            }
        }
    }

    fn open_proxy(&mut self, kind: &str, w: &[String], file: &str, line: usize) {
        self.acls.clear();
        let static_kind: &'static str = match kind {
            "defaults" => "defaults",
            "frontend" => "frontend",
            "backend" => "backend",
            _ => "listen",
        };
        // "<kind> [name] [from <defaults>]"
        let mut name = String::new();
        let mut from: Option<&str> = None;
        let mut rest = w.iter().skip(1);
        while let Some(a) = rest.next() {
            if a == "from" {
                match rest.next() {
                    Some(n) => from = Some(n),
                    None => self.diags.alert(
                        file,
                        line,
                        format!("'{kind}' : 'from' expects a defaults section name."),
                    ),
                }
            } else if name.is_empty() {
                name = a.clone();
            } else {
                self.diags
                    .alert(file, line, format!("'{kind}' : unexpected argument '{a}'."));
            }
        }
        if kind != "defaults" && name.is_empty() {
            self.diags
                .alert(file, line, format!("'{kind}' : missing name for proxy."));
        }
        let base_idx = match from {
            Some(f) => self.defaults.iter().rposition(|d| d.name == f),
            None if kind == "defaults" => None,
            None => self.defaults.len().checked_sub(1),
        };
        let base = match from {
            Some(f) => match base_idx.and_then(|i| self.defaults.get(i)) {
                Some(d) => d.clone(),
                None => {
                    self.diags.alert(
                        file,
                        line,
                        format!("'{kind} {name}' : unable to find defaults section '{f}'."),
                    );
                    ProxyCfg::default()
                }
            },
            // A new defaults section starts from the built-in defaults; a
            // proxy takes the last defaults section before it.
            None if kind == "defaults" => ProxyCfg {
                retries: 3,
                ..Default::default()
            },
            None => self.defaults.last().cloned().unwrap_or_default(),
        };
        let mut px = base;
        px.name = name;
        px.kind = static_kind;
        px.file = file.to_string();
        px.line = line;
        px.binds.clear();
        px.servers.clear();
        px.id = None;
        px.description = None;
        px.cap = match kind {
            "frontend" => Cap {
                fe: true,
                be: false,
            },
            "backend" => Cap {
                fe: false,
                be: true,
            },
            "listen" => Cap { fe: true, be: true },
            _ => Cap::default(),
        };
        self.http.section_opened();
        if kind != "defaults" {
            let (d, defaults) = (&mut self.diags, &self.defaults);
            self.http
                .inherit(d, defaults, base_idx, &mut px, file, line);
        }
        if kind == "defaults" {
            self.defaults.push(px);
            self.section = Section::Defaults(self.defaults.len() - 1);
        } else {
            if self
                .cfg
                .proxies
                .iter()
                .any(|p| p.name == px.name && (p.cap.fe && px.cap.fe || p.cap.be && px.cap.be))
            {
                self.diags.alert(
                    file,
                    line,
                    format!(
                        "{kind} '{}' has the same name as another {kind} declared earlier.",
                        px.name
                    ),
                );
            }
            self.cfg.proxies.push(px);
            self.section = Section::Proxy(self.cfg.proxies.len() - 1);
        }
    }

    fn unknown(
        &mut self,
        section: &str,
        w: &[String],
        file: &str,
        line: usize,
        candidates: &[&str],
    ) {
        let kw = w.first().map_or("", String::as_str);
        if let Some(k) = known_keyword(section, w) {
            self.diags.alert(
                file,
                line,
                format!("'{k}' is a valid HAProxy 2.6 keyword in '{section}' section but is not supported yet by haproxy-rs"),
            );
            return;
        }
        let mut msg = format!("unknown keyword '{kw}' in '{section}' section");
        if let Some(s) = did_you_mean(kw, candidates) {
            msg.push_str(&format!("; did you mean '{s}' maybe ?"));
        }
        self.diags.alert(file, line, msg);
    }

    fn global_kw(&mut self, w: &[String], file: &str, line: usize) {
        let kw = w.first().map_or("", String::as_str);
        let arg = w.get(1).map(|s| s.as_str());
        let g = &mut self.cfg.global;
        if http_kw::global_kw(g, &mut self.diags, w, file, line) {
            return;
        }
        let need = |d: &mut Diags, what: &str| {
            d.alert(file, line, format!("'{kw}' expects {what} as an argument."))
        };
        match kw {
            "daemon" => g.daemon = true,
            "quiet" => g.quiet = true,
            "zero-warning" => g.zero_warning = true,
            "expose-experimental-directives" => g.experimental = true,
            "nosplice" => g.nosplice = true,
            "noreuseport" => g.noreuseport = true,
            "pp2-never-send-local" => g.pp2_never_send_local = true,
            "master-worker" => match arg {
                None => g.master_worker = true,
                Some("no-exit-on-failure") => {
                    g.master_worker = true;
                    g.mworker_no_exit_on_failure = true;
                }
                Some(_) => self.diags.alert(
                    file,
                    line,
                    "'master-worker' only supports 'no-exit-on-failure' option",
                ),
            },
            // configuration.txt 3.1: `strict-limits` is on by default;
            // `no strict-limits` turns it off. Only strict-limits takes the
            // `no` prefix here among the keywords haproxy-rs implements.
            "strict-limits" => match w.get(1) {
                None => g.strict_limits = true,
                Some(a) => self.diags.alert(
                    file,
                    line,
                    format!("'{kw}' cannot handle unexpected argument '{a}'."),
                ),
            },
            "no" if w.get(1).is_some_and(|k| k == "strict-limits") => match w.get(2) {
                None => g.strict_limits = false,
                Some(a) => self.diags.alert(
                    file,
                    line,
                    format!("'strict-limits' cannot handle unexpected argument '{a}'."),
                ),
            },
            "no" if w.get(1).is_some_and(|k| {
                !matches!(
                    k.as_str(),
                    "log" | "busy-polling" | "set-dumpable" | "insecure-fork-wanted" | "numa-cpu-mapping"
                )
            }) =>
            {
                self.diags.alert(file, line, "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.")
            }
            // Read with atol() as 2.6 does: `12k` is 12, `abc` is 0 (none).
            "fd-hard-limit" => match arg {
                None => self
                    .diags
                    .alert(file, line, format!("'{kw}' expects an integer argument.")),
                Some(a) => {
                    g.fd_hard_limit = super::http_rules::atol(a).clamp(0, i32::MAX as i64) as u64
                }
            },
            "mworker-max-reloads" => match arg.map(|a| parse_uint(a, 0, u32::MAX as u64)) {
                Some(Ok(v)) => g.mworker_max_reloads = Some(v as u32),
                _ => need(&mut self.diags, "an integer"),
            },
            "maxconn" | "maxpipes" | "nbthread" | "tune.maxaccept" | "ulimit-n" | "nbproc" => {
                let Some(a) = arg else {
                    return need(&mut self.diags, "an integer");
                };
                match parse_uint(a, 0, i32::MAX as u64) {
                    Ok(v) => match kw {
                        "maxconn" => g.maxconn = v as u32,
                        "maxpipes" => g.maxpipes = v as u32,
                        "tune.maxaccept" => g.tune_maxaccept = v as i32,
                        "nbthread" => {
                            g.nbthread = v as u32;
                            if v != 1 {
                                self.diags.warn(file, line, format!("'nbthread {v}' : haproxy-rs runs one thread per process; using 1."));
                            }
                        }
                        "ulimit-n" => g.ulimit_n = v,
                        "nbproc" => self.diags.alert(file, line, "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available."),
                        _ => {}
                    },
                    Err(e) => self.diags.alert(file, line, format!("'{kw}' {e}")),
                }
            }
            "tune.bufsize" => {
                let Some(a) = arg else {
                    return need(&mut self.diags, "an integer");
                };
                match parse_size(a) {
                    Ok(v) if (1024..=(1 << 30)).contains(&v) => g.tune_bufsize = v as usize,
                    Ok(_) => self.diags.alert(file, line, format!("'{kw}' expects a positive integer argument between 1024 and 1073741824.")),
                    Err(e) => self.diags.alert(file, line, format!("'{kw}' {e}")),
                }
            }
            "tune.maxrewrite" => {
                // configuration.txt 3.2: read through atol(); only a missing,
                // negative or extra argument is refused.
                if let Some(extra) = w.get(2) {
                    return self.diags.alert(
                        file,
                        line,
                        format!("'{kw}' cannot handle unexpected argument '{extra}'."),
                    );
                }
                let Some(a) = arg.filter(|a| !a.is_empty()) else {
                    return self.diags.alert(
                        file,
                        line,
                        format!("'{kw}' expects an integer argument."),
                    );
                };
                match usize::try_from(parse_size_atol(a)) {
                    Ok(v) => g.tune_maxrewrite = Some(v),
                    Err(_) => self.diags.alert(
                        file,
                        line,
                        format!("'{kw}' expects a positive integer argument."),
                    ),
                }
            }
            "tune.pipesize" | "tune.rcvbuf.client" | "tune.rcvbuf.server"
            | "tune.sndbuf.client" | "tune.sndbuf.server" => {
                // HAProxy 2.6 refuses only a missing or extra argument, and
                // takes any other one through atol() into an int.
                if let Some(extra) = w.get(2) {
                    return self.diags.alert(
                        file,
                        line,
                        format!("'{kw}' cannot handle unexpected argument '{extra}'."),
                    );
                }
                let Some(a) = arg.filter(|a| !a.is_empty()) else {
                    return self.diags.alert(
                        file,
                        line,
                        format!("'{kw}' expects an integer argument."),
                    );
                };
                let v = tune_int_size(kw, parse_size_atol(a));
                match kw {
                    "tune.pipesize" => g.tune_pipesize = v,
                    "tune.rcvbuf.client" => g.tune_rcvbuf_client = v,
                    "tune.rcvbuf.server" => g.tune_rcvbuf_server = v,
                    "tune.sndbuf.client" => g.tune_sndbuf_client = v,
                    _ => g.tune_sndbuf_server = v,
                }
            }
            "hard-stop-after" | "grace" => {
                let Some(a) = arg else {
                    return need(&mut self.diags, "<time>");
                };
                match parse_time_ms(a, 1) {
                    Ok(v) => {
                        if kw == "grace" {
                            g.grace = v
                        } else {
                            g.hard_stop_after = v
                        }
                    }
                    Err(e) => self.diags.alert(file, line, format!("{e} in '{kw}'")),
                }
            }
            "pidfile" => match arg {
                Some(a) => g.pidfile = Some(a.to_string()),
                None => need(&mut self.diags, "a file name"),
            },
            "chroot" => match arg {
                Some(a) => g.chroot = Some(a.to_string()),
                None => need(&mut self.diags, "a directory"),
            },
            "node" | "description" | "log-tag" => {
                let v = w.get(1..).unwrap_or_default().join(" ");
                match kw {
                    "node" => g.node = Some(v),
                    "log-tag" => g.log_tag = Some(v),
                    _ => {}
                }
            }
            "log-send-hostname" => {
                g.log_send_hostname = Some(arg.map(|s| s.to_string()).unwrap_or_else(hostname))
            }
            "user" | "uid" | "group" | "gid" => {
                let Some(a) = arg else {
                    return need(&mut self.diags, "a name or id");
                };
                let r = match kw {
                    "user" => lookup_user(a)
                        .ok_or_else(|| format!("cannot find user id for '{a}' (0:Success)")),
                    "group" => lookup_group(a)
                        .ok_or_else(|| format!("cannot find group id for '{a}' (0:Success)")),
                    _ => a
                        .parse::<u32>()
                        .map_err(|_| format!("'{kw}' expects an integer argument.")),
                };
                match r {
                    Ok(id) if kw == "user" || kw == "uid" => g.uid = Some(id),
                    Ok(id) => g.gid = Some(id),
                    Err(e) => self.diags.alert(file, line, e),
                }
            }
            "stats" => self.parse_stats_global(w, file, line),
            "log" => match self.parse_log(w, file, line) {
                Some(LogParse::Global) => {
                    self.diags
                        .alert(file, line, "'log global' is only valid in proxies.")
                }
                Some(LogParse::Target(l)) => self.cfg.global.logs.push(l),
                None => {}
            },
            _ => match super::ssl_kw::global_kw(&mut self.cfg.global.ssl, w) {
                Some(Ok(())) => {}
                Some(Err(e)) => self.diags.alert(file, line, e),
                None => self.unknown("global", w, file, line, GLOBAL_KEYWORDS),
            },
        }
    }

    fn parse_stats_global(&mut self, w: &[String], file: &str, line: usize) {
        match w.get(1).map(|s| s.as_str()) {
            Some("socket") => {
                let Some(a) = w.get(2) else {
                    self.diags
                        .alert(file, line, "'stats socket' requires a path or an address.");
                    return;
                };
                let addr = match parse_bind_addr(a) {
                    Ok(x) => x,
                    Err(e) => {
                        self.diags
                            .alert(file, line, format!("'stats socket {a}' : {e}"));
                        return;
                    }
                };
                let mut sock = StatsSocketCfg {
                    addr,
                    expose_fd: false,
                    mode: None,
                    level: CliLevel::Operator,
                    line,
                    file: file.to_string(),
                };
                let mut it = w.iter().skip(3);
                while let Some(o) = it.next() {
                    match o.as_str() {
                        "level" => match it.next().map(|s| s.as_str()) {
                            Some("user") => sock.level = CliLevel::User,
                            Some("operator") => sock.level = CliLevel::Operator,
                            Some("admin") => sock.level = CliLevel::Admin,
                            _ => {
                                self.diags.alert(
                                    file,
                                    line,
                                    "'level' only supports 'user', 'operator', and 'admin'.",
                                );
                                return;
                            }
                        },
                        "mode" => match it.next().and_then(|m| u32::from_str_radix(m, 8).ok()) {
                            Some(m) => sock.mode = Some(m),
                            None => {
                                self.diags.alert(
                                    file,
                                    line,
                                    "'mode' : missing or invalid mode (octal integer expected)",
                                );
                                return;
                            }
                        },
                        "user" | "group" | "uid" | "gid" | "name" | "process" | "thread"
                        | "severity-output" => {
                            it.next();
                        }
                        "expose-fd" => match it.next().map(|s| s.as_str()) {
                            Some("listeners") => sock.expose_fd = true,
                            _ => {
                                self.diags.alert(
                                    file,
                                    line,
                                    "'expose-fd' only supports 'listeners'.",
                                );
                                return;
                            }
                        },
                        other => {
                            self.diags.alert(
                                file,
                                line,
                                format!("'stats socket {a}' : unknown keyword '{other}'."),
                            );
                            return;
                        }
                    }
                }
                self.cfg.global.stats_sockets.push(sock);
            }
            Some("timeout") => match w.get(2).map(|v| parse_time_ms(v, 1)) {
                Some(Ok(ms)) => self.cfg.global.stats_timeout = ms.max(1),
                _ => self.diags.alert(
                    file,
                    line,
                    "'stats timeout' expects a positive delay in milliseconds.",
                ),
            },
            // atol() as in 2.6: `12k` is 12.
            Some("maxconn") => match w.get(2).map(|v| super::http_rules::atol(v)) {
                Some(v) if v > 0 => self.cfg.global.stats_maxconn = v.min(i32::MAX as i64) as u32,
                _ => self
                    .diags
                    .alert(file, line, "'stats maxconn' expects a positive value"),
            },
            Some("bind-process") => {}
            _ => self.diags.alert(
                file,
                line,
                "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '')."
                    .replace(
                        "''",
                        &format!("'{}'", w.get(1).map(|s| s.as_str()).unwrap_or("")),
                    ),
            ),
        }
    }

    fn parse_log(&mut self, w: &[String], file: &str, line: usize) -> Option<LogParse> {
        let mut it = w.iter().skip(1).map(|s| s.as_str()).peekable();
        let Some(target) = it.next() else {
            self.diags.alert(
                file,
                line,
                "'log' expects either <address[:port]> and <facility> or 'global' as arguments.",
            );
            return None;
        };
        if target == "global" {
            return Some(LogParse::Global);
        }
        let target = match target {
            "stdout" | "fd@1" => LogTarget::Stdout,
            "stderr" | "fd@2" => LogTarget::Stderr,
            t if t.starts_with('/') => LogTarget::Unix(PathBuf::from(t)),
            t if t.starts_with("unix@") => LogTarget::Unix(PathBuf::from(&t[5..])),
            t => {
                let t = t
                    .strip_prefix("udp@")
                    .or_else(|| t.strip_prefix("udp4@"))
                    .or_else(|| t.strip_prefix("udp6@"))
                    .unwrap_or(t);
                match parse_server_addr(t, true) {
                    Ok((ip, port)) => {
                        LogTarget::Udp(std::net::SocketAddr::new(ip, port.unwrap_or(514)))
                    }
                    Err(e) => {
                        self.diags.alert(file, line, format!("'log' : {e}"));
                        return None;
                    }
                }
            }
        };
        let mut format = LogFormat::Rfc3164;
        let mut maxlen = 1024;
        loop {
            match it.peek().copied() {
                Some("len") => {
                    it.next();
                    maxlen = it.next().and_then(|v| v.parse().ok()).unwrap_or(1024);
                }
                Some("format") => {
                    it.next();
                    format = match it.next() {
                        Some("raw") => LogFormat::Raw,
                        Some("short") => LogFormat::Short,
                        Some("rfc3164") | Some("local") => LogFormat::Rfc3164,
                        Some(f @ ("rfc5424" | "priority" | "iso" | "timed")) => {
                            self.diags.alert(
                                file,
                                line,
                                format!("'log' : format '{f}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs"),
                            );
                            return None;
                        }
                        Some(f) => {
                            self.diags.alert(
                                file,
                                line,
                                format!("'log' : unknown log format '{f}'"),
                            );
                            return None;
                        }
                        None => LogFormat::Rfc3164,
                    };
                }
                Some("sample") => {
                    self.diags.alert(
                        file,
                        line,
                        "'log' : 'sample' is valid in HAProxy 2.6 but not supported yet by haproxy-rs",
                    );
                    return None;
                }
                _ => break,
            }
        }
        let Some(fac) = it.next() else {
            self.diags.alert(file, line, "missing log facility");
            return None;
        };
        let Some(facility) = facility(fac) else {
            self.diags
                .alert(file, line, format!("unknown log facility '{fac}'"));
            return None;
        };
        let lvl = match it.next() {
            Some(l) => match level(l) {
                Some(v) => v,
                None => {
                    self.diags
                        .alert(file, line, format!("unknown optional log level '{l}'"));
                    return None;
                }
            },
            None => 7,
        };
        Some(LogParse::Target(LogCfg {
            target,
            format,
            facility,
            level: lvl,
            maxlen,
        }))
    }

    fn proxy_kw(&mut self, px: &mut ProxyCfg, w: &[String], file: &str, line: usize) {
        let kw = w.first().map_or("", String::as_str);
        let arg = w.get(1).map(|s| s.as_str());
        let section = if px.kind.is_empty() {
            "defaults"
        } else {
            px.kind
        };
        let is_def = section == "defaults";
        let mut rx = RuleCx {
            store: &mut self.cfg.rules,
            acls: &mut self.acls,
            experimental: self.cfg.global.experimental,
        };
        if super::rules_kw::proxy_kw(&mut rx, &mut self.diags, px, w, file, line) {
            return;
        }
        if http_kw::proxy_kw(&mut self.http, &mut self.diags, px, w, file, line, &mut rx) {
            return;
        }
        match kw {
            "mode" => match arg {
                Some("tcp") => px.mode = Mode::Tcp,
                Some("http") => px.mode = Mode::Http,
                Some("health") => self.diags.alert(file, line, "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead."),
                _ => self.diags.alert(file, line, format!("unknown proxy mode '{}'.", arg.unwrap_or(""))),
            },
            "bind" => {
                if !px.cap.fe {
                    self.diags.alert(file, line, format!("'{kw}' not allowed in '{section}' section."));
                    return;
                }
                self.parse_bind(px, w, file, line);
            }
            "server" | "default-server" => {
                if !(px.cap.be || is_def && kw == "default-server") {
                    self.diags.alert(file, line, format!("'{kw}' not allowed in '{section}' section."));
                    return;
                }
                self.parse_server(px, w, file, line);
            }
            "balance" => {
                if px.cap.fe && !px.cap.be {
                    self.diags.warn(file, line, format!("'{kw}' ignored because {section} '{}' has no backend capability.", px.name));
                    return;
                }
                px.balance = match arg {
                    Some("roundrobin") => Balance::RoundRobin,
                    Some("static-rr") => Balance::StaticRr,
                    Some("leastconn") => Balance::LeastConn,
                    Some("first") => Balance::First,
                    Some("source") => Balance::Source,
                    Some(a @ ("uri" | "url_param" | "hdr" | "random" | "rdp-cookie" | "hash")) => {
                        self.diags.alert(file, line, format!("'balance {a}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs"));
                        return;
                    }
                    _ => {
                        self.diags.alert(file, line, "'balance' only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hash', 'random', 'hdr(name)' and 'rdp-cookie(name)' options.");
                        return;
                    }
                };
            }
            "hash-type" => match arg {
                Some("map-based") => px.hash_type_consistent = false,
                Some(_) => self.diags.alert(
                    file,
                    line,
                    format!("'hash-type {}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs (only 'map-based')", w.get(1..).unwrap_or_default().join(" ")),
                ),
                None => self.diags.alert(file, line, "'hash-type' expects 'map-based' or 'consistent'."),
            },
            "timeout" => {
                let Some(which) = arg else {
                    self.diags.alert(file, line, "'timeout' expects 'client', 'http-keep-alive', 'http-request', 'server', 'connect', 'check', 'queue', 'tarpit', 'tunnel', 'client-fin' or 'server-fin' as argument.");
                    return;
                };
                if !TIMEOUTS.contains(&which) {
                    self.unknown(section, w, file, line, PROXY_KEYWORDS);
                    return;
                }
                let Some(v) = w.get(2) else {
                    self.diags.alert(file, line, format!("'timeout {which}' expects an integer value (in milliseconds)"));
                    return;
                };
                let ms = match parse_time_ms(v, 1) {
                    Ok(ms) => ms,
                    Err(e) => {
                        self.diags.alert(file, line, format!("{e} in 'timeout {which}'"));
                        return;
                    }
                };
                let t = &mut px.timeouts;
                match which {
                    "client" => t.client = ms,
                    "server" => t.server = ms,
                    "connect" => t.connect = ms,
                    "queue" => t.queue = ms,
                    "tunnel" => t.tunnel = ms,
                    "client-fin" => t.client_fin = ms,
                    "server-fin" => t.server_fin = ms,
                    "http-request" => t.http_request = ms,
                    "http-keep-alive" => t.http_keep_alive = ms,
                    "tarpit" => t.tarpit = ms,
                    _ => t.check = ms,
                }
            }
            "retries" => match arg.map(|a| parse_uint(a, 0, i32::MAX as u64)) {
                Some(Ok(v)) => px.retries = v as u32,
                _ => self.diags.alert(file, line, format!("'{kw}' expects an integer argument.")),
            },
            "maxconn" | "fullconn" | "id" => match arg.map(|a| parse_uint(a, 0, i32::MAX as u64)) {
                Some(Ok(v)) => match kw {
                    "maxconn" => px.maxconn = v as u32,
                    "fullconn" => px.fullconn = v as u32,
                    _ => px.id = Some(v as u32),
                },
                _ => self.diags.alert(file, line, format!("'{kw}' expects an integer argument.")),
            },
            "backlog" => match arg.map(|a| parse_uint(a, 0, i32::MAX as u64)) {
                Some(Ok(v)) => px.backlog = Some(v as i32),
                _ => self.diags.alert(file, line, format!("'{kw}' expects an integer argument.")),
            },
            "default_backend" | "use_backend" => {
                if !px.cap.fe && !is_def {
                    self.diags.alert(file, line, format!("'{kw}' not allowed in '{section}' section."));
                    return;
                }
                let Some(b) = arg else {
                    self.diags.alert(file, line, format!("'{kw}' expects a backend name."));
                    return;
                };
                if kw == "default_backend" {
                    px.default_backend = Some((b.to_string(), line));
                    return;
                }
                let cond = match w.get(2..).unwrap_or(&[]) {
                    [] => None,
                    rest @ [c, ..] if c == "if" || c == "unless" => {
                        match rx.cond(rest, "a 'use_backend' rule", file, line) {
                            Ok(c) => Some(c),
                            Err(m) => {
                                self.diags.alert(file, line, m);
                                return;
                            }
                        }
                    }
                    [other, ..] => {
                        self.diags.alert(file, line, format!("'use_backend' expects either 'if' or 'unless' followed by a condition but found '{other}'."));
                        return;
                    }
                };
                // A name with `%[...]` or `%var` is a log-format evaluated per
                // request; the backend is then looked up by name.
                let dynamic = if b.contains('%') {
                    match rx.lf(b, px.mode == Mode::Http, file, line) {
                        Ok(lf) => Some(lf),
                        Err(m) => {
                            self.diags.alert(file, line, format!("failed to parse use_backend rule '{b}' : {m}."));
                            return;
                        }
                    }
                } else {
                    None
                };
                px.use_backends.push(UseBackend {
                    name: b.to_string(),
                    line,
                    cond,
                    dynamic,
                });
            }
            "log" => match self.parse_log(w, file, line) {
                Some(LogParse::Global) => px.log_global = true,
                Some(LogParse::Target(l)) => px.logs.push(l),
                None => {}
            },
            "no" if w.get(1).map(|s| s.as_str()) == Some("log") => {
                px.logs.clear();
                px.log_global = false;
            }
            "option" | "no" => {
                let (neg, rest) = if kw == "no" { (true, w.get(1..).unwrap_or_default()) } else { (false, w) };
                if rest.first().map(|s| s.as_str()) != Some("option") {
                    self.unknown(section, w, file, line, PROXY_KEYWORDS);
                    return;
                }
                let Some(o) = rest.get(1) else {
                    self.diags.alert(file, line, "'option' expects an option name.");
                    return;
                };
                let v = !neg;
                let op = &mut px.opts;
                match o.as_str() {
                    "splice-auto" => op.splice_auto = v,
                    "splice-request" => op.splice_request = v,
                    "splice-response" => op.splice_response = v,
                    "redispatch" => op.redispatch = v,
                    "tcplog" => op.tcplog = v,
                    "dontlognull" => op.dontlognull = v,
                    "log-separate-errors" => op.log_separate_errors = v,
                    "logasap" => {
                        self.diags.alert(file, line, "'option logasap' is a valid HAProxy 2.6 keyword but is not supported yet by haproxy-rs");
                    }
                    "tcpka" => op.tcpka = v,
                    "clitcpka" => op.clitcpka = v,
                    "srvtcpka" => op.srvtcpka = v,
                    "nolinger" => op.nolinger = v,
                    other => {
                        let words = vec!["option".to_string(), other.to_string()];
                        if let Some(k) = known_keyword(section, &words) {
                            self.diags.alert(file, line, format!("'{k}' is a valid HAProxy 2.6 keyword in '{section}' section but is not supported yet by haproxy-rs"));
                        } else {
                            let mut msg = format!("unknown option '{other}'.");
                            if let Some(s) = did_you_mean(other, OPTIONS) {
                                msg = format!("unknown option '{other}'; did you mean '{s}' maybe ?");
                            }
                            self.diags.alert(file, line, msg);
                        }
                    }
                }
            }
            "disabled" => px.disabled = true,
            "enabled" => px.disabled = false,
            "description" => px.description = Some(w.get(1..).unwrap_or_default().join(" ")),
            _ => self.unknown(section, w, file, line, PROXY_KEYWORDS),
        }
    }

    fn parse_bind(&mut self, px: &mut ProxyCfg, w: &[String], file: &str, line: usize) {
        let Some(text) = w.get(1) else {
            self.diags.alert(
                file,
                line,
                format!("'bind' : missing address in {} '{}'.", px.kind, px.name),
            );
            return;
        };
        let mut addrs = Vec::new();
        for part in text.split(',') {
            match parse_bind_addr_env(part, self.env) {
                Ok(a) => addrs.push(a),
                Err(e) => {
                    self.diags.alert(file, line, format!("'bind' : {e}"));
                    return;
                }
            }
        }
        let mut b = BindCfg {
            addrs,
            name: None,
            maxconn: 0,
            backlog: None,
            accept_proxy: false,
            v6only: false,
            interface: None,
            defer_accept: false,
            tfo: false,
            id: None,
            ssl: Default::default(),
            tls_id: None,
            file: file.to_string(),
            line,
            text: text.clone(),
        };
        let mut it = w.iter().skip(2);
        while let Some(o) = it.next() {
            if let Some(r) = super::ssl_kw::bind_kw(&mut b.ssl, o, &mut || it.next().cloned()) {
                if let Err(e) = r {
                    self.diags.alert(
                        file,
                        line,
                        format!("'bind {text}' in section '{}' : {e}", px.kind),
                    );
                    return;
                }
                continue;
            }
            let mut val = |d: &mut Diags| -> Option<String> {
                let v = it.next().cloned();
                if v.is_none() {
                    d.alert(
                        file,
                        line,
                        format!("'bind {text}' : '{o}' : missing value."),
                    );
                }
                v
            };
            match o.as_str() {
                "name" => b.name = val(&mut self.diags),
                "maxconn" | "backlog" => {
                    if let Some(v) = val(&mut self.diags) {
                        match parse_uint(&v, 0, i32::MAX as u64) {
                            Ok(n) if o == "maxconn" => b.maxconn = n as u32,
                            Ok(n) => b.backlog = Some(n as i32),
                            Err(_) => self.diags.alert(
                                file,
                                line,
                                format!("'bind {text}' : '{o}' : invalid value '{v}'."),
                            ),
                        }
                    }
                }
                "accept-proxy" => b.accept_proxy = true,
                "v6only" => b.v6only = true,
                "v4v6" => b.v6only = false,
                // Identifiers and thread pinning: meaningful with one thread too.
                "id" => match val(&mut self.diags).map(|v| parse_uint(&v, 1, i32::MAX as u64)) {
                    Some(Ok(n)) => b.id = Some(n as u32),
                    Some(Err(_)) => {
                        self.diags.alert(
                            file,
                            line,
                            format!("'bind {text}' : 'id' expects a positive integer."),
                        );
                        return;
                    }
                    None => return,
                },
                "process" | "thread" => {
                    let _ = val(&mut self.diags);
                }
                "interface" => b.interface = val(&mut self.diags),
                "defer-accept" => b.defer_accept = true,
                "tfo" => b.tfo = true,
                "mode" | "user" | "group" | "uid" | "gid" | "nice" | "transparent" => {
                    self.diags.alert(
                        file,
                        line,
                        format!("'bind {text}' : '{o}' is a valid HAProxy 2.6 bind keyword but is not supported yet by haproxy-rs"),
                    );
                    return;
                }
                other => {
                    const KNOWN_BIND: &[&str] = &[
                        "ssl",
                        "crt",
                        "alpn",
                        "ca-file",
                        "ciphers",
                        "ciphersuites",
                        "crt-list",
                        "curves",
                        "ecdhe",
                        "verify",
                        "npn",
                        "strict-sni",
                        "prefer-client-ciphers",
                        "no-sslv3",
                        "no-tlsv10",
                        "no-tlsv11",
                        "no-tlsv12",
                        "no-tlsv13",
                        "ssl-min-ver",
                        "ssl-max-ver",
                        "allow-0rtt",
                        "crl-file",
                        "generate-certificates",
                        "quic-cc-algo",
                        "proto",
                        "expose-fd",
                        "level",
                        "severity-output",
                        "mss",
                        "namespace",
                        "tcp-ut",
                        "label",
                        "shards",
                        "no-ca-names",
                        "ca-sign-file",
                        "ca-sign-pass",
                        "ca-verify-file",
                        "no-tls-tickets",
                        "sigalgs",
                        "client-sigalgs",
                        "force-sslv3",
                        "force-tlsv10",
                        "force-tlsv11",
                        "force-tlsv12",
                        "force-tlsv13",
                        "ca-ignore-err",
                        "accept-netscaler-cip",
                        "crt-ignore-err",
                        "quic-force-retry",
                    ];
                    if KNOWN_BIND.contains(&other) {
                        self.diags.alert(file, line, format!("'bind {text}' : '{other}' is a valid HAProxy 2.6 bind keyword but is not supported yet by haproxy-rs"));
                    } else {
                        let mut msg = format!(
                            "'bind {text}' in section '{}': unknown keyword '{other}'",
                            px.kind
                        );
                        let cands = [
                            "name",
                            "maxconn",
                            "backlog",
                            "accept-proxy",
                            "v6only",
                            "v4v6",
                            "id",
                            "process",
                            "tfo",
                            "transparent",
                            "defer-accept",
                        ];
                        if let Some(s) = did_you_mean(other, &cands) {
                            msg.push_str(&format!("; did you mean '{s}' maybe ?"));
                        }
                        self.diags.alert(file, line, msg);
                    }
                    return;
                }
            }
        }
        px.binds.push(b);
    }

    fn parse_server(&mut self, px: &mut ProxyCfg, w: &[String], file: &str, line: usize) {
        let is_default = w.first().is_some_and(|k| k == "default-server");
        let mut d = px.default_server.clone();
        let (name, mut idx) = if is_default {
            (String::new(), 1)
        } else {
            (w.get(1).cloned().unwrap_or_default(), 3)
        };
        let ctx = format!("'server {}/{}'", px.name, name);
        let mut addr = None;
        let mut force_maint = false;
        if !is_default {
            let Some(a) = w.get(2) else {
                self.diags.alert(
                    file,
                    line,
                    "'server' expects <name> and <addr>[:<port>] as arguments.".to_string(),
                );
                return;
            };
            match parse_server_addr_env(a, self.resolve, self.env) {
                Ok((ip, port)) => addr = Some((ip, port)),
                Err(e) => {
                    if self.ignore_resolve_errors {
                        // As HAProxy with -dr: the server starts in maintenance.
                        force_maint = true;
                        addr = Some((std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), None));
                        self.diags.warn(file, line, format!("{ctx} : {e}"));
                    } else {
                        self.diags.alert(file, line, format!("{ctx} : {e}"));
                        return;
                    }
                }
            }
        }
        let mut id = None;
        while let Some(o) = w.get(idx) {
            idx += 1;
            let mut next = || {
                let v = w.get(idx).cloned();
                if v.is_some() {
                    idx += 1;
                }
                v
            };
            if let Some(r) = super::ssl_kw::server_kw(&mut d.ssl, o, &mut next) {
                if let Err(e) = r {
                    self.diags.alert(file, line, format!("{ctx} : {e}"));
                    return;
                }
                continue;
            }
            let val = w.get(idx).cloned();
            let mut take_num = |this: &mut Self, lo: u64, hi: u64| -> Option<u64> {
                idx += 1;
                match val.as_deref().map(|v| parse_uint(v, lo, hi)) {
                    Some(Ok(n)) => Some(n),
                    _ => {
                        this.diags.alert(
                            file,
                            line,
                            format!(
                                "{ctx} : '{o}' expects an integer argument between {lo} and {hi}."
                            ),
                        );
                        None
                    }
                }
            };
            match o.as_str() {
                "weight" => {
                    let Some(v) = val.as_deref() else { return };
                    idx += 1;
                    match v.parse::<u64>() {
                        Ok(n) if n <= 256 => d.weight = n as u32,
                        _ => {
                            self.diags.alert_bare(
                                file,
                                line,
                                format!(
                                    "{ctx} : weight of server {name} is not within 0 and 256 ({v})."
                                ),
                            );
                            return;
                        }
                    }
                }
                "maxconn" => d.maxconn = take_num(self, 0, i32::MAX as u64).unwrap_or(0) as u32,
                "maxqueue" => d.maxqueue = take_num(self, 0, i32::MAX as u64).unwrap_or(0) as u32,
                "rise" => d.rise = take_num(self, 1, 1 << 20).unwrap_or(2) as u32,
                "fall" => d.fall = take_num(self, 1, 1 << 20).unwrap_or(3) as u32,
                "id" => id = take_num(self, 1, i32::MAX as u64).map(|v| v as u32),
                "port" => d.check_port = take_num(self, 1, 65535).map(|v| v as u16),
                "inter" | "fastinter" | "downinter" => {
                    idx += 1;
                    match val.as_deref().map(|v| parse_time_ms(v, 1)) {
                        Some(Ok(ms)) => match o.as_str() {
                            "inter" => d.inter = ms.max(1),
                            "fastinter" => d.fastinter = ms.max(1),
                            _ => d.downinter = ms.max(1),
                        },
                        _ => self.diags.alert(
                            file,
                            line,
                            format!("{ctx} : '{o}' expects a time value."),
                        ),
                    }
                }
                "check" => d.check = true,
                "no-check" => d.check = false,
                "backup" => d.backup = true,
                "no-backup" => d.backup = false,
                "disabled" => d.disabled = true,
                "enabled" => d.disabled = false,
                // configuration.txt 5.2: the PROXY protocol keywords set
                // and clear HAProxy's `pp_opts` bits one by one.
                "send-proxy" => d.pp_opts |= PpOpts::V1,
                "send-proxy-v2" => d.pp_opts |= PpOpts::V2,
                "send-proxy-v2-ssl" => d.pp_opts |= PpOpts::V2 | PpOpts::V2_SSL,
                "send-proxy-v2-ssl-cn" => {
                    d.pp_opts |= PpOpts::V2 | PpOpts::V2_SSL | PpOpts::V2_SSL_CN
                }
                "no-send-proxy" => d.pp_opts.remove(PpOpts::V1),
                "no-send-proxy-v2" => d.pp_opts.remove(PpOpts::V2),
                "no-send-proxy-v2-ssl" => d.pp_opts.remove(PpOpts::V2 | PpOpts::V2_SSL),
                "no-send-proxy-v2-ssl-cn" => d
                    .pp_opts
                    .remove(PpOpts::V2 | PpOpts::V2_SSL | PpOpts::V2_SSL_CN),
                "check-send-proxy" => d.check_send_proxy = true,
                "proxy-v2-options" => {
                    idx += 1;
                    match PpOpts::parse_v2_options(val.as_deref().unwrap_or("")) {
                        Ok(o) => d.pp_opts |= o,
                        Err(e) => {
                            self.diags.alert(file, line, format!("{ctx} : {e}."));
                            return;
                        }
                    }
                }
                "pool-max-conn" | "pool-purge-delay" => {
                    idx += 1;
                    let ctx = (!is_default).then_some(ctx.as_str());
                    if !http_kw::server_kw(
                        &mut self.diags,
                        &mut d,
                        ctx,
                        o,
                        val.as_deref(),
                        file,
                        line,
                    ) {
                        return;
                    }
                }
                "init-addr" | "resolvers" | "resolve-prefer" | "cookie" | "observe"
                | "on-error" | "error-limit" => {
                    idx += 1;
                    if matches!(
                        o.as_str(),
                        "resolvers" | "cookie" | "observe" | "on-error" | "error-limit"
                    ) {
                        self.diags.alert(file, line, format!("{ctx} : '{o}' is a valid HAProxy 2.6 server keyword but is not supported yet by haproxy-rs"));
                    }
                }
                other => {
                    const KNOWN_SRV: &[&str] = &[
                        "ssl",
                        "verify",
                        "ca-file",
                        "crt",
                        "sni",
                        "alpn",
                        "check-ssl",
                        "check-sni",
                        "agent-check",
                        "agent-port",
                        "agent-inter",
                        "track",
                        "slowstart",
                        "source",
                        "redir",
                        "minconn",
                        "maxconn",
                        "proto",
                        "namespace",
                        "tfo",
                        "usesrc",
                        "addr",
                        "ciphers",
                        "ciphersuites",
                        "no-ssl-reuse",
                        "no-tls-tickets",
                        "ws",
                        "socks4",
                        "set-proxy-v2-tlv-fmt",
                        "shard",
                        "non-stick",
                        "max-reuse",
                        "tcp-ut",
                        "log-proto",
                        "npn",
                        "crl-file",
                        "curves",
                        "sigalgs",
                        "check-alpn",
                        "check-proto",
                        "check-via-socks4",
                    ];
                    if KNOWN_SRV.contains(&other) {
                        self.diags.alert(file, line, format!("{ctx} : '{other}' is a valid HAProxy 2.6 server keyword but is not supported yet by haproxy-rs"));
                    } else {
                        let cands = [
                            "weight",
                            "maxconn",
                            "maxqueue",
                            "rise",
                            "fall",
                            "inter",
                            "check",
                            "backup",
                            "disabled",
                            "enabled",
                            "id",
                            "port",
                            "send-proxy",
                            "send-proxy-v2",
                            "init-addr",
                            "no-check",
                            "no-backup",
                        ];
                        let mut msg = format!("{ctx} : unknown keyword '{other}'");
                        if let Some(s) = did_you_mean(other, &cands) {
                            msg.push_str(&format!("; did you mean '{s}' maybe ?"));
                        }
                        self.diags.alert_bare(file, line, msg);
                    }
                    return;
                }
            }
        }
        if is_default {
            px.default_server = d;
            return;
        }
        let Some((ip, port)) = addr else { return };
        if px.servers.iter().any(|s| s.name == name) {
            self.diags.alert(
                file,
                line,
                format!(
                    "'server' : a server with the name '{name}' already exists in backend '{}'.",
                    px.name
                ),
            );
            return;
        }
        let mut srv = ServerCfg::new(name, ip, port, &d, id, line);
        srv.disabled |= force_maint;
        px.servers.push(srv);
    }

    /// Post-parse checks: references, missing timeouts, listeners, HTTP
    /// settings (see `http_post`), in HAProxy's order for each proxy.
    pub fn check(&mut self) {
        // 2.6 checks the userlists first and stops at their first error.
        if !super::userlist::check_lists(&mut self.cfg.rules, &mut self.diags) {
            return;
        }
        // Certificates load as the lines that name them are read in 2.6:
        // their errors come before the post-parse checks.
        crate::ssl::build::build_all(&mut self.cfg, &mut self.diags);
        super::program_kw::check(&self.cfg, &mut self.diags);
        if self.cfg.global.pp2_never_send_local {
            use crate::conn::proxy_send::PpOpts;
            let servers = self.cfg.proxies.iter_mut().flat_map(|p| &mut p.servers);
            for s in servers.filter(|s| s.pp_opts.contains(PpOpts::V2)) {
                s.pp_opts |= PpOpts::V2_CHECK_NEVER_LOCAL;
            }
        }
        let n = self.cfg.proxies.len();
        for i in 0..n {
            if let Some(px) = self.cfg.proxies.get_mut(i).filter(|p| !p.disabled) {
                http_post::check_proxy_pre(px, &mut self.diags);
            }
            let Some(px) = self.cfg.proxies.get(i) else {
                continue;
            };
            let (name, kind) = (px.name.clone(), px.kind);
            if px.disabled {
                continue;
            }
            if px.cap.fe && px.binds.is_empty() {
                self.diags.global(Level::Warning, format!("{kind} '{name}' has no 'bind' directive. Please declare it as a backend if this was intended."));
            }
            for (res, id) in &px.http.capture_ids {
                let n = if *res {
                    px.http.res_captures.len()
                } else {
                    px.http.req_captures.len()
                };
                if *id >= n {
                    let dir = if *res {
                        "http-response"
                    } else {
                        "http-request"
                    };
                    self.diags.global(
                        Level::Alert,
                        format!("Proxy '{name}': unable to find capture id '{id}' referenced by {dir} capture rule."),
                    );
                }
            }
            for u in &px.use_servers {
                if !px.servers.iter().any(|s| s.name == u.name) {
                    self.diags.global(
                        Level::Alert,
                        format!("{kind} '{name}' : unable to find server '{}' referenced in a 'use-server' rule.", u.name),
                    );
                }
            }
            let mut refs: Vec<(&str, String)> = Vec::new();
            if let Some((b, _)) = &px.default_backend {
                refs.push(("default_backend", b.clone()));
            }
            for u in px.use_backends.iter().filter(|u| u.dynamic.is_none()) {
                refs.push(("use_backend", u.name.clone()));
            }
            if px.cap.fe
                && !px.cap.be
                && px.default_backend.is_none()
                && px.use_backends.is_empty()
                && !px.binds.is_empty()
            {
                // HAProxy accepts it; connections are then closed with no backend.
            }
            for (what, b) in refs {
                match self
                    .cfg
                    .find_backend(&b)
                    .and_then(|j| self.cfg.proxies.get(j))
                {
                    None => self.diags.global(
                        Level::Alert,
                        format!("Proxy '{name}': unable to find required {what}: '{b}'."),
                    ),
                    Some(be) => {
                        let how = if what == "default_backend" {
                            "as its default backend"
                        } else {
                            "in a 'use_backend' rule"
                        };
                        if let Some(msg) = http_post::switch_mode_alert(px, be, how) {
                            self.diags.global(Level::Alert, msg);
                        }
                    }
                }
            }
            if px.cap.fe
                && px.cap.be
                && (px.default_backend.is_some() || !px.use_backends.is_empty())
                && !px.servers.is_empty()
            {
                // listen with servers and switching rules: both are valid.
            }
            let t = px.timeouts;
            if px.cap.fe && t.client == 0 || px.cap.be && (t.connect == 0 || t.server == 0) {
                self.diags.global(
                    Level::Warning,
                    format!(
                        "missing timeouts for {} '{name}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
                        , if kind == "listen" { "proxy" } else { kind }
                    ),
                );
            }
            if let Some(px) = self.cfg.proxies.get_mut(i) {
                http_post::check_proxy_post(px, &self.cfg.global, &mut self.diags);
            }
        }
        for px in &self.cfg.proxies {
            for srv in px
                .servers
                .iter()
                .filter(|s| s.check && s.port.is_none() && s.check_port.is_none())
            {
                self.diags.global(
                    Level::Alert,
                    format!(
                        "config: {} '{}': server '{}' has neither service port nor check port.",
                        if px.kind == "listen" {
                            "proxy"
                        } else {
                            px.kind
                        },
                        px.name,
                        srv.name
                    ),
                );
            }
        }
        http_post::check_errors(&mut self.cfg, &mut self.diags);
        // Userlists named by fetches, after the proxies as in 2.6.
        super::userlist::check_refs(&mut self.cfg.rules, &mut self.diags);
    }
}

enum LogParse {
    Global,
    Target(LogCfg),
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its length.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if r != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).to_string()
}

/// The local host name (for `-L` and log headers).
pub fn local_hostname() -> String {
    hostname()
}

fn lookup_user(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    lookup_db("/etc/passwd", name)
}

fn lookup_group(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    lookup_db("/etc/group", name)
}

fn lookup_db(path: &str, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        if f.next()? == name {
            f.nth(1)?.parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn tune_int_sizes_fit_an_int_without_wrapping() {
        let (c, d) = parse(
            "global\n  tune.rcvbuf.client 4294967296\n  tune.rcvbuf.server 3g\n  \
             tune.sndbuf.client -1\n  tune.sndbuf.server 2147483648\n  tune.pipesize -1\n",
        );
        assert!(d.list.is_empty(), "{:?}", d.list);
        let g = &c.global;
        let max = i32::MAX as usize;
        assert_eq!(g.tune_rcvbuf_client, max);
        assert_eq!(g.tune_rcvbuf_server, max);
        assert_eq!(g.tune_sndbuf_client, max);
        assert_eq!(g.tune_sndbuf_server, max);
        assert_eq!(
            g.tune_pipesize, 0,
            "a negative pipe size leaves the default"
        );
        let (c, _) = parse("global\n  tune.pipesize 4294967296\n  tune.rcvbuf.client abc\n");
        assert_eq!(c.global.tune_pipesize, max);
        assert_eq!(c.global.tune_rcvbuf_client, 0, "no digit: not set");
        let (c, _) = parse("global\n  tune.pipesize 1m\n  tune.sndbuf.server 4096\n");
        assert_eq!(c.global.tune_pipesize, 1 << 20);
        assert_eq!(c.global.tune_sndbuf_server, 4096);
    }

    fn parse(text: &str) -> (Config, Diags) {
        let env = |k: &str| {
            if k == "PORT" {
                Some("8080".to_string())
            } else {
                None
            }
        };
        let mut p = Parser::new(&env);
        p.parse_text(text, "t.cfg");
        if p.diags.alerts() == 0 {
            p.check();
        }
        (p.cfg, p.diags)
    }

    #[test]
    fn basic_tcp_config() {
        let (c, d) = parse(
            "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout client 5s\n  timeout server 1m\n  timeout connect 500\n  retries 2\n\
             frontend fe\n  bind 127.0.0.1:${PORT},127.0.0.2:${PORT}\n  default_backend be\n\
             backend be\n  balance leastconn\n  default-server maxconn 10\n  server s1 127.0.0.1:9000 weight 3\n  server s2 127.0.0.1:9001 backup\n",
        );
        assert_eq!(d.alerts(), 0, "{:?}", d.list);
        assert_eq!(c.global.maxconn, 100);
        let fe = &c.proxies[0];
        assert_eq!(fe.binds[0].addrs.len(), 2);
        assert_eq!(fe.timeouts.client, 5000);
        let be = &c.proxies[1];
        assert_eq!(be.timeouts.server, 60000);
        assert_eq!(be.timeouts.connect, 500);
        assert_eq!(be.retries, 2);
        assert_eq!(be.balance, Balance::LeastConn);
        assert_eq!(be.servers[0].weight, 3);
        assert_eq!(be.servers[0].maxconn, 10);
        assert!(be.servers[1].backup);
    }

    #[test]
    fn all_errors_reported_with_suggestions() {
        let (_, d) = parse(
            "global\n  maxcon 10\ndefaults\n  timout client 5s\nbackend b\n  blance roundrobin\n  foo bar\n",
        );
        let msgs: Vec<String> = d.list.iter().map(|x| x.render()).collect();
        assert_eq!(d.alerts(), 4, "{msgs:?}");
        assert!(msgs[0].contains("parsing [t.cfg:2] : unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn' maybe ?"), "{msgs:?}");
        assert!(
            msgs[1].contains("[t.cfg:4]") && msgs[1].contains("did you mean 'timeout'"),
            "{msgs:?}"
        );
        assert!(msgs[2].contains("did you mean 'balance'"), "{msgs:?}");
        assert!(
            msgs[3].contains("unknown keyword 'foo' in 'backend' section")
                && !msgs[3].contains("did you mean")
        );
    }

    #[test]
    fn unimplemented_haproxy_keyword_is_named() {
        // `http-request deny` is parsed since `mode http`; `track-sc0` is not.
        let (_, d) = parse("backend b\n  http-request track-sc0 src\n  option httpchk\n");
        assert_eq!(d.alerts(), 2);
        assert_eq!(
            d.list[0].msg,
            "'http-request track-sc0' is valid in HAProxy 2.6 but not supported yet by haproxy-rs",
        );
        assert!(d.list[1].msg.contains("'option httpchk'"), "{:?}", d.list);
    }

    #[test]
    fn named_defaults_and_from() {
        let (c, d) = parse(
            "defaults short\n  timeout client 1s\ndefaults long\n  timeout client 1h\nfrontend a from short\n  bind :1\nfrontend b\n  bind :2\n",
        );
        assert_eq!(d.alerts(), 0, "{:?}", d.list);
        assert_eq!(c.proxies[0].timeouts.client, 1000);
        assert_eq!(c.proxies[1].timeouts.client, 3_600_000);
    }

    #[test]
    fn a_new_defaults_section_starts_afresh() {
        let (c, d) = parse(
            "defaults\n  timeout client 1s\n  retries 5\ndefaults\n  mode tcp\nfrontend f\n  bind :1\n",
        );
        assert_eq!(d.alerts(), 0, "{:?}", d.list);
        assert_eq!(c.proxies[0].timeouts.client, 0);
        assert_eq!(c.proxies[0].retries, 3);
    }

    #[test]
    fn missing_backend_is_an_alert() {
        let (_, d) = parse(
            "defaults\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nfrontend f\n bind :1\n default_backend nob\n",
        );
        assert_eq!(d.alerts(), 1);
        assert_eq!(
            d.list.last().map(|x| x.msg.as_str()),
            Some("Proxy 'f': unable to find required default_backend: 'nob'.")
        );
    }

    #[test]
    fn missing_timeouts_warn() {
        let (_, d) = parse("backend b\n server s 127.0.0.1:80\n");
        assert_eq!(d.alerts(), 0);
        assert_eq!(d.warnings(), 1);
        assert!(
            d.list[0]
                .msg
                .starts_with("missing timeouts for backend 'b'.")
        );
    }

    #[test]
    fn bad_weight_and_server_keyword() {
        let (_, d) = parse(
            "listen l\n bind :1\n server s 1.2.3.4:80 weight 300\n server s2 1.2.3.4:80 wieght 3\n",
        );
        let r: Vec<String> = d.list.iter().map(|x| x.render()).collect();
        assert!(r[0].ends_with("config : [t.cfg:3] : 'server l/s' : weight of server s is not within 0 and 256 (300)."), "{r:?}");
        assert!(r[1].ends_with("[t.cfg:4] : 'server l/s2' : unknown keyword 'wieght'; did you mean 'weight' maybe ?"), "{r:?}");
    }
}
