//! The rule store: what the configuration's rules refer to by index and the
//! CLI edits at run time: pattern sources (files, inline ACL words, maps),
//! their compiled sets, the ACLs, and the variable names.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::acl::Acl;
use super::pattern::{Match, PatEntry, PatExpr, PatRef};
use super::vars::VarNames;
use std::path::Path;

/// Everything rules point into.
#[derive(Debug, Default, Clone)]
pub struct RuleStore {
    pub refs: Vec<PatRef>,
    pub exprs: Vec<PatExpr>,
    pub acls: Vec<Acl>,
    pub vars: VarNames,
    /// Next unique id for a pattern source (`#<id>`).
    next_ref_id: u32,
}

impl RuleStore {
    /// A new empty pattern source (inline patterns of an ACL line).
    pub fn new_ref(&mut self, file: &str, display: String, is_map: bool) -> usize {
        let id = self.next_ref_id;
        self.next_ref_id += 1;
        self.refs.push(PatRef {
            id,
            file: file.to_string(),
            display,
            is_map,
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

    /// Loads pattern or map file `path` (once; later users share it). A map
    /// line is `key value`, the value running to the end of the line;
    /// blank lines and `#` comments are skipped.
    pub fn load_file(
        &mut self,
        path: &str,
        base: Option<&Path>,
        is_map: bool,
        display: String,
    ) -> Result<usize, String> {
        if let Some(r) = self.ref_by_file(path) {
            return Ok(r);
        }
        let full = match base {
            Some(b) if !path.starts_with('/') => b.join(path),
            _ => Path::new(path).to_path_buf(),
        };
        let text =
            std::fs::read(&full).map_err(|_| format!("failed to open pattern file <{path}>"))?;
        let r = self.new_ref(path, display, is_map);
        let text = String::from_utf8_lossy(&text);
        let entries = &mut self.refs.get_mut(r).ok_or("no ref")?.entries;
        for line in text.lines() {
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
            entries.push(PatEntry {
                key,
                value,
                version: 0,
            });
        }
        Ok(r)
    }

    /// A compiled set over source `r` with `method`, sharing an existing
    /// one when the same source is matched the same way.
    pub fn expr_for(&mut self, r: usize, method: Match, icase: bool) -> Result<usize, String> {
        if let Some(e) = self
            .exprs
            .iter()
            .position(|e| e.ref_id == r && e.method == method && e.icase == icase)
        {
            return Ok(e);
        }
        let mut pe = PatExpr::new(method, icase, r);
        let src = self.refs.get(r).ok_or("no such pattern source")?;
        pe.rebuild(&src.entries, src.curr_gen)?;
        self.exprs.push(pe);
        let id = self.exprs.len() - 1;
        if let Some(src) = self.refs.get_mut(r) {
            src.exprs.push(id);
        }
        Ok(id)
    }

    /// Adds `key` (and `value`) to source `r` and every set compiled from it.
    pub fn add_entry(&mut self, r: usize, key: &str, value: Option<&str>) -> Result<(), String> {
        let src = self.refs.get_mut(r).ok_or("no such pattern source")?;
        let version = src.curr_gen;
        let idx = u32::try_from(src.entries.len()).unwrap_or(u32::MAX);
        // Compile first so that a bad pattern leaves nothing half-added.
        for &e in &src.exprs {
            if let Some(pe) = self.exprs.get(e) {
                super::pattern::compile(pe.method, pe.icase, key)?;
            }
        }
        src.entries.push(PatEntry {
            key: key.to_string(),
            value: value.map(str::to_string),
            version,
        });
        for &e in &src.exprs {
            if let Some(pe) = self.exprs.get_mut(e) {
                pe.add(key, idx)?;
            }
        }
        Ok(())
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
}
