//! Delivery workers to HEC against the Splunk emulator over TLS on 127.0.0.1, with a real
//! spool in a temp dir.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::deliver_support;

use std::time::{Duration, Instant};

use deliver_support::*;
use icsfwd::config::Config;
use icsfwd::testing::deliver::Running;
use icsfwd::testing::deliver::stats::State;
use icsfwd::testing::spool::GroupCommit;
use icsfwd_core::alert::Event;
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use icsfwd_sim::splunk::faults::Server;
use tempfile::TempDir;

struct Fixture {
    _tls: Tls,
    emulator: RunningEmulator,
    dir: TempDir,
    config: Config,
    group: GroupCommit,
    running: Option<Running>,
}

impl Fixture {
    /// One HEC destination named `hec` with `extra` keys; `tweak` adjusts the emulator.
    fn new(token: &str, extra: &str, tweak: impl FnOnce(&mut EmulatorConfig)) -> Self {
        let tls = Tls::new();
        let mut emulator_config = deliver_support::output_support::config(&tls);
        tweak(&mut emulator_config);
        let emulator = Emulator::start(emulator_config).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = config(
            dir.path(),
            &[hec_destination(
                "hec",
                &emulator.hec_url(),
                token,
                &tls,
                extra,
            )],
        );
        let group = open_spool(dir.path(), &config);
        let running = Some(start(&config, &group, dir.path()));
        Self {
            _tls: tls,
            emulator,
            dir,
            config,
            group,
            running,
        }
    }

    fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    fn stats(&self) -> icsfwd::testing::deliver::stats::DeliveryStats {
        stats_of(self.running(), "hec")
    }

    fn produce(&self, events: &[Event]) -> Vec<(u64, usize)> {
        produce(&self.group.handle(), events, all(&self.config), 4)
    }

    fn backlog(&self) -> u64 {
        backlog(&self.group.handle(), 0)
    }

    fn hec_options(&self) -> icsfwd_core::format::hec::Options {
        self.config.destinations[0].format_options().hec
    }

    fn stop(&mut self) {
        let report = self
            .running
            .take()
            .unwrap()
            .shutdown(Duration::from_secs(10));
        assert!(report.still_running.is_empty(), "{report:?}");
    }
}

fn in_seq_order<'a>(events: &'a [Event], seqs: &[(u64, usize)]) -> Vec<&'a Event> {
    seqs.iter().map(|&(_, i)| &events[i]).collect()
}

#[test]
fn two_thousand_alerts_reach_hec_once_in_order_with_exact_fields_and_the_spool_empties() {
    let mut f = Fixture::new(HEC_TOKEN, "", |_| {});
    let events = events(2000);
    let seqs = f.produce(&events);
    wait_until(Duration::from_secs(120), "2,000 delivered", || {
        f.stats().delivered == 2000
    });
    wait_until(Duration::from_secs(10), "backlog 0", || f.backlog() == 0);
    assert_hec_holds_exactly(
        &stored(&f.emulator),
        &in_seq_order(&events, &seqs),
        &f.hec_options(),
    );
    let stats = f.stats();
    assert_eq!(
        (stats.possible_duplicates, stats.dead_lettered),
        (0, 0),
        "{stats:?}"
    );
    f.stop();
    let spool = f.group.handle().stats().unwrap();
    assert!(spool.segments_removed > 0, "{spool:?}");
    assert_eq!(
        spool.disk_bytes, 0,
        "every delivered segment removed: {spool:?}"
    );
}

#[test]
fn with_acks_records_leave_the_spool_only_after_the_ack_reads_true() {
    let mut f = Fixture::new(ACK_TOKEN, "ack = true\nack_deadline = \"60s\"", |_| {});
    f.emulator
        .faults()
        .add("hec:ack-delay=2000".parse().unwrap())
        .unwrap();
    let events = events(50);
    let seqs = f.produce(&events);
    wait_until(Duration::from_secs(30), "received by HEC", || {
        stored(&f.emulator).len() == 50
    });
    // Received, not yet indexed: still in the spool, and not counted delivered.
    let early = f.stats();
    assert!(early.delivered < 50, "{early:?}");
    assert!(f.backlog() > 0);
    wait_until(Duration::from_secs(30), "acks read true", || {
        f.stats().delivered == 50 && f.backlog() == 0
    });
    let stats = f.stats();
    assert_eq!(stats.acks_pending, 0, "{stats:?}");
    assert_eq!(stats.possible_duplicates, 0, "{stats:?}");
    assert_hec_holds_exactly(
        &stored(&f.emulator),
        &in_seq_order(&events, &seqs),
        &f.hec_options(),
    );
    f.stop();
}

#[test]
fn acks_that_never_read_true_are_resent_after_the_deadline_and_counted_as_possible_duplicates() {
    let mut f = Fixture::new(ACK_TOKEN, "ack = true\nack_deadline = \"1s\"", |_| {});
    f.emulator
        .faults()
        .add("hec:ack=never".parse().unwrap())
        .unwrap();
    let events = events(5);
    f.produce(&events);
    wait_until(
        Duration::from_secs(30),
        "a resend after the deadline",
        || f.stats().possible_duplicates >= 5 && stored(&f.emulator).len() >= 10,
    );
    let stats = f.stats();
    assert_eq!(stats.delivered, 0, "never confirmed: {stats:?}");
    assert_eq!(f.backlog(), 5, "never confirmed, never removed");
    f.stop();
}

#[test]
fn a_busy_collector_503_code_9_is_retried_and_everything_delivered_once() {
    let mut f = Fixture::new(HEC_TOKEN, "", |_| {});
    f.emulator
        .faults()
        .add("hec:status=503,code=9,next=5".parse().unwrap())
        .unwrap();
    let events = events(200);
    let seqs = f.produce(&events);
    wait_until(Duration::from_secs(60), "all delivered", || {
        f.stats().delivered == 200 && f.backlog() == 0
    });
    assert_eq!(f.emulator.faults().list()[0].fired, 5);
    let stats = f.stats();
    assert!(stats.retries >= 1, "{stats:?}");
    assert!(stats.last_error.is_some(), "{stats:?}");
    assert_hec_holds_exactly(
        &stored(&f.emulator),
        &in_seq_order(&events, &seqs),
        &f.hec_options(),
    );
    f.stop();
}

#[test]
fn a_collector_down_for_two_seconds_is_retried_then_everything_delivered() {
    let mut f = Fixture::new(HEC_TOKEN, "", |_| {});
    f.emulator
        .faults()
        .add("hec:down,for=2s".parse().unwrap())
        .unwrap();
    let events = events(100);
    let seqs = f.produce(&events);
    wait_until(Duration::from_secs(60), "all delivered", || {
        f.stats().delivered == 100 && f.backlog() == 0
    });
    assert!(f.stats().retries >= 1, "{:?}", f.stats());
    assert_hec_holds_exactly(
        &stored(&f.emulator),
        &in_seq_order(&events, &seqs),
        &f.hec_options(),
    );
    f.stop();
}

#[test]
fn a_rejected_token_parks_with_credentials_rejected_and_nothing_is_lost_once_fixed() {
    let mut f = Fixture::new(HEC_TOKEN, "", |_| {});
    f.emulator
        .faults()
        .add("hec:status=401,code=2".parse().unwrap())
        .unwrap();
    let events = events(10);
    let seqs = f.produce(&events);
    wait_until(Duration::from_secs(30), "parked", || {
        matches!(f.stats().state, State::Parked { .. })
    });
    let parked = f.stats();
    match &parked.state {
        State::Parked { reason } => assert!(reason.contains("credentials rejected"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let json = serde_json::to_string(&f.running().stats()).unwrap();
    let status = serde_json::to_string(&parked.to_status()).unwrap();
    assert!(status.contains(r#""state":"parked""#), "{status}");
    assert_no_secret(&[json, status]);
    assert_eq!(f.backlog(), 10);
    assert!(stored(&f.emulator).is_empty());

    f.emulator.faults().clear();
    wait_until(Duration::from_secs(30), "delivered after the fix", || {
        f.stats().delivered == 10 && f.backlog() == 0
    });
    let state = f.stats().state;
    assert!(
        matches!(state, State::Idle | State::Sending),
        "no longer parked: {state:?}"
    );
    assert_hec_holds_exactly(
        &stored(&f.emulator),
        &in_seq_order(&events, &seqs),
        &f.hec_options(),
    );
    f.stop();
}

#[test]
fn a_refused_event_is_dead_lettered_to_the_file_and_the_rest_delivered() {
    let mut f = Fixture::new(HEC_TOKEN, "", |c| c.hec.max_event_size = 5000);
    let mut events = events(5);
    if let Event::Alert(alert) = &mut events[2] {
        // Control characters escape to six bytes each: a ~12 KB envelope, code 6.
        alert.set_message(&"\u{1}".repeat(2040));
    }
    // One producer, so the bad event is the third record.
    let seqs = produce(&f.group.handle(), &events, all(&f.config), 1);
    wait_until(
        Duration::from_secs(30),
        "4 delivered, 1 dead-lettered",
        || {
            let s = f.stats();
            s.delivered == 4 && s.dead_lettered == 1 && f.backlog() == 0
        },
    );
    let good: Vec<&Event> = events
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, e)| e)
        .collect();
    assert_hec_holds_exactly(&stored(&f.emulator), &good, &f.hec_options());

    let path = f.dir.path().join("deadletter/hec.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["seq"], seqs[2].0);
    assert_eq!(lines[0]["destination"], "hec");
    assert!(
        lines[0]["reason"].as_str().unwrap().contains("code 6"),
        "{text}"
    );
    let replay = icsfwd::ingest::schema::encode_line(&events[2]);
    assert_eq!(
        lines[0]["event"],
        serde_json::from_str::<serde_json::Value>(&replay).unwrap(),
        "the event is kept as an ingest line, replayable"
    );
    f.stop();
}

#[test]
fn a_hanging_destination_does_not_hold_up_another() {
    let tls = Tls::new();
    let hanging = Emulator::start(deliver_support::output_support::config(&tls)).unwrap();
    hanging.faults().add("hec:hang".parse().unwrap()).unwrap();
    let healthy = Emulator::start(deliver_support::output_support::config(&tls)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &[
            hec_destination("stuck", &hanging.hec_url(), HEC_TOKEN, &tls, ""),
            hec_destination("fine", &healthy.hec_url(), HEC_TOKEN, &tls, ""),
        ],
    );
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    let events = events(500);
    let started = Instant::now();
    let seqs = produce(&group.handle(), &events, all(&config), 4);
    wait_until(
        Duration::from_secs(60),
        "the healthy one delivered all",
        || stats_of(&running, "fine").delivered == 500,
    );
    let elapsed = started.elapsed();
    assert_eq!(stats_of(&running, "stuck").delivered, 0);
    assert_eq!(
        backlog(&group.handle(), 0),
        500,
        "the stuck one keeps its records"
    );
    assert_eq!(backlog(&group.handle(), 1), 0);
    assert_hec_holds_exactly(
        &stored(&healthy),
        &in_seq_order(&events, &seqs),
        &config.destinations[1].format_options().hec,
    );
    eprintln!("healthy destination delivered 500 in {elapsed:?} beside a hanging one");
    hanging.faults().clear();
    let report = running.shutdown(Duration::from_secs(10));
    assert!(report.still_running.is_empty(), "{report:?}");
}

#[test]
fn shutdown_during_a_retry_returns_within_the_deadline_and_a_restart_delivers_everything() {
    let tls = Tls::new();
    let emulator = start_emulator(&tls);
    emulator
        .faults()
        .add("hec:status=503,code=9".parse().unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A long backoff: the worker is asleep in it when the shutdown comes.
    let slow = "retry_min = \"30s\"\nretry_max = \"60s\"";
    let destination = hec_destination("hec", &emulator.hec_url(), HEC_TOKEN, &tls, "")
        .replace("retry_min = \"20ms\"\nretry_max = \"200ms\"", slow);
    let config = config(dir.path(), &[destination]);
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    let events = events(20);
    let seqs = produce(&group.handle(), &events, all(&config), 1);
    wait_until(Duration::from_secs(30), "retrying", || {
        stats_of(&running, "hec").retries >= 1
    });
    let report = running.shutdown(Duration::from_secs(5));
    assert!(
        report.still_running.is_empty(),
        "the backoff sleep watches the shutdown: {report:?}"
    );
    drop(group.shutdown().unwrap());
    assert!(stored(&emulator).is_empty());

    emulator.faults().clear();
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    wait_until(Duration::from_secs(30), "delivered after restart", || {
        stats_of(&running, "hec").delivered == 20 && backlog(&group.handle(), 0) == 0
    });
    assert_hec_holds_exactly(
        &stored(&emulator),
        &in_seq_order(&events, &seqs),
        &config.destinations[0].format_options().hec,
    );
    assert!(
        running
            .shutdown(Duration::from_secs(10))
            .still_running
            .is_empty()
    );
}

fn start_emulator(tls: &Tls) -> RunningEmulator {
    deliver_support::output_support::start(tls)
}

#[test]
fn a_lost_response_is_resent_and_counted_as_possible_duplicates() {
    let mut f = Fixture::new(HEC_TOKEN, "", |_| {});
    f.emulator
        .faults()
        .add("hec:lost-response,next=1".parse().unwrap())
        .unwrap();
    let events = events(10);
    produce(&f.group.handle(), &events, all(&f.config), 1);
    wait_until(
        Duration::from_secs(30),
        "delivered after the resend",
        || f.stats().delivered == 10 && f.backlog() == 0,
    );
    let stats = f.stats();
    let store = stored(&f.emulator);
    let duplicates = (store.len() - 10) as u64;
    assert!(
        duplicates >= 1,
        "the lost request was indexed: {}",
        store.len()
    );
    assert!(
        stats.possible_duplicates >= duplicates,
        "every duplicate is counted: {stats:?}, {duplicates} in the store"
    );
    f.stop();
}

/// How often fault `id` fired.
fn fired(emulator: &RunningEmulator, id: u64) -> u64 {
    emulator
        .faults()
        .list()
        .iter()
        .find(|fault| fault.id == id)
        .map_or(0, |fault| fault.fired)
}

/// The three bodies a 2xx can carry that are not HEC's reply, with how the reason names each.
const NOT_HEC: [(&str, &str); 3] = [
    (
        "html",
        "answered 200 with an HTML page: is the URL Splunk's HEC port?",
    ),
    (
        "empty",
        "answered 200 with an empty body: is the URL Splunk's HEC port?",
    ),
    ("json", "answered 200 with JSON that is not HEC's reply"),
];

/// For each body of [`NOT_HEC`]: while the event endpoint answers 2xx with it, ten new alerts
/// are kept (backlog 10, `delivered` unchanged, nothing stored) and the destination is parked
/// with the reason; once a real HEC takes the URL again they are delivered. In the end the
/// emulator holds every alert exactly once, and nothing was dead-lettered.
fn a_2xx_that_is_not_hec_parks_and_then_every_alert_arrives_once(token: &str, extra: &str) {
    let mut f = Fixture::new(token, extra, |_| {});
    let all_events = events(10 * NOT_HEC.len() as u64);
    for (round, (body, what)) in NOT_HEC.iter().enumerate() {
        let fault = format!("hec:status=200,body={body},path=/services/collector/event");
        let id = f.emulator.faults().add(fault.parse().unwrap()).unwrap();
        let delivered_before = f.stats().delivered;
        let stored_before = stored(&f.emulator).len();
        let batch = &all_events[round * 10..round * 10 + 10];
        f.produce(batch);
        let reason = wait_parked(f.running(), "hec", what);
        assert!(
            reason.starts_with(&format!(
                "the server at {}/services/collector/event answered 200 with ",
                f.emulator.hec_url()
            )),
            "{reason}"
        );
        // Let it try again while parked: still nothing is taken for delivered.
        wait_until(Duration::from_secs(30), "a resend while parked", || {
            fired(&f.emulator, id) >= 2
        });
        let stats = f.stats();
        assert_eq!(stats.delivered, delivered_before, "{body}: {stats:?}");
        assert_eq!(stats.acks_pending, 0, "{body}: {stats:?}");
        assert_eq!(f.backlog(), 10, "{body}: the spool keeps them");
        assert_eq!(stored(&f.emulator).len(), stored_before, "{body}");

        assert!(f.emulator.faults().remove(id));
        wait_until(Duration::from_secs(30), "delivered after the fix", || {
            f.stats().delivered == delivered_before + 10 && f.backlog() == 0
        });
        let state = f.stats().state;
        assert!(!matches!(state, State::Parked { .. }), "{body}: {state:?}");
    }
    assert_each_stored_once(&f.emulator, &all_events);
    assert_eq!(f.stats().dead_lettered, 0);
    f.stop();
}

#[test]
fn without_acks_a_2xx_that_is_not_hecs_reply_delivers_nothing_parks_and_recovers_once() {
    a_2xx_that_is_not_hec_parks_and_then_every_alert_arrives_once(HEC_TOKEN, "");
}

#[test]
fn with_acks_a_2xx_that_is_not_hecs_reply_delivers_nothing_parks_and_recovers_once() {
    a_2xx_that_is_not_hec_parks_and_then_every_alert_arrives_once(
        ACK_TOKEN,
        "ack = true\nack_deadline = \"60s\"",
    );
}

#[test]
fn an_ack_endpoint_answering_2xx_that_is_not_hecs_confirms_nothing() {
    let mut f = Fixture::new(ACK_TOKEN, "ack = true\nack_deadline = \"60s\"", |_| {});
    let events = events(10);
    for (round, (body, _)) in NOT_HEC.iter().enumerate() {
        let fault = format!("hec:status=200,body={body},path=/services/collector/ack");
        let id = f.emulator.faults().add(fault.parse().unwrap()).unwrap();
        if round == 0 {
            f.produce(&events);
            wait_until(Duration::from_secs(30), "received by HEC", || {
                stored(&f.emulator).len() == 10
            });
        }
        wait_until(Duration::from_secs(30), "three ack polls", || {
            fired(&f.emulator, id) >= 3
        });
        let stats = f.stats();
        assert_eq!(stats.delivered, 0, "{body}: not confirmed: {stats:?}");
        assert_eq!(stats.acks_pending, 10, "{body}: {stats:?}");
        assert_eq!(f.backlog(), 10, "{body}");
        let error = stats.last_error.unwrap_or_default();
        assert!(
            error.contains("nothing is taken as indexed"),
            "{body}: {error}"
        );
        assert!(f.emulator.faults().remove(id));
    }
    wait_until(
        Duration::from_secs(30),
        "acknowledged after the fix",
        || f.stats().delivered == 10 && f.backlog() == 0,
    );
    assert_each_stored_once(&f.emulator, &events);
    assert_eq!(f.stats().possible_duplicates, 0, "{:?}", f.stats());
    f.stop();
}

#[test]
fn a_missing_index_parks_without_dead_letters_and_delivers_once_when_created() {
    let mut f = Fixture::new(HEC_TOKEN, "index = \"ics\"", |_| {});
    let events = events(30);
    f.produce(&events);
    let reason = wait_parked(f.running(), "hec", "index missing");
    assert_eq!(
        reason,
        "index missing (HTTP 400, HEC code 7 \"Incorrect index\"): the index \"ics\" is not \
         writable with this token: create the index in Splunk or add it to the token's \
         allowed indexes"
    );
    wait_until(Duration::from_secs(30), "a resend while parked", || {
        f.emulator.stats().count(Server::Hec, "400") >= 2
    });
    let stats = f.stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (0, 0), "{stats:?}");
    assert_eq!(f.backlog(), 30);
    assert!(stored(&f.emulator).is_empty());
    assert!(!f.dir.path().join("deadletter/hec.jsonl").exists());

    assert!(f.emulator.create_index("ics"));
    wait_until(
        Duration::from_secs(30),
        "delivered once the index exists",
        || f.stats().delivered == 30 && f.backlog() == 0,
    );
    assert_each_stored_once(&f.emulator, &events);
    assert!(stored(&f.emulator).iter().all(|r| r.index == "ics"));
    assert_eq!(f.stats().dead_lettered, 0);
    f.stop();
}
