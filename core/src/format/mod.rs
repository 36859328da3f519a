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

use embedded_io::{ErrorKind, ErrorType, Write};

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
    fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        let end = self.len.checked_add(data.len()).ok_or(Error::BufferFull)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(Error::BufferFull)?;
        dst.copy_from_slice(data);
        self.len = end;
        Ok(data.len())
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
    fn write(&mut self, data: &[u8]) -> Result<usize, Self::Error> {
        self.count = self.count.saturating_add(data.len());
        Ok(data.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The writer every formatter uses: counts bytes, turns sink errors into [`Error`], and lets
/// `write!` render numbers, addresses and times without allocating.
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
    pub fn str(&mut self, s: &str) -> Result<(), Error> {
        self.bytes(s.as_bytes())
    }

    /// Writes formatted arguments as is (no escaping); use for numbers, addresses and times.
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

/// Renders `value` through [`fmt::Display`] and hands the text to `each` in pieces, so
/// escapers can treat formatted values (addresses, ids) like string fields.
pub(crate) fn display_chunks(
    value: &dyn fmt::Display,
    each: &mut dyn FnMut(&str) -> Result<(), Error>,
) -> Result<(), Error> {
    struct Adapter<'a> {
        each: &'a mut dyn FnMut(&str) -> Result<(), Error>,
        failed: Option<Error>,
    }
    impl fmt::Write for Adapter<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            (self.each)(s).map_err(|e| {
                self.failed = Some(e);
                fmt::Error
            })
        }
    }
    let mut adapter = Adapter { each, failed: None };
    match fmt::write(&mut adapter, format_args!("{value}")) {
        Ok(()) => Ok(()),
        Err(fmt::Error) => Err(adapter.failed.unwrap_or(Error::BufferFull)),
    }
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

    #[test]
    fn longest_name_helpers_see_every_variant() {
        assert_eq!(longest_engine_name(), "Protocol Violation".len());
        assert_eq!(longest_severity_name(), "Critical".len());
        assert_eq!(longest_notification_name(), "Sensor offline".len());
        assert_eq!(longest_notification_token(), "sensor_offline".len());
    }
}
