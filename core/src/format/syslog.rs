//! RFC 5424 syslog: a header and structured data around a text, CEF or LEEF payload, with
//! optional RFC 6587 octet-counting framing for TCP and TLS.
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [icsfwd@32473 id="..." ...] MSG
//! ```
//!
//! - PRI = facility × 8 + level. Facility from [`Options::facility`] (default [`Facility::USER`],
//!   as OT sensors send "User.Alert"); level from [`Options::level`]: by default per alert
//!   severity (Critical → 2 crit, Major → 3 err, Minor → 4 warning, Warning → 5 notice), or one
//!   fixed level for every event ([`Level::Fixed`]; `Level::Fixed(SeverityCode::ALERT)` with the
//!   user facility gives the sensors' `<9>`).
//! - TIMESTAMP: the event time in RFC 3339 UTC with milliseconds; `-` (NILVALUE) for a year past
//!   9999, which RFC 5424's four-digit year cannot express.
//! - HOSTNAME: the sensor name when it is 1–255 printable US-ASCII characters without spaces
//!   (`!`..=`~`); otherwise, if the name is not empty, the name with every other character
//!   replaced by `_`; if it is empty, the sensor IP address.
//! - APP-NAME `icsfwd`; PROCID `-`; MSGID `alert` for alerts and the notification kind's token
//!   (e.g. `sensor_offline`) for notifications.
//! - One SD-ELEMENT `[icsfwd@32473 ...]` with `id` (the event id `<sensor>-<id>`), `engine` (an
//!   alert's engine) or `kind` (a notification's token), `severity` (the word), and
//!   `truncated="true"` when any field was cut. PARAM-VALUE escaping per RFC 5424 §6.3.3: `"`,
//!   `\` and `]` get a backslash; in addition every control character (Unicode Cc) and
//!   U+2028/U+2029 becomes U+FFFD, so the header stays on one line. 32473 is the private
//!   enterprise number RFC 5612 reserves for documentation.
//! - MSG: the payload ([`Payload`]: [`text`], [`cef`] or [`leef`], default CEF), preceded by a
//!   UTF-8 BOM only when [`Options::bom`] is set (default off: CEF and LEEF parsers expect the
//!   line to start with `CEF:`/`LEEF:`). A text payload has several lines; that is fine inside
//!   one UDP datagram or one octet-counted TCP frame ([`write_framed()`]), which is how icsfwd
//!   sends, but not with newline-delimited framing.
//!
//! Guarantees: [`write()`] and [`write_framed()`] never panic or allocate; any [`Event`] with any
//! [`Options`] renders into [`MAX_LEN`] (framed: [`MAX_FRAMED_LEN`]) bytes; a smaller sink gets
//! [`Error::BufferFull`].
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::format::{syslog, SliceWriter};
//!
//! let mut alert = Alert::new(42, 1_557_059_334_123, Engine::Operational, Severity::Major);
//! alert.set_title("PLC Program Stop");
//! alert.sensor.set_name("sensor-01");
//! let mut buf = [0u8; syslog::MAX_FRAMED_LEN];
//! let mut out = SliceWriter::new(&mut buf);
//! let n = syslog::write_framed(&Event::from(alert), &syslog::Options::default(), &mut out)
//!     .unwrap();
//! let frame = core::str::from_utf8(&out.written()[..n]).unwrap();
//! let (len, message) = frame.split_once(' ').unwrap();
//! assert_eq!(len.parse::<usize>().unwrap(), message.len());
//! assert!(message.starts_with(
//!     "<11>1 2019-05-05T12:28:54.123Z sensor-01 icsfwd - alert \
//!      [icsfwd@32473 id=\"sensor-01-42\" engine=\"Operational\" severity=\"Major\"] CEF:0|"
//! ));
//! ```

use core::net::IpAddr;

use embedded_io::Write;

use crate::alert::{Event, MAX_EVENT_ID, MAX_SENSOR_NAME, Severity};
use crate::format::{
    AsciiSet, Error, Escaped, Kind, MAX_U64_TEXT, Out, Rule, SliceWriter, cef, event_id, leef,
    longest_engine_name, longest_notification_token, longest_severity_name, max, text,
};
use crate::stack_text::StackText;
use crate::time::Civil;

/// A syslog facility code, 0–23 (RFC 5424 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Facility(u8);

impl Facility {
    /// 0: kernel messages.
    pub const KERN: Facility = Facility(0);
    /// 1: user-level messages (the default, as OT sensors use).
    pub const USER: Facility = Facility(1);
    /// 4: security/authorization messages.
    pub const AUTH: Facility = Facility(4);
    /// 13: log audit.
    pub const AUDIT: Facility = Facility(13);
    /// 14: log alert.
    pub const ALERT: Facility = Facility(14);
    /// 16: local use 0.
    pub const LOCAL0: Facility = Facility(16);
    /// 23: local use 7.
    pub const LOCAL7: Facility = Facility(23);

    /// The facility `code`, or `None` when it is above 23.
    pub const fn new(code: u8) -> Option<Facility> {
        if code <= 23 {
            Some(Facility(code))
        } else {
            None
        }
    }

    /// The numeric code.
    pub const fn code(self) -> u8 {
        self.0
    }
}

/// A syslog severity code, 0 (Emergency) – 7 (Debug) (RFC 5424 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SeverityCode(u8);

impl SeverityCode {
    /// 0: system is unusable.
    pub const EMERGENCY: SeverityCode = SeverityCode(0);
    /// 1: action must be taken immediately.
    pub const ALERT: SeverityCode = SeverityCode(1);
    /// 2: critical conditions.
    pub const CRITICAL: SeverityCode = SeverityCode(2);
    /// 3: error conditions.
    pub const ERROR: SeverityCode = SeverityCode(3);
    /// 4: warning conditions.
    pub const WARNING: SeverityCode = SeverityCode(4);
    /// 5: normal but significant condition.
    pub const NOTICE: SeverityCode = SeverityCode(5);
    /// 6: informational messages.
    pub const INFORMATIONAL: SeverityCode = SeverityCode(6);
    /// 7: debug-level messages.
    pub const DEBUG: SeverityCode = SeverityCode(7);

    /// The severity `code`, or `None` when it is above 7.
    pub const fn new(code: u8) -> Option<SeverityCode> {
        if code <= 7 {
            Some(SeverityCode(code))
        } else {
            None
        }
    }

    /// The numeric code.
    pub const fn code(self) -> u8 {
        self.0
    }
}

/// The syslog level of each alert severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LevelMap {
    /// Level of a Warning event. Default 5 (notice).
    pub warning: SeverityCode,
    /// Level of a Minor event. Default 4 (warning).
    pub minor: SeverityCode,
    /// Level of a Major event. Default 3 (error).
    pub major: SeverityCode,
    /// Level of a Critical event. Default 2 (critical).
    pub critical: SeverityCode,
}

impl LevelMap {
    /// Critical → 2, Major → 3, Minor → 4, Warning → 5.
    pub const DEFAULT: LevelMap = LevelMap {
        warning: SeverityCode::NOTICE,
        minor: SeverityCode::WARNING,
        major: SeverityCode::ERROR,
        critical: SeverityCode::CRITICAL,
    };

    /// The level of `severity`.
    pub const fn get(&self, severity: Severity) -> SeverityCode {
        match severity {
            Severity::Warning => self.warning,
            Severity::Minor => self.minor,
            Severity::Major => self.major,
            Severity::Critical => self.critical,
        }
    }
}

impl Default for LevelMap {
    fn default() -> Self {
        LevelMap::DEFAULT
    }
}

/// How the syslog level (the severity part of PRI) is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Level {
    /// From the event's severity through the map.
    PerSeverity(LevelMap),
    /// The same level for every event, for receivers that expect one.
    Fixed(SeverityCode),
}

impl Level {
    /// The level of an event of `severity`.
    pub const fn get(&self, severity: Severity) -> SeverityCode {
        match self {
            Level::PerSeverity(map) => map.get(severity),
            Level::Fixed(code) => *code,
        }
    }
}

impl Default for Level {
    fn default() -> Self {
        Level::PerSeverity(LevelMap::DEFAULT)
    }
}

/// The payload carried as MSG, with its own options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Payload {
    /// The classic multi-line text event.
    Text(text::Options),
    /// One CEF line.
    Cef(cef::Options),
    /// One LEEF 1.0 line.
    Leef(leef::Options),
}

impl Payload {
    /// Every kind a syslog message can carry, in the order `text`, `cef`, `leef`.
    pub const KINDS: [Kind; 3] = [Kind::Text, Kind::Cef, Kind::Leef];

    /// The payload of `kind` with its options taken from `options`; `None` for [`Kind::Hec`],
    /// which is an HTTP envelope, not a syslog payload.
    pub fn of(kind: Kind, options: &crate::format::Options) -> Option<Payload> {
        match kind {
            Kind::Text => Some(Payload::Text(options.text.clone())),
            Kind::Cef => Some(Payload::Cef(options.cef.clone())),
            Kind::Leef => Some(Payload::Leef(options.leef.clone())),
            Kind::Hec => None,
        }
    }

    /// Renders the payload alone (what MSG carries after the optional BOM).
    pub fn write<W: Write>(&self, event: &Event, out: &mut W) -> Result<usize, Error> {
        match self {
            Payload::Text(options) => text::write(event, options, out),
            Payload::Cef(options) => cef::write(event, options, out),
            Payload::Leef(options) => leef::write(event, options, out),
        }
    }
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Cef(cef::Options::default())
    }
}

/// How a syslog message is built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// The facility part of PRI. Default [`Facility::USER`].
    pub facility: Facility,
    /// The level part of PRI. Default [`LevelMap::DEFAULT`] per severity.
    pub level: Level,
    /// What MSG carries. Default CEF with default options.
    pub payload: Payload,
    /// Whether MSG starts with a UTF-8 byte order mark (RFC 5424 §6.4). Default off.
    pub bom: bool,
}

impl Default for Facility {
    fn default() -> Self {
        Facility::USER
    }
}

/// The APP-NAME.
pub const APP_NAME: &str = "icsfwd";
/// The SD-ID of the structured-data element.
pub const SD_ID: &str = "icsfwd@32473";
/// The MSGID of an alert.
pub const ALERT_MSGID: &str = "alert";

const BOM: &str = "\u{FEFF}";
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (years past 9999 are written `-`).
const TIMESTAMP_LEN: usize = 24;
/// Longest IP address text (IPv6).
const IP_LEN: usize = 39;
/// Worst-case growth of one SD-PARAM byte: a one-byte control becomes the three-byte U+FFFD.
const GROWTH: usize = 3;

/// Longest MSGID: `alert` or a notification token (RFC 5424 allows 32).
const MSGID_LEN: usize = max(ALERT_MSGID.len(), longest_notification_token());
const _: () = assert!(MSGID_LEN <= 32, "RFC 5424 MSGID is at most 32 characters");

/// Longest structured-data element.
const SD_LEN: usize = "[".len()
    + SD_ID.len()
    + " id=\"\"".len()
    + GROWTH * MAX_SENSOR_NAME
    + (MAX_EVENT_ID - MAX_SENSOR_NAME)
    + max(
        " engine=\"\"".len() + longest_engine_name(),
        " kind=\"\"".len() + longest_notification_token(),
    )
    + " severity=\"\"".len()
    + longest_severity_name()
    + " truncated=\"true\"".len()
    + "]".len();

/// Longest payload with any options.
const PAYLOAD_LEN: usize = max(text::MAX_LEN, max(cef::MAX_LEN, leef::MAX_LEN));

/// Upper bound on [`write()`]'s output for any event and any [`Options`]: `<191>1 `, the
/// timestamp, a host name (a sanitized sensor name has at most as many characters as the name
/// has bytes, or an IPv6 address), the fixed APP-NAME and PROCID, the longest MSGID, the
/// structured data at its worst escaping, the BOM and the longest payload.
pub const MAX_LEN: usize = "<191>1 ".len()
    + TIMESTAMP_LEN
    + 1
    + max(MAX_SENSOR_NAME, IP_LEN)
    + 1
    + APP_NAME.len()
    + " - ".len()
    + MSGID_LEN
    + 1
    + SD_LEN
    + 1
    + BOM.len()
    + PAYLOAD_LEN;

const fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// Upper bound on [`write_framed()`]'s output: the length prefix, a space, and the message.
pub const MAX_FRAMED_LEN: usize = decimal_digits(MAX_LEN) + 1 + MAX_LEN;

/// An SD PARAM-VALUE (see the module docs): `"`, `\` and `]` escaped; the controls and
/// U+2028/U+2029 replaced, so the header stays on one line.
pub(crate) const PARAM_VALUE: Rule = Rule {
    ascii: AsciiSet::controls_and(b"\"\\]"),
    escape: |c| {
        Escaped::of(match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            ']' => "\\]",
            _ => "\u{FFFD}",
        })
    },
};

/// Writes the HOSTNAME field (see the module docs).
fn hostname<W: Write>(out: &mut Out<'_, W>, name: &str, ip: IpAddr) -> Result<(), Error> {
    if name.is_empty() {
        return out.ip(ip);
    }
    // A non-ASCII character's bytes are all above 0x7F, so a byte test is a character test.
    if name.bytes().all(|b| b.is_ascii_graphic()) {
        return out.str(name);
    }
    let printable = |c: char| c.is_ascii_graphic();
    let mut start = 0;
    for (at, c) in name.char_indices() {
        if !printable(c) {
            out.str(name.get(start..at).unwrap_or(""))?;
            out.str("_")?;
            start = at + c.len_utf8();
        }
    }
    out.str(name.get(start..).unwrap_or(""))
}

/// `<PRI>1 `.
fn pri<W: Write>(out: &mut Out<'_, W>, pri: u8) -> Result<(), Error> {
    let mut text = StackText::<{ "<191>1 ".len() }>::new();
    text.push(b'<');
    text.push_decimal(u64::from(pri), 1);
    text.push_str(">1 ");
    out.bytes(text.as_bytes())
}

fn header<W: Write>(out: &mut Out<'_, W>, event: &Event, options: &Options) -> Result<(), Error> {
    let severity = event.severity();
    pri(
        out,
        options.facility.code() * 8 + options.level.get(severity).code(),
    )?;
    let time = Civil::from_epoch_ms(event.time_ms());
    if time.year <= 9999 {
        out.rfc3339(time)?;
        out.str(" ")?;
    } else {
        out.str("- ")?;
    }
    let sensor = event.sensor();
    hostname(out, &sensor.name, sensor.ip)?;
    out.str(" ")?;
    out.str(APP_NAME)?;
    out.str(" - ")?;
    match event {
        Event::Alert(_) => out.str(ALERT_MSGID)?,
        Event::Notification(n) => out.str(n.kind.token())?,
    }
    out.str(" [")?;
    out.str(SD_ID)?;
    out.str(" id=\"")?;
    event_id(out, event, PARAM_VALUE)?;
    match event {
        Event::Alert(a) => {
            out.str("\" engine=\"")?;
            out.str(a.engine.as_str())?;
        }
        Event::Notification(n) => {
            out.str("\" kind=\"")?;
            out.str(n.kind.token())?;
        }
    }
    out.str("\" severity=\"")?;
    out.str(severity.as_str())?;
    out.str(if event.truncated() {
        "\" truncated=\"true\"] "
    } else {
        "\"] "
    })?;
    if options.bom {
        out.str(BOM)?;
    }
    Ok(())
}

/// Renders `event` as one RFC 5424 message (no framing, no trailing newline) into `out`.
///
/// Returns the number of bytes written, or [`Error::BufferFull`] when `out` has no room (a
/// buffer of [`MAX_LEN`] bytes always has).
pub fn write<W: Write>(event: &Event, options: &Options, out: &mut W) -> Result<usize, Error> {
    let head = {
        let mut head = Out::new(out);
        header(&mut head, event, options)?;
        head.written()
    };
    let body = options.payload.write(event, out)?;
    Ok(head + body)
}

/// Renders `event` with RFC 6587 octet-counting framing (`<length> <message>`), as sent over
/// TCP or TLS, into the free part of `out`; returns the frame's length.
///
/// The message is rendered once: after room for a one-digit prefix, then moved right by the
/// prefix's other digits (a copy of the message within the buffer, much cheaper than rendering
/// it a second time to learn its length first), and the prefix written in front of it. So only
/// the frame's own bytes are ever written: the buffer past the frame is left as it was. The
/// message itself is [`write()`]; the frame is transport.
///
/// Returns the number of bytes written, or [`Error::BufferFull`] when `out` has no room for the
/// frame (a buffer of [`MAX_FRAMED_LEN`] bytes always has).
pub fn write_framed(
    event: &Event,
    options: &Options,
    out: &mut SliceWriter<'_>,
) -> Result<usize, Error> {
    let free = out.buf.get_mut(out.len..).ok_or(Error::BufferFull)?;
    // The shortest prefix, `0 `: the message goes after it, never before the final position.
    const AT: usize = "0 ".len();
    let len = write(
        event,
        options,
        &mut SliceWriter::new(free.get_mut(AT..).ok_or(Error::BufferFull)?),
    )?;
    let mut prefix = StackText::<{ MAX_U64_TEXT + 1 }>::new();
    prefix.push_decimal(len as u64, 1);
    prefix.push(b' ');
    let prefix = prefix.as_bytes();
    let frame_len = prefix.len() + len;
    let frame = free.get_mut(..frame_len).ok_or(Error::BufferFull)?;
    // In bounds: `AT + len <= frame_len` as the prefix is at least `AT` long.
    frame.copy_within(AT..AT + len, prefix.len());
    frame
        .get_mut(..prefix.len())
        .ok_or(Error::BufferFull)?
        .copy_from_slice(prefix);
    out.len += frame_len;
    Ok(frame_len)
}
