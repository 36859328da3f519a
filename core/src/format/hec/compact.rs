//! The HEC envelope for bare metal: the same output as the host's [`super::write`], written
//! member by member through [`Out`] (about 80 small writes per alert) in the least code, as
//! the firmware's flash budget requires. The host build uses the faster chunked writer
//! (`hec/chunked.rs`) and compiles this one only for the unit tests below, which hold it to
//! the host's golden files (`core/tests/golden/hec_*.json`) and to the chunked writer's bytes
//! for any event; the firmware's QEMU run checks it on the target against the same files.

use embedded_io::Write;

use super::{
    DESTINATION, EndpointKeys, MAX_TIME_TEXT, Options, SOURCE, STRING, default_sourcetype,
};
use crate::alert::{Alert, Endpoint, Event, Notification, Sensor};
use crate::format::{Error, Out, escape, event_id};
use crate::stack_text::StackText;
use crate::time::Civil;

/// Renders `event` as one HEC JSON envelope into `out`, without a trailing newline.
///
/// Returns the number of bytes written, [`Error::BufferFull`] when `out` has no room (a
/// [`SliceWriter`](crate::format::SliceWriter) of [`MAX_LEN`](super::MAX_LEN) bytes always has), or
/// [`Error::Io`] when the sink fails otherwise. On error `out` may hold a prefix.
pub(super) fn write<W: Write>(
    event: &Event,
    options: &Options,
    out: &mut W,
) -> Result<usize, Error> {
    let mut out = Out::new(out);
    epoch_seconds(&mut out, event.time_ms())?;
    let host = match &options.host {
        Some(host) => host.as_str(),
        None => event.sensor().name.as_str(),
    };
    optional_string(&mut out, string_key!("host"), host)?;
    optional_string(&mut out, string_key!("source"), &options.source)?;
    let sourcetype = match &options.sourcetype {
        Some(sourcetype) => sourcetype.as_str(),
        None => default_sourcetype(event),
    };
    optional_string(&mut out, string_key!("sourcetype"), sourcetype)?;
    if let Some(index) = &options.index {
        optional_string(&mut out, string_key!("index"), index)?;
    }
    out.str(",\"event\":{\"id\":\"")?;
    event_id(&mut out, event, STRING)?;
    out.str("\"")?;
    match event {
        Event::Alert(alert) => write_alert(alert, &mut out)?,
        Event::Notification(notification) => write_notification(notification, &mut out)?,
    }
    // Closes `fields` and the envelope.
    out.str("}}")?;
    out.finish()
}

/// The envelope's opening, up to its time.
const OPEN: &str = "{\"time\":";

/// `{"time":<seconds>.<millis>`: the envelope's opening and its time, in one write.
fn epoch_seconds<W: Write>(out: &mut Out<'_, W>, ms: u64) -> Result<(), Error> {
    let mut text = StackText::<{ OPEN.len() + MAX_TIME_TEXT }>::new();
    text.push_str(OPEN);
    text.push_decimal(ms / 1000, 1);
    text.push(b'.');
    text.push_decimal(ms % 1000, 3);
    out.bytes(text.as_bytes())
}

fn write_alert<W: Write>(alert: &Alert, out: &mut Out<'_, W>) -> Result<(), Error> {
    out.str(raw_key!("alert_id"))?;
    out.decimal(alert.id)?;
    time(out, alert.time_ms)?;
    string(out, string_key!("engine"), alert.engine.as_str())?;
    string(out, string_key!("severity"), alert.severity.as_str())?;
    string(out, string_key!("title"), &alert.title)?;
    string(out, string_key!("message"), &alert.message)?;
    string(out, string_key!("protocol"), &alert.protocol)?;
    string(out, string_key!("alert_group"), &alert.group)?;
    endpoint(out, &SOURCE, &alert.source)?;
    endpoint(out, &DESTINATION, &alert.destination)?;
    sensor(out, &alert.sensor, alert.truncated)?;
    string(out, "},\"fields\":{\"engine\":\"", alert.engine.as_str())?;
    string(out, string_key!("severity"), alert.severity.as_str())?;
    string(out, string_key!("sensor"), &alert.sensor.name)?;
    string(out, string_key!("protocol"), &alert.protocol)
}

fn write_notification<W: Write>(
    notification: &Notification,
    out: &mut Out<'_, W>,
) -> Result<(), Error> {
    let kind = notification.kind;
    out.str(raw_key!("notification_id"))?;
    out.decimal(notification.id)?;
    time(out, notification.time_ms)?;
    string(out, string_key!("kind"), kind.token())?;
    string(out, string_key!("title"), kind.as_str())?;
    string(out, string_key!("severity"), kind.severity().as_str())?;
    string(out, string_key!("text"), &notification.text)?;
    sensor(out, &notification.sensor, notification.truncated)?;
    string(out, "},\"fields\":{\"kind\":\"", kind.token())?;
    string(out, string_key!("severity"), kind.severity().as_str())?;
    string(out, string_key!("sensor"), &notification.sensor.name)
}

/// The event's `time` member as an RFC 3339 string.
fn time<W: Write>(out: &mut Out<'_, W>, time_ms: u64) -> Result<(), Error> {
    out.str(string_key!("time"))?;
    out.rfc3339(Civil::from_epoch_ms(time_ms))?;
    out.str("\"")
}

fn endpoint<W: Write>(
    out: &mut Out<'_, W>,
    keys: &EndpointKeys,
    endpoint: &Endpoint,
) -> Result<(), Error> {
    string(out, keys.name, &endpoint.name)?;
    out.str(keys.ip)?;
    out.ip(endpoint.ip)?;
    out.str("\"")?;
    if let Some(mac) = endpoint.mac {
        out.str(keys.mac)?;
        out.mac(mac)?;
        out.str("\"")?;
    }
    if let Some(port) = endpoint.port {
        out.str(keys.port)?;
        out.decimal(u64::from(port))?;
    }
    Ok(())
}

fn sensor<W: Write>(out: &mut Out<'_, W>, sensor: &Sensor, truncated: bool) -> Result<(), Error> {
    string(out, string_key!("sensor_name"), &sensor.name)?;
    out.str(string_key!("sensor_ip"))?;
    out.ip(sensor.ip)?;
    out.str("\"")?;
    string(out, string_key!("sensor_version"), &sensor.version)?;
    out.str(if truncated {
        concat!(raw_key!("truncated"), "true")
    } else {
        concat!(raw_key!("truncated"), "false")
    })
}

/// A string member: `start` (everything up to the opening quote, e.g. `,"title":"`), the
/// value escaped, and the closing quote.
fn string<W: Write>(out: &mut Out<'_, W>, start: &str, value: &str) -> Result<(), Error> {
    out.str(start)?;
    escape(out, value, STRING)?;
    out.str("\"")
}

/// A metadata member, left out when its value is empty.
fn optional_string<W: Write>(out: &mut Out<'_, W>, start: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Ok(());
    }
    string(out, start, value)
}

/// The host tests' fixtures (sample, hostile and at-capacity events, strategies).
#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    reason = "shared test fixtures, written for the host test crates"
)]
#[allow(dead_code, reason = "these tests use part of the shared fixtures")]
#[rustfmt::skip]
#[path = "../../../tests/common/mod.rs"]
mod fixtures;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;
    use std::{format, vec};

    use super::fixtures::{
        WORST_CHARS, arb_event, arb_text, assert_every_short_buffer_reports_full, full,
        golden_events, max_alert, max_notification, notification, sample_alert,
    };
    use crate::alert::{Event, NotificationKind};
    use crate::format::hec::{MAX_LEN, MAX_OPTION_LEN, Options, chunked, compact};
    use crate::format::{Counter, Error, SliceWriter};

    type Writer = fn(&Event, &Options, &mut SliceWriter<'_>) -> Result<usize, Error>;

    /// Bare metal's writer.
    const COMPACT: Writer = |event, options, out| compact::write(event, options, out);
    /// The host's writer.
    const CHUNKED: Writer = |event, options, out| chunked::write(event, options, out);

    /// What `writer` renders for `event` into a buffer of [`MAX_LEN`] bytes.
    fn render(writer: Writer, event: &Event, options: &Options) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0u8; MAX_LEN];
        let mut out = SliceWriter::new(&mut buf);
        let n = writer(event, options, &mut out)?;
        assert_eq!(n, out.len(), "the returned length is the bytes written");
        Ok(out.written().to_vec())
    }

    /// The committed golden file `name`, read only: `UPDATE_GOLDEN=1` rewrites the files from
    /// the host writer (`core/tests/format/hec.rs`), never from this one.
    fn golden(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn compact_writer_renders_every_golden_file_and_touches_nothing_past_it() {
        for (name, event) in golden_events() {
            let file = format!("hec_{name}.json");
            let mut buf = vec![0xA5u8; MAX_LEN + 64];
            let mut out = SliceWriter::new(&mut buf);
            let n = compact::write(&event, &Options::default(), &mut out).unwrap();
            assert_eq!(n, out.len(), "{file}: reported length");
            let (rendered, rest) = buf.split_at(n);
            assert!(
                rendered == golden(&file).as_slice(),
                "{file} differs from bare metal's rendering:\n{}",
                String::from_utf8_lossy(rendered)
            );
            assert!(
                rest.iter().all(|&b| b == 0xA5),
                "{file}: bytes past {n} touched"
            );
            let mut counter = Counter::default();
            let counted = compact::write(&event, &Options::default(), &mut counter).unwrap();
            assert_eq!(counter.count, n, "{file}: counted length");
            assert_eq!(counted, n, "{file}: counted length");
        }
    }

    #[test]
    fn compact_writer_reports_buffer_full_on_every_short_buffer() {
        for event in [
            Event::from(sample_alert()),
            Event::from(notification(NotificationKind::AlertsDropped)),
        ] {
            assert_every_short_buffer_reports_full("hec compact", |out| {
                compact::write(&event, &Options::default(), out)
            });
        }
    }

    #[test]
    fn compact_writer_equals_the_chunked_writer_on_the_widest_events() {
        for c in WORST_CHARS {
            let options = Options {
                host: Some(full(c)),
                source: full(c),
                sourcetype: Some(full(c)),
                index: Some(full(c)),
            };
            for event in [Event::from(max_alert(c)), Event::from(max_notification(c))] {
                let compact = render(COMPACT, &event, &options).unwrap();
                assert!(compact.len() <= MAX_LEN, "{c:?}: {}", compact.len());
                assert!(
                    compact == render(CHUNKED, &event, &options).unwrap(),
                    "{c:?}: the writers differ"
                );
            }
        }
    }

    fn arb_options() -> impl Strategy<Value = Options> {
        (
            proptest::option::of(arb_text::<MAX_OPTION_LEN>()),
            arb_text::<MAX_OPTION_LEN>(),
            proptest::option::of(arb_text::<MAX_OPTION_LEN>()),
            proptest::option::of(arb_text::<MAX_OPTION_LEN>()),
        )
            .prop_map(|(host, source, sourcetype, index)| Options {
                host,
                source,
                sourcetype,
                index,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn compact_writer_equals_the_chunked_writer_on_any_event(
            event in arb_event(),
            options in prop_oneof![Just(Options::default()), arb_options()],
        ) {
            let compact = render(COMPACT, &event, &options);
            let chunked = render(CHUNKED, &event, &options);
            prop_assert!(compact.is_ok());
            prop_assert!(compact == chunked, "{:?}", chunked.map(String::from_utf8));
        }
    }
}
