//! The HEC sender streams each request's body as it renders it (`destination/hec/body.rs`):
//! a batch larger than the sender's cache of rendered envelopes must reach Splunk exactly,
//! in order, through bisection and failover, with `Content-Length` and bounded memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::hec::assert_holds_exactly;
use crate::hec_packed::{items, packed};
use crate::support as output_support;

use std::time::Instant;

use icsfwd::testing::destination::Secret;
use icsfwd::testing::destination::Sender;
use icsfwd::testing::destination::hec::Hec;
use icsfwd::testing::destination::hec::sender::HecSender;
use icsfwd_core::alert::{Alert, Event};
use icsfwd_core::format::{self, SliceWriter};
use icsfwd_sim::splunk::store::Filter;
use output_support::*;

/// The sender's cache of rendered envelopes (`body::CACHE_BYTES`).
const CACHE_BYTES: usize = 64 * 1024;

/// A sender to `urls`, one request at a time (these tests follow one request's stream; the
/// requests in flight together are `hec_in_flight`'s), edited by `edit`.
pub(crate) fn hec_sender(urls: &[String], tls: &Tls, edit: impl FnOnce(&mut Hec)) -> HecSender {
    let urls = urls.iter().map(|u| u.parse().unwrap()).collect();
    let mut hec = Hec::new(urls, Secret::new(HEC_TOKEN));
    hec.requests_in_flight = 1;
    edit(&mut hec);
    HecSender::new(&hec, &tls.options(), &timeouts()).unwrap()
}

/// `n` alerts of about a kilobyte each (a typical alert with a long message).
fn large_events(n: u64) -> Vec<Event> {
    (1..=n)
        .map(|id| {
            let mut alert = Alert::example(1_700_000_000_000 + id * 1000);
            alert.id = id;
            alert.set_title(&format!("Alert number {id}"));
            alert.set_message(&"x".repeat(400 + (id as usize * 13) % 300));
            Event::from(alert)
        })
        .collect()
}

/// The bytes of `events` as one request body: each envelope and a `\n`.
fn body_len(events: &[Event]) -> usize {
    let mut buf = vec![0u8; format::hec::MAX_LEN];
    let options = format::Options::default();
    events
        .iter()
        .map(|event| {
            let mut out = SliceWriter::new(&mut buf);
            format::write(format::Kind::Hec, event, &options, &mut out).unwrap();
            out.written().len() + 1
        })
        .sum()
}

#[test]
fn a_batch_beyond_the_cache_is_stored_exactly_and_in_order() {
    let tls = Tls::new();
    let events = large_events(400);
    assert!(body_len(&events) > 4 * CACHE_BYTES);
    // One request, requests cut by count and by bytes (so that some start beyond the cache),
    // with and without gzip, from whole events and from packed records.
    for (gzip, max_events, max_bytes) in [
        (false, 500, 1_000_000),
        (false, 37, 1_000_000),
        (false, 500, 50_000),
        (true, 500, 1_000_000),
        (true, 61, 70_000),
    ] {
        for from_packed in [false, true] {
            let emulator = start(&tls);
            let mut sender = hec_sender(&[emulator.hec_url()], &tls, |h| {
                h.gzip = gzip;
                h.batch.max_events = max_events;
                h.batch.max_bytes = max_bytes;
            });
            let packed = packed(&events);
            let outcome = if from_packed {
                sender.send_packed(&items(&packed), Instant::now())
            } else {
                sender.send(&batch(&events), Instant::now())
            };
            let case =
                format!("gzip {gzip}, {max_events} events, {max_bytes} B, packed {from_packed}");
            assert!(outcome.all_delivered(), "{case}: {outcome:?}");
            assert_holds_exactly(
                &emulator.store().list(&Filter::default()),
                &events,
                &format::hec::Options::default(),
            );
        }
    }
}

#[test]
fn a_request_bisected_beyond_the_cache_is_stored_exactly() {
    let tls = Tls::new();
    let emulator = start(&tls);
    // The whole request (400 events), then its first half, get 413.
    emulator
        .faults()
        .add("hec:status=413,next=2".parse().unwrap())
        .unwrap();
    let events = large_events(400);
    let mut sender = hec_sender(&[emulator.hec_url()], &tls, |_| {});
    let packed = packed(&events);
    let outcome = sender.send_packed(&items(&packed), Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    assert_holds_exactly(
        &emulator.store().list(&Filter::default()),
        &events,
        &format::hec::Options::default(),
    );
    assert_eq!(emulator.faults().list()[0].fired, 2);
}

#[test]
fn a_request_failed_over_after_its_body_was_read_reaches_the_next_url_whole() {
    let tls = Tls::new();
    let first = start(&tls);
    let second = start(&tls);
    // The first URL reads the whole body, then answers 503: the same request goes to the
    // second URL, streamed again from its first byte.
    first
        .faults()
        .add("hec:status=503,next=1".parse().unwrap())
        .unwrap();
    let events = large_events(300);
    let mut sender = hec_sender(&[first.hec_url(), second.hec_url()], &tls, |_| {});
    let packed = packed(&events);
    let outcome = sender.send_packed(&items(&packed), Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    assert_eq!(first.faults().list()[0].fired, 1);
    assert!(first.store().list(&Filter::default()).is_empty());
    assert_holds_exactly(
        &second.store().list(&Filter::default()),
        &events,
        &format::hec::Options::default(),
    );
}

#[test]
fn the_sender_holds_no_more_than_its_cache_of_a_large_batch() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let events = large_events(500);
    let body = body_len(&events);
    assert!(body > 400_000, "the batch is {body} B");
    // The default: two requests in flight, each rendering again in a scratch of its own.
    let in_flight = Hec::new(Vec::new(), Secret::new(HEC_TOKEN)).requests_in_flight;
    assert_eq!(in_flight, 2);
    let mut sender = hec_sender(&[emulator.hec_url()], &tls, |h| {
        h.requests_in_flight = in_flight;
    });
    let packed = packed(&events);
    assert!(
        sender
            .send_packed(&items(&packed), Instant::now())
            .all_delivered()
    );
    // The cache, the envelope lengths (a vector grown by doubling) and one envelope's
    // scratch per request in flight: not the batch.
    let held = sender.held_bytes();
    let bound = CACHE_BYTES + 1024 * 8 + in_flight * format::hec::MAX_LEN;
    assert!(
        held <= bound,
        "held {held} B of a {body} B batch (bound {bound})"
    );
    assert_eq!(emulator.store().list(&Filter::default()).len(), 500);
}

/// Reads one HTTP request from `stream`: its head (lower-cased) and its body of
/// `Content-Length` bytes.
fn read_request(stream: &mut std::net::TcpStream) -> (String, Vec<u8>) {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the head ended early");
        bytes.push(byte[0]);
    }
    let head = String::from_utf8(bytes).unwrap().to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map(|value| value.trim().parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).unwrap();
    (head, body)
}

#[test]
fn a_streamed_request_announces_its_exact_length_and_is_not_chunked() {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let request = read_request(&mut stream);
        let reply = "{\"text\":\"Success\",\"code\":0}";
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
        request
    });
    let tls = Tls::new();
    let events = large_events(200);
    let mut sender = hec_sender(&[url], &tls, |_| {});
    let packed = packed(&events);
    let outcome = sender.send_packed(&items(&packed), Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    let (head, body) = server.join().unwrap();
    assert!(!head.contains("transfer-encoding"), "{head}");
    assert!(
        head.contains(&format!("content-length: {}\r\n", body_len(&events))),
        "{head}"
    );
    assert_eq!(body.len(), body_len(&events));
    assert_eq!(body.iter().filter(|&&b| b == b'\n').count(), events.len());
}
