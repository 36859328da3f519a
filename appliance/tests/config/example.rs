//! The commented example in `etc/icsfwd.example.toml` is a valid configuration, and what it
//! builds for the service (rule set, format options) behaves as its comments say.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::common;

use std::path::Path;

use icsfwd::config::{Config, OnFull, Origin};
use icsfwd::testing::destination::DestinationKind;
use icsfwd::testing::destination::syslog::Transport;
use icsfwd_core::alert::{Alert, Engine, Event, Severity};
use icsfwd_core::format::{self, Kind, SliceWriter};

fn example() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/icsfwd.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let env = |name: &str| match name {
        "ICSFWD_HEC_TOKEN" => Some("hec-token".to_owned()),
        "ICSFWD_SPLUNK_PASSWORD" => Some("splunk-password".to_owned()),
        _ => None,
    };
    // The example holds no inline secret, so it validates whatever its mode.
    let origin = Origin { path, mode: 0o644 };
    Config::parse(&text, &origin, &env).unwrap_or_else(|p| panic!("{p}"))
}

#[test]
fn the_example_config_validates() {
    let config = example();
    let names: Vec<&str> = config
        .destinations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["soc-hec", "soc-splunkd", "siem-syslog"]);
    assert_eq!(config.rules.rules().len(), 2);
    assert_eq!(config.rules.exclusions().len(), 2);
    assert_eq!(config.spool.on_full, OnFull::Refuse);
    let DestinationKind::Hec(hec) = &config.destinations[0].kind else {
        panic!()
    };
    assert_eq!(hec.urls.len(), 2);
    assert!(hec.ack);
    assert_eq!(hec.batch.max_bytes, 1_000_000);
    let DestinationKind::Syslog(syslog) = &config.destinations[2].kind else {
        panic!()
    };
    assert_eq!(syslog.transport, Transport::Tls);
    // Only TLS destinations with verification on: nothing to warn about.
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
}

#[test]
fn the_example_rule_set_routes_as_its_comments_say() {
    let config = example();
    let [hec, splunkd, syslog] = [0, 1, 2].map(|i| config.destinations[i].id);

    let mut plc_stop = Alert::new(1, 0, Engine::Operational, Severity::Critical);
    plc_stop.set_protocol("s7");
    let routed = config.rules.route(&Event::from(plc_stop.clone()), 0);
    assert!(routed.contains(hec) && routed.contains(splunkd) && routed.contains(syslog));

    let mut minor_modbus = plc_stop.clone();
    minor_modbus.severity = Severity::Minor;
    let routed = config.rules.route(&Event::from(minor_modbus), 0);
    assert!(routed.contains(hec) && !routed.contains(syslog));

    // From the excluded lab network: nowhere.
    let mut lab = plc_stop.clone();
    lab.source.ip = "10.99.1.2".parse().unwrap();
    assert!(config.rules.route(&Event::from(lab), 0).is_empty());

    // During the maintenance window (2026-12-01 02:00-04:00 UTC), a PLC stop goes nowhere.
    let mut stop = plc_stop;
    stop.set_title("PLC Program Stop");
    let in_window = 1_796_083_200_000 + 3 * 3_600_000; // 2026-12-01T03:00:00Z
    assert!(
        config
            .rules
            .route(&Event::from(stop.clone()), in_window)
            .is_empty()
    );
    assert!(!config.rules.route(&Event::from(stop), 0).is_empty());
}

#[test]
fn the_hec_destination_renders_with_its_configured_envelope() {
    let config = example();
    let d = &config.destinations[0];
    assert_eq!(d.format(), Kind::Hec);
    let options = d.format_options();
    let mut buf = vec![0u8; format::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    let event = Event::from(Alert::example(0));
    let n = format::write(Kind::Hec, &event, &options, &mut out).unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
    assert_eq!(envelope["index"], "ot");
    assert_eq!(envelope["source"], "icsfwd");
}

/// `docs/examples/try.toml` (the README's walk-through) validates once the emulator's CA is
/// where it says, and it is refused while its inline secrets are readable by others.
#[test]
fn the_readme_walkthrough_config_validates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/try.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let dir = common::scratch("try-toml");
    std::fs::write(
        dir.join("ca.pem"),
        "not read by the validator beyond existing\n",
    )
    .unwrap();
    let text = text.replace("/tmp/icsfwd-try", dir.to_str().unwrap());
    let config = common::parse_in(&dir, &text, 0o600).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(config.destinations.len(), 2);
    let open = common::parse_in(&dir, &text, 0o644)
        .unwrap_err()
        .to_string();
    assert!(open.contains("chmod 600"), "{open}");
}
