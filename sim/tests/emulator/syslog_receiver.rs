//! The emulator's syslog receiver: framed messages over TCP and TLS and datagrams over UDP
//! arrive once each, in order per connection; malformed or oversized frames close only their
//! connection; the bounds hold; the emulator starts it and the control API lists its records.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use icsfwd_sim::splunk::control_client::{ControlClient, Query};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, Transport};
use icsfwd_sim::splunk::server::PlainTcp;
use icsfwd_sim::splunk::store::{Filter, ReceiverKind, Store, StoreConfig};
use icsfwd_sim::splunk::syslog::{RunningSyslog, SyslogLimits, tcp_receiver, udp_receiver};
use icsfwd_sim::splunk::tls::TlsMaterial;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

const TIMEOUT: Duration = Duration::from_secs(10);
const LOCAL: &str = "127.0.0.1:0";

fn store() -> Store {
    Store::new(StoreConfig::default()).unwrap()
}

/// Polls `done` until it holds or the deadline passes; whether it held.
fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    done()
}

fn message(host: &str, app: &str, n: usize) -> String {
    format!(
        "<134>1 2026-11-29T10:00:00.000Z {host} {app} - - - CEF:0|icsfwd|test|1|sig|msg {n}|10|"
    )
}

fn framed(message: &str) -> String {
    format!("{} {message}", message.len())
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(TIMEOUT)).unwrap();
    tcp
}

/// A client stream over plain TCP or TLS (`client`, verifying the name `localhost`).
fn connect(addr: SocketAddr, client: Option<&Arc<ClientConfig>>) -> Box<dyn Write + Send> {
    let tcp = tcp(addr);
    match client {
        None => Box::new(tcp),
        Some(config) => {
            let conn =
                ClientConnection::new(Arc::clone(config), "localhost".try_into().unwrap()).unwrap();
            Box::new(StreamOwned::new(conn, tcp))
        }
    }
}

/// The bodies stored with `host`, oldest first.
fn bodies(store: &Store, host: &str) -> Vec<String> {
    store
        .list(&Filter {
            host: Some(host.to_owned()),
            ..Filter::default()
        })
        .iter()
        .map(|r| r.body.text())
        .collect()
}

fn start_tcp(tls: Option<&TlsMaterial>, limits: SyslogLimits, store: &Store) -> RunningSyslog {
    let addr = LOCAL.parse().unwrap();
    match tls {
        None => tcp_receiver(addr, limits, PlainTcp, store.clone()).unwrap(),
        Some(material) => {
            tcp_receiver(addr, limits, material.acceptor().unwrap(), store.clone()).unwrap()
        }
    }
}

#[test]
fn a_thousand_framed_messages_over_tcp_and_tls_arrive_once_each_in_order_per_connection() {
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    for tls in [None, Some(&material)] {
        let store = store();
        let receiver = start_tcp(tls, SyslogLimits::default(), &store);
        let addr = receiver.local_addr();
        // Two connections at once, 500 messages each, one host per connection.
        let senders: Vec<_> = ["conn-a", "conn-b"]
            .into_iter()
            .map(|host| {
                let client = tls.map(|m| m.client_config().unwrap());
                thread::spawn(move || {
                    let mut stream = connect(addr, client.as_ref());
                    let sent: Vec<String> = (0..500).map(|n| message(host, "icsfwd", n)).collect();
                    for m in &sent {
                        stream.write_all(framed(m).as_bytes()).unwrap();
                    }
                    stream.flush().unwrap();
                    (host, sent, stream)
                })
            })
            .collect();
        let done: Vec<_> = senders.into_iter().map(|s| s.join().unwrap()).collect();
        assert!(
            wait_for(|| store.len() == 1_000),
            "tls={}: {} of 1000 stored",
            tls.is_some(),
            store.len()
        );
        for (host, sent, _stream) in &done {
            assert_eq!(&bodies(&store, host), sent, "tls={} {host}", tls.is_some());
        }
        let record = &store.list(&Filter::default())[0];
        assert_eq!(record.receiver, ReceiverKind::Syslog);
        assert_eq!(record.source, "icsfwd");
        assert_eq!(record.sourcetype, "syslog");
        assert!(record.time_ms > 0);
        assert_eq!(receiver.received(), 1_000);
        assert_eq!(receiver.rejected(), 0);
        drop(done);
        receiver.shutdown();
    }
}

#[test]
fn a_thousand_udp_datagrams_arrive_once_each_in_order() {
    let store = store();
    let receiver = udp_receiver(
        LOCAL.parse().unwrap(),
        SyslogLimits::default(),
        store.clone(),
    )
    .unwrap();
    let socket = UdpSocket::bind(LOCAL).unwrap();
    let sent: Vec<String> = (0..1_000).map(|n| message("udp-host", "app", n)).collect();
    // Paced in windows of 50, each awaited, so the loopback socket buffer never overflows.
    for (window, chunk) in sent.chunks(50).enumerate() {
        for m in chunk {
            socket.send_to(m.as_bytes(), receiver.local_addr()).unwrap();
        }
        let want = (window + 1) * 50;
        assert!(
            wait_for(|| store.len() >= want),
            "{} of {want}",
            store.len()
        );
    }
    assert_eq!(bodies(&store, "udp-host"), sent);
    assert_eq!(receiver.received(), 1_000);
    receiver.shutdown();
}

#[test]
fn lf_framed_and_octet_counted_messages_mix_on_one_connection() {
    let store = store();
    let receiver = start_tcp(None, SyslogLimits::default(), &store);
    let mut conn = tcp(receiver.local_addr());
    let (a, b, c) = (
        message("h", "x", 1),
        message("h", "x", 2),
        message("h", "x", 3),
    );
    write!(conn, "{a}\n{}{c}\r\n", framed(&b)).unwrap();
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(wait_for(|| store.len() == 3), "{}", store.len());
    assert_eq!(bodies(&store, "h"), vec![a, b, c]);
}

/// Whether the receiver closed `conn` (a read sees the end or a reset, not a timeout).
fn closed_by_peer(conn: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    match conn.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => !matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn a_malformed_or_oversized_frame_closes_its_connection_and_the_receiver_keeps_serving() {
    let limits = SyslogLimits {
        max_message: 100,
        ..SyslogLimits::default()
    };
    let cases: [(&str, String); 5] = [
        ("leading zero", "07 <1>1 -".to_owned()),
        ("no space after the length", "7<1>1 - x".to_owned()),
        ("letters in the length", "1x2 abc".to_owned()),
        ("length over the limit", format!("101 {}", "x".repeat(101))),
        ("line over the limit", format!("<1>{}\n", "y".repeat(200))),
    ];
    for (what, bad) in cases {
        let store = store();
        let receiver = start_tcp(None, limits.clone(), &store);
        let mut conn = tcp(receiver.local_addr());
        let good = message("before", "x", 0);
        write!(
            conn,
            "{}{bad}{}",
            framed(&good),
            framed(&message("after", "x", 0))
        )
        .unwrap();
        assert!(
            closed_by_peer(&mut conn),
            "{what}: the connection is closed"
        );
        assert_eq!(bodies(&store, "before"), vec![good], "{what}");
        assert!(
            bodies(&store, "after").is_empty(),
            "{what}: nothing after the bad frame"
        );
        assert_eq!(receiver.rejected(), 1, "{what}");
        // Another connection is served.
        let mut next = tcp(receiver.local_addr());
        let later = message("later", "x", 1);
        next.write_all(framed(&later).as_bytes()).unwrap();
        assert!(
            wait_for(|| bodies(&store, "later") == [later.clone()]),
            "{what}"
        );
        receiver.shutdown();
    }
}

#[test]
fn an_oversized_datagram_is_dropped_and_counted_and_the_next_is_stored() {
    let store = store();
    let limits = SyslogLimits {
        max_message: 100,
        ..SyslogLimits::default()
    };
    let receiver = udp_receiver(LOCAL.parse().unwrap(), limits, store.clone()).unwrap();
    let socket = UdpSocket::bind(LOCAL).unwrap();
    socket
        .send_to("z".repeat(101).as_bytes(), receiver.local_addr())
        .unwrap();
    let fits = format!("<1>1 - ok - - - {}", "w".repeat(100 - 16));
    assert_eq!(fits.len(), 100);
    socket
        .send_to(fits.as_bytes(), receiver.local_addr())
        .unwrap();
    assert!(wait_for(|| store.len() == 1));
    assert_eq!(bodies(&store, "ok"), vec![fits]);
    assert_eq!(receiver.rejected(), 1);
}

#[test]
fn a_connection_beyond_the_limit_is_closed_and_the_open_ones_are_served() {
    let store = store();
    let limits = SyslogLimits {
        max_connections: 1,
        ..SyslogLimits::default()
    };
    let receiver = start_tcp(None, limits, &store);
    let mut first = tcp(receiver.local_addr());
    first
        .write_all(framed(&message("first", "x", 0)).as_bytes())
        .unwrap();
    assert!(wait_for(
        || receiver.open_connections() == 1 && store.len() == 1
    ));
    let mut second = tcp(receiver.local_addr());
    assert!(
        closed_by_peer(&mut second),
        "the second connection is closed"
    );
    assert_eq!(receiver.rejected(), 1);
    first
        .write_all(framed(&message("first", "x", 1)).as_bytes())
        .unwrap();
    assert!(wait_for(|| store.len() == 2));
}

#[test]
fn shutdown_returns_with_connections_still_open_and_closes_them() {
    let store = store();
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let receiver = start_tcp(Some(&material), SyslogLimits::default(), &store);
    let mut idle = tcp(receiver.local_addr());
    assert!(wait_for(|| receiver.open_connections() == 1));
    let started = Instant::now();
    receiver.shutdown();
    assert!(started.elapsed() < TIMEOUT, "shutdown joined promptly");
    assert!(closed_by_peer(&mut idle));
}

#[test]
fn the_emulator_starts_the_receivers_and_the_control_api_lists_syslog_records() {
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let emulator = Emulator::start(EmulatorConfig {
        transport: Transport::Tls(material.acceptor().unwrap()),
        syslog_port: Some(0),
        syslog_udp_port: Some(0),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let mut stream = connect(
        emulator.syslog_addr().unwrap(),
        Some(&material.client_config().unwrap()),
    );
    stream
        .write_all(framed(&message("tls-host", "icsfwd", 1)).as_bytes())
        .unwrap();
    stream.flush().unwrap();
    let socket = UdpSocket::bind(LOCAL).unwrap();
    socket
        .send_to(
            message("udp-host", "icsfwd", 2).as_bytes(),
            emulator.syslog_udp_addr().unwrap(),
        )
        .unwrap();
    assert!(wait_for(|| emulator.store().len() == 2));
    let client = ControlClient::new(emulator.control_addr());
    let listed = client
        .events(&Query {
            receiver: Some("syslog".to_owned()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(listed["matched"], 2, "{listed}");
    let counted = client.count("receiver", &Query::default()).unwrap();
    assert_eq!(counted["counts"]["syslog"], 2, "{counted}");
    drop(stream);
    emulator.shutdown();
}

#[test]
fn the_emulator_runs_no_syslog_receiver_unless_asked() {
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    assert_eq!(emulator.syslog_addr(), None);
    assert_eq!(emulator.syslog_udp_addr(), None);
    emulator.shutdown();
}
