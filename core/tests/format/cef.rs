//! CEF: golden lines, exact buffer use, and a spec-following parser that reads every field back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test, and the shared fixtures it includes, report failure by panicking"
)]

use crate::common;

use core::net::IpAddr;

use common::*;
use icsfwd_core::alert::{Event, NotificationKind};
use icsfwd_core::format::{SliceWriter, cef};
use proptest::prelude::*;

fn render(event: &Event, options: &cef::Options) -> Vec<u8> {
    render_into(cef::MAX_LEN, |out| cef::write(event, options, out))
}

// ---- an independent CEF reader, written from the specification ----

/// A parsed CEF line: the seven header fields (`CEF:0` first) and the extension pairs in order.
#[derive(Debug)]
struct Parsed {
    header: Vec<String>,
    extension: Vec<(String, String)>,
}

/// Header: split on unescaped `|` (seven separators); `\\` and `\|` are the only escapes.
/// Extension: every unescaped `=` ends a key, which starts after the preceding space; values
/// unescape `\\`, `\=`, `\n`, `\r`.
fn parse(line: &str) -> Parsed {
    let mut header = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars();
    while header.len() < 7 {
        match chars.next() {
            Some('\\') => match chars.next() {
                Some(c @ ('\\' | '|')) => field.push(c),
                other => panic!("invalid header escape \\{other:?} in {line:?}"),
            },
            Some('|') => header.push(std::mem::take(&mut field)),
            Some(c) => field.push(c),
            None => panic!("fewer than 7 header separators in {line:?}"),
        }
    }
    let rest: Vec<char> = chars.collect();

    // Unescaped `=` positions.
    let mut equals = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            '\\' => i += 2,
            '=' => {
                equals.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    let mut extension = Vec::new();
    let mut key_starts = Vec::new();
    for &eq in &equals {
        let start = rest[..eq]
            .iter()
            .rposition(|&c| c == ' ')
            .map_or(0, |space| space + 1);
        let key: String = rest[start..eq].iter().collect();
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad key {key:?} in {line:?}"
        );
        key_starts.push((start, eq, key));
    }
    assert!(
        key_starts.first().is_none_or(|(start, _, _)| *start == 0),
        "text before the first key in {line:?}"
    );
    for (n, (_, eq, key)) in key_starts.iter().enumerate() {
        let end = key_starts
            .get(n + 1)
            .map_or(rest.len(), |(next_start, _, _)| next_start - 1);
        let raw: String = rest[eq + 1..end].iter().collect();
        extension.push((key.clone(), unescape_value(&raw, line)));
    }
    Parsed { header, extension }
}

fn unescape_value(raw: &str, line: &str) -> String {
    let mut value = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\\') => value.push('\\'),
                Some('=') => value.push('='),
                Some('n') => value.push('\n'),
                Some('r') => value.push('\r'),
                other => panic!("invalid extension escape \\{other:?} in {line:?}"),
            }
        } else {
            value.push(c);
        }
    }
    value
}

// ---- what the documentation says each field must hold ----

fn replaced(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Header fields: control characters (LF and CR included) become U+FFFD; an empty field is
/// written as `unknown`.
fn header_value(s: &str) -> String {
    if s.is_empty() {
        return "unknown".to_owned();
    }
    s.chars()
        .map(|c| if replaced(c) { '\u{FFFD}' } else { c })
        .collect()
}

/// Extension values: control characters other than LF and CR become U+FFFD.
fn extension_value(s: &str) -> String {
    s.chars()
        .map(|c| {
            if replaced(c) && c != '\n' && c != '\r' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn expected(event: &Event, options: &cef::Options) -> (Vec<String>, Vec<(String, String)>) {
    let sensor = event.sensor();
    let signature = match event {
        Event::Alert(a) => format!("{}:{:08x}", a.engine.token(), fnv1a(a.title.as_bytes())),
        Event::Notification(n) => format!("notification:{}", n.kind.token()),
    };
    let header = vec![
        "CEF:0".to_string(),
        header_value(&options.vendor),
        header_value(&options.product),
        header_value(&sensor.version),
        signature,
        header_value(event.title()),
        event.severity().level_0_to_10().to_string(),
    ];
    let mut ext: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| {
        if !v.is_empty() {
            ext.push((k.to_string(), v));
        }
    };
    put("rt", event.time_ms().to_string());
    put(
        "externalId",
        format!("{}-{}", extension_value(&sensor.name), event.event_id().id),
    );
    let ip =
        |put: &mut dyn FnMut(&str, String), v4: &str, v6: &str, label: &str, ip: IpAddr| match ip {
            IpAddr::V4(ip) => put(v4, ip.to_string()),
            IpAddr::V6(ip) => {
                put(&format!("{v6}Label"), label.to_string());
                put(v6, ip.to_string());
            }
        };
    match event {
        Event::Alert(a) => {
            put("cat", extension_value(&a.group));
            put("app", extension_value(&a.protocol));
            for (e, v4, v6, label, port, mac, host) in [
                (
                    &a.source,
                    "src",
                    "c6a2",
                    "Source IPv6 Address",
                    "spt",
                    "smac",
                    "shost",
                ),
                (
                    &a.destination,
                    "dst",
                    "c6a3",
                    "Destination IPv6 Address",
                    "dpt",
                    "dmac",
                    "dhost",
                ),
            ] {
                ip(&mut put, v4, v6, label, e.ip);
                if let Some(p) = e.port {
                    put(port, p.to_string());
                }
                if let Some(m) = e.mac {
                    put(mac, m.to_string());
                }
                put(host, extension_value(&e.name));
            }
        }
        Event::Notification(_) => put("cat", "System notification".to_string()),
    }
    ip(&mut put, "dvc", "c6a1", "Device IPv6 Address", sensor.ip);
    put("dvchost", extension_value(&sensor.name));
    if let Event::Alert(a) = event {
        put("cs1Label", "engine".to_string());
        put("cs1", a.engine.as_str().to_string());
    }
    put("cs2Label", "severity".to_string());
    put("cs2", event.severity().as_str().to_string());
    if event.truncated() {
        put("cs3Label", "truncated".to_string());
        put("cs3", "true".to_string());
    }
    let message = match event {
        Event::Alert(a) => a.message.as_str(),
        Event::Notification(n) => n.text.as_str(),
    };
    put("msg", extension_value(message));
    (header, ext)
}

fn assert_reads_back(event: &Event, options: &cef::Options) {
    let bytes = render(event, options);
    let line = std::str::from_utf8(&bytes).expect("CEF output is UTF-8");
    assert!(
        !line.contains('\n') && !line.contains('\r'),
        "raw line break in {line:?}"
    );
    let parsed = parse(line);
    let (header, extension) = expected(event, options);
    assert_eq!(parsed.header, header, "header of {line:?}");
    assert_eq!(parsed.extension, extension, "extension of {line:?}");
}

// ---- tests ----

#[test]
fn golden_events_render_exactly_as_committed() {
    for (name, event) in golden_events() {
        let bytes = render(&event, &cef::Options::default());
        check_golden(&format!("cef_{name}"), &bytes);
    }
}

#[test]
fn golden_events_read_back_field_by_field() {
    for (_, event) in golden_events() {
        assert_reads_back(&event, &cef::Options::default());
    }
}

#[test]
fn prefilled_buffer_is_touched_exactly_as_far_as_reported() {
    let event = Event::from(sample_alert());
    assert_prefilled_render_matches_golden("cef_sample", cef::MAX_LEN, |out| {
        cef::write(&event, &cef::Options::default(), out)
    });
}

#[test]
fn every_too_small_buffer_reports_buffer_full() {
    let event = Event::from(sample_alert());
    assert_every_short_buffer_reports_full("cef", |out| {
        cef::write(&event, &cef::Options::default(), out)
    });
}

#[test]
fn events_at_capacity_with_the_worst_characters_fit_max_len() {
    for c in WORST_CHARS {
        let longest = labels_at_capacity(c);
        for event in [Event::from(max_alert(c)), Event::from(max_notification(c))] {
            let mut buf = vec![0u8; cef::MAX_LEN];
            let mut out = SliceWriter::new(&mut buf);
            let n = cef::write(&event, &longest, &mut out).unwrap_or_else(|e| panic!("{c:?}: {e}"));
            assert!(n <= cef::MAX_LEN);
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
    assert!(worst <= cef::MAX_LEN);
    assert!(
        cef::MAX_LEN - worst <= 64,
        "MAX_LEN {} vs worst {worst}",
        cef::MAX_LEN
    );
}

#[test]
fn hostile_values_cannot_forge_keys_header_fields_or_lines() {
    let event = Event::from(hostile_alert());
    let bytes = render(&event, &cef::Options::default());
    let line = String::from_utf8(bytes).unwrap();
    let parsed = parse(&line);
    let keys: Vec<&str> = parsed.extension.iter().map(|(k, _)| k.as_str()).collect();
    // The message contains ` msg=evil src=6.6.6.6`; neither may become a key of its own.
    assert_eq!(keys.iter().filter(|k| **k == "msg").count(), 1);
    assert!(
        !keys.contains(&"src"),
        "IPv6 source must not use src: {keys:?}"
    );
    assert_eq!(
        parsed.header[5],
        "Illegal \"Modbus\" | write=1 \\ ]\u{FFFD}CEF:0|x"
    );
}

#[test]
fn ipv6_addresses_use_labelled_c6a_keys_and_ipv4_uses_src_dst_dvc() {
    let v6 = Event::from(hostile_alert());
    let parsed = parse(std::str::from_utf8(&render(&v6, &cef::Options::default())).unwrap());
    let get = |p: &Parsed, k: &str| {
        p.extension
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        get(&parsed, "c6a2").as_deref(),
        Some("fe80::21b:1bff:feaa:f9e")
    );
    assert_eq!(get(&parsed, "c6a3").as_deref(), Some("::1"));
    assert_eq!(get(&parsed, "c6a1").as_deref(), Some("2001:db8::1"));
    assert_eq!(get(&parsed, "dst"), None);

    let v4 = Event::from(sample_alert());
    let parsed = parse(std::str::from_utf8(&render(&v4, &cef::Options::default())).unwrap());
    assert_eq!(get(&parsed, "src").as_deref(), Some("10.20.1.7"));
    assert_eq!(get(&parsed, "dst").as_deref(), Some("10.20.3.11"));
    assert_eq!(get(&parsed, "dvc").as_deref(), Some("10.1.0.5"));
    assert_eq!(get(&parsed, "c6a2"), None);
}

#[test]
fn signature_id_names_the_kind_of_alert_not_the_occurrence() {
    let first = sample_alert();
    let mut second = sample_alert();
    second.id += 1;
    second.time_ms += 60_000;
    second.set_message("another occurrence");
    let mut other = sample_alert();
    other.set_title("PLC Program Start");
    let id = |a| cef::signature_id(&Event::from(a)).to_string();
    assert_eq!(id(first.clone()), id(second));
    assert_ne!(id(first.clone()), id(other));
    assert!(id(first).starts_with("OPERATIONAL:"));
    let n = Event::from(notification(NotificationKind::BackupFailure));
    assert_eq!(
        cef::signature_id(&n).to_string(),
        "notification:backup_failure"
    );
}

#[test]
fn truncated_event_says_so_and_untruncated_does_not() {
    let mut alert = sample_alert();
    let plain =
        String::from_utf8(render(&Event::from(alert.clone()), &Default::default())).unwrap();
    assert!(!plain.contains("cs3"));
    alert.truncated = true;
    let cut = String::from_utf8(render(&Event::from(alert), &Default::default())).unwrap();
    assert!(cut.contains(" cs3Label=truncated cs3=true "));
}

fn arb_options() -> impl Strategy<Value = cef::Options> {
    (
        arb_text::<{ cef::MAX_VENDOR }>(),
        arb_text::<{ cef::MAX_PRODUCT }>(),
    )
        .prop_map(|(vendor, product)| cef::Options { vendor, product })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_event_fits_and_reads_back_field_by_field(event in arb_event(), options in arb_options()) {
        let mut buf = vec![0u8; cef::MAX_LEN];
        let mut out = SliceWriter::new(&mut buf);
        prop_assert!(cef::write(&event, &options, &mut out).is_ok());
        assert_reads_back(&event, &options);
    }
}
