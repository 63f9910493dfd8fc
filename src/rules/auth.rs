//! Userlists and HTTP basic authentication (configuration.txt 3.4
//! "Userlists", 4.2 `http-request auth`, 7.3.6 `http_auth*`).
//!
//! ```text
//!   config:  userlist L            -> UserLists::open        lists[l]
//!              group G users a,b   -> Group { user_names }   (names only)
//!              user a password $6$...  groups G
//!            http_auth(L)          -> UserLists::reference   lists[l], maybe
//!                                     before `userlist L` (declared = false)
//!   post-parse (cfg::userlist):      user and group names resolved into
//!                                     User::groups; undeclared lists refused
//!   run:     Authorization: Basic base64(user:pass)
//!              parse_basic -> (user, pass) -> UserList::authenticate
//! ```
//!
//! Passwords: `insecure-password` is compared as is; `password` is a
//! crypt(3) string, checked by hashing the offered password with it as
//! the setting and comparing the whole result, as crypt(3) users do.
//! MD5-crypt (`$1$`), SHA-256-crypt (`$5$`) and SHA-512-crypt (`$6$`) are
//! written here over the digests of `conv_digest`; other schemes (DES,
//! bcrypt, yescrypt) are refused when the configuration is read.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::conv_digest::{Algo, Hasher};
use super::store::RuleStore;

/// A user's password as the configuration gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pass {
    /// No `password` nor `insecure-password`: nothing matches (2.6 crashes
    /// on such a user when a request names it).
    None,
    /// `insecure-password`: compared byte for byte.
    Plain(String),
    /// `password`: a crypt(3) string.
    Hash(String),
}

/// One `user` line.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub pass: Pass,
    /// Names from the `groups` option, as written.
    pub group_names: Vec<String>,
    /// Indexes into the list's groups, filled once the configuration is
    /// read (both from `groups` and from the groups' `users`).
    pub groups: Vec<usize>,
}

/// One `group` line.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// Names from the `users` option, as written.
    pub user_names: Vec<String>,
}

/// One `userlist` section.
#[derive(Debug, Clone, Default)]
pub struct UserList {
    pub name: String,
    /// False for a list only referenced so far (`http_auth(L)` read before
    /// `userlist L`).
    pub declared: bool,
    /// Where the section starts (for messages).
    pub file: String,
    pub line: usize,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
}

/// Where a fetch names a userlist, kept to report an undeclared one the
/// way 2.6 does once every section is read.
#[derive(Debug, Clone)]
pub struct UlRef {
    pub list: usize,
    pub fetch: &'static str,
    pub file: String,
    pub line: usize,
    pub proxy: String,
    /// `ACL keyword 'http_auth'` or `sample fetch keyword 'http_auth' in
    /// http-request expression`.
    pub what: String,
}

/// The proxy line being parsed, so a reference knows where it was made.
#[derive(Debug, Clone, Default)]
struct LineCtx {
    proxy: String,
    words: Vec<String>,
    file: String,
    line: usize,
    /// Fetch occurrences already claimed on this line.
    seen: usize,
}

/// Every userlist, and what the configuration parser needs to check
/// references to them.
#[derive(Debug, Clone, Default)]
pub struct UserLists {
    pub lists: Vec<UserList>,
    /// The section `user` and `group` lines go to: a refused `userlist`
    /// line keeps the previous one, as 2.6 does.
    pub cur: Option<usize>,
    /// References made by fetches, in parse order.
    pub refs: Vec<UlRef>,
    /// `(first ACL index, proxy name)`: which proxy declared which ACLs.
    pub acl_marks: Vec<(usize, String)>,
    ctx: Option<LineCtx>,
}

impl UserLists {
    /// The list named `name`, declared or only referenced.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.lists.iter().position(|l| l.name == name)
    }

    /// `userlist <name>`: opens a new list (filling a slot a reference
    /// made). Err(true) when `name` is already declared (the caller warns
    /// and keeps the current section).
    pub fn open(&mut self, name: &str, file: &str, line: usize) -> Result<usize, bool> {
        let i = match self.find(name) {
            Some(i) if self.lists.get(i).is_some_and(|l| l.declared) => return Err(true),
            Some(i) => i,
            None => {
                self.lists.push(UserList {
                    name: name.to_string(),
                    ..Default::default()
                });
                self.lists.len() - 1
            }
        };
        if let Some(l) = self.lists.get_mut(i) {
            l.declared = true;
            l.file = file.to_string();
            l.line = line;
        }
        self.cur = Some(i);
        Ok(i)
    }

    /// A fetch's reference to list `name` (declared later maybe): its
    /// index, and the place recorded for the post-parse check.
    pub fn reference(&mut self, name: &str, fetch: &'static str, file: &str, line: usize) -> usize {
        let list = self.find(name).unwrap_or_else(|| {
            self.lists.push(UserList {
                name: name.to_string(),
                ..Default::default()
            });
            self.lists.len() - 1
        });
        let (proxy, what) = self.place(fetch, file, line);
        self.refs.push(UlRef {
            list,
            fetch,
            file: file.to_string(),
            line,
            proxy,
            what,
        });
        list
    }

    /// Names the use of `fetch` on the current line: an ACL criterion
    /// (`acl x http_auth(L)`, `{ http_auth(L) }`) or a sample expression
    /// of a rule. The n-th call on a line claims the n-th use.
    fn place(&mut self, fetch: &str, file: &str, line: usize) -> (String, String) {
        let Some(ctx) = self
            .ctx
            .as_mut()
            .filter(|c| c.file == file && c.line == line)
        else {
            return (String::new(), format!("ACL keyword '{fetch}'"));
        };
        let call = format!("{fetch}(");
        let mut uses = Vec::new();
        for (i, w) in ctx.words.iter().enumerate() {
            let acl = w.starts_with(&call)
                && ((i == 2 && ctx.words.first().is_some_and(|k| k == "acl"))
                    || i.checked_sub(1)
                        .and_then(|p| ctx.words.get(p))
                        .is_some_and(|p| p.trim_start_matches('!') == "{"));
            let n = w.matches(&call).count();
            uses.extend(std::iter::repeat_n(acl, n));
        }
        let acl = uses.get(ctx.seen).copied().unwrap_or(true);
        ctx.seen += 1;
        let what = if acl {
            format!("ACL keyword '{fetch}'")
        } else {
            let kw = ctx.words.first().map_or("", String::as_str);
            let place = match kw {
                "tcp-request" | "tcp-response" => {
                    format!(
                        "{kw} {} expression",
                        ctx.words.get(1).map_or("", String::as_str)
                    )
                }
                "log-format" | "log-format-sd" | "unique-id-format" | "error-log-format" => {
                    format!("{kw} string")
                }
                _ => format!("{kw} expression"),
            };
            format!("sample fetch keyword '{fetch}' in {place}")
        };
        (ctx.proxy.clone(), what)
    }
}

impl RuleStore {
    /// Called by the configuration parser before each line of proxy
    /// `proxy`: references made on the line name it, and the ACLs declared
    /// from now on belong to it.
    pub fn auth_line(&mut self, proxy: &str, w: &[String], file: &str, line: usize) {
        let acls = self.acls.len();
        let ul = &mut self.userlists;
        if ul.acl_marks.last().is_none_or(|(_, p)| p != proxy) {
            ul.acl_marks.push((acls, proxy.to_string()));
        }
        ul.ctx = Some(LineCtx {
            proxy: proxy.to_string(),
            words: w.to_vec(),
            file: file.to_string(),
            line,
            seen: 0,
        });
    }

    /// Called when a non-proxy section opens: later lines belong to no
    /// proxy.
    pub fn auth_no_proxy(&mut self) {
        let acls = self.acls.len();
        let ul = &mut self.userlists;
        if ul.acl_marks.last().is_some_and(|(_, p)| !p.is_empty()) {
            ul.acl_marks.push((acls, String::new()));
        }
        ul.ctx = None;
    }

    /// The proxy ACL `acl` was declared in.
    pub fn acl_proxy(&self, acl: usize) -> &str {
        self.userlists
            .acl_marks
            .iter()
            .rev()
            .find(|(start, _)| *start <= acl)
            .map_or("", |(_, p)| p.as_str())
    }
}

impl UserList {
    pub fn user(&self, name: &[u8]) -> Option<&User> {
        self.users.iter().find(|u| u.name.as_bytes() == name)
    }

    pub fn group(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == name)
    }

    /// True when `user` exists and `pass` is its password.
    pub fn authenticate(&self, user: &[u8], pass: &[u8]) -> bool {
        self.user(user).is_some_and(|u| check_pass(&u.pass, pass))
    }
}

/// True when `offered` matches `pass`.
pub fn check_pass(pass: &Pass, offered: &[u8]) -> bool {
    match pass {
        Pass::None => false,
        Pass::Plain(p) => p.as_bytes() == offered,
        Pass::Hash(h) => crypt(offered, h).is_some_and(|c| c == *h),
    }
}

/// Why a `password` hash cannot be used, if it cannot: a scheme 2.6
/// knows through the C library but haproxy-rs does not implement.
pub fn unsupported_hash(h: &str) -> Option<&'static str> {
    const DES: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if h.starts_with("$1$") || h.starts_with("$5$") || h.starts_with("$6$") {
        return None;
    }
    if h.len() == 13 && h.bytes().all(|c| DES.contains(&c)) {
        return Some("traditional DES");
    }
    if h.starts_with('_') && h.len() == 20 {
        return Some("BSDi extended DES");
    }
    match h.split('$').nth(1) {
        Some("2a" | "2b" | "2y" | "2x") => Some("bcrypt"),
        Some("y") => Some("yescrypt"),
        Some("gy") => Some("gost-yescrypt"),
        Some("7") => Some("scrypt"),
        Some("sha1") => Some("PBKDF1-SHA1"),
        Some("md5") => Some("Sun MD5"),
        Some("3") => Some("NT-Hash"),
        _ => None,
    }
}

/// crypt(3) of `key` with `setting` (a full hash or just its prefix and
/// salt), for `$1$`, `$5$` and `$6$`; None for another scheme or a
/// malformed setting.
pub fn crypt(key: &[u8], setting: &str) -> Option<String> {
    if let Some(rest) = setting.strip_prefix("$1$") {
        return Some(md5_crypt(key, rest));
    }
    let (algo, rest) = if let Some(r) = setting.strip_prefix("$5$") {
        (Algo::Sha256, r)
    } else {
        (Algo::Sha512, setting.strip_prefix("$6$")?)
    };
    sha_crypt(algo, key, rest)
}

/// The crypt alphabet.
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Appends `n` characters of the 24-bit group `b2 b1 b0`, low bits first.
fn b64_24(out: &mut String, b2: u8, b1: u8, b0: u8, n: usize) {
    let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
    for _ in 0..n {
        out.push(char::from(
            *ITOA64.get((w & 0x3f) as usize).unwrap_or(&b'.'),
        ));
        w >>= 6;
    }
}

/// Encodes `d` by the scheme's triples of byte indexes (a last triple may
/// name fewer bytes: index `usize::MAX` stands for a zero byte).
fn encode(out: &mut String, d: &[u8], triples: &[(usize, usize, usize)], last: usize) {
    let at = |i: usize| d.get(i).copied().unwrap_or(0);
    let n = triples.len();
    for (k, &(a, b, c)) in triples.iter().enumerate() {
        let chars = if k + 1 == n { last } else { 4 };
        b64_24(out, at(a), at(b), at(c), chars);
    }
}

fn hash(algo: Algo, parts: &[&[u8]], out: &mut Vec<u8>) {
    let mut h = Hasher::new(algo);
    parts.iter().for_each(|p| h.update(p));
    out.clear();
    h.finish(out);
}

/// MD5-crypt (Poul-Henning Kamp's FreeBSD scheme): `rest` is what follows
/// `$1$`; the salt is up to 8 characters before any `$`.
fn md5_crypt(key: &[u8], rest: &str) -> String {
    let salt = rest.split('$').next().unwrap_or("");
    let salt = salt.get(..salt.len().min(8)).unwrap_or(salt).as_bytes();
    let mut alt = Vec::with_capacity(16);
    hash(Algo::Md5, &[key, salt, key], &mut alt);
    let mut h = Hasher::new(Algo::Md5);
    h.update(key);
    h.update(b"$1$");
    h.update(salt);
    for chunk in key.chunks(16) {
        h.update(alt.get(..chunk.len()).unwrap_or(&[]));
    }
    let mut i = key.len();
    while i > 0 {
        if i & 1 == 1 {
            h.update(&[0]);
        } else {
            h.update(key.get(..1).unwrap_or(&[]));
        }
        i >>= 1;
    }
    let mut fin = Vec::with_capacity(16);
    h.finish(&mut fin);
    let mut next = Vec::with_capacity(16);
    for i in 0..1000 {
        let mut h = Hasher::new(Algo::Md5);
        h.update(if i & 1 == 1 { key } else { &fin });
        if i % 3 != 0 {
            h.update(salt);
        }
        if i % 7 != 0 {
            h.update(key);
        }
        h.update(if i & 1 == 1 { &fin } else { key });
        next.clear();
        h.finish(&mut next);
        std::mem::swap(&mut fin, &mut next);
    }
    let mut out = format!("$1${}$", String::from_utf8_lossy(salt));
    const T: &[(usize, usize, usize)] = &[
        (0, 6, 12),
        (1, 7, 13),
        (2, 8, 14),
        (3, 9, 15),
        (4, 10, 5),
        (usize::MAX, usize::MAX, 11),
    ];
    encode(&mut out, &fin, T, 2);
    out
}

/// SHA-crypt (Ulrich Drepper's specification, 2007): `rest` is what
/// follows `$5$` or `$6$`: an optional `rounds=<n>$`, then a salt of up to
/// 16 characters before any `$`.
fn sha_crypt(algo: Algo, key: &[u8], rest: &str) -> Option<String> {
    const ROUNDS_DEFAULT: u64 = 5000;
    let (rounds, custom, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => {
            // libxcrypt (2.6's crypt(3) on Debian) refuses what glibc
            // clamped: a count out of range, a leading zero.
            let (n, after) = r.split_once('$')?;
            if n.starts_with('0') || !n.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let n: u64 = n.parse().ok()?;
            if !(1000..=999_999_999).contains(&n) {
                return None;
            }
            (n, true, after)
        }
        None => (ROUNDS_DEFAULT, false, rest),
    };
    let salt = rest.split('$').next().unwrap_or("");
    let salt = salt.get(..salt.len().min(16)).unwrap_or(salt).as_bytes();
    if salt.iter().any(|c| matches!(c, b':' | b'\n')) {
        return None;
    }
    let hl = algo.out_len();
    let mut b = Vec::with_capacity(hl);
    hash(algo, &[key, salt, key], &mut b);
    let mut h = Hasher::new(algo);
    h.update(key);
    h.update(salt);
    for chunk in key.chunks(hl) {
        h.update(b.get(..chunk.len()).unwrap_or(&[]));
    }
    let mut i = key.len();
    while i > 0 {
        h.update(if i & 1 == 1 { &b } else { key });
        i >>= 1;
    }
    let mut a = Vec::with_capacity(hl);
    h.finish(&mut a);
    // P sequence: H(key repeated len(key) times), repeated to len(key).
    let mut h = Hasher::new(algo);
    key.iter().for_each(|_| h.update(key));
    let mut dp = Vec::with_capacity(hl);
    h.finish(&mut dp);
    let p: Vec<u8> = dp.iter().copied().cycle().take(key.len()).collect();
    // S sequence: H(salt repeated 16 + A[0] times), cut to len(salt).
    let mut h = Hasher::new(algo);
    for _ in 0..16 + usize::from(a.first().copied().unwrap_or(0)) {
        h.update(salt);
    }
    let mut ds = Vec::with_capacity(hl);
    h.finish(&mut ds);
    let s: Vec<u8> = ds.iter().copied().cycle().take(salt.len()).collect();
    let mut next = Vec::with_capacity(hl);
    for r in 0..rounds {
        let mut h = Hasher::new(algo);
        h.update(if r & 1 == 1 { &p } else { &a });
        if r % 3 != 0 {
            h.update(&s);
        }
        if r % 7 != 0 {
            h.update(&p);
        }
        h.update(if r & 1 == 1 { &a } else { &p });
        next.clear();
        h.finish(&mut next);
        std::mem::swap(&mut a, &mut next);
    }
    let id = if algo == Algo::Sha256 { 5 } else { 6 };
    let mut out = format!("${id}$");
    if custom {
        out.push_str(&format!("rounds={rounds}$"));
    }
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    if algo == Algo::Sha256 {
        // Groups of {i, i+10, i+20}, rotated by one place per group.
        let t: Vec<(usize, usize, usize)> = (0..10)
            .map(|i| match i % 3 {
                0 => (i, i + 10, i + 20),
                1 => (i + 20, i, i + 10),
                _ => (i + 10, i + 20, i),
            })
            .chain([(usize::MAX, 31, 30)])
            .collect();
        encode(&mut out, &a, &t, 3);
    } else {
        // Groups of {i, i+21, i+42}, rotated the other way.
        let t: Vec<(usize, usize, usize)> = (0..21)
            .map(|i| match i % 3 {
                0 => (i, i + 21, i + 42),
                1 => (i + 21, i + 42, i),
                _ => (i + 42, i, i + 21),
            })
            .chain([(usize::MAX, usize::MAX, 63)])
            .collect();
        encode(&mut out, &a, &t, 2);
    }
    Some(out)
}

/// Credentials of an `Authorization` header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// `Basic`: the user and password decoded (the password may hold `:`).
    Basic(&'a [u8], &'a [u8]),
    /// `Bearer <token>`.
    Bearer(&'a [u8]),
}

/// Parses the first value of an `Authorization` header as 2.6 does: a
/// scheme, one or more spaces, then for `Basic` a base64 `user:pass`
/// (decoded into `buf`, cut at a NUL byte, split at the first `:`), for
/// `Bearer` a token. Schemes are case-insensitive. None for another
/// scheme, no space, a bad base64 text or no `:`.
pub fn parse_credentials<'b>(value: &'b [u8], buf: &'b mut Vec<u8>) -> Option<Credentials<'b>> {
    let sp = value.iter().position(|&c| c == b' ')?;
    let (scheme, rest) = value.split_at(sp);
    let data = rest.get(rest.iter().position(|&c| c != b' ')?..)?;
    if scheme.eq_ignore_ascii_case(b"Bearer") {
        return Some(Credentials::Bearer(data));
    }
    if !scheme.eq_ignore_ascii_case(b"Basic") {
        return None;
    }
    buf.clear();
    if !super::conv_enc::b64_decode(data, buf, false) {
        return None;
    }
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    let text = buf.get(..end)?;
    let colon = text.iter().position(|&c| c == b':')?;
    Some(Credentials::Basic(
        text.get(..colon)?,
        text.get(colon + 1..)?,
    ))
}

/// The reply to `http-request auth [realm <realm>]` (configuration.txt
/// 4.2): 2.6's built-in 401 message with `www-authenticate: Basic
/// realm="<realm>"` after its headers. The realm is written as given
/// (2.6 escapes nothing); without one, 2.6 uses the name of the proxy
/// holding the rule. The analyser adds `connection: close` or
/// `keep-alive` after it, as for any reply it makes.
pub fn auth_reply(realm: &str) -> Vec<u8> {
    auth_reply_from(crate::http::errors::BUILTIN_401, realm)
}

/// [`auth_reply`] over another 401 message (an `errorfile 401` or
/// `http-error status 401`): every `www-authenticate` header is removed
/// and the challenge appended after the remaining headers. A message
/// without an end of headers is returned with the challenge at its end.
pub fn auth_reply_from(msg: &[u8], realm: &str) -> Vec<u8> {
    let end = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(msg.len(), |p| p + 2);
    let (head, body) = msg.split_at(end);
    let mut out = Vec::with_capacity(msg.len() + realm.len() + 40);
    for (i, l) in head.split(|&c| c == b'\n').enumerate() {
        if l.is_empty() {
            continue;
        }
        let name = l.split(|&c| c == b':').next().unwrap_or(&[]);
        if i > 0 && name.eq_ignore_ascii_case(b"www-authenticate") {
            continue;
        }
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out.extend_from_slice(b"www-authenticate: Basic realm=\"");
    out.extend_from_slice(realm.as_bytes());
    out.extend_from_slice(b"\"\r\n");
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_crypt_matches_openssl_and_glibc() {
        // openssl passwd -5/-6 -salt saltsalt secret
        let h5 = "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA";
        let h6 = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
        assert_eq!(crypt(b"secret", h5).as_deref(), Some(h5));
        assert_eq!(crypt(b"secret", h6).as_deref(), Some(h6));
        assert_ne!(crypt(b"Secret", h6).as_deref(), Some(h6));
        // glibc crypt(3) with explicit rounds.
        let r5 = "$5$rounds=1000$abc$Mz4DiYKTnNKbZLo/mIp3d8Y4aQBhv3uhSwxLDy55/Y8";
        let r6 = "$6$rounds=1000$abc$MqEcPZUYRGGcOeq7PhMpfjfu/F0HrVEI0OlZBijWvO8mSG77iNUDP5MqFceKpJTBc8iITVtNyLiNTRNCxv6oh0";
        assert_eq!(crypt(b"secret", r5).as_deref(), Some(r5));
        assert_eq!(crypt(b"secret", r6).as_deref(), Some(r6));
        // Drepper's specification vectors, as libxcrypt computes them.
        assert_eq!(
            crypt(b"Hello world!", "$5$saltstring").as_deref(),
            Some("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5")
        );
        assert_eq!(
            crypt(b"Hello world!", "$6$rounds=10000$saltstringsaltstring").as_deref(),
            Some(
                "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
            )
        );
        assert_eq!(
            crypt(
                b"we have a short salt string but not a short password",
                "$5$rounds=77777$short"
            )
            .as_deref(),
            Some("$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/")
        );
        // Long keys and salts (salt cut at 16), from Python's crypt.
        let long = [b'a'; 70];
        assert_eq!(
            crypt(&long, "$6$abcdefghijklmnopqrstu").as_deref(),
            Some(
                "$6$abcdefghijklmnop$JNNDcqkpO3mDGu0VM9UD1eOEvJfheEFX86sNVZUEGHnQZP9lXuOHM7YPTrr9VdeXYNyFwg0gEYFJRT1LQAb9u/"
            )
        );
        assert_eq!(
            crypt(b"secret", "$5$a$b$c").as_deref(),
            Some("$5$a$tCYspCVtCn1.MmJdxOr008Us2DcT3YW7dL1YBGz6mE2")
        );
        assert_eq!(
            crypt(b"secret", "$5$").as_deref(),
            Some("$5$$o1w7HPzHt8gHmL5zUzDkRqt6Az.BjDfkvuDNNLWnXx5")
        );
        // libxcrypt refuses what glibc would clamp.
        for bad in [
            "$5$rounds=999$abc",
            "$5$rounds=1000000000$abc",
            "$5$rounds=01000$abc",
            "$5$rounds=$abc",
            "$5$ab:c",
        ] {
            assert_eq!(crypt(b"secret", bad), None, "{bad}");
        }
        assert_eq!(crypt(b"x", "$5$rounds=abc$s$"), None);
        assert_eq!(crypt(b"x", "$7$abc"), None);
    }

    #[test]
    fn md5_crypt_matches_openssl() {
        // openssl passwd -1 -salt saltsalt secret; Python crypt (glibc).
        let h = "$1$saltsalt$9xy1btjgzLYfb7hivXtC//";
        assert_eq!(crypt(b"secret", h).as_deref(), Some(h));
        assert_eq!(
            crypt(&[b'a'; 70], "$1$abcdefghij").as_deref(),
            Some("$1$abcdefgh$RAACyPJgyZkwwCU2vKY6X0")
        );
        assert_eq!(
            crypt(b"", "$1$abc").as_deref(),
            Some("$1$abc$Or2rbeUYTvt12aiVzMuS/.")
        );
        let h = "$1$abc$iCQ2D3nhptRYi27fDYv2s1";
        assert_eq!(crypt(b"secret", h).as_deref(), Some(h));
        assert!(check_pass(&Pass::Hash(h.into()), b"secret"));
        assert!(!check_pass(&Pass::Hash(h.into()), b"secreT"));
        assert!(!check_pass(&Pass::Hash(String::new()), b""));
        assert!(check_pass(&Pass::Plain(String::new()), b""));
        assert!(!check_pass(&Pass::None, b""));
    }

    #[test]
    fn unsupported_schemes_are_named() {
        assert_eq!(unsupported_hash("abNANd1rDfiNc"), Some("traditional DES"));
        assert_eq!(
            unsupported_hash("$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW"),
            Some("bcrypt")
        );
        assert_eq!(unsupported_hash("$y$j9T$abc$def"), Some("yescrypt"));
        assert_eq!(unsupported_hash("$6$x$y"), None);
        // Garbage never matches, in 2.6 as here, and is accepted.
        assert_eq!(unsupported_hash("xyz"), None);
    }

    fn creds(v: &str) -> Option<(String, String)> {
        let mut buf = Vec::new();
        match parse_credentials(v.as_bytes(), &mut buf)? {
            Credentials::Basic(u, p) => Some((
                String::from_utf8_lossy(u).into(),
                String::from_utf8_lossy(p).into(),
            )),
            Credentials::Bearer(t) => Some(("bearer".into(), String::from_utf8_lossy(t).into())),
        }
    }

    #[test]
    fn basic_header_decoding_as_haproxy() {
        let ok = Some(("scott".to_string(), "elgato".to_string()));
        assert_eq!(creds("Basic c2NvdHQ6ZWxnYXRv"), ok);
        assert_eq!(creds("basic c2NvdHQ6ZWxnYXRv"), ok);
        assert_eq!(creds("BASIC  c2NvdHQ6ZWxnYXRv"), ok);
        // NUL cuts the decoded text; the password keeps later colons.
        assert_eq!(creds("Basic c2NvdHQ6ZWxnYXRvAA=="), ok);
        assert_eq!(
            creds("Basic c2NvdHQ6ZWxnYXRvOng="),
            Some(("scott".into(), "elgato:x".into()))
        );
        assert_eq!(creds("Basic Og=="), Some((String::new(), String::new())));
        for bad in [
            "Basic",
            "Basicc2NvdHQ6ZWxnYXRv",
            "Basic\tc2NvdHQ6ZWxnYXRv",
            "Basic c2NvdHQ",
            "Basic c2NvdHQ6ZWxnYXRv==",
            "Basic c2NvdHQ6ZWxnYXRv!",
            "Basic c2Nv dHQ6ZWxnYXRv",
            "Basic Zm9v",
            "Basic \"c2NvdHQ6ZWxnYXRv\"",
            "Digest x",
            "Bearer",
        ] {
            assert_eq!(creds(bad), None, "{bad}");
        }
        assert_eq!(creds("bearer  abc"), Some(("bearer".into(), "abc".into())));
    }

    #[test]
    fn reply_is_26s_401_with_the_challenge() {
        let r = auth_reply("fe");
        assert_eq!(
            r,
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\n\
              content-type: text/html\r\nwww-authenticate: Basic realm=\"fe\"\r\n\r\n\
              <html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to \
              access this content.\n</body></html>\n"
                .to_vec()
        );
        let r = auth_reply("My \"Realm\" x");
        assert!(
            r.windows(36)
                .any(|w| w == b"www-authenticate: Basic realm=\"My \"R")
        );
        // An errorfile's own challenges are replaced (recorded from 2.6).
        let e =
            b"HTTP/1.1 401 Nope\r\nwww-authenticate: Digest x\r\nx-a: 1\r\ncontent-length: 3\r\n\
                  WWW-Authenticate: y\r\n\r\nno\n";
        assert_eq!(
            auth_reply_from(e, "R"),
            b"HTTP/1.1 401 Nope\r\nx-a: 1\r\ncontent-length: 3\r\nwww-authenticate: Basic realm=\"R\"\r\n\r\nno\n".to_vec()
        );
    }
}
