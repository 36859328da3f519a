//! The classic Splunk text format: golden outputs, escaping, the `MAX_LEN` bound, and a
//! parse-back property over arbitrary events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test, and the shared fixtures it includes, report failure by panicking"
)]

use crate::common;

use common::{
    SAMPLE_TIME_MS, WORST_CHARS, arb_event, assert_every_short_buffer_reports_full,
    assert_prefilled_render_matches_golden, check_golden, full, golden_events, max_alert,
    notification, sample_alert,
};
use embedded_io::{ErrorKind, ErrorType};
use icsfwd_core::alert::{Endpoint, Event, NotificationKind};
use icsfwd_core::format::{Counter, Error, SliceWriter, text};
use icsfwd_core::time::Civil;
use proptest::prelude::*;

fn render(event: &Event, options: &text::Options) -> Vec<u8> {
    let mut buf = vec![0u8; text::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    let n = text::write(event, options, &mut out).unwrap();
    assert_eq!(n, out.len());
    out.written().to_vec()
}

fn render_str(event: &Event, options: &text::Options) -> String {
    String::from_utf8(render(event, options)).unwrap()
}

fn label(value: &str) -> text::Options {
    let mut options = text::Options::default();
    options.label = value.try_into().unwrap();
    options
}

/// Reverses the documented escaping, refusing anything the escaper would never produce: a
/// raw control character, backslash or separator, or an unknown or malformed escape.
fn unescape(value: &str) -> Result<String, String> {
    fn hex(chars: &mut std::str::Chars<'_>, digits: usize) -> Result<u32, String> {
        let text: String = chars.take(digits).collect();
        if text.len() != digits || text.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!("bad hex {text:?}"));
        }
        u32::from_str_radix(&text, 16).map_err(|e| format!("{text:?}: {e}"))
    }
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            return Err(format!("raw {c:?} in {value:?}"));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('x') => {
                let code = hex(&mut chars, 2)?;
                let c = char::from_u32(code).filter(|c| c.is_ascii_control());
                out.push(c.ok_or(format!("\\x{code:02x} is not an ASCII control"))?);
            }
            Some('u') => {
                if chars.next() != Some('{') {
                    return Err("\\u without {".into());
                }
                let code = hex(&mut chars, 4)?;
                if chars.next() != Some('}') {
                    return Err("\\u{ without }".into());
                }
                out.push(char::from_u32(code).ok_or("not a char")?);
            }
            other => return Err(format!("unknown escape \\{other:?}")),
        }
    }
    Ok(out)
}

/// The first line and the `Key: value` lines an event must render to, built from its fields.
fn expected(event: &Event, label: &str) -> (String, Vec<(String, String)>) {
    fn endpoint(lines: &mut Vec<(String, String)>, side: &str, e: &Endpoint) {
        lines.push((format!("{side} name"), e.name.to_string()));
        lines.push((format!("{side} IP"), e.ip.to_string()));
        if let Some(mac) = e.mac {
            lines.push((format!("{side} MAC"), mac.to_string()));
        }
        if let Some(port) = e.port {
            lines.push((format!("{side} port"), port.to_string()));
        }
    }
    let time = Civil::from_epoch_ms(event.time_ms()).rfc3339();
    let mut lines = Vec::new();
    let first = match event {
        Event::Alert(a) => {
            lines.push(("Type".into(), a.engine.as_str().into()));
            lines.push(("Severity".into(), a.severity.as_str().into()));
            endpoint(&mut lines, "Source", &a.source);
            endpoint(&mut lines, "Destination", &a.destination);
            lines.push(("Protocol".into(), a.protocol.to_string()));
            lines.push(("Alert group".into(), a.group.to_string()));
            lines.push(("Message".into(), a.message.to_string()));
            format!("{time} {label} Alert: {}", a.title)
        }
        Event::Notification(n) => {
            lines.push(("Type".into(), "System notification".into()));
            lines.push(("Severity".into(), n.kind.severity().as_str().into()));
            lines.push(("Message".into(), n.text.to_string()));
            format!("{time} {label} Notification: {}", n.kind.as_str())
        }
    };
    let sensor = event.sensor();
    lines.push(("Sensor".into(), sensor.name.to_string()));
    lines.push(("Sensor IP".into(), sensor.ip.to_string()));
    lines.push((
        "Alert ID".into(),
        format!("{}-{}", sensor.name, event.event_id().id),
    ));
    if event.truncated() {
        lines.push(("Truncated".into(), "yes".into()));
    }
    (first, lines)
}

/// Parses a rendering back by its lines: the unescaped first line and `Key: value` pairs.
fn parse(output: &str) -> Result<(String, Vec<(String, String)>), String> {
    let body = output.strip_suffix('\n').ok_or("no final newline")?;
    let mut lines = body.split('\n');
    let first = unescape(lines.next().ok_or("empty")?)?;
    let fields = lines
        .map(|line| {
            let (key, value) = line.split_once(": ").ok_or(format!("no key in {line:?}"))?;
            Ok((key.to_string(), unescape(value)?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((first, fields))
}

#[test]
fn every_golden_event_renders_as_its_committed_file() {
    for (name, event) in golden_events() {
        let rendered = render(&event, &text::Options::default());
        check_golden(&format!("text_{name}.txt"), &rendered);
    }
}

#[test]
fn rendering_touches_exactly_the_reported_bytes() {
    for (name, event) in golden_events() {
        assert_prefilled_render_matches_golden(&format!("text_{name}.txt"), text::MAX_LEN, |out| {
            text::write(&event, &text::Options::default(), out)
        });
        let mut counter = Counter::default();
        let counted = text::write(&event, &text::Options::default(), &mut counter).unwrap();
        assert_eq!(counter.count, counted, "{name}: counted length");
    }
}

#[test]
fn golden_events_parse_back_to_their_fields() {
    for (name, event) in golden_events() {
        let output = render_str(&event, &text::Options::default());
        let (first, fields) = parse(&output).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((first, fields), expected(&event, "icsfwd"), "{name}");
    }
}

#[test]
fn hostile_values_stay_on_their_own_line() {
    let event = Event::from(common::hostile_alert());
    let output = render_str(&event, &text::Options::default());
    let keys: Vec<&str> = output
        .lines()
        .skip(1)
        .map(|line| line.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        keys,
        [
            "Type",
            "Severity",
            "Source name",
            "Source IP",
            "Destination name",
            "Destination IP",
            "Destination port",
            "Protocol",
            "Alert group",
            "Message",
            "Sensor",
            "Sensor IP",
            "Alert ID",
        ]
    );
    assert!(output.contains("\nDestination name: dst\\r\\nSource IP: 1.2.3.4\n"));
}

#[test]
fn escapes_are_exactly_as_documented() {
    let mut alert = sample_alert();
    alert.set_title("a\\b\rc\nd\te\u{0}\u{1b}\u{7f}\u{80}\u{85}\u{9f}\u{2028}\u{2029}é日|=\"");
    let output = render_str(&Event::from(alert), &text::Options::default());
    let first = output.lines().next().unwrap();
    assert_eq!(
        first,
        "2019-05-05T12:28:54.123Z icsfwd Alert: \
         a\\\\b\\rc\\nd\\te\\x00\\x1b\\x7f\\u{0080}\\u{0085}\\u{009f}\\u{2028}\\u{2029}é日|=\""
    );
}

#[test]
fn label_is_configurable_and_escaped() {
    let event = Event::from(sample_alert());
    let output = render_str(&event, &label("ot\nsoc"));
    assert!(output.starts_with("2019-05-05T12:28:54.123Z ot\\nsoc Alert: PLC Program Stop\n"));
    let output = render_str(&event, &label(""));
    assert!(output.starts_with("2019-05-05T12:28:54.123Z  Alert: PLC Program Stop\n"));
}

#[test]
fn truncation_is_shown_only_when_a_field_was_cut() {
    let mut alert = sample_alert();
    let output = render_str(&Event::from(alert.clone()), &text::Options::default());
    assert!(!output.contains("Truncated"));
    alert.set_title(&"t".repeat(icsfwd_core::alert::MAX_TITLE + 1));
    let output = render_str(&Event::from(alert), &text::Options::default());
    assert!(output.ends_with("\nTruncated: yes\n"));
}

#[test]
fn notification_names_its_kind_and_sensor() {
    let event = Event::from(notification(NotificationKind::SensorOffline));
    let output = render_str(&event, &text::Options::default());
    assert_eq!(
        output,
        "2019-05-05T12:28:55.123Z icsfwd Notification: Sensor offline\n\
         Type: System notification\n\
         Severity: Major\n\
         Message: Sensor sensor-plant-a stopped sending heartbeats 300 s ago.\n\
         Sensor: sensor-plant-a\n\
         Sensor IP: 10.1.0.5\n\
         Alert ID: sensor-plant-a-77\n"
    );
    assert_eq!(event.time_ms(), SAMPLE_TIME_MS + 1000);
}

#[test]
fn widest_alerts_fit_in_max_len_which_is_tight() {
    let mut widest = 0;
    for c in WORST_CHARS {
        let event = Event::from(max_alert(c));
        let mut options = text::Options::default();
        options.label = full(c);
        let mut counter = Counter::default();
        text::write(&event, &options, &mut counter).unwrap();
        assert!(counter.count <= text::MAX_LEN, "{c:?}: {}", counter.count);
        let mut buf = [0u8; text::MAX_LEN];
        assert_eq!(
            text::write(&event, &options, &mut SliceWriter::new(&mut buf)),
            Ok(counter.count)
        );
        widest = widest.max(counter.count);
    }
    println!(
        "text: widest alert {widest} bytes, MAX_LEN {}",
        text::MAX_LEN
    );
    // The slack is only the allowances for a wider address (3 × 6), a longer year (11), and
    // the longest engine and severity names (2 + 1).
    assert!(
        text::MAX_LEN - widest <= 32,
        "widest {widest}, MAX_LEN {}",
        text::MAX_LEN
    );
}

#[test]
fn every_short_buffer_reports_buffer_full() {
    for event in [
        Event::from(sample_alert()),
        Event::from(notification(NotificationKind::AlertsDropped)),
    ] {
        assert_every_short_buffer_reports_full("text", |out| {
            text::write(&event, &text::Options::default(), out)
        });
    }
}

/// A sink that fails as a closed socket would.
struct BrokenPipe;

impl ErrorType for BrokenPipe {
    type Error = ErrorKind;
}

impl embedded_io::Write for BrokenPipe {
    fn write(&mut self, _: &[u8]) -> Result<usize, ErrorKind> {
        Err(ErrorKind::BrokenPipe)
    }
    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

#[test]
fn a_failing_sink_is_reported_as_io_not_full() {
    let result = text::write(
        &Event::from(sample_alert()),
        &text::Options::default(),
        &mut BrokenPipe,
    );
    assert_eq!(result, Err(Error::Io(ErrorKind::BrokenPipe)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_event_fits_max_len_and_parses_back_to_its_fields(
        event in arb_event(),
        label_text in "[A-Za-z0-9_.-]{0,64}",
    ) {
        let options = label(&label_text);
        let mut buf = [0u8; text::MAX_LEN];
        let mut out = SliceWriter::new(&mut buf);
        let n = text::write(&event, &options, &mut out).unwrap();
        let output = std::str::from_utf8(&buf[..n]).unwrap();
        // Only the line ends are raw controls: no value can break or forge a line.
        prop_assert_eq!(
            output.matches('\n').count(),
            expected(&event, &label_text).1.len() + 1
        );
        let parsed = parse(output).map_err(TestCaseError::fail)?;
        prop_assert_eq!(parsed, expected(&event, &label_text));
    }
}
