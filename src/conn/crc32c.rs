//! CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), the
//! checksum of the PROXY protocol v2 `PP2_TYPE_CRC32C` TLV
//! (`proxy-protocol.txt` 2.2.5), as HAProxy's `hash_crc32c` computes it:
//! initial value !0, final complement, one table lookup per byte.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// The 256-entry table, built at compile time.
// Indexing is evaluated by the compiler here: out of range would fail the
// build, it cannot panic at run time.
#[allow(clippy::indexing_slicing)]
const TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The CRC32C of `buf`.
pub fn crc32c(buf: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in buf {
        // The index is masked to 0..=255: always inside the table.
        let i = usize::from((crc as u8) ^ b);
        crc = (crc >> 8) ^ TABLE.get(i).copied().unwrap_or(0);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::crc32c;

    #[test]
    fn rfc3720_test_vectors() {
        // RFC 3720 B.4: 32 bytes of zeros, of ones, incrementing,
        // decrementing; and the usual "123456789" check value.
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
        let inc: Vec<u8> = (0u8..32).collect();
        assert_eq!(crc32c(&inc), 0x46DD_794E);
        let dec: Vec<u8> = (0u8..32).rev().collect();
        assert_eq!(crc32c(&dec), 0x113F_DB5C);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }
}
