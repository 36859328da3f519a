//! The configuration file (TOML, by default `/etc/icsfwd/icsfwd.toml`): read, checked, and
//! turned into the values the service runs on.
//!
//! Three stages, each in one place: the file is parsed into raw serde structs that only know
//! the keys (`raw`, unknown keys refused), then `validate` checks every value and builds the
//! [`Config`] — including the core [`RuleSet`] the ingest thread routes with and, per
//! destination, the core [`format::Options`] its worker renders with. The sections mirror an
//! OT sensor's forwarding-rule form: `[sensor]`, `[[destination]]` (kind `splunk`, `hec` or
//! `syslog`), `[[rule]]`, `[[exclusion]]`, `[spool]`, `[ingest]`, `[log]`; every key is
//! described in `docs/configuration.md`, and `etc/icsfwd.example.toml` is a commented example.
//!
//! Guarantees:
//!
//! - Every problem found is reported, not just the first: TOML syntax errors (all of them),
//!   then per section or array element the first unknown key or wrongly typed value, then
//!   every value that does not make sense. Each [`Problem`] names the file, the line and
//!   column, the key path (`destination[2].port`, counting array elements from 0) and the fix.
//! - Secrets ([`Secret`]) are never printed: not by `Debug` of any type here, not in a
//!   [`Problem`]. An inline secret is refused when the config file is readable by group or
//!   others; a secret file must not be (see [`secret`]).
//! - Input is bounded: the file ([`MAX_CONFIG_BYTES`]), every list (the core capacities:
//!   [`MAX_DESTINATIONS`], [`rule::MAX_RULES`], [`rule::MAX_EXCLUSIONS`]), every name.
//! - TLS verification is on unless a destination says `verify = false`; that, and plain
//!   `http`, are listed by [`Config::warnings`] for the service to log at every start.
//!
//! Exit codes of `icsfwd check-config` (see [`LoadError::exit_code`]): 0 valid,
//! [`EXIT_INVALID`] (2) invalid, [`EXIT_UNREADABLE`] (3) file unreadable, [`EXIT_USAGE`] (64)
//! usage.
//!
//! ```
//! use icsfwd::config::{Config, Origin};
//!
//! let text = r#"
//! [sensor]
//! name = "sensor-plant-a"
//! ip = "10.20.0.5"
//!
//! [[destination]]
//! name = "soc-hec"
//! kind = "hec"
//! urls = ["https://splunk.example:8088"]
//! token_env = "ICSFWD_HEC_TOKEN"
//!
//! [[rule]]
//! name = "major-and-up"
//! min_severity = "major"
//! actions = ["soc-hec"]
//! "#;
//! let origin = Origin { path: "icsfwd.toml".into(), mode: 0o600 };
//! let env = |name: &str| (name == "ICSFWD_HEC_TOKEN").then(|| "0000-1111".to_owned());
//! let config = Config::parse(text, &origin, &env).unwrap();
//! assert_eq!(config.destinations[0].name, "soc-hec");
//! assert_eq!(config.rules.rules().len(), 1);
//! // The token is there, but never printed.
//! assert!(!format!("{config:?}").contains("0000-1111"));
//!
//! // A misspelt key is named with its place in the file (line 17, after the text above).
//! let bad = format!("{text}[spool]\nmax_byte = 5\n");
//! let err = Config::parse(&bad, &origin, &env).unwrap_err();
//! assert_eq!(err.len(), 1);
//! assert!(err.to_string().starts_with("icsfwd.toml:17:1: spool.max_byte: unknown key"));
//! ```

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use icsfwd_core::destination::DestinationId;
pub use icsfwd_core::destination::MAX_DESTINATIONS;
use icsfwd_core::format::{self, Kind, syslog};
use icsfwd_core::rule::{self, RuleSet};

mod raw;
pub mod secret;
mod validate;

pub use secret::Secret;

/// Where the service and `check-config` look by default.
pub const DEFAULT_PATH: &str = "/etc/icsfwd/icsfwd.toml";
/// Largest config file read, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// Longest destination name; names become file names (cursors), so they are short and plain.
pub const MAX_DESTINATION_NAME: usize = 64;

/// Exit code of `check-config` for an invalid configuration.
pub const EXIT_INVALID: u8 = 2;
/// Exit code of `check-config` when the file cannot be read.
pub const EXIT_UNREADABLE: u8 = 3;
/// Exit code of `check-config` for a command-line usage error (sysexits `EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;

/// The file a configuration text came from: its path (shown in errors) and its permission
/// bits (an inline secret needs a file closed to group and others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The path, as shown in errors.
    pub path: PathBuf,
    /// The permission bits (`st_mode & 0o7777`).
    pub mode: u32,
}

/// A validated configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// `[sensor]`.
    pub sensor: Sensor,
    /// `[[destination]]`, in file order; `destinations[i].id` is `DestinationId` `i`.
    pub destinations: Vec<Destination>,
    /// `[[rule]]` and `[[exclusion]]`, as the core rule set (boxed: it is tens of KiB).
    pub rules: Box<RuleSet>,
    /// `[spool]`.
    pub spool: Spool,
    /// `[ingest]`.
    pub ingest: Ingest,
    /// `[log]`.
    pub log: Log,
    /// `[metrics]`: the Prometheus / OpenMetrics endpoint; `None` (no section): off.
    pub metrics: Option<Metrics>,
}

/// `[sensor]`: the sensor this forwarder serves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sensor {
    /// Its name (required; at most `icsfwd_core::alert::MAX_SENSOR_NAME` bytes). Default
    /// sourcetype of `splunk` destinations.
    pub name: String,
    /// Its management IP address (required); the `host` of `splunk` requests.
    pub ip: IpAddr,
    /// After how long without a heartbeat the sensor is reported offline. Default 300 s.
    pub heartbeat_timeout: Duration,
}

/// One `[[destination]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Destination {
    /// Its id in the core's destination sets: its position in the file.
    pub id: DestinationId,
    /// Its unique name: letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// What it is and how to reach it.
    pub kind: DestinationKind,
    /// TLS settings (`splunk` and `hec` over https, `syslog` over tls).
    pub tls: Tls,
    /// Network timeouts.
    pub timeouts: Timeouts,
    /// Delay between retries.
    pub retry: Retry,
}

/// The kind of a destination, with its kind-specific settings.
#[expect(
    clippy::large_enum_variant,
    reason = "a handful of destinations, built once: boxing would only add indirection"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestinationKind {
    /// splunkd's REST receiver (`receivers/simple`, port 8089).
    Splunk(Splunk),
    /// The HTTP Event Collector (port 8088).
    Hec(Hec),
    /// A syslog receiver (RFC 5424).
    Syslog(Syslog),
}

impl DestinationKind {
    /// `splunk`, `hec` or `syslog`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            DestinationKind::Splunk(_) => "splunk",
            DestinationKind::Hec(_) => "hec",
            DestinationKind::Syslog(_) => "syslog",
        }
    }
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// TLS (the default).
    Https,
    /// Plain text: only for tests and the emulator; listed by [`Config::warnings`].
    Http,
}

impl Scheme {
    /// `https` or `http`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// A `splunk` destination: `POST <scheme>://host:port/services/receivers/simple`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Splunk {
    /// `https` (default) or `http`.
    pub scheme: Scheme,
    /// The splunkd host name or address.
    pub host: String,
    /// The management port, default 8089.
    pub port: u16,
    /// How to authenticate.
    pub auth: SplunkAuth,
    /// The `index` parameter; `None` leaves it out (the server's default index).
    pub index: Option<String>,
    /// The `source` parameter, default `icsfwd`.
    pub source: String,
    /// The `sourcetype` parameter, default the sensor name.
    pub sourcetype: String,
}

/// How a `splunk` destination authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SplunkAuth {
    /// HTTP Basic with every request (`auth = "basic"`, the default with a username).
    Basic {
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
    /// A session key from `/services/auth/login`, renewed on 401 (`auth = "session"`).
    Session {
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `Authorization: Bearer <token>` (`auth = "bearer"`, the default with a token).
    Bearer {
        /// The token.
        token: Secret,
    },
}

/// An HEC endpoint: `<scheme>://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HecUrl {
    /// `https` or `http`.
    pub scheme: Scheme,
    /// Host name or address (an IPv6 address without brackets).
    pub host: String,
    /// Port, default 8088.
    pub port: u16,
}

impl fmt::Display for HecUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(
                f,
                "{}://[{}]:{}",
                self.scheme.as_str(),
                self.host,
                self.port
            )
        } else {
            write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
        }
    }
}

/// An `hec` destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hec {
    /// One or more collectors (an indexer cluster): load spread over them, failover.
    pub urls: Vec<HecUrl>,
    /// The HEC token.
    pub token: Secret,
    /// Whether to use indexer acknowledgement. Default false.
    pub ack: bool,
    /// How long to wait for an ack before resending. Default 300 s.
    pub ack_deadline: Duration,
    /// Batching.
    pub batch: Batch,
    /// Whether to gzip request bodies. Default false.
    pub gzip: bool,
    /// The channel GUID; `None`: generate one per start.
    pub channel: Option<String>,
    /// The envelope's `host`, `source`, `sourcetype` and `index`.
    pub envelope: format::hec::Options,
}

/// HEC batching limits: a batch is sent when any is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Events per request. Default 500.
    pub max_events: usize,
    /// Body bytes per request (before gzip). Default 1,000,000.
    pub max_bytes: usize,
    /// How long the first event of a batch may wait. Default 50 ms.
    pub linger: Duration,
}

/// The syslog transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP with RFC 6587 octet counting (default port 514).
    Tcp,
    /// TLS, RFC 5425 (default port 6514).
    Tls,
    /// UDP (default port 514).
    Udp,
    /// RELP over TCP: every message answered by the receiver (default port 2514).
    Relp,
    /// RELP over TLS (default port 2514).
    RelpTls,
}

impl Transport {
    /// `tcp`, `tls`, `udp`, `relp` or `relp-tls`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Udp => "udp",
            Transport::Relp => "relp",
            Transport::RelpTls => "relp-tls",
        }
    }

    /// Whether it runs over TLS (`tls`, `relp-tls`): the TLS keys apply.
    pub const fn uses_tls(self) -> bool {
        matches!(self, Transport::Tls | Transport::RelpTls)
    }

    /// Whether it is RELP (`relp`, `relp-tls`): each message is answered.
    pub const fn is_relp(self) -> bool {
        matches!(self, Transport::Relp | Transport::RelpTls)
    }
}

/// When a record sent to a syslog receiver over TCP or TLS counts as delivered (key
/// `confirm`). Syslog has no application acknowledgement; see `docs/configuration.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Confirm {
    /// Once the receiver's TCP acknowledged every byte of it and the connection then stayed
    /// open for the settle time: a connection that breaks before re-sends what it left
    /// unconfirmed (counted as possible duplicates). At least once. The default.
    #[default]
    TcpAck,
    /// Once written to the socket (the kernel took it): a connection that breaks may lose
    /// what the receiver had not read, counted as possible loss, never re-sent.
    Write,
}

impl Confirm {
    /// `tcp-ack` or `write`, as written in the file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Confirm::TcpAck => "tcp-ack",
            Confirm::Write => "write",
        }
    }
}

/// A `syslog` destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Syslog {
    /// The receiver's host name or address.
    pub host: String,
    /// Its port: default 514, 6514 for TLS, 2514 for RELP.
    pub port: u16,
    /// TCP (default), TLS, UDP, RELP or RELP over TLS.
    pub transport: Transport,
    /// When a record counts as delivered over TCP or TLS (UDP has no confirmation: the key is
    /// refused there and this is left at its default, unused).
    pub confirm: Confirm,
    /// How messages are built: payload, facility, level.
    pub options: syslog::Options,
}

/// TLS settings of a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tls {
    /// Whether the server's certificate is verified. Default true; false only when written.
    pub verify: bool,
    /// Extra CA certificates (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    /// A client certificate and its key (PEM).
    pub client: Option<ClientCert>,
}

/// A client certificate (PEM) and its private key (PEM; not readable by group or others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// Network timeouts of a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect. Default 10 s.
    pub connect: Duration,
    /// TLS handshake. Default 10 s.
    pub tls: Duration,
    /// From request sent to response read. Default 30 s.
    pub response: Duration,
}

/// Retry backoff of a destination: exponential from `min` to `max` (jitter added by the
/// worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// First delay. Default 1 s.
    pub min: Duration,
    /// Longest delay. Default 300 s.
    pub max: Duration,
}

/// What the spool does when full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OnFull {
    /// Tell the producer "spool full, retry" (default; nothing is dropped).
    Refuse,
    /// Admit a new alert by evicting the oldest queued alert of strictly lower severity.
    EvictLowerSeverity,
}

/// `[spool]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Spool {
    /// Its directory (absolute). Default `/var/lib/icsfwd/spool`.
    pub dir: PathBuf,
    /// Upper bound of all segments together. Default 1 GiB.
    pub max_bytes: u64,
    /// Size at which a segment is closed and a new one started. Default 16 MiB.
    pub segment_bytes: u64,
    /// What to do when full.
    pub on_full: OnFull,
}

/// `[metrics]`: where the metrics endpoint ([`crate::metrics`]) listens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Default `127.0.0.1:9464`.
    pub listen: MetricsListen,
}

/// Where the metrics endpoint listens: never a non-loopback address (it has neither TLS nor
/// authentication).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsListen {
    /// A loopback address (port 0: any free port).
    Tcp(SocketAddr),
    /// A Unix socket (`listen = "unix:/path"`), created with `mode`.
    Unix {
        /// The socket path (absolute).
        path: PathBuf,
        /// Its permission bits (`socket_mode`, default `0o660`).
        mode: u32,
    },
}

/// `[ingest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ingest {
    /// The Unix socket (absolute). Default `/run/icsfwd/ingest.sock`.
    pub socket: PathBuf,
    /// Its permission bits. Default `0o660`.
    pub socket_mode: u32,
    /// An optional TCP listener, on a loopback address only (port 0: any free port).
    pub tcp: Option<SocketAddr>,
    /// Longest JSON line accepted. Default 64 KiB.
    pub max_line_bytes: usize,
}

/// A log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// And warnings.
    Warn,
    /// And what the service does (default).
    Info,
    /// And details.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Log {
    /// The level. Default info.
    pub level: LogLevel,
    /// How each line is written. Default [`LogFormat::Journald`].
    pub format: LogFormat,
}

/// How the log writes a record (`[log] format`); `crate::logging` has both forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogFormat {
    /// `<P>icsfwd[module]: message`, the syslog priority prefix journald reads (default).
    #[default]
    Journald,
    /// One JSON object per line: time, level, target, message and the structured fields.
    Json,
}

impl LogFormat {
    /// `journald` or `json`, as written in the configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogFormat::Journald => "journald",
            LogFormat::Json => "json",
        }
    }
}

impl Config {
    /// Reads and validates the file at `path`, taking `*_env` secrets from the process
    /// environment.
    pub fn load(path: &Path) -> Result<Config, LoadError> {
        Config::load_with_env(path, &|name| std::env::var(name).ok())
    }

    /// Reads and validates the file at `path`, taking `*_env` secrets from `env`.
    pub fn load_with_env(
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, LoadError> {
        let unreadable = |source| LoadError::Unreadable {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if !meta.is_file() {
            return Err(unreadable(io::Error::other("not a regular file")));
        }
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(unreadable(io::Error::other(format!(
                "larger than {MAX_CONFIG_BYTES} bytes"
            ))));
        }
        let bytes = std::fs::read(path).map_err(unreadable)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| unreadable(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8")))?;
        let origin = Origin {
            path: path.to_owned(),
            mode: meta.permissions().mode() & 0o7777,
        };
        Config::parse(&text, &origin, env).map_err(LoadError::Invalid)
    }

    /// Validates `text`, read from `origin`, taking `*_env` secrets from `env`. Secret files,
    /// CA files and client certificates named in it are read from the file system.
    pub fn parse(
        text: &str,
        origin: &Origin,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, Problems> {
        validate::config(text, origin, env)
    }

    /// The destination named `name`.
    pub fn destination(&self, name: &str) -> Option<&Destination> {
        self.destinations.iter().find(|d| d.name == name)
    }

    /// What the service must warn about at every start: TLS verification turned off, plain
    /// `http`, plain-text syslog. Empty when nothing is weakened.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for d in &self.destinations {
            let tls_used = match &d.kind {
                DestinationKind::Splunk(s) => {
                    if s.scheme == Scheme::Http {
                        out.push(format!(
                            "destination {:?}: plain http: the credentials and alerts cross the \
                             network unencrypted",
                            d.name
                        ));
                    }
                    s.scheme == Scheme::Https
                }
                DestinationKind::Hec(h) => {
                    for url in h.urls.iter().filter(|u| u.scheme == Scheme::Http) {
                        out.push(format!(
                            "destination {:?}: plain http to {url}: the token and alerts cross \
                             the network unencrypted",
                            d.name
                        ));
                    }
                    h.urls.iter().any(|u| u.scheme == Scheme::Https)
                }
                DestinationKind::Syslog(s) => {
                    if !s.transport.uses_tls() {
                        out.push(format!(
                            "destination {:?}: syslog over {}: alerts cross the network \
                             unencrypted",
                            d.name,
                            s.transport.as_str()
                        ));
                    }
                    s.transport.uses_tls()
                }
            };
            if tls_used && !d.tls.verify {
                out.push(format!(
                    "destination {:?}: TLS certificate verification is OFF (verify = false): \
                     anyone on the path can impersonate the receiver",
                    d.name
                ));
            }
        }
        out
    }
}

impl Destination {
    /// The core format this destination's events are rendered in (for `syslog`, the payload
    /// inside the RFC 5424 header).
    pub fn format(&self) -> Kind {
        match &self.kind {
            DestinationKind::Splunk(_) => Kind::Text,
            DestinationKind::Hec(_) => Kind::Hec,
            DestinationKind::Syslog(s) => match s.options.payload {
                syslog::Payload::Text(_) => Kind::Text,
                syslog::Payload::Cef(_) => Kind::Cef,
                syslog::Payload::Leef(_) => Kind::Leef,
            },
        }
    }

    /// The core format options this destination renders with (the HEC envelope's fields for
    /// `hec`, the defaults otherwise).
    pub fn format_options(&self) -> format::Options {
        let mut options = format::Options::default();
        if let DestinationKind::Hec(h) = &self.kind {
            options.hec = h.envelope.clone();
        }
        options
    }

    /// The syslog message options, for a `syslog` destination.
    pub fn syslog_options(&self) -> Option<&syslog::Options> {
        match &self.kind {
            DestinationKind::Syslog(s) => Some(&s.options),
            _ => None,
        }
    }
}

/// One thing wrong with a configuration, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The config file.
    pub file: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// The key path, e.g. `destination[2].port`; empty for the document itself.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        write!(f, "{}\n    fix: {}", self.message, self.fix)
    }
}

impl std::error::Error for Problem {}

/// Every problem found in a configuration, in file order (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// The problems, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false (kept for the `len` convention).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Problems {
    type Item = &'a Problem;
    type IntoIter = std::slice::Iter<'a, Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Why [`Config::load`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read (missing, not a file, too large, not UTF-8, permissions).
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file was read and is not a valid configuration.
    Invalid(Problems),
}

impl LoadError {
    /// The documented `check-config` exit code: [`EXIT_UNREADABLE`] or [`EXIT_INVALID`].
    pub fn exit_code(&self) -> u8 {
        match self {
            LoadError::Unreadable { .. } => EXIT_UNREADABLE,
            LoadError::Invalid(_) => EXIT_INVALID,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Unreadable { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())?;
                if source.kind() == io::ErrorKind::NotFound {
                    // A newcomer who ran a command without -c lands here first.
                    write!(
                        f,
                        "; pass -c FILE to use another configuration, or create {} (start from \
                         etc/icsfwd.example.toml; docs/configuration.md)",
                        path.display()
                    )?;
                }
                Ok(())
            }
            LoadError::Invalid(problems) => write!(f, "{problems}"),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Unreadable { source, .. } => Some(source),
            LoadError::Invalid(p) => Some(p),
        }
    }
}

/// The rule capacities the validated configuration is held to (those of the core's default
/// [`RuleSet`]).
pub const MAX_RULES: usize = rule::MAX_RULES;
/// See [`MAX_RULES`].
pub const MAX_EXCLUSIONS: usize = rule::MAX_EXCLUSIONS;
