//! The classic Splunk event: a timestamped first line, then one `Key: value` line per field.
//!
//! This is the body icsfwd POSTs to splunkd's `receivers/simple` endpoint (and the default
//! payload for syslog). Splunk's default line breaking and timestamp extraction take the first
//! line's RFC 3339 time, and the `Key: value` lines are extracted by the icsfwd app.
//!
//! ```text
//! 2019-05-05T12:28:54.123Z icsfwd Alert: PLC Program Stop
//! Type: Operational
//! Severity: Major
//! Source name: HMI-07
//! Source IP: 10.20.1.7
//! Source MAC: 00:1b:1b:aa:0f:9e
//! Source port: 49152
//! Destination name: PLC-Line3
//! ...
//! Alert ID: sensor-plant-a-1042
//! ```
//!
//! For an alert the lines are, in this order: `Type` (engine display name), `Severity`,
//! `Source name`, `Source IP`, `Source MAC`†, `Source port`†, `Destination name`,
//! `Destination IP`, `Destination MAC`†, `Destination port`†, `Protocol`, `Alert group`,
//! `Message`, `Sensor`, `Sensor IP`, `Alert ID` (the stable event id `<sensor>-<id>`) and
//! `Truncated: yes`‡. For a notification the first line reads `Notification: <kind name>`
//! and the lines are `Type: System notification`, `Severity`, `Message` (the notification
//! text), `Sensor`, `Sensor IP`, `Alert ID` and `Truncated: yes`‡. (†: only when the alert
//! carries it; ‡: only when a field was cut to its capacity.) Every line, the last included,
//! ends with `\n`; an empty value leaves nothing after `": "`.
//!
//! # Escaping
//!
//! Every text value (and the configured label) is written on one line: `\` becomes `\\`, CR
//! `\r`, LF `\n`, TAB `\t`, every other C0 control and DEL `\xHH`, and the C1 controls
//! U+0080–U+009F and the separators U+2028/U+2029 `\u{HHHH}` (hex digits lower case, always
//! four). Nothing else is changed, so a value can neither end its line, start a forged
//! `Key: value` line, nor forge another event; the escaping is reversible. An escape is at
//! most four times the bytes it replaces, which bounds [`MAX_LEN`].
//!
//! # Guarantees
//!
//! [`write()`] never panics and never allocates. It writes through [`Out`], so a full sink is
//! reported as [`Error::BufferFull`]; a buffer of [`MAX_LEN`] bytes holds the rendering of
//! any event with any [`Options`].
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::format::{text, SliceWriter};
//!
//! let mut alert = Alert::new(9, 1_557_059_334_123, Engine::Malware, Severity::Critical);
//! alert.set_title("Suspicion of Malicious Activity");
//! alert.set_message("line one\nKey: forged");
//! alert.set_sensor_name("sensor-a");
//! let mut buf = [0u8; text::MAX_LEN];
//! let mut out = SliceWriter::new(&mut buf);
//! let n = text::write(&Event::from(alert), &text::Options::default(), &mut out)?;
//! let rendered = core::str::from_utf8(&out.written()[..n]).unwrap();
//! assert!(rendered.starts_with(
//!     "2019-05-05T12:28:54.123Z icsfwd Alert: Suspicion of Malicious Activity\nType: Malware\n"
//! ));
//! assert!(rendered.contains("\nMessage: line one\\nKey: forged\n"));
//! assert!(rendered.ends_with("\nAlert ID: sensor-a-9\n"));
//! # Ok::<(), icsfwd_core::format::Error>(())
//! ```

use embedded_io::Write;
use heapless::String;

use crate::alert::{
    Alert, Endpoint, Event, MAX_DEVICE_NAME, MAX_EVENT_ID, MAX_GROUP, MAX_MESSAGE,
    MAX_NOTIFICATION_TEXT, MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, Notification,
};
use crate::format::{
    AsciiSet, Error, Escaped, MAX_IP_TEXT, MAX_MAC_TEXT, MAX_PORT_TEXT, Out, Rule, escape,
    event_id, longest_engine_name, longest_notification_name, longest_notification_token,
    longest_severity_name, max,
};
use crate::stack_text::Case;
use crate::time::{Civil, MAX_RFC3339};

/// Capacity in bytes of [`Options::label`].
pub const MAX_LABEL: usize = 64;

/// The default [`Options::label`].
pub const DEFAULT_LABEL: &str = "icsfwd";

/// How the text format is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Options {
    /// The word between the time and `Alert:` on the first line; default [`DEFAULT_LABEL`].
    /// Escaped like every value; an empty label leaves two spaces.
    pub label: String<MAX_LABEL>,
}

impl Default for Options {
    fn default() -> Self {
        let mut label = String::new();
        // DEFAULT_LABEL is shorter than MAX_LABEL (a unit test checks it), so nothing is cut.
        crate::alert::fill(&mut label, DEFAULT_LABEL);
        Options { label }
    }
}

/// The widest escape of one byte: a one-byte control becomes `\xHH` (4 bytes), a two-byte C1
/// control `\u{HHHH}` (8 bytes), a three-byte U+2028 also 8 bytes, `\` becomes `\\`.
const ESCAPE_FACTOR: usize = 4;

/// One `Key: value\n` line whose value renders to at most `value` bytes.
const fn line(key: &str, value: usize) -> usize {
    key.len() + ": ".len() + value + "\n".len()
}

/// The first line: time, label, the word `Alert` or `Notification`, and the title.
const fn first_line(word: &str, title: usize) -> usize {
    MAX_RFC3339
        + " ".len()
        + ESCAPE_FACTOR * MAX_LABEL
        + " ".len()
        + word.len()
        + ": ".len()
        + title
        + "\n".len()
}

/// Source or destination: name, IP, MAC and port lines.
const fn endpoint_lines(side: &str) -> usize {
    // `side` is `Source` or `Destination`; each key is `<side> name` etc.
    line(side, " name".len() + ESCAPE_FACTOR * MAX_DEVICE_NAME)
        + line(side, " IP".len() + MAX_IP_TEXT)
        + line(side, " MAC".len() + MAX_MAC_TEXT)
        + line(side, " port".len() + MAX_PORT_TEXT)
}

/// The lines every event ends with: sensor, sensor IP, event id, truncation.
const SENSOR_AND_ID_LINES: usize = line("Sensor", ESCAPE_FACTOR * MAX_SENSOR_NAME)
    + line("Sensor IP", MAX_IP_TEXT)
    // The event id's sensor name is escaped; the `-` and the digits never are.
    + line("Alert ID", ESCAPE_FACTOR * MAX_SENSOR_NAME + (MAX_EVENT_ID - MAX_SENSOR_NAME))
    + line("Truncated", "yes".len());

const MAX_ALERT_LEN: usize = first_line("Alert", ESCAPE_FACTOR * MAX_TITLE)
    + line("Type", longest_engine_name())
    + line("Severity", longest_severity_name())
    + endpoint_lines("Source")
    + endpoint_lines("Destination")
    + line("Protocol", ESCAPE_FACTOR * MAX_PROTOCOL)
    + line("Alert group", ESCAPE_FACTOR * MAX_GROUP)
    + line("Message", ESCAPE_FACTOR * MAX_MESSAGE)
    + SENSOR_AND_ID_LINES;

const MAX_NOTIFICATION_LEN: usize = first_line(
    "Notification",
    max(longest_notification_name(), longest_notification_token()),
) + line("Type", NOTIFICATION_TYPE.len())
    + line("Severity", longest_severity_name())
    + line("Message", ESCAPE_FACTOR * MAX_NOTIFICATION_TEXT)
    + SENSOR_AND_ID_LINES;

/// An upper bound on the bytes [`write()`] produces for any event and any [`Options`]: every
/// line at its longest, each escaped value at [`MAX_LABEL`]/`alert::MAX_*` capacity times the
/// widest escape (4), addresses at their longest text, and the optional lines present.
/// It comes to 10 870 bytes; the widest alert (every text and the label at capacity, all
/// one-byte controls) renders 10 838: the 32 bytes of slack are the allowances for wider
/// addresses, a longer year, and the longest engine and severity names.
pub const MAX_LEN: usize = max(MAX_ALERT_LEN, MAX_NOTIFICATION_LEN);

/// The `Type` of a notification.
const NOTIFICATION_TYPE: &str = "System notification";

/// Renders `event` as a classic Splunk text event into `out`.
///
/// Returns the number of bytes written, [`Error::BufferFull`] when `out` has no room (a
/// [`SliceWriter`](crate::format::SliceWriter) of [`MAX_LEN`] bytes always has), or
/// [`Error::Io`] when the sink fails otherwise. On error `out` may hold a prefix.
pub fn write<W: Write>(event: &Event, options: &Options, out: &mut W) -> Result<usize, Error> {
    // Each line's `\n` goes out with the next line's key (`"\nType: "`), so a line costs one
    // constant write besides its value; the last line's `\n` is written at the end.
    let mut out = Out::new(out);
    match event {
        Event::Alert(alert) => write_alert(alert, options, &mut out)?,
        Event::Notification(notification) => {
            write_notification(notification, options, &mut out)?;
        }
    }
    write_tail(event, &mut out)?;
    out.finish()
}

fn write_alert<W: Write>(
    alert: &Alert,
    options: &Options,
    out: &mut Out<'_, W>,
) -> Result<(), Error> {
    first(out, alert.time_ms, options, " Alert: ", &alert.title)?;
    field(out, "\nType: ", alert.engine.as_str())?;
    field(out, "\nSeverity: ", alert.severity.as_str())?;
    endpoint(out, &SOURCE, &alert.source)?;
    endpoint(out, &DESTINATION, &alert.destination)?;
    field(out, "\nProtocol: ", &alert.protocol)?;
    field(out, "\nAlert group: ", &alert.group)?;
    field(out, "\nMessage: ", &alert.message)
}

fn write_notification<W: Write>(
    notification: &Notification,
    options: &Options,
    out: &mut Out<'_, W>,
) -> Result<(), Error> {
    let kind = notification.kind;
    first(
        out,
        notification.time_ms,
        options,
        " Notification: ",
        kind.as_str(),
    )?;
    field(out, "\nType: ", NOTIFICATION_TYPE)?;
    field(out, "\nSeverity: ", kind.severity().as_str())?;
    field(out, "\nMessage: ", &notification.text)
}

/// Sensor, sensor IP, event id and the truncation mark, shared by alerts and notifications,
/// and the last line's `\n`.
fn write_tail<W: Write>(event: &Event, out: &mut Out<'_, W>) -> Result<(), Error> {
    let sensor = event.sensor();
    field(out, "\nSensor: ", &sensor.name)?;
    out.str("\nSensor IP: ")?;
    out.ip(sensor.ip)?;
    out.str("\nAlert ID: ")?;
    event_id(out, event, VALUE)?;
    if event.truncated() {
        out.str("\nTruncated: yes\n")
    } else {
        out.str("\n")
    }
}

/// The first line without its `\n`; `word` is `" Alert: "` or `" Notification: "`.
fn first<W: Write>(
    out: &mut Out<'_, W>,
    time_ms: u64,
    options: &Options,
    word: &str,
    title: &str,
) -> Result<(), Error> {
    out.rfc3339(Civil::from_epoch_ms(time_ms))?;
    out.str(" ")?;
    escape(out, &options.label, VALUE)?;
    out.str(word)?;
    escape(out, title, VALUE)
}

/// The keys of one side's lines, each with the previous line's `\n` and its `": "`.
struct EndpointKeys {
    name: &'static str,
    ip: &'static str,
    mac: &'static str,
    port: &'static str,
}

const SOURCE: EndpointKeys = EndpointKeys {
    name: "\nSource name: ",
    ip: "\nSource IP: ",
    mac: "\nSource MAC: ",
    port: "\nSource port: ",
};

const DESTINATION: EndpointKeys = EndpointKeys {
    name: "\nDestination name: ",
    ip: "\nDestination IP: ",
    mac: "\nDestination MAC: ",
    port: "\nDestination port: ",
};

fn endpoint<W: Write>(
    out: &mut Out<'_, W>,
    keys: &EndpointKeys,
    endpoint: &Endpoint,
) -> Result<(), Error> {
    field(out, keys.name, &endpoint.name)?;
    out.str(keys.ip)?;
    out.ip(endpoint.ip)?;
    if let Some(mac) = endpoint.mac {
        out.str(keys.mac)?;
        out.mac(mac)?;
    }
    if let Some(port) = endpoint.port {
        out.str(keys.port)?;
        out.decimal(u64::from(port))?;
    }
    Ok(())
}

/// A `\nKey: value` piece (the previous line's end and this line) with an escaped value;
/// `key` carries the `\n` and the `": "`.
fn field<W: Write>(out: &mut Out<'_, W>, key: &str, value: &str) -> Result<(), Error> {
    out.str(key)?;
    escape(out, value, VALUE)
}

/// The escaping of every text value (see the module docs).
pub(crate) const VALUE: Rule = Rule {
    ascii: AsciiSet::controls_and(b"\\"),
    escape: |c| match c {
        '\\' => Escaped::of("\\\\"),
        '\r' => Escaped::of("\\r"),
        '\n' => Escaped::of("\\n"),
        '\t' => Escaped::of("\\t"),
        '\u{0}'..='\u{7f}' => Escaped::hex("\\x", u32::from(c), 2, Case::Lower, ""),
        _ => Escaped::hex("\\u{", u32::from(c), 4, Case::Lower, "}"),
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_label_fits_its_capacity() {
        assert_eq!(Options::default().label, DEFAULT_LABEL);
    }

    #[test]
    fn only_documented_characters_need_escaping() {
        for c in [
            'a', ' ', ':', '|', '=', '"', 'é', '\u{a0}', '\u{2027}', '\u{202a}',
        ] {
            assert!(!VALUE.is_special(c), "{c:?}");
        }
        for c in [
            '\\', '\0', '\n', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{2028}',
        ] {
            assert!(VALUE.is_special(c), "{c:?}");
        }
    }
}
