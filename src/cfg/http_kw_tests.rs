//! Tests of the HTTP keywords (`http_kw.rs`): values, and HAProxy 2.6's
//! diagnostics, whose texts were taken from `haproxy -c` runs. Rules and
//! replies are tested in `http_rules_tests.rs`, with the helpers below.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use crate::cfg::diag::{Diags, Level};
use crate::cfg::model::*;
use crate::cfg::parse::Parser;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Timeouts and mode so that only the lines under test speak.
pub(crate) const DEF: &str =
    "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n";

/// Parses `text` as file `t.cfg`, then runs the checks if it has no alert.
pub(crate) fn run(text: &str) -> (Config, Diags) {
    let env = |_: &str| None;
    let mut p = Parser::new(&env);
    p.parse_text(text, "t.cfg");
    if p.diags.alerts() == 0 {
        p.check();
    }
    (p.cfg, p.diags)
}

/// The diagnostics as printed, without the `[LEVEL] (pid) : config : `
/// prefix: `ALERT <text>` / `WARNING <text>`.
pub(crate) fn lines(d: &Diags) -> Vec<String> {
    d.list
        .iter()
        .map(|x| {
            let r = x.render();
            let text = r.split_once(" : config : ").map_or(r.as_str(), |(_, t)| t);
            let level = match x.level {
                Level::Alert => "ALERT",
                Level::Warning => "WARNING",
                Level::Notice => "NOTICE",
            };
            format!("{level} {text}")
        })
        .collect()
}

/// `DEF` plus `section` and `body`, parsed; returns the proxy named `x`.
pub(crate) fn px(section: &str, body: &str) -> (ProxyCfg, Vec<String>) {
    let bind = if section == "backend" {
        ""
    } else {
        "  bind :8080\n"
    };
    let (c, d) = run(&format!("{DEF}{section} x\n{bind}{body}"));
    let p = c.proxies.into_iter().find(|p| p.name == "x").unwrap();
    (p, lines(&d))
}

/// A directory of files for one test, removed on drop.
pub(crate) struct Files(PathBuf);

impl Files {
    pub(crate) fn new(tag: &str) -> Files {
        let dir = std::env::temp_dir().join(format!("hrs-cfg-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Files(dir)
    }

    /// Writes `name` with `content`; returns its path as text.
    pub(crate) fn put(&self, name: &str, content: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p.display().to_string()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A valid error file.
pub(crate) const E503: &[u8] = b"HTTP/1.0 503 Oops\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn mode_http_is_accepted_and_gets_the_missing_timeouts_warning() {
    let (c, d) = run("frontend f\n  mode http\n  bind :8080\n");
    assert_eq!(c.proxies[0].mode, Mode::Http);
    assert_eq!(d.alerts(), 0, "{:?}", lines(&d));
    assert!(lines(&d)[0].starts_with("WARNING missing timeouts for frontend 'f'."));
}

#[test]
fn http_settings_are_inherited_from_defaults() {
    let f = Files::new("inherit");
    let e = f.put("503.http", E503);
    let (c, d) = run(&format!(
        "defaults web\n  mode http\n  timeout http-request 3s\n  timeout http-keep-alive 1s\n  \
         option forwardfor\n  option httpclose\n  errorfile 503 {e}\n  http-request set-header X-A 1\n\
         frontend f\n  bind :8080\n  http-request set-header X-B 2\n"
    ));
    assert_eq!(d.alerts(), 0, "{:?}", lines(&d));
    let p = &c.proxies[0];
    assert_eq!(p.mode, Mode::Http);
    assert_eq!(
        (p.timeouts.http_request, p.timeouts.http_keep_alive),
        (3000, 1000)
    );
    assert_eq!(p.http.conn_mode, HttpConnMode::Close);
    assert_eq!(
        p.http.forwardfor.as_ref().unwrap().header,
        "X-Forwarded-For"
    );
    assert!(matches!(
        &p.http.errorfiles[..],
        [(503, ErrorSource::File(_))]
    ));
    // The defaults section's rules come first.
    let names: Vec<&str> = p
        .http
        .req_rules
        .iter()
        .map(|r| match &r.action {
            HttpAction::SetHeader { name, .. } => name.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(names, ["X-A", "X-B"]);
}

#[test]
fn timeouts_http_request_and_keep_alive() {
    let (p, l) = px(
        "frontend",
        "  timeout http-request 5s\n  timeout http-keep-alive 250\n",
    );
    assert!(l.is_empty(), "{l:?}");
    assert_eq!(p.timeouts.http_request, 5000);
    assert_eq!(p.timeouts.http_keep_alive, 250);
    let (_, l) = px(
        "frontend",
        "  timeout http-request abc\n  timeout http-keep-alive\n",
    );
    assert_eq!(
        l[..2],
        [
            "ALERT parsing [t.cfg:8] : unexpected character 'a' in 'timeout http-request'",
            "ALERT parsing [t.cfg:9] : 'timeout http-keep-alive' expects an integer value (in milliseconds)",
        ]
    );
}

#[test]
fn tune_http_maxhdr() {
    assert_eq!(run("global\n").0.global.tune_http_maxhdr, 101);
    let (c, d) = run("global\n  tune.http.maxhdr 32767\n");
    assert!(d.list.is_empty());
    assert_eq!(c.global.tune_http_maxhdr, 32767);
    // Read with atol(), as HAProxy does: junk after the digits is ignored.
    assert_eq!(
        run("global\n  tune.http.maxhdr 10x\n")
            .0
            .global
            .tune_http_maxhdr,
        10
    );
    let (_, d) = run(
        "global\n  tune.http.maxhdr 0\n  tune.http.maxhdr 32768\n  tune.http.maxhdr abc\n  \
         tune.http.maxhdr\n  tune.http.maxhdr 5 6\n",
    );
    let range = "'tune.http.maxhdr' expects a numeric value between 1 and 32767";
    assert_eq!(
        lines(&d),
        [
            format!("ALERT parsing [t.cfg:2] : {range}"),
            format!("ALERT parsing [t.cfg:3] : {range}"),
            format!("ALERT parsing [t.cfg:4] : {range}"),
            "ALERT parsing [t.cfg:5] : 'tune.http.maxhdr' expects an integer argument.".into(),
            "ALERT parsing [t.cfg:6] : 'tune.http.maxhdr' cannot handle unexpected argument '6'."
                .into(),
        ]
    );
}

#[test]
fn connection_mode_last_wins_and_no_option_cancels_only_itself() {
    let mode = |body: &str| px("frontend", body).0.http.conn_mode;
    assert_eq!(mode(""), HttpConnMode::KeepAlive);
    assert_eq!(
        mode("  option http-server-close\n"),
        HttpConnMode::ServerClose
    );
    let both = "  option http-server-close\n  option httpclose\n";
    assert_eq!(mode(both), HttpConnMode::Close);
    assert_eq!(
        mode("  option httpclose\n  option http-keep-alive\n"),
        HttpConnMode::KeepAlive
    );
    // Checked on HAProxy 2.6 with traffic: `no option X` resets only X.
    assert_eq!(
        mode("  option httpclose\n  no option http-server-close\n"),
        HttpConnMode::Close
    );
    assert_eq!(
        mode("  option httpclose\n  no option httpclose\n"),
        HttpConnMode::KeepAlive
    );
    let (_, l) = px("frontend", "  no option httpclose x\n");
    assert_eq!(
        l,
        ["ALERT parsing [t.cfg:8] : 'option httpclose' cannot handle unexpected argument 'x'."]
    );
}

#[test]
fn boolean_options_and_their_capabilities() {
    let (p, l) = px(
        "listen",
        "  option abortonclose\n  option dontlog-normal\n  option http-buffer-request\n  \
         option http-ignore-probes\n  option accept-invalid-http-request\n  \
         option accept-invalid-http-response\n  option http-pretend-keepalive\n",
    );
    assert!(l.is_empty(), "{l:?}");
    let h = &p.http;
    assert!(h.abortonclose && h.dontlog_normal && h.buffer_request && h.ignore_probes);
    assert!(h.accept_invalid_req && h.accept_invalid_res && h.pretend_keepalive);
    let (p, _) = px(
        "listen",
        "  option abortonclose\n  no option abortonclose\n",
    );
    assert!(!p.http.abortonclose);
    // Options meant for the other side are warned about and not applied.
    let (p, l) = px(
        "frontend",
        "  option abortonclose\n  option http-pretend-keepalive\n  option http-buffer-request\n",
    );
    assert!(!p.http.abortonclose && !p.http.pretend_keepalive && p.http.buffer_request);
    assert_eq!(
        l,
        [
            "WARNING parsing [t.cfg:8] : 'abortonclose' ignored because frontend 'x' has no backend capability.",
            "WARNING parsing [t.cfg:9] : 'http-pretend-keepalive' ignored because frontend 'x' has no backend capability.",
        ]
    );
    let (p, l) = px(
        "backend",
        "  option http-ignore-probes\n  option dontlog-normal x\n",
    );
    assert!(!p.http.ignore_probes);
    assert_eq!(
        l,
        [
            "WARNING parsing [t.cfg:7] : 'http-ignore-probes' ignored because backend 'x' has no frontend capability.",
            "ALERT parsing [t.cfg:8] : 'option dontlog-normal' cannot handle unexpected argument 'x'.",
        ]
    );
}

#[test]
fn log_formats_last_one_wins() {
    let (p, l) = px("frontend", "  log stdout local0\n  option httplog\n");
    assert!(l.is_empty(), "{l:?}");
    assert_eq!((p.http.httplog, p.opts.tcplog), (Some(false), false));
    let (p, _) = px(
        "frontend",
        "  log stdout local0\n  option tcplog\n  option httplog clf\n",
    );
    assert_eq!((p.http.httplog, p.opts.tcplog), (Some(true), false));
    let (p, _) = px(
        "frontend",
        "  log stdout local0\n  option httplog\n  log-format \"%ci\\ %r\"\n",
    );
    assert_eq!(p.http.httplog, None);
    assert_eq!(p.http.log_format.as_deref(), Some("%ci %r"));
    let (p, _) = px(
        "frontend",
        "  log stdout local0\n  log-format x\n  option tcplog\n",
    );
    assert_eq!((p.http.log_format.as_deref(), p.opts.tcplog), (None, true));
    assert_eq!(p.http.conf.log_format, Some(("t.cfg".into(), 10)));
}

#[test]
fn log_format_errors_and_warnings() {
    let (_, l) = px(
        "frontend",
        "  option httplog foo\n  option httplog clf x\n  no option httplog\n  \
         no option tcplog\n  option tcplog x\n  log-format\n  log-format a b\n",
    );
    assert_eq!(
        l,
        [
            "ALERT parsing [t.cfg:8] : keyword 'httplog' only supports option 'clf'.",
            "ALERT parsing [t.cfg:9] : 'option httplog' cannot handle unexpected argument 'x'.",
            "ALERT parsing [t.cfg:10]: negation/default is not supported for option 'httplog'.",
            "ALERT parsing [t.cfg:11]: negation/default is not supported for option 'tcplog'.",
            "ALERT parsing [t.cfg:12] : 'option tcplog' cannot handle unexpected argument 'x'.",
            "ALERT parsing [t.cfg:13] : log-format expects an argument.",
            "ALERT parsing [t.cfg:14] : log-format expects only one argument, don't forget to escape spaces!",
        ]
    );
    let (p, l) = px(
        "backend",
        "  option httplog clf\n  option tcplog\n  log-format x\n",
    );
    assert_eq!((p.http.httplog, p.opts.tcplog), (None, false));
    assert_eq!(
        l,
        [
            "WARNING parsing [t.cfg:7] : backend 'x' : 'option httplog' directive is ignored in backends.",
            "WARNING parsing [t.cfg:8] : backend 'x' : 'option tcplog' directive is ignored in backends.",
            "WARNING parsing [t.cfg:9] : backend 'x' : 'log-format' directive is ignored in backends.",
        ]
    );
    // A defaults section warns when one format replaces another.
    let (_, d) =
        run("defaults\n  option httplog\n  log-format x\n  option tcplog\n  option httplog clf\n");
    assert_eq!(
        lines(&d),
        [
            "WARNING parsing [t.cfg:3]: 'log-format' overrides previous 'option httplog' in 'defaults' section.",
            "WARNING parsing [t.cfg:4]: 'option tcplog' overrides previous 'log-format' in 'defaults' section.",
            "WARNING parsing [t.cfg:5]: 'option httplog clf' overrides previous 'option tcplog' in 'defaults' section.",
        ]
    );
}

#[test]
fn httplog_falls_back_to_tcplog_in_tcp_mode_and_needs_a_log_target() {
    let (c, d) = run(
        "global\n  log stdout local0\ndefaults\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n\
         frontend f\n  bind :8080\n  option httplog\n\
         frontend g\n  bind :8081\n  log global\n  mode http\n  option httplog\n\
         frontend h\n  bind :8082\n  mode http\n  log-format x\n",
    );
    assert_eq!(
        lines(&d),
        [
            "WARNING parsing [t.cfg:9] : 'option httplog' not usable with frontend 'f' (needs 'mode http'). Falling back to 'option tcplog'.",
            "WARNING log format ignored for frontend 'f' since it has no log address.",
            "WARNING log format ignored for frontend 'h' since it has no log address.",
        ]
    );
    let f = &c.proxies[0];
    assert_eq!((f.http.httplog, f.opts.tcplog), (None, true));
    assert_eq!(c.proxies[1].http.httplog, Some(false));
}

#[test]
fn forwardfor_and_originalto() {
    let (p, l) = px("frontend", "  option forwardfor\n  option originalto\n");
    assert!(l.is_empty(), "{l:?}");
    let ff = p.http.forwardfor.unwrap();
    assert_eq!(
        (ff.header.as_str(), ff.except, ff.if_none),
        ("X-Forwarded-For", None, false)
    );
    assert_eq!(p.http.originalto.unwrap().header, "X-Original-To");
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let (p, _) = px(
        "frontend",
        "  option forwardfor if-none except 10.1.2.3/8 header X-Client\n  \
         option originalto header X-Dst except 192.168.1.7/255.255.255.0\n",
    );
    let ff = p.http.forwardfor.unwrap();
    assert_eq!((ff.header.as_str(), ff.if_none), ("X-Client", true));
    assert_eq!(
        ff.except,
        Some((ip("10.0.0.0"), 8)),
        "network, host bits cleared"
    );
    let ot = p.http.originalto.unwrap();
    assert_eq!(
        (ot.header.as_str(), ot.except),
        ("X-Dst", Some((ip("192.168.1.0"), 24)))
    );
    let except = |net: &str| {
        px("frontend", &format!("  option forwardfor except {net}\n"))
            .0
            .http
            .forwardfor
            .unwrap()
            .except
    };
    assert_eq!(except("1.2.3.4"), Some((ip("1.2.3.4"), 32)));
    assert_eq!(
        except("10.1"),
        Some((ip("10.0.0.1"), 32)),
        "inet_aton forms"
    );
    assert_eq!(
        except("::ffff:1.2.3.4/120"),
        Some((ip("::ffff:1.2.3.0"), 120))
    );
    assert_eq!(except("fe80::1/64"), Some((ip("fe80::"), 64)));
    let (_, l) = px(
        "frontend",
        "  option forwardfor except 10.0.0.1/33\n  option forwardfor except fe80::/129\n  \
         option forwardfor except 1.2.3.4/\n  option forwardfor except [::1]\n  \
         option forwardfor header \"\"\n  option forwardfor foo\n  option originalto if-none\n  \
         option originalto except\n  no option forwardfor\n  \
         option forwardfor except 10.0.0.0/255.0.255.0\n",
    );
    let except_err = "'option forwardfor except' expects <address>[/mask] as argument.";
    assert_eq!(
        l,
        [
            format!("ALERT parsing [t.cfg:8] : {except_err}"),
            format!("ALERT parsing [t.cfg:9] : {except_err}"),
            format!("ALERT parsing [t.cfg:10] : {except_err}"),
            format!("ALERT parsing [t.cfg:11] : {except_err}"),
            "ALERT parsing [t.cfg:12] : 'option forwardfor header' expects <header_name> as argument.".into(),
            "ALERT parsing [t.cfg:13] : 'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.".into(),
            "ALERT parsing [t.cfg:14] : 'option originalto' only supports optional values: 'except' and 'header'.".into(),
            "ALERT parsing [t.cfg:15] : 'option originalto except' expects <address>[/mask] as argument.".into(),
            "ALERT parsing [t.cfg:16]: negation/default is not supported for option 'forwardfor'.".into(),
            "ALERT parsing [t.cfg:17] : 'option forwardfor except' : non-contiguous netmask '255.0.255.0' is valid in HAProxy 2.6 but not supported yet by haproxy-rs".into(),
        ]
    );
}

#[test]
fn monitor_uri_and_http_reuse() {
    let (p, l) = px("listen", "  monitor-uri /alive\n  http-reuse always\n");
    assert!(l.is_empty(), "{l:?}");
    assert_eq!(p.http.monitor_uri.as_deref(), Some("/alive"));
    assert_eq!(p.http.reuse, HttpReuse::Always);
    assert_eq!(px("backend", "").0.http.reuse, HttpReuse::Safe);
    for (w, r) in [
        ("never", HttpReuse::Never),
        ("safe", HttpReuse::Safe),
        ("aggressive", HttpReuse::Aggressive),
    ] {
        assert_eq!(
            px("backend", &format!("  http-reuse {w}\n")).0.http.reuse,
            r
        );
    }
    let (_, l) = px(
        "frontend",
        "  monitor-uri\n  monitor-uri /a b\n  http-reuse foo\n",
    );
    assert_eq!(
        l,
        [
            "ALERT parsing [t.cfg:8] : 'monitor-uri' expects an URI.",
            "ALERT parsing [t.cfg:9] : 'monitor-uri' cannot handle unexpected argument 'b'.",
            "WARNING parsing [t.cfg:10] : 'http-reuse' ignored because frontend 'x' has no backend capability.",
            "ALERT parsing [t.cfg:10] : 'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.",
        ]
    );
    let (_, l) = px("backend", "  http-reuse never x\n  monitor-uri /x\n");
    assert_eq!(
        l,
        [
            "ALERT parsing [t.cfg:7] : 'http-reuse never' cannot handle unexpected argument 'x'.",
            "WARNING parsing [t.cfg:8] : 'monitor-uri' ignored because backend 'x' has no frontend capability.",
        ]
    );
}

#[test]
fn captures() {
    let (p, l) = px(
        "frontend",
        "  capture request header Host len 64\n  capture request header User-Agent len 128\n  \
         capture response header Location len 20\n  capture cookie SRV len 10\n  \
         capture cookie SID len 32\n",
    );
    assert!(l.is_empty(), "{l:?}");
    let c = |n: &str, len| Capture {
        name: n.into(),
        len,
    };
    assert_eq!(p.http.req_captures, [c("Host", 64), c("User-Agent", 128)]);
    assert_eq!(p.http.res_captures, [c("Location", 20)]);
    assert_eq!(
        p.http.cookie_capture,
        Some(c("SID", 32)),
        "the last one wins"
    );
    // Lengths are read with atol(); a cookie capture is cut to 63.
    let (p, l) = px(
        "frontend",
        "  capture request header X len abc\n  capture cookie c len 100\n",
    );
    assert_eq!(p.http.req_captures, [c("X", 0)]);
    assert_eq!(p.http.cookie_capture, Some(c("c", 63)));
    assert_eq!(
        l,
        ["WARNING truncating capture length to 63 bytes for frontend 'x'."]
    );
    let (_, l) = px(
        "frontend",
        "  capture\n  capture request foo X len 3\n  capture request header Host\n  \
         capture response header X len 3 extra\n  capture cookie c len\n",
    );
    assert_eq!(
        l,
        [
            "ALERT parsing [t.cfg:8] : 'capture' expects 'cookie' or 'request header' or 'response header'.",
            "ALERT parsing [t.cfg:9] : 'capture' expects 'cookie' or 'request header' or 'response header'.",
            "ALERT parsing [t.cfg:10] : 'capture request' expects 'header' <header_name> 'len' <len>.",
            "ALERT parsing [t.cfg:11] : 'capture response' cannot handle unexpected argument 'extra'.",
            "ALERT parsing [t.cfg:12] : 'capture' expects 'cookie' <cookie_name> 'len' <len>.",
        ]
    );
    let (_, d) = run("defaults\n  capture cookie c len 10\n  capture request header X len 1\n");
    assert_eq!(
        lines(&d),
        [
            "ALERT parsing [t.cfg:2] : 'capture cookie' not allowed in 'defaults' section.",
            "ALERT parsing [t.cfg:3] : 'capture request' not allowed in 'defaults' section.",
        ]
    );
    let (_, l) = px("backend", "  capture request header X len 1\n");
    assert_eq!(
        l,
        [
            "WARNING parsing [t.cfg:7] : 'capture' ignored because backend 'x' has no frontend capability."
        ]
    );
}

#[test]
fn errorfile_and_errorloc() {
    let f = Files::new("errorfile");
    let ok = f.put("503.http", E503);
    let empty = f.put("empty.http", b"");
    let bad = f.put("bad.http", b"hello");
    let (p, l) = px(
        "frontend",
        &format!(
            "  errorfile 503 {ok}\n  errorfile 200 {empty}\n  errorloc 403 http://x/\n  \
             errorloc302 404 /nf\n  errorloc303 500 /err\n"
        ),
    );
    assert!(l.is_empty(), "{l:?}");
    let e = &p.http.errorfiles;
    assert!(matches!(&e[0], (503, ErrorSource::File(x)) if x == Path::new(&ok)));
    assert!(matches!(&e[1], (200, ErrorSource::File(_))));
    assert!(matches!(&e[2], (403, ErrorSource::Loc302(u)) if u == "http://x/"));
    assert!(matches!(&e[3], (404, ErrorSource::Loc302(u)) if u == "/nf"));
    assert!(matches!(&e[4], (500, ErrorSource::Loc303(u)) if u == "/err"));
    let missing = f.path().join("nope").display().to_string();
    let (_, l) = px(
        "frontend",
        &format!(
            "  errorfile 503\n  errorfile 999 {ok}\n  errorfile abc {ok}\n  errorfile 503 {missing}\n  \
             errorfile 503 {bad}\n  errorloc 503\n  errorloc303 302 /x\n"
        ),
    );
    assert_eq!(
        l,
        [
            "ALERT parsing [t.cfg:8] : errorfile : expects <status_code> and <file> as arguments.\n".to_string(),
            "ALERT parsing [t.cfg:9] : errorfile : status code '999' not handled.".into(),
            "ALERT parsing [t.cfg:10] : errorfile : status code '0' not handled.".into(),
            format!("ALERT parsing [t.cfg:11] : errorfile : error opening file '{missing}'."),
            format!("ALERT parsing [t.cfg:12] : errorfile : '{bad}': unable to parse headers (error offset: 0)"),
            "ALERT parsing [t.cfg:13] : errorloc : expects <status_code> and <url> as arguments.\n".into(),
            "ALERT parsing [t.cfg:14] : errorloc303 : status code '302' not handled.".into(),
        ]
    );
}

#[test]
fn error_file_heads_are_checked_like_haproxy() {
    let f = Files::new("heads");
    let offset = |content: &[u8]| -> Option<String> {
        let p = f.put("x.http", content);
        let (_, l) = px("frontend", &format!("  errorfile 503 {p}\n"));
        l.first().map(|m| {
            m.rsplit_once("offset: ")
                .map_or(m.clone(), |(_, o)| o.to_string())
        })
    };
    // Offsets as HAProxy 2.6 reports them for the same files.
    assert_eq!(offset(b"HTTP/1.0 503 x\nA: b\r\n\n"), None);
    assert_eq!(offset(b"\r\nHTTP/1.0 503\r\n\r\n"), None);
    assert_eq!(offset(b"HTTP/1.0 abc x\r\n\r\n").as_deref(), Some("9)"));
    assert_eq!(
        offset(b"HTTP/1.0 503 x\r\n: v\r\n\r\n").as_deref(),
        Some("16)")
    );
    assert_eq!(
        offset(b"HTTP/1.0 503 x\r\nA b:c\r\n\r\n").as_deref(),
        Some("17)")
    );
    let cl = b"HTTP/1.1 503 x\r\nContent-Length: abc\r\n\r\n";
    assert_eq!(offset(cl).as_deref(), Some("32)"));
    assert_eq!(offset(b"http/1.0 503 x\r\n\r\n").as_deref(), Some("0)"));
    assert_eq!(offset(b"HTTP/1.0 503 x\r\n\r").as_deref(), Some("-2)"));
    assert_eq!(offset(b"HTTP/1.0 503 x").as_deref(), Some("-2)"));
    assert_eq!(offset(b"H").as_deref(), Some("-2)"));
}

#[test]
fn http_errors_sections_and_errorfiles() {
    let f = Files::new("sections");
    let a = f.put("a.http", E503);
    let b = f.put("b.http", b"HTTP/1.0 404 Nope\r\n\r\n");
    let (c, d) = run(&format!(
        "{DEF}frontend x\n  bind :8080\n  errorloc 404 /first\n  errorfiles site\n  \
         errorfiles site 503 404\n  errorfile 503 {b}\n\
         http-errors site\n  errorfile 503 {a}\n  errorfile 404 {b}\n"
    ));
    assert_eq!(d.list.len(), 0, "{:?}", lines(&d));
    assert_eq!(c.http_errors.len(), 1);
    assert_eq!(c.http_errors[0].0, "site");
    assert_eq!(
        c.http_errors[0].1,
        [(503, PathBuf::from(&a)), (404, PathBuf::from(&b))]
    );
    // Expanded in place: the section's files, then later lines win.
    let e: Vec<(u16, String)> = c.proxies[0]
        .http
        .errorfiles
        .iter()
        .map(|(code, s)| match s {
            ErrorSource::File(p) => (*code, p.display().to_string()),
            ErrorSource::Loc302(u) => (*code, u.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    let want = [
        (404, "/first".to_string()),
        (503, a.clone()),
        (404, b.clone()),
        (503, a.clone()),
        (404, b.clone()),
        (503, b.clone()),
    ];
    assert_eq!(e, want);
    assert_eq!(c.proxies[0].http.conf.errorfiles.len(), e.len());
    let (_, d) = run(&format!(
        "{DEF}frontend x\n  bind :8080\n  errorfiles site 404\n  errorfiles nosuch 503 404\n\
         http-errors site\n  errorfile 503 {a}\n"
    ));
    assert_eq!(
        lines(&d),
        [
            "WARNING config: proxy 'x' : status '404' not declared in http-errors section 'site' (at t.cfg:8).",
            "ALERT proxy 'x': unknown http-errors section 'nosuch' (at t.cfg:9).",
        ]
    );
}

#[test]
fn http_errors_section_errors() {
    let f = Files::new("section-errors");
    let a = f.put("a.http", E503);
    let (_, d) = run(&format!(
        "http-errors\n  errorfile 503 {a}\nhttp-errors \"a b\"\nhttp-errors s extra\n  errorfile 999 {a}\n  \
         errorfile 503\n  errorloc 503 /x\nhttp-errors s\nfrontend f\n  errorfiles\n  errorfiles s 302\n"
    ));
    assert_eq!(
        lines(&d),
        [
            "ALERT parsing [t.cfg:1] : missing name for http-errors section.",
            "ALERT parsing [t.cfg:3] : character ' ' is not permitted in 'http-errors' name 'a b'.",
            "ALERT parsing [t.cfg:5] : errorfile : status code '999' not handled.",
            "ALERT parsing [t.cfg:6] : errorfile: expects <status_code> and <file> as arguments.",
            "ALERT parsing [t.cfg:7] : unknown keyword 'errorloc' in 'http-errors' section",
            "ALERT parsing [t.cfg:8]: http-errors section 's' already exists (declared at t.cfg:4).",
            "ALERT parsing [t.cfg:10] : errorfiles : expects <name> as argument.",
            "ALERT parsing [t.cfg:11] : errorfiles : status code '302' not handled.",
        ]
    );
}

#[test]
fn pool_options_on_server_lines() {
    let (p, l) = px(
        "backend",
        "  server a 127.0.0.1:80\n  default-server pool-max-conn 3 pool-purge-delay 2s\n  \
         server b 127.0.0.1:80\n  server c 127.0.0.1:80 pool-max-conn -1 pool-purge-delay 0\n",
    );
    assert!(l.is_empty(), "{l:?}");
    let s: Vec<(i32, u32)> = p
        .servers
        .iter()
        .map(|s| (s.pool_max_conn, s.pool_purge_delay))
        .collect();
    assert_eq!(s, [(-1, 5000), (3, 2000), (-1, 0)]);
    let (_, l) = px(
        "backend",
        "  server a 127.0.0.1:80 pool-max-conn\n  server b 127.0.0.1:80 pool-max-conn -2\n  \
         server c 127.0.0.1:80 pool-purge-delay abc\n  server d 127.0.0.1:80 pool-purge-delay 5000000000\n  \
         default-server pool-purge-delay\n",
    );
    assert_eq!(
        l,
        [
            "ALERT [t.cfg:7] : 'server x/a' : 'pool-max-conn' expects <value> as argument..",
            "ALERT [t.cfg:8] : 'server x/b' : 'pool-max-conn' must be >= -1.",
            "ALERT [t.cfg:9] : 'server x/c' : unexpected character 'a' in argument to <pool-purge-delay>..",
            "ALERT [t.cfg:10] : 'server x/d' : timer overflow in argument '5000000000' to 'pool-purge-delay' (maximum value is 2147483647 ms or ~24.8 days).",
            "ALERT [t.cfg:11] : 'pool-purge-delay' expects <value> as argument..",
        ]
    );
}
