//! The spool: the durable queue between ingest and the delivery workers.
//!
//! Every accepted event becomes an icsfwd-core record ([`icsfwd_core::record`]) appended to a
//! segment file; each destination reads the records that name it, in order, and acknowledges
//! them once its server confirmed them; a checkpoint persists those cursors and only then
//! deletes segments every destination has passed (or keeps up to [`MAX_SPARES`] of their
//! files as spares, reused as the next new segments). `docs/spool.md` has the on-disk layout,
//! the crash-ordering argument and the quota arithmetic.
//!
//! Guarantees:
//! - **Accepted = durable.** [`Spool::append_batch`] returns sequence numbers only after the
//!   batch's one write and one `fdatasync` succeeded (inside blocks preallocated ahead:
//!   `docs/spool.md`, flash writes). If a write or an fsync fails, nothing of
//!   that batch is reported accepted and the spool is **fail-stop**: every later append
//!   returns [`SpoolError::Failed`] until it is opened again, when recovery rescans the
//!   files (an fsync that failed is never retried and then trusted).
//! - **Crash-ordered cleanup.** [`Spool::checkpoint`] writes the cursors (temp file, fsync,
//!   rename, fsync of the directory) before it removes any segment.
//! - **Recovery.** [`Spool::open`] scans every segment, skips and counts torn and corrupt
//!   frames, cuts a torn tail off the segment it appends to, and resumes every destination at
//!   its persisted cursor — or, after a kill, at its [`progress`] hint, written without fsync
//!   after every acknowledgement, once checked against the records. A record of an unknown format version stops it with
//!   [`OpenError::Refused`]; nothing is skipped or deleted then.
//! - **Bounded.** [`SpoolConfig::max_bytes`] bounds the live record bytes; when full, an
//!   append is refused with [`AppendError::Full`], or, with
//!   [`OnFull::EvictLowerSeverity`], admitted by evicting the oldest queued alerts of strictly
//!   lower severity (never notifications), persisted and counted.
//! - Sequence numbers strictly increase, across restarts too.
//!
//! [`Spool`] is single-owner and sans-thread; [`commit::GroupCommit`] is the threaded front
//! (many producers, one writer, one fsync per batch). All file access goes through a
//! [`storage::Storage`], so tests inject faults.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

pub(crate) mod commit;
pub(crate) mod cursor;
pub(crate) mod lock;
pub(crate) mod owner;
pub(crate) mod packed;
pub(crate) mod progress;
mod recover;
pub(crate) mod segment;
pub(crate) mod slots;
pub(crate) mod storage;
pub(crate) mod verify;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use icsfwd_core::alert::{Event, Severity};
use icsfwd_core::destination::{DestinationId, DestinationSet, MAX_DESTINATIONS};
use icsfwd_core::record::{
    self, DecodeError, EncodeError, MAX_FRAME, Record, RecordView, TornTail,
};

use self::cursor::{Checkpoint, CursorEntry};
use self::lock::LockError;
use self::segment::SkippedFrame;
use self::storage::{FsStorage, Storage};

pub use self::commit::{GroupCommit, GroupConfig, Handle};
pub(crate) use self::verify::verify;

/// The highest sequence number a spool opens with (2^63 − 1). A real spool never gets near
/// it (2^63 records at a million a second take 290,000 years); the bound keeps the sequence
/// arithmetic from overflowing on hostile files ([`OpenError::SequenceExhausted`]).
pub const MAX_SEQ: u64 = u64::MAX >> 1;

/// How far ahead a segment's blocks are reserved ([`storage::Storage::preallocate`]): 1 MiB,
/// one metadata update per ~4,000 typical records, and at most 1 MiB of zeros beyond the data
/// of the active segment.
pub const PREALLOCATE_STEP: u64 = 1 << 20;

/// Below this many bytes per fsync on average, a segment's blocks are reserved by writing
/// zeros into them ([`storage::Storage::reserve_written`]) rather than with `fallocate`: 8 KiB.
/// The first write into a block reserved with `fallocate` converts it from "unwritten" to
/// "written", a change of the file's block map that its `fdatasync` commits to the file
/// system's journal (on ext4 with 4 KiB blocks, measured at 1.2–1.6 KB of journal per
/// 343-byte record at 100 and 1,000 alerts/s: `docs/BENCHMARKS.md`, "Steady rates"); zeros
/// cost the reserved bytes once instead, one byte per byte of data. An fsync that turns
/// several blocks at once pays one journal commit for all of them, so large batches pay it
/// per many blocks and `fallocate` is then the cheaper way.
pub const ZERO_FILL_BELOW: u64 = 8 << 10;

/// How many delivered segment files the spool keeps as spares for the next new segments
/// (`docs/spool.md`, "Spare segment files"): 2. A segment started at a checkpoint takes
/// one and the segment that checkpoint removes becomes the next, so one covers a steady
/// trickle; the second covers a rotation by size between two checkpoints.
pub const MAX_SPARES: usize = 2;

/// How close to the end of a recycled file's earlier frames a write must end for the spool
/// to write zeros up to that end with it: one 4 KiB page (the most a sector-aligned write
/// pads) and two of the largest frames. A write ending further before it leaves at most two
/// damaged fragments and then at least one whole earlier frame, which ends the data
/// ([`segment`] module docs); without the zeros, the rest of the last earlier frame would
/// be followed by padding and read as a torn tail.
const STALE_GUARD: u64 = 4096 + 2 * MAX_FRAME as u64;

/// What to do with an append that does not fit in `SpoolConfig::max_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFull {
    /// Refuse it: the producer is told "spool full, retry after" (nothing dropped).
    #[default]
    Refuse,
    /// Admit it by evicting the oldest queued alerts of strictly lower severity; refuse it
    /// when those are not enough. Notifications are never evicted.
    EvictLowerSeverity,
}

/// The spool's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The most live record bytes the spool holds (frames on disk, minus evicted ones).
    pub max_bytes: u64,
    /// A new segment starts with the first batch after the active one reached this size.
    pub segment_bytes: u64,
    /// What to do when full.
    pub on_full: OnFull,
    /// The delay a refused producer is told to wait before retrying.
    pub retry_after: Duration,
}

impl Default for SpoolConfig {
    /// 256 MiB, 8 MiB segments, refuse when full, retry after 5 s.
    fn default() -> Self {
        SpoolConfig {
            max_bytes: 256 << 20,
            segment_bytes: 8 << 20,
            on_full: OnFull::Refuse,
            retry_after: Duration::from_secs(5),
        }
    }
}

/// Why one event of a batch was not accepted (the others may have been).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendError {
    /// The spool is full: nothing was written; retry after the given delay.
    Full {
        /// How long to wait before retrying.
        retry_after: Duration,
    },
    /// The destination set is empty: there is nothing to deliver.
    NoDestination,
    /// The destination set names a destination the spool was not opened with.
    UnknownDestination {
        /// The destination's index.
        index: u8,
    },
    /// The event could not be encoded as a record.
    Encode(EncodeError),
    /// The spool failed (an I/O error; fail-stop): nothing of this batch was accepted.
    Failed(String),
    /// The group commit is shutting down; the event was not accepted.
    ShuttingDown,
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::Full { retry_after } => {
                write!(f, "spool full, retry after {} ms", retry_after.as_millis())
            }
            AppendError::NoDestination => f.write_str("event has no destination"),
            AppendError::UnknownDestination { index } => {
                write!(f, "destination #{index} is not configured")
            }
            AppendError::Encode(error) => write!(f, "event cannot be stored: {error}"),
            AppendError::Failed(why) => write!(f, "spool failed, event not accepted: {why}"),
            AppendError::ShuttingDown => f.write_str("spool shutting down, event not accepted"),
        }
    }
}

impl std::error::Error for AppendError {}

/// Why the spool could not be opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// The spool directory's lock ([`lock`]) could not be taken: another icsfwd writes this
    /// spool ([`LockError::Held`], naming its pid), or the lock file cannot be used. Nothing
    /// in the directory was read or changed.
    Lock(LockError),
    /// A file operation failed.
    Io {
        /// What the spool was doing.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// A genuine record this version cannot read (e.g. written by a newer icsfwd): the spool
    /// refuses to start and keeps every file.
    Refused {
        /// The segment file.
        segment: PathBuf,
        /// The frame's offset in it.
        offset: u64,
        /// What is wrong with it.
        error: DecodeError,
    },
    /// The checkpoint is a genuine one (valid CRC) of a format version this version cannot
    /// read: the spool refuses to start and keeps every file (it would otherwise overwrite it).
    CheckpointRefused(cursor::CheckpointError),
    /// The sequence numbers found (in the checkpoint or in a record) are beyond
    /// [`MAX_SEQ`]: no real spool gets there, so the files are hostile or damaged in a way
    /// the CRCs did not catch. The spool refuses to start and keeps every file.
    SequenceExhausted {
        /// The next sequence number the files call for.
        next_seq: u64,
    },
    /// More than [`MAX_DESTINATIONS`] destinations.
    TooManyDestinations(usize),
    /// A destination name that is empty or has control characters.
    BadDestinationName(String),
    /// The configuration gives position `index` to another name while the spool still holds
    /// records for the destination the checkpoint knows there (reordered, renamed, or put in
    /// the place of a removed destination): those records would go to the wrong server.
    /// Nothing on disk was changed.
    DestinationMismatch {
        /// The index.
        index: u8,
        /// The name in the checkpoint.
        checkpoint: String,
        /// The name in the configuration.
        config: String,
        /// The records the spool still holds for the checkpoint's destination.
        backlog: u64,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Lock(error) => write!(f, "{error}"),
            OpenError::Io { what, source } => write!(f, "spool: {what}: {source}"),
            OpenError::Refused {
                segment,
                offset,
                error: DecodeError::BadVersion { found },
            } => write!(
                f,
                "spool: {}; refusing to start, nothing in the spool was changed",
                Unreadable::record(*found, &format!("{} at offset {offset}", segment.display()))
            ),
            OpenError::Refused {
                segment,
                offset,
                error,
            } => write!(
                f,
                "spool: {} at offset {offset}: {error}; refusing to start (the record is kept; \
                 run the icsfwd version that wrote it, or move the spool directory aside)",
                segment.display()
            ),
            OpenError::CheckpointRefused(error) => match error.found_version() {
                Some(found) => write!(
                    f,
                    "spool: {}; refusing to start, nothing in the spool was changed",
                    Unreadable::checkpoint(found)
                ),
                None => write!(
                    f,
                    "spool: {error}; refusing to start (the checkpoint is kept; run the icsfwd \
                     version that wrote it, or move the spool directory aside)"
                ),
            },
            OpenError::SequenceExhausted { next_seq } => write!(
                f,
                "spool: next sequence number {next_seq} is beyond the limit {MAX_SEQ} (hostile or \
                 damaged files); refusing to start, every file is kept: move the spool directory \
                 aside"
            ),
            OpenError::TooManyDestinations(n) => {
                write!(f, "spool: {n} destinations, at most {MAX_DESTINATIONS}")
            }
            OpenError::BadDestinationName(name) => {
                write!(
                    f,
                    "spool: destination name {name:?} is empty or has control characters"
                )
            }
            OpenError::DestinationMismatch {
                index,
                checkpoint,
                config,
                backlog,
            } => write!(
                f,
                "spool: destination \"{config}\" would take position {} of the [[destination]] \
                 entries, where the spool still holds {backlog} record(s) of destination \
                 \"{checkpoint}\"; refusing to start, nothing in the spool was changed: keep \
                 the order of the [[destination]] entries (put \"{checkpoint}\" back at its \
                 place to deliver them), or release them first with `icsfwd spool \
                 release-destination {checkpoint}` while \"{checkpoint}\" is not in the \
                 configuration",
                u16::from(*index) + 1
            ),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::Io { source, .. } => Some(source),
            OpenError::Lock(error) => error.source(),
            _ => None,
        }
    }
}

/// A spool part of a format version this release does not read, as the operator is told:
/// which icsfwd wrote it, the version found, the versions this release reads, and what to do
/// (`docs/spool.md`, "Compatibility").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    /// `record` or `checkpoint`.
    part: &'static str,
    /// The version found.
    found: u64,
    /// The oldest and newest version of that part this release reads.
    reads: (u64, u64),
    /// Where (a segment and offset), if it says more than the part.
    place: String,
}

impl Unreadable {
    /// A record of version `found` at `place`.
    pub(crate) fn record(found: u8, place: &str) -> Unreadable {
        Unreadable {
            part: "record",
            found: u64::from(found),
            reads: (
                u64::from(record::OLDEST_VERSION),
                u64::from(record::VERSION),
            ),
            place: place.to_owned(),
        }
    }

    /// The checkpoint, of version `found`.
    pub(crate) fn checkpoint(found: u64) -> Unreadable {
        Unreadable {
            part: "checkpoint",
            found,
            reads: (cursor::VERSION, cursor::VERSION),
            place: String::new(),
        }
    }
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (oldest, newest) = self.reads;
        let (age, remedy) = if self.found > newest {
            ("a newer", "install that release or a newer one to drain it")
        } else {
            ("an older", "drain it with the release that wrote it")
        };
        write!(
            f,
            "this spool was written by {age} icsfwd ({} version {}",
            self.part, self.found
        )?;
        if !self.place.is_empty() {
            write!(f, " in {}", self.place)?;
        }
        if oldest == newest {
            write!(f, "; this release reads {newest})")?;
        } else {
            write!(f, "; this release reads {oldest}\u{2013}{newest})")?;
        }
        write!(
            f,
            ": {remedy}, or stop icsfwd, move the spool directory aside (keep it) and start \
             with an empty one"
        )
    }
}

/// Why a spool operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SpoolError {
    /// A file operation failed.
    Io {
        /// What the spool was doing.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// An earlier write or fsync failed; the spool is fail-stop until opened again.
    Failed,
    /// The destination is not one the spool was opened with.
    UnknownDestination(DestinationId),
    /// An acknowledgement beyond the last record given.
    AckBeyondEnd {
        /// The sequence number acknowledged.
        upto: u64,
        /// The last sequence number given.
        last: u64,
    },
    /// The group commit was shut down; the spool is no longer shared.
    Closed,
    /// A frame that must be refused appeared while reading (see [`OpenError::Refused`]).
    Refused {
        /// The segment file.
        segment: PathBuf,
        /// The frame's offset.
        offset: u64,
        /// What is wrong.
        error: DecodeError,
    },
}

impl fmt::Display for SpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpoolError::Io { what, source } => write!(f, "spool: {what}: {source}"),
            SpoolError::Failed => f.write_str(
                "spool: an earlier write or fsync failed; stopped until the spool is reopened",
            ),
            SpoolError::Closed => f.write_str("spool: shut down"),
            SpoolError::UnknownDestination(id) => write!(f, "spool: unknown destination {id}"),
            SpoolError::AckBeyondEnd { upto, last } => write!(
                f,
                "spool: acknowledgement of {upto} beyond the last record {last}"
            ),
            SpoolError::Refused {
                segment,
                offset,
                error,
            } => write!(
                f,
                "spool: {} at offset {offset}: {error}",
                segment.display()
            ),
        }
    }
}

impl std::error::Error for SpoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpoolError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> SpoolError {
    let what = what.into();
    move |source| SpoolError::Io { what, source }
}

/// The state of the checkpoint file found at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointState {
    /// None: every destination starts at the oldest record.
    Missing,
    /// Read and used.
    Valid,
    /// Damaged (the reason): ignored, every destination starts at the oldest record (records
    /// may be delivered twice, none is lost) and evicted records come back.
    Damaged(String),
}

/// Where one destination resumes after [`Spool::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The destination's name.
    pub name: String,
    /// Every record up to this sequence number was delivered.
    pub acked: u64,
    /// Records still to deliver to it.
    pub backlog: u64,
}

/// What [`Spool::open`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Segment files found.
    pub segments: usize,
    /// Records read (evicted ones included).
    pub records: u64,
    /// Torn tails found: segment file name and the tail.
    pub torn: Vec<(String, TornTail)>,
    /// Bytes cut off the active segment (its torn tail).
    pub truncated_bytes: u64,
    /// Bytes cut off the active segment after its data that were frames of the file's
    /// earlier use (a recycled segment file): not damage, a clean stop leaves them too.
    pub stale_bytes: u64,
    /// Spare segment files kept for the next new segments.
    pub spares: usize,
    /// Corrupt frames skipped and counted: segment file name and frame.
    pub corrupt: Vec<(String, SkippedFrame)>,
    /// The checkpoint file.
    pub checkpoint: CheckpointState,
    /// Per configured destination, where it resumes.
    pub destinations: Vec<Resume>,
    /// Destinations in the checkpoint no longer configured, kept at their positions after
    /// the configured ones with their cursors and their records (until
    /// [`Spool::release_destination`], or until they are configured again at their place).
    pub kept_destinations: Vec<Resume>,
    /// Checkpoint entries dropped: a position not next to the configured and kept ones (only
    /// a hand-edited checkpoint has such a gap; every checkpoint the spool writes names each
    /// position).
    pub dropped_destinations: Vec<String>,
    /// Evicted records still on disk (not delivered).
    pub evicted: u64,
    /// The next sequence number.
    pub next_seq: u64,
    /// Files in the directory the spool does not know (left alone).
    pub unknown_files: Vec<String>,
    /// The progress hints found, used and refused ([`progress`]).
    pub progress: progress::ProgressRecovery,
}

/// Counters of one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationStats {
    /// The destination's name.
    pub name: String,
    /// Records waiting for it.
    pub backlog: u64,
    /// Records it acknowledged since open.
    pub acked_records: u64,
    /// Its cursor: every record up to this sequence number is acknowledged.
    pub acked_seq: u64,
}

/// The spool's counters (since open, except `backlog`, which is the current state).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpoolStats {
    /// Records appended.
    pub appended: u64,
    /// Batches written.
    pub batches: u64,
    /// Segment fsyncs done by appends.
    pub fsyncs: u64,
    /// Checkpoints written.
    pub checkpoints: u64,
    /// Checkpoints skipped because nothing had changed since the last one.
    pub checkpoints_unchanged: u64,
    /// Preallocations of segment blocks done ([`PREALLOCATE_STEP`] each).
    pub preallocated: u64,
    /// Of [`preallocated`](SpoolStats::preallocated), those that wrote zeros
    /// ([`ZERO_FILL_BELOW`]).
    pub zero_filled: u64,
    /// Segments removed (deleted, or kept as a spare file).
    pub segments_removed: u64,
    /// New segments that took a spare file instead of creating one (no reservation needed
    /// inside its length).
    pub segments_recycled: u64,
    /// Spare segment files on disk (at most [`MAX_SPARES`]) and their bytes.
    pub spares: u64,
    /// The bytes of the spare segment files.
    pub spare_bytes: u64,
    /// Torn tails found at open.
    pub torn: u64,
    /// Corrupt frames skipped at open.
    pub corrupt: u64,
    /// Evictions per severity of the evicted alert, indexed like [`Severity::ALL`].
    pub evicted: [u64; 4],
    /// Appends refused because the spool was full.
    pub refused_full: u64,
    /// Live record bytes (what [`SpoolConfig::max_bytes`] bounds).
    pub live_bytes: u64,
    /// Segment bytes on disk.
    pub disk_bytes: u64,
    /// Per configured destination.
    pub destinations: Vec<DestinationStats>,
    /// A write or fsync failed (disk full, I/O error): appends are refused until the spool is
    /// opened again (see [`Spool::is_failed`]).
    pub failed: bool,
    /// The progress log ([`progress`]).
    pub progress: progress::ProgressStats,
}

impl SpoolStats {
    /// All evictions.
    pub fn evicted_total(&self) -> u64 {
        self.evicted.iter().sum()
    }
}

/// What one [`Spool::checkpoint`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckpointOutcome {
    /// Segments removed after the checkpoint was durable (deleted, or kept as a spare).
    pub segments_removed: usize,
    /// Of [`segments_removed`](CheckpointOutcome::segments_removed), those kept as spare
    /// files.
    pub segments_spared: usize,
    /// Their bytes.
    pub bytes_removed: u64,
}

#[derive(Debug, Clone)]
struct Segment {
    /// Where its data ends, known durable (records are read up to here only; appends go on
    /// here). A preallocated file is longer: zeros follow ([`segment`] module docs).
    len: u64,
    /// The file's length as preallocated (or found at open): appends up to it change no
    /// metadata.
    allocated: u64,
    /// Bytes of evicted records in it.
    evicted_bytes: u64,
    /// A recycled file: how far the frames of its earlier use may reach (0: none after the
    /// data). See [`STALE_GUARD`].
    stale_end: u64,
    /// Per destination, the highest sequence number in it that names the destination (0:
    /// none). Evicted records may still count (conservative) until a rescan.
    last_for: [u64; MAX_DESTINATIONS],
}

impl Segment {
    fn empty() -> Segment {
        Segment {
            len: 0,
            allocated: 0,
            evicted_bytes: 0,
            stale_end: 0,
            last_for: [0; MAX_DESTINATIONS],
        }
    }

    fn note(&mut self, seq: u64, destinations: DestinationSet) {
        for d in destinations.iter() {
            if let Some(last) = self.last_for.get_mut(usize::from(d.get())) {
                *last = (*last).max(seq);
            }
        }
    }
}

/// A delivered segment's file kept for reuse, `<its first seq>.spare`.
#[derive(Debug, Clone, Copy)]
struct Spare {
    /// The file's length.
    len: u64,
    /// How far its frames may reach (the rest is zeros).
    stale_end: u64,
}

#[derive(Debug, Clone, Copy)]
struct Cursor {
    acked: u64,
    /// A frame boundary before which nothing is left for this destination:
    /// (segment's first seq, offset).
    hint: (u64, u64),
    backlog: u64,
    acked_records: u64,
}

/// A record a peek handed out for a destination and not yet acknowledged: its sequence number
/// and where its frame ends, so the next read (or the ack) starts after it instead of decoding
/// it again.
#[derive(Debug, Clone, Copy)]
struct ReadMark {
    seq: u64,
    /// The first sequence number of its segment.
    segment: u64,
    /// The offset just after its frame.
    end: u64,
    /// [`progress::fingerprint`] of the record, for the progress line of an ack up to it.
    fingerprint: u32,
}

#[derive(Debug, Clone, Copy)]
struct QueuedAlert {
    seq: u64,
    bytes: u64,
    destinations: DestinationSet,
    segment: u64,
}

/// One batch of [`Spool::append_batch`] after admission.
#[derive(Debug)]
struct Batch {
    /// Per event in order, its sequence number or why it was refused.
    results: Vec<Result<u64, AppendError>>,
    /// The admitted frames, back to back: the one write.
    frames: Vec<u8>,
    /// Per admitted event: sequence number, destinations, frame bytes, alert severity.
    accepted: Vec<(u64, DestinationSet, u64, Option<Severity>)>,
    /// Whether admitting it evicted queued alerts (the checkpoint must be written).
    evicted: bool,
}

/// An event as a batch hands it to the spool: whole, or packed (its record body, which is
/// framed as it is, without decoding it).
trait Admissible {
    /// Writes the frame of the record `seq` for `destinations` into `frame` (at least
    /// `MAX_FRAME` bytes); its length.
    fn frame(
        &self,
        seq: u64,
        destinations: DestinationSet,
        frame: &mut [u8],
    ) -> Result<usize, EncodeError>;
    /// The severity the quota's eviction compares.
    fn severity(&self) -> Severity;
    /// The alert's severity; `None` for a notification (never evicted).
    fn alert_severity(&self) -> Option<Severity>;
}

impl Admissible for &Event {
    fn frame(
        &self,
        seq: u64,
        destinations: DestinationSet,
        frame: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let record = Record {
            seq,
            destinations,
            event: (*self).clone(),
        };
        record::encode(&record, frame)
    }

    fn severity(&self) -> Severity {
        Event::severity(self)
    }

    fn alert_severity(&self) -> Option<Severity> {
        match self {
            Event::Alert(alert) => Some(alert.severity),
            Event::Notification(_) => None,
        }
    }
}

impl Admissible for packed::Packed {
    fn frame(
        &self,
        seq: u64,
        destinations: DestinationSet,
        frame: &mut [u8],
    ) -> Result<usize, EncodeError> {
        packed::Packed::frame(self, seq, destinations, frame)
    }

    fn severity(&self) -> Severity {
        packed::Packed::severity(self)
    }

    fn alert_severity(&self) -> Option<Severity> {
        packed::Packed::alert_severity(self)
    }
}

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Warning => 0,
        Severity::Minor => 1,
        Severity::Major => 2,
        Severity::Critical => 3,
    }
}

/// The spool: single owner, no threads. See the [module docs](self).
#[derive(Debug)]
pub struct Spool<S: Storage = FsStorage> {
    storage: S,
    dir: PathBuf,
    config: SpoolConfig,
    names: Vec<String>,
    /// By first sequence number.
    segments: BTreeMap<u64, Segment>,
    /// Spare segment files by the sequence number in their name, at most [`MAX_SPARES`].
    spares: BTreeMap<u64, Spare>,
    next_seq: u64,
    cursors: Vec<Cursor>,
    /// Per destination, every record for it above its acknowledged sequence number that a
    /// peek has decoded, in sequence order with none left out: `peek_after` continues after
    /// the last one and `ack` counts and passes them without reading the segment again.
    /// Bounded by what a worker holds unacknowledged (its window).
    read: Vec<VecDeque<ReadMark>>,
    evicted: BTreeSet<u64>,
    /// Queued alerts by severity index, oldest first (only kept for `EvictLowerSeverity`).
    alerts: [VecDeque<QueuedAlert>; 4],
    live_bytes: u64,
    failed: bool,
    stats: SpoolStats,
    progress: progress::Log,
    /// The checkpoint last made durable by this spool (none yet after open): an unchanged one
    /// is not written again.
    durable_checkpoint: Option<Checkpoint>,
    /// Bytes written per fsync by appends, as a moving average (how blocks are reserved:
    /// [`ZERO_FILL_BELOW`]).
    batch_bytes: u64,
}

impl<S: Storage> Spool<S> {
    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configured destination names, by index.
    pub fn destination_names(&self) -> &[String] {
        &self.names
    }

    /// The sequence number the next accepted event gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The settings.
    pub fn config(&self) -> &SpoolConfig {
        &self.config
    }

    /// Whether an earlier write or fsync failed (fail-stop).
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// The storage (for tests and fault injection).
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Gives the storage back.
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// The counters.
    pub fn stats(&self) -> SpoolStats {
        let mut stats = self.stats.clone();
        stats.live_bytes = self.live_bytes;
        stats.disk_bytes = self.segments.values().map(|s| s.len).sum();
        stats.spares = self.spares.len() as u64;
        stats.spare_bytes = self.spare_bytes();
        stats.failed = self.failed;
        stats.destinations = self
            .names
            .iter()
            .zip(&self.cursors)
            .map(|(name, c)| DestinationStats {
                name: name.clone(),
                backlog: c.backlog,
                acked_records: c.acked_records,
                acked_seq: c.acked,
            })
            .collect();
        stats.progress = self.progress.stats();
        stats
    }

    /// Appends `events` as one batch: one write and one fdatasync for all the accepted ones.
    /// Returns, per event in order, its sequence number or why it was refused. Sequence
    /// numbers are returned only after the fsync succeeded.
    ///
    /// # Errors
    ///
    /// An I/O error (then nothing of the batch is accepted and the spool is fail-stop), or
    /// [`SpoolError::Failed`] after an earlier one.
    pub fn append_batch(
        &mut self,
        events: &[(Event, DestinationSet)],
    ) -> Result<Vec<Result<u64, AppendError>>, SpoolError> {
        self.append_each(events.iter().map(|(event, to)| (event, *to)))
    }

    /// [`append_batch`](Spool::append_batch) of events held packed (the group commit's
    /// queue): each is unpacked only while its record is encoded, so the batch never exists
    /// as whole events (~2.7 KB each), and freed once its frame is encoded, so the batch is
    /// not held twice (packed and framed) through its write and fsync.
    ///
    /// # Errors
    ///
    /// As [`append_batch`](Spool::append_batch).
    pub fn append_packed(
        &mut self,
        events: Vec<(packed::Packed, DestinationSet)>,
    ) -> Result<Vec<Result<u64, AppendError>>, SpoolError> {
        self.append_each(events.into_iter())
    }

    /// One batch, one write, one fdatasync, its events given one at a time.
    fn append_each<E: Admissible>(
        &mut self,
        events: impl ExactSizeIterator<Item = (E, DestinationSet)>,
    ) -> Result<Vec<Result<u64, AppendError>>, SpoolError> {
        if self.failed {
            return Err(SpoolError::Failed);
        }
        let active = self.ensure_active_segment()?;
        let mut batch = self.admit(events);
        if batch.accepted.is_empty() && !batch.evicted {
            return Ok(batch.results);
        }
        let frames = std::mem::take(&mut batch.frames);
        let bytes = frames.len() as u64;
        self.write_frames(active, frames)?;
        if batch.evicted {
            // The evictions become durable before the new records are reported accepted;
            // a crash in between only brings the evicted records back (delivered, not lost).
            if let Err(e) = self.write_checkpoint() {
                self.failed = true;
                return Err(e);
            }
        }
        self.stats.batches += 1;
        self.note_written(active, &batch, bytes)?;
        Ok(batch.results)
    }

    /// Checks, numbers and encodes each event of a batch and applies the quota (evicting
    /// when configured); writes nothing. Evictions it made are already in memory.
    fn admit<E: Admissible>(
        &mut self,
        events: impl ExactSizeIterator<Item = (E, DestinationSet)>,
    ) -> Batch {
        let mut batch = Batch {
            results: Vec::with_capacity(events.len()),
            frames: Vec::new(),
            accepted: Vec::new(),
            evicted: false,
        };
        let mut frame = vec![0u8; MAX_FRAME];
        let configured = self.configured_mask();
        for (event, destinations) in events {
            let seq = self.next_seq + batch.accepted.len() as u64;
            if destinations.is_empty() {
                batch.results.push(Err(AppendError::NoDestination));
                continue;
            }
            if let Some(d) = destinations
                .iter()
                .find(|d| configured & (1 << d.get()) == 0)
            {
                batch
                    .results
                    .push(Err(AppendError::UnknownDestination { index: d.get() }));
                continue;
            }
            let n = match event.frame(seq, destinations, &mut frame) {
                Ok(n) => n,
                Err(e) => {
                    batch.results.push(Err(AppendError::Encode(e)));
                    continue;
                }
            };
            let needed = self.live_bytes + batch.frames.len() as u64 + n as u64;
            if needed > self.config.max_bytes {
                let over = needed - self.config.max_bytes;
                let admitted = self.config.on_full == OnFull::EvictLowerSeverity
                    && self.evict_lower(event.severity(), over);
                if !admitted {
                    self.stats.refused_full += 1;
                    batch.results.push(Err(AppendError::Full {
                        retry_after: self.config.retry_after,
                    }));
                    continue;
                }
                batch.evicted = true;
            }
            batch
                .frames
                .extend_from_slice(frame.get(..n).unwrap_or_default());
            batch
                .accepted
                .push((seq, destinations, n as u64, event.alert_severity()));
            batch.results.push(Ok(seq));
        }
        batch
    }

    /// Appends `frames` to the active segment `active` with one write at its data's end and
    /// one `fdatasync`, preallocating ahead first; `frames` is freed between the two, so
    /// the batch is not held through the fsync, its longest step. On failure the spool is
    /// failed and what of the batch reached the file is cut back.
    fn write_frames(&mut self, active: u64, mut frames: Vec<u8>) -> Result<(), SpoolError> {
        if frames.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(segment::file_name(active));
        let (end, stale_end) = self
            .segments
            .get(&active)
            .map_or((0, 0), |s| (s.len, s.stale_end));
        let bytes = frames.len() as u64;
        self.batch_bytes = self.batch_bytes.saturating_mul(3).saturating_add(bytes) / 4;
        self.preallocate(active, &path, end + bytes);
        // In a recycled file, a write ending shortly before the end of its earlier frames
        // writes zeros up to that end ([`STALE_GUARD`]).
        let written_end = end + bytes;
        if stale_end > written_end && written_end + STALE_GUARD >= stale_end {
            frames.resize(frames.len() + (stale_end - written_end) as usize, 0);
        }
        let data_len = frames.len() as u64;
        let wrote = self.storage.write_at(&path, end, &frames);
        drop(frames);
        let written = wrote.and_then(|()| self.storage.sync_data(&path));
        if let Err(source) = written {
            self.failed = true;
            // The batch was refused: cut what of it reached the file, so that the
            // restart's recovery does not bring refused records back (their producers
            // send them again). If the cut fails too, they may come back: duplicates of
            // refused lines, never a loss.
            if let Some(before) = self.segments.get(&active).map(|s| s.len) {
                drop(
                    self.storage
                        .truncate(&path, before)
                        .and_then(|()| self.storage.sync_file(&path)),
                );
            }
            return Err(SpoolError::Io {
                what: format!("writing {}", path.display()),
                source,
            });
        }
        self.stats.fsyncs += 1;
        if let Some(seg) = self.segments.get_mut(&active)
            && end + data_len >= seg.stale_end
        {
            seg.stale_end = 0;
        }
        Ok(())
    }

    /// Makes sure the blocks of segment `first` (at `path`) are reserved up to `upto`: when
    /// they are not, reserves up to the next multiple of [`PREALLOCATE_STEP`] (the segment
    /// size at most, or `upto` when a batch goes beyond; and no more than the quota still
    /// has room for), with zeros while batches are small ([`ZERO_FILL_BELOW`]), else with
    /// `fallocate`. Best effort: a file system that
    /// cannot reserve (or a full disk) only costs the metadata writes preallocation saves;
    /// the write that follows fails on its own if the disk is full.
    fn preallocate(&mut self, first: u64, path: &Path, upto: u64) {
        let segment_bytes = self.config.segment_bytes;
        // The spare files count against the quota as the segment files do.
        let live_bytes = self.live_bytes.saturating_add(self.spare_bytes());
        let max_bytes = self.config.max_bytes;
        let Some(seg) = self.segments.get_mut(&first) else {
            return;
        };
        if upto <= seg.allocated {
            return;
        }
        // Never reserve beyond the room the quota leaves after this batch: the segment files
        // together stay within `max_bytes` as without preallocation.
        let room =
            max_bytes.saturating_sub(live_bytes.saturating_add(upto.saturating_sub(seg.len)));
        let target = upto
            .div_ceil(PREALLOCATE_STEP)
            .saturating_mul(PREALLOCATE_STEP)
            .min(segment_bytes)
            .min(upto.saturating_add(room))
            .max(upto);
        // Not retried on failure: the next step's reservation tries again.
        seg.allocated = target;
        let zeros = self.batch_bytes < ZERO_FILL_BELOW;
        let reserved = if zeros {
            self.storage.reserve_written(path, target)
        } else {
            self.storage.preallocate(path, target)
        };
        if reserved.is_ok() {
            self.stats.preallocated += 1;
            self.stats.zero_filled += u64::from(zeros);
        }
    }

    /// Notes the durable `batch` (its frames, `bytes` long) in the active segment `active`,
    /// the backlogs, the eviction index and the counters, and moves the next sequence number
    /// past it.
    fn note_written(&mut self, active: u64, batch: &Batch, bytes: u64) -> Result<(), SpoolError> {
        let track_alerts = self.config.on_full == OnFull::EvictLowerSeverity;
        let Some(seg) = self.segments.get_mut(&active) else {
            self.failed = true;
            return Err(SpoolError::Failed);
        };
        for &(seq, destinations, bytes, severity) in &batch.accepted {
            seg.note(seq, destinations);
            for d in destinations.iter() {
                if let Some(c) = self.cursors.get_mut(usize::from(d.get())) {
                    c.backlog += 1;
                }
            }
            if let (true, Some(severity)) = (track_alerts, severity)
                && let Some(queue) = self.alerts.get_mut(severity_index(severity))
            {
                queue.push_back(QueuedAlert {
                    seq,
                    bytes,
                    destinations,
                    segment: active,
                });
            }
        }
        seg.len += bytes;
        self.live_bytes += bytes;
        self.stats.appended += batch.accepted.len() as u64;
        self.next_seq += batch.accepted.len() as u64;
        Ok(())
    }

    fn configured_mask(&self) -> u64 {
        (1u64 << self.names.len()) - 1
    }

    /// The active segment's first seq, creating (and making durable) a new one when there is
    /// none or the active one is full.
    fn ensure_active_segment(&mut self) -> Result<u64, SpoolError> {
        if let Some((&first, seg)) = self.segments.last_key_value()
            && seg.len < self.config.segment_bytes
        {
            return Ok(first);
        }
        self.start_segment()
    }

    /// Creates the segment for `next_seq` — by renaming a spare file to its name when there
    /// is one, else as a new empty file — and makes its directory entry durable before
    /// anything is written into it.
    fn start_segment(&mut self) -> Result<u64, SpoolError> {
        let first = self.next_seq;
        let path = self.dir.join(segment::file_name(first));
        let spare = self.spares.pop_first();
        let created = match spare {
            Some((old, _)) => {
                let from = self.dir.join(segment::spare_file_name(old));
                self.storage.rename(&from, &path)
            }
            None => self.storage.create(&path),
        }
        .and_then(|()| self.storage.sync_dir(&self.dir));
        if let Err(source) = created {
            self.failed = true;
            return Err(SpoolError::Io {
                what: format!("creating {}", path.display()),
                source,
            });
        }
        let mut seg = Segment::empty();
        if let Some((_, spare)) = spare {
            // Its blocks are written already: appends inside them are overwrites.
            seg.allocated = spare.len;
            seg.stale_end = spare.stale_end;
            self.stats.segments_recycled += 1;
        }
        self.segments.insert(first, seg);
        Ok(first)
    }

    /// The bytes of the spare files.
    fn spare_bytes(&self) -> u64 {
        self.spares.values().map(|s| s.len).sum()
    }

    /// The bytes of every segment file (reserved tails included) and spare file.
    fn file_bytes(&self) -> u64 {
        let segments: u64 = self.segments.values().map(|s| s.len.max(s.allocated)).sum();
        segments.saturating_add(self.spare_bytes())
    }

    /// How many spare files may be kept: none on a storage that cannot write inside a file
    /// ([`Storage::overwrites`]).
    fn spare_limit(&self) -> usize {
        if self.storage.overwrites() {
            MAX_SPARES
        } else {
            0
        }
    }

    /// Removes the delivered segment `first` (at `path`, `seg` already taken out of the
    /// segments): renamed to a spare file while fewer than the limit are kept and the files
    /// stay within [`SpoolConfig::max_bytes`], else deleted. Returns whether it was kept.
    fn retire_segment(&mut self, first: u64, path: &Path, seg: &Segment) -> io::Result<bool> {
        let len = match self.storage.len(path) {
            Ok(len) if self.spares.len() < self.spare_limit() => len,
            _ => 0,
        };
        if len > 0 && self.file_bytes().saturating_add(len) <= self.config.max_bytes {
            self.storage
                .rename(path, &self.dir.join(segment::spare_file_name(first)))?;
            let stale_end = seg.len.max(seg.stale_end);
            self.spares.insert(first, Spare { len, stale_end });
            return Ok(true);
        }
        self.storage.remove(path)?;
        Ok(false)
    }

    /// Deletes spare files beyond the limit, or while the files exceed
    /// [`SpoolConfig::max_bytes`]. Returns how many (their removal wants a directory fsync).
    fn trim_spares(&mut self) -> io::Result<usize> {
        let mut removed = 0;
        while !self.spares.is_empty()
            && (self.spares.len() > self.spare_limit() || self.file_bytes() > self.config.max_bytes)
        {
            let Some((name, _)) = self.spares.pop_last() else {
                break;
            };
            self.storage
                .remove(&self.dir.join(segment::spare_file_name(name)))?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Whether some configured destination still waits for `alert`.
    fn is_queued(cursors: &[Cursor], alert: &QueuedAlert) -> bool {
        alert.destinations.iter().any(|d| {
            cursors
                .get(usize::from(d.get()))
                .is_some_and(|c| c.acked < alert.seq)
        })
    }

    /// Evicts the oldest queued alerts of severity strictly below `severity` until `needed`
    /// bytes are freed; evicts nothing and returns `false` when they are not enough.
    fn evict_lower(&mut self, severity: Severity, needed: u64) -> bool {
        let below = severity_index(severity);
        let mut next = [0usize; 4];
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        let mut freed = 0;
        while freed < needed {
            let mut best: Option<(usize, u64)> = None;
            for (s, queue) in self.alerts.iter().enumerate().take(below) {
                let Some(i) = next.get_mut(s) else { continue };
                while let Some(alert) = queue.get(*i) {
                    if Self::is_queued(&self.cursors, alert) {
                        break;
                    }
                    *i += 1;
                }
                if let Some(alert) = queue.get(*i)
                    && best.is_none_or(|(_, seq)| alert.seq < seq)
                {
                    best = Some((s, alert.seq));
                }
            }
            let Some((s, _)) = best else {
                return false;
            };
            let (Some(i), Some(queue)) = (next.get_mut(s), self.alerts.get(s)) else {
                return false;
            };
            freed += queue.get(*i).map_or(0, |a| a.bytes);
            chosen.push((s, *i));
            *i += 1;
        }
        for (s, upto) in next.iter().enumerate() {
            let Some(queue) = self.alerts.get_mut(s) else {
                continue;
            };
            let drained: Vec<(usize, QueuedAlert)> = queue.drain(..*upto).enumerate().collect();
            for (i, alert) in drained {
                if !chosen.contains(&(s, i)) {
                    continue;
                }
                self.evicted.insert(alert.seq);
                if let Some(seg) = self.segments.get_mut(&alert.segment) {
                    seg.evicted_bytes += alert.bytes;
                }
                self.live_bytes = self.live_bytes.saturating_sub(alert.bytes);
                for d in alert.destinations.iter() {
                    if let Some(c) = self.cursors.get_mut(usize::from(d.get()))
                        && c.acked < alert.seq
                    {
                        c.backlog = c.backlog.saturating_sub(1);
                    }
                }
                if let Some(count) = self.stats.evicted.get_mut(s) {
                    *count += 1;
                }
            }
        }
        true
    }

    fn cursor(&self, dest: DestinationId) -> Result<Cursor, SpoolError> {
        self.cursors
            .get(usize::from(dest.get()))
            .copied()
            .ok_or(SpoolError::UnknownDestination(dest))
    }

    /// Walks the records of `dest` from its hint, or from `from` (a frame boundary at or
    /// after the hint; the hint then stays). For each record still to deliver to `dest`,
    /// `make` turns its checked view into what `visit(made, (segment, frame end))` takes, and
    /// the visitor says whether to go on; the other records are checked (CRC, header) but
    /// their bodies not decoded. The hint advances over records that are done for `dest`
    /// (acknowledged, evicted, or not for it) and those the visitor passes, up to the first
    /// one it keeps. A body `make` cannot decode is refused, as the scan refuses it.
    fn walk<T>(
        &mut self,
        dest: DestinationId,
        from: Option<(u64, u64)>,
        mut make: impl FnMut(&RecordView<'_>) -> Result<T, DecodeError>,
        mut visit: impl FnMut(T, (u64, u64)) -> Walk,
    ) -> Result<(), SpoolError> {
        let cursor = self.cursor(dest)?;
        let mut hint = cursor.hint;
        let mut advancing = from.is_none();
        let begin = from.unwrap_or(cursor.hint);
        let Spool {
            storage,
            segments,
            evicted,
            dir,
            ..
        } = self;
        'segments: for (&first, seg) in segments.range(begin.0..) {
            let start = if first == begin.0 { begin.1 } else { 0 };
            if advancing {
                hint = (first, start);
            }
            let path = dir.join(segment::file_name(first));
            let mut stop = false;
            let relevant = |view: &RecordView<'_>| {
                view.seq() > cursor.acked
                    && view.destinations().contains(dest)
                    && !evicted.contains(&view.seq())
            };
            let decode = |view: &RecordView<'_>| {
                let made = if relevant(view) {
                    Some(make(view)?)
                } else {
                    None
                };
                Ok((view.seq(), made))
            };
            let scanned =
                segment::scan_with(storage, (&path, start, seg.len), decode, |made, span| {
                    let step = match made {
                        Some(made) => visit(made, (first, span.end)),
                        None => Walk::Skip,
                    };
                    match step {
                        Walk::Skip => {
                            if advancing {
                                hint = (first, span.end);
                            }
                            true
                        }
                        Walk::Pass => {
                            if advancing {
                                hint = (first, span.end);
                            }
                            true
                        }
                        Walk::Keep => {
                            advancing = false;
                            true
                        }
                        Walk::KeepAndStop => {
                            advancing = false;
                            stop = true;
                            false
                        }
                        Walk::Stop => {
                            stop = true;
                            false
                        }
                    }
                });
            let outcome = scanned.map_err(io_err(format!("reading {}", path.display())))?;
            if let Some(refused) = outcome.refused {
                return Err(SpoolError::Refused {
                    segment: path,
                    offset: refused.offset,
                    error: refused.error,
                });
            }
            if stop {
                break 'segments;
            }
            if advancing {
                hint = (first, outcome.whole_len);
            }
        }
        if from.is_none()
            && let Some(c) = self.cursors.get_mut(usize::from(dest.get()))
        {
            c.hint = hint;
        }
        Ok(())
    }

    /// The records `dest` has been handed and not acknowledged (the `read` field).
    fn read_marks(&mut self, dest: DestinationId) -> Result<&mut VecDeque<ReadMark>, SpoolError> {
        self.read
            .get_mut(usize::from(dest.get()))
            .ok_or(SpoolError::UnknownDestination(dest))
    }

    /// Up to `max_records` records still to deliver to `dest`, in sequence order, without
    /// consuming them (a second call returns them again until [`ack`](Spool::ack)). Only
    /// records whose batch was fsynced are ever returned; evicted ones never.
    ///
    /// # Errors
    ///
    /// An unknown destination, an I/O error reading a segment, or a record that must be
    /// refused.
    pub fn peek(
        &mut self,
        dest: DestinationId,
        max_records: usize,
    ) -> Result<Vec<Record>, SpoolError> {
        self.read_made(dest, None, max_records, |view| {
            let record = view.to_record()?;
            Ok((progress::fingerprint(&record), Some(record)))
        })
    }

    /// Acknowledges, for `dest`, every record up to sequence number `upto`: delivered, it
    /// will not be returned again. In memory; [`checkpoint`](Spool::checkpoint) persists it.
    /// Returns how many records this acknowledged.
    ///
    /// # Errors
    ///
    /// An unknown destination, `upto` beyond the last sequence number given, or an I/O
    /// error reading a segment.
    pub fn ack(&mut self, dest: DestinationId, upto: u64) -> Result<u64, SpoolError> {
        let cursor = self.cursor(dest)?;
        if upto >= self.next_seq {
            return Err(SpoolError::AckBeyondEnd {
                upto,
                last: self.next_seq - 1,
            });
        }
        if upto <= cursor.acked {
            return Ok(0);
        }
        // The records a peek handed out are counted from their marks, without reading them
        // again; only past the last of them does the segment have to be read.
        let mut count = 0;
        let mut passed = None;
        let Spool {
            read,
            evicted,
            cursors,
            progress,
            storage,
            ..
        } = self;
        if let (Some(marks), Some(c)) = (
            read.get_mut(usize::from(dest.get())),
            cursors.get_mut(usize::from(dest.get())),
        ) {
            let mut anchor = None;
            while let Some(mark) = marks.front().copied().filter(|m| m.seq <= upto) {
                if !evicted.contains(&mark.seq) {
                    count += 1;
                    if mark.seq == upto {
                        anchor = Some(mark.fingerprint);
                    }
                }
                passed = Some(mark);
                marks.pop_front();
            }
            if let Some(mark) = passed {
                c.hint = (mark.segment, mark.end);
            }
            // Every record for `dest` up to `upto` was among the marks when one is left after
            // it, or the last one passed is `upto` itself.
            if !marks.is_empty() || passed.is_some_and(|m| m.seq == upto) {
                c.acked = upto;
                c.backlog = c.backlog.saturating_sub(count);
                c.acked_records += count;
                // Without fsync: survives a kill of the process (docs/spool.md, crash
                // guarantees).
                if let Some(fingerprint) = anchor {
                    progress.note(storage, dest.get(), upto, fingerprint);
                }
                return Ok(count);
            }
        }
        let mut anchor = None;
        self.walk(
            dest,
            None,
            |view| view.to_record(),
            |record, _| {
                if record.seq <= upto {
                    count += 1;
                    if record.seq == upto {
                        anchor = Some(progress::fingerprint(&record));
                    }
                    Walk::Pass
                } else {
                    Walk::Stop
                }
            },
        )?;
        if let Some(c) = self.cursors.get_mut(usize::from(dest.get())) {
            c.acked = upto;
            c.backlog = c.backlog.saturating_sub(count);
            c.acked_records += count;
        }
        // Without fsync: survives a kill of the process (docs/spool.md, crash guarantees).
        if let Some(fingerprint) = anchor {
            self.progress
                .note(&mut self.storage, dest.get(), upto, fingerprint);
        }
        Ok(count)
    }

    /// Writes the checkpoint (cursors, next sequence number, evictions) unless this spool
    /// already made exactly that one durable: an idle spool writes nothing.
    fn write_checkpoint(&mut self) -> Result<(), SpoolError> {
        let checkpoint = Checkpoint {
            next_seq: self.next_seq,
            destinations: self
                .names
                .iter()
                .zip(&self.cursors)
                .enumerate()
                .map(|(i, (name, c))| CursorEntry {
                    index: u8::try_from(i).unwrap_or(u8::MAX),
                    acked: c.acked,
                    name: name.clone(),
                })
                .collect(),
            evicted: self.evicted.clone(),
        };
        if self.durable_checkpoint.as_ref() == Some(&checkpoint) {
            self.stats.checkpoints_unchanged += 1;
            return Ok(());
        }
        // Whatever was durable may be half replaced if the write fails: compare with nothing.
        self.durable_checkpoint = None;
        cursor::write(&mut self.storage, &self.dir, &checkpoint)
            .map_err(io_err("writing the checkpoint"))?;
        self.durable_checkpoint = Some(checkpoint);
        self.stats.checkpoints += 1;
        Ok(())
    }

    /// Whether every configured destination is past every record of `seg`.
    fn segment_done(&self, seg: &Segment) -> bool {
        self.cursors
            .iter()
            .zip(&seg.last_for)
            .all(|(c, &last)| last <= c.acked)
    }

    /// Recomputes `last_for` of segment `first` without its evicted records.
    fn rescan_without_evicted(&mut self, first: u64) -> Result<(), SpoolError> {
        let Some(len) = self.segments.get(&first).map(|s| s.len) else {
            return Ok(());
        };
        let path = self.dir.join(segment::file_name(first));
        let mut last_for = Segment::empty();
        let evicted = &self.evicted;
        segment::scan(&mut self.storage, &path, 0, len, |record, _| {
            if !evicted.contains(&record.seq) {
                last_for.note(record.seq, record.destinations);
            }
            true
        })
        .map_err(io_err(format!("reading {}", path.display())))?;
        if let Some(seg) = self.segments.get_mut(&first) {
            seg.last_for = last_for.last_for;
        }
        Ok(())
    }

    /// Persists every cursor (temp file, fsync, rename, fsync of the directory) and only then
    /// removes the segments every destination has passed (deleted, or renamed to spare files:
    /// [`Spool::retire_segment`]; never the active one; a fully
    /// delivered active segment is first replaced by a new, empty one), then fsyncs the
    /// directory again so the removals are durable before a later checkpoint forgets the
    /// evictions they held.
    ///
    /// # Errors
    ///
    /// An I/O error. If writing the checkpoint failed, no segment was removed; if a removal
    /// failed, the file stays and the next checkpoint removes it.
    pub fn checkpoint(&mut self) -> Result<CheckpointOutcome, SpoolError> {
        // A fully delivered active segment would otherwise stay forever (the active segment
        // is never removed) and hold its bytes against the quota: start a new one first.
        let active_done = self
            .segments
            .last_key_value()
            .is_some_and(|(_, seg)| seg.len > 0 && self.segment_done(seg));
        if active_done && !self.failed {
            self.start_segment()?;
        }
        let firsts: Vec<u64> = self.segments.keys().copied().collect();
        let mut removable = Vec::new();
        for &first in firsts.iter().take(firsts.len().saturating_sub(1)) {
            let Some(seg) = self.segments.get(&first) else {
                break;
            };
            let mut done = self.segment_done(seg);
            if !done && seg.evicted_bytes > 0 {
                self.rescan_without_evicted(first)?;
                done = self
                    .segments
                    .get(&first)
                    .is_some_and(|seg| self.segment_done(seg));
            }
            if !done {
                break;
            }
            removable.push(first);
        }
        let keep_from = firsts
            .get(removable.len())
            .copied()
            .unwrap_or(self.next_seq);
        // Evictions are forgotten only for segments whose removal an earlier checkpoint made
        // durable (directory fsync): a segment removed now could reappear after a power cut,
        // and its evicted records must then stay evicted.
        let prune_below = firsts.first().copied().unwrap_or(self.next_seq);
        let kept_evictions = self.evicted.split_off(&prune_below);
        let dropped_evictions = std::mem::replace(&mut self.evicted, kept_evictions);
        if let Err(e) = self.write_checkpoint() {
            self.evicted.extend(dropped_evictions);
            return Err(e);
        }
        let mut outcome = CheckpointOutcome::default();
        for first in removable {
            let path = self.dir.join(segment::file_name(first));
            let Some(seg) = self.segments.remove(&first) else {
                continue;
            };
            let spared = self.retire_segment(first, &path, &seg);
            let spared = match spared {
                Ok(spared) => spared,
                Err(source) => {
                    // Still on disk: the next checkpoint removes it.
                    self.segments.insert(first, seg);
                    return Err(SpoolError::Io {
                        what: format!("removing {}", path.display()),
                        source,
                    });
                }
            };
            self.live_bytes = self
                .live_bytes
                .saturating_sub(seg.len.saturating_sub(seg.evicted_bytes));
            outcome.bytes_removed += seg.len;
            outcome.segments_removed += 1;
            outcome.segments_spared += usize::from(spared);
            self.stats.segments_removed += 1;
        }
        let trimmed = self
            .trim_spares()
            .map_err(io_err("removing a spare segment file"))?;
        if outcome.segments_removed > 0 || trimmed > 0 {
            self.storage
                .sync_dir(&self.dir)
                .map_err(io_err("making segment removals durable"))?;
        }
        // The durable checkpoint covers every progress hint.
        self.progress.reset(&mut self.storage);
        for queue in &mut self.alerts {
            while queue.front().is_some_and(|a| a.seq < keep_from) {
                queue.pop_front();
            }
        }
        Ok(outcome)
    }

    /// Like [`peek`](Spool::peek), but only records with a sequence number above
    /// `after_seq`: a worker with records in flight (awaiting HEC acks) reads what follows
    /// them without reading them again. Records up to `after_seq` stay unconsumed (they are
    /// still scanned, and returned again by `peek`, until [`ack`](Spool::ack)).
    ///
    /// # Errors
    ///
    /// As [`peek`](Spool::peek).
    pub fn peek_after(
        &mut self,
        dest: DestinationId,
        after_seq: u64,
        max_records: usize,
    ) -> Result<Vec<Record>, SpoolError> {
        self.read_made(dest, Some(after_seq), max_records, |view| {
            let record = view.to_record()?;
            let fingerprint = progress::fingerprint(&record);
            Ok((fingerprint, (record.seq > after_seq).then_some(record)))
        })
    }

    /// [`peek_after`](Spool::peek_after) for a delivery worker: each record as its sequence
    /// number and its event [`Packed`](packed::Packed) from the body as stored, not decoded
    /// into a whole event (~2.7 KB) to be packed again. The body is still decoded, into one
    /// reused event, so a body that does not decode is refused as `peek_after` refuses it.
    ///
    /// # Errors
    ///
    /// As [`peek_after`](Spool::peek_after).
    pub fn peek_packed_after(
        &mut self,
        dest: DestinationId,
        after_seq: u64,
        max_records: usize,
    ) -> Result<Vec<(u64, packed::Packed)>, SpoolError> {
        let mut slot = Event::from(icsfwd_core::alert::Notification::new(
            0,
            0,
            icsfwd_core::alert::NotificationKind::SensorOnline,
        ));
        self.read_made(dest, Some(after_seq), max_records, |view| {
            view.event_into(&mut slot)?;
            let fingerprint = progress::fingerprint_of(view.seq(), view.destinations(), &slot);
            let packed = (view.seq() > after_seq).then(|| {
                let packed = packed::Packed::from_body(view.version(), view.body(), &slot);
                (view.seq(), packed)
            });
            Ok((fingerprint, packed))
        })
    }

    /// What [`peek`](Spool::peek) (`after_seq` `None`) and [`peek_after`](Spool::peek_after)
    /// do, with `make(view)` giving each record's progress fingerprint and, for one handed
    /// out, what is handed out.
    fn read_made<T>(
        &mut self,
        dest: DestinationId,
        after_seq: Option<u64>,
        max_records: usize,
        mut make: impl FnMut(&RecordView<'_>) -> Result<(u32, Option<T>), DecodeError>,
    ) -> Result<Vec<T>, SpoolError> {
        let mut out = Vec::new();
        if max_records == 0 {
            self.cursor(dest)?;
            return Ok(out);
        }
        let marks = self.read_marks(dest)?;
        let from = match (after_seq, marks.back()) {
            // Continue after the last record handed out when the caller has it (it asks for
            // what follows it).
            (Some(after), Some(last)) if last.seq <= after => Some((last.segment, last.end)),
            // Otherwise read from the hint and note every record again.
            _ => {
                marks.clear();
                None
            }
        };
        let mut read = Vec::new();
        let made = |view: &RecordView<'_>| {
            let (fingerprint, made) = make(view)?;
            Ok((view.seq(), fingerprint, made))
        };
        self.walk(
            dest,
            from,
            made,
            |(seq, fingerprint, made), (segment, end)| {
                read.push(ReadMark {
                    seq,
                    segment,
                    end,
                    fingerprint,
                });
                if after_seq.is_some_and(|after| seq <= after) {
                    // Unacknowledged but already read: keep the hint before it.
                    return Walk::Keep;
                }
                out.extend(made);
                if out.len() >= max_records {
                    Walk::KeepAndStop
                } else {
                    Walk::Keep
                }
            },
        )?;
        self.read_marks(dest)?.extend(read);
        Ok(out)
    }
}

/// What [`Spool::walk`]'s visitor wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Not wanted; done for this destination (the hint may pass it).
    Skip,
    /// Wanted and done (being acknowledged): the hint may pass it.
    Pass,
    /// Wanted and kept: the hint stays before it.
    Keep,
    /// Kept, and enough.
    KeepAndStop,
    /// Stop before this record.
    Stop,
}

/// Whether `name` is a file the spool writes (a segment, a spare segment file, the
/// checkpoint, the progress log,
/// their temp files, or the lock):
/// anything else in the directory is reported as unknown, never touched.
pub(crate) fn is_spool_file(name: &str) -> bool {
    segment::parse_file_name(name).is_some()
        || segment::parse_spare_file_name(name).is_some()
        || name == cursor::FILE
        || name == cursor::TEMP
        || name == progress::FILE
        || name == progress::TEMP
        || name == lock::FILE
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::spool::{Spool, SpoolConfig, storage::FsStorage};
        use icsfwd_core::alert::{Alert, Event};
        use icsfwd_core::destination::{DestinationId, DestinationSet};

        let dir = tempfile::tempdir()?;
        let splunk = DestinationId::new(0).unwrap();
        let names = ["splunk".to_string()];
        let (mut spool, recovery) =
            Spool::open(FsStorage::new(), dir.path(), SpoolConfig::default(), &names)?;
        assert_eq!(recovery.records, 0);

        let event = Event::from(Alert::example(1_700_000_000_000));
        let seqs = spool.append_batch(&[(event.clone(), DestinationSet::EMPTY.with(splunk))])?;
        assert_eq!(seqs[0], Ok(1));

        let records = spool.peek(splunk, 10)?;
        assert_eq!(records[0].event, event);
        spool.ack(splunk, records[0].seq)?;
        spool.checkpoint()?;

        // After a restart, the destination resumes after what it acknowledged.
        drop(spool);
        let (mut spool, recovery) =
            Spool::open(FsStorage::new(), dir.path(), SpoolConfig::default(), &names)?;
        assert_eq!(recovery.destinations[0].acked, 1);
        assert!(spool.peek(splunk, 10)?.is_empty());
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}

#[cfg(test)]
mod commit_doc_example {
    //! The example of `spool/commit.rs`, run as a unit test (that module is internal to
    //! the crate; its own copy of the example is not run).

    #[test]
    fn commit_module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::spool::commit::Wait;
        use crate::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig, storage::FsStorage};
        use icsfwd_core::alert::Alert;
        use icsfwd_core::destination::{DestinationId, DestinationSet};
        use std::time::Duration;

        let dir = tempfile::tempdir()?;
        let names = ["hec".to_string()];
        let (spool, _) = Spool::open(FsStorage::new(), dir.path(), SpoolConfig::default(), &names)?;
        let group = GroupCommit::start(spool, GroupConfig::default())?;
        let hec = DestinationId::new(0).unwrap();

        let producer = group.handle();
        let worker = std::thread::spawn(move || {
            producer.append(Alert::example(0).into(), DestinationSet::EMPTY.with(hec))
        });
        let reader = group.handle();
        let seen = 1; // the spool was empty: next_seq was 1
        assert_eq!(
            reader.wait_for_records(seen, Duration::from_secs(30)),
            Wait::NewRecords
        );
        assert_eq!(worker.join().unwrap(), Ok(1));
        assert_eq!(reader.peek(hec, 10)?.len(), 1);

        let spool = group.shutdown()?;
        assert_eq!(spool.stats().appended, 1);
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
