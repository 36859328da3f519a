//! `icsfwd reload` and `icsfwd spool release-destination`: requests to the running service
//! through its control socket (`crate::reload::control`), beside the ingest socket of the
//! configuration.

use std::io;
use std::path::{Path, PathBuf};

use super::load_config;
use crate::config::LoadError;
use crate::exit::Exit;
use crate::reload::{Answer, control};

/// The ingest socket when the configuration does not say.
const DEFAULT_INGEST_SOCKET: &str = "/run/icsfwd/ingest.sock";

/// `icsfwd reload`: asks the service to read `config` again and prints its answer: applied
/// and what changed (stdout), or refused and why (stderr, the problems as `check-config`
/// lists them).
pub fn reload(config: &Path) -> Exit {
    let socket = control_socket(config);
    let answer = match control::request(&socket, "reload") {
        Ok(answer) => answer,
        Err(e) => return unreachable(&socket, &e),
    };
    match answer {
        Answer::Applied(summary) => {
            println!("applied: {summary}");
            Exit::Success
        }
        Answer::Invalid(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!(
                "icsfwd: refused: {} is not valid; the running configuration stays (fix it, \
                 check it with `icsfwd check-config -c {}`, then reload)",
                config.display(),
                config.display()
            );
            Exit::ConfigInvalid
        }
        Answer::Unreadable(why) => {
            eprintln!("icsfwd: refused: the service {why}; the running configuration stays");
            Exit::ConfigUnreadable
        }
        Answer::RestartNeeded(why) => {
            for line in &why {
                eprintln!("{line}");
            }
            eprintln!("icsfwd: refused: the running configuration stays");
            Exit::RestartNeeded
        }
        Answer::Released(_) | Answer::Failed(_) => other(&answer),
    }
}

/// `icsfwd spool release-destination NAME`: asks the service to let go of the records it
/// keeps for `name`, a destination a reload removed.
pub fn release_destination(name: &str, config: &Path) -> Exit {
    let socket = control_socket(config);
    match control::request(&socket, &format!("release-destination {name}")) {
        Ok(Answer::Released(records)) => {
            println!(
                "released: {records} record(s) kept for the removed destination {name} will \
                 not be delivered"
            );
            Exit::Success
        }
        Ok(answer) => other(&answer),
        Err(e) => unreachable(&socket, &e),
    }
}

fn other(answer: &Answer) -> Exit {
    eprint!("icsfwd: {}", answer.to_text());
    Exit::Failed
}

fn unreachable(socket: &Path, e: &io::Error) -> Exit {
    eprintln!(
        "icsfwd: cannot reach the service at {}: {e}; is it running (systemctl status \
         icsfwd)? Is -c the configuration it runs with?",
        socket.display()
    );
    Exit::Failed
}

/// The control socket of the service running on `config`: beside its `[ingest] socket`. A
/// configuration that does not validate (what a refused reload is about) is still read for
/// that one key.
fn control_socket(config: &Path) -> PathBuf {
    let ingest = match load_config(config) {
        Ok(config) => config.ingest.socket,
        Err(e) => match e.error() {
            LoadError::Invalid(_) => ingest_socket_of_text(config)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_INGEST_SOCKET)),
            LoadError::Unreadable { .. } => PathBuf::from(DEFAULT_INGEST_SOCKET),
        },
    };
    control::path_for(&ingest)
}

/// `[ingest] socket` of the file at `path`, read leniently (the rest may be invalid, even
/// its TOML syntax): the TOML value when the file parses, else the first `socket = "…"` line
/// after an `[ingest]` header.
fn ingest_socket_of_text(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(path).ok()?;
    if let Ok(value) = text.parse::<toml::Table>() {
        return value
            .get("ingest")?
            .get("socket")?
            .as_str()
            .map(PathBuf::from);
    }
    let mut in_ingest = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_ingest = line == "[ingest]";
        } else if in_ingest
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "socket"
        {
            let value = value.trim().strip_prefix('"')?;
            return Some(PathBuf::from(value.split('"').next()?));
        }
    }
    None
}
