//! The progress log: per destination, "delivered up to this record", written after every
//! acknowledgement **without fsync**, so a kill -9 re-sends only what was in flight.
//!
//! The checkpoint ([`super::cursor`]) is the durable record of the cursors, but it is written
//! only every few seconds (the housekeeper's interval): on its own, a restart after a kill
//! sends again everything delivered since the last checkpoint. The progress log closes that
//! gap for the common crash, a killed process: [`super::Spool::ack`] appends one line per
//! acknowledgement to the file `progress` in the spool directory with one `write` into the
//! page cache, which survives the death of the process (not a power cut: then the durable
//! checkpoint bounds the duplicates, as before). At open, each destination resumes at the
//! later of its checkpoint cursor and its valid progress hint.
//!
//! Line format (text, for an operator to read):
//!
//! ```text
//! progress <index> <seq> <record fingerprint, 8 hex> <CRC-32C of the destination name, 8 hex> <crc32c, 8 hex>
//! ```
//!
//! `<seq>` is the last record naming destination `<index>` that it acknowledged: every record
//! up to it naming the destination was delivered. The fingerprint is the CRC-32C of that
//! record's sequence number, destination set, time and event id ([`fingerprint`]); the last
//! field is the CRC-32C of every byte of the line before it.
//!
//! What it guarantees (the hint is never trusted blindly; each rejection is counted in
//! [`ProgressRecovery`]):
//! - A line that is torn, damaged or not in this format is ignored ([`ProgressRecovery::damaged_lines`]).
//! - Per destination only its last valid line counts; a hint naming an index that is no longer
//!   configured, or configured under another name, is ignored ([`Ignored::Removed`],
//!   [`Ignored::Renamed`]).
//! - A hint at or behind the checkpoint cursor is stale and ignored (counted only).
//! - A hint beyond the spool's last record ([`Ignored::BeyondEnd`]), or whose record is not in
//!   the spool with the same fingerprint and destination ([`Ignored::Mismatch`]: a progress
//!   file of another spool generation, segments removed or replaced by hand) is ignored.
//! - The hint only moves a cursor in memory; segments are removed only by a durable
//!   checkpoint, which persists the cursor first. A hint therefore never causes a loss unless
//!   it lies about a record that is still in the spool with the same fingerprint.
//! - The file stays small: it is emptied after every successful checkpoint (which covers every
//!   hint) and rewritten compactly (temp file, rename) at open, after a failed write, and when
//!   it grows beyond [`COMPACT_AT`] (checkpoints failing, e.g. on a full disk).
//! - A failed write never fails the acknowledgement: it is counted
//!   ([`ProgressStats::errors`]) and only costs duplicates after a kill.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::io;
use std::path::{Path, PathBuf};

use icsfwd_core::alert::Event;
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::record::{Record, crc};

use super::storage::Storage;

/// The progress log's file name.
pub const FILE: &str = "progress";
/// The name a compacted progress log is written under before the rename.
pub(crate) const TEMP: &str = "progress.tmp";
/// The largest progress file read at open; a larger one is ignored entirely.
pub(crate) const MAX_LEN: u64 = 1 << 20;
/// The log is rewritten compactly (one line per destination) when it grows beyond this.
pub const COMPACT_AT: u64 = 64 << 10;

const PREFIX: &str = "progress";

/// One destination's progress: every record up to `seq` naming it was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    /// The destination's index.
    pub index: u8,
    /// The last record naming the destination that it acknowledged.
    pub seq: u64,
    /// That record's [`fingerprint`].
    pub fingerprint: u32,
    /// The destination name's [`name_crc`].
    pub name_crc: u32,
}

impl Hint {
    /// The line, newline included.
    #[must_use]
    pub fn encode_line(&self) -> String {
        let body = format!(
            "{PREFIX} {} {} {:08x} {:08x}",
            self.index, self.seq, self.fingerprint, self.name_crc
        );
        let crc = crc::checksum(body.as_bytes());
        format!("{body} {crc:08x}\n")
    }

    /// Parses one line without its newline; `None` when it is damaged or malformed.
    #[must_use]
    pub(crate) fn decode_line(line: &[u8]) -> Option<Hint> {
        let split = line.iter().rposition(|&b| b == b' ')?;
        let (body, crc_field) = (line.get(..split)?, line.get(split + 1..)?);
        let stored = u32::from_str_radix(std::str::from_utf8(crc_field).ok()?, 16).ok()?;
        if crc_field.len() != 8 || stored != crc::checksum(body) {
            return None;
        }
        let text = std::str::from_utf8(body).ok()?;
        let mut words = text.split(' ');
        let hint = match (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) {
            (Some(PREFIX), Some(index), Some(seq), Some(fp), Some(name), None) => Hint {
                index: index.parse().ok()?,
                seq: seq.parse().ok()?,
                fingerprint: u32::from_str_radix(fp, 16).ok()?,
                name_crc: u32::from_str_radix(name, 16).ok()?,
            },
            _ => return None,
        };
        Some(hint)
    }
}

/// The CRC-32C of a record's sequence number, destination set, time and event id: what ties
/// a hint to the very record it names (not merely to a sequence number).
#[must_use]
pub(crate) fn fingerprint(record: &Record) -> u32 {
    fingerprint_of(record.seq, record.destinations, &record.event)
}

/// [`fingerprint`] of the record numbered `seq` for `destinations` holding `event`.
pub(crate) fn fingerprint_of(seq: u64, destinations: DestinationSet, event: &Event) -> u32 {
    let mut crc = crc::Crc32c::new();
    crc.update(&seq.to_le_bytes());
    crc.update(&destinations.bits().to_le_bytes());
    crc.update(&event.time_ms().to_le_bytes());
    let id = event.event_id();
    crc.update(&id.id.to_le_bytes());
    crc.update(id.sensor.as_bytes());
    crc.update(&[match event {
        Event::Alert(_) => 1,
        Event::Notification(_) => 2,
    }]);
    crc.finish()
}

/// The CRC-32C of a destination name.
#[must_use]
pub fn name_crc(name: &str) -> u32 {
    crc::checksum(name.as_bytes())
}

/// Why a destination's progress hint was not used at open.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ignored {
    /// The index is no longer configured.
    Removed {
        /// The index.
        index: u8,
    },
    /// The index is configured under another name.
    Renamed {
        /// The index.
        index: u8,
    },
    /// The hint names a sequence number the spool never gave.
    BeyondEnd {
        /// The index.
        index: u8,
        /// The hint.
        seq: u64,
        /// The spool's next sequence number.
        next_seq: u64,
    },
    /// No record with that sequence number, fingerprint and destination is in the spool.
    Mismatch {
        /// The index.
        index: u8,
        /// The hint.
        seq: u64,
    },
    /// The file is larger than [`MAX_LEN`].
    TooLarge,
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ignored::Removed { index } => write!(f, "destination #{index} is no longer configured"),
            Ignored::Renamed { index } => {
                write!(f, "destination #{index} is configured under another name")
            }
            Ignored::BeyondEnd {
                index,
                seq,
                next_seq,
            } => write!(
                f,
                "destination #{index}: record {seq} is beyond the spool's end (next {next_seq})"
            ),
            Ignored::Mismatch { index, seq } => write!(
                f,
                "destination #{index}: record {seq} is not in the spool (another spool's file?)"
            ),
            Ignored::TooLarge => write!(f, "the file is larger than {MAX_LEN} bytes"),
        }
    }
}

/// A hint used at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The destination's name.
    pub name: String,
    /// Its checkpoint cursor.
    pub checkpoint: u64,
    /// Where it resumes now (the hint).
    pub resumed: u64,
    /// Records between the two, not sent again.
    pub records: u64,
}

/// What [`super::Spool::open`] did with the progress log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgressRecovery {
    /// Hints used.
    pub applied: Vec<Applied>,
    /// Hints refused, and why.
    pub ignored: Vec<Ignored>,
    /// Lines that were torn, damaged or malformed.
    pub damaged_lines: u64,
    /// Valid hints at or behind their checkpoint cursor (normal after a checkpoint).
    pub stale: u64,
}

/// The progress log's counters since open.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgressStats {
    /// Hints written.
    pub written: u64,
    /// Writes that failed (the hint is lost: a kill may then re-send more).
    pub errors: u64,
    /// Compacting rewrites.
    pub rewrites: u64,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    hint: Hint,
    /// The checkpoint cursor the hint would improve on.
    floor: u64,
    matched: bool,
    /// Records naming the destination in `(floor, hint.seq]`.
    covered: u64,
}

/// The hints read at open, checked against every record the open scan reads.
#[derive(Debug)]
pub(crate) struct Candidates {
    per_dest: Vec<Option<Candidate>>,
    recovery: ProgressRecovery,
}

impl Candidates {
    /// Reads the progress file of `dir` (if `files` lists it) for the configured `names`,
    /// whose checkpoint cursors are `floors`.
    pub(crate) fn read(
        storage: &mut dyn Storage,
        dir: &Path,
        files: &[String],
        names: &[String],
        floors: &[u64],
    ) -> io::Result<Candidates> {
        let mut candidates = Candidates {
            per_dest: vec![None; names.len()],
            recovery: ProgressRecovery::default(),
        };
        if !files.iter().any(|f| f == FILE) {
            return Ok(candidates);
        }
        let path = dir.join(FILE);
        if storage.len(&path)? > MAX_LEN {
            candidates.recovery.ignored.push(Ignored::TooLarge);
            return Ok(candidates);
        }
        let bytes = super::storage::read_all(storage, &path, MAX_LEN)?;
        let mut last: Vec<Option<Hint>> = Vec::new();
        let mut lines = bytes.split(|&b| b == b'\n').peekable();
        while let Some(line) = lines.next() {
            let is_last = lines.peek().is_none();
            if is_last && line.is_empty() {
                break;
            }
            // The last piece has no newline: a write cut short.
            let hint = if is_last {
                None
            } else {
                Hint::decode_line(line)
            };
            let Some(hint) = hint else {
                candidates.recovery.damaged_lines += 1;
                continue;
            };
            let i = usize::from(hint.index);
            if last.len() <= i {
                last.resize(i + 1, None);
            }
            if let Some(slot) = last.get_mut(i) {
                *slot = Some(hint);
            }
        }
        for hint in last.into_iter().flatten() {
            let i = usize::from(hint.index);
            let (Some(name), Some(&floor)) = (names.get(i), floors.get(i)) else {
                candidates
                    .recovery
                    .ignored
                    .push(Ignored::Removed { index: hint.index });
                continue;
            };
            if name_crc(name) != hint.name_crc {
                candidates
                    .recovery
                    .ignored
                    .push(Ignored::Renamed { index: hint.index });
                continue;
            }
            if hint.seq <= floor {
                candidates.recovery.stale += 1;
                continue;
            }
            if let Some(slot) = candidates.per_dest.get_mut(i) {
                *slot = Some(Candidate {
                    hint,
                    floor,
                    matched: false,
                    covered: 0,
                });
            }
        }
        Ok(candidates)
    }

    /// Whether no hint is waiting to be checked (the scan can skip [`observe`](Self::observe)).
    pub(crate) fn is_empty(&self) -> bool {
        self.per_dest.iter().all(Option::is_none)
    }

    /// Called for every record of the open scan (`evicted`: an evicted one, not counted).
    pub(crate) fn observe(&mut self, record: &Record, evicted: bool) {
        for d in record.destinations.iter() {
            let Some(Some(c)) = self.per_dest.get_mut(usize::from(d.get())) else {
                continue;
            };
            if !evicted && record.seq > c.floor && record.seq <= c.hint.seq {
                c.covered += 1;
            }
            if record.seq == c.hint.seq && fingerprint(record) == c.hint.fingerprint {
                c.matched = true;
            }
        }
    }

    /// Decides, once the scan is done: the hints to apply (each with the number of records
    /// it covers beyond the checkpoint cursor) and what was found.
    pub(crate) fn resolve(
        self,
        names: &[String],
        next_seq: u64,
    ) -> (Vec<(Hint, u64)>, ProgressRecovery) {
        let mut recovery = self.recovery;
        let mut resume = Vec::new();
        for (i, c) in self.per_dest.into_iter().enumerate() {
            let Some(c) = c else { continue };
            if c.hint.seq >= next_seq {
                recovery.ignored.push(Ignored::BeyondEnd {
                    index: c.hint.index,
                    seq: c.hint.seq,
                    next_seq,
                });
            } else if !c.matched {
                recovery.ignored.push(Ignored::Mismatch {
                    index: c.hint.index,
                    seq: c.hint.seq,
                });
            } else {
                recovery.applied.push(Applied {
                    name: names.get(i).cloned().unwrap_or_default(),
                    checkpoint: c.floor,
                    resumed: c.hint.seq,
                    records: c.covered,
                });
                resume.push((c.hint, c.covered));
            }
        }
        (resume, recovery)
    }
}

/// The writer side, owned by the spool.
#[derive(Debug)]
pub(crate) struct Log {
    path: PathBuf,
    temp: PathBuf,
    name_crcs: Vec<u32>,
    /// The last hint written per destination (what a rewrite keeps).
    last: Vec<Option<Hint>>,
    /// Bytes appended since the file was last (re)written.
    len: u64,
    /// A write failed: the next hint rewrites the file instead of appending after a
    /// possibly partial line.
    dirty: bool,
    stats: ProgressStats,
}

impl Log {
    /// The log of `dir` for the configured `names`; nothing is written before
    /// [`start`](Self::start).
    pub(crate) fn new(dir: &Path, names: &[String]) -> Log {
        Log {
            path: dir.join(FILE),
            temp: dir.join(TEMP),
            name_crcs: names.iter().map(|n| name_crc(n)).collect(),
            last: vec![None; names.len()],
            len: 0,
            dirty: true,
            stats: ProgressStats::default(),
        }
    }

    /// Starts with `hints` (those applied at open), rewriting the file now so no line of an
    /// older run or of another spool lingers.
    pub(crate) fn start(&mut self, storage: &mut dyn Storage, hints: &[Hint]) {
        for hint in hints {
            if let Some(slot) = self.last.get_mut(usize::from(hint.index)) {
                *slot = Some(*hint);
            }
        }
        self.rewrite(storage);
    }

    /// Records that destination `index` acknowledged everything up to the record `seq`
    /// whose [`fingerprint`] is `fingerprint`.
    pub(crate) fn note(
        &mut self,
        storage: &mut dyn Storage,
        index: u8,
        seq: u64,
        fingerprint: u32,
    ) {
        let Some(&name_crc) = self.name_crcs.get(usize::from(index)) else {
            return;
        };
        let hint = Hint {
            index,
            seq,
            fingerprint,
            name_crc,
        };
        if let Some(slot) = self.last.get_mut(usize::from(index)) {
            *slot = Some(hint);
        }
        if self.dirty || self.len >= COMPACT_AT {
            self.rewrite(storage);
            return;
        }
        let line = hint.encode_line();
        match storage.append(&self.path, line.as_bytes()) {
            Ok(()) => {
                self.len += line.len() as u64;
                self.stats.written += 1;
            }
            Err(_) => {
                self.stats.errors += 1;
                self.dirty = true;
            }
        }
    }

    /// After a durable checkpoint, which covers every hint: empties the file (unless it is
    /// empty already: an idle spool's checkpoints write nothing here either).
    pub(crate) fn reset(&mut self, storage: &mut dyn Storage) {
        self.last.iter_mut().for_each(|h| *h = None);
        if self.len == 0 && !self.dirty {
            return;
        }
        match storage.create(&self.path) {
            Ok(()) => {
                self.len = 0;
                self.dirty = false;
            }
            Err(_) => {
                self.stats.errors += 1;
                self.dirty = true;
            }
        }
    }

    /// Writes one line per destination with a hint to the temp file and renames it over the
    /// log (a kill at any point leaves the old or the new file, both valid).
    fn rewrite(&mut self, storage: &mut dyn Storage) {
        let text: String = self.last.iter().flatten().map(Hint::encode_line).collect();
        let written = storage
            .create(&self.temp)
            .and_then(|()| storage.append(&self.temp, text.as_bytes()))
            .and_then(|()| storage.rename(&self.temp, &self.path));
        match written {
            Ok(()) => {
                self.len = text.len() as u64;
                self.dirty = false;
                self.stats.rewrites += 1;
                self.stats.written += self.last.iter().flatten().count() as u64;
            }
            Err(_) => {
                self.stats.errors += 1;
                self.dirty = true;
            }
        }
    }

    /// The counters.
    pub(crate) fn stats(&self) -> ProgressStats {
        self.stats.clone()
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::spool::progress::{Hint, name_crc};

        let hint = Hint {
            index: 0,
            seq: 4711,
            fingerprint: 0x8a3f_1c2e,
            name_crc: name_crc("soc"),
        };
        let line = hint.encode_line();
        assert!(line.starts_with("progress 0 4711 8a3f1c2e "));
        assert_eq!(Hint::decode_line(line.trim_end().as_bytes()), Some(hint));
        // A line cut short or altered is refused.
        assert_eq!(Hint::decode_line(&line.as_bytes()[..line.len() - 3]), None);
        assert_eq!(
            Hint::decode_line(line.replace("4711", "4712").trim_end().as_bytes()),
            None
        );
    }
}
