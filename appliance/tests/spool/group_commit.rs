//! Group commit: producers get their sequence number only after the fsync of their batch,
//! one fsync per batch, and a failed fsync accepts nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use icsfwd::testing::spool::commit::Wait;
use icsfwd::testing::spool::{AppendError, GroupCommit, GroupConfig, Spool, SpoolConfig, segment};
use icsfwd_core::alert::Severity;
use spool_support::oracle::open_sim;
use spool_support::sim::{Op as SimOp, SimStorage};
use spool_support::{Op, Recording, alert, decode_all, dest, names, set};

const PRODUCERS: u64 = 8;
const PER_PRODUCER: u64 = 40;

#[test]
fn eight_producers_get_their_seq_only_after_the_fsync_of_their_batch_and_one_fsync_per_batch() {
    answers_after_fsync_one_fsync_per_batch(GroupConfig::default());
}

#[test]
fn with_a_commit_window_answers_still_come_only_after_the_fsync_of_their_batch() {
    answers_after_fsync_one_fsync_per_batch(GroupConfig {
        window: Duration::from_millis(3),
        ..GroupConfig::default()
    });
}

/// Eight producers append 40 alerts each through a group commit with `config`: each gets its
/// sequence number only once a completed fsync covers its record, numbers are unique and
/// increasing per producer, and every batch is one write and one fsync.
fn answers_after_fsync_one_fsync_per_batch(config: GroupConfig) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Recording::new();
    let (spool, _) = Spool::open(
        storage.clone(),
        dir.path(),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    let group = GroupCommit::start(spool, config).unwrap();
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

/// A group commit with `window` and `max_batch` over a spool on the simulated disk (its
/// fsyncs cost nothing, so a test's timings are the window's), and the disk.
fn sim_group(window: Duration, max_batch: usize) -> (GroupCommit<SimStorage>, SimStorage) {
    let storage = SimStorage::default();
    let (spool, _) = open_sim(storage.clone(), SpoolConfig::default(), 1).unwrap();
    let config = GroupConfig {
        window,
        max_batch,
        ..GroupConfig::default()
    };
    (GroupCommit::start(spool, config).unwrap(), storage)
}

/// The fsyncs of segments the simulated disk saw.
fn segment_fsyncs(storage: &SimStorage) -> usize {
    storage.with(|disk| {
        disk.ops
            .iter()
            .filter(|op| matches!(op, SimOp::SyncFile(name) if name.ends_with(".seg")))
            .count()
    })
}

#[test]
fn a_lone_producers_answer_waits_for_the_window_and_not_much_longer() {
    let window = Duration::from_millis(300);
    let (group, storage) = sim_group(window, 1024);
    let started = Instant::now();
    assert_eq!(
        group.handle().append(alert(1, Severity::Minor), set(&[0])),
        Ok(1)
    );
    let waited = started.elapsed();
    // Held open for company that never came, then written: the window, plus scheduling (the
    // simulated fsync costs nothing; the margin is for a loaded machine).
    assert!(
        waited >= window,
        "answered after {waited:?}, before the window"
    );
    assert!(
        waited < window + Duration::from_secs(1),
        "answered after {waited:?}"
    );
    assert_eq!(segment_fsyncs(&storage), 1);

    // Without a window the same answer does not wait for one.
    let (group, _) = sim_group(Duration::ZERO, 1024);
    let started = Instant::now();
    assert_eq!(
        group.handle().append(alert(1, Severity::Minor), set(&[0])),
        Ok(1)
    );
    assert!(started.elapsed() < window, "{:?}", started.elapsed());
}

#[test]
fn producers_arriving_within_the_window_share_one_fsync() {
    // Eight producers, one every 50 ms (a steady trickle, no pause), all within the window.
    let (group, storage) = sim_group(Duration::from_secs(3), 1024);
    let barrier = Arc::new(Barrier::new(PRODUCERS as usize));
    let threads: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let handle = group.handle();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                std::thread::sleep(Duration::from_millis(50) * u32::try_from(p).unwrap());
                handle.append(alert(p, Severity::Major), set(&[0])).unwrap()
            })
        })
        .collect();
    let mut seqs: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=PRODUCERS).collect::<Vec<_>>());
    assert_eq!(segment_fsyncs(&storage), 1, "one fsync for all eight");
    let spool = group.shutdown().unwrap();
    assert_eq!((spool.stats().batches, spool.stats().fsyncs), (1, 1));
}

#[test]
fn a_full_batch_is_written_before_its_window_ends() {
    let window = Duration::from_secs(60);
    let (group, storage) = sim_group(window, 4);
    let started = Instant::now();
    let handle = group.handle();
    let pending: Vec<_> = (0..4)
        .map(|i| handle.submit(alert(i, Severity::Minor), set(&[0])).unwrap())
        .collect();
    let seqs: Vec<u64> = pending.into_iter().map(|p| p.wait().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert!(started.elapsed() < window / 2, "{:?}", started.elapsed());
    assert_eq!(segment_fsyncs(&storage), 1);
}

#[test]
fn shutdown_writes_and_answers_a_batch_its_window_holds_open() {
    let window = Duration::from_secs(60);
    let (group, storage) = sim_group(window, 1024);
    let started = Instant::now();
    let pending = group
        .handle()
        .submit(alert(1, Severity::Minor), set(&[0]))
        .unwrap();
    // The writer holds the event for its window; shutdown ends the window at once.
    std::thread::sleep(Duration::from_millis(50));
    let spool = group.shutdown().unwrap();
    assert_eq!(pending.wait(), Ok(1));
    assert!(started.elapsed() < window / 2, "{:?}", started.elapsed());
    assert_eq!(spool.stats().appended, 1);
    assert_eq!(segment_fsyncs(&storage), 1);
}

#[test]
fn events_further_apart_than_the_window_are_not_held() {
    let window = Duration::from_millis(200);
    let (group, storage) = sim_group(window, 1024);
    let handle = group.handle();
    // Nothing known about the rate yet: the first event waits for company.
    let started = Instant::now();
    assert_eq!(handle.append(alert(1, Severity::Minor), set(&[0])), Ok(1));
    assert!(started.elapsed() >= window, "{:?}", started.elapsed());
    // Then events come twice the window apart: none has company to wait for.
    for id in 2..=4 {
        std::thread::sleep(window * 2);
        let started = Instant::now();
        assert_eq!(handle.append(alert(id, Severity::Minor), set(&[0])), Ok(id));
        assert!(
            started.elapsed() < window,
            "event {id} held {:?}",
            started.elapsed()
        );
    }
    assert_eq!(segment_fsyncs(&storage), 4);
}

#[test]
fn a_stream_that_pauses_ends_the_window() {
    let window = Duration::from_secs(60);
    let (group, storage) = sim_group(window, 1024);
    let handle = group.handle();
    // One event to learn nothing from, then a burst: gaps of microseconds, then silence (a
    // producer that waits for its answers before sending more).
    assert!(handle.submit(alert(1, Severity::Minor), set(&[0])).is_ok());
    let started = Instant::now();
    let pending: Vec<_> = (2..=4)
        .map(|i| handle.submit(alert(i, Severity::Minor), set(&[0])).unwrap())
        .collect();
    let last = pending.into_iter().map(|p| p.wait().unwrap()).max();
    assert_eq!(last, Some(4));
    assert!(started.elapsed() < window / 2, "{:?}", started.elapsed());
    drop(group);
    assert!(segment_fsyncs(&storage) >= 1);
}
