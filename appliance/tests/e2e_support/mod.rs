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
