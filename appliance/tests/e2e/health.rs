//! The forwarder's own health in Splunk, through the real `icsfwd run` binary and the TLS
//! Splunk emulator:
//!
//! - every `[health] interval`, one health report per destination arrives at HEC with
//!   sourcetype `icsfwd:health` and the fields the add-on extracts; the report about a
//!   destination parked by a wrong token says `state=parked` and why; only the destination of
//!   the rule with `health = true` receives reports;
//! - health reports spooled while HEC is down survive a restart and arrive after it (the
//!   restarted forwarder makes none itself);
//! - sensor heartbeats are forwarded at most once per sensor per `heartbeat_interval`, only
//!   where a rule forwards system notifications.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::e2e::{
    Producer, alert_line, hec_destination, scratch, socket_in, start_service, wait_for,
    wait_for_status, write_config_body,
};
use icsfwd_sim::splunk::emulator::RunningEmulator;
use icsfwd_sim::splunk::store::{Body, Filter, Stored};
use serde_json::Value;

/// A token the emulator does not know: its destination parks.
const WRONG_TOKEN: &str = "00000000-1111-2222-3333-444444444444";

/// Every stored HEC event with this `source`.
fn stored_from(emulator: &RunningEmulator, source: &str) -> Vec<Stored> {
    emulator
        .store()
        .list(&Filter::default())
        .into_iter()
        .filter(|r| r.source == source)
        .collect()
}

fn json(stored: &Stored) -> Option<&Value> {
    match &stored.body {
        Body::Json(event) => Some(event),
        Body::Text(_) => None,
    }
}

/// The fields of a health report's text, as the add-on extracts them: `key=value` pairs
/// separated by spaces, `reason=` last and taking the rest.
fn fields(text: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let (head, reason) = match text.split_once(" reason=") {
        Some((head, reason)) => (head, Some(reason)),
        None => (text, None),
    };
    for pair in head.split(' ') {
        let (k, v) = pair
            .split_once('=')
            .unwrap_or_else(|| panic!("{pair:?} in {text:?}"));
        map.insert(k.to_owned(), v.to_owned());
    }
    if let Some(reason) = reason {
        map.insert("reason".to_owned(), reason.to_owned());
    }
    map
}

/// The health reports stored with `source`: (sourcetype, event, fields of its text).
fn health_reports(
    emulator: &RunningEmulator,
    source: &str,
) -> Vec<(String, Value, HashMap<String, String>)> {
    stored_from(emulator, source)
        .iter()
        .filter_map(|s| {
            let event = json(s)?;
            (event["kind"] == "health_report").then(|| {
                let text = event["text"].as_str().unwrap_or_default();
                (s.sourcetype.clone(), event.clone(), fields(text))
            })
        })
        .collect()
}

#[test]
fn health_reports_show_a_parked_destination_and_reach_only_the_rule_with_health_on() {
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let dir = scratch("health-parked");
    let url = [format!("https://localhost:{}", emulator.hec_addr().port())];
    let body = "[health]\ninterval = \"1s\"\n\n".to_owned()
        + &hec_destination(
            "monitor",
            &url,
            crate::support::HEC_TOKEN,
            &tls.ca_file,
            "source = \"monitor\"",
        )
        + &hec_destination(
            "plain",
            &url,
            crate::support::HEC_TOKEN,
            &tls.ca_file,
            "source = \"plain\"",
        )
        + &hec_destination("broken", &url, WRONG_TOKEN, &tls.ca_file, "")
        + "[[rule]]\nname = \"forwarder health\"\nalerts = false\nhealth = true\n\
           actions = [\"monitor\"]\n\n\
           [[rule]]\nname = \"alerts\"\nsystem_notifications = true\n\
           actions = [\"plain\", \"broken\"]\n";
    let config = write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut producer = Producer::connect(&socket_in(&dir));
    let answer = producer
        .exchange(alert_line(1, "Major", "Write to PLC").as_bytes())
        .unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");

    wait_for(
        "a health report of the parked destination",
        Duration::from_secs(30),
        || {
            health_reports(&emulator, "monitor")
                .iter()
                .any(|(_, _, f)| f["destination"] == "broken" && f["state"] == "parked")
        },
    );
    let reports = health_reports(&emulator, "monitor");
    let (sourcetype, event, parked) = reports
        .iter()
        .find(|(_, _, f)| f["destination"] == "broken" && f["state"] == "parked")
        .unwrap();
    assert_eq!(sourcetype, "icsfwd:health");
    assert_eq!(event["title"], "Health report");
    assert_eq!(
        event["sensor_name"], "sensor-plant-a",
        "the forwarder's own name"
    );
    assert_eq!(parked["destination_kind"], "hec");
    // The alert and "sensor online" wait for the parked destination.
    assert!(parked["backlog"].parse::<u64>().unwrap() >= 1, "{parked:?}");
    let reason = parked.get("reason").expect("a parked destination says why");
    assert!(
        reason.contains("token"),
        "the reason names the fix: {reason}"
    );
    for key in [
        "delivered",
        "dead_lettered",
        "possible_duplicates",
        "retries",
        "spool_used_bytes",
        "spool_max_bytes",
        "spool_evicted",
        "spool_refused_full",
    ] {
        parked[key]
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{key} is a count: {parked:?}"));
    }
    assert!(
        parked["spool_used_pct"].parse::<f64>().is_ok(),
        "{parked:?}"
    );
    let about: BTreeSet<&str> = reports
        .iter()
        .map(|(_, _, f)| f["destination"].as_str())
        .collect();
    assert_eq!(about, BTreeSet::from(["broken", "monitor", "plain"]));
    assert!(
        reports
            .iter()
            .any(|(_, _, f)| f["destination"] == "plain" && f["state"] != "parked"),
        "{reports:?}"
    );

    // "plain" takes alerts and notifications, but no rule sends it health reports.
    let plain = stored_from(&emulator, "plain");
    assert!(
        plain
            .iter()
            .any(|s| json(s).unwrap()["id"] == "sensor-plant-a-1")
    );
    assert!(
        plain.iter().all(|s| s.sourcetype != "icsfwd:health"),
        "{plain:?}"
    );
    drop(producer);
    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
    crate::support::assert_no_secret(&[log.join("\n")]);
    assert!(
        !log.join("\n").contains(WRONG_TOKEN),
        "the wrong token is not logged"
    );
}

#[test]
fn health_reports_spooled_while_hec_is_down_arrive_after_a_restart() {
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let down = emulator.faults().add("hec:down".parse().unwrap()).unwrap();
    let dir = scratch("health-restart");
    let url = [format!("https://localhost:{}", emulator.hec_addr().port())];
    let destinations =
        hec_destination("monitor", &url, crate::support::HEC_TOKEN, &tls.ca_file, "")
            + "[[rule]]\nname = \"forwarder health\"\nalerts = false\nhealth = true\n\
           actions = [\"monitor\"]\n";
    let config = write_config_body(
        &dir,
        &("[health]\ninterval = \"1s\"\n\n".to_owned() + &destinations),
    );
    let service = start_service(&config, &dir);
    let status = wait_for_status(
        "three health reports spooled",
        &config,
        Duration::from_secs(30),
        |s| crate::e2e::destination(s, "monitor")["backlog"].as_u64() >= Some(3),
    );
    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
    let spooled = crate::e2e::destination(&status, "monitor")["backlog"]
        .as_u64()
        .unwrap();
    assert!(stored_from(&emulator, "icsfwd").is_empty(), "HEC was down");

    // The restarted forwarder makes no health report: whatever arrives was spooled before.
    write_config_body(
        &dir,
        &("[health]\ninterval = \"off\"\n\n".to_owned() + &destinations),
    );
    assert!(emulator.faults().remove(down));
    let service = start_service(&config, &dir);
    wait_for("the spooled reports", Duration::from_secs(30), || {
        health_reports(&emulator, "icsfwd").len() as u64 >= spooled
    });
    std::thread::sleep(Duration::from_secs(2));
    let reports = health_reports(&emulator, "icsfwd");
    let ids: BTreeSet<String> = reports
        .iter()
        .map(|(_, e, _)| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() as u64 >= spooled, "{ids:?}");
    assert!(
        reports
            .iter()
            .all(|(st, _, f)| st == "icsfwd:health" && f["destination"] == "monitor")
    );
    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
    // Every report was made in the first run, so all are stored by now and no new one came.
    assert_eq!(health_reports(&emulator, "icsfwd").len(), reports.len());
}

fn heartbeat(sensor: &str) -> String {
    serde_json::json!({"type": "heartbeat", "sensor": {"name": sensor, "ip": "10.1.0.6"}})
        .to_string()
}

/// The forwarded heartbeats of `sensor` stored with `source`.
fn heartbeats(emulator: &RunningEmulator, source: &str, sensor: &str) -> Vec<Stored> {
    stored_from(emulator, source)
        .into_iter()
        .filter(|s| json(s).is_some_and(|e| e["kind"] == "heartbeat" && e["sensor_name"] == sensor))
        .collect()
}

#[test]
fn heartbeats_are_forwarded_at_most_once_per_sensor_per_interval_to_notification_rules() {
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let dir = scratch("health-heartbeats");
    let url = [format!("https://localhost:{}", emulator.hec_addr().port())];
    let body = "[health]\ninterval = \"off\"\nheartbeat_interval = \"2s\"\n\n".to_owned()
        + &hec_destination(
            "notes",
            &url,
            crate::support::HEC_TOKEN,
            &tls.ca_file,
            "source = \"notes\"",
        )
        + &hec_destination(
            "plain",
            &url,
            crate::support::HEC_TOKEN,
            &tls.ca_file,
            "source = \"plain\"",
        )
        + "[[rule]]\nname = \"notes\"\nalerts = false\nsystem_notifications = true\n\
           actions = [\"notes\"]\n\n\
           [[rule]]\nname = \"alerts\"\nactions = [\"plain\"]\n";
    let config = write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut producer = Producer::connect(&socket_in(&dir));

    // 20 heartbeats a second from sensor-b, 4 a second from sensor-c, for 5 s.
    let start = Instant::now();
    let mut sent = 0u32;
    while start.elapsed() < Duration::from_secs(5) {
        let answer = producer
            .exchange(heartbeat("sensor-plant-b").as_bytes())
            .unwrap();
        assert_eq!(answer["status"], "accepted", "{answer}");
        if sent.is_multiple_of(5) {
            producer
                .exchange(heartbeat("sensor-plant-c").as_bytes())
                .unwrap();
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed = start.elapsed();
    assert!(sent >= 60, "{sent} heartbeats sent");
    drop(producer);
    // At most one per started interval: 0 s, 2 s and 4 s of a 5 s run.
    let limit = elapsed.as_secs() / 2 + 1;
    wait_for("the forwarded heartbeats", Duration::from_secs(20), || {
        ["sensor-plant-b", "sensor-plant-c"]
            .iter()
            .all(|sensor| heartbeats(&emulator, "notes", sensor).len() >= 2)
    });
    // Two status ticks: whatever the gate passed is stored by now.
    std::thread::sleep(Duration::from_secs(2));
    for sensor in ["sensor-plant-b", "sensor-plant-c"] {
        let forwarded = heartbeats(&emulator, "notes", sensor);
        let n = forwarded.len() as u64;
        assert!(
            (2..=limit).contains(&n),
            "{sensor}: {n} out of {sent} in, limit {limit}"
        );
        assert!(
            forwarded
                .iter()
                .all(|s| s.sourcetype == "icsfwd:notification")
        );
        let mut times: Vec<u64> = forwarded.iter().map(|s| s.time_ms).collect();
        times.sort_unstable();
        assert!(
            times.windows(2).all(|w| w[1].abs_diff(w[0]) >= 1_900),
            "{sensor}: at least an interval apart: {times:?}"
        );
        assert!(heartbeats(&emulator, "plain", sensor).is_empty());
    }
    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
}
