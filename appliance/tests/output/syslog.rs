//! The syslog sender against receivers written here: a TCP/TLS octet-counting parser and a UDP
//! socket, all on 127.0.0.1 with ephemeral ports. Every received message must be exactly what
//! the core renders for its event (header fields and payload), and arrive once.
//!
//! Over TCP and TLS the default `confirm = "tcp-ack"` holds every written record until the
//! receiver's TCP acknowledged it and the settle time passed ([`send_all`] polls until then);
//! a connection the receiver breaks hands its unconfirmed records back for a re-send. A TLS
//! receiver that requires a client certificate refuses a client without one after the TLS 1.3
//! handshake: the sender parks, naming the fix, and writes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::syslog::sender::{SyslogError, SyslogSender};
use icsfwd::testing::destination::syslog::session::Acceptance;
use icsfwd::testing::destination::syslog::{Confirm, Syslog, Transport};
use icsfwd::testing::destination::trust::Trust;
use icsfwd::testing::destination::{ClientCert, Timeouts, Tls};
use icsfwd::testing::destination::{Outcome, Sender};
use icsfwd_core::alert::Event;
use icsfwd_core::format::{SliceWriter, cef, leef, syslog, text};
use icsfwd_sim::generator::Generator;
use icsfwd_sim::splunk::tls::TlsMaterial;
use rustls::{ServerConnection, StreamOwned};

const N: usize = 10_000;

fn events(n: usize, seed: u64) -> Vec<Event> {
    let mut generator = Generator::new(seed, 1_700_000_000_000);
    (0..n)
        .map(|_| Event::from(generator.next_alert()))
        .collect()
}

fn rendered(event: &Event, options: &syslog::Options) -> String {
    let mut buf = vec![0u8; syslog::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    let n = syslog::write(event, options, &mut out).unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        tls: Duration::from_secs(5),
        response: Duration::from_secs(10),
        idle: Duration::from_secs(5),
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// Messages received, per connection in accept order.
type Received = Arc<Mutex<Vec<Vec<String>>>>;

/// Reads one RFC 6587 octet-counted frame; `None` at a clean end of stream.
fn read_frame<R: BufRead>(reader: &mut R) -> std::io::Result<Option<String>> {
    let mut len = 0usize;
    let mut digits = 0;
    loop {
        let mut byte = [0u8; 1];
        if reader.read(&mut byte)? == 0 {
            if digits == 0 {
                return Ok(None);
            }
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        match byte[0] {
            b' ' if digits > 0 => break,
            d @ b'0'..=b'9' if digits < 6 => {
                len = len * 10 + usize::from(d - b'0');
                digits += 1;
            }
            other => panic!("bad frame byte {other:#x} after {digits} digits"),
        }
    }
    assert!(len <= syslog::MAX_LEN, "frame of {len} bytes");
    let mut message = vec![0u8; len];
    reader.read_exact(&mut message)?;
    Ok(Some(String::from_utf8(message).expect("UTF-8 message")))
}

/// A TCP (or TLS) receiver; `plan[i] = Some(k)`: connection `i` is dropped after `k` frames
/// (with unread data, so the kernel resets it); otherwise it is read to its end.
struct StreamReceiver {
    port: u16,
    received: Received,
    closed: Arc<AtomicUsize>,
}

impl StreamReceiver {
    fn start(tls: Option<Arc<rustls::ServerConfig>>, plan: Vec<Option<usize>>) -> Self {
        Self::start_pausing(tls, plan, Duration::ZERO)
    }

    /// As [`start`](Self::start); a connection that reaches its frame limit waits `pause`
    /// (its TCP keeps acknowledging what arrives) before it is dropped.
    fn start_pausing(
        tls: Option<Arc<rustls::ServerConfig>>,
        plan: Vec<Option<usize>>,
        pause: Duration,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received: Received = Arc::default();
        let closed = Arc::new(AtomicUsize::new(0));
        let (r, c) = (Arc::clone(&received), Arc::clone(&closed));
        thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let limit = plan.get(index).copied().flatten();
                r.lock().unwrap().push(Vec::new());
                let reader: Box<dyn Read> = match &tls {
                    Some(config) => Box::new(StreamOwned::new(
                        ServerConnection::new(Arc::clone(config)).unwrap(),
                        stream,
                    )),
                    None => Box::new(stream),
                };
                let mut reader = BufReader::new(reader);
                loop {
                    if limit.is_some_and(|k| r.lock().unwrap()[index].len() >= k) {
                        thread::sleep(pause);
                        break;
                    }
                    match read_frame(&mut reader) {
                        Ok(Some(message)) => r.lock().unwrap()[index].push(message),
                        Ok(None) | Err(_) => break,
                    }
                }
                drop(reader);
                c.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self {
            port,
            received,
            closed,
        }
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().iter().map(Vec::len).sum()
    }

    fn all(&self) -> Vec<String> {
        self.received.lock().unwrap().concat()
    }
}

fn assert_exact(received: Vec<String>, events: &[Event], options: &syslog::Options) {
    let mut expected: Vec<String> = events.iter().map(|e| rendered(e, options)).collect();
    let mut received = received;
    expected.sort();
    received.sort();
    assert_eq!(received.len(), expected.len(), "one message per event");
    for (got, want) in received.iter().zip(&expected) {
        assert_eq!(got, want);
    }
}

/// Sends `events` in batches (sequence numbers from 0), each written and awaiting its TCP
/// confirmation, then polls until every one is confirmed, in order, none re-sent.
fn send_all(sender: &mut SyslogSender, events: &[Event], batch: usize) {
    for (chunk_index, chunk) in events.chunks(batch).enumerate() {
        let items: Vec<(u64, &Event)> = chunk
            .iter()
            .enumerate()
            .map(|(i, e)| ((chunk_index * batch + i) as u64, e))
            .collect();
        let outcome = sender.send(&items, Instant::now());
        assert_awaiting(&outcome, items.len());
    }
    let confirmed = confirm_all(sender);
    assert_eq!(confirmed, (0..events.len() as u64).collect::<Vec<_>>());
}

/// The whole batch of `len` was written and awaits its confirmation.
fn assert_awaiting(outcome: &Outcome, len: usize) {
    assert_eq!(outcome.parts.len(), 1, "{outcome:?}");
    assert_eq!(outcome.parts[0].events, 0..len, "{outcome:?}");
    assert_eq!(outcome.parts[0].action, Action::AwaitingAck, "{outcome:?}");
}

/// Polls until nothing awaits confirmation; the records confirmed, in order. A re-send
/// (expired record) fails the test.
fn confirm_all(sender: &mut SyslogSender) -> Vec<u64> {
    let mut confirmed = Vec::new();
    wait_for("the receiver's TCP confirmations", || {
        let report = sender.poll_acks(Instant::now());
        assert!(report.expired.is_empty(), "{report:?}");
        confirmed.extend(report.indexed);
        sender.pending_acks() == 0
    });
    confirmed
}

/// What a test builds a sender from: the destination's settings and how it connects.
struct Options {
    syslog: Syslog,
    tls: Tls,
    timeouts: Timeouts,
}

fn options(port: u16, transport: Transport, payload: syslog::Payload) -> Options {
    let mut syslog = Syslog::new("127.0.0.1", port, transport);
    syslog.message.payload = payload;
    Options {
        syslog,
        tls: Tls::default(),
        timeouts: timeouts(),
    }
}

fn build(options: Options) -> Result<SyslogSender, SyslogError> {
    SyslogSender::new(&options.syslog, &options.tls, &options.timeouts)
}

#[test]
fn tcp_delivers_ten_thousand_cef_messages_each_once_exactly_as_rendered() {
    let receiver = StreamReceiver::start(None, vec![]);
    let options = options(
        receiver.port,
        Transport::Tcp,
        syslog::Payload::Cef(cef::Options::default()),
    );
    let message = options.syslog.message.clone();
    let mut sender = build(options).unwrap();
    let events = events(N, 1);
    send_all(&mut sender, &events, 500);
    wait_for("every TCP message", || receiver.count() >= N);
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        1,
        "one kept connection"
    );
    assert_exact(receiver.all(), &events, &message);
    assert_eq!(sender.possible_loss(), 0);
}

#[test]
fn tls_delivers_ten_thousand_leef_messages_verified_against_the_ca_file() {
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    material.write_ca(&ca).unwrap();
    let receiver = StreamReceiver::start(Some(material.server_config().unwrap()), vec![]);
    let mut options = options(
        receiver.port,
        Transport::Tls,
        syslog::Payload::Leef(leef::Options::default()),
    );
    options.tls = Tls {
        trust: Trust::CaFile(ca),
        ..Tls::default()
    };
    let message = options.syslog.message.clone();
    let mut sender = build(options).unwrap();
    assert!(!sender.verification_disabled());
    let events = events(N, 2);
    send_all(&mut sender, &events, 500);
    wait_for("every TLS message", || receiver.count() >= N);
    assert_exact(receiver.all(), &events, &message);
}

#[test]
fn tls_with_the_wrong_ca_parks_with_a_verification_error() {
    let server = TlsMaterial::generate::<&str>(&[]).unwrap();
    let other = TlsMaterial::generate::<&str>(&[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("other-ca.pem");
    other.write_ca(&ca).unwrap();
    let receiver = StreamReceiver::start(Some(server.server_config().unwrap()), vec![]);
    let mut options = options(receiver.port, Transport::Tls, syslog::Payload::default());
    options.tls.trust = Trust::CaFile(ca);
    let mut sender = build(options).unwrap();
    let events = events(3, 3);
    let items: Vec<(u64, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect();
    let outcome = sender.send(&items, Instant::now());
    assert_eq!(outcome.parts.len(), 1, "{outcome:?}");
    assert_eq!(outcome.parts[0].events, 0..3);
    match &outcome.parts[0].action {
        Action::Park { reason } => assert!(
            reason.contains("TLS handshake") && reason.contains("certificate"),
            "{reason}"
        ),
        other => panic!("expected Park, got {other:?}"),
    }
    assert!(!outcome.uncertain, "nothing was written");
    assert_eq!(receiver.count(), 0);
}

/// A UDP receiver thread: every datagram, in arrival order.
fn udp_receiver() -> (u16, Arc<Mutex<Vec<String>>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let r = Arc::clone(&received);
    thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        while let Ok(n) = socket.recv(&mut buf) {
            r.lock()
                .unwrap()
                .push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
    });
    (port, received)
}

#[test]
fn udp_delivers_ten_thousand_text_messages_one_datagram_each() {
    let (port, received) = udp_receiver();
    let options = options(
        port,
        Transport::Udp,
        syslog::Payload::Text(text::Options::default()),
    );
    let message = options.syslog.message.clone();
    let mut sender = build(options).unwrap();
    let events = events(N, 4);
    // Small batches, each awaited: loopback UDP drops what the receive buffer cannot hold.
    for (chunk_index, chunk) in events.chunks(50).enumerate() {
        let items: Vec<(u64, &Event)> = chunk
            .iter()
            .enumerate()
            .map(|(i, e)| ((chunk_index * 50 + i) as u64, e))
            .collect();
        let outcome = sender.send(&items, Instant::now());
        assert!(outcome.all_delivered(), "{outcome:?}");
        let want = chunk_index * 50 + chunk.len();
        wait_for("the batch's datagrams", || {
            received.lock().unwrap().len() >= want
        });
    }
    let received = received.lock().unwrap().clone();
    assert_exact(received, &events, &message);
}

#[test]
fn udp_message_over_the_datagram_limit_is_dead_lettered_not_cut() {
    let (port, received) = udp_receiver();
    let mut options = options(
        port,
        Transport::Udp,
        syslog::Payload::Text(text::Options::default()),
    );
    let message = options.syslog.message.clone();
    let events = events(60, 5);
    let lengths: Vec<usize> = events.iter().map(|e| rendered(e, &message).len()).collect();
    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    let limit = sorted[sorted.len() / 2];
    options.syslog.max_datagram = limit;
    let mut sender = build(options).unwrap();
    let items: Vec<(u64, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect();
    let outcome: Outcome = sender.send(&items, Instant::now());
    let mut delivered = 0;
    for part in &outcome.parts {
        for index in part.events.clone() {
            let over = lengths[index] > limit;
            match &part.action {
                Action::Delivered => {
                    assert!(!over, "event {index} of {} bytes", lengths[index]);
                    delivered += 1;
                }
                Action::DeadLetter { reason } => {
                    assert!(over, "event {index}: {reason}");
                    assert!(reason.contains("datagram limit"), "{reason}");
                    assert!(reason.contains(&lengths[index].to_string()), "{reason}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(
        outcome.parts.iter().map(|p| p.events.len()).sum::<usize>(),
        events.len()
    );
    assert!(delivered > 0 && delivered < events.len());
    wait_for("the datagrams", || {
        received.lock().unwrap().len() >= delivered
    });
    let kept: Vec<Event> = events
        .iter()
        .zip(&lengths)
        .filter(|(_, len)| **len <= limit)
        .map(|(e, _)| e.clone())
        .collect();
    let received = received.lock().unwrap().clone();
    assert_exact(received, &kept, &message);
}

#[test]
fn tcp_reset_mid_batch_retries_uncertain_and_the_resend_reconnects_and_delivers_everything() {
    // The first connection reads 100 frames, then is dropped with unread data: a reset.
    let receiver = StreamReceiver::start(None, vec![Some(100)]);
    let options = options(receiver.port, Transport::Tcp, syslog::Payload::default());
    let message = options.syslog.message.clone();
    let mut sender = build(options).unwrap();
    let events = events(N, 6);
    let items: Vec<(u64, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect();
    // Ten thousand messages are megabytes: more than the socket buffers hold, so the write
    // is still in progress when the receiver resets.
    let outcome = sender.send(&items, Instant::now());
    assert_eq!(outcome.parts.len(), 1, "{outcome:?}");
    assert_eq!(outcome.parts[0].events, 0..N);
    assert_eq!(outcome.parts[0].action, Action::Retry { after: None });
    assert!(outcome.uncertain, "part of the batch may have arrived");
    assert!(outcome.last_error.is_some());
    assert_eq!(
        sender.pending_acks(),
        0,
        "nothing of the failed batch awaits"
    );
    let outcome = sender.send(&items, Instant::now());
    assert_awaiting(&outcome, N);
    assert_eq!(confirm_all(&mut sender).len(), N);
    wait_for("the resent batch", || {
        receiver.received.lock().unwrap().get(1).map_or(0, Vec::len) >= N
    });
    let connections = receiver.received.lock().unwrap().clone();
    assert_eq!(connections.len(), 2, "reconnected once");
    assert_eq!(connections[0].len(), 100);
    assert_exact(connections[1].clone(), &events, &message);
}

#[test]
fn with_confirm_write_a_peer_close_between_batches_is_counted_as_possible_loss_as_before() {
    // The first connection reads 10 of the 30 delivered frames, then is dropped. 30 frames are
    // under the sender's 64 KiB buffer: one write, complete before the receiver can reset.
    let receiver = StreamReceiver::start(None, vec![Some(10)]);
    let mut options = options(receiver.port, Transport::Tcp, syslog::Payload::default());
    options.syslog.confirm = Confirm::Write;
    let message = options.syslog.message.clone();
    let mut sender = build(options).unwrap();
    let events = events(60, 7);
    let items: Vec<(u64, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect();
    let first: usize = events[..30]
        .iter()
        .map(|e| rendered(e, &message).len() + 6)
        .sum();
    assert!(first < 64 * 1024, "the premise: one write of {first} bytes");
    let outcome = sender.send(&items[..30], Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    wait_for("the first connection's close", || {
        receiver.closed.load(Ordering::SeqCst) == 1
    });
    let lost = 30 - receiver.count();
    assert!(lost > 0);
    let outcome = sender.send(&items[30..], Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    let note = outcome.last_error.expect("the break is reported");
    assert!(note.contains("possible loss window"), "{note}");
    assert!(
        sender.possible_loss() >= lost as u64,
        "counted {} possibly lost, {lost} lost",
        sender.possible_loss()
    );
    assert_eq!(sender.possible_loss(), 30, "the whole unconfirmed window");
    wait_for("the second batch", || {
        receiver.received.lock().unwrap().get(1).map_or(0, Vec::len) >= 30
    });
    let connections = receiver.received.lock().unwrap().clone();
    assert_exact(connections[1].clone(), &events[30..], &message);
}

#[test]
fn tcp_receiver_down_gives_retry_not_uncertain() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut sender = build(options(port, Transport::Tcp, syslog::Payload::default())).unwrap();
    let events = events(2, 8);
    let items: Vec<(u64, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect();
    let outcome = sender.send(&items, Instant::now());
    assert_eq!(outcome, {
        let mut want = Outcome::whole(2, Action::Retry { after: None });
        want.last_error.clone_from(&outcome.last_error);
        want
    });
    assert!(
        outcome
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("cannot connect")),
        "{outcome:?}"
    );
}

#[test]
fn sender_for_builds_a_verified_tls_syslog_sender_from_the_configuration() {
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    material.write_ca(&ca).unwrap();
    let receiver = StreamReceiver::start(Some(material.server_config().unwrap()), vec![]);
    let path = dir.path().join("icsfwd.toml");
    std::fs::write(
        &path,
        format!(
            "[sensor]\nname = \"s1\"\nip = \"10.0.0.1\"\n\n[[destination]]\nname = \"siem\"\n\
             kind = \"syslog\"\nhost = \"127.0.0.1\"\nport = {}\ntransport = \"tls\"\n\
             payload = \"leef\"\nfacility = \"local0\"\nlevel = \"alert\"\nca_file = {:?}\n\n\
             [[rule]]\nname = \"all\"\nactions = [\"siem\"]\n\n[spool]\ndir = {:?}\n",
            receiver.port,
            ca.display().to_string(),
            dir.path().join("spool").display().to_string(),
        ),
    )
    .unwrap();
    let config = icsfwd::config::Config::load(&path).unwrap();
    let destination = config.destination("siem").unwrap();
    let message = destination.syslog_options().unwrap().clone();
    assert!(matches!(message.level, syslog::Level::Fixed(_)));
    assert!(matches!(message.payload, syslog::Payload::Leef(_)));
    let mut sender = icsfwd::testing::deliver::sender_for(destination, &config.sensor).unwrap();
    assert!(
        sender.poll_interval().is_some(),
        "tcp-ack: the sender sets its poll pace"
    );
    let events = events(50, 9);
    let items: Vec<(u64, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect();
    let outcome = sender.send(&items, Instant::now());
    assert_awaiting(&outcome, 50);
    let mut confirmed = 0;
    wait_for("the confirmations", || {
        confirmed += sender.poll_acks(Instant::now()).indexed.len();
        sender.pending_acks() == 0
    });
    assert_eq!(confirmed, 50);
    wait_for("the messages", || receiver.count() >= 50);
    assert_exact(receiver.all(), &events, &message);
    assert!(receiver.all().iter().all(|m| m.starts_with("<129>1 ")));
}

fn items(events: &[Event], first: u64) -> Vec<(u64, &Event)> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| (first + i as u64, e))
        .collect()
}

#[test]
fn tcp_ack_records_wait_for_the_receivers_tcp_and_the_settle_time_before_they_are_confirmed() {
    let receiver = StreamReceiver::start(None, vec![]);
    let mut options = options(receiver.port, Transport::Tcp, syslog::Payload::default());
    options.syslog.settle = Duration::from_millis(300);
    let mut sender = build(options).unwrap();
    let events = events(50, 10);
    let started = Instant::now();
    let outcome = sender.send(&items(&events, 0), started);
    assert_awaiting(&outcome, 50);
    assert_eq!(sender.pending_acks(), 50);
    wait_for("the receiver to read all", || receiver.count() >= 50);
    let early = sender.poll_acks(Instant::now());
    assert!(
        early.indexed.is_empty(),
        "acknowledged, not yet settled: {early:?}"
    );
    let confirmed = confirm_all(&mut sender);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "confirmed before the settle time"
    );
    assert_eq!(confirmed, (0..50).collect::<Vec<u64>>());
    assert_eq!(sender.possible_loss(), 0);
}

#[test]
fn tcp_ack_a_peer_reset_re_sends_every_unconfirmed_record_before_anything_newer_and_loses_none() {
    // The first connection reads 10 of 30 frames, then is dropped with unread data: a reset
    // that throws away frames its TCP had already acknowledged.
    let receiver = StreamReceiver::start(None, vec![Some(10)]);
    let mut options = options(receiver.port, Transport::Tcp, syslog::Payload::default());
    // Longer than this test can take to see the reset: nothing settles on the first connection.
    options.syslog.settle = Duration::from_secs(10);
    let message = options.syslog.message.clone();
    let mut sender = build(options).unwrap();
    let events = events(60, 11);
    let first = items(&events[..30], 0);
    let later = items(&events[30..], 30);
    assert_awaiting(&sender.send(&first, Instant::now()), 30);
    wait_for("the first connection's reset", || {
        receiver.closed.load(Ordering::SeqCst) == 1
    });
    assert_eq!(receiver.count(), 10, "20 frames lost with the connection");

    // Newer records are refused until the old ones are taken back, so order is kept.
    let refused = sender.send(&later, Instant::now());
    assert_eq!(refused.parts.len(), 1, "{refused:?}");
    assert_eq!(refused.parts[0].action, Action::Retry { after: None });
    assert!(!refused.uncertain, "nothing of it was written");
    let report = sender.poll_acks(Instant::now());
    assert!(report.indexed.is_empty(), "{report:?}");
    assert_eq!(
        report.expired,
        (0..30).collect::<Vec<u64>>(),
        "all handed back"
    );
    let why = report.last_error.expect("the break is reported");
    assert!(why.contains("re-sent on the next connection"), "{why}");
    assert_eq!(sender.pending_acks(), 0);

    // The re-send, then the newer records, on a new connection; all confirmed.
    assert_awaiting(&sender.send(&first, Instant::now()), 30);
    assert_awaiting(&sender.send(&later, Instant::now()), 30);
    assert_eq!(confirm_all(&mut sender), (0..60).collect::<Vec<u64>>());
    wait_for("the second connection", || {
        receiver.received.lock().unwrap().get(1).map_or(0, Vec::len) >= 60
    });
    let connections = receiver.received.lock().unwrap().clone();
    assert_eq!(connections.len(), 2);
    let want: Vec<String> = events.iter().map(|e| rendered(e, &message)).collect();
    assert_eq!(
        connections[1], want,
        "every record once, in order, none lost"
    );
    assert_eq!(sender.possible_loss(), 0);
}

#[test]
fn tcp_ack_records_acknowledged_but_unread_when_the_receiver_resets_within_the_settle_time_are_re_sent()
 {
    // The first connection reads 10 of 30 frames, keeps the rest unread in its buffer (its
    // TCP acknowledged them) for 300 ms, then resets. Polls meanwhile see them acknowledged;
    // only the settle time keeps them from counting as delivered.
    let receiver = StreamReceiver::start_pausing(None, vec![Some(10)], Duration::from_millis(300));
    let mut options = options(receiver.port, Transport::Tcp, syslog::Payload::default());
    options.syslog.settle = Duration::from_secs(10);
    let mut sender = build(options).unwrap();
    let events = events(30, 14);
    let batch = items(&events, 0);
    assert_awaiting(&sender.send(&batch, Instant::now()), 30);
    let mut polls = 0;
    // The receiver drops the connection before it counts it closed: a poll in between may
    // already see the reset and hand the records back, so every poll's expired are kept.
    let mut expired = Vec::new();
    while receiver.closed.load(Ordering::SeqCst) == 0 {
        let report = sender.poll_acks(Instant::now());
        assert!(
            report.indexed.is_empty(),
            "confirmed before the reset: {report:?}"
        );
        expired.extend(report.expired);
        polls += 1;
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        polls > 10,
        "polled while the receiver held the frames ({polls})"
    );
    wait_for("the reset to be seen", || {
        let report = sender.poll_acks(Instant::now());
        assert!(report.indexed.is_empty(), "{report:?}");
        expired.extend(report.expired);
        !expired.is_empty()
    });
    assert_eq!(
        expired,
        (0..30).collect::<Vec<u64>>(),
        "every one handed back"
    );
    assert_eq!(receiver.count(), 10, "the receiver read only 10");
}

/// A TLS receiver (rustls) that requires a client certificate from the material's CA.
fn mutual_tls() -> (TlsMaterial, tempfile::TempDir, StreamReceiver) {
    let material = TlsMaterial::generate_with_client::<&str>(&[], "icsfwd-client").unwrap();
    let dir = tempfile::tempdir().unwrap();
    material.write_ca(&dir.path().join("ca.pem")).unwrap();
    let receiver = StreamReceiver::start(
        Some(material.server_config_requiring_client_certs().unwrap()),
        vec![],
    );
    (material, dir, receiver)
}

#[test]
fn tls_a_receiver_requiring_a_client_certificate_refuses_a_client_without_one_and_it_parks() {
    let (_material, dir, receiver) = mutual_tls();
    let mut options = options(receiver.port, Transport::Tls, syslog::Payload::default());
    options.tls.trust = Trust::CaFile(dir.path().join("ca.pem"));
    let mut sender = build(options).unwrap();
    let events = events(3, 12);
    let outcome = sender.send(&items(&events, 0), Instant::now());
    assert_eq!(outcome.parts.len(), 1, "{outcome:?}");
    assert_eq!(outcome.parts[0].events, 0..3);
    match &outcome.parts[0].action {
        Action::Park { reason } => {
            assert!(reason.contains("refused the TLS session"), "{reason}");
            assert!(reason.contains("certificate_required"), "{reason}");
            assert!(
                reason.contains("set client_cert and client_key"),
                "{reason}"
            );
        }
        other => panic!("expected Park, got {other:?}"),
    }
    assert!(!outcome.uncertain, "nothing was written");
    assert_eq!(
        sender.pending_acks(),
        0,
        "nothing awaits, nothing is delivered"
    );
    assert!(sender.session().is_none(), "no connection counts as open");
    thread::sleep(Duration::from_millis(100));
    assert_eq!(receiver.count(), 0);
}

#[test]
fn tls_with_the_client_certificate_every_record_arrives_once_and_is_confirmed() {
    let (material, dir, receiver) = mutual_tls();
    let (cert, key) = (dir.path().join("client.pem"), dir.path().join("client.key"));
    material.write_client_identity(&cert, &key).unwrap();
    let mut options = options(receiver.port, Transport::Tls, syslog::Payload::default());
    options.tls.trust = Trust::CaFile(dir.path().join("ca.pem"));
    options.tls.client = Some(ClientCert { cert, key });
    let message = options.syslog.message.clone();
    let mut sender = build(options).unwrap();
    let events = events(500, 13);
    send_all(&mut sender, &events, 100);
    let tls = sender
        .session()
        .and_then(|s| s.tls.clone())
        .expect("a TLS session");
    assert_eq!(tls.version, "TLS 1.3");
    assert_eq!(
        tls.acceptance,
        Acceptance::SessionTicket,
        "the receiver's ticket proves it"
    );
    assert!(tls.client_certificate);
    wait_for("every TLS message", || receiver.count() >= 500);
    assert_exact(receiver.all(), &events, &message);
}

#[test]
fn the_emulators_tls_syslog_receiver_accepts_with_a_session_ticket_and_refuses_without_a_client_certificate()
 {
    use icsfwd_sim::splunk::store::{Store, StoreConfig};
    use icsfwd_sim::splunk::syslog::{SyslogLimits, tcp_receiver};
    use icsfwd_sim::splunk::tls::TlsAcceptor;

    let material = TlsMaterial::generate_with_client::<&str>(&[], "icsfwd-client").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    material.write_ca(&ca).unwrap();
    let (cert, key) = (dir.path().join("client.pem"), dir.path().join("client.key"));
    material.write_client_identity(&cert, &key).unwrap();
    let events = events(20, 15);
    for (server, client, accepted) in [
        (material.server_config().unwrap(), None, true),
        (
            material.server_config_requiring_client_certs().unwrap(),
            None,
            false,
        ),
        (
            material.server_config_requiring_client_certs().unwrap(),
            Some((cert.clone(), key.clone())),
            true,
        ),
    ] {
        let store = Store::new(StoreConfig::default()).unwrap();
        let receiver = tcp_receiver(
            "127.0.0.1:0".parse().unwrap(),
            SyslogLimits::default(),
            TlsAcceptor::new(server),
            store.clone(),
        )
        .unwrap();
        let port = receiver.local_addr().port();
        let mut options = options(port, Transport::Tls, syslog::Payload::default());
        options.tls.trust = Trust::CaFile(ca.clone());
        options.tls.client = client.map(|(cert, key)| ClientCert { cert, key });
        let mut sender = build(options).unwrap();
        let started = Instant::now();
        let outcome = sender.send(&items(&events, 0), started);
        if accepted {
            assert_awaiting(&outcome, 20);
            let tls = sender.session().and_then(|s| s.tls.clone()).unwrap();
            assert_eq!(tls.acceptance, Acceptance::SessionTicket);
            assert!(
                started.elapsed() < Duration::from_millis(900),
                "no wait for a verdict: the ticket came at once"
            );
            assert_eq!(confirm_all(&mut sender).len(), 20);
            wait_for("the emulator to store all", || store.len() >= 20);
        } else {
            assert!(
                matches!(&outcome.parts[0].action, Action::Park { reason }
                    if reason.contains("set client_cert and client_key")),
                "{outcome:?}"
            );
            assert_eq!(store.len(), 0);
        }
        receiver.shutdown();
    }
}
