//! ArcSight Common Event Format (CEF) revision 0, one event per line.
//!
//! ```text
//! CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension
//! ```
//!
//! - Vendor and product come from [`Options`] (defaults `icsfwd`, `OT Sensor`); version is the
//!   sensor's software version; a header field with nothing to hold (a sensor that sends no
//!   version) is written as [`EMPTY_HEADER_FIELD`] (`unknown`), never left empty, since
//!   readers refuse a line with an empty header field; the signature id is [`signature_id`]
//!   (what *kind* of event this is, stable across occurrences); the name is the alert title (or the notification's name);
//!   the severity is [`Severity::level_0_to_10`](crate::alert::Severity::level_0_to_10) (Warning 1, Minor 4, Major 8, Critical 10).
//! - The extension uses ArcSight dictionary keys wherever one exists (`rt`, `externalId`, `cat`,
//!   `app`, `src`, `spt`, `smac`, `shost`, `dst`, `dpt`, `dmac`, `dhost`, `dvc`, `dvchost`, `msg`)
//!   and labelled custom strings for the rest (`cs1` engine, `cs2` severity word, `cs3`
//!   truncated). `src`, `dst` and `dvc` are IPv4-only in the dictionary, so an IPv6 address goes
//!   to `c6a2` (source), `c6a3` (destination) or `c6a1` (sensor), each with its label.
//!   Empty values and absent ports or MACs are left out.
//!
//! Escaping (total, so no value can forge a key, a header field or a line):
//!
//! - Header fields: `\` becomes `\\` and `|` becomes `\|`; `=` is kept.
//! - Extension values: `\` becomes `\\`, `=` becomes `\=`, LF becomes `\n` and CR becomes
//!   `\r`; `|` is kept (the CEF specification does not escape it there).
//! - Everywhere: any other control character (Unicode category Cc, U+0000–U+001F and
//!   U+007F–U+009F, tab included; in the header also LF and CR) and U+2028/U+2029 (line and
//!   paragraph separators) become U+FFFD REPLACEMENT CHARACTER. CEF defines no escape for them,
//!   and the replacement shows the reader that something was there.
//!
//! Guarantees: [`write()`] never panics or allocates; any [`Event`] with any [`Options`] renders
//! into [`MAX_LEN`] bytes; a smaller sink gets [`Error::BufferFull`].
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::format::{cef, SliceWriter};
//!
//! let mut alert = Alert::new(42, 1_557_059_334_123, Engine::Operational, Severity::Major);
//! alert.set_title("PLC Program Stop");
//! alert.set_message("a=b");
//! alert.sensor.set_name("sensor-01");
//! let mut buf = [0u8; cef::MAX_LEN];
//! let mut out = SliceWriter::new(&mut buf);
//! let n = cef::write(&Event::from(alert), &cef::Options::default(), &mut out).unwrap();
//! let line = core::str::from_utf8(&out.written()[..n]).unwrap();
//! assert!(line.starts_with("CEF:0|icsfwd|OT Sensor|unknown|OPERATIONAL:"));
//! assert!(line.contains("|PLC Program Stop|8|rt=1557059334123 externalId=sensor-01-42 "));
//! assert!(line.ends_with(" msg=a\\=b"));
//! ```

use core::fmt;
use core::net::IpAddr;

use embedded_io::Write;

use crate::alert::{
    self, Alert, Engine, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT,
    MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, NotificationKind,
};
use crate::format::{
    AsciiSet, EMPTY_HEADER_FIELD, Error, Escaped, MAX_MAC_TEXT, MAX_PORT_TEXT, MAX_U64_TEXT, Out,
    Rule, escape, event_id, longest_engine_name, longest_notification_name, longest_severity_name,
    max,
};
use crate::stack_text::{Case, StackText};

pub use crate::format::{MAX_PRODUCT, MAX_VENDOR};

/// How a CEF line (`Device Vendor` and `Device Product`) is labelled; see [`DeviceLabels`](crate::format::DeviceLabels).
pub type Options = crate::format::DeviceLabels;

/// The longest [`SignatureId`] rendering: `PROTOCOL_VIOLATION:` + 8 hex digits is 27 bytes,
/// `notification:alerts_dropped` is 27 bytes; 32 leaves room and is what receivers are told.
pub const MAX_SIGNATURE_ID: usize = 32;

/// What kind of event this is, stable across occurrences: the CEF signature id and the LEEF
/// event id.
///
/// Rendered as `<ENGINE_TOKEN>:<hash>` for an alert, where `<hash>` is the 32-bit FNV-1a hash of
/// the title's UTF-8 bytes in 8 lower-case hex digits (e.g. `OPERATIONAL:9c9d0e3a`), and as
/// `notification:<kind token>` for a notification (e.g. `notification:sensor_offline`). At most
/// [`MAX_SIGNATURE_ID`] bytes, only `[A-Za-z0-9_:]`, so it needs no escaping anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SignatureId {
    /// An alert: its engine and the hash of its title.
    Alert {
        /// The engine that raised it.
        engine: Engine,
        /// FNV-1a (32-bit) of the title.
        title_hash: u32,
    },
    /// A system notification of this kind.
    Notification(NotificationKind),
}

impl SignatureId {
    /// The rendering, assembled on the stack for one write.
    pub(crate) fn text(&self) -> StackText<MAX_SIGNATURE_ID> {
        let mut text = StackText::new();
        match self {
            SignatureId::Alert { engine, title_hash } => {
                text.push_str(engine.token());
                text.push(b':');
                text.push_hex(*title_hash, 8, Case::Lower);
            }
            SignatureId::Notification(kind) => {
                text.push_str("notification:");
                text.push_str(kind.token());
            }
        }
        text
    }
}

impl fmt::Display for SignatureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text is ASCII, so this never fails.
        let text = self.text();
        f.write_str(core::str::from_utf8(text.as_bytes()).map_err(|_| fmt::Error)?)
    }
}

/// The kind id of `event`: see [`SignatureId`].
pub fn signature_id(event: &Event) -> SignatureId {
    match event {
        Event::Alert(a) => SignatureId::Alert {
            engine: a.engine,
            title_hash: fnv1a_32(a.title.as_bytes()),
        },
        Event::Notification(n) => SignatureId::Notification(n.kind),
    }
}

/// The 32-bit FNV-1a hash (offset basis 0x811c9dc5, prime 0x01000193).
pub const fn fnv1a_32(mut bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    while let [byte, rest @ ..] = bytes {
        hash ^= *byte as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        bytes = rest;
    }
    hash
}

/// The `cat` value of a system notification (alerts carry their alert group).
pub const NOTIFICATION_CATEGORY: &str = "System notification";

// Extension keys, written exactly as they appear; MAX_LEN sums their lengths.
const RT: &str = "rt=";
const EXTERNAL_ID: &str = " externalId=";
const CAT: &str = " cat=";
const APP: &str = " app=";
const SRC: &str = " src=";
const SRC_V6: &str = " c6a2Label=Source IPv6 Address c6a2=";
const SPT: &str = " spt=";
const SMAC: &str = " smac=";
const SHOST: &str = " shost=";
const DST: &str = " dst=";
const DST_V6: &str = " c6a3Label=Destination IPv6 Address c6a3=";
const DPT: &str = " dpt=";
const DMAC: &str = " dmac=";
const DHOST: &str = " dhost=";
const DVC: &str = " dvc=";
const DVC_V6: &str = " c6a1Label=Device IPv6 Address c6a1=";
const DVCHOST: &str = " dvchost=";
const ENGINE: &str = " cs1Label=engine cs1=";
const SEVERITY: &str = " cs2Label=severity cs2=";
const TRUNCATED: &str = " cs3Label=truncated cs3=true";
const MSG: &str = " msg=";

/// Worst-case growth of one input byte: a one-byte control character becomes the three-byte
/// U+FFFD; `\`, `|`, `=`, LF and CR become two bytes.
const GROWTH: usize = 3;
/// Longest IPv4 address text (`255.255.255.255`).
const IPV4_LEN: usize = 15;
/// Longest IPv6 address text (eight groups of four hex digits and seven colons).
const IPV6_LEN: usize = 39;

/// Bound on an endpoint's keys and values (the IPv6 form is the longer one).
const MAX_ENDPOINT: usize = max(SRC.len() + IPV4_LEN, SRC_V6.len() + IPV6_LEN)
    + SPT.len()
    + MAX_PORT_TEXT
    + SMAC.len()
    + MAX_MAC_TEXT
    + SHOST.len()
    + GROWTH * MAX_DEVICE_NAME;

/// Upper bound on the output for any event and any [`Options`]: every field at its capacity,
/// every byte of every text grown by `GROWTH` (3), every optional key present and the longer
/// (IPv6) address form chosen. The `dst` keys are as long as their `src` counterparts except
/// `Destination` vs `Source` in the label, hence the `DST_V6 - SRC_V6` term.
pub const MAX_LEN: usize = "CEF:0|".len()
    + GROWTH * MAX_VENDOR
    + 1
    + GROWTH * MAX_PRODUCT
    + 1
    + GROWTH * MAX_VERSION
    + 1
    + MAX_SIGNATURE_ID
    + 1
    + GROWTH * max(MAX_TITLE, longest_notification_name())
    + 1
    + "10|".len()
    + RT.len()
    + MAX_U64_TEXT
    + EXTERNAL_ID.len()
    + GROWTH * MAX_SENSOR_NAME
    + 1
    + MAX_U64_TEXT
    + CAT.len()
    + GROWTH * max(MAX_GROUP, NOTIFICATION_CATEGORY.len())
    + APP.len()
    + GROWTH * MAX_PROTOCOL
    + 2 * MAX_ENDPOINT
    + (DST_V6.len() - SRC_V6.len())
    + max(DVC.len() + IPV4_LEN, DVC_V6.len() + IPV6_LEN)
    + DVCHOST.len()
    + GROWTH * MAX_SENSOR_NAME
    + ENGINE.len()
    + longest_engine_name()
    + SEVERITY.len()
    + longest_severity_name()
    + TRUNCATED.len()
    + MSG.len()
    + GROWTH * max(MAX_MESSAGE, MAX_NOTIFICATION_TEXT);

/// Header fields: `\` and `|` escaped; controls (LF and CR among them), DEL, C1 and
/// U+2028/U+2029 replaced.
pub(crate) const HEADER: Rule = Rule {
    ascii: AsciiSet::controls_and(b"\\|"),
    escape: |c| {
        Escaped::of(match c {
            '\\' => "\\\\",
            '|' => "\\|",
            _ => REPLACEMENT,
        })
    },
};

/// Extension values: `\`, `=`, LF and CR escaped; the other controls, DEL, C1 and
/// U+2028/U+2029 replaced.
pub(crate) const EXTENSION: Rule = Rule {
    ascii: AsciiSet::controls_and(b"\\="),
    escape: |c| {
        Escaped::of(match c {
            '\\' => "\\\\",
            '=' => "\\=",
            '\n' => "\\n",
            '\r' => "\\r",
            _ => REPLACEMENT,
        })
    },
};

/// What a control character or separator becomes: CEF defines no escape for them.
const REPLACEMENT: &str = "\u{FFFD}";

/// A header field and its `|`; an empty value is written as [`EMPTY_HEADER_FIELD`].
fn header<W: Write>(out: &mut Out<'_, W>, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        out.str(EMPTY_HEADER_FIELD)?;
    } else {
        escape(out, value, HEADER)?;
    }
    out.str("|")
}

/// ` key=value` with the value escaped, or nothing when the value is empty.
fn text<W: Write>(out: &mut Out<'_, W>, key: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Ok(());
    }
    out.str(key)?;
    escape(out, value, EXTENSION)
}

/// An address under its IPv4 key, or its IPv6 key (which carries its label).
fn address<W: Write>(out: &mut Out<'_, W>, v4: &str, v6: &str, ip: IpAddr) -> Result<(), Error> {
    out.str(if ip.is_ipv4() { v4 } else { v6 })?;
    out.ip(ip)
}

struct EndpointKeys {
    ip_v4: &'static str,
    ip_v6: &'static str,
    port: &'static str,
    mac: &'static str,
    host: &'static str,
}

fn endpoint<W: Write>(
    out: &mut Out<'_, W>,
    keys: &EndpointKeys,
    endpoint: &alert::Endpoint,
) -> Result<(), Error> {
    address(out, keys.ip_v4, keys.ip_v6, endpoint.ip)?;
    if let Some(port) = endpoint.port {
        out.str(keys.port)?;
        out.decimal(u64::from(port))?;
    }
    if let Some(mac) = endpoint.mac {
        out.str(keys.mac)?;
        out.mac(mac)?;
    }
    text(out, keys.host, &endpoint.name)
}

fn alert_fields<W: Write>(out: &mut Out<'_, W>, a: &Alert) -> Result<(), Error> {
    text(out, CAT, &a.group)?;
    text(out, APP, &a.protocol)?;
    let source = EndpointKeys {
        ip_v4: SRC,
        ip_v6: SRC_V6,
        port: SPT,
        mac: SMAC,
        host: SHOST,
    };
    endpoint(out, &source, &a.source)?;
    let destination = EndpointKeys {
        ip_v4: DST,
        ip_v6: DST_V6,
        port: DPT,
        mac: DMAC,
        host: DHOST,
    };
    endpoint(out, &destination, &a.destination)
}

/// Renders `event` as one CEF line (no trailing newline) into `out`.
///
/// Returns the number of bytes written, or [`Error::BufferFull`] when `out` has no room (a
/// buffer of [`MAX_LEN`] bytes always has).
pub fn write<W: Write>(event: &Event, options: &Options, out: &mut W) -> Result<usize, Error> {
    let mut out = Out::new(out);
    let sensor = event.sensor();
    out.str("CEF:0|")?;
    header(&mut out, &options.vendor)?;
    header(&mut out, &options.product)?;
    header(&mut out, &sensor.version)?;
    // The signature id needs no escaping (see `SignatureId`).
    out.bytes(signature_id(event).text().as_bytes())?;
    out.str("|")?;
    header(&mut out, event.title())?;
    out.decimal(u64::from(event.severity().level_0_to_10()))?;
    out.str("|")?;

    out.str(RT)?;
    out.decimal(event.time_ms())?;
    out.str(EXTERNAL_ID)?;
    event_id(&mut out, event, EXTENSION)?;
    match event {
        Event::Alert(a) => alert_fields(&mut out, a)?,
        Event::Notification(_) => text(&mut out, CAT, NOTIFICATION_CATEGORY)?,
    }
    address(&mut out, DVC, DVC_V6, sensor.ip)?;
    text(&mut out, DVCHOST, &sensor.name)?;
    if let Event::Alert(a) = event {
        out.str(ENGINE)?;
        out.str(a.engine.as_str())?;
    }
    out.str(SEVERITY)?;
    out.str(event.severity().as_str())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn signature_ids_render_engine_token_and_hash_or_notification_token() {
        let alert = SignatureId::Alert {
            engine: Engine::ProtocolViolation,
            title_hash: 0x0012_abcd,
        };
        assert_eq!(
            std::format!("{alert}"),
            std::format!("{}:0012abcd", Engine::ProtocolViolation.token())
        );
        let notification = SignatureId::Notification(NotificationKind::ALL[0]);
        assert_eq!(
            std::format!("{notification}"),
            std::format!("notification:{}", NotificationKind::ALL[0].token())
        );
    }

    #[test]
    fn every_signature_id_fits_its_bound() {
        let mut ids = std::vec::Vec::new();
        for engine in Engine::ALL {
            ids.push(SignatureId::Alert {
                engine,
                title_hash: u32::MAX,
            });
        }
        for kind in NotificationKind::ALL {
            ids.push(SignatureId::Notification(kind));
        }
        for id in ids {
            let text = std::format!("{id}");
            assert!(text.len() <= MAX_SIGNATURE_ID, "{text}");
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
                "{text}"
            );
        }
    }
}
