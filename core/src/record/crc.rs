//! CRC-32C (Castagnoli), the checksum that closes every spool record.
//!
//! Parameters (the `CRC-32/ISCSI` entry of the CRC catalogue): polynomial `0x1EDC6F41`
//! (bit-reflected `0x82F63B78`), input and output reflected, initial value `0xFFFFFFFF`,
//! final XOR `0xFFFFFFFF`; the check value of the ASCII string `123456789` is `0xE3069283`.
//! The 256-entry table is computed at compile time by a `const fn`. With the `fast-crc` feature
//! (on by default) eight tables (8 KiB of read-only data) let [`Crc32c::update`] take eight
//! bytes a step ("slicing by 8"), about four times as fast on a 64-bit host; the firmware image
//! builds without it, where flash, not speed, is the limit. Both give the same value for the
//! same bytes (tested against a bit-at-a-time reference).
//!
//! Guarantees: every function here is total (no panic, no allocation) and `const` where the
//! language allows.
//!
//! ```
//! use icsfwd_core::record::crc::{self, Crc32c};
//!
//! assert_eq!(crc::checksum(b"123456789"), 0xE306_9283);
//! // Streaming gives the same value as one call over the concatenation.
//! let mut crc = Crc32c::new();
//! crc.update(b"1234");
//! crc.update(b"56789");
//! assert_eq!(crc.finish(), 0xE306_9283);
//! ```
// The table is built and read with plain indexing: `const fn` cannot use iterators or
// `slice::get`, and every index is a `u8` (or a loop counter below 256) into a 256-entry array.
#![expect(
    clippy::indexing_slicing,
    reason = "const fn table; every index is a u8 into a [u32; 256]"
)]

/// The bit-reflected Castagnoli polynomial.
const POLY_REFLECTED: u32 = 0x82F6_3B78;

/// `TABLE[b]` is the CRC register update for the byte `b` (reflected, one byte at a time).
const TABLE: [u32; 256] = make_table();

/// `SLICES[k][b]`: the register after byte `b` followed by `k` zero bytes (`SLICES[0]` is
/// [`TABLE`]): what one step over eight bytes looks each of them up in.
#[cfg(feature = "fast-crc")]
const SLICES: [[u32; 256]; 8] = make_slices();

#[cfg(feature = "fast-crc")]
const fn make_slices() -> [[u32; 256]; 8] {
    let mut slices = [[0u32; 256]; 8];
    slices[0] = TABLE;
    let mut k = 1;
    while k < 8 {
        let mut byte = 0usize;
        while byte < 256 {
            let prev = slices[k - 1][byte];
            slices[k][byte] = (prev >> 8) ^ TABLE[(prev & 0xFF) as usize];
            byte += 1;
        }
        k += 1;
    }
    slices
}

/// The register after `data`, one byte a step.
const fn update_bytewise(mut reg: u32, data: &[u8]) -> u32 {
    let mut i = 0;
    while i < data.len() {
        reg = (reg >> 8) ^ TABLE[((reg ^ data[i] as u32) & 0xFF) as usize];
        i += 1;
    }
    reg
}

/// The register after `data`, eight bytes a step, the last `len % 8` one at a time.
#[cfg(feature = "fast-crc")]
const fn update_sliced(mut reg: u32, data: &[u8]) -> u32 {
    let mut i = 0;
    while i + 8 <= data.len() {
        let lo = reg ^ u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        let hi = u32::from_le_bytes([data[i + 4], data[i + 5], data[i + 6], data[i + 7]]);
        reg = SLICES[7][(lo & 0xFF) as usize]
            ^ SLICES[6][((lo >> 8) & 0xFF) as usize]
            ^ SLICES[5][((lo >> 16) & 0xFF) as usize]
            ^ SLICES[4][(lo >> 24) as usize]
            ^ SLICES[3][(hi & 0xFF) as usize]
            ^ SLICES[2][((hi >> 8) & 0xFF) as usize]
            ^ SLICES[1][((hi >> 16) & 0xFF) as usize]
            ^ SLICES[0][(hi >> 24) as usize];
        i += 8;
    }
    let (_, tail) = data.split_at(i);
    update_bytewise(reg, tail)
}

const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut byte = 0usize;
    while byte < 256 {
        let mut reg = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            reg = if reg & 1 == 1 {
                (reg >> 1) ^ POLY_REFLECTED
            } else {
                reg >> 1
            };
            bit += 1;
        }
        table[byte] = reg;
        byte += 1;
    }
    table
}

/// A CRC-32C computation in progress, for data that arrives in pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Crc32c {
    reg: u32,
}

impl Crc32c {
    /// A computation over no data yet.
    pub const fn new() -> Crc32c {
        Crc32c { reg: 0xFFFF_FFFF }
    }

    /// Feeds `data`.
    pub const fn update(&mut self, data: &[u8]) {
        #[cfg(feature = "fast-crc")]
        {
            self.reg = update_sliced(self.reg, data);
        }
        #[cfg(not(feature = "fast-crc"))]
        {
            self.reg = update_bytewise(self.reg, data);
        }
    }

    /// The CRC-32C of everything fed so far.
    pub const fn finish(&self) -> u32 {
        self.reg ^ 0xFFFF_FFFF
    }
}

impl Default for Crc32c {
    fn default() -> Self {
        Crc32c::new()
    }
}

/// The CRC-32C of `data`.
pub const fn checksum(data: &[u8]) -> u32 {
    let mut crc = Crc32c::new();
    crc.update(data);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bit-at-a-time reference, independent of the table.
    fn bitwise(data: &[u8]) -> u32 {
        let mut reg = 0xFFFF_FFFFu32;
        for &b in data {
            reg ^= u32::from(b);
            for _ in 0..8 {
                let mask = (reg & 1).wrapping_neg();
                reg = (reg >> 1) ^ (POLY_REFLECTED & mask);
            }
        }
        !reg
    }

    #[test]
    fn table_driven_crc_matches_bitwise_reference() {
        let data: std::vec::Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for end in 0..data.len() {
            assert_eq!(checksum(&data[..end]), bitwise(&data[..end]), "len {end}");
        }
    }

    /// Both step widths, whichever the build uses, at every length and start offset (so every
    /// tail length and alignment), against the bit-at-a-time reference and in pieces.
    #[test]
    fn bytewise_and_sliced_updates_match_the_reference_at_every_length_and_offset() {
        let data: std::vec::Vec<u8> = (0..700u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for start in 0..9 {
            for end in start..data.len() {
                let part = &data[start..end];
                let expected = bitwise(part);
                assert_eq!(
                    !update_bytewise(!0, part),
                    expected,
                    "bytewise {start}..{end}"
                );
                #[cfg(feature = "fast-crc")]
                assert_eq!(!update_sliced(!0, part), expected, "sliced {start}..{end}");
                let mut pieces = Crc32c::new();
                let (a, b) = part.split_at(part.len() / 3);
                pieces.update(a);
                pieces.update(b);
                assert_eq!(pieces.finish(), expected, "in pieces {start}..{end}");
            }
        }
    }

    #[test]
    fn known_iscsi_vectors_match() {
        // RFC 3720 appendix B.4: 32 bytes of zeros, of 0xFF, and an ascending run.
        assert_eq!(checksum(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(checksum(&[0xFFu8; 32]), 0x62A8_AB43);
        let ascending: std::vec::Vec<u8> = (0..32u8).collect();
        assert_eq!(checksum(&ascending), 0x46DD_794E);
    }
}
