//! `icsfwd-sim alerts` run as a user would, against small test-only ingest servers that decode
//! each line with the appliance's own decoder and answer as a forwarder would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::{BufRead as _, BufReader, ErrorKind, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use icsfwd::ingest::schema::{Answer, Message, decode_line};
use icsfwd_core::alert::Event;

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args(args)
        .output()
        .unwrap()
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
    let dir = std::env::temp_dir().join(format!("icsfwd-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// How the test forwarder answers line `index` (0-based), given its decoded event.
type Policy = fn(usize, &Event) -> Answer;

fn accept_all(_: usize, event: &Event) -> Answer {
    Answer::Accepted {
        id: event.event_id().to_string(),
        truncated: vec![],
    }
}

/// Serves one connection: decodes every line with the real decoder (a line it refuses is
/// answered refused, as the forwarder would) and answers by `policy`; stops after `stop_after`
/// answers, closing the connection. Returns the lines received.
fn serve(stream: impl Read + Write, policy: Policy, stop_after: Option<usize>) -> Vec<String> {
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    loop {
        if stop_after.is_some_and(|n| lines.len() >= n) {
            return lines;
        }
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            return lines;
        }
        let line = line.trim_end_matches('\n').to_owned();
        let answer = match decode_line(line.as_bytes(), 0) {
            Ok(decoded) => match &decoded.message {
                Message::Event(event) => policy(lines.len(), event),
                Message::Heartbeat(_) => panic!("the sender sent a heartbeat"),
            },
            Err(refusal) => Answer::refused(&refusal),
        };
        lines.push(line);
        let stream = reader.get_mut();
        if writeln!(stream, "{}", answer.to_line()).is_err() {
            return lines;
        }
    }
}

fn unix_server(
    dir: &std::path::Path,
    policy: Policy,
    stop_after: Option<usize>,
) -> (String, JoinHandle<Vec<String>>) {
    let path = dir.join("ingest.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        serve(stream, policy, stop_after)
    });
    (format!("unix:{}", path.display()), handle)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const RUN: [&str; 8] = [
    "--seed",
    "5",
    "--start-ms",
    "1800000000000",
    "--rate",
    "100000",
    "--burst",
    "10",
];

fn alerts(scenario: &str, count: &str, to: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "alerts",
        "--scenario",
        scenario,
        "--count",
        count,
        "--to",
        to,
    ];
    args.extend(RUN);
    args.extend(extra);
    sim(&args)
}

#[test]
fn every_line_decodes_and_accepted_lines_exit_zero_with_a_tally() {
    for scenario in ["mixed", "sensor-loss", "plc-program-stop"] {
        let dir = temp_dir(&format!("accept-{scenario}"));
        let (to, server) = unix_server(&dir, accept_all, None);
        let out = alerts(scenario, "300", &to, &[]);
        let received = server.join().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{scenario}: {err}");
        assert_eq!(received.len(), 300);
        assert!(err.contains("seed 5"), "{err}");
        assert!(
            err.contains(
                "accepted 300 (0 with truncated fields), not forwarded 0, refused 0, unanswered 0"
            ),
            "{err}"
        );
        // The same seed to a file writes exactly what the socket received.
        let file = dir.join("lines.jsonl");
        let out = alerts(scenario, "300", &format!("file:{}", file.display()), &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let written = std::fs::read_to_string(&file).unwrap();
        assert_eq!(written.lines().collect::<Vec<_>>(), received);
    }
}

#[test]
fn the_sensor_loss_scenario_sends_notifications_the_decoder_takes() {
    let out = alerts("sensor-loss", "300", "stdout", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let kinds: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(r#"{"type":"notification""#))
        .collect();
    assert!(kinds.len() >= 2, "{}", kinds.len());
    for line in text.lines() {
        decode_line(line.as_bytes(), 0).unwrap();
    }
}

fn refuse_fifth_drop_seventh(index: usize, event: &Event) -> Answer {
    match index {
        4 | 9 => Answer::Refused {
            field: Some("source.ip".to_owned()),
            error: r#""10.0.0.300" is not an IP address"#.to_owned(),
            allowed: Some("an IPv4 or IPv6 address".to_owned()),
        },
        6 => Answer::NotForwarded {
            id: event.event_id().to_string(),
            reason: "no rule matches".to_owned(),
        },
        _ => accept_all(index, event),
    }
}

#[test]
fn refused_lines_are_counted_by_reason_and_exit_three() {
    let dir = temp_dir("refused");
    let (to, server) = unix_server(&dir, refuse_fifth_drop_seventh, None);
    let out = alerts("scan", "20", &to, &[]);
    assert_eq!(server.join().unwrap().len(), 20);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(
            "accepted 17 (0 with truncated fields), not forwarded 1, refused 2, unanswered 0"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            r#"refused 2x: source.ip: "10.0.0.300" is not an IP address (allowed: an IPv4 or IPv6 address)"#
        ),
        "{err}"
    );
    assert!(err.contains("not forwarded 1x: no rule matches"), "{err}");
}

#[test]
fn a_forwarder_that_closes_early_leaves_lines_unanswered_and_exits_four() {
    let dir = temp_dir("close");
    let (to, server) = unix_server(&dir, accept_all, Some(5));
    let out = alerts("steady", "200", &to, &["--window", "8"]);
    assert_eq!(server.join().unwrap().len(), 5);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("accepted 5 "), "{err}");
    assert!(err.contains("connection dropped"), "{err}");
    // 8 in flight at most when it closed: 5 answered, the rest unanswered or never sent.
    assert!(err.contains("never sent"), "{err}");
}

#[test]
fn a_slow_forwarder_holds_the_sender_at_the_window() {
    let dir = temp_dir("window");
    let path = dir.join("ingest.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut pending = Vec::new();
        for _ in 0..4 {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            pending.push(line);
        }
        // The window is full: nothing more may come until an answer goes back. (A slow
        // sender would pass this too; a sender that ignores the window fails it.)
        reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut byte = [0u8; 1];
        let early = reader.read(&mut byte);
        assert!(
            matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
            "a fifth line came before any answer: {early:?}"
        );
        reader.get_ref().set_read_timeout(None).unwrap();
        let stream: &mut UnixStream = reader.get_mut();
        for line in &pending {
            let event = match decode_line(line.trim_end().as_bytes(), 0).unwrap().message {
                Message::Event(event) => event,
                Message::Heartbeat(_) => panic!("heartbeat"),
            };
            writeln!(stream, "{}", accept_all(0, &event).to_line()).unwrap();
        }
        4 + serve(reader.into_inner(), accept_all, None).len()
    });
    let to = format!("unix:{}", path.display());
    let out = alerts("steady", "30", &to, &["--window", "4"]);
    assert_eq!(server.join().unwrap(), 30);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("accepted 30 "), "{}", stderr(&out));
}

#[test]
fn tcp_targets_are_served_like_unix_sockets() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        serve(stream, accept_all, None)
    });
    let out = alerts("malware-outbreak", "50", &format!("tcp:{addr}"), &[]);
    assert_eq!(server.join().unwrap().len(), 50);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_missing_socket_says_to_check_that_icsfwd_runs() {
    let dir = temp_dir("missing");
    let to = format!("unix:{}", dir.join("nothing.sock").display());
    let out = alerts("steady", "5", &to, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is icsfwd running? the socket path is set in [ingest] of icsfwd.toml"),
        "{err}"
    );
}

#[test]
fn bad_options_exit_two() {
    let table: [&[&str]; 4] = [
        &["alerts", "--to", "ftp:host"],
        &["alerts", "--rate", "0"],
        &["alerts", "--burst", "0"],
        &["alerts", "--scenario", "nope"],
    ];
    for args in table {
        let out = sim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn the_same_seed_prints_the_same_lines_and_another_seed_differs() {
    let a = alerts("mixed", "100", "stdout", &[]);
    let b = alerts("mixed", "100", "-", &[]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(String::from_utf8_lossy(&a.stdout).lines().count(), 100);
    let c = sim(&[
        "alerts",
        "--scenario",
        "mixed",
        "--count",
        "100",
        "--seed",
        "6",
        "--start-ms",
        "1800000000000",
    ]);
    assert_ne!(a.stdout, c.stdout);
}
