//! TLS to a server: one client context per `server` line, the session kept
//! for resumption, and what each new connection sets on its session (SNI,
//! host verification, the kept session).
//!
//! The context can be replaced at run time (`commit ssl cert|ca-file` on
//! the stats socket): the server, its health check and the registry share
//! one `Rc<SrvTls>`, whose context sits in a `RefCell`. New connections
//! take the new one; live sessions keep the context they were made from.

use super::TlsErr;
use super::certs::Ckch;
use super::opts::{GlobalSsl, ServerSsl, Verify};
use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslSession, SslSessionCacheMode,
    SslVerifyMode,
};
use std::cell::RefCell;
use std::sync::{Arc, Mutex};

/// The replaceable part: the context and the session kept for it.
#[derive(Clone)]
struct Live {
    ctx: SslContext,
    /// The last session the server gave (TLS 1.3 tickets arrive after the
    /// handshake, so the new-session callback fills it).
    session: Arc<Mutex<Option<SslSession>>>,
}

/// A server's TLS state.
#[derive(Clone)]
pub struct SrvTls {
    live: RefCell<Live>,
    /// The options it was built from (what a commit rebuilds it with).
    pub opts: ServerSsl,
    pub verify: bool,
    /// `verifyhost`: the name the certificate must carry (else the SNI).
    pub verifyhost: Option<String>,
    /// Resume the last session (no `no-ssl-reuse`).
    pub reuse: bool,
    pub maxrecord: usize,
}

impl std::fmt::Debug for SrvTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrvTls")
            .field("verify", &self.verify)
            .finish_non_exhaustive()
    }
}

/// Builds a server's context. Files are read through the run-time store
/// (`ssl::store`): what was committed on the stats socket, else the disk.
pub fn build(o: &ServerSsl, g: &GlobalSsl) -> Result<SrvTls, TlsErr> {
    build_with(o, g, None)
}

/// Builds a server's context, with `crt` (a certificate being committed)
/// in place of its `crt` file when given.
pub fn build_with(o: &ServerSsl, g: &GlobalSsl, crt: Option<&Ckch>) -> Result<SrvTls, TlsErr> {
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
    if let Some(path) = o.crt.as_ref().map(|c| GlobalSsl::based(&g.crt_base, c)) {
        let c = match crt {
            Some(c) => c.clone(),
            None => super::store::ckch(&path)?,
        };
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
        let cas = super::store::ca_certs("ca-file", &GlobalSsl::based(&g.ca_base, ca))?;
        let store = super::bind::verify_store(cas, o.crl_file.as_deref(), g)?;
        b.set_verify_cert_store(store)
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
        live: RefCell::new(Live {
            ctx: b.build(),
            session,
        }),
        opts: o.clone(),
        verify,
        verifyhost: o.verifyhost.clone(),
        reuse,
        maxrecord: g.maxrecord,
    })
}

impl SrvTls {
    /// The certificate it presents (`crt`, after `crt-base`): 2.6 makes a
    /// certificate instance of the server only then.
    pub fn crt_path(&self, g: &GlobalSsl) -> Option<String> {
        self.opts
            .crt
            .as_ref()
            .map(|c| GlobalSsl::based(&g.crt_base, c))
    }

    /// Whether a commit of CA or CRL file `path` rebuilds this context:
    /// 2.6 links a server to its files when it has a certificate instance
    /// and verifies.
    pub fn uses_cafile(&self, g: &GlobalSsl, path: &str) -> bool {
        self.opts.crt.is_some()
            && self.verify
            && [&self.opts.ca_file, &self.opts.crl_file]
                .into_iter()
                .flatten()
                .any(|f| GlobalSsl::based(&g.ca_base, f) == path)
    }

    /// Takes `new`'s context (and its empty session slot: 2.6 flushes the
    /// kept session on a commit). Connections made from now on use it.
    pub fn replace(&self, new: SrvTls) {
        *self.live.borrow_mut() = new.live.into_inner();
    }

    /// A session for a new connection: the server name (`sni`), the name
    /// its certificate must carry, and the last session to resume.
    pub fn new_ssl(&self, sni: Option<&str>) -> Result<Ssl, openssl::error::ErrorStack> {
        let live = self.live.borrow();
        let mut ssl = Ssl::new(&live.ctx)?;
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
            && let Ok(g) = live.session.lock()
            && let Some(s) = g.as_ref()
        {
            // SAFETY: the session came from this same context.
            unsafe { ssl.set_session(s)? };
        }
        Ok(ssl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> ServerSsl {
        ServerSsl {
            enabled: true,
            verify: Verify::None,
            ..ServerSsl::default()
        }
    }

    #[test]
    fn only_a_server_with_a_certificate_that_verifies_uses_its_ca_files() {
        let g = GlobalSsl {
            ca_base: Some("/ca".into()),
            ..GlobalSsl::default()
        };
        let mut t = build(&plain(), &g).expect("context");
        t.opts.ca_file = Some("a.crt".into());
        t.opts.crl_file = Some("/x/a.crl".into());
        t.verify = true;
        assert!(
            !t.uses_cafile(&g, "/ca/a.crt"),
            "no certificate: no instance"
        );
        t.opts.crt = Some("c.pem".into());
        assert!(t.uses_cafile(&g, "/ca/a.crt"));
        assert!(t.uses_cafile(&g, "/x/a.crl"));
        assert!(!t.uses_cafile(&g, "/ca/b.crt"));
        t.verify = false;
        assert!(!t.uses_cafile(&g, "/ca/a.crt"), "verify none: not linked");
        assert_eq!(t.crt_path(&g).as_deref(), Some("c.pem"));
    }

    #[test]
    fn a_replaced_context_serves_new_sessions_and_forgets_the_kept_one() {
        let g = GlobalSsl::default();
        let t = build(&plain(), &g).expect("context");
        let old = t.live.borrow().ctx.clone();
        let mut o = plain();
        o.alpn = Some(b"\x08http/1.1".to_vec());
        t.replace(build(&o, &g).expect("context"));
        let ssl = t.new_ssl(Some("a.test")).expect("session");
        assert!(!std::ptr::eq(ssl.ssl_context(), &*old));
        assert!(t.live.borrow().session.lock().expect("lock").is_none());
    }
}
