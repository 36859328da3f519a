//! Short ASCII text assembled on the stack: numbers, hex and addresses written without
//! `core::fmt`, for the wire formats, the time's and the ids' `Display`.
//!
//! Every module of the crate may use this one; it uses none of them (only `core`), so the
//! modules that render text ([`format`](crate::format), [`time`](crate::time),
//! [`alert`](crate::alert), [`destination`](crate::destination), [`rule`](crate::rule)) do
//! not depend on one another to do it. A push past the text's capacity is dropped, never a
//! panic.
//!
//! The formats write a dozen numbers, addresses and times per event; through `core::fmt` each
//! costs a `Formatter`, padding logic and several tiny writes, and the firmware image has no
//! flash for `core::fmt`'s integer formatting. Unit tests (here and in `format`) prove each
//! writer equals the `Display` rendering it replaces.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

/// The longest `core::net::IpAddr` rendering: 45 bytes is the classic `INET6_ADDRSTRLEN - 1`
/// (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`); core renders at most 39, so this is safe
/// whatever form the formatter picks.
pub(crate) const MAX_IP_TEXT: usize = 45;
/// `aa:bb:cc:dd:ee:ff`.
pub(crate) const MAX_MAC_TEXT: usize = 17;
/// `18446744073709551615`.
pub(crate) const MAX_U64_TEXT: usize = 20;

/// `ip` as `Ipv4Addr`'s `Display` writes it, in the first bytes of the array (the length).
///
/// The text (at most 15 bytes) is assembled in a fixed array: one bounds check per byte and no
/// division beyond the octets' digits; every alert has two or three addresses.
pub(crate) fn ipv4_text(ip: Ipv4Addr) -> ([u8; 16], usize) {
    let mut text = [0u8; 16];
    let mut len = 0;
    let mut push = |byte: u8| {
        if let Some(slot) = text.get_mut(len) {
            *slot = byte;
        }
        len += 1;
    };
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            push(b'.');
        }
        if octet >= 100 {
            push(b'0' + octet / 100);
        }
        if octet >= 10 {
            push(b'0' + octet / 10 % 10);
        }
        push(b'0' + octet % 10);
    }
    (text, len)
}

/// Writes `n` in decimal into a formatter without `core::fmt`'s integer formatting (which
/// the firmware image has no flash for); the same text as `write!(f, "{n}")`.
pub(crate) fn display_decimal(f: &mut fmt::Formatter<'_>, n: u64) -> fmt::Result {
    let mut text = StackText::<MAX_U64_TEXT>::new();
    text.push_decimal(n, 1);
    f.write_str(text.as_str())
}

/// Upper- or lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// `0`–`9`, `a`–`f`.
    Lower,
    /// `0`–`9`, `A`–`F`.
    Upper,
}

/// The hex digit of the low four bits of `value`.
const fn hex_digit(value: u32, case: Case) -> u8 {
    let nibble = (value & 0xf) as u8;
    match (nibble, case) {
        (0..=9, _) => b'0' + nibble,
        (_, Case::Lower) => b'a' + nibble - 10,
        (_, Case::Upper) => b'A' + nibble - 10,
    }
}

/// Short ASCII text assembled on the stack, so that it reaches the sink in one write.
///
/// `N` is chosen by each user for its longest text; a push past `N` bytes is dropped rather
/// than panicking (unit tests prove every user's text fits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    /// Empty text.
    pub(crate) const fn new() -> Self {
        StackText {
            buf: [0; N],
            len: 0,
        }
    }

    #[cfg(not(target_os = "none"))]
    /// The length of the text so far.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The text so far.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Appends one byte.
    pub(crate) fn push(&mut self, byte: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    /// Appends bytes, as many as fit. Byte by byte: the texts here are a few bytes, for which
    /// a `memcpy` call costs more than the copy.
    #[inline]
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.push(byte);
        }
    }

    /// Appends a string.
    pub(crate) fn push_str(&mut self, s: &str) {
        self.push_bytes(s.as_bytes());
    }

    #[cfg(not(target_os = "none"))]
    /// Appends a string in one copy: for a constant string, after inlining, a few moves
    /// instead of a loop or a `memcpy` call. Whole or, when it does not fit, as many bytes as
    /// fit (as [`StackText::push_str`]).
    #[inline(always)]
    pub(crate) fn push_literal(&mut self, s: &str) {
        self.push_literal_bytes(s.as_bytes());
    }

    #[cfg(not(target_os = "none"))]
    /// [`StackText::push_literal`] of bytes.
    #[inline(always)]
    pub(crate) fn push_literal_bytes(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len = end;
            }
            None => self.push_bytes(bytes),
        }
    }

    #[cfg(not(target_os = "none"))]
    /// Forgets the text, keeping the buffer.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends `n` in decimal, zero-padded to at least `min_digits` digits (at most 20).
    pub(crate) fn push_decimal(&mut self, mut n: u64, min_digits: usize) {
        let mut count = 1;
        let mut rest = n / 10;
        while rest > 0 {
            count += 1;
            rest /= 10;
        }
        let count = count.max(min_digits.min(MAX_U64_TEXT));
        let end = self.len + count;
        // Bare metal keeps one path, for flash.
        let in_place = if cfg!(target_os = "none") {
            None
        } else {
            self.buf.get_mut(self.len..end)
        };
        match in_place {
            // The digits in place, last first: no staging array and no copy.
            Some(dst) => {
                for slot in dst.iter_mut().rev() {
                    *slot = b'0' + (n % 10) as u8;
                    n /= 10;
                }
                self.len = end;
            }
            None => {
                let mut digits = [b'0'; MAX_U64_TEXT];
                for slot in digits.iter_mut().rev().take(count) {
                    *slot = b'0' + (n % 10) as u8;
                    n /= 10;
                }
                self.push_bytes(digits.get(MAX_U64_TEXT - count..).unwrap_or_default());
            }
        }
    }

    /// Appends `n` (below 100) as exactly two digits: the clock's fields, without the
    /// general decimal loop.
    #[inline]
    pub(crate) fn push_two_digits(&mut self, n: u8) {
        self.push_bytes(&[b'0' + n / 10 % 10, b'0' + n % 10]);
    }

    /// Appends the low `digits` hex digits of `value` (at most 8), most significant first.
    pub(crate) fn push_hex(&mut self, value: u32, digits: u32, case: Case) {
        for i in (0..digits.min(8)).rev() {
            self.push(hex_digit(value >> (4 * i), case));
        }
    }

    /// The text so far as a `str` (empty in the impossible case that a push cut a
    /// multi-byte character: every user pushes ASCII within its capacity).
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// Appends the hex digits of `value` without leading zeros (at least one), lower case, as
    /// `{:x}` does.
    pub(crate) fn push_hex_short(&mut self, value: u32) {
        let digits = (32 - value.leading_zeros()).div_ceil(4).max(1);
        self.push_hex(value, digits, Case::Lower);
    }

    /// Appends `ip` as `Ipv4Addr`'s `Display` does.
    pub(crate) fn push_ipv4(&mut self, ip: Ipv4Addr) {
        let (text, len) = ipv4_text(ip);
        // With room for all 16 bytes, one copy; the bytes past the text are then unused.
        match self.buf.get_mut(self.len..self.len + text.len()) {
            Some(dst) => {
                dst.copy_from_slice(&text);
                self.len += len;
            }
            None => self.push_bytes(text.get(..len).unwrap_or_default()),
        }
    }

    #[cfg(not(target_os = "none"))]
    /// Appends `ip` as `IpAddr`'s `Display` does (see [`Out::ip`](crate::format::Out::ip)).
    pub(crate) fn push_ip(&mut self, ip: core::net::IpAddr) {
        match ip {
            core::net::IpAddr::V4(ip) => self.push_ipv4(ip),
            core::net::IpAddr::V6(ip) => self.push_ipv6(ip),
        }
    }

    /// Appends a MAC address (its six octets) as `aa:bb:cc:dd:ee:ff`, as
    /// [`MacAddr`](crate::alert::MacAddr)'s `Display` does.
    pub(crate) fn push_mac(&mut self, octets: [u8; 6]) {
        // Bare metal keeps the smaller loop, for flash.
        #[cfg(target_os = "none")]
        for (i, byte) in octets.into_iter().enumerate() {
            if i > 0 {
                self.push(b':');
            }
            self.push_hex(u32::from(byte), 2, Case::Lower);
        }
        // In a fixed array (the compiler drops the bounds checks), then one copy.
        #[cfg(not(target_os = "none"))]
        {
            let mut text = [b':'; MAX_MAC_TEXT + 1];
            for (group, byte) in text.chunks_exact_mut(3).zip(octets) {
                if let [high, low, _] = group {
                    *high = hex_digit(u32::from(byte >> 4), Case::Lower);
                    *low = hex_digit(u32::from(byte), Case::Lower);
                }
            }
            self.push_literal_bytes(text.get(..MAX_MAC_TEXT).unwrap_or_default());
        }
    }

    /// Appends `ip` as `Ipv6Addr`'s `Display` does (RFC 5952 shortest form): an IPv4-mapped
    /// address as `::ffff:a.b.c.d`; otherwise the groups in lower-case hex without leading
    /// zeros, the first longest run of two or more zero groups written as `::`.
    pub(crate) fn push_ipv6(&mut self, ip: Ipv6Addr) {
        if let Some(v4) = ip.to_ipv4_mapped() {
            self.push_str("::ffff:");
            self.push_ipv4(v4);
            return;
        }
        let segments = ip.segments();
        // The first longest run of zero groups: [start, start + len).
        let (mut start, mut len) = (0, 0);
        let (mut run_start, mut run_len) = (0, 0);
        for (i, &segment) in segments.iter().enumerate() {
            if segment == 0 {
                if run_len == 0 {
                    run_start = i;
                }
                run_len += 1;
                if run_len > len {
                    (start, len) = (run_start, run_len);
                }
            } else {
                run_len = 0;
            }
        }
        if len < 2 {
            // No compression: a run that starts past the last group.
            (start, len) = (segments.len(), 0);
        }
        let end = start + len;
        for (i, &segment) in segments.iter().enumerate() {
            if i == start {
                self.push_str("::");
            }
            if (start..end).contains(&i) {
                continue;
            }
            if i > 0 && i != end {
                self.push(b':');
            }
            self.push_hex_short(u32::from(segment));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn padded_decimal_pads_to_the_minimum_and_no_further() {
        let mut text = StackText::<64>::new();
        text.push_decimal(7, 4);
        text.push_decimal(12_345, 4);
        text.push_decimal(0, 1);
        text.push_decimal(u64::MAX, 20);
        assert_eq!(
            text.as_bytes(),
            b"0007123450"
                .iter()
                .chain(b"18446744073709551615")
                .copied()
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn stack_text_drops_what_does_not_fit_instead_of_panicking() {
        let mut text = StackText::<3>::new();
        text.push_str("abcd");
        text.push_decimal(u64::MAX, 1);
        assert_eq!(text.as_bytes(), b"abc");
    }
}
