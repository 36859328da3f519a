//! `icsfwd-sim splunk` run as a user would: HTTPS by default, plain HTTP on request, faults
//! from the command line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use icsfwd_sim::splunk::tls::client_config_trusting;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use serde_json::Value;

/// Ends the child even when an assertion fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.0.kill());
        drop(self.0.wait());
    }
}

fn get(addr: SocketAddr, target: &str) -> Value {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(format!("GET {target} HTTP/1.1\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    serde_json::from_str(reply.split_once("\r\n\r\n").unwrap().1).unwrap()
}

/// Starts `icsfwd-sim splunk` on ephemeral ports with `extra` arguments and returns it with
/// what it printed up to its "Ctrl-C" line.
fn start_splunk(extra: &[&str]) -> (Running, Vec<String>) {
    let child = Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args([
            "splunk",
            "--hec-port",
            "0",
            "--splunkd-port",
            "0",
            "--control-port",
            "0",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.contains("Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

/// A test's scratch directory, removed with everything in it when dropped (so a test run
/// leaves nothing in /tmp); derefs to its path.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a failed removal must not hide the test's own result.
        drop(std::fs::remove_dir_all(&self.0));
    }
}

/// A fresh directory for one test, removed when the guard is dropped.
fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("icsfwd-sim-cli-{name}-{}", std::process::id()));
    drop(std::fs::remove_dir_all(&dir));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// The address printed after `prefix`.
fn printed_addr(lines: &[String], prefix: &str) -> SocketAddr {
    lines
        .iter()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starts with {prefix:?}: {lines:#?}"))
        .parse()
        .unwrap()
}

#[test]
fn the_splunk_command_serves_https_that_its_written_ca_verifies() {
    let dir = temp_dir("https");
    let ca = dir.join("ca.pem");
    let (_child, lines) = start_splunk(&["--ca-out", ca.to_str().unwrap()]);
    let hec = printed_addr(&lines, "icsfwd-sim: HEC listening on https://");
    let splunkd = printed_addr(&lines, "icsfwd-sim: splunkd listening on https://");
    let printed = lines.join("\n");
    assert!(printed.contains(&ca.display().to_string()), "{printed}");

    let config = client_config_trusting(&ca).unwrap();
    for (addr, target, expected) in [
        (
            hec,
            "/services/collector/health",
            r#"{"text":"HEC is healthy","code":17}"#,
        ),
        (splunkd, "/services/auth/login", "<response>"),
    ] {
        let name = ServerName::try_from("localhost").unwrap();
        let conn = ClientConnection::new(Arc::clone(&config), name).unwrap();
        let mut tls = StreamOwned::new(conn, TcpStream::connect(addr).unwrap());
        tls.sock
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let method = if target.ends_with("login") {
            "POST"
        } else {
            "GET"
        };
        let body = "username=admin&password=wrong";
        tls.write_all(
            format!(
                "{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
        let mut reply = String::new();
        tls.read_to_string(&mut reply)
            .expect("the server ends the TLS stream with close_notify");
        assert!(reply.starts_with("HTTP/1.1 "), "{reply}");
        assert!(reply.contains(expected), "{target}: {reply}");
    }
}

#[test]
fn plain_http_is_served_only_when_asked_for() {
    let (_child, lines) = start_splunk(&["--plain-http"]);
    let hec = printed_addr(&lines, "icsfwd-sim: HEC listening on http://");
    let mut conn = TcpStream::connect(hec).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"GET /services/collector/health HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    assert!(lines.join("\n").contains("no TLS"));
}

#[test]
fn faults_and_seed_from_the_command_line_are_printed_and_active() {
    let (_child, lines) = start_splunk(&[
        "--plain-http",
        "--fault",
        "hec:status=503,code=9,next=10",
        "--fault",
        "splunkd:slow=10",
        "--fault-seed",
        "1234",
    ]);
    let printed = lines.join("\n");
    assert!(printed.contains("fault seed 1234"), "{printed}");
    assert!(
        printed.contains("fault 1 hec:status=503,code=9,next=10"),
        "{printed}"
    );
    assert!(printed.contains("fault 2 splunkd:slow=10"), "{printed}");
    let control: SocketAddr = lines
        .iter()
        .find_map(|line| line.strip_prefix("icsfwd-sim: control API listening on http://"))
        .and_then(|rest| rest.strip_suffix("/_sim/"))
        .expect("the control address is printed")
        .parse()
        .unwrap();
    assert!(control.ip().is_loopback());
    let faults = get(control, "/_sim/faults");
    assert_eq!(faults["seed"], 1234);
    assert_eq!(faults["faults"].as_array().unwrap().len(), 2);
}

#[test]
fn a_bad_fault_spec_is_refused_with_what_is_allowed() {
    let output = Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args(["splunk", "--fault", "hec:explode"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("allowed are down, hang"), "{stderr}");
}
