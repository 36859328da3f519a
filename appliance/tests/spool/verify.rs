//! `spool verify`: the report on a good and on a damaged spool directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::io;
use std::path::Path;

use icsfwd::testing::spool::lock::LockError;
use icsfwd::testing::spool::storage::{FsStorage, Storage};
use icsfwd::testing::spool::{CheckpointState, SpoolConfig, segment, verify, verify_with};
use icsfwd_core::alert::Severity;
use spool_support::{alert, dest, open, segment_data, set};

fn spool_with_five_records(dir: &std::path::Path) {
    let (mut spool, _) = open(dir, SpoolConfig::default(), 2);
    let events: Vec<_> = (1..=5)
        .map(|i| {
            (
                alert(i, Severity::Major),
                set(if i % 2 == 0 { &[0, 1] } else { &[0] }),
            )
        })
        .collect();
    spool.append_batch(&events).unwrap();
    spool.ack(dest(0), 3).unwrap();
    spool.checkpoint().unwrap();
}

#[test]
fn good_directory_reports_records_cursors_and_backlog_and_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    spool_with_five_records(dir.path());
    let before: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();

    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.records, 5);
    assert_eq!(report.segments.len(), 1);
    assert_eq!(report.segments[0].seq_range, Some((1, 5)));
    assert_eq!(report.checkpoint, CheckpointState::Valid);
    assert_eq!(report.next_seq, 6);
    let destinations: Vec<_> = report
        .destinations
        .iter()
        .map(|d| (d.index, d.name.as_deref(), d.acked, d.backlog))
        .collect();
    // Destination 0: records 4, 5 after its cursor 3. Destination 1: records 2 and 4.
    assert_eq!(
        destinations,
        [(0, Some("dest-0"), 3, 2), (1, Some("dest-1"), 0, 2)]
    );
    let text = report.to_string();
    assert!(text.contains("5 record(s)"), "{text}");
    assert!(
        text.contains("destination #0 dest-0: acknowledged up to 3, backlog 2"),
        "{text}"
    );
    assert!(text.ends_with("result: ok"), "{text}");
    // Read-only.
    let after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn damaged_directory_reports_each_corrupt_frame_with_its_offset_and_the_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    spool_with_five_records(dir.path());
    let path = dir.path().join(segment::file_name(1));
    let file = std::fs::read(&path).unwrap();
    let mut bytes = segment_data(&file).to_vec();
    let ends: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == 0)
        .map(|(i, _)| i + 1)
        .collect();
    // Damage frame 2 (starts at ends[0]) and add half a frame at the end.
    let middle = ends[0] + (ends[1] - ends[0]) / 2;
    bytes[middle] = if bytes[middle] == 0x42 { 0x43 } else { 0x42 };
    let half = bytes[ends[3]..ends[4] - 1].len() / 2;
    let tail = bytes[ends[3]..ends[3] + half].to_vec();
    bytes.extend_from_slice(&tail);
    // The half frame is written into the preallocated tail, which goes on after it: a write
    // cut short there is still reported as the torn tail.
    bytes.resize(bytes.len().max(file.len()), 0);
    std::fs::write(&path, &bytes).unwrap();

    let report = verify(dir.path()).unwrap();
    assert!(!report.is_clean());
    assert_eq!(report.records, 4);
    assert_eq!(report.corrupt_frames(), 1);
    let corrupt = report.segments[0].corrupt[0];
    assert_eq!(corrupt.offset, ends[0] as u64);
    assert_eq!(corrupt.len, (ends[1] - ends[0]) as u64);
    // A CRC mismatch, or a COBS error when the byte was a code byte: damage, skipped.
    assert!(!corrupt.error.must_refuse(), "{:?}", corrupt.error);
    let torn = report.segments[0].torn.unwrap();
    assert_eq!((torn.start, torn.bytes), (ends[4] as u64, half));
    let text = report.to_string();
    assert!(
        text.contains(&format!("CORRUPT frame at offset {}", ends[0])),
        "{text}"
    );
    assert!(text.contains("torn tail at offset"), "{text}");
    assert!(
        text.contains("PROBLEMS: 1 corrupt frame(s), 1 torn tail(s)"),
        "{text}"
    );
    // verify changed nothing: the torn tail is still there for the service to cut.
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_missing_directory_is_an_error_not_an_empty_report() {
    let dir = tempfile::tempdir().unwrap();
    assert!(verify(&dir.path().join("absent")).is_err());
}

#[test]
fn beside_a_running_writer_the_tail_being_written_is_not_damage_and_the_writer_is_named() {
    let dir = tempfile::tempdir().unwrap();
    spool_with_five_records(dir.path());
    // The writer: a spool open in this process holds the spool's lock.
    let (writer, _) = open(dir.path(), SpoolConfig::default(), 2);
    let path = dir.path().join(segment::file_name(1));
    let mut bytes = std::fs::read(&path).unwrap();
    let whole = bytes.len() as u64;
    bytes.extend_from_slice(&[0x21; 17]); // half a frame, as a write in progress shows it
    std::fs::write(&path, &bytes).unwrap();

    let report = verify(dir.path()).unwrap();
    assert_eq!(report.writer.map(|w| w.pid), Some(Some(std::process::id())));
    let segment = &report.segments[0];
    assert_eq!(segment.torn, None);
    assert_eq!(
        segment.writing.map(|t| (t.start, t.bytes)),
        Some((whole, 17))
    );
    assert!(report.is_clean(), "{report}");
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "in use by a running icsfwd (pid {}): a snapshot of a spool being written",
            std::process::id()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("write in progress at offset {whole} (17 bytes)")),
        "{text}"
    );

    // Without a writer the same bytes are a torn tail: damage until the service cuts it.
    drop(writer);
    let report = verify(dir.path()).unwrap();
    assert_eq!(report.writer, None);
    assert!(report.segments[0].torn.is_some() && !report.is_clean());
}

/// Lists one segment more than the directory holds: one removed between the listing and the
/// read, as the running service's checkpoint does.
struct ListsARemovedSegment(FsStorage);

impl Storage for ListsARemovedSegment {
    fn create_dir_all(&mut self, dir: &Path) -> io::Result<()> {
        self.0.create_dir_all(dir)
    }
    fn list(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = self.0.list(dir)?;
        names.push(segment::file_name(0));
        Ok(names)
    }
    fn create(&mut self, path: &Path) -> io::Result<()> {
        self.0.create(path)
    }
    fn append(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
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
fn a_segment_removed_while_verifying_is_reported_removed_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    spool_with_five_records(dir.path());
    let report = verify_with(&mut ListsARemovedSegment(FsStorage::new()), dir.path()).unwrap();
    assert_eq!(report.segments.len(), 2);
    assert!(report.segments[0].removed);
    assert_eq!(report.records, 5);
    assert!(report.is_clean(), "{report}");
    assert!(
        report.to_string().contains(&format!(
            "segment {}: removed by the running service while verifying",
            segment::file_name(0)
        )),
        "{report}"
    );
}
