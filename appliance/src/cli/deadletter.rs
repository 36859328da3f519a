//! `icsfwd deadletter list` and `icsfwd deadletter replay <destination>`: the records a
//! destination refused for good (`crate::deliver::replay`).

use std::io::{self, Write as _};
use std::path::Path;

use super::{Error, command_line, load_config};
use crate::deliver::{self, deadletter, replay};
use crate::exit::Exit;
use crate::probe;
use crate::spool::owner::{self, OwnerError};

/// `icsfwd deadletter list`: per destination, its file, records and reasons grouped.
///
/// # Errors
///
/// The dead-letter directory cannot be read or the output written.
pub fn list(path: &Path) -> Result<Exit, Error> {
    let config = match load_config(path) {
        Ok(config) => config,
        Err(err) => return Ok(err.report("")),
    };
    let files = replay::list(&config.spool.dir)?;
    let mut out = io::stdout().lock();
    if files.iter().all(|f| f.records == 0) {
        writeln!(
            out,
            "no dead letters under {}",
            config.spool.dir.join(deadletter::DIR).display()
        )?;
    }
    for file in files.iter().filter(|f| f.records > 0) {
        writeln!(
            out,
            "{}: {} record(s) in {}",
            file.destination,
            file.records,
            file.path.display()
        )?;
        for (reason, count) in &file.reasons {
            writeln!(out, "  {count:>6}  {reason}")?;
        }
        if file.undecodable > 0 {
            writeln!(out, "  {:>6}  (undecodable lines)", file.undecodable)?;
        }
        if config.destination(&file.destination).is_none() {
            writeln!(
                out,
                "  (no destination {:?} in the configuration: it cannot be replayed)",
                file.destination
            )?;
        }
    }
    out.flush()?;
    Ok(Exit::Success)
}

/// `icsfwd deadletter replay <destination>`: one line per record, then the summary; exit 0
/// every record delivered, 1 some still in the file. It writes into the spool directory (the
/// dead-letter file, its locks), so it runs as the directory's owner only: run by another
/// user it refuses ([`Exit::NotOwner`]) unless `as_owner` lets it switch to the owner first.
pub fn replay(name: &str, path: &Path, dry_run: bool, as_owner: bool) -> Exit {
    let config = match load_config(path) {
        Ok(config) => config,
        Err(err) => return err.report(""),
    };
    let destination = match probe::find_destination(&config, name) {
        Ok(destination) => destination,
        Err(unknown) => {
            eprintln!("icsfwd: {unknown}");
            return Exit::Usage;
        }
    };
    if let Err(exit) = run_as_owner(&config.spool.dir, as_owner) {
        return exit;
    }
    let mut sender = match deliver::sender_for(destination, &config.sensor) {
        Ok(sender) => sender,
        Err(err) => {
            eprintln!("icsfwd: destination {name:?}: cannot set up the sender: {err}");
            return Exit::Failed;
        }
    };
    let options = replay::ReplayOptions {
        dry_run,
        ..replay::ReplayOptions::default()
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = replay::replay(
        &config.spool.dir,
        name,
        sender.as_mut(),
        &options,
        &mut |record| {
            let _ = writeln!(out, "{record}");
        },
    );
    match result {
        Ok(summary) => {
            let _ = writeln!(out, "{summary}");
            let clean = if summary.dry_run {
                summary.undecodable == 0
            } else {
                summary.delivered == summary.records
            };
            if clean { Exit::Success } else { Exit::Failed }
        }
        Err(err) => {
            eprintln!("icsfwd: replay of {name:?}: {err}");
            Exit::Failed
        }
    }
}

/// Makes sure this process runs as the owner of the spool directory `dir` before a command
/// writes into it: switches to the owner when `as_owner`, else refuses with the command to run
/// instead.
///
/// # Errors
///
/// The exit code after the refusal or failure was printed.
pub(super) fn run_as_owner(dir: &Path, as_owner: bool) -> Result<(), Exit> {
    let checked = if as_owner {
        owner::become_owner(dir).map(drop)
    } else {
        owner::check(dir)
    };
    match checked {
        Ok(()) => Ok(()),
        Err(refused @ OwnerError::NotOwner { .. }) => {
            let run_as = refused.run_as_owner().unwrap_or_default();
            eprintln!(
                "icsfwd: {refused}; run it as the owner: {run_as} {}\n(or add --as-owner to \
                 switch to the owner first)",
                command_line()
            );
            Err(Exit::NotOwner)
        }
        Err(e @ OwnerError::Switch { .. }) => {
            eprintln!("icsfwd: {e}");
            Err(Exit::NotOwner)
        }
        Err(e) => {
            eprintln!("icsfwd: {e}");
            Err(Exit::Failed)
        }
    }
}
