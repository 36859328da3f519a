//! End-to-end benchmark of the release `icsfwd` binary: alerts/s from the ingest socket to the
//! Splunk emulator's store for HEC (acks off, acks on, over HTTPS) and splunkd REST, ingest-to-ack
//! and ingest-to-delivered latency at a paced 1,000 alerts/s, peak RSS and CPU seconds per 100,000
//! alerts of the `icsfwd` process, and the emulator's own HEC ingest rate (to show it is not the
//! bottleneck).
//!
//! It builds nothing: `cargo bench -p icsfwd --bench e2e` builds the package's binary in the
//! bench profile (optimised, like release) and hands its path to this bench as
//! `CARGO_BIN_EXE_icsfwd`; `ICSFWD_BIN` overrides it. The service runs as a child process with
//! its spool in a fresh directory on the real disk (`ICSFWD_BENCH_DIR`, default
//! `target/icsfwd-bench`; not `/tmp`, which may be a tmpfs where fsync costs nothing), so the
//! accepted-means-fsynced contract is measured, not bypassed.
//!
//! Sizing (environment variables, defaults finish in about a minute and a half on 2 cores):
//!
//! | variable | default | what |
//! | --- | --- | --- |
//! | `ICSFWD_BENCH_ALERTS` | 40000 | alerts per HEC throughput run |
//! | `ICSFWD_BENCH_SPLUNKD_ALERTS` | 5000 | alerts of the splunkd REST run (one request each) |
//! | `ICSFWD_BENCH_PRODUCERS` | 4 | producer connections of a throughput run |
//! | `ICSFWD_BENCH_WINDOW` | 256 | lines in flight per producer connection |
//! | `ICSFWD_BENCH_LATENCY_SECS` | 10 | length of each paced latency run (at least 1,000 alerts) |
//! | `ICSFWD_BENCH_RUNS` | `hec,hec-ack,hec-tls,splunkd,syslog-tcp,syslog-tls,latency,emulator` | which runs; also `drain`, `scale-rules`, `scale-dests`, `scale-size`, `steady` |
//! | `ICSFWD_BENCH_RATES` | 100,1000,10000 | rates of the paced latency runs (alerts/s) |
//! | `ICSFWD_BENCH_LATENCY_KINDS` | hec | destination kinds of the latency runs |
//! | `ICSFWD_BENCH_BACKLOG_SECS` | 300 | how long the drain run produces with the destination down |
//! | `ICSFWD_BENCH_BACKLOG_RATE` | 1000 | alerts/s produced meanwhile |
//! | `ICSFWD_BENCH_DRAIN_KIND` | hec | destination kind of the drain run (hec, hec-ack, hec-tls, splunkd) |
//! | `ICSFWD_BENCH_SCALE_KIND` | hec | destination kind of the scaling runs |
//! | `ICSFWD_BENCH_SCALE_RULES` | 1,8,32 | rule counts (at most 32, the core's capacity) |
//! | `ICSFWD_BENCH_SCALE_DESTS` | 1,2,4,8 | destination counts |
//! | `ICSFWD_BENCH_SCALE_DESTS_ALERTS` | 160000 | alerts per `scale-dests` run: enough for the peak RSS to level off (after about a second of full load; 40,000 ended before it, 0.3–0.7 MiB lower with four destinations) |
//! | `ICSFWD_BENCH_TIMEOUT_SECS` | 120 | give up a run after this long |
//! | `ICSFWD_BENCH_SLOW_MS` | unset | list where the latency run's answers took this long or more |
//! | `ICSFWD_BENCH_METRICS` | `off` | the throughput runs with `[metrics]` `off`, `on`, or `off,on` (each run twice, back to back); on: a Unix socket endpoint scraped every second during the run |
//! | `ICSFWD_BENCH_HEALTH_INTERVAL` | unset | with it (e.g. `1s`), the runs with metrics on also make a health report per destination at that interval and forward it there (`[health]`, a rule with `health = true`) |
//! | `ICSFWD_BENCH_STEADY_RATES` | 100,1000 | rates of the `steady` runs (alerts/s, one connection) |
//! | `ICSFWD_BENCH_STEADY_SECS` | 20 | length of each `steady` run |
//! | `ICSFWD_BENCH_STEADY_WARMUP_SECS` | 0 | before each `steady` run, alerts sent at its rate for this long and not measured (the spool's steady state: segment files reused) |
//! | `ICSFWD_BENCH_STEADY_KIND` | syslog-tcp | destination kind of the `steady` runs |
//! | `ICSFWD_BENCH_IDLE_SECS` | 10 | after each `steady` run, how long its idle writes are measured (0: not) |
//! | `ICSFWD_BENCH_RUNTIME_DIR` | /dev/shm | where the `steady` runs put the ingest socket and the status file (a tmpfs, like `/run/icsfwd` in production: the status file is rewritten every second) |
//! | `ICSFWD_BENCH_BLOCKDEV` | unset | the block device (name under `/sys/block`) the bench directory is alone on: the `steady` runs then also report the bytes it received |
//! | `ICSFWD_BENCH_COMMIT_WINDOW` | unset | `[spool] commit_window` of the service (unset: its default; leave it unset for a binary without the key) |
//!
//! Every figure also prints one line `BENCH {json}` for scripts.
//!
//! The `steady` run (not in the default list) measures what an appliance spends at a steady
//! trickle, fsync before every answer as always: one connection paced at each rate, and per
//! alert the bytes the service process caused to be written (`write_bytes` of
//! `/proc/<pid>/io`: the page cache counts a whole 4 KiB page, or a whole large folio, each
//! time a clean one is dirtied, so it is neither the record's bytes nor the device's), the
//! bytes the device received when `ICSFWD_BENCH_BLOCKDEV` names a device that holds nothing
//! but the bench directory (a loop-mounted file system: `docs/BENCHMARKS.md`; the journal's
//! writes, which `write_bytes` misses, are counted there), the CPU time, and written →
//! accepted latency. It prints the file system the bench directory is on: on a tmpfs or an
//! overlay `write_bytes` may be 0 or meaningless.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark: a failed step aborts the run with its cause"
)]

use std::fs;
use std::io::{BufRead as _, BufReader, BufWriter, Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use icsfwd::ingest::schema::encode_line;
use icsfwd_core::alert::{Alert, Event};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::record::{self, Record};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator, Transport};
use icsfwd_sim::splunk::hec::Token;
use icsfwd_sim::splunk::splunkd::User;
use icsfwd_sim::splunk::store::{Field, Filter, StoreConfig};
use icsfwd_sim::splunk::tls::TlsMaterial;

const HEC_TOKEN: &str = "8a1f6c2e-6b0d-4c3e-9f5a-1d2e3f4a5b6c";
const ACK_TOKEN: &str = "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b";
const USER: &str = "icsfwd";
const PASSWORD: &str = "bench-password";

mod support;

use support::env_u64 as env_or;

struct Settings {
    alerts: u64,
    /// Alerts per `scale-dests` run.
    scale_dests_alerts: u64,
    splunkd_alerts: u64,
    producers: usize,
    window: usize,
    latency_secs: u64,
    timeout: Duration,
    runs: Vec<String>,
    dir: PathBuf,
    bin: PathBuf,
    clk_tck: f64,
}

impl Settings {
    fn from_env() -> Settings {
        let bin = std::env::var_os("ICSFWD_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_icsfwd")));
        if !bin.is_file() {
            eprintln!(
                "icsfwd binary not found at {}: run `cargo bench -p icsfwd --bench e2e` (it builds \
                 the binary), or `cargo build --release -p icsfwd` and set ICSFWD_BIN=target/release/icsfwd",
                bin.display()
            );
            std::process::exit(2);
        }
        let dir = support::bench_dir();
        let runs = std::env::var("ICSFWD_BENCH_RUNS")
            .unwrap_or_else(|_| {
                "hec,hec-ack,hec-tls,splunkd,syslog-tcp,syslog-tls,latency,emulator".to_owned()
            })
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect();
        let clk_tck = support::clock_ticks_per_second();
        Settings {
            alerts: env_or("ICSFWD_BENCH_ALERTS", 40_000),
            scale_dests_alerts: env_or("ICSFWD_BENCH_SCALE_DESTS_ALERTS", 160_000),
            splunkd_alerts: env_or("ICSFWD_BENCH_SPLUNKD_ALERTS", 5_000),
            producers: usize::try_from(env_or("ICSFWD_BENCH_PRODUCERS", 4))
                .unwrap()
                .max(1),
            window: usize::try_from(env_or("ICSFWD_BENCH_WINDOW", 256))
                .unwrap()
                .max(1),
            latency_secs: env_or("ICSFWD_BENCH_LATENCY_SECS", 10),
            timeout: Duration::from_secs(env_or("ICSFWD_BENCH_TIMEOUT_SECS", 120)),
            runs,
            dir,
            bin,
            clk_tck,
        }
    }

    fn wants(&self, run: &str) -> bool {
        self.runs.iter().any(|r| r == run)
    }
}

/// The emulator: plain HTTP or TLS (HEC, splunkd and syslog alike), a token without and one
/// with acks, a splunkd user, a syslog TCP receiver, a store holding `events` (older ones are
/// dropped and counted: [`stored`] counts both).
fn emulator(tls: Option<&TlsMaterial>, events: usize) -> RunningEmulator {
    let mut config = EmulatorConfig {
        store: StoreConfig {
            max_events: events + 10_000,
            jsonl: None,
        },
        syslog_port: Some(0),
        ..EmulatorConfig::default()
    };
    if let Some(material) = tls {
        config.transport = Transport::Tls(material.acceptor().unwrap());
    }
    config.hec.tokens.push(Token::new("icsfwd", HEC_TOKEN));
    let mut ack = Token::new("icsfwd-ack", ACK_TOKEN);
    ack.use_ack = true;
    config.hec.tokens.push(ack);
    config.splunkd.users.push(User::new(USER, PASSWORD, true));
    Emulator::start(config).unwrap()
}

/// Events the emulator received: those it holds plus those its bound dropped.
fn stored(emulator: &RunningEmulator) -> usize {
    let store = emulator.store();
    store.len() + usize::try_from(store.dropped()).unwrap()
}

/// The stored events other than health reports (sourcetype `icsfwd:health`, made only by
/// runs with `ICSFWD_BENCH_HEALTH_INTERVAL`), from one look at the store.
fn alerts_stored(emulator: &RunningEmulator) -> usize {
    let store = emulator.store();
    let counts = store.count_by(Field::Sourcetype);
    let reports = counts.get("icsfwd:health").copied().unwrap_or(0);
    let all: u64 = counts.values().sum();
    usize::try_from(all - reports + store.dropped()).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Hec,
    HecAck,
    HecTls,
    Splunkd,
    SyslogTcp,
    SyslogTls,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Hec => "HEC, acks off (http)",
            Kind::HecAck => "HEC, acks on (http)",
            Kind::HecTls => "HEC, acks off (https)",
            Kind::Splunkd => "splunkd REST (http)",
            Kind::SyslogTcp => "syslog TCP (CEF)",
            Kind::SyslogTls => "syslog TLS (CEF)",
        }
    }

    /// The run name (`ICSFWD_BENCH_RUNS`, summary lines).
    fn name(self) -> &'static str {
        match self {
            Kind::Hec => "hec",
            Kind::HecAck => "hec-ack",
            Kind::HecTls => "hec-tls",
            Kind::Splunkd => "splunkd",
            Kind::SyslogTcp => "syslog-tcp",
            Kind::SyslogTls => "syslog-tls",
        }
    }

    fn parse(name: &str) -> Kind {
        [
            Kind::Hec,
            Kind::HecAck,
            Kind::HecTls,
            Kind::Splunkd,
            Kind::SyslogTcp,
            Kind::SyslogTls,
        ]
        .into_iter()
        .find(|k| k.name() == name)
        .unwrap_or_else(|| panic!("unknown destination kind {name:?}"))
    }

    fn tls(self) -> bool {
        matches!(self, Kind::HecTls | Kind::SyslogTls)
    }
}

/// Alert sizes of the scaling run (the ingest lines' strings).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Size {
    /// No message, group or endpoint names: the smallest alert a sensor sends.
    Small,
    /// The `steady` scenario as generated.
    Typical,
    /// Every string at its core capacity (the largest record).
    Max,
}

impl Size {
    fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Typical => "typical",
            Size::Max => "max",
        }
    }
}

/// What one run sets up: destination kind, how many destinations (all the same kind, all on
/// the one emulator), how many rules, which alert size, and whether `[metrics]` is on (then
/// scraped every second).
#[derive(Clone, Copy, Debug)]
struct Setup {
    kind: Kind,
    destinations: usize,
    rules: usize,
    size: Size,
    metrics: bool,
}

impl Setup {
    fn new(kind: Kind) -> Setup {
        Setup {
            kind,
            destinations: 1,
            rules: 1,
            size: Size::Typical,
            metrics: false,
        }
    }
}

fn destination(kind: Kind, name: &str, emulator: &RunningEmulator, ca: Option<&Path>) -> String {
    let hec = emulator.hec_addr().port();
    let ca = ca
        .map(|p| format!("ca_file = \"{}\"\n", p.display()))
        .unwrap_or_default();
    let body = match kind {
        Kind::Hec | Kind::HecAck | Kind::HecTls => {
            let scheme = if kind.tls() { "https" } else { "http" };
            let host = if kind.tls() { "localhost" } else { "127.0.0.1" };
            let (token, ack) = if kind == Kind::HecAck {
                (ACK_TOKEN, "true")
            } else {
                (HEC_TOKEN, "false")
            };
            format!(
                "kind = \"hec\"\nurls = [\"{scheme}://{host}:{hec}\"]\n\
                 token = \"{token}\"\nack = {ack}\n{ca}"
            )
        }
        Kind::Splunkd => format!(
            "kind = \"splunk\"\nhost = \"127.0.0.1\"\nport = {}\n\
             scheme = \"http\"\nusername = \"{USER}\"\npassword = \"{PASSWORD}\"\n",
            emulator.splunkd_addr().port()
        ),
        Kind::SyslogTcp | Kind::SyslogTls => {
            let port = emulator.syslog_addr().unwrap().port();
            let (transport, host) = if kind.tls() {
                ("tls", "localhost")
            } else {
                ("tcp", "127.0.0.1")
            };
            format!(
                "kind = \"syslog\"\nhost = \"{host}\"\nport = {port}\ntransport = \"{transport}\"\n\
                 payload = \"cef\"\n{ca}"
            )
        }
    };
    format!(
        "[[destination]]\nname = \"{name}\"\n{body}retry_min = \"100ms\"\nretry_max = \"1s\"\n\n"
    )
}

/// Rule `i` of `n`: the first sends every alert; the others filter on engine and severity so
/// that routing evaluates each, and all name every destination (an alert is spooled once;
/// system notifications are not forwarded, so the store holds only the bench's alerts).
fn rule(i: usize, actions: &str) -> String {
    if i == 0 {
        return format!("[[rule]]\nname = \"all\"\nactions = [{actions}]\n\n");
    }
    const ENGINES: [&str; 5] = [
        "protocol violation",
        "policy violation",
        "malware",
        "anomaly",
        "operational",
    ];
    const SEVERITIES: [&str; 4] = ["warning", "minor", "major", "critical"];
    format!(
        "[[rule]]\nname = \"rule-{i}\"\nengines = [\"{}\"]\nmin_severity = \"{}\"\n\
         actions = [{actions}]\n\n",
        ENGINES[i % ENGINES.len()],
        SEVERITIES[i % SEVERITIES.len()],
    )
}

fn write_config(
    dir: &Path,
    socket: &Path,
    setup: Setup,
    emulator: &RunningEmulator,
    ca: Option<&Path>,
) -> PathBuf {
    let names: Vec<String> = (0..setup.destinations)
        .map(|i| {
            if i == 0 {
                "soc".to_owned()
            } else {
                format!("soc{i}")
            }
        })
        .collect();
    let destinations: String = names
        .iter()
        .map(|name| destination(setup.kind, name, emulator, ca))
        .collect();
    let actions = names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let rules: String = (0..setup.rules).map(|i| rule(i, &actions)).collect();
    let metrics = if setup.metrics {
        format!(
            "\n[metrics]\nlisten = \"unix:{}\"\n{}",
            dir.join("metrics.sock").display(),
            health_section(&actions)
        )
    } else {
        String::new()
    };
    let text = format!(
        "[sensor]\nname = \"bench-sensor\"\nip = \"10.20.0.5\"\n\n\
         {destinations}{rules}\
         [spool]\ndir = \"{spool}\"\n{window}\n[ingest]\nsocket = \"{socket}\"\n\n[log]\nlevel = \"warn\"\n\
         {metrics}",
        spool = dir.join("spool").display(),
        window = std::env::var("ICSFWD_BENCH_COMMIT_WINDOW")
            .map(|w| format!("commit_window = \"{w}\"\n"))
            .unwrap_or_default(),
        socket = socket.display(),
    );
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// With `ICSFWD_BENCH_HEALTH_INTERVAL` set (for runs with `[metrics]` on): `[health] interval`
/// and a rule that forwards the health reports (and nothing else) to every destination, so
/// that an "on" run pays for both. Empty when unset.
fn health_section(actions: &str) -> String {
    match std::env::var("ICSFWD_BENCH_HEALTH_INTERVAL") {
        Ok(interval) => format!(
            "\n[health]\ninterval = \"{interval}\"\n\n[[rule]]\nname = \"health\"\nalerts = false\n\
             health = true\nactions = [{actions}]\n"
        ),
        Err(_) => String::new(),
    }
}

/// The service as a child process (killed on drop).
struct Service {
    child: Child,
}

impl Service {
    fn start(bin: &Path, config: &Path, socket: &Path) -> Service {
        let child = Command::new(bin)
            .args(["run", "-c"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let service = Service { child };
        let start = Instant::now();
        while UnixStream::connect(socket).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the ingest socket did not come up"
            );
            thread::sleep(Duration::from_millis(20));
        }
        service
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak RSS (VmHWM) in KiB.
    fn peak_rss_kib(&self) -> u64 {
        support::peak_rss_kib(self.pid())
    }

    /// utime + stime in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        support::cpu_ticks(self.pid())
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        drop(Command::new("kill").args(["-TERM", &pid]).status());
        drop(self.child.wait());
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// `count` ingest lines of the steady scenario, ids unique per sensor, strings sized by `size`.
fn lines(count: u64, size: Size) -> Vec<String> {
    let params = Params {
        rate: 1_000.0,
        count,
        seed: 4,
        ..Params::default()
    };
    Scenario::Steady
        .events(&params)
        .unwrap()
        .map(|(_, mut event)| {
            if let Event::Alert(alert) = &mut event {
                resize(alert, size);
            }
            let mut line = encode_line(&event);
            line.push('\n');
            line
        })
        .collect()
}

fn fill_up<const N: usize>(text: &mut heapless::String<N>) {
    while text.push('x').is_ok() {}
}

fn resize(alert: &mut Alert, size: Size) {
    match size {
        Size::Typical => {}
        Size::Small => {
            alert.message.clear();
            alert.group.clear();
            alert.source.name.clear();
            alert.destination.name.clear();
        }
        Size::Max => {
            // The sensor name stays: it makes the event ids unique.
            fill_up(&mut alert.title);
            fill_up(&mut alert.message);
            fill_up(&mut alert.protocol);
            fill_up(&mut alert.group);
            fill_up(&mut alert.source.name);
            fill_up(&mut alert.destination.name);
            fill_up(&mut alert.sensor.version);
        }
    }
}

/// What one producer connection saw: per line, when it was written and written → answer read.
struct Produced {
    sent: Vec<Instant>,
    latencies: Vec<Duration>,
    refused: u64,
}

/// Writes `lines` over one connection, at most `window` unanswered; with `pace`, line `i`
/// is written at `start + i * pace`.
fn produce(socket: &Path, lines: Vec<String>, window: usize, pace: Option<Duration>) -> Produced {
    let stream = UnixStream::connect(socket).unwrap();
    let reader = stream.try_clone().unwrap();
    let (tx, rx) = mpsc::sync_channel::<Instant>(window);
    let count = lines.len();
    let answers = thread::spawn(move || {
        let mut reader = BufReader::with_capacity(64 * 1024, reader);
        let mut line = String::new();
        let mut latencies = Vec::with_capacity(count);
        let mut sent_at = Vec::with_capacity(count);
        let mut refused = 0;
        for _ in 0..count {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                panic!("the service closed the connection with lines unanswered");
            }
            let sent = rx.recv().unwrap();
            latencies.push(sent.elapsed());
            sent_at.push(sent);
            if !line.starts_with(r#"{"status":"accepted""#) {
                refused += 1;
                if refused <= 3 {
                    eprintln!("not accepted: {}", line.trim_end());
                }
            }
        }
        Produced {
            sent: sent_at,
            latencies,
            refused,
        }
    });
    let mut writer = BufWriter::with_capacity(64 * 1024, stream);
    let start = Instant::now();
    for (i, line) in lines.iter().enumerate() {
        if let Some(pace) = pace {
            let due = start + pace * u32::try_from(i).unwrap();
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
        }
        let now = Instant::now();
        match tx.try_send(now) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                writer.flush().unwrap();
                tx.send(Instant::now()).unwrap();
            }
            Err(TrySendError::Disconnected(_)) => panic!("the answer reader stopped"),
        }
        writer.write_all(line.as_bytes()).unwrap();
        if pace.is_some() {
            writer.flush().unwrap();
        }
    }
    writer.flush().unwrap();
    let produced = answers.join().unwrap();
    drop(writer.into_inner().map(|s| s.shutdown(Shutdown::Write)));
    produced
}

/// Watches the store's size; returns (count, first time it was reached) transitions.
struct Watcher {
    stop: Arc<Mutex<bool>>,
    thread: thread::JoinHandle<Vec<(usize, Instant)>>,
}

impl Watcher {
    fn start(emulator: &RunningEmulator, until: usize, poll: Duration) -> Watcher {
        let store = emulator.store().clone();
        let stop = Arc::new(Mutex::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut seen = Vec::new();
            let mut last = 0;
            loop {
                let len = store.len() + usize::try_from(store.dropped()).unwrap();
                if len != last {
                    seen.push((len, Instant::now()));
                    last = len;
                }
                if len >= until || *stop2.lock().unwrap() {
                    return seen;
                }
                thread::sleep(poll);
            }
        });
        Watcher { stop, thread }
    }

    fn finish(self) -> Vec<(usize, Instant)> {
        *self.stop.lock().unwrap() = true;
        self.thread.join().unwrap()
    }
}

/// One machine-readable summary line: `BENCH {json}` (grep `^BENCH ` and parse the rest).
fn summary(value: serde_json::Value) {
    println!("BENCH {value}");
}

fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The service, the emulator and the run's directory, started for `setup`.
struct Rig {
    emulator: RunningEmulator,
    service: Service,
    socket: PathBuf,
    dir: PathBuf,
    scraper: Option<Scraper>,
    /// The directory of the socket and the status file, when not `dir`.
    runtime: Option<PathBuf>,
}

/// Scrapes `GET /metrics` from a Unix socket every second, like a Prometheus with a 1 s
/// interval (15 s to 60 s is usual), until stopped.
struct Scraper {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: thread::JoinHandle<(u64, u64)>,
}

impl Scraper {
    fn start(socket: PathBuf) -> Scraper {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let (mut scrapes, mut bytes) = (0u64, 0u64);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let mut stream = UnixStream::connect(&socket).unwrap();
                stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
                let mut reply = Vec::new();
                stream.read_to_end(&mut reply).unwrap();
                assert!(reply.starts_with(b"HTTP/1.1 200 OK"), "a failed scrape");
                scrapes += 1;
                bytes += reply.len() as u64;
                thread::sleep(Duration::from_secs(1));
            }
            (scrapes, bytes)
        });
        Scraper { stop, thread }
    }

    /// Stops; returns the scrapes done and the bytes they read.
    fn finish(self) -> (u64, u64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

impl Rig {
    fn start(settings: &Settings, setup: Setup, label: &str, store_events: usize) -> Rig {
        Rig::start_with_runtime(settings, setup, label, store_events, None)
    }

    /// [`Rig::start`], with the ingest socket and the status file in `runtime` instead of the
    /// spool's directory (a tmpfs, as `/run/icsfwd` is in production).
    fn start_with_runtime(
        settings: &Settings,
        setup: Setup,
        label: &str,
        store_events: usize,
        runtime: Option<&Path>,
    ) -> Rig {
        let tls = setup
            .kind
            .tls()
            .then(|| TlsMaterial::generate::<&str>(&[]).unwrap());
        let emulator = emulator(tls.as_ref(), store_events);
        let dir = settings.dir.join(label);
        drop(fs::remove_dir_all(&dir));
        fs::create_dir_all(&dir).unwrap();
        let ca = tls.as_ref().map(|m| {
            let path = dir.join("ca.pem");
            m.write_ca(&path).unwrap();
            path
        });
        let runtime = runtime.map(|r| {
            let path = r.join(format!("icsfwd-bench-{label}"));
            drop(fs::remove_dir_all(&path));
            fs::create_dir_all(&path).unwrap();
            path
        });
        let socket = runtime.as_deref().unwrap_or(&dir).join("ingest.sock");
        let config = write_config(&dir, &socket, setup, &emulator, ca.as_deref());
        let service = Service::start(&settings.bin, &config, &socket);
        let scraper = setup
            .metrics
            .then(|| Scraper::start(dir.join("metrics.sock")));
        Rig {
            emulator,
            service,
            socket,
            dir,
            scraper,
            runtime,
        }
    }

    fn finish(self) {
        if let Some(scraper) = self.scraper {
            let (scrapes, bytes) = scraper.finish();
            eprintln!("  metrics: {scrapes} scrapes, {bytes} bytes");
        }
        self.service.stop();
        self.emulator.shutdown();
        drop(fs::remove_dir_all(&self.dir));
        if let Some(runtime) = &self.runtime {
            drop(fs::remove_dir_all(runtime));
        }
    }
}

fn wait_stored(emulator: &RunningEmulator, target: usize, deadline: Instant, what: &str) {
    while stored(emulator) < target {
        assert!(
            Instant::now() < deadline,
            "{what}: only {} of {target} deliveries reached the emulator",
            stored(emulator),
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `target` events besides the health reports are stored; how many are.
fn wait_stored_alerts(emulator: &RunningEmulator, target: usize, deadline: Instant) -> usize {
    loop {
        let alerts = alerts_stored(emulator);
        if alerts >= target {
            return alerts;
        }
        assert!(Instant::now() < deadline, "alerts not all stored");
        thread::sleep(Duration::from_millis(20));
    }
}

struct Row {
    what: String,
    alerts: u64,
    ingest_rate: f64,
    e2e_rate: f64,
    rss_kib: u64,
    cpu_per_100k: f64,
}

/// All `count` alerts as fast as `producers` pipelining connections go; alerts/s accepted
/// and alerts/s delivered to every destination.
fn throughput(settings: &Settings, setup: Setup, count: u64, figure: &str) -> Row {
    let producers = settings.producers;
    let deliveries = usize::try_from(count).unwrap() * setup.destinations;
    let rig = Rig::start(settings, setup, setup.kind.name(), deliveries);
    let all = lines(count, setup.size);
    let mut parts: Vec<Vec<String>> = vec![Vec::new(); producers];
    for (i, line) in all.into_iter().enumerate() {
        parts[i % producers].push(line);
    }
    let cpu_before = rig.service.cpu_ticks();
    let watcher = Watcher::start(&rig.emulator, deliveries, Duration::from_millis(1));
    let start = Instant::now();
    let handles: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let socket = rig.socket.clone();
            let window = settings.window;
            thread::spawn(move || produce(&socket, part, window, None))
        })
        .collect();
    let mut refused = 0;
    for handle in handles {
        refused += handle.join().unwrap().refused;
    }
    let ingested = start.elapsed();
    assert_eq!(refused, 0, "lines were not accepted");
    wait_stored(
        &rig.emulator,
        deliveries,
        start + settings.timeout,
        setup.kind.label(),
    );
    let seen = watcher.finish();
    let done = seen
        .iter()
        .find(|(n, _)| *n >= deliveries)
        .map_or_else(Instant::now, |(_, t)| *t);
    let e2e = done - start;
    let cpu = (rig.service.cpu_ticks() - cpu_before) as f64 / settings.clk_tck;
    let rss = rig.service.peak_rss_kib();
    // With health reports on, they are stored beside the alerts: wait for the alerts' count
    // without them (the time above may have ended a report or two early, a few events in
    // tens of thousands).
    let health = setup.metrics && std::env::var_os("ICSFWD_BENCH_HEALTH_INTERVAL").is_some();
    let alerts = if health {
        wait_stored_alerts(&rig.emulator, deliveries, start + settings.timeout)
    } else {
        stored(&rig.emulator)
    };
    assert_eq!(alerts, deliveries, "each alert stored once");
    rig.finish();
    let row = Row {
        what: format!(
            "{} ×{producers} conn{}",
            setup.kind.label(),
            match (setup.destinations, setup.rules, setup.size) {
                (1, 1, Size::Typical) => String::new(),
                (d, r, size) => format!(", {d} dest, {r} rules, {} alerts", size.name()),
            } + if setup.metrics { ", metrics on" } else { "" }
        ),
        alerts: count,
        ingest_rate: count as f64 / ingested.as_secs_f64(),
        e2e_rate: count as f64 / e2e.as_secs_f64(),
        rss_kib: rss,
        cpu_per_100k: cpu * 100_000.0 / count as f64,
    };
    summary(serde_json::json!({
        "figure": figure,
        "kind": setup.kind.name(),
        "destinations": setup.destinations,
        "rules": setup.rules,
        "size": setup.size.name(),
        "metrics": setup.metrics,
        "alerts": count,
        "producers": producers,
        "ingest_alerts_per_s": row.ingest_rate.round(),
        "delivered_alerts_per_s": row.e2e_rate.round(),
        "cpu_s_per_100k": round2(row.cpu_per_100k),
        "peak_rss_mib": mib(row.rss_kib),
    }));
    row
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn ms_f(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

struct Latency {
    kind: Kind,
    rate: u64,
    alerts: u64,
    ack: Vec<Duration>,
    delivered: Vec<Duration>,
    rss_kib: u64,
    cpu_per_100k: f64,
}

/// One connection paced at `rate` lines/s for `latency_secs` (at least 1,000 lines):
/// written → accepted, and written → stored in the emulator (the store's n-th record is the
/// n-th line: one connection, one worker, spool order — checked on the ids for HEC).
fn latency(settings: &Settings, kind: Kind, rate: u64) -> Latency {
    let count = (settings.latency_secs * rate).max(1_000);
    let target = usize::try_from(count).unwrap();
    let label = format!("latency-{}-{rate}", kind.name());
    let rig = Rig::start(settings, Setup::new(kind), &label, target);
    let all = lines(count, Size::Typical);
    let ids: Vec<String> = all
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{}-{}",
                v["sensor"]["name"].as_str().unwrap(),
                v["id"].as_u64().unwrap()
            )
        })
        .collect();
    let cpu_before = rig.service.cpu_ticks();
    let watcher = Watcher::start(&rig.emulator, target, Duration::from_micros(200));
    let pace = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let produced = produce(&rig.socket, all, 4096, Some(pace));
    assert_eq!(produced.refused, 0);
    wait_stored(
        &rig.emulator,
        target,
        Instant::now() + settings.timeout,
        "latency run",
    );
    let seen = watcher.finish();
    let cpu = (rig.service.cpu_ticks() - cpu_before) as f64 / settings.clk_tck;
    let rss = rig.service.peak_rss_kib();
    if matches!(kind, Kind::Hec | Kind::HecAck | Kind::HecTls) {
        let stored: Vec<String> = rig
            .emulator
            .store()
            .list(&Filter::default())
            .iter()
            .map(|r| {
                r.to_json()["event"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            stored, ids,
            "stored in the order sent (the latency mapping relies on it)"
        );
    }
    rig.finish();
    // Line i is delivered when the store first held more than i records.
    let mut delivered = Vec::with_capacity(target);
    let mut next = 0;
    for (n, at) in seen {
        while next < n.min(target) {
            delivered.push(at.saturating_duration_since(produced.sent[next]));
            next += 1;
        }
    }
    if let Ok(slow) = std::env::var("ICSFWD_BENCH_SLOW_MS") {
        // Where the slow answers are in the run: stalls of the service show up as runs of
        // consecutive slow lines.
        let slow = Duration::from_millis(slow.parse().unwrap_or(20));
        let mut runs: Vec<(usize, usize, Duration)> = Vec::new();
        for (i, l) in produced.latencies.iter().enumerate() {
            if *l < slow {
                continue;
            }
            match runs.last_mut() {
                Some((_, end, worst)) if *end + 1 == i => {
                    *end = i;
                    *worst = (*worst).max(*l);
                }
                _ => runs.push((i, i, *l)),
            }
        }
        for (first, last, worst) in runs {
            eprintln!(
                "slow answers: lines {first}..={last}, worst {} ms",
                ms(worst)
            );
        }
    }
    let mut ack = produced.latencies;
    ack.sort();
    delivered.sort();
    let l = Latency {
        kind,
        rate,
        alerts: count,
        ack,
        delivered,
        rss_kib: rss,
        cpu_per_100k: cpu * 100_000.0 / count as f64,
    };
    summary(serde_json::json!({
        "figure": "latency",
        "kind": kind.name(),
        "rate": rate,
        "alerts": count,
        "accepted_ms": {
            "p50": ms_f(percentile(&l.ack, 50.0)),
            "p99": ms_f(percentile(&l.ack, 99.0)),
            "max": ms_f(l.ack.last().copied().unwrap_or_default()),
        },
        "delivered_ms": {
            "p50": ms_f(percentile(&l.delivered, 50.0)),
            "p99": ms_f(percentile(&l.delivered, 99.0)),
            "max": ms_f(l.delivered.last().copied().unwrap_or_default()),
        },
        "cpu_s_per_100k": round2(l.cpu_per_100k),
        "peak_rss_mib": mib(l.rss_kib),
    }));
    l
}

/// The mean frame size of the records the first `count` lines of [`lines`] become in the
/// spool (sequence numbers and one destination as the service gives them).
fn mean_record_bytes(count: u64) -> f64 {
    let params = Params {
        rate: 1_000.0,
        count,
        seed: 4,
        ..Params::default()
    };
    let mut frame = vec![0u8; record::MAX_FRAME];
    let mut total = 0;
    for (i, (_, event)) in Scenario::Steady.events(&params).unwrap().enumerate() {
        let record = Record {
            seq: i as u64 + 1,
            destinations: DestinationSet::from_bits(1),
            event,
        };
        total += record::encode(&record, &mut frame).unwrap();
    }
    total as f64 / count.max(1) as f64
}

/// The service's status file (written every second beside the ingest socket): its spool's
/// `fsyncs` counter.
fn status_fsyncs(socket: &Path) -> u64 {
    let path = socket.with_file_name("icsfwd.status.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(n) = fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["spool"]["fsyncs"].as_u64())
        {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "no status file at {}",
            path.display()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// One `steady` run's figures.
struct Steady {
    kind: Kind,
    rate: u64,
    alerts: u64,
    record_bytes: f64,
    write_bytes: f64,
    cancelled_bytes: f64,
    device_bytes: Option<f64>,
    alerts_per_fsync: f64,
    cpu_us: f64,
    accepted: Vec<Duration>,
    /// Idle afterwards: `write_bytes` per second, the device's bytes per second.
    idle: (f64, Option<f64>),
}

/// One connection paced at `rate` for `ICSFWD_BENCH_STEADY_SECS`; per alert, from the first
/// line written until every alert is delivered: bytes the service caused to be written
/// (`/proc/<pid>/io`), bytes the device `ICSFWD_BENCH_BLOCKDEV` received, CPU time; and
/// written → accepted latency (see the module docs).
fn steady(settings: &Settings, kind: Kind, rate: u64) -> Steady {
    let secs = env_or("ICSFWD_BENCH_STEADY_SECS", 20);
    let count = (secs * rate).max(100);
    // Alerts sent at the same pace before the measured ones: the spool's steady state (its
    // segment files reused) rather than its first minutes.
    let warmup = env_or("ICSFWD_BENCH_STEADY_WARMUP_SECS", 0) * rate;
    let target = usize::try_from(count + warmup).unwrap();
    let device = std::env::var("ICSFWD_BENCH_BLOCKDEV").ok();
    let label = format!("steady-{}-{rate}", kind.name());
    // The status file, rewritten every second, lives beside the socket: in the runtime
    // directory, a tmpfs in production (`/run/icsfwd`), not on the spool's flash.
    let runtime = PathBuf::from(
        std::env::var_os("ICSFWD_BENCH_RUNTIME_DIR").unwrap_or_else(|| "/dev/shm".into()),
    );
    let rig = Rig::start_with_runtime(settings, Setup::new(kind), &label, target, Some(&runtime));
    let mut all = lines(count + warmup, Size::Typical);
    let pace = Duration::from_nanos(1_000_000_000 / rate.max(1));
    if warmup > 0 {
        let rest = all.split_off(usize::try_from(warmup).unwrap());
        let first = std::mem::replace(&mut all, rest);
        let warmed = produce(&rig.socket, first, 4096, Some(pace));
        assert_eq!(warmed.refused, 0, "warm-up lines were not accepted");
        let warmed = usize::try_from(warmup).unwrap();
        wait_stored(
            &rig.emulator,
            warmed,
            Instant::now() + settings.timeout,
            "warm-up",
        );
    }
    // The status file appears after the first second: every fsync after it is this run's.
    let fsyncs_before = status_fsyncs(&rig.socket);
    let pid = rig.service.pid();
    let (cpu_before, io_before) = (rig.service.cpu_ticks(), support::proc_io(pid));
    let device_before = device.as_deref().map(support::device_bytes_written);
    let produced = produce(&rig.socket, all, 4096, Some(pace));
    assert_eq!(produced.refused, 0, "lines were not accepted");
    wait_stored(
        &rig.emulator,
        target,
        Instant::now() + settings.timeout,
        "steady run",
    );
    let cpu = (rig.service.cpu_ticks() - cpu_before) as f64 / settings.clk_tck;
    let io = support::proc_io(pid);
    let device_bytes = device
        .as_deref()
        .zip(device_before)
        .map(|(dev, before)| (support::device_bytes_written(dev) - before) as f64 / count as f64);
    // The next status snapshot counts every append of the run.
    thread::sleep(Duration::from_millis(1_200));
    let fsyncs = status_fsyncs(&rig.socket) - fsyncs_before;
    let idle = idle_writes(&rig, device.as_deref());
    rig.finish();
    let mut accepted = produced.latencies;
    accepted.sort();
    let per_alert = |n: u64| n as f64 / count as f64;
    let s = Steady {
        kind,
        rate,
        alerts: count,
        record_bytes: mean_record_bytes(count),
        write_bytes: per_alert(io.write_bytes - io_before.write_bytes),
        cancelled_bytes: per_alert(io.cancelled_write_bytes - io_before.cancelled_write_bytes),
        device_bytes,
        alerts_per_fsync: count as f64 / fsyncs.max(1) as f64,
        cpu_us: cpu * 1e6 / count as f64,
        accepted,
        idle,
    };
    summary(serde_json::json!({
        "figure": "steady",
        "kind": kind.name(),
        "rate": rate,
        "alerts": count,
        "warmup_alerts": warmup,
        "commit_window": std::env::var("ICSFWD_BENCH_COMMIT_WINDOW").ok(),
        "file_system": support::file_system(&settings.dir),
        "record_bytes": s.record_bytes.round(),
        "write_bytes_per_alert": s.write_bytes.round(),
        "cancelled_write_bytes_per_alert": s.cancelled_bytes.round(),
        "device": device,
        "device_bytes_per_alert": s.device_bytes.map(f64::round),
        "alerts_per_fsync": round2(s.alerts_per_fsync),
        "cpu_us_per_alert": round2(s.cpu_us),
        "cpu_s_per_100k": round2(s.cpu_us / 10.0),
        "accepted_ms": {
            "p50": ms_f(percentile(&s.accepted, 50.0)),
            "p99": ms_f(percentile(&s.accepted, 99.0)),
            "max": ms_f(s.accepted.last().copied().unwrap_or_default()),
        },
        "idle_write_bytes_per_s": s.idle.0.round(),
        "idle_device_bytes_per_s": s.idle.1.map(f64::round),
        "load_average": support::load_average(),
    }));
    s
}

/// What the service writes while idle, its spool fully delivered: bytes per second
/// (`write_bytes`, and the device's when one is named) over `ICSFWD_BENCH_IDLE_SECS`, after the
/// housekeeper's first checkpoint has persisted the run's last acknowledgements.
fn idle_writes(rig: &Rig, device: Option<&str>) -> (f64, Option<f64>) {
    let secs = env_or("ICSFWD_BENCH_IDLE_SECS", 10);
    if secs == 0 {
        return (0.0, None);
    }
    // The housekeeper checkpoints every 5 s.
    thread::sleep(Duration::from_secs(6));
    let pid = rig.service.pid();
    let (io_before, device_before) = (
        support::proc_io(pid),
        device.map(support::device_bytes_written),
    );
    thread::sleep(Duration::from_secs(secs));
    let written = support::proc_io(pid).write_bytes - io_before.write_bytes;
    let device_written = device
        .zip(device_before)
        .map(|(dev, before)| (support::device_bytes_written(dev) - before) as f64 / secs as f64);
    (written as f64 / secs as f64, device_written)
}

fn print_steady(settings: &Settings, runs: &[Steady]) {
    println!();
    println!(
        "steady runs: spool on {}; load average {}",
        support::file_system(&settings.dir),
        support::load_average()
    );
    println!(
        "| steady run (one connection) | alerts | record B | write_bytes B/alert (× record) | device B/alert (× record) | alerts/fsync | CPU µs/alert | accepted p50 / p99 / max ms | idle after: write_bytes / device B/s |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for s in runs {
        let device = s.device_bytes.map_or_else(
            || "—".to_owned(),
            |d| format!("{d:.0} ({:.1}×)", d / s.record_bytes),
        );
        let idle_device = s
            .idle
            .1
            .map_or_else(|| "—".to_owned(), |d| format!("{d:.0}"));
        println!(
            "| {}, {} alerts/s | {} | {:.0} | {:.0} ({:.1}×) | {device} | {:.1} | {:.1} | {} / {} / {} | {:.0} / {idle_device} |",
            s.kind.label(),
            s.rate,
            s.alerts,
            s.record_bytes,
            s.write_bytes,
            s.write_bytes / s.record_bytes,
            s.alerts_per_fsync,
            s.cpu_us,
            ms(percentile(&s.accepted, 50.0)),
            ms(percentile(&s.accepted, 99.0)),
            ms(s.accepted.last().copied().unwrap_or_default()),
            s.idle.0,
        );
    }
}

/// The destination is down while one connection produces at `ICSFWD_BENCH_BACKLOG_RATE`
/// alerts/s for `ICSFWD_BENCH_BACKLOG_SECS`; then it comes up: alerts/s from then until the
/// emulator holds every alert.
fn drain(settings: &Settings, kind: Kind) {
    let secs = env_or("ICSFWD_BENCH_BACKLOG_SECS", 300);
    let rate = env_or("ICSFWD_BENCH_BACKLOG_RATE", 1_000);
    let count = secs * rate;
    let target = usize::try_from(count).unwrap();
    // The store keeps a bounded tail; the count includes what it dropped.
    let rig = Rig::start(settings, Setup::new(kind), "drain", 20_000);
    let fault = match kind {
        Kind::Splunkd => "splunkd:down",
        Kind::SyslogTcp | Kind::SyslogTls => {
            panic!(
                "the emulator has no fault that takes its syslog receiver down: drain HEC or splunkd"
            )
        }
        Kind::Hec | Kind::HecAck | Kind::HecTls => "hec:down",
    };
    let id = rig.emulator.faults().add(fault.parse().unwrap()).unwrap();
    let pace = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let cpu_before = rig.service.cpu_ticks();
    let produced = produce(&rig.socket, lines(count, Size::Typical), 4096, Some(pace));
    assert_eq!(produced.refused, 0, "the spool took the whole backlog");
    let before_up = stored(&rig.emulator);
    let cpu_produce = (rig.service.cpu_ticks() - cpu_before) as f64 / settings.clk_tck;
    let up = Instant::now();
    assert!(rig.emulator.faults().remove(id));
    let cpu_up = rig.service.cpu_ticks();
    wait_stored(
        &rig.emulator,
        target,
        up + settings.timeout.max(Duration::from_secs(secs)),
        "drain",
    );
    let drained = up.elapsed();
    let cpu_drain = (rig.service.cpu_ticks() - cpu_up) as f64 / settings.clk_tck;
    let rss = rig.service.peak_rss_kib();
    rig.finish();
    let rate_out = (target - before_up) as f64 / drained.as_secs_f64();
    eprintln!(
        "drain ({}): {count} alerts backlogged over {secs} s, drained in {:.1} s: {rate_out:.0} alerts/s",
        kind.label(),
        drained.as_secs_f64()
    );
    summary(serde_json::json!({
        "figure": "drain",
        "kind": kind.name(),
        "backlog_secs": secs,
        "backlog_rate": rate,
        "alerts": count,
        "delivered_before_up": before_up,
        "drain_secs": round2(drained.as_secs_f64()),
        "drain_alerts_per_s": rate_out.round(),
        "cpu_s_per_100k_backlogging": round2(cpu_produce * 100_000.0 / count as f64),
        "cpu_s_per_100k_draining": round2(cpu_drain * 100_000.0 / count as f64),
        "peak_rss_mib": mib(rss),
    }));
}

/// The emulator alone: batches of 500 events over one kept-alive plain HTTP connection,
/// events/s stored.
fn emulator_rate(count: u64) -> f64 {
    let emulator = emulator(None, usize::try_from(count).unwrap());
    let lines = lines(count, Size::Typical);
    let bodies: Vec<String> = lines
        .chunks(500)
        .map(|chunk| {
            chunk
                .iter()
                .map(|l| {
                    format!(
                        r#"{{"sourcetype":"icsfwd:alert","event":{}}}"#,
                        l.trim_end()
                    )
                })
                .collect::<String>()
        })
        .collect();
    let mut conn = TcpStream::connect(emulator.hec_addr()).unwrap();
    conn.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let start = Instant::now();
    for body in &bodies {
        let head = format!(
            "POST /services/collector/event HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Splunk {HEC_TOKEN}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).unwrap();
        conn.write_all(body.as_bytes()).unwrap();
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line
                .to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
            {
                length = v.parse().unwrap();
            }
        }
        let mut reply = vec![0; length];
        reader.read_exact(&mut reply).unwrap();
        assert!(
            reply.starts_with(br#"{"text":"Success""#),
            "{}",
            String::from_utf8_lossy(&reply)
        );
    }
    let elapsed = start.elapsed();
    assert_eq!(stored(&emulator), usize::try_from(count).unwrap());
    emulator.shutdown();
    let rate = count as f64 / elapsed.as_secs_f64();
    summary(
        serde_json::json!({"figure": "emulator", "alerts": count, "events_per_s": rate.round()}),
    );
    rate
}

fn list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn numbers(name: &str, default: &str) -> Vec<u64> {
    list(name, default)
        .iter()
        .map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("{name}: {n:?} is not a whole number"))
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --benches` (no `--bench`) the run
    // is skipped: it takes minutes and needs the optimised binary.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("e2e bench: skipped (run it with `cargo bench -p icsfwd --bench e2e`)");
        return;
    }
    let settings = Settings::from_env();
    fs::create_dir_all(&settings.dir).unwrap();
    println!(
        "icsfwd end-to-end bench: binary {}, spool under {}, {} cores",
        settings.bin.display(),
        settings.dir.display(),
        thread::available_parallelism().map_or(0, usize::from)
    );
    let mut rows = Vec::new();
    for kind in [
        Kind::Hec,
        Kind::HecAck,
        Kind::HecTls,
        Kind::Splunkd,
        Kind::SyslogTcp,
        Kind::SyslogTls,
    ] {
        if settings.wants(kind.name()) {
            let count = if kind == Kind::Splunkd {
                settings.splunkd_alerts
            } else {
                settings.alerts
            };
            for metrics in list("ICSFWD_BENCH_METRICS", "off") {
                let metrics = match metrics.as_str() {
                    "on" => true,
                    "off" => false,
                    other => panic!("ICSFWD_BENCH_METRICS: {other:?} is not on or off"),
                };
                eprintln!(
                    "running {}: {count} alerts, metrics {}",
                    kind.label(),
                    if metrics { "on" } else { "off" }
                );
                let setup = Setup {
                    metrics,
                    ..Setup::new(kind)
                };
                rows.push(throughput(&settings, setup, count, "throughput"));
            }
        }
    }
    // Scaling: one figure each, the other dimensions at 1 destination, 1 rule, typical size.
    let scale_kind = Kind::parse(&list("ICSFWD_BENCH_SCALE_KIND", "hec")[0]);
    if settings.wants("scale-rules") {
        for rules in numbers("ICSFWD_BENCH_SCALE_RULES", "1,8,32") {
            let setup = Setup {
                rules: usize::try_from(rules).unwrap(),
                ..Setup::new(scale_kind)
            };
            eprintln!("running scale-rules: {rules} rules");
            rows.push(throughput(&settings, setup, settings.alerts, "scale-rules"));
        }
    }
    if settings.wants("scale-dests") {
        for destinations in numbers("ICSFWD_BENCH_SCALE_DESTS", "1,2,4,8") {
            let setup = Setup {
                destinations: usize::try_from(destinations).unwrap(),
                ..Setup::new(scale_kind)
            };
            eprintln!("running scale-dests: {destinations} destinations");
            rows.push(throughput(
                &settings,
                setup,
                settings.scale_dests_alerts,
                "scale-dests",
            ));
        }
    }
    if settings.wants("scale-size") {
        for size in [Size::Small, Size::Typical, Size::Max] {
            let setup = Setup {
                size,
                ..Setup::new(scale_kind)
            };
            eprintln!("running scale-size: {} alerts", size.name());
            rows.push(throughput(&settings, setup, settings.alerts, "scale-size"));
        }
    }
    let mut latencies = Vec::new();
    if settings.wants("latency") {
        for kind in list("ICSFWD_BENCH_LATENCY_KINDS", "hec") {
            for rate in numbers("ICSFWD_BENCH_RATES", "100,1000,10000") {
                let kind = Kind::parse(&kind);
                eprintln!(
                    "running the paced latency run: {}, {rate} alerts/s for {} s",
                    kind.label(),
                    settings.latency_secs
                );
                latencies.push(latency(&settings, kind, rate));
            }
        }
    }
    let mut steady_runs = Vec::new();
    if settings.wants("steady") {
        let kind = Kind::parse(&list("ICSFWD_BENCH_STEADY_KIND", "syslog-tcp")[0]);
        for rate in numbers("ICSFWD_BENCH_STEADY_RATES", "100,1000") {
            eprintln!("running the steady run: {}, {rate} alerts/s", kind.label());
            steady_runs.push(steady(&settings, kind, rate));
        }
    }
    if settings.wants("drain") {
        let kind = Kind::parse(&list("ICSFWD_BENCH_DRAIN_KIND", "hec")[0]);
        eprintln!("running the drain run ({})", kind.label());
        drain(&settings, kind);
    }
    let emulator = settings.wants("emulator").then(|| {
        eprintln!("running the emulator alone");
        emulator_rate(settings.alerts.max(10_000))
    });

    if !rows.is_empty() {
        println!();
        println!(
            "| run | alerts | ingest alerts/s (accepted) | end-to-end alerts/s (stored) | peak RSS MiB | CPU s / 100k alerts |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    }
    for row in &rows {
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.1} | {:.2} |",
            row.what,
            row.alerts,
            row.ingest_rate,
            row.e2e_rate,
            row.rss_kib as f64 / 1024.0,
            row.cpu_per_100k
        );
    }
    if !latencies.is_empty() {
        println!();
        println!(
            "| paced run (one connection) | alerts | accepted p50 / p99 / max ms | delivered p50 / p99 / max ms | peak RSS MiB | CPU s / 100k |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        for l in &latencies {
            println!(
                "| {}, {} alerts/s | {} | {} / {} / {} | {} / {} / {} | {:.1} | {:.2} |",
                l.kind.label(),
                l.rate,
                l.alerts,
                ms(percentile(&l.ack, 50.0)),
                ms(percentile(&l.ack, 99.0)),
                ms(l.ack.last().copied().unwrap_or_default()),
                ms(percentile(&l.delivered, 50.0)),
                ms(percentile(&l.delivered, 99.0)),
                ms(l.delivered.last().copied().unwrap_or_default()),
                l.rss_kib as f64 / 1024.0,
                l.cpu_per_100k
            );
        }
    }
    if !steady_runs.is_empty() {
        print_steady(&settings, &steady_runs);
    }
    if let Some(rate) = emulator {
        println!();
        println!("emulator alone (HEC, http, one connection, batches of 500): {rate:.0} events/s");
    }
}
