//! The service's log: one line per record on standard error, as journald reads it or as JSON.
//!
//! What it is: a [`log::Log`] implementation installed once by [`init`], writing each record in
//! the configured [`LogFormat`] (`[log] format`):
//!
//! - `journald` (the default): `<P>icsfwd[module]: message`, where `<P>` is the syslog priority
//!   prefix that systemd's journal reads from a service's stderr (`sd-daemon(3)`: 3 error,
//!   4 warning, 6 info, 7 debug and trace), so `journalctl -p warning -u icsfwd` filters by
//!   level with no extra setup. Structured fields, if a record has any, follow the message as
//!   ` key=value`.
//! - `json`: one JSON object per line, `{"time":"<RFC 3339, UTC, ms>","level":"warn",
//!   "target":"icsfwd::deliver","message":"..."}`, with a `"fields"` object of the record's
//!   structured fields (strings) when it has any. No `<P>` prefix: every line is JSON alone,
//!   for a log shipper; journald then files it at the unit's default priority, so filter on
//!   `level` instead.
//!
//! What it guarantees:
//! - One record is one line, and no control character reaches the log raw: in `journald`
//!   lines, LF, CR and tab are written `\n`, `\r`, `\t`, every other C0 control, DEL and every
//!   C1 control `\xHH` (ESC is `\x1b`, NEL `\x85`), and the line and paragraph separators
//!   U+2028/U+2029 `\u2028`/`\u2029` — so a value read from the network (an alert's text, a
//!   server's reply) can neither forge a log line nor send terminal escape sequences to
//!   whoever reads the journal. In `json` lines the same characters are JSON escapes
//!   (`\n`, `\r`, `\t`, otherwise `\u001b`, `\u0085`, `\u2028`), which a JSON reader turns
//!   back into the original text.
//! - Records below the configured level cost one comparison and are not formatted.
//! - The logger never panics and never blocks on anything but the write to stderr; a failed
//!   write is dropped (there is nowhere else to report it).
//! - It does not redact: the rule is that no secret is ever passed to it (the `Secret` type
//!   prints `[redacted]`, and the output layer redacts server replies).
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};

use icsfwd_core::time::Civil;
use log::kv::{Key, Value, VisitSource};
use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::clock::now_ms;
use crate::config::{LogFormat, LogLevel};

/// The level filter of a configured [`LogLevel`].
#[must_use]
pub(crate) fn filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warn => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::Trace => LevelFilter::Trace,
    }
}

/// The format the installed logger writes: a [`LogFormat`] as a number, so that [`init`] can
/// set it without a lock.
static FORMAT: AtomicU8 = AtomicU8::new(JOURNALD);
const JOURNALD: u8 = 0;
const JSON: u8 = 1;

/// Installs the stderr logger at `level`, writing `format`. A second call only changes the
/// level and the format (the logger can be installed once per process).
pub(crate) fn init(level: LevelFilter, format: LogFormat) {
    static LOGGER: StderrLogger = StderrLogger;
    let code = match format {
        LogFormat::Journald => JOURNALD,
        LogFormat::Json => JSON,
    };
    FORMAT.store(code, Ordering::Relaxed);
    // An Err means a logger is already installed (a second init, or a test harness): keep it.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

/// The syslog priority journald reads from a `<P>` prefix.
const fn priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// Whether the log escapes `c`: every C0 control, DEL, every C1 control, and the line and
/// paragraph separators.
fn is_escaped(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Appends `text` to `out` with each character [`is_escaped`] written as `\n`, `\r`, `\t`,
/// `\xHH` (code points up to U+00FF) or `\uHHHH` (the separators).
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_escaped(c) && u32::from(c) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if is_escaped(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// Appends `text` to `out` as a JSON string (quotes included): `"` and `\` escaped, and each
/// character [`is_escaped`] as `\n`, `\r`, `\t` or `\u00HH` / `\u20HH`.
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_escaped(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The module shown in a journald line: `target` without its `icsfwd::` prefix.
fn module(target: &str) -> &str {
    target
        .strip_prefix("icsfwd::")
        .or_else(|| (target == "icsfwd").then_some("main"))
        .unwrap_or(target)
}

/// One record as the journald line written (without its line feed):
/// `<P>icsfwd[module]: message`, the module being `target` without its `icsfwd::` prefix,
/// every control character of the message escaped (see the module docs).
#[cfg(test)]
#[must_use]
pub(crate) fn format_line(level: Level, target: &str, message: &str) -> String {
    format_line_with_fields(level, target, message, &[])
}

/// [`format_line`] followed by the record's structured fields as ` key=value`, keys and values
/// escaped like the message.
#[must_use]
pub(crate) fn format_line_with_fields(
    level: Level,
    target: &str,
    message: &str,
    fields: &[(String, String)],
) -> String {
    let mut line = format!("<{}>icsfwd[", priority(level));
    push_escaped(&mut line, module(target));
    line.push_str("]: ");
    push_escaped(&mut line, message);
    for (key, value) in fields {
        line.push(' ');
        push_escaped(&mut line, key);
        line.push('=');
        push_escaped(&mut line, value);
    }
    line
}

/// One record as the JSON line written (without its line feed): `time` (RFC 3339, UTC, with
/// milliseconds, from `time_ms`), `level` (`error`, `warn`, `info`, `debug`, `trace`),
/// `target` (the full module path), `message`, and `fields` when there are any.
#[must_use]
pub(crate) fn format_json_line(
    time_ms: u64,
    level: Level,
    target: &str,
    message: &str,
    fields: &[(String, String)],
) -> String {
    let mut line = String::with_capacity(96 + message.len());
    let _ = write!(
        line,
        "{{\"time\":\"{}\",\"level\":\"{}\",\"target\":",
        Civil::from_epoch_ms(time_ms).rfc3339(),
        level.as_str().to_ascii_lowercase()
    );
    push_json_string(&mut line, target);
    line.push_str(",\"message\":");
    push_json_string(&mut line, message);
    if !fields.is_empty() {
        line.push_str(",\"fields\":{");
        for (i, (key, value)) in fields.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            push_json_string(&mut line, key);
            line.push(':');
            push_json_string(&mut line, value);
        }
        line.push('}');
    }
    line.push('}');
    line
}

/// Collects a record's structured fields as text.
struct Fields(Vec<(String, String)>);

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        self.0.push((key.as_str().to_owned(), value.to_string()));
        Ok(())
    }
}

#[derive(Debug)]
struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let mut fields = Fields(Vec::new());
        // A source that fails half-way still leaves the fields it gave.
        let _ = record.key_values().visit(&mut fields);
        let mut line = match FORMAT.load(Ordering::Relaxed) {
            JSON => format_json_line(
                now_ms(),
                record.level(),
                record.target(),
                &message,
                &fields.0,
            ),
            _ => format_line_with_fields(record.level(), record.target(), &message, &fields.0),
        };
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    /// Every C0 control, DEL, every C1 control and the two separators, with text around.
    fn hostile() -> String {
        let mut text = String::from("alert ");
        for code in (0x00..=0x1f).chain(0x7f..=0x9f).chain([0x2028, 0x2029]) {
            text.push(char::from_u32(code).unwrap());
        }
        text.push_str(" \u{1b}[2J\u{1b}]0;owned\u{7} é 日本 \\ \"q\" end");
        text
    }

    #[test]
    fn each_level_gets_its_journald_priority() {
        let cases = [
            (Level::Error, "<3>"),
            (Level::Warn, "<4>"),
            (Level::Info, "<6>"),
            (Level::Debug, "<7>"),
            (Level::Trace, "<7>"),
        ];
        for (level, prefix) in cases {
            assert!(
                format_line(level, "icsfwd::spool", "m").starts_with(prefix),
                "{level}"
            );
        }
    }

    #[test]
    fn a_line_break_in_a_message_cannot_start_a_second_record() {
        let line = format_line(Level::Info, "icsfwd", "a\r\n<3>icsfwd[main]: forged");
        assert_eq!(line, "<6>icsfwd[main]: a\\r\\n<3>icsfwd[main]: forged");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn no_control_character_reaches_a_journald_line() {
        let line = format_line_with_fields(
            Level::Warn,
            "icsfwd::ingest",
            &hostile(),
            &[("title\u{1b}".to_owned(), hostile())],
        );
        assert!(!line.chars().any(is_escaped), "{line:?}");
        assert!(line.starts_with(
            "<4>icsfwd[ingest]: alert \\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r"
        ));
        for escape in [
            "\\x1b[2J",
            "\\x1b]0;owned\\x07",
            "\\x7f\\x80",
            "\\x85",
            "\\x9f",
        ] {
            assert!(line.contains(escape), "{escape} in {line:?}");
        }
        assert!(line.contains("\\u2028\\u2029 "), "{line:?}");
        assert!(line.contains(" title\\x1b=alert "), "{line:?}");
        assert!(
            line.contains(" é 日本 \\ \"q\" end"),
            "the rest is kept: {line:?}"
        );
    }

    #[test]
    fn no_control_character_reaches_a_json_line_and_json_gives_the_text_back() {
        let message = hostile();
        let fields = [("detail\n".to_owned(), hostile())];
        let line = format_json_line(
            1_557_059_334_123,
            Level::Error,
            "icsfwd::deliver",
            &message,
            &fields,
        );
        assert!(!line.chars().any(is_escaped), "{line:?}");
        assert!(line.contains("\\u001b[2J"), "{line:?}");
        assert!(
            line.contains("\\u0085") && line.contains("\\u2028"),
            "{line:?}"
        );
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "time": "2019-05-05T12:28:54.123Z",
                "level": "error",
                "target": "icsfwd::deliver",
                "message": message,
                "fields": {"detail\n": hostile()},
            })
        );
    }

    #[test]
    fn a_json_line_without_fields_has_exactly_the_four_members() {
        let line = format_json_line(0, Level::Debug, "ureq::pool", "x", &[]);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "time": "1970-01-01T00:00:00.000Z",
                "level": "debug",
                "target": "ureq::pool",
                "message": "x",
            })
        );
    }

    #[test]
    fn a_records_structured_fields_are_collected() {
        let pairs = [("destination", "soc-hec"), ("backlog", "12")];
        let record = Record::builder()
            .args(format_args!("parked"))
            .key_values(&pairs)
            .build();
        let mut fields = Fields(Vec::new());
        record.key_values().visit(&mut fields).unwrap();
        assert_eq!(
            format_line_with_fields(Level::Info, "icsfwd::deliver", "parked", &fields.0),
            "<6>icsfwd[deliver]: parked destination=soc-hec backlog=12"
        );
    }

    #[test]
    fn other_crates_keep_their_target_as_the_module() {
        assert_eq!(
            format_line(Level::Debug, "ureq::pool", "x"),
            "<7>icsfwd[ureq::pool]: x"
        );
    }

    #[test]
    fn configured_levels_map_to_filters() {
        assert_eq!(filter(LogLevel::Warn), LevelFilter::Warn);
        assert_eq!(filter(LogLevel::Trace), LevelFilter::Trace);
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::logging::{format_json_line, format_line};

        let line = format_line(
            log::Level::Warn,
            "icsfwd::deliver",
            "HEC parked:\ncredentials rejected",
        );
        assert_eq!(
            line,
            "<4>icsfwd[deliver]: HEC parked:\\ncredentials rejected"
        );
        let line = format_line(log::Level::Info, "icsfwd::ingest", "title \u{1b}[31mred");
        assert_eq!(line, "<6>icsfwd[ingest]: title \\x1b[31mred");

        let json = format_json_line(0, log::Level::Warn, "icsfwd::deliver", "parked\u{1b}", &[]);
        assert_eq!(
            json,
            r#"{"time":"1970-01-01T00:00:00.000Z","level":"warn","target":"icsfwd::deliver","message":"parked\u001b"}"#
        );
    }
}
