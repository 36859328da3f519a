//! Shared set-up of the delivery tests: TLS emulators on 127.0.0.1, a real spool in a temp
//! dir behind a group commit, a configuration written for them, and polling helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

pub(crate) use crate::support as output_support;

use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use icsfwd::config::{Config, Origin};
use icsfwd::testing::deliver::stats::DeliveryStats;
use icsfwd::testing::deliver::{Delivery, DeliveryOptions, Running};
use icsfwd::testing::spool::{
    GroupCommit, GroupConfig, Handle, Spool, SpoolConfig, storage::FsStorage,
};
use icsfwd_core::alert::Event;
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::format::{self, SliceWriter};
use icsfwd_sim::splunk::store::{Body, Filter, Stored};
use serde_json::Value;

pub use output_support::*;

/// Options with short intervals, so the tests run quickly.
pub fn options() -> DeliveryOptions {
    DeliveryOptions {
        ack_poll_interval: Duration::from_millis(100),
        housekeeping_interval: Duration::from_millis(200),
        idle_tick: Duration::from_millis(20),
        seed: Some(7),
        ..DeliveryOptions::default()
    }
}

/// A `[[destination]]` of kind `hec` for `url` with short timeouts and backoff; `extra` is
/// appended (more keys).
pub fn hec_destination(name: &str, url: &str, token: &str, tls: &Tls, extra: &str) -> String {
    format!(
        r#"
[[destination]]
name = "{name}"
kind = "hec"
urls = ["{url}"]
token = "{token}"
ca_file = "{ca}"
batch_max_events = 100
batch_linger = "10ms"
connect_timeout = "2s"
tls_timeout = "2s"
response_timeout = "2s"
retry_min = "20ms"
retry_max = "200ms"
{extra}
"#,
        ca = tls.ca_file.display()
    )
}

/// A `[[destination]]` of kind `splunk` (Basic auth) for the emulator's splunkd port.
pub fn splunk_destination(name: &str, port: u16, tls: &Tls, extra: &str) -> String {
    format!(
        r#"
[[destination]]
name = "{name}"
kind = "splunk"
host = "127.0.0.1"
port = {port}
username = "{USER}"
password = "{PASSWORD}"
ca_file = "{ca}"
connect_timeout = "2s"
tls_timeout = "2s"
response_timeout = "2s"
retry_min = "20ms"
retry_max = "200ms"
{extra}
"#,
        ca = tls.ca_file.display()
    )
}

pub const SENSOR_NAME: &str = "sensor-plant-a";
pub const SENSOR_IP: &str = "10.1.0.5";

/// A whole configuration: the sensor, `destinations`, one rule to all, the spool in `dir`.
pub fn config(dir: &Path, destinations: &[String]) -> Config {
    let names: Vec<String> = destinations
        .iter()
        .filter_map(|d| {
            d.lines()
                .find_map(|l| l.strip_prefix("name = "))
                .map(str::to_owned)
        })
        .collect();
    let text = format!(
        "[sensor]\nname = \"{SENSOR_NAME}\"\nip = \"{SENSOR_IP}\"\n{}\n[[rule]]\nname = \"all\"\n\
         min_severity = \"warning\"\nactions = [{}]\n\n[spool]\ndir = \"{}\"\n",
        destinations.concat(),
        names.join(", "),
        dir.display()
    );
    let origin = Origin {
        path: dir.join("icsfwd.toml"),
        mode: 0o600,
    };
    Config::parse(&text, &origin, &|_| None).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A spool (small segments, so they rotate and get removed) and its group commit.
pub fn open_spool(dir: &Path, config: &Config) -> GroupCommit {
    let names: Vec<String> = config.destinations.iter().map(|d| d.name.clone()).collect();
    let spool_config = SpoolConfig {
        segment_bytes: 64 * 1024,
        ..SpoolConfig::default()
    };
    let (spool, _) = Spool::open(FsStorage::new(), dir, spool_config, &names).unwrap();
    GroupCommit::start(spool, GroupConfig::default()).unwrap()
}

/// Delivery over `group` with the test [`options`].
pub fn start(config: &Config, group: &GroupCommit, dir: &Path) -> Running {
    Delivery::start_with(config, group.handle(), dir, options()).unwrap()
}

/// Every destination of `config`.
pub fn all(config: &Config) -> DestinationSet {
    config
        .destinations
        .iter()
        .fold(DestinationSet::EMPTY, |set, d| set.with(d.id))
}

/// Appends `events` from `producers` threads; returns (seq, index into `events`) sorted by
/// sequence number.
pub fn produce(
    handle: &Handle,
    events: &[Event],
    to: DestinationSet,
    producers: usize,
) -> Vec<(u64, usize)> {
    let chunks: Vec<Vec<(usize, Event)>> = (0..producers)
        .map(|p| {
            events
                .iter()
                .enumerate()
                .skip(p)
                .step_by(producers)
                .map(|(i, e)| (i, e.clone()))
                .collect()
        })
        .collect();
    let threads: Vec<JoinHandle<Vec<(u64, usize)>>> = chunks
        .into_iter()
        .map(|chunk| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                chunk
                    .into_iter()
                    .map(|(i, e)| (handle.append(e, to).unwrap(), i))
                    .collect()
            })
        })
        .collect();
    let mut seqs: Vec<(u64, usize)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    seqs.sort_unstable();
    seqs
}

/// Polls `condition` every 20 ms until it holds; panics with `what` after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let give_up = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < give_up, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The stats of destination `name`.
pub fn stats_of(running: &Running, name: &str) -> DeliveryStats {
    running
        .stats()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
}

pub fn stored(emulator: &icsfwd_sim::splunk::emulator::RunningEmulator) -> Vec<Stored> {
    emulator.store().list(&Filter::default())
}

/// The envelope core renders for `event`, parsed.
pub fn envelope(event: &Event, options: &format::hec::Options) -> Value {
    let mut buf = vec![0u8; format::hec::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    format::hec::write(event, options, &mut out).unwrap();
    serde_json::from_slice(out.written()).unwrap()
}

/// The store holds exactly `events` in this order, each with its envelope's fields.
pub fn assert_hec_holds_exactly(
    store: &[Stored],
    events: &[&Event],
    options: &format::hec::Options,
) {
    assert_eq!(store.len(), events.len(), "one stored event per event");
    for (stored, event) in store.iter().zip(events) {
        let want = envelope(event, options);
        assert_eq!(stored.host, want["host"].as_str().unwrap());
        assert_eq!(stored.source, want["source"].as_str().unwrap());
        assert_eq!(stored.sourcetype, want["sourcetype"].as_str().unwrap());
        if let Some(index) = want.get("index") {
            assert_eq!(stored.index, index.as_str().unwrap());
        }
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

/// The classic text core renders for `event`.
pub fn text(event: &Event) -> String {
    let mut buf = vec![0u8; format::text::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    format::text::write(event, &format::text::Options::default(), &mut out).unwrap();
    String::from_utf8(out.written().to_vec()).unwrap()
}

/// The spool backlog of destination `index`.
pub fn backlog(handle: &Handle, index: usize) -> u64 {
    handle.stats().unwrap().destinations[index].backlog
}

/// How many times the emulator stored each event id: HEC records carry it as `event.id`,
/// splunkd text bodies in their `Alert ID: ` line.
pub fn stored_id_counts(
    emulator: &icsfwd_sim::splunk::emulator::RunningEmulator,
) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for record in stored(emulator) {
        let id = match &record.body {
            Body::Json(event) => event["id"].as_str().unwrap_or_default().to_owned(),
            Body::Text(text) => text
                .lines()
                .find_map(|l| l.strip_prefix("Alert ID: "))
                .unwrap_or_default()
                .to_owned(),
        };
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// The emulator holds every one of `events` exactly once, and nothing else.
pub fn assert_each_stored_once(
    emulator: &icsfwd_sim::splunk::emulator::RunningEmulator,
    events: &[Event],
) {
    let want: std::collections::BTreeMap<String, u64> = events
        .iter()
        .map(|e| (e.event_id().to_string(), 1))
        .collect();
    assert_eq!(want.len(), events.len(), "distinct ids");
    assert_eq!(stored_id_counts(emulator), want, "each alert exactly once");
}

/// Waits until destination `name` is parked with a reason holding `what`; the reason.
pub fn wait_parked(running: &Running, name: &str, what: &str) -> String {
    let mut reason = String::new();
    wait_until(
        Duration::from_secs(30),
        &format!("{name} parked with {what:?}"),
        || match stats_of(running, name).state {
            icsfwd::testing::deliver::stats::State::Parked { reason: r } => {
                reason = r;
                reason.contains(what)
            }
            _ => false,
        },
    );
    reason
}
