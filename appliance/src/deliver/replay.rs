//! `icsfwd deadletter list` and `icsfwd deadletter replay`: reading the dead-letter files and
//! sending their records again once the cause is fixed.
//!
//! What it is: [`list`] summarises every `<spool dir>/deadletter/<destination>.jsonl` (records,
//! reasons grouped). [`replay`] reads one destination's file (the line format of
//! [`deadletter`]), decodes each record's `event` as an ingest schema line,
//! sends the records in file order, one per request, with the sender it is given (the
//! destination's [`sender_for`](super::sender_for) in the CLI), reports each record through a
//! callback, and rewrites the file with only the records not delivered.
//!
//! What it guarantees:
//! - Never loses a dead letter: a record leaves the file only when its destination confirmed
//!   it (2xx; with HEC acks, the ack read `true`). Records refused again, records not sent
//!   (the replay stops at the first transient or configuration failure: the cause is not
//!   gone, and order is kept), records whose ack did not confirm in time, and lines that
//!   cannot be decoded are all kept, byte for byte. The new file is written to a temporary
//!   file, fsynced, renamed over the old one, and the directory fsynced.
//! - Safe while the service runs: the replay sends directly to the destination, not through
//!   the spool. A replay holds `<destination>.replay.lock` (an advisory `flock`) for its whole
//!   run, so a second replay of the same destination fails at once with
//!   [`ReplayError::Busy`]. The worker's appends and the replay's final rewrite are serialised
//!   by [`deadletter::lock`]: the replay notes the file's length under
//!   that lock before it starts, and when it rewrites it copies everything appended after that
//!   point, under the lock, into the new file. Nothing the worker appends during a replay is
//!   lost. It does not take the spool's own lock ([`crate::spool::lock`], held by the running
//!   service for its whole life): it writes no segment, checkpoint or progress file, and the
//!   dead-letter files have the locks above, so taking it would only make a replay impossible
//!   while the service runs.
//! - Files keep their owner: every file it creates (the replay lock, the temporary file that
//!   becomes the dead-letter file) has mode 0640; `icsfwd deadletter replay` runs it only as
//!   the spool directory's owner ([`crate::spool::owner`]), so the files stay the service's.
//! - `dry_run` sends nothing and changes no file (it takes the replay lock, so it also tells
//!   whether a replay is running).
//! - Bounded: a line is read up to [`MAX_LINE`] bytes (a longer one is kept verbatim as
//!   undecodable); at most [`WINDOW`] records are held in memory while HEC acks are awaited.
//!
//! Duplicates: a record whose HEC ack did not read `true` in time stays in the file, so a later
//! replay may send it again (Splunk may have indexed it); its stable event id lets searches
//! dedupe.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read as _, Seek as _, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;

use super::deadletter::{self, DIR};
use crate::clock::now_ms;
use crate::destination::Sender;
use crate::destination::classify::Action;
use crate::ingest::schema::{self, Message};
use crate::spool::storage::{FILE_MODE, open_creating, set_mode};

/// Longest dead-letter line read (an event line is at most [`schema::MAX_LINE`], plus the
/// wrapper); a longer line is kept as it is and reported undecodable.
pub(crate) const MAX_LINE: usize = 4 * schema::MAX_LINE;

/// Most records held in memory at once while their HEC acks are awaited.
pub(crate) const WINDOW: usize = 100;

/// Most distinct reasons [`list`] reports per file; the rest are counted under "other".
pub(crate) const MAX_REASONS: usize = 20;

/// One dead-letter file, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileSummary {
    /// The destination (the file's name without `.jsonl`).
    pub destination: String,
    /// The file.
    pub path: PathBuf,
    /// Complete lines (records, decodable or not).
    pub records: usize,
    /// Lines that are not a dead-letter record (not JSON, no `reason`, over-long).
    pub undecodable: usize,
    /// Each reason and how many records have it, most frequent first.
    pub reasons: Vec<(String, usize)>,
}

/// Summarises every dead-letter file under `spool_dir`, sorted by destination. No directory
/// means no dead letters.
///
/// # Errors
///
/// The directory or a file cannot be read.
pub(crate) fn list(spool_dir: &Path) -> io::Result<Vec<FileSummary>> {
    let dir = spool_dir.join(DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(destination) = name
            .to_str()
            .filter(|n| !n.starts_with('.'))
            .and_then(|n| n.strip_suffix(".jsonl"))
        else {
            continue;
        };
        out.push(summarise(destination, &entry.path())?);
    }
    out.sort_by(|a, b| a.destination.cmp(&b.destination));
    Ok(out)
}

fn summarise(destination: &str, path: &Path) -> io::Result<FileSummary> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut summary = FileSummary {
        destination: destination.to_owned(),
        path: path.to_owned(),
        records: 0,
        undecodable: 0,
        reasons: Vec::new(),
    };
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut other = 0usize;
    let mut line = Vec::new();
    loop {
        line.clear();
        let complete = read_line(&mut reader, &mut line, &mut io::sink())?;
        match complete {
            LineEnd::Eof => break,
            // A line being appended right now: not a record yet.
            LineEnd::Unterminated => break,
            LineEnd::TooLong => {
                summary.records += 1;
                summary.undecodable += 1;
            }
            LineEnd::Newline => {
                summary.records += 1;
                let reason = serde_json::from_slice::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v.get("reason")?.as_str().map(str::to_owned));
                match reason {
                    Some(reason)
                        if reasons.contains_key(&reason) || reasons.len() < MAX_REASONS =>
                    {
                        *reasons.entry(reason).or_default() += 1;
                    }
                    Some(_) => other += 1,
                    None => summary.undecodable += 1,
                }
            }
        }
    }
    summary.reasons = reasons.into_iter().collect();
    if other > 0 {
        summary.reasons.push(("other reasons".to_owned(), other));
    }
    summary.reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    Ok(summary)
}

/// How a bounded line read ended.
enum LineEnd {
    /// Nothing left.
    Eof,
    /// A complete line (the newline not included in the buffer).
    Newline,
    /// The last bytes, without a newline.
    Unterminated,
    /// Over [`MAX_LINE`]: the first `MAX_LINE` bytes are in the buffer and the rest of the
    /// line, newline included, was copied to `overflow`.
    TooLong,
}

/// Reads one line of at most [`MAX_LINE`] bytes into `line`; a longer line's rest goes to
/// `overflow`.
fn read_line(
    reader: &mut impl io::BufRead,
    line: &mut Vec<u8>,
    overflow: &mut dyn Write,
) -> io::Result<LineEnd> {
    let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX);
    let n = reader.by_ref().take(limit).read_until(b'\n', line)?;
    if n == 0 {
        return Ok(LineEnd::Eof);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        return Ok(LineEnd::Newline);
    }
    if line.len() < MAX_LINE {
        return Ok(LineEnd::Unterminated);
    }
    // Copy the rest of the over-long line through, in bounded pieces.
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(LineEnd::TooLong);
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        overflow.write_all(buf.get(..take).unwrap_or_default())?;
        reader.consume(take);
        if done {
            return Ok(LineEnd::TooLong);
        }
    }
}

/// Settings of a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Send nothing and change nothing: only decode and report.
    pub dry_run: bool,
    /// Longest wait for HEC acks of a window of records. Default 60 s.
    pub ack_wait: Duration,
    /// Pause between two ack polls. Default 1 s.
    pub ack_poll_interval: Duration,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            ack_wait: Duration::from_secs(60),
            ack_poll_interval: Duration::from_secs(1),
        }
    }
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Delivered: removed from the file.
    Delivered,
    /// Refused again by the destination: kept.
    StillRefused {
        /// Why (redacted).
        reason: String,
    },
    /// Not sent (or sent and not confirmed) because of a transient or configuration failure:
    /// kept.
    NotDelivered {
        /// Why (redacted).
        reason: String,
    },
    /// Not a record that can be sent (not JSON, no event, an event the schema refuses, or an
    /// over-long line): kept as it is.
    Undecodable {
        /// Why.
        reason: String,
    },
    /// Dry run: would be sent.
    WouldSend,
}

/// One record's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordReport {
    /// Its line number in the file (from 1).
    pub line: usize,
    /// Its spool sequence number, if the line says.
    pub seq: Option<u64>,
    /// Its event id (`<sensor>-<id>`), if decoded.
    pub event_id: Option<String>,
    /// What became of it.
    pub fate: Fate,
}

impl fmt::Display for RecordReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(seq) = self.seq {
            write!(f, " seq {seq}")?;
        }
        if let Some(id) = &self.event_id {
            write!(f, " {id}")?;
        }
        match &self.fate {
            Fate::Delivered => write!(f, ": delivered"),
            Fate::StillRefused { reason } => write!(f, ": still refused: {reason}"),
            Fate::NotDelivered { reason } => write!(f, ": not delivered, kept: {reason}"),
            Fate::Undecodable { reason } => write!(f, ": undecodable, kept: {reason}"),
            Fate::WouldSend => write!(f, ": would be sent"),
        }
    }
}

/// The outcome of a replay.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplaySummary {
    /// The file.
    pub path: PathBuf,
    /// Records read (the file as it was when the replay started).
    pub records: usize,
    /// Delivered and removed.
    pub delivered: usize,
    /// Refused again, kept.
    pub still_refused: usize,
    /// Not delivered (stopped, or ack not confirmed), kept.
    pub not_delivered: usize,
    /// Undecodable lines, kept.
    pub undecodable: usize,
    /// Records the service appended while the replay ran, kept after the others.
    pub appended_meanwhile: usize,
    /// Why the replay stopped sending early, if it did.
    pub stopped: Option<String>,
    /// Whether this was a dry run (nothing sent, nothing changed).
    pub dry_run: bool,
}

impl ReplaySummary {
    /// Records left in the file.
    #[must_use]
    pub(crate) fn kept(&self) -> usize {
        self.records - self.delivered + self.appended_meanwhile
    }
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            return write!(
                f,
                "dry run: {} record(s) in {}, {} would be sent, {} undecodable; nothing sent, \
                 nothing changed",
                self.records,
                self.path.display(),
                self.records - self.undecodable,
                self.undecodable
            );
        }
        write!(
            f,
            "{} record(s) replayed from {}: {} delivered, {} still refused, {} not delivered, \
             {} undecodable; {} appended meanwhile; {} left in the file",
            self.records,
            self.path.display(),
            self.delivered,
            self.still_refused,
            self.not_delivered,
            self.undecodable,
            self.appended_meanwhile,
            self.kept()
        )?;
        if let Some(reason) = &self.stopped {
            write!(f, "\nstopped early: {reason}")?;
        }
        Ok(())
    }
}

/// A replay could not run.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplayError {
    /// Another replay of this destination holds the lock.
    Busy {
        /// The lock file.
        lock: PathBuf,
    },
    /// Reading or rewriting failed; the dead-letter file is unchanged (or, if the rename
    /// happened, complete).
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy { lock } => write!(
                f,
                "another replay of this destination is running (it holds {})",
                lock.display()
            ),
            Self::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for ReplayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Busy { .. } => None,
            Self::Io { source, .. } => Some(source),
        }
    }
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> ReplayError {
    let what = what.into();
    move |source| ReplayError::Io { what, source }
}

/// A record read, waiting for its fate to be written.
struct Pending {
    bytes: Vec<u8>,
    report: RecordReport,
    /// Sent with an ack id; the fate is decided by the ack polls.
    awaiting: bool,
}

/// The dead-letter file of `destination` under `spool_dir`.
#[must_use]
pub fn path(spool_dir: &Path, destination: &str) -> PathBuf {
    spool_dir.join(DIR).join(format!("{destination}.jsonl"))
}

/// Replays the dead letters of `destination` under `spool_dir` through `sender`, calling
/// `report` for each record in file order. See the module docs for the guarantees.
///
/// # Errors
///
/// Another replay runs ([`ReplayError::Busy`]), or a file could not be read or written.
pub fn replay(
    spool_dir: &Path,
    destination: &str,
    sender: &mut dyn Sender,
    options: &ReplayOptions,
    report: &mut dyn FnMut(&RecordReport),
) -> Result<ReplaySummary, ReplayError> {
    let dir = spool_dir.join(DIR);
    let file_path = path(spool_dir, destination);
    let mut summary = ReplaySummary {
        path: file_path.clone(),
        dry_run: options.dry_run,
        ..ReplaySummary::default()
    };
    if !file_path.exists() {
        return Ok(summary);
    }
    let replay_lock = lock_replay(&dir, destination)?;
    let (file, snapshot) = open_snapshot(&dir, destination, &file_path)?;
    let tmp_path = dir.join(format!(".{destination}.jsonl.replay-tmp"));
    let mut tmp = if options.dry_run {
        None
    } else {
        Some(BufWriter::new(create_temp(&tmp_path).map_err(io_error(
            format!("creating {}", tmp_path.display()),
        ))?))
    };
    let mut state = Run {
        sender,
        options,
        report,
        window: Vec::new(),
        summary: &mut summary,
    };
    state.replay_lines(
        &mut BufReader::new(file.take(snapshot)),
        &file_path,
        tmp.as_mut(),
    )?;

    let Some(tmp) = tmp else {
        return Ok(summary);
    };
    finish(
        &dir,
        destination,
        &file_path,
        &tmp_path,
        tmp,
        snapshot,
        &mut summary,
    )?;
    drop(replay_lock);
    Ok(summary)
}

/// Takes the replay lock of `destination`, so that two replays never rewrite one file.
fn lock_replay(dir: &Path, destination: &str) -> Result<File, ReplayError> {
    let lock_path = dir.join(format!("{destination}.replay.lock"));
    let replay_lock = open_creating(
        &lock_path,
        OpenOptions::new().create(true).truncate(false).write(true),
    )
    .map_err(io_error(format!("opening {}", lock_path.display())))?;
    match replay_lock.try_lock() {
        Ok(()) => Ok(replay_lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(ReplayError::Busy { lock: lock_path }),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(io_error(format!("locking {}", lock_path.display()))(err))
        }
    }
}

/// The records to replay: the dead-letter file opened, and its length now, taken when no
/// append is half done.
fn open_snapshot(
    dir: &Path,
    destination: &str,
    file_path: &Path,
) -> Result<(File, u64), ReplayError> {
    let _append = deadletter::lock(dir, destination)
        .map_err(io_error("taking the dead-letter append lock"))?;
    let file =
        File::open(file_path).map_err(io_error(format!("opening {}", file_path.display())))?;
    let len = file
        .metadata()
        .map_err(io_error(format!("reading {}", file_path.display())))?
        .len();
    Ok((file, len))
}

/// Creates the replay's temporary file empty, with mode 0640 exactly (it becomes the
/// dead-letter file by a rename, so its mode is the file's): a leftover of an interrupted
/// replay is truncated and given that mode.
fn create_temp(path: &Path) -> io::Result<File> {
    let file = open_creating(
        path,
        OpenOptions::new().create(true).truncate(true).write(true),
    )?;
    set_mode(&file, FILE_MODE)?;
    Ok(file)
}

/// Collects the rest of an over-long line (bounded by the file itself, which the service
/// bounds by its line format).
struct TooLongSink<'a>(&'a mut Vec<u8>);

impl Write for TooLongSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Copies what was appended after `snapshot` into `tmp`, syncs it and renames it over the
/// file, all under the append lock; then syncs the directory.
fn finish(
    dir: &Path,
    destination: &str,
    file_path: &Path,
    tmp_path: &Path,
    mut tmp: BufWriter<File>,
    snapshot: u64,
    summary: &mut ReplaySummary,
) -> Result<(), ReplayError> {
    let writing = || format!("writing {}", tmp_path.display());
    let _append = deadletter::lock(dir, destination)
        .map_err(io_error("taking the dead-letter append lock"))?;
    match File::open(file_path) {
        Ok(mut current) => {
            current
                .seek(SeekFrom::Start(snapshot))
                .map_err(io_error(format!("reading {}", file_path.display())))?;
            let mut tail = BufReader::new(current);
            loop {
                let buf = tail
                    .fill_buf()
                    .map_err(io_error(format!("reading {}", file_path.display())))?;
                if buf.is_empty() {
                    break;
                }
                let n = buf.len();
                summary.appended_meanwhile += buf.iter().filter(|b| **b == b'\n').count();
                tmp.write_all(buf).map_err(io_error(writing()))?;
                tail.consume(n);
            }
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_error(format!("reading {}", file_path.display()))(err)),
    }
    let tmp = tmp
        .into_inner()
        .map_err(|e| io_error(writing())(e.into_error()))?;
    tmp.sync_all().map_err(io_error(writing()))?;
    drop(tmp);
    std::fs::rename(tmp_path, file_path)
        .map_err(io_error(format!("renaming {}", tmp_path.display())))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(format!("syncing {}", dir.display())))?;
    Ok(())
}

/// The state of one replay between records.
struct Run<'a> {
    sender: &'a mut dyn Sender,
    options: &'a ReplayOptions,
    report: &'a mut dyn FnMut(&RecordReport),
    window: Vec<Pending>,
    summary: &'a mut ReplaySummary,
}

impl Run<'_> {
    /// Handles every line of `reader` (the snapshot of the file at `file_path`) in order, then
    /// flushes what is still pending.
    fn replay_lines(
        &mut self,
        reader: &mut impl BufRead,
        file_path: &Path,
        mut tmp: Option<&mut BufWriter<File>>,
    ) -> Result<(), ReplayError> {
        let mut line_no = 0usize;
        let mut bytes = Vec::new();
        loop {
            bytes.clear();
            let mut overflow = Vec::new();
            let end = read_line(reader, &mut bytes, &mut TooLongSink(&mut overflow))
                .map_err(io_error(format!("reading {}", file_path.display())))?;
            if matches!(end, LineEnd::Eof) {
                break;
            }
            line_no += 1;
            self.summary.records += 1;
            let mut kept = bytes.clone();
            let fate = match end {
                LineEnd::TooLong => {
                    // Bounded in memory only up to the window: an over-long line is kept
                    // whole, so flush what is pending before it.
                    self.flush(tmp.as_deref_mut())?;
                    kept.extend_from_slice(&overflow);
                    kept.pop_if(|b| *b == b'\n');
                    Some(Fate::Undecodable {
                        reason: format!("longer than {MAX_LINE} bytes"),
                    })
                }
                _ => None,
            };
            self.handle(line_no, kept, fate, tmp.as_deref_mut())?;
        }
        self.flush(tmp)
    }

    /// Decodes, sends (unless stopped or a dry run) and queues one line.
    fn handle(
        &mut self,
        line: usize,
        bytes: Vec<u8>,
        fate: Option<Fate>,
        tmp: Option<&mut BufWriter<File>>,
    ) -> Result<(), ReplayError> {
        let mut report = RecordReport {
            line,
            seq: None,
            event_id: None,
            fate: Fate::WouldSend,
        };
        let decoded = match fate {
            Some(fate) => Err(fate),
            None => decode(&bytes, &mut report),
        };
        let mut awaiting = false;
        report.fate = match decoded {
            Err(fate) => fate,
            Ok(_) if self.options.dry_run => Fate::WouldSend,
            Ok(_) if self.summary.stopped.is_some() => Fate::NotDelivered {
                reason: "not sent: the replay stopped at an earlier record".to_owned(),
            },
            Ok(event) => {
                let outcome = self.sender.send(&[(seq_of(line), &event)], Instant::now());
                let action = outcome
                    .parts
                    .first()
                    .map_or(Action::Retry { after: None }, |p| p.action.clone());
                match action {
                    Action::Delivered => Fate::Delivered,
                    Action::AwaitingAck => {
                        awaiting = true;
                        Fate::Delivered
                    }
                    Action::DeadLetter { reason } => Fate::StillRefused { reason },
                    Action::Park { reason } => {
                        self.summary.stopped = Some(reason.clone());
                        Fate::NotDelivered { reason }
                    }
                    Action::Retry { .. } => {
                        let reason = outcome
                            .last_error
                            .unwrap_or_else(|| "the request failed".to_owned());
                        self.summary.stopped = Some(format!("{reason} (transient: try later)"));
                        Fate::NotDelivered { reason }
                    }
                }
            }
        };
        self.window.push(Pending {
            bytes,
            report,
            awaiting,
        });
        if !self.window.iter().any(|p| p.awaiting) || self.window.len() >= WINDOW {
            self.flush(tmp)?;
        }
        Ok(())
    }

    /// Settles the window's acks, then writes its kept lines and reports every record.
    fn flush(&mut self, mut tmp: Option<&mut BufWriter<File>>) -> Result<(), ReplayError> {
        self.settle_acks();
        for pending in self.window.drain(..) {
            match &pending.report.fate {
                Fate::Delivered => self.summary.delivered += 1,
                Fate::StillRefused { .. } => self.summary.still_refused += 1,
                Fate::NotDelivered { .. } => self.summary.not_delivered += 1,
                Fate::Undecodable { .. } => self.summary.undecodable += 1,
                Fate::WouldSend => {}
            }
            if pending.report.fate != Fate::Delivered
                && let Some(tmp) = tmp.as_mut()
            {
                tmp.write_all(&pending.bytes)
                    .and_then(|()| tmp.write_all(b"\n"))
                    .map_err(io_error("writing the new dead-letter file"))?;
            }
            (self.report)(&pending.report);
        }
        Ok(())
    }

    /// Polls acks until every awaiting record of the window is indexed, expired, or the wait
    /// is over; the unconfirmed ones become [`Fate::NotDelivered`].
    fn settle_acks(&mut self) {
        if !self.window.iter().any(|p| p.awaiting) {
            return;
        }
        let started = Instant::now();
        let mut last_error = None;
        loop {
            let acks = self.sender.poll_acks(Instant::now());
            if acks.last_error.is_some() {
                last_error = acks.last_error;
            }
            for pending in &mut self.window {
                let seq = seq_of(pending.report.line);
                if pending.awaiting && acks.indexed.contains(&seq) {
                    pending.awaiting = false;
                }
                if pending.awaiting && acks.expired.contains(&seq) {
                    pending.awaiting = false;
                    pending.report.fate = Fate::NotDelivered {
                        reason: "sent, but the ack passed its deadline without reading true"
                            .to_owned(),
                    };
                }
            }
            if !self.window.iter().any(|p| p.awaiting) {
                return;
            }
            if started.elapsed() >= self.options.ack_wait || self.sender.pending_acks() == 0 {
                break;
            }
            std::thread::sleep(self.options.ack_poll_interval);
        }
        let reason = match last_error {
            Some(error) => format!("sent, but the ack did not read true in time ({error})"),
            None => format!(
                "sent, but the ack did not read true within {} s",
                self.options.ack_wait.as_secs()
            ),
        };
        for pending in &mut self.window {
            if pending.awaiting {
                pending.awaiting = false;
                pending.report.fate = Fate::NotDelivered {
                    reason: reason.clone(),
                };
            }
        }
    }
}

/// The sequence number a record is sent under: its line number (unique within a replay).
fn seq_of(line: usize) -> u64 {
    u64::try_from(line).unwrap_or(u64::MAX)
}

/// Decodes a dead-letter line into its event, filling the report's seq and event id.
fn decode(bytes: &[u8], report: &mut RecordReport) -> Result<Event, Fate> {
    let undecodable = |reason: &str| Fate::Undecodable {
        reason: reason.to_owned(),
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| undecodable("not a JSON object"))?;
    report.seq = value.get("seq").and_then(serde_json::Value::as_u64);
    let event = value
        .get("event")
        .filter(|e| e.is_object())
        .ok_or_else(|| undecodable("no \"event\" object"))?;
    let line = event.to_string();
    let decoded =
        schema::decode_line(line.as_bytes(), now_ms()).map_err(|refusal| Fate::Undecodable {
            reason: format!("the event is refused by the ingest schema: {refusal}"),
        })?;
    match decoded.message {
        Message::Event(event) => {
            report.event_id = Some(event.event_id().to_string());
            Ok(event)
        }
        Message::Heartbeat(_) => Err(undecodable("a heartbeat, not an event")),
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::deliver::deadletter::DeadLetters;
        use crate::deliver::replay;
        use icsfwd_core::alert::{Alert, Event};

        let spool = tempfile::tempdir()?;
        let event = Event::from(Alert::example(1_700_000_000_000));
        DeadLetters::new(spool.path(), "soc-hec")
            .append(&[(7, &event)], "event refused: HTTP 400 code 6")?;
        let files = replay::list(spool.path())?;
        assert_eq!(files[0].destination, "soc-hec");
        assert_eq!(files[0].records, 1);
        assert_eq!(
            files[0].reasons,
            vec![("event refused: HTTP 400 code 6".to_owned(), 1)]
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
