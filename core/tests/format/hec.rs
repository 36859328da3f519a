//! The HEC JSON envelope: golden outputs, escaping, the `MAX_LEN` bound, and a parse-back
//! property (through serde_json) over arbitrary events and options.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test, and the shared fixtures it includes, report failure by panicking"
)]

use crate::common;

use common::{
    WORST_CHARS, arb_event, arb_text, assert_every_short_buffer_reports_full,
    assert_prefilled_render_matches_golden, check_golden, full, golden_events, max_alert,
    notification, sample_alert,
};
use icsfwd_core::alert::{Endpoint, Event, NotificationKind, Sensor};
use icsfwd_core::format::{Counter, SliceWriter, hec};
use icsfwd_core::time::Civil;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

type Text = heapless::String<{ hec::MAX_OPTION_LEN }>;

fn render(event: &Event, options: &hec::Options) -> String {
    let mut buf = vec![0u8; hec::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    let n = hec::write(event, options, &mut out).unwrap();
    assert_eq!(n, out.len());
    String::from_utf8(out.written().to_vec()).unwrap()
}

fn object(value: &Value) -> &Map<String, Value> {
    value.as_object().expect("an object")
}

/// The metadata members the envelope must carry, built from the event and options.
fn expected_metadata(event: &Event, options: &hec::Options) -> Map<String, Value> {
    let mut map = Map::new();
    let host = options
        .host
        .as_deref()
        .unwrap_or(event.sensor().name.as_str());
    let sourcetype = match (&options.sourcetype, event) {
        (Some(s), _) => s.as_str(),
        (None, Event::Alert(_)) => "icsfwd:alert",
        (None, Event::Notification(n)) if n.kind == NotificationKind::Health => "icsfwd:health",
        (None, Event::Notification(_)) => "icsfwd:notification",
    };
    let index = options.index.as_deref().unwrap_or("");
    for (key, value) in [
        ("host", host),
        ("source", options.source.as_str()),
        ("sourcetype", sourcetype),
        ("index", index),
    ] {
        if !value.is_empty() {
            map.insert(key.into(), value.into());
        }
    }
    map
}

/// The `event` and `fields` objects the envelope must carry, built from the event's fields.
fn expected_event_and_fields(event: &Event) -> (Value, Value) {
    fn endpoint(map: &mut Map<String, Value>, side: &str, e: &Endpoint) {
        map.insert(format!("{side}_name"), e.name.as_str().into());
        map.insert(format!("{side}_ip"), e.ip.to_string().into());
        if let Some(mac) = e.mac {
            map.insert(format!("{side}_mac"), mac.to_string().into());
        }
        if let Some(port) = e.port {
            map.insert(format!("{side}_port"), port.into());
        }
    }
    fn sensor(map: &mut Map<String, Value>, s: &Sensor, truncated: bool) {
        map.insert("sensor_name".into(), s.name.as_str().into());
        map.insert("sensor_ip".into(), s.ip.to_string().into());
        map.insert("sensor_version".into(), s.version.as_str().into());
        map.insert("truncated".into(), truncated.into());
    }
    let sensor_name = event.sensor().name.as_str();
    let mut map = Map::new();
    map.insert(
        "id".into(),
        format!("{sensor_name}-{}", event.event_id().id).into(),
    );
    map.insert(
        "time".into(),
        Civil::from_epoch_ms(event.time_ms())
            .rfc3339()
            .to_string()
            .into(),
    );
    let fields = match event {
        Event::Alert(a) => {
            map.insert("alert_id".into(), a.id.into());
            map.insert("engine".into(), a.engine.as_str().into());
            map.insert("severity".into(), a.severity.as_str().into());
            map.insert("title".into(), a.title.as_str().into());
            map.insert("message".into(), a.message.as_str().into());
            map.insert("protocol".into(), a.protocol.as_str().into());
            map.insert("alert_group".into(), a.group.as_str().into());
            endpoint(&mut map, "src", &a.source);
            endpoint(&mut map, "dest", &a.destination);
            sensor(&mut map, &a.sensor, a.truncated);
            json!({
                "engine": a.engine.as_str(),
                "severity": a.severity.as_str(),
                "sensor": sensor_name,
                "protocol": a.protocol.as_str(),
            })
        }
        Event::Notification(n) => {
            map.insert("notification_id".into(), n.id.into());
            map.insert("kind".into(), n.kind.token().into());
            map.insert("title".into(), n.kind.as_str().into());
            map.insert("severity".into(), n.kind.severity().as_str().into());
            map.insert("text".into(), n.text.as_str().into());
            sensor(&mut map, &n.sensor, n.truncated);
            json!({
                "kind": n.kind.token(),
                "severity": n.kind.severity().as_str(),
                "sensor": sensor_name,
            })
        }
    };
    (Value::Object(map), fields)
}

/// Parses an envelope with serde_json and checks every member against the event and options.
fn check_parses_back(output: &str, event: &Event, options: &hec::Options) -> Result<(), String> {
    let value: Value = serde_json::from_str(output).map_err(|e| format!("{e}: {output:.300}"))?;
    let envelope = object(&value);
    // serde_json reads the time as an f64; its exact text is checked on the raw output.
    let ms = event.time_ms();
    let time_prefix = format!("{{\"time\":{}.{:03},", ms / 1000, ms % 1000);
    if !output.starts_with(&time_prefix) {
        return Err(format!("time: expected {time_prefix}, got {output:.40}"));
    }
    if !envelope.get("time").is_some_and(Value::is_number) {
        return Err("time is not a number".into());
    }
    let mut metadata = envelope.clone();
    metadata.retain(|k, _| k != "time" && k != "event" && k != "fields");
    if metadata != expected_metadata(event, options) {
        return Err(format!("metadata {metadata:?}"));
    }
    let (expected_event, expected_fields) = expected_event_and_fields(event);
    if envelope.get("event") != Some(&expected_event) {
        return Err(format!(
            "event {:?} != {expected_event:?}",
            envelope.get("event")
        ));
    }
    if envelope.get("fields") != Some(&expected_fields) {
        return Err(format!("fields {:?}", envelope.get("fields")));
    }
    Ok(())
}

/// No raw control character, DEL, C1 or line separator anywhere, and no trailing newline.
fn has_no_raw_controls(output: &str) -> bool {
    !output
        .chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

#[test]
fn every_golden_event_renders_as_its_committed_file() {
    for (name, event) in golden_events() {
        let rendered = render(&event, &hec::Options::default());
        check_golden(&format!("hec_{name}.json"), rendered.as_bytes());
    }
}

#[test]
fn rendering_touches_exactly_the_reported_bytes() {
    for (name, event) in golden_events() {
        assert_prefilled_render_matches_golden(&format!("hec_{name}.json"), hec::MAX_LEN, |out| {
            hec::write(&event, &hec::Options::default(), out)
        });
        let mut counter = Counter::default();
        let counted = hec::write(&event, &hec::Options::default(), &mut counter).unwrap();
        assert_eq!(counter.count, counted, "{name}: counted length");
    }
}

#[test]
fn golden_events_parse_back_to_their_fields() {
    for (name, event) in golden_events() {
        let options = hec::Options::default();
        let output = render(&event, &options);
        assert!(has_no_raw_controls(&output), "{name}");
        assert!(output.ends_with('}'), "{name}: no trailing newline");
        check_parses_back(&output, &event, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn escapes_are_exactly_as_documented() {
    let mut alert = sample_alert();
    alert.set_title(
        "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{0}\u{1f}\u{7f}\u{80}\u{85}\u{9f}\u{2028}\u{2029}é日/<'",
    );
    let output = render(&Event::from(alert), &hec::Options::default());
    let expected = r#""title":"a\"b\\c\nd\re\tf\bg\fh\u0000\u001f\u007f\u0080\u0085\u009f\u2028\u2029é日/<'","#;
    assert!(output.contains(expected), "{output}");
}

#[test]
fn hostile_values_cannot_forge_members() {
    let event = Event::from(common::hostile_alert());
    let output = render(&event, &hec::Options::default());
    let value: Value = serde_json::from_str(&output).unwrap();
    // The message ends with `"}, "event": {`: it stays inside the message string.
    let message = value["event"]["message"].as_str().unwrap();
    assert!(message.ends_with("\"}, \"event\": {"));
    assert_eq!(
        object(&value).len(),
        6,
        "time host source sourcetype event fields"
    );
    assert_eq!(value["host"], "sensor \"evil\"|=\\]\n");
    assert!(value["event"].get("src_port").is_none());
    assert_eq!(value["event"]["dest_port"], 0);
}

#[test]
fn options_override_metadata_and_empty_ones_are_left_out() {
    let event = Event::from(notification(NotificationKind::BackupFailure));
    let mut options = hec::Options::default();
    options.host = Some(Text::try_from("fwd-01.plant.example").unwrap());
    options.sourcetype = Some(Text::try_from("ot:custom").unwrap());
    options.index = Some(Text::try_from("ot").unwrap());
    let output = render(&event, &options);
    assert!(output.starts_with(
        r#"{"time":1557059335.123,"host":"fwd-01.plant.example","source":"icsfwd","sourcetype":"ot:custom","index":"ot","event":{"#
    ));

    let mut alert = sample_alert();
    alert.sensor.name.clear();
    let mut options = hec::Options::default();
    options.source.clear();
    options.index = Some(Text::new());
    let output = render(&Event::from(alert), &options);
    assert!(output.starts_with(
        r#"{"time":1557059334.123,"sourcetype":"icsfwd:alert","event":{"id":"-1042","#
    ));
}

#[test]
fn notification_uses_its_own_sourcetype_and_fields() {
    let event = Event::from(notification(NotificationKind::SensorOffline));
    let output = render(&event, &hec::Options::default());
    assert_eq!(
        output,
        concat!(
            r#"{"time":1557059335.123,"host":"sensor-plant-a","source":"icsfwd","#,
            r#""sourcetype":"icsfwd:notification","event":{"id":"sensor-plant-a-77","#,
            r#""notification_id":77,"time":"2019-05-05T12:28:55.123Z","kind":"sensor_offline","#,
            r#""title":"Sensor offline","severity":"Major","#,
            r#""text":"Sensor sensor-plant-a stopped sending heartbeats 300 s ago.","#,
            r#""sensor_name":"sensor-plant-a","sensor_ip":"10.1.0.5","sensor_version":"22.3.1","#,
            r#""truncated":false},"fields":{"kind":"sensor_offline","severity":"Major","#,
            r#""sensor":"sensor-plant-a"}}"#,
        )
    );
}

#[test]
fn the_forwarders_health_report_has_the_health_sourcetype_and_a_heartbeat_does_not() {
    for (kind, sourcetype) in [
        (NotificationKind::Health, r#""sourcetype":"icsfwd:health""#),
        (
            NotificationKind::Heartbeat,
            r#""sourcetype":"icsfwd:notification""#,
        ),
    ] {
        let output = render(&Event::from(notification(kind)), &hec::Options::default());
        assert!(output.contains(sourcetype), "{kind}: {output}");
        let mut options = hec::Options::default();
        options.sourcetype = Some(Text::try_from("ot:custom").unwrap());
        let output = render(&Event::from(notification(kind)), &options);
        assert!(output.contains(r#""sourcetype":"ot:custom""#), "{output}");
    }
}

#[test]
fn time_has_exactly_three_decimals() {
    let mut alert = sample_alert();
    for (ms, text) in [
        (0, "0.000"),
        (5, "0.005"),
        (1_000, "1.000"),
        (1_557_059_334_120, "1557059334.120"),
        (u64::MAX, "18446744073709551.615"),
    ] {
        alert.time_ms = ms;
        let output = render(&Event::from(alert.clone()), &hec::Options::default());
        assert!(
            output.starts_with(&format!("{{\"time\":{text},")),
            "{output:.50}"
        );
    }
}

#[test]
fn widest_alerts_fit_in_max_len_which_is_tight() {
    let mut widest = 0;
    for c in WORST_CHARS {
        let event = Event::from(max_alert(c));
        let mut options = hec::Options::default();
        options.host = Some(full(c));
        options.source = full(c);
        options.sourcetype = Some(full(c));
        options.index = Some(full(c));
        let mut counter = Counter::default();
        hec::write(&event, &options, &mut counter).unwrap();
        assert!(counter.count <= hec::MAX_LEN, "{c:?}: {}", counter.count);
        let mut buf = [0u8; hec::MAX_LEN];
        let mut out = SliceWriter::new(&mut buf);
        assert_eq!(hec::write(&event, &options, &mut out), Ok(counter.count));
        let output = std::str::from_utf8(out.written()).unwrap();
        check_parses_back(output, &event, &options).unwrap();
        widest = widest.max(counter.count);
    }
    println!("hec: widest alert {widest} bytes, MAX_LEN {}", hec::MAX_LEN);
    // The slack is only the allowances for a comma counted per object (3), wider addresses
    // (3 × 6), a longer year (11) and epoch time (4), the longest engine and severity names
    // (2 × 2 + 2 × 1), and `false` over `true` (1): 43 bytes.
    assert!(
        hec::MAX_LEN - widest <= 43,
        "widest {widest}, MAX_LEN {}",
        hec::MAX_LEN
    );
}

#[test]
fn every_short_buffer_reports_buffer_full() {
    for event in [
        Event::from(sample_alert()),
        Event::from(notification(NotificationKind::AlertsDropped)),
    ] {
        assert_every_short_buffer_reports_full("hec", |out| {
            hec::write(&event, &hec::Options::default(), out)
        });
    }
}

fn arb_options() -> impl Strategy<Value = hec::Options> {
    (
        proptest::option::of(arb_text::<{ hec::MAX_OPTION_LEN }>()),
        arb_text::<{ hec::MAX_OPTION_LEN }>(),
        proptest::option::of(arb_text::<{ hec::MAX_OPTION_LEN }>()),
        proptest::option::of(arb_text::<{ hec::MAX_OPTION_LEN }>()),
    )
        .prop_map(|(host, source, sourcetype, index)| {
            let mut options = hec::Options::default();
            options.host = host;
            options.source = source;
            options.sourcetype = sourcetype;
            options.index = index;
            options
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_event_fits_max_len_and_parses_back_to_its_fields(
        event in arb_event(),
        options in prop_oneof![Just(hec::Options::default()), arb_options()],
    ) {
        let mut buf = [0u8; hec::MAX_LEN];
        let mut out = SliceWriter::new(&mut buf);
        let n = hec::write(&event, &options, &mut out).unwrap();
        let output = std::str::from_utf8(&buf[..n]).unwrap();
        prop_assert!(has_no_raw_controls(output), "{}", output);
        check_parses_back(output, &event, &options).map_err(TestCaseError::fail)?;
    }
}
