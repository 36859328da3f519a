//! One writer per spool: the exclusive lock on a spool directory.
//!
//! What it is: an advisory `flock(2)` on the file `lock` in the spool directory (mode 0640,
//! created on the first open and never removed), taken with `LOCK_EX | LOCK_NB` by
//! [`SpoolLock::acquire`] before anything else in the directory is read or written — step 0 of
//! the recovery in `docs/spool.md` — and held until the [`SpoolLock`] is dropped, which for
//! `icsfwd run` is the end of the process. The holder writes its process id into the file, as
//! text, so that the refusal can name it.
//!
//! What it guarantees:
//! - While one process holds it, every other [`SpoolLock::acquire`] of the same directory fails
//!   with [`LockError::Held`], naming the holder's pid as the file says it; nothing else in
//!   the directory is touched by the refused process (it opens `lock`, creating it if it is
//!   missing, and reads it).
//! - The kernel releases the lock when the holder's file is closed, also when the process is
//!   killed (`kill -9`, OOM): a stale `lock` file (a pid of a process long gone) never keeps
//!   the spool locked. The file is never removed, because removing a lock file races with a
//!   process that opened it just before.
//! - A second [`SpoolLock::acquire`] of the same directory by the same process fails too:
//!   `flock` locks belong to the open file, not to the process.
//! - [`holder`] tells a reader (`icsfwd spool verify`) whether a writer runs, without creating
//!   or changing anything and without ever blocking the writer.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read as _};
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::storage::{FILE_MODE, set_mode};

/// The lock file's name in the spool directory.
pub const FILE: &str = "lock";

/// How long [`SpoolLock::acquire`] retries a lock held by someone else before it refuses.
/// A running service holds it for good, so the retries only ride out a reader's probe
/// ([`holder`] holds a shared lock for microseconds); half a second is still "at once" for
/// the operator of a second instance.
const RETRY_FOR: Duration = Duration::from_millis(500);

/// The most bytes of the lock file read for the holder's pid.
const MAX_PID_TEXT: u64 = 32;

/// The exclusive lock on one spool directory, released when dropped.
#[derive(Debug)]
pub(crate) struct SpoolLock {
    dir: PathBuf,
    /// Open for the whole life of the lock: closing it (the drop) releases the `flock`.
    _file: File,
}

/// Why [`SpoolLock::acquire`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum LockError {
    /// Another process (or another open of this process) holds the lock.
    Held {
        /// The spool directory.
        dir: PathBuf,
        /// The holder's process id as the lock file says it (`None`: the file does not hold
        /// a pid, e.g. the holder is just writing it).
        pid: Option<u32>,
    },
    /// The lock file could not be created, opened, locked or written.
    Io {
        /// The lock file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Held { dir, pid } => {
                write!(f, "icsfwd is already running on spool {}", dir.display())?;
                if let Some(pid) = pid {
                    write!(f, " (pid {pid})")?;
                }
                f.write_str(
                    "; stop it, or give this instance its own spool.dir (two writers on one \
                     spool would number their records alike)",
                )
            }
            LockError::Io { path, source } => write!(
                f,
                "cannot lock the spool with {}: {source} (the directory must be writable by \
                 the user icsfwd runs as)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LockError::Held { .. } => None,
            LockError::Io { source, .. } => Some(source),
        }
    }
}

impl SpoolLock {
    /// Takes the exclusive lock of the spool directory `dir` (which must exist), creating the
    /// lock file (mode 0640) if it is missing, and writes this process's id into it.
    ///
    /// # Errors
    ///
    /// [`LockError::Held`] when another holder has it (after retrying for half a second, see
    /// the module docs); [`LockError::Io`] when the file cannot be opened, locked or written.
    pub(crate) fn acquire(dir: &Path) -> Result<SpoolLock, LockError> {
        let path = dir.join(FILE);
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let file = open_or_create(&path).map_err(io_err)?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if start.elapsed() < RETRY_FOR => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Held {
                        dir: dir.to_path_buf(),
                        pid: read_pid(&path),
                    });
                }
                Err(TryLockError::Error(source)) => return Err(io_err(source)),
            }
        }
        let pid = format!("{}\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.write_all_at(pid.as_bytes(), 0))
            .map_err(io_err)?;
        Ok(SpoolLock {
            dir: dir.to_path_buf(),
            _file: file,
        })
    }

    /// The locked spool directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether a process holds the lock of the spool in `dir`: `None` when none does (or the
/// directory has no lock file: no icsfwd of this version ran on it), `Some(pid)` when one
/// does, with its pid if the file holds one. Creates and changes nothing; it holds a shared
/// lock for the moment of the test only, which a starting writer rides out (see the module
/// docs).
///
/// # Errors
///
/// The lock file exists but cannot be opened (e.g. no read permission).
pub(crate) fn holder(dir: &Path) -> io::Result<Option<Option<u32>>> {
    let path = dir.join(FILE);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(None),
        Err(TryLockError::WouldBlock) => Ok(Some(read_pid(&path))),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Opens the lock file for writing, creating it with mode 0640 (exactly, whatever the umask)
/// if it is missing.
fn open_or_create(path: &Path) -> io::Result<File> {
    let created = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path);
    match created {
        Ok(file) => {
            set_mode(&file, FILE_MODE)?;
            Ok(file)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            OpenOptions::new().read(true).write(true).open(path)
        }
        Err(e) => Err(e),
    }
}

/// The pid written in the lock file at `path`, if it holds one.
fn read_pid(path: &Path) -> Option<u32> {
    let mut text = String::new();
    File::open(path)
        .ok()?
        .take(MAX_PID_TEXT)
        .read_to_string(&mut text)
        .ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn a_second_acquire_is_refused_naming_the_holder_and_the_release_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = SpoolLock::acquire(dir.path()).unwrap();
        let started = Instant::now();
        let error = SpoolLock::acquire(dir.path()).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        let text = error.to_string();
        assert!(
            text.contains(&format!(
                "icsfwd is already running on spool {} (pid {})",
                dir.path().display(),
                std::process::id()
            )) && text.contains("give this instance its own spool.dir"),
            "{text}"
        );
        drop(first);
        SpoolLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_stale_pid_in_the_file_does_not_lock_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "4194999999 and more text\n").unwrap();
        let _lock = SpoolLock::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(text, format!("{}\n", std::process::id()));
    }

    #[test]
    fn the_lock_file_is_created_0640_and_a_reader_probe_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(holder(dir.path()).unwrap(), None);
        assert!(
            !dir.path().join(FILE).exists(),
            "the probe created the file"
        );
        let _lock = SpoolLock::acquire(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o640);
    }

    #[test]
    fn a_probe_of_a_free_lock_does_not_keep_it() {
        let dir = tempfile::tempdir().unwrap();
        drop(SpoolLock::acquire(dir.path()).unwrap());
        assert_eq!(holder(dir.path()).unwrap(), None);
        // The probe released its shared lock: a writer gets it without waiting.
        let started = Instant::now();
        let _lock = SpoolLock::acquire(dir.path()).unwrap();
        assert!(started.elapsed() < RETRY_FOR);
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::spool::lock::{self, LockError, SpoolLock};

        let dir = tempfile::tempdir()?;
        let held = SpoolLock::acquire(dir.path())?;
        match SpoolLock::acquire(dir.path()) {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected the lock to be held, got {other:?}"),
        }
        assert_eq!(lock::holder(dir.path())?, Some(Some(std::process::id())));
        drop(held);
        assert_eq!(lock::holder(dir.path())?, None);
        let _again = SpoolLock::acquire(dir.path())?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
