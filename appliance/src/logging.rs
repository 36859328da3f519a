//! The service's log: one line per record on standard error, in the form journald and syslog
//! understand.
//!
//! What it is: a [`log::Log`] implementation installed once by [`init`]. Each record is written
//! as `<P>icsfwd[module]: message` where `<P>` is the syslog priority prefix that systemd's
//! journal reads from a service's stderr (`sd-daemon(3)`: 3 error, 4 warning, 6 info, 7 debug
//! and trace), so `journalctl -p warning -u icsfwd` filters by level with no extra setup.
//!
//! What it guarantees:
//! - One record is one line: line breaks inside a message are written as `\n` (two
//!   characters), so a value read from the network cannot forge a second log line.
//! - Records below the configured level cost one comparison and are not formatted.
//! - The logger never panics and never blocks on anything but the write to stderr; a failed
//!   write is dropped (there is nowhere else to report it).
//! - It does not redact: the rule is that no secret is ever passed to it (the `Secret` type
//!   prints `[redacted]`, and the output layer redacts server replies).
//!
//! ```
//! use icsfwd::logging::format_line;
//!
//! let line = format_line(log::Level::Warn, "icsfwd::deliver", "HEC parked:\ncredentials rejected");
//! assert_eq!(line, "<4>icsfwd[deliver]: HEC parked:\\ncredentials rejected");
//! ```

use std::io::Write as _;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::config::LogLevel;

/// The level filter of a configured [`LogLevel`].
#[must_use]
pub fn filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warn => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::Trace => LevelFilter::Trace,
    }
}

/// Installs the stderr logger at `level`. A second call only changes the level (the logger
/// can be installed once per process).
pub fn init(level: LevelFilter) {
    static LOGGER: StderrLogger = StderrLogger;
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

/// One record as the line written (without its line feed): `<P>icsfwd[module]: message`, the
/// module being `target` without its `icsfwd::` prefix, and any CR or LF in the message
/// written as `\r` or `\n`.
#[must_use]
pub fn format_line(level: Level, target: &str, message: &str) -> String {
    let module = target
        .strip_prefix("icsfwd::")
        .or_else(|| (target == "icsfwd").then_some("main"))
        .unwrap_or(target);
    let mut line = format!("<{}>icsfwd[{module}]: ", priority(level));
    for c in message.chars() {
        match c {
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            c => line.push(c),
        }
    }
    line
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
        let mut line = format_line(record.level(), record.target(), &message);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
