//! Reliability S9 (core): every text field at, below and beyond its capacity, with cuts that
//! fall inside multi-byte characters, zero-length values, and the largest records. Asserted:
//! no panic; the stored value is the longest prefix within capacity on a character boundary;
//! the event's `truncated` flag is set exactly when something was cut (never silent) and
//! survives the spool record and every output format.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test reports failure by panicking"
)]

use icsfwd_core::alert::{
    Alert, Engine, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT,
    MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, Notification, NotificationKind,
    Severity,
};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::format::{self, Kind, Options, SliceWriter};
use icsfwd_core::record::{self, MAX_FRAME, Record};

type Setter = fn(&mut Event, &str);
type Getter = fn(&Event) -> &str;
/// A field: name, capacity, a fresh event holding it, setter, getter.
type Field = (&'static str, usize, fn() -> Event, Setter, Getter);

fn alert_event() -> Event {
    Event::from(Alert::new(
        1,
        1_700_000_000_000,
        Engine::Anomaly,
        Severity::Minor,
    ))
}

fn notification_event() -> Event {
    Event::from(Notification::new(
        1,
        1_700_000_000_000,
        NotificationKind::BackupFailure,
    ))
}

fn a(e: &mut Event) -> &mut Alert {
    match e {
        Event::Alert(a) => a,
        Event::Notification(_) => unreachable!(),
    }
}

fn ar(e: &Event) -> &Alert {
    match e {
        Event::Alert(a) => a,
        Event::Notification(_) => unreachable!(),
    }
}

fn n(e: &mut Event) -> &mut Notification {
    match e {
        Event::Notification(n) => n,
        Event::Alert(_) => unreachable!(),
    }
}

fn nr(e: &Event) -> &Notification {
    match e {
        Event::Notification(n) => n,
        Event::Alert(_) => unreachable!(),
    }
}

/// Every text field: name, capacity, a fresh event, setter, getter.
const FIELDS: [Field; 10] = [
    (
        "title",
        MAX_TITLE,
        alert_event,
        |e, v| a(e).set_title(v),
        |e| &ar(e).title,
    ),
    (
        "message",
        MAX_MESSAGE,
        alert_event,
        |e, v| a(e).set_message(v),
        |e| &ar(e).message,
    ),
    (
        "protocol",
        MAX_PROTOCOL,
        alert_event,
        |e, v| a(e).set_protocol(v),
        |e| &ar(e).protocol,
    ),
    (
        "group",
        MAX_GROUP,
        alert_event,
        |e, v| a(e).set_group(v),
        |e| &ar(e).group,
    ),
    (
        "source.name",
        MAX_DEVICE_NAME,
        alert_event,
        |e, v| a(e).set_source_name(v),
        |e| &ar(e).source.name,
    ),
    (
        "destination.name",
        MAX_DEVICE_NAME,
        alert_event,
        |e, v| a(e).set_destination_name(v),
        |e| &ar(e).destination.name,
    ),
    (
        "sensor.name",
        MAX_SENSOR_NAME,
        alert_event,
        |e, v| a(e).set_sensor_name(v),
        |e| &ar(e).sensor.name,
    ),
    (
        "sensor.version",
        MAX_VERSION,
        alert_event,
        |e, v| a(e).set_sensor_version(v),
        |e| &ar(e).sensor.version,
    ),
    (
        "notification.text",
        MAX_NOTIFICATION_TEXT,
        notification_event,
        |e, v| n(e).set_text(v),
        |e| &nr(e).text,
    ),
    (
        "notification.sensor.name",
        MAX_SENSOR_NAME,
        notification_event,
        |e, v| n(e).set_sensor_name(v),
        |e| &nr(e).sensor.name,
    ),
];

/// The longest prefix of `s` within `cap` bytes on a character boundary.
fn expected_prefix(s: &str, cap: usize) -> &str {
    let mut end = s.len().min(cap);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Values around the capacity: empty, one below, at, one above, far above, and strings of 2-,
/// 3- and 4-byte characters whose cut falls inside a character.
fn values(cap: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for len in [1, cap.saturating_sub(1), cap, cap + 1, 2 * cap, 100 * cap] {
        out.push("x".repeat(len));
    }
    for c in ['é', '€', '😀'] {
        let width = c.len_utf8();
        for pad in 0..width {
            // `pad` ASCII bytes first so the character boundary moves across the cap.
            let mut s = "p".repeat(pad);
            while s.len() <= cap + width {
                s.push(c);
            }
            out.push(s);
        }
        out.push(c.to_string().repeat(cap / width));
    }
    out
}

fn round_trip(event: &Event) -> Event {
    let record = Record {
        seq: 1,
        destinations: DestinationSet::from_bits(1),
        event: event.clone(),
    };
    let mut frame = vec![0u8; MAX_FRAME];
    let n = record::encode(&record, &mut frame).unwrap();
    assert!(n <= MAX_FRAME);
    record::decode_frame(&frame[..n]).unwrap().event
}

fn render_all(event: &Event, what: &str) {
    let mut buf = vec![0u8; format::MAX_LEN];
    for kind in Kind::ALL {
        let mut out = SliceWriter::new(&mut buf);
        let len = format::write(kind, event, &Options::default(), &mut out)
            .unwrap_or_else(|e| panic!("{what}: {kind:?}: {e:?}"));
        let text = String::from_utf8_lossy(&buf[..len]).into_owned();
        if event.truncated() {
            assert!(
                text.to_lowercase().contains("truncated"),
                "{what}: {kind:?} hides the truncation: {text}"
            );
        }
    }
}

#[test]
fn every_field_at_and_beyond_capacity_is_cut_on_a_char_boundary_and_flagged_never_silently() {
    let mut cases = 0;
    let mut cut = 0;
    for (name, cap, fresh, set, get) in FIELDS {
        for value in values(cap) {
            let mut event = fresh();
            set(&mut event, &value);
            let stored = get(&event);
            let want = expected_prefix(&value, cap);
            let what = format!("{name} ({cap}) with {} bytes", value.len());
            assert_eq!(stored, want, "{what}");
            assert!(stored.len() <= cap, "{what}");
            assert_eq!(
                event.truncated(),
                want.len() < value.len(),
                "{what}: truncated flag"
            );
            cut += usize::from(event.truncated());
            // The flag and the value survive the spool record and every output format.
            let back = round_trip(&event);
            assert_eq!(back, event, "{what}: record round trip");
            render_all(&event, &what);
            cases += 1;
        }
    }
    assert!(cut > 0 && cut < cases);
}

#[test]
fn a_later_short_value_does_not_clear_the_truncated_flag() {
    for (name, cap, fresh, set, _) in FIELDS {
        let mut event = fresh();
        set(&mut event, &"x".repeat(cap + 1));
        set(&mut event, "short");
        assert!(
            event.truncated(),
            "{name}: an earlier cut must stay visible"
        );
    }
}

#[test]
fn every_field_at_capacity_at_once_is_the_largest_record_and_fits_every_buffer() {
    let mut event = alert_event();
    for (_, cap, fresh, set, _) in FIELDS {
        if matches!(fresh(), Event::Alert(_)) {
            set(&mut event, &"€".repeat(cap)); // multi-byte: cut, so flagged
        }
    }
    assert!(event.truncated());
    assert_eq!(round_trip(&event), event);
    render_all(&event, "all fields full");
    // Zero-length everything is valid too, and not flagged.
    let empty = alert_event();
    assert!(!empty.truncated());
    assert_eq!(round_trip(&empty), empty);
    render_all(&empty, "all fields empty");
}
