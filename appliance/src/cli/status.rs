//! `icsfwd status`: the snapshot the running service writes beside its socket
//! ([`crate::status`]).

use std::io;
use std::path::Path;

use super::{Error, load_config};
use crate::clock::now_ms;
use crate::exit::Exit;
use crate::status;

/// `icsfwd status`: the snapshot for a person, or as JSON; exit 0 healthy, 1 not running, 2
/// degraded or stale.
///
/// # Errors
///
/// The configuration cannot be loaded, the status file cannot be read (other than missing)
/// or the output written.
pub fn status(config: &Path, json: bool) -> Result<Exit, Error> {
    let path = status::path_for(&load_config(config)?.ingest.socket);
    let snapshot = match status::read(&path) {
        Ok(snapshot) => snapshot,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            eprintln!(
                "icsfwd: not running: no status file at {} (start it: systemctl start icsfwd)",
                path.display()
            );
            return Ok(Exit::Failed);
        }
        Err(source) => {
            return Err(Error::Read {
                what: format!("reading {}", path.display()),
                source,
            });
        }
    };
    let now = now_ms();
    if json {
        println!("{}", serde_json::to_string_pretty(&snapshot)?);
    } else {
        print!("{}", snapshot.render(now));
    }
    Ok(
        if snapshot.healthy() && snapshot.age_ms(now) <= status::STALE_AFTER_MS {
            Exit::Success
        } else {
            Exit::Degraded
        },
    )
}
