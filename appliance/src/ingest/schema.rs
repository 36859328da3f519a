//! The ingest line schema: JSON lines in, core events out, one answer line back.
//!
//! A producer sends one JSON object per line (UTF-8, LF-terminated, at most [`MAX_LINE`] bytes
//! without the LF). `"type"` says what the line is: `"alert"`, `"notification"` or
//! `"heartbeat"`. [`decode_line`] validates every field and builds the core
//! [`Event`](icsfwd_core::alert::Event) (or a [`Heartbeat`]); anything it cannot take exactly is
//! a [`Refusal`] naming the field path (`source.ip`), what was wrong and what is allowed.
//! [`encode_line`] is the inverse: `decode_line(encode_line(e))` gives back `e` exactly. Each line
//! is answered by one [`Answer`] line. `docs/ingest.md` is the full description, and
//! `docs/ingest.schema.json` the JSON Schema of the three line types.
//!
//! Choices (the reference leaves them open):
//! - A string longer than its core capacity (`MAX_TITLE`, `MAX_MESSAGE`, ...) is cut on a UTF-8
//!   boundary and the event is flagged `truncated`, as core does everywhere; the decoder lists
//!   the cut fields ([`Decoded::truncated`]) so the accepted answer names them and the service
//!   counts them. An alert is evidence: losing it for a long message would be worse than
//!   shortening the message visibly.
//! - [`MAX_LINE`] is 16 KiB: the longest line [`encode_line`] can produce for any core event
//!   (every string at capacity and every byte escaped as `\u00XX`) fits, and the bound keeps a
//!   hostile producer from making the service buffer more.
//! - Time is `"time"` (RFC 3339 with `Z` or an offset) or `"time_ms"` (milliseconds since the
//!   Unix epoch), not both; with neither, the receipt time the caller passes in is used.
//! - Unknown fields and duplicate keys are refused: a typo (`"severty"`) must not be dropped
//!   silently, and a repeated key must not let two readers see two different alerts.
//! - `null` for an optional field means absent.
//!
//! Guarantees: no input makes the decoder panic; it allocates in proportion to the line, which
//! is bounded by [`MAX_LINE`]; the encoder is total.
//!
//! ```
//! use icsfwd::ingest::schema::{Answer, encode_line};
//! use icsfwd_core::alert::{Alert, Event};
//!
//! let event = Event::from(Alert::example(1_700_000_000_000));
//! let line = encode_line(&event);
//! assert!(line.starts_with(r#"{"type":"alert","id":1042,"time":"2023-11-14T22:13:20.000Z""#));
//! let answer = Answer::parse(r#"{"status":"accepted","id":"sensor-plant-a-1042"}"#).unwrap();
//! assert_eq!(answer, Answer::Accepted { id: "sensor-plant-a-1042".into(), truncated: vec![] });
//! ```

use std::fmt;
use std::net::IpAddr;

use icsfwd_core::alert::{Alert, Endpoint, Event, Notification, Sensor};
use icsfwd_core::time::Civil;
use serde::{Deserialize, Serialize};

/// The longest accepted line in bytes, not counting the terminating LF.
pub const MAX_LINE: usize = 16 * 1024;

/// The first instant [`encode_line`] writes as `"time_ms"` rather than `"time"`:
/// 10000-01-01T00:00:00Z, where RFC 3339's four-digit year ends.
pub const FIRST_TIME_PAST_RFC3339: u64 = 253_402_300_800_000;

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
    /// The line is longer than [`MAX_LINE`].
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
