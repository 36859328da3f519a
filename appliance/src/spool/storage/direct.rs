//! [`FsStorage::write_at`](super::FsStorage) through `O_DIRECT`, in whole logical blocks.
//!
//! Why: a write through the page cache dirties whole pages (4 KiB), so the `fdatasync` of a
//! small batch writes every page the batch touched, again at each batch that touches it
//! (`docs/spool.md`, flash writes). A direct write sends the device only the blocks it names:
//! the logical blocks (512 bytes on most disks) from the one the data starts in to the one it
//! ends in.
//!
//! How: each file written with `write_at` gets a second descriptor, opened with `O_DIRECT`,
//! for these writes only; reads, the zeros of `reserve_written`, `fallocate`, `truncate`,
//! `len` and the syncs keep the buffered one. A write of `data` at `offset` writes the blocks
//! `[offset rounded down, offset + data.len() rounded up)` with one `pwrite` from an aligned
//! buffer: the file's bytes before `offset` in the first block (held from the previous write
//! when it ended at `offset`, else read once through the buffered descriptor), then `data`,
//! then zeros to the end of the last block. Afterwards the file's bytes
//! `[offset, offset + data.len())` are `data` and the rest of the last block is zeros (in a
//! segment: preallocated zeros already, or what the record format reads as padding,
//! `docs/record-format.md`). Where the last block reaches past the file's end (a file not
//! preallocated that far), the zeros are not written and that block's data goes through the
//! page cache: the file grows to the data's end exactly, never further.
//!
//! Page cache coherence, what this relies on: the kernel writes back the dirty pages of a
//! direct write's range before it and drops the range's cached pages after it (true of every
//! Linux file system that takes `O_DIRECT`), so the buffered descriptor's reads see the
//! direct write, and zeros that `reserve_written` left dirty in the range reach the device
//! before the data, never after it. It also relies on nothing else writing the file while a
//! direct write runs and nothing mapping it (the spool is the file's only writer, one call at a
//! time through `&mut`, and never `mmap`s). Durability still comes from
//! [`Storage::sync_data`](super::Storage::sync_data): `fdatasync` of the inode, whichever
//! descriptor wrote.
//!
//! Alignment: the file's `STATX_DIOALIGN` offset and memory alignment where the kernel reports
//! them (Linux 6.1 on); elsewhere 512, then 4096 if the file system refuses 512 (`EINVAL`).
//!
//! Fallback: where `O_DIRECT` is refused (the open or a write fails with `EINVAL` or
//! `EOPNOTSUPP`: tmpfs before Linux 6.6, some FUSE and overlay mounts, ext4 with
//! `data=journal`), the file is written through the page cache from then on, as before,
//! with an info log line for the first such file of the storage (the others at debug level)
//! and nothing else. A refused direct write wrote nothing, or some whole
//! blocks of the same bytes; the buffered write that follows writes all of `data` at the same
//! offset, so no byte is lost or written twice.
//!
//! Memory: one aligned buffer per storage (only the file written last keeps its tail in it),
//! as long as the largest single write plus two blocks and the alignment. The spool writes a
//! group commit's batch at once: at most `GroupConfig::max_batch` (1024) frames.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Writes of this many bytes or more go through the page cache, not direct: a batch that
/// large (a storm, a drain of many producers) costs the page cache at most one partial page
/// beyond its data (under 7 %), while a direct write drops the range from the page cache, so
/// the delivery workers, which read the records just written, would read them back from the
/// device. (On the bench's virtual disk, whose reads the host's cache serves, full load showed
/// no difference above the noise either way: `docs/BENCHMARKS.md`.)
pub(super) const DIRECT_BELOW: usize = 64 * 1024;

/// The block size tried when the kernel does not report the file's direct I/O alignment.
const GUESSED_BLOCK: u64 = 512;

/// The block size tried when [`GUESSED_BLOCK`] was refused: every device's logical block
/// divides it (a 4 KiB-sector disk, or a file system that wants its own block size).
const FALLBACK_BLOCK: u64 = 4096;

/// How [`FsStorage::write_at`](super::FsStorage) writes one open file.
#[derive(Debug, Default)]
pub(super) enum Mode {
    /// Not decided yet: the first write opens the direct descriptor.
    #[default]
    Untried,
    /// Through this descriptor, opened with `O_DIRECT`.
    Direct { file: File, align: Align },
    /// `O_DIRECT` was refused for this file: through the page cache.
    Buffered,
}

/// The alignment of a file's direct writes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Align {
    /// Offsets and lengths are multiples of it.
    block: u64,
    /// The buffer's address is a multiple of it.
    memory: usize,
    /// The kernel did not report it: [`GUESSED_BLOCK`], or [`FALLBACK_BLOCK`] once that was
    /// refused.
    guessed: bool,
}

/// A test's order to behave as a file system that refuses `O_DIRECT`.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refuse {
    /// The open with `O_DIRECT` fails with `EINVAL`.
    AtOpen,
    /// The open succeeds, every direct write fails with `EINVAL` before writing.
    AtWrite,
}

/// The direct writes of one storage: the aligned buffer and what it holds.
#[derive(Debug, Default)]
pub(super) struct DirectWrites {
    buf: AlignedBuf,
    /// The file written last and where that write ended, when `buf` starts with the file's
    /// bytes from the start of the block that offset is in up to it.
    tail: Option<(PathBuf, u64)>,
    /// Whether a file written through the page cache for want of direct I/O was logged at
    /// info level already (once per storage: the operator learns why flash writes are
    /// higher; later files go to the debug log).
    fallback_told: bool,
    /// Set by a test: refuse `O_DIRECT` as some file systems do.
    #[cfg(test)]
    pub(super) refuse: Option<Refuse>,
    /// Direct writes that succeeded.
    #[cfg(test)]
    pub(super) written: u64,
}

impl DirectWrites {
    /// Forgets the tail held for `path` (it was truncated, renamed, removed or written
    /// otherwise).
    pub(super) fn forget(&mut self, path: &Path) {
        if self.tail.as_ref().is_some_and(|(held, _)| held == path) {
            self.tail = None;
        }
    }

    /// Forgets the tail held for any file (every handle was closed).
    pub(super) fn forget_all(&mut self) {
        self.tail = None;
    }

    /// Writes `data` at `offset` of `path`, open as `buffered`, as `mode` says (deciding it
    /// on the first write): see the module docs for what the file holds afterwards.
    pub(super) fn write_at(
        &mut self,
        path: &Path,
        buffered: &File,
        mode: &mut Mode,
        offset: u64,
        data: &[u8],
    ) -> io::Result<()> {
        if data.len() >= DIRECT_BELOW {
            // What the next direct write finds before its offset comes from the page cache.
            self.forget(path);
            return buffered.write_all_at(data, offset);
        }
        if matches!(mode, Mode::Untried) {
            *mode = self.open(path, buffered);
        }
        while let Mode::Direct { file, align } = mode {
            match self.write_blocks(path, buffered, file, *align, offset, data) {
                Ok(()) => return Ok(()),
                Err(e) if !refused(&e) => return Err(e),
                Err(_) if align.guessed && align.block < FALLBACK_BLOCK => {
                    align.block = FALLBACK_BLOCK;
                    align.memory = align.memory.max(FALLBACK_BLOCK as usize);
                }
                Err(e) => {
                    self.fall_back(path, &format!("the direct write was refused ({e})"));
                    *mode = Mode::Buffered;
                }
            }
        }
        buffered.write_all_at(data, offset)
    }

    /// Opens the direct descriptor of `path` (open as `buffered`), or says to write through
    /// the page cache when the file system does not take direct I/O.
    fn open(&mut self, path: &Path, buffered: &File) -> Mode {
        let Some(align) = alignment(buffered) else {
            self.fall_back(path, "the file system reports no direct I/O");
            return Mode::Buffered;
        };
        let opened = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path);
        #[cfg(test)]
        let opened = match self.refuse {
            Some(Refuse::AtOpen) => opened.and(Err(io::Error::from_raw_os_error(libc::EINVAL))),
            _ => opened,
        };
        match opened {
            Ok(file) => Mode::Direct { file, align },
            Err(e) => {
                self.fall_back(path, &format!("O_DIRECT was refused ({e})"));
                Mode::Buffered
            }
        }
    }

    /// Logs that `path` is written through the page cache because of `why`: at info level
    /// the first time (what it costs, `docs/spool.md`), at debug level after that.
    fn fall_back(&mut self, path: &Path, why: &str) {
        if self.fallback_told {
            log::debug!("{}: {why}; writing through the page cache", path.display());
        } else {
            self.fallback_told = true;
            log::info!(
                "spool: {why} for {}: segments are written through the page cache, so each \
                 fsync writes whole 4 KiB pages (more flash wear at a trickle of alerts; \
                 docs/spool.md, flash writes)",
                path.display()
            );
        }
    }

    /// One direct write of `data` at `offset` in whole blocks of `align` (module docs).
    fn write_blocks(
        &mut self,
        path: &Path,
        buffered: &File,
        direct: &File,
        align: Align,
        offset: u64,
        data: &[u8],
    ) -> io::Result<()> {
        #[cfg(test)]
        if self.refuse == Some(Refuse::AtWrite) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let block = usize::try_from(align.block).map_err(io::Error::other)?;
        let start = offset - offset % align.block;
        let head = usize::try_from(offset - start).map_err(io::Error::other)?;
        let total = head + data.len();
        let span = total.div_ceil(block) * block;
        // Taken: held again only once this write succeeded.
        let (held, name) = match self.tail.take() {
            Some((name, end)) if name == path => (end == offset, name),
            _ => (false, path.to_path_buf()),
        };
        let buf = self
            .buf
            .get(span, align.memory.max(block), if held { head } else { 0 })?;
        let (before, rest) = buf.split_at_mut(head);
        if !held {
            read_fill(buffered, start, before)?;
        }
        let (new, pad) = rest.split_at_mut(data.len());
        new.copy_from_slice(data);
        pad.fill(0);
        // The zeros after the data stay inside the file: past its end they would lengthen it
        // (and a spool's files would no longer add up to its quota). There the last block's
        // data goes through the page cache instead.
        let whole = if start + span as u64 <= buffered.metadata()?.len() {
            span
        } else {
            total - total % block
        };
        let (blocks, last) = buf.split_at(whole);
        write_all(direct, buffered, blocks, start, block)?;
        if let Some(last) = last.get(..total.saturating_sub(whole)) {
            buffered.write_all_at(last, start + whole as u64)?;
        }
        // Keep the last block's data for the next write, which starts where this one ended.
        buf.copy_within(total - total % block..total, 0);
        self.tail = Some((name, offset + data.len() as u64));
        #[cfg(test)]
        {
            self.written += u64::from(whole > 0);
        }
        Ok(())
    }
}

/// The direct I/O alignment of `file`: what `statx` reports, else a guess; `None` when the
/// kernel reports that the file takes no direct I/O.
fn alignment(file: &File) -> Option<Align> {
    use rustix::fs::{AtFlags, StatxFlags, statx};
    let guess = Align {
        block: GUESSED_BLOCK,
        memory: GUESSED_BLOCK as usize,
        guessed: true,
    };
    let Ok(stat) = statx(file, c"", AtFlags::EMPTY_PATH, StatxFlags::DIOALIGN) else {
        return Some(guess);
    };
    if stat.stx_mask & StatxFlags::DIOALIGN.bits() == 0 {
        return Some(guess);
    }
    let (block, memory) = (stat.stx_dio_offset_align, stat.stx_dio_mem_align);
    if block == 0 {
        return None;
    }
    // Alignments are powers of two; anything else is not believed.
    if !block.is_power_of_two() || !memory.is_power_of_two() {
        return Some(guess);
    }
    Some(Align {
        block: u64::from(block),
        memory: usize::try_from(memory).unwrap_or(FALLBACK_BLOCK as usize),
        guessed: false,
    })
}

/// Whether `e` is a file system's refusal of a direct write (rather than a failure of the
/// device or a full disk).
fn refused(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP))
}

/// Reads `buf.len()` bytes of `file` from `offset`; what lies past the file's end reads as
/// zeros (a write past the end leaves a hole there, which reads as zeros too).
fn read_fill(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..).filter(|rest| !rest.is_empty()) {
        match file.read_at(rest, offset + done as u64) {
            Ok(0) => {
                rest.fill(0);
                break;
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes all of `buf` (whole blocks of `block` bytes) at `offset` through `direct`. A short
/// write that ends inside a block leaves a rest that `O_DIRECT` cannot write: it goes through
/// `buffered`, the same bytes at the same place.
fn write_all(
    direct: &File,
    buffered: &File,
    buf: &[u8],
    offset: u64,
    block: usize,
) -> io::Result<()> {
    let mut done = 0;
    while let Some(rest) = buf.get(done..).filter(|rest| !rest.is_empty()) {
        if done % block != 0 {
            return buffered.write_all_at(rest, offset + done as u64);
        }
        match direct.write_at(rest, offset + done as u64) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A buffer whose usable part starts at an address aligned as direct I/O requires, found
/// inside an ordinary allocation (no unsafe code).
#[derive(Debug, Default)]
struct AlignedBuf {
    bytes: Vec<u8>,
    /// The alignment of the usable part's start (0: nothing allocated yet).
    align: usize,
}

impl AlignedBuf {
    /// Where the usable part starts in `bytes`.
    fn start(&self) -> usize {
        if self.align == 0 {
            return 0;
        }
        self.bytes.as_ptr().align_offset(self.align)
    }

    /// The first `len` bytes of the usable part, aligned to `align`; when it must grow, its
    /// first `keep` bytes are kept.
    fn get(&mut self, len: usize, align: usize, keep: usize) -> io::Result<&mut [u8]> {
        let start = self.start();
        if align > self.align || start.saturating_add(len) > self.bytes.len() {
            let align = align.max(self.align);
            let mut bytes = vec![0u8; len.saturating_add(align)];
            let new_start = bytes.as_ptr().align_offset(align);
            match (
                bytes.get_mut(new_start..new_start.saturating_add(keep)),
                self.bytes.get(start..start.saturating_add(keep)),
            ) {
                (Some(to), Some(from)) => to.copy_from_slice(from),
                _ => return Err(io::Error::other("the aligned buffer lost its tail")),
            }
            self.bytes = bytes;
            self.align = align;
        }
        let start = self.start();
        self.bytes
            .get_mut(start..start.saturating_add(len))
            .ok_or_else(|| io::Error::other("the aligned buffer could not be aligned"))
    }
}

#[cfg(test)]
mod tests {
    //! On the real file system of the temporary directory (ext4 where these were written).

    use super::{Mode, Refuse};
    use crate::spool::storage::{FsStorage, Storage as _};
    use std::path::Path;

    /// The sizes of the writes: odd, around and across block boundaries, one over a page.
    const SIZES: [usize; 10] = [1, 510, 3, 700, 1025, 13, 4097, 2, 511, 512];

    /// Appends one write of each of [`SIZES`] at the data's end (bytes that differ from
    /// write to write and from zero), as the spool writes a segment; returns the data.
    fn append_all(fs: &mut FsStorage, path: &Path) -> Vec<u8> {
        let mut data = Vec::new();
        for (i, &n) in SIZES.iter().enumerate() {
            let chunk: Vec<u8> = (0..n).map(|j| 1 + ((i * 7 + j) % 250) as u8).collect();
            fs.write_at(path, data.len() as u64, &chunk).unwrap();
            data.extend_from_slice(&chunk);
            // A fresh descriptor reads through the page cache what the device holds.
            assert!(std::fs::read(path).unwrap()[..data.len()] == data[..]);
        }
        data
    }

    /// The block size of the direct writes of `path`, and whether its descriptor has
    /// `O_DIRECT` (the flags `fcntl(F_GETFL)` reports).
    fn direct_block(fs: &FsStorage, path: &Path) -> Option<(u64, bool)> {
        match &fs.open.get(path)?.mode {
            Mode::Direct { file, align } => {
                let flags = rustix::fs::fcntl_getfl(file).unwrap();
                Some((align.block, flags.contains(rustix::fs::OFlags::DIRECT)))
            }
            Mode::Untried | Mode::Buffered => None,
        }
    }

    /// The byte a file is filled with before the writes: not zero, so that the zeros after
    /// the data can only come from the writes.
    const STALE: u8 = 0xA5;

    /// Whether files in `dir` take direct writes, as the storage finds out. They must, except
    /// under an emulator: the cross builds run these tests with qemu-user
    /// (`ICSFWD_TEST_RUNNER`, scripts/cross.sh), whose `statx` says the file takes no direct
    /// I/O; the storage then writes through the page cache (tested below with the refusal
    /// switch), and a test that needs direct writes says it was skipped.
    fn takes_direct_writes(dir: &Path) -> bool {
        let probe = dir.join("probe");
        std::fs::write(&probe, b"").unwrap();
        let supported = super::alignment(&std::fs::File::open(&probe).unwrap()).is_some();
        std::fs::remove_file(&probe).unwrap();
        if !supported {
            assert!(
                std::env::var_os("ICSFWD_TEST_RUNNER").is_some(),
                "{} takes no direct I/O outside an emulator",
                dir.display()
            );
            eprintln!("SKIPPED: the emulator's statx reports no direct I/O for this file");
        }
        supported
    }

    /// A scratch directory whose files take direct writes, or `None` (a skip, said by
    /// [`takes_direct_writes`]) under an emulator.
    fn direct_dir() -> Option<tempfile::TempDir> {
        let dir = tempfile::tempdir().unwrap();
        takes_direct_writes(dir.path()).then_some(dir)
    }

    /// A new, empty segment file `1.seg` in `dir` and the storage that created it.
    fn new_segment(dir: &tempfile::TempDir) -> (std::path::PathBuf, FsStorage) {
        let path = dir.path().join("1.seg");
        let mut fs = FsStorage::new();
        fs.create(&path).unwrap();
        (path, fs)
    }

    #[test]
    fn odd_appends_go_direct_in_whole_blocks_and_read_back_exactly() {
        let Some(dir) = direct_dir() else {
            return;
        };
        let path = dir.path().join("1.seg");
        let len = 65_536;
        std::fs::write(&path, vec![STALE; len]).unwrap();
        let mut fs = FsStorage::new();
        let data = append_all(&mut fs, &path);

        let (block, o_direct) = direct_block(&fs, &path).expect("a direct descriptor");
        assert!(o_direct, "the descriptor of write_at has O_DIRECT");
        assert_eq!(
            fs.direct.written,
            SIZES.len() as u64,
            "every write went direct"
        );
        // Zeros from the data's end to its block's end, the file untouched after that.
        let file = std::fs::read(&path).unwrap();
        let block_end = data.len().div_ceil(block as usize) * block as usize;
        assert_eq!(file.len(), len);
        assert!(file[..data.len()] == data[..]);
        assert!(file[data.len()..block_end].iter().all(|&b| b == 0));
        assert!(file[block_end..].iter().all(|&b| b == STALE));
        // The storage's own buffered descriptor reads the same.
        let mut back = vec![0u8; file.len()];
        assert_eq!(fs.read_at(&path, 0, &mut back).unwrap(), file.len());
        assert!(back == file);
    }

    #[test]
    fn appends_past_the_end_lengthen_the_file_to_the_data_only() {
        let Some(dir) = direct_dir() else {
            return;
        };
        let (path, mut fs) = new_segment(&dir);
        let data = append_all(&mut fs, &path);
        assert!(
            std::fs::read(&path).unwrap() == data,
            "no zeros after the data"
        );
        // The writes that filled a block went direct (the last block's data through the page
        // cache).
        let (block, o_direct) = direct_block(&fs, &path).expect("a direct descriptor");
        assert!(o_direct);
        let mut offset = 0;
        let mut filling = 0;
        for n in SIZES {
            let end = offset + n as u64;
            filling += u64::from(end / block > offset / block);
            offset = end;
        }
        assert!(filling > 0);
        assert_eq!(fs.direct.written, filling);
    }

    #[test]
    fn a_write_inside_written_zeros_keeps_the_bytes_around_it() {
        let Some(dir) = direct_dir() else {
            return;
        };
        let (path, mut fs) = new_segment(&dir);
        // Bytes before the write in its first block came through the page cache.
        fs.append(&path, b"head").unwrap();
        fs.reserve_written(&path, 65_536).unwrap();
        let mut model = b"head".to_vec();
        model.resize(65_536, 0);
        // At the data's end (the head read back), then into the middle, then on at the
        // first write's end (a position no longer held: read back too).
        for (offset, n, byte) in [(4, 1000, b'a'), (20_001, 3000, b'b'), (1004, 600, b'c')] {
            let chunk = vec![byte; n];
            fs.write_at(&path, offset, &chunk).unwrap();
            model[offset as usize..offset as usize + n].copy_from_slice(&chunk);
        }
        // On at the end held from the write before.
        fs.write_at(&path, 1604, b"d").unwrap();
        model[1604] = b'd';

        assert!(
            std::fs::read(&path).unwrap() == model,
            "length and bytes kept"
        );
        assert!(direct_block(&fs, &path).is_some_and(|(_, o_direct)| o_direct));
        assert_eq!(fs.direct.written, 4);
        assert!(
            !fs.direct.fallback_told,
            "nothing to tell while direct writes work"
        );
    }

    #[test]
    fn a_large_write_goes_through_the_page_cache_and_the_next_small_one_direct_after_it() {
        use super::super::direct::DIRECT_BELOW;
        let Some(dir) = direct_dir() else {
            return;
        };
        let (path, mut fs) = new_segment(&dir);
        fs.reserve_written(&path, 4 * DIRECT_BELOW as u64).unwrap();
        let mut model = vec![0u8; 4 * DIRECT_BELOW];
        // Small (direct), large (buffered: not counted), small again at the large one's end
        // (its head read back through the page cache, where the large write's bytes are).
        let small = vec![b's'; 1000];
        let large = vec![b'L'; DIRECT_BELOW + 333];
        let mut at = 0usize;
        for chunk in [&small, &large, &small] {
            fs.write_at(&path, at as u64, chunk).unwrap();
            model[at..at + chunk.len()].copy_from_slice(chunk);
            at += chunk.len();
        }
        assert_eq!(
            fs.direct.written, 2,
            "the two small writes only went direct"
        );
        assert!(
            std::fs::read(&path).unwrap() == model,
            "every byte as written, nothing after the data"
        );
    }

    #[test]
    fn truncate_and_rename_forget_the_held_tail() {
        let Some(dir) = direct_dir() else {
            return;
        };
        let (a, b) = (dir.path().join("a.seg"), dir.path().join("b.seg"));
        let mut fs = FsStorage::new();
        fs.create(&a).unwrap();
        fs.write_at(&a, 0, &[b'a'; 700]).unwrap();
        // Cut back: a write at the old end finds zeros (a hole) before it, not the cut bytes.
        fs.truncate(&a, 650).unwrap();
        fs.write_at(&a, 700, b"x").unwrap();
        let mut model = vec![b'a'; 650];
        model.resize(700, 0);
        model.push(b'x');
        assert!(std::fs::read(&a).unwrap()[..701] == model[..]);

        // Replaced by a rename: a write at the end held of the old file keeps the new bytes.
        fs.create(&b).unwrap();
        fs.write_at(&b, 0, &[b'b'; 701]).unwrap();
        fs.write_at(&a, 701, b"y").unwrap();
        fs.rename(&b, &a).unwrap();
        fs.write_at(&a, 702, b"z").unwrap();
        let mut model = vec![b'b'; 701];
        model.extend_from_slice(b"\0z");
        assert!(std::fs::read(&a).unwrap()[..703] == model[..]);
    }

    #[test]
    fn where_o_direct_is_refused_the_page_cache_writes_the_same_bytes() {
        for refuse in [Refuse::AtOpen, Refuse::AtWrite] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("1.seg");
            let mut fs = FsStorage::new();
            fs.direct.refuse = Some(refuse);
            fs.create(&path).unwrap();
            let data = append_all(&mut fs, &path);
            assert!(std::fs::read(&path).unwrap() == data, "{refuse:?}");
            assert!(matches!(fs.open[&path].mode, Mode::Buffered), "{refuse:?}");
            assert_eq!(fs.direct.written, 0);
            assert!(
                fs.direct.fallback_told,
                "the operator is told once: {refuse:?}"
            );
        }
    }

    #[test]
    fn a_refusal_after_direct_writes_loses_and_repeats_nothing() {
        let Some(dir) = direct_dir() else {
            return;
        };
        let (path, mut fs) = new_segment(&dir);
        fs.reserve_written(&path, 65_536).unwrap();
        let mut data = vec![7u8; 300];
        fs.write_at(&path, 0, &data).unwrap();
        assert_eq!(fs.direct.written, 1);
        // The file system starts refusing (a remount, say): the rest goes through the page
        // cache, right after the data.
        fs.direct.refuse = Some(Refuse::AtWrite);
        for n in [5, 900, 1] {
            let chunk = vec![n as u8; n];
            fs.write_at(&path, data.len() as u64, &chunk).unwrap();
            data.extend_from_slice(&chunk);
        }
        let file = std::fs::read(&path).unwrap();
        assert!(file[..data.len()] == data[..]);
        assert!(file[data.len()..].iter().all(|&b| b == 0));
        assert!(matches!(fs.open[&path].mode, Mode::Buffered));
        assert_eq!(fs.direct.written, 1);
    }
}
