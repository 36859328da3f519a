//! RFC 5424 syslog: golden messages, exact buffer use, octet-counting frames, and a
//! spec-following parser that reads the header and structured data back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test, and the shared fixtures it includes, report failure by panicking"
)]

use crate::common;

use common::*;
use icsfwd_core::alert::{Event, NotificationKind, Severity};
use icsfwd_core::format::syslog::{
    self, Facility, Level, LevelMap, Options, Payload, SeverityCode,
};
use icsfwd_core::format::{SliceWriter, cef, leef, text};
use icsfwd_core::time::Civil;
use proptest::prelude::*;

fn render(event: &Event, options: &Options) -> Vec<u8> {
    render_into(syslog::MAX_LEN, |out| syslog::write(event, options, out))
}

fn render_framed(event: &Event, options: &Options) -> Vec<u8> {
    render_into(syslog::MAX_FRAMED_LEN, |out| {
        syslog::write_framed(event, options, out)
    })
}

/// The payload rendered on its own, through its module directly.
fn payload(event: &Event, payload: &Payload) -> Vec<u8> {
    match payload {
        Payload::Text(o) => render_into(text::MAX_LEN, |out| text::write(event, o, out)),
        Payload::Cef(o) => render_into(cef::MAX_LEN, |out| cef::write(event, o, out)),
        Payload::Leef(o) => render_into(leef::MAX_LEN, |out| leef::write(event, o, out)),
    }
}

fn with_payload(payload: Payload) -> Options {
    Options {
        payload,
        ..Options::default()
    }
}

// ---- an independent RFC 5424 reader ----

#[derive(Debug, PartialEq)]
struct Parsed {
    pri: u8,
    timestamp: String,
    hostname: String,
    app_name: String,
    procid: String,
    msgid: String,
    sd_id: String,
    params: Vec<(String, String)>,
    msg: Vec<u8>,
}

fn parse(message: &[u8]) -> Parsed {
    // The header and structured data are text; MSG is bytes after them.
    let text = std::str::from_utf8(message).expect("syslog message is UTF-8");
    let rest = text.strip_prefix('<').expect("PRI starts with <");
    let (pri, rest) = rest.split_once('>').expect("PRI ends with >");
    assert!((1..=3).contains(&pri.len()) && pri.bytes().all(|b| b.is_ascii_digit()));
    let pri: u8 = pri.parse().unwrap();
    assert!(pri <= 191);
    let rest = rest.strip_prefix("1 ").expect("VERSION 1");
    let mut fields = rest.splitn(6, ' ');
    let mut next = || fields.next().expect("header field").to_string();
    let (timestamp, hostname, app_name, procid, msgid) = (next(), next(), next(), next(), next());
    let rest = fields.next().expect("structured data");
    for field in [&hostname, &app_name, &procid, &msgid] {
        assert!(
            !field.is_empty() && field.bytes().all(|b| (33..=126).contains(&b)),
            "header field {field:?} is not PRINTUSASCII"
        );
    }
    assert!(hostname.len() <= 255 && app_name.len() <= 48 && msgid.len() <= 32);

    // One SD-ELEMENT: `[` SD-ID *(SP PARAM-NAME `="` PARAM-VALUE `"`) `]`.
    let mut chars = rest.char_indices().peekable();
    assert_eq!(chars.next().map(|(_, c)| c), Some('['));
    let mut sd_id = String::new();
    while let Some(&(_, c)) = chars.peek() {
        if c == ' ' || c == ']' {
            break;
        }
        sd_id.push(c);
        chars.next();
    }
    let mut params = Vec::new();
    let msg_start = loop {
        match chars.next() {
            Some((at, ']')) => break at + 1,
            Some((_, ' ')) => {
                let mut name = String::new();
                for (_, c) in chars.by_ref() {
                    if c == '=' {
                        break;
                    }
                    name.push(c);
                }
                assert_eq!(
                    chars.next().map(|(_, c)| c),
                    Some('"'),
                    "value opens with \""
                );
                let mut value = String::new();
                loop {
                    match chars.next().expect("value closes with \"") {
                        (_, '\\') => {
                            let (_, escaped) = chars.next().expect("escaped char");
                            match escaped {
                                '"' | '\\' | ']' => value.push(escaped),
                                // RFC 5424: a backslash before anything else stays.
                                other => {
                                    value.push('\\');
                                    value.push(other);
                                }
                            }
                        }
                        (_, '"') => break,
                        (_, ']') => panic!("unescaped ] in a PARAM-VALUE: {text:?}"),
                        (_, c) => value.push(c),
                    }
                }
                params.push((name, value));
            }
            other => panic!("unexpected {other:?} in structured data of {text:?}"),
        }
    };
    let sd_offset = text.len() - rest.len();
    let after_sd = &message[sd_offset + msg_start..];
    let msg = after_sd.strip_prefix(b" ").expect("SP before MSG").to_vec();
    Parsed {
        pri,
        timestamp,
        hostname,
        app_name,
        procid,
        msgid,
        sd_id,
        params,
        msg,
    }
}

// ---- what the documentation says each field must hold ----

fn sd_value(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

fn expected(event: &Event, options: &Options) -> Parsed {
    let level = match options.level {
        Level::PerSeverity(map) => match event.severity() {
            Severity::Warning => map.warning,
            Severity::Minor => map.minor,
            Severity::Major => map.major,
            Severity::Critical => map.critical,
        },
        Level::Fixed(code) => code,
    };
    let time = Civil::from_epoch_ms(event.time_ms());
    let sensor = event.sensor();
    let hostname = if sensor.name.is_empty() {
        sensor.ip.to_string()
    } else {
        sensor
            .name
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '_' })
            .collect()
    };
    let mut params = vec![(
        "id".to_string(),
        format!("{}-{}", sd_value(&sensor.name), event.event_id().id),
    )];
    let msgid = match event {
        Event::Alert(a) => {
            params.push(("engine".into(), a.engine.as_str().into()));
            "alert".to_string()
        }
        Event::Notification(n) => {
            params.push(("kind".into(), n.kind.token().into()));
            n.kind.token().to_string()
        }
    };
    params.push(("severity".into(), event.severity().as_str().into()));
    if event.truncated() {
        params.push(("truncated".into(), "true".into()));
    }
    let mut msg = if options.bom {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    msg.extend(payload(event, &options.payload));
    Parsed {
        pri: options.facility.code() * 8 + level.code(),
        timestamp: if time.year <= 9999 {
            time.rfc3339().to_string()
        } else {
            "-".to_string()
        },
        hostname,
        app_name: "icsfwd".into(),
        procid: "-".into(),
        msgid,
        sd_id: "icsfwd@32473".into(),
        params,
        msg,
    }
}

fn assert_reads_back(event: &Event, options: &Options) {
    let message = render(event, options);
    assert_eq!(parse(&message), expected(event, options));
    let framed = render_framed(event, options);
    let space = framed.iter().position(|&b| b == b' ').unwrap();
    let len: usize = std::str::from_utf8(&framed[..space])
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, framed.len() - space - 1, "octet count");
    assert_eq!(
        &framed[space + 1..],
        &message[..],
        "frame carries the message"
    );
}

fn golden_cases() -> Vec<(&'static str, Event, Options)> {
    let leef_fixed = Options {
        facility: Facility::LOCAL0,
        level: Level::Fixed(SeverityCode::ALERT),
        payload: Payload::Leef(leef::Options::default()),
        bom: true,
    };
    vec![
        (
            "syslog_cef_sample",
            Event::from(sample_alert()),
            Options::default(),
        ),
        (
            "syslog_cef_hostile",
            Event::from(hostile_alert()),
            Options::default(),
        ),
        (
            "syslog_leef_hostile_bom",
            Event::from(hostile_alert()),
            leef_fixed,
        ),
        (
            "syslog_text_sensor_offline",
            Event::from(notification(NotificationKind::SensorOffline)),
            with_payload(Payload::Text(text::Options::default())),
        ),
    ]
}

// ---- tests ----

#[test]
fn golden_messages_render_exactly_as_committed() {
    for (name, event, options) in golden_cases() {
        check_golden(name, &render(&event, &options));
    }
    let offline = Event::from(notification(NotificationKind::SensorOffline));
    check_golden(
        "syslog_framed_cef_sensor_offline",
        &render_framed(&offline, &Options::default()),
    );
}

#[test]
fn golden_messages_read_back_field_by_field() {
    for (_, event, options) in golden_cases() {
        assert_reads_back(&event, &options);
    }
}

#[test]
fn prefilled_buffer_is_touched_exactly_as_far_as_reported() {
    let event = Event::from(sample_alert());
    assert_prefilled_render_matches_golden("syslog_cef_sample", syslog::MAX_LEN, |out| {
        syslog::write(&event, &Options::default(), out)
    });
}

#[test]
fn every_too_small_buffer_reports_buffer_full() {
    let event = Event::from(sample_alert());
    for options in [
        Options::default(),
        with_payload(Payload::Leef(leef::Options::default())),
    ] {
        assert_every_short_buffer_reports_full("syslog", |out| {
            syslog::write(&event, &options, out)
        });
        assert_every_short_buffer_reports_full("syslog framed", |out| {
            syslog::write_framed(&event, &options, out)
        });
    }
}

#[test]
fn events_at_capacity_with_the_worst_characters_fit_max_len() {
    for c in WORST_CHARS {
        let labels = labels_at_capacity(c);
        for payload in [
            Payload::Text(text::Options::default()),
            Payload::Cef(labels.clone()),
            Payload::Leef(labels.clone()),
        ] {
            let options = Options {
                facility: Facility::LOCAL7,
                level: Level::Fixed(SeverityCode::DEBUG),
                payload,
                bom: true,
            };
            for event in [Event::from(max_alert(c)), Event::from(max_notification(c))] {
                let mut buf = vec![0u8; syslog::MAX_FRAMED_LEN];
                let mut out = SliceWriter::new(&mut buf[..syslog::MAX_LEN]);
                syslog::write(&event, &options, &mut out).unwrap_or_else(|e| panic!("{c:?}: {e}"));
                let mut out = SliceWriter::new(&mut buf);
                syslog::write_framed(&event, &options, &mut out)
                    .unwrap_or_else(|e| panic!("framed {c:?}: {e}"));
                assert_reads_back(&event, &options);
            }
        }
    }
}

#[test]
fn default_pri_is_user_facility_with_severity_mapped_levels() {
    for (severity, pri) in [
        (Severity::Critical, 8 + 2),
        (Severity::Major, 8 + 3),
        (Severity::Minor, 8 + 4),
        (Severity::Warning, 8 + 5),
    ] {
        let mut alert = sample_alert();
        alert.severity = severity;
        let parsed = parse(&render(&Event::from(alert), &Options::default()));
        assert_eq!(parsed.pri, pri, "{severity:?}");
    }
}

#[test]
fn fixed_level_user_alert_gives_the_sensors_pri_9() {
    let options = Options {
        level: Level::Fixed(SeverityCode::ALERT),
        ..Options::default()
    };
    for severity in Severity::ALL {
        let mut alert = sample_alert();
        alert.severity = severity;
        assert!(render(&Event::from(alert), &options).starts_with(b"<9>1 "));
    }
}

#[test]
fn invalid_sensor_name_is_sanitized_and_empty_one_falls_back_to_the_ip() {
    let hostile = parse(&render(&Event::from(hostile_alert()), &Options::default()));
    assert_eq!(hostile.hostname, "sensor_\"evil\"|=\\]_");
    let mut alert = sample_alert();
    alert.sensor.name.clear();
    let parsed = parse(&render(&Event::from(alert), &Options::default()));
    assert_eq!(parsed.hostname, "10.1.0.5");
}

#[test]
fn year_past_9999_is_written_as_nilvalue() {
    let mut alert = sample_alert();
    alert.time_ms = 253_402_300_800_000; // 10000-01-01T00:00:00Z
    let parsed = parse(&render(&Event::from(alert), &Options::default()));
    assert_eq!(parsed.timestamp, "-");
    let mut alert = sample_alert();
    alert.time_ms = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    let parsed = parse(&render(&Event::from(alert), &Options::default()));
    assert_eq!(parsed.timestamp, "9999-12-31T23:59:59.999Z");
}

#[test]
fn facility_and_severity_codes_reject_out_of_range_values() {
    assert_eq!(Facility::new(23), Some(Facility::LOCAL7));
    assert_eq!(Facility::new(24), None);
    assert_eq!(SeverityCode::new(7), Some(SeverityCode::DEBUG));
    assert_eq!(SeverityCode::new(8), None);
}

fn arb_options() -> impl Strategy<Value = Options> {
    let code = (0u8..=7).prop_map(|c| SeverityCode::new(c).unwrap());
    let level = prop_oneof![
        code.clone().prop_map(Level::Fixed),
        (code.clone(), code.clone(), code.clone(), code).prop_map(|(w, mi, ma, c)| {
            Level::PerSeverity(LevelMap {
                warning: w,
                minor: mi,
                major: ma,
                critical: c,
            })
        }),
    ];
    let payload = prop_oneof![
        Just(Payload::Text(text::Options::default())),
        (
            arb_text::<{ cef::MAX_VENDOR }>(),
            arb_text::<{ cef::MAX_PRODUCT }>()
        )
            .prop_map(|(vendor, product)| Payload::Cef(cef::Options { vendor, product })),
        (
            arb_text::<{ leef::MAX_VENDOR }>(),
            arb_text::<{ leef::MAX_PRODUCT }>()
        )
            .prop_map(|(vendor, product)| Payload::Leef(leef::Options { vendor, product })),
    ];
    (0u8..=23, level, payload, any::<bool>()).prop_map(|(facility, level, payload, bom)| Options {
        facility: Facility::new(facility).unwrap(),
        level,
        payload,
        bom,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_event_fits_and_reads_back_field_by_field(event in arb_event(), options in arb_options()) {
        let mut buf = vec![0u8; syslog::MAX_LEN];
        let mut out = SliceWriter::new(&mut buf);
        prop_assert!(syslog::write(&event, &options, &mut out).is_ok());
        assert_reads_back(&event, &options);
    }
}

#[test]
fn framed_message_follows_what_the_writer_holds_and_touches_nothing_past_the_frame() {
    // `write_framed` renders the message once, after room for a one-digit length, then moves
    // it behind the real length: the frame must still be exact, appended after earlier
    // output, and no byte after it may change.
    for event in [
        Event::from(sample_alert()),
        Event::from(hostile_alert()),
        Event::from(notification(NotificationKind::SensorOffline)),
    ] {
        let options = Options::default();
        let message = render(&event, &options);
        let mut buf = vec![0xA5u8; syslog::MAX_FRAMED_LEN + 64];
        let mut out = SliceWriter::new(&mut buf);
        embedded_io::Write::write_all(&mut out, b"earlier").unwrap();
        let n = syslog::write_framed(&event, &options, &mut out).unwrap();
        assert_eq!(out.len(), "earlier".len() + n);
        let expected = [
            b"earlier".as_slice(),
            format!("{} ", message.len()).as_bytes(),
            &message,
        ]
        .concat();
        assert_eq!(n, expected.len() - "earlier".len());
        assert_eq!(&buf[..expected.len()], &expected[..]);
        assert!(buf[expected.len()..].iter().all(|&b| b == 0xA5));
    }
}
