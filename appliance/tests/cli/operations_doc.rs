//! Every error and warning the service can log, and every reason it can park a destination
//! for, has a troubleshooting entry in `docs/operations.md`.
//!
//! How: the non-test part of every `.rs` file under `appliance/src` (each file is cut at its
//! first `#[cfg(test)]`) is scanned with regular expressions for
//! - the format string of every `log::error!` / `log::warn!` (or `error!` / `warn!`) call, and
//! - the first string literal of every park: `Action::park("…")`, `Action::park(format!("…"`,
//!   `Park { reason: format!("…"` or `Park { reason: self.redactor.redact(&format!("…"`.
//!
//! Each literal is split at its `{…}` placeholders and the longest piece (trimmed) is the
//! fragment the documentation must quote, somewhere in its "Troubleshooting" section (both
//! compared with runs of white space collapsed, so the doc may wrap lines). A string with no
//! piece of at least [`MIN_FRAGMENT`] characters (`"{warning}"`, a wrapper such as
//! `"destination {:?}: {message}"`) carries the text of another message and is not checked
//! itself. So a new error without documentation fails the build.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;

/// Shorter pieces (`"destination "`, `": "`) say nothing an operator could look up.
const MIN_FRAGMENT: usize = 13;

/// A message found in the source: where, and the fragment the doc must quote.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    fragment: String,
    file: String,
}

/// The body of a Rust string literal as the program sees it (escapes resolved, a `\` line
/// continuation removed together with the next line's leading white space).
fn unescape(literal: &str) -> String {
    let mut out = String::new();
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\n') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The longest literal piece of a format string between its placeholders, if it is long enough
/// to be looked up.
fn fragment(format: &str) -> Option<String> {
    let placeholder = Regex::new(r"\{[^{}]*\}").unwrap();
    placeholder
        .split(format)
        .map(str::trim)
        .max_by_key(|piece| piece.chars().count())
        .filter(|piece| piece.chars().count() >= MIN_FRAGMENT)
        .map(str::to_owned)
}

/// The log and park messages in one source text (test modules excluded).
fn messages(source: &str) -> Vec<String> {
    let code = source
        .find("#[cfg(test)]")
        .map_or(source, |at| &source[..at]);
    let string = r#""((?:[^"\\]|\\.)*)""#;
    let log = Regex::new(&format!(r"(?s)\b(?:log::)?(?:error|warn)!\(\s*{string}")).unwrap();
    let park = Regex::new(&format!(
        r#"(?s)(?:(?:Action|Self)::park\(|Park\s*\{{\s*reason:)[^"{{}};]*{string}"#
    ))
    .unwrap();
    log.captures_iter(code)
        .chain(park.captures_iter(code))
        .map(|c| unescape(&c[1]))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every fragment the documentation must quote, with the file it comes from.
fn required() -> BTreeSet<Found> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = BTreeSet::new();
    for file in files {
        let source = fs::read_to_string(&file).unwrap();
        for message in messages(&source) {
            if let Some(fragment) = fragment(&message) {
                found.insert(Found {
                    fragment,
                    file: file.strip_prefix(&src).unwrap().display().to_string(),
                });
            }
        }
    }
    found
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The "Troubleshooting" section of docs/operations.md, white space collapsed.
fn troubleshooting() -> String {
    let doc = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    let start = doc
        .find("\n## Troubleshooting")
        .expect("docs/operations.md has a Troubleshooting section");
    let section = &doc[start + 4..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    collapse(section)
}

#[test]
fn every_logged_error_and_park_reason_has_a_troubleshooting_entry() {
    let required = required();
    // The scan itself must work: the service has (many) more messages than this.
    assert!(
        required.len() >= 25,
        "too few messages found: {required:#?}"
    );
    let section = troubleshooting();
    let missing: Vec<&Found> = required
        .iter()
        .filter(|found| !section.contains(&collapse(&found.fragment)))
        .collect();
    assert!(
        missing.is_empty(),
        "messages without a troubleshooting entry in docs/operations.md \
         (quote each fragment there, with what it means and what to do): {missing:#?}"
    );
}

#[test]
fn the_scan_finds_log_calls_and_park_reasons_in_every_form() {
    let source = r#"
        log::error!("spool checkpoint failed (retried in {:?}): {message}", x);
        warn!(
            "the sensor offline notification was not delivered within {} s; it stays \
             in the spool",
            n
        );
        log::info!("started, not an error");
        let a = Action::park("acks requested but the reply has no ackId: enable");
        let b = Action::park(format!("channel refused ({}): check the channel setting", d));
        let c = Action::Park {
            reason: self.redactor.redact(&format!("login failed, credentials rejected: {m}")),
        };
        match x { Action::Park { reason } => f("not a reason"), }
        let d = Action::Park { reason: error.clone() };
        #[cfg(test)]
        mod tests { fn t() { log::error!("only in a test"); } }
    "#;
    let found = messages(source);
    assert_eq!(
        found,
        [
            "spool checkpoint failed (retried in {:?}): {message}",
            "the sensor offline notification was not delivered within {} s; it stays in the spool",
            "acks requested but the reply has no ackId: enable",
            "channel refused ({}): check the channel setting",
            "login failed, credentials rejected: {m}",
        ]
    );
    let fragments: Vec<Option<String>> = found.iter().map(|m| fragment(m)).collect();
    assert_eq!(
        fragments,
        [
            Some("spool checkpoint failed (retried in".to_owned()),
            Some("the sensor offline notification was not delivered within".to_owned()),
            Some("acks requested but the reply has no ackId: enable".to_owned()),
            Some("): check the channel setting".to_owned()),
            Some("login failed, credentials rejected:".to_owned()),
        ]
    );
    assert_eq!(fragment("destination {:?}: {message}"), None);
    assert_eq!(fragment("{warning}"), None);
}
