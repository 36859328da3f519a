//! Per-destination delivery counters and state, shared between a worker and `icsfwd status`.
//!
//! What it is: a [`StatsCell`] (an `Arc<Mutex<DeliveryStats>>`) is written by one worker and
//! read by anyone; [`StatsCell::snapshot`] copies it out. The lock is only held to copy or
//! bump counters, never across network or disk I/O.
//!
//! [`DeliveryStats::to_status`] gives the [`DestinationStatus`] of the service's status
//! snapshot ([`crate::status`]).
//!
//! What it guarantees: counters only grow; errors are stored as the senders report them
//! (already redacted: no secret reaches a [`DeliveryStats`]); times are wall-clock epoch
//! milliseconds so they serialize plainly.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use crate::clock::now_ms;
use crate::status::DestinationStatus;

/// What a destination's worker is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum State {
    /// Nothing to send.
    #[default]
    Idle,
    /// Sending (or waiting for a fuller batch, or for acks).
    Sending,
    /// The last send failed transiently: resending after a backoff.
    Retrying,
    /// A problem an operator must fix (the reason says what); retrying slowly.
    Parked {
        /// Why, and what to fix.
        reason: String,
    },
    /// No worker runs for this destination (its sender could not be set up).
    Failed {
        /// Why.
        reason: String,
    },
    /// The worker stopped (shutdown).
    Stopped,
}

/// The counters and state of one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DeliveryStats {
    /// The destination's name.
    pub name: String,
    /// `splunk`, `hec` or `syslog`.
    pub kind: String,
    /// What the worker is doing.
    #[serde(flatten)]
    pub state: State,
    /// Records in the spool for this destination not yet confirmed (filled in from the
    /// spool's counters when a snapshot is taken by [`Running::stats`](super::Running::stats)).
    pub backlog: u64,
    /// Records confirmed by the destination (2xx, HEC ack `true`, or for syslog over TCP/TLS
    /// the receiver's TCP acknowledgement with `confirm = "tcp-ack"`, the write with
    /// `confirm = "write"`, the send for UDP).
    pub delivered: u64,
    /// Sends that failed transiently and were retried (one per failed send, not per record).
    pub retries: u64,
    /// Records sent again after an outcome that left them possibly received (lost response,
    /// reset, timeout, HEC ack past its deadline, a syslog connection that broke before the
    /// receiver confirmed them): each may be a duplicate at the destination.
    pub possible_duplicates: u64,
    /// Records moved to the dead-letter file.
    pub dead_lettered: u64,
    /// Records sent and waiting for their confirmation: a HEC ack, or for syslog over TCP/TLS
    /// with `confirm = "tcp-ack"` the receiver's TCP acknowledgement and the settle time.
    pub acks_pending: u64,
    /// Records reported delivered that a syslog connection reset may have lost (the peer had
    /// not read them when the connection broke): only with `confirm = "write"`; 0 otherwise.
    pub possible_loss: u64,
    /// The last error (redacted), if any.
    pub last_error: Option<String>,
    /// When the last error happened, epoch milliseconds.
    pub last_error_at_ms: Option<u64>,
    /// When a record was last confirmed, epoch milliseconds.
    pub last_success_at_ms: Option<u64>,
    /// With several hosts: each host and whether it is marked down (empty for one host).
    #[serde(skip)]
    pub hosts: Vec<crate::status::HostStatus>,
}

impl State {
    /// `idle`, `sending`, `retrying`, `parked`, `failed` or `stopped`.
    #[must_use]
    pub(crate) const fn as_str(&self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Sending => "sending",
            State::Retrying => "retrying",
            State::Parked { .. } => "parked",
            State::Failed { .. } => "failed",
            State::Stopped => "stopped",
        }
    }
}

impl DeliveryStats {
    /// The destination's entry of the status snapshot `icsfwd status` shows: the reason is
    /// the park or failure reason, or for `retrying` the last error.
    #[must_use]
    pub fn to_status(&self) -> DestinationStatus {
        let reason = match &self.state {
            State::Parked { reason } | State::Failed { reason } => Some(reason.clone()),
            State::Retrying => self.last_error.clone(),
            State::Idle | State::Sending | State::Stopped => None,
        };
        DestinationStatus {
            name: self.name.clone(),
            kind: self.kind.clone(),
            state: self.state.as_str().to_owned(),
            reason,
            backlog: self.backlog,
            delivered: self.delivered,
            retries: self.retries,
            possible_duplicates: self.possible_duplicates,
            dead_lettered: self.dead_lettered,
            acks_pending: self.acks_pending,
            possible_loss: self.possible_loss,
            last_error: self.last_error.clone(),
            last_error_ms: self.last_error_at_ms,
            last_success_ms: self.last_success_at_ms,
            hosts: self.hosts.clone(),
        }
    }
}

/// Shared [`DeliveryStats`] of one destination.
#[derive(Debug, Clone, Default)]
pub struct StatsCell(Arc<Mutex<DeliveryStats>>);

impl StatsCell {
    /// Empty stats for destination `name` of `kind`.
    #[must_use]
    pub fn new(name: &str, kind: &str) -> Self {
        Self(Arc::new(Mutex::new(DeliveryStats {
            name: name.to_owned(),
            kind: kind.to_owned(),
            ..DeliveryStats::default()
        })))
    }

    /// A copy of the current stats.
    #[must_use]
    pub fn snapshot(&self) -> DeliveryStats {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the stats under the lock (keep `f` short: no I/O).
    pub(crate) fn update(&self, f: impl FnOnce(&mut DeliveryStats)) {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Records `error` as the last error, now.
    pub(crate) fn error(&self, error: &str) {
        let at = now_ms();
        self.update(|s| {
            s.last_error = Some(error.to_owned());
            s.last_error_at_ms = Some(at);
        });
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::deliver::stats::{State, StatsCell};

        let cell = StatsCell::new("soc-hec", "hec");
        cell.update(|s| {
            s.delivered += 3;
            s.state = State::Parked {
                reason: "credentials rejected: HTTP 401".into(),
            };
        });
        let json = serde_json::to_value(cell.snapshot()).unwrap();
        assert_eq!(json["delivered"], 3);
        assert_eq!(json["state"], "parked");
        assert_eq!(json["reason"], "credentials rejected: HTTP 401");
        // The entry `icsfwd status` shows.
        let status = cell.snapshot().to_status();
        assert_eq!((status.state.as_str(), status.delivered), ("parked", 3));
    }
}
