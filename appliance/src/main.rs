//! `icsfwd`: the OT alert forwarder's command line. Thin: parse, call [`run`], map errors to
//! exit codes.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use icsfwd::config::{self, Config, LoadError};
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
}

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
        Command::Render {
            sample: _,
            format,
            time_ms,
        } => render_sample(format, time_ms).map(|()| ExitCode::SUCCESS),
        Command::CheckConfig { config } => Ok(check_config(&config)),
    }
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
