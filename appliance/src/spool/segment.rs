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
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::io;
use std::ops::Range;
use std::path::Path;

use icsfwd_core::record::{DecodeError, Decoder, Record, TornTail};

use super::storage::Storage;

/// The file name suffix of a segment.
pub(crate) const SUFFIX: &str = ".seg";

/// The file name of the segment whose first sequence number is `first_seq`.
pub fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}{SUFFIX}")
}

/// The first sequence number a segment file name stands for, or `None` for any other name.
pub(crate) fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
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
}

/// How much a scan reads per call.
const CHUNK: usize = 64 * 1024;

/// Reads `path` from `start` to `end` and calls `on_record(record, frame_span)` for every
/// record, in order, with its frame's span in the file. `on_record` returns `false` to stop
/// early (the outcome then describes the part read).
///
/// # Errors
///
/// An I/O error of the storage.
pub(crate) fn scan(
    storage: &mut dyn Storage,
    path: &Path,
    start: u64,
    end: u64,
    mut on_record: impl FnMut(Record, Range<u64>) -> bool,
) -> io::Result<ScanOutcome> {
    let mut decoder = Decoder::new();
    let mut outcome = ScanOutcome {
        whole_len: start,
        ..ScanOutcome::default()
    };
    let mut chunk = vec![0u8; CHUNK];
    let mut offset = start;
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
            let (used, frame) = decoder.push(rest);
            rest = rest.get(used..).unwrap_or_default();
            let Some(frame) = frame else { continue };
            let span = decoder.last_frame();
            let span = start + span.start..start + span.end;
            match frame {
                Ok(record) => {
                    outcome.records += 1;
                    outcome.whole_len = span.end;
                    if !on_record(record, span) {
                        return Ok(outcome);
                    }
                }
                Err(error) if error.must_refuse() => {
                    outcome.refused = Some(SkippedFrame {
                        offset: span.start,
                        len: span.end - span.start,
                        error,
                    });
                    break 'read;
                }
                Err(error) => {
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
        // Empty frames (zero padding) end whole frames too.
        outcome.whole_len = start + decoder.frame_start();
        outcome.torn = decoder.finish().map(|torn| TornTail {
            start: start + torn.start,
            bytes: torn.bytes,
        });
    }
    Ok(outcome)
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
