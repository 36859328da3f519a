//! The ingest line schema: refusals name the exact field and fault, events round-trip exactly,
//! no input panics, and `docs/ingest.md` and `docs/ingest.schema.json` agree with the decoder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use icsfwd::ingest::schema::{
    Answer, Decoded, Heartbeat, MAX_LINE, Message, Problem, Refusal, decode_line, encode_heartbeat,
    encode_line, encode_message,
};
use icsfwd_core::alert::{
    Alert, Endpoint, Engine, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT,
    MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, MacAddr, Notification, NotificationKind,
    Sensor, Severity,
};
use icsfwd_sim::generator::Generator;
use proptest::prelude::*;
use serde_json::{Value, json};

const RECEIVED_MS: u64 = 1_700_000_000_000;

/// A valid alert line as a JSON value, for tables that change one thing.
fn base_alert() -> Value {
    json!({
        "type": "alert", "id": 7, "time": "2024-05-05T12:28:54.123Z",
        "engine": "Operational", "severity": "Major", "title": "PLC stop",
        "source": {"ip": "10.0.0.1"}, "destination": {"ip": "10.0.0.2", "port": 102},
        "sensor": {"name": "s1", "ip": "10.0.0.9"}
    })
}

fn base_notification() -> Value {
    json!({"type": "notification", "id": 3, "kind": "backup_failure",
           "sensor": {"name": "s1", "ip": "10.0.0.9"}})
}

fn base_heartbeat() -> Value {
    json!({"type": "heartbeat", "sensor": {"name": "s1", "ip": "10.0.0.9"}})
}

/// `base` with `edit` applied, as a line.
fn edited(mut base: Value, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    edit(base.as_object_mut().unwrap());
    base.to_string()
}

fn set(key: &str, value: Value) -> impl FnOnce(&mut serde_json::Map<String, Value>) {
    move |m| {
        m.insert(key.to_owned(), value);
    }
}

fn remove(key: &str) -> impl FnOnce(&mut serde_json::Map<String, Value>) {
    move |m| {
        m.remove(key);
    }
}

fn set_in(
    outer: &str,
    key: &str,
    value: Value,
) -> impl FnOnce(&mut serde_json::Map<String, Value>) {
    move |m| {
        m.get_mut(outer)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.to_owned(), value);
    }
}

fn remove_in(outer: &str, key: &str) -> impl FnOnce(&mut serde_json::Map<String, Value>) {
    move |m| {
        m.get_mut(outer)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
    }
}

/// One bad line and the exact refusal it must get.
struct Bad {
    line: Vec<u8>,
    problem: Problem,
    field: Option<&'static str>,
    error: &'static str,
}

fn bad(
    line: impl Into<Vec<u8>>,
    problem: Problem,
    field: Option<&'static str>,
    error: &'static str,
) -> Bad {
    Bad {
        line: line.into(),
        problem,
        field,
        error,
    }
}

fn bad_lines() -> Vec<Bad> {
    use Problem::*;
    let mut too_long = edited(base_alert(), set("message", json!("")));
    let pad = MAX_LINE + 1 - too_long.len();
    too_long = edited(base_alert(), set("message", json!("m".repeat(pad))));
    vec![
        bad("", Malformed, None, "line is empty"),
        bad(" \r", Malformed, None, "line is empty"),
        bad(
            r#"{"type":"alert""#,
            Malformed,
            None,
            "malformed JSON at column 15: EOF while parsing an object",
        ),
        bad(
            r#"{"type":'alert'}"#,
            Malformed,
            None,
            "malformed JSON at column 9: expected value",
        ),
        bad(
            r#"{"type":"heartbeat"} {}"#,
            Malformed,
            None,
            "malformed JSON at column 22: trailing characters",
        ),
        bad(
            format!(r#"{{"type":{}{}}}"#, "[".repeat(200), "]".repeat(200)),
            Malformed,
            None,
            "malformed JSON at column 135: recursion limit exceeded",
        ),
        // Text that is not JSON at all is called that, not "expected ident" (serde_json's
        // word for a line starting with `n`, `t` or `f`) or "expected value".
        bad(
            "not json",
            Malformed,
            None,
            r#"not JSON: the line starts with "not json""#,
        ),
        bad(
            "GET / HTTP/1.1\r",
            Malformed,
            None,
            r#"not JSON: the line starts with "GET / HTTP/1.1""#,
        ),
        bad(
            "  hello\u{1b}[31m",
            Malformed,
            None,
            r#"not JSON: the line starts with "hello\u{1b}[31m""#,
        ),
        bad(
            "nullx",
            Malformed,
            None,
            "malformed JSON at column 5: trailing characters",
        ),
        bad("[1,2]", NotObject, None, "line is an array, not an object"),
        bad("null", NotObject, None, "line is null, not an object"),
        bad(
            b"{\"type\":\"alert\xff\"}".to_vec(),
            NotUtf8,
            None,
            "line is not UTF-8 (invalid byte at offset 14)",
        ),
        bad(too_long, TooLong, None, "line is 16385 bytes long"),
        bad("{}", Missing, Some("type"), "is missing"),
        bad(
            r#"{"type":5}"#,
            WrongType,
            Some("type"),
            "expected a string, found a whole number",
        ),
        bad(
            r#"{"type":"alarm"}"#,
            BadValue,
            Some("type"),
            r#"unknown type "alarm""#,
        ),
        bad(
            edited(base_alert(), remove("id")),
            Missing,
            Some("id"),
            "is missing",
        ),
        bad(
            edited(base_alert(), set("id", json!(null))),
            Missing,
            Some("id"),
            "is missing",
        ),
        bad(
            edited(base_alert(), set("id", json!(-1))),
            BadValue,
            Some("id"),
            "-1 is out of range",
        ),
        bad(
            edited(base_alert(), set("id", json!(1.5))),
            WrongType,
            Some("id"),
            "expected a whole number, found a number with a fraction or exponent",
        ),
        bad(
            edited(base_alert(), set("id", json!("7"))),
            WrongType,
            Some("id"),
            "expected a whole number, found a string",
        ),
        bad(
            edited(base_alert(), set("engine", json!("Malwar"))),
            BadValue,
            Some("engine"),
            r#"unknown engine "Malwar""#,
        ),
        bad(
            edited(base_alert(), set("severity", json!("High"))),
            BadValue,
            Some("severity"),
            r#"unknown severity "High""#,
        ),
        bad(
            edited(base_alert(), remove("severity")),
            Missing,
            Some("severity"),
            "is missing",
        ),
        bad(
            edited(base_alert(), set("severity", json!(3))),
            WrongType,
            Some("severity"),
            "expected a string, found a whole number",
        ),
        bad(
            edited(base_alert(), remove("title")),
            Missing,
            Some("title"),
            "is missing",
        ),
        bad(
            edited(base_alert(), set("title", json!(""))),
            BadValue,
            Some("title"),
            "is empty",
        ),
        bad(
            edited(base_alert(), set("message", json!(5))),
            WrongType,
            Some("message"),
            "expected a string, found a whole number",
        ),
        bad(
            edited(base_alert(), set("protocol", json!(["S7"]))),
            WrongType,
            Some("protocol"),
            "expected a string, found an array",
        ),
        bad(
            edited(base_alert(), set_in("source", "ip", json!("10.0.0.300"))),
            BadValue,
            Some("source.ip"),
            r#""10.0.0.300" is not an IP address"#,
        ),
        bad(
            edited(base_alert(), remove_in("source", "ip")),
            Missing,
            Some("source.ip"),
            "is missing",
        ),
        bad(
            edited(
                base_alert(),
                set_in("source", "mac", json!("00:11:22:33:44")),
            ),
            BadValue,
            Some("source.mac"),
            r#""00:11:22:33:44" is not a MAC address"#,
        ),
        bad(
            edited(base_alert(), set_in("destination", "port", json!(70000))),
            BadValue,
            Some("destination.port"),
            "70000 is out of range",
        ),
        bad(
            edited(base_alert(), set_in("destination", "port", json!("102"))),
            WrongType,
            Some("destination.port"),
            "expected a whole number, found a string",
        ),
        bad(
            edited(base_alert(), set("source", json!("10.0.0.1"))),
            WrongType,
            Some("source"),
            "expected an object, found a string",
        ),
        bad(
            edited(base_alert(), set("severty", json!("Major"))),
            UnknownField,
            Some("severty"),
            "is not a field of an alert",
        ),
        bad(
            edited(base_alert(), set_in("source", "hostname", json!("x"))),
            UnknownField,
            Some("source.hostname"),
            "is not a field of an endpoint",
        ),
        bad(
            r#"{"type":"alert","id":7,"engine":"Malware","severity":"Warning","severity":"Critical","title":"t","sensor":{"name":"s1","ip":"10.0.0.9"}}"#,
            DuplicateField,
            Some("severity"),
            "is given more than once",
        ),
        bad(
            edited(base_alert(), remove("sensor")),
            Missing,
            Some("sensor"),
            "is missing",
        ),
        bad(
            edited(base_alert(), remove_in("sensor", "name")),
            Missing,
            Some("sensor.name"),
            "is missing",
        ),
        bad(
            edited(base_alert(), remove_in("sensor", "ip")),
            Missing,
            Some("sensor.ip"),
            "is missing",
        ),
        bad(
            edited(base_alert(), set_in("sensor", "name", json!(""))),
            BadValue,
            Some("sensor.name"),
            "is empty",
        ),
        bad(
            edited(base_alert(), set("time", json!("yesterday"))),
            BadValue,
            Some("time"),
            r#""yesterday" is not an RFC 3339 time"#,
        ),
        bad(
            edited(base_alert(), set("time", json!("2024-02-30T00:00:00Z"))),
            BadValue,
            Some("time"),
            r#""2024-02-30T00:00:00Z" is not an RFC 3339 time"#,
        ),
        bad(
            edited(base_alert(), set("time", json!("2024-05-05T12:28:54"))),
            BadValue,
            Some("time"),
            r#""2024-05-05T12:28:54" is not an RFC 3339 time"#,
        ),
        bad(
            edited(base_alert(), set("time", json!("1969-12-31T23:59:59Z"))),
            BadValue,
            Some("time"),
            r#""1969-12-31T23:59:59Z" is before 1970-01-01T00:00:00Z"#,
        ),
        bad(
            edited(base_alert(), set("time", json!(1_700_000_000))),
            WrongType,
            Some("time"),
            "expected a string, found a whole number",
        ),
        bad(
            edited(base_alert(), set("time_ms", json!(5))),
            BadValue,
            Some("time_ms"),
            "`time` and `time_ms` are both given",
        ),
        bad(
            edited(base_heartbeat(), set("time_ms", json!("5"))),
            WrongType,
            Some("time_ms"),
            "expected a whole number, found a string",
        ),
        bad(
            edited(base_alert(), set("truncated", json!("yes"))),
            WrongType,
            Some("truncated"),
            "expected a boolean, found a string",
        ),
        bad(
            edited(base_notification(), set("kind", json!("reboot"))),
            BadValue,
            Some("kind"),
            r#"unknown kind "reboot""#,
        ),
        bad(
            edited(base_notification(), remove("kind")),
            Missing,
            Some("kind"),
            "is missing",
        ),
        bad(
            edited(base_notification(), set("title", json!("x"))),
            UnknownField,
            Some("title"),
            "is not a field of a notification",
        ),
        bad(
            edited(base_heartbeat(), set("id", json!(1))),
            UnknownField,
            Some("id"),
            "is not a field of a heartbeat",
        ),
        bad(
            edited(base_heartbeat(), set("sensor", json!(null))),
            Missing,
            Some("sensor"),
            "is missing",
        ),
        bad(
            edited(base_heartbeat(), set_in("sensor", "version", json!(22))),
            WrongType,
            Some("sensor.version"),
            "expected a string, found a whole number",
        ),
    ]
}

#[test]
fn bad_lines_are_refused_with_the_exact_problem_field_and_error() {
    for case in bad_lines() {
        let shown = String::from_utf8_lossy(&case.line);
        let shown = shown.get(..shown.len().min(200)).unwrap_or_default();
        let refusal = match decode_line(&case.line, RECEIVED_MS) {
            Ok(decoded) => panic!("accepted {shown}: {decoded:?}"),
            Err(refusal) => refusal,
        };
        assert_eq!(refusal.problem, case.problem, "{shown}");
        assert_eq!(refusal.field.as_deref(), case.field, "{shown}");
        assert_eq!(refusal.error, case.error, "{shown}");
        assert!(
            refusal.allowed.is_some(),
            "every refusal says what is allowed: {shown}"
        );
    }
}

#[test]
fn refusal_display_names_the_field_the_fault_and_what_is_allowed() {
    let line = edited(base_alert(), set("severity", json!("High")));
    let refusal = decode_line(line.as_bytes(), RECEIVED_MS).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        r#"field `severity`: unknown severity "High" (allowed: Warning, Minor, Major, Critical (any case))"#
    );
    let unknown = edited(base_alert(), set("severty", json!("Major")));
    let refusal = decode_line(unknown.as_bytes(), RECEIVED_MS).unwrap_err();
    assert_eq!(
        refusal.allowed.as_deref(),
        Some(
            "type, id, time, time_ms, engine, severity, title, message, protocol, group, source, \
             destination, sensor, truncated"
        )
    );
}

#[test]
fn a_long_bad_value_is_quoted_short_in_the_refusal() {
    let line = edited(base_alert(), set("engine", json!("x".repeat(1000))));
    let refusal = decode_line(line.as_bytes(), RECEIVED_MS).unwrap_err();
    assert_eq!(
        refusal.error,
        format!("unknown engine \"{}\"...", "x".repeat(64))
    );
}

#[test]
fn a_line_of_exactly_max_line_bytes_is_not_refused_for_its_length() {
    let empty = edited(base_alert(), set("message", json!("")));
    let line = edited(
        base_alert(),
        set("message", json!("m".repeat(MAX_LINE - empty.len()))),
    );
    assert_eq!(line.len(), MAX_LINE);
    let decoded = decode_line(line.as_bytes(), RECEIVED_MS).unwrap();
    assert_eq!(decoded.truncated, vec!["message"]);
}

fn decode_alert(line: &str) -> (Alert, Vec<&'static str>) {
    match decode_line(line.as_bytes(), RECEIVED_MS).unwrap() {
        Decoded {
            message: Message::Event(Event::Alert(alert)),
            truncated,
        } => (alert, truncated),
        other => panic!("not an alert: {other:?}"),
    }
}

#[test]
fn over_long_strings_are_cut_flagged_and_listed_in_line_order() {
    let line = edited(base_alert(), |m| {
        m.insert("title".into(), json!("t".repeat(MAX_TITLE + 1)));
        m.insert("message".into(), json!("é".repeat(MAX_MESSAGE)));
        m.insert(
            "source".into(),
            json!({"ip": "10.0.0.1", "name": "n".repeat(MAX_DEVICE_NAME + 5)}),
        );
        m.insert(
            "sensor".into(),
            json!({"name": "s".repeat(MAX_SENSOR_NAME + 1), "ip": "10.0.0.9", "version": "v".repeat(MAX_VERSION)}),
        );
    });
    let (alert, truncated) = decode_alert(&line);
    assert_eq!(
        truncated,
        vec!["title", "message", "source.name", "sensor.name"]
    );
    assert!(alert.truncated);
    assert_eq!(alert.title.len(), MAX_TITLE);
    // 'é' is two bytes: the cut falls on a character boundary.
    assert_eq!(alert.message.len(), MAX_MESSAGE);
    assert_eq!(alert.sensor.name.len(), MAX_SENSOR_NAME);
    assert_eq!(alert.sensor.version.len(), MAX_VERSION);
    let answer = Answer::accepted(alert.event_id(), &decode_line(line.as_bytes(), 0).unwrap());
    assert!(
        answer
            .to_line()
            .ends_with(r#""truncated":["title","message","source.name","sensor.name"]}"#)
    );
}

#[test]
fn a_value_at_capacity_is_not_cut() {
    let line = edited(base_alert(), |m| {
        m.insert("protocol".into(), json!("p".repeat(MAX_PROTOCOL)));
        m.insert("group".into(), json!("g".repeat(MAX_GROUP)));
    });
    let (alert, truncated) = decode_alert(&line);
    assert!(truncated.is_empty());
    assert!(!alert.truncated);
}

#[test]
fn time_forms_convert_to_epoch_milliseconds() {
    let cases: &[(Value, Value, u64)] = &[
        (json!("1970-01-01T00:00:00Z"), json!(null), 0),
        (
            json!("2024-05-05T12:28:54.123Z"),
            json!(null),
            1_714_912_134_123,
        ),
        (
            json!("2024-05-05t12:28:54.123z"),
            json!(null),
            1_714_912_134_123,
        ),
        (
            json!("2024-05-05T14:28:54.123+02:00"),
            json!(null),
            1_714_912_134_123,
        ),
        (
            json!("2024-05-05T07:58:54.123-04:30"),
            json!(null),
            1_714_912_134_123,
        ),
        (
            json!("2024-05-05T12:28:54.1239999Z"),
            json!(null),
            1_714_912_134_123,
        ),
        (
            json!("2024-05-05T12:28:54.1Z"),
            json!(null),
            1_714_912_134_100,
        ),
        (
            json!("2024-02-29T23:59:59.999Z"),
            json!(null),
            1_709_251_199_999,
        ),
        (
            json!("9999-12-31T23:59:59.999Z"),
            json!(null),
            253_402_300_799_999,
        ),
        (json!(null), json!(1_714_912_134_123u64), 1_714_912_134_123),
        (json!(null), json!(u64::MAX), u64::MAX),
        (json!(null), json!(null), RECEIVED_MS),
    ];
    for (time, time_ms, expected) in cases {
        let line = edited(base_alert(), |m| {
            m.insert("time".into(), time.clone());
            m.insert("time_ms".into(), time_ms.clone());
        });
        let (alert, _) = decode_alert(&line);
        assert_eq!(alert.time_ms, *expected, "{time} {time_ms}");
    }
}

#[test]
fn enum_names_are_read_in_every_spelling_core_accepts() {
    for engine in Engine::ALL {
        for name in [
            engine.as_str().to_owned(),
            engine.token().to_owned(),
            engine.as_str().to_lowercase().replace(' ', "-"),
        ] {
            let (alert, _) = decode_alert(&edited(base_alert(), set("engine", json!(name))));
            assert_eq!(alert.engine, engine);
        }
    }
    for severity in Severity::ALL {
        let name = format!(" {} ", severity.as_str().to_uppercase());
        let (alert, _) = decode_alert(&edited(base_alert(), set("severity", json!(name))));
        assert_eq!(alert.severity, severity);
    }
    for kind in NotificationKind::ALL {
        for name in [kind.token(), kind.as_str()] {
            let line = edited(base_notification(), set("kind", json!(name)));
            let Message::Event(Event::Notification(n)) =
                decode_line(line.as_bytes(), 0).unwrap().message
            else {
                panic!("not a notification");
            };
            assert_eq!(n.kind, kind);
        }
    }
}

#[test]
fn null_optional_fields_count_as_absent() {
    let line = edited(base_alert(), |m| {
        m.insert("message".into(), json!(null));
        m.insert("destination".into(), json!(null));
        m.insert("truncated".into(), json!(null));
        m.insert(
            "source".into(),
            json!({"ip": "fd00::1", "mac": null, "port": null, "name": null}),
        );
    });
    let (alert, _) = decode_alert(&line);
    assert_eq!(alert.message, "");
    assert_eq!(alert.destination, Endpoint::unknown());
    assert_eq!(alert.source.ip, "fd00::1".parse::<IpAddr>().unwrap());
    assert_eq!(alert.source.mac, None);
}

#[test]
fn example_alert_notification_and_heartbeat_round_trip() {
    let alert = Event::from(Alert::example(RECEIVED_MS));
    let mut notification = Notification::new(9, RECEIVED_MS, NotificationKind::AlertsDropped);
    notification.sensor = Alert::example(0).sensor;
    notification.set_text("12 alerts of severity Warning evicted: spool full.\nSee status.");
    let notification = Event::from(notification);
    for event in [alert, notification] {
        let decoded = decode_line(encode_line(&event).as_bytes(), 0).unwrap();
        assert_eq!(decoded.message, Message::Event(event));
        assert!(decoded.truncated.is_empty());
    }
    let heartbeat = Heartbeat {
        sensor: Alert::example(0).sensor,
        time_ms: RECEIVED_MS,
    };
    let line = encode_heartbeat(&heartbeat);
    assert_eq!(
        line,
        r#"{"type":"heartbeat","time":"2023-11-14T22:13:20.000Z","sensor":{"name":"sensor-plant-a","ip":"10.1.0.5","version":"22.3.1"}}"#
    );
    let message = Message::Heartbeat(heartbeat);
    assert_eq!(message.id(), "sensor-plant-a");
    assert_eq!(encode_message(&message), line);
    assert_eq!(decode_line(line.as_bytes(), 0).unwrap().message, message);
}

#[test]
fn the_example_alert_encodes_to_the_documented_line() {
    assert_eq!(
        encode_line(&Event::from(Alert::example(RECEIVED_MS))),
        concat!(
            r#"{"type":"alert","id":1042,"time":"2023-11-14T22:13:20.000Z","engine":"Operational","#,
            r#""severity":"Major","title":"An S7 Stop PLC Command was Sent","#,
            r#""message":"EWS-02 sent a Stop command to PLC-Line3 (CPU 1516-3 PN/DP); the PLC halts its program until a Start command arrives.","#,
            r#""protocol":"S7","group":"Restart and stop commands","#,
            r#""source":{"name":"EWS-02","ip":"10.20.1.12","mac":"00:50:56:8a:11:02","port":49152},"#,
            r#""destination":{"name":"PLC-Line3","ip":"10.20.3.11","mac":"00:0e:8c:01:02:03","port":102},"#,
            r#""sensor":{"name":"sensor-plant-a","ip":"10.1.0.5","version":"22.3.1"}}"#
        )
    );
}

#[test]
fn ten_thousand_generated_alerts_round_trip_exactly() {
    for alert in Generator::new(20_261_129, RECEIVED_MS).take(10_000) {
        let event = Event::from(alert);
        let line = encode_line(&event);
        assert!(line.len() <= MAX_LINE);
        let decoded = decode_line(line.as_bytes(), 0).unwrap();
        assert!(decoded.truncated.is_empty());
        assert_eq!(decoded.message, Message::Event(event));
    }
}

/// The longest line the encoder can write: every string at capacity, each byte escaped.
#[test]
fn the_worst_case_event_fits_in_max_line() {
    let control = |n: usize| "\u{1}".repeat(n);
    let mut alert = Alert::new(
        u64::MAX,
        u64::MAX,
        Engine::ProtocolViolation,
        Severity::Critical,
    );
    alert.set_title(&control(MAX_TITLE));
    alert.set_message(&control(MAX_MESSAGE));
    alert.set_protocol(&control(MAX_PROTOCOL));
    alert.set_group(&control(MAX_GROUP));
    for endpoint in [&mut alert.source, &mut alert.destination] {
        endpoint.name = control(MAX_DEVICE_NAME).as_str().try_into().unwrap();
        endpoint.ip = IpAddr::V6(Ipv6Addr::new(0xffff, 1, 0xffff, 1, 0xffff, 1, 0xffff, 1));
        endpoint.mac = Some(MacAddr([0xff; 6]));
        endpoint.port = Some(u16::MAX);
    }
    alert.set_sensor_name(&control(MAX_SENSOR_NAME));
    alert.set_sensor_version(&control(MAX_VERSION));
    alert.sensor.ip = IpAddr::V6(Ipv6Addr::new(0xffff, 1, 0xffff, 1, 0xffff, 1, 0xffff, 1));
    alert.truncated = true;
    let event = Event::from(alert);
    let line = encode_line(&event);
    assert!(line.len() <= MAX_LINE, "{} bytes", line.len());
    assert_eq!(
        decode_line(line.as_bytes(), 0).unwrap().message,
        Message::Event(event)
    );

    let mut notification = Notification::new(u64::MAX, u64::MAX, NotificationKind::SensorOffline);
    notification.set_text(&control(MAX_NOTIFICATION_TEXT));
    notification.set_sensor_name(&control(MAX_SENSOR_NAME));
    assert!(encode_line(&Event::from(notification)).len() <= MAX_LINE);
}

#[test]
fn answers_are_one_json_line_each_and_parse_back() {
    let cases = [
        (
            Answer::Accepted {
                id: "plant-a-42".into(),
                truncated: vec![],
            },
            r#"{"status":"accepted","id":"plant-a-42"}"#,
        ),
        (
            Answer::Accepted {
                id: "plant-a-43".into(),
                truncated: vec!["message".into(), "source.name".into()],
            },
            r#"{"status":"accepted","id":"plant-a-43","truncated":["message","source.name"]}"#,
        ),
        (
            Answer::NotForwarded {
                id: "plant-a-44".into(),
                reason: "no rule matched".into(),
            },
            r#"{"status":"not_forwarded","id":"plant-a-44","reason":"no rule matched"}"#,
        ),
        (
            Answer::Refused {
                field: Some("source.ip".into()),
                error: "\"10.0.0.300\" is not an IP address".into(),
                allowed: Some("an IPv4 address".into()),
            },
            r#"{"status":"refused","field":"source.ip","error":"\"10.0.0.300\" is not an IP address","allowed":"an IPv4 address"}"#,
        ),
        (
            Answer::Refused {
                field: None,
                error: "line is empty\n".into(),
                allowed: None,
            },
            r#"{"status":"refused","field":null,"error":"line is empty\n","allowed":null}"#,
        ),
    ];
    for (answer, line) in cases {
        assert_eq!(answer.to_line(), line);
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            line,
            "serde agrees"
        );
        assert_eq!(Answer::parse(line).unwrap(), answer);
        assert_eq!(Answer::parse(&format!("{line}\n")).unwrap(), answer);
    }
    assert_eq!(
        Answer::parse(r#"{"status":"accepted","id":"a-1","queued_ms":3}"#).unwrap(),
        Answer::Accepted {
            id: "a-1".into(),
            truncated: vec![]
        },
        "unknown answer fields are ignored, so the service can add some"
    );
    assert!(Answer::parse(r#"{"status":"maybe"}"#).is_err());
    assert!(Answer::parse("").is_err());
}

#[test]
fn a_refusal_becomes_the_refused_answer() {
    let refusal = Refusal {
        problem: Problem::Missing,
        field: Some("id".into()),
        error: "is missing".into(),
        allowed: Some("a whole number".into()),
    };
    assert_eq!(
        Answer::from(&refusal).to_line(),
        r#"{"status":"refused","field":"id","error":"is missing","allowed":"a whole number"}"#
    );
}

// ---------------------------------------------------------------------------------------------
// Properties

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..24).prop_map(move |chars| {
        let mut s = String::new();
        for c in chars {
            if s.len() + c.len_utf8() > max {
                break;
            }
            s.push(c);
        }
        s
    })
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    (
        text(MAX_DEVICE_NAME),
        ip(),
        proptest::option::of(any::<[u8; 6]>()),
        proptest::option::of(any::<u16>()),
    )
        .prop_map(|(name, ip, mac, port)| Endpoint {
            name: name.as_str().try_into().unwrap(),
            ip,
            mac: mac.map(MacAddr),
            port,
        })
}

fn sensor() -> impl Strategy<Value = Sensor> {
    (text(MAX_SENSOR_NAME), ip(), text(MAX_VERSION)).prop_map(|(name, ip, version)| {
        let name = if name.is_empty() { "s".into() } else { name };
        Sensor {
            name: name.as_str().try_into().unwrap(),
            ip,
            version: version.as_str().try_into().unwrap(),
        }
    })
}

fn event() -> impl Strategy<Value = Event> {
    let alert = (
        (
            any::<u64>(),
            any::<u64>(),
            0..5usize,
            0..4usize,
            any::<bool>(),
        ),
        (
            text(MAX_TITLE),
            text(MAX_MESSAGE),
            text(MAX_PROTOCOL),
            text(MAX_GROUP),
        ),
        (endpoint(), endpoint(), sensor()),
    )
        .prop_map(
            |(
                (id, time, engine, severity, truncated),
                (title, message, protocol, group),
                (source, destination, sensor),
            )| {
                let mut a = Alert::new(id, time, Engine::ALL[engine], Severity::ALL[severity]);
                a.set_title(if title.is_empty() { "t" } else { &title });
                a.set_message(&message);
                a.set_protocol(&protocol);
                a.set_group(&group);
                a.source = source;
                a.destination = destination;
                a.sensor = sensor;
                a.truncated = truncated;
                Event::from(a)
            },
        );
    let notification = (
        any::<u64>(),
        any::<u64>(),
        0..4usize,
        text(MAX_NOTIFICATION_TEXT),
        sensor(),
        any::<bool>(),
    )
        .prop_map(|(id, time, kind, text, sensor, truncated)| {
            let mut n = Notification::new(id, time, NotificationKind::ALL[kind]);
            n.set_text(&text);
            n.sensor = sensor;
            n.truncated = truncated;
            Event::from(n)
        });
    prop_oneof![alert, notification]
}

fn valid_line() -> impl Strategy<Value = String> {
    prop_oneof![
        event().prop_map(|e| encode_line(&e)),
        (sensor(), any::<u64>())
            .prop_map(|(sensor, time_ms)| encode_heartbeat(&Heartbeat { sensor, time_ms })),
    ]
}

proptest! {
    #[test]
    fn any_core_event_round_trips_exactly(event in event()) {
        let line = encode_line(&event);
        prop_assert!(!line.contains('\n'));
        prop_assert!(line.len() <= MAX_LINE);
        let decoded = decode_line(line.as_bytes(), 0).unwrap();
        prop_assert!(decoded.truncated.is_empty());
        prop_assert_eq!(decoded.message, Message::Event(event));
    }

    #[test]
    fn arbitrary_bytes_are_refused_or_decoded_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_line(&bytes, 0);
    }

    #[test]
    fn mutated_valid_lines_never_panic_and_what_is_accepted_re_encodes_stably(
        line in valid_line(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6),
    ) {
        let mut bytes = line.into_bytes();
        for (at, byte, op) in edits {
            match op {
                0 if !bytes.is_empty() => { let i = at.index(bytes.len()); bytes[i] = byte; }
                1 if !bytes.is_empty() => { bytes.remove(at.index(bytes.len())); }
                _ => { let i = at.index(bytes.len() + 1); bytes.insert(i, byte); }
            }
        }
        if let Ok(decoded) = decode_line(&bytes, 0) {
            let again = decode_line(encode_message(&decoded.message).as_bytes(), 0).unwrap();
            prop_assert_eq!(again.message, decoded.message);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// docs/ingest.md and docs/ingest.schema.json

fn docs_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name)
}

struct Schema {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Schema {
    fn load() -> Schema {
        let text = std::fs::read_to_string(docs_path("ingest.schema.json")).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler
            .add_resource("file:///ingest.schema.json", value)
            .unwrap();
        let index = compiler
            .compile("file:///ingest.schema.json", &mut schemas)
            .unwrap_or_else(|e| panic!("{e:#}"));
        Schema { schemas, index }
    }

    fn accepts(&self, line: &str) -> Result<(), String> {
        let value: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        self.schemas
            .validate(&value, self.index)
            .map_err(|e| format!("{e:#}"))
    }
}

/// The lines of every fenced block in docs/ingest.md whose info string is `json <tag>`.
fn doc_blocks(tag: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(docs_path("ingest.md")).unwrap();
    let fence = format!("```json {tag}");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_end() == fence => current = Some(Vec::new()),
            None => {}
            Some(_) if line.starts_with("```") => blocks.extend(current.take()),
            Some(lines) if !line.trim().is_empty() => lines.push(line.to_owned()),
            Some(_) => {}
        }
    }
    blocks
}

#[test]
fn every_documented_line_decodes_and_satisfies_the_json_schema() {
    let schema = Schema::load();
    let lines: Vec<String> = doc_blocks("ingest").into_iter().flatten().collect();
    assert!(
        lines.len() >= 3,
        "docs/ingest.md shows an alert, a notification and a heartbeat"
    );
    for line in lines {
        decode_line(line.as_bytes(), RECEIVED_MS).unwrap_or_else(|r| panic!("{line}: {r}"));
        schema
            .accepts(&line)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

/// `json exchange` blocks are pairs: a line sent, then the exact answer to it (an accepted
/// line is answered as the service will once it is durable).
#[test]
fn every_documented_exchange_gets_exactly_the_documented_answer() {
    let schema = Schema::load();
    let mut pairs = 0;
    for block in doc_blocks("exchange") {
        assert_eq!(block.len() % 2, 0, "exchange blocks hold pairs: {block:?}");
        for pair in block.chunks(2) {
            let (sent, expected) = (&pair[0], &pair[1]);
            let answer = match decode_line(sent.as_bytes(), RECEIVED_MS) {
                Ok(decoded) => {
                    let Message::Event(event) = &decoded.message else {
                        panic!("exchange shows events: {sent}");
                    };
                    assert_eq!(decoded.message.id(), event.event_id().to_string());
                    Answer::accepted(event.event_id(), &decoded)
                }
                Err(refusal) => {
                    if schema.accepts(sent).is_ok() {
                        assert_eq!(refusal.problem, Problem::DuplicateField, "{sent}");
                    }
                    Answer::from(&refusal)
                }
            };
            assert_eq!(&answer.to_line(), expected, "answer to {sent}");
            pairs += 1;
        }
    }
    assert!(pairs >= 10, "docs/ingest.md shows the refusals");
}

#[test]
fn every_documented_answer_parses_and_prints_back_identically() {
    let lines: Vec<String> = doc_blocks("answer").into_iter().flatten().collect();
    assert!(lines.len() >= 3);
    for line in lines {
        assert_eq!(Answer::parse(&line).unwrap().to_line(), line);
    }
}

#[test]
fn generated_alerts_satisfy_the_json_schema() {
    let schema = Schema::load();
    for alert in Generator::new(7, RECEIVED_MS).take(300) {
        let line = encode_line(&Event::from(alert));
        schema
            .accepts(&line)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

/// Every bad line of the table that is JSON without a repeated key is refused by the JSON
/// Schema too; the schema cannot see byte length, UTF-8 or repeated keys.
#[test]
fn the_json_schema_refuses_every_bad_line_the_decoder_refuses() {
    let schema = Schema::load();
    let mut checked = 0;
    for case in bad_lines() {
        if matches!(
            case.problem,
            Problem::TooLong | Problem::NotUtf8 | Problem::Malformed | Problem::DuplicateField
        ) {
            continue;
        }
        let line = String::from_utf8(case.line).unwrap();
        assert!(schema.accepts(&line).is_err(), "the schema accepts {line}");
        checked += 1;
    }
    assert!(checked >= 40);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn the_json_schema_accepts_every_encoded_line(line in valid_line()) {
        let schema = Schema::load();
        prop_assert!(schema.accepts(&line).is_ok(), "{}", line);
    }
}
