//! The spool remembers the records a peek handed out: `peek_after` continues after them and `ack`
//! counts them without reading the segment again. These tests hold both to the answers of a plain
//! model — which records a peek returns, how many an ack counts, the backlog — for interleaved
//! peeks, partial acks, several destinations, small segments and a checkpoint that removes
//! delivered segments in between. A worker's read of stored bodies (`peek_packed_after`) is
//! held to the same model, and must give back the very events appended.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::collections::HashMap;

use icsfwd::testing::spool::{SpoolConfig, SpoolError};
use icsfwd_core::alert::{Event, Severity};
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
        let mut appended: HashMap<u64, Event> = HashMap::new();
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
                    for (result, (event, _, bits)) in results.into_iter().zip(batch) {
                        let seq = result.unwrap();
                        model.records.push((seq, bits));
                        appended.insert(seq, event);
                    }
                }
                2 | 3 => {
                    let d = usize::try_from(rng.below(2)).unwrap();
                    let max = usize::try_from(1 + rng.below(30)).unwrap();
                    let want: Vec<u64> = model
                        .relevant(d, last_read[d])
                        .into_iter()
                        .take(max)
                        .collect();
                    let id = dest(u8::try_from(d).unwrap());
                    if rng.below(2) == 0 {
                        let got = spool.peek_after(id, last_read[d], max).unwrap();
                        assert_eq!(seqs(&got), want, "seed {seed} step {step}: peek_after");
                    } else {
                        let got = spool.peek_packed_after(id, last_read[d], max).unwrap();
                        let got_seqs: Vec<u64> = got.iter().map(|(seq, _)| *seq).collect();
                        assert_eq!(got_seqs, want, "seed {seed} step {step}: packed");
                        for (seq, packed) in &got {
                            assert_eq!(packed.unpack().unwrap(), appended[seq], "record {seq}");
                        }
                    }
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

/// Record `seq`'s frame in `segment` rewritten, CRC and all, with a body that does not decode
/// (its variant byte out of range) and the same framed length, so the spool still finds every
/// frame where it wrote it: a file changed under a running spool.
fn spoil_body(segment: &std::path::Path, seq: u64) {
    use icsfwd_core::record::{RecordView, cobs, crc};
    let mut bytes = std::fs::read(segment).unwrap();
    let mut start = 0;
    let (frame_start, frame) = loop {
        let end = start + bytes[start..].iter().position(|&b| b == 0).unwrap();
        let mut plain = bytes[start..end].to_vec();
        let len = cobs::decode_in_place(&mut plain).unwrap();
        plain.truncate(len);
        if RecordView::new_checked(&plain).unwrap().seq() == seq {
            break (start, plain);
        }
        start = end + 1;
    };
    let stuffed_len = cobs::encoded_len(&frame);
    const HEADER: usize = 18;
    for variant in (2..=255u8).rev() {
        let mut spoiled = frame.clone();
        spoiled[HEADER] = variant;
        let body_end = spoiled.len() - 4;
        let sum = crc::checksum(&spoiled[..body_end]);
        spoiled[body_end..].copy_from_slice(&sum.to_le_bytes());
        let view = RecordView::new_checked(&spoiled).unwrap();
        if cobs::encoded_len(&spoiled) != stuffed_len || view.event().is_ok() {
            continue;
        }
        let mut stuffed = vec![0u8; stuffed_len];
        let n = cobs::encode(&spoiled, &mut stuffed).unwrap();
        bytes[frame_start..frame_start + n].copy_from_slice(&stuffed[..n]);
        std::fs::write(segment, &bytes).unwrap();
        return;
    }
    panic!("no spoiled body frames as long as record {seq}'s");
}

#[test]
fn a_stored_body_that_does_not_decode_is_refused_to_its_destinations_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open(dir.path(), SpoolConfig::default(), 2);
    let events: Vec<_> = (1..=3)
        .map(|i| {
            (
                alert(i, Severity::Major),
                if i == 2 { set(&[0]) } else { set(&[0, 1]) },
            )
        })
        .collect();
    spool.append_batch(&events).unwrap();
    let segment = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .unwrap();
    spoil_body(&segment, 2);
    // Record 1 is read before it; record 2 is refused, by both reads, as a body that does not
    // decode (the whole read fails, nothing is handed out past it).
    let first = spool.peek_packed_after(dest(0), 0, 1).unwrap();
    assert_eq!(first.len(), 1);
    for refused in [
        spool.peek_packed_after(dest(0), 1, 10).map(|r| r.len()),
        spool.peek_after(dest(0), 1, 10).map(|r| r.len()),
    ] {
        match refused {
            Err(SpoolError::Refused { error, .. }) => {
                assert_eq!(error, icsfwd_core::record::DecodeError::Body);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // Destination 1 is not among record 2's: its body is not decoded for it (header and CRC
    // are checked), and its records go on.
    let other = spool.peek_packed_after(dest(1), 0, 10).unwrap();
    let other: Vec<u64> = other.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(other, [1, 3]);
}
