//! `tls-ticket-keys <file>`: session tickets sealed with keys shared by
//! every process that loads the same file (so that a client resumes on
//! any of them), in HAProxy's format: one base64 key per line, 48 bytes
//! (AES-128) or 80 (AES-256), each a 16-byte name, the AES key, then the
//! HMAC-SHA256 key. The last 3 keys decrypt; the one before the last
//! encrypts, so appending a key and reloading rotates them.
//!
//! OpenSSL calls one C callback for every ticket; it finds the keys of
//! the context it runs for in a per-thread table filled when contexts are
//! built (the callback has no user argument).

use openssl::ssl::SslContextBuilder;
use openssl_sys as ffi;
use std::cell::RefCell;
use std::collections::HashMap;
use std::os::raw::{c_int, c_uchar};
use std::rc::Rc;

/// Keys used at once (HAProxy's TLS_TICKETS_NO).
const KEYS_USED: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    name: [u8; 16],
    aes: Vec<u8>,
    hmac: Vec<u8>,
}

/// The keys of a ticket keys file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketKeys {
    keys: Vec<Key>,
}

impl TicketKeys {
    /// Loads `path`. Errors are 2.6's wording.
    pub fn load(path: &str) -> Result<TicketKeys, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|_| format!("'{path}' : unable to load ssl tickets keys file"))?;
        Self::parse(&text).map_err(|e| format!("'{path}' : {e}"))
    }

    /// Parses the file's text. Errors are 2.6's wording after the path.
    pub fn parse(text: &str) -> Result<TicketKeys, String> {
        let mut keys = Vec::new();
        let mut len = None;
        for (i, line) in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            let mut raw = Vec::new();
            if !crate::rules::conv_enc::b64_decode(line.as_bytes(), &mut raw, false) {
                return Err(format!("unable to decode base64 key on line {}", i + 1));
            }
            if (raw.len() != 48 && raw.len() != 80) || len.is_some_and(|l| l != raw.len()) {
                return Err(format!("wrong sized key on line {}", i + 1));
            }
            len = Some(raw.len());
            let k = (raw.len() - 16) / 2;
            let (name, rest) = raw.split_at(16);
            let (aes, hmac) = rest.split_at(k);
            let mut n = [0u8; 16];
            n.copy_from_slice(name);
            keys.push(Key {
                name: n,
                aes: aes.to_vec(),
                hmac: hmac.to_vec(),
            });
        }
        if keys.len() < KEYS_USED {
            return Err("please supply at least 3 keys in the tls-tickets-file".to_string());
        }
        let used = keys.split_off(keys.len() - KEYS_USED);
        Ok(TicketKeys { keys: used })
    }

    /// The key new tickets are sealed with: the one before the last.
    fn enc(&self) -> Option<&Key> {
        self.keys.get(KEYS_USED - 2)
    }

    /// The keys in use, base64 as in the file.
    fn lines(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| {
                let raw: Vec<u8> = k
                    .name
                    .iter()
                    .chain(&k.aes)
                    .chain(&k.hmac)
                    .copied()
                    .collect();
                let mut v = Vec::new();
                crate::rules::conv_enc::b64_encode(&raw, &mut v, false);
                String::from_utf8_lossy(&v).into_owned()
            })
            .collect()
    }

    /// Drops the oldest key and appends `b64` (of the same size).
    fn rotate(&mut self, b64: &str) -> Result<(), RotateErr> {
        let size = self.keys.first().map_or(48, |k| 16 + k.aes.len() * 2);
        let mut raw = Vec::new();
        if !crate::rules::conv_enc::b64_decode(b64.as_bytes(), &mut raw, false) {
            return Err(RotateErr::Base64);
        }
        if raw.len() != size {
            return Err(RotateErr::Size);
        }
        let k = (raw.len() - 16) / 2;
        let (name, rest) = raw.split_at(16);
        let (aes, hmac) = rest.split_at(k);
        let mut n = [0u8; 16];
        n.copy_from_slice(name);
        self.keys.remove(0);
        self.keys.push(Key {
            name: n,
            aes: aes.to_vec(),
            hmac: hmac.to_vec(),
        });
        Ok(())
    }
}

/// A keys file's keys, shared by every context of the binds naming it
/// (`set ssl tls-key` rotates them for all at once).
pub type SharedKeys = Rc<RefCell<TicketKeys>>;

thread_local! {
    /// The keys of each context that uses them, by context address.
    static BY_CTX: RefCell<HashMap<usize, SharedKeys>> = RefCell::new(HashMap::new());
    /// The keys of each bind line that has them (contexts built later for
    /// it, from the CLI or forged, get them too).
    static BY_BIND: RefCell<HashMap<usize, SharedKeys>> = RefCell::new(HashMap::new());
    /// The keys files, in the order they were first named: the index is
    /// the reference id `show tls-keys` prints.
    static FILES: RefCell<Vec<(String, SharedKeys)>> = const { RefCell::new(Vec::new()) };
}

/// Bind `bind`'s keys, from its `tls-ticket-keys <path>` (one set per
/// file, however many binds name it).
pub fn set_for_bind(bind: usize, path: &str, keys: TicketKeys) {
    let shared = FILES.with(|f| {
        let mut f = f.borrow_mut();
        if let Some((_, k)) = f.iter().find(|(p, _)| p == path) {
            return Rc::clone(k);
        }
        let k = Rc::new(RefCell::new(keys));
        f.push((path.to_string(), Rc::clone(&k)));
        k
    });
    BY_BIND.with(|m| m.borrow_mut().insert(bind, shared));
}

/// The keys of bind `bind`, if it has a keys file.
pub fn for_bind(bind: usize) -> Option<SharedKeys> {
    BY_BIND.with(|m| m.borrow().get(&bind).cloned())
}

/// The keys file named by `arg`: `#<id>` (its reference id) or its path.
fn find_file(arg: &str) -> Option<(usize, String, SharedKeys)> {
    FILES.with(|f| {
        let f = f.borrow();
        let i = match arg.strip_prefix('#') {
            Some(id) => id.parse::<usize>().ok()?,
            None => f.iter().position(|(p, _)| p == arg)?,
        };
        f.get(i).map(|(p, k)| (i, p.clone(), Rc::clone(k)))
    })
}

/// `show tls-keys [id|*]`, as 2.6 prints it.
pub fn cli_show(arg: &str) -> String {
    let files: Vec<(usize, String, SharedKeys)> = FILES.with(|f| {
        f.borrow()
            .iter()
            .enumerate()
            .map(|(i, (p, k))| (i, p.clone(), Rc::clone(k)))
            .collect()
    });
    if arg.is_empty() {
        let mut out = String::from("# id (file)\n");
        for (i, p, _) in &files {
            out.push_str(&format!("{i} ({p})\n"));
        }
        out.push('\n');
        return out;
    }
    let chosen = if arg == "*" {
        files
    } else {
        match find_file(arg) {
            Some(f) => vec![f],
            None => return "'show tls-keys' unable to locate referenced filename\n\n".to_string(),
        }
    };
    let mut out = String::from("# id secret\n");
    for (i, p, k) in chosen {
        out.push_str(&format!("# {i} ({p})\n"));
        for (n, line) in k.borrow().lines().iter().enumerate() {
            out.push_str(&format!("{i}.{n} {line}\n"));
        }
    }
    out.push('\n');
    out
}

/// `set ssl tls-key <#id|file> <base64 key>`: the oldest key goes, the
/// new one comes last (the former last one now seals tickets).
pub fn cli_set(arg: &str, key: &str) -> String {
    if arg.is_empty() || key.is_empty() {
        return "'set ssl tls-key' expects a filename and the new TLS key in base64 encoding.\n\n"
            .to_string();
    }
    let Some((_, _, k)) = find_file(arg) else {
        return "'set ssl tls-key' unable to locate referenced filename\n\n".to_string();
    };
    let mut keys = k.borrow_mut();
    match keys.rotate(key) {
        Ok(()) => "TLS ticket key updated!\n\n",
        Err(RotateErr::Base64) => "'set ssl tls-key' received invalid base64 encoded TLS key.\n\n",
        Err(RotateErr::Size) => "'set ssl tls-key' received a key of wrong size.\n\n",
    }
    .to_string()
}

/// Why a new key was refused.
#[derive(Debug, PartialEq, Eq)]
enum RotateErr {
    Base64,
    Size,
}

/// Makes the context being built seal and open tickets with `keys`.
pub fn install(b: &mut SslContextBuilder, keys: &SharedKeys) {
    let ctx = b.as_ptr();
    BY_CTX.with(|m| m.borrow_mut().insert(ctx as usize, Rc::clone(keys)));
    type Cb = unsafe extern "C" fn(
        *mut ffi::SSL,
        *mut c_uchar,
        *mut c_uchar,
        *mut ffi::EVP_CIPHER_CTX,
        *mut ffi::HMAC_CTX,
        c_int,
    ) -> c_int;
    let cb: Cb = ticket_cb;
    // SAFETY: SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB takes a callback of exactly
    // this signature, passed through the generic function pointer type as
    // SSL_CTX_set_tlsext_ticket_key_cb does in C.
    unsafe {
        let fp: unsafe extern "C" fn() = std::mem::transmute::<Cb, unsafe extern "C" fn()>(cb);
        ffi::SSL_CTX_callback_ctrl__fixed_rust(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB, Some(fp));
    }
}

const SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB: c_int = 72;

/// Keys `hctx` with `k`'s HMAC-SHA256 key.
///
/// # Safety
/// `hctx` is the live HMAC context OpenSSL passed to the ticket callback.
unsafe fn hmac_init(hctx: *mut ffi::HMAC_CTX, k: &Key) -> bool {
    // SAFETY: per this function's contract; the key slice is live.
    unsafe {
        ffi::HMAC_Init_ex(
            hctx,
            k.hmac.as_ptr().cast(),
            k.hmac.len() as c_int,
            ffi::EVP_sha256(),
            std::ptr::null_mut(),
        ) == 1
    }
}

/// OpenSSL's ticket callback: `enc` 1 seals a new ticket (name and IV
/// out), 0 opens one (name in): 1 = done, 2 = done but re-issue the
/// ticket under the current key, 0 = unknown key (full handshake).
unsafe extern "C" fn ticket_cb(
    ssl: *mut ffi::SSL,
    name: *mut c_uchar,
    iv: *mut c_uchar,
    cctx: *mut ffi::EVP_CIPHER_CTX,
    hctx: *mut ffi::HMAC_CTX,
    enc: c_int,
) -> c_int {
    // SAFETY: OpenSSL passes a live session and, per its contract, a
    // 16-byte name buffer, an IV buffer of the cipher's IV length (16),
    // and contexts to initialise.
    unsafe {
        let ctx = ffi::SSL_get_SSL_CTX(ssl) as usize;
        let Some(shared) = BY_CTX.with(|m| m.borrow().get(&ctx).cloned()) else {
            return 0;
        };
        let keys = shared.borrow();
        let cipher = |k: &Key| {
            if k.aes.len() == 32 {
                ffi::EVP_aes_256_cbc()
            } else {
                ffi::EVP_aes_128_cbc()
            }
        };
        if enc == 1 {
            let Some(k) = keys.enc() else { return -1 };
            if ffi::RAND_bytes(iv, 16) != 1 {
                return -1;
            }
            std::ptr::copy_nonoverlapping(k.name.as_ptr(), name, 16);
            if ffi::EVP_EncryptInit_ex(cctx, cipher(k), std::ptr::null_mut(), k.aes.as_ptr(), iv)
                != 1
                || !hmac_init(hctx, k)
            {
                return -1;
            }
            return 1;
        }
        let wanted = std::slice::from_raw_parts(name, 16);
        let Some((i, k)) = keys.keys.iter().enumerate().find(|(_, k)| k.name == wanted) else {
            return 0;
        };
        if !hmac_init(hctx, k)
            || ffi::EVP_DecryptInit_ex(cctx, cipher(k), std::ptr::null_mut(), k.aes.as_ptr(), iv)
                != 1
        {
            return -1;
        }
        if i == KEYS_USED - 2 { 1 } else { 2 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fill: u8, len: usize) -> String {
        let mut v = Vec::new();
        crate::rules::conv_enc::b64_encode(&vec![fill; len], &mut v, false);
        String::from_utf8(v).expect("ascii")
    }

    #[test]
    fn the_last_three_keys_are_used_and_the_penultimate_seals() {
        let text = [line(1, 48), line(2, 48), line(3, 48), line(4, 48)].join("\n");
        let k = TicketKeys::parse(&text).expect("valid");
        assert_eq!(k.keys.len(), 3);
        assert_eq!(k.keys.first().map(|k| k.name[0]), Some(2));
        assert_eq!(k.enc().map(|k| k.name[0]), Some(3));
        assert_eq!(k.enc().map(|k| (k.aes.len(), k.hmac.len())), Some((16, 16)));
        let big = [line(1, 80), line(2, 80), line(3, 80)].join("\n");
        let k = TicketKeys::parse(&big).expect("aes256");
        assert_eq!(k.enc().map(|k| (k.aes.len(), k.hmac.len())), Some((32, 32)));
    }

    #[test]
    fn short_files_and_mixed_sizes_are_refused() {
        assert!(TicketKeys::parse(&[line(1, 48), line(2, 48)].join("\n")).is_err());
        assert!(TicketKeys::parse(&[line(1, 48), line(2, 80), line(3, 48)].join("\n")).is_err());
        assert!(TicketKeys::parse("not base64!\n").is_err());
    }
}
