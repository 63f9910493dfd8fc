//! `-c` (configuration check) and command-line behaviour, compared with
//! HAProxy 2.6 (`/usr/sbin/haproxy`), which is the specification: exit codes,
//! the exact `[ALERT]    (pid) : config : parsing [file:line] : msg` lines,
//! "did you mean" suggestions, quoting / escaping / environment variables,
//! `-f <dir>`, several `-f`, `--`, `-v`, `-n`/`-N` and the usage text.

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::Path;

/// Timeouts so that no "missing timeouts" warning pollutes the output.
const DEFAULTS: &str =
    "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n";

/// Runs the reference HAProxy with `args` and `envs`; None if not installed.
fn run_haproxy(args: &[&str], envs: &[(&str, &str)]) -> Option<(i32, String, String)> {
    have_haproxy().then(|| run_program(HAPROXY, args, envs))
}

/// Runs haproxy-rs with `args` and extra environment variables.
fn run_rs(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    run_program(bin(), args, envs)
}

/// Replaces the pid in `[LABEL]    (1234) : rest` by `PID`, so that lines of
/// two processes compare equal. Lines without a pid are returned unchanged.
fn strip_pid(line: &str) -> String {
    if let Some(open) = line.find(" (")
        && let Some(close_rel) = line[open + 2..].find(") : ")
    {
        let inner = &line[open + 2..open + 2 + close_rel];
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
            return format!(
                "{} (PID){}",
                &line[..open],
                &line[open + 2 + close_rel + 1..]
            );
        }
    }
    line.to_string()
}

/// The `[ALERT]` lines of an output, pid stripped.
fn alerts(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        .map(strip_pid)
        .collect()
}

/// The `[WARNING]` lines of an output, pid stripped.
fn warnings(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("[WARNING]"))
        .map(strip_pid)
        .collect()
}

/// Runs `-c -f file` with both binaries. Returns haproxy-rs' result and the
/// reference result (None if HAProxy is missing).
type Run = (i32, String, String);
fn check_both(file: &Path, envs: &[(&str, &str)]) -> (Run, Option<Run>) {
    let f = file.to_str().expect("utf-8 path");
    (
        run_rs(&["-c", "-f", f], envs),
        run_haproxy(&["-c", "-f", f], envs),
    )
}

/// Asserts that haproxy-rs and HAProxy exit with the same code and print the
/// same `[ALERT]` lines (pid stripped).
fn assert_same_as_haproxy(rs: &Run, reference: &Option<Run>) {
    if let Some(h) = reference {
        assert_eq!(
            rs.0, h.0,
            "exit code differs from HAProxy 2.6\nhaproxy-rs stderr:\n{}\nhaproxy stderr:\n{}",
            rs.2, h.2
        );
        assert_eq!(
            alerts(&rs.2),
            alerts(&h.2),
            "[ALERT] lines differ from HAProxy 2.6"
        );
    }
}

/// Starts haproxy-rs with `args` (no implicit `-f`) and `envs`, waits for
/// `ports` and returns the guard (killed and reaped on drop).
fn spawn_rs(dir: TempDir, args: &[&str], envs: &[(&str, &str)], ports: &[u16]) -> Proxy {
    let cfg = dir.path().to_path_buf();
    Proxy::spawn(bin(), dir, cfg, args, envs, ports)
}

/// Sends `msg` through the proxy on `port` and expects it echoed back.
fn assert_echo(port: u16, msg: &[u8]) {
    let mut c = connect(port);
    c.write_all(msg).expect("write through proxy");
    c.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("read echo");
    assert_eq!(got, msg, "echo through the proxy on port {port}");
}

#[test]
fn valid_config_exits_0_and_prints_configuration_file_is_valid() {
    let d = TempDir::new("cc-valid");
    let port = free_port();
    let f = d.write(
        "ok.cfg",
        &format!("{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  server s 127.0.0.1:9\n"),
    );
    let (rs, reference) = check_both(&f, &[]);
    assert_eq!(rs.0, 0, "stderr: {}", rs.2);
    assert_eq!(rs.1, "Configuration file is valid\n");
    assert!(
        alerts(&rs.2).is_empty() && warnings(&rs.2).is_empty(),
        "unexpected messages: {}",
        rs.2
    );
    if let Some(h) = reference {
        assert_eq!(h.0, 0);
        assert_eq!(rs.1, h.1, "stdout differs from HAProxy 2.6");
    }
}

#[test]
fn check_with_q_exits_0_and_prints_nothing() {
    let d = TempDir::new("cc-quiet");
    let port = free_port();
    let f = d.write(
        "ok.cfg",
        &format!("{DEFAULTS}listen l\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:9\n"),
    );
    let (code, out, err) = run_bin(&["-c", "-q", "-f", f.to_str().unwrap()]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "", "stdout must be empty with -q");
    assert_eq!(err, "", "stderr must be empty with -q");
    if let Some(h) = run_haproxy(&["-c", "-q", "-f", f.to_str().unwrap()], &[]) {
        assert_eq!((h.0, h.1.as_str()), (0, ""));
    }
}

#[test]
fn backend_only_config_exits_2_with_no_listener_message() {
    let d = TempDir::new("cc-nolistener");
    let f = d.write(
        "be.cfg",
        &format!("{DEFAULTS}backend b\n  server s 127.0.0.1:9\n"),
    );
    let (rs, reference) = check_both(&f, &[]);
    assert_eq!(rs.0, 2, "stdout: {} stderr: {}", rs.1, rs.2);
    assert!(
        rs.1.contains(
            "Configuration file has no error but will not start (no listener) => exit(2)."
        ),
        "stdout: {}",
        rs.1
    );
    if let Some(h) = reference {
        assert_eq!(h.0, 2);
        assert_eq!(rs.1, h.1, "stdout differs from HAProxy 2.6");
    }
}

#[test]
fn all_errors_reported_in_one_run_with_did_you_mean_in_haproxy_format() {
    let d = TempDir::new("cc-errors");
    let port = free_port();
    let f = d.write(
        "bad.cfg",
        &format!(
            "global\n  maxcon 100\ndefaults\n  mode tcp\n  timout client 5s\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
             frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  blance roundrobin\n  server s 127.0.0.1:9\n"
        ),
    );
    let fs = f.to_str().unwrap();
    let (rs, reference) = check_both(&f, &[]);
    assert_eq!(rs.0, 1, "stderr: {}", rs.2);
    let expected = vec![
        format!(
            "[ALERT]    (PID) : config : parsing [{fs}:2] : unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn' maybe ?"
        ),
        format!(
            "[ALERT]    (PID) : config : parsing [{fs}:5] : unknown keyword 'timout' in 'defaults' section; did you mean 'timeout' maybe ?"
        ),
        format!(
            "[ALERT]    (PID) : config : parsing [{fs}:13] : unknown keyword 'blance' in 'backend' section; did you mean 'balance' maybe ?"
        ),
        format!("[ALERT]    (PID) : config : Error(s) found in configuration file : {fs}"),
        "[ALERT]    (PID) : config : Fatal errors found in configuration.".to_string(),
    ];
    assert_eq!(alerts(&rs.2), expected, "full stderr:\n{}", rs.2);
    // The pid printed is the one of the checking process: one pid for all lines.
    let pids: std::collections::BTreeSet<&str> =
        rs.2.lines()
            .filter(|l| l.starts_with("[ALERT]"))
            .filter_map(|l| l.split(['(', ')']).nth(1))
            .collect();
    assert_eq!(pids.len(), 1, "one pid on every line: {}", rs.2);
    assert_same_as_haproxy(&rs, &reference);
}

#[test]
fn missing_default_backend_is_fatal_like_haproxy() {
    let d = TempDir::new("cc-nobe");
    let port = free_port();
    let f = d.write(
        "nobe.cfg",
        &format!("{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend nob\n"),
    );
    let (rs, reference) = check_both(&f, &[]);
    assert_eq!(rs.0, 1, "stderr: {}", rs.2);
    assert_eq!(
        alerts(&rs.2),
        vec![
            "[ALERT]    (PID) : config : Proxy 'f': unable to find required default_backend: 'nob'.".to_string(),
            "[ALERT]    (PID) : config : Fatal errors found in configuration.".to_string(),
        ]
    );
    assert_same_as_haproxy(&rs, &reference);
}

#[test]
fn missing_config_file_exits_1_with_cannot_open_message_like_haproxy() {
    let d = TempDir::new("cc-missing");
    let f = d.path().join("does-not-exist.cfg");
    let fs = f.to_str().unwrap();
    let (rs, reference) = check_both(&f, &[]);
    assert_eq!(rs.0, 1);
    assert_eq!(
        alerts(&rs.2).first().map(String::as_str),
        Some(format!("[ALERT]    (PID) : config : Cannot open configuration file/directory {fs} : No such file or directory").as_str()),
        "stderr: {}",
        rs.2
    );
    // HAProxy 2.6 prints only the "Cannot open" line for a missing file.
    assert_same_as_haproxy(&rs, &reference);
}

#[test]
fn bad_bind_addresses_are_reported_like_haproxy() {
    let d = TempDir::new("cc-badbind");
    let f = d.write(
        "badbind.cfg",
        &format!(
            "{DEFAULTS}frontend f\n  bind 127.0.0.1:abc\n  bind 127.0.0.1:\n  bind 127.0.0.1:99999\n  \
             bind 127.0.0.1:${{HRS_UNSET_VAR}}\n  bind 127.0.0.1:8080 foo\n  default_backend b\n\
             backend b\n  server s 127.0.0.1:9\n"
        ),
    );
    let fs = f.to_str().unwrap();
    let (rs, reference) = check_both(&f, &[]);
    assert_eq!(rs.0, 1, "stderr: {}", rs.2);
    let at =
        |line: usize, m: &str| format!("[ALERT]    (PID) : config : parsing [{fs}:{line}] : {m}");
    assert_eq!(
        alerts(&rs.2)[..5],
        [
            at(
                7,
                "'bind' : invalid character 'a' in port number 'abc' in '127.0.0.1:abc'"
            ),
            at(8, "'bind' : missing port specification in '127.0.0.1:'"),
            at(9, "'bind' : invalid port '99999'"),
            at(
                10,
                "'bind' : missing port specification in '127.0.0.1:${HRS_UNSET_VAR}'"
            ),
            at(
                11,
                "'bind 127.0.0.1:8080' in section 'frontend': unknown keyword 'foo'; did you mean 'tfo' maybe ?"
            ),
        ],
        "stderr: {}",
        rs.2
    );
    assert_same_as_haproxy(&rs, &reference);
}

#[test]
fn keywords_known_to_haproxy_but_unimplemented_are_explicit_alerts() {
    let d = TempDir::new("cc-unimpl");
    let port = free_port();
    let f = d.write(
        "unimpl.cfg",
        &format!(
            "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  http-request set-priority-class int(1)\n  option httpchk\n  server s 127.0.0.1:9\n"
        ),
    );
    let fs = f.to_str().unwrap();
    let (rs, reference) = check_both(&f, &[]);
    // Deliberate divergence: HAProxy accepts these lines (warning at most);
    // haproxy-rs refuses them with an alert naming the keyword, never silently.
    assert_eq!(rs.0, 1, "stderr: {}", rs.2);
    let a = alerts(&rs.2);
    assert!(
        a.iter().any(|l| l
            .starts_with(&format!("[ALERT]    (PID) : config : parsing [{fs}:10] : "))
            && l.contains("'http-request set-priority-class'")),
        "no alert naming 'http-request set-priority-class' at line 10: {a:?}"
    );
    assert!(
        a.iter().any(|l| l
            .starts_with(&format!("[ALERT]    (PID) : config : parsing [{fs}:11] : "))
            && l.contains("'option httpchk'")),
        "no alert naming 'option httpchk' at line 11: {a:?}"
    );
    assert!(
        a.iter().all(|l| !l.contains("unknown keyword")),
        "must not be reported as unknown: {a:?}"
    );
    assert_eq!(
        a.last().map(String::as_str),
        Some("[ALERT]    (PID) : config : Fatal errors found in configuration.")
    );
    if let Some(h) = reference {
        // They are real HAProxy 2.6 keywords: HAProxy does not reject them.
        assert_eq!(h.0, 0, "HAProxy 2.6 accepts the file: {}", h.2);
        assert!(alerts(&h.2).is_empty(), "{}", h.2);
    }
}

#[test]
fn quoting_escaping_env_vars_and_comments_tokenize_like_haproxy() {
    let d = TempDir::new("cc-quote");
    // Unknown keywords in 'global' show exactly how each word was tokenized.
    let f = d.write(
        "q.cfg",
        "global\n  \"foo bar\" x\n  foo\\ bar2 x\n  'sq $HRS_QV' x\n  \"dq ${HRS_QV}\" x\n  \"dflt ${HRS_UNSET_VAR-d f}\" y\n  \
         \"qq ${HRS_QV-unused}\" y\n  maxconn 10 # a comment\n  bad#comment\n  \"hash\\#\" y\n  # full comment line\n",
    );
    let fs = f.to_str().unwrap();
    let envs = [("HRS_QV", "val")];
    let (rs, reference) = check_both(&f, &envs);
    assert_eq!(rs.0, 1, "stderr: {}", rs.2);
    let kw = |line: usize, k: &str| {
        format!(
            "[ALERT]    (PID) : config : parsing [{fs}:{line}] : unknown keyword '{k}' in 'global' section"
        )
    };
    let a = alerts(&rs.2);
    assert_eq!(
        a[..8],
        [
            kw(2, "foo bar"),
            kw(3, "foo bar2"),
            kw(4, "sq $HRS_QV"),
            kw(5, "dq val"),
            kw(6, "dflt d f"),
            kw(7, "qq val"),
            kw(9, "bad"),
            kw(10, "hash#"),
        ],
        "stderr: {}",
        rs.2
    );
    assert_same_as_haproxy(&rs, &reference);
}

#[test]
fn unquoted_env_var_in_bind_address_is_expanded_like_haproxy() {
    // HAProxy 2.6 expands ${VAR} and $VAR in addresses (str2sa_range calls
    // env_expand) even outside double quotes.
    let port = free_port();
    let ps = port.to_string();
    let envs = [("HRS_TEST_PORT", ps.as_str()), ("HRS_TEST_IP", "127.0.0.1")];
    let d = TempDir::new("cc-envbind");
    let text = format!(
        "{DEFAULTS}frontend f\n  bind ${{HRS_TEST_IP}}:${{HRS_TEST_PORT}}\n  default_backend b\nbackend b\n  server s 127.0.0.1:9\n"
    );
    let f = d.write("env.cfg", &text);
    let (rs, reference) = check_both(&f, &envs);
    if let Some(h) = &reference {
        assert_eq!(h.0, 0, "HAProxy 2.6 accepts it: {}", h.2);
    }
    assert_eq!(
        rs.0, 0,
        "unquoted ${{VAR}} in a bind address must be expanded; stderr: {}",
        rs.2
    );
    let be = Backend::echo();
    let d2 = TempDir::new("cc-envbind-run");
    let f2 = d2.write(
        "env.cfg",
        &format!("{DEFAULTS}frontend f\n  bind 127.0.0.1:${{HRS_TEST_PORT}}\n  default_backend b\nbackend b\n  server s 127.0.0.1:{}\n", be.port),
    );
    let f2s = f2.to_str().unwrap().to_string();
    let _px = spawn_rs(d2, &["-db", "-f", &f2s], &envs, &[port]);
    assert_echo(port, b"env-unquoted");
}

#[test]
fn quoted_env_var_default_value_and_trailing_comment_in_bind_line() {
    let be = Backend::echo();
    let (p1, p2) = (free_port(), free_port());
    let p1s = p1.to_string();
    let envs = [("HRS_TEST_PORT", p1s.as_str())];
    let d = TempDir::new("cc-envq");
    let f = d.write(
        "envq.cfg",
        &format!(
            "{DEFAULTS}frontend f # comment after a section header\n  bind \"127.0.0.1:${{HRS_TEST_PORT}}\" # quoted, set\n  \
             bind 127.0.0.1:\"${{HRS_UNSET_VAR-{p2}}}\"#unset, default used\n  default_backend b\n\
             backend b\n  server s 127.0.0.1:{}\n",
            be.port
        ),
    );
    let fs = f.to_str().unwrap().to_string();
    let (rs, reference) = check_both(&f, &envs);
    assert_eq!(rs.0, 0, "stderr: {}", rs.2);
    if let Some(h) = &reference {
        assert_eq!(h.0, 0, "{}", h.2);
    }
    let _px = spawn_rs(d, &["-db", "-f", &fs], &envs, &[p1, p2]);
    assert_echo(p1, b"quoted env");
    assert_echo(p2, b"default value");
}

#[test]
fn f_directory_loads_cfg_files_in_c_order_ignoring_others() {
    let be = Backend::echo();
    let port = free_port();
    let d = TempDir::new("cc-dir");
    // "A.cfg" < "a.cfg" in C order (not in most locales): the defaults must
    // be read first, otherwise the listen section has no timeouts (warning).
    d.write("A.cfg", DEFAULTS);
    d.write("a.cfg", "backend unused\n  server s 127.0.0.1:9\n");
    d.write(
        "10-a.cfg",
        &format!("frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n"),
    );
    d.write(
        "20-b.cfg",
        &format!("backend b\n  server s 127.0.0.1:{}\n", be.port),
    );
    d.write(".hidden.cfg", "this is not a valid line\n");
    d.write("notes.txt", "neither is this\n");
    d.write("x.cfg.bak", "nor this\n");
    let ds = d.path().to_str().unwrap().to_string();
    // With C order, 10-a.cfg and 20-b.cfg come before A.cfg: they lack the
    // timeouts, which HAProxy reports as warnings. Compare with HAProxy.
    let rs = run_rs(&["-c", "-f", &ds], &[]);
    assert_eq!(rs.0, 0, "stderr: {}", rs.2);
    assert!(
        rs.1.contains("Configuration file is valid"),
        "stdout: {}",
        rs.1
    );
    if let Some(h) = run_haproxy(&["-c", "-f", &ds], &[]) {
        assert_eq!(h.0, 0, "{}", h.2);
        assert_eq!(
            warnings(&rs.2),
            warnings(&h.2),
            "warnings (load order) differ from HAProxy 2.6"
        );
    }
    let w = warnings(&rs.2);
    assert!(
        w.iter()
            .any(|l| l.contains("missing timeouts for frontend 'f'")),
        "10-a.cfg is loaded before A.cfg: {w:?}"
    );
    assert!(
        w.iter().all(|l| !l.contains("'unused'")),
        "a.cfg is loaded after A.cfg: {w:?}"
    );
    let _px = spawn_rs(
        TempDir::new("cc-dir-run"),
        &["-db", "-f", &ds],
        &[],
        &[port],
    );
    assert_echo(port, b"frontend in 10-a.cfg, backend in 20-b.cfg");
}

#[test]
fn several_f_files_are_processed_in_command_line_order() {
    let d = TempDir::new("cc-multi");
    let port = free_port();
    let defs = d.write("defs.cfg", DEFAULTS);
    let px = d.write(
        "px.cfg",
        &format!("listen l\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:9\n"),
    );
    let (defs, px) = (defs.to_str().unwrap(), px.to_str().unwrap());
    let good = run_rs(&["-c", "-f", defs, "-f", px], &[]);
    assert_eq!(good.0, 0, "stderr: {}", good.2);
    assert!(
        warnings(&good.2).is_empty(),
        "defaults first: no warning expected: {}",
        good.2
    );
    let rev = run_rs(&["-c", "-f", px, "-f", defs], &[]);
    assert_eq!(rev.0, 0, "stderr: {}", rev.2);
    assert!(
        warnings(&rev.2)
            .iter()
            .any(|l| l.contains("missing timeouts for proxy 'l'")),
        "defaults after the proxy do not apply to it: {}",
        rev.2
    );
    if let Some(h) = run_haproxy(&["-c", "-f", px, "-f", defs], &[]) {
        assert_eq!(h.0, 0);
        assert_eq!(
            warnings(&rev.2),
            warnings(&h.2),
            "warnings differ from HAProxy 2.6"
        );
    }
}

#[test]
fn double_dash_takes_every_following_argument_as_a_config_file() {
    let be = Backend::echo();
    let d = TempDir::new("cc-dashdash");
    let port = free_port();
    let defs = d.write("defs.cfg", DEFAULTS);
    let fe = d.write(
        "fe.cfg",
        &format!("frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n"),
    );
    let bk = d.write(
        "be.cfg",
        &format!("backend b\n  server s 127.0.0.1:{}\n", be.port),
    );
    let (defs, fe, bk) = (
        defs.to_str().unwrap(),
        fe.to_str().unwrap(),
        bk.to_str().unwrap(),
    );
    // -f and -- combined, command-line order applies.
    let rs = run_rs(&["-c", "-f", defs, "--", fe, bk], &[]);
    assert_eq!(rs.0, 0, "stderr: {}", rs.2);
    assert_eq!(rs.1, "Configuration file is valid\n");
    // Without be.cfg the default_backend is missing: proves -- files are read.
    let missing = run_rs(&["-c", "-f", defs, "--", fe], &[]);
    assert_eq!(missing.0, 1);
    assert!(
        missing
            .2
            .contains("unable to find required default_backend: 'b'."),
        "{}",
        missing.2
    );
    if let Some(h) = run_haproxy(&["-c", "-f", defs, "--", fe, bk], &[]) {
        assert_eq!(h.0, 0, "{}", h.2);
    }
    let _px = spawn_rs(
        TempDir::new("cc-dd-run"),
        &["-db", "--", defs, fe, bk],
        &[],
        &[port],
    );
    assert_echo(port, b"double dash");
}

#[test]
fn v_prints_haproxy_version_line() {
    let (code, out, _) = run_bin(&["-v"]);
    assert_eq!(code, 0);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("HAProxy version "),
        "first line: {first:?}"
    );
    assert!(
        first.ends_with(" - https://haproxy.org/"),
        "first line: {first:?}"
    );
}

#[test]
fn no_argument_prints_usage_on_stderr_and_exits_1() {
    let (code, out, err) = run_bin(&[]);
    assert_eq!(code, 1);
    assert_eq!(out, "", "usage goes to stderr");
    assert!(err.starts_with("Usage : "), "stderr: {err}");
    assert!(err.contains("-c check mode"), "stderr: {err}");
    if let Some(h) = run_haproxy(&[], &[]) {
        assert_eq!(h.0, code, "HAProxy 2.6 exit code");
        assert!(h.2.contains("Usage : "));
    }
}

#[test]
fn n_and_capital_n_flags_are_accepted() {
    let d = TempDir::new("cc-nN");
    let port = free_port();
    let f = d.write(
        "ok.cfg",
        &format!("{DEFAULTS}listen l\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:9\n"),
    );
    let fs = f.to_str().unwrap();
    let (code, out, err) = run_bin(&["-c", "-n", "100", "-N", "10", "-f", fs]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "Configuration file is valid\n");
    // A missing number is a usage error, as in HAProxy.
    let (code, _, err) = run_bin(&["-c", "-f", fs, "-n"]);
    assert_eq!(code, 1, "stderr: {err}");
    if let Some(h) = run_haproxy(&["-c", "-f", fs, "-n"], &[]) {
        assert_eq!(h.0, 1);
    }
}

/// The `tune` keywords that HAProxy 2.6 reads with `atol()` into an `int`.
const TUNE_INT_SIZES: [&str; 5] = [
    "tune.pipesize",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
];

#[test]
fn tune_sizes_of_2gb_and_more_are_checked_like_haproxy() {
    let d = TempDir::new("cc-tune");
    let port = free_port();
    // HAProxy 2.6.12 (`haproxy -c`): every value is accepted silently, as
    // atol() reads it; only a missing or an extra argument is an alert.
    let accepted = [
        "2147483647",
        "2147483648",
        "4294967296",
        "3g",
        "1g",
        "-1",
        "99999999999999999999",
        "abc",
        "1.5k",
    ];
    for kw in TUNE_INT_SIZES {
        for v in accepted {
            let f = d.write(
                "tune.cfg",
                &format!(
                    "global\n  {kw} {v}\n{DEFAULTS}listen l\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:9\n"
                ),
            );
            let (rs, reference) = check_both(&f, &[]);
            assert_eq!(rs.0, 0, "{kw} {v}: stderr: {}", rs.2);
            assert_eq!(rs.1, "Configuration file is valid\n", "{kw} {v}");
            assert!(
                alerts(&rs.2).is_empty() && warnings(&rs.2).is_empty(),
                "{kw} {v}: unexpected messages: {}",
                rs.2
            );
            assert_same_as_haproxy(&rs, &reference);
            if let Some(h) = &reference {
                assert_eq!(warnings(&rs.2), warnings(&h.2), "{kw} {v}: warnings");
            }
        }
        let fs = d.path().join("tune.cfg");
        let fs = fs.to_str().expect("utf-8 path");
        for (arg, msg) in [
            ("", format!("'{kw}' expects an integer argument.")),
            ("''", format!("'{kw}' expects an integer argument.")),
            (
                "5 6",
                format!("'{kw}' cannot handle unexpected argument '6'."),
            ),
            (
                "'' 6",
                format!("'{kw}' cannot handle unexpected argument '6'."),
            ),
        ] {
            let f = d.write(
                "tune.cfg",
                &format!(
                    "global\n  {kw} {arg}\n{DEFAULTS}listen l\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:9\n"
                ),
            );
            let (rs, reference) = check_both(&f, &[]);
            assert_eq!(rs.0, 1, "{kw} {arg}: stderr: {}", rs.2);
            assert_eq!(
                alerts(&rs.2),
                [
                    format!("[ALERT]    (PID) : config : parsing [{fs}:2] : {msg}"),
                    format!(
                        "[ALERT]    (PID) : config : Error(s) found in configuration file : {fs}"
                    ),
                    "[ALERT]    (PID) : config : Fatal errors found in configuration.".to_string(),
                ],
                "{kw} '{arg}'"
            );
            assert_same_as_haproxy(&rs, &reference);
        }
    }
}

/// `(SO_RCVBUF, SO_SNDBUF)` of the proxy's socket for the client connection
/// `c` accepted on `port` by process `pid`: the socket is found through
/// /proc/net/tcp and /proc/PID/fd, then duplicated with pidfd_getfd(2).
/// None when this kernel or sandbox does not allow pidfd_getfd.
fn proxy_side_bufs(pid: i32, port: u16, c: &std::net::TcpStream) -> Option<(i32, i32)> {
    let cport = c.local_addr().expect("client address").port();
    let get = |opt| common::peer_sockopt(pid, Some(port), cport, libc::SOL_SOCKET, opt);
    Some((get(libc::SO_RCVBUF)?, get(libc::SO_SNDBUF)?))
}

/// `(SO_RCVBUF, SO_SNDBUF)` of the client-side socket of `program` started
/// with `tune.rcvbuf.client v` and `tune.sndbuf.client v`.
fn client_bufs_with(program: &str, v: &str, echo: u16) -> Option<(i32, i32)> {
    let port = free_port();
    let cfg = format!(
        "global\n  tune.rcvbuf.client {v}\n  tune.sndbuf.client {v}\n{DEFAULTS}\
         listen l\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:{echo}\n"
    );
    let px = Proxy::start_program(program, &cfg, &[port], &["-db"]);
    let mut c = connect(port);
    // Once the echo is back, the proxy has set up the accepted socket.
    c.write_all(b"x").expect("send");
    let mut b = [0u8; 1];
    c.read_exact(&mut b).expect("echo");
    proxy_side_bufs(px.pid(), port, &c)
}

#[test]
fn tune_buffers_of_2gb_and_more_ask_the_kernel_maximum_not_a_wrapped_int() {
    let be = Backend::echo();
    let max = |f: &str| -> i32 {
        let v: i32 = std::fs::read_to_string(f)
            .expect(f)
            .trim()
            .parse()
            .expect("a number");
        // The kernel doubles the value it keeps (socket(7), SO_RCVBUF).
        v.saturating_mul(2)
    };
    let kernel_max = (
        max("/proc/sys/net/core/rmem_max"),
        max("/proc/sys/net/core/wmem_max"),
    );
    // 2147483648 and -1 reach the kernel as a negative int from HAProxy,
    // which the kernel caps at net.core.rmem_max/wmem_max: the largest
    // buffer. 4294967296 and 3g wrapped to 0 (the smallest buffer, 2304 and
    // 4608 bytes) or 3 bytes: haproxy-rs saturates them instead.
    for v in [
        "2147483647",
        "2147483648",
        "4294967296",
        "3g",
        "8589934595",
        "-1",
    ] {
        let Some(got) = client_bufs_with(bin(), v, be.port) else {
            eprintln!("note: pidfd_getfd is not available, skipping the socket check");
            return;
        };
        assert_eq!(
            got, kernel_max,
            "tune.rcvbuf.client/tune.sndbuf.client {v}: (SO_RCVBUF, SO_SNDBUF) of the client socket"
        );
        if have_haproxy() && ["2147483647", "2147483648", "-1"].contains(&v) {
            assert_eq!(
                client_bufs_with(HAPROXY, v, be.port),
                Some(got),
                "tune.rcvbuf.client/tune.sndbuf.client {v}: HAProxy 2.6 gets the same buffers"
            );
        }
    }
}

/// `tune.maxrewrite` as HAProxy 2.6 checks it (`haproxy -c`): any value
/// atol() reads as 0 or more is valid (it is later capped at half a
/// buffer); a negative, missing or extra argument is an alert.
#[test]
fn tune_maxrewrite_is_checked_like_haproxy() {
    let d = TempDir::new("cc-maxrewrite");
    let port = free_port();
    let body = |arg: &str| {
        format!(
            "global\n  tune.maxrewrite {arg}\n{DEFAULTS}listen l\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:9\n"
        )
    };
    for v in ["1024", "0", "100000", "abc", "2048"] {
        let f = d.write("mr.cfg", &body(v));
        let (rs, reference) = check_both(&f, &[]);
        assert_eq!(rs.0, 0, "{v}: stderr: {}", rs.2);
        assert_eq!(rs.1, "Configuration file is valid\n", "{v}");
        assert_same_as_haproxy(&rs, &reference);
    }
    let fs = d.path().join("mr.cfg");
    let fs = fs.to_str().expect("utf-8 path");
    for (arg, msg) in [
        (
            "-1",
            "'tune.maxrewrite' expects a positive integer argument.",
        ),
        ("", "'tune.maxrewrite' expects an integer argument."),
        (
            "5 6",
            "'tune.maxrewrite' cannot handle unexpected argument '6'.",
        ),
    ] {
        let f = d.write("mr.cfg", &body(arg));
        let (rs, reference) = check_both(&f, &[]);
        assert_eq!(rs.0, 1, "'{arg}': stderr: {}", rs.2);
        assert_eq!(
            alerts(&rs.2).first().cloned(),
            Some(format!(
                "[ALERT]    (PID) : config : parsing [{fs}:2] : {msg}"
            )),
            "'{arg}'"
        );
        assert_same_as_haproxy(&rs, &reference);
    }
}
