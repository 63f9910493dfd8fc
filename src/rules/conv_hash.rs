//! The non-cryptographic hashes behind `djb2`, `sdbm`, `wt6`, `crc32`,
//! `crc32c`, `xxh32` and `xxh64` (configuration.txt 7.3.1; the first five
//! are also `hash-type` functions, 4.2), and the avalanche mix their
//! optional argument applies.
//!
//! Pure functions over bytes; checked against HAProxy 2.6's outputs.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// Bob Jenkins' 32-bit integer mix then a multiplication, as HAProxy's
/// `full_hash`: applied when `<avalanche>` is set (and by `hash-type ...
/// avalanche`).
pub fn avalanche(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    // Spread over the whole 32-bit space: a large prime near 3/4 of it.
    a.wrapping_mul(3_221_225_473)
}

/// D. J. Bernstein's hash: `h = h * 33 + c`, from 5381.
pub fn djb2(b: &[u8]) -> u32 {
    b.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(u32::from(c))
    })
}

/// The sdbm database's hash: `h = c + (h << 6) + (h << 16) - h`.
pub fn sdbm(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// Willy Tarreau's WT6: two 32-bit lanes rotated by amounts taken from
/// the state.
pub fn wt6(b: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965au32, 0x5ca6_953au32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in b {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

static CRC32_TABLE: [u32; 256] = crate::conn::crc32c::reflected_table(0xedb8_8320);

/// CRC-32 as Ethernet, gzip and PNG compute it (IEEE 802.3).
pub fn crc32(b: &[u8]) -> u32 {
    !crate::conn::crc32c::fold(&CRC32_TABLE, !0, b)
}

/// CRC-32C (Castagnoli, RFC 4960 appendix B): the connection layer's,
/// which the PROXY protocol uses too.
pub fn crc32c(b: &[u8]) -> u32 {
    crate::conn::crc32c::crc32c(b)
}

const P32: [u32; 5] = [
    0x9E37_79B1,
    0x85EB_CA77,
    0xC2B2_AE3D,
    0x27D4_EB2F,
    0x1656_67B1,
];

fn le32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
    u32::from_le_bytes(a)
}

fn le64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
    u64::from_le_bytes(a)
}

/// XXH32 (xxHash, 32-bit variant) with `seed`.
pub fn xxh32(b: &[u8], seed: u32) -> u32 {
    let [p1, p2, p3, p4, p5] = P32;
    let round = |acc: u32, lane: u32| {
        acc.wrapping_add(lane.wrapping_mul(p2))
            .rotate_left(13)
            .wrapping_mul(p1)
    };
    let mut chunks = b.chunks_exact(16);
    let mut h = if b.len() >= 16 {
        let mut v = [
            seed.wrapping_add(p1).wrapping_add(p2),
            seed.wrapping_add(p2),
            seed,
            seed.wrapping_sub(p1),
        ];
        for c in &mut chunks {
            for (i, acc) in v.iter_mut().enumerate() {
                *acc = round(*acc, le32(c.get(i * 4..).unwrap_or(&[])));
            }
        }
        let [v1, v2, v3, v4] = v;
        v1.rotate_left(1)
            .wrapping_add(v2.rotate_left(7))
            .wrapping_add(v3.rotate_left(12))
            .wrapping_add(v4.rotate_left(18))
    } else {
        seed.wrapping_add(p5)
    };
    h = h.wrapping_add(b.len() as u32);
    let mut rest = if b.len() >= 16 { chunks.remainder() } else { b };
    while rest.len() >= 4 {
        h = h
            .wrapping_add(le32(rest).wrapping_mul(p3))
            .rotate_left(17)
            .wrapping_mul(p4);
        rest = rest.get(4..).unwrap_or(&[]);
    }
    for &c in rest {
        h = h
            .wrapping_add(u32::from(c).wrapping_mul(p5))
            .rotate_left(11)
            .wrapping_mul(p1);
    }
    h ^= h >> 15;
    h = h.wrapping_mul(p2);
    h ^= h >> 13;
    h = h.wrapping_mul(p3);
    h ^ (h >> 16)
}

const P64: [u64; 5] = [
    0x9E37_79B1_85EB_CA87,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0x85EB_CA77_C2B2_AE63,
    0x27D4_EB2F_1656_67C5,
];

/// XXH64 (xxHash, 64-bit variant) with `seed`.
pub fn xxh64(b: &[u8], seed: u64) -> u64 {
    let [p1, p2, p3, p4, p5] = P64;
    let round = |acc: u64, lane: u64| {
        acc.wrapping_add(lane.wrapping_mul(p2))
            .rotate_left(31)
            .wrapping_mul(p1)
    };
    let merge = |h: u64, v: u64| (h ^ round(0, v)).wrapping_mul(p1).wrapping_add(p4);
    let mut chunks = b.chunks_exact(32);
    let mut h = if b.len() >= 32 {
        let mut v = [
            seed.wrapping_add(p1).wrapping_add(p2),
            seed.wrapping_add(p2),
            seed,
            seed.wrapping_sub(p1),
        ];
        for c in &mut chunks {
            for (i, acc) in v.iter_mut().enumerate() {
                *acc = round(*acc, le64(c.get(i * 8..).unwrap_or(&[])));
            }
        }
        let [v1, v2, v3, v4] = v;
        let mut h = v1
            .rotate_left(1)
            .wrapping_add(v2.rotate_left(7))
            .wrapping_add(v3.rotate_left(12))
            .wrapping_add(v4.rotate_left(18));
        for v in [v1, v2, v3, v4] {
            h = merge(h, v);
        }
        h
    } else {
        seed.wrapping_add(p5)
    };
    h = h.wrapping_add(b.len() as u64);
    let mut rest = if b.len() >= 32 { chunks.remainder() } else { b };
    while rest.len() >= 8 {
        h ^= round(0, le64(rest));
        h = h.rotate_left(27).wrapping_mul(p1).wrapping_add(p4);
        rest = rest.get(8..).unwrap_or(&[]);
    }
    if rest.len() >= 4 {
        h ^= u64::from(le32(rest)).wrapping_mul(p1);
        h = h.rotate_left(23).wrapping_mul(p2).wrapping_add(p3);
        rest = rest.get(4..).unwrap_or(&[]);
    }
    for &c in rest {
        h ^= u64::from(c).wrapping_mul(p5);
        h = h.rotate_left(11).wrapping_mul(p1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(p2);
    h ^= h >> 29;
    h = h.wrapping_mul(p3);
    h ^ (h >> 32)
}
