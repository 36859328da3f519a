//! Reliability S7 and S8: write errors, fsync errors, short writes and a full disk, injected at
//! every operation of recorded workloads and under the group commit.
//!
//! Asserted: a record in a failed range is never reported accepted (checked by losing every
//! unsynced write after the fault, and by the group commit's answers); the spool is fail-stop
//! after a failed append (later appends are refused, no segment write or fsync is retried)
//! while delivery and checkpoints go on; producers are told (the OS error reaches them); a
//! restart (reopen) with space back resumes with every accepted record present.
//!
//! Seeded: the seed is printed, `ICSFWD_SEED=<n>` replays it; `ICSFWD_CASES=<n>` or
//! `ICSFWD_RELIABILITY_LONG=1` runs more workloads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use icsfwd::testing::spool::{AppendError, GroupCommit, GroupConfig, OpenError, SpoolError};
use icsfwd_core::alert::Severity;
use icsfwd_core::destination::DestinationSet;
use spool_support::oracle::{
    Oracle, Step, Verdict, check, event_id, open_sim, random_workload, run, small_config,
};
use spool_support::rng::{Rng, cases, seed};
use spool_support::sim::{Disk, Fault, Op, SimStorage};
use spool_support::{alert, dest};

const NDEST: usize = 2;

fn workload() -> Vec<Step> {
    let batch = |n: usize, bits: u32| Step::Append(vec![(2, bits); n]);
    vec![
        batch(2, 0b11),
        batch(3, 0b01),
        Step::Deliver(0, 10),
        Step::Checkpoint,
        batch(2, 0b10),
        batch(2, 0b11),
        Step::Deliver(1, 10),
        Step::Deliver(0, 3),
        Step::Checkpoint,
        batch(1, 0b11),
        batch(2, 0b11),
        Step::Deliver(0, 10),
        Step::Checkpoint,
    ]
}

fn record_ops(steps: &[Step]) -> Vec<Op> {
    let storage = SimStorage::default();
    let oracle = run(storage.clone(), small_config(), NDEST, steps, false);
    assert!(oracle.error.is_none());
    storage.with(|d| d.ops.clone())
}

/// Checks the restart image and every crash image of `disk` against `oracle`.
fn check_all(what: &str, disk: &Disk, oracle: &Oracle, seed: u64) -> (u64, Verdict) {
    let mut images = vec![(u64::MAX, disk.files())];
    images.extend(disk.crash_states(10, 64, seed));
    check_images(what, &images, oracle)
}

/// Checks the restart image and the image that lost every unsynced write.
fn check_restart_and_loss(what: &str, disk: &Disk, oracle: &Oracle) -> (u64, Verdict) {
    let images = vec![(u64::MAX, disk.files()), (0, disk.durable_only())];
    check_images(what, &images, oracle)
}

fn check_images(
    what: &str,
    images: &[(u64, std::collections::BTreeMap<String, Vec<u8>>)],
    oracle: &Oracle,
) -> (u64, Verdict) {
    assert!(
        oracle.violations.is_empty(),
        "{what}: {:?}",
        oracle.violations
    );
    let mut verdict = Verdict::default();
    for (mask, files) in images {
        let v = check(files, small_config(), NDEST, oracle)
            .unwrap_or_else(|e| panic!("{what}, image {mask:#x}: {e}"));
        assert!(v.ok(), "{what}, image {mask:#x}: {v:?}");
        verdict.add(v);
    }
    (images.len() as u64, verdict)
}

/// After a failed append, no segment was written to again, and the only fsync of a segment
/// is the one that makes the cut of the failed batch durable (a truncate of that file just
/// before): never "retry fsync then trust it".
fn assert_no_segment_retry(what: &str, disk: &Disk, fault_at: usize, oracle: &Oracle) {
    if !oracle.append_failed {
        return;
    }
    let later: Vec<&Op> = disk.ops.iter().skip(fault_at + 1).collect();
    for (i, op) in later.iter().enumerate() {
        let retried = match op {
            Op::Append(n, _) => n.ends_with(".seg"),
            Op::SyncFile(n) => {
                n.ends_with(".seg")
                    && !matches!(i.checked_sub(1).and_then(|p| later.get(p)),
                        Some(Op::Truncate(t, _)) if t == n)
            }
            _ => false,
        };
        assert!(
            !retried,
            "{what}: segment touched after the failure: {op:?} in {later:?}"
        );
    }
}

/// An operation on the progress log (`progress`, `progress.tmp`).
fn is_progress_op(op: &Op) -> bool {
    match op {
        Op::Create(n)
        | Op::Append(n, _)
        | Op::Truncate(n, _)
        | Op::SyncFile(n)
        | Op::Remove(n)
        | Op::WriteAt(n, ..)
        | Op::Preallocate(n, _) => n.starts_with("progress"),
        Op::Rename(from, _) => from.starts_with("progress"),
        Op::SyncDir => false,
    }
}

fn faults_at_every_op(steps: &[Step], label: &str, seed: u64) -> (u64, Verdict) {
    let ops = record_ops(steps);
    let mut images = 0;
    let mut verdict = Verdict::default();
    for (i, op) in ops.iter().enumerate() {
        let kinds: &[Fault] = if matches!(op, Op::Append(..)) {
            &[Fault::Eio, Fault::ShortWrite]
        } else {
            &[Fault::Eio]
        };
        for &kind in kinds {
            let storage = SimStorage::new(Disk {
                faults: [(i, kind)].into(),
                ..Disk::new()
            });
            let oracle = run(storage.clone(), small_config(), NDEST, steps, true);
            let what = format!("{label}: {kind:?} at op {i} ({op:?})");
            if is_progress_op(op) {
                // The progress log is a hint (icsfwd::testing::spool::progress): its failure is
                // counted, never an error of the spool; the checks below still hold.
                assert!(oracle.error.is_none(), "{what}: {:?}", oracle.error);
            } else {
                assert!(oracle.error.is_some(), "{what}: the fault was not reported");
            }
            let disk = storage.with(|d| d.clone());
            assert_no_segment_retry(&what, &disk, i, &oracle);
            let (n, v) = check_all(&what, &disk, &oracle, seed ^ i as u64);
            images += n;
            verdict.add(v);
        }
    }
    (images, verdict)
}

#[test]
fn s7_eio_or_a_short_write_at_every_operation_never_reports_a_failed_record_accepted() {
    let seed = seed("s7");
    let mut rng = Rng::new(seed);
    let (mut images, mut verdict) = faults_at_every_op(&workload(), "fixed", seed);
    for w in 0..cases(4, 300) {
        let steps = random_workload(&mut rng, 10, NDEST as u8);
        let (n, v) = faults_at_every_op(&steps, &format!("seed {seed} #{w}"), rng.next());
        images += n;
        verdict.add(v);
    }
    eprintln!("s7: {images} images, {verdict:?}");
    assert!(verdict.records > 0);
}

#[test]
fn s7_a_failed_append_makes_the_spool_fail_stop_while_delivery_and_checkpoints_go_on() {
    let storage = SimStorage::default();
    let (mut spool, _) = open_sim(storage.clone(), small_config(), NDEST).unwrap();
    let both = DestinationSet::from_bits(0b11);
    assert_eq!(
        spool
            .append_batch(&[(alert(1, Severity::Major), both)])
            .unwrap(),
        [Ok(1)]
    );
    storage.with(|d| d.fail_all_syncs = true);
    let failed = spool.append_batch(&[(alert(2, Severity::Major), both)]);
    assert!(matches!(failed, Err(SpoolError::Io { .. })), "{failed:?}");
    storage.with(|d| d.fail_all_syncs = false);
    // The fsync would now succeed: the spool must still not trust the failed range.
    assert!(matches!(
        spool.append_batch(&[(alert(3, Severity::Major), both)]),
        Err(SpoolError::Failed)
    ));
    let records = spool.peek(dest(0), 10).unwrap();
    assert_eq!(records.len(), 1, "only the accepted record is delivered");
    spool.ack(dest(0), records[0].seq).unwrap();
    spool.checkpoint().unwrap();
    assert!(spool.is_failed());
}

#[test]
fn s7_a_failed_truncate_of_a_torn_tail_at_open_is_an_error_and_a_later_open_recovers() {
    let storage = SimStorage::default();
    let (mut spool, _) = open_sim(storage.clone(), small_config(), NDEST).unwrap();
    let both = DestinationSet::from_bits(0b11);
    spool
        .append_batch(&[(alert(1, Severity::Major), both)])
        .unwrap();
    drop(spool);
    let mut files = storage.with(|d| d.files());
    let seg = files.keys().find(|n| n.ends_with(".seg")).unwrap().clone();
    files.get_mut(&seg).unwrap().extend_from_slice(b"\x05torn");
    let faulty = SimStorage::with_files(&files);
    faulty.with(|d| d.faults = [(0, Fault::Eio)].into());
    let opened = open_sim(faulty.clone(), small_config(), NDEST);
    assert!(matches!(opened, Err(OpenError::Io { .. })), "{opened:?}");
    let files = faulty.with(|d| d.files());
    let (mut spool, recovery) =
        open_sim(SimStorage::with_files(&files), small_config(), NDEST).unwrap();
    assert_eq!(recovery.torn.len(), 1);
    assert_eq!(spool.peek(dest(1), 10).unwrap().len(), 1);
}

/// Runs `producers` threads appending through a group commit; `fail` is set after some
/// answers; returns every (event, answer) and the disk.
fn group_commit_with_failure(
    storage: SimStorage,
    fail: impl Fn(&SimStorage) + Send + Sync + 'static,
) -> (Oracle, Vec<Result<u64, AppendError>>, Disk) {
    let (spool, _) = open_sim(storage.clone(), small_config(), NDEST).unwrap();
    let group = GroupCommit::start(
        spool,
        GroupConfig {
            queue_capacity: 8,
            max_batch: 4,
            ..GroupConfig::default()
        },
    )
    .unwrap();
    let tripped = Arc::new(AtomicBool::new(false));
    let fail = Arc::new(fail);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let handle = group.handle();
            let storage = storage.clone();
            let tripped = Arc::clone(&tripped);
            let fail = Arc::clone(&fail);
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                for i in 0..30u64 {
                    let id = 1 + t * 1000 + i;
                    let event = alert(id, Severity::Major);
                    let dests = DestinationSet::from_bits(0b11);
                    let answer = handle.append(event.clone(), dests);
                    answers.push((event, dests, answer));
                    if t == 0 && i == 10 && !tripped.swap(true, Ordering::SeqCst) {
                        fail(&storage);
                    }
                }
                answers
            })
        })
        .collect();
    let mut oracle = Oracle::new(NDEST);
    let mut answers = Vec::new();
    for thread in threads {
        for (event, dests, answer) in thread.join().unwrap() {
            let id = event_id(&event);
            oracle.events.insert(id, (event, dests));
            if let Ok(seq) = answer {
                assert!(oracle.accepted.insert(seq, id).is_none(), "seq {seq} twice");
            }
            answers.push(answer);
        }
    }
    let spool = group.shutdown().unwrap();
    assert!(spool.is_failed());
    let disk = spool.storage().with(|d| d.clone());
    (oracle, answers, disk)
}

#[test]
fn s7_group_commit_answers_no_producer_accepted_for_a_batch_whose_fsync_failed() {
    let (oracle, answers, disk) = group_commit_with_failure(SimStorage::default(), |s| {
        s.with(|d| d.fail_all_syncs = true)
    });
    let accepted = answers.iter().filter(|a| a.is_ok()).count();
    let failed = answers
        .iter()
        .filter(|a| matches!(a, Err(AppendError::Failed(_))))
        .count();
    assert!(accepted >= 11, "{answers:?}");
    assert!(failed > 0);
    assert_eq!(accepted + failed, answers.len(), "{answers:?}");
    // Losing every write that was not fsynced loses no accepted record.
    let mut disk = disk;
    disk.fail_all_syncs = false;
    let (images, verdict) = check_all("group commit fsync EIO", &disk, &oracle, 7);
    eprintln!(
        "s7 group commit: {accepted} accepted, {failed} refused, {images} images, {verdict:?}"
    );
}

#[test]
fn s8_disk_full_at_every_byte_refuses_tells_the_producer_and_resumes_after_a_restart() {
    let seed = seed("s8");
    let mut rng = Rng::new(seed);
    let mut workloads = vec![workload()];
    for _ in 0..cases(1, 200) {
        workloads.push(random_workload(&mut rng, 10, NDEST as u8));
    }
    let mut limits = 0;
    let mut verdict = Verdict::default();
    let (mut produced, mut refused, mut accepted) = (0u64, 0u64, 0u64);
    for (w, steps) in workloads.iter().enumerate() {
        let full = {
            let storage = SimStorage::default();
            run(storage.clone(), small_config(), NDEST, steps, false);
            storage.with(|d| d.written)
        };
        for space in 0..=full {
            limits += 1;
            let storage = SimStorage::new(Disk {
                space: Some(space),
                ..Disk::new()
            });
            let oracle = run(storage.clone(), small_config(), NDEST, steps, true);
            let what = format!("seed {seed} workload {w}, space {space}");
            if let Some(error) = &oracle.error
                && error.starts_with("append")
            {
                assert!(
                    error.contains("No space left on device"),
                    "{what}: the producer is not told why: {error}"
                );
            }
            produced += oracle.events.len() as u64;
            accepted += oracle.accepted.len() as u64;
            refused += (oracle.events.len() - oracle.accepted.len()) as u64;
            let mut disk = storage.with(|d| d.clone());
            disk.space = None; // space returns
            let (_, v) = check_restart_and_loss(&what, &disk, &oracle);
            verdict.add(v);
        }
    }
    assert_eq!(produced, accepted + refused);
    eprintln!(
        "s8: {limits} space limits, {produced} produced, {accepted} accepted, {refused} refused \
         (told), {verdict:?}"
    );
}

#[test]
fn s8_group_commit_producers_are_told_disk_full_and_a_restart_with_space_resumes() {
    let (oracle, answers, disk) = group_commit_with_failure(SimStorage::default(), |s| {
        s.with(|d| d.space = Some(d.written + 150));
    });
    let told = answers
        .iter()
        .filter(|a| matches!(a, Err(AppendError::Failed(why)) if why.contains("No space left") || why.contains("earlier write")))
        .count();
    assert!(told > 0, "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|a| matches!(a, Err(AppendError::Failed(why)) if why.contains("No space left"))),
        "{answers:?}"
    );
    let mut disk = disk;
    disk.space = None;
    let (_, verdict) = check_all("group commit ENOSPC", &disk, &oracle, 8);
    eprintln!("s8 group commit: {told} told, {verdict:?}");
}

#[test]
fn s8_a_checkpoint_that_hits_disk_full_removes_nothing_and_succeeds_once_space_returns() {
    let storage = SimStorage::default();
    let (mut spool, _) = open_sim(storage.clone(), small_config(), NDEST).unwrap();
    let both = DestinationSet::from_bits(0b11);
    for id in 1..=6 {
        assert!(
            spool
                .append_batch(&[(alert(id, Severity::Minor), both)])
                .unwrap()[0]
                .is_ok()
        );
    }
    for d in 0..NDEST as u8 {
        let records = spool.peek(dest(d), 100).unwrap();
        spool.ack(dest(d), records.last().unwrap().seq).unwrap();
    }
    let segments_before = storage.with(|d| d.dir.keys().filter(|n| n.ends_with(".seg")).count());
    // No room left for the checkpoint file.
    storage.with(|d| d.space = Some(d.dir.values().map(|&i| d.inodes[i].data.len() as u64).sum()));
    let error = spool.checkpoint().unwrap_err();
    assert!(error.to_string().contains("No space left"), "{error}");
    let segments_after = storage.with(|d| d.dir.keys().filter(|n| n.ends_with(".seg")).count());
    assert!(
        segments_after >= segments_before,
        "a segment was removed without a durable checkpoint"
    );
    assert!(
        !spool.is_failed(),
        "a failed checkpoint must not stop appends"
    );
    // Space returns: appends and the next checkpoint work without a restart.
    storage.with(|d| d.space = None);
    assert!(
        spool
            .append_batch(&[(alert(7, Severity::Minor), both)])
            .unwrap()[0]
            .is_ok()
    );
    let outcome = spool.checkpoint().unwrap();
    assert!(outcome.segments_removed > 0);
}
