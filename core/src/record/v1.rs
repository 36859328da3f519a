//! The record body of format version 1: the wire type of every event a spool written by
//! icsfwd 0.1 holds. **Frozen**: its layout never changes; a new layout is a new version
//! (`docs/record-format.md`, "Adding a record version").
//!
//! The body is a [postcard](https://postcard.jamesmunns.com/wire-format) sequence. This module
//! is its whole schema: it writes and reads the fields itself, in the order below, with no
//! serde derive, so the domain types in `alert.rs` carry no wire format and can change freely.
//! Decoding is the conversion to the domain: each field goes straight into an existing
//! [`Event`] (texts are copied from the body, nothing else is built), so a version-1 body costs
//! no second event on the stack and no code beyond its reader and writer.
//!
//! ```text
//! body          = event                               (nothing may follow it)
//! event         = 00 alert | 01 notification           (the variant, a varint)
//! alert         = id:u64 time_ms:u64 engine severity
//!                 title:str(128) message:str(2048) protocol:str(32) group:str(64)
//!                 source:endpoint destination:endpoint sensor truncated:bool
//! notification  = id:u64 time_ms:u64 kind sensor text:str(512) truncated:bool
//! endpoint      = name:str(64) ip mac:option<[u8; 6]> port:option<u16>
//! sensor        = name:str(64) ip version:str(32)
//! ip            = 00 [u8; 4] | 01 [u8; 16]             (IPv4 | IPv6, network order)
//! engine        = 00 Protocol Violation | 01 Policy Violation | 02 Malware | 03 Anomaly
//!               | 04 Operational
//! severity      = 00 Warning | 01 Minor | 02 Major | 03 Critical
//! kind          = 00 Sensor online | 01 Sensor offline | 02 Backup failure | 03 Alerts dropped
//!
//! u64, u16, u32 LEB128 varint: 7 bits a byte, low first, high bit = more (at most 10 / 3 /
//!               5 bytes); variants are u32 varints
//! str(N)        varint byte length n <= N, then n bytes of UTF-8
//! bool          00 false | 01 true
//! option<T>     00 | 01 T
//! [u8; k]       k bytes as they are
//! ```
//!
//! A body that does not follow this exactly — a variant out of range, a string longer than its
//! capacity or not UTF-8, a bool other than `00`/`01`, bytes missing or left over — is
//! [`DecodeError::Body`].
//!
//! Guarantees: nothing here panics or allocates, for any input; the reader checks every length
//! before it reads.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use heapless::String;
use postcard::ser_flavors::Flavor;
use serde::{Deserialize, Serialize};

use super::DecodeError;
use crate::alert::{
    Alert, Endpoint, Engine, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT,
    MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, MacAddr, Notification, NotificationKind,
    Sensor, Severity,
};

/// This format's version byte.
pub(super) const VERSION: u8 = 1;

// The size bound, field by field, from the layout above.

/// Bytes of a varint holding at most `max`.
const fn varint_len(max: u64) -> usize {
    let mut len = 1;
    let mut rest = max >> 7;
    while rest != 0 {
        len += 1;
        rest >>= 7;
    }
    len
}
/// Bytes of a string of at most `capacity` bytes.
const fn string_len(capacity: usize) -> usize {
    varint_len(capacity as u64) + capacity
}
const U64_LEN: usize = varint_len(u64::MAX);
const U16_LEN: usize = varint_len(u16::MAX as u64);
/// Every variant index here is below 128: one varint byte.
const VARIANT_LEN: usize = 1;
const BOOL_LEN: usize = 1;
const IP_LEN: usize = VARIANT_LEN + 16;
const ENDPOINT_LEN: usize = string_len(MAX_DEVICE_NAME) + IP_LEN + (1 + 6) + (1 + U16_LEN);
const SENSOR_LEN: usize = string_len(MAX_SENSOR_NAME) + IP_LEN + string_len(MAX_VERSION);
const ALERT_LEN: usize = 2 * U64_LEN
    + 2 * VARIANT_LEN
    + string_len(MAX_TITLE)
    + string_len(MAX_MESSAGE)
    + string_len(MAX_PROTOCOL)
    + string_len(MAX_GROUP)
    + 2 * ENDPOINT_LEN
    + SENSOR_LEN
    + BOOL_LEN;
const NOTIFICATION_LEN: usize =
    2 * U64_LEN + VARIANT_LEN + SENSOR_LEN + string_len(MAX_NOTIFICATION_TEXT) + BOOL_LEN;
const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// The longest version-1 body (an alert with every field at its maximum): 2603 bytes.
pub(super) const MAX_BODY: usize = VARIANT_LEN + max(ALERT_LEN, NOTIFICATION_LEN);

// Variant indices, frozen here rather than taken from the domain enums' declaration order.
pub(super) const ALERT: u32 = 0;
pub(super) const NOTIFICATION: u32 = 1;
const IPV4: u32 = 0;
const IPV6: u32 = 1;
/// An option's tag: one byte, not a varint.
const NONE: u8 = 0;
const SOME: u8 = 1;

const fn engine_code(engine: Engine) -> u32 {
    match engine {
        Engine::ProtocolViolation => 0,
        Engine::PolicyViolation => 1,
        Engine::Malware => 2,
        Engine::Anomaly => 3,
        Engine::Operational => 4,
    }
}

fn engine(code: u32) -> Result<Engine, DecodeError> {
    Ok(match code {
        0 => Engine::ProtocolViolation,
        1 => Engine::PolicyViolation,
        2 => Engine::Malware,
        3 => Engine::Anomaly,
        4 => Engine::Operational,
        _ => return Err(DecodeError::Body),
    })
}

const fn severity_code(severity: Severity) -> u32 {
    match severity {
        Severity::Warning => 0,
        Severity::Minor => 1,
        Severity::Major => 2,
        Severity::Critical => 3,
    }
}

fn severity(code: u32) -> Result<Severity, DecodeError> {
    Ok(match code {
        0 => Severity::Warning,
        1 => Severity::Minor,
        2 => Severity::Major,
        3 => Severity::Critical,
        _ => return Err(DecodeError::Body),
    })
}

/// A kind's code in every version that has it: version 1 has codes 0 to 3, version 2
/// (`v2.rs`) adds 4 and 5. One table for both keeps the firmware image small.
const fn kind_code(kind: NotificationKind) -> u32 {
    match kind {
        NotificationKind::SensorOnline => 0,
        NotificationKind::SensorOffline => 1,
        NotificationKind::BackupFailure => 2,
        NotificationKind::AlertsDropped => 3,
        NotificationKind::Health => 4,
        NotificationKind::Heartbeat => 5,
    }
}

/// The highest kind code of `version` (1 or 2).
const fn last_kind_code(version: u8) -> u32 {
    if version <= VERSION { 3 } else { 5 }
}

/// The kind of `code` in `version`.
fn kind(code: u32, version: u8) -> Result<NotificationKind, DecodeError> {
    if code > last_kind_code(version) {
        return Err(DecodeError::Body);
    }
    Ok(match code {
        0 => NotificationKind::SensorOnline,
        1 => NotificationKind::SensorOffline,
        2 => NotificationKind::BackupFailure,
        3 => NotificationKind::AlertsDropped,
        4 => NotificationKind::Health,
        5 => NotificationKind::Heartbeat,
        _ => return Err(DecodeError::Body),
    })
}

// ---- writing ----

/// The postcard serializer writing into flavor `F`.
pub(super) type Writer<F> = postcard::Serializer<F>;

/// Whether version 1 can hold `event`: every alert, and the notifications of the kinds it
/// has a code for.
pub(super) fn holds(event: &Event) -> bool {
    match event {
        // The test-only version 3 (`v3.rs`) added this field; version 1 has none.
        #[cfg(test)]
        Event::Alert(alert) => alert.technique.is_none(),
        #[cfg(not(test))]
        Event::Alert(_) => true,
        Event::Notification(n) => kind_code(n.kind) <= last_kind_code(VERSION),
    }
}

/// Writes `event` as a version-1 body.
///
/// # Errors
///
/// The flavor's error (a full buffer); `WontImplement` for a notification of a kind version 1
/// has no code for (see [`holds`]).
// The encoder calls `write_as` with the version `super::version_for` picks; tests write
// version 1 by name.
#[cfg(test)]
pub(super) fn write<F: Flavor>(out: &mut Writer<F>, event: &Event) -> postcard::Result<()> {
    write_as(out, event, VERSION)
}

/// Writes `event` as a body of `version` 1 or 2, which differ only in the kind codes they
/// have (`v2.rs`): one writer for both keeps the firmware image small.
///
/// # Errors
///
/// The flavor's error (a full buffer); `WontImplement` for a notification of a kind `version`
/// has no code for.
pub(super) fn write_as<F: Flavor>(
    out: &mut Writer<F>,
    event: &Event,
    version: u8,
) -> postcard::Result<()> {
    match event {
        Event::Alert(alert) => {
            ALERT.serialize(&mut *out)?;
            write_alert(out, alert)
        }
        Event::Notification(n) => {
            let code = kind_code(n.kind);
            if code > last_kind_code(version) {
                return Err(postcard::Error::WontImplement);
            }
            NOTIFICATION.serialize(&mut *out)?;
            write_notification(out, n, code)
        }
    }
}

/// Writes the fields of an alert, in the layout's order.
pub(super) fn write_alert<F: Flavor>(out: &mut Writer<F>, alert: &Alert) -> postcard::Result<()> {
    alert.id.serialize(&mut *out)?;
    alert.time_ms.serialize(&mut *out)?;
    engine_code(alert.engine).serialize(&mut *out)?;
    severity_code(alert.severity).serialize(&mut *out)?;
    alert.title.as_str().serialize(&mut *out)?;
    alert.message.as_str().serialize(&mut *out)?;
    alert.protocol.as_str().serialize(&mut *out)?;
    alert.group.as_str().serialize(&mut *out)?;
    write_endpoint(out, &alert.source)?;
    write_endpoint(out, &alert.destination)?;
    write_sensor(out, &alert.sensor)?;
    alert.truncated.serialize(&mut *out)
}

/// Writes the fields of a notification, in the layout's order, with its kind as `kind_code`.
fn write_notification<F: Flavor>(
    out: &mut Writer<F>,
    n: &Notification,
    kind_code: u32,
) -> postcard::Result<()> {
    n.id.serialize(&mut *out)?;
    n.time_ms.serialize(&mut *out)?;
    kind_code.serialize(&mut *out)?;
    write_sensor(out, &n.sensor)?;
    n.text.as_str().serialize(&mut *out)?;
    n.truncated.serialize(&mut *out)
}

fn write_endpoint<F: Flavor>(out: &mut Writer<F>, endpoint: &Endpoint) -> postcard::Result<()> {
    endpoint.name.as_str().serialize(&mut *out)?;
    write_ip(out, endpoint.ip)?;
    match endpoint.mac {
        None => NONE.serialize(&mut *out)?,
        Some(MacAddr(mac)) => {
            SOME.serialize(&mut *out)?;
            write_bytes(out, &mac)?;
        }
    }
    endpoint.port.serialize(&mut *out)
}

fn write_sensor<F: Flavor>(out: &mut Writer<F>, sensor: &Sensor) -> postcard::Result<()> {
    sensor.name.as_str().serialize(&mut *out)?;
    write_ip(out, sensor.ip)?;
    sensor.version.as_str().serialize(&mut *out)
}

fn write_ip<F: Flavor>(out: &mut Writer<F>, ip: IpAddr) -> postcard::Result<()> {
    match ip {
        IpAddr::V4(v4) => {
            IPV4.serialize(&mut *out)?;
            write_bytes(out, &v4.octets())
        }
        IpAddr::V6(v6) => {
            IPV6.serialize(&mut *out)?;
            write_bytes(out, &v6.octets())
        }
    }
}

/// Writes `[u8; k]` as it is (what postcard writes for it, one byte per element, in one call).
fn write_bytes<F: Flavor>(out: &mut Writer<F>, bytes: &[u8]) -> postcard::Result<()> {
    out.output.try_extend(bytes)
}

// ---- reading ----

/// The postcard deserializer over a body.
pub(super) type Reader<'de> = postcard::Deserializer<'de, postcard::de_flavors::Slice<'de>>;

/// Reads the next value of type `T` (postcard's encoding of it, as the layout names it).
pub(super) fn take<'de, T: Deserialize<'de>>(input: &mut Reader<'de>) -> Result<T, DecodeError> {
    T::deserialize(&mut *input).map_err(|_| DecodeError::Body)
}

/// Reads a version-1 body into `event`, overwriting it field by field; the body must be read
/// exactly to its end. `event` keeps its variant when the body has the same one (nothing is
/// built then); otherwise it becomes a blank of the body's variant first.
///
/// # Errors
///
/// [`DecodeError::Body`]; `event` then holds an unspecified but valid event.
pub(super) fn read_into(body: &[u8], event: &mut Event) -> Result<(), DecodeError> {
    read_into_as(body, event, VERSION)
}

/// Reads a body of `version` 1 or 2 (see [`write_as`]) into `event`, as `read_into`.
///
/// # Errors
///
/// [`DecodeError::Body`].
pub(super) fn read_into_as(body: &[u8], event: &mut Event, version: u8) -> Result<(), DecodeError> {
    let mut input = Reader::from_bytes(body);
    match take::<u32>(&mut input)? {
        ALERT => read_alert(&mut input, alert_slot(event)?)?,
        NOTIFICATION => read_notification(&mut input, notification_slot(event)?, version)?,
        _ => return Err(DecodeError::Body),
    }
    finish(input)
}

/// Checks that the body was read exactly to its end.
pub(super) fn finish(input: Reader<'_>) -> Result<(), DecodeError> {
    match input.finalize() {
        Ok([]) => Ok(()),
        _ => Err(DecodeError::Body),
    }
}

/// `event`'s alert, after making `event` a blank alert if it is a notification.
pub(super) fn alert_slot(event: &mut Event) -> Result<&mut Alert, DecodeError> {
    if !matches!(event, Event::Alert(_)) {
        *event = Event::Alert(Alert::new(
            0,
            0,
            Engine::ProtocolViolation,
            Severity::Warning,
        ));
    }
    match event {
        Event::Alert(alert) => Ok(alert),
        // Made an alert just above: an error rather than a panic path.
        Event::Notification(_) => Err(DecodeError::Body),
    }
}

/// `event`'s notification, after making `event` a blank notification if it is an alert.
pub(super) fn notification_slot(event: &mut Event) -> Result<&mut Notification, DecodeError> {
    if !matches!(event, Event::Notification(_)) {
        *event = Event::Notification(Notification::new(0, 0, NotificationKind::SensorOnline));
    }
    match event {
        Event::Notification(n) => Ok(n),
        Event::Alert(_) => Err(DecodeError::Body),
    }
}

/// Reads the fields of an alert, in the layout's order, into `alert`: this is the conversion
/// from version 1 to the domain [`Alert`]. A field the domain gains later gets its
/// version-1 value here (`docs/record-format.md`, "Adding a record version").
pub(super) fn read_alert(input: &mut Reader<'_>, alert: &mut Alert) -> Result<(), DecodeError> {
    alert.id = take(input)?;
    alert.time_ms = take(input)?;
    alert.engine = engine(take(input)?)?;
    alert.severity = severity(take(input)?)?;
    read_str(input, &mut alert.title)?;
    read_str(input, &mut alert.message)?;
    read_str(input, &mut alert.protocol)?;
    read_str(input, &mut alert.group)?;
    read_endpoint(input, &mut alert.source)?;
    read_endpoint(input, &mut alert.destination)?;
    read_sensor(input, &mut alert.sensor)?;
    alert.truncated = take(input)?;
    // The test-only version 3 (`v3.rs`) added this field; version 1 has none.
    #[cfg(test)]
    {
        alert.technique = None;
    }
    Ok(())
}

/// Reads a notification's fields into `n`: the conversion from version 1 to the domain
/// [`Notification`].
/// `version` (1 or 2) decides which kind codes are read.
pub(super) fn read_notification(
    input: &mut Reader<'_>,
    n: &mut Notification,
    version: u8,
) -> Result<(), DecodeError> {
    n.id = take(input)?;
    n.time_ms = take(input)?;
    n.kind = kind(take(input)?, version)?;
    read_sensor(input, &mut n.sensor)?;
    read_str(input, &mut n.text)?;
    n.truncated = take(input)?;
    Ok(())
}

fn read_endpoint(input: &mut Reader<'_>, endpoint: &mut Endpoint) -> Result<(), DecodeError> {
    read_str(input, &mut endpoint.name)?;
    endpoint.ip = read_ip(input)?;
    endpoint.mac = match take::<u8>(input)? {
        NONE => None,
        SOME => {
            let mut mac = [0; 6];
            read_bytes(input, &mut mac)?;
            Some(MacAddr(mac))
        }
        _ => return Err(DecodeError::Body),
    };
    endpoint.port = take(input)?;
    Ok(())
}

fn read_sensor(input: &mut Reader<'_>, sensor: &mut Sensor) -> Result<(), DecodeError> {
    read_str(input, &mut sensor.name)?;
    sensor.ip = read_ip(input)?;
    read_str(input, &mut sensor.version)
}

fn read_ip(input: &mut Reader<'_>) -> Result<IpAddr, DecodeError> {
    match take::<u32>(input)? {
        IPV4 => {
            let mut octets = [0; 4];
            read_bytes(input, &mut octets)?;
            Ok(IpAddr::V4(Ipv4Addr::from(octets)))
        }
        IPV6 => {
            let mut octets = [0; 16];
            read_bytes(input, &mut octets)?;
            Ok(IpAddr::V6(Ipv6Addr::from(octets)))
        }
        _ => Err(DecodeError::Body),
    }
}

/// Fills `dst` with the next `dst.len()` bytes: a `[u8; k]`, read one byte at a time as
/// postcard reads it (a loop instead of serde's unrolled array visitor: smaller code).
fn read_bytes(input: &mut Reader<'_>, dst: &mut [u8]) -> Result<(), DecodeError> {
    for byte in dst {
        *byte = take(input)?;
    }
    Ok(())
}

/// Copies the next string of the body into `dst`; longer than its capacity is an error, as
/// no writer writes one.
fn read_str<const N: usize>(
    input: &mut Reader<'_>,
    dst: &mut String<N>,
) -> Result<(), DecodeError> {
    let text: &str = take(input)?;
    dst.clear();
    dst.push_str(text).map_err(|_| DecodeError::Body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_body_is_the_sum_of_field_bounds() {
        // Alert: id, time, engine, severity, four texts, two endpoints, sensor, flag; plus
        // the Event variant. Independent arithmetic from the layout in the module docs.
        let endpoint = (1 + 64) + 17 + 7 + 4;
        let sensor = (1 + 64) + 17 + (1 + 32);
        let alert = 10
            + 10
            + 1
            + 1
            + (2 + 128)
            + (2 + 2048)
            + (1 + 32)
            + (1 + 64)
            + 2 * endpoint
            + sensor
            + 1;
        assert_eq!(MAX_BODY, 1 + alert);
        assert_eq!(MAX_BODY, 2603);
    }

    #[test]
    fn varint_lengths_follow_leb128() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(16_383), 2);
        assert_eq!(varint_len(16_384), 3);
        assert_eq!(varint_len(u64::MAX), 10);
    }

    #[test]
    fn every_variant_code_reads_back_as_its_variant_and_no_other_code_reads() {
        for (i, engine_) in Engine::ALL.into_iter().enumerate() {
            assert_eq!(engine_code(engine_), i as u32);
            assert_eq!(engine(engine_code(engine_)), Ok(engine_));
        }
        assert_eq!(engine(5), Err(DecodeError::Body));
        for (i, severity_) in Severity::ALL.into_iter().enumerate() {
            assert_eq!(severity_code(severity_), i as u32);
            assert_eq!(severity(severity_code(severity_)), Ok(severity_));
        }
        assert_eq!(severity(4), Err(DecodeError::Body));
        for (i, kind_) in NotificationKind::ALL.into_iter().enumerate() {
            assert_eq!(kind_code(kind_), i as u32);
            assert_eq!(kind(i as u32, 2), Ok(kind_));
            assert_eq!(kind(i as u32, 1).is_ok(), i < 4);
        }
        assert_eq!(kind(6, 2), Err(DecodeError::Body));
    }
}
