//! The ingest line schema: JSON lines in, core events out, one answer line back.
//!
//! A producer sends one JSON object per line (UTF-8, LF-terminated, at most
//! `[ingest] max_line_bytes` bytes without the LF). `"type"` says what the line is: `"alert"`, `"notification"` or
//! `"heartbeat"`. [`decode_line`] validates every field and builds the core
//! [`Event`] (or a [`Heartbeat`]); anything it cannot take exactly is
//! a [`Refusal`] naming the field path (`source.ip`), what was wrong and what is allowed.
//! [`encode_line`] is the inverse: `decode_line(encode_line(e))` gives back `e` exactly. Each line
//! is answered by one [`Answer`] line. `docs/ingest.md` is the full description, and
//! `docs/ingest.schema.json` the JSON Schema of the three line types.
//!
//! Choices (the ingest schema is icsfwd's own; these are decided here):
//! - A string longer than its core capacity (`MAX_TITLE`, `MAX_MESSAGE`, ...) is cut on a UTF-8
//!   boundary and the event is flagged `truncated`, as core does everywhere; the decoder lists
//!   the cut fields ([`Decoded::truncated`]) so the accepted answer names them and the service
//!   counts them. An alert is evidence: losing it for a long message would be worse than
//!   shortening the message visibly.
//! - [`MAX_LINE`] is 16 KiB: the longest line [`encode_line`] can produce for any core event
//!   (every string at capacity and every byte escaped as `\u00XX`) fits. The ingest server
//!   takes longer lines up to `[ingest] max_line_bytes` (default 64 KiB, at most 1 MiB,
//!   [`decode_line_within`]): a producer's own encoder may pad or escape more, and strings
//!   past a capacity are cut and flagged, not refused. The bound keeps a hostile producer
//!   from making the service buffer more.
//! - Time is `"time"` (RFC 3339 with `Z` or an offset) or `"time_ms"` (milliseconds since the
//!   Unix epoch), not both; with neither, the receipt time the caller passes in is used.
//! - Unknown fields and duplicate keys are refused: a typo (`"severty"`) must not be dropped
//!   silently, and a repeated key must not let two readers see two different alerts.
//! - `null` for an optional field means absent.
//!
//! Guarantees: no input makes the decoder panic; it allocates in proportion to the line, which
//! is bounded by [`MAX_LINE`] (or the bound given to [`decode_line_within`]); the encoder is
//! total.
//!
//! ```
//! use icsfwd::ingest::schema::{Answer, Message, Problem, decode_line, encode_line};
//! use icsfwd_core::alert::{Alert, Event};
//!
//! let event = Event::from(Alert::example(1_700_000_000_000));
//! let line = encode_line(&event);
//! assert!(line.starts_with(r#"{"type":"alert","id":1042,"time":"2023-11-14T22:13:20.000Z""#));
//! let decoded = decode_line(line.as_bytes(), 0).unwrap();
//! assert_eq!(decoded.message, Message::Event(event));
//!
//! let bad = br#"{"type":"heartbeat","sensor":{"name":"s1","ip":"10.0.0.300"}}"#;
//! let refusal = decode_line(bad, 0).unwrap_err();
//! assert_eq!(refusal.problem, Problem::BadValue);
//! assert_eq!(refusal.field.as_deref(), Some("sensor.ip"));
//! assert_eq!(refusal.error, r#""10.0.0.300" is not an IP address"#);
//!
//! let answer = Answer::parse(r#"{"status":"accepted","id":"sensor-plant-a-1042"}"#).unwrap();
//! assert_eq!(answer, Answer::Accepted { id: "sensor-plant-a-1042".into(), truncated: vec![] });
//! ```

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use icsfwd_core::alert::{
    Alert, Endpoint, Engine, Event, MacAddr, Notification, NotificationKind, Sensor, Severity, fill,
};
use icsfwd_core::time::{Civil, days_from_civil};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The longest line [`encode_line`] writes for any event, in bytes, not counting the
/// terminating LF; also the bound [`decode_line`] applies. The ingest server applies the
/// configured bound instead (`[ingest] max_line_bytes`, [`DEFAULT_MAX_LINE_BYTES`], at most
/// [`MAX_LINE_BYTES_LIMIT`]) through [`decode_line_within`].
pub const MAX_LINE: usize = 16 * 1024;

/// The default bound on a line at the ingest socket (`[ingest] max_line_bytes`): 64 KiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// The largest `[ingest] max_line_bytes` a configuration may set: 1 MiB.
pub const MAX_LINE_BYTES_LIMIT: usize = 1024 * 1024;

/// The first instant [`encode_line`] writes as `"time_ms"` rather than `"time"`:
/// 10000-01-01T00:00:00Z, where RFC 3339's four-digit year ends.
pub(crate) const FIRST_TIME_PAST_RFC3339: u64 = 253_402_300_800_000;

/// A sensor's sign of life: the service marks a sensor offline when these stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The sensor that is alive.
    pub sensor: Sensor,
    /// When it said so, in milliseconds since the Unix epoch.
    pub time_ms: u64,
}

/// A decoded ingest line.
#[expect(
    clippy::large_enum_variant,
    reason = "an event is the common case; boxing it would allocate for every line"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An alert or a system notification, to be routed and spooled.
    Event(Event),
    /// A sensor heartbeat, to be recorded, never forwarded.
    Heartbeat(Heartbeat),
}

impl Message {
    /// The id an accepted answer carries: the event id `<sensor>-<id>`, or for a heartbeat the
    /// sensor name.
    pub fn id(&self) -> String {
        match self {
            Message::Event(event) => event.event_id().to_string(),
            Message::Heartbeat(heartbeat) => heartbeat.sensor.name.to_string(),
        }
    }
}

/// A line that was taken, and which of its fields had to be cut to a core capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// What the line said.
    pub message: Message,
    /// The paths of the fields cut to their capacity (`message`, `source.name`), in line order.
    pub truncated: Vec<&'static str>,
}

/// What kind of problem made a line be refused, for counting refusals by cause.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Problem {
    /// The line is longer than the bound ([`MAX_LINE`], or `[ingest] max_line_bytes`).
    TooLong,
    /// The line is not UTF-8.
    NotUtf8,
    /// The line is not JSON (or is several values, or is empty).
    Malformed,
    /// The line, or a nested field, is not a JSON object where one is needed.
    NotObject,
    /// A required field is absent.
    Missing,
    /// A field has the wrong JSON type.
    WrongType,
    /// A field has the right type but a value that is not allowed.
    BadValue,
    /// A field the schema does not know.
    UnknownField,
    /// A key appears twice in one object.
    DuplicateField,
}

/// Why a line was refused: which field, what was wrong, what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The cause, for counters.
    pub problem: Problem,
    /// The field path (`source.ip`), or `None` when the line as a whole is at fault.
    pub field: Option<String>,
    /// What was wrong, for the operator.
    pub error: String,
    /// What would have been accepted, when that can be said.
    pub allowed: Option<String>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.error)?;
        if let Some(allowed) = &self.allowed {
            write!(f, " (allowed: {allowed})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

/// The answer to one ingest line, sent back as one JSON line.
///
/// `{"status":"accepted","id":"plant-a-42"}` (with `"truncated":[...]` when fields were cut),
/// `{"status":"not_forwarded","id":"plant-a-42","reason":"..."}`,
/// `{"status":"refused","field":"source.ip","error":"...","allowed":"..."}` (`field` and
/// `allowed` may be `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Answer {
    /// The event is durable (its record was fsynced); `id` is its event id `<sensor>-<id>`.
    Accepted {
        /// The event id.
        id: String,
        /// The field paths that were cut to their capacity; omitted when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        truncated: Vec<String>,
    },
    /// The event was valid but no rule sends it anywhere; nothing was stored.
    NotForwarded {
        /// The event id.
        id: String,
        /// Why no rule took it.
        reason: String,
    },
    /// The line was refused; nothing was stored.
    Refused {
        /// The field path at fault, or `null` when the whole line is.
        field: Option<String>,
        /// What was wrong.
        error: String,
        /// What would have been accepted.
        allowed: Option<String>,
    },
}

/// An answer line that is not an [`Answer`].
#[derive(Debug)]
pub struct AnswerError(serde_json::Error);

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an ingest answer: {}", self.0)
    }
}

impl std::error::Error for AnswerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Answer {
    /// The answer as one JSON object, without the newline.
    pub fn to_line(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push_str(r#"{"status":"#);
        match self {
            Answer::Accepted { id, truncated } => {
                out.push_str(r#""accepted","id":"#);
                push_json_str(&mut out, id);
                if !truncated.is_empty() {
                    out.push_str(r#","truncated":["#);
                    for (i, field) in truncated.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        push_json_str(&mut out, field);
                    }
                    out.push(']');
                }
            }
            Answer::NotForwarded { id, reason } => {
                out.push_str(r#""not_forwarded","id":"#);
                push_json_str(&mut out, id);
                out.push_str(r#","reason":"#);
                push_json_str(&mut out, reason);
            }
            Answer::Refused {
                field,
                error,
                allowed,
            } => {
                out.push_str(r#""refused","field":"#);
                push_opt_json_str(&mut out, field.as_deref());
                out.push_str(r#","error":"#);
                push_json_str(&mut out, error);
                out.push_str(r#","allowed":"#);
                push_opt_json_str(&mut out, allowed.as_deref());
            }
        }
        out.push('}');
        out
    }

    /// Parses an answer line (surrounding whitespace and the newline are ignored).
    pub fn parse(line: &str) -> Result<Answer, AnswerError> {
        serde_json::from_str(line).map_err(AnswerError)
    }

    /// The answer that refuses a line for `refusal`.
    pub fn refused(refusal: &Refusal) -> Answer {
        Answer::Refused {
            field: refusal.field.clone(),
            error: refusal.error.clone(),
            allowed: refusal.allowed.clone(),
        }
    }

    /// The answer that accepts `decoded`, once it is durable, with its event id.
    pub fn accepted(id: impl fmt::Display, decoded: &Decoded) -> Answer {
        Answer::Accepted {
            id: id.to_string(),
            truncated: decoded.truncated.iter().map(|f| (*f).to_owned()).collect(),
        }
    }
}

impl From<&Refusal> for Answer {
    fn from(refusal: &Refusal) -> Self {
        Answer::refused(refusal)
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Encodes an event as one ingest line (a JSON object, no newline).
///
/// Field order is fixed (`type` first) and optional fields that are absent (`mac`, `port`) or
/// default (`truncated: false`) are left out, so equal events give equal lines.
pub fn encode_line(event: &Event) -> String {
    let mut out = String::with_capacity(512);
    match event {
        Event::Alert(alert) => encode_alert(&mut out, alert),
        Event::Notification(notification) => encode_notification(&mut out, notification),
    }
    out
}

/// Encodes a heartbeat as one ingest line (a JSON object, no newline).
pub fn encode_heartbeat(heartbeat: &Heartbeat) -> String {
    let mut out = String::with_capacity(160);
    out.push_str(r#"{"type":"heartbeat","#);
    push_time(&mut out, heartbeat.time_ms);
    out.push_str(r#","sensor":"#);
    push_sensor(&mut out, &heartbeat.sensor);
    out.push('}');
    out
}

/// Encodes any decoded message as one ingest line.
pub fn encode_message(message: &Message) -> String {
    match message {
        Message::Event(event) => encode_line(event),
        Message::Heartbeat(heartbeat) => encode_heartbeat(heartbeat),
    }
}

fn encode_alert(out: &mut String, alert: &Alert) {
    out.push_str(r#"{"type":"alert","id":"#);
    out.push_str(&alert.id.to_string());
    out.push(',');
    push_time(out, alert.time_ms);
    out.push_str(r#","engine":"#);
    push_json_str(out, alert.engine.as_str());
    out.push_str(r#","severity":"#);
    push_json_str(out, alert.severity.as_str());
    out.push_str(r#","title":"#);
    push_json_str(out, &alert.title);
    out.push_str(r#","message":"#);
    push_json_str(out, &alert.message);
    out.push_str(r#","protocol":"#);
    push_json_str(out, &alert.protocol);
    out.push_str(r#","group":"#);
    push_json_str(out, &alert.group);
    out.push_str(r#","source":"#);
    push_endpoint(out, &alert.source);
    out.push_str(r#","destination":"#);
    push_endpoint(out, &alert.destination);
    out.push_str(r#","sensor":"#);
    push_sensor(out, &alert.sensor);
    if alert.truncated {
        out.push_str(r#","truncated":true"#);
    }
    out.push('}');
}

fn encode_notification(out: &mut String, notification: &Notification) {
    out.push_str(r#"{"type":"notification","id":"#);
    out.push_str(&notification.id.to_string());
    out.push(',');
    push_time(out, notification.time_ms);
    out.push_str(r#","kind":"#);
    push_json_str(out, notification.kind.token());
    out.push_str(r#","text":"#);
    push_json_str(out, &notification.text);
    out.push_str(r#","sensor":"#);
    push_sensor(out, &notification.sensor);
    if notification.truncated {
        out.push_str(r#","truncated":true"#);
    }
    out.push('}');
}

/// `"time":"<RFC 3339>"`, or `"time_ms":<n>` past year 9999.
fn push_time(out: &mut String, time_ms: u64) {
    if time_ms < FIRST_TIME_PAST_RFC3339 {
        out.push_str(r#""time":""#);
        out.push_str(&Civil::from_epoch_ms(time_ms).rfc3339().to_string());
        out.push('"');
    } else {
        out.push_str(r#""time_ms":"#);
        out.push_str(&time_ms.to_string());
    }
}

fn push_endpoint(out: &mut String, endpoint: &Endpoint) {
    out.push_str(r#"{"name":"#);
    push_json_str(out, &endpoint.name);
    out.push_str(r#","ip":"#);
    push_ip(out, endpoint.ip);
    if let Some(mac) = endpoint.mac {
        out.push_str(r#","mac":""#);
        out.push_str(&mac.to_string());
        out.push('"');
    }
    if let Some(port) = endpoint.port {
        out.push_str(r#","port":"#);
        out.push_str(&port.to_string());
    }
    out.push('}');
}

fn push_sensor(out: &mut String, sensor: &Sensor) {
    out.push_str(r#"{"name":"#);
    push_json_str(out, &sensor.name);
    out.push_str(r#","ip":"#);
    push_ip(out, sensor.ip);
    out.push_str(r#","version":"#);
    push_json_str(out, &sensor.version);
    out.push('}');
}

fn push_ip(out: &mut String, ip: IpAddr) {
    out.push('"');
    out.push_str(&ip.to_string());
    out.push('"');
}

fn push_opt_json_str(out: &mut String, value: Option<&str>) {
    match value {
        Some(value) => push_json_str(out, value),
        None => out.push_str("null"),
    }
}

/// Writes `value` as a JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, ...
/// or `\u00XX`, everything else as is (the line is UTF-8).
fn push_json_str(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let code = u32::from(c) as usize;
                out.push_str("\\u00");
                for nibble in [code >> 4, code & 0xf] {
                    out.push(char::from(HEX.get(nibble).copied().unwrap_or(b'0')));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Decodes and validates one ingest line (without its LF; a trailing CR is JSON whitespace)
/// of at most [`MAX_LINE`] bytes: [`decode_line_within`] with that bound.
pub fn decode_line(line: &[u8], received_ms: u64) -> Result<Decoded, Refusal> {
    decode_line_within(line, received_ms, MAX_LINE)
}

/// The refusal of a line of `len` bytes, longer than `max`.
pub fn too_long(len: usize, max: usize) -> Refusal {
    Refusal {
        problem: Problem::TooLong,
        field: None,
        error: format!("line is {len} bytes long"),
        allowed: Some(format!("at most {max} bytes before the LF")),
    }
}

/// Decodes and validates one ingest line (without its LF; a trailing CR is JSON whitespace)
/// of at most `max_line` bytes.
///
/// `received_ms` is the receipt time, used as the event time when the line gives neither
/// `time` nor `time_ms`. Returns the message and the fields cut to their capacity, or the
/// first problem found, checking the line as a whole, then `type`, then the object's keys
/// (unknown or repeated), then each field in the documented order.
pub fn decode_line_within(
    line: &[u8],
    received_ms: u64,
    max_line: usize,
) -> Result<Decoded, Refusal> {
    if line.len() > max_line {
        return Err(too_long(line.len(), max_line));
    }
    let text = std::str::from_utf8(line).map_err(|e| Refusal {
        problem: Problem::NotUtf8,
        field: None,
        error: format!(
            "line is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ),
        allowed: Some("UTF-8 text".to_owned()),
    })?;
    let json = parse_json(text)?;
    let Json::Object(entries) = &json else {
        return Err(Refusal {
            problem: Problem::NotObject,
            field: None,
            error: format!("line is {}, not an object", json.kind()),
            allowed: Some(r#"one JSON object with a "type" field"#.to_owned()),
        });
    };
    let top = Obj {
        prefix: "",
        entries,
    };
    let kind = match top.get("type") {
        None => return Err(missing("type", TYPE_ALLOWED)),
        Some(Json::Str(kind)) => kind.as_ref(),
        Some(other) => return Err(wrong_type("type", "a string", other, TYPE_ALLOWED)),
    };
    let mut decoder = Decoder {
        truncated: Vec::new(),
    };
    let message = match kind {
        "alert" => {
            top.check_keys("an alert", ALERT_FIELDS)?;
            Message::Event(Event::Alert(decoder.alert(&top, received_ms)?))
        }
        "notification" => {
            top.check_keys("a notification", NOTIFICATION_FIELDS)?;
            Message::Event(Event::Notification(
                decoder.notification(&top, received_ms)?,
            ))
        }
        "heartbeat" => {
            top.check_keys("a heartbeat", HEARTBEAT_FIELDS)?;
            Message::Heartbeat(Heartbeat {
                time_ms: time(&top, received_ms)?,
                sensor: decoder.sensor(top.get("sensor"))?,
            })
        }
        other => {
            return Err(Refusal {
                problem: Problem::BadValue,
                field: Some("type".to_owned()),
                error: format!("unknown type {}", quoted(other)),
                allowed: Some(TYPE_ALLOWED.to_owned()),
            });
        }
    };
    Ok(Decoded {
        message,
        truncated: decoder.truncated,
    })
}

const TYPE_ALLOWED: &str = "alert, notification, heartbeat";
const ALERT_FIELDS: &[&str] = &[
    "type",
    "id",
    "time",
    "time_ms",
    "engine",
    "severity",
    "title",
    "message",
    "protocol",
    "group",
    "source",
    "destination",
    "sensor",
    "truncated",
];
const NOTIFICATION_FIELDS: &[&str] = &[
    "type",
    "id",
    "time",
    "time_ms",
    "kind",
    "text",
    "sensor",
    "truncated",
];
const HEARTBEAT_FIELDS: &[&str] = &["type", "time", "time_ms", "sensor"];
const ENDPOINT_FIELDS: &[&str] = &["name", "ip", "mac", "port"];
const SENSOR_FIELDS: &[&str] = &["name", "ip", "version"];

const ID_ALLOWED: &str = "a whole number from 0 to 18446744073709551615";
const TIME_ALLOWED: &str = "RFC 3339 with seconds and an offset, from 1970 on, e.g. 2024-05-05T12:28:54.123Z or \
     2024-05-05T14:28:54+02:00";
const TIME_MS_ALLOWED: &str = "milliseconds since 1970-01-01T00:00:00Z, a whole number from 0";
const ENGINE_ALLOWED: &str = "Protocol Violation, Policy Violation, Malware, Anomaly, \
     Operational (any case; `_` or `-` may replace the space)";
const SEVERITY_ALLOWED: &str = "Warning, Minor, Major, Critical (any case)";
const KIND_ALLOWED: &str = "sensor_online, sensor_offline, backup_failure, alerts_dropped \
     (or Sensor online, Sensor offline, Backup failure, Alerts dropped; any case)";
const IP_ALLOWED: &str = "an IPv4 address like 10.20.1.12 or an IPv6 address like fd00::12";
const MAC_ALLOWED: &str = "six two-digit hex bytes separated by `:` or `-`, e.g. 00:50:56:8a:11:02";
const PORT_ALLOWED: &str = "a whole number from 0 to 65535";
const TRUNCATED_ALLOWED: &str = "true or false";

/// Collects the truncated field paths while the event is built.
struct Decoder {
    truncated: Vec<&'static str>,
}

impl Decoder {
    fn alert(&mut self, top: &Obj<'_, '_>, received_ms: u64) -> Result<Alert, Refusal> {
        let id = id(top)?;
        let time_ms = time(top, received_ms)?;
        let engine = named(top, "engine", ENGINE_ALLOWED, Engine::from_name)?;
        let severity = named(top, "severity", SEVERITY_ALLOWED, Severity::from_name)?;
        let mut alert = Alert::new(id, time_ms, engine, severity);
        let title = non_empty_str(top, "title", "a non-empty string")?;
        self.fill(&mut alert.title, title, "title");
        let message = opt_str(top, "message")?;
        self.fill(&mut alert.message, message, "message");
        let protocol = opt_str(top, "protocol")?;
        self.fill(&mut alert.protocol, protocol, "protocol");
        let group = opt_str(top, "group")?;
        self.fill(&mut alert.group, group, "group");
        alert.source = self.endpoint(top.get("source"), SOURCE)?;
        alert.destination = self.endpoint(top.get("destination"), DESTINATION)?;
        alert.sensor = self.sensor(top.get("sensor"))?;
        alert.truncated = truncated_flag(top)? || !self.truncated.is_empty();
        Ok(alert)
    }

    fn notification(
        &mut self,
        top: &Obj<'_, '_>,
        received_ms: u64,
    ) -> Result<Notification, Refusal> {
        let id = id(top)?;
        let time_ms = time(top, received_ms)?;
        let kind = named(top, "kind", KIND_ALLOWED, NotificationKind::from_name)?;
        let mut notification = Notification::new(id, time_ms, kind);
        let text = opt_str(top, "text")?;
        self.fill(&mut notification.text, text, "text");
        notification.sensor = self.sensor(top.get("sensor"))?;
        notification.truncated = truncated_flag(top)? || !self.truncated.is_empty();
        Ok(notification)
    }

    fn endpoint(
        &mut self,
        value: Option<&Json<'_>>,
        paths: EndpointPaths,
    ) -> Result<Endpoint, Refusal> {
        let Some(value) = value else {
            return Ok(Endpoint::unknown());
        };
        let obj = object(
            value,
            paths.object,
            "an object with ip and optionally name, mac, port",
        )?;
        obj.check_keys("an endpoint", ENDPOINT_FIELDS)?;
        let mut endpoint = Endpoint::unknown();
        let name = opt_str_at(obj.get("name"), paths.name)?;
        self.fill(&mut endpoint.name, name, paths.name);
        endpoint.ip = ip(obj.get("ip"), paths.ip)?;
        endpoint.mac = match obj.get("mac") {
            None => None,
            Some(Json::Str(text)) => Some(MacAddr::parse(text).ok_or_else(|| {
                bad_value(
                    paths.mac,
                    format!("{} is not a MAC address", quoted(text)),
                    MAC_ALLOWED,
                )
            })?),
            Some(other) => return Err(wrong_type(paths.mac, "a string", other, MAC_ALLOWED)),
        };
        endpoint.port = match obj.get("port") {
            None => None,
            Some(value) => {
                let port = whole_number(value, paths.port, PORT_ALLOWED)?;
                Some(u16::try_from(port).map_err(|_| {
                    bad_value(paths.port, format!("{port} is out of range"), PORT_ALLOWED)
                })?)
            }
        };
        Ok(endpoint)
    }

    fn sensor(&mut self, value: Option<&Json<'_>>) -> Result<Sensor, Refusal> {
        const ALLOWED: &str = "an object with name, ip and optionally version";
        let Some(value) = value else {
            return Err(missing("sensor", ALLOWED));
        };
        let obj = object(value, "sensor", ALLOWED)?;
        obj.check_keys("a sensor", SENSOR_FIELDS)?;
        let mut sensor = Sensor::unknown();
        let name = non_empty_str(&obj, "sensor.name", "a non-empty string")?;
        self.fill(&mut sensor.name, name, "sensor.name");
        sensor.ip = ip(obj.get("ip"), "sensor.ip")?;
        let version = opt_str_at(obj.get("version"), "sensor.version")?;
        self.fill(&mut sensor.version, version, "sensor.version");
        Ok(sensor)
    }

    fn fill<const N: usize>(
        &mut self,
        dst: &mut heapless::String<N>,
        src: &str,
        path: &'static str,
    ) {
        if fill(dst, src) {
            self.truncated.push(path);
        }
    }
}

/// The field paths of one endpoint, all static so truncation reports need no allocation.
#[derive(Clone, Copy)]
struct EndpointPaths {
    object: &'static str,
    name: &'static str,
    ip: &'static str,
    mac: &'static str,
    port: &'static str,
}

const SOURCE: EndpointPaths = EndpointPaths {
    object: "source",
    name: "source.name",
    ip: "source.ip",
    mac: "source.mac",
    port: "source.port",
};
const DESTINATION: EndpointPaths = EndpointPaths {
    object: "destination",
    name: "destination.name",
    ip: "destination.ip",
    mac: "destination.mac",
    port: "destination.port",
};

fn id(top: &Obj<'_, '_>) -> Result<u64, Refusal> {
    match top.get("id") {
        None => Err(missing("id", ID_ALLOWED)),
        Some(value) => whole_number(value, "id", ID_ALLOWED),
    }
}

fn time(top: &Obj<'_, '_>, received_ms: u64) -> Result<u64, Refusal> {
    match (top.get("time"), top.get("time_ms")) {
        (Some(_), Some(_)) => Err(bad_value(
            "time_ms",
            "`time` and `time_ms` are both given".to_owned(),
            "one of `time` and `time_ms`, or neither (the receipt time is used)",
        )),
        (Some(Json::Str(text)), None) => match parse_rfc3339(text) {
            None => Err(bad_value(
                "time",
                format!("{} is not an RFC 3339 time", quoted(text)),
                TIME_ALLOWED,
            )),
            Some(ms) => u64::try_from(ms).map_err(|_| {
                bad_value(
                    "time",
                    format!("{} is before 1970-01-01T00:00:00Z", quoted(text)),
                    TIME_ALLOWED,
                )
            }),
        },
        (Some(other), None) => Err(wrong_type("time", "a string", other, TIME_ALLOWED)),
        (None, Some(value)) => whole_number(value, "time_ms", TIME_MS_ALLOWED),
        (None, None) => Ok(received_ms),
    }
}

fn named<T>(
    top: &Obj<'_, '_>,
    field: &'static str,
    allowed: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, Refusal> {
    match top.get(field) {
        None => Err(missing(field, allowed)),
        Some(Json::Str(text)) => parse(text)
            .ok_or_else(|| bad_value(field, format!("unknown {field} {}", quoted(text)), allowed)),
        Some(other) => Err(wrong_type(field, "a string", other, allowed)),
    }
}

fn non_empty_str<'a>(
    obj: &Obj<'a, '_>,
    path: &'static str,
    allowed: &'static str,
) -> Result<&'a str, Refusal> {
    let key = path.rsplit('.').next().unwrap_or(path);
    match obj.get(key) {
        None => Err(missing(path, allowed)),
        Some(Json::Str(text)) if text.is_empty() => {
            Err(bad_value(path, "is empty".to_owned(), allowed))
        }
        Some(Json::Str(text)) => Ok(text),
        Some(other) => Err(wrong_type(path, "a string", other, allowed)),
    }
}

fn opt_str<'a>(top: &Obj<'a, '_>, field: &'static str) -> Result<&'a str, Refusal> {
    opt_str_at(top.get(field), field)
}

fn opt_str_at<'a>(value: Option<&'a Json<'_>>, path: &'static str) -> Result<&'a str, Refusal> {
    match value {
        None => Ok(""),
        Some(Json::Str(text)) => Ok(text),
        Some(other) => Err(wrong_type(path, "a string", other, "a string")),
    }
}

fn truncated_flag(top: &Obj<'_, '_>) -> Result<bool, Refusal> {
    match top.get("truncated") {
        None => Ok(false),
        Some(Json::Bool(flag)) => Ok(*flag),
        Some(other) => Err(wrong_type(
            "truncated",
            "a boolean",
            other,
            TRUNCATED_ALLOWED,
        )),
    }
}

fn ip(value: Option<&Json<'_>>, path: &'static str) -> Result<IpAddr, Refusal> {
    match value {
        None => Err(missing(path, IP_ALLOWED)),
        Some(Json::Str(text)) => text.parse().map_err(|_| {
            bad_value(
                path,
                format!("{} is not an IP address", quoted(text)),
                IP_ALLOWED,
            )
        }),
        Some(other) => Err(wrong_type(path, "a string", other, IP_ALLOWED)),
    }
}

fn whole_number(
    value: &Json<'_>,
    path: &'static str,
    allowed: &'static str,
) -> Result<u64, Refusal> {
    match value {
        Json::UInt(n) => Ok(*n),
        Json::Int(n) => Err(bad_value(path, format!("{n} is out of range"), allowed)),
        other => Err(wrong_type(path, "a whole number", other, allowed)),
    }
}

fn object<'a, 'l>(
    value: &'a Json<'l>,
    path: &'static str,
    allowed: &'static str,
) -> Result<Obj<'a, 'l>, Refusal> {
    match value {
        Json::Object(entries) => Ok(Obj {
            prefix: path,
            entries,
        }),
        other => Err(wrong_type(path, "an object", other, allowed)),
    }
}

fn missing(path: &str, allowed: &str) -> Refusal {
    Refusal {
        problem: Problem::Missing,
        field: Some(path.to_owned()),
        error: "is missing".to_owned(),
        allowed: Some(allowed.to_owned()),
    }
}

fn wrong_type(path: &str, expected: &str, found: &Json<'_>, allowed: &str) -> Refusal {
    Refusal {
        problem: Problem::WrongType,
        field: Some(path.to_owned()),
        error: format!("expected {expected}, found {}", found.kind()),
        allowed: Some(allowed.to_owned()),
    }
}

fn bad_value(path: &str, error: String, allowed: &str) -> Refusal {
    Refusal {
        problem: Problem::BadValue,
        field: Some(path.to_owned()),
        error,
        allowed: Some(allowed.to_owned()),
    }
}

/// A value quoted for an error message, cut to 64 bytes so an answer stays short.
fn quoted(value: &str) -> String {
    const SHOWN: usize = 64;
    let mut end = value.len().min(SHOWN);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let head = value.get(..end).unwrap_or_default();
    if end < value.len() {
        format!("{head:?}...")
    } else {
        format!("{head:?}")
    }
}

/// One JSON object's entries in line order, duplicates kept so they can be refused by path.
struct Obj<'a, 'l> {
    /// The object's own path (`source`), empty at the top.
    prefix: &'static str,
    entries: &'a [(Cow<'l, str>, Json<'l>)],
}

impl<'a, 'l> Obj<'a, 'l> {
    /// The value of `key`; `null` counts as absent.
    fn get(&self, key: &str) -> Option<&'a Json<'l>> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .filter(|v| !matches!(v, Json::Null))
    }

    /// Refuses the first key that is unknown or repeated.
    fn check_keys(&self, what: &str, known: &[&str]) -> Result<(), Refusal> {
        for (i, (key, _)) in self.entries.iter().enumerate() {
            // Built only for a refusal: a valid line allocates no paths.
            let path = || {
                if self.prefix.is_empty() {
                    key.to_string()
                } else {
                    format!("{}.{key}", self.prefix)
                }
            };
            if !known.contains(&key.as_ref()) {
                return Err(Refusal {
                    problem: Problem::UnknownField,
                    field: Some(path()),
                    error: "is not a field of ".to_owned() + what,
                    allowed: Some(known.join(", ")),
                });
            }
            if self.entries.iter().take(i).any(|(k, _)| k == key) {
                return Err(Refusal {
                    problem: Problem::DuplicateField,
                    field: Some(path()),
                    error: "is given more than once".to_owned(),
                    allowed: Some("each field once".to_owned()),
                });
            }
        }
        Ok(())
    }
}

/// A parsed JSON value that keeps object keys in order, repeated ones included. Only what the
/// schema can accept is kept; arrays and non-integral numbers are only told apart by kind.
/// Strings and keys borrow from the line unless they hold an escape (then they are unescaped
/// into their own allocation).
#[derive(Debug)]
enum Json<'l> {
    Null,
    Bool(bool),
    UInt(u64),
    Int(i64),
    /// A number with a fraction or exponent, or a whole number past `u64`: never valid here.
    Float,
    Str(Cow<'l, str>),
    /// Never valid here, so its items are checked for syntax and dropped.
    Array,
    Object(Vec<(Cow<'l, str>, Json<'l>)>),
}

impl Json<'_> {
    /// The JSON type, as an error message names it.
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::UInt(_) | Json::Int(_) => "a whole number",
            Json::Float => "a number with a fraction or exponent",
            Json::Str(_) => "a string",
            Json::Array => "an array",
            Json::Object(_) => "an object",
        }
    }
}

fn parse_json(text: &str) -> Result<Json<'_>, Refusal> {
    let malformed = |error: String| Refusal {
        problem: Problem::Malformed,
        field: None,
        error,
        allowed: Some("one JSON object per line".to_owned()),
    };
    let trimmed = text.trim_matches([' ', '\t', '\r', '\n']);
    if trimmed.is_empty() {
        return Err(malformed("line is empty".to_owned()));
    }
    if !starts_like_json(trimmed) {
        // serde_json would say "expected value" or "expected ident" (it reads `n`, `t`, `f`
        // as the start of null, true, false): true, and no help to someone who sent text.
        return Err(malformed(format!(
            "not JSON: the line starts with {}",
            quoted(trimmed)
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Json::deserialize(&mut deserializer).and_then(|json| {
        deserializer.end()?;
        Ok(json)
    });
    parsed.map_err(|e| {
        // serde_json's message ends in " at line L column C"; the column alone locates the
        // problem on a one-line input.
        let message = e.to_string();
        let cause = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(cause, _)| cause);
        malformed(format!("malformed JSON at column {}: {cause}", e.column()))
    })
}

/// The bytes besides a digit that begin a JSON object, array, string or negative number.
const JSON_OPENERS: &[u8] = b"{[\"-";

/// Whether `text` (trimmed, not empty) begins the way a JSON value does: a bracket, a quote,
/// a number, or the words `true`, `false`, `null`. Anything else is text, not broken JSON.
fn starts_like_json(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(b) if JSON_OPENERS.contains(b) || b.is_ascii_digit() => true,
        Some(b't') => text.starts_with("true"),
        Some(b'f') => text.starts_with("false"),
        Some(b'n') => text.starts_with("null"),
        _ => false,
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json<'de>, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// An object key, borrowed from the line when it holds no escape.
struct Key<'l>(Cow<'l, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::UInt(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(u64::try_from(v).map_or(Json::Int(v), Json::UInt))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Json<'de>, E> {
        Ok(Json::Float)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        while seq.next_element::<Json<'de>>()?.is_some() {}
        Ok(Json::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Json::Object(entries))
    }
}

/// Parses RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` into milliseconds since the epoch
/// (negative before 1970). Digits past the millisecond are dropped; a leap second (`:60`) is
/// refused, as Unix time cannot hold it.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |at: usize, n: usize| -> Option<i64> {
        let mut value = 0i64;
        for i in at..at + n {
            let d = *b.get(i)?;
            if !d.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(d - b'0');
        }
        Some(value)
    };
    let byte_is = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    let year = digits(0, 4)?;
    let month = digits(5, 2)?;
    let day = digits(8, 2)?;
    let hour = digits(11, 2)?;
    let minute = digits(14, 2)?;
    let second = digits(17, 2)?;
    let separators = byte_is(4, b"-")
        && byte_is(7, b"-")
        && byte_is(10, b"Tt")
        && byte_is(13, b":")
        && byte_is(16, b":");
    if !separators || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // `None` for a month or day that does not exist (2019-02-29, 2019-04-31).
    let days = days_from_civil(
        i32::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )?;
    let mut at = 19;
    let mut millis = 0i64;
    if byte_is(at, b".") {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                millis = millis * 10 + i64::from(b.get(at).copied().unwrap_or(b'0') - b'0');
            }
            at += 1;
        }
        match at - start {
            0 => return None,
            1 => millis *= 100,
            2 => millis *= 10,
            _ => {}
        }
    }
    let offset_minutes = if byte_is(at, b"Zz") {
        at += 1;
        0
    } else if byte_is(at, b"+-") {
        let sign = if byte_is(at, b"-") { -1 } else { 1 };
        let hours = digits(at + 1, 2)?;
        let minutes = digits(at + 4, 2)?;
        if !byte_is(at + 3, b":") || hours > 23 || minutes > 59 {
            return None;
        }
        at += 6;
        sign * (hours * 60 + minutes)
    } else {
        return None;
    };
    if at != b.len() {
        return None;
    }
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}
