//! `icsfwd`: the OT alert forwarder's command line. Thin: parse, call [`run`], map errors to
//! exit codes.

use std::io::{self, BufRead as _, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use icsfwd::clock::now_ms;
use icsfwd::config::{self, Config, LoadError};
use icsfwd::deliver::{deadletter, replay};
use icsfwd::ingest::schema::{self, Message};
use icsfwd::probe;
use icsfwd::send::{SendError, SendOptions, Target, open_input, run_send};
use icsfwd::status;
use icsfwd::{logging, service, spool};
use icsfwd_core::alert::{Alert, Event, Notification, NotificationKind};
use icsfwd_core::format::{self, Kind, syslog};

/// Exit code of a command-line usage error, for every subcommand: 64 (BSD's `EX_USAGE`),
/// because `check-config` gives 2 its own meaning ("invalid configuration").
const EXIT_USAGE: u8 = config::EXIT_USAGE;
/// Exit code: the command ran and failed.
const EXIT_FAILED: u8 = 1;

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
    /// them to every destination its rules name. Stops gracefully on SIGTERM or SIGINT.
    ///
    /// Logs go to stderr, one line per record with a journald priority prefix.
    #[command(after_help = RUN_EXIT_CODES)]
    Run {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Log level (default: `[log] level` of the configuration).
        #[arg(long, value_enum)]
        log_level: Option<LogLevelArg>,
    },
    /// Render an alert the way a destination will receive it.
    ///
    /// With --sample, renders the built-in example alert (an S7 PLC stop command) and the
    /// sensor-offline system notification in the chosen formats.
    Render {
        /// Render the built-in example alert and notification.
        #[arg(long, required = true)]
        sample: bool,
        /// Which format to render; `all` renders every one, each under a heading.
        #[arg(long, value_enum, default_value_t = FormatArg::All)]
        format: FormatArg,
        /// Event time in milliseconds since the Unix epoch (default: a fixed, documented time
        /// so the output is reproducible).
        #[arg(long, default_value_t = 1_700_000_000_000)]
        time_ms: u64,
    },
    /// Check a configuration file: every key, value, file and secret it names.
    ///
    /// Lists every problem found, each with file:line:column, the key (e.g.
    /// `destination[2].port`) and how to fix it. Secrets are read to check them, never shown.
    #[command(after_help = CHECK_CONFIG_EXIT_CODES)]
    CheckConfig {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Submit alerts (ingest JSON lines, docs/ingest.md) to the running forwarder and print
    /// each answer, numbered by input line.
    ///
    /// Lines are pipelined; the answer `accepted` comes only once the alert is on disk.
    #[command(after_help = SEND_EXIT_CODES)]
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
    /// Inspect the spool.
    #[command(subcommand)]
    Spool(SpoolCommand),
    /// Send one test alert to a destination (the "send test message" button) and print
    /// exactly what happened: URL, TLS, the reply, its classification, HEC acks, and on
    /// failure what to fix. Goes straight to the destination: the spool is not touched.
    #[command(after_help = TEST_EXIT_CODES)]
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
    #[command(after_help = STATUS_EXIT_CODES)]
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

/// The exit codes of `status`.
const STATUS_EXIT_CODES: &str = "\
Exit codes:
  0   the service runs and every destination delivers
  1   no status to read: the service is not running (or runs with another configuration)
  2   the service runs but a destination is retrying or parked, or the status is stale
  64  usage error";

#[derive(Debug, Subcommand)]
enum SpoolCommand {
    /// Check a spool directory without changing it: segments, records, torn or corrupt
    /// frames, the checkpoint, and each destination's backlog.
    #[command(after_help = SPOOL_VERIFY_EXIT_CODES)]
    Verify {
        /// The spool directory (default: `[spool] dir` of --config).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The configuration file to take the spool directory from.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
    },
}

/// The exit codes of `test`.
const TEST_EXIT_CODES: &str = "\
Exit codes:
  0   the destination confirmed the test alert (2xx; with HEC acks, the ack read true)
  1   it did not: the output says why and what to fix
  2   the configuration is invalid
  3   the configuration file cannot be read
  64  usage error, or no destination of that name (the defined names are listed)";

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
    #[command(after_help = REPLAY_EXIT_CODES)]
    Replay {
        /// The destination's `name` in the configuration.
        destination: String,
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", default_value = config::DEFAULT_PATH)]
        config: PathBuf,
        /// Decode and list what would be sent; send nothing, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// The exit codes of `deadletter replay`.
const REPLAY_EXIT_CODES: &str = "\
Exit codes:
  0   every record read was delivered (or nothing to replay; dry run: every record decodes)
  1   some records are still in the file (refused again, not delivered, undecodable),
      another replay is running, or the file could not be rewritten
  2   the configuration is invalid
  3   the configuration file cannot be read
  64  usage error, or no destination of that name (the defined names are listed)";

/// The exit codes of `run`.
const RUN_EXIT_CODES: &str = "\
Exit codes:
  0   stopped gracefully (SIGTERM or SIGINT)
  1   could not start: the spool or the ingest socket could not be set up (the log says why)
  2   the configuration is invalid (every problem is listed, as by check-config)
  3   the configuration file cannot be read
  64  usage error";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogLevelArg {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevelArg> for config::LogLevel {
    fn from(level: LogLevelArg) -> config::LogLevel {
        match level {
            LogLevelArg::Error => config::LogLevel::Error,
            LogLevelArg::Warn => config::LogLevel::Warn,
            LogLevelArg::Info => config::LogLevel::Info,
            LogLevelArg::Debug => config::LogLevel::Debug,
            LogLevelArg::Trace => config::LogLevel::Trace,
        }
    }
}

/// The exit codes of `send`.
const SEND_EXIT_CODES: &str = "\
Exit codes:
  0   every line was accepted or not forwarded (no rule takes it)
  1   cannot connect (is icsfwd running?) or read the input
  3   some lines were refused (each answer says which field and why)
  4   the connection was lost or stalled with lines unanswered
  64  usage error";

/// The exit codes of `spool verify`.
const SPOOL_VERIFY_EXIT_CODES: &str = "\
Exit codes:
  0   the spool is clean
  1   the directory cannot be read
  2   damage was found (torn or corrupt frames, refused records, an interrupted checkpoint);
      the report says where. The service skips and counts such frames when it starts.
  64  usage error";

/// The socket `send` uses without --socket or --config.
const DEFAULT_INGEST_SOCKET: &str = "/run/icsfwd/ingest.sock";

/// The exit codes of `check-config`, as `--help` shows them (and docs/configuration.md).
const CHECK_CONFIG_EXIT_CODES: &str = "\
Exit codes:
  0   the configuration is valid (warnings, e.g. verify = false, go to stderr)
  2   the configuration is invalid; every problem is listed on stderr
  3   the file cannot be read (missing, not a regular file, too large, not UTF-8)
  64  usage error (unknown option)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// Every format below.
    All,
    /// The classic Splunk event (splunkd receivers/simple).
    Text,
    /// The HTTP Event Collector JSON envelope.
    Hec,
    /// ArcSight Common Event Format.
    Cef,
    /// IBM QRadar LEEF 1.0.
    Leef,
    /// RFC 5424 syslog carrying the text payload.
    SyslogText,
    /// RFC 5424 syslog carrying a CEF payload.
    SyslogCef,
    /// RFC 5424 syslog carrying a LEEF payload.
    SyslogLeef,
}

const EVERY_FORMAT: [FormatArg; 7] = [
    FormatArg::Text,
    FormatArg::Hec,
    FormatArg::Cef,
    FormatArg::Leef,
    FormatArg::SyslogText,
    FormatArg::SyslogCef,
    FormatArg::SyslogLeef,
];

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("icsfwd: error: {err:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Whether `err` is a write to a closed pipe (`icsfwd … | head`): the reader chose to stop,
/// which is not a failure of the command.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run { config, log_level } => Ok(run_service(&config, log_level)),
        Command::Render {
            sample: _,
            format,
            time_ms,
        } => render_sample(format, time_ms).map(|()| ExitCode::SUCCESS),
        Command::CheckConfig { config } => Ok(check_config(&config)),
        Command::Send {
            file,
            socket,
            tcp,
            config,
        } => send(file.as_deref(), socket, tcp, config.as_deref()),
        Command::Explain { file, config } => explain(file.as_deref(), &config),
        Command::Spool(SpoolCommand::Verify { dir, config }) => spool_verify(dir, &config),
        Command::Status { config, json } => status(&config, json),
        Command::Test {
            destination,
            config,
        } => Ok(test_destination(&destination, &config)),
        Command::Deadletter(DeadletterCommand::List { config }) => deadletter_list(&config),
        Command::Deadletter(DeadletterCommand::Replay {
            destination,
            config,
            dry_run,
        }) => Ok(deadletter_replay(&destination, &config, dry_run)),
    }
}

/// Loads `path` for a command whose exit codes follow `check-config` (2 invalid, 3
/// unreadable); on failure prints why and gives the exit code.
fn load_or_exit(path: &Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|err| {
        if let LoadError::Invalid(problems) = &err {
            for problem in problems {
                eprintln!("{problem}");
            }
        }
        eprintln!("icsfwd: {err}");
        ExitCode::from(err.exit_code())
    })
}

/// `icsfwd test <destination>`: the steps on stdout; exit 0 delivered, 1 failed.
fn test_destination(name: &str, path: &Path) -> ExitCode {
    let config = match load_or_exit(path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let destination = match probe::find_destination(&config, name) {
        Ok(destination) => destination,
        Err(unknown) => {
            eprintln!("icsfwd: {unknown}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let stdout = io::stdout();
    match probe::run(
        &config,
        destination,
        &mut stdout.lock(),
        &probe::ProbeOptions::default(),
    ) {
        Ok(probe::Conclusion::Delivered) => ExitCode::SUCCESS,
        Ok(probe::Conclusion::Failed { .. }) => ExitCode::from(EXIT_FAILED),
        Err(err) => {
            if err.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("icsfwd: error: {err}");
            }
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// `icsfwd deadletter list`.
fn deadletter_list(path: &Path) -> anyhow::Result<ExitCode> {
    let config = match load_or_exit(path) {
        Ok(config) => config,
        Err(code) => return Ok(code),
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
    Ok(ExitCode::SUCCESS)
}

/// `icsfwd deadletter replay <destination>`: one line per record, then the summary.
fn deadletter_replay(name: &str, path: &Path, dry_run: bool) -> ExitCode {
    let config = match load_or_exit(path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let destination = match probe::find_destination(&config, name) {
        Ok(destination) => destination,
        Err(unknown) => {
            eprintln!("icsfwd: {unknown}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut sender = match icsfwd::deliver::sender_for(destination, &config.sensor) {
        Ok(sender) => sender,
        Err(err) => {
            eprintln!("icsfwd: destination {name:?}: cannot set up the sender: {err}");
            return ExitCode::from(EXIT_FAILED);
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
            if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILED)
            }
        }
        Err(err) => {
            eprintln!("icsfwd: replay of {name:?}: {err}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// `icsfwd status`: the snapshot the service writes beside its socket.
fn status(config: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let path = status::path_for(&load_config(config)?.ingest.socket);
    let snapshot = match status::read(&path) {
        Ok(snapshot) => snapshot,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            eprintln!(
                "icsfwd: not running: no status file at {} (start it: systemctl start icsfwd)",
                path.display()
            );
            return Ok(ExitCode::from(EXIT_FAILED));
        }
        Err(err) => return Err(anyhow::anyhow!("reading {}: {err}", path.display())),
    };
    let now = now_ms();
    if json {
        println!("{}", serde_json::to_string_pretty(&snapshot)?);
    } else {
        print!("{}", snapshot.render(now));
    }
    Ok(
        if snapshot.healthy() && snapshot.age_ms(now) <= status::STALE_AFTER_MS {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        },
    )
}

/// `icsfwd run`: the service until SIGTERM or SIGINT.
fn run_service(path: &Path, level: Option<LogLevelArg>) -> ExitCode {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(err) => {
            if let LoadError::Invalid(problems) = &err {
                for problem in problems {
                    eprintln!("{problem}");
                }
            }
            eprintln!("icsfwd: cannot start: {err}");
            return ExitCode::from(err.exit_code());
        }
    };
    let level = level.map_or(config.log.level, config::LogLevel::from);
    logging::init(logging::filter(level));
    let stop = service::Stop::new();
    if let Err(e) = stop_on_signals(&stop) {
        log::error!("cannot install the SIGTERM/SIGINT handler: {e}");
        return ExitCode::from(EXIT_FAILED);
    }
    match service::run(&config, &stop) {
        Ok(report) if report.spool_failed => ExitCode::from(service::EXIT_SPOOL_FAILED),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("cannot run: {e}");
            ExitCode::from(EXIT_FAILED)
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
                std::process::exit(1);
            }
        })?;
    Ok(())
}

/// Loads `path` or says exactly why not (every problem, as `check-config` does).
fn load_config(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|err| match &err {
        LoadError::Invalid(problems) => {
            let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
            anyhow::anyhow!(
                "{} is not valid (run `icsfwd check-config -c {}`):\n{}",
                path.display(),
                path.display(),
                listed.join("\n")
            )
        }
        _ => anyhow::anyhow!("{err}"),
    })
}

/// `icsfwd send`: numbered answers on stdout, the summary on stderr.
fn send(
    file: Option<&str>,
    socket: Option<PathBuf>,
    tcp: Option<SocketAddr>,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let target = match (tcp, socket, config) {
        (Some(addr), _, _) => Target::Tcp(addr),
        (None, Some(path), _) => Target::Unix(path),
        (None, None, Some(config)) => Target::Unix(load_config(config)?.ingest.socket),
        (None, None, None) => Target::Unix(PathBuf::from(DEFAULT_INGEST_SOCKET)),
    };
    let summary = open_input(file).and_then(|input| {
        let stdout = io::stdout();
        run_send(input, &target, &mut stdout.lock(), &SendOptions::default())
    });
    match summary {
        Ok(summary) => {
            eprintln!("{summary}");
            Ok(ExitCode::from(summary.exit_code()))
        }
        Err(err) => {
            eprintln!("icsfwd: error: {err}");
            Ok(ExitCode::from(SendError::EXIT_CODE))
        }
    }
}

/// `icsfwd explain`: the rule-by-rule explanation and the destinations, for one line.
fn explain(file: Option<&str>, path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    let mut line = Vec::new();
    open_input(file)?
        .take(u64::try_from(schema::MAX_LINE).unwrap_or(u64::MAX) + 1)
        .read_until(b'\n', &mut line)?;
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    let now_ms = now_ms();
    let decoded = match schema::decode_line(&line, now_ms) {
        Ok(decoded) => decoded,
        Err(refusal) => {
            eprintln!("icsfwd: the line would be refused: {refusal}");
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    let Message::Event(event) = decoded.message else {
        println!("a heartbeat: it updates the sensor's liveness and is never forwarded");
        return Ok(ExitCode::SUCCESS);
    };
    println!("{}", config.rules.explain(&event, now_ms));
    let destinations = config.rules.route(&event, now_ms);
    let names: Vec<&str> = config
        .destinations
        .iter()
        .filter(|d| destinations.contains(d.id))
        .map(|d| d.name.as_str())
        .collect();
    if names.is_empty() {
        println!("=> not forwarded: no rule takes it");
    } else {
        println!("=> forwarded to: {}", names.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// `icsfwd spool verify`: the report on stdout; exit 2 when damage was found.
fn spool_verify(dir: Option<PathBuf>, config: &Path) -> anyhow::Result<ExitCode> {
    let dir = match dir {
        Some(dir) => dir,
        None => load_config(config)?.spool.dir,
    };
    let report = spool::verify(&dir)
        .map_err(|e| anyhow::anyhow!("reading the spool directory {}: {e}", dir.display()))?;
    println!("{report}");
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `icsfwd check-config`: a summary on stdout, warnings and problems on stderr.
fn check_config(path: &Path) -> ExitCode {
    match Config::load(path) {
        Ok(config) => {
            for warning in config.warnings() {
                eprintln!("icsfwd: warning: {warning}");
            }
            println!(
                "{}: valid: sensor {:?}, {} destination(s), {} rule(s), {} exclusion(s)",
                path.display(),
                config.sensor.name,
                config.destinations.len(),
                config.rules.rules().len(),
                config.rules.exclusions().len()
            );
            for d in &config.destinations {
                println!("  destination {:?}: {}", d.name, d.kind.as_str());
            }
            ExitCode::SUCCESS
        }
        Err(err @ LoadError::Unreadable { .. }) => {
            eprintln!("icsfwd: error: {err}");
            ExitCode::from(err.exit_code())
        }
        Err(err) => {
            if let LoadError::Invalid(problems) = &err {
                for problem in problems {
                    eprintln!("{problem}");
                }
                eprintln!(
                    "icsfwd: {}: {} problem(s): the configuration is not valid",
                    path.display(),
                    problems.len()
                );
            }
            ExitCode::from(err.exit_code())
        }
    }
}

fn render_sample(which: FormatArg, time_ms: u64) -> anyhow::Result<()> {
    let alert = Event::from(Alert::example(time_ms));
    let mut offline = Notification::new(1, time_ms + 60_000, NotificationKind::SensorOffline);
    offline.sensor = Alert::example(time_ms).sensor;
    offline.set_text("No heartbeat from sensor-plant-a for 300 s.");
    let offline = Event::from(offline);

    let formats: &[FormatArg] = if which == FormatArg::All {
        &EVERY_FORMAT
    } else {
        std::slice::from_ref(&which)
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut buf = vec![0u8; syslog::MAX_LEN.max(format::MAX_LEN)];
    for (i, &f) in formats.iter().enumerate() {
        if formats.len() > 1 {
            if i > 0 {
                writeln!(out)?;
            }
            let name = f
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            writeln!(out, "==> {name}")?;
        }
        for event in [&alert, &offline] {
            let n = render(f, event, &mut buf)?;
            let bytes = buf.get(..n).unwrap_or_default();
            out.write_all(bytes)?;
            if !bytes.ends_with(b"\n") {
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn render(which: FormatArg, event: &Event, buf: &mut [u8]) -> anyhow::Result<usize> {
    let options = format::Options::default();
    let mut sink = format::SliceWriter::new(buf);
    let (kind, in_syslog) = match which {
        FormatArg::All => anyhow::bail!("internal: `all` is expanded before rendering"),
        FormatArg::Text => (Kind::Text, false),
        FormatArg::Hec => (Kind::Hec, false),
        FormatArg::Cef => (Kind::Cef, false),
        FormatArg::Leef => (Kind::Leef, false),
        FormatArg::SyslogText => (Kind::Text, true),
        FormatArg::SyslogCef => (Kind::Cef, true),
        FormatArg::SyslogLeef => (Kind::Leef, true),
    };
    if !in_syslog {
        return Ok(format::write(kind, event, &options, &mut sink)?);
    }
    let payload = syslog::Payload::of(kind, &options)
        .ok_or_else(|| anyhow::anyhow!("internal: {} is not a syslog payload", kind.as_str()))?;
    let syslog_options = syslog::Options {
        payload,
        ..syslog::Options::default()
    };
    Ok(syslog::write(event, &syslog_options, &mut sink)?)
}
