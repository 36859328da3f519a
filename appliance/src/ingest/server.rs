//! The ingest server: the Unix socket (and optional loopback TCP port) producers write JSON
//! lines to, answered line by line.
//!
//! [`IngestServer::start`] binds the socket and runs one acceptor thread per listener. Each
//! connection gets a reader thread and a writer thread:
//!
//! - The reader reads one line at a time, bounded by [`IngestConfig::max_line`]
//!   ([`read_line_bounded`]: an over-long line is skipped to its LF without being buffered and
//!   refused as too long), decodes it ([`decode_line_within`]) and hands the decoded line to an [`Admit`], which either
//!   answers at once (refused, not forwarded, heartbeat noted) or returns a pending durable
//!   append. The outcome goes to the writer through a bounded channel of
//!   [`IngestConfig::window`] entries; when it is full the reader stops reading (back-pressure
//!   through the socket).
//! - The writer answers strictly in line order: for a pending append it waits until the
//!   record is durable before it writes `accepted`. Because the reader keeps submitting while
//!   the writer waits, one pipelining producer gets group commit across its own lines: many
//!   lines per fsync.
//!
//! [`SpoolAdmit`] is the [`Admit`] of the service: a core [`RuleSet`](icsfwd_core::rule::RuleSet) routes each event, no
//! destination is answered `not_forwarded` ("no rule matched"), otherwise the event is
//! [`submit`](Handle::submit)ted to the spool's group commit.
//!
//! Guarantees:
//! - Every line read gets exactly one answer line, in order, unless the connection breaks.
//!   `accepted` is written only after the record was fsynced.
//! - Every input is bounded: a line by [`IngestConfig::max_line`], lines in flight per
//!   connection by the window, connections by [`IngestConfig::max_connections`] (one more gets one `refused`
//!   answer line and is closed), a connection's silence by [`IngestConfig::idle_timeout`]
//!   (it is closed after its answers are written), a stalled reader of answers by the same
//!   timeout on writes.
//! - [`RunningIngest::shutdown`] stops accepting, stops reading, answers every line already
//!   read (waiting for their fsync), closes the connections, joins every thread and removes
//!   the socket file. Lines a producer sent that were not read yet get no answer: the
//!   connection closes, and the producer knows they were not accepted.
//!
//! Choices (the ingest protocol is icsfwd's own; these are decided here):
//! - A blank line is refused like any bad line ("line is empty"): one answer per line is what
//!   a pipelining producer counts on, so no line is answered with silence. The LF that ends
//!   the last line is not a blank line; bytes after the last LF at end of input are a line.
//! - The socket is created under a temporary name in the same directory, given its mode
//!   ([`IngestConfig::socket_mode`], default `0o660`) and renamed into place, so it is never
//!   reachable with wider permissions. An existing file at the path is replaced only if it is
//!   a socket nobody answers on (stale, left by a crash); a live server there, or a file that
//!   is not a socket, makes `start` fail. At shutdown the file is removed only if it is still
//!   the one this server created.
//! - A TCP address must be a loopback address: ingest carries no authentication, so it must not
//!   be reachable from the network.
//! - Shut ingest down before the spool's group commit: lines admitted after the group commit
//!   stopped are refused ("spool shutting down"). A producer that does not read its answers
//!   can delay the shutdown by at most [`IngestConfig::idle_timeout`] (the write timeout).
//! - The socket's temporary name is the path plus `.<pid>.tmp`, so the configured path must
//!   be about 12 bytes shorter than the system's limit for socket paths (108 bytes on Linux).
//! - Refusals by the spool (full, failed) are counted in [`IngestStats::refused_by_spool`] for
//!   the service to alarm on.
//!
//! Memory per connection: an 8 KiB read buffer (`READ_BUFFER`), a 4 KiB answer buffer
//! (`ANSWER_BUFFER`) and the line buffer, which grows to the longest line read (at most
//! [`IngestConfig::max_line`]; an over-long line is skipped, not buffered) and is cut back to
//! [`MAX_LINE`] (16 KiB) after a longer line. So a connection holds at most 28 KiB between
//! lines and 12 KiB + `max_line` while it reads one, plus up to [`IngestConfig::window`]
//! answers waiting for their fsync (an id and a status each; the events themselves wait in
//! the spool's bounded group-commit queue). The service's worst case is
//! [`IngestConfig::max_connections`] times that: with the defaults (64 connections of 64 KiB
//! lines) about 5 MiB, with `max_line_bytes = "1 MiB"` about 65 MiB.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::schema::{
    Answer, DEFAULT_MAX_LINE_BYTES, Decoded, Heartbeat, MAX_LINE, Message, Problem,
    decode_line_within, too_long,
};
use crate::clock::now_ms;
use crate::config::SharedRules;
use crate::spool::AppendError;
use crate::spool::commit::{Handle, Pending};
use crate::spool::storage::{FsStorage, Storage};

/// How often an acceptor looks for a shutdown request while no one connects.
const ACCEPT_POLL: Duration = Duration::from_millis(50);

/// A connection's read buffer: about 20 typical lines per `read`. A longer line is gathered
/// in the line buffer over several reads ([`read_line_bounded`]), so this bounds no line. It
/// was 64 KiB: 256 KiB of the service's peak heap with four producers, for no measurable gain
/// in ingest rate.
const READ_BUFFER: usize = 8 * 1024;

/// A connection's answer buffer: about 60 answers per `write` (an answer is ~60 bytes); the
/// writer flushes it whenever it would wait, so it bounds no answer either.
const ANSWER_BUFFER: usize = 4 * 1024;

/// The settings of the ingest server (`[ingest]` in `icsfwd.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestConfig {
    /// The Unix socket path.
    pub socket: PathBuf,
    /// The socket file's permission bits (default `0o660`: the service's user and group).
    pub socket_mode: u32,
    /// An optional TCP address; it must be a loopback address.
    pub tcp: Option<SocketAddr>,
    /// Connections served at once (default 64); one more gets one refused answer and is closed.
    pub max_connections: usize,
    /// A connection that sends nothing for this long is closed after its answers (default
    /// 5 minutes); also the longest a write of answers may block.
    pub idle_timeout: Duration,
    /// Lines read and not yet answered per connection, at most (default 256).
    pub window: usize,
    /// The longest line taken, in bytes without the LF (`[ingest] max_line_bytes`, default
    /// [`DEFAULT_MAX_LINE_BYTES`]); a longer one is refused and the connection goes on.
    pub max_line: usize,
}

impl IngestConfig {
    /// The defaults, listening on `socket` only.
    pub fn new(socket: impl Into<PathBuf>) -> IngestConfig {
        IngestConfig {
            socket: socket.into(),
            socket_mode: 0o660,
            tcp: None,
            max_connections: 64,
            idle_timeout: Duration::from_secs(300),
            window: 256,
            max_line: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// What an [`Admit`] made of a decoded line.
pub enum Admission {
    /// The answer is known now (not forwarded, refused, heartbeat noted).
    Answer(Answer),
    /// The line is being made durable; the answer comes once it is.
    Pending(Box<dyn PendingAnswer>),
}

impl fmt::Debug for Admission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Admission::Answer(answer) => f.debug_tuple("Answer").field(answer).finish(),
            Admission::Pending(_) => f.write_str("Pending"),
        }
    }
}

/// An answer that waits for a durable append.
pub trait PendingAnswer: Send {
    /// Whether [`wait`](PendingAnswer::wait) would return without blocking.
    fn is_ready(&self) -> bool;
    /// Blocks until the append is durable or failed, and gives the answer.
    fn wait(self: Box<Self>) -> Answer;
}

/// What the server does with a valid line: route and store it, or answer at once.
pub trait Admit: Send + Sync {
    /// Admits one decoded line received at `received_ms` (milliseconds since the Unix epoch).
    fn admit(&self, decoded: Decoded, received_ms: u64) -> Admission;
}

/// The heartbeat callback of [`SpoolAdmit`].
pub(crate) type OnHeartbeat = Box<dyn Fn(&Heartbeat) + Send + Sync>;

/// The service's [`Admit`]: routes with a core [`RuleSet`](icsfwd_core::rule::RuleSet), stores through the spool's
/// group commit, and reports heartbeats to a callback.
pub struct SpoolAdmit<S: Storage + 'static = FsStorage> {
    rules: SharedRules,
    spool: Handle<S>,
    on_heartbeat: OnHeartbeat,
}

impl<S: Storage + 'static> fmt::Debug for SpoolAdmit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpoolAdmit")
            .field("rules", &self.rules.current().rules().len())
            .finish_non_exhaustive()
    }
}

impl<S: Storage + 'static> SpoolAdmit<S> {
    /// Routes with `rules` (a reload may replace them: see [`SharedRules`]), stores through
    /// `spool`, calls `on_heartbeat` for each heartbeat.
    pub fn new(rules: impl Into<SharedRules>, spool: Handle<S>, on_heartbeat: OnHeartbeat) -> Self {
        SpoolAdmit {
            rules: rules.into(),
            spool,
            on_heartbeat,
        }
    }
}

/// The answer to a line the spool did not take.
pub(crate) fn spool_refusal(error: &AppendError) -> Answer {
    match error {
        AppendError::Full { retry_after } => {
            // Whole seconds, rounded up: "retry after 0 s" would invite a busy loop.
            let secs = retry_after.as_millis().div_ceil(1000).max(1);
            Answer::Refused {
                field: None,
                error: format!("spool full, retry after {secs} s"),
                allowed: None,
            }
        }
        other => Answer::Refused {
            field: None,
            error: format!("not stored: {other}"),
            allowed: None,
        },
    }
}

/// The answer that accepts a line once it is durable: its event `id` and the fields the
/// decoder `truncated` (what [`Answer::accepted`] makes from a whole `Decoded`).
fn accepted(id: String, truncated: &[&str]) -> Answer {
    Answer::Accepted {
        id,
        truncated: truncated.iter().map(|f| (*f).to_owned()).collect(),
    }
}

/// A line waiting for its append: what its `accepted` answer will say, held as the decoder
/// gave it (the answer itself, ~24 bytes larger, is made once the append is durable: a
/// connection has up to [`IngestConfig::window`] of these in flight).
struct SpoolPending<S: Storage + 'static> {
    pending: Pending<S>,
    id: String,
    truncated: Vec<&'static str>,
}

impl<S: Storage + 'static> PendingAnswer for SpoolPending<S> {
    fn is_ready(&self) -> bool {
        self.pending.is_ready()
    }

    fn wait(self: Box<Self>) -> Answer {
        let SpoolPending {
            pending,
            id,
            truncated,
        } = *self;
        match pending.wait() {
            Ok(_) => accepted(id, &truncated),
            Err(error) => spool_refusal(&error),
        }
    }
}

impl<S: Storage + 'static> Admit for SpoolAdmit<S> {
    fn admit(&self, decoded: Decoded, received_ms: u64) -> Admission {
        let id = decoded.message.id();
        let Decoded { message, truncated } = decoded;
        match message {
            Message::Heartbeat(heartbeat) => {
                (self.on_heartbeat)(&heartbeat);
                Admission::Answer(accepted(id, &truncated))
            }
            Message::Event(event) => {
                let destinations = self.rules.current().route(&event, received_ms);
                if destinations.is_empty() {
                    return Admission::Answer(Answer::NotForwarded {
                        id,
                        reason: "no rule matched".to_owned(),
                    });
                }
                match self.spool.submit(event, destinations) {
                    Ok(pending) => Admission::Pending(Box::new(SpoolPending {
                        pending,
                        id,
                        truncated,
                    })),
                    Err(error) => Admission::Answer(spool_refusal(&error)),
                }
            }
        }
    }
}

/// The ingest counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Connections served.
    pub connections: u64,
    /// Connections open now.
    pub connections_open: u64,
    /// Connections refused because [`IngestConfig::max_connections`] were open.
    pub connections_refused: u64,
    /// Connections closed after [`IngestConfig::idle_timeout`] of silence.
    pub idle_closed: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines answered `accepted` (heartbeats included).
    pub accepted: u64,
    /// Of those, heartbeats.
    pub heartbeats: u64,
    /// Lines answered `not_forwarded`.
    pub not_forwarded: u64,
    /// Lines answered `refused`, for any reason.
    pub refused: u64,
    /// Lines refused by the decoder, by problem.
    pub refused_by_problem: Vec<(Problem, u64)>,
    /// Valid lines refused by the [`Admit`] (spool full, spool failed, shutting down).
    pub refused_by_spool: u64,
    /// Answers that could not be written (the producer went away).
    pub answers_lost: u64,
}

impl IngestStats {
    /// Lines the decoder refused for `problem`.
    pub fn refused_for(&self, problem: Problem) -> u64 {
        self.refused_by_problem
            .iter()
            .find(|(p, _)| *p == problem)
            .map_or(0, |(_, n)| *n)
    }

    fn count_problem(&mut self, problem: Problem) {
        self.refused += 1;
        match self
            .refused_by_problem
            .iter_mut()
            .find(|(p, _)| *p == problem)
        {
            Some((_, n)) => *n += 1,
            None => self.refused_by_problem.push((problem, 1)),
        }
    }
}

/// Why the server did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// A server already answers on the socket path.
    InUse(PathBuf),
    /// Something that is not a socket is at the socket path; it is left alone.
    NotASocket(PathBuf),
    /// The TCP address is not a loopback address.
    NotLoopback(SocketAddr),
    /// A system call failed.
    Io {
        /// What the server was doing.
        what: String,
        /// The error.
        source: io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::InUse(path) => write!(
                f,
                "another server answers on {}: is icsfwd already running?",
                path.display()
            ),
            StartError::NotASocket(path) => write!(
                f,
                "{} exists and is not a socket; remove it or set [ingest] socket to another path",
                path.display()
            ),
            StartError::NotLoopback(addr) => write!(
                f,
                "ingest TCP address {addr} is not a loopback address (ingest has no \
                 authentication); use 127.0.0.1 or ::1"
            ),
            StartError::Io { what, .. } => f.write_str(what),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<StartError> for io::Error {
    fn from(error: StartError) -> io::Error {
        let kind = match &error {
            StartError::InUse(_) => io::ErrorKind::AddrInUse,
            StartError::NotASocket(_) => io::ErrorKind::AlreadyExists,
            StartError::NotLoopback(_) => io::ErrorKind::InvalidInput,
            StartError::Io { source, .. } => source.kind(),
        };
        io::Error::new(kind, error)
    }
}

fn io_error(what: String) -> impl FnOnce(io::Error) -> StartError {
    move |source| StartError::Io { what, source }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Counters and the connection list stay usable after a panicking thread.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A connected producer, Unix or TCP.
#[derive(Debug)]
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
        }
    }

    fn shutdown(&self, how: Shutdown) {
        // Already closed by the peer is fine: the point is that the other thread wakes up.
        let _ = match self {
            Stream::Unix(s) => s.shutdown(how),
            Stream::Tcp(s) => s.shutdown(how),
        };
    }

    fn set_timeouts(&self, timeout: Duration) -> io::Result<()> {
        let timeout = Some(timeout.max(Duration::from_millis(1)));
        match self {
            Stream::Unix(s) => {
                s.set_nonblocking(false)?;
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)
            }
            Stream::Tcp(s) => {
                s.set_nonblocking(false)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
            Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
        }
    }
}

#[derive(Debug)]
struct Shared {
    config: IngestConfig,
    stopping: AtomicBool,
    stats: Mutex<IngestStats>,
    /// Read-half clones of the open connections, to wake their readers at shutdown.
    open: Mutex<Vec<(u64, Stream)>>,
    /// Connection threads, joined at shutdown; finished ones are reaped as new ones start.
    threads: Mutex<Vec<JoinHandle<()>>>,
    next_id: Mutex<u64>,
}

/// The ingest server; [`start`](IngestServer::start) it.
#[derive(Debug)]
pub struct IngestServer;

impl IngestServer {
    /// Binds the socket (and the TCP address, if any) and starts serving: see the
    /// [module docs](self).
    ///
    /// # Errors
    ///
    /// A live server at the socket path ([`io::ErrorKind::AddrInUse`]), a non-socket file
    /// there, a TCP address that is not loopback, or a failed system call; the error's inner
    /// [`StartError`] says which.
    pub fn start(config: IngestConfig, admit: Arc<dyn Admit>) -> io::Result<RunningIngest> {
        Ok(Self::try_start(config, admit)?)
    }

    /// [`start`](IngestServer::start) with the typed error.
    ///
    /// # Errors
    ///
    /// See [`StartError`].
    pub(crate) fn try_start(
        config: IngestConfig,
        admit: Arc<dyn Admit>,
    ) -> Result<RunningIngest, StartError> {
        if let Some(addr) = config.tcp
            && !addr.ip().is_loopback()
        {
            return Err(StartError::NotLoopback(addr));
        }
        let (unix, identity) = bind_unix(&config.socket, config.socket_mode)?;
        let mut listeners = vec![Listener::Unix(unix)];
        let mut tcp_addr = None;
        if let Some(addr) = config.tcp {
            let bound = TcpListener::bind(addr)
                .and_then(|l| l.local_addr().map(|a| (l, a)))
                .map_err(io_error(format!("cannot listen on {addr}")));
            let (tcp, local) = match bound {
                Ok(bound) => bound,
                Err(error) => {
                    remove_if_ours(&config.socket, identity);
                    return Err(error);
                }
            };
            tcp_addr = Some(local);
            listeners.push(Listener::Tcp(tcp));
        }
        let shared = Arc::new(Shared {
            config: config.clone(),
            stopping: AtomicBool::new(false),
            stats: Mutex::new(IngestStats::default()),
            open: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            next_id: Mutex::new(0),
        });
        let mut acceptors = Vec::new();
        for listener in listeners {
            let nonblocking = match &listener {
                Listener::Unix(l) => l.set_nonblocking(true),
                Listener::Tcp(l) => l.set_nonblocking(true),
            };
            let spawned = nonblocking.and_then(|()| {
                let shared = Arc::clone(&shared);
                let admit = Arc::clone(&admit);
                thread::Builder::new()
                    .name("ingest-accept".into())
                    .spawn(move || accept_loop(&listener, &shared, &admit))
            });
            match spawned {
                Ok(handle) => acceptors.push(handle),
                Err(source) => {
                    let mut running = RunningIngest {
                        shared,
                        acceptors,
                        socket: config.socket.clone(),
                        identity,
                        tcp_addr,
                    };
                    running.shared.stopping.store(true, Ordering::SeqCst);
                    running.stop();
                    return Err(StartError::Io {
                        what: "cannot start the ingest acceptor thread".to_owned(),
                        source,
                    });
                }
            }
        }
        Ok(RunningIngest {
            shared,
            acceptors,
            socket: config.socket,
            identity,
            tcp_addr,
        })
    }
}

/// A file's identity (device, inode), to remove at shutdown only the socket this server made.
type Identity = (u64, u64);

fn bind_unix(path: &Path, mode: u32) -> Result<(UnixListener, Identity), StartError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(StartError::NotASocket(path.to_owned()));
        }
        Ok(_) => match UnixStream::connect(path) {
            Ok(_) => return Err(StartError::InUse(path.to_owned())),
            // Nobody listens: a stale socket of a crashed run, replaced by the rename below.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
            Err(source) => {
                return Err(StartError::Io {
                    what: format!("cannot tell whether {} is in use", path.display()),
                    source,
                });
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(StartError::Io {
                what: format!("cannot inspect {}", path.display()),
                source,
            });
        }
    }
    let mut temp_name = path.file_name().unwrap_or_default().to_owned();
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    // A leftover of this pid's earlier crashed attempt; absent is the normal case.
    let _ = fs::remove_file(&temp);
    let listener = UnixListener::bind(&temp).map_err(io_error(format!(
        "cannot create the socket {}",
        temp.display()
    )))?;
    let placed = fs::set_permissions(&temp, fs::Permissions::from_mode(mode))
        .map_err(io_error(format!(
            "cannot set the mode of {}",
            temp.display()
        )))
        .and_then(|()| {
            fs::rename(&temp, path).map_err(io_error(format!(
                "cannot move the socket into place at {}",
                path.display()
            )))
        })
        .and_then(|()| {
            fs::symlink_metadata(path)
                .map(|meta| (meta.dev(), meta.ino()))
                .map_err(io_error(format!("cannot inspect {}", path.display())))
        });
    match placed {
        Ok(identity) => Ok((listener, identity)),
        Err(error) => {
            let _ = fs::remove_file(&temp);
            Err(error)
        }
    }
}

fn remove_if_ours(path: &Path, identity: Identity) {
    if let Ok(meta) = fs::symlink_metadata(path)
        && (meta.dev(), meta.ino()) == identity
    {
        // Best effort: a leftover socket is detected as stale at the next start.
        let _ = fs::remove_file(path);
    }
}

/// A started ingest server. [`shutdown`](RunningIngest::shutdown) stops it (dropping it does
/// the same).
#[derive(Debug)]
pub struct RunningIngest {
    shared: Arc<Shared>,
    acceptors: Vec<JoinHandle<()>>,
    socket: PathBuf,
    identity: Identity,
    tcp_addr: Option<SocketAddr>,
}

impl RunningIngest {
    /// The counters so far.
    pub fn stats(&self) -> IngestStats {
        lock(&self.shared.stats).clone()
    }

    /// The Unix socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The bound TCP address (with the actual port when port 0 was configured), if any.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_addr
    }

    /// A handle that asks the server to stop from another thread (a signal handler's, say);
    /// [`wait`](RunningIngest::wait) then finishes the shutdown.
    pub fn stopper(&self) -> IngestStop {
        IngestStop {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops accepting, stops reading, answers every line already read, closes every
    /// connection, joins every thread, removes the socket file; returns the final counters.
    ///
    /// A producer that does not read its answers can hold this up for at most
    /// [`IngestConfig::idle_timeout`] (the write timeout).
    pub fn shutdown(mut self) -> IngestStats {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.stop();
        self.stats()
    }

    /// Blocks until an [`IngestStop`] asks for the stop, then shuts down as
    /// [`shutdown`](RunningIngest::shutdown) does.
    pub fn wait(mut self) -> IngestStats {
        self.stop();
        self.stats()
    }

    /// Joins the acceptors (they return once `stopping` is set), then finishes the shutdown.
    fn stop(&mut self) {
        for acceptor in self.acceptors.drain(..) {
            // A panicked acceptor has nothing left to clean up.
            let _ = acceptor.join();
        }
        // No new connection can register now; wake every reader.
        for (_, stream) in lock(&self.shared.open).iter() {
            stream.shutdown(Shutdown::Read);
        }
        let threads: Vec<JoinHandle<()>> = lock(&self.shared.threads).drain(..).collect();
        for thread in threads {
            let _ = thread.join();
        }
        remove_if_ours(&self.socket, self.identity);
    }
}

impl Drop for RunningIngest {
    fn drop(&mut self) {
        if !self.acceptors.is_empty() {
            self.shared.stopping.store(true, Ordering::SeqCst);
            self.stop();
        }
    }
}

/// Asks a [`RunningIngest`] to stop: it stops accepting and reading at once; the owner's
/// [`RunningIngest::wait`] finishes the answers and joins the threads. Cloneable.
#[derive(Debug, Clone)]
pub struct IngestStop {
    shared: Arc<Shared>,
}

impl IngestStop {
    /// Requests the stop (idempotent).
    pub fn request(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for (_, stream) in lock(&self.shared.open).iter() {
            stream.shutdown(Shutdown::Read);
        }
    }

    /// Whether the stop was requested.
    pub fn is_requested(&self) -> bool {
        self.shared.stopping.load(Ordering::SeqCst)
    }
}

fn accept_loop(listener: &Listener, shared: &Arc<Shared>, admit: &Arc<dyn Admit>) {
    while !shared.stopping.load(Ordering::SeqCst) {
        let stream = match listener.accept() {
            Ok(stream) => stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(ACCEPT_POLL);
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                // Out of descriptors and the like: back off instead of spinning.
                thread::sleep(ACCEPT_POLL);
                continue;
            }
        };
        if stream.set_timeouts(shared.config.idle_timeout).is_err() {
            continue;
        }
        let max = shared.config.max_connections.max(1);
        let Ok(wake) = stream.try_clone() else {
            continue;
        };
        let id = {
            let mut next = lock(&shared.next_id);
            *next += 1;
            *next
        };
        {
            // Checked and registered under one lock: the Unix and TCP acceptors share the limit.
            let mut open = lock(&shared.open);
            if open.len() >= max {
                drop(open);
                drop(wake);
                // Counted first: the producer may look at the counters once it sees the close.
                lock(&shared.stats).connections_refused += 1;
                refuse_connection(stream, max);
                continue;
            }
            open.push((id, wake));
        }
        {
            let mut stats = lock(&shared.stats);
            stats.connections += 1;
            stats.connections_open += 1;
        }
        let conn_shared = Arc::clone(shared);
        let conn_admit = Arc::clone(admit);
        let spawned = thread::Builder::new()
            .name("ingest-conn".into())
            .spawn(move || serve_connection(stream, id, &conn_shared, &*conn_admit));
        let mut threads = lock(&shared.threads);
        threads.retain(|t| !t.is_finished());
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(_) => {
                // The stream went with the closure: it is closed. Undo the registration.
                drop(threads);
                forget_connection(shared, id);
            }
        }
    }
}

fn refuse_connection(mut stream: Stream, max: usize) {
    let answer = Answer::Refused {
        field: None,
        error: format!("too many connections ({max} open)"),
        allowed: Some(format!("at most {max} connections at a time; retry later")),
    };
    let mut line = answer.to_line();
    line.push('\n');
    // The line fits in the socket buffer; a write timeout is set in any case.
    let _ = stream.write_all(line.as_bytes());
    stream.shutdown(Shutdown::Both);
}

fn forget_connection(shared: &Shared, id: u64) {
    lock(&shared.open).retain(|(open_id, _)| *open_id != id);
    let mut stats = lock(&shared.stats);
    stats.connections_open = stats.connections_open.saturating_sub(1);
}

/// One line's way from the reader to the writer, in a channel of [`IngestConfig::window`]
/// slots per connection: kept small (an [`Answer`] inline made a slot 104 bytes, 26 KiB per
/// connection; boxed, 56).
struct Slot {
    reply: Reply,
    /// The decoder refused it (already counted by problem).
    decoder_refused: bool,
    heartbeat: bool,
    /// When it was read, for the ingest histogram (alerts and notifications only).
    read_at: crate::metrics::Stamp,
}

/// A [`Slot`]'s answer: known now, or once the line's append is durable. Both boxed, so a
/// slot is small; an answer known at once (a refusal, a heartbeat, not forwarded) costs one
/// allocation more, a stored event's none.
enum Reply {
    Now(Box<Answer>),
    Later(Box<dyn PendingAnswer>),
}

impl From<Admission> for Reply {
    fn from(admission: Admission) -> Self {
        match admission {
            Admission::Answer(answer) => Reply::Now(Box::new(answer)),
            Admission::Pending(pending) => Reply::Later(pending),
        }
    }
}

fn serve_connection(stream: Stream, id: u64, shared: &Shared, admit: &dyn Admit) {
    if let Ok(write_half) = stream.try_clone() {
        let (tx, rx) = mpsc::sync_channel::<Slot>(shared.config.window.max(1));
        thread::scope(|scope| {
            let writer = thread::Builder::new()
                .name("ingest-answer".into())
                .spawn_scoped(scope, move || write_answers(&rx, write_half, shared));
            if writer.is_ok() {
                read_lines(stream, &tx, shared, admit);
            }
            drop(tx);
        });
    }
    forget_connection(shared, id);
}

fn read_lines(stream: Stream, tx: &SyncSender<Slot>, shared: &Shared, admit: &dyn Admit) {
    let max_line = shared.config.max_line;
    let mut reader = BufReader::with_capacity(READ_BUFFER, stream);
    let mut line = Vec::with_capacity(1024);
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        // A long line's buffer is not kept for the connection's life (see the memory note).
        if line.capacity() > MAX_LINE {
            line.clear();
            line.shrink_to(MAX_LINE);
        }
        let read = match read_line_bounded(&mut reader, &mut line, max_line) {
            Ok(read) => read,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                lock(&shared.stats).idle_closed += 1;
                break;
            }
            Err(_) => break,
        };
        let received_ms = now_ms();
        let decoded = match read {
            LineRead::End => break,
            LineRead::Line => decode_line_within(&line, received_ms, max_line),
            LineRead::TooLong(len) => Err(too_long(len, max_line)),
        };
        let slot = match decoded {
            Ok(decoded) => {
                let heartbeat = matches!(decoded.message, Message::Heartbeat(_));
                lock(&shared.stats).lines += 1;
                Slot {
                    read_at: if heartbeat {
                        None
                    } else {
                        crate::metrics::stamp()
                    },
                    reply: Reply::from(admit.admit(decoded, received_ms)),
                    decoder_refused: false,
                    heartbeat,
                }
            }
            Err(refusal) => {
                let mut stats = lock(&shared.stats);
                stats.lines += 1;
                stats.count_problem(refusal.problem);
                Slot {
                    reply: Reply::Now(Box::new(Answer::refused(&refusal))),
                    decoder_refused: true,
                    heartbeat: false,
                    read_at: None,
                }
            }
        };
        if tx.send(slot).is_err() {
            // The writer gave up (the producer stopped reading answers).
            break;
        }
    }
}

fn write_answers(rx: &Receiver<Slot>, stream: Stream, shared: &Shared) {
    let mut out = BufWriter::with_capacity(ANSWER_BUFFER, stream);
    let mut broken = false;
    loop {
        let slot = match rx.try_recv() {
            Ok(slot) => slot,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                // Nothing more to send right away: let the producer see what it has.
                broken = broken || out.flush().is_err();
                match rx.recv() {
                    Ok(slot) => slot,
                    Err(_) => break,
                }
            }
        };
        let answer = match slot.reply {
            Reply::Now(answer) => *answer,
            Reply::Later(pending) => {
                if !pending.is_ready() {
                    broken = broken || out.flush().is_err();
                }
                pending.wait()
            }
        };
        crate::metrics::ingest_answered(slot.read_at, &answer);
        {
            let mut stats = lock(&shared.stats);
            match &answer {
                Answer::Accepted { .. } => {
                    stats.accepted += 1;
                    if slot.heartbeat {
                        stats.heartbeats += 1;
                    }
                }
                Answer::NotForwarded { .. } => stats.not_forwarded += 1,
                Answer::Refused { .. } if slot.decoder_refused => {}
                Answer::Refused { .. } => {
                    stats.refused += 1;
                    stats.refused_by_spool += 1;
                }
            }
            if broken {
                stats.answers_lost += 1;
            }
        }
        if !broken {
            let mut text = answer.to_line();
            text.push('\n');
            if out.write_all(text.as_bytes()).is_err() {
                broken = true;
                lock(&shared.stats).answers_lost += 1;
                // Wake the reader: no more lines from a producer we cannot answer.
                out.get_ref().shutdown(Shutdown::Both);
            }
        }
    }
    if !broken && out.flush().is_ok() {
        out.get_ref().shutdown(Shutdown::Write);
    } else {
        out.get_ref().shutdown(Shutdown::Both);
    }
}

/// What [`read_line_bounded`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineRead {
    /// A line is in the buffer, without its LF (the last line of the input may lack the LF).
    Line,
    /// A line of this many bytes (without the LF) was longer than the bound; it was skipped
    /// and the buffer is empty.
    TooLong(usize),
    /// End of input, no more lines.
    End,
}

/// Reads one LF-terminated line into `line` (cleared first, LF removed), holding at most
/// `max` bytes: a longer line is consumed to its LF without being kept and reported as
/// [`LineRead::TooLong`] with its length.
///
/// # Errors
///
/// The reader's errors, except [`io::ErrorKind::Interrupted`], which is retried.
///
/// (The example is the unit test `doc_examples::read_line_bounded_example` below: this module is
/// internal to the crate, so its example names crate paths.)
pub(crate) fn read_line_bounded<R: BufRead + ?Sized>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    line.clear();
    let mut len = 0usize;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(match (any, len > max) {
                (false, _) => LineRead::End,
                (true, false) => LineRead::Line,
                (true, true) => LineRead::TooLong(len),
            });
        }
        any = true;
        let (part, found) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (at, true),
            None => (chunk.len(), false),
        };
        len = len.saturating_add(part);
        if len <= max {
            line.extend_from_slice(chunk.get(..part).unwrap_or_default());
        } else if !line.is_empty() {
            // Over the bound: drop what was kept, count the rest.
            line.clear();
            line.shrink_to(max.min(64 * 1024));
        }
        reader.consume(part + usize::from(found));
        if found {
            return Ok(if len > max {
                LineRead::TooLong(len)
            } else {
                LineRead::Line
            });
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::ingest::schema::{Answer, Decoded};
        use crate::ingest::server::{Admission, Admit, IngestConfig, IngestServer};
        use std::io::{BufRead, BufReader, Write};
        use std::os::unix::net::UnixStream;
        use std::sync::Arc;

        /// Answers every valid line "not forwarded".
        struct Nowhere;
        impl Admit for Nowhere {
            fn admit(&self, decoded: Decoded, _received_ms: u64) -> Admission {
                Admission::Answer(Answer::NotForwarded {
                    id: decoded.message.id(),
                    reason: "no rule matched".into(),
                })
            }
        }

        let dir = tempfile::tempdir()?;
        let config = IngestConfig::new(dir.path().join("ingest.sock"));
        let server = IngestServer::start(config.clone(), Arc::new(Nowhere))?;

        let mut conn = UnixStream::connect(&config.socket)?;
        conn.write_all(
            b"{\"type\":\"heartbeat\",\"sensor\":{\"name\":\"s1\",\"ip\":\"10.0.0.9\"}}\n\n",
        )?;
        conn.shutdown(std::net::Shutdown::Write)?;
        let answers: Vec<String> = BufReader::new(conn).lines().collect::<Result<_, _>>()?;
        assert_eq!(
            answers[0],
            r#"{"status":"not_forwarded","id":"s1","reason":"no rule matched"}"#
        );
        assert!(answers[1].contains("line is empty"));

        let stats = server.shutdown();
        assert_eq!((stats.lines, stats.not_forwarded, stats.refused), (2, 1, 1));
        assert!(!config.socket.exists());
        Ok::<(), Box<dyn std::error::Error>>(())
    }

    #[test]
    fn read_line_bounded_example() -> Result<(), std::io::Error> {
        use crate::ingest::server::{LineRead, read_line_bounded};

        let mut input: &[u8] = b"short\nmuch too long\nlast";
        let mut line = Vec::new();
        assert_eq!(read_line_bounded(&mut input, &mut line, 8)?, LineRead::Line);
        assert_eq!(line, b"short");
        assert_eq!(
            read_line_bounded(&mut input, &mut line, 8)?,
            LineRead::TooLong(13)
        );
        assert_eq!(read_line_bounded(&mut input, &mut line, 8)?, LineRead::Line);
        assert_eq!(line, b"last");
        assert_eq!(read_line_bounded(&mut input, &mut line, 8)?, LineRead::End);
        Ok::<(), std::io::Error>(())
    }
}

#[cfg(test)]
mod footprint {
    //! What a line in flight costs: a connection holds up to a window of them.

    use super::{Slot, SpoolPending};
    use crate::spool::storage::FsStorage;

    #[test]
    fn a_window_slot_and_a_pending_line_stay_small() {
        // An `Answer` inline made a slot 96 bytes and a pending line's box 96.
        assert!(size_of::<Slot>() <= 48, "{}", size_of::<Slot>());
        assert!(
            size_of::<SpoolPending<FsStorage>>() <= 72,
            "{}",
            size_of::<SpoolPending<FsStorage>>()
        );
    }
}
