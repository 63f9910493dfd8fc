//! `capture cookie <name> len <n>` (configuration.txt 4.2): the first
//! request cookie whose name starts with `<name>` is logged as `%CC`, the
//! first such `Set-Cookie` of the response as `%CS`, each as `name=value`
//! cut to `<n>` characters, `-` when there is none. The same requests run
//! through HAProxy 2.6 when it is installed, and both must log the same.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{HAPROXY, Proxy, free_port, have_haproxy, test_bin};
use http_common::{Client, Origin, Reply, http_config};
use std::time::{Duration, Instant};

/// (request cookie headers, Set-Cookie values of the response, `%CC %CS`
/// expected with `capture cookie SESS len 12`).
const CASES: &[(&[&str], &[&str], &str)] = &[
    (&["a=1; SESSID=abc; x=2"], &[], "SESSID=abc -"),
    (&[], &["SESSID=xyz; Path=/"], "- SESSID=xyz"),
    (
        &["SESSIONID=0123456789abcdef"],
        &["b=2", "SESSX=1; HttpOnly"],
        "SESSIONID=01 SESSX=1",
    ),
    (&["a=1", "SESS=first; SESS=second"], &[], "SESS=first -"),
    (&["other=1"], &["other=2"], "- -"),
    (&["sess=lower"], &[], "- -"),
    (&["a=1;SESSb=2"], &[], "SESSb=2 -"),
];

fn run(program: &str) -> Vec<String> {
    let o = Origin::start(|r| {
        let i: usize = r.target().trim_start_matches('/').parse().unwrap_or(0);
        let mut reply = Reply::ok(b"ok");
        for v in CASES.get(i).map_or(&[][..], |c| c.1) {
            reply = reply.header("Set-Cookie", v);
        }
        reply
    });
    let port = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  log global\n  log-format \"%CC %CS\"\n  \
             capture cookie SESS len 12\n  default_backend b\n\n\
             backend b\n  server s 127.0.0.1:{}\n",
            o.port()
        ),
    );
    let p = Proxy::start_program(program, &cfg, &[port], &["-db"]);
    for (i, (cookies, _, _)) in CASES.iter().enumerate() {
        let mut req = format!("GET /{i} HTTP/1.1\r\nHost: x\r\n");
        for c in *cookies {
            req += &format!("Cookie: {c}\r\n");
        }
        req += "Connection: close\r\n\r\n";
        let mut c = Client::connect(port);
        assert_eq!(
            c.exchange(req.as_bytes()).status(),
            200,
            "{program}: case {i}"
        );
    }
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let lines: Vec<String> = p.stdout().lines().map(str::to_string).collect();
        if lines.len() >= CASES.len() || Instant::now() > end {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn captured_cookies_are_logged_as_haproxy_logs_them() {
    let want: Vec<String> = CASES.iter().map(|c| c.2.to_string()).collect();
    let mut programs = vec![test_bin()];
    if have_haproxy() && test_bin() != HAPROXY {
        programs.push(HAPROXY.to_string());
    }
    for p in &programs {
        assert_eq!(run(p), want, "{p}");
    }
}
