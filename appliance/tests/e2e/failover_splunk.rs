//! Failover of a `splunk` destination with two hosts, through the real binary: two splunkd
//! emulators, alerts spread over both, one emulator stopped while alerts still stream (its
//! listener and every connection closed). Every accepted alert arrives (0 lost), the host
//! still up takes everything after the stop, and every extra copy is counted as a possible
//! duplicate.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::e2e::{
    Shown, alerts_to, counted, destination, feed_all, ids_of, scratch, start_service, stop_cleanly,
    wait_for, wait_for_destination,
};
use icsfwd_core::alert::Event;
use icsfwd_sim::feed::{self, Options, Target};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::store::{Body, Filter, ReceiverKind, Store};

/// `count` steady-background alerts at `rate` per second (ids `<sensor>-1..=count`).
fn steady(count: u64, rate: f64) -> Vec<(u64, Event)> {
    let params = Params {
        rate,
        count,
        seed: 15,
        ..Params::default()
    };
    Scenario::Steady.events(&params).unwrap().collect()
}

/// The event ids of the classic text events `store` holds (their `Alert ID: ` line).
fn text_ids(store: &Store) -> Vec<String> {
    store
        .list(&Filter::default())
        .into_iter()
        .filter(|r| r.receiver == ReceiverKind::Simple)
        .filter_map(|r| match r.body {
            Body::Text(text) => text
                .lines()
                .find_map(|l| l.strip_prefix("Alert ID: "))
                .map(str::to_owned),
            Body::Json(_) => None,
        })
        .collect()
}

#[test]
fn when_one_of_two_splunkd_hosts_stops_mid_stream_the_other_takes_the_rest_and_none_is_lost() {
    let tls = crate::support::Tls::new();
    let first = crate::support::start(&tls);
    let second = crate::support::start(&tls);
    let (first_store, second_store) = (first.store().clone(), second.store().clone());
    let dir = scratch("failover-splunk");
    let body = format!(
        "[[destination]]\nname = \"soc-splunkd\"\nkind = \"splunk\"\n\
         hosts = [\"localhost:{one}\", \"localhost:{two}\"]\nauth = \"session\"\n\
         username = \"{user}\"\npassword = \"{password}\"\nca_file = \"{ca}\"\n\
         retry_min = \"100ms\"\nretry_max = \"1s\"\n\n{rules}",
        one = first.splunkd_addr().port(),
        two = second.splunkd_addr().port(),
        user = crate::support::USER,
        password = crate::support::PASSWORD,
        ca = tls.ca_file.display(),
        rules = alerts_to("soc-splunkd"),
    );
    let config = crate::e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let mut events = steady(1_500, 200.0);
    let later = events.split_off(500);
    let expected: BTreeSet<String> = ids_of(&events).union(&ids_of(&later)).cloned().collect();
    assert_eq!(feed_all(&dir, events).accepted, 500);
    wait_for("the first 500, spread", Duration::from_secs(60), || {
        first_store.len() + second_store.len() >= 500
    });
    assert!(
        first_store.len() >= 100 && second_store.len() >= 100,
        "each event goes to the next host in turn: {} and {}",
        first_store.len(),
        second_store.len()
    );

    // Stream the rest, paced, and stop the first host while it streams.
    let socket = crate::e2e::socket_in(&dir);
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
    let before_stop = first_store.len() + second_store.len();
    wait_for(
        "the stream to be under way",
        Duration::from_secs(60),
        || first_store.len() + second_store.len() >= before_stop + 200,
    );
    first.shutdown();
    let on_first_at_stop = first_store.len();
    assert_eq!(producer.join().unwrap().accepted, 1_000);

    let status = wait_for_destination(
        &mut shown,
        &config,
        "soc-splunkd",
        "the backlog to drain",
        Duration::from_secs(60),
        |d| d["delivered"] == 1_500 && d["backlog"] == 0,
    );
    let splunkd = destination(&status, "soc-splunkd");
    assert_eq!(
        first_store.len(),
        on_first_at_stop,
        "nothing reached the stopped host"
    );
    assert!(
        second_store.len() > 750,
        "the host still up took the rest: {splunkd:#}"
    );
    // The failover happens within the send: an event the stopped host did not take goes to
    // the other host at once, so the worker hardly ever sees a batch to retry (without it,
    // every other event would wait for the worker's backoff).
    assert!(
        splunkd["retries"].as_u64().unwrap() <= 2,
        "failed over within the send: {splunkd:#}"
    );
    let mut all = counted(&text_ids(&first_store));
    for (id, n) in counted(&text_ids(&second_store)) {
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
        splunkd["possible_duplicates"],
        splunkd["retries"]
    );
    assert!(
        extra <= splunkd["possible_duplicates"].as_u64().unwrap(),
        "{extra} uncounted duplicates: {splunkd:#}"
    );

    shown.status_text(&config);
    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    second.shutdown();
    drop(std::fs::remove_dir_all(&dir));
}
