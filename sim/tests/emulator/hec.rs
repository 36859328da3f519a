//! HEC protocol behaviour, driven through `Hec::handle` (as `sim/src/splunk/hec.rs`
//! documents it), and through its steps `Hec::begin`, `Parse::run` and `Hec::finish`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::Write;

use icsfwd_sim::splunk::hec::{
    Code, Condition, EventBody, Hec, HecConfig, STATUS_TABLE, StoredEvent, Token,
};
use icsfwd_sim::splunk::http::{Request, Response};
use serde_json::json;

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
const ACK_TOKEN: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const DISABLED: &str = "dddddddd-0000-0000-0000-000000000000";
const QUERY_OK: &str = "99999999-0000-0000-0000-000000000000";
const LIMITED: &str = "77777777-0000-0000-0000-000000000000";
const CHANNEL: &str = "0AA2E3C4-5B6D-4E7F-8091-A2B3C4D5E6F7";
const OTHER_CHANNEL: &str = "00000000-0000-0000-0000-000000000001";
const NOW: u64 = 1_700_000_000_000;

fn config() -> HecConfig {
    let mut config = HecConfig {
        indexes: vec!["main".into(), "ot".into(), "secret".into()],
        ..HecConfig::default()
    };
    config.tokens.push(Token::new("plain", TOKEN));
    config.tokens.push(Token {
        use_ack: true,
        ..Token::new("acked", ACK_TOKEN)
    });
    config.tokens.push(Token {
        disabled: true,
        ..Token::new("off", DISABLED)
    });
    config.tokens.push(Token {
        allow_query_string_auth: true,
        ..Token::new("query", QUERY_OK)
    });
    config.tokens.push(Token {
        indexes: vec!["ot".into()],
        default_index: Some("ot".into()),
        default_sourcetype: Some("icsfwd:alert".into()),
        ..Token::new("limited", LIMITED)
    });
    config
}

fn hec() -> Hec {
    Hec::new(config())
}

fn post(path: &str, token: &str, body: &str) -> Request {
    Request::from_target("POST", path)
        .with_header("Authorization", &format!("Splunk {token}"))
        .with_body(body.as_bytes().to_vec())
}

fn event_post(token: &str, body: &str) -> Request {
    post("/services/collector/event", token, body)
}

fn acked_post(body: &str, channel: &str) -> Request {
    event_post(ACK_TOKEN, body).with_header("X-Splunk-Request-Channel", channel)
}

fn ack_query(channel: &str, ids: &str) -> Request {
    post(
        &format!("/services/collector/ack?channel={channel}"),
        ACK_TOKEN,
        &format!(r#"{{"acks":{ids}}}"#),
    )
}

fn health(query: &str) -> Request {
    Request::from_target("GET", &format!("/services/collector/health{query}"))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn run(hec: &mut Hec, req: &Request) -> (Response, Vec<StoredEvent>) {
    hec.handle(req, NOW)
}

fn hec_with(condition: Condition) -> Hec {
    let mut hec = hec();
    hec.condition = condition;
    hec
}

/// A collector and a request that provoke `code`, and what follows `"code":n` in the body;
/// `None` for codes nothing in the emulator produces yet.
fn provoke(code: Code) -> Option<(Hec, Request, &'static str)> {
    let ok = r#"{"event":"x"}"#;
    Some(match code {
        Code::Success => (hec(), event_post(TOKEN, ok), ""),
        Code::TokenDisabled => (hec(), event_post(DISABLED, ok), ""),
        Code::TokenRequired => (
            hec(),
            Request::from_target("POST", "/services/collector").with_body(ok.into()),
            "",
        ),
        Code::InvalidAuthorization => (
            hec(),
            Request::from_target("POST", "/services/collector")
                .with_header("Authorization", TOKEN)
                .with_body(ok.into()),
            "",
        ),
        Code::InvalidToken => (hec(), event_post("not-a-token", ok), ""),
        Code::NoData => (hec(), event_post(TOKEN, ""), ""),
        Code::InvalidDataFormat => (
            hec(),
            event_post(TOKEN, r#"{"event":"#),
            r#","invalid-event-number":0"#,
        ),
        Code::IncorrectIndex => (
            hec(),
            event_post(TOKEN, r#"{"event":"x","index":"nope"}"#),
            r#","invalid-event-number":0"#,
        ),
        Code::ServerBusy => (
            hec_with(Condition::QueuesFull),
            event_post(TOKEN, ok),
            r#","invalid-event-number":0"#,
        ),
        Code::DataChannelMissing => (hec(), event_post(ACK_TOKEN, ok), ""),
        Code::InvalidDataChannel => (hec(), acked_post(ok, "not-a-guid-at-all"), ""),
        Code::EventFieldRequired => (
            hec(),
            event_post(TOKEN, r#"{"host":"h"}"#),
            r#","invalid-event-number":0"#,
        ),
        Code::EventFieldBlank => (
            hec(),
            event_post(TOKEN, r#"{"event":""}"#),
            r#","invalid-event-number":0"#,
        ),
        Code::AckDisabled => (
            hec(),
            post("/services/collector/ack", TOKEN, r#"{"acks":[0]}"#),
            "",
        ),
        Code::IndexedFieldsError => (
            hec(),
            event_post(TOKEN, r#"{"event":"x","fields":{"a":{"nested":1}}}"#),
            r#","invalid-event-number":0"#,
        ),
        Code::QueryStringAuthDisabled => (
            hec(),
            Request::from_target("POST", &format!("/services/collector?token={TOKEN}"))
                .with_body(ok.into()),
            "",
        ),
        Code::Healthy => (hec(), health(""), ""),
        Code::UnhealthyQueuesFull => (hec_with(Condition::QueuesFull), health(""), ""),
        Code::UnhealthyAckUnavailable => (hec_with(Condition::AckUnavailable), health(""), ""),
        Code::UnhealthyQueuesFullAckUnavailable => (
            hec_with(Condition::QueuesFullAndAckUnavailable),
            health(""),
            "",
        ),
        Code::HealthInvalidToken => (hec(), health("?token=nope"), ""),
        Code::HealthTokenDisabled => (hec(), health(&format!("?token={DISABLED}")), ""),
        Code::ShuttingDown => (hec_with(Condition::ShuttingDown), event_post(TOKEN, ok), ""),
        Code::InternalServerError
        | Code::QueueNearCapacity
        | Code::AckNearCapacity
        | Code::QueueAtCapacity
        | Code::AckChannelAtCapacity => return None,
    })
}

#[test]
fn status_table_is_indexed_by_code_and_has_no_gaps() {
    for (number, row) in STATUS_TABLE.iter().enumerate() {
        assert_eq!(usize::from(row.code.number()), number);
        assert_eq!(row.code.row(), row);
        assert!(!row.text.is_empty());
    }
    assert_eq!(STATUS_TABLE.len(), 28);
}

#[test]
fn every_reachable_status_code_is_answered_with_its_exact_status_and_body() {
    let mut unreachable = Vec::new();
    for row in &STATUS_TABLE {
        let Some((mut hec, req, extra)) = provoke(row.code) else {
            unreachable.push(row.code.number());
            continue;
        };
        let (resp, _) = run(&mut hec, &req);
        let expected = format!(
            r#"{{"text":"{}","code":{}{extra}}}"#,
            row.text,
            row.code.number()
        );
        assert_eq!(resp.status, row.http_status, "code {}", row.code.number());
        assert_eq!(resp.body_text(), expected, "code {}", row.code.number());
        assert_eq!(
            resp.header("content-type"),
            Some("application/json; charset=UTF-8")
        );
    }
    assert_eq!(unreachable, vec![8, 24, 25, 26, 27]);
}

#[test]
fn known_table_rows_match_the_reference() {
    let pick = |code: Code| {
        let row = code.row();
        (row.http_status, row.text)
    };
    assert_eq!(
        pick(Code::InvalidAuthorization),
        (401, "Invalid authorization")
    );
    assert_eq!(
        pick(Code::InternalServerError),
        (500, "Internal server error")
    );
    assert_eq!(pick(Code::HealthInvalidToken), (400, "Invalid token"));
    assert_eq!(
        pick(Code::AckChannelAtCapacity),
        (
            429,
            "HEC ACK channel is at capacity and cannot process any more requests"
        )
    );
}

#[test]
fn envelopes_are_parsed_with_metadata_time_and_indexed_fields() {
    let mut hec = hec();
    let body = r#"{"event":{"alert":1},"time":"1700000000.123","host":"plc1","source":"s","sourcetype":"st","index":"ot","fields":{"engine":"dpi","proto":["modbus","s7"]}}
        {"event":"second","time":1433188255.5}"#;
    let (resp, events) = run(&mut hec, &event_post(TOKEN, body));
    assert_eq!(resp.body_text(), r#"{"text":"Success","code":0}"#);
    assert_eq!(events.len(), 2);
    let first = &events[0];
    assert_eq!(first.body, EventBody::Json(json!({"alert":1})));
    assert_eq!(first.time_ms, 1_700_000_000_123);
    assert_eq!(
        (
            first.host.as_str(),
            first.source.as_str(),
            first.sourcetype.as_str()
        ),
        ("plc1", "s", "st")
    );
    assert_eq!(first.index, "ot");
    assert_eq!(
        first.fields,
        vec![
            ("engine".to_owned(), vec!["dpi".to_owned()]),
            (
                "proto".to_owned(),
                vec!["modbus".to_owned(), "s7".to_owned()]
            ),
        ]
    );
    assert_eq!(events[1].body, EventBody::Text("second".into()));
    assert_eq!(events[1].time_ms, 1_433_188_255_500);
    assert_eq!(events[1].index, "main");
    assert_eq!(events[1].source, "http:plain");
    assert_eq!(events[1].host, "localhost");
    assert_eq!(events[1].channel, None);
}

#[test]
fn concatenated_envelopes_without_separator_are_a_batch() {
    let mut hec = hec();
    let (resp, events) = run(
        &mut hec,
        &post(
            "/services/collector",
            TOKEN,
            r#"{"event":"a"}{"event":"b"}"#,
        ),
    );
    assert_eq!(resp.status, 200);
    let bodies: Vec<_> = events.iter().map(|event| event.body.clone()).collect();
    assert_eq!(
        bodies,
        vec![EventBody::Text("a".into()), EventBody::Text("b".into())]
    );
}

#[test]
fn event_without_time_gets_receipt_time() {
    let mut hec = hec();
    let (_, events) = run(&mut hec, &event_post(TOKEN, r#"{"event":"a"}"#));
    assert_eq!(events[0].time_ms, NOW);
}

#[test]
fn bad_event_in_a_batch_indexes_only_the_events_before_it() {
    let mut hec = hec();
    let body = r#"{"event":"a"} {"event":"b"} {"host":"no event"} {"event":"d"}"#;
    let (resp, events) = run(&mut hec, &event_post(TOKEN, body));
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.body_text(),
        r#"{"text":"Event field is required","code":12,"invalid-event-number":2}"#
    );
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].body, EventBody::Text("b".into()));
}

#[test]
fn malformed_json_after_good_events_reports_its_position() {
    let mut hec = hec();
    let (resp, events) = run(&mut hec, &event_post(TOKEN, r#"{"event":"a"}{"event":}"#));
    assert_eq!(
        resp.body_text(),
        r#"{"text":"Invalid data format","code":6,"invalid-event-number":1}"#
    );
    assert_eq!(events.len(), 1);
}

#[test]
fn non_numeric_time_is_code_15() {
    let mut hec = hec();
    let (resp, events) = run(
        &mut hec,
        &event_post(TOKEN, r#"{"event":"a","time":"noon"}"#),
    );
    assert_eq!(resp.status, 400);
    assert!(resp.body_text().contains(r#""code":15"#));
    assert!(events.is_empty());
}

#[test]
fn gzip_body_is_inflated_and_indexed() {
    let mut hec = hec();
    let req = event_post(TOKEN, "")
        .with_header("Content-Encoding", "gzip")
        .with_body(gzip(br#"{"event":"zipped"}{"event":"too"}"#));
    let (resp, events) = run(&mut hec, &req);
    assert_eq!(resp.body_text(), r#"{"text":"Success","code":0}"#);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].body, EventBody::Text("zipped".into()));
}

#[test]
fn corrupt_gzip_and_deflate_are_invalid_data_format() {
    let mut hec = hec();
    for (encoding, body) in [("gzip", b"not gzip".to_vec()), ("deflate", b"x".to_vec())] {
        let req = event_post(TOKEN, "")
            .with_header("Content-Encoding", encoding)
            .with_body(body);
        let (resp, events) = run(&mut hec, &req);
        assert_eq!(
            resp.body_text(),
            r#"{"text":"Invalid data format","code":6}"#
        );
        assert!(events.is_empty());
    }
}

#[test]
fn body_over_max_content_length_is_413_checked_on_the_compressed_size() {
    let mut config = config();
    config.max_content_length = 100;
    let mut hec = Hec::new(config);
    let big = format!(r#"{{"event":"{}"}}"#, "a".repeat(200));
    let (resp, events) = run(&mut hec, &event_post(TOKEN, &big));
    assert_eq!(resp.status, 413);
    assert!(events.is_empty());
    let small_enough = format!(r#"{{"event":"{}"}}"#, "a".repeat(500));
    let zipped = event_post(TOKEN, "")
        .with_header("Content-Encoding", "gzip")
        .with_body(gzip(small_enough.as_bytes()));
    assert!(zipped.body.len() <= 100);
    let (resp, events) = run(&mut hec, &zipped);
    assert_eq!(resp.status, 200);
    assert_eq!(events.len(), 1);
}

#[test]
fn gzip_bomb_beyond_the_inflate_guard_is_invalid_data_format() {
    let mut config = config();
    config.max_inflated_length = 1000;
    let mut hec = Hec::new(config);
    let body = format!(r#"{{"event":"{}"}}"#, "a".repeat(2000));
    let req = event_post(TOKEN, "")
        .with_header("Content-Encoding", "gzip")
        .with_body(gzip(body.as_bytes()));
    let (resp, events) = run(&mut hec, &req);
    assert_eq!(
        resp.body_text(),
        r#"{"text":"Invalid data format","code":6}"#
    );
    assert!(events.is_empty());
}

#[test]
fn event_over_max_event_size_is_code_6() {
    let mut config = config();
    config.max_event_size = 50;
    let mut hec = Hec::new(config);
    let body = format!(r#"{{"event":"ok"}}{{"event":"{}"}}"#, "a".repeat(60));
    let (resp, events) = run(&mut hec, &event_post(TOKEN, &body));
    assert_eq!(
        resp.body_text(),
        r#"{"text":"Invalid data format","code":6,"invalid-event-number":1}"#
    );
    assert_eq!(events.len(), 1);
}

#[test]
fn raw_body_is_broken_into_one_event_per_line_with_query_metadata() {
    let mut hec = hec();
    let req = post(
        "/services/collector/raw?sourcetype=splunkd_access&index=ot&host=gw&source=syslog",
        TOKEN,
        "line one\r\nline two\n\n   \nline three",
    );
    let (resp, events) = run(&mut hec, &req);
    assert_eq!(resp.body_text(), r#"{"text":"Success","code":0}"#);
    let lines: Vec<_> = events.iter().map(|event| event.body.clone()).collect();
    assert_eq!(
        lines,
        ["line one", "line two", "line three"].map(|line| EventBody::Text(line.into()))
    );
    assert!(
        events
            .iter()
            .all(|event| event.sourcetype == "splunkd_access"
                && event.index == "ot"
                && event.host == "gw"
                && event.source == "syslog"
                && event.time_ms == NOW)
    );
}

#[test]
fn raw_without_channel_is_accepted_when_ack_is_off_and_refused_when_on() {
    let mut hec = hec();
    let (resp, events) = run(&mut hec, &post("/services/collector/raw", TOKEN, "a"));
    assert_eq!(resp.status, 200);
    assert_eq!(events.len(), 1);
    let (resp, events) = run(
        &mut hec,
        &post("/services/collector/raw/1.0", ACK_TOKEN, "a"),
    );
    assert_eq!(
        resp.body_text(),
        r#"{"text":"Data channel is missing","code":10}"#
    );
    assert!(events.is_empty());
    let req = post(
        &format!("/services/collector/raw?channel={CHANNEL}"),
        ACK_TOKEN,
        "a",
    );
    let (resp, events) = run(&mut hec, &req);
    assert_eq!(resp.body_text(), r#"{"text":"Success","code":0,"ackId":0}"#);
    assert_eq!(events[0].ack_id, Some(0));
    assert_eq!(events[0].channel.as_deref(), Some(CHANNEL));
}

#[test]
fn raw_with_forbidden_index_is_code_7() {
    let mut hec = hec();
    let req = post("/services/collector/raw?index=secret", LIMITED, "a");
    let (resp, events) = run(&mut hec, &req);
    assert_eq!(resp.body_text(), r#"{"text":"Incorrect index","code":7}"#);
    assert!(events.is_empty());
}

/// What a server does with requests on several connections: each begun under the
/// collector's lock, parsed without it, and finished under it again, interleaved. The ack
/// ids follow the order the requests finish in, each event is indexed once with its own
/// request's id, and a refused request in between issues none.
#[test]
fn requests_parsed_at_once_get_their_ack_ids_in_the_order_they_finish() {
    use icsfwd_sim::splunk::hec::Begun;
    let mut hec = hec();
    let first = acked_post(r#"{"event":"first"}{"event":"first, again"}"#, CHANNEL);
    let second = acked_post(r#"{"event":"second"}"#, CHANNEL);
    let broken = acked_post(r#"{"event":"#, CHANNEL);
    let begin = |hec: &mut Hec, req: &Request| match hec.begin(req, NOW) {
        Begun::Parse(parse) => parse,
        Begun::Answered(resp) => panic!("answered at once: {}", resp.body_text()),
    };
    let (a, b, c) = (
        begin(&mut hec, &first),
        begin(&mut hec, &second),
        begin(&mut hec, &broken),
    );
    let (parsed_a, parsed_b, parsed_c) =
        (a.run(&first, NOW), b.run(&second, NOW), c.run(&broken, NOW));
    let (resp_b, events_b) = hec.finish(&b, parsed_b, NOW);
    let (resp_c, events_c) = hec.finish(&c, parsed_c, NOW);
    let (resp_a, events_a) = hec.finish(&a, parsed_a, NOW);
    assert!(
        resp_b.body_text().ends_with(r#""ackId":0}"#),
        "{}",
        resp_b.body_text()
    );
    assert_eq!(resp_c.status, 400);
    assert!(events_c.is_empty());
    assert!(
        resp_a.body_text().ends_with(r#""ackId":1}"#),
        "{}",
        resp_a.body_text()
    );
    assert_eq!(events_b.len(), 1);
    assert_eq!(events_a.len(), 2);
    assert!(events_b.iter().all(|e| e.ack_id == Some(0)));
    assert!(events_a.iter().all(|e| e.ack_id == Some(1)));
    // The same as one request at a time: the next one gets the next id.
    let (resp, _) = run(&mut hec, &acked_post(r#"{"event":"third"}"#, CHANNEL));
    assert!(resp.body_text().ends_with(r#""ackId":2}"#));
    let (resp, _) = run(&mut hec, &ack_query(CHANNEL, "[0,1,2]"));
    assert_eq!(resp.body_text(), r#"{"acks":{"0":true,"1":true,"2":true}}"#);
}

#[test]
fn ack_ids_count_from_zero_per_channel_and_read_true_once() {
    let mut hec = hec();
    let ok = r#"{"event":"x"}"#;
    for expected in 0..3 {
        let (resp, events) = run(&mut hec, &acked_post(ok, CHANNEL));
        assert_eq!(
            resp.body_text(),
            format!(r#"{{"text":"Success","code":0,"ackId":{expected}}}"#)
        );
        assert_eq!(events[0].ack_id, Some(expected));
    }
    let (resp, _) = run(&mut hec, &acked_post(ok, OTHER_CHANNEL));
    assert!(resp.body_text().ends_with(r#""ackId":0}"#));

    let (resp, _) = run(&mut hec, &ack_query(CHANNEL, "[0,2,7]"));
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.body_text(),
        r#"{"acks":{"0":true,"2":true,"7":false}}"#
    );
    let (resp, _) = run(&mut hec, &ack_query(CHANNEL, "[0,1,2]"));
    assert_eq!(
        resp.body_text(),
        r#"{"acks":{"0":false,"1":true,"2":false}}"#
    );
    let (resp, _) = run(&mut hec, &ack_query(OTHER_CHANNEL, "[0]"));
    assert_eq!(resp.body_text(), r#"{"acks":{"0":true}}"#);
}

#[test]
fn delayed_acks_stay_false_until_released() {
    let mut hec = hec();
    hec.ack_delay = true;
    run(&mut hec, &acked_post(r#"{"event":"x"}"#, CHANNEL));
    run(&mut hec, &acked_post(r#"{"event":"y"}"#, OTHER_CHANNEL));
    assert_eq!(hec.pending_acks(CHANNEL), vec![0]);
    let (resp, _) = run(&mut hec, &ack_query(CHANNEL, "[0]"));
    assert_eq!(resp.body_text(), r#"{"acks":{"0":false}}"#);
    assert_eq!(hec.release_acks(Some(CHANNEL)), 1);
    let (resp, _) = run(&mut hec, &ack_query(CHANNEL, "[0]"));
    assert_eq!(resp.body_text(), r#"{"acks":{"0":true}}"#);
    let (resp, _) = run(&mut hec, &ack_query(OTHER_CHANNEL, "[0]"));
    assert_eq!(resp.body_text(), r#"{"acks":{"0":false}}"#);
    assert_eq!(hec.release_acks(None), 1);
    let (resp, _) = run(&mut hec, &ack_query(OTHER_CHANNEL, "[0]"));
    assert_eq!(resp.body_text(), r#"{"acks":{"0":true}}"#);
}

#[test]
fn idle_ack_channels_are_forgotten_after_the_idle_timeout() {
    let mut hec = hec();
    hec.handle(&acked_post(r#"{"event":"x"}"#, CHANNEL), NOW);
    let later = NOW + hec.config().ack_idle_timeout_ms;
    let (resp, _) = hec.handle(&ack_query(CHANNEL, "[0]"), later);
    assert_eq!(resp.body_text(), r#"{"acks":{"0":false}}"#);
    let (resp, _) = hec.handle(&acked_post(r#"{"event":"x"}"#, CHANNEL), later);
    assert!(resp.body_text().ends_with(r#""ackId":0}"#));
}

#[test]
fn failed_batch_gets_no_ack_id_and_does_not_consume_one() {
    let mut hec = hec();
    let (resp, events) = run(
        &mut hec,
        &acked_post(r#"{"event":"a"}{"event":null}"#, CHANNEL),
    );
    assert_eq!(
        resp.body_text(),
        r#"{"text":"Event field cannot be blank","code":13,"invalid-event-number":1}"#
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].ack_id, None);
    let (resp, _) = run(&mut hec, &acked_post(r#"{"event":"a"}"#, CHANNEL));
    assert!(resp.body_text().ends_with(r#""ackId":0}"#));
}

#[test]
fn channel_may_come_from_header_or_query_and_must_be_a_guid() {
    let mut hec = hec();
    let ok = r#"{"event":"x"}"#;
    let by_query = post(
        &format!("/services/collector/event?channel={CHANNEL}"),
        ACK_TOKEN,
        ok,
    );
    let (resp, events) = run(&mut hec, &by_query);
    assert!(resp.body_text().ends_with(r#""ackId":0}"#));
    assert_eq!(events[0].channel.as_deref(), Some(CHANNEL));
    let by_header = acked_post(ok, &CHANNEL.to_lowercase());
    let (resp, _) = run(&mut hec, &by_header);
    assert!(
        resp.body_text().ends_with(r#""ackId":0}"#),
        "channels are distinct strings"
    );
    for bad in [
        "",
        "0AA2E3C4-5B6D-4E7F-8091",
        "0AA2E3C45B6D4E7F8091A2B3C4D5E6F7",
        "zAA2E3C4-5B6D-4E7F-8091-A2B3C4D5E6F7",
    ] {
        let (resp, events) = run(&mut hec, &acked_post(ok, bad));
        assert_eq!(
            resp.body_text(),
            r#"{"text":"Invalid data channel","code":11}"#
        );
        assert!(events.is_empty());
    }
}

#[test]
fn channel_is_optional_without_ack_and_gives_no_ack_id() {
    let mut hec = hec();
    let req =
        event_post(TOKEN, r#"{"event":"x"}"#).with_header("X-Splunk-Request-Channel", CHANNEL);
    let (resp, events) = run(&mut hec, &req);
    assert_eq!(resp.body_text(), r#"{"text":"Success","code":0}"#);
    assert_eq!(events[0].channel.as_deref(), Some(CHANNEL));
    assert_eq!(events[0].ack_id, None);
}

#[test]
fn ack_query_checks_ack_disabled_before_the_channel() {
    let mut hec = hec();
    let (resp, _) = run(
        &mut hec,
        &post("/services/collector/ack", TOKEN, r#"{"acks":[0]}"#),
    );
    assert!(resp.body_text().contains(r#""code":14"#));
    let (resp, _) = run(
        &mut hec,
        &post("/services/collector/ack", ACK_TOKEN, r#"{"acks":[0]}"#),
    );
    assert!(resp.body_text().contains(r#""code":10"#));
    let (resp, _) = run(&mut hec, &ack_query(CHANNEL, r#"["zero"]"#));
    assert_eq!(
        resp.body_text(),
        r#"{"text":"Invalid data format","code":6}"#
    );
}

#[test]
fn token_defaults_and_allowed_indexes_apply() {
    let mut hec = hec();
    let (resp, events) = run(&mut hec, &event_post(LIMITED, r#"{"event":"x"}"#));
    assert_eq!(resp.status, 200);
    assert_eq!(events[0].index, "ot");
    assert_eq!(events[0].sourcetype, "icsfwd:alert");
    assert_eq!(events[0].source, "http:limited");
    let (resp, events) = run(
        &mut hec,
        &event_post(LIMITED, r#"{"event":"x","index":"ot","sourcetype":"mine"}"#),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(events[0].sourcetype, "mine");
    let (resp, events) = run(
        &mut hec,
        &event_post(LIMITED, r#"{"event":"x","index":"main"}"#),
    );
    assert_eq!(
        resp.body_text(),
        r#"{"text":"Incorrect index","code":7,"invalid-event-number":0}"#
    );
    assert!(events.is_empty());
    let (resp, _) = run(
        &mut hec,
        &event_post(TOKEN, r#"{"event":"x","index":"secret"}"#),
    );
    assert_eq!(
        resp.status, 200,
        "a token with no list may use any known index"
    );
}

#[test]
fn basic_auth_and_query_string_tokens_are_accepted() {
    let mut hec = hec();
    // base64("x:11111111-2222-3333-4444-555555555555")
    let basic = Request::from_target("POST", "/services/collector")
        .with_header(
            "authorization",
            "Basic eDoxMTExMTExMS0yMjIyLTMzMzMtNDQ0NC01NTU1NTU1NTU1NTU=",
        )
        .with_body(br#"{"event":"x"}"#.to_vec());
    assert_eq!(run(&mut hec, &basic).0.status, 200);
    let query = Request::from_target("POST", &format!("/services/collector?token={QUERY_OK}"))
        .with_header("Authorization", "Splunk not-a-token")
        .with_body(br#"{"event":"x"}"#.to_vec());
    assert_eq!(run(&mut hec, &query).0.status, 200, "the query token wins");
}

#[test]
fn unknown_paths_and_wrong_methods_are_404() {
    let mut hec = hec();
    let (resp, _) = run(&mut hec, &post("/services/collector/nope", TOKEN, "x"));
    assert_eq!(resp.status, 404);
    let (resp, _) = run(
        &mut hec,
        &Request::from_target("GET", "/services/collector/event"),
    );
    assert_eq!(resp.status, 404);
}

#[test]
fn health_accepts_a_valid_token_in_the_header_and_ignores_the_body() {
    let mut hec = hec();
    let req = Request::from_target("GET", "/services/collector/health/1.0")
        .with_header("Authorization", &format!("Splunk {TOKEN}"));
    let (resp, _) = run(&mut hec, &req);
    assert_eq!(resp.body_text(), r#"{"text":"HEC is healthy","code":17}"#);
    assert_eq!(resp.header("server"), Some("Splunkd"));
}
