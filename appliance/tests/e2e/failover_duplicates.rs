//! A host that takes a request and then fails without a reply (the response lost: the
//! emulator indexes it and resets the connection), with a second host up: the sender fails
//! over within the same send and the second host takes the events too. Each such event may
//! now be held twice, and it must be counted as a possible duplicate although the send ends
//! delivered (no resend by the worker follows). For `hec` (`urls`) and `splunk` (`hosts`),
//! through the real binary.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::e2e::{
    Shown, alerts_to, counted, destination, feed_all, hec_destination, ids_of, scratch,
    start_service, stop_cleanly, stored_ids, wait_for_destination,
};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::emulator::RunningEmulator;
use icsfwd_sim::splunk::store::ReceiverKind;

const ALERTS: u64 = 200;

/// Feeds [`ALERTS`] alerts to the service of `body`, waits for them to be delivered, and
/// checks that each arrived, at `a` or `b`, and that every extra copy was counted; returns
/// (extra copies, counted possible duplicates).
fn run(
    test: &str,
    body: &str,
    name: &str,
    (a, b): (&RunningEmulator, &RunningEmulator),
) -> (u64, u64) {
    let dir = scratch(test);
    let config = crate::e2e::write_config_body(&dir, &(body.to_owned() + &alerts_to(name)));
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();
    let params = Params {
        rate: 1_000_000.0,
        count: ALERTS,
        seed: 35,
        ..Params::default()
    };
    let events: Vec<_> = Scenario::Steady.events(&params).unwrap().collect();
    let expected = ids_of(&events);
    assert_eq!(feed_all(&dir, events).accepted, ALERTS);
    let status = wait_for_destination(
        &mut shown,
        &config,
        name,
        "every alert delivered",
        Duration::from_secs(60),
        |d| d["delivered"] == ALERTS && d["backlog"] == 0,
    );
    let d = destination(&status, name);
    let receiver = if name == "soc-hec" {
        ReceiverKind::Hec
    } else {
        ReceiverKind::Simple
    };
    let mut all = counted(&stored_ids(a, receiver));
    for (id, n) in counted(&stored_ids(b, receiver)) {
        *all.entry(id).or_insert(0) += n;
    }
    assert_eq!(
        all.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "none lost: {d:#}"
    );
    let extra: u64 = all.values().map(|n| n - 1).sum();
    let counted_dups = d["possible_duplicates"].as_u64().unwrap();
    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
    (extra, counted_dups)
}

#[test]
fn events_a_failed_host_may_hold_are_counted_when_another_host_takes_them() {
    let tls = crate::support::Tls::new();
    let (a, b) = (crate::support::start(&tls), crate::support::start(&tls));
    // Every request to the first host is taken, then its reply is lost.
    for fault in ["hec:lost-response", "splunkd:lost-response"] {
        a.faults().add(fault.parse().unwrap()).unwrap();
    }

    let hec = hec_destination(
        "soc-hec",
        &[
            format!("https://localhost:{}", a.hec_addr().port()),
            format!("https://localhost:{}", b.hec_addr().port()),
        ],
        crate::support::HEC_TOKEN,
        &tls.ca_file,
        "batch_max_events = 20",
    );
    let (extra, counted_dups) = run("failover-dups-hec", &hec, "soc-hec", (&a, &b));
    println!("hec: {extra} extra copies, {counted_dups} counted");
    assert!(extra > 0, "the first URL took requests it did not answer");
    assert!(
        extra <= counted_dups,
        "{extra} copies, {counted_dups} counted"
    );

    let splunk = format!(
        "[[destination]]\nname = \"soc-splunkd\"\nkind = \"splunk\"\n\
         hosts = [\"localhost:{one}\", \"localhost:{two}\"]\nusername = \"{user}\"\n\
         password = \"{password}\"\nca_file = \"{ca}\"\nretry_min = \"100ms\"\n\
         retry_max = \"1s\"\n\n",
        one = a.splunkd_addr().port(),
        two = b.splunkd_addr().port(),
        user = crate::support::USER,
        password = crate::support::PASSWORD,
        ca = tls.ca_file.display(),
    );
    let (extra, counted_dups) = run("failover-dups-splunk", &splunk, "soc-splunkd", (&a, &b));
    println!("splunk: {extra} extra copies, {counted_dups} counted");
    assert!(extra > 0, "the first host took events it did not answer");
    assert!(
        extra <= counted_dups,
        "{extra} copies, {counted_dups} counted"
    );
}
