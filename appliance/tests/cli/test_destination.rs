//! `icsfwd test <destination>`, the real binary against the TLS emulator: what it prints and
//! its exit code for a good destination of each kind, and for each common mistake (wrong token,
//! wrong CA, nothing listening, unknown name). No secret is ever printed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use e2e::{icsfwd, scratch};
use icsfwd_sim::splunk::store::Filter;

/// One configuration with a destination per case.
fn write_config(
    dir: &Path,
    tls: &support::Tls,
    other_ca: &Path,
    hec: u16,
    splunkd: u16,
    closed: u16,
) -> PathBuf {
    let common = "connect_timeout = \"2s\"\ntls_timeout = \"5s\"\nresponse_timeout = \"10s\"";
    let ca = tls.ca_file.display();
    let text = format!(
        r#"[sensor]
name = "sensor-plant-a"
ip = "10.20.0.5"

[[destination]]
name = "hec"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
ca_file = "{ca}"
{common}

[[destination]]
name = "hec-ack"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{ack_token}"
ack = true
ca_file = "{ca}"
{common}

[[destination]]
name = "splunk-basic"
kind = "splunk"
host = "localhost"
port = {splunkd}
username = "{user}"
password = "{password}"
ca_file = "{ca}"
{common}

[[destination]]
name = "splunk-session"
kind = "splunk"
host = "localhost"
port = {splunkd}
auth = "session"
username = "{user}"
password = "{password}"
ca_file = "{ca}"
{common}

[[destination]]
name = "hec-wrong-token"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{bearer}"
ca_file = "{ca}"
{common}

[[destination]]
name = "hec-wrong-ca"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
ca_file = "{other_ca}"
{common}

[[destination]]
name = "hec-nothing-listening"
kind = "hec"
urls = ["https://127.0.0.1:{closed}"]
token = "{token}"
ca_file = "{ca}"
{common}

[[destination]]
name = "hec-ack-on-a-token-without-acks"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
ack = true
ca_file = "{ca}"
{common}

[[destination]]
name = "hec-impatient"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
ca_file = "{ca}"
connect_timeout = "2s"
tls_timeout = "5s"
response_timeout = "300ms"

[[destination]]
name = "hec-missing-index"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
index = "nosuchindex"
ca_file = "{ca}"
{common}

[[rule]]
name = "everything"
actions = ["hec"]

[spool]
dir = "{spool}"

[ingest]
socket = "{socket}"
"#,
        token = support::HEC_TOKEN,
        ack_token = support::ACK_TOKEN,
        bearer = support::BEARER,
        user = support::USER,
        password = support::PASSWORD,
        other_ca = other_ca.display(),
        spool = dir.join("spool").display(),
        socket = dir.join("run").join("ingest.sock").display(),
    );
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(config: &Path, name: &str) -> Run {
    let output = icsfwd(&["test", name, "-c", config.to_str().unwrap()]);
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    };
    support::assert_no_secret(&[run.stdout.clone(), run.stderr.clone()]);
    run
}

#[test]
fn each_case_exits_and_explains_as_documented_without_printing_a_secret() {
    let tls = support::Tls::new();
    let other = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("cli-test-destination");
    let config = write_config(
        &dir,
        &tls,
        &other.ca_file,
        emulator.hec_addr().port(),
        emulator.splunkd_addr().port(),
        closed_port(),
    );

    // (destination, exit code, texts the output must hold)
    let cases: &[(&str, i32, &[&str])] = &[
        (
            "hec",
            0,
            &[
                "/services/collector/event",
                "verification on",
                "acks: off",
                "result: delivered",
            ],
        ),
        (
            "hec-ack",
            0,
            &["acks: on", "awaiting ack", "ack: true", "result: delivered"],
        ),
        (
            "splunk-basic",
            0,
            &[
                "/services/receivers/simple?host=10.20.0.5",
                "auth: basic",
                "result: delivered",
            ],
        ),
        ("splunk-session", 0, &["auth: session", "result: delivered"]),
        (
            "hec-wrong-token",
            1,
            &[
                "HTTP 403, HEC code 4 \"Invalid token\"",
                "credentials rejected",
                "fix: credentials rejected: check the HEC token",
            ],
        ),
        (
            "hec-wrong-ca",
            1,
            &["TLS", "fix: TLS verification failed: set ca_file"],
        ),
        (
            "hec-nothing-listening",
            1,
            &[
                "cannot connect",
                "fix: connection refused: check host and port",
            ],
        ),
    ];
    for (name, code, texts) in cases {
        let run = run(&config, name);
        assert_eq!(
            run.code,
            Some(*code),
            "{name}: stdout {}\nstderr {}",
            run.stdout,
            run.stderr
        );
        for text in *texts {
            assert!(
                run.stdout.contains(text),
                "{name}: {text:?} missing from:\n{}",
                run.stdout
            );
        }
        assert!(
            run.stdout
                .contains(&format!("trust: ca_file ({}", name_ca(name, &tls, &other))),
            "{name}: the CA is named:\n{}",
            run.stdout
        );
    }

    // The four delivered test alerts reached Splunk, marked as tests; nothing else did.
    let received = emulator.store().list(&Filter::default());
    assert_eq!(received.len(), 4, "{received:?}");
    assert!(
        received
            .iter()
            .all(|e| format!("{e:?}").contains("icsfwd test message")),
        "{received:?}"
    );
    // The spool was not touched.
    assert!(!dir.join("spool").exists());
}

/// Each misconfiguration gets its own exact fix, never one guessed from a word of another's
/// message; a 2xx that is not Splunk's answer is a failure with what answered.
#[test]
fn each_misconfiguration_gets_its_exact_fix() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("cli-test-fixes");
    let config = write_config(
        &dir,
        &tls,
        &tls.ca_file,
        emulator.hec_addr().port(),
        emulator.splunkd_addr().port(),
        closed_port(),
    );
    // (destination, fault while it runs, texts the output must hold, texts it must not)
    type Case<'a> = (&'a str, Option<&'a str>, &'a [&'a str], &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        (
            "hec-ack-on-a-token-without-acks",
            None,
            &[
                "acks requested but the reply has no ackId",
                "fix: indexer acknowledgment is off on the HEC token while ack = true: enable \
                 it (useACK) on the token, or set ack = false",
            ],
            &["index unknown", "create the index", "index missing"],
        ),
        (
            "hec-impatient",
            Some("hec:hang,path=/services/collector/event"),
            &[
                "no reply in time",
                "fix: Splunk did not answer within response_timeout: check its load, or raise \
                 response_timeout",
            ],
            &["timeout_response"],
        ),
        (
            "hec",
            Some("hec:status=200,body=html,path=/services/collector/event"),
            &[
                "result: FAILED: the server at https://localhost:",
                "/services/collector/event answered 200 with an HTML page: is the URL \
                 Splunk's HEC port?",
                "fix: what answered is not Splunk's HEC: check urls",
            ],
            &["result: delivered", "Some(", "None"],
        ),
        (
            "hec-ack",
            Some("hec:status=200,body=json,path=/services/collector/event"),
            &[
                "answered 200 with JSON that is not HEC's reply",
                "fix: what answered is not Splunk's HEC",
            ],
            &["result: delivered", "awaiting ack"],
        ),
        (
            "splunk-basic",
            Some("splunkd:status=200,body=empty,path=/services/receivers"),
            &[
                "/services/receivers/simple answered 200 with an empty body: is it splunkd's \
                 management port?",
                "fix: what answered is not splunkd's management port: check host and port",
            ],
            &["result: delivered"],
        ),
        (
            "hec-missing-index",
            None,
            &[
                "HTTP 400, HEC code 7 \"Incorrect index\"",
                "fix: index missing: create the index \"nosuchindex\" in Splunk or add it to \
                 the token's allowed indexes",
            ],
            &["dead-letter", "Some(", "None"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, fault, wanted, unwanted) in cases {
        let id = fault.map(|f| emulator.faults().add(f.parse().unwrap()).unwrap());
        let run = run(&config, name);
        if let Some(id) = id {
            assert!(emulator.faults().remove(id));
        }
        if run.code != Some(1) {
            failures.push(format!("{name}: exit {:?}", run.code));
        }
        for text in *wanted {
            if !run.stdout.contains(text) {
                failures.push(format!("{name}: {text:?} missing"));
            }
        }
        for text in *unwanted {
            if run.stdout.contains(text) {
                failures.push(format!("{name}: {text:?} present"));
            }
        }
        if failures.iter().any(|f| f.starts_with(name)) {
            eprintln!("{name}:\n{}", run.stdout);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Only the token without acks indexed its test alert (HEC takes it, then gives no ackId).
    assert_eq!(emulator.store().list(&Filter::default()).len(), 1);
}

fn name_ca(name: &str, tls: &support::Tls, other: &support::Tls) -> String {
    if name == "hec-wrong-ca" {
        other.ca_file.display().to_string()
    } else {
        tls.ca_file.display().to_string()
    }
}

#[test]
fn an_unknown_destination_is_a_usage_error_listing_the_defined_names() {
    let tls = support::Tls::new();
    let dir = scratch("cli-test-unknown");
    let config = write_config(&dir, &tls, &tls.ca_file, 1, 1, 1);
    let run = run(&config, "soc");
    assert_eq!(run.code, Some(64), "{}", run.stderr);
    assert!(
        run.stderr.contains(r#"no destination named "soc""#),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("defined: hec, hec-ack, splunk-basic"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreadable_configuration_exits_3() {
    let dir = scratch("cli-test-unreadable");
    let run = run(&dir.join("missing.toml"), "hec");
    assert_eq!(run.code, Some(3), "{}", run.stderr);
}
