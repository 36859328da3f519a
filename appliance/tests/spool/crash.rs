//! Reliability S2, S3, S6 (`docs/RELIABILITY.md`): power cuts at every byte and every operation of
//! recorded workloads, with the unsynced writes kept whole, lost, or any subset of them kept;
//! checkpoint + segment removal and segment rotation included. After every crash the spool reopens,
//! every accepted record (append returned its seq) is delivered intact to every destination past
//! its durable cursor, nothing corrupt or duplicated is delivered, and the spool is live (accepts,
//! drains, removes orphan segments).
//!
//! Seeded: the seed is printed, `ICSFWD_SEED=<n>` replays it; `ICSFWD_RELIABILITY_LONG=1` or
//! `ICSFWD_CASES=<n>` runs more workloads (`scripts/reliability-spool.sh`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use icsfwd::testing::spool::SpoolConfig;
use spool_support::oracle::{Step, Verdict, check, random_workload, run, small_config};
use spool_support::rng::{Rng, cases, seed};
use spool_support::sim::{Disk, Op, SimStorage};

const NDEST: usize = 2;

/// An empty disk without faults; with `preallocation`, segments get preallocated tails.
fn empty_disk(preallocation: bool) -> Disk {
    Disk {
        preallocation,
        ..Disk::new()
    }
}

/// Runs `steps` without faults and returns the disk it leaves.
fn record(steps: &[Step], config: SpoolConfig, preallocation: bool) -> Disk {
    let storage = SimStorage::new(empty_disk(preallocation));
    let oracle = run(storage.clone(), config, NDEST, steps, false);
    assert!(oracle.error.is_none(), "fault-free run failed: {oracle:?}");
    storage.with(|d| d.clone())
}

fn verify(
    what: &str,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
    config: SpoolConfig,
    oracle: &spool_support::oracle::Oracle,
) -> Verdict {
    let verdict = check(files, config, NDEST, oracle).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(verdict.ok(), "{what}: {verdict:?}");
    assert!(
        oracle.violations.is_empty(),
        "{what}: {:?}",
        oracle.violations
    );
    verdict
}

/// S2: a power cut after byte `k` of the written stream, for every `k`; the disk keeps every
/// byte written before the cut. Returns (cut points, verdict).
fn torn_at_every_byte(
    steps: &[Step],
    config: SpoolConfig,
    preallocation: bool,
    label: &str,
) -> (u64, Verdict) {
    let total = record(steps, config, preallocation).written;
    torn_at_every_byte_of(steps, config, preallocation, label, 0..=total)
}

/// [`torn_at_every_byte`] for the cuts after the bytes `cuts` only.
fn torn_at_every_byte_of(
    steps: &[Step],
    config: SpoolConfig,
    preallocation: bool,
    label: &str,
    cuts: std::ops::RangeInclusive<u64>,
) -> (u64, Verdict) {
    let mut total_verdict = Verdict::default();
    let mut points = 0;
    for k in cuts {
        points += 1;
        let storage = SimStorage::new(Disk {
            fuel: Some(k),
            ..empty_disk(preallocation)
        });
        let oracle = run(storage.clone(), config, NDEST, steps, false);
        let files = storage.with(|d| d.all_written());
        total_verdict.add(verify(
            &format!("{label} cut after byte {k}"),
            &files,
            config,
            &oracle,
        ));
    }
    (points, total_verdict)
}

/// S3/S6: a power cut before every mutating operation; the disk keeps its durable state plus
/// every subset of the operations not yet synced (exhaustive up to 2^12). Returns (crash
/// states, verdict).
fn lost_writes_at_every_op(
    steps: &[Step],
    config: SpoolConfig,
    preallocation: bool,
    label: &str,
    rng: &mut Rng,
) -> (u64, Verdict) {
    lost_writes_at_every_op_from(steps, config, preallocation, label, rng, (0, 12, 256))
}

/// [`lost_writes_at_every_op`] for the cuts before operation `from` on only, with every
/// subset of the pending operations up to `2^exhaustive`, else `samples` random ones.
fn lost_writes_at_every_op_from(
    steps: &[Step],
    config: SpoolConfig,
    preallocation: bool,
    label: &str,
    rng: &mut Rng,
    (from, exhaustive, samples): (usize, usize, usize),
) -> (u64, Verdict) {
    let ops = record(steps, config, preallocation).ops.len();
    let mut states = 0;
    let mut total = Verdict::default();
    for cut in from..=ops {
        let storage = SimStorage::new(Disk {
            cut_after_ops: Some(cut),
            ..empty_disk(preallocation)
        });
        let oracle = run(storage.clone(), config, NDEST, steps, false);
        let disk = storage.with(|d| d.clone());
        for (mask, files) in disk.crash_states(exhaustive, samples, rng.next()) {
            states += 1;
            total.add(verify(
                &format!(
                    "{label} cut before op {cut} ({:?}), pending ops kept {mask:#b}",
                    disk.ops.get(cut)
                ),
                &files,
                config,
                &oracle,
            ));
        }
    }
    (states, total)
}

/// S2 ∧ S3: a cut inside every byte of the stream, then any subset of the unsynced writes.
fn torn_and_lost_at_every_byte(
    steps: &[Step],
    config: SpoolConfig,
    preallocation: bool,
    label: &str,
) -> u64 {
    torn_and_lost_from_byte(steps, config, preallocation, label, (0, 8, 16))
}

/// [`torn_and_lost_at_every_byte`] for the cuts after byte `from` on only, with every subset
/// of the pending operations up to `2^exhaustive`, else `samples` random ones.
fn torn_and_lost_from_byte(
    steps: &[Step],
    config: SpoolConfig,
    preallocation: bool,
    label: &str,
    (from, exhaustive, samples): (u64, usize, usize),
) -> u64 {
    let total = record(steps, config, preallocation).written;
    let mut states = 0;
    for k in from..=total {
        let storage = SimStorage::new(Disk {
            fuel: Some(k),
            ..empty_disk(preallocation)
        });
        let oracle = run(storage.clone(), config, NDEST, steps, false);
        let disk = storage.with(|d| d.clone());
        for (mask, files) in disk.crash_states(exhaustive, samples, k) {
            states += 1;
            verify(
                &format!("{label} cut after byte {k}, pending kept {mask:#b}"),
                &files,
                config,
                &oracle,
            );
        }
    }
    states
}

/// A fixed workload that rotates segments, delivers everything, checkpoints (removing
/// segments), and goes on appending and checkpointing with one destination behind.
fn gc_workload() -> Vec<Step> {
    let batch = |n: usize, bits: u32| Step::Append(vec![(1, bits); n]);
    vec![
        batch(2, 0b11),
        batch(2, 0b01),
        batch(1, 0b10),
        batch(2, 0b11),
        Step::Deliver(0, 10),
        Step::Deliver(1, 2),
        Step::Checkpoint,
        batch(2, 0b11),
        Step::Deliver(1, 10),
        Step::Deliver(0, 10),
        Step::Checkpoint,
        batch(1, 0b01),
        Step::Checkpoint,
    ]
}

/// Whether `op` takes a segment away: its removal, or its rename to a spare file.
fn retires_a_segment(op: &Op) -> bool {
    match op {
        Op::Remove(name) => name.ends_with(".seg"),
        Op::Rename(from, to) => from.ends_with(".seg") && to.ends_with(".spare"),
        _ => false,
    }
}

#[test]
fn s2_a_write_torn_at_every_byte_loses_no_accepted_record_and_delivers_nothing_corrupt() {
    let seed = seed("s2");
    let mut rng = Rng::new(seed);
    let workloads = cases(3, 200);
    let (mut cuts, mut verdict) = torn_at_every_byte(&gc_workload(), small_config(), false, "gc");
    for w in 0..workloads {
        let steps = random_workload(&mut rng, 10, NDEST as u8);
        let (c, v) =
            torn_at_every_byte(&steps, small_config(), false, &format!("seed {seed} #{w}"));
        cuts += c;
        verdict.add(v);
    }
    eprintln!("s2: {cuts} cut points, {verdict:?}");
    assert!(cuts > 1000, "too few cut points exercised: {cuts}");
}

#[test]
fn s3_any_subset_of_unsynced_writes_lost_at_a_crash_loses_no_accepted_record() {
    let seed = seed("s3");
    let mut rng = Rng::new(seed);
    let workloads = cases(6, 400);
    let mut states = 0;
    let mut verdict = Verdict::default();
    for w in 0..workloads {
        let steps = random_workload(&mut rng, 10, NDEST as u8);
        let (s, v) = lost_writes_at_every_op(
            &steps,
            small_config(),
            false,
            &format!("seed {seed} #{w}"),
            &mut rng,
        );
        states += s;
        verdict.add(v);
    }
    states += torn_and_lost_at_every_byte(&gc_workload(), small_config(), false, "gc");
    eprintln!("s3: {states} crash states, {verdict:?}");
    assert!(verdict.records > 0);
}

#[test]
fn s6_a_crash_at_every_step_of_checkpoint_segment_removal_and_rotation_restarts_and_loses_nothing()
{
    let steps = gc_workload();
    let disk = record(&steps, small_config(), false);
    // The workload really goes through every step named here (a new segment is created,
    // or a spare file renamed to its name).
    let creates = disk
        .ops
        .iter()
        .filter(|op| match op {
            Op::Create(n) => n.ends_with(".seg"),
            Op::Rename(from, to) => from.ends_with(".spare") && to.ends_with(".seg"),
            _ => false,
        })
        .count();
    assert!(creates >= 3, "rotation: {:?}", disk.ops);
    assert!(disk.ops.iter().any(|op| matches!(op, Op::Rename(..))));
    assert!(
        disk.ops.iter().filter(|op| retires_a_segment(op)).count() >= 2,
        "segment removal: {:?}",
        disk.ops
    );
    let mut rng = Rng::new(seed("s6"));
    let (states, verdict) = lost_writes_at_every_op(&steps, small_config(), false, "gc", &mut rng);
    eprintln!(
        "s6: {} operations, {states} crash states, {verdict:?}",
        disk.ops.len()
    );
    assert!(verdict.records > 0);
}

#[test]
fn s6_an_orphan_segment_whose_removal_was_lost_is_removed_by_the_next_checkpoint() {
    let steps = gc_workload();
    let disk = record(&steps, small_config(), false);
    // The first segment removal (deleted or kept as a spare file); cut right after it,
    // before the directory fsync.
    let remove = disk.ops.iter().position(retires_a_segment).unwrap();
    let storage = SimStorage::new(Disk {
        cut_after_ops: Some(remove + 1),
        ..Disk::new()
    });
    let oracle = run(storage.clone(), small_config(), NDEST, &steps, false);
    let disk = storage.with(|d| d.clone());
    let files = disk.durable_only();
    let (Op::Remove(orphan) | Op::Rename(orphan, _)) = &disk.ops[remove] else {
        unreachable!()
    };
    assert!(files.contains_key(orphan), "the removal was not durable");
    verify("orphan", &files, small_config(), &oracle);
}

#[test]
fn s2_s3_with_preallocated_segments_a_crash_loses_no_accepted_record_and_adds_none() {
    let seed = seed("s2-preallocated");
    let mut rng = Rng::new(seed);
    // The workload really reserves tails and writes inside them.
    let disk = record(&gc_workload(), small_config(), true);
    assert!(disk.ops.iter().any(|op| matches!(op, Op::Preallocate(..))));
    assert!(disk.ops.iter().any(|op| matches!(op, Op::WriteAt(..))));

    // Torn at every byte: the cut write's first bytes lie in a zero tail.
    let (mut points, mut verdict) = torn_at_every_byte(&gc_workload(), small_config(), true, "gc");
    // Any subset of the unsynced operations lost, the preallocation among them.
    let (s, v) = lost_writes_at_every_op(&gc_workload(), small_config(), true, "gc", &mut rng);
    points += s;
    verdict.add(v);
    points += torn_and_lost_at_every_byte(&gc_workload(), small_config(), true, "gc");
    for w in 0..cases(2, 200) {
        let steps = random_workload(&mut rng, 10, NDEST as u8);
        let label = format!("preallocated, seed {seed} #{w}");
        let (c, v) = torn_at_every_byte(&steps, small_config(), true, &label);
        points += c;
        verdict.add(v);
        let (s, v) = lost_writes_at_every_op(&steps, small_config(), true, &label, &mut rng);
        points += s;
        verdict.add(v);
    }
    eprintln!("s2/s3 preallocated: {points} crash images, {verdict:?}");
    assert!(verdict.records > 0);
}

/// S3r: a workload whose new segments reuse delivered segments' files (spare files,
/// `docs/spool.md`): a trickle of a few records, delivered, a checkpoint that rotates and
/// recycles, one destination behind for a while, a rotation by size, records left
/// undelivered at the end. The first segment holds `first` records: with many, the segment
/// that later takes its file writes only over its first ones and its earlier frames stay
/// after the data (the spool writes zeros over them only near their end); with few, the
/// zeros cover them at the first write and only a crash before it leaves them. Returns the
/// steps and how many of them are the setup (the first segment, delivered and made a spare).
fn recycle_workload(first: usize) -> (Vec<Step>, usize) {
    let batch = |n: usize, bits: u32| Step::Append(vec![(1, bits); n]);
    let setup = vec![
        batch(first, 0b11),
        Step::Deliver(0, 200),
        Step::Deliver(1, 200),
        Step::Checkpoint,
    ];
    let trickle = vec![
        // Takes a fresh file; the first one becomes a spare.
        batch(2, 0b11),
        Step::Deliver(0, 10),
        Step::Deliver(1, 10),
        Step::Checkpoint,
        // Takes the first one's file.
        batch(2, 0b11),
        batch(1, 0b01),
        Step::Deliver(0, 10),
        Step::Checkpoint,
        Step::Deliver(1, 10),
        Step::Checkpoint,
        // Takes the second one's file.
        batch(3, 0b10),
        batch(2, 0b11),
        Step::Deliver(1, 10),
        Step::Deliver(0, 10),
        Step::Checkpoint,
        batch(4, 0b11),
        batch(1, 0b01),
        Step::Deliver(0, 3),
        Step::Checkpoint,
    ];
    let setup_len = setup.len();
    let mut steps = setup;
    steps.extend(trickle);
    (steps, setup_len)
}

/// Runs `steps` and checks they recycle: spare files renamed into place and written inside.
fn assert_recycles(steps: &[Step], preallocation: bool) {
    let disk = record(steps, small_config(), preallocation);
    let recycled = disk
        .ops
        .iter()
        .filter(|op| matches!(op, Op::Rename(from, to) if from.ends_with(".spare") && to.ends_with(".seg")))
        .count();
    assert!(recycled >= 3, "{:?}", disk.ops);
    assert!(disk.ops.iter().any(|op| matches!(op, Op::WriteAt(..))));
}

#[test]
fn s3r_with_recycled_segment_files_a_crash_loses_no_accepted_record_and_resurrects_none() {
    let seed = seed("s3-recycled");
    let mut rng = Rng::new(seed);
    let config = small_config();
    let mut images = 0;
    let mut verdict = Verdict::default();
    // Small segments: torn at every byte and any subset of the unsynced operations lost at
    // every operation, with and without preallocation; both at once with preallocation.
    let (steps, _) = recycle_workload(4);
    for preallocation in [false, true] {
        assert_recycles(&steps, preallocation);
        let label = format!("recycled, preallocation {preallocation}");
        let (c, v) = torn_at_every_byte(&steps, config, preallocation, &label);
        images += c;
        verdict.add(v);
        let bounds = (0, 8, 16);
        let (s, v) =
            lost_writes_at_every_op_from(&steps, config, preallocation, &label, &mut rng, bounds);
        images += s;
        verdict.add(v);
        if preallocation {
            images += torn_and_lost_from_byte(&steps, config, preallocation, &label, (0, 3, 2));
        }
    }
    // A large first segment: its frames stay after the data of the segment that reuses its
    // file. Any subset of the unsynced operations lost at every operation after it (cuts
    // before it are S3's), and torn at every byte of the writes into its reused file.
    let (steps, setup_len) = recycle_workload(130);
    assert_recycles(&steps, false);
    let from = record(&steps[..setup_len], config, false).ops.len();
    let label = "recycled, earlier frames kept";
    let (s, v) =
        lost_writes_at_every_op_from(&steps, config, false, label, &mut rng, (from, 8, 16));
    images += s;
    verdict.add(v);
    let reused = setup_len + 4..setup_len + 6;
    let bytes_before = |n: usize| record(&steps[..n], config, false).written;
    let cuts = bytes_before(reused.start)..=bytes_before(reused.end);
    let (c, v) = torn_at_every_byte_of(&steps, config, false, label, cuts);
    images += c;
    verdict.add(v);
    eprintln!("s3r recycled: {images} crash images, {verdict:?}");
    assert!(verdict.records > 0);
}
