//! A small HTTP/1.1 server for `GET /metrics`: one thread, bounded in every way.
//!
//! What it is: [`serve`] runs on the caller's thread until its stop flag is set. Its
//! listener (TCP on a loopback address, or a Unix socket) and its connections are
//! non-blocking; one loop accepts, reads each request, renders the answer and writes it,
//! sleeping [`BUSY_POLL`] between rounds while a connection is open and [`IDLE_POLL`]
//! otherwise. Every answer closes its connection (`Connection: close`).
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /metrics` (any query string) | 200, the exposition in the format the `Accept` header asks for ([`negotiate`](super::exposition::negotiate)) |
//! | `HEAD /metrics` | 200, the headers only |
//! | another path | 404 |
//! | another method | 405 with `Allow: GET, HEAD` |
//! | more than [`Limits::max_request`] bytes or [`Limits::max_headers`] headers | 431 |
//! | not HTTP/1.x, not UTF-8, a header line without `:` | 400 |
//! | no whole request within [`Limits::request_timeout`] | 408 |
//! | more than [`Limits::max_connections`] open | 503, closed at once |
//!
//! What it guarantees: memory per connection is bounded by the request limit and one
//! rendered answer; a slow or silent client holds one connection slot for at most the
//! request timeout plus the response timeout and never delays another client by more
//! than a poll interval; nothing here takes a lock that ingest or delivery wait on (the
//! renderer reads the last published snapshot and atomic counters). After its answer, a
//! connection is read to its end (at most [`DRAIN_LIMIT`] bytes, for at most
//! [`DRAIN_TIME`]) before it is closed, so a client that sent more than was read still
//! receives the answer instead of a reset.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::StartError;
use super::exposition::{Format, negotiate};

/// The pause between rounds while a connection is open.
pub(crate) const BUSY_POLL: Duration = Duration::from_millis(2);

/// The pause between rounds while no connection is open (also how soon a stop is seen).
pub(crate) const IDLE_POLL: Duration = Duration::from_millis(50);

/// Longest a connection is read to its end after its answer.
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(1);

/// Most bytes read and discarded from a connection after its answer.
pub(crate) const DRAIN_LIMIT: usize = 64 * 1024;

/// The bounds of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Bytes of a request (request line and headers).
    pub max_request: usize,
    /// Header lines of a request.
    pub max_headers: usize,
    /// Longest a client may take to send its whole request.
    pub request_timeout: Duration,
    /// Longest a client may take to read the whole answer.
    pub response_timeout: Duration,
}

/// The service's limits: 4 connections, 8 KiB and 64 headers per request (Prometheus sends
/// a few hundred bytes in 5 headers), 5 s to send a request, 10 s to read the answer.
pub(crate) const LIMITS: Limits = Limits {
    max_connections: 4,
    max_request: 8 * 1024,
    max_headers: 64,
    request_timeout: Duration::from_secs(5),
    response_timeout: Duration::from_secs(10),
};

/// Renders the exposition in a format.
pub(crate) type Render = dyn Fn(Format) -> String + Send;

/// A bound listener, TCP or Unix.
#[derive(Debug)]
pub(crate) enum Listener {
    /// On a loopback address.
    Tcp(TcpListener),
    /// On a Unix socket this server created (removed by [`SocketFile::remove`]).
    Unix(UnixListener),
}

impl Listener {
    fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
        }
    }

    fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.set_nonblocking(true),
            Listener::Unix(l) => l.set_nonblocking(true),
        }
    }
}

/// The Unix socket file this server created, to be removed when it stops.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    /// Device, inode and change time (s, ns): an inode number alone may be reused by a
    /// socket created after this one was removed.
    identity: (u64, u64, i64, i64),
}

impl SocketFile {
    /// Removes the socket file if it is still the one created (another process may have
    /// replaced it since).
    pub(crate) fn remove(&self) {
        if let Ok(meta) = fs::symlink_metadata(&self.path)
            && identity(&meta) == self.identity
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn identity(meta: &fs::Metadata) -> (u64, u64, i64, i64) {
    (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
}

/// Listens on `addr`, a loopback address (the configuration refused any other).
pub(crate) fn bind_tcp(addr: std::net::SocketAddr) -> Result<Listener, StartError> {
    let listener = TcpListener::bind(addr).map_err(|source| StartError::Bind {
        listen: addr.to_string(),
        source,
    })?;
    let listener = Listener::Tcp(listener);
    listener.set_nonblocking().map_err(StartError::Io)?;
    Ok(listener)
}

/// Creates the Unix socket `path` with `mode`: bound under a temporary name beside it,
/// given its mode, then renamed into place, so it is never reachable with other
/// permissions. A stale socket (nobody answers) is replaced; a live one, or a file that is
/// not a socket, is left alone and refused.
pub(crate) fn bind_unix(path: &Path, mode: u32) -> Result<(Listener, SocketFile), StartError> {
    let shown = format!("unix:{}", path.display());
    let bind_error = |source| StartError::Bind {
        listen: shown.clone(),
        source,
    };
    if let Ok(meta) = fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(StartError::NotASocket(path.to_owned()));
        }
        if UnixStream::connect(path).is_ok() {
            return Err(StartError::InUse(path.to_owned()));
        }
        fs::remove_file(path).map_err(bind_error)?;
    }
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let _ = fs::remove_file(&temp);
    let listener = UnixListener::bind(&temp).map_err(bind_error)?;
    let placed = fs::set_permissions(&temp, fs::Permissions::from_mode(mode))
        .and_then(|()| fs::rename(&temp, path))
        .and_then(|()| fs::symlink_metadata(path));
    let meta = match placed {
        Ok(meta) => meta,
        Err(source) => {
            let _ = fs::remove_file(&temp);
            return Err(bind_error(source));
        }
    };
    let listener = Listener::Unix(listener);
    listener.set_nonblocking().map_err(StartError::Io)?;
    let file = SocketFile {
        path: path.to_owned(),
        identity: identity(&meta),
    };
    Ok((listener, file))
}

/// A connected client, TCP or Unix.
#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nonblocking(true),
            Stream::Unix(s) => s.set_nonblocking(true),
        }
    }

    fn shutdown_write(&self) {
        // Already closed by the client is fine: the answer is all it could get.
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Write),
            Stream::Unix(s) => s.shutdown(Shutdown::Write),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where a connection is.
#[derive(Debug)]
enum Phase {
    /// Reading the request (the bytes so far).
    Request(Vec<u8>),
    /// Writing the answer (the bytes, how many are written).
    Answer(Vec<u8>, usize),
    /// Reading to the end after the answer (bytes discarded so far).
    Drain(usize),
}

#[derive(Debug)]
struct Connection {
    stream: Stream,
    phase: Phase,
    deadline: Instant,
}

/// What one step of a connection did.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Nothing to do now.
    Wait,
    /// Read or wrote something.
    Progress,
    /// Finished: close it.
    Close,
}

/// Serves until `stop` is set; see the [module docs](self).
pub(crate) fn serve(listener: &Listener, limits: Limits, stop: &Arc<AtomicBool>, render: &Render) {
    let mut connections: Vec<Connection> = Vec::with_capacity(limits.max_connections);
    while !stop.load(Ordering::Relaxed) {
        let mut progress = accept(listener, limits, &mut connections);
        let now = Instant::now();
        connections.retain_mut(|c| match c.step(now, limits, render) {
            Step::Wait => true,
            Step::Progress => {
                progress = true;
                true
            }
            Step::Close => {
                progress = true;
                false
            }
        });
        if !progress {
            std::thread::sleep(if connections.is_empty() {
                IDLE_POLL
            } else {
                BUSY_POLL
            });
        }
    }
}

/// Accepts every waiting client: a connection each, or 503 beyond the limit. Returns
/// whether any was waiting.
fn accept(listener: &Listener, limits: Limits, connections: &mut Vec<Connection>) -> bool {
    let mut any = false;
    loop {
        let stream = match listener.accept() {
            Ok(stream) => stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return any,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Out of file descriptors and the like: the next round tries again.
                log::debug!("metrics endpoint: accepting a connection: {e}");
                return any;
            }
        };
        any = true;
        if stream.set_nonblocking().is_err() {
            continue;
        }
        if connections.len() >= limits.max_connections {
            let mut stream = stream;
            let busy = answer(503, "Service Unavailable", "Retry-After: 1\r\n", b"busy\n");
            // Best effort: a few bytes into an empty socket buffer.
            let _ = stream.write(&busy);
            stream.shutdown_write();
            continue;
        }
        connections.push(Connection {
            stream,
            phase: Phase::Request(Vec::new()),
            deadline: Instant::now() + limits.request_timeout,
        });
    }
}

impl Connection {
    fn step(&mut self, now: Instant, limits: Limits, render: &Render) -> Step {
        match &mut self.phase {
            Phase::Request(request) => {
                let mut chunk = [0u8; 2048];
                match self.stream.read(&mut chunk) {
                    Ok(0) => Step::Close,
                    Ok(n) => {
                        request.extend_from_slice(chunk.get(..n).unwrap_or_default());
                        if let Some(reply) = respond(request, limits, render) {
                            self.phase = Phase::Answer(reply, 0);
                            self.deadline = now + limits.response_timeout;
                        }
                        Step::Progress
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if now >= self.deadline {
                            let reply = answer(408, "Request Timeout", "", b"request timeout\n");
                            self.phase = Phase::Answer(reply, 0);
                            self.deadline = now + limits.response_timeout;
                            return Step::Progress;
                        }
                        Step::Wait
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => Step::Progress,
                    Err(_) => Step::Close,
                }
            }
            Phase::Answer(reply, written) => {
                match self.stream.write(reply.get(*written..).unwrap_or_default()) {
                    Ok(n) if n > 0 => {
                        *written += n;
                        if *written >= reply.len() {
                            self.stream.shutdown_write();
                            self.phase = Phase::Drain(0);
                            self.deadline = now + DRAIN_TIME;
                        }
                        Step::Progress
                    }
                    Ok(_) => Step::Close,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if now >= self.deadline {
                            Step::Close
                        } else {
                            Step::Wait
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => Step::Progress,
                    Err(_) => Step::Close,
                }
            }
            Phase::Drain(discarded) => {
                let mut chunk = [0u8; 2048];
                match self.stream.read(&mut chunk) {
                    Ok(0) => Step::Close,
                    Ok(n) => {
                        *discarded += n;
                        if *discarded > DRAIN_LIMIT {
                            Step::Close
                        } else {
                            Step::Progress
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock && now < self.deadline => {
                        Step::Wait
                    }
                    Err(_) => Step::Close,
                }
            }
        }
    }
}

/// The answer to `request` once it is whole or over a limit; `None` while more must be read.
fn respond(request: &[u8], limits: Limits, render: &Render) -> Option<Vec<u8>> {
    let Some(head) = head_of(request) else {
        if request.len() > limits.max_request {
            return Some(too_large());
        }
        return None;
    };
    if head.len() > limits.max_request {
        return Some(too_large());
    }
    let Ok(head) = std::str::from_utf8(head) else {
        return Some(bad_request());
    };
    let mut lines = head.lines();
    let mut words = lines.next().unwrap_or_default().split(' ');
    let (method, target, version) = (words.next(), words.next(), words.next());
    let (Some(method), Some(target), Some(version), None) = (method, target, version, words.next())
    else {
        return Some(bad_request());
    };
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Some(bad_request());
    }
    let mut accept: Option<String> = None;
    let mut headers = 0usize;
    for line in lines.filter(|l| !l.is_empty()) {
        headers += 1;
        if headers > limits.max_headers {
            return Some(too_large());
        }
        let Some((name, value)) = line.split_once(':') else {
            return Some(bad_request());
        };
        if name.trim().eq_ignore_ascii_case("accept") {
            let value = value.trim();
            accept = Some(match accept {
                Some(before) => format!("{before},{value}"),
                None => value.to_owned(),
            });
        }
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => {
            let body = b"only GET and HEAD are served\n";
            return Some(answer(
                405,
                "Method Not Allowed",
                "Allow: GET, HEAD\r\n",
                body,
            ));
        }
    };
    if target.split('?').next() != Some("/metrics") {
        return Some(answer(
            404,
            "Not Found",
            "",
            b"not found: the metrics are at /metrics\n",
        ));
    }
    let format = negotiate(accept.as_deref());
    let body = render(format);
    let headers = format!("Content-Type: {}\r\n", format.content_type());
    let mut reply = answer(200, "OK", &headers, body.as_bytes());
    if head_only {
        reply.truncate(reply.len() - body.len());
    }
    Some(reply)
}

/// The request line and headers, without the blank line that ends them, once it came.
fn head_of(request: &[u8]) -> Option<&[u8]> {
    let end = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| request.windows(2).position(|w| w == b"\n\n"))?;
    request.get(..end)
}

fn too_large() -> Vec<u8> {
    answer(
        431,
        "Request Header Fields Too Large",
        "",
        b"request too large\n",
    )
}

fn bad_request() -> Vec<u8> {
    answer(400, "Bad Request", "", b"bad request\n")
}

/// A whole answer: status line, headers (`extra` lines end in CRLF), body.
fn answer(status: u16, reason: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let content_type = if extra.starts_with("Content-Type:") {
        ""
    } else {
        "Content-Type: text/plain; charset=utf-8\r\n"
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\n{content_type}{extra}Content-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        reason = "tests"
    )]

    use std::net::SocketAddr;
    use std::thread::JoinHandle;

    use super::*;

    /// A server on 127.0.0.1 with `limits`, rendering the format's name.
    struct TestServer {
        addr: SocketAddr,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl TestServer {
        fn start(limits: Limits) -> TestServer {
            let listener = bind_tcp("127.0.0.1:0".parse().unwrap()).unwrap();
            let Listener::Tcp(tcp) = &listener else {
                unreachable!()
            };
            let addr = tcp.local_addr().unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            let thread = std::thread::spawn(move || {
                let render = |format: Format| format!("metrics as {format:?}\n");
                serve(&listener, limits, &flag, &render);
            });
            TestServer {
                addr,
                stop,
                thread: Some(thread),
            }
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
            if let Some(thread) = self.thread.take() {
                thread.join().unwrap();
            }
        }
    }

    fn short() -> Limits {
        Limits {
            request_timeout: Duration::from_secs(2),
            ..LIMITS
        }
    }

    /// Sends `request` and reads the whole answer.
    fn exchange(addr: SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        reply
    }

    #[test]
    fn get_metrics_answers_the_negotiated_format() {
        let server = TestServer::start(LIMITS);
        let reply = exchange(server.addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        assert!(reply.contains("Content-Length: 22\r\n"), "{reply}");
        assert!(reply.ends_with("\r\n\r\nmetrics as Prometheus\n"));
        let reply = exchange(
            server.addr,
            b"GET /metrics?x=1 HTTP/1.1\r\nAccept: text/plain;q=0.5\r\n\
              ACCEPT: application/openmetrics-text;version=1.0.0\r\n\r\n",
        );
        assert!(
            reply.contains("application/openmetrics-text; version=1.0.0"),
            "{reply}"
        );
        assert!(reply.ends_with("metrics as OpenMetrics\n"));
        let reply = exchange(server.addr, b"HEAD /metrics HTTP/1.0\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.contains("Content-Length: 22\r\n") && reply.ends_with("\r\n\r\n"));
    }

    #[test]
    fn other_paths_are_404_and_other_methods_405() {
        let server = TestServer::start(LIMITS);
        for path in ["/", "/metrics/", "/metricsx", "/status"] {
            let request = format!("GET {path} HTTP/1.1\r\n\r\n");
            let reply = exchange(server.addr, request.as_bytes());
            assert!(
                reply.starts_with("HTTP/1.1 404 Not Found\r\n"),
                "{path}: {reply}"
            );
        }
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "get"] {
            let request = format!("{method} /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
            let reply = exchange(server.addr, request.as_bytes());
            assert!(
                reply.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
                "{reply}"
            );
            assert!(reply.contains("Allow: GET, HEAD\r\n"));
        }
        for bad in [
            &b"GET /metrics\r\n\r\n"[..],
            b"GET /metrics HTTP/2\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nX: \xff\r\n\r\n",
        ] {
            let reply = exchange(server.addr, bad);
            assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
        }
    }

    #[test]
    fn an_oversize_request_or_too_many_headers_get_431() {
        let server = TestServer::start(LIMITS);
        let mut huge = b"GET /metrics HTTP/1.1\r\nX-Pad: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', LIMITS.max_request + 100));
        let reply = exchange(server.addr, &huge);
        assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
        let mut many = b"GET /metrics HTTP/1.1\r\n".to_vec();
        for i in 0..=LIMITS.max_headers {
            many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let reply = exchange(server.addr, &many);
        assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
    }

    #[test]
    fn a_silent_client_gets_408_and_does_not_delay_others() {
        let server = TestServer::start(short());
        let mut slow = TcpStream::connect(server.addr).unwrap();
        slow.write_all(b"GET /met").unwrap();
        let started = Instant::now();
        let reply = exchange(server.addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
        // Answered long before the silent client's request timeout (2 s), whatever the load.
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "another client waited {:?}",
            started.elapsed()
        );
        slow.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reply = String::new();
        slow.read_to_string(&mut reply).unwrap();
        assert!(
            reply.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{reply}"
        );
        assert!(started.elapsed() >= Duration::from_millis(1900));
    }

    #[test]
    fn connections_beyond_the_limit_get_503() {
        let server = TestServer::start(short());
        let held: Vec<TcpStream> = (0..LIMITS.max_connections)
            .map(|_| TcpStream::connect(server.addr).unwrap())
            .collect();
        // Let the server take them all before the next one knocks.
        std::thread::sleep(Duration::from_millis(100));
        let reply = exchange(server.addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.1 503 "), "{reply}");
        drop(held);
        std::thread::sleep(Duration::from_millis(100));
        let reply = exchange(server.addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
    }

    #[test]
    fn a_unix_socket_gets_its_mode_and_a_live_one_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.sock");
        let (listener, file) = bind_unix(&path, 0o640).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let err = bind_unix(&path, 0o640).unwrap_err();
        assert!(matches!(err, StartError::InUse(_)), "{err}");
        drop(listener);
        // Stale now (nobody listens): replaced.
        let (_listener, again) = bind_unix(&path, 0o600).unwrap();
        file.remove();
        assert!(
            path.exists(),
            "the first server's remove left the new socket alone"
        );
        again.remove();
        assert!(!path.exists());
        fs::write(&path, "not a socket").unwrap();
        let err = bind_unix(&path, 0o640).unwrap_err();
        assert!(matches!(err, StartError::NotASocket(_)), "{err}");
    }
}
