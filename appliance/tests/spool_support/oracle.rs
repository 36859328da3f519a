//! Workloads run against a [`SimStorage`] spool, the oracle they leave, and the check of a
//! recovered disk image against it ("nothing accepted is lost, nothing corrupt delivered").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use icsfwd::testing::spool::{AppendError, CheckpointState, Spool, SpoolConfig, SpoolError};
use icsfwd_core::alert::{Event, Severity};
use icsfwd_core::destination::DestinationSet;

use super::rng::Rng;
use super::sim::SimStorage;
use super::{alert, dest, names};

/// The spool directory inside the simulated disk (the storage ignores it).
pub const DIR: &str = "/sim/spool";

/// The stable id of an event.
pub fn event_id(event: &Event) -> u64 {
    match event {
        Event::Alert(a) => a.id,
        Event::Notification(n) => n.id,
    }
}

/// One step of a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A batch: (severity index, destination bits) per event.
    Append(Vec<(usize, u32)>),
    /// Peek up to `n` records of destination `d` and acknowledge them.
    Deliver(u8, usize),
    /// Checkpoint (persist cursors, remove passed segments).
    Checkpoint,
}

/// A random workload of `steps` steps over `ndest` destinations.
pub fn random_workload(rng: &mut Rng, steps: usize, ndest: u8) -> Vec<Step> {
    let mask = (1u32 << ndest) - 1;
    (0..steps)
        .map(|_| match rng.below(10) {
            0..=4 => Step::Append(
                (0..1 + rng.index(4))
                    .map(|_| {
                        let bits = (rng.next() as u32 & mask).max(1);
                        (rng.index(4), bits)
                    })
                    .collect(),
            ),
            5..=7 => Step::Deliver(rng.below(u64::from(ndest)) as u8, 1 + rng.index(5)),
            _ => Step::Checkpoint,
        })
        .collect()
}

/// What a workload did, as the producers and destinations saw it.
#[derive(Debug, Clone, Default)]
pub struct Oracle {
    /// Every event submitted, by id (accepted or not).
    pub events: BTreeMap<u64, (Event, DestinationSet)>,
    /// Accepted records: seq → id (append returned `Ok(seq)`).
    pub accepted: BTreeMap<u64, u64>,
    /// Per destination, the cursor acknowledged in memory.
    pub acked_mem: Vec<u64>,
    /// Per destination, the cursor of the last checkpoint that returned `Ok`.
    pub acked_durable: Vec<u64>,
    /// The first error, if the workload was stopped by one.
    pub error: Option<String>,
    /// Violations seen while running (e.g. an append accepted after a failure).
    pub violations: Vec<String>,
    /// Next event id.
    pub next_id: u64,
    /// Whether some append failed (the spool must then be fail-stop).
    pub append_failed: bool,
}

impl Oracle {
    /// An oracle for `ndest` destinations.
    pub fn new(ndest: usize) -> Oracle {
        Oracle {
            acked_mem: vec![0; ndest],
            acked_durable: vec![0; ndest],
            next_id: 1,
            ..Oracle::default()
        }
    }

    /// Accepted records for destination `d` with seq above `cursor`.
    pub fn expected(&self, d: u8, cursor: u64) -> Vec<(u64, u64)> {
        self.accepted
            .range(cursor + 1..)
            .filter(|(_, id)| self.events[id].1.contains(dest(d)))
            .map(|(&seq, &id)| (seq, id))
            .collect()
    }
}

/// A small spool configuration: tiny segments so rotation and removal happen often.
pub fn small_config() -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 300,
        ..SpoolConfig::default()
    }
}

/// Opens a spool on `storage`.
pub fn open_sim(
    storage: SimStorage,
    config: SpoolConfig,
    ndest: usize,
) -> Result<(Spool<SimStorage>, icsfwd::testing::spool::Recovery), icsfwd::testing::spool::OpenError>
{
    Spool::open(storage, Path::new(DIR), config, &names(ndest))
}

/// Runs `steps` on a spool over `storage`. With `keep_going`, a failed append does not stop
/// the run: later appends must then be refused (fail-stop), while delivery and checkpoints
/// go on; any other error stops the run.
pub fn run(
    storage: SimStorage,
    config: SpoolConfig,
    ndest: usize,
    steps: &[Step],
    keep_going: bool,
) -> Oracle {
    let mut oracle = Oracle::new(ndest);
    let mut spool = match open_sim(storage, config, ndest) {
        Ok((spool, _)) => spool,
        Err(e) => {
            oracle.error = Some(format!("open: {e}"));
            return oracle;
        }
    };
    for step in steps {
        match step {
            Step::Append(batch) => {
                let events: Vec<(Event, DestinationSet)> = batch
                    .iter()
                    .map(|&(severity, bits)| {
                        let id = oracle.next_id;
                        oracle.next_id += 1;
                        let event = alert(id, Severity::ALL[severity]);
                        let dests = DestinationSet::from_bits(bits);
                        oracle.events.insert(id, (event.clone(), dests));
                        (event, dests)
                    })
                    .collect();
                match spool.append_batch(&events) {
                    Ok(results) => {
                        if oracle.append_failed {
                            oracle
                                .violations
                                .push("an append succeeded after a failed one".into());
                        }
                        for ((event, _), result) in events.iter().zip(results) {
                            match result {
                                Ok(seq) => {
                                    oracle.accepted.insert(seq, event_id(event));
                                }
                                Err(AppendError::Full { .. }) => {}
                                Err(e) => oracle.violations.push(format!("append refused: {e}")),
                            }
                        }
                    }
                    Err(e) => {
                        if oracle.append_failed && !matches!(e, SpoolError::Failed) {
                            oracle
                                .violations
                                .push(format!("after a failure, append gave {e}, not Failed"));
                        }
                        if !spool.is_failed() {
                            oracle
                                .violations
                                .push(format!("append failed ({e}) but the spool is not failed"));
                        }
                        oracle.append_failed = true;
                        oracle.error.get_or_insert_with(|| format!("append: {e}"));
                        if !keep_going {
                            return oracle;
                        }
                    }
                }
            }
            Step::Deliver(d, n) => {
                let d = *d;
                if usize::from(d) >= ndest {
                    continue;
                }
                let records = match spool.peek(dest(d), *n) {
                    Ok(records) => records,
                    Err(e) => {
                        oracle.error.get_or_insert_with(|| format!("peek: {e}"));
                        return oracle;
                    }
                };
                if let Some(last) = records.last() {
                    if let Err(e) = spool.ack(dest(d), last.seq) {
                        oracle.error.get_or_insert_with(|| format!("ack: {e}"));
                        return oracle;
                    }
                    oracle.acked_mem[usize::from(d)] = last.seq;
                }
            }
            Step::Checkpoint => {
                let snapshot = oracle.acked_mem.clone();
                match spool.checkpoint() {
                    Ok(_) => oracle.acked_durable = snapshot,
                    Err(e) => {
                        oracle
                            .error
                            .get_or_insert_with(|| format!("checkpoint: {e}"));
                        if !keep_going {
                            return oracle;
                        }
                    }
                }
            }
        }
    }
    oracle
}

/// What the check of one recovered image found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Accepted records that had to be delivered and were checked.
    pub records: u64,
    /// Accepted records missing.
    pub lost: u64,
    /// Records delivered that do not match what was submitted (or were never submitted).
    pub corrupt_delivered: u64,
    /// Records delivered twice to one destination.
    pub duplicates: u64,
    /// Torn tails and corrupt frames recovery counted.
    pub damaged_frames: u64,
}

impl Verdict {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: Verdict) {
        self.records += other.records;
        self.lost += other.lost;
        self.corrupt_delivered += other.corrupt_delivered;
        self.duplicates += other.duplicates;
        self.damaged_frames += other.damaged_frames;
    }

    /// Whether nothing was lost, corrupted or duplicated.
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.corrupt_delivered == 0 && self.duplicates == 0
    }
}

/// Opens a spool on `files` (as a restart after the crash would), checks every destination
/// against `oracle`, then proves the spool is live: every destination drains, a new record
/// is accepted, a checkpoint removes every fully delivered segment (orphans included) and a
/// second reopen sees the new record. `Err` describes the first violation.
pub fn check(
    files: &BTreeMap<String, Vec<u8>>,
    config: SpoolConfig,
    ndest: usize,
    oracle: &Oracle,
) -> Result<Verdict, String> {
    let storage = SimStorage::with_files(files);
    let (mut spool, recovery) =
        open_sim(storage.clone(), config, ndest).map_err(|e| format!("reopen failed: {e}"))?;
    if let CheckpointState::Damaged(why) = &recovery.checkpoint {
        return Err(format!("checkpoint damaged by a crash: {why}"));
    }
    let mut verdict = Verdict {
        damaged_frames: (recovery.torn.len() + recovery.corrupt.len()) as u64,
        ..Verdict::default()
    };
    let mut max_seq = 0;
    for d in 0..ndest as u8 {
        let cursor = recovery.destinations[usize::from(d)].acked;
        let (low, high) = (
            oracle.acked_durable[usize::from(d)],
            oracle.acked_mem[usize::from(d)],
        );
        if cursor < low || cursor > high.max(low) {
            return Err(format!(
                "destination {d}: cursor {cursor} outside [{low}, {high}] (durable, in memory)"
            ));
        }
        let records = spool
            .peek(dest(d), usize::MAX)
            .map_err(|e| format!("peek {d}: {e}"))?;
        let mut seen = BTreeSet::new();
        let mut delivered = BTreeMap::new();
        let mut last = cursor;
        for record in &records {
            if record.seq <= last {
                return Err(format!("destination {d}: seq {} after {last}", record.seq));
            }
            last = record.seq;
            max_seq = max_seq.max(record.seq);
            let id = event_id(&record.event);
            match oracle.events.get(&id) {
                Some((event, dests)) if *event == record.event && *dests == record.destinations => {
                }
                _ => verdict.corrupt_delivered += 1,
            }
            if oracle.accepted.get(&record.seq).is_some_and(|&a| a != id) {
                verdict.corrupt_delivered += 1;
            }
            if !seen.insert(id) {
                verdict.duplicates += 1;
            }
            delivered.insert(record.seq, id);
        }
        for (seq, id) in oracle.expected(d, cursor) {
            verdict.records += 1;
            if delivered.get(&seq) != Some(&id) {
                verdict.lost += 1;
            }
        }
        if let Some(last) = records.last() {
            spool
                .ack(dest(d), last.seq)
                .map_err(|e| format!("ack {d}: {e}"))?;
        }
    }
    if !verdict.ok() {
        return Ok(verdict);
    }
    // Liveness: a new record goes in after everything seen, and a checkpoint with every
    // destination drained leaves only the active segment.
    let probe = alert(u64::MAX >> 1, Severity::Critical);
    let all = DestinationSet::from_bits((1u32 << ndest) - 1);
    let seq = match spool.append_batch(&[(probe.clone(), all)]) {
        Ok(results) => match results.first() {
            Some(Ok(seq)) => *seq,
            other => return Err(format!("append after recovery refused: {other:?}")),
        },
        Err(e) => return Err(format!("append after recovery failed: {e}")),
    };
    let highest = max_seq.max(oracle.accepted.keys().last().copied().unwrap_or(0));
    if seq <= highest {
        return Err(format!("new seq {seq} not above {highest}"));
    }
    spool
        .checkpoint()
        .map_err(|e| format!("checkpoint after recovery: {e}"))?;
    drop(spool);
    let files = storage.with(|disk| disk.files());
    if files.contains_key("checkpoint.tmp") {
        return Err("checkpoint.tmp left behind".into());
    }
    let (mut spool, _) = open_sim(SimStorage::with_files(&files), config, ndest)
        .map_err(|e| format!("second reopen failed: {e}"))?;
    for d in 0..ndest as u8 {
        let records = spool
            .peek(dest(d), usize::MAX)
            .map_err(|e| format!("peek {d}: {e}"))?;
        if records.len() != 1 || records[0].seq != seq || records[0].event != probe {
            return Err(format!(
                "destination {d} after the second reopen: {:?}, expected only the probe {seq}",
                records.iter().map(|r| r.seq).collect::<Vec<_>>()
            ));
        }
        spool.ack(dest(d), seq).map_err(|e| e.to_string())?;
    }
    spool.checkpoint().map_err(|e| e.to_string())?;
    let segments = SimStorage::clone(spool.storage())
        .with(|disk| disk.dir.keys().filter(|n| n.ends_with(".seg")).count());
    if segments != 1 {
        return Err(format!(
            "{segments} segments left after every destination drained (orphans not removed)"
        ));
    }
    Ok(verdict)
}
