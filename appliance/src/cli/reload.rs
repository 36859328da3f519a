//! `icsfwd reload` and `icsfwd spool release-destination`: requests to the running service
//! through its control socket (`crate::reload::control`), beside the ingest socket of the
//! configuration. With the service stopped, `release-destination` works on the spool itself
//! (`release_at_rest`): as the spool's owner, under the spool's lock, as the service would.

use std::io;
use std::path::{Path, PathBuf};

use icsfwd_core::destination::DestinationId;

use super::load_config;
use crate::config::{Config, LoadError};
use crate::exit::Exit;
use crate::reload::{Answer, control};
use crate::spool::lock::LockError;
use crate::spool::storage::FsStorage;
use crate::spool::{OpenError, Spool};

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

/// `icsfwd spool release-destination NAME`: lets go of the records the spool keeps for
/// `name`, a destination the configuration no longer names. Asks the running service; when
/// no service answers on the control socket, releases them in the spool itself
/// (`release_at_rest`, as the spool's owner: switching to it when `as_owner`).
pub fn release_destination(name: &str, config: &Path, as_owner: bool) -> Exit {
    let socket = control_socket(config);
    match control::request(&socket, &format!("release-destination {name}")) {
        Ok(Answer::Released(records)) => released(name, records),
        Ok(answer) => other(&answer),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            release_at_rest(name, config, as_owner)
        }
        Err(e) => unreachable(&socket, &e),
    }
}

fn released(name: &str, records: u64) -> Exit {
    println!(
        "released: {records} record(s) kept for the removed destination {name} will not be \
         delivered"
    );
    Exit::Success
}

/// The service is not running: opens the spool of `config` (its lock taken, as the service
/// takes it, so a service starting meanwhile waits for nothing and is refused nothing it
/// needs), acknowledges every record of the kept position `name` and checkpoints, which
/// removes the segments nobody needs any more.
fn release_at_rest(name: &str, path: &Path, as_owner: bool) -> Exit {
    let config = match load_config(path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!(
                "icsfwd: the service is not running, and the spool cannot be found without a \
                 valid configuration: {e}"
            );
            return Exit::Failed;
        }
    };
    if config.destination(name).is_some() {
        eprintln!(
            "icsfwd: destination \"{name}\" is in the configuration {}: remove it from the \
             file first (only a removed destination's records can be released)",
            path.display()
        );
        return Exit::Failed;
    }
    if let Err(exit) = super::deadletter::run_as_owner(&config.spool.dir, as_owner) {
        return exit;
    }
    match release_in_spool(name, &config) {
        Ok(records) => released(name, records),
        Err(why) => {
            eprintln!("icsfwd: nothing released: {why}");
            Exit::Failed
        }
    }
}

/// Opens the spool of `config`, releases the kept position `name` and checkpoints. Returns
/// the records released.
fn release_in_spool(name: &str, config: &Config) -> Result<u64, String> {
    let dir = &config.spool.dir;
    let names: Vec<String> = config.destinations.iter().map(|d| d.name.clone()).collect();
    let spool_config = crate::service::spool_config(&config.spool);
    let (mut spool, _) =
        Spool::open(FsStorage::new(), dir, spool_config, &names).map_err(|e| match e {
            OpenError::Lock(held @ LockError::Held { .. }) => format!(
                "{held}; the service holds the spool but its control socket did not answer: \
                 retry once it runs (systemctl status icsfwd)"
            ),
            e => format!("opening the spool {}: {e}", dir.display()),
        })?;
    let kept = spool
        .destination_names()
        .iter()
        .enumerate()
        .skip(names.len())
        .find(|(_, kept)| *kept == name)
        .map(|(index, _)| index);
    let Some(id) = kept
        .and_then(|index| u8::try_from(index).ok())
        .and_then(DestinationId::new)
    else {
        let kept: Vec<&str> = spool
            .destination_names()
            .iter()
            .skip(names.len())
            .map(String::as_str)
            .collect();
        return Err(format!(
            "the spool keeps nothing for \"{name}\" (removed destinations kept: {})",
            if kept.is_empty() {
                "none".to_owned()
            } else {
                kept.join(", ")
            }
        ));
    };
    let records = spool
        .release_destination(id)
        .and_then(|records| spool.checkpoint().map(|_| records))
        .map_err(|e| format!("releasing \"{name}\": {e}"))?;
    Ok(records)
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
