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

use embedded_io::Write;
use heapless::String;

use crate::alert::{
    Alert, Endpoint, Event, MAX_DEVICE_NAME, MAX_EVENT_ID, MAX_GROUP, MAX_MESSAGE,
    MAX_NOTIFICATION_TEXT, MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, Notification,
    Sensor,
};
use crate::format::{AsciiSet, Case, Error, Escaped, Out, Rule, SHORT_VALUE, StackText, escape};
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

/// `,"<name>":"`: the start of a string member after another member.
macro_rules! string_key {
    ($name:literal) => {
        concat!(",\"", $name, "\":\"")
    };
}

/// `,"<name>":`: the start of a number or literal member after another member.
macro_rules! raw_key {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}

/// Renders `event` as one HEC JSON envelope into `out`, without a trailing newline.
///
/// Returns the number of bytes written, [`Error::BufferFull`] when `out` has no room (a
/// [`SliceWriter`](crate::format::SliceWriter) of [`MAX_LEN`] bytes always has), or
/// [`Error::Io`] when the sink fails otherwise. On error `out` may hold a prefix.
pub fn write<W: Write>(event: &Event, options: &Options, out: &mut W) -> Result<usize, Error> {
    let mut out = Out::new(out);
    let mut w = Members {
        out: &mut out,
        chunk: Chunk::new(),
    };
    let ms = event.time_ms();
    w.chunk.push_literal("{\"time\":");
    w.chunk.push_decimal(ms / 1000, 1);
    w.chunk.push(b'.');
    w.chunk.push_decimal(ms % 1000, 3);
    let host = match &options.host {
        Some(host) => host.as_str(),
        None => event.sensor().name.as_str(),
    };
    if !host.is_empty() {
        w.chunk.push_literal(string_key!("host"));
        w.string(host)?;
    }
    if !options.source.is_empty() {
        w.chunk.push_literal(string_key!("source"));
        w.string(&options.source)?;
    }
    let sourcetype = match (&options.sourcetype, event) {
        (Some(sourcetype), _) => sourcetype.as_str(),
        (None, Event::Alert(_)) => SOURCETYPE_ALERT,
        (None, Event::Notification(_)) => SOURCETYPE_NOTIFICATION,
    };
    if !sourcetype.is_empty() {
        w.chunk.push_literal(string_key!("sourcetype"));
        w.string(sourcetype)?;
    }
    if let Some(index) = options.index.as_ref().filter(|index| !index.is_empty()) {
        w.chunk.push_literal(string_key!("index"));
        w.string(index)?;
    }
    // The event id: the sensor name escaped, then `-` and the digits (see `format::event_id`).
    w.chunk.push_literal(",\"event\":{\"id\":\"");
    let id = event.event_id();
    w.escaped(id.sensor)?;
    w.chunk.push(b'-');
    w.chunk.push_decimal(id.id, 1);
    match event {
        Event::Alert(alert) => write_alert(alert, &mut w)?,
        Event::Notification(notification) => write_notification(notification, &mut w)?,
    }
    // Closes `fields` and the envelope.
    w.chunk.push_literal("}}");
    w.flush()?;
    out.finish()
}

/// The longest unescaped run [`write()`] assembles in its [`Chunk`]: an alert's or a
/// notification's id digits to its `title` key (two numbers, the time and two names), which
/// is longer than an endpoint's (`"`, its address, MAC and port members, the next key) or the
/// sensor's end (`"`, `truncated`, the `fields` key, two names).
const CHUNK_LEN: usize = "\"-".len()
    + MAX_U64_TEXT
    + raw_member("notification_id", MAX_U64_TEXT)
    + string_member("time", MAX_RFC3339)
    + string_member(
        "kind",
        max(
            longest_engine_name(),
            max(longest_notification_name(), longest_notification_token()),
        ),
    )
    + string_member(
        "title",
        max(longest_notification_name(), longest_notification_token()),
    )
    + string_member("severity", longest_severity_name())
    + string_member("message", 0);

/// Room in the chunk for short clean values ([`Members::escaped`]), beyond [`CHUNK_LEN`].
const INLINE_ROOM: usize = 160;

/// The unescaped text between two escaped strings, assembled in one piece.
type Chunk = StackText<{ CHUNK_LEN + INLINE_ROOM }>;

const _: () = assert!(
    CHUNK_LEN
        >= "\"".len()
            + string_member("dest_ip", MAX_IP_TEXT)
            + string_member("dest_mac", MAX_MAC_TEXT)
            + raw_member("dest_port", MAX_PORT_TEXT)
            + string_member("sensor_name", 0)
);

/// The envelope being written: the members between escaped strings (keys, punctuation,
/// numbers, times and addresses, which need no escaping) gather in `chunk` and reach the
/// sink in one write before the next escaped string, so an alert takes about 30 writes, not
/// 80.
struct Members<'a, 'w, W: Write> {
    out: &'a mut Out<'w, W>,
    chunk: Chunk,
}

impl<W: Write> Members<'_, '_, W> {
    /// Writes and empties the chunk.
    fn flush(&mut self) -> Result<(), Error> {
        let result = self.out.bytes(self.chunk.as_bytes());
        self.chunk.clear();
        result
    }

    /// Writes the chunk, then `value` escaped; or, for a short value that needs no escaping
    /// while the chunk has room, appends it to the chunk.
    ///
    /// The room check keeps the chunk at most `INLINE_ROOM` long after this call, so the run
    /// of at most [`CHUNK_LEN`] bytes that follows always fits.
    fn escaped(&mut self, value: &str) -> Result<(), Error> {
        let bytes = value.as_bytes();
        if self.chunk.len() + SHORT_VALUE <= INLINE_ROOM && STRING.ascii.short_is_clean(bytes) {
            self.chunk.push_literal_bytes(bytes);
            return Ok(());
        }
        self.flush()?;
        escape(self.out, value, STRING)
    }

    /// Writes the chunk (which ends with a string member's key and opening quote), `value`
    /// escaped, and starts the next chunk with the closing quote.
    #[inline]
    fn string(&mut self, value: &str) -> Result<(), Error> {
        self.escaped(value)?;
        self.chunk.push(b'"');
        Ok(())
    }

    /// Appends a name that needs no escaping (an engine, severity or notification name; a
    /// unit test proves it) and its closing quote.
    #[inline]
    fn name(&mut self, name: &str) {
        self.chunk.push_literal(name);
        self.chunk.push(b'"');
    }

    /// Appends the time member as an RFC 3339 string, with its key and quotes.
    fn time(&mut self, time_ms: u64) {
        self.chunk.push_literal(string_key!("time"));
        self.chunk.push_rfc3339(Civil::from_epoch_ms(time_ms));
        self.chunk.push(b'"');
    }
}

fn write_alert<W: Write>(alert: &Alert, w: &mut Members<'_, '_, W>) -> Result<(), Error> {
    w.chunk.push_literal(concat!("\"", raw_key!("alert_id")));
    w.chunk.push_decimal(alert.id, 1);
    w.time(alert.time_ms);
    w.chunk.push_literal(string_key!("engine"));
    w.name(alert.engine.as_str());
    w.chunk.push_literal(string_key!("severity"));
    w.name(alert.severity.as_str());
    w.chunk.push_literal(string_key!("title"));
    w.string(&alert.title)?;
    w.chunk.push_literal(string_key!("message"));
    w.string(&alert.message)?;
    w.chunk.push_literal(string_key!("protocol"));
    w.string(&alert.protocol)?;
    w.chunk.push_literal(string_key!("alert_group"));
    w.string(&alert.group)?;
    endpoint(w, &SOURCE, &alert.source)?;
    endpoint(w, &DESTINATION, &alert.destination)?;
    sensor(w, &alert.sensor, alert.truncated)?;
    w.chunk.push_literal("},\"fields\":{\"engine\":\"");
    w.name(alert.engine.as_str());
    w.chunk.push_literal(string_key!("severity"));
    w.name(alert.severity.as_str());
    w.chunk.push_literal(string_key!("sensor"));
    w.string(&alert.sensor.name)?;
    w.chunk.push_literal(string_key!("protocol"));
    w.string(&alert.protocol)
}

fn write_notification<W: Write>(
    notification: &Notification,
    w: &mut Members<'_, '_, W>,
) -> Result<(), Error> {
    let kind = notification.kind;
    w.chunk
        .push_literal(concat!("\"", raw_key!("notification_id")));
    w.chunk.push_decimal(notification.id, 1);
    w.time(notification.time_ms);
    w.chunk.push_literal(string_key!("kind"));
    w.name(kind.token());
    w.chunk.push_literal(string_key!("title"));
    w.name(kind.as_str());
    w.chunk.push_literal(string_key!("severity"));
    w.name(kind.severity().as_str());
    w.chunk.push_literal(string_key!("text"));
    w.string(&notification.text)?;
    sensor(w, &notification.sensor, notification.truncated)?;
    w.chunk.push_literal("},\"fields\":{\"kind\":\"");
    w.name(kind.token());
    w.chunk.push_literal(string_key!("severity"));
    w.name(kind.severity().as_str());
    w.chunk.push_literal(string_key!("sensor"));
    w.string(&notification.sensor.name)
}

/// One side's member keys, each with its leading `,"` and its `":` (and `"` for strings).
struct EndpointKeys {
    name: &'static str,
    ip: &'static str,
    mac: &'static str,
    port: &'static str,
}

const SOURCE: EndpointKeys = EndpointKeys {
    name: string_key!("src_name"),
    ip: string_key!("src_ip"),
    mac: string_key!("src_mac"),
    port: raw_key!("src_port"),
};

const DESTINATION: EndpointKeys = EndpointKeys {
    name: string_key!("dest_name"),
    ip: string_key!("dest_ip"),
    mac: string_key!("dest_mac"),
    port: raw_key!("dest_port"),
};

fn endpoint<W: Write>(
    w: &mut Members<'_, '_, W>,
    keys: &EndpointKeys,
    endpoint: &Endpoint,
) -> Result<(), Error> {
    w.chunk.push_literal(keys.name);
    w.string(&endpoint.name)?;
    w.chunk.push_literal(keys.ip);
    w.chunk.push_ip(endpoint.ip);
    w.chunk.push(b'"');
    if let Some(mac) = endpoint.mac {
        w.chunk.push_literal(keys.mac);
        w.chunk.push_mac(mac);
        w.chunk.push(b'"');
    }
    if let Some(port) = endpoint.port {
        w.chunk.push_literal(keys.port);
        w.chunk.push_decimal(u64::from(port), 1);
    }
    Ok(())
}

fn sensor<W: Write>(
    w: &mut Members<'_, '_, W>,
    sensor: &Sensor,
    truncated: bool,
) -> Result<(), Error> {
    w.chunk.push_literal(string_key!("sensor_name"));
    w.string(&sensor.name)?;
    w.chunk.push_literal(string_key!("sensor_ip"));
    w.chunk.push_ip(sensor.ip);
    w.chunk.push(b'"');
    w.chunk.push_literal(string_key!("sensor_version"));
    w.string(&sensor.version)?;
    w.chunk.push_literal(if truncated {
        concat!(raw_key!("truncated"), "true")
    } else {
        concat!(raw_key!("truncated"), "false")
    });
    Ok(())
}

/// The inside of a JSON string (see the module docs).
pub(crate) const STRING: Rule = Rule {
    ascii: AsciiSet::controls_and(b"\"\\"),
    escape: |c| match c {
        '"' => Escaped::of("\\\""),
        '\\' => Escaped::of("\\\\"),
        '\n' => Escaped::of("\\n"),
        '\r' => Escaped::of("\\r"),
        '\t' => Escaped::of("\\t"),
        '\u{8}' => Escaped::of("\\b"),
        '\u{c}' => Escaped::of("\\f"),
        _ => Escaped::hex("\\u", u32::from(c), 4, Case::Lower, ""),
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_source_fits_its_capacity() {
        assert_eq!(Options::default().source, DEFAULT_SOURCE);
        assert!(SOURCETYPE_NOTIFICATION.len() <= MAX_OPTION_LEN);
    }

    #[test]
    fn names_written_unescaped_need_no_escaping() {
        use crate::alert::{Engine, NotificationKind, Severity};
        let names = Engine::ALL
            .iter()
            .map(|e| e.as_str())
            .chain(Severity::ALL.iter().map(|s| s.as_str()))
            .chain(NotificationKind::ALL.iter().map(|k| k.as_str()))
            .chain(NotificationKind::ALL.iter().map(|k| k.token()));
        for name in names {
            assert!(!name.chars().any(|c| STRING.is_special(c)), "{name:?}");
        }
    }

    #[test]
    fn only_documented_characters_need_escaping() {
        for c in [
            'a', ' ', '/', '\'', '<', 'é', '\u{a0}', '\u{2027}', '\u{202a}',
        ] {
            assert!(!STRING.is_special(c), "{c:?}");
        }
        for c in [
            '"', '\\', '\0', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{2029}',
        ] {
            assert!(STRING.is_special(c), "{c:?}");
        }
    }
}
