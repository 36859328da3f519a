//! Crash ordering of cleanup: segments are removed only after the checkpoint is durable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use icsfwd::testing::spool::{Spool, SpoolConfig, segment};
use icsfwd_core::alert::Severity;
use spool_support::{Op, Recording, alert, dest, names, seqs, set};

fn three_segments(dir: &std::path::Path) -> (Spool<Recording>, Recording) {
    let storage = Recording::new();
    let config = SpoolConfig {
        segment_bytes: 1,
        ..SpoolConfig::default()
    };
    let (mut spool, _) = Spool::open(storage.clone(), dir, config, &names(2)).unwrap();
    for i in 1..=3 {
        spool
            .append_batch(&[(alert(i, Severity::Minor), set(&[0, 1]))])
            .unwrap();
    }
    (spool, storage)
}

#[test]
fn segments_are_removed_only_after_rename_and_directory_sync_of_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, storage) = three_segments(dir.path());
    spool.ack(dest(0), 2).unwrap();
    spool.ack(dest(1), 2).unwrap();
    let before = storage.ops().len();
    let outcome = spool.checkpoint().unwrap();
    assert_eq!(outcome.segments_removed, 2);

    let ops = storage.ops()[before..].to_vec();
    assert_eq!(
        ops,
        [
            Op::Create("checkpoint.tmp".into()),
            Op::Append("checkpoint.tmp".into(), ops_append_len(&ops)),
            Op::SyncFile("checkpoint.tmp".into()),
            Op::Rename("checkpoint.tmp".into(), "checkpoint".into()),
            Op::SyncDir,
            Op::Remove(segment::file_name(1)),
            Op::Remove(segment::file_name(2)),
            Op::SyncDir,
            // Last: the progress log is emptied (the durable checkpoint covers it).
            Op::Create("progress".into()),
        ]
    );
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [3]);
}

fn ops_append_len(ops: &[Op]) -> usize {
    ops.iter()
        .find_map(|op| match op {
            Op::Append(_, n) => Some(*n),
            _ => None,
        })
        .unwrap()
}

#[test]
fn a_checkpoint_that_cannot_be_made_durable_removes_no_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, storage) = three_segments(dir.path());
    spool.ack(dest(0), 3).unwrap();
    spool.ack(dest(1), 3).unwrap();
    storage.log.lock().unwrap().fail_rename = true;
    let before = storage.ops().len();
    assert!(spool.checkpoint().is_err());
    assert!(
        !storage.ops()[before..]
            .iter()
            .any(|op| matches!(op, Op::Remove(_))),
        "{:?}",
        storage.ops()
    );
    for first in 1..=3 {
        assert!(dir.path().join(segment::file_name(first)).exists());
    }
    // Once the storage works again, the next checkpoint cleans up.
    storage.log.lock().unwrap().fail_rename = false;
    assert_eq!(spool.checkpoint().unwrap().segments_removed, 3);
}

#[test]
fn a_segment_is_kept_while_any_destination_still_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = three_segments(dir.path());
    spool.ack(dest(0), 3).unwrap();
    spool.ack(dest(1), 1).unwrap();
    assert_eq!(spool.checkpoint().unwrap().segments_removed, 1);
    assert_eq!(seqs(&spool.peek(dest(1), 10).unwrap()), [2, 3]);
    assert!(spool.peek(dest(0), 10).unwrap().is_empty());
}

#[test]
fn an_idle_spool_writes_no_checkpoint_and_a_changed_one_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Recording::new();
    let (mut spool, _) = Spool::open(
        storage.clone(),
        dir.path(),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    spool
        .append_batch(&[(alert(1, Severity::Minor), set(&[0]))])
        .unwrap();
    spool.ack(dest(0), 1).unwrap();
    spool.checkpoint().unwrap();
    let checkpoint_written = Op::Rename("checkpoint.tmp".into(), "checkpoint".into());
    assert!(storage.ops().contains(&checkpoint_written));

    // Nothing acknowledged or appended since: the housekeeper's next ticks write nothing at
    // all (no checkpoint, no emptying of the already empty progress log).
    let before = storage.ops().len();
    spool.checkpoint().unwrap();
    spool.checkpoint().unwrap();
    assert_eq!(storage.ops()[before..], [], "an idle checkpoint wrote");
    assert_eq!(spool.stats().checkpoints, 1);
    assert_eq!(spool.stats().checkpoints_unchanged, 2);

    // A new record changes `next-seq`: written again.
    spool
        .append_batch(&[(alert(2, Severity::Minor), set(&[0]))])
        .unwrap();
    let before = storage.ops().len();
    spool.checkpoint().unwrap();
    assert!(storage.ops()[before..].contains(&checkpoint_written));
    assert_eq!(spool.stats().checkpoints, 2);
    // The storage (and with it the spool's lock) lives while a clone of it does.
    drop(spool);
    drop(storage);
    let (mut spool, recovery) = Spool::open(
        Recording::new(),
        dir.path(),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    assert_eq!((recovery.destinations[0].acked, recovery.next_seq), (1, 3));
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [2]);
}
