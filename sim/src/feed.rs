//! The sender: writes timed events as ingest JSON lines to standard output, a file, or the
//! forwarder's ingest socket, and tallies the forwarder's answers.
//!
//! Lines are encoded by the appliance's own [`encode_line`] and answers parsed by its
//! [`Answer::parse`], so the simulator cannot drift from the wire the forwarder documents.
//!
//! To a socket ([`Target::Unix`], [`Target::Tcp`]) the sender writes one line per event and
//! reads one answer line per line, pipelined: at most [`Options::window`] lines are written and
//! not yet answered, so a slow forwarder (one that fsyncs before it answers) slows the sender
//! down instead of piling lines up. A reader thread reads the answers; the sending thread waits
//! for one whenever the window is full. With [`Options::pace`] each event is sent at its offset
//! from the first one (the scenario's rate); otherwise as fast as the window allows. After the
//! last line the sender shuts down its writing half (the forwarder sees end of file) and waits
//! for the remaining answers, at most [`Options::answer_timeout`] for each.
//!
//! Choices (made here): answers arrive in the order of the lines, one each; an answer line is at
//! most [`MAX_ANSWER`] bytes; refusal and not-forwarded reasons are grouped by their text
//! (`field: error`), at most [`MAX_REASONS`] distinct ones, the rest counted together, so a
//! hostile or broken forwarder cannot make the tally grow without bound.
//!
//! Guarantees: every line sent is counted as accepted, not forwarded, refused, unreadable (an
//! answer that is not an [`Answer`]) or unanswered, so `sent = answered + unanswered`; a
//! connection that ends or stalls with lines in flight is reported in [`Tally::dropped`].
//! [`Tally::outcome`] sums the run up for an exit code.
//!
//! ```
//! use icsfwd_sim::feed::{self, Options, Outcome, Target};
//! use icsfwd_sim::scenario::{Params, Scenario};
//!
//! let path = std::env::temp_dir().join(format!("icsfwd-sim-feed-doc-{}.jsonl", std::process::id()));
//! let target: Target = format!("file:{}", path.display()).parse().unwrap();
//! let events = Scenario::Scan.events(&Params { count: 20, ..Params::default() }).unwrap();
//! let tally = feed::send(events, &target, &Options::default(), &mut |_| {}).unwrap();
//! assert_eq!(tally.sent, 20);
//! assert_eq!(tally.outcome(), Outcome::Clean);
//! let text = std::fs::read_to_string(&path).unwrap();
//! assert!(text.lines().all(|line| line.starts_with(r#"{"type":""#)));
//! # std::fs::remove_file(&path).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead as _, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use icsfwd::ingest::schema::{Answer, encode_line};
use icsfwd::send::{self, Conn};
use icsfwd_core::alert::Event;

/// The longest answer line read, without its LF.
pub const MAX_ANSWER: usize = 64 * 1024;
/// The most distinct reasons kept per kind; more are counted as "other reasons".
pub const MAX_REASONS: usize = 64;
/// The largest accepted [`Options::window`].
pub const MAX_WINDOW: usize = 65_536;

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Standard output (`stdout` or `-`); no answers.
    Stdout,
    /// A file, created or truncated (`file:PATH`); no answers.
    File(PathBuf),
    /// The forwarder's ingest unix socket (`unix:PATH`).
    Unix(PathBuf),
    /// A TCP ingest address (`tcp:127.0.0.1:PORT`; an IP address, no host name lookup).
    Tcp(SocketAddr),
}

impl Target {
    /// Whether the target answers each line.
    pub fn answers(&self) -> bool {
        matches!(self, Target::Unix(_) | Target::Tcp(_))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Stdout => f.write_str("stdout"),
            Target::File(path) => write!(f, "file:{}", path.display()),
            Target::Unix(path) => write!(f, "unix:{}", path.display()),
            Target::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// A `--to` value that is not a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError(String);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a target: give stdout, file:PATH, unix:PATH or tcp:IP:PORT",
            self.0
        )
    }
}

impl std::error::Error for TargetError {}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(text: &str) -> Result<Target, TargetError> {
        let bad = || TargetError(text.to_owned());
        if text == "stdout" || text == "-" {
            return Ok(Target::Stdout);
        }
        let (scheme, rest) = text.split_once(':').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        match scheme {
            "file" => Ok(Target::File(PathBuf::from(rest))),
            "unix" => Ok(Target::Unix(PathBuf::from(rest))),
            "tcp" => rest.parse().map(Target::Tcp).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

/// How to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Most lines written and not yet answered (1..=[`MAX_WINDOW`]).
    pub window: usize,
    /// Send each event at its offset from the first (real time) instead of at once.
    pub pace: bool,
    /// Longest wait for one answer before the connection is given up as stalled.
    pub answer_timeout: Duration,
    /// How often the progress callback is called during a run.
    pub progress_every: Duration,
}

impl Default for Options {
    /// A window of 64 lines, no pacing, 30 s per answer, progress every 2 s.
    fn default() -> Options {
        Options {
            window: 64,
            pace: false,
            answer_timeout: Duration::from_secs(30),
            progress_every: Duration::from_secs(2),
        }
    }
}

/// Reasons with their counts, bounded to [`MAX_REASONS`] distinct texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reasons {
    counts: BTreeMap<String, u64>,
    other: u64,
}

impl Reasons {
    /// Counts one occurrence of `reason`.
    pub fn add(&mut self, reason: String) {
        if let Some(count) = self.counts.get_mut(&reason) {
            *count += 1;
        } else if self.counts.len() < MAX_REASONS {
            self.counts.insert(reason, 1);
        } else {
            self.other += 1;
        }
    }

    /// The reasons, most frequent first (ties in text order).
    pub fn by_count(&self) -> Vec<(&str, u64)> {
        let mut reasons: Vec<(&str, u64)> =
            self.counts.iter().map(|(r, n)| (r.as_str(), *n)).collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        reasons
    }

    /// Occurrences of reasons beyond the first [`MAX_REASONS`] distinct ones.
    pub fn other(&self) -> u64 {
        self.other
    }

    /// The count of `reason`.
    pub fn count(&self, reason: &str) -> u64 {
        self.counts.get(reason).copied().unwrap_or(0)
    }
}

/// How a run went, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every line was written, and (to a socket) answered accepted or not forwarded.
    Clean,
    /// Some lines were refused; every line was answered.
    Refused,
    /// The connection ended or stalled with lines unanswered or unsent, or an answer was
    /// unreadable.
    Dropped,
}

impl Outcome {
    /// The documented exit code: 0 clean, 3 refused, 4 dropped.
    pub const fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Refused => 3,
            Outcome::Dropped => 4,
        }
    }
}

/// What happened to the lines of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Lines written.
    pub sent: u64,
    /// Events the scenario offered that were never written (the connection ended first).
    pub unsent: u64,
    /// Lines answered "accepted".
    pub accepted: u64,
    /// Of those, accepted with fields cut to their capacity.
    pub truncated: u64,
    /// Lines answered "not forwarded".
    pub not_forwarded: u64,
    /// Lines answered "refused".
    pub refused: u64,
    /// Answer lines that are not answers.
    pub unreadable: u64,
    /// Why lines were not forwarded.
    pub not_forwarded_reasons: Reasons,
    /// Why lines were refused (`field: error (allowed: ...)`).
    pub refusal_reasons: Reasons,
    /// Why the connection ended before every line was answered, if it did.
    pub dropped: Option<String>,
    /// Whether the target answers (a socket).
    pub answers_expected: bool,
    /// Time from the first line to the last answer.
    pub elapsed: Duration,
}

impl Tally {
    /// Lines answered, readable or not.
    pub fn answered(&self) -> u64 {
        self.accepted + self.not_forwarded + self.refused + self.unreadable
    }

    /// Lines written and never answered (0 when the target does not answer).
    pub fn unanswered(&self) -> u64 {
        if self.answers_expected {
            self.sent.saturating_sub(self.answered())
        } else {
            0
        }
    }

    /// Lines per second achieved.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.sent as f64 / seconds
        } else {
            0.0
        }
    }

    /// The run summed up for an exit code.
    pub fn outcome(&self) -> Outcome {
        if self.dropped.is_some() || self.unanswered() > 0 || self.unsent > 0 || self.unreadable > 0
        {
            Outcome::Dropped
        } else if self.refused > 0 {
            Outcome::Refused
        } else {
            Outcome::Clean
        }
    }

    /// Counts one answer line.
    pub fn record(&mut self, line: &str) {
        match Answer::parse(line) {
            Ok(Answer::Accepted { truncated, .. }) => {
                self.accepted += 1;
                if !truncated.is_empty() {
                    self.truncated += 1;
                }
            }
            Ok(Answer::NotForwarded { reason, .. }) => {
                self.not_forwarded += 1;
                self.not_forwarded_reasons.add(reason);
            }
            Ok(Answer::Refused {
                field,
                error,
                allowed,
            }) => {
                self.refused += 1;
                let mut reason = match field {
                    Some(field) => format!("{field}: {error}"),
                    None => error,
                };
                if let Some(allowed) = allowed {
                    reason.push_str(&format!(" (allowed: {allowed})"));
                }
                self.refusal_reasons.add(reason);
            }
            Err(_) => self.unreadable += 1,
        }
    }
}

impl fmt::Display for Tally {
    /// A human summary, several lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = if self.sent == 1 { "line" } else { "lines" };
        write!(
            f,
            "sent {} {lines} in {:.1} s ({:.1}/s)",
            self.sent,
            self.elapsed.as_secs_f64(),
            self.rate()
        )?;
        if self.unsent > 0 {
            write!(f, ", {} never sent", self.unsent)?;
        }
        if !self.answers_expected {
            return Ok(());
        }
        write!(
            f,
            "\naccepted {} ({} with truncated fields), not forwarded {}, refused {}, unanswered {}",
            self.accepted,
            self.truncated,
            self.not_forwarded,
            self.refused,
            self.unanswered()
        )?;
        if self.unreadable > 0 {
            write!(f, ", unreadable answers {}", self.unreadable)?;
        }
        for (title, reasons) in [
            ("refused", &self.refusal_reasons),
            ("not forwarded", &self.not_forwarded_reasons),
        ] {
            for (reason, count) in reasons.by_count() {
                write!(f, "\n  {title} {count}x: {reason}")?;
            }
            if reasons.other() > 0 {
                write!(f, "\n  {title} {}x: (other reasons)", reasons.other())?;
            }
        }
        if let Some(why) = &self.dropped {
            write!(f, "\nconnection dropped: {why}")?;
        }
        Ok(())
    }
}

/// Why a run could not start or write.
#[derive(Debug)]
#[non_exhaustive]
pub enum FeedError {
    /// The ingest socket could not be reached.
    Connect {
        /// The target.
        target: String,
        /// The system's reason.
        source: io::Error,
    },
    /// The output file could not be created.
    Create {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// Writing to standard output or the file failed.
    Write(io::Error),
    /// The window is out of range.
    Window(usize),
}

impl fmt::Display for FeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The system's reason follows as the cause (`{:#}` prints the chain).
            FeedError::Connect { target, .. } => write!(
                f,
                "cannot connect to {target} (is icsfwd running? the socket path is set in \
                 [ingest] of icsfwd.toml)"
            ),
            FeedError::Create { path, .. } => write!(f, "cannot create {}", path.display()),
            FeedError::Write(_) => f.write_str("writing the lines"),
            FeedError::Window(window) => {
                write!(f, "window {window} is out of range: give 1 to {MAX_WINDOW}")
            }
        }
    }
}

impl std::error::Error for FeedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FeedError::Connect { source, .. }
            | FeedError::Create { source, .. }
            | FeedError::Write(source) => Some(source),
            FeedError::Window(_) => None,
        }
    }
}

/// Sends `events` to `target` and tallies the answers; `progress` is called every
/// [`Options::progress_every`] with the tally so far.
pub fn send(
    events: impl Iterator<Item = (u64, Event)>,
    target: &Target,
    options: &Options,
    progress: &mut dyn FnMut(&Tally),
) -> Result<Tally, FeedError> {
    if !(1..=MAX_WINDOW).contains(&options.window) {
        return Err(FeedError::Window(options.window));
    }
    match target {
        Target::Stdout => write_lines(events, io::stdout().lock(), options, progress),
        Target::File(path) => {
            let file = File::create(path).map_err(|source| FeedError::Create {
                path: path.clone(),
                source,
            })?;
            write_lines(events, file, options, progress)
        }
        Target::Unix(path) => {
            let conn = Conn::connect(&send::Target::Unix(path.clone())).map_err(|source| {
                FeedError::Connect {
                    target: target.to_string(),
                    source,
                }
            })?;
            exchange(events, conn, options, progress)
        }
        Target::Tcp(addr) => {
            let conn =
                Conn::connect(&send::Target::Tcp(*addr)).map_err(|source| FeedError::Connect {
                    target: target.to_string(),
                    source,
                })?;
            exchange(events, conn, options, progress)
        }
    }
}

/// Paces to the offsets of the events, from the first one.
struct Pacer {
    start: Instant,
    first_offset_ms: Option<u64>,
}

impl Pacer {
    fn new() -> Pacer {
        Pacer {
            start: Instant::now(),
            first_offset_ms: None,
        }
    }

    /// When the event at `offset_ms` is due.
    fn due(&mut self, offset_ms: u64) -> Instant {
        let first = *self.first_offset_ms.get_or_insert(offset_ms);
        self.start + Duration::from_millis(offset_ms.saturating_sub(first))
    }
}

/// Writes lines to a sink that does not answer.
fn write_lines(
    events: impl Iterator<Item = (u64, Event)>,
    sink: impl Write,
    options: &Options,
    progress: &mut dyn FnMut(&Tally),
) -> Result<Tally, FeedError> {
    let mut out = BufWriter::new(sink);
    let mut tally = Tally::default();
    let mut pacer = Pacer::new();
    let mut last_progress = Instant::now();
    for (offset_ms, event) in events {
        if options.pace {
            let due = pacer.due(offset_ms);
            let now = Instant::now();
            if due > now {
                out.flush().map_err(FeedError::Write)?;
                thread::sleep(due - now);
            }
        }
        let mut line = encode_line(&event);
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(FeedError::Write)?;
        tally.sent += 1;
        if last_progress.elapsed() >= options.progress_every {
            last_progress = Instant::now();
            tally.elapsed = pacer.start.elapsed();
            progress(&tally);
        }
    }
    out.flush().map_err(FeedError::Write)?;
    tally.elapsed = pacer.start.elapsed();
    Ok(tally)
}

/// What the reader thread reports.
#[derive(Debug)]
enum Reply {
    Line(String),
    /// The forwarder closed its side.
    End,
    /// Reading failed, or an answer was too long.
    Failed(String),
}

/// Reads answer lines until the end, an error or an over-long line.
fn read_answers(conn: Conn, tx: &mpsc::Sender<Reply>) {
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = Vec::new();
        let limit = MAX_ANSWER as u64 + 1;
        let reply = match (&mut reader).take(limit).read_until(b'\n', &mut line) {
            Ok(0) => Reply::End,
            Ok(_) if line.last() == Some(&b'\n') => {
                line.pop();
                Reply::Line(String::from_utf8_lossy(&line).into_owned())
            }
            Ok(_) if line.len() > MAX_ANSWER => {
                Reply::Failed(format!("an answer line is longer than {MAX_ANSWER} bytes"))
            }
            // The last line without its LF, then the end.
            Ok(_) => Reply::Line(String::from_utf8_lossy(&line).into_owned()),
            Err(e) => Reply::Failed(format!("reading the answers: {e}")),
        };
        let last = matches!(reply, Reply::End | Reply::Failed(_));
        if tx.send(reply).is_err() || last {
            return;
        }
    }
}

/// The state of one socket run.
struct Exchange<'a> {
    tally: Tally,
    replies: Receiver<Reply>,
    /// The reader reported the end or a failure: no more answers will come.
    finished: bool,
    /// Writing failed (the forwarder closed or reset the connection): the answers it sent
    /// before may still be waiting to be read.
    write_failed: bool,
    options: &'a Options,
    start: Instant,
    last_progress: Instant,
}

impl Exchange<'_> {
    fn in_flight(&self) -> u64 {
        self.tally.sent.saturating_sub(self.tally.answered())
    }

    fn handle(&mut self, reply: Reply) {
        match reply {
            Reply::Line(line) => self.tally.record(&line),
            Reply::End => {
                self.finished = true;
                if self.in_flight() > 0 {
                    self.drop_with("the forwarder closed the connection".to_owned());
                }
            }
            Reply::Failed(why) => {
                self.finished = true;
                self.drop_with(why);
            }
        }
    }

    fn drop_with(&mut self, why: String) {
        self.tally.dropped.get_or_insert(why);
    }

    /// Waits for one reply until `deadline`; `false` when none came in time or none can come.
    fn wait_until(&mut self, deadline: Instant) -> bool {
        if self.finished {
            return false;
        }
        let timeout = deadline.saturating_duration_since(Instant::now());
        match self.replies.recv_timeout(timeout) {
            Ok(reply) => {
                self.handle(reply);
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                self.finished = true;
                false
            }
        }
    }

    /// Waits for one answer, at most the answer timeout; records a stall.
    fn wait_for_answer(&mut self) -> bool {
        let deadline = Instant::now() + self.options.answer_timeout;
        let answered = self.wait_until(deadline);
        if !answered && !self.finished {
            let why = format!(
                "no answer within {} s with {} lines in flight",
                self.options.answer_timeout.as_secs_f64(),
                self.in_flight()
            );
            self.drop_with(why);
        }
        answered
    }

    /// Whether sending must stop: the connection dropped, or the forwarder closed it (which
    /// drops it for the lines not yet sent).
    fn stopped(&mut self) -> bool {
        if self.finished {
            self.drop_with("the forwarder closed the connection".to_owned());
        }
        self.tally.dropped.is_some()
    }

    fn drain_ready(&mut self) {
        while let Ok(reply) = self.replies.try_recv() {
            self.handle(reply);
        }
    }

    fn progress(&mut self, progress: &mut dyn FnMut(&Tally)) {
        if self.last_progress.elapsed() >= self.options.progress_every {
            self.last_progress = Instant::now();
            self.tally.elapsed = self.start.elapsed();
            progress(&self.tally);
        }
    }
}

/// Sends lines over a socket and reads the answers, pipelined.
fn exchange(
    events: impl Iterator<Item = (u64, Event)>,
    conn: Conn,
    options: &Options,
    progress: &mut dyn FnMut(&Tally),
) -> Result<Tally, FeedError> {
    let reading = conn.try_clone().map_err(FeedError::Write)?;
    let (tx, rx) = mpsc::channel();
    let reader = thread::Builder::new()
        .name("icsfwd-sim answers".to_owned())
        .spawn(move || read_answers(reading, &tx))
        .map_err(FeedError::Write)?;
    let control = conn.try_clone().map_err(FeedError::Write)?;
    let mut out = BufWriter::new(conn);
    let mut run = Exchange {
        tally: Tally {
            answers_expected: true,
            ..Tally::default()
        },
        replies: rx,
        finished: false,
        write_failed: false,
        options,
        start: Instant::now(),
        last_progress: Instant::now(),
    };
    let mut pacer = Pacer::new();
    let window = options.window as u64;
    let mut events = events;
    while let Some((offset_ms, event)) = events.next() {
        if options.pace && !run.stopped() {
            let due = pacer.due(offset_ms);
            if flush(&mut out, &mut run).is_ok() {
                while Instant::now() < due && run.wait_until(due) {}
            }
        }
        run.drain_ready();
        while !run.stopped() && run.in_flight() >= window {
            if flush(&mut out, &mut run).is_err() || !run.wait_for_answer() {
                break;
            }
        }
        if run.stopped() {
            run.tally.unsent = 1 + events.count() as u64;
            break;
        }
        let mut line = encode_line(&event);
        line.push('\n');
        if let Err(e) = out.write_all(line.as_bytes()) {
            run.write_failed = true;
            run.drop_with(format!("writing a line: {e}"));
            run.tally.unsent = 1 + events.count() as u64;
            break;
        }
        run.tally.sent += 1;
        run.progress(progress);
    }
    if flush(&mut out, &mut run).is_ok() {
        // End of file for the forwarder: no more lines.
        control.shutdown(Shutdown::Write);
    }
    // After a failed write the connection is gone for sending, but the answers the forwarder
    // wrote before it closed are still to be read (and counted) until the reader ends.
    while run.in_flight() > 0
        && (run.tally.dropped.is_none() || run.write_failed)
        && run.wait_for_answer()
    {
        run.progress(progress);
    }
    if run.in_flight() > 0 && run.tally.dropped.is_none() {
        run.drop_with("the connection ended with lines unanswered".to_owned());
    }
    // Unblocks the reader if it still waits, so it can be joined.
    control.shutdown(Shutdown::Both);
    drop(out);
    drop(run.replies);
    let _ = reader.join();
    run.tally.elapsed = run.start.elapsed();
    Ok(run.tally)
}

/// Flushes the written lines; a failure drops the connection.
fn flush(out: &mut BufWriter<Conn>, run: &mut Exchange<'_>) -> io::Result<()> {
    out.flush().inspect_err(|e| {
        run.write_failed = true;
        run.drop_with(format!("writing a line: {e}"));
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;
    use crate::scenario::{Params, Scenario};

    #[test]
    fn targets_parse_from_their_command_line_form() {
        let table = [
            ("stdout", Some(Target::Stdout)),
            ("-", Some(Target::Stdout)),
            (
                "file:/tmp/a.jsonl",
                Some(Target::File("/tmp/a.jsonl".into())),
            ),
            (
                "unix:/run/icsfwd/ingest.sock",
                Some(Target::Unix("/run/icsfwd/ingest.sock".into())),
            ),
            (
                "tcp:127.0.0.1:7000",
                Some(Target::Tcp(SocketAddr::from(([127, 0, 0, 1], 7000)))),
            ),
            (
                "tcp:[::1]:7000",
                Some(Target::Tcp("[::1]:7000".parse().unwrap())),
            ),
            ("tcp:localhost:7000", None),
            ("unix:", None),
            ("ftp:host", None),
            ("ingest.sock", None),
        ];
        for (text, expected) in table {
            assert_eq!(text.parse::<Target>().ok(), expected, "{text}");
            if let Some(target) = expected.filter(|t| *t != Target::Stdout) {
                assert_eq!(target.to_string(), text);
            }
        }
    }

    #[test]
    fn one_line_is_one_line_in_the_summary() {
        let one = Tally {
            sent: 1,
            ..Tally::default()
        };
        assert!(one.to_string().starts_with("sent 1 line in "), "{one}");
        let two = Tally {
            sent: 2,
            ..Tally::default()
        };
        assert!(two.to_string().starts_with("sent 2 lines in "), "{two}");
    }

    #[test]
    fn answers_are_tallied_by_kind_and_reason() {
        let mut tally = Tally {
            answers_expected: true,
            sent: 6,
            ..Tally::default()
        };
        for line in [
            r#"{"status":"accepted","id":"s-1"}"#,
            r#"{"status":"accepted","id":"s-2","truncated":["message"]}"#,
            r#"{"status":"not_forwarded","id":"s-3","reason":"no rule matches"}"#,
            r#"{"status":"refused","field":null,"error":"line is not JSON","allowed":null}"#,
            r#"{"status":"refused","field":null,"error":"line is not JSON","allowed":null}"#,
            "garbage",
        ] {
            tally.record(line);
        }
        assert_eq!((tally.accepted, tally.truncated), (2, 1));
        assert_eq!(tally.not_forwarded_reasons.count("no rule matches"), 1);
        assert_eq!(tally.refusal_reasons.count("line is not JSON"), 2);
        assert_eq!((tally.unreadable, tally.unanswered()), (1, 0));
        assert_eq!(tally.outcome(), Outcome::Dropped);
    }

    #[test]
    fn the_outcome_is_the_worst_thing_that_happened() {
        let base = Tally {
            answers_expected: true,
            sent: 2,
            accepted: 2,
            ..Tally::default()
        };
        let refused = Tally {
            accepted: 1,
            refused: 1,
            ..base.clone()
        };
        let unanswered = Tally {
            accepted: 1,
            ..base.clone()
        };
        let unsent = Tally {
            unsent: 1,
            ..base.clone()
        };
        let both = Tally {
            accepted: 0,
            refused: 1,
            ..base.clone()
        };
        let table = [
            (&base, Outcome::Clean, 0),
            (&refused, Outcome::Refused, 3),
            (&unanswered, Outcome::Dropped, 4),
            (&unsent, Outcome::Dropped, 4),
            (&both, Outcome::Dropped, 4),
        ];
        for (tally, outcome, code) in table {
            assert_eq!(tally.outcome(), outcome, "{tally:?}");
            assert_eq!(outcome.exit_code(), code);
        }
    }

    #[test]
    fn reasons_are_bounded() {
        let mut reasons = Reasons::default();
        for i in 0..MAX_REASONS + 10 {
            reasons.add(format!("reason {i}"));
        }
        reasons.add("reason 0".to_owned());
        assert_eq!(reasons.by_count().len(), MAX_REASONS);
        assert_eq!(reasons.by_count().first(), Some(&("reason 0", 2)));
        assert_eq!(reasons.other(), 10);
    }

    #[test]
    fn progress_is_reported_during_a_run() {
        let path = std::env::temp_dir().join(format!("icsfwd-sim-progress-{}", std::process::id()));
        let target = Target::File(path.clone());
        let options = Options {
            progress_every: Duration::ZERO,
            ..Options::default()
        };
        let events = Scenario::Steady
            .events(&Params {
                count: 10,
                ..Params::default()
            })
            .unwrap();
        let mut seen = Vec::new();
        let tally = send(events, &target, &options, &mut |t| seen.push(t.sent)).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(tally.sent, 10);
        assert_eq!(seen, (1..=10).collect::<Vec<u64>>());
    }

    #[test]
    fn a_window_out_of_range_is_refused() {
        for window in [0, MAX_WINDOW + 1] {
            let options = Options {
                window,
                ..Options::default()
            };
            let events = Scenario::Steady.events(&Params::default()).unwrap();
            let err = send(events, &Target::Stdout, &options, &mut |_| {}).unwrap_err();
            assert!(matches!(err, FeedError::Window(w) if w == window));
        }
    }
}
