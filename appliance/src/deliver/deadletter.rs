//! The dead-letter file of a destination: records its server refused for good.
//!
//! What it is: `<spool dir>/deadletter/<destination>.jsonl`, one JSON object per line:
//!
//! ```text
//! {"seq":42,"destination":"soc-hec","reason":"event refused: HTTP 400 code 6 ...",
//!  "time":"2026-11-29T09:00:00.000Z","time_ms":1795942800000,"event":{"type":"alert",...}}
//! ```
//!
//! (one line in the file). `event` is the event as an ingest schema line
//! ([`encode_line`]), so a dead-lettered record can be replayed with `icsfwd send` after the
//! cause is fixed (`jq -c .event <file> | icsfwd send -`).
//!
//! What it guarantees: [`DeadLetters::append`] returns only after the lines are written and
//! `fsync`ed (and, when it created the file, the directory too): the worker acknowledges the
//! records in the spool only after that, so a dead-lettered record is never lost. An append
//! that fails leaves the records in the spool (the worker retries).
//!
//! The directory is created with mode 0750 and every file in it (the dead-letter files, their
//! lock files) with mode 0640, whatever the umask
//! ([`crate::spool::storage::open_creating`]).
//!
//! Appends and the rewrite by `icsfwd deadletter replay` ([`replay`](super::replay)) are
//! serialised by an advisory lock (`flock`) on `<destination>.lock` beside the file
//! ([`lock`]): an append holds it while it opens, writes and syncs, and opens the file anew
//! each time, so it always appends to the file that is at the path now (a replay replaces it
//! by a rename), never to a replaced one.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use icsfwd_core::alert::Event;
use icsfwd_core::time::Civil;

use crate::clock::now_ms;
use crate::ingest::schema::encode_line;
use crate::spool::storage::{create_dir_all, open_creating};

/// The directory, under the spool directory, holding the dead-letter files.
pub(crate) const DIR: &str = "deadletter";

/// The dead-letter file of one destination.
#[derive(Debug)]
pub struct DeadLetters {
    dir: PathBuf,
    path: PathBuf,
    name: String,
}

/// Takes the append lock of destination `name`'s dead-letter file in `dir` (the dead-letter
/// directory, which must exist), waiting for it; released when the returned file is dropped.
/// Held by [`DeadLetters::append`] while it writes and by a replay while it rewrites.
///
/// # Errors
///
/// The lock file cannot be created or locked.
pub(crate) fn lock(dir: &Path, name: &str) -> io::Result<File> {
    let file = open_creating(
        &dir.join(format!("{name}.lock")),
        OpenOptions::new().create(true).truncate(false).write(true),
    )?;
    file.lock()?;
    Ok(file)
}

impl DeadLetters {
    /// The dead-letter file of destination `name` under `spool_dir` (not opened yet).
    #[must_use]
    pub fn new(spool_dir: &Path, name: &str) -> Self {
        let dir = spool_dir.join(DIR);
        let path = dir.join(format!("{name}.jsonl"));
        Self {
            dir,
            path,
            name: name.to_owned(),
        }
    }

    /// The file's path.
    #[must_use]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line per record, then fsyncs.
    ///
    /// # Errors
    ///
    /// Creating the directory or file, writing or syncing failed; the caller must keep the
    /// records (not acknowledge them).
    pub fn append(&mut self, records: &[(u64, &Event)], reason: &str) -> io::Result<()> {
        let time_ms = now_ms();
        let time = Civil::from_epoch_ms(time_ms).rfc3339().to_string();
        let mut text = String::new();
        for (seq, event) in records {
            let event: serde_json::Value = serde_json::from_str(&encode_line(event))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let line = serde_json::json!({
                "seq": seq,
                "destination": self.name,
                "reason": reason,
                "time": time,
                "time_ms": time_ms,
                "event": event,
            });
            text.push_str(&line.to_string());
            text.push('\n');
        }
        self.prepare_dir()?;
        let _guard = lock(&self.dir, &self.name)?;
        let existed = self.path.exists();
        let mut file = open_creating(
            &self.path,
            OpenOptions::new().create(true).read(true).append(true),
        )?;
        if !existed {
            // The new name must survive a power cut before a record relies on it.
            File::open(&self.dir)?.sync_all()?;
        }
        // A torn last line (a crash or a full disk during an earlier append) is ended first,
        // so the new lines never merge with it; a failed write is cut off again.
        let len = file.metadata()?.len();
        let mut last = [b'\n'];
        if len > 0 {
            std::os::unix::fs::FileExt::read_exact_at(&file, &mut last, len - 1)?;
        }
        if last[0] != b'\n' {
            text.insert(0, '\n');
        }
        if let Err(e) = file.write_all(text.as_bytes()) {
            drop(file.set_len(len));
            return Err(e);
        }
        file.sync_data()
    }

    fn prepare_dir(&self) -> io::Result<()> {
        if !self.dir.is_dir() {
            create_dir_all(&self.dir)?;
            if let Some(spool_dir) = self.dir.parent() {
                File::open(spool_dir)?.sync_all()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use icsfwd_core::alert::{Alert, Event};

    /// J1 (seed 1795951130449327473 and others): a full disk or a kill tore the last line;
    /// the next append merged with it and that record's line was unreadable.
    #[test]
    fn an_append_after_a_torn_last_line_starts_on_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = DeadLetters::new(dir.path(), "soc-hec");
        let event = Event::from(Alert::example(1_700_000_000_000));
        file.append(&[(1, &event)], "refused").unwrap();
        let path = dir.path().join("deadletter").join("soc-hec.jsonl");
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        file.append(&[(2, &event)], "refused").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let last = text.lines().last().unwrap();
        let value: serde_json::Value = serde_json::from_str(last).unwrap();
        assert_eq!(value["seq"], 2);
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::deliver::deadletter::DeadLetters;
        use icsfwd_core::alert::{Alert, Event};

        let dir = tempfile::tempdir()?;
        let mut file = DeadLetters::new(dir.path(), "soc-hec");
        let event = Event::from(Alert::example(1_700_000_000_000));
        file.append(&[(7, &event)], "event refused: HTTP 400 code 6")?;
        let text = std::fs::read_to_string(dir.path().join("deadletter/soc-hec.jsonl"))?;
        let line: serde_json::Value = serde_json::from_str(text.trim_end())?;
        assert_eq!(line["seq"], 7);
        assert_eq!(line["event"]["type"], "alert");
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
