//! `trust = "bundled" | "system" | "ca_file"`: the real binary (`icsfwd test`,
//! `icsfwd check-config`) against the TLS emulator, whose certificate a private CA signed.
//! The compiled-in roots refuse it, `ca_file` accepts it, the system bundle accepts it once the
//! CA is installed into it (a system-like bundle named by `SSL_CERT_FILE`, as OpenSSL reads
//! it), for HEC, splunkd and syslog over TLS alike; `check-config` shows which roots each
//! destination uses; a contradictory combination is a configuration error with its place and
//! fix.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::e2e::{icsfwd_command, scratch};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};

/// A configuration with a `hec`, a `splunk` and a `syslog` (TLS) destination to the emulator,
/// each with the TLS lines `tls_lines`.
fn write_config(dir: &Path, emulator: &RunningEmulator, tls_lines: &str) -> PathBuf {
    let text = format!(
        r#"[sensor]
name = "sensor-plant-a"
ip = "10.20.0.5"

[[destination]]
name = "hec"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
connect_timeout = "2s"
{tls_lines}

[[destination]]
name = "splunk"
kind = "splunk"
host = "localhost"
port = {splunkd}
username = "{user}"
password = "{password}"
connect_timeout = "2s"
{tls_lines}

[[destination]]
name = "siem"
kind = "syslog"
host = "localhost"
port = {syslog}
transport = "tls"
connect_timeout = "2s"
{tls_lines}

[[rule]]
name = "everything"
actions = ["hec"]

[spool]
dir = "{spool}"

[ingest]
socket = "{socket}"
"#,
        hec = emulator.hec_addr().port(),
        splunkd = emulator.splunkd_addr().port(),
        syslog = emulator.syslog_addr().unwrap().port(),
        token = crate::support::HEC_TOKEN,
        user = crate::support::USER,
        password = crate::support::PASSWORD,
        spool = dir.join("spool").display(),
        socket = dir.join("run").join("ingest.sock").display(),
    );
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn start_emulator(tls: &crate::support::Tls) -> RunningEmulator {
    Emulator::start(EmulatorConfig {
        syslog_port: Some(0),
        ..crate::support::config(tls)
    })
    .unwrap()
}

/// Runs `icsfwd <args>` with `SSL_CERT_FILE` set to `bundle` (or removed): exit code and
/// stdout + stderr.
fn run(args: &[&str], bundle: Option<&Path>) -> (Option<i32>, String) {
    let mut command = icsfwd_command();
    command.args(args);
    match bundle {
        Some(path) => command.env("SSL_CERT_FILE", path),
        None => command.env_remove("SSL_CERT_FILE"),
    };
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap()
    );
    crate::support::assert_no_secret(std::slice::from_ref(&text));
    (output.status.code(), text)
}

fn test_each(config: &Path, bundle: Option<&Path>) -> Vec<(&'static str, Option<i32>, String)> {
    ["hec", "splunk", "siem"]
        .into_iter()
        .map(|name| {
            let (code, text) = run(&["test", name, "-c", config.to_str().unwrap()], bundle);
            (name, code, text)
        })
        .collect()
}

/// A system-like bundle: another CA first (so it holds more than ours), then the emulator's.
fn system_like_bundle(dir: &Path, tls: &crate::support::Tls) -> PathBuf {
    let other = crate::support::Tls::new();
    let bundle_dir = dir.join("etc/ssl/certs");
    fs::create_dir_all(&bundle_dir).unwrap();
    let bundle = bundle_dir.join("ca-certificates.crt");
    let text =
        fs::read_to_string(&other.ca_file).unwrap() + &fs::read_to_string(&tls.ca_file).unwrap();
    fs::write(&bundle, text).unwrap();
    bundle
}

#[test]
fn the_compiled_in_roots_refuse_a_private_ca_and_say_so() {
    let tls = crate::support::Tls::new();
    let emulator = start_emulator(&tls);
    let dir = scratch("trust-bundled");
    // Written and defaulted alike.
    for lines in ["trust = \"bundled\"", ""] {
        let config = write_config(&dir, &emulator, lines);
        for (name, code, text) in test_each(&config, None) {
            assert_eq!(code, Some(1), "{name} ({lines}): {text}");
            assert!(
                text.contains("trust: bundled (the Mozilla roots compiled into icsfwd"),
                "{name}: {text}"
            );
            assert!(text.contains("TLS"), "{name}: {text}");
        }
    }
}

#[test]
fn ca_file_trusts_the_private_ca() {
    let tls = crate::support::Tls::new();
    let emulator = start_emulator(&tls);
    let dir = scratch("trust-ca-file");
    let lines = format!(
        "trust = \"ca_file\"\nca_file = \"{}\"",
        tls.ca_file.display()
    );
    let config = write_config(&dir, &emulator, &lines);
    let shown = format!("trust: ca_file ({}, 1 root)", tls.ca_file.display());
    for (name, code, text) in test_each(&config, None) {
        assert_eq!(code, Some(0), "{name}: {text}");
        assert!(text.contains(&shown), "{name}: {shown:?} missing:\n{text}");
    }
}

#[test]
fn system_trusts_a_private_ca_installed_into_the_system_bundle_and_nothing_else() {
    let tls = crate::support::Tls::new();
    let emulator = start_emulator(&tls);
    let dir = scratch("trust-system");
    let bundle = system_like_bundle(&dir, &tls);
    let config = write_config(&dir, &emulator, "trust = \"system\"");
    let shown = format!("trust: system ({}, 2 roots)", bundle.display());
    for (name, code, text) in test_each(&config, Some(&bundle)) {
        assert_eq!(code, Some(0), "{name}: {text}");
        assert!(text.contains(&shown), "{name}: {shown:?} missing:\n{text}");
    }
    // A bundle without the private CA: refused, so the bundle is what is trusted.
    let other = crate::support::Tls::new();
    for (name, code, text) in test_each(&config, Some(&other.ca_file)) {
        assert_eq!(code, Some(1), "{name}: {text}");
    }

    // check-config names the roots of every destination.
    let (code, text) = run(
        &["check-config", "-c", config.to_str().unwrap()],
        Some(&bundle),
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(text.matches(&shown).count(), 3, "{text}");
}

/// `(TLS lines, line, key path, message part, fix part)`: each refused by `check-config` at
/// that line (the first destination's TLS lines start on line 11).
const INVALID: &[(&str, usize, &str, &str, &str)] = &[
    (
        "trust = \"ca_file\"",
        11,
        "destination[0].trust",
        "trust = \"ca_file\" but ca_file is not set",
        "fix: set ca_file",
    ),
    (
        "trust = \"system\"\nca_file = \"CA\"",
        12,
        "destination[0].ca_file",
        "ca_file is set but trust = \"system\" does not read it",
        "fix: remove ca_file to trust the system's CA bundle, or set trust = \"ca_file\"",
    ),
    (
        "trust = \"bundled\"\nca_file = \"CA\"",
        12,
        "destination[0].ca_file",
        "ca_file is set but trust = \"bundled\" does not read it",
        "fix: remove ca_file",
    ),
    (
        "trust = \"os\"",
        11,
        "destination[0].trust",
        "unknown trust \"os\"",
        "fix: use \"bundled\"",
    ),
];

#[test]
fn contradictory_trust_settings_are_refused_with_place_and_fix() {
    let tls = crate::support::Tls::new();
    let emulator = start_emulator(&tls);
    let dir = scratch("trust-invalid");
    let ca = tls.ca_file.display().to_string();
    for (lines, line, key, message, fix) in INVALID {
        let config = write_config(&dir, &emulator, &lines.replace("CA", &ca));
        let (code, text) = run(&["check-config", "-c", config.to_str().unwrap()], None);
        assert_eq!(code, Some(2), "{lines}: {text}");
        let place = format!("{}:{line}:", config.display());
        for part in [place.as_str(), *key, *message, *fix] {
            assert!(text.contains(part), "{lines}: {part:?} missing:\n{text}");
        }
    }
    // No system bundle at all: the file SSL_CERT_FILE names is missing.
    let config = write_config(&dir, &emulator, "trust = \"system\"");
    let missing = dir.join("no-such-bundle.pem");
    let (code, text) = run(
        &["test", "hec", "-c", config.to_str().unwrap()],
        Some(&missing),
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&missing.display().to_string()), "{text}");
}
