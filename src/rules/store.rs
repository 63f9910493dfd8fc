//! The rule store: what the configuration's rules refer to by index and the
//! CLI edits at run time: pattern sources (files, inline ACL words, maps),
//! their compiled sets, the ACLs, the variable names and the userlists.
//!
//! ```text
//!   refs[r]  PatRef: entries (key, value, version), curr_gen, next_gen
//!     | exprs (creation order)
//!     v
//!   exprs[e] PatExpr: the entries of version curr_gen, compiled
//!
//!   add_entry      -> entry appended; compiled into every set if current
//!   del / clear    -> entries removed; every set rebuilt
//!   set_value      -> values replaced; every set rebuilt
//!   prepare        -> next_gen + 1
//!   commit(v)      -> curr_gen = v; older versions purged; sets rebuilt
//! ```
//!
//! Every change reaches every set built from the source before the call
//! returns, so the next request sees it (management.txt 9.3, `add map`).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::acl::Acl;
use super::pattern::{Match, PatEntry, PatExpr, PatRef};
use super::sample::SmpType;
use super::vars::VarNames;
use std::path::Path;

/// Everything rules point into.
#[derive(Debug, Default, Clone)]
pub struct RuleStore {
    pub refs: Vec<PatRef>,
    pub exprs: Vec<PatExpr>,
    pub acls: Vec<Acl>,
    pub vars: VarNames,
    /// The `userlist` sections, and where fetches name them.
    pub userlists: super::auth::UserLists,
    /// Next unique id for a pattern source (`#<id>`).
    next_ref_id: u32,
    /// Next unique entry id (what `show map` prints in place of HAProxy's
    /// entry address).
    next_entry_id: u64,
}

/// `a - b` as a signed distance between wrapping 32-bit versions.
fn ver_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

impl RuleStore {
    /// A new empty pattern source for the inline patterns of an ACL line;
    /// `display` is what `show acl` says of it.
    pub fn new_ref(&mut self, file: &str, display: String, is_map: bool) -> usize {
        let id = self.next_ref_id;
        self.next_ref_id += 1;
        self.refs.push(PatRef {
            id,
            file: file.to_string(),
            display,
            is_map,
            in_acl: true,
            ..Default::default()
        });
        self.refs.len() - 1
    }

    /// The source already loaded from `file`, if any.
    pub fn ref_by_file(&self, file: &str) -> Option<usize> {
        self.refs
            .iter()
            .position(|r| !r.file.is_empty() && r.file == file)
    }

    /// Loads pattern or map file `path` for an ACL (`-f`, or `-M -f` when
    /// `is_map`), once: later users share it. `user` names the user as
    /// `show acl` lists it (`acl at file 'h.cfg' line 3`). The source is
    /// listed by `show acl`, and by `show map` too when `is_map`. A map
    /// line is `key value`, the value running to the end of the line;
    /// blank lines and `#` comments are skipped. Returns the source index,
    /// or HAProxy's message.
    pub fn load_file(
        &mut self,
        path: &str,
        base: Option<&Path>,
        is_map: bool,
        user: String,
    ) -> Result<usize, String> {
        let r = self.load(path, base, is_map, user)?;
        if let Some(src) = self.refs.get_mut(r) {
            src.in_acl = true;
            src.in_map |= is_map;
        }
        Ok(r)
    }

    /// Loads map file `path` for a map converter (see [`Self::load_file`]);
    /// the source is listed by `show map`.
    pub fn load_map_file(
        &mut self,
        path: &str,
        base: Option<&Path>,
        user: String,
    ) -> Result<usize, String> {
        let r = self.load(path, base, true, user)?;
        if let Some(src) = self.refs.get_mut(r) {
            src.in_map = true;
        }
        Ok(r)
    }

    fn load(
        &mut self,
        path: &str,
        base: Option<&Path>,
        is_map: bool,
        user: String,
    ) -> Result<usize, String> {
        if let Some(r) = self.ref_by_file(path) {
            let src = self.refs.get_mut(r).ok_or("no ref")?;
            if src.is_map != is_map {
                let (was, now) = if is_map {
                    ("one", "two")
                } else {
                    ("two", "one")
                };
                return Err(format!(
                    "The file \"{path}\" is already used as {was} column file and cannot be used by as {now} column file."
                ));
            }
            src.display.push_str(", by ");
            src.display.push_str(&user);
            return Ok(r);
        }
        let full = match base {
            Some(b) if !path.starts_with('/') => b.join(path),
            _ => Path::new(path).to_path_buf(),
        };
        let text =
            std::fs::read(&full).map_err(|_| format!("failed to open pattern file <{path}>"))?;
        let display = format!("pattern loaded from file '{path}' used by {user}");
        let r = self.new_ref(path, display, is_map);
        let text = String::from_utf8_lossy(&text);
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim_start_matches([' ', '\t']);
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (key, value) = if is_map {
                let end = l.find([' ', '\t']).unwrap_or(l.len());
                let (k, v) = l.split_at(end);
                let v = v.trim_matches([' ', '\t', '\r']);
                (k.to_string(), Some(v.to_string()))
            } else {
                (l.trim_end_matches([' ', '\t', '\r']).to_string(), None)
            };
            self.next_entry_id += 1;
            entries.push(PatEntry {
                id: self.next_entry_id,
                key,
                value,
                version: 0,
                line: u32::try_from(n + 1).unwrap_or(u32::MAX),
            });
        }
        let src = self.refs.get_mut(r).ok_or("no ref")?;
        src.in_acl = false;
        src.entries = entries;
        Ok(r)
    }

    /// An ACL's compiled set over source `r` with `method`, sharing an
    /// existing one when the same source is matched the same way.
    pub fn expr_for(&mut self, r: usize, method: Match, icase: bool) -> Result<usize, String> {
        self.find_or_build(r, PatExpr::new(method, icase, r))
    }

    /// A map converter's compiled set over source `r` (values parsed to
    /// `out`: `Str`, `Sint` or `Addr`), shared like [`Self::expr_for`]'s.
    /// The error names the file line of a refused key or value.
    pub fn map_expr_for(
        &mut self,
        r: usize,
        method: Match,
        regm: bool,
        out: SmpType,
    ) -> Result<usize, String> {
        self.find_or_build(r, PatExpr::new_map(method, regm, r, out))
    }

    fn find_or_build(&mut self, r: usize, mut pe: PatExpr) -> Result<usize, String> {
        if let Some(e) = self.exprs.iter().position(|e| {
            e.ref_id == r
                && e.method == pe.method
                && e.icase == pe.icase
                && e.regm == pe.regm
                && e.out == pe.out
        }) {
            return Ok(e);
        }
        let src = self.refs.get(r).ok_or("no such pattern source")?;
        for (i, e) in src.entries.iter().enumerate() {
            if e.version != src.curr_gen {
                continue;
            }
            let idx = u32::try_from(i).unwrap_or(u32::MAX);
            pe.add(&e.key, e.value.as_deref(), idx).map_err(|m| {
                if e.line > 0 {
                    format!("{m} at line {} of file '{}'", e.line, src.file)
                } else {
                    m
                }
            })?;
        }
        let loaded = u32::try_from(pe.len()).unwrap_or(u32::MAX);
        self.exprs.push(pe);
        let id = self.exprs.len() - 1;
        if let Some(src) = self.refs.get_mut(r) {
            src.exprs.push(id);
            src.entry_cnt = src.entry_cnt.wrapping_add(loaded);
        }
        Ok(id)
    }

    /// Adds `key` (and `value`) to source `r` in its current version and to
    /// every set compiled from it.
    pub fn add_entry(&mut self, r: usize, key: &str, value: Option<&str>) -> Result<(), String> {
        let v = self.refs.get(r).ok_or("no such pattern source")?.curr_gen;
        self.add_entry_ver(r, key, value, v)
    }

    /// Adds `key` (and `value`) to source `r` in version `version`; entries
    /// of the current version are compiled into every set at once, others
    /// when their version is committed. A key or value a set refuses adds
    /// nothing and returns the set's message.
    pub fn add_entry_ver(
        &mut self,
        r: usize,
        key: &str,
        value: Option<&str>,
        version: u32,
    ) -> Result<(), String> {
        let src = self.refs.get_mut(r).ok_or("no such pattern source")?;
        let idx = u32::try_from(src.entries.len()).unwrap_or(u32::MAX);
        // Check first so that a bad pattern leaves nothing half-added.
        for &e in &src.exprs {
            if let Some(pe) = self.exprs.get(e)
                && let Err(m) = pe.check(key, value)
            {
                // HAProxy counts the refused entry out without having
                // counted it in.
                src.entry_cnt = src.entry_cnt.wrapping_sub(1);
                return Err(m);
            }
        }
        self.next_entry_id += 1;
        src.entries.push(PatEntry {
            id: self.next_entry_id,
            key: key.to_string(),
            value: value.map(str::to_string),
            version,
            line: 0,
        });
        src.entry_cnt = src.entry_cnt.wrapping_add(1);
        if version == src.curr_gen {
            for &e in &src.exprs {
                if let Some(pe) = self.exprs.get_mut(e) {
                    pe.add(key, value, idx)?;
                }
            }
        }
        Ok(())
    }

    /// Removes the entries of source `r` for which `f` is true (in every
    /// version), and rebuilds its sets. Returns how many were removed.
    pub fn remove_entries(&mut self, r: usize, f: impl Fn(&PatEntry) -> bool) -> usize {
        let Some(src) = self.refs.get_mut(r) else {
            return 0;
        };
        let before = src.entries.len();
        src.entries.retain(|e| !f(e));
        let n = before - src.entries.len();
        src.entry_cnt = src
            .entry_cnt
            .wrapping_sub(u32::try_from(n).unwrap_or(u32::MAX));
        if n > 0 {
            let _ = self.rebuild(r);
        }
        n
    }

    /// Replaces the value of the entries of source `r` for which `f` is
    /// true, and rebuilds the sets. Returns how many entries matched; when
    /// a map set refuses `value`, nothing changes (HAProxy 2.6 answers such
    /// a `set map` as a success and keeps the old value).
    pub fn set_values(&mut self, r: usize, value: &str, f: impl Fn(&PatEntry) -> bool) -> usize {
        let Some(src) = self.refs.get(r) else {
            return 0;
        };
        let n = src.entries.iter().filter(|e| f(e)).count();
        let refused = src.exprs.iter().any(|&e| {
            self.exprs
                .get(e)
                .and_then(|pe| pe.out)
                .is_some_and(|out| super::pattern::parse_map_val(out, value).is_err())
        });
        if n == 0 || refused {
            return n;
        }
        if let Some(src) = self.refs.get_mut(r) {
            for e in src.entries.iter_mut().filter(|e| f(e)) {
                e.value = Some(value.to_string());
            }
        }
        let _ = self.rebuild(r);
        n
    }

    /// `prepare`: allocates the next version of source `r`; returns it.
    pub fn prepare(&mut self, r: usize) -> Option<u32> {
        let src = self.refs.get_mut(r)?;
        src.next_gen = src.next_gen.wrapping_add(1);
        Some(src.next_gen)
    }

    /// True when `version` was allocated by `prepare` (not beyond
    /// `next_gen`, versions wrapping).
    pub fn version_known(&self, r: usize, version: u32) -> bool {
        self.refs
            .get(r)
            .is_some_and(|s| ver_diff(version, s.next_gen) <= 0)
    }

    /// `commit`: makes `version` (after `curr_gen`, up to `next_gen`) the
    /// current one of source `r`, purges the entries of older versions and
    /// rebuilds the sets. False when `version` is out of that range.
    pub fn commit(&mut self, r: usize, version: u32) -> bool {
        let Some(src) = self.refs.get_mut(r) else {
            return false;
        };
        if ver_diff(version, src.curr_gen) <= 0 || ver_diff(version, src.next_gen) > 0 {
            return false;
        }
        src.curr_gen = version;
        self.remove_entries(r, |e| ver_diff(e.version, version) < 0);
        // The entries of the new version are compiled even when none was
        // purged.
        let _ = self.rebuild(r);
        true
    }

    /// Rebuilds the sets compiled from source `r` (after a removal).
    pub fn rebuild(&mut self, r: usize) -> Result<(), String> {
        let src = self.refs.get(r).ok_or("no such pattern source")?;
        for &e in &src.exprs {
            if let Some(pe) = self.exprs.get_mut(e) {
                pe.rebuild(&src.entries, src.curr_gen)?;
            }
        }
        Ok(())
    }

    /// The map value of entry `idx` of the source behind set `expr`.
    pub fn value(&self, expr: usize, idx: u32) -> Option<&str> {
        let r = self.exprs.get(expr)?.ref_id;
        self.refs
            .get(r)?
            .entries
            .get(idx as usize)?
            .value
            .as_deref()
    }

    /// The entry `idx` of the source behind set `expr`.
    pub fn entry(&self, expr: usize, idx: u32) -> Option<&PatEntry> {
        let r = self.exprs.get(expr)?.ref_id;
        self.refs.get(r)?.entries.get(idx as usize)
    }
}
