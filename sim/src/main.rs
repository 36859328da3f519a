//! `icsfwd-sim`: the host simulator's command line.

use std::io::{self, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand, ValueEnum};
use icsfwd_core::alert::Event;
use icsfwd_core::format::{self, Kind};
use icsfwd_sim::feed::{self, Target};
use icsfwd_sim::generator::Generator;
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::control_client::{self, ControlClient, Query};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, Transport};
use icsfwd_sim::splunk::faults::FaultSpec;
use icsfwd_sim::splunk::hec::{HecConfig, Token};
use icsfwd_sim::splunk::splunkd::{SplunkdConfig, User};
use icsfwd_sim::splunk::store;
use icsfwd_sim::splunk::tls::TlsMaterial;

/// Host simulator for icsfwd: tells realistic OT/ICS alert scenarios and emulates Splunk's
/// splunkd and HTTP Event Collector endpoints, with fault injection.
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
    /// Emulate Splunk on loopback: HEC and splunkd over HTTPS (a CA generated at start and
    /// written to --ca-out) or plain HTTP, a control API, and faults, until Ctrl-C.
    ///
    /// Received events are kept in memory (bounded) and, with --jsonl, appended to a file;
    /// the control API lists, counts and searches them and adds or removes faults.
    Splunk(SplunkArgs),
    /// Tell a seeded scenario as alerts and send them, as ingest JSON lines, to the forwarder's
    /// ingest socket, a file or standard output.
    ///
    /// The seed and start time are printed on standard error; giving them back replays the
    /// exact same lines. To a socket, lines are paced at the scenario's times and each answer
    /// is tallied. Exit codes: 0 every line written and, to a socket, accepted or not
    /// forwarded; 1 the run could not start or write (socket missing, file not writable);
    /// 2 bad arguments; 3 some lines were refused; 4 the connection dropped or stalled with
    /// lines unanswered or unsent, or an answer was unreadable.
    Alerts(AlertsArgs),
    /// List, search, count or clear the events a running `icsfwd-sim splunk` received, through
    /// its control API.
    ///
    /// Prints one line per event (time, index, sourcetype, host, the payload cut to one line),
    /// oldest first, or the events as JSON lines with --json; --count-by prints a table of
    /// counts; --clear empties the store. Exit codes: 0 done; 1 the control API cannot be
    /// reached or failed; 2 bad arguments or a request the API refused.
    Events(EventsArgs),
    /// Add, list or remove the faults of a running `icsfwd-sim splunk`, through its control API.
    ///
    /// Exit codes: 0 done; 1 the control API cannot be reached or failed; 2 bad arguments or a
    /// request the API refused (a bad fault spec, an unknown id).
    Fault(FaultArgs),
    /// Print the request counts, stored events, pending acks and faults of a running
    /// `icsfwd-sim splunk` as JSON.
    ///
    /// Exit codes: 0 done; 1 the control API cannot be reached or failed; 2 bad arguments.
    Stats(ControlArg),
    /// The newcomer's demo: starts the Splunk emulator (HTTPS) and the forwarder in this
    /// process, sends the mixed scenario through the ingest socket, and prints what "Splunk"
    /// received and the forwarder's status.
    ///
    /// Progress goes to standard error, the report to standard output. Exit codes: 0 every
    /// destination received every event its rules route to it, exactly once (checked event
    /// id by event id); 1 it did not, a part failed or the deadline passed; 2 bad arguments.
    Demo(DemoArgs),
}

#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// Events of the mixed scenario to send.
    #[arg(long, default_value_t = 3_000,
        value_parser = clap::value_parser!(u64).range(1..=icsfwd_sim::demo::MAX_COUNT))]
    count: u64,
    /// Seed of the scenario: the same seed sends the same events.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Time of the first event, in milliseconds since the Unix epoch (default: now).
    #[arg(long)]
    start_ms: Option<u64>,
    /// Keep the temporary directory (configuration, CA, spool) and print its path.
    #[arg(long)]
    keep: bool,
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
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("icsfwd-sim: error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// Whether `err` is a write to a closed pipe (`icsfwd-sim … | head`): the reader chose to stop,
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
        Command::Generate {
            seed,
            count,
            start_ms,
            format,
        } => generate(seed, count, start_ms, format.into()).map(|()| ExitCode::SUCCESS),
        Command::Splunk(args) => splunk(args).map(|()| ExitCode::SUCCESS),
        Command::Alerts(args) => alerts(&args),
        Command::Events(args) => control_outcome(events(&args)),
        Command::Fault(args) => control_outcome(fault(&args)),
        Command::Stats(args) => control_outcome(stats(&args)),
        Command::Demo(args) => demo(&args),
    }
}

/// Where the emulator's control API listens.
#[derive(Debug, clap::Args)]
struct ControlArg {
    /// The control API's address, as `icsfwd-sim splunk` printed it (--control-port).
    #[arg(
        long,
        value_name = "IP:PORT",
        default_value = "127.0.0.1:8090",
        global = true
    )]
    control: SocketAddr,
}

impl ControlArg {
    fn client(&self) -> ControlClient {
        ControlClient::new(self.control)
    }
}

/// A field events are counted by.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum CountField {
    Receiver,
    Index,
    Host,
    Source,
    Sourcetype,
}

impl CountField {
    const fn name(self) -> &'static str {
        match self {
            Self::Receiver => "receiver",
            Self::Index => "index",
            Self::Host => "host",
            Self::Source => "source",
            Self::Sourcetype => "sourcetype",
        }
    }
}

/// The options of `icsfwd-sim events`.
#[derive(Debug, clap::Args)]
struct EventsArgs {
    #[command(flatten)]
    control: ControlArg,
    /// Only events of this index.
    #[arg(long)]
    index: Option<String>,
    /// Only events with this host.
    #[arg(long)]
    host: Option<String>,
    /// Only events with this source.
    #[arg(long)]
    source: Option<String>,
    /// Only events with this sourcetype.
    #[arg(long)]
    sourcetype: Option<String>,
    /// Only events received through this endpoint: hec, simple, stream or syslog.
    #[arg(long)]
    receiver: Option<String>,
    /// Only events whose payload contains this text.
    #[arg(long, value_name = "TEXT")]
    contains: Option<String>,
    /// Show the last N matches (default 1000, at most 10000).
    #[arg(long, value_name = "N", conflicts_with = "count_by")]
    limit: Option<usize>,
    /// Print the events as JSON lines (with --count-by: the counts as JSON).
    #[arg(long)]
    json: bool,
    /// Print how many matching events have each value of this field.
    #[arg(long, value_enum, value_name = "FIELD")]
    count_by: Option<CountField>,
    /// Remove every stored event (takes no filters).
    #[arg(long, conflicts_with_all = [
        "index", "host", "source", "sourcetype", "receiver", "contains", "limit", "json",
        "count_by",
    ])]
    clear: bool,
}

/// The options of `icsfwd-sim fault`.
#[derive(Debug, clap::Args)]
struct FaultArgs {
    #[command(subcommand)]
    action: FaultAction,
    #[command(flatten)]
    control: ControlArg,
}

#[derive(Debug, Subcommand)]
enum FaultAction {
    /// Add a fault, e.g. `hec:status=503,code=9,next=10`, and print its id (see
    /// `icsfwd_sim::splunk::faults` for the syntax).
    Add {
        /// The fault in the text syntax (or its JSON form).
        spec: String,
    },
    /// List the faults: id, times fired, state and spec.
    List {
        /// Print the API's JSON answer instead.
        #[arg(long)]
        json: bool,
    },
    /// Remove the fault with this id.
    Rm {
        /// The id `fault add` printed.
        id: u64,
    },
    /// Remove every fault.
    Clear,
}

/// Maps a control API error to its exit code (2 refused, 1 otherwise) after printing it;
/// other errors go to `main`.
fn control_outcome(result: anyhow::Result<()>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => match err.downcast_ref::<control_client::Error>() {
            Some(control) => {
                eprintln!("icsfwd-sim: error: {control}");
                Ok(ExitCode::from(if control.is_refusal() { 2 } else { 1 }))
            }
            None => Err(err),
        },
    }
}

/// `text` on one line: its first line (`…` marks a cut) with control characters escaped, so a
/// received payload cannot rewrite the terminal.
fn one_line(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let mut out: String = first
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if lines.next().is_some() {
        out.push('…');
    }
    out
}

fn json_text(value: &serde_json::Value, name: &str) -> String {
    match value.get(name) {
        Some(serde_json::Value::String(text)) => one_line(text),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => one_line(&other.to_string()),
    }
}

fn events(args: &EventsArgs) -> anyhow::Result<()> {
    let client = args.control.client();
    if args.clear {
        let removed = client.clear_events()?;
        eprintln!("icsfwd-sim: removed {removed} events");
        return Ok(());
    }
    let query = Query {
        index: args.index.clone(),
        host: args.host.clone(),
        source: args.source.clone(),
        sourcetype: args.sourcetype.clone(),
        receiver: args.receiver.clone(),
        contains: args.contains.clone(),
        limit: args.limit,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if let Some(field) = args.count_by {
        let answer = client.count(field.name(), &query)?;
        if args.json {
            writeln!(out, "{answer}")?;
        } else {
            let counts: Vec<(String, String)> = answer
                .get("counts")
                .and_then(serde_json::Value::as_object)
                .map(|counts| {
                    counts
                        .iter()
                        .map(|(value, count)| (one_line(value), count.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let header = field.name().to_uppercase();
            let width = counts
                .iter()
                .map(|(value, _)| value.chars().count())
                .chain([header.len()])
                .max()
                .unwrap_or(0);
            writeln!(out, "{header:<width$}  COUNT")?;
            for (value, count) in &counts {
                writeln!(out, "{value:<width$}  {count}")?;
            }
            eprintln!("icsfwd-sim: {} matching events", answer["total"]);
        }
        out.flush()?;
        return Ok(());
    }
    let answer = client.events(&query)?;
    let listed = answer
        .get("events")
        .and_then(serde_json::Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for event in listed {
        if args.json {
            writeln!(out, "{event}")?;
            continue;
        }
        let time = event
            .get("time_ms")
            .and_then(serde_json::Value::as_u64)
            .map_or_else(
                || "-".to_owned(),
                |ms| {
                    icsfwd_core::time::Civil::from_epoch_ms(ms)
                        .rfc3339()
                        .to_string()
                },
            );
        let body = match event.get("event") {
            Some(serde_json::Value::String(text)) => one_line(text),
            Some(other) => one_line(&other.to_string()),
            None => String::new(),
        };
        // An empty field prints as `-` so every line keeps its columns.
        let column = |name| match json_text(event, name) {
            text if text.is_empty() => "-".to_owned(),
            text => text,
        };
        writeln!(
            out,
            "{time} {} {} {} {body}",
            column("index"),
            column("sourcetype"),
            column("host"),
        )?;
    }
    out.flush()?;
    eprintln!(
        "icsfwd-sim: {} matching events, {} shown",
        answer["matched"],
        listed.len()
    );
    Ok(())
}

fn fault(args: &FaultArgs) -> anyhow::Result<()> {
    let client = args.control.client();
    match &args.action {
        FaultAction::Add { spec } => {
            let id = client.add_fault(spec)?;
            writeln!(io::stdout(), "{id}")?;
        }
        FaultAction::List { json } => {
            let answer = client.faults()?;
            if *json {
                writeln!(io::stdout(), "{answer}")?;
                return Ok(());
            }
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            writeln!(out, "{:<6} {:<6} {:<8} SPEC", "ID", "FIRED", "STATE")?;
            let faults = answer
                .get("faults")
                .and_then(serde_json::Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            for fault in faults {
                writeln!(
                    out,
                    "{:<6} {:<6} {:<8} {}",
                    json_text(fault, "id"),
                    json_text(fault, "fired"),
                    json_text(fault, "state"),
                    json_text(fault, "spec"),
                )?;
            }
            out.flush()?;
            eprintln!("icsfwd-sim: fault seed {}", answer["seed"]);
        }
        FaultAction::Rm { id } => {
            client.remove_fault(*id)?;
            eprintln!("icsfwd-sim: removed fault {id}");
        }
        FaultAction::Clear => {
            let removed = client.clear_faults()?;
            eprintln!("icsfwd-sim: removed {removed} faults");
        }
    }
    Ok(())
}

fn stats(args: &ControlArg) -> anyhow::Result<()> {
    let answer = args.client().stats()?;
    writeln!(io::stdout(), "{}", serde_json::to_string_pretty(&answer)?)?;
    Ok(())
}

/// The options of `icsfwd-sim alerts`.
#[derive(Debug, clap::Args)]
struct AlertsArgs {
    /// The story to tell (see the scenario module docs).
    #[arg(long, value_enum, default_value_t = Scenario::Mixed)]
    scenario: Scenario,
    /// Background events per second; also the pace of a socket run.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Events in a burst (alerts of a scan or an outbreak, length of a sensor's silence).
    #[arg(long, default_value_t = 50)]
    burst: u32,
    /// How many events to send.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    count: u64,
    /// Seed of the scenario (default: drawn from the clock, and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Time of the scenario's start, in milliseconds since the Unix epoch (default: now, and
    /// printed).
    #[arg(long)]
    start_ms: Option<u64>,
    /// Where the lines go: stdout, file:PATH, unix:PATH (the forwarder's ingest socket) or
    /// tcp:IP:PORT.
    #[arg(long, default_value = "stdout")]
    to: Target,
    /// Send at the scenario's times even to stdout or a file (a socket is always paced).
    #[arg(long)]
    realtime: bool,
    /// Most lines sent and not yet answered; a slow forwarder slows the sender down.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    window: u64,
    /// Seconds to wait for one answer before the connection is given up as stalled.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    answer_timeout: u64,
}

fn alerts(args: &AlertsArgs) -> anyhow::Result<ExitCode> {
    let now_ms = icsfwd::clock::now_ms();
    // Any value will do; the clock's nanoseconds make runs differ unless a seed is given.
    let seed = args.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
    });
    let params = Params {
        rate: args.rate,
        burst: args.burst,
        count: args.count,
        seed,
        start_ms: args.start_ms.unwrap_or(now_ms),
    };
    let events = match args.scenario.events(&params) {
        Ok(events) => events,
        Err(err) => {
            // Out-of-range options are usage errors, like clap's.
            eprintln!("icsfwd-sim: error: {err}");
            return Ok(ExitCode::from(2));
        }
    };
    eprintln!(
        "icsfwd-sim: scenario {}, {} events to {}, seed {seed}, start-ms {} (replay with --seed \
         {seed} --start-ms {})",
        args.scenario, args.count, args.to, params.start_ms, params.start_ms
    );
    let options = feed::Options {
        window: usize::try_from(args.window)?,
        pace: args.realtime || args.to.answers(),
        answer_timeout: Duration::from_secs(args.answer_timeout),
        ..feed::Options::default()
    };
    let count = args.count;
    let tally = feed::send(events, &args.to, &options, &mut |t| {
        let answers = if t.answers_expected {
            format!(
                ", {} accepted, {} not forwarded, {} refused",
                t.accepted, t.not_forwarded, t.refused
            )
        } else {
            String::new()
        };
        eprintln!(
            "icsfwd-sim: {}/{count} sent{answers} ({:.1}/s)",
            t.sent,
            t.rate()
        );
    })?;
    for line in tally.to_string().lines() {
        eprintln!("icsfwd-sim: {line}");
    }
    Ok(ExitCode::from(tally.outcome().exit_code()))
}

/// The options of `icsfwd-sim splunk`.
#[derive(Debug, clap::Args)]
struct SplunkArgs {
    /// Address to listen on; only loopback addresses are accepted.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// HEC port.
    #[arg(long, default_value_t = 8088)]
    hec_port: u16,
    /// splunkd management port.
    #[arg(long, default_value_t = 8089)]
    splunkd_port: u16,
    /// HEC token value accepted in `Authorization: Splunk <token>`.
    #[arg(long, default_value = "00000000-0000-0000-0000-000000000000")]
    token: String,
    /// splunkd user as `name:password` (allowed to ingest).
    #[arg(long, default_value = "admin:changeme")]
    user: String,
    /// Index that exists (and is the token's default); repeat for more.
    #[arg(long = "index", default_value = "main")]
    indexes: Vec<String>,
    /// Append every received event to this file as a JSON line.
    #[arg(long)]
    jsonl: Option<PathBuf>,
    /// Most events kept in memory; older ones are dropped and counted.
    #[arg(long, default_value_t = store::DEFAULT_MAX_EVENTS)]
    max_events: usize,
    /// Control API port (events, faults, stats under /_sim/; plain HTTP, loopback only).
    #[arg(long, default_value_t = 8090)]
    control_port: u16,
    /// A fault active from the start, e.g. `hec:status=503,code=9,next=10`, `all:down,for=5s`,
    /// `hec:ack=never`; repeat for more (see `icsfwd_sim::splunk::faults` for the syntax).
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<FaultSpec>,
    /// Seed of the fault RNG (`fraction=` faults); printed at start so a run replays.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
    /// Serve HEC and splunkd over plain HTTP instead of HTTPS.
    #[arg(long, conflicts_with_all = ["ca_out", "tls_cert", "tls_key", "tls_ca"])]
    plain_http: bool,
    /// Where to write the generated CA certificate (PEM) that clients verify the emulator
    /// against (`curl --cacert`, the forwarder's `ca_file`).
    #[arg(long, value_name = "PATH", default_value = "icsfwd-sim-ca.pem")]
    ca_out: PathBuf,
    /// Serve this certificate chain (PEM) instead of a generated one; needs --tls-key and
    /// --tls-ca.
    #[arg(long, value_name = "PATH", requires_all = ["tls_key", "tls_ca"])]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The CA certificate (PEM) that signed --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_ca: Option<PathBuf>,
}

/// The transport of the emulated ports, and a line saying how clients verify it.
fn transport(args: &SplunkArgs) -> anyhow::Result<(Transport, String)> {
    if args.plain_http {
        return Ok((
            Transport::Plain,
            "plain HTTP (--plain-http): no TLS".to_owned(),
        ));
    }
    let (material, trust) = match (&args.tls_cert, &args.tls_key, &args.tls_ca) {
        (Some(cert), Some(key), Some(ca)) => (
            TlsMaterial::from_pem_files(cert, key, ca)?,
            format!(
                "TLS with {}; clients verify it with {}",
                cert.display(),
                ca.display()
            ),
        ),
        _ => {
            let material = TlsMaterial::generate::<&str>(&[])?;
            material.write_ca(&args.ca_out)?;
            (
                material,
                format!(
                    "TLS with a certificate generated now; clients verify it with the CA in {}",
                    args.ca_out.display()
                ),
            )
        }
    };
    Ok((Transport::Tls(material.acceptor()?), trust))
}

fn splunk(args: SplunkArgs) -> anyhow::Result<()> {
    if !args.bind.is_loopback() {
        anyhow::bail!(
            "refusing to listen on {}: the emulator only listens on loopback (127.0.0.1 or ::1)",
            args.bind
        );
    }
    let (user, password) = args
        .user
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("--user must be name:password, got {:?}", args.user))?;
    let default_index = args
        .indexes
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("at least one --index is needed"))?;
    let (transport, trust) = transport(&args)?;
    let mut token = Token::new("icsfwd-sim", &args.token);
    token.default_index = Some(default_index);
    let config = EmulatorConfig {
        bind: args.bind,
        hec_port: args.hec_port,
        splunkd_port: args.splunkd_port,
        control_port: args.control_port,
        hec: HecConfig {
            tokens: vec![token],
            indexes: args.indexes.clone(),
            ..HecConfig::default()
        },
        splunkd: SplunkdConfig {
            port: args.splunkd_port,
            users: vec![User::new(user, password, true)],
            indexes: args.indexes.clone(),
            ..SplunkdConfig::default()
        },
        store: store::StoreConfig {
            max_events: args.max_events,
            jsonl: args.jsonl.clone(),
        },
        fault_seed: args.fault_seed,
        faults: args.faults.clone(),
        transport,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).map_err(|e| {
        anyhow::anyhow!(
            "starting the emulator on {} (HEC {}, splunkd {}, control {}): {e}",
            args.bind,
            args.hec_port,
            args.splunkd_port,
            args.control_port
        )
    })?;
    println!("icsfwd-sim: HEC listening on {}", emulator.hec_url());
    println!(
        "icsfwd-sim: splunkd listening on {}",
        emulator.splunkd_url()
    );
    println!("icsfwd-sim: {trust}");
    println!(
        "icsfwd-sim: control API listening on http://{}/_sim/",
        emulator.control_addr()
    );
    println!("icsfwd-sim: HEC token {}", args.token);
    println!("icsfwd-sim: splunkd user {user}");
    println!("icsfwd-sim: fault seed {}", args.fault_seed);
    for fault in emulator.faults().list() {
        println!("icsfwd-sim: fault {} {}", fault.id, fault.spec);
    }
    if let Some(path) = &args.jsonl {
        println!("icsfwd-sim: appending events to {}", path.display());
    }
    println!("icsfwd-sim: press Ctrl-C to stop");
    io::stdout().flush()?;
    // SIGINT's default action ends the process; the servers run on their own threads.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
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

fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let options = icsfwd_sim::demo::DemoOptions {
        count: args.count,
        seed: args.seed,
        start_ms: args.start_ms,
        keep: args.keep,
        ..icsfwd_sim::demo::DemoOptions::default()
    };
    let summary = icsfwd_sim::demo::run(&options, &mut io::stderr())?;
    let mut out = io::stdout().lock();
    out.write_all(summary.render().as_bytes())?;
    out.flush()?;
    if !summary.every_event_arrived_exactly_once() {
        eprintln!(
            "icsfwd-sim: demo: not every event arrived exactly once at its destinations (see the \
             check above)"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
