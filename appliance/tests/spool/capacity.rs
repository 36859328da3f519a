//! Reliability S9 (appliance side): alerts at and beyond every capacity through ingest decoding
//! and the spool. Asserted: no panic; a field cut to its capacity is named in the decoder's
//! `truncated` list (what the ingest answer reports) and flagged on the event; a line beyond
//! the line limit is refused, not cut; the largest and the empty events go through the spool
//! unchanged, flag included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use icsfwd::ingest::schema::{Message, Problem, decode_line, encode_line};
use icsfwd::testing::spool::SpoolConfig;
use icsfwd_core::alert::{
    Alert, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT, MAX_PROTOCOL,
    MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, Notification, NotificationKind,
};
use serde_json::Value;
use spool_support::oracle::open_sim;
use spool_support::sim::SimStorage;
use spool_support::{dest, set};

/// (JSON path, capacity, notification?)
const FIELDS: [(&str, usize, bool); 10] = [
    ("title", MAX_TITLE, false),
    ("message", MAX_MESSAGE, false),
    ("protocol", MAX_PROTOCOL, false),
    ("group", MAX_GROUP, false),
    ("source.name", MAX_DEVICE_NAME, false),
    ("destination.name", MAX_DEVICE_NAME, false),
    ("sensor.name", MAX_SENSOR_NAME, false),
    ("sensor.version", MAX_VERSION, false),
    ("text", MAX_NOTIFICATION_TEXT, true),
    ("sensor.name", MAX_SENSOR_NAME, true),
];

fn base(notification: bool) -> Value {
    let event = if notification {
        let mut n = Notification::new(9, 1_700_000_000_000, NotificationKind::SensorOffline);
        n.set_sensor_name("sensor-a");
        Event::from(n)
    } else {
        Event::from(Alert::example(1_700_000_000_000))
    };
    serde_json::from_str(&encode_line(&event)).unwrap()
}

fn set_path(json: &mut Value, path: &str, value: &str) {
    let mut node = json;
    for key in path.split('.') {
        node = node.get_mut(key).unwrap_or_else(|| panic!("no {path}"));
    }
    *node = Value::String(value.to_owned());
}

fn spool_round_trip(event: &Event) -> Event {
    let (mut spool, _) = open_sim(SimStorage::default(), SpoolConfig::default(), 1).unwrap();
    let accepted = spool.append_batch(&[(event.clone(), set(&[0]))]).unwrap();
    assert_eq!(accepted, [Ok(1)]);
    spool.peek(dest(0), 1).unwrap().remove(0).event
}

#[test]
fn s9_every_ingest_field_beyond_capacity_is_cut_named_and_flagged_and_survives_the_spool() {
    for (path, cap, notification) in FIELDS {
        for (value, cut) in [
            (String::new(), false),
            ("x".repeat(cap), false),
            ("x".repeat(cap + 1), true),
            ("€".repeat(cap / 3 + 1), true),
            ("y".repeat(cap * 4), true),
        ] {
            let mut json = base(notification);
            set_path(&mut json, path, &value);
            let line = json.to_string();
            let what = format!("{path} with {} bytes", value.len());
            let decoded = match decode_line(line.as_bytes(), 0) {
                Ok(decoded) => decoded,
                // A required field may not be empty: refused, naming the field (told).
                Err(refusal) if value.is_empty() => {
                    assert_eq!(
                        refusal.field.as_deref(),
                        Some(path),
                        "{what}: {}",
                        refusal.error
                    );
                    continue;
                }
                Err(refusal) => panic!("{what}: refused: {}", refusal.error),
            };
            let Message::Event(event) = decoded.message else {
                panic!("{what}: not an event")
            };
            if cut {
                assert_eq!(decoded.truncated, [path], "{what}");
            } else {
                assert!(
                    decoded.truncated.is_empty(),
                    "{what}: {:?}",
                    decoded.truncated
                );
            }
            assert_eq!(event.truncated(), cut, "{what}: flag");
            assert_eq!(spool_round_trip(&event), event, "{what}: spool round trip");
        }
    }
}

#[test]
fn s9_every_field_far_beyond_capacity_at_once_is_refused_as_too_long_or_cut_and_all_named() {
    let mut json = base(false);
    for (path, cap, notification) in FIELDS {
        if !notification {
            set_path(&mut json, path, &"z".repeat(cap * 3));
        }
    }
    let line = json.to_string();
    match decode_line(line.as_bytes(), 0) {
        Ok(decoded) => {
            let Message::Event(event) = decoded.message else {
                panic!("not an event")
            };
            let want: Vec<&str> = FIELDS.iter().filter(|f| !f.2).map(|f| f.0).collect();
            let mut got = decoded.truncated.clone();
            got.sort_unstable();
            let mut want_sorted = want.clone();
            want_sorted.sort_unstable();
            assert_eq!(got, want_sorted);
            assert!(event.truncated());
            assert_eq!(spool_round_trip(&event), event);
        }
        Err(refusal) => assert_eq!(refusal.problem, Problem::TooLong, "{}", refusal.error),
    }
    // A line far beyond the limit is refused, never cut into an alert.
    let mut json = base(false);
    set_path(&mut json, "message", &"m".repeat(10 << 20));
    let refusal = decode_line(json.to_string().as_bytes(), 0).unwrap_err();
    assert_eq!(refusal.problem, Problem::TooLong);
}
