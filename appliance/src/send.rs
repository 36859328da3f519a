//! `icsfwd send`: submits JSON lines from a file or standard input to the ingest socket and
//! prints each answer.
//!
//! [`run_send`] connects to a [`Target`] (the Unix socket, or a loopback TCP address), writes
//! the input's lines pipelined — at most [`SendOptions::window`] written and not yet answered —
//! and writes each answer line to `out` as `<input line number>: <answer JSON>`, in input
//! order. It returns a [`Summary`]; the command prints it (`Display`) to standard error, so
//! standard output holds only answers and can be filtered (`grep refused`).
//!
//! Choices:
//! - Blank input lines (empty or only blanks) are skipped, not sent: the server would refuse
//!   them ("line is empty"), and a file that ends in an empty line is common. They are
//!   counted in [`Summary::skipped`]; line numbers still count them.
//! - An input line longer than [`SendOptions::max_line`] is not sent: it is answered locally
//!   with the refusal the server would give (same text), so the input is read in bounded
//!   memory.
//! - An answer line longer than [`MAX_ANSWER`] or that is not an [`Answer`] is printed as
//!   far as read and counted unreadable; the run then ends as "connection lost" (exit 4),
//!   since the answers can no longer be trusted to match the lines.
//!
//! Exit codes ([`Summary::exit_code`], [`SendError::EXIT_CODE`]): 0 every line accepted or
//! not forwarded, 3 some refused (every line answered), 4 the connection was lost or stalled
//! with lines unanswered (or an answer was unreadable), 1 the command could not run (cannot
//! connect, input unreadable, output unwritable).
//!
//! ```no_run
//! use icsfwd::send::{SendOptions, Target, run_send};
//!
//! let input: &[u8] = br#"{"type":"heartbeat","sensor":{"name":"s1","ip":"10.0.0.9"}}"#;
//! let target = Target::Unix("/run/icsfwd/ingest.sock".into());
//! let mut out = Vec::new();
//! let summary = run_send(input, &target, &mut out, &SendOptions::default())?;
//! assert_eq!(String::from_utf8(out)?, "1: {\"status\":\"accepted\",\"id\":\"s1\"}\n");
//! assert_eq!(summary.exit_code(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use crate::exit::Exit;
use crate::ingest::schema::{Answer, MAX_LINE_BYTES_LIMIT, too_long};
use crate::ingest::server::{LineRead, read_line_bounded};

/// The longest answer line read, without its LF.
pub const MAX_ANSWER: usize = 64 * 1024;

/// Where `icsfwd send` connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The ingest Unix socket (`--socket PATH`).
    Unix(PathBuf),
    /// A loopback TCP ingest address (`--tcp ADDR`).
    Tcp(SocketAddr),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Unix(path) => write!(f, "unix:{}", path.display()),
            Target::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// How to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Lines written and not yet answered, at most (at least 1).
    pub window: usize,
    /// The longest wait for one answer before the connection is given up as stalled.
    pub answer_timeout: Duration,
    /// The longest line sent (without its LF); a longer one is answered locally with the
    /// server's refusal. The server's own bound is `[ingest] max_line_bytes`, which
    /// `icsfwd send -c FILE` uses; without a configuration, the largest bound a server can
    /// have ([`MAX_LINE_BYTES_LIMIT`]), so the server judges every line it could take.
    pub max_line: usize,
}

impl Default for SendOptions {
    /// A window of 64 lines, 30 s per answer, lines up to [`MAX_LINE_BYTES_LIMIT`].
    fn default() -> Self {
        SendOptions {
            window: 64,
            answer_timeout: Duration::from_secs(30),
            max_line: MAX_LINE_BYTES_LIMIT,
        }
    }
}

/// What happened to the input's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines sent (or, when over-long, answered locally).
    pub lines: u64,
    /// Blank lines skipped.
    pub skipped: u64,
    /// Answered `accepted`.
    pub accepted: u64,
    /// Answered `not_forwarded`.
    pub not_forwarded: u64,
    /// Answered `refused` (over-long lines included).
    pub refused: u64,
    /// Answer lines that are not answers.
    pub unreadable: u64,
    /// Lines sent and never answered.
    pub unanswered: u64,
    /// Why the connection was lost with lines unanswered, if it was.
    pub lost: Option<String>,
}

impl Summary {
    /// What the run comes to: [`Exit::Success`] all accepted or not forwarded,
    /// [`Exit::Refused`] some refused, [`Exit::Unanswered`] connection lost or answers
    /// unreadable.
    pub fn exit(&self) -> Exit {
        if self.lost.is_some() || self.unanswered > 0 || self.unreadable > 0 {
            Exit::Unanswered
        } else if self.refused > 0 {
            Exit::Refused
        } else {
            Exit::Success
        }
    }

    /// The exit code of [`exit`](Self::exit): 0 all accepted or not forwarded, 3 some
    /// refused, 4 connection lost or answers unreadable.
    pub fn exit_code(&self) -> u8 {
        self.exit().code()
    }
}

/// `1 line`, `2 lines`: a count and its noun, singular or plural.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sent: {} accepted, {} not forwarded, {} refused",
            counted(self.lines, "line", "lines"),
            self.accepted,
            self.not_forwarded,
            self.refused
        )?;
        if self.unreadable > 0 {
            let answers = counted(self.unreadable, "unreadable answer", "unreadable answers");
            write!(f, ", {answers}")?;
        }
        if self.unanswered > 0 {
            write!(f, ", {} unanswered", self.unanswered)?;
        }
        if self.skipped > 0 {
            let blank = counted(self.skipped, "blank line", "blank lines");
            write!(f, " ({blank} skipped)")?;
        }
        if let Some(lost) = &self.lost {
            write!(f, "; connection lost: {lost}")?;
        }
        Ok(())
    }
}

/// Why `icsfwd send` could not run (exit code 1).
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError {
    /// The ingest socket could not be reached.
    Connect {
        /// Where.
        target: Target,
        /// The system's reason.
        source: io::Error,
    },
    /// The input file could not be opened.
    Open {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// Reading the input failed.
    Input(io::Error),
    /// Writing the answers to the output failed.
    Output(io::Error),
}

impl SendError {
    /// The exit code of every `SendError` ([`Exit::Failed`]).
    pub const EXIT_CODE: u8 = Exit::Failed.code();
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Connect { target, .. } => write!(
                f,
                "cannot connect to {target}: is icsfwd running? the socket path is [ingest] \
                 socket in icsfwd.toml"
            ),
            SendError::Open { path, .. } => write!(f, "cannot open {}", path.display()),
            SendError::Input(_) => f.write_str("cannot read the input"),
            SendError::Output(_) => f.write_str("cannot write the answers"),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Connect { source, .. }
            | SendError::Open { source, .. }
            | SendError::Input(source)
            | SendError::Output(source) => Some(source),
        }
    }
}

/// Opens the `FILE|-` argument: `-` (or none) is standard input.
///
/// # Errors
///
/// [`SendError::Open`] when the file cannot be opened.
pub fn open_input(arg: Option<&str>) -> Result<Box<dyn BufRead>, SendError> {
    match arg {
        None | Some("-") => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(path) => File::open(path)
            .map(|file| Box::new(BufReader::new(file)) as Box<dyn BufRead>)
            .map_err(|source| SendError::Open {
                path: PathBuf::from(path),
                source,
            }),
    }
}

/// A connection to an ingest endpoint, Unix or TCP, readable and writable, that can be cloned
/// (one thread writes lines while another reads answers) and half-closed. Also used by the
/// simulator's sender.
#[derive(Debug)]
pub enum Conn {
    /// A Unix socket.
    Unix(UnixStream),
    /// A TCP connection (`TCP_NODELAY`: lines are small and answered one by one).
    Tcp(TcpStream),
}

impl Conn {
    /// Connects to `target`.
    ///
    /// # Errors
    ///
    /// The connection failed (nothing listening, permissions).
    pub fn connect(target: &Target) -> io::Result<Conn> {
        match target {
            Target::Unix(path) => UnixStream::connect(path).map(Conn::Unix),
            Target::Tcp(addr) => {
                let stream = TcpStream::connect(addr)?;
                stream.set_nodelay(true)?;
                Ok(Conn::Tcp(stream))
            }
        }
    }

    /// A second handle on the same connection.
    ///
    /// # Errors
    ///
    /// The descriptor could not be duplicated.
    pub fn try_clone(&self) -> io::Result<Conn> {
        match self {
            Conn::Unix(s) => s.try_clone().map(Conn::Unix),
            Conn::Tcp(s) => s.try_clone().map(Conn::Tcp),
        }
    }

    /// Shuts down one or both directions; an error (the peer already gone) is ignored.
    pub fn shutdown(&self, how: Shutdown) {
        // The peer may be gone already; the reader thread finds out on its own.
        let _ = match self {
            Conn::Unix(s) => s.shutdown(how),
            Conn::Tcp(s) => s.shutdown(how),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.flush(),
            Conn::Tcp(s) => s.flush(),
        }
    }
}

/// One answer line as read: its text, and whether it was cut at [`MAX_ANSWER`].
type AnswerLine = (String, bool);

/// Reads answer lines until end of file or an error, handing each to the sender.
fn read_answers(conn: Conn, tx: &mpsc::Sender<io::Result<AnswerLine>>) {
    let mut reader = BufReader::new(conn);
    let mut line = Vec::new();
    loop {
        let (text, cut) = match read_line_bounded(&mut reader, &mut line, MAX_ANSWER) {
            Ok(LineRead::End) => return,
            Ok(LineRead::Line) => (String::from_utf8_lossy(&line).into_owned(), false),
            Ok(LineRead::TooLong(len)) => (format!("<answer of {len} bytes>"), true),
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        if tx.send(Ok((text, cut))).is_err() {
            return;
        }
    }
}

/// Where an input line's answer comes from.
enum InFlight {
    /// Sent; the server answers it.
    Sent(u64),
    /// Over-long, not sent; answered locally in its turn.
    Local(u64, Answer),
}

struct Run<'o, W: Write> {
    out: &'o mut W,
    summary: Summary,
    in_flight: VecDeque<InFlight>,
    sent_unanswered: usize,
}

impl<W: Write> Run<'_, W> {
    fn print(&mut self, number: u64, text: &str) -> Result<(), SendError> {
        writeln!(self.out, "{number}: {text}").map_err(SendError::Output)
    }

    fn count(&mut self, answer: &Answer) {
        match answer {
            Answer::Accepted { .. } => self.summary.accepted += 1,
            Answer::NotForwarded { .. } => self.summary.not_forwarded += 1,
            Answer::Refused { .. } => self.summary.refused += 1,
        }
    }

    /// Prints the locally answered lines at the front of the queue.
    fn print_local(&mut self) -> Result<(), SendError> {
        while let Some(InFlight::Local(..)) = self.in_flight.front() {
            if let Some(InFlight::Local(number, answer)) = self.in_flight.pop_front() {
                self.count(&answer);
                self.print(number, &answer.to_line())?;
            }
        }
        Ok(())
    }

    /// Waits for the next server answer and prints it (with the local ones before and after
    /// it). `Ok(false)`: the connection is lost.
    fn take_answer(
        &mut self,
        rx: &Receiver<io::Result<AnswerLine>>,
        timeout: Duration,
    ) -> Result<bool, SendError> {
        self.print_local()?;
        let Some(InFlight::Sent(number)) = self.in_flight.front() else {
            return Ok(true);
        };
        let number = *number;
        let (text, cut) = match rx.recv_timeout(timeout) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return self.lose(format!("reading answers failed: {e}")),
            Err(RecvTimeoutError::Timeout) => {
                return self.lose(format!(
                    "no answer within {} s",
                    timeout.as_secs_f64().round()
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return self.lose("the server closed the connection".to_owned());
            }
        };
        self.in_flight.pop_front();
        self.sent_unanswered = self.sent_unanswered.saturating_sub(1);
        self.print(number, &text)?;
        match Answer::parse(&text) {
            Ok(answer) if !cut => self.count(&answer),
            _ => {
                self.summary.unreadable += 1;
                return self.lose("an answer line is not an ingest answer".to_owned());
            }
        }
        self.print_local()?;
        Ok(true)
    }

    fn lose(&mut self, why: String) -> Result<bool, SendError> {
        self.summary.lost = Some(why);
        Ok(false)
    }
}

/// Sends `input`'s lines to `target` and writes each answer to `out` as
/// `<line number>: <answer>`; see the [module docs](self).
///
/// # Errors
///
/// [`SendError`] when the target cannot be reached, the input cannot be read or `out`
/// cannot be written; a connection lost midway is not an error but a [`Summary::lost`].
pub fn run_send(
    mut input: impl BufRead,
    target: &Target,
    out: &mut impl Write,
    opts: &SendOptions,
) -> Result<Summary, SendError> {
    let (conn, rx, reader) = connect(target)?;
    let mut writer = BufWriter::new(conn);
    let mut run = Run {
        out,
        summary: Summary::default(),
        in_flight: VecDeque::new(),
        sent_unanswered: 0,
    };
    let failure = match send_lines(&mut input, &mut writer, &mut run, &rx, opts) {
        Stop::Failed(e) => Some(e),
        Stop::Stalled => None,
        Stop::EndOfInput => finish(&mut writer, &mut run, &rx, opts, false).err(),
        Stop::WriteFailed => finish(&mut writer, &mut run, &rx, opts, true).err(),
    };
    run.summary.unanswered = u64::try_from(run.sent_unanswered).unwrap_or(u64::MAX);
    // Stop the answer reader (it may be blocked on a silent server) and wait for it.
    writer.get_ref().shutdown(Shutdown::Both);
    drop(rx);
    let _ = reader.join();
    if let Some(failure) = failure {
        return Err(failure);
    }
    run.out.flush().map_err(SendError::Output)?;
    Ok(run.summary)
}

/// The receiving end of the answer reader: each answer line as read, or the read error.
type Answers = Receiver<io::Result<AnswerLine>>;

/// Connects to `target` and starts the thread that reads its answers.
fn connect(target: &Target) -> Result<(Conn, Answers, thread::JoinHandle<()>), SendError> {
    let connect_error = |source| SendError::Connect {
        target: target.clone(),
        source,
    };
    let conn = Conn::connect(target).map_err(connect_error)?;
    let read_half = conn.try_clone().map_err(connect_error)?;
    let (tx, rx) = mpsc::channel();
    let reader = thread::Builder::new()
        .name("send-answers".into())
        .spawn(move || read_answers(read_half, &tx))
        .map_err(connect_error)?;
    Ok((conn, rx, reader))
}

/// Why [`send_lines`] stopped.
enum Stop {
    /// Every input line was read.
    EndOfInput,
    /// The server stopped taking lines (a write failed): it may still have answered some.
    WriteFailed,
    /// The connection was lost while waiting for an answer (recorded in [`Summary::lost`]).
    Stalled,
    /// The input could not be read or the output written.
    Failed(SendError),
}

/// Reads `input` line by line and sends each, keeping at most `opts.window` unanswered.
fn send_lines<W: Write>(
    input: &mut impl BufRead,
    writer: &mut BufWriter<Conn>,
    run: &mut Run<'_, W>,
    rx: &Answers,
    opts: &SendOptions,
) -> Stop {
    let window = opts.window.max(1);
    let mut line = Vec::with_capacity(1024);
    let mut number = 0u64;
    loop {
        let read = match read_line_bounded(input, &mut line, opts.max_line) {
            Ok(read) => read,
            Err(e) => return Stop::Failed(SendError::Input(e)),
        };
        number += 1;
        match read {
            LineRead::End => return Stop::EndOfInput,
            LineRead::TooLong(len) => {
                run.summary.lines += 1;
                let answer = Answer::refused(&too_long(len, opts.max_line));
                run.in_flight.push_back(InFlight::Local(number, answer));
            }
            LineRead::Line if line.iter().all(u8::is_ascii_whitespace) => {
                run.summary.skipped += 1;
            }
            LineRead::Line => {
                if run.sent_unanswered >= window {
                    if writer.flush().is_err() {
                        return Stop::WriteFailed;
                    }
                    match run.take_answer(rx, opts.answer_timeout) {
                        Ok(true) => {}
                        Ok(false) => return Stop::Stalled,
                        Err(e) => return Stop::Failed(e),
                    }
                }
                line.push(b'\n');
                if writer.write_all(&line).is_err() {
                    return Stop::WriteFailed;
                }
                run.summary.lines += 1;
                run.sent_unanswered += 1;
                run.in_flight.push_back(InFlight::Sent(number));
            }
        }
    }
}

/// After the last line (or a failed write): flushes, tells the server the input has ended
/// and prints the answers still to come. A failed write is recorded as the lost connection
/// when nothing else was.
fn finish<W: Write>(
    writer: &mut BufWriter<Conn>,
    run: &mut Run<'_, W>,
    rx: &Answers,
    opts: &SendOptions,
    write_failed: bool,
) -> Result<(), SendError> {
    let write_failed = write_failed || writer.flush().is_err();
    // The server sees end of input and answers what is left.
    writer.get_ref().shutdown(Shutdown::Write);
    let mut result = Ok(());
    while !run.in_flight.is_empty() {
        match run.take_answer(rx, opts.answer_timeout) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if write_failed && run.summary.lost.is_none() {
        run.summary.lost =
            Some("the server closed the connection before every line was sent".to_owned());
    }
    result
}
