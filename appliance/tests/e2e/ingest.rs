//! Bad input at ingest, through the real `icsfwd run` binary's Unix socket: a corpus of
//! malformed and hostile lines each gets its precise refusal (field and error), nothing is
//! stored for them, hostile-but-valid strings reach Splunk (the TLS emulator's HEC) byte-exact
//! as one event that cannot forge fields, the service keeps serving valid lines on the same
//! and on new connections, and `icsfwd status` counts the refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::time::Duration;

use e2e::{Producer, Service, alert_line, hec_ids, scratch, socket_of, wait_for, write_hec_config};
use serde_json::Value;

/// A valid alert line with `id`, to check the connection still serves.
fn valid(id: u64) -> Vec<u8> {
    alert_line(id, "Major", "PLC stop").into_bytes()
}

/// An alert line with one member replaced or added (`key` → raw JSON `value`).
fn with(key: &str, value: &str) -> Vec<u8> {
    let mut alert: serde_json::Map<String, Value> =
        serde_json::from_str(&alert_line(9_999, "Major", "PLC stop")).unwrap();
    alert.remove(key);
    let body = serde_json::to_string(&alert).unwrap();
    let body = body.strip_suffix('}').unwrap();
    format!("{body},\"{key}\":{value}}}").into_bytes()
}

/// An alert line without `key`.
fn without(key: &str) -> Vec<u8> {
    let mut alert: serde_json::Map<String, Value> =
        serde_json::from_str(&alert_line(9_999, "Major", "PLC stop")).unwrap();
    alert.remove(key);
    serde_json::to_vec(&alert).unwrap()
}

/// One bad line and its refusal: `field` (`None` = JSON null) and the error, exact when
/// `exact`, else the error's beginning.
struct Bad {
    name: &'static str,
    line: Vec<u8>,
    field: Option<&'static str>,
    error: String,
    exact: bool,
}

fn bad(name: &'static str, line: Vec<u8>, field: Option<&'static str>, error: &str) -> Bad {
    Bad {
        name,
        line,
        field,
        error: error.to_owned(),
        exact: true,
    }
}

fn bad_prefix(name: &'static str, line: Vec<u8>, field: Option<&'static str>, error: &str) -> Bad {
    Bad {
        exact: false,
        ..bad(name, line, field, error)
    }
}

fn corpus() -> Vec<Bad> {
    let megabyte = {
        let mut line = br#"{"type":"alert","title":""#.to_vec();
        line.resize(1 << 20, b'A');
        line.extend_from_slice(br#""}"#);
        line
    };
    let megabyte_len = megabyte.len();
    let mut invalid_utf8 = br#"{"type":"alert","title":"caf"#.to_vec();
    invalid_utf8.extend_from_slice(&[0xC3, 0x28]);
    invalid_utf8.extend_from_slice(br#""}"#);
    let mut nul = alert_line(9_999, "Major", "PLC").into_bytes();
    let at = nul.windows(3).position(|w| w == b"PLC").unwrap() + 3;
    nul.insert(at, 0);
    let mut control = alert_line(9_999, "Major", "PLC").into_bytes();
    control.insert(at, 0x07);
    let nested = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes();
    let nested_value = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let shallow_value = format!("{}1{}", "[".repeat(20), "]".repeat(20));
    vec![
        bad_prefix(
            "malformed JSON",
            br#"{"type":"alert""#.to_vec(),
            None,
            "malformed JSON at column",
        ),
        bad(
            "not JSON at all",
            b"GET / HTTP/1.1".to_vec(),
            None,
            r#"not JSON: the line starts with "GET / HTTP/1.1""#,
        ),
        bad("blank line", Vec::new(), None, "line is empty"),
        bad(
            "an array",
            br#"[{"type":"alert"}]"#.to_vec(),
            None,
            "line is an array, not an object",
        ),
        bad(
            "wrong type of id",
            with("id", "\"7\""),
            Some("id"),
            "expected a whole number, found a string",
        ),
        bad(
            "wrong type of title",
            with("title", "42"),
            Some("title"),
            "expected a string, found a whole number",
        ),
        bad(
            "missing severity",
            without("severity"),
            Some("severity"),
            "is missing",
        ),
        bad(
            "missing sensor",
            without("sensor"),
            Some("sensor"),
            "is missing",
        ),
        bad("missing type", without("type"), Some("type"), "is missing"),
        bad(
            "a 1 MB line",
            megabyte,
            None,
            &format!("line is {megabyte_len} bytes long"),
        ),
        bad(
            "invalid UTF-8",
            invalid_utf8,
            None,
            "line is not UTF-8 (invalid byte at offset 28)",
        ),
        bad_prefix("a raw NUL byte in a string", nul, None, "malformed JSON"),
        bad_prefix(
            "a raw control character in a string",
            control,
            None,
            "malformed JSON",
        ),
        bad_prefix(
            "deeply nested JSON",
            nested,
            None,
            "malformed JSON at column",
        ),
        bad_prefix(
            "deeply nested value of a field",
            with("title", &nested_value),
            None,
            "malformed JSON at column",
        ),
        bad(
            "a nested array where a string belongs",
            with("title", &shallow_value),
            Some("title"),
            "expected a string, found an array",
        ),
        bad(
            "an unknown field",
            with("severty", "\"Major\""),
            Some("severty"),
            "is not a field of an alert",
        ),
        // serde_json reads a whole number past u64 as a float, so the decoder cannot quote
        // it; the refusal still names the field and what it takes.
        bad(
            "a huge number",
            with("id", "123456789012345678901234567890"),
            Some("id"),
            "expected a whole number, found a number with a fraction or exponent",
        ),
        bad_prefix(
            "a number past f64",
            with("id", "1e400"),
            None,
            "malformed JSON at column",
        ),
        bad(
            "a number with an exponent",
            with("id", "7e2"),
            Some("id"),
            "expected a whole number, found a number with a fraction or exponent",
        ),
        bad(
            "a negative time",
            with("time_ms", "-5"),
            Some("time_ms"),
            "-5 is out of range",
        ),
        bad(
            "a time before 1970",
            {
                let mut line = without("time_ms");
                line.truncate(line.len() - 1);
                line.extend_from_slice(br#","time":"1969-12-31T23:59:59Z"}"#);
                line
            },
            Some("time"),
            "\"1969-12-31T23:59:59Z\" is before 1970-01-01T00:00:00Z",
        ),
    ]
}

/// An alert line of `len` bytes: spaces before the closing brace, as a padding encoder writes.
fn padded(id: u64, len: usize) -> Vec<u8> {
    let mut line = alert_line(id, "Major", "PLC stop").into_bytes();
    let close = line.len() - 1;
    line.splice(close..close, std::iter::repeat_n(b' ', len - line.len()));
    line
}

#[test]
fn the_service_takes_lines_up_to_its_configured_max_line_bytes() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("max-line");
    let config = write_hec_config(&dir, &tls, emulator.hec_addr().port(), "", "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.trim_end()
            .ends_with(&format!("\"{}\"", socket_of(&dir).display()))
    );
    text.push_str("max_line_bytes = \"128 KiB\"\n");
    std::fs::write(&config, text).unwrap();
    let service = Service::start(&config);
    let mut producer = Producer::connect(&socket_of(&dir));
    // Over the encoder's 16 KiB, within the configured 128 KiB: taken.
    for (id, len) in [(1, 20 * 1024), (2, 128 * 1024)] {
        let answer = producer.exchange(&padded(id, len)).unwrap();
        assert_eq!(answer["status"], "accepted", "{len} bytes: {answer}");
    }
    let answer = producer.exchange(&padded(3, 128 * 1024 + 1)).unwrap();
    assert_eq!(answer["status"], "refused", "{answer}");
    assert_eq!(answer["error"], "line is 131073 bytes long");
    assert_eq!(answer["allowed"], "at most 131072 bytes before the LF");
    let answer = producer
        .exchange(alert_line(4, "Major", "PLC stop").as_bytes())
        .unwrap();
    assert_eq!(
        answer["status"], "accepted",
        "the connection goes on: {answer}"
    );
    let store = emulator.store();
    wait_for("the accepted lines at HEC", Duration::from_secs(30), || {
        hec_ids(store).len() >= 3
    });
    let ids = hec_ids(store);
    assert_eq!(
        ids.keys().map(String::as_str).collect::<Vec<_>>(),
        ["sensor-plant-a-1", "sensor-plant-a-2", "sensor-plant-a-4"]
    );
    drop(service);
}

/// Titles that are valid yet try to break out of their field in some output format.
const HOSTILE_TITLES: [&str; 9] = [
    "quote \" newline \n pipe | equals = angle < done",
    r#"", "severity": "Critical", "x": ""#,
    "CEF:0|Evil|Corp|1|100|forged|10|src=6.6.6.6 act=allow",
    "LEEF:2.0|Evil|Corp|1|id|\tsev=10\tsrc=6.6.6.6",
    "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "back\\slash \\\" and \\u0041 literal",
    "bell \u{7} escape \u{1b}[31m tab \t delete \u{7f}",
    "<script>alert(1)</script> &amp; ${jndi:ldap://x}",
    "ünïcødé ✓ 🛰 right-to-left \u{202e}txet",
];

#[test]
fn hostile_and_malformed_lines_are_refused_precisely_and_valid_hostile_strings_arrive_exact() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("ingest");
    let config = write_hec_config(&dir, &tls, emulator.hec_addr().port(), "", "");
    let socket = socket_of(&dir);
    let service = Service::start(&config);
    let mut producer = Producer::connect(&socket);
    let mut next_valid = 1;
    let mut serves = |producer: &mut Producer, what: &str| {
        let answer = producer.exchange(&valid(next_valid)).unwrap();
        assert_eq!(
            answer["status"], "accepted",
            "a valid line after {what}: {answer}"
        );
        next_valid += 1;
    };

    let corpus = corpus();
    for case in &corpus {
        let answer = producer
            .exchange(&case.line)
            .unwrap_or_else(|| panic!("{}: no answer, the connection broke", case.name));
        assert_eq!(answer["status"], "refused", "{}: {answer}", case.name);
        assert_eq!(
            answer["field"],
            case.field.map_or(Value::Null, Value::from),
            "{}: {answer}",
            case.name
        );
        let error = answer["error"].as_str().unwrap();
        if case.exact {
            assert_eq!(error, case.error, "{}: {answer}", case.name);
        } else {
            assert!(error.starts_with(&case.error), "{}: {answer}", case.name);
        }
        assert!(
            error.len() < 300,
            "{}: a refusal stays short: {answer}",
            case.name
        );
        // The same connection keeps serving.
        serves(&mut producer, case.name);
    }
    // A new connection serves too.
    let mut fresh = Producer::connect(&socket);
    serves(&mut fresh, "the corpus, on a new connection");

    // Hostile but valid titles: accepted, and each arrives as one event with that exact title.
    let first_hostile = 1_000;
    for (i, title) in HOSTILE_TITLES.iter().enumerate() {
        let answer = fresh
            .exchange(alert_line(first_hostile + i as u64, "Minor", title).as_bytes())
            .unwrap();
        assert_eq!(answer["status"], "accepted", "{title:?}: {answer}");
    }
    // The JSON escape of a NUL is valid JSON: accepted or refused naming the title, never
    // stored cut or mangled.
    let nul_answer = fresh
        .exchange(alert_line(2_000, "Minor", "nul \u{0} inside").as_bytes())
        .unwrap();
    let nul_accepted = nul_answer["status"] == "accepted";
    if !nul_accepted {
        assert_eq!(nul_answer["field"], "title", "{nul_answer}");
    }

    let valid_lines = next_valid - 1;
    let expected = valid_lines + HOSTILE_TITLES.len() as u64 + u64::from(nul_accepted);
    let store = emulator.store();
    wait_for(
        "every accepted line at HEC",
        Duration::from_secs(30),
        || hec_ids(store).values().sum::<u64>() >= expected,
    );
    let ids = hec_ids(store);
    assert_eq!(
        ids.values().sum::<u64>(),
        expected,
        "only accepted lines arrive: {ids:?}"
    );
    assert!(ids.values().all(|&n| n == 1), "each once: {ids:?}");
    assert!(
        !ids.contains_key("sensor-plant-a-9999"),
        "nothing stored for a refusal"
    );
    let events: Vec<Value> = store
        .list(&icsfwd_sim::splunk::store::Filter::default())
        .iter()
        .map(|r| r.to_json()["event"].clone())
        .collect();
    for (i, title) in HOSTILE_TITLES.iter().enumerate() {
        let id = format!("sensor-plant-a-{}", first_hostile + i as u64);
        let event = events
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(event["title"], *title, "byte-exact title");
        assert_eq!(event["severity"], "Minor", "no forged severity: {event}");
        assert!(event.get("x").is_none(), "no forged field: {event}");
    }
    if nul_accepted {
        let event = events
            .iter()
            .find(|e| e["id"] == "sensor-plant-a-2000")
            .unwrap();
        assert_eq!(event["title"], "nul \u{0} inside");
    }

    // `icsfwd status` counts every refusal (and the accepted lines).
    let refusals = corpus.len() as u64 + u64::from(!nul_accepted);
    let status = e2e::wait_for_status(
        "status to count the refusals",
        &config,
        Duration::from_secs(10),
        |s| s["ingest"]["refused"] == refusals && s["ingest"]["accepted"] == expected,
    );
    assert_eq!(status["ingest"]["refused_by_spool"], 0, "{status}");
    drop(service);
}
