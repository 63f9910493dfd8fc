//! "Did you mean" suggestions for near-miss keywords.
//!
//! Each word gets a fingerprint made of the set of characters it contains and
//! the set of ordered character pairs it contains, including a "start" and an
//! "end" pseudo-character (so `mode` yields `^m`, `mo`, `od`, `de`, `e$`).
//! Letters are compared case-insensitively, digits form one class and every
//! other character another. The distance between two words is the number of
//! characters plus pairs present in only one of them.
//!
//! The closest candidate (first one on ties) is suggested when its distance
//! is at most twice the length of the shorter of the two words. This was
//! tuned against HAProxy 2.6's own suggestions for a few thousand typos
//! (truncations, transpositions, deletions, prefixes and suffixes of real
//! keywords): e.g. `timout` -> `timeout`, `blance` -> `balance`, `maxcon` ->
//! `maxconn`, `mdoe` -> `mode`, `ac` -> `acl`, while `tim`, `bal`,
//! `balanceroundrobin` or `xyzzy` get nothing.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// Pseudo character classes (0-25 letters, 26 digits, 27 anything else).
const START: usize = 28;
const END: usize = 29;

/// Character-class fingerprint of a word.
#[derive(Clone, PartialEq, Eq)]
struct Fingerprint {
    /// Bit i set when class i appears in the word.
    chars: u32,
    /// Bit (from * 32 + to) set when the pair appears.
    pairs: [u64; 16],
    /// Word length in characters.
    len: usize,
}

fn class_of(c: char) -> usize {
    match c {
        'a'..='z' => usize::from(c as u8 - b'a'),
        'A'..='Z' => usize::from(c as u8 - b'A'),
        '0'..='9' => 26,
        _ => 27,
    }
}

impl Fingerprint {
    fn new(word: &str) -> Self {
        let mut fp = Fingerprint {
            chars: 0,
            pairs: [0; 16],
            len: 0,
        };
        let mut prev = START;
        for c in word.chars() {
            let cls = class_of(c);
            fp.chars |= 1 << cls;
            fp.add_pair(prev, cls);
            prev = cls;
            fp.len += 1;
        }
        fp.add_pair(prev, END);
        fp
    }

    fn add_pair(&mut self, from: usize, to: usize) {
        let bit = from * 32 + to;
        if let Some(slot) = self.pairs.get_mut(bit / 64) {
            *slot |= 1 << (bit % 64);
        }
    }

    fn distance(&self, other: &Fingerprint) -> u32 {
        let chars = (self.chars ^ other.chars).count_ones();
        let pairs: u32 = self
            .pairs
            .iter()
            .zip(other.pairs.iter())
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        chars + pairs
    }
}

/// Distance between two words as used by [`did_you_mean`] (0 for words equal
/// up to case).
pub fn word_distance(a: &str, b: &str) -> u32 {
    Fingerprint::new(a).distance(&Fingerprint::new(b))
}

/// Best candidate for `word` among `candidates` if close enough, else None.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let fp = Fingerprint::new(word);
    if fp.len == 0 {
        return None;
    }
    let mut best: Option<(u32, &'a str, usize)> = None;
    for &cand in candidates {
        let cfp = Fingerprint::new(cand);
        if cfp.len == 0 {
            continue;
        }
        let d = fp.distance(&cfp);
        if best.is_none_or(|(bd, _, _)| d < bd) {
            best = Some((d, cand, cfp.len));
        }
    }
    let (d, cand, clen) = best?;
    let limit = 2 * fp.len.min(clen);
    (usize::try_from(d).unwrap_or(usize::MAX) <= limit).then_some(cand)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOBAL: &[&str] = &[
        "global",
        "defaults",
        "frontend",
        "backend",
        "listen",
        "peers",
        "resolvers",
        "userlist",
        "maxconn",
        "maxconnrate",
        "maxsessrate",
        "maxsslconn",
        "maxsslrate",
        "maxpipes",
        "daemon",
        "nbthread",
        "pidfile",
        "chroot",
        "user",
        "group",
        "uid",
        "gid",
        "log",
        "log-send-hostname",
        "log-tag",
        "stats",
        "ulimit-n",
        "node",
        "description",
        "tune.bufsize",
        "tune.maxrewrite",
        "tune.h2.max-concurrent-streams",
        "spread-checks",
        "hard-stop-after",
        "cpu-map",
        "setenv",
        "presetenv",
        "unsetenv",
        "resetenv",
        "localpeer",
        "master-worker",
        "busy-polling",
        "unix-bind",
        "ca-base",
        "crt-base",
        "external-check",
        "ssl-default-bind-ciphers",
        "ssl-default-bind-options",
        "ssl-server-verify",
        "quiet",
        "noepoll",
        "nopoll",
        "nosplice",
        "server-state-file",
        "server-state-base",
        "lua-load",
        "close-spread-time",
        "numa-cpu-mapping",
        "strict-limits",
        "zero-warning",
    ];

    const PROXY: &[&str] = &[
        "global",
        "defaults",
        "frontend",
        "backend",
        "listen",
        "peers",
        "acl",
        "backlog",
        "balance",
        "bind",
        "capture",
        "compression",
        "cookie",
        "declare",
        "default-server",
        "default_backend",
        "description",
        "disabled",
        "dispatch",
        "email-alert",
        "enabled",
        "errorfile",
        "errorfiles",
        "errorloc",
        "errorloc302",
        "errorloc303",
        "filter",
        "force-persist",
        "fullconn",
        "hash-type",
        "http-after-response",
        "http-check",
        "http-error",
        "http-request",
        "http-response",
        "http-reuse",
        "id",
        "ignore-persist",
        "log",
        "log-format",
        "log-tag",
        "max-keep-alive-queue",
        "maxconn",
        "mode",
        "monitor",
        "monitor-uri",
        "option",
        "persist",
        "rate-limit",
        "redirect",
        "retries",
        "retry-on",
        "server",
        "server-template",
        "source",
        "stats",
        "stick",
        "stick-table",
        "tcp-check",
        "tcp-request",
        "tcp-response",
        "timeout",
        "unique-id-format",
        "unique-id-header",
        "use-server",
        "use_backend",
    ];

    #[test]
    fn typical_typos_match_haproxy() {
        // (typo, candidates, what HAProxy 2.6 suggests)
        let cases: &[(&str, &[&str], &str)] = &[
            ("timout", PROXY, "timeout"),
            ("tiemout", PROXY, "timeout"),
            ("blance", PROXY, "balance"),
            ("balanse", PROXY, "balance"),
            ("maxcon", GLOBAL, "maxconn"),
            ("MAXCONN", GLOBAL, "maxconn"),
            ("Maxconn", GLOBAL, "maxconn"),
            ("deamon", GLOBAL, "daemon"),
            ("nbthrad", GLOBAL, "nbthread"),
            ("pidfle", GLOBAL, "pidfile"),
            ("tune.bufsiz", GLOBAL, "tune.bufsize"),
            (
                "tune.h2.maxconcurrentstream",
                GLOBAL,
                "tune.h2.max-concurrent-streams",
            ),
            ("mdoe", PROXY, "mode"),
            ("optoin", PROXY, "option"),
            ("retires", PROXY, "retries"),
            ("log-formt", PROXY, "log-format"),
            ("sever", PROXY, "server"),
            ("http-reqest", PROXY, "http-request"),
            ("bnd", PROXY, "bind"),
            ("defualt_backend", PROXY, "default_backend"),
            ("use_backen", PROXY, "use_backend"),
            ("bakend", PROXY, "backend"),
            ("time", PROXY, "timeout"),
            ("timeou", PROXY, "timeout"),
            ("timeouts", PROXY, "timeout"),
            ("mod", PROXY, "mode"),
            ("moe", PROXY, "mode"),
            ("odem", PROXY, "mode"),
            ("lance", PROXY, "balance"),
            ("servr", PROXY, "server"),
            ("sevrer", PROXY, "server"),
            ("cokie", PROXY, "cookie"),
            ("stast", PROXY, "stats"),
            ("hashtype", PROXY, "hash-type"),
            ("acls", PROXY, "acl"),
            ("ac", PROXY, "acl"),
            ("cl", PROXY, "acl"),
            ("retry", PROXY, "retry-on"),
            ("toorhc", GLOBAL, "chroot"),
            ("upgro", GLOBAL, "group"),
            ("qqqqqqchroot", GLOBAL, "chroot"),
            ("abcdefdaemon", GLOBAL, "daemon"),
            ("abcdchroot", GLOBAL, "chroot"),
            ("esur", GLOBAL, "user"),
        ];
        for &(typo, cands, want) in cases {
            assert_eq!(did_you_mean(typo, cands), Some(want), "{typo}");
        }
        assert_eq!(did_you_mean("sl", &["ssl", "crt", "alpn"]), Some("ssl"));
        assert_eq!(
            did_you_mean("httplgo", &["httplog", "tcplog", "httpchk"]),
            Some("httplog")
        );
    }

    #[test]
    fn unrelated_words_get_nothing() {
        let cases: &[(&str, &[&str])] = &[
            ("xyzzy", PROXY),
            ("xyzzy", GLOBAL),
            ("foo", PROXY),
            ("a", GLOBAL),
            ("ab", GLOBAL),
            ("qqqqqqqqqqqqqqqq", GLOBAL),
            ("tim", PROXY),
            ("bal", PROXY),
            ("md", PROXY),
            ("out", PROXY),
            ("srv", PROXY),
            ("svr", PROXY),
            ("balanceroundrobin", PROXY),
            ("nomead", GLOBAL),
            ("rsue", GLOBAL),
            ("puorg", GLOBAL),
            ("uvwxyzchroot", GLOBAL),
            ("abcdefuser", GLOBAL),
            ("http", PROXY),
        ];
        for &(word, cands) in cases {
            assert_eq!(did_you_mean(word, cands), None, "{word}");
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(did_you_mean("", PROXY), None);
        assert_eq!(did_you_mean("mode", &[]), None);
        assert_eq!(did_you_mean("mode", &["", "mode"]), Some("mode"));
        assert_eq!(did_you_mean("mode", &[""]), None);
        // exact and case-insensitive matches are distance 0
        assert_eq!(word_distance("mode", "mode"), 0);
        assert_eq!(word_distance("MoDe", "mode"), 0);
        // first candidate wins ties
        assert_eq!(did_you_mean("ab", &["abc", "abd"]), Some("abc"));
        assert_eq!(did_you_mean("ab", &["abd", "abc"]), Some("abd"));
        // non-ASCII is just "another" character and does not panic
        assert_eq!(did_you_mean("modé", &["mode"]), Some("mode"));
        assert_eq!(did_you_mean("ééééé", &["mode"]), None);
    }

    #[test]
    fn distance_properties() {
        assert_eq!(word_distance("mode", "mdoe"), word_distance("mdoe", "mode"));
        // "mode" vs "mod": 'e' missing, pairs d$ vs de,e$ differ
        assert_eq!(word_distance("mode", "mod"), 4);
        // digits share a class, as do punctuation characters
        assert_eq!(word_distance("a1", "a2"), 0);
        assert_eq!(word_distance("a-b", "a_b"), 0);
        assert!(word_distance("timeout", "timout") < word_distance("timeout", "balance"));
    }
}
