//! CRC-32C (Castagnoli), table-driven, for the PROXY protocol v2 CRC32C
//! TLV (`proxy-protocol.txt` 2.2.5): the checksum of the whole header,
//! computed with the TLV's value zeroed.
//!
//! It lives in this layer (a lower layer never uses a higher one); the
//! rules' `crc32c` converter uses it too. It is incremental so that a
//! header can be checked without copying it to zero the checksum field.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// The reflected Castagnoli polynomial.
const POLY: u32 = 0x82f6_3b78;

/// The byte-at-a-time table of a reflected CRC-32 polynomial, built at
/// compile time (the rules' `crc32` converter builds IEEE's with it).
#[allow(clippy::indexing_slicing)] // `i < 256` bounds every index
pub const fn reflected_table(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { poly ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// Folds `b` into the running (not yet inverted) CRC `c` with `table`.
pub fn fold(table: &[u32; 256], c: u32, b: &[u8]) -> u32 {
    b.iter().fold(c, |c, &x| {
        // One byte of index: always inside the 256-entry table.
        let i = usize::from((c as u8) ^ x);
        table.get(i).copied().unwrap_or(0) ^ (c >> 8)
    })
}

static TABLE: [u32; 256] = reflected_table(POLY);

/// A CRC-32C being computed over several pieces.
#[derive(Debug, Clone, Copy)]
pub struct Crc32c(u32);

impl Default for Crc32c {
    fn default() -> Self {
        Crc32c(!0)
    }
}

impl Crc32c {
    /// Adds `b` to the checksum; returns the updated state.
    pub fn update(self, b: &[u8]) -> Self {
        Crc32c(fold(&TABLE, self.0, b))
    }

    /// The checksum of everything added.
    pub fn finish(self) -> u32 {
        !self.0
    }
}

/// The CRC-32C of `b`.
pub fn crc32c(b: &[u8]) -> u32 {
    Crc32c::default().update(b).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3720 (iSCSI) appendix B.4 test vectors, and the usual check
    /// value of "123456789".
    #[test]
    fn crc32c_rfc3720_vectors() {
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        let inc: Vec<u8> = (0u8..32).collect();
        assert_eq!(crc32c(&inc), 0x46dd_794e);
        let dec: Vec<u8> = (0u8..32).rev().collect();
        assert_eq!(crc32c(&dec), 0x113f_db5c);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn crc32c_in_pieces_equals_whole() {
        let inc: Vec<u8> = (0u8..32).collect();
        let (a, b) = inc.split_at(13);
        let c = Crc32c::default().update(a).update(&[]).update(b).finish();
        assert_eq!(c, crc32c(&inc));
    }
}
