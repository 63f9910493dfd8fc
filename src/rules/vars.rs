//! Variables (configuration.txt 2.8 and 7.3.1 `set-var`, `var()`): named
//! samples kept in one of five scopes, `proc` (process), `sess` (client
//! connection), `txn` (one request and its response), `req` and `res` (one
//! direction).
//!
//! Names are interned at parse time (`VarNames`), so a variable is a
//! `(scope, id)` pair at run time and a scope is a short vector searched
//! linearly: configurations use a handful of variables. Setting a variable
//! that holds a string reuses its buffer.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::sample::{Data, Sample, Smp};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A variable's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Proc = 0,
    Sess = 1,
    Txn = 2,
    Req = 3,
    Res = 4,
    Check = 5,
}

/// A variable as rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarRef {
    pub scope: Scope,
    pub id: u32,
}

/// The interned variable names.
#[derive(Debug, Default, Clone)]
pub struct VarNames {
    names: Vec<String>,
}

impl VarNames {
    /// Parses `scope.name` (interning `name`), with HAProxy's message for
    /// a name without a valid scope.
    pub fn parse_ref(&mut self, full: &str) -> Result<VarRef, String> {
        let bad = || {
            format!(
                "invalid variable name '{full}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
            )
        };
        let (scope, name) = full.split_once('.').ok_or_else(bad)?;
        let scope = match scope {
            "proc" => Scope::Proc,
            "sess" => Scope::Sess,
            "txn" => Scope::Txn,
            "req" => Scope::Req,
            "res" => Scope::Res,
            "check" => Scope::Check,
            _ => return Err(bad()),
        };
        if name.is_empty() {
            return Err("Empty variable name cannot be accepted".to_string());
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.')))
        {
            return Err(format!("invalid char '{c}' in variable name '{full}'"));
        }
        Ok(VarRef {
            scope,
            id: self.intern(name),
        })
    }

    fn intern(&mut self, name: &str) -> u32 {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| {
                self.names.push(name.to_string());
                self.names.len() - 1
            });
        u32::try_from(i).unwrap_or(u32::MAX)
    }

    /// The name of variable `id` (CLI and debug output).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// A stored value.
#[derive(Debug, Clone)]
pub enum VarVal {
    Bool(bool),
    Sint(i64),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Str(Vec<u8>),
    Bin(Vec<u8>),
}

impl VarVal {
    /// The value as a sample borrowing it.
    pub fn sample(&self) -> Sample<'_> {
        Sample::new(match self {
            VarVal::Bool(b) => Smp::Bool(*b),
            VarVal::Sint(n) => Smp::Sint(*n),
            VarVal::Ipv4(a) => Smp::Ipv4(*a),
            VarVal::Ipv6(a) => Smp::Ipv6(*a),
            VarVal::Str(v) => Smp::Str(Data::Ref(v)),
            VarVal::Bin(v) => Smp::Bin(Data::Ref(v)),
        })
    }
}

/// One scope's variables.
#[derive(Debug, Default, Clone)]
pub struct VarScope {
    vals: Vec<(u32, VarVal)>,
}

impl VarScope {
    pub fn get(&self, id: u32) -> Option<&VarVal> {
        self.vals.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }

    /// Stores a copy of `smp`, reusing the old value's buffer.
    pub fn set(&mut self, id: u32, smp: &Sample<'_>) {
        let slot = match self.vals.iter().position(|(i, _)| *i == id) {
            Some(p) => p,
            None => {
                self.vals.push((id, VarVal::Sint(0)));
                self.vals.len() - 1
            }
        };
        let Some((_, old)) = self.vals.get_mut(slot) else {
            return;
        };
        let mut buf = match std::mem::replace(old, VarVal::Sint(0)) {
            VarVal::Str(v) | VarVal::Bin(v) => v,
            _ => Vec::new(),
        };
        *old = match &smp.data {
            Smp::Bool(b) => VarVal::Bool(*b),
            Smp::Sint(n) => VarVal::Sint(*n),
            Smp::Ipv4(a) => VarVal::Ipv4(*a),
            Smp::Ipv6(a) => VarVal::Ipv6(*a),
            Smp::Str(d) => {
                buf.clear();
                buf.extend_from_slice(d.as_bytes());
                VarVal::Str(buf)
            }
            Smp::Bin(d) => {
                buf.clear();
                buf.extend_from_slice(d.as_bytes());
                VarVal::Bin(buf)
            }
        };
    }

    pub fn unset(&mut self, id: u32) {
        self.vals.retain(|(i, _)| *i != id);
    }

    pub fn clear(&mut self) {
        self.vals.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(u32, VarVal)> {
        self.vals.iter()
    }
}

/// The scopes an evaluation can reach. The stream owns `sess`, `txn`,
/// `req` and `res`; the engine lends `proc` for the evaluation.
#[derive(Debug, Default, Clone)]
pub struct Vars {
    pub scopes: [VarScope; 6],
}

impl Vars {
    pub fn scope(&self, s: Scope) -> &VarScope {
        // The array has one slot per Scope variant.
        #[allow(clippy::indexing_slicing)]
        &self.scopes[s as usize]
    }
    pub fn scope_mut(&mut self, s: Scope) -> &mut VarScope {
        #[allow(clippy::indexing_slicing)]
        &mut self.scopes[s as usize]
    }
    pub fn get(&self, r: VarRef) -> Option<&VarVal> {
        self.scope(r.scope).get(r.id)
    }
    pub fn set(&mut self, r: VarRef, smp: &Sample<'_>) {
        self.scope_mut(r.scope).set(r.id, smp);
    }
    pub fn unset(&mut self, r: VarRef) {
        self.scope_mut(r.scope).unset(r.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        let mut n = VarNames::default();
        let a = n.parse_ref("txn.foo").unwrap_or(VarRef {
            scope: Scope::Proc,
            id: 99,
        });
        assert_eq!(a.scope, Scope::Txn);
        assert_eq!(n.parse_ref("req.foo").map(|r| r.id), Ok(a.id));
        assert!(n.parse_ref("foo").is_err());
        assert!(n.parse_ref("xyz.foo").is_err());
        let mut v = Vars::default();
        v.set(a, &Sample::str_ref(b"hello"));
        assert!(matches!(v.get(a), Some(VarVal::Str(s)) if s == b"hello"));
        v.set(a, &Sample::sint(3));
        assert!(matches!(v.get(a), Some(VarVal::Sint(3))));
        v.unset(a);
        assert!(v.get(a).is_none());
    }
}
