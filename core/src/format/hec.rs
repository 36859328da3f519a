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
//! or else [`SOURCETYPE_ALERT`] for alerts, [`SOURCETYPE_HEALTH`] for the forwarder's health
//! reports and [`SOURCETYPE_NOTIFICATION`] for other notifications; `index` is [`Options::index`]. A metadata member whose value would be empty
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
//! [`write()`] never panics and never allocates. It writes through [`Out`](crate::format::Out), so a full sink is
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
    Event, MAX_DEVICE_NAME, MAX_EVENT_ID, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT,
    MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION,
};
use crate::format::{AsciiSet, Error, Escaped, Rule};
use crate::format::{
    MAX_IP_TEXT, MAX_MAC_TEXT, MAX_PORT_TEXT, MAX_U64_TEXT, longest_engine_name,
    longest_notification_name, longest_notification_token, longest_severity_name, max,
};
use crate::stack_text::Case;
use crate::time::MAX_RFC3339;

/// Capacity in bytes of each string in [`Options`].
pub const MAX_OPTION_LEN: usize = 64;

/// The default [`Options::source`].
pub const DEFAULT_SOURCE: &str = "icsfwd";
/// The `sourcetype` of an alert unless [`Options::sourcetype`] overrides it.
pub const SOURCETYPE_ALERT: &str = "icsfwd:alert";
/// The `sourcetype` of a system notification unless [`Options::sourcetype`] overrides it.
pub const SOURCETYPE_NOTIFICATION: &str = "icsfwd:notification";
/// The `sourcetype` of the forwarder's health report unless [`Options::sourcetype`] overrides
/// it.
pub const SOURCETYPE_HEALTH: &str = "icsfwd:health";

/// The sourcetype an event gets when [`Options::sourcetype`] is not set.
const fn default_sourcetype(event: &Event) -> &'static str {
    match event {
        Event::Alert(_) => SOURCETYPE_ALERT,
        Event::Notification(n) if n.kind.is_health() => SOURCETYPE_HEALTH,
        Event::Notification(_) => SOURCETYPE_NOTIFICATION,
    }
}

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
    /// The `sourcetype` for every event; `None` (the default) uses [`SOURCETYPE_ALERT`],
    /// [`SOURCETYPE_HEALTH`] or [`SOURCETYPE_NOTIFICATION`] by the event's kind.
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

/// One side's member keys (both writers), each with its leading `,"` and its `":` (and `"` for strings).
pub(super) struct EndpointKeys {
    pub(super) name: &'static str,
    pub(super) ip: &'static str,
    pub(super) mac: &'static str,
    pub(super) port: &'static str,
}

pub(super) const SOURCE: EndpointKeys = EndpointKeys {
    name: string_key!("src_name"),
    ip: string_key!("src_ip"),
    mac: string_key!("src_mac"),
    port: raw_key!("src_port"),
};

pub(super) const DESTINATION: EndpointKeys = EndpointKeys {
    name: string_key!("dest_name"),
    ip: string_key!("dest_ip"),
    mac: string_key!("dest_mac"),
    port: raw_key!("dest_port"),
};

/// Renders `event` as one HEC JSON envelope into `out`, without a trailing newline.
///
/// Returns the number of bytes written, [`Error::BufferFull`] when `out` has no room (a
/// [`SliceWriter`](crate::format::SliceWriter) of [`MAX_LEN`] bytes always has), or
/// [`Error::Io`] when the sink fails otherwise. On error `out` may hold a prefix.
pub fn write<W: Write>(event: &Event, options: &Options, out: &mut W) -> Result<usize, Error> {
    #[cfg(target_os = "none")]
    return compact::write(event, options, out);
    #[cfg(not(target_os = "none"))]
    chunked::write(event, options, out)
}

/// A host renders through a stack chunk, in a few large writes.
#[cfg(not(target_os = "none"))]
mod chunked;

/// Bare metal renders member by member: the chunked writer above is faster but takes about
/// 2 KiB more flash than the firmware's budget has. The host compiles it for its unit tests,
/// which hold it to the golden files and to the chunked writer's output.
#[cfg(any(target_os = "none", test))]
mod compact;

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
