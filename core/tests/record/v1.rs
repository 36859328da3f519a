//! Version 1 of the record body is exactly the bytes every earlier release wrote.
//!
//! Until the body became its own wire type (`core/src/record/v1.rs`), it was the serde
//! derive of the domain types, postcard-encoded. This file keeps that schema as it was — the
//! domain types' fields, in order, deriving serde — as an independent oracle, and compares it
//! with the version-1 writer and reader: the same bytes for every event, and the same verdict
//! (and the same event) for any bytes, so a spool written by an earlier release reads exactly
//! as it did. The committed vectors (`core/tests/vectors/`) and the golden spool
//! (`appliance/tests/spool_fixtures/v1/`) pin the same bytes from the other side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test, and the shared fixtures it includes, report failure by panicking"
)]

use crate::common;

use std::net::IpAddr;

use heapless::String;
use icsfwd_core::alert::{
    Alert, Endpoint, Engine, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT,
    MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, MacAddr, Notification, NotificationKind,
    Sensor, Severity,
};
use icsfwd_core::record::{self, DecodeError, MAX_BODY};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use common::{arb_event, hostile_alert, max_alert, notification, sample_alert};

/// The version this file pins.
const V1: u8 = 1;

// ---- the schema as the domain types derived it before version 1 was frozen ----

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum OldEngine {
    ProtocolViolation,
    PolicyViolation,
    Malware,
    Anomaly,
    Operational,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum OldSeverity {
    Warning,
    Minor,
    Major,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum OldKind {
    SensorOnline,
    SensorOffline,
    BackupFailure,
    AlertsDropped,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct OldMac([u8; 6]);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OldEndpoint {
    name: String<MAX_DEVICE_NAME>,
    ip: IpAddr,
    mac: Option<OldMac>,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OldSensor {
    name: String<MAX_SENSOR_NAME>,
    ip: IpAddr,
    version: String<MAX_VERSION>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OldAlert {
    id: u64,
    time_ms: u64,
    engine: OldEngine,
    severity: OldSeverity,
    title: String<MAX_TITLE>,
    message: String<MAX_MESSAGE>,
    protocol: String<MAX_PROTOCOL>,
    group: String<MAX_GROUP>,
    source: OldEndpoint,
    destination: OldEndpoint,
    sensor: OldSensor,
    truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OldNotification {
    id: u64,
    time_ms: u64,
    kind: OldKind,
    sensor: OldSensor,
    text: String<MAX_NOTIFICATION_TEXT>,
    truncated: bool,
}

#[expect(
    clippy::large_enum_variant,
    reason = "the shape of the domain Event, whose variants are inline too"
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum OldEvent {
    Alert(OldAlert),
    Notification(OldNotification),
}

// ---- the oracle's conversions, written apart from v1.rs ----

fn old_endpoint(e: &Endpoint) -> OldEndpoint {
    OldEndpoint {
        name: e.name.clone(),
        ip: e.ip,
        mac: e.mac.map(|m| OldMac(m.0)),
        port: e.port,
    }
}

fn old_sensor(s: &Sensor) -> OldSensor {
    OldSensor {
        name: s.name.clone(),
        ip: s.ip,
        version: s.version.clone(),
    }
}

fn old_event(event: &Event) -> OldEvent {
    match event {
        Event::Alert(a) => OldEvent::Alert(OldAlert {
            id: a.id,
            time_ms: a.time_ms,
            engine: [
                OldEngine::ProtocolViolation,
                OldEngine::PolicyViolation,
                OldEngine::Malware,
                OldEngine::Anomaly,
                OldEngine::Operational,
            ][Engine::ALL.iter().position(|e| *e == a.engine).unwrap()],
            severity: [
                OldSeverity::Warning,
                OldSeverity::Minor,
                OldSeverity::Major,
                OldSeverity::Critical,
            ][Severity::ALL.iter().position(|s| *s == a.severity).unwrap()],
            title: a.title.clone(),
            message: a.message.clone(),
            protocol: a.protocol.clone(),
            group: a.group.clone(),
            source: old_endpoint(&a.source),
            destination: old_endpoint(&a.destination),
            sensor: old_sensor(&a.sensor),
            truncated: a.truncated,
        }),
        Event::Notification(n) => OldEvent::Notification(OldNotification {
            id: n.id,
            time_ms: n.time_ms,
            kind: [
                OldKind::SensorOnline,
                OldKind::SensorOffline,
                OldKind::BackupFailure,
                OldKind::AlertsDropped,
            ][NotificationKind::ALL
                .iter()
                .position(|k| *k == n.kind)
                .unwrap()],
            sensor: old_sensor(&n.sensor),
            text: n.text.clone(),
            truncated: n.truncated,
        }),
    }
}

fn new_endpoint(e: OldEndpoint) -> Endpoint {
    let (mut endpoint, _) = Endpoint::new(&e.name, e.ip);
    endpoint.mac = e.mac.map(|m| MacAddr(m.0));
    endpoint.port = e.port;
    endpoint
}

fn new_sensor(s: OldSensor) -> Sensor {
    let mut sensor = Sensor::unknown();
    sensor.set_name(&s.name);
    sensor.ip = s.ip;
    sensor.set_version(&s.version);
    sensor
}

fn new_event(old: OldEvent) -> Event {
    match old {
        OldEvent::Alert(a) => {
            let mut alert = Alert::new(
                a.id,
                a.time_ms,
                Engine::ALL[a.engine as usize],
                Severity::ALL[a.severity as usize],
            );
            alert.title = a.title;
            alert.message = a.message;
            alert.protocol = a.protocol;
            alert.group = a.group;
            alert.source = new_endpoint(a.source);
            alert.destination = new_endpoint(a.destination);
            alert.sensor = new_sensor(a.sensor);
            alert.truncated = a.truncated;
            Event::from(alert)
        }
        OldEvent::Notification(n) => {
            let mut notification =
                Notification::new(n.id, n.time_ms, NotificationKind::ALL[n.kind as usize]);
            notification.sensor = new_sensor(n.sensor);
            notification.text = n.text;
            notification.truncated = n.truncated;
            Event::from(notification)
        }
    }
}

/// What the earlier releases read from `body`: exactly one event, nothing left over.
fn old_decode(body: &[u8]) -> Option<Event> {
    match postcard::take_from_bytes::<OldEvent>(body) {
        Ok((old, [])) => Some(new_event(old)),
        _ => None,
    }
}

fn v1_body(event: &Event) -> Vec<u8> {
    let mut body = vec![0u8; MAX_BODY];
    let n = record::encode_body(event, &mut body).unwrap();
    body.truncate(n);
    body
}

fn arb_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Arbitrary bytes, mostly short: variants, varints and tags out of range.
        prop::collection::vec(any::<u8>(), 0..64),
        // A valid body with a few bytes changed, cut or added.
        (
            arb_event(),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            0usize..8,
            prop::collection::vec(any::<u8>(), 0..3),
        )
            .prop_map(|(event, edits, cut, extra)| {
                let mut body = v1_body(&event);
                for (at, byte) in edits {
                    let i = at.index(body.len());
                    body[i] = byte;
                }
                body.truncate(body.len().saturating_sub(cut));
                body.extend(extra);
                body
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn version_1_writes_for_every_event_the_bytes_earlier_releases_wrote(event in arb_event()) {
        // The kinds added in version 2 are written in version 2 (`core/src/record/v2.rs`).
        prop_assume!(record::version_for(&event) == V1);
        let oracle = postcard::to_stdvec(&old_event(&event)).unwrap();
        prop_assert_eq!(v1_body(&event), oracle);
    }

    #[test]
    fn version_1_reads_any_bytes_as_earlier_releases_did(body in arb_body()) {
        let read = record::decode_body(V1, &body);
        match old_decode(&body) {
            Some(event) => prop_assert_eq!(read, Ok(event)),
            None => prop_assert_eq!(read, Err(DecodeError::Body)),
        }
    }
}

#[test]
fn the_fixture_events_have_the_bytes_earlier_releases_wrote() {
    let events = [
        Event::from(sample_alert()),
        Event::from(hostile_alert()),
        Event::from(max_alert('é')),
        Event::from(notification(NotificationKind::AlertsDropped)),
    ];
    for event in events {
        let body = v1_body(&event);
        assert_eq!(body, postcard::to_stdvec(&old_event(&event)).unwrap());
        assert_eq!(record::decode_body(V1, &body), Ok(event));
    }
}
