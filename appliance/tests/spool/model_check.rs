//! Reliability S1: random append / peek / ack / checkpoint (segment GC) / reopen / crash
//! sequences against a `VecDeque` model, on the in-memory storage so that 100,000 cases fit in
//! a CI run (`spool/model.rs` keeps the proptest model on the real file system).
//!
//! Checked after every step: what `peek` returns (sequence numbers and events), `ack` counts,
//! per-destination backlogs, `next_seq`, live bytes == segment data bytes on disk (a
//! reused segment file's frames of its earlier use are not data), and after a
//! checkpoint that the oldest segment left is still needed (segment GC is complete).
//!
//! Seeded: the seed is printed, `ICSFWD_SEED=<n>` replays it; `ICSFWD_CASES=<n>` or
//! `ICSFWD_RELIABILITY_LONG=1` (10,000,000 cases) runs more.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::collections::VecDeque;

use icsfwd::testing::spool::{Spool, SpoolConfig};
use icsfwd_core::alert::{Event, Severity};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::record::{self, Decoder};
use spool_support::oracle::{event_id, open_sim};
use spool_support::rng::{Rng, cases, long, seed};
use spool_support::sim::SimStorage;
use spool_support::{alert, dest, notification};

const NDEST: usize = 3;

#[derive(Debug, Clone)]
enum Step {
    Append(Vec<(usize, u32, bool)>),
    Peek(u8, usize),
    Ack(u8, usize),
    Checkpoint,
    Reopen,
    /// A power cut that loses every unsynced write (there must be none that matters).
    Crash,
}

fn step(rng: &mut Rng) -> Step {
    match rng.below(16) {
        0..=5 => Step::Append(
            (0..1 + rng.index(4))
                .map(|_| (rng.index(4), (rng.below(7) + 1) as u32, rng.chance(1, 10)))
                .collect(),
        ),
        6..=8 => Step::Peek(rng.below(NDEST as u64) as u8, rng.index(6)),
        9..=11 => Step::Ack(rng.below(NDEST as u64) as u8, 1 + rng.index(4)),
        12..=13 => Step::Checkpoint,
        14 => Step::Reopen,
        _ => Step::Crash,
    }
}

/// The model: every accepted record, and per destination the queue of records it has not
/// acknowledged (in memory), and the cursor the last checkpoint made durable.
#[derive(Debug, Default)]
struct Model {
    records: Vec<(u64, DestinationSet, Event)>,
    queues: [VecDeque<u64>; NDEST],
    acked: [u64; NDEST],
    durable: [u64; NDEST],
    next_seq: u64,
}

impl Model {
    /// After a reopen at `acked`: the queues are the records past it.
    fn resume_at(&mut self, acked: [u64; NDEST]) {
        self.acked = acked;
        for d in 0..NDEST {
            self.queues[d] = self
                .records
                .iter()
                .filter(|(seq, dests, _)| dests.contains(dest(d as u8)) && *seq > self.acked[d])
                .map(|(seq, _, _)| *seq)
                .collect();
        }
    }

    fn event(&self, seq: u64) -> &Event {
        &self
            .records
            .iter()
            .find(|(s, _, _)| *s == seq)
            .expect("model record")
            .2
    }
}

fn config() -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 250,
        ..SpoolConfig::default()
    }
}

fn check_invariants(spool: &Spool<SimStorage>, model: &Model) -> Result<(), String> {
    let stats = spool.stats();
    for d in 0..NDEST {
        if stats.destinations[d].backlog != model.queues[d].len() as u64 {
            return Err(format!(
                "backlog of {d}: {} != model {}",
                stats.destinations[d].backlog,
                model.queues[d].len()
            ));
        }
        if stats.destinations[d].acked_seq != model.acked[d] {
            return Err(format!("cursor of {d}"));
        }
    }
    if spool.next_seq() != model.next_seq {
        return Err(format!(
            "next_seq {} != model {}",
            spool.next_seq(),
            model.next_seq
        ));
    }
    let on_disk: u64 = spool.storage().with(|disk| {
        disk.dir
            .iter()
            .filter(|(n, _)| n.ends_with(".seg"))
            .map(|(name, &i)| data_len(name, &disk.inodes[i].data))
            .sum()
    });
    if stats.live_bytes != on_disk || stats.disk_bytes != on_disk {
        return Err(format!(
            "live {} / disk {} bytes != {on_disk} on disk",
            stats.live_bytes, stats.disk_bytes
        ));
    }
    Ok(())
}

/// The data of segment file `name`: up to its last record before the first frame whose
/// sequence number is below the segment's name (the earlier use of a reused file,
/// `docs/spool.md`, "Spare segment files"); written here from the rule, not from the spool's
/// scan.
fn data_len(name: &str, bytes: &[u8]) -> u64 {
    let first: u64 = name.trim_end_matches(".seg").parse().unwrap();
    let (mut start, mut end) = (0, 0);
    for (i, &b) in bytes.iter().enumerate() {
        if b != 0 {
            continue;
        }
        let frame = &bytes[start..=i];
        start = i + 1;
        match record::decode_frame(frame) {
            Ok(r) if r.seq < first => break,
            Ok(_) => end = i + 1,
            Err(_) => {}
        }
    }
    end as u64
}

/// After a checkpoint: when more than one segment is left, the oldest holds a record some
/// destination still needs (GC removed every segment it could).
fn check_gc(spool: &Spool<SimStorage>, model: &Model) -> Result<(), String> {
    let oldest: Option<Vec<u8>> = spool.storage().with(|disk| {
        let mut segments = disk.dir.iter().filter(|(n, _)| n.ends_with(".seg"));
        let first = segments.next().map(|(_, &i)| disk.inodes[i].data.clone());
        segments.next().and(first)
    });
    let Some(oldest) = oldest else {
        return Ok(());
    };
    let needed = Decoder::new()
        .feed(&oldest)
        .filter_map(Result::ok)
        .any(|r| {
            r.destinations
                .iter()
                .any(|d| r.seq > model.acked[usize::from(d.get())])
        });
    if needed {
        Ok(())
    } else {
        Err("checkpoint left a fully delivered segment behind".into())
    }
}

fn run_case(rng: &mut Rng, steps: usize) -> Result<(), String> {
    let storage = SimStorage::default();
    let (mut spool, _) = open_sim(storage.clone(), config(), NDEST).map_err(|e| e.to_string())?;
    let mut model = Model {
        next_seq: 1,
        ..Model::default()
    };
    let mut next_id = 1;
    let mut trace = Vec::new();
    for _ in 0..steps {
        let step = step(rng);
        trace.push(step.clone());
        let outcome = (|spool: &mut Spool<SimStorage>| -> Result<(), String> {
            match &step {
                Step::Append(batch) => {
                    let events: Vec<(Event, DestinationSet)> = batch
                        .iter()
                        .map(|&(sev, bits, is_notification)| {
                            next_id += 1;
                            let event = if is_notification {
                                notification(
                                    next_id,
                                    icsfwd_core::alert::NotificationKind::SensorOffline,
                                )
                            } else {
                                alert(next_id, Severity::ALL[sev])
                            };
                            (event, DestinationSet::from_bits(bits))
                        })
                        .collect();
                    let results = spool.append_batch(&events).map_err(|e| e.to_string())?;
                    for ((event, dests), result) in events.into_iter().zip(results) {
                        let seq = result.map_err(|e| e.to_string())?;
                        if seq != model.next_seq {
                            return Err(format!("seq {seq}, model {}", model.next_seq));
                        }
                        model.next_seq += 1;
                        for d in dests.iter() {
                            model.queues[usize::from(d.get())].push_back(seq);
                        }
                        model.records.push((seq, dests, event));
                    }
                }
                Step::Peek(d, max) => {
                    let got = spool.peek(dest(*d), *max).map_err(|e| e.to_string())?;
                    let want: Vec<u64> = model.queues[usize::from(*d)]
                        .iter()
                        .take(*max)
                        .copied()
                        .collect();
                    let got_seqs: Vec<u64> = got.iter().map(|r| r.seq).collect();
                    if got_seqs != want {
                        return Err(format!("peek {d}: {got_seqs:?}, model {want:?}"));
                    }
                    for r in &got {
                        if &r.event != model.event(r.seq) {
                            return Err(format!("record {} differs", r.seq));
                        }
                    }
                }
                Step::Ack(d, n) => {
                    let queue = &mut model.queues[usize::from(*d)];
                    let n = (*n).min(queue.len());
                    if n > 0 {
                        let upto = queue[n - 1];
                        let acked = spool.ack(dest(*d), upto).map_err(|e| e.to_string())?;
                        if acked != n as u64 {
                            return Err(format!("ack counted {acked}, model {n}"));
                        }
                        queue.drain(..n);
                        model.acked[usize::from(*d)] = upto;
                    }
                }
                Step::Checkpoint => {
                    spool.checkpoint().map_err(|e| e.to_string())?;
                    model.durable = model.acked;
                    check_gc(spool, &model)?;
                }
                Step::Reopen | Step::Crash => {
                    let disk = spool.storage().with(|d| d.clone());
                    let files = if matches!(step, Step::Crash) {
                        disk.durable_only()
                    } else {
                        disk.files()
                    };
                    let (reopened, recovery) =
                        open_sim(SimStorage::with_files(&files), config(), NDEST)
                            .map_err(|e| e.to_string())?;
                    if !recovery.torn.is_empty() || !recovery.corrupt.is_empty() {
                        return Err(format!("damage found: {recovery:?}"));
                    }
                    // A restart keeps every acknowledgement (the progress log survives in the
                    // page cache); a power cut keeps at least the durable checkpoint and at
                    // most what was acknowledged (a progress log made durable at an earlier
                    // open may carry the cursor past the checkpoint).
                    let stats = reopened.stats();
                    let resumed: [u64; NDEST] =
                        std::array::from_fn(|d| stats.destinations[d].acked_seq);
                    for (d, &at) in resumed.iter().enumerate() {
                        let (durable, acked) = (model.durable[d], model.acked[d]);
                        let ok = if matches!(step, Step::Crash) {
                            (durable..=acked).contains(&at)
                        } else {
                            at == acked
                        };
                        if !ok {
                            return Err(format!(
                                "{step:?}: destination {d} resumed at {at}, durable {durable}, \
                                 acked {acked}"
                            ));
                        }
                    }
                    *spool = reopened;
                    model.resume_at(resumed);
                }
            }
            check_invariants(spool, &model)
        })(&mut spool);
        if let Err(e) = outcome {
            return Err(format!("{e}\nsteps: {trace:?}"));
        }
    }
    // Every record delivered is one the model holds, by id too.
    for d in 0..NDEST as u8 {
        for r in spool.peek(dest(d), usize::MAX).map_err(|e| e.to_string())? {
            if event_id(&r.event) != event_id(model.event(r.seq)) {
                return Err(format!("record {} has the wrong id", r.seq));
            }
        }
    }
    Ok(())
}

/// Runs `n` cases from `seed`, panicking with the seed and case on the first divergence.
fn run_cases(label: &str, seed: u64, n: u64) {
    let mut rng = Rng::new(seed);
    // Short sequences in CI (100,000 of them fit in ~35 s of debug build on one core); the
    // long run also explores long ones.
    let max_steps = if long() { 40 } else { 8 };
    let mut steps_total = 0;
    for case in 0..n {
        let mut case_rng = rng.fork();
        let steps = 1 + case_rng.index(max_steps);
        steps_total += steps;
        if let Err(e) = run_case(&mut case_rng, steps) {
            panic!("{label}: seed {seed}, case {case}: {e}");
        }
    }
    eprintln!("{label}: {n} cases, {steps_total} steps, 0 divergences");
}

// Two halves of the 100,000 cases, so the test harness runs them on two cores.

#[test]
fn s1_spool_matches_a_vecdeque_model_first_half_of_100k_random_sequences() {
    let seed = seed("s1a");
    run_cases("s1a", seed, cases(100_000, 10_000_000).div_ceil(2));
}

#[test]
fn s1_spool_matches_a_vecdeque_model_second_half_of_100k_random_sequences() {
    let seed = seed("s1b");
    run_cases("s1b", seed, cases(100_000, 10_000_000) / 2);
}
