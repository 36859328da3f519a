//! The config file as written: one serde struct per section, every key optional and spanned,
//! unknown keys refused, and the shapes a value may take (a duration, a size, a syslog code,
//! a mode). Nothing here checks meaning; `validate` turns these into
//! [`Config`](super::Config) and reports every problem with the key's place in the file. Each
//! destination kind has its own struct in its folder (`destination/<kind>/config.rs`).

use serde::Deserialize;
use toml::Spanned;

/// A spanned value: where it was written, for errors.
pub(crate) type S<T> = Spanned<T>;

/// `[sensor]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sensor {
    pub(crate) name: Option<S<String>>,
    pub(crate) ip: Option<S<String>>,
    pub(crate) heartbeat_timeout: Option<S<Text>>,
}

/// A syslog facility or level: a number or a name.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Level {
    /// A code.
    Code(i64),
    /// A name.
    Name(String),
}

/// A size: a number of bytes or a text such as `"64 MiB"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Size {
    /// Bytes.
    Bytes(i64),
    /// With a unit.
    Text(String),
}

/// A duration (`"30s"`) or a text that must be one; a number is refused by `validate` with a
/// message saying to add the unit.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Text {
    /// A bare number (refused: which unit?).
    Number(i64),
    /// The text.
    Text(String),
}

/// `"all"` or a list of names.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum AllOr {
    /// A single word, which must be `all`.
    Word(String),
    /// Names (not spanned: serde's untagged enums cannot carry spans).
    List(Vec<String>),
}

/// `[[rule]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rule {
    pub(crate) name: Option<S<String>>,
    pub(crate) min_severity: Option<S<String>>,
    pub(crate) protocols: Option<S<AllOr>>,
    pub(crate) engines: Option<S<AllOr>>,
    pub(crate) alerts: Option<S<bool>>,
    pub(crate) system_notifications: Option<S<bool>>,
    pub(crate) health: Option<S<bool>>,
    pub(crate) actions: Option<S<Vec<S<String>>>>,
}

/// `[[exclusion]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Exclusion {
    pub(crate) name: Option<S<String>>,
    pub(crate) addresses: Option<S<Vec<S<String>>>>,
    pub(crate) titles: Option<S<Vec<S<String>>>>,
    pub(crate) sensors: Option<S<Vec<S<String>>>>,
    pub(crate) start: Option<S<toml::value::Datetime>>,
    pub(crate) end: Option<S<toml::value::Datetime>>,
}

/// `[spool]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Spool {
    pub(crate) dir: Option<S<String>>,
    pub(crate) max_bytes: Option<S<Size>>,
    pub(crate) segment_bytes: Option<S<Size>>,
    pub(crate) on_full: Option<S<String>>,
    pub(crate) commit_window: Option<S<Text>>,
}

/// `[ingest]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ingest {
    pub(crate) socket: Option<S<String>>,
    pub(crate) socket_mode: Option<S<Mode>>,
    pub(crate) tcp: Option<S<String>>,
    pub(crate) max_line_bytes: Option<S<Size>>,
}

/// A file mode: `0o660` (a TOML integer) or `"0660"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Mode {
    /// As an integer.
    Number(i64),
    /// As octal text.
    Text(String),
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Log {
    pub(crate) level: Option<S<String>>,
    pub(crate) format: Option<S<String>>,
}

/// `[health]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Health {
    pub(crate) interval: Option<S<Text>>,
    pub(crate) heartbeat_interval: Option<S<Text>>,
}

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Metrics {
    pub(crate) listen: Option<S<String>>,
    pub(crate) socket_mode: Option<S<Mode>>,
}
