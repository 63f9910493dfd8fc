//! The rule language in the configuration: `acl` lines, `if`/`unless`
//! conditions and sample expressions, parsed into the rule store
//! (`crate::rules`), with HAProxy 2.6's messages.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::rules::acl::{self, AclScope, Cond};
use crate::rules::expr::{ParseCx, SampleExpr};
use crate::rules::lf::Lf;
use crate::rules::store::RuleStore;

/// What a rule line's parser reaches: the store and the ACLs declared so
/// far in the current section.
pub struct RuleCx<'a> {
    pub store: &'a mut RuleStore,
    pub acls: &'a mut AclScope,
    /// `expose-experimental-directives` was seen in `global`.
    pub experimental: bool,
}

impl RuleCx<'_> {
    fn pcx<'s>(store: &'s mut RuleStore, file: &'s str, line: usize) -> ParseCx<'s> {
        ParseCx {
            store,
            file,
            line,
            base_dir: None,
        }
    }

    /// `acl <name> <criterion> ...`: the alert text on error.
    pub fn acl(&mut self, w: &[String], file: &str, line: usize) -> Result<(), String> {
        let Some(name) = w.get(1).filter(|n| !n.is_empty()) else {
            return Err("'acl' expects a name".into());
        };
        let mut cx = Self::pcx(self.store, file, line);
        acl::declare(self.acls, name, w.get(2..).unwrap_or(&[]), &mut cx)
            .map_err(|e| format!("error detected while parsing ACL '{name}' : {e}."))
    }

    /// A condition (`w` starts with `if` or `unless`); `what` names the
    /// rule in the message (`an 'http-request deny' condition`).
    pub fn cond(
        &mut self,
        w: &[String],
        what: &str,
        file: &str,
        line: usize,
    ) -> Result<Cond, String> {
        let mut cx = Self::pcx(self.store, file, line);
        acl::parse_cond(w, self.acls, &mut cx)
            .map_err(|e| format!("error detected while parsing {what} : {e}."))
    }

    /// A sample expression.
    pub fn expr(&mut self, text: &str, file: &str, line: usize) -> Result<SampleExpr, String> {
        let mut cx = Self::pcx(self.store, file, line);
        SampleExpr::parse(text, &mut cx).map_err(|e| e.0)
    }

    /// A log-format string with sample expressions.
    pub fn lf(&mut self, text: &str, http: bool, file: &str, line: usize) -> Result<Lf, String> {
        let mut cx = Self::pcx(self.store, file, line);
        Lf::parse(text, http, &mut cx)
    }
}
