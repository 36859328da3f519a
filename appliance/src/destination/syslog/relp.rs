//! Delivery to a syslog receiver over RELP, the Reliable Event Logging Protocol that rsyslog's
//! `imrelp` speaks: every message is answered, so a record leaves the spool only when the
//! receiver acknowledged it — the syslog counterpart of HEC's indexer acknowledgements.
//!
//! What it is: [`RelpSender`] keeps one RELP session to one receiver, plain TCP
//! (`transport = "relp"`) or TLS (`transport = "relp-tls"`). Each event is rendered exactly as
//! the syslog sender renders it ([`syslog::render`](super::syslog), RFC 5424 with the `text`,
//! `cef` or `leef` payload, no RFC 6587 octet count: RELP frames carry their own length) and
//! sent as one `syslog` command. The session is driven through the worker's ack machinery
//! ([`Sender::poll_acks`]): `send` returns
//! [`AwaitingAck`](Action::AwaitingAck) for what it wrote, and `poll_acks` reports the records
//! the receiver answered.
//!
//! The frame (both directions), after the RELP specification published with librelp:
//!
//! ```text
//!  TXNR     SP  COMMAND   SP  DATALEN  [SP  DATA          ]  LF
//!  1*9DIGIT     1*32ALPHA     1*9DIGIT       DATALEN octets
//!
//!  "2 syslog 87 <134>1 2024-05-05T12:28:54.123Z sensor-a icsfwd - alert [icsfwd@32473 ...] ...\n"
//!  "2 rsp 6 200 OK\n"                 the receiver's answer to txnr 2
//!  "0 serverclose 0\n"                a hint (txnr 0): the receiver is closing the session
//! ```
//!
//! DATALEN 0 has no SP and no DATA. A session starts with `1 open` offering `relp_version=0`,
//! `relp_software=icsfwd,<version>` and `commands=syslog`; the receiver's `rsp` (`200 OK`, then
//! its offers one per line) must offer `relp_version` and the `syslog` command. Transaction
//! numbers then count up from 2 and wrap from 999,999,999 to 1 ([`following`]). A clean stop
//! sends `close` and waits for its answer ([`RelpSender::finish`]).
//!
//! What it guarantees:
//! - Confirmed-only removal: a record is reported delivered only on its `rsp 200`. A record
//!   written on a session that breaks before its answer (connection closed or reset, a
//!   `serverclose` hint, a frame that does not parse, no answer within the destination's
//!   `response_timeout`) is reported expired, so the worker resends it on the next session and
//!   counts it as a possible duplicate; the records of the batch being written when the session
//!   broke come back as [`Retry`](Action::Retry) with [`Outcome::uncertain`], counted the same
//!   way. Nothing is lost and every resend is counted.
//! - Several hosts ([`Syslog::hosts`], [`failover`](crate::destination::failover)): a new
//!   session goes to the next host in turn and stays there while it works; a host whose
//!   session cannot be opened or breaks is marked down for [`Syslog::down_for`] and the next
//!   host is tried at once, so the unanswered records are resent on another host.
//! - Bounded: at most [`Syslog::window`] commands are unanswered at once (`send` waits for
//!   answers when the window is full, at most `response_timeout`); a server frame is parsed in
//!   a fixed buffer: its DATALEN is checked against [`MAX_RSP_DATA`] before any data is read,
//!   and TXNR, COMMAND and DATALEN have the specification's maximum lengths. A hostile or broken
//!   receiver can make the session break, never make this sender allocate without bound or
//!   panic ([`parse_frame`] and [`parse_rsp`] never index out of bounds).
//! - Strict: an answer must carry the TXNR of an unanswered command; any other (unknown, twice,
//!   a command other than `rsp` on a TXNR above 0) breaks the session.
//! - TLS: the syslog sender's client configuration (verified by default, `ca_file`, client
//!   certificate) and handshake classification: a certificate that does not verify parks the
//!   destination.
//!
//! What a `rsp` means for its record ([`classify_rsp`]); RELP defines `200` (OK) and `500`
//! (error), "all the rest currently errors":
//!
//! | answer | the record | why |
//! | --- | --- | --- |
//! | `200 …` | delivered | the receiver took it |
//! | `500` saying the message is too long, too large, oversize, invalid or malformed | dead-letter, with the receiver's text | the record itself is refused; resending cannot help |
//! | any other `500`, or another status | park, with the receiver's text | a receiver-side problem (`500 command disabled`: its RELP input does not accept `syslog`); nothing is lost, retried every `retry_max`, alarmed |
//!
//! Choices (not in the references):
//! - `relp_version=0` is offered, as librelp's own client does, and an answer of version 0 or 1
//!   is accepted: both use the frame above.
//! - Window [`DEFAULT_WINDOW`] (1,024) commands: the receiver answers in order, so the window
//!   only has to cover the round trip; records in flight cost the worker a few bytes each.
//! - `poll_acks` reads what the receiver sent, waiting at most [`POLL_WAIT`] when nothing is
//!   there yet, and the worker polls a RELP destination at every turn
//!   ([`ACK_POLL_INTERVAL`] is zero): the wait is the worker's sleep while answers are due.
//! - After a broken session, `send` reconnects only once the worker has taken the unanswered
//!   records back (the first `send` returns [`Retry`](Action::Retry) while any are unreported),
//!   so they are resent first and in order.
//! - At a clean stop `close` is awaited at most [`CLOSE_WAIT`] (within the service's shutdown
//!   deadline); records still unanswered then stay in the spool and are resent at the next
//!   start.
//! - A receiver may truncate a message longer than its limit (rsyslog's `imrelp`
//!   `maxDataSize`, by default its `maxMessageSize`) and still answer `200`: set it to at least
//!   [`syslog::MAX_LEN`], under 17 KiB (`docs/configuration.md`).
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use icsfwd_core::format::syslog;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::sender::{SyslogError, render};
use super::session::{client_config, handshake_error};
use super::{Syslog, Transport};
use crate::destination::classify::Action;
use crate::destination::failover::Rotation;
use crate::destination::{AckReport, Item, Outcome, Sender, Timeouts, Tls};

/// Highest transaction number; the next one is 1 (0 is reserved for hints).
pub(crate) const MAX_TXNR: u32 = 999_999_999;

/// Longest COMMAND.
pub(crate) const MAX_COMMAND: usize = 32;

/// Most digits of TXNR and DATALEN.
const MAX_DIGITS: usize = 9;

/// Largest DATA accepted in a frame from the receiver: its answers are a status line and, for
/// `open`, a few offers (librelp's is under 100 bytes).
pub(crate) const MAX_RSP_DATA: usize = 4096;

/// Longest header: TXNR SP COMMAND SP DATALEN SP.
const MAX_HEADER: usize = MAX_DIGITS + 1 + MAX_COMMAND + 1 + MAX_DIGITS + 1;

/// The receive buffer: one whole frame of the largest accepted size.
const RECEIVE_BUFFER: usize = MAX_HEADER + MAX_RSP_DATA + 1;

/// Default most unanswered commands per session.
pub(crate) const DEFAULT_WINDOW: usize = 1024;

/// Longest wait of one `poll_acks` for answers when none is there yet.
pub(crate) const POLL_WAIT: Duration = Duration::from_millis(5);

/// How often a worker polls a RELP destination's answers: at every turn (see the module docs).
pub(crate) const ACK_POLL_INTERVAL: Duration = Duration::ZERO;

/// Longest wait for the answer to `close` at a clean stop.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Written frames are flushed once this many bytes wait.
const FLUSH_AT: usize = 64 * 1024;

/// The protocol version offered.
const RELP_VERSION: u32 = 0;

// docs/configuration.md tells operators to set the receiver's limit (imrelp's maxDataSize) to
// 17 KiB: the build fails if a message can be longer.
const _: () = assert!(syslog::MAX_LEN <= 17 * 1024);

/// The longest receiver text kept for a reason.
const MAX_TEXT: usize = 200;

// ---------------------------------------------------------------------------------------------
// Frames

/// A frame read from the receiver, checked for syntax (see [`parse_frame`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The transaction number (0 for a hint).
    pub txnr: u32,
    /// The command: 1 to [`MAX_COMMAND`] ASCII letters.
    pub command: &'a [u8],
    /// DATA (empty when DATALEN is 0).
    pub data: &'a [u8],
}

/// Why bytes from the receiver are not a RELP frame or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// TXNR is not 1 to 9 digits followed by a space.
    Txnr,
    /// COMMAND is not 1 to 32 ASCII letters followed by a space.
    Command,
    /// DATALEN is not 1 to 9 digits followed by a space (or by the LF trailer when it is 0).
    DataLen,
    /// DATALEN is over the limit.
    TooLong {
        /// DATALEN as written.
        len: u32,
        /// The limit.
        max: usize,
    },
    /// The byte after DATA is not the LF trailer.
    Trailer,
    /// A `rsp`'s data does not start with a three-digit status followed by a space, an LF or
    /// nothing.
    Status,
    /// A frame to send has a TXNR over [`MAX_TXNR`], a bad COMMAND or too much DATA.
    Unencodable,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Txnr => write!(f, "the transaction number is not 1 to 9 digits"),
            Self::Command => write!(f, "the command is not 1 to 32 letters"),
            Self::DataLen => write!(f, "the data length is not 1 to 9 digits"),
            Self::TooLong { len, max } => {
                write!(f, "a frame of {len} data bytes (at most {max} accepted)")
            }
            Self::Trailer => write!(f, "the frame does not end with a line feed"),
            Self::Status => write!(f, "the answer has no three-digit status"),
            Self::Unencodable => write!(f, "the frame cannot be encoded"),
        }
    }
}

impl std::error::Error for FrameError {}

/// The transaction number after `txnr`: 1 after [`MAX_TXNR`].
#[must_use]
pub(crate) const fn following(txnr: u32) -> u32 {
    if txnr >= MAX_TXNR { 1 } else { txnr + 1 }
}

/// Appends the frame `TXNR SP COMMAND SP DATALEN [SP DATA] LF` to `out`.
///
/// # Errors
///
/// [`FrameError::Unencodable`]: `txnr` over [`MAX_TXNR`], `command` not 1 to 32 ASCII letters,
/// or `data` longer than 999,999,999 bytes. Nothing is appended then.
pub fn encode_frame(
    out: &mut Vec<u8>,
    txnr: u32,
    command: &str,
    data: &[u8],
) -> Result<(), FrameError> {
    let command_ok = (1..=MAX_COMMAND).contains(&command.len())
        && command.bytes().all(|b| b.is_ascii_alphabetic());
    if txnr > MAX_TXNR || !command_ok || data.len() > MAX_TXNR as usize {
        return Err(FrameError::Unencodable);
    }
    out.reserve(MAX_HEADER + data.len() + 1);
    out.extend_from_slice(format!("{txnr} {command} {}", data.len()).as_bytes());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
    Ok(())
}

/// A field of 1 to `max` bytes that pass `accept`, from `start`: `Ok(Some(end))` where
/// `buf[end]` is the first byte after it, `Ok(None)` when `buf` ends inside it.
fn field(
    buf: &[u8],
    start: usize,
    max: usize,
    accept: fn(&u8) -> bool,
    err: FrameError,
) -> Result<Option<usize>, FrameError> {
    let mut end = start;
    loop {
        match buf.get(end) {
            None => return Ok(None),
            Some(b) if accept(b) => {
                end += 1;
                if end - start > max {
                    return Err(err);
                }
            }
            Some(_) if end == start => return Err(err),
            Some(_) => return Ok(Some(end)),
        }
    }
}

/// The value of at most 9 ASCII digits (checked by [`field`]).
fn decimal(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// Reads one frame from the start of `buf`: `Ok(Some((frame, length)))` when a whole frame is
/// there, `Ok(None)` when more bytes are needed (never more than a frame of `max_data` data
/// bytes), `Err` when the bytes cannot be a frame. DATALEN is checked against `max_data` as soon
/// as its digits end, before any data.
///
/// # Errors
///
/// [`FrameError`] names the field at fault.
pub fn parse_frame(buf: &[u8], max_data: usize) -> Result<Option<(Frame<'_>, usize)>, FrameError> {
    let Some(txnr_end) = field(buf, 0, MAX_DIGITS, u8::is_ascii_digit, FrameError::Txnr)? else {
        return Ok(None);
    };
    if buf.get(txnr_end) != Some(&b' ') {
        return Err(FrameError::Txnr);
    }
    let command_start = txnr_end + 1;
    let Some(command_end) = field(
        buf,
        command_start,
        MAX_COMMAND,
        u8::is_ascii_alphabetic,
        FrameError::Command,
    )?
    else {
        return Ok(None);
    };
    if buf.get(command_end) != Some(&b' ') {
        return Err(FrameError::Command);
    }
    let len_start = command_end + 1;
    let Some(len_end) = field(
        buf,
        len_start,
        MAX_DIGITS,
        u8::is_ascii_digit,
        FrameError::DataLen,
    )?
    else {
        return Ok(None);
    };
    let txnr = decimal(buf.get(..txnr_end).unwrap_or_default());
    let command = buf.get(command_start..command_end).unwrap_or_default();
    let len = decimal(buf.get(len_start..len_end).unwrap_or_default());
    if len as usize > max_data {
        return Err(FrameError::TooLong { len, max: max_data });
    }
    let (data_start, data_end) = match (len, buf.get(len_end)) {
        (0, Some(b'\n')) => (len_end, len_end),
        (0, _) => return Err(FrameError::Trailer),
        (_, Some(b' ')) => (len_end + 1, len_end + 1 + len as usize),
        _ => return Err(FrameError::DataLen),
    };
    let Some(&trailer) = buf.get(data_end) else {
        return Ok(None);
    };
    if trailer != b'\n' {
        return Err(FrameError::Trailer);
    }
    let data = buf.get(data_start..data_end).unwrap_or_default();
    Ok(Some((
        Frame {
            txnr,
            command,
            data,
        },
        data_end + 1,
    )))
}

/// The data of a `rsp` frame: `STATUS [SP TEXT] [LF BODY]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rsp<'a> {
    /// The three-digit status: 200 OK, anything else an error.
    pub status: u16,
    /// The human-readable text after the status (no LF).
    pub text: &'a [u8],
    /// What follows the first LF: the offers of an `open` answer.
    pub body: &'a [u8],
}

/// Reads a `rsp` frame's data.
///
/// # Errors
///
/// [`FrameError::Status`]: no three-digit status, or it is followed by something other than a
/// space, an LF or the end.
pub(crate) fn parse_rsp(data: &[u8]) -> Result<Rsp<'_>, FrameError> {
    let (code, rest) = data.split_at_checked(3).ok_or(FrameError::Status)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return Err(FrameError::Status);
    }
    let status = code
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d.wrapping_sub(b'0')));
    let (text, body): (&[u8], &[u8]) = match rest.split_first() {
        None => (&[], &[]),
        Some((b'\n', body)) => (&[], body),
        Some((b' ', after)) => match after.iter().position(|&b| b == b'\n') {
            Some(lf) => (
                after.get(..lf).unwrap_or_default(),
                after.get(lf + 1..).unwrap_or_default(),
            ),
            None => (after, &[]),
        },
        Some(_) => return Err(FrameError::Status),
    };
    Ok(Rsp { status, text, body })
}

/// The offers of the receiver's answer to `open` that this client looks at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Offers {
    /// `relp_version`, when offered as a number.
    pub version: Option<u32>,
    /// Whether `commands` lists `syslog`.
    pub syslog: bool,
    /// `relp_software`, printable and bounded (for logs).
    pub software: Option<String>,
}

/// Reads offers, one per line: `NAME[=VALUE[,VALUE...]]`; unknown offers are ignored.
#[must_use]
pub(crate) fn parse_offers(body: &[u8]) -> Offers {
    let mut offers = Offers::default();
    for line in body.split(|&b| b == b'\n') {
        let (name, values) = match line.iter().position(|&b| b == b'=') {
            Some(eq) => (
                line.get(..eq).unwrap_or_default(),
                line.get(eq + 1..).unwrap_or_default(),
            ),
            None => (line, &[][..]),
        };
        match name {
            b"relp_version" => {
                offers.version = std::str::from_utf8(values)
                    .ok()
                    .and_then(|v| v.trim().parse().ok());
            }
            b"commands" => {
                offers.syslog = values.split(|&b| b == b',').any(|c| c == b"syslog");
            }
            b"relp_software" => offers.software = Some(printable(values)),
            _ => {}
        }
    }
    offers
}

/// `bytes` as text for a log line: lossy UTF-8, controls replaced, at most [`MAX_TEXT`] chars.
fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(MAX_TEXT)
        .collect()
}

/// What an answer to a `syslog` command means for its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `200`: the receiver took it.
    Accepted,
    /// Refused: park or dead-letter, with the reason.
    Refused(Action),
}

/// Classifies the answer `status text` of `target` to a `syslog` command (the table in the
/// module docs).
#[must_use]
pub(crate) fn classify_rsp(status: u16, text: &str, target: &str) -> Verdict {
    if status == 200 {
        return Verdict::Accepted;
    }
    let lower = text.to_ascii_lowercase();
    let about_message = ["too long", "too large", "oversize", "invalid", "malformed"]
        .iter()
        .any(|word| lower.contains(word));
    if status == 500 && about_message {
        return Verdict::Refused(Action::DeadLetter {
            reason: format!("RELP receiver {target} refused the message: {status} {text}"),
        });
    }
    Verdict::Refused(Action::Park {
        reason: format!(
            "RELP receiver {target} answered {status} {text}: it does not take syslog messages \
             now; check its RELP input (rsyslog: imrelp) and its logs"
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// Window

/// A command sent and not yet answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outstanding {
    /// Its transaction number.
    pub txnr: u32,
    /// The spool sequence number of its record.
    pub seq: u64,
    /// When it was written.
    pub sent: Instant,
    /// Which `send` call wrote it.
    pub generation: u64,
    /// Its index in that call's batch.
    pub index: usize,
}

/// The unanswered commands of a session, in the order sent, and its transaction numbers.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    entries: VecDeque<Outstanding>,
    capacity: usize,
    next: u32,
}

impl Window {
    /// An empty window of at most `capacity` (at least 1) entries; the first TXNR is 1.
    #[must_use]
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, MAX_TXNR as usize - 1);
        Self {
            entries: VecDeque::with_capacity(capacity.min(DEFAULT_WINDOW)),
            capacity,
            next: 1,
        }
    }

    /// Takes the next transaction number.
    pub(crate) fn take_txnr(&mut self) -> u32 {
        let txnr = self.next;
        self.next = following(txnr);
        txnr
    }

    /// Adds a command; a full window gives it back.
    ///
    /// # Errors
    ///
    /// The window is full.
    pub(crate) fn push(&mut self, entry: Outstanding) -> Result<(), Outstanding> {
        if self.is_full() {
            return Err(entry);
        }
        self.entries.push_back(entry);
        Ok(())
    }

    /// Removes and returns the command answered by `txnr`, if it is outstanding (answers come
    /// in order, so it is usually the first).
    pub(crate) fn resolve(&mut self, txnr: u32) -> Option<Outstanding> {
        let at = self.entries.iter().position(|e| e.txnr == txnr)?;
        self.entries.remove(at)
    }

    /// Removes every command (the session broke).
    pub(crate) fn drain(&mut self) -> Vec<Outstanding> {
        self.entries.drain(..).collect()
    }

    /// When the oldest unanswered command was written.
    #[must_use]
    pub(crate) fn oldest_sent(&self) -> Option<Instant> {
        self.entries.front().map(|e| e.sent)
    }

    /// Unanswered commands.
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is unanswered.
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether no more command may be sent before an answer.
    #[must_use]
    pub(crate) fn is_full(&self) -> bool {
        self.entries.len() >= self.capacity
    }
}

// ---------------------------------------------------------------------------------------------
// Session

enum Stream {
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Tcp(s) => s,
            Self::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Tcp(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

/// A message from the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Message {
    /// An answer.
    Rsp {
        txnr: u32,
        status: u16,
        text: String,
        body: Vec<u8>,
    },
    /// The `serverclose` hint.
    ServerClose,
}

/// One RELP session: the connection, its window, what was read and what waits to be written.
struct Session {
    stream: Stream,
    window: Window,
    received: Vec<u8>,
    pending_out: Vec<u8>,
}

impl Session {
    fn new(stream: Stream, window: usize) -> Self {
        Self {
            stream,
            window: Window::new(window),
            received: Vec::with_capacity(RECEIVE_BUFFER),
            pending_out: Vec::with_capacity(FLUSH_AT),
        }
    }

    fn queue(&mut self, txnr: u32, command: &str, data: &[u8]) -> Result<(), String> {
        encode_frame(&mut self.pending_out, txnr, command, data)
            .map_err(|err| format!("cannot frame a {command} command: {err}"))
    }

    fn flush(&mut self) -> Result<(), String> {
        let written = self
            .stream
            .write_all(&self.pending_out)
            .and_then(|()| self.stream.flush());
        self.pending_out.clear();
        written.map_err(|err| format!("write failed: {err}"))
    }

    /// Reads what arrives within `wait` (zero: only what is there now). `Ok(false)`: nothing.
    fn fill(&mut self, wait: Duration) -> Result<bool, String> {
        let have = self.received.len();
        if have >= RECEIVE_BUFFER {
            // parse_frame refuses any frame larger than the buffer, so this cannot be reached.
            return Err("receive buffer full".to_owned());
        }
        let tcp = self.stream.tcp();
        let mode = if wait.is_zero() {
            tcp.set_nonblocking(true)
        } else {
            tcp.set_nonblocking(false)
                .and_then(|()| tcp.set_read_timeout(Some(wait)))
        };
        mode.map_err(|err| format!("cannot configure the connection: {err}"))?;
        self.received.resize(RECEIVE_BUFFER, 0);
        let read = self
            .received
            .get_mut(have..)
            .map_or(Ok(0), |spare| self.stream.read(spare));
        let _ = self.stream.tcp().set_nonblocking(false);
        match read {
            Ok(0) => {
                self.received.truncate(have);
                Err("the receiver closed the connection".to_owned())
            }
            Ok(n) => {
                self.received.truncate(have + n);
                Ok(true)
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                self.received.truncate(have);
                Ok(false)
            }
            Err(err) => {
                self.received.truncate(have);
                Err(format!("read failed: {err}"))
            }
        }
    }

    /// The next whole message already read, if any.
    fn next_message(&mut self) -> Result<Option<Message>, String> {
        let parsed = parse_frame(&self.received, MAX_RSP_DATA)
            .map_err(|err| format!("the receiver sent a frame that is not RELP: {err}"))?;
        let Some((frame, used)) = parsed else {
            return Ok(None);
        };
        let message = match (frame.txnr, frame.command) {
            (0, b"serverclose") => Some(Message::ServerClose),
            // Other hints carry nothing this client acts on.
            (0, _) => None,
            (txnr, b"rsp") => {
                let rsp = parse_rsp(frame.data)
                    .map_err(|err| format!("the receiver's answer to {txnr} is not RELP: {err}"))?;
                Some(Message::Rsp {
                    txnr,
                    status: rsp.status,
                    text: printable(rsp.text),
                    body: rsp.body.to_vec(),
                })
            }
            (txnr, command) => {
                return Err(format!(
                    "the receiver sent the command {:?} (transaction {txnr}); a RELP server \
                     only answers",
                    printable(command)
                ));
            }
        };
        self.received.drain(..used);
        match message {
            Some(message) => Ok(Some(message)),
            None => self.next_message(),
        }
    }

    /// Waits until `deadline` for the next message.
    fn message_by(&mut self, deadline: Instant) -> Result<Message, String> {
        loop {
            if let Some(message) = self.next_message()? {
                return Ok(message);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("no answer in time".to_owned());
            }
            self.fill(left.max(Duration::from_millis(1)))?;
        }
    }

    /// How long the oldest unanswered command has waited.
    fn oldest_waited(&self) -> Duration {
        self.window
            .oldest_sent()
            .map_or(Duration::ZERO, |sent| sent.elapsed())
    }

    fn close_now(&self) {
        let _ = self.stream.tcp().shutdown(Shutdown::Both);
    }
}

// ---------------------------------------------------------------------------------------------
// Sender

/// The fate of one record of a `send` call.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Unsent,
    Sent,
    Answered(Verdict),
    Unrenderable(String),
}

/// Sends events to one RELP receiver (see the module docs).
pub struct RelpSender {
    syslog: Syslog,
    timeouts: Timeouts,
    /// The configured client certificate, named when the receiver refuses the session.
    client_cert: Option<PathBuf>,
    tls: Option<Arc<ClientConfig>>,
    /// One server name per host, for `relp-tls`; empty otherwise.
    server_names: Vec<ServerName<'static>>,
    rotation: Rotation,
    /// The host of the session in use, or of the last one.
    current: usize,
    session: Option<Session>,
    rendered: Vec<u8>,
    generation: u64,
    confirmed: Vec<u64>,
    refused: Vec<(u64, Action)>,
    expired: Vec<u64>,
    last_error: Option<String>,
    sessions_opened: u64,
}

impl fmt::Debug for RelpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelpSender")
            .field("hosts", &self.syslog.targets())
            .field("tls", &self.syslog.transport.uses_tls())
            .field("connected", &self.session.is_some())
            .field(
                "unanswered",
                &self.session.as_ref().map_or(0, |s| s.window.len()),
            )
            .finish_non_exhaustive()
    }
}

impl RelpSender {
    /// A sender; it connects at the first `send`.
    ///
    /// # Errors
    ///
    /// For TLS: a CA, client certificate or key file that cannot be used, or a host that is
    /// not a valid server name.
    pub fn new(syslog: &Syslog, tls: &Tls, timeouts: &Timeouts) -> Result<Self, SyslogError> {
        let (config, server_names) = if syslog.transport == Transport::RelpTls {
            let mut names = Vec::with_capacity(syslog.hosts.len());
            for endpoint in &syslog.hosts {
                let host = endpoint.host.clone();
                names
                    .push(ServerName::try_from(host.clone()).map_err(|_| SyslogError::Name(host))?);
            }
            (Some(Arc::new(client_config(tls)?)), names)
        } else {
            (None, Vec::new())
        };
        Ok(Self {
            syslog: syslog.clone(),
            timeouts: *timeouts,
            client_cert: tls.client.as_ref().map(|client| client.cert.clone()),
            tls: config,
            server_names,
            rotation: Rotation::new(syslog.hosts.len(), syslog.down_for),
            current: 0,
            session: None,
            rendered: vec![0; syslog::MAX_LEN],
            generation: 0,
            confirmed: Vec::new(),
            refused: Vec::new(),
            expired: Vec::new(),
            last_error: None,
            sessions_opened: 0,
        })
    }

    /// Sessions opened since the sender was built (a reconnect opens one more).
    #[must_use]
    pub fn sessions_opened(&self) -> u64 {
        self.sessions_opened
    }

    /// Records sent and not yet reported: unanswered, or answered or expired and waiting for
    /// the next [`poll_acks`](Self::poll_acks).
    #[must_use]
    pub(crate) fn pending_acks(&self) -> usize {
        self.session.as_ref().map_or(0, |s| s.window.len())
            + self.confirmed.len()
            + self.refused.len()
            + self.expired.len()
    }

    /// Reads the receiver's answers (waiting at most [`POLL_WAIT`] when none is there), checks
    /// the response deadline, and reports what was answered, refused or expired since the last
    /// call.
    pub(crate) fn poll_acks(&mut self, now: Instant) -> AckReport {
        if let Some(session) = self.session.as_ref() {
            let wait = if session.window.is_empty() {
                Duration::ZERO
            } else {
                POLL_WAIT
            };
            let read = self.receive(wait, None);
            let overdue = self
                .session
                .as_ref()
                .and_then(|s| s.window.oldest_sent())
                .is_some_and(|sent| now.saturating_duration_since(sent) > self.timeouts.response);
            if let Err(reason) = read {
                self.break_session(&reason, None);
            } else if overdue {
                let reason = format!(
                    "no answer within the response timeout ({} s)",
                    self.timeouts.response.as_secs_f64()
                );
                self.break_session(&reason, None);
            }
        }
        self.report()
    }

    /// Ends the session cleanly: sends `close`, reads the answers until its own (at most
    /// [`CLOSE_WAIT`] or the response timeout), closes the connection, and reports what was
    /// answered. Records still unanswered are not reported: they stay in the spool.
    pub(crate) fn finish(&mut self) -> AckReport {
        let deadline = Instant::now() + CLOSE_WAIT.min(self.timeouts.response);
        let close = self.session.as_mut().map(|session| {
            let txnr = session.window.take_txnr();
            session
                .queue(txnr, "close", &[])
                .and_then(|()| session.flush())
                .map(|()| txnr)
        });
        if let Some(Ok(close_txnr)) = close {
            while let Some(session) = self.session.as_mut() {
                let settled = match session.message_by(deadline) {
                    Ok(Message::Rsp { txnr, .. }) if txnr == close_txnr => break,
                    Ok(message) => self.settle(message, None),
                    Err(err) => Err(err),
                };
                if settled.is_err() {
                    break;
                }
            }
        }
        if let Some(session) = self.session.take() {
            session.close_now();
            log::debug!(
                "RELP session to {} closed ({} records unanswered stay in the spool)",
                self.target(),
                session.window.len()
            );
        }
        let mut report = self.report();
        // Unanswered records are not expired at a stop: the next start resends them.
        report.expired.clear();
        report
    }

    fn report(&mut self) -> AckReport {
        AckReport {
            indexed: std::mem::take(&mut self.confirmed),
            expired: std::mem::take(&mut self.expired),
            refused: std::mem::take(&mut self.refused),
            last_error: self.last_error.take(),
            cause: None,
        }
    }

    /// `host:port` of the host in use.
    fn target(&self) -> String {
        self.syslog
            .hosts
            .get(self.current)
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// Settles the whole messages already read; when there were none, reads what arrives
    /// within `wait` (zero: only what is there now) and settles that.
    fn receive(&mut self, wait: Duration, mut slots: Option<&mut [Slot]>) -> Result<(), String> {
        let settled = self.settle_buffered(slots.as_deref_mut())?;
        let wait = if settled > 0 { Duration::ZERO } else { wait };
        match self.session.as_mut() {
            Some(session) => session.fill(wait)?,
            None => return Ok(()),
        };
        self.settle_buffered(slots).map(|_| ())
    }

    /// Settles every whole message in the receive buffer; returns how many.
    fn settle_buffered(&mut self, mut slots: Option<&mut [Slot]>) -> Result<usize, String> {
        let mut settled = 0;
        loop {
            let Some(session) = self.session.as_mut() else {
                return Ok(settled);
            };
            let Some(message) = session.next_message()? else {
                return Ok(settled);
            };
            self.settle(message, slots.as_deref_mut())?;
            settled += 1;
        }
    }

    /// Applies one message: an answer settles its record (in `slots` when it belongs to the
    /// current `send`), `serverclose` breaks the session.
    fn settle(&mut self, message: Message, slots: Option<&mut [Slot]>) -> Result<(), String> {
        let (txnr, status, text) = match message {
            Message::ServerClose => {
                return Err("the receiver closed the session (serverclose)".to_owned());
            }
            Message::Rsp {
                txnr, status, text, ..
            } => (txnr, status, text),
        };
        let target = self.target();
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        let Some(entry) = session.window.resolve(txnr) else {
            return Err(format!(
                "the receiver answered transaction {txnr}, which is not waiting for an answer"
            ));
        };
        let verdict = classify_rsp(status, &text, &target);
        let current = slots.filter(|_| entry.generation == self.generation);
        match (current.and_then(|s| s.get_mut(entry.index)), verdict) {
            (Some(slot), verdict) => *slot = Slot::Answered(verdict),
            (None, Verdict::Accepted) => self.confirmed.push(entry.seq),
            (None, Verdict::Refused(action)) => self.refused.push((entry.seq, action)),
        }
        Ok(())
    }

    /// Drops the session: its unanswered records of earlier calls are expired (resent and
    /// counted by the worker), those of the current call (`slots`) become unsent again.
    fn break_session(&mut self, reason: &str, slots: Option<&mut [Slot]>) {
        let Some(mut session) = self.session.take() else {
            return;
        };
        session.close_now();
        // The next session goes to another host, where the unanswered records are resent.
        self.rotation.mark_down(self.current, Instant::now());
        let mut slots = slots;
        let unanswered = session.window.len();
        for entry in session.window.drain() {
            let current = slots
                .as_deref_mut()
                .filter(|_| entry.generation == self.generation)
                .and_then(|s| s.get_mut(entry.index));
            match current {
                Some(slot) => *slot = Slot::Unsent,
                None => self.expired.push(entry.seq),
            }
        }
        if unanswered == 0 {
            // An idle session the receiver ended (a restart, an idle timeout): nothing to
            // resend, the next send opens a new one.
            log::info!("RELP session to {} ended: {reason}", self.target());
            return;
        }
        let message = format!(
            "RELP session to {} broke: {reason}; {unanswered} records sent without an answer \
             will be resent (possible duplicates)",
            self.target()
        );
        log::warn!("{message}");
        self.last_error = Some(message);
    }

    fn connect_tcp(&self) -> io::Result<TcpStream> {
        let endpoint = self
            .syslog
            .hosts
            .get(self.current)
            .ok_or_else(|| io::Error::other("no such host"))?;
        let addrs: Vec<SocketAddr> = (endpoint.host.as_str(), endpoint.port)
            .to_socket_addrs()?
            .collect();
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeouts.connect) {
                Ok(stream) => return Ok(stream),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address")
        }))
    }

    /// Opens a session to the hosts in turn (see [`failover`](crate::destination::failover)):
    /// the first that accepts is used, each that fails is marked down. `Err` carries the
    /// action and the message of the last failure.
    fn connect(&mut self, now: Instant) -> Result<Session, (Action, String)> {
        let mut failure = (
            Action::Retry { after: None },
            "no host to connect to".to_owned(),
        );
        let previous = (self.current, self.target());
        for index in self.rotation.order(now) {
            self.current = index;
            match self.connect_current() {
                Ok(session) => {
                    if index != previous.0 && !self.rotation.is_up(previous.0, now) {
                        log::warn!(
                            "RELP receiver {} took over from {}, which failed (tried last \
                             for {} s)",
                            self.target(),
                            previous.1,
                            self.syslog.down_for.as_secs()
                        );
                    }
                    return Ok(session);
                }
                Err(failed) => {
                    self.rotation.mark_down(index, now);
                    failure = failed;
                }
            }
        }
        Err(failure)
    }

    /// Connects to the current host, shakes hands (TLS) and opens the RELP session; `Err`
    /// carries the action.
    fn connect_current(&mut self) -> Result<Session, (Action, String)> {
        let target = self.target();
        let retry = |what: String| (Action::Retry { after: None }, what);
        let tcp = self
            .connect_tcp()
            .map_err(|err| retry(format!("cannot connect to RELP receiver {target}: {err}")))?;
        let _ = tcp.set_nodelay(true);
        tcp.set_write_timeout(Some(at_least_1ms(self.timeouts.response)))
            .map_err(|err| {
                retry(format!(
                    "cannot configure the connection to {target}: {err}"
                ))
            })?;
        let stream = match (&self.tls, self.server_names.get(self.current)) {
            (Some(config), Some(name)) => {
                let conn =
                    ClientConnection::new(Arc::clone(config), name.clone()).map_err(|err| {
                        let reason = format!("TLS setup for {target} refused: {err}");
                        (
                            Action::Park {
                                reason: reason.clone(),
                            },
                            reason,
                        )
                    })?;
                let mut tls = StreamOwned::new(conn, tcp);
                let _ = tls
                    .sock
                    .set_read_timeout(Some(at_least_1ms(self.timeouts.tls)));
                while tls.conn.is_handshaking() {
                    if let Err(err) = tls.conn.complete_io(&mut tls.sock) {
                        return Err(handshake_error(&target, &err, self.client_cert.as_ref()));
                    }
                }
                Stream::Tls(Box::new(tls))
            }
            _ => Stream::Tcp(tcp),
        };
        let mut session = Session::new(stream, self.syslog.window);
        self.open(&mut session)?;
        self.sessions_opened += 1;
        Ok(session)
    }

    /// The `open` handshake: offers, then the receiver's answer checked.
    fn open(&self, session: &mut Session) -> Result<(), (Action, String)> {
        let target = self.target();
        let retry = |what: String| open_failure(&target, what, false);
        let offers = format!(
            "relp_version={RELP_VERSION}\nrelp_software=icsfwd,{}\ncommands=syslog",
            env!("CARGO_PKG_VERSION")
        );
        let txnr = session.window.take_txnr();
        session
            .queue(txnr, "open", offers.as_bytes())
            .and_then(|()| session.flush())
            .map_err(&retry)?;
        let deadline = Instant::now() + self.timeouts.response;
        let answer = session.message_by(deadline).map_err(|err| {
            let hint = if self.syslog.transport.uses_tls() {
                " (over TLS, a receiver that does not accept the client certificate closes \
                 the session here: check client_cert and client_key against the CA it trusts)"
            } else {
                ""
            };
            retry(format!("no answer to the RELP open: {err}{hint}"))
        })?;
        let (status, text, body) = match answer {
            Message::Rsp {
                txnr: t,
                status,
                text,
                body,
            } if t == txnr => (status, text, body),
            Message::Rsp { txnr: t, .. } => {
                return Err(retry(format!("answer to transaction {t} before the open")));
            }
            Message::ServerClose => {
                return Err(retry("the receiver closed the session at the open".into()));
            }
        };
        let park = |why: String| open_failure(&target, why, true);
        if status != 200 {
            return Err(park(format!(
                "refused the RELP session ({status} {text}): check that its RELP input accepts \
                 the syslog command and this client"
            )));
        }
        let offers = parse_offers(&body);
        if !matches!(offers.version, Some(0 | 1)) {
            return Err(park(
                "offered no RELP version this client speaks (relp_version 0 or 1)".to_owned(),
            ));
        }
        if !offers.syslog {
            return Err(park(
                "does not offer the syslog command: enable it in its RELP input".to_owned(),
            ));
        }
        log::info!(
            "RELP session to {target} open (receiver {})",
            offers.software.as_deref().unwrap_or("unnamed")
        );
        Ok(())
    }

    /// Writes the batch's frames, waiting for answers whenever the window is full. `Err`: the
    /// session broke (already dropped).
    fn write_batch(&mut self, batch: &[Item<'_>], slots: &mut [Slot]) -> Result<(), ()> {
        let response = self.timeouts.response;
        for (index, (seq, event)) in batch.iter().enumerate() {
            let n = match render(event, &self.syslog.message, &mut self.rendered, false) {
                Ok(n) => n,
                Err(reason) => {
                    if let Some(slot) = slots.get_mut(index) {
                        *slot = Slot::Unrenderable(format!("record {seq}: {reason}"));
                    }
                    continue;
                }
            };
            loop {
                let Some(session) = self.session.as_mut() else {
                    return Err(());
                };
                if !session.window.is_full() {
                    break;
                }
                let waited = session.oldest_waited();
                let result = match session.flush() {
                    Ok(()) if waited > response => {
                        Err("no answer within the response timeout".into())
                    }
                    Ok(()) => self.receive(response - waited, Some(&mut *slots)),
                    Err(err) => Err(err),
                };
                if let Err(reason) = result {
                    self.break_session(&reason, Some(&mut *slots));
                    return Err(());
                }
            }
            let Some(session) = self.session.as_mut() else {
                return Err(());
            };
            let txnr = session.window.take_txnr();
            let message = self.rendered.get(..n).unwrap_or_default();
            let mut written = session.queue(txnr, "syslog", message);
            if written.is_ok() && session.pending_out.len() >= FLUSH_AT {
                written = session.flush();
            }
            let entry = Outstanding {
                txnr,
                seq: *seq,
                sent: Instant::now(),
                generation: self.generation,
                index,
            };
            if let Some(slot) = slots.get_mut(index) {
                *slot = Slot::Sent;
            }
            if session.window.push(entry).is_err() || written.is_err() {
                let reason = written.err().unwrap_or_else(|| "window overrun".to_owned());
                self.break_session(&reason, Some(&mut *slots));
                return Err(());
            }
        }
        let flushed = self.session.as_mut().map_or(Ok(()), Session::flush);
        let read = flushed.and_then(|()| self.receive(Duration::ZERO, Some(&mut *slots)));
        if let Err(reason) = read {
            self.break_session(&reason, Some(&mut *slots));
            return Err(());
        }
        Ok(())
    }
}

/// The action and message of an `open` that failed: park (the receiver refuses this client)
/// or retry.
fn open_failure(target: &str, what: String, park: bool) -> (Action, String) {
    let message = format!("RELP receiver {target}: {what}");
    let action = if park {
        Action::Park {
            reason: message.clone(),
        }
    } else {
        Action::Retry { after: None }
    };
    (action, message)
}

/// A zero timeout means "none" to std, which refuses it: use a millisecond instead.
fn at_least_1ms(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

impl Sender for RelpSender {
    fn resume(&mut self, _dir: &std::path::Path, _name: &str) -> Option<u64> {
        // RELP keeps no state across a restart: unanswered records are sent again.
        None
    }

    fn restore(
        &mut self,
        _records: &[(u64, u32)],
        _now: std::time::Instant,
    ) -> Vec<(u64, crate::destination::Restored)> {
        Vec::new()
    }

    fn send(&mut self, batch: &[Item<'_>], now: Instant) -> Outcome {
        if batch.is_empty() {
            return Outcome::default();
        }
        if self.session.is_some()
            && let Err(reason) = self.receive(Duration::ZERO, None)
        {
            self.break_session(&reason, None);
        }
        if !self.expired.is_empty() {
            // The worker takes the unanswered records back at its next poll, and resends them
            // before this batch.
            let mut outcome = Outcome::whole(batch.len(), Action::Retry { after: None });
            outcome.last_error = self.last_error.clone().or_else(|| {
                Some(format!(
                    "RELP session to {} broke; {} unanswered records are resent first",
                    self.target(),
                    self.expired.len()
                ))
            });
            return outcome;
        }
        if self.session.is_none() {
            match self.connect(now) {
                Ok(session) => self.session = Some(session),
                Err((action, message)) => {
                    let mut outcome = Outcome::whole(batch.len(), action);
                    outcome.last_error = Some(message);
                    return outcome;
                }
            }
        }
        self.generation += 1;
        let mut slots = vec![Slot::Unsent; batch.len()];
        let broke = self.write_batch(batch, &mut slots).is_err();
        let mut outcome = Outcome::default();
        for (index, slot) in slots.into_iter().enumerate() {
            let action = match slot {
                Slot::Answered(Verdict::Accepted) => Action::Delivered,
                Slot::Answered(Verdict::Refused(action)) => action,
                Slot::Unrenderable(reason) => Action::DeadLetter { reason },
                Slot::Sent if !broke => Action::AwaitingAck,
                Slot::Sent | Slot::Unsent => Action::Retry { after: None },
            };
            outcome.push(index..index + 1, action);
        }
        if broke {
            outcome.uncertain = true;
            outcome.last_error = self.last_error.clone();
        }
        outcome
    }

    fn hosts(&self, now: Instant) -> Vec<crate::destination::HostState> {
        let names = self.syslog.hosts.iter().map(ToString::to_string);
        self.rotation.states(names, now)
    }

    fn poll_acks(&mut self, now: Instant) -> AckReport {
        RelpSender::poll_acks(self, now)
    }

    fn pending_acks(&self) -> usize {
        RelpSender::pending_acks(self)
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(ACK_POLL_INTERVAL)
    }

    /// A record is delivered only on the receiver's `rsp 200`: nothing reported delivered
    /// can be lost by a broken session.
    fn possible_loss(&self) -> u64 {
        0
    }

    fn finish(&mut self) -> AckReport {
        RelpSender::finish(self)
    }
}

impl Drop for RelpSender {
    fn drop(&mut self) {
        // A clean end for a sender dropped without `finish` (`icsfwd test`): bounded by
        // CLOSE_WAIT.
        if self.session.is_some() {
            let _ = self.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

    use super::*;

    fn frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, FrameError> {
        parse_frame(buf, MAX_RSP_DATA)
    }

    #[test]
    fn encoded_frames_have_the_documented_bytes() {
        let mut out = Vec::new();
        encode_frame(&mut out, 1, "open", b"relp_version=0").unwrap();
        encode_frame(&mut out, 2, "syslog", b"<134>1 - - - - - - hi").unwrap();
        encode_frame(&mut out, 999_999_999, "close", b"").unwrap();
        assert_eq!(
            out,
            b"1 open 14 relp_version=0\n2 syslog 21 <134>1 - - - - - - hi\n999999999 close 0\n"
        );
    }

    #[test]
    fn unencodable_frames_append_nothing() {
        let mut out = b"kept".to_vec();
        for (txnr, command) in [
            (MAX_TXNR + 1, "syslog"),
            (1, ""),
            (1, "sys log"),
            (1, "syslög"),
            (1, "abcdefghijklmnopqrstuvwxyzabcdefg"),
        ] {
            assert_eq!(
                encode_frame(&mut out, txnr, command, b"x"),
                Err(FrameError::Unencodable),
                "{txnr} {command:?}"
            );
        }
        assert_eq!(out, b"kept");
    }

    #[test]
    fn encoded_frames_parse_back() {
        let data: Vec<u8> = (0..=255u8).collect();
        let mut out = Vec::new();
        encode_frame(&mut out, 42, "rsp", &data).unwrap();
        let (parsed, used) = parse_frame(&out, 1000).unwrap().unwrap();
        assert_eq!(used, out.len());
        assert_eq!(
            (parsed.txnr, parsed.command, parsed.data),
            (42, &b"rsp"[..], &data[..])
        );
    }

    #[test]
    fn answers_and_hints_from_rsyslog_parse() {
        // As rsyslog 8.2302 / librelp 1.11 sends them (captured on 127.0.0.1).
        let open = b"1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n";
        let (f, used) = frame(open).unwrap().unwrap();
        assert_eq!((f.txnr, f.command, used), (1, &b"rsp"[..], open.len()));
        let rsp = parse_rsp(f.data).unwrap();
        assert_eq!((rsp.status, rsp.text), (200, &b"OK"[..]));
        let offers = parse_offers(rsp.body);
        assert_eq!(offers.version, Some(0));
        assert!(offers.syslog);
        assert_eq!(
            offers.software.as_deref(),
            Some("librelp,1.11.0,http://librelp.adiscon.com")
        );
        let (f, used) = frame(b"0 serverclose 0\n").unwrap().unwrap();
        assert_eq!(
            (f.txnr, f.command, f.data, used),
            (0, &b"serverclose"[..], &b""[..], 16)
        );
        let refused = b"1 rsp 44 500 required command not supported by client\n";
        let rsp = parse_rsp(frame(refused).unwrap().unwrap().0.data).unwrap();
        assert_eq!(rsp.status, 500);
        assert_eq!(rsp.text, b"required command not supported by client");
    }

    #[test]
    fn every_prefix_of_a_frame_asks_for_more() {
        let whole = b"12 rsp 6 200 OK\n";
        for cut in 0..whole.len() {
            assert_eq!(frame(&whole[..cut]), Ok(None), "cut at {cut}");
        }
        let mut two = whole.to_vec();
        two.extend_from_slice(b"13 rsp 6 200 OK\n");
        let (f, used) = frame(&two).unwrap().unwrap();
        assert_eq!((f.txnr, used), (12, whole.len()));
    }

    #[test]
    fn oversize_length_is_refused_before_its_data() {
        // The digits alone are enough to refuse: nothing waits for (or stores) the data.
        assert_eq!(
            frame(b"3 rsp 4097 "),
            Err(FrameError::TooLong {
                len: 4097,
                max: MAX_RSP_DATA
            })
        );
        assert_eq!(
            frame(b"3 rsp 999999999 x"),
            Err(FrameError::TooLong {
                len: 999_999_999,
                max: MAX_RSP_DATA
            })
        );
        assert_eq!(frame(b"3 rsp 1234567890 "), Err(FrameError::DataLen));
        assert_eq!(
            frame(b"3 rsp 12345678901234567890"),
            Err(FrameError::DataLen)
        );
    }

    #[test]
    fn bad_transaction_numbers_are_refused() {
        for bad in [
            &b"1234567890 rsp 6 200 OK\n"[..],
            b"12345678901234",
            b" 1 rsp 6 200 OK\n",
            b"-1 rsp 6 200 OK\n",
            b"1x rsp 6 200 OK\n",
            b"\n",
        ] {
            assert_eq!(frame(bad), Err(FrameError::Txnr), "{bad:?}");
        }
    }

    #[test]
    fn garbage_is_refused_not_waited_for() {
        let cases: [(&[u8], FrameError); 9] = [
            (b"HTTP/1.1 400 Bad Request\r\n", FrameError::Txnr),
            (b"\x16\x03\x01\x02\x00", FrameError::Txnr),
            (b"1 r5p 6 200 OK\n", FrameError::Command),
            (b"1  rsp 6 200 OK\n", FrameError::Command),
            (
                b"1 abcdefghijklmnopqrstuvwxyzabcdefg 0\n",
                FrameError::Command,
            ),
            (b"1 rsp x 200 OK\n", FrameError::DataLen),
            (b"1 rsp 6\n200 OK\n", FrameError::DataLen),
            (b"1 rsp 6 200 OKX", FrameError::Trailer),
            (b"0 serverclose 0 \n", FrameError::Trailer),
        ];
        for (bad, err) in cases {
            assert_eq!(frame(bad), Err(err), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn random_bytes_never_panic_and_never_claim_more_than_given() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"0123456789 rspyslogclose\n\x00\xff";
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if let Ok(Some((f, used))) = parse_frame(&buf, 16) {
                assert!(used <= buf.len());
                assert!(f.data.len() <= 16);
                let _ = parse_rsp(f.data);
            }
        }
    }

    #[test]
    fn rsp_data_needs_a_three_digit_status() {
        assert_eq!(
            parse_rsp(b"200"),
            Ok(Rsp {
                status: 200,
                text: b"",
                body: b""
            })
        );
        assert_eq!(
            parse_rsp(b"200\nrelp_version=0").unwrap().body,
            b"relp_version=0"
        );
        for bad in [&b""[..], b"20", b"2x0 OK", b"200OK", b"OK"] {
            assert_eq!(parse_rsp(bad), Err(FrameError::Status), "{bad:?}");
        }
    }

    #[test]
    fn offers_without_syslog_or_version_are_seen() {
        let none = parse_offers(b"relp_software=x\ncommands=eventlog");
        assert_eq!((none.version, none.syslog), (None, false));
        let both = parse_offers(b"\nrelp_version=1\ncommands=eventlog,syslog\nfuture=a,b\n");
        assert_eq!((both.version, both.syslog), (Some(1), true));
        assert!(!parse_offers(b"commands=syslogx").syslog);
        assert_eq!(parse_offers(b"relp_version=zero").version, None);
        let hostile = parse_offers(b"relp_software=\x1b[31mred\x07");
        assert_eq!(hostile.software.as_deref(), Some("?[31mred?"));
    }

    #[test]
    fn answers_classify_per_the_table() {
        let t = "127.0.0.1:2514";
        assert_eq!(classify_rsp(200, "OK", t), Verdict::Accepted);
        assert!(matches!(
            classify_rsp(500, "command disabled", t),
            Verdict::Refused(Action::Park { .. })
        ));
        assert!(matches!(
            classify_rsp(500, "frame too long", t),
            Verdict::Refused(Action::DeadLetter { .. })
        ));
        assert!(matches!(
            classify_rsp(500, "Invalid message", t),
            Verdict::Refused(Action::DeadLetter { .. })
        ));
        assert!(matches!(
            classify_rsp(404, "too long", t),
            Verdict::Refused(Action::Park { .. })
        ));
        let Verdict::Refused(Action::Park { reason }) = classify_rsp(500, "queue full", t) else {
            panic!("an unknown 500 parks");
        };
        assert!(reason.contains("127.0.0.1:2514") && reason.contains("500 queue full"));
    }

    #[test]
    fn transaction_numbers_wrap_past_the_maximum_to_one() {
        assert_eq!(following(1), 2);
        assert_eq!(following(MAX_TXNR - 1), MAX_TXNR);
        assert_eq!(following(MAX_TXNR), 1);
        let mut window = Window::new(4);
        window.next = MAX_TXNR - 1;
        let taken: Vec<u32> = (0..4).map(|_| window.take_txnr()).collect();
        assert_eq!(taken, [MAX_TXNR - 1, MAX_TXNR, 1, 2]);
    }

    fn entry(txnr: u32, seq: u64) -> Outstanding {
        Outstanding {
            txnr,
            seq,
            sent: Instant::now(),
            generation: 1,
            index: 0,
        }
    }

    #[test]
    fn a_full_window_gives_the_entry_back_and_answers_free_it() {
        let mut window = Window::new(2);
        assert!(window.push(entry(1, 10)).is_ok());
        assert!(window.push(entry(2, 11)).is_ok());
        assert!(window.is_full());
        let back = window.push(entry(3, 12)).unwrap_err();
        assert_eq!((back.txnr, back.seq), (3, 12), "given back");
        assert_eq!(
            window.resolve(2).map(|e| e.seq),
            Some(11),
            "out of order is fine"
        );
        assert_eq!(window.resolve(2), None, "answered twice");
        assert_eq!(window.resolve(7), None, "never sent");
        assert!(!window.is_full());
        assert_eq!(
            window.drain().iter().map(|e| e.seq).collect::<Vec<_>>(),
            [10]
        );
        assert!(window.is_empty());
    }

    #[test]
    fn window_capacity_is_at_least_one() {
        let mut window = Window::new(0);
        assert!(window.push(entry(1, 1)).is_ok());
        assert!(window.push(entry(2, 2)).is_err());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::syslog::relp::{MAX_TXNR, RelpSender, following, parse_frame};
        use crate::destination::syslog::{Syslog, Transport};
        use crate::destination::{Timeouts, Tls};

        let frame = parse_frame(b"7 rsp 6 200 OK\n", 64).unwrap().unwrap();
        assert_eq!(
            (frame.0.txnr, frame.0.command, frame.0.data, frame.1),
            (7, &b"rsp"[..], &b"200 OK"[..], 15)
        );
        assert!(
            parse_frame(b"7 rsp 99999 ", 64).is_err(),
            "longer than allowed: refused at once"
        );
        assert_eq!(following(MAX_TXNR), 1);
        let relp = Syslog::new("127.0.0.1", 2514, Transport::Relp);
        let sender = RelpSender::new(&relp, &Tls::default(), &Timeouts::default()).unwrap();
        assert_eq!(sender.sessions_opened(), 0, "it connects at the first send");
    }
}
