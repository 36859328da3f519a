//! `icsfwd`: the OT alert forwarder's command line. Thin: parse the arguments, call the
//! command in [`icsfwd::cli`], map its outcome to the exit code of [`icsfwd::exit`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use icsfwd::cli::{self, render::RenderCommand};
use icsfwd::config::{self, LogLevel};
use icsfwd::exit::{self, Exit};

/// icsfwd forwards the alerts of an OT/ICS network-security sensor to Splunk (splunkd REST on
/// 8089, HTTP Event Collector on 8088) and to syslog receivers (text, CEF, LEEF), durably.
#[derive(Debug, Parser)]
#[command(name = "icsfwd", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the forwarder: take alerts on the ingest socket, keep them in the spool, deliver
    /// them to every destination its rules name. Stops gracefully on SIGTERM or SIGINT;
    /// reloads its configuration on SIGHUP (as `icsfwd reload` does).
    ///
    /// Logs go to stderr, one line per record with a journald priority prefix.
    #[command(after_help = exit::RUN.help())]
    Run {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Log level (default: `[log] level` of the configuration).
        #[arg(long, value_enum)]
        log_level: Option<LogLevelArg>,
    },
    /// Render alerts the way a destination will receive them: the built-in sample, or your
    /// own ingest lines.
    ///
    /// --sample renders the built-in example alert (an S7 PLC stop command) and the
    /// sensor-offline system notification. --input FILE (or - for standard input) renders
    /// each ingest JSON line of the file (docs/ingest.md), decoded as the ingest socket
    /// decodes it: a line ingest would refuse is reported on stderr with its line number and
    /// why, and the other lines are still rendered.
    ///
    /// Without -c, each event is rendered in every format, or in those chosen with --format
    /// (repeatable). With -c, each event is rendered exactly as each configured destination
    /// would send it (its payload, HEC envelope, syslog facility and levels), or only the
    /// destinations chosen with --destination (repeatable); an event the rules do not send
    /// to a destination is shown as not sent there. When one rendering per event is asked
    /// for, only the renderings are printed (one HEC envelope or CEF line per line, say);
    /// otherwise each is under a heading `==> line N: <format or destination>`.
    #[command(after_help = "Exit codes:\n  0   every event was rendered\n  1   the \
        configuration, a destination named or the input could not be read\n  3   some \
        input lines could not be rendered (each is named on stderr)\n  64  usage error")]
    Render(RenderCommand),
    /// Check a configuration file: every key, value, file and secret it names.
    ///
    /// Lists every problem found, each with file:line:column, the key (e.g.
    /// `destination[2].port`) and how to fix it. Secrets are read to check them, never shown.
    #[command(after_help = exit::CHECK_CONFIG.help())]
    CheckConfig {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Make the running service read its configuration (and every secret file) again: it is
    /// applied whole without stopping ingest, or refused whole and the running one stays.
    ///
    /// Rules and exclusions apply from the next alert; a new destination receives the alerts
    /// accepted from now on; a changed destination (any key, token, password, URL, TLS file)
    /// restarts its worker from its cursor; a removed destination's records stay in the spool
    /// (`icsfwd status`: "removed, N records kept") until `icsfwd spool release-destination`.
    /// `[sensor]`, `[spool]`, `[ingest]`, `[log]` and `[metrics]` need a restart. Reaches the
    /// service through the control socket beside the ingest socket (mode 0600: run it as the
    /// service user or root). SIGHUP does the same and logs the answer.
    #[command(after_help = exit::RELOAD.help())]
    Reload {
        /// The configuration file the service runs with.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Submit alerts (ingest JSON lines, docs/ingest.md) to the running forwarder and print
    /// each answer, numbered by input line.
    ///
    /// Lines are pipelined; the answer `accepted` comes only once the alert is on disk.
    #[command(after_help = exit::SEND.help())]
    Send {
        /// A file of JSON lines; `-` or nothing reads standard input.
        #[arg(value_name = "FILE")]
        file: Option<String>,
        /// The ingest Unix socket (default: `[ingest] socket` of --config, else
        /// /run/icsfwd/ingest.sock).
        #[arg(long, value_name = "PATH", conflicts_with = "tcp")]
        socket: Option<PathBuf>,
        /// A loopback TCP ingest address instead of the socket (`[ingest] tcp`).
        #[arg(long, value_name = "ADDR")]
        tcp: Option<SocketAddr>,
        /// The configuration file to take the socket path from.
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Show which rules take an alert, and for each rule that does not, the first condition
    /// that failed; then the destinations it would go to.
    Explain {
        /// A file holding one ingest JSON line (an alert or notification); `-` or nothing
        /// reads standard input.
        #[arg(value_name = "FILE")]
        file: Option<String>,
        /// The configuration file whose rules are explained.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Inspect the spool, or release the records it keeps for a removed destination.
    #[command(subcommand)]
    Spool(SpoolCommand),
    /// Send one test alert to a destination (the "send test message" button) and print
    /// exactly what happened: URL, TLS, the reply, its classification, HEC acks, and on
    /// failure what to fix. Goes straight to the destination: the spool is not touched.
    #[command(after_help = exit::TEST.help())]
    Test {
        /// The destination's `name` in the configuration.
        destination: String,
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Inspect and replay the dead-letter files (records a destination refused for good).
    #[command(subcommand)]
    Deadletter(DeadletterCommand),
    /// Show what the running service reports: ingest and spool counters, and for each
    /// destination its state (idle, sending, retrying, parked and why), backlog, deliveries,
    /// retries, possible duplicates, dead letters, acks pending and the last error.
    #[command(after_help = exit::STATUS.help())]
    Status {
        /// The configuration file of the service (its ingest socket's directory holds the
        /// status file).
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Print the snapshot as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SpoolCommand {
    /// Check a spool directory without changing it: segments, records, torn or corrupt
    /// frames, the checkpoint, and each destination's backlog.
    #[command(after_help = exit::SPOOL_VERIFY.help())]
    Verify {
        /// The spool directory (default: `[spool] dir` of --config).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The configuration file to take the spool directory from.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Let go of the records the spool keeps for a destination removed from the
    /// configuration (`icsfwd status` shows it as "removed, N records kept"): they will not be
    /// delivered. Asks the running service; with the service stopped, works on the spool
    /// itself (as the spool's owner, under its lock). To deliver them instead, add the
    /// destination back (same name, same place) and reload or restart.
    #[command(after_help = exit::SPOOL_RELEASE.help())]
    ReleaseDestination {
        /// The removed destination's name.
        destination: String,
        /// The configuration file the service runs with.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// With the service stopped and run as another user (e.g. root): switch to the
        /// spool directory's owner first instead of refusing.
        #[arg(long)]
        as_owner: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DeadletterCommand {
    /// Per destination: the dead-letter file, its records, their reasons grouped.
    List {
        /// The configuration file (its `[spool] dir` holds `deadletter/`).
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Send a destination's dead letters again, in order, and keep in the file only those
    /// still not delivered.
    ///
    /// Sends directly to the destination (not through the spool), so it is safe while the
    /// service runs; a lock file in the dead-letter directory keeps two replays of one
    /// destination apart, and records the service appends meanwhile are kept.
    ///
    /// Runs as the owner of the spool directory (the service user) only, so that the files it
    /// writes stay the service's: run it with `runuser -u icsfwd --`, or as root with
    /// --as-owner.
    #[command(after_help = exit::DEADLETTER_REPLAY.help())]
    Replay {
        /// The destination's `name` in the configuration.
        destination: String,
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Decode and list what would be sent; send nothing, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run as another user (root): switch to the spool directory's owner (its uid, gid and
        /// groups) after reading the configuration, before touching anything.
        #[arg(long)]
        as_owner: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogLevelArg {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevelArg> for LogLevel {
    fn from(level: LogLevelArg) -> LogLevel {
        match level {
            LogLevelArg::Error => LogLevel::Error,
            LogLevelArg::Warn => LogLevel::Warn,
            LogLevelArg::Info => LogLevel::Info,
            LogLevelArg::Debug => LogLevel::Debug,
            LogLevelArg::Trace => LogLevel::Trace,
        }
    }
}

fn main() -> ExitCode {
    match cli::parse::<Cli>() {
        Ok(cli) => cli::finish(run(cli)),
        Err(exit) => exit,
    }
}

/// Calls the command `cli` names.
fn run(cli: Cli) -> Result<Exit, cli::Error> {
    match cli.command {
        Command::Run { config, log_level } => {
            Ok(cli::run::run(&config, log_level.map(LogLevel::from)))
        }
        Command::Render(command) => cli::render::render(&command.into()),
        Command::CheckConfig { config } => Ok(cli::check::check_config(&config)),
        Command::Send {
            file,
            socket,
            tcp,
            config,
        } => cli::send::send(file.as_deref(), socket, tcp, config.as_deref()),
        Command::Explain { file, config } => cli::check::explain(file.as_deref(), &config),
        Command::Spool(SpoolCommand::Verify { dir, config }) => cli::spool::verify(dir, &config),
        Command::Spool(SpoolCommand::ReleaseDestination {
            destination,
            config,
            as_owner,
        }) => Ok(cli::reload::release_destination(
            &destination,
            &config,
            as_owner,
        )),
        Command::Reload { config } => Ok(cli::reload::reload(&config)),
        Command::Status { config, json } => cli::status::status(&config, json),
        Command::Test {
            destination,
            config,
        } => Ok(cli::probe::test_destination(&destination, &config)),
        Command::Deadletter(DeadletterCommand::List { config }) => cli::deadletter::list(&config),
        Command::Deadletter(DeadletterCommand::Replay {
            destination,
            config,
            dry_run,
            as_owner,
        }) => Ok(cli::deadletter::replay(
            &destination,
            &config,
            dry_run,
            as_owner,
        )),
    }
}
