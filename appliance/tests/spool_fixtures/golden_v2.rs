//! The golden spool `spool_fixtures/v2/`: a spool written by the release that introduced
//! record format 2 (the forwarder's health report and the forwarded heartbeat), committed so
//! that every later release must open it and deliver exactly what it holds, as
//! `spool_fixtures/v1/` does for format 1 (`golden.rs`).
//!
//! [`write`] made it, through the spool's own API, as the service would have:
//!
//! 1. four events are accepted, one batch each, into one segment: an alert (written as
//!    format 1, as every alert is), a health report and a forwarded heartbeat (format 2, the
//!    only kinds that need it) and a "sensor offline" notification (format 1) ([`events`]);
//! 2. `soc` is acknowledged up to 1 and a checkpoint persists it; `health` is at 0.
//!
//! What a release that opens it must deliver ([`backlog`]): `soc` records 2 to 4, `health`
//! records 1 to 3, each exactly once.
//!
//! The committed segment ends at its data: the zeros the spool reserves after it (padding,
//! `docs/spool.md`) are cut by the generator, which makes no difference to a reader.
//!
//! Regenerate it only when this version must change it on purpose — never for a new format
//! version, which gets a fixture of its own beside this one:
//!
//! ```text
//! ICSFWD_WRITE_GOLDEN=1 cargo test -p icsfwd --test spool -- --ignored write_golden_spool_v2
//! ```
#![allow(clippy::unwrap_used, reason = "tests")]

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use icsfwd::testing::spool::storage::FsStorage;
use icsfwd::testing::spool::{Spool, SpoolConfig};
use icsfwd_core::alert::{Alert, Engine, Event, Notification, NotificationKind, Severity};
use icsfwd_core::destination::{DestinationId, DestinationSet};

/// The destinations, in configuration order (index = bit in the records).
pub const NAMES: [&str; 2] = ["soc", "health"];

/// The committed fixture.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spool_fixtures/v2")
}

pub fn names() -> Vec<String> {
    NAMES.iter().map(|n| (*n).to_owned()).collect()
}

pub fn config() -> SpoolConfig {
    SpoolConfig::default()
}

/// The golden events with their destinations; record `i + 1` is element `i`.
pub fn events() -> Vec<(Event, DestinationSet)> {
    let both = DestinationSet::from_bits(0b11);
    let mut alert = Alert::new(
        200,
        1_765_000_000_000,
        Engine::Operational,
        Severity::Critical,
    );
    alert.set_title("PLC Program Stop");
    alert.set_message("A stop command was sent from HMI-07 to PLC-Line3.");
    alert.set_sensor_name("sensor-golden-2");
    alert.set_protocol("S7comm");
    alert.source.ip = IpAddr::V4(Ipv4Addr::new(10, 20, 1, 7));
    alert.destination.ip = IpAddr::V4(Ipv4Addr::new(10, 20, 3, 15));
    let mut health = Notification::new(201, 1_765_000_000_100, NotificationKind::Health);
    health.set_text(
        "destination=soc kind=hec state=retrying reason=\"no reply in time\" backlog=12 \
         delivered=340 dead_lettered=0 possible_duplicates=2 retries=5 spool_bytes=8192 \
         spool_percent=0.0 evicted=0 refused=0",
    );
    health.set_sensor_name("icsfwd");
    let mut heartbeat = Notification::new(202, 1_765_000_000_200, NotificationKind::Heartbeat);
    heartbeat.set_text("sensor-golden-2 is alive");
    heartbeat.set_sensor_name("sensor-golden-2");
    let mut offline = Notification::new(203, 1_765_000_000_300, NotificationKind::SensorOffline);
    offline.set_text("no heartbeat for 90 s");
    offline.set_sensor_name("sensor-golden-2");
    vec![
        (Event::from(alert), both),
        (Event::from(health), both),
        (Event::from(heartbeat), both),
        (Event::from(offline), DestinationSet::from_bits(0b01)),
    ]
}

/// The sequence numbers destination `index` must still receive from the fixture.
pub fn backlog(index: u8) -> Vec<u64> {
    match index {
        0 => vec![2, 3, 4],
        _ => vec![1, 2, 3],
    }
}

/// The event of record `seq`.
pub fn event(seq: u64) -> Event {
    events()[usize::try_from(seq - 1).unwrap()].0.clone()
}

/// Writes the golden spool into `dir`: the steps of the module docs, which made the committed
/// fixture (its segments still with their reserved zeros: see `golden::data_only`).
pub fn write(dir: &Path) {
    let (mut spool, _) = Spool::open(FsStorage::new(), dir, config(), &names()).unwrap();
    for event in events() {
        spool.append_batch(&[event]).unwrap();
    }
    spool.ack(DestinationId::new(0).unwrap(), 1).unwrap();
    spool.checkpoint().unwrap();
}
