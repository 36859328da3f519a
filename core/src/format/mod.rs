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
//! Beside the formats: [`Error`], the sinks ([`SliceWriter`], [`Counter`]) and the writer every
//! formatter renders through ([`Out`]), the [`Options`] of every format, and [`write()`], the
//! dispatch over [`Kind`]. Inside the crate, `escape` holds the escaping every format shares
//! (a byte scanner, eight bytes at a time) and `bounds` the lengths the `MAX_LEN`s add up.
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

use embedded_io::Write;

mod bounds;
mod error;
mod escape;
mod options;
mod sink;

pub mod cef;
pub mod hec;
pub mod leef;
pub mod syslog;
pub mod text;

pub use error::Error;
pub use options::{DeviceLabels, MAX_PRODUCT, MAX_VENDOR, Options};
pub use sink::{Counter, Out, SliceWriter};

// What the formats share, inside the crate: output bounds and escaping.
pub(crate) use bounds::{
    MAX_IP_TEXT, MAX_MAC_TEXT, MAX_PORT_TEXT, MAX_U64_TEXT, longest_engine_name,
    longest_notification_name, longest_notification_token, longest_severity_name, max,
};
#[cfg(not(target_os = "none"))]
pub(crate) use escape::SHORT_VALUE;
pub(crate) use escape::{AsciiSet, Escaped, Rule, escape, event_id};

/// What an empty header field of [`cef`] and [`leef`] is written as (the sensor sent no
/// `version`, say): their headers are positional, and common readers (pycef among them) refuse
/// a line with an empty header field. Never escaped, no longer than any field's bound.
pub const EMPTY_HEADER_FIELD: &str = "unknown";

// The placeholder fits the smallest header field's capacity, so `MAX_LEN` bounds hold.
const _: () = assert!(EMPTY_HEADER_FIELD.len() <= crate::alert::MAX_VERSION);

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
