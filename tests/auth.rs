//! Userlists and basic authentication end to end: `http_auth` and
//! `http_auth_group` ACLs deciding `http-request deny` / `return`, the
//! `http_auth_*` fetches in `lf-string` replies, password hashes
//! (SHA-512, SHA-256 and MD5 crypt, plain), and `-c` messages about
//! userlists.
//!
//! Every expectation holds on HAProxy 2.6.12 too: set
//! `HRS_TEST_BIN=/usr/sbin/haproxy` to run them against it.

mod common;
#[path = "common/http.rs"]
mod http_common;

use common::{Proxy, TempDir, free_port, run_program, test_bin};
use http_common::{Client, http_config};

/// The userlist comes after the frontend that names it: references are
/// resolved once the whole file is read.
fn auth_config(port: u16) -> String {
    http_config(
        "",
        &format!(
            "frontend fe\n  bind 127.0.0.1:{port}\n\
  acl ok http_auth(users)\n\
  acl adm http_auth_group(users) admins\n\
  acl staff http_auth_group(users) staff nobody\n\
  http-request deny unless ok\n\
  http-request return status 200 content-type text/plain lf-string \"admin %[http_auth_group(users)]\" if adm\n\
  http-request return status 200 content-type text/plain lf-string \"staff %[http_auth_user] %[http_auth_type]\" if staff\n\
  http-request return status 200 content-type text/plain lf-string \"user %[http_auth_user] %[http_auth_pass]\"\n\n\
userlist users\n\
  group admins users tiger\n\
  group staff users lion\n\
  group nobody\n\
  user tiger password $6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1\n\
  user lion password $5$lionsalt$bDM7AOiHBO13E1UQ2e46Md0wNTEPUKG0FC59qVxBHl3\n\
  user cat password $1$catsalt$1Akjtx4bryEgSe4nkTlMw.\n\
  user scott insecure-password elgato groups staff\n\
  user ann insecure-password\n"
        ),
    )
}

#[test]
fn userlist_credentials_decide_deny_and_return() {
    let port = free_port();
    let _p = Proxy::start_under_test(&auth_config(port), &[port]);
    // (Authorization value or none, status, body) as 2.6 answers.
    let cases: &[(Option<&str>, u16, &str)] = &[
        (None, 403, ""),
        // tiger:secret (SHA-512-crypt), tiger:bad
        (Some("Basic dGlnZXI6c2VjcmV0"), 200, "admin tiger"),
        (Some("Basic dGlnZXI6YmFk"), 403, ""),
        // lion:secret (SHA-256-crypt), cat:secret (MD5-crypt)
        (Some("Basic bGlvbjpzZWNyZXQ="), 200, "staff lion Basic"),
        (Some("Basic Y2F0OnNlY3JldA=="), 200, "user cat secret"),
        (Some("Basic Y2F0OnNlY3JldDI="), 403, ""),
        // scott:elgato, the scheme in any case, a second value ignored
        (Some("Basic c2NvdHQ6ZWxnYXRv"), 200, "staff scott Basic"),
        (Some("basic  c2NvdHQ6ZWxnYXRv"), 200, "staff scott Basic"),
        (
            Some("Basic c2NvdHQ6ZWxnYXRv,Basic x"),
            200,
            "staff scott Basic",
        ),
        // ann: an empty insecure password
        (Some("Basic YW5uOg=="), 200, "user ann "),
        (Some("Basic YW5uOng="), 403, ""),
        // unknown user, bad base64, other schemes
        (Some("Basic bm9ib2R5OnNlY3JldA=="), 403, ""),
        (Some("Basic c2NvdHQ6ZWxnYXRv=="), 403, ""),
        (Some("Bearer abc"), 403, ""),
        (Some("Digest username=scott"), 403, ""),
    ];
    for (auth, status, body) in cases {
        let hdr = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        let req = format!("GET / HTTP/1.1\r\nHost: x\r\n{hdr}\r\n");
        let mut c = Client::connect(port);
        let r = c.exchange(req.as_bytes());
        assert_eq!(r.status(), *status, "{auth:?}");
        if *status == 200 {
            assert_eq!(String::from_utf8_lossy(&r.body), *body, "{auth:?}");
        }
    }
}

/// Runs `-c` on `cfg`; the exit code and the `[ALERT]`/`[WARNING]` lines
/// without the pid prefix, the file named `p.cfg`.
fn check(cfg: &str) -> (i32, Vec<String>) {
    let d = TempDir::new("auth-check");
    let f = d.write("p.cfg", cfg);
    let (code, _, err) = run_program(&test_bin(), &["-c", "-f", f.to_str().unwrap_or("")], &[]);
    let err = err.replace(&format!("{}/", d.path().display()), "");
    let lines = err
        .split("\n[")
        .filter(|l| l.contains("] ") && (l.contains("ALERT") || l.contains("WARNING")))
        .filter_map(|l| {
            l.split_once(" : config : ")
                .map(|x| x.1.trim_end().to_string())
        })
        .filter(|l| !l.starts_with("Error(s) found") && !l.starts_with("Fatal errors"))
        .collect();
    (code, lines)
}

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

#[test]
fn userlist_section_messages_are_26s() {
    let (code, m) = check(
        "userlist L1\n  group G1 users tiger\n  group G1\n  user tiger insecure-password a\n\
  user tiger insecure-password b\n  user\n  group G5 foo bar\n  user lee insecure-password a foo\n\
  foo bar\nuserlist L1\nuserlist\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        m,
        [
            "parsing [p.cfg:3]: ignoring duplicated group 'G1' in userlist 'L1'.",
            "parsing [p.cfg:5]: ignoring duplicated user 'tiger' in userlist 'L1'.",
            "parsing [p.cfg:6]: 'user' expects <name> as arguments.",
            "parsing [p.cfg:7]: 'group' only supports 'users' option.",
            "parsing [p.cfg:8]: 'user' only supports 'password', 'insecure-password' and 'groups' options.",
            "parsing [p.cfg:9]: unknown keyword 'foo' in 'users' section",
            "parsing [p.cfg:10]: ignoring duplicated userlist 'L1'.",
            "parsing [p.cfg:11]: 'userlist' expects <name> as arguments.",
        ]
    );
}

#[test]
fn unknown_names_and_lists_are_fatal_as_in_26() {
    let (code, m) = check("userlist L\n  group g1 users a,b\n  user a insecure-password x\n");
    assert_eq!(code, 1);
    assert_eq!(
        m,
        ["userlist 'L': no such user 'b' specified in group 'g1'"]
    );
    let (code, m) = check(&format!(
        "{DEFAULTS}frontend fe\n  bind 127.0.0.1:{}\n  acl ok http_auth(L9)\n  http-request deny unless ok\n",
        free_port()
    ));
    assert_eq!(code, 1);
    assert_eq!(
        m,
        [
            "parsing [p.cfg:8]: unable to find userlist 'L9' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'."
        ]
    );
    let (code, m) = check(&format!(
        "userlist L\n  group G1\n{DEFAULTS}frontend fe\n  bind 127.0.0.1:{}\n  acl g http_auth_group(L) G1 G2\n  http-request deny unless g\n",
        free_port()
    ));
    assert_eq!(code, 1);
    assert_eq!(
        m,
        ["proxy fe: acl g http_auth_group(): invalid group 'G2'."]
    );
}

#[test]
fn http_request_auth_asks_for_credentials_with_the_proxy_name_as_realm() {
    let port = free_port();
    let cfg = format!(
        "userlist L\n  user bob insecure-password secret\n\ndefaults\n  mode http\n  timeout client 5s\n  \
         timeout server 5s\n  timeout connect 2s\n\nfrontend fe\n  bind 127.0.0.1:{port}\n  acl ok http_auth(L)\n  \
         http-request auth if !ok\n  http-request auth realm Private if {{ path /p }}\n  \
         http-request return status 200 content-type text/plain lf-string \"hi %[http_auth_user]\"\n"
    );
    let _p = Proxy::start_under_test(&cfg, &[port]);
    let mut c = Client::connect(port);
    let r = c.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status(), 401);
    assert_eq!(r.head.get("www-authenticate"), Some("Basic realm=\"fe\""));
    // The connection stays open for the next try.
    let r =
        c.exchange(b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Ym9iOnNlY3JldA==\r\n\r\n");
    assert_eq!(r.status(), 200);
    assert_eq!(String::from_utf8_lossy(&r.body), "hi bob");
    let r =
        c.exchange(b"GET /p HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Ym9iOnNlY3JldA==\r\n\r\n");
    assert_eq!(
        r.head.get("www-authenticate"),
        Some("Basic realm=\"Private\"")
    );
}
