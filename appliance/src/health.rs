//! The forwarder's own health, sent to Splunk as events: a periodic health report per
//! destination, and sensor heartbeats forwarded at a bounded rate.
//!
//! What it is:
//! - [`report_text`] words one destination's state (from the status snapshot `icsfwd status`
//!   shows) as the text of a core notification of kind `Health`: `key=value` fields
//!   separated by single spaces, `reason=` last so that it may hold spaces and `=`. The
//!   service makes one per destination at start and every `[health] interval`, and appends it like any
//!   notification, to the destinations of the rules with `health = true`
//!   (`docs/output-formats.md` shows it in every format; the Splunk add-on extracts the fields).
//! - [`HeartbeatGate`] decides which sensor heartbeats are forwarded: at most one per sensor
//!   per `[health] heartbeat_interval`. The ingest thread offers every heartbeat; the service's
//!   status tick takes the ones let through and appends them as notifications of kind
//!   `Heartbeat`, routed like system notifications.
//!
//! What it guarantees:
//! - A health report is durable like an alert: appended through the spool's group commit, it
//!   obeys the spool's contract (delivered at least once, across restarts; evicted only by
//!   `on_full = "evict-lower-severity"`, as the lowest severity).
//! - Its text never exceeds the notification's capacity (`MAX_NOTIFICATION_TEXT`): the numbers
//!   come first and only the reason is cut (at a character boundary); a line break in a reason
//!   is written as a space, so the text is one line.
//! - The gate never lets more than one heartbeat per sensor through within an interval, and
//!   follows at most `MAX_TRACKED_SENSORS` names (further names are not forwarded).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use icsfwd::health::{HeartbeatGate, report_text};
//! use icsfwd::status::{DestinationStatus, SpoolStatus};
//! use icsfwd_core::alert::Sensor;
//!
//! let destination = DestinationStatus {
//!     name: "soc".into(),
//!     kind: "hec".into(),
//!     state: "parked".into(),
//!     reason: Some("credentials rejected: check the token".into()),
//!     backlog: 12,
//!     ..DestinationStatus::default()
//! };
//! let spool = SpoolStatus { live_bytes: 512, max_bytes: 2048, ..SpoolStatus::default() };
//! let text = report_text(&destination, &spool);
//! assert!(text.starts_with("destination=soc destination_kind=hec state=parked backlog=12 "));
//! assert!(text.contains(" spool_used_pct=25.0 "));
//! assert!(text.ends_with(" reason=credentials rejected: check the token"));
//!
//! let gate = HeartbeatGate::new(Duration::from_secs(60));
//! let mut sensor = Sensor::unknown();
//! sensor.set_name("sensor-plant-b");
//! let t0 = Instant::now();
//! assert!(gate.offer(&sensor, 1_000, t0));
//! assert!(!gate.offer(&sensor, 2_000, t0 + Duration::from_secs(59)));
//! assert!(gate.offer(&sensor, 3_000, t0 + Duration::from_secs(60)));
//! assert_eq!(gate.take().len(), 2);
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use icsfwd_core::alert::{MAX_NOTIFICATION_TEXT, Sensor};

use crate::notify::MAX_TRACKED_SENSORS;
use crate::status::{DestinationStatus, SpoolStatus};

/// The text of one destination's health report; see the module docs for its shape.
pub fn report_text(destination: &DestinationStatus, spool: &SpoolStatus) -> String {
    let mut text = String::with_capacity(MAX_NOTIFICATION_TEXT);
    let used_pct = if spool.max_bytes == 0 {
        0.0
    } else {
        // Precision loss is irrelevant for a percentage shown with one decimal.
        #[expect(clippy::cast_precision_loss, reason = "a percentage")]
        let pct = spool.live_bytes as f64 * 100.0 / spool.max_bytes as f64;
        pct
    };
    // Writing to a String cannot fail.
    let _ = write!(
        text,
        "destination={} destination_kind={} state={} backlog={} delivered={} dead_lettered={} \
         possible_duplicates={} retries={} spool_used_bytes={} spool_max_bytes={} \
         spool_used_pct={used_pct:.1} spool_evicted={} spool_refused_full={}",
        one_word(&destination.name),
        one_word(&destination.kind),
        one_word(&destination.state),
        destination.backlog,
        destination.delivered,
        destination.dead_lettered,
        destination.possible_duplicates,
        destination.retries,
        spool.live_bytes,
        spool.max_bytes,
        spool.evicted,
        spool.refused_full,
    );
    if let Some(reason) = &destination.reason {
        text.push_str(" reason=");
        for c in reason.chars() {
            let c = if c.is_control() { ' ' } else { c };
            if text.len() + c.len_utf8() > MAX_NOTIFICATION_TEXT {
                break;
            }
            text.push(c);
        }
    }
    text
}

/// A value that must stay one word: blanks and `=` would split or shift the fields after it.
fn one_word(value: &str) -> String {
    let word: String = value
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() || c == '=' {
                '_'
            } else {
                c
            }
        })
        .collect();
    if word.is_empty() {
        "-".to_owned()
    } else {
        word
    }
}

/// A heartbeat let through by the gate, to be forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// The sensor that sent it.
    pub sensor: Sensor,
    /// When it was received (ms since the Unix epoch).
    pub received_ms: u64,
}

#[derive(Debug, Default)]
struct GateState {
    last_passed: HashMap<String, Instant>,
    passed: Vec<Passed>,
}

/// Lets through at most one heartbeat per sensor per interval; see the module docs.
#[derive(Debug)]
pub struct HeartbeatGate {
    interval: Duration,
    state: Mutex<GateState>,
}

impl HeartbeatGate {
    /// A gate passing one heartbeat per sensor per `interval`.
    pub fn new(interval: Duration) -> Self {
        HeartbeatGate {
            interval,
            state: Mutex::new(GateState::default()),
        }
    }

    /// Offers a heartbeat from `sensor` received at `now` (`now_ms` on the wall clock);
    /// returns whether it passed and waits in [`take`](HeartbeatGate::take)'s queue.
    pub fn offer(&self, sensor: &Sensor, now_ms: u64, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let name = sensor.name.as_str();
        let due = match state.last_passed.get(name) {
            Some(last) => now.saturating_duration_since(*last) >= self.interval,
            None => state.last_passed.len() < MAX_TRACKED_SENSORS,
        };
        if !due {
            return false;
        }
        state.last_passed.insert(name.to_owned(), now);
        // Bounded: one entry per tracked sensor per interval until the next take.
        if state.passed.len() < MAX_TRACKED_SENSORS {
            state.passed.push(Passed {
                sensor: sensor.clone(),
                received_ms: now_ms,
            });
        }
        true
    }

    /// The heartbeats passed since the last call, oldest first.
    pub fn take(&self) -> Vec<Passed> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut state.passed)
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

    fn sensor(name: &str) -> Sensor {
        let mut s = Sensor::unknown();
        s.set_name(name);
        s
    }

    #[test]
    fn a_long_reason_is_cut_to_the_notification_capacity_and_stays_one_line() {
        let destination = DestinationStatus {
            name: "soc hec".into(),
            kind: "hec".into(),
            state: "retrying".into(),
            reason: Some(format!("first line\nsecond {}", "é".repeat(400))),
            backlog: u64::MAX,
            delivered: u64::MAX,
            dead_lettered: u64::MAX,
            possible_duplicates: u64::MAX,
            retries: u64::MAX,
            ..DestinationStatus::default()
        };
        let spool = SpoolStatus {
            live_bytes: u64::MAX,
            max_bytes: u64::MAX,
            evicted: u64::MAX,
            refused_full: u64::MAX,
            ..SpoolStatus::default()
        };
        let text = report_text(&destination, &spool);
        assert!(text.len() <= MAX_NOTIFICATION_TEXT, "{}", text.len());
        assert!(
            text.len() > MAX_NOTIFICATION_TEXT - 2,
            "filled up to the capacity"
        );
        assert!(text.starts_with("destination=soc_hec "), "{text}");
        assert!(text.contains(" reason=first line second é"), "{text}");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn without_a_reason_the_text_has_no_reason_field() {
        let destination = DestinationStatus {
            name: "soc".into(),
            kind: "syslog".into(),
            state: "idle".into(),
            ..DestinationStatus::default()
        };
        let text = report_text(&destination, &SpoolStatus::default());
        assert!(!text.contains("reason="), "{text}");
        assert!(text.contains(" spool_used_pct=0.0 "), "{text}");
    }

    #[test]
    fn the_gate_passes_one_heartbeat_per_sensor_per_interval() {
        let gate = HeartbeatGate::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let mut passed = 0;
        // 10 heartbeats a second for 35 s, from two sensors: 4 intervals started each.
        for tenth in 0..350u64 {
            let at = t0 + Duration::from_millis(tenth * 100);
            for name in ["a", "b"] {
                passed += usize::from(gate.offer(&sensor(name), tenth, at));
            }
        }
        assert_eq!(passed, 8);
        let taken = gate.take();
        assert_eq!(taken.len(), 8);
        assert_eq!(taken[0].sensor.name.as_str(), "a");
        assert!(gate.take().is_empty());
    }

    #[test]
    fn the_gate_follows_a_bounded_number_of_sensors() {
        let gate = HeartbeatGate::new(Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED_SENSORS {
            assert!(gate.offer(&sensor(&format!("s{i}")), 0, t0));
        }
        assert!(!gate.offer(&sensor("one-too-many"), 0, t0));
        assert_eq!(gate.take().len(), MAX_TRACKED_SENSORS);
    }
}
