//! The run-time certificate store: every certificate, CA file, CRL file
//! and `crt-list` the TLS binds were built from, by name, as HAProxy's
//! `ckchs_tree`, `cafile_tree` and `crtlists_tree` keep them for the stats
//! socket (`show ssl cert`, `set ssl cert`... in `cli::ssl`).
//!
//! The store is built from the binds when they are installed (`reg`); the
//! contexts themselves stay in the binds. What a committed CA or CRL file
//! changes reaches new contexts through [`ca_certs`] and [`crls`], which
//! `bind::build_ctx` reads before the files on disk.
//!
//! Sans-IO formatting lives here too: the certificate and CRL details
//! `show ssl cert` / `show ssl ca-file` / `show ssl crl-file` print.

use super::bind::BindTls;
use super::certs::Ckch;
use super::opts::{BindSsl, GlobalSsl, Verify};
use super::server::SrvTls;
use openssl::pkey::{PKey, Private};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509, X509Crl, X509NameRef, X509Ref};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

/// A certificate as the store holds it: all parts optional (`new ssl
/// cert` makes an empty one; `set ssl cert` may give no key).
#[derive(Clone, Default)]
pub struct CertData {
    pub cert: Option<X509>,
    pub key: Option<PKey<Private>>,
    pub chain: Vec<X509>,
    pub ocsp: Option<Vec<u8>>,
    pub issuer: Option<X509>,
}

impl CertData {
    pub fn from_ckch(c: &Ckch) -> CertData {
        CertData {
            cert: Some(c.cert.clone()),
            key: Some(c.key.clone()),
            chain: c.chain.clone(),
            ocsp: c.ocsp.clone(),
            issuer: c.issuer.clone(),
        }
    }

    /// The certificate to build contexts with (None without cert or key).
    pub fn to_ckch(&self, path: &str) -> Option<Ckch> {
        Some(Ckch {
            path: path.to_string(),
            cert: self.cert.clone()?,
            key: self.key.clone()?,
            chain: self.chain.clone(),
            ocsp: self.ocsp.clone(),
            issuer: self.issuer.clone(),
        })
    }
}

/// What a `cafile_tree` entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaKind {
    Ca,
    Crl,
}

/// A CA or CRL file; `empty`: made by `new ssl ca-file|crl-file` and
/// never set.
#[derive(Clone)]
pub struct CaFile {
    pub kind: CaKind,
    pub certs: Vec<X509>,
    pub crls: Vec<Rc<X509Crl>>,
    pub empty: bool,
}

impl CaFile {
    pub fn new_empty(kind: CaKind) -> CaFile {
        CaFile {
            kind,
            certs: Vec::new(),
            crls: Vec::new(),
            empty: true,
        }
    }

    /// A CA file's certificates, in the order (and without the duplicates)
    /// of an OpenSSL store, which is how 2.6 numbers them.
    pub fn ca(certs: Vec<X509>) -> CaFile {
        let ordered = X509StoreBuilder::new().ok().map(|mut b| {
            for c in &certs {
                let _ = b.add_cert(c.clone());
            }
            let st = b.build();
            st.all_certificates().into_iter().collect::<Vec<X509>>()
        });
        CaFile {
            kind: CaKind::Ca,
            certs: ordered.unwrap_or(certs),
            crls: Vec::new(),
            empty: false,
        }
    }

    pub fn crl(crls: Vec<X509Crl>) -> CaFile {
        CaFile {
            kind: CaKind::Crl,
            certs: Vec::new(),
            crls: crls.into_iter().map(Rc::new).collect(),
            empty: false,
        }
    }

    /// Objects in the store (`show ssl ca-file`'s "N certificate(s)").
    pub fn count(&self) -> usize {
        self.certs.len() + self.crls.len()
    }
}

/// One `crt-list` line as `show ssl crt-list` prints it back.
#[derive(Debug, Clone)]
pub struct ListLine {
    /// The certificate's store name (after `crt-base`).
    pub crt: String,
    /// The words between `[` and `]`.
    pub opts: Vec<String>,
    /// SNI filters as written.
    pub filters: Vec<String>,
    pub line: usize,
}

/// A `crt-list` file: its lines, and the last line number given (entries
/// added at run time take the next ones, never reused).
#[derive(Debug, Clone, Default)]
pub struct CrtList {
    pub lines: Vec<ListLine>,
    pub linecount: usize,
    /// A `crt <directory>`: its files, no options nor filters allowed.
    pub dir: bool,
}

/// The whole store, with the three transactions 2.6 allows at once (one
/// per kind).
#[derive(Default)]
pub struct Store {
    pub certs: BTreeMap<String, CertData>,
    pub cafiles: BTreeMap<String, CaFile>,
    pub lists: BTreeMap<String, CrtList>,
    pub cert_tx: Option<(String, CertData)>,
    pub ca_tx: Option<(String, CaFile)>,
    pub crl_tx: Option<(String, CaFile)>,
    /// `@system-ca` is still to be read (see [`Store::load_system_ca`]).
    system_ca_pending: bool,
}

impl Store {
    /// What `binds` and `servers` were built from. Files are read again
    /// (they were just loaded without error); `@system-ca` is the system's
    /// CA directory.
    pub fn from_binds(binds: &[BindTls], servers: &[Rc<SrvTls>], g: &GlobalSsl) -> Store {
        let mut s = Store::default();
        for b in binds {
            for e in &b.entries {
                s.certs
                    .entry(e.ckch.path.clone())
                    .or_insert_with(|| CertData::from_ckch(&e.ckch));
                s.add_cafiles(&e.opts, g);
            }
            s.add_cafiles(&b.base, g);
            s.add_dirs(b);
            for l in &b.base.crt_lists {
                let path = GlobalSsl::based(&g.crt_base, l);
                s.lists.entry(path).or_insert_with_key(|p| {
                    parse_list(&std::fs::read_to_string(p).unwrap_or_default(), g)
                });
            }
        }
        // A server's client certificate, CA and CRL files (listed whether
        // it verifies or not, as 2.6 loads them while parsing).
        for srv in servers {
            if let Some(p) = srv.crt_path(g)
                && !s.certs.contains_key(&p)
                && let Ok(c) = Ckch::load(&p)
            {
                s.certs.insert(p, CertData::from_ckch(&c));
            }
            let o = &srv.opts;
            s.add_files(
                [
                    (o.ca_file.as_ref(), CaKind::Ca),
                    (o.crl_file.as_ref(), CaKind::Crl),
                ],
                g,
            );
        }
        // The system's CAs are read when the CLI first looks (a worker
        // must start serving fast: they are ~150 files).
        s.system_ca_pending = true;
        s
    }

    /// Loads `@system-ca` on first use.
    pub fn load_system_ca(&mut self) {
        if std::mem::take(&mut self.system_ca_pending) {
            let sys = system_ca();
            if !sys.is_empty() {
                self.cafiles
                    .entry("@system-ca".into())
                    .or_insert_with(|| CaFile::ca(sys));
            }
        }
    }

    /// The directories a bind loads with `crt`, as crt-lists of their
    /// certificates (line 0 each, as 2.6 shows them).
    fn add_dirs(&mut self, b: &BindTls) {
        let mut found: BTreeMap<String, CrtList> = BTreeMap::new();
        for e in &b.entries {
            let Some((dir, 0)) = &e.from_list else {
                continue;
            };
            let l = found.entry(dir.clone()).or_insert_with(|| CrtList {
                dir: true,
                ..CrtList::default()
            });
            l.lines.push(ListLine {
                crt: e.ckch.path.clone(),
                opts: Vec::new(),
                filters: Vec::new(),
                line: 0,
            });
        }
        for (d, l) in found {
            self.lists.entry(d).or_insert(l);
        }
    }

    fn add_cafiles(&mut self, o: &BindSsl, g: &GlobalSsl) {
        self.add_files(
            [
                (o.ca_file.as_ref(), CaKind::Ca),
                (o.ca_verify_file.as_ref(), CaKind::Ca),
                (o.crl_file.as_ref(), CaKind::Crl),
            ],
            g,
        );
    }

    fn add_files<'a>(
        &mut self,
        files: impl IntoIterator<Item = (Option<&'a String>, CaKind)>,
        g: &GlobalSsl,
    ) {
        for (f, kind) in files {
            let Some(f) = f else { continue };
            let path = GlobalSsl::based(&g.ca_base, f);
            if self.cafiles.contains_key(&path) {
                continue;
            }
            let loaded = match kind {
                CaKind::Ca => super::certs::load_ca_file("ca-file", &path)
                    .ok()
                    .map(CaFile::ca),
                CaKind::Crl => super::certs::load_crl_file(&path).ok().map(CaFile::crl),
            };
            if let Some(c) = loaded {
                self.cafiles.insert(path, c);
            }
        }
    }
}

/// A `crt-list` file's lines, filters as written (the binds index them
/// lower-cased).
fn parse_list(text: &str, g: &GlobalSsl) -> CrtList {
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(mut p) = parse_line(l, g) {
            p.line = i + 1;
            lines.push(p);
        }
    }
    CrtList {
        lines,
        linecount: text.lines().count(),
        dir: false,
    }
}

/// One `crt-list` line, the certificate named as the store knows it.
pub fn parse_line(l: &str, g: &GlobalSsl) -> Option<ListLine> {
    let p = super::certs::parse_crt_list_line(l).ok()?;
    // The filters again, without the index's lower-casing.
    let rest = l
        .split_once(char::is_whitespace)
        .map_or("", |(_, r)| r.trim_start());
    let tail = match rest.strip_prefix('[') {
        Some(r) => r.find(']').and_then(|e| r.get(e + 1..)).unwrap_or(""),
        None => rest,
    };
    let filters = tail.split_whitespace().map(str::to_string).collect();
    Some(ListLine {
        crt: crt_name(&p.crt, g),
        opts: p.opts,
        filters,
        line: 0,
    })
}

/// A certificate's store name: `crt-base` applies to relative names.
pub fn crt_name(crt: &str, g: &GlobalSsl) -> String {
    if crt.starts_with('/') || crt.starts_with('@') {
        crt.to_string()
    } else {
        GlobalSsl::based(&g.crt_base, crt)
    }
}

/// The system CA directory's certificates (`.pem` and `.crt` files, the
/// first certificate of each), as 2.6 loads `@system-ca`.
fn system_ca() -> Vec<X509> {
    let dir = std::env::var("SSL_CERT_DIR").unwrap_or_else(|_| "/usr/lib/ssl/certs".into());
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<std::path::PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pem" || x == "crt"))
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|pem| X509::from_pem(&pem).ok())
        .collect()
}

/// The CRLs of PEM text (blocks that do not parse are skipped).
pub fn crls_from_pem(pem: &[u8]) -> Vec<X509Crl> {
    const BEGIN: &str = "-----BEGIN X509 CRL-----";
    const END: &str = "-----END X509 CRL-----";
    let text = String::from_utf8_lossy(pem);
    let mut rest = text.as_ref();
    let mut out = Vec::new();
    while let Some(b) = rest.find(BEGIN) {
        let Some(e) = rest[b..].find(END) else { break };
        let end = b + e + END.len();
        if let Ok(c) = X509Crl::from_pem(&rest.as_bytes()[b..end]) {
            out.push(c);
        }
        rest = &rest[end..];
    }
    out
}

/// The certificates of CA file `path`: the store's when it holds it, else
/// the file's.
pub fn ca_certs(kw: &str, path: &str) -> Result<Vec<X509>, super::TlsErr> {
    let held = super::reg::with_store(|s| {
        s.cafiles
            .get(path)
            .filter(|c| c.kind == CaKind::Ca && !c.empty)
            .map(|c| c.certs.clone())
    });
    match held.flatten() {
        Some(c) => Ok(c),
        None => super::certs::load_ca_file(kw, path),
    }
}

/// Certificate `path` with its key: the store's when it holds it (a
/// committed one), else the file's.
pub fn ckch(path: &str) -> Result<Ckch, super::TlsErr> {
    let held = super::reg::with_store(|s| s.certs.get(path).and_then(|d| d.to_ckch(path)));
    match held.flatten() {
        Some(c) => Ok(c),
        None => Ckch::load(path).map_err(super::TlsErr::from),
    }
}

/// The CRLs of CRL file `path`: the store's when it holds it, else the
/// file's.
pub fn crls(path: &str) -> Result<Vec<Rc<X509Crl>>, super::TlsErr> {
    let held = super::reg::with_store(|s| {
        s.cafiles
            .get(path)
            .filter(|c| c.kind == CaKind::Crl && !c.empty)
            .map(|c| c.crls.clone())
    });
    match held.flatten() {
        Some(c) => Ok(c),
        None => super::certs::load_crl_file(path).map(|v| v.into_iter().map(Rc::new).collect()),
    }
}

/// Whether options `o` make a context use CA/CRL file `path` (2.6 links
/// an instance to its files only when it verifies clients).
pub fn uses_cafile(o: &BindSsl, g: &GlobalSsl, path: &str) -> bool {
    if matches!(o.verify, Verify::None | Verify::Unset) {
        return false;
    }
    [&o.ca_file, &o.ca_verify_file, &o.crl_file]
        .into_iter()
        .flatten()
        .any(|f| GlobalSsl::based(&g.ca_base, f) == path)
}

/// `/CN=x/O=y`: 2.6's one-line DN (short names, raw values).
pub fn dn_oneline(n: &X509NameRef) -> String {
    let mut out = Vec::new();
    for e in n.entries() {
        out.push(b'/');
        match e.object().nid().short_name() {
            Ok(sn) if e.object().nid() != openssl::nid::Nid::UNDEF => {
                out.extend_from_slice(sn.as_bytes())
            }
            _ => out.extend_from_slice(e.object().to_string().as_bytes()),
        }
        out.push(b'=');
        out.extend_from_slice(e.data().as_slice());
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02X}");
        s
    })
}

/// `RSA2048`, `EC256`, `DSA1024`; None for other key types (2.6 stops
/// the details there).
fn pkey_algo(c: &X509Ref) -> Option<String> {
    let k = c.public_key().ok()?;
    let bits = k.bits();
    match k.id() {
        openssl::pkey::Id::RSA => Some(format!("RSA{bits}")),
        openssl::pkey::Id::EC => Some(format!("EC{bits}")),
        openssl::pkey::Id::DSA => Some(format!("DSA{bits}")),
        _ => None,
    }
}

/// The details of one certificate (`show_cert_detail()`): serial, dates,
/// DNS names, key, fingerprint, subject, issuer, then its chain.
pub fn cert_detail(c: &X509Ref, chain: &[X509], out: &mut String) {
    let serial = c
        .serial_number()
        .to_bn()
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let _ = writeln!(out, "Serial: {}", hex_upper(&serial));
    let _ = writeln!(out, "notBefore: {}", c.not_before());
    let _ = writeln!(out, "notAfter: {}", c.not_after());
    let mut san = String::new();
    if let Some(names) = c.subject_alt_names() {
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                san.push_str(", ");
            }
            if let Some(d) = n.dnsname() {
                san.push_str("DNS:");
                san.push_str(d);
            }
        }
    }
    let _ = writeln!(out, "Subject Alternative Name: {san}");
    out.push_str("Algorithm: ");
    let Some(algo) = pkey_algo(c) else { return };
    let _ = writeln!(out, "{algo}");
    let fp = c
        .digest(openssl::hash::MessageDigest::sha1())
        .map(|d| hex_upper(&d))
        .unwrap_or_default();
    let _ = writeln!(out, "SHA1 FingerPrint: {fp}");
    let _ = writeln!(out, "Subject: {}", dn_oneline(c.subject_name()));
    let _ = writeln!(out, "Issuer: {}", dn_oneline(c.issuer_name()));
    for ca in chain {
        let _ = writeln!(out, "Chain Subject: {}", dn_oneline(ca.subject_name()));
        let _ = writeln!(out, "Chain Issuer: {}", dn_oneline(ca.issuer_name()));
    }
}

/// The details of one CRL (`show_crl_detail()`), as `openssl crl -text`
/// words them.
pub fn crl_detail(c: &X509Crl, out: &mut String) {
    use foreign_types::ForeignTypeRef;
    // SAFETY: read-only getters on a live CRL.
    let (version, sig) = unsafe {
        let p = c.as_ref().as_ptr();
        (X509_CRL_get_version(p), X509_CRL_get_signature_nid(p))
    };
    let _ = writeln!(out, "Version {}", version + 1);
    let sig = openssl::nid::Nid::from_raw(sig)
        .long_name()
        .unwrap_or("undefined");
    let _ = writeln!(out, "Signature Algorithm: {sig}");
    let _ = writeln!(out, "Issuer: {}", dn_oneline(c.issuer_name()));
    let _ = writeln!(out, "Last Update: {}", c.last_update());
    match c.next_update() {
        Some(t) => {
            let _ = writeln!(out, "Next Update: {t}");
        }
        None => out.push_str("Next Update: "),
    }
    match c.get_revoked().filter(|r| !r.is_empty()) {
        None => out.push_str("No Revoked Certificates.\n"),
        Some(revs) => {
            out.push_str("Revoked Certificates:\n");
            for r in revs {
                let serial = r
                    .serial_number()
                    .to_bn()
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    "    Serial Number: {}\n        Revocation Date: {}\n",
                    i2a_integer(&serial),
                    r.revocation_date()
                );
            }
        }
    }
}

/// OpenSSL's `i2a_ASN1_INTEGER`: upper-case hex, "00" for zero.
fn i2a_integer(b: &[u8]) -> String {
    if b.is_empty() {
        "00".into()
    } else {
        hex_upper(b)
    }
}

// The two CRL getters the openssl crate does not wrap.
unsafe extern "C" {
    fn X509_CRL_get_version(crl: *const openssl_sys::X509_CRL) -> std::os::raw::c_long;
    fn X509_CRL_get_signature_nid(crl: *const openssl_sys::X509_CRL) -> std::os::raw::c_int;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_integers_print_as_openssl_does() {
        assert_eq!(hex_upper(&[0x0b, 0x6f, 0xff]), "0B6FFF");
        assert_eq!(i2a_integer(&[]), "00");
        assert_eq!(i2a_integer(&[0x10, 0x00]), "1000");
    }

    #[test]
    fn crt_list_lines_keep_filters_as_written() {
        let g = GlobalSsl::default();
        let l = parse_line("/a.pem [alpn h2] Foo.Test !Bar.test", &g).expect("line");
        assert_eq!(l.filters, ["Foo.Test", "!Bar.test"]);
        assert_eq!(l.opts, ["alpn", "h2"]);
        let l = parse_line("/b.pem X.test", &g).expect("line");
        assert_eq!(
            (l.crt.as_str(), l.filters.as_slice()),
            ("/b.pem", &["X.test".to_string()][..])
        );
        let list = parse_list("# c\n/a.pem\n\n/b.pem y\n", &g);
        assert_eq!(list.linecount, 4);
        assert_eq!(
            list.lines.iter().map(|l| l.line).collect::<Vec<_>>(),
            [2, 4]
        );
    }
}
