//! Requests in flight together (`requests_in_flight`, `destination/hec/sender.rs`): a full
//! batch is spread over that many lanes by sensor, one request per lane sent at once on its
//! own connection; each event is stored exactly once and each sensor's alerts in order; their
//! ack ids, numbered in whatever order the collector finished them, are all confirmed and
//! none taken for a restarted counter.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::hec_packed::{items, packed};
use crate::support as output_support;

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use icsfwd::testing::destination::Sender;
use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::hec::sender::HecSender;
use icsfwd::testing::destination::hec::{Hec, default_requests_in_flight};
use icsfwd::testing::spool::packed::Packed;
use icsfwd_core::alert::{Alert, Event};
use icsfwd_sim::splunk::emulator::RunningEmulator;
use icsfwd_sim::splunk::faults::Server;
use icsfwd_sim::splunk::store::{Body, Filter};
use output_support::*;

/// A sender to `url` with `in_flight` requests in flight, edited by `edit`.
fn hec_sender(url: &str, tls: &Tls, in_flight: usize, edit: impl FnOnce(&mut Hec)) -> HecSender {
    crate::hec_streamed::hec_sender(&[url.to_owned()], tls, |h| {
        h.requests_in_flight = in_flight;
        edit(h);
    })
}

/// `n` alerts (ids 1..=n) from 16 sensors in turn.
fn sensor_events(n: u64) -> Vec<Event> {
    (1..=n)
        .map(|id| {
            let mut alert = Alert::example(1_700_000_000_000 + id * 1000);
            alert.id = id;
            alert.set_sensor_name(&format!("sensor-{}", id % 16));
            alert.set_title(&format!("Alert number {id}"));
            Event::from(alert)
        })
        .collect()
}

/// The lane (of `width`) each event goes in: its sensor's key modulo the width, as
/// `docs/configuration.md` (`requests_in_flight`) describes it.
fn lane_of(event: &Event, width: usize) -> usize {
    Packed::new(event).unwrap().sensor_key() as usize % width
}

/// One HTTP request read from `reader`: its path and body (`Content-Length` bytes); `None`
/// when the peer closed the connection first.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut len = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            len = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some((path, String::from_utf8(body).ok()?))
}

fn reply(stream: &mut TcpStream, body: &str) {
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
}

/// A collector on 127.0.0.1 that reads the first two event requests and answers neither
/// before it holds both (so it proves they were in flight together: one request at a time
/// would wait for its answer for ever). The one holding the alert titled `first_lane` (an
/// alert of the first lane, whose reply the sender reads first) is answered with ack id 1,
/// the other with ack id 0: the reverse of the order the sender reads them in. Ack queries
/// read every id asked `true`. Returns its URL and the event request bodies it received.
fn collector_answering_two_at_once(
    first_lane: String,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let both = Arc::new(Barrier::new(2));
    let seen = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let (seen, both) = (Arc::clone(&seen), Arc::clone(&both));
            let marker = format!("\"{first_lane}\"");
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                while let Some((path, body)) = read_request(&mut reader) {
                    if path.ends_with("/ack") {
                        let query: serde_json::Value = serde_json::from_str(&body).unwrap();
                        let acks: Vec<String> = query["acks"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|id| format!("\"{id}\":true"))
                            .collect();
                        reply(&mut writer, &format!("{{\"acks\":{{{}}}}}", acks.join(",")));
                        continue;
                    }
                    let first_half = body.contains(&marker);
                    let count = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(body);
                        seen.len()
                    };
                    if count <= 2 {
                        both.wait();
                    }
                    let ack_id = u64::from(first_half);
                    reply(
                        &mut writer,
                        &format!("{{\"text\":\"Success\",\"code\":0,\"ackId\":{ack_id}}}"),
                    );
                }
            });
        }
    });
    (url, bodies)
}

#[test]
fn a_full_batch_goes_one_request_per_lane_each_event_once_each_sensor_in_order() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let events = sensor_events(400);
    for in_flight in [2, 3, 8] {
        emulator.store().clear();
        let requests_before = emulator.stats().count(Server::Hec, "200");
        let mut sender = hec_sender(&emulator.hec_url(), &tls, in_flight, |_| {});
        let packed = packed(&events);
        let outcome = sender.send_packed(&items(&packed), Instant::now());
        assert!(outcome.all_delivered(), "{in_flight}: {outcome:?}");
        assert_eq!(outcome.parts.len(), 1);
        assert_eq!(outcome.parts[0].events, 0..400);
        // One request per lane that holds events (each well under 500 events).
        let lanes: BTreeSet<usize> = events.iter().map(|e| lane_of(e, in_flight)).collect();
        assert!(lanes.len() > 1, "16 sensors over {in_flight} lanes");
        let requests = emulator.stats().count(Server::Hec, "200") - requests_before;
        assert_eq!(requests, lanes.len() as u64, "{in_flight} in flight");
        let stored = emulator.store().list(&Filter::default());
        assert_eq!(stored.len(), 400, "{in_flight}: each event once");
        let mut ids = BTreeSet::new();
        let mut last: std::collections::BTreeMap<String, u64> = Default::default();
        for s in &stored {
            let Body::Json(event) = &s.body else {
                panic!("not a JSON event: {:?}", s.body)
            };
            let id = event["id"].as_str().unwrap().to_owned();
            let (sensor, number) = id.rsplit_once('-').unwrap();
            let number: u64 = number.parse().unwrap();
            let before = last.insert(sensor.to_owned(), number);
            assert!(
                before.is_none_or(|b| b < number),
                "{in_flight}: {id} stored after {sensor}-{before:?}"
            );
            ids.insert(id);
        }
        assert_eq!(ids.len(), 400, "{in_flight}: each event once");
    }
}

#[test]
fn requests_in_flight_are_on_the_wire_together() {
    let events = sensor_events(400);
    let first = events.iter().find(|e| lane_of(e, 2) == 0).unwrap();
    let (url, bodies) = collector_answering_two_at_once(title(first));
    let mut sender = hec_sender(&url, &Tls::new(), 2, |_| {});
    let packed = packed(&events);
    let outcome = sender.send_packed(&items(&packed), Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2, "one request per lane");
    let lines: usize = bodies.iter().map(|b| b.lines().count()).sum();
    assert_eq!(lines, 400);
}

fn title(event: &Event) -> String {
    let Event::Alert(alert) = event else {
        panic!("an alert")
    };
    alert.title.to_string()
}

/// The HEC requests a sender to `emulator` with `in_flight` in flight, edited by `edit`, makes
/// for `events` (all delivered).
fn requests_for(
    emulator: &RunningEmulator,
    tls: &Tls,
    events: &[Event],
    in_flight: usize,
    edit: impl FnOnce(&mut Hec),
) -> u64 {
    let requests_before = emulator.stats().count(Server::Hec, "200");
    let mut sender = hec_sender(&emulator.hec_url(), tls, in_flight, edit);
    let packed = packed(events);
    let outcome = sender.send_packed(&items(&packed), Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    emulator.stats().count(Server::Hec, "200") - requests_before
}

#[test]
fn a_small_batch_one_sensor_or_one_in_flight_goes_as_one_request() {
    let tls = Tls::new();
    let emulator = start(&tls);
    // Below twice the fewest a batch spread holds (100): one request, as at a steady rate;
    // a full batch of one sensor (events(): every alert from one sensor); and a full batch
    // with one request in flight.
    for (events, in_flight) in [
        (sensor_events(199), 2usize),
        (events(400), 2),
        (sensor_events(400), 1),
    ] {
        let requests = requests_for(&emulator, &tls, &events, in_flight, |_| {});
        assert_eq!(
            requests,
            1,
            "{} events, {in_flight} in flight",
            events.len()
        );
    }
}

#[test]
fn left_out_it_is_one_request_while_hec_senders_have_fewer_than_two_cores_each() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let events = sensor_events(400);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    // As many other HEC senders alive as there are cores (a service with that many HEC
    // destinations; this binary's other tests can only add to them): under two cores each.
    let others: Vec<HecSender> = (0..cores)
        .map(|_| hec_sender(&emulator.hec_url(), &tls, 2, |_| {}))
        .collect();
    assert_eq!(default_requests_in_flight(others.len() + 1, cores), 1);
    for (left_out, want) in [(true, 1u64), (false, 2)] {
        let requests = requests_for(&emulator, &tls, &events, 2, |h| {
            h.in_flight_by_cores = left_out;
        });
        assert_eq!(
            requests,
            want,
            "left out: {left_out}; {} senders on {cores} cores",
            others.len() + 1
        );
    }
    drop(others);
}

#[test]
fn acks_of_requests_in_flight_numbered_in_either_order_are_all_confirmed() {
    let events = sensor_events(400);
    let first = events.iter().find(|e| lane_of(e, 2) == 0).unwrap();
    let (url, bodies) = collector_answering_two_at_once(title(first));
    let mut sender = hec_sender(&url, &Tls::new(), 2, |h| h.ack = true);
    let packed = packed(&events);
    let sent_at = Instant::now();
    let outcome = sender.send_packed(&items(&packed), sent_at);
    assert_eq!(bodies.lock().unwrap().len(), 2, "two requests");
    assert!(
        outcome
            .parts
            .iter()
            .all(|p| p.action == Action::AwaitingAck),
        "{outcome:?}"
    );
    assert_eq!(sender.pending_acks(), 400);
    // The second lane was numbered 0, after the first's 1: the same wave, not a restarted
    // counter. Each is asked about and confirmed; none expires to be sent again.
    let report = sender.poll_acks(sent_at + Duration::from_secs(1));
    assert!(report.expired.is_empty(), "{report:?}");
    let mut indexed = report.indexed.clone();
    indexed.sort_unstable();
    assert_eq!(indexed, (100..500).collect::<Vec<u64>>(), "{report:?}");
    assert_eq!(sender.pending_acks(), 0);
}
