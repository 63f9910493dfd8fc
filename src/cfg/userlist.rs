//! `userlist` sections (configuration.txt 3.4) and the post-parse checks
//! of userlists and of the fetches that name them, with HAProxy 2.6's
//! messages.
//!
//! ```text
//!   userlist L            open (a refused line keeps the current list)
//!     group G [users a,b]
//!     user a [password <crypt> | insecure-password <pw>] [groups G,H]
//!   after parsing:
//!     check_lists  every list, last declared first; per list the users
//!                  then the groups, last first: the first unknown name
//!                  stops the configuration (2.6 reports only that one)
//!     check_refs   lists named by fetches but never declared (grouped per
//!                  proxy), then `http_auth_group` ACLs naming unknown
//!                  groups
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::{Diags, Level};
use crate::rules::auth::{Group, Pass, User, unsupported_hash};
use crate::rules::pattern::Match;
use crate::rules::store::RuleStore;

/// One line of a userlist section, the `userlist` line included.
pub fn line(store: &mut RuleStore, diags: &mut Diags, w: &[String], file: &str, line: usize) {
    let kw = w.first().map_or("", String::as_str);
    let arg = |i: usize| w.get(i).map_or("", String::as_str);
    let ul = &mut store.userlists;
    match kw {
        "userlist" => {
            if arg(1).is_empty() {
                diags.alert_tight(file, line, "'userlist' expects <name> as arguments.");
            } else if ul.open(arg(1), file, line).is_err() {
                diags.warn_tight(
                    file,
                    line,
                    format!("ignoring duplicated userlist '{}'.", arg(1)),
                );
            }
        }
        "group" => {
            if arg(1).is_empty() {
                diags.alert_tight(file, line, "'group' expects <name> as arguments.");
                return;
            }
            let Some(l) = ul.cur.and_then(|i| ul.lists.get_mut(i)) else {
                return;
            };
            if l.group(arg(1)).is_some() {
                diags.warn_tight(
                    file,
                    line,
                    format!(
                        "ignoring duplicated group '{}' in userlist '{}'.",
                        arg(1),
                        l.name
                    ),
                );
                return;
            }
            let mut users = Vec::new();
            let mut i = 2;
            while !arg(i).is_empty() {
                if arg(i) != "users" {
                    diags.alert_tight(file, line, "'group' only supports 'users' option.");
                    return;
                }
                users = names(arg(i + 1));
                i += 2;
            }
            l.groups.push(Group {
                name: arg(1).to_string(),
                user_names: users,
            });
        }
        "user" => {
            if arg(1).is_empty() {
                diags.alert_tight(file, line, "'user' expects <name> as arguments.");
                return;
            }
            let Some(l) = ul.cur.and_then(|i| ul.lists.get_mut(i)) else {
                return;
            };
            if l.user(arg(1).as_bytes()).is_some() {
                diags.warn_tight(
                    file,
                    line,
                    format!(
                        "ignoring duplicated user '{}' in userlist '{}'.",
                        arg(1),
                        l.name
                    ),
                );
                return;
            }
            let (mut pass, mut groups) = (Pass::None, Vec::new());
            let mut i = 2;
            while !arg(i).is_empty() {
                match arg(i) {
                    "password" => pass = Pass::Hash(arg(i + 1).to_string()),
                    "insecure-password" => pass = Pass::Plain(arg(i + 1).to_string()),
                    "groups" => groups = names(arg(i + 1)),
                    _ => {
                        diags.alert_tight(
                            file,
                            line,
                            "'user' only supports 'password', 'insecure-password' and 'groups' options.",
                        );
                        return;
                    }
                }
                i += 2;
            }
            if let Pass::Hash(h) = &pass
                && let Some(scheme) = unsupported_hash(h)
            {
                diags.alert_tight(
                    file,
                    line,
                    format!(
                        "user '{}' in userlist '{}': {scheme} password hashes are not supported by haproxy-rs (HAProxy 2.6 checks them with crypt(3)); use a $1$, $5$ or $6$ hash.",
                        arg(1),
                        l.name
                    ),
                );
                return;
            }
            l.users.push(User {
                name: arg(1).to_string(),
                pass,
                group_names: groups,
                groups: Vec::new(),
            });
        }
        _ => diags.alert_tight(
            file,
            line,
            format!("unknown keyword '{kw}' in 'users' section"),
        ),
    }
}

/// A comma-separated list of names; empty names are skipped as 2.6 does.
fn names(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// Resolves group and user names inside every declared list and fills
/// each user's groups. False (one alert) at the first unknown name, in
/// 2.6's order.
pub fn check_lists(store: &mut RuleStore, diags: &mut Diags) -> bool {
    for l in store
        .userlists
        .lists
        .iter_mut()
        .rev()
        .filter(|l| l.declared)
    {
        let mut member: Vec<Vec<usize>> = vec![Vec::new(); l.users.len()];
        // 2.6 checks the last user (and group) first.
        for (u, m) in l.users.iter().zip(member.iter_mut()).rev() {
            for g in &u.group_names {
                let Some(gi) = l.groups.iter().position(|x| x.name == *g) else {
                    diags.global(
                        Level::Alert,
                        format!(
                            "userlist '{}': no such group '{g}' specified in user '{}'",
                            l.name, u.name
                        ),
                    );
                    return false;
                };
                m.push(gi);
            }
        }
        for (gi, g) in l.groups.iter().enumerate().rev() {
            for un in &g.user_names {
                let Some(ui) = l.users.iter().position(|u| u.name == *un) else {
                    diags.global(
                        Level::Alert,
                        format!(
                            "userlist '{}': no such user '{un}' specified in group '{}'",
                            l.name, g.name
                        ),
                    );
                    return false;
                };
                if let Some(m) = member.get_mut(ui) {
                    m.push(gi);
                }
            }
        }
        for (u, mut m) in l.users.iter_mut().zip(member) {
            m.sort_unstable();
            m.dedup();
            u.groups = m;
        }
    }
    true
}

/// Refuses fetches naming a userlist that was never declared (2.6's
/// argument resolution, grouped per proxy), then `http_auth_group` ACLs
/// whose patterns are not groups of their list. False when it alerted.
pub fn check_refs(store: &mut RuleStore, diags: &mut Diags) -> bool {
    let ul = &store.userlists;
    let mut missing: Vec<(&str, String)> = Vec::new();
    for r in &ul.refs {
        let Some(l) = ul.lists.get(r.list).filter(|l| !l.declared) else {
            continue;
        };
        missing.push((
            &r.proxy,
            format!(
                "parsing [{}:{}]: unable to find userlist '{}' referenced in arg 1 of {} in proxy '{}'.",
                r.file, r.line, l.name, r.what, r.proxy
            ),
        ));
    }
    if !missing.is_empty() {
        for group in missing.chunk_by(|a, b| a.0 == b.0) {
            let msg = match group {
                [(_, one)] => one.clone(),
                _ => {
                    let mut m = String::from("multiple argument resolution errors:");
                    for (_, l) in group {
                        m.push_str("\n        ");
                        m.push_str(l);
                    }
                    m
                }
            };
            diags.global(Level::Alert, msg);
        }
        return false;
    }
    let mut ok = true;
    for (ai, acl) in store.acls.iter().enumerate() {
        for t in acl
            .terms
            .iter()
            .filter(|t| t.expr.fetch.name == "http_auth_group")
        {
            let Some(crate::rules::expr::Arg::UserList(_, li)) = t.expr.args.first() else {
                continue;
            };
            let Some(list) = ul.lists.get(*li) else {
                continue;
            };
            let head = format!(
                "proxy {}: acl {} http_auth_group():",
                store.acl_proxy(ai),
                acl.name
            );
            let keys: Vec<&str> = if t.expr.convs.is_empty() && t.method == Match::Str {
                t.pats
                    .iter()
                    .filter_map(|&p| store.exprs.get(p))
                    .filter_map(|e| store.refs.get(e.ref_id))
                    .flat_map(|r| r.entries.iter().map(|e| e.key.as_str()))
                    .collect()
            } else {
                Vec::new()
            };
            if keys.is_empty() {
                diags.global(Level::Alert, format!("{head} no groups specified."));
                ok = false;
            }
            for k in keys.into_iter().filter(|k| list.group(k).is_none()) {
                diags.global(Level::Alert, format!("{head} invalid group '{k}'."));
                ok = false;
            }
        }
    }
    ok
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn run(text: &str) -> (RuleStore, Vec<String>, bool) {
        let mut s = RuleStore::default();
        let mut d = Diags::default();
        for (i, l) in text.lines().enumerate() {
            let w: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            if !w.is_empty() {
                line(&mut s, &mut d, &w, "p.cfg", i + 1);
            }
        }
        let ok = d.alerts() == 0 && check_lists(&mut s, &mut d);
        let msgs = d.list.iter().map(|x| x.render()).collect();
        (s, msgs, ok)
    }

    fn tail(m: &str) -> &str {
        m.split_once(" : config : ").map_or(m, |x| x.1)
    }

    #[test]
    fn parse_messages_as_26() {
        // Recorded with HAProxy 2.6.12 `-c` on the same lines.
        let (_, msgs, _) = run(
            "userlist L1\n  group G1 users tiger,scott\n  group G1\n  group G2 users nosuch\n\
              user tiger password $6$saltsalt$x\n  user tiger insecure-password x\n\
              user scott insecure-password elgato groups G3\n  user bob\n  user\n  group\n\
              user joe password\n  user ann insecure-password\n  user kim groups\n  group G4 users\n\
              user lee insecure-password a foo bar\n  group G5 foo bar\n  foo bar\n  user mo password xyz\n\
              userlist L1\nuserlist\n",
        );
        let msgs: Vec<&str> = msgs.iter().map(|m| tail(m)).collect();
        assert_eq!(
            msgs,
            [
                "parsing [p.cfg:3]: ignoring duplicated group 'G1' in userlist 'L1'.",
                "parsing [p.cfg:6]: ignoring duplicated user 'tiger' in userlist 'L1'.",
                "parsing [p.cfg:9]: 'user' expects <name> as arguments.",
                "parsing [p.cfg:10]: 'group' expects <name> as arguments.",
                "parsing [p.cfg:15]: 'user' only supports 'password', 'insecure-password' and 'groups' options.",
                "parsing [p.cfg:16]: 'group' only supports 'users' option.",
                "parsing [p.cfg:17]: unknown keyword 'foo' in 'users' section",
                "parsing [p.cfg:19]: ignoring duplicated userlist 'L1'.",
                "parsing [p.cfg:20]: 'userlist' expects <name> as arguments.",
            ]
        );
    }

    #[test]
    fn refused_userlist_line_keeps_the_current_list() {
        let (s, msgs, _) = run(
            "userlist L1\n user a insecure-password x\nuserlist L2\n user b insecure-password x\n\
             userlist L1\n user a insecure-password y\n user b insecure-password y\n",
        );
        assert_eq!(
            tail(&msgs[1]),
            "parsing [p.cfg:7]: ignoring duplicated user 'b' in userlist 'L2'."
        );
        assert_eq!(s.userlists.lists[1].users.len(), 2);
        // Outside any list, users and groups are dropped silently.
        let (s, msgs, _) = run("userlist\n user a insecure-password x\n group g\n");
        assert_eq!(msgs.len(), 1);
        assert!(s.userlists.lists.is_empty());
    }

    #[test]
    fn unknown_names_stop_at_the_first_in_26s_order() {
        let (_, m, ok) = run(
            "userlist L1\n group G1 users a,nosuch1\n user a insecure-password x groups X1,X2\n\
             userlist L2\n group G1 users zz\n user a insecure-password x groups Y1\n",
        );
        assert!(!ok);
        assert_eq!(
            m.iter().map(|m| tail(m)).collect::<Vec<_>>(),
            ["userlist 'L2': no such group 'Y1' specified in user 'a'"]
        );
        let (_, m, _) =
            run("userlist L\n group g1 users a,b\n user a insecure-password x groups g1\n");
        assert_eq!(
            tail(&m[0]),
            "userlist 'L': no such user 'b' specified in group 'g1'"
        );
        let (_, m, _) = run("userlist L\n group g1 users x\n group g2 users y\n");
        assert_eq!(
            tail(&m[0]),
            "userlist 'L': no such user 'y' specified in group 'g2'"
        );
    }

    #[test]
    fn membership_merges_both_directions() {
        let (s, m, ok) = run(
            "userlist L\n group G1 users a,,b\n group G2\n group G3 users b\n\
             user a insecure-password x groups G2,G1\n user b insecure-password x groups ,G1\n user c\n",
        );
        assert!(ok, "{m:?}");
        let l = &s.userlists.lists[0];
        assert_eq!(l.users[0].groups, [0, 1]);
        assert_eq!(l.users[1].groups, [0, 2]);
        assert!(l.users[2].groups.is_empty());
        assert_eq!(l.users[2].pass, Pass::None);
    }

    #[test]
    fn unsupported_hashes_are_refused() {
        let (_, m, ok) =
            run("userlist L\n user d password abNANd1rDfiNc\n user e password $6$s$x\n");
        assert!(!ok);
        assert_eq!(m.len(), 1);
        assert!(tail(&m[0]).starts_with(
            "parsing [p.cfg:2]: user 'd' in userlist 'L': traditional DES password hashes are not supported by haproxy-rs"
        ));
    }
}

#[cfg(test)]
mod config_tests {
    use crate::cfg::parse::Parser;

    /// Parses `text` as `p.cfg` and runs the post-parse checks when it
    /// parsed cleanly, as `haproxy -c` does; the message texts.
    fn check(text: &str) -> Vec<String> {
        let env = |_: &str| None;
        let mut p = Parser::new(&env);
        p.parse_text(text, "p.cfg");
        if p.diags.alerts() == 0 {
            p.check();
        }
        p.diags
            .list
            .iter()
            .map(|d| {
                let r = d.render();
                r.split_once(" : config : ")
                    .map_or(r.clone(), |x| x.1.to_string())
            })
            .collect()
    }

    const DEFAULTS: &str =
        "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

    #[test]
    fn undeclared_lists_are_reported_per_proxy_as_26() {
        // Recorded with HAProxy 2.6.12 on the same file (p5/p3).
        let cfg = format!(
            "{DEFAULTS}frontend fe\n  bind 127.0.0.1:18080\n\
             tcp-request content set-var(txn.u) http_auth_group(L1)\n\
             http-request set-header x %[http_auth_group(L8)]\n\
             acl x http_auth(L7)\n\
             http-request deny if !{{ http_auth(L8) }} || {{ http_auth(L8) }}\n\
             frontend fe2\n  bind 127.0.0.1:18081\n  http-request deny if {{ http_auth(L7) }}\n"
        );
        let m = check(&cfg);
        let alerts: Vec<&String> = m.iter().filter(|m| m.contains("userlist")).collect();
        assert_eq!(
            alerts,
            [
                "multiple argument resolution errors:\n        \
                 parsing [p.cfg:8]: unable to find userlist 'L1' referenced in arg 1 of sample fetch keyword 'http_auth_group' in tcp-request content expression in proxy 'fe'.\n        \
                 parsing [p.cfg:9]: unable to find userlist 'L8' referenced in arg 1 of sample fetch keyword 'http_auth_group' in http-request expression in proxy 'fe'.\n        \
                 parsing [p.cfg:10]: unable to find userlist 'L7' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'.\n        \
                 parsing [p.cfg:11]: unable to find userlist 'L8' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'.\n        \
                 parsing [p.cfg:11]: unable to find userlist 'L8' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'.",
                "parsing [p.cfg:14]: unable to find userlist 'L7' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe2'.",
            ]
        );
    }

    #[test]
    fn lists_declared_after_the_proxy_resolve() {
        let cfg = format!(
            "{DEFAULTS}frontend fe\n  bind 127.0.0.1:18080\n  acl ok http_auth(L1)\n\
             acl g http_auth_group(L1) G1\n  http-request deny unless ok g\n\
             userlist L1\n  group G1 users a\n  user a insecure-password x\n"
        );
        assert_eq!(check(&cfg), Vec::<String>::new());
    }

    #[test]
    fn group_acls_name_groups_of_their_list() {
        // Recorded with HAProxy 2.6.12 (r2.cfg): every bad ACL is reported.
        let cfg = format!(
            "userlist L1\n  group G1\n  user a insecure-password x\n{DEFAULTS}frontend fe\n  bind 127.0.0.1:18080\n\
             acl ga http_auth_group(L1) G1 G9 G8\n  acl gb http_auth_group(L1) -m beg G1\n\
             acl gc http_auth_group(L1),lower G1\n  acl gd http_auth_group(L1) -i G1\n\
             http-request deny if ga gb gc gd {{ http_auth_group(L1) G7 }}\n"
        );
        assert_eq!(
            check(&cfg),
            [
                "proxy fe: acl ga http_auth_group(): invalid group 'G9'.",
                "proxy fe: acl ga http_auth_group(): invalid group 'G8'.",
                "proxy fe: acl gb http_auth_group(): no groups specified.",
                "proxy fe: acl gc http_auth_group(): no groups specified.",
                "proxy fe: acl  http_auth_group(): invalid group 'G7'.",
            ]
        );
    }

    #[test]
    fn list_errors_stop_before_the_proxies_are_checked() {
        let cfg = format!(
            "userlist L1\n  user a insecure-password x groups X\n{DEFAULTS}frontend fe\n  bind 127.0.0.1:18080\n\
             acl x http_auth(L9)\n"
        );
        assert_eq!(
            check(&cfg),
            ["userlist 'L1': no such group 'X' specified in user 'a'"]
        );
    }
}
