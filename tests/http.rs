//! `mode http` end to end: what reaches the server byte for byte in each
//! connection mode, keep-alive and server connection reuse, pipelining,
//! bodies (content-length, chunked, close-delimited, none), interim
//! responses, tunnels (WebSocket, CONNECT), added headers, `http-request` /
//! `http-response` rules, internal responses (monitor-uri, deny, return,
//! redirect), `option httplog` lines and the HTTP stats counters.
//!
//! Every expected byte string was observed on HAProxy 2.6.12 (see
//! `/work/shared/http-facts.md`). Requests are written with canonical
//! `Name: value` spacing: HAProxy re-encodes header lines while haproxy-rs
//! keeps their spacing and only lower-cases names, so both forward the same
//! bytes for such requests.
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Proxy, TempDir, free_port, payload};
use http_common::{
    Client, Origin, Reply, assert_bytes, chunk, http_config, http_logs, logs, show, start,
    start_fronts,
};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers --

const T: Duration = Duration::from_secs(5);

/// The masked log lines once `n` are there (and no more after a short
/// settle time).
fn masked_logs(p: &Proxy, n: usize) -> Vec<String> {
    logs(p, n);
    std::thread::sleep(Duration::from_millis(100));
    http_logs(&p.stdout()).iter().map(|l| l.masked()).collect()
}

/// The response the origin sends in the forwarding tables (facts table 1).
const R: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Y: z\r\n\r\nok";
const REQ_A: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\nFoo: bar\r\nX-Mixed-Case: v\r\n\r\n";
const REQ_B: &[u8] = b"GET /a HTTP/1.0\r\nHost: x\r\nFoo: bar\r\nX-Mixed-Case: v\r\n\r\n";
const REQ_C: &[u8] = b"GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nFoo: bar\r\n\r\n";
const REQ_D: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
const RESP_KEEP: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-y: z\r\n\r\nok";
const RESP_CLOSE: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-y: z\r\nconnection: close\r\n\r\nok";
const RESP_KA: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-y: z\r\nconnection: keep-alive\r\n\r\nok";

/// One row of facts table 1: the client's request, what the server must
/// receive, what the client must receive, and whether the client
/// connection stays open after it.
struct Row {
    req: &'static [u8],
    server: &'static [u8],
    client: &'static [u8],
    open: bool,
}

/// Runs each row on a fresh client connection through a proxy whose
/// `defaults` carry `mode_line`. An open connection is checked by sending
/// the same request again and getting the same response.
fn check_table(mode_line: &str, rows: &[Row]) {
    let o = Origin::start(|_| Reply::raw(R));
    let (_p, port) = start(o.port(), mode_line, "", "");
    for (i, row) in rows.iter().enumerate() {
        o.clear();
        let mut c = Client::connect(port);
        let r = c.exchange(row.req);
        let what = format!("{mode_line:?} row {i} ({})", show(row.req));
        assert_bytes(&r.raw, row.client, &format!("{what}: client got"));
        let seen = o.wait_requests(1, T);
        assert_eq!(seen.len(), 1, "{what}: one request at the server");
        assert_bytes(&seen[0].raw, row.server, &format!("{what}: server got"));
        if row.open {
            let r2 = c.exchange(row.req);
            assert_bytes(&r2.raw, row.client, &format!("{what}: second response"));
        } else {
            let (extra, closed) = c.wait_close(Duration::from_secs(2));
            assert!(closed, "{what}: client connection should be closed");
            assert!(
                extra.is_empty(),
                "{what}: extra bytes b\"{}\"",
                show(&extra)
            );
        }
    }
}

// ---------------------------------------------- forwarding per mode --

#[test]
fn keep_alive_mode_forwards_lowercased_names_and_keeps_client_open() {
    check_table(
        "",
        &[
            Row {
                req: REQ_A,
                server: b"GET /a HTTP/1.1\r\nhost: x\r\nfoo: bar\r\nx-mixed-case: v\r\n\r\n",
                client: RESP_KEEP,
                open: true,
            },
            Row {
                req: REQ_B,
                server: b"GET /a HTTP/1.0\r\nhost: x\r\nfoo: bar\r\nx-mixed-case: v\r\nconnection: keep-alive\r\n\r\n",
                client: RESP_CLOSE,
                open: false,
            },
            Row {
                req: REQ_C,
                server: b"GET /a HTTP/1.0\r\nhost: x\r\nfoo: bar\r\nconnection: keep-alive\r\n\r\n",
                client: RESP_KA,
                open: true,
            },
            Row {
                req: REQ_D,
                server: b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n",
                client: RESP_CLOSE,
                open: false,
            },
        ],
    );
}

#[test]
fn http_server_close_mode_sends_connection_close_to_server_only() {
    check_table(
        "  option http-server-close\n",
        &[
            Row {
                req: REQ_A,
                server: b"GET /a HTTP/1.1\r\nhost: x\r\nfoo: bar\r\nx-mixed-case: v\r\nconnection: close\r\n\r\n",
                client: RESP_KEEP,
                open: true,
            },
            Row {
                req: REQ_B,
                server: b"GET /a HTTP/1.0\r\nhost: x\r\nfoo: bar\r\nx-mixed-case: v\r\n\r\n",
                client: RESP_CLOSE,
                open: false,
            },
            Row {
                req: REQ_C,
                server: b"GET /a HTTP/1.0\r\nhost: x\r\nfoo: bar\r\n\r\n",
                client: RESP_KA,
                open: true,
            },
            Row {
                req: REQ_D,
                server: b"GET /a HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
                client: RESP_CLOSE,
                open: false,
            },
        ],
    );
}

#[test]
fn httpclose_mode_closes_client_after_response_with_connection_close() {
    check_table(
        "  option httpclose\n",
        &[
            Row {
                req: REQ_A,
                server: b"GET /a HTTP/1.1\r\nhost: x\r\nfoo: bar\r\nx-mixed-case: v\r\nconnection: close\r\n\r\n",
                client: RESP_CLOSE,
                open: false,
            },
            Row {
                req: REQ_B,
                server: b"GET /a HTTP/1.0\r\nhost: x\r\nfoo: bar\r\nx-mixed-case: v\r\n\r\n",
                client: RESP_CLOSE,
                open: false,
            },
            Row {
                req: REQ_C,
                server: b"GET /a HTTP/1.0\r\nhost: x\r\nfoo: bar\r\n\r\n",
                client: RESP_CLOSE,
                open: false,
            },
            Row {
                req: REQ_D,
                server: b"GET /a HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
                client: RESP_CLOSE,
                open: false,
            },
        ],
    );
}

/// Three requests on one client connection; returns the server connection
/// index of each.
fn three_requests_conns(mode_line: &str) -> (Vec<usize>, usize) {
    let o = Origin::start(|_| Reply::raw(R));
    let (_p, port) = start(o.port(), mode_line, "", "");
    let mut c = Client::connect(port);
    for i in 0..3 {
        let r = c.exchange(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_bytes(&r.raw, RESP_KEEP, "response");
    }
    let seen = o.wait_requests(3, T);
    let paths: Vec<&str> = seen.iter().map(|s| s.target()).collect();
    assert_eq!(paths, ["/0", "/1", "/2"]);
    (seen.iter().map(|s| s.conn).collect(), o.accepted())
}

#[test]
fn keep_alive_reuses_one_server_connection_for_three_requests() {
    let (conns, accepted) = three_requests_conns("");
    assert_eq!(accepted, 1, "server accepts");
    assert_eq!(conns, [0, 0, 0]);
}

#[test]
fn http_server_close_opens_one_server_connection_per_request() {
    let (conns, accepted) = three_requests_conns("  option http-server-close\n");
    assert_eq!(accepted, 3, "server accepts");
    let mut c = conns.clone();
    c.sort();
    c.dedup();
    assert_eq!(c.len(), 3, "three distinct server connections: {conns:?}");
}

/// Three clients, one after the other, each sending one request with
/// `Connection: close` and waiting for its response; returns how many
/// connections the server accepted.
fn three_closing_clients(be: &str) -> usize {
    let o = Origin::ok();
    let (_p, port) = start(o.port(), "", "", be);
    for i in 0..3 {
        let mut c = Client::connect(port);
        let r = c.exchange(
            format!("GET /{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(r.status(), 200);
        let (_, closed) = c.wait_close(T);
        assert!(closed, "client {i} not closed");
    }
    o.wait_requests(3, T);
    o.accepted()
}

#[test]
fn http_reuse_always_serves_closing_clients_over_one_pooled_server_connection() {
    assert_eq!(three_closing_clients("  http-reuse always\n"), 1);
}

#[test]
fn http_reuse_safe_never_gives_a_first_request_a_pooled_connection() {
    assert_eq!(three_closing_clients(""), 3);
}

#[test]
fn pool_max_conn_0_keeps_no_idle_server_connection() {
    let o = Origin::ok();
    let port = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\n\
             backend b\n  http-reuse always\n  server s 127.0.0.1:{} pool-max-conn 0\n",
            o.port()
        ),
    );
    let _p = Proxy::start_under_test(&cfg, &[port]);
    for i in 0..2 {
        let mut c = Client::connect(port);
        let r = c.exchange(
            format!("GET /{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(r.status(), 200);
        c.wait_close(T);
    }
    o.wait_requests(2, T);
    assert_eq!(o.accepted(), 2);
}

#[test]
fn pipelined_requests_in_one_write_are_answered_in_order() {
    let o = Origin::start(|s| {
        let p = s.target().to_string();
        Reply::ok(p.as_bytes()).delay(if p == "/1" {
            Duration::from_millis(50)
        } else {
            Duration::ZERO
        })
    });
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
    let r1 = c.response();
    let r2 = c.response();
    assert_bytes(
        &r1.raw,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n/1",
        "first",
    );
    assert_bytes(
        &r2.raw,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n/2",
        "second",
    );
    let seen = o.wait_requests(2, T);
    assert_bytes(
        &seen[0].raw,
        b"GET /1 HTTP/1.1\r\nhost: x\r\n\r\n",
        "server 1",
    );
    assert_bytes(
        &seen[1].raw,
        b"GET /2 HTTP/1.1\r\nhost: x\r\n\r\n",
        "server 2",
    );
    let l = masked_logs(&p, 2);
    assert_eq!(l.len(), 2, "{l:?}");
    assert!(l[0].ends_with("\"GET /1 HTTP/1.1\""), "{l:?}");
    assert!(l[1].ends_with("\"GET /2 HTTP/1.1\""), "{l:?}");
}

// ------------------------------------------------------------ bodies --

#[test]
fn post_with_content_length_reaches_server_byte_exact() {
    let o = Origin::start(|s| Reply::ok(format!("got {}", s.body.len()).as_bytes()));
    let (_p, port) = start(o.port(), "", "", "");
    let body = payload(100_000, 7);
    let mut req = format!(
        "POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let mut c = Client::connect(port);
    let r = c.exchange(&req);
    assert_eq!(r.body, b"got 100000");
    let seen = o.wait_requests(1, T);
    let mut want = b"POST /up HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: 100000\r\n\r\n".to_vec();
    want.extend_from_slice(&body);
    assert!(
        seen[0].raw == want,
        "server got a different POST ({} bytes)",
        seen[0].raw.len()
    );
    // The connection is still usable.
    let r = c.exchange(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.body, b"got 0");
}

#[test]
fn chunked_request_body_round_trips_and_is_rechunked() {
    let o = Origin::start(|s| Reply::ok(&s.body));
    let (_p, port) = start(o.port(), "", "", "");
    let body = payload(70_000, 11);
    let mut req = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    req.extend_from_slice(&chunk(&body, 10_000));
    let mut c = Client::connect(port);
    let r = c.exchange(&req);
    assert!(r.body == body, "echoed body differs");
    let seen = o.wait_requests(1, T);
    let hl = http_common::head_end(&seen[0].raw).unwrap();
    assert_bytes(
        &seen[0].raw[..hl],
        b"POST /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n",
        "head at the server",
    );
    assert!(seen[0].body == body, "body at the server differs");
    // HAProxy decodes the chunks and encodes what it read at once as one
    // chunk (upper-case hex size), dropping chunk extensions; trailer
    // names are lower-cased.
    // haproxy-rs keeps the chunk boundaries (no re-encoding) but writes
    // each size line and trailer as HAProxy does.
    let cases: [(&[u8], &[u8], &[u8]); 3] = [
        (
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"5\r\nabcde\r\n0\r\n\r\n",
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        ),
        (
            b"1a;ext=1\r\nyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n0\r\nTrailer: t\r\n\r\n",
            b"1A\r\nyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n0\r\ntrailer: t\r\n\r\n",
            b"1A\r\nyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n0\r\ntrailer: t\r\n\r\n",
        ),
        (b"000\r\n\r\n", b"0\r\n\r\n", b"0\r\n\r\n"),
    ];
    for (chunks, want, rs_want) in cases {
        o.clear();
        let mut req =
            b"POST /c2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        req.extend_from_slice(chunks);
        let r = c.exchange(&req);
        assert_eq!(r.status(), 200, "{}", show(chunks));
        let seen = o.wait_requests(1, T);
        let mut w = b"POST /c2 HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        w.extend_from_slice(if common::test_bin() == common::HAPROXY {
            want
        } else {
            rs_want
        });
        assert_bytes(&seen[0].raw, &w, &show(chunks));
    }
}

#[test]
fn chunked_response_of_3mb_round_trips_byte_exact() {
    let body = payload(3 << 20, 3);
    let b2 = body.clone();
    let o = Origin::start(move |_| Reply::ok(&b2).chunked(16_000));
    let (_p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.head.start, "HTTP/1.1 200 OK", "{}", show(&r.raw[..100]));
    assert_eq!(r.head.get("transfer-encoding"), Some("chunked"));
    assert!(r.body == body, "body differs ({} bytes)", r.body.len());
    assert_bytes(
        &r.raw[..http_common::head_end(&r.raw).unwrap()],
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        "head",
    );
    // Keep-alive after it.
    let r = c.exchange(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.body == body);
}

#[test]
fn close_delimited_http10_response_reaches_client_then_close() {
    let o = Origin::start(|s| {
        if s.target() == "/11" {
            Reply::raw(b"HTTP/1.1 200 OK\r\n\r\nclose-delimited").close()
        } else {
            Reply::raw(b"HTTP/1.0 200 OK\r\nX-Y: z\r\n\r\nbody-until-close").close()
        }
    });
    let (_p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"GET /10 HTTP/1.1\r\nHost: x\r\n\r\n");
    let got = c.read_to_close();
    assert_bytes(
        &got,
        b"HTTP/1.0 200 OK\r\nx-y: z\r\n\r\nbody-until-close",
        "HTTP/1.0 server",
    );
    let mut c = Client::connect(port);
    c.send(b"GET /11 HTTP/1.1\r\nHost: x\r\n\r\n");
    let got = c.read_to_close();
    assert_bytes(
        &got,
        b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nclose-delimited",
        "HTTP/1.1 server without length",
    );
}

#[test]
fn head_and_304_with_content_length_have_no_body_and_keep_alive_continues() {
    let o = Origin::start(|s| match (s.method(), s.target()) {
        ("HEAD", _) => Reply::raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
        (_, "/304") => Reply::raw(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
        _ => Reply::raw(R),
    });
    let (_p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.head_response();
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
        "HEAD",
    );
    let r = c.exchange(b"GET /304 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n",
        "304",
    );
    let r = c.exchange(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, RESP_KEEP, "next");
    assert_eq!(o.accepted(), 1);
}

#[test]
fn expect_100_continue_is_forwarded_and_both_responses_reach_the_client() {
    let o = Origin::start(|s| Reply::ok(&s.body));
    let (_p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    // The 100 comes from the server (HAProxy does not send one itself).
    let r = c.response();
    assert_bytes(&r.raw, b"HTTP/1.1 100 Continue\r\n\r\n", "interim");
    c.send(b"hello");
    let r = c.response();
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
        "final",
    );
    let seen = o.wait_requests(1, T);
    assert_bytes(
        &seen[0].raw,
        b"POST /e HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\nhello",
        "server",
    );
}

#[test]
fn expect_100_continue_is_not_answered_by_the_proxy_itself() {
    // An origin that never sends 100: the client gets nothing until it
    // sends the body anyway.
    let o = Origin::start_without_continue(|s| Reply::ok(&s.body));
    let (_p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assert!(
        c.stays_open(Duration::from_millis(300)),
        "closed while waiting for the body"
    );
    c.send(b"abc");
    let r = c.response();
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc",
        "final",
    );
}

// ----------------------------------------------------------- tunnels --

#[test]
fn websocket_upgrade_gets_101_then_bytes_flow_both_ways() {
    let o = Origin::start(|_| {
        Reply::new(101, "Switching Protocols")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            .tunnel()
    });
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    // An upgrade keeps the Connection header in its place (both ways).
    let r = c.response();
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        "101",
    );
    let seen = o.wait_requests(1, T);
    assert_bytes(
        &seen[0].raw,
        b"GET /ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
        "upgrade request at the server",
    );
    // Binary frames both ways, echoed by the origin.
    let data = payload(200_000, 5);
    let mut w = c.s.try_clone().unwrap();
    let d2 = data.clone();
    let writer = std::thread::spawn(move || w.write_all(&d2));
    let mut got = std::mem::take(&mut c.buf);
    let mut tmp = vec![0u8; 65536];
    while got.len() < data.len() {
        let n = c.s.read(&mut tmp).expect("tunnel read");
        assert!(n > 0, "tunnel closed early");
        got.extend_from_slice(&tmp[..n]);
    }
    writer.join().unwrap().expect("tunnel write");
    assert!(got == data, "tunnel data differs");
    c.s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = c.s.read_to_end(&mut rest);
    assert!(rest.is_empty());
    // One line at the end of the tunnel; %B is the 101's internal size
    // (132) plus the tunnelled bytes.
    let l = masked_logs(&p, 1);
    assert_eq!(
        l,
        ["f b/s T/T/T/T/T 101 200132 - - ---- 1/1/0/0/0 0/0 \"GET /ws HTTP/1.1\""]
    );
}

#[test]
fn connect_method_tunnels_bytes_both_ways() {
    let o = Origin::start(|_| Reply::new(200, "Connection established").tunnel());
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    let r = c.head_response();
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 Connection established\r\n\r\n",
        "CONNECT reply",
    );
    let seen = o.wait_requests(1, T);
    assert_bytes(
        &seen[0].raw,
        b"CONNECT example.com:443 HTTP/1.1\r\nhost: example.com\r\n\r\n",
        "server",
    );
    c.send(b"\x16\x03\x01hello tunnel");
    let mut got = std::mem::take(&mut c.buf);
    let mut tmp = [0u8; 1024];
    while got.len() < 15 {
        let n = c.s.read(&mut tmp).expect("tunnel read");
        assert!(n > 0, "tunnel closed early");
        got.extend_from_slice(&tmp[..n]);
    }
    assert_bytes(&got, b"\x16\x03\x01hello tunnel", "echo");
    c.s.shutdown(Shutdown::Write).unwrap();
    let _ = c.read_to_close();
    let l = masked_logs(&p, 1);
    assert_eq!(
        l[0],
        "f b/s T/T/T/T/T 200 69 - - ---- 1/1/0/0/0 0/0 \"CONNECT example.com:443 HTTP/1.1\"",
    );
}

// ----------------------------------------------------- added headers --

#[test]
fn forwardfor_and_originalto_add_exact_headers() {
    let o = Origin::ok();
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let fe = |i: usize, opt: &str| {
        format!(
            "frontend f{i}\n  bind 127.0.0.1:{}\n{opt}  default_backend b\n\n",
            ports[i]
        )
    };
    let body = format!(
        "{}{}{}{}backend b\n  server s 127.0.0.1:{}\n",
        fe(0, "  option forwardfor\n  option originalto\n"),
        fe(1, "  option forwardfor except 127.0.0.0/8\n"),
        fe(2, "  option forwardfor header X-Client if-none\n"),
        fe(3, "  option forwardfor\n"),
        o.port()
    );
    let _p = Proxy::start_under_test(&http_config("", &body), &ports);
    let cases: [(usize, &[u8], &[u8]); 5] = [
        (
            0,
            b"GET /0 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /0 HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 127.0.0.1\r\nx-original-to: 127.0.0.1\r\n\r\n",
        ),
        (
            1,
            b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /1 HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
        (
            2,
            b"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /2 HTTP/1.1\r\nhost: x\r\nx-client: 127.0.0.1\r\n\r\n",
        ),
        (
            2,
            b"GET /2b HTTP/1.1\r\nHost: x\r\nX-Client: 9.9.9.9\r\n\r\n",
            b"GET /2b HTTP/1.1\r\nhost: x\r\nx-client: 9.9.9.9\r\n\r\n",
        ),
        (
            3,
            b"GET /3 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
            b"GET /3 HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 1.2.3.4\r\nx-forwarded-for: 127.0.0.1\r\n\r\n",
        ),
    ];
    for (fe, req, want) in cases {
        o.clear();
        let mut c = Client::connect(ports[fe]);
        assert_eq!(c.exchange(req).status(), 200);
        let seen = o.wait_requests(1, T);
        assert_bytes(&seen[0].raw, want, &format!("frontend f{fe}"));
    }
}

// ------------------------------------------------ internal responses --

#[test]
fn monitor_uri_answers_exact_bytes_without_contacting_the_backend() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "", "  monitor-uri /m\n", "");
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /m HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n",
        "monitor-uri",
    );
    // Still keep-alive; an HTTP/1.0 client gets connection: close.
    let mut c2 = Client::connect(port);
    c2.send(b"GET /m HTTP/1.0\r\n\r\n");
    let got = c2.read_to_close();
    assert_bytes(
        &got,
        b"HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n",
        "monitor-uri to HTTP/1.0",
    );
    let r = c.exchange(b"GET /m HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 200);
    assert_eq!(o.accepted(), 0, "backend contacted");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        http_logs(&p.stdout()).is_empty(),
        "monitor requests are not logged: {}",
        p.stdout()
    );
}

#[test]
fn http_request_deny_sends_403_and_keeps_the_connection() {
    let o = Origin::ok();
    // `fdeny` denies every request, `f` forwards them.
    let (p, ports) = start_fronts(
        &[("fdeny", "  http-request deny\n", "b"), ("f", "", "b")],
        &format!("backend b\n  server s 127.0.0.1:{}\n", o.port()),
    );
    let mut c = Client::connect(ports[0]);
    let req: &[u8] = b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n";
    let forbidden: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";
    let r = c.exchange(req);
    assert_bytes(&r.raw, forbidden, "deny");
    // The connection is kept: the next request on it is denied the same way.
    let r = c.exchange(req);
    assert_bytes(&r.raw, forbidden, "deny on the kept connection");
    let l = masked_logs(&p, 2);
    assert_eq!(
        l,
        ["fdeny fdeny/<NOSRV> T/-1/-1/-1/T 403 192 - - PR-- 1/1/0/0/0 0/0 \"GET /deny HTTP/1.1\"";
            2]
    );
    assert_eq!(o.accepted(), 0, "backend contacted for a denied request");
    // The same proxy forwards through the frontend without the rule.
    let mut c = Client::connect(ports[1]);
    let r = c.exchange(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.body, b"ok");
    assert_eq!(o.wait_requests(1, T).len(), 1);
    assert_eq!(o.requests()[0].target(), "/ok");
}

#[test]
fn http_request_return_sends_exact_bytes() {
    let o = Origin::ok();
    let (p, port) = start(
        o.port(),
        "",
        "  http-request return status 200 content-type text/plain string hello\n",
        "",
    );
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /ret HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello",
        "return",
    );
    logs(&p, 1);
    c.send(b"HEAD /ret HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.head_response();
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\n",
        "return to HEAD",
    );
    logs(&p, 2);
    let mut c2 = Client::connect(port);
    c2.send(b"GET /ret HTTP/1.0\r\n\r\n");
    assert_bytes(
        &c2.read_to_close(),
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nhello",
        "return to HTTP/1.0",
    );
    assert_eq!(o.accepted(), 0);
    // %B counts the internal (HTX) message, not the bytes on the wire: 20 +
    // version, status and reason lengths, + name and value lengths of each
    // header, + 1 (end of headers), + body bytes: 76 for 69 bytes sent, 71
    // for HEAD; the `connection: close` added for HTTP/1.0 is not counted.
    // The second connection is logged while the first is open: 2/2.
    let l = masked_logs(&p, 3);
    assert_eq!(
        l,
        [
            "f f/<NOSRV> T/-1/-1/-1/T 200 76 - - LR-- 1/1/0/0/0 0/0 \"GET /ret HTTP/1.1\"",
            "f f/<NOSRV> T/-1/-1/-1/T 200 71 - - LR-- 1/1/0/0/0 0/0 \"HEAD /ret HTTP/1.1\"",
            "f f/<NOSRV> T/-1/-1/-1/T 200 76 - - LR-- 2/2/0/0/0 0/0 \"GET /ret HTTP/1.0\"",
        ]
    );
}

#[test]
fn http_request_redirect_location_301_and_prefix_send_exact_bytes() {
    let o = Origin::ok();
    // One proxy per rule, so that each one's log lines count only its own
    // connections.
    let (p, port) = start(
        o.port(),
        "",
        "  http-request redirect location /x code 301\n",
        "",
    );
    let loc: &[u8] = b"HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /x\r\n\r\n";
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /loc HTTP/1.1\r\nHost: x\r\n\r\n");
    // No cache-control with code 301.
    assert_bytes(&r.raw, loc, "redirect location");
    logs(&p, 1);
    // The connection is kept after the redirect.
    let r = c.exchange(b"GET /loc HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, loc, "redirect location on the kept connection");
    logs(&p, 2);
    let mut c2 = Client::connect(port);
    c2.send(b"GET /loc HTTP/1.0\r\n\r\n");
    assert_bytes(
        &c2.read_to_close(),
        b"HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /x\r\nconnection: close\r\n\r\n",
        "redirect to HTTP/1.0",
    );
    let l = masked_logs(&p, 3);
    assert_eq!(
        l,
        [
            "f f/<NOSRV> T/-1/-1/-1/T 301 74 - - LR-- 1/1/0/0/0 0/0 \"GET /loc HTTP/1.1\"",
            "f f/<NOSRV> T/-1/-1/-1/T 301 74 - - LR-- 1/1/0/0/0 0/0 \"GET /loc HTTP/1.1\"",
            "f f/<NOSRV> T/-1/-1/-1/T 301 74 - - LR-- 2/2/0/0/0 0/0 \"GET /loc HTTP/1.0\"",
        ]
    );

    let (p, port) = start(o.port(), "", "  http-request redirect prefix /p\n", "");
    // With the default 302: cache-control after location.
    let pre: &[u8] = b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /p/pre/a?b=1\r\ncache-control: no-cache\r\n\r\n";
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /pre/a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, pre, "redirect prefix");
    logs(&p, 1);
    let r = c.exchange(b"GET /pre/a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(&r.raw, pre, "redirect prefix on the kept connection");
    assert_eq!(o.accepted(), 0);
    let l = masked_logs(&p, 2);
    assert_eq!(
        l,
        ["f f/<NOSRV> T/-1/-1/-1/T 302 93 - - LR-- 1/1/0/0/0 0/0 \"GET /pre/a?b=1 HTTP/1.1\""; 2]
    );
}

// -------------------------------------------------------------- rules --

#[test]
fn http_request_header_rules_set_add_and_delete() {
    let o = Origin::ok();
    let (_p, port) = start(
        o.port(),
        "",
        "  http-request set-header X-Set s1\n  http-request add-header X-Add a1\n  \
         http-request del-header X-Del\n",
        "",
    );
    let mut c = Client::connect(port);
    c.exchange(b"GET /h HTTP/1.1\r\nHost: x\r\nX-Set: old\r\nX-Del: gone\r\nX-Add: a0\r\nX-Del: again\r\nAccept: */*\r\n\r\n");
    let seen = o.wait_requests(1, T);
    assert_bytes(
        &seen[0].raw,
        b"GET /h HTTP/1.1\r\nhost: x\r\nx-add: a0\r\naccept: */*\r\nx-set: s1\r\nx-add: a1\r\n\r\n",
        "server",
    );
}

#[test]
fn http_request_set_path_query_uri_and_method() {
    let o = Origin::ok();
    // One frontend per rule; each frontend's requests go on one connection.
    type Case = (&'static [u8], &'static [u8]);
    let fronts: [(&str, &str, &[Case]); 4] = [
        (
            "fsp",
            "  http-request set-path /new\n",
            &[(
                b"GET /sp/old?k=v HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /new?k=v HTTP/1.1\r\nhost: x\r\n\r\n",
            )],
        ),
        (
            "fsq",
            "  http-request set-query a=1&b=2\n",
            &[
                (
                    b"GET /sq?k=v HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /sq?a=1&b=2 HTTP/1.1\r\nhost: x\r\n\r\n",
                ),
                (
                    b"GET /sq HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /sq?a=1&b=2 HTTP/1.1\r\nhost: x\r\n\r\n",
                ),
            ],
        ),
        (
            "fsu",
            "  http-request set-uri /u?x=y\n",
            &[(
                b"GET /su/zz?k=v HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /u?x=y HTTP/1.1\r\nhost: x\r\n\r\n",
            )],
        ),
        (
            "fsm",
            "  http-request set-method PUT\n",
            &[(
                b"GET /sm HTTP/1.1\r\nHost: x\r\n\r\n",
                b"PUT /sm HTTP/1.1\r\nhost: x\r\n\r\n",
            )],
        ),
    ];
    let (_p, ports) = start_fronts(
        &fronts.map(|(name, rule, _)| (name, rule, "b")),
        &format!("backend b\n  server s 127.0.0.1:{}\n", o.port()),
    );
    for ((name, _, cases), port) in fronts.iter().zip(ports) {
        let mut c = Client::connect(port);
        for (req, want) in cases.iter() {
            o.clear();
            let what = format!("{name}: {}", show(req));
            assert_eq!(c.exchange(req).status(), 200, "{what}");
            let seen = o.wait_requests(1, T);
            assert_bytes(&seen[0].raw, want, &what);
        }
    }
}

#[test]
fn http_response_set_and_del_header() {
    let o = Origin::start(|_| {
        Reply::raw(b"HTTP/1.1 200 OK\r\nX-Srv: 1\r\nX-Drop: y\r\nX-Resp: old\r\nContent-Length: 2\r\n\r\nok")
    });
    let (_p, port) = start(
        o.port(),
        "",
        "  http-response set-header X-Resp r1\n  http-response del-header X-Drop\n",
        "",
    );
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_bytes(
        &r.raw,
        b"HTTP/1.1 200 OK\r\nx-srv: 1\r\ncontent-length: 2\r\nx-resp: r1\r\n\r\nok",
        "client",
    );
}

// -------------------------------------------------------------- logs --

#[test]
fn httplog_writes_one_line_per_keep_alive_request() {
    let o = Origin::start(|_| Reply::raw(R));
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    for i in 1..=3 {
        c.exchange(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    let l = masked_logs(&p, 3);
    assert_eq!(
        l,
        (1..=3)
            .map(|i| format!("f b/s T/T/T/T/T 200 55 - - ---- 1/1/0/0/0 0/0 \"GET /{i} HTTP/1.1\""))
            .collect::<Vec<_>>()
    );
    let raw = logs(&p, 3);
    assert!(raw.iter().all(|l| l.cport == c.port()), "same client port");
    assert!(raw[0].raw.starts_with("127.0.0.1:"), "{}", raw[0].raw);
}

#[test]
fn httplog_empty_connection_logs_badreq_with_cr() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.s.shutdown(Shutdown::Write).unwrap();
    // HAProxy writes its raw 400 on the FIN.
    let (_got, closed) = c.wait_close(T);
    assert!(closed);
    let l = masked_logs(&p, 1);
    assert_eq!(
        l,
        ["f f/<NOSRV> -1/-1/-1/-1/T 400 0 - - CR-- 1/1/0/0/0 0/0 \"<BADREQ>\""]
    );
}

#[test]
fn option_dontlognull_skips_the_empty_connection() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "  option dontlognull\n", "", "");
    let mut c = Client::connect(port);
    c.s.shutdown(Shutdown::Write).unwrap();
    let (_, closed) = c.wait_close(T);
    assert!(closed);
    // A real request afterwards is logged, and it is the only line.
    let mut c = Client::connect(port);
    c.exchange(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    let l = masked_logs(&p, 1);
    assert_eq!(l.len(), 1, "{l:?}");
    assert!(l[0].ends_with("\"GET /x HTTP/1.1\""), "{l:?}");
}

#[test]
fn httplog_invalid_request_logs_badreq_with_pr() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"GET / HTTP/1.1\r\nBad Header: 1\r\n\r\n");
    let (got, closed) = c.wait_close(T);
    assert!(closed);
    assert!(
        got.starts_with(b"HTTP/1.1 400 Bad request\r\n"),
        "{}",
        show(&got)
    );
    let l = masked_logs(&p, 1);
    assert_eq!(
        l,
        ["f f/<NOSRV> -1/-1/-1/-1/T 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""]
    );
    assert_eq!(o.accepted(), 0);
}

#[test]
fn httplog_server_close_without_response_logs_sh_502() {
    let o = Origin::start(|_| Reply::close_now());
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 502);
    let l = masked_logs(&p, 1);
    assert_eq!(
        l,
        ["f b/s T/T/T/-1/T 502 209 - - SH-- 1/1/0/0/0 0/0 \"GET /close HTTP/1.1\""]
    );
}

#[test]
fn httplog_server_abort_mid_body_logs_sd() {
    let o =
        Origin::start(|_| Reply::raw(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").close());
    let (p, port) = start(o.port(), "", "", "");
    let mut c = Client::connect(port);
    c.send(b"GET /mid HTTP/1.1\r\nHost: x\r\n\r\n");
    let got = c.read_to_close();
    assert_bytes(
        &got,
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc",
        "partial",
    );
    let l = masked_logs(&p, 1);
    assert_eq!(
        l,
        ["f b/s T/T/T/T/T 200 53 - - SD-- 1/1/0/0/0 0/0 \"GET /mid HTTP/1.1\""]
    );
}

#[test]
fn httplog_server_timeout_logs_sh_504() {
    let o = Origin::start(|_| Reply::hang());
    let (p, port) = start(o.port(), "", "", "  timeout server 300ms\n");
    let mut c = Client::connect(port);
    let t0 = Instant::now();
    let r = c.exchange(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 504);
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
    let logs = logs(&p, 1);
    assert_eq!(
        logs[0].masked(),
        "f b/s T/T/T/-1/T 504 198 - - sH-- 1/1/0/0/0 0/0 \"GET /slow HTTP/1.1\""
    );
    let ta = logs[0].timers[4];
    assert!((250..2300).contains(&ta), "Ta {ta}: {}", logs[0].raw);
}

#[test]
fn httplog_no_server_logs_sc_503() {
    let o = Origin::ok();
    // The only server is disabled.
    let port2 = free_port();
    let cfg = http_config(
        "",
        &format!(
            "frontend f\n  bind 127.0.0.1:{port2}\n  default_backend b\n\n\
             backend b\n  server s 127.0.0.1:{} disabled\n",
            o.port()
        ),
    );
    let p = Proxy::start_under_test(&cfg, &[port2]);
    let mut c = Client::connect(port2);
    let r = c.exchange(b"GET /none HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 503);
    let l = masked_logs(&p, 1);
    assert_eq!(
        l,
        ["f b/<NOSRV> T/-1/-1/-1/T 503 217 - - SC-- 1/1/0/0/0 0/0 \"GET /none HTTP/1.1\""]
    );
    assert_eq!(o.accepted(), 0);
}

#[test]
fn capture_request_header_host_appears_before_the_request() {
    let o = Origin::ok();
    let (p, port) = start(o.port(), "", "  capture request header Host len 20\n", "");
    let mut c = Client::connect(port);
    c.exchange(b"GET /cap HTTP/1.1\r\nHost: x\r\n\r\n");
    c.exchange(b"GET /cap2 HTTP/1.1\r\nHost: a-very-long-host-name-here.example\r\n\r\n");
    let l = masked_logs(&p, 2);
    assert_eq!(
        l,
        [
            "f b/s T/T/T/T/T 200 51 - - ---- 1/1/0/0/0 0/0 {x} \"GET /cap HTTP/1.1\"",
            "f b/s T/T/T/T/T 200 51 - - ---- 1/1/0/0/0 0/0 {a-very-long-host-nam} \"GET /cap2 HTTP/1.1\"",
        ]
    );
}

// ------------------------------------------------------------- stats --

#[test]
fn show_stat_counts_http_requests_and_status_classes() {
    let o = Origin::start(|s| {
        if s.target() == "/404" {
            Reply::new(404, "Not Found")
        } else {
            Reply::ok(b"ok")
        }
    });
    let dir = TempDir::new("httpstat");
    let sock = dir.path().join("s");
    let (port, pnone) = (free_port(), free_port());
    let cfg = format!(
        "global\n  maxconn 1000\n  log stdout format raw local0\n  stats socket {} level admin\n\n\
         defaults\n  mode http\n  log global\n  option httplog\n  timeout client 5s\n  \
         timeout server 5s\n  timeout connect 2s\n\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\n\
         frontend fnone\n  bind 127.0.0.1:{pnone}\n  default_backend bnone\n\n\
         backend b\n  server s 127.0.0.1:{}\n\n\
         backend bnone\n  server s 127.0.0.1:{} disabled\n",
        sock.display(),
        o.port(),
        o.port()
    );
    let p = Proxy::start_under_test(&cfg, &[port, pnone]);
    // `fnone` leads to `bnone`, whose only server is disabled.
    for (port, path, status) in [
        (port, "/ok", 200),
        (port, "/404", 404),
        (pnone, "/none", 503),
    ] {
        let mut c = Client::connect(port);
        let r = c.exchange(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(r.status(), status);
    }
    logs(&p, 3);
    let csv = common::cli(&sock, "show stat");
    let mut lines = csv.lines();
    let hdr: Vec<&str> = lines
        .next()
        .expect("csv header")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let col = |name: &str| {
        hdr.iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let row = |px: &str, sv: &str| -> Vec<String> {
        csv.lines()
            .map(|l| l.split(',').map(String::from).collect::<Vec<_>>())
            .find(|f| f.len() > 2 && f[0] == px && f[1] == sv)
            .unwrap_or_else(|| panic!("no row {px}/{sv}:\n{csv}"))
    };
    let get = |r: &Vec<String>, name: &str| r[col(name)].clone();
    for (fe, counts) in [
        ("f", ["2", "1", "1", "0", "2", "2"]),
        ("fnone", ["1", "0", "0", "1", "1", "1"]),
    ] {
        let r = row(fe, "FRONTEND");
        let names = [
            "req_tot", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx", "stot", "conn_tot",
        ];
        for (k, v) in names.into_iter().zip(counts) {
            assert_eq!(get(&r, k), v, "{fe}/FRONTEND {k}");
        }
    }
    for (px, sv) in [("b", "BACKEND"), ("b", "s")] {
        let r = row(px, sv);
        for (k, v) in [
            ("req_tot", "2"),
            ("hrsp_2xx", "1"),
            ("hrsp_4xx", "1"),
            ("hrsp_5xx", "0"),
            ("stot", "2"),
            ("lbtot", "2"),
        ] {
            assert_eq!(get(&r, k), v, "{px}/{sv} {k}");
        }
    }
    let bn = row("bnone", "BACKEND");
    for (k, v) in [
        ("req_tot", "1"),
        ("hrsp_5xx", "1"),
        ("econ", "1"),
        ("stot", "1"),
    ] {
        assert_eq!(get(&bn, k), v, "bnone {k}");
    }
    let bns = row("bnone", "s");
    assert_eq!(get(&bns, "stot"), "0");
}
