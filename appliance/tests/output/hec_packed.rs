//! The HEC sender given a batch held packed (as the worker holds its window): it unpacks and
//! renders one event at a time, and again as it streams each request, so what Splunk stores
//! and what awaits an ack must be exactly what `send` of the same events gives.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::support as output_support;

use std::time::{Duration, Instant};

use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::hec::Hec;
use icsfwd::testing::destination::hec::sender::HecSender;
use icsfwd::testing::destination::{Part, Secret, Sender};
use icsfwd::testing::spool::packed::Packed;
use icsfwd_core::alert::Event;
use icsfwd_sim::splunk::store::{Filter, Stored};
use output_support::*;

fn hec_sender(url: String, token: &str, tls: &Tls, edit: impl FnOnce(&mut Hec)) -> HecSender {
    let mut hec = Hec::new(vec![url.parse().unwrap()], Secret::new(token));
    edit(&mut hec);
    HecSender::new(&hec, &tls.options(), &timeouts()).unwrap()
}

/// `events` packed, numbered from 100 like [`batch`].
pub(crate) fn packed(events: &[Event]) -> Vec<(u64, Packed)> {
    batch(events)
        .into_iter()
        .map(|(seq, event)| (seq, Packed::new(event).unwrap()))
        .collect()
}

pub(crate) fn items(packed: &[(u64, Packed)]) -> Vec<(u64, &Packed)> {
    packed.iter().map(|(seq, p)| (*seq, p)).collect()
}

/// What the store holds, without what differs between two sends of the same events.
fn comparable(stored: Vec<Stored>) -> Vec<String> {
    stored
        .into_iter()
        .map(|s| format!("{:?}|{:?}|{}|{:?}", s.body, s.fields, s.time_ms, s.host))
        .collect()
}

#[test]
fn a_packed_batch_is_stored_exactly_as_the_same_events_sent_whole() {
    let tls = Tls::new();
    let events = events(30);
    for (gzip, max_events) in [(false, 500), (true, 500), (false, 4), (true, 7)] {
        let whole = start(&tls);
        let mut sender = hec_sender(whole.hec_url(), HEC_TOKEN, &tls, |h| {
            h.gzip = gzip;
            h.batch.max_events = max_events;
            // One at a time: the two stores are compared in order.
            h.requests_in_flight = 1;
        });
        assert!(sender.send(&batch(&events), Instant::now()).all_delivered());
        let from_packed = start(&tls);
        let mut sender = hec_sender(from_packed.hec_url(), HEC_TOKEN, &tls, |h| {
            h.gzip = gzip;
            h.batch.max_events = max_events;
            // One at a time: the two stores are compared in order.
            h.requests_in_flight = 1;
        });
        let packed = packed(&events);
        let outcome = sender.send_packed(&items(&packed), Instant::now());
        assert!(
            outcome.all_delivered(),
            "gzip {gzip}, {max_events}: {outcome:?}"
        );
        let want = comparable(whole.store().list(&Filter::default()));
        assert_eq!(want.len(), events.len());
        assert_eq!(
            comparable(from_packed.store().list(&Filter::default())),
            want,
            "gzip {gzip}, {max_events} per request"
        );
    }
}

#[test]
fn a_packed_batch_with_acks_awaits_them_and_is_confirmed_by_sequence_number() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut sender = hec_sender(emulator.hec_url(), ACK_TOKEN, &tls, |h| {
        h.ack = true;
        h.ack_deadline = Duration::from_secs(300);
        h.batch.max_events = 2;
    });
    let events = events(5);
    let packed = packed(&events);
    let sent_at = Instant::now();
    let outcome = sender.send_packed(&items(&packed), sent_at);
    assert_eq!(
        outcome.parts,
        vec![Part {
            events: 0..5,
            action: Action::AwaitingAck
        }]
    );
    assert_eq!(sender.pending_acks(), 5);
    let give_up = Instant::now() + Duration::from_secs(30);
    let mut indexed = Vec::new();
    while indexed.len() < 5 && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(20));
        let report = sender.poll_acks(sent_at);
        assert!(report.expired.is_empty(), "{report:?}");
        indexed.extend(report.indexed);
    }
    indexed.sort_unstable();
    assert_eq!(indexed, vec![100, 101, 102, 103, 104]);
    assert_eq!(sender.pending_acks(), 0);
}
