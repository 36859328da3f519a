//! System notifications through the real `icsfwd run` binary and the TLS Splunk emulator:
//!
//! - "sensor online" arrives at start and "sensor offline" at SIGTERM (exit code 0), only at
//!   the destination whose rule has `system_notifications = true` (two HEC destinations told
//!   apart by their `source`);
//! - a heartbeat through the socket, then silence past a 1 s `heartbeat_timeout`, gives
//!   "sensor offline" for that sensor; its next heartbeat gives "back online";
//! - with `on_full = "evict-lower-severity"`, an eviction gives an "alerts dropped" notice;
//! - a rule forwarding notifications to HEC, splunkd REST and syslog delivers each in the
//!   destination's own format.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::time::Duration;

use e2e::{
    Producer, alert_line, everything_to, hec_destination, scratch, socket_in, start_service,
    wait_for, wait_for_status, write_config_body,
};
use icsfwd_sim::splunk::emulator::RunningEmulator;
use icsfwd_sim::splunk::store::{Body, Filter};
use serde_json::Value;

/// Every JSON event HEC stored with this `source`.
fn events_from(emulator: &RunningEmulator, source: &str) -> Vec<Value> {
    emulator
        .store()
        .list(&Filter::default())
        .into_iter()
        .filter(|r| r.source == source)
        .filter_map(|r| match r.body {
            Body::Json(event) => Some(event),
            Body::Text(_) => None,
        })
        .collect()
}

/// The notifications of `kind` about `sensor` stored with `source`.
fn notifications(emulator: &RunningEmulator, source: &str, kind: &str, sensor: &str) -> Vec<Value> {
    events_from(emulator, source)
        .into_iter()
        .filter(|e| e["kind"] == kind && e["sensor_name"] == sensor)
        .collect()
}

fn heartbeat(sensor: &str) -> String {
    serde_json::json!({"type": "heartbeat", "sensor": {"name": sensor, "ip": "10.1.0.6"}})
        .to_string()
}

#[test]
fn online_at_start_and_offline_at_sigterm_reach_only_rules_forwarding_notifications() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("notify-online-offline");
    let url = [format!("https://localhost:{}", emulator.hec_addr().port())];
    let body = hec_destination(
        "notes",
        &url,
        support::HEC_TOKEN,
        &tls.ca_file,
        "source = \"with-notes\"",
    ) + &hec_destination(
        "plain",
        &url,
        support::HEC_TOKEN,
        &tls.ca_file,
        "source = \"alerts-only\"",
    ) + "[[rule]]\nname = \"notes\"\nsystem_notifications = true\nactions = [\"notes\"]\n\n\
         [[rule]]\nname = \"alerts\"\nactions = [\"plain\"]\n";
    let config = write_config_body(&dir, &body);
    let service = start_service(&config, &dir);

    wait_for("sensor online at HEC", Duration::from_secs(20), || {
        !notifications(&emulator, "with-notes", "sensor_online", "sensor-plant-a").is_empty()
    });
    // An alert goes to both rules' destinations: proof that "plain" delivers.
    let mut producer = Producer::connect(&socket_in(&dir));
    let answer = producer
        .exchange(alert_line(1, "Major", "Write to PLC").as_bytes())
        .unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    wait_for(
        "the alert at both destinations",
        Duration::from_secs(20),
        || {
            events_from(&emulator, "alerts-only").len() == 1
                && events_from(&emulator, "with-notes")
                    .iter()
                    .any(|e| e["id"] == "sensor-plant-a-1")
        },
    );
    drop(producer);

    let (exit, log) = service.stop();
    let log = log.join("\n");
    assert!(exit.success(), "graceful stop exits 0: {exit:?}\n{log}");
    let offline = notifications(&emulator, "with-notes", "sensor_offline", "sensor-plant-a");
    assert_eq!(
        offline.len(),
        1,
        "sensor offline delivered before exit:\n{log}"
    );
    assert!(
        offline[0]["text"]
            .as_str()
            .unwrap()
            .contains("forwarder stopped"),
        "{offline:?}"
    );
    let online = notifications(&emulator, "with-notes", "sensor_online", "sensor-plant-a");
    assert_eq!(online.len(), 1, "{online:?}");
    assert_ne!(
        online[0]["notification_id"], offline[0]["notification_id"],
        "distinct ids"
    );
    let plain = events_from(&emulator, "alerts-only");
    assert_eq!(plain.len(), 1, "only the alert, no notification: {plain:?}");
    assert_eq!(plain[0]["id"], "sensor-plant-a-1");
    support::assert_no_secret(&[log]);
}

#[test]
fn a_silent_sensor_goes_offline_after_the_heartbeat_timeout_and_comes_back_online() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("notify-heartbeat");
    let url = [format!("https://localhost:{}", emulator.hec_addr().port())];
    let body = "heartbeat_timeout = \"1s\"\n\n".to_owned()
        + &hec_destination("soc-hec", &url, support::HEC_TOKEN, &tls.ca_file, "")
        + &everything_to("soc-hec");
    let config = write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut producer = Producer::connect(&socket_in(&dir));

    let answer = producer
        .exchange(heartbeat("sensor-plant-b").as_bytes())
        .unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    wait_for("sensor-plant-b offline", Duration::from_secs(20), || {
        !notifications(&emulator, "icsfwd", "sensor_offline", "sensor-plant-b").is_empty()
    });
    assert!(
        notifications(&emulator, "icsfwd", "sensor_online", "sensor-plant-b").is_empty(),
        "not back before its next heartbeat"
    );

    let answer = producer
        .exchange(heartbeat("sensor-plant-b").as_bytes())
        .unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    wait_for(
        "sensor-plant-b back online",
        Duration::from_secs(20),
        || {
            notifications(&emulator, "icsfwd", "sensor_online", "sensor-plant-b")
                .iter()
                .any(|e| {
                    e["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("back online")
                })
        },
    );
    // The forwarder's own sensor, which sent no heartbeat, is not reported offline.
    assert!(notifications(&emulator, "icsfwd", "sensor_offline", "sensor-plant-a").is_empty());
    drop(producer);
    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
}

#[test]
fn an_eviction_in_a_full_spool_sends_an_alerts_dropped_notice() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let down = emulator.faults().add("hec:down".parse().unwrap()).unwrap();
    let dir = scratch("notify-evicted");
    let url = [format!("https://localhost:{}", emulator.hec_addr().port())];
    let body = hec_destination("soc-hec", &url, support::HEC_TOKEN, &tls.ca_file, "")
        + &everything_to("soc-hec");
    let config = write_config_body(&dir, &body);
    // The spool section comes last from `write_config_body`: extend it.
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[spool]\n",
        "[spool]\nmax_bytes = \"1 MiB\"\nsegment_bytes = \"64 KiB\"\non_full = \"evict-lower-severity\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let service = start_service(&config, &dir);
    let mut producer = Producer::connect(&socket_in(&dir));

    // Fill with warnings until one is refused, then a critical evicts.
    let mut id = 1;
    'fill: loop {
        assert!(id < 50_000, "the 1 MiB spool never filled");
        let lines: Vec<String> = (id..id + 100)
            .map(|i| alert_line(i, "Warning", &format!("Filler {i} {}", "x".repeat(150))))
            .collect();
        for answer in producer.exchange_all(&lines) {
            if answer["status"] != "accepted" {
                break 'fill;
            }
        }
        id += 100;
    }
    let answer = producer
        .exchange(alert_line(90_000, "Critical", "Evicts a warning").as_bytes())
        .unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    wait_for_status("the eviction", &config, Duration::from_secs(10), |s| {
        s["spool"]["evicted"].as_u64().unwrap_or(0) >= 1
    });

    assert!(emulator.faults().remove(down));
    wait_for("the alerts dropped notice", Duration::from_secs(30), || {
        notifications(&emulator, "icsfwd", "alerts_dropped", "sensor-plant-a")
            .iter()
            .any(|e| {
                let text = e["text"].as_str().unwrap_or_default();
                text.contains("evicted") && text.contains("icsfwd status")
            })
    });
    drop(producer);
    drop(service);
}

/// "sensor online" reaches a rule's every destination kind, each in its own format: HEC as a
/// JSON notification event, splunkd REST as a classic text event, syslog (TLS) as an RFC 5424
/// message with a CEF payload.
#[test]
fn notifications_reach_hec_splunkd_and_syslog_each_in_its_format() {
    use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig};
    use icsfwd_sim::splunk::store::ReceiverKind;

    let tls = support::Tls::new();
    let emulator = Emulator::start(EmulatorConfig {
        syslog_port: Some(0),
        ..support::config(&tls)
    })
    .unwrap();
    let syslog = emulator.syslog_addr().unwrap();
    let dir = scratch("notify-every-kind");
    let ca = tls.ca_file.display();
    let body = hec_destination(
        "soc-hec",
        &[format!("https://localhost:{}", emulator.hec_addr().port())],
        support::HEC_TOKEN,
        &tls.ca_file,
        "",
    ) + &format!(
        "[[destination]]\nname = \"soc-splunkd\"\nkind = \"splunk\"\nhost = \"localhost\"\n\
         port = {splunkd}\nusername = \"{user}\"\npassword = \"{password}\"\nca_file = \"{ca}\"\n\
         retry_min = \"100ms\"\nretry_max = \"1s\"\n\n\
         [[destination]]\nname = \"siem\"\nkind = \"syslog\"\nhost = \"localhost\"\n\
         port = {syslog}\ntransport = \"tls\"\npayload = \"cef\"\nca_file = \"{ca}\"\n\
         retry_min = \"100ms\"\nretry_max = \"1s\"\n\n\
         [[rule]]\nname = \"notifications everywhere\"\nalerts = false\n\
         system_notifications = true\nactions = [\"soc-hec\", \"soc-splunkd\", \"siem\"]\n",
        splunkd = emulator.splunkd_addr().port(),
        user = support::USER,
        password = support::PASSWORD,
        syslog = syslog.port(),
    );
    let config = write_config_body(&dir, &body);
    let service = start_service(&config, &dir);

    let of = |receiver: ReceiverKind| -> Vec<String> {
        emulator
            .store()
            .list(&Filter::default())
            .into_iter()
            .filter(|r| r.receiver == receiver)
            .map(|r| match r.body {
                Body::Json(event) => event.to_string(),
                Body::Text(text) => text,
            })
            .collect()
    };
    wait_for(
        "the online notification at all three",
        Duration::from_secs(30),
        || {
            !of(ReceiverKind::Hec).is_empty()
                && !of(ReceiverKind::Simple).is_empty()
                && !of(ReceiverKind::Syslog).is_empty()
        },
    );
    let hec = of(ReceiverKind::Hec);
    let json: Value = serde_json::from_str(&hec[0]).unwrap();
    assert_eq!(json["kind"], "sensor_online", "{json}");
    assert_eq!(json["sensor_name"], "sensor-plant-a", "{json}");
    let text = of(ReceiverKind::Simple);
    assert!(
        text[0].contains(" icsfwd Notification: Sensor online\nType: System notification\n"),
        "{}",
        text[0]
    );
    let cef = of(ReceiverKind::Syslog);
    assert!(
        cef[0].contains(" sensor-plant-a icsfwd - sensor_online [icsfwd@32473 "),
        "{}",
        cef[0]
    );
    assert!(
        cef[0].contains("|notification:sensor_online|Sensor online|"),
        "{}",
        cef[0]
    );
    assert_eq!(
        (hec.len(), text.len(), cef.len()),
        (1, 1, 1),
        "one notification each, nothing else (alerts = false)"
    );

    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
    drop(std::fs::remove_dir_all(&dir));
}
