//! The HTTP(S) client every Splunk sender uses: one [`ureq`] agent per destination, with
//! keep-alive, rustls (the `ring` provider) and bounded timeouts.
//!
//! What it is: [`HttpClient::new`] builds an agent from [`Tls`], [`Timeouts`] and [`Proxy`];
//! [`HttpClient::post`] sends one request and hands back a [`Reply`] for *every* status (ureq's
//! `http_status_as_error` is off, so a 4xx/5xx arrives with its body and `Retry-After`), or a
//! [`TransportError`] when no complete reply was read.
//!
//! What it guarantees:
//! - TLS verification is on unless [`Tls::verify`] is explicitly `false`; then
//!   [`HttpClient::verification_disabled`] says so, for the service to warn at every start.
//!   What is trusted is [`Tls::trust`]: the compiled-in Mozilla roots, the system's bundle or
//!   one CA file, never a mix (see [`super::trust`]).
//! - Timeouts: [`Timeouts::connect`] + [`Timeouts::tls`] bound the connect phase (ureq runs
//!   the TLS handshake inside its connect phase, so the two form one budget);
//!   [`Timeouts::response`] bounds the wait for the reply head, and the sum of all three bounds
//!   the whole call.
//! - The path is the configuration's alone: direct unless `proxy` names one, the proxy
//!   environment variables read only with `proxy = "env"` (see [`super::proxy`]). An error
//!   names the hop that failed: the proxy (refused, unreachable, its answer to `CONNECT`), or
//!   the destination, then with the proxy it went through.
//! - Bounded input: a reply body is read up to [`MAX_REPLY_BODY`] bytes (more is an error), a
//!   reply head up to 64 KiB.
//! - No redirects are followed (a redirect would carry the `Authorization` header elsewhere):
//!   a 3xx is returned as a [`Reply`].
//! - Secrets: header values are never formatted into an error; every error message is also
//!   passed through [`Redactor`] with the destination's secrets, so a server or library that
//!   echoes one cannot leak it into logs.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use super::Secret;
use super::proxy::{EnvError, Hop, Proxy, Routes};
use super::shared::{Timeouts, Tls};
use super::trust::{Roots, SSL_CERT_FILE, SYSTEM_BUNDLES};

/// Largest reply body read (HEC and splunkd answers are small JSON or XML documents).
pub(crate) const MAX_REPLY_BODY: u64 = 64 * 1024;

/// Longest text taken from a server's message into an error or reason.
pub(crate) const MAX_MESSAGE: usize = 256;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// TLS (the default).
    Https,
    /// Plain text: only for tests and the emulator; listed by
    /// [`Config::warnings`](crate::config::Config::warnings).
    Http,
}

impl Scheme {
    /// `https` or `http`.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// A client could not be built from its options.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// A CA, certificate or key file could not be read.
    Read {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A PEM file held nothing usable.
    Pem {
        /// Which file.
        path: PathBuf,
        /// What was wrong.
        what: &'static str,
    },
    /// `proxy = "env"` and a proxy variable names no usable proxy.
    ProxyEnv(EnvError),
    /// The proxy's host is not one a request can be sent to.
    Proxy(String),
    /// `trust = "system"` and no system CA bundle was found.
    NoSystemBundle,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::Pem { path, what } => write!(f, "{}: {what}", path.display()),
            Self::ProxyEnv(err) => write!(f, "{err}"),
            Self::NoSystemBundle => write!(
                f,
                "no system CA bundle: {SSL_CERT_FILE} is not set and none of {} exists: install \
                 the ca-certificates package, or set trust = \"ca_file\" and ca_file",
                SYSTEM_BUNDLES.join(", ")
            ),
            Self::Proxy(hop) => {
                write!(f, "{hop}: not a usable proxy host: fix the host in `proxy`")
            }
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            Self::ProxyEnv(err) => Some(err),
            Self::Pem { .. } | Self::Proxy(_) | Self::NoSystemBundle => None,
        }
    }
}

/// A complete reply: any status, its bounded body and its `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After` in delta-seconds form (the HTTP-date form is ignored: `None`).
    pub retry_after: Option<Duration>,
    /// The body, at most [`MAX_REPLY_BODY`] bytes.
    pub body: Vec<u8>,
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum TransportKind {
    /// The host refused the connection: nothing listens on that port.
    Refused,
    /// No connection: unreachable, name not resolved, connect timeout.
    Connect,
    /// The TLS handshake failed (certificate not trusted, wrong name, protocol mismatch).
    Tls,
    /// The request may have been sent, but no complete reply arrived in time.
    Timeout,
    /// The connection broke after the request may have been sent (reset, EOF).
    Broken,
    /// The reply was not valid HTTP, or its body was over [`MAX_REPLY_BODY`].
    Protocol,
    /// The URL is not usable (configuration).
    Url,
}

/// A request that got no usable reply. The message never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TransportError {
    /// The class of failure.
    pub kind: TransportKind,
    /// A redacted, human-readable description.
    pub message: String,
}

impl TransportError {
    /// A thread that made a request in flight stopped without a reply (it panicked): the
    /// request may have been taken.
    pub(crate) fn lost_thread() -> Self {
        Self {
            kind: TransportKind::Broken,
            message: "the thread of a request in flight stopped before its reply".to_owned(),
        }
    }

    /// Whether the server may have received (and acted on) the request: a resend may
    /// duplicate it.
    #[must_use]
    pub(crate) fn maybe_delivered(&self) -> bool {
        matches!(
            self.kind,
            TransportKind::Timeout | TransportKind::Broken | TransportKind::Protocol
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

/// Replaces every occurrence of the secrets it holds by `<redacted>`.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<Secret>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A redactor for these secrets (empty ones are ignored).
    #[must_use]
    pub(crate) fn new(secrets: &[&Secret]) -> Self {
        Self {
            secrets: secrets
                .iter()
                .filter(|s| !s.expose().is_empty())
                .map(|s| (*s).clone())
                .collect(),
        }
    }

    /// Adds one more secret (e.g. a session key once known).
    pub(crate) fn add(&mut self, secret: &Secret) {
        if !secret.expose().is_empty() {
            self.secrets.push(secret.clone());
        }
    }

    /// `text` with every secret replaced.
    #[must_use]
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), "<redacted>");
            }
        }
        out
    }
}

/// One destination's HTTP agents (connection pools with keep-alive): one for direct
/// connections, one per proxy its [`Routes`] name.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    direct: Agent,
    routes: Routes,
    proxied: Vec<(Hop, Agent)>,
    verification_disabled: bool,
}

impl HttpClient {
    /// Builds the agents; with [`Proxy::Env`] the proxy variables are read now.
    ///
    /// # Errors
    /// A CA file, client certificate or key that cannot be read or holds no PEM item of its
    /// kind; a proxy variable or host that cannot be used.
    pub(crate) fn new(tls: &Tls, timeouts: &Timeouts, proxy: &Proxy) -> Result<Self, SetupError> {
        let mut builder = TlsConfig::builder().disable_verification(!tls.verify);
        builder = builder.root_certs(match tls.trust.roots()? {
            Roots::Bundled => RootCerts::WebPki,
            Roots::Read(certs) => RootCerts::new_with_certs(&certs),
        });
        if let Some(client) = &tls.client {
            let (chain, key) = read_client_cert(&client.cert, &client.key)?;
            builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        let tls_config = builder.build();
        let routes = Routes::resolve(proxy, |name| std::env::var(name).ok())
            .map_err(SetupError::ProxyEnv)?;
        let mut proxied: Vec<(Hop, Agent)> = Vec::new();
        for hop in [&routes.https, &routes.http].into_iter().flatten() {
            if proxied.iter().all(|(known, _)| known != hop) {
                let via = ureq_proxy(hop).ok_or_else(|| SetupError::Proxy(hop.to_string()))?;
                proxied.push((hop.clone(), agent(&tls_config, timeouts, Some(via))));
            }
        }
        Ok(Self {
            direct: agent(&tls_config, timeouts, None),
            routes,
            proxied,
            verification_disabled: !tls.verify,
        })
    }

    /// How a request to `url` travels, for `icsfwd test`: `direct` or `via proxy host:port`.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn path_to(&self, url: &str) -> String {
        match self.routes.hop_for(url) {
            Some(hop) => format!("via {hop}"),
            None => "direct".to_owned(),
        }
    }

    /// Whether certificate verification is off (`verify = false`): the service warns.
    #[must_use]
    pub(crate) fn verification_disabled(&self) -> bool {
        self.verification_disabled
    }

    /// POSTs `body` to `url` with `headers`; any status is a [`Reply`].
    ///
    /// # Errors
    /// A [`TransportError`] when no complete reply was read; its message is redacted with
    /// `redactor`.
    pub(crate) fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        redactor: &Redactor,
    ) -> Result<Reply, TransportError> {
        self.exchange(url, headers, body, redactor)
    }

    /// POSTs the `len` bytes `body` reads, sent as they are read (`Content-Length: len`, no
    /// chunked encoding, which not every HEC or proxy takes); any status is a [`Reply`].
    ///
    /// # Errors
    /// As [`post`](Self::post); a `body` that fails or ends before `len` bytes breaks the
    /// request (the server sees a short body and the connection is closed).
    pub(crate) fn post_streamed(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        len: u64,
        body: &mut dyn std::io::Read,
        redactor: &Redactor,
    ) -> Result<Reply, TransportError> {
        let len = len.to_string();
        let mut sized = Vec::with_capacity(headers.len() + 1);
        sized.extend_from_slice(headers);
        sized.push(("Content-Length", len.as_str()));
        self.exchange(url, &sized, ureq::SendBody::from_reader(body), redactor)
    }

    /// One request and its reply, for [`post`](Self::post) and
    /// [`post_streamed`](Self::post_streamed).
    fn exchange(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: impl ureq::AsSendBody,
        redactor: &Redactor,
    ) -> Result<Reply, TransportError> {
        let hop = self.routes.hop_for(url);
        let agent = hop
            .and_then(|hop| self.proxied.iter().find(|(known, _)| known == hop))
            .map_or(&self.direct, |(_, agent)| agent);
        let mut request = agent.post(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let fail = |err: ureq::Error| transport_error(&err, url, hop, redactor);
        let mut response = request.send(body).map_err(fail)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY_BODY)
            .read_to_vec()
            .map_err(fail)?;
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }
}

/// The size of each of a connection's two HTTP buffers (input and output), and so the
/// largest reply head (status line and headers) accepted.
pub const HTTP_BUFFER: usize = 16 * 1024;

/// One agent: TLS, timeouts, no redirects, and the proxy `via` or none. The proxy is always
/// set explicitly: ureq's default configuration would read the proxy environment variables.
fn agent(tls: &TlsConfig, timeouts: &Timeouts, via: Option<ureq::Proxy>) -> Agent {
    let connect = timeouts.connect.saturating_add(timeouts.tls);
    let config = Agent::config_builder()
        .tls_config(tls.clone())
        .proxy(via)
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        // ureq's buffers are 128 KiB each by default (two per connection): 1 MiB of the
        // service's RSS with four destinations. A reply's head must fit in the input buffer,
        // so it is also the limit on a reply's head: Splunk's are a few hundred bytes, with a
        // load balancer's cookies a few KB. The output buffer stages the request line and
        // headers, then the body a buffer at a time (a 0.5 MB request is 32 writes, not 4).
        // The limit is one byte under the buffer: a head that fills the buffer is then
        // reported as too large, not as a connection that stopped making progress.
        .max_response_header_size(HTTP_BUFFER - 1)
        .input_buffer_size(HTTP_BUFFER)
        .output_buffer_size(HTTP_BUFFER)
        .timeout_connect(Some(connect))
        .timeout_recv_response(Some(timeouts.response))
        .timeout_recv_body(Some(timeouts.response))
        .timeout_send_body(Some(timeouts.response))
        .timeout_global(Some(connect.saturating_add(timeouts.response)))
        .max_idle_age(timeouts.idle)
        .user_agent(concat!("icsfwd/", env!("CARGO_PKG_VERSION")))
        .build();
    Agent::new_with_config(config)
}

/// `hop` as ureq's `CONNECT` proxy (no `NO_PROXY` of ureq's own: [`Routes`] decides).
fn ureq_proxy(hop: &Hop) -> Option<ureq::Proxy> {
    let mut builder = ureq::Proxy::builder(ureq::ProxyProtocol::Http)
        .host(&hop.host)
        .port(hop.port);
    if let Some(credentials) = &hop.credentials {
        builder = builder
            .username(credentials.user.expose())
            .password(credentials.password.expose());
    }
    builder.build().ok()
}

/// The certificates of the PEM CA file at `path` (shared with the syslog TLS transport).
///
/// # Errors
/// The file cannot be read or holds no PEM certificate.
pub(crate) fn read_ca_certs(path: &PathBuf) -> Result<Vec<Certificate<'static>>, SetupError> {
    let pem = read(path)?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(SetupError::Pem {
            path: path.clone(),
            what: "no PEM certificate in the CA file",
        });
    }
    Ok(certs)
}

/// A client certificate chain and its private key from PEM files (shared with the syslog
/// TLS transport).
///
/// # Errors
/// A file cannot be read, the chain holds no certificate, or the key file no usable key
/// (the key's parse error is not quoted: it could hold key material).
pub(crate) fn read_client_cert(
    chain_path: &PathBuf,
    key_path: &PathBuf,
) -> Result<(Vec<Certificate<'static>>, PrivateKey<'static>), SetupError> {
    let pem = read(chain_path)?;
    let chain: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if chain.is_empty() {
        return Err(SetupError::Pem {
            path: chain_path.clone(),
            what: "no PEM certificate in the client certificate file",
        });
    }
    let key_pem = read(key_path)?;
    let key = PrivateKey::from_pem(&key_pem).map_err(|_| SetupError::Pem {
        path: key_path.clone(),
        what: "no usable PEM private key in the client key file",
    })?;
    Ok((chain, key))
}

fn read(path: &PathBuf) -> Result<Vec<u8>, SetupError> {
    std::fs::read(path).map_err(|source| SetupError::Read {
        path: path.clone(),
        source,
    })
}

/// Maps a ureq error to a [`TransportError`] with a message naming the URL (never a header)
/// and, for a request through a proxy, the hop that failed.
fn transport_error(
    err: &ureq::Error,
    url: &str,
    hop: Option<&Hop>,
    redactor: &Redactor,
) -> TransportError {
    use ureq::Error as E;
    let kind = match err {
        E::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => TransportKind::Connect,
        E::Timeout(_) => TransportKind::Timeout,
        E::HostNotFound | E::ConnectionFailed | E::ConnectProxyFailed(_) => TransportKind::Connect,
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => TransportKind::Tls,
        E::BadUri(_) | E::Http(_) | E::InvalidProxyUrl => TransportKind::Url,
        E::Io(io) => io_kind(io),
        E::Protocol(_) | E::BodyExceedsLimit(_) | E::LargeResponseHeader(..) => {
            TransportKind::Protocol
        }
        _ => TransportKind::Broken,
    };
    let detail = match err {
        E::Timeout(which) => format!("{which} timeout"),
        other => other.to_string(),
    };
    let message = match hop {
        Some(hop) => through_proxy(err, kind, url, hop, &detail),
        None => format!(
            "{} {}: {}",
            failed(kind),
            strip_userinfo(url),
            bounded(&detail)
        ),
    };
    TransportError {
        kind,
        message: redactor.redact(&message),
    }
}

/// What failed, before the URL.
fn failed(kind: TransportKind) -> &'static str {
    match kind {
        TransportKind::Refused | TransportKind::Connect => "cannot connect to",
        TransportKind::Tls => "TLS handshake failed with",
        TransportKind::Timeout => "no reply in time from",
        TransportKind::Broken => "connection broken (the request may have arrived) with",
        TransportKind::Protocol => "invalid reply from",
        TransportKind::Url => "unusable URL",
    }
}

/// The message of a request through `hop` that failed: the proxy's own failures (refused,
/// unreachable, its answer to `CONNECT`) name the proxy first; the destination's name the
/// destination, then the proxy. Only the proxy is connected to (icsfwd does not resolve the
/// destination's name), so a refused or failed connection is the proxy's.
fn through_proxy(
    err: &ureq::Error,
    kind: TransportKind,
    url: &str,
    hop: &Hop,
    detail: &str,
) -> String {
    use ureq::Error as E;
    let target = strip_userinfo(url);
    let tunnel = target
        .split_once("://")
        .map_or(target.as_str(), |(_, rest)| {
            rest.split('/').next().unwrap_or(rest)
        });
    match (err, kind) {
        (E::ConnectProxyFailed(reason), _) => match proxy_status(reason) {
            Some(status) => format!(
                "{hop} answered {status} to CONNECT {tunnel}{}",
                connect_hint(status)
            ),
            None => format!("{hop} gave no answer to CONNECT {tunnel}"),
        },
        (E::HostNotFound, _) => format!("{hop}: its host name does not resolve"),
        (_, TransportKind::Refused) => format!("{hop} refused the connection"),
        (E::Timeout(_), TransportKind::Connect) => format!(
            "cannot connect to {target} via {hop}: connect timeout (reaching the proxy, its              tunnel and the TLS handshake share connect_timeout + tls_timeout)"
        ),
        (_, TransportKind::Connect) => {
            format!("{hop}: cannot connect to the proxy: {}", bounded(detail))
        }
        _ => format!("{} {target} (via {hop}): {}", failed(kind), bounded(detail)),
    }
}

/// The status code in ureq's `proxy server responded 403/403` (its `CONNECT` failure).
fn proxy_status(reason: &str) -> Option<u16> {
    let (_, after) = reason.split_once("responded ")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// What a proxy's refusal of `CONNECT` with `status` usually means.
fn connect_hint(status: u16) -> &'static str {
    match status {
        407 => " (proxy authentication required: check proxy_credentials_file)",
        403 => " (the proxy does not allow this host and port: check its CONNECT rules)",
        502..=504 => " (the proxy could not reach the destination)",
        _ => "",
    }
}

fn io_kind(io: &io::Error) -> TransportKind {
    use io::ErrorKind as K;
    let text = io.to_string();
    // rustls reports handshake failures through io::Error(InvalidData, rustls::Error).
    if io.kind() == K::InvalidData
        && (text.contains("certificate") || text.contains("peer") || text.contains("TLS"))
    {
        return TransportKind::Tls;
    }
    match io.kind() {
        K::ConnectionRefused => TransportKind::Refused,
        K::AddrNotAvailable | K::HostUnreachable | K::NetworkUnreachable | K::AddrInUse => {
            TransportKind::Connect
        }
        K::TimedOut | K::WouldBlock => TransportKind::Timeout,
        _ => TransportKind::Broken,
    }
}

/// The URL without any `user:password@` part.
fn strip_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return bounded(url);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // The query may carry metadata, never a secret we put there; cut it anyway for brevity.
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    bounded(&format!("{scheme}://{host}{path}"))
}

/// A server's `text` for an operator: cut to [`MAX_MESSAGE`] bytes, control characters (a
/// line break that would forge a log line) shown as spaces, between double quotes.
pub(crate) fn quoted(text: &str) -> String {
    let clean: String = bounded(text)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("\"{clean}\"")
}

/// `text` cut to [`MAX_MESSAGE`] bytes on a character boundary.
pub(crate) fn bounded(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
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
    use crate::destination::trust::Trust;

    #[test]
    fn userinfo_and_query_are_cut_from_urls_in_messages() {
        assert_eq!(
            strip_userinfo("https://x:hunter2@splunk:8089/services/receivers/simple?host=a"),
            "https://splunk:8089/services/receivers/simple"
        );
    }

    #[test]
    fn a_refused_connection_is_told_apart_from_an_unreachable_host() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(io_kind(&refused), TransportKind::Refused);
        let unreachable = io::Error::from(io::ErrorKind::HostUnreachable);
        assert_eq!(io_kind(&unreachable), TransportKind::Connect);
    }

    #[test]
    fn quoted_server_text_cannot_break_a_log_line() {
        assert_eq!(quoted("Incorrect index"), "\"Incorrect index\"");
        assert_eq!(quoted("a\nb\r\tc"), "\"a b  c\"");
        assert!(quoted(&"x".repeat(1000)).len() < MAX_MESSAGE + 8);
    }

    #[test]
    fn redactor_replaces_every_secret() {
        let token = Secret::new("tok-123");
        let redactor = Redactor::new(&[&token, &Secret::new("")]);
        assert_eq!(
            redactor.redact("a tok-123 b tok-123"),
            "a <redacted> b <redacted>"
        );
    }

    #[test]
    fn a_missing_ca_file_is_a_setup_error_naming_the_file() {
        let tls = Tls {
            trust: Trust::CaFile("/nonexistent/ca.pem".into()),
            ..Tls::default()
        };
        let err = HttpClient::new(&tls, &Timeouts::default(), &Proxy::Direct).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::http::HttpClient;
        use crate::destination::proxy::Proxy;
        use crate::destination::{Timeouts, Tls};
        use std::time::Duration;

        let client =
            HttpClient::new(&Tls::default(), &Timeouts::default(), &Proxy::Direct).unwrap();
        assert!(!client.verification_disabled());
        assert_eq!(client.path_to("https://splunk:8088/"), "direct");
        assert_eq!(Timeouts::default().response, Duration::from_secs(30));
        let insecure = Tls {
            verify: false,
            ..Tls::default()
        };
        let client = HttpClient::new(&insecure, &Timeouts::default(), &Proxy::Direct).unwrap();
        assert!(client.verification_disabled());
    }
}
