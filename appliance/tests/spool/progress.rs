//! The spool's progress log (`icsfwd::testing::spool::progress`): after a kill (the spool dropped
//! without a checkpoint), a destination resumes after the last record it acknowledged; a
//! hint that is torn, damaged, stale, beyond the end, of another spool or of a renamed or
//! removed destination is ignored and counted, never trusted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io;
use std::path::{Path, PathBuf};

use icsfwd::testing::spool::lock::LockError;
use icsfwd::testing::spool::progress::{self, Hint, Ignored, name_crc};
use icsfwd::testing::spool::storage::{FsStorage, Storage};
use icsfwd::testing::spool::{CheckpointState, Recovery, Spool, SpoolConfig};
use icsfwd_core::alert::{Alert, Event};
use icsfwd_core::destination::{DestinationId, DestinationSet};

fn dest(i: u8) -> DestinationId {
    DestinationId::new(i).unwrap()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

fn open(dir: &Path, list: &[&str]) -> (Spool, Recovery) {
    Spool::open(FsStorage::new(), dir, SpoolConfig::default(), &names(list)).unwrap()
}

/// `n` alerts for `set`, at times from `time`.
fn append(spool: &mut Spool, n: u64, time: u64, set: DestinationSet) {
    let batch: Vec<(Event, DestinationSet)> = (0..n)
        .map(|i| (Event::from(Alert::example(time + i)), set))
        .collect();
    for result in spool.append_batch(&batch).unwrap() {
        result.unwrap();
    }
}

fn progress_file(dir: &Path) -> PathBuf {
    dir.join(progress::FILE)
}

fn seqs(spool: &mut Spool, d: u8) -> Vec<u64> {
    spool
        .peek(dest(d), 1000)
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect()
}

/// A spool of 10 records for destination 0 that acknowledged up to `acks` (in that order)
/// and was then "killed" (dropped without a checkpoint).
fn killed_after_acks(acks: &[u64]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), &["a"]);
    append(&mut spool, 10, 1_000, DestinationSet::EMPTY.with(dest(0)));
    for &upto in acks {
        spool.ack(dest(0), upto).unwrap();
    }
    drop(spool);
    dir
}

#[test]
fn after_a_kill_a_destination_resumes_after_its_last_acknowledged_record() {
    let dir = killed_after_acks(&[3, 6]);
    let (mut spool, recovery) = open(dir.path(), &["a"]);
    assert_eq!(recovery.checkpoint, CheckpointState::Missing);
    assert_eq!(recovery.destinations[0].acked, 6);
    assert_eq!(recovery.destinations[0].backlog, 4);
    assert_eq!(
        recovery.progress.applied,
        vec![progress::Applied {
            name: "a".into(),
            checkpoint: 0,
            resumed: 6,
            records: 6
        }]
    );
    assert!(recovery.progress.ignored.is_empty());
    assert_eq!(seqs(&mut spool, 0), vec![7, 8, 9, 10]);
    assert_eq!(spool.stats().destinations[0].backlog, 4);
}

#[test]
fn without_a_kill_the_checkpoint_covers_every_hint_and_empties_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), &["a"]);
    append(&mut spool, 10, 1_000, DestinationSet::EMPTY.with(dest(0)));
    spool.ack(dest(0), 4).unwrap();
    assert!(std::fs::metadata(progress_file(dir.path())).unwrap().len() > 0);
    spool.checkpoint().unwrap();
    assert_eq!(
        std::fs::metadata(progress_file(dir.path())).unwrap().len(),
        0
    );
    drop(spool);
    let (_, recovery) = open(dir.path(), &["a"]);
    assert_eq!(recovery.destinations[0].acked, 4);
    assert!(recovery.progress.applied.is_empty());
}

#[test]
fn a_torn_last_line_is_ignored_and_the_previous_hint_used() {
    let dir = killed_after_acks(&[3, 6]);
    let path = progress_file(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let (_, recovery) = open(dir.path(), &["a"]);
    assert_eq!(recovery.progress.damaged_lines, 1);
    assert_eq!(recovery.destinations[0].acked, 3);
}

#[test]
fn damaged_or_foreign_lines_are_counted_and_never_trusted() {
    let good = Hint {
        index: 0,
        seq: 9,
        fingerprint: 0,
        name_crc: name_crc("a"),
    }
    .encode_line();
    let cases: [(&str, String); 5] = [
        (
            "bit flip in the sequence number",
            good.replace(" 9 ", " 8 "),
        ),
        ("zeros of a power cut", "\0".repeat(good.len() - 1) + "\n"),
        ("garbage", "progress 0 nine 0 0 0\n".into()),
        ("no CRC", "progress 0 9 00000000 00000000\n".into()),
        ("empty line", "\n".into()),
    ];
    for (what, line) in cases {
        let dir = killed_after_acks(&[3]);
        let path = progress_file(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(line.as_bytes());
        std::fs::write(&path, bytes).unwrap();
        let (_, recovery) = open(dir.path(), &["a"]);
        assert_eq!(recovery.progress.damaged_lines, 1, "{what}");
        assert_eq!(recovery.destinations[0].acked, 3, "{what}");
    }
}

#[test]
fn a_hint_beyond_the_last_record_is_ignored() {
    let dir = killed_after_acks(&[]);
    let line = Hint {
        index: 0,
        seq: 11,
        fingerprint: 0,
        name_crc: name_crc("a"),
    }
    .encode_line();
    std::fs::write(progress_file(dir.path()), line).unwrap();
    let (mut spool, recovery) = open(dir.path(), &["a"]);
    assert_eq!(
        recovery.progress.ignored,
        vec![Ignored::BeyondEnd {
            index: 0,
            seq: 11,
            next_seq: 11
        }]
    );
    assert_eq!(recovery.destinations[0].acked, 0);
    assert_eq!(seqs(&mut spool, 0).len(), 10);
}

#[test]
fn a_hint_of_another_spool_generation_is_ignored() {
    // Same sequence numbers, other events: the fingerprint differs.
    let old = killed_after_acks(&[6]);
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), &["a"]);
    append(&mut spool, 10, 5_000, DestinationSet::EMPTY.with(dest(0)));
    drop(spool);
    std::fs::copy(progress_file(old.path()), progress_file(dir.path())).unwrap();
    let (mut spool, recovery) = open(dir.path(), &["a"]);
    assert_eq!(
        recovery.progress.ignored,
        vec![Ignored::Mismatch { index: 0, seq: 6 }]
    );
    assert_eq!(recovery.destinations[0].acked, 0);
    assert_eq!(seqs(&mut spool, 0).len(), 10);
}

#[test]
fn a_stale_hint_behind_the_checkpoint_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), &["a"]);
    append(&mut spool, 10, 1_000, DestinationSet::EMPTY.with(dest(0)));
    spool.ack(dest(0), 4).unwrap();
    let old = std::fs::read(progress_file(dir.path())).unwrap();
    spool.ack(dest(0), 8).unwrap();
    spool.checkpoint().unwrap();
    drop(spool);
    std::fs::write(progress_file(dir.path()), old).unwrap();
    let (_, recovery) = open(dir.path(), &["a"]);
    assert_eq!(recovery.progress.stale, 1);
    assert_eq!(recovery.destinations[0].acked, 8);
}

#[test]
fn a_hint_of_a_renamed_or_removed_destination_is_ignored() {
    // Never checkpointed, so the rename itself is not refused by the checkpoint check.
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), &["a", "b"]);
    let both = DestinationSet::EMPTY.with(dest(0)).with(dest(1));
    append(&mut spool, 10, 1_000, both);
    spool.ack(dest(0), 5).unwrap();
    spool.ack(dest(1), 7).unwrap();
    drop(spool);
    let saved = std::fs::read(progress_file(dir.path())).unwrap();

    let (_, recovery) = open(dir.path(), &["a", "renamed"]);
    assert_eq!(
        recovery.progress.ignored,
        vec![Ignored::Renamed { index: 1 }]
    );
    assert_eq!(recovery.destinations[0].acked, 5);
    assert_eq!(recovery.destinations[1].acked, 0);

    std::fs::write(progress_file(dir.path()), &saved).unwrap();
    let (_, recovery) = open(dir.path(), &["a"]);
    assert_eq!(
        recovery.progress.ignored,
        vec![Ignored::Removed { index: 1 }]
    );
    assert_eq!(recovery.destinations[0].acked, 5);
}

#[test]
fn destinations_resume_independently() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), &["a", "b"]);
    append(&mut spool, 5, 1_000, DestinationSet::EMPTY.with(dest(0)));
    append(
        &mut spool,
        5,
        2_000,
        DestinationSet::EMPTY.with(dest(0)).with(dest(1)),
    );
    spool.ack(dest(0), 3).unwrap();
    spool.ack(dest(1), 8).unwrap();
    drop(spool);
    let (mut spool, recovery) = open(dir.path(), &["a", "b"]);
    assert_eq!(recovery.destinations[0].acked, 3);
    assert_eq!(recovery.destinations[0].backlog, 7);
    assert_eq!(recovery.destinations[1].acked, 8);
    assert_eq!(recovery.destinations[1].backlog, 2);
    assert_eq!(seqs(&mut spool, 1), vec![9, 10]);
}

#[test]
fn segments_are_removed_only_by_a_durable_checkpoint_not_by_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let config = SpoolConfig {
        segment_bytes: 1,
        ..SpoolConfig::default()
    };
    let one = DestinationSet::EMPTY.with(dest(0));
    let (mut spool, _) = Spool::open(FsStorage::new(), dir.path(), config, &names(&["a"])).unwrap();
    for i in 0..4 {
        append(&mut spool, 1, 1_000 + i, one);
    }
    spool.ack(dest(0), 4).unwrap();
    drop(spool);
    let segments = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("seg".as_ref()))
            .count()
    };
    assert_eq!(segments(dir.path()), 4);
    let (mut spool, recovery) =
        Spool::open(FsStorage::new(), dir.path(), config, &names(&["a"])).unwrap();
    assert_eq!(recovery.destinations[0].acked, 4);
    assert_eq!(segments(dir.path()), 4, "opening removes nothing");
    spool.checkpoint().unwrap();
    assert!(segments(dir.path()) < 4, "the checkpoint does");
}

#[test]
fn the_log_stays_small_when_no_checkpoint_empties_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), &["a"]);
    append(&mut spool, 3000, 1_000, DestinationSet::EMPTY.with(dest(0)));
    for upto in 1..=3000 {
        spool.ack(dest(0), upto).unwrap();
    }
    let len = std::fs::metadata(progress_file(dir.path())).unwrap().len();
    assert!(len <= progress::COMPACT_AT + 100, "{len} bytes");
    assert!(spool.stats().progress.rewrites >= 2);
    drop(spool);
    let (_, recovery) = open(dir.path(), &["a"]);
    assert_eq!(recovery.destinations[0].acked, 3000);
}

/// [`FsStorage`] whose writes to the progress log fail (a full disk).
struct NoProgress(FsStorage);

fn fail_progress(path: &Path) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with(progress::FILE) {
        return Err(io::Error::other("no space left on device"));
    }
    Ok(())
}

impl Storage for NoProgress {
    fn create_dir_all(&mut self, dir: &Path) -> io::Result<()> {
        self.0.create_dir_all(dir)
    }
    fn list(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        self.0.list(dir)
    }
    fn create(&mut self, path: &Path) -> io::Result<()> {
        fail_progress(path)?;
        self.0.create(path)
    }
    fn append(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
        fail_progress(path)?;
        self.0.append(path, data)
    }
    fn truncate(&mut self, path: &Path, len: u64) -> io::Result<()> {
        self.0.truncate(path, len)
    }
    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read_at(path, offset, buf)
    }
    fn len(&mut self, path: &Path) -> io::Result<u64> {
        self.0.len(path)
    }
    fn sync_file(&mut self, path: &Path) -> io::Result<()> {
        self.0.sync_file(path)
    }
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        self.0.sync_dir(dir)
    }
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        self.0.rename(from, to)
    }
    fn remove(&mut self, path: &Path) -> io::Result<()> {
        self.0.remove(path)
    }

    fn lock_dir(&mut self, dir: &Path) -> Result<(), LockError> {
        self.0.lock_dir(dir)
    }
}

#[test]
fn a_failed_progress_write_never_fails_the_acknowledgement() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = Spool::open(
        NoProgress(FsStorage::new()),
        dir.path(),
        SpoolConfig::default(),
        &names(&["a"]),
    )
    .unwrap();
    let batch = vec![(
        Event::from(Alert::example(1)),
        DestinationSet::EMPTY.with(dest(0)),
    )];
    spool.append_batch(&batch).unwrap()[0].clone().unwrap();
    assert_eq!(spool.ack(dest(0), 1).unwrap(), 1);
    spool.checkpoint().unwrap();
    assert!(spool.stats().progress.errors >= 2);
    drop(spool);
    // Nothing was lost: the checkpoint has the cursor.
    let (_, recovery) = open(dir.path(), &["a"]);
    assert_eq!(recovery.destinations[0].acked, 1);
}
