//! Misuse of the spool API is refused with a precise error, and refused events change nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::time::Duration;

use icsfwd::testing::spool::commit::Wait;
use icsfwd::testing::spool::{AppendError, GroupCommit, GroupConfig, SpoolConfig, SpoolError};
use icsfwd_core::alert::Severity;
use icsfwd_core::destination::DestinationSet;
use spool_support::{alert, dest, open, seqs, set};

#[test]
fn events_without_a_configured_destination_are_refused_one_by_one_in_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 2);
    let results = spool
        .append_batch(&[
            (alert(1, Severity::Major), set(&[0])),
            (alert(2, Severity::Major), DestinationSet::EMPTY),
            (alert(3, Severity::Major), set(&[1, 5])),
            (alert(4, Severity::Major), set(&[1])),
        ])
        .unwrap();
    assert_eq!(
        results,
        [
            Ok(1),
            Err(AppendError::NoDestination),
            Err(AppendError::UnknownDestination { index: 5 }),
            Ok(2),
        ]
    );
    assert_eq!(spool.stats().appended, 2);
    assert_eq!(spool.stats().batches, 1);
    assert_eq!(seqs(&spool.peek(dest(1), 10).unwrap()), [2]);
}

#[test]
fn acks_beyond_the_last_record_and_unknown_destinations_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    spool
        .append_batch(&[(alert(1, Severity::Major), set(&[0]))])
        .unwrap();
    assert!(matches!(
        spool.ack(dest(0), 2),
        Err(SpoolError::AckBeyondEnd { upto: 2, last: 1 })
    ));
    assert!(matches!(
        spool.peek(dest(3), 1),
        Err(SpoolError::UnknownDestination(d)) if d == dest(3)
    ));
    assert!(matches!(
        spool.ack(dest(3), 1),
        Err(SpoolError::UnknownDestination(_))
    ));
    // An older acknowledgement after a newer one changes nothing.
    assert_eq!(spool.ack(dest(0), 1).unwrap(), 1);
    assert_eq!(spool.ack(dest(0), 0).unwrap(), 0);
    assert_eq!(spool.stats().destinations[0].acked_records, 1);
}

#[test]
fn a_timeout_too_large_for_the_clock_waits_without_a_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = open(dir.path(), SpoolConfig::default(), 1);
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let reader = group.handle();
    let seen = reader.next_seq();
    let waiter = std::thread::spawn(move || reader.wait_for_records(seen, Duration::MAX));
    group
        .handle()
        .append(alert(1, Severity::Minor), set(&[0]))
        .unwrap();
    assert_eq!(waiter.join().unwrap(), Wait::NewRecords);
}
