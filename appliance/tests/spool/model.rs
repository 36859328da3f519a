//! Model test: random append / peek / ack / checkpoint / reopen sequences against a simple
//! model (per destination, the queue of records not yet acknowledged durably or in memory).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::collections::VecDeque;

use icsfwd::testing::spool::{Spool, SpoolConfig};
use icsfwd_core::alert::Severity;
use icsfwd_core::destination::DestinationSet;
use proptest::prelude::*;
use spool_support::{alert, dest, open};

const DESTINATIONS: usize = 3;

#[derive(Debug, Clone)]
enum Step {
    /// A batch of (severity index, destination bits 1..8).
    Append(Vec<(usize, u32)>),
    Peek(u8, usize),
    /// Acknowledge the first `n` queued records of the destination.
    Ack(u8, usize),
    Checkpoint,
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop::collection::vec((0usize..4, 1u32..8), 1..5).prop_map(Step::Append),
        3 => (0u8..3, 0usize..6).prop_map(|(d, n)| Step::Peek(d, n)),
        3 => (0u8..3, 1usize..5).prop_map(|(d, n)| Step::Ack(d, n)),
        1 => Just(Step::Checkpoint),
        1 => Just(Step::Reopen),
    ]
}

/// The oracle: every record ever accepted, and per destination the in-memory and the
/// durable (checkpointed) cursor.
#[derive(Debug, Default)]
struct Model {
    records: Vec<(u64, DestinationSet, u64)>,
    acked: [u64; DESTINATIONS],
    durable_acked: [u64; DESTINATIONS],
}

impl Model {
    fn queue(&self, d: u8) -> VecDeque<(u64, u64)> {
        self.records
            .iter()
            .filter(|(seq, dests, _)| dests.contains(dest(d)) && *seq > self.acked[usize::from(d)])
            .map(|&(seq, _, id)| (seq, id))
            .collect()
    }
}

fn config() -> SpoolConfig {
    // Small segments so that rotation and removal happen within a few steps.
    SpoolConfig {
        segment_bytes: 300,
        ..SpoolConfig::default()
    }
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _): (Spool, _) = open(dir.path(), config(), DESTINATIONS);
    let mut model = Model::default();
    let mut next_id = 0u64;
    let mut last_seq = 0u64;
    for step in steps {
        match step {
            Step::Append(batch) => {
                let events: Vec<_> = batch
                    .iter()
                    .map(|&(severity, bits)| {
                        next_id += 1;
                        (
                            alert(next_id, Severity::ALL[severity]),
                            DestinationSet::from_bits(bits),
                        )
                    })
                    .collect();
                let results = spool.append_batch(&events).unwrap();
                for ((event, dests), result) in events.iter().zip(results) {
                    let seq = result.unwrap();
                    prop_assert!(seq > last_seq, "seq {} after {}", seq, last_seq);
                    last_seq = seq;
                    let id = match event {
                        icsfwd_core::alert::Event::Alert(a) => a.id,
                        icsfwd_core::alert::Event::Notification(n) => n.id,
                    };
                    model.records.push((seq, *dests, id));
                }
            }
            Step::Peek(d, max) => {
                let got: Vec<(u64, u64)> = spool
                    .peek(dest(d), max)
                    .unwrap()
                    .into_iter()
                    .map(|r| match r.event {
                        icsfwd_core::alert::Event::Alert(a) => (r.seq, a.id),
                        icsfwd_core::alert::Event::Notification(n) => (r.seq, n.id),
                    })
                    .collect();
                let want: Vec<_> = model.queue(d).into_iter().take(max).collect();
                prop_assert_eq!(got, want);
            }
            Step::Ack(d, n) => {
                let queue = model.queue(d);
                if let Some(&(upto, _)) = queue.get(n.min(queue.len()).saturating_sub(1)) {
                    let acked = spool.ack(dest(d), upto).unwrap();
                    prop_assert_eq!(acked, n.min(queue.len()) as u64);
                    model.acked[usize::from(d)] = upto;
                }
            }
            Step::Checkpoint => {
                spool.checkpoint().unwrap();
                model.durable_acked = model.acked;
            }
            Step::Reopen => {
                drop(spool);
                let (reopened, recovery) = open(dir.path(), config(), DESTINATIONS);
                spool = reopened;
                prop_assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
                // A reopen after a process crash (the drop): every acknowledgement survives,
                // through the checkpoint or the progress log; the latter is used exactly for
                // the destinations that acknowledged more since the last checkpoint.
                let ahead = (0..DESTINATIONS)
                    .filter(|&d| model.acked[d] > model.durable_acked[d])
                    .count();
                prop_assert_eq!(recovery.progress.applied.len(), ahead);
                for d in 0..DESTINATIONS {
                    prop_assert_eq!(recovery.destinations[d].acked, model.acked[d]);
                }
            }
        }
        let stats = spool.stats();
        for d in 0..DESTINATIONS as u8 {
            prop_assert_eq!(
                stats.destinations[usize::from(d)].backlog,
                model.queue(d).len() as u64,
                "backlog of destination {}",
                d
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("SPOOL_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn spool_matches_a_per_destination_queue_model(steps in prop::collection::vec(step(), 1..40)) {
        run(steps)?;
    }
}
