//! The config file as written: one serde struct per section, every key optional and spanned,
//! unknown keys refused. Nothing here checks meaning; `validate` turns these into
//! [`Config`](super::Config) and reports every problem with the key's place in the file.

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

/// `[[destination]]`: the keys of every kind; `validate` refuses those that do not belong to
/// the destination's kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Destination {
    pub(crate) name: Option<S<String>>,
    pub(crate) kind: Option<S<String>>,
    // splunk + syslog
    pub(crate) host: Option<S<String>>,
    pub(crate) port: Option<S<i64>>,
    // splunk
    pub(crate) scheme: Option<S<String>>,
    pub(crate) auth: Option<S<String>>,
    pub(crate) username: Option<S<String>>,
    pub(crate) password: Option<S<String>>,
    pub(crate) password_file: Option<S<String>>,
    pub(crate) password_env: Option<S<String>>,
    // splunk + hec
    pub(crate) token: Option<S<String>>,
    pub(crate) token_file: Option<S<String>>,
    pub(crate) token_env: Option<S<String>>,
    pub(crate) index: Option<S<String>>,
    pub(crate) source: Option<S<String>>,
    pub(crate) sourcetype: Option<S<String>>,
    // hec
    pub(crate) urls: Option<S<Vec<S<String>>>>,
    pub(crate) ack: Option<S<bool>>,
    pub(crate) ack_deadline: Option<S<Text>>,
    pub(crate) batch_max_events: Option<S<i64>>,
    pub(crate) batch_max_bytes: Option<S<Size>>,
    pub(crate) batch_linger: Option<S<Text>>,
    pub(crate) gzip: Option<S<bool>>,
    pub(crate) event_host: Option<S<String>>,
    pub(crate) channel: Option<S<String>>,
    // syslog
    pub(crate) transport: Option<S<String>>,
    pub(crate) payload: Option<S<String>>,
    pub(crate) facility: Option<S<Level>>,
    pub(crate) level: Option<S<Level>>,
    pub(crate) level_map: Option<S<LevelMap>>,
    pub(crate) confirm: Option<S<String>>,
    // TLS (splunk, hec, syslog over tls)
    pub(crate) verify: Option<S<bool>>,
    pub(crate) ca_file: Option<S<String>>,
    pub(crate) client_cert: Option<S<String>>,
    pub(crate) client_key: Option<S<String>>,
    // every kind
    pub(crate) connect_timeout: Option<S<Text>>,
    pub(crate) tls_timeout: Option<S<Text>>,
    pub(crate) response_timeout: Option<S<Text>>,
    pub(crate) retry_min: Option<S<Text>>,
    pub(crate) retry_max: Option<S<Text>>,
}

/// `level_map = { warning = .., minor = .., major = .., critical = .. }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LevelMap {
    pub(crate) warning: Option<S<Level>>,
    pub(crate) minor: Option<S<Level>>,
    pub(crate) major: Option<S<Level>>,
    pub(crate) critical: Option<S<Level>>,
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

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Metrics {
    pub(crate) listen: Option<S<String>>,
    pub(crate) socket_mode: Option<S<Mode>>,
}
