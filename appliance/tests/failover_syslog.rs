//! Failover of a `syslog` destination with two hosts, through the real binary: two syslog
//! receivers of the simulator over TLS, the connection on one of them, that receiver stopped
//! while alerts still stream (its listener and connection closed). Every accepted alert
//! arrives (0 lost): the records the broken connection left unconfirmed are re-sent on the
//! other host and counted as possible duplicates, which bound every extra copy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "e2e_support/mod.rs"]
mod e2e;
#[path = "output_support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use e2e::{
    Shown, alerts_to, counted, destination, feed_all, ids_of, scratch, start_service, stop_cleanly,
    wait_for, wait_for_destination,
};
use icsfwd_core::alert::Event;
use icsfwd_sim::feed::{self, Options, Target};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use icsfwd_sim::splunk::store::{Body, Filter, ReceiverKind, Store};

/// `count` steady-background alerts at `rate` per second (ids `<sensor>-1..=count`).
fn steady(count: u64, rate: f64) -> Vec<(u64, Event)> {
    let params = Params {
        rate,
        count,
        seed: 25,
        ..Params::default()
    };
    Scenario::Steady.events(&params).unwrap().collect()
}

/// An emulator with a syslog receiver over TLS.
fn receiver(tls: &support::Tls) -> RunningEmulator {
    Emulator::start(EmulatorConfig {
        syslog_port: Some(0),
        ..support::config(tls)
    })
    .unwrap()
}

/// The event ids of the CEF messages `store` holds (their `externalId`).
fn cef_ids(store: &Store) -> Vec<String> {
    store
        .list(&Filter::default())
        .into_iter()
        .filter(|r| r.receiver == ReceiverKind::Syslog)
        .filter_map(|r| match r.body {
            Body::Text(text) => text
                .split(" externalId=")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .map(str::to_owned),
            Body::Json(_) => None,
        })
        .collect()
}

#[test]
fn when_the_syslog_host_in_use_stops_mid_stream_the_other_takes_over_and_none_is_lost() {
    let tls = support::Tls::new();
    let first = receiver(&tls);
    let second = receiver(&tls);
    let (first_store, second_store) = (first.store().clone(), second.store().clone());
    let dir = scratch("failover-syslog");
    let body = format!(
        "[[destination]]\nname = \"siem\"\nkind = \"syslog\"\n\
         hosts = [\"localhost:{one}\", \"localhost:{two}\"]\ntransport = \"tls\"\n\
         payload = \"cef\"\nca_file = \"{ca}\"\nretry_min = \"100ms\"\nretry_max = \"1s\"\n\n\
         {rules}",
        one = first.syslog_addr().unwrap().port(),
        two = second.syslog_addr().unwrap().port(),
        ca = tls.ca_file.display(),
        rules = alerts_to("siem"),
    );
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let mut events = steady(2_000, 300.0);
    let later = events.split_off(500);
    let expected: BTreeSet<String> = ids_of(&events).union(&ids_of(&later)).cloned().collect();
    assert_eq!(feed_all(&dir, events).accepted, 500);
    wait_for("the first 500", Duration::from_secs(60), || {
        first_store.len() + second_store.len() >= 500
    });
    // One connection carries the stream: stop the receiver it goes to.
    let (in_use, other, in_use_store, other_store) = if first_store.len() >= second_store.len() {
        (first, second, first_store, second_store)
    } else {
        (second, first, second_store, first_store)
    };
    assert_eq!(
        other_store.len(),
        0,
        "a connection stays on its host while it works"
    );

    let socket = e2e::socket_in(&dir);
    let producer = std::thread::spawn(move || {
        let options = Options {
            pace: true,
            ..Options::default()
        };
        feed::send(
            later.into_iter(),
            &Target::Unix(socket),
            &options,
            &mut |_| {},
        )
        .unwrap()
    });
    wait_for(
        "the stream to be under way",
        Duration::from_secs(60),
        || in_use_store.len() >= 700,
    );
    in_use.shutdown();
    let on_stopped = in_use_store.len();
    assert_eq!(producer.join().unwrap().accepted, 1_500);

    let status = wait_for_destination(
        &mut shown,
        &config,
        "siem",
        "the backlog to drain",
        Duration::from_secs(60),
        |d| d["delivered"] == 2_000 && d["backlog"] == 0 && d["acks_pending"] == 0,
    );
    let siem = destination(&status, "siem");
    assert_eq!(
        in_use_store.len(),
        on_stopped,
        "nothing reached the stopped host"
    );
    assert!(
        other_store.len() >= 2_000 - on_stopped,
        "the other host took the rest: {siem:#}"
    );
    let mut all = counted(&cef_ids(&in_use_store));
    for (id, n) in counted(&cef_ids(&other_store)) {
        *all.entry(id).or_insert(0) += n;
    }
    assert_eq!(
        all.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every accepted alert arrived: none lost"
    );
    let extra: u64 = all.values().map(|n| n - 1).sum();
    println!(
        "{} alerts, 0 lost, {extra} extra copies, {} counted possible duplicates, {} retries",
        expected.len(),
        siem["possible_duplicates"],
        siem["retries"]
    );
    assert!(
        extra <= siem["possible_duplicates"].as_u64().unwrap(),
        "{extra} uncounted duplicates: {siem:#}"
    );
    assert_eq!(
        siem["possible_loss"], 0,
        "tcp-ack loses nothing it confirmed: {siem:#}"
    );

    shown.status_text(&config);
    let log = stop_cleanly(service, &mut shown);
    assert!(log.contains("took over"), "the takeover is logged: {log}");
    other.shutdown();
    drop(std::fs::remove_dir_all(&dir));
}
