//! Tests of the checks made once the HTTP keywords are parsed
//! (`http_post.rs`): mode pairs, HTTP settings in `mode tcp`, rules in
//! `defaults` sections.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use crate::cfg::http_kw::tests::{DEF, lines, px, run};

/// An http frontend cannot use a tcp backend; a tcp one may use an http
/// backend (its streams are upgraded to HTTP, as in 2.6: no diagnostic).
#[test]
fn frontend_and_backend_modes_must_match() {
    let (_, d) = run(&format!(
        "{DEF}frontend f\n  bind :8080\n  default_backend t\n  use_backend t if TRUE\n\
         listen l\n  mode tcp\n  bind :8081\n  default_backend h\n\
         backend t\n  mode tcp\nbackend h\n"
    ));
    assert_eq!(
        lines(&d),
        [
            "ALERT http frontend 'f' (t.cfg:6) tries to use incompatible tcp backend 't' (t.cfg:14) as its default backend (see 'mode').",
            "ALERT http frontend 'f' (t.cfg:6) tries to use incompatible tcp backend 't' (t.cfg:14) in a 'use_backend' rule (see 'mode').",
        ]
    );
}

/// The HTTP options 2.6 drops from a `mode tcp` proxy (with its warning)
/// are gone, so that a stream upgraded to HTTP does not apply them; its
/// rules stay (2.6 runs them on an upgraded stream).
#[test]
fn http_options_of_a_tcp_proxy_are_dropped_its_rules_kept() {
    let (p, _) = px(
        "frontend",
        "  mode tcp\n  option forwardfor\n  option originalto\n  \
         option http-ignore-probes\n  option http-no-delay\n  \
         http-request set-header a b\n  default_backend x2\n\
         backend x2\n",
    );
    assert!(p.http.forwardfor.is_none() && p.http.originalto.is_none());
    assert!(!p.http.ignore_probes);
    assert!(
        p.http.no_delay,
        "http-no-delay still applies to TCP streams"
    );
    assert_eq!(p.http.req_rules.len(), 1);
}

#[test]
fn http_settings_in_tcp_mode_are_warned_about_in_haproxys_order() {
    let (_, d) = run(
        "defaults\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         listen l\n  bind :8080\n  option accept-invalid-http-request\n  \
         option accept-invalid-http-response\n  option http-ignore-probes\n  \
         option http-buffer-request\n  option http-pretend-keepalive\n  option abortonclose\n  \
         option dontlog-normal\n  option httpclose\n  option originalto\n  option forwardfor\n  \
         http-reuse always\n  http-response deny\n  http-request deny\n  \
         capture request header X len 1\n  capture cookie c len 1\n  monitor-uri /x\n",
    );
    let who = "for proxy 'l' as";
    assert_eq!(
        lines(&d),
        [
            "WARNING monitor-uri will be ignored for proxy 'l' (needs 'mode http').".to_string(),
            format!("WARNING 'capture' statement ignored {who} it requires HTTP mode."),
            format!("WARNING 'http-request' rules ignored {who} they require HTTP mode."),
            format!("WARNING 'http-response' rules ignored {who} they require HTTP mode."),
            format!("WARNING 'option forwardfor' ignored {who} it requires HTTP mode."),
            format!("WARNING 'option originalto' ignored {who} it requires HTTP mode."),
            format!("WARNING 'option http-buffer-request' ignored {who} it requires HTTP mode."),
            format!("WARNING 'option http-ignore-probes' ignored {who} it requires HTTP mode."),
            format!(
                "WARNING 'option accept-invalid-http-request' ignored {who} it requires HTTP mode."
            ),
            format!(
                "WARNING 'option accept-invalid-http-response' ignored {who} it requires HTTP mode."
            ),
            format!("WARNING 'option http-pretend-keepalive' ignored {who} it requires HTTP mode."),
        ]
    );
}

#[test]
fn defaults_with_rules_serve_one_side_only() {
    let (_, d) = run(
        "defaults d\n  mode http\n  http-request deny\nfrontend f from d\n  bind :8080\n\
         backend b from d\nlisten l from d\n  bind :8081\n",
    );
    assert_eq!(
        lines(&d),
        [
            "ALERT parsing [t.cfg:6]: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at t.cfg:1).",
            "ALERT parsing [t.cfg:7]: a listen section cannot inherit from a defaults section defining TCP/HTTP rules.",
        ]
    );
    let (_, d) = run("defaults\n  http-request deny\n  http-response deny\n");
    assert_eq!(
        lines(&d),
        [
            "ALERT parsing [t.cfg:2] : 'http-request' not allowed in anonymous 'defaults' section.",
            "ALERT parsing [t.cfg:3] : 'http-response' not allowed in anonymous 'defaults' section.",
        ]
    );
}
