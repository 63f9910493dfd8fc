//! `generate-certificates`: a certificate forged during the handshake for a
//! server name no configured certificate serves, signed by the bind's
//! `ca-sign-file` CA, with the default certificate's key. Forged contexts
//! are kept (`tune.ssl.ssl-ctx-cache-size`, 1000 by default) since making
//! one costs a signature.
//!
//! ```text
//!   servername cb: no entry for "x.test" --> cache hit? --> forge (CN and SAN x.test,
//!        issuer = CA, valid from a day ago for a year) --> context --> cache
//! ```

use super::certs::Ckch;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::ssl::SslContext;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509, X509NameBuilder};
use std::cell::RefCell;
use std::collections::HashMap;

/// The CA a bind forges certificates with.
#[derive(Clone)]
pub struct SignCa {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl std::fmt::Debug for SignCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignCa").finish_non_exhaustive()
    }
}

/// Loads `ca-sign-file` (the CA certificate and its key, the key maybe
/// encrypted with `ca-sign-pass`). The error is 2.6's text, to follow
/// `Proxy '<name>': `.
pub fn load_ca(path: &str, pass: Option<&str>, place: &str) -> Result<SignCa, String> {
    let fail = |why: &str| {
        format!(
            "Failed to read CA certificate file '{path}' at [{place}]. Chain loading failed: {why}."
        )
    };
    let pem = std::fs::read(path).map_err(|_| fail(&format!("cannot open the file '{path}'")))?;
    let cert = X509::from_pem(&pem).map_err(|_| fail("no certificate found"))?;
    let key = match pass {
        Some(p) => PKey::private_key_from_pem_passphrase(&pem, p.as_bytes()),
        None => PKey::private_key_from_pem(&pem),
    }
    .map_err(|_| fail("no private key found"))?;
    Ok(SignCa { cert, key })
}

thread_local! {
    /// Forged contexts by (bind, name).
    static CACHE: RefCell<HashMap<(usize, String), SslContext>> = RefCell::new(HashMap::new());
}

/// Most forged contexts kept (`tune.ssl.ssl-ctx-cache-size`).
const CACHE_MAX: usize = 1000;

/// The context for `name` on bind `bind`: cached, or forged now from the
/// default entry (`default`, whose key and options it takes).
pub fn context_for(
    bind: usize,
    name: &str,
    ca: &SignCa,
    default: &super::bind::SniEntry,
) -> Option<SslContext> {
    let key = (bind, name.to_ascii_lowercase());
    if let Some(c) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Some(c);
    }
    let cert = forge(&key.1, ca, &default.ckch.key).ok()?;
    let ckch = Ckch {
        path: key.1.clone(),
        cert,
        key: default.ckch.key.clone(),
        chain: vec![ca.cert.clone()],
        ocsp: None,
        issuer: None,
    };
    let g = super::reg::global();
    let ctx = super::bind::build_ctx(&default.opts, &g, &ckch, bind).ok()?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            // Not an LRU: making room by dropping all keeps it simple, and
            // a forged context is remade on its next use.
            c.clear();
        }
        c.insert(key, ctx.clone());
    });
    Some(ctx)
}

/// A certificate for `name` with `key`'s public half, signed by `ca`.
fn forge(name: &str, ca: &SignCa, key: &PKey<Private>) -> Result<X509, openssl::error::ErrorStack> {
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(32, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    // 2.6's forged subject: the CA's, then CN=<name>.
    let mut subject = X509NameBuilder::new()?;
    for e in ca.cert.subject_name().entries() {
        subject.append_entry_by_nid(e.object().nid(), &e.data().to_string()?)?;
    }
    subject.append_entry_by_text("CN", name)?;
    let subject = subject.build();
    b.set_subject_name(&subject)?;
    b.set_issuer_name(ca.cert.subject_name())?;
    let day = 24 * 3600;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (from, until) = (
        Asn1Time::from_unix(now - day)?,
        Asn1Time::from_unix(now + 365 * day)?,
    );
    b.set_not_before(&from)?;
    b.set_not_after(&until)?;
    b.set_pubkey(key)?;
    let san = SubjectAlternativeName::new()
        .dns(name)
        .build(&b.x509v3_context(Some(&ca.cert), None))?;
    b.append_extension(san)?;
    b.sign(&ca.key, MessageDigest::sha256())?;
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;

    fn ec_key() -> PKey<Private> {
        let g = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("group");
        PKey::from_ec_key(EcKey::generate(&g).expect("key")).expect("pkey")
    }

    #[test]
    fn forged_certificates_name_the_host_and_verify_against_the_ca() {
        let ca_key = ec_key();
        let mut b = X509::builder().expect("builder");
        let mut n = X509NameBuilder::new().expect("name");
        n.append_entry_by_text("CN", "Sign CA").expect("cn");
        let n = n.build();
        b.set_subject_name(&n).expect("subject");
        b.set_issuer_name(&n).expect("issuer");
        b.set_pubkey(&ca_key).expect("pubkey");
        b.set_not_before(&Asn1Time::days_from_now(0).expect("t"))
            .expect("nb");
        b.set_not_after(&Asn1Time::days_from_now(2).expect("t"))
            .expect("na");
        b.sign(&ca_key, MessageDigest::sha256()).expect("sign");
        let ca = SignCa {
            cert: b.build(),
            key: ca_key,
        };
        let key = ec_key();
        let c = forge("www.forged.test", &ca, &key).expect("forge");
        let sans: Vec<String> = c
            .subject_alt_names()
            .expect("san")
            .iter()
            .filter_map(|g| g.dnsname().map(str::to_string))
            .collect();
        assert_eq!(sans, ["www.forged.test"]);
        assert!(
            c.verify(&ca.cert.public_key().expect("ca pub"))
                .expect("verify")
        );
        assert!(c.public_key().expect("pub").public_eq(&key));
    }
}
