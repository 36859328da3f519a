//! Every file operation the spool performs, behind one trait.
//!
//! The spool never touches `std::fs` itself: it calls a [`Storage`]. [`FsStorage`] is the real
//! one (std::fs, `fsync` of files and directories); tests and the fault-injection suite
//! (power cut, EIO, ENOSPC) wrap or replace it. Paths are the spool directory joined with a
//! file name; the trait makes no other assumption about them.
//!
//! Guarantee of [`FsStorage`]: `sync_file` returns only after `fsync(2)` of the file returned
//! success, `sync_data` only after `fdatasync(2)` did, `sync_dir` only after `fsync(2)` of the
//! directory did; nothing is buffered in user space (every `append` is one positioned
//! `write_all` on the file, every `write_at` one positioned write of the blocks it touches,
//! below). Every file it creates has mode 0640
//! ([`FILE_MODE`]) and every directory 0750 ([`DIR_MODE`]), exactly, whatever the umask of the
//! process (so a spool written by `icsfwd run` under a lax or a strict umask reads the same for
//! the group `icsfwd`); [`open_creating`] and [`create_dir_all`] give the dead-letter files the
//! same modes. [`FsStorage`]'s [`Storage::lock_dir`] holds the spool's [`SpoolLock`] for as long as the
//! storage lives.
//!
//! Preallocation: [`Storage::preallocate`] reserves a file's blocks ahead of its data
//! (`fallocate(2)`; they read as zeros, which the record format reads as padding). A segment's
//! records are then written with [`Storage::write_at`] at its data's end, inside the file, and
//! made durable with [`Storage::sync_data`]: the file's length and block map do not change with
//! each append, so the `fdatasync` writes the data's pages and, for the file system's journal,
//! only the conversion of a reserved block the first time it is written (`docs/spool.md`,
//! flash writes). A storage that does not preallocate keeps the defaults: `preallocate`
//! reserves nothing and `write_at` at the file's end is an `append`.
//!
//! Direct writes: [`FsStorage`]'s `write_at` (the spool's segment data) goes through a second
//! descriptor opened with `O_DIRECT`, one `pwrite` of the whole logical blocks (512 bytes on
//! most disks) the data touches, the rest of its last block padded with zeros: the device
//! receives those blocks only, where a write through the page cache has the next `fdatasync`
//! write every 4 KiB page the batch touched, again at each batch. Where the file system
//! refuses `O_DIRECT`, the file is written through the page cache as before. The module
//! `direct` (`appliance/src/spool/storage/direct.rs`) says what it relies on and how much
//! memory it holds.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::HashMap;
use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{
    DirBuilderExt as _, FileExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};

use super::lock::{LockError, SpoolLock};

mod direct;

/// The mode of every file icsfwd creates in the spool directory: read and write for its
/// owner (the service user), read for its group (`icsfwd`, e.g. `icsfwd spool verify` run by
/// an operator in that group), nothing for others.
pub(crate) const FILE_MODE: u32 = 0o640;

/// The mode of every directory icsfwd creates (the spool directory, `deadletter/`).
pub(crate) const DIR_MODE: u32 = 0o750;

/// The file operations of the spool. Every method maps to one system call or a short,
/// documented sequence of them, so that a fault-injecting implementation can fail or cut
/// "power" at each one.
pub trait Storage: Send {
    /// Creates `dir` and its parents if missing.
    fn create_dir_all(&mut self, dir: &Path) -> io::Result<()>;
    /// The names of the regular files directly in `dir` (any order).
    fn list(&mut self, dir: &Path) -> io::Result<Vec<String>>;
    /// Creates `path` empty (truncating an existing file).
    fn create(&mut self, path: &Path) -> io::Result<()>;
    /// Appends `data` at the end of `path` (one write of all of it, or an error).
    fn append(&mut self, path: &Path, data: &[u8]) -> io::Result<()>;
    /// Cuts `path` to `len` bytes.
    fn truncate(&mut self, path: &Path, len: u64) -> io::Result<()>;
    /// Reads from `offset` into `buf`; returns the bytes read (0 at the end of the file).
    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// The length of `path` in bytes.
    fn len(&mut self, path: &Path) -> io::Result<u64>;
    /// Makes the content of `path` durable (`fsync`).
    fn sync_file(&mut self, path: &Path) -> io::Result<()>;
    /// Makes the entries of `dir` (creations, renames, removals) durable (`fsync` of the
    /// directory).
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to` atomically.
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes the file `path`.
    fn remove(&mut self, path: &Path) -> io::Result<()>;
    /// Takes the spool's exclusive lock on `dir` (which exists) for as long as this storage
    /// lives, so that no other process writes the spool meanwhile; taking it again for the
    /// same directory is a no-op. Called first by [`Spool::open`](super::Spool::open), before
    /// anything in `dir` is read. A storage that is not the real file system (a simulation
    /// of one process) has nothing to exclude and returns `Ok`.
    ///
    /// # Errors
    ///
    /// [`LockError::Held`]: another process holds it.
    fn lock_dir(&mut self, dir: &Path) -> Result<(), LockError>;

    /// Writes `data` at `offset` of `path` (one write of all of it, or an error), extending
    /// the file when it goes past its end (to the data's end, no further). The bytes after
    /// the data up to the end of its logical block (512 or 4096 bytes) may read as zeros
    /// afterwards ([`FsStorage`] writes whole blocks): the spool writes only at a segment's
    /// data end, where they are padding. The default handles `offset` equal to the file's
    /// length only (an [`append`](Storage::append)), all a storage that does not
    /// [`preallocate`](Storage::preallocate) is asked for.
    fn write_at(&mut self, path: &Path, offset: u64, data: &[u8]) -> io::Result<()> {
        let len = self.len(path)?;
        if offset == len {
            self.append(path, data)
        } else {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "{}: write at offset {offset} of a {len}-byte file (this storage only appends)",
                    path.display()
                ),
            ))
        }
    }

    /// Whether [`write_at`](Storage::write_at) writes anywhere inside a file (not only at
    /// its end). The spool reuses a delivered segment's file for a new segment only then
    /// (`docs/spool.md`, "Spare segment files"): its records are written over the old
    /// ones. The default, for a storage that only appends, is `false`.
    fn overwrites(&self) -> bool {
        false
    }

    /// Reserves the blocks of `path` up to `len` bytes (`fallocate(2)`): the file is at least
    /// `len` bytes long afterwards, the new bytes read as zeros, and writes inside it change
    /// neither its length nor its block map. The default reserves nothing. Best effort: the
    /// spool carries on without it when it fails.
    fn preallocate(&mut self, path: &Path, len: u64) -> io::Result<()> {
        let _ = (path, len);
        Ok(())
    }

    /// Reserves the blocks of `path` up to `len` bytes by writing zeros from its end to `len`
    /// (nothing when it is that long already), so that the file system allocates them as
    /// written blocks: a later write inside them changes neither the file's length nor its
    /// block map, and its `fdatasync` commits no journal entry, at the cost of writing the
    /// zeros once (made durable by the next sync of the file). The result reads as
    /// [`preallocate`](Storage::preallocate)'s does, which is the default.
    fn reserve_written(&mut self, path: &Path, len: u64) -> io::Result<()> {
        self.preallocate(path, len)
    }

    /// Makes the content of `path` durable, with the metadata needed to read it back but not
    /// its timestamps (`fdatasync`). The default is [`sync_file`](Storage::sync_file).
    fn sync_data(&mut self, path: &Path) -> io::Result<()> {
        self.sync_file(path)
    }
}

/// How many open file handles [`FsStorage`] keeps at most.
const MAX_OPEN_FILES: usize = 32;

/// The real storage: `std::fs` with `fsync` of files and directories. Keeps up to
/// 32 handles open (the active segment and the segments being read). [`Storage::write_at`]
/// writes through `O_DIRECT` in whole logical blocks where the file system takes it
/// (module docs).
#[derive(Debug, Default)]
pub struct FsStorage {
    open: HashMap<PathBuf, Handle>,
    /// The aligned buffer of `write_at`, and the tail block it holds.
    direct: direct::DirectWrites,
    /// The spool's lock, once taken ([`Storage::lock_dir`]).
    lock: Option<SpoolLock>,
}

/// An open file: the buffered descriptor of every operation, and how `write_at` writes it.
#[derive(Debug)]
struct Handle {
    file: File,
    mode: direct::Mode,
}

impl FsStorage {
    /// A storage with no file open.
    pub fn new() -> FsStorage {
        FsStorage::default()
    }

    fn file(&mut self, path: &Path) -> io::Result<&mut File> {
        Ok(&mut self.handle(path)?.file)
    }

    fn handle(&mut self, path: &Path) -> io::Result<&mut Handle> {
        if !self.open.contains_key(path) {
            if self.open.len() >= MAX_OPEN_FILES {
                self.open.clear();
                self.direct.forget_all();
            }
            // Not O_APPEND: `write_at` writes inside a preallocated file (and `pwrite` on an
            // O_APPEND file appends whatever the offset).
            let file = OpenOptions::new().read(true).write(true).open(path)?;
            let handle = Handle {
                file,
                mode: direct::Mode::default(),
            };
            self.open.insert(path.to_path_buf(), handle);
        }
        self.open
            .get_mut(path)
            .ok_or_else(|| io::Error::other("file handle vanished"))
    }

    /// Closes the handle of `path`, if open, and forgets what `write_at` held of it.
    fn close(&mut self, path: &Path) {
        self.open.remove(path);
        self.direct.forget(path);
    }
}

impl Storage for FsStorage {
    fn create_dir_all(&mut self, dir: &Path) -> io::Result<()> {
        create_dir_all(dir)
    }

    fn list(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file()
                && let Some(name) = entry.file_name().to_str()
            {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    fn create(&mut self, path: &Path) -> io::Result<()> {
        self.close(path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(FILE_MODE)
            .open(path)?;
        // The file is new content of ours (truncated): its mode is ours to set, and the
        // creation mode above was narrowed by the umask.
        set_mode(&file, FILE_MODE)
    }

    fn append(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.direct.forget(path);
        let file = self.file(path)?;
        let end = file.metadata()?.len();
        file.write_all_at(data, end)
    }

    fn truncate(&mut self, path: &Path, len: u64) -> io::Result<()> {
        self.direct.forget(path);
        self.file(path)?.set_len(len)
    }

    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.file(path)?.read_at(buf, offset)
    }

    fn len(&mut self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.len())
    }

    fn sync_file(&mut self, path: &Path) -> io::Result<()> {
        self.file(path)?.sync_all()
    }

    fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn write_at(&mut self, path: &Path, offset: u64, data: &[u8]) -> io::Result<()> {
        self.handle(path)?;
        // The handle borrowed apart from `self.direct`.
        let Handle { file, mode } = self
            .open
            .get_mut(path)
            .ok_or_else(|| io::Error::other("file handle vanished"))?;
        self.direct.write_at(path, file, mode, offset, data)
    }

    fn preallocate(&mut self, path: &Path, len: u64) -> io::Result<()> {
        let file = self.file(path)?;
        rustix::fs::fallocate(&*file, rustix::fs::FallocateFlags::empty(), 0, len)
            .map_err(io::Error::from)
    }

    fn reserve_written(&mut self, path: &Path, len: u64) -> io::Result<()> {
        /// The zeros written per call: one 4 KiB page. Larger writes may make the page
        /// cache hold the file in large folios, and a later small write dirties (and counts
        /// in `write_bytes`) a whole folio.
        static CHUNK: [u8; 4096] = [0; 4096];
        self.direct.forget(path);
        let file = self.file(path)?;
        let mut at = file.metadata()?.len();
        while at < len {
            let n = usize::try_from(len - at).map_or(CHUNK.len(), |n| n.min(CHUNK.len()));
            file.write_all_at(CHUNK.get(..n).unwrap_or_default(), at)?;
            at += n as u64;
        }
        Ok(())
    }

    fn sync_data(&mut self, path: &Path) -> io::Result<()> {
        self.file(path)?.sync_data()
    }

    fn overwrites(&self) -> bool {
        true
    }

    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        self.close(from);
        self.close(to);
        std::fs::rename(from, to)
    }

    fn remove(&mut self, path: &Path) -> io::Result<()> {
        self.close(path);
        std::fs::remove_file(path)
    }

    fn lock_dir(&mut self, dir: &Path) -> Result<(), LockError> {
        if self.lock.as_ref().is_some_and(|held| held.dir() == dir) {
            return Ok(());
        }
        self.lock = Some(SpoolLock::acquire(dir)?);
        Ok(())
    }
}

/// Sets the permission bits of `file` to `mode` exactly (`fchmod`, which the umask does not
/// narrow).
///
/// # Errors
///
/// The `fchmod` failed (the file is not ours).
pub(crate) fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    file.set_permissions(Permissions::from_mode(mode))
}

/// Opens `path` with `options`; if it does not exist, creates it with mode [`FILE_MODE`]
/// exactly, whatever the umask (an existing file keeps its mode). `options` must allow
/// writing; its `create` and `truncate` settings apply to an existing file only as
/// `OpenOptions` documents them.
///
/// # Errors
///
/// The open or the `fchmod` of the new file failed.
pub(crate) fn open_creating(path: &Path, options: &OpenOptions) -> io::Result<File> {
    let mut new = options.clone();
    match new.create_new(true).mode(FILE_MODE).open(path) {
        Ok(file) => {
            set_mode(&file, FILE_MODE)?;
            Ok(file)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            options.clone().mode(FILE_MODE).open(path)
        }
        Err(e) => Err(e),
    }
}

/// Creates `dir` and its missing parents, each new one with mode [`DIR_MODE`] exactly,
/// whatever the umask; existing directories keep their modes.
///
/// # Errors
///
/// A directory could not be created (or `dir` exists and is not a directory).
pub(crate) fn create_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(parent)?;
    }
    match DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE)),
        // Created meanwhile by someone else: theirs, with their mode.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reads all of `path` (used for the small checkpoint file), refusing files over `limit` bytes.
pub(crate) fn read_all(storage: &mut dyn Storage, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let len = storage.len(path)?;
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is {len} bytes, more than the {limit} allowed",
                path.display()
            ),
        ));
    }
    let mut buf = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..).filter(|rest| !rest.is_empty()) {
        let n = storage.read_at(path, done as u64, rest)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    buf.truncate(done);
    Ok(buf)
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), std::io::Error> {
        use crate::spool::storage::{FsStorage, Storage};

        let dir = std::env::temp_dir().join(format!("icsfwd-storage-doc-{}", std::process::id()));
        let mut fs = FsStorage::new();
        fs.create_dir_all(&dir)?;
        let file = dir.join("a");
        fs.create(&file)?;
        fs.append(&file, b"hello")?;
        fs.sync_file(&file)?;
        fs.sync_dir(&dir)?;
        let mut buf = [0u8; 5];
        assert_eq!(fs.read_at(&file, 0, &mut buf)?, 5);
        assert_eq!(&buf, b"hello");
        assert_eq!(fs.len(&file)?, 5);
        fs.remove(&file)?;
        std::fs::remove_dir(&dir)?;
        Ok::<(), std::io::Error>(())
    }
}
