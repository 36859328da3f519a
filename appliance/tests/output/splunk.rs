//! The splunkd `receivers/simple` sender against the Splunk emulator over TLS on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::support as output_support;

use std::time::Instant;

use icsfwd::testing::destination::Timeouts;
use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::http::Scheme;
use icsfwd::testing::destination::splunk::sender::SplunkSender;
use icsfwd::testing::destination::splunk::{Auth, Splunk};
use icsfwd::testing::destination::{Part, Secret, Sender};
use icsfwd_core::format::{self, SliceWriter};
use icsfwd_sim::splunk::emulator::{Emulator, RunningEmulator};
use icsfwd_sim::splunk::store::{Body, Filter, ReceiverKind};
use output_support::*;

const SENSOR_IP: &str = "10.1.0.5";
const SENSOR_NAME: &str = "sensor-plant-a";

/// The emulator's splunkd as a `splunk` destination with `auth`, sourcetype the sensor name.
fn destination(emulator: &RunningEmulator, auth: Auth) -> Splunk {
    let scheme = match emulator.scheme() {
        "http" => Scheme::Http,
        _ => Scheme::Https,
    };
    let addr = emulator.splunkd_addr();
    let mut splunk = Splunk::new(scheme, &addr.ip().to_string(), addr.port(), auth);
    splunk.sourcetype = SENSOR_NAME.into();
    splunk
}

fn build(splunk: &Splunk, tls: &Tls, timeouts: &Timeouts) -> SplunkSender {
    let sensor_ip = SENSOR_IP.parse().unwrap();
    SplunkSender::new(splunk, sensor_ip, &tls.options(), timeouts).unwrap()
}

fn sender(emulator: &RunningEmulator, auth: Auth, tls: &Tls) -> SplunkSender {
    build(&destination(emulator, auth), tls, &timeouts())
}

fn basic() -> Auth {
    Auth::Basic {
        username: USER.into(),
        password: Secret::new(PASSWORD),
    }
}

fn session() -> Auth {
    Auth::Session {
        username: USER.into(),
        password: Secret::new(PASSWORD),
    }
}

fn text(event: &icsfwd_core::alert::Event) -> String {
    let mut buf = vec![0u8; format::text::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    format::text::write(event, &format::text::Options::default(), &mut out).unwrap();
    String::from_utf8(out.written().to_vec()).unwrap()
}

/// The store holds exactly `events`, as text, with the sensor's metadata.
fn assert_received(emulator: &RunningEmulator, events: &[icsfwd_core::alert::Event], index: &str) {
    let stored = emulator.store().list(&Filter::default());
    assert_eq!(stored.len(), events.len());
    for (stored, event) in stored.iter().zip(events) {
        assert_eq!(stored.receiver, ReceiverKind::Simple);
        assert_eq!(stored.body, Body::Text(text(event)));
        assert_eq!(stored.host, SENSOR_IP);
        assert_eq!(stored.source, "icsfwd");
        assert_eq!(stored.sourcetype, SENSOR_NAME);
        assert_eq!(stored.index, index);
        assert_eq!(stored.user.as_deref(), Some(USER));
    }
}

fn delivered(len: usize) -> Vec<Part> {
    vec![Part {
        events: 0..len,
        action: Action::Delivered,
    }]
}

#[test]
fn basic_auth_delivers_each_event_as_text_with_the_sensor_metadata() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut options = destination(&emulator, basic());
    options.index = Some("ot".into());
    let mut sender = build(&options, &tls, &Timeouts::default());
    let events = events(5);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(outcome.parts, delivered(5));
    assert_received(&emulator, &events, "ot");
    assert_eq!(sender.logins(), 0, "Basic needs no login");
}

#[test]
fn bearer_auth_delivers() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut sender = sender(
        &emulator,
        Auth::Bearer {
            token: Secret::new(BEARER),
        },
        &tls,
    );
    let events = events(2);
    assert_eq!(
        sender.send(&batch(&events), Instant::now()).parts,
        delivered(2)
    );
    assert_received(&emulator, &events, "main");
}

#[test]
fn session_auth_logs_in_once_and_reuses_the_key() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut sender = sender(&emulator, session(), &tls);
    let events = events(3);
    assert_eq!(
        sender.send(&batch(&events), Instant::now()).parts,
        delivered(3)
    );
    assert_eq!(sender.logins(), 1);
    assert_received(&emulator, &events, "main");
}

#[test]
fn session_auth_logs_in_again_after_splunkd_restarts_and_forgets_the_key() {
    let tls = Tls::new();
    let first = start(&tls);
    let port = first.splunkd_addr().port();
    let mut sender = sender(&first, session(), &tls);
    let events = events(2);
    assert_eq!(
        sender.send(&batch(&events[..1]), Instant::now()).parts,
        delivered(1)
    );
    first.shutdown();
    let mut config = config(&tls);
    config.splunkd_port = port;
    let second = Emulator::start(config).unwrap();
    let outcome = sender.send(&batch(&events[1..]), Instant::now());
    assert_eq!(outcome.parts, delivered(1), "{outcome:?}");
    assert_eq!(
        sender.logins(),
        2,
        "the old key was rejected (401) and one new login made"
    );
    assert_eq!(second.store().len(), 1);
}

#[test]
fn a_wrong_password_parks_as_credentials_rejected_for_every_scheme() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let wrong = "wrong-Pw-hunter2";
    let schemes = [
        Auth::Basic {
            username: USER.into(),
            password: Secret::new(wrong),
        },
        Auth::Session {
            username: USER.into(),
            password: Secret::new(wrong),
        },
        Auth::Bearer {
            token: Secret::new(wrong),
        },
    ];
    let events = events(2);
    for auth in schemes {
        let label = format!("{auth:?}");
        assert!(!label.contains(wrong), "Debug shows the secret: {label}");
        let mut sender = sender(&emulator, auth, &tls);
        let outcome = sender.send(&batch(&events), Instant::now());
        match only_action(&outcome) {
            Action::Park { reason } => assert!(reason.contains("credentials rejected"), "{reason}"),
            other => panic!("{label}: expected Park, got {other:?}"),
        }
        for text in errors(&outcome) {
            assert!(!text.contains(wrong), "{text}");
        }
        assert_no_secret(&errors(&outcome));
    }
    assert!(emulator.store().is_empty());
}

#[test]
fn a_missing_index_parks_as_configuration() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let mut options = destination(&emulator, basic());
    options.index = Some("nope".into());
    let mut sender = build(&options, &tls, &Timeouts::default());
    let events = events(1);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(
        matches!(only_action(&outcome), Action::Park { reason } if reason.contains("index")),
        "{outcome:?}"
    );
    assert_no_secret(&errors(&outcome));
}

#[test]
fn splunkd_faults_map_to_their_actions_and_stop_the_batch_in_order() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let events = events(3);
    for (fault, want) in [
        ("splunkd:status=503,next=1", Action::Retry { after: None }),
        ("splunkd:status=500,next=1", Action::Retry { after: None }),
        (
            "splunkd:status=429,retry-after=4,next=1",
            Action::Retry {
                after: Some(std::time::Duration::from_secs(4)),
            },
        ),
    ] {
        let mut sender = sender(&emulator, session(), &tls);
        assert_eq!(
            sender.send(&batch(&events[..1]), Instant::now()).parts,
            delivered(1)
        );
        emulator.faults().add(fault.parse().unwrap()).unwrap();
        let outcome = sender.send(&batch(&events), Instant::now());
        // The first event is refused: the batch stops there, nothing after it is sent.
        assert_eq!(
            outcome.parts,
            vec![Part {
                events: 0..3,
                action: want
            }],
            "{fault}"
        );
        assert_no_secret(&errors(&outcome));
    }
    let mut sender = sender(&emulator, basic(), &tls);
    emulator
        .faults()
        .add("splunkd:status=403,next=1".parse().unwrap())
        .unwrap();
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(
        matches!(only_action(&outcome), Action::Park { .. }),
        "{outcome:?}"
    );
    emulator
        .faults()
        .add("splunkd:lost-response,next=1".parse().unwrap())
        .unwrap();
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(only_action(&outcome), &Action::Retry { after: None });
    assert!(outcome.uncertain);
    emulator
        .faults()
        .add(
            "splunkd:reset,path=/services/receivers,next=1"
                .parse()
                .unwrap(),
        )
        .unwrap();
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(outcome.parts[0].events, 0..3);
    assert_eq!(outcome.parts[0].action, Action::Retry { after: None });
}

#[test]
fn a_fault_after_the_first_event_delivers_it_and_gives_the_rest_the_action_unsent() {
    let tls = Tls::new();
    let emulator = start(&tls);
    // The first request passes, the second is refused busy.
    emulator
        .faults()
        .add("splunkd:slow=1,next=1".parse().unwrap())
        .unwrap();
    emulator
        .faults()
        .add("splunkd:status=503,next=1".parse().unwrap())
        .unwrap();
    let mut sender = sender(&emulator, basic(), &tls);
    let events = events(4);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert_eq!(
        outcome.parts,
        vec![
            Part {
                events: 0..1,
                action: Action::Delivered
            },
            Part {
                events: 1..4,
                action: Action::Retry { after: None }
            },
        ]
    );
    assert_eq!(emulator.store().len(), 1);
}

#[test]
fn a_wrong_ca_fails_clearly_and_nothing_is_received() {
    let tls = Tls::new();
    let emulator = start(&tls);
    let other = Tls::new();
    let mut sender = sender(&emulator, session(), &other);
    let events = events(1);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(
        matches!(only_action(&outcome), Action::Park { reason } if reason.contains("TLS verification failed")),
        "{outcome:?}"
    );
    assert!(emulator.store().is_empty());
    assert_no_secret(&errors(&outcome));
}
