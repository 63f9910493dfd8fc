//! `mode http` in front of a real upstream: nginx from Debian serving
//! static files on 127.0.0.1. Keep-alive and closing clients, HEAD, 304,
//! 404, a range request and a 3 MB file (spliced) go through the proxy
//! under test and come back as nginx sent them.
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run them against HAProxy 2.6.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Proxy, TempDir, free_port, payload};
use http_common::{Client, http_config};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NGINX: &str = "/usr/sbin/nginx";

/// An nginx serving `dir` on a free port; killed and reaped on drop.
struct Nginx {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Nginx {
    fn start(dir: TempDir) -> Option<Nginx> {
        if !std::path::Path::new(NGINX).exists() {
            eprintln!("note: {NGINX} is missing, skipping the nginx upstream tests");
            return None;
        }
        let port = free_port();
        let root = dir.path().join("www");
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  keepalive_requests 10000;\n\
               client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               server {{\n    listen 127.0.0.1:{port};\n    root {root};\n  }}\n}}\n",
            d = dir.path().display(),
            root = root.display(),
        );
        let cfg = dir.write("nginx.conf", &conf);
        let child = Command::new(NGINX)
            .arg("-c")
            .arg(&cfg)
            .arg("-p")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let n = Nginx {
            child,
            port,
            _dir: dir,
        };
        assert!(
            common::wait_port(port, Duration::from_secs(5)),
            "nginx did not listen"
        );
        Some(n)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `setup` starts: nginx, the proxy in front of it, the proxy's port,
/// and the contents of `small.txt` and `big.bin`.
type Setup = (Nginx, Proxy, u16, Vec<u8>, Vec<u8>);

/// nginx with `small.txt` (100 B) and `big.bin` (3 MB), and the proxy under
/// test in front of it (`fe` extra lines on the frontend).
fn setup(fe: &str) -> Option<Setup> {
    let dir = TempDir::new("nginx");
    std::fs::create_dir_all(dir.path().join("www")).ok()?;
    let small = payload(100, 1);
    let big = payload(3 << 20, 2);
    std::fs::write(dir.path().join("www/small.txt"), &small).ok()?;
    std::fs::write(dir.path().join("www/big.bin"), &big).ok()?;
    let nginx = Nginx::start(dir)?;
    let port = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n{fe}  default_backend b\n\n\
             backend b\n  server ngx 127.0.0.1:{}\n",
            nginx.port
        ),
    );
    let p = Proxy::start_under_test(&cfg, &[port]);
    Some((nginx, p, port, small, big))
}

#[test]
fn keep_alive_client_gets_nginx_files_byte_exact() {
    let Some((_n, _p, port, small, big)) = setup("  option splice-response\n") else {
        return;
    };
    let mut c = Client::connect(port);
    for _ in 0..3 {
        let r = c.exchange(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.status(), 200);
        assert!(r.body == small);
        let r = c.exchange(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.status(), 200);
        assert!(r.body == big, "big.bin differs ({} bytes)", r.body.len());
    }
    let r = c.exchange(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 404);
    c.send(b"HEAD /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.head_response();
    assert_eq!(r.status(), 200);
    let r = c.exchange(b"GET /small.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n");
    assert_eq!(r.status(), 206);
    assert!(r.body == small[10..20]);
    assert!(c.stays_open(Duration::from_millis(100)), "keep-alive lost");
}

#[test]
fn closing_clients_and_conditional_requests_through_nginx() {
    let Some((_n, _p, port, small, _big)) = setup("") else {
        return;
    };
    let t0 = Instant::now();
    let mut lm = String::new();
    for i in 0..20 {
        let mut c = Client::connect(port);
        let r = c.exchange(b"GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(r.status(), 200, "request {i}");
        assert!(r.body == small);
        lm = r.head.get("last-modified").unwrap_or_default().to_string();
        let (_, closed) = c.wait_close(Duration::from_secs(5));
        assert!(closed, "request {i}: client not closed");
    }
    assert!(t0.elapsed() < Duration::from_secs(10));
    let mut c = Client::connect(port);
    c.send(
        format!("GET /small.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: {lm}\r\n\r\n").as_bytes(),
    );
    let r = c.head_response();
    assert_eq!(r.status(), 304);
    let r = c.exchange(b"GET /small.txt HTTP/1.0\r\n\r\n");
    assert_eq!(r.status(), 200);
    assert!(r.body == small);
}
