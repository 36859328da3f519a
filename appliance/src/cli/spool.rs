//! `icsfwd spool verify`: a read-only check of a spool directory (`crate::spool::verify()`).

use std::path::{Path, PathBuf};

use super::{Error, load_config};
use crate::exit::Exit;
use crate::spool;

/// `icsfwd spool verify`: the report on stdout for `dir` (default: `[spool] dir` of
/// `config`); exit 0 clean, 2 damage found.
///
/// # Errors
///
/// The configuration (when needed) cannot be loaded, or the directory cannot be read.
pub fn verify(dir: Option<PathBuf>, config: &Path) -> Result<Exit, Error> {
    let dir = match dir {
        Some(dir) => dir,
        None => load_config(config)?.spool.dir,
    };
    let report = spool::verify(&dir).map_err(|source| Error::Read {
        what: format!("reading the spool directory {}", dir.display()),
        source,
    })?;
    println!("{report}");
    Ok(if report.is_clean() {
        Exit::Success
    } else {
        Exit::Damaged
    })
}
