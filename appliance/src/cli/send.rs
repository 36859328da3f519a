//! `icsfwd send`: submits JSON lines to the running service ([`crate::send`]) and prints each
//! answer.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{Error, load_config};
use crate::exit::Exit;
use crate::send::{SendOptions, Target, open_input, run_send};

/// The socket `send` uses without --socket or --config.
pub const DEFAULT_INGEST_SOCKET: &str = "/run/icsfwd/ingest.sock";

/// Where `send` connects: `--tcp`, else `--socket`, else `[ingest] socket` of `--config`,
/// else [`DEFAULT_INGEST_SOCKET`].
///
/// # Errors
///
/// The configuration named cannot be loaded.
pub fn target(
    socket: Option<PathBuf>,
    tcp: Option<SocketAddr>,
    config: Option<&Path>,
) -> Result<Target, Error> {
    Ok(match (tcp, socket, config) {
        (Some(addr), _, _) => Target::Tcp(addr),
        (None, Some(path), _) => Target::Unix(path),
        (None, None, Some(config)) => Target::Unix(load_config(config)?.ingest.socket),
        (None, None, None) => Target::Unix(PathBuf::from(DEFAULT_INGEST_SOCKET)),
    })
}

/// `icsfwd send`: the lines of `file` (standard input for `None` or `-`) to the [`target`];
/// numbered answers on stdout, the summary on stderr. With `config`, lines longer than its
/// `[ingest] max_line_bytes` are refused locally, as the server would refuse them.
///
/// # Errors
///
/// The configuration named cannot be loaded (a failure to connect or to read the input is
/// reported here and exits 1).
pub fn send(
    file: Option<&str>,
    socket: Option<PathBuf>,
    tcp: Option<SocketAddr>,
    config: Option<&Path>,
) -> Result<Exit, Error> {
    let target = target(socket, tcp, config)?;
    let mut options = SendOptions::default();
    if let Some(config) = config {
        options.max_line = load_config(config)?.ingest.max_line_bytes;
    }
    let summary = open_input(file).and_then(|input| {
        let stdout = io::stdout();
        run_send(input, &target, &mut stdout.lock(), &options)
    });
    Ok(match summary {
        Ok(summary) => {
            eprintln!("{summary}");
            summary.exit()
        }
        Err(err) => {
            eprintln!("icsfwd: error: {err}");
            Exit::Failed
        }
    })
}
