//! TLS with OpenSSL: settings (`opts`), certificate files (`certs`), the
//! listener side (`bind`: contexts and SNI), the server side (`server`),
//! and the registry the handshake callbacks and the CLI share (`reg`).
//!
//! The data layer itself is `conn::ssl_sock`; this module only builds what
//! it runs on. Everything is built while the configuration is checked
//! (`build`), so that `-c` reports a bad certificate as starting would.
//!
//! ```text
//!   cfg (BindSsl / ServerSsl / GlobalSsl) --build--> BindTls, SrvTls
//!        --reg::install--> registry (servername callback, CLI commits)
//!   accept: Ssl::new(initial ctx) -> ssl_sock (HH_SSL_HS) ; connect: SrvTls::new_ssl
//! ```

pub mod bind;
pub mod build;
pub mod certs;
pub mod forge;
pub mod opts;
pub mod server;
pub mod stats;
pub mod store;
pub mod tickets;

/// The two OpenSSL calls the openssl crate does not wrap.
mod ffi {
    use std::os::raw::{c_int, c_long};
    unsafe extern "C" {
        pub fn SSL_CTX_set_timeout(ctx: *mut openssl_sys::SSL_CTX, t: c_long) -> c_long;
        pub fn X509_STORE_add_crl(
            store: *mut openssl_sys::X509_STORE,
            crl: *mut openssl_sys::X509_CRL,
        ) -> c_int;
        pub fn SSL_has_pending(ssl: *const openssl_sys::SSL) -> c_int;
    }
}

/// The session holds received bytes not yet returned (decrypted or not).
pub fn has_pending(ssl: &openssl::ssl::SslRef) -> bool {
    use foreign_types::ForeignTypeRef;
    // SAFETY: a read-only query on a live session.
    unsafe { ffi::SSL_has_pending(ssl.as_ptr()) != 0 }
}

/// Why a TLS setting could not be built, reported as 2.6 does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsErr {
    /// A file that cannot be loaded: reported at its line, as 2.6 does
    /// while parsing (`pre`: a line 2.6 prints before, with no place).
    Parse { pre: Option<String>, msg: String },
    /// A setting OpenSSL refuses: reported after parsing, naming the bind
    /// (`dup`: 2.6 prints the message a second time, bare).
    Post { msg: String, dup: bool },
}

impl From<String> for TlsErr {
    fn from(msg: String) -> TlsErr {
        TlsErr::Parse { pre: None, msg }
    }
}

impl TlsErr {
    fn post(msg: impl Into<String>, dup: bool) -> TlsErr {
        TlsErr::Post {
            msg: msg.into(),
            dup,
        }
    }
}

/// An OpenSSL failure as a message: `<what> (<openssl errors>).`
pub fn err(what: &'static str) -> impl Fn(openssl::error::ErrorStack) -> TlsErr {
    move |e| TlsErr::post(format!("{what} ({e})"), false)
}

/// The stored form of an ASN.1 time (`YYMMDDhhmmssZ` for UTCTime), as
/// `ssl_c_notafter` gives it.
pub fn asn1_time_raw(t: &openssl::asn1::Asn1TimeRef) -> Option<&[u8]> {
    use foreign_types::ForeignTypeRef;
    // SAFETY: an ASN1_TIME is an ASN1_STRING; its data lives as long as
    // the certificate `t` borrows from, which outlives the returned slice.
    unsafe {
        let s = t.as_ptr() as *const openssl_sys::ASN1_STRING;
        let len = usize::try_from(openssl_sys::ASN1_STRING_length(s)).ok()?;
        let p = openssl_sys::ASN1_STRING_get0_data(s);
        if p.is_null() {
            return None;
        }
        Some(std::slice::from_raw_parts(p, len))
    }
}

/// Session lifetime of a context being built (`tune.ssl.lifetime`).
pub fn set_session_timeout(b: &mut openssl::ssl::SslContextBuilder, secs: u32) {
    // SAFETY: a plain setter on a live context.
    unsafe { ffi::SSL_CTX_set_timeout(b.as_ptr(), std::os::raw::c_long::from(secs)) };
}

/// Adds `crl` to a store being built (the store takes its own reference).
pub fn store_add_crl(
    store: &mut openssl::x509::store::X509StoreBuilder,
    crl: &openssl::x509::X509Crl,
) {
    use foreign_types::ForeignTypeRef;
    // SAFETY: both pointers are live; X509_STORE_add_crl ups the CRL's
    // reference count rather than taking ours.
    unsafe { ffi::X509_STORE_add_crl(store.as_ptr(), crl.as_ptr()) };
}

/// The listener contexts and certificates of the running process, reached
/// from OpenSSL callbacks (which cannot borrow the engine) and from the
/// stats socket. One thread: a thread-local.
pub mod reg {
    use super::bind::BindTls;
    use super::server::SrvTls;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    thread_local! {
        static BINDS: RefCell<Vec<Rc<BindTls>>> = const { RefCell::new(Vec::new()) };
        static SERVERS: RefCell<Vec<Rc<SrvTls>>> = const { RefCell::new(Vec::new()) };
        static GLOBAL: RefCell<Option<Rc<super::opts::GlobalSsl>>> = const { RefCell::new(None) };
        static VERIFY_DEPTH: Cell<i64> = const { Cell::new(-1) };
        static VERIFY_CODE: Cell<i32> = const { Cell::new(0) };
        static STORE: RefCell<Option<super::store::Store>> = const { RefCell::new(None) };
    }

    /// Makes `binds` the running listeners' TLS states (index = bind id)
    /// and `servers` the servers' (shared with the servers and their
    /// checks, replaced in place), with the global settings contexts built
    /// at run time use, and the certificate store of what they were built
    /// from.
    pub fn install(binds: Vec<BindTls>, servers: Vec<Rc<SrvTls>>, global: super::opts::GlobalSsl) {
        let store = super::store::Store::from_binds(&binds, &servers, &global);
        BINDS.with(|b| *b.borrow_mut() = binds.into_iter().map(Rc::new).collect());
        SERVERS.with(|s| *s.borrow_mut() = servers);
        GLOBAL.with(|g| *g.borrow_mut() = Some(Rc::new(global)));
        STORE.with(|s| *s.borrow_mut() = Some(store));
    }

    /// Runs `f` on the certificate store; None before `install` (or when
    /// the store is already borrowed: `f` must not reach it again).
    pub fn with_store<R>(f: impl FnOnce(&mut super::store::Store) -> R) -> Option<R> {
        STORE.with(|s| {
            s.try_borrow_mut().ok()?.as_mut().map(|s| {
                s.load_system_ca();
                f(s)
            })
        })
    }

    /// The global TLS settings (defaults when nothing was installed).
    pub fn global() -> Rc<super::opts::GlobalSsl> {
        GLOBAL.with(|g| g.borrow().clone().unwrap_or_default())
    }

    /// Bind `i`'s TLS state.
    pub fn bind(i: usize) -> Option<Rc<BindTls>> {
        BINDS.with(|b| b.borrow().get(i).cloned())
    }

    /// Replaces bind `i`'s state (a certificate committed at run time):
    /// new handshakes use it, live sessions keep what they have.
    pub fn replace(i: usize, tls: BindTls) {
        BINDS.with(|b| {
            if let Some(slot) = b.borrow_mut().get_mut(i) {
                *slot = Rc::new(tls);
            }
        });
    }

    /// The servers' TLS states (every `server` line with TLS).
    pub fn servers() -> Vec<Rc<SrvTls>> {
        SERVERS.with(|s| s.borrow().clone())
    }

    /// Number of binds with TLS.
    pub fn len() -> usize {
        BINDS.with(|b| b.borrow().len())
    }

    /// Called by the verification callback: the depth of a failure and
    /// its X509 error code.
    pub fn note_verify_failure(depth: u32, code: i32) {
        VERIFY_DEPTH.with(|d| d.set(i64::from(depth)));
        VERIFY_CODE.with(|c| c.set(code));
    }

    /// Forgets the last failure (before a handshake step).
    pub fn clear_verify_failure() {
        VERIFY_DEPTH.with(|d| d.set(-1));
    }

    /// The depth and code of the last verification failure, if any.
    pub fn verify_failure() -> Option<(u32, i32)> {
        let depth = VERIFY_DEPTH.with(|d| u32::try_from(d.get()).ok())?;
        Some((depth, VERIFY_CODE.with(|c| c.get())))
    }
}
