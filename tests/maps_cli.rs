//! Maps and ACLs at run time (management.txt 9.3; configuration.txt 7.3.1
//! `map`): the stats socket's map and ACL commands, compared byte for byte
//! with HAProxy 2.6's replies recorded below (entry ids, which HAProxy
//! prints as addresses, and the temporary paths are normalised), and the
//! map converters of an `http-request return ... lf-string` seeing every
//! edit on the next request. `HRS_TEST_BIN=/usr/sbin/haproxy` runs the
//! same script against HAProxy; `HRS_RECORD=1` prints the transcript
//! instead of checking it (how the expected replies were recorded).

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A proxy whose frontend answers every request with the map lookups of
/// its path and headers; an admin and a user stats socket.
struct Maps {
    px: Proxy,
    dir: TempDir,
    admin: PathBuf,
    user: PathBuf,
    port: u16,
}

fn start() -> Maps {
    let dir = TempDir::new("maps");
    dir.write(
        "beg.map",
        "/api api\n/api/v1 apiv1\n/ root\n/static static\n",
    );
    dir.write(
        "ip.map",
        "10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n127.0.0.1 lo\n10.1.2.0/24 ten-one-two\n10.1.2.0/24 dup\n::1 v6lo\n2001:db8::/32 doc\n",
    );
    dir.write(
        "hosts.map",
        "# comment\n\n  example.com   ex  \nfoo.org foo\nexample.com ex2\n",
    );
    dir.write(
        "re.map",
        "^/u/([0-9]+)/(.*)$ user=\\1 rest=\\2\n^/x(.*) x\\1\\0\n",
    );
    dir.write("int.map", "a 1\nb 2\n");
    let d = dir.path().display().to_string();
    let port = free_port();
    let admin = dir.path().join("admin.sock");
    let user = dir.path().join("user.sock");
    let cfg = format!(
        "global\n    stats socket {d}/admin.sock level admin\n    stats socket {d}/user.sock level user\n\n\
         defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 5s\n\n\
         frontend f\n    bind 127.0.0.1:{port}\n    acl api path_beg /api /v2\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"beg=%[path,map_beg({d}/beg.map,none)] ip=%[req.hdr(x-ip),map_ip({d}/ip.map,none)] host=%[req.hdr(host),map({d}/hosts.map,none)] re=%[path,map_regm({d}/re.map,none)] n=%[req.hdr(host),map_str_int({d}/int.map,0)]\\n\"\n"
    );
    let px = Proxy::start_under_test(&cfg, &[port]);
    Maps {
        px,
        dir,
        admin,
        user,
        port,
    }
}

impl Maps {
    /// A command's reply, entry ids and temporary paths normalised, and
    /// HAProxy's two internal httpclient ACLs left out.
    fn cli(&self, sock: &Path, cmd: &str) -> String {
        let out = cli(sock, cmd);
        let d = self.dir.path().display().to_string();
        let cfg = self.px.cfg.display().to_string();
        out.split_inclusive('\n')
            .filter(|l| !l.contains("file 'httpclient'"))
            .map(|l| {
                let l = l.replace(&cfg, "CFG").replace(&d, "D");
                match l.strip_prefix("0x") {
                    Some(rest) if rest.contains(' ') => {
                        format!("ID {}", rest.split_once(' ').map_or("", |(_, r)| r))
                    }
                    Some(rest) if rest.ends_with('\n') => "ID\n".into(),
                    _ => l,
                }
            })
            .collect()
    }

    /// The body of `GET path` with `host` and `x-ip` headers.
    fn get(&self, path: &str, host: &str, ip: &str) -> String {
        let mut c = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let req = format!(
            "GET {path} HTTP/1.1\r\nhost: {host}\r\nx-ip: {ip}\r\nconnection: close\r\n\r\n"
        );
        c.write_all(req.as_bytes()).expect("send");
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        let out = String::from_utf8_lossy(&out).into_owned();
        out.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or(out)
    }

    /// The id of the `n`th entry `show map <r>` lists, as HAProxy prints it.
    fn entry_id(&self, r: &str, n: usize) -> String {
        let out = cli(&self.admin, &format!("show map {r}"));
        let line = out.lines().nth(n).unwrap_or_default();
        line.split(' ').next().unwrap_or_default().to_string()
    }
}

/// Runs `script` (command, expected reply) on the admin socket; with
/// `HRS_RECORD` set, prints the transcript instead of checking it.
fn run_script(m: &Maps, script: &[(&str, &str)]) {
    let record = std::env::var("HRS_RECORD").is_ok();
    for (cmd, want) in script {
        let (sock, c) = match cmd.strip_prefix("user: ") {
            Some(c) => (&m.user, c),
            None => (&m.admin, *cmd),
        };
        let cmd = c.replace("$D", &m.dir.path().display().to_string());
        let got = m.cli(sock, &cmd);
        if record {
            println!("    ({cmd:?}, {got:?}),");
        } else {
            assert_eq!(&got, want, "reply to {cmd:?}");
        }
    }
}

/// `show` lists and dumps, `get` reports matches per set, as 2.6 does.
#[test]
fn show_and_get_answer_as_haproxy_2_6() {
    let m = start();
    run_script(
        &m,
        &[
            (
                "show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=4\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=7\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=3\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            (
                "show acl",
                "# id (file) description\n0 () acl 'path_beg' file 'CFG' line 13. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            (
                "show map #1",
                "ID /api api\nID /api/v1 apiv1\nID / root\nID /static static\n\n",
            ),
            (
                "show map $D/ip.map",
                "ID 10.0.0.0/8 ten\nID 10.1.0.0/16 ten-one\nID 127.0.0.1 lo\nID 10.1.2.0/24 ten-one-two\nID 10.1.2.0/24 dup\nID ::1 v6lo\nID 2001:db8::/32 doc\n\n",
            ),
            ("show acl #0", "ID /api\nID /v2\n\n"),
            (
                "show map #0",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "show acl #1",
                "Unknown ACL identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "show map foo",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "show map @1",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            ("show map @1 #1", "\n"),
            (
                "get map #2 10.1.2.3",
                "type=ip, case=sensitive, found=yes, idx=tree, key=\"10.1.2.0/24\", value=\"ten-one-two\", type=\"str\"\n\n",
            ),
            (
                "get map #2 10.9.9.9",
                "type=ip, case=sensitive, found=yes, idx=tree, key=\"10.0.0.0/8\", value=\"ten\", type=\"str\"\n\n",
            ),
            (
                "get map #2 1.1.1.1",
                "type=ip, case=sensitive, found=no\n\n",
            ),
            (
                "get map #2 ::1",
                "type=ip, case=sensitive, found=yes, idx=tree, key=\"::1\", value=\"v6lo\", type=\"str\"\n\n",
            ),
            ("get map #2 foo", "type=ip, case=sensitive, found=no\n\n"),
            (
                "get map #1 /api/v1/x",
                "type=beg, case=sensitive, found=yes, idx=tree, key=\"/api/v1\", value=\"apiv1\", type=\"str\"\n\n",
            ),
            (
                "get map #1 /nope",
                "type=beg, case=sensitive, found=yes, idx=tree, key=\"/\", value=\"root\", type=\"str\"\n\n",
            ),
            ("get map #1 nope", "type=beg, case=sensitive, found=no\n\n"),
            (
                "get acl #0 /api/x",
                "type=beg, case=sensitive, match=yes, idx=tree, pattern=\"/api\"\n\n",
            ),
            ("get acl #0 /zzz", "type=beg, case=sensitive, match=no\n\n"),
            (
                "get map #0 /api",
                "type=beg, case=sensitive, found=yes, idx=tree, key=\"/api\", value=none\n\n",
            ),
            (
                "get acl #2 10.1.2.3",
                "type=ip, case=sensitive, match=yes, idx=tree, pattern=\"10.1.2.0/24\"\n\n",
            ),
            (
                "get map #3 example.com",
                "type=str, case=sensitive, found=yes, idx=tree, key=\"example.com\", value=\"ex\", type=\"str\"\n\n",
            ),
            (
                "get map #4 /u/12/abc",
                "type=regm, case=sensitive, found=yes, idx=list, key=\"^/u/([0-9]+)/(.*)$\", value=\"user=\\1 rest=\\2\", type=\"str\"\n\n",
            ),
            (
                "get map #5 b",
                "type=str, case=sensitive, found=yes, idx=tree, key=\"b\", value=\"2\", type=\"sint\"\n\n",
            ),
            ("get map", "Missing map identifier and/or key.\n\n"),
            ("get map #2", "Missing map identifier and/or key.\n\n"),
            (
                "get map foo x",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "get acl #9 x",
                "Unknown ACL identifier. Please use #<id> or <file>.\n\n",
            ),
        ],
    );
}

/// `add`, `set`, `del`: replies, refusals and `entry_cnt` as 2.6's; the
/// map and ACL commands need no level.
#[test]
fn add_set_del_answer_as_haproxy_2_6() {
    let m = start();
    run_script(
        &m,
        &[
            ("add map #2 1.2.3.4 newval", "\n"),
            (
                "add map #2 bad v",
                "'bad' is not a valid IPv4 or IPv6 address.\n\n",
            ),
            ("add map #5 c x", "unable to parse 'x'.\n\n"),
            ("add map #5 d 12", "\n"),
            (
                "add acl #2 5.5.5.5",
                "This ACL is shared with a map containing samples. You must use the command 'add map' to add values.\n\n",
            ),
            ("add acl #0 /new", "\n"),
            ("add acl #0 /new2 extra", "\n"),
            ("add map #0 x y", "\n"),
            (
                "add map",
                "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n\n",
            ),
            (
                "add map #2 k",
                "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n\n",
            ),
            (
                "add acl",
                "'add acl' expects two parameters: ACL identifier and pattern.\n\n",
            ),
            (
                "add acl #0",
                "'add acl' expects two parameters: ACL identifier and pattern.\n\n",
            ),
            (
                "add map foo k v",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "add acl foo k",
                "Unknown ACL identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=4\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=7\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=3\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            (
                "show acl",
                "# id (file) description\n0 () acl 'path_beg' file 'CFG' line 13. curr_ver=0 next_ver=0 entry_cnt=5\n\n",
            ),
            (
                "show map #2",
                "ID 10.0.0.0/8 ten\nID 10.1.0.0/16 ten-one\nID 127.0.0.1 lo\nID 10.1.2.0/24 ten-one-two\nID 10.1.2.0/24 dup\nID ::1 v6lo\nID 2001:db8::/32 doc\nID 1.2.3.4 newval\n\n",
            ),
            (
                "show acl #0",
                "ID /api\nID /v2\nID /new\nID /new2\nID x y\n\n",
            ),
            (
                "get acl #0 x",
                "type=beg, case=sensitive, match=yes, idx=tree, pattern=\"x\"\n\n",
            ),
            ("set map #3 example.com NEW", "\n"),
            ("set map #3 nokey v", "entry not found.\n\n"),
            ("set map #3 #0x1234 v", "key or pattern not found.\n\n"),
            (
                "set map #3",
                "'set map' expects three parameters: map identifier, key and value.\n\n",
            ),
            ("set map #3 foo.org two words", "\n"),
            (
                "show map #3",
                "ID example.com NEW\nID foo.org two\nID example.com NEW\n\n",
            ),
            ("set map #5 a x", "\n"),
            ("show map #5", "ID a 1\nID b 2\nID d 12\n\n"),
            (
                "get map #5 a",
                "type=str, case=sensitive, found=yes, idx=tree, key=\"a\", value=\"1\", type=\"sint\"\n\n",
            ),
            ("set map #0 /api x", "\n"),
            (
                "show acl #0",
                "ID /api x\nID /v2\nID /new\nID /new2\nID x y\n\n",
            ),
            (
                "get map #0 /api",
                "type=beg, case=sensitive, found=yes, idx=tree, key=\"/api\", value=none\n\n",
            ),
            ("del map #2 10.1.2.0/24", "\n"),
            ("del map #2 nokey", "Key not found.\n\n"),
            (
                "del map #2",
                "This command expects two parameters: map identifier and key.\n\n",
            ),
            (
                "del map",
                "This command expects two parameters: map identifier and key.\n\n",
            ),
            ("del acl #0 /v2", "\n"),
            (
                "del acl #0",
                "This command expects two parameters: ACL identifier and key.\n\n",
            ),
            (
                "del acl #9 x",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "del map #0 /api",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "show map #2",
                "ID 10.0.0.0/8 ten\nID 10.1.0.0/16 ten-one\nID 127.0.0.1 lo\nID ::1 v6lo\nID 2001:db8::/32 doc\nID 1.2.3.4 newval\n\n",
            ),
            ("show acl #0", "ID /api x\nID /new\nID /new2\nID x y\n\n"),
            (
                "show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=4\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=5\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=3\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            ("user: add map #1 /u user", "\n"),
            (
                "user: show map #1",
                "ID /api api\nID /api/v1 apiv1\nID / root\nID /static static\nID /u user\n\n",
            ),
            ("user: del map #1 /u", "\n"),
            ("user: prepare map #1", "New version created: 1\n\n"),
            ("user: commit map @1 #1", "\n"),
            (
                "user: show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=1 next_ver=1 entry_cnt=0\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=5\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=3\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
        ],
    );
}

/// `prepare`, `@<ver>` additions, `commit` and `clear` as 2.6's.
#[test]
fn versions_prepare_commit_clear_as_haproxy_2_6() {
    let m = start();
    run_script(
        &m,
        &[
            ("prepare map #3", "New version created: 1\n\n"),
            ("prepare map #3", "New version created: 2\n\n"),
            (
                "show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=4\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=7\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=2 entry_cnt=3\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            ("add map @1 #3 k1 v1", "\n"),
            ("add map @2 #3 k2 v2", "\n"),
            (
                "add map @3 #3 k3 v3",
                "Version number in the future, please use 'prepare map' before.\n\n",
            ),
            ("add map @0 #3 k0 v0", "\n"),
            ("add map @x #3 kx vx", "\n"),
            (
                "show map #3",
                "ID example.com ex\nID foo.org foo\nID example.com ex2\nID k0 v0\nID kx vx\n\n",
            ),
            ("show map @1 #3", "ID k1 v1\n\n"),
            ("show map @2 #3", "ID k2 v2\n\n"),
            ("show map @9 #3", "\n"),
            (
                "show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=4\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=7\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=2 entry_cnt=7\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            ("get map #3 k1", "type=str, case=sensitive, found=no\n\n"),
            (
                "get map #3 k0",
                "type=str, case=sensitive, found=yes, idx=tree, key=\"k0\", value=\"v0\", type=\"str\"\n\n",
            ),
            ("commit map @1 #3", "\n"),
            (
                "show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=4\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=7\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=1 next_ver=2 entry_cnt=2\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            ("show map #3", "ID k1 v1\n\n"),
            ("commit map @1 #3", "Version number out of range.\n\n"),
            ("commit map @5 #3", "Version number out of range.\n\n"),
            ("commit map #3", "Missing version number.\n\n"),
            ("commit map @2 #3", "\n"),
            ("commit map", "Missing version number.\n\n"),
            ("commit map @2", "Missing map identifier.\n\n"),
            ("show map #3", "ID k2 v2\n\n"),
            (
                "show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=4\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=7\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=2 next_ver=2 entry_cnt=1\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            ("clear map @3 #3", "\n"),
            ("clear map #3", "\n"),
            ("show map #3", "\n"),
            (
                "show map",
                "# id (file) description\n1 (D/beg.map) pattern loaded from file 'D/beg.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=4\n2 (D/ip.map) pattern loaded from file 'D/ip.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=7\n3 (D/hosts.map) pattern loaded from file 'D/hosts.map' used by map at file 'CFG' line 14. curr_ver=2 next_ver=2 entry_cnt=0\n4 (D/re.map) pattern loaded from file 'D/re.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n5 (D/int.map) pattern loaded from file 'D/int.map' used by map at file 'CFG' line 14. curr_ver=0 next_ver=0 entry_cnt=2\n\n",
            ),
            ("clear map", "Missing map identifier.\n\n"),
            (
                "clear map #9",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "clear map #0",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "prepare map #0",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            (
                "prepare map",
                "Unknown map identifier. Please use #<id> or <file>.\n\n",
            ),
            ("prepare acl #0", "New version created: 1\n\n"),
            ("add acl @1 #0 /p", "\n"),
            (
                "add acl @2 #0 /q",
                "Version number in the future, please use 'prepare acl' before.\n\n",
            ),
            ("show acl @1 #0", "ID /p\n\n"),
            ("commit acl @1 #0", "\n"),
            ("show acl #0", "ID /p\n\n"),
            (
                "show acl",
                "# id (file) description\n0 () acl 'path_beg' file 'CFG' line 13. curr_ver=1 next_ver=1 entry_cnt=1\n\n",
            ),
            (
                "get acl #0 /p/x",
                "type=beg, case=sensitive, match=yes, idx=tree, pattern=\"/p\"\n\n",
            ),
            ("clear acl", "Missing ACL identifier.\n\n"),
            ("commit acl", "Missing version number.\n\n"),
            ("commit acl @1", "Missing ACL identifier.\n\n"),
            (
                "prepare acl",
                "Unknown ACL identifier. Please use #<id> or <file>.\n\n",
            ),
        ],
    );
}
/// Every edit reaches the map converters by the next request: additions,
/// value changes, deletions (by key and by entry id), a prepared version
/// once committed, and a payload.
#[test]
fn map_edits_apply_to_the_next_request() {
    let m = start();
    let admin = |c: &str| m.cli(&m.admin, c);
    assert_eq!(
        m.get("/api/v1/x", "example.com", "10.1.2.3"),
        "beg=apiv1 ip=ten-one-two host=ex re=none n=0\n"
    );
    assert_eq!(
        m.get("/u/7/z", "b", "10.9.9.9"),
        "beg=root ip=ten host=none re=user=7 rest=z n=2\n"
    );
    assert_eq!(admin("add map #1 /api/v1/x/y deeper"), "\n");
    assert_eq!(admin("set map #3 example.com changed"), "\n");
    assert_eq!(admin("add map #2 10.1.2.3 exact"), "\n");
    assert_eq!(admin("del map #2 10.0.0.0/8"), "\n");
    assert_eq!(admin("set map #5 b 22"), "\n");
    assert_eq!(
        m.get("/api/v1/x/y/z", "example.com", "10.1.2.3"),
        "beg=deeper ip=exact host=changed re=none n=0\n"
    );
    assert_eq!(
        m.get("/xab", "b", "10.9.9.9"),
        "beg=root ip=none host=none re=xab/xab n=22\n"
    );
    // Delete by the id `show map` printed, once.
    let id = m.entry_id("#2", 0);
    assert_eq!(admin(&format!("del map #2 #{id}")), "\n");
    assert_eq!(admin(&format!("del map #2 #{id}")), "Key not found.\n\n");
    assert!(m.get("/", "x", "10.1.9.9").contains(" ip=none "));
    // A prepared version is invisible until committed.
    assert_eq!(admin("prepare map #3"), "New version created: 1\n\n");
    assert_eq!(admin("add map @1 #3 example.com v1host"), "\n");
    assert!(m.get("/", "example.com", "x").contains(" host=changed "));
    assert_eq!(admin("commit map @1 #3"), "\n");
    assert!(m.get("/", "example.com", "x").contains(" host=v1host "));
    assert!(m.get("/", "foo.org", "x").contains(" host=none "));
    // A payload: the lines up to an empty one.
    assert_eq!(admin("add map #3 <<\nk1 v1\nk2 v2 with spaces\n"), "\n");
    assert!(m.get("/", "k2", "x").contains(" host=v2 with spaces "));
    assert_eq!(admin("clear map #3"), "\n");
    assert!(m.get("/", "k1", "x").contains(" host=none "));
}

/// In prompt mode a payload line is prompted with "+ "; a line without a
/// value stops the payload with 2.6's message, earlier lines added.
#[test]
fn interactive_payload_is_prompted_line_by_line() {
    let m = start();
    let mut s = std::os::unix::net::UnixStream::connect(&m.admin).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(b"prompt\nadd map #3 <<\nk3 v3\nk4\n\nquit\n")
        .expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert_eq!(out, "\n> + + + Missing value for key 'k4'.\n\n> ");
    assert_eq!(
        m.cli(&m.admin, "show map #3"),
        "ID example.com ex\nID foo.org foo\nID example.com ex2\nID k3 v3\n\n"
    );
}
