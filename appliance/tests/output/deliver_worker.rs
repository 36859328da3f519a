//! The worker driven by a scripted sender: how each outcome moves the spool cursor, the
//! dead-letter file and the counters, without a network.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use icsfwd::testing::deliver::Shutdown;
use icsfwd::testing::deliver::deadletter::DeadLetters;
use icsfwd::testing::deliver::stats::{DeliveryStats, StatsCell};
use icsfwd::testing::deliver::worker::{Worker, WorkerSettings};
use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::{AckReport, Item, Outcome, Sender};
use icsfwd::testing::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig, storage::FsStorage};
use icsfwd_core::alert::{Alert, Event};
use icsfwd_core::destination::{DestinationId, DestinationSet};

#[derive(Default)]
struct Script {
    /// Outcomes for the next sends (then: all delivered).
    outcomes: VecDeque<Vec<(std::ops::Range<usize>, Action)>>,
    /// The sequence numbers of each batch sent.
    batches: Vec<Vec<u64>>,
    /// Sequence numbers awaiting an ack.
    awaiting: Vec<u64>,
    /// What the next ack poll reports indexed.
    indexed_next: Vec<u64>,
    /// What the next ack poll reports past the ack deadline.
    expired_next: Vec<u64>,
    /// The alert ids of each batch sent (the events themselves, not just their seqs).
    alert_ids: Vec<Vec<u64>>,
    /// What the sender reports as its possible loss window.
    possible_loss: u64,
    polls: u64,
    /// The sender's own poll pace (a sender that reads its confirmations locally, as syslog's
    /// TCP acknowledgements); `None`: the worker's ack poll interval.
    pace: Option<Duration>,
    /// Once this is triggered, a poll confirms every record awaiting.
    confirm_when: Option<Shutdown>,
}

#[derive(Clone, Default)]
struct Scripted(Arc<Mutex<Script>>);

impl Sender for Scripted {
    fn resume(&mut self, _dir: &std::path::Path, _name: &str) -> Option<u64> {
        // A scripted sender keeps nothing across a restart.
        None
    }

    fn restore(
        &mut self,
        _records: &[(u64, u32)],
        _now: std::time::Instant,
    ) -> Vec<(u64, icsfwd::testing::destination::Restored)> {
        Vec::new()
    }

    fn send(&mut self, batch: &[Item<'_>], _: Instant) -> Outcome {
        let mut script = self.0.lock().unwrap();
        let seqs: Vec<u64> = batch.iter().map(|(s, _)| *s).collect();
        script.batches.push(seqs.clone());
        let ids = batch
            .iter()
            .map(|(_, event)| match event {
                Event::Alert(alert) => alert.id,
                Event::Notification(n) => n.id,
            })
            .collect();
        script.alert_ids.push(ids);
        let mut outcome = Outcome::default();
        match script.outcomes.pop_front() {
            Some(parts) => {
                for (range, action) in parts {
                    if action == Action::AwaitingAck {
                        script.awaiting.extend(&seqs[range.clone()]);
                    }
                    outcome.push(range, action);
                }
            }
            None => outcome.push(0..batch.len(), Action::Delivered),
        }
        outcome
    }
    fn hosts(&self, _: Instant) -> Vec<icsfwd::testing::destination::HostState> {
        Vec::new()
    }
    fn poll_acks(&mut self, _: Instant) -> AckReport {
        let mut script = self.0.lock().unwrap();
        script.polls += 1;
        if script
            .confirm_when
            .as_ref()
            .is_some_and(Shutdown::is_triggered)
        {
            let awaiting = script.awaiting.clone();
            script.indexed_next.extend(awaiting);
        }
        let indexed = std::mem::take(&mut script.indexed_next);
        let expired = std::mem::take(&mut script.expired_next);
        script
            .awaiting
            .retain(|s| !indexed.contains(s) && !expired.contains(s));
        AckReport {
            indexed,
            expired,
            ..AckReport::default()
        }
    }

    fn pending_acks(&self) -> usize {
        self.0.lock().unwrap().awaiting.len()
    }

    fn possible_loss(&self) -> u64 {
        self.0.lock().unwrap().possible_loss
    }

    fn poll_interval(&self) -> Option<Duration> {
        self.0.lock().unwrap().pace
    }

    fn finish(&mut self) -> AckReport {
        AckReport::default()
    }
}

struct Setup {
    dir: tempfile::TempDir,
    group: GroupCommit,
    script: Scripted,
    stats: StatsCell,
    shutdown: Shutdown,
    thread: Option<JoinHandle<()>>,
}

const DEST: u8 = 0;

fn dest() -> DestinationId {
    DestinationId::new(DEST).unwrap()
}

/// A spool holding `n` records (seqs 1..=n) and a worker over it with `batch` events per send.
fn setup(n: u64, batch: usize, prepare: impl FnOnce(&Path, &mut Script)) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(
        FsStorage::new(),
        dir.path(),
        SpoolConfig::default(),
        &["a".to_string()],
    )
    .unwrap();
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    for id in 1..=n {
        let mut alert = Alert::example(1_700_000_000_000 + id);
        alert.id = id;
        group
            .handle()
            .append(Event::from(alert), DestinationSet::EMPTY.with(dest()))
            .unwrap();
    }
    let script = Scripted::default();
    prepare(dir.path(), &mut script.0.lock().unwrap());
    let mut settings = WorkerSettings::new(dest(), "a");
    settings.batch_max_events = batch;
    settings.linger = Duration::ZERO;
    settings.retry_min = Duration::from_millis(10);
    settings.retry_max = Duration::from_millis(50);
    settings.ack_poll_interval = Duration::from_millis(20);
    settings.idle_tick = Duration::from_millis(10);
    let stats = StatsCell::new("a", "test");
    let shutdown = Shutdown::new();
    let worker = Worker::new(
        settings,
        Box::new(script.clone()),
        group.handle(),
        stats.clone(),
        shutdown.clone(),
        DeadLetters::new(dir.path(), "a"),
    );
    let thread = Some(std::thread::spawn(move || worker.run()));
    Setup {
        dir,
        group,
        script,
        stats,
        shutdown,
        thread,
    }
}

impl Setup {
    fn stats(&self) -> DeliveryStats {
        self.stats.snapshot()
    }

    fn left(&self) -> Vec<u64> {
        self.group
            .handle()
            .peek(dest(), 100)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect()
    }

    fn wait(&self, what: &str, mut condition: impl FnMut(&Self) -> bool) {
        let give_up = Instant::now() + Duration::from_secs(30);
        while !condition(self) {
            assert!(Instant::now() < give_up, "timed out waiting for: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop(mut self) {
        self.stop_worker_only();
    }

    fn stop_worker_only(&mut self) {
        self.shutdown.trigger();
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

#[test]
fn a_partial_outcome_acknowledges_the_confirmed_prefix_and_resends_the_rest_in_order() {
    let s = setup(5, 10, |_, script| {
        script.outcomes.push_back(vec![
            (0..2, Action::Delivered),
            (
                2..3,
                Action::DeadLetter {
                    reason: "event refused: HTTP 400 code 6".into(),
                },
            ),
            (3..5, Action::Retry { after: None }),
        ]);
    });
    s.wait("all settled", |s| {
        let st = s.stats();
        st.delivered == 4 && st.dead_lettered == 1 && s.left().is_empty()
    });
    let batches = s.script.0.lock().unwrap().batches.clone();
    assert_eq!(batches[0], vec![1, 2, 3, 4, 5]);
    assert_eq!(batches[1], vec![4, 5], "only the retried records, in order");
    let stats = s.stats();
    assert_eq!(stats.retries, 1, "{stats:?}");
    assert_eq!(stats.possible_duplicates, 0, "the outcome was certain");
    let text = std::fs::read_to_string(s.dir.path().join("deadletter/a.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(line["seq"], 3);
    assert_eq!(line["event"]["id"], 3);
    s.stop();
}

#[test]
fn a_dead_letter_file_that_cannot_be_written_keeps_the_record_in_the_spool() {
    let s = setup(1, 10, |dir, script| {
        // A file where the dead-letter directory must go: creating it fails.
        std::fs::write(dir.join("deadletter"), b"in the way").unwrap();
        for _ in 0..1000 {
            script.outcomes.push_back(vec![(
                0..1,
                Action::DeadLetter {
                    reason: "event too large".into(),
                },
            )]);
        }
    });
    s.wait("a few failed attempts", |s| s.stats().retries >= 2);
    let stats = s.stats();
    assert_eq!(stats.dead_lettered, 0, "{stats:?}");
    assert!(
        stats
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("dead-letter"),
        "{stats:?}"
    );
    assert_eq!(s.left(), vec![1], "not acknowledged without the file");

    std::fs::remove_file(s.dir.path().join("deadletter")).unwrap();
    s.wait("dead-lettered once the file can be written", |s| {
        s.stats().dead_lettered == 1 && s.left().is_empty()
    });
    s.stop();
}

#[test]
fn records_awaiting_acks_leave_the_spool_only_when_every_earlier_one_is_confirmed() {
    let s = setup(4, 2, |_, script| {
        script.outcomes.push_back(vec![(0..2, Action::AwaitingAck)]);
        script.outcomes.push_back(vec![(0..2, Action::AwaitingAck)]);
    });
    s.wait("both batches sent while the first awaits its ack", |s| {
        s.script.0.lock().unwrap().batches.len() == 2
    });
    assert_eq!(
        s.script.0.lock().unwrap().batches,
        vec![vec![1, 2], vec![3, 4]],
        "later records are sent without re-reading those in flight"
    );
    // The second batch is confirmed first: the cursor must not pass 1 and 2.
    let polls = {
        let mut script = s.script.0.lock().unwrap();
        script.indexed_next = vec![3, 4];
        script.polls
    };
    s.wait("two more polls", |s| {
        s.script.0.lock().unwrap().polls >= polls + 2
    });
    assert_eq!(s.left(), vec![1, 2, 3, 4]);
    assert_eq!(s.stats().delivered, 2);
    assert_eq!(s.stats().acks_pending, 2);

    s.script.0.lock().unwrap().indexed_next = vec![1, 2];
    s.wait("all confirmed and released", |s| s.left().is_empty());
    assert_eq!(s.stats().delivered, 4);
    s.stop();
}

#[test]
fn peek_after_returns_only_the_records_after_the_given_sequence_number() {
    let mut s = setup(0, 10, |_, _| {});
    s.stop_worker_only();
    let handle = s.group.handle();
    for id in 1..=5 {
        handle
            .append(
                Event::from(Alert::example(id)),
                DestinationSet::EMPTY.with(dest()),
            )
            .unwrap();
    }
    let seqs = |after, max| -> Vec<u64> {
        handle
            .peek_after(dest(), after, max)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect()
    };
    assert_eq!(seqs(0, 10), vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs(2, 10), vec![3, 4, 5]);
    assert_eq!(seqs(2, 2), vec![3, 4]);
    assert_eq!(seqs(5, 10), Vec::<u64>::new());
    assert_eq!(seqs(2, 0), Vec::<u64>::new());
    handle.ack(dest(), 3).unwrap();
    assert_eq!(
        seqs(1, 10),
        vec![4, 5],
        "acknowledged records are never returned"
    );
    assert_eq!(
        handle.peek(dest(), 10).unwrap().len(),
        2,
        "peek_after consumed nothing"
    );
}

#[test]
fn an_expired_ack_resends_the_same_events_read_again_from_the_spool() {
    let s = setup(3, 3, |_, script| {
        script.outcomes.push_back(vec![(0..3, Action::AwaitingAck)]);
    });
    s.wait("the batch awaits its ack", |s| {
        s.script.0.lock().unwrap().awaiting.len() == 3
    });
    // The worker keeps no event while it awaits an ack; the resend must read them back.
    s.script.0.lock().unwrap().expired_next = vec![1, 2, 3];
    s.wait("resent and delivered", |s| s.left().is_empty());
    let script = s.script.0.lock().unwrap();
    assert_eq!(script.batches, vec![vec![1, 2, 3], vec![1, 2, 3]]);
    assert_eq!(
        script.alert_ids,
        vec![vec![1, 2, 3], vec![1, 2, 3]],
        "the resent events are the ones first sent"
    );
    drop(script);
    let stats = s.stats();
    assert_eq!(stats.possible_duplicates, 3, "{stats:?}");
    assert_eq!(stats.delivered, 3, "{stats:?}");
    s.stop();
}

#[test]
fn the_senders_possible_loss_window_reaches_the_stats() {
    let s = setup(2, 10, |_, script| script.possible_loss = 7);
    s.wait("delivered", |s| s.left().is_empty());
    s.wait("the loss window shown", |s| s.stats().possible_loss == 7);
    assert_eq!(s.stats().to_status().possible_loss, 7);
    s.stop();
}

#[test]
fn a_stopping_worker_polls_the_confirmations_its_sender_reads_locally_so_a_restart_resends_none() {
    for (pace, left) in [
        (Some(Duration::from_millis(5)), Vec::<u64>::new()),
        // HEC acks (the worker's own pace) are polled too, for up to `ACK_DRAIN_WAIT`.
        (None, Vec::<u64>::new()),
    ] {
        let mut s = setup(3, 3, |_, script| {
            script.outcomes.push_back(vec![(0..3, Action::AwaitingAck)]);
            script.pace = pace;
        });
        s.script.0.lock().unwrap().confirm_when = Some(s.shutdown.clone());
        s.wait("the batch awaits its confirmation", |s| {
            s.script.0.lock().unwrap().awaiting.len() == 3
        });
        s.stop_worker_only();
        assert_eq!(s.left(), left, "pace {pace:?}");
        assert_eq!(s.stats().delivered, 3 - left.len() as u64, "pace {pace:?}");
    }
}
