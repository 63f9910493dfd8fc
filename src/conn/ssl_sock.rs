//! The TLS data layer (HAProxy's `ssl_sock`): bytes between a socket and a
//! buffer through an OpenSSL session.
//!
//! Called only through the connection, beside `raw_sock`. The session reads
//! and writes the socket through a BIO of [`super::ssl_bio`] (recv/send with
//! `MSG_NOSIGNAL`), which also remembers whether the kernel was drained, so
//! that a short read costs no extra EAGAIN syscall. Every call reports an [`Xfer`] whose
//! stop says what the *socket* waits for: a read that needs a write first
//! (a key update, a renegotiation attempt) reports `BlockedWrite`, and the
//! reverse, from OpenSSL's own `WANT_*` codes rather than guessed.
//!
//! ```text
//!   accept()/connect() -> handshake (HH_SSL_HS: WANT_READ / WANT_WRITE / done / failed)
//!        -> rcv_buf / snd_buf (records) -> shutw: close_notify (may wait for writability)
//! ```
//!
//! The read-ahead and release-buffers modes are set on every context
//! (`ssl::ctx`): one recv takes several records, and an idle session gives
//! its record buffers back, as HAProxy asks OpenSSL to.

use super::ssl_bio;
use super::{Stop, Xfer};
use crate::buf::Buffer;
use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ssl::{ErrorCode, Ssl, SslRef};
use openssl_sys as ffi;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::os::raw::c_int;

/// A failed OpenSSL call, as the openssl crate's `SslStream` reported it:
/// the `SSL_get_error` code with OpenSSL's errors, or the socket's errno.
#[derive(Debug)]
pub struct TlsError {
    code: ErrorCode,
    errno: Option<i32>,
    ssl: Option<ErrorStack>,
}

impl TlsError {
    pub fn code(&self) -> ErrorCode {
        self.code
    }
    /// The socket's error, when the call failed on a recv or a send.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }
    /// OpenSSL's errors, when it reported some.
    pub fn ssl_error(&self) -> Option<&ErrorStack> {
        self.ssl.as_ref()
    }
}

/// How a handshake step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HsRes {
    Done,
    WantRead,
    WantWrite,
    Failed(SslFail),
}

/// Why a handshake failed, as HAProxy tells them apart (`CO_ER_SSL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslFail {
    /// The peer closed (FIN) before its hello was answered.
    Empty,
    /// A protocol error (bad record, no shared cipher, unknown SNI with
    /// `strict-sni`...), a reset, or a close after our answer.
    Handshake,
    /// The peer's certificate was refused.
    CrtFail,
    /// The peer's certificate chain could not be verified.
    CaFail,
}

/// What went wrong in a session, for `fc_err`, `ssl_fc_err`, `ssl_c_err`,
/// `ssl_c_ca_err` and their `_str` forms (zero when nothing did).
#[derive(Debug, Clone, Default)]
pub struct SslDiag {
    /// The first OpenSSL error of a failed handshake (`ssl_fc_err`), and
    /// its text as OpenSSL prints it (`ssl_fc_err_str`).
    pub ssl_err: u64,
    pub ssl_err_str: Option<String>,
    /// X509 verification errors on the peer's certificate (depth 0) and
    /// on its chain.
    pub c_err: i64,
    pub ca_err: i64,
}

/// A connection's TLS session.
pub struct SslSock {
    ssl: Ssl,
    /// Largest plaintext per record sent (`tune.ssl.maxrecord`; 0: 16 KiB).
    maxrecord: usize,
    /// Server side of the session (an accepted connection).
    accept: bool,
    pub diag: SslDiag,
    /// The last read needed to write first (a key update or an alert to
    /// send while the socket was full): the next writability retries it.
    pub read_wants_write: bool,
    /// TLS 1.3 early data (`allow-0rtt`): still to be read during the
    /// handshake (`Some`), and what was read, handed out first by
    /// `rcv_buf` once the stream exists.
    early: Early,
    early_data: Vec<u8>,
}

/// Where the reading of early data stands.
#[derive(Debug)]
enum Early {
    /// Not decided yet (first handshake step).
    Check,
    /// Reading it, with what came so far.
    Reading(Vec<u8>),
    /// Over (or never allowed).
    Done,
}

impl Drop for SslSock {
    fn drop(&mut self) {
        crate::ssl::stats::on_free();
    }
}

impl std::fmt::Debug for SslSock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SslSock").finish_non_exhaustive()
    }
}

impl SslSock {
    /// A session over `fd`, server side (`accept`) or client side.
    pub fn new(mut ssl: Ssl, fd: RawFd, accept: bool, maxrecord: usize) -> io::Result<SslSock> {
        if accept {
            ssl.set_accept_state();
        } else {
            ssl.set_connect_state();
        }
        ssl_bio::attach(&ssl, fd)?;
        crate::ssl::stats::on_new();
        Ok(SslSock {
            ssl,
            maxrecord,
            accept,
            diag: SslDiag::default(),
            read_wants_write: false,
            early: Early::Check,
            early_data: Vec::new(),
        })
    }

    /// The OpenSSL session (for sample fetches and logs).
    #[inline]
    pub fn ssl(&self) -> &SslRef {
        &self.ssl
    }

    /// Received bytes wait in the session: a read would return some
    /// without the socket being readable.
    pub fn has_pending(&self) -> bool {
        crate::ssl::has_pending(&self.ssl)
    }

    /// The socket may hold more (the last recv filled what was asked).
    pub fn may_have_more(&self) -> bool {
        !ssl_bio::drained(&self.ssl) || self.has_pending() || !self.early_data.is_empty()
    }

    /// One handshake step.
    pub fn handshake(&mut self) -> HsRes {
        crate::ssl::reg::clear_verify_failure();
        if matches!(self.early, Early::Check) {
            self.early = if self.accept && self.ssl.max_early_data() > 0 {
                Early::Reading(Vec::new())
            } else {
                Early::Done
            };
        }
        let r = match self.read_early() {
            Ok(()) => self.do_handshake(),
            Err(e) => Err(e),
        };
        // A certificate error, fatal or let through by `*-ignore-err`.
        let verify = crate::ssl::reg::verify_failure();
        match verify {
            Some((0, code)) => self.diag.c_err = i64::from(code),
            Some((_, code)) => self.diag.ca_err = i64::from(code),
            None => {}
        }
        match r {
            Ok(()) => {
                crate::ssl::stats::on_handshake(self.accept, self.ssl.session_reused());
                HsRes::Done
            }
            Err(e) => match e.code() {
                ErrorCode::WANT_READ => HsRes::WantRead,
                ErrorCode::WANT_WRITE => HsRes::WantWrite,
                code => {
                    let eof = code == ErrorCode::ZERO_RETURN
                        || (code == ErrorCode::SYSCALL && e.errno().is_none());
                    let fail = if eof && ssl_bio::tx(&self.ssl) == 0 {
                        SslFail::Empty
                    } else {
                        match verify {
                            Some((0, _)) => SslFail::CrtFail,
                            Some(_) => SslFail::CaFail,
                            None => SslFail::Handshake,
                        }
                    };
                    if let Some(first) = e.ssl_error().and_then(|s| s.errors().first()) {
                        self.diag.ssl_err = first.code();
                        self.diag.ssl_err_str = Some(format!(
                            "error:{:08X}:{}::{}",
                            first.code(),
                            first.library().unwrap_or(""),
                            first.reason().unwrap_or("")
                        ));
                    }
                    HsRes::Failed(fail)
                }
            },
        }
    }

    /// Reads the client's early data while the handshake allows it (the
    /// request of a 0-RTT client); done once OpenSSL says it has ended.
    fn read_early(&mut self) -> Result<(), TlsError> {
        let Early::Reading(mut got) = std::mem::replace(&mut self.early, Early::Done) else {
            return Ok(());
        };
        let mut tmp = [0u8; 4096];
        loop {
            match self.read_early_data(&mut tmp) {
                Ok(0) => {
                    self.early_data = got;
                    return Ok(());
                }
                Ok(n) => got.extend_from_slice(tmp.get(..n).unwrap_or(&[])),
                Err(e) => {
                    self.early = Early::Reading(got);
                    return Err(e);
                }
            }
        }
    }

    /// Receives plaintext into `buf`'s free area, at most `limit` bytes.
    pub fn rcv_buf(&mut self, buf: &mut Buffer, limit: usize) -> Xfer {
        let mut st = Xfer {
            n: 0,
            stop: Stop::Progress,
        };
        let mut budget = limit;
        // Early data read with the handshake goes first.
        if !self.early_data.is_empty() {
            let take = self.early_data.len().min(budget);
            let n = buf.put(self.early_data.get(..take).unwrap_or(&[]));
            self.early_data.drain(..n);
            st.n += n;
            budget -= n;
        }
        while budget > 0 {
            let [(off, len), _] = buf.free_ranges();
            if len == 0 {
                break;
            }
            let asked = len.min(budget);
            // SAFETY: the first free range lies inside the buffer's
            // allocation and is valid for writes of `len` bytes; OpenSSL
            // only writes it, and `commit` records what it wrote.
            let dst = unsafe {
                std::slice::from_raw_parts_mut(
                    buf.area_ptr().wrapping_add(off).cast::<MaybeUninit<u8>>(),
                    asked,
                )
            };
            match self.ssl_read(dst) {
                Ok(n) => {
                    // SAFETY: OpenSSL initialised these `n` bytes.
                    unsafe { buf.commit(n) };
                    st.n += n;
                    budget -= n;
                    if n < asked && ssl_bio::drained(&self.ssl) && !self.has_pending() {
                        st.stop = Stop::BlockedRead;
                        break;
                    }
                }
                Err(e) => {
                    st.stop = self.stop_of(&e);
                    break;
                }
            }
        }
        self.read_wants_write = st.stop == Stop::BlockedWrite;
        st
    }

    /// Sends `buf`'s output through the session, consuming what went out.
    pub fn snd_buf(&mut self, buf: &mut Buffer) -> Xfer {
        let mut st = Xfer {
            n: 0,
            stop: Stop::Progress,
        };
        while buf.output() > 0 {
            let (a, _) = buf.out_data();
            let len = if self.maxrecord > 0 {
                a.len().min(self.maxrecord)
            } else {
                a.len()
            };
            match self.ssl_write(a.get(..len).unwrap_or(a)) {
                Ok(n) => {
                    buf.consume(n);
                    st.n += n;
                }
                Err(e) => {
                    st.stop = self.stop_of(&e);
                    break;
                }
            }
        }
        st
    }

    /// Before a clean close: tells OpenSSL the session ended properly, so
    /// that freeing it does not mark it unresumable (OpenSSL drops from its
    /// cache, and refuses to resume, a session freed without a shutdown).
    pub fn keep_session(&mut self) {
        if self.ssl.is_init_finished() {
            let bits = openssl::ssl::ShutdownState::SENT | openssl::ssl::ShutdownState::RECEIVED;
            // SAFETY: a flag on a live session.
            unsafe { ffi::SSL_set_shutdown(self.ssl.as_ptr(), bits.bits()) }
        }
    }

    /// Sends close_notify. Returns false when the socket would block (to
    /// be finished once writable).
    pub fn shutw(&mut self) -> bool {
        // SAFETY: a call on a live session.
        match unsafe { ffi::SSL_shutdown(self.ssl.as_ptr()) } {
            0 | 1 => true,
            r => self.fail(r).code() != ErrorCode::WANT_WRITE,
        }
    }

    /// What a failed call left: its code, with OpenSSL's errors (drained
    /// from the queue) or the socket's errno, as `SslStream` reported it.
    fn fail(&mut self, ret: c_int) -> TlsError {
        // SAFETY: a query on a live session, right after the failed call.
        let code = ErrorCode::from_raw(unsafe { ffi::SSL_get_error(self.ssl.as_ptr(), ret) });
        let (mut errno, mut ssl) = (None, None);
        match code {
            ErrorCode::SSL => ssl = Some(ErrorStack::get()),
            ErrorCode::SYSCALL => {
                let errs = ErrorStack::get();
                if errs.errors().is_empty() {
                    errno = ssl_bio::take_errno(&self.ssl);
                } else {
                    ssl = Some(errs);
                }
            }
            ErrorCode::WANT_READ | ErrorCode::WANT_WRITE => {
                ssl_bio::take_errno(&self.ssl);
            }
            _ => {}
        }
        TlsError { code, errno, ssl }
    }

    fn do_handshake(&mut self) -> Result<(), TlsError> {
        // SAFETY: a call on a live session.
        let r = unsafe { ffi::SSL_do_handshake(self.ssl.as_ptr()) };
        if r > 0 { Ok(()) } else { Err(self.fail(r)) }
    }

    /// `Ok(0)`: all early data was read.
    fn read_early_data(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        let mut n = 0;
        // SAFETY: `buf` is valid for writes of its length.
        let r = unsafe {
            ffi::SSL_read_early_data(
                self.ssl.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut n,
            )
        };
        match r {
            ffi::SSL_READ_EARLY_DATA_SUCCESS => Ok(n),
            ffi::SSL_READ_EARLY_DATA_FINISH => Ok(0),
            _ => Err(self.fail(r)),
        }
    }

    fn ssl_read(&mut self, buf: &mut [MaybeUninit<u8>]) -> Result<usize, TlsError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        // SAFETY: `buf` is valid for writes of its length; OpenSSL only
        // writes it.
        let r = unsafe {
            ffi::SSL_read_ex(
                self.ssl.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut n,
            )
        };
        if r > 0 { Ok(n) } else { Err(self.fail(r)) }
    }

    fn ssl_write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        // SAFETY: `buf` is valid for reads of its length.
        let r =
            unsafe { ffi::SSL_write_ex(self.ssl.as_ptr(), buf.as_ptr().cast(), buf.len(), &mut n) };
        if r > 0 { Ok(n) } else { Err(self.fail(r)) }
    }

    /// What an OpenSSL error means for the socket.
    fn stop_of(&self, e: &TlsError) -> Stop {
        match e.code() {
            ErrorCode::WANT_READ => Stop::BlockedRead,
            ErrorCode::WANT_WRITE => Stop::BlockedWrite,
            ErrorCode::ZERO_RETURN => Stop::Read0,
            ErrorCode::SYSCALL => match e.errno() {
                Some(errno) => Stop::Error(errno),
                // EOF without close_notify: most clients end so.
                None => Stop::Read0,
            },
            _ => Stop::Error(libc::EPROTO),
        }
    }
}
