//! `option tcplog` alone in a `mode http` frontend: HAProxy 2.6 logs its
//! TCP line (`%Tw/%Tc/%Tt %B %ts ...`) once per transaction, and dates a
//! keep-alive connection's later transaction (`%t`) at the end of the one
//! before (where 2.6 starts a new stream). Run against HAProxy 2.6 too
//! when it is installed.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{HAPROXY, Proxy, free_port, have_haproxy, test_bin};
use http_common::{Client, Origin, Reply};
use std::time::{Duration, Instant};

/// One logged line: (date in ms of the day, `Tt`, the fields after the
/// timers: bytes, termination state, counters, queues).
fn parse(l: &str) -> (i64, i64, String) {
    let f: Vec<&str> = l.split(' ').collect();
    assert_eq!(f.len(), 9, "tcplog line {l:?}");
    // [03/Dec/2026:23:34:49.715]
    let t = f[1].trim_matches(|c| c == '[' || c == ']');
    let hms: Vec<&str> = t
        .split_once(':')
        .map_or("", |x| x.1)
        .split([':', '.'])
        .collect();
    let n = |i: usize| hms.get(i).and_then(|x| x.parse::<i64>().ok()).unwrap_or(-1);
    let date = ((n(0) * 60 + n(1)) * 60 + n(2)) * 1000 + n(3);
    let tt = f[4]
        .rsplit('/')
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(-1);
    (date, tt, f[5..].join(" "))
}

fn run(program: &str) -> Vec<(i64, i64, String)> {
    let o = Origin::start(|r| {
        let delay = if r.target() == "/slow" { 100 } else { 0 };
        Reply::ok(b"ok").delay(Duration::from_millis(delay))
    });
    let port = free_port();
    let cfg = format!(
        "global\n  log stdout format raw local0\n\ndefaults\n  mode http\n  log global\n  \
         option tcplog\n  timeout client 5s\n  timeout server 5s\n  timeout connect 2s\n\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\n\
         backend b\n  server s 127.0.0.1:{}\n",
        o.port()
    );
    let p = Proxy::start_program(program, &cfg, &[port], &["-db"]);
    let mut c = Client::connect(port);
    assert_eq!(
        c.exchange(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .status(),
        200
    );
    std::thread::sleep(Duration::from_millis(150));
    let r = c.exchange(b"GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status(), 200);
    c.wait_close(Duration::from_secs(5));
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let lines: Vec<String> = p.stdout().lines().map(str::to_string).collect();
        if lines.len() >= 2 || Instant::now() > end {
            return lines.iter().map(|l| parse(l)).collect();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tcplog_in_http_mode_logs_each_transaction_as_haproxy() {
    let mut programs = vec![test_bin()];
    if have_haproxy() && test_bin() != HAPROXY {
        programs.push(HAPROXY.to_string());
    }
    let mut tails = Vec::new();
    for p in &programs {
        let l = run(p);
        assert_eq!(l.len(), 2, "{p}: two transactions, two lines: {l:?}");
        // The second is dated at the end of the first (>= 100 ms, the slow
        // response), not when its request came (150 ms later), and its Tt
        // counts that idle time.
        let gap = l[1].0 - l[0].0;
        assert!(
            (95..230).contains(&gap),
            "{p}: second date {gap} ms after the first"
        );
        assert!(l[0].1 >= 100, "{p}: first Tt {}", l[0].1);
        assert!((150..400).contains(&l[1].1), "{p}: second Tt {}", l[1].1);
        tails.push(l.into_iter().map(|x| x.2).collect::<Vec<_>>());
    }
    assert_eq!(
        tails[0],
        ["51 -- 1/1/0/0/0 0/0", "51 -- 1/1/0/0/0 0/0"],
        "bytes, state, counters"
    );
    if let Some(h) = tails.get(1) {
        assert_eq!(&tails[0], h, "haproxy-rs and HAProxy 2.6");
    }
}
