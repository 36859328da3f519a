//! An in-memory, fault-injecting [`Storage`] for the reliability suite (test support, not
//! product code).
//!
//! The model is a page cache over a disk, one directory:
//! - every file (inode) has its *visible* bytes (what reads return) and its *durable* bytes
//!   (what survives a power cut); writes change the visible bytes and are queued as pending
//!   data operations until `sync_file` makes them durable;
//! - the directory has its visible entries and its durable entries; `create`, `rename` and
//!   `remove` change the visible ones and are queued until `sync_dir`.
//!
//! Preallocation ([`Disk::preallocation`], off by default): `preallocate` extends a file with
//! zeros as a pending length change (like `fallocate(2)`: durable with the file's next sync,
//! reordered with its writes in a crash state); with it off, it reserves nothing (the trait's
//! default). `write_at` at a file's end is an append (logged as one), inside it a positioned
//! write (a preallocated tail, or one on a recovered image).
//!
//! Faults: a power cut after `cut_after_ops` mutating operations, or after `fuel` written
//! bytes (the cut write keeps its first bytes, sequential-storage "fuel" style); an I/O error
//! (`EIO`) or a short write on a chosen operation; a space limit (`ENOSPC`, with a short
//! write of what still fits). After a power cut every later operation fails.
//!
//! Crash states: [`Disk::all_written`] keeps every write issued (the byte prefix, for torn
//! writes); [`Disk::crash_states`] keeps the durable state plus every subset of the pending
//! operations (page-cache loss, reordering), exhaustively up to a bound.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use icsfwd::testing::spool::lock::LockError;
use icsfwd::testing::spool::storage::Storage;

/// A queued data operation of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataOp {
    /// Bytes written at an offset.
    Write(u64, Vec<u8>),
    /// The length set (truncate, or create of an existing file).
    SetLen(u64),
}

/// A queued directory operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirOp {
    /// A name now points to an inode.
    Link(String, usize),
    /// A rename.
    Rename(String, String),
    /// A removal.
    Remove(String),
}

/// One file.
#[derive(Debug, Clone, Default)]
pub struct Inode {
    /// What reads return.
    pub data: Vec<u8>,
    /// What survives a power cut.
    pub durable: Vec<u8>,
    /// Data operations since the last successful sync.
    pub pending: Vec<DataOp>,
}

/// What kind of fault to inject at a given mutating operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The operation fails with EIO and changes nothing (an fsync failure keeps the dirty
    /// data pending: it may or may not reach the disk).
    Eio,
    /// An append writes only its first half, then fails with EIO.
    ShortWrite,
}

/// One mutating operation, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// create(name)
    Create(String),
    /// append(name, len)
    Append(String, usize),
    /// truncate(name, len)
    Truncate(String, u64),
    /// sync_file(name)
    SyncFile(String),
    /// sync_dir
    SyncDir,
    /// rename(from, to)
    Rename(String, String),
    /// remove(name)
    Remove(String),
    /// write_at(name, offset, len)
    WriteAt(String, u64, usize),
    /// preallocate(name, len)
    Preallocate(String, u64),
}

/// The whole simulated disk.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    /// All inodes ever created.
    pub inodes: Vec<Inode>,
    /// Visible directory.
    pub dir: BTreeMap<String, usize>,
    /// Durable directory.
    pub durable_dir: BTreeMap<String, usize>,
    /// Directory operations since the last `sync_dir`.
    pub dir_pending: Vec<DirOp>,
    /// Mutating operations done (attempted), in order.
    pub ops: Vec<Op>,
    /// Power cut: once this many mutating operations were attempted, the next one and all
    /// later ones fail.
    pub cut_after_ops: Option<usize>,
    /// Power cut inside a write: bytes that may still be written.
    pub fuel: Option<u64>,
    /// The power is off.
    pub crashed: bool,
    /// Faults by mutating-operation index.
    pub faults: BTreeMap<usize, Fault>,
    /// Fail every `sync_file` from now on with EIO.
    pub fail_all_syncs: bool,
    /// The most bytes all files may hold together (ENOSPC beyond).
    pub space: Option<u64>,
    /// Bytes written in total (for fuel accounting and figures).
    pub written: u64,
    /// `preallocate` works as on a file system with `fallocate(2)` (else it reserves nothing).
    pub preallocation: bool,
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn eio(what: &str) -> io::Error {
    io::Error::other(format!("injected EIO: {what}"))
}

fn power_off() -> io::Error {
    io::Error::other("power cut (simulated)")
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such file"))
}

fn apply_data(data: &mut Vec<u8>, op: &DataOp) {
    match op {
        DataOp::Write(offset, bytes) => {
            let offset = usize::try_from(*offset).unwrap();
            if data.len() < offset + bytes.len() {
                data.resize(offset + bytes.len(), 0);
            }
            data[offset..offset + bytes.len()].copy_from_slice(bytes);
        }
        DataOp::SetLen(len) => data.resize(usize::try_from(*len).unwrap(), 0),
    }
}

fn apply_dir(dir: &mut BTreeMap<String, usize>, op: &DirOp) {
    match op {
        DirOp::Link(name, inode) => {
            dir.insert(name.clone(), *inode);
        }
        DirOp::Rename(from, to) => {
            if let Some(inode) = dir.remove(from) {
                dir.insert(to.clone(), inode);
            }
        }
        DirOp::Remove(name) => {
            dir.remove(name);
        }
    }
}

/// A pending operation, for the crash-state enumeration.
#[derive(Debug, Clone, Copy)]
enum Pending {
    Data(usize, usize),
    Dir(usize),
}

impl Disk {
    /// An empty disk without faults.
    pub fn new() -> Disk {
        Disk::default()
    }

    /// A disk holding exactly `files` (durable), without faults.
    pub fn with_files(files: &BTreeMap<String, Vec<u8>>) -> Disk {
        let mut disk = Disk::new();
        for (name, bytes) in files {
            disk.inodes.push(Inode {
                data: bytes.clone(),
                durable: bytes.clone(),
                pending: Vec::new(),
            });
            disk.dir.insert(name.clone(), disk.inodes.len() - 1);
        }
        disk.durable_dir = disk.dir.clone();
        disk
    }

    /// The visible files (name → bytes).
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.dir
            .iter()
            .map(|(name, &i)| (name.clone(), self.inodes[i].data.clone()))
            .collect()
    }

    /// The state after a power cut that wrote every issued operation (the prefix of all
    /// bytes written, a cut write included).
    pub fn all_written(&self) -> BTreeMap<String, Vec<u8>> {
        self.files()
    }

    /// The state after a power cut that lost every pending operation.
    pub fn durable_only(&self) -> BTreeMap<String, Vec<u8>> {
        self.durable_dir
            .iter()
            .map(|(name, &i)| (name.clone(), self.inodes[i].durable.clone()))
            .collect()
    }

    /// The number of pending operations (data and directory).
    pub fn pending_ops(&self) -> usize {
        self.dir_pending.len() + self.inodes.iter().map(|i| i.pending.len()).sum::<usize>()
    }

    fn pending_list(&self) -> Vec<Pending> {
        let mut list: Vec<Pending> = (0..self.dir_pending.len()).map(Pending::Dir).collect();
        for (i, inode) in self.inodes.iter().enumerate() {
            list.extend((0..inode.pending.len()).map(|j| Pending::Data(i, j)));
        }
        list
    }

    /// The state that keeps the durable state plus the pending operations whose bit is set
    /// in `mask` (operations applied in issue order; a skipped write leaves a hole of zeros
    /// if a later kept one extends the file).
    pub fn crash_state(&self, mask: u64) -> BTreeMap<String, Vec<u8>> {
        let list = self.pending_list();
        let keep = |k: usize| k < 64 && mask & (1 << k) != 0;
        let mut dir = self.durable_dir.clone();
        let mut contents: Vec<Vec<u8>> = self.inodes.iter().map(|i| i.durable.clone()).collect();
        for (k, p) in list.iter().enumerate() {
            if !keep(k) {
                continue;
            }
            match *p {
                Pending::Dir(j) => apply_dir(&mut dir, &self.dir_pending[j]),
                Pending::Data(i, j) => apply_data(&mut contents[i], &self.inodes[i].pending[j]),
            }
        }
        dir.iter()
            .map(|(name, &i)| (name.clone(), contents[i].clone()))
            .collect()
    }

    /// Crash states: every subset of the pending operations when there are at most
    /// `exhaustive_up_to` of them, else `samples` random subsets (from `seed`) plus the
    /// all/none cases. Returns (mask, state).
    pub fn crash_states(
        &self,
        exhaustive_up_to: usize,
        samples: usize,
        seed: u64,
    ) -> Vec<(u64, BTreeMap<String, Vec<u8>>)> {
        let n = self.pending_list().len();
        if n <= exhaustive_up_to.min(20) {
            (0..1u64 << n).map(|m| (m, self.crash_state(m))).collect()
        } else {
            let mut rng = super::rng::Rng::new(seed);
            let all = if n >= 64 { u64::MAX } else { (1 << n) - 1 };
            let mut out = vec![(0, self.crash_state(0)), (all, self.crash_state(all))];
            for _ in 0..samples {
                let m = rng.next() & all;
                out.push((m, self.crash_state(m)));
            }
            out
        }
    }

    fn used(&self) -> u64 {
        self.dir
            .values()
            .map(|&i| self.inodes[i].data.len() as u64)
            .sum()
    }

    /// Starts a mutating operation: logs it, applies the power cut and the faults.
    fn begin(&mut self, op: Op) -> io::Result<Option<Fault>> {
        if self.crashed {
            return Err(power_off());
        }
        let index = self.ops.len();
        self.ops.push(op);
        if self.cut_after_ops.is_some_and(|n| index >= n) {
            self.crashed = true;
            return Err(power_off());
        }
        Ok(self.faults.get(&index).copied())
    }

    fn inode(&self, name: &str) -> io::Result<usize> {
        self.dir.get(name).copied().ok_or_else(|| not_found(name))
    }

    fn write(&mut self, inode: usize, offset: u64, bytes: &[u8]) {
        self.written += bytes.len() as u64;
        let op = DataOp::Write(offset, bytes.to_vec());
        let node = &mut self.inodes[inode];
        apply_data(&mut node.data, &op);
        node.pending.push(op);
    }
}

/// The storage handle: shares its [`Disk`] so a test can inspect it after the spool is gone.
#[derive(Debug, Clone, Default)]
pub struct SimStorage {
    /// The disk.
    pub disk: Arc<Mutex<Disk>>,
}

impl SimStorage {
    /// A storage over `disk`.
    pub fn new(disk: Disk) -> SimStorage {
        SimStorage {
            disk: Arc::new(Mutex::new(disk)),
        }
    }

    /// A storage over a disk holding exactly `files`.
    pub fn with_files(files: &BTreeMap<String, Vec<u8>>) -> SimStorage {
        SimStorage::new(Disk::with_files(files))
    }

    /// Runs `f` on the disk.
    pub fn with<T>(&self, f: impl FnOnce(&mut Disk) -> T) -> T {
        f(&mut self.disk.lock().unwrap())
    }
}

impl Storage for SimStorage {
    fn create_dir_all(&mut self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn list(&mut self, _dir: &Path) -> io::Result<Vec<String>> {
        let disk = self.disk.lock().unwrap();
        if disk.crashed {
            return Err(power_off());
        }
        Ok(disk.dir.keys().cloned().collect())
    }

    fn create(&mut self, path: &Path) -> io::Result<()> {
        let name = name_of(path);
        let mut disk = self.disk.lock().unwrap();
        if disk.begin(Op::Create(name.clone()))?.is_some() {
            return Err(eio("create"));
        }
        if let Some(&i) = disk.dir.get(&name) {
            let node = &mut disk.inodes[i];
            node.data.clear();
            node.pending.push(DataOp::SetLen(0));
        } else {
            disk.inodes.push(Inode::default());
            let i = disk.inodes.len() - 1;
            disk.dir.insert(name.clone(), i);
            disk.dir_pending.push(DirOp::Link(name, i));
        }
        Ok(())
    }

    fn append(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
        let name = name_of(path);
        let mut disk = self.disk.lock().unwrap();
        let fault = disk.begin(Op::Append(name.clone(), data.len()))?;
        let i = disk.inode(&name)?;
        let offset = disk.inodes[i].data.len() as u64;
        disk.faulty_write(i, offset, data, fault)
    }

    fn truncate(&mut self, path: &Path, len: u64) -> io::Result<()> {
        let name = name_of(path);
        let mut disk = self.disk.lock().unwrap();
        if disk.begin(Op::Truncate(name.clone(), len))?.is_some() {
            return Err(eio("truncate"));
        }
        let i = disk.inode(&name)?;
        let op = DataOp::SetLen(len);
        apply_data(&mut disk.inodes[i].data, &op);
        disk.inodes[i].pending.push(op);
        Ok(())
    }

    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let name = name_of(path);
        let disk = self.disk.lock().unwrap();
        let i = disk.inode(&name)?;
        let data = &disk.inodes[i].data;
        let start = usize::try_from(offset).unwrap().min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn len(&mut self, path: &Path) -> io::Result<u64> {
        let name = name_of(path);
        let disk = self.disk.lock().unwrap();
        let i = disk.inode(&name)?;
        Ok(disk.inodes[i].data.len() as u64)
    }

    fn sync_file(&mut self, path: &Path) -> io::Result<()> {
        let name = name_of(path);
        let mut disk = self.disk.lock().unwrap();
        let fault = disk.begin(Op::SyncFile(name.clone()))?;
        if fault.is_some() || disk.fail_all_syncs {
            return Err(eio("fsync"));
        }
        let i = disk.inode(&name)?;
        let node = &mut disk.inodes[i];
        node.durable = node.data.clone();
        node.pending.clear();
        Ok(())
    }

    fn sync_dir(&mut self, _dir: &Path) -> io::Result<()> {
        let mut disk = self.disk.lock().unwrap();
        if disk.begin(Op::SyncDir)?.is_some() || disk.fail_all_syncs {
            return Err(eio("fsync of the directory"));
        }
        disk.durable_dir = disk.dir.clone();
        disk.dir_pending.clear();
        Ok(())
    }

    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        let (from, to) = (name_of(from), name_of(to));
        let mut disk = self.disk.lock().unwrap();
        if disk.begin(Op::Rename(from.clone(), to.clone()))?.is_some() {
            return Err(eio("rename"));
        }
        let i = disk.inode(&from)?;
        disk.dir.remove(&from);
        disk.dir.insert(to.clone(), i);
        disk.dir_pending.push(DirOp::Rename(from, to));
        Ok(())
    }

    fn remove(&mut self, path: &Path) -> io::Result<()> {
        let name = name_of(path);
        let mut disk = self.disk.lock().unwrap();
        if disk.begin(Op::Remove(name.clone()))?.is_some() {
            return Err(eio("remove"));
        }
        disk.inode(&name)?;
        disk.dir.remove(&name);
        disk.dir_pending.push(DirOp::Remove(name));
        Ok(())
    }

    /// The simulation is one process on its own disk: there is no other writer to exclude.
    fn lock_dir(&mut self, _dir: &Path) -> Result<(), LockError> {
        Ok(())
    }

    fn write_at(&mut self, path: &Path, offset: u64, data: &[u8]) -> io::Result<()> {
        // At the end of the file it is an append (and logged as one, as without
        // preallocation); inside it (a preallocated tail, also one found on a recovered image)
        // a positioned write.
        if self.len(path)? == offset {
            return self.append(path, data);
        }
        let name = name_of(path);
        let mut disk = self.disk.lock().unwrap();
        let fault = disk.begin(Op::WriteAt(name.clone(), offset, data.len()))?;
        let i = disk.inode(&name)?;
        disk.faulty_write(i, offset, data, fault)
    }

    /// `write_at` writes inside a file as a positioned write: spare segment files are reused.
    fn overwrites(&self) -> bool {
        true
    }

    fn preallocate(&mut self, path: &Path, len: u64) -> io::Result<()> {
        if !self.with(|disk| disk.preallocation) {
            return Ok(());
        }
        let name = name_of(path);
        let mut disk = self.disk.lock().unwrap();
        if disk.begin(Op::Preallocate(name.clone(), len))?.is_some() {
            return Err(eio("fallocate"));
        }
        let i = disk.inode(&name)?;
        if (disk.inodes[i].data.len() as u64) < len {
            let op = DataOp::SetLen(len);
            apply_data(&mut disk.inodes[i].data, &op);
            disk.inodes[i].pending.push(op);
        }
        Ok(())
    }
}

impl Disk {
    /// A write of `data` at `offset` of inode `i`, with the fault of its operation, the
    /// space limit and the fuel applied.
    fn faulty_write(
        &mut self,
        i: usize,
        offset: u64,
        data: &[u8],
        fault: Option<Fault>,
    ) -> io::Result<()> {
        let disk = self;
        match fault {
            Some(Fault::Eio) => return Err(eio("write")),
            Some(Fault::ShortWrite) => {
                let half = data.len() / 2;
                disk.write(i, offset, &data[..half]);
                return Err(eio("short write"));
            }
            None => {}
        }
        if let Some(space) = disk.space {
            // Bytes inside the file (preallocated) take no new space.
            let inside = (disk.inodes[i].data.len() as u64).saturating_sub(offset);
            let free = space.saturating_sub(disk.used()) + inside;
            if (data.len() as u64) > free {
                let fits = usize::try_from(free).unwrap();
                disk.write(i, offset, &data[..fits]);
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
        }
        if let Some(fuel) = disk.fuel {
            if (data.len() as u64) > fuel {
                let cut = usize::try_from(fuel).unwrap();
                disk.write(i, offset, &data[..cut]);
                disk.fuel = Some(0);
                disk.crashed = true;
                return Err(power_off());
            }
            disk.fuel = Some(fuel - data.len() as u64);
        }
        disk.write(i, offset, data);
        Ok(())
    }
}
