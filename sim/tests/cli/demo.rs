//! `icsfwd-sim demo`, the real binary, short variant: it exits 0 and its summary matches what
//! the run sent (recomputed here from the same seeded scenario), one event per format and the
//! forwarder's status are printed, no secret is, and the temporary directory is removed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use icsfwd_core::alert::{Engine, Event, Severity};
use icsfwd_sim::scenario::{Params, Scenario};

const COUNT: u64 = 300;
const SEED: u64 = 7;
const START_MS: u64 = 1_700_000_000_000;

/// The `by <dimension> (soc-hec alerts):` table of `report`.
fn table(report: &str, dimension: &str) -> BTreeMap<String, u64> {
    let header = format!("by {dimension} (soc-hec alerts):");
    let mut lines = report.lines().skip_while(|l| *l != header);
    assert!(lines.next().is_some(), "no {header:?} in:\n{report}");
    lines
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let (value, count) = l.trim().rsplit_once(' ').unwrap();
            (value.trim().to_owned(), count.parse().unwrap())
        })
        .collect()
}

/// `(alerts, notifications)` of a destination's line.
fn received(report: &str, destination: &str) -> (u64, u64) {
    let line = report
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{destination} ")))
        .unwrap_or_else(|| panic!("no line for {destination} in:\n{report}"));
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 2, "{line}");
    (numbers[0], numbers[1])
}

/// The first line after `header`.
fn after<'a>(report: &'a str, header: &str) -> &'a str {
    let mut lines = report.lines().skip_while(|l| *l != header);
    assert!(lines.next().is_some(), "no {header:?} in:\n{report}");
    lines.next().unwrap_or_default().trim()
}

#[test]
fn the_demo_exits_0_and_its_summary_is_what_the_scenario_sent() {
    let output = Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args([
            "demo",
            "--count",
            &COUNT.to_string(),
            "--seed",
            &SEED.to_string(),
            "--start-ms",
            &START_MS.to_string(),
        ])
        .output()
        .unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    let progress = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{report}\n{progress}");

    // What the demo sent, recomputed from the same seeded scenario (the demo's rate: 1000/s).
    let params = Params {
        rate: 1_000.0,
        count: COUNT,
        seed: SEED,
        start_ms: START_MS,
        ..Params::default()
    };
    let mut want: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    let (mut alerts, mut notifications, mut ot, mut major, mut critical) = (0, 0, 0, 0, 0);
    for (_, event) in Scenario::Mixed.events(&params).unwrap() {
        match event {
            Event::Alert(a) => {
                alerts += 1;
                ot += u64::from(matches!(a.engine, Engine::Malware | Engine::Anomaly));
                major += u64::from(matches!(a.severity, Severity::Major | Severity::Critical));
                critical += u64::from(matches!(a.severity, Severity::Critical));
                for (dimension, value) in [
                    ("engine", a.engine.as_str().to_owned()),
                    ("severity", a.severity.as_str().to_owned()),
                    ("protocol", a.protocol.to_string()),
                    ("sensor", a.sensor.name.to_string()),
                ] {
                    *want.entry(dimension).or_default().entry(value).or_insert(0) += 1;
                }
            }
            Event::Notification(_) => notifications += 1,
        }
    }
    assert!(alerts > 0 && notifications > 0, "the scenario has both");

    assert!(
        report.contains(&format!(
            "sent {COUNT} event(s): {COUNT} accepted, 0 not forwarded, 0 refused"
        )),
        "{report}"
    );
    // soc-hec forwards system notifications: the scenario's, and the forwarder's own "sensor
    // online" sent when it started (its "offline" goes out at the stop, after the report); and
    // the health reports, one per destination made at start (the next round is 10 min later).
    assert_eq!(
        received(&report, "soc-hec"),
        (alerts, notifications + 1 + 4)
    );
    assert_eq!(received(&report, "ot-hec"), (ot, 0));
    assert_eq!(received(&report, "soc-splunkd"), (major, 0));
    // siem-syslog's rule takes critical alerts only (no system notifications).
    assert!(critical > 0, "the scenario has critical alerts");
    assert_eq!(received(&report, "siem-syslog"), (critical, 0));
    for (dimension, counts) in &want {
        assert_eq!(&table(&report, dimension), counts, "by {dimension}");
    }

    // The rules are printed, so the counts above can be checked by the reader.
    for rule in [
        "  \"everything to the SOC\": all alerts, system notifications and health reports -> soc-hec\n",
        "  \"malware and anomalies to the OT team\": alerts from engines Malware, Anomaly -> ot-hec\n",
        "  \"major and critical to splunkd\": alerts of severity Major and up -> soc-splunkd\n",
        "  \"critical to the SIEM\": alerts of severity Critical and up -> siem-syslog\n",
    ] {
        assert!(report.contains(rule), "{rule} in:\n{report}");
    }
    // Checked event by event, not only counted.
    assert!(
        report.contains(
            "checked against the rules, event id by event id: every event arrived exactly once\n"
        ),
        "{report}"
    );
    let routed = |destination: &str, n: u64| {
        format!("  {destination:<12} {n:>7} routed here, {n:>7} arrived once")
    };
    assert!(
        report.contains(&format!(
            "{} (and 5 of the forwarder's own notifications and health reports)\n",
            routed("soc-hec", alerts + notifications)
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("{}\n", routed("ot-hec", ot))),
        "{report}"
    );
    assert!(
        report.contains(&format!("{}\n", routed("soc-splunkd", major))),
        "{report}"
    );
    assert!(
        report.contains(&format!("{}\n", routed("siem-syslog", critical))),
        "{report}"
    );
    assert!(
        report.contains("soc-hec uses indexer acknowledgement"),
        "{report}"
    );
    // The sender's tally reads as one sentence, not "sent: sent".
    assert!(
        progress.contains(&format!("demo: sent {COUNT} lines in ")),
        "{progress}"
    );
    assert!(!progress.contains("sent: sent"), "{progress}");

    // One event in each format.
    let hec: serde_json::Value = serde_json::from_str(after(
        &report,
        "one HEC event (JSON, as stored by the emulator):",
    ))
    .unwrap();
    assert_eq!(hec["receiver"], "hec");
    assert!(hec["event"]["alert_id"].is_u64(), "{hec}");
    let splunkd = after(&report, "one splunkd REST event (text):");
    assert!(splunkd.contains("icsfwd Alert: "), "{splunkd}");
    let syslog = after(&report, "one syslog message (RFC 5424, CEF payload):");
    assert!(syslog.starts_with('<'), "an RFC 5424 PRI: {syslog}");
    assert!(syslog.contains(" CEF:0|"), "{syslog}");

    // The forwarder's status, every destination drained.
    let status = report
        .split_once("the forwarder's status (icsfwd status):\n")
        .unwrap()
        .1;
    for destination in [
        "soc-hec (hec)",
        "ot-hec (hec)",
        "soc-splunkd (splunk)",
        "siem-syslog (syslog)",
    ] {
        assert!(status.contains(destination), "{status}");
    }
    assert_eq!(status.matches("backlog 0,").count(), 4, "{status}");

    // No demo secret is shown, and the temporary directory is gone.
    for secret in ["demo-pw-9f3K!x", "5d0c9b1e-7a4f", "c7e1a2b3-4d5f"] {
        assert!(!report.contains(secret) && !progress.contains(secret));
    }
    let socket = progress
        .lines()
        .find_map(|l| l.strip_prefix("demo: forwarder running, ingest on "))
        .unwrap();
    let dir: PathBuf = PathBuf::from(socket)
        .parent()
        .and_then(|run| run.parent())
        .unwrap()
        .to_owned();
    assert!(!dir.exists(), "{} is removed", dir.display());
}

#[test]
fn keep_leaves_the_config_private_and_says_where() {
    let output = Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args(["demo", "--count", "20", "--keep"])
        .output()
        .unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{report}");
    let dir = report
        .lines()
        .find_map(|l| l.strip_prefix("files kept in "))
        .and_then(|l| l.split(" (").next())
        .unwrap();
    let dir = PathBuf::from(dir);
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.join("icsfwd.toml")), 0o600);
    assert_eq!(mode(dir.clone()), 0o700);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_count_out_of_range_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args(["demo", "--count", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}
