//! TLS to a server: one client context per `server` line, the session kept
//! for resumption, and what each new connection sets on its session (SNI,
//! host verification, the kept session).

use super::TlsErr;
use super::opts::{GlobalSsl, ServerSsl, Verify};
use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslSession, SslSessionCacheMode,
    SslVerifyMode,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use std::sync::{Arc, Mutex};

/// A server's TLS state.
#[derive(Clone)]
pub struct SrvTls {
    pub ctx: SslContext,
    pub verify: bool,
    /// `verifyhost`: the name the certificate must carry (else the SNI).
    pub verifyhost: Option<String>,
    /// Resume the last session (no `no-ssl-reuse`).
    pub reuse: bool,
    /// The last session the server gave (TLS 1.3 tickets arrive after the
    /// handshake, so the new-session callback fills it).
    pub session: Arc<Mutex<Option<SslSession>>>,
    pub maxrecord: usize,
}

impl std::fmt::Debug for SrvTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrvTls")
            .field("verify", &self.verify)
            .finish_non_exhaustive()
    }
}

/// Builds a server's context. `ctx_name`: `'server be/srv'` for messages.
pub fn build(o: &ServerSsl, g: &GlobalSsl) -> Result<SrvTls, TlsErr> {
    let e = super::err;
    let mut b = SslContextBuilder::new(SslMethod::tls_client())
        .map_err(e("cannot create an SSL context"))?;
    super::bind::base_settings(&mut b);
    let mut opts = SslOptions::NO_COMPRESSION | SslOptions::IGNORE_UNEXPECTED_EOF;
    if o.no_tls_tickets || g.server_no_tls_tickets {
        opts |= SslOptions::NO_TICKET;
    }
    b.set_options(opts);
    super::bind::Algos {
        versions: o.versions.merged_over(&g.server_versions),
        ciphers: o.ciphers.as_ref().or(g.server_ciphers.as_ref()),
        suites: o.ciphersuites.as_ref().or(g.server_ciphersuites.as_ref()),
        curves: o.curves.as_ref().or(g.server_curves.as_ref()),
        sigalgs: o.sigalgs.as_ref().or(g.server_sigalgs.as_ref()),
    }
    .apply(&mut b, false)?;
    if let Some(crt) = o.crt.as_ref() {
        let c = super::certs::Ckch::load(&GlobalSsl::based(&g.crt_base, crt))?;
        b.set_certificate(&c.cert)
            .and_then(|_| b.set_private_key(&c.key))
            .map_err(e("unable to use the client certificate"))?;
        for x in c.chain {
            let _ = b.add_extra_chain_cert(x);
        }
    }
    let verify = match o.verify {
        Verify::Required => true,
        Verify::None | Verify::Optional => false,
        Verify::Unset => !g.server_verify_none,
    };
    if verify {
        let Some(ca) = o.ca_file.as_ref() else {
            return Err(TlsErr::post(
                "verify is enabled but no CA file specified.",
                false,
            ));
        };
        let mut store = X509StoreBuilder::new().map_err(e("cannot create a store"))?;
        for c in super::certs::load_ca_file("ca-file", &GlobalSsl::based(&g.ca_base, ca))? {
            let _ = store.add_cert(c);
        }
        if let Some(crl) = o.crl_file.as_ref() {
            for c in super::certs::load_crl_file(&GlobalSsl::based(&g.ca_base, crl))? {
                super::store_add_crl(&mut store, &c);
            }
            let _ = store.set_flags(X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL);
        }
        b.set_verify_cert_store(store.build())
            .map_err(e("cannot set the CA store"))?;
        b.set_verify(SslVerifyMode::PEER);
    } else {
        b.set_verify(SslVerifyMode::NONE);
    }
    if let Some(alpn) = o.alpn.as_ref() {
        b.set_alpn_protos(alpn).map_err(e("cannot set ALPN"))?;
    }
    let session: Arc<Mutex<Option<SslSession>>> = Arc::new(Mutex::new(None));
    let reuse = !o.no_ssl_reuse;
    if reuse {
        b.set_session_cache_mode(SslSessionCacheMode::CLIENT);
        let slot = Arc::clone(&session);
        b.set_new_session_callback(move |_, s| {
            if let Ok(mut g) = slot.lock() {
                *g = Some(s);
            }
        });
    }
    Ok(SrvTls {
        ctx: b.build(),
        verify,
        verifyhost: o.verifyhost.clone(),
        reuse,
        session,
        maxrecord: g.maxrecord,
    })
}

impl SrvTls {
    /// A session for a new connection: the server name (`sni`), the name
    /// its certificate must carry, and the last session to resume.
    pub fn new_ssl(&self, sni: Option<&str>) -> Result<Ssl, openssl::error::ErrorStack> {
        let mut ssl = Ssl::new(&self.ctx)?;
        if let Some(n) = sni.filter(|n| !n.is_empty()) {
            ssl.set_hostname(n)?;
        }
        if self.verify {
            match self.verifyhost.as_deref().or(sni) {
                Some(h) if !h.is_empty() => ssl.param_mut().set_host(h)?,
                _ => {}
            }
        }
        if self.reuse
            && let Ok(g) = self.session.lock()
            && let Some(s) = g.as_ref()
        {
            // SAFETY: the session came from this same context.
            unsafe { ssl.set_session(s)? };
        }
        Ok(ssl)
    }
}
