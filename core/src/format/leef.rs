//! IBM QRadar Log Event Extended Format (LEEF) 1.0, one event per line.
//!
//! ```text
//! LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value<TAB>...
//! ```
//!
//! - Vendor and product come from [`Options`] (defaults `icsfwd`, `OT Sensor`); version is the
//!   sensor's software version; an empty header field is written as [`EMPTY_HEADER_FIELD`]
//!   (`unknown`), as in CEF; EventID is the same kind id as CEF's signature id
//!   ([`cef::signature_id`]), so a QRadar QID map can key on it.
//! - Attributes, separated by a tab (the fixed LEEF 1.0 delimiter), in this order: `devTime`
//!   (`MMM dd yyyy HH:mm:ss.SSS`, UTC) and `devTimeFormat` (that pattern), `sev` (Warning 1,
//!   Minor 4, Major 8, Critical 10), `severity` (the word), `cat` (alert group, or
//!   [`cef::NOTIFICATION_CATEGORY`]), `engine`, `title`, `id` (the event id `<sensor>-<id>`),
//!   `proto` (the industrial protocol name, e.g. `S7`), `src`, `srcName`, `srcMAC`, `srcPort`,
//!   `dst`, `dstName`, `dstMAC`, `dstPort`, `sensor` (name), `sensorIP`, `truncated=true` when
//!   any field was cut, and `msg` last. LEEF's `src`/`dst` take IPv4 and IPv6 alike. Empty
//!   values and absent ports or MACs are left out.
//!
//! Escaping (total and reversible, so no value can forge an attribute, a header field or a
//! line): in every header field and attribute value `\` becomes `\\`, tab `\t`, LF `\n`, CR
//! `\r`, and any other control character (Unicode category Cc, U+0000–U+001F and
//! U+007F–U+009F) and U+2028/U+2029 become `\uXXXX` (four upper-case hex digits). In header
//! fields `|` also becomes `\|`. `=` is not escaped: QRadar splits each tab-separated attribute
//! at its first `=`, so an `=` inside a value is data.
//!
//! Guarantees: [`write()`] never panics or allocates; any [`Event`] with any [`Options`] renders
//! into [`MAX_LEN`] bytes; a smaller sink gets [`Error::BufferFull`].
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::format::{leef, SliceWriter};
//!
//! let mut alert = Alert::new(42, 1_557_059_334_123, Engine::Operational, Severity::Major);
//! alert.set_title("PLC Program Stop");
//! alert.set_message("line 1\nline 2");
//! let mut buf = [0u8; leef::MAX_LEN];
//! let mut out = SliceWriter::new(&mut buf);
//! let n = leef::write(&Event::from(alert), &leef::Options::default(), &mut out).unwrap();
//! let line = core::str::from_utf8(&out.written()[..n]).unwrap();
//! assert!(line.starts_with("LEEF:1.0|icsfwd|OT Sensor|unknown|OPERATIONAL:"));
//! assert!(line.contains("|devTime=May 05 2019 12:28:54.123\tdevTimeFormat="));
//! assert!(line.ends_with("\tmsg=line 1\\nline 2"));
//! ```

use core::net::IpAddr;

use embedded_io::Write;

use crate::alert::{
    self, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT, MAX_PROTOCOL,
    MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION,
};
use crate::format::cef::{self, MAX_SIGNATURE_ID, NOTIFICATION_CATEGORY};
use crate::format::{
    self, AsciiSet, EMPTY_HEADER_FIELD, Error, Escaped, MAX_MAC_TEXT, MAX_PORT_TEXT, Out, Rule,
    event_id, longest_engine_name, longest_notification_name, longest_severity_name, max,
};
use crate::stack_text::Case;
use crate::time::{Civil, LEGACY_PATTERN};

pub use crate::format::{MAX_PRODUCT, MAX_VENDOR};

/// How a LEEF line (`Vendor` and `Product`) is labelled; see [`DeviceLabels`](crate::format::DeviceLabels).
pub type Options = crate::format::DeviceLabels;

// Attribute keys with their delimiters, written exactly as they appear; MAX_LEN sums them.
const DEV_TIME: &str = "devTime=";
const DEV_TIME_FORMAT: &str = "\tdevTimeFormat=";
const SEV: &str = "\tsev=";
const SEVERITY: &str = "\tseverity=";
const CAT: &str = "\tcat=";
const ENGINE: &str = "\tengine=";
const TITLE: &str = "\ttitle=";
const ID: &str = "\tid=";
const PROTO: &str = "\tproto=";
const SRC: &str = "\tsrc=";
const SRC_NAME: &str = "\tsrcName=";
const SRC_MAC: &str = "\tsrcMAC=";
const SRC_PORT: &str = "\tsrcPort=";
const DST: &str = "\tdst=";
const DST_NAME: &str = "\tdstName=";
const DST_MAC: &str = "\tdstMAC=";
const DST_PORT: &str = "\tdstPort=";
const SENSOR: &str = "\tsensor=";
const SENSOR_IP: &str = "\tsensorIP=";
const TRUNCATED: &str = "\ttruncated=true";
const MSG: &str = "\tmsg=";

/// Worst-case growth of one input byte: a one-byte control character becomes the six bytes
/// `\uXXXX` (a two-byte C1 control or a three-byte U+2028 grows less).
const GROWTH: usize = 6;
/// Longest IP address text (IPv6, eight groups of four hex digits and seven colons).
const IP_LEN: usize = 39;
/// Longest `u64` in decimal.
const U64_LEN: usize = 20;
/// Longest `devTime`: `MMM dd ` + a year of up to 20 digits + ` HH:mm:ss.SSS`.
const DEV_TIME_LEN: usize = "MMM dd ".len() + U64_LEN + " HH:mm:ss.SSS".len();

/// Bound on one endpoint's attributes (source and destination keys have equal lengths).
const MAX_ENDPOINT: usize = SRC.len()
    + IP_LEN
    + SRC_NAME.len()
    + GROWTH * MAX_DEVICE_NAME
    + SRC_MAC.len()
    + MAX_MAC_TEXT
    + SRC_PORT.len()
    + MAX_PORT_TEXT;

/// Upper bound on the output for any event and any [`Options`]: every field at its capacity,
/// every byte of every text grown by `GROWTH` (6), every optional attribute present.
pub const MAX_LEN: usize = "LEEF:1.0|".len()
    + GROWTH * MAX_VENDOR
    + 1
    + GROWTH * MAX_PRODUCT
    + 1
    + GROWTH * MAX_VERSION
    + 1
    + MAX_SIGNATURE_ID
    + 1
    + DEV_TIME.len()
    + DEV_TIME_LEN
    + DEV_TIME_FORMAT.len()
    + LEGACY_PATTERN.len()
    + SEV.len()
    + "10".len()
    + SEVERITY.len()
    + longest_severity_name()
    + CAT.len()
    + GROWTH * max(MAX_GROUP, NOTIFICATION_CATEGORY.len())
    + ENGINE.len()
    + longest_engine_name()
    + TITLE.len()
    + GROWTH * max(MAX_TITLE, longest_notification_name())
    + ID.len()
    + GROWTH * MAX_SENSOR_NAME
    + 1
    + U64_LEN
    + PROTO.len()
    + GROWTH * MAX_PROTOCOL
    + 2 * MAX_ENDPOINT
    + SENSOR.len()
    + GROWTH * MAX_SENSOR_NAME
    + SENSOR_IP.len()
    + IP_LEN
    + TRUNCATED.len()
    + MSG.len()
    + GROWTH * max(MAX_MESSAGE, MAX_NOTIFICATION_TEXT);

/// Header fields: as [`ATTRIBUTE`], and `|` too.
pub(crate) const HEADER: Rule = Rule {
    ascii: AsciiSet::controls_and(b"\\|"),
    escape,
};

/// Attribute values (see the module docs).
pub(crate) const ATTRIBUTE: Rule = Rule {
    ascii: AsciiSet::controls_and(b"\\"),
    escape,
};

/// The escape of a treated character (`|` is treated in header fields only).
fn escape(c: char) -> Escaped {
    match c {
        '\\' => Escaped::of("\\\\"),
        '\t' => Escaped::of("\\t"),
        '\n' => Escaped::of("\\n"),
        '\r' => Escaped::of("\\r"),
        '|' => Escaped::of("\\|"),
        // The other controls and U+2028/U+2029.
        _ => Escaped::hex("\\u", u32::from(c), 4, Case::Upper, ""),
    }
}

/// A header field and its `|`; an empty value is written as [`EMPTY_HEADER_FIELD`].
fn header<W: Write>(out: &mut Out<'_, W>, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        out.str(EMPTY_HEADER_FIELD)?;
    } else {
        format::escape(out, value, HEADER)?;
    }
    out.str("|")
}

/// `<TAB>key=value` with the value escaped, or nothing when the value is empty.
fn text<W: Write>(out: &mut Out<'_, W>, key: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Ok(());
    }
    out.str(key)?;
    format::escape(out, value, ATTRIBUTE)
}

struct EndpointKeys {
    ip: &'static str,
    name: &'static str,
    mac: &'static str,
    port: &'static str,
}

fn endpoint<W: Write>(
    out: &mut Out<'_, W>,
    keys: &EndpointKeys,
    endpoint: &alert::Endpoint,
) -> Result<(), Error> {
    ip(out, keys.ip, endpoint.ip)?;
    text(out, keys.name, &endpoint.name)?;
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

fn ip<W: Write>(out: &mut Out<'_, W>, key: &str, ip: IpAddr) -> Result<(), Error> {
    out.str(key)?;
    out.ip(ip)
}

/// Renders `event` as one LEEF 1.0 line (no trailing newline) into `out`.
///
/// Returns the number of bytes written, or [`Error::BufferFull`] when `out` has no room (a
/// buffer of [`MAX_LEN`] bytes always has).
pub fn write<W: Write>(event: &Event, options: &Options, out: &mut W) -> Result<usize, Error> {
    let mut out = Out::new(out);
    let sensor = event.sensor();
    out.str("LEEF:1.0|")?;
    header(&mut out, &options.vendor)?;
    header(&mut out, &options.product)?;
    header(&mut out, &sensor.version)?;
    // The event id needs no escaping (see `cef::SignatureId`).
    out.bytes(cef::signature_id(event).text().as_bytes())?;
    out.str("|")?;

    out.str(DEV_TIME)?;
    out.legacy_time(Civil::from_epoch_ms(event.time_ms()))?;
    out.str(DEV_TIME_FORMAT)?;
    out.str(LEGACY_PATTERN)?;
    let severity = event.severity();
    out.str(SEV)?;
    out.decimal(u64::from(severity.level_0_to_10()))?;
    out.str(SEVERITY)?;
    out.str(severity.as_str())?;
    match event {
        Event::Alert(a) => {
            text(&mut out, CAT, &a.group)?;
            out.str(ENGINE)?;
            out.str(a.engine.as_str())?;
        }
        Event::Notification(_) => text(&mut out, CAT, NOTIFICATION_CATEGORY)?,
    }
    text(&mut out, TITLE, event.title())?;
    out.str(ID)?;
    event_id(&mut out, event, ATTRIBUTE)?;
    if let Event::Alert(a) = event {
        text(&mut out, PROTO, &a.protocol)?;
        let source = EndpointKeys {
            ip: SRC,
            name: SRC_NAME,
            mac: SRC_MAC,
            port: SRC_PORT,
        };
        endpoint(&mut out, &source, &a.source)?;
        let destination = EndpointKeys {
            ip: DST,
            name: DST_NAME,
            mac: DST_MAC,
            port: DST_PORT,
        };
        endpoint(&mut out, &destination, &a.destination)?;
    }
    text(&mut out, SENSOR, &sensor.name)?;
    ip(&mut out, SENSOR_IP, sensor.ip)?;
    if event.truncated() {
        out.str(TRUNCATED)?;
    }
    let message = match event {
        Event::Alert(a) => a.message.as_str(),
        Event::Notification(n) => n.text.as_str(),
    };
    text(&mut out, MSG, message)?;
    out.finish()
}
