//! Spare segment files (`docs/spool.md`, "Spare segment files"): a delivered segment's file is
//! kept and renamed into place as the next new segment, so its blocks are overwritten rather
//! than reserved again with zeros. What is proven here on the real file system: the file is
//! reused (same inode, no new reservation over many rotations), records read back exactly, the
//! frames of the file's earlier use are never data (after a clean stop, and after a crash left
//! frames of an unanswered batch among them), a write ending inside the last earlier frame
//! leaves zeros after it rather than a torn tail, `spool verify` says ok, and the files stay
//! within `max_bytes`. The power-cut sweeps over recycled segments are in `spool/crash.rs` (S3r).

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use crate::spool_support::frames::spans;
use crate::spool_support::{alert, dest, open, seqs, set};
use icsfwd::testing::spool::{MAX_SPARES, Spool, SpoolConfig, segment, verify};
use icsfwd_core::alert::{Alert, Engine, Event, Severity};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::record::{self, MAX_FRAME, Record};

/// Appends `ids` as one batch for destination 0; their sequence numbers.
fn append(spool: &mut Spool, ids: &[u64]) -> Vec<u64> {
    let batch: Vec<_> = ids
        .iter()
        .map(|&id| (alert(id, Severity::Major), set(&[0])))
        .collect();
    spool
        .append_batch(&batch)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// Delivers everything to destination 0 (checking it is exactly `expected`) and checkpoints.
fn deliver_all(spool: &mut Spool, expected: &[u64]) {
    let records = spool.peek(dest(0), 1000).unwrap();
    assert_eq!(seqs(&records), expected);
    if let Some(last) = records.last() {
        spool.ack(dest(0), last.seq).unwrap();
    }
    spool.checkpoint().unwrap();
}

/// The names of the files in `dir` ending in `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

/// The bytes of every segment and spare file in `dir`.
fn file_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".seg") || name.ends_with(".spare")
        })
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

/// The sequence numbers of the whole records in `bytes`, in file order, and the span of each.
fn records_in(bytes: &[u8]) -> Vec<(u64, std::ops::Range<usize>)> {
    spans(bytes)
        .into_iter()
        .filter_map(|s| {
            record::decode_frame(&bytes[s.clone()])
                .ok()
                .map(|r| (r.seq, s))
        })
        .collect()
}

/// More records than the spool overwrites with zeros near the end of a file's earlier frames
/// (a page and two of the largest frames): their last ones stay as they were.
const EARLIER: u64 = 200;

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

#[test]
fn a_delivered_segment_file_is_reused_and_nothing_is_reserved_again_over_many_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    let first_inode = {
        append(&mut spool, &[1, 2, 3]);
        inode(&dir.path().join(segment::file_name(1)))
    };
    deliver_all(&mut spool, &[1, 2, 3]);
    // The delivered segment is now a spare file: the same file under another name.
    assert_eq!(
        files_ending(dir.path(), ".spare"),
        [segment::spare_file_name(1)]
    );
    assert_eq!(
        inode(&dir.path().join(segment::spare_file_name(1))),
        first_inode
    );

    let mut next = 4;
    let rounds = 30;
    for round in 0..rounds {
        // Batches shorter and longer than the earlier use of the file.
        let n = 1 + (round % 5);
        let ids: Vec<u64> = (next..next + n).collect();
        let got = append(&mut spool, &ids);
        assert_eq!(got, ids);
        if round == 1 {
            // The third segment took the first one's file.
            let active = files_ending(dir.path(), ".seg");
            assert_eq!(active.len(), 1);
            assert_eq!(inode(&dir.path().join(&active[0])), first_inode);
        }
        let records = spool.peek(dest(0), 1000).unwrap();
        for (record, &id) in records.iter().zip(&ids) {
            assert_eq!(
                record.event,
                alert(id, Severity::Major),
                "read back exactly"
            );
        }
        deliver_all(&mut spool, &ids);
        next += n;
        assert_eq!(files_ending(dir.path(), ".seg").len(), 1);
        assert!(files_ending(dir.path(), ".spare").len() <= MAX_SPARES);
    }
    let stats = spool.stats();
    // Only the first two segments were new files (each reserved once); every later one
    // took a spare whose blocks were written already.
    assert_eq!(stats.zero_filled, 2, "{stats:?}");
    assert_eq!(stats.preallocated, 2, "{stats:?}");
    assert_eq!(stats.segments_recycled, rounds, "{stats:?}");
    assert_eq!(stats.segments_removed, rounds + 1, "{stats:?}");
}

#[test]
fn after_a_clean_stop_the_earlier_frames_of_a_reused_file_are_not_data_and_verify_says_ok() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    let earlier: Vec<u64> = (1..=EARLIER).collect();
    append(&mut spool, &earlier);
    deliver_all(&mut spool, &earlier);
    let (a, b) = (EARLIER + 1, EARLIER + 2);
    append(&mut spool, &[a]);
    deliver_all(&mut spool, &[a]);
    // Segment `b` is the first one's file: two records over its many.
    assert_eq!(append(&mut spool, &[b, b + 1]), [b, b + 1]);
    drop(spool);

    let active = dir.path().join(segment::file_name(b));
    let bytes = std::fs::read(&active).unwrap();
    let found: Vec<u64> = records_in(&bytes).into_iter().map(|(seq, _)| seq).collect();
    assert_eq!(found[..2], [b, b + 1]);
    assert!(
        found.len() > 100,
        "the file holds its earlier frames: {found:?}"
    );
    assert!(found[2..].iter().all(|&seq| seq < b));
    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.records, 2, "{report}");
    let text = report.to_string();
    assert!(text.contains("spare segment file"), "{text}");
    assert!(text.contains("from its earlier use"), "{text}");

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert!(
        recovery.torn.is_empty() && recovery.corrupt.is_empty(),
        "{recovery:?}"
    );
    assert!(recovery.stale_bytes > 0, "{recovery:?}");
    assert_eq!(recovery.records, 2);
    assert_eq!(recovery.next_seq, b + 2);
    assert!(!recovery.unknown_files.iter().any(|f| f.ends_with(".spare")));
    assert_eq!(recovery.spares, 1);
    assert_eq!(seqs(&spool.peek(dest(0), 100).unwrap()), [b, b + 1]);
    assert_eq!(append(&mut spool, &[7]), [b + 2]);
    assert_eq!(seqs(&spool.peek(dest(0), 100).unwrap()), [b, b + 1, b + 2]);
}

/// A frame of `seq` holding an alert whose title is `title`.
fn frame(seq: u64, id: u64, title: &str) -> Vec<u8> {
    let mut alert = Alert::new(id, 1_700_000_000_000, Engine::Operational, Severity::Major);
    alert.set_title(title);
    alert.set_sensor_name("sensor-a");
    let record = Record {
        seq,
        destinations: DestinationSet::from_bits(1),
        event: Event::from(alert),
    };
    let mut buf = vec![0u8; MAX_FRAME];
    let n = record::encode(&record, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn a_crash_that_left_frames_of_an_unanswered_batch_among_the_earlier_ones_resurrects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    let earlier: Vec<u64> = (1..=EARLIER).collect();
    append(&mut spool, &earlier);
    deliver_all(&mut spool, &earlier);
    let s = EARLIER + 2;
    append(&mut spool, &[EARLIER + 1]);
    deliver_all(&mut spool, &[EARLIER + 1]);
    assert_eq!(append(&mut spool, &[s, s + 1]), [s, s + 1]);
    drop(spool);

    // The crash: a batch s+2 ..= s+5 was written after s+1 and never answered; the pages
    // holding s+2 and s+3 were lost (an earlier frame is still there), s+4 and s+5 reached
    // the disk after it.
    let active = dir.path().join(segment::file_name(s));
    let mut bytes = std::fs::read(&active).unwrap();
    let found = records_in(&bytes);
    let (old_seq, stale) = found[2].clone();
    assert!(old_seq < s);
    // (After the data, the rest of an earlier frame that s+1 overwrote in part, then whole
    // earlier frames.)
    let data_end = found[1].1.end as u64;
    let mut leftovers = frame(s + 4, 80, "never answered");
    leftovers.extend_from_slice(&frame(s + 5, 90, "never answered"));
    bytes[stale.end..stale.end + leftovers.len()].copy_from_slice(&leftovers);
    std::fs::write(&active, &bytes).unwrap();

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert!(
        recovery.torn.is_empty() && recovery.corrupt.is_empty(),
        "{recovery:?}"
    );
    assert_eq!(recovery.next_seq, s + 2);
    assert_eq!(seqs(&spool.peek(dest(0), 100).unwrap()), [s, s + 1]);
    // The earlier frames and the leftovers among them are cut off the active segment.
    assert_eq!(std::fs::metadata(&active).unwrap().len(), data_end);

    // s+2 again, now a longer record: without the cut it would end inside the leftover s+4,
    // and the leftover s+5 would follow as a record of this segment.
    let long = frame(s + 2, 70, &"a much longer title ".repeat(8));
    assert!(long.len() > stale.len());
    let mut alert = Alert::new(70, 1_700_000_000_000, Engine::Operational, Severity::Major);
    alert.set_title(&"a much longer title ".repeat(8));
    alert.set_sensor_name("sensor-a");
    let event = Event::from(alert);
    let got = spool.append_batch(&[(event.clone(), set(&[0]))]).unwrap();
    assert_eq!(got, [Ok(s + 2)]);
    drop(spool);

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert!(recovery.corrupt.is_empty(), "{recovery:?}");
    let records = spool.peek(dest(0), 100).unwrap();
    assert_eq!(
        seqs(&records),
        [s, s + 1, s + 2],
        "nothing never accepted comes back"
    );
    assert_eq!(records[2].event, event);
    assert_eq!(recovery.next_seq, s + 3);
    assert!(verify(dir.path()).unwrap().is_clean());
}

#[test]
fn segment_and_spare_files_stay_within_max_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let config = SpoolConfig {
        max_bytes: 1500,
        segment_bytes: 1000,
        ..SpoolConfig::default()
    };
    let (mut spool, _) = open(dir.path(), config, 1);
    let mut next = 1;
    for round in 0..12 {
        let n = 2 + round % 4;
        let ids: Vec<u64> = (next..next + n).collect();
        append(&mut spool, &ids);
        assert!(file_bytes(dir.path()) <= config.max_bytes);
        deliver_all(&mut spool, &ids);
        next += n;
        let used = file_bytes(dir.path());
        assert!(used <= config.max_bytes, "round {round}: {used} bytes");
    }
    assert!(spool.stats().segments_recycled > 0, "{:?}", spool.stats());
}

#[test]
fn spare_files_found_at_open_are_kept_up_to_the_bound_and_the_quota() {
    let dir = tempfile::tempdir().unwrap();
    for seq in [10, 20, 30] {
        std::fs::write(dir.path().join(segment::spare_file_name(seq)), [0u8; 600]).unwrap();
    }
    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert_eq!(recovery.spares, MAX_SPARES);
    assert!(recovery.unknown_files.is_empty(), "{recovery:?}");
    assert_eq!(files_ending(dir.path(), ".spare").len(), MAX_SPARES);
    // The next new segment takes one.
    append(&mut spool, &[1]);
    assert_eq!(spool.stats().segments_recycled, 1);
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [1]);
    drop(spool);

    // Over the quota: none is kept.
    let tight = SpoolConfig {
        max_bytes: 700,
        ..SpoolConfig::default()
    };
    let (_, recovery) = open(dir.path(), tight, 1);
    assert_eq!(recovery.spares, 0);
    assert!(files_ending(dir.path(), ".spare").is_empty());
}

#[test]
fn a_write_ending_inside_the_last_earlier_frame_leaves_zeros_after_it_not_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    append(&mut spool, &[1, 2, 3, 4, 5]);
    deliver_all(&mut spool, &[1, 2, 3, 4, 5]);
    append(&mut spool, &[6]);
    deliver_all(&mut spool, &[6]);
    // Segment 7 takes the first file: where its last earlier frame lies.
    let active = dir.path().join(segment::file_name(7));
    let earlier = records_in(&std::fs::read(&active).unwrap());
    let last = earlier.last().unwrap().1.clone();
    // Enough records (longer ones than before) to end inside that frame.
    let len = frame(7, 200, "PLC stop").len();
    let n = (1..20).find(|n| n * len > last.start).unwrap();
    assert!(n * len < last.end, "{n} × {len} bytes end inside {last:?}");
    let ids: Vec<u64> = (200..200 + n as u64).collect();
    let seqs_written = append(&mut spool, &ids);
    drop(spool);

    // Without the zeros, the rest of that frame followed by the old zero tail would read as
    // a torn tail: damage after a clean stop.
    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert!(
        recovery.torn.is_empty() && recovery.corrupt.is_empty(),
        "{recovery:?}"
    );
    assert_eq!(seqs(&spool.peek(dest(0), 100).unwrap()), seqs_written);
    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report}");
}
