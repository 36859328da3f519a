//! `icsfwd spool verify`: a read-only check of a spool directory.
//!
//! [`verify`] reads every segment and the checkpoint without changing anything (no
//! truncation, no removal, no lock needed for a stopped service) and returns a
//! [`VerifyReport`]: segments with their records and sequence range, every corrupt frame
//! with its offset and reason, torn tails, refused records (unknown format version), the
//! checkpoint's cursors, and each destination's backlog. Its `Display` is what the operator
//! reads; [`VerifyReport::is_clean`] decides the exit status.
//!
//! ```
//! use icsfwd::spool::{Spool, SpoolConfig, storage::FsStorage, verify};
//! use icsfwd_core::alert::{Alert, Event};
//! use icsfwd_core::destination::DestinationSet;
//!
//! let dir = tempfile::tempdir()?;
//! let names = ["splunk".to_string()];
//! let (mut spool, _) = Spool::open(FsStorage::new(), dir.path(), SpoolConfig::default(), &names)?;
//! spool.append_batch(&[(Event::from(Alert::example(0)), DestinationSet::from_bits(1))])?;
//! spool.checkpoint()?;
//!
//! let report = verify(dir.path())?;
//! assert!(report.is_clean());
//! assert_eq!(report.records, 1);
//! assert_eq!(report.destinations[0].backlog, 1);
//! println!("{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use icsfwd_core::destination::MAX_DESTINATIONS;
use icsfwd_core::record::{DecodeError, TornTail};

use super::cursor::{self, Checkpoint, Found};
use super::segment::{self, SkippedFrame};
use super::storage::{FsStorage, Storage};
use super::{CheckpointState, Unreadable};

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
    /// A genuine record this version cannot read (the scan of this segment stopped there).
    pub refused: Option<SkippedFrame>,
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

    /// No corruption, no torn tail, no refused record, and no damaged checkpoint.
    pub fn is_clean(&self) -> bool {
        self.corrupt_frames() == 0
            && self.torn_tails() == 0
            && self.refused() == 0
            && !matches!(self.checkpoint, CheckpointState::Damaged(_))
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "spool {}", self.dir.display())?;
        let bytes: u64 = self.segments.iter().map(|s| s.bytes).sum();
        writeln!(
            f,
            "  {} segment(s), {bytes} bytes, {} record(s), {} evicted, next sequence number {}",
            self.segments.len(),
            self.records,
            self.evicted,
            self.next_seq
        )?;
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
        if self.interrupted_checkpoint {
            writeln!(
                f,
                "  checkpoint.tmp: an interrupted checkpoint (removed at next start)"
            )?;
        }
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
            match s.refused {
                Some(SkippedFrame {
                    offset,
                    error: DecodeError::BadVersion { found },
                    ..
                }) => writeln!(
                    f,
                    "    REFUSED record at offset {offset}: {}; the service will not start on \
                     this spool",
                    Unreadable::record(found, &format!("{} at offset {offset}", s.name))
                )?,
                Some(r) => writeln!(
                    f,
                    "    REFUSED record at offset {}: {}; the service will not start on this spool",
                    r.offset, r.error
                )?,
                None => {}
            }
        }
        for name in &self.unknown_files {
            writeln!(f, "  unknown file {name} (ignored)")?;
        }
        let verdict = if self.is_clean() {
            "ok".to_string()
        } else {
            format!(
                "PROBLEMS: {} corrupt frame(s), {} torn tail(s), {} refused record(s)",
                self.corrupt_frames(),
                self.torn_tails(),
                self.refused()
            )
        };
        write!(f, "  result: {verdict}")
    }
}

/// Verifies the spool in `dir` on the real file system.
///
/// # Errors
///
/// An I/O error (the directory does not exist or a file cannot be read).
pub fn verify(dir: &Path) -> io::Result<VerifyReport> {
    verify_with(&mut FsStorage::new(), dir)
}

/// Verifies the spool in `dir` through `storage`, read-only.
///
/// # Errors
///
/// An I/O error.
pub fn verify_with(storage: &mut dyn Storage, dir: &Path) -> io::Result<VerifyReport> {
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
    let mut acked = [0u64; MAX_DESTINATIONS];
    let mut names: [Option<String>; MAX_DESTINATIONS] = Default::default();
    let mut seen: BTreeSet<u8> = BTreeSet::new();
    for entry in &checkpoint.destinations {
        if let (Some(a), Some(n)) = (
            acked.get_mut(usize::from(entry.index)),
            names.get_mut(usize::from(entry.index)),
        ) {
            *a = entry.acked;
            *n = Some(entry.name.clone());
            seen.insert(entry.index);
        }
    }
    let mut segment_names: Vec<(u64, String)> = files
        .iter()
        .filter_map(|f| segment::parse_file_name(f).map(|seq| (seq, f.clone())))
        .collect();
    segment_names.sort();
    let mut backlog = [0u64; MAX_DESTINATIONS];
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
    };
    for (_, name) in segment_names {
        let path = dir.join(&name);
        let len = storage.len(&path)?;
        let mut range: Option<(u64, u64)> = None;
        let outcome = segment::scan(storage, &path, 0, len, |record, _| {
            range = Some(range.map_or((record.seq, record.seq), |(a, _)| (a, record.seq)));
            report.next_seq = report.next_seq.max(record.seq.saturating_add(1));
            if checkpoint.evicted.contains(&record.seq) {
                report.evicted += 1;
                return true;
            }
            for d in record.destinations.iter() {
                seen.insert(d.get());
                if let (Some(b), Some(&a)) = (
                    backlog.get_mut(usize::from(d.get())),
                    acked.get(usize::from(d.get())),
                ) && record.seq > a
                {
                    *b += 1;
                }
            }
            true
        })?;
        report.records += outcome.records;
        report.segments.push(SegmentReport {
            name,
            bytes: len,
            records: outcome.records,
            seq_range: range,
            corrupt: outcome.skipped,
            torn: outcome.torn,
            refused: outcome.refused,
        });
    }
    report.destinations = seen
        .into_iter()
        .map(|index| DestinationReport {
            index,
            name: names.get(usize::from(index)).cloned().flatten(),
            acked: acked.get(usize::from(index)).copied().unwrap_or(0),
            backlog: backlog.get(usize::from(index)).copied().unwrap_or(0),
        })
        .collect();
    Ok(report)
}
