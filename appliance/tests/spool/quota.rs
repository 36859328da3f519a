//! The quota: refuse when full, or evict the oldest queued alert of strictly lower severity
//! (never a notification), persisted across reopen and counted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::time::Duration;

use icsfwd::testing::spool::{AppendError, OnFull, SpoolConfig};
use icsfwd_core::alert::{NotificationKind, Severity};
use icsfwd_core::record::{self, Record};
use spool_support::{alert, dest, notification, open, seqs, set};

/// The frame length of every `alert(id < 128, _)`.
fn alert_frame() -> u64 {
    let record = Record {
        seq: 1,
        destinations: set(&[0]),
        event: alert(1, Severity::Warning),
    };
    record::frame_len(&record).unwrap() as u64
}

fn config(frames: u64, on_full: OnFull) -> SpoolConfig {
    SpoolConfig {
        max_bytes: frames * alert_frame(),
        on_full,
        retry_after: Duration::from_secs(7),
        ..SpoolConfig::default()
    }
}

#[test]
fn full_spool_refuses_with_retry_after_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), config(3, OnFull::Refuse), 1);
    let three: Vec<_> = (1..=3)
        .map(|i| (alert(i, Severity::Warning), set(&[0])))
        .collect();
    assert_eq!(spool.append_batch(&three).unwrap(), [Ok(1), Ok(2), Ok(3)]);
    let disk = spool.stats().disk_bytes;

    let refused = spool
        .append_batch(&[(alert(4, Severity::Critical), set(&[0]))])
        .unwrap();
    assert_eq!(
        refused,
        [Err(AppendError::Full {
            retry_after: Duration::from_secs(7)
        })]
    );
    assert_eq!(spool.stats().disk_bytes, disk, "nothing written");
    assert_eq!(spool.stats().refused_full, 1);
    assert_eq!(spool.stats().evicted_total(), 0);
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [1, 2, 3]);

    // Delivered and checkpointed, the space comes back.
    spool.ack(dest(0), 3).unwrap();
    spool.checkpoint().unwrap();
    assert_eq!(
        spool
            .append_batch(&[(alert(4, Severity::Critical), set(&[0]))])
            .unwrap(),
        [Ok(4)]
    );
}

#[test]
fn eviction_takes_the_oldest_strictly_lower_alert_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(3, OnFull::EvictLowerSeverity);
    let (mut spool, _) = open(dir.path(), cfg, 1);
    let start = [
        (alert(1, Severity::Minor), set(&[0])),
        (alert(2, Severity::Warning), set(&[0])),
        (alert(3, Severity::Major), set(&[0])),
    ];
    assert_eq!(spool.append_batch(&start).unwrap(), [Ok(1), Ok(2), Ok(3)]);

    // Table: the new alert, and the sequence number it evicts (None: refused).
    let steps = [
        // Major: lower are Minor #1 and Warning #2; #1 is the oldest.
        (Severity::Major, Some(1)),
        // Minor: only Warning #2 is strictly lower.
        (Severity::Minor, Some(2)),
        // Warning: nothing is strictly lower.
        (Severity::Warning, None),
        // Major again: lower is only the Minor of step 2 (seq 5); Majors #3, #4 are equal.
        (Severity::Major, Some(5)),
    ];
    let mut next_seq = 4;
    let mut evicted = Vec::new();
    for (i, (severity, victim)) in steps.into_iter().enumerate() {
        let result = spool
            .append_batch(&[(alert(10 + i as u64, severity), set(&[0]))])
            .unwrap();
        match victim {
            Some(victim) => {
                assert_eq!(result, [Ok(next_seq)], "step {i}");
                next_seq += 1;
                evicted.push(victim);
            }
            None => assert!(
                matches!(result[0], Err(AppendError::Full { .. })),
                "step {i}"
            ),
        }
        let live: Vec<u64> = seqs(&spool.peek(dest(0), 10).unwrap());
        assert!(
            evicted.iter().all(|e| !live.contains(e)),
            "step {i}: {live:?}"
        );
        assert_eq!(live.len(), 3, "step {i}");
    }
    let stats = spool.stats();
    // Indexed Warning, Minor, Major, Critical.
    assert_eq!(stats.evicted, [1, 2, 0, 0]);
    assert_eq!(stats.refused_full, 1);
    assert_eq!(stats.live_bytes, 3 * alert_frame());
    assert_eq!(stats.destinations[0].backlog, 3);
    let before = seqs(&spool.peek(dest(0), 10).unwrap());
    assert_eq!(before, [3, 4, 6]);
    drop(spool);

    let (mut spool, recovery) = open(dir.path(), cfg, 1);
    assert_eq!(recovery.evicted, 3);
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), before);
    assert_eq!(recovery.destinations[0].backlog, 3);
    // Still full of Majors: a Minor is refused, a Critical evicts the oldest Major.
    assert!(matches!(
        spool
            .append_batch(&[(alert(20, Severity::Minor), set(&[0]))])
            .unwrap()[0],
        Err(AppendError::Full { .. })
    ));
    assert_eq!(
        spool
            .append_batch(&[(alert(21, Severity::Critical), set(&[0]))])
            .unwrap(),
        [Ok(7)]
    );
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [4, 6, 7]);
}

#[test]
fn notifications_count_against_the_quota_but_are_never_evicted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), config(3, OnFull::EvictLowerSeverity), 1);
    let mut n = 1;
    loop {
        let result = spool
            .append_batch(&[(notification(n, NotificationKind::SensorOnline), set(&[0]))])
            .unwrap();
        if result[0].is_err() {
            break;
        }
        n += 1;
    }
    assert!(n > 1);
    let queued = seqs(&spool.peek(dest(0), 10).unwrap());
    let critical = spool
        .append_batch(&[(alert(99, Severity::Critical), set(&[0]))])
        .unwrap();
    assert!(matches!(critical[0], Err(AppendError::Full { .. })));
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), queued);
    assert_eq!(spool.stats().evicted_total(), 0);
}

#[test]
fn an_alert_delivered_everywhere_is_not_evicted_because_it_is_no_longer_queued() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), config(2, OnFull::EvictLowerSeverity), 2);
    spool
        .append_batch(&[
            (alert(1, Severity::Warning), set(&[0])),
            (alert(2, Severity::Warning), set(&[0, 1])),
        ])
        .unwrap();
    // #1 is delivered; #2 still waits for destination 1.
    spool.ack(dest(0), 2).unwrap();
    let result = spool
        .append_batch(&[(alert(3, Severity::Major), set(&[1]))])
        .unwrap();
    assert_eq!(result, [Ok(3)]);
    assert_eq!(seqs(&spool.peek(dest(1), 10).unwrap()), [3]);
    assert_eq!(spool.stats().evicted, [1, 0, 0, 0]);
}

#[test]
fn segments_holding_only_evicted_alerts_are_removed_although_a_destination_is_stuck() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SpoolConfig {
        segment_bytes: 1,
        ..config(2, OnFull::EvictLowerSeverity)
    };
    let (mut spool, _) = open(dir.path(), cfg, 1);
    for (id, severity) in [
        (1, Severity::Warning),
        (2, Severity::Warning),
        (3, Severity::Major),
        (4, Severity::Major),
    ] {
        let result = spool
            .append_batch(&[(alert(id, severity), set(&[0]))])
            .unwrap();
        assert_eq!(result, [Ok(id)]);
    }
    assert_eq!(spool.stats().evicted, [2, 0, 0, 0]);
    // Destination 0 never acknowledged anything, yet segments 1 and 2 hold nothing for it.
    let disk_before = spool.stats().disk_bytes;
    let outcome = spool.checkpoint().unwrap();
    assert_eq!(outcome.segments_removed, 2);
    assert_eq!(spool.stats().disk_bytes, disk_before - 2 * alert_frame());
    assert_eq!(spool.stats().live_bytes, 2 * alert_frame());
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [3, 4]);
    drop(spool);
    let (mut spool, _) = open(dir.path(), cfg, 1);
    assert_eq!(seqs(&spool.peek(dest(0), 10).unwrap()), [3, 4]);
    assert_eq!(spool.stats().live_bytes, 2 * alert_frame());
}
