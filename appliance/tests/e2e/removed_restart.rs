//! A destination removed from the configuration across a restart, against the real `icsfwd
//! run` binary and the HEC emulator: its backlog is kept exactly as a reload keeps it.
//!
//! - **Kept, then delivered**: a restart whose configuration no longer names a destination
//!   with a backlog keeps its records ("removed, N records kept" in `icsfwd status`, its
//!   backlog in the metrics, one warning at start saying what to do); adding it back at its
//!   place and restarting (or reloading) delivers every kept record exactly once.
//! - **Released**: `icsfwd spool release-destination` lets go of a kept backlog with the
//!   service stopped (on the spool itself, under its lock) and with it running (through the
//!   service); a released position may then be given to a new name.
//! - **Positions**: a new name at the place of a destination whose records are kept refuses
//!   to start (exit 2, what to release in the log) and changes nothing in the spool.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::e2e::{
    Producer, Service, alert_line, hec_destination, icsfwd, scratch, socket_in, start_service,
    wait_for_status, write_config_body,
};
use icsfwd_sim::splunk::emulator::{Emulator, RunningEmulator};

/// Alerts accepted while every destination is configured.
const BACKLOG: u64 = 20;

/// A HEC URL on 127.0.0.1 where nothing listens: a destination there keeps its backlog.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("https://localhost:{port}")
}

/// The HEC destination `name` at `url`, its events tagged with `source = name`.
fn hec(tls: &crate::support::Tls, name: &str, url: &str) -> String {
    hec_destination(
        name,
        &[url.to_owned()],
        crate::support::HEC_TOKEN,
        &tls.ca_file,
        &format!("source = \"{name}\""),
    )
}

/// Writes the configuration with `destinations` (each taking every alert) and the metrics
/// endpoint in `dir/run`.
fn write(dir: &Path, destinations: &[&str]) -> PathBuf {
    let names: Vec<String> = destinations
        .iter()
        .map(|d| {
            let name = d.split('"').nth(1).unwrap();
            format!("\"{name}\"")
        })
        .collect();
    write_config_body(
        dir,
        &format!(
            "{}\n[[rule]]\nname = \"alerts\"\nactions = [{}]\n\n[metrics]\nlisten = \"unix:{}\"\n",
            destinations.join("\n"),
            names.join(", "),
            dir.join("run").join("metrics.sock").display()
        ),
    )
}

/// Sends alerts `ids` and checks each is accepted.
fn send(dir: &Path, ids: std::ops::RangeInclusive<u64>) {
    let mut producer = Producer::connect(&socket_in(dir));
    for id in ids {
        let answer = producer
            .exchange(alert_line(id, "Major", "kept").as_bytes())
            .unwrap();
        assert_eq!(answer["status"], "accepted", "{answer}");
    }
}

/// Per `source` (destination), each alert id HEC received with how often.
fn received(emulator: &RunningEmulator) -> BTreeMap<String, BTreeMap<u64, u64>> {
    let mut out: BTreeMap<String, BTreeMap<u64, u64>> = BTreeMap::new();
    for record in emulator.store().list(&Default::default()) {
        let json = record.to_json();
        let Some(id) = json["event"]["id"].as_str() else {
            continue;
        };
        let id: u64 = id.rsplit('-').next().unwrap().parse().unwrap();
        let source = json["source"].as_str().unwrap_or_default().to_owned();
        *out.entry(source).or_default().entry(id).or_insert(0) += 1;
    }
    out
}

/// `GET /metrics` on the service's Unix socket in `dir/run`.
fn scrape(dir: &Path) -> String {
    let mut stream =
        std::os::unix::net::UnixStream::connect(dir.join("run").join("metrics.sock")).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: icsfwd\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

fn status_text(config: &Path) -> String {
    let out = icsfwd(&["status", "-c", config.to_str().unwrap()]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn release(name: &str, config: &Path) -> std::process::Output {
    icsfwd(&[
        "spool",
        "release-destination",
        name,
        "-c",
        config.to_str().unwrap(),
    ])
}

/// Starts on `destinations` (the kept ones first configured, each unreachable), accepts
/// [`BACKLOG`] alerts that `a` delivers and the others keep, and stops.
fn backlog_on(dir: &Path, tls: &crate::support::Tls, a_url: &str, kept: &[&str]) {
    let mut destinations = vec![hec(tls, "a", a_url)];
    destinations.extend(kept.iter().map(|name| hec(tls, name, &closed_url())));
    let refs: Vec<&str> = destinations.iter().map(String::as_str).collect();
    let config = write(dir, &refs);
    let service = start_service(&config, dir);
    send(dir, 1..=BACKLOG);
    wait_for_status("the backlogs", &config, Duration::from_secs(30), |s| {
        s["destinations"][0]["backlog"] == 0
            && (1..=kept.len()).all(|i| s["destinations"][i]["backlog"] == BACKLOG)
    });
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");
}

#[test]
fn a_destination_removed_across_a_restart_keeps_its_backlog_and_delivers_it_exactly_when_added_back()
 {
    let tls = crate::support::Tls::new();
    let emulator = Emulator::start(crate::support::config(&tls)).unwrap();
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let dir = scratch("removed-restart-kept");
    backlog_on(&dir, &tls, &url, &["down"]);

    // Restarted without it: kept, shown, in the metrics, and `a` goes on alone.
    let config = write(&dir, &[&hec(&tls, "a", &url)]);
    let service = start_service(&config, &dir);
    let status = wait_for_status("down kept", &config, Duration::from_secs(10), |s| {
        s["destinations"][1]["state"] == "removed"
    });
    assert_eq!(status["destinations"][1]["name"], "down", "{status}");
    assert_eq!(status["destinations"][1]["backlog"], BACKLOG, "{status}");
    let text = status_text(&config);
    assert!(
        text.contains("down (removed): removed, 20 records kept"),
        "{text}"
    );
    assert!(
        text.contains("icsfwd spool release-destination down"),
        "{text}"
    );
    let metrics = scrape(&dir);
    assert!(
        metrics.contains("icsfwd_destination_backlog{destination=\"down\",kind=\"removed\"} 20"),
        "{metrics}"
    );
    send(&dir, BACKLOG + 1..=BACKLOG + 5);
    wait_for_status("a delivers alone", &config, Duration::from_secs(30), |s| {
        s["destinations"][0]["delivered"] == 5
    });
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");
    let told: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("destination down: in the spool's checkpoint"))
        .collect();
    assert_eq!(told.len(), 1, "logged once at start: {log:#?}");
    assert!(
        told[0].contains("its 20 record(s) are kept")
            && told[0].contains("add it back at its place")
            && told[0].contains("icsfwd spool release-destination down"),
        "{told:?}"
    );

    // Added back at its place, now reachable: every kept record, once; nothing after.
    let config = write(&dir, &[&hec(&tls, "a", &url), &hec(&tls, "down", &url)]);
    let service = start_service(&config, &dir);
    wait_for_status("down delivers", &config, Duration::from_secs(30), |s| {
        s["destinations"][1]["backlog"] == 0 && s["destinations"][1]["delivered"] == BACKLOG
    });
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");
    let got = received(&emulator);
    let expected: BTreeMap<u64, u64> = (1..=BACKLOG).map(|id| (id, 1)).collect();
    assert_eq!(got["down"], expected, "every kept record exactly once");
    let all: BTreeMap<u64, u64> = (1..=BACKLOG + 5).map(|id| (id, 1)).collect();
    assert_eq!(got["a"], all);
}

#[test]
fn release_lets_go_of_a_kept_backlog_with_the_service_stopped_and_with_it_running() {
    let tls = crate::support::Tls::new();
    let emulator = Emulator::start(crate::support::config(&tls)).unwrap();
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let dir = scratch("removed-restart-release");
    backlog_on(&dir, &tls, &url, &["b", "c"]);
    let config = write(&dir, &[&hec(&tls, "a", &url)]);

    // Stopped: a configured name and an unknown one are refused; then `c` is released.
    let out = release("a", &config);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is in the configuration"),
        "{out:?}"
    );
    let out = release("zzz", &config);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("removed destinations kept: b, c"),
        "{out:?}"
    );
    let out = release("c", &config);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("released: 20 record(s)"),
        "{out:?}"
    );

    // Running: `b` is still kept, `c` no longer; `b` is released through the service.
    let service = start_service(&config, &dir);
    let status = wait_for_status("b kept", &config, Duration::from_secs(10), |s| {
        s["destinations"][1]["state"] == "removed"
    });
    let destinations = status["destinations"].as_array().unwrap();
    assert_eq!(destinations.len(), 2, "{status}");
    assert_eq!(destinations[1]["name"], "b", "{status}");
    let out = release("b", &config);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("released: 20 record(s)"),
        "{out:?}"
    );
    wait_for_status("b released", &config, Duration::from_secs(10), |s| {
        s["destinations"].as_array().is_some_and(|d| d.len() == 1)
    });
    let out = release("b", &config);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("released: 0 record(s)"),
        "released once: {out:?}"
    );
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");

    // Freed: the released places take new names, which get only what comes after.
    let config = write(
        &dir,
        &[
            &hec(&tls, "a", &url),
            &hec(&tls, "x", &url),
            &hec(&tls, "y", &url),
        ],
    );
    let service = start_service(&config, &dir);
    send(&dir, BACKLOG + 1..=BACKLOG + 1);
    wait_for_status("x and y deliver", &config, Duration::from_secs(30), |s| {
        (0..3).all(|i| s["destinations"][i]["backlog"] == 0)
            && s["destinations"][2]["delivered"] == 1
    });
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");
    let got = received(&emulator);
    for name in ["x", "y"] {
        assert_eq!(
            got[name].keys().copied().collect::<Vec<_>>(),
            [BACKLOG + 1],
            "{name} gets nothing released"
        );
    }
    assert!(!got.contains_key("b") && !got.contains_key("c"));
}

/// Every file of the spool directory `dir` but its lock, with its bytes.
fn spool_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_file() && name != "lock" {
            files.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
    files
}

#[test]
fn a_new_name_at_the_place_of_a_kept_backlog_refuses_to_start_and_changes_nothing() {
    let tls = crate::support::Tls::new();
    let emulator = Emulator::start(crate::support::config(&tls)).unwrap();
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let dir = scratch("removed-restart-refused");
    backlog_on(&dir, &tls, &url, &["down"]);
    let config = write(&dir, &[&hec(&tls, "a", &url)]);
    let service = start_service(&config, &dir);
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");

    let before = spool_files(&dir.join("spool"));
    let config = write(&dir, &[&hec(&tls, "a", &url), &hec(&tls, "other", &url)]);
    let mut refused = Service::start(&config);
    let started = std::time::Instant::now();
    while refused.exited().is_none() {
        if started.elapsed() > Duration::from_secs(15) {
            let log = refused.kill();
            panic!("the service started on a place whose records are kept: {log:#?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, log) = refused.wait_log();
    let stderr = log.join("\n");
    assert_eq!(code.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "destination \"other\" would take position 2 of the [[destination]] entries, where \
             the spool still holds 20 record(s) of destination \"down\""
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("icsfwd spool release-destination down"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing in the spool was changed"),
        "{stderr}"
    );
    assert_eq!(spool_files(&dir.join("spool")), before, "nothing changed");
    assert!(!received(&emulator).contains_key("other"));
}

#[test]
fn a_backlog_kept_at_start_is_delivered_when_a_reload_adds_its_destination_back() {
    let tls = crate::support::Tls::new();
    let emulator = Emulator::start(crate::support::config(&tls)).unwrap();
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let dir = scratch("removed-restart-reload");
    backlog_on(&dir, &tls, &url, &["down"]);
    let config = write(&dir, &[&hec(&tls, "a", &url)]);
    let service = start_service(&config, &dir);
    wait_for_status("down kept", &config, Duration::from_secs(10), |s| {
        s["destinations"][1]["backlog"] == BACKLOG
    });

    write(&dir, &[&hec(&tls, "a", &url), &hec(&tls, "down", &url)]);
    let applied = icsfwd(&["reload", "-c", config.to_str().unwrap()]);
    assert_eq!(applied.status.code(), Some(0), "{applied:?}");
    wait_for_status("down delivers", &config, Duration::from_secs(30), |s| {
        s["destinations"][1]["state"] != "removed" && s["destinations"][1]["backlog"] == 0
    });
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");
    let expected: BTreeMap<u64, u64> = (1..=BACKLOG).map(|id| (id, 1)).collect();
    assert_eq!(received(&emulator)["down"], expected);
}
