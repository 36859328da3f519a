//! `icsfwd test <destination>`: one test alert sent straight to a destination
//! (`crate::probe`), every step printed.

use std::io;
use std::path::Path;

use super::load_config;
use crate::exit::Exit;
use crate::probe;

/// `icsfwd test <destination>`: the steps on stdout; exit 0 delivered, 1 failed, 2 / 3
/// configuration invalid / unreadable, 64 no destination of that name.
pub fn test_destination(name: &str, path: &Path) -> Exit {
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
    let stdout = io::stdout();
    match probe::run(
        &config,
        destination,
        &mut stdout.lock(),
        &probe::ProbeOptions::default(),
    ) {
        Ok(probe::Conclusion::Delivered) => Exit::Success,
        Ok(probe::Conclusion::Failed { .. }) => Exit::Failed,
        Err(err) => {
            if err.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("icsfwd: error: {err}");
            }
            Exit::Failed
        }
    }
}
