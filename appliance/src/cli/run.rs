//! `icsfwd run`: the service ([`crate::service`]) under the process's signals and log level.

use std::io;
use std::path::Path;

use super::{command_line, load_config};
use crate::config::LogLevel;
use crate::exit::Exit;
use crate::spool::owner::{self, OwnerError};
use crate::{logging, service};

/// `icsfwd run`: the service until SIGTERM or SIGINT; `level` overrides `[log] level`.
/// Refused, before anything is touched, when another icsfwd runs on the same spool
/// ([`Exit::SpoolInUse`]) or when it runs as another user than the spool directory's owner
/// ([`Exit::NotOwner`]).
pub fn run(path: &Path, level: Option<LogLevel>) -> Exit {
    let config = match load_config(path) {
        Ok(config) => config,
        Err(err) => return err.report("cannot start: "),
    };
    let level = level.unwrap_or(config.log.level);
    logging::init(logging::filter(level), config.log.format);
    match owner::check(&config.spool.dir) {
        Ok(()) => {}
        Err(refused @ OwnerError::NotOwner { .. }) => {
            let run_as = refused.run_as_owner().unwrap_or_default();
            log::error!(
                "cannot run: {refused}; start the service (systemctl start icsfwd), or run it \
                 as the owner: {run_as} {}",
                command_line()
            );
            return Exit::NotOwner;
        }
        Err(e) => {
            log::error!("cannot run: {e}");
            return Exit::Failed;
        }
    }
    let stop = service::Stop::new();
    if let Err(e) = stop_on_signals(&stop) {
        log::error!("cannot install the SIGTERM/SIGINT handler: {e}");
        return Exit::Failed;
    }
    match service::run(&config, &stop) {
        Ok(report) if report.spool_failed => Exit::SpoolFailed,
        Ok(_) => Exit::Success,
        Err(e @ service::ServiceError::SpoolInUse(_)) => {
            log::error!("cannot run: {e}");
            Exit::SpoolInUse
        }
        Err(e) => {
            log::error!("cannot run: {e}");
            Exit::Failed
        }
    }
}

/// Triggers `stop` at the first SIGTERM or SIGINT; a second one ends the process at once
/// (the spool is crash-safe, so that loses nothing accepted).
fn stop_on_signals(stop: &service::Stop) -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    let stop = stop.clone();
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            let mut seen = signals.forever();
            if let Some(signal) = seen.next() {
                log::info!("signal {signal}: stopping gracefully (send it again to stop now)");
                stop.trigger();
            }
            if seen.next().is_some() {
                log::warn!("second signal: stopping now; the spool keeps every accepted alert");
                std::process::exit(i32::from(Exit::Failed.code()));
            }
        })?;
    Ok(())
}
