//! Shared set-up of the end-to-end tests of the `icsfwd` binary: the service as a child
//! process with its log captured, a scratch directory, a configuration writer for the TLS
//! emulator of `output_support`, and polling with a deadline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]
#![allow(dead_code, reason = "each test file uses part of it")]

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support;

/// The service as a child process, killed if a test fails before stopping it.
pub struct Service {
    child: Option<Child>,
    stderr: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Service {
    pub fn start(config: &Path) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_icsfwd"))
            .args(["run", "-c", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        });
        Service {
            child: Some(child),
            stderr: Some(lines),
        }
    }

    /// SIGTERM, then the exit status and every log line.
    pub fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        let log = self.stderr.take().unwrap().join().unwrap();
        (status, log)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            drop(child.kill());
            drop(child.wait());
        }
    }
}

pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("icsfwd-e2e-{}-{test}", std::process::id()));
    drop(fs::remove_dir_all(&dir));
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn icsfwd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icsfwd"))
        .args(args)
        .output()
        .unwrap()
}

/// A configuration with a HEC destination taking everything and a splunkd destination
/// taking critical alerts, both verified against the emulator's CA.
pub fn write_config(dir: &Path, tls: &support::Tls, hec: u16, splunkd: u16) -> PathBuf {
    let text = format!(
        r#"[sensor]
name = "sensor-plant-a"
ip = "10.20.0.5"

[[destination]]
name = "soc-hec"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
ca_file = "{ca}"
batch_max_events = 200
batch_linger = "20ms"
retry_min = "100ms"
retry_max = "1s"

[[destination]]
name = "soc-splunkd"
kind = "splunk"
host = "localhost"
port = {splunkd}
username = "{user}"
password = "{password}"
ca_file = "{ca}"
retry_min = "100ms"
retry_max = "1s"

[[rule]]
name = "everything to the SOC"
actions = ["soc-hec"]

[[rule]]
name = "critical to splunkd"
min_severity = "critical"
actions = ["soc-splunkd"]

[spool]
dir = "{spool}"

[ingest]
socket = "{socket}"
"#,
        token = support::HEC_TOKEN,
        user = support::USER,
        password = support::PASSWORD,
        ca = tls.ca_file.display(),
        spool = dir.join("spool").display(),
        socket = dir.join("run").join("ingest.sock").display(),
    );
    fs::create_dir_all(dir.join("run")).unwrap();
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A configuration with one HEC destination `soc-hec` taking every alert, verified against the
/// emulator's CA, with short retries. `destination` adds lines to the destination's table
/// (e.g. `ack = true`; the token is `support::HEC_TOKEN` unless it sets `token`), `spool` to
/// `[spool]` (e.g. `max_bytes = "1 MiB"`).
pub fn write_hec_config(
    dir: &Path,
    tls: &support::Tls,
    hec: u16,
    destination: &str,
    spool: &str,
) -> PathBuf {
    let text = format!(
        r#"[sensor]
name = "sensor-plant-a"
ip = "10.20.0.5"

[[destination]]
name = "soc-hec"
kind = "hec"
urls = ["https://localhost:{hec}"]
ca_file = "{ca}"
batch_max_events = 100
batch_linger = "10ms"
retry_min = "50ms"
retry_max = "300ms"
{token}{destination}

[[rule]]
name = "everything to the SOC"
actions = ["soc-hec"]

[spool]
dir = "{spool_dir}"
{spool}

[ingest]
socket = "{socket}"
"#,
        ca = tls.ca_file.display(),
        token = if destination.contains("token") {
            String::new()
        } else {
            format!("token = \"{}\"\n", support::HEC_TOKEN)
        },
        spool_dir = dir.join("spool").display(),
        socket = dir.join("run").join("ingest.sock").display(),
    );
    fs::create_dir_all(dir.join("run")).unwrap();
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The ingest socket of a configuration written by `write_config`/`write_hec_config`.
pub fn socket_of(dir: &Path) -> PathBuf {
    dir.join("run").join("ingest.sock")
}

/// A producer connection to the ingest socket: sends raw lines, reads one answer per line.
pub struct Producer {
    writer: std::os::unix::net::UnixStream,
    reader: BufReader<std::os::unix::net::UnixStream>,
}

impl Producer {
    /// Connects, or `None` when nothing listens there (yet).
    pub fn try_connect(socket: &Path) -> Option<Producer> {
        let stream = std::os::unix::net::UnixStream::connect(socket).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let reader = BufReader::new(stream.try_clone().ok()?);
        Some(Producer {
            writer: stream,
            reader,
        })
    }

    /// Connects, waiting up to 30 s for the service to listen.
    pub fn connect(socket: &Path) -> Producer {
        let mut producer = None;
        wait_for(
            "the ingest socket to answer",
            Duration::from_secs(30),
            || {
                producer = Producer::try_connect(socket);
                producer.is_some()
            },
        );
        producer.unwrap()
    }

    /// Writes `bytes` (one or more lines, LF included); `false` if the connection broke.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        use std::io::Write as _;
        self.writer.write_all(bytes).is_ok() && self.writer.flush().is_ok()
    }

    /// The next answer, parsed, or `None` if the connection ended or broke.
    pub fn answer(&mut self) -> Option<serde_json::Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => serde_json::from_str(&line).ok(),
        }
    }

    /// Sends one line (an LF is added) and returns its answer.
    pub fn exchange(&mut self, line: &[u8]) -> Option<serde_json::Value> {
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        if !self.write(&bytes) {
            return None;
        }
        self.answer()
    }

    /// Sends `lines` pipelined (in chunks within the server's read-ahead window) and returns
    /// their answers in order.
    pub fn exchange_all(&mut self, lines: &[String]) -> Vec<serde_json::Value> {
        let mut answers = Vec::with_capacity(lines.len());
        for chunk in lines.chunks(128) {
            let mut bytes = Vec::new();
            for line in chunk {
                bytes.extend_from_slice(line.as_bytes());
                bytes.push(b'\n');
            }
            assert!(self.write(&bytes), "the connection broke");
            for _ in chunk {
                answers.push(self.answer().expect("an answer per line"));
            }
        }
        answers
    }
}

/// `icsfwd status -c CONFIG --json`, parsed (`Null` when it failed).
pub fn status_json(config: &Path) -> serde_json::Value {
    let shown = icsfwd(&["status", "-c", config.to_str().unwrap(), "--json"]);
    serde_json::from_slice(&shown.stdout).unwrap_or_default()
}

/// Waits until `icsfwd status --json` satisfies `done`, and returns that snapshot.
pub fn wait_for_status(
    what: &str,
    config: &Path,
    deadline: Duration,
    mut done: impl FnMut(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let last = status_json(config);
        if done(&last) {
            return last;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out waiting for {what}; last status: {last}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An alert line of the ingest schema with this id, severity and title (JSON-escaped here).
pub fn alert_line(id: u64, severity: &str, title: &str) -> String {
    serde_json::json!({
        "type": "alert",
        "id": id,
        "time_ms": 1_700_000_000_000_u64 + id,
        "engine": "Operational",
        "severity": severity,
        "title": title,
        "protocol": "S7",
        "source": {"ip": "10.20.1.12"},
        "destination": {"ip": "10.20.3.11", "port": 102},
        "sensor": {"name": "sensor-plant-a", "ip": "10.1.0.5"}
    })
    .to_string()
}

/// The event ids (`sensor-plant-a-7`) HEC received, each with how often.
pub fn hec_ids(
    store: &icsfwd_sim::splunk::store::Store,
) -> std::collections::BTreeMap<String, u64> {
    let mut ids = std::collections::BTreeMap::new();
    for record in store.list(&icsfwd_sim::splunk::store::Filter::default()) {
        if let Some(id) = record.to_json()["event"]["id"].as_str() {
            *ids.entry(id.to_owned()).or_insert(0) += 1;
        }
    }
    ids
}
