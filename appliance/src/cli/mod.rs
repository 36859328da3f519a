//! The bodies of the `icsfwd` commands; the binary (`appliance/src/main.rs`) only parses the
//! command line and calls them.
//!
//! One file per command group: [`run`] (the service), [`check`] (`check-config`, `explain`),
//! [`send`], [`probe`] (`test <destination>`), [`reload`] (`reload`, `spool
//! release-destination`), [`status`], [`spool`] (`spool verify`),
//! [`deadletter`] (`list`, `replay`) and [`render`]. Every command returns the
//! [`Exit`] it documents, or an [`Error`], which the binary prints with its
//! cause chain and maps to [`Exit::Failed`].
//!
//! The configuration is loaded one way, [`load_config`]; what a command does when that fails
//! depends on its documented exit codes: commands whose codes follow `check-config` (2
//! invalid, 3 unreadable) [`report`](ConfigError::report) the problems and exit with
//! [`ConfigError::exit`]; the others, for which 2 and 3 mean something else, fail with the
//! error ([`Error::Config`], exit 1).
//!
//! ```no_run
//! use icsfwd::cli;
//!
//! let exit = cli::check::check_config("/etc/icsfwd/icsfwd.toml".as_ref());
//! println!("exit code {}", exit.code());
//! ```

pub mod check;
pub mod deadletter;
pub mod probe;
pub mod reload;
pub mod render;
pub mod run;
pub mod send;
pub mod spool;
pub mod status;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use icsfwd_core::format;

use crate::config::{Config, LoadError};
use crate::exit::Exit;
use crate::send::SendError;

/// The configuration file `path` could not be loaded.
#[derive(Debug)]
pub struct ConfigError {
    path: PathBuf,
    error: LoadError,
}

impl ConfigError {
    /// Why: unreadable, or every problem found.
    pub fn error(&self) -> &LoadError {
        &self.error
    }

    /// The exit code of a command whose codes follow `check-config`: 2 invalid, 3
    /// unreadable.
    pub fn exit(&self) -> Exit {
        match self.error {
            LoadError::Unreadable { .. } => Exit::ConfigUnreadable,
            LoadError::Invalid(_) => Exit::ConfigInvalid,
        }
    }

    /// Prints every problem (one per line, with file, line, column, key and fix), then
    /// `icsfwd: <context><why>`, to standard error; returns [`exit`](Self::exit).
    pub fn report(&self, context: &str) -> Exit {
        if let LoadError::Invalid(problems) = &self.error {
            for problem in problems {
                eprintln!("{problem}");
            }
        }
        eprintln!("icsfwd: {context}{}", self.error);
        self.exit()
    }
}

impl fmt::Display for ConfigError {
    /// One message with every problem, pointing at `check-config`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            LoadError::Invalid(problems) => {
                let path = self.path.display();
                writeln!(
                    f,
                    "{path} is not valid (run `icsfwd check-config -c {path}`):"
                )?;
                for (i, problem) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{problem}")?;
                }
                Ok(())
            }
            error => write!(f, "{error}"),
        }
    }
}

/// The message says it all (every problem, or the unreadable file and why), so no source is
/// chained after it.
impl std::error::Error for ConfigError {}

/// Loads the configuration file `path`: the one way every command does.
///
/// # Errors
///
/// The file cannot be read or is not a valid configuration.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    Config::load(path).map_err(|error| ConfigError {
        path: path.to_path_buf(),
        error,
    })
}

/// Why a command failed (exit 1); the binary prints it with its cause chain.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The configuration could not be loaded.
    Config(ConfigError),
    /// Writing the output or reading the input failed.
    Io(io::Error),
    /// The input file could not be opened or read.
    Input(SendError),
    /// A file or directory the command reads could not be read.
    Read {
        /// What was being read.
        what: String,
        /// Why it failed.
        source: io::Error,
    },
    /// The status snapshot could not be written as JSON.
    Json(serde_json::Error),
    /// An event could not be rendered.
    Format(format::Error),
    /// A name given on the command line is not in the configuration (the message lists the
    /// names there).
    NotConfigured(String),
    /// A state the command line rules out (a bug).
    Internal(&'static str),
}

impl Error {
    /// Whether this is a write to a closed pipe (`icsfwd … | head`): the reader chose to
    /// stop, which is not a failure of the command.
    pub fn is_broken_pipe(&self) -> bool {
        let mut next: Option<&(dyn std::error::Error + 'static)> = match self {
            Error::Io(e) => Some(e),
            Error::Input(e) => Some(e),
            Error::Json(e) => Some(e),
            Error::Format(e) => Some(e),
            Error::Config(_)
            | Error::Read { .. }
            | Error::Internal(_)
            | Error::NotConfigured(_) => None,
        };
        while let Some(error) = next {
            if error
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return true;
            }
            next = error.source();
        }
        false
    }
}

/// The exit code of a command's outcome. An error is printed on standard error as
/// `icsfwd: error: ` and its cause chain, and exits [`Exit::Failed`]; a write to a closed
/// pipe ([`Error::is_broken_pipe`]) is not a failure and exits 0.
pub fn finish(outcome: Result<Exit, Error>) -> ExitCode {
    match outcome {
        Ok(exit) => exit.into(),
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("icsfwd: error: {}", cause_chain(&err));
            Exit::Failed.into()
        }
    }
}

/// The command line parsed as `P`, or the exit code to end with: a usage error is printed
/// and exits [`Exit::Usage`]; `--help` and `--version` print and exit 0.
///
/// # Errors
///
/// The exit code when the process ends here (the text is printed already).
pub fn parse<P: clap::Parser>() -> Result<P, ExitCode> {
    P::try_parse().map_err(|err| {
        let exit = if err.use_stderr() {
            Exit::Usage
        } else {
            Exit::Success
        };
        let _ = err.print();
        exit.into()
    })
}

/// `err` and each of its sources, joined by `: `.
fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut chain = err.to_string();
    let mut cause = err.source();
    while let Some(error) = cause {
        chain.push_str(&format!(": {error}"));
        cause = error.source();
    }
    chain
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Io(e) => e.fmt(f),
            Error::Input(e) => e.fmt(f),
            Error::Read { what, .. } => f.write_str(what),
            Error::Json(e) => e.fmt(f),
            Error::Format(e) => e.fmt(f),
            Error::NotConfigured(what) => f.write_str(what),
            Error::Internal(what) => write!(f, "internal: {what}"),
        }
    }
}

impl std::error::Error for Error {
    /// The wrapped errors are shown as themselves: their causes follow them.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(_) | Error::Internal(_) | Error::NotConfigured(_) => None,
            Error::Io(e) => e.source(),
            Error::Input(e) => e.source(),
            Error::Read { source, .. } => Some(source),
            Error::Json(e) => e.source(),
            Error::Format(e) => e.source(),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Error {
        Error::Config(error)
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        Error::Io(error)
    }
}

impl From<SendError> for Error {
    fn from(error: SendError) -> Error {
        Error::Input(error)
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Error {
        Error::Json(error)
    }
}

impl From<format::Error> for Error {
    fn from(error: format::Error) -> Error {
        Error::Format(error)
    }
}

/// This process's command line as a shell would take it back: each argument as it is when it
/// holds only characters a shell leaves alone, else in single quotes (for the command an
/// error message tells the operator to run).
fn command_line() -> String {
    let quote = |arg: String| {
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_./=:@%+,-".contains(c));
        if plain {
            arg
        } else {
            format!("'{}'", arg.replace('\'', r"'\''"))
        }
    };
    std::env::args().map(quote).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_closed_pipe_is_found_in_the_output_error_or_under_the_input_error() {
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(Error::Io(pipe()).is_broken_pipe());
        assert!(Error::Input(SendError::Output(pipe())).is_broken_pipe());
        assert!(!Error::Io(io::Error::from(io::ErrorKind::NotFound)).is_broken_pipe());
        // Reading a file of the command is never the reader of its output going away.
        let read = Error::Read {
            what: "reading x".to_owned(),
            source: pipe(),
        };
        assert!(!read.is_broken_pipe());
    }

    #[test]
    fn a_read_error_names_what_was_read_and_chains_the_cause() {
        let error = Error::Read {
            what: "reading the spool directory /x".to_owned(),
            source: io::Error::other("gone"),
        };
        assert_eq!(error.to_string(), "reading the spool directory /x");
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("gone")
        );
        // A wrapped error is shown as itself, its causes after it.
        let input = Error::Input(SendError::Input(io::Error::other("disk")));
        assert_eq!(
            input.source().map(ToString::to_string).as_deref(),
            Some("disk")
        );
    }

    #[test]
    fn an_unreadable_configuration_exits_3_and_says_which_file() {
        let error = load_config(Path::new("/nonexistent/icsfwd.toml")).unwrap_err();
        assert_eq!(error.exit(), Exit::ConfigUnreadable);
        assert!(
            error.to_string().contains("/nonexistent/icsfwd.toml"),
            "{error}"
        );
    }
}
