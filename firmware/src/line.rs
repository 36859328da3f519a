//! One log line assembled without `core::fmt`.
//!
//! The image prints about fifty short lines: names, decimal counts and a few hex words. With
//! `hprintln!` each would go through `core::fmt` (a `Formatter`, padding, the integer
//! formatters), several KiB of flash the 48 KiB budget has no room for. A [`Line`] collects
//! the pieces in a fixed buffer and hands them to the output in one write.
//!
//! Guarantees: nothing panics or allocates; a piece that does not fit is cut (the line then
//! ends with `…` as ASCII `~`) rather than overflowing.
//!
//! ```
//! use icsfwd_firmware::line::Line;
//!
//! let mut line = Line::new();
//! line.str("ok ").str("text.sample ").decimal(495).str(" bytes ").hex32(0x8000_0007);
//! assert_eq!(line.as_bytes(), b"ok text.sample 495 bytes 0x80000007\n");
//! ```

/// Capacity of a [`Line`] in bytes, the newline included.
pub const LINE_LEN: usize = 160;

/// A log line being assembled; see the module docs.
#[derive(Debug, Clone)]
pub struct Line {
    buf: [u8; LINE_LEN],
    len: usize,
    cut: bool,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Line {
        Line {
            buf: [0; LINE_LEN],
            len: 0,
            cut: false,
        }
    }

    /// Appends bytes as they are.
    #[inline(never)] // one copy for every line (flash budget)
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Line {
        for &byte in bytes {
            // One byte stays free for the newline.
            match self.buf.get_mut(self.len) {
                Some(slot) if self.len + 1 < LINE_LEN => {
                    *slot = byte;
                    self.len += 1;
                }
                _ => {
                    self.cut = true;
                    break;
                }
            }
        }
        self
    }

    /// Appends a string.
    pub fn str(&mut self, s: &str) -> &mut Line {
        self.bytes(s.as_bytes())
    }

    /// Appends `n` in decimal (as `{}` does).
    #[inline(never)] // one copy for every line (flash budget)
    pub fn decimal(&mut self, n: u64) -> &mut Line {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = n;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
            start -= 1;
            if rest == 0 {
                break;
            }
        }
        self.bytes(digits.get(start..).unwrap_or_default())
    }

    /// Appends `0x` and the eight lower-case hex digits of `n` (as `{:#010x}` does).
    pub fn hex32(&mut self, n: u32) -> &mut Line {
        self.bytes(&hex32(n))
    }

    /// The line with its newline; a cut line ends in `~` before the newline.
    pub fn as_bytes(&mut self) -> &[u8] {
        if self.cut
            && let Some(last) = self.buf.get_mut(self.len.saturating_sub(1))
        {
            *last = b'~';
        }
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b'\n';
        }
        self.buf.get(..=self.len).unwrap_or_default()
    }
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

/// `0x` and the eight lower-case hex digits of `n`, as `{:#010x}` writes it.
pub fn hex32(n: u32) -> [u8; 10] {
    let mut text = *b"0x00000000";
    for (i, slot) in text.iter_mut().skip(2).enumerate() {
        let nibble = (n >> (28 - 4 * i)) & 0xf;
        *slot = b"0123456789abcdef"
            .get(nibble as usize)
            .copied()
            .unwrap_or(b'?');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn numbers_are_written_as_core_fmt_writes_them() {
        for n in [0, 1, 9, 10, 4096, u64::from(u32::MAX), u64::MAX] {
            let mut line = Line::new();
            line.decimal(n);
            assert_eq!(line.as_bytes(), format!("{n}\n").as_bytes());
        }
        for n in [0, 7, 0x8000_0007, 0xdead_beef, u32::MAX] {
            assert_eq!(hex32(n), format!("{n:#010x}").as_bytes());
        }
    }

    #[test]
    fn an_over_long_line_is_cut_and_marked_not_overflowed() {
        let mut line = Line::new();
        for _ in 0..LINE_LEN {
            line.str("ab");
        }
        let bytes = line.as_bytes();
        assert_eq!(bytes.len(), LINE_LEN);
        assert!(bytes.ends_with(b"~\n"));
    }
}
