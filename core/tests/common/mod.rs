//! Shared test inputs: a realistic alert, a hostile one, one at every capacity, notifications,
//! and proptest strategies for arbitrary events. Each test binary uses a part of this.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test fixtures fail loudly"
)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
// Named rather than taken from the prelude: core's own unit tests also compile this file, in
// the `no_std` crate (`core/src/format/hec/compact.rs`).
use std::string::String;
use std::vec;
use std::vec::Vec;

use icsfwd_core::alert::{
    Alert, Endpoint, Engine, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT,
    MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, MacAddr, Notification, NotificationKind,
    Sensor, Severity,
};
use icsfwd_core::format::{Error as FormatError, SliceWriter};
use proptest::prelude::*;

/// 2019-05-05T12:28:54.123Z
pub const SAMPLE_TIME_MS: u64 = 1_557_059_334_123;

pub fn sensor(name: &str) -> Sensor {
    let mut s = Sensor::unknown();
    s.set_name(name);
    s.ip = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 5));
    s.set_version("22.3.1");
    s
}

/// A realistic Operational alert: an S7 PLC stop command.
pub fn sample_alert() -> Alert {
    let mut a = Alert::new(1042, SAMPLE_TIME_MS, Engine::Operational, Severity::Major);
    a.set_title("PLC Program Stop");
    a.set_message("A stop command was sent from HMI-07 to PLC-Line3 (CPU 1516-3 PN/DP).");
    a.set_protocol("S7");
    a.set_group("Restart and stop commands");
    a.source = Endpoint {
        name: "HMI-07".try_into().unwrap(),
        ip: IpAddr::V4(Ipv4Addr::new(10, 20, 1, 7)),
        mac: Some(MacAddr([0x00, 0x1b, 0x1b, 0xaa, 0x0f, 0x9e])),
        port: Some(49152),
    };
    a.destination = Endpoint {
        name: "PLC-Line3".try_into().unwrap(),
        ip: IpAddr::V4(Ipv4Addr::new(10, 20, 3, 11)),
        mac: Some(MacAddr([0x00, 0x0e, 0x8c, 0x01, 0x02, 0x03])),
        port: Some(102),
    };
    a.sensor = sensor("sensor-plant-a");
    a
}

/// The sample alert from a sensor that sends no software version: CEF's Device Version and
/// LEEF's Version have nothing to hold.
pub fn unversioned_alert() -> Alert {
    let mut a = sample_alert();
    a.sensor.version.clear();
    a
}

/// An alert whose every text field tries to break out of its format: newlines, `|`, `=`, `\`,
/// quotes, `]`, tabs, control characters and non-ASCII; IPv6 endpoints, no MACs or ports.
pub fn hostile_alert() -> Alert {
    let mut a = Alert::new(u64::MAX, 0, Engine::ProtocolViolation, Severity::Critical);
    a.set_title("Illegal \"Modbus\" | write=1 \\ ]\tCEF:0|x");
    a.set_message(
        "line1\nline2\r\nKey: forged\u{0}nul\u{1b}[31m esc\u{7f} del \u{85}nel \u{2028}ls é 日本 \
         <9>1 - - - - - [icsfwd@32473 id=\"x\"] msg=evil src=6.6.6.6 \\n \"}, \"event\": {",
    );
    a.set_protocol("Modbus\t|=\\]");
    a.set_group("Custom \"alerts\"\n=");
    a.source = Endpoint {
        name: "src|name=\\\"]".try_into().unwrap(),
        ip: IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0x21b, 0x1bff, 0xfeaa, 0xf9e)),
        mac: None,
        port: None,
    };
    a.destination = Endpoint {
        name: "dst\r\nSource IP: 1.2.3.4".try_into().unwrap(),
        ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
        mac: None,
        port: Some(0),
    };
    let mut s = sensor("sensor \"evil\"|=\\]\n");
    s.ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    s.set_version("1.0|=\\");
    a.sensor = s;
    a
}

/// A string of `c` repeated to its capacity.
pub fn full<const N: usize>(c: char) -> heapless::String<N> {
    let mut s = heapless::String::new();
    while s.push(c).is_ok() {}
    s
}

/// CEF/LEEF vendor and product labels at their capacity, made of `c`.
pub fn labels_at_capacity(c: char) -> icsfwd_core::format::DeviceLabels {
    icsfwd_core::format::DeviceLabels {
        vendor: full(c),
        product: full(c),
    }
}

/// An alert with every text field at its capacity, made of the characters that escape to the
/// most bytes in some format (control characters, quotes, backslashes), and the longest
/// numbers and addresses; with the truncated flag set.
pub fn max_alert(fill_char: char) -> Alert {
    let mut a = Alert::new(
        u64::MAX,
        u64::MAX / 4,
        Engine::PolicyViolation,
        Severity::Warning,
    );
    a.title = full::<MAX_TITLE>(fill_char);
    a.message = full::<MAX_MESSAGE>(fill_char);
    a.protocol = full::<MAX_PROTOCOL>(fill_char);
    a.group = full::<MAX_GROUP>(fill_char);
    let v6 = IpAddr::V6(Ipv6Addr::new(
        0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
    ));
    a.source = Endpoint {
        name: full::<MAX_DEVICE_NAME>(fill_char),
        ip: v6,
        mac: Some(MacAddr([0xff; 6])),
        port: Some(u16::MAX),
    };
    a.destination = a.source.clone();
    a.sensor = Sensor {
        name: full::<MAX_SENSOR_NAME>(fill_char),
        ip: v6,
        version: full::<MAX_VERSION>(fill_char),
    };
    a.truncated = true;
    a
}

/// The characters that expand the most under some format's escaping.
pub const WORST_CHARS: [char; 8] = ['\u{1}', '\u{7f}', '"', '\\', '\n', '|', '=', '\u{2028}'];

pub fn notification(kind: NotificationKind) -> Notification {
    let mut n = Notification::new(77, SAMPLE_TIME_MS + 1000, kind);
    n.sensor = sensor("sensor-plant-a");
    n.set_text("Sensor sensor-plant-a stopped sending heartbeats 300 s ago.");
    n
}

/// Every event the golden tests render: sample, hostile, at capacity, and each notification.
pub fn golden_events() -> Vec<(&'static str, Event)> {
    let mut v = vec![
        ("sample", Event::from(sample_alert())),
        ("hostile", Event::from(hostile_alert())),
        ("max_ascii", Event::from(max_alert('x'))),
        ("no_version", Event::from(unversioned_alert())),
    ];
    for kind in NotificationKind::ALL {
        v.push((kind.token(), Event::from(notification(kind))));
    }
    v
}

// ---- proptest strategies ----

pub fn arb_text<const N: usize>() -> impl Strategy<Value = heapless::String<N>> {
    // Mix plain text with the characters every format must escape.
    let piece = prop_oneof![
        4 => "[ -~]{0,8}",
        1 => prop::sample::select(vec![
            "\n", "\r", "\t", "\u{0}", "\u{1b}", "\u{7f}", "\u{85}", "\u{2028}", "|", "=", "\\",
            "\"", "]", "'", "é", "日本", "😀", "%", "<", "&", ":", " ",
        ])
        .prop_map(String::from),
        1 => any::<String>().prop_map(|s| s.chars().take(6).collect::<String>()),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| {
        let joined: String = pieces.concat();
        let mut s = heapless::String::<N>::new();
        icsfwd_core::alert::fill(&mut s, &joined);
        s
    })
}

pub fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

pub fn arb_endpoint() -> impl Strategy<Value = Endpoint> {
    (
        arb_text::<MAX_DEVICE_NAME>(),
        arb_ip(),
        proptest::option::of(any::<[u8; 6]>().prop_map(MacAddr)),
        proptest::option::of(any::<u16>()),
    )
        .prop_map(|(name, ip, mac, port)| Endpoint {
            name,
            ip,
            mac,
            port,
        })
}

pub fn arb_sensor() -> impl Strategy<Value = Sensor> {
    (
        arb_text::<MAX_SENSOR_NAME>(),
        arb_ip(),
        arb_text::<MAX_VERSION>(),
    )
        .prop_map(|(name, ip, version)| Sensor { name, ip, version })
}

pub fn arb_engine() -> impl Strategy<Value = Engine> {
    prop::sample::select(Engine::ALL.to_vec())
}

pub fn arb_severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(Severity::ALL.to_vec())
}

pub fn arb_alert() -> impl Strategy<Value = Alert> {
    (
        (
            any::<u64>(),
            any::<u64>(),
            arb_engine(),
            arb_severity(),
            any::<bool>(),
        ),
        (
            arb_text::<MAX_TITLE>(),
            arb_text::<MAX_MESSAGE>(),
            arb_text::<MAX_PROTOCOL>(),
            arb_text::<MAX_GROUP>(),
        ),
        (arb_endpoint(), arb_endpoint(), arb_sensor()),
    )
        .prop_map(
            |(
                (id, time_ms, engine, severity, truncated),
                (title, message, protocol, group),
                (source, destination, sensor),
            )| {
                // Built from `Alert::new` rather than a struct literal: core's own unit tests
                // compile this file too, where the alert has one more field (record/v2.rs).
                let mut alert = Alert::new(id, time_ms, engine, severity);
                alert.title = title;
                alert.message = message;
                alert.protocol = protocol;
                alert.group = group;
                alert.source = source;
                alert.destination = destination;
                alert.sensor = sensor;
                alert.truncated = truncated;
                alert
            },
        )
}

pub fn arb_notification() -> impl Strategy<Value = Notification> {
    (
        any::<u64>(),
        any::<u64>(),
        prop::sample::select(NotificationKind::ALL.to_vec()),
        arb_sensor(),
        arb_text::<MAX_NOTIFICATION_TEXT>(),
        any::<bool>(),
    )
        .prop_map(
            |(id, time_ms, kind, sensor, text, truncated)| Notification {
                id,
                time_ms,
                kind,
                sensor,
                text,
                truncated,
            },
        )
}

pub fn arb_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => arb_alert().prop_map(Event::Alert),
        1 => arb_notification().prop_map(Event::Notification),
    ]
}

/// Writes `actual` to `tests/golden/<name>` when `UPDATE_GOLDEN=1`, else compares with it.
pub fn check_golden(name: &str, actual: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the rendered output:\n--- expected\n{}\n--- actual\n{}",
            path.display(),
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        );
    }
}

/// A notification with its text, sensor name and version at capacity, made of `fill_char`,
/// the longest addresses and numbers, and the truncated flag set (the notification
/// counterpart of `max_alert`).
pub fn max_notification(fill_char: char) -> Notification {
    let alert = max_alert(fill_char);
    let mut n = Notification::new(u64::MAX, u64::MAX / 4, NotificationKind::SensorOffline);
    while n.text.push(fill_char).is_ok() {}
    n.sensor = alert.sensor;
    n.truncated = true;
    n
}

/// Renders with `render` into a fresh buffer of `capacity` bytes and returns what was written.
pub fn render_into(
    capacity: usize,
    render: impl FnOnce(
        &mut icsfwd_core::format::SliceWriter<'_>,
    ) -> Result<usize, icsfwd_core::format::Error>,
) -> Vec<u8> {
    let mut buf = vec![0u8; capacity];
    let mut out = icsfwd_core::format::SliceWriter::new(&mut buf);
    let n = render(&mut out).unwrap();
    assert_eq!(n, out.len(), "returned length must equal bytes written");
    out.written().to_vec()
}

/// Renders with `render` into a buffer pre-filled with 0xA5 and larger than `max_len`, so stale
/// bytes cannot hide a bug: the output must equal the golden file `golden`, the reported length
/// must equal the bytes written, and no byte past it may be touched.
pub fn assert_prefilled_render_matches_golden(
    golden: &str,
    max_len: usize,
    render: impl Fn(&mut SliceWriter<'_>) -> Result<usize, FormatError>,
) {
    let mut buf = vec![0xA5u8; max_len + 64];
    let mut out = SliceWriter::new(&mut buf);
    let n = render(&mut out).unwrap_or_else(|e| panic!("{golden}: {e}"));
    assert_eq!(n, out.len(), "{golden}: reported length");
    check_golden(golden, &buf[..n]);
    assert!(
        buf[n..].iter().all(|&b| b == 0xA5),
        "{golden}: bytes past {n} touched"
    );
}

/// Every buffer shorter than the output makes `render` report `BufferFull` (never a panic or a
/// partial success), and a buffer of exactly the needed size succeeds.
pub fn assert_every_short_buffer_reports_full(
    what: &str,
    render: impl Fn(&mut SliceWriter<'_>) -> Result<usize, FormatError>,
) {
    let needed = render_into(1 << 16, |out| render(out)).len();
    for size in 0..needed {
        let mut buf = vec![0u8; size];
        assert_eq!(
            render(&mut SliceWriter::new(&mut buf)),
            Err(FormatError::BufferFull),
            "{what}: buffer of {size}/{needed}"
        );
    }
    let mut buf = vec![0u8; needed];
    assert_eq!(
        render(&mut SliceWriter::new(&mut buf)),
        Ok(needed),
        "{what}"
    );
}
