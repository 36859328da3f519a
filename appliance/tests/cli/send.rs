//! `icsfwd send` (`icsfwd::send::run_send`) against a real ingest server, and against canned
//! servers that misbehave: answers printed with their line numbers, and the exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::io::{BufRead, BufReader, Cursor, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use icsfwd::ingest::schema::{MAX_LINE_BYTES_LIMIT, encode_line};
use icsfwd::send::{SendError, SendOptions, Summary, Target, open_input, run_send};
use icsfwd::testing::ingest::server::{IngestConfig, IngestServer, RunningIngest, SpoolAdmit};
use icsfwd::testing::spool::storage::FsStorage;
use icsfwd::testing::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig};
use icsfwd_core::alert::Severity;
use icsfwd_core::rule::{Rule, RuleSet};
use spool_support::{alert, dest, names};

struct Service {
    dir: tempfile::TempDir,
    socket: PathBuf,
    server: Option<RunningIngest>,
    _group: GroupCommit<FsStorage>,
}

/// Forwards Major and above to destination 0.
fn service(tune: impl FnOnce(&mut IngestConfig)) -> Service {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(
        FsStorage::new(),
        &dir.path().join("spool"),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let rule = Rule::new("major")
        .unwrap()
        .with_min_severity(Severity::Major)
        .with_action(dest(0));
    let rules = Box::new(RuleSet::from_parts([rule], []).unwrap());
    let admit = SpoolAdmit::new(rules, group.handle(), Box::new(|_| {}));
    let socket = dir.path().join("ingest.sock");
    let mut config = IngestConfig::new(&socket);
    tune(&mut config);
    let server = IngestServer::start(config, Arc::new(admit)).unwrap();
    Service {
        dir,
        socket,
        server: Some(server),
        _group: group,
    }
}

fn line(id: u64, severity: Severity) -> String {
    encode_line(&alert(id, severity)) + "\n"
}

fn send(input: &str, target: &Target) -> (Summary, String) {
    let mut out = Vec::new();
    let summary = run_send(
        Cursor::new(input.as_bytes().to_vec()),
        target,
        &mut out,
        &SendOptions::default(),
    )
    .unwrap();
    (summary, String::from_utf8(out).unwrap())
}

fn unix(path: &Path) -> Target {
    Target::Unix(path.to_owned())
}

#[test]
fn a_file_of_accepted_and_not_forwarded_lines_exits_0_with_numbered_answers() {
    let service = service(|_| {});
    let path = service.dir.path().join("alerts.jsonl");
    let text = line(1, Severity::Major)
        + &line(2, Severity::Warning)
        + "\n"
        + &line(3, Severity::Critical)
        + "\n";
    std::fs::write(&path, text).unwrap();
    let input = open_input(Some(path.to_str().unwrap())).unwrap();
    let mut out = Vec::new();
    let summary = run_send(
        input,
        &unix(&service.socket),
        &mut out,
        &SendOptions::default(),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "1: {\"status\":\"accepted\",\"id\":\"sensor-a-1\"}\n\
         2: {\"status\":\"not_forwarded\",\"id\":\"sensor-a-2\",\"reason\":\"no rule matched\"}\n\
         4: {\"status\":\"accepted\",\"id\":\"sensor-a-3\"}\n"
    );
    assert_eq!(
        summary,
        Summary {
            lines: 3,
            skipped: 2,
            accepted: 2,
            not_forwarded: 1,
            ..Summary::default()
        }
    );
    assert_eq!(summary.exit_code(), 0);
    assert_eq!(
        summary.to_string(),
        "3 lines sent: 2 accepted, 1 not forwarded, 0 refused (2 blank lines skipped)"
    );
}

#[test]
fn a_summary_of_one_says_line_not_lines() {
    let one = Summary {
        lines: 1,
        skipped: 1,
        accepted: 1,
        unreadable: 1,
        ..Summary::default()
    };
    assert_eq!(
        one.to_string(),
        "1 line sent: 1 accepted, 0 not forwarded, 0 refused, 1 unreadable answer \
         (1 blank line skipped)"
    );
}

#[test]
fn refused_lines_exit_3_and_an_over_long_line_is_refused_without_being_sent() {
    let service = service(|_| {});
    let long = "x".repeat(MAX_LINE_BYTES_LIMIT + 10);
    let input = line(1, Severity::Major)
        + "{\"type\":\"alarm\"}\n"
        + &long
        + "\n"
        + &line(2, Severity::Major);
    let (summary, out) = send(&input, &unix(&service.socket));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[1],
        "2: {\"status\":\"refused\",\"field\":\"type\",\"error\":\"unknown type \\\"alarm\\\"\",\"allowed\":\"alert, notification, heartbeat\"}"
    );
    assert_eq!(
        lines[2],
        format!(
            "3: {{\"status\":\"refused\",\"field\":null,\"error\":\"line is {} bytes long\",\"allowed\":\"at most {MAX_LINE_BYTES_LIMIT} bytes before the LF\"}}",
            MAX_LINE_BYTES_LIMIT + 10
        )
    );
    assert!(lines[3].starts_with("4: {\"status\":\"accepted\""), "{out}");
    assert_eq!((summary.accepted, summary.refused), (2, 2));
    assert_eq!(summary.exit_code(), 3);
    let stats = service.server.as_ref().unwrap().stats();
    assert_eq!(
        stats.lines, 3,
        "the over-long line never reached the server"
    );
}

#[test]
fn a_line_over_16_kib_is_left_to_the_server_which_takes_it_within_its_bound() {
    let service = service(|config| config.max_line = 32 * 1024);
    let mut long = encode_line(&alert(1, Severity::Major));
    long.insert_str(long.len() - 1, &" ".repeat(20 * 1024));
    let input = format!("{long}\n");
    let (summary, out) = send(&input, &unix(&service.socket));
    assert_eq!(out, "1: {\"status\":\"accepted\",\"id\":\"sensor-a-1\"}\n");
    assert_eq!(summary.accepted, 1);
    // With the server's bound known (`icsfwd send -c`), a longer line is refused locally
    // with the server's own answer and never sent.
    let options = SendOptions {
        max_line: 16 * 1024,
        ..SendOptions::default()
    };
    let mut out = Vec::new();
    let summary = run_send(
        Cursor::new(input.into_bytes()),
        &unix(&service.socket),
        &mut out,
        &options,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "1: {{\"status\":\"refused\",\"field\":null,\"error\":\"line is {} bytes long\",\"allowed\":\"at most 16384 bytes before the LF\"}}\n",
            long.len()
        )
    );
    assert_eq!(summary.refused, 1);
    assert_eq!(service.server.as_ref().unwrap().stats().lines, 1);
}

#[test]
fn stdin_is_read_like_a_file_through_a_reader() {
    // `icsfwd send -` hands standard input's reader to run_send: any BufRead goes.
    let service = service(|_| {});
    let input: String = (0..500).map(|id| line(id, Severity::Critical)).collect();
    let (summary, out) = send(&input, &unix(&service.socket));
    assert_eq!(summary.accepted, 500);
    assert_eq!(summary.exit_code(), 0);
    for (i, text) in out.lines().enumerate() {
        assert_eq!(
            text,
            format!(
                "{}: {{\"status\":\"accepted\",\"id\":\"sensor-a-{i}\"}}",
                i + 1
            )
        );
    }
}

#[test]
fn tcp_target_works() {
    let service = service(|c| c.tcp = Some("127.0.0.1:0".parse().unwrap()));
    let addr = service.server.as_ref().unwrap().tcp_addr().unwrap();
    let (summary, out) = send(&line(9, Severity::Major), &Target::Tcp(addr));
    assert_eq!(out, "1: {\"status\":\"accepted\",\"id\":\"sensor-a-9\"}\n");
    assert_eq!(summary.exit_code(), 0);
}

#[test]
fn no_server_is_exit_1_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let error = run_send(
        Cursor::new(line(1, Severity::Major)),
        &unix(&dir.path().join("absent.sock")),
        &mut Vec::new(),
        &SendOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(error, SendError::Connect { .. }));
    assert_eq!(SendError::EXIT_CODE, 1);
    let text = error.to_string();
    assert!(
        text.contains("is icsfwd running? the socket path is [ingest] socket in icsfwd.toml"),
        "{text}"
    );
    assert!(matches!(
        open_input(Some(dir.path().join("absent.jsonl").to_str().unwrap())),
        Err(SendError::Open { .. })
    ));
}

/// A server that answers `answers` lines (all accepted) and then closes the connection.
fn canned(dir: &Path, answers: usize, reply: &'static str) -> (PathBuf, thread::JoinHandle<()>) {
    let path = dir.join("canned.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        for _ in 0..answers {
            let mut text = String::new();
            if reader.read_line(&mut text).unwrap() == 0 {
                break;
            }
            writer.write_all(reply.as_bytes()).unwrap();
        }
    });
    (path, handle)
}

#[test]
fn a_connection_lost_with_lines_unanswered_is_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let (path, server) = canned(dir.path(), 2, "{\"status\":\"accepted\",\"id\":\"x\"}\n");
    let input: String = (0..5).map(|id| line(id, Severity::Major)).collect();
    let (summary, out) = send(&input, &unix(&path));
    server.join().unwrap();
    assert_eq!(out.lines().count(), 2);
    assert_eq!(summary.accepted, 2);
    assert!(summary.lost.is_some());
    assert_eq!(summary.exit_code(), 4);
}

#[test]
fn an_unreadable_answer_is_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let (path, server) = canned(dir.path(), 1, "HTTP/1.1 400 Bad Request\n");
    let (summary, out) = send(&line(1, Severity::Major), &unix(&path));
    server.join().unwrap();
    assert_eq!(out, "1: HTTP/1.1 400 Bad Request\n");
    assert_eq!(summary.unreadable, 1);
    assert_eq!(summary.exit_code(), 4);
}

#[test]
fn a_silent_server_is_exit_4_after_the_answer_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        // Holds the connection open, answering nothing, until the client gives up.
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut &stream, &mut sink);
    });
    let opts = SendOptions {
        window: 4,
        answer_timeout: Duration::from_millis(200),
        ..SendOptions::default()
    };
    let input: String = (0..10).map(|id| line(id, Severity::Major)).collect();
    let mut out = Vec::new();
    let summary = run_send(Cursor::new(input), &unix(&path), &mut out, &opts).unwrap();
    server.join().unwrap();
    assert_eq!(summary.lines, 4, "the window bounds the lines in flight");
    assert_eq!(summary.unanswered, 4);
    assert_eq!(summary.exit_code(), 4);
}

#[test]
fn over_the_connection_limit_is_one_refusal_then_exit_4() {
    let service = service(|c| c.max_connections = 1);
    let held = std::os::unix::net::UnixStream::connect(&service.socket).unwrap();
    // Prove the first connection is registered before the second arrives.
    (&held)
        .write_all(line(1, Severity::Major).as_bytes())
        .unwrap();
    let mut answer = String::new();
    BufReader::new(&held).read_line(&mut answer).unwrap();
    assert!(answer.contains("accepted"), "{answer}");

    let input: String = (2..5).map(|id| line(id, Severity::Major)).collect();
    let (summary, out) = send(&input, &unix(&service.socket));
    assert!(
        out.starts_with(
            "1: {\"status\":\"refused\",\"field\":null,\"error\":\"too many connections (1 open)\""
        ),
        "{out}"
    );
    assert_eq!(summary.refused, 1);
    assert_eq!(summary.exit_code(), 4);
}
