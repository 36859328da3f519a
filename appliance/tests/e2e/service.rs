//! `icsfwd run`, the real binary, end to end: the simulator's alerts go in through the ingest
//! socket, the Splunk emulator (HTTPS, verified against its CA) receives them through HEC and
//! splunkd REST, `icsfwd status` reports it, and SIGTERM stops the service cleanly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use e2e::{Service, icsfwd, scratch, wait_for, write_config};

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use icsfwd_sim::feed::{self, Options, Target};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::store::{Filter, ReceiverKind};
use serde_json::Value;

#[test]
fn alerts_in_through_the_socket_reach_hec_and_splunkd_and_sigterm_stops_cleanly() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("run");
    let config = write_config(
        &dir,
        &tls,
        emulator.hec_addr().port(),
        emulator.splunkd_addr().port(),
    );
    let socket = dir.join("run").join("ingest.sock");
    let service = Service::start(&config);
    wait_for("the ingest socket", Duration::from_secs(30), || {
        socket.exists()
    });

    let params = Params {
        rate: 1_000_000.0,
        count: 1_000,
        seed: 42,
        start_ms: 1_700_000_000_000,
        ..Params::default()
    };
    let events: Vec<_> = Scenario::Mixed.events(&params).unwrap().collect();
    let critical = events
        .iter()
        .filter(|(_, e)| matches!(e, icsfwd_core::alert::Event::Alert(a) if a.severity == icsfwd_core::alert::Severity::Critical))
        .count();
    let tally = feed::send(
        events.clone().into_iter(),
        &Target::Unix(socket.clone()),
        &Options::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(tally.accepted, 1_000, "{tally}");
    assert_eq!(tally.refused, 0, "{tally}");

    let store = emulator.store();
    let count = |receiver: ReceiverKind| {
        store
            .list(&Filter::default())
            .iter()
            .filter(|r| r.receiver == receiver)
            .count()
    };
    wait_for(
        "HEC to receive every alert",
        Duration::from_secs(60),
        || count(ReceiverKind::Hec) >= 1_000,
    );
    wait_for(
        "splunkd to receive the critical ones",
        Duration::from_secs(60),
        || count(ReceiverKind::Simple) >= critical,
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(ReceiverKind::Hec), 1_000, "each alert once");
    assert_eq!(
        count(ReceiverKind::Simple),
        critical,
        "each critical alert once"
    );

    // Every event id arrived, exactly once, at HEC.
    let ids: BTreeSet<String> = store
        .list(&Filter::default())
        .iter()
        .filter(|r| r.receiver == ReceiverKind::Hec)
        .filter_map(|r| r.to_json()["event"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 1_000, "1,000 distinct event ids");

    // `icsfwd status` sees the service and both destinations delivering.
    let config_arg = config.to_str().unwrap();
    let mut shown = icsfwd(&["status", "-c", config_arg, "--json"]);
    wait_for(
        "status to show every delivery",
        Duration::from_secs(10),
        || {
            shown = icsfwd(&["status", "-c", config_arg, "--json"]);
            let json: Value = serde_json::from_slice(&shown.stdout).unwrap_or_default();
            // Both destinations: splunkd (one request per event) may finish after HEC.
            json["destinations"][0]["delivered"] == 1_000
                && json["destinations"][0]["backlog"] == 0
                && json["destinations"][1]["delivered"] == critical as u64
        },
    );
    assert!(shown.status.success(), "{shown:?}");
    let json: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(json["ingest"]["accepted"], 1_000);
    assert_eq!(json["destinations"][1]["name"], "soc-splunkd");
    assert_eq!(json["destinations"][1]["delivered"], critical as u64);
    let text = icsfwd(&["status", "-c", config_arg]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("soc-hec (hec)"), "{text}");

    let (exit, log) = service.stop();
    assert!(
        exit.success(),
        "graceful stop exits 0: {exit:?}\n{}",
        log.join("\n")
    );
    let log = log.join("\n");
    assert!(log.contains("<6>icsfwd[service]: stopped"), "{log}");
    for secret in support::SECRETS {
        assert!(!log.contains(secret), "a secret in the log: {log}");
    }
    let not_running = icsfwd(&["status", "-c", config_arg]);
    assert_eq!(not_running.status.code(), Some(1), "{not_running:?}");
    assert!(!socket.exists(), "the socket is removed at stop");
}

#[test]
fn an_end_to_end_scratch_directory_and_its_spool_are_gone_when_the_test_is_done() {
    let dir = scratch("removed");
    fs::create_dir_all(dir.join("spool/deadletter")).unwrap();
    fs::write(dir.join("spool/deadletter/soc.jsonl"), "x\n").unwrap();
    let path = dir.to_path_buf();
    drop(dir);
    assert!(!path.exists(), "{} is left behind", path.display());
}

#[test]
fn an_invalid_config_does_not_start_and_lists_the_problem() {
    let dir = scratch("invalid");
    let path = dir.join("icsfwd.toml");
    fs::write(&path, "[sensor]\nname = \"s\"\nip = \"not-an-ip\"\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let output = icsfwd(&["run", "-c", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("sensor.ip"), "{err}");
}

/// Runs the service at debug level with `[log] format`, sends it a heartbeat from a sensor
/// whose name holds terminal escapes and line breaks (logged at debug), stops it, and returns
/// every log line.
fn log_of_a_hostile_heartbeat(format: &str) -> Vec<String> {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch(&format!("log-{format}"));
    let config = e2e::write_hec_config(&dir, &tls, emulator.hec_addr().port(), "", "");
    let mut text = fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n[log]\nformat = \"{format}\"\n"));
    fs::write(&config, text).unwrap();
    let mut command = e2e::icsfwd_command();
    command.args([
        "run",
        "-c",
        config.to_str().unwrap(),
        "--log-level",
        "debug",
    ]);
    let service = Service::start_command(command);
    let mut producer = e2e::Producer::connect(&e2e::socket_of(&dir));
    let heartbeat = serde_json::json!({
        "type": "heartbeat",
        "sensor": {"name": HOSTILE_NAME, "ip": "10.0.0.9"},
    });
    let answer = producer.exchange(heartbeat.to_string().as_bytes()).unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    let (status, log) = service.stop();
    assert!(status.success(), "{status:?}: {log:#?}");
    log
}

/// ESC (a screen clear and a window-title sequence), BEL, CR LF with a forged record, DEL, NEL
/// (a C1 control) and a line separator.
const HOSTILE_NAME: &str =
    "s\u{1b}[2J\u{1b}]0;x\u{7}\r\n<3>icsfwd[main]: forged\u{7f}\u{85}\u{2028}";

fn assert_no_control_character(log: &[String]) {
    for line in log {
        assert!(
            !line
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')),
            "a control character reached the log: {line:?}"
        );
    }
}

#[test]
fn a_journald_log_escapes_every_control_character_of_alert_text() {
    let log = log_of_a_hostile_heartbeat("journald");
    assert_no_control_character(&log);
    let line = log
        .iter()
        .find(|l| l.contains("heartbeat from sensor"))
        .unwrap_or_else(|| panic!("no heartbeat line: {log:#?}"));
    assert_eq!(
        line,
        "<7>icsfwd[service]: heartbeat from sensor \
         s\\x1b[2J\\x1b]0;x\\x07\\r\\n<3>icsfwd[main]: forged\\x7f\\x85\\u2028"
    );
    assert!(log.iter().all(|l| l.starts_with('<')), "{log:#?}");
}

#[test]
fn a_json_log_is_one_object_per_line_and_gives_alert_text_back_exactly() {
    let log = log_of_a_hostile_heartbeat("json");
    assert_no_control_character(&log);
    assert!(!log.is_empty());
    let mut heartbeat = None;
    for line in &log {
        let record: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let object = record.as_object().unwrap();
        for member in ["time", "level", "target", "message"] {
            assert!(object[member].is_string(), "{member} in {line}");
        }
        assert!(
            object
                .keys()
                .all(|k| ["time", "level", "target", "message", "fields"].contains(&k.as_str()))
        );
        if record["message"]
            .as_str()
            .unwrap()
            .starts_with("heartbeat from sensor")
        {
            heartbeat = Some(record);
        }
    }
    let heartbeat = heartbeat.unwrap_or_else(|| panic!("no heartbeat line: {log:#?}"));
    assert_eq!(
        heartbeat["message"],
        format!("heartbeat from sensor {HOSTILE_NAME}")
    );
    assert_eq!(heartbeat["level"], "debug");
    assert_eq!(heartbeat["target"], "icsfwd::service");
}
