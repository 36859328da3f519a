//! Preallocated segments (`docs/spool.md`, flash writes): the spool reserves a segment's blocks
//! ahead of its data, so a segment file on disk is its records followed by zeros. The zeros are
//! not data: recovery finds the data's end, appends go on inside the reserved tail, `spool
//! verify` says ok, and a write cut short inside the tail is a torn tail (cut at open), never
//! a corrupt frame or a record. The power-cut sweeps over preallocated segments are in
//! `spool/crash.rs`.

use std::path::{Path, PathBuf};

use crate::spool_support::{alert, dest, open, segment_data, seqs, set};
use icsfwd::testing::spool::{PREALLOCATE_STEP, SpoolConfig, segment, verify};
use icsfwd_core::alert::Severity;

fn segment_path(dir: &Path) -> PathBuf {
    dir.join(segment::file_name(1))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// A spool in `dir` whose one segment holds `n` records, one batch each, left without a
/// checkpoint as a kill would leave it; returns the segment's data (without its tail).
fn killed_spool_with(dir: &Path, n: u64) -> Vec<u8> {
    let (mut spool, _) = open(dir, SpoolConfig::default(), 1);
    for i in 1..=n {
        assert_eq!(
            spool
                .append_batch(&[(alert(i, Severity::Major), set(&[0]))])
                .unwrap(),
            [Ok(i)]
        );
    }
    drop(spool);
    segment_data(&std::fs::read(segment_path(dir)).unwrap()).to_vec()
}

#[test]
fn a_preallocated_tail_is_not_data_appends_go_on_inside_it_and_verify_says_ok() {
    let dir = tempfile::tempdir().unwrap();
    let path = segment_path(dir.path());
    let data = killed_spool_with(dir.path(), 3);
    assert_eq!(
        file_len(&path),
        PREALLOCATE_STEP,
        "the segment's blocks are reserved ahead of its data"
    );
    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.records, 3);

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert_eq!(recovery.records, 3);
    assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
    assert_eq!(recovery.truncated_bytes, 0);
    let stats = spool.stats();
    assert_eq!(stats.live_bytes, data.len() as u64, "zeros are not data");
    assert_eq!(stats.disk_bytes, data.len() as u64);

    // The next record goes right after the data, inside the reserved tail.
    assert_eq!(
        spool
            .append_batch(&[(alert(4, Severity::Critical), set(&[0]))])
            .unwrap(),
        [Ok(4)]
    );
    drop(spool);
    assert_eq!(file_len(&path), PREALLOCATE_STEP, "written inside the file");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..data.len()], &data[..]);
    assert!(segment_data(&bytes).len() > data.len());

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
    let records = spool.peek(dest(0), 10).unwrap();
    assert_eq!(seqs(&records), [1, 2, 3, 4]);
    assert_eq!(records[3].event, alert(4, Severity::Critical));
    drop(spool);
    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report}");
}

#[test]
fn a_write_cut_short_at_every_byte_inside_the_tail_is_a_torn_tail_cut_at_open() {
    let reference = tempfile::tempdir().unwrap();
    let data = killed_spool_with(reference.path(), 2);
    let first_len = data.iter().position(|&b| b == 0).unwrap() + 1;
    let last_len = data.len() - first_len;
    // The reserved tail after the cut write: zeros (a few KiB are as good as the whole step).
    let tail = 4096;

    // Cut before its last byte: the zero after the last byte is the frame's delimiter, so
    // that frame is whole (its CRC says so), recovered as any whole record of an unanswered
    // batch may be.
    let whole = tempfile::tempdir().unwrap();
    let mut image = data[..data.len() - 1].to_vec();
    image.resize(data.len() - 1 + tail, 0);
    std::fs::write(segment_path(whole.path()), &image).unwrap();
    let (mut spool, recovery) = open(whole.path(), SpoolConfig::default(), 1);
    assert_eq!(recovery.records, 2);
    assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [1, 2]);

    for cut in 1..last_len - 1 {
        let dir = tempfile::tempdir().unwrap();
        let path = segment_path(dir.path());
        let mut image = data[..first_len + cut].to_vec();
        image.resize(first_len + cut + tail, 0);
        std::fs::write(&path, &image).unwrap();

        let report = verify(dir.path()).unwrap();
        assert_eq!(
            (report.records, report.torn_tails(), report.corrupt_frames()),
            (1, 1, 0),
            "cut at {cut}: {report}"
        );

        let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
        assert_eq!(recovery.records, 1, "cut at {cut}");
        assert!(recovery.corrupt.is_empty(), "cut at {cut}: {recovery:?}");
        assert_eq!(recovery.torn.len(), 1, "cut at {cut}");
        let torn = recovery.torn[0].1;
        assert_eq!(
            (torn.start, torn.bytes),
            (first_len as u64, cut),
            "cut at {cut}"
        );
        assert_eq!(recovery.truncated_bytes, cut as u64, "cut at {cut}");
        assert_eq!(spool.stats().live_bytes, first_len as u64, "cut at {cut}");

        // The torn record was never acknowledged: its sequence number is given again, and
        // the new record cannot merge with the fragment.
        assert_eq!(
            spool
                .append_batch(&[(alert(3, Severity::Critical), set(&[0]))])
                .unwrap(),
            [Ok(2)],
            "cut at {cut}"
        );
        drop(spool);
        let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
        assert!(
            recovery.torn.is_empty() && recovery.corrupt.is_empty(),
            "cut at {cut}: {recovery:?}"
        );
        let records = spool.peek(dest(0), 10).unwrap();
        assert_eq!(seqs(&records), [1, 2], "cut at {cut}");
        assert_eq!(records[1].event, alert(3, Severity::Critical));
    }
}

#[test]
fn a_damaged_frame_before_more_records_stays_corrupt_not_torn() {
    // Only the last frame before the zeros can be a write cut short: damage earlier in the
    // segment is corruption, as without preallocation.
    let dir = tempfile::tempdir().unwrap();
    let path = segment_path(dir.path());
    let data = killed_spool_with(dir.path(), 3);
    let first_len = data.iter().position(|&b| b == 0).unwrap() + 1;
    let mut bytes = std::fs::read(&path).unwrap();
    let victim = first_len + 3;
    bytes[victim] = if bytes[victim] == 0x42 { 0x43 } else { 0x42 };
    std::fs::write(&path, &bytes).unwrap();

    let (_, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert_eq!(recovery.records, 2);
    assert_eq!(recovery.corrupt.len(), 1);
    assert_eq!(recovery.corrupt[0].1.offset, first_len as u64);
    assert!(recovery.torn.is_empty(), "{recovery:?}");
}

#[test]
fn the_reservation_stays_within_the_room_the_quota_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let path = segment_path(dir.path());
    let config = SpoolConfig {
        max_bytes: 10_000,
        ..SpoolConfig::default()
    };
    let (mut spool, _) = open(dir.path(), config, 1);
    assert_eq!(
        spool
            .append_batch(&[(alert(1, Severity::Major), set(&[0]))])
            .unwrap(),
        [Ok(1)]
    );
    // Not a whole step (1 MiB): the segment files together stay within `max_bytes`.
    assert_eq!(file_len(&path), 10_000);
    let mut seq = 1;
    while spool
        .append_batch(&[(alert(seq + 1, Severity::Major), set(&[0]))])
        .unwrap()[0]
        .is_ok()
    {
        seq += 1;
        assert!(file_len(&path) <= 10_000, "{} bytes", file_len(&path));
    }
    assert!(seq > 1, "records were appended inside the reservation");
    assert_eq!(spool.stats().live_bytes, spool.stats().disk_bytes);
}
