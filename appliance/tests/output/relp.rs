//! The RELP sender against scripted receivers on 127.0.0.1: each test's receiver speaks RELP
//! as the specification published with librelp writes it (its own small frame reader here, not
//! the sender's parser), then misbehaves in one way — refuses the session, drops the syslog
//! command, answers 500, sends a hostile frame, goes silent, says `serverclose` — and the tests
//! check what the sender reports (`send`'s outcome, `poll_acks`' report) and, through a real
//! worker and spool, what the worker does with it (dead-letter file, parked state, resends
//! counted as possible duplicates).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::deliver_support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use icsfwd::testing::deliver::stats::State;
use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::syslog::relp::RelpSender;
use icsfwd::testing::destination::syslog::{Syslog, Transport};
use icsfwd::testing::destination::{Outcome, Sender as _};
use icsfwd::testing::destination::{Timeouts, Tls};
use icsfwd_core::alert::Event;

use deliver_support::{
    all, batch, config, events, open_spool, produce, start, stats_of, timeouts, wait_until,
};

/// A frame the receiver read: connection number (from 0), TXNR, command, data.
type Seen = (usize, u32, String, Vec<u8>);

/// One accepted connection, from the receiver's side.
struct Peer {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    number: usize,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Peer {
    /// Reads `TXNR SP COMMAND SP DATALEN [SP DATA] LF`; `None` at end of stream.
    fn frame(&mut self) -> Option<(u32, String, Vec<u8>)> {
        let mut field = |end: u8| -> Option<String> {
            let mut bytes = Vec::new();
            self.reader.read_until(end, &mut bytes).ok()?;
            (bytes.pop() == Some(end)).then(|| String::from_utf8(bytes).unwrap())
        };
        let txnr: u32 = field(b' ')?.parse().unwrap();
        let command = field(b' ')?;
        let mut len = Vec::new();
        loop {
            let mut byte = [0u8];
            self.reader.read_exact(&mut byte).ok()?;
            if byte[0].is_ascii_digit() {
                len.push(byte[0]);
                continue;
            }
            let len: usize = String::from_utf8(len).unwrap().parse().unwrap();
            let mut data = vec![0; len];
            if len > 0 {
                assert_eq!(byte[0], b' ', "SP before DATA");
                self.reader.read_exact(&mut data).ok()?;
                self.reader.read_exact(&mut byte).ok()?;
            }
            assert_eq!(byte[0], b'\n', "the LF trailer");
            self.seen
                .lock()
                .unwrap()
                .push((self.number, txnr, command.clone(), data.clone()));
            return Some((txnr, command, data));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        drop(self.writer.write_all(bytes));
    }

    fn rsp(&mut self, txnr: u32, data: &str) {
        self.send(format!("{txnr} rsp {} {data}\n", data.len()).as_bytes());
    }

    /// Reads the `open` and answers it with `offers` (librelp's answer by default).
    fn open(&mut self, offers: Option<&str>) {
        let (txnr, command, data) = self.frame().unwrap();
        assert_eq!((txnr, command.as_str()), (1, "open"));
        let data = String::from_utf8(data).unwrap();
        assert!(
            data.contains("relp_version=0") && data.contains("commands=syslog"),
            "{data}"
        );
        let offers =
            offers.unwrap_or("relp_version=0\nrelp_software=librelp,1.11.0\ncommands=syslog");
        self.rsp(1, &format!("200 OK\n{offers}"));
    }

    /// Answers `200 OK` to every command until the stream ends (a `close` too).
    fn answer_all(&mut self) {
        while let Some((txnr, _, _)) = self.frame() {
            self.rsp(txnr, "200 OK");
        }
    }
}

/// A RELP receiver whose every connection runs `script`.
struct Receiver {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    fn start(script: impl Fn(&mut Peer) + Send + Sync + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let shared = Arc::clone(&seen);
        std::thread::spawn(move || {
            for (number, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let (script, seen) = (Arc::clone(&script), Arc::clone(&shared));
                std::thread::spawn(move || {
                    let mut peer = Peer {
                        reader: BufReader::new(stream.try_clone().unwrap()),
                        writer: stream,
                        number,
                        seen,
                    };
                    script(&mut peer);
                });
            }
        });
        Receiver { port, seen }
    }

    /// The `syslog` commands received: (connection, txnr, message).
    fn syslog(&self) -> Vec<(usize, u32, String)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, command, _)| command == "syslog")
            .map(|(c, t, _, data)| (*c, *t, String::from_utf8_lossy(data).into_owned()))
            .collect()
    }

    fn sender(&self, window: usize) -> RelpSender {
        let mut options = Syslog::new("127.0.0.1", self.port, Transport::Relp);
        options.window = window;
        RelpSender::new(&options, &Tls::default(), &timeouts()).unwrap()
    }
}

fn actions(outcome: &Outcome) -> Vec<(std::ops::Range<usize>, Action)> {
    outcome
        .parts
        .iter()
        .map(|p| (p.events.clone(), p.action.clone()))
        .collect()
}

/// Polls until something is reported or `limit` passes.
fn poll_until_reported(
    sender: &mut RelpSender,
    limit: Duration,
) -> icsfwd::testing::destination::AckReport {
    let give_up = Instant::now() + limit;
    loop {
        let report = sender.poll_acks(Instant::now());
        let anything =
            !report.indexed.is_empty() || !report.expired.is_empty() || !report.refused.is_empty();
        if anything || Instant::now() > give_up {
            return report;
        }
    }
}

#[test]
fn each_event_is_one_syslog_command_answered_by_txnr_and_close_ends_the_session() {
    let receiver = Receiver::start(|peer| {
        peer.open(None);
        peer.answer_all();
    });
    let events = events(5);
    let mut sender = receiver.sender(64);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(
        outcome
            .parts
            .iter()
            .all(|p| matches!(p.action, Action::AwaitingAck | Action::Delivered)),
        "{outcome:?}"
    );
    let mut confirmed = Vec::new();
    let give_up = Instant::now() + Duration::from_secs(10);
    while confirmed.len()
        + outcome
            .parts
            .iter()
            .filter(|p| p.action == Action::Delivered)
            .map(|p| p.events.len())
            .sum::<usize>()
        < 5
    {
        confirmed.extend(sender.poll_acks(Instant::now()).indexed);
        assert!(
            Instant::now() < give_up,
            "answers not reported: {confirmed:?}"
        );
    }
    assert_eq!(sender.pending_acks(), 0);
    let report = sender.finish();
    assert!(
        report.expired.is_empty() && report.refused.is_empty(),
        "{report:?}"
    );
    let syslog = receiver.syslog();
    assert_eq!(
        syslog.iter().map(|(c, t, _)| (*c, *t)).collect::<Vec<_>>(),
        [(0, 2), (0, 3), (0, 4), (0, 5), (0, 6)],
        "one session, transaction numbers from 2 after the open"
    );
    for ((_, _, message), event) in syslog.iter().zip(&events) {
        let Event::Alert(alert) = event else { panic!() };
        assert!(
            message.starts_with('<'),
            "RFC 5424, no octet count: {message}"
        );
        assert!(
            message.contains(&format!("id=\"{}\"", alert.event_id())),
            "{message}"
        );
    }
    wait_until(Duration::from_secs(5), "the close command", || {
        receiver
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|(_, t, c, _)| c == "close" && *t == 7)
    });
}

#[test]
fn a_receiver_without_the_syslog_command_or_refusing_the_open_parks() {
    for (offers, expected) in [
        (
            "200 OK\nrelp_version=0\ncommands=",
            "does not offer the syslog command",
        ),
        ("200 OK\ncommands=syslog", "offered no RELP version"),
        (
            "500 required command not supported by client",
            "refused the RELP session",
        ),
    ] {
        let receiver = Receiver::start(move |peer| {
            let (txnr, _, _) = peer.frame().unwrap();
            peer.rsp(txnr, offers);
            let _ = peer.frame();
        });
        let events = events(2);
        let outcome = receiver.sender(8).send(&batch(&events), Instant::now());
        let [(range, Action::Park { reason })] = &actions(&outcome)[..] else {
            panic!("{offers:?}: {outcome:?}");
        };
        assert_eq!(*range, 0..2);
        assert!(
            reason.contains(expected) && reason.contains("127.0.0.1:"),
            "{reason}"
        );
        assert!(
            receiver.syslog().is_empty(),
            "nothing sent before a usable open"
        );
    }
}

#[test]
fn hostile_frames_break_the_session_and_expire_what_was_unanswered() {
    let hostile: [&[u8]; 5] = [
        b"2 rsp 999999999 ",
        b"2 rsp 5000 ",
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        b"77 rsp 6 200 OK\n",
        b"2 syslog 2 hi\n",
    ];
    for frame in hostile {
        let receiver = Receiver::start(move |peer| {
            peer.open(None);
            let _ = peer.frame();
            let _ = peer.frame();
            peer.send(frame);
            // Keep the connection: the sender must act on the bytes, not on a close.
            std::thread::sleep(Duration::from_secs(5));
        });
        let events = events(2);
        let mut sender = receiver.sender(8);
        let outcome = sender.send(&batch(&events), Instant::now());
        let report = if outcome.uncertain {
            // The bytes came while the batch was written: it comes back to be resent.
            assert!(
                outcome
                    .parts
                    .iter()
                    .all(|p| matches!(p.action, Action::Retry { .. }))
            );
            sender.poll_acks(Instant::now())
        } else {
            let report = poll_until_reported(&mut sender, Duration::from_secs(5));
            assert_eq!(report.expired, [100, 101], "{frame:?}: {report:?}");
            report
        };
        let error = report.last_error.or(outcome.last_error).unwrap_or_default();
        assert!(error.contains("broke"), "{frame:?}: {error}");
        assert_eq!(sender.pending_acks(), 0);
    }
}

#[test]
fn serverclose_expires_the_unanswered_and_the_next_send_opens_a_new_session() {
    let receiver = Receiver::start(|peer| {
        peer.open(None);
        if peer.number == 0 {
            let (first, _, _) = peer.frame().unwrap();
            let _ = peer.frame();
            let _ = peer.frame();
            // After the send returned: its records are awaiting answers.
            std::thread::sleep(Duration::from_millis(300));
            peer.rsp(first, "200 OK");
            peer.send(b"0 serverclose 0\n");
            return;
        }
        peer.answer_all();
    });
    let events = events(4);
    let items = batch(&events);
    let mut sender = receiver.sender(8);
    let outcome = sender.send(&items[..3], Instant::now());
    assert!(!outcome.uncertain, "{outcome:?}");
    let mut indexed = Vec::new();
    let mut expired = Vec::new();
    let give_up = Instant::now() + Duration::from_secs(5);
    while expired.is_empty() && Instant::now() < give_up {
        let report = sender.poll_acks(Instant::now());
        indexed.extend(report.indexed);
        expired.extend(report.expired);
    }
    assert_eq!((indexed, expired), (vec![100], vec![101, 102]));
    // The worker resends them first, in order, with the next record.
    let outcome = sender.send(&items[1..], Instant::now());
    assert!(!outcome.uncertain, "{outcome:?}");
    wait_until(Duration::from_secs(5), "the resend", || {
        receiver.syslog().len() >= 6
    });
    let second: Vec<u32> = receiver
        .syslog()
        .iter()
        .filter(|(c, _, _)| *c == 1)
        .map(|(_, t, _)| *t)
        .collect();
    assert_eq!(second, [2, 3, 4], "a new session counts from 2 again");
    assert_eq!(sender.sessions_opened(), 2);
}

#[test]
fn a_receiver_that_never_answers_expires_the_records_after_the_response_timeout() {
    let receiver = Receiver::start(|peer| {
        peer.open(None);
        while peer.frame().is_some() {}
    });
    let events = events(3);
    let options = Syslog::new("127.0.0.1", receiver.port, Transport::Relp);
    let timeouts = Timeouts {
        response: Duration::from_millis(300),
        ..Timeouts::default()
    };
    let mut sender = RelpSender::new(&options, &Tls::default(), &timeouts).unwrap();
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(actions(&outcome), [(0..3, Action::AwaitingAck)]);
    let started = Instant::now();
    let report = poll_until_reported(&mut sender, Duration::from_secs(5));
    assert_eq!(report.expired, [100, 101, 102]);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "not before the timeout"
    );
    assert!(report.last_error.unwrap().contains("response timeout"));
}

#[test]
fn a_full_window_waits_for_answers_and_never_has_more_unanswered() {
    // The receiver answers each command only once the next one (or a pause) came, and checks
    // the sender never has more than the window unanswered.
    const WINDOW: usize = 3;
    let receiver = Receiver::start(|peer| {
        peer.open(None);
        let mut unanswered = Vec::new();
        peer.writer
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        loop {
            match peer.frame() {
                Some((txnr, _, _)) => {
                    unanswered.push(txnr);
                    assert!(unanswered.len() <= WINDOW, "window overrun: {unanswered:?}");
                }
                None if !unanswered.is_empty() => {
                    for txnr in unanswered.drain(..) {
                        peer.rsp(txnr, "200 OK");
                    }
                }
                None => return,
            }
        }
    });
    let events = events(10);
    let mut sender = receiver.sender(WINDOW);
    let outcome = sender.send(&batch(&events), Instant::now());
    let delivered: usize = outcome
        .parts
        .iter()
        .filter(|p| p.action == Action::Delivered)
        .map(|p| p.events.len())
        .sum();
    assert!(
        delivered >= 10 - WINDOW,
        "answered while the window was full: {outcome:?}"
    );
    assert_eq!(outcome.sent(), 10);
    wait_until(Duration::from_secs(5), "all 10 received", || {
        receiver.syslog().len() == 10
    });
}

/// A RELP destination to `port` for the worker tests.
fn relp_destination(port: u16) -> String {
    format!(
        "\n[[destination]]\nname = \"relp\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\nport = {port}\n\
         transport = \"relp\"\nresponse_timeout = \"2s\"\nretry_min = \"20ms\"\nretry_max = \"200ms\"\n"
    )
}

#[test]
fn the_worker_dead_letters_a_record_the_receiver_refuses_as_too_long_and_delivers_the_rest() {
    let receiver = Receiver::start(|peer| {
        peer.open(None);
        while let Some((txnr, _, data)) = peer.frame() {
            if String::from_utf8_lossy(&data).contains("Alert number 3") {
                peer.rsp(txnr, "500 frame too long");
            } else {
                peer.rsp(txnr, "200 OK");
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[relp_destination(receiver.port)]);
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    produce(&group.handle(), &events(5), all(&config), 1);
    wait_until(
        Duration::from_secs(20),
        "4 delivered, 1 dead-lettered",
        || {
            let s = stats_of(&running, "relp");
            s.delivered == 4 && s.dead_lettered == 1
        },
    );
    let dead = std::fs::read_to_string(dir.path().join("deadletter/relp.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 1, "{dead}");
    assert!(
        dead.contains("Alert number 3") && dead.contains("500 frame too long"),
        "{dead}"
    );
    wait_until(Duration::from_secs(10), "the spool emptied", || {
        deliver_support::backlog(&group.handle(), 0) == 0
    });
    assert_eq!(stats_of(&running, "relp").possible_duplicates, 0);
    running.shutdown(Duration::from_secs(5));
}

#[test]
fn the_worker_parks_on_a_refusal_it_cannot_blame_on_the_record_and_delivers_once_it_clears() {
    let refusals = Arc::new(Mutex::new(3u32));
    let left = Arc::clone(&refusals);
    let receiver = Receiver::start(move |peer| {
        peer.open(None);
        while let Some((txnr, _, _)) = peer.frame() {
            let mut left = left.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                peer.rsp(txnr, "500 command disabled");
            } else {
                peer.rsp(txnr, "200 OK");
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[relp_destination(receiver.port)]);
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    produce(&group.handle(), &events(1), all(&config), 1);
    wait_until(
        Duration::from_secs(10),
        "parked",
        || matches!(&stats_of(&running, "relp").state, State::Parked { reason } if reason.contains("500 command disabled")),
    );
    wait_until(
        Duration::from_secs(20),
        "delivered once the receiver takes it",
        || stats_of(&running, "relp").delivered == 1,
    );
    let stats = stats_of(&running, "relp");
    assert_eq!(
        (stats.dead_lettered, stats.possible_duplicates),
        (0, 0),
        "{stats:?}"
    );
    assert_eq!(
        receiver.syslog().len(),
        4,
        "three refusals, then the one delivery"
    );
    running.shutdown(Duration::from_secs(5));
}

#[test]
fn the_worker_resends_after_a_broken_session_and_counts_possible_duplicates() {
    // The first session answers 3 records and dies with 5 unanswered; the next takes all.
    let receiver = Receiver::start(|peer| {
        peer.open(None);
        if peer.number == 0 {
            for answered in 0..8 {
                let (txnr, _, _) = peer.frame().unwrap();
                if answered < 3 {
                    peer.rsp(txnr, "200 OK");
                }
            }
            drop(peer.writer.shutdown(std::net::Shutdown::Both));
            return;
        }
        peer.answer_all();
    });
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &[relp_destination(receiver.port)]);
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    produce(&group.handle(), &events(8), all(&config), 1);
    wait_until(Duration::from_secs(20), "all 8 delivered", || {
        stats_of(&running, "relp").delivered == 8
    });
    let stats = stats_of(&running, "relp");
    assert!(
        stats.possible_duplicates >= 5,
        "the 5 unanswered resends are counted: {stats:?}"
    );
    let second = receiver.syslog().iter().filter(|(c, _, _)| *c > 0).count();
    assert!(second >= 5, "resent on the next session");
    running.shutdown(Duration::from_secs(5));
}
