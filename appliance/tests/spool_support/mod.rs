//! Shared fixtures of the spool tests: events, destination names, and a storage wrapper that
//! records every operation in order and can be told to fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    reason = "tests"
)]

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use icsfwd::testing::spool::lock::LockError;
use icsfwd::testing::spool::storage::{FsStorage, Storage};
use icsfwd::testing::spool::{Spool, SpoolConfig};
use icsfwd_core::alert::{Alert, Engine, Event, Notification, NotificationKind, Severity};
use icsfwd_core::destination::{DestinationId, DestinationSet};
use icsfwd_core::record::{Decoder, Record};

/// An alert with a small, fixed-size body (ids below 128 keep the frame length equal).
pub fn alert(id: u64, severity: Severity) -> Event {
    let mut alert = Alert::new(id, 1_700_000_000_000, Engine::Operational, severity);
    alert.set_title("PLC stop");
    alert.set_sensor_name("sensor-a");
    Event::from(alert)
}

/// A notification.
pub fn notification(id: u64, kind: NotificationKind) -> Event {
    Event::from(Notification::new(id, 1_700_000_000_000, kind))
}

/// Destination `i`.
pub fn dest(i: u8) -> DestinationId {
    DestinationId::new(i).unwrap()
}

/// The set of the given destinations.
pub fn set(ids: &[u8]) -> DestinationSet {
    ids.iter().map(|&i| dest(i)).collect()
}

/// `n` destination names.
pub fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("dest-{i}")).collect()
}

/// A spool on the real file system.
pub fn open(
    dir: &Path,
    config: SpoolConfig,
    n: usize,
) -> (Spool, icsfwd::testing::spool::Recovery) {
    Spool::open(FsStorage::new(), dir, config, &names(n)).unwrap()
}

/// The sequence numbers of `records`.
pub fn seqs(records: &[Record]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

/// A segment file's data without its preallocated tail (the zeros the spool reserves ahead
/// of its data, `icsfwd::testing::spool::PREALLOCATE_STEP`): everything up to the last delimiter.
pub fn segment_data(bytes: &[u8]) -> &[u8] {
    match bytes.iter().rposition(|&b| b != 0) {
        // A frame's last byte is never its delimiter: one `00` follows it.
        Some(last) => &bytes[..(last + 2).min(bytes.len())],
        None => &[],
    }
}

/// Decodes every record of `bytes`.
pub fn decode_all(bytes: &[u8]) -> Vec<Record> {
    let mut decoder = Decoder::new();
    decoder.feed(bytes).filter_map(Result::ok).collect()
}

/// One storage operation, by file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Create(String),
    Append(String, usize),
    Truncate(String, u64),
    SyncFile(String),
    SyncDir,
    Rename(String, String),
    Remove(String),
}

/// What the recording storage saw, and the faults it injects.
#[derive(Debug, Default)]
pub struct Log {
    pub ops: Vec<Op>,
    /// Per path, the length of the file when its last fsync returned.
    pub synced_len: HashMap<PathBuf, u64>,
    pub fail_sync_file: bool,
    pub fail_rename: bool,
}

/// [`FsStorage`] that records each operation (after it succeeded) into a shared [`Log`].
#[derive(Debug, Clone)]
pub struct Recording {
    pub log: Arc<Mutex<Log>>,
    inner: Arc<Mutex<FsStorage>>,
}

impl Recording {
    pub fn new() -> Recording {
        Recording {
            log: Arc::default(),
            inner: Arc::new(Mutex::new(FsStorage::new())),
        }
    }

    pub fn ops(&self) -> Vec<Op> {
        self.log.lock().unwrap().ops.clone()
    }

    fn record(&self, op: Op) {
        self.log.lock().unwrap().ops.push(op);
    }
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn injected() -> io::Error {
    io::Error::other("injected fault")
}

impl Storage for Recording {
    fn create_dir_all(&mut self, dir: &Path) -> io::Result<()> {
        self.inner.lock().unwrap().create_dir_all(dir)
    }
    fn list(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.lock().unwrap().list(dir)
    }
    fn create(&mut self, path: &Path) -> io::Result<()> {
        self.inner.lock().unwrap().create(path)?;
        self.record(Op::Create(name(path)));
        Ok(())
    }
    fn append(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.inner.lock().unwrap().append(path, data)?;
        self.record(Op::Append(name(path), data.len()));
        Ok(())
    }
    fn truncate(&mut self, path: &Path, len: u64) -> io::Result<()> {
        self.inner.lock().unwrap().truncate(path, len)?;
        self.record(Op::Truncate(name(path), len));
        Ok(())
    }
    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.lock().unwrap().read_at(path, offset, buf)
    }
    fn len(&mut self, path: &Path) -> io::Result<u64> {
        self.inner.lock().unwrap().len(path)
    }
    fn sync_file(&mut self, path: &Path) -> io::Result<()> {
        if self.log.lock().unwrap().fail_sync_file {
            return Err(injected());
        }
        self.inner.lock().unwrap().sync_file(path)?;
        let len = std::fs::metadata(path)?.len();
        let mut log = self.log.lock().unwrap();
        log.synced_len.insert(path.to_path_buf(), len);
        log.ops.push(Op::SyncFile(name(path)));
        Ok(())
    }
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        self.inner.lock().unwrap().sync_dir(dir)?;
        self.record(Op::SyncDir);
        Ok(())
    }
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        if self.log.lock().unwrap().fail_rename {
            return Err(injected());
        }
        self.inner.lock().unwrap().rename(from, to)?;
        self.record(Op::Rename(name(from), name(to)));
        Ok(())
    }
    fn remove(&mut self, path: &Path) -> io::Result<()> {
        self.inner.lock().unwrap().remove(path)?;
        self.record(Op::Remove(name(path)));
        Ok(())
    }

    fn lock_dir(&mut self, dir: &Path) -> Result<(), LockError> {
        self.inner.lock().unwrap().lock_dir(dir)
    }
}

pub mod frames;
pub mod oracle;
pub mod rng;
pub mod sim;
