//! Group commit: producers get their sequence number only after the fsync of their batch,
//! one fsync per batch, and a failed fsync accepts nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::time::Duration;

use icsfwd::testing::spool::commit::Wait;
use icsfwd::testing::spool::{AppendError, GroupCommit, GroupConfig, Spool, SpoolConfig, segment};
use icsfwd_core::alert::Severity;
use spool_support::{Op, Recording, alert, decode_all, dest, names, set};

const PRODUCERS: u64 = 8;
const PER_PRODUCER: u64 = 40;

#[test]
fn eight_producers_get_their_seq_only_after_the_fsync_of_their_batch_and_one_fsync_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Recording::new();
    let (spool, _) = Spool::open(
        storage.clone(),
        dir.path(),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let segment_path = dir.path().join(segment::file_name(1));

    let threads: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let handle = group.handle();
            let log = storage.log.clone();
            let path = segment_path.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..PER_PRODUCER {
                    let id = p * PER_PRODUCER + i;
                    let seq = handle
                        .append(alert(id, Severity::Major), set(&[0]))
                        .unwrap();
                    // The record must already be inside the bytes a completed fsync covered.
                    let synced = log.lock().unwrap().synced_len.get(&path).copied().unwrap();
                    let bytes = std::fs::read(&path).unwrap();
                    let durable = decode_all(&bytes[..usize::try_from(synced).unwrap()]);
                    let record = durable.iter().find(|r| r.seq == seq);
                    assert!(record.is_some(), "seq {seq} returned before its fsync");
                    assert_eq!(record.unwrap().event, alert(id, Severity::Major));
                    mine.push(seq);
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for thread in threads {
        let mine = thread.join().unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
        all.extend(mine);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=PRODUCERS * PER_PRODUCER).collect::<Vec<_>>());

    let spool = group.shutdown().unwrap();
    let stats = spool.stats();
    let segment_syncs = storage
        .ops()
        .iter()
        .filter(|op| matches!(op, Op::SyncFile(name) if name.ends_with(".seg")))
        .count() as u64;
    let appends = storage
        .ops()
        .iter()
        .filter(|op| matches!(op, Op::Append(name, _) if name.ends_with(".seg")))
        .count() as u64;
    assert_eq!(stats.appended, PRODUCERS * PER_PRODUCER);
    assert_eq!(segment_syncs, stats.batches, "one fsync per batch");
    assert_eq!(appends, stats.batches, "one write per batch");
    assert_eq!(stats.fsyncs, stats.batches);
}

#[test]
fn a_failed_fsync_accepts_nothing_of_the_batch_and_stops_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Recording::new();
    let (spool, _) = Spool::open(
        storage.clone(),
        dir.path(),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let handle = group.handle();
    assert_eq!(handle.append(alert(1, Severity::Minor), set(&[0])), Ok(1));

    storage.log.lock().unwrap().fail_sync_file = true;
    let failed = handle.append(alert(2, Severity::Minor), set(&[0]));
    assert!(matches!(failed, Err(AppendError::Failed(_))), "{failed:?}");
    // Fail-stop: even with the storage healthy again, nothing is accepted until reopen.
    storage.log.lock().unwrap().fail_sync_file = false;
    let after = handle.append(alert(3, Severity::Minor), set(&[0]));
    assert!(matches!(after, Err(AppendError::Failed(_))), "{after:?}");
    let spool = group.shutdown().unwrap();
    assert!(spool.is_failed());
    assert_eq!(spool.stats().appended, 1);
}

#[test]
fn shutdown_refuses_later_appends_and_wakes_waiting_readers() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = spool_support::open(dir.path(), SpoolConfig::default(), 1);
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let reader = group.handle();
    let seen = reader.next_seq();
    let waiter = std::thread::spawn(move || reader.wait_for_records(seen, Duration::from_secs(60)));
    let producer = group.handle();
    let spool = group.shutdown().unwrap();
    assert_eq!(waiter.join().unwrap(), Wait::ShuttingDown);
    assert_eq!(
        producer.append(alert(1, Severity::Minor), set(&[0])),
        Err(AppendError::ShuttingDown)
    );
    assert!(producer.peek(dest(0), 1).is_err());
    assert_eq!(spool.stats().appended, 0);
}

#[test]
fn a_waiting_reader_wakes_when_a_batch_becomes_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = spool_support::open(dir.path(), SpoolConfig::default(), 1);
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let reader = group.handle();
    let seen = reader.next_seq();
    assert!(reader.peek(dest(0), 10).unwrap().is_empty());
    let waiter = std::thread::spawn(move || {
        let woke = reader.wait_for_records(seen, Duration::from_secs(60));
        (woke, reader.peek(dest(0), 10).unwrap().len())
    });
    group
        .handle()
        .append(alert(1, Severity::Minor), set(&[0]))
        .unwrap();
    assert_eq!(waiter.join().unwrap(), (Wait::NewRecords, 1));
    assert_eq!(
        group.handle().wait_for_records(2, Duration::from_millis(1)),
        Wait::TimedOut
    );
}
