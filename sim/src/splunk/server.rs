//! A small blocking HTTP/1.1 server for the Splunk emulators, std only.
//!
//! What it is: [`Server::start`] binds a listener, runs an accept thread and one thread per
//! connection, frames each request into a [`Request`], calls a [`Handler`] and writes its
//! [`Response`]. [`hec_server`] and [`splunkd_server`] put the SANS-IO [`Hec`] and [`Splunkd`]
//! state machines behind it and move what they index into a shared [`Store`].
//!
//! What it guarantees:
//! - Bounded work per connection: request line + headers ≤ [`Limits::max_head`] bytes and ≤
//!   [`Limits::max_headers`] headers (else 431 and close); body ≤ [`Limits::max_body`] (else 413
//!   and close, without reading the body); a malformed request line, header, `Content-Length`
//!   or chunk → 400 and close; a `Transfer-Encoding` other than `chunked` → 501 and close.
//! - Bounded connections: at most [`Limits::max_connections`] at once; one more is answered
//!   `503` with `Connection: close` by the accept thread and closed.
//! - Keep-alive: HTTP/1.1 connections stay open unless the client sends `Connection: close`;
//!   HTTP/1.0 ones close unless it sends `Connection: keep-alive`.
//! - Body framing: `Transfer-Encoding: chunked`, else `Content-Length`, else — for a `POST` to a
//!   path in [`Limits::read_to_eof_paths`] (by default `/services/receivers/stream`, whose client
//!   in Splunk's Python SDK sends neither header) — everything until the client shuts its write
//!   side; the reply is then best effort and the connection closes. Otherwise no body.
//! - A read that waits more than [`Limits::idle_timeout`] ends the connection.
//! - Known limit: an error reply (400/413/431/501) closes without draining the rest of the
//!   body, so a client still writing may see a connection reset instead of the reply.
//! - [`RunningServer::shutdown`] (and `Drop`) stops accepting, shuts down every open
//!   connection's socket, and joins every thread before returning; connections that are
//!   delayed, trickling or hung wait in steps of at most 20 ms, so this is prompt for them too.
//! - Outcomes beyond a reply ([`Handler::respond`] → [`Outcome`]): a delayed reply, a reply
//!   trickled at a byte rate, a hang (read and discard, never answer, until the client closes,
//!   the server stops or the outcome's release check says so), and a reset (`SO_LINGER` 0 via
//!   `socket2`, so the close sends RST: the client's read fails with `ECONNRESET`, never any
//!   response bytes). Framing of the requests themselves is unchanged.
//! - Down/up: the accept thread polls a non-blocking listener every [`ACCEPT_POLL`]; while
//!   [`Handler::accepting`] is false the listening socket is closed (connects are refused,
//!   queued ones reset) and it is bound again on the same port (`SO_REUSEADDR`, as std sets
//!   it) when it turns true; a failed re-bind is retried at the next poll.
//! - No `Content-Length`/`Connection` header from the handler is sent: the server frames.
//!
//! Transport: the connection code is generic over any `Read + Write` stream produced by an
//! [`Accept`] implementation from the accepted `TcpStream` (timeouts are set on the TCP socket
//! first). [`PlainTcp`] is the identity; a TLS acceptor (e.g. rustls' `StreamOwned`) slots in
//! as another [`Accept`] without touching the framing code.
//!
//! Choices made here (not Splunk's documented behaviour): the 400/413/431/501/503 bodies of this
//! layer are short `text/plain` lines (Splunk's own 413 for HEC comes from [`Hec`] when the body is
//! within this layer's limit); reason phrases are the standard ones.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use icsfwd_sim::splunk::http::{Request, Response};
//! use icsfwd_sim::splunk::server::Server;
//!
//! let server = Server::start("127.0.0.1:0".parse().unwrap(), |req: &Request, _peer| {
//!     Response::json(200, &format!(r#"{{"path":"{}"}}"#, req.path))
//! })
//! .unwrap();
//! let mut conn = TcpStream::connect(server.local_addr()).unwrap();
//! conn.write_all(b"GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
//! let mut reply = String::new();
//! conn.read_to_string(&mut reply).unwrap();
//! assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(reply.ends_with(r#"{"path":"/ping"}"#));
//! server.shutdown();
//! ```

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use icsfwd::clock::now_ms;

use super::hec::{AckHold, Begun, Hec, HecConfig};
use super::http::{Request, Response};
use super::splunkd::{Splunkd, SplunkdConfig};
use super::store::{Store, Stored};

/// Default [`Limits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// Default [`Limits::max_head`]: 16 KiB.
pub const DEFAULT_MAX_HEAD: usize = 16 * 1024;
/// Default [`Limits::max_headers`].
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Default [`Limits::max_body`]: 64 MiB.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;
/// Default [`Limits::idle_timeout`]: 30 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The path whose bodies are read to EOF by default: Splunk's Python SDK streams to it without
/// `Content-Length` or chunked encoding and never reads the reply.
pub const RECEIVERS_STREAM: &str = "/services/receivers/stream";

/// The server's limits (see the module docs for what each answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Bytes of request line + headers, CRLFs included.
    pub max_head: usize,
    /// Header lines.
    pub max_headers: usize,
    /// Body bytes (after chunked decoding; before any gzip inflation).
    pub max_body: usize,
    /// The longest wait for one read.
    pub idle_timeout: Duration,
    /// Paths whose `POST` without `Content-Length` or chunking is read to EOF.
    pub read_to_eof_paths: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_head: DEFAULT_MAX_HEAD,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body: DEFAULT_MAX_BODY,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            read_to_eof_paths: vec![RECEIVERS_STREAM.to_owned()],
        }
    }
}

/// Answers one framed request from `peer`. Called concurrently from connection threads.
pub trait Handler: Send + Sync + 'static {
    /// The response to `req`.
    fn handle(&self, req: &Request, peer: SocketAddr) -> Response;

    /// What the connection does with `req`: by default, reply with [`Handler::handle`]. The
    /// fault-injection layer overrides this to delay, trickle, hang or reset instead.
    fn respond(&self, req: &Request, peer: SocketAddr) -> Outcome {
        Outcome::Reply(self.handle(req, peer))
    }

    /// Whether the listener should be open now; polled by the accept thread every
    /// [`ACCEPT_POLL`]. While false the listening socket is closed (connects are refused) and
    /// it is bound again on the same port once true. Default: always true.
    fn accepting(&self) -> bool {
        true
    }
}

/// How often the accept thread polls for connections, [`Handler::accepting`] and shutdown.
pub const ACCEPT_POLL: Duration = Duration::from_millis(10);
/// The longest single sleep of a connection thread that waits (delay, trickle, hang), so
/// shutdown is never held up by more than about this.
const WAIT_STEP: Duration = Duration::from_millis(20);

/// What a connection does with one request (see [`Handler::respond`]).
#[derive(Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// Send this response now.
    Reply(Response),
    /// Send this response after this delay (cut short, without a reply, by shutdown).
    Delayed(Duration, Response),
    /// Send this response (head and body) at this many bytes per second (at least 1).
    Trickle(Response, u64),
    /// Send nothing and keep the connection open until the client closes it, the server shuts
    /// down, or `release` (polled) returns true; then close without a reply.
    Hang {
        /// Ends the hang when it returns true; `None`: only the client or shutdown end it.
        release: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
    },
    /// Reset the connection (TCP RST: `SO_LINGER` 0, then close) without a reply. The client
    /// sees `ECONNRESET` ("connection reset by peer") on its next read or write, or EOF if it
    /// had already shut down its read side; never any response bytes.
    Reset,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Reply(resp) => f.debug_tuple("Reply").field(&resp.status).finish(),
            Self::Delayed(delay, resp) => f
                .debug_tuple("Delayed")
                .field(delay)
                .field(&resp.status)
                .finish(),
            Self::Trickle(resp, rate) => f
                .debug_tuple("Trickle")
                .field(&resp.status)
                .field(rate)
                .finish(),
            Self::Hang { release } => f
                .debug_struct("Hang")
                .field("release", &release.is_some())
                .finish(),
            Self::Reset => f.write_str("Reset"),
        }
    }
}

impl<F> Handler for F
where
    F: Fn(&Request, SocketAddr) -> Response + Send + Sync + 'static,
{
    fn handle(&self, req: &Request, peer: SocketAddr) -> Response {
        self(req, peer)
    }
}

/// Turns an accepted TCP connection into the stream HTTP is spoken over (plain or TLS).
pub trait Accept: Send + Sync + 'static {
    /// The stream type.
    type Stream: Read + Write + Send + 'static;
    /// Wraps `tcp` (handshakes, if any, happen here, on the connection's thread).
    ///
    /// # Errors
    /// The wrapping failed; the connection is dropped.
    fn accept(&self, tcp: TcpStream) -> io::Result<Self::Stream>;

    /// Ends a connection the server closes in an orderly way (after its last reply, or when
    /// the client has finished): TLS sends its `close_notify` here so a client reading to the
    /// end sees a clean end of stream rather than a truncation. Best effort; the default does
    /// nothing. Not called for resets, hangs or I/O errors.
    fn finish(&self, stream: &mut Self::Stream) {
        let _ = stream;
    }
}

/// Plain HTTP: the TCP stream itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainTcp;

impl Accept for PlainTcp {
    type Stream = TcpStream;
    fn accept(&self, tcp: TcpStream) -> io::Result<TcpStream> {
        Ok(tcp)
    }
}

/// Entry points that start a server.
#[derive(Debug, Clone, Copy)]
pub struct Server;

impl Server {
    /// Plain HTTP with default [`Limits`] on `addr` (use port 0 for an ephemeral port).
    ///
    /// # Errors
    /// Binding or spawning the accept thread failed.
    pub fn start<H: Handler>(addr: SocketAddr, handler: H) -> io::Result<RunningServer> {
        Self::start_with(addr, Limits::default(), PlainTcp, handler)
    }

    /// A server with explicit limits and transport.
    ///
    /// # Errors
    /// Binding or spawning the accept thread failed.
    pub fn start_with<A: Accept, H: Handler>(
        addr: SocketAddr,
        limits: Limits,
        acceptor: A,
        handler: H,
    ) -> io::Result<RunningServer> {
        let listener = bind_polled(addr)?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Connections::default());
        let context = Arc::new(Context {
            limits,
            acceptor,
            handler,
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("http-accept-{local_addr}"))
            .spawn(move || accept_loop(listener, local_addr, &accept_shared, &context))?;
        Ok(RunningServer {
            local_addr,
            shared,
            accept_thread: Some(accept_thread),
        })
    }
}

struct Context<A, H> {
    limits: Limits,
    acceptor: A,
    handler: H,
}

/// The connections a server serves, one thread each, and its stop flag: shared by the HTTP
/// server and the syslog receiver, so both stop the same way.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    stopping: AtomicBool,
    next_id: AtomicU64,
    /// A clone of every open connection's socket, so shutdown can unblock its reads.
    open: Mutex<HashMap<u64, TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Connections {
    /// Whether a stop was asked for.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// How many connections are being served.
    pub(crate) fn open_count(&self) -> usize {
        lock(&self.open).len()
    }

    /// Serves `tcp` with `work` on a thread of its own named `name`, unless `max`
    /// connections are open: then `tcp` is given back for the caller to refuse. A connection
    /// whose socket cannot be cloned or whose thread cannot start is dropped.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        tcp: TcpStream,
        max: usize,
        name: String,
        work: impl FnOnce(TcpStream) + Send + 'static,
    ) -> Result<(), TcpStream> {
        lock(&self.workers).retain(|worker| !worker.is_finished());
        let Ok(clone) = tcp.try_clone() else {
            return Ok(());
        };
        let mut open = lock(&self.open);
        if open.len() >= max {
            return Err(tcp);
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        open.insert(id, clone);
        let connections = Arc::clone(self);
        let spawned = thread::Builder::new().name(name).spawn(move || {
            work(tcp);
            lock(&connections.open).remove(&id);
        });
        match spawned {
            Ok(worker) => lock(&self.workers).push(worker),
            Err(_) => {
                if let Some(stream) = open.remove(&id) {
                    drop(stream.shutdown(Shutdown::Both));
                }
            }
        }
        Ok(())
    }

    /// Stops: raises the flag, joins `accept` (it polls the flag, so no connection is added
    /// after it ends), shuts down every open socket to unblock its reads, joins every worker.
    pub(crate) fn stop(&self, accept: JoinHandle<()>) {
        self.stopping.store(true, Ordering::SeqCst);
        drop(accept.join());
        for stream in lock(&self.open).values() {
            drop(stream.shutdown(Shutdown::Both));
        }
        let workers = std::mem::take(&mut *lock(&self.workers));
        for worker in workers {
            drop(worker.join());
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A started server; shut down explicitly or on drop.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    shared: Arc<Connections>,
    accept_thread: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on (the real port when bound to port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many connections are being served right now.
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.shared.open_count()
    }

    /// Stops accepting, closes every open connection and joins all threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(accept_thread) = self.accept_thread.take() {
            self.shared.stop(accept_thread);
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A non-blocking listener on `addr` (std sets `SO_REUSEADDR`, so a port closed for a "down"
/// fault can be bound again while old connections linger in `TIME_WAIT`).
fn bind_polled(addr: SocketAddr) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

fn accept_loop<A: Accept, H: Handler>(
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: &Arc<Connections>,
    context: &Arc<Context<A, H>>,
) {
    let mut listener = Some(listener);
    while !shared.stopping.load(Ordering::SeqCst) {
        if context.handler.accepting() {
            if listener.is_none() {
                // Re-bind failures (the port taken meanwhile) are retried at the next poll.
                listener = bind_polled(local_addr).ok();
            }
        } else {
            // Closing the socket refuses new connects and resets those still in the backlog.
            listener = None;
        }
        let incoming = match &listener {
            Some(open) => open.accept(),
            None => Err(io::ErrorKind::WouldBlock.into()),
        };
        match incoming {
            Ok((tcp, peer)) => serve(tcp, peer, shared, context),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(_) => {}
        }
    }
}

fn serve<A: Accept, H: Handler>(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &Arc<Connections>,
    context: &Arc<Context<A, H>>,
) {
    if tcp.set_nonblocking(false).is_err() {
        return;
    }
    let worker_shared = Arc::clone(shared);
    let worker_context = Arc::clone(context);
    let served = shared.spawn(
        tcp,
        context.limits.max_connections,
        format!("http-conn-{peer}"),
        move |tcp| run_connection(tcp, peer, &worker_shared, &worker_context),
    );
    if let Err(tcp) = served {
        refuse_busy(tcp);
    }
}

fn refuse_busy(mut tcp: TcpStream) {
    drop(tcp.set_write_timeout(Some(Duration::from_secs(1))));
    let resp = plain(503, "too many connections");
    drop(write_response(&mut tcp, &resp, true));
    drop(tcp.shutdown(Shutdown::Write));
}

fn run_connection<A: Accept, H: Handler>(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &Connections,
    context: &Context<A, H>,
) {
    let limits = &context.limits;
    if tcp.set_read_timeout(Some(limits.idle_timeout)).is_err()
        || tcp.set_write_timeout(Some(limits.idle_timeout)).is_err()
    {
        return;
    }
    // One write per reply (head and body together) is the rule here, but a transport may
    // still split it (TLS records); Nagle's algorithm would hold the second segment for the
    // client's delayed ACK, about 40 ms per request.
    if tcp.set_nodelay(true).is_err() {
        return;
    }
    // Kept to reach the socket under the transport: hang polling and reset.
    let Ok(socket) = tcp.try_clone() else { return };
    let Ok(stream) = context.acceptor.accept(tcp) else {
        return;
    };
    let mut reader = BufReader::new(stream);
    if serve_requests(&mut reader, &socket, peer, shared, context) {
        context.acceptor.finish(reader.get_mut());
    }
}

/// Serves requests until the connection ends; true when it ends in an orderly way (the
/// transport may then say goodbye), false after a reset, a hang or an I/O error.
fn serve_requests<A: Accept, H: Handler>(
    reader: &mut BufReader<A::Stream>,
    socket: &TcpStream,
    peer: SocketAddr,
    shared: &Connections,
    context: &Context<A, H>,
) -> bool {
    let limits = &context.limits;
    loop {
        match read_request(reader, limits) {
            Ok(framed) => {
                let outcome = context.handler.respond(&framed.request, peer);
                let close = !framed.keep_alive || shared.stopping.load(Ordering::SeqCst);
                let written = match outcome {
                    Outcome::Reply(resp) => write_response(reader.get_mut(), &resp, close),
                    Outcome::Delayed(delay, resp) => {
                        if !pause(shared, delay) {
                            return false;
                        }
                        write_response(reader.get_mut(), &resp, close)
                    }
                    Outcome::Trickle(resp, rate) => {
                        trickle(reader.get_mut(), &resp, close, rate, shared)
                    }
                    Outcome::Hang { release } => {
                        hang(reader, socket, shared, release.as_deref(), limits);
                        return false;
                    }
                    Outcome::Reset => {
                        reset(socket);
                        return false;
                    }
                };
                if written.is_err() {
                    return false;
                }
                if close {
                    return true;
                }
            }
            Err(ReadError::Closed) => return true,
            Err(ReadError::Reply(status, text)) => {
                drop(write_response(reader.get_mut(), &plain(status, text), true));
                return true;
            }
        }
    }
}

/// Sleeps `total` in steps; false if the server began stopping meanwhile.
fn pause(shared: &Connections, total: Duration) -> bool {
    let mut left = total;
    while !left.is_zero() {
        if shared.stopping.load(Ordering::SeqCst) {
            return false;
        }
        let step = left.min(WAIT_STEP);
        thread::sleep(step);
        left -= step;
    }
    !shared.stopping.load(Ordering::SeqCst)
}

/// Writes `resp` at about `rate` bytes per second (in slices of a tenth of a second's worth,
/// at least one byte); gives up when the server stops.
fn trickle<W: Write>(
    out: &mut W,
    resp: &Response,
    close: bool,
    rate: u64,
    shared: &Connections,
) -> io::Result<()> {
    let mut bytes = Vec::new();
    write_response(&mut bytes, resp, close)?;
    let rate = rate.max(1);
    let slice = usize::try_from((rate / 10).max(1)).unwrap_or(usize::MAX);
    let slice_len = u64::try_from(slice).unwrap_or(u64::MAX);
    let interval = Duration::from_millis(slice_len.saturating_mul(1000) / rate);
    for piece in bytes.chunks(slice) {
        out.write_all(piece)?;
        out.flush()?;
        if !pause(shared, interval) {
            return Err(io::ErrorKind::Interrupted.into());
        }
    }
    Ok(())
}

/// Reads and discards whatever the client sends, never answering, until it closes, the server
/// stops or `release` says so.
fn hang<R: Read>(
    reader: &mut R,
    socket: &TcpStream,
    shared: &Connections,
    release: Option<&(dyn Fn() -> bool + Send + Sync)>,
    limits: &Limits,
) {
    if socket.set_read_timeout(Some(WAIT_STEP)).is_err() {
        return;
    }
    let mut sink = [0u8; 1024];
    while !shared.stopping.load(Ordering::SeqCst) && !release.is_some_and(|done| done()) {
        match reader.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => break,
        }
    }
    drop(socket.set_read_timeout(Some(limits.idle_timeout)));
}

/// Makes the close of this socket send RST instead of FIN (`SO_LINGER` 0), then shuts reads
/// so nothing more is processed; the RST goes out when the last handle is closed.
fn reset(socket: &TcpStream) {
    drop(socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO)));
    drop(socket.shutdown(Shutdown::Read));
}

struct Framed {
    request: Request,
    keep_alive: bool,
}

enum ReadError {
    /// EOF, timeout or I/O error: end the connection without a reply.
    Closed,
    /// Answer this status with this text, then close.
    Reply(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        Self::Closed
    }
}

/// Reads one line (ending in LF) of at most `budget` bytes; strips CRLF/LF.
fn read_line<R: BufRead>(
    reader: &mut R,
    budget: &mut usize,
    too_long: ReadError,
) -> Result<Option<String>, ReadError> {
    let mut line = Vec::new();
    let limit = u64::try_from(*budget).unwrap_or(u64::MAX);
    let read = reader.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        // Either the budget ran out mid-line, or the peer closed mid-line.
        return if read >= *budget {
            Err(too_long)
        } else {
            Err(ReadError::Closed)
        };
    }
    *budget -= read;
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| ReadError::Reply(400, "request head is not UTF-8"))
}

fn read_request<R: BufRead>(reader: &mut R, limits: &Limits) -> Result<Framed, ReadError> {
    let head_too_large = || ReadError::Reply(431, "request head too large");
    let mut budget = limits.max_head;
    let Some(request_line) = read_line(reader, &mut budget, head_too_large())? else {
        return Err(ReadError::Closed);
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Reply(400, "malformed request line"));
    };
    let method_ok = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    let version_ok = version == "HTTP/1.1" || version == "HTTP/1.0";
    if !method_ok || !version_ok || !target.starts_with('/') {
        return Err(ReadError::Reply(400, "malformed request line"));
    }
    let mut request = Request::from_target(method, target);
    loop {
        let Some(line) = read_line(reader, &mut budget, head_too_large())? else {
            return Err(ReadError::Closed);
        };
        if line.is_empty() {
            break;
        }
        if request.headers.len() >= limits.max_headers {
            return Err(ReadError::Reply(431, "too many headers"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Reply(400, "malformed header"));
        };
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(ReadError::Reply(400, "malformed header"));
        }
        request
            .headers
            .push((name.to_owned(), value.trim().to_owned()));
    }
    let connection = request.header("connection").map(str::to_ascii_lowercase);
    let mut keep_alive = match connection.as_deref() {
        Some(value) if value.contains("close") => false,
        Some(value) if value.contains("keep-alive") => true,
        _ => version == "HTTP/1.1",
    };
    request.body = if let Some(encoding) = request.header("transfer-encoding") {
        if !encoding.eq_ignore_ascii_case("chunked") {
            return Err(ReadError::Reply(
                501,
                "only chunked transfer-encoding is supported",
            ));
        }
        read_chunked(reader, limits.max_body)?
    } else if let Some(length) = content_length(&request)? {
        if length > limits.max_body {
            return Err(ReadError::Reply(413, "request body too large"));
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    } else if method == "POST" && limits.read_to_eof_paths.contains(&request.path) {
        keep_alive = false;
        let mut body = Vec::new();
        let limit = u64::try_from(limits.max_body).unwrap_or(u64::MAX);
        match reader
            .by_ref()
            .take(limit.saturating_add(1))
            .read_to_end(&mut body)
        {
            Ok(_) => {}
            // A TLS client that shuts the socket without `close_notify` (the Python SDK's
            // `attach()` does) ends its stream this way; what it sent is kept, as splunkd does.
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {}
            Err(err) => return Err(err.into()),
        }
        if body.len() > limits.max_body {
            return Err(ReadError::Reply(413, "request body too large"));
        }
        body
    } else {
        Vec::new()
    };
    Ok(Framed {
        request,
        keep_alive,
    })
}

/// The `Content-Length`, if any; several headers must agree.
fn content_length(request: &Request) -> Result<Option<usize>, ReadError> {
    let mut length = None;
    for (_, value) in request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
    {
        let parsed = if value.bytes().all(|b| b.is_ascii_digit()) {
            value.parse::<usize>().ok()
        } else {
            None
        };
        let Some(parsed) = parsed else {
            return Err(ReadError::Reply(400, "malformed content-length"));
        };
        if length.is_some_and(|previous| previous != parsed) {
            return Err(ReadError::Reply(400, "conflicting content-length"));
        }
        length = Some(parsed);
    }
    Ok(length)
}

fn read_chunked<R: BufRead>(reader: &mut R, max_body: usize) -> Result<Vec<u8>, ReadError> {
    const MAX_CHUNK_LINE: usize = 1024;
    let bad_chunk = || ReadError::Reply(400, "malformed chunk");
    let mut body = Vec::new();
    loop {
        let mut budget = MAX_CHUNK_LINE;
        let Some(line) = read_line(reader, &mut budget, bad_chunk())? else {
            return Err(ReadError::Closed);
        };
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad_chunk())?;
        if size == 0 {
            // Trailer section: header lines up to an empty line, ignored.
            let mut budget = DEFAULT_MAX_HEAD;
            loop {
                match read_line(reader, &mut budget, bad_chunk())? {
                    Some(trailer) if trailer.is_empty() => return Ok(body),
                    Some(_) => {}
                    None => return Err(ReadError::Closed),
                }
            }
        }
        if body.len().saturating_add(size) > max_body {
            return Err(ReadError::Reply(413, "request body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(body.get_mut(start..).unwrap_or_default())?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(bad_chunk());
        }
    }
}

fn plain(status: u16, text: &str) -> Response {
    Response {
        status,
        headers: vec![(
            "Content-Type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        )],
        body: format!("{text}\n").into_bytes(),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

fn write_response<W: Write>(out: &mut W, resp: &Response, close: bool) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (name, value) in &resp.headers {
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("connection") {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    // One write: a head and body in two small segments would meet Nagle + delayed ACK and
    // stall every keep-alive exchange by ~40 ms.
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&resp.body);
    out.write_all(&bytes)?;
    out.flush()
}

fn store_batch(store: &Store, batch: Vec<Stored>) {
    if batch.is_empty() {
        return;
    }
    if let Err(err) = store.append(batch) {
        // The events are in memory; only the JSONL mirror missed them. Say so, loudly.
        eprintln!("icsfwd-sim: store: writing the JSONL file failed: {err}");
    }
}

/// [`Hec`] behind a mutex, storing what it indexes.
#[derive(Debug, Clone)]
pub struct HecHandler {
    /// The state machine (shared so a control layer can change its condition or acks).
    pub hec: Arc<Mutex<Hec>>,
    /// Where indexed events go.
    pub store: Store,
}

impl HecHandler {
    /// A handler over a new [`Hec`] with `config`.
    #[must_use]
    pub fn new(config: HecConfig, store: Store) -> Self {
        Self {
            hec: Arc::new(Mutex::new(Hec::new(config))),
            store,
        }
    }
}

impl HecHandler {
    /// Handles `req` with the acks it issues held back as `hold` says (the fault hook).
    #[must_use]
    pub fn handle_holding_acks(&self, req: &Request, hold: AckHold) -> Response {
        let now = now_ms();
        // Parsed without the lock (Hec::begin): requests on several connections are parsed
        // at once, as Splunk's HEC does; the lock is held to begin and to finish each.
        let begun = lock(&self.hec).begin(req, now);
        let (resp, events) = match begun {
            Begun::Answered(resp) => (resp, Vec::new()),
            Begun::Parse(parse) => {
                let parsed = parse.run(req, now);
                lock(&self.hec).finish_holding_acks(&parse, parsed, now, hold)
            }
        };
        store_batch(&self.store, events.into_iter().map(Stored::from).collect());
        resp
    }
}

impl Handler for HecHandler {
    fn handle(&self, req: &Request, _peer: SocketAddr) -> Response {
        self.handle_holding_acks(req, AckHold::None)
    }
}

/// [`Splunkd`] behind a mutex, storing what it receives; the peer's IP is the default host.
#[derive(Debug, Clone)]
pub struct SplunkdHandler {
    /// The state machine.
    pub splunkd: Arc<Mutex<Splunkd>>,
    /// Where received events go.
    pub store: Store,
}

impl SplunkdHandler {
    /// A handler over a new [`Splunkd`] with `config`.
    #[must_use]
    pub fn new(config: SplunkdConfig, store: Store) -> Self {
        Self {
            splunkd: Arc::new(Mutex::new(Splunkd::new(config))),
            store,
        }
    }
}

impl Handler for SplunkdHandler {
    fn handle(&self, req: &Request, peer: SocketAddr) -> Response {
        let host = peer.ip().to_string();
        let (resp, events) = lock(&self.splunkd).handle_from(req, &host, now_ms());
        store_batch(&self.store, events.into_iter().map(Stored::from).collect());
        resp
    }
}

/// A plain-HTTP HEC server on `addr`. [`Limits::max_body`] is the smaller of the config's
/// `max_content_length` and [`DEFAULT_MAX_BODY`]: below it, [`Hec`] answers oversize bodies
/// with its own JSON 413; above it (only when `max_content_length` is larger than
/// [`DEFAULT_MAX_BODY`]) this layer answers a plain 413 without reading the body.
///
/// # Errors
/// Binding failed.
pub fn hec_server(addr: SocketAddr, config: HecConfig, store: Store) -> io::Result<RunningServer> {
    let limits = hec_limits(&config);
    Server::start_with(addr, limits, PlainTcp, HecHandler::new(config, store))
}

/// The [`Limits`] [`hec_server`] uses for `config` (see there).
#[must_use]
pub fn hec_limits(config: &HecConfig) -> Limits {
    Limits {
        max_body: config.max_content_length.min(DEFAULT_MAX_BODY),
        ..Limits::default()
    }
}

/// A plain-HTTP splunkd server on `addr` with default [`Limits`].
///
/// # Errors
/// Binding failed.
pub fn splunkd_server(
    addr: SocketAddr,
    config: SplunkdConfig,
    store: Store,
) -> io::Result<RunningServer> {
    Server::start_with(
        addr,
        Limits::default(),
        PlainTcp,
        SplunkdHandler::new(config, store),
    )
}
