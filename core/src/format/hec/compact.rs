//! The HEC envelope for bare metal: the same output as the host's [`super::write`], written
//! member by member through [`Out`] (about 80 small writes per alert) in the least code, as
//! the firmware's flash budget requires. The host build uses the faster chunked writer in
//! `hec.rs`; the golden tests of both builds (host tests and the firmware's QEMU run) hold
//! them to the same bytes.

use embedded_io::Write;

use super::{
    DESTINATION, EndpointKeys, MAX_TIME_TEXT, Options, SOURCE, SOURCETYPE_ALERT,
    SOURCETYPE_NOTIFICATION, STRING,
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
    let sourcetype = match (&options.sourcetype, event) {
        (Some(sourcetype), _) => sourcetype.as_str(),
        (None, Event::Alert(_)) => SOURCETYPE_ALERT,
        (None, Event::Notification(_)) => SOURCETYPE_NOTIFICATION,
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

/// `{"time":<seconds>.<millis>`: the envelope's opening and its time, in one write.
fn epoch_seconds<W: Write>(out: &mut Out<'_, W>, ms: u64) -> Result<(), Error> {
    const OPEN: &str = "{\"time\":";
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
