//! Every fault action, as a client sees it over real loopback TCP against the whole emulator.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use icsfwd_sim::splunk::faults::{FaultSpec, State};
use icsfwd_sim::splunk::hec::{STATUS_TABLE, Token};
use icsfwd_sim::splunk::splunkd::User;
use serde_json::Value;

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
const ACK_TOKEN: &str = "99999999-2222-3333-4444-555555555555";
const CHANNEL: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const DEADLINE: Duration = Duration::from_secs(10);

fn emulator_with(seed: u64, faults: &[&str]) -> RunningEmulator {
    let mut config = EmulatorConfig::default();
    config.hec.tokens.push(Token::new("ot", TOKEN));
    let mut acked = Token::new("acked", ACK_TOKEN);
    acked.use_ack = true;
    config.hec.tokens.push(acked);
    config
        .splunkd
        .users
        .push(User::new("admin", "changeme", true));
    config.fault_seed = seed;
    config.faults = faults.iter().map(|spec| spec.parse().unwrap()).collect();
    Emulator::start(config).unwrap()
}

fn emulator(faults: &[&str]) -> RunningEmulator {
    emulator_with(1, faults)
}

fn add(emulator: &RunningEmulator, spec: &str) -> u64 {
    emulator
        .faults()
        .add(spec.parse::<FaultSpec>().unwrap())
        .unwrap()
}

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
        serde_json::from_str(&self.body).unwrap()
    }
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(DEADLINE)).unwrap();
    BufReader::new(conn)
}

fn send(conn: &mut BufReader<TcpStream>, method: &str, path: &str, auth: &str, body: &str) {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Splunk {auth}\r\n\
         X-Splunk-Request-Channel: {CHANNEL}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.get_mut().write_all(head.as_bytes()).unwrap();
    conn.get_mut().write_all(body.as_bytes()).unwrap();
}

fn read_reply(conn: &mut BufReader<TcpStream>) -> io::Result<Reply> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        conn.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, value)| value.parse().unwrap());
    let mut body = vec![0; length];
    conn.read_exact(&mut body)?;
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    })
}

fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> Reply {
    let mut conn = connect(addr);
    send(&mut conn, method, path, TOKEN, body);
    read_reply(&mut conn).unwrap()
}

fn post_event(addr: SocketAddr, text: &str) -> Reply {
    request(
        addr,
        "POST",
        "/services/collector/event",
        &format!(r#"{{"event":"{text}"}}"#),
    )
}

fn health(addr: SocketAddr) -> u16 {
    request(addr, "GET", "/services/collector/health", "").status
}

/// Polls `check` until it holds or the deadline passes.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for: {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn refused(addr: SocketAddr) -> bool {
    matches!(
        TcpStream::connect(addr),
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused
    )
}

/// Reads what the server sends after a faulted request: the bytes before EOF or a reset.
fn bytes_until_close(conn: &mut BufReader<TcpStream>) -> (Vec<u8>, Option<io::ErrorKind>) {
    let mut got = Vec::new();
    match conn.read_to_end(&mut got) {
        Ok(_) => (got, None),
        Err(err) => (got, Some(err.kind())),
    }
}

#[test]
fn down_refuses_connections_until_removed_then_the_same_port_accepts_again() {
    let emulator = emulator(&[]);
    let (hec, splunkd) = (emulator.hec_addr(), emulator.splunkd_addr());
    let id = add(&emulator, "all:down");
    eventually("HEC refuses", || refused(hec));
    eventually("splunkd refuses", || refused(splunkd));
    assert_eq!(
        request(emulator.control_addr(), "GET", "/_sim/stats", "").status,
        200,
        "faults never apply to the control port"
    );
    assert!(emulator.faults().remove(id));
    eventually("HEC accepts again", || !refused(hec));
    assert_eq!(health(hec), 200);
    assert_eq!(emulator.hec_addr(), hec);
}

#[test]
fn down_for_a_duration_comes_back_by_itself_and_counts_each_closed_listener() {
    let emulator = emulator(&["hec:down,for=1s"]);
    let hec = emulator.hec_addr();
    eventually("HEC refuses", || refused(hec));
    assert!(!refused(emulator.splunkd_addr()), "splunkd is not targeted");
    eventually("HEC is back after 1s", || !refused(hec));
    assert_eq!(health(hec), 200);
    let listed = &emulator.faults().list()[0];
    assert_eq!((listed.fired, listed.state), (1, State::Expired));
}

#[test]
fn down_resets_requests_on_connections_opened_before_it() {
    let emulator = emulator(&[]);
    let mut conn = connect(emulator.hec_addr());
    send(&mut conn, "GET", "/services/collector/health", TOKEN, "");
    assert_eq!(read_reply(&mut conn).unwrap().status, 200);
    add(&emulator, "hec:down");
    send(&mut conn, "GET", "/services/collector/health", TOKEN, "");
    let (bytes, _) = bytes_until_close(&mut conn);
    assert!(bytes.is_empty());
}

#[test]
fn next_n_faults_exactly_n_requests_then_answers_normally() {
    let emulator = emulator(&["hec:status=503,code=9,next=3"]);
    let statuses: Vec<u16> = (0..5)
        .map(|n| post_event(emulator.hec_addr(), &format!("e{n}")).status)
        .collect();
    assert_eq!(statuses, [503, 503, 503, 200, 200]);
    assert_eq!(emulator.store().len(), 2, "faulted requests index nothing");
    let listed = &emulator.faults().list()[0];
    assert_eq!((listed.fired, listed.state), (3, State::Spent));
}

#[test]
fn a_fraction_with_a_fixed_seed_replays_the_same_sequence() {
    let run = |seed| {
        let emulator = emulator_with(seed, &["hec:status=500,code=8,fraction=0.5"]);
        let mut conn = connect(emulator.hec_addr());
        (0..40)
            .map(|_| {
                send(&mut conn, "GET", "/services/collector/health", TOKEN, "");
                read_reply(&mut conn).unwrap().status
            })
            .collect::<Vec<u16>>()
    };
    let first = run(42);
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
    assert_eq!(first, run(42));
    assert_ne!(first, run(43));
}

#[test]
fn status_faults_answer_the_status_table_row_or_the_servers_error_body() {
    let row = |code: usize| {
        let row = STATUS_TABLE[code];
        format!(r#"{{"text":"{}","code":{code}}}"#, row.text)
    };
    for (spec, http, body, retry_after) in [
        ("hec:status=503,code=9", 503, row(9), None),
        ("hec:status=500,code=8", 500, row(8), None),
        ("hec:status=403,code=4", 403, row(4), None),
        ("hec:status=401,code=2", 401, row(2), None),
        ("hec:status=401,code=3", 401, row(3), None),
        ("hec:status=503", 503, row(9), None),
        ("hec:status=200", 200, row(0), None),
        (
            "hec:status=413",
            413,
            r#"{"text":"Payload Too Large","code":413}"#.to_owned(),
            None,
        ),
        ("hec:status=429,retry-after=5", 429, row(26), Some("5")),
    ] {
        let emulator = emulator(&[spec]);
        let reply = post_event(emulator.hec_addr(), "x");
        assert_eq!(reply.status, http, "{spec}");
        assert_eq!(reply.body, body, "{spec}");
        assert_eq!(reply.header("retry-after"), retry_after, "{spec}");
        assert!(emulator.store().is_empty(), "{spec}: nothing indexed");
    }
    let emulator = emulator(&["splunkd:status=401"]);
    let reply = request(emulator.splunkd_addr(), "GET", "/services/server/info", "");
    assert_eq!(reply.status, 401);
    assert!(
        reply
            .body
            .contains(r#"<msg type="WARN">call not properly authenticated</msg>"#),
        "{}",
        reply.body
    );
}

#[test]
fn a_path_filter_faults_only_matching_requests() {
    let emulator = emulator(&["hec:status=503,path=/services/collector/ack"]);
    let addr = emulator.hec_addr();
    let mut conn = connect(addr);
    send(
        &mut conn,
        "POST",
        "/services/collector/event",
        ACK_TOKEN,
        r#"{"event":"a"}"#,
    );
    assert_eq!(read_reply(&mut conn).unwrap().status, 200);
    send(
        &mut conn,
        "POST",
        "/services/collector/ack",
        ACK_TOKEN,
        r#"{"acks":[0]}"#,
    );
    assert_eq!(read_reply(&mut conn).unwrap().status, 503);
}

#[test]
fn lost_response_indexes_the_event_but_the_client_gets_no_reply() {
    let emulator = emulator(&["hec:lost-response,next=1"]);
    let mut conn = connect(emulator.hec_addr());
    send(
        &mut conn,
        "POST",
        "/services/collector/event",
        TOKEN,
        r#"{"event":"lost"}"#,
    );
    let (bytes, error) = bytes_until_close(&mut conn);
    assert!(bytes.is_empty(), "no response bytes");
    assert_eq!(error, Some(io::ErrorKind::ConnectionReset));
    assert_eq!(emulator.store().len(), 1, "the event was indexed");
    assert_eq!(post_event(emulator.hec_addr(), "again").status, 200);
}

#[test]
fn reset_closes_the_connection_before_anything_is_indexed() {
    let emulator = emulator(&["hec:reset,next=1"]);
    let mut conn = connect(emulator.hec_addr());
    send(
        &mut conn,
        "POST",
        "/services/collector/event",
        TOKEN,
        r#"{"event":"gone"}"#,
    );
    let (bytes, error) = bytes_until_close(&mut conn);
    assert!(bytes.is_empty());
    assert_eq!(error, Some(io::ErrorKind::ConnectionReset));
    assert!(emulator.store().is_empty());
}

#[test]
fn hang_sends_nothing_and_shutdown_still_returns_promptly() {
    let emulator = emulator(&["hec:hang"]);
    let mut conn = connect(emulator.hec_addr());
    conn.get_ref()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    send(&mut conn, "GET", "/services/collector/health", TOKEN, "");
    let mut byte = [0u8; 1];
    let waited = conn.read(&mut byte).unwrap_err().kind();
    assert!(matches!(
        waited,
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ));
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        emulator.shutdown();
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(DEADLINE)
        .expect("shutdown returned despite the hung connection");
    conn.get_ref().set_read_timeout(Some(DEADLINE)).unwrap();
    let (bytes, _) = bytes_until_close(&mut conn);
    assert!(bytes.is_empty(), "never an answer");
}

#[test]
fn hang_ends_without_a_reply_when_the_fault_is_removed() {
    let emulator = emulator(&[]);
    let id = add(&emulator, "hec:hang,next=1");
    let mut conn = connect(emulator.hec_addr());
    send(&mut conn, "GET", "/services/collector/health", TOKEN, "");
    eventually("the hang fired", || emulator.faults().list()[0].fired == 1);
    assert!(emulator.faults().remove(id));
    let (bytes, error) = bytes_until_close(&mut conn);
    assert!(bytes.is_empty());
    assert_eq!(error, None, "closed with EOF");
    assert_eq!(health(emulator.hec_addr()), 200);
}

#[test]
fn slow_answers_normally_after_the_delay() {
    let emulator = emulator(&["hec:slow=300"]);
    let start = Instant::now();
    let reply = post_event(emulator.hec_addr(), "late");
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(reply.body, r#"{"text":"Success","code":0}"#);
    assert_eq!(emulator.store().len(), 1);
}

#[test]
fn trickle_writes_the_whole_answer_no_faster_than_the_rate() {
    let emulator = emulator(&["hec:trickle=500"]);
    let mut conn = connect(emulator.hec_addr());
    let start = Instant::now();
    send(
        &mut conn,
        "POST",
        "/services/collector/event",
        TOKEN,
        r#"{"event":"t"}"#,
    );
    let reply = read_reply(&mut conn).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(reply.body, r#"{"text":"Success","code":0}"#);
    let head_and_body = 150; // well under the real size (~230 bytes)
    assert!(
        elapsed >= Duration::from_millis(head_and_body * 1000 / 500),
        "{elapsed:?}"
    );
}

fn ack_state(addr: SocketAddr, id: u64) -> bool {
    let mut conn = connect(addr);
    send(
        &mut conn,
        "POST",
        "/services/collector/ack",
        ACK_TOKEN,
        &format!(r#"{{"acks":[{id}]}}"#),
    );
    let reply = read_reply(&mut conn).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["acks"][id.to_string()].as_bool().unwrap()
}

fn post_acked(addr: SocketAddr) -> u64 {
    let mut conn = connect(addr);
    send(
        &mut conn,
        "POST",
        "/services/collector/event",
        ACK_TOKEN,
        r#"{"event":"a"}"#,
    );
    let reply = read_reply(&mut conn).unwrap();
    reply.json()["ackId"].as_u64().unwrap()
}

#[test]
fn ack_never_keeps_acks_false_until_released_by_hand() {
    let emulator = emulator(&["hec:ack=never"]);
    let addr = emulator.hec_addr();
    let id = post_acked(addr);
    for _ in 0..5 {
        assert!(!ack_state(addr, id));
    }
    assert_eq!(
        emulator.faults().list()[0].fired,
        1,
        "ack polls do not count"
    );
    assert_eq!(emulator.hec().lock().unwrap().pending_total(), 1);
    assert_eq!(emulator.hec().lock().unwrap().release_acks(None), 1);
    assert!(ack_state(addr, id));
}

#[test]
fn ack_delay_reads_false_then_true_once() {
    let emulator = emulator(&["hec:ack-delay=1000"]);
    let addr = emulator.hec_addr();
    let issued = Instant::now();
    let id = post_acked(addr);
    let first = ack_state(addr, id);
    assert!(!first || issued.elapsed() >= Duration::from_millis(1000));
    eventually("the ack turns true", || ack_state(addr, id));
    assert!(issued.elapsed() >= Duration::from_millis(1000));
    assert!(!ack_state(addr, id), "an ack reads true once");
}
