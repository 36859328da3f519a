//! The ack state of a HEC destination with `ack = true`: the requests sent and not yet
//! confirmed, kept on disk so that a restart asks Splunk about them instead of sending their
//! records again.
//!
//! What it is: `<spool dir>/acks/<destination>.acks`, an append log of text lines, each
//! ending in the CRC-32C of the bytes before it (like the spool's progress log,
//! `appliance/src/spool/progress.rs`):
//!
//! ```text
//! icsfwd-hec-acks 1 <crc32c, 8 hex>
//! sent <channel> <url> <ack id> <sent, epoch ms> <fingerprint, 8 hex> <records> <crc32c>
//! indexed <channel> <url> <ack id> <crc32c>
//! expired <channel> <url> <ack id> <crc32c>
//! poll <crc32c>
//! polled <crc32c>
//! ```
//!
//! - The first line names the format; a file without it (another format, damage) is
//!   ignored whole.
//! - `sent`: the request answered with `<ack id>` by `<url>` on `<channel>` carried the spool
//!   records `<records>` (sequence numbers as runs, `4711-4810,4900`); `<fingerprint>` is the
//!   CRC-32C of their sequence numbers and [`record_mark`]s, which ties the line to those very
//!   records (a file of another spool names other records and is not trusted). Written after
//!   HEC answered, and made durable (`fdatasync`) before the records count as awaiting.
//! - `indexed`: the ack read `true` (the records are delivered); `expired`: the ack deadline
//!   passed and the records were sent again. Neither is synced: losing one only costs a
//!   resend.
//! - `poll` / `polled` frame each ack poll. HEC answers `true` only once: a kill during a
//!   poll may lose `true`s, so the requests still awaited before a `poll` without its
//!   `polled` are [`State::Asked`] — sent again at once (counted) instead of waiting for the
//!   deadline with the destination's window held.
//!
//! What it guarantees (on doubt, records are sent again, never skipped):
//! - A torn last line (no newline), a line whose CRC or fields do not match, an `indexed` or
//!   `expired` line without its `sent` line, are ignored and counted ([`Loaded::damaged`]).
//! - A file larger than [`MAX_LEN`] or without the header is ignored whole.
//! - The log is rewritten compactly (temp file, `fdatasync`, rename, `fsync` of the
//!   directory) at start and when it grows beyond [`COMPACT_AT`]; a kill at any point leaves
//!   the old or the new file, both valid.
//! - Files are created with mode 0640 and the directory 0750, whatever the umask.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use icsfwd_core::record::crc;

use crate::spool::storage;

/// The directory of the ack-state files, in the spool directory.
pub(crate) const DIR: &str = "acks";
/// The first word and version of the header line.
pub(crate) const HEADER: &str = "icsfwd-hec-acks 1";
/// The largest file read at start; a larger one is ignored whole.
pub(crate) const MAX_LEN: u64 = 8 << 20;
/// The log is rewritten compactly when it grows beyond this.
pub(crate) const COMPACT_AT: u64 = 256 << 10;
/// Most sequence numbers one `sent` line names (a request holds at most `batch_max_events`).
pub(crate) const MAX_SEQS: usize = 100_000;

/// The ack-state file of destination `name` under the spool directory `dir`.
#[must_use]
pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(DIR).join(format!("{name}.acks"))
}

/// A request awaiting its ack, as persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The channel GUID it was sent on.
    pub channel: String,
    /// The base URL that answered it (ack ids belong to that indexer).
    pub url: String,
    /// Its ack id.
    pub ack_id: u64,
    /// When it was sent (epoch ms, wall clock).
    pub sent_ms: u64,
    /// [`fingerprint`] of its records.
    pub fingerprint: u32,
    /// The spool sequence numbers it carried, ascending.
    pub seqs: Vec<u64>,
}

impl Request {
    /// Whether `other` names the same ack: channel, URL and id.
    #[must_use]
    pub fn same_ack(&self, channel: &str, url: &str, ack_id: u64) -> bool {
        self.ack_id == ack_id && self.channel == channel && self.url == url
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum Line {
    /// The header.
    Header,
    /// A request answered with an ack id.
    Sent(Request),
    /// Its ack read `true`: `(channel, url, ack id)`.
    Indexed(String, String, u64),
    /// Its ack deadline passed: `(channel, url, ack id)`.
    Expired(String, String, u64),
    /// An ack poll starts: its answers may read `true` for the requests before it.
    Poll,
    /// The ack poll's answers are all written (as `indexed` lines).
    Polled,
}

impl Line {
    /// The line with its CRC and newline.
    #[must_use]
    pub(crate) fn encode(&self) -> String {
        let body = match self {
            Line::Header => HEADER.to_owned(),
            Line::Sent(r) => format!(
                "sent {} {} {} {} {:08x} {}",
                r.channel,
                r.url,
                r.ack_id,
                r.sent_ms,
                r.fingerprint,
                runs(&r.seqs)
            ),
            Line::Indexed(channel, url, id) => format!("indexed {channel} {url} {id}"),
            Line::Expired(channel, url, id) => format!("expired {channel} {url} {id}"),
            Line::Poll => "poll".to_owned(),
            Line::Polled => "polled".to_owned(),
        };
        let crc = crc::checksum(body.as_bytes());
        format!("{body} {crc:08x}\n")
    }

    /// Parses one line without its newline; `None` when it is damaged or malformed.
    #[must_use]
    pub(crate) fn decode(line: &[u8]) -> Option<Line> {
        let split = line.iter().rposition(|&b| b == b' ')?;
        let (body, crc_field) = (line.get(..split)?, line.get(split + 1..)?);
        // Lower-case hex only, as written: a flipped case bit is damage too.
        let lower_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
        if crc_field.len() != 8 || !crc_field.iter().all(lower_hex) {
            return None;
        }
        let stored = u32::from_str_radix(std::str::from_utf8(crc_field).ok()?, 16).ok()?;
        if stored != crc::checksum(body) {
            return None;
        }
        let text = std::str::from_utf8(body).ok()?;
        match text {
            HEADER => return Some(Line::Header),
            "poll" => return Some(Line::Poll),
            "polled" => return Some(Line::Polled),
            _ => {}
        }
        let words: Vec<&str> = text.split(' ').collect();
        match words.as_slice() {
            ["sent", channel, url, id, sent_ms, fingerprint, records] => {
                Some(Line::Sent(Request {
                    channel: (*channel).to_owned(),
                    url: (*url).to_owned(),
                    ack_id: id.parse().ok()?,
                    sent_ms: sent_ms.parse().ok()?,
                    fingerprint: u32::from_str_radix(fingerprint, 16).ok()?,
                    seqs: parse_runs(records)?,
                }))
            }
            ["indexed", channel, url, id] => Some(Line::Indexed(
                (*channel).to_owned(),
                (*url).to_owned(),
                id.parse().ok()?,
            )),
            ["expired", channel, url, id] => Some(Line::Expired(
                (*channel).to_owned(),
                (*url).to_owned(),
                id.parse().ok()?,
            )),
            _ => None,
        }
    }
}

/// Ascending sequence numbers as runs: `1-3,7`.
fn runs(seqs: &[u64]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(&first) = seqs.get(i) {
        let mut last = first;
        while seqs.get(i + 1) == Some(&last.saturating_add(1)) {
            i += 1;
            last = last.saturating_add(1);
        }
        if !out.is_empty() {
            out.push(',');
        }
        if first == last {
            out.push_str(&first.to_string());
        } else {
            out.push_str(&format!("{first}-{last}"));
        }
        i += 1;
    }
    out
}

/// The sequence numbers of `text` (strictly ascending runs, at most [`MAX_SEQS`]).
fn parse_runs(text: &str) -> Option<Vec<u64>> {
    let mut seqs: Vec<u64> = Vec::new();
    for run in text.split(',') {
        let (first, last) = match run.split_once('-') {
            Some((a, b)) => (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?),
            None => {
                let one = run.parse::<u64>().ok()?;
                (one, one)
            }
        };
        let count = usize::try_from(last.checked_sub(first)?)
            .ok()?
            .checked_add(1)?;
        let after_last = seqs.last().is_none_or(|&last| first > last);
        if !after_last || seqs.len().saturating_add(count) > MAX_SEQS {
            return None;
        }
        seqs.extend(first..=last);
    }
    (!seqs.is_empty()).then_some(seqs)
}

/// The identity of one record for the ack state: the CRC-32C of its sequence number, event
/// time and event id (what ties a persisted request to the records it carried).
#[must_use]
pub fn record_mark(seq: u64, event: &icsfwd_core::alert::Event) -> u32 {
    let mut crc = crc::Crc32c::new();
    crc.update(&seq.to_le_bytes());
    crc.update(&event.time_ms().to_le_bytes());
    let id = event.event_id();
    crc.update(&id.id.to_le_bytes());
    crc.update(id.sensor.as_bytes());
    crc.finish()
}

/// The fingerprint of a request: the CRC-32C of its records' sequence numbers and
/// [`record_mark`]s, in order.
#[must_use]
pub(crate) fn fingerprint(records: impl IntoIterator<Item = (u64, u32)>) -> u32 {
    let mut crc = crc::Crc32c::new();
    for (seq, mark) in records {
        crc.update(&seq.to_le_bytes());
        crc.update(&mark.to_le_bytes());
    }
    crc.finish()
}

/// A persisted request's state when the file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Sent, no answer read yet: ask about it.
    Awaiting,
    /// Its ack read `true`.
    Indexed,
    /// Sent before an ack poll that a kill interrupted: HEC may have answered `true` for it,
    /// which it answers only once and which was lost. Send it again rather than wait for
    /// the deadline.
    Asked,
}

/// What [`read`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loaded {
    /// The requests not expired, in the order they were sent.
    pub requests: Vec<(Request, State)>,
    /// Lines ignored: torn, damaged, malformed, or naming an ack never sent.
    pub damaged: u64,
    /// Why the whole file was ignored (too large, no header), if it was.
    pub ignored: Option<String>,
}

/// Reads the ack-state file at `path` (missing: nothing).
///
/// # Errors
///
/// The file exists but cannot be read.
pub fn read(path: &Path) -> io::Result<Loaded> {
    let mut loaded = Loaded::default();
    let len = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(loaded),
        Err(e) => return Err(e),
    };
    if len > MAX_LEN {
        loaded.ignored = Some(format!("it is larger than {MAX_LEN} bytes"));
        return Ok(loaded);
    }
    let bytes = std::fs::read(path)?;
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    let mut first = true;
    // The requests before the last `poll` line not followed by `polled`.
    let mut open_poll: Option<usize> = None;
    while let Some(line) = lines.next() {
        let is_last = lines.peek().is_none();
        if is_last && line.is_empty() {
            break;
        }
        // The last piece has no newline: a write cut short.
        let decoded = if is_last { None } else { Line::decode(line) };
        if first {
            first = false;
            if decoded != Some(Line::Header) {
                loaded.ignored = Some("its first line is not the header".to_owned());
                return Ok(loaded);
            }
            continue;
        }
        match decoded {
            Some(Line::Poll) => open_poll = Some(loaded.requests.len()),
            Some(Line::Polled) => open_poll = None,
            decoded => apply(&mut loaded, decoded),
        }
    }
    if let Some(before) = open_poll {
        for (_, state) in loaded.requests.iter_mut().take(before) {
            if *state == State::Awaiting {
                *state = State::Asked;
            }
        }
    }
    Ok(loaded)
}

/// Applies one decoded line (`None`: damaged) to what was read so far.
fn apply(loaded: &mut Loaded, line: Option<Line>) {
    let find = |loaded: &Loaded, channel: &str, url: &str, id: u64| {
        loaded
            .requests
            .iter()
            .rposition(|(r, _)| r.same_ack(channel, url, id))
    };
    match line {
        Some(Line::Sent(request)) => {
            if let Some(i) = find(loaded, &request.channel, &request.url, request.ack_id) {
                // The same ack id again (Splunk's counter restarted): the later request counts.
                loaded.requests.remove(i);
            }
            loaded.requests.push((request, State::Awaiting));
        }
        Some(Line::Indexed(channel, url, id)) => match find(loaded, &channel, &url, id) {
            Some(i) => {
                if let Some(entry) = loaded.requests.get_mut(i) {
                    entry.1 = State::Indexed;
                }
            }
            None => loaded.damaged += 1,
        },
        Some(Line::Expired(channel, url, id)) => match find(loaded, &channel, &url, id) {
            Some(i) => {
                loaded.requests.remove(i);
            }
            None => loaded.damaged += 1,
        },
        Some(Line::Header | Line::Poll | Line::Polled) | None => loaded.damaged += 1,
    }
}

/// The writer of one destination's ack-state file.
#[derive(Debug)]
pub(crate) struct Log {
    path: PathBuf,
    temp: PathBuf,
    file: Option<File>,
    len: u64,
    /// Writes that failed since start.
    errors: u64,
}

impl Log {
    /// The log at `path` (nothing is written before [`rewrite`](Self::rewrite)).
    #[must_use]
    pub(crate) fn new(path: PathBuf) -> Log {
        let mut temp = path.clone().into_os_string();
        temp.push(".tmp");
        Log {
            path,
            temp: PathBuf::from(temp),
            file: None,
            len: 0,
            errors: 0,
        }
    }

    /// The file's path.
    #[must_use]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes failed since start (each only costs resends after a restart).
    #[must_use]
    pub(crate) fn errors(&self) -> u64 {
        self.errors
    }

    /// Replaces the file with the header and, per request of `requests`, its `sent` line
    /// (and its `indexed` line for one in state [`State::Indexed`]): temp file, `fdatasync`,
    /// rename, `fsync` of the directory.
    ///
    /// # Errors
    ///
    /// A step failed; the old file (if any) is left in place.
    pub(crate) fn rewrite<'a>(
        &mut self,
        requests: impl IntoIterator<Item = (&'a Request, State)>,
    ) -> io::Result<()> {
        self.file = None;
        let mut text = Line::Header.encode();
        for (request, state) in requests {
            text.push_str(&Line::Sent(request.clone()).encode());
            if state == State::Indexed {
                let (channel, url) = (request.channel.clone(), request.url.clone());
                text.push_str(&Line::Indexed(channel, url, request.ack_id).encode());
            }
        }
        let result = self.replace(text.as_bytes());
        if result.is_err() {
            self.errors += 1;
        }
        result
    }

    fn replace(&mut self, text: &[u8]) -> io::Result<()> {
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        storage::create_dir_all(dir)?;
        let mut options = OpenOptions::new();
        options.write(true).truncate(true);
        let mut temp = storage::open_creating(&self.temp, &options)?;
        temp.write_all(text)?;
        temp.sync_data()?;
        std::fs::rename(&self.temp, &self.path)?;
        File::open(dir)?.sync_all()?;
        let mut options = OpenOptions::new();
        options.append(true);
        self.file = Some(storage::open_creating(&self.path, &options)?);
        self.len = text.len() as u64;
        Ok(())
    }

    /// Appends `line`, made durable first when `sync`; after a failed write, or past
    /// [`COMPACT_AT`], rewrites the file with `requests` instead (which must then include
    /// what `line` says).
    pub(crate) fn append<'a>(
        &mut self,
        line: &Line,
        sync: bool,
        requests: impl IntoIterator<Item = (&'a Request, State)>,
    ) {
        if self.file.is_none() || self.len >= COMPACT_AT {
            let _ = self.rewrite(requests);
            return;
        }
        let text = line.encode();
        let written = match self.file.as_mut() {
            Some(file) => file
                .write_all(text.as_bytes())
                .and_then(|()| if sync { file.sync_data() } else { Ok(()) }),
            None => Err(io::Error::other("not open")),
        };
        match written {
            Ok(()) => self.len += text.len() as u64,
            Err(_) => {
                // The next line rewrites the file rather than appending after a torn one.
                self.errors += 1;
                self.file = None;
            }
        }
    }

    /// Makes every line written durable (a clean stop).
    ///
    /// # Errors
    ///
    /// The `fdatasync` failed.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        match &self.file {
            Some(file) => file.sync_data(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn request(ack_id: u64, seqs: Vec<u64>) -> Request {
        Request {
            channel: "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b".into(),
            url: "https://[::1]:8088".into(),
            ack_id,
            sent_ms: 1_700_000_000_000 + ack_id,
            fingerprint: 0xdead_beef ^ ack_id as u32,
            seqs,
        }
    }

    fn written(dir: &Path) -> (Log, Request, Request, Request) {
        let mut log = Log::new(path(dir, "soc-hec"));
        let (a, b, c) = (
            request(0, (1..=100).collect()),
            request(1, vec![101, 103, 104]),
            request(2, vec![200]),
        );
        log.rewrite([(&a, State::Awaiting)]).unwrap();
        log.append(
            &Line::Sent(b.clone()),
            true,
            [(&a, State::Awaiting), (&b, State::Awaiting)],
        );
        log.append(
            &Line::Sent(c.clone()),
            true,
            [
                (&a, State::Awaiting),
                (&b, State::Awaiting),
                (&c, State::Awaiting),
            ],
        );
        log.append(
            &Line::Indexed(b.channel.clone(), b.url.clone(), 1),
            false,
            [
                (&b, State::Indexed),
                (&a, State::Awaiting),
                (&c, State::Awaiting),
            ],
        );
        (log, a, b, c)
    }

    #[test]
    fn the_log_round_trips_requests_and_their_states_with_explicit_modes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, a, b, c) = written(dir.path());
        log.append(
            &Line::Expired(c.channel.clone(), c.url.clone(), 2),
            false,
            [(&b, State::Indexed), (&a, State::Awaiting)],
        );
        let loaded = read(log.path()).unwrap();
        assert_eq!(
            loaded.requests,
            vec![(a.clone(), State::Awaiting), (b, State::Indexed)]
        );
        assert_eq!((loaded.damaged, loaded.ignored), (0, None));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(log.path()), 0o640);
        assert_eq!(mode(&dir.path().join(DIR)), 0o750);
        // A rewrite keeps exactly what is still awaited.
        log.rewrite([(&a, State::Awaiting)]).unwrap();
        assert_eq!(
            read(log.path()).unwrap().requests,
            vec![(a, State::Awaiting)]
        );
    }

    #[test]
    fn a_torn_tail_is_ignored_and_counted_and_the_lines_before_it_count() {
        let dir = tempfile::tempdir().unwrap();
        let (log, a, b, c) = written(dir.path());
        let whole = std::fs::read(log.path()).unwrap();
        // Every cut inside the last line (the `indexed` of b) keeps a and c awaiting and b
        // awaiting too: a lost `indexed` line only costs asking again.
        let last_start = whole[..whole.len() - 1]
            .iter()
            .rposition(|&x| x == b'\n')
            .unwrap()
            + 1;
        for cut in last_start + 1..whole.len() {
            std::fs::write(log.path(), &whole[..cut]).unwrap();
            let loaded = read(log.path()).unwrap();
            assert_eq!(loaded.damaged, 1, "cut at {cut}");
            assert_eq!(
                loaded.requests,
                vec![
                    (a.clone(), State::Awaiting),
                    (b.clone(), State::Awaiting),
                    (c.clone(), State::Awaiting)
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_corrupt_line_or_header_never_names_records_it_did_not_carry() {
        let dir = tempfile::tempdir().unwrap();
        let (log, a, b, c) = written(dir.path());
        let whole = std::fs::read(log.path()).unwrap();
        // Flip every bit of every line but the header: each damaged line is ignored (its
        // request then counts as awaiting or is unknown: records are resent, not skipped),
        // and no decoded request differs from one that was written.
        let header_len = Line::Header.encode().len();
        for byte in header_len..whole.len() {
            for bit in 0..8 {
                let mut bytes = whole.clone();
                bytes[byte] ^= 1 << bit;
                std::fs::write(log.path(), &bytes).unwrap();
                let loaded = read(log.path()).unwrap();
                assert!(
                    loaded.damaged >= 1 || bytes[byte] == b'\n',
                    "byte {byte} bit {bit}"
                );
                for (request, state) in &loaded.requests {
                    let known = [&a, &b, &c].contains(&request);
                    assert!(known, "byte {byte} bit {bit}: invented {request:?}");
                    if *state == State::Indexed {
                        assert_eq!(request.ack_id, 1, "byte {byte} bit {bit}");
                    }
                }
            }
        }
        // A damaged header: the whole file is ignored.
        let mut bytes = whole.clone();
        bytes[3] ^= 0x20;
        std::fs::write(log.path(), &bytes).unwrap();
        let loaded = read(log.path()).unwrap();
        assert!(loaded.requests.is_empty() && loaded.ignored.is_some());
        // Garbage and a missing file.
        std::fs::write(log.path(), b"\x00\x00garbage\nsent x y\n").unwrap();
        assert!(read(log.path()).unwrap().requests.is_empty());
        std::fs::remove_file(log.path()).unwrap();
        assert_eq!(read(log.path()).unwrap(), Loaded::default());
    }

    #[test]
    fn a_poll_cut_by_a_kill_marks_the_requests_it_may_have_consumed() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, a, b, c) = written(dir.path());
        let all = [
            (&b, State::Indexed),
            (&a, State::Awaiting),
            (&c, State::Awaiting),
        ];
        log.append(&Line::Poll, false, all);
        log.append(&Line::Polled, false, all);
        assert_eq!(
            read(log.path()).unwrap().requests,
            vec![
                (a.clone(), State::Awaiting),
                (b.clone(), State::Indexed),
                (c.clone(), State::Awaiting)
            ],
            "a finished poll changes nothing"
        );
        log.append(&Line::Poll, false, all);
        let d = request(3, vec![300]);
        log.append(&Line::Sent(d.clone()), true, all);
        assert_eq!(
            read(log.path()).unwrap().requests,
            vec![
                (a, State::Asked),
                (b, State::Indexed),
                (c, State::Asked),
                (d, State::Awaiting)
            ],
            "the poll the kill cut may have read their trues; d was sent after it"
        );
    }

    #[test]
    fn runs_are_compact_and_refuse_disorder() {
        assert_eq!(runs(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
        assert_eq!(parse_runs("1-3,5,7-8"), Some(vec![1, 2, 3, 5, 7, 8]));
        assert_eq!(parse_runs("5,3"), None);
        assert_eq!(parse_runs("3-1"), None);
        assert_eq!(parse_runs("1-3,3"), None);
        assert_eq!(parse_runs(""), None);
        assert_eq!(parse_runs("0-999999999999"), None, "bounded");
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::hec::ack_state::{Line, Request};

        let request = Request {
            channel: "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b".into(),
            url: "https://splunk.example:8088".into(),
            ack_id: 7,
            sent_ms: 1_700_000_000_000,
            fingerprint: 0x8a3f_1c2e,
            seqs: vec![10, 11, 12, 20],
        };
        let line = Line::Sent(request.clone()).encode();
        assert!(line.contains(" 10-12,20 "));
        assert_eq!(
            Line::decode(line.trim_end().as_bytes()),
            Some(Line::Sent(request))
        );
        assert_eq!(
            Line::decode(&line.as_bytes()[..line.len() - 4]),
            None,
            "a torn line"
        );
    }
}
