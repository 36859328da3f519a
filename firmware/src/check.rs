//! A sink that checks output against expected bytes as it is written.
//!
//! [`Checker`] implements [`embedded_io::Write`], so any formatter of icsfwd-core can write
//! into it directly. It compares each chunk with the matching slice of the expected bytes,
//! keeps only the offset (and byte) of the first difference and the total length, and never
//! buffers the output: checking a 3 KiB event costs a few words of RAM. Writes never fail, so
//! the whole output is always counted and a longer-than-expected output is reported as such.
//!
//! Guarantees: no method panics; [`Checker::verdict`] is total.
//!
//! ```
//! use embedded_io::Write as _;
//! use icsfwd_firmware::check::{Checker, Verdict};
//!
//! let mut c = Checker::new(b"hello world");
//! c.write_all(b"hello ").unwrap();
//! c.write_all(b"wurld").unwrap();
//! assert_eq!(c.verdict(), Verdict::Differs { at: 7, got: Some(b'u'), want: Some(b'o'), len: 11 });
//!
//! let mut c = Checker::new(b"abc");
//! c.feed(b"a");
//! c.feed(b"bc");
//! assert_eq!(c.verdict(), Verdict::Match { len: 3 });
//! ```

use core::convert::Infallible;

use embedded_io::{ErrorType, Write};
use icsfwd_core::record::crc;

/// What a case must write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Exactly these bytes; a mismatch is reported at its first differing byte.
    Bytes(&'static [u8]),
    /// Bytes of this length and CRC-32C: for long golden files that would not fit the flash
    /// budget. Build it with [`Expected::digest`] from `include_bytes!` in a `static`, so the
    /// digest is computed at compile time and only its 8 bytes are kept in flash. Any output
    /// that differs from the file in a burst of up to 32 bits is always caught; any other
    /// difference is missed with probability 2^-32.
    Digest {
        /// The length in bytes.
        len: usize,
        /// The CRC-32C (Castagnoli) of the bytes.
        crc32c: u32,
    },
}

impl Expected {
    /// The digest of `bytes` (a `const fn`: evaluate it at compile time).
    pub const fn digest(bytes: &[u8]) -> Expected {
        Expected::Digest {
            len: bytes.len(),
            crc32c: crc::checksum(bytes),
        }
    }

    /// The expected length.
    pub const fn len(&self) -> usize {
        match self {
            Expected::Bytes(bytes) => bytes.len(),
            Expected::Digest { len, .. } => *len,
        }
    }

    /// Whether nothing is expected.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Compares written bytes with an expected byte string, incrementally.
#[derive(Debug, Clone)]
pub struct Checker {
    expected: &'static [u8],
    digest: Option<(usize, u32)>,
    crc: crc::Crc32c,
    len: usize,
    first_difference: Option<(usize, u8)>,
}

/// What a [`Checker`] concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The output was exactly the expected bytes.
    Match {
        /// Its length.
        len: usize,
    },
    /// The output differs: at byte offset `at` the output has `got` where `want` was
    /// expected (`None` past the end of either).
    Differs {
        /// The offset of the first differing byte.
        at: usize,
        /// The output's byte there, `None` when the output ended before `at`.
        got: Option<u8>,
        /// The expected byte there, `None` when the output is longer than expected.
        want: Option<u8>,
        /// The output's total length.
        len: usize,
    },
    /// The output's length or CRC-32C differs from an [`Expected::Digest`].
    DigestDiffers {
        /// The output's length.
        len: usize,
        /// The output's CRC-32C.
        crc32c: u32,
    },
}

impl Checker {
    /// A checker expecting exactly `expected`.
    pub const fn new(expected: &'static [u8]) -> Checker {
        Checker::expecting(Expected::Bytes(expected))
    }

    /// A checker expecting `expected`, bytes or digest.
    pub const fn expecting(expected: Expected) -> Checker {
        let (bytes, digest) = match expected {
            Expected::Bytes(bytes) => (bytes, None),
            Expected::Digest { len, crc32c } => (&[] as &'static [u8], Some((len, crc32c))),
        };
        Checker {
            expected: bytes,
            digest,
            crc: crc::Crc32c::new(),
            len: 0,
            first_difference: None,
        }
    }

    /// Compares the next chunk of output.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.digest.is_some() {
            self.crc.update(chunk);
        } else if self.first_difference.is_none() {
            let rest = self.expected.get(self.len..).unwrap_or(&[]);
            if let Some(i) = chunk.iter().zip(rest).position(|(got, want)| got != want) {
                self.record_difference(self.len.saturating_add(i), chunk.get(i));
            } else if chunk.len() > rest.len() {
                self.record_difference(self.expected.len(), chunk.get(rest.len()));
            }
        }
        self.len = self.len.saturating_add(chunk.len());
    }

    fn record_difference(&mut self, at: usize, got: Option<&u8>) {
        if let Some(&got) = got {
            self.first_difference = Some((at, got));
        }
    }

    /// Bytes written so far.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The verdict on everything written so far, as if the output ended here.
    pub fn verdict(&self) -> Verdict {
        if let Some((len, crc32c)) = self.digest {
            let got = self.crc.finish();
            return if (self.len, got) == (len, crc32c) {
                Verdict::Match { len }
            } else {
                Verdict::DigestDiffers {
                    len: self.len,
                    crc32c: got,
                }
            };
        }
        match self.first_difference {
            Some((at, got)) => Verdict::Differs {
                at,
                got: Some(got),
                want: self.expected.get(at).copied(),
                len: self.len,
            },
            None if self.len < self.expected.len() => Verdict::Differs {
                at: self.len,
                got: None,
                want: self.expected.get(self.len).copied(),
                len: self.len,
            },
            None => Verdict::Match { len: self.len },
        }
    }
}

impl ErrorType for Checker {
    type Error = Infallible;
}

impl Write for Checker {
    fn write(&mut self, data: &[u8]) -> Result<usize, Infallible> {
        self.feed(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_split_into_any_chunks_matches() {
        let expected: &'static [u8] = b"2019-05-05T12:28:54.123Z";
        for cut in 0..=expected.len() {
            let (a, b) = expected.split_at(cut);
            let mut c = Checker::new(expected);
            c.feed(a);
            c.feed(b);
            assert_eq!(
                c.verdict(),
                Verdict::Match {
                    len: expected.len()
                }
            );
        }
    }

    #[test]
    fn first_differing_byte_is_reported_even_when_later_bytes_differ_too() {
        let mut c = Checker::new(b"abcdef");
        c.feed(b"abX");
        c.feed(b"dYf");
        assert_eq!(
            c.verdict(),
            Verdict::Differs {
                at: 2,
                got: Some(b'X'),
                want: Some(b'c'),
                len: 6
            }
        );
    }

    #[test]
    fn short_output_differs_where_it_ended() {
        let mut c = Checker::new(b"abcdef");
        c.feed(b"abcd");
        assert_eq!(
            c.verdict(),
            Verdict::Differs {
                at: 4,
                got: None,
                want: Some(b'e'),
                len: 4
            }
        );
    }

    #[test]
    fn long_output_differs_where_the_expected_bytes_ended() {
        let mut c = Checker::new(b"abc");
        c.feed(b"ab");
        c.feed(b"cde");
        assert_eq!(
            c.verdict(),
            Verdict::Differs {
                at: 3,
                got: Some(b'd'),
                want: None,
                len: 5
            }
        );
    }

    #[test]
    fn digest_matches_the_same_bytes_in_any_chunks_and_catches_one_flipped_bit() {
        let golden: &'static [u8] = b"CEF:0|vendor|product|1|sig|name|5|msg=hello";
        let expected = Expected::digest(golden);
        for cut in 0..=golden.len() {
            let (a, b) = golden.split_at(cut);
            let mut c = Checker::expecting(expected);
            c.feed(a);
            c.feed(b);
            assert_eq!(c.verdict(), Verdict::Match { len: golden.len() });
        }
        let mut flipped = golden.to_vec();
        flipped[7] ^= 0x10;
        let mut c = Checker::expecting(expected);
        c.feed(&flipped);
        assert!(matches!(c.verdict(), Verdict::DigestDiffers { len, .. } if len == golden.len()));
        let mut c = Checker::expecting(expected);
        c.feed(&golden[..golden.len() - 1]);
        assert!(
            matches!(c.verdict(), Verdict::DigestDiffers { len, .. } if len == golden.len() - 1)
        );
    }

    #[test]
    fn empty_output_matches_only_empty_expectation() {
        assert_eq!(Checker::new(b"").verdict(), Verdict::Match { len: 0 });
        assert_eq!(
            Checker::new(b"x").verdict(),
            Verdict::Differs {
                at: 0,
                got: None,
                want: Some(b'x'),
                len: 0
            }
        );
    }
}
