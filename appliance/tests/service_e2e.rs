//! `icsfwd run`, the real binary, end to end: the simulator's alerts go in through the ingest
//! socket, the Splunk emulator (HTTPS, verified against its CA) receives them through HEC and
//! splunkd REST, `icsfwd status` reports it, and SIGTERM stops the service cleanly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "output_support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use icsfwd_sim::feed::{self, Options, Target};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::store::{Filter, ReceiverKind};
use serde_json::Value;

/// The service as a child process, killed if a test fails before stopping it.
struct Service {
    child: Option<Child>,
    stderr: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Service {
    fn start(config: &Path) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_icsfwd"))
            .args(["run", "-c", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        });
        Service {
            child: Some(child),
            stderr: Some(lines),
        }
    }

    /// SIGTERM, then the exit status and every log line.
    fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        let log = self.stderr.take().unwrap().join().unwrap();
        (status, log)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            drop(child.kill());
            drop(child.wait());
        }
    }
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("icsfwd-e2e-{}-{test}", std::process::id()));
    drop(fs::remove_dir_all(&dir));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn icsfwd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icsfwd"))
        .args(args)
        .output()
        .unwrap()
}

/// A configuration with a HEC destination taking everything and a splunkd destination
/// taking critical alerts, both verified against the emulator's CA.
fn write_config(dir: &Path, tls: &support::Tls, hec: u16, splunkd: u16) -> PathBuf {
    let text = format!(
        r#"[sensor]
name = "sensor-plant-a"
ip = "10.20.0.5"

[[destination]]
name = "soc-hec"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
ca_file = "{ca}"
batch_max_events = 200
batch_linger = "20ms"
retry_min = "100ms"
retry_max = "1s"

[[destination]]
name = "soc-splunkd"
kind = "splunk"
host = "localhost"
port = {splunkd}
username = "{user}"
password = "{password}"
ca_file = "{ca}"
retry_min = "100ms"
retry_max = "1s"

[[rule]]
name = "everything to the SOC"
actions = ["soc-hec"]

[[rule]]
name = "critical to splunkd"
min_severity = "critical"
actions = ["soc-splunkd"]

[spool]
dir = "{spool}"

[ingest]
socket = "{socket}"
"#,
        token = support::HEC_TOKEN,
        user = support::USER,
        password = support::PASSWORD,
        ca = tls.ca_file.display(),
        spool = dir.join("spool").display(),
        socket = dir.join("run").join("ingest.sock").display(),
    );
    fs::create_dir_all(dir.join("run")).unwrap();
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

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
            json["destinations"][0]["delivered"] == 1_000 && json["destinations"][0]["backlog"] == 0
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
