//! The Splunk HTTP Event Collector envelope: one compact JSON object per event.
//!
//! This is what icsfwd POSTs to `/services/collector/event`. The object carries the event time
//! as epoch seconds with exactly three decimals, the `host`, `source`, `sourcetype` and
//! optional `index` metadata, the alert or notification as `event` (plain `snake_case` keys),
//! and a few indexed `fields` for fast `tstats` searches:
//!
//! ```text
//! {"time":1557059334.123,"host":"sensor-plant-a","source":"icsfwd","sourcetype":"icsfwd:alert",
//!  "event":{"id":"sensor-plant-a-1042","alert_id":1042,"time":"2019-05-05T12:28:54.123Z",
//!  "engine":"Operational","severity":"Major","title":"PLC Program Stop",...,"truncated":false},
//!  "fields":{"engine":"Operational","severity":"Major","sensor":"sensor-plant-a","protocol":"S7"}}
//! ```
//!
//! (shown wrapped; the output is one line). There is **no trailing newline**: HEC accepts a
//! batch as envelopes written back to back, so a sender concatenates renderings as they are
//! (or separates them with whitespace, which HEC also accepts).
//!
//! Metadata: `host` is [`Options::host`] or else the sensor name; `source` is
//! [`Options::source`] (default [`DEFAULT_SOURCE`]); `sourcetype` is [`Options::sourcetype`]
//! or else [`SOURCETYPE_ALERT`] for alerts and [`SOURCETYPE_NOTIFICATION`] for
//! notifications; `index` is [`Options::index`]. A metadata member whose value would be empty
//! is left out, so HEC applies the token's default instead of an empty name. In `event`, an
//! endpoint's `*_mac` and `*_port` members are present only when the alert carries them.
//!
//! # Escaping
//!
//! Strings follow RFC 8259: `"` and `\` are backslash-escaped, `\n` `\r` `\t` `\b` `\f` use
//! their short forms, every other control character below U+0020 is `\u00XX`; in addition
//! DEL, the C1 controls U+0080–U+009F and the separators U+2028/U+2029 are written `\u00XX`
//! / `\u2028` / `\u2029` (hex lower case), so the output is safe to embed in JavaScript and
//! holds no raw control character at all. Everything else is copied, so the output is always
//! valid UTF-8 and valid JSON. An escape is at most six times the bytes it replaces
//! (`\u0001`), which bounds [`MAX_LEN`].
//!
//! # Guarantees
//!
//! [`write()`] never panics and never allocates. It writes through [`Out`], so a full sink is
//! reported as [`Error::BufferFull`]; a buffer of [`MAX_LEN`] bytes holds the rendering of
//! any event with any [`Options`].
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::format::{hec, SliceWriter};
//!
//! let mut alert = Alert::new(9, 1_557_059_334_123, Engine::Malware, Severity::Critical);
//! alert.set_title("\"Malicious\"\nActivity");
//! alert.set_sensor_name("sensor-a");
//! let mut options = hec::Options::default();
//! options.index = Some("ot_alerts".try_into().unwrap());
//! let mut buf = [0u8; hec::MAX_LEN];
//! let mut out = SliceWriter::new(&mut buf);
//! let n = hec::write(&Event::from(alert), &options, &mut out)?;
//! let json = core::str::from_utf8(&out.written()[..n]).unwrap();
//! assert!(json.starts_with(
//!     r#"{"time":1557059334.123,"host":"sensor-a","source":"icsfwd","sourcetype":"icsfwd:alert","index":"ot_alerts","event":{"id":"sensor-a-9","alert_id":9,"#
//! ));
//! assert!(json.contains(r#""title":"\"Malicious\"\nActivity""#));
//! assert!(json.ends_with('}'));
//! # Ok::<(), icsfwd_core::format::Error>(())
//! ```

use core::fmt::Display;

use embedded_io::Write;
use heapless::String;

use crate::alert::{
    Alert, Endpoint, Event, MAX_DEVICE_NAME, MAX_EVENT_ID, MAX_GROUP, MAX_MESSAGE,
    MAX_NOTIFICATION_TEXT, MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, Notification,
    Sensor,
};
use crate::format::{Error, Out, display_chunks};
use crate::format::{
    MAX_IP_TEXT, MAX_MAC_TEXT, MAX_PORT_TEXT, MAX_U64_TEXT, longest_engine_name,
    longest_notification_name, longest_notification_token, longest_severity_name, max,
};
use crate::time::{Civil, MAX_RFC3339};

/// Capacity in bytes of each string in [`Options`].
pub const MAX_OPTION_LEN: usize = 64;

/// The default [`Options::source`].
pub const DEFAULT_SOURCE: &str = "icsfwd";
/// The `sourcetype` of an alert unless [`Options::sourcetype`] overrides it.
pub const SOURCETYPE_ALERT: &str = "icsfwd:alert";
/// The `sourcetype` of a system notification unless [`Options::sourcetype`] overrides it.
pub const SOURCETYPE_NOTIFICATION: &str = "icsfwd:notification";

/// The envelope's metadata. Every string is escaped like an event value; an empty one is
/// left out of the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Options {
    /// The `host`; `None` (the default) uses the event's sensor name.
    pub host: Option<String<MAX_OPTION_LEN>>,
    /// The `source`; default [`DEFAULT_SOURCE`].
    pub source: String<MAX_OPTION_LEN>,
    /// The `sourcetype` for every event; `None` (the default) uses [`SOURCETYPE_ALERT`] or
    /// [`SOURCETYPE_NOTIFICATION`] by the event's kind.
    pub sourcetype: Option<String<MAX_OPTION_LEN>>,
    /// The `index`; `None` (the default) leaves it out, so HEC uses the token's default index.
    pub index: Option<String<MAX_OPTION_LEN>>,
}

impl Default for Options {
    fn default() -> Self {
        let mut source = String::new();
        // DEFAULT_SOURCE is shorter than MAX_OPTION_LEN (a unit test checks it).
        crate::alert::fill(&mut source, DEFAULT_SOURCE);
        Options {
            host: None,
            source,
            sourcetype: None,
            index: None,
        }
    }
}

/// The widest escape of one byte: a one-byte control becomes `\u00XX` (6 bytes); a two-byte
/// C1 control also `\u00XX` (3 per byte), U+2028 `\u2028` (2 per byte), `"` and `\` 2 bytes.
const ESCAPE_FACTOR: usize = 6;

/// `,"key":"value"` with a value that escapes to at most `value` bytes. Counting a comma for
/// every member over-counts one byte per object.
const fn string_member(key: &str, value: usize) -> usize {
    ",\"".len() + key.len() + "\":\"".len() + value + "\"".len()
}

/// `,"key":value` for a number or literal of at most `value` bytes.
const fn raw_member(key: &str, value: usize) -> usize {
    ",\"".len() + key.len() + "\":".len() + value
}

/// `,"key":{` ... `}` around members of `members` bytes.
const fn object_member(key: &str, members: usize) -> usize {
    raw_member(key, "{".len() + members + "}".len())
}

/// Epoch seconds of a `u64` of milliseconds: up to 20 digits, a point and 3 decimals.
const MAX_TIME_TEXT: usize = MAX_U64_TEXT + ".".len() + 3;

/// The metadata members, with every option at capacity (the host falls back to the sensor
/// name, which is no longer) and the longer default sourcetype.
const METADATA_LEN: usize = raw_member("time", MAX_TIME_TEXT)
    + string_member("host", ESCAPE_FACTOR * max(MAX_OPTION_LEN, MAX_SENSOR_NAME))
    + string_member("source", ESCAPE_FACTOR * MAX_OPTION_LEN)
    + string_member(
        "sourcetype",
        max(
            ESCAPE_FACTOR * MAX_OPTION_LEN,
            SOURCETYPE_NOTIFICATION.len(),
        ),
    )
    + string_member("index", ESCAPE_FACTOR * MAX_OPTION_LEN);

/// The event id: the sensor name escaped, then `-` and the digits, never escaped.
const EVENT_ID_TEXT: usize = ESCAPE_FACTOR * MAX_SENSOR_NAME + (MAX_EVENT_ID - MAX_SENSOR_NAME);

/// `sensor_name`, `sensor_ip`, `sensor_version` and `truncated`, the end of every `event`.
const SENSOR_MEMBERS: usize = string_member("sensor_name", ESCAPE_FACTOR * MAX_SENSOR_NAME)
    + string_member("sensor_ip", MAX_IP_TEXT)
    + string_member("sensor_version", ESCAPE_FACTOR * MAX_VERSION)
    + raw_member("truncated", "false".len());

/// One endpoint's `<side>_name`, `_ip`, `_mac` and `_port` members; `side` is `src`/`dest`.
const fn endpoint_members(side: &str) -> usize {
    // The key is `<side>_name` etc.: its length goes into the first argument's place.
    string_member(side, "_name".len() + ESCAPE_FACTOR * MAX_DEVICE_NAME)
        + string_member(side, "_ip".len() + MAX_IP_TEXT)
        + string_member(side, "_mac".len() + MAX_MAC_TEXT)
        + raw_member(side, "_port".len() + MAX_PORT_TEXT)
}

const MAX_ALERT_LEN: usize = "{".len()
    + METADATA_LEN
    + object_member(
        "event",
        string_member("id", EVENT_ID_TEXT)
            + raw_member("alert_id", MAX_U64_TEXT)
            + string_member("time", MAX_RFC3339)
            + string_member("engine", longest_engine_name())
            + string_member("severity", longest_severity_name())
            + string_member("title", ESCAPE_FACTOR * MAX_TITLE)
            + string_member("message", ESCAPE_FACTOR * MAX_MESSAGE)
            + string_member("protocol", ESCAPE_FACTOR * MAX_PROTOCOL)
            + string_member("alert_group", ESCAPE_FACTOR * MAX_GROUP)
            + endpoint_members("src")
            + endpoint_members("dest")
            + SENSOR_MEMBERS,
    )
    + object_member(
        "fields",
        string_member("engine", longest_engine_name())
            + string_member("severity", longest_severity_name())
            + string_member("sensor", ESCAPE_FACTOR * MAX_SENSOR_NAME)
            + string_member("protocol", ESCAPE_FACTOR * MAX_PROTOCOL),
    )
    + "}".len();

const MAX_NOTIFICATION_LEN: usize = "{".len()
    + METADATA_LEN
    + object_member(
        "event",
        string_member("id", EVENT_ID_TEXT)
            + raw_member("notification_id", MAX_U64_TEXT)
            + string_member("time", MAX_RFC3339)
            + string_member(
                "kind",
                max(longest_notification_name(), longest_notification_token()),
            )
            + string_member(
                "title",
                max(longest_notification_name(), longest_notification_token()),
            )
            + string_member("severity", longest_severity_name())
            + string_member("text", ESCAPE_FACTOR * MAX_NOTIFICATION_TEXT)
            + SENSOR_MEMBERS,
    )
    + object_member(
        "fields",
        string_member(
            "kind",
            max(longest_notification_name(), longest_notification_token()),
        ) + string_member("severity", longest_severity_name())
            + string_member("sensor", ESCAPE_FACTOR * MAX_SENSOR_NAME),
    )
    + "}".len();

/// An upper bound on the bytes [`write()`] produces for any event and any [`Options`]: every
/// member present, each escaped string at its [`MAX_OPTION_LEN`]/`alert::MAX_*` capacity
/// times the widest escape (6), numbers and addresses at their longest text.
/// It comes to 18 229 bytes; the widest alert (every text and option at capacity, all
/// one-byte controls) renders 18 186: the 43 bytes of slack are the allowances for wider
/// addresses, longer times, the longest engine and severity names, and one comma per object.
pub const MAX_LEN: usize = max(MAX_ALERT_LEN, MAX_NOTIFICATION_LEN);

/// Renders `event` as one HEC JSON envelope into `out`, without a trailing newline.
///
/// Returns the number of bytes written, [`Error::BufferFull`] when `out` has no room (a
/// [`SliceWriter`](crate::format::SliceWriter) of [`MAX_LEN`] bytes always has), or
/// [`Error::Io`] when the sink fails otherwise. On error `out` may hold a prefix.
pub fn write<W: Write>(event: &Event, options: &Options, out: &mut W) -> Result<usize, Error> {
    let mut out = Out::new(out);
    let ms = event.time_ms();
    out.fmt(format_args!("{{\"time\":{}.{:03}", ms / 1000, ms % 1000))?;
    let host = match &options.host {
        Some(host) => host.as_str(),
        None => event.sensor().name.as_str(),
    };
    optional_string(&mut out, "host", host)?;
    optional_string(&mut out, "source", &options.source)?;
    let sourcetype = match (&options.sourcetype, event) {
        (Some(sourcetype), _) => sourcetype.as_str(),
        (None, Event::Alert(_)) => SOURCETYPE_ALERT,
        (None, Event::Notification(_)) => SOURCETYPE_NOTIFICATION,
    };
    optional_string(&mut out, "sourcetype", sourcetype)?;
    if let Some(index) = &options.index {
        optional_string(&mut out, "index", index)?;
    }
    out.str(",\"event\":{\"id\":\"")?;
    display_chunks(&event.event_id(), &mut |chunk| escape(&mut out, chunk))?;
    out.str("\"")?;
    match event {
        Event::Alert(alert) => write_alert(alert, &mut out)?,
        Event::Notification(notification) => write_notification(notification, &mut out)?,
    }
    // Closes `fields` and the envelope.
    out.str("}}")?;
    out.finish()
}

fn write_alert<W: Write>(alert: &Alert, out: &mut Out<'_, W>) -> Result<(), Error> {
    raw(out, "alert_id", &alert.id)?;
    raw(
        out,
        "time",
        &Quoted(Civil::from_epoch_ms(alert.time_ms).rfc3339()),
    )?;
    string(out, "engine", alert.engine.as_str())?;
    string(out, "severity", alert.severity.as_str())?;
    string(out, "title", &alert.title)?;
    string(out, "message", &alert.message)?;
    string(out, "protocol", &alert.protocol)?;
    string(out, "alert_group", &alert.group)?;
    endpoint(out, "src", &alert.source)?;
    endpoint(out, "dest", &alert.destination)?;
    sensor(out, &alert.sensor, alert.truncated)?;
    out.str("},\"fields\":{")?;
    first_string(out, "engine", alert.engine.as_str())?;
    string(out, "severity", alert.severity.as_str())?;
    string(out, "sensor", &alert.sensor.name)?;
    string(out, "protocol", &alert.protocol)
}

fn write_notification<W: Write>(
    notification: &Notification,
    out: &mut Out<'_, W>,
) -> Result<(), Error> {
    let kind = notification.kind;
    raw(out, "notification_id", &notification.id)?;
    raw(
        out,
        "time",
        &Quoted(Civil::from_epoch_ms(notification.time_ms).rfc3339()),
    )?;
    string(out, "kind", kind.token())?;
    string(out, "title", kind.as_str())?;
    string(out, "severity", kind.severity().as_str())?;
    string(out, "text", &notification.text)?;
    sensor(out, &notification.sensor, notification.truncated)?;
    out.str("},\"fields\":{")?;
    first_string(out, "kind", kind.token())?;
    string(out, "severity", kind.severity().as_str())?;
    string(out, "sensor", &notification.sensor.name)
}

fn endpoint<W: Write>(out: &mut Out<'_, W>, side: &str, endpoint: &Endpoint) -> Result<(), Error> {
    out.fmt(format_args!(",\"{side}_name\":\""))?;
    escape(out, &endpoint.name)?;
    out.fmt(format_args!("\",\"{side}_ip\":\"{}\"", endpoint.ip))?;
    if let Some(mac) = endpoint.mac {
        out.fmt(format_args!(",\"{side}_mac\":\"{mac}\""))?;
    }
    if let Some(port) = endpoint.port {
        out.fmt(format_args!(",\"{side}_port\":{port}"))?;
    }
    Ok(())
}

fn sensor<W: Write>(out: &mut Out<'_, W>, sensor: &Sensor, truncated: bool) -> Result<(), Error> {
    string(out, "sensor_name", &sensor.name)?;
    raw(out, "sensor_ip", &Quoted(sensor.ip))?;
    string(out, "sensor_version", &sensor.version)?;
    raw(out, "truncated", &truncated)
}

/// Renders an address or time, whose text never needs escaping, as a JSON string.
struct Quoted<T>(T);

impl<T: Display> Display for Quoted<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

/// `,"key":value` for a number, boolean or [`Quoted`] value.
fn raw<W: Write>(out: &mut Out<'_, W>, key: &str, value: &dyn Display) -> Result<(), Error> {
    out.fmt(format_args!(",\"{key}\":{value}"))
}

/// `,"key":"value"` with the value escaped.
fn string<W: Write>(out: &mut Out<'_, W>, key: &str, value: &str) -> Result<(), Error> {
    out.str(",")?;
    first_string(out, key, value)
}

/// `"key":"value"` with the value escaped: the first member of an object.
fn first_string<W: Write>(out: &mut Out<'_, W>, key: &str, value: &str) -> Result<(), Error> {
    out.str("\"")?;
    out.str(key)?;
    out.str("\":\"")?;
    escape(out, value)?;
    out.str("\"")
}

/// A metadata member, left out when its value is empty.
fn optional_string<W: Write>(out: &mut Out<'_, W>, key: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Ok(());
    }
    string(out, key, value)
}

/// Whether `c` is written as an escape rather than as itself.
const fn needs_escape(c: char) -> bool {
    matches!(c, '"' | '\\' | '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}')
}

const fn hex_digit(nibble: u32) -> u8 {
    let nibble = (nibble & 0xf) as u8;
    if nibble < 10 {
        b'0' + nibble
    } else {
        b'a' + nibble - 10
    }
}

/// Writes the inside of a JSON string: runs of plain characters in one piece, each other
/// character as its escape.
fn escape<W: Write>(out: &mut Out<'_, W>, value: &str) -> Result<(), Error> {
    // Every piece but possibly the last ends with a character that needs escaping.
    for piece in value.split_inclusive(needs_escape) {
        let mut chars = piece.chars();
        match chars.next_back() {
            Some(c) if needs_escape(c) => {
                out.str(chars.as_str())?;
                escape_char(out, c)?;
            }
            _ => out.str(piece)?,
        }
    }
    Ok(())
}

fn escape_char<W: Write>(out: &mut Out<'_, W>, c: char) -> Result<(), Error> {
    let code = u32::from(c);
    match c {
        '"' => out.str("\\\""),
        '\\' => out.str("\\\\"),
        '\n' => out.str("\\n"),
        '\r' => out.str("\\r"),
        '\t' => out.str("\\t"),
        '\u{8}' => out.str("\\b"),
        '\u{c}' => out.str("\\f"),
        _ => out.bytes(&[
            b'\\',
            b'u',
            hex_digit(code >> 12),
            hex_digit(code >> 8),
            hex_digit(code >> 4),
            hex_digit(code),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_source_fits_its_capacity() {
        assert_eq!(Options::default().source, DEFAULT_SOURCE);
        assert!(SOURCETYPE_NOTIFICATION.len() <= MAX_OPTION_LEN);
    }

    #[test]
    fn only_documented_characters_need_escaping() {
        for c in [
            'a', ' ', '/', '\'', '<', 'é', '\u{a0}', '\u{2027}', '\u{202a}',
        ] {
            assert!(!needs_escape(c), "{c:?}");
        }
        for c in [
            '"', '\\', '\0', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{2029}',
        ] {
            assert!(needs_escape(c), "{c:?}");
        }
    }
}
