//! Reliability S10: format compatibility, through the library.
//!
//! `spool_fixtures/v1/` is a golden spool written by icsfwd 0.1 (record format 1, checkpoint
//! format 1): two segments, a checkpoint, a progress log and a dead-letter file
//! (`spool_fixtures/golden.rs` says what it holds and how it was made). The binary drains it
//! into the Splunk emulator in `spool/upgrade.rs`.
//!
//! Asserted here: the golden spool reopens with the exact records, cursors and progress hint;
//! this version still writes exactly those bytes; a record or a checkpoint of a format version
//! this release does not read (newer, or older) is refused with an error naming the version
//! found, the versions read and what to do, and no byte, file or time stamp in the directory
//! changes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::golden;
use crate::golden_v2;

use std::path::Path;

use icsfwd::testing::spool::cursor::{self, Checkpoint};
use icsfwd::testing::spool::storage::FsStorage;
use icsfwd::testing::spool::{CheckpointState, OpenError, Spool, verify};
use icsfwd_core::alert::Event;
use icsfwd_core::destination::DestinationId;
use icsfwd_core::record::{self, DecodeError};

/// The record versions this release reads, as messages write them: `1`, or `1–2`.
fn reads() -> String {
    if record::OLDEST_VERSION == record::VERSION {
        record::VERSION.to_string()
    } else {
        format!("{}\u{2013}{}", record::OLDEST_VERSION, record::VERSION)
    }
}

fn open(dir: &Path) -> Result<(Spool, icsfwd::testing::spool::Recovery), OpenError> {
    Spool::open(FsStorage::new(), dir, golden::config(), &golden::names())
}

#[test]
#[ignore = "writes the golden fixture; run with ICSFWD_WRITE_GOLDEN=1"]
fn write_golden_spool_v1() {
    assert_eq!(
        std::env::var("ICSFWD_WRITE_GOLDEN").as_deref(),
        Ok("1"),
        "set ICSFWD_WRITE_GOLDEN=1"
    );
    let dir = golden::dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    golden::write(&dir);
}

#[test]
fn s10_the_golden_v1_spool_reopens_with_its_exact_records_cursors_and_progress() {
    let dir = golden::copy();
    let (mut spool, recovery) = open(dir.path()).unwrap();
    assert_eq!(recovery.checkpoint, CheckpointState::Valid);
    assert_eq!((recovery.records, recovery.next_seq), (5, 6));
    assert_eq!(recovery.segments, 2);
    assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
    assert!(recovery.unknown_files.is_empty(), "{recovery:?}");
    // dest-0 from the checkpoint, dest-1 from the progress log (record 1, after it).
    assert_eq!(recovery.destinations[0].acked, 2);
    assert_eq!(recovery.destinations[1].acked, 1);
    assert_eq!(
        recovery.progress.applied.len(),
        1,
        "{:?}",
        recovery.progress
    );
    for index in 0..2u8 {
        let got = spool.peek(DestinationId::new(index).unwrap(), 100).unwrap();
        let got: Vec<(u64, Event)> = got.into_iter().map(|r| (r.seq, r.event)).collect();
        let want: Vec<(u64, Event)> = golden::backlog(index)
            .into_iter()
            .map(|seq| (seq, golden::event(seq)))
            .collect();
        assert_eq!(got, want, "destination {index}");
    }
    assert!(
        golden::event(4).truncated(),
        "the golden set holds a truncated alert"
    );
}

#[test]
fn s10_this_version_still_writes_the_golden_bytes() {
    let dir = tempfile::tempdir().unwrap();
    golden::write(dir.path());
    // The segments without their preallocated tails (zeros after the data, the same format:
    // docs/spool.md).
    let mut written = golden::data_only(golden::read_tree(dir.path()));
    let mut committed = golden::read_tree(&golden::dir());
    // The spool's lock file (`icsfwd::testing::spool::lock`, after v1) holds the writer's pid.
    assert_eq!(
        written.remove(icsfwd::testing::spool::lock::FILE),
        Some(format!("{}\n", std::process::id()).into_bytes())
    );
    // The dead-letter line says when it was written: compare it without its time.
    let dead_letter = "deadletter/dest-0.jsonl";
    let untimed = |bytes: Vec<u8>| {
        let mut line: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let object = line.as_object_mut().unwrap();
        assert!(object.remove("time").is_some() && object.remove("time_ms").is_some());
        line
    };
    assert_eq!(
        untimed(written.remove(dead_letter).unwrap()),
        untimed(committed.remove(dead_letter).unwrap())
    );
    assert_eq!(
        written, committed,
        "the on-disk format changed: give it a new version and a fixture of its own \
         (docs/record-format.md, \"Adding a record version\")"
    );
}

#[test]
fn s10_the_checkpoint_names_the_version_this_release_reads() {
    let text = String::from_utf8(Checkpoint::default().encode()).unwrap();
    assert!(
        text.starts_with(&format!("icsfwd-spool-checkpoint {}\n", cursor::VERSION)),
        "{text}"
    );
}

/// Opens the forged copy in `dir` and checks the refusal changed nothing; returns the
/// message.
fn refused_without_a_change(dir: &Path) -> (OpenError, String) {
    let before = golden::snapshot(dir);
    let error = open(dir).unwrap_err();
    let message = error.to_string();
    assert_eq!(
        golden::snapshot(dir),
        before,
        "a refused open must not change, add or delete anything: {message}"
    );
    (error, message)
}

#[test]
fn s10_a_record_of_a_newer_format_is_refused_naming_the_versions_and_nothing_changes() {
    let dir = golden::copy();
    let newer = record::VERSION + 1;
    let (segment, offset) = golden::forge_record_version(dir.path(), newer);
    let (error, message) = refused_without_a_change(dir.path());
    match &error {
        OpenError::Refused {
            segment: found,
            offset: at,
            error,
        } => {
            assert_eq!((found, *at), (&segment, offset));
            assert_eq!(*error, DecodeError::BadVersion { found: newer });
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert_eq!(
        message,
        format!(
            "spool: this spool was written by a newer icsfwd (record version {newer} in {} at \
             offset {offset}; this release reads {}): install that release or a newer one to \
             drain it, or stop icsfwd, move the spool directory aside (keep it) and start with \
             an empty one; refusing to start, nothing in the spool was changed",
            segment.display(),
            reads()
        )
    );
    let before = golden::snapshot(dir.path());
    let report = verify(dir.path()).unwrap();
    assert_eq!(golden::snapshot(dir.path()), before, "verify is read-only");
    assert_eq!(report.refused(), 1);
    assert!(!report.is_clean());
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "REFUSED record at offset {offset}: this spool was written by a newer icsfwd \
             (record version {newer} in 00000000000000000004.seg at offset {offset}; this \
             release reads {}): install that release or a newer one to drain it",
            reads()
        )),
        "{text}"
    );
}

#[test]
fn s10_a_record_of_an_older_format_than_this_release_reads_is_refused_too() {
    let dir = golden::copy();
    let (_, offset) = golden::forge_record_version(dir.path(), record::OLDEST_VERSION - 1);
    let (error, message) = refused_without_a_change(dir.path());
    assert!(
        matches!(
            error,
            OpenError::Refused {
                error: DecodeError::BadVersion { found: 0 },
                ..
            }
        ),
        "{error}"
    );
    assert!(
        message.contains("this spool was written by an older icsfwd (record version 0 in ")
            && message.contains(&format!(
                "at offset {offset}; this release reads {}): drain it with the release that \
                 wrote it",
                reads()
            )),
        "{message}"
    );
}

#[test]
fn s10_a_checkpoint_of_a_newer_format_is_refused_not_overwritten() {
    // Regression: a checkpoint with another header was taken for damage, every cursor reset,
    // and the next checkpoint silently overwrote it with version 1.
    let dir = golden::copy();
    golden::forge_checkpoint_version(dir.path(), 2);
    let (error, message) = refused_without_a_change(dir.path());
    assert!(matches!(error, OpenError::CheckpointRefused(_)), "{error}");
    assert_eq!(
        message,
        "spool: this spool was written by a newer icsfwd (checkpoint version 2; this release \
         reads 1): install that release or a newer one to drain it, or stop icsfwd, move the \
         spool directory aside (keep it) and start with an empty one; refusing to start, \
         nothing in the spool was changed"
    );
    let report = verify(dir.path()).unwrap();
    assert!(report.checkpoint_refused && !report.is_clean());
    assert!(
        report.to_string().contains(
            "checkpoint: REFUSED: this spool was written by a newer icsfwd (checkpoint version \
             2; this release reads 1)"
        ),
        "{report}"
    );
}

#[test]
fn s10_an_interrupted_checkpoint_is_kept_when_a_record_is_refused() {
    // Recovery removes a leftover checkpoint.tmp only after the scan accepted every record.
    let dir = golden::copy();
    golden::forge_record_version(dir.path(), record::VERSION + 1);
    std::fs::write(
        dir.path().join(cursor::TEMP),
        b"icsfwd-spool-checkpoint 1\nnext-",
    )
    .unwrap();
    refused_without_a_change(dir.path());
}

// ---- record format 2: `spool_fixtures/v2/` (`spool_fixtures/golden_v2.rs`) ----

#[test]
#[ignore = "writes the golden fixture; run with ICSFWD_WRITE_GOLDEN=1"]
fn write_golden_spool_v2() {
    assert_eq!(
        std::env::var("ICSFWD_WRITE_GOLDEN").as_deref(),
        Ok("1"),
        "set ICSFWD_WRITE_GOLDEN=1"
    );
    let dir = golden_v2::dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    let written = tempfile::tempdir().unwrap();
    golden_v2::write(written.path());
    let mut tree = golden::data_only(golden::read_tree(written.path()));
    // The lock file holds the generator's pid: not part of the fixture.
    tree.remove(icsfwd::testing::spool::lock::FILE);
    for (name, bytes) in tree {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// The committed v2 fixture, copied into a fresh directory.
fn golden_v2_copy() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for (name, bytes) in golden::read_tree(&golden_v2::dir()) {
        let path = copy.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    copy
}

#[test]
fn s10_the_golden_v2_spool_reopens_with_its_exact_records_and_cursors() {
    let dir = golden_v2_copy();
    let (mut spool, recovery) = Spool::open(
        FsStorage::new(),
        dir.path(),
        golden_v2::config(),
        &golden_v2::names(),
    )
    .unwrap();
    assert_eq!(recovery.checkpoint, CheckpointState::Valid);
    assert_eq!((recovery.records, recovery.next_seq), (4, 5));
    assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
    assert!(recovery.unknown_files.is_empty(), "{recovery:?}");
    assert_eq!(recovery.destinations[0].acked, 1);
    assert_eq!(recovery.destinations[1].acked, 0);
    for index in 0..2u8 {
        let got = spool.peek(DestinationId::new(index).unwrap(), 100).unwrap();
        let got: Vec<(u64, Event)> = got.into_iter().map(|r| (r.seq, r.event)).collect();
        let want: Vec<(u64, Event)> = golden_v2::backlog(index)
            .into_iter()
            .map(|seq| (seq, golden_v2::event(seq)))
            .collect();
        assert_eq!(got, want, "destination {index}");
    }
    // The fixture holds both versions: alerts and the older kinds stay format 1.
    let versions: Vec<u8> = golden_v2::events()
        .iter()
        .map(|(event, _)| record::version_for(event))
        .collect();
    assert_eq!(versions, [1, 2, 2, 1]);
    drop(spool);
    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn s10_this_version_still_writes_the_golden_v2_bytes() {
    let dir = tempfile::tempdir().unwrap();
    golden_v2::write(dir.path());
    let mut written = golden::data_only(golden::read_tree(dir.path()));
    let committed = golden::read_tree(&golden_v2::dir());
    assert!(written.remove(icsfwd::testing::spool::lock::FILE).is_some());
    let names = |tree: &std::collections::BTreeMap<String, Vec<u8>>| -> Vec<(String, usize)> {
        tree.iter().map(|(n, b)| (n.clone(), b.len())).collect()
    };
    assert!(
        written == committed,
        "the on-disk format changed: give it a new version and a fixture of its own \
         (docs/record-format.md, \"Adding a record version\"); written {:?}, committed {:?}",
        names(&written),
        names(&committed)
    );
}
