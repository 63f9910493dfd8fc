//! A listener's TLS: one OpenSSL context per certificate, and the SNI
//! index that picks among them during the handshake.
//!
//! ```text
//!   ClientHello --servername cb--> exact name? --> wildcard (*.rest)? --> default (first crt)
//!                                   (negative filters of an entry exclude it)   strict-sni: alert
//! ```
//!
//! Every context carries the bind line's settings (and a `crt-list` line's
//! own options over them). The first one is the session's initial context:
//! its servername callback looks the bind up in the registry (`ssl::reg`),
//! so that a certificate replaced at run time serves the next handshake.

use super::TlsErr;
use super::certs::Ckch;
use super::opts::{BindSsl, GlobalSsl, Verify};
use openssl::ssl::{
    AlpnError, NameType, SniError, SslAlert, SslContext, SslContextBuilder, SslMethod, SslMode,
    SslOptions, SslRef, SslSessionCacheMode, SslVerifyMode,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use std::collections::HashMap;
use std::rc::Rc;

/// One certificate as a bind line serves it.
#[derive(Debug, Clone)]
pub struct SniEntry {
    pub ckch: Rc<Ckch>,
    pub ctx: SslContext,
    /// The options it was built with (bind line, then crt-list line).
    pub opts: Rc<BindSsl>,
    /// Names it serves (filters, or the certificate's names), lower-case;
    /// `*.x` wildcards included.
    pub names: Vec<String>,
    /// `!name` filters: names it must not serve.
    pub neg: Vec<String>,
    /// The crt-list it came from and its line there (None: a `crt`).
    pub from_list: Option<(String, usize)>,
    /// When later entries serve the same names with other key types (an
    /// RSA and an ECDSA certificate): one context holding them all, from
    /// which OpenSSL picks by what the client supports, as 2.6 picks.
    pub multi: Option<SslContext>,
}

/// A bind line's TLS state.
#[derive(Debug, Clone)]
pub struct BindTls {
    pub entries: Vec<SniEntry>,
    exact: HashMap<String, Vec<usize>>,
    wild: HashMap<String, Vec<usize>>,
    pub strict_sni: bool,
    /// `tune.ssl.maxrecord`.
    pub maxrecord: usize,
    /// The bind line's own options (what a `crt-list` line added at run
    /// time applies its options over), and its place (`file`, `line`).
    pub base: Rc<BindSsl>,
    pub place: (String, usize),
    /// `generate-certificates`: the CA that signs certificates forged for
    /// names no entry serves.
    pub sign_ca: Option<super::forge::SignCa>,
}

impl BindTls {
    /// Indexes `entries` (the first is the default).
    pub fn new(entries: Vec<SniEntry>, strict_sni: bool, maxrecord: usize) -> BindTls {
        let mut b = BindTls {
            entries,
            exact: HashMap::new(),
            wild: HashMap::new(),
            strict_sni,
            maxrecord,
            base: Rc::default(),
            place: (String::new(), 0),
            sign_ca: None,
        };
        b.reindex();
        b
    }

    /// Rebuilds the name index (after entries changed).
    pub fn reindex(&mut self) {
        self.exact.clear();
        self.wild.clear();
        for (i, e) in self.entries.iter().enumerate() {
            for n in &e.names {
                match n.strip_prefix("*.") {
                    Some(rest) => self.wild.entry(rest.to_string()).or_default().push(i),
                    None => self.exact.entry(n.clone()).or_default().push(i),
                }
            }
        }
    }

    /// The context a session starts with.
    pub fn initial(&self) -> Option<&SslContext> {
        self.entries.first().map(|e| &e.ctx)
    }

    /// The entry serving `name`: an exact name first, then a wildcard one
    /// level up, skipping entries that exclude the name.
    pub fn lookup(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        let allowed = |i: &&usize| {
            self.entries
                .get(**i)
                .is_some_and(|e| !e.neg.iter().any(|n| wild_match(n, &name)))
        };
        if let Some(i) = self.exact.get(&name).and_then(|v| v.iter().find(allowed)) {
            return Some(*i);
        }
        let (_, rest) = name.split_once('.')?;
        self.wild
            .get(rest)
            .and_then(|v| v.iter().find(allowed))
            .copied()
    }
}

/// `pat` (possibly `*.x`) matches `name`.
fn wild_match(pat: &str, name: &str) -> bool {
    match pat.strip_prefix("*.") {
        Some(rest) => name.split_once('.').is_some_and(|(_, r)| r == rest),
        None => pat == name,
    }
}

/// The servername callback: switches the session to the certificate for
/// the name the client asked.
pub fn on_servername(bind: usize, ssl: &mut SslRef) -> Result<(), SniError> {
    let Some(tls) = super::reg::bind(bind) else {
        return Ok(());
    };
    let name = ssl.servername(NameType::HOST_NAME).map(str::to_string);
    let pick = name.as_deref().and_then(|n| tls.lookup(n));
    match pick {
        Some(i) => {
            if let Some(e) = tls.entries.get(i)
                && (i != 0 || e.multi.is_some())
            {
                ssl.set_ssl_context(e.multi.as_ref().unwrap_or(&e.ctx))
                    .map_err(|_| SniError::ALERT_FATAL)?;
                // Verification is the session's, not the context's: a
                // crt-list line's `verify` applies here.
                ssl.set_verify_callback(verify_mode(e.opts.verify), verify_cb(&e.opts));
            }
            Ok(())
        }
        None => {
            let forged = match (&tls.sign_ca, name.as_deref(), tls.entries.first()) {
                (Some(ca), Some(n), Some(def)) => super::forge::context_for(bind, n, ca, def),
                _ => None,
            };
            match forged {
                Some(ctx) => ssl.set_ssl_context(&ctx).map_err(|_| SniError::ALERT_FATAL),
                None if tls.strict_sni => Err(SniError::ALERT_FATAL),
                None => Ok(()),
            }
        }
    }
}

fn verify_mode(v: Verify) -> SslVerifyMode {
    match v {
        Verify::Required => SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        Verify::Optional => SslVerifyMode::PEER,
        Verify::None | Verify::Unset => SslVerifyMode::NONE,
    }
}

/// Builds the context serving `ckch` with `o` (over the global defaults).
/// `bind`: the registry index, for the servername callback of the initial
/// context. Errors are HAProxy-worded, without the place.
pub fn build_ctx(
    o: &BindSsl,
    g: &GlobalSsl,
    ckch: &Ckch,
    bind: usize,
) -> Result<SslContext, TlsErr> {
    build_ctx_with(o, g, &[ckch], bind)
}

/// As [`build_ctx`], with several certificates of different key types in
/// one context (OpenSSL keeps one per type and picks by the client's
/// signature algorithms). The first one's OCSP response is stapled.
pub fn build_ctx_with(
    o: &BindSsl,
    g: &GlobalSsl,
    certs: &[&Ckch],
    bind: usize,
) -> Result<SslContext, TlsErr> {
    let e = super::err;
    let mut b = SslContextBuilder::new(SslMethod::tls_server())
        .map_err(e("cannot create an SSL context"))?;
    base_settings(&mut b);
    let mut opts = SslOptions::NO_COMPRESSION
        | SslOptions::NO_RENEGOTIATION
        | SslOptions::IGNORE_UNEXPECTED_EOF;
    if !(o.prefer_client_ciphers || g.bind_prefer_client_ciphers) {
        opts |= SslOptions::CIPHER_SERVER_PREFERENCE;
    }
    if o.no_tls_tickets || g.bind_no_tls_tickets {
        opts |= SslOptions::NO_TICKET;
    }
    b.set_options(opts);
    let curves = o.curves.as_ref().or(g.bind_curves.as_ref());
    let algos = Algos {
        versions: o.versions.merged_over(&g.bind_versions),
        ciphers: o.ciphers.as_ref().or(g.bind_ciphers.as_ref()),
        suites: o.ciphersuites.as_ref().or(g.bind_ciphersuites.as_ref()),
        curves,
        sigalgs: o.sigalgs.as_ref().or(g.bind_sigalgs.as_ref()),
    };
    // 2.6 repeats these errors for bind lines (a bare second line).
    algos.apply(&mut b, true)?;
    if let (None, Some(c)) = (curves, o.ecdhe.as_ref()) {
        b.set_groups_list(c).map_err(|_| {
            TlsErr::post(format!("unable to set elliptic named curve to '{c}'"), true)
        })?;
    }
    let mut chain: Vec<Vec<u8>> = Vec::new();
    for ckch in certs {
        b.set_certificate(&ckch.cert)
            .and_then(|_| b.set_private_key(&ckch.key))
            .map_err(e("unable to use the certificate"))?;
        b.check_private_key().map_err(|_| {
            TlsErr::from(format!(
                "inconsistencies between private key and certificate loaded '{}'.",
                ckch.path
            ))
        })?;
        for c in &ckch.chain {
            // The chains of one context are shared: each CA once.
            let der = c
                .to_der()
                .map_err(e("unable to add the certificate chain"))?;
            if !chain.contains(&der) {
                b.add_extra_chain_cert(c.clone())
                    .map_err(e("unable to add the certificate chain"))?;
                chain.push(der);
            }
        }
    }
    // `allow-0rtt`: TLS 1.3 early data up to a buffer less the rewrite
    // reserve, as 2.6 allows; it reaches the stream once the handshake is
    // done (so a replay that cannot finish the handshake is never served).
    if o.allow_0rtt {
        b.set_max_early_data(16384 - 1024)
            .map_err(e("unable to allow early data"))?;
    }
    if let Some(keys) = super::tickets::for_bind(bind) {
        super::tickets::install(&mut b, &keys);
    }
    // OCSP stapling: `<crt>.ocsp`, sent to clients that ask for it.
    if let Some(der) = certs.first().and_then(|c| c.ocsp.clone()) {
        b.set_status_callback(move |ssl| ssl.set_ocsp_status(&der).map(|()| true))
            .map_err(e("unable to set the OCSP response"))?;
    }
    // Client certificates.
    // A bind line does not ask for client certificates unless told.
    let verify = match o.verify {
        Verify::Unset => Verify::None,
        v => v,
    };
    if verify != Verify::None {
        let Some(ca) = o.ca_file.as_ref() else {
            return Err(TlsErr::post(
                "verify is enabled but no CA file specified",
                true,
            ));
        };
        // The run-time store first: a CA file committed on the CLI.
        let certs = super::store::ca_certs("ca-file", &GlobalSsl::based(&g.ca_base, ca))?;
        if !o.no_ca_names {
            let mut names = openssl::stack::Stack::new().map_err(e("cannot list CA names"))?;
            for c in &certs {
                if let Ok(n) = c.subject_name().to_owned() {
                    let _ = names.push(n);
                }
            }
            b.set_client_ca_list(names);
        }
        let mut all = certs;
        if let Some(v) = o.ca_verify_file.as_ref() {
            all.extend(super::store::ca_certs(
                "ca-verify-file",
                &GlobalSsl::based(&g.ca_base, v),
            )?);
        }
        let store = verify_store(all, o.crl_file.as_deref(), g)?;
        b.set_verify_cert_store(store)
            .map_err(e("cannot set the CA store"))?;
    }
    b.set_verify_callback(verify_mode(verify), verify_cb(o));
    // Resumption: a session cache per context (the initial one holds it).
    b.set_session_cache_mode(SslSessionCacheMode::SERVER);
    if let Some(n) = g.cachesize {
        b.set_session_cache_size(n as i32);
    }
    // OpenSSL's own lifetime (7200 s, the ticket hint 2.6 shows) unless
    // `tune.ssl.lifetime` says otherwise.
    if let Some(l) = g.lifetime {
        super::set_session_timeout(&mut b, l);
    }
    // 2.6's session id context: its sessions and tickets (`tls-ticket-keys`
    // shared by both) resume here, and ours there.
    b.set_session_id_context(b"haproxy")
        .map_err(e("cannot set the session id context"))?;
    let alpn = match &o.alpn {
        Some(w) if o.no_h2 => super::opts::alpn_without_h2(w),
        other => other.clone(),
    };
    if let Some(alpn) = alpn {
        b.set_alpn_select_callback(move |_, client| {
            alpn_pick(&alpn, client).ok_or(AlpnError::NOACK)
        });
    }
    b.set_servername_callback(move |ssl, _alert: &mut SslAlert| on_servername(bind, ssl));
    Ok(b.build())
}

/// The protocol versions and algorithm lists of a context, bind or server
/// side, as set (line over global defaults).
pub struct Algos<'a> {
    pub versions: super::opts::Versions,
    pub ciphers: Option<&'a String>,
    pub suites: Option<&'a String>,
    pub curves: Option<&'a String>,
    pub sigalgs: Option<&'a String>,
}

impl Algos<'_> {
    /// Sets them on `b`, with 2.6's messages for what OpenSSL refuses
    /// (`dup`: the message is printed twice, as 2.6 does for bind lines).
    pub fn apply(&self, b: &mut SslContextBuilder, dup: bool) -> Result<(), TlsErr> {
        let (lo, hi) = self
            .versions
            .range()
            .ok_or_else(|| TlsErr::post("all SSL/TLS versions are disabled", false))?;
        b.set_min_proto_version(Some(lo.openssl()))
            .and_then(|_| b.set_max_proto_version(Some(hi.openssl())))
            .map_err(super::err("cannot set the SSL/TLS versions"))?;
        let refused =
            |what: &str, v: &str| TlsErr::post(format!("unable to set {what} to '{v}'"), dup);
        if let Some(c) = self.ciphers {
            b.set_cipher_list(c)
                .map_err(|_| refused("SSL cipher list", c))?;
        }
        if let Some(c) = self.suites {
            b.set_ciphersuites(c)
                .map_err(|_| refused("TLS 1.3 cipher suites", c))?;
        }
        if let Some(c) = self.curves {
            b.set_groups_list(c)
                .map_err(|_| refused("SSL curves list", c))?;
        }
        if let Some(s) = self.sigalgs {
            b.set_sigalgs_list(s).map_err(|_| {
                TlsErr::post(
                    format!("unable to set SSL Signature Algorithm list to '{s}'"),
                    false,
                )
            })?;
        }
        Ok(())
    }
}

impl SniEntry {
    /// The entry of a `crt-list` line: its filters name what it serves
    /// (the certificate's own names without them), `!name` what it must
    /// not; `place` is the list and line.
    pub fn from_list_line(
        ckch: Rc<Ckch>,
        ctx: SslContext,
        opts: BindSsl,
        filters: &[String],
        place: (String, usize),
    ) -> SniEntry {
        let (neg, pos): (Vec<String>, Vec<String>) = filters
            .iter()
            .map(|f| f.to_ascii_lowercase())
            .partition(|f| f.starts_with('!'));
        let names = if pos.is_empty() { ckch.names() } else { pos };
        SniEntry {
            names,
            ckch,
            ctx,
            opts: Rc::new(opts),
            neg: neg
                .iter()
                .map(|n| n.trim_start_matches('!').to_string())
                .collect(),
            from_list: Some(place),
            multi: None,
        }
    }
}

/// The store certificates are verified against: `cas`, and the CRLs of
/// `crl_file` (checked down the whole chain) when there is one.
pub fn verify_store(
    cas: Vec<openssl::x509::X509>,
    crl_file: Option<&str>,
    g: &GlobalSsl,
) -> Result<openssl::x509::store::X509Store, TlsErr> {
    let mut store = X509StoreBuilder::new().map_err(super::err("cannot create a store"))?;
    for c in cas {
        let _ = store.add_cert(c);
    }
    if let Some(crl) = crl_file {
        for c in super::store::crls(&GlobalSsl::based(&g.ca_base, crl))? {
            super::store_add_crl(&mut store, &c);
        }
        let _ = store.set_flags(X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL);
    }
    Ok(store.build())
}

/// The first of our protocols (`server`, wire format) the client offers:
/// the client's copy of its name.
pub fn alpn_pick<'a>(server: &[u8], client: &'a [u8]) -> Option<&'a [u8]> {
    let names = |mut w: &'a [u8]| {
        std::iter::from_fn(move || {
            let (&n, rest) = w.split_first()?;
            let (name, tail) = rest.split_at_checked(usize::from(n))?;
            w = tail;
            Some(name)
        })
    };
    let mut s = server;
    while let Some((&n, rest)) = s.split_first() {
        let (want, tail) = rest.split_at_checked(usize::from(n))?;
        if let Some(c) = names(client).find(|c| *c == want) {
            return Some(c);
        }
        s = tail;
    }
    None
}

/// The verification callback: notes the depth of a failure (a CA or a
/// certificate error) and lets `ca-ignore-err all` / `crt-ignore-err all`
/// pass it.
pub fn verify_cb(
    o: &BindSsl,
) -> impl Fn(bool, &mut openssl::x509::X509StoreContextRef) -> bool + 'static + Sync + Send {
    let (ca_all, crt_all) = (
        o.ca_ignore_err.as_deref() == Some("all"),
        o.crt_ignore_err.as_deref() == Some("all"),
    );
    move |ok, st| {
        if !ok {
            let depth = st.error_depth();
            super::reg::note_verify_failure(depth, st.error().as_raw());
            if (depth > 0 && ca_all) || (depth == 0 && crt_all) {
                return true;
            }
        }
        ok
    }
}

/// Settings every context gets: partial writes from a moving buffer, and
/// record buffers released while idle (the memory of idle connections).
pub fn base_settings(b: &mut SslContextBuilder) {
    b.set_mode(
        SslMode::ENABLE_PARTIAL_WRITE
            | SslMode::ACCEPT_MOVING_WRITE_BUFFER
            | SslMode::RELEASE_BUFFERS,
    );
    b.set_read_ahead(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_one_label() {
        assert!(wild_match("*.a.test", "x.a.test"));
        assert!(!wild_match("*.a.test", "a.test"));
        assert!(!wild_match("*.a.test", "y.x.a.test"));
        assert!(wild_match("a.test", "a.test"));
    }
}
