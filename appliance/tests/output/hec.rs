//! The HEC sender against the Splunk emulator over TLS on 127.0.0.1.
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
use icsfwd::testing::destination::hec::sender::{HecError, HecSender};
use icsfwd::testing::destination::{self, Timeouts};
use icsfwd::testing::destination::{Part, Secret, Sender};
use icsfwd_core::format::{self, SliceWriter};
use icsfwd_sim::splunk::emulator::Emulator;
use icsfwd_sim::splunk::store::{Body, Filter, Stored};
use output_support::*;
use serde_json::Value;

/// What a test builds a sender from: the destination's settings and how it connects.
struct Options {
    hec: Hec,
    tls: destination::Tls,
    timeouts: Timeouts,
}

fn options(urls: Vec<String>, token: &str, tls: &Tls) -> Options {
    let urls = urls.iter().map(|u| u.parse().unwrap()).collect();
    Options {
        hec: Hec::new(urls, Secret::new(token)),
        tls: tls.options(),
        timeouts: timeouts(),
    }
}

fn sender(options: Options) -> Result<HecSender, HecError> {
    HecSender::new(&options.hec, &options.tls, &options.timeouts)
}

fn stored(emulator: &icsfwd_sim::splunk::emulator::RunningEmulator) -> Vec<Stored> {
    emulator.store().list(&Filter::default())
}

/// The envelope core renders for `event`, parsed.
fn envelope(event: &icsfwd_core::alert::Event, options: &format::hec::Options) -> Value {
    let mut buf = vec![0u8; format::hec::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    format::hec::write(event, options, &mut out).unwrap();
    serde_json::from_slice(out.written()).unwrap()
}

pub(crate) fn assert_holds_exactly(
    store: &[Stored],
    events: &[icsfwd_core::alert::Event],
    options: &format::hec::Options,
) {
    assert_eq!(store.len(), events.len(), "one stored event per sent event");
    for (stored, event) in store.iter().zip(events) {
        let want = envelope(event, options);
        assert_eq!(stored.host, want["host"].as_str().unwrap());
        assert_eq!(stored.source, want["source"].as_str().unwrap());
        assert_eq!(stored.sourcetype, want["sourcetype"].as_str().unwrap());
        if let Some(index) = want.get("index") {
            assert_eq!(stored.index, index.as_str().unwrap());
        }
        let want_ms = (want["time"].as_f64().unwrap() * 1000.0).round() as u64;
        assert_eq!(stored.time_ms, want_ms);
        assert_eq!(stored.body, Body::Json(want["event"].clone()));
        for (key, value) in want["fields"].as_object().unwrap() {
            let got = stored
                .fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone());
            assert_eq!(
                got,
                Some(vec![value.as_str().unwrap().to_owned()]),
                "field {key}"
            );
        }
    }
}

#[test]
fn a_batch_is_delivered_and_the_store_holds_exactly_each_events_fields() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut opts = options(vec![emulator.hec_url()], HEC_TOKEN, &tls);
    opts.hec.envelope.index = Some("ot".try_into().unwrap());
    opts.hec.envelope.sourcetype = Some("icsfwd:test".try_into().unwrap());
    let format_options = opts.hec.envelope.clone();
    let mut sender = sender(opts).unwrap();
    assert!(!sender.verification_disabled());
    let events = events(25);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(
        outcome.parts,
        vec![Part {
            events: 0..25,
            action: Action::Delivered
        }]
    );
    assert!(!outcome.uncertain);
    let store = stored(&emulator);
    assert_holds_exactly(&store, &events, &format_options);
    assert!(
        store
            .iter()
            .all(|s| s.channel.as_deref() == Some(sender.channel()))
    );
}

#[test]
fn batches_over_the_limits_go_as_several_requests_in_order() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut opts = options(vec![emulator.hec_url()], HEC_TOKEN, &tls);
    opts.hec.batch.max_events = 4;
    // One at a time, so that the store's order is the batch's (requests in flight together
    // may be stored in either order: `hec_in_flight`).
    opts.hec.requests_in_flight = 1;
    let mut sender = sender(opts).unwrap();
    let events = events(10);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    assert_holds_exactly(
        &stored(&emulator),
        &events,
        &format::hec::Options::default(),
    );
}

#[test]
fn a_gzipped_batch_is_delivered_intact() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut opts = options(vec![emulator.hec_url()], HEC_TOKEN, &tls);
    opts.hec.gzip = true;
    let mut sender = sender(opts).unwrap();
    let events = events(50);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    assert_holds_exactly(
        &stored(&emulator),
        &events,
        &format::hec::Options::default(),
    );
}

#[test]
fn with_ack_delay_events_stay_pending_until_the_ack_reads_true() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator
        .faults()
        .add("hec:ack-delay=300".parse().unwrap())
        .unwrap();
    let mut opts = options(vec![emulator.hec_url()], ACK_TOKEN, &tls);
    opts.hec.ack = true;
    opts.hec.ack_deadline = Duration::from_secs(300);
    let mut sender = sender(opts).unwrap();
    let events = events(3);
    let sent_at = Instant::now();
    let outcome = sender.send(&batch(&events), sent_at);
    assert_eq!(
        outcome.parts,
        vec![Part {
            events: 0..3,
            action: Action::AwaitingAck
        }]
    );
    let first = sender.poll_acks(sent_at);
    assert!(
        first.indexed.is_empty() && first.expired.is_empty(),
        "{first:?}"
    );
    assert_eq!(sender.pending_acks(), 3);
    // The ack turns true ~300 ms after the request: poll until it does (deadline 30 s).
    let give_up = Instant::now() + Duration::from_secs(30);
    let mut indexed = Vec::new();
    while indexed.is_empty() && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(50));
        let report = sender.poll_acks(sent_at);
        assert!(report.expired.is_empty());
        assert_no_secret(&report.last_error.into_iter().collect::<Vec<_>>());
        indexed = report.indexed;
    }
    assert_eq!(indexed, vec![100, 101, 102]);
    assert_eq!(sender.pending_acks(), 0);
}

#[test]
fn with_ack_never_the_events_are_reported_for_resend_after_the_deadline() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator
        .faults()
        .add("hec:ack=never".parse().unwrap())
        .unwrap();
    let mut opts = options(vec![emulator.hec_url()], ACK_TOKEN, &tls);
    opts.hec.ack = true;
    opts.hec.ack_deadline = Duration::from_secs(60);
    let mut sender = sender(opts).unwrap();
    let events = events(2);
    let t0 = Instant::now();
    let outcome = sender.send(&batch(&events), t0);
    assert_eq!(
        outcome.parts,
        vec![Part {
            events: 0..2,
            action: Action::AwaitingAck
        }]
    );
    let before = sender.poll_acks(t0 + Duration::from_secs(59));
    assert!(
        before.indexed.is_empty() && before.expired.is_empty(),
        "{before:?}"
    );
    let after = sender.poll_acks(t0 + Duration::from_secs(60));
    assert_eq!(after.expired, vec![100, 101]);
    assert!(after.indexed.is_empty());
    assert_eq!(sender.pending_acks(), 0);
    assert_eq!(
        stored(&emulator).len(),
        2,
        "they were received: a resend is a possible duplicate"
    );
}

#[test]
fn acks_on_a_token_without_useack_park_instead_of_falling_back() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut opts = options(vec![emulator.hec_url()], HEC_TOKEN, &tls);
    opts.hec.ack = true;
    opts.hec.ack_deadline = Duration::from_secs(300);
    let mut sender = sender(opts).unwrap();
    let events = events(1);
    let outcome = sender.send(&batch(&events), Instant::now());
    match only_action(&outcome) {
        Action::Park { reason } => assert!(reason.contains("ackId"), "{reason}"),
        other => panic!("expected Park, got {other:?}"),
    }
    assert_no_secret(&errors(&outcome));
}

#[test]
fn each_status_fault_maps_to_its_documented_action() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let events = events(3);
    let retry = Action::Retry { after: None };
    let cases: &[(&str, Option<Action>)] = &[
        ("hec:status=503,code=9,next=1", Some(retry.clone())),
        ("hec:status=500,code=8,next=1", Some(retry.clone())),
        ("hec:status=502,next=1", Some(retry.clone())),
        ("hec:status=504,next=1", Some(retry.clone())),
        ("hec:status=408,next=1", Some(retry.clone())),
        ("hec:status=404,next=1", Some(retry.clone())),
        (
            "hec:status=429,retry-after=7,next=1",
            Some(Action::Retry {
                after: Some(Duration::from_secs(7)),
            }),
        ),
        ("hec:status=401,code=2,next=1", None),
        ("hec:status=401,code=3,next=1", None),
        ("hec:status=403,code=4,next=1", None),
        ("hec:status=403,code=1,next=1", None),
        ("hec:status=400,code=10,next=1", None),
        ("hec:status=400,code=14,next=1", None),
    ];
    for (fault, expected) in cases {
        let mut sender = sender(options(vec![emulator.hec_url()], HEC_TOKEN, &tls)).unwrap();
        emulator.faults().add(fault.parse().unwrap()).unwrap();
        let outcome = sender.send(&batch(&events), Instant::now());
        let action = only_action(&outcome);
        match expected {
            Some(want) => assert_eq!(action, want, "{fault}"),
            None => assert!(matches!(action, Action::Park { .. }), "{fault}: {action:?}"),
        }
        assert_eq!(outcome.parts[0].events, 0..3, "{fault}");
        assert_no_secret(&errors(&outcome));
    }
    assert!(
        stored(&emulator).is_empty(),
        "no faulted request was handled"
    );
    let credentials = {
        let mut sender = sender(options(vec![emulator.hec_url()], HEC_TOKEN, &tls)).unwrap();
        emulator
            .faults()
            .add("hec:status=401,code=2,next=1".parse().unwrap())
            .unwrap();
        sender.send(&batch(&events), Instant::now())
    };
    match only_action(&credentials) {
        Action::Park { reason } => assert!(reason.contains("credentials rejected"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_token_parks_as_credentials_rejected_without_showing_the_token() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut sender = sender(options(
        vec![emulator.hec_url()],
        ACK_TOKEN.replace('0', "f").as_str(),
        &tls,
    ))
    .unwrap();
    let events = events(1);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(
        matches!(only_action(&outcome), Action::Park { reason } if reason.contains("credentials rejected"))
    );
    assert_no_secret(&errors(&outcome));
    for text in errors(&outcome) {
        assert!(!text.contains(&ACK_TOKEN.replace('0', "f")));
    }
}

#[test]
fn an_invalid_event_number_splits_the_batch_delivered_dead_lettered_retried() {
    let tls = Tls::new();
    let mut config = config(&tls);
    config.hec.max_event_size = 5000;
    let emulator = Emulator::start(config).unwrap();
    let mut events = events(5);
    if let icsfwd_core::alert::Event::Alert(alert) = &mut events[2] {
        // Control characters escape to six bytes each: a ~12 KB envelope.
        alert.set_message(&"\u{1}".repeat(2040));
    }
    let mut sender = sender(options(vec![emulator.hec_url()], HEC_TOKEN, &tls)).unwrap();
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(outcome.parts.len(), 3, "{outcome:?}");
    assert_eq!(
        outcome.parts[0],
        Part {
            events: 0..2,
            action: Action::Delivered
        }
    );
    assert_eq!(outcome.parts[1].events, 2..3);
    assert!(
        matches!(&outcome.parts[1].action, Action::DeadLetter { reason } if reason.contains("code 6")),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.parts[2],
        Part {
            events: 3..5,
            action: Action::Retry { after: None }
        }
    );
    assert_eq!(
        stored(&emulator).len(),
        2,
        "the events before the bad one were taken"
    );
}

#[test]
fn a_request_too_large_is_bisected_until_it_fits() {
    let tls = Tls::new();
    let emulator = start(&tls);
    // The first two requests (6 events, then the first half of 3) get 413.
    emulator
        .faults()
        .add("hec:status=413,next=2".parse().unwrap())
        .unwrap();
    let mut sender = sender(options(vec![emulator.hec_url()], HEC_TOKEN, &tls)).unwrap();
    let events = events(6);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(
        outcome.parts,
        vec![Part {
            events: 0..6,
            action: Action::Delivered
        }]
    );
    assert_holds_exactly(
        &stored(&emulator),
        &events,
        &format::hec::Options::default(),
    );
    assert_eq!(emulator.faults().list()[0].fired, 2);
}

#[test]
fn a_single_event_answered_413_is_dead_lettered() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator
        .faults()
        .add("hec:status=413".parse().unwrap())
        .unwrap();
    let mut sender = sender(options(vec![emulator.hec_url()], HEC_TOKEN, &tls)).unwrap();
    let events = events(1);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(
        matches!(only_action(&outcome), Action::DeadLetter { reason } if reason.contains("too large")),
        "{outcome:?}"
    );
    assert_no_secret(&errors(&outcome));
}

#[test]
fn a_lost_response_is_retried_and_flagged_as_a_possible_duplicate() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator
        .faults()
        .add("hec:lost-response,next=1".parse().unwrap())
        .unwrap();
    let mut sender = sender(options(vec![emulator.hec_url()], HEC_TOKEN, &tls)).unwrap();
    let events = events(2);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(only_action(&outcome), &Action::Retry { after: None });
    assert!(outcome.uncertain, "the request may have been handled");
    assert_eq!(
        stored(&emulator).len(),
        2,
        "handled before the reset: the resend duplicates"
    );
    assert_no_secret(&errors(&outcome));
    let again = sender.send(&batch(&events), Instant::now());
    assert!(again.all_delivered(), "{again:?}");
}

#[test]
fn a_reset_is_retried_and_flagged_uncertain() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator
        .faults()
        .add("hec:reset,next=1".parse().unwrap())
        .unwrap();
    let mut sender = sender(options(vec![emulator.hec_url()], HEC_TOKEN, &tls)).unwrap();
    let events = events(2);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(only_action(&outcome), &Action::Retry { after: None });
    assert!(outcome.uncertain);
    assert!(stored(&emulator).is_empty());
    assert_no_secret(&errors(&outcome));
}

#[test]
fn a_down_collector_is_retried() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let url = emulator.hec_url();
    emulator.shutdown();
    let mut sender = sender(options(vec![url.clone()], HEC_TOKEN, &tls)).unwrap();
    let events = events(1);
    let now = Instant::now();
    let outcome = sender.send(&batch(&events), now);
    assert_eq!(only_action(&outcome), &Action::Retry { after: None });
    assert!(!outcome.uncertain, "nothing was sent");
    assert!(
        outcome
            .last_error
            .as_deref()
            .unwrap()
            .contains("cannot connect"),
        "{outcome:?}"
    );
    assert_eq!(sender.urls_down(now), vec![url.as_str()]);
    assert_no_secret(&errors(&outcome));
}

#[test]
fn failover_delivers_through_the_second_url_when_the_first_is_down() {
    let tls = Tls::new();
    let up = start(&tls);
    let gone = start(&tls);
    let gone_url = gone.hec_url();
    gone.shutdown();
    let mut sender = sender(options(
        vec![gone_url.clone(), up.hec_url()],
        HEC_TOKEN,
        &tls,
    ))
    .unwrap();
    let events = events(4);
    let now = Instant::now();
    for round in 0..4 {
        let one = &events[round..=round];
        let outcome = sender.send(&batch(one), now);
        assert!(outcome.all_delivered(), "round {round}: {outcome:?}");
    }
    assert_eq!(stored(&up).len(), 4);
    assert_eq!(sender.urls_down(now), vec![gone_url.as_str()]);
}

#[test]
fn requests_are_spread_round_robin_over_healthy_urls() {
    let tls = Tls::new();
    let a = start(&tls);
    let b = start(&tls);
    let mut sender = sender(options(vec![a.hec_url(), b.hec_url()], HEC_TOKEN, &tls)).unwrap();
    let events = events(6);
    for i in 0..6 {
        assert!(
            sender
                .send(&batch(&events[i..=i]), Instant::now())
                .all_delivered()
        );
    }
    assert_eq!((stored(&a).len(), stored(&b).len()), (3, 3));
}

#[test]
fn a_503_on_one_url_fails_over_to_the_next_in_the_same_send() {
    let tls = Tls::new();
    let busy = start(&tls);
    let ok = start(&tls);
    busy.faults()
        .add("hec:status=503,code=9".parse().unwrap())
        .unwrap();
    let mut sender = sender(options(vec![busy.hec_url(), ok.hec_url()], HEC_TOKEN, &tls)).unwrap();
    let events = events(2);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(outcome.all_delivered(), "{outcome:?}");
    assert_eq!(stored(&ok).len(), 2);
    assert!(outcome.last_error.as_deref().unwrap().contains("503"));
    assert_no_secret(&errors(&outcome));
}

#[test]
fn a_hanging_collector_times_out_within_the_response_timeout() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator.faults().add("hec:hang".parse().unwrap()).unwrap();
    let mut opts = options(vec![emulator.hec_url()], HEC_TOKEN, &tls);
    opts.timeouts.response = Duration::from_secs(1);
    let mut sender = sender(opts).unwrap();
    let events = events(1);
    let started = Instant::now();
    let outcome = sender.send(&batch(&events), Instant::now());
    let took = started.elapsed();
    assert_eq!(only_action(&outcome), &Action::Retry { after: None });
    assert!(outcome.uncertain);
    assert!(
        outcome
            .last_error
            .as_deref()
            .unwrap()
            .contains("no reply in time"),
        "{outcome:?}"
    );
    assert!(
        took >= Duration::from_secs(1),
        "the timeout fired early: {took:?}"
    );
    // Bounded by connect + tls + response (11 s here), far below a hang.
    assert!(
        took < Duration::from_secs(11),
        "the timeout did not fire: {took:?}"
    );
    emulator.faults().clear();
}

#[test]
fn a_wrong_ca_fails_tls_verification_clearly_and_nothing_is_stored() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let other = Tls::new();
    let mut sender = sender(options(vec![emulator.hec_url()], HEC_TOKEN, &other)).unwrap();
    let events = events(1);
    let outcome = sender.send(&batch(&events), Instant::now());
    match only_action(&outcome) {
        Action::Park { reason } => {
            assert!(reason.contains("TLS verification failed"), "{reason}");
            assert!(
                reason.contains(&emulator.hec_url()),
                "names the URL: {reason}"
            );
            assert!(
                reason.to_lowercase().contains("certificate") || reason.contains("UnknownIssuer"),
                "{reason}"
            );
        }
        other => panic!("expected Park, got {other:?}"),
    }
    assert!(!outcome.uncertain);
    assert!(stored(&emulator).is_empty());
    assert_no_secret(&errors(&outcome));
}
