//! Delivery to a syslog receiver: RFC 5424 messages over TCP (RFC 6587 octet counting), TLS
//! (RFC 5425) or UDP (RFC 5426).
//!
//! What it is: [`SyslogSender`] renders each event with the core's
//! [`icsfwd_core::format::syslog`] formatter (payload `text`, `cef` or `leef` inside the
//! RFC 5424 header, facility and level from [`syslog::Options`]) and writes it to one receiver.
//! It implements [`Sender`], whose confirmation side ([`SyslogSender::poll_acks`],
//! [`SyslogSender::pending_acks`]) reads the receiver's TCP acknowledgement: syslog has no
//! application acknowledgement, so over TCP and TLS that stands in for one.
//!
//! What it guarantees:
//! - TCP and TLS: one connection is kept between batches ([`session`]). A batch is written as
//!   `<length> <message>` frames through a 64 KiB buffer and flushed. A connection that cannot
//!   be opened gives [`Retry`](Action::Retry) for the whole batch (the worker applies the
//!   destination's backoff); the next `send` reconnects. A write error mid-batch drops the
//!   connection and gives `Retry` for the whole batch with [`Outcome::uncertain`] set: part of
//!   it may have arrived, so the resend may duplicate.
//! - TLS: verified by default, against the roots `trust` names (the CA file when one is
//!   given, else the compiled-in Mozilla roots or the system's bundle)
//!   (webpki-roots), with the same CA and client-certificate loading as the HTTPS client. A
//!   certificate the receiver presents that does not verify, or a receiver that refuses the
//!   session — also after a TLS 1.3 handshake that the client saw complete, the way a receiver
//!   requiring a client certificate refuses one that has none — gives [`Park`](Action::Park)
//!   with the likely cause and the fix, and nothing is written ([`session`] explains how the
//!   refusal is waited for).
//! - With `confirm = "tcp-ack"` (the default, [`Confirm::TcpAck`](super::Confirm::TcpAck)): a written record is not
//!   delivered at the flush. It is [`AwaitingAck`](Action::AwaitingAck), like a HEC record
//!   awaiting its indexer ack, until the receiver's TCP has acknowledged every byte up to its
//!   end (the socket's unacknowledged output queue, [`outq`], against the bytes written to
//!   the TCP socket — for TLS the ciphertext) and the connection then stayed open for
//!   [`Syslog::settle`]; [`SyslogSender::poll_acks`] reports it then as indexed
//!   (confirmed). When the connection breaks first (a reset, a close, a TLS alert, a write
//!   error), every record it left unconfirmed is reported expired: the worker re-sends it on
//!   the next connection and counts it as a possible duplicate. Nothing is dropped. While such
//!   records wait for the worker to take them back, a `send` is refused with `Retry` so that
//!   they go out again before anything newer.
//! - With `confirm = "write"` ([`Confirm::Write`](super::Confirm::Write)): a record is [`Delivered`](Action::Delivered)
//!   once the flush succeeded, and a broken connection may lose what the receiver had not
//!   read: see "The possible loss window" below.
//! - UDP: one datagram per message. A message longer than [`Syslog::max_datagram`]
//!   (default [`DEFAULT_MAX_DATAGRAM`]) is never cut or split: it goes to
//!   [`DeadLetter`](Action::DeadLetter) with a reason giving its length and the limit, and the
//!   rest of the batch is sent. UDP gives no delivery confirmation at all: a datagram the
//!   kernel accepted is `Delivered` (`confirm` is refused for UDP).
//! - Nothing is dropped silently: every event of a batch ends in exactly one part.
//! - Several hosts ([`Syslog::hosts`], [`failover`](crate::destination::failover)): a new
//!   connection goes to the next host in turn and stays there while it works; a host whose
//!   connection cannot be opened or breaks is marked down for [`Syslog::down_for`], the next
//!   host is tried at once, and the records the broken connection left unconfirmed are re-sent
//!   there first (expired, as above). UDP cannot tell that a receiver is gone: only a send
//!   error (an ICMP "port unreachable" the kernel reports) marks its host down and moves the
//!   socket to the next host.
//!
//! The table (`docs/operations.md` has it for the operator):
//!
//! | what happens | action |
//! | --- | --- |
//! | connect refused, no address, connect timeout | Retry |
//! | TLS: the receiver's certificate does not verify | Park |
//! | TLS: the receiver refuses the session (an alert or a close right after the handshake) | Park; nothing written |
//! | TLS handshake fails otherwise (timeout, reset) | Retry |
//! | a write fails mid-batch | Retry, uncertain (the batch may have partly arrived) |
//! | written, `tcp-ack` | AwaitingAck; later indexed (confirmed) or expired (the connection broke: re-sent) |
//! | written, `write`; UDP datagram sent | Delivered |
//! | the connection breaks, `write` | its last [`LOSS_WINDOW_BYTES`] of records counted in `possible_loss` |
//! | a message that cannot be rendered, or over the UDP datagram limit | DeadLetter |
//!
//! What `tcp-ack` cannot see: the receiver's TCP acknowledges bytes when they reach its
//! receive buffer, before the receiving program has read them. A receiver that resets its
//! connection with bytes unread loses them; the settle time covers a reset that follows the
//! acknowledgement within [`SETTLE`] (a crash, a restart, a refusal), not one that follows
//! after a longer stall of the receiving program, nor what the receiver loses after reading
//! (its own queue).
//!
//! The possible loss window (`confirm = "write"` only). A successful flush means the kernel
//! accepted the bytes, not that the receiver read them. If the receiver resets the connection
//! (crash, restart, `RST`), the data still in our socket send buffer or in its receive buffer
//! is lost, although it was reported `Delivered`. This sender counts an upper bound: when a
//! connection is found broken (a write error, or the peer's close seen before the next
//! batch), the records reported delivered on that connection within its last
//! [`LOSS_WINDOW_BYTES`] bytes are added to [`SyslogSender::possible_loss`], which `status`
//! shows as "possibly lost"; it is also named in [`Outcome::last_error`] of the batch that
//! found the break.
//!
//! Choices (not in the references):
//! - UDP datagram limit 8,192 bytes by default: RFC 5426 requires receivers to take 480
//!   bytes, says they SHOULD take 2,048 and MAY take up to 65,507 (IPv4); rsyslog and
//!   syslog-ng accept 8 KiB by default. Above 1,472 bytes a datagram is IP-fragmented on a
//!   1,500-byte Ethernet path; a site that forbids fragmentation sets a lower limit.
//! - [`LOSS_WINDOW_BYTES`] is 4 MiB, Linux's default maximum TCP send buffer
//!   (`net.ipv4.tcp_wmem`).
//! - [`SETTLE`] is 50 ms: ten polls ([`CONFIRM_POLL`], 5 ms) to see a reset that follows the
//!   receiver's acknowledgement (a crash, a restart, a refusal: N8 of `docs/RELIABILITY.md`),
//!   and short enough that the worker's window of 10,000 records in flight (the default
//!   `max_in_flight`) still carries ~180,000 alerts/s; 200 ms halved the end-to-end bench's
//!   syslog throughput (`docs/BENCHMARKS.md`). A receiver whose program leaves bytes unread
//!   for longer than that is not covered (see above).
//! - [`REFUSAL_WAIT`] is 1 s: a receiver that refuses answers the client's Finished at once
//!   (one round trip); one that sends no session ticket costs this once per connection.
//! - The write timeout of a batch is the destination's response timeout; connect and TLS
//!   handshake have their own timeouts.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;
use icsfwd_core::format::{SliceWriter, syslog};

use super::{Syslog, Transport};
use super::{outq, session};
use crate::destination::classify::Action;
use crate::destination::failover::Rotation;
use crate::destination::http::{self};
use crate::destination::{AckReport, Item, Outcome, Sender, Timeouts, Tls};

use super::session::{OpenTimeouts, SessionInfo, Stream, TlsClient, nonzero};
use super::unconfirmed::Unconfirmed;

/// Default largest UDP datagram sent (see the module docs).
pub(crate) const DEFAULT_MAX_DATAGRAM: usize = 8192;

/// Bytes of recent writes on a connection counted as possibly lost when it breaks
/// (`confirm = "write"`).
pub(crate) const LOSS_WINDOW_BYTES: usize = 4 * 1024 * 1024;

/// How long a record must stay acknowledged by the receiver's TCP, on an open connection,
/// before it is confirmed (`confirm = "tcp-ack"`; see the module docs).
pub(crate) const SETTLE: Duration = Duration::from_millis(50);

/// How often the worker polls the confirmations of a syslog destination with
/// `confirm = "tcp-ack"` while records wait (two system calls a poll).
pub(crate) const CONFIRM_POLL: Duration = Duration::from_millis(5);

/// Longest wait, after a TLS 1.3 handshake, for the receiver to accept or refuse the session
/// (capped by the TLS timeout).
pub(crate) const REFUSAL_WAIT: Duration = Duration::from_secs(1);

const WRITE_BUFFER: usize = 64 * 1024;

/// The sender could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum SyslogError {
    /// A CA, certificate or key file could not be used.
    Tls(http::SetupError),
    /// The TLS configuration was refused (e.g. a key that does not fit its certificate).
    Config(String),
    /// The host is not a valid DNS name or IP address for TLS.
    Name(String),
}

impl fmt::Display for SyslogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tls(err) => write!(f, "{err}"),
            Self::Config(what) => write!(f, "TLS configuration refused: {what}"),
            Self::Name(host) => write!(f, "{host:?} is not a DNS name or IP address"),
        }
    }
}

impl std::error::Error for SyslogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Tls(err) => Some(err),
            Self::Config(_) | Self::Name(_) => None,
        }
    }
}

/// A connection, the records it has not confirmed (`tcp-ack`), and its recent writes
/// (`write`: `(records, bytes)` per batch, newest last, bounded by [`LOSS_WINDOW_BYTES`]).
struct Connection {
    /// The host it goes to (an index into the destination's hosts).
    host: usize,
    stream: Stream,
    info: SessionInfo,
    unconfirmed: Unconfirmed,
    recent: VecDeque<(u64, usize)>,
    recent_bytes: usize,
}

impl Connection {
    fn new(host: usize, stream: Stream, info: SessionInfo) -> Self {
        Self {
            host,
            stream,
            info,
            unconfirmed: Unconfirmed::default(),
            recent: VecDeque::new(),
            recent_bytes: 0,
        }
    }

    fn record(&mut self, records: u64, bytes: usize) {
        self.recent.push_back((records, bytes));
        self.recent_bytes = self.recent_bytes.saturating_add(bytes);
        while self.recent.len() > 1 && self.recent_bytes > LOSS_WINDOW_BYTES {
            if let Some((_, old)) = self.recent.pop_front() {
                self.recent_bytes -= old;
            }
        }
    }

    fn window(&self) -> u64 {
        self.recent.iter().map(|(records, _)| records).sum()
    }

    /// The records confirmed now (see [`unconfirmed`]); `Err` when the connection is over.
    fn confirm(&mut self, now: Instant, settle: Duration) -> Result<Vec<u64>, String> {
        self.stream.check_alive()?;
        let queued = outq::unacknowledged(self.stream.tcp())
            .map_err(|err| format!("cannot be asked about its acknowledgements: {err}"))?;
        Ok(self
            .unconfirmed
            .confirm(self.stream.written(), queued, now, settle))
    }
}

/// Sends events to a syslog receiver, one of the destination's hosts at a time (see the
/// module docs).
pub struct SyslogSender {
    syslog: Syslog,
    /// Whether TLS verification is on (`tls` was built with it).
    verify: bool,
    timeouts: Timeouts,
    /// One TLS client per host (its server name), for `tls`; empty otherwise.
    tls: Vec<TlsClient>,
    rotation: Rotation,
    /// The host of the connection (or UDP socket) in use, or of the last one.
    current: usize,
    connection: Option<Connection>,
    udp: Option<UdpSocket>,
    buf: Vec<u8>,
    possible_loss: u64,
    /// Records a broken connection left unconfirmed, until a poll hands them back.
    expired: Vec<u64>,
    /// Why the last connection broke, until a poll reports it.
    broken: Option<String>,
}

impl fmt::Debug for SyslogSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyslogSender")
            .field("hosts", &self.syslog.targets())
            .field("transport", &self.syslog.transport)
            .field("confirm", &self.syslog.confirm)
            .field("connected", &self.connection.is_some())
            .field("pending_acks", &self.pending_acks())
            .field("possible_loss", &self.possible_loss)
            .finish_non_exhaustive()
    }
}

impl SyslogSender {
    /// A sender; it connects at the first `send`.
    ///
    /// # Errors
    /// For TLS: a CA, client certificate or key file that cannot be used, or a host that is
    /// not a valid server name.
    pub fn new(syslog: &Syslog, tls: &Tls, timeouts: &Timeouts) -> Result<Self, SyslogError> {
        let mut clients = Vec::new();
        if syslog.transport == Transport::Tls {
            for endpoint in &syslog.hosts {
                clients.push(TlsClient::new(&endpoint.host, tls)?);
            }
        }
        Ok(Self {
            syslog: syslog.clone(),
            verify: tls.verify,
            timeouts: *timeouts,
            tls: clients,
            rotation: Rotation::new(syslog.hosts.len(), syslog.down_for),
            current: 0,
            connection: None,
            udp: None,
            buf: vec![0; syslog::MAX_FRAMED_LEN],
            possible_loss: 0,
            expired: Vec::new(),
            broken: None,
        })
    }

    /// Records reported delivered that a connection reset may have lost (`confirm = "write"`,
    /// see the module docs): an upper bound, cumulative since the sender was built.
    #[must_use]
    pub(crate) fn possible_loss(&self) -> u64 {
        self.possible_loss
    }

    /// Records written and not yet confirmed, or handed back by a broken connection and not
    /// yet polled (`confirm = "tcp-ack"`).
    #[must_use]
    pub(crate) fn pending_acks(&self) -> usize {
        let waiting = self.connection.as_ref().map_or(0, |c| c.unconfirmed.len());
        waiting.saturating_add(self.expired.len())
    }

    /// What the opening of the current connection showed, if one is open.
    #[must_use]
    pub fn session(&self) -> Option<&SessionInfo> {
        self.connection.as_ref().map(|c| &c.info)
    }

    /// The settings the sender was built with.
    #[must_use]
    pub(crate) fn settings(&self) -> &Syslog {
        &self.syslog
    }

    /// Polls the confirmations (`confirm = "tcp-ack"`): the records now confirmed
    /// (`indexed`), those a broken connection left unconfirmed (`expired`: re-send them and
    /// count them as possible duplicates), and why it broke (`last_error`). Costs a
    /// non-blocking read and one ioctl; does nothing without records waiting.
    pub(crate) fn poll_acks(&mut self, now: Instant) -> AckReport {
        let settle = self.syslog.settle;
        let confirmed = self
            .connection
            .as_mut()
            .filter(|c| !c.unconfirmed.is_empty())
            .map(|c| c.confirm(now, settle));
        let mut report = AckReport::default();
        match confirmed {
            Some(Ok(seqs)) => report.indexed = seqs,
            Some(Err(why)) => {
                self.break_connection(&why, now);
            }
            None => {}
        }
        report.expired = std::mem::take(&mut self.expired);
        report.last_error = self.broken.take();
        report
    }

    /// Whether TLS verification is off (`verify = false`): the service warns.
    #[must_use]
    pub fn verification_disabled(&self) -> bool {
        self.syslog.transport == Transport::Tls && !self.verify
    }

    /// `host:port` of the host in use.
    fn target(&self) -> String {
        self.syslog
            .hosts
            .get(self.current)
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// The addresses of host `index`.
    fn addrs(&self, index: usize) -> io::Result<Vec<SocketAddr>> {
        let endpoint = self
            .syslog
            .hosts
            .get(index)
            .ok_or_else(|| io::Error::other("no such host"))?;
        let addrs: Vec<SocketAddr> = (endpoint.host.as_str(), endpoint.port)
            .to_socket_addrs()?
            .collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the name resolved to no address",
            ));
        }
        Ok(addrs)
    }

    /// Opens a connection to the hosts in turn (see [`failover`](crate::destination::failover)):
    /// the first that accepts is used, each that fails is marked down. `Err` carries the
    /// action and the message of the last failure.
    fn connect(&mut self, now: Instant) -> Result<Connection, (Action, String)> {
        let mut failure = (
            Action::Retry { after: None },
            "no host to connect to".to_owned(),
        );
        let previous = (self.current, self.target());
        for index in self.rotation.order(now) {
            self.current = index;
            match self.connect_to(index) {
                Ok(connection) => {
                    if index != previous.0 && !self.rotation.is_up(previous.0, now) {
                        log::warn!(
                            "syslog receiver {} took over from {}, which failed (tried last \
                             for {} s)",
                            self.target(),
                            previous.1,
                            self.syslog.down_for.as_secs()
                        );
                    }
                    return Ok(connection);
                }
                Err(failed) => {
                    self.rotation.mark_down(index, now);
                    failure = failed;
                }
            }
        }
        Err(failure)
    }

    /// Opens a connection to host `index`.
    fn connect_to(&self, index: usize) -> Result<Connection, (Action, String)> {
        let target = self.target();
        let addrs = self.addrs(index).map_err(|err| {
            (
                Action::Retry { after: None },
                format!("cannot connect to syslog receiver {target}: {err}"),
            )
        })?;
        let timeouts = OpenTimeouts {
            connect: self.timeouts.connect,
            tls: self.timeouts.tls,
            io: self.timeouts.response,
            refusal_wait: REFUSAL_WAIT,
        };
        let (stream, info) = session::open(&addrs, self.tls.get(index), timeouts, &target)?;
        Ok(Connection::new(index, stream, info))
    }

    /// Drops the connection after it broke (`why` completes "the syslog receiver … "): with
    /// `tcp-ack` its unconfirmed records become expired (re-sent), with `write` its loss
    /// window is counted; its host is marked down, so the next connection goes to another
    /// host (the records are re-sent there). Returns the message for `status`.
    fn break_connection(&mut self, why: &str, now: Instant) -> String {
        let target = self.target();
        let Some(mut connection) = self.connection.take() else {
            return format!("syslog receiver {target} {why}");
        };
        if self.rotation.len() > 1 {
            self.rotation.mark_down(connection.host, now);
        }
        if self.syslog.confirms() {
            let left = connection.unconfirmed.take_all();
            let message = format!(
                "syslog receiver {target} {why}; {} records it had not confirmed are re-sent \
                 on the next connection (possible duplicates)",
                left.len()
            );
            if !left.is_empty() {
                self.broken = Some(message.clone());
            }
            self.expired.extend(left);
            message
        } else {
            let window = connection.window();
            self.possible_loss = self.possible_loss.saturating_add(window);
            format!(
                "syslog receiver {target} {why}; up to {window} records sent before may be \
                 lost (possible loss window)"
            )
        }
    }

    /// Looks at the kept connection before a batch; drops it when it broke. `Some` is the
    /// outcome to give instead of sending (records of a broken connection must go out again
    /// first), with `confirm = "tcp-ack"`; with `write`, the note for the batch's outcome.
    fn check_before_send(&mut self, len: usize, now: Instant) -> Result<Option<String>, Outcome> {
        let alive = self
            .connection
            .as_mut()
            .map_or(Ok(()), |c| c.stream.check_alive());
        let mut note = None;
        if let Err(why) = alive {
            let message = self.break_connection(&why, now);
            note = Some(message);
        }
        if self.syslog.confirms() && !self.expired.is_empty() {
            let mut outcome = Outcome::whole(len, Action::Retry { after: None });
            outcome.last_error = note.or_else(|| {
                Some(format!(
                    "{} records of a broken connection to syslog receiver {} are re-sent first",
                    self.expired.len(),
                    self.target()
                ))
            });
            return Err(outcome);
        }
        // With tcp-ack and nothing unconfirmed, a closed idle connection lost nothing.
        Ok(note.filter(|_| !self.syslog.confirms()))
    }

    fn send_stream(&mut self, batch: &[Item<'_>], now: Instant) -> Outcome {
        let note = match self.check_before_send(batch.len(), now) {
            Ok(note) => note,
            Err(outcome) => return outcome,
        };
        if self.connection.is_none() {
            match self.connect(now) {
                Ok(connection) => self.connection = Some(connection),
                Err((action, message)) => {
                    let mut outcome = Outcome::whole(batch.len(), action);
                    outcome.last_error = Some(message);
                    return outcome;
                }
            }
        }
        let confirms = self.syslog.confirms();
        let written = self.write_batch(batch);
        match written {
            Ok((mut outcome, seqs, bytes)) => {
                if let Some(connection) = self.connection.as_mut() {
                    if confirms {
                        let end = connection.stream.written();
                        connection.unconfirmed.push(seqs, end);
                    } else {
                        connection.record(outcome.sent() as u64, bytes);
                    }
                }
                outcome.last_error = note;
                outcome
            }
            Err(err) => {
                let why = format!(
                    "broke the connection during a write (part of the batch may have \
                     arrived): {err}"
                );
                let message = self.break_connection(&why, now);
                let mut outcome = Outcome::whole(batch.len(), Action::Retry { after: None });
                outcome.uncertain = true;
                outcome.last_error = Some(message);
                outcome
            }
        }
    }

    /// Writes and flushes the frames of `batch` on the open connection: the outcome (written
    /// records `AwaitingAck` with `tcp-ack`, `Delivered` with `write`; unrenderable ones
    /// dead-lettered), the written records' sequence numbers and their bytes.
    fn write_batch(&mut self, batch: &[Item<'_>]) -> io::Result<(Outcome, Vec<u64>, usize)> {
        let sent = if self.syslog.confirms() {
            Action::AwaitingAck
        } else {
            Action::Delivered
        };
        let Some(connection) = self.connection.as_mut() else {
            return Err(io::Error::other("no connection"));
        };
        let mut outcome = Outcome::default();
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER, &mut connection.stream);
        let mut written = 0usize;
        let mut seqs = Vec::with_capacity(batch.len());
        for (index, (seq, event)) in batch.iter().enumerate() {
            match render(event, &self.syslog.message, &mut self.buf, true) {
                Ok(n) => {
                    let frame = self
                        .buf
                        .get(..n)
                        .ok_or_else(|| io::Error::other("rendered past the buffer"))?;
                    writer.write_all(frame)?;
                    written += n;
                    seqs.push(*seq);
                    outcome.push(index..index + 1, sent.clone());
                }
                Err(reason) => outcome.push(
                    index..index + 1,
                    Action::DeadLetter {
                        reason: format!("record {seq}: {reason}"),
                    },
                ),
            }
        }
        writer.flush()?;
        Ok((outcome, seqs, written))
    }
    fn send_udp(&mut self, batch: &[Item<'_>], now: Instant) -> Outcome {
        if self.udp.is_none() {
            match self.open_udp(now) {
                Ok(socket) => self.udp = Some(socket),
                Err(err) => {
                    let mut outcome = Outcome::whole(batch.len(), Action::Retry { after: None });
                    outcome.last_error = Some(format!(
                        "cannot open a UDP socket to syslog receiver {}: {err}",
                        self.target()
                    ));
                    return outcome;
                }
            }
        }
        let mut outcome = Outcome::default();
        for (index, (seq, event)) in batch.iter().enumerate() {
            let n = match render(event, &self.syslog.message, &mut self.buf, false) {
                Ok(n) => n,
                Err(reason) => {
                    outcome.push(
                        index..index + 1,
                        Action::DeadLetter {
                            reason: format!("record {seq}: {reason}"),
                        },
                    );
                    continue;
                }
            };
            if n > self.syslog.max_datagram {
                outcome.push(
                    index..index + 1,
                    Action::DeadLetter {
                        reason: format!(
                            "record {seq}: syslog message of {n} bytes is over the UDP \
                             datagram limit of {} bytes (not cut, not sent)",
                            self.syslog.max_datagram
                        ),
                    },
                );
                continue;
            }
            let sent = match (&self.udp, self.buf.get(..n)) {
                (Some(socket), Some(message)) => socket.send(message),
                _ => Err(io::Error::other("no socket")),
            };
            match sent {
                Ok(_) => outcome.push(index..index + 1, Action::Delivered),
                Err(err) => {
                    // ICMP port unreachable from an earlier datagram, or no route: the rest
                    // of the batch is retried, on the next host if there are several; this
                    // datagram was not sent.
                    self.udp = None;
                    if self.rotation.len() > 1 {
                        self.rotation.mark_down(self.current, now);
                    }
                    outcome.push(index..batch.len(), Action::Retry { after: None });
                    outcome.last_error = Some(format!(
                        "send to syslog receiver {} failed: {err}",
                        self.target()
                    ));
                    break;
                }
            }
        }
        outcome
    }

    /// A UDP socket connected to the next host in turn that resolves (UDP cannot tell more).
    fn open_udp(&mut self, now: Instant) -> io::Result<UdpSocket> {
        let mut last = io::Error::other("no host");
        for index in self.rotation.order(now) {
            self.current = index;
            match self.open_udp_to(index) {
                Ok(socket) => return Ok(socket),
                Err(err) => {
                    self.rotation.mark_down(index, now);
                    last = err;
                }
            }
        }
        Err(last)
    }

    fn open_udp_to(&self, index: usize) -> io::Result<UdpSocket> {
        let addr = self.addrs(index)?.into_iter().next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address")
        })?;
        let local: SocketAddr = if addr.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(addr)?;
        socket.set_write_timeout(Some(nonzero(self.timeouts.response)))?;
        Ok(socket)
    }
}

impl Sender for SyslogSender {
    fn resume(&mut self, _dir: &std::path::Path, _name: &str) -> Option<u64> {
        // Syslog keeps no state across a restart: what the receiver did not confirm is sent again.
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
        match self.syslog.transport {
            Transport::Tcp | Transport::Tls => self.send_stream(batch, now),
            Transport::Udp => self.send_udp(batch, now),
            // RELP destinations get a RelpSender from Destination::sender, never this sender.
            Transport::Relp | Transport::RelpTls => Outcome::whole(
                batch.len(),
                Action::Park {
                    reason: "syslog over RELP is sent by the RELP sender \
                             (destination::syslog::relp), not this one"
                        .to_owned(),
                },
            ),
        }
    }

    fn hosts(&self, now: Instant) -> Vec<crate::destination::HostState> {
        let names = self.syslog.hosts.iter().map(ToString::to_string);
        self.rotation.states(names, now)
    }

    fn poll_acks(&mut self, now: Instant) -> AckReport {
        SyslogSender::poll_acks(self, now)
    }

    fn pending_acks(&self) -> usize {
        SyslogSender::pending_acks(self)
    }

    fn poll_interval(&self) -> Option<Duration> {
        self.settings().confirms().then_some(CONFIRM_POLL)
    }

    fn possible_loss(&self) -> u64 {
        SyslogSender::possible_loss(self)
    }

    /// What is written and unconfirmed stays in the spool; the connection just closes.
    fn finish(&mut self) -> AckReport {
        AckReport::default()
    }
}

/// Renders one message (framed for TCP/TLS) into `buf`; `Err` is a dead-letter reason. Also
/// the render path of RELP ([`relp`](super::relp), unframed).
pub(crate) fn render(
    event: &Event,
    options: &syslog::Options,
    buf: &mut [u8],
    framed: bool,
) -> Result<usize, String> {
    let mut out = SliceWriter::new(buf);
    let rendered = if framed {
        syslog::write_framed(event, options, &mut out)
    } else {
        syslog::write(event, options, &mut out)
    };
    rendered.map_err(|err| format!("cannot render the syslog message: {err}"))
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::syslog::sender::{DEFAULT_MAX_DATAGRAM, SyslogSender};
        use crate::destination::syslog::{Confirm, Syslog, Transport};
        use crate::destination::{Timeouts, Tls};

        let options = Syslog::new("127.0.0.1", 514, Transport::Tcp);
        assert_eq!(options.confirm, Confirm::TcpAck, "at least once by default");
        let udp = Syslog::new("127.0.0.1", 514, Transport::Udp);
        assert_eq!(udp.max_datagram, DEFAULT_MAX_DATAGRAM);
        let sender = SyslogSender::new(&udp, &Tls::default(), &Timeouts::default()).unwrap();
        assert_eq!((sender.possible_loss(), sender.pending_acks()), (0, 0));
    }
}
