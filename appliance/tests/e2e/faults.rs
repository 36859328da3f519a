//! `icsfwd run`, the real binary, against a faulty Splunk emulator: HEC down for 20 s while
//! alerts keep arriving (the spool absorbs the outage), indexer acknowledgements delayed,
//! never given, and responses lost (resends counted as possible duplicates), and failover
//! between two HEC URLs. In every case no accepted alert is lost, every extra copy is counted,
//! and no password or token appears in the log or in `icsfwd status`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::{
    Service, Shown, alerts_to, counted, destination, feed_all, hec_destination, ids_of, scratch,
    start_service, stop_cleanly, stored_ids, wait_for, wait_for_destination,
};
use icsfwd_core::alert::Event;
use icsfwd_sim::feed::{self, Options, Target};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::emulator::RunningEmulator;
use icsfwd_sim::splunk::store::ReceiverKind;
use serde_json::Value;

/// The outage the issue asks for, in real time.
const OUTAGE: Duration = Duration::from_secs(20);

/// `count` steady-background alerts at `rate` per second (ids `<sensor>-1..=count`).
fn steady(count: u64, rate: f64) -> Vec<(u64, Event)> {
    let params = Params {
        rate,
        count,
        seed: 5,
        ..Params::default()
    };
    Scenario::Steady.events(&params).unwrap().collect()
}

/// A HEC service in a fresh scratch dir: the config, the dir and the running service.
fn hec_service(
    test: &str,
    urls: &[String],
    token: &str,
    ca: &Path,
    extra: &str,
) -> (e2e::Scratch, PathBuf, Service) {
    let dir = scratch(test);
    let body = hec_destination("soc-hec", urls, token, ca, extra) + &alerts_to("soc-hec");
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    (dir, config, service)
}

fn url(emulator: &RunningEmulator) -> String {
    format!("https://localhost:{}", emulator.hec_addr().port())
}

/// Waits until the destination has delivered `delivered` records and has nothing left: no
/// backlog, no ack pending. (The count keeps an older snapshot from passing for the end.)
fn drained(shown: &mut Shown, config: &Path, delivered: u64, deadline: Duration) -> Value {
    wait_for_destination(
        shown,
        config,
        "soc-hec",
        "the backlog to drain",
        deadline,
        |d| d["delivered"] == delivered && d["backlog"] == 0 && d["acks_pending"] == 0,
    )
}

#[test]
fn a_twenty_second_hec_outage_while_producing_is_absorbed_by_the_spool_and_each_alert_arrives_once()
{
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let (dir, config, service) = hec_service(
        "outage",
        &[url(&emulator)],
        support::HEC_TOKEN,
        &tls.ca_file,
        "",
    );
    let mut shown = Shown::default();
    // 500 at once, then 1,000 paced over the outage (50/s: the producer keeps sending).
    let mut events = steady(1_500, 50.0);
    let during = events.split_off(500);
    let all = ids_of(&events)
        .union(&ids_of(&during))
        .cloned()
        .collect::<BTreeSet<_>>();
    assert_eq!(all.len(), 1_500);

    assert_eq!(feed_all(&dir, events).accepted, 500);
    wait_for("the first 500", Duration::from_secs(30), || {
        emulator.store().len() >= 500
    });

    let down = emulator.faults().add("hec:down".parse().unwrap()).unwrap();
    let outage_start = Instant::now();
    let socket = e2e::socket_in(&dir);
    let producer = std::thread::spawn(move || {
        let options = Options {
            pace: true,
            ..Options::default()
        };
        feed::send(
            during.into_iter(),
            &Target::Unix(socket),
            &options,
            &mut |_| {},
        )
        .unwrap()
    });

    let during_outage = wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "status to show the destination retrying with its last error",
        Duration::from_secs(15),
        |d| d["state"] == "retrying" && d["last_error"].is_string() && d["backlog"] != 0,
    );
    assert!(
        outage_start.elapsed() < OUTAGE,
        "the retrying state was seen during the outage"
    );
    let hec = destination(&during_outage, "soc-hec");
    assert!(hec["last_error_ms"].is_u64(), "{hec:#}");
    let text = shown.status_text(&config);
    assert!(text.contains("soc-hec (hec): retrying"), "{text}");
    let stored_at_outage = emulator.store().len();

    std::thread::sleep(OUTAGE.saturating_sub(outage_start.elapsed()));
    assert!(emulator.faults().remove(down));
    let tally = producer.join().unwrap();
    assert_eq!(
        tally.accepted, 1_000,
        "the spool absorbed the outage: {tally}"
    );
    assert!(
        stored_at_outage < 1_500,
        "the outage held records back ({stored_at_outage} stored)"
    );

    let status = drained(&mut shown, &config, 1_500, Duration::from_secs(30));
    let hec = destination(&status, "soc-hec");
    assert_eq!(hec["delivered"], 1_500, "{hec:#}");
    assert!(hec["retries"].as_u64().unwrap() > 0, "{hec:#}");
    let stored = counted(&stored_ids(&emulator, ReceiverKind::Hec));
    let ids: BTreeSet<String> = stored.keys().cloned().collect();
    assert_eq!(ids, all, "every alert, none lost");
    // A down listener indexes nothing, so nothing arrives twice. (The worker may still count
    // possible duplicates: a request reset on an open connection might have been indexed.)
    assert!(
        stored.values().all(|n| *n == 1),
        "each exactly once: {hec:#}"
    );

    shown.status_text(&config);
    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

#[test]
fn delayed_acks_keep_records_in_the_backlog_until_acknowledged() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    emulator
        .faults()
        .add("hec:ack-delay=1500".parse().unwrap())
        .unwrap();
    let (dir, config, service) = hec_service(
        "ack-delay",
        &[url(&emulator)],
        support::ACK_TOKEN,
        &tls.ca_file,
        "ack = true\nack_deadline = \"6s\"",
    );
    let mut shown = Shown::default();
    let events = steady(300, 1_000_000.0);
    let all = ids_of(&events);
    let sent_at = Instant::now();
    assert_eq!(feed_all(&dir, events).accepted, 300);

    wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "records indexed and awaiting their acks",
        Duration::from_secs(10),
        |d| d["acks_pending"].as_u64().unwrap_or(0) > 0 && d["backlog"] != 0,
    );
    let status = drained(&mut shown, &config, 300, Duration::from_secs(30));
    // No record was indexed before `sent_at`, and each ack reads false for 1.5 s after its
    // request: a backlog that drains earlier did not wait for the acks. (A lower bound: a
    // slow machine only makes the drain later.)
    assert!(
        sent_at.elapsed() >= Duration::from_millis(1_500),
        "the backlog drained {:?} after sending, before any ack was given",
        sent_at.elapsed()
    );
    let hec = destination(&status, "soc-hec");
    assert_eq!(hec["delivered"], 300, "{hec:#}");
    assert_eq!(hec["possible_duplicates"], 0, "{hec:#}");
    let stored = counted(&stored_ids(&emulator, ReceiverKind::Hec));
    assert_eq!(stored.keys().cloned().collect::<BTreeSet<_>>(), all);
    assert!(stored.values().all(|n| *n == 1), "each once");
    assert!(emulator.faults().list()[0].fired > 0, "the delay applied");

    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

#[test]
fn acks_never_given_are_resent_after_the_deadline_and_counted_then_acked_once_fixed() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let never = emulator
        .faults()
        .add("hec:ack=never".parse().unwrap())
        .unwrap();
    // 2 s is accepted: the validator's smallest ack_deadline is 1 s.
    let (dir, config, service) = hec_service(
        "ack-never",
        &[url(&emulator)],
        support::ACK_TOKEN,
        &tls.ca_file,
        "ack = true\nack_deadline = \"2s\"",
    );
    let mut shown = Shown::default();
    let events = steady(200, 1_000_000.0);
    let all = ids_of(&events);
    assert_eq!(feed_all(&dir, events).accepted, 200);

    wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "a resend after the ack deadline",
        Duration::from_secs(20),
        |d| d["possible_duplicates"].as_u64().unwrap_or(0) > 0,
    );
    assert!(emulator.store().len() > 200, "resent copies were indexed");
    assert!(emulator.faults().remove(never));

    let status = drained(&mut shown, &config, 200, Duration::from_secs(30));
    let hec = destination(&status, "soc-hec");
    assert_eq!(hec["delivered"], 200, "{hec:#}");
    let stored = counted(&stored_ids(&emulator, ReceiverKind::Hec));
    assert_eq!(stored.keys().cloned().collect::<BTreeSet<_>>(), all);
    let extra: u64 = stored.values().map(|n| n - 1).sum();
    let counted_dups = hec["possible_duplicates"].as_u64().unwrap();
    assert!(
        extra > 0 && extra <= counted_dups,
        "{extra} extra copies, {counted_dups} counted"
    );

    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

#[test]
fn lost_responses_are_resent_and_every_extra_copy_is_counted() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    emulator
        .faults()
        .add(
            "hec:lost-response,next=3,path=/services/collector/event"
                .parse()
                .unwrap(),
        )
        .unwrap();
    let (dir, config, service) = hec_service(
        "lost-response",
        &[url(&emulator)],
        support::ACK_TOKEN,
        &tls.ca_file,
        "ack = true\nack_deadline = \"6s\"\nbatch_max_events = 100",
    );
    let mut shown = Shown::default();
    let events = steady(1_000, 1_000_000.0);
    let all = ids_of(&events);
    assert_eq!(feed_all(&dir, events).accepted, 1_000);

    let status = wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "every record acknowledged",
        Duration::from_secs(30),
        |d| d["delivered"] == 1_000 && d["backlog"] == 0 && d["acks_pending"] == 0,
    );
    assert_eq!(emulator.faults().list()[0].fired, 3, "three responses lost");
    let hec = destination(&status, "soc-hec");
    let stored = counted(&stored_ids(&emulator, ReceiverKind::Hec));
    assert_eq!(
        stored.keys().cloned().collect::<BTreeSet<_>>(),
        all,
        "none lost"
    );
    let extra: u64 = stored.values().map(|n| n - 1).sum();
    let counted_dups = hec["possible_duplicates"].as_u64().unwrap();
    assert!(
        extra > 0,
        "a lost response after indexing leaves a duplicate"
    );
    assert!(
        extra <= counted_dups,
        "{extra} extra copies, {counted_dups} counted: {hec:#}"
    );

    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

#[test]
fn when_one_of_two_hec_urls_goes_down_the_other_takes_everything() {
    let tls = support::Tls::new();
    let first = support::start(&tls);
    let second = support::start(&tls);
    let (dir, config, service) = hec_service(
        "failover",
        &[url(&first), url(&second)],
        support::HEC_TOKEN,
        &tls.ca_file,
        "batch_max_events = 50",
    );
    let mut shown = Shown::default();
    let mut events = steady(2_000, 1_000_000.0);
    let later = events.split_off(1_000);
    let (early_ids, later_ids) = (ids_of(&events), ids_of(&later));
    assert_eq!(feed_all(&dir, events).accepted, 1_000);
    wait_for("the first 1,000", Duration::from_secs(30), || {
        first.store().len() + second.store().len() >= 1_000
    });

    // Take down the URL that was carrying traffic, then keep producing.
    let (down, up) = if first.store().len() >= second.store().len() {
        (&first, &second)
    } else {
        (&second, &first)
    };
    let used_before = down.store().len();
    assert!(used_before > 0);
    down.faults().add("hec:down".parse().unwrap()).unwrap();
    assert_eq!(feed_all(&dir, later).accepted, 1_000);

    let status = drained(&mut shown, &config, 2_000, Duration::from_secs(30));
    let hec = destination(&status, "soc-hec");
    assert_eq!(hec["delivered"], 2_000, "{hec:#}");
    let on_up = counted(&stored_ids(up, ReceiverKind::Hec));
    let on_down = counted(&stored_ids(down, ReceiverKind::Hec));
    assert!(
        later_ids.iter().all(|id| on_up.contains_key(id)),
        "every alert produced after the failure went to the URL still up"
    );
    assert!(
        later_ids.iter().all(|id| !on_down.contains_key(id)),
        "nothing reached the URL that is down"
    );
    let mut all = on_up.clone();
    for (id, n) in &on_down {
        *all.entry(id.clone()).or_insert(0) += n;
    }
    let expected: BTreeSet<String> = early_ids.union(&later_ids).cloned().collect();
    assert_eq!(
        all.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "none lost"
    );
    let extra: u64 = all.values().map(|n| n - 1).sum();
    assert!(
        extra <= hec["possible_duplicates"].as_u64().unwrap(),
        "{extra} uncounted duplicates: {hec:#}"
    );

    shown.status_text(&config);
    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

#[test]
fn rejected_credentials_park_both_kinds_and_never_show_the_password_or_token() {
    let tls = support::Tls::new();
    // An emulator that knows neither the token nor the password the forwarder sends.
    let mut emulator_config = support::config(&tls);
    emulator_config.hec.tokens.clear();
    emulator_config
        .hec
        .tokens
        .push(icsfwd_sim::splunk::hec::Token::new(
            "other",
            "0f0f0f0f-1111-2222-3333-444455556666",
        ));
    emulator_config.splunkd.users = vec![icsfwd_sim::splunk::splunkd::User::new(
        support::USER,
        "not-the-configured-password",
        true,
    )];
    let emulator = icsfwd_sim::splunk::emulator::Emulator::start(emulator_config).unwrap();
    let dir = scratch("credentials");
    let body = format!(
        "{hec}\n[[destination]]\nname = \"soc-splunkd\"\nkind = \"splunk\"\nhost = \"localhost\"\n\
         port = {port}\nauth = \"session\"\nusername = \"{user}\"\npassword = \"{password}\"\n\
         ca_file = \"{ca}\"\nretry_min = \"100ms\"\nretry_max = \"1s\"\n\n\
         [[rule]]\nname = \"all\"\nactions = [\"soc-hec\", \"soc-splunkd\"]\n\n\
         [log]\nlevel = \"debug\"\n",
        hec = hec_destination(
            "soc-hec",
            &[url(&emulator)],
            support::HEC_TOKEN,
            &tls.ca_file,
            ""
        ),
        port = emulator.splunkd_addr().port(),
        user = support::USER,
        password = support::PASSWORD,
        ca = tls.ca_file.display(),
    );
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();
    assert_eq!(feed_all(&dir, steady(20, 1_000_000.0)).accepted, 20);

    for name in ["soc-hec", "soc-splunkd"] {
        let status = wait_for_destination(
            &mut shown,
            &config,
            name,
            "the destination to be parked",
            Duration::from_secs(20),
            |d| d["state"] == "parked" && d["backlog"] == 20,
        );
        let d = destination(&status, name);
        let reason = d["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("credentials rejected"), "{d:#}");
        assert_eq!(d["delivered"], 0, "{d:#}");
    }
    let text = shown.status_text(&config);
    assert!(text.contains("credentials rejected"), "{text}");
    let log = stop_cleanly(service, &mut shown);
    assert!(log.contains("credentials rejected"), "{log}");
    assert_eq!(emulator.store().len(), 0);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}
