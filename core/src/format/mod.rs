//! Wire formats: how an [`Event`](crate::alert::Event) is rendered for a receiver.
//!
//! One module per format — [`text`] (the classic Splunk event), [`hec`] (the HTTP Event
//! Collector JSON envelope), [`cef`], [`leef`], and [`syslog`] (an RFC 5424 header around any
//! of the others). Every formatter writes into an [`embedded_io::Write`] and returns the number
//! of bytes written, or [`Error::BufferFull`] when the sink is full; nothing here allocates or
//! panics. Each module's `MAX_LEN` bounds its output for any event, so a buffer of that size
//! always suffices (a property test proves it).
//!
//! Escaping is per format and total: no field value can forge a field, a line or an event.
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::format::{self, SliceWriter};
//!
//! let mut alert = Alert::new(7, 0, Engine::Malware, Severity::Critical);
//! alert.set_title("Suspicion of Malicious Activity");
//! let event = Event::from(alert);
//! let mut buf = [0u8; 64];
//! let mut out = SliceWriter::new(&mut buf);
//! // A 64-byte buffer is too small for a text event: the formatter says so.
//! let result = format::text::write(&event, &format::text::Options::default(), &mut out);
//! assert_eq!(result, Err(format::Error::BufferFull));
//! ```

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use embedded_io::{ErrorKind, ErrorType, Write};

use crate::alert::MacAddr;
use crate::time::{Civil, MAX_RFC3339};

pub mod cef;
pub mod hec;
pub mod leef;
pub mod syslog;
pub mod text;

/// Why a formatter stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The sink had no room for the whole output. A fixed buffer of the format's `MAX_LEN`
    /// never reports this.
    BufferFull,
    /// The sink failed for another reason.
    Io(ErrorKind),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BufferFull => f.write_str("output buffer full"),
            Error::Io(kind) => write!(f, "output failed: {kind:?}"),
        }
    }
}

impl core::error::Error for Error {}

impl embedded_io::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::BufferFull => ErrorKind::OutOfMemory,
            Error::Io(kind) => *kind,
        }
    }
}

/// The wire formats a destination can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// [`text`]: the classic multi-line Splunk event.
    Text,
    /// [`hec`]: the HTTP Event Collector JSON envelope.
    Hec,
    /// [`cef`]: ArcSight Common Event Format.
    Cef,
    /// [`leef`]: IBM QRadar Log Event Extended Format 1.0.
    Leef,
}

impl Kind {
    /// All kinds.
    pub const ALL: [Kind; 4] = [Kind::Text, Kind::Hec, Kind::Cef, Kind::Leef];

    /// The lower-case name used in configuration and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Hec => "hec",
            Kind::Cef => "cef",
            Kind::Leef => "leef",
        }
    }

    /// Parses [`Kind::as_str`], ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// Capacity in bytes of [`DeviceLabels::vendor`].
pub const MAX_VENDOR: usize = 64;
/// Capacity in bytes of [`DeviceLabels::product`].
pub const MAX_PRODUCT: usize = 64;

/// The vendor and product a CEF or LEEF header names (`cef::Options`, `leef::Options`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceLabels {
    /// The vendor header field (CEF `Device Vendor`, LEEF `Vendor`). Default `icsfwd`.
    pub vendor: heapless::String<MAX_VENDOR>,
    /// The product header field (CEF `Device Product`, LEEF `Product`). Default `OT Sensor`.
    pub product: heapless::String<MAX_PRODUCT>,
}

impl Default for DeviceLabels {
    fn default() -> Self {
        let mut labels = DeviceLabels {
            vendor: heapless::String::new(),
            product: heapless::String::new(),
        };
        crate::alert::fill(&mut labels.vendor, "icsfwd");
        crate::alert::fill(&mut labels.product, "OT Sensor");
        labels
    }
}

/// Options for every payload format, so that one value configures any [`Kind`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// Options of [`text`].
    pub text: text::Options,
    /// Options of [`hec`].
    pub hec: hec::Options,
    /// Options of [`cef`].
    pub cef: cef::Options,
    /// Options of [`leef`].
    pub leef: leef::Options,
}

/// The longest output of [`write()`] for any event and kind: a buffer of this size always
/// suffices (with options within their capacities).
pub const MAX_LEN: usize = max(
    max(text::MAX_LEN, hec::MAX_LEN),
    max(cef::MAX_LEN, leef::MAX_LEN),
);

/// Renders `event` in the payload format `kind`; returns the number of bytes written.
///
/// For syslog, wrap a payload with [`syslog::write`] instead.
pub fn write<W: Write>(
    kind: Kind,
    event: &crate::alert::Event,
    options: &Options,
    out: &mut W,
) -> Result<usize, Error> {
    match kind {
        Kind::Text => text::write(event, &options.text, out),
        Kind::Hec => hec::write(event, &options.hec, out),
        Kind::Cef => cef::write(event, &options.cef, out),
        Kind::Leef => leef::write(event, &options.leef, out),
    }
}

/// A writer into a fixed byte buffer that reports [`Error::BufferFull`] instead of writing
/// part of a chunk it has no room for.
#[derive(Debug)]
pub struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceWriter<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceWriter { buf, len: 0 }
    }

    /// How many bytes have been written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl ErrorType for SliceWriter<'_> {
    type Error = Error;
}

impl Write for SliceWriter<'_> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        let end = self.len.checked_add(data.len()).ok_or(Error::BufferFull)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(Error::BufferFull)?;
        dst.copy_from_slice(data);
        self.len = end;
        Ok(data.len())
    }

    /// One `write`: it writes the whole chunk or nothing, so the default's loop (and its
    /// `WriteZero` case) is not needed on the formatters' hot path.
    #[inline]
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        self.write(data).map(|_| ())
    }

    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// A sink that only counts: renders an event to learn its exact length.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counter {
    /// Bytes seen so far.
    pub count: usize,
}

impl ErrorType for Counter {
    type Error = core::convert::Infallible;
}

impl Write for Counter {
    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<usize, Self::Error> {
        self.count = self.count.saturating_add(data.len());
        Ok(data.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The writer every formatter uses: counts bytes, turns sink errors into [`Error`], and
/// writes numbers, addresses and times without allocating ([`Out::decimal`], [`Out::ip`],
/// [`Out::mac`], [`Out::rfc3339`], [`Out::legacy_time`], each in one write without
/// `core::fmt`; [`Out::fmt`] for anything else).
#[derive(Debug)]
pub struct Out<'w, W: Write> {
    sink: &'w mut W,
    written: usize,
    failed: Option<Error>,
}

impl<'w, W: Write> Out<'w, W> {
    /// Wraps a sink.
    pub fn new(sink: &'w mut W) -> Self {
        Out {
            sink,
            written: 0,
            failed: None,
        }
    }

    /// Bytes written through this wrapper.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Writes all of `data`.
    #[inline]
    pub fn bytes(&mut self, data: &[u8]) -> Result<(), Error> {
        match self.sink.write_all(data) {
            Ok(()) => {
                self.written += data.len();
                Ok(())
            }
            Err(e) => {
                let kind = embedded_io::Error::kind(&e);
                let err = match kind {
                    ErrorKind::OutOfMemory | ErrorKind::WriteZero => Error::BufferFull,
                    other => Error::Io(other),
                };
                self.failed = Some(err);
                Err(err)
            }
        }
    }

    /// Writes a string as is (no escaping).
    #[inline]
    pub fn str(&mut self, s: &str) -> Result<(), Error> {
        self.bytes(s.as_bytes())
    }

    /// Writes formatted arguments as is (no escaping); the dedicated writers below are faster
    /// for numbers, addresses and times.
    pub fn fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), Error> {
        match fmt::Write::write_fmt(self, args) {
            Ok(()) => Ok(()),
            Err(fmt::Error) => Err(self.failed.unwrap_or(Error::BufferFull)),
        }
    }

    /// Finishes: flushes the sink and returns the number of bytes written.
    pub fn finish(self) -> Result<usize, Error> {
        self.sink.flush().map_err(|e| {
            let kind = embedded_io::Error::kind(&e);
            Error::Io(kind)
        })?;
        Ok(self.written)
    }
}

impl<W: Write> fmt::Write for Out<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

// ---- Numbers, addresses and times without `core::fmt` ----
//
// The formats write a dozen numbers, addresses and times per event; through `core::fmt` each
// costs a `Formatter`, padding logic and several tiny writes. These writers assemble the text
// on the stack and hand it to the sink in one write; unit tests prove each equals the
// `Display` rendering it replaces.

impl<W: Write> Out<'_, W> {
    /// Writes `n` in decimal, as `u64`'s `Display` does.
    pub fn decimal(&mut self, n: u64) -> Result<(), Error> {
        let mut text = StackText::<MAX_U64_TEXT>::new();
        text.push_decimal(n, 1);
        self.bytes(text.as_bytes())
    }

    /// Writes an address as `IpAddr`'s `Display` does, without `core::fmt` (IPv6 in its
    /// shortest form: the first longest run of two or more zero groups as `::`, an
    /// IPv4-mapped address as `::ffff:a.b.c.d`).
    pub fn ip(&mut self, ip: IpAddr) -> Result<(), Error> {
        match ip {
            IpAddr::V4(ip) => {
                let (text, len) = ipv4_text(ip);
                self.bytes(text.get(..len).unwrap_or_default())
            }
            IpAddr::V6(ip) => {
                let mut text = StackText::<MAX_IP_TEXT>::new();
                text.push_ipv6(ip);
                self.bytes(text.as_bytes())
            }
        }
    }

    /// Writes a MAC address as `aa:bb:cc:dd:ee:ff` (lower-case hex), as `MacAddr`'s `Display`
    /// does.
    pub fn mac(&mut self, mac: MacAddr) -> Result<(), Error> {
        let mut text = StackText::<MAX_MAC_TEXT>::new();
        text.push_mac(mac);
        self.bytes(text.as_bytes())
    }

    /// Writes `time` as RFC 3339 (`2019-05-05T12:28:54.123Z`), as
    /// [`Rfc3339`](crate::time::Rfc3339)'s `Display` does.
    pub fn rfc3339(&mut self, time: Civil) -> Result<(), Error> {
        let mut text = StackText::<MAX_RFC3339>::new();
        text.push_rfc3339(time);
        self.bytes(text.as_bytes())
    }

    /// Writes `time` as `MMM dd yyyy HH:mm:ss.SSS` (`May 05 2019 12:28:54.123`), as
    /// [`Legacy`](crate::time::Legacy)'s `Display` does.
    pub fn legacy_time(&mut self, time: Civil) -> Result<(), Error> {
        let mut text = StackText::<MAX_LEGACY_TIME>::new();
        text.push_legacy_time(time);
        self.bytes(text.as_bytes())
    }
}

/// `ip` as `Ipv4Addr`'s `Display` writes it, in the first bytes of the array (the length).
///
/// The text (at most 15 bytes) is assembled in a fixed array: one bounds check per byte and no
/// division beyond the octets' digits; every alert has two or three addresses.
fn ipv4_text(ip: Ipv4Addr) -> ([u8; 16], usize) {
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

/// The longest [`Out::legacy_time`]: `MMM dd `, a year of up to 20 digits, ` HH:mm:ss.SSS`.
pub(crate) const MAX_LEGACY_TIME: usize = "MMM dd ".len() + MAX_U64_TEXT + " HH:mm:ss.SSS".len();

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
    fn push_two_digits(&mut self, n: u8) {
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
    /// Appends `ip` as `IpAddr`'s `Display` does (see [`Out::ip`]).
    pub(crate) fn push_ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(ip) => self.push_ipv4(ip),
            IpAddr::V6(ip) => self.push_ipv6(ip),
        }
    }

    /// Appends a MAC address as `aa:bb:cc:dd:ee:ff` (see [`Out::mac`]).
    pub(crate) fn push_mac(&mut self, mac: MacAddr) {
        // Bare metal keeps the smaller loop, for flash.
        #[cfg(target_os = "none")]
        for (i, byte) in mac.0.into_iter().enumerate() {
            if i > 0 {
                self.push(b':');
            }
            self.push_hex(u32::from(byte), 2, Case::Lower);
        }
        // In a fixed array (the compiler drops the bounds checks), then one copy.
        #[cfg(not(target_os = "none"))]
        {
            let mut text = [b':'; MAX_MAC_TEXT + 1];
            for (group, byte) in text.chunks_exact_mut(3).zip(mac.0) {
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

    /// Appends `time` as RFC 3339 (`2019-05-05T12:28:54.123Z`).
    pub(crate) fn push_rfc3339(&mut self, time: Civil) {
        // Not on bare metal, whose flash budget has no room for a second path.
        #[cfg(not(target_os = "none"))]
        if time.year <= 9999 && time.millis <= 999 {
            // The common case, four-digit years: fixed positions in a fixed array, one copy.
            let two = |n: u8| [b'0' + n / 10 % 10, b'0' + n % 10];
            let year = time.year as u16;
            let [y1, y2] = two((year / 100) as u8);
            let [y3, y4] = two((year % 100) as u8);
            let [mo1, mo2] = two(time.month);
            let [d1, d2] = two(time.day);
            let [h1, h2] = two(time.hour);
            let [mi1, mi2] = two(time.minute);
            let [s1, s2] = two(time.second);
            let [ms1, ms2] = two((time.millis / 10) as u8);
            let ms3 = b'0' + (time.millis % 10) as u8;
            self.push_literal_bytes(&[
                y1, y2, y3, y4, b'-', mo1, mo2, b'-', d1, d2, b'T', h1, h2, b':', mi1, mi2, b':',
                s1, s2, b'.', ms1, ms2, ms3, b'Z',
            ]);
            return;
        }
        self.push_decimal(time.year, 4);
        self.push(b'-');
        self.push_two_digits(time.month);
        self.push(b'-');
        self.push_two_digits(time.day);
        self.push(b'T');
        self.push_clock(time);
        self.push(b'Z');
    }

    /// Appends `time` as `MMM dd yyyy HH:mm:ss.SSS` (`May 05 2019 12:28:54.123`).
    pub(crate) fn push_legacy_time(&mut self, time: Civil) {
        self.push_str(time.month_abbrev());
        self.push(b' ');
        self.push_two_digits(time.day);
        self.push(b' ');
        self.push_decimal(time.year, 4);
        self.push(b' ');
        self.push_clock(time);
    }

    /// Appends `HH:mm:ss.SSS`.
    fn push_clock(&mut self, time: Civil) {
        self.push_two_digits(time.hour);
        self.push(b':');
        self.push_two_digits(time.minute);
        self.push(b':');
        self.push_two_digits(time.second);
        self.push(b'.');
        self.push_decimal(u64::from(time.millis), 3);
    }
}

// ---- Escaping shared by every format ----
//
// Every format copies most of a value as is and escapes a few characters. The characters any
// format treats are the C0 controls and DEL, up to four ASCII punctuation bytes of its own
// (its `AsciiSet`), the C1 controls U+0080–U+009F and the separators U+2028/U+2029 (every
// format treats these, as they break lines or hide text in some reader). So `escape` scans
// bytes, not `char`s, eight at a time: a word with no control, DEL, punctuation byte of the
// rule or non-ASCII byte is skipped with a few integer operations; in a word that may hold
// one, a byte can start a treated character only if it is ASCII and in the set, or the lead
// byte `C2` (U+0080–U+00BF) or `E2` (U+2000–U+2FFF), which `special_at` then decodes. Each
// run of clean bytes goes out in one write.

/// The ASCII bytes one escaping rule treats: the C0 controls, DEL, and up to four more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AsciiSet {
    /// The rule's own bytes; unused slots repeat one of them (or hold NUL, a control).
    extra: [u8; 4],
}

/// Eight copies of `byte`, one per byte of a `u64`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The high bit of every byte of `word` that is zero, and possibly of bytes above one (the
/// borrow), so it is non-zero exactly when some byte is zero.
const fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(splat(0x01)) & !word & splat(0x80)
}

impl AsciiSet {
    /// The C0 controls U+0000–U+001F, DEL, and the ASCII bytes of `bytes`, of which at most
    /// four are kept (the last four; no rule needs more, and each rule's unit test compares
    /// the set with its documented one).
    pub(crate) const fn controls_and(mut bytes: &[u8]) -> AsciiSet {
        let mut packed = 0u32;
        let mut first = 0;
        while let [byte, rest @ ..] = bytes {
            if byte.is_ascii() {
                packed = packed << 8 | *byte as u32;
                first = *byte;
            }
            bytes = rest;
        }
        // Unused slots repeat a byte of the set, so that the word test of a repeated byte is
        // the same expression, which the compiler evaluates once.
        let mut extra = packed.to_le_bytes();
        let mut slots: &mut [u8] = &mut extra;
        while let [slot, rest @ ..] = slots {
            if *slot == 0 {
                *slot = first;
            }
            slots = rest;
        }
        AsciiSet { extra }
    }

    /// Whether `byte` is in the set.
    #[inline]
    pub(crate) const fn contains(self, byte: u8) -> bool {
        let [a, b, c, d] = self.extra;
        byte < 0x20 || byte == 0x7f || byte == a || byte == b || byte == c || byte == d
    }

    #[cfg(not(target_os = "none"))]
    /// Whether `bytes` certainly holds no treated character, for a value of at most
    /// [`SHORT_VALUE`] bytes (false for a longer one): one or two word tests, so a short
    /// clean value can be copied with the text around it instead of through [`escape`].
    #[inline]
    pub(crate) fn short_is_clean(self, bytes: &[u8]) -> bool {
        if let (Some(first), Some(last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            // 8 to 16 bytes: two words that overlap or meet cover every byte.
            return bytes.len() <= SHORT_VALUE
                && !self.may_hold_special(u64::from_ne_bytes(*first))
                && !self.may_hold_special(u64::from_ne_bytes(*last));
        }
        // Under 8 bytes: padded with spaces, which no rule treats.
        let mut word = [b' '; 8];
        for (slot, &byte) in word.iter_mut().zip(bytes) {
            *slot = byte;
        }
        !self.may_hold_special(u64::from_ne_bytes(word))
    }

    /// Whether `byte` may start a treated character: in the set, or a lead byte `C2`/`E2`.
    #[inline]
    const fn may_start_special(self, byte: u8) -> bool {
        self.contains(byte) || byte == 0xC2 || byte == 0xE2
    }

    /// Whether `word` (eight bytes) may hold a treated character's first byte: false only
    /// when none of its bytes is a control, DEL, non-ASCII, or one of the rule's bytes.
    /// (It may say true for a clean word; the caller then checks byte by byte.)
    #[inline]
    const fn may_hold_special(self, word: u64) -> bool {
        // A byte below 0x20: subtracting 0x20 borrows into its high bit while the byte's own
        // high bit is clear (exact for the any-test, as for `has_zero_byte`).
        let below_space = word.wrapping_sub(splat(0x20)) & !word;
        // A byte of 0x7F or more: it has its high bit, or adding 1 sets it. A carry out of a
        // 0xFF byte can only flag its neighbour falsely, and the 0xFF byte itself is flagged.
        let del_or_high = word | word.wrapping_add(splat(0x01));
        let [a, b, c, d] = self.extra;
        // One OR of all tests and one branch: the words of a value are nearly all clean.
        let hits = ((below_space | del_or_high) & splat(0x80))
            | zero_bytes(word ^ splat(a))
            | zero_bytes(word ^ splat(b))
            | zero_bytes(word ^ splat(c))
            | zero_bytes(word ^ splat(d));
        hits != 0
    }
}

/// The longest value [`AsciiSet::short_is_clean`] judges.
#[cfg(not(target_os = "none"))]
pub(crate) const SHORT_VALUE: usize = 16;

/// One escape sequence: at most 8 bytes (text's `\u{HHHH}` is the longest).
pub(crate) type Escaped = StackText<8>;

impl Escaped {
    /// A fixed escape.
    pub(crate) fn of(s: &str) -> Escaped {
        let mut escaped = Escaped::new();
        escaped.push_str(s);
        escaped
    }

    /// `prefix`, the low `digits` hex digits of `code`, then `suffix`.
    pub(crate) fn hex(prefix: &str, code: u32, digits: u32, case: Case, suffix: &str) -> Escaped {
        let mut escaped = Escaped::of(prefix);
        escaped.push_hex(code, digits, case);
        escaped.push_str(suffix);
        escaped
    }
}

/// One format's (or one place's) escaping rule for [`escape`]: which ASCII bytes it treats
/// (the C1 controls and U+2028/U+2029 are always treated) and what a treated character
/// becomes.
#[derive(Clone, Copy)]
pub(crate) struct Rule {
    /// The ASCII bytes this rule treats.
    pub(crate) ascii: AsciiSet,
    /// What a treated character is written as.
    pub(crate) escape: fn(char) -> Escaped,
}

impl Rule {
    /// Whether [`escape`] treats `c` under this rule: the definition the scanner implements,
    /// char by char, for tests.
    #[cfg(test)]
    pub(crate) fn is_special(&self, c: char) -> bool {
        match u8::try_from(c) {
            Ok(byte) if byte.is_ascii() => self.ascii.contains(byte),
            _ => matches!(c, '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
        }
    }
}

/// The treated character at the start of `bytes`, with its UTF-8 length, if there is one.
fn special_at(bytes: &[u8], ascii: AsciiSet) -> Option<(char, usize)> {
    match bytes {
        [byte, ..] if byte.is_ascii() => ascii.contains(*byte).then_some((char::from(*byte), 1)),
        // U+0080–U+009F is `C2` then the code point itself as the continuation byte.
        [0xC2, second @ 0x80..=0x9F, ..] => Some((char::from(*second), 2)),
        [0xE2, 0x80, 0xA8, ..] => Some(('\u{2028}', 3)),
        [0xE2, 0x80, 0xA9, ..] => Some(('\u{2029}', 3)),
        _ => None,
    }
}

/// The offset in `bytes` of the first byte at or after `from` that may start a treated
/// character.
#[inline]
fn next_candidate(bytes: &[u8], from: usize, ascii: AsciiSet) -> Option<usize> {
    let (words, tail) = bytes.get(from..)?.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        if ascii.may_hold_special(u64::from_ne_bytes(*word))
            && let Some(at) = word.iter().position(|&b| ascii.may_start_special(b))
        {
            return Some(from + 8 * i + at);
        }
    }
    if tail.is_empty() {
        return None;
    }
    // The tail (under eight bytes) is the end of the value's last eight bytes: when that word
    // is clean, so is the tail, and the byte-by-byte scan below is skipped. (Its bytes before
    // the tail may be ones already treated; then the word test only sends us to the scan.)
    if let Some(last) = bytes.last_chunk::<8>()
        && !ascii.may_hold_special(u64::from_ne_bytes(*last))
    {
        return None;
    }
    let at = tail.iter().position(|&b| ascii.may_start_special(b))?;
    Some(from + 8 * words.len() + at)
}

/// Writes `value` under `rule`: runs of untreated bytes in one write each, every treated
/// character (the ASCII bytes of `rule.ascii`, U+0080–U+009F, U+2028, U+2029) as
/// `(rule.escape)(c)`.
#[inline]
pub(crate) fn escape<W: Write>(out: &mut Out<'_, W>, value: &str, rule: Rule) -> Result<(), Error> {
    let ascii = rule.ascii;
    let bytes = value.as_bytes();
    // `bytes[..written]` is out; `bytes[written..scanned]` is clean and pending.
    let mut written = 0;
    let mut scanned = 0;
    while let Some(at) = next_candidate(bytes, scanned, ascii) {
        match special_at(bytes.get(at..).unwrap_or(&[]), ascii) {
            Some((c, len)) => {
                let clean = bytes.get(written..at).unwrap_or(&[]);
                if !clean.is_empty() {
                    out.bytes(clean)?;
                }
                out.bytes((rule.escape)(c).as_bytes())?;
                scanned = at + len;
                written = scanned;
            }
            // A `C2`/`E2` character that is not treated is copied with its run.
            None => scanned = at + 1,
        }
    }
    let clean = bytes.get(written..).unwrap_or(&[]);
    if clean.is_empty() {
        return Ok(());
    }
    out.bytes(clean)
}

/// Writes the event id `<sensor>-<id>` (see [`EventId`](crate::alert::EventId)) with the
/// sensor name escaped under `rule`; the `-` and the digits need no format's escaping.
pub(crate) fn event_id<W: Write>(
    out: &mut Out<'_, W>,
    event: &crate::alert::Event,
    rule: Rule,
) -> Result<(), Error> {
    let id = event.event_id();
    escape(out, id.sensor, rule)?;
    let mut text = StackText::<{ 1 + MAX_U64_TEXT }>::new();
    text.push(b'-');
    text.push_decimal(id.id, 1);
    out.bytes(text.as_bytes())
}

// ---- Output bounds shared by the formats' `MAX_LEN` expressions ----

/// The longest `core::net::IpAddr` rendering: 45 bytes is the classic `INET6_ADDRSTRLEN - 1`
/// (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`); core renders at most 39, so this is safe
/// whatever form the formatter picks.
pub(crate) const MAX_IP_TEXT: usize = 45;
/// `aa:bb:cc:dd:ee:ff`.
pub(crate) const MAX_MAC_TEXT: usize = 17;
/// `65535`.
pub(crate) const MAX_PORT_TEXT: usize = 5;
/// `18446744073709551615`.
pub(crate) const MAX_U64_TEXT: usize = 20;

/// The larger of two lengths (`Ord::max` is not `const`).
pub(crate) const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// The longest [`Engine::as_str`](crate::alert::Engine::as_str).
pub(crate) const fn longest_engine_name() -> usize {
    let mut engines: &[crate::alert::Engine] = &crate::alert::Engine::ALL;
    let mut n = 0;
    while let [engine, rest @ ..] = engines {
        n = max(n, engine.as_str().len());
        engines = rest;
    }
    n
}

/// The longest [`NotificationKind::as_str`](crate::alert::NotificationKind::as_str).
pub(crate) const fn longest_notification_name() -> usize {
    let mut kinds: &[crate::alert::NotificationKind] = &crate::alert::NotificationKind::ALL;
    let mut n = 0;
    while let [kind, rest @ ..] = kinds {
        n = max(n, kind.as_str().len());
        kinds = rest;
    }
    n
}

/// The longest [`NotificationKind::token`](crate::alert::NotificationKind::token).
pub(crate) const fn longest_notification_token() -> usize {
    let mut kinds: &[crate::alert::NotificationKind] = &crate::alert::NotificationKind::ALL;
    let mut n = 0;
    while let [kind, rest @ ..] = kinds {
        n = max(n, kind.token().len());
        kinds = rest;
    }
    n
}

/// The longest [`Severity::as_str`](crate::alert::Severity::as_str).
pub(crate) const fn longest_severity_name() -> usize {
    let mut severities: &[crate::alert::Severity] = &crate::alert::Severity::ALL;
    let mut n = 0;
    while let [severity, rest @ ..] = severities {
        n = max(n, severity.as_str().len());
        severities = rest;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_writer_refuses_a_chunk_that_does_not_fit_whole() {
        let mut buf = [0xA5u8; 4];
        let mut w = SliceWriter::new(&mut buf);
        assert_eq!(w.write(b"abc"), Ok(3));
        assert_eq!(w.write(b"de"), Err(Error::BufferFull));
        assert_eq!(w.written(), b"abc");
    }

    #[test]
    fn out_reports_buffer_full_through_write_macro() {
        let mut buf = [0u8; 3];
        let mut w = SliceWriter::new(&mut buf);
        let mut out = Out::new(&mut w);
        assert_eq!(out.fmt(format_args!("{}", 12345)), Err(Error::BufferFull));
    }

    use core::net::{Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;
    use std::string::String as StdString;
    use std::vec::Vec;
    use std::{format, vec};

    /// What `write` renders into a buffer of `len` bytes, as a string.
    fn rendered(len: usize, write: impl FnOnce(&mut Out<'_, SliceWriter<'_>>)) -> StdString {
        let mut buf = vec![0xA5u8; len];
        let mut sink = SliceWriter::new(&mut buf);
        let mut out = Out::new(&mut sink);
        write(&mut out);
        let n = out.finish().unwrap();
        StdString::from_utf8(buf.get(..n).unwrap().to_vec()).unwrap()
    }

    #[test]
    fn decimal_writes_edge_values_like_display() {
        for n in [0, 9, 10, 99, 100, 65_535, u64::from(u32::MAX), u64::MAX] {
            let text = rendered(MAX_U64_TEXT, |out| out.decimal(n).unwrap());
            assert_eq!(text, format!("{n}"));
        }
    }

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

    #[test]
    fn ipv6_is_written_as_core_displays_it() {
        for ip in [
            Ipv6Addr::UNSPECIFIED,
            Ipv6Addr::LOCALHOST,
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0x21b, 0x1bff, 0xfeaa, 0xf9e),
            Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0005),
            Ipv6Addr::new(
                0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
            ),
        ] {
            let text = rendered(MAX_IP_TEXT, |out| out.ip(IpAddr::V6(ip)).unwrap());
            assert_eq!(text, format!("{ip}"));
        }
    }

    /// Every rule of every format, with its documented set of treated characters written
    /// char by char (independently of the byte scanner).
    fn rules() -> [(&'static str, &'static dyn Fn(char) -> bool); 7] {
        [
            (
                "text",
                &|c| matches!(c, '\\' | '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
            ),
            (
                "hec",
                &|c| matches!(c, '"' | '\\' | '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
            ),
            ("cef header", &|c| {
                matches!(c, '\\' | '|' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
            ("cef extension", &|c| {
                matches!(c, '\\' | '=' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
            ("leef header", &|c| {
                matches!(c, '\\' | '|' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
            ("leef attribute", &|c| {
                matches!(c, '\\' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
            ("syslog param", &|c| {
                matches!(c, '"' | '\\' | ']' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
        ]
    }

    /// `value` under the rule named `name`, through the byte scanner.
    fn scanned(name: &str, value: &str) -> StdString {
        rendered(8 * value.len() + 8, |out| {
            match name {
                "text" => escape(out, value, text::VALUE),
                "hec" => escape(out, value, hec::STRING),
                "cef header" => escape(out, value, cef::HEADER),
                "cef extension" => escape(out, value, cef::EXTENSION),
                "leef header" => escape(out, value, leef::HEADER),
                "leef attribute" => escape(out, value, leef::ATTRIBUTE),
                _ => escape(out, value, syslog::PARAM_VALUE),
            }
            .unwrap()
        })
    }

    /// `value` under the rule named `name`, char by char: the reference for the scanner.
    fn naive(name: &str, value: &str) -> StdString {
        let escaped = |c: char| match name {
            "text" => (text::VALUE.escape)(c),
            "hec" => (hec::STRING.escape)(c),
            "cef header" => (cef::HEADER.escape)(c),
            "cef extension" => (cef::EXTENSION.escape)(c),
            "leef header" => (leef::HEADER.escape)(c),
            "leef attribute" => (leef::ATTRIBUTE.escape)(c),
            _ => (syslog::PARAM_VALUE.escape)(c),
        };
        let special = rules().into_iter().find(|(n, _)| *n == name).unwrap().1;
        let mut out = StdString::new();
        for c in value.chars() {
            if special(c) {
                out.push_str(core::str::from_utf8(escaped(c).as_bytes()).unwrap());
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn every_rule_treats_exactly_its_documented_characters() {
        for (name, special) in rules() {
            for c in ('\0'..='\u{3000}').chain(['\u{fffd}', '\u{feff}', '\u{10ffff}']) {
                let mut buf = [0u8; 4];
                let value = c.encode_utf8(&mut buf);
                let expect_changed = special(c);
                assert_eq!(
                    scanned(name, value) != *value,
                    expect_changed,
                    "{name}: {c:?}"
                );
            }
        }
    }

    #[test]
    fn the_word_test_never_misses_a_byte_that_may_start_a_treated_character() {
        let sets = [
            AsciiSet::controls_and(b""),
            AsciiSet::controls_and(b"\\"),
            AsciiSet::controls_and(b"\"\\]"),
            AsciiSet::controls_and(b"\\|=\"]"),
        ];
        for set in sets {
            for byte in 0..=u8::MAX {
                for position in 0..8 {
                    let mut word = [b'a'; 8];
                    if let Some(slot) = word.get_mut(position) {
                        *slot = byte;
                    }
                    if set.may_start_special(byte) {
                        assert!(set.may_hold_special(u64::from_ne_bytes(word)), "{byte:#x}");
                    }
                }
            }
            assert!(!set.may_hold_special(u64::from_ne_bytes(*b"abcXYZ09")));
        }
    }

    #[test]
    fn a_short_value_is_clean_only_without_any_treated_byte() {
        let sets = [
            hec::STRING.ascii,
            text::VALUE.ascii,
            cef::EXTENSION.ascii,
            syslog::PARAM_VALUE.ascii,
        ];
        for set in sets {
            for len in 0..=SHORT_VALUE + 1 {
                let clean = vec![b'a'; len];
                assert_eq!(set.short_is_clean(&clean), len <= SHORT_VALUE, "{len}");
                for at in 0..len {
                    for byte in 0..=u8::MAX {
                        let mut value = clean.clone();
                        if let Some(slot) = value.get_mut(at) {
                            *slot = byte;
                        }
                        if set.may_start_special(byte) {
                            assert!(!set.short_is_clean(&value), "{byte:#x} at {at} of {len}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_widest_escapes_fit_their_stack_text() {
        assert_eq!(scanned("text", "\u{2029}"), "\\u{2029}");
        assert_eq!(scanned("text", "\u{1}"), "\\x01");
        assert_eq!(scanned("hec", "\u{1}\u{9f}"), "\\u0001\\u009f");
        assert_eq!(
            scanned("leef attribute", "\u{85}\u{2028}"),
            "\\u0085\\u2028"
        );
        assert_eq!(scanned("cef extension", "\u{7}"), "\u{fffd}");
    }

    /// Strings rich in the characters that some rule treats, near misses, and other text.
    fn arb_value() -> impl Strategy<Value = StdString> {
        let interesting = prop::sample::select(vec![
            '\\', '"', '|', '=', ']', '\n', '\r', '\t', '\0', '\u{8}', '\u{c}', '\u{1b}', '\u{7f}',
            '\u{80}', '\u{85}', '\u{9f}', '\u{a0}', '\u{bf}', '\u{2027}', '\u{2028}', '\u{2029}',
            '\u{202a}', '\u{20ac}', 'é', '日', '😀', 'a', ' ', '-',
        ]);
        prop::collection::vec(prop_oneof![interesting, any::<char>()], 0..48)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn scanner_equals_the_char_by_char_reference(value in arb_value()) {
            for (name, _) in rules() {
                prop_assert_eq!(scanned(name, &value), naive(name, &value), "{}", name);
            }
        }

        #[test]
        fn ipv4_is_written_as_core_displays_it(bits in any::<u32>()) {
            let ip = Ipv4Addr::from(bits);
            let text = rendered(MAX_IP_TEXT, |out| out.ip(IpAddr::V4(ip)).unwrap());
            prop_assert_eq!(text, format!("{ip}"));
        }

        #[test]
        fn mac_is_written_as_its_display(bytes in any::<[u8; 6]>()) {
            let mac = MacAddr(bytes);
            let text = rendered(MAX_MAC_TEXT, |out| out.mac(mac).unwrap());
            prop_assert_eq!(text, format!("{mac}"));
        }

        #[test]
        fn decimal_is_written_as_display(n in any::<u64>()) {
            let text = rendered(MAX_U64_TEXT, |out| out.decimal(n).unwrap());
            prop_assert_eq!(text, format!("{n}"));
        }

        #[test]
        fn times_are_written_as_their_display(
            ms in prop_oneof![any::<u64>(), 0..=253_402_300_799_999u64, Just(u64::MAX)]
        ) {
            let time = Civil::from_epoch_ms(ms);
            // Both `Out` and the `Display` impls use `StackText`; the reference is
            // `core::fmt`'s zero padding.
            let t = &time;
            let clock = format!("{:02}:{:02}:{:02}.{:03}", t.hour, t.minute, t.second, t.millis);
            let expected = format!("{:04}-{:02}-{:02}T{clock}Z", t.year, t.month, t.day);
            let rfc3339 = rendered(MAX_RFC3339, |out| out.rfc3339(time).unwrap());
            prop_assert_eq!(&rfc3339, &expected);
            prop_assert_eq!(format!("{}", time.rfc3339()), expected);
            let expected = format!("{} {:02} {:04} {clock}", t.month_abbrev(), t.day, t.year);
            let legacy = rendered(MAX_LEGACY_TIME, |out| out.legacy_time(time).unwrap());
            prop_assert_eq!(&legacy, &expected);
            prop_assert_eq!(format!("{}", time.legacy()), expected);
        }

        #[test]
        fn any_ipv6_is_written_as_core_displays_it(
            segments in prop::array::uniform8(prop_oneof![Just(0u16), Just(0xffff), any::<u16>()])
        ) {
            let ip = Ipv6Addr::from(segments);
            let text = rendered(MAX_IP_TEXT, |out| out.ip(IpAddr::V6(ip)).unwrap());
            prop_assert_eq!(text, format!("{ip}"));
        }
    }

    #[test]
    fn longest_name_helpers_see_every_variant() {
        assert_eq!(longest_engine_name(), "Protocol Violation".len());
        assert_eq!(longest_severity_name(), "Critical".len());
        assert_eq!(longest_notification_name(), "Sensor offline".len());
        assert_eq!(longest_notification_token(), "sensor_offline".len());
    }
}
