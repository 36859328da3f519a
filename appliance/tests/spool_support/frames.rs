//! Frame surgery for the corrupt-image and compatibility tests: split a segment into frames,
//! and rewrite one record's raw bytes with a valid CRC (a "genuine" record of another kind).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::ops::Range;

use icsfwd_core::record::{self, CRC_LEN, cobs, crc};

/// The spans of the frames of `bytes` (each includes its `00` delimiter); a tail without a
/// delimiter is not a frame.
pub fn spans(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == 0 {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    out
}

/// The sequence number of the record in `frame` (with its delimiter).
pub fn seq_of(frame: &[u8]) -> u64 {
    record::decode_frame(frame).unwrap().seq
}

/// Re-encodes the record of `frame` (with its delimiter) after `edit` changed its raw bytes,
/// with the CRC recomputed: the result is a frame whose CRC is valid.
pub fn reframe(frame: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut raw = vec![0u8; frame.len()];
    let n = cobs::decode(&frame[..frame.len() - 1], &mut raw).unwrap();
    raw.truncate(n);
    edit(&mut raw);
    let covered = raw.len() - CRC_LEN;
    let sum = crc::checksum(&raw[..covered]);
    raw[covered..].copy_from_slice(&sum.to_le_bytes());
    let mut out = vec![0u8; cobs::max_encoded_len(raw.len()) + 1];
    let m = cobs::encode(&raw, &mut out).unwrap();
    out.truncate(m);
    out.push(0);
    out
}
