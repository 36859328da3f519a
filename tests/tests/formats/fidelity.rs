//! Fidelity: Splunk's own clients drive the emulator, and the store holds exactly what they
//! sent.
//!
//! What it proves: the official Python SDK (`splunk-sdk`: `client.connect` login,
//! `service.indexes["main"]`, `Index.submit`, `Index.attached_socket` streaming) and the
//! official Node HEC client (`splunk-logging`: single events and a batch) succeed against the
//! emulator, and the emulator's [`Store`] then holds their events in order with the index,
//! host, source, sourcetype and body text they were sent with, and nothing else.
//!
//! The clients are the scripts in `tests/fidelity/`, installed by `scripts/fidelity-deps.sh`
//! (a venv under `target/fidelity/venv`, `npm ci` in `tests/fidelity/node`). When they are
//! missing each test prints a loud `SKIPPED` and passes, unless `ICSFWD_REQUIRE_ALL=1`, then
//! it fails. Secrets (password, token) go to the clients through the environment, never on a
//! command line.
//!
//! Transport: HTTPS, as `icsfwd-sim splunk` serves by default: [`Harness::start`] generates a
//! CA, writes it to a temp file, and both clients verify the emulator's certificate against it
//! for the name `localhost` (the Python SDK through an `ssl.SSLContext` and `SSL_CERT_FILE`,
//! `splunk-logging` through `NODE_EXTRA_CA_CERTS` with `strictSSL`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator, Transport};
use icsfwd_sim::splunk::hec::{HecConfig, Token};
use icsfwd_sim::splunk::splunkd::{SplunkdConfig, User};
use icsfwd_sim::splunk::store::{Body, Filter, ReceiverKind, Store, Stored};
use icsfwd_sim::splunk::tls::TlsMaterial;
use serde_json::{Value, json};

const HEC_TOKEN: &str = "5b7e3c1a-9f42-4d8e-b6a0-1c2d3e4f5a6b";
const USER: &str = "fidelity";
const PASSWORD: &str = "s3cret-fidelity";
/// How long one client run may take before the test kills it and fails.
const CLIENT_DEADLINE: Duration = Duration::from_secs(120);
/// Tells apart the CA files of harnesses running at once in this process.
static NEXT_HARNESS: AtomicUsize = AtomicUsize::new(0);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The emulator under test over HTTPS, and how clients reach and verify it.
struct Harness {
    emulator: RunningEmulator,
    store: Store,
    /// `https`, passed to both clients.
    scheme: &'static str,
    /// The host name clients connect to: a name in the certificate, so verification checks it.
    client_host: &'static str,
    /// PEM CA the clients verify the server against.
    ca_file: PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        // The CA file is the test's own; a run leaves nothing in the temporary directory.
        drop(std::fs::remove_file(&self.ca_file));
    }
}

impl Harness {
    /// The whole emulator over TLS with a CA generated for this test and written to a temp
    /// file, exactly as `icsfwd-sim splunk` serves it.
    fn start() -> Self {
        let material = TlsMaterial::generate::<&str>(&[]).unwrap();
        let ca_file = std::env::temp_dir().join(format!(
            "icsfwd-fidelity-ca-{}-{}.pem",
            std::process::id(),
            NEXT_HARNESS.fetch_add(1, Ordering::SeqCst)
        ));
        material.write_ca(&ca_file).unwrap();
        let mut hec = HecConfig::default();
        hec.tokens.push(Token::new("fidelity", HEC_TOKEN));
        let mut splunkd = SplunkdConfig::default();
        splunkd.users.push(User::new(USER, PASSWORD, true));
        let emulator = Emulator::start(EmulatorConfig {
            hec,
            splunkd,
            transport: Transport::Tls(material.acceptor().unwrap()),
            ..EmulatorConfig::default()
        })
        .unwrap();
        Self {
            store: emulator.store().clone(),
            scheme: emulator.scheme(),
            emulator,
            client_host: "localhost",
            ca_file,
        }
    }

    fn hec_url(&self) -> String {
        format!(
            "{}://{}:{}",
            self.scheme,
            self.client_host,
            self.emulator.hec_addr().port()
        )
    }

    fn received(&self, receiver: ReceiverKind) -> Vec<Stored> {
        self.store
            .list(&Filter::default())
            .into_iter()
            .filter(|record| record.receiver == receiver)
            .collect()
    }
}

/// The installed client, or `None` after a loud SKIPPED (a failure with ICSFWD_REQUIRE_ALL=1).
fn installed(what: &str, path: &Path) -> Option<PathBuf> {
    if path.exists() {
        return Some(path.to_path_buf());
    }
    let bar = "!".repeat(78);
    // Straight to the process's stderr: libtest would swallow eprintln! of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!!! SKIPPED: {what} is not installed ({}): run scripts/fidelity-deps.sh\n{bar}\n",
        path.display()
    );
    assert!(
        std::env::var("ICSFWD_REQUIRE_ALL").as_deref() != Ok("1"),
        "ICSFWD_REQUIRE_ALL=1: {what} missing, run scripts/fidelity-deps.sh"
    );
    None
}

fn python() -> Option<PathBuf> {
    let venv = workspace_root().join("target/fidelity/venv");
    // scripts/fidelity-deps.sh writes the stamp after pip installed the pinned SDK.
    installed("splunk-sdk (Python venv)", &venv.join(".installed"))?;
    Some(venv.join("bin/python"))
}

fn node_client() -> Option<PathBuf> {
    let dir = workspace_root().join("tests/fidelity/node");
    installed(
        "splunk-logging",
        &dir.join("node_modules/splunk-logging/package.json"),
    )?;
    Some(dir.join("hec_fidelity.js"))
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs `command` to completion within [`CLIENT_DEADLINE`], killing it past that.
fn run(mut command: Command) -> Run {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).map(|_| text)
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        err.read_to_string(&mut text).map(|_| text)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CLIENT_DEADLINE {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("client did not finish within {CLIENT_DEADLINE:?}: {command:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run {
        success: status.success(),
        stdout: out.join().unwrap().unwrap(),
        stderr: err.join().unwrap().unwrap(),
    }
}

fn python_sdk(harness: &Harness, python: &Path, password: &str) -> Run {
    let mut command = Command::new(python);
    command
        .arg(workspace_root().join("tests/fidelity/python/sdk_fidelity.py"))
        .args(["--host", harness.client_host])
        .args([
            "--port",
            &harness.emulator.splunkd_addr().port().to_string(),
        ])
        .args([
            "--scheme",
            harness.scheme,
            "--username",
            USER,
            "--index",
            "main",
        ])
        .arg("--ca-file")
        .arg(&harness.ca_file)
        .env("ICSFWD_FIDELITY_PASSWORD", password);
    run(command)
}

fn node_hec(harness: &Harness, script: &Path, token: &str) -> Run {
    let mut command = Command::new("node");
    command
        .arg(script)
        .args(["--url", &harness.hec_url()])
        .env("ICSFWD_FIDELITY_TOKEN", token)
        .env("NODE_EXTRA_CA_CERTS", &harness.ca_file);
    run(command)
}

fn summary(run: &Run) -> Value {
    assert!(
        run.success,
        "client failed\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    serde_json::from_str(run.stdout.trim()).unwrap()
}

/// Polls `condition` until it holds or `deadline` passes; true if it held.
fn eventually(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    loop {
        if condition() {
            return true;
        }
        if started.elapsed() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn metadata(record: &Stored) -> Value {
    json!({
        "index": record.index,
        "host": record.host,
        "source": record.source,
        "sourcetype": record.sourcetype,
    })
}

#[test]
fn python_sdk_login_submit_and_stream_store_exactly_what_it_sent() {
    let Some(python) = python() else { return };
    let harness = Harness::start();
    let sent = summary(&python_sdk(&harness, &python, PASSWORD));

    assert_eq!(sent["sdk_version"], "2.1.1", "the pinned SDK ran: {sent}");
    assert_eq!(
        sent["used_cookie"], true,
        "login with cookie=1 gave the SDK a splunkd_<port> cookie"
    );
    let submitted = sent["submitted"].as_array().unwrap();
    assert_eq!(submitted.len(), 4, "{sent}");
    assert!(
        submitted
            .iter()
            .any(|e| !e["event"].as_str().unwrap().is_ascii()),
        "a non-ASCII event is among them"
    );
    assert!(
        submitted
            .iter()
            .any(|e| e["event"].as_str().unwrap().contains('\n')),
        "a multi-line event is among them"
    );
    let index = &sent["index"];
    assert_eq!(index["name"], "main");
    assert_eq!(index["total_event_count_before"], 0);
    assert_eq!(
        index["total_event_count_after_submits"], 4,
        "totalEventCount in data/indexes/main counts the submits"
    );

    let simple = harness.received(ReceiverKind::Simple);
    let stored: Vec<Value> = simple
        .iter()
        .map(|record| {
            assert_eq!(record.user.as_deref(), Some(USER));
            let mut meta = metadata(record);
            meta["event"] = json!(record.body.text());
            meta
        })
        .collect();
    let expected: Vec<Value> = submitted
        .iter()
        .map(|event| {
            let mut event = event.clone();
            event["index"] = json!("main");
            event
        })
        .collect();
    assert_eq!(
        stored, expected,
        "receivers/simple stored the submits in order"
    );

    let streamed = &sent["streamed"];
    let arrived = eventually(Duration::from_secs(10), || {
        !harness.received(ReceiverKind::Stream).is_empty()
    });
    assert!(
        arrived,
        "the attach() stream was stored once the SDK closed it: {streamed}"
    );
    let stream = harness.received(ReceiverKind::Stream);
    assert_eq!(stream.len(), 1, "one stream = one stored body");
    let record = &stream[0];
    assert_eq!(
        metadata(record),
        json!({
            "index": "main",
            "host": streamed["host"],
            "source": streamed["source"],
            "sourcetype": streamed["sourcetype"],
        })
    );
    assert_eq!(
        Body::Text(streamed["body"].as_str().unwrap().to_owned()),
        record.body
    );
    assert_eq!(harness.store.dropped(), 0);
    assert!(harness.received(ReceiverKind::Hec).is_empty());
}

#[test]
fn python_sdk_with_a_wrong_password_fails_and_stores_nothing() {
    let Some(python) = python() else { return };
    let harness = Harness::start();
    let run = python_sdk(&harness, &python, "not-the-password");
    assert!(!run.success, "login must fail: {}", run.stdout);
    assert!(
        run.stderr.contains("AuthenticationError"),
        "the SDK maps 401 on login to AuthenticationError: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("not-the-password"),
        "the password is not echoed"
    );
    assert!(harness.store.is_empty());
}

#[test]
fn node_hec_client_single_events_and_a_batch_store_exactly_what_it_sent() {
    let Some(script) = node_client() else { return };
    let harness = Harness::start();
    let sent = summary(&node_hec(&harness, &script, HEC_TOKEN));

    assert_eq!(
        sent["client_version"], "0.11.1",
        "the pinned client ran: {sent}"
    );
    assert_eq!(
        sent["requests"], 4,
        "three single requests and one batch request were answered"
    );
    for reply in sent["replies"].as_array().unwrap() {
        assert_eq!(reply, &json!({"text": "Success", "code": 0}));
    }
    let payloads: Vec<&Value> = sent["singles"]
        .as_array()
        .unwrap()
        .iter()
        .chain(sent["batch"].as_array().unwrap())
        .collect();
    assert_eq!(payloads.len(), 8);

    let stored = harness.received(ReceiverKind::Hec);
    let stored: Vec<Value> = stored
        .iter()
        .map(|record| {
            assert!(record.time_ms > 0, "the client's envelope time was kept");
            let event = match &record.body {
                Body::Json(value) => value.clone(),
                Body::Text(text) => json!(text),
            };
            json!({"metadata": metadata(record), "event": event})
        })
        .collect();
    // The client's default formatter wraps each message as {"message", "severity"}.
    let expected: Vec<Value> = payloads
        .iter()
        .map(|payload| {
            json!({
                "metadata": payload["metadata"],
                "event": {
                    "message": payload["message"],
                    "severity": payload["severity"],
                },
            })
        })
        .collect();
    assert_eq!(stored, expected, "HEC stored every event in order");
    assert!(harness.received(ReceiverKind::Simple).is_empty());
}

#[test]
fn node_hec_client_with_an_unknown_token_exits_with_an_error_and_stores_nothing() {
    let Some(script) = node_client() else { return };
    let harness = Harness::start();
    let run = node_hec(&harness, &script, "00000000-0000-0000-0000-00000000dead");
    assert!(
        !run.success,
        "an error callback must fail the run: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains("Invalid token (code 4)"),
        "the client saw HEC code 4: {}",
        run.stderr
    );
    assert!(harness.store.is_empty());
}
