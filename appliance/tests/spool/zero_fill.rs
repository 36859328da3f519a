//! How a segment's blocks are reserved ahead of its data (`docs/spool.md`, flash writes):
//! with written zeros while batches are small (`icsfwd::testing::spool::ZERO_FILL_BELOW`), so that the
//! `fdatasync` of each small batch commits no block-map change to the file system's journal;
//! with `fallocate` for large batches, which would pay the zeros in full. Either way the tail
//! reads as zeros and the records read back exactly.

use crate::spool_support::{alert, dest, open, segment_data, seqs, set};
use icsfwd::testing::spool::storage::{FsStorage, Storage as _};
use icsfwd::testing::spool::{PREALLOCATE_STEP, SpoolConfig, ZERO_FILL_BELOW, segment};
use icsfwd_core::alert::Severity;

#[test]
fn reserve_written_writes_zeros_from_the_end_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let mut fs = FsStorage::new();
    fs.create(&path).unwrap();
    fs.append(&path, b"data\0").unwrap();
    // Not a multiple of the page it writes at a time.
    let len = 200_000;
    fs.reserve_written(&path, len).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len() as u64, len);
    assert_eq!(&bytes[..5], b"data\0");
    assert!(
        bytes[5..].iter().all(|&b| b == 0),
        "the reserved tail is zeros"
    );

    // Already that long: nothing is written, nothing cut.
    fs.reserve_written(&path, 10).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
}

#[test]
fn small_batches_reserve_with_zeros_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    for i in 1..=3 {
        spool
            .append_batch(&[(alert(i, Severity::Major), set(&[0]))])
            .unwrap();
    }
    let stats = spool.stats();
    assert_eq!((stats.preallocated, stats.zero_filled), (1, 1));
    let file = std::fs::read(dir.path().join(segment::file_name(1))).unwrap();
    assert_eq!(file.len() as u64, PREALLOCATE_STEP);
    let data = segment_data(&file).len();
    assert!(file[data..].iter().all(|&b| b == 0));
    drop(spool);

    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert_eq!(recovery.next_seq, 4);
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [1, 2, 3]);
    // Appends go on inside the zeros, reserving nothing more.
    spool
        .append_batch(&[(alert(4, Severity::Major), set(&[0]))])
        .unwrap();
    assert_eq!(spool.stats().preallocated, 0);
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [1, 2, 3, 4]);
}

#[test]
fn a_large_batch_reserves_with_fallocate() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    // Well over the threshold once averaged (a moving average that starts at 0 and gives a
    // new batch a quarter's weight).
    let n = 8 * ZERO_FILL_BELOW / 100;
    let batch: Vec<_> = (1..=n)
        .map(|i| (alert(i, Severity::Major), set(&[0])))
        .collect();
    spool.append_batch(&batch).unwrap();
    let stats = spool.stats();
    assert_eq!((stats.preallocated, stats.zero_filled), (1, 0));
    let file = std::fs::read(dir.path().join(segment::file_name(1))).unwrap();
    assert_eq!(file.len() as u64, PREALLOCATE_STEP);
    drop(spool);
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    assert_eq!(
        seqs(&spool.peek(dest(0), 1000).unwrap()),
        (1..=n).collect::<Vec<_>>()
    );
}
