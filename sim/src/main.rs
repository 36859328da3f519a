//! `icsfwd-sim`: the host simulator's command line.

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use icsfwd_core::alert::Event;
use icsfwd_core::format::{self, Kind};
use icsfwd_sim::generator::Generator;

/// Host simulator for icsfwd: generates realistic OT/ICS alerts (and, in later releases,
/// emulates Splunk's splunkd and HTTP Event Collector endpoints).
#[derive(Debug, Parser)]
#[command(name = "icsfwd-sim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate realistic alerts from a seed and print them in a wire format.
    ///
    /// The same seed always prints the same alerts, so a run can be replayed.
    Generate {
        /// Seed of the generator; printed on standard error so a run can be replayed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many alerts to generate.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        count: u64,
        /// Time of the first alert, in milliseconds since the Unix epoch.
        #[arg(long, default_value_t = 1_700_000_000_000)]
        start_ms: u64,
        /// Output format of each alert.
        #[arg(long, value_enum, default_value_t = FormatArg::Hec)]
        format: FormatArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Hec,
    Cef,
    Leef,
}

impl From<FormatArg> for Kind {
    fn from(arg: FormatArg) -> Kind {
        match arg {
            FormatArg::Text => Kind::Text,
            FormatArg::Hec => Kind::Hec,
            FormatArg::Cef => Kind::Cef,
            FormatArg::Leef => Kind::Leef,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("icsfwd-sim: error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Generate {
            seed,
            count,
            start_ms,
            format,
        } => generate(seed, count, start_ms, format.into()),
    }
}

fn generate(seed: u64, count: u64, start_ms: u64, kind: Kind) -> anyhow::Result<()> {
    eprintln!("icsfwd-sim: generating {count} alerts with seed {seed}");
    let options = format::Options::default();
    let mut buf = vec![0u8; format::MAX_LEN];
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for alert in Generator::new(seed, start_ms).take(usize::try_from(count)?) {
        let event = Event::from(alert);
        let mut sink = format::SliceWriter::new(&mut buf);
        format::write(kind, &event, &options, &mut sink)
            .map_err(|e| anyhow::anyhow!("rendering alert {}: {e}", event.event_id()))?;
        out.write_all(sink.written())?;
        if !sink.written().ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        if kind == Kind::Text {
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}
