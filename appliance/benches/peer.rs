//! icsfwd and a peer side by side in one run: syslog-ng from Debian configured as Splunk Connect
//! for Syslog runs it (`bench/peer/syslog-ng.conf`), both fed the same generated alerts and both
//! posting HEC batches over HTTPS to the same Splunk emulator.
//!
//! What each peer gets:
//!
//! - **icsfwd**: the release binary (`CARGO_BIN_EXE_icsfwd`, or `ICSFWD_BIN`), one `hec`
//!   destination (acks off, `https://localhost` with the emulator's CA), its spool on the real
//!   disk, so every alert is fsynced before it is answered. Alerts arrive as ingest JSON lines
//!   over the Unix socket, sent by the simulator's own sender ([`icsfwd_sim::feed::send`]).
//! - **syslog-ng** (`syslog-ng-core` and `syslog-ng-mod-http`, 3.38 on Debian 12): started in the
//!   foreground by this bench (`-F --no-caps` with its own persist, pid and control files,
//!   never as a system service), as the user running the bench. An RFC 5424 TCP source with
//!   RFC 6587 octet counting; an `http()` destination posting HEC JSON to
//!   `/services/collector/event` with `Authorization: Splunk <token>`, SC4S's body
//!   (`$(format-json time= host= source= sourcetype= event="$MSG")`) and a RELIABLE disk buffer
//!   (`disk-buffer(reliable(yes))`) on the same disk as icsfwd's spool; `flags(flow-control)`
//!   so that nothing is dropped. The same alerts arrive as the frames icsfwd's own syslog output
//!   would send them ([`icsfwd_core::format::syslog::write_framed`], CEF payload), so the event
//!   each peer posts is what a SOC gets from it: icsfwd's HEC JSON object, syslog-ng's CEF line.
//!   SC4S's defaults are kept (10 workers, each with its own disk buffer of the total divided
//!   by the workers; source window and fetch limit) except batching, which is set to icsfwd's
//!   HEC defaults (500 events, 1 MB, 50 ms) so that both batch alike, and `Connection: close`,
//!   which SC4S sends by default and is left out here (syslog-ng keeps its connection, as
//!   icsfwd does; a TLS handshake per batch would only slow the peer down).
//!
//! Both peers send to one emulator started once for the run (its store is cleared between
//! phases). Fairness: HEC acks off on both; icsfwd's fsync-before-answer contract against
//! syslog-ng's reliable disk buffer (which writes every message to its queue file before it
//! is acknowledged to the source, but does not fsync it: a power cut can lose what the page
//! cache held; icsfwd's contract is the stronger one).
//!
//! Phases, each run for icsfwd then for syslog-ng, each in a fresh process of the peer:
//!
//! 1. **throughput**: `ICSFWD_PEER_ALERTS` alerts as fast as the peer takes them over
//!    `ICSFWD_PEER_PRODUCERS` connections; alerts/s = alerts ÷ (first byte sent → the
//!    emulator's store holds them all). The store must then hold exactly the alerts sent, each
//!    once (checked on the event ids: icsfwd's `event.id`, the CEF `externalId`). CPU seconds
//!    per 100,000 alerts = the peer's `utime + stime` (`/proc/<pid>/stat`, all threads) over the
//!    phase, and peak RSS = its `VmHWM`.
//! 2. **steady rates**: for each rate of `ICSFWD_PEER_RATES` (100 and 1,000 alerts/s),
//!    `ICSFWD_PEER_LATENCY_SECS` at that rate over one connection, each alert sent at its
//!    scenario offset; latency = its arrival in the emulator's store (polled every 200 µs) − its
//!    planned send time. p50, p99, max; CPU per 100,000 alerts and peak RSS at that rate.
//!
//! In every phase, bytes written per alert = the growth of the peer's `write_bytes` in
//! `/proc/<pid>/io` over the phase ÷ its alerts: what the process caused to be written to
//! storage. The page cache counts a whole 4 KiB page (or large folio) each time a clean one is
//! dirtied, so it is neither the record's bytes nor the device's: a peer that fsyncs every
//! write (icsfwd) cleans its last page each time and is charged it again on the next append; a
//! peer that never fsyncs (syslog-ng: one `pwrite64` per message, no `fsync`, `fdatasync` or
//! `msync` under strace) keeps its pages dirty until the kernel writes them back
//! (every few seconds) and is charged once per page and writeback. The journal's writes are in
//! neither. Sockets, icsfwd's status file and syslog-ng's pid and control files live in
//! `ICSFWD_PEER_RUNTIME_DIR` (a tmpfs, like `/run` in production); spool, disk buffers and
//! syslog-ng's persist file on the real disk.
//!
//! Output: a markdown table with the ratios (icsfwd ÷ syslog-ng), and one machine-readable line
//! `PEER-SUMMARY {json}`, also written to `<dir>/peer-summary.json`.
//!
//! Environment (defaults take about four and a half minutes on 2 cores):
//!
//! | variable | default | what |
//! | --- | --- | --- |
//! | `ICSFWD_PEER_ALERTS` | 100000 | alerts per throughput phase |
//! | `ICSFWD_PEER_PRODUCERS` | 4 | producer connections of the throughput phase |
//! | `ICSFWD_PEER_WINDOW` | 256 | icsfwd ingest lines in flight per connection |
//! | `ICSFWD_PEER_RATES` | 100,1000 | alerts/s of the steady-rate phases |
//! | `ICSFWD_PEER_LATENCY_SECS` | 60 | length of each steady-rate phase (longer than the kernel's 30 s dirty expiry, so that syslog-ng's unsynced pages are written back and charged again within it) |
//! | `ICSFWD_PEER_RUNTIME_DIR` | /dev/shm | sockets, status, pid and control files (a tmpfs) |
//! | `ICSFWD_PEER_WORKERS` | 10 | syslog-ng http() workers (SC4S's default) |
//! | `ICSFWD_PEER_TIMEOUT_SECS` | 180 | give up a phase after this long |
//! | `ICSFWD_PEER_DIR` | `target/peer-bench` | spool, disk buffers, configs (real disk, not tmpfs) |
//! | `ICSFWD_PEER_SYSLOG_NG` | `syslog-ng` on `PATH`, else `/usr/sbin/syslog-ng` | the peer |
//! | `ICSFWD_PEER_CONF` | `bench/peer/syslog-ng.conf` | the peer's config template |
//!
//! Run it with `scripts/peer-compare.sh` (fetches syslog-ng if missing) or
//! `cargo bench -p icsfwd --bench peer`. Not part of CI: it takes minutes and its figures move
//! with the machine's load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark: a failed step aborts the run with its cause"
)]

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufWriter, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::format::{SliceWriter, syslog};
use icsfwd_core::record::{self, Record};
use icsfwd_sim::feed::{self, Options, Outcome, Target};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator, Transport};
use icsfwd_sim::splunk::hec::Token;
use icsfwd_sim::splunk::store::{Body, Filter, StoreConfig, Stored};
use icsfwd_sim::splunk::tls::TlsMaterial;
use serde_json::json;

const HEC_TOKEN: &str = "5f0c2a9e-3d4b-4c6a-8e1f-7a2b3c4d5e6f";
/// icsfwd's HEC batching defaults, given to both peers.
const BATCH_EVENTS: u64 = 500;
const BATCH_BYTES: u64 = 1_000_000;
const BATCH_LINGER_MS: u64 = 50;
/// SC4S's reliable-buffer memory size and the disk buffer total, both divided by the workers.
const SC4S_MEM_BUF_SIZE: u64 = 10_241_024;
const DISK_BUF_TOTAL: u64 = 1 << 30;

mod support;

use support::env_u64 as env_or;

struct Settings {
    alerts: u64,
    producers: usize,
    window: usize,
    rates: Vec<u64>,
    latency_secs: u64,
    runtime: PathBuf,
    workers: u64,
    timeout: Duration,
    dir: PathBuf,
    icsfwd: PathBuf,
    syslog_ng: PathBuf,
    template: PathBuf,
    clk_tck: f64,
}

impl Settings {
    fn from_env() -> Settings {
        let icsfwd = std::env::var_os("ICSFWD_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_icsfwd")));
        if !icsfwd.is_file() {
            eprintln!(
                "icsfwd binary not found at {}: run `cargo bench -p icsfwd --bench peer`",
                icsfwd.display()
            );
            std::process::exit(2);
        }
        let syslog_ng = std::env::var_os("ICSFWD_PEER_SYSLOG_NG")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("PATH").and_then(|path| {
                    std::env::split_paths(&path)
                        .map(|dir| dir.join("syslog-ng"))
                        .find(|p| p.is_file())
                })
            })
            .unwrap_or_else(|| PathBuf::from("/usr/sbin/syslog-ng"));
        if !syslog_ng.is_file() {
            eprintln!(
                "syslog-ng not found at {}: run scripts/peer-compare.sh (it fetches Debian's \
                 syslog-ng-core and syslog-ng-mod-http), or set ICSFWD_PEER_SYSLOG_NG",
                syslog_ng.display()
            );
            std::process::exit(2);
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let template = std::env::var_os("ICSFWD_PEER_CONF")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("bench/peer/syslog-ng.conf"));
        let dir = support::scratch_dir("ICSFWD_PEER_DIR", "peer-bench");
        let clk_tck = support::clock_ticks_per_second();
        Settings {
            alerts: env_or("ICSFWD_PEER_ALERTS", 100_000).max(1),
            producers: usize::try_from(env_or("ICSFWD_PEER_PRODUCERS", 4))
                .unwrap()
                .max(1),
            window: usize::try_from(env_or("ICSFWD_PEER_WINDOW", 256))
                .unwrap()
                .clamp(1, feed::MAX_WINDOW),
            rates: env_rates("ICSFWD_PEER_RATES", &[100, 1_000]),
            latency_secs: env_or("ICSFWD_PEER_LATENCY_SECS", 60).max(1),
            runtime: runtime_dir(),
            workers: env_or("ICSFWD_PEER_WORKERS", 10).max(1),
            timeout: Duration::from_secs(env_or("ICSFWD_PEER_TIMEOUT_SECS", 180)),
            dir,
            icsfwd,
            syslog_ng,
            template,
            clk_tck,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Peer {
    Icsfwd,
    SyslogNg,
}

impl Peer {
    const BOTH: [Peer; 2] = [Peer::Icsfwd, Peer::SyslogNg];

    fn name(self) -> &'static str {
        match self {
            Peer::Icsfwd => "icsfwd",
            Peer::SyslogNg => "syslog-ng",
        }
    }
}

/// A peer's process (killed on drop), its stderr in a file of its run directory.
struct Process {
    child: Child,
    stderr: PathBuf,
}

impl Process {
    fn spawn(command: &mut Command, dir: &Path) -> Process {
        let stderr = dir.join("stderr.log");
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Process { child, stderr }
    }

    /// Waits until `ready` holds, or fails with the process's stderr.
    fn wait_ready(&mut self, what: &str, ready: impl Fn() -> bool) {
        let start = Instant::now();
        while !ready() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{what} exited with {status} before it was ready:\n{}",
                    fs::read_to_string(&self.stderr).unwrap_or_default()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what} was not ready in 30 s:\n{}",
                fs::read_to_string(&self.stderr).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Peak RSS (`VmHWM`) in KiB.
    fn peak_rss_kib(&self) -> u64 {
        support::peak_rss_kib(self.child.id())
    }

    /// `utime + stime` of all its threads, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        support::cpu_ticks(self.child.id())
    }

    /// `write_bytes` of its `/proc/<pid>/io`.
    fn write_bytes(&self) -> u64 {
        support::proc_io(self.child.id()).write_bytes
    }

    /// SIGTERM, then waits for the exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        drop(Command::new("kill").args(["-TERM", &pid]).status());
        drop(self.child.wait());
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// The run's emulator: HEC over TLS with a certificate for `localhost`, one token, acks off.
struct Bench {
    settings: Settings,
    emulator: RunningEmulator,
    ca: PathBuf,
}

/// A peer started for one phase, with what is needed to feed it.
struct Running {
    process: Process,
    feed: FeedTo,
}

enum FeedTo {
    Socket(PathBuf),
    Tcp(SocketAddr),
}

impl Bench {
    fn start(settings: Settings) -> Bench {
        drop(fs::remove_dir_all(&settings.dir));
        fs::create_dir_all(&settings.dir).unwrap();
        let tls = TlsMaterial::generate::<&str>(&[]).unwrap();
        let ca = settings.dir.join("emulator-ca.pem");
        tls.write_ca(&ca).unwrap();
        let mut config = EmulatorConfig {
            store: StoreConfig {
                max_events: usize::try_from(settings.alerts).unwrap() + 100_000,
                jsonl: None,
            },
            transport: Transport::Tls(tls.acceptor().unwrap()),
            ..EmulatorConfig::default()
        };
        config.hec.tokens.push(Token::new("peer-bench", HEC_TOKEN));
        let emulator = Emulator::start(config).unwrap();
        Bench {
            settings,
            emulator,
            ca,
        }
    }

    fn hec_url(&self) -> String {
        format!("https://localhost:{}", self.emulator.hec_addr().port())
    }

    /// Starts `peer` in a fresh directory for `phase` (and one in the runtime directory).
    fn start_peer(&self, peer: Peer, phase: &str) -> Running {
        let name = format!("{}-{phase}", peer.name());
        let (dir, run) = (
            self.settings.dir.join(&name),
            self.settings.runtime.join(&name),
        );
        for d in [&dir, &run] {
            drop(fs::remove_dir_all(d));
            fs::create_dir_all(d).unwrap();
        }
        match peer {
            Peer::Icsfwd => self.start_icsfwd(&dir, &run),
            Peer::SyslogNg => self.start_syslog_ng(&dir, &run),
        }
    }

    fn start_icsfwd(&self, dir: &Path, run: &Path) -> Running {
        // The status file, rewritten every second, is written beside the socket.
        let socket = run.join("ingest.sock");
        let text = format!(
            "[sensor]\nname = \"peer-bench\"\nip = \"10.20.0.5\"\n\n\
             [[destination]]\nname = \"soc\"\nkind = \"hec\"\nurls = [\"{url}\"]\n\
             token = \"{HEC_TOKEN}\"\nack = false\nca_file = \"{ca}\"\n\
             batch_max_events = {BATCH_EVENTS}\nbatch_max_bytes = \"1 MB\"\n\
             batch_linger = \"{BATCH_LINGER_MS}ms\"\nretry_min = \"100ms\"\nretry_max = \"1s\"\n\n\
             [[rule]]\nname = \"all\"\nactions = [\"soc\"]\n\n\
             [spool]\ndir = \"{spool}\"\n\n[ingest]\nsocket = \"{socket}\"\n\n\
             [log]\nlevel = \"warn\"\n",
            url = self.hec_url(),
            ca = self.ca.display(),
            spool = dir.join("spool").display(),
            socket = socket.display(),
        );
        let config = dir.join("icsfwd.toml");
        fs::write(&config, text).unwrap();
        fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
        let mut process = Process::spawn(
            Command::new(&self.settings.icsfwd)
                .args(["run", "-c"])
                .arg(&config),
            dir,
        );
        process.wait_ready("icsfwd", || UnixStream::connect(&socket).is_ok());
        Running {
            process,
            feed: FeedTo::Socket(socket),
        }
    }

    fn start_syslog_ng(&self, dir: &Path, run: &Path) -> Running {
        let port = free_port();
        let qdisk = dir.join("qdisk");
        fs::create_dir_all(&qdisk).unwrap();
        let workers = self.settings.workers;
        let template = fs::read_to_string(&self.settings.template)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", self.settings.template.display()));
        let text = fill(
            &template,
            &[
                ("SOURCE_PORT", port.to_string()),
                ("HEC_URL", self.hec_url()),
                ("TOKEN", HEC_TOKEN.to_owned()),
                ("WORKERS", workers.to_string()),
                ("BATCH_LINES", BATCH_EVENTS.to_string()),
                ("BATCH_BYTES", BATCH_BYTES.to_string()),
                ("BATCH_TIMEOUT_MS", BATCH_LINGER_MS.to_string()),
                ("MEM_BUF_SIZE", (SC4S_MEM_BUF_SIZE / workers).to_string()),
                (
                    "DISK_BUF_SIZE",
                    (DISK_BUF_TOTAL / workers).max(1 << 20).to_string(),
                ),
                ("DISK_DIR", qdisk.display().to_string()),
                ("CA_FILE", self.ca.display().to_string()),
            ],
        );
        let config = dir.join("syslog-ng.conf");
        fs::write(&config, text).unwrap();
        let mut process = Process::spawn(
            Command::new(&self.settings.syslog_ng)
                .arg("-F")
                .arg("-f")
                .arg(&config)
                .arg("--no-caps")
                .arg("-e")
                .arg("-R")
                .arg(dir.join("syslog-ng.persist"))
                .arg("-p")
                .arg(run.join("syslog-ng.pid"))
                .arg("-c")
                .arg(run.join("syslog-ng.ctl")),
            dir,
        );
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        process.wait_ready("syslog-ng", || TcpStream::connect(addr).is_ok());
        Running {
            process,
            feed: FeedTo::Tcp(addr),
        }
    }
}

/// `template` with every placeholder (`@NAME@`) replaced; fails on one left over.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("@{name}@"), value);
    }
    let parts: Vec<&str> = text.split('@').collect();
    for name in parts.iter().skip(1).take(parts.len().saturating_sub(2)) {
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            panic!("the syslog-ng template has a placeholder the bench does not fill: @{name}@");
        }
    }
    text
}

/// An ephemeral loopback port, free when this returns (syslog-ng needs a number in its config).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The comma-separated alerts/s in `name` (each 1 – 100,000), else `default`.
fn env_rates(name: &str, default: &[u64]) -> Vec<u64> {
    match std::env::var(name) {
        Ok(text) => text
            .split(',')
            .map(|r| {
                r.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|r| (1..=100_000).contains(r))
                    .unwrap_or_else(|| panic!("{name}={text:?}: each rate is 1 to 100000 alerts/s"))
            })
            .collect(),
        Err(_) => default.to_vec(),
    }
}

/// `ICSFWD_PEER_RUNTIME_DIR` (default `/dev/shm`), with a directory of this run in it.
fn runtime_dir() -> PathBuf {
    let base = std::env::var_os("ICSFWD_PEER_RUNTIME_DIR")
        .map_or_else(|| "/dev/shm".into(), PathBuf::from);
    base.join(format!("icsfwd-peer-{}", std::process::id()))
}

/// Mean bytes per alert of `events`: icsfwd's spool record, and the syslog frame syslog-ng gets.
fn mean_sizes(events: &[(u64, Event)]) -> (f64, f64) {
    let mut buf = vec![0u8; record::MAX_FRAME];
    let (mut records, mut frames) = (0, 0);
    for (i, (_, event)) in events.iter().enumerate() {
        let rec = Record {
            seq: i as u64 + 1,
            destinations: DestinationSet::from_bits(1),
            event: event.clone(),
        };
        records += record::encode(&rec, &mut buf).unwrap();
        frames += frame(event).len();
    }
    let n = events.len().max(1) as f64;
    (records as f64 / n, frames as f64 / n)
}

/// The steady scenario's alerts at `rate`: the same seed, so both peers get the same alerts.
fn alerts(count: u64, rate: u64) -> Vec<(u64, Event)> {
    let params = Params {
        rate: rate as f64,
        count,
        seed: 7,
        ..Params::default()
    };
    Scenario::Steady.events(&params).unwrap().collect()
}

/// The stable event id `<sensor>-<id>` both peers carry (icsfwd's `event.id`, CEF `externalId`).
fn event_id(event: &Event) -> String {
    event.event_id().to_string()
}

/// The id of what the emulator stored from either peer.
fn stored_id(record: &Stored) -> Option<String> {
    match &record.body {
        Body::Json(value) => value["id"].as_str().map(str::to_owned),
        Body::Text(text) => {
            let start = text.find(" externalId=")? + " externalId=".len();
            let rest = &text[start..];
            Some(rest[..rest.find(' ').unwrap_or(rest.len())].to_owned())
        }
    }
}

/// `event` as the RFC 5424 frame (octet counting, CEF payload) icsfwd's syslog output sends.
fn frame(event: &Event) -> Vec<u8> {
    let mut buf = vec![0u8; syslog::MAX_FRAMED_LEN];
    let mut out = SliceWriter::new(&mut buf);
    let n = syslog::write_framed(event, &syslog::Options::default(), &mut out).unwrap();
    buf.truncate(n);
    buf
}

/// Sends `frames` over one TCP connection; with `pace`, frame `i` at `start + offset_i`.
/// Returns the connection, still open, so the peer reads to the end.
fn send_frames(
    addr: SocketAddr,
    frames: Vec<(Duration, Vec<u8>)>,
    start: Instant,
    pace: bool,
) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = BufWriter::with_capacity(64 * 1024, stream);
    for (offset, bytes) in frames {
        if pace {
            let due = start + offset;
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
        }
        writer.write_all(&bytes).unwrap();
        if pace {
            writer.flush().unwrap();
        }
    }
    writer.flush().unwrap();
    let stream = writer.into_inner().unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    stream
}

/// Feeds `parts` (one per connection) to `running`; returns what must stay open until the
/// alerts have arrived.
fn feed_peer(
    running: &Running,
    parts: Vec<Vec<(u64, Event)>>,
    start: Instant,
    pace: bool,
    window: usize,
) -> Vec<TcpStream> {
    let handles: Vec<_> = parts
        .into_iter()
        .map(|part| match &running.feed {
            FeedTo::Socket(socket) => {
                let target = Target::Unix(socket.clone());
                thread::spawn(move || {
                    let options = Options {
                        window,
                        pace,
                        answer_timeout: Duration::from_secs(60),
                        progress_every: Duration::from_secs(3600),
                    };
                    let count = part.len() as u64;
                    let tally = feed::send(part.into_iter(), &target, &options, &mut |_| {})
                        .unwrap_or_else(|e| panic!("feeding icsfwd: {e:#}"));
                    assert_eq!(tally.outcome(), Outcome::Clean, "{tally}");
                    assert_eq!(tally.accepted, count, "{tally}");
                    None
                })
            }
            FeedTo::Tcp(addr) => {
                let addr = *addr;
                thread::spawn(move || {
                    let first = part.first().map_or(0, |(offset, _)| *offset);
                    let frames = part
                        .iter()
                        .map(|(offset, event)| {
                            (Duration::from_millis(offset - first), frame(event))
                        })
                        .collect();
                    Some(send_frames(addr, frames, start, pace))
                })
            }
        })
        .collect();
    handles
        .into_iter()
        .filter_map(|h| h.join().unwrap())
        .collect()
}

/// Polls the store's size; (size, first instant seen) at each change.
struct Watcher {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<Vec<(usize, Instant)>>,
}

impl Watcher {
    fn start(emulator: &RunningEmulator, until: usize, poll: Duration) -> Watcher {
        let store = emulator.store().clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut seen = Vec::new();
            let mut last = 0;
            loop {
                let len = store.len();
                if len != last {
                    seen.push((len, Instant::now()));
                    last = len;
                }
                if len >= until || stopped.load(Ordering::Relaxed) {
                    return seen;
                }
                thread::sleep(poll);
            }
        });
        Watcher { stop, thread }
    }

    fn finish(self) -> Vec<(usize, Instant)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// What one phase measured of one peer.
#[derive(Debug, Clone, Default)]
struct Phase {
    alerts: u64,
    seconds: f64,
    cpu_seconds: f64,
    peak_rss_kib: u64,
    /// Growth of `write_bytes` (`/proc/<pid>/io`) over the phase.
    write_bytes: u64,
    latencies: Vec<Duration>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.alerts as f64 / self.seconds
    }

    fn cpu_per_100k(&self) -> f64 {
        self.cpu_seconds * 100_000.0 / self.alerts as f64
    }

    fn alerts_per_cpu_second(&self) -> f64 {
        self.alerts as f64 / self.cpu_seconds.max(1e-9)
    }

    fn write_bytes_per_alert(&self) -> f64 {
        self.write_bytes as f64 / self.alerts.max(1) as f64
    }

    fn rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        let sorted = &self.latencies;
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
    }
}

/// Runs one phase of one peer: sends `events` over `connections`, waits until the store holds
/// them all, checks each arrived exactly once, and measures.
fn phase(
    bench: &Bench,
    peer: Peer,
    name: &str,
    events: &[(u64, Event)],
    connections: usize,
    pace: bool,
) -> Phase {
    let settings = &bench.settings;
    bench.emulator.store().clear();
    let running = bench.start_peer(peer, name);
    let target = events.len();
    let expected: HashSet<String> = events.iter().map(|(_, e)| event_id(e)).collect();
    assert_eq!(expected.len(), target, "the scenario's ids are unique");
    let first = events.first().map_or(0, |(offset, _)| *offset);
    let mut parts: Vec<Vec<(u64, Event)>> = vec![Vec::new(); connections];
    for (i, event) in events.iter().enumerate() {
        parts[i % connections].push(event.clone());
    }
    let (cpu_before, written_before) = (running.process.cpu_ticks(), running.process.write_bytes());
    let poll = if pace {
        Duration::from_micros(200)
    } else {
        Duration::from_millis(1)
    };
    let watcher = Watcher::start(&bench.emulator, target, poll);
    let start = Instant::now();
    let open = feed_peer(&running, parts, start, pace, settings.window);
    let deadline = start + settings.timeout;
    while bench.emulator.store().len() < target {
        assert!(
            Instant::now() < deadline,
            "{} {name}: only {} of {target} alerts reached the emulator in {:?}; its stderr:\n{}",
            peer.name(),
            bench.emulator.store().len(),
            settings.timeout,
            fs::read_to_string(&running.process.stderr).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(2));
    }
    let seen = watcher.finish();
    let done = seen
        .iter()
        .find(|(n, _)| *n >= target)
        .map_or_else(Instant::now, |(_, t)| *t);
    let cpu_seconds = (running.process.cpu_ticks() - cpu_before) as f64 / settings.clk_tck;
    let write_bytes = running.process.write_bytes() - written_before;
    let peak_rss_kib = running.process.peak_rss_kib();
    // A late duplicate would show up in this settling time.
    thread::sleep(Duration::from_millis(300));
    drop(open);
    let records = bench.emulator.store().list(&Filter::default());
    assert_eq!(
        records.len(),
        target,
        "{} {name}: the emulator holds {} records for {target} alerts",
        peer.name(),
        records.len()
    );
    let ids: Vec<String> = records
        .iter()
        .map(|r| stored_id(r).unwrap_or_else(|| panic!("a record without an id: {r:?}")))
        .collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), target, "{} {name}: duplicates", peer.name());
    assert!(
        ids.iter().all(|id| expected.contains(id)),
        "{} {name}: an id that was not sent",
        peer.name()
    );
    running.process.stop();
    let latencies = if pace {
        // Record k arrived when the store first held more than k records; its alert was due at
        // start + (its offset - the first offset).
        let planned: HashMap<String, Duration> = events
            .iter()
            .map(|(offset, e)| (event_id(e), Duration::from_millis(offset - first)))
            .collect();
        let mut latencies = Vec::with_capacity(target);
        let mut at = seen.iter().peekable();
        for (k, id) in ids.iter().enumerate() {
            while at.peek().is_some_and(|(n, _)| *n <= k) {
                at.next();
            }
            let arrived = at.peek().map_or(done, |(_, t)| *t);
            latencies.push(arrived.saturating_duration_since(start + planned[id]));
        }
        latencies.sort();
        latencies
    } else {
        Vec::new()
    };
    Phase {
        alerts: target as u64,
        seconds: (done - start).as_secs_f64(),
        cpu_seconds,
        peak_rss_kib,
        write_bytes,
        latencies,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --benches` the run is skipped.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("peer bench: skipped (run it with scripts/peer-compare.sh)");
        return;
    }
    let settings = Settings::from_env();
    let version = Command::new(&settings.syslog_ng)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_default();
    println!(
        "icsfwd vs {version} ({} workers, reliable disk buffer), HEC over TLS to one emulator, \
         {} cores, dir {}",
        settings.workers,
        thread::available_parallelism().map_or(0, usize::from),
        settings.dir.display()
    );
    let bench = Bench::start(settings);
    let s = &bench.settings;
    let burst = alerts(s.alerts, 1_000);
    let mut throughput = Vec::new();
    for peer in Peer::BOTH {
        eprintln!(
            "{}: throughput, {} alerts over {} connections",
            peer.name(),
            s.alerts,
            s.producers
        );
        throughput.push(phase(
            &bench,
            peer,
            "throughput",
            &burst,
            s.producers,
            false,
        ));
    }
    let mut steady = Vec::new();
    for &rate in &s.rates {
        let paced = alerts(rate * s.latency_secs, rate);
        let mut pair = Vec::new();
        for peer in Peer::BOTH {
            eprintln!(
                "{}: steady, {rate} alerts/s for {} s",
                peer.name(),
                s.latency_secs
            );
            pair.push(phase(
                &bench,
                peer,
                &format!("steady-{rate}"),
                &paced,
                1,
                true,
            ));
        }
        steady.push((rate, pair));
    }
    report(s, &burst, &throughput, &steady);
    bench.emulator.shutdown();
    drop(fs::remove_dir_all(&s.runtime));
}

/// One row of the table: what, icsfwd's figure, syslog-ng's, which is better, decimals.
type Row = (String, f64, f64, &'static str, usize);

/// The table's rows: the throughput phase, then each steady rate.
fn rows(throughput: &[Phase], steady: &[(u64, Vec<Phase>)]) -> Vec<Row> {
    let (ti, ts) = (&throughput[0], &throughput[1]);
    let mut rows: Vec<Row> = vec![
        (
            "throughput, alerts/s (all stored)".into(),
            ti.rate(),
            ts.rate(),
            "higher",
            0,
        ),
        (
            "CPU s / 100k alerts, throughput".into(),
            ti.cpu_per_100k(),
            ts.cpu_per_100k(),
            "lower",
            2,
        ),
        (
            "alerts per CPU second, throughput".into(),
            ti.alerts_per_cpu_second(),
            ts.alerts_per_cpu_second(),
            "higher",
            0,
        ),
        (
            "write_bytes B / alert, throughput".into(),
            ti.write_bytes_per_alert(),
            ts.write_bytes_per_alert(),
            "lower",
            0,
        ),
        (
            "peak RSS MiB, throughput".into(),
            ti.rss_mib(),
            ts.rss_mib(),
            "lower",
            1,
        ),
    ];
    for (rate, pair) in steady {
        let (i, g) = (&pair[0], &pair[1]);
        let at = format!("at {rate}/s");
        rows.extend([
            (
                format!("latency p50 ms {at} (send → stored)"),
                i.percentile_ms(50.0),
                g.percentile_ms(50.0),
                "lower",
                1,
            ),
            (
                format!("latency p99 ms {at}"),
                i.percentile_ms(99.0),
                g.percentile_ms(99.0),
                "lower",
                1,
            ),
            (
                format!("latency max ms {at}"),
                i.percentile_ms(100.0),
                g.percentile_ms(100.0),
                "lower",
                1,
            ),
            (
                format!("CPU s / 100k alerts {at}"),
                i.cpu_per_100k(),
                g.cpu_per_100k(),
                "lower",
                2,
            ),
            (
                format!("write_bytes B / alert {at}"),
                i.write_bytes_per_alert(),
                g.write_bytes_per_alert(),
                "lower",
                0,
            ),
            (
                format!("peak RSS MiB {at}"),
                i.rss_mib(),
                g.rss_mib(),
                "lower",
                1,
            ),
        ]);
    }
    rows
}

/// One peer's figures for the summary line.
fn peer_json(t: &Phase, steady: &[(u64, Vec<Phase>)], index: usize) -> serde_json::Value {
    let rates: Vec<serde_json::Value> = steady
        .iter()
        .map(|(rate, pair)| {
            let p = &pair[index];
            json!({
                "rate": rate,
                "alerts": p.alerts,
                "latency_p50_ms": p.percentile_ms(50.0),
                "latency_p99_ms": p.percentile_ms(99.0),
                "latency_max_ms": p.percentile_ms(100.0),
                "cpu_s_per_100k": p.cpu_per_100k(),
                "write_bytes_per_alert": p.write_bytes_per_alert(),
                "peak_rss_kib": p.peak_rss_kib,
            })
        })
        .collect();
    json!({
        "throughput_alerts_per_s": t.rate(),
        "throughput_alerts": t.alerts,
        "throughput_cpu_s_per_100k": t.cpu_per_100k(),
        "throughput_alerts_per_cpu_s": t.alerts_per_cpu_second(),
        "throughput_write_bytes_per_alert": t.write_bytes_per_alert(),
        "throughput_peak_rss_kib": t.peak_rss_kib,
        "steady": rates,
    })
}

fn report(
    s: &Settings,
    burst: &[(u64, Event)],
    throughput: &[Phase],
    steady: &[(u64, Vec<Phase>)],
) {
    let (record_bytes, frame_bytes) = mean_sizes(burst);
    println!();
    println!(
        "| measure | icsfwd | syslog-ng | icsfwd ÷ syslog-ng | better |\n| --- | ---: | ---: | ---: | --- |"
    );
    for (what, i, g, better, places) in rows(throughput, steady) {
        println!(
            "| {what} | {i:.places$} | {g:.places$} | {:.2} | {better} |",
            i / g.max(1e-12)
        );
    }
    let rates: Vec<String> = s.rates.iter().map(u64::to_string).collect();
    println!(
        "\nthroughput: {} alerts, {} connections; steady: {} alerts/s for {} s each, one \
         connection; icsfwd's spool record {record_bytes:.0} B, the syslog frame {frame_bytes:.0} B \
         per alert; {}; load average {}",
        s.alerts,
        s.producers,
        rates.join(", "),
        s.latency_secs,
        support::file_system(&s.dir),
        support::load_average()
    );
    let ratio = |f: &dyn Fn(&Phase) -> f64, pair: &[Phase]| f(&pair[0]) / f(&pair[1]).max(1e-9);
    let steady_ratios: Vec<serde_json::Value> = steady
        .iter()
        .map(|(rate, pair)| {
            json!({
                "rate": rate,
                "cpu_per_alert": ratio(&Phase::cpu_per_100k, pair),
                "write_bytes_per_alert": ratio(&Phase::write_bytes_per_alert, pair),
                "peak_rss": ratio(&|p: &Phase| p.peak_rss_kib as f64, pair),
                "latency_p99": ratio(&|p: &Phase| p.percentile_ms(99.0), pair),
            })
        })
        .collect();
    let summary = json!({
        "settings": {
            "alerts": s.alerts,
            "producers": s.producers,
            "rates": s.rates,
            "steady_secs": s.latency_secs,
            "syslog_ng_workers": s.workers,
            "transport": "hec-https",
            "hec_ack": false,
            "file_system": support::file_system(&s.dir),
            "load_average": support::load_average(),
            "icsfwd_record_bytes": record_bytes,
            "syslog_frame_bytes": frame_bytes,
        },
        "icsfwd": peer_json(&throughput[0], steady, 0),
        "syslog_ng": peer_json(&throughput[1], steady, 1),
        "ratios_icsfwd_over_syslog_ng": {
            "throughput": ratio(&Phase::rate, throughput),
            "alerts_per_cpu_s": ratio(&Phase::alerts_per_cpu_second, throughput),
            "peak_rss": ratio(&|p: &Phase| p.peak_rss_kib as f64, throughput),
            "write_bytes_per_alert": ratio(&Phase::write_bytes_per_alert, throughput),
            "steady": steady_ratios,
        },
    });
    println!("PEER-SUMMARY {summary}");
    fs::write(
        s.dir.join("peer-summary.json"),
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();
}
