//! kill -9 of the real `icsfwd run` binary at random moments, against the TLS emulator's HEC.
//!
//! A producer thread sends the simulator's scenario alerts (`Scenario::Mixed`, same seed)
//! through the ingest socket one line at a time, reconnecting whenever the service is gone,
//! and records every id answered `accepted` and, for every id,
//! how many kills had happened when its line was written. The test starts the service, kills
//! it with SIGKILL after a seeded random delay, restarts it on the same spool and
//! configuration, and repeats. Most delays are 0–400 ms after the restart (a kill during
//! start-up, recovery, sends, fsyncs and HTTP requests in flight); every seventh cycle lives
//! 4.8–5.6 s, across the first checkpoint of the cursors (the housekeeper checkpoints every
//! 5 s), so kills also land around checkpoints. At the end the service runs undisturbed until
//! its backlog is 0.
//!
//! What is asserted, and why it is the whole contract:
//! - **No loss**: every id answered `accepted` is in the emulator's store. `accepted` is
//!   written only after the record is fsynced, and a cursor only moves past a record after
//!   HEC took it, so a kill at any moment leaves every accepted record either delivered or
//!   still in the spool for the next start.
//! - **Duplicates only from sends the kill interrupted**: a kill loses the in-memory
//!   counters (`possible_duplicates` of a killed process is gone), so duplicates are
//!   explained instead by the restart: the next start resumes each destination at its last
//!   *checkpoint*, and re-sends what was delivered after it. A record can only be re-sent by
//!   a restart that follows a kill that happened after the record was written. So the copies
//!   of one id in the store are at most 1 + the number of kills after its line was written;
//!   in particular an id written after the last kill arrives exactly once.
//!   Lines written but not answered (in flight at a kill) may or may not be stored; the same
//!   bound holds for them.
//!
//! The seed is printed (`ICSFWD_CRASH_SEED` replays it); `ICSFWD_CRASH_CYCLES` (default 20)
//! sets the number of kills, e.g. 1000 for the long run.
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

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use e2e::{Producer, Service, hec_ids, scratch, socket_of, wait_for_status};
use icsfwd::ingest::schema::encode_line;
use icsfwd_core::alert::Event;
use icsfwd_sim::generator::Rng;
use icsfwd_sim::scenario::{Params, Scenario};

/// What the producer saw.
#[derive(Default)]
struct Sent {
    /// Every event id written, with the number of kills done when it was written.
    written: BTreeMap<String, u64>,
    /// Event ids answered `accepted`.
    accepted: Vec<String>,
    /// Answers other than `accepted` (none expected).
    other: Vec<String>,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Sends the scenario's alerts one after another until `stop`, reconnecting while the
/// service is down.
fn produce(
    socket: std::path::PathBuf,
    seed: u64,
    kills: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sent: Arc<Mutex<Sent>>,
) {
    let params = Params {
        rate: 1_000_000.0,
        count: 10_000_000,
        seed,
        start_ms: 1_700_000_000_000,
        ..Params::default()
    };
    let mut alerts = Scenario::Mixed
        .events(&params)
        .unwrap()
        .map(|(_, event)| event)
        .filter(|event| matches!(event, Event::Alert(_)));
    let mut producer: Option<Producer> = None;
    let mut next: Option<(String, String)> = None;
    while !stop.load(Ordering::SeqCst) {
        let Some(connection) = producer.as_mut() else {
            producer = Producer::try_connect(&socket);
            if producer.is_none() {
                std::thread::sleep(Duration::from_millis(5));
            }
            continue;
        };
        let (id, line) = match next.take() {
            Some(pair) => pair,
            None => {
                let event = alerts.next().unwrap();
                (event.event_id().to_string(), encode_line(&event))
            }
        };
        {
            let mut sent = sent.lock().unwrap();
            if sent.written.contains_key(&id) {
                // The scenario repeated an event id: skip it, so copies stay attributable.
                continue;
            }
            sent.written
                .insert(id.clone(), kills.load(Ordering::SeqCst));
        }
        match connection.exchange(line.as_bytes()) {
            Some(answer) if answer["status"] == "accepted" => {
                assert_eq!(answer["id"], id.as_str());
                sent.lock().unwrap().accepted.push(id);
            }
            Some(answer) => sent.lock().unwrap().other.push(answer.to_string()),
            None => producer = None,
        }
    }
}

#[test]
fn kill_9_at_random_moments_loses_no_accepted_alert_and_duplicates_only_interrupted_sends() {
    let cycles = env_u64("ICSFWD_CRASH_CYCLES").unwrap_or(20);
    let seed = env_u64("ICSFWD_CRASH_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    println!("kill -9 test: {cycles} cycles, seed {seed} (ICSFWD_CRASH_SEED={seed} replays it)");
    let mut rng = Rng::new(seed);
    let started = Instant::now();

    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("crash");
    let config = e2e::write_hec_config(&dir, &tls, emulator.hec_addr().port(), "", "");
    let socket = socket_of(&dir);

    let kills = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Sent::default()));
    let producer = {
        let (socket, kills, stop, sent) =
            (socket.clone(), kills.clone(), stop.clone(), sent.clone());
        std::thread::spawn(move || produce(socket, seed, kills, stop, sent))
    };

    for cycle in 0..cycles {
        let service = Service::start(&config);
        let delay_ms = if cycle % 7 == 6 {
            4_800 + rng.below(800)
        } else {
            rng.below(401)
        };
        // The delay is the fault's timing (when the kill lands), not a synchronisation.
        std::thread::sleep(Duration::from_millis(delay_ms));
        // Drop kills the child with SIGKILL and reaps it.
        kills.fetch_add(1, Ordering::SeqCst);
        drop(service);
    }

    // The final run: the producer stops, the service delivers the whole backlog.
    stop.store(true, Ordering::SeqCst);
    producer.join().unwrap();
    let service = Service::start(&config);
    wait_for_status(
        "the backlog to drain after the last restart",
        &config,
        Duration::from_secs(60),
        |s| s["destinations"][0]["backlog"] == 0 && s["destinations"][0]["state"] == "idle",
    );

    let sent = sent.lock().unwrap();
    let total_kills = kills.load(Ordering::SeqCst);
    assert!(
        sent.other.is_empty(),
        "unexpected answers: {:?}",
        sent.other
    );
    assert!(
        sent.accepted.len() as u64 >= cycles,
        "the producer got alerts in: {} accepted",
        sent.accepted.len()
    );
    let stored = hec_ids(emulator.store());
    assert_eq!(
        emulator.store().dropped(),
        0,
        "the emulator kept every record"
    );
    let lost: Vec<_> = sent
        .accepted
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "accepted alerts lost (seed {seed}): {lost:?}"
    );

    let mut duplicates = 0;
    for (id, copies) in &stored {
        let written_at = *sent
            .written
            .get(id)
            .unwrap_or_else(|| panic!("{id} stored but never written"));
        let kills_after = total_kills - written_at;
        assert!(
            *copies <= 1 + kills_after,
            "{id} stored {copies} times but only {kills_after} kills followed its write (seed {seed})"
        );
        duplicates += copies - 1;
    }
    println!(
        "{} written, {} accepted, {} stored, {duplicates} duplicate copies, {total_kills} kills, {:?}",
        sent.written.len(),
        sent.accepted.len(),
        stored.len(),
        started.elapsed()
    );
    drop(service);
}
