//! HTTP keywords: those of proxies (configuration.txt 4.2; the error
//! pages and `http-errors` sections are in `http_errors_kw`), `pool-max-conn` / `pool-purge-delay` on
//! server lines (5.2) and `tune.http.maxhdr` (3.2). `parse.rs` calls in
//! here and keeps the rest.
//!
//! Diagnostics are HAProxy 2.6's, checked with `haproxy -c`. As there:
//! * a keyword or option used in a proxy without the capability it needs
//!   gives a warning (`'<kw>' ignored because backend 'b' has no frontend
//!   capability.`); options are then not applied, keywords still are;
//! * `option httplog`, `option tcplog` and `log-format` set one log
//!   format: the last one wins, and in a `defaults` section a second one
//!   warns that it overrides the first;
//! * HTTP settings in a `mode tcp` proxy are warned about after parsing,
//!   and `option httplog` falls back to `option tcplog` (`http_post`).
//!
//! `http-request` / `http-response` / `http-error` lines are parsed by
//! `http_rules`; the post-parse checks are in `http_post`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::Diags;
use super::http_model::*;
use super::http_rules::{self, RuleDir, atol};
use super::model::{Cap, DefaultServer, GlobalCfg, ProxyCfg};
use super::rules_kw::RuleCx;
use super::units::{TimeError, parse_ipv4_loose, parse_time};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// What the HTTP keywords remember across lines.
#[derive(Debug, Default)]
pub struct HttpParseState {
    /// The last `http-request` rule of the open section is final and has
    /// no condition (later ones are never reached).
    prev_final_req: bool,
    prev_final_res: bool,
    prev_final_after: bool,
    /// Per index of `Parser::defaults`: the capabilities of the proxies
    /// that took their settings from it.
    defaults_users: Vec<Cap>,
    /// Where each `Config::http_errors` section was declared.
    pub(super) http_errors_at: Vec<(String, usize)>,
}

impl HttpParseState {
    /// A new section starts: rule ordering warnings start afresh.
    pub fn section_opened(&mut self) {
        self.prev_final_req = false;
        self.prev_final_res = false;
        self.prev_final_after = false;
    }

    /// The proxy `px` (not a `defaults` section), declared at `file:line`,
    /// was just built from the defaults section `defaults[idx]`.
    ///
    /// A `monitor-uri` is inherited by proxies with the frontend capability
    /// only, as in HAProxy. A defaults section with HTTP rules may serve
    /// frontends or backends, not both, and no `listen` (configuration.txt
    /// 4.2, http-request): alert otherwise.
    pub fn inherit(
        &mut self,
        d: &mut Diags,
        defaults: &[ProxyCfg],
        idx: Option<usize>,
        px: &mut ProxyCfg,
        file: &str,
        line: usize,
    ) {
        if !px.cap.fe {
            px.http.monitor_uri = None;
        }
        let Some((idx, defaults)) = idx.and_then(|i| Some((i, defaults.get(i)?))) else {
            return;
        };
        let h = &defaults.http;
        if h.req_rules.is_empty() && h.res_rules.is_empty() && h.wait_for_body.is_none() {
            return;
        }
        if self.defaults_users.len() <= idx {
            self.defaults_users.resize(idx + 1, Cap::default());
        }
        let Some(users) = self.defaults_users.get_mut(idx) else {
            return;
        };
        let cap = px.cap;
        if cap.fe && cap.be {
            d.alert_tight(
                file,
                line,
                "a listen section cannot inherit from a defaults section defining TCP/HTTP rules.",
            );
        } else if cap.fe && users.be || cap.be && users.fe {
            d.alert_tight(
                file,
                line,
                format!(
                    "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at {}:{}).",
                    defaults.file, defaults.line
                ),
            );
        }
        users.fe |= cap.fe;
        users.be |= cap.be;
    }
}

/// Which proxies an option or keyword is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OptCap {
    Fe,
    Be,
    Both,
}

/// A boolean HTTP option: name, capability, whether a `mode tcp` proxy
/// gets a post-parse warning for it, and its field.
pub(super) type BoolOpt = (&'static str, OptCap, bool, fn(&mut HttpCfg) -> &mut bool);

/// The boolean options, in the order HAProxy checks them.
pub(super) const BOOL_OPTS: &[BoolOpt] = &[
    ("abortonclose", OptCap::Be, false, |h| &mut h.abortonclose),
    ("dontlog-normal", OptCap::Fe, false, |h| {
        &mut h.dontlog_normal
    }),
    ("http-buffer-request", OptCap::Both, true, |h| {
        &mut h.buffer_request
    }),
    ("http-no-delay", OptCap::Both, true, |h| &mut h.no_delay),
    ("http-ignore-probes", OptCap::Fe, true, |h| {
        &mut h.ignore_probes
    }),
    ("accept-invalid-http-request", OptCap::Fe, true, |h| {
        &mut h.accept_invalid_req
    }),
    ("accept-invalid-http-response", OptCap::Be, true, |h| {
        &mut h.accept_invalid_res
    }),
    ("http-pretend-keepalive", OptCap::Be, true, |h| {
        &mut h.pretend_keepalive
    }),
];

fn has_cap(px: &ProxyCfg, c: OptCap) -> bool {
    px.kind == "defaults"
        || match c {
            OptCap::Fe => px.cap.fe,
            OptCap::Be => px.cap.be,
            OptCap::Both => true,
        }
}

/// Warns when `px` lacks capability `c` for `what`; true when it lacks it.
pub(super) fn warn_if_not_cap(
    d: &mut Diags,
    px: &ProxyCfg,
    c: OptCap,
    what: &str,
    file: &str,
    line: usize,
) -> bool {
    if has_cap(px, c) {
        return false;
    }
    let need = if c == OptCap::Fe {
        "frontend"
    } else {
        "backend"
    };
    d.warn(
        file,
        line,
        format!(
            "'{what}' ignored because {} '{}' has no {need} capability.",
            px.kind, px.name
        ),
    );
    true
}

/// A word that is present and not empty.
pub(super) fn arg(w: &[String], i: usize) -> Option<&str> {
    w.get(i).map(String::as_str).filter(|s| !s.is_empty())
}

/// Handles the HTTP keywords of a proxy line `w` of `px`. Returns false
/// when `w` is none of them (the caller goes on with its own keywords).
pub fn proxy_kw(
    st: &mut HttpParseState,
    d: &mut Diags,
    px: &mut ProxyCfg,
    w: &[String],
    file: &str,
    line: usize,
    rx: &mut RuleCx<'_>,
) -> bool {
    match w.first().map_or("", String::as_str) {
        "option" if w.get(1).is_some_and(|o| o == "httpslog") && w.get(2).is_none() => {
            // A predefined log-format with TLS fetches: compiled as one.
            match rx.lf(crate::log::format::HTTPSLOG_FORMAT, true, file, line) {
                Ok(lf) => px.http.log_lf = Some(std::rc::Rc::new(lf)),
                Err(m) => d.alert(file, line, format!("failed to parse log-format : {m}.")),
            }
            return option_kw(d, px, w, file, line);
        }
        "option" | "no" => return option_kw(d, px, w, file, line),
        "monitor-uri" => {
            warn_if_not_cap(d, px, OptCap::Fe, "monitor-uri", file, line);
            let Some(uri) = arg(w, 1) else {
                d.alert(file, line, "'monitor-uri' expects an URI.");
                return true;
            };
            if let Some(x) = w.get(2) {
                d.alert(
                    file,
                    line,
                    format!("'monitor-uri' cannot handle unexpected argument '{x}'."),
                );
                return true;
            }
            px.http.monitor_uri = Some(uri.to_string());
        }
        "http-reuse" => {
            warn_if_not_cap(d, px, OptCap::Be, "http-reuse", file, line);
            let mode = w.get(1).map_or("", String::as_str);
            let reuse = match mode {
                "never" => HttpReuse::Never,
                "safe" => HttpReuse::Safe,
                "aggressive" => HttpReuse::Aggressive,
                "always" => HttpReuse::Always,
                _ => {
                    d.alert(
                        file,
                        line,
                        "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.",
                    );
                    return true;
                }
            };
            if let Some(x) = w.get(2) {
                d.alert(
                    file,
                    line,
                    format!("'http-reuse {mode}' cannot handle unexpected argument '{x}'."),
                );
                return true;
            }
            px.http.reuse = reuse;
        }
        "capture" => super::http_capture::capture(d, px, w, file, line),
        "declare" => super::http_capture::declare_capture(d, px, w, file, line),
        "errorfile" | "errorloc" | "errorloc302" | "errorloc303" => {
            super::http_errors_kw::errorfile(d, px, w, file, line)
        }
        "errorfiles" => super::http_errors_kw::errorfiles(d, px, w, file, line),
        "http-error" => http_rules::parse_http_error(d, px, w, file, line, rx),
        "http-request" => {
            let prev = &mut st.prev_final_req;
            http_rules::parse_rule(RuleDir::Req, prev, d, px, w, file, line, rx)
        }
        "http-response" => {
            let prev = &mut st.prev_final_res;
            http_rules::parse_rule(RuleDir::Res, prev, d, px, w, file, line, rx)
        }
        "http-after-response" => {
            let prev = &mut st.prev_final_after;
            http_rules::parse_rule(RuleDir::After, prev, d, px, w, file, line, rx)
        }
        "unique-id-format" | "unique-id-header" => {
            let Some(f) = arg(w, 1) else {
                d.alert(
                    file,
                    line,
                    format!(
                        "{} expects an argument.",
                        w.first().map_or("", String::as_str)
                    ),
                );
                return true;
            };
            if w.first().is_some_and(|k| k == "unique-id-header") {
                px.http.unique_id_hdr = Some(f.to_string());
                return true;
            }
            match rx.lf(f, true, file, line) {
                Ok(lf) => px.http.unique_id_fmt = Some(std::rc::Rc::new(lf)),
                Err(m) => d.global(
                    super::diag::Level::Alert,
                    format!("Parsing [{file}:{line}]: failed to parse unique-id : {m}."),
                ),
            }
        }
        "error-log-format" => {
            let Some(f) = arg(w, 1) else {
                d.alert(file, line, "error-log-format expects an argument.");
                return true;
            };
            if w.get(2).is_some() {
                d.alert(
                    file,
                    line,
                    "error-log-format expects only one argument, don't forget to escape spaces!",
                );
                return true;
            }
            match rx.lf(f, true, file, line) {
                Ok(lf) => px.http.error_log_lf = Some(std::rc::Rc::new(lf)),
                Err(m) => d.alert(
                    file,
                    line,
                    format!("failed to parse error-log-format : {m}."),
                ),
            }
        }
        "log-format" => {
            let Some(f) = arg(w, 1) else {
                d.alert(file, line, "log-format expects an argument.");
                return true;
            };
            if w.get(2).is_some() {
                d.alert(
                    file,
                    line,
                    "log-format expects only one argument, don't forget to escape spaces!",
                );
                return true;
            }
            // Sample expressions are compiled now; the rest of the format
            // is checked once the proxy's mode is known.
            px.http.log_lf = None;
            if f.contains("%[") {
                match rx.lf(f, true, file, line) {
                    Ok(lf) => px.http.log_lf = Some(std::rc::Rc::new(lf)),
                    Err(m) => {
                        d.alert(file, line, format!("failed to parse log-format : {m}."));
                        return true;
                    }
                }
            }
            set_log_format(d, px, LogFmt::Custom(f.to_string()), file, line);
        }
        _ => return false,
    }
    true
}

/// A log format statement.
enum LogFmt {
    Tcp,
    /// `option httplog [clf]`.
    Http(bool),
    /// `option httpslog`: a predefined log-format.
    Https,
    Custom(String),
}

impl LogFmt {
    fn label(&self) -> &'static str {
        match self {
            LogFmt::Tcp => "option tcplog",
            LogFmt::Http(false) => "option httplog",
            LogFmt::Http(true) => "option httplog clf",
            LogFmt::Https => "option httpslog",
            LogFmt::Custom(_) => "log-format",
        }
    }
}

/// The log format statement in force in `px`, if any.
pub(super) fn current_log_format(px: &ProxyCfg) -> Option<&'static str> {
    if px.http.log_format.is_some() {
        Some("log-format")
    } else if let Some(clf) = px.http.httplog {
        Some(LogFmt::Http(clf).label())
    } else if px.opts.tcplog {
        Some("option tcplog")
    } else {
        None
    }
}

/// Applies a log format statement (the last one wins; a backend ignores
/// it with a warning, a `defaults` section warns when it replaces one).
fn set_log_format(d: &mut Diags, px: &mut ProxyCfg, f: LogFmt, file: &str, line: usize) {
    let label = f.label();
    if px.kind != "defaults" && !px.cap.fe {
        let what = if label == "log-format" {
            label
        } else {
            label.trim_end_matches(" clf")
        };
        d.warn(
            file,
            line,
            format!(
                "{} '{}' : '{what}' directive is ignored in backends.",
                px.kind, px.name
            ),
        );
        return;
    }
    if px.kind == "defaults"
        && let Some(prev) = current_log_format(px)
    {
        d.warn_tight(
            file,
            line,
            format!("'{label}' overrides previous '{prev}' in 'defaults' section."),
        );
    }
    px.opts.tcplog = matches!(f, LogFmt::Tcp);
    px.http.httplog = match f {
        LogFmt::Http(clf) => Some(clf),
        _ => None,
    };
    px.http.log_format = match f {
        LogFmt::Custom(s) => Some(s),
        LogFmt::Https => Some(crate::log::format::HTTPSLOG_FORMAT.to_string()),
        _ => None,
    };
    px.http.conf.log_format = Some((file.to_string(), line));
}

/// `[no] option <name>` for the HTTP options and the log formats. Returns
/// false when the option is not one of them.
fn option_kw(d: &mut Diags, px: &mut ProxyCfg, w: &[String], file: &str, line: usize) -> bool {
    let neg = w.first().is_some_and(|k| k == "no");
    let rest = w.get(usize::from(neg)..).unwrap_or_default();
    if rest.first().map(String::as_str) != Some("option") {
        return false;
    }
    let Some(name) = rest.get(1).map(String::as_str) else {
        return false;
    };
    let extra = rest.get(2).map(String::as_str);
    let unexpected = |d: &mut Diags, x: &str| {
        d.alert(
            file,
            line,
            format!("'option {name}' cannot handle unexpected argument '{x}'."),
        )
    };
    match name {
        "httplog" | "tcplog" | "forwardfor" | "originalto" if neg => d.alert_tight(
            file,
            line,
            format!("negation/default is not supported for option '{name}'."),
        ),
        "httplog" => {
            let clf = match extra {
                None => false,
                Some("clf") => true,
                Some(_) => {
                    d.alert(file, line, "keyword 'httplog' only supports option 'clf'.");
                    return true;
                }
            };
            if let Some(x) = rest.get(3) {
                unexpected(d, x);
                return true;
            }
            set_log_format(d, px, LogFmt::Http(clf), file, line);
        }
        "httpslog" if neg => d.alert_tight(
            file,
            line,
            format!("negation/default is not supported for option '{name}'."),
        ),
        "httpslog" => match extra {
            Some(x) => unexpected(d, x),
            None => set_log_format(d, px, LogFmt::Https, file, line),
        },
        "tcplog" => match extra {
            Some(x) => unexpected(d, x),
            None => set_log_format(d, px, LogFmt::Tcp, file, line),
        },
        "forwardfor" | "originalto" => forwarded_header(d, px, name, rest, file, line),
        "http-keep-alive" | "http-server-close" | "httpclose" => {
            if let Some(x) = extra {
                unexpected(d, x);
                return true;
            }
            let mode = match name {
                "http-keep-alive" => HttpConnMode::KeepAlive,
                "http-server-close" => HttpConnMode::ServerClose,
                _ => HttpConnMode::Close,
            };
            // `no option X` only cancels X when it is the mode in force.
            if !neg {
                px.http.conn_mode = mode;
            } else if px.http.conn_mode == mode {
                px.http.conn_mode = HttpConnMode::KeepAlive;
            }
        }
        _ => {
            let Some(&(_, cap, _, field)) = BOOL_OPTS.iter().find(|o| o.0 == name) else {
                return false;
            };
            if let Some(x) = extra {
                unexpected(d, x);
                return true;
            }
            if !warn_if_not_cap(d, px, cap, name, file, line) {
                *field(&mut px.http) = !neg;
            }
        }
    }
    true
}

/// `option forwardfor [except <net>] [header <name>] [if-none]` and
/// `option originalto [except <net>] [header <name>]`.
fn forwarded_header(
    d: &mut Diags,
    px: &mut ProxyCfg,
    name: &str,
    rest: &[String],
    file: &str,
    line: usize,
) {
    let ff = name == "forwardfor";
    let mut except = None;
    let mut header = None;
    let mut if_none = false;
    let mut i = 2;
    while let Some(a) = rest.get(i).map(String::as_str) {
        match a {
            "except" => match arg(rest, i + 1).map(parse_net) {
                Some(Ok(net)) => except = Some(net),
                Some(Err(Some(mask))) => {
                    d.alert(file, line, format!("'option {name} except' : non-contiguous netmask '{mask}' is valid in HAProxy 2.6 but not supported yet by haproxy-rs"));
                    return;
                }
                _ => {
                    d.alert(
                        file,
                        line,
                        format!("'option {name} except' expects <address>[/mask] as argument."),
                    );
                    return;
                }
            },
            "header" => match arg(rest, i + 1) {
                Some(h) => header = Some(h.to_string()),
                None => {
                    d.alert(
                        file,
                        line,
                        format!("'option {name} header' expects <header_name> as argument."),
                    );
                    return;
                }
            },
            "if-none" if ff => {
                if_none = true;
                i += 1;
                continue;
            }
            _ => {
                let msg = if ff {
                    "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'."
                } else {
                    "'option originalto' only supports optional values: 'except' and 'header'."
                };
                d.alert(file, line, msg);
                return;
            }
        }
        i += 2;
    }
    if ff {
        let mut f = ForwardFor {
            except,
            if_none,
            ..ForwardFor::default()
        };
        if let Some(h) = header {
            f.header = h;
        }
        px.http.forwardfor = Some(f);
    } else {
        let mut o = OriginalTo {
            except,
            ..OriginalTo::default()
        };
        if let Some(h) = header {
            o.header = h;
        }
        px.http.originalto = Some(o);
    }
}

/// `<address>[/<mask>]` for `except`: an IPv4 address (inet_aton forms,
/// or a host name resolved to IPv4, as HAProxy does) with a prefix length
/// or a dotted mask, or an IPv6 address with a prefix length. The network
/// is returned with its host bits cleared. `Err(Some(mask))` is a valid
/// but non-contiguous IPv4 mask.
fn parse_net(s: &str) -> Result<(IpAddr, u8), Option<String>> {
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let digits = |m: &str, max: u8| -> Option<u8> {
        (!m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
            .then(|| m.parse::<u8>().ok())
            .flatten()
            .filter(|&n| n <= max)
    };
    let v4 = parse_ipv4_loose(a).or_else(|| {
        if a.is_empty() || a.contains(':') {
            return None;
        }
        (a, 0).to_socket_addrs().ok()?.find_map(|sa| match sa.ip() {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(_) => None,
        })
    });
    if let Some(ip) = v4 {
        let len = match m {
            None => 32,
            Some(m) => match digits(m, 32) {
                Some(n) => n,
                None => {
                    let mask = u32::from(m.parse::<Ipv4Addr>().map_err(|_| None)?);
                    let n = mask.leading_ones();
                    if mask.checked_shl(n).unwrap_or(0) != 0 {
                        return Err(Some(m.to_string()));
                    }
                    n as u8
                }
            },
        };
        let keep = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        return Ok((IpAddr::V4(Ipv4Addr::from(u32::from(ip) & keep)), len));
    }
    let ip: Ipv6Addr = a.parse().map_err(|_| None)?;
    let len = match m {
        None => 128,
        Some(m) => digits(m, 128).ok_or(None)?,
    };
    let keep = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    Ok((IpAddr::V6(Ipv6Addr::from(u128::from(ip) & keep)), len))
}

/// `pool-max-conn <n>` / `pool-purge-delay <time>` on a `server` (`ctx`
/// names it) or `default-server` line, into `srv`. Returns false after an
/// alert: the caller drops the line.
pub fn server_kw(
    d: &mut Diags,
    srv: &mut DefaultServer,
    ctx: Option<&str>,
    kw: &str,
    val: Option<&str>,
    file: &str,
    line: usize,
) -> bool {
    let mut fail = |msg: String| {
        let prefix = ctx.map(|c| format!("{c} : ")).unwrap_or_default();
        d.alert_bare(file, line, format!("{prefix}{msg}"));
        false
    };
    let Some(v) = val.filter(|v| !v.is_empty()) else {
        return fail(format!("'{kw}' expects <value> as argument.."));
    };
    if kw == "pool-max-conn" {
        let n = atol(v);
        if n < -1 {
            return fail("'pool-max-conn' must be >= -1.".into());
        }
        srv.pool_max_conn = i32::try_from(n).unwrap_or(i32::MAX);
        return true;
    }
    match parse_time(v, 1) {
        Ok((ms, _)) => {
            srv.pool_purge_delay = ms;
            true
        }
        Err(TimeError::Overflow) => fail(format!(
            "timer overflow in argument '{v}' to '{kw}' (maximum value is 2147483647 ms or ~24.8 days)."
        )),
        Err(e) => fail(format!("{e} in argument to <{kw}>..")),
    }
}

/// `tune.http.maxhdr <n>` (configuration.txt 3.2). Returns false when `w`
/// is another keyword.
pub fn global_kw(g: &mut GlobalCfg, d: &mut Diags, w: &[String], file: &str, line: usize) -> bool {
    let kw = w.first().map_or("", String::as_str);
    if kw != "tune.http.maxhdr" {
        return false;
    }
    if let Some(x) = w.get(2) {
        d.alert(
            file,
            line,
            format!("'{kw}' cannot handle unexpected argument '{x}'."),
        );
        return true;
    }
    let Some(v) = arg(w, 1) else {
        d.alert(file, line, format!("'{kw}' expects an integer argument."));
        return true;
    };
    match usize::try_from(atol(v)) {
        Ok(n @ 1..=32767) => g.tune_http_maxhdr = n,
        _ => d.alert(
            file,
            line,
            format!("'{kw}' expects a numeric value between 1 and 32767"),
        ),
    }
    true
}

#[cfg(test)]
#[path = "http_kw_tests.rs"]
pub(crate) mod tests;
