//! Request smuggling: ambiguous or malformed request framing sent to the
//! proxy, and what comes of it. Each case is written in one go, followed
//! in the same write by a pipelined `GET /follow`, on its own client
//! connection (and, with `http-reuse never`, its own server connections).
//! The outcome is either
//! - `Reject400`: the client gets HAProxy's raw 400 and the connection is
//!   closed; nothing reaches the server (`Reject422`: the same with the
//!   raw 422 HAProxy 2.6 sends for a Transfer-Encoding it cannot process);
//!   or
//! - `Forward`: the responses the client got in order (`200 /path` for the
//!   origin's answer to `/path`, a bare status for the proxy's own, `close`
//!   when the connection was closed) and each request the server parsed,
//!   header names lower-cased and values trimmed (haproxy-rs keeps the
//!   client's spacing), with its body bytes exactly as forwarded, plus any
//!   bytes the server got that did not make a whole request (`rest: ...`).
//!
//! HAProxy 2.6 is the specification: every expected outcome below was
//! recorded by running this table against it. When a case differs, the
//! test prints the observed outcome as a table entry.
//!
//! Set `HRS_TEST_BIN=/usr/sbin/haproxy` to run these tests against the
//! reference HAProxy 2.6 instead of haproxy-rs.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Proxy, free_port};
use http_common::{Client, Origin, Reply, fe_be, head_end, http_config};
use std::time::Duration;

// ---------------------------------------------------------------- harness --

/// What a case must give.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    /// Raw 400 to the client, connection closed, nothing at the server.
    Reject400,
    /// Raw 422 to the client (HAProxy 2.6's answer to a Transfer-Encoding
    /// it cannot process), connection closed, nothing at the server.
    Reject422,
    /// The client's responses in order and the server's requests.
    Forward {
        client: &'static [&'static str],
        server: &'static [&'static str],
    },
}

struct Case {
    name: &'static str,
    req: &'static [u8],
    expect: Expect,
}

/// An observed outcome (owned form of [`Expect::Forward`]).
#[derive(Debug, PartialEq)]
struct Outcome {
    client: Vec<String>,
    server: Vec<String>,
}

impl Outcome {
    fn is_reject(&self, status: &str) -> bool {
        self.client == [status, "close"] && self.server.is_empty()
    }

    fn matches(&self, e: &Expect) -> bool {
        match e {
            Expect::Reject400 => self.is_reject("400"),
            Expect::Reject422 => self.is_reject("422"),
            Expect::Forward { client, server } => {
                !self.is_reject("400")
                    && !self.is_reject("422")
                    && self.client == *client
                    && self.server == *server
            }
        }
    }

    /// The table entry for this outcome, as Rust source.
    fn as_source(&self) -> String {
        for st in ["400", "422"] {
            if self.is_reject(st) {
                return format!("Reject{st}");
            }
        }
        let list = |v: &[String]| {
            v.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "Forward {{\n            client: &[{}],\n            server: &[{}],\n        }}",
            list(&self.client),
            list(&self.server)
        )
    }
}

const FOLLOW: &[u8] = b"GET /follow HTTP/1.1\r\nHost: x\r\n\r\n";

/// The raw 422 of HAProxy's HTTP/1 layer (then close, although it has no
/// `Connection: close`).
const RAW_422: &[u8] = b"HTTP/1.1 422 Unprocessable Content\r\nContent-length: 116\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n";

/// The raw 400 of HAProxy's HTTP/1 layer.
const BUILTIN_400: &[u8] = b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
/// The stream's 400 (HAProxy's http_reply_and_close: lower-case names),
/// as opposed to the HTTP/1 layer's raw one above.
const STREAM_400: &[u8] = b"HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";

/// One request as the server got it: start line, `name: value` headers
/// (name lower-cased, value trimmed of spaces and tabs), then the body
/// bytes, all escaped, separated by ` | `.
fn normalize(raw: &[u8]) -> String {
    let hl = head_end(raw).unwrap_or(raw.len());
    let head = &raw[..hl.saturating_sub(4)];
    let mut parts: Vec<String> = Vec::new();
    for (i, line) in head.split(|&c| c == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if i == 0 {
            parts.push(line.escape_ascii().to_string());
            continue;
        }
        match line.iter().position(|&c| c == b':') {
            Some(colon) => {
                let value = line[colon + 1..].trim_ascii();
                parts.push(format!(
                    "{}: {}",
                    line[..colon].to_ascii_lowercase().escape_ascii(),
                    value.escape_ascii()
                ));
            }
            None => parts.push(line.escape_ascii().to_string()),
        }
    }
    parts.push(raw[hl..].escape_ascii().to_string());
    parts.join(" | ")
}

/// Sends `req` + [`FOLLOW`] in one write and records the outcome.
fn run_case(o: &Origin, port: u16, req: &[u8]) -> Outcome {
    o.clear();
    let mut c = Client::connect(port);
    let mut bytes = req.to_vec();
    bytes.extend_from_slice(FOLLOW);
    c.send(&bytes);
    let mut client = Vec::new();
    let mut wait = Duration::from_secs(3);
    loop {
        match c.try_response_within(false, wait) {
            Ok(r) => {
                let s = if r.raw == BUILTIN_400 {
                    "400".to_string()
                } else if r.raw == STREAM_400 {
                    "400 stream".to_string()
                } else if r.raw == RAW_422 {
                    "422".to_string()
                } else if r.status() == 200 && r.body.starts_with(b"/") {
                    format!("200 {}", String::from_utf8_lossy(&r.body))
                } else {
                    format!("{} {}", r.status(), r.raw.escape_ascii())
                };
                let done = s == "200 /follow";
                client.push(s);
                if done {
                    break;
                }
            }
            Err(f) => {
                if !f.partial.is_empty() {
                    client.push(format!("partial {}", f.partial.escape_ascii()));
                }
                if f.closed {
                    client.push("close".into());
                }
                break;
            }
        }
        wait = Duration::from_millis(400);
    }
    std::thread::sleep(Duration::from_millis(20));
    let seen = o.requests();
    let mut server: Vec<String> = seen.iter().map(|s| normalize(&s.raw)).collect();
    for (id, bytes) in o.conn_bytes().iter().enumerate() {
        let used: usize = seen
            .iter()
            .filter(|s| s.conn == id)
            .map(|s| s.raw.len())
            .sum();
        if bytes.len() > used {
            server.push(format!("rest: {}", bytes[used..].escape_ascii()));
        }
    }
    Outcome { client, server }
}

/// Runs every case through one proxy; fails listing each case whose
/// outcome differs, with the observed outcome as a table entry.
fn run_table(cases: &[Case]) {
    let o = Origin::start(|s| Reply::ok(s.target().as_bytes()));
    let port = free_port();
    let cfg = http_config("", &fe_be(port, o.port(), "", "  http-reuse never\n"));
    let _p = Proxy::start_under_test(&cfg, &[port]);
    let mut bad = Vec::new();
    for case in cases {
        let got = run_case(&o, port, case.req);
        if !got.matches(&case.expect) {
            bad.push(format!(
                "    Case {{\n        name: {:?},\n        req: b\"{}\",\n        expect: {},\n    }},\n    // expected: {:?}",
                case.name,
                case.req.escape_ascii(),
                got.as_source(),
                case.expect
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} cases differ; observed:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}

use Expect::{Forward, Reject400, Reject422};

// ------------------------------------------------------------------ cases --

/// Content-Length and Transfer-Encoding together (CL.TE, TE.CL).
#[test]
fn smuggling_cl_te_combinations() {
    run_table(&[
        Case {
            name: "cl_te_classic_cl_covers_zero_chunk_plus_g",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
            expect: Forward {
                client: &["200 /a", "close"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 0\\r\\n\\r\\n"],
            },
        },
        Case {
            name: "te_cl_classic_cl_shorter_than_chunks",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "close"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 8\\r\\nSMUGGLED\\r\\n0\\r\\n\\r\\n"],
            },
        },
        Case {
            name: "te_before_cl",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "close"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n"],
            },
        },
        Case {
            name: "cl_te_smuggled_prefix",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nX-Ignore: y",
            expect: Forward {
                client: &["200 /a", "close"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 0\\r\\n\\r\\n"],
            },
        },
        Case {
            name: "te_chunked_http10",
            req: b"POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "close"],
                server: &["POST /a HTTP/1.0 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n"],
            },
        },
        Case {
            name: "te_chunked_on_get",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["GET /a HTTP/1.1 | host: x | transfer-encoding: chunked | 3\\r\\nabc\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "cl_zero_with_te",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "close"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 3\\r\\nabc\\r\\n0\\r\\n\\r\\n"],
            },
        },
    ]);
}

/// Transfer-Encoding obfuscations (TE.TE).
#[test]
fn smuggling_transfer_encoding_obfuscations() {
    run_table(&[
        Case {
            name: "te_space_before_colon",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding : chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "te_xchunked",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: xchunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "te_chunked_identity",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "te_identity_chunked",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Reject422,
        },
        Case {
            name: "te_gzip_chunked",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Reject422,
        },
        Case {
            name: "te_chunked_chunked",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "te_tab_before_value",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "te_no_space_trailing_space",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "te_upper_case_value",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: CHUNKED | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "te_two_headers_chunked",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "te_chunked_then_identity_header",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "te_empty_value_with_cl",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\nContent-Length: 5\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "te_quoted_chunked",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: \"chunked\"\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "te_obs_fold_value",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "te_leading_comma",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            expect: Reject422,
        },
        Case {
            name: "te_vertical_tab_before_value",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding:\x0bchunked\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "te_underscore_name_is_another_header",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer_Encoding: chunked\r\n\r\nhello",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | content-length: 5 | transfer_encoding: chunked | hello", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
    ]);
}

/// Content-Length variants.
#[test]
fn smuggling_content_length_variants() {
    run_table(&[
        Case {
            name: "cl_duplicate_same",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | content-length: 5 | hello", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "cl_duplicate_differing",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            expect: Reject400,
        },
        Case {
            name: "cl_list_same",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | content-length: 5 | hello", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "cl_list_differing",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!",
            expect: Reject400,
        },
        Case {
            name: "cl_plus_sign",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "cl_negative",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "cl_empty",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "cl_leading_zeros",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 005\r\n\r\nhello",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | content-length: 005 | hello", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "cl_hex",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "cl_two_numbers_space",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "cl_trailing_letter",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "cl_overflow",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "cl_space_before_colon",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "cl_on_get_with_body",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["GET /a HTTP/1.1 | host: x | content-length: 5 | hello", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "cl_shorter_than_data_pipelines_the_rest",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhello",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | content-length: 2 | he", "lloGET /follow HTTP/1.1 | host: x | "],
            },
        },
    ]);
}

/// Line ends, control bytes, odd header names, obs-fold, chunk syntax and
/// pipelined tails.
#[test]
fn smuggling_syntax_and_chunks() {
    run_table(&[
        Case {
            name: "bare_lf_line_ends",
            req: b"GET /a HTTP/1.1\nHost: x\n\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["GET /a HTTP/1.1 | host: x | ", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "bare_lf_mixed_with_cl",
            req: b"POST /a HTTP/1.1\r\nHost: x\nContent-Length: 5\r\n\r\nhello",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | content-length: 5 | hello", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "bare_cr_in_value",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "nul_in_value",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["GET /a HTTP/1.1 | host: x | x-a: a\\x00b | ", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "nul_in_name",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nX-\x00A: b\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "control_byte_in_value",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["GET /a HTTP/1.1 | host: x | x-a: a\\x01b | ", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "del_and_high_bytes_in_value",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\xffc\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["GET /a HTTP/1.1 | host: x | x-a: a\\x7fb\\xffc | ", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "space_in_header_name",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "tab_before_colon",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length\t: 5\r\n\r\nhello",
            expect: Reject400,
        },
        Case {
            name: "empty_header_name",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "obs_fold_in_value",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  b\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["GET /a HTTP/1.1 | host: x | x-a: a    b | ", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "fold_on_first_header",
            req: b"GET /a HTTP/1.1\r\n Host: x\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "chunk_size_overflow",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "chunk_size_negative",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "chunk_size_0x_prefix",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "chunk_size_trailing_space",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "chunk_extension_quoted",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b;c\"\r\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "chunk_extension_bare_lf",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x\nhello\r\n0\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "chunk_data_longer_than_size",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "chunk_lf_only_line_ends",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "chunk_trailer_with_content_length",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 10\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\ncontent-length: 10\\r\\n\\r\\n", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "pipelined_after_cl_body",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /b", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | content-length: 5 | hello", "GET /b HTTP/1.1 | host: x | ", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "pipelined_after_chunked_body",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /b", "200 /follow"],
                server: &["POST /a HTTP/1.1 | host: x | transfer-encoding: chunked | 5\\r\\nhello\\r\\n0\\r\\n\\r\\n", "GET /b HTTP/1.1 | host: x | ", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
        Case {
            name: "pipelined_garbage_after_body",
            req: b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGARBAGE\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "400", "close"],
                server: &["POST /a HTTP/1.1 | host: x | content-length: 5 | hello"],
            },
        },
        Case {
            name: "absolute_uri_host_mismatch",
            req: b"GET http://example.com/a HTTP/1.1\r\nHost: other\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "two_host_headers",
            req: b"GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            expect: Reject400,
        },
        Case {
            name: "request_line_tab_separator",
            req: b"GET\t/a HTTP/1.1\r\nHost: x\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &["GET /a HTTP/1.1 | host: x | ", "GET /follow HTTP/1.1 | host: x | "],
            },
        },
    ]);
}

/// The `PRI` method, reserved for the HTTP/2 preface: HAProxy 2.6 refuses
/// it in any case and with any version once the head is parsed, with the
/// stream's 400 (not the HTTP/1 layer's raw one), so that it never reaches
/// a server as an HTTP/1 request. (The complete 24-byte preface alone is an
/// HTTP/2 upgrade in 2.6, not tested here: the pipelined `GET /follow`
/// makes it an HTTP/1 head.)
#[test]
fn smuggling_pri_method() {
    const REFUSED: Expect = Forward {
        client: &["400 stream", "close"],
        server: &[],
    };
    run_table(&[
        Case {
            name: "h2_preface_start",
            req: b"PRI * HTTP/2.0\r\n\r\n",
            expect: REFUSED,
        },
        Case {
            name: "pri_http11",
            req: b"PRI * HTTP/1.1\r\nHost: x\r\n\r\n",
            expect: REFUSED,
        },
        Case {
            name: "pri_lower_case_with_path",
            req: b"pri /a HTTP/1.1\r\nHost: x\r\n\r\n",
            expect: REFUSED,
        },
        Case {
            name: "prism_is_another_method",
            req: b"PRISM /a HTTP/1.1\r\nHost: x\r\n\r\n",
            expect: Forward {
                client: &["200 /a", "200 /follow"],
                server: &[
                    "PRISM /a HTTP/1.1 | host: x | ",
                    "GET /follow HTTP/1.1 | host: x | ",
                ],
            },
        },
    ]);
}
