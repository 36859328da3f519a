//! Recovery at open: records survive, torn tails and corrupt frames are skipped and counted,
//! cursors and sequence numbers carry on, unknown versions are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::path::{Path, PathBuf};

use icsfwd::testing::spool::{CheckpointState, OpenError, SpoolConfig, segment};
use icsfwd_core::alert::Severity;
use icsfwd_core::record::{self, DecodeError};
use spool_support::{alert, dest, open, segment_data, seqs, set};

fn only_segment(dir: &Path) -> PathBuf {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    assert_eq!(
        segments.len(),
        1,
        "expected one segment in {}",
        dir.display()
    );
    segments.pop().unwrap()
}

#[test]
fn appended_records_are_returned_unchanged_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<_> = (1..=5)
        .map(|i| (alert(i, Severity::Major), set(&[0, 1])))
        .collect();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 2);
    let accepted = spool.append_batch(&events).unwrap();
    assert_eq!(accepted, (1..=5).map(Ok).collect::<Vec<_>>());
    drop(spool);

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 2);
    assert_eq!(recovery.records, 5);
    assert_eq!((recovery.torn.len(), recovery.corrupt.len()), (0, 0));
    assert_eq!(recovery.next_seq, 6);
    for d in [dest(0), dest(1)] {
        let records = spool.peek(d, 100).unwrap();
        assert_eq!(seqs(&records), [1, 2, 3, 4, 5]);
        for (record, (event, dests)) in records.iter().zip(&events) {
            assert_eq!((&record.event, record.destinations), (event, *dests));
        }
    }
}

#[test]
fn torn_tail_at_every_byte_of_the_last_frame_is_skipped_counted_and_later_appends_are_readable() {
    // Reference bytes: two whole frames.
    let reference = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(reference.path(), SpoolConfig::default(), 1);
    spool
        .append_batch(&[(alert(1, Severity::Minor), set(&[0]))])
        .unwrap();
    spool
        .append_batch(&[(alert(2, Severity::Minor), set(&[0]))])
        .unwrap();
    drop(spool);
    let file = only_segment(reference.path());
    let bytes = segment_data(&std::fs::read(&file).unwrap()).to_vec();
    let first_len = bytes.iter().position(|&b| b == 0).unwrap() + 1;
    let last_len = bytes.len() - first_len;

    for cut in 1..last_len {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(file.file_name().unwrap());
        std::fs::write(&copy, &bytes[..first_len + cut]).unwrap();

        let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
        assert_eq!(recovery.records, 1, "cut at {cut}");
        assert_eq!(recovery.torn.len(), 1, "cut at {cut}");
        assert_eq!(recovery.torn[0].1.start, first_len as u64, "cut at {cut}");
        assert_eq!(recovery.torn[0].1.bytes, cut, "cut at {cut}");
        assert_eq!(recovery.truncated_bytes, cut as u64);
        assert_eq!(spool.stats().torn, 1);
        assert!(recovery.corrupt.is_empty(), "cut at {cut}");

        // The torn record was never acknowledged; its sequence number is given again.
        let accepted = spool
            .append_batch(&[(alert(3, Severity::Critical), set(&[0]))])
            .unwrap();
        assert_eq!(accepted, [Ok(2)], "cut at {cut}");
        drop(spool);
        let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
        assert!(
            recovery.torn.is_empty() && recovery.corrupt.is_empty(),
            "cut at {cut}"
        );
        let records = spool.peek(dest(0), 10).unwrap();
        assert_eq!(seqs(&records), [1, 2], "cut at {cut}");
        assert_eq!(records[1].event, alert(3, Severity::Critical));
    }
}

#[test]
fn corrupt_frame_in_the_middle_is_skipped_counted_exactly_and_later_records_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    let events: Vec<_> = (1..=3)
        .map(|i| (alert(i, Severity::Major), set(&[0])))
        .collect();
    spool.append_batch(&events).unwrap();
    drop(spool);

    let file = only_segment(dir.path());
    let mut bytes = std::fs::read(&file).unwrap();
    let frame_len = record::frame_len(&record::Record {
        seq: 2,
        destinations: set(&[0]),
        event: events[1].0.clone(),
    })
    .unwrap();
    let first_len = bytes.iter().position(|&b| b == 0).unwrap() + 1;
    // Flip one bit inside the second frame, on a byte that does not become a delimiter.
    let victim = (first_len + frame_len / 2..first_len + frame_len - 1)
        .find(|&i| bytes[i] != 0x01)
        .unwrap();
    bytes[victim] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert_eq!(recovery.records, 2);
    assert_eq!(recovery.corrupt.len(), 1);
    let skipped = recovery.corrupt[0].1;
    assert_eq!(skipped.offset, first_len as u64);
    assert_eq!(skipped.len, frame_len as u64);
    assert!(matches!(skipped.error, DecodeError::Crc { .. }));
    assert_eq!(spool.stats().corrupt, 1);
    let records = spool.peek(dest(0), 10).unwrap();
    assert_eq!(seqs(&records), [1, 3]);
    assert_eq!(records[1].event, events[2].0);
    assert_eq!(spool.stats().destinations[0].backlog, 2);
}

#[test]
fn unknown_record_version_is_refused_and_the_file_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let hex = include_str!("../../../core/tests/vectors/future-version.hex");
    let bytes: Vec<u8> = hex
        .lines()
        .map(|l| l.split('#').next().unwrap())
        .flat_map(|l| l.split_whitespace())
        .flat_map(|w| {
            (0..w.len())
                .step_by(2)
                .map(move |i| u8::from_str_radix(&w[i..i + 2], 16).unwrap())
        })
        .collect();
    let path = dir.path().join(segment::file_name(1));
    std::fs::write(&path, &bytes).unwrap();

    let error = icsfwd::testing::spool::Spool::open(
        icsfwd::testing::spool::storage::FsStorage::new(),
        dir.path(),
        SpoolConfig::default(),
        &spool_support::names(3),
    )
    .unwrap_err();
    match &error {
        OpenError::Refused { offset, error, .. } => {
            assert_eq!(*offset, 0);
            assert_eq!(*error, DecodeError::BadVersion { found: 3 });
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(error.to_string().contains("version 3"), "{error}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the file must be kept"
    );
}

#[test]
fn cursors_survive_reopen_per_destination() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 3);
    let events: Vec<_> = (1..=6)
        .map(|i| (alert(i, Severity::Minor), set(&[0, 1, 2])))
        .collect();
    spool.append_batch(&events).unwrap();
    assert_eq!(spool.ack(dest(0), 2).unwrap(), 2);
    assert_eq!(spool.ack(dest(1), 5).unwrap(), 5);
    spool.checkpoint().unwrap();
    // Acknowledged after the checkpoint: not durable, but in the progress log, which a
    // process crash (this drop) keeps (tests/spool/progress.rs has the rejected cases).
    spool.ack(dest(2), 6).unwrap();
    drop(spool);

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 3);
    assert_eq!(recovery.checkpoint, CheckpointState::Valid);
    let resumed: Vec<_> = recovery
        .destinations
        .iter()
        .map(|r| (r.name.as_str(), r.acked, r.backlog))
        .collect();
    assert_eq!(
        resumed,
        [("dest-0", 2, 4), ("dest-1", 5, 1), ("dest-2", 6, 0)]
    );
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [3, 4, 5, 6]);
    assert_eq!(seqs(&spool.peek(dest(1), 10).unwrap()), [6]);
    assert!(spool.peek(dest(2), 10).unwrap().is_empty());
}

#[test]
fn sequence_numbers_keep_increasing_after_every_record_was_delivered_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let config = SpoolConfig {
        segment_bytes: 1,
        ..SpoolConfig::default()
    };
    let (mut spool, _) = open(dir.path(), config, 1);
    for i in 1..=3 {
        spool
            .append_batch(&[(alert(i, Severity::Minor), set(&[0]))])
            .unwrap();
    }
    spool.ack(dest(0), 3).unwrap();
    let outcome = spool.checkpoint().unwrap();
    assert_eq!(outcome.segments_removed, 3);
    drop(spool);

    let (mut spool, recovery) = open(dir.path(), config, 1);
    assert_eq!(recovery.records, 0);
    assert_eq!(recovery.next_seq, 4);
    let accepted = spool
        .append_batch(&[(alert(4, Severity::Minor), set(&[0]))])
        .unwrap();
    assert_eq!(accepted, [Ok(4)]);
}

#[test]
fn missing_segment_orphan_files_and_an_interrupted_checkpoint_are_tolerated_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let config = SpoolConfig {
        segment_bytes: 1,
        ..SpoolConfig::default()
    };
    let (mut spool, _) = open(dir.path(), config, 1);
    for i in 1..=3 {
        spool
            .append_batch(&[(alert(i, Severity::Minor), set(&[0]))])
            .unwrap();
    }
    spool.ack(dest(0), 1).unwrap();
    spool.checkpoint().unwrap();
    drop(spool);
    // A segment lost (e.g. removed by hand), a stray file, a half-written checkpoint.
    std::fs::remove_file(dir.path().join(segment::file_name(2))).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"operator notes").unwrap();
    std::fs::write(dir.path().join("checkpoint.tmp"), b"icsfwd-spool-chec").unwrap();

    let (mut spool, recovery) = open(dir.path(), config, 1);
    assert_eq!(recovery.unknown_files, ["notes.txt"]);
    assert_eq!(recovery.checkpoint, CheckpointState::Valid);
    assert!(!dir.path().join("checkpoint.tmp").exists());
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [3]);
    assert_eq!(
        spool
            .append_batch(&[(alert(4, Severity::Minor), set(&[0]))])
            .unwrap(),
        [Ok(4)]
    );
}

#[test]
fn damaged_checkpoint_redelivers_from_the_oldest_record_instead_of_losing_any() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    spool
        .append_batch(&[
            (alert(1, Severity::Minor), set(&[0])),
            (alert(2, Severity::Minor), set(&[0])),
        ])
        .unwrap();
    spool.ack(dest(0), 1).unwrap();
    spool.checkpoint().unwrap();
    drop(spool);
    let path = dir.path().join("checkpoint");
    let mut text = std::fs::read(&path).unwrap();
    let digit = text.iter().position(|&b| b == b'1').unwrap();
    text[digit] = b'7';
    std::fs::write(&path, text).unwrap();

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert!(matches!(recovery.checkpoint, CheckpointState::Damaged(_)));
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [1, 2]);
}

#[test]
fn reordered_destinations_holding_records_are_refused_with_both_names() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 2);
    spool
        .append_batch(&[(alert(1, Severity::Minor), set(&[0, 1]))])
        .unwrap();
    spool.checkpoint().unwrap();
    drop(spool);
    let swapped = vec!["dest-1".to_string(), "dest-0".to_string()];
    let error = icsfwd::testing::spool::Spool::open(
        icsfwd::testing::spool::storage::FsStorage::new(),
        dir.path(),
        SpoolConfig::default(),
        &swapped,
    )
    .unwrap_err();
    assert!(matches!(
        error,
        OpenError::DestinationMismatch {
            index: 0,
            backlog: 1,
            ..
        }
    ));
    assert!(error.to_string().contains("\"dest-0\""), "{error}");
}
