//! The socket as OpenSSL's transport.
//!
//! One BIO method serves every session, and a BIO keeps its whole state in
//! its data word, so a session costs OpenSSL's BIO and nothing else: the
//! openssl crate's `SslStream` allocates a method and a boxed state per
//! connection (about 200 bytes of every idle TLS connection, issue 10).

use foreign_types::ForeignTypeRef;
use openssl::ssl::SslRef;
use openssl_sys as ffi;
use std::io;
use std::os::fd::RawFd;
use std::os::raw::{c_char, c_int, c_long, c_void};

// The word: the fd in bits 0-31, "drained" in bit 32, and from bit 33
// the errno of the last failed recv/send, until the session takes it.
const _: () = assert!(usize::BITS >= 64, "the BIO word packs 64 bits");
const DRAINED: usize = 1 << 32;
const ERRNO_SHIFT: u32 = 33;

fn word(bio: *mut ffi::BIO) -> usize {
    // SAFETY: `bio` is a live BIO of our method.
    unsafe { ffi::BIO_get_data(bio) }.addr()
}
fn set_word(bio: *mut ffi::BIO, w: usize) {
    // SAFETY: as above; the data is a plain word, never dereferenced.
    unsafe { ffi::BIO_set_data(bio, std::ptr::without_provenance_mut(w)) }
}
fn fd_of(w: usize) -> RawFd {
    (w & 0xffff_ffff) as u32 as RawFd
}
fn with_errno(w: usize, e: i32) -> usize {
    (w & (DRAINED | 0xffff_ffff)) | ((e.max(0) as u32 as usize) << ERRNO_SHIFT)
}

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

unsafe extern "C" fn bread(bio: *mut ffi::BIO, buf: *mut c_char, len: c_int) -> c_int {
    // SAFETY: OpenSSL hands its own BIO.
    unsafe { ffi::BIO_clear_retry_flags(bio) };
    let w = word(bio);
    let len = usize::try_from(len).unwrap_or(0);
    loop {
        // SAFETY: OpenSSL's buffer is valid for writes of `len` bytes.
        let r = unsafe { libc::recv(fd_of(w), buf.cast(), len, 0) };
        if r >= 0 {
            // A short read (or EAGAIN): nothing more waits in the kernel.
            let n = r as usize;
            set_word(bio, if n < len { w | DRAINED } else { w & !DRAINED });
            return r as c_int;
        }
        match errno() {
            libc::EINTR => continue,
            libc::EAGAIN => {
                set_word(bio, with_errno(w, 0) | DRAINED);
                // SAFETY: as above.
                unsafe { ffi::BIO_set_retry_read(bio) };
            }
            e => set_word(bio, with_errno(w, e)),
        }
        return -1;
    }
}

unsafe extern "C" fn bwrite(bio: *mut ffi::BIO, buf: *const c_char, len: c_int) -> c_int {
    // SAFETY: OpenSSL hands its own BIO.
    unsafe { ffi::BIO_clear_retry_flags(bio) };
    let w = word(bio);
    let len = usize::try_from(len).unwrap_or(0);
    loop {
        // SAFETY: OpenSSL's buffer is valid for reads of `len` bytes.
        let r = unsafe {
            libc::send(
                fd_of(w),
                buf.cast(),
                len,
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
            )
        };
        if r >= 0 {
            return r as c_int;
        }
        match errno() {
            libc::EINTR => continue,
            libc::EAGAIN => {
                set_word(bio, with_errno(w, 0));
                // SAFETY: as above.
                unsafe { ffi::BIO_set_retry_write(bio) };
            }
            e => set_word(bio, with_errno(w, e)),
        }
        return -1;
    }
}

unsafe extern "C" fn ctrl(_: *mut ffi::BIO, cmd: c_int, _: c_long, _: *mut c_void) -> c_long {
    // Nothing is buffered here: a flush always succeeds.
    c_long::from(cmd == ffi::BIO_CTRL_FLUSH)
}

unsafe extern "C" fn create(bio: *mut ffi::BIO) -> c_int {
    // SAFETY: a BIO being created by BIO_new.
    unsafe {
        ffi::BIO_set_init(bio, 0);
        ffi::BIO_set_data(bio, std::ptr::null_mut());
        ffi::BIO_set_flags(bio, 0);
    }
    1
}

unsafe extern "C" fn destroy(bio: *mut ffi::BIO) -> c_int {
    if bio.is_null() {
        return 0;
    }
    // SAFETY: a BIO being freed; its word owns nothing.
    unsafe {
        ffi::BIO_set_data(bio, std::ptr::null_mut());
        ffi::BIO_set_init(bio, 0);
    }
    1
}

unsafe extern "C" {
    fn BIO_number_written(bio: *mut ffi::BIO) -> u64;
}

/// The shared method, made on first use (its address: a method is
/// only ever read once built).
fn method() -> Option<*const ffi::BIO_METHOD> {
    static METHOD: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let m = *METHOD.get_or_init(|| {
        // SAFETY: plain OpenSSL calls on a method we own and never free.
        unsafe {
            let m = ffi::BIO_meth_new(ffi::BIO_TYPE_NONE, c"haproxy-rs fd".as_ptr());
            if m.is_null() {
                return 0;
            }
            let ok = ffi::BIO_meth_set_write__fixed_rust(m, Some(bwrite)) == 1
                && ffi::BIO_meth_set_read__fixed_rust(m, Some(bread)) == 1
                && ffi::BIO_meth_set_ctrl__fixed_rust(m, Some(ctrl)) == 1
                && ffi::BIO_meth_set_create__fixed_rust(m, Some(create)) == 1
                && ffi::BIO_meth_set_destroy__fixed_rust(m, Some(destroy)) == 1;
            if ok {
                m.expose_provenance()
            } else {
                ffi::BIO_meth_free(m);
                0
            }
        }
    });
    (m != 0).then(|| std::ptr::with_exposed_provenance::<ffi::BIO_METHOD>(m))
}

/// Gives `ssl` a BIO over `fd` (as its read and write BIO).
pub fn attach(ssl: &SslRef, fd: RawFd) -> io::Result<()> {
    let m = method().ok_or_else(|| io::Error::other("cannot create the BIO method"))?;
    // SAFETY: a fresh BIO of our method, handed to the session, which
    // then owns it (one reference for both directions).
    unsafe {
        let bio = ffi::BIO_new(m);
        if bio.is_null() {
            return Err(io::Error::other("cannot create a BIO"));
        }
        set_word(bio, fd as u32 as usize);
        ffi::BIO_set_init(bio, 1);
        ffi::SSL_set_bio(ssl.as_ptr(), bio, bio);
    }
    Ok(())
}

fn bio(ssl: &SslRef) -> *mut ffi::BIO {
    // SAFETY: a query on a live session, which always has our BIO.
    unsafe { ffi::SSL_get_rbio(ssl.as_ptr()) }
}

/// The last recv returned less than asked (or EAGAIN).
pub fn drained(ssl: &SslRef) -> bool {
    word(bio(ssl)) & DRAINED != 0
}

/// Bytes written to the socket so far.
pub fn tx(ssl: &SslRef) -> u64 {
    // SAFETY: a query on the session's live BIO.
    unsafe { BIO_number_written(bio(ssl)) }
}

/// The errno of the last failed recv/send, forgotten once taken.
pub fn take_errno(ssl: &SslRef) -> Option<i32> {
    let b = bio(ssl);
    let w = word(b);
    set_word(b, with_errno(w, 0));
    let e = (w >> ERRNO_SHIFT) as i32;
    (e != 0).then_some(e)
}
