//! A full spool, through the real `icsfwd run` binary, in both `on_full` modes: a tiny
//! `max_bytes` (the 1 MiB minimum, 64 KiB segments) and HEC `down`, so nothing drains.
//!
//! - `refuse`: once full, lines are refused with "spool full, retry after N s" and nothing is
//!   stored for them; after the fault is removed and the backlog drains, new lines are
//!   accepted again and every accepted alert arrived, once.
//! - `evict-lower-severity`: a critical alert arriving when full evicts the oldest queued
//!   alerts of strictly lower severity and is accepted; a warning arriving when only equal or
//!   lower severities remain is refused; after the fault is removed HEC holds exactly the
//!   accepted alerts that were not evicted, and `icsfwd status --json` counts the evictions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use e2e::{
    Producer, Service, alert_line, hec_ids, scratch, socket_of, wait_for, wait_for_status,
    write_hec_config,
};
use icsfwd_sim::splunk::emulator::RunningEmulator;
use serde_json::Value;

const SPOOL: &str = "max_bytes = \"1 MiB\"\nsegment_bytes = \"64 KiB\"";

/// Whether `answer` is the spool-full refusal, "spool full, retry after N s".
fn is_spool_full(answer: &Value) -> bool {
    answer["status"] == "refused"
        && answer["error"].as_str().is_some_and(|e| {
            e.strip_prefix("spool full, retry after ")
                .and_then(|rest| rest.strip_suffix(" s"))
                .is_some_and(|n| n.parse::<u64>().is_ok())
        })
}

/// An alert line at least as long as every line `fill` sends (the refused one included), so
/// it cannot fit in the space a refused line left.
fn filler(id: u64, severity: &str) -> String {
    alert_line(id, severity, &format!("Filler {id} {}", "x".repeat(150)))
}

/// Sends `severity` alerts from id `first` in pipelined chunks until one is refused as full;
/// returns the accepted ids, the first refused id and how many lines were refused (the rest
/// of its chunk is refused too: once full, a line of the same size never fits).
fn fill(producer: &mut Producer, first: u64, severity: &str) -> (Vec<u64>, u64, u64) {
    let mut accepted = Vec::new();
    let mut id = first;
    loop {
        assert!(id - first < 50_000, "the 1 MiB spool never filled");
        let lines: Vec<String> = (id..id + 100)
            .map(|i| alert_line(i, severity, &format!("Filler {i} {}", "x".repeat(100))))
            .collect();
        let answers = producer.exchange_all(&lines);
        for (i, answer) in (id..).zip(&answers) {
            if answer["status"] == "accepted" {
                assert!(
                    accepted.len() as u64 == i - first,
                    "accepted after a refusal: {answer}"
                );
                accepted.push(i);
            } else {
                let refused = answers.iter().skip((i - id) as usize);
                for answer in refused.clone() {
                    assert!(is_spool_full(answer), "alert {i} and after: {answer}");
                }
                return (accepted, i, refused.count() as u64);
            }
        }
        id += 100;
    }
}

/// Removes every fault and waits until the backlog of `soc-hec` is 0.
fn heal_and_drain(emulator: &RunningEmulator, config: &Path, fault: u64) {
    assert!(emulator.faults().remove(fault));
    wait_for_status(
        "the backlog to drain",
        config,
        Duration::from_secs(30),
        |s| s["destinations"][0]["backlog"] == 0 && s["destinations"][0]["state"] != "retrying",
    );
}

fn expect_ids(emulator: &RunningEmulator, ids: &BTreeSet<u64>) {
    let expected: BTreeSet<String> = ids.iter().map(|i| format!("sensor-plant-a-{i}")).collect();
    wait_for(
        "HEC to hold every expected id",
        Duration::from_secs(30),
        || hec_ids(emulator.store()).len() >= expected.len(),
    );
    let held = hec_ids(emulator.store());
    let held_ids: BTreeSet<String> = held.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&held_ids).collect();
    let extra: Vec<_> = held_ids.difference(&expected).collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    assert!(extra.is_empty(), "stored but not expected: {extra:?}");
    assert!(held.values().all(|&n| n == 1), "each once");
}

#[test]
fn refuse_mode_refuses_when_full_and_accepts_again_after_draining_without_loss() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let down = emulator.faults().add("hec:down".parse().unwrap()).unwrap();
    let dir = scratch("spool-full-refuse");
    let spool = format!("{SPOOL}\non_full = \"refuse\"");
    let config = write_hec_config(&dir, &tls, emulator.hec_addr().port(), "", &spool);
    let service = Service::start(&config);
    let mut producer = Producer::connect(&socket_of(&dir));

    let (mut accepted, refused_id, refused) = fill(&mut producer, 1, "Critical");
    assert!(accepted.len() > 100, "{} accepted", accepted.len());
    // Still full: every further line is refused, for every severity.
    for (i, severity) in ["Warning", "Critical", "Major"].iter().enumerate() {
        let answer = producer
            .exchange(filler(refused_id + 1_000 + i as u64, severity).as_bytes())
            .unwrap();
        assert!(is_spool_full(&answer), "{answer}");
    }
    let status = wait_for_status(
        "status to count the refusals",
        &config,
        Duration::from_secs(10),
        |s| s["ingest"]["refused_by_spool"] == refused + 3,
    );
    assert_eq!(status["spool"]["evicted"], 0, "{status}");

    heal_and_drain(&emulator, &config, down);
    // Space comes back once the delivered segments are checkpointed away.
    let mut next = 100_000;
    wait_for(
        "a new line to be accepted again",
        Duration::from_secs(30),
        || {
            let answer = producer
                .exchange(alert_line(next, "Warning", "After the drain").as_bytes())
                .unwrap();
            if answer["status"] == "accepted" {
                accepted.push(next);
                true
            } else {
                assert!(is_spool_full(&answer), "{answer}");
                next += 1;
                false
            }
        },
    );
    expect_ids(&emulator, &accepted.into_iter().collect());
    drop(service);
}

#[test]
fn evict_mode_evicts_the_oldest_lower_severity_alert_for_a_critical_and_refuses_a_warning() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let down = emulator.faults().add("hec:down".parse().unwrap()).unwrap();
    let dir = scratch("spool-full-evict");
    let spool = format!("{SPOOL}\non_full = \"evict-lower-severity\"");
    let config = write_hec_config(&dir, &tls, emulator.hec_addr().port(), "", &spool);
    let service = Service::start(&config);
    let mut producer = Producer::connect(&socket_of(&dir));

    // Full of warnings: a warning finds nothing strictly lower to evict and is refused.
    let (warnings, refused_id, _) = fill(&mut producer, 1, "Warning");
    assert!(warnings.len() > 100, "{} accepted", warnings.len());

    // A critical evicts the oldest warning(s) and is accepted.
    let critical = refused_id + 1_000;
    let answer = producer
        .exchange(filler(critical, "Critical").as_bytes())
        .unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    let status = wait_for_status(
        "status to count the eviction",
        &config,
        Duration::from_secs(10),
        |s| s["spool"]["evicted"].as_u64().unwrap_or(0) >= 1,
    );
    let evicted = status["spool"]["evicted"].as_u64().unwrap();
    assert!(
        evicted < 10,
        "a few small warnings make room for one alert: {status}"
    );

    // Only equal or lower severities (and the critical) remain: a warning is refused.
    let answer = producer
        .exchange(filler(critical + 1, "Warning").as_bytes())
        .unwrap();
    assert!(is_spool_full(&answer), "{answer}");
    let status = e2e::status_json(&config);
    assert_eq!(
        status["spool"]["evicted"], evicted,
        "a refusal evicts nothing"
    );

    heal_and_drain(&emulator, &config, down);
    // The oldest `evicted` warnings are gone; every other accepted alert arrived, once.
    let expected: BTreeSet<u64> = warnings
        .iter()
        .copied()
        .skip(usize::try_from(evicted).unwrap())
        .chain([critical])
        .collect();
    expect_ids(&emulator, &expected);
    drop(service);
}
