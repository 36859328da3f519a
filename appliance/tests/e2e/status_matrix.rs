//! The status matrix: every row of "How each Splunk answer is handled" in
//! `docs/operations.md` (the table of `appliance/src/destination/classify.rs`), produced against the
//! TLS emulator with the real `icsfwd run` binary, does what the row says:
//!
//! - **delivered**: the alert is in the emulator's store once, `delivered` is 1;
//! - **retried**: while the fault lasts the destination retries (`retries` grows, state
//!   `retrying`) and nothing is lost; once the fault is removed the alert is delivered;
//! - **parked**: state `parked` with the reason the row names in `icsfwd status --json`, the
//!   alert kept in the backlog, `icsfwd status` exits non-zero;
//! - **dead-lettered**: the alert is in `<spool>/deadletter/<name>.jsonl` with the reason and
//!   counted in `dead_lettered`, and the backlog is empty.
//!
//! Each case has its own emulator, spool and service; cases run a few at a time. The last test
//! parses the tables of `docs/operations.md` and checks every row has a case here (and every
//! case a row), so the document and the test cannot drift.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use e2e::{Producer, Service, alert_line, scratch, socket_of, wait_for_status};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig};
use icsfwd_sim::splunk::store::{Filter, ReceiverKind};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Hec,
    Splunkd,
}

#[derive(Clone, Debug)]
enum Expect {
    Delivered,
    /// Retried while the fault lasts, delivered after it is removed; `duplicate`: the request
    /// may have been indexed (counted as a possible duplicate).
    Retried {
        duplicate: bool,
    },
    /// Parked, the status reason containing this.
    Parked(&'static str),
    DeadLettered,
}

struct Case {
    /// The row's first cell in docs/operations.md, exactly.
    row: &'static str,
    kind: Kind,
    /// Emulator faults added before the service starts (removed for `Retried`).
    faults: &'static [&'static str],
    /// Lines added to the destination's table.
    destination: &'static str,
    /// Another CA than the emulator's.
    wrong_ca: bool,
    /// The largest request body HEC takes (an oversized event).
    hec_max_content: Option<usize>,
    /// The alert carries a message of this many bytes.
    message_len: usize,
    /// The server indexes what it is sent although the answer parks the destination.
    indexed: bool,
    expect: Expect,
}

const fn case(
    row: &'static str,
    kind: Kind,
    faults: &'static [&'static str],
    expect: Expect,
) -> Case {
    Case {
        row,
        kind,
        faults,
        destination: "",
        wrong_ca: false,
        hec_max_content: None,
        message_len: 0,
        indexed: false,
        expect,
    }
}

use Expect::{DeadLettered, Delivered, Parked, Retried};
use Kind::{Hec, Splunkd};

const RETRIED: Expect = Retried { duplicate: false };

const NOT_HEC: &str =
    "`2xx that is not HEC's reply (an HTML page, an empty body, other JSON or text)`";
const NOT_SPLUNKD: &str =
    "`splunkd 2xx without its receipt (an HTML page, an empty body, other JSON or text)`";

fn hec_cases() -> Vec<Case> {
    let ack = "ack = true\ntoken = \"0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b\"";
    vec![
        case("`200, code 0`", Hec, &[], Delivered),
        case(
            NOT_HEC,
            Hec,
            &["hec:status=200,body=html,path=/services/collector/event"],
            Parked("answered 200 with an HTML page: is the URL Splunk's HEC port?"),
        ),
        Case {
            destination: ack,
            ..case(
                NOT_HEC,
                Hec,
                &["hec:status=200,body=empty,path=/services/collector/event"],
                Parked("answered 200 with an empty body: is the URL Splunk's HEC port?"),
            )
        },
        case(
            NOT_HEC,
            Hec,
            &["hec:status=201,body=json,path=/services/collector/event"],
            Parked("answered 201 with JSON that is not HEC's reply"),
        ),
        case(
            NOT_HEC,
            Hec,
            &["hec:status=200,body=text,path=/services/collector/event"],
            Parked("answered 200 with text that is neither JSON nor HTML"),
        ),
        Case {
            // The real answer for an index HEC does not have: code 7.
            destination: "index = \"nosuchindex\"",
            ..case(
                "`400, code 7`",
                Hec,
                &[],
                Parked(
                    "index missing (HTTP 400, HEC code 7 \"Incorrect index\"): the index \"nosuchindex\"",
                ),
            )
        },
        Case {
            destination: ack,
            ..case("`200 with an ackId` (`ack = true`)", Hec, &[], Delivered)
        },
        Case {
            destination: ack,
            ..case(
                "`200 without an ackId` (`ack = true`)",
                Hec,
                &["hec:status=200,path=/services/collector/event"],
                Parked("acks requested but the reply has no ackId"),
            )
        },
        case(
            "`400, code 5, 6, 12, 13 or 15` (a data error)",
            Hec,
            &["hec:status=400,code=6,next=1,path=/services/collector/event"],
            DeadLettered,
        ),
        case(
            "`400, code 5, 6, 12, 13 or 15` (a data error)",
            Hec,
            &["hec:status=400,code=12,next=1,path=/services/collector/event"],
            DeadLettered,
        ),
        case(
            "`400, code 10 or 11`",
            Hec,
            &["hec:status=400,code=11,path=/services/collector/event"],
            Parked("channel refused"),
        ),
        Case {
            // Ack disabled on the token while `ack = true`: the real emulator (like Splunk)
            // answers the event request 200 without an ackId, and indexes the events: each
            // slow resend while parked indexes them again.
            destination: "ack = true",
            indexed: true,
            ..case(
                "`200 without an ackId` (`ack = true`)",
                Hec,
                &[],
                Parked("acks requested but the reply has no ackId"),
            )
        },
        Case {
            destination: ack,
            ..case(
                "`400, code 14`",
                Hec,
                &["hec:status=400,code=14,path=/services/collector/event"],
                Parked("ACK is disabled on the token"),
            )
        },
        case(
            "`400, code 16, 21, 22, another or none`",
            Hec,
            &["hec:status=400,code=21,path=/services/collector/event"],
            Parked("request refused"),
        ),
        Case {
            // The real answer to an unknown token.
            destination: "token = \"00000000-1111-2222-3333-444444444444\"",
            ..case(
                "`401 or 403` (code 1, 2, 3, 4)",
                Hec,
                &[],
                Parked("credentials rejected"),
            )
        },
        case(
            "`401 or 403` (code 1, 2, 3, 4)",
            Hec,
            &["hec:status=401,code=2,path=/services/collector/event"],
            Parked("credentials rejected"),
        ),
        case(
            "`404`",
            Hec,
            &["hec:status=404,path=/services/collector/event"],
            RETRIED,
        ),
        case(
            "`408`",
            Hec,
            &["hec:status=408,path=/services/collector/event"],
            RETRIED,
        ),
        Case {
            // A real oversized event: HEC's max_content_length below the event's size.
            hec_max_content: Some(1_000),
            message_len: 1_500,
            ..case("`413`", Hec, &[], DeadLettered)
        },
        case(
            "`429` (code 26, 27)",
            Hec,
            &["hec:status=429,code=26,retry-after=1,path=/services/collector/event"],
            RETRIED,
        ),
        case(
            "`500, 502, 503 or 504` (code 8, 9, 18–20, 23)",
            Hec,
            &["hec:status=503,code=9,path=/services/collector/event"],
            RETRIED,
        ),
        case(
            "`another 5xx`",
            Hec,
            &["hec:status=507,path=/services/collector/event"],
            RETRIED,
        ),
        case(
            "`3xx`",
            Hec,
            &["hec:status=302,path=/services/collector/event"],
            Parked("unexpected redirect"),
        ),
        case(
            "`another 1xx or 4xx`",
            Hec,
            &["hec:status=418,path=/services/collector/event"],
            Parked("unexpected reply"),
        ),
    ]
}

fn splunkd_cases() -> Vec<Case> {
    vec![
        case(
            "`splunkd 2xx with its receipt` (the `index` and `bytes` of the event)",
            Splunkd,
            &[],
            Delivered,
        ),
        case(
            NOT_SPLUNKD,
            Splunkd,
            &["splunkd:status=200,body=html,path=/services/receivers"],
            Parked("answered 200 with an HTML page: is it splunkd's management port?"),
        ),
        case(
            NOT_SPLUNKD,
            Splunkd,
            &["splunkd:status=200,body=empty,path=/services/receivers"],
            Parked("answered 200 with an empty body"),
        ),
        case(
            NOT_SPLUNKD,
            Splunkd,
            &["splunkd:status=200,body=json,path=/services/receivers"],
            Parked("answered 200 with JSON that is not splunkd's receipt"),
        ),
        Case {
            // The real answer for an index splunkd does not have.
            destination: "index = \"nosuchindex\"",
            ..case(
                "`splunkd 400 naming an index`",
                Splunkd,
                &[],
                Parked("index missing (HTTP 400 \"supplied index 'nosuchindex' missing\")"),
            )
        },
        case(
            "`splunkd 400 otherwise`",
            Splunkd,
            &["splunkd:status=400,next=1,path=/services/receivers"],
            DeadLettered,
        ),
        Case {
            // The real answer to a wrong password.
            destination: "password = \"not-the-password\"",
            ..case(
                "`splunkd 401`",
                Splunkd,
                &[],
                Parked("credentials rejected"),
            )
        },
        case(
            "`splunkd 403`",
            Splunkd,
            &["splunkd:status=403,path=/services/receivers"],
            Parked("forbidden"),
        ),
        case(
            "`splunkd 404`",
            Splunkd,
            &["splunkd:status=404,path=/services/receivers"],
            Parked("not found"),
        ),
        case(
            "`splunkd 408, 429 or 5xx`",
            Splunkd,
            &["splunkd:status=503,path=/services/receivers"],
            RETRIED,
        ),
        case(
            "`splunkd 408, 429 or 5xx`",
            Splunkd,
            &["splunkd:status=429,retry-after=1,path=/services/receivers"],
            RETRIED,
        ),
        case(
            "`splunkd 413`",
            Splunkd,
            &["splunkd:status=413,next=1,path=/services/receivers"],
            DeadLettered,
        ),
        case(
            "`splunkd 3xx or another status`",
            Splunkd,
            &["splunkd:status=302,path=/services/receivers"],
            Parked("unexpected reply"),
        ),
    ]
}

fn no_reply_cases() -> Vec<Case> {
    vec![
        case(
            "connection refused (server down)",
            Hec,
            &["hec:down"],
            RETRIED,
        ),
        case(
            "connection refused (server down)",
            Splunkd,
            &["splunkd:down"],
            RETRIED,
        ),
        case(
            "connection reset before an answer",
            Hec,
            &["hec:reset,path=/services/collector/event"],
            Retried { duplicate: true },
        ),
        case(
            "response lost after the request was indexed",
            Hec,
            &["hec:lost-response,path=/services/collector/event"],
            Retried { duplicate: true },
        ),
        Case {
            destination: "response_timeout = \"500ms\"",
            ..case(
                "no answer within `response_timeout`",
                Hec,
                &["hec:hang,path=/services/collector/event"],
                Retried { duplicate: true },
            )
        },
        Case {
            wrong_ca: true,
            ..case(
                "TLS verification failed (untrusted certificate, wrong name)",
                Hec,
                &[],
                Parked("TLS verification failed"),
            )
        },
    ]
}

/// A splunkd destination taking every alert.
fn write_splunkd_config(dir: &Path, ca: &Path, port: u16, extra: &str) -> PathBuf {
    let password = if extra.contains("password") {
        String::new()
    } else {
        format!("password = \"{}\"\n", support::PASSWORD)
    };
    let text = format!(
        r#"[sensor]
name = "sensor-plant-a"
ip = "10.20.0.5"

[[destination]]
name = "soc-splunkd"
kind = "splunk"
host = "localhost"
port = {port}
username = "{user}"
{password}ca_file = "{ca}"
retry_min = "50ms"
retry_max = "300ms"
{extra}

[[rule]]
name = "everything to splunkd"
actions = ["soc-splunkd"]

[spool]
dir = "{spool}"

[ingest]
socket = "{socket}"
"#,
        user = support::USER,
        ca = ca.display(),
        spool = dir.join("spool").display(),
        socket = socket_of(dir).display(),
    );
    fs::create_dir_all(dir.join("run")).unwrap();
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The one alert each case sends.
fn the_alert(message_len: usize) -> String {
    let mut alert: serde_json::Map<String, Value> =
        serde_json::from_str(&alert_line(1, "Critical", "PLC stop")).unwrap();
    if message_len > 0 {
        alert.insert("message".into(), Value::from("m".repeat(message_len)));
    }
    serde_json::to_string(&alert).unwrap()
}

fn run_case(number: usize, case: &Case) {
    let tls = support::Tls::new();
    let mut emulator_config: EmulatorConfig = support::config(&tls);
    if let Some(max) = case.hec_max_content {
        emulator_config.hec.max_content_length = max;
    }
    let emulator = Emulator::start(emulator_config).unwrap();
    let faults: Vec<u64> = case
        .faults
        .iter()
        .map(|f| emulator.faults().add(f.parse().unwrap()).unwrap())
        .collect();
    let other_ca = support::Tls::new();
    let ca = if case.wrong_ca { &other_ca } else { &tls };
    let dir = scratch(&format!("matrix-{number}"));
    let (config, name, receiver) = match case.kind {
        Kind::Hec => (
            e2e::write_hec_config(&dir, ca, emulator.hec_addr().port(), case.destination, ""),
            "soc-hec",
            ReceiverKind::Hec,
        ),
        Kind::Splunkd => (
            write_splunkd_config(
                &dir,
                &ca.ca_file,
                emulator.splunkd_addr().port(),
                case.destination,
            ),
            "soc-splunkd",
            ReceiverKind::Simple,
        ),
    };
    let service = Service::start(&config);
    let mut producer = Producer::connect(&socket_of(&dir));
    let answer = producer
        .exchange(the_alert(case.message_len).as_bytes())
        .unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    let stored = || {
        emulator
            .store()
            .list(&Filter::default())
            .iter()
            .filter(|r| r.receiver == receiver)
            .count()
    };
    let dest = |s: &Value| s["destinations"][0].clone();

    match &case.expect {
        Expect::Delivered => {
            let status = wait_for_status("delivery", &config, WAIT, |s| {
                dest(s)["delivered"] == 1 && dest(s)["backlog"] == 0
            });
            assert_eq!(dest(&status)["dead_lettered"], 0, "{status}");
            assert_eq!(stored(), 1, "delivered once");
        }
        Expect::Retried { duplicate } => {
            let status = wait_for_status("retries", &config, WAIT, |s| {
                dest(s)["retries"].as_u64().unwrap_or(0) >= 2
            });
            assert_eq!(dest(&status)["backlog"], 1, "kept while retrying: {status}");
            assert!(dest(&status)["last_error"].is_string(), "{status}");
            assert_ne!(dest(&status)["state"], "parked", "{status}");
            if !duplicate {
                assert_eq!(stored(), 0, "nothing indexed while the fault lasts");
            }
            for id in faults {
                assert!(emulator.faults().remove(id));
            }
            let status = wait_for_status("delivery after the fault", &config, WAIT, |s| {
                dest(s)["delivered"] == 1 && dest(s)["backlog"] == 0
            });
            assert_eq!(dest(&status)["dead_lettered"], 0, "{status}");
            if *duplicate {
                assert!(stored() >= 1, "delivered");
                assert!(
                    dest(&status)["possible_duplicates"].as_u64().unwrap() >= 1,
                    "an uncertain send is counted: {status}"
                );
            } else {
                assert_eq!(stored(), 1, "delivered once");
                assert_eq!(dest(&status)["possible_duplicates"], 0, "{status}");
            }
        }
        Expect::Parked(reason) => {
            let status = wait_for_status("parked", &config, WAIT, |s| dest(s)["state"] == "parked");
            let shown = dest(&status)["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(shown.contains(reason), "reason {shown:?} lacks {reason:?}");
            assert_eq!(dest(&status)["backlog"], 1, "kept while parked: {status}");
            assert_eq!(dest(&status)["dead_lettered"], 0, "{status}");
            if case.indexed {
                // Every copy beyond the first is a resend the counter explains.
                let status = wait_for_status("a resend while parked", &config, WAIT, |s| {
                    stored() >= 2 && dest(s)["possible_duplicates"].as_u64().unwrap_or(0) >= 1
                });
                let counted = dest(&status)["possible_duplicates"].as_u64().unwrap();
                let copies = stored() as u64;
                assert!(
                    copies - 1 <= counted + 1,
                    "{copies} copies but {counted} counted (one resend may be in flight): {status}"
                );
            } else {
                assert_eq!(stored(), 0, "nothing indexed");
            }
            let exit = e2e::icsfwd(&["status", "-c", config.to_str().unwrap()]);
            assert!(!exit.status.success(), "status exits non-zero while parked");
            support::assert_no_secret(&[status.to_string()]);
        }
        Expect::DeadLettered => {
            let status = wait_for_status("dead-lettered", &config, WAIT, |s| {
                dest(s)["dead_lettered"] == 1 && dest(s)["backlog"] == 0
            });
            assert_eq!(dest(&status)["delivered"], 0, "{status}");
            let file = dir
                .join("spool")
                .join("deadletter")
                .join(format!("{name}.jsonl"));
            let text = fs::read_to_string(&file).unwrap();
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(lines.len(), 1, "{text}");
            assert_eq!(lines[0]["destination"], name);
            assert_eq!(lines[0]["event"]["id"], 1, "{text}");
            assert!(
                lines[0]["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "{text}"
            );
            assert_eq!(stored(), 0, "nothing indexed");
        }
    }
    drop(service);
}

/// Runs the cases a few at a time; reports every failing row at once.
fn run_all(table: &str, cases: &[Case]) {
    let failures = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut next = next.lock().unwrap();
                        *next += 1;
                        *next - 1
                    };
                    let Some(case) = cases.get(i) else { break };
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_case(i + table.len() * 100, case);
                    }));
                    if let Err(panic) = result {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        failures.lock().unwrap().push(format!(
                            "{} ({:?}, {:?}): {message}",
                            case.row, case.faults, case.expect
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{table} rows failing:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_hec_answer_row_does_what_operations_md_says() {
    run_all("hec", &hec_cases());
}

#[test]
fn every_splunkd_answer_row_does_what_operations_md_says() {
    run_all("splunkd", &splunkd_cases());
}

#[test]
fn every_no_reply_row_does_what_operations_md_says() {
    run_all("no-reply", &no_reply_cases());
}

/// The first cell of every row of the tables in the "How each Splunk answer is handled"
/// section of docs/operations.md.
fn documented_rows() -> BTreeSet<String> {
    let doc = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    let start = doc.find("## How each Splunk answer is handled").unwrap();
    let section = &doc[start + 3..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1).map(str::trim))
        .filter(|cell| *cell != "answer" && !cell.starts_with("---"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_row_of_the_operations_table_has_a_case_and_every_case_a_row() {
    let documented = documented_rows();
    assert!(documented.len() >= 25, "{documented:?}");
    let tested: BTreeSet<String> = hec_cases()
        .iter()
        .chain(&splunkd_cases())
        .chain(&no_reply_cases())
        .map(|c| c.row.to_owned())
        .collect();
    let untested: Vec<_> = documented.difference(&tested).collect();
    let undocumented: Vec<_> = tested.difference(&documented).collect();
    assert!(
        untested.is_empty(),
        "rows of docs/operations.md without a case: {untested:?}"
    );
    assert!(
        undocumented.is_empty(),
        "cases whose row is not in docs/operations.md: {undocumented:?}"
    );
}
