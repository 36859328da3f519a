//! Delivery to Splunk: the protocol side of a destination worker.
//!
//! What it is: a sender takes a batch of already-routed events, each with its spool sequence
//! number, sends them and returns an [`Outcome`]: for each run of the batch, one
//! [`classify::Action`] — delivered, retry (with an optional server-given delay), park (a
//! configuration or credentials problem: retry slowly and alarm) or dead-letter (the event
//! itself is bad). A sender never sleeps for backoff: the worker that owns the spool cursor
//! does, using [`classify::Backoff`].
//!
//! - [`http`]: the HTTPS client (ureq + rustls/ring), TLS options, timeouts, redaction.
//! - [`classify`]: the one table from every reply to an action, and the backoff.
//! - [`hec`]: [`hec::HecSender`], the HTTP Event Collector (batches, gzip, channel, acks,
//!   several URLs).
//! - [`splunk`]: [`splunk::SplunkSender`], splunkd's `receivers/simple` (one event per request,
//!   Basic, session or bearer auth).
//! - [`syslog`]: [`syslog::SyslogSender`], RFC 5424 messages over TCP, TLS or UDP.
//! - [`relp`]: [`relp::RelpSender`], the same messages over RELP (plain or TLS), each answered
//!   by the receiver.
//!
//! What it guarantees:
//! - Order: the parts of an [`Outcome`] cover the batch in order, without gaps; nothing after
//!   the first part that is not delivered was sent by that call (except inside one HEC
//!   request, whose `invalid-event-number` tells how far Splunk got).
//! - Every event ends in exactly one part: nothing is dropped without an action the worker
//!   must count.
//! - [`Outcome::uncertain`] is set when a request may have reached Splunk without a reply: a
//!   resend may duplicate, and the worker counts it as a possible duplicate.
//! - Secrets ([`Secret`]) never appear in `Debug`, in an error or in a reason.
//!
//! ```
//! use icsfwd::output::{Outcome, Part, Secret};
//! use icsfwd::output::classify::Action;
//!
//! let token = Secret::new("11111111-2222-3333-4444-555555555555");
//! assert_eq!(format!("{token:?}"), "Secret([redacted])");
//! let outcome = Outcome::whole(3, Action::Delivered);
//! assert_eq!(outcome.parts, vec![Part { events: 0..3, action: Action::Delivered }]);
//! assert!(outcome.all_delivered());
//! ```

use std::ops::Range;

use icsfwd_core::alert::Event;

pub mod classify;
pub mod hec;
pub mod http;
pub mod relp;
pub mod splunk;
pub mod syslog;

use classify::Action;

/// A secret (token, password, session key): the configuration's redacting type, so a value
/// read from the config reaches the wire without being copied into a printable string.
pub use crate::config::Secret;

/// One event of a batch: its spool sequence number and the event.
pub type Item<'a> = (u64, &'a Event);

/// A run of a batch and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Indexes into the batch given to `send`.
    pub events: Range<usize>,
    /// What the worker does with them.
    pub action: Action,
}

/// What became of one batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// In batch order, covering it without gaps.
    pub parts: Vec<Part>,
    /// A request may have reached Splunk with no reply read: resending may duplicate.
    pub uncertain: bool,
    /// The last error seen in this call (redacted), for `status` and logs; also set when a
    /// failover hid it from the final action.
    pub last_error: Option<String>,
    /// What an operator must fix for the last failure, when it is known exactly (for
    /// `icsfwd test`'s advice).
    pub cause: Option<classify::Cause>,
}

impl Outcome {
    /// One part with `action` for a batch of `len` events (none for `len == 0`).
    #[must_use]
    pub fn whole(len: usize, action: Action) -> Self {
        let mut outcome = Self::default();
        outcome.push(0..len, action);
        outcome
    }

    /// Appends a part, merging it into the previous one when the action is the same.
    pub fn push(&mut self, events: Range<usize>, action: Action) {
        if events.is_empty() {
            return;
        }
        if let Some(last) = self.parts.last_mut()
            && last.action == action
            && last.events.end == events.start
        {
            last.events.end = events.end;
            return;
        }
        self.parts.push(Part { events, action });
    }

    /// Whether every event was delivered.
    #[must_use]
    pub fn all_delivered(&self) -> bool {
        self.parts.iter().all(|p| p.action == Action::Delivered)
    }

    /// How many events have `Delivered` (or `AwaitingAck`) as their action.
    #[must_use]
    pub fn sent(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| matches!(p.action, Action::Delivered | Action::AwaitingAck))
            .map(|p| p.events.len())
            .sum()
    }
}

/// A destination's sender, as a worker drives it.
pub trait Deliver {
    /// Sends `batch` (in order) and says what became of each event.
    fn send(&mut self, batch: &[Item<'_>], now: std::time::Instant) -> Outcome;
}
