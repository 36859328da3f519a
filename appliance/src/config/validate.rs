//! The checks every section uses, and the generic sections: each problem with its place and
//! its fix.
//!
//! - [`Ctx`] collects problems against one config text, each with its line and column.
//! - Tables: [`table`] deserializes one into its serde struct, reporting every key serde
//!   refuses (unknown, or a value of the wrong type) with its key path, in an operator's words
//!   ([`explain_serde`]).
//! - Values: texts, ports, durations, sizes, paths, files, and secrets (from a file, a
//!   variable or inline).
//! - The sections that are not destinations: `[sensor]`, `[spool]`, `[ingest]`, `[log]`
//!   (`[[rule]]` and `[[exclusion]]` are in `rules.rs`; each destination kind reads its own
//!   keys, `destination/<kind>/config.rs`).
//!
//! These sit below both the whole-file assembly (`document.rs`) and the destination kinds,
//! which use them; they use neither.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use icsfwd_core::alert;
use serde::de::{DeserializeOwned, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::raw::{self, S};
use super::{Ingest, Log, LogFormat, LogLevel, OnFull, Origin, Problem, Sensor, Spool};
use crate::destination::secret::{self, Secret};

const DEFAULT_SPOOL_DIR: &str = "/var/lib/icsfwd/spool";
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

// ---- tables --------------------------------------------------------------------------------

/// Keys holding a secret inline, whose value serde's messages must not quote.
const SECRET_KEYS: [&str; 2] = [".password", ".token"];

/// How many wrong keys one table may have before the rest are left unreported.
pub(crate) const MAX_KEY_ERRORS_PER_TABLE: usize = 64;

/// `value` (the value at `path`) as a table, or reported as not one.
pub(crate) fn as_table<'a>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'a>>,
    path: &str,
) -> Option<(DeTable<'a>, Range<usize>)> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Table(t) => Some((t, span)),
        other => {
            ctx.report(
                span,
                path,
                format!("`{path}` must be a table, not a {}", other.type_str()),
                format!("write it as a [{path}] section"),
            );
            None
        }
    }
}

/// Deserializes one table: [`as_table`], then [`deserialize_table`].
pub(crate) fn table<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'_>>,
    path: &str,
) -> Option<(T, Range<usize>)> {
    let (t, span) = as_table(ctx, value, path)?;
    deserialize_table(ctx, t, &span, path).map(|parsed| (parsed, span))
}

/// Deserializes the table `t` (at `span`, key path `path`) into `T`. A key serde refuses
/// (unknown, or a value of the wrong type) is reported, taken out, and the table tried again,
/// so every such key is reported; a key taken out is remembered so that it is not reported
/// again as missing. `None` when more than [`MAX_KEY_ERRORS_PER_TABLE`] keys are wrong.
pub(crate) fn deserialize_table<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    t: DeTable<'_>,
    span: &Range<usize>,
    path: &str,
) -> Option<T> {
    deserialize_within(ctx, t, span, path, &mut key_error_budget())
}

/// How many wrong keys of one table are reported: [`MAX_KEY_ERRORS_PER_TABLE`], and one
/// more that ends the table (it is then left unread).
pub(crate) const fn key_error_budget() -> usize {
    MAX_KEY_ERRORS_PER_TABLE + 1
}

/// [`deserialize_table`] for a part of a table, the wrong keys counted against `budget`, the
/// table's (shared by its parts); `None` once it is spent.
pub(crate) fn deserialize_within<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    mut t: DeTable<'_>,
    span: &Range<usize>,
    path: &str,
    budget: &mut usize,
) -> Option<T> {
    loop {
        if *budget == 0 {
            return None;
        }
        let e = match attempt::<T>(&t, span) {
            Ok(parsed) => return Some(parsed),
            Err(e) => e,
        };
        *budget -= 1;
        let top = report_serde(ctx, &e, &t, span, path)?;
        drop_key(ctx, &mut t, path, &top);
    }
}

/// Deserializes (a copy of) the table `t` at `span` into `T`.
pub(crate) fn attempt<T: DeserializeOwned>(
    t: &DeTable<'_>,
    span: &Range<usize>,
) -> Result<T, toml::de::Error> {
    let value = Spanned::new(span.clone(), DeValue::Table(t.clone()));
    T::deserialize(ValueDeserializer::from(value))
}

/// Reports serde's error `e` about the table `t` (at `span`, key path `path`) in an
/// operator's words, with the path of the key it is about; returns that key's name in `t`
/// (`None` when no key of `t` holds the error).
pub(crate) fn report_serde(
    ctx: &mut Ctx<'_>,
    e: &toml::de::Error,
    t: &DeTable<'_>,
    span: &Range<usize>,
    path: &str,
) -> Option<String> {
    let at = e.span().unwrap_or(span.clone());
    let inner = locate_in_table(t, at.start);
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
    top_key(t, at.start)
}

/// The name of the key of `t` whose key or value holds `offset`.
pub(crate) fn top_key(t: &DeTable<'_>, offset: usize) -> Option<String> {
    t.iter()
        .find(|(k, v)| k.span().contains(&offset) || v.span().contains(&offset))
        .map(|(k, _)| k.get_ref().to_string())
}

/// Takes the key `top` out of `t` (at `path`), remembered as already reported.
pub(crate) fn drop_key(ctx: &mut Ctx<'_>, t: &mut DeTable<'_>, path: &str, top: &str) {
    ctx.removed.insert(format!("{path}.{top}"));
    t.remove(top);
}

/// The keys the serde struct `T` takes, as its derive lists them (so a table's keys are
/// written once, in its struct).
pub(crate) fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut probe = FieldsProbe(None);
    // The probe fails every deserialization; it only records the field names it was shown.
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// A deserializer that records the field names a derived struct asks it for.
struct FieldsProbe(Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for &mut FieldsProbe {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(serde::de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The key path, inside `t`, of the key or value at `offset` (empty when none holds it).
pub(crate) fn locate_in_table(t: &DeTable<'_>, offset: usize) -> String {
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
pub(crate) fn explain_serde(message: &str) -> (String, String) {
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
    Some(Spool {
        dir: dir?,
        max_bytes: max_bytes?,
        segment_bytes: segment_bytes?,
        on_full: on_full?,
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
}
