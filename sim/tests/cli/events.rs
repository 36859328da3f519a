//! `icsfwd-sim events`, `fault` and `stats` run as a user would, against an emulator started
//! in-process: they list, search, count and clear what HEC received, and add, list and remove
//! faults that the next HEC request meets; exit codes say whose fault a failure is.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use icsfwd_sim::splunk::hec::Token;
use serde_json::{Value, json};

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

fn emulator() -> RunningEmulator {
    let mut config = EmulatorConfig::default();
    config.hec.tokens.push(Token::new("ot", TOKEN));
    config.hec.indexes.push("ot".to_owned());
    Emulator::start(config).unwrap()
}

/// Posts one HEC envelope over plain TCP; the status and body of the answer.
fn post(emulator: &RunningEmulator, envelope: &Value) -> (u16, String) {
    let body = envelope.to_string();
    let mut conn = TcpStream::connect(emulator.hec_addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /services/collector/event HTTP/1.1\r\nHost: x\r\nAuthorization: Splunk {TOKEN}\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body.as_bytes()).unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    let status = reply.split(' ').nth(1).unwrap().parse().unwrap();
    (status, reply.split_once("\r\n\r\n").unwrap().1.to_owned())
}

/// Three events: two in `ot` (one modbus, one dnp3), one modbus in `main`.
fn post_plant_events(emulator: &RunningEmulator) {
    for envelope in [
        json!({"time": 1_700_000_000.5, "index": "ot", "host": "plc-1", "sourcetype": "modbus",
               "event": "write coil 7 on PLC-1"}),
        json!({"time": 1_700_000_001, "index": "ot", "host": "plc-2", "sourcetype": "dnp3",
               "event": "cold restart\nsecond line"}),
        json!({"time": 1_700_000_002, "index": "main", "host": "plc-1", "sourcetype": "modbus",
               "event": {"function": "read holding registers"}}),
    ] {
        assert_eq!(post(emulator, &envelope).0, 200, "{envelope}");
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn sim(control: SocketAddr, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args(args)
        .args(["--control", &control.to_string()])
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn ok(control: SocketAddr, args: &[&str]) -> String {
    let run = sim(control, args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    run.stdout
}

#[test]
fn listing_with_filters_shows_exactly_the_matching_events_one_line_each() {
    let emulator = emulator();
    post_plant_events(&emulator);
    let first = "2023-11-14T22:13:20.500Z ot modbus plc-1 write coil 7 on PLC-1";
    let second = "2023-11-14T22:13:21.000Z ot dnp3 plc-2 cold restart…";
    let third =
        r#"2023-11-14T22:13:22.000Z main modbus plc-1 {"function":"read holding registers"}"#;
    let cases: [(&[&str], Vec<&str>); 7] = [
        (&["events"], vec![first, second, third]),
        (&["events", "--index", "ot"], vec![first, second]),
        (&["events", "--sourcetype", "modbus"], vec![first, third]),
        (
            &["events", "--host", "plc-1", "--index", "main"],
            vec![third],
        ),
        (
            &["events", "--receiver", "hec", "--limit", "1"],
            vec![third],
        ),
        (&["events", "--source", "nowhere"], vec![]),
        (&["events", "--index", "o"], vec![]),
    ];
    for (args, expected) in cases {
        let stdout = ok(emulator.control_addr(), args);
        assert_eq!(stdout.lines().collect::<Vec<_>>(), expected, "{args:?}");
    }
}

#[test]
fn json_lines_carry_the_whole_stored_events() {
    let emulator = emulator();
    post_plant_events(&emulator);
    let stdout = ok(
        emulator.control_addr(),
        &["events", "--json", "--sourcetype", "dnp3"],
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["event"], "cold restart\nsecond line");
    assert_eq!(lines[0]["host"], "plc-2");
    assert_eq!(lines[0]["time_ms"], 1_700_000_001_000_u64);
}

#[test]
fn contains_searches_the_payload_text() {
    let emulator = emulator();
    post_plant_events(&emulator);
    let cases: [(&str, usize); 4] = [
        ("coil 7", 1),
        ("holding registers", 1),
        ("PLC", 1),
        ("not sent anywhere", 0),
    ];
    for (text, expected) in cases {
        let stdout = ok(emulator.control_addr(), &["events", "--contains", text]);
        assert_eq!(stdout.lines().count(), expected, "{text}");
        assert!(stdout.lines().all(|line| line.contains(text)), "{text}");
    }
}

#[test]
fn count_by_prints_a_table_of_exact_counts() {
    let emulator = emulator();
    post_plant_events(&emulator);
    let table = ok(
        emulator.control_addr(),
        &["events", "--count-by", "sourcetype"],
    );
    assert_eq!(table, "SOURCETYPE  COUNT\ndnp3        1\nmodbus      2\n");
    let filtered = ok(
        emulator.control_addr(),
        &[
            "events",
            "--count-by",
            "index",
            "--sourcetype",
            "modbus",
            "--json",
        ],
    );
    let answer: Value = serde_json::from_str(&filtered).unwrap();
    assert_eq!(answer["total"], 2);
    assert_eq!(answer["counts"], json!({"main": 1, "ot": 1}));
}

#[test]
fn events_clear_empties_the_store() {
    let emulator = emulator();
    post_plant_events(&emulator);
    let run = sim(emulator.control_addr(), &["events", "--clear"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("removed 3 events"), "{}", run.stderr);
    assert!(emulator.store().is_empty());
    assert_eq!(ok(emulator.control_addr(), &["events"]), "");
}

#[test]
fn an_added_fault_fails_the_next_hec_request_as_specified_and_is_listed_as_fired_once() {
    let emulator = emulator();
    let control = emulator.control_addr();
    let id = ok(control, &["fault", "add", "hec:status=503,code=9,next=1"]);
    assert_eq!(id, "1\n");
    let event = json!({"event": "x"});
    assert_eq!(
        post(&emulator, &event),
        (503, r#"{"text":"Server is busy","code":9}"#.to_owned())
    );
    assert_eq!(post(&emulator, &event).0, 200);
    assert_eq!(
        ok(control, &["fault", "list"]),
        "ID     FIRED  STATE    SPEC\n1      1      spent    hec:status=503,code=9,next=1\n"
    );
    let listed: Value = serde_json::from_str(&ok(control, &["fault", "list", "--json"])).unwrap();
    assert_eq!(listed["faults"][0]["fired"], 1);
}

#[test]
fn fault_rm_and_clear_remove_faults_so_requests_succeed_again() {
    let emulator = emulator();
    let control = emulator.control_addr();
    let first = ok(control, &["fault", "add", "hec:status=500"]);
    assert_eq!(post(&emulator, &json!({"event": "x"})).0, 500);
    ok(control, &["fault", "rm", first.trim()]);
    assert!(emulator.faults().list().is_empty());
    assert_eq!(post(&emulator, &json!({"event": "x"})).0, 200);

    let gone = sim(control, &["fault", "rm", first.trim()]);
    assert_eq!(gone.code, 2, "{}", gone.stderr);
    assert!(gone.stderr.contains("no fault with id"), "{}", gone.stderr);

    ok(control, &["fault", "add", "hec:status=503"]);
    ok(control, &["fault", "add", "splunkd:slow=10"]);
    let cleared = sim(control, &["fault", "clear"]);
    assert_eq!(cleared.code, 0, "{}", cleared.stderr);
    assert!(
        cleared.stderr.contains("removed 2 faults"),
        "{}",
        cleared.stderr
    );
    assert!(emulator.faults().list().is_empty());
    assert_eq!(post(&emulator, &json!({"event": "x"})).0, 200);
}

#[test]
fn a_bad_fault_spec_exits_2_saying_what_is_allowed() {
    let emulator = emulator();
    let run = sim(emulator.control_addr(), &["fault", "add", "hec:explode"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("allowed are down"), "{}", run.stderr);
    assert!(run.stderr.contains("hec:status=503"), "{}", run.stderr);
    assert!(emulator.faults().list().is_empty());
}

#[test]
fn bad_arguments_exit_2_before_any_request() {
    let emulator = emulator();
    let cases: [&[&str]; 3] = [
        &["events", "--clear", "--index", "ot"],
        &["events", "--count-by", "colour"],
        &["fault", "rm", "one"],
    ];
    for args in cases {
        assert_eq!(sim(emulator.control_addr(), args).code, 2, "{args:?}");
    }
}

#[test]
fn an_unreachable_control_port_exits_1_with_the_hint() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let cases: [&[&str]; 4] = [
        &["events"],
        &["events", "--clear"],
        &["fault", "list"],
        &["stats"],
    ];
    for args in cases {
        let run = sim(closed, args);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(
            run.stderr.contains("is `icsfwd-sim splunk` running?")
                && run.stderr.contains("--control-port"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn stats_print_the_request_counts_and_the_store_as_json() {
    let emulator = emulator();
    post_plant_events(&emulator);
    let stats: Value = serde_json::from_str(&ok(emulator.control_addr(), &["stats"])).unwrap();
    assert_eq!(stats["requests"]["hec"]["200"], 3);
    assert_eq!(stats["events"]["stored"], 3);
    assert_eq!(stats["faults"], 0);
}

#[test]
fn control_characters_in_received_events_are_escaped_not_printed() {
    let emulator = emulator();
    let envelope = json!({"time": 0, "host": "h\u{1b}]0;x\u{7}", "event": "\u{1b}[31mred\tcell"});
    assert_eq!(post(&emulator, &envelope).0, 200);
    let stdout = ok(emulator.control_addr(), &["events"]);
    assert_eq!(
        stdout,
        "1970-01-01T00:00:00.000Z main httpevent h\\u{1b}]0;x\\u{7} \\u{1b}[31mred\\tcell\n"
    );
}
