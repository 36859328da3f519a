//! P3 and P5 of the reliability suite against the real `icsfwd run` binary and the TLS
//! emulator: a graceful stop (SIGTERM) in the middle of a backlog drain, and a long HEC outage
//! with producers pushing past the spool's quota.
//!
//! - **P3**: alerts pile up while HEC is down, then HEC comes back slow (each reply held back)
//!   and the service gets SIGTERM once part of the backlog is delivered. It must exit cleanly,
//!   the restart must resume where it stopped (its logged backlog is what was not confirmed),
//!   nothing accepted may be lost, and the only copies are of the records of the one request
//!   in flight at the stop (at most `batch_max_events`; the worker sends one request at a
//!   time): `copies - 1 ≤ batch_max_events` in total, and exactly the records the emulator
//!   indexed that the restart still had to deliver.
//! - **P5**: HEC is down for the whole outage while a producer keeps sending far more than the
//!   1 MiB quota holds. Every 100 ms the test samples the service's peak resident set
//!   (`VmHWM` in `/proc/<pid>/status`), its open file descriptors (`/proc/<pid>/fd`) and the
//!   bytes of the spool directory: peak RSS ≤ [`RSS_BOUND`], fds ≤ [`FD_BOUND`], segment bytes
//!   ≤ `max_bytes` and the whole directory ≤ `max_bytes` + [`SPOOL_SLACK`] (the checkpoint
//!   file). Producers are told "spool full" instead. After the outage every accepted alert is
//!   delivered, each once.
//!
//! Seeds are printed and replayed by `ICSFWD_P3_SEED` / `ICSFWD_P5_SEED`; `ICSFWD_P5_SECS`
//! (default 12) sets the outage, `ICSFWD_P3_ALERTS` (default 3000) the backlog.
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e::{Producer, env_or, hec_ids, scratch, socket_of, wait_for_status};
use icsfwd_sim::generator::Rng;

/// The peak resident set the service may reach during the outage.
const RSS_BOUND: u64 = 96 << 20;
/// The open file descriptors it may hold.
const FD_BOUND: u64 = 64;
/// What the spool directory may hold beyond `max_bytes`: the checkpoint (and its temp file).
const SPOOL_SLACK: u64 = 64 << 10;
/// The spool quota of P5.
const QUOTA: u64 = 1 << 20;
/// Records per HEC request.
const BATCH: u64 = 100;

const SEVERITIES: [&str; 4] = ["Warning", "Minor", "Major", "Critical"];

/// Sends alerts `ids` pipelined; returns the ids answered `accepted` and the other answers.
fn send_ids(socket: &Path, ids: impl Iterator<Item = u64>) -> (Vec<u64>, Vec<String>) {
    let mut producer = Producer::connect(socket);
    let (mut accepted, mut other) = (Vec::new(), Vec::new());
    let ids: Vec<u64> = ids.collect();
    let lines: Vec<String> = ids
        .iter()
        .map(|id| e2e::alert_line(*id, SEVERITIES[(*id % 4) as usize], "process test"))
        .collect();
    for (id, answer) in ids.iter().zip(producer.exchange_all(&lines)) {
        if answer["status"] == "accepted" {
            accepted.push(*id);
        } else {
            other.push(answer.to_string());
        }
    }
    (accepted, other)
}

fn event_id(id: u64) -> String {
    format!("sensor-plant-a-{id}")
}

#[test]
fn sigterm_during_a_backlog_drain_resumes_at_restart_with_nothing_lost_and_copies_only_of_the_request_in_flight()
 {
    let seed = e2e::seed_from_env("ICSFWD_P3_SEED", "P3 SIGTERM during drain");
    let mut rng = Rng::new(seed);
    let alerts = env_or("ICSFWD_P3_ALERTS", 3_000);
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("p3-sigterm");
    let config = e2e::write_hec_config(
        &dir,
        &tls,
        emulator.hec_addr().port(),
        "",
        "segment_bytes = \"64 KiB\"",
    );
    let socket = socket_of(&dir);
    let down = emulator.faults().add("hec:down".parse().unwrap()).unwrap();
    let service = e2e::start_service(&config, &dir);
    let (accepted, other) = send_ids(&socket, 1..=alerts);
    assert!(other.is_empty(), "{other:?}");
    assert_eq!(accepted.len() as u64, alerts);

    // HEC comes back slow: each reply held back 150–400 ms, so a request is in flight most
    // of the time; the stop comes after a seeded share of the backlog was delivered.
    let slow_ms = 150 + rng.below(251);
    let slow = emulator
        .faults()
        .add(
            format!("hec:slow={slow_ms},path=/services/collector/event")
                .parse()
                .unwrap(),
        )
        .unwrap();
    assert!(emulator.faults().remove(down));
    let threshold = BATCH + rng.below(alerts / 2);
    wait_for_status(
        "part of the backlog to be delivered",
        &config,
        Duration::from_secs(60),
        |s| s["destinations"][0]["delivered"].as_u64().unwrap_or(0) >= threshold,
    );
    service.terminate();
    let stopping = Instant::now();
    let (exit, log) = service.wait_log();
    assert!(
        exit.success(),
        "a clean exit after SIGTERM: {exit:?}\n{log:#?}"
    );
    let stop_took = stopping.elapsed();
    let stored_at_stop = emulator.store().len() as u64;
    assert!(
        stored_at_stop < alerts,
        "the stop came during the drain ({stored_at_stop} stored)"
    );
    assert!(emulator.faults().remove(slow));

    let service = e2e::start_service(&config, &dir);
    let status = wait_for_status(
        "the rest of the backlog to drain",
        &config,
        Duration::from_secs(60),
        |s| s["destinations"][0]["backlog"] == 0 && s["destinations"][0]["state"] == "idle",
    );
    let (exit, restart_log) = service.stop();
    assert!(exit.success());
    let resumed =
        e2e::logged_backlog(&restart_log, "soc-hec").expect("the restart logs its backlog");
    assert!(
        resumed > 0,
        "the restart resumed a backlog: {restart_log:#?}"
    );

    let stored = hec_ids(emulator.store());
    let lost: Vec<_> = accepted
        .iter()
        .filter(|id| !stored.contains_key(&event_id(**id)))
        .collect();
    assert!(lost.is_empty(), "lost (seed {seed}): {lost:?}");
    assert_eq!(stored.len() as u64, alerts, "nothing invented");
    let duplicates: u64 = stored.values().map(|c| c - 1).sum();
    // The restart re-read `resumed` records; of those, the ones already indexed (by the
    // request the stop interrupted) are the copies.
    assert_eq!(
        duplicates,
        stored_at_stop + resumed - alerts,
        "copies are exactly the indexed records the restart still held (seed {seed})"
    );
    assert!(
        duplicates <= BATCH,
        "at most one request in flight: {duplicates} copies (seed {seed})"
    );
    println!(
        "P3 figures: {alerts} alerts, stop after {stored_at_stop} indexed (stop took {stop_took:?}), \
         restart resumed {resumed}, 0 lost, {duplicates} duplicate copies (bound {BATCH}: one \
         request in flight), status {}, seed {seed}",
        status["destinations"][0]
    );
    drop(std::fs::remove_dir_all(&dir));
}

/// Bytes of the `.seg` files directly in `spool`.
fn segment_bytes(spool: &Path) -> u64 {
    std::fs::read_dir(spool)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".seg"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_long_outage_keeps_memory_file_descriptors_and_the_spool_within_fixed_bounds() {
    let seed = e2e::seed_from_env("ICSFWD_P5_SEED", "P5 long outage");
    let mut rng = Rng::new(seed);
    let outage = Duration::from_secs(env_or("ICSFWD_P5_SECS", 12));
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("p5-outage");
    let config = e2e::write_hec_config(
        &dir,
        &tls,
        emulator.hec_addr().port(),
        "",
        "max_bytes = \"1 MiB\"\nsegment_bytes = \"64 KiB\"",
    );
    let socket = socket_of(&dir);
    let spool = dir.join("spool");
    let down = emulator.faults().add("hec:down".parse().unwrap()).unwrap();
    let service = e2e::start_service(&config, &dir);
    let pid = service.pid();

    // The producer: chunks of a seeded size, as fast as answers come, until the outage ends.
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(Mutex::new(Vec::<u64>::new()));
    let refusals = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let producer = {
        let (stop, accepted, refusals, socket) = (
            stop.clone(),
            accepted.clone(),
            refusals.clone(),
            socket.clone(),
        );
        let chunk = 50 + rng.below(200);
        std::thread::spawn(move || {
            let mut next = 1;
            let mut refused = 0_u64;
            while !stop.load(Ordering::SeqCst) {
                let (ok, other) = send_ids(&socket, next..next + chunk);
                next += chunk;
                refused += other.len() as u64;
                accepted.lock().unwrap().extend(ok);
                let mut reasons = refusals.lock().unwrap();
                for answer in other {
                    let value: serde_json::Value = serde_json::from_str(&answer).unwrap();
                    reasons.insert(value["error"].as_str().unwrap_or(&answer).to_owned());
                }
            }
            (next - 1, refused)
        })
    };

    let started = Instant::now();
    let (mut rss_max, mut fds_max, mut segments_max, mut dir_max, mut samples) = (0, 0, 0, 0, 0);
    while started.elapsed() < outage {
        let rss = e2e::peak_rss(pid).expect("the service runs");
        let fds = e2e::open_fds(pid).expect("the service runs");
        let segments = segment_bytes(&spool);
        let total = e2e::dir_bytes(&spool);
        rss_max = rss_max.max(rss);
        fds_max = fds_max.max(fds);
        segments_max = segments_max.max(segments);
        dir_max = dir_max.max(total);
        samples += 1;
        assert!(
            rss <= RSS_BOUND,
            "peak RSS {rss} B over {RSS_BOUND} B (seed {seed})"
        );
        assert!(fds <= FD_BOUND, "{fds} open fds (seed {seed})");
        assert!(
            segments <= QUOTA,
            "segments hold {segments} B > quota {QUOTA} B (seed {seed})"
        );
        assert!(
            total <= QUOTA + SPOOL_SLACK,
            "the spool holds {total} B (seed {seed})"
        );
        // The sampling period (what is measured is the whole outage).
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    let (sent, refused) = producer.join().unwrap();
    let status = e2e::status_json(&config);
    assert!(
        status["ingest"]["refused_by_spool"].as_u64().unwrap_or(0) > 0,
        "the producers pushed past the quota: {status}"
    );
    assert!(
        segments_max > QUOTA / 2,
        "the spool filled up: {segments_max} B"
    );
    let reasons = refusals.lock().unwrap().clone();
    assert!(
        reasons.iter().all(|r| r.contains("full")),
        "refused only because the spool is full: {reasons:?}"
    );

    assert!(emulator.faults().remove(down));
    let accepted = accepted.lock().unwrap().clone();
    wait_for_status(
        "the backlog to drain after the outage",
        &config,
        Duration::from_secs(60),
        |s| {
            s["destinations"][0]["backlog"] == 0
                && s["destinations"][0]["delivered"].as_u64() == Some(accepted.len() as u64)
        },
    );
    let (exit, log) = service.stop();
    assert!(exit.success(), "{log:#?}");
    let stored = hec_ids(emulator.store());
    let lost = accepted
        .iter()
        .filter(|id| !stored.contains_key(&event_id(**id)))
        .count();
    assert_eq!(lost, 0, "accepted alerts lost (seed {seed})");
    assert_eq!(stored.len(), accepted.len(), "nothing else arrived");
    assert!(stored.values().all(|c| *c == 1), "each once");
    println!(
        "P5 figures: {:?} outage, {sent} alerts sent, {} accepted, {refused} refused (spool full), \
         0 lost, 0 duplicates; {samples} samples: peak RSS {} KiB (bound {} KiB), fds ≤ {fds_max} \
         (bound {FD_BOUND}), segments ≤ {segments_max} B and spool dir ≤ {dir_max} B (quota \
         {QUOTA} B), seed {seed}",
        outage,
        accepted.len(),
        rss_max >> 10,
        RSS_BOUND >> 10
    );
    drop(std::fs::remove_dir_all(&dir));
}

/// S8/S7 for the running service: a segment write fails (here the file-size limit makes the
/// kernel refuse it with EFBIG, as a full disk refuses with ENOSPC). No line after the failure
/// is answered `accepted`; the service logs why and exits 75 (`EX_TEMPFAIL`) so that systemd's
/// `Restart=always` starts it again; the restart recovers the spool (the torn tail is cut),
/// delivers every accepted alert and accepts new ones.
#[test]
fn a_failed_spool_write_stops_the_service_with_exit_75_and_the_restart_delivers_every_accepted_alert()
 {
    const LIMIT: u64 = 256 * 1024;
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("p-spool-failed");
    let config = e2e::write_hec_config(
        &dir,
        &tls,
        emulator.hec_addr().port(),
        "",
        "segment_bytes = \"4 MiB\"",
    );
    let socket = socket_of(&dir);
    // The ignored SIGXFSZ is inherited through exec: the write fails instead of killing.
    let mut limited = std::process::Command::new("sh");
    limited.args([
        "-c",
        "trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$1\" run -c \"$2\"",
        &LIMIT.to_string(),
        env!("CARGO_BIN_EXE_icsfwd"),
        config.to_str().unwrap(),
    ]);
    let mut service = e2e::Service::start_command(limited);
    e2e::wait_for("the ingest socket", Duration::from_secs(30), || {
        socket.exists()
    });

    // Pipelined chunks until the spool refuses (or the service goes away).
    let mut producer = Producer::connect(&socket);
    let (mut accepted, mut refusals, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    let mut next = 1u64;
    'send: while next < 100_000 {
        let ids: Vec<u64> = (next..next + 64).collect();
        next += 64;
        let mut bytes = Vec::new();
        for id in &ids {
            bytes.extend_from_slice(e2e::alert_line(*id, "major", "spool failure").as_bytes());
            bytes.push(b'\n');
        }
        if !producer.write(&bytes) {
            break;
        }
        for id in ids {
            match producer.answer() {
                Some(answer) if answer["status"] == "accepted" => {
                    assert!(refusals.is_empty(), "{id} accepted after a refusal");
                    accepted.push(id);
                }
                Some(answer) => {
                    refusals.push(answer.to_string());
                    refused.push(id);
                }
                None => break 'send,
            }
        }
        if !refusals.is_empty() {
            break;
        }
    }
    assert!(
        !accepted.is_empty(),
        "the spool took alerts before the limit"
    );
    assert!(
        refusals.iter().all(|r| r.contains("spool failed")),
        "{refusals:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = service.exited() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the service did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (_, log) = service.wait_log();
    assert_eq!(exit.code(), Some(75), "{log:#?}");
    assert!(
        log.iter()
            .any(|l| l.contains("stopping so that the service manager restarts icsfwd")),
        "{log:#?}"
    );

    // The restart (no limit: "the disk has space again").
    let service = e2e::start_service(&config, &dir);
    let want: BTreeSet<String> = accepted.iter().map(|id| event_id(*id)).collect();
    e2e::wait_for(
        "every accepted alert delivered",
        Duration::from_secs(60),
        || {
            let stored: BTreeSet<String> = hec_ids(emulator.store()).into_keys().collect();
            want.is_subset(&stored)
        },
    );
    let stored = hec_ids(emulator.store());
    for id in stored.keys() {
        let n: u64 = id.rsplit('-').next().unwrap().parse().unwrap_or(0);
        assert!(
            !refused.contains(&n),
            "{id} was refused (accepted {}..={}, refused {:?}) but delivered",
            accepted[0],
            accepted[accepted.len() - 1],
            (refused.first(), refused.last())
        );
    }
    let (again, other) = send_ids(&socket, 200_001..=200_010);
    assert_eq!(again.len(), 10, "{other:?}");
    e2e::wait_for("the new alerts delivered", Duration::from_secs(30), || {
        let stored = hec_ids(emulator.store());
        (200_001..=200_010).all(|id| stored.contains_key(&event_id(id)))
    });
    let (exit, log) = service.stop();
    assert!(exit.success(), "{log:#?}");
    drop(std::fs::remove_dir_all(&dir));
}
