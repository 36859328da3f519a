//! The control API end to end over loopback HTTP: faults added at run time fire and count;
//! events are listed, searched, counted and cleared; stats add up.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use icsfwd_sim::splunk::hec::Token;
use serde_json::{Value, json};

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

fn emulator() -> RunningEmulator {
    let mut config = EmulatorConfig::default();
    config.hec.tokens.push(Token::new("ot", TOKEN));
    config.hec.indexes.push("ot".to_owned());
    config.fault_seed = 77;
    Emulator::start(config).unwrap()
}

/// One request with `Connection: close`; the status and the body.
fn call(addr: SocketAddr, method: &str, target: &str, body: &str) -> (u16, String) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Splunk {TOKEN}\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body.as_bytes()).unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    let status = reply.split(' ').nth(1).unwrap().parse().unwrap();
    let body = reply.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

fn json_call(addr: SocketAddr, method: &str, target: &str, body: &str) -> (u16, Value) {
    let (status, body) = call(addr, method, target, body);
    (status, serde_json::from_str(&body).unwrap())
}

fn post_event(emulator: &RunningEmulator, envelope: &Value) -> u16 {
    call(
        emulator.hec_addr(),
        "POST",
        "/services/collector/event",
        &envelope.to_string(),
    )
    .0
}

#[test]
fn a_fault_added_over_http_fires_counts_and_is_removed() {
    let emulator = emulator();
    let control = emulator.control_addr();
    let (status, added) = json_call(
        control,
        "POST",
        "/_sim/faults",
        "hec:status=503,code=9,next=2",
    );
    assert_eq!(status, 201);
    assert_eq!(
        added,
        json!({"id": 1, "spec": "hec:status=503,code=9,next=2"})
    );
    let event = json!({"event": "x"});
    assert_eq!(post_event(&emulator, &event), 503);
    let (_, listed) = json_call(control, "GET", "/_sim/faults", "");
    assert_eq!(listed["seed"], 77);
    assert_eq!(listed["faults"][0]["fired"], 1);
    assert_eq!(listed["faults"][0]["state"], "active");
    assert_eq!(listed["faults"][0]["fault"]["http"], 503);
    assert_eq!(
        json_call(control, "DELETE", "/_sim/faults/1", "").1,
        json!({"removed": 1})
    );
    assert_eq!(post_event(&emulator, &event), 200);
    assert_eq!(json_call(control, "DELETE", "/_sim/faults/1", "").0, 404);
}

#[test]
fn faults_can_be_posted_as_json_and_cleared_all_at_once() {
    let emulator = emulator();
    let control = emulator.control_addr();
    let body = r#"{"target":"all","action":"status","http":429,"retry_after":5}"#;
    let (status, added) = json_call(control, "POST", "/_sim/faults", body);
    assert_eq!(status, 201);
    assert_eq!(added["spec"], "all:status=429,retry-after=5");
    assert_eq!(post_event(&emulator, &json!({"event": "x"})), 429);
    json_call(control, "POST", "/_sim/faults", "splunkd:slow=1");
    assert_eq!(
        json_call(control, "DELETE", "/_sim/faults", "").1,
        json!({"removed": 2})
    );
    assert_eq!(post_event(&emulator, &json!({"event": "x"})), 200);
}

#[test]
fn a_bad_fault_is_refused_with_what_was_wrong_and_what_to_send() {
    let emulator = emulator();
    for body in ["hec:explode", "{\"target\":\"hec\"}", "{not json", ""] {
        let (status, answer) = json_call(emulator.control_addr(), "POST", "/_sim/faults", body);
        assert_eq!(status, 400, "{body}");
        assert!(answer["error"].as_str().unwrap().len() > 5, "{body}");
        assert!(answer["hint"].as_str().unwrap().contains("hec:status=503"));
    }
    assert!(emulator.faults().list().is_empty());
}

#[test]
fn events_are_listed_newest_last_searched_counted_and_cleared() {
    let emulator = emulator();
    let control = emulator.control_addr();
    for envelope in [
        json!({"event": "plc stop", "index": "ot", "host": "plc1", "sourcetype": "alert"}),
        json!({"event": "login fail", "index": "main", "host": "hmi", "sourcetype": "alert"}),
        json!({"event": "plc start", "index": "ot", "host": "plc1", "source": "s7"}),
    ] {
        assert_eq!(post_event(&emulator, &envelope), 200);
    }
    let (_, all) = json_call(control, "GET", "/_sim/events", "");
    assert_eq!(all["matched"], 3);
    assert_eq!(all["events"][2]["event"], "plc start", "newest last");
    let (_, last) = json_call(control, "GET", "/_sim/events?index=ot&limit=1", "");
    assert_eq!(
        (
            last["matched"].clone(),
            last["events"].as_array().unwrap().len()
        ),
        (json!(2), 1)
    );
    assert_eq!(last["events"][0]["event"], "plc start");
    for (query, matched) in [
        ("contains=plc", 2),
        ("host=hmi", 1),
        ("source=s7", 1),
        ("sourcetype=alert&index=ot", 1),
        ("receiver=hec", 3),
        ("receiver=stream", 0),
    ] {
        let (_, found) = json_call(control, "GET", &format!("/_sim/events?{query}"), "");
        assert_eq!(found["matched"], matched, "{query}");
    }
    let (_, counts) = json_call(control, "GET", "/_sim/events/count?by=index", "");
    assert_eq!(
        counts,
        json!({"by": "index", "total": 3, "counts": {"ot": 2, "main": 1}})
    );
    assert_eq!(
        json_call(control, "GET", "/_sim/events/count?by=colour", "").0,
        400
    );
    assert_eq!(
        json_call(control, "GET", "/_sim/events?limit=99999", "").0,
        400
    );
    assert_eq!(
        json_call(control, "DELETE", "/_sim/events", "").1,
        json!({"removed": 3})
    );
    assert_eq!(
        json_call(control, "GET", "/_sim/events", "").1["matched"],
        0
    );
}

#[test]
fn stats_count_requests_by_server_and_status_and_report_the_store() {
    let emulator = emulator();
    let control = emulator.control_addr();
    json_call(control, "POST", "/_sim/faults", "hec:reset,next=1");
    let mut conn = TcpStream::connect(emulator.hec_addr()).unwrap();
    conn.write_all(b"GET /services/collector/health HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut nothing = Vec::new();
    drop(conn.read_to_end(&mut nothing));
    post_event(&emulator, &json!({"event": "x"}));
    call(emulator.splunkd_addr(), "GET", "/services/server/info", "");
    let (_, stats) = json_call(control, "GET", "/_sim/stats", "");
    assert_eq!(stats["requests"]["hec"], json!({"200": 1, "reset": 1}));
    assert_eq!(stats["requests"]["splunkd"].as_object().unwrap().len(), 1);
    assert_eq!(stats["events"], json!({"stored": 1, "dropped": 0}));
    assert_eq!(stats["pending_acks"], 0);
    assert_eq!(stats["faults"], 1);
}

#[test]
fn unknown_endpoints_and_methods_answer_json_errors() {
    let emulator = emulator();
    let control = emulator.control_addr();
    let (status, answer) = json_call(control, "GET", "/_sim/nothing", "");
    assert_eq!(status, 404);
    assert!(answer["hint"].as_str().unwrap().contains("/_sim/events"));
    assert_eq!(json_call(control, "PUT", "/_sim/faults", "").0, 405);
    assert_eq!(json_call(control, "DELETE", "/_sim/faults/abc", "").0, 400);
}

#[test]
fn an_index_created_at_run_time_takes_events_that_were_refused_with_code_7() {
    let emulator = emulator();
    let control = emulator.control_addr();
    let event = json!({"event": "x", "index": "ics"});
    let (status, body) = call(
        emulator.hec_addr(),
        "POST",
        "/services/collector/event",
        &event.to_string(),
    );
    assert_eq!(status, 400);
    assert!(body.contains(r#""code":7"#), "{body}");
    assert!(
        !emulator
            .splunkd()
            .lock()
            .unwrap()
            .config()
            .indexes
            .contains(&"ics".to_owned())
    );

    assert_eq!(
        json_call(control, "POST", "/_sim/indexes", "ics"),
        (201, json!({"index": "ics", "created": true}))
    );
    assert_eq!(
        json_call(control, "POST", "/_sim/indexes", "ics"),
        (200, json!({"index": "ics", "created": false}))
    );
    assert_eq!(post_event(&emulator, &event), 200);
    assert!(
        emulator
            .splunkd()
            .lock()
            .unwrap()
            .config()
            .indexes
            .contains(&"ics".to_owned())
    );
    let (_, counted) = json_call(control, "GET", "/_sim/events/count?by=index", "");
    assert_eq!(counted["counts"], json!({"ics": 1}));

    let (status, answer) = json_call(control, "POST", "/_sim/indexes", "no such/index");
    assert_eq!(status, 400);
    assert!(
        answer["hint"].as_str().unwrap().contains("letters"),
        "{answer}"
    );
    assert!(!emulator.create_index("ics"), "exists already");
    assert!(emulator.create_index("ics2"));
}
