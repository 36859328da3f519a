//! The HEC envelope on a host: the text between escaped strings (keys, punctuation, numbers,
//! times, addresses) gathers in one stack [`Chunk`] and reaches the sink in one write, and a
//! short value that needs no escaping joins the chunk too, so an alert takes a handful of
//! writes instead of about 80. The output is the bytes of bare metal's member-by-member
//! `compact` writer (the same golden files hold both).

use embedded_io::Write;

use super::{
    DESTINATION, EndpointKeys, Options, SOURCE, STRING, default_sourcetype, max, raw_member,
    string_member,
};
use crate::alert::{Alert, Endpoint, Event, Notification, Sensor};
use crate::format::{
    Error, MAX_IP_TEXT, MAX_MAC_TEXT, MAX_PORT_TEXT, MAX_U64_TEXT, Out, SHORT_VALUE, escape,
    longest_engine_name, longest_notification_name, longest_notification_token,
    longest_severity_name,
};
use crate::stack_text::StackText;
use crate::time::{Civil, MAX_RFC3339};

/// [`write()`](super::write) on a host: the unescaped runs between escaped strings gather in a [`Chunk`].
pub(super) fn write<W: Write>(
    event: &Event,
    options: &Options,
    out: &mut W,
) -> Result<usize, Error> {
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
    let sourcetype = match &options.sourcetype {
        Some(sourcetype) => sourcetype.as_str(),
        None => default_sourcetype(event),
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
        w.chunk.push_mac(mac.0);
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
