//! The Splunk emulator's wire tables, row by row, over real HTTP on 127.0.0.1.
//!
//! What it proves:
//! - every HEC status code 0–23 (`sim/src/splunk/hec.rs`) is produced by a request (and, where
//!   needed, a [`Condition`] or, for code 8, an injected fault) and answered with the row's HTTP
//!   status and the exact JSON body built from [`STATUS_TABLE`] — a code without a row fails the
//!   coverage test;
//! - every splunkd authentication case and login form (`sim/src/splunk/splunkd.rs`) gets its
//!   documented status and body, and a request that fails authentication or authorization stores
//!   nothing.
//!
//! The client is a few lines of raw HTTP/1.1 over a `TcpStream` (`Connection: close`, read to
//! EOF), so the bytes tested are the bytes a client sees.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use icsfwd_sim::splunk::hec::{Code, Condition, HecConfig, STATUS_TABLE, Token};
use icsfwd_sim::splunk::server::{Limits, PlainTcp, RunningServer, Server};
use icsfwd_sim::splunk::splunkd::{
    BearerToken, MSG_FORBIDDEN, MSG_LOGIN_FAILED, MSG_LOGIN_MISSING, MSG_NOT_AUTHENTICATED,
    MSG_UNAUTHORIZED, SplunkdConfig, User,
};
use icsfwd_sim::splunk::store::{Store, StoreConfig};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }
}

/// Sends one request with `Connection: close` and reads the reply to EOF.
fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full reply head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    let reply = Reply {
        status,
        headers,
        body: body.to_owned(),
    };
    let length: usize = reply.header("Content-Length").unwrap().parse().unwrap();
    assert_eq!(length, reply.body.len(), "Content-Length frames the body");
    reply
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// HEC: one row per status code
// ---------------------------------------------------------------------------------------------

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
const TOKEN_DISABLED: &str = "22222222-2222-3333-4444-555555555555";
const TOKEN_ACK: &str = "33333333-2222-3333-4444-555555555555";
const AUTH: &str = "Splunk 11111111-2222-3333-4444-555555555555";
const AUTH_DISABLED: &str = "Splunk 22222222-2222-3333-4444-555555555555";
const AUTH_ACK: &str = "Splunk 33333333-2222-3333-4444-555555555555";
const AUTH_UNKNOWN: &str = "Splunk 99999999-2222-3333-4444-555555555555";
const EVENT: &str = "/services/collector/event";
const HEALTH: &str = "/services/collector/health";

/// One request that makes the collector answer `code`.
struct HecRow {
    code: Code,
    /// The collector's health while the request is handled.
    condition: Condition,
    method: &'static str,
    target: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    /// `invalid-event-number` expected in the body (per-event failures).
    event_number: Option<usize>,
    /// Events the request must store.
    stores: usize,
    /// A fault (the emulator's text syntax) armed for this request only, for the codes only a
    /// failing Splunk produces.
    fault: Option<&'static str>,
}

const fn row(
    code: Code,
    target: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
) -> HecRow {
    HecRow {
        code,
        condition: Condition::Healthy,
        method: "POST",
        target,
        headers,
        body,
        event_number: None,
        stores: 0,
        fault: None,
    }
}

const fn per_event(mut row: HecRow) -> HecRow {
    row.event_number = Some(0);
    row
}

const fn health(
    code: Code,
    condition: Condition,
    headers: &'static [(&'static str, &'static str)],
) -> HecRow {
    HecRow {
        code,
        condition,
        method: "GET",
        target: HEALTH,
        headers,
        body: "",
        event_number: None,
        stores: 0,
        fault: None,
    }
}

const fn during(mut row: HecRow, condition: Condition) -> HecRow {
    row.condition = condition;
    row
}

const ONE_EVENT: &str = r#"{"event":"plc stop"}"#;

/// Every HEC code this file produces, with the request that produces it.
const HEC_ROWS: &[HecRow] = &[
    HecRow {
        stores: 1,
        ..row(Code::Success, EVENT, &[("Authorization", AUTH)], ONE_EVENT)
    },
    row(
        Code::TokenDisabled,
        EVENT,
        &[("Authorization", AUTH_DISABLED)],
        ONE_EVENT,
    ),
    row(Code::TokenRequired, EVENT, &[], ONE_EVENT),
    // "most common cause is the word Splunk is missing"
    row(
        Code::InvalidAuthorization,
        EVENT,
        &[("Authorization", TOKEN)],
        ONE_EVENT,
    ),
    row(
        Code::InvalidToken,
        EVENT,
        &[("Authorization", AUTH_UNKNOWN)],
        ONE_EVENT,
    ),
    row(Code::NoData, EVENT, &[("Authorization", AUTH)], ""),
    per_event(row(
        Code::InvalidDataFormat,
        EVENT,
        &[("Authorization", AUTH)],
        r#"{"event":"x""#,
    )),
    per_event(row(
        Code::IncorrectIndex,
        EVENT,
        &[("Authorization", AUTH)],
        r#"{"event":"x","index":"nope"}"#,
    )),
    // An indexer failing inside: only the fault layer makes the emulator answer it.
    HecRow {
        fault: Some("hec:status=500,code=8,next=1"),
        ..row(
            Code::InternalServerError,
            EVENT,
            &[("Authorization", AUTH)],
            ONE_EVENT,
        )
    },
    per_event(during(
        row(
            Code::ServerBusy,
            EVENT,
            &[("Authorization", AUTH)],
            ONE_EVENT,
        ),
        Condition::QueuesFull,
    )),
    row(
        Code::DataChannelMissing,
        EVENT,
        &[("Authorization", AUTH_ACK)],
        ONE_EVENT,
    ),
    row(
        Code::InvalidDataChannel,
        EVENT,
        &[
            ("Authorization", AUTH),
            ("X-Splunk-Request-Channel", "not-a-guid-at-all"),
        ],
        ONE_EVENT,
    ),
    per_event(row(
        Code::EventFieldRequired,
        EVENT,
        &[("Authorization", AUTH)],
        r#"{"time":1700000000}"#,
    )),
    per_event(row(
        Code::EventFieldBlank,
        EVENT,
        &[("Authorization", AUTH)],
        r#"{"event":"  "}"#,
    )),
    row(
        Code::AckDisabled,
        "/services/collector/ack",
        &[("Authorization", AUTH)],
        r#"{"acks":[0]}"#,
    ),
    per_event(row(
        Code::IndexedFieldsError,
        EVENT,
        &[("Authorization", AUTH)],
        r#"{"event":"x","fields":{"n":1}}"#,
    )),
    row(
        Code::QueryStringAuthDisabled,
        "/services/collector/event?token=11111111-2222-3333-4444-555555555555",
        &[],
        ONE_EVENT,
    ),
    health(Code::Healthy, Condition::Healthy, &[]),
    health(Code::UnhealthyQueuesFull, Condition::QueuesFull, &[]),
    health(
        Code::UnhealthyAckUnavailable,
        Condition::AckUnavailable,
        &[],
    ),
    health(
        Code::UnhealthyQueuesFullAckUnavailable,
        Condition::QueuesFullAndAckUnavailable,
        &[],
    ),
    health(
        Code::HealthInvalidToken,
        Condition::Healthy,
        &[("Authorization", AUTH_UNKNOWN)],
    ),
    health(
        Code::HealthTokenDisabled,
        Condition::Healthy,
        &[("Authorization", AUTH_DISABLED)],
    ),
    during(
        row(
            Code::ShuttingDown,
            EVENT,
            &[("Authorization", AUTH)],
            ONE_EVENT,
        ),
        Condition::ShuttingDown,
    ),
];

/// The codes the table must cover: Splunk's 0–22 and the shutdown code 23.
fn expected_codes() -> BTreeSet<u16> {
    (0..=Code::ShuttingDown.number()).collect()
}

fn hec_config() -> HecConfig {
    let mut config = HecConfig::default();
    config.tokens.push(Token::new("ot", TOKEN));
    config.tokens.push(Token {
        disabled: true,
        ..Token::new("off", TOKEN_DISABLED)
    });
    config.tokens.push(Token {
        use_ack: true,
        ..Token::new("acked", TOKEN_ACK)
    });
    config
}

/// The whole emulator (faults included) with this file's tokens, over plain HTTP.
fn start_hec() -> RunningEmulator {
    Emulator::start(EmulatorConfig {
        hec: hec_config(),
        ..EmulatorConfig::default()
    })
    .unwrap()
}

fn expected_hec_body(row: &HecRow) -> String {
    let table = &STATUS_TABLE[usize::from(row.code.number())];
    let mut body = format!(
        "{{\"text\":{},\"code\":{}",
        json!(table.text),
        table.code.number()
    );
    if let Some(position) = row.event_number {
        body.push_str(&format!(",\"invalid-event-number\":{position}"));
    }
    body.push('}');
    body
}

#[test]
fn hec_table_rows_cover_every_code_from_0_to_23_once() {
    let covered: Vec<u16> = HEC_ROWS.iter().map(|row| row.code.number()).collect();
    let covered_set: BTreeSet<u16> = covered.iter().copied().collect();
    assert_eq!(covered.len(), covered_set.len(), "one row per code");
    assert_eq!(covered_set, expected_codes(), "every code has a row");
}

#[test]
fn every_hec_code_row_answers_its_table_status_and_exact_json_body() {
    let emulator = start_hec();
    let store = emulator.store().clone();
    for row in HEC_ROWS {
        emulator.hec().lock().unwrap().condition = row.condition;
        if let Some(spec) = row.fault {
            emulator.faults().add(spec.parse().unwrap()).unwrap();
        }
        let before = store.len();
        let reply = send(
            emulator.hec_addr(),
            row.method,
            row.target,
            row.headers,
            row.body.as_bytes(),
        );
        let table = &STATUS_TABLE[usize::from(row.code.number())];
        let code = row.code.number();
        assert_eq!(
            reply.status, table.http_status,
            "code {code}: {}",
            reply.body
        );
        assert_eq!(reply.body, expected_hec_body(row), "code {code}");
        assert_eq!(
            reply.header("Content-Type"),
            Some("application/json; charset=UTF-8"),
            "code {code}"
        );
        assert_eq!(
            store.len() - before,
            row.stores,
            "code {code}: events stored"
        );
    }
    emulator.shutdown();
}

// ---------------------------------------------------------------------------------------------
// splunkd: every authentication case and login form
// ---------------------------------------------------------------------------------------------

const ADMIN: (&str, &str) = ("admin", "changeme");
const VIEWER: (&str, &str) = ("viewer", "viewpass");
const BEARER: &str = "eyJraWQiOiJzcGx1bmsuc2VjcmV0IiwiYWxnIjoiSFM1MTIifQ.good";
const SPLUNKD_PORT: u16 = 8089;
const SIMPLE: &str = "/services/receivers/simple?index=main";
const SIMPLE_JSON: &str = "/services/receivers/simple?index=main&output_mode=json";

fn splunkd_config(session_timeout_ms: u64) -> SplunkdConfig {
    let mut config = SplunkdConfig {
        port: SPLUNKD_PORT,
        session_timeout_ms,
        ..SplunkdConfig::default()
    };
    config.users.push(User::new(ADMIN.0, ADMIN.1, true));
    config.users.push(User::new(VIEWER.0, VIEWER.1, false));
    config.tokens.push(BearerToken {
        token: BEARER.to_owned(),
        user: ADMIN.0.to_owned(),
    });
    config
}

fn start_splunkd(session_timeout_ms: u64, store: &Store) -> RunningServer {
    let handler = icsfwd_sim::splunk::server::SplunkdHandler::new(
        splunkd_config(session_timeout_ms),
        store.clone(),
    );
    Server::start_with(loopback(), Limits::default(), PlainTcp, handler).unwrap()
}

fn basic(user: &str, password: &str) -> String {
    // RFC 4648 base64, written out: the test must not share the server's decoder.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

fn xml_message(kind: &str, text: &str) -> String {
    format!(
        "<response>\n  <messages>\n    <msg type=\"{kind}\">{text}</msg>\n  </messages>\n</response>\n"
    )
}

/// The XML receipt of a one-byte body from 127.0.0.1 with no metadata.
const RECEIPT_XML: &str = "<response>\n  <index>main</index>\n  <bytes>1</bytes>\n  \
<host>127.0.0.1</host>\n  <source>http-simple</source>\n  \
<sourcetype>unknown-too_small</sourcetype>\n</response>\n";

/// Logs in with `output_mode=json` and returns the session key.
fn login(addr: SocketAddr, user: (&str, &str)) -> String {
    let body = format!("username={}&password={}&output_mode=json", user.0, user.1);
    let reply = send(addr, "POST", "/services/auth/login", &[], body.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["sessionKey"].as_str().unwrap().to_owned()
}

/// What one splunkd request must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// 200 with the XML receipt; the body is stored.
    Stored,
    /// 200 with the JSON receipt; the body is stored.
    StoredJson,
    /// 401 `ERROR Unauthorized` with the Basic challenge (XML).
    Challenge,
    /// The same in JSON.
    ChallengeJson,
    /// 401 `WARN call not properly authenticated`, no challenge.
    NotAuthenticated,
    /// 403 `ERROR` [`MSG_FORBIDDEN`].
    Forbidden,
}

fn check(case: &str, reply: &Reply, expect: Expect) {
    let challenge = reply.header("WWW-Authenticate");
    match expect {
        Expect::Stored => {
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (200, RECEIPT_XML),
                "{case}"
            );
            assert_eq!(
                reply.header("Content-Type"),
                Some("text/xml; charset=utf-8"),
                "{case}"
            );
        }
        Expect::StoredJson => {
            assert_eq!(reply.status, 200, "{case}");
            assert_eq!(
                reply.json(),
                json!({"index": "main", "bytes": 1, "host": "127.0.0.1",
                       "source": "http-simple", "sourcetype": "unknown-too_small"}),
                "{case}"
            );
        }
        Expect::Challenge => {
            assert_eq!(reply.status, 401, "{case}");
            assert_eq!(reply.body, xml_message("ERROR", MSG_UNAUTHORIZED), "{case}");
            assert_eq!(challenge, Some("Basic realm=\"/splunk\""), "{case}");
        }
        Expect::ChallengeJson => {
            assert_eq!(reply.status, 401, "{case}");
            assert_eq!(
                reply.json(),
                json!({"messages": [{"type": "ERROR", "text": MSG_UNAUTHORIZED}]}),
                "{case}"
            );
            assert_eq!(challenge, Some("Basic realm=\"/splunk\""), "{case}");
        }
        Expect::NotAuthenticated => {
            assert_eq!(reply.status, 401, "{case}");
            assert_eq!(
                reply.body,
                xml_message("WARN", MSG_NOT_AUTHENTICATED),
                "{case}"
            );
            assert_eq!(
                challenge, None,
                "{case}: no challenge for a bad key or token"
            );
        }
        Expect::Forbidden => {
            assert_eq!(reply.status, 403, "{case}");
            assert_eq!(reply.body, xml_message("ERROR", MSG_FORBIDDEN), "{case}");
        }
    }
}

/// (case name, request target, headers, expected answer).
type AuthCase = (
    &'static str,
    &'static str,
    Vec<(&'static str, String)>,
    Expect,
);

#[test]
fn every_splunkd_auth_case_gets_its_status_and_body_and_only_authorized_ones_store() {
    let store = Store::new(StoreConfig::default()).unwrap();
    let server = start_splunkd(3_600_000, &store);
    let addr = server.local_addr();
    let key = login(addr, ADMIN);
    let viewer_key = login(addr, VIEWER);
    let cookie = format!("splunkd_{SPLUNKD_PORT}={key}");
    let other_port_cookie = format!("splunkd_{}={key}", SPLUNKD_PORT + 1);
    let admin_basic = basic(ADMIN.0, ADMIN.1);
    let cases: Vec<AuthCase> = vec![
        (
            "Basic, good",
            SIMPLE,
            vec![("Authorization", admin_basic.clone())],
            Expect::Stored,
        ),
        (
            "Basic, good, JSON",
            SIMPLE_JSON,
            vec![("Authorization", admin_basic.clone())],
            Expect::StoredJson,
        ),
        (
            "Basic, wrong password",
            SIMPLE,
            vec![("Authorization", basic(ADMIN.0, "nope"))],
            Expect::Challenge,
        ),
        (
            "Basic, unknown user",
            SIMPLE,
            vec![("Authorization", basic("mallory", ADMIN.1))],
            Expect::Challenge,
        ),
        (
            "Basic, not base64",
            SIMPLE,
            vec![("Authorization", "Basic !!!".to_owned())],
            Expect::Challenge,
        ),
        (
            "Splunk <sessionKey>, good",
            SIMPLE,
            vec![("Authorization", format!("Splunk {key}"))],
            Expect::Stored,
        ),
        (
            "Splunk <sessionKey>, unknown",
            SIMPLE,
            vec![("Authorization", "Splunk 0123456789abcdef".to_owned())],
            Expect::NotAuthenticated,
        ),
        (
            "Bearer, good",
            SIMPLE,
            vec![("Authorization", format!("Bearer {BEARER}"))],
            Expect::Stored,
        ),
        (
            "Bearer, bad",
            SIMPLE,
            vec![("Authorization", "Bearer eyJ.bad".to_owned())],
            Expect::NotAuthenticated,
        ),
        (
            "splunkd_<port> cookie, good",
            SIMPLE,
            vec![("Cookie", format!("other=1; {cookie}"))],
            Expect::Stored,
        ),
        (
            "splunkd_<port> cookie, unknown key",
            SIMPLE,
            vec![("Cookie", format!("splunkd_{SPLUNKD_PORT}=0badc0de"))],
            Expect::NotAuthenticated,
        ),
        (
            "cookie for another port",
            SIMPLE,
            vec![("Cookie", other_port_cookie)],
            Expect::Challenge,
        ),
        ("no credentials", SIMPLE, vec![], Expect::Challenge),
        (
            "no credentials, JSON",
            SIMPLE_JSON,
            vec![],
            Expect::ChallengeJson,
        ),
        (
            "unknown scheme",
            SIMPLE,
            vec![("Authorization", format!("Digest {key}"))],
            Expect::Challenge,
        ),
        (
            "Basic, user without edit_tcp",
            SIMPLE,
            vec![("Authorization", basic(VIEWER.0, VIEWER.1))],
            Expect::Forbidden,
        ),
        (
            "session key of a user without edit_tcp",
            SIMPLE,
            vec![("Authorization", format!("Splunk {viewer_key}"))],
            Expect::Forbidden,
        ),
    ];
    for (case, target, headers, expect) in &cases {
        let before = store.len();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = send(addr, "POST", target, &headers, b"x");
        check(case, &reply, *expect);
        let stored = matches!(expect, Expect::Stored | Expect::StoredJson);
        assert_eq!(store.len() - before, usize::from(stored), "{case}: stored");
    }
    server.shutdown();
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[test]
fn an_expired_session_key_and_its_cookie_answer_not_authenticated() {
    // A zero timeout: a key is valid only within the millisecond it was last used.
    let store = Store::new(StoreConfig::default()).unwrap();
    let server = start_splunkd(0, &store);
    let addr = server.local_addr();
    let key = login(addr, ADMIN);
    let issued_by = now_ms();
    // The server logged in at or before `issued_by`; once the clock has moved on, every
    // later request is past the timeout. (A wait on the clock, not a sleep as a guess.)
    while now_ms() <= issued_by {
        std::hint::spin_loop();
    }
    let reply = send(
        addr,
        "POST",
        SIMPLE,
        &[("Authorization", &format!("Splunk {key}"))],
        b"x",
    );
    check("Splunk <expired key>", &reply, Expect::NotAuthenticated);
    let cookie = format!("splunkd_{SPLUNKD_PORT}={key}");
    let reply = send(addr, "POST", SIMPLE, &[("Cookie", &cookie)], b"x");
    check("expired key in cookie", &reply, Expect::NotAuthenticated);
    assert!(store.is_empty());
    server.shutdown();
}

#[test]
fn login_answers_xml_by_default_json_on_request_and_set_cookie_with_cookie_1() {
    let store = Store::new(StoreConfig::default()).unwrap();
    let server = start_splunkd(3_600_000, &store);
    let addr = server.local_addr();
    let login_path = "/services/auth/login";
    let is_key = |key: &str| key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit());

    // XML (default): <response><sessionKey>..</sessionKey></response>, no cookie.
    let reply = send(
        addr,
        "POST",
        login_path,
        &[],
        b"username=admin&password=changeme",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/xml; charset=utf-8")
    );
    let key = reply
        .body
        .split_once("<sessionKey>")
        .and_then(|(_, rest)| rest.split_once("</sessionKey>"))
        .map(|(key, _)| key.to_owned())
        .unwrap();
    assert!(is_key(&key), "{key}");
    assert_eq!(
        reply.body,
        format!("<response>\n  <sessionKey>{key}</sessionKey>\n</response>\n")
    );
    assert_eq!(reply.header("Set-Cookie"), None);

    // JSON, asked in the form body and in the query string.
    for (target, body) in [
        (
            login_path,
            "username=admin&password=changeme&output_mode=json",
        ),
        (
            "/services/auth/login?output_mode=json",
            "username=admin&password=changeme",
        ),
    ] {
        let reply = send(addr, "POST", target, &[], body.as_bytes());
        assert_eq!(reply.status, 200, "{target} {body}");
        let json = reply.json();
        let key = json["sessionKey"].as_str().unwrap().to_owned();
        assert!(is_key(&key));
        assert_eq!(json, json!({"sessionKey": key, "message": "", "code": ""}));
    }

    // cookie=1 (what the Python SDK sends): Set-Cookie splunkd_<port>, and the cookie works.
    let reply = send(
        addr,
        "POST",
        login_path,
        &[],
        b"username=admin&password=changeme&cookie=1",
    );
    assert_eq!(reply.status, 200);
    let set_cookie = reply.header("Set-Cookie").unwrap().to_owned();
    let (pair, attributes) = set_cookie.split_once("; ").unwrap();
    assert_eq!(attributes, "Path=/; HttpOnly; Max-Age=3600");
    let (name, value) = pair.split_once('=').unwrap();
    assert_eq!(name, format!("splunkd_{SPLUNKD_PORT}"));
    assert!(
        reply
            .body
            .contains(&format!("<sessionKey>{value}</sessionKey>"))
    );
    let reply = send(addr, "POST", SIMPLE, &[("Cookie", pair)], b"x");
    check("cookie from login", &reply, Expect::Stored);

    // Failures: wrong password 401 (XML and JSON), missing password 400.
    let reply = send(
        addr,
        "POST",
        login_path,
        &[],
        b"username=admin&password=wrong",
    );
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body,
        format!(
            "<response>\n  <messages>\n    <msg type=\"WARN\" code=\"incorrect_username_or_password\">{MSG_LOGIN_FAILED}</msg>\n  </messages>\n</response>\n"
        )
    );
    let reply = send(
        addr,
        "POST",
        login_path,
        &[],
        b"username=admin&password=wrong&output_mode=json",
    );
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.json(),
        json!({"messages": [{"type": "WARN", "code": "incorrect_username_or_password", "text": MSG_LOGIN_FAILED}]})
    );
    let reply = send(addr, "POST", login_path, &[], b"username=admin");
    assert_eq!(
        (reply.status, reply.body.clone()),
        (400, xml_message("WARN", MSG_LOGIN_MISSING))
    );
    server.shutdown();
}
