//! Delivery to a syslog receiver: RFC 5424 messages over TCP (RFC 6587 octet counting), TLS
//! (RFC 5425) or UDP (RFC 5426).
//!
//! What it is: [`SyslogSender`] renders each event with the core's
//! [`icsfwd_core::format::syslog`] formatter (payload `text`, `cef` or `leef` inside the
//! RFC 5424 header, facility and level from [`syslog::Options`]) and writes it to one receiver.
//! It implements [`Deliver`] and [`Sender`](crate::deliver::Sender) (syslog has no acks).
//!
//! What it guarantees:
//! - TCP and TLS: one connection is kept between batches. A batch is written as
//!   `<length> <message>` frames through a 64 KiB buffer and flushed; it is
//!   [`Delivered`](Action::Delivered) only after the flush succeeded. A connection that cannot
//!   be opened gives [`Retry`](Action::Retry) for the whole batch (the worker applies the
//!   destination's backoff); the next `send` reconnects. A write error mid-batch drops the
//!   connection and gives `Retry` for the whole batch with [`Outcome::uncertain`] set: part of
//!   it may have arrived, so the resend may duplicate.
//! - TLS: verified by default, against the CA file when one is given, else the Mozilla roots
//!   (webpki-roots), with the same CA and client-certificate loading as the HTTPS client
//!   ([`http::read_ca_certs`], [`http::read_client_cert`]). A certificate the receiver presents
//!   that does not verify gives [`Park`](Action::Park) (a configuration problem: retried slowly
//!   and alarmed), not a fast retry.
//! - UDP: one datagram per message. A message longer than [`SyslogOptions::max_datagram`]
//!   (default [`DEFAULT_MAX_DATAGRAM`]) is never cut or split: it goes to
//!   [`DeadLetter`](Action::DeadLetter) with a reason giving its length and the limit, and the
//!   rest of the batch is sent. UDP gives no delivery confirmation at all: a datagram the
//!   kernel accepted is `Delivered`.
//! - Nothing is dropped silently: every event of a batch ends in exactly one part.
//!
//! The possible loss window (TCP and TLS). A successful flush means the kernel accepted the
//! bytes, not that the receiver read them: syslog over TCP has no application
//! acknowledgement. If the receiver resets the connection (crash, restart, `RST`), the data
//! still in our socket send buffer or in its receive buffer is lost, although it was reported
//! `Delivered`. This sender cannot know how much; it counts an upper bound: when a connection
//! is found broken (a write error, or the peer's close seen before the next batch), the
//! records reported delivered on that connection within its last [`LOSS_WINDOW_BYTES`] bytes
//! are added to [`SyslogSender::possible_loss`]. The integrator should show that counter in
//! `status` as "possibly lost (syslog connection reset)"; it is also named in
//! [`Outcome::last_error`] of the batch that found the break.
//!
//! Choices (not in the references):
//! - UDP datagram limit 8,192 bytes by default: RFC 5426 requires receivers to take 480
//!   bytes, says they SHOULD take 2,048 and MAY take up to 65,507 (IPv4); rsyslog and
//!   syslog-ng accept 8 KiB by default. Above 1,472 bytes a datagram is IP-fragmented on a
//!   1,500-byte Ethernet path; a site that forbids fragmentation sets a lower limit.
//! - [`LOSS_WINDOW_BYTES`] is 4 MiB, Linux's default maximum TCP send buffer
//!   (`net.ipv4.tcp_wmem`).
//! - The write timeout of a batch is the destination's response timeout; connect and TLS
//!   handshake have their own timeouts.
//!
//! ```
//! use icsfwd::config::Transport;
//! use icsfwd::output::syslog::{SyslogOptions, SyslogSender, DEFAULT_MAX_DATAGRAM};
//!
//! let options = SyslogOptions::new("127.0.0.1", 514, Transport::Udp);
//! assert_eq!(options.max_datagram, DEFAULT_MAX_DATAGRAM);
//! let sender = SyslogSender::new(options).unwrap();
//! assert_eq!(sender.possible_loss(), 0);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;
use icsfwd_core::format::{SliceWriter, syslog};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::classify::Action;
use super::http::{self, Timeouts, TlsOptions};
use super::{Deliver, Item, Outcome};
pub use crate::config::Transport;

/// Default largest UDP datagram sent (see the module docs).
pub const DEFAULT_MAX_DATAGRAM: usize = 8192;

/// Bytes of recent writes on a connection counted as possibly lost when it breaks.
pub const LOSS_WINDOW_BYTES: usize = 4 * 1024 * 1024;

const WRITE_BUFFER: usize = 64 * 1024;

/// How a [`SyslogSender`] reaches its receiver and builds messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogOptions {
    /// The receiver's host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// TCP, TLS or UDP.
    pub transport: Transport,
    /// Facility, level, payload, BOM.
    pub message: syslog::Options,
    /// TLS settings (used with [`Transport::Tls`]).
    pub tls: TlsOptions,
    /// Connect, handshake and write (`response`) timeouts.
    pub timeouts: Timeouts,
    /// Largest UDP datagram; a longer message is dead-lettered.
    pub max_datagram: usize,
}

impl SyslogOptions {
    /// Options with the defaults: CEF payload, verified TLS, default timeouts,
    /// [`DEFAULT_MAX_DATAGRAM`].
    #[must_use]
    pub fn new(host: &str, port: u16, transport: Transport) -> Self {
        Self {
            host: host.to_owned(),
            port,
            transport,
            message: syslog::Options::default(),
            tls: TlsOptions::default(),
            timeouts: Timeouts::default(),
            max_datagram: DEFAULT_MAX_DATAGRAM,
        }
    }
}

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

/// A connection and the recent writes on it: `(records, bytes)` per batch, newest last,
/// bounded by [`LOSS_WINDOW_BYTES`].
struct Connection {
    stream: Stream,
    recent: VecDeque<(u64, usize)>,
    recent_bytes: usize,
}

impl Connection {
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

    /// Whether the peer closed or reset the connection (seen without blocking).
    fn peer_closed(&self) -> bool {
        let tcp = self.stream.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        let closed = match tcp.peek(&mut byte) {
            Ok(0) => true,
            // A receiver that writes to us is not syslog, but is not a break either.
            Ok(_) => false,
            Err(err) => err.kind() != io::ErrorKind::WouldBlock,
        };
        closed || tcp.set_nonblocking(false).is_err()
    }
}

/// Sends events to one syslog receiver (see the module docs).
pub struct SyslogSender {
    options: SyslogOptions,
    tls: Option<Arc<ClientConfig>>,
    server_name: Option<ServerName<'static>>,
    connection: Option<Connection>,
    udp: Option<UdpSocket>,
    buf: Vec<u8>,
    possible_loss: u64,
}

impl fmt::Debug for SyslogSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyslogSender")
            .field("host", &self.options.host)
            .field("port", &self.options.port)
            .field("transport", &self.options.transport)
            .field("connected", &self.connection.is_some())
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
    pub fn new(options: SyslogOptions) -> Result<Self, SyslogError> {
        let (tls, server_name) = if options.transport == Transport::Tls {
            let name = ServerName::try_from(options.host.clone())
                .map_err(|_| SyslogError::Name(options.host.clone()))?;
            (Some(client_config(&options.tls)?), Some(name))
        } else {
            (None, None)
        };
        Ok(Self {
            options,
            tls,
            server_name,
            connection: None,
            udp: None,
            buf: vec![0; syslog::MAX_FRAMED_LEN],
            possible_loss: 0,
        })
    }

    /// Records reported delivered that a connection reset may have lost (see the module
    /// docs): an upper bound, cumulative since the sender was built.
    #[must_use]
    pub fn possible_loss(&self) -> u64 {
        self.possible_loss
    }

    /// Whether TLS verification is off (`verify = false`): the service warns.
    #[must_use]
    pub fn verification_disabled(&self) -> bool {
        self.options.transport == Transport::Tls && !self.options.tls.verify
    }

    fn target(&self) -> String {
        if self.options.host.contains(':') {
            format!("[{}]:{}", self.options.host, self.options.port)
        } else {
            format!("{}:{}", self.options.host, self.options.port)
        }
    }

    fn addrs(&self) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = (self.options.host.as_str(), self.options.port)
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

    fn connect_tcp(&self) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in self.addrs()? {
            match TcpStream::connect_timeout(&addr, self.options.timeouts.connect) {
                Ok(stream) => return Ok(stream),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address")))
    }

    /// Opens the connection; `Err` carries the action and the message.
    fn connect(&mut self) -> Result<Connection, (Action, String)> {
        let target = self.target();
        let fail = |what: &str, err: &io::Error| {
            (
                Action::Retry { after: None },
                format!("{what} syslog receiver {target}: {err}"),
            )
        };
        let tcp = self
            .connect_tcp()
            .map_err(|err| fail("cannot connect to", &err))?;
        let _ = tcp.set_nodelay(true);
        tcp.set_write_timeout(Some(nonzero(self.options.timeouts.response)))
            .map_err(|err| fail("cannot configure the connection to", &err))?;
        let stream = match (&self.tls, &self.server_name) {
            (Some(config), Some(name)) => {
                let conn =
                    ClientConnection::new(Arc::clone(config), name.clone()).map_err(|err| {
                        (
                            Action::Park {
                                reason: format!("TLS setup for {target} refused: {err}"),
                            },
                            format!("TLS setup for {target} refused: {err}"),
                        )
                    })?;
                let mut tls = StreamOwned::new(conn, tcp);
                let handshake = nonzero(self.options.timeouts.tls);
                let _ = tls.sock.set_read_timeout(Some(handshake));
                let _ = tls.sock.set_write_timeout(Some(handshake));
                while tls.conn.is_handshaking() {
                    if let Err(err) = tls.conn.complete_io(&mut tls.sock) {
                        return Err(handshake_error(&target, &err));
                    }
                }
                // rustls reads only while handshaking or closing; bound any read anyway.
                let _ = tls
                    .sock
                    .set_read_timeout(Some(nonzero(self.options.timeouts.response)));
                tls.sock
                    .set_write_timeout(Some(nonzero(self.options.timeouts.response)))
                    .map_err(|err| fail("cannot configure the connection to", &err))?;
                Stream::Tls(Box::new(tls))
            }
            _ => Stream::Tcp(tcp),
        };
        Ok(Connection {
            stream,
            recent: VecDeque::new(),
            recent_bytes: 0,
        })
    }

    /// Drops the connection, counting its loss window; returns the window.
    fn broken(&mut self) -> u64 {
        let window = self.connection.take().map_or(0, |c| c.window());
        self.possible_loss = self.possible_loss.saturating_add(window);
        window
    }

    fn send_stream(&mut self, batch: &[Item<'_>]) -> Outcome {
        let mut note = None;
        if self
            .connection
            .as_ref()
            .is_some_and(Connection::peer_closed)
        {
            let window = self.broken();
            note = Some(format!(
                "syslog receiver {} closed the connection; up to {window} records sent before \
                 may be lost (possible loss window)",
                self.target()
            ));
        }
        if self.connection.is_none() {
            match self.connect() {
                Ok(connection) => self.connection = Some(connection),
                Err((action, message)) => {
                    let mut outcome = Outcome::whole(batch.len(), action);
                    outcome.last_error = Some(message);
                    return outcome;
                }
            }
        }
        let Some(connection) = self.connection.as_mut() else {
            return Outcome::whole(batch.len(), Action::Retry { after: None });
        };
        let mut outcome = Outcome::default();
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER, &mut connection.stream);
        let mut written = 0usize;
        let mut records = 0u64;
        let mut failure = None;
        for (index, (seq, event)) in batch.iter().enumerate() {
            match render(event, &self.options.message, &mut self.buf, true) {
                Ok(n) => match self.buf.get(..n).map(|frame| writer.write_all(frame)) {
                    Some(Ok(())) => {
                        written += n;
                        records += 1;
                        outcome.push(index..index + 1, Action::Delivered);
                    }
                    Some(Err(err)) => {
                        failure = Some(err);
                        break;
                    }
                    None => {
                        failure = Some(io::Error::other("rendered past the buffer"));
                        break;
                    }
                },
                Err(reason) => outcome.push(
                    index..index + 1,
                    Action::DeadLetter {
                        reason: format!("record {seq}: {reason}"),
                    },
                ),
            }
        }
        let flushed = match failure {
            Some(err) => Err(err),
            None => writer.flush(),
        };
        drop(writer);
        match flushed {
            Ok(()) => {
                connection.record(records, written);
                outcome.last_error = note;
                outcome
            }
            Err(err) => {
                let window = self.broken();
                let mut outcome = Outcome::whole(batch.len(), Action::Retry { after: None });
                outcome.uncertain = true;
                outcome.last_error = Some(format!(
                    "write to syslog receiver {} failed (part of the batch may have \
                     arrived): {err}; up to {window} records sent before may be lost \
                     (possible loss window)",
                    self.target()
                ));
                outcome
            }
        }
    }

    fn send_udp(&mut self, batch: &[Item<'_>]) -> Outcome {
        if self.udp.is_none() {
            match self.open_udp() {
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
            let n = match render(event, &self.options.message, &mut self.buf, false) {
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
            if n > self.options.max_datagram {
                outcome.push(
                    index..index + 1,
                    Action::DeadLetter {
                        reason: format!(
                            "record {seq}: syslog message of {n} bytes is over the UDP \
                             datagram limit of {} bytes (not cut, not sent)",
                            self.options.max_datagram
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
                    // of the batch is retried; this datagram was not sent.
                    self.udp = None;
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

    fn open_udp(&self) -> io::Result<UdpSocket> {
        let addr = self.addrs()?.into_iter().next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address")
        })?;
        let local: SocketAddr = if addr.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(addr)?;
        socket.set_write_timeout(Some(nonzero(self.options.timeouts.response)))?;
        Ok(socket)
    }
}

impl Deliver for SyslogSender {
    fn send(&mut self, batch: &[Item<'_>], _now: Instant) -> Outcome {
        if batch.is_empty() {
            return Outcome::default();
        }
        match self.options.transport {
            Transport::Tcp | Transport::Tls => self.send_stream(batch),
            Transport::Udp => self.send_udp(batch),
            // RELP destinations get a RelpSender from deliver::sender_for, never this sender.
            Transport::Relp | Transport::RelpTls => Outcome::whole(
                batch.len(),
                Action::Park {
                    reason: "syslog over RELP is sent by the RELP sender (output::relp), not \
                             this one"
                        .to_owned(),
                },
            ),
        }
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
    rendered.map_err(|err| format!("cannot render the syslog message: {err:?}"))
}

/// A zero timeout means "none" to std, which refuses it: use a millisecond instead.
fn nonzero(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

pub(crate) fn handshake_error(target: &str, err: &io::Error) -> (Action, String) {
    let tls = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(
            tls @ (rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::AlertReceived(_)),
        ) => {
            let message = format!(
                "TLS handshake with syslog receiver {target} failed (check the CA file, the \
                 receiver's certificate and name, or the client certificate): {tls}"
            );
            (
                Action::Park {
                    reason: message.clone(),
                },
                message,
            )
        }
        _ => (
            Action::Retry { after: None },
            format!("TLS handshake with syslog receiver {target} failed: {err}"),
        ),
    }
}

/// The rustls client configuration of `tls`: the CA file's certificates or the Mozilla roots,
/// an optional client certificate, verification off only when `verify` is false. Also used by
/// RELP over TLS ([`relp`](super::relp)).
pub(crate) fn client_config(tls: &TlsOptions) -> Result<Arc<ClientConfig>, SyslogError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| SyslogError::Config(err.to_string()))?;
    let mut roots = RootCertStore::empty();
    if let Some(path) = &tls.ca_file {
        for cert in http::read_ca_certs(path).map_err(SyslogError::Tls)? {
            roots
                .add(CertificateDer::from(cert.der().to_vec()))
                .map_err(|err| SyslogError::Config(format!("{}: {err}", path.display())))?;
        }
    } else {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let builder = builder.with_root_certificates(roots);
    let mut config = match &tls.client_cert {
        Some((chain_path, key_path)) => {
            let (chain, key) =
                http::read_client_cert(chain_path, key_path).map_err(SyslogError::Tls)?;
            let chain = chain
                .iter()
                .map(|c| CertificateDer::from(c.der().to_vec()))
                .collect();
            let key = PrivateKeyDer::try_from(key.der().to_vec()).map_err(|_| {
                SyslogError::Config(format!("{}: no usable private key", key_path.display()))
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|err| SyslogError::Config(err.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    if !tls.verify {
        config
            .dangerous()
            .set_certificate_verifier(Arc::new(NoVerification(provider)));
    }
    Ok(Arc::new(config))
}

/// Accepts any server certificate: only with `verify = false`, which the service warns about.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
