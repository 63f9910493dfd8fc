//! The rule language in the configuration: `acl` lines, `if`/`unless`
//! conditions and sample expressions, parsed into the rule store
//! (`crate::rules`), with HAProxy 2.6's messages.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::diag::Diags;
use super::model::ProxyCfg;
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

/// The proxy keywords of the rule language: `acl`, `tcp-request`,
/// `tcp-response`, `use-server`, `force-persist`, `ignore-persist`. True
/// when `w` was one of them (handled, or refused with an alert).
pub fn proxy_kw(
    rx: &mut RuleCx<'_>,
    d: &mut Diags,
    px: &mut ProxyCfg,
    w: &[String],
    file: &str,
    line: usize,
) -> bool {
    let kw = w.first().map_or("", String::as_str);
    if kw == "tcp-request" || kw == "tcp-response" {
        if px.kind == "defaults" && px.name.is_empty() {
            d.alert(
                file,
                line,
                format!("'{kw}' not allowed in anonymous 'defaults' section."),
            );
        } else {
            super::tcp_rules::parse(d, px, w, file, line, rx);
        }
        return true;
    }
    if kw == "force-persist" || kw == "ignore-persist" {
        let rest = w.get(1..).unwrap_or(&[]);
        if !matches!(rest.first().map(String::as_str), Some("if" | "unless")) {
            d.alert(
                file,
                line,
                format!("'{kw}' requires either 'if' or 'unless' followed by a condition."),
            );
            return true;
        }
        match rx.cond(rest, &format!("a '{kw}' rule"), file, line) {
            Ok(cond) if px.cap.be => px.persist_rules.push((kw == "force-persist", cond)),
            Ok(_) => d.warn(
                file,
                line,
                format!(
                    "'{kw}' ignored because {} '{}' has no backend capability.",
                    px.kind, px.name
                ),
            ),
            Err(m) => d.alert(file, line, m),
        }
        return true;
    }
    if kw == "use-server" {
        let Some(srv) = w.get(1).filter(|s| !s.is_empty()) else {
            d.alert(file, line, "'use-server' expects a server name.");
            return true;
        };
        let rest = w.get(2..).unwrap_or(&[]);
        if !matches!(rest.first().map(String::as_str), Some("if" | "unless")) {
            d.alert(
                file,
                line,
                "'use-server' requires either 'if' or 'unless' followed by a condition.",
            );
            return true;
        }
        match rx.cond(rest, "a 'use-server' rule", file, line) {
            Ok(cond) => {
                if !px.cap.be {
                    d.warn(
                        file,
                        line,
                        format!(
                            "'use-server' ignored because {} '{}' has no backend capability.",
                            px.kind, px.name
                        ),
                    );
                }
                // 2.6 keeps the rule anyway (and then finds no server).
                px.use_servers.push(super::model::UseServer {
                    name: srv.clone(),
                    cond,
                });
            }
            Err(m) => d.alert(file, line, m),
        }
        return true;
    }
    if kw == "acl" {
        if px.kind == "defaults" {
            d.alert(
                file,
                line,
                format!("'{kw}' not allowed in 'defaults' section."),
            );
        } else if let Err(m) = rx.acl(w, file, line) {
            d.alert(file, line, m);
        }
        return true;
    }
    false
}
