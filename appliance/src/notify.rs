//! System notifications: the forwarder's own news about its sensors, forwarded like alerts.
//!
//! What it is:
//! - [`Notifier`] makes a core [`Notification`], routes it with the configured rules (only rules
//!   with `system_notifications = true` take it, or `health = true` for the forwarder's health
//!   reports of [`crate::health`], to any destination kind and format) and appends
//!   it through the spool's group commit, so it is durable and delivered by the same workers
//!   as alerts. Every notification is logged (health reports and forwarded heartbeats only at
//!   debug level).
//! - [`HeartbeatTracker`] remembers when each sensor last sent a heartbeat through ingest and
//!   says, when [`check`](HeartbeatTracker::check)ed, which sensors went silent for longer than
//!   the timeout (`[sensor] heartbeat_timeout`) and which came back.
//! - [`DropWatch`] turns growth of the spool's eviction counter and the workers' dead-letter
//!   counters into the text of one notice.
//!
//! What it guarantees, and the choices made where the references are silent:
//! - Notification ids never repeat, across restarts too: an id is the service's start time in
//!   milliseconds times 1,000,000 plus a per-process counter. Two runs could only collide if
//!   one made a million notifications per millisecond it ran (the service makes at most a few
//!   per second), or if the clock went back between them.
//! - A notification is appended only when a rule takes it; with none it is only logged.
//! - Heartbeats are timed on the forwarder's monotonic clock at receipt, not by the time the
//!   sensor writes in them, so a sensor's clock skew cannot raise or hide "offline".
//! - Only sensors that sent a heartbeat are tracked (a deployment without heartbeats never
//!   sees "offline" from the tracker); each goes "offline" once per silence and "back online"
//!   at its next heartbeat. At most [`MAX_TRACKED_SENSORS`] names are tracked; heartbeats from
//!   further names are ignored and that is logged once.
//! - The "alerts dropped" notice uses the core kind `AlertsDropped` for evictions and dead
//!   letters alike; the text says which, how many, and where to look.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::config::SharedRules;
use icsfwd_core::alert::{Event, Notification, NotificationKind, Sensor};
use icsfwd_core::destination::DestinationSet;
use log::{debug, info, warn};

use crate::ingest::schema::Heartbeat;
use crate::spool::storage::{FsStorage, Storage};
use crate::spool::{AppendError, Handle};

/// The most sensors [`HeartbeatTracker`] follows.
pub(crate) const MAX_TRACKED_SENSORS: usize = 256;

/// Makes system notifications, routes them with the rules and appends them to the spool.
pub(crate) struct Notifier<S: Storage + 'static = FsStorage> {
    rules: SharedRules,
    handle: Handle<S>,
    sensor: Sensor,
    epoch: u64,
    counter: AtomicU64,
}

/// A notification appended to the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// Its spool sequence number.
    pub seq: u64,
    /// The destinations it goes to.
    pub destinations: DestinationSet,
}

impl<S: Storage + 'static> Notifier<S> {
    /// A notifier for the forwarder's own sensor (`sensor_name`, `sensor_ip`), started at
    /// `started_ms` (milliseconds since the Unix epoch; the base of every id).
    pub(crate) fn new(
        rules: impl Into<SharedRules>,
        handle: Handle<S>,
        sensor_name: &str,
        sensor_ip: IpAddr,
        started_ms: u64,
    ) -> Self {
        let mut sensor = Sensor::unknown();
        sensor.set_name(sensor_name);
        sensor.ip = sensor_ip;
        sensor.set_version(env!("CARGO_PKG_VERSION"));
        Notifier {
            rules: rules.into(),
            handle,
            sensor,
            epoch: started_ms.saturating_mul(1_000_000),
            counter: AtomicU64::new(0),
        }
    }

    /// The forwarder's own sensor.
    pub(crate) fn sensor(&self) -> &Sensor {
        &self.sensor
    }

    /// A new notification of `kind` about `sensor` at `now_ms`, with a fresh id.
    pub(crate) fn make(
        &self,
        kind: NotificationKind,
        sensor: &Sensor,
        text: &str,
        now_ms: u64,
    ) -> Notification {
        let id = self
            .epoch
            .wrapping_add(self.counter.fetch_add(1, Ordering::Relaxed));
        let mut notification = Notification::new(id, now_ms, kind);
        notification.sensor = sensor.clone();
        notification.set_text(text);
        notification
    }

    /// Makes, logs, routes and appends a notification (blocking until it is durable).
    /// `Ok(None)` when no rule takes system notifications: it is only logged then.
    ///
    /// # Errors
    ///
    /// The spool refused it (full, or shutting down).
    pub(crate) fn send(
        &self,
        kind: NotificationKind,
        sensor: &Sensor,
        text: &str,
        now_ms: u64,
    ) -> Result<Option<Sent>, AppendError> {
        let notification = self.make(kind, sensor, text, now_ms);
        let event = Event::Notification(notification);
        info!(
            "notification {}: {} (sensor {}): {}",
            event_id(&event),
            kind.as_str(),
            sensor.name.as_str(),
            text
        );
        self.store(event, now_ms)
    }

    /// [`send`](Notifier::send) for the routine kinds (health reports, forwarded heartbeats):
    /// logged at debug level only, since they come every interval and say nothing new to the
    /// journal (`icsfwd status` shows the same). A refusal is logged as a warning.
    pub(crate) fn send_routine(
        &self,
        kind: NotificationKind,
        sensor: &Sensor,
        text: &str,
        now_ms: u64,
    ) -> Option<Sent> {
        let event = Event::Notification(self.make(kind, sensor, text, now_ms));
        debug!(
            "notification {}: {} (sensor {}): {}",
            event_id(&event),
            kind.as_str(),
            sensor.name.as_str(),
            text
        );
        self.store(event, now_ms).unwrap_or_else(|e| {
            warn!(
                "notification {} (sensor {}) not stored: {e}",
                kind.as_str(),
                sensor.name.as_str()
            );
            None
        })
    }

    /// Routes `event` and appends it when a rule takes it.
    fn store(&self, event: Event, now_ms: u64) -> Result<Option<Sent>, AppendError> {
        let destinations = self.rules.current().route(&event, now_ms);
        if destinations.is_empty() {
            return Ok(None);
        }
        let seq = self.handle.append(event, destinations)?;
        Ok(Some(Sent { seq, destinations }))
    }

    /// [`send`](Notifier::send), with a refusal logged as a warning instead of returned.
    pub(crate) fn send_logged(
        &self,
        kind: NotificationKind,
        sensor: &Sensor,
        text: &str,
        now_ms: u64,
    ) -> Option<Sent> {
        match self.send(kind, sensor, text, now_ms) {
            Ok(sent) => sent,
            Err(e) => {
                warn!(
                    "notification {} (sensor {}) not stored: {e}",
                    kind.as_str(),
                    sensor.name.as_str()
                );
                None
            }
        }
    }
}

impl<S: Storage + 'static> std::fmt::Debug for Notifier<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("sensor", &self.sensor.name.as_str())
            .field("epoch", &self.epoch)
            .field("sent", &self.counter.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn event_id(event: &Event) -> String {
    match event {
        Event::Notification(n) => format!("{}-{}", n.sensor.name.as_str(), n.id),
        Event::Alert(a) => format!("{}-{}", a.sensor.name.as_str(), a.id),
    }
}

/// A change of a tracked sensor's state, found by [`HeartbeatTracker::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// No heartbeat for longer than the timeout.
    Offline(Sensor),
    /// A heartbeat after the sensor was reported offline.
    BackOnline(Sensor),
}

#[derive(Debug)]
struct Tracked {
    sensor: Sensor,
    last: Instant,
    offline: bool,
    back: bool,
}

#[derive(Debug, Default)]
struct Sensors {
    by_name: HashMap<String, Tracked>,
    refused_logged: bool,
}

/// Per sensor name, when its last heartbeat arrived; see the module docs.
#[derive(Debug)]
pub(crate) struct HeartbeatTracker {
    timeout: Duration,
    max: usize,
    sensors: Mutex<Sensors>,
}

impl HeartbeatTracker {
    /// A tracker reporting a sensor offline after `timeout` without a heartbeat, following at
    /// most [`MAX_TRACKED_SENSORS`] sensors.
    pub(crate) fn new(timeout: Duration) -> Self {
        HeartbeatTracker::with_capacity(timeout, MAX_TRACKED_SENSORS)
    }

    /// The same with at most `max` sensors.
    pub(crate) fn with_capacity(timeout: Duration, max: usize) -> Self {
        HeartbeatTracker {
            timeout,
            max,
            sensors: Mutex::new(Sensors::default()),
        }
    }

    /// Records a heartbeat received at `now`; returns `false` if the sensor is not tracked
    /// because the tracker is full.
    pub(crate) fn beat(&self, heartbeat: &Heartbeat, now: Instant) -> bool {
        let mut sensors = self.sensors.lock().unwrap_or_else(PoisonError::into_inner);
        let name = heartbeat.sensor.name.as_str();
        if let Some(tracked) = sensors.by_name.get_mut(name) {
            tracked.last = now;
            tracked.sensor = heartbeat.sensor.clone();
            if tracked.offline {
                tracked.offline = false;
                tracked.back = true;
            }
            return true;
        }
        if sensors.by_name.len() >= self.max {
            if !sensors.refused_logged {
                sensors.refused_logged = true;
                warn!(
                    "heartbeat from sensor {name}: already tracking {} sensors, not tracking \
                     more (this is logged once)",
                    self.max
                );
            }
            return false;
        }
        sensors.by_name.insert(
            name.to_owned(),
            Tracked {
                sensor: heartbeat.sensor.clone(),
                last: now,
                offline: false,
                back: false,
            },
        );
        true
    }

    /// The changes since the last check, at `now`: each sensor silent for longer than the
    /// timeout goes offline once; each offline sensor heard from again is back online.
    pub(crate) fn check(&self, now: Instant) -> Vec<Change> {
        let mut sensors = self.sensors.lock().unwrap_or_else(PoisonError::into_inner);
        let mut changes = Vec::new();
        for tracked in sensors.by_name.values_mut() {
            if tracked.back {
                tracked.back = false;
                changes.push(Change::BackOnline(tracked.sensor.clone()));
            }
            if !tracked.offline && now.saturating_duration_since(tracked.last) > self.timeout {
                tracked.offline = true;
                changes.push(Change::Offline(tracked.sensor.clone()));
            }
        }
        changes
    }

    /// How many sensors are tracked.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sensors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_name
            .len()
    }
}

/// Watches the drop counters (spool evictions, per-destination dead letters) and words a
/// notice when they grow.
#[derive(Debug, Default, Clone)]
pub(crate) struct DropWatch {
    evicted: u64,
    dead_lettered: HashMap<String, u64>,
    deadletter_dir: Option<PathBuf>,
}

impl DropWatch {
    /// A watch whose notices point at the dead-letter files in `dir`
    /// (`<spool>/deadletter`).
    pub(crate) fn new(deadletter_dir: &Path) -> Self {
        DropWatch {
            deadletter_dir: Some(deadletter_dir.to_path_buf()),
            ..DropWatch::default()
        }
    }

    /// Takes the counters now (`evicted` in all; `(destination, dead-lettered)` pairs) and
    /// returns the text of a notice if any grew since the last call.
    pub(crate) fn observe(
        &mut self,
        evicted: u64,
        dead_lettered: &[(&str, u64)],
    ) -> Option<String> {
        let mut parts = Vec::new();
        if evicted > self.evicted {
            parts.push(format!(
                "{} alert(s) evicted from the full spool ({evicted} since start); see \
                 `icsfwd status`",
                evicted - self.evicted
            ));
            self.evicted = evicted;
        }
        for &(name, count) in dead_lettered {
            let before = self.dead_lettered.get(name).copied().unwrap_or(0);
            if count > before {
                let file = match &self.deadletter_dir {
                    Some(dir) => dir.join(format!("{name}.jsonl")).display().to_string(),
                    None => format!("deadletter/{name}.jsonl"),
                };
                parts.push(format!(
                    "{} alert(s) dead-lettered by destination {name} ({count} since start); \
                     see {file} and `icsfwd status`",
                    count - before
                ));
                self.dead_lettered.insert(name.to_owned(), count);
            }
        }
        if parts.is_empty() {
            None
        } else {
            Some(parts.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;

    fn heartbeat(name: &str) -> Heartbeat {
        let mut sensor = Sensor::unknown();
        sensor.set_name(name);
        Heartbeat { sensor, time_ms: 0 }
    }

    fn names(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                Change::Offline(s) => format!("offline {}", s.name.as_str()),
                Change::BackOnline(s) => format!("back {}", s.name.as_str()),
            })
            .collect()
    }

    #[test]
    fn a_silent_sensor_goes_offline_once_and_comes_back_at_its_next_heartbeat() {
        let tracker = HeartbeatTracker::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(tracker.beat(&heartbeat("a"), t0));
        assert!(tracker.check(t0 + Duration::from_secs(10)).is_empty());
        let s = Duration::from_secs;
        assert_eq!(names(&tracker.check(t0 + s(11))), ["offline a"]);
        assert!(tracker.check(t0 + s(20)).is_empty(), "offline only once");
        tracker.beat(&heartbeat("a"), t0 + s(21));
        assert_eq!(names(&tracker.check(t0 + s(21))), ["back a"]);
        assert!(tracker.check(t0 + s(22)).is_empty());
        assert_eq!(names(&tracker.check(t0 + s(32))), ["offline a"]);
    }

    #[test]
    fn a_sensor_beating_in_time_never_goes_offline() {
        let tracker = HeartbeatTracker::new(Duration::from_secs(10));
        let t0 = Instant::now();
        for second in 0..100 {
            tracker.beat(&heartbeat("a"), t0 + Duration::from_secs(second * 5));
            assert!(
                tracker
                    .check(t0 + Duration::from_secs(second * 5 + 4))
                    .is_empty()
            );
        }
    }

    #[test]
    fn the_tracker_refuses_names_beyond_its_capacity_and_keeps_the_known_ones() {
        let tracker = HeartbeatTracker::with_capacity(Duration::from_secs(1), 2);
        let t0 = Instant::now();
        assert!(tracker.beat(&heartbeat("a"), t0));
        assert!(tracker.beat(&heartbeat("b"), t0));
        assert!(!tracker.beat(&heartbeat("c"), t0));
        assert!(tracker.beat(&heartbeat("a"), t0));
        assert_eq!(tracker.len(), 2);
        let mut offline = names(&tracker.check(t0 + Duration::from_secs(2)));
        offline.sort();
        assert_eq!(offline, ["offline a", "offline b"]);
    }

    #[test]
    fn drop_watch_words_a_notice_only_when_a_counter_grows() {
        let mut watch = DropWatch::new(Path::new("/var/lib/icsfwd/deadletter"));
        // (evicted, dead-lettered per destination, the parts the notice must hold if any)
        type Row = (
            u64,
            &'static [(&'static str, u64)],
            Option<&'static [&'static str]>,
        );
        let table: [Row; 5] = [
            (0, &[("hec", 0)], None),
            (
                5,
                &[("hec", 0)],
                Some(&["5 alert(s) evicted", "(5 since start)"]),
            ),
            (5, &[("hec", 0)], None),
            (
                7,
                &[("hec", 2)],
                Some(&[
                    "2 alert(s) evicted",
                    "2 alert(s) dead-lettered by destination hec",
                    "/var/lib/icsfwd/deadletter/hec.jsonl",
                ]),
            ),
            (7, &[("hec", 2)], None),
        ];
        for (evicted, dead, expected) in table {
            let notice = watch.observe(evicted, dead);
            match expected {
                None => assert_eq!(notice, None),
                Some(parts) => {
                    let notice = notice.expect("a notice");
                    for part in parts {
                        assert!(notice.contains(part), "{notice:?} lacks {part:?}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::ingest::schema::Heartbeat;
        use crate::notify::{Change, DropWatch, HeartbeatTracker};
        use icsfwd_core::alert::Sensor;
        use std::time::{Duration, Instant};

        let tracker = HeartbeatTracker::new(Duration::from_secs(60));
        let mut sensor = Sensor::unknown();
        sensor.set_name("sensor-plant-b");
        let start = Instant::now();
        tracker.beat(&Heartbeat { sensor, time_ms: 0 }, start);
        assert!(tracker.check(start + Duration::from_secs(30)).is_empty());
        let changes = tracker.check(start + Duration::from_secs(61));
        assert!(
            matches!(&changes[..], [Change::Offline(s)] if s.name.as_str() == "sensor-plant-b")
        );

        let mut watch = DropWatch::default();
        assert_eq!(watch.observe(0, &[]), None);
        let text = watch.observe(3, &[]).unwrap_or_default();
        assert!(text.contains("3 alert(s) evicted"));
    }
}
