//! A destination the configuration no longer names, across a reopen: its position, cursor
//! and records are kept (counted against the quota) until it is released.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::time::Duration;

use icsfwd::testing::spool::{AppendError, OnFull, Resume, SpoolConfig};
use icsfwd_core::alert::Severity;
use icsfwd_core::record::{self, Record};
use spool_support::{alert, dest, open, seqs, set};

fn three_frames() -> SpoolConfig {
    let record = Record {
        seq: 1,
        destinations: set(&[0, 1]),
        event: alert(1, Severity::Warning),
    };
    SpoolConfig {
        max_bytes: 3 * record::frame_len(&record).unwrap() as u64,
        on_full: OnFull::Refuse,
        retry_after: Duration::from_secs(7),
        ..SpoolConfig::default()
    }
}

#[test]
fn a_removed_destinations_records_are_kept_across_a_reopen_and_fill_the_quota_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), three_frames(), 2);
    let three: Vec<_> = (1..=3)
        .map(|i| (alert(i, Severity::Warning), set(&[0, 1])))
        .collect();
    assert_eq!(spool.append_batch(&three).unwrap(), [Ok(1), Ok(2), Ok(3)]);
    spool.ack(dest(0), 3).unwrap();
    spool.checkpoint().unwrap();
    drop(spool);

    // Reopened with only the first destination configured: the second is kept.
    let (mut spool, recovery) = open(dir.path(), three_frames(), 1);
    assert_eq!(
        recovery.kept_destinations,
        [Resume {
            name: "dest-1".to_owned(),
            acked: 0,
            backlog: 3
        }]
    );
    assert!(recovery.dropped_destinations.is_empty());
    assert_eq!(spool.destination_names(), ["dest-0", "dest-1"]);
    spool.checkpoint().unwrap();
    assert_eq!(seqs(&spool.peek(dest(1), 10).unwrap()), [1, 2, 3]);
    let full = spool
        .append_batch(&[(alert(4, Severity::Critical), set(&[0]))])
        .unwrap();
    assert_eq!(
        full,
        [Err(AppendError::Full {
            retry_after: Duration::from_secs(7)
        })],
        "the kept records count toward max_bytes"
    );

    // Released: the bytes are free at the next checkpoint, and stay free after a reopen.
    assert_eq!(spool.release_destination(dest(1)).unwrap(), 3);
    spool.checkpoint().unwrap();
    assert_eq!(spool.stats().live_bytes, 0);
    drop(spool);
    let (mut spool, recovery) = open(dir.path(), three_frames(), 1);
    assert_eq!(recovery.kept_destinations[0].backlog, 0);
    assert_eq!(
        spool
            .append_batch(&[(alert(4, Severity::Critical), set(&[0]))])
            .unwrap(),
        [Ok(4)]
    );
}
