//! The configuration file (TOML, by default `/etc/icsfwd/icsfwd.toml`): read, checked, and
//! turned into the values the service runs on.
//!
//! Three stages: the file is parsed into raw serde structs that only know the keys (unknown
//! keys refused), then every value is checked and the [`Config`] built — including the core
//! [`RuleSet`] the ingest thread routes with. `document.rs` reads the whole file and assembles
//! it; `validate.rs` holds the checks every section uses and the generic sections
//! (`[sensor]`, `[spool]`, `[ingest]`, `[log]`, `[metrics]`), `table.rs` the deserializing of
//! a table with its spans, `rules.rs` the `[[rule]]` and `[[exclusion]]` tables. A `[[destination]]` is read by its kind: `kind` first, then that
//! kind's own serde struct and validation in its folder (`destination/<kind>/config.rs`),
//! then the keys every kind shares (`destination/config.rs`). Dependencies run one way:
//! `document.rs` uses the kinds, the kinds use `validate.rs`, `table.rs` and `raw.rs`, which
//! use neither.
//!
//! The sections mirror an OT sensor's forwarding-rule form: `[sensor]`, `[[destination]]`
//! (kind `splunk`, `hec` or `syslog`), `[[rule]]`, `[[exclusion]]`, `[spool]`, `[ingest]`,
//! `[log]`; every key is described in `docs/configuration.md`, and `etc/icsfwd.example.toml`
//! is a commented example.
//!
//! Guarantees:
//!
//! - Every problem found is reported, not just the first: TOML syntax errors (all of them),
//!   then per section or array element the first unknown key or wrongly typed value, then
//!   every value that does not make sense. Each [`Problem`] names the file, the line and
//!   column, the key path (`destination[2].port`, counting array elements from 0) and the fix.
//! - Secrets (`Secret`) are never printed: not by `Debug` of
//!   any type here, not in a [`Problem`]. An inline secret is refused when the config file is
//!   readable by group or others; a secret file must not be (see
//!   `secret`).
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
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

pub use icsfwd_core::destination::MAX_DESTINATIONS;
use icsfwd_core::rule::{self, RuleSet};

mod document;
mod health;
pub(crate) mod raw;
mod rules;
pub(crate) mod table;
pub(crate) mod validate;

use crate::destination::Destination;
pub use crate::spool::OnFull;

/// Where the service and `check-config` look by default.
pub const DEFAULT_PATH: &str = "/etc/icsfwd/icsfwd.toml";
/// Largest config file read, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// Longest destination name; names become file names (cursors), so they are short and plain.
pub use crate::destination::MAX_NAME as MAX_DESTINATION_NAME;

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
    /// `[health]`: the forwarder's health reports and forwarded heartbeats.
    pub health: Health,
}

/// `[health]`: what the forwarder tells Splunk about itself and its sensors
/// ([`crate::health`]). Health reports go only where a rule has `health = true`, forwarded
/// heartbeats only where a rule has `system_notifications = true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// How often a health report is made per destination; `None` (`interval = "off"`): never.
    /// Default 60 s.
    pub interval: Option<Duration>,
    /// Each sensor's heartbeat is forwarded at most once per this; `None` (the default):
    /// heartbeats are not forwarded.
    pub heartbeat_interval: Option<Duration>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            interval: Some(DEFAULT_HEALTH_INTERVAL),
            heartbeat_interval: None,
        }
    }
}

/// The default `[health] interval`.
pub(crate) const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(60);

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
    /// How long the spool's writer may hold a batch open for more alerts to share its fsync
    /// (the commit window, `docs/spool.md`). Default 5 ms; 0 turns it off.
    pub commit_window: Duration,
}

/// `[metrics]`: where the metrics endpoint (`crate::metrics`) listens.
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
        document::config(text, origin, env)
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
            d.warnings(&mut out);
        }
        out
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

/// The rule set the service routes with, shared by the ingest server and the notifier and
/// replaced whole by a reload (`crate::service`): every route uses one rule set, the one in
/// place when it starts; the next event after a reload uses the new one.
#[derive(Debug, Clone)]
pub struct SharedRules(Arc<RwLock<Arc<RuleSet>>>);

impl SharedRules {
    /// Shares `rules`.
    #[must_use]
    pub fn new(rules: Box<RuleSet>) -> SharedRules {
        SharedRules(Arc::new(RwLock::new(Arc::from(rules))))
    }

    /// The rule set in place now.
    #[must_use]
    pub fn current(&self) -> Arc<RuleSet> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `rules` in place for every route that starts from now on.
    pub fn replace(&self, rules: Box<RuleSet>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::from(rules);
    }
}

impl From<Box<RuleSet>> for SharedRules {
    fn from(rules: Box<RuleSet>) -> SharedRules {
        SharedRules::new(rules)
    }
}

/// The rule capacities the validated configuration is held to (those of the core's default
/// [`RuleSet`]).
pub const MAX_RULES: usize = rule::MAX_RULES;
/// See [`MAX_RULES`].
pub const MAX_EXCLUSIONS: usize = rule::MAX_EXCLUSIONS;
