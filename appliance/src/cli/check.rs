//! The configuration file's commands: `icsfwd check-config` (every key, value, file and
//! secret) and `icsfwd explain` (which rules take one alert, and why the others do not).

use std::io::{BufRead as _, Read as _};
use std::path::Path;

use super::{Error, load_config};
use crate::clock::now_ms;
use crate::config::LoadError;
use crate::exit::Exit;
use crate::ingest::schema::{self, Message};
use crate::send::open_input;

/// `icsfwd check-config`: a summary on stdout, warnings and problems on stderr; exit 0
/// valid, 2 invalid, 3 unreadable.
pub fn check_config(path: &Path) -> Exit {
    let config = match load_config(path) {
        Ok(config) => config,
        Err(err) => {
            match err.error() {
                LoadError::Unreadable { .. } => eprintln!("icsfwd: error: {}", err.error()),
                LoadError::Invalid(problems) => {
                    for problem in problems {
                        eprintln!("{problem}");
                    }
                    eprintln!(
                        "icsfwd: {}: {} problem(s): the configuration is not valid",
                        path.display(),
                        problems.len()
                    );
                }
            }
            return err.exit();
        }
    };
    for warning in config.warnings() {
        eprintln!("icsfwd: warning: {warning}");
    }
    println!(
        "{}: valid: sensor {:?}, {} destination(s), {} rule(s), {} exclusion(s)",
        path.display(),
        config.sensor.name,
        config.destinations.len(),
        config.rules.rules().len(),
        config.rules.exclusions().len()
    );
    for d in &config.destinations {
        println!("  destination {:?}: {}", d.name, d.kind.as_str());
        if let Some(trust) = d.trust_summary() {
            println!("    trust: {trust}");
        }
        if let Some(path) = d.path_summary() {
            println!("    path: {path}");
        }
    }
    Exit::Success
}

/// `icsfwd explain`: the rule-by-rule explanation and the destinations, for the first line
/// of `file` (standard input for `None` or `-`).
///
/// # Errors
///
/// The configuration cannot be loaded or the input read.
pub fn explain(file: Option<&str>, path: &Path) -> Result<Exit, Error> {
    let config = load_config(path)?;
    let max_line = config.ingest.max_line_bytes;
    let mut line = Vec::new();
    open_input(file)?
        .take(
            u64::try_from(max_line)
                .unwrap_or(u64::MAX)
                .saturating_add(2),
        )
        .read_until(b'\n', &mut line)?;
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    let now_ms = now_ms();
    let decoded = match schema::decode_line_within(&line, now_ms, max_line) {
        Ok(decoded) => decoded,
        Err(refusal) => {
            eprintln!("icsfwd: the line would be refused: {refusal}");
            return Ok(Exit::Failed);
        }
    };
    let Message::Event(event) = decoded.message else {
        println!("a heartbeat: it updates the sensor's liveness and is never forwarded");
        return Ok(Exit::Success);
    };
    // Destinations by key path and name (`destination[0] ("soc-hec")`), as the file has them.
    let names: Vec<&str> = config
        .destinations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    println!(
        "{}",
        config.rules.explain(&event, now_ms).with_names(&names)
    );
    let destinations = config.rules.route(&event, now_ms);
    let names: Vec<&str> = config
        .destinations
        .iter()
        .filter(|d| destinations.contains(d.id))
        .map(|d| d.name.as_str())
        .collect();
    if names.is_empty() {
        println!("=> not forwarded: no rule takes it");
    } else {
        println!("=> forwarded to: {}", names.join(", "));
    }
    Ok(Exit::Success)
}
