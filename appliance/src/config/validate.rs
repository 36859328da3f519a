//! The checks every section uses, and the generic sections: each problem with its place and
//! its fix.
//!
//! - [`Ctx`] collects problems against one config text, each with its line and column
//!   (deserializing a table with its spans is `table.rs`).
//! - Values: texts, ports, durations, sizes, paths, and secrets (from a file, a variable or
//!   inline).
//! - The sections that are not destinations: `[sensor]`, `[spool]`, `[ingest]`, `[log]`,
//!   `[metrics]` (`[[rule]]` and `[[exclusion]]` are in `rules.rs`; each destination kind
//!   reads its own keys, `destination/<kind>/config.rs`).
//!
//! The helpers sit below both the whole-file assembly (`document.rs`) and the destination
//! kinds, which use them; they use neither.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{self, S};
use super::{
    Ingest, Log, LogFormat, LogLevel, Metrics, MetricsListen, OnFull, Origin, Problem, Sensor,
    Spool,
};
use crate::destination::secret::{self, Secret};
use icsfwd_core::alert;

const DEFAULT_SPOOL_DIR: &str = "/var/lib/icsfwd/spool";
/// `[spool] commit_window` by default: chosen by measurement (docs/BENCHMARKS.md, steady runs).
const DEFAULT_COMMIT_WINDOW: Duration = Duration::from_millis(5);
const DEFAULT_SOCKET: &str = "/run/icsfwd/ingest.sock";
const KIB: u64 = 1024;
/// A mebibyte.
pub(crate) const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Collects problems against one config text.
pub(crate) struct Ctx<'a> {
    /// The text.
    pub(crate) text: &'a str,
    /// Where it came from.
    pub(crate) origin: &'a Origin,
    /// Where `*_env` secrets are read.
    pub(crate) env: &'a dyn Fn(&str) -> Option<String>,
    /// The problems found, with their offset in the text.
    pub(crate) problems: Vec<(usize, Problem)>,
    /// Keys already reported as wrong and taken out (full paths), not to be called missing.
    pub(crate) removed: HashSet<String>,
}

impl<'a> Ctx<'a> {
    /// A context with no problem yet.
    pub(crate) fn new(
        text: &'a str,
        origin: &'a Origin,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Self {
        Ctx {
            text,
            origin,
            env,
            problems: Vec::new(),
            removed: HashSet::new(),
        }
    }

    /// Reports a problem at `span` about `key`.
    pub(crate) fn report(&mut self, span: Range<usize>, key: &str, message: String, fix: String) {
        let offset = span.start.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        self.problems.push((
            offset,
            Problem {
                file: self.origin.path.clone(),
                line,
                column,
                key: key.to_owned(),
                message,
                fix,
            },
        ));
    }

    /// A path named in the config: relative paths are relative to the config file's directory.
    pub(crate) fn resolve(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            return path.to_owned();
        }
        match self.origin.path.parent() {
            Some(dir) => dir.join(path),
            None => path.to_owned(),
        }
    }
}

/// The key path `prefix.name`.
pub(crate) fn key(prefix: &str, name: &str) -> String {
    format!("{prefix}.{name}")
}

// ---- scalar helpers -------------------------------------------------------------------------

/// A text value without control characters, at most `max` bytes, not blank.
pub(crate) fn text(ctx: &mut Ctx<'_>, v: &S<String>, key: &str, max: usize) -> Option<String> {
    let value = v.get_ref().trim();
    if value.is_empty() {
        ctx.report(
            v.span(),
            key,
            "is empty".to_owned(),
            "write a value, or remove the key to use the default".to_owned(),
        );
        return None;
    }
    if value.len() > max {
        ctx.report(
            v.span(),
            key,
            format!("is {} bytes long (at most {max})", value.len()),
            format!("shorten it to {max} bytes"),
        );
        return None;
    }
    if value.chars().any(char::is_control) {
        ctx.report(
            v.span(),
            key,
            "contains a control character".to_owned(),
            "remove the control character (tab, line break, escape)".to_owned(),
        );
        return None;
    }
    Some(value.to_owned())
}

pub(crate) fn required<'r, T>(
    ctx: &mut Ctx<'_>,
    v: &'r Option<S<T>>,
    owner: &Range<usize>,
    key: &str,
    fix: &str,
) -> Option<&'r S<T>> {
    if v.is_none() && !ctx.removed.contains(key) {
        ctx.report(owner.clone(), key, "is missing".to_owned(), fix.to_owned());
    }
    v.as_ref()
}

pub(crate) fn port(ctx: &mut Ctx<'_>, v: &Option<S<i64>>, key: &str, default: u16) -> Option<u16> {
    let Some(v) = v else {
        return Some(default);
    };
    match u16::try_from(*v.get_ref()) {
        Ok(p) if p > 0 => Some(p),
        _ => {
            ctx.report(
                v.span(),
                key,
                format!("{} is not a TCP/UDP port", v.get_ref()),
                format!("use a port from 1 to 65535 (default {default})"),
            );
            None
        }
    }
}

pub(crate) fn flag(v: &Option<S<bool>>, default: bool) -> bool {
    v.as_ref().map_or(default, |v| *v.get_ref())
}

/// `d` as a configuration writes it: the largest unit that divides it exactly (`"1d"`,
/// `"5m"`, `"30s"`, `"250ms"`).
pub(crate) fn duration_text(d: Duration) -> String {
    let ms = d.as_millis();
    let units = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    for (per, unit) in units {
        if ms >= per && ms.is_multiple_of(per) {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

/// Parses `"30s"`-style durations: a whole number and a unit (`ms`, `s`, `m`, `h`, `d`).
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(digits);
    let n: u64 = number.parse().ok()?;
    let ms_per = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms_per).map(Duration::from_millis)
}

pub(crate) fn duration(
    ctx: &mut Ctx<'_>,
    v: &Option<S<raw::Text>>,
    key: &str,
    default: Duration,
    range: (Duration, Duration),
) -> Option<Duration> {
    let Some(v) = v else {
        return Some(default);
    };
    let parsed = match v.get_ref() {
        raw::Text::Text(t) => parse_duration(t),
        raw::Text::Number(n) => {
            ctx.report(
                v.span(),
                key,
                format!("{n} has no unit"),
                format!("write it with a unit, such as \"{n}s\" or \"{n}ms\""),
            );
            return None;
        }
    };
    let (min, max) = range;
    match parsed {
        Some(d) if d >= min && d <= max => Some(d),
        Some(d) => {
            ctx.report(
                v.span(),
                key,
                format!("{} is out of range", duration_text(d)),
                format!(
                    "use a duration from {} to {}",
                    duration_text(min),
                    duration_text(max)
                ),
            );
            None
        }
        None => {
            ctx.report(
                v.span(),
                key,
                "is not a duration".to_owned(),
                "write a whole number and a unit: \"500ms\", \"30s\", \"5m\", \"1h\"".to_owned(),
            );
            None
        }
    }
}

/// Parses a size: bytes, or a whole number and a unit (`B`, `KB`, `MB`, `GB`, `KiB`, `MiB`,
/// `GiB`; ASCII case ignored).
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let n: u64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => KIB,
        "mib" => MIB,
        "gib" => GIB,
        _ => return None,
    };
    n.checked_mul(factor)
}

pub(crate) fn size(
    ctx: &mut Ctx<'_>,
    v: &Option<S<raw::Size>>,
    key: &str,
    default: u64,
    (min, max): (u64, u64),
) -> Option<u64> {
    let Some(v) = v else {
        return Some(default);
    };
    let parsed = match v.get_ref() {
        raw::Size::Bytes(n) => u64::try_from(*n).ok(),
        raw::Size::Text(t) => parse_size(t),
    };
    match parsed {
        Some(n) if (min..=max).contains(&n) => Some(n),
        Some(n) => {
            ctx.report(
                v.span(),
                key,
                format!("{n} bytes is out of range"),
                format!("use a size from {min} to {max} bytes"),
            );
            None
        }
        None => {
            ctx.report(
                v.span(),
                key,
                "is not a size".to_owned(),
                "write a number of bytes or a number and a unit: \"64 MiB\", \"500 KB\"".to_owned(),
            );
            None
        }
    }
}

pub(crate) fn absolute_path(
    ctx: &mut Ctx<'_>,
    v: &Option<S<String>>,
    key: &str,
    default: &str,
) -> Option<PathBuf> {
    let Some(v) = v else {
        return Some(PathBuf::from(default));
    };
    let path = PathBuf::from(v.get_ref());
    if !path.is_absolute() {
        ctx.report(
            v.span(),
            key,
            format!("{} is not an absolute path", path.display()),
            format!("write the full path, such as {default}"),
        );
        return None;
    }
    Some(path)
}

/// One secret from `<what>`, `<what>_file` or `<what>_env`; `Ok(None)` when none is set.
pub(crate) fn secret(
    ctx: &mut Ctx<'_>,
    prefix: &str,
    what: &str,
    inline: &Option<S<String>>,
    file: &Option<S<String>>,
    env: &Option<S<String>>,
) -> Result<Option<Secret>, ()> {
    let names = [
        what.to_owned(),
        format!("{what}_file"),
        format!("{what}_env"),
    ];
    if names.iter().any(|n| ctx.removed.contains(&key(prefix, n))) {
        // Already reported as a wrong type; not missing as well.
        return Err(());
    }
    let mut set: Vec<(Range<usize>, &str)> = [inline, file, env]
        .into_iter()
        .zip(&names)
        .filter_map(|(v, name)| v.as_ref().map(|v| (v.span(), name.as_str())))
        .collect();
    set.sort_by_key(|(span, _)| span.start);
    if let Some((second, name)) = set.get(1) {
        ctx.report(
            second.clone(),
            &key(prefix, name),
            format!("more than one of {what}, {what}_file, {what}_env is set"),
            format!("keep only one; {what}_file (mode 0600) is preferred"),
        );
        return Err(());
    }
    let outcome = if let Some(v) = inline {
        if !secret::is_private(ctx.origin.mode) {
            let file = ctx.origin.path.display().to_string();
            ctx.report(
                v.span(),
                &key(prefix, what),
                format!(
                    "an inline {what} in a config file readable by group or others (mode {:04o})",
                    ctx.origin.mode & 0o7777
                ),
                format!(
                    "run `chmod 600 {file}`, or move the {what} into a file named by \
                     {what}_file (mode 0600), or into an environment variable named by {what}_env"
                ),
            );
            return Err(());
        }
        (v.span(), what.to_owned(), secret::inline(v.get_ref()))
    } else if let Some(v) = file {
        let path = ctx.resolve(v.get_ref());
        (v.span(), format!("{what}_file"), secret::read_file(&path))
    } else if let Some(v) = env {
        (
            v.span(),
            format!("{what}_env"),
            secret::read_env(v.get_ref(), ctx.env),
        )
    } else {
        return Ok(None);
    };
    match outcome {
        (_, _, Ok(secret)) => Ok(Some(secret)),
        (span, name, Err(e)) => {
            ctx.report(span, &key(prefix, &name), e.message, e.fix);
            Err(())
        }
    }
}

/// The required `host` (at `prefix`, in the table at `span`): a host name or address, nothing
/// else.
pub(crate) fn host(
    ctx: &mut Ctx<'_>,
    host: &Option<S<String>>,
    span: &Range<usize>,
    prefix: &str,
) -> Option<String> {
    let k = key(prefix, "host");
    let v = required(ctx, host, span, &k, "add host = \"<name or address>\"")?;
    let host = text(ctx, v, &k, 253)?;
    if host.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') || host.contains("://") {
        ctx.report(
            v.span(),
            &k,
            format!("{host:?} is not a host name or address"),
            "write only the host, such as \"splunk.example.com\" or \"10.0.0.9\" (the port goes \
             in `port`)"
                .to_owned(),
        );
        return None;
    }
    Some(host)
}

/// An optional text value (see [`text`]); `Err` when it was reported.
pub(crate) fn optional_text(
    ctx: &mut Ctx<'_>,
    v: &Option<S<String>>,
    k: &str,
    max: usize,
) -> Result<Option<String>, ()> {
    match v {
        None => Ok(None),
        Some(v) => text(ctx, v, k, max).map(Some).ok_or(()),
    }
}

// ---- sections --------------------------------------------------------------------------------

pub(crate) fn sensor(
    ctx: &mut Ctx<'_>,
    raw: Option<(raw::Sensor, Range<usize>)>,
) -> Option<Sensor> {
    let Some((raw, span)) = raw else {
        if !ctx
            .problems
            .iter()
            .any(|(_, p)| p.key.starts_with("sensor"))
        {
            ctx.report(
                0..0,
                "sensor",
                "the [sensor] section is missing".to_owned(),
                "add [sensor] with name = \"...\" and ip = \"...\"".to_owned(),
            );
        }
        return None;
    };
    let name = required(
        ctx,
        &raw.name,
        &span,
        "sensor.name",
        "add name = \"<the sensor's name>\"",
    )
    .and_then(|v| text(ctx, v, "sensor.name", alert::MAX_SENSOR_NAME));
    let ip = required(
        ctx,
        &raw.ip,
        &span,
        "sensor.ip",
        "add ip = \"<the sensor's management address>\"",
    )
    .and_then(|v| match v.get_ref().trim().parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => {
            ctx.report(
                v.span(),
                "sensor.ip",
                format!("{:?} is not an IP address", v.get_ref()),
                "write an IPv4 or IPv6 address such as \"10.20.0.5\"".to_owned(),
            );
            None
        }
    });
    let heartbeat_timeout = duration(
        ctx,
        &raw.heartbeat_timeout,
        "sensor.heartbeat_timeout",
        Duration::from_secs(300),
        (Duration::from_secs(1), Duration::from_secs(86_400)),
    );
    Some(Sensor {
        name: name?,
        ip: ip?,
        heartbeat_timeout: heartbeat_timeout?,
    })
}

// ---- spool, ingest, log ----------------------------------------------------------------------

pub(crate) fn spool(ctx: &mut Ctx<'_>, raw: raw::Spool) -> Option<Spool> {
    let dir = absolute_path(ctx, &raw.dir, "spool.dir", DEFAULT_SPOOL_DIR);
    if let (Some(dir), Some(v)) = (&dir, &raw.dir)
        && dir.exists()
        && !dir.is_dir()
    {
        ctx.report(
            v.span(),
            "spool.dir",
            format!("{} exists and is not a directory", dir.display()),
            "name a directory (it is created at start if missing)".to_owned(),
        );
        return None;
    }
    let max_bytes = size(ctx, &raw.max_bytes, "spool.max_bytes", GIB, (MIB, 1 << 50));
    let segment_bytes = size(
        ctx,
        &raw.segment_bytes,
        "spool.segment_bytes",
        16 * MIB,
        (64 * KIB, GIB),
    );
    if let (Some(max), Some(segment)) = (max_bytes, segment_bytes)
        && max < segment.saturating_mul(2)
    {
        let at = raw
            .max_bytes
            .as_ref()
            .or(raw.segment_bytes.as_ref())
            .map_or(0..0, S::span);
        ctx.report(
            at,
            "spool.max_bytes",
            format!("max_bytes ({max}) is less than two segments ({segment} bytes each)"),
            "raise max_bytes or lower segment_bytes: the spool needs room for at least two \
             segments"
                .to_owned(),
        );
        return None;
    }
    let on_full = match raw
        .on_full
        .as_ref()
        .map(|v| (v, v.get_ref().trim().to_ascii_lowercase()))
    {
        None => Some(OnFull::Refuse),
        Some((_, w)) if w == "refuse" => Some(OnFull::Refuse),
        Some((_, w)) if w == "evict-lower-severity" => Some(OnFull::EvictLowerSeverity),
        Some((v, _)) => {
            ctx.report(
                v.span(),
                "spool.on_full",
                format!("unknown on_full {:?}", v.get_ref()),
                "use \"refuse\" (default) or \"evict-lower-severity\"".to_owned(),
            );
            None
        }
    };
    let commit_window = duration(
        ctx,
        &raw.commit_window,
        "spool.commit_window",
        DEFAULT_COMMIT_WINDOW,
        (Duration::ZERO, Duration::from_secs(1)),
    );
    Some(Spool {
        dir: dir?,
        max_bytes: max_bytes?,
        segment_bytes: segment_bytes?,
        on_full: on_full?,
        commit_window: commit_window?,
    })
}

pub(crate) fn ingest(ctx: &mut Ctx<'_>, raw: raw::Ingest) -> Option<Ingest> {
    let socket = absolute_path(ctx, &raw.socket, "ingest.socket", DEFAULT_SOCKET);
    let socket_mode = match &raw.socket_mode {
        None => Some(0o660),
        Some(v) => {
            let mode = match v.get_ref() {
                raw::Mode::Number(n) => u32::try_from(*n).ok(),
                raw::Mode::Text(t) => {
                    u32::from_str_radix(t.trim().trim_start_matches("0o"), 8).ok()
                }
            };
            match mode {
                Some(m) if m <= 0o777 && m & 0o002 == 0 => Some(m),
                Some(m) if m <= 0o777 => {
                    ctx.report(
                        v.span(),
                        "ingest.socket_mode",
                        format!("mode {m:04o} lets every local user submit alerts"),
                        "remove write for others, e.g. 0o660 (owner and group)".to_owned(),
                    );
                    None
                }
                _ => {
                    ctx.report(
                        v.span(),
                        "ingest.socket_mode",
                        "is not a file mode".to_owned(),
                        "write an octal mode such as 0o660 or \"0660\"".to_owned(),
                    );
                    None
                }
            }
        }
    };
    let tcp = match &raw.tcp {
        None => Some(None),
        Some(v) => match v.get_ref().trim().parse::<SocketAddr>() {
            Ok(addr) if addr.ip().is_loopback() => Some(Some(addr)),
            Ok(addr) => {
                ctx.report(
                    v.span(),
                    "ingest.tcp",
                    format!("{addr} is not a loopback address: ingest has no authentication"),
                    "listen on 127.0.0.1 or [::1] only, e.g. \"127.0.0.1:5170\"".to_owned(),
                );
                None
            }
            Err(_) => {
                ctx.report(
                    v.span(),
                    "ingest.tcp",
                    format!("{:?} is not an address and port", v.get_ref()),
                    "write it like \"127.0.0.1:5170\"".to_owned(),
                );
                None
            }
        },
    };
    let max_line_bytes = size(
        ctx,
        &raw.max_line_bytes,
        "ingest.max_line_bytes",
        64 * KIB,
        (KIB, MIB),
    )
    .and_then(|n| usize::try_from(n).ok());
    Some(Ingest {
        socket: socket?,
        socket_mode: socket_mode?,
        tcp: tcp?,
        max_line_bytes: max_line_bytes?,
    })
}

pub(crate) fn log(ctx: &mut Ctx<'_>, raw: raw::Log) -> Option<Log> {
    let level = match &raw.level {
        None => LogLevel::Info,
        Some(v) => match v.get_ref().trim().to_ascii_lowercase().as_str() {
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => {
                ctx.report(
                    v.span(),
                    "log.level",
                    format!("unknown log level {:?}", v.get_ref()),
                    "use \"error\", \"warn\", \"info\" (default), \"debug\" or \"trace\""
                        .to_owned(),
                );
                return None;
            }
        },
    };
    let format = match &raw.format {
        None => LogFormat::Journald,
        Some(v) => match v.get_ref().trim().to_ascii_lowercase().as_str() {
            "journald" => LogFormat::Journald,
            "json" => LogFormat::Json,
            _ => {
                ctx.report(
                    v.span(),
                    "log.format",
                    format!("unknown log format {:?}", v.get_ref()),
                    "use \"journald\" (default: `<P>icsfwd[module]: message` lines) or \"json\" \
                     (one JSON object per line)"
                        .to_owned(),
                );
                return None;
            }
        },
    };
    Some(Log { level, format })
}

// ---- metrics ---------------------------------------------------------------------------------

/// Where `[metrics]` listens when `listen` is not given.
const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";

/// Longest metrics socket path: the system's limit (108 bytes with its NUL) less the
/// temporary name's suffix (`.<pid>.tmp`) it is created under.
const MAX_METRICS_SOCKET_PATH: usize = 92;

/// `[metrics]`, when the section is there.
pub(crate) fn metrics(ctx: &mut Ctx<'_>, raw: raw::Metrics) -> Option<Metrics> {
    let text = raw
        .listen
        .as_ref()
        .map_or(DEFAULT_METRICS_LISTEN, |v| v.get_ref().trim());
    let span = raw.listen.as_ref().map_or(0..0, S::span);
    let listen = if let Some(path) = text.strip_prefix("unix:") {
        let path = metrics_socket_path(ctx, path, span)?;
        let mode = match &raw.socket_mode {
            None => 0o660,
            Some(v) => metrics_socket_mode(ctx, v)?,
        };
        MetricsListen::Unix { path, mode }
    } else {
        if let Some(v) = &raw.socket_mode {
            ctx.report(
                v.span(),
                "metrics.socket_mode",
                "applies to a unix socket only".to_owned(),
                "remove socket_mode, or listen on a unix socket such as \
                 \"unix:/run/icsfwd/metrics.sock\""
                    .to_owned(),
            );
            return None;
        }
        MetricsListen::Tcp(metrics_address(ctx, text, span)?)
    };
    Some(Metrics { listen })
}

fn metrics_address(ctx: &mut Ctx<'_>, text: &str, span: Range<usize>) -> Option<SocketAddr> {
    match text.parse::<SocketAddr>() {
        Ok(addr) if addr.ip().is_loopback() => Some(addr),
        Ok(addr) => {
            ctx.report(
                span,
                "metrics.listen",
                format!(
                    "{addr} is not a loopback address: the metrics endpoint has neither TLS nor \
                     authentication, so it must not be reachable from the network"
                ),
                "listen on 127.0.0.1 or [::1] (e.g. \"127.0.0.1:9464\") or on a unix socket \
                 (\"unix:/run/icsfwd/metrics.sock\"); scrape it from a Prometheus or an agent on \
                 this host, or publish it through a TLS reverse proxy"
                    .to_owned(),
            );
            None
        }
        Err(_) => {
            ctx.report(
                span,
                "metrics.listen",
                format!("{text:?} is not an address and port, nor unix:<path>"),
                "write it like \"127.0.0.1:9464\", \"[::1]:9464\" or \
                 \"unix:/run/icsfwd/metrics.sock\" (host names are not resolved)"
                    .to_owned(),
            );
            None
        }
    }
}

fn metrics_socket_path(ctx: &mut Ctx<'_>, path: &str, span: Range<usize>) -> Option<PathBuf> {
    let problem = if !Path::new(path).is_absolute() {
        Some(format!("unix:{path} is not an absolute path"))
    } else if path.chars().any(char::is_control) {
        Some("the socket path contains a control character".to_owned())
    } else if path.len() > MAX_METRICS_SOCKET_PATH {
        Some(format!(
            "the socket path is {} bytes long (at most {MAX_METRICS_SOCKET_PATH})",
            path.len()
        ))
    } else {
        None
    };
    if let Some(message) = problem {
        ctx.report(
            span,
            "metrics.listen",
            message,
            "write an absolute, short path such as \"unix:/run/icsfwd/metrics.sock\"".to_owned(),
        );
        return None;
    }
    Some(PathBuf::from(path))
}

fn metrics_socket_mode(ctx: &mut Ctx<'_>, v: &S<raw::Mode>) -> Option<u32> {
    let mode = match v.get_ref() {
        raw::Mode::Number(n) => u32::try_from(*n).ok(),
        raw::Mode::Text(t) => u32::from_str_radix(t.trim().trim_start_matches("0o"), 8).ok(),
    };
    match mode {
        Some(m) if m <= 0o777 => Some(m),
        _ => {
            ctx.report(
                v.span(),
                "metrics.socket_mode",
                "is not a file mode".to_owned(),
                "write an octal mode such as 0o660 or \"0660\"".to_owned(),
            );
            None
        }
    }
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

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        for (text, bytes) in [
            ("0", Some(0)),
            ("4096", Some(4096)),
            ("64 MiB", Some(64 * MIB)),
            ("64MiB", Some(64 * MIB)),
            ("500 KB", Some(500_000)),
            ("1 gib", Some(GIB)),
            ("12 parsecs", None),
            ("MiB", None),
            ("99999999999999999999 GiB", None),
        ] {
            assert_eq!(parse_size(text), bytes, "{text}");
        }
    }

    #[test]
    fn a_duration_reads_as_a_configuration_writes_it() {
        assert_eq!(duration_text(Duration::from_secs(86_400)), "1d");
        assert_eq!(duration_text(Duration::from_secs(3_600)), "1h");
        assert_eq!(duration_text(Duration::from_secs(300)), "5m");
        assert_eq!(duration_text(Duration::from_secs(90)), "90s");
        assert_eq!(duration_text(Duration::from_millis(1_500)), "1500ms");
        assert_eq!(duration_text(Duration::ZERO), "0ms");
        for text in ["1d", "1h", "5m", "90s", "1500ms"] {
            assert_eq!(duration_text(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn durations_need_a_unit() {
        for (text, d) in [
            ("500ms", Some(Duration::from_millis(500))),
            ("30s", Some(Duration::from_secs(30))),
            ("5m", Some(Duration::from_secs(300))),
            ("1 h", Some(Duration::from_secs(3600))),
            ("30", None),
            ("s", None),
            ("1.5s", None),
        ] {
            assert_eq!(parse_duration(text), d, "{text}");
        }
    }
}
