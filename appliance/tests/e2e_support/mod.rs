//! Shared set-up of the end-to-end tests of the `icsfwd` binary: the service as a child
//! process with its log captured, a scratch directory, a configuration writer for the TLS
//! emulator of `output_support`, and polling with a deadline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

pub mod rsyslog;

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
        let mut command = icsfwd_command();
        command.args(["run", "-c", config.to_str().unwrap()]);
        Service::start_command(command)
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

/// A test's scratch directory: fresh, under the system's temporary directory, and removed
/// with everything in it when dropped, so a test run leaves nothing behind in /tmp. Derefs to
/// its path.
#[derive(Debug)]
pub struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

/// A fresh scratch directory for `test`, removed when the returned guard is dropped.
pub fn scratch(test: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new()
            .prefix(&format!("icsfwd-e2e-{test}-"))
            .tempdir()
            .unwrap(),
    )
}

pub fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The built `icsfwd` binary as a command. A cross build's binary is a foreign ELF the kernel
/// cannot exec without binfmt_misc, so `ICSFWD_TEST_RUNNER` (set by `scripts/cross.sh`, e.g.
/// `qemu-aarch64 -L /usr/aarch64-linux-gnu`) names the emulator it runs through; unset or
/// empty, the binary runs directly.
pub fn icsfwd_command() -> Command {
    let binary = env!("CARGO_BIN_EXE_icsfwd");
    let runner = std::env::var("ICSFWD_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(emulator) => {
            let mut command = Command::new(emulator);
            command.args(words).arg(binary);
            command
        }
        None => Command::new(binary),
    }
}

pub fn icsfwd(args: &[&str]) -> Output {
    icsfwd_command().args(args).output().unwrap()
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

// ---- Helpers of e2e/delivery.rs, e2e/rules.rs and e2e/faults.rs ----

/// The ingest socket of a service configured by [`write_config_body`] in `dir`.
pub fn socket_in(dir: &Path) -> PathBuf {
    dir.join("run").join("ingest.sock")
}

/// A configuration file in `dir` (chmod 600, so inline secrets are allowed): sensor
/// `sensor-plant-a` / `10.20.0.5`, then `body` (destinations, rules, exclusions), then the
/// spool and ingest sections in `dir`.
pub fn write_config_body(dir: &Path, body: &str) -> PathBuf {
    let text = format!(
        "[sensor]\nname = \"sensor-plant-a\"\nip = \"10.20.0.5\"\n\n{body}\n\n[spool]\ndir = \"{spool}\"\n\n[ingest]\nsocket = \"{socket}\"\n",
        spool = dir.join("spool").display(),
        socket = socket_in(dir).display(),
    );
    fs::create_dir_all(dir.join("run")).unwrap();
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Sends `events` through the ingest socket in `dir` and returns the producer's tally.
pub fn feed_all(
    dir: &Path,
    events: Vec<(u64, icsfwd_core::alert::Event)>,
) -> icsfwd_sim::feed::Tally {
    icsfwd_sim::feed::send(
        events.into_iter(),
        &icsfwd_sim::feed::Target::Unix(socket_in(dir)),
        &icsfwd_sim::feed::Options::default(),
        &mut |_| {},
    )
    .unwrap()
}

/// Everything an operator was shown (status outputs, error messages), kept to check that no
/// secret ever appears in it.
#[derive(Default)]
pub struct Shown(pub Vec<String>);

impl Shown {
    /// `icsfwd status -c config --json`, parsed (Null when unreadable); the output is kept.
    pub fn status_json(&mut self, config: &Path) -> serde_json::Value {
        let output = icsfwd(&["status", "-c", config.to_str().unwrap(), "--json"]);
        self.keep(&output);
        serde_json::from_slice(&output.stdout).unwrap_or_default()
    }

    /// `icsfwd status -c config` as text; the output is kept.
    pub fn status_text(&mut self, config: &Path) -> String {
        let output = icsfwd(&["status", "-c", config.to_str().unwrap()]);
        self.keep(&output);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Keeps stdout and stderr of a command.
    pub fn keep(&mut self, output: &Output) {
        self.0
            .push(String::from_utf8_lossy(&output.stdout).into_owned());
        self.0
            .push(String::from_utf8_lossy(&output.stderr).into_owned());
    }

    /// Keeps any text (a log, an error message).
    pub fn text(&mut self, text: impl Into<String>) {
        self.0.push(text.into());
    }

    /// Panics if a password or token (or the Basic encoding of the password) was shown.
    pub fn assert_no_secret(&self) {
        support::assert_no_secret(&self.0);
    }
}

/// The destination named `name` in a `status --json` snapshot (Null if absent).
pub fn destination<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["destinations"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["name"] == name))
        .unwrap_or(&serde_json::Value::Null)
}

/// Polls `status --json` until `done` holds for the destination `name`; returns that status.
pub fn wait_for_destination(
    shown: &mut Shown,
    config: &Path,
    name: &str,
    what: &str,
    deadline: Duration,
    mut done: impl FnMut(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    let start = Instant::now();
    loop {
        let status = shown.status_json(config);
        if done(destination(&status, name)) {
            return status;
        }
        if !status.is_null() {
            last = status;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out waiting for {what}; last status: {last:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The event id (`<sensor>-<id>`) of every record the emulator stored through `receiver`, in
/// arrival order. HEC records carry it as `event.id` (or `event.notification_id` for a
/// notification); splunkd text bodies in their `Alert ID: ` line.
pub fn stored_ids(
    emulator: &icsfwd_sim::splunk::emulator::RunningEmulator,
    receiver: icsfwd_sim::splunk::store::ReceiverKind,
) -> Vec<String> {
    use icsfwd_sim::splunk::store::{Body, Filter};
    emulator
        .store()
        .list(&Filter::default())
        .iter()
        .filter(|r| r.receiver == receiver)
        .map(|r| match &r.body {
            Body::Json(event) => event["id"].as_str().unwrap_or_default().to_owned(),
            Body::Text(text) => text
                .lines()
                .find_map(|l| l.strip_prefix("Alert ID: "))
                .unwrap_or_default()
                .to_owned(),
        })
        .collect()
}

/// A `[[destination]]` of kind `hec` verified against `ca`, with short retries (100 ms – 1 s)
/// and small, quick batches; `extra` adds keys or overrides those defaults (e.g.
/// `ack = true`, `batch_max_events = 50`).
pub fn hec_destination(name: &str, urls: &[String], token: &str, ca: &Path, extra: &str) -> String {
    let urls: Vec<String> = urls.iter().map(|u| format!("\"{u}\"")).collect();
    let mut text = format!(
        "[[destination]]\nname = \"{name}\"\nkind = \"hec\"\nurls = [{urls}]\ntoken = \"{token}\"\n\
         ca_file = \"{ca}\"\n",
        urls = urls.join(", "),
        ca = ca.display(),
    );
    let defaults = [
        ("batch_max_events", "500"),
        ("batch_linger", "\"20ms\""),
        ("retry_min", "\"100ms\""),
        ("retry_max", "\"1s\""),
    ];
    let overridden = |key: &str| {
        extra
            .lines()
            .any(|l| l.split('=').next().is_some_and(|k| k.trim() == key))
    };
    for (key, value) in defaults {
        if !overridden(key) {
            text += &format!("{key} = {value}\n");
        }
    }
    text + extra + "\n"
}

/// Starts the service on `config` and waits for its ingest socket (in `dir`); fails at once,
/// with the service's log, if it exits instead.
pub fn start_service(config: &Path, dir: &Path) -> Service {
    let mut service = Service::start(config);
    let socket = socket_in(dir);
    wait_for("the ingest socket", Duration::from_secs(30), || {
        if let Some(child) = &mut service.child
            && let Ok(Some(status)) = child.try_wait()
        {
            let log = service.stderr.take().map(|t| t.join().unwrap_or_default());
            panic!("the service exited at start ({status}): {log:#?}");
        }
        socket.exists()
    });
    service
}

/// A rule sending every alert and system notification to `destination`.
pub fn everything_to(destination: &str) -> String {
    format!(
        "[[rule]]\nname = \"everything\"\nsystem_notifications = true\nactions = [\"{destination}\"]\n"
    )
}

// ---- Helpers of e2e/notifications.rs ----

/// A rule sending every alert, but no system notification, to `destination`: for tests that
/// count exactly the alerts a destination received ("sensor online" at start would add one).
pub fn alerts_to(destination: &str) -> String {
    format!("[[rule]]\nname = \"alerts\"\nactions = [\"{destination}\"]\n")
}

// ---- Helpers of e2e/crash.rs, e2e/process.rs and e2e/chaos.rs ----

impl Service {
    /// Starts the service from a prepared command (e.g. `nsenter` into a mount namespace, or
    /// with `LD_PRELOAD` set); the command must exec `icsfwd run` in the same process.
    pub fn start_command(mut command: Command) -> Service {
        let mut child = command
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

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Whether the child has exited (it is reaped then).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().unwrap().try_wait().unwrap()
    }

    /// SIGKILL, then every log line the process wrote.
    pub fn kill(mut self) -> Vec<String> {
        let mut child = self.child.take().unwrap();
        drop(child.kill());
        drop(child.wait());
        self.stderr.take().unwrap().join().unwrap()
    }

    /// SIGTERM without waiting: the caller stops it with [`Service::wait_log`].
    pub fn terminate(&self) {
        let pid = self.pid().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
    }

    /// Waits for the child to exit (after [`Service::terminate`]); its status and log.
    pub fn wait_log(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let mut child = self.child.take().unwrap();
        let status = child.wait().unwrap();
        (status, self.stderr.take().unwrap().join().unwrap())
    }
}

/// The command running `icsfwd run -c config` (to wrap or adjust before
/// [`Service::start_command`]).
pub fn run_command(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_icsfwd"));
    command.args(["run", "-c", config.to_str().unwrap()]);
    command
}

/// The recovered backlog of `destination` a start logged ("destination NAME: N record(s) to
/// deliver"), if the start got that far.
pub fn logged_backlog(log: &[String], destination: &str) -> Option<u64> {
    let prefix = format!("destination {destination}: ");
    log.iter().find_map(|line| {
        let rest = &line[line.find(&prefix)? + prefix.len()..];
        rest.strip_suffix(" record(s) to deliver")?.parse().ok()
    })
}

/// One thread of a process as `/proc` shows it.
#[derive(Debug, Clone)]
pub struct ThreadNow {
    /// Its name (`comm`).
    pub name: String,
    /// The system call it is blocked in (`None` when running in user space or gone).
    pub syscall: Option<u64>,
    /// That call's first argument (a file descriptor for `fsync`).
    pub arg0: u64,
}

/// Every thread of `pid` and the system call each is in now.
pub fn threads_now(pid: u32) -> Vec<ThreadNow> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut all = Vec::new();
    for task in tasks.flatten() {
        let path = task.path();
        let name = fs::read_to_string(path.join("comm"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let call = fs::read_to_string(path.join("syscall")).unwrap_or_default();
        let mut fields = call.split_whitespace();
        let syscall = fields.next().and_then(|n| n.parse().ok());
        let arg0 = fields
            .next()
            .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
            .unwrap_or(0);
        all.push(ThreadNow {
            name,
            syscall,
            arg0,
        });
    }
    all
}

/// Where file descriptor `fd` of `pid` points (empty if unknown).
pub fn fd_target(pid: u32, fd: u64) -> String {
    fs::read_link(format!("/proc/{pid}/fd/{fd}"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// Peak resident set size of `pid` (`VmHWM`, bytes), if it runs.
pub fn peak_rss(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Open file descriptors of `pid`, if it runs.
pub fn open_fds(pid: u32) -> Option<u64> {
    Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// Bytes of every regular file under `dir`, recursively (0 if missing). Files vanishing
/// while it walks are skipped.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            total += dir_bytes(&entry.path());
        } else {
            total += meta.len();
        }
    }
    total
}

/// A seed from the environment variable `name`, or from the clock; printed with how to
/// replay it.
pub fn seed_from_env(name: &str, test: &str) -> u64 {
    let seed = std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("{test}: seed {seed} ({name}={seed} replays it)");
    eprintln!("{test}: seed {seed} ({name}={seed} replays it)");
    seed
}

/// A number from the environment variable `name`, else `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---- Helpers of e2e/chaos.rs (J1: attributing every broken producer connection) ----

/// How one [`Producer::exchange_detailed`] ended.
#[derive(Debug)]
#[allow(
    dead_code,
    reason = "the details are read through Debug, in assertion messages"
)]
pub enum Exchange {
    /// The answer line, parsed.
    Answer(serde_json::Value),
    /// Writing the line failed.
    WriteFailed(std::io::ErrorKind),
    /// The server closed the connection before answering.
    Closed,
    /// Reading the answer failed (a timeout is `WouldBlock` or `TimedOut`).
    ReadFailed(std::io::ErrorKind),
    /// The answer line was not JSON.
    Garbled(String),
}

impl Producer {
    /// Like [`exchange`](Producer::exchange), but says how a failed exchange failed.
    pub fn exchange_detailed(&mut self, line: &[u8]) -> Exchange {
        use std::io::Write as _;
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        if let Err(e) = self
            .writer
            .write_all(&bytes)
            .and_then(|()| self.writer.flush())
        {
            return Exchange::WriteFailed(e.kind());
        }
        let mut answer = String::new();
        match self.reader.read_line(&mut answer) {
            Ok(0) => Exchange::Closed,
            Err(e) => Exchange::ReadFailed(e.kind()),
            Ok(_) => match serde_json::from_str(&answer) {
                Ok(value) => Exchange::Answer(value),
                Err(_) => Exchange::Garbled(answer),
            },
        }
    }
}

// ---- Helpers of e2e/faults.rs and e2e/network.rs ----

/// The event ids (`<sensor>-<id>`) of generated events.
pub fn ids_of(events: &[(u64, icsfwd_core::alert::Event)]) -> std::collections::BTreeSet<String> {
    events
        .iter()
        .map(|(_, e)| e.event_id().to_string())
        .collect()
}

/// Each id and how often it occurs.
pub fn counted(ids: &[String]) -> std::collections::BTreeMap<String, u64> {
    let mut by = std::collections::BTreeMap::new();
    for id in ids {
        *by.entry(id.clone()).or_insert(0) += 1;
    }
    by
}

/// Stops the service, checks it stopped cleanly (exit 0), and returns its log, also kept in
/// `shown` (for the no-secret check).
pub fn stop_cleanly(service: Service, shown: &mut Shown) -> String {
    let (exit, log) = service.stop();
    let log = log.join("\n");
    assert!(exit.success(), "{exit:?}\n{log}");
    shown.text(log.clone());
    log
}
