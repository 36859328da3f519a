//! One connection to a syslog receiver over TCP or TLS: opened, accepted or refused, watched.
//!
//! What it is: [`open`] connects, and for TLS runs the handshake and then waits for the
//! receiver's verdict on the session ([`Acceptance`]) before the connection counts as open;
//! [`Stream`] is the byte stream the sender writes frames to, counting every byte it hands to
//! the TCP socket ([`Stream::written`], TLS records and handshake included) so that the
//! socket's unacknowledged output queue can be turned into confirmed records
//! ([`unconfirmed`](super::unconfirmed)); [`Stream::check_alive`] reads, without waiting,
//! whatever the receiver sent, to see a close, a reset or a TLS alert.
//!
//! What it guarantees:
//! - A TLS session counts as open only once the receiver had its chance to refuse it. TLS 1.3
//!   lets the client finish its handshake before the server has checked the client's
//!   certificate: a receiver that requires one (rsyslog's `x509/certvalid`) answers the
//!   client's Finished with an alert (`certificate_required`) and closes. So after a TLS 1.3
//!   handshake the session is read until the server's first post-handshake message, a
//!   session ticket (a server sends it only after it accepted the client), an alert or a
//!   close, for at most [`REFUSAL_WAIT`](super::sender::REFUSAL_WAIT) (capped by the TLS timeout):
//!   silence that long counts as accepted (a server that sends no tickets). Under TLS 1.2
//!   the server's Finished already comes after its check of the client.
//! - A refusal gives [`Action::Park`] with a reason that names the likely cause and the fix
//!   ([`Refusal::reason`]); nothing was written.
//! - TLS verification as the HTTPS client does it ([`TlsClient::new`]): the roots `trust`
//!   names (see [`crate::destination::trust`]), the client certificate when configured, verification off only with
//!   `verify = false`.
//! - Reads are bounded: the post-handshake wait by its deadline, [`Stream::check_alive`] by
//!   [`DRAIN_READS`] non-blocking reads; what a receiver sends (it should send nothing but TLS
//!   records) is discarded.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustix::io::Errno;
use rustix::net::RecvFlags;
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Resumption, Tls12ClientSessionValue,
    Tls13ClientSessionValue,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    AlertDescription, ClientConfig, ClientConnection, NamedGroup, ProtocolVersion, RootCertStore,
    StreamOwned,
};

use super::sender::SyslogError;
use crate::destination::Tls;
use crate::destination::classify::Action;
use crate::destination::http;
use crate::destination::trust::Roots;

/// Most non-blocking reads of one [`Stream::check_alive`] (each up to 4 KiB).
pub(crate) const DRAIN_READS: usize = 16;

/// The TCP socket of a connection, counting the bytes written to it.
#[derive(Debug)]
pub(crate) struct CountedTcp {
    tcp: TcpStream,
    written: u64,
}

impl Read for CountedTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.read(buf)
    }
}

impl Write for CountedTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.tcp.write(buf)?;
        self.written = self.written.saturating_add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// A receive that never waits: `WouldBlock` when nothing is there.
struct DontWait<'a>(&'a TcpStream);

impl Read for DontWait<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        rustix::net::recv(self.0, buf, RecvFlags::DONTWAIT)
            .map(|(n, _)| n)
            .map_err(io::Error::from)
    }
}

/// The byte stream of one connection.
#[derive(Debug)]
pub(crate) enum Stream {
    /// Plain TCP.
    Tcp(CountedTcp),
    /// TLS over TCP.
    Tls(Box<StreamOwned<ClientConnection, CountedTcp>>),
}

impl Stream {
    fn counted(&self) -> &CountedTcp {
        match self {
            Self::Tcp(s) => s,
            Self::Tls(s) => &s.sock,
        }
    }

    /// The TCP socket.
    #[must_use]
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.counted().tcp
    }

    /// Bytes handed to the TCP socket since the connection was opened.
    #[must_use]
    pub(crate) fn written(&self) -> u64 {
        self.counted().written
    }

    /// Reads, without waiting, what the receiver sent; `Err` says how the connection ended
    /// (the receiver closed or reset it, or sent a TLS alert).
    ///
    /// # Errors
    ///
    /// The connection is over; the text completes "the syslog receiver …".
    pub(crate) fn check_alive(&mut self) -> Result<(), String> {
        match self {
            Self::Tcp(counted) => drain_tcp(&counted.tcp),
            Self::Tls(tls) => drain_tls(tls),
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

fn drain_tcp(tcp: &TcpStream) -> Result<(), String> {
    let mut buf = [0u8; 4096];
    for _ in 0..DRAIN_READS {
        match rustix::net::recv(tcp, &mut buf[..], RecvFlags::DONTWAIT) {
            Ok((0, _)) => return Err("closed the connection".to_owned()),
            // A receiver that writes to us is not syslog, but is not a break either.
            Ok(_) | Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => return Ok(()),
            Err(err) => return Err(format!("broke the connection: {}", io::Error::from(err))),
        }
    }
    Ok(())
}

fn drain_tls(tls: &mut StreamOwned<ClientConnection, CountedTcp>) -> Result<(), String> {
    for _ in 0..DRAIN_READS {
        match tls.conn.read_tls(&mut DontWait(&tls.sock.tcp)) {
            Ok(0) => return Err("closed the connection".to_owned()),
            Ok(_) => {
                let state = tls
                    .conn
                    .process_new_packets()
                    .map_err(|err| format!("ended the TLS session: {}", describe_tls(&err)))?;
                let closed = state.peer_has_closed();
                discard_plaintext(&mut tls.conn);
                if closed {
                    return Err("closed the TLS session (close_notify)".to_owned());
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(format!("broke the connection: {err}")),
        }
    }
    Ok(())
}

/// Reads and drops the application data a receiver sent (a syslog receiver sends none).
fn discard_plaintext(conn: &mut ClientConnection) {
    let mut sink = [0u8; 4096];
    while let Ok(n) = conn.reader().read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}

/// How a TLS receiver showed that it accepted the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Acceptance {
    /// TLS 1.3: it sent a session ticket, which a server sends only after it accepted the
    /// client's Finished (and certificate).
    SessionTicket,
    /// TLS 1.2: its Finished message, which ends the handshake, comes after its check of the
    /// client.
    Tls12Finished,
    /// TLS 1.3: it sent nothing for this long after the handshake (no ticket, no alert).
    NoRefusalWithin(Duration),
}

impl fmt::Display for Acceptance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SessionTicket => {
                write!(
                    f,
                    "the receiver accepted the session (it sent a session ticket)"
                )
            }
            Self::Tls12Finished => write!(
                f,
                "the receiver accepted the session (TLS 1.2: its Finished message)"
            ),
            Self::NoRefusalWithin(wait) => write!(
                f,
                "the receiver did not refuse the session within {} ms (it sends no session \
                 ticket, so acceptance is not proven)",
                wait.as_millis()
            ),
        }
    }
}

/// What the opening of the current connection showed (`icsfwd test` prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The address connected to.
    pub peer: SocketAddr,
    /// How long the TCP connect took.
    pub connect_time: Duration,
    /// The TLS session, for `transport = "tls"`.
    pub tls: Option<TlsInfo>,
}

/// The TLS part of [`SessionInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsInfo {
    /// `TLS 1.3` or `TLS 1.2`.
    pub version: &'static str,
    /// The cipher suite's IANA name.
    pub cipher_suite: String,
    /// How long the handshake took.
    pub handshake_time: Duration,
    /// How the receiver accepted the session.
    pub acceptance: Acceptance,
    /// Whether a client certificate was configured (and so offered when asked for).
    pub client_certificate: bool,
}

/// Why a receiver refused a TLS session.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// It sent this TLS alert.
    Alert(AlertDescription),
    /// It closed the connection right after the handshake.
    Closed,
    /// The connection broke right after the handshake.
    Broken(io::Error),
    /// Another TLS failure.
    Tls(rustls::Error),
}

/// The RFC name of a TLS alert, or its number.
#[must_use]
pub(crate) fn alert_name(alert: AlertDescription) -> String {
    let name = match alert {
        AlertDescription::HandshakeFailure => "handshake_failure",
        AlertDescription::NoCertificate => "no_certificate",
        AlertDescription::BadCertificate => "bad_certificate",
        AlertDescription::UnsupportedCertificate => "unsupported_certificate",
        AlertDescription::CertificateRevoked => "certificate_revoked",
        AlertDescription::CertificateExpired => "certificate_expired",
        AlertDescription::CertificateUnknown => "certificate_unknown",
        AlertDescription::UnknownCA => "unknown_ca",
        AlertDescription::AccessDenied => "access_denied",
        AlertDescription::DecryptError => "decrypt_error",
        AlertDescription::ProtocolVersion => "protocol_version",
        AlertDescription::InsufficientSecurity => "insufficient_security",
        AlertDescription::InternalError => "internal_error",
        AlertDescription::CertificateRequired => "certificate_required",
        AlertDescription::CloseNotify => "close_notify",
        other => return format!("number {}", u8::from(other)),
    };
    name.to_owned()
}

/// A rustls error as an operator reads it (alerts by their RFC name, not a Rust form).
fn describe_tls(err: &rustls::Error) -> String {
    match err {
        rustls::Error::AlertReceived(alert) => format!("TLS alert {}", alert_name(*alert)),
        other => other.to_string(),
    }
}

impl Refusal {
    fn from_tls(err: rustls::Error) -> Self {
        match err {
            rustls::Error::AlertReceived(alert) => Self::Alert(alert),
            other => Self::Tls(other),
        }
    }

    /// What the receiver did, in words.
    #[must_use]
    pub(crate) fn what(&self) -> String {
        match self {
            Self::Alert(alert) => format!("TLS alert {}", alert_name(*alert)),
            Self::Closed => "it closed the connection right after the handshake".to_owned(),
            Self::Broken(err) => format!("the connection broke right after the handshake: {err}"),
            Self::Tls(err) => err.to_string(),
        }
    }

    /// The park reason: the receiver refused the session, the likely cause and the fix.
    /// `client_cert` is the configured client certificate, if any.
    #[must_use]
    pub(crate) fn reason(&self, target: &str, client_cert: Option<&PathBuf>) -> String {
        let about_client = match self {
            Self::Alert(alert) => matches!(
                alert,
                AlertDescription::CertificateRequired
                    | AlertDescription::HandshakeFailure
                    | AlertDescription::NoCertificate
                    | AlertDescription::BadCertificate
                    | AlertDescription::UnsupportedCertificate
                    | AlertDescription::CertificateRevoked
                    | AlertDescription::CertificateExpired
                    | AlertDescription::CertificateUnknown
                    | AlertDescription::UnknownCA
                    | AlertDescription::AccessDenied
            ),
            Self::Closed | Self::Broken(_) => true,
            Self::Tls(_) => false,
        };
        let fix = match (about_client, client_cert) {
            (true, None) => "it probably requires a client certificate; set client_cert and \
                             client_key"
                .to_owned(),
            (true, Some(cert)) => format!(
                "it did not accept the client certificate {}; check that it is signed by a CA \
                 the receiver trusts, is valid now, and that the receiver permits this client",
                cert.display()
            ),
            (false, _) => "check the receiver's TLS settings (protocol versions, cipher suites) \
                           against icsfwd's (TLS 1.2 and 1.3)"
                .to_owned(),
        };
        format!(
            "the syslog receiver {target} refused the TLS session ({}): {fix}",
            self.what()
        )
    }
}

/// Counts the TLS 1.3 session tickets received: the proof that a server accepted a session.
/// Everything else is the ordinary in-memory session cache.
#[derive(Debug)]
pub(crate) struct TicketWatch {
    cache: ClientSessionMemoryCache,
    tickets: AtomicU64,
}

impl TicketWatch {
    fn new() -> Self {
        Self {
            cache: ClientSessionMemoryCache::new(32),
            tickets: AtomicU64::new(0),
        }
    }

    fn count(&self) -> u64 {
        self.tickets.load(Ordering::SeqCst)
    }
}

impl ClientSessionStore for TicketWatch {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.cache.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.cache.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.cache.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.cache.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.cache.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.tickets.fetch_add(1, Ordering::SeqCst);
        self.cache.insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.cache.take_tls13_ticket(server_name)
    }
}

/// The TLS side of a sender: its rustls configuration, the receiver's name, the ticket watch.
#[derive(Debug)]
pub(crate) struct TlsClient {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    tickets: Arc<TicketWatch>,
    client_cert: Option<PathBuf>,
}

impl TlsClient {
    /// The client for receiver `host` with the settings `tls`.
    ///
    /// # Errors
    ///
    /// A CA, certificate or key file cannot be used, or `host` is no server name.
    pub(crate) fn new(host: &str, tls: &Tls) -> Result<Self, SyslogError> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| SyslogError::Name(host.to_owned()))?;
        let tickets = Arc::new(TicketWatch::new());
        let mut config = client_config(tls)?;
        config.resumption = Resumption::store(Arc::clone(&tickets) as Arc<dyn ClientSessionStore>);
        Ok(Self {
            config: Arc::new(config),
            name,
            tickets,
            client_cert: tls.client.as_ref().map(|client| client.cert.clone()),
        })
    }
}

/// Timeouts of [`open`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenTimeouts {
    /// TCP connect, per address.
    pub connect: Duration,
    /// TLS handshake.
    pub tls: Duration,
    /// Each later write (and any read).
    pub io: Duration,
    /// Longest wait for a TLS 1.3 receiver's verdict after the handshake.
    pub refusal_wait: Duration,
}

/// Opens a connection to one of `addrs` (the first that answers), with TLS when `tls` is set;
/// `target` names the receiver in messages. `Err` carries the action and the message.
///
/// # Errors
///
/// No address answered (Retry), the TLS setup or handshake failed (Park when verification
/// or the receiver refused, Retry otherwise).
pub(crate) fn open(
    addrs: &[SocketAddr],
    tls: Option<&TlsClient>,
    timeouts: OpenTimeouts,
    target: &str,
) -> Result<(Stream, SessionInfo), (Action, String)> {
    let retry = |message: String| (Action::Retry { after: None }, message);
    let started = Instant::now();
    let mut last = None;
    let mut connected = None;
    for addr in addrs {
        match TcpStream::connect_timeout(addr, nonzero(timeouts.connect)) {
            Ok(stream) => {
                connected = Some((stream, *addr));
                break;
            }
            Err(err) => last = Some(err),
        }
    }
    let Some((tcp, peer)) = connected else {
        let err = last.unwrap_or_else(|| io::Error::other("no address"));
        return Err(retry(format!(
            "cannot connect to syslog receiver {target}: {err}"
        )));
    };
    let connect_time = started.elapsed();
    let _ = tcp.set_nodelay(true);
    tcp.set_write_timeout(Some(nonzero(timeouts.io)))
        .map_err(|err| {
            retry(format!(
                "cannot configure the connection to syslog receiver {target}: {err}"
            ))
        })?;
    let counted = CountedTcp { tcp, written: 0 };
    let (stream, tls) = match tls {
        Some(client) => {
            let (stream, info) = handshake(counted, client, timeouts, target)?;
            (Stream::Tls(Box::new(stream)), Some(info))
        }
        None => (Stream::Tcp(counted), None),
    };
    let info = SessionInfo {
        peer,
        connect_time,
        tls,
    };
    Ok((stream, info))
}

/// The TLS handshake, then the receiver's verdict ([`await_acceptance`]).
fn handshake(
    counted: CountedTcp,
    client: &TlsClient,
    timeouts: OpenTimeouts,
    target: &str,
) -> Result<(StreamOwned<ClientConnection, CountedTcp>, TlsInfo), (Action, String)> {
    let conn =
        ClientConnection::new(Arc::clone(&client.config), client.name.clone()).map_err(|err| {
            let message = format!("TLS setup for {target} refused: {err}");
            (
                Action::Park {
                    reason: message.clone(),
                },
                message,
            )
        })?;
    let mut tls = StreamOwned::new(conn, counted);
    let limit = nonzero(timeouts.tls);
    let _ = tls.sock.tcp.set_read_timeout(Some(limit));
    let _ = tls.sock.tcp.set_write_timeout(Some(limit));
    let tickets_before = client.tickets.count();
    let started = Instant::now();
    while tls.conn.is_handshaking() {
        if let Err(err) = tls.conn.complete_io(&mut tls.sock) {
            return Err(handshake_error(target, &err, client.client_cert.as_ref()));
        }
    }
    let handshake_time = started.elapsed();
    let wait = timeouts.refusal_wait.min(limit);
    let acceptance =
        await_acceptance(&mut tls, &client.tickets, tickets_before, wait).map_err(|refusal| {
            let reason = refusal.reason(target, client.client_cert.as_ref());
            (
                Action::Park {
                    reason: reason.clone(),
                },
                reason,
            )
        })?;
    // rustls reads only while handshaking or closing; bound any read anyway.
    let _ = tls.sock.tcp.set_read_timeout(Some(nonzero(timeouts.io)));
    tls.sock
        .tcp
        .set_write_timeout(Some(nonzero(timeouts.io)))
        .map_err(|err| {
            (
                Action::Retry { after: None },
                format!("cannot configure the connection to syslog receiver {target}: {err}"),
            )
        })?;
    let version = match tls.conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_2) => "TLS 1.2",
        _ => "TLS 1.3",
    };
    let cipher_suite = tls
        .conn
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .unwrap_or("unknown")
        .to_owned();
    let info = TlsInfo {
        version,
        cipher_suite,
        handshake_time,
        acceptance,
        client_certificate: client.client_cert.is_some(),
    };
    Ok((tls, info))
}

/// After a TLS 1.3 handshake: reads until a session ticket (accepted), an alert or a close
/// (refused), or `wait` passes in silence (taken as accepted). TLS 1.2: accepted already.
fn await_acceptance(
    tls: &mut StreamOwned<ClientConnection, CountedTcp>,
    tickets: &TicketWatch,
    tickets_before: u64,
    wait: Duration,
) -> Result<Acceptance, Refusal> {
    if tls.conn.protocol_version() == Some(ProtocolVersion::TLSv1_2) {
        return Ok(Acceptance::Tls12Finished);
    }
    let started = Instant::now();
    loop {
        if tickets.count() > tickets_before {
            return Ok(Acceptance::SessionTicket);
        }
        let left = wait.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok(Acceptance::NoRefusalWithin(wait));
        }
        let _ = tls.sock.tcp.set_read_timeout(Some(nonzero(left)));
        match tls.conn.read_tls(&mut tls.sock) {
            Ok(0) => return Err(Refusal::Closed),
            Ok(_) => {
                let state = tls.conn.process_new_packets().map_err(Refusal::from_tls)?;
                let closed = state.peer_has_closed();
                discard_plaintext(&mut tls.conn);
                if closed {
                    return Err(Refusal::Closed);
                }
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(Acceptance::NoRefusalWithin(wait));
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(Refusal::Broken(err)),
        }
    }
}

/// A failed handshake: a certificate the receiver presents that does not verify, or an alert
/// it sends (TLS 1.2 refuses a missing client certificate this way), parks; anything else
/// (a timeout, a reset) is retried.
pub(crate) fn handshake_error(
    target: &str,
    err: &io::Error,
    client_cert: Option<&PathBuf>,
) -> (Action, String) {
    let tls = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::AlertReceived(alert)) => {
            let reason = Refusal::Alert(*alert).reason(target, client_cert);
            (
                Action::Park {
                    reason: reason.clone(),
                },
                reason,
            )
        }
        Some(
            tls @ (rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented),
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

/// A zero timeout means "none" to std, which refuses it: use a millisecond instead.
#[must_use]
pub(crate) fn nonzero(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

/// The rustls client configuration of `tls`: the roots its `trust` names,
/// an optional client certificate, verification off only when `verify` is false.
pub(crate) fn client_config(tls: &Tls) -> Result<ClientConfig, SyslogError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| SyslogError::Config(err.to_string()))?;
    let mut roots = RootCertStore::empty();
    match tls.trust.roots().map_err(SyslogError::Tls)? {
        Roots::Read(certs) => {
            for cert in certs {
                roots
                    .add(CertificateDer::from(cert.der().to_vec()))
                    .map_err(|err| {
                        SyslogError::Config(format!("{}: {err}", tls.trust.describe()))
                    })?;
            }
        }
        Roots::Bundled => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = builder.with_root_certificates(roots);
    let mut config = match &tls.client {
        Some(client) => {
            let (chain, key) =
                http::read_client_cert(&client.cert, &client.key).map_err(SyslogError::Tls)?;
            let chain = chain
                .iter()
                .map(|c| CertificateDer::from(c.der().to_vec()))
                .collect();
            let key = PrivateKeyDer::try_from(key.der().to_vec()).map_err(|_| {
                SyslogError::Config(format!("{}: no usable private key", client.key.display()))
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
    Ok(config)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_missing_client_certificate_and_the_keys_to_set() {
        let refusal = Refusal::Alert(AlertDescription::CertificateRequired);
        let reason = refusal.reason("rsyslog:6514", None);
        assert_eq!(
            reason,
            "the syslog receiver rsyslog:6514 refused the TLS session (TLS alert \
             certificate_required): it probably requires a client certificate; set client_cert \
             and client_key"
        );
        let closed = Refusal::Closed.reason("r:1", None);
        assert!(closed.contains("closed the connection right after the handshake"));
        assert!(closed.contains("set client_cert and client_key"));
    }

    #[test]
    fn a_refused_client_certificate_is_named_with_what_to_check() {
        let cert = PathBuf::from("/etc/icsfwd/client.pem");
        let reason = Refusal::Alert(AlertDescription::UnknownCA).reason("r:1", Some(&cert));
        assert!(reason.contains("TLS alert unknown_ca"), "{reason}");
        assert!(reason.contains("did not accept the client certificate /etc/icsfwd/client.pem"));
        let other = Refusal::Alert(AlertDescription::ProtocolVersion).reason("r:1", None);
        assert!(other.contains("protocol versions"), "{other}");
        assert!(!other.contains("client_cert"), "{other}");
    }

    #[test]
    fn alerts_are_shown_by_their_rfc_names_never_as_rust_values() {
        assert_eq!(
            alert_name(AlertDescription::CertificateRequired),
            "certificate_required"
        );
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
        assert_eq!(alert_name(AlertDescription::Unknown(200)), "number 200");
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::syslog::session::Acceptance;

        let shown = Acceptance::SessionTicket.to_string();
        assert_eq!(
            shown,
            "the receiver accepted the session (it sent a session ticket)"
        );
    }
}
