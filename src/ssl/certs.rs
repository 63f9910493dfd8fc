//! Certificates as files give them: a PEM with its key and chain (HAProxy's
//! "ckch"), CA and CRL files, and `crt-list` files.
//!
//! A certificate file holds the leaf certificate first, then its chain, and
//! its private key, in any order. A key missing from the file is read from
//! `<file>.key`; `<file>.ocsp` (a DER OCSP response) and `<file>.issuer`
//! are taken when present. A directory loads every file in it, in name
//! order, except those side files.

use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509Crl};
use std::path::Path;

/// One certificate with its key and chain.
#[derive(Clone)]
pub struct Ckch {
    /// The name it is known by (the path as written, after `crt-base`).
    pub path: String,
    pub cert: X509,
    pub key: PKey<Private>,
    pub chain: Vec<X509>,
    pub ocsp: Option<Vec<u8>>,
    pub issuer: Option<X509>,
}

impl std::fmt::Debug for Ckch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ckch").field("path", &self.path).finish()
    }
}

/// Files next to a certificate that are not certificates themselves.
const SIDE_EXT: &[&str] = &["key", "ocsp", "issuer", "sctl"];

/// The PEM blocks of `pem`: certificates in order, and the first key.
fn split_pem(pem: &[u8]) -> (Vec<X509>, Option<PKey<Private>>) {
    let certs = X509::stack_from_pem(pem).unwrap_or_default();
    let key = PKey::private_key_from_pem(pem).ok();
    (certs, key)
}

impl Ckch {
    /// Loads `path` (and its side files). Errors use HAProxy's wording.
    pub fn load(path: &str) -> Result<Ckch, String> {
        let pem = std::fs::read(path).map_err(|e| {
            format!(
                "unable to stat SSL certificate from file '{path}' : {}.",
                crate::cfg::parse::strerror(&e)
            )
        })?;
        Self::from_pem(path, &pem, true)
    }

    /// A certificate from PEM text named `path`; `side_files`: read the
    /// `.key`, `.ocsp` and `.issuer` files beside it.
    pub fn from_pem(path: &str, pem: &[u8], side_files: bool) -> Result<Ckch, String> {
        let (mut certs, mut key) = split_pem(pem);
        if certs.is_empty() {
            return Err(format!("unable to load certificate from file '{path}'."));
        }
        if key.is_none() && side_files {
            let kp = format!("{path}.key");
            if let Ok(k) = std::fs::read(&kp) {
                key = PKey::private_key_from_pem(&k).ok();
            }
        }
        let Some(key) = key else {
            return Err(format!("No Private Key found in '{path}.key'."));
        };
        let cert = certs.remove(0);
        let pubkey_ok = cert.public_key().is_ok_and(|pk| pk.public_eq(&key));
        if !pubkey_ok {
            return Err(format!(
                "inconsistencies between private key and certificate loaded '{path}'."
            ));
        }
        let (ocsp, issuer) = if side_files {
            (
                std::fs::read(format!("{path}.ocsp")).ok(),
                std::fs::read(format!("{path}.issuer"))
                    .ok()
                    .and_then(|p| X509::from_pem(&p).ok()),
            )
        } else {
            (None, None)
        };
        Ok(Ckch {
            path: path.to_string(),
            cert,
            key,
            chain: certs,
            ocsp,
            issuer,
        })
    }

    /// The DNS names the certificate serves: its subject alternative names,
    /// else its common name, lower-cased (SNI selection without filters).
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(alts) = self.cert.subject_alt_names() {
            for a in alts.iter() {
                if let Some(d) = a.dnsname() {
                    out.push(d.to_ascii_lowercase());
                }
            }
        }
        // 2.6 indexes the CN as well as the SANs.
        for e in self
            .cert
            .subject_name()
            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        {
            if let Ok(s) = e.data().to_string() {
                let s = s.to_ascii_lowercase();
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        out
    }
}

/// `crt <path>`: a file, or every certificate file of a directory.
pub fn load_crt_arg(path: &str) -> Result<Vec<Ckch>, String> {
    let p = Path::new(path);
    if !p.is_dir() {
        return Ckch::load(path).map(|c| vec![c]);
    }
    let mut names: Vec<String> = std::fs::read_dir(p)
        .map_err(|e| {
            format!(
                "unable to scan directory '{path}' : {}.",
                crate::cfg::parse::strerror(&e)
            )
        })?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !n.starts_with('.')
                && !SIDE_EXT
                    .iter()
                    .any(|x| n.rsplit_once('.').is_some_and(|(_, e)| e == *x))
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| Ckch::load(&format!("{}/{n}", path.trim_end_matches('/'))))
        .collect()
}

/// The certificates of a CA file (PEM, several allowed). `kw` names the
/// keyword in messages.
pub fn load_ca_file(kw: &str, path: &str) -> Result<Vec<X509>, super::TlsErr> {
    let pem = std::fs::read(path).map_err(|e| super::TlsErr::Parse {
        pre: Some(format!(
            "Couldn't open the {kw} '{path}' ({}).",
            crate::cfg::parse::strerror(&e)
        )),
        msg: format!("'{kw}' : unable to load {path}"),
    })?;
    let certs = X509::stack_from_pem(&pem).unwrap_or_default();
    if certs.is_empty() {
        return Err(format!("'{kw}' : unable to load {path}").into());
    }
    Ok(certs)
}

/// The CRLs of a CRL file (PEM).
pub fn load_crl_file(path: &str) -> Result<Vec<X509Crl>, super::TlsErr> {
    let pem = std::fs::read(path).map_err(|e| super::TlsErr::Parse {
        pre: Some(format!(
            "Couldn't open the crl-file '{path}' ({}).",
            crate::cfg::parse::strerror(&e)
        )),
        msg: format!("'crl-file' : unable to load {path}"),
    })?;
    let mut out = Vec::new();
    // Split on the PEM markers: X509Crl has no stack reader.
    let text = String::from_utf8_lossy(&pem);
    const BEGIN: &str = "-----BEGIN X509 CRL-----";
    const END: &str = "-----END X509 CRL-----";
    let mut rest = text.as_ref();
    while let Some(b) = rest.find(BEGIN) {
        let Some(e) = rest[b..].find(END) else { break };
        let block = &rest[b..b + e + END.len()];
        if let Ok(c) = X509Crl::from_pem(block.as_bytes()) {
            out.push(c);
        }
        rest = &rest[b + e + END.len()..];
    }
    if out.is_empty() {
        return Err(format!("'crl-file' : unable to load {path}").into());
    }
    Ok(out)
}

/// One line of a `crt-list` file: `<crt> [<options>] [<sni filter>...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrtListLine {
    pub crt: String,
    /// The words between `[` and `]`.
    pub opts: Vec<String>,
    /// SNI filters; `!name` excludes.
    pub filters: Vec<String>,
    /// Line number in the file.
    pub line: usize,
}

/// Parses a `crt-list` file's text. Errors name the line.
pub fn parse_crt_list(text: &str) -> Result<Vec<CrtListLine>, (usize, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        out.push(parse_crt_list_line(l).map_err(|e| (ln, e)).map(|mut c| {
            c.line = ln;
            c
        })?);
    }
    Ok(out)
}

/// One `crt-list` line (also what `add ssl crt-list` takes).
pub fn parse_crt_list_line(l: &str) -> Result<CrtListLine, String> {
    let (crt, rest) = match l.split_once(char::is_whitespace) {
        Some((c, r)) => (c, r.trim_start()),
        None => (l, ""),
    };
    let mut opts = Vec::new();
    let mut tail = rest;
    if let Some(r) = rest.strip_prefix('[') {
        // 2.6 takes an unclosed '[' as options up to the end of the line.
        let end = r.find(']').unwrap_or(r.len());
        opts = r[..end].split_whitespace().map(str::to_string).collect();
        tail = r.get(end + 1..).unwrap_or("");
    } else if rest.contains(']') {
        return Err("missing '['".to_string());
    }
    let filters: Vec<String> = tail
        .split_whitespace()
        .map(|f| f.to_ascii_lowercase())
        .collect();
    Ok(CrtListLine {
        crt: crt.to_string(),
        opts,
        filters,
        line: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crt_list_lines_carry_options_and_filters() {
        let l = parse_crt_list("# c\n\n/a.pem [alpn h2 verify none] www.A.test !x.test\n/b.pem\n")
            .expect("valid");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].crt, "/a.pem");
        assert_eq!(l[0].opts, ["alpn", "h2", "verify", "none"]);
        assert_eq!(l[0].filters, ["www.a.test", "!x.test"]);
        assert_eq!(l[0].line, 3);
        assert!(l[1].opts.is_empty() && l[1].filters.is_empty());
        let l = parse_crt_list("/a.pem [alpn h2\n").expect("accepted as 2.6 does");
        assert_eq!(l[0].opts, ["alpn", "h2"]);
        assert_eq!(
            parse_crt_list("/a.pem a.test ] x\n").map_err(|e| e.0),
            Err(1)
        );
    }
}
