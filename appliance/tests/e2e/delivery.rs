//! `icsfwd run`, the real binary, delivering the simulator's generated alerts to the Splunk
//! emulator over verified TLS: through HEC and through splunkd REST, 10,000 events each, every
//! one stored exactly once with exactly the fields that were sent; and with a wrong CA nothing
//! is stored and the destination is parked with a reason naming certificate verification.
//! No password or token ever appears in the service's log or in `icsfwd status`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use e2e::{
    Shown, alerts_to, everything_to, feed_all, hec_destination, scratch, start_service, wait_for,
    wait_for_destination,
};
use icsfwd_core::alert::Event;
use icsfwd_core::format::{SliceWriter, text};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::store::{Body, Filter, ReceiverKind, Stored};
use serde_json::{Value, json};

/// How many generated events each delivery test sends.
const EVENTS: u64 = 10_000;

/// The mixed scenario (background, scan, PLC takeover, malware, sensor loss): alerts of every
/// engine and severity and system notifications, ids `<sensor>-<n>` unique.
fn generated(count: u64, seed: u64) -> Vec<(u64, Event)> {
    let params = Params {
        rate: 1_000_000.0,
        count,
        seed,
        ..Params::default()
    };
    Scenario::Mixed.events(&params).unwrap().collect()
}

fn event_id(event: &Event) -> String {
    event.event_id().to_string()
}

/// The stored records of `receiver`, keyed by event id; panics on a duplicate.
fn stored_once(
    emulator: &icsfwd_sim::splunk::emulator::RunningEmulator,
    receiver: ReceiverKind,
    id_of: impl Fn(&Stored) -> String,
) -> BTreeMap<String, Stored> {
    let mut by_id = BTreeMap::new();
    let mut own = 0;
    for record in emulator.store().list(&Filter::default()) {
        if record.receiver != receiver {
            continue;
        }
        let id = id_of(&record);
        if id.starts_with(OWN_SENSOR_PREFIX) {
            // The forwarder's own system notification, not one of the scenario's events.
            own += 1;
            continue;
        }
        assert!(
            by_id.insert(id.clone(), record).is_none(),
            "{id} stored twice"
        );
    }
    assert_eq!(
        own, OWN_NOTIFICATIONS,
        "the forwarder's own notifications, once each"
    );
    by_id
}

/// The service's own notifications while a test runs: "sensor online" at start (the offline
/// one is sent at the stop, after the checks).
const OWN_NOTIFICATIONS: u64 = 1;

/// The event ids of the forwarder's own notifications: its `[sensor]` is `sensor-plant-a`, a
/// name no generated event uses.
const OWN_SENSOR_PREFIX: &str = "sensor-plant-a-";

/// What HEC must hold for `event`: the envelope metadata and the `event` object's fields
/// (written from the alert, not from the formatter, so a formatter bug shows).
fn expected_hec(event: &Event) -> (Value, Value) {
    match event {
        Event::Alert(a) => {
            let meta = json!({
                "host": a.sensor.name.as_str(), "source": "icsfwd",
                "sourcetype": "icsfwd:alert", "index": "ot", "time_ms": a.time_ms,
            });
            let fields = json!({
                "id": event_id(event), "alert_id": a.id,
                "title": a.title.as_str(), "message": a.message.as_str(),
                "severity": a.severity.as_str(), "engine": a.engine.as_str(),
                "protocol": a.protocol.as_str(), "alert_group": a.group.as_str(),
                "src_name": a.source.name.as_str(), "src_ip": a.source.ip.to_string(),
                "dest_name": a.destination.name.as_str(), "dest_ip": a.destination.ip.to_string(),
                "sensor_name": a.sensor.name.as_str(), "sensor_ip": a.sensor.ip.to_string(),
            });
            (meta, fields)
        }
        Event::Notification(n) => {
            let meta = json!({
                "host": n.sensor.name.as_str(), "source": "icsfwd",
                "sourcetype": "icsfwd:notification", "index": "ot", "time_ms": n.time_ms,
            });
            let fields = json!({
                "id": event_id(event), "notification_id": n.id,
                "kind": n.kind.token(), "title": n.kind.as_str(),
                "severity": n.kind.severity().as_str(), "text": n.text.as_str(),
                "sensor_name": n.sensor.name.as_str(), "sensor_ip": n.sensor.ip.to_string(),
            });
            (meta, fields)
        }
    }
}

/// The core text rendering of `event`: what splunkd's `receivers/simple` must receive.
fn text_body(event: &Event) -> String {
    let mut buf = vec![0u8; text::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    let n = text::write(event, &text::Options::default(), &mut out).unwrap();
    String::from_utf8(out.written()[..n].to_vec()).unwrap()
}

#[test]
fn ten_thousand_generated_events_reach_hec_once_each_with_exact_fields() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("delivery-hec");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let body = hec_destination(
        "soc-hec",
        &[url],
        support::HEC_TOKEN,
        &tls.ca_file,
        "index = \"ot\"",
    ) + &everything_to("soc-hec");
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let events = generated(EVENTS, 7);
    let tally = feed_all(&dir, events.clone());
    assert_eq!(tally.accepted, EVENTS, "{tally}");

    wait_for("HEC to store every event", Duration::from_secs(60), || {
        emulator.store().len() >= (EVENTS + OWN_NOTIFICATIONS) as usize
    });
    let status = wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "the backlog to drain",
        Duration::from_secs(20),
        // The forwarder's own "sensor online" is delivered too (its rule forwards notifications).
        |d| d["backlog"] == 0 && d["delivered"] == EVENTS + OWN_NOTIFICATIONS,
    );
    assert_eq!(status["ingest"]["accepted"], EVENTS);

    let stored = stored_once(&emulator, ReceiverKind::Hec, |r| match &r.body {
        Body::Json(event) => event["id"].as_str().unwrap().to_owned(),
        Body::Text(text) => panic!("a HEC event stored as text: {text}"),
    });
    assert_eq!(stored.len(), EVENTS as usize, "every event exactly once");
    let mut notifications = 0;
    for (_, event) in &events {
        let id = event_id(event);
        let record = stored
            .get(&id)
            .unwrap_or_else(|| panic!("{id} never stored"));
        let (meta, fields) = expected_hec(event);
        let got_meta = json!({
            "host": record.host, "source": record.source, "sourcetype": record.sourcetype,
            "index": record.index, "time_ms": record.time_ms,
        });
        assert_eq!(got_meta, meta, "metadata of {id}");
        let Body::Json(got) = &record.body else {
            unreachable!()
        };
        for (key, want) in fields.as_object().unwrap() {
            assert_eq!(&got[key], want, "event.{key} of {id}: {got}");
        }
        if let Event::Alert(a) = event {
            let indexed: BTreeMap<&str, &[String]> = record
                .fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect();
            assert_eq!(indexed["severity"], [a.severity.as_str()], "{id}");
            assert_eq!(indexed["engine"], [a.engine.as_str()], "{id}");
            assert_eq!(indexed["protocol"], [a.protocol.as_str()], "{id}");
            assert_eq!(indexed["sensor"], [a.sensor.name.as_str()], "{id}");
        } else {
            notifications += 1;
        }
    }
    assert!(
        notifications > 0,
        "the scenario includes system notifications"
    );

    shown.status_text(&config);
    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
    shown.text(log.join("\n"));
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

#[test]
fn ten_thousand_generated_events_reach_splunkd_once_each_with_the_exact_text_and_metadata() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("delivery-splunkd");
    let body = format!(
        "[[destination]]\nname = \"soc-splunkd\"\nkind = \"splunk\"\nhost = \"localhost\"\n\
         port = {port}\nusername = \"{user}\"\npassword = \"{password}\"\nca_file = \"{ca}\"\n\
         index = \"ot\"\nsource = \"icsfwd-e2e\"\nsourcetype = \"ot:alert\"\n\
         retry_min = \"100ms\"\nretry_max = \"1s\"\n\n{rule}",
        port = emulator.splunkd_addr().port(),
        user = support::USER,
        password = support::PASSWORD,
        ca = tls.ca_file.display(),
        rule = everything_to("soc-splunkd"),
    );
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let events = generated(EVENTS, 11);
    let tally = feed_all(&dir, events.clone());
    assert_eq!(tally.accepted, EVENTS, "{tally}");

    wait_for(
        "splunkd to store every event",
        Duration::from_secs(90),
        || emulator.store().len() >= (EVENTS + OWN_NOTIFICATIONS) as usize,
    );
    wait_for_destination(
        &mut shown,
        &config,
        "soc-splunkd",
        "the backlog to drain",
        Duration::from_secs(20),
        // The forwarder's own "sensor online" is delivered too (its rule forwards notifications).
        |d| d["backlog"] == 0 && d["delivered"] == EVENTS + OWN_NOTIFICATIONS,
    );

    let stored = stored_once(&emulator, ReceiverKind::Simple, |r| {
        r.body
            .text()
            .lines()
            .find_map(|l| l.strip_prefix("Alert ID: "))
            .unwrap()
            .to_owned()
    });
    assert_eq!(stored.len(), EVENTS as usize, "every event exactly once");
    for (_, event) in &events {
        let id = event_id(event);
        let record = stored
            .get(&id)
            .unwrap_or_else(|| panic!("{id} never stored"));
        // The query string's metadata, as configured ([sensor] ip is the host).
        assert_eq!(
            (
                record.host.as_str(),
                record.source.as_str(),
                record.sourcetype.as_str(),
                record.index.as_str(),
                record.user.as_deref(),
            ),
            (
                "10.20.0.5",
                "icsfwd-e2e",
                "ot:alert",
                "ot",
                Some(support::USER)
            ),
            "metadata of {id}"
        );
        let got = record.body.text();
        assert_eq!(got, text_body(event), "body of {id}");
        // And a few lines checked against the alert itself, not only the formatter.
        assert!(
            got.contains(&format!("\nSeverity: {}\n", event.severity().as_str())),
            "{got}"
        );
        if let Event::Alert(a) = event {
            assert!(
                got.contains(&format!("\nSource IP: {}\n", a.source.ip)),
                "{got}"
            );
            assert!(
                got.contains(&format!("\nDestination IP: {}\n", a.destination.ip)),
                "{got}"
            );
        }
    }

    shown.status_text(&config);
    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
    shown.text(log.join("\n"));
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

#[test]
fn a_wrong_ca_stores_nothing_and_parks_the_destination_naming_certificate_verification() {
    let tls = support::Tls::new();
    let other_ca = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("delivery-wrong-ca");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let body = hec_destination("soc-hec", &[url], support::HEC_TOKEN, &other_ca.ca_file, "")
        + &alerts_to("soc-hec");
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let tally = feed_all(&dir, generated(50, 3));
    assert_eq!(tally.accepted, 50, "the spool takes them: {tally}");

    let status = wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "the destination to be parked",
        Duration::from_secs(30),
        |d| d["state"] == "parked" && d["backlog"] == 50,
    );
    let hec = e2e::destination(&status, "soc-hec");
    let reason = hec["reason"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        reason.contains("tls verification failed") && reason.contains("certificate"),
        "the reason names TLS certificate verification: {hec:#}"
    );
    assert_eq!(hec["delivered"], 0, "{hec:#}");
    assert_eq!(hec["backlog"], 50, "{hec:#}");
    let text = shown.status_text(&config);
    assert!(text.contains("soc-hec (hec): parked"), "{text}");
    assert!(text.to_lowercase().contains("certificate"), "{text}");

    let (exit, log) = service.stop();
    assert!(exit.success(), "{exit:?}\n{}", log.join("\n"));
    let log = log.join("\n");
    assert!(
        log.to_lowercase().contains("certificate"),
        "the log names the certificate problem: {log}"
    );
    assert_eq!(emulator.store().len(), 0, "nothing reached the emulator");
    shown.text(log);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}
