//! `icsfwd spool verify`: a read-only check of a spool directory.
//!
//! [`verify`] reads every segment and the checkpoint without changing anything (no
//! truncation, no removal, no file created) and returns a [`VerifyReport`]: segments with
//! their records and sequence range, every corrupt frame with its offset and reason, torn
//! tails, refused records (unknown format version), sequence numbers that repeat or go down
//! (two writers appended to the spool at once), the checkpoint's cursors, and each
//! destination's backlog. Its `Display` is what the operator reads, with what each problem
//! means and what to do; [`VerifyReport::is_clean`] decides the exit status.
//!
//! Beside a running service: `verify` takes no lock, so it never blocks or delays the
//! service, and a running service never blocks it. It asks the spool's lock
//! ([`lock::holder`]) whether a writer runs and then reads a snapshot of a spool being
//! written: the bytes past the last whole frame of the newest segment are a write in progress,
//! not damage (reported, not counted), and a segment the service's checkpoint removes between
//! the listing and the read is reported as removed (its records were delivered), not as an
//! error. Sequence numbers only grow while one writer appends, so a repeat or a decrease is
//! never an artefact of reading during a write.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use icsfwd_core::destination::MAX_DESTINATIONS;
use icsfwd_core::record::{DecodeError, Record, TornTail};

use super::cursor::{self, Checkpoint, Found};
use super::lock;
use super::segment::{self, SkippedFrame};
use super::storage::{FsStorage, Storage};
use super::{CheckpointState, Unreadable};

/// How many repeated and how many decreasing sequence numbers the report lists (each); the
/// rest are counted.
pub(crate) const MAX_LISTED: usize = 10;

/// How many places of one repeated sequence number the report lists.
const MAX_PLACES: usize = 8;

/// How many separate runs of sequence numbers the check remembers (a few in a sound spool:
/// one per gap a skipped frame left). Beyond that, a number below the highest seen that is
/// not remembered counts as decreasing rather than repeated: the problem is still found.
const MAX_RUNS: usize = 100_000;

/// One segment as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentReport {
    /// The file name.
    pub name: String,
    /// Its length.
    pub bytes: u64,
    /// Records in it (evicted ones included).
    pub records: u64,
    /// The first and last sequence numbers of its records.
    pub seq_range: Option<(u64, u64)>,
    /// Corrupt frames skipped.
    pub corrupt: Vec<SkippedFrame>,
    /// A torn tail.
    pub torn: Option<TornTail>,
    /// The bytes after the last whole frame of the newest segment while a service writes the
    /// spool: a write in progress, not damage (then `torn` is `None`).
    pub writing: Option<TornTail>,
    /// A recycled segment file: where the frames of its earlier use begin, after the data
    /// (not data, not damage: `docs/spool.md`, "Spare segment files").
    pub stale: Option<u64>,
    /// A genuine record this version cannot read (the scan of this segment stopped there).
    pub refused: Option<SkippedFrame>,
    /// The segment was listed but gone when it was read: the running service's checkpoint
    /// removed it (every record in it was delivered).
    pub removed: bool,
}

/// One destination as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationReport {
    /// Its index (bit in the records).
    pub index: u8,
    /// Its name in the checkpoint, if there.
    pub name: Option<String>,
    /// Its cursor in the checkpoint (0: none).
    pub acked: u64,
    /// Records after the cursor that name it and are not evicted.
    pub backlog: u64,
}

/// Where a record is: its segment file and the offset of its frame, and which event it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The segment's file name.
    pub segment: String,
    /// The frame's offset in it.
    pub offset: u64,
    /// The record's stable event id (`<sensor>-<id>`, as the destinations receive it).
    pub event: String,
}

impl Place {
    fn of(segment: &str, offset: u64, record: &Record) -> Place {
        Place {
            segment: segment.to_owned(),
            offset,
            event: record.event.event_id().to_string(),
        }
    }
}

/// A sequence number out of order: every record has a number above all before it (across
/// segments too), unless two writers appended to the spool at once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SequenceProblem {
    /// The number appears more than once.
    Repeated {
        /// The number.
        seq: u64,
        /// Where it appears, in file order (at most 8 places).
        places: Vec<Place>,
    },
    /// The number (seen nowhere before) is below the highest number before it.
    Decreasing {
        /// The number.
        seq: u64,
        /// Its record.
        at: Place,
        /// The highest number before it.
        after: u64,
        /// That record.
        after_at: Place,
    },
}

/// The process writing the spool while it was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writer {
    /// Its pid, as the spool's lock file says it.
    pub pid: Option<u32>,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The directory.
    pub dir: PathBuf,
    /// The segments, oldest first.
    pub segments: Vec<SegmentReport>,
    /// All records.
    pub records: u64,
    /// Records evicted by the quota (in the checkpoint, still on disk).
    pub evicted: u64,
    /// The checkpoint.
    pub checkpoint: CheckpointState,
    /// The checkpoint's next sequence number, or one past the last record if higher.
    pub next_seq: u64,
    /// Destinations named in the checkpoint or in any record.
    pub destinations: Vec<DestinationReport>,
    /// A leftover `checkpoint.tmp` (an interrupted checkpoint; harmless).
    pub interrupted_checkpoint: bool,
    /// The checkpoint is of a format version this version cannot read (the service refuses
    /// to start; `checkpoint` then says which).
    pub checkpoint_refused: bool,
    /// The format version a refused checkpoint names, when it names a number.
    pub checkpoint_version: Option<u64>,
    /// Files the spool does not know.
    pub unknown_files: Vec<String>,
    /// Spare segment files: delivered segments kept for reuse (no data).
    pub spare_files: Vec<String>,
    /// Records whose sequence number appeared before them.
    pub repeated: u64,
    /// Records whose sequence number, seen nowhere before, is below the highest before them.
    pub decreasing: u64,
    /// The first [`MAX_LISTED`] repeated and decreasing numbers, with their places.
    pub sequence: Vec<SequenceProblem>,
    /// The service writing the spool at the time, if one was ([`lock::holder`]).
    pub writer: Option<Writer>,
}

impl VerifyReport {
    /// Corrupt frames in all segments.
    pub fn corrupt_frames(&self) -> usize {
        self.segments.iter().map(|s| s.corrupt.len()).sum()
    }

    /// Torn tails in all segments.
    pub fn torn_tails(&self) -> usize {
        self.segments.iter().filter(|s| s.torn.is_some()).count()
    }

    /// Refused records (the service would not start).
    pub fn refused(&self) -> usize {
        self.segments.iter().filter(|s| s.refused.is_some()).count()
    }

    /// No corruption, no torn tail, no refused record, no repeated or decreasing sequence
    /// number, and no damaged checkpoint.
    pub fn is_clean(&self) -> bool {
        self.corrupt_frames() == 0
            && self.torn_tails() == 0
            && self.refused() == 0
            && self.repeated == 0
            && self.decreasing == 0
            && !matches!(self.checkpoint, CheckpointState::Damaged(_))
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "spool {}", self.dir.display())?;
        if let Some(writer) = self.writer {
            let pid = writer
                .pid
                .map(|p| format!(" (pid {p})"))
                .unwrap_or_default();
            writeln!(
                f,
                "  in use by a running icsfwd{pid}: a snapshot of a spool being written; stop \
                 the service for a stable picture"
            )?;
        }
        let bytes: u64 = self.segments.iter().map(|s| s.bytes).sum();
        writeln!(
            f,
            "  {} segment(s), {bytes} bytes, {} record(s), {} evicted, next sequence number {}",
            self.segments.len(),
            self.records,
            self.evicted,
            self.next_seq
        )?;
        self.fmt_checkpoint(f)?;
        for d in &self.destinations {
            writeln!(
                f,
                "  destination #{} {}: acknowledged up to {}, backlog {}",
                d.index,
                d.name.as_deref().unwrap_or("(not in checkpoint)"),
                d.acked,
                d.backlog
            )?;
        }
        for s in &self.segments {
            fmt_segment(f, s)?;
        }
        self.fmt_sequence(f)?;
        for name in &self.spare_files {
            writeln!(
                f,
                "  spare segment file {name}: delivered, kept to be reused as a new segment"
            )?;
        }
        for name in &self.unknown_files {
            writeln!(f, "  unknown file {name} (ignored)")?;
        }
        let verdict = if self.is_clean() {
            "ok".to_string()
        } else {
            let mut verdict = format!(
                "PROBLEMS: {} corrupt frame(s), {} torn tail(s), {} refused record(s)",
                self.corrupt_frames(),
                self.torn_tails(),
                self.refused()
            );
            if self.repeated + self.decreasing > 0 {
                verdict += &format!(
                    ", {} repeated and {} decreasing sequence number(s)",
                    self.repeated, self.decreasing
                );
            }
            verdict
        };
        write!(f, "  result: {verdict}")
    }
}

impl VerifyReport {
    fn fmt_checkpoint(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.checkpoint {
            CheckpointState::Missing => {
                writeln!(f, "  checkpoint: none (every record is pending)")?
            }
            CheckpointState::Valid => writeln!(f, "  checkpoint: ok")?,
            CheckpointState::Damaged(why) if self.checkpoint_refused => {
                match self.checkpoint_version {
                    Some(found) => writeln!(
                        f,
                        "  checkpoint: REFUSED: {}; the service will not start on this spool",
                        Unreadable::checkpoint(found)
                    )?,
                    None => writeln!(
                        f,
                        "  checkpoint: REFUSED ({why}); the service will not start on this spool"
                    )?,
                }
            }
            CheckpointState::Damaged(why) => writeln!(
                f,
                "  checkpoint: DAMAGED ({why}); the service will redeliver from the oldest record"
            )?,
        }
        if self.interrupted_checkpoint && self.writer.is_some() {
            writeln!(f, "  checkpoint.tmp: a checkpoint being written")?;
        } else if self.interrupted_checkpoint {
            writeln!(
                f,
                "  checkpoint.tmp: an interrupted checkpoint (removed at next start)"
            )?;
        }
        Ok(())
    }

    /// The sequence problems, then once what they mean and what to do.
    fn fmt_sequence(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.sequence {
            match problem {
                SequenceProblem::Repeated { seq, places } => {
                    let times = match places.len() {
                        0..=2 => "twice".to_owned(),
                        n => format!("{n} times"),
                    };
                    writeln!(
                        f,
                        "  SEQUENCE number {seq} appears {times} ({})",
                        fmt_places(places)
                    )?;
                }
                SequenceProblem::Decreasing {
                    seq,
                    at,
                    after,
                    after_at,
                } => writeln!(
                    f,
                    "  SEQUENCE number {seq} ({}) comes after {after} ({})",
                    fmt_places(std::slice::from_ref(at)),
                    fmt_places(std::slice::from_ref(after_at))
                )?,
            }
        }
        let listed = self.sequence.len() as u64;
        let total = self.repeated + self.decreasing;
        if total > listed {
            writeln!(
                f,
                "  ... {} more record(s) with a repeated or decreasing sequence number",
                total - listed
            )?;
        }
        if total > 0 {
            writeln!(
                f,
                "  two writers appended to this spool at once (two icsfwd with one spool.dir, \
                 before icsfwd locked its spool): records that share a number are different \
                 alerts, and delivery goes by number, so some of them may never be delivered and \
                 others be delivered twice; stop every icsfwd but one on this spool and give \
                 each its own spool.dir (this version refuses a second one); the spool keeps \
                 working, and the events listed above are the ones to look for at the \
                 destinations (docs/spool.md, \"Two writers\")"
            )?;
        }
        Ok(())
    }
}

fn fmt_segment(f: &mut fmt::Formatter<'_>, s: &SegmentReport) -> fmt::Result {
    if s.removed {
        return writeln!(
            f,
            "  segment {}: removed by the running service while verifying (delivered)",
            s.name
        );
    }
    let range = s
        .seq_range
        .map_or_else(|| "empty".to_string(), |(a, b)| format!("seq {a}..={b}"));
    writeln!(
        f,
        "  segment {}: {} bytes, {} record(s), {range}",
        s.name, s.bytes, s.records
    )?;
    for c in &s.corrupt {
        writeln!(
            f,
            "    CORRUPT frame at offset {} ({} bytes): {} (skipped)",
            c.offset, c.len, c.error
        )?;
    }
    if let Some(t) = s.torn {
        writeln!(
            f,
            "    torn tail at offset {} ({} bytes): a write cut short, never acknowledged",
            t.start, t.bytes
        )?;
    }
    if let Some(offset) = s.stale {
        writeln!(
            f,
            "    data ends at offset {offset}: a reused segment file, the frames after it are \
             from its earlier use (delivered, not data)"
        )?;
    }
    if let Some(t) = s.writing {
        writeln!(
            f,
            "    write in progress at offset {} ({} bytes): the running service is appending",
            t.start, t.bytes
        )?;
    }
    match s.refused {
        Some(SkippedFrame {
            offset,
            error: DecodeError::BadVersion { found },
            ..
        }) => writeln!(
            f,
            "    REFUSED record at offset {offset}: {}; the service will not start on this spool",
            Unreadable::record(found, &format!("{} at offset {offset}", s.name))
        )?,
        Some(r) => writeln!(
            f,
            "    REFUSED record at offset {}: {}; the service will not start on this spool",
            r.offset, r.error
        )?,
        None => {}
    }
    Ok(())
}

/// `segment A, offsets 0 (event s-1) and 812 (event s-9); segment B, offset 0 (event s-4)`.
fn fmt_places(places: &[Place]) -> String {
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for place in places {
        let offset = format!("{} (event {})", place.offset, place.event);
        match groups.last_mut() {
            Some((segment, offsets)) if *segment == place.segment => offsets.push(offset),
            _ => groups.push((&place.segment, vec![offset])),
        }
    }
    let groups: Vec<String> = groups
        .into_iter()
        .map(|(segment, offsets)| match offsets.split_last() {
            Some((last, rest)) if !rest.is_empty() => {
                format!("segment {segment}, offsets {} and {last}", rest.join(", "))
            }
            _ => format!("segment {segment}, offset {}", offsets.join("")),
        })
        .collect();
    groups.join("; ")
}

/// The sequence numbers seen so far, as runs (first → last), to tell a repeated number from a
/// decreasing one.
#[derive(Debug, Default)]
struct Seen {
    runs: BTreeMap<u64, u64>,
}

impl Seen {
    /// Notes `seq`; `false` when it was noted before.
    fn insert(&mut self, seq: u64) -> bool {
        let below = self.runs.range(..=seq).next_back().map(|(&a, &b)| (a, b));
        if let Some((_, last)) = below
            && seq <= last
        {
            return false;
        }
        let next = seq.checked_add(1).and_then(|n| self.runs.get(&n).copied());
        let joins_below = below.filter(|&(_, last)| last.checked_add(1) == Some(seq));
        match (joins_below, next) {
            (Some((first, _)), Some(next_last)) => {
                self.runs.remove(&(seq + 1));
                self.runs.insert(first, next_last);
            }
            (Some((first, _)), None) => {
                self.runs.insert(first, seq);
            }
            (None, Some(next_last)) => {
                self.runs.remove(&(seq + 1));
                self.runs.insert(seq, next_last);
            }
            (None, None) if self.runs.len() < MAX_RUNS => {
                self.runs.insert(seq, seq);
            }
            (None, None) => {}
        }
        true
    }
}

/// The sequence check over every record in file order (segments oldest first).
#[derive(Debug, Default)]
struct SequenceCheck {
    seen: Seen,
    /// The highest number so far and its place.
    highest: Option<(u64, Place)>,
    repeated: u64,
    decreasing: u64,
    /// The first repeated numbers (their places are collected by a second read).
    repeated_seqs: BTreeSet<u64>,
    decreasing_listed: Vec<SequenceProblem>,
}

impl SequenceCheck {
    fn observe(&mut self, seq: u64, place: Place) {
        if !self.seen.insert(seq) {
            self.repeated += 1;
            if self.repeated_seqs.len() < MAX_LISTED {
                self.repeated_seqs.insert(seq);
            }
        } else if let Some((after, after_at)) = self.highest.as_ref().filter(|(h, _)| seq < *h) {
            self.decreasing += 1;
            if self.decreasing_listed.len() < MAX_LISTED {
                self.decreasing_listed.push(SequenceProblem::Decreasing {
                    seq,
                    at: place.clone(),
                    after: *after,
                    after_at: after_at.clone(),
                });
            }
        }
        if self.highest.as_ref().is_none_or(|(h, _)| seq > *h) {
            self.highest = Some((seq, place));
        }
    }
}

/// Verifies the spool in `dir` on the real file system, telling a running service's spool
/// from a stopped one (see the module docs).
///
/// # Errors
///
/// An I/O error (the directory does not exist or a file cannot be read).
pub fn verify(dir: &Path) -> io::Result<VerifyReport> {
    // A lock file this user may not read only hides whether a service runs.
    let writer = lock::holder(dir).ok().flatten().map(|pid| Writer { pid });
    verify_inner(&mut FsStorage::new(), dir, writer)
}

/// Verifies the spool in `dir` through `storage`, read-only, as a stopped spool.
///
/// # Errors
///
/// An I/O error.
pub fn verify_with(storage: &mut dyn Storage, dir: &Path) -> io::Result<VerifyReport> {
    verify_inner(storage, dir, None)
}

/// Per destination index, the checkpoint's cursor and name, and the destinations seen.
struct Destinations {
    acked: [u64; MAX_DESTINATIONS],
    names: [Option<String>; MAX_DESTINATIONS],
    backlog: [u64; MAX_DESTINATIONS],
    seen: BTreeSet<u8>,
}

impl Destinations {
    fn from_checkpoint(checkpoint: &Checkpoint) -> Destinations {
        let mut d = Destinations {
            acked: [0; MAX_DESTINATIONS],
            names: Default::default(),
            backlog: [0; MAX_DESTINATIONS],
            seen: BTreeSet::new(),
        };
        for entry in &checkpoint.destinations {
            let i = usize::from(entry.index);
            if let (Some(a), Some(n)) = (d.acked.get_mut(i), d.names.get_mut(i)) {
                *a = entry.acked;
                *n = Some(entry.name.clone());
                d.seen.insert(entry.index);
            }
        }
        d
    }

    /// Counts `record` in the backlog of every destination it names that has not passed it.
    fn count(&mut self, record: &Record) {
        for d in record.destinations.iter() {
            self.seen.insert(d.get());
            let i = usize::from(d.get());
            if let (Some(b), Some(&a)) = (self.backlog.get_mut(i), self.acked.get(i))
                && record.seq > a
            {
                *b += 1;
            }
        }
    }

    fn report(self) -> Vec<DestinationReport> {
        self.seen
            .into_iter()
            .map(|index| {
                let i = usize::from(index);
                DestinationReport {
                    index,
                    name: self.names.get(i).cloned().flatten(),
                    acked: self.acked.get(i).copied().unwrap_or(0),
                    backlog: self.backlog.get(i).copied().unwrap_or(0),
                }
            })
            .collect()
    }
}

fn verify_inner(
    storage: &mut dyn Storage,
    dir: &Path,
    writer: Option<Writer>,
) -> io::Result<VerifyReport> {
    let files = storage.list(dir)?;
    let mut checkpoint_refused = false;
    let mut checkpoint_version = None;
    let (checkpoint, state) = match cursor::read(storage, dir, &files)? {
        Found::Missing => (Checkpoint::default(), CheckpointState::Missing),
        Found::Valid(c) => (c, CheckpointState::Valid),
        Found::Damaged(e) => {
            checkpoint_refused = e.must_refuse();
            checkpoint_version = e.found_version();
            (
                Checkpoint::default(),
                CheckpointState::Damaged(e.to_string()),
            )
        }
    };
    let mut segment_names: Vec<(u64, String)> = files
        .iter()
        .filter_map(|f| segment::parse_file_name(f).map(|seq| (seq, f.clone())))
        .collect();
    segment_names.sort();
    let mut spare_files: Vec<String> = files
        .iter()
        .filter(|f| segment::parse_spare_file_name(f).is_some())
        .cloned()
        .collect();
    spare_files.sort();
    let mut report = VerifyReport {
        dir: dir.to_path_buf(),
        segments: Vec::new(),
        records: 0,
        evicted: 0,
        checkpoint: state,
        next_seq: checkpoint.next_seq.max(1),
        destinations: Vec::new(),
        interrupted_checkpoint: files.iter().any(|f| f == cursor::TEMP),
        checkpoint_refused,
        checkpoint_version,
        unknown_files: files
            .iter()
            .filter(|f| !super::is_spool_file(f))
            .cloned()
            .collect(),
        spare_files,
        repeated: 0,
        decreasing: 0,
        sequence: Vec::new(),
        writer,
    };
    let mut destinations = Destinations::from_checkpoint(&checkpoint);
    let mut sequence = SequenceCheck::default();
    let newest = segment_names.len().checked_sub(1);
    for (i, (_, name)) in segment_names.iter().enumerate() {
        let mut segment = scan_segment(
            storage,
            dir,
            name,
            &checkpoint,
            &mut report,
            &mut destinations,
            &mut sequence,
        )?;
        if writer.is_some() && Some(i) == newest {
            segment.writing = segment.torn.take();
        }
        report.segments.push(segment);
    }
    report.destinations = destinations.report();
    report.repeated = sequence.repeated;
    report.decreasing = sequence.decreasing;
    report.sequence = locate_repeats(storage, dir, &segment_names, &sequence.repeated_seqs)?;
    report.sequence.extend(sequence.decreasing_listed);
    Ok(report)
}

/// Scans one segment: its report, and every record counted (totals, evictions, backlogs) and
/// shown to the sequence check. A segment gone since the listing is reported removed.
fn scan_segment(
    storage: &mut dyn Storage,
    dir: &Path,
    name: &str,
    checkpoint: &Checkpoint,
    report: &mut VerifyReport,
    destinations: &mut Destinations,
    sequence: &mut SequenceCheck,
) -> io::Result<SegmentReport> {
    let path = dir.join(name);
    let mut segment = SegmentReport {
        name: name.to_owned(),
        bytes: 0,
        records: 0,
        seq_range: None,
        corrupt: Vec::new(),
        torn: None,
        writing: None,
        stale: None,
        refused: None,
        removed: false,
    };
    let scanned = storage.len(&path).and_then(|len| {
        segment.bytes = len;
        segment::scan(storage, &path, 0, len, |record, span| {
            segment.seq_range = Some(
                segment
                    .seq_range
                    .map_or((record.seq, record.seq), |(a, _)| (a, record.seq)),
            );
            report.next_seq = report.next_seq.max(record.seq.saturating_add(1));
            sequence.observe(record.seq, Place::of(name, span.start, &record));
            if checkpoint.evicted.contains(&record.seq) {
                report.evicted += 1;
            } else {
                destinations.count(&record);
            }
            true
        })
    });
    match scanned {
        Ok(outcome) => {
            report.records += outcome.records;
            segment.records = outcome.records;
            segment.corrupt = outcome.skipped;
            segment.torn = outcome.torn;
            segment.stale = outcome.stale;
            segment.refused = outcome.refused;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            segment = SegmentReport {
                removed: true,
                ..segment
            };
        }
        Err(e) => return Err(e),
    }
    Ok(segment)
}

/// Reads the segments again for every place of the repeated numbers `seqs` (only when the
/// first read found some): the first occurrence of a number is only known to repeat once the
/// second one is read.
fn locate_repeats(
    storage: &mut dyn Storage,
    dir: &Path,
    segments: &[(u64, String)],
    seqs: &BTreeSet<u64>,
) -> io::Result<Vec<SequenceProblem>> {
    let mut places: BTreeMap<u64, Vec<Place>> = BTreeMap::new();
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    for (_, name) in segments {
        let path = dir.join(name);
        let scanned = storage.len(&path).and_then(|len| {
            segment::scan(storage, &path, 0, len, |record, span| {
                if seqs.contains(&record.seq) {
                    let at = places.entry(record.seq).or_default();
                    if at.len() < MAX_PLACES {
                        at.push(Place::of(name, span.start, &record));
                    }
                }
                true
            })
        });
        match scanned {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(places
        .into_iter()
        .map(|(seq, places)| SequenceProblem::Repeated { seq, places })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn seen_tells_a_repeat_from_a_new_number_and_merges_runs() {
        let mut seen = Seen::default();
        for seq in [1, 2, 3, 7, 5, 6] {
            assert!(seen.insert(seq), "{seq}");
        }
        assert_eq!(seen.runs, BTreeMap::from([(1, 3), (5, 7)]));
        for seq in [1, 3, 5, 6, 7] {
            assert!(!seen.insert(seq), "{seq}");
        }
        assert!(seen.insert(4));
        assert_eq!(seen.runs, BTreeMap::from([(1, 7)]));
        assert!(seen.insert(u64::MAX));
        assert!(!seen.insert(u64::MAX));
    }

    #[test]
    fn places_are_grouped_by_segment() {
        let place = |segment: &str, offset| Place {
            segment: segment.to_owned(),
            offset,
            event: format!("s-{offset}"),
        };
        assert_eq!(
            fmt_places(&[place("a.seg", 0), place("a.seg", 90), place("b.seg", 0)]),
            "segment a.seg, offsets 0 (event s-0) and 90 (event s-90); segment b.seg, offset 0 \
             (event s-0)"
        );
        assert_eq!(
            fmt_places(&[place("a.seg", 0), place("a.seg", 9), place("a.seg", 18)]),
            "segment a.seg, offsets 0 (event s-0), 9 (event s-9) and 18 (event s-18)"
        );
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::spool::{Spool, SpoolConfig, storage::FsStorage, verify};
        use icsfwd_core::alert::{Alert, Event};
        use icsfwd_core::destination::DestinationSet;

        let dir = tempfile::tempdir()?;
        let names = ["splunk".to_string()];
        let (mut spool, _) =
            Spool::open(FsStorage::new(), dir.path(), SpoolConfig::default(), &names)?;
        spool.append_batch(&[(Event::from(Alert::example(0)), DestinationSet::from_bits(1))])?;
        spool.checkpoint()?;

        let report = verify(dir.path())?;
        assert!(report.is_clean());
        assert_eq!(report.records, 1);
        assert_eq!(report.destinations[0].backlog, 1);
        println!("{report}");
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
