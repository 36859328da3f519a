//! Recovery at open: [`Spool::open`] as the steps `docs/spool.md` lists under "Recovery at
//! open", one function each, called in that order.
//!
//! 0. [`lock_directory`]: the directory is created if missing and its lock taken, before
//!    anything in it is read: a second writer is refused here, having changed nothing;
//! 1. [`check_destinations`]: the configured names, before anything else on disk is touched;
//! 2. [`list_directory`]: segments are whatever the directory lists, unknown files are left
//!    alone;
//! 3. [`read_checkpoint`]: `checkpoint` read (a damaged one ignored, a newer version refused);
//! 4. [`resume_cursors`]: every destination at its checkpoint cursor; a checkpoint entry
//!    past the configured destinations (a removed one) keeps its position, cursor and records;
//! 5. [`read_progress_hints`]: the progress log's candidates, confirmed by the scan;
//! 6. [`Spool::scan_segments`]: every record counted, damaged frames skipped, a record that
//!    must be refused stops the open; then [`check_contested`]: a configured name in the place
//!    of another destination the spool still holds records for stops the open;
//! 7. [`Spool::cut_torn_tail`]: only the active segment's, after [`remove_interrupted_checkpoint`]
//!    (nothing is written before the scan, so a refused spool is left exactly as it was);
//!    [`Spool::cut_stale_tail`]: the frames of a recycled active segment's earlier use;
//!    [`Spool::adopt_spares`]: the spare segment files kept, beyond the bound removed;
//! 8. [`next_seq`]: numbering goes on after everything the files name;
//! 9. [`Spool::apply_progress_hints`]: the confirmed hints move their cursors on;
//! 10. [`Spool::start_at_oldest_segment`]: read hints at the oldest segment, evictions of
//!     removed segments forgotten.
//!
//! Each step returns what the next ones need, so it can be run (and tested) alone; only the
//! scan onwards work on the [`Spool`] being built.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::path::Path;

use icsfwd_core::alert::Event;
use icsfwd_core::destination::MAX_DESTINATIONS;
use icsfwd_core::record::TornTail;

use super::cursor::{self, Checkpoint, Found};
use super::progress::{self, Candidates};
use super::segment::{self, ScanOutcome};
use super::storage::Storage;
use super::{
    CheckpointState, Cursor, MAX_SEQ, OnFull, OpenError, QueuedAlert, Recovery, Resume, Segment,
    Spool, SpoolConfig, SpoolStats, is_spool_file, severity_index,
};

fn open_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> OpenError {
    let what = what.into();
    move |source| OpenError::Io { what, source }
}

impl<S: Storage> Spool<S> {
    /// Opens (creating it if needed) the spool in `dir` and recovers it; `destinations` are
    /// the configured destination names, index `i` being destination bit `i`.
    ///
    /// The spool's lock is held by `storage` from the first step on; with
    /// [`FsStorage`](super::storage::FsStorage) it is released when the spool (or the storage
    /// it hands back) is dropped.
    ///
    /// # Errors
    ///
    /// See [`OpenError`]; another process writing the spool is [`OpenError::Lock`], an
    /// unreadable record version [`OpenError::Refused`].
    pub fn open(
        mut storage: S,
        dir: &Path,
        config: SpoolConfig,
        destinations: &[String],
    ) -> Result<(Spool<S>, Recovery), OpenError> {
        lock_directory(&mut storage, dir)?;
        check_destinations(destinations)?;
        let listing = list_directory(&mut storage, dir)?;
        let (checkpoint, checkpoint_state) = read_checkpoint(&mut storage, dir, &listing.files)?;
        let positions = resume_cursors(&checkpoint, destinations);
        let mut hints = read_progress_hints(
            &mut storage,
            dir,
            &listing.files,
            &positions.names,
            &positions.cursors,
        )?;

        let mut spool = Spool::unscanned(
            storage,
            dir,
            config,
            &positions.names,
            positions.cursors,
            checkpoint.evicted.clone(),
        );
        let mut recovery = Recovery {
            segments: listing.segments.len(),
            records: 0,
            torn: Vec::new(),
            truncated_bytes: 0,
            stale_bytes: 0,
            spares: 0,
            corrupt: Vec::new(),
            checkpoint: checkpoint_state,
            destinations: Vec::new(),
            kept_destinations: Vec::new(),
            dropped_destinations: positions.dropped,
            evicted: 0,
            next_seq: 0,
            unknown_files: listing.unknown,
            progress: progress::ProgressRecovery::default(),
        };
        let scanned = spool.scan_segments(&listing.segments, &mut hints, &mut recovery)?;
        check_contested(&positions.contested, &spool.names, &spool.cursors)?;
        remove_interrupted_checkpoint(&mut spool.storage, dir, &listing.files)?;
        recovery.truncated_bytes = spool.cut_torn_tail(scanned.active_tail)?;
        recovery.stale_bytes = spool.cut_stale_tail(scanned.active_stale)?;
        recovery.spares = spool.adopt_spares(&listing.spares)?;
        spool.next_seq = next_seq(scanned.max_seq, checkpoint.next_seq, &spool.cursors)?;
        recovery.progress = spool.apply_progress_hints(hints);
        spool.start_at_oldest_segment();

        recovery.evicted = spool.evicted.len() as u64;
        recovery.next_seq = spool.next_seq;
        let mut resumes = spool.resumes();
        recovery.kept_destinations = resumes.split_off(positions.configured.min(resumes.len()));
        recovery.destinations = resumes;
        Ok((spool, recovery))
    }

    /// The spool between steps 5 and 6: cursors and evictions from the checkpoint, no segment
    /// yet, nothing on disk read beyond them.
    fn unscanned(
        storage: S,
        dir: &Path,
        config: SpoolConfig,
        destinations: &[String],
        cursors: Vec<Cursor>,
        evicted: BTreeSet<u64>,
    ) -> Spool<S> {
        Spool {
            storage,
            dir: dir.to_path_buf(),
            config,
            names: destinations.to_vec(),
            segments: BTreeMap::new(),
            spares: BTreeMap::new(),
            next_seq: 1,
            read: vec![VecDeque::new(); destinations.len()],
            cursors,
            evicted,
            alerts: Default::default(),
            live_bytes: 0,
            failed: false,
            stats: SpoolStats::default(),
            batch_bytes: 0,
            progress: progress::Log::new(dir, destinations),
            durable_checkpoint: None,
        }
    }

    /// Step 6: scans every segment of `segments` (sorted by first sequence number) in order,
    /// noting each in the spool, counting what `recovery` reports and showing every record
    /// to the progress `hints`.
    ///
    /// # Errors
    ///
    /// An I/O error, or a record that must be refused ([`OpenError::Refused`]).
    pub(super) fn scan_segments(
        &mut self,
        segments: &[(u64, String)],
        hints: &mut Candidates,
        recovery: &mut Recovery,
    ) -> Result<Scanned, OpenError> {
        let mut scanned = Scanned {
            max_seq: 0,
            active_tail: None,
            active_stale: None,
        };
        for (i, (first, name)) in segments.iter().enumerate() {
            let (outcome, max_seq) = self.scan_segment(*first, hints)?;
            scanned.max_seq = scanned.max_seq.max(max_seq);
            recovery.records += outcome.records;
            self.stats.corrupt += outcome.skipped.len() as u64;
            recovery
                .corrupt
                .extend(outcome.skipped.iter().map(|s| (name.clone(), *s)));
            if let Some(torn) = outcome.torn {
                self.stats.torn += 1;
                recovery.torn.push((name.clone(), torn));
                if i + 1 == segments.len() {
                    scanned.active_tail = Some(torn);
                }
            }
            if i + 1 == segments.len() {
                scanned.active_stale = outcome.stale;
            }
            // An empty segment still says where numbering goes on.
            scanned.max_seq = scanned.max_seq.max(first.saturating_sub(1));
        }
        Ok(scanned)
    }

    /// Scans the segment `first` whole and notes it (length, evicted bytes, last record per
    /// destination, backlogs, queued alerts, live bytes). Returns the scan's outcome and the
    /// highest sequence number read.
    fn scan_segment(
        &mut self,
        first: u64,
        hints: &mut Candidates,
    ) -> Result<(ScanOutcome, u64), OpenError> {
        let path = self.dir.join(segment::file_name(first));
        let len = self
            .storage
            .len(&path)
            .map_err(open_err(format!("reading {}", path.display())))?;
        let mut seg = Segment::empty();
        let mut max_seq = 0;
        let Spool {
            storage,
            cursors,
            evicted,
            alerts,
            config,
            ..
        } = self;
        let track_alerts = config.on_full == OnFull::EvictLowerSeverity;
        let check_hints = !hints.is_empty();
        let outcome = segment::scan(storage, &path, 0, len, |record, span| {
            let bytes = span.end - span.start;
            max_seq = max_seq.max(record.seq);
            let is_evicted = evicted.contains(&record.seq);
            if check_hints {
                hints.observe(&record, is_evicted);
            }
            if is_evicted {
                seg.evicted_bytes += bytes;
                return true;
            }
            seg.note(record.seq, record.destinations);
            let mut pending = false;
            for d in record.destinations.iter() {
                if let Some(cursor) = cursors.get_mut(usize::from(d.get()))
                    && record.seq > cursor.acked
                {
                    cursor.backlog += 1;
                    pending = true;
                }
            }
            if let (true, true, Event::Alert(alert)) = (track_alerts, pending, &record.event)
                && let Some(queue) = alerts.get_mut(severity_index(alert.severity))
            {
                queue.push_back(QueuedAlert {
                    seq: record.seq,
                    bytes,
                    destinations: record.destinations,
                    segment: first,
                });
            }
            true
        })
        .map_err(open_err(format!("reading {}", path.display())))?;
        if let Some(refused) = outcome.refused {
            return Err(OpenError::Refused {
                segment: path,
                offset: refused.offset,
                error: refused.error,
            });
        }
        // A preallocated tail (zeros after the data) is not data: appends go on before it.
        seg.len = outcome.data_len;
        seg.allocated = len;
        // A recycled file's earlier frames may reach up to its end.
        if outcome.stale.is_some() {
            seg.stale_end = len;
        }
        self.live_bytes += seg.len.saturating_sub(seg.evicted_bytes);
        self.segments.insert(first, seg);
        Ok((outcome, max_seq))
    }

    /// Step 7: cuts `tail`, the torn tail of the active (last) segment, off its file
    /// (truncate, then fsync) so that the next frame appended cannot merge with it. Returns
    /// the bytes cut. A torn tail of an older segment is never passed here: nothing is
    /// appended there, so it is only reported.
    ///
    /// # Errors
    ///
    /// The cut failed (the open fails: appending after the fragment would merge with it).
    pub(super) fn cut_torn_tail(&mut self, tail: Option<TornTail>) -> Result<u64, OpenError> {
        let (Some(torn), Some((&first, seg))) = (tail, self.segments.last_key_value()) else {
            return Ok(0);
        };
        let (len, evicted_bytes) = (seg.len, seg.evicted_bytes);
        let path = self.dir.join(segment::file_name(first));
        // Appends go on here: cut the fragment so it cannot merge with the next record
        // (docs/record-format.md, the torn-tail rule).
        self.storage
            .truncate(&path, torn.start)
            .and_then(|()| self.storage.sync_file(&path))
            .map_err(open_err(format!(
                "cutting the torn tail of {}",
                path.display()
            )))?;
        if let Some(seg) = self.segments.get_mut(&first) {
            seg.len = torn.start;
            seg.allocated = torn.start;
        }
        self.live_bytes = self
            .live_bytes
            .saturating_sub(len.saturating_sub(evicted_bytes))
            + torn.start.saturating_sub(evicted_bytes);
        Ok(len - torn.start)
    }

    /// Step 7, after the torn tail: cuts the frames of a recycled active segment's earlier
    /// use off its file, from `stale` (where its data ends) on (truncate, then fsync), so
    /// that what an unanswered batch may have left among them can never be read as data
    /// later. Returns the bytes cut. Not damage: a clean stop leaves them too.
    ///
    /// # Errors
    ///
    /// The cut failed.
    pub(super) fn cut_stale_tail(&mut self, stale: Option<u64>) -> Result<u64, OpenError> {
        let (Some(stale), Some((&first, _))) = (stale, self.segments.last_key_value()) else {
            return Ok(0);
        };
        let path = self.dir.join(segment::file_name(first));
        let len = self
            .storage
            .len(&path)
            .and_then(|len| {
                self.storage.truncate(&path, stale)?;
                self.storage.sync_file(&path)?;
                Ok(len)
            })
            .map_err(open_err(format!(
                "cutting the earlier frames of the recycled segment {}",
                path.display()
            )))?;
        if let Some(seg) = self.segments.get_mut(&first) {
            seg.allocated = stale;
            seg.stale_end = 0;
        }
        Ok(len.saturating_sub(stale))
    }

    /// Step 7, last: keeps the spare segment files of `spares` (by the sequence number in
    /// their names) for the next new segments and removes those beyond [`super::MAX_SPARES`]
    /// or the quota (then fsyncs the directory). Returns how many are kept.
    ///
    /// # Errors
    ///
    /// A spare cannot be read or removed.
    pub(super) fn adopt_spares(&mut self, spares: &[(u64, String)]) -> Result<usize, OpenError> {
        for (seq, name) in spares {
            let path = self.dir.join(name);
            let len = self
                .storage
                .len(&path)
                .map_err(open_err(format!("reading {}", path.display())))?;
            // What it holds is not known without reading it: frames may reach its end.
            self.spares.insert(
                *seq,
                super::Spare {
                    len,
                    stale_end: len,
                },
            );
        }
        let removed = self
            .trim_spares()
            .map_err(open_err("removing a spare segment file"))?;
        if removed > 0 {
            self.storage
                .sync_dir(&self.dir)
                .map_err(open_err("making spare removals durable"))?;
        }
        Ok(self.spares.len())
    }

    /// Step 9: moves each destination whose progress hint the scan confirmed on to it (a
    /// kill since the last checkpoint), then rewrites the progress log compactly with the
    /// hints applied. Returns what was found, applied and ignored.
    pub(super) fn apply_progress_hints(&mut self, hints: Candidates) -> progress::ProgressRecovery {
        let (resume, found) = hints.resolve(&self.names, self.next_seq);
        for (hint, covered) in &resume {
            if let Some(c) = self.cursors.get_mut(usize::from(hint.index)) {
                c.acked = hint.seq;
                c.backlog = c.backlog.saturating_sub(*covered);
            }
        }
        let applied: Vec<progress::Hint> = resume.iter().map(|(hint, _)| *hint).collect();
        self.progress.start(&mut self.storage, &applied);
        found
    }

    /// Step 10: every destination reads from the oldest segment on; evictions of records
    /// below it (their segments are gone) are forgotten.
    pub(super) fn start_at_oldest_segment(&mut self) {
        let first_segment = self.segments.keys().next().copied().unwrap_or(0);
        for cursor in &mut self.cursors {
            cursor.hint = (first_segment, 0);
        }
        self.evicted = self.evicted.split_off(&first_segment);
    }

    /// Where each configured destination resumes, for [`Recovery::destinations`].
    fn resumes(&self) -> Vec<Resume> {
        self.names
            .iter()
            .zip(&self.cursors)
            .map(|(name, c)| Resume {
                name: name.clone(),
                acked: c.acked,
                backlog: c.backlog,
            })
            .collect()
    }
}

/// What the scan of the segments (step 6) hands to the steps after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scanned {
    /// The highest sequence number the segments account for: the last record's, or one below
    /// a segment's name.
    pub(super) max_seq: u64,
    /// The torn tail of the active (last) segment, for step 7.
    pub(super) active_tail: Option<TornTail>,
    /// Where the frames of the active segment's earlier use begin (a recycled file), for
    /// step 7.
    pub(super) active_stale: Option<u64>,
}

/// The spool directory's files by kind (step 2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Listing {
    /// Every regular file in it.
    pub(super) files: Vec<String>,
    /// The segment files, by first sequence number, in sequence order.
    pub(super) segments: Vec<(u64, String)>,
    /// The spare segment files, by the sequence number in their names.
    pub(super) spares: Vec<(u64, String)>,
    /// The files the spool does not write (reported, never touched).
    pub(super) unknown: Vec<String>,
}

/// Step 0: creates `dir` if missing (mode 0750) and takes the spool's exclusive lock in it
/// ([`Storage::lock_dir`]), before anything in it is read or written.
///
/// # Errors
///
/// [`OpenError::Lock`] (another icsfwd writes this spool; nothing was read or changed), or
/// the directory cannot be created.
pub(super) fn lock_directory(storage: &mut dyn Storage, dir: &Path) -> Result<(), OpenError> {
    storage
        .create_dir_all(dir)
        .map_err(open_err(format!("creating {}", dir.display())))?;
    storage.lock_dir(dir).map_err(OpenError::Lock)
}

/// Step 1: refuses more than [`MAX_DESTINATIONS`] names, and a name that is empty or has
/// control characters, before anything on disk is touched.
///
/// # Errors
///
/// [`OpenError::TooManyDestinations`], [`OpenError::BadDestinationName`].
pub(super) fn check_destinations(destinations: &[String]) -> Result<(), OpenError> {
    if destinations.len() > MAX_DESTINATIONS {
        return Err(OpenError::TooManyDestinations(destinations.len()));
    }
    if let Some(bad) = destinations
        .iter()
        .find(|n| n.is_empty() || n.chars().any(char::is_control))
    {
        return Err(OpenError::BadDestinationName(bad.clone()));
    }
    Ok(())
}

/// Step 2: lists `dir` (step 0 created it). The segments are whatever it lists (a
/// segment removed by hand or by a checkpoint is simply absent); files the spool does not
/// write are reported and left alone.
///
/// # Errors
///
/// The directory cannot be created or listed.
pub(super) fn list_directory(storage: &mut dyn Storage, dir: &Path) -> Result<Listing, OpenError> {
    let files = storage
        .list(dir)
        .map_err(open_err(format!("listing {}", dir.display())))?;
    let mut segments: Vec<(u64, String)> = files
        .iter()
        .filter_map(|f| segment::parse_file_name(f).map(|seq| (seq, f.clone())))
        .collect();
    segments.sort();
    let mut spares: Vec<(u64, String)> = files
        .iter()
        .filter_map(|f| segment::parse_spare_file_name(f).map(|seq| (seq, f.clone())))
        .collect();
    spares.sort();
    let unknown = files
        .iter()
        .filter(|f| !is_spool_file(f))
        .cloned()
        .collect();
    Ok(Listing {
        files,
        segments,
        spares,
        unknown,
    })
}

/// Step 3: reads `checkpoint`. A missing or damaged one gives the empty checkpoint (every
/// destination from the oldest record), said in the state. An interrupted `checkpoint.tmp` is
/// left for [`remove_interrupted_checkpoint`], after the scan.
///
/// # Errors
///
/// An I/O error, or a genuine checkpoint of a newer format version
/// ([`OpenError::CheckpointRefused`]; nothing is changed then).
pub(super) fn read_checkpoint(
    storage: &mut dyn Storage,
    dir: &Path,
    files: &[String],
) -> Result<(Checkpoint, CheckpointState), OpenError> {
    let found = cursor::read(storage, dir, files).map_err(open_err("reading the checkpoint"))?;
    Ok(match found {
        Found::Missing => (Checkpoint::default(), CheckpointState::Missing),
        Found::Valid(c) => (c, CheckpointState::Valid),
        Found::Damaged(e) if e.must_refuse() => return Err(OpenError::CheckpointRefused(e)),
        Found::Damaged(e) => (
            Checkpoint::default(),
            CheckpointState::Damaged(e.to_string()),
        ),
    })
}

/// Before step 7, the first write of recovery: removes an interrupted `checkpoint.tmp` (if
/// `files` lists it; a crash during a checkpoint). It waits until the scan has accepted every
/// record, so that a spool refused for a record of another version is left exactly as it was.
///
/// # Errors
///
/// The removal failed.
pub(super) fn remove_interrupted_checkpoint(
    storage: &mut dyn Storage,
    dir: &Path,
    files: &[String],
) -> Result<(), OpenError> {
    if files.iter().any(|f| f == cursor::TEMP) {
        storage
            .remove(&dir.join(cursor::TEMP))
            .map_err(open_err("removing an interrupted checkpoint"))?;
    }
    Ok(())
}

/// What step 4 found: the spool's positions and the checks left for after the scan.
#[derive(Debug, Clone)]
pub(super) struct Positions {
    /// The name of each position: the configured destinations, then the kept ones.
    pub(super) names: Vec<String>,
    /// A cursor per position, at its checkpoint entry (0 for a new destination).
    pub(super) cursors: Vec<Cursor>,
    /// How many of the positions are configured (the rest are kept).
    pub(super) configured: usize,
    /// Configured positions the checkpoint knows under another name: the index and that
    /// name. The configured name takes such a position only when the scan finds nothing left
    /// for the old one ([`check_contested`]).
    pub(super) contested: Vec<(u8, String)>,
    /// Checkpoint entries dropped (a gap in the positions; see
    /// [`Recovery::dropped_destinations`]).
    pub(super) dropped: Vec<String>,
}

/// Step 4: a cursor per configured destination at its checkpoint entry, then one per
/// checkpoint entry past the configured ones (a removed destination: its position, name,
/// cursor and records are kept, as a reload keeps them). A configured position the checkpoint
/// knows under another name keeps the old cursor and is checked after the scan.
#[must_use]
pub(super) fn resume_cursors(checkpoint: &Checkpoint, destinations: &[String]) -> Positions {
    let start = Cursor {
        acked: 0,
        hint: (0, 0),
        backlog: 0,
        acked_records: 0,
    };
    let mut positions = Positions {
        names: destinations.to_vec(),
        cursors: vec![start; destinations.len()],
        configured: destinations.len(),
        contested: Vec::new(),
        dropped: Vec::new(),
    };
    let mut entries: Vec<&cursor::CursorEntry> = checkpoint.destinations.iter().collect();
    entries.sort_by_key(|e| e.index);
    for entry in entries {
        let index = usize::from(entry.index);
        if let (Some(name), Some(cursor)) =
            (positions.names.get(index), positions.cursors.get_mut(index))
        {
            cursor.acked = entry.acked;
            if *name != entry.name {
                positions.contested.push((entry.index, entry.name.clone()));
            }
        } else if index == positions.names.len() && index < MAX_DESTINATIONS {
            positions.names.push(entry.name.clone());
            positions.cursors.push(Cursor {
                acked: entry.acked,
                ..start
            });
        } else {
            positions.dropped.push(entry.name.clone());
        }
    }
    positions
}

/// After step 6: a configured position the checkpoint knows under another name is refused
/// while the scan found records left for that one (they would go to the wrong server);
/// nothing has been written yet. Otherwise the configured name takes it over.
///
/// # Errors
///
/// [`OpenError::DestinationMismatch`].
pub(super) fn check_contested(
    contested: &[(u8, String)],
    names: &[String],
    cursors: &[Cursor],
) -> Result<(), OpenError> {
    for (index, old) in contested {
        let i = usize::from(*index);
        let backlog = cursors.get(i).map_or(0, |c| c.backlog);
        if backlog > 0 {
            return Err(OpenError::DestinationMismatch {
                index: *index,
                checkpoint: old.clone(),
                config: names.get(i).cloned().unwrap_or_default(),
                backlog,
            });
        }
    }
    Ok(())
}

/// Step 5: the progress log's hints beyond each destination's checkpoint cursor, to be
/// confirmed against the records by the scan.
///
/// # Errors
///
/// The progress log cannot be read.
pub(super) fn read_progress_hints(
    storage: &mut dyn Storage,
    dir: &Path,
    files: &[String],
    destinations: &[String],
    cursors: &[Cursor],
) -> Result<Candidates, OpenError> {
    let floors: Vec<u64> = cursors.iter().map(|c| c.acked).collect();
    Candidates::read(storage, dir, files, destinations, &floors)
        .map_err(open_err("reading the progress log"))
}

/// Step 8: the next sequence number, the maximum of one past what the segments account for
/// (`max_seq`), the checkpoint's `next-seq` and one past every cursor, and at least 1.
///
/// # Errors
///
/// [`OpenError::SequenceExhausted`] beyond [`MAX_SEQ`] (hostile or damaged files; nothing
/// changed).
pub(super) fn next_seq(
    max_seq: u64,
    checkpoint_next_seq: u64,
    cursors: &[Cursor],
) -> Result<u64, OpenError> {
    let max_acked = cursors.iter().map(|c| c.acked).max().unwrap_or(0);
    let next_seq = max_seq
        .saturating_add(1)
        .max(checkpoint_next_seq)
        .max(max_acked.saturating_add(1))
        .max(1);
    if next_seq > MAX_SEQ {
        return Err(OpenError::SequenceExhausted { next_seq });
    }
    Ok(next_seq)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use std::path::PathBuf;

    use icsfwd_core::alert::Alert;
    use icsfwd_core::destination::{DestinationId, DestinationSet};

    use super::*;
    use crate::spool::cursor::CursorEntry;
    use crate::spool::lock;
    use crate::spool::storage::FsStorage;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn cursor_at(acked: u64) -> Cursor {
        Cursor {
            acked,
            hint: (0, 0),
            backlog: 0,
            acked_records: 0,
        }
    }

    /// A spool in `dir` for destination "splunk" holding `segments` segments of one record
    /// each (every batch starts a new segment); returns their paths, oldest first.
    fn spool_with_segments(dir: &Path, segments: u64) -> Vec<PathBuf> {
        let config = SpoolConfig {
            segment_bytes: 1,
            ..SpoolConfig::default()
        };
        let (mut spool, _) =
            Spool::open(FsStorage::new(), dir, config, &names(&["splunk"])).unwrap();
        let to = DestinationSet::EMPTY.with(DestinationId::new(0).unwrap());
        for i in 0..segments {
            let event = Event::from(Alert::example(1_700_000_000_000 + i));
            assert_eq!(spool.append_batch(&[(event, to)]).unwrap(), [Ok(i + 1)]);
        }
        (1..=segments)
            .map(|first| dir.join(segment::file_name(first)))
            .collect()
    }

    /// Appends a frame cut short (no `00` delimiter) to `path`.
    fn tear(path: &Path, bytes: &[u8]) {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        file.write_all(bytes).unwrap();
    }

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    /// Steps 1 to 6 on `dir`, as `open` runs them, with `storage`.
    fn scanned_spool<S: Storage>(mut storage: S, dir: &Path) -> (Spool<S>, Recovery, Scanned) {
        let destinations = names(&["splunk"]);
        let listing = list_directory(&mut storage, dir).unwrap();
        let (checkpoint, state) = read_checkpoint(&mut storage, dir, &listing.files).unwrap();
        let positions = resume_cursors(&checkpoint, &destinations);
        let (cursors, dropped) = (positions.cursors, positions.dropped);
        let mut hints =
            read_progress_hints(&mut storage, dir, &listing.files, &destinations, &cursors)
                .unwrap();
        let mut spool = Spool::unscanned(
            storage,
            dir,
            SpoolConfig::default(),
            &destinations,
            cursors,
            checkpoint.evicted.clone(),
        );
        let mut recovery = Recovery {
            segments: listing.segments.len(),
            records: 0,
            torn: Vec::new(),
            truncated_bytes: 0,
            stale_bytes: 0,
            spares: 0,
            corrupt: Vec::new(),
            checkpoint: state,
            destinations: Vec::new(),
            kept_destinations: Vec::new(),
            dropped_destinations: dropped,
            evicted: 0,
            next_seq: 0,
            unknown_files: listing.unknown,
            progress: progress::ProgressRecovery::default(),
        };
        let scanned = spool
            .scan_segments(&listing.segments, &mut hints, &mut recovery)
            .unwrap();
        (spool, recovery, scanned)
    }

    /// `FsStorage` whose `truncate` fails: a disk that refuses the torn-tail cut.
    #[derive(Debug, Default)]
    struct TruncateFails(FsStorage);

    impl Storage for TruncateFails {
        fn create_dir_all(&mut self, dir: &Path) -> io::Result<()> {
            self.0.create_dir_all(dir)
        }
        fn list(&mut self, dir: &Path) -> io::Result<Vec<String>> {
            self.0.list(dir)
        }
        fn create(&mut self, path: &Path) -> io::Result<()> {
            self.0.create(path)
        }
        fn append(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
            self.0.append(path, data)
        }
        fn truncate(&mut self, _path: &Path, _len: u64) -> io::Result<()> {
            Err(io::Error::other("injected truncate failure"))
        }
        fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
            self.0.read_at(path, offset, buf)
        }
        fn len(&mut self, path: &Path) -> io::Result<u64> {
            self.0.len(path)
        }
        fn sync_file(&mut self, path: &Path) -> io::Result<()> {
            self.0.sync_file(path)
        }
        fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
            self.0.sync_dir(dir)
        }
        fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
            self.0.rename(from, to)
        }
        fn remove(&mut self, path: &Path) -> io::Result<()> {
            self.0.remove(path)
        }
        fn lock_dir(&mut self, dir: &Path) -> Result<(), lock::LockError> {
            self.0.lock_dir(dir)
        }
    }

    #[test]
    fn bad_destination_names_are_refused_before_the_directory_is_created() {
        assert!(check_destinations(&names(&["splunk", "hec-cloud"])).is_ok());
        let too_many: Vec<String> = (0..=MAX_DESTINATIONS).map(|i| format!("d{i}")).collect();
        assert!(matches!(
            check_destinations(&too_many),
            Err(OpenError::TooManyDestinations(n)) if n == MAX_DESTINATIONS + 1
        ));
        for bad in ["", "soc\nsplunk"] {
            assert!(matches!(
                check_destinations(&names(&["splunk", bad])),
                Err(OpenError::BadDestinationName(name)) if name == bad
            ));
        }
        // Through `open`: step 1 runs after the lock (step 0) and before anything in the
        // directory is listed or written: it holds only the lock file.
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("spool");
        let opened = Spool::open(
            FsStorage::new(),
            &dir,
            SpoolConfig::default(),
            &names(&[""]),
        );
        assert!(matches!(opened, Err(OpenError::BadDestinationName(_))));
        let files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, [lock::FILE]);
    }

    #[test]
    fn a_second_open_of_a_spool_in_use_is_refused_before_anything_is_read_or_written() {
        let dir = tempfile::tempdir().unwrap();
        let paths = spool_with_segments(dir.path(), 1);
        let (first, _) = Spool::open(
            FsStorage::new(),
            dir.path(),
            SpoolConfig::default(),
            &names(&["splunk"]),
        )
        .unwrap();
        // A torn tail the second open would cut (step 7) if it got that far.
        tear(&paths[0], &[0x33; 9]);
        let before = file_len(&paths[0]);
        let files = |dir: &Path| -> Vec<String> {
            let mut files: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            files.sort();
            files
        };
        let listed = files(dir.path());

        let error = Spool::open(
            FsStorage::new(),
            dir.path(),
            SpoolConfig::default(),
            &names(&["splunk"]),
        )
        .unwrap_err();
        match &error {
            OpenError::Lock(lock::LockError::Held { pid, .. }) => {
                assert_eq!(*pid, Some(std::process::id()));
            }
            other => panic!("expected the lock to be held, got {other}"),
        }
        assert_eq!(file_len(&paths[0]), before, "the torn tail was cut");
        assert_eq!(files(dir.path()), listed);
        // Released with the spool: the next open takes it (and recovers).
        drop(first);
        let (_, recovery) = Spool::open(
            FsStorage::new(),
            dir.path(),
            SpoolConfig::default(),
            &names(&["splunk"]),
        )
        .unwrap();
        assert_eq!(recovery.truncated_bytes, 9);
    }

    #[test]
    fn the_listing_sorts_segments_by_sequence_and_reports_unknown_files() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("new").join("spool");
        let mut storage = FsStorage::new();
        lock_directory(&mut storage, &dir).unwrap();
        assert_eq!(
            list_directory(&mut storage, &dir).unwrap(),
            Listing {
                files: vec![lock::FILE.to_owned()],
                ..Listing::default()
            },
            "a missing directory is created, holding only the lock"
        );
        for name in [
            segment::file_name(40),
            segment::file_name(7),
            cursor::FILE.to_owned(),
            progress::TEMP.to_owned(),
            "notes.txt".to_owned(),
            "7.seg".to_owned(),
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let listing = list_directory(&mut storage, &dir).unwrap();
        assert_eq!(
            listing.segments,
            [(7, segment::file_name(7)), (40, segment::file_name(40))]
        );
        let mut unknown = listing.unknown.clone();
        unknown.sort();
        assert_eq!(unknown, ["7.seg", "notes.txt"]);
        assert_eq!(listing.files.len(), 7);
    }

    #[test]
    fn an_interrupted_checkpoint_is_removed_and_the_previous_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = FsStorage::new();
        let previous = Checkpoint {
            next_seq: 12,
            destinations: vec![CursorEntry {
                index: 0,
                acked: 9,
                name: "splunk".to_owned(),
            }],
            evicted: BTreeSet::from([10]),
        };
        std::fs::write(dir.path().join(cursor::FILE), previous.encode()).unwrap();
        std::fs::write(
            dir.path().join(cursor::TEMP),
            b"icsfwd-spool-checkpoint 1\nnext-",
        )
        .unwrap();
        let listing = list_directory(&mut storage, dir.path()).unwrap();
        let (checkpoint, state) =
            read_checkpoint(&mut storage, dir.path(), &listing.files).unwrap();
        assert_eq!((checkpoint, state), (previous, CheckpointState::Valid));
        assert!(
            dir.path().join(cursor::TEMP).exists(),
            "left alone until the scan accepted every record"
        );
        remove_interrupted_checkpoint(&mut storage, dir.path(), &listing.files).unwrap();
        assert!(!dir.path().join(cursor::TEMP).exists());

        std::fs::write(
            dir.path().join(cursor::FILE),
            b"icsfwd-spool-checkpoint 1\n",
        )
        .unwrap();
        let listing = list_directory(&mut storage, dir.path()).unwrap();
        let (checkpoint, state) =
            read_checkpoint(&mut storage, dir.path(), &listing.files).unwrap();
        assert_eq!(
            checkpoint,
            Checkpoint::default(),
            "damaged: from the oldest record"
        );
        assert!(matches!(state, CheckpointState::Damaged(_)), "{state:?}");
    }

    fn entry(index: u8, acked: u64, name: &str) -> CursorEntry {
        CursorEntry {
            index,
            acked,
            name: name.to_owned(),
        }
    }

    #[test]
    fn cursors_resume_under_the_same_name_and_a_removed_destination_keeps_its_position() {
        let checkpoint = Checkpoint {
            next_seq: 30,
            destinations: vec![
                entry(0, 20, "splunk"),
                entry(1, 22, "hec-cloud"),
                entry(2, 25, "removed"),
                entry(4, 26, "gap"),
            ],
            evicted: BTreeSet::new(),
        };
        let positions = resume_cursors(&checkpoint, &names(&["splunk"]));
        assert_eq!(positions.names, ["splunk", "hec-cloud", "removed"]);
        let acked: Vec<u64> = positions.cursors.iter().map(|c| c.acked).collect();
        assert_eq!(acked, [20, 22, 25], "kept positions keep their cursors");
        assert_eq!(positions.configured, 1);
        assert!(positions.contested.is_empty());
        assert_eq!(positions.dropped, ["gap"], "only a gap is dropped");

        let renamed = resume_cursors(&checkpoint, &names(&["splunk", "syslog", "removed", "x"]));
        assert_eq!(renamed.contested, [(1, "hec-cloud".to_owned())]);
        assert_eq!(renamed.cursors[1].acked, 22, "checked after the scan");
        assert_eq!(
            renamed.cursors[3].acked, 0,
            "a destination new at the end starts at the oldest record"
        );
    }

    #[test]
    fn a_contested_position_is_refused_only_while_records_are_left_for_the_old_name() {
        let names = names(&["splunk", "syslog"]);
        let contested = [(1, "hec-cloud".to_owned())];
        let mut cursors = vec![cursor_at(5), cursor_at(5)];
        assert!(check_contested(&contested, &names, &cursors).is_ok());
        cursors[1].backlog = 3;
        let refused = check_contested(&contested, &names, &cursors).unwrap_err();
        assert!(
            matches!(
                refused,
                OpenError::DestinationMismatch { index: 1, backlog: 3, ref checkpoint, ref config }
                    if checkpoint == "hec-cloud" && config == "syslog"
            ),
            "{refused}"
        );
        let text = refused.to_string();
        assert!(text.contains("release-destination hec-cloud"), "{text}");
        assert!(text.contains("nothing in the spool was changed"), "{text}");
    }

    #[test]
    fn only_the_active_segments_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let paths = spool_with_segments(dir.path(), 2);
        let whole: Vec<u64> = paths.iter().map(|p| file_len(p)).collect();
        for path in &paths {
            tear(path, b"\x07torn");
        }

        let (mut spool, recovery, scanned) = scanned_spool(FsStorage::new(), dir.path());
        assert_eq!(recovery.records, 2);
        assert_eq!(recovery.torn.len(), 2, "both torn tails are reported");
        let active_tail = scanned.active_tail.unwrap();
        assert_eq!(active_tail.start, whole[1]);
        assert_eq!(scanned.max_seq, 2);
        assert_eq!(
            file_len(&paths[1]),
            whole[1] + 5,
            "the scan itself cuts nothing"
        );

        assert_eq!(spool.cut_torn_tail(scanned.active_tail).unwrap(), 5);
        assert_eq!(file_len(&paths[1]), whole[1], "the active segment is cut");
        assert_eq!(
            file_len(&paths[0]),
            whole[0] + 5,
            "an older one is left alone"
        );
        assert_eq!(spool.segments.get(&2).map(|s| s.len), Some(whole[1]));
        assert_eq!(spool.live_bytes, whole[1] + whole[0] + 5);
        assert_eq!(
            spool.cut_torn_tail(None).unwrap(),
            0,
            "no tail, nothing cut"
        );
    }

    #[test]
    fn a_failed_torn_tail_cut_fails_the_open_and_keeps_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let paths = spool_with_segments(dir.path(), 1);
        tear(&paths[0], b"\x07torn");
        let torn_len = file_len(&paths[0]);

        let (mut spool, _, scanned) = scanned_spool(TruncateFails::default(), dir.path());
        let error = spool.cut_torn_tail(scanned.active_tail).unwrap_err();
        assert!(
            error.to_string().contains("cutting the torn tail of"),
            "{error}"
        );
        assert_eq!(file_len(&paths[0]), torn_len);
        let opened = Spool::open(
            TruncateFails::default(),
            dir.path(),
            SpoolConfig::default(),
            &names(&["splunk"]),
        );
        assert!(matches!(opened, Err(OpenError::Io { .. })));
    }

    #[test]
    fn numbering_goes_on_after_the_segments_the_checkpoint_and_every_cursor() {
        assert_eq!(
            next_seq(0, 0, &[]).unwrap(),
            1,
            "an empty spool starts at 1"
        );
        assert_eq!(next_seq(41, 7, &[cursor_at(3)]).unwrap(), 42);
        assert_eq!(next_seq(41, 90, &[cursor_at(3)]).unwrap(), 90);
        assert_eq!(
            next_seq(41, 7, &[cursor_at(3), cursor_at(99)]).unwrap(),
            100
        );
        assert_eq!(next_seq(MAX_SEQ - 1, 0, &[]).unwrap(), MAX_SEQ);
        for beyond in [
            next_seq(MAX_SEQ, 0, &[]),
            next_seq(0, MAX_SEQ + 1, &[]),
            next_seq(0, 0, &[cursor_at(u64::MAX)]),
        ] {
            assert!(matches!(
                beyond,
                Err(OpenError::SequenceExhausted { next_seq }) if next_seq > MAX_SEQ
            ));
        }
    }

    #[test]
    fn evictions_of_removed_segments_are_forgotten_and_reads_start_at_the_oldest_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::unscanned(
            FsStorage::new(),
            dir.path(),
            SpoolConfig::default(),
            &names(&["splunk", "hec-cloud"]),
            vec![cursor_at(8), cursor_at(3)],
            BTreeSet::from([2, 4, 5, 9]),
        );
        spool.segments.insert(5, Segment::empty());
        spool.segments.insert(11, Segment::empty());
        spool.start_at_oldest_segment();
        assert_eq!(spool.evicted, BTreeSet::from([5, 9]));
        let hints: Vec<(u64, u64)> = spool.cursors.iter().map(|c| c.hint).collect();
        assert_eq!(hints, [(5, 0), (5, 0)]);
    }
}
