//! The spool remembers the records a peek handed out: `peek_after` continues after them and `ack`
//! counts them without reading the segment again. These tests hold both to the answers of a plain
//! model — which records a peek returns, how many an ack counts, the backlog — for interleaved
//! peeks, partial acks, several destinations, small segments and a checkpoint that removes
//! delivered segments in between.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use icsfwd::testing::spool::SpoolConfig;
use icsfwd_core::alert::Severity;
use spool_support::{alert, dest, open, seqs, set};

/// The model: per record its destination bits; per destination its acknowledged seq.
struct Model {
    records: Vec<(u64, u8)>,
    acked: [u64; 2],
}

impl Model {
    fn relevant(&self, d: usize, after: u64) -> Vec<u64> {
        self.records
            .iter()
            .filter(|(seq, bits)| bits & (1 << d) != 0 && *seq > self.acked[d] && *seq > after)
            .map(|(seq, _)| *seq)
            .collect()
    }
}

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn peeks_after_handed_out_records_and_acks_agree_with_the_model() {
    for seed in 1..=6u64 {
        let dir = tempfile::tempdir().unwrap();
        let config = SpoolConfig {
            segment_bytes: 64 * 1024,
            ..SpoolConfig::default()
        };
        let (mut spool, _) = open(dir.path(), config, 2);
        let mut model = Model {
            records: Vec::new(),
            acked: [0; 2],
        };
        // Per destination, the last seq a worker read (it asks for what follows it).
        let mut last_read = [0u64; 2];
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut id = 0;
        for step in 0..300 {
            match rng.below(6) {
                0 | 1 => {
                    let n = 1 + rng.below(40);
                    let batch: Vec<_> = (0..n)
                        .map(|_| {
                            id += 1;
                            let bits = [1u8, 2, 3][usize::try_from(rng.below(3)).unwrap()];
                            let dests: Vec<u8> = (0..2).filter(|d| bits & (1 << d) != 0).collect();
                            (alert(id, Severity::Major), set(&dests), bits)
                        })
                        .collect();
                    let events: Vec<_> = batch.iter().map(|(e, s, _)| (e.clone(), *s)).collect();
                    let results = spool.append_batch(&events).unwrap();
                    for (result, (_, _, bits)) in results.into_iter().zip(batch) {
                        model.records.push((result.unwrap(), bits));
                    }
                }
                2 | 3 => {
                    let d = usize::try_from(rng.below(2)).unwrap();
                    let max = usize::try_from(1 + rng.below(30)).unwrap();
                    let got = spool
                        .peek_after(dest(u8::try_from(d).unwrap()), last_read[d], max)
                        .unwrap();
                    let want: Vec<u64> = model
                        .relevant(d, last_read[d])
                        .into_iter()
                        .take(max)
                        .collect();
                    assert_eq!(seqs(&got), want, "seed {seed} step {step}: peek_after");
                    if let Some(last) = want.last() {
                        last_read[d] = *last;
                    }
                }
                4 => {
                    let d = usize::try_from(rng.below(2)).unwrap();
                    // Acknowledge part of what was read, or (sometimes) past it.
                    let top = if rng.below(4) == 0 {
                        model.records.last().map_or(0, |r| r.0)
                    } else {
                        last_read[d]
                    };
                    if top <= model.acked[d] {
                        continue;
                    }
                    let upto = model.acked[d] + 1 + rng.below(top - model.acked[d]);
                    let want = model.relevant(d, 0).iter().filter(|s| **s <= upto).count() as u64;
                    let counted = spool.ack(dest(u8::try_from(d).unwrap()), upto).unwrap();
                    assert_eq!(counted, want, "seed {seed} step {step}: ack({upto})");
                    model.acked[d] = upto;
                    last_read[d] = last_read[d].max(upto);
                }
                _ => {
                    if rng.below(2) == 0 {
                        spool.checkpoint().unwrap();
                    } else {
                        // A worker starting over (an expired ack): peek from the cursor.
                        let d = usize::try_from(rng.below(2)).unwrap();
                        let max = usize::try_from(1 + rng.below(30)).unwrap();
                        let got = spool.peek(dest(u8::try_from(d).unwrap()), max).unwrap();
                        let want: Vec<u64> = model.relevant(d, 0).into_iter().take(max).collect();
                        assert_eq!(seqs(&got), want, "seed {seed} step {step}: peek");
                        last_read[d] = want.last().copied().unwrap_or(model.acked[d]);
                    }
                }
            }
            let stats = spool.stats();
            for d in 0..2 {
                assert_eq!(
                    stats.destinations[d].backlog,
                    model.relevant(d, 0).len() as u64,
                    "seed {seed} step {step}: backlog of destination {d}"
                );
            }
        }
    }
}
