//! End-to-end benchmark of the release `icsfwd` binary (issue 4): alerts/s from the ingest
//! socket to the Splunk emulator's store for HEC (acks off, acks on, over HTTPS) and splunkd
//! REST, ingest-to-ack and ingest-to-delivered latency at a paced 1,000 alerts/s, peak RSS and
//! CPU seconds per 100,000 alerts of the `icsfwd` process, and the emulator's own HEC ingest
//! rate (to show it is not the bottleneck).
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
//! | `ICSFWD_BENCH_LATENCY_SECS` | 10 | length of the paced 1,000 alerts/s run |
//! | `ICSFWD_BENCH_RUNS` | `hec,hec-ack,hec-tls,splunkd,latency,emulator` | which runs |
//! | `ICSFWD_BENCH_TIMEOUT_SECS` | 120 | give up a run after this long |
//! | `ICSFWD_BENCH_SLOW_MS` | unset | list where the latency run's answers took this long or more |
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
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator, Transport};
use icsfwd_sim::splunk::hec::Token;
use icsfwd_sim::splunk::splunkd::User;
use icsfwd_sim::splunk::store::{Filter, StoreConfig};
use icsfwd_sim::splunk::tls::TlsMaterial;

const HEC_TOKEN: &str = "8a1f6c2e-6b0d-4c3e-9f5a-1d2e3f4a5b6c";
const ACK_TOKEN: &str = "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b";
const USER: &str = "icsfwd";
const PASSWORD: &str = "bench-password";

fn env_or(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a whole number")),
        Err(_) => default,
    }
}

struct Settings {
    alerts: u64,
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
        let dir = std::env::var_os("ICSFWD_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                // target/release/deps/e2e-HASH → target/icsfwd-bench
                let exe = std::env::current_exe().unwrap();
                exe.ancestors()
                    .nth(3)
                    .map(|target| target.join("icsfwd-bench"))
                    .unwrap_or_else(|| PathBuf::from("icsfwd-bench"))
            });
        let runs = std::env::var("ICSFWD_BENCH_RUNS")
            .unwrap_or_else(|_| "hec,hec-ack,hec-tls,splunkd,latency,emulator".to_owned())
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect();
        let clk_tck = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0);
        Settings {
            alerts: env_or("ICSFWD_BENCH_ALERTS", 40_000),
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

/// The emulator: plain HTTP or TLS, a token without and one with acks, a splunkd user, a
/// store big enough for the run.
fn emulator(tls: Option<&TlsMaterial>, events: usize) -> RunningEmulator {
    let mut config = EmulatorConfig {
        store: StoreConfig {
            max_events: events + 10_000,
            jsonl: None,
        },
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

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Hec,
    HecAck,
    HecTls,
    Splunkd,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Hec => "HEC, acks off (http)",
            Kind::HecAck => "HEC, acks on (http)",
            Kind::HecTls => "HEC, acks off (https)",
            Kind::Splunkd => "splunkd REST (http)",
        }
    }
}

fn write_config(dir: &Path, kind: Kind, emulator: &RunningEmulator, ca: Option<&Path>) -> PathBuf {
    let hec = emulator.hec_addr().port();
    let destination = match kind {
        Kind::Hec | Kind::HecAck | Kind::HecTls => {
            let scheme = if kind == Kind::HecTls {
                "https"
            } else {
                "http"
            };
            let host = if kind == Kind::HecTls {
                "localhost"
            } else {
                "127.0.0.1"
            };
            let (token, ack) = if kind == Kind::HecAck {
                (ACK_TOKEN, "true")
            } else {
                (HEC_TOKEN, "false")
            };
            let ca = ca
                .map(|p| format!("ca_file = \"{}\"\n", p.display()))
                .unwrap_or_default();
            format!(
                "name = \"soc\"\nkind = \"hec\"\nurls = [\"{scheme}://{host}:{hec}\"]\n\
                 token = \"{token}\"\nack = {ack}\n{ca}"
            )
        }
        Kind::Splunkd => format!(
            "name = \"soc\"\nkind = \"splunk\"\nhost = \"127.0.0.1\"\nport = {}\n\
             scheme = \"http\"\nusername = \"{USER}\"\npassword = \"{PASSWORD}\"\n",
            emulator.splunkd_addr().port()
        ),
    };
    let text = format!(
        "[sensor]\nname = \"bench-sensor\"\nip = \"10.20.0.5\"\n\n\
         [[destination]]\n{destination}retry_min = \"100ms\"\nretry_max = \"1s\"\n\n\
         [[rule]]\nname = \"all\"\nactions = [\"soc\"]\n\n\
         [spool]\ndir = \"{spool}\"\n\n[ingest]\nsocket = \"{socket}\"\n\n[log]\nlevel = \"warn\"\n",
        spool = dir.join("spool").display(),
        socket = dir.join("ingest.sock").display(),
    );
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
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
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// utime + stime in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after the command name (which ends with the last ')'): state is field 3,
        // utime 14 and stime 15, i.e. indexes 11 and 12 after the ')'.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
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

/// `count` ingest lines of the steady scenario, ids unique per sensor.
fn lines(count: u64) -> Vec<String> {
    let params = Params {
        rate: 1_000.0,
        count,
        seed: 4,
        ..Params::default()
    };
    Scenario::Steady
        .events(&params)
        .unwrap()
        .map(|(_, event)| {
            let mut line = encode_line(&event);
            line.push('\n');
            line
        })
        .collect()
}

/// What one producer connection saw: per line, written → answer read.
struct Produced {
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
        let mut refused = 0;
        for _ in 0..count {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                panic!("the service closed the connection with lines unanswered");
            }
            let sent = rx.recv().unwrap();
            latencies.push(sent.elapsed());
            if !line.starts_with(r#"{"status":"accepted""#) {
                refused += 1;
                if refused <= 3 {
                    eprintln!("not accepted: {}", line.trim_end());
                }
            }
        }
        Produced { latencies, refused }
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
                let len = store.len();
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

struct Row {
    what: String,
    alerts: u64,
    ingest_rate: f64,
    e2e_rate: f64,
    rss_kib: u64,
    cpu_per_100k: f64,
}

fn throughput(settings: &Settings, kind: Kind, count: u64, producers: usize) -> Row {
    let tls = (kind == Kind::HecTls).then(|| TlsMaterial::generate::<&str>(&[]).unwrap());
    let emulator = emulator(tls.as_ref(), usize::try_from(count).unwrap());
    let dir = settings.dir.join(format!("{kind:?}").to_lowercase());
    drop(fs::remove_dir_all(&dir));
    fs::create_dir_all(&dir).unwrap();
    let ca = tls.as_ref().map(|m| {
        let path = dir.join("ca.pem");
        m.write_ca(&path).unwrap();
        path
    });
    let config = write_config(&dir, kind, &emulator, ca.as_deref());
    let socket = dir.join("ingest.sock");
    let service = Service::start(&settings.bin, &config, &socket);
    let all = lines(count);
    let mut parts: Vec<Vec<String>> = vec![Vec::new(); producers];
    for (i, line) in all.into_iter().enumerate() {
        parts[i % producers].push(line);
    }
    let cpu_before = service.cpu_ticks();
    let target = usize::try_from(count).unwrap();
    let watcher = Watcher::start(&emulator, target, Duration::from_millis(1));
    let start = Instant::now();
    let handles: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let socket = socket.clone();
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
    let deadline = start + settings.timeout;
    while emulator.store().len() < target {
        assert!(
            Instant::now() < deadline,
            "{}: only {} of {count} alerts reached the emulator in {:?}",
            kind.label(),
            emulator.store().len(),
            settings.timeout
        );
        thread::sleep(Duration::from_millis(5));
    }
    let seen = watcher.finish();
    let done = seen
        .iter()
        .find(|(n, _)| *n >= target)
        .map_or_else(Instant::now, |(_, t)| *t);
    let e2e = done - start;
    let cpu = (service.cpu_ticks() - cpu_before) as f64 / settings.clk_tck;
    let rss = service.peak_rss_kib();
    service.stop();
    let stored = emulator.store().len();
    assert_eq!(stored, target, "each alert stored once");
    emulator.shutdown();
    drop(fs::remove_dir_all(&dir));
    Row {
        what: format!("{} ×{producers} conn", kind.label()),
        alerts: count,
        ingest_rate: count as f64 / ingested.as_secs_f64(),
        e2e_rate: count as f64 / e2e.as_secs_f64(),
        rss_kib: rss,
        cpu_per_100k: cpu * 100_000.0 / count as f64,
    }
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

struct Latency {
    alerts: u64,
    ack: Vec<Duration>,
    delivered: Vec<Duration>,
    rss_kib: u64,
    cpu_per_100k: f64,
}

/// One connection paced at 1,000 lines/s to HEC (acks off): written → accepted, and written →
/// stored in the emulator (the store's n-th record is the n-th line: one connection, one
/// worker, spool order — checked on the ids).
fn latency(settings: &Settings) -> Latency {
    let count = settings.latency_secs * 1_000;
    let target = usize::try_from(count).unwrap();
    let emulator = emulator(None, target);
    let dir = settings.dir.join("latency");
    drop(fs::remove_dir_all(&dir));
    fs::create_dir_all(&dir).unwrap();
    let config = write_config(&dir, Kind::Hec, &emulator, None);
    let socket = dir.join("ingest.sock");
    let service = Service::start(&settings.bin, &config, &socket);
    let all = lines(count);
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
    let cpu_before = service.cpu_ticks();
    let watcher = Watcher::start(&emulator, target, Duration::from_micros(200));
    let start = Instant::now();
    let pace = Duration::from_millis(1);
    let produced = produce(&socket, all, 1024, Some(pace));
    assert_eq!(produced.refused, 0);
    let deadline = Instant::now() + settings.timeout;
    while emulator.store().len() < target {
        assert!(Instant::now() < deadline, "latency run: alerts missing");
        thread::sleep(Duration::from_millis(5));
    }
    let seen = watcher.finish();
    let cpu = (service.cpu_ticks() - cpu_before) as f64 / settings.clk_tck;
    let rss = service.peak_rss_kib();
    service.stop();
    let stored: Vec<String> = emulator
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
    // Line i was written at about start + i ms (paced); delivered when the store first held
    // more than i records.
    let mut delivered = Vec::with_capacity(target);
    let mut next = 0;
    for (n, at) in seen {
        while next < n.min(target) {
            let sent = start + pace * u32::try_from(next).unwrap();
            delivered.push(at.saturating_duration_since(sent));
            next += 1;
        }
    }
    emulator.shutdown();
    drop(fs::remove_dir_all(&dir));
    if let Ok(slow) = std::env::var("ICSFWD_BENCH_SLOW_MS") {
        // Where the slow answers are in the run (line i was written at i ms): stalls of the
        // service show up as runs of consecutive slow lines.
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
                "slow answers: lines written at {first}..={last} ms, worst {} ms",
                ms(worst)
            );
        }
    }
    let mut ack = produced.latencies;
    ack.sort();
    delivered.sort();
    Latency {
        alerts: count,
        ack,
        delivered,
        rss_kib: rss,
        cpu_per_100k: cpu * 100_000.0 / count as f64,
    }
}

/// The emulator alone: batches of 500 events over one kept-alive plain HTTP connection,
/// events/s stored.
fn emulator_rate(count: u64) -> f64 {
    let emulator = emulator(None, usize::try_from(count).unwrap());
    let lines = lines(count);
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
    assert_eq!(emulator.store().len(), usize::try_from(count).unwrap());
    emulator.shutdown();
    count as f64 / elapsed.as_secs_f64()
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
    let runs = [
        ("hec", Kind::Hec, settings.alerts),
        ("hec-ack", Kind::HecAck, settings.alerts),
        ("hec-tls", Kind::HecTls, settings.alerts),
        ("splunkd", Kind::Splunkd, settings.splunkd_alerts),
    ];
    for (name, kind, count) in runs {
        if settings.wants(name) {
            eprintln!("running {}: {count} alerts", kind.label());
            let row = throughput(&settings, kind, count, settings.producers);
            rows.push(row);
        }
    }
    let latency = settings.wants("latency").then(|| {
        eprintln!("running the paced latency run: {} s", settings.latency_secs);
        latency(&settings)
    });
    let emulator = settings.wants("emulator").then(|| {
        eprintln!("running the emulator alone");
        emulator_rate(settings.alerts.max(10_000))
    });

    println!();
    println!(
        "| run | alerts | ingest alerts/s (accepted) | end-to-end alerts/s (stored) | peak RSS MiB | CPU s / 100k alerts |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
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
    if let Some(l) = &latency {
        println!();
        println!(
            "paced 1,000 alerts/s, HEC acks off (http), one connection, {} alerts:",
            l.alerts
        );
        println!("| latency | p50 ms | p99 ms | max ms |");
        println!("| --- | ---: | ---: | ---: |");
        println!(
            "| ingest → accepted | {} | {} | {} |",
            ms(percentile(&l.ack, 50.0)),
            ms(percentile(&l.ack, 99.0)),
            ms(l.ack.last().copied().unwrap_or_default())
        );
        println!(
            "| ingest → stored in the emulator | {} | {} | {} |",
            ms(percentile(&l.delivered, 50.0)),
            ms(percentile(&l.delivered, 99.0)),
            ms(l.delivered.last().copied().unwrap_or_default())
        );
        println!(
            "peak RSS {:.1} MiB, CPU {:.2} s per 100k alerts",
            l.rss_kib as f64 / 1024.0,
            l.cpu_per_100k
        );
    }
    if let Some(rate) = emulator {
        println!();
        println!("emulator alone (HEC, http, one connection, batches of 500): {rate:.0} events/s");
    }
}
