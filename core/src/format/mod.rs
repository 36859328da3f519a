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
use core::net::IpAddr;

use embedded_io::{ErrorKind, ErrorType, Write};

use crate::alert::MacAddr;
use crate::stack_text::ipv4_text;
pub(crate) use crate::stack_text::{Case, StackText};
use crate::time::{Civil, MAX_LEGACY_TIME, MAX_RFC3339};

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
// on the stack (`crate::stack_text`) and hand it to the sink in one write; unit tests prove
// each equals the `Display` rendering it replaces.

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
        text.push_mac(mac.0);
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

pub(crate) use crate::stack_text::{MAX_IP_TEXT, MAX_MAC_TEXT, MAX_U64_TEXT};
/// `65535`.
pub(crate) const MAX_PORT_TEXT: usize = 5;

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
