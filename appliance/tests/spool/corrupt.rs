//! Reliability S5: corrupt and hostile images. Bit flips in segments and in the checkpoint,
//! garbage spliced between good frames, arbitrary bytes as spool files, and CRC-valid hostile
//! values. Asserted: no panic, open terminates, damaged frames are skipped and counted exactly
//! (the expected count is derived from where the damage is, not from the decoder), every
//! record outside the damage is still delivered intact, nothing corrupt is delivered.
//!
//! Seeded: the seed is printed, `ICSFWD_SEED=<n>` replays it; `ICSFWD_CASES=<n>` or
//! `ICSFWD_RELIABILITY_LONG=1` runs more cases (every bit of every file in the long run).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use icsfwd::testing::spool::cursor::Checkpoint;
use icsfwd::testing::spool::{CheckpointState, MAX_SEQ, OpenError, verify_with};
use icsfwd_core::alert::Event;
use icsfwd_core::record::{self, Record};
use spool_support::dest;
use spool_support::frames::{reframe, seq_of, spans};
use spool_support::oracle::{DIR, Oracle, Step, event_id, open_sim, run, small_config};
use spool_support::rng::{Rng, cases, long, seed};
use spool_support::sim::SimStorage;

const NDEST: usize = 2;

/// A clean image: four segments or so, destination 0 partly delivered and checkpointed.
fn image() -> (BTreeMap<String, Vec<u8>>, Oracle) {
    let mut steps = Vec::new();
    for i in 0..14u32 {
        steps.push(Step::Append(vec![(
            usize::try_from(i % 4).unwrap(),
            1 + i % 3,
        )]));
    }
    steps.push(Step::Deliver(0, 3));
    steps.push(Step::Checkpoint);
    let storage = SimStorage::default();
    let oracle = run(storage.clone(), small_config(), NDEST, &steps, false);
    assert!(oracle.error.is_none());
    let files = storage.with(|d| d.files());
    assert!(files.keys().filter(|n| n.ends_with(".seg")).count() >= 3);
    (files, oracle)
}

/// What reopening `files` delivers per destination (after a valid checkpoint's cursor).
struct Outcome {
    corrupt: usize,
    torn: usize,
    checkpoint: CheckpointState,
    delivered: Vec<Vec<Record>>,
}

fn reopen(files: &BTreeMap<String, Vec<u8>>) -> Result<Outcome, OpenError> {
    let (mut spool, recovery) = open_sim(SimStorage::with_files(files), small_config(), NDEST)?;
    let delivered = (0..NDEST as u8)
        .map(|d| spool.peek(dest(d), usize::MAX).unwrap())
        .collect();
    Ok(Outcome {
        corrupt: recovery.corrupt.len(),
        torn: recovery.torn.len(),
        checkpoint: recovery.checkpoint,
        delivered,
    })
}

/// Every delivered record is intact (matches what was submitted) and is one of `expected`;
/// every record of `expected` not in `damaged` is delivered.
fn assert_delivery(
    what: &str,
    oracle: &Oracle,
    out: &Outcome,
    cursor: &[u64],
    damaged: &BTreeSet<u64>,
) {
    for d in 0..NDEST as u8 {
        let got: BTreeMap<u64, &Event> = out.delivered[usize::from(d)]
            .iter()
            .map(|r| (r.seq, &r.event))
            .collect();
        for r in &out.delivered[usize::from(d)] {
            let id = event_id(&r.event);
            let (event, dests) = oracle
                .events
                .get(&id)
                .unwrap_or_else(|| panic!("{what}: invented record {r:?}"));
            assert!(
                event == &r.event && *dests == r.destinations,
                "{what}: corrupt record delivered: {r:?}"
            );
            assert_eq!(
                oracle.accepted.get(&r.seq),
                Some(&id),
                "{what}: seq {} mismatched",
                r.seq
            );
        }
        for (seq, _) in oracle.expected(d, cursor[usize::from(d)]) {
            if !damaged.contains(&seq) {
                assert!(
                    got.contains_key(&seq),
                    "{what}: destination {d} lost record {seq}"
                );
            }
        }
    }
}

/// The expected (corrupt, torn, damaged seqs) after replacing byte `p` of segment `bytes` by
/// `new` (derived from frame boundaries: a changed byte damages its frame; a new `00` splits
/// it into two pieces, each a corrupt frame unless empty; a lost delimiter merges the frame
/// with the next, or makes it a torn tail at the end).
fn expected_damage(bytes: &[u8], p: usize, new: u8) -> (usize, usize, BTreeSet<u64>) {
    let frames = spans(bytes);
    let i = frames.iter().position(|f| f.contains(&p)).unwrap();
    let frame = &frames[i];
    let old = bytes[p];
    let mut damaged = BTreeSet::from([seq_of(&bytes[frame.clone()])]);
    if old != 0 && new != 0 {
        (1, 0, damaged)
    } else if old != 0 {
        let first = usize::from(p > frame.start);
        let second = usize::from(p + 1 < frame.end - 1);
        (first + second, 0, damaged)
    } else if let Some(next) = frames.get(i + 1) {
        damaged.insert(seq_of(&bytes[next.clone()]));
        (1, 0, damaged)
    } else {
        (0, 1, damaged)
    }
}

fn cursor_of(files: &BTreeMap<String, Vec<u8>>) -> Vec<u64> {
    let checkpoint = Checkpoint::decode(&files["checkpoint"]).unwrap();
    (0..NDEST)
        .map(|d| {
            checkpoint
                .destinations
                .iter()
                .find(|e| usize::from(e.index) == d)
                .map_or(0, |e| e.acked)
        })
        .collect()
}

#[test]
fn s5_a_bit_flip_anywhere_in_a_segment_is_skipped_and_counted_exactly_and_the_rest_delivered() {
    let seed = seed("s5 segment flips");
    let mut rng = Rng::new(seed);
    let (files, oracle) = image();
    let cursor = cursor_of(&files);
    let segments: Vec<&String> = files.keys().filter(|n| n.ends_with(".seg")).collect();
    // Every (segment, byte, bit) in the long run; a random sample in CI.
    let mut points = Vec::new();
    for name in &segments {
        for p in 0..files[*name].len() {
            for bit in 0..8u8 {
                points.push(((*name).clone(), p, bit));
            }
        }
    }
    let total = points.len();
    let n = if long() {
        total as u64
    } else {
        cases(1500, total as u64)
    };
    let mut corrupt_counted = 0;
    for k in 0..n {
        let (name, p, bit) = if long() {
            points[usize::try_from(k).unwrap()].clone()
        } else {
            points[rng.index(total)].clone()
        };
        let mut damaged_files = files.clone();
        let bytes = damaged_files.get_mut(&name).unwrap();
        let new = bytes[p] ^ (1 << bit);
        let (want_corrupt, want_torn, damaged) = expected_damage(&files[&name], p, new);
        bytes[p] = new;
        let what = format!("seed {seed}: {name} byte {p} bit {bit}");
        let out = reopen(&damaged_files).unwrap_or_else(|e| panic!("{what}: open failed: {e}"));
        assert_eq!((out.corrupt, out.torn), (want_corrupt, want_torn), "{what}");
        corrupt_counted += out.corrupt;
        assert_delivery(&what, &oracle, &out, &cursor, &damaged);
    }
    eprintln!(
        "s5 segment flips: {n} of {total} flips, {corrupt_counted} corrupt frames counted exactly"
    );
}

#[test]
fn s5_garbage_spliced_between_good_frames_is_one_counted_frame_each_and_later_records_delivered() {
    let seed = seed("s5 splice");
    let mut rng = Rng::new(seed);
    let (files, oracle) = image();
    let cursor = cursor_of(&files);
    let n = cases(300, 30_000);
    for case in 0..n {
        let mut damaged_files = files.clone();
        let names: Vec<String> = files
            .keys()
            .filter(|n| n.ends_with(".seg"))
            .cloned()
            .collect();
        let name = &names[rng.index(names.len())];
        let bytes = &files[name];
        let frames = spans(bytes);
        let chunks = 1 + rng.index(3);
        let mut cut_points: Vec<usize> = (0..chunks)
            .map(|_| frames[rng.index(frames.len())].end)
            .collect();
        cut_points.sort_unstable();
        let mut out_bytes = Vec::new();
        let mut from = 0;
        for &at in &cut_points {
            out_bytes.extend_from_slice(&bytes[from..at]);
            let len = if rng.chance(1, 20) {
                record::MAX_FRAME + 1 + rng.index(100)
            } else {
                1 + rng.index(200)
            };
            out_bytes.extend((0..len).map(|_| (rng.below(255) + 1) as u8));
            out_bytes.push(0);
            from = at;
        }
        out_bytes.extend_from_slice(&bytes[from..]);
        damaged_files.insert(name.clone(), out_bytes);
        let what = format!("seed {seed} case {case}: {chunks} chunk(s) in {name}");
        let out = reopen(&damaged_files).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!((out.corrupt, out.torn), (chunks, 0), "{what}");
        assert_delivery(&what, &oracle, &out, &cursor, &BTreeSet::new());
    }
    eprintln!("s5 splice: {n} images, every chunk counted, every good record delivered");
}

#[test]
fn s5_arbitrary_bytes_as_segment_and_checkpoint_files_never_panic_nor_deliver_anything() {
    let seed = seed("s5 garbage");
    let mut rng = Rng::new(seed);
    let n = cases(300, 100_000);
    let mut opened = 0;
    for case in 0..n {
        let mut files = BTreeMap::new();
        for _ in 0..1 + rng.index(3) {
            let max = if rng.chance(1, 10) { 200_000 } else { 3000 };
            let len = rng.index(max);
            let zeros = rng.below(4); // 0: none .. 3: many
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(16) < zeros {
                        0
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            files.insert(format!("{:020}.seg", 1 + rng.below(1000)), bytes);
        }
        if rng.chance(1, 2) {
            files.insert(
                "checkpoint".into(),
                (0..rng.index(500)).map(|_| rng.next() as u8).collect(),
            );
        }
        let what = format!("seed {seed} case {case}");
        let out = reopen(&files).unwrap_or_else(|e| panic!("{what}: open failed: {e}"));
        opened += 1;
        for d in &out.delivered {
            assert!(d.is_empty(), "{what}: garbage delivered as a record: {d:?}");
        }
        let report = verify_with(&mut SimStorage::with_files(&files), Path::new(DIR)).unwrap();
        assert!(
            !report.is_clean() || files.values().all(Vec::is_empty) || report.records == 0,
            "{what}"
        );
    }
    eprintln!("s5 garbage: {opened} images opened, 0 records invented");
}

#[test]
fn s5_a_bit_flip_in_the_checkpoint_only_causes_redelivery_never_loss() {
    let (files, oracle) = image();
    let cursor = cursor_of(&files);
    let original = Checkpoint::decode(&files["checkpoint"]).unwrap();
    let len = files["checkpoint"].len();
    let mut damaged_count = 0;
    for p in 0..len {
        for bit in 0..8 {
            let mut damaged_files = files.clone();
            damaged_files.get_mut("checkpoint").unwrap()[p] ^= 1 << bit;
            let what = format!("checkpoint byte {p} bit {bit}");
            let out = reopen(&damaged_files).unwrap_or_else(|e| panic!("{what}: {e}"));
            match &out.checkpoint {
                CheckpointState::Damaged(_) => damaged_count += 1,
                // A flip that keeps the content (hex digit case) is harmless.
                CheckpointState::Valid => assert_eq!(
                    Checkpoint::decode(&damaged_files["checkpoint"]).unwrap(),
                    original,
                    "{what}"
                ),
                CheckpointState::Missing => panic!("{what}: checkpoint missing"),
            }
            assert_delivery(&what, &oracle, &out, &cursor, &BTreeSet::new());
        }
    }
    eprintln!(
        "s5 checkpoint flips: {} flips, {damaged_count} detected as damage",
        len * 8
    );
}

#[test]
fn s5_crc_valid_hostile_sequence_numbers_are_refused_instead_of_overflowing() {
    // Regression: a checkpoint cursor or a record at u64::MAX made `open` overflow (a panic
    // in debug builds, a wrapped sequence number in release).
    let (files, _) = image();
    let mut checkpoint = Checkpoint::decode(&files["checkpoint"]).unwrap();
    checkpoint.destinations[0].acked = u64::MAX;
    let mut hostile = files.clone();
    hostile.insert("checkpoint".into(), checkpoint.encode());
    let error = reopen(&hostile).err().expect("refused");
    assert!(
        matches!(error, OpenError::SequenceExhausted { next_seq: u64::MAX }),
        "{error}"
    );

    let mut checkpoint = Checkpoint::decode(&files["checkpoint"]).unwrap();
    checkpoint.next_seq = MAX_SEQ + 1;
    let mut hostile = files.clone();
    hostile.insert("checkpoint".into(), checkpoint.encode());
    assert!(matches!(
        reopen(&hostile).err(),
        Some(OpenError::SequenceExhausted { .. })
    ));

    // A record whose (CRC-valid) seq is u64::MAX.
    let name = files.keys().find(|n| n.ends_with(".seg")).unwrap().clone();
    let bytes = &files[&name];
    let first = spans(bytes)[0].clone();
    let forged = reframe(&bytes[first.clone()], |raw| {
        raw[4..12].copy_from_slice(&u64::MAX.to_le_bytes())
    });
    let mut hostile = files.clone();
    let mut seg = forged;
    seg.extend_from_slice(&bytes[first.end..]);
    hostile.insert(name, seg);
    let error = reopen(&hostile).err().expect("refused");
    assert!(
        matches!(error, OpenError::SequenceExhausted { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("move the spool directory aside"),
        "{error}"
    );
    // The read-only check reports it without overflowing either.
    let report = verify_with(&mut SimStorage::with_files(&hostile), Path::new(DIR)).unwrap();
    assert_eq!(report.next_seq, u64::MAX);
}
