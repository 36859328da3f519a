//! A syslog receiver for the emulator: RFC 5424 messages over TCP, TLS or UDP, stored in the
//! shared [`Store`].
//!
//! What it is: [`tcp_receiver`] listens for syslog over TCP with any [`Accept`] transport
//! ([`PlainTcp`](super::server::PlainTcp), or a [`TlsAcceptor`](super::tls::TlsAcceptor) for
//! RFC 5425 TLS); [`udp_receiver`] takes one message per datagram (RFC 5426). Every message
//! becomes one [`Stored`] record with receiver [`ReceiverKind::Syslog`]: the raw message as
//! [`Body::Text`] (lossily decoded as UTF-8), `host` = the RFC 5424 HOSTNAME, `source` =
//! APP-NAME, `sourcetype` = [`SOURCETYPE`] (`syslog`), `time_ms` = receipt, `index` empty.
//! [`parse_header`] is the header parser, exposed for tests.
//!
//! What it guarantees:
//! - Framing (TCP and TLS): a frame starting with a digit is RFC 6587 octet counting,
//!   `MSG-LEN SP MSG` with `MSG-LEN` = a non-zero digit then digits; anything else is
//!   non-transparent framing, one message per line ending in LF (a CR before the LF is
//!   stripped, empty lines are skipped; a last line without LF at the end of the stream is
//!   still a message). The framing is decided per frame, so a client may mix them.
//! - Bounded: a message is at most [`SyslogLimits::max_message`] bytes (default 64 KiB); a
//!   longer length, a longer line, a malformed length (leading zero, more than 10 digits, no
//!   space after it) closes that connection without storing the frame, and is counted in
//!   [`RunningSyslog::rejected`]. The receiver itself keeps serving. At most
//!   [`SyslogLimits::max_connections`] connections at once: one more is closed at once (and
//!   counted as rejected). A read that waits more than [`SyslogLimits::idle_timeout`] ends the
//!   connection. A datagram longer than `max_message` is dropped and counted as rejected.
//! - Order: messages of one connection are stored in the order they were sent, each once; each
//!   datagram is stored once, in the order the socket received them.
//! - [`RunningSyslog::shutdown`] (and `Drop`) stops accepting, shuts down every open
//!   connection's socket and joins every thread; the accept and UDP threads poll every 20 ms.
//!
//! Choices not in the references: the RFC 5424 NILVALUE `-` as HOSTNAME or APP-NAME is stored
//! as an empty string; a message that is not RFC 5424 (no `<PRI>1 ` prefix, e.g. RFC 3164) is
//! stored all the same, with empty host and source; the frame length counts bytes of the
//! message only (as RFC 6587 says), so `2 hi` is the message `hi`; the idle timeout defaults to
//! 30 s, like the HTTP servers.
//!
//! ```
//! use std::io::Write;
//! use std::net::TcpStream;
//! use std::time::{Duration, Instant};
//! use icsfwd_sim::splunk::server::PlainTcp;
//! use icsfwd_sim::splunk::store::{Filter, Store, StoreConfig};
//! use icsfwd_sim::splunk::syslog::{SyslogLimits, tcp_receiver};
//!
//! let store = Store::new(StoreConfig::default()).unwrap();
//! let receiver = tcp_receiver(
//!     "127.0.0.1:0".parse().unwrap(),
//!     SyslogLimits::default(),
//!     PlainTcp,
//!     store.clone(),
//! )
//! .unwrap();
//! let message = "<10>1 2026-11-29T10:00:00Z sensor-1 icsfwd - - - CEF:0|x|y|1|a|b|10|";
//! let mut conn = TcpStream::connect(receiver.local_addr()).unwrap();
//! write!(conn, "{} {message}", message.len()).unwrap();
//! drop(conn);
//! let deadline = Instant::now() + Duration::from_secs(10);
//! while store.is_empty() && Instant::now() < deadline {
//!     std::thread::sleep(Duration::from_millis(5));
//! }
//! let stored = store.list(&Filter::default());
//! assert_eq!(stored[0].host, "sensor-1");
//! assert_eq!(stored[0].source, "icsfwd");
//! assert_eq!(stored[0].sourcetype, "syslog");
//! assert_eq!(stored[0].body.text(), message);
//! receiver.shutdown();
//! ```

use std::io::{self, BufRead, BufReader, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use icsfwd::clock::now_ms;

use super::server::{Accept, Connections};
use super::store::{Body, ReceiverKind, Store, Stored};

/// Default [`SyslogLimits::max_message`]: 64 KiB.
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;
/// Default [`SyslogLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// Default [`SyslogLimits::idle_timeout`]: 30 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The sourcetype of every stored syslog record.
pub const SOURCETYPE: &str = "syslog";
/// How often the accept and UDP threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// The most digits a frame length may have (a length beyond `u32` is malformed anyway).
const MAX_LENGTH_DIGITS: usize = 10;

/// The receiver's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogLimits {
    /// Bytes of one message (the frame length, the line without its LF, or the datagram).
    pub max_message: usize,
    /// TCP/TLS connections served at once.
    pub max_connections: usize,
    /// The longest wait for one read on a connection.
    pub idle_timeout: Duration,
}

impl Default for SyslogLimits {
    fn default() -> Self {
        Self {
            max_message: DEFAULT_MAX_MESSAGE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// The HOSTNAME and APP-NAME of an RFC 5424 message (`<PRI>1 TIMESTAMP HOSTNAME APP-NAME ...`),
/// the NILVALUE `-` as an empty string; `None` if `message` is not RFC 5424.
///
/// ```
/// use icsfwd_sim::splunk::syslog::parse_header;
///
/// assert_eq!(
///     parse_header("<13>1 2026-11-29T10:00:00Z plc-7 icsfwd 42 - - hello"),
///     Some(("plc-7", "icsfwd"))
/// );
/// assert_eq!(parse_header("<13>1 - - - - - -"), Some(("", "")));
/// assert_eq!(parse_header("<13>Nov 29 10:00:00 plc-7 old: bsd"), None);
/// ```
#[must_use]
pub fn parse_header(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix('<')?;
    let close = rest.find('>')?;
    let pri = &rest[..close];
    if pri.is_empty() || pri.len() > 3 || !pri.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut fields = rest[close + 1..].split(' ');
    if fields.next()? != "1" {
        return None;
    }
    let _timestamp = fields.next()?;
    let host = fields.next()?;
    let app = fields.next()?;
    Some((unless_nil(host), unless_nil(app)))
}

fn unless_nil(field: &str) -> &str {
    if field == "-" { "" } else { field }
}

/// The record for one received message (see the module docs for the fields).
#[must_use]
pub fn record(message: &[u8], time_ms: u64) -> Stored {
    let text = String::from_utf8_lossy(message).into_owned();
    let (host, source) = parse_header(&text)
        .map(|(host, app)| (host.to_owned(), app.to_owned()))
        .unwrap_or_default();
    Stored {
        host,
        source,
        sourcetype: SOURCETYPE.to_owned(),
        time_ms,
        body: Body::Text(text),
        ..Stored::new(ReceiverKind::Syslog)
    }
}

/// The receiver's counters and its connections (the HTTP server's [`Connections`]: one
/// thread per connection, stopped the same way).
#[derive(Debug, Default)]
struct Shared {
    rejected: AtomicU64,
    received: AtomicU64,
    connections: Arc<Connections>,
}

impl Shared {
    fn store(&self, store: &Store, message: &[u8]) {
        // A JSONL write error keeps the record in memory (see `Store::append`); nothing to add.
        drop(store.append(vec![record(message, now_ms())]));
        self.received.fetch_add(1, Ordering::SeqCst);
    }

    fn reject(&self) {
        self.rejected.fetch_add(1, Ordering::SeqCst);
    }
}

/// A started receiver (TCP/TLS or UDP); shut down explicitly or on drop.
#[derive(Debug)]
pub struct RunningSyslog {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl RunningSyslog {
    /// The address it listens on (the real port when bound to port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many TCP/TLS connections are being served right now (0 for UDP).
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.shared.connections.open_count()
    }

    /// How many messages were stored since the start.
    #[must_use]
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::SeqCst)
    }

    /// How many frames, datagrams or connections were refused by the bounds or the framing.
    #[must_use]
    pub fn rejected(&self) -> u64 {
        self.shared.rejected.load(Ordering::SeqCst)
    }

    /// Stops, closes every open connection and joins all threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared.connections.stop(thread);
        }
    }
}

impl Drop for RunningSyslog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Syslog over TCP on `addr` (port 0: ephemeral), each connection wrapped by `acceptor`
/// (plain TCP, or TLS for RFC 5425), its messages appended to `store`.
///
/// # Errors
/// Binding or spawning the accept thread failed.
pub fn tcp_receiver<A: Accept>(
    addr: SocketAddr,
    limits: SyslogLimits,
    acceptor: A,
    store: Store,
) -> io::Result<RunningSyslog> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let shared = Arc::new(Shared::default());
    let context = Arc::new((limits, acceptor, store));
    let accept_shared = Arc::clone(&shared);
    let thread = thread::Builder::new()
        .name(format!("syslog-accept-{local_addr}"))
        .spawn(move || {
            while !accept_shared.connections.is_stopping() {
                match listener.accept() {
                    Ok((tcp, peer)) => serve(tcp, peer, &accept_shared, &context),
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
                    Err(_) => {}
                }
            }
        })?;
    Ok(RunningSyslog {
        local_addr,
        shared,
        thread: Some(thread),
    })
}

fn serve<A: Accept>(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    context: &Arc<(SyslogLimits, A, Store)>,
) {
    let (limits, _, _) = &**context;
    if tcp.set_nonblocking(false).is_err()
        || tcp.set_read_timeout(Some(limits.idle_timeout)).is_err()
        || tcp.set_write_timeout(Some(limits.idle_timeout)).is_err()
    {
        return;
    }
    let worker_shared = Arc::clone(shared);
    let worker_context = Arc::clone(context);
    let served = shared.connections.spawn(
        tcp,
        limits.max_connections,
        format!("syslog-conn-{peer}"),
        move |tcp| {
            let (limits, acceptor, store) = &*worker_context;
            let Ok(stream) = acceptor.accept(tcp) else {
                return;
            };
            let mut reader = BufReader::new(stream);
            loop {
                match read_frame(&mut reader, limits.max_message) {
                    Ok(Some(message)) => worker_shared.store(store, &message),
                    Ok(None) => break,
                    Err(err) => {
                        if err.kind() == io::ErrorKind::InvalidData {
                            worker_shared.reject();
                        }
                        break;
                    }
                }
            }
            acceptor.finish(reader.get_mut());
        },
    );
    if let Err(tcp) = served {
        shared.reject();
        drop(tcp.shutdown(Shutdown::Both));
    }
}

fn invalid(detail: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, detail.to_owned())
}

/// Reads one frame: `Ok(None)` at a clean end of stream (between frames), `InvalidData` for a
/// frame the bounds or the framing refuse, another error for the transport's.
///
/// # Errors
/// As above.
pub fn read_frame<R: BufRead>(reader: &mut R, max_message: usize) -> io::Result<Option<Vec<u8>>> {
    loop {
        let first = match reader.fill_buf() {
            Ok([]) => return Ok(None),
            Ok(buf) => buf[0],
            // rustls reports a peer closing without close_notify as UnexpectedEof.
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if first.is_ascii_digit() {
            return read_counted(reader, max_message).map(Some);
        }
        let mut line = Vec::new();
        let limit = u64::try_from(max_message)
            .unwrap_or(u64::MAX)
            .saturating_add(2);
        reader.by_ref().take(limit).read_until(b'\n', &mut line)?;
        let ended = line.last() == Some(&b'\n');
        if ended {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        if line.len() > max_message {
            return Err(invalid("line longer than the message limit"));
        }
        if !line.is_empty() {
            return Ok(Some(line));
        }
        if !ended {
            return Ok(None);
        }
    }
}

fn read_counted<R: BufRead>(reader: &mut R, max_message: usize) -> io::Result<Vec<u8>> {
    let mut length: usize = 0;
    let mut digits = 0;
    loop {
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte)?;
        match byte[0] {
            b' ' if digits > 0 => break,
            b'0' if digits == 0 => return Err(invalid("frame length with a leading zero")),
            digit @ b'0'..=b'9' if digits < MAX_LENGTH_DIGITS => {
                digits += 1;
                length = length
                    .saturating_mul(10)
                    .saturating_add(usize::from(digit - b'0'));
            }
            _ => return Err(invalid("malformed frame length")),
        }
    }
    if length > max_message {
        return Err(invalid("frame longer than the message limit"));
    }
    let mut message = vec![0u8; length];
    reader.read_exact(&mut message)?;
    Ok(message)
}

/// Syslog over UDP on `addr` (port 0: ephemeral): each datagram is one message appended to
/// `store`; one longer than `limits.max_message` is dropped and counted as rejected.
///
/// # Errors
/// Binding or spawning the receiving thread failed.
pub fn udp_receiver(
    addr: SocketAddr,
    limits: SyslogLimits,
    store: Store,
) -> io::Result<RunningSyslog> {
    let socket = UdpSocket::bind(addr)?;
    socket.set_read_timeout(Some(POLL))?;
    let local_addr = socket.local_addr()?;
    let shared = Arc::new(Shared::default());
    let thread_shared = Arc::clone(&shared);
    let thread = thread::Builder::new()
        .name(format!("syslog-udp-{local_addr}"))
        .spawn(move || {
            // One byte more than the limit tells a too-long datagram (truncated) from a full one.
            let mut buf = vec![0u8; limits.max_message.saturating_add(1)];
            while !thread_shared.connections.is_stopping() {
                match socket.recv_from(&mut buf) {
                    Ok((len, _)) if len > limits.max_message => thread_shared.reject(),
                    Ok((0, _)) => {}
                    Ok((len, _)) => thread_shared.store(&store, &buf[..len]),
                    Err(_) => {}
                }
            }
        })?;
    Ok(RunningSyslog {
        local_addr,
        shared,
        thread: Some(thread),
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

    fn frames(input: &[u8], max: usize) -> (Vec<String>, Option<io::ErrorKind>) {
        let mut reader = BufReader::new(input);
        let mut out = Vec::new();
        loop {
            match read_frame(&mut reader, max) {
                Ok(Some(m)) => out.push(String::from_utf8(m).unwrap()),
                Ok(None) => return (out, None),
                Err(err) => return (out, Some(err.kind())),
            }
        }
    }

    /// Input, message limit, the messages read, the error that ended the reading.
    type Case = (
        &'static [u8],
        usize,
        &'static [&'static str],
        Option<io::ErrorKind>,
    );

    #[test]
    fn frames_are_split_by_octet_count_or_lf_and_malformed_ones_refused() {
        use io::ErrorKind::{InvalidData, UnexpectedEof};
        let table: [Case; 12] = [
            (b"2 hi3 abc", 10, &["hi", "abc"], None),
            (b"a\nb\r\n\nc", 10, &["a", "b", "c"], None),
            (b"2 hi<1>x\n1 z", 10, &["hi", "<1>x", "z"], None),
            (b"", 10, &[], None),
            (b"02 hi", 10, &[], Some(InvalidData)),
            (b"2hi", 10, &[], Some(InvalidData)),
            (b"11 hello world", 10, &[], Some(InvalidData)),
            (b"10 0123456789", 10, &["0123456789"], None),
            (b"12345678901 x", usize::MAX, &[], Some(InvalidData)),
            (b"5 abc", 10, &[], Some(UnexpectedEof)),
            (b"<123456789A\n", 10, &[], Some(InvalidData)),
            (b"<123456789\nok\n", 10, &["<123456789", "ok"], None),
        ];
        for (input, max, want, err) in table {
            let (got, got_err) = frames(input, max);
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(input));
            assert_eq!(got_err, err, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_accepted() {
        let (got, err) = frames(b"<1>456789\n", 9);
        assert_eq!((got, err), (vec!["<1>456789".to_owned()], None));
    }

    #[test]
    fn record_fields_come_from_the_rfc5424_header() {
        let r = record(
            b"<134>1 2026-11-29T10:00:00Z sensor-1 icsfwd - - - CEF:0|a",
            7,
        );
        assert_eq!(
            (
                r.receiver,
                r.host.as_str(),
                r.source.as_str(),
                r.sourcetype.as_str(),
                r.time_ms
            ),
            (ReceiverKind::Syslog, "sensor-1", "icsfwd", "syslog", 7)
        );
        let bsd = record(b"<13>Nov 29 10:00:00 host tag: x", 0);
        assert_eq!((bsd.host.as_str(), bsd.source.as_str()), ("", ""));
    }
}
