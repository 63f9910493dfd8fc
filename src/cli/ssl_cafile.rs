//! CA and CRL files on the stats socket: `show|new|set|commit|abort|del
//! ssl ca-file|crl-file`, with 2.6's replies. A commit rebuilds the
//! contexts that verify with the file (one `.` each): bind entries with
//! `verify`, and servers with a certificate that verify (2.6 links a
//! server to its files only through its certificate instance).

use super::ssl::{Commit, Step, binds, rebuild, rebuild_servers, reply, swap_in, swap_servers};
use crate::ssl::reg;
use crate::ssl::store::{self, CaFile, CaKind, Store};
use openssl::x509::X509;

/// Contexts that verify with CA or CRL file `path`: bind entries that
/// verify clients, servers with a certificate that verify.
fn cafile_users(path: &str) -> usize {
    let g = reg::global();
    let srv = reg::servers()
        .iter()
        .filter(|t| t.uses_cafile(&g, path))
        .count();
    srv + binds()
        .iter()
        .map(|(_, b)| {
            b.entries
                .iter()
                .filter(|e| store::uses_cafile(&e.opts, &g, path))
                .count()
        })
        .sum::<usize>()
}

/// `<file>[:<index>]` of `show ssl ca-file|crl-file`: the name and the
/// index (0: all), or 2.6's reply.
pub(super) fn name_index<'a>(arg: &'a str, what: &str) -> Result<(&'a str, usize), String> {
    match arg.split_once(':') {
        None => Ok((arg, 0)),
        Some((n, i)) => match i.parse::<usize>() {
            Ok(v) if v > 0 && i.bytes().all(|b| b.is_ascii_digit()) => Ok((n, v)),
            _ => Err(format!("wrong {what} index after colons in '{arg}'!\n")),
        },
    }
}

/// The CA/CRL file `name` shows (`*name`: the transaction's).
fn find_cafile<'a>(s: &'a Store, kind: CaKind, name: &str) -> Option<(String, &'a CaFile, bool)> {
    let tx = if kind == CaKind::Ca {
        &s.ca_tx
    } else {
        &s.crl_tx
    };
    match name.strip_prefix('*') {
        Some(n) => tx
            .as_ref()
            .filter(|(p, _)| p == n)
            .map(|(p, c)| (format!("*{p}"), c, true)),
        None => s
            .cafiles
            .get(name)
            .filter(|c| c.kind == kind)
            .map(|c| (name.to_string(), c, false)),
    }
}

fn status(c: &CaFile, in_tx: bool, path: &str) -> &'static str {
    if c.empty {
        "Empty"
    } else if in_tx || cafile_users(path) == 0 {
        "Unused"
    } else {
        "Used"
    }
}

pub(super) fn show_cafile(s: &Store, arg: &str) -> Step {
    if arg.is_empty() {
        let mut o = String::new();
        if let Some((p, c)) = &s.ca_tx {
            o += &format!("# transaction\n*{p} - {} certificate(s)\n", c.count());
        }
        o += "# filename\n";
        for (p, c) in s.cafiles.iter().filter(|(_, c)| c.kind == CaKind::Ca) {
            o += &format!("{p} - {} certificate(s)\n", c.count());
        }
        o.push('\n');
        return reply(o);
    }
    let (name, idx) = match name_index(arg, "CA") {
        Ok(v) => v,
        Err(e) => return reply(e),
    };
    let Some((shown, c, in_tx)) = find_cafile(s, CaKind::Ca, name) else {
        return reply("Can't display the CA file : Not found!\n\n");
    };
    let path = shown.trim_start_matches('*');
    let mut body = String::new();
    for (i, cert) in c.certs.iter().enumerate().skip(idx.saturating_sub(1)) {
        body += &format!(" \nCertificate #{}:\n", i + 1);
        store::cert_detail(cert, &[], &mut body);
        if idx > 0 {
            break;
        }
    }
    // 2.6 writes the header with the first certificate: none, no header.
    if body.is_empty() {
        return reply("\n");
    }
    reply(format!(
        "Filename: {shown}\nStatus: {}\n{body}\n",
        status(c, in_tx, path)
    ))
}

pub(super) fn show_crlfile(s: &Store, arg: &str) -> Step {
    if arg.is_empty() {
        let mut o = String::new();
        if let Some((p, _)) = &s.crl_tx {
            o += &format!("# transaction\n*{p}\n");
        }
        o += "# filename\n";
        for p in s
            .cafiles
            .iter()
            .filter(|(_, c)| c.kind == CaKind::Crl)
            .map(|(p, _)| p)
        {
            o += p;
            o.push('\n');
        }
        o.push('\n');
        return reply(o);
    }
    let (name, idx) = match name_index(arg, "CRL") {
        Ok(v) => v,
        Err(e) => return reply(e),
    };
    let Some((shown, c, in_tx)) = find_cafile(s, CaKind::Crl, name) else {
        return reply("Can't display the CRL file : Not found!\n\n");
    };
    let path = shown.trim_start_matches('*');
    let mut o = format!("Filename: {shown}\nStatus: {}\n", status(c, in_tx, path));
    for (i, crl) in c.crls.iter().enumerate() {
        if idx > 0 && idx - 1 != i {
            continue;
        }
        o += &format!(" \nCertificate Revocation List #{}:\n", i + 1);
        store::crl_detail(crl, &mut o);
        if idx > 0 {
            break;
        }
    }
    o.push('\n');
    reply(o)
}

fn kind_words(kind: CaKind) -> (&'static str, &'static str) {
    match kind {
        CaKind::Ca => ("ca-file", "CA"),
        CaKind::Crl => ("crl-file", "CRL"),
    }
}

pub(super) fn new_cafile(s: &mut Store, kind: CaKind, name: &str) -> Step {
    let (cmd, word) = kind_words(kind);
    if name.is_empty() {
        return reply(format!("'new ssl {cmd}' expects a filename\n\n"));
    }
    if s.cafiles.contains_key(name) {
        return reply(format!("{word} file '{name}' already exists!\n\n"));
    }
    s.cafiles.insert(name.to_string(), CaFile::new_empty(kind));
    reply(format!("New {word} file created '{name}'!\n\n"))
}

pub(super) fn set_cafile(s: &mut Store, kind: CaKind, name: &str, payload: Option<&str>) -> Step {
    let (cmd, word) = kind_words(kind);
    let Some(payload) = payload.filter(|_| !name.is_empty()) else {
        let what = if kind == CaKind::Ca { "CAs" } else { "CRLs" };
        return reply(format!(
            "'set ssl {cmd}' expects a filename and {what} as a payload\n\n"
        ));
    };
    let fail = |e: String| reply(format!("{e}Can't update {name}!\n\n"));
    let tx = if kind == CaKind::Ca {
        &mut s.ca_tx
    } else {
        &mut s.crl_tx
    };
    if let Some((p, _)) = tx.as_ref().filter(|(p, _)| p != name) {
        return fail(format!(
            "The ongoing transaction is about '{p}' but you are trying to set '{name}'\n"
        ));
    }
    if tx.is_none() && !s.cafiles.contains_key(name) {
        return fail(format!(
            "Can't replace a {word} file which is not referenced by the configuration!\n"
        ));
    }
    // 2.6 takes any PEM text (even without a certificate or CRL in it).
    let pem = payload.as_bytes();
    let new = payload.contains("-----BEGIN ").then(|| match kind {
        CaKind::Ca => CaFile::ca(X509::stack_from_pem(pem).unwrap_or_default()),
        CaKind::Crl => CaFile::crl(store::crls_from_pem(pem)),
    });
    let Some(new) = new else {
        return fail("Invalid payload\n".into());
    };
    let msg = match tx {
        Some((p, c)) => {
            *c = new;
            format!("transaction updated for {word} {p}!\n\n")
        }
        None => {
            *tx = Some((name.to_string(), new));
            format!("transaction created for {word} {name}!\n\n")
        }
    };
    reply(msg)
}

pub(super) fn commit_cafile_check(s: &mut Store, kind: CaKind, name: &str) -> Option<Commit> {
    let fail = |e: String| Some(Commit::Reply(format!("{e}Can't commit {name}!\n\n")));
    if name.is_empty() {
        // 2.6 names `ca-file` for both.
        return Some(Commit::Reply(
            "'commit ssl ca-file' expects a filename\n\n".into(),
        ));
    }
    let tx = if kind == CaKind::Ca {
        &mut s.ca_tx
    } else {
        &mut s.crl_tx
    };
    match tx {
        None => fail("No ongoing transaction! !\n".into()),
        Some((p, _)) if p != name => fail(format!(
            "The ongoing transaction is about '{p}' but you are trying to set '{name}'\n"
        )),
        Some(_) => tx.take().map(|(p, c)| Commit::Ca(kind, p, c)),
    }
}

pub(super) fn commit_cafile(_kind: CaKind, path: String, new: CaFile) -> String {
    let mut out = format!("Committing {path}");
    // The new content first: the contexts rebuilt below read it.
    let old = reg::with_store(|s| s.cafiles.insert(path.clone(), new)).flatten();
    let g = reg::global();
    let built = rebuild(
        &mut out,
        |e| store::uses_cafile(&e.opts, &g, &path),
        None,
        |_| true,
    )
    .and_then(|b| {
        Ok((
            b,
            rebuild_servers(&mut out, |t| t.uses_cafile(&g, &path), None)?,
        ))
    });
    match built {
        Ok((b, srv)) => {
            swap_in(b);
            swap_servers(srv);
            out + "\nSuccess!\n\n"
        }
        Err(e) => {
            reg::with_store(|s| match old {
                Some(o) => s.cafiles.insert(path, o),
                None => s.cafiles.remove(&path),
            });
            format!("{out}\n{e}Failed!\n\n")
        }
    }
}

pub(super) fn del_cafile(s: &mut Store, kind: CaKind, name: &str) -> Step {
    let (cmd, word) = kind_words(kind);
    if name.is_empty() {
        return reply(format!("'del ssl {cmd}' expects a {word} file name\n\n"));
    }
    let err = |e: String| reply(format!("Can't remove the {word} file: {e}\n\n"));
    let tx = if kind == CaKind::Ca {
        &s.ca_tx
    } else {
        &s.crl_tx
    };
    if tx.as_ref().is_some_and(|(p, _)| p == name) {
        return err(format!("ongoing transaction for the {word} file '{name}'"));
    }
    let Some(c) = s.cafiles.get(name) else {
        return err(format!("{word} file '{name}' doesn't exist!\n"));
    };
    if kind == CaKind::Crl && c.kind != CaKind::Crl {
        return err("'del ssl crl-file' does not work on CA files!\n".into());
    }
    if cafile_users(name) > 0 {
        return err(format!("{word} file '{name}' in use, can't be deleted!\n"));
    }
    s.cafiles.remove(name);
    reply(format!("{word} file '{name}' deleted!\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_after_colons_are_positive_numbers() {
        assert_eq!(name_index("/c.crt", "CA"), Ok(("/c.crt", 0)));
        assert_eq!(name_index("/c.crt:2", "CA"), Ok(("/c.crt", 2)));
        for bad in ["/c.crt:0", "/c.crt:x", "/c.crt:", "/c.crt:+1"] {
            assert_eq!(
                name_index(bad, "CRL"),
                Err(format!("wrong CRL index after colons in '{bad}'!\n"))
            );
        }
    }
}
