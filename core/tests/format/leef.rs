//! LEEF 1.0: golden lines, exact buffer use, and a spec-following parser that reads every
//! field back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test, and the shared fixtures it includes, report failure by panicking"
)]

use crate::common;

use common::*;
use icsfwd_core::alert::{Event, NotificationKind};
use icsfwd_core::format::{SliceWriter, cef, leef};
use icsfwd_core::time::{Civil, LEGACY_PATTERN};
use proptest::prelude::*;

fn render(event: &Event, options: &leef::Options) -> Vec<u8> {
    render_into(leef::MAX_LEN, |out| leef::write(event, options, out))
}

// ---- an independent LEEF 1.0 reader ----

#[derive(Debug)]
struct Parsed {
    /// `LEEF:1.0`, vendor, product, version, event id.
    header: Vec<String>,
    attributes: Vec<(String, String)>,
}

/// Undoes the documented escapes: `\\`, `\t`, `\n`, `\r`, `\uXXXX`, and `\|` in the header.
fn unescape(raw: &str, header: bool, line: &str) -> String {
    let mut value = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => value.push('\\'),
            Some('t') => value.push('\t'),
            Some('n') => value.push('\n'),
            Some('r') => value.push('\r'),
            Some('|') if header => value.push('|'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .unwrap_or_else(|_| panic!("bad \\u{hex} in {line:?}"));
                value.push(char::from_u32(code).unwrap());
            }
            other => panic!("invalid escape \\{other:?} in {line:?}"),
        }
    }
    value
}

/// Header: five fields ended by unescaped `|`; then tab-separated `key=value` attributes, each
/// split at its first `=`.
fn parse(line: &str) -> Parsed {
    let mut header = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    let mut rest = "";
    for (at, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '|' {
            header.push(unescape(&line[start..at], true, line));
            start = at + 1;
            if header.len() == 5 {
                rest = &line[start..];
                break;
            }
        }
    }
    assert_eq!(header.len(), 5, "LEEF 1.0 header has five fields: {line:?}");
    let attributes = rest
        .split('\t')
        .map(|attribute| {
            let (key, value) = attribute
                .split_once('=')
                .unwrap_or_else(|| panic!("attribute without `=`: {attribute:?}"));
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric()),
                "key {key:?}"
            );
            (key.to_string(), unescape(value, false, line))
        })
        .collect();
    Parsed { header, attributes }
}

fn expected(event: &Event, options: &leef::Options) -> (Vec<String>, Vec<(String, String)>) {
    let sensor = event.sensor();
    // An empty header field is written as `unknown`.
    let field = |s: &str| if s.is_empty() { "unknown" } else { s }.to_string();
    let header = vec![
        "LEEF:1.0".to_string(),
        field(&options.vendor),
        field(&options.product),
        field(&sensor.version),
        cef::signature_id(event).to_string(),
    ];
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| {
        if !v.is_empty() {
            attrs.push((k.to_string(), v));
        }
    };
    put(
        "devTime",
        Civil::from_epoch_ms(event.time_ms()).legacy().to_string(),
    );
    put("devTimeFormat", LEGACY_PATTERN.to_string());
    put("sev", event.severity().level_0_to_10().to_string());
    put("severity", event.severity().as_str().to_string());
    match event {
        Event::Alert(a) => {
            put("cat", a.group.to_string());
            put("engine", a.engine.as_str().to_string());
        }
        Event::Notification(_) => put("cat", "System notification".to_string()),
    }
    put("title", event.title().to_string());
    put("id", format!("{}-{}", sensor.name, event.event_id().id));
    if let Event::Alert(a) = event {
        put("proto", a.protocol.to_string());
        for (e, p) in [(&a.source, "src"), (&a.destination, "dst")] {
            put(p, e.ip.to_string());
            put(&format!("{p}Name"), e.name.to_string());
            if let Some(m) = e.mac {
                put(&format!("{p}MAC"), m.to_string());
            }
            if let Some(port) = e.port {
                put(&format!("{p}Port"), port.to_string());
            }
        }
    }
    put("sensor", sensor.name.to_string());
    put("sensorIP", sensor.ip.to_string());
    if event.truncated() {
        put("truncated", "true".to_string());
    }
    match event {
        Event::Alert(a) => put("msg", a.message.to_string()),
        Event::Notification(n) => put("msg", n.text.to_string()),
    }
    (header, attrs)
}

fn assert_reads_back(event: &Event, options: &leef::Options) {
    let bytes = render(event, options);
    let line = std::str::from_utf8(&bytes).expect("LEEF output is UTF-8");
    assert!(
        !line.chars().any(|c| c != '\t' && c.is_control()),
        "raw control character in {line:?}"
    );
    let parsed = parse(line);
    let (header, attributes) = expected(event, options);
    assert_eq!(parsed.header, header, "header of {line:?}");
    assert_eq!(parsed.attributes, attributes, "attributes of {line:?}");
}

// ---- tests ----

#[test]
fn golden_events_render_exactly_as_committed() {
    for (name, event) in golden_events() {
        check_golden(
            &format!("leef_{name}"),
            &render(&event, &leef::Options::default()),
        );
    }
}

#[test]
fn golden_events_read_back_field_by_field() {
    for (_, event) in golden_events() {
        assert_reads_back(&event, &leef::Options::default());
    }
}

#[test]
fn prefilled_buffer_is_touched_exactly_as_far_as_reported() {
    let event = Event::from(sample_alert());
    assert_prefilled_render_matches_golden("leef_sample", leef::MAX_LEN, |out| {
        leef::write(&event, &leef::Options::default(), out)
    });
}

#[test]
fn every_too_small_buffer_reports_buffer_full() {
    let event = Event::from(sample_alert());
    assert_every_short_buffer_reports_full("leef", |out| {
        leef::write(&event, &leef::Options::default(), out)
    });
}

#[test]
fn events_at_capacity_with_the_worst_characters_fit_max_len() {
    for c in WORST_CHARS {
        let longest = labels_at_capacity(c);
        for event in [Event::from(max_alert(c)), Event::from(max_notification(c))] {
            let mut buf = vec![0u8; leef::MAX_LEN];
            let mut out = SliceWriter::new(&mut buf);
            leef::write(&event, &longest, &mut out).unwrap_or_else(|e| panic!("{c:?}: {e}"));
            assert_reads_back(&event, &longest);
        }
    }
}

#[test]
fn max_len_is_within_a_few_bytes_of_the_worst_case() {
    // A bound far above reality wastes memory on every buffer; this keeps it honest.
    let mut worst = 0;
    for c in WORST_CHARS {
        let options = labels_at_capacity(c);
        let event = Event::from(max_alert(c));
        worst = worst.max(render(&event, &options).len());
    }
    assert!(worst <= leef::MAX_LEN);
    assert!(
        leef::MAX_LEN - worst <= 64,
        "MAX_LEN {} vs worst {worst}",
        leef::MAX_LEN
    );
}

#[test]
fn hostile_values_cannot_forge_attributes_header_fields_or_lines() {
    let event = Event::from(hostile_alert());
    let line = String::from_utf8(render(&event, &leef::Options::default())).unwrap();
    let parsed = parse(&line);
    let keys: Vec<&str> = parsed.attributes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.iter().filter(|k| **k == "msg").count(), 1);
    assert_eq!(keys.iter().filter(|k| **k == "src").count(), 1);
    // The version `1.0|=\` stays one header field.
    assert_eq!(parsed.header[3], "1.0|=\\");
    assert!(line.contains("\tproto=Modbus\\t|=\\\\]\t"), "{line}");
    assert!(line.contains("forged\\u0000nul\\u001B[31m"), "{line}");
}

#[test]
fn event_id_is_the_cef_signature_id() {
    let event = Event::from(sample_alert());
    let parsed = parse(std::str::from_utf8(&render(&event, &Default::default())).unwrap());
    assert_eq!(parsed.header[4], cef::signature_id(&event).to_string());
    let n = Event::from(notification(NotificationKind::SensorOnline));
    let parsed = parse(std::str::from_utf8(&render(&n, &Default::default())).unwrap());
    assert_eq!(parsed.header[4], "notification:sensor_online");
}

#[test]
fn severity_maps_to_sev_1_4_8_10() {
    use icsfwd_core::alert::Severity;
    for (severity, sev) in [
        (Severity::Warning, "1"),
        (Severity::Minor, "4"),
        (Severity::Major, "8"),
        (Severity::Critical, "10"),
    ] {
        let mut alert = sample_alert();
        alert.severity = severity;
        let line = String::from_utf8(render(&Event::from(alert), &Default::default())).unwrap();
        let parsed = parse(&line);
        let got = parsed.attributes.iter().find(|(k, _)| k == "sev").unwrap();
        assert_eq!(got.1, sev);
    }
}

fn arb_options() -> impl Strategy<Value = leef::Options> {
    (
        arb_text::<{ leef::MAX_VENDOR }>(),
        arb_text::<{ leef::MAX_PRODUCT }>(),
    )
        .prop_map(|(vendor, product)| leef::Options { vendor, product })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_event_fits_and_reads_back_field_by_field(event in arb_event(), options in arb_options()) {
        let mut buf = vec![0u8; leef::MAX_LEN];
        let mut out = SliceWriter::new(&mut buf);
        prop_assert!(leef::write(&event, &options, &mut out).is_ok());
        assert_reads_back(&event, &options);
    }
}
