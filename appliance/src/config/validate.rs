//! Raw config → [`Config`]: every check, every problem with its place and its fix.
//!
//! The document is parsed once into spanned TOML values; each section and each array element is
//! then deserialized on its own, so an unknown key in one destination does not hide a bad port
//! in another. Values are checked field by field, and what the core builds (rules,
//! exclusions, the rule set, format options) is built here so its own errors (capacities,
//! name lengths) are reported like any other.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use icsfwd_core::alert::{self, Engine, Severity};
use icsfwd_core::destination::DestinationId;
use icsfwd_core::format::{hec, syslog};
use icsfwd_core::rule::{Exclusion, Rule, RuleSet, TimeWindow};
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::raw::{self, S};
use super::secret::{self, Secret};
use super::{
    Batch, ClientCert, Config, Confirm, Destination, DestinationKind, Hec, HecUrl, Ingest, Log,
    LogFormat, LogLevel, MAX_DESTINATION_NAME, MAX_DESTINATIONS, Metrics, MetricsListen, OnFull,
    Origin, Problem, Problems, Retry, Scheme, Sensor, Splunk, SplunkAuth, Spool, Syslog, Timeouts,
    Tls, Transport,
};
use crate::output::hec::is_guid;

const SECTIONS: &str = "sensor, destination, rule, exclusion, spool, ingest, log, metrics";
const MAX_HEC_URLS: usize = 16;
const DEFAULT_SPOOL_DIR: &str = "/var/lib/icsfwd/spool";
const DEFAULT_SOCKET: &str = "/run/icsfwd/ingest.sock";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Collects problems against one config text.
struct Ctx<'a> {
    text: &'a str,
    origin: &'a Origin,
    env: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<(usize, Problem)>,
    /// Keys already reported as wrong and taken out (full paths), not to be called missing.
    removed: HashSet<String>,
}

impl Ctx<'_> {
    fn report(&mut self, span: Range<usize>, key: &str, message: String, fix: String) {
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
    fn resolve(&self, path: &str) -> PathBuf {
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

fn key(prefix: &str, name: &str) -> String {
    format!("{prefix}.{name}")
}

pub(crate) fn config(
    text: &str,
    origin: &Origin,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Problems> {
    let mut ctx = Ctx {
        text,
        origin,
        env,
        problems: Vec::new(),
        removed: HashSet::new(),
    };
    let config = document(&mut ctx);
    let mut problems = ctx.problems;
    match config {
        Some(config) if problems.is_empty() => Ok(config),
        _ => {
            problems.sort_by_key(|(offset, _)| *offset);
            if problems.is_empty() {
                // Unreachable by construction (every `None` reports), but never say "valid".
                problems.push((
                    0,
                    Problem {
                        file: origin.path.clone(),
                        line: 1,
                        column: 1,
                        key: String::new(),
                        message: "the configuration is not valid".to_owned(),
                        fix: "run `icsfwd check-config`".to_owned(),
                    },
                ));
            }
            Err(Problems(problems.into_iter().map(|(_, p)| p).collect()))
        }
    }
}

/// The sections, as deserialized (a `None` section was absent or failed).
#[derive(Default)]
struct Sections {
    sensor: Option<(raw::Sensor, Range<usize>)>,
    destinations: Vec<Option<(raw::Destination, Range<usize>)>>,
    rules: Vec<Option<(raw::Rule, Range<usize>)>>,
    exclusions: Vec<Option<(raw::Exclusion, Range<usize>)>>,
    spool: Option<raw::Spool>,
    ingest: Option<raw::Ingest>,
    log: Option<raw::Log>,
    metrics: Option<raw::Metrics>,
}

fn document(ctx: &mut Ctx<'_>) -> Option<Config> {
    let (doc, errors) = DeTable::parse_recoverable(ctx.text);
    if !errors.is_empty() {
        for e in errors {
            ctx.report(
                e.span().unwrap_or(0..0),
                "",
                format!("TOML syntax: {}", e.message().trim_end()),
                "correct the TOML syntax here (strings in double quotes, one key = value per \
                 line; see https://toml.io)"
                    .to_owned(),
            );
        }
        return None;
    }
    let mut sections = Sections::default();
    for (name, value) in doc.into_inner() {
        let span = name.span();
        match name.get_ref().as_ref() {
            "sensor" => sections.sensor = table(ctx, value, "sensor"),
            "spool" => sections.spool = table(ctx, value, "spool").map(|(t, _)| t),
            "ingest" => sections.ingest = table(ctx, value, "ingest").map(|(t, _)| t),
            "log" => sections.log = table(ctx, value, "log").map(|(t, _)| t),
            "metrics" => sections.metrics = table(ctx, value, "metrics").map(|(t, _)| t),
            "destination" => sections.destinations = array(ctx, value, "destination"),
            "rule" => sections.rules = array(ctx, value, "rule"),
            "exclusion" => sections.exclusions = array(ctx, value, "exclusion"),
            other => ctx.report(
                span,
                other,
                format!("unknown section or key `{other}`"),
                format!("the top level has only these: {SECTIONS}"),
            ),
        }
    }
    build(ctx, sections)
}

/// Keys holding a secret inline, whose value serde's messages must not quote.
const SECRET_KEYS: [&str; 2] = [".password", ".token"];

/// How many wrong keys one table may have before the rest are left unreported.
const MAX_KEY_ERRORS_PER_TABLE: usize = 64;

/// Deserializes one table. A key serde refuses (unknown, or a value of the wrong type) is
/// reported, taken out, and the table tried again, so every such key is reported; a key taken
/// out is remembered so that it is not reported again as missing.
fn table<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'_>>,
    path: &str,
) -> Option<(T, Range<usize>)> {
    let span = value.span();
    let mut t = match value.into_inner() {
        DeValue::Table(t) => t,
        other => {
            ctx.report(
                span,
                path,
                format!("`{path}` must be a table, not a {}", other.type_str()),
                format!("write it as a [{path}] section"),
            );
            return None;
        }
    };
    for _ in 0..=MAX_KEY_ERRORS_PER_TABLE {
        let attempt = Spanned::new(span.clone(), DeValue::Table(t.clone()));
        let e = match T::deserialize(ValueDeserializer::from(attempt)) {
            Ok(parsed) => return Some((parsed, span)),
            Err(e) => e,
        };
        let at = e.span().unwrap_or(span.clone());
        let inner = locate_in_table(&t, at.start);
        let key = if inner.is_empty() {
            path.to_owned()
        } else {
            format!("{path}.{inner}")
        };
        let (mut message, fix) = explain_serde(e.message());
        if SECRET_KEYS.iter().any(|k| key.ends_with(k)) {
            // serde quotes the value it refused; for a secret that must not be shown.
            message = "wrong type (the value is not shown: it is a secret)".to_owned();
        }
        ctx.report(at.clone(), &key, message, fix);
        let top = t
            .iter()
            .find(|(k, v)| k.span().contains(&at.start) || v.span().contains(&at.start))
            .map(|(k, _)| k.get_ref().to_string());
        let top = top?;
        ctx.removed.insert(format!("{path}.{top}"));
        t.remove(top.as_str());
    }
    None
}

/// Deserializes an array of tables, element by element.
fn array<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'_>>,
    name: &str,
) -> Vec<Option<(T, Range<usize>)>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| table(ctx, item, &format!("{name}[{i}]")))
            .collect(),
        other => {
            ctx.report(
                span,
                name,
                format!(
                    "`{name}` must be an array of tables, not a {}",
                    other.type_str()
                ),
                format!("write each one as a [[{name}]] section"),
            );
            Vec::new()
        }
    }
}

/// The key path, inside `t`, of the key or value at `offset` (empty when none holds it).
fn locate_in_table(t: &DeTable<'_>, offset: usize) -> String {
    locate(&DeValue::Table(t.clone()), offset)
}

/// The key path, inside `value`, of the key or value at `offset` (empty when none holds it).
fn locate(value: &DeValue<'_>, offset: usize) -> String {
    match value {
        DeValue::Table(t) => {
            for (k, v) in t.iter() {
                let in_key = k.span().contains(&offset);
                let in_value = v.span().contains(&offset);
                if in_key || in_value {
                    let inner = if in_value {
                        locate(v.get_ref(), offset)
                    } else {
                        String::new()
                    };
                    let name = k.get_ref().as_ref();
                    return if inner.is_empty() {
                        name.to_owned()
                    } else if inner.starts_with('[') {
                        format!("{name}{inner}")
                    } else {
                        format!("{name}.{inner}")
                    };
                }
            }
            String::new()
        }
        DeValue::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                if v.span().contains(&offset) {
                    let inner = locate(v.get_ref(), offset);
                    return if inner.is_empty() || inner.starts_with('[') {
                        format!("[{i}]{inner}")
                    } else {
                        format!("[{i}].{inner}")
                    };
                }
            }
            String::new()
        }
        _ => String::new(),
    }
}

/// Rewrites serde's wording for an operator: `(message, fix)`.
fn explain_serde(message: &str) -> (String, String) {
    let message = message.trim_end();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (field, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let expected = expected.strip_prefix("one of ").unwrap_or(expected);
        return (
            format!("unknown key {field}"),
            format!("check the spelling; the keys here are: {expected}"),
        );
    }
    for (name, what) in [
        (
            "Size",
            "a size: a number of bytes or a text such as \"64 MiB\"",
        ),
        (
            "Text",
            "a duration such as \"30s\", \"500ms\", \"5m\" or \"1h\"",
        ),
        ("AllOr", "\"all\" or a list of names such as [\"Modbus\"]"),
        (
            "Level",
            "a syslog code (a number) or its name, such as \"user\" or \"warning\"",
        ),
        ("Mode", "a file mode such as 0o660 or \"0660\""),
    ] {
        if message.contains(&format!("untagged enum {name}")) {
            return (
                format!("wrong type: expected {what}"),
                format!("write {what}"),
            );
        }
    }
    let wording = message
        .replace("invalid type: ", "wrong type: ")
        .replace("expected i64", "expected an integer")
        .replace("expected a string", "expected a text in double quotes")
        .replace("expected a boolean", "expected true or false");
    let fix = if wording.contains("expected an integer") {
        "write a number without quotes"
    } else if wording.contains("expected a text") {
        "put the value in double quotes"
    } else if wording.contains("expected true or false") {
        "write true or false, without quotes"
    } else if wording.contains("sequence") {
        "write a list in brackets, such as [\"a\", \"b\"]"
    } else {
        "see docs/configuration.md for this key"
    };
    (wording, fix.to_owned())
}

fn build(ctx: &mut Ctx<'_>, s: Sections) -> Option<Config> {
    let sensor = sensor(ctx, s.sensor);
    let destinations = destinations(ctx, &s.destinations);
    let any_destination_failed = s.destinations.iter().any(Option::is_none);
    // Rules resolve names against every destination written, valid or not, so that a rule
    // naming a destination with a bad port is not also told the name is unknown.
    let names: Vec<&str> = s
        .destinations
        .iter()
        .map(|d| {
            d.as_ref()
                .and_then(|(raw, _)| raw.name.as_ref())
                .map_or("", |n| n.get_ref().trim())
        })
        .collect();
    let rules = rule_set(ctx, &s.rules, &s.exclusions, &names, any_destination_failed);
    let spool = spool(ctx, s.spool.unwrap_or_default());
    let ingest = ingest(ctx, s.ingest.unwrap_or_default());
    let log = log(ctx, s.log.unwrap_or_default());
    // A [metrics] section that did not deserialize was reported: absent here, not valid.
    let metrics = match s.metrics {
        None => Some(None),
        Some(raw) => metrics(ctx, raw).map(Some),
    };
    Some(Config {
        path: ctx.origin.path.clone(),
        sensor: sensor?,
        destinations,
        rules: rules?,
        spool: spool?,
        ingest: ingest?,
        log: log?,
        metrics: metrics?,
    })
}

// ---- scalar helpers -------------------------------------------------------------------------

/// A text value without control characters, at most `max` bytes, not blank.
fn text(ctx: &mut Ctx<'_>, v: &S<String>, key: &str, max: usize) -> Option<String> {
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

fn required<'r, T>(
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

fn port(ctx: &mut Ctx<'_>, v: &Option<S<i64>>, key: &str, default: u16) -> Option<u16> {
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

fn flag(v: &Option<S<bool>>, default: bool) -> bool {
    v.as_ref().map_or(default, |v| *v.get_ref())
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

fn duration(
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
                format!("{d:?} is out of range"),
                format!("use a duration from {min:?} to {max:?}"),
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

fn size(
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

fn absolute_path(
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

/// A file that must exist and be readable (a CA, a certificate, a key).
fn readable_file(ctx: &mut Ctx<'_>, v: &S<String>, key: &str, private: bool) -> Option<PathBuf> {
    let path = ctx.resolve(v.get_ref());
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            ctx.report(
                v.span(),
                key,
                format!("{shown} is not a regular file"),
                "name a PEM file".to_owned(),
            );
            return None;
        }
        Err(e) => {
            ctx.report(
                v.span(),
                key,
                format!("cannot read {shown}: {e}"),
                "fix the path (relative paths start at the config file's directory)".to_owned(),
            );
            return None;
        }
    };
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if private && !secret::is_private(mode) {
        ctx.report(
            v.span(),
            key,
            format!("private key {shown} is readable by group or others (mode {mode:04o})"),
            format!("run `chmod 600 {shown}`"),
        );
        return None;
    }
    if let Err(e) = std::fs::File::open(&path) {
        ctx.report(
            v.span(),
            key,
            format!("cannot open {shown}: {e}"),
            format!("make {shown} readable by the user icsfwd runs as"),
        );
        return None;
    }
    Some(path)
}

/// One secret from `<what>`, `<what>_file` or `<what>_env`; `Ok(None)` when none is set.
fn secret(
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

// ---- sections --------------------------------------------------------------------------------

fn sensor(ctx: &mut Ctx<'_>, raw: Option<(raw::Sensor, Range<usize>)>) -> Option<Sensor> {
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

/// Which raw keys are set, by name and place.
fn keys_set(d: &raw::Destination) -> Vec<(&'static str, Range<usize>)> {
    let mut out = Vec::new();
    macro_rules! each {
        ($($field:ident),* $(,)?) => {
            $( if let Some(v) = &d.$field { out.push((stringify!($field), v.span())); } )*
        };
    }
    each!(
        host,
        port,
        scheme,
        auth,
        username,
        password,
        password_file,
        password_env,
        token,
        token_file,
        token_env,
        index,
        source,
        sourcetype,
        urls,
        ack,
        ack_deadline,
        batch_max_events,
        batch_max_bytes,
        batch_linger,
        gzip,
        event_host,
        channel,
        transport,
        payload,
        facility,
        level,
        level_map,
        confirm,
        verify,
        ca_file,
        client_cert,
        client_key,
    );
    out
}

const COMMON_KEYS: [&str; 7] = [
    "name",
    "kind",
    "connect_timeout",
    "tls_timeout",
    "response_timeout",
    "retry_min",
    "retry_max",
];
const TLS_KEYS: [&str; 4] = ["verify", "ca_file", "client_cert", "client_key"];
const SPLUNK_KEYS: [&str; 13] = [
    "host",
    "port",
    "scheme",
    "auth",
    "username",
    "password",
    "password_file",
    "password_env",
    "token",
    "token_file",
    "token_env",
    "index",
    "source",
];
const HEC_KEYS: [&str; 14] = [
    "urls",
    "token",
    "token_file",
    "token_env",
    "ack",
    "ack_deadline",
    "batch_max_events",
    "batch_max_bytes",
    "batch_linger",
    "gzip",
    "index",
    "source",
    "sourcetype",
    "event_host",
];
const SYSLOG_KEYS: [&str; 8] = [
    "host",
    "port",
    "transport",
    "payload",
    "facility",
    "level",
    "level_map",
    "confirm",
];

fn allowed(kind: &str, key: &str) -> bool {
    COMMON_KEYS.contains(&key)
        || TLS_KEYS.contains(&key)
        || match kind {
            "splunk" => SPLUNK_KEYS.contains(&key) || key == "sourcetype",
            "hec" => HEC_KEYS.contains(&key) || key == "channel",
            "syslog" => SYSLOG_KEYS.contains(&key),
            _ => true,
        }
}

fn destinations(
    ctx: &mut Ctx<'_>,
    raws: &[Option<(raw::Destination, Range<usize>)>],
) -> Vec<Destination> {
    if raws.is_empty()
        && !ctx
            .problems
            .iter()
            .any(|(_, p)| p.key.starts_with("destination"))
    {
        ctx.report(
            0..0,
            "destination",
            "no [[destination]]: nothing would be forwarded".to_owned(),
            "add a [[destination]] (see etc/icsfwd.example.toml)".to_owned(),
        );
    }
    if raws.len() > MAX_DESTINATIONS {
        let span = raws
            .get(MAX_DESTINATIONS)
            .and_then(|d| d.as_ref().map(|(_, s)| s.clone()))
            .unwrap_or(0..0);
        ctx.report(
            span,
            &format!("destination[{MAX_DESTINATIONS}]"),
            format!(
                "too many destinations: {} (at most {MAX_DESTINATIONS})",
                raws.len()
            ),
            format!("remove destinations until {MAX_DESTINATIONS} are left"),
        );
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for (i, entry) in raws.iter().enumerate().take(MAX_DESTINATIONS) {
        let Some((raw, span)) = entry else { continue };
        let prefix = format!("destination[{i}]");
        let name = destination_name(ctx, raw, span, &prefix);
        if let Some(name) = &name
            && !seen.insert(name.clone())
            && let Some(v) = &raw.name
        {
            ctx.report(
                v.span(),
                &key(&prefix, "name"),
                format!("destination name {name:?} is used twice"),
                "give every destination its own name".to_owned(),
            );
        }
        let d = destination(ctx, raw, span, &prefix);
        let id = u8::try_from(i).ok().and_then(DestinationId::new);
        if let (Some(name), Some((kind, tls, timeouts, retry)), Some(id)) = (name, d, id) {
            out.push(Destination {
                id,
                name,
                kind,
                tls,
                timeouts,
                retry,
            });
        } else if ctx.problems.is_empty() {
            // A destination dropped without a report would shift ids silently.
            ctx.report(
                span.clone(),
                &prefix,
                "is not valid".to_owned(),
                "see the other messages".to_owned(),
            );
        }
    }
    out
}

fn destination_name(
    ctx: &mut Ctx<'_>,
    raw: &raw::Destination,
    span: &Range<usize>,
    prefix: &str,
) -> Option<String> {
    let k = key(prefix, "name");
    let v = required(ctx, &raw.name, span, &k, "add name = \"<unique name>\"")?;
    let name = text(ctx, v, &k, MAX_DESTINATION_NAME)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || name.starts_with('.')
    {
        ctx.report(
            v.span(),
            &k,
            format!("{name:?} has characters other than letters, digits, '-', '_' and '.'"),
            "use a name such as \"soc-hec\" (it names files in the spool)".to_owned(),
        );
        return None;
    }
    Some(name)
}

type DestinationParts = (DestinationKind, Tls, Timeouts, Retry);

fn destination(
    ctx: &mut Ctx<'_>,
    raw: &raw::Destination,
    span: &Range<usize>,
    prefix: &str,
) -> Option<DestinationParts> {
    let k = key(prefix, "kind");
    let kind_v = required(
        ctx,
        &raw.kind,
        span,
        &k,
        "add kind = \"splunk\", \"hec\" or \"syslog\"",
    )?;
    let kind = kind_v.get_ref().trim().to_ascii_lowercase();
    if !matches!(kind.as_str(), "splunk" | "hec" | "syslog") {
        ctx.report(
            kind_v.span(),
            &k,
            format!("unknown destination kind {:?}", kind_v.get_ref()),
            "use \"splunk\" (splunkd REST, 8089), \"hec\" (HTTP Event Collector, 8088) or \
             \"syslog\""
                .to_owned(),
        );
        return None;
    }
    let mut misplaced = false;
    for (name, at) in keys_set(raw) {
        if !allowed(&kind, name) {
            misplaced = true;
            ctx.report(
                at,
                &key(prefix, name),
                format!("`{name}` does not apply to a {kind} destination"),
                "remove it (see docs/configuration.md for the keys of each kind)".to_owned(),
            );
        }
    }
    let kind_parts = match kind.as_str() {
        "splunk" => splunk(ctx, raw, span, prefix).map(DestinationKind::Splunk),
        "hec" => hec(ctx, raw, span, prefix).map(DestinationKind::Hec),
        _ => syslog_destination(ctx, raw, span, prefix).map(DestinationKind::Syslog),
    };
    let uses_tls = match &kind_parts {
        Some(DestinationKind::Syslog(s)) => s.transport.uses_tls(),
        _ => true,
    };
    let tls = tls(ctx, raw, prefix, uses_tls);
    let timeouts = timeouts(ctx, raw, prefix);
    let retry = retry(ctx, raw, prefix);
    if misplaced {
        return None;
    }
    Some((kind_parts?, tls?, timeouts?, retry?))
}

fn tls(ctx: &mut Ctx<'_>, raw: &raw::Destination, prefix: &str, uses_tls: bool) -> Option<Tls> {
    if !uses_tls {
        let mut ok = true;
        for (name, v) in [
            ("ca_file", raw.ca_file.as_ref().map(S::span)),
            ("client_cert", raw.client_cert.as_ref().map(S::span)),
            ("client_key", raw.client_key.as_ref().map(S::span)),
            ("verify", raw.verify.as_ref().map(S::span)),
        ] {
            if let Some(at) = v {
                ok = false;
                ctx.report(
                    at,
                    &key(prefix, name),
                    format!("`{name}` applies only to syslog over TLS"),
                    "set transport = \"tls\" (or \"relp-tls\"), or remove the key".to_owned(),
                );
            }
        }
        return ok.then_some(Tls {
            verify: true,
            ca_file: None,
            client: None,
        });
    }
    let verify = flag(&raw.verify, true);
    let ca_file = match &raw.ca_file {
        Some(v) => Some(readable_file(ctx, v, &key(prefix, "ca_file"), false)?),
        None => None,
    };
    let client = match (&raw.client_cert, &raw.client_key) {
        (Some(cert), Some(k)) => {
            let cert = readable_file(ctx, cert, &key(prefix, "client_cert"), false);
            let k = readable_file(ctx, k, &key(prefix, "client_key"), true);
            Some(ClientCert {
                cert: cert?,
                key: k?,
            })
        }
        (Some(one), None) | (None, Some(one)) => {
            let (present, missing) = if raw.client_cert.is_some() {
                ("client_cert", "client_key")
            } else {
                ("client_key", "client_cert")
            };
            ctx.report(
                one.span(),
                &key(prefix, present),
                format!("{present} is set without {missing}"),
                format!("set {missing} too (a client certificate needs its key)"),
            );
            return None;
        }
        (None, None) => None,
    };
    Some(Tls {
        verify,
        ca_file,
        client,
    })
}

fn timeouts(ctx: &mut Ctx<'_>, raw: &raw::Destination, prefix: &str) -> Option<Timeouts> {
    let range = (Duration::from_millis(100), Duration::from_secs(3600));
    let connect = duration(
        ctx,
        &raw.connect_timeout,
        &key(prefix, "connect_timeout"),
        Duration::from_secs(10),
        range,
    );
    let tls = duration(
        ctx,
        &raw.tls_timeout,
        &key(prefix, "tls_timeout"),
        Duration::from_secs(10),
        range,
    );
    let response = duration(
        ctx,
        &raw.response_timeout,
        &key(prefix, "response_timeout"),
        Duration::from_secs(30),
        range,
    );
    Some(Timeouts {
        connect: connect?,
        tls: tls?,
        response: response?,
    })
}

fn retry(ctx: &mut Ctx<'_>, raw: &raw::Destination, prefix: &str) -> Option<Retry> {
    let range = (Duration::from_millis(10), Duration::from_secs(3600));
    let min = duration(
        ctx,
        &raw.retry_min,
        &key(prefix, "retry_min"),
        Duration::from_secs(1),
        range,
    )?;
    let max = duration(
        ctx,
        &raw.retry_max,
        &key(prefix, "retry_max"),
        Duration::from_secs(300),
        range,
    )?;
    if min > max {
        let at = raw
            .retry_min
            .as_ref()
            .or(raw.retry_max.as_ref())
            .map_or(0..0, S::span);
        ctx.report(
            at,
            &key(prefix, "retry_min"),
            format!("retry_min ({min:?}) is longer than retry_max ({max:?})"),
            "make retry_min at most retry_max".to_owned(),
        );
        return None;
    }
    Some(Retry { min, max })
}

fn host(
    ctx: &mut Ctx<'_>,
    raw: &raw::Destination,
    span: &Range<usize>,
    prefix: &str,
) -> Option<String> {
    let k = key(prefix, "host");
    let v = required(ctx, &raw.host, span, &k, "add host = \"<name or address>\"")?;
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

fn scheme(ctx: &mut Ctx<'_>, v: &Option<S<String>>, k: &str) -> Option<Scheme> {
    match v
        .as_ref()
        .map(|v| (v, v.get_ref().trim().to_ascii_lowercase()))
    {
        None => Some(Scheme::Https),
        Some((_, s)) if s == "https" => Some(Scheme::Https),
        Some((_, s)) if s == "http" => Some(Scheme::Http),
        Some((v, _)) => {
            ctx.report(
                v.span(),
                k,
                format!("unknown scheme {:?}", v.get_ref()),
                "use \"https\" (default) or \"http\" (tests only)".to_owned(),
            );
            None
        }
    }
}

fn optional_text(
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

fn splunk(
    ctx: &mut Ctx<'_>,
    raw: &raw::Destination,
    span: &Range<usize>,
    prefix: &str,
) -> Option<Splunk> {
    let host = host(ctx, raw, span, prefix);
    let port = port(ctx, &raw.port, &key(prefix, "port"), 8089);
    let scheme = scheme(ctx, &raw.scheme, &key(prefix, "scheme"));
    let password = secret(
        ctx,
        prefix,
        "password",
        &raw.password,
        &raw.password_file,
        &raw.password_env,
    );
    let token = secret(
        ctx,
        prefix,
        "token",
        &raw.token,
        &raw.token_file,
        &raw.token_env,
    );
    let username = optional_text(ctx, &raw.username, &key(prefix, "username"), 256);
    let auth_key = key(prefix, "auth");
    let auth_word = raw
        .auth
        .as_ref()
        .map(|v| v.get_ref().trim().to_ascii_lowercase());
    let auth = match (auth_word.as_deref(), username, password, token) {
        (_, Err(()), _, _) | (_, _, Err(()), _) | (_, _, _, Err(())) => None,
        (Some("basic") | None, Ok(Some(username)), Ok(Some(password)), Ok(None)) => {
            Some(SplunkAuth::Basic { username, password })
        }
        (Some("session"), Ok(Some(username)), Ok(Some(password)), Ok(None)) => {
            Some(SplunkAuth::Session { username, password })
        }
        (Some("bearer") | None, Ok(None), Ok(None), Ok(Some(token))) => {
            Some(SplunkAuth::Bearer { token })
        }
        (Some(word), _, _, _) if !matches!(word, "basic" | "session" | "bearer") => {
            let at = raw.auth.as_ref().map_or(span.clone(), S::span);
            ctx.report(
                at,
                &auth_key,
                format!("unknown auth {word:?}"),
                "use \"basic\" (username + password on every request), \"session\" (log in \
                 once with username + password) or \"bearer\" (token)"
                    .to_owned(),
            );
            None
        }
        (word, _, _, _) => {
            let at = raw.auth.as_ref().map_or(span.clone(), S::span);
            let need = match word {
                Some("bearer") => {
                    "auth = \"bearer\" needs token (or token_file/token_env) and no \
                                   username or password"
                }
                Some(_) => {
                    "this auth needs username and password (or password_file/\
                            password_env) and no token"
                }
                None => {
                    "set username with password (or password_file/password_env), or a \
                         token (token_file/token_env), not both"
                }
            };
            ctx.report(
                at,
                &auth_key,
                "the credentials do not fit the authentication method".to_owned(),
                need.to_owned(),
            );
            None
        }
    };
    let index = optional_text(ctx, &raw.index, &key(prefix, "index"), hec::MAX_OPTION_LEN);
    let source = optional_text(
        ctx,
        &raw.source,
        &key(prefix, "source"),
        hec::MAX_OPTION_LEN,
    );
    let sourcetype = optional_text(
        ctx,
        &raw.sourcetype,
        &key(prefix, "sourcetype"),
        hec::MAX_OPTION_LEN,
    );
    let sourcetype = sourcetype
        .ok()?
        .unwrap_or_else(|| crate::output::splunk::DEFAULT_SOURCETYPE.to_owned());
    Some(Splunk {
        scheme: scheme?,
        host: host?,
        port: port?,
        auth: auth?,
        index: index.ok()?,
        source: source
            .ok()?
            .unwrap_or_else(|| hec::DEFAULT_SOURCE.to_owned()),
        sourcetype,
    })
}

/// Parses `https://host[:port][/]`.
fn hec_url(text: &str) -> Result<HecUrl, &'static str> {
    let text = text.trim();
    let (scheme, rest) = if let Some(rest) = text.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = text.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err("must start with https:// (or http:// for tests)");
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err("has a path: icsfwd adds /services/collector/... itself");
    }
    if rest.contains('@') {
        return Err("has user information: put the token in token_file instead");
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("has an unclosed [")?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err("has text after the IPv6 address"),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("has no valid host");
    }
    let port = match port {
        None => 8088,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err("has a port outside 1-65535"),
        },
    };
    Ok(HecUrl {
        scheme,
        host: host.to_owned(),
        port,
    })
}

fn bounded_option(value: &str) -> Option<heapless::String<{ hec::MAX_OPTION_LEN }>> {
    let mut out = heapless::String::new();
    out.push_str(value).ok()?;
    Some(out)
}

fn hec(
    ctx: &mut Ctx<'_>,
    raw: &raw::Destination,
    span: &Range<usize>,
    prefix: &str,
) -> Option<Hec> {
    let urls_key = key(prefix, "urls");
    let urls = required(
        ctx,
        &raw.urls,
        span,
        &urls_key,
        "add urls = [\"https://splunk.example.com:8088\"]",
    )
    .and_then(|list| {
        if list.get_ref().is_empty() || list.get_ref().len() > MAX_HEC_URLS {
            ctx.report(
                list.span(),
                &urls_key,
                format!("has {} URLs", list.get_ref().len()),
                format!("list 1 to {MAX_HEC_URLS} HEC URLs"),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, u) in list.get_ref().iter().enumerate() {
            match hec_url(u.get_ref()) {
                Ok(url) => out.push(url),
                Err(why) => {
                    ok = false;
                    ctx.report(
                        u.span(),
                        &format!("{urls_key}[{i}]"),
                        format!("{:?} {why}", u.get_ref()),
                        "write the collector's base URL, such as \
                         \"https://splunk.example.com:8088\""
                            .to_owned(),
                    );
                }
            }
        }
        ok.then_some(out)
    });
    let token = match secret(
        ctx,
        prefix,
        "token",
        &raw.token,
        &raw.token_file,
        &raw.token_env,
    ) {
        Ok(Some(t)) => Some(t),
        Ok(None) => {
            ctx.report(
                span.clone(),
                &key(prefix, "token"),
                "is missing".to_owned(),
                "add token_file = \"/etc/icsfwd/hec.token\" (mode 0600) or token_env".to_owned(),
            );
            None
        }
        Err(()) => None,
    };
    let ack = flag(&raw.ack, false);
    if !ack && let Some(v) = &raw.ack_deadline {
        ctx.report(
            v.span(),
            &key(prefix, "ack_deadline"),
            "ack_deadline is set but ack is not".to_owned(),
            "set ack = true, or remove ack_deadline".to_owned(),
        );
    }
    let ack_deadline = duration(
        ctx,
        &raw.ack_deadline,
        &key(prefix, "ack_deadline"),
        Duration::from_secs(300),
        (Duration::from_secs(1), Duration::from_secs(3600)),
    );
    let max_events =
        raw.batch_max_events
            .as_ref()
            .map_or(Some(500), |v| match usize::try_from(*v.get_ref()) {
                Ok(n) if (1..=10_000).contains(&n) => Some(n),
                _ => {
                    ctx.report(
                        v.span(),
                        &key(prefix, "batch_max_events"),
                        format!("{} is out of range", v.get_ref()),
                        "use 1 to 10000 events per request".to_owned(),
                    );
                    None
                }
            });
    let min_batch = u64::try_from(hec::MAX_LEN).unwrap_or(u64::MAX);
    let max_bytes = size(
        ctx,
        &raw.batch_max_bytes,
        &key(prefix, "batch_max_bytes"),
        1_000_000,
        (min_batch, 64 * MIB),
    )
    .and_then(|n| usize::try_from(n).ok());
    let linger = duration(
        ctx,
        &raw.batch_linger,
        &key(prefix, "batch_linger"),
        Duration::from_millis(50),
        (Duration::ZERO, Duration::from_secs(10)),
    );
    let channel = match &raw.channel {
        Some(v) if !is_guid(v.get_ref().trim()) => {
            ctx.report(
                v.span(),
                &key(prefix, "channel"),
                format!("{:?} is not a GUID", v.get_ref()),
                "write a GUID such as \"0b8f2a4c-5d1e-4f3a-9c7b-2e6d8a1f0c3e\", or remove the \
                 key to generate one at start"
                    .to_owned(),
            );
            None
        }
        Some(v) => Some(Some(v.get_ref().trim().to_ascii_lowercase())),
        None => Some(None),
    };
    let mut envelope = hec::Options::default();
    let mut envelope_ok = true;
    for (name, v) in [
        ("event_host", &raw.event_host),
        ("source", &raw.source),
        ("sourcetype", &raw.sourcetype),
        ("index", &raw.index),
    ] {
        let Ok(Some(value)) = optional_text(ctx, v, &key(prefix, name), hec::MAX_OPTION_LEN) else {
            envelope_ok &= v.is_none();
            continue;
        };
        let Some(value) = bounded_option(&value) else {
            envelope_ok = false;
            continue;
        };
        match name {
            "event_host" => envelope.host = Some(value),
            "source" => envelope.source = value,
            "sourcetype" => envelope.sourcetype = Some(value),
            _ => envelope.index = Some(value),
        }
    }
    Some(Hec {
        urls: urls?,
        token: token?,
        ack,
        ack_deadline: ack_deadline?,
        batch: Batch {
            max_events: max_events?,
            max_bytes: max_bytes?,
            linger: linger?,
        },
        gzip: flag(&raw.gzip, false),
        channel: channel?,
        envelope: envelope_ok.then_some(envelope)?,
    })
}

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];
const LEVELS: [&str; 8] = [
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "informational",
    "debug",
];

fn level_code(name: &str) -> Option<u8> {
    let name = name.trim().to_ascii_lowercase();
    let name = match name.as_str() {
        "emerg" | "panic" => "emergency",
        "crit" => "critical",
        "err" => "error",
        "warn" => "warning",
        "info" => "informational",
        other => other,
    };
    LEVELS
        .iter()
        .position(|l| *l == name)
        .and_then(|i| u8::try_from(i).ok())
}

fn syslog_level(ctx: &mut Ctx<'_>, v: &S<raw::Level>, k: &str) -> Option<syslog::SeverityCode> {
    let code = match v.get_ref() {
        raw::Level::Code(n) => u8::try_from(*n).ok(),
        raw::Level::Name(name) => level_code(name),
    };
    match code.and_then(syslog::SeverityCode::new) {
        Some(c) => Some(c),
        None => {
            ctx.report(
                v.span(),
                k,
                "is not a syslog level".to_owned(),
                format!("use 0-7 or a name: {}", LEVELS.join(", ")),
            );
            None
        }
    }
}

fn syslog_destination(
    ctx: &mut Ctx<'_>,
    raw: &raw::Destination,
    span: &Range<usize>,
    prefix: &str,
) -> Option<Syslog> {
    let host = host(ctx, raw, span, prefix);
    let transport = match raw
        .transport
        .as_ref()
        .map(|v| (v, v.get_ref().trim().to_ascii_lowercase()))
    {
        None => Some(Transport::Tcp),
        Some((_, t)) if t == "tcp" => Some(Transport::Tcp),
        Some((_, t)) if t == "tls" => Some(Transport::Tls),
        Some((_, t)) if t == "udp" => Some(Transport::Udp),
        Some((_, t)) if t == "relp" => Some(Transport::Relp),
        Some((_, t)) if t == "relp-tls" => Some(Transport::RelpTls),
        Some((v, _)) => {
            ctx.report(
                v.span(),
                &key(prefix, "transport"),
                format!("unknown transport {:?}", v.get_ref()),
                "use \"tcp\" (default), \"tls\", \"udp\", \"relp\" or \"relp-tls\"".to_owned(),
            );
            None
        }
    };
    let default_port = match transport {
        Some(Transport::Tls) => 6514,
        Some(Transport::Relp | Transport::RelpTls) => 2514,
        _ => 514,
    };
    let port = port(ctx, &raw.port, &key(prefix, "port"), default_port);
    let confirm = syslog_confirm(ctx, raw.confirm.as_ref(), transport, prefix);
    let payload = match &raw.payload {
        None => Some(syslog::Payload::default()),
        Some(v) => {
            let kind = icsfwd_core::format::Kind::from_name(v.get_ref());
            let payload =
                kind.and_then(|k| syslog::Payload::of(k, &icsfwd_core::format::Options::default()));
            if payload.is_none() {
                ctx.report(
                    v.span(),
                    &key(prefix, "payload"),
                    format!("unknown payload {:?}", v.get_ref()),
                    "use \"cef\" (default), \"leef\" or \"text\"".to_owned(),
                );
            }
            payload
        }
    };
    let facility = match &raw.facility {
        None => Some(syslog::Facility::USER),
        Some(v) => {
            let code = match v.get_ref() {
                raw::Level::Code(n) => u8::try_from(*n).ok(),
                raw::Level::Name(name) => {
                    let name = name.trim().to_ascii_lowercase();
                    FACILITIES
                        .iter()
                        .position(|f| *f == name)
                        .and_then(|i| u8::try_from(i).ok())
                }
            };
            let facility = code.and_then(syslog::Facility::new);
            if facility.is_none() {
                ctx.report(
                    v.span(),
                    &key(prefix, "facility"),
                    "is not a syslog facility".to_owned(),
                    format!("use 0-23 or a name: {}", FACILITIES.join(", ")),
                );
            }
            facility
        }
    };
    let per_severity = match &raw.level {
        None => true,
        Some(v) => {
            matches!(v.get_ref(), raw::Level::Name(n) if n.trim().eq_ignore_ascii_case("per-severity"))
        }
    };
    let level = if per_severity {
        let mut map = syslog::LevelMap::DEFAULT;
        let mut ok = true;
        if let Some(m) = &raw.level_map {
            let m = m.get_ref();
            for (name, v, slot) in [
                ("warning", &m.warning, &mut map.warning),
                ("minor", &m.minor, &mut map.minor),
                ("major", &m.major, &mut map.major),
                ("critical", &m.critical, &mut map.critical),
            ] {
                if let Some(v) = v {
                    match syslog_level(ctx, v, &format!("{prefix}.level_map.{name}")) {
                        Some(code) => *slot = code,
                        None => ok = false,
                    }
                }
            }
        }
        ok.then_some(syslog::Level::PerSeverity(map))
    } else {
        let fixed = raw
            .level
            .as_ref()
            .and_then(|v| syslog_level(ctx, v, &key(prefix, "level")));
        if let Some(m) = &raw.level_map {
            ctx.report(
                m.span(),
                &key(prefix, "level_map"),
                "level_map is set with a fixed level".to_owned(),
                "set level = \"per-severity\" to use the map, or remove level_map".to_owned(),
            );
            return None;
        }
        fixed.map(syslog::Level::Fixed)
    };
    let options = syslog::Options {
        facility: facility?,
        level: level?,
        payload: payload?,
        bom: false,
    };
    Some(Syslog {
        host: host?,
        port: port?,
        transport: transport?,
        confirm: confirm?,
        options,
    })
}

/// `confirm`: `tcp-ack` (default) or `write`, for syslog over tcp or tls only (UDP gives no
/// confirmation at all and RELP its own answer, so the key would promise what it cannot do).
fn syslog_confirm(
    ctx: &mut Ctx<'_>,
    raw: Option<&S<String>>,
    transport: Option<Transport>,
    prefix: &str,
) -> Option<Confirm> {
    let Some(v) = raw else {
        return Some(Confirm::default());
    };
    let unconfirmable = match transport {
        Some(Transport::Udp) => Some(
            "remove it: UDP gives no confirmation at all (a datagram the kernel took counts as \
             delivered)",
        ),
        Some(Transport::Relp | Transport::RelpTls) => Some(
            "remove it: over RELP the receiver answers every message, and only that answer \
             confirms a record",
        ),
        Some(Transport::Tcp | Transport::Tls) | None => None,
    };
    if let Some(fix) = unconfirmable {
        ctx.report(
            v.span(),
            &key(prefix, "confirm"),
            "`confirm` applies only to syslog over tcp or tls".to_owned(),
            fix.to_owned(),
        );
        return None;
    }
    match v.get_ref().trim().to_ascii_lowercase().as_str() {
        "tcp-ack" => Some(Confirm::TcpAck),
        "write" => Some(Confirm::Write),
        _ => {
            ctx.report(
                v.span(),
                &key(prefix, "confirm"),
                format!("unknown confirmation {:?}", v.get_ref()),
                "use \"tcp-ack\" (default: at least once, a broken connection re-sends) or \
                 \"write\" (a broken connection may lose records, counted as possible loss)"
                    .to_owned(),
            );
            None
        }
    }
}

// ---- rules -----------------------------------------------------------------------------------

/// `(rule or exclusion name, why it was refused)` from a core error, with the fix.
/// The core rule or exclusion built from the required `name` of the `[[what]]` table at
/// `prefix`; a missing or refused name is reported against its key.
fn named<T>(
    ctx: &mut Ctx<'_>,
    name: &Option<S<String>>,
    span: &Range<usize>,
    prefix: &str,
    what: &str,
    make: fn(&str) -> Result<T, icsfwd_core::rule::Error>,
) -> Option<T> {
    let name_key = key(prefix, "name");
    let fix = format!("add name = \"<{what} name>\"");
    let name_v = required(ctx, name, span, &name_key, &fix)?;
    match make(name_v.get_ref()) {
        Ok(made) => Some(made),
        Err(e) => {
            core_error(ctx, name_v.span(), &name_key, &e);
            None
        }
    }
}

fn core_error(ctx: &mut Ctx<'_>, span: Range<usize>, k: &str, e: &icsfwd_core::rule::Error) {
    use icsfwd_core::rule::Error as E;
    let fix = match e {
        E::TooMany { .. } => "remove some, or merge items that lead to the same destinations",
        E::TooLong { .. } => "shorten it",
        E::Blank { .. } => "write a value",
        E::EmptyList { .. } => "write \"all\" or list at least one",
        E::EmptyWindow { .. } => "make `end` later than `start`",
        E::Unconditional => "set addresses, titles, sensors, or a start and end",
        E::Subnet(_) => "write an address or a subnet such as \"10.0.0.0/8\" or \"fe80::/10\"",
        _ => "see docs/configuration.md",
    };
    ctx.report(span, k, e.to_string(), fix.to_owned());
}

fn rule_set(
    ctx: &mut Ctx<'_>,
    rules: &[Option<(raw::Rule, Range<usize>)>],
    exclusions: &[Option<(raw::Exclusion, Range<usize>)>],
    destinations: &[&str],
    destinations_incomplete: bool,
) -> Option<Box<RuleSet>> {
    if rules.is_empty() && !ctx.problems.iter().any(|(_, p)| p.key.starts_with("rule")) {
        ctx.report(
            0..0,
            "rule",
            "no [[rule]]: nothing would be forwarded".to_owned(),
            "add a [[rule]] with actions = [\"<destination name>\"]".to_owned(),
        );
    }
    let mut set = Box::new(RuleSet::new());
    let mut ok = true;
    for (i, entry) in rules.iter().enumerate() {
        let Some((raw, span)) = entry else {
            ok = false;
            continue;
        };
        let prefix = format!("rule[{i}]");
        match rule(
            ctx,
            raw,
            span,
            &prefix,
            destinations,
            destinations_incomplete,
        ) {
            Some(r) => {
                if let Err(e) = set.push_rule(r) {
                    ok = false;
                    core_error(ctx, span.clone(), &prefix, &e);
                }
            }
            None => ok = false,
        }
    }
    for (i, entry) in exclusions.iter().enumerate() {
        let Some((raw, span)) = entry else {
            ok = false;
            continue;
        };
        let prefix = format!("exclusion[{i}]");
        match exclusion(ctx, raw, span, &prefix) {
            Some(x) => {
                if let Err(e) = set.push_exclusion(x) {
                    ok = false;
                    core_error(ctx, span.clone(), &prefix, &e);
                }
            }
            None => ok = false,
        }
    }
    ok.then_some(set)
}

fn names(v: &S<raw::AllOr>) -> Result<Option<&[String]>, ()> {
    match v.get_ref() {
        raw::AllOr::Word(w) if w.trim().eq_ignore_ascii_case("all") => Ok(None),
        raw::AllOr::Word(_) => Err(()),
        raw::AllOr::List(list) => Ok(Some(list)),
    }
}

fn rule(
    ctx: &mut Ctx<'_>,
    raw: &raw::Rule,
    span: &Range<usize>,
    prefix: &str,
    destinations: &[&str],
    destinations_incomplete: bool,
) -> Option<Rule> {
    let mut rule = named(ctx, &raw.name, span, prefix, "rule", Rule::new)?;
    let mut ok = true;
    if let Some(v) = &raw.min_severity {
        match Severity::from_name(v.get_ref()) {
            Some(s) => rule = rule.with_min_severity(s),
            None => {
                ok = false;
                ctx.report(
                    v.span(),
                    &key(prefix, "min_severity"),
                    format!("unknown severity {:?}", v.get_ref()),
                    "use \"warning\", \"minor\", \"major\" or \"critical\"".to_owned(),
                );
            }
        }
    }
    if let Some(v) = &raw.protocols {
        let k = key(prefix, "protocols");
        match names(v) {
            Ok(None) => {}
            Ok(Some(list)) => match rule.clone().with_protocols(list.iter().map(String::as_str)) {
                Ok(r) => rule = r,
                Err(e) => {
                    ok = false;
                    core_error(ctx, v.span(), &k, &e);
                }
            },
            Err(()) => {
                ok = false;
                ctx.report(
                    v.span(),
                    &k,
                    "is neither \"all\" nor a list".to_owned(),
                    "write \"all\" or a list such as [\"Modbus\", \"S7\"]".to_owned(),
                );
            }
        }
    }
    if let Some(v) = &raw.engines {
        let k = key(prefix, "engines");
        match names(v) {
            Ok(None) => {}
            Ok(Some(list)) => {
                let mut engines = Vec::new();
                for (i, name) in list.iter().enumerate() {
                    match Engine::from_name(name) {
                        Some(e) => engines.push(e),
                        None => {
                            ok = false;
                            ctx.report(
                                v.span(),
                                &format!("{k}[{i}]"),
                                format!("unknown engine {name:?}"),
                                "use \"protocol violation\", \"policy violation\", \"malware\", \
                                 \"anomaly\" or \"operational\""
                                    .to_owned(),
                            );
                        }
                    }
                }
                if ok {
                    match rule.clone().with_engines(engines) {
                        Ok(r) => rule = r,
                        Err(e) => {
                            ok = false;
                            core_error(ctx, v.span(), &k, &e);
                        }
                    }
                }
            }
            Err(()) => {
                ok = false;
                ctx.report(
                    v.span(),
                    &k,
                    "is neither \"all\" nor a list".to_owned(),
                    "write \"all\" or a list such as [\"malware\", \"operational\"]".to_owned(),
                );
            }
        }
    }
    rule = rule
        .forwarding_alerts(flag(&raw.alerts, true))
        .forwarding_notifications(flag(&raw.system_notifications, false));
    let actions_key = key(prefix, "actions");
    match required(
        ctx,
        &raw.actions,
        span,
        &actions_key,
        "add actions = [\"<destination name>\", ...]",
    ) {
        None => ok = false,
        Some(list) if list.get_ref().is_empty() => {
            ok = false;
            ctx.report(
                list.span(),
                &actions_key,
                "is empty: the rule would send nowhere".to_owned(),
                "name at least one destination".to_owned(),
            );
        }
        Some(list) => {
            for (i, name) in list.get_ref().iter().enumerate() {
                let wanted = name.get_ref().trim();
                match destinations
                    .iter()
                    .position(|d| !d.is_empty() && *d == wanted)
                {
                    Some(id) => match u8::try_from(id).ok().and_then(DestinationId::new) {
                        Some(id) => rule = rule.with_action(id),
                        None => ok = false,
                    },
                    None => {
                        ok = false;
                        if !destinations_incomplete {
                            let defined: Vec<&str> = destinations
                                .iter()
                                .copied()
                                .filter(|d| !d.is_empty())
                                .collect();
                            let known = if defined.is_empty() {
                                "none is defined".to_owned()
                            } else {
                                format!("defined: {}", defined.join(", "))
                            };
                            ctx.report(
                                name.span(),
                                &format!("{actions_key}[{i}]"),
                                format!("no destination is named {wanted:?}"),
                                format!("use the name of a [[destination]] ({known})"),
                            );
                        }
                    }
                }
            }
        }
    }
    ok.then_some(rule)
}

/// Milliseconds since the epoch of a TOML offset date-time.
fn epoch_ms(dt: &toml::value::Datetime) -> Option<u64> {
    let (date, time, offset) = (dt.date?, dt.time?, dt.offset?);
    let offset_minutes: i64 = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes),
    };
    // The TOML parser has checked the date exists, so this is `Some`.
    let days = icsfwd_core::time::days_from_civil(i32::from(date.year), date.month, date.day)?;
    let secs = days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second.unwrap_or(0))
        - offset_minutes * 60;
    let ms = secs * 1000 + i64::from(time.nanosecond.unwrap_or(0) / 1_000_000);
    u64::try_from(ms).ok()
}

fn exclusion(
    ctx: &mut Ctx<'_>,
    raw: &raw::Exclusion,
    span: &Range<usize>,
    prefix: &str,
) -> Option<Exclusion> {
    let mut x = named(ctx, &raw.name, span, prefix, "exclusion", Exclusion::new)?;
    let mut ok = true;
    type Add = fn(Exclusion, &str) -> Result<Exclusion, icsfwd_core::rule::Error>;
    type Names = Option<S<Vec<S<String>>>>;
    let lists: [(&str, &Names, Add); 3] = [
        ("addresses", &raw.addresses, Exclusion::with_address),
        ("titles", &raw.titles, Exclusion::with_title),
        ("sensors", &raw.sensors, Exclusion::with_sensor),
    ];
    for (name, list, add) in lists {
        let Some(list) = list else { continue };
        for (i, item) in list.get_ref().iter().enumerate() {
            match add(x.clone(), item.get_ref()) {
                Ok(next) => x = next,
                Err(e) => {
                    ok = false;
                    core_error(ctx, item.span(), &format!("{prefix}.{name}[{i}]"), &e);
                }
            }
        }
    }
    let mut time = |v: &Option<S<toml::value::Datetime>>, name: &str| -> Option<Option<u64>> {
        let Some(v) = v else { return Some(None) };
        match epoch_ms(v.get_ref()) {
            Some(ms) => Some(Some(ms)),
            None => {
                ctx.report(
                    v.span(),
                    &key(prefix, name),
                    format!(
                        "{} is not a date and time with an offset after 1970",
                        v.get_ref()
                    ),
                    "write it like 2026-12-01T02:00:00Z (without quotes)".to_owned(),
                );
                None
            }
        }
    };
    let start = time(&raw.start, "start");
    let end = time(&raw.end, "end");
    match (start, end) {
        (Some(Some(start)), Some(Some(end))) => match TimeWindow::new(start, end) {
            Ok(w) => x = x.with_window(w),
            Err(e) => {
                ok = false;
                let at = raw.end.as_ref().map_or(span.clone(), S::span);
                core_error(ctx, at, &key(prefix, "end"), &e);
            }
        },
        (Some(None), Some(None)) => {}
        (Some(Some(_)), Some(None)) | (Some(None), Some(Some(_))) => {
            ok = false;
            let (present, missing, at) = match (&raw.start, &raw.end) {
                (Some(s), _) => ("start", "end", s.span()),
                (_, Some(e)) => ("end", "start", e.span()),
                _ => ("start", "end", span.clone()),
            };
            ctx.report(
                at,
                &key(prefix, present),
                format!("{present} is set without {missing}"),
                format!("set {missing} too: a window has both ends"),
            );
        }
        _ => ok = false,
    }
    if ok
        && x.window.is_none()
        && x.addresses.is_empty()
        && x.titles.is_empty()
        && x.sensors.is_empty()
    {
        core_error(
            ctx,
            span.clone(),
            prefix,
            &icsfwd_core::rule::Error::Unconditional,
        );
        return None;
    }
    ok.then_some(x)
}

// ---- spool, ingest, log ----------------------------------------------------------------------

fn spool(ctx: &mut Ctx<'_>, raw: raw::Spool) -> Option<Spool> {
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
    Some(Spool {
        dir: dir?,
        max_bytes: max_bytes?,
        segment_bytes: segment_bytes?,
        on_full: on_full?,
    })
}

fn ingest(ctx: &mut Ctx<'_>, raw: raw::Ingest) -> Option<Ingest> {
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

fn log(ctx: &mut Ctx<'_>, raw: raw::Log) -> Option<Log> {
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

fn metrics(ctx: &mut Ctx<'_>, raw: raw::Metrics) -> Option<Metrics> {
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

    #[test]
    fn hec_urls_are_base_urls_with_a_default_port() {
        let url = hec_url("https://splunk.example:8443/").unwrap();
        assert_eq!(url.to_string(), "https://splunk.example:8443");
        assert_eq!(
            hec_url("http://[::1]").unwrap().to_string(),
            "http://[::1]:8088"
        );
        for bad in [
            "splunk:8088",
            "https://s/services/collector",
            "https://u:p@s",
            "https://s:0",
            "https://s:99999",
            "https://",
        ] {
            assert!(hec_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn offset_datetimes_convert_to_epoch_ms() {
        let dt: toml::value::Datetime = "2023-11-14T22:13:20.5Z".parse().unwrap();
        assert_eq!(epoch_ms(&dt), Some(1_700_000_000_500));
        let dt: toml::value::Datetime = "2023-11-15T00:13:20+02:00".parse().unwrap();
        assert_eq!(epoch_ms(&dt), Some(1_700_000_000_000));
        let local: toml::value::Datetime = "2023-11-15T00:13:20".parse().unwrap();
        assert_eq!(epoch_ms(&local), None);
    }

    #[test]
    fn guids_are_8_4_4_4_12_hex() {
        assert!(is_guid("0b8f2a4c-5d1e-4f3a-9c7b-2e6d8a1f0c3e"));
        assert!(!is_guid("0b8f2a4c5d1e4f3a9c7b2e6d8a1f0c3e"));
        assert!(!is_guid("not-a-guid-at-all"));
    }
}
