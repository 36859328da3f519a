//! `icsfwd run`: the service ([`crate::service`]) under the process's signals and log level.

use std::io;
use std::path::Path;

use super::load_config;
use crate::config::LogLevel;
use crate::exit::Exit;
use crate::{logging, service};

/// `icsfwd run`: the service until SIGTERM or SIGINT; `level` overrides `[log] level`.
pub fn run(path: &Path, level: Option<LogLevel>) -> Exit {
    let config = match load_config(path) {
        Ok(config) => config,
        Err(err) => return err.report("cannot start: "),
    };
    let level = level.unwrap_or(config.log.level);
    logging::init(logging::filter(level), config.log.format);
    let stop = service::Stop::new();
    if let Err(e) = stop_on_signals(&stop) {
        log::error!("cannot install the SIGTERM/SIGINT handler: {e}");
        return Exit::Failed;
    }
    match service::run(&config, &stop) {
        Ok(report) if report.spool_failed => Exit::SpoolFailed,
        Ok(_) => Exit::Success,
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
