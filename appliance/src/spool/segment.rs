//! Segment files: naming, and the scan that reads one back frame by frame.
//!
//! A segment is a file `<first seq, 20 decimal digits>.seg` in the spool directory holding
//! icsfwd-core record frames back to back (`docs/record-format.md`). The name is the
//! sequence number of the first record the segment was created for, so names sort in
//! sequence order and an empty segment still tells where numbering goes on.
//!
//! [`scan`] reads a segment through the core [`Decoder`] with a fixed chunk buffer and calls
//! back for each record; it reports every skipped frame with its offset, a torn tail, and
//! stops at the first frame that must be refused ([`DecodeError::must_refuse`]).
//! [`scan_with`] is the same scan for a reader that decodes each checked record itself
//! (a delivery worker takes its own records' bodies as they are stored, and only the header
//! of the others').
//!
//! A segment's file may be longer than its data: the spool preallocates its blocks ahead
//! ([`super::PREALLOCATE_STEP`]), and the reserved part reads as zeros, which the record
//! format reads as padding. [`ScanOutcome::data_len`] is where the data ends (the spool
//! appends there); a write cut short inside the preallocated part is still a torn tail.
//!
//! A segment's file may also be a recycled one (`docs/spool.md`, "Spare segment files"): a
//! fully delivered segment's file renamed to the next segment's name and written again from
//! its start. The frames of its earlier use stay after the new data until they are
//! overwritten. Their sequence numbers are all below the segment's name (numbers only grow,
//! and the name is the next number when the file was taken), so the rule is: in segment `S`,
//! a whole frame with a sequence number below `S` is *stale*: the data ends before it, and
//! nothing from the end of the data on is data ([`ScanOutcome::stale`]). Zeros and damaged
//! fragments between the data's end and the first stale frame (an overwritten old frame's
//! rest, a write cut short, a sector padded with zeros) are part of that stale tail, not
//! corruption; a damaged frame followed by a valid frame of `S` is still corruption.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::io;
use std::ops::Range;
use std::path::Path;

use icsfwd_core::record::{DecodeError, Decoder, Record, RecordView, TornTail};

use super::storage::Storage;

/// The file name suffix of a segment.
pub(crate) const SUFFIX: &str = ".seg";

/// The file name of the segment whose first sequence number is `first_seq`.
pub fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}{SUFFIX}")
}

/// The file name suffix of a spare segment file (`docs/spool.md`, "Spare segment files").
pub(crate) const SPARE_SUFFIX: &str = ".spare";

/// The name a delivered segment `first_seq` gets while it is kept as a spare file.
pub fn spare_file_name(first_seq: u64) -> String {
    format!("{first_seq:020}{SPARE_SUFFIX}")
}

/// The first sequence number a segment file name stands for, or `None` for any other name.
pub fn parse_file_name(name: &str) -> Option<u64> {
    parse_numbered(name, SUFFIX)
}

/// The sequence number a spare file name carries (its segment's), or `None` for any other
/// name.
pub fn parse_spare_file_name(name: &str) -> Option<u64> {
    parse_numbered(name, SPARE_SUFFIX)
}

/// `<20 decimal digits><suffix>`: the number.
fn parse_numbered(name: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A frame the scan skipped: where, how long, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedFrame {
    /// Offset of the frame in the segment.
    pub offset: u64,
    /// Its length, delimiter included.
    pub len: u64,
    /// Why it was skipped.
    pub error: DecodeError,
}

/// What a scan found besides the records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScanOutcome {
    /// Records delivered to the callback.
    pub records: u64,
    /// Damaged frames skipped, in order.
    pub skipped: Vec<SkippedFrame>,
    /// An incomplete frame at the end (a write cut short).
    pub torn: Option<TornTail>,
    /// The first genuine record this reader cannot interpret; the scan stopped there.
    pub refused: Option<SkippedFrame>,
    /// Bytes read up to the end of the last whole frame (where appends may go on).
    pub whole_len: u64,
    /// Where the data ends: after the last frame or the torn tail. Zeros after it (up to
    /// `whole_len`) are padding: the preallocated tail of a segment.
    pub data_len: u64,
    /// Where the frames of a recycled file's earlier use begin (the data's end, followed by
    /// a whole frame whose sequence number is below the segment's name): nothing from here
    /// to the end of the file is data. The scan stopped at the first stale frame.
    pub stale: Option<u64>,
}

/// How much a scan reads per call.
const CHUNK: usize = 64 * 1024;

/// Reads `path` from `start` to `end` and calls `on_record(record, frame_span)` for every
/// record, in order, with its frame's span in the file. `on_record` returns `false` to stop
/// early (the outcome then describes the part read).
///
/// Zeros between frames are padding (`docs/record-format.md`), skipped in bulk: a segment's
/// preallocated tail is read as fast as the disk gives it. A preallocated tail changes how a
/// write cut short looks: its first bytes are followed by the tail's zeros, so the decoder
/// sees a damaged frame followed by padding rather than bytes without a delimiter. The last
/// frame of the range, when it is damaged and padding follows it, is therefore reported as
/// the torn tail it is (its false delimiter and the zeros after it as padding), not as
/// corruption; a segment written without preallocation ends at a delimiter and never has
/// padding there.
///
/// A record whose sequence number is below the segment's name (taken from `path`'s file
/// name) is a stale frame of a recycled file (module docs): the data ends after the last
/// record before it, the damaged frames between are dropped from `skipped` (they are the
/// stale tail's), and the scan stops ([`ScanOutcome::stale`]).
///
/// # Errors
///
/// An I/O error of the storage.
pub(crate) fn scan(
    storage: &mut dyn Storage,
    path: &Path,
    start: u64,
    end: u64,
    on_record: impl FnMut(Record, Range<u64>) -> bool,
) -> io::Result<ScanOutcome> {
    scan_with(
        storage,
        (path, start, end),
        |view| Ok((view.seq(), view.to_record()?)),
        on_record,
    )
}

/// [`scan`], with `decode` making each checked record (CRC, version, header) into what
/// `on_record` takes, with its sequence number: [`scan`] decodes the whole record; a
/// reader that needs less decodes less. An error `decode` returns counts as the frame's, as
/// [`scan`] counts a body that does not decode (one that must be refused stops the scan).
///
/// # Errors
///
/// As [`scan`].
pub(crate) fn scan_with<T>(
    storage: &mut dyn Storage,
    (path, start, end): (&Path, u64, u64),
    mut decode: impl FnMut(&RecordView<'_>) -> Result<(u64, T), DecodeError>,
    mut on_record: impl FnMut(T, Range<u64>) -> bool,
) -> io::Result<ScanOutcome> {
    let first_seq = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(parse_file_name)
        .unwrap_or(0);
    // The end of the last record delivered: where the data ends if a stale frame follows.
    let mut records_end = start;
    let mut decoder = Decoder::new();
    let mut outcome = ScanOutcome {
        whole_len: start,
        data_len: start,
        ..ScanOutcome::default()
    };
    let mut chunk = vec![0u8; CHUNK];
    let mut offset = start;
    // Padding skipped without the decoder: a decoder offset plus `start + padding` is a file
    // offset (padding is only skipped between frames, so it never falls inside one).
    let mut padding = 0u64;
    'read: while offset < end {
        let want = usize::try_from(end - offset).unwrap_or(CHUNK).min(CHUNK);
        let Some(buf) = chunk.get_mut(..want) else {
            break;
        };
        let n = storage.read_at(path, offset, buf)?;
        if n == 0 {
            break;
        }
        let mut rest = buf.get(..n).unwrap_or_default();
        while !rest.is_empty() {
            if decoder.pending() == 0 {
                let zeros = rest.iter().take_while(|&&b| b == 0).count();
                if zeros > 0 {
                    padding += zeros as u64;
                    rest = rest.get(zeros..).unwrap_or_default();
                    continue;
                }
            }
            let (used, frame) = decoder.push_with(rest, &mut decode);
            rest = rest.get(used..).unwrap_or_default();
            let Some(frame) = frame else { continue };
            let span = decoder.last_frame();
            let base = start + padding;
            let span = base + span.start..base + span.end;
            match frame {
                Ok((seq, _)) if seq < first_seq => {
                    end_at_stale_frame(&mut outcome, records_end);
                    return Ok(outcome);
                }
                Ok((_, record)) => {
                    outcome.data_len = span.end;
                    records_end = span.end;
                    outcome.records += 1;
                    outcome.whole_len = span.end;
                    if !on_record(record, span) {
                        return Ok(outcome);
                    }
                }
                Err(error) if error.must_refuse() => {
                    outcome.data_len = span.end;
                    outcome.refused = Some(SkippedFrame {
                        offset: span.start,
                        len: span.end - span.start,
                        error,
                    });
                    break 'read;
                }
                Err(error) => {
                    outcome.data_len = span.end;
                    outcome.whole_len = span.end;
                    outcome.skipped.push(SkippedFrame {
                        offset: span.start,
                        len: span.end - span.start,
                        error,
                    });
                }
            }
        }
        offset += n as u64;
    }
    if outcome.refused.is_none() {
        finish(&mut outcome, &mut decoder, start + padding);
    }
    Ok(outcome)
}

/// The end of a [`scan`] that read its whole range: where whole frames end and the torn
/// tail, if any (`base`: the file offset of the decoder's offset 0).
fn finish(outcome: &mut ScanOutcome, decoder: &mut Decoder, base: u64) {
    // Padding ends whole frames too.
    outcome.whole_len = base + decoder.frame_start();
    outcome.torn = decoder.finish().map(|torn| TornTail {
        start: base + torn.start,
        bytes: torn.bytes,
    });
    if let Some(torn) = outcome.torn {
        outcome.data_len = torn.start + torn.bytes as u64;
    } else {
        torn_before_padding(outcome);
    }
}

/// A stale frame was found (see [`scan`]): the data ends at `records_end`, after the last
/// record, and the damaged frames after it belong to the stale tail.
fn end_at_stale_frame(outcome: &mut ScanOutcome, records_end: u64) {
    outcome.skipped.retain(|s| s.offset < records_end);
    outcome.data_len = records_end;
    outcome.whole_len = records_end;
    outcome.torn = None;
    outcome.stale = Some(records_end);
}

/// A damaged last frame with padding after it is a write cut short inside a preallocated
/// tail (see [`scan`]): it becomes the torn tail, and its zero "delimiter" padding.
fn torn_before_padding(outcome: &mut ScanOutcome) {
    let Some(last) = outcome.skipped.last().copied() else {
        return;
    };
    let last_end = last.offset + last.len;
    if last_end != outcome.data_len || outcome.whole_len <= last_end {
        return;
    }
    outcome.skipped.pop();
    let bytes = last.len.saturating_sub(1);
    outcome.torn = Some(TornTail {
        start: last.offset,
        bytes: usize::try_from(bytes).unwrap_or(usize::MAX),
    });
    outcome.data_len = last.offset + bytes;
    outcome.whole_len = last.offset;
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use icsfwd_core::alert::{Alert, Event};
    use icsfwd_core::destination::DestinationSet;
    use icsfwd_core::record::{self, MAX_FRAME};

    use super::*;
    use crate::spool::storage::FsStorage;

    fn frame(seq: u64) -> Vec<u8> {
        let record = Record {
            seq,
            destinations: DestinationSet::from_bits(1),
            event: Event::from(Alert::example(seq)),
        };
        let mut buf = vec![0u8; MAX_FRAME];
        let n = record::encode(&record, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    /// Scans `bytes` as a whole segment file: the spans seen and the outcome.
    fn scan_bytes(bytes: &[u8]) -> (Vec<(u64, Range<u64>)>, ScanOutcome) {
        scan_segment_bytes(1, bytes)
    }

    /// Scans `bytes` as the whole file of segment `first`: the spans seen and the outcome.
    fn scan_segment_bytes(first: u64, bytes: &[u8]) -> (Vec<(u64, Range<u64>)>, ScanOutcome) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file_name(first));
        std::fs::write(&path, bytes).unwrap();
        let mut seen = Vec::new();
        let outcome = scan(
            &mut FsStorage::new(),
            &path,
            0,
            bytes.len() as u64,
            |r, span| {
                seen.push((r.seq, span));
                true
            },
        )
        .unwrap();
        (seen, outcome)
    }

    #[test]
    fn padding_is_skipped_with_exact_spans_and_the_data_ends_before_the_tail() {
        let (a, b) = (frame(1), frame(2));
        // A frame, padding longer than a read chunk, a frame, a preallocated tail.
        let gap = CHUNK + 17;
        let mut bytes = a.clone();
        bytes.resize(a.len() + gap, 0);
        bytes.extend_from_slice(&b);
        let data_end = bytes.len() as u64;
        bytes.resize(bytes.len() + 3 * CHUNK, 0);

        let (seen, outcome) = scan_bytes(&bytes);
        let b_start = (a.len() + gap) as u64;
        assert_eq!(
            seen,
            [
                (1, 0..a.len() as u64),
                (2, b_start..b_start + b.len() as u64)
            ]
        );
        assert_eq!(outcome.records, 2);
        assert!(outcome.skipped.is_empty() && outcome.torn.is_none());
        assert_eq!(outcome.data_len, data_end);
        assert_eq!(outcome.whole_len, bytes.len() as u64, "padding ends frames");
    }

    #[test]
    fn a_damaged_last_frame_is_torn_only_when_padding_follows_it() {
        let (a, b) = (frame(1), frame(2));
        let cut = b.len() / 2;
        let mut torn = a.clone();
        torn.extend_from_slice(&b[..cut]);
        // Written without preallocation: bytes without a delimiter, the classic torn tail.
        let (_, outcome) = scan_bytes(&torn);
        assert_eq!(
            outcome.torn,
            Some(TornTail {
                start: a.len() as u64,
                bytes: cut
            })
        );
        assert_eq!(outcome.data_len, torn.len() as u64);

        // Inside a preallocated tail: the same write, then zeros.
        let mut in_tail = torn.clone();
        in_tail.resize(torn.len() + 100, 0);
        let (seen, outcome) = scan_bytes(&in_tail);
        assert_eq!(seen.len(), 1);
        assert!(outcome.skipped.is_empty(), "{outcome:?}");
        assert_eq!(
            outcome.torn,
            Some(TornTail {
                start: a.len() as u64,
                bytes: cut
            })
        );
        assert_eq!(outcome.data_len, torn.len() as u64);
        assert_eq!(outcome.whole_len, a.len() as u64, "appends go on there");

        // A damaged frame ended by its own delimiter with nothing after it stays corrupt.
        let mut damaged = a.clone();
        damaged.extend_from_slice(&b[..cut]);
        damaged.push(0);
        let (_, outcome) = scan_bytes(&damaged);
        assert_eq!(outcome.skipped.len(), 1);
        assert_eq!(outcome.torn, None);
    }
    /// Frames `seqs` back to back, and where each ends.
    fn frames(seqs: &[u64]) -> (Vec<u8>, Vec<u64>) {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for &seq in seqs {
            bytes.extend_from_slice(&frame(seq));
            ends.push(bytes.len() as u64);
        }
        (bytes, ends)
    }

    #[test]
    fn frames_below_the_segments_name_are_stale_and_end_the_data() {
        // Segment 10 recycled from segment 3: new records 10 and 11 written over the old
        // ones, whose frames 5 and 6 are still there, then the old file's zero tail.
        let (mut bytes, ends) = frames(&[10, 11]);
        bytes.extend_from_slice(&frames(&[5, 6]).0);
        bytes.resize(bytes.len() + 300, 0);

        let (seen, outcome) = scan_segment_bytes(10, &bytes);
        let seqs: Vec<u64> = seen.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, [10, 11]);
        assert!(outcome.skipped.is_empty(), "{outcome:?}");
        assert_eq!(outcome.torn, None);
        assert_eq!(outcome.stale, Some(ends[1]));
        assert_eq!(outcome.data_len, ends[1]);
        assert_eq!(outcome.whole_len, ends[1], "appends go on after the data");

        // The same bytes as segment 3 (the name its frames were written under): all data.
        let (seen, outcome) = scan_segment_bytes(3, &frames(&[3, 4, 5, 6]).0);
        assert_eq!(seen.len(), 4);
        assert_eq!(outcome.stale, None);
    }

    #[test]
    fn zeros_and_a_damaged_fragment_before_stale_frames_are_the_stale_tail_not_corruption() {
        // Data, a sector padded with zeros, the second half of an old frame the padding cut,
        // then whole old frames.
        let (mut bytes, ends) = frames(&[20, 21]);
        bytes.resize(bytes.len() + 150, 0);
        let cut = frame(7);
        bytes.extend_from_slice(&cut[cut.len() / 2..]);
        bytes.extend_from_slice(&frames(&[8, 9]).0);
        let (seen, outcome) = scan_segment_bytes(20, &bytes);
        assert_eq!(seen.len(), 2);
        assert!(outcome.skipped.is_empty(), "{outcome:?}");
        assert_eq!(outcome.torn, None);
        assert_eq!(outcome.stale, Some(ends[1]));
        assert_eq!(outcome.data_len, ends[1]);

        // A write cut short over the old frames: the new frame's first half merges with the
        // rest of an old one; the old frames after it still end the data.
        let (mut bytes, ends) = frames(&[20]);
        let new = frame(21);
        bytes.extend_from_slice(&new[..new.len() / 2]);
        let old = frames(&[7, 8, 9]).0;
        bytes.extend_from_slice(&old[bytes.len()..]);
        let (seen, outcome) = scan_segment_bytes(20, &bytes);
        assert_eq!(seen.len(), 1);
        assert!(outcome.skipped.is_empty(), "{outcome:?}");
        assert_eq!(outcome.torn, None);
        assert_eq!(outcome.stale, Some(ends[0]));
    }

    #[test]
    fn a_damaged_frame_followed_by_a_record_of_the_segment_is_still_corruption() {
        let (a, b, c) = (frame(30), frame(31), frame(32));
        let mut bytes = a.clone();
        bytes.extend_from_slice(&b[..b.len() / 2]);
        bytes.push(0);
        bytes.extend_from_slice(&c);
        let data_end = bytes.len() as u64;
        bytes.extend_from_slice(&frames(&[11, 12]).0);
        let (seen, outcome) = scan_segment_bytes(30, &bytes);
        let seqs: Vec<u64> = seen.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, [30, 32]);
        assert_eq!(outcome.skipped.len(), 1, "{outcome:?}");
        assert_eq!(outcome.skipped[0].offset, a.len() as u64);
        assert_eq!(outcome.stale, Some(data_end));
        assert_eq!(outcome.data_len, data_end);
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::spool::segment::{file_name, parse_file_name};

        assert_eq!(file_name(42), "00000000000000000042.seg");
        assert_eq!(parse_file_name("00000000000000000042.seg"), Some(42));
        assert_eq!(parse_file_name("checkpoint"), None);
    }
}
