//! The checkpoint file: every destination's cursor and the evicted records, written
//! atomically.
//!
//! One small text file, `checkpoint`, readable by an operator:
//!
//! ```text
//! icsfwd-spool-checkpoint 1
//! next-seq 1043
//! destination 0 1040 splunk-soc
//! destination 1 998 hec-cloud
//! evicted 17
//! crc32c 8a3f1c2e
//! ```
//!
//! `destination <index> <acked> <name>`: every record up to sequence number `acked` that
//! names destination `index` has been delivered to it (the name is the rest of the line).
//! `evicted <seq>`: a record evicted by the quota, never to be delivered. `next-seq`: the next
//! sequence number the spool would give. The last line is the CRC-32C (as in
//! `docs/record-format.md`) of all bytes before it, in hex.
//!
//! Guarantee: [`write()`] replaces the file atomically and durably — write `checkpoint.tmp`,
//! fsync it, rename it over `checkpoint`, fsync the directory — so after a crash at any point
//! the file is either the previous checkpoint or the new one, never a mix. A leftover
//! `checkpoint.tmp` is an interrupted write and is ignored (the spool removes it).
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::Path;

use icsfwd_core::record::crc;

use super::storage::Storage;

/// The checkpoint's file name.
pub(crate) const FILE: &str = "checkpoint";
/// The name the checkpoint is written under before the rename.
pub const TEMP: &str = "checkpoint.tmp";
/// The largest checkpoint file read (bounded input): 64 MiB, room for millions of evictions.
pub(crate) const MAX_LEN: u64 = 64 << 20;
/// The checkpoint format version this release writes and reads (the number in its header
/// line); the only one so far.
pub const VERSION: u64 = 1;
const HEADER: &str = "icsfwd-spool-checkpoint 1";
const HEADER_PREFIX: &str = "icsfwd-spool-checkpoint ";

/// One destination's cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorEntry {
    /// The destination's index (its bit in the records' destination sets).
    pub index: u8,
    /// Every record up to this sequence number is delivered to it (0: none).
    pub acked: u64,
    /// The destination's configured name.
    pub name: String,
}

/// The content of the checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// The next sequence number the spool would give.
    pub next_seq: u64,
    /// The cursors, by index.
    pub destinations: Vec<CursorEntry>,
    /// Sequence numbers of evicted records still in a segment.
    pub evicted: BTreeSet<u64>,
}

/// Why a checkpoint file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The CRC line is missing or does not match: the file is damaged.
    Crc,
    /// Line `line` (1-based) is not what the format allows.
    Syntax {
        /// The line number.
        line: usize,
    },
    /// A genuine checkpoint (valid CRC) of a format version this reader does not know: it is
    /// refused, never overwritten (a newer icsfwd wrote it).
    UnknownVersion {
        /// The header line found.
        header: String,
    },
}

impl CheckpointError {
    /// Whether the file is a genuine checkpoint this reader cannot interpret (refuse to
    /// start), rather than damage (ignore it and redeliver).
    pub(crate) fn must_refuse(&self) -> bool {
        matches!(self, CheckpointError::UnknownVersion { .. })
    }

    /// The format version an unknown checkpoint names in its header, when it is a number.
    pub(crate) fn found_version(&self) -> Option<u64> {
        match self {
            CheckpointError::UnknownVersion { header } => header
                .strip_prefix(HEADER_PREFIX)
                .and_then(|version| version.parse().ok()),
            CheckpointError::Crc | CheckpointError::Syntax { .. } => None,
        }
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Crc => f.write_str("checkpoint CRC missing or wrong (file damaged)"),
            CheckpointError::Syntax { line } => write!(f, "checkpoint line {line} is malformed"),
            CheckpointError::UnknownVersion { header } => write!(
                f,
                "checkpoint header \"{}\" names a format this release does not read (it reads \
                 \"{HEADER}\")",
                header.escape_default()
            ),
        }
    }
}

impl std::error::Error for CheckpointError {}

impl Checkpoint {
    /// The file content.
    pub fn encode(&self) -> Vec<u8> {
        let mut text = format!("{HEADER}\nnext-seq {}\n", self.next_seq);
        for entry in &self.destinations {
            text.push_str(&format!(
                "destination {} {} {}\n",
                entry.index, entry.acked, entry.name
            ));
        }
        for seq in &self.evicted {
            text.push_str(&format!("evicted {seq}\n"));
        }
        let crc = crc::checksum(text.as_bytes());
        text.push_str(&format!("crc32c {crc:08x}\n"));
        text.into_bytes()
    }

    /// Parses file content.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Crc`] for damage, [`CheckpointError::Syntax`] for a malformed line
    /// under a valid CRC, [`CheckpointError::UnknownVersion`] for a valid checkpoint of
    /// another format version.
    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let body_end = bytes
            .strip_suffix(b"\n")
            .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
            .map(|i| i + 1)
            .ok_or(CheckpointError::Crc)?;
        let (body, crc_line) = bytes.split_at(body_end);
        let stored = std::str::from_utf8(crc_line)
            .ok()
            .and_then(|l| l.trim_end().strip_prefix("crc32c "))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .ok_or(CheckpointError::Crc)?;
        if stored != crc::checksum(body) {
            return Err(CheckpointError::Crc);
        }
        let text = std::str::from_utf8(body).map_err(|_| CheckpointError::Syntax { line: 1 })?;
        let mut checkpoint = Checkpoint::default();
        for (i, line) in text.lines().enumerate() {
            let bad = CheckpointError::Syntax { line: i + 1 };
            if i == 0 {
                if line != HEADER {
                    if line.starts_with(HEADER_PREFIX) {
                        return Err(CheckpointError::UnknownVersion {
                            header: line.to_owned(),
                        });
                    }
                    return Err(bad);
                }
                continue;
            }
            let mut words = line.splitn(4, ' ');
            match (words.next(), words.next(), words.next(), words.next()) {
                (Some("next-seq"), Some(seq), None, None) => {
                    checkpoint.next_seq = seq.parse().map_err(|_| bad)?;
                }
                (Some("destination"), Some(index), Some(acked), Some(name)) => {
                    checkpoint.destinations.push(CursorEntry {
                        index: index.parse().map_err(|_| bad.clone())?,
                        acked: acked.parse().map_err(|_| bad)?,
                        name: name.to_owned(),
                    });
                }
                (Some("evicted"), Some(seq), None, None) => {
                    checkpoint.evicted.insert(seq.parse().map_err(|_| bad)?);
                }
                _ => return Err(bad),
            }
        }
        Ok(checkpoint)
    }
}

/// Writes `checkpoint` durably and atomically into `dir`: temp file, fsync, rename, fsync of
/// the directory. When this returns `Ok`, the new checkpoint survives a power cut.
///
/// # Errors
///
/// The first I/O error; the previous checkpoint is then still in place (or the new one, if
/// only the final directory fsync failed — the caller must not rely on either).
pub(crate) fn write(
    storage: &mut dyn Storage,
    dir: &Path,
    checkpoint: &Checkpoint,
) -> io::Result<()> {
    let temp = dir.join(TEMP);
    storage.create(&temp)?;
    storage.append(&temp, &checkpoint.encode())?;
    storage.sync_file(&temp)?;
    storage.rename(&temp, &dir.join(FILE))?;
    storage.sync_dir(dir)
}

/// What reading the checkpoint of a directory found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// No checkpoint: a new spool, or one never checkpointed.
    Missing,
    /// A valid checkpoint.
    Valid(Checkpoint),
    /// A damaged checkpoint.
    Damaged(CheckpointError),
}

/// Reads the checkpoint of `dir`, if any.
///
/// # Errors
///
/// An I/O error other than "not found", or a file over [`MAX_LEN`].
pub(crate) fn read(storage: &mut dyn Storage, dir: &Path, names: &[String]) -> io::Result<Found> {
    if !names.iter().any(|n| n == FILE) {
        return Ok(Found::Missing);
    }
    let bytes = super::storage::read_all(storage, &dir.join(FILE), MAX_LEN)?;
    Ok(match Checkpoint::decode(&bytes) {
        Ok(checkpoint) => Found::Valid(checkpoint),
        Err(error) => Found::Damaged(error),
    })
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::spool::cursor::{Checkpoint, CursorEntry};

        let checkpoint = Checkpoint {
            next_seq: 8,
            destinations: vec![CursorEntry {
                index: 0,
                acked: 5,
                name: "splunk".into(),
            }],
            evicted: [6].into(),
        };
        let bytes = checkpoint.encode();
        assert_eq!(Checkpoint::decode(&bytes), Ok(checkpoint));
    }
}
