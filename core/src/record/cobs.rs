//! Consistent Overhead Byte Stuffing (COBS): removes every `0x00` from a byte string so that
//! `0x00` can delimit frames in a stream.
//!
//! This is the encoding of Cheshire and Baker (IEEE/ACM Transactions on Networking, 1999),
//! in its original form: the data is cut into blocks at each zero; each block is written as a
//! code byte `c` (1..=255) followed by its `c - 1` non-zero bytes, and the zero that ended it is
//! implied. A code of `0xFF` means 254 data bytes with **no** implied zero (a long run is
//! split). The zero implied by the last block is not part of the data. After a `0xFF` block a
//! new block always starts, so data ending with a 254-byte run encodes with a final `0x01`.
//!
//! Sizes: encoding `n` bytes gives between `n + 1` and [`max_encoded_len(n)`](max_encoded_len)
//! `= n + n / 254 + 1` bytes; the exact length is [`encoded_len`]. The delimiter is not part of
//! the encoding: the caller appends it.
//!
//! Guarantees: nothing here panics or allocates. Every function that writes checks its room and
//! returns an error instead. Decoding accepts every encoding this module produces, and reports
//! [`Error::Malformed`] for a code byte that runs past the end or a `0x00` inside the input.
//!
//! ```
//! use icsfwd_core::record::cobs;
//!
//! let data = [0x11, 0x00, 0x00, 0x22, 0x33];
//! let mut encoded = [0u8; cobs::max_encoded_len(5)];
//! let n = cobs::encode(&data, &mut encoded).unwrap();
//! assert_eq!(&encoded[..n], &[0x02, 0x11, 0x01, 0x03, 0x22, 0x33]);
//! assert!(!encoded[..n].contains(&0));
//!
//! let mut decoded = [0u8; 5];
//! let m = cobs::decode(&encoded[..n], &mut decoded).unwrap();
//! assert_eq!(&decoded[..m], &data);
//! ```

use core::fmt;

/// The longest run of data bytes one block carries.
const MAX_RUN: usize = 254;

/// Why COBS encoding or decoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The output buffer is too small; `needed` bytes would have been enough.
    BufferTooSmall {
        /// The output length the operation needs.
        needed: usize,
    },
    /// The input is not a COBS encoding: a code byte promises more bytes than remain, or the
    /// input contains a `0x00`.
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BufferTooSmall { needed } => {
                write!(f, "COBS output buffer too small: {needed} bytes needed")
            }
            Error::Malformed => f.write_str("malformed COBS data"),
        }
    }
}

impl core::error::Error for Error {}

/// The longest encoding of `n` bytes: one code byte per started 254-byte block, plus one.
pub const fn max_encoded_len(n: usize) -> usize {
    n + n / MAX_RUN + 1
}

/// The exact length of the encoding of a byte string, computed as its bytes are fed.
///
/// ```
/// use icsfwd_core::record::cobs::{self, EncodedLen};
///
/// let mut len = EncodedLen::new();
/// len.update(&[1, 0, 2]);
/// assert_eq!(len.get(), cobs::encoded_len(&[1, 0, 2]));
/// assert_eq!(len.get(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EncodedLen {
    /// Data bytes plus code bytes so far (the open block's code byte included).
    total: usize,
    /// Data bytes in the open block.
    run: usize,
}

impl EncodedLen {
    /// The length of the encoding of nothing: one code byte.
    pub const fn new() -> EncodedLen {
        EncodedLen { total: 1, run: 0 }
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        for &byte in data {
            if byte == 0 {
                // The zero is replaced by the next block's code byte.
                self.total = self.total.saturating_add(1);
                self.run = 0;
            } else {
                self.total = self.total.saturating_add(1);
                self.run += 1;
                if self.run == MAX_RUN {
                    self.total = self.total.saturating_add(1);
                    self.run = 0;
                }
            }
        }
    }

    /// The encoded length of everything fed so far.
    pub const fn get(&self) -> usize {
        self.total
    }
}

/// The exact encoded length of `data`.
pub fn encoded_len(data: &[u8]) -> usize {
    let mut len = EncodedLen::new();
    len.update(data);
    len.get()
}

/// Encodes `src` into the start of `dst`; returns the encoded length.
///
/// # Errors
///
/// [`Error::BufferTooSmall`] with the exact length needed when `dst` is shorter than
/// [`encoded_len(src)`](encoded_len); `dst` is then unspecified.
pub fn encode(src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    let needed = encoded_len(src);
    let offset = needed - src.len();
    let room = dst
        .get_mut(offset..needed)
        .ok_or(Error::BufferTooSmall { needed })?;
    room.copy_from_slice(src);
    encode_shifted(dst, offset, src.len())
}

/// Encodes the `len` bytes at the start of `buf` in place; returns the encoded length.
///
/// # Errors
///
/// [`Error::BufferTooSmall`] with the exact length needed when `buf` is shorter than the
/// encoding; `buf` is then unchanged.
pub fn encode_in_place(buf: &mut [u8], len: usize) -> Result<usize, Error> {
    let data = buf
        .get(..len)
        .ok_or(Error::BufferTooSmall { needed: len })?;
    let needed = encoded_len(data);
    if buf.len() < needed {
        return Err(Error::BufferTooSmall { needed });
    }
    let offset = needed - len;
    move_bytes(buf, 0, offset, len).ok_or(Error::BufferTooSmall { needed })?;
    encode_shifted(buf, offset, len)
}

/// Moves `buf[from..from + len]` to `buf[to..to + len]` (the ranges may overlap), as
/// `copy_within` does; `None`, with `buf` unchanged, when a range is out of bounds.
///
/// On an operating system this is `copy_within` (the C library's `memmove`). On bare metal
/// (`target_os = "none"`) it is a byte loop: there `copy_within` links compiler-builtins'
/// `memmove`, which would be the largest function of the firmware image (1.5 KiB of its
/// 48 KiB flash), and speed matters less than flash.
fn move_bytes(buf: &mut [u8], from: usize, to: usize, len: usize) -> Option<()> {
    let end = from.max(to).checked_add(len)?;
    if end > buf.len() {
        return None;
    }
    if cfg!(not(target_os = "none")) {
        // In bounds: checked above.
        buf.copy_within(from..from + len, to);
        return Some(());
    }
    let mut step = |i: usize| {
        if let Some(&byte) = buf.get(from + i)
            && let Some(slot) = buf.get_mut(to + i)
        {
            *slot = byte;
        }
    };
    if to <= from {
        (0..len).for_each(&mut step);
    } else {
        (0..len).rev().for_each(&mut step);
    }
    Some(())
}

/// Encodes the `len` data bytes at `buf[offset..]` into `buf[..]`.
///
/// Writing never overtakes reading when `offset` is at least the number of code bytes the
/// encoding uses (`encoded_len - len`): before data byte `i` is copied, at most `offset` code
/// bytes have been opened, so it lands at or before `offset + i`, where it was read from.
fn encode_shifted(buf: &mut [u8], offset: usize, len: usize) -> Result<usize, Error> {
    let too_small = Error::BufferTooSmall {
        needed: offset + len,
    };
    let mut code_at = 0;
    let mut write = 1;
    let mut run = 0usize;
    for read in offset..offset + len {
        let byte = *buf.get(read).ok_or(too_small)?;
        if byte == 0 {
            *buf.get_mut(code_at).ok_or(too_small)? = code_byte(run);
            code_at = write;
            write += 1;
            run = 0;
        } else {
            *buf.get_mut(write).ok_or(too_small)? = byte;
            write += 1;
            run += 1;
            if run == MAX_RUN {
                *buf.get_mut(code_at).ok_or(too_small)? = 0xFF;
                code_at = write;
                write += 1;
                run = 0;
            }
        }
    }
    *buf.get_mut(code_at).ok_or(too_small)? = code_byte(run);
    Ok(write)
}

/// The code byte of a block of `run` (< 254) data bytes ended by a zero.
fn code_byte(run: usize) -> u8 {
    u8::try_from(run + 1).unwrap_or(0xFF)
}

/// Decodes `src` (one frame, without its delimiter) into `dst`; returns the decoded length.
///
/// # Errors
///
/// [`Error::Malformed`] when `src` is not an encoding; [`Error::BufferTooSmall`] when `dst` is
/// shorter than the decoded data (`needed` is then `src.len()`, always enough).
pub fn decode(src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    let too_small = Error::BufferTooSmall { needed: src.len() };
    let mut write = 0;
    let mut rest = src;
    while let Some((&code, after)) = rest.split_first() {
        let (block, next) = split_block(code, after)?;
        let room = dst.get_mut(write..write + block.len()).ok_or(too_small)?;
        room.copy_from_slice(block);
        write += block.len();
        if code != 0xFF && !next.is_empty() {
            *dst.get_mut(write).ok_or(too_small)? = 0;
            write += 1;
        }
        rest = next;
    }
    Ok(write)
}

/// Splits the data bytes of a block with code `code` from what follows them.
fn split_block(code: u8, after: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let run = usize::from(code).checked_sub(1).ok_or(Error::Malformed)?;
    let (block, next) = after.split_at_checked(run).ok_or(Error::Malformed)?;
    if block.contains(&0) {
        return Err(Error::Malformed);
    }
    Ok((block, next))
}

/// Decodes the frame `buf` (without its delimiter) in place; returns the decoded length. The
/// decoded data is `buf[..len]`; the rest of `buf` is unspecified.
///
/// # Errors
///
/// [`Error::Malformed`] when `buf` is not an encoding; `buf` is then unspecified.
pub fn decode_in_place(buf: &mut [u8]) -> Result<usize, Error> {
    // Each block's data moves left by at least one byte (its code byte), so a forward copy
    // never overwrites bytes not yet read.
    let mut read = 0;
    let mut write = 0;
    let len = buf.len();
    while read < len {
        let code = *buf.get(read).ok_or(Error::Malformed)?;
        let start = read + 1;
        let (block, next) = split_block(code, buf.get(start..).ok_or(Error::Malformed)?)?;
        let (run, more) = (block.len(), !next.is_empty());
        move_bytes(buf, start, write, run).ok_or(Error::Malformed)?;
        write += run;
        read = start + run;
        if code != 0xFF && more {
            *buf.get_mut(write).ok_or(Error::Malformed)? = 0;
            write += 1;
        }
    }
    Ok(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_examples_encode_as_published() {
        let cases: [(&[u8], &[u8]); 5] = [
            (&[], &[0x01]),
            (&[0x00], &[0x01, 0x01]),
            (&[0x00, 0x00], &[0x01, 0x01, 0x01]),
            (&[0x11, 0x22, 0x00, 0x33], &[0x03, 0x11, 0x22, 0x02, 0x33]),
            (&[0x11, 0x00, 0x00, 0x00], &[0x02, 0x11, 0x01, 0x01, 0x01]),
        ];
        for (data, expected) in cases {
            let mut out = [0u8; 8];
            let n = encode(data, &mut out).unwrap();
            assert_eq!(&out[..n], expected, "encoding {data:02x?}");
            let mut back = [0u8; 8];
            let m = decode(expected, &mut back).unwrap();
            assert_eq!(&back[..m], data);
        }
    }

    #[test]
    fn code_byte_past_the_end_is_malformed() {
        let mut out = [0u8; 8];
        assert_eq!(decode(&[0x05, 0x11], &mut out), Err(Error::Malformed));
        assert_eq!(decode_in_place(&mut [0x05, 0x11]), Err(Error::Malformed));
        assert_eq!(decode(&[0x02, 0x00], &mut out), Err(Error::Malformed));
        assert_eq!(decode(&[0x00], &mut out), Err(Error::Malformed));
    }
}
