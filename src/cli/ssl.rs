//! TLS commands of the stats socket (management.txt 9.3): certificates
//! (`show|new|set|commit|abort|del ssl cert`), CA and CRL files (the same
//! verbs on `ca-file` and `crl-file`), `crt-list` edits and `show ssl
//! ocsp-response`, with HAProxy 2.6's replies and transaction rules:
//!
//! - one transaction per kind (certificate, CA file, CRL file); `set`
//!   opens or updates it, `commit` rebuilds the contexts that use the file
//!   (one `.` per rebuilt one) and swaps them in the binds (`ssl::reg`):
//!   new handshakes get them, live sessions keep their own context;
//! - 2.6 quirks kept: `set ssl cert <B>` during a transaction on `<A>`
//!   updates `<A>`'s; "No ongoing transaction! !"; the typo'd quotes of
//!   some usage messages; `abort ssl ca-file` says "certificate"; the NUL
//!   after `alpn`/`npn` values in `show ssl crt-list`; options given on
//!   the `add ssl crt-list` command line are ignored (use a payload).
//!
//! The store itself is `ssl::store`; `crt-list` edits are in
//! `ssl_crtlist.rs`.

use crate::cfg::model::CliLevel;
use crate::ssl::bind::BindTls;
use crate::ssl::certs::Ckch;
use crate::ssl::reg;
use crate::ssl::server::SrvTls;
use crate::ssl::store::{self, CaFile, CaKind, CertData, Store};
use openssl::pkey::PKey;
use openssl::x509::X509;
use std::rc::Rc;

use super::ssl_cafile::{
    commit_cafile, commit_cafile_check, del_cafile, new_cafile, set_cafile, show_cafile,
    show_crlfile,
};
pub use super::ssl_crtlist::{add_crtlist, del_crtlist, show_crtlist};

const NO_TX: &str = "No ongoing transaction!\n\n";

/// Runs `<verb> ssl <what> <args...>` at `level`; the reply ends with the
/// empty line that ends every reply.
pub fn cli_ssl(
    verb: &str,
    what: &str,
    args: &[&str],
    payload: Option<&str>,
    level: CliLevel,
) -> String {
    let arg = |i: usize| args.get(i).copied().unwrap_or("");
    let show = verb == "show" && what != "crt-list";
    if show && level < CliLevel::Operator {
        // 2.6 overwrites its "Permission denied" with this.
        return "Can't allocate memory!\n\n".into();
    }
    if !show && level < CliLevel::Admin {
        return "Permission denied\n\n".into();
    }
    let r = reg::with_store(|s| match (verb, what) {
        ("show", "cert") => show_cert(s, arg(0)),
        ("new", "cert") => new_cert(s, arg(0)),
        ("set", "cert") => set_cert(s, arg(0), payload),
        ("commit", "cert") => Err(commit_cert_check(s, arg(0))),
        ("abort", "cert") => abort(&mut s.cert_tx, "ssl cert", "certificate", arg(0)),
        ("del", "cert") => del_cert(s, arg(0)),
        ("show", "ca-file") => show_cafile(s, arg(0)),
        ("show", "crl-file") => show_crlfile(s, arg(0)),
        ("new", "ca-file") => new_cafile(s, CaKind::Ca, arg(0)),
        ("new", "crl-file") => new_cafile(s, CaKind::Crl, arg(0)),
        ("set", "ca-file") => set_cafile(s, CaKind::Ca, arg(0), payload),
        ("set", "crl-file") => set_cafile(s, CaKind::Crl, arg(0), payload),
        ("commit", "ca-file") => Err(commit_cafile_check(s, CaKind::Ca, arg(0))),
        ("commit", "crl-file") => Err(commit_cafile_check(s, CaKind::Crl, arg(0))),
        ("abort", "ca-file") => abort(&mut s.ca_tx, "ssl ca-file", "certificate", arg(0)),
        ("abort", "crl-file") => abort(&mut s.crl_tx, "ssl crl-file", "certificate", arg(0)),
        ("del", "ca-file") => del_cafile(s, CaKind::Ca, arg(0)),
        ("del", "crl-file") => del_cafile(s, CaKind::Crl, arg(0)),
        ("show", "crt-list") => show_crtlist(s, args),
        ("del", "crt-list") => del_crtlist(s, args),
        ("show", "ocsp-response") => Ok(if arg(0).is_empty() {
            "\n".into()
        } else {
            "Certificate ID does not match any certificate.\n\n".into()
        }),
        _ => Err(None),
    });
    match r {
        Some(Ok(reply)) => reply,
        // A commit or an add: checked under the store, built outside it
        // (building a context reads the store).
        Some(Err(None)) if (verb, what) == ("add", "crt-list") => add_crtlist(args, payload),
        Some(Err(Some(Commit::Cert(path, data)))) => commit_cert(path, data),
        Some(Err(Some(Commit::Ca(kind, path, new)))) => commit_cafile(kind, path, new),
        Some(Err(Some(Commit::Reply(r)))) => r,
        Some(Err(None)) | None => "Unknown command.\n\n".into(),
    }
}

/// What a `commit` found to do, or its reply.
pub enum Commit {
    Cert(String, CertData),
    Ca(CaKind, String, CaFile),
    Reply(String),
}

pub(super) type Step = Result<String, Option<Commit>>;

pub(super) fn reply(s: impl Into<String>) -> Step {
    Ok(s.into())
}

/// Every TLS bind, by registry index.
pub(super) fn binds() -> Vec<(usize, Rc<BindTls>)> {
    (0..reg::len())
        .filter_map(|i| reg::bind(i).map(|b| (i, b)))
        .collect()
}

/// Contexts built from certificate `path` (2.6's `ckch_inst`s): bind
/// entries and servers presenting it.
fn cert_users(path: &str) -> usize {
    let g = reg::global();
    let srv = reg::servers()
        .iter()
        .filter(|t| t.crt_path(&g).as_deref() == Some(path))
        .count();
    binds()
        .iter()
        .map(|(_, b)| b.entries.iter().filter(|e| e.ckch.path == path).count())
        .sum::<usize>()
        + srv
}

fn show_cert(s: &Store, name: &str) -> Step {
    if name.is_empty() {
        let mut o = String::new();
        if let Some((p, _)) = &s.cert_tx {
            o += &format!("# transaction\n*{p}\n");
        }
        o += "# filename\n";
        for k in s.certs.keys() {
            o += k;
            o.push('\n');
        }
        o.push('\n');
        return reply(o);
    }
    let found = match name.strip_prefix('*') {
        Some(n) => s
            .cert_tx
            .as_ref()
            .filter(|(p, _)| p == n)
            .map(|(p, d)| (format!("*{p}"), d, "Unused")),
        None => s.certs.get(name).map(|d| {
            let st = if d.cert.is_none() {
                "Empty"
            } else if cert_users(name) == 0 {
                "Unused"
            } else {
                "Used"
            };
            (name.to_string(), d, st)
        }),
    };
    let Some((shown, d, status)) = found else {
        return reply(
            "Can't display the certificate: Not found or the certificate is a bundle!\n\n",
        );
    };
    let mut o = format!("Filename: {shown}\nStatus: {status}\n");
    if let Some(c) = &d.cert {
        store::cert_detail(c, &d.chain, &mut o);
    }
    o += "OCSP Response Key: \n\n";
    reply(o)
}

fn new_cert(s: &mut Store, name: &str) -> Step {
    if name.is_empty() {
        return reply("'new ssl cert' expects a filename\n\n");
    }
    if s.certs.contains_key(name) {
        return reply(format!("Certificate '{name}' already exists!\n\n"));
    }
    s.certs.insert(name.to_string(), CertData::default());
    reply(format!("New empty certificate store '{name}'!\n\n"))
}

/// The part of a certificate a `set ssl cert <name>` payload replaces,
/// from the name's extension.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Pem,
    Key,
    Ocsp,
    Issuer,
    Sctl,
}

fn split_ext(name: &str) -> (&str, Part) {
    if let Some((base, ext)) = name.rsplit_once('.') {
        let part = match ext {
            "key" => Some(Part::Key),
            "ocsp" => Some(Part::Ocsp),
            "issuer" => Some(Part::Issuer),
            "sctl" => Some(Part::Sctl),
            _ => None,
        };
        if let Some(p) = part {
            return (base, p);
        }
    }
    (name, Part::Pem)
}

/// Applies a payload to a copy of a certificate; errors are 2.6's, with
/// their line end.
fn load_part(d: &mut CertData, part: Part, path: &str, payload: &str) -> Result<(), String> {
    let pem = payload.as_bytes();
    match part {
        Part::Pem => {
            let mut certs = X509::stack_from_pem(pem).unwrap_or_default();
            if certs.is_empty() {
                return Err(format!("unable to load certificate from file '{path}'.\n"));
            }
            d.cert = Some(certs.remove(0));
            d.chain = certs;
            d.key = PKey::private_key_from_pem(pem).ok();
            // A new PEM drops what came with the previous one.
            d.ocsp = None;
            d.issuer = None;
        }
        Part::Key => {
            d.key = Some(
                PKey::private_key_from_pem(pem)
                    .map_err(|_| format!("unable to load private key from file '{path}'.\n"))?,
            );
        }
        Part::Issuer => {
            d.issuer = Some(
                X509::from_pem(pem)
                    .map_err(|_| format!("unable to load issuer from file '{path}'.\n"))?,
            );
        }
        Part::Ocsp => {
            let b64: String = payload
                .chars()
                .filter(|c| *c != '\r' && *c != '\n')
                .collect();
            d.ocsp = Some(
                openssl::base64::decode_block(&b64)
                    .map_err(|_| "Error reading OCSP response in base64 format\n".to_string())?,
            );
        }
        Part::Sctl => {}
    }
    Ok(())
}

fn set_cert(s: &mut Store, name: &str, payload: Option<&str>) -> Step {
    let Some(payload) = payload.filter(|_| !name.is_empty()) else {
        // 2.6 misses the closing quote.
        return reply("'set ssl cert expects a filename and a certificate as a payload\n\n");
    };
    let (base, part) = split_ext(name);
    // 2.6.12: an ongoing transaction takes the payload whatever its name.
    let old = match &s.cert_tx {
        Some((p, d)) => Some((p.clone(), d.clone())),
        None => s.certs.get(base).map(|d| (base.to_string(), d.clone())),
    };
    let Some((path, mut data)) = old else {
        return reply(format!(
            "Can't replace a certificate which is not referenced by the configuration!\nCan't update {name}!\n\n"
        ));
    };
    if let Err(e) = load_part(&mut data, part, base, payload) {
        return reply(format!(
            "{e}Can't load the payload\nCan't update {name}!\n\n"
        ));
    }
    let msg = match &mut s.cert_tx {
        Some((p, d)) => {
            *d = data;
            format!("Transaction updated for certificate {p}!\n\n")
        }
        None => {
            let m = format!("Transaction created for certificate {path}!\n\n");
            s.cert_tx = Some((path, data));
            m
        }
    };
    reply(msg)
}

/// `commit ssl cert`'s checks; takes the transaction when they pass.
fn commit_cert_check(s: &mut Store, name: &str) -> Option<Commit> {
    let fail = |e: String| Some(Commit::Reply(format!("{e}Can't commit {name}!\n\n")));
    if name.is_empty() {
        return Some(Commit::Reply(
            "'commit ssl cert expects a filename\n\n".into(),
        ));
    }
    let Some((p, d)) = &s.cert_tx else {
        return fail("No ongoing transaction! !\n".into());
    };
    if p != name {
        return fail(format!(
            "The ongoing transaction is about '{p}' but you are trying to set '{name}'\n"
        ));
    }
    if d.cert.is_some() && d.key.is_none() {
        return fail(
            "The transaction must contain at least a certificate and a private key!\n".into(),
        );
    }
    let ok = match (&d.cert, &d.key) {
        (Some(c), Some(k)) => c.public_key().is_ok_and(|pk| pk.public_eq(k)),
        _ => false,
    };
    if !ok {
        return fail(format!(
            "inconsistencies between private key and certificate loaded '{p}'.\n"
        ));
    }
    s.cert_tx.take().map(|(p, d)| Commit::Cert(p, d))
}

/// New contexts for the entries `pick` selects, one `.` each in `out`;
/// the binds to swap in, or the error (2.6 then drops the transaction).
pub(super) fn rebuild(
    out: &mut String,
    pick: impl Fn(&crate::ssl::bind::SniEntry) -> bool,
    ckch: Option<&Rc<Ckch>>,
    keep_names: impl Fn(&crate::ssl::bind::SniEntry) -> bool,
) -> Result<Vec<(usize, BindTls)>, String> {
    let g = reg::global();
    let mut done = Vec::new();
    for (i, b) in binds() {
        if !b.entries.iter().any(&pick) {
            continue;
        }
        let mut nb = (*b).clone();
        for e in nb.entries.iter_mut().filter(|e| pick(e)) {
            out.push('.');
            let c = ckch.cloned().unwrap_or_else(|| Rc::clone(&e.ckch));
            let ctx = crate::ssl::bind::build_ctx(&e.opts, &g, &c, i).map_err(tls_msg)?;
            if !keep_names(e) {
                e.names = c.names();
            }
            e.ctx = ctx;
            e.ckch = c;
        }
        nb.reindex();
        done.push((i, nb));
    }
    Ok(done)
}

pub(super) fn tls_msg(e: crate::ssl::TlsErr) -> String {
    match e {
        crate::ssl::TlsErr::Parse { msg, .. } | crate::ssl::TlsErr::Post { msg, .. } => {
            format!("{msg}\n")
        }
    }
}

pub(super) fn swap_in(built: Vec<(usize, BindTls)>) {
    for (i, b) in built {
        reg::replace(i, b);
    }
}

/// New contexts for the servers `pick` selects (with `ckch` as their
/// certificate when given), one `.` each in `out`.
pub(super) fn rebuild_servers(
    out: &mut String,
    pick: impl Fn(&SrvTls) -> bool,
    ckch: Option<&Ckch>,
) -> Result<Vec<(Rc<SrvTls>, SrvTls)>, String> {
    let g = reg::global();
    let mut done = Vec::new();
    for t in reg::servers().into_iter().filter(|t| pick(t)) {
        out.push('.');
        let new = crate::ssl::server::build_with(&t.opts, &g, ckch).map_err(tls_msg)?;
        done.push((t, new));
    }
    Ok(done)
}

/// Servers' new contexts in place: their next connections use them.
pub(super) fn swap_servers(built: Vec<(Rc<SrvTls>, SrvTls)>) {
    for (t, new) in built {
        t.replace(new);
    }
}

fn commit_cert(path: String, data: CertData) -> String {
    let mut out = format!("Committing {path}");
    let Some(ckch) = data.to_ckch(&path).map(Rc::new) else {
        return out + "\nFailed!\n\n";
    };
    // Entries whose names are a crt-list line's filters keep them.
    let filtered: Vec<(String, usize)> = reg::with_store(|s| {
        s.lists
            .iter()
            .flat_map(|(l, list)| {
                list.lines
                    .iter()
                    .filter(|x| x.filters.iter().any(|f| !f.starts_with('!')))
                    .map(move |x| (l.clone(), x.line))
            })
            .collect()
    })
    .unwrap_or_default();
    let built = rebuild(
        &mut out,
        |e| e.ckch.path == path,
        Some(&ckch),
        |e| e.from_list.as_ref().is_some_and(|fl| filtered.contains(fl)),
    );
    let g = reg::global();
    let built = built.and_then(|b| {
        let srv = rebuild_servers(
            &mut out,
            |t| t.crt_path(&g).as_deref() == Some(path.as_str()),
            Some(&ckch),
        )?;
        Ok((b, srv))
    });
    match built {
        Ok((b, srv)) => {
            swap_in(b);
            swap_servers(srv);
            reg::with_store(|s| s.certs.insert(path, data));
            out + "\nSuccess!\n\n"
        }
        Err(e) => format!("{out}\n{e}Failed!\n\n"),
    }
}

/// `abort ssl cert|ca-file|crl-file`.
pub(super) fn abort<T>(tx: &mut Option<(String, T)>, cmd: &str, what: &str, name: &str) -> Step {
    if name.is_empty() {
        return reply(format!("'abort {cmd}' expects a filename\n\n"));
    }
    match tx {
        None => reply(NO_TX),
        Some((p, _)) if p != name => reply(format!(
            "The ongoing transaction is about '{p}' but you are trying to abort a transaction for '{name}'\n\n"
        )),
        Some(_) => {
            *tx = None;
            reply(format!("Transaction aborted for {what} '{name}'!\n\n"))
        }
    }
}

fn del_cert(s: &mut Store, name: &str) -> Step {
    if name.is_empty() {
        return reply("'del ssl cert' expects a certificate name\n\n");
    }
    let err = |e: String| reply(format!("Can't remove the certificate: {e}\n\n"));
    if s.cert_tx.as_ref().is_some_and(|(p, _)| p == name) {
        return err(format!("ongoing transaction for the certificate '{name}'"));
    }
    if !s.certs.contains_key(name) {
        return err(format!("certificate '{name}' doesn't exist!\n"));
    }
    if cert_users(name) > 0 {
        return err(format!("certificate '{name}' in use, can't be deleted!\n"));
    }
    s.certs.remove(name);
    reply(format!("Certificate '{name}' deleted!\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_pick_the_part_a_payload_replaces() {
        assert!(split_ext("/a/b.pem") == ("/a/b.pem", Part::Pem));
        assert!(split_ext("/a/b.pem.key") == ("/a/b.pem", Part::Key));
        assert!(split_ext("/a/b.pem.issuer") == ("/a/b.pem", Part::Issuer));
        assert!(split_ext("/a/b.pem.ocsp") == ("/a/b.pem", Part::Ocsp));
    }

    fn r(s: Step) -> String {
        match s {
            Ok(t) => t,
            Err(_) => panic!("not a reply"),
        }
    }

    #[test]
    fn transactions_follow_2_6_rules_without_binds() {
        let mut s = Store::default();
        assert_eq!(
            r(new_cert(&mut s, "/n.pem")),
            "New empty certificate store '/n.pem'!\n\n"
        );
        assert_eq!(
            r(new_cert(&mut s, "/n.pem")),
            "Certificate '/n.pem' already exists!\n\n"
        );
        assert_eq!(
            r(show_cert(&s, "/n.pem")),
            "Filename: /n.pem\nStatus: Empty\nOCSP Response Key: \n\n"
        );
        assert_eq!(
            r(set_cert(&mut s, "/n.pem", Some("garbage\n"))),
            "unable to load certificate from file '/n.pem'.\nCan't load the payload\nCan't update /n.pem!\n\n"
        );
        assert_eq!(
            r(abort(&mut s.cert_tx, "ssl cert", "certificate", "/n.pem")),
            NO_TX
        );
        assert!(matches!(
            commit_cert_check(&mut s, "/n.pem"),
            Some(Commit::Reply(r)) if r == "No ongoing transaction! !\nCan't commit /n.pem!\n\n"
        ));
        assert_eq!(
            r(del_cert(&mut s, "/x.pem")),
            "Can't remove the certificate: certificate '/x.pem' doesn't exist!\n\n\n"
        );
        assert_eq!(
            r(del_cert(&mut s, "/n.pem")),
            "Certificate '/n.pem' deleted!\n\n"
        );
        assert_eq!(r(show_cert(&s, "")), "# filename\n\n");
    }
}
