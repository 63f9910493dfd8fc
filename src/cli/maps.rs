//! Map and ACL commands of the stats socket (management.txt 9.3): `show`,
//! `get`, `add`, `set`, `del`, `clear`, `prepare` and `commit` on `map`
//! and `acl`, with HAProxy 2.6's replies, including its quirks:
//!
//! - no command needs a level: `user` sockets may edit maps, as in 2.6;
//! - `show`, `del`, `clear`, `prepare` and `commit` only find a source
//!   listed by `show map` (resp. `show acl`); `get`, `add` and `set` find
//!   any source; `del acl` names an unknown source a "map";
//! - `@<ver>` is read like C's `atoi` (`@x` is version 0);
//! - `entry_cnt` keeps HAProxy's accounting (see `PatRef::entry_cnt`).
//!
//! **Differs**: `show map <map>` prints a stable unique entry id
//! (`0x000000000007`) where HAProxy prints the entry's address; both are
//! accepted back by `del|set map <map> #<id>`. A payload line is split
//! into key and value like a map file line (2.6 reads a line without a
//! value into the next line's text, and keeps a payload's leading blanks
//! in the key).

use crate::engine::Engine;
use crate::rules::pattern::{MapVal, PatEntry, lookup};
use crate::rules::sample::{BufPool, Sample};
use std::fmt::Write as _;

const UNKNOWN_MAP: &str = "Unknown map identifier. Please use #<id> or <file>.\n\n";
const UNKNOWN_ACL: &str = "Unknown ACL identifier. Please use #<id> or <file>.\n\n";

/// C's `atoi`: leading digits, 0 without any.
fn atoi(s: &str) -> u32 {
    s.bytes().take_while(u8::is_ascii_digit).fold(0u32, |n, d| {
        n.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
    })
}

/// `#<id>` of an entry (as `show map` prints it), or None.
fn entry_id(s: &str) -> Option<u64> {
    let h = s.strip_prefix('#')?;
    let h = h
        .strip_prefix("0x")
        .or_else(|| h.strip_prefix("0X"))
        .unwrap_or(h);
    u64::from_str_radix(h, 16).ok()
}

/// How `show map` prints an entry id.
fn fmt_id(id: u64) -> String {
    format!("0x{id:012x}")
}

/// Splits one payload line into key and value, as a map file line.
fn payload_line(l: &str) -> (&str, &str) {
    let l = l.trim_start_matches([' ', '\t']);
    let end = l.find([' ', '\t']).unwrap_or(l.len());
    let (k, v) = l.split_at(end);
    (k, v.trim_matches([' ', '\t', '\r']))
}

impl Engine {
    /// The pattern source named `name` (`#<id>` or a file name); with
    /// `listed`, only one `show map` (Some(true)) or `show acl`
    /// (Some(false)) lists.
    fn find_ref(&self, name: &str, listed: Option<bool>) -> Option<usize> {
        let by_id = name.strip_prefix('#').map(|n| n.parse::<i64>().ok());
        self.rules.refs.iter().position(|r| {
            let hit = match by_id {
                Some(id) => id == Some(i64::from(r.id)),
                None => !r.file.is_empty() && r.file == name,
            };
            hit && match listed {
                Some(true) => r.in_map,
                Some(false) => r.in_acl,
                None => true,
            }
        })
    }

    /// Runs `<verb> map|acl <rest>` (`map` tells which), with the payload
    /// of a line that ended in `<<` if any. Returns the reply, ending with
    /// its empty line.
    pub fn cli_map(
        &mut self,
        verb: &str,
        map: bool,
        rest: &[&str],
        payload: Option<&str>,
    ) -> String {
        let unknown = if map { UNKNOWN_MAP } else { UNKNOWN_ACL };
        let what = if map { "map" } else { "ACL" };
        let (ver, rest) = match rest.first().and_then(|w| w.strip_prefix('@')) {
            Some(v) => (Some(atoi(v)), rest.get(1..).unwrap_or(&[])),
            None => (None, rest),
        };
        let arg = |i: usize| rest.get(i).copied();
        match verb {
            "show" => match (ver, arg(0)) {
                (None, None) => self.map_list(map),
                (_, Some(name)) => match self.find_ref(name, Some(map)) {
                    Some(r) => self.map_dump(r, ver),
                    None => unknown.into(),
                },
                (Some(_), None) => unknown.into(),
            },
            "get" => match (arg(0), arg(1)) {
                (Some(name), Some(value)) => match self.find_ref(name, None) {
                    Some(r) => self.map_get(r, map, value),
                    None => unknown.into(),
                },
                _ => format!("Missing {what} identifier and/or key.\n\n"),
            },
            "add" => self.map_add(map, ver, rest, payload),
            "set" => match (arg(0), arg(1), arg(2)) {
                (Some(name), Some(key), Some(value)) => match self.find_ref(name, None) {
                    Some(r) => self.map_set(r, key, value),
                    None => UNKNOWN_MAP.into(),
                },
                _ => {
                    "'set map' expects three parameters: map identifier, key and value.\n\n".into()
                }
            },
            "del" => match (arg(0), arg(1)) {
                (Some(name), Some(key)) => match self.find_ref(name, Some(map)) {
                    Some(r) => {
                        let n = match entry_id(key) {
                            Some(id) => self.rules.remove_entries(r, |e| e.id == id),
                            None if key.starts_with('#') => 0,
                            None => self.rules.remove_entries(r, |e| e.key == key),
                        };
                        if n == 0 { "Key not found.\n\n" } else { "\n" }.into()
                    }
                    // 2.6 says "map" for an unknown ACL too.
                    None => UNKNOWN_MAP.into(),
                },
                _ => format!("This command expects two parameters: {what} identifier and key.\n\n"),
            },
            "clear" => match arg(0) {
                Some(name) => match self.find_ref(name, Some(map)) {
                    Some(r) => {
                        let v =
                            ver.unwrap_or_else(|| self.rules.refs.get(r).map_or(0, |s| s.curr_gen));
                        self.rules.remove_entries(r, |e| e.version == v);
                        "\n".into()
                    }
                    None => unknown.into(),
                },
                None => format!("Missing {what} identifier.\n\n"),
            },
            "prepare" => match arg(0).and_then(|n| self.find_ref(n, Some(map))) {
                Some(r) => match self.rules.prepare(r) {
                    Some(v) => format!("New version created: {v}\n\n"),
                    None => unknown.into(),
                },
                None => unknown.into(),
            },
            "commit" => match (ver, arg(0)) {
                (None, _) => "Missing version number.\n\n".into(),
                (Some(_), None) => format!("Missing {what} identifier.\n\n"),
                (Some(v), Some(name)) => match self.find_ref(name, Some(map)) {
                    Some(r) if self.rules.commit(r, v) => "\n".into(),
                    Some(_) => "Version number out of range.\n\n".into(),
                    None => unknown.into(),
                },
            },
            _ => unknown.into(),
        }
    }

    /// `show map|acl`: the sources `show map` (or `show acl`) lists.
    fn map_list(&self, map: bool) -> String {
        let mut o = String::from("# id (file) description\n");
        for r in self
            .rules
            .refs
            .iter()
            .filter(|r| if map { r.in_map } else { r.in_acl })
        {
            let _ = writeln!(
                o,
                "{} ({}) {}. curr_ver={} next_ver={} entry_cnt={}",
                r.id, r.file, r.display, r.curr_gen, r.next_gen, r.entry_cnt
            );
        }
        o.push('\n');
        o
    }

    /// `show map|acl [@<ver>] <ref>`: the entries of a version (the current
    /// one by default), in source order.
    fn map_dump(&self, r: usize, ver: Option<u32>) -> String {
        let mut o = String::new();
        if let Some(src) = self.rules.refs.get(r) {
            let v = ver.unwrap_or(src.curr_gen);
            for e in src.entries.iter().filter(|e| e.version == v) {
                o += &fmt_id(e.id);
                o.push(' ');
                o += &e.key;
                if let Some(val) = &e.value {
                    o.push(' ');
                    o += val;
                }
                o.push('\n');
            }
        }
        o.push('\n');
        o
    }

    /// `get map|acl <ref> <value>`: one line per set compiled from the
    /// source, in creation order: whether `value` matches, and what.
    fn map_get(&self, r: usize, map: bool, value: &str) -> String {
        let mut o = String::new();
        let mut pool = BufPool::default();
        let Some(src) = self.rules.refs.get(r) else {
            return "\n".into();
        };
        for &e in &src.exprs {
            let Some(pe) = self.rules.exprs.get(e) else {
                continue;
            };
            let case = if pe.icase { "insensitive" } else { "sensitive" };
            let _ = write!(o, "type={}, case={case}, ", pe.method_name());
            let (hit, smp) = lookup(pe, Sample::str_ref(value.as_bytes()), &mut pool);
            if let Some(s) = smp {
                s.recycle(&mut pool);
            }
            let entry = hit.and_then(|i| Some((i, src.entries.get(i as usize)?)));
            let Some((idx, ent)) = entry else {
                o += if map { "found=no\n" } else { "match=no\n" };
                continue;
            };
            let idx_kind = if pe.is_tree() { "tree" } else { "list" };
            if !map {
                let _ = writeln!(o, "match=yes, idx={idx_kind}, pattern=\"{}\"", ent.key);
                continue;
            }
            let _ = write!(o, "found=yes, idx={idx_kind}, key=\"{}\", value=", ent.key);
            match pe.out {
                None => o += "none\n",
                Some(_) => {
                    let (text, ty) = match pe.value(idx) {
                        MapVal::Str => (ent.value.clone().unwrap_or_default(), "str"),
                        MapVal::Sint(n) => (n.to_string(), "sint"),
                        MapVal::Ipv4(a) => (a.to_string(), "ipv4"),
                        MapVal::Ipv6(a) => (a.to_string(), "ipv6"),
                    };
                    let _ = writeln!(o, "\"{text}\", type=\"{ty}\"");
                }
            }
        }
        o.push('\n');
        o
    }

    /// `add map [@<ver>] <ref> <key> <value>`, `add map <ref>` with a
    /// payload of `key value` lines, `add acl [@<ver>] <ref> <pattern>`.
    fn map_add(
        &mut self,
        map: bool,
        ver: Option<u32>,
        rest: &[&str],
        payload: Option<&str>,
    ) -> String {
        let usage = if map {
            "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n\n"
        } else {
            "'add acl' expects two parameters: ACL identifier and pattern.\n\n"
        };
        let lines: Vec<(String, Option<String>)> = match (map, rest, payload) {
            (true, [_, k, v, ..], _) => vec![(k.to_string(), Some(v.to_string()))],
            (true, [_], Some(p)) => {
                let mut out = Vec::new();
                for l in p.lines().filter(|l| !l.trim().is_empty()) {
                    let (k, v) = payload_line(l);
                    if v.is_empty() {
                        // Earlier lines stay added, as in HAProxy.
                        return self
                            .add_all(map, ver, rest, &out)
                            .unwrap_or_else(|| format!("Missing value for key '{k}'.\n\n"));
                    }
                    out.push((k.to_string(), Some(v.to_string())));
                }
                out
            }
            (false, [_, k, ..], _) => vec![(k.to_string(), None)],
            (false, [_], Some(p)) => p
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| (l.to_string(), None))
                .collect(),
            _ => return usage.into(),
        };
        self.add_all(map, ver, rest, &lines)
            .unwrap_or_else(|| "\n".into())
    }

    /// Adds `lines` to the source named by `rest[0]`; None when all were
    /// added, else the error reply.
    fn add_all(
        &mut self,
        map: bool,
        ver: Option<u32>,
        rest: &[&str],
        lines: &[(String, Option<String>)],
    ) -> Option<String> {
        let name = rest.first().copied().unwrap_or("");
        let Some(r) = self.find_ref(name, None) else {
            return Some(if map { UNKNOWN_MAP } else { UNKNOWN_ACL }.into());
        };
        let src = self.rules.refs.get(r)?;
        if !map && src.is_map {
            return Some(
                "This ACL is shared with a map containing samples. You must use the command 'add map' to add values.\n\n"
                    .into(),
            );
        }
        let v = match ver {
            Some(v) if !self.rules.version_known(r, v) => {
                let kw = if map { "map" } else { "acl" };
                return Some(format!(
                    "Version number in the future, please use 'prepare {kw}' before.\n\n"
                ));
            }
            Some(v) => v,
            None => src.curr_gen,
        };
        for (k, val) in lines {
            if let Err(m) = self.rules.add_entry_ver(r, k, val.as_deref(), v) {
                return Some(format!("{m}.\n\n"));
            }
        }
        None
    }

    /// `set map <ref> <key>|#<id> <value>`: every entry with that key (or
    /// the one entry with that id) takes `value`.
    fn map_set(&mut self, r: usize, key: &str, value: &str) -> String {
        let n = if key.starts_with('#') {
            match entry_id(key) {
                Some(id) => self.rules.set_values(r, value, |e: &PatEntry| e.id == id),
                None => 0,
            }
        } else {
            self.rules.set_values(r, value, |e: &PatEntry| e.key == key)
        };
        match n {
            0 if key.starts_with('#') => "key or pattern not found.\n\n".into(),
            0 => "entry not found.\n\n".into(),
            _ => "\n".into(),
        }
    }
}
