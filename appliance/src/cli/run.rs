//! `icsfwd run`: the service ([`crate::service`]) under the process's signals (SIGTERM and
//! SIGINT stop it, SIGHUP reloads it) and log level.

use std::io;
use std::path::Path;

use super::{command_line, load_config};
use crate::config::LogLevel;
use crate::exit::Exit;
use crate::spool::owner::{self, OwnerError};
use crate::{logging, service};

/// `icsfwd run`: the service until SIGTERM or SIGINT (SIGHUP reloads the configuration);
/// `level` overrides `[log] level`.
/// Refused, before anything is touched, when another icsfwd runs on the same spool
/// ([`Exit::SpoolInUse`]) or when it runs as another user than the spool directory's owner
/// ([`Exit::NotOwner`]).
pub fn run(path: &Path, level: Option<LogLevel>) -> Exit {
    // Before any thread starts: every thread then allocates from the one arena.
    crate::arena::limit();
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
    let hangup = service::Hangup::new();
    if let Err(e) = handle_signals(&stop, &hangup) {
        log::error!("cannot install the SIGTERM/SIGINT/SIGHUP handler: {e}");
        return Exit::Failed;
    }
    match service::run_with_reloads(&config, &stop, &hangup) {
        Ok(report) if report.spool_failed => Exit::SpoolFailed,
        Ok(_) => Exit::Success,
        Err(e @ service::ServiceError::SpoolInUse(_)) => {
            log::error!("cannot run: {e}");
            Exit::SpoolInUse
        }
        Err(e @ service::ServiceError::Positions(_)) => {
            log::error!("cannot run: {e}");
            Exit::ConfigInvalid
        }
        Err(e) => {
            log::error!("cannot run: {e}");
            Exit::Failed
        }
    }
}

/// Triggers `stop` at the first SIGTERM or SIGINT; a second one ends the process at once
/// (the spool is crash-safe, so that loses nothing accepted). Each SIGHUP asks for a reload
/// (`hangup`) and never stops the service. The handlers are in place before the service
/// starts, so an early SIGHUP is a reload too, never the default action (the end of the
/// process).
fn handle_signals(stop: &service::Stop, hangup: &service::Hangup) -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    let (stop, hangup) = (stop.clone(), hangup.clone());
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            let mut stops = 0;
            for signal in signals.forever() {
                if signal == SIGHUP {
                    hangup.request();
                    continue;
                }
                stops += 1;
                if stops == 1 {
                    log::info!("signal {signal}: stopping gracefully (send it again to stop now)");
                    stop.trigger();
                } else {
                    log::warn!("second signal: stopping now; the spool keeps every accepted alert");
                    std::process::exit(i32::from(Exit::Failed.code()));
                }
            }
        })?;
    Ok(())
}
