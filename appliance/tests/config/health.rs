//! `[health]` and a rule's `health` key: without the section a health report is made every
//! 60 s and no heartbeat is forwarded; `"off"` and durations are accepted; a number without a
//! unit, a duration out of range and an unknown key are refused with the key and a fix; a
//! rule's `health = true` routes the health report, and only that.

use std::time::Duration;

use crate::common::{BASE, parse};
use icsfwd_core::alert::{Event, Notification, NotificationKind};

#[test]
fn without_the_section_reports_come_every_minute_and_heartbeats_stay_local() {
    let health = parse(BASE).unwrap().health;
    assert_eq!(health.interval, Some(Duration::from_secs(60)));
    assert_eq!(health.heartbeat_interval, None);
}

#[test]
fn intervals_may_be_durations_or_off() {
    for (body, interval, heartbeat) in [
        ("interval = \"off\"", None, None),
        ("interval = \"OFF\"", None, None),
        ("interval = \"5m\"", Some(300), None),
        (
            "interval = \"30s\"\nheartbeat_interval = \"1m\"",
            Some(30),
            Some(60),
        ),
        ("heartbeat_interval = \"off\"", Some(60), None),
    ] {
        let config = parse(&format!("{BASE}[health]\n{body}\n")).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(
            config.health.interval,
            interval.map(Duration::from_secs),
            "{body}"
        );
        assert_eq!(
            config.health.heartbeat_interval,
            heartbeat.map(Duration::from_secs),
            "{body}"
        );
    }
}

#[test]
fn each_bad_health_setting_is_refused_with_its_key_and_a_fix() {
    for (body, key, message, fix) in [
        (
            "interval = 60",
            "health.interval",
            "60 has no unit",
            "\"60s\"",
        ),
        (
            "interval = \"never\"",
            "health.interval",
            "is not a duration",
            "\"30s\"",
        ),
        (
            "heartbeat_interval = \"500ms\"",
            "health.heartbeat_interval",
            "out of range",
            "use a duration from",
        ),
        (
            "interval = \"25h\"",
            "health.interval",
            "out of range",
            "use a duration from",
        ),
        ("every = \"1m\"", "health.every", "unknown key", ""),
    ] {
        let problems = parse(&format!("{BASE}[health]\n{body}\n")).expect_err(body);
        assert_eq!(problems.len(), 1, "{body}: {problems}");
        let p = problems.iter().next().unwrap();
        assert_eq!(p.key, key, "{body}: {p}");
        assert_eq!(p.line, 15, "{body}: {p}");
        assert!(p.message.contains(message), "{body}: {p}");
        assert!(p.fix.contains(fix), "{body}: {p}");
    }
}

#[test]
fn a_rules_health_key_routes_the_health_report_and_nothing_else() {
    let text = BASE.replace(
        "[[rule]]\nname = \"all\"\nactions = [\"hec\"]\n",
        "[[rule]]\nname = \"health\"\nalerts = false\nhealth = true\nactions = [\"hec\"]\n",
    );
    assert_ne!(text, BASE);
    let config = parse(&text).unwrap();
    for kind in NotificationKind::ALL {
        let event = Event::from(Notification::new(1, 0, kind));
        assert_eq!(
            config.rules.route(&event, 0).is_empty(),
            kind != NotificationKind::Health,
            "{kind}"
        );
    }
    let default = parse(BASE).unwrap();
    let health = Event::from(Notification::new(1, 0, NotificationKind::Health));
    assert!(
        default.rules.route(&health, 0).is_empty(),
        "health is off in a rule unless it says so"
    );
}

#[test]
fn the_example_configuration_forwards_notifications_heartbeats_and_health_to_the_soc() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/icsfwd.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let env = |name: &str| match name {
        "ICSFWD_HEC_TOKEN" => Some("hec-token".to_owned()),
        "ICSFWD_SPLUNK_PASSWORD" => Some("splunk-password".to_owned()),
        _ => None,
    };
    let origin = icsfwd::config::Origin { path, mode: 0o644 };
    let config =
        icsfwd::config::Config::parse(&text, &origin, &env).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(config.health.interval, Some(Duration::from_secs(60)));
    assert_eq!(
        config.health.heartbeat_interval,
        Some(Duration::from_secs(300))
    );
    let soc = config
        .destinations
        .iter()
        .find(|d| d.name == "soc-hec")
        .unwrap();
    for kind in NotificationKind::ALL {
        let event = Event::from(Notification::new(1, 0, kind));
        assert!(config.rules.route(&event, 0).contains(soc.id), "{kind}");
    }
}
