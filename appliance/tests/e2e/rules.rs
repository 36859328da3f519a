//! `icsfwd run`, the real binary, routing a crafted set of alerts and notifications through a
//! rule matrix — a severity threshold, a protocol list, an engine list, a notifications-only
//! rule, exclusions by subnet, by address and by title — to three HEC destinations on one
//! emulator (told apart by their `source`): each destination stores exactly the expected
//! event ids, the producer is told `not forwarded` for the rest, and `icsfwd explain` agrees.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use e2e::{Shown, feed_all, icsfwd, scratch, start_service};
use icsfwd::ingest::schema::encode_line;
use icsfwd_core::alert::{Alert, Engine, Event, Notification, NotificationKind, Severity};
use icsfwd_sim::splunk::store::{Body, Filter};

/// Destinations, by the rule that feeds them.
const MAJOR: &str = "d-major";
const OT: &str = "d-ot";
const NOTIFY: &str = "d-notify";

fn rules_config(hec_url: &str, ca: &std::path::Path) -> String {
    let mut text = String::new();
    for name in [MAJOR, OT, NOTIFY] {
        text += &format!(
            "[[destination]]\nname = \"{name}\"\nkind = \"hec\"\nurls = [\"{hec_url}\"]\n\
             token = \"{token}\"\nca_file = \"{ca}\"\nsource = \"{name}\"\n\
             batch_linger = \"10ms\"\nretry_min = \"100ms\"\nretry_max = \"1s\"\n\n",
            token = support::HEC_TOKEN,
            ca = ca.display(),
        );
    }
    text += r#"
[[rule]]
name = "major and up"
min_severity = "major"
actions = ["d-major"]

[[rule]]
name = "field protocols"
protocols = ["Modbus/TCP", "S7"]
actions = ["d-ot"]

[[rule]]
name = "malware and policy"
min_severity = "minor"
engines = ["malware", "policy_violation"]
actions = ["d-ot"]

[[rule]]
name = "notifications only"
alerts = false
system_notifications = true
actions = ["d-notify"]

[[exclusion]]
name = "lab subnet and a test host"
addresses = ["10.99.0.0/16", "10.20.1.66"]

[[exclusion]]
name = "maintenance ping"
titles = ["Benign Maintenance Ping"]
"#;
    text
}

struct Case {
    id: u64,
    engine: Engine,
    severity: Severity,
    protocol: &'static str,
    src: &'static str,
    dst: &'static str,
    title: &'static str,
    to: &'static [&'static str],
}

/// The matrix: every rule condition met and missed, each exclusion hit and just missed.
#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { id: 1, engine: Engine::Operational, severity: Severity::Critical, protocol: "HTTP", src: "10.20.1.7", dst: "10.20.3.11", title: "Critical by severity only", to: &[MAJOR] },
    Case { id: 2, engine: Engine::Operational, severity: Severity::Warning, protocol: "Modbus/TCP", src: "10.20.1.7", dst: "10.20.3.11", title: "Listed protocol, low severity", to: &[OT] },
    Case { id: 3, engine: Engine::Anomaly, severity: Severity::Minor, protocol: "s7", src: "10.20.1.7", dst: "10.20.3.11", title: "Protocol in another case", to: &[OT] },
    Case { id: 4, engine: Engine::Malware, severity: Severity::Warning, protocol: "HTTP", src: "10.20.1.7", dst: "10.20.3.11", title: "Malware below the engine rule's threshold", to: &[] },
    Case { id: 5, engine: Engine::Malware, severity: Severity::Minor, protocol: "HTTP", src: "10.20.1.7", dst: "10.20.3.11", title: "Malware at the threshold", to: &[OT] },
    Case { id: 6, engine: Engine::PolicyViolation, severity: Severity::Major, protocol: "Modbus/TCP", src: "10.20.1.7", dst: "10.20.3.11", title: "Two rules, two destinations", to: &[MAJOR, OT] },
    Case { id: 7, engine: Engine::Anomaly, severity: Severity::Warning, protocol: "DNP3", src: "10.20.1.7", dst: "10.20.3.11", title: "No rule matches", to: &[] },
    Case { id: 8, engine: Engine::Malware, severity: Severity::Critical, protocol: "Modbus/TCP", src: "10.99.3.4", dst: "10.20.3.11", title: "Source in the excluded subnet", to: &[] },
    Case { id: 9, engine: Engine::Operational, severity: Severity::Critical, protocol: "S7", src: "10.20.1.7", dst: "10.20.1.66", title: "Destination is the excluded host", to: &[] },
    Case { id: 10, engine: Engine::Operational, severity: Severity::Major, protocol: "HTTP", src: "10.20.1.7", dst: "10.20.3.11", title: "benign maintenance PING", to: &[] },
    Case { id: 11, engine: Engine::ProtocolViolation, severity: Severity::Major, protocol: "S7", src: "10.98.0.1", dst: "10.20.1.67", title: "Just outside both address exclusions", to: &[MAJOR, OT] },
    Case { id: 12, engine: Engine::ProtocolViolation, severity: Severity::Warning, protocol: "MODBUS/TCP", src: "10.20.1.7", dst: "10.20.3.11", title: "Benign Maintenance Ping 2", to: &[OT] },
    Case { id: 13, engine: Engine::Operational, severity: Severity::Minor, protocol: "Modbus", src: "10.20.1.7", dst: "10.20.3.11", title: "A protocol name that only starts alike", to: &[] },
];

/// Notifications: never excluded, only the notifications rule takes them.
const NOTIFICATIONS: &[(u64, NotificationKind)] = &[
    (101, NotificationKind::SensorOffline),
    (102, NotificationKind::SensorOnline),
    (103, NotificationKind::BackupFailure),
];

fn sensor_ip() -> IpAddr {
    "10.99.0.5".parse().unwrap()
}

fn alert(case: &Case) -> Event {
    let mut alert = Alert::new(
        case.id,
        1_700_000_000_000 + case.id,
        case.engine,
        case.severity,
    );
    alert.set_title(case.title);
    alert.set_protocol(case.protocol);
    alert.set_source_name("src-device");
    alert.source.ip = case.src.parse().unwrap();
    alert.set_destination_name("dst-device");
    alert.destination.ip = case.dst.parse().unwrap();
    alert.set_sensor_name("sensor-lab");
    alert.sensor.ip = sensor_ip();
    Event::from(alert)
}

fn notification(id: u64, kind: NotificationKind) -> Event {
    let mut n = Notification::new(id, 1_700_000_000_000 + id, kind);
    n.set_text("from the rule matrix");
    n.set_sensor_name("sensor-lab");
    // A sensor address inside the excluded subnet: notifications are never excluded.
    n.sensor.ip = sensor_ip();
    Event::from(n)
}

/// The expected event ids of each destination.
fn expected() -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut by = BTreeMap::from([
        (MAJOR, BTreeSet::new()),
        (OT, BTreeSet::new()),
        (NOTIFY, BTreeSet::new()),
    ]);
    for case in CASES {
        for to in case.to {
            by.get_mut(to)
                .unwrap()
                .insert(format!("sensor-lab-{}", case.id));
        }
    }
    for (id, _) in NOTIFICATIONS {
        by.get_mut(NOTIFY)
            .unwrap()
            .insert(format!("sensor-lab-{id}"));
    }
    by
}

#[test]
fn each_destination_receives_exactly_the_alerts_its_rules_take_and_explain_agrees() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("rules");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let config = e2e::write_config_body(&dir, &rules_config(&url, &tls.ca_file));
    let check = icsfwd(&["check-config", "-c", config.to_str().unwrap()]);
    assert!(check.status.success(), "{check:?}");

    // `icsfwd explain` for a few lines, before the service runs (it reads the config only).
    let explain = |event: &Event| {
        let line = dir.join("line.json");
        std::fs::write(&line, encode_line(event)).unwrap();
        let out = icsfwd(&[
            "explain",
            line.to_str().unwrap(),
            "-c",
            config.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    for case in CASES
        .iter()
        .filter(|c| [1, 4, 6, 8, 10, 11].contains(&c.id))
    {
        let shown = explain(&alert(case));
        let verdict = shown.lines().last().unwrap_or_default();
        if case.to.is_empty() {
            assert_eq!(
                verdict, "=> not forwarded: no rule takes it",
                "case {}: {shown}",
                case.id
            );
        } else {
            assert_eq!(
                verdict,
                format!("=> forwarded to: {}", case.to.join(", ")),
                "case {}: {shown}",
                case.id
            );
        }
    }
    let shown = explain(&notification(101, NotificationKind::SensorOffline));
    assert!(
        shown.ends_with(&format!("=> forwarded to: {NOTIFY}\n")),
        "{shown}"
    );

    let service = start_service(&config, &dir);
    let mut shown = Shown::default();
    let mut events: Vec<(u64, Event)> = CASES.iter().map(|c| (0, alert(c))).collect();
    events.extend(
        NOTIFICATIONS
            .iter()
            .map(|(id, k)| (0, notification(*id, *k))),
    );
    let tally = feed_all(&dir, events);
    let routed = CASES.iter().filter(|c| !c.to.is_empty()).count() + NOTIFICATIONS.len();
    assert_eq!(tally.accepted, routed as u64, "{tally}");
    assert_eq!(
        tally.not_forwarded,
        (CASES.len() + NOTIFICATIONS.len() - routed) as u64,
        "{tally}"
    );
    assert_eq!(tally.refused, 0, "{tally}");

    // Settled: the snapshot counts every line, no destination has a backlog, and the
    // emulator holds what the destinations say they delivered.
    let lines = (CASES.len() + NOTIFICATIONS.len()) as u64;
    let start = std::time::Instant::now();
    loop {
        let status = shown.status_json(&config);
        let all = status["destinations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let delivered: u64 = all.iter().filter_map(|d| d["delivered"].as_u64()).sum();
        if status["ingest"]["lines"] == lines
            && all.len() == 3
            && all.iter().all(|d| d["backlog"] == 0)
            && emulator.store().len() as u64 == delivered
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not settled: {status:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let expected = expected();
    let mut got: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut own: Vec<&str> = Vec::new();
    for record in emulator.store().list(&Filter::default()) {
        let Body::Json(event) = &record.body else {
            panic!("{record:?}")
        };
        let name = [MAJOR, OT, NOTIFY]
            .into_iter()
            .find(|n| *n == record.source)
            .unwrap_or_else(|| panic!("unknown source {}", record.source));
        // The forwarder's own "sensor online" (ids from its start time, far above the
        // crafted ones) goes where notifications are forwarded, like any notification.
        if event["notification_id"]
            .as_u64()
            .is_some_and(|id| id > 1_000_000_000_000)
        {
            own.push(name);
            continue;
        }
        got.entry(name)
            .or_default()
            .push(event["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        own,
        [NOTIFY],
        "the forwarder's own notification reaches only the destination taking notifications"
    );
    for (name, want) in &expected {
        let ids = got.remove(name).unwrap_or_default();
        let set: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(set.len(), ids.len(), "{name}: a duplicate in {ids:?}");
        assert_eq!(&set, want, "{name} received the wrong set");
    }

    shown.status_text(&config);
    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
    shown.text(log.join("\n"));
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}
