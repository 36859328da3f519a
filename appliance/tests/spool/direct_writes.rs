//! Segment data written through `O_DIRECT` in whole 512-byte blocks (`docs/spool.md`, flash
//! writes): the zeros that pad a batch's last block are padding, a segment file may end in a
//! zero-padded partial block after its data, and the records read back exactly across
//! restarts. The storage's own tests (`appliance/src/spool/storage/direct.rs`) check the bytes
//! of each write and the fallback where `O_DIRECT` is refused.

use std::path::{Path, PathBuf};

use crate::spool_support::{alert, decode_all, dest, open, segment_data, seqs, set};
use icsfwd::testing::spool::{SpoolConfig, segment, verify};
use icsfwd_core::alert::Severity;

fn segment_path(dir: &Path) -> PathBuf {
    dir.join(segment::file_name(1))
}

/// Appends records one batch each (one write and one `fdatasync` each, as at a steady trickle)
/// until the spool refuses one; returns how many it took.
fn fill(dir: &Path, config: SpoolConfig, first: u64) -> u64 {
    let (mut spool, _) = open(dir, config, 1);
    let mut seq = first;
    while spool
        .append_batch(&[(alert(seq, Severity::Major), set(&[0]))])
        .unwrap()[0]
        .is_ok()
    {
        seq += 1;
    }
    seq - first
}

#[test]
fn a_segment_that_ends_in_a_zero_padded_block_reopens_and_appends_after_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    for i in 1..=3 {
        spool
            .append_batch(&[(alert(i, Severity::Major), set(&[0]))])
            .unwrap();
    }
    drop(spool);
    // The file as a writer that pads its last block past the file's end leaves it: the
    // data, then zeros to the next 512-byte boundary (not a multiple of the data's length).
    let path = segment_path(dir.path());
    let data = segment_data(&std::fs::read(&path).unwrap()).to_vec();
    let padded = data.len().div_ceil(512) * 512;
    assert!(padded > data.len(), "the data ends inside a block");
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(data.len() as u64).unwrap();
    file.set_len(padded as u64).unwrap();
    drop(file);

    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report}");
    let (mut spool, recovery) = open(dir.path(), SpoolConfig::default(), 1);
    assert_eq!(recovery.next_seq, 4);
    assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
    // The next batch goes on right after the data, inside the padding, not after it.
    spool
        .append_batch(&[(alert(4, Severity::Major), set(&[0]))])
        .unwrap();
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [1, 2, 3, 4]);
    drop(spool);
    let bytes = std::fs::read(&path).unwrap();
    let records = decode_all(segment_data(&bytes));
    assert_eq!(seqs(&records), [1, 2, 3, 4]);
    assert!(segment_data(&bytes).starts_with(&data));
    assert!(
        !segment_data(&bytes).windows(2).any(|w| w == [0, 0]),
        "no padding inside the data"
    );
}

#[test]
fn batches_across_block_boundaries_up_to_a_quota_read_back_after_restarts() {
    let dir = tempfile::tempdir().unwrap();
    // Not a multiple of a block: the last reservation ends inside one, and the batches there
    // write past the file's end.
    let config = SpoolConfig {
        max_bytes: 10_000,
        ..SpoolConfig::default()
    };
    let first = fill(dir.path(), config, 1);
    assert!(first > 20, "{first} records");
    let (mut spool, recovery) = open(dir.path(), config, 1);
    assert_eq!(recovery.next_seq, first + 1);
    assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
    let all: Vec<u64> = (1..=first).collect();
    assert_eq!(seqs(&spool.peek(dest(0), 1000).unwrap()), all);
    // Delivered and removed, then filled again from where the data ended.
    spool.ack(dest(0), first).unwrap();
    spool.checkpoint().unwrap();
    drop(spool);
    let second = fill(dir.path(), config, first + 1);
    assert!(second > 0);
    let (mut spool, _) = open(dir.path(), config, 1);
    let rest: Vec<u64> = (first + 1..=first + second).collect();
    assert_eq!(seqs(&spool.peek(dest(0), 1000).unwrap()), rest);
    drop(spool);
    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report}");
    let on_disk: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| segment::parse_file_name(p.file_name().unwrap().to_str().unwrap()).is_some())
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(
        on_disk <= 10_000,
        "the segment files stay within the quota: {on_disk}"
    );
}
