//! `icsfwd-sim splunk` with faults from the command line, run as a user would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

#[test]
fn faults_and_seed_from_the_command_line_are_printed_and_active() {
    let child = Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args([
            "splunk",
            "--hec-port",
            "0",
            "--splunkd-port",
            "0",
            "--control-port",
            "0",
            "--fault",
            "hec:status=503,code=9,next=10",
            "--fault",
            "splunkd:slow=10",
            "--fault-seed",
            "1234",
        ])
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
