//! Message digests and HMAC for `sha1`, `sha2`, `digest` and `hmac`
//! (configuration.txt 7.3.1): MD5 (RFC 1321), SHA-1 and the SHA-2 family
//! (FIPS 180-4), HMAC (RFC 2104).
//!
//! HAProxy hands these to OpenSSL; this project has no OpenSSL binding,
//! so the usual algorithms are written here (constants generated from
//! their definitions: sine table, square and cube roots of primes) and
//! checked against HAProxy's outputs. A hash state lives on the stack:
//! hashing allocates nothing.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// A digest algorithm, as `digest(<algorithm>)` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algo {
    /// Every algorithm, in the order `index` numbers them.
    pub const ALL: [Algo; 6] = [
        Algo::Md5,
        Algo::Sha1,
        Algo::Sha224,
        Algo::Sha256,
        Algo::Sha384,
        Algo::Sha512,
    ];

    /// The position in `ALL` (what a parsed argument stores).
    pub fn index(self) -> i64 {
        self as i64
    }

    /// The algorithm at `ALL[i]`.
    pub fn from_index(i: i64) -> Option<Algo> {
        Algo::ALL.get(usize::try_from(i).ok()?).copied()
    }

    /// The algorithm OpenSSL knows by `name` (case-insensitive), among
    /// those implemented here.
    pub fn from_name(name: &str) -> Option<Algo> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "md5" => Algo::Md5,
            "sha1" | "sha-1" => Algo::Sha1,
            "sha224" | "sha2-224" | "sha-224" => Algo::Sha224,
            "sha256" | "sha2-256" | "sha-256" => Algo::Sha256,
            "sha384" | "sha2-384" | "sha-384" => Algo::Sha384,
            "sha512" | "sha2-512" | "sha-512" => Algo::Sha512,
            _ => return None,
        })
    }

    fn block_len(self) -> usize {
        match self {
            Algo::Sha384 | Algo::Sha512 => 128,
            _ => 64,
        }
    }

    /// Digest length in bytes.
    pub fn out_len(self) -> usize {
        match self {
            Algo::Md5 => 16,
            Algo::Sha1 => 20,
            Algo::Sha224 => 28,
            Algo::Sha256 => 32,
            Algo::Sha384 => 48,
            Algo::Sha512 => 64,
        }
    }
}

#[derive(Clone, Copy)]
enum State {
    Md5([u32; 4]),
    Sha1([u32; 5]),
    Sha256([u32; 8]),
    Sha512([u64; 8]),
}

/// An incremental hash.
#[derive(Clone)]
pub struct Hasher {
    algo: Algo,
    st: State,
    buf: [u8; 128],
    n: usize,
    len: u64,
}

impl Hasher {
    pub fn new(algo: Algo) -> Hasher {
        let st = match algo {
            Algo::Md5 => State::Md5([0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476]),
            Algo::Sha1 => State::Sha1([
                0x6745_2301,
                0xefcd_ab89,
                0x98ba_dcfe,
                0x1032_5476,
                0xc3d2_e1f0,
            ]),
            Algo::Sha224 => State::Sha256(H224),
            Algo::Sha256 => State::Sha256(H256),
            Algo::Sha384 => State::Sha512(H384),
            Algo::Sha512 => State::Sha512(H512),
        };
        Hasher {
            algo,
            st,
            buf: [0; 128],
            n: 0,
            len: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        let bl = self.algo.block_len();
        self.len = self.len.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let take = (bl - self.n).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.n..self.n + take) {
                dst.copy_from_slice(head);
            }
            self.n += take;
            data = rest;
            if self.n == bl {
                let block = self.buf;
                compress(&mut self.st, block.get(..bl).unwrap_or(&[]));
                self.n = 0;
            }
        }
    }

    /// Pads, and appends the digest to `out`.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        let bl = self.algo.block_len();
        let lenfield = if bl == 128 { 16 } else { 8 };
        let bits = u128::from(self.len) * 8;
        let mut tail = [0u8; 128];
        // 0x80, zeros, then the length, up to a block boundary.
        let used = self.n;
        let pad = if used < bl - lenfield {
            bl - lenfield - used
        } else {
            2 * bl - lenfield - used
        };
        if let Some(t) = tail.first_mut() {
            *t = 0x80;
        }
        self.update(tail.get(..pad).unwrap_or(&[]));
        if self.algo == Algo::Md5 {
            self.update(&(bits as u64).to_le_bytes());
        } else if lenfield == 16 {
            self.update(&bits.to_be_bytes());
        } else {
            self.update(&(bits as u64).to_be_bytes());
        }
        let start = out.len();
        match self.st {
            State::Md5(h) => h
                .iter()
                .for_each(|w| out.extend_from_slice(&w.to_le_bytes())),
            State::Sha1(h) => h
                .iter()
                .for_each(|w| out.extend_from_slice(&w.to_be_bytes())),
            State::Sha256(h) => h
                .iter()
                .for_each(|w| out.extend_from_slice(&w.to_be_bytes())),
            State::Sha512(h) => h
                .iter()
                .for_each(|w| out.extend_from_slice(&w.to_be_bytes())),
        }
        out.truncate(start + self.algo.out_len());
    }
}

/// Appends `algo(data)` to `out`.
pub fn digest(algo: Algo, data: &[u8], out: &mut Vec<u8>) {
    let mut h = Hasher::new(algo);
    h.update(data);
    h.finish(out);
}

/// Appends HMAC-`algo`(`key`, `data`) to `out`.
pub fn hmac(algo: Algo, key: &[u8], data: &[u8], out: &mut Vec<u8>) {
    let bl = algo.block_len();
    let mut k = [0u8; 128];
    if key.len() > bl {
        let mut tmp = Vec::new();
        // A key longer than a block is rare (a config constant): hash it.
        digest(algo, key, &mut tmp);
        k.iter_mut().zip(&tmp).for_each(|(d, s)| *d = *s);
    } else {
        k.iter_mut().zip(key).for_each(|(d, s)| *d = *s);
    }
    let block = k.get(..bl).unwrap_or(&[]);
    let mut pad = [0u8; 128];
    pad.iter_mut().zip(block).for_each(|(d, s)| *d = s ^ 0x36);
    let mut inner = Hasher::new(algo);
    inner.update(pad.get(..bl).unwrap_or(&[]));
    inner.update(data);
    let start = out.len();
    inner.finish(out);
    let mut ih = [0u8; 64];
    let n = out.len() - start;
    ih.iter_mut()
        .zip(out.get(start..).unwrap_or(&[]))
        .for_each(|(d, s)| *d = *s);
    out.truncate(start);
    pad.iter_mut().zip(block).for_each(|(d, s)| *d = s ^ 0x5c);
    let mut outer = Hasher::new(algo);
    outer.update(pad.get(..bl).unwrap_or(&[]));
    outer.update(ih.get(..n).unwrap_or(&[]));
    outer.finish(out);
}

fn be32(b: &[u8], i: usize) -> u32 {
    let mut a = [0u8; 4];
    a.iter_mut()
        .zip(b.get(i * 4..).unwrap_or(&[]))
        .for_each(|(d, s)| *d = *s);
    u32::from_be_bytes(a)
}

fn compress(st: &mut State, block: &[u8]) {
    match st {
        State::Md5(h) => md5_block(h, block),
        State::Sha1(h) => sha1_block(h, block),
        State::Sha256(h) => sha256_block(h, block),
        State::Sha512(h) => sha512_block(h, block),
    }
}

const MD5_S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

fn md5_block(h: &mut [u32; 4], block: &[u8]) {
    let mut m = [0u32; 16];
    for (i, w) in m.iter_mut().enumerate() {
        *w = be32(block, i).swap_bytes();
    }
    let [mut a, mut b, mut c, mut d] = *h;
    for (i, k) in MD5_K.iter().enumerate() {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let s = MD5_S.get((i / 16) * 4 + i % 4).copied().unwrap_or(0);
        let f = f
            .wrapping_add(a)
            .wrapping_add(*k)
            .wrapping_add(m.get(g).copied().unwrap_or(0));
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(f.rotate_left(s));
    }
    for (x, y) in h.iter_mut().zip([a, b, c, d]) {
        *x = x.wrapping_add(y);
    }
}

fn sha1_block(h: &mut [u32; 5], block: &[u8]) {
    let mut w = [0u32; 80];
    for i in 0..80 {
        let v = if i < 16 {
            be32(block, i)
        } else {
            let at = |j: usize| w.get(i - j).copied().unwrap_or(0);
            (at(3) ^ at(8) ^ at(14) ^ at(16)).rotate_left(1)
        };
        if let Some(x) = w.get_mut(i) {
            *x = v;
        }
    }
    let [mut a, mut b, mut c, mut d, mut e] = *h;
    for (i, wi) in w.iter().enumerate() {
        let (f, k) = match i / 20 {
            0 => ((b & c) | (!b & d), 0x5a82_7999),
            1 => (b ^ c ^ d, 0x6ed9_eba1),
            2 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
            _ => (b ^ c ^ d, 0xca62_c1d6u32),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(*wi);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
        *x = x.wrapping_add(y);
    }
}

fn sha256_block(h: &mut [u32; 8], block: &[u8]) {
    let mut w = [0u32; 64];
    for i in 0..64 {
        let v = if i < 16 {
            be32(block, i)
        } else {
            let at = |j: usize| w.get(i - j).copied().unwrap_or(0);
            let (w15, w2) = (at(15), at(2));
            let s0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
            let s1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
            at(16).wrapping_add(s0).wrapping_add(at(7)).wrapping_add(s1)
        };
        if let Some(x) = w.get_mut(i) {
            *x = v;
        }
    }
    let mut v = *h;
    for (k, wi) in K256.iter().zip(&w) {
        let [a, b, c, d, e, f, g, hh] = v;
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(*k)
            .wrapping_add(*wi);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for (x, y) in h.iter_mut().zip(v) {
        *x = x.wrapping_add(y);
    }
}

fn sha512_block(h: &mut [u64; 8], block: &[u8]) {
    let mut w = [0u64; 80];
    for i in 0..80 {
        let val = if i < 16 {
            (u64::from(be32(block, 2 * i)) << 32) | u64::from(be32(block, 2 * i + 1))
        } else {
            let at = |j: usize| w.get(i - j).copied().unwrap_or(0);
            let (w15, w2) = (at(15), at(2));
            let s0 = w15.rotate_right(1) ^ w15.rotate_right(8) ^ (w15 >> 7);
            let s1 = w2.rotate_right(19) ^ w2.rotate_right(61) ^ (w2 >> 6);
            at(16).wrapping_add(s0).wrapping_add(at(7)).wrapping_add(s1)
        };
        if let Some(x) = w.get_mut(i) {
            *x = val;
        }
    }
    let mut v = *h;
    for (k, wi) in K512.iter().zip(&w) {
        let [a, b, c, d, e, f, g, hh] = v;
        let s1 = e.rotate_right(14) ^ e.rotate_right(18) ^ e.rotate_right(41);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(*k)
            .wrapping_add(*wi);
        let s0 = a.rotate_right(28) ^ a.rotate_right(34) ^ a.rotate_right(39);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for (x, y) in h.iter_mut().zip(v) {
        *x = x.wrapping_add(y);
    }
}

// Generated from the definitions: MD5_K[i] = floor(|sin(i + 1)| * 2^32);
// K256/K512 the first 32/64 fractional bits of the cube roots of the
// first 64/80 primes; H256/H512 of the square roots of the first 8
// primes, H384 of the next 8, H224 the low 32 bits of H384.
#[rustfmt::skip]
mod consts {
pub const K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
    0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
    0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
pub const K512: [u64; 80] = [
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
];
pub const H256: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
pub const H224: [u32; 8] = [
    0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939,
    0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4,
];
pub const H512: [u64; 8] = [
    0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
    0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
];
pub const H384: [u64; 8] = [
    0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
    0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4,
];

pub const MD5_K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
    0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
    0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
    0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
    0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

}
use consts::{H224, H256, H384, H512, K256, K512, MD5_K};
