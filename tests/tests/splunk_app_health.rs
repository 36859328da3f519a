//! The forwarder's health report in the Splunk add-on and app:
//!
//! - the add-on's `[icsfwd:health]` extractions, run on the `_raw` HEC stores for a real
//!   health report (made by `icsfwd::health::report_text` and rendered by the core HEC
//!   formatter), give every field with its value, for a parked destination whose reason holds
//!   blanks, `=`, a quote and `key=value`-looking text, and for an idle one without a reason;
//! - the eventtype `icsfwd_health` selects these events, and every field the app's health
//!   panel and the forwarder findings macro read from them is one the add-on extracts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use icsfwd::health::report_text;
use icsfwd::status::{DestinationStatus, SpoolStatus};
use icsfwd_core::alert::{Event, Notification, NotificationKind};
use icsfwd_core::format::{SliceWriter, hec};
use regex::Regex;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The settings of `[stanza]` in a `.conf` file (no continuation lines in these stanzas).
fn stanza(path: &Path, stanza: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut inside = false;
    let mut settings = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name == stanza;
            continue;
        }
        if !inside || line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        settings.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    assert!(!settings.is_empty(), "no [{stanza}] in {}", path.display());
    settings
}

/// What Splunk stores as `_raw` for a HEC /event envelope: its `event` object as sent.
fn raw_of(text: &str) -> String {
    let mut n = Notification::new(7, 1_700_000_000_000, NotificationKind::Health);
    n.set_sensor_name("fwd-plant-a");
    n.set_text(text);
    let mut buf = vec![0u8; hec::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    let len = hec::write(&Event::from(n), &hec::Options::default(), &mut out).unwrap();
    let envelope = std::str::from_utf8(&out.written()[..len])
        .unwrap()
        .to_owned();
    assert!(
        envelope.contains(r#""sourcetype":"icsfwd:health""#),
        "{envelope}"
    );
    let start = envelope.find(r#""event":"#).unwrap() + r#""event":"#.len();
    let end = envelope.rfind(r#","fields":{"#).unwrap();
    let raw = envelope[start..end].to_owned();
    serde_json::from_str::<serde_json::Value>(&raw).expect("the event object is JSON");
    raw
}

/// Every `EXTRACT-*` of the stanza on `raw`, first match each (Splunk's inline extraction).
fn extracted(settings: &[(String, String)], raw: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for (key, pattern) in settings {
        if !key.starts_with("EXTRACT-") {
            continue;
        }
        assert!(!pattern.contains(" in "), "{key} reads _raw");
        let re = Regex::new(pattern).unwrap_or_else(|e| panic!("{key}: {e}"));
        if let Some(caps) = re.captures(raw) {
            for name in re.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    fields.insert(name.to_owned(), m.as_str().to_owned());
                }
            }
        }
    }
    fields
}

fn props() -> Vec<(String, String)> {
    stanza(
        &repo().join("splunk-app/TA-icsfwd/default/props.conf"),
        "icsfwd:health",
    )
}

#[test]
fn every_field_of_a_parked_destinations_report_is_extracted_with_its_value() {
    let destination = DestinationStatus {
        name: "soc-hec".into(),
        kind: "hec".into(),
        state: "parked".into(),
        reason: Some(
            "credentials rejected (HTTP 403, HEC code 4): check the token \"t\" state=idle".into(),
        ),
        backlog: 1234,
        delivered: 56,
        dead_lettered: 7,
        possible_duplicates: 8,
        retries: 9,
        ..DestinationStatus::default()
    };
    let spool = SpoolStatus {
        live_bytes: 3 << 20,
        max_bytes: 12 << 20,
        evicted: 11,
        refused_full: 12,
        ..SpoolStatus::default()
    };
    let raw = raw_of(&report_text(&destination, &spool));
    let got = extracted(&props(), &raw);
    let want: BTreeMap<String, String> = [
        ("destination", "soc-hec"),
        ("destination_kind", "hec"),
        ("state", "parked"),
        ("backlog", "1234"),
        ("delivered", "56"),
        ("dead_lettered", "7"),
        ("possible_duplicates", "8"),
        ("retries", "9"),
        ("spool_used_bytes", "3145728"),
        ("spool_max_bytes", "12582912"),
        ("spool_used_pct", "25.0"),
        ("spool_evicted", "11"),
        ("spool_refused_full", "12"),
        // The reason keeps its JSON escapes: _raw is the JSON text.
        (
            "reason",
            r#"credentials rejected (HTTP 403, HEC code 4): check the token \"t\" state=idle"#,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(got, want, "{raw}");
}

#[test]
fn an_idle_destination_without_a_reason_has_no_reason_field() {
    let destination = DestinationStatus {
        name: "siem.syslog_2".into(),
        kind: "syslog".into(),
        state: "idle".into(),
        ..DestinationStatus::default()
    };
    let raw = raw_of(&report_text(&destination, &SpoolStatus::default()));
    let got = extracted(&props(), &raw);
    assert_eq!(got["destination"], "siem.syslog_2");
    assert_eq!(got["state"], "idle");
    assert_eq!(got["spool_used_pct"], "0.0");
    assert!(!got.contains_key("reason"), "{got:?}");
}

#[test]
fn the_eventtype_selects_health_reports_and_the_app_reads_only_extracted_fields() {
    let settings = props();
    let kind = settings
        .iter()
        .find(|(k, _)| k == "EVAL-icsfwd_event_kind")
        .map(|(_, v)| v.as_str());
    assert_eq!(kind, Some("\"health\""));
    let eventtype = stanza(
        &repo().join("splunk-app/TA-icsfwd/default/eventtypes.conf"),
        "icsfwd_health",
    );
    assert_eq!(
        eventtype[0],
        (
            "search".to_owned(),
            "sourcetype=icsfwd:* icsfwd_event_kind=health".to_owned()
        )
    );

    let destination = DestinationStatus {
        name: "soc".into(),
        kind: "hec".into(),
        state: "retrying".into(),
        reason: Some("no answer".into()),
        ..DestinationStatus::default()
    };
    let raw = raw_of(&report_text(&destination, &SpoolStatus::default()));
    let mut available: Vec<String> = extracted(&settings, &raw).into_keys().collect();
    // host (the envelope's, the forwarder's sensor name) and _time come with every event.
    available.extend(["host".to_owned(), "_time".to_owned()]);

    let view = std::fs::read_to_string(
        repo().join("splunk-app/icsfwd_ot_alerts/default/data/ui/views/icsfwd_sensor_health.xml"),
    )
    .unwrap();
    let macros =
        std::fs::read_to_string(repo().join("splunk-app/icsfwd_ot_alerts/default/macros.conf"))
            .unwrap();
    let read = Regex::new(r"(?:latest|earliest)\(([a-z_]+)\)|\bby ([a-z_ ]+?)(?: \||$)").unwrap();
    let mut searched = 0;
    for spl in view.lines().chain(macros.lines()) {
        let Some(at) = spl.find("eventtype=icsfwd_health") else {
            continue;
        };
        // The part of the search over health reports: up to the end of its subsearch.
        let part = &spl[at..];
        let part = part.split(']').next().unwrap();
        searched += 1;
        for caps in read.captures_iter(part) {
            let names = caps.get(1).or(caps.get(2)).unwrap().as_str();
            for name in names.split(' ') {
                assert!(
                    available.iter().any(|a| a == name),
                    "the app reads {name} from health reports, which the add-on does not \
                     extract: {part}"
                );
            }
        }
    }
    assert_eq!(searched, 2, "the health panel and the findings macro");
}
