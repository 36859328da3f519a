//! The blocking HTTP server and the event store, driven over real loopback sockets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use icsfwd_sim::splunk::hec::{HecConfig, Token};
use icsfwd_sim::splunk::http::{Request, Response};
use icsfwd_sim::splunk::server::{self, Limits, PlainTcp, RunningServer, Server};
use icsfwd_sim::splunk::splunkd::{SplunkdConfig, User};
use icsfwd_sim::splunk::store::{Body, Field, Filter, ReceiverKind, Store, StoreConfig, Stored};
use serde_json::{Value, json};

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
const LOOPBACK: &str = "127.0.0.1:0";

fn loopback() -> SocketAddr {
    LOOPBACK.parse().unwrap()
}

fn store() -> Store {
    Store::new(StoreConfig::default()).unwrap()
}

fn hec(store: &Store) -> RunningServer {
    let mut config = HecConfig::default();
    config.tokens.push(Token::new("ot", TOKEN));
    server::hec_server(loopback(), config, store.clone()).unwrap()
}

fn splunkd(store: &Store) -> RunningServer {
    let mut config = SplunkdConfig::default();
    config.users.push(User::new("admin", "changeme", true));
    config.indexes.push("ot".to_owned());
    server::splunkd_server(loopback(), config, store.clone()).unwrap()
}

fn echo_server(limits: Limits) -> RunningServer {
    Server::start_with(loopback(), limits, PlainTcp, |req: &Request, _peer| {
        let mut resp = Response::json(200, &String::from_utf8_lossy(&req.body));
        resp.headers.push(("X-Path".to_owned(), req.path.clone()));
        resp
    })
    .unwrap()
}

fn connect(server: &RunningServer) -> BufReader<TcpStream> {
    let conn = TcpStream::connect(server.local_addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    BufReader::new(conn)
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads one response framed by Content-Length.
fn read_reply(conn: &mut BufReader<TcpStream>) -> Reply {
    let mut line = String::new();
    conn.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    let length: usize = reply.header("content-length").unwrap().parse().unwrap();
    reply.body = vec![0; length];
    conn.read_exact(&mut reply.body).unwrap();
    reply
}

fn send(conn: &mut BufReader<TcpStream>, bytes: &[u8]) {
    conn.get_mut().write_all(bytes).unwrap();
}

fn is_closed(conn: &mut BufReader<TcpStream>) -> bool {
    let mut rest = Vec::new();
    matches!(conn.read_to_end(&mut rest), Ok(0))
}

fn hec_post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Splunk {TOKEN}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

#[test]
fn hec_events_posted_over_raw_tcp_are_stored_and_answered_in_json() {
    let store = store();
    let server = hec(&store);
    let mut conn = connect(&server);
    send(
        &mut conn,
        &hec_post(
            "/services/collector/event",
            br#"{"event":"plc stop","sourcetype":"ot:alert","fields":{"zone":"cell1"}}{"event":{"id":2}}"#,
        ),
    );
    let reply = read_reply(&mut conn);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"text": "Success", "code": 0}));
    let events = store.list(&Filter::default());
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].receiver, ReceiverKind::Hec);
    assert_eq!(events[0].sourcetype, "ot:alert");
    assert_eq!(events[0].body, Body::Text("plc stop".to_owned()));
    assert_eq!(
        events[0].fields,
        vec![("zone".to_owned(), vec!["cell1".to_owned()])]
    );
    assert_eq!(events[1].body, Body::Json(json!({"id": 2})));
}

#[test]
fn two_requests_on_one_kept_alive_connection_are_both_answered() {
    let store = store();
    let server = hec(&store);
    let mut conn = connect(&server);
    send(
        &mut conn,
        &hec_post("/services/collector/event", br#"{"event":"one"}"#),
    );
    let first = read_reply(&mut conn);
    assert_eq!(first.header("connection"), None, "kept alive");
    send(
        &mut conn,
        &hec_post("/services/collector/event", br#"{"event":"two"}"#),
    );
    let second = read_reply(&mut conn);
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(store.len(), 2);
    assert_eq!(server.open_connections(), 1);
}

#[test]
fn connection_close_from_the_client_is_honoured() {
    let server = echo_server(Limits::default());
    let mut conn = connect(&server);
    send(&mut conn, b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n");
    let reply = read_reply(&mut conn);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(is_closed(&mut conn));
}

#[test]
fn a_chunked_request_body_is_reassembled() {
    let server = echo_server(Limits::default());
    let mut conn = connect(&server);
    send(
        &mut conn,
        b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    let reply = read_reply(&mut conn);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"hello, world");
    // The connection is still usable after the trailer.
    send(&mut conn, b"GET /after HTTP/1.1\r\n\r\n");
    assert_eq!(read_reply(&mut conn).header("x-path"), Some("/after"));
}

#[test]
fn a_chunked_body_over_the_limit_gets_413() {
    let server = echo_server(Limits {
        max_body: 8,
        ..Limits::default()
    });
    let mut conn = connect(&server);
    send(
        &mut conn,
        b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
    );
    assert_eq!(read_reply(&mut conn).status, 413);
}

#[test]
fn a_gzip_body_is_inflated_by_hec() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let store = store();
    let server = hec(&store);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(br#"{"event":"zipped"}"#).unwrap();
    let body = gz.finish().unwrap();
    let mut req = format!(
        "POST /services/collector/event HTTP/1.1\r\nAuthorization: Splunk {TOKEN}\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let mut conn = connect(&server);
    send(&mut conn, &req);
    assert_eq!(read_reply(&mut conn).status, 200);
    let stored = store.list(&Filter::default());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, Body::Text("zipped".to_owned()));
}

#[test]
fn an_oversize_content_length_gets_413_and_the_connection_closes() {
    let server = echo_server(Limits {
        max_body: 16,
        ..Limits::default()
    });
    let mut conn = connect(&server);
    send(
        &mut conn,
        b"POST /echo HTTP/1.1\r\nContent-Length: 17\r\n\r\n",
    );
    let reply = read_reply(&mut conn);
    assert_eq!(reply.status, 413);
    assert!(is_closed(&mut conn));
    // Exactly at the limit is accepted.
    let mut conn = connect(&server);
    send(
        &mut conn,
        b"POST /echo HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123456789abcdef",
    );
    assert_eq!(read_reply(&mut conn).status, 200);
}

#[test]
fn malformed_requests_get_400_and_the_connection_closes() {
    let server = echo_server(Limits::default());
    let cases: [&[u8]; 6] = [
        b"GARBAGE\r\n\r\n",
        b"GET /x HTTP/1.1 extra\r\n\r\n",
        b"get /x HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/2.0\r\n\r\n",
        b"GET /x HTTP/1.1\r\nno-colon\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    ];
    for case in cases {
        let mut conn = connect(&server);
        send(&mut conn, case);
        let reply = read_reply(&mut conn);
        assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(case));
        assert_eq!(reply.header("connection"), Some("close"));
        assert!(is_closed(&mut conn), "{}", String::from_utf8_lossy(case));
    }
}

#[test]
fn a_head_over_the_limits_gets_431() {
    let server = echo_server(Limits {
        max_head: 256,
        max_headers: 3,
        ..Limits::default()
    });
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(300));
    let many = "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n";
    let fits = "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
    for (request, status) in [(long.as_str(), 431), (many, 431), (fits, 200)] {
        let mut conn = connect(&server);
        send(&mut conn, request.as_bytes());
        assert_eq!(read_reply(&mut conn).status, status, "{request}");
    }
}

#[test]
fn receivers_simple_with_basic_auth_stores_the_query_string_metadata() {
    let store = store();
    let server = splunkd(&store);
    let body = b"plc stop detected";
    let basic = base64::engine::general_purpose::STANDARD.encode("admin:changeme");
    let mut req = format!(
        "POST /services/receivers/simple?index=ot&host=sensor-1&source=icsfwd&sourcetype=ot%3Aalert HTTP/1.1\r\n\
         Authorization: Basic {basic}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    let mut conn = connect(&server);
    send(&mut conn, &req);
    assert_eq!(read_reply(&mut conn).status, 200);
    let stored = store.list(&Filter::default());
    assert_eq!(stored.len(), 1);
    let event = &stored[0];
    assert_eq!(event.receiver, ReceiverKind::Simple);
    assert_eq!(
        (
            event.index.as_str(),
            event.host.as_str(),
            event.source.as_str(),
            event.sourcetype.as_str()
        ),
        ("ot", "sensor-1", "icsfwd", "ot:alert")
    );
    assert_eq!(event.user.as_deref(), Some("admin"));
    assert_eq!(event.body, Body::Text("plc stop detected".to_owned()));
}

#[test]
fn receivers_simple_without_a_host_uses_the_peer_address() {
    let store = store();
    let server = splunkd(&store);
    let basic = base64::engine::general_purpose::STANDARD.encode("admin:changeme");
    let mut conn = connect(&server);
    send(
        &mut conn,
        format!(
            "POST /services/receivers/simple HTTP/1.1\r\nAuthorization: Basic {basic}\r\nContent-Length: 1\r\n\r\nx"
        )
        .as_bytes(),
    );
    assert_eq!(read_reply(&mut conn).status, 200);
    assert_eq!(store.list(&Filter::default())[0].host, "127.0.0.1");
}

#[test]
fn receivers_stream_reads_the_body_until_the_client_shuts_down_writing() {
    let store = store();
    let server = splunkd(&store);
    let basic = base64::engine::general_purpose::STANDARD.encode("admin:changeme");
    let mut conn = connect(&server);
    send(
        &mut conn,
        format!(
            "POST /services/receivers/stream?index=ot&sourcetype=ot HTTP/1.1\r\n\
             Host: localhost\r\nAccept-Encoding: identity\r\nAuthorization: Basic {basic}\r\n\
             X-Splunk-Input-Mode: Streaming\r\n\r\n"
        )
        .as_bytes(),
    );
    send(&mut conn, b"first line\n");
    thread::sleep(Duration::from_millis(50));
    send(&mut conn, b"second line\n");
    assert!(store.is_empty(), "nothing is stored before EOF");
    conn.get_mut().shutdown(Shutdown::Write).unwrap();
    let reply = read_reply(&mut conn);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection"), Some("close"));
    let stored = store.list(&Filter::default());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].receiver, ReceiverKind::Stream);
    assert_eq!(
        stored[0].body,
        Body::Text("first line\nsecond line\n".to_owned())
    );
}

#[test]
fn a_post_without_length_elsewhere_has_an_empty_body() {
    let server = echo_server(Limits::default());
    let mut conn = connect(&server);
    send(&mut conn, b"POST /other HTTP/1.1\r\n\r\n");
    let reply = read_reply(&mut conn);
    assert_eq!(reply.body, b"");
    assert_eq!(reply.header("connection"), None, "still kept alive");
}

fn record(index: &str, sourcetype: &str, host: &str, text: &str) -> Stored {
    Stored {
        index: index.to_owned(),
        sourcetype: sourcetype.to_owned(),
        host: host.to_owned(),
        body: Body::Text(text.to_owned()),
        ..Stored::new(ReceiverKind::Simple)
    }
}

#[test]
fn store_filters_combine_and_count_by_tallies_each_value() {
    let store = store();
    store
        .append(vec![
            record("main", "ot:alert", "s1", "PLC stop on plc-3"),
            record("ot", "ot:alert", "s2", "address scan"),
            record("ot", "ot:health", "s1", "heartbeat"),
        ])
        .unwrap();
    let by = |filter: Filter| -> Vec<String> {
        store
            .list(&filter)
            .iter()
            .map(|event| event.body.text())
            .collect()
    };
    assert_eq!(by(Filter::default()).len(), 3);
    assert_eq!(
        by(Filter {
            index: Some("ot".to_owned()),
            ..Filter::default()
        }),
        ["address scan", "heartbeat"]
    );
    assert_eq!(
        by(Filter {
            sourcetype: Some("ot:alert".to_owned()),
            host: Some("s1".to_owned()),
            ..Filter::default()
        }),
        ["PLC stop on plc-3"]
    );
    assert_eq!(
        by(Filter {
            contains: Some("scan".to_owned()),
            ..Filter::default()
        }),
        ["address scan"]
    );
    assert!(
        by(Filter {
            index: Some("OT".to_owned()),
            ..Filter::default()
        })
        .is_empty(),
        "exact, case-sensitive"
    );
    let hosts = store.count_by(Field::Host);
    assert_eq!(hosts.get("s1"), Some(&2));
    assert_eq!(hosts.get("s2"), Some(&1));
    assert_eq!(store.count_by(Field::Receiver).get("simple"), Some(&3));
}

#[test]
fn a_full_store_drops_the_oldest_and_counts_them() {
    let store = Store::new(StoreConfig {
        max_events: 2,
        jsonl: None,
    })
    .unwrap();
    store.append(vec![record("main", "a", "h", "1")]).unwrap();
    store
        .append(vec![
            record("main", "a", "h", "2"),
            record("main", "a", "h", "3"),
            record("main", "a", "h", "4"),
        ])
        .unwrap();
    let left: Vec<String> = store
        .list(&Filter::default())
        .iter()
        .map(|event| event.body.text())
        .collect();
    assert_eq!(left, ["3", "4"]);
    assert_eq!(store.dropped(), 2);
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("icsfwd-sim-{}-{nanos}-{name}", std::process::id()))
}

#[test]
fn the_jsonl_file_gets_one_object_per_event_as_each_batch_lands() {
    let path = temp_path("events.jsonl");
    let store = Store::new(StoreConfig {
        max_events: 1,
        jsonl: Some(path.clone()),
    })
    .unwrap();
    let server = hec(&store);
    let mut conn = connect(&server);
    send(
        &mut conn,
        &hec_post(
            "/services/collector/event",
            br#"{"event":"one","host":"h1","time":1700000000.25}{"event":{"n":2},"fields":{"f":["a","b"]}}"#,
        ),
    );
    assert_eq!(read_reply(&mut conn).status, 200);
    // Flushed per batch: readable while the store is still open.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "the file keeps what memory evicted");
    assert_eq!(store.len(), 1);
    assert_eq!(lines[0]["receiver"], "hec");
    assert_eq!(lines[0]["event"], "one");
    assert_eq!(lines[0]["host"], "h1");
    assert_eq!(lines[0]["time_ms"], 1_700_000_000_250_u64);
    assert_eq!(lines[0]["user"], Value::Null);
    assert_eq!(lines[1]["event"], json!({"n": 2}));
    assert_eq!(lines[1]["fields"], json!({"f": ["a", "b"]}));
    drop(server);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn shutdown_closes_idle_connections_and_joins_promptly() {
    let server = echo_server(Limits::default()); // idle timeout 30 s
    let addr = server.local_addr();
    let mut idle = connect(&server);
    send(&mut idle, b"GET /x HTTP/1.1\r\n\r\n");
    assert_eq!(read_reply(&mut idle).status, 200);
    let (done, finished) = mpsc::channel();
    let started = Instant::now();
    thread::spawn(move || {
        server.shutdown();
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(10))
        .expect("shutdown joined");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(is_closed(&mut idle), "the idle connection was closed");
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "nothing listens any more"
    );
}

#[test]
fn dropping_the_server_also_joins() {
    let server = echo_server(Limits::default());
    let mut idle = connect(&server);
    send(&mut idle, b"GET /x HTTP/1.1\r\n\r\n");
    assert_eq!(read_reply(&mut idle).status, 200);
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        drop(server);
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(10))
        .expect("drop joined");
    assert!(is_closed(&mut idle));
}

#[test]
fn connections_beyond_the_limit_get_503_and_are_closed() {
    let server = echo_server(Limits {
        max_connections: 2,
        ..Limits::default()
    });
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut conn = connect(&server);
        send(&mut conn, b"GET /x HTTP/1.1\r\n\r\n");
        assert_eq!(read_reply(&mut conn).status, 200);
        held.push(conn);
    }
    let mut extra = connect(&server);
    let reply = read_reply(&mut extra);
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(is_closed(&mut extra));
    // Freeing one slot lets a new connection in.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.open_connections() > 1 {
        assert!(Instant::now() < deadline, "slot was not freed");
        thread::sleep(Duration::from_millis(10));
    }
    let mut conn = connect(&server);
    send(&mut conn, b"GET /x HTTP/1.1\r\n\r\n");
    assert_eq!(read_reply(&mut conn).status, 200);
}

#[test]
fn the_splunk_command_refuses_a_non_loopback_address() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args([
            "splunk",
            "--bind",
            "0.0.0.0",
            "--hec-port",
            "0",
            "--splunkd-port",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only listens on loopback"),
        "{out:?}"
    );
}
