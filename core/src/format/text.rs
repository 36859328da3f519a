//! TEMPORARY stand-in for the classic multi-line Splunk text event, so that `syslog` compiles
//! in this worktree; the real module (same API) replaces it at integration.
//!
//! First line `<rfc3339> <label> Alert: <title>`, then `Key: value` lines. Control characters
//! in values become spaces, so no value can start a line.
//!
//! Guarantees: [`write()`] never panics or allocates; any event fits [`MAX_LEN`].
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::format::{text, SliceWriter};
//!
//! let mut buf = [0u8; text::MAX_LEN];
//! let mut out = SliceWriter::new(&mut buf);
//! let alert = Alert::new(1, 0, Engine::Malware, Severity::Minor);
//! let n = text::write(&Event::from(alert), &text::Options::default(), &mut out).unwrap();
//! assert!(out.written()[..n].starts_with(b"1970-01-01T00:00:00.000Z icsfwd Alert: "));
//! ```

use embedded_io::Write;

use crate::alert::{Event, MAX_EVENT_ID, MAX_MESSAGE, MAX_TITLE};
use crate::format::{Error, Out};
use crate::time::{Civil, MAX_RFC3339};

/// Options of the text format.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// The product label after the time. Default `icsfwd`.
    pub label: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options { label: "icsfwd" }
    }
}

/// Bound for the stand-in: the title and the message (up to 4 bytes per char kept as is,
/// controls become one space), an event id, labels and a generous 256 bytes of fixed text.
pub const MAX_LEN: usize = MAX_RFC3339 + 64 + MAX_TITLE + MAX_MESSAGE + MAX_EVENT_ID + 256;

fn value<W: Write>(out: &mut Out<'_, W>, value: &str) -> Result<(), Error> {
    for piece in value.split(|c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}') {
        out.str(piece)?;
        out.str(" ")?;
    }
    Ok(())
}

/// Renders `event` as a text event.
pub fn write<W: Write>(event: &Event, options: &Options, out: &mut W) -> Result<usize, Error> {
    let mut out = Out::new(out);
    let label = if options.label.len() <= 64 {
        options.label
    } else {
        "icsfwd"
    };
    out.fmt(format_args!(
        "{} {label} Alert: ",
        Civil::from_epoch_ms(event.time_ms()).rfc3339()
    ))?;
    value(&mut out, event.title())?;
    out.str("\nSeverity: ")?;
    out.str(event.severity().as_str())?;
    out.str("\nMessage: ")?;
    if let Event::Alert(a) = event {
        value(&mut out, &a.message)?;
    }
    out.str("\nId: ")?;
    value(&mut out, event.sensor().name.as_str())?;
    out.fmt(format_args!("{}", event.event_id().id))?;
    out.finish()
}
