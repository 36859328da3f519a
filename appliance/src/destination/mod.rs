//! Destinations: where alerts go, one folder per kind, and the pieces every kind shares.
//!
//! - [`Sender`]: what a destination's worker drives — `send` a batch and get an [`Outcome`],
//!   and the kind's confirmation capabilities, each stated by every kind.
//! - [`classify`]: the one table from every reply to an action, and the backoff.
//! - [`http`]: the HTTPS client of the Splunk kinds (ureq + rustls/ring), redaction.
//! - [`secret`]: [`Secret`], a password or token that is never printed.
//! - [`Tls`], [`Timeouts`], [`Retry`]: the settings every kind shares.
//!
//! What it guarantees:
//! - Order: the parts of an [`Outcome`] cover the batch in order, without gaps; nothing after
//!   the first part that is not delivered was sent by that call (except inside one HEC
//!   request, whose `invalid-event-number` tells how far Splunk got).
//! - Every event ends in exactly one part: nothing is dropped without an action the worker
//!   must count.
//! - [`Outcome::uncertain`] is set when a request may have reached the receiver without a
//!   reply: a resend may duplicate, and the worker counts it as a possible duplicate.
//! - Secrets ([`Secret`]) never appear in `Debug`, in an error or in a reason.
//!
//! ```
//! use icsfwd::destination::{Outcome, Part, Secret};
//! use icsfwd::destination::classify::Action;
//!
//! let token = Secret::new("11111111-2222-3333-4444-555555555555");
//! assert_eq!(format!("{token:?}"), "Secret([redacted])");
//! let outcome = Outcome::whole(3, Action::Delivered);
//! assert_eq!(outcome.parts, vec![Part { events: 0..3, action: Action::Delivered }]);
//! assert!(outcome.all_delivered());
//! ```

use std::ops::Range;
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;

pub mod classify;
pub mod http;
pub mod secret;
mod shared;

use classify::Action;
pub use secret::Secret;
pub use shared::{ClientCert, IDLE, Retry, Timeouts, Tls};

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
    /// A request may have reached the receiver with no reply read: resending may duplicate.
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

/// What a poll of the confirmations found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AckReport {
    /// Sequence numbers now confirmed (HEC ack `true`, the receiver's TCP acknowledgement, a
    /// RELP `rsp 200`): remove from the spool.
    pub indexed: Vec<u64>,
    /// Sequence numbers whose confirmation did not come within the deadline (or whose
    /// connection broke first): resend them, and count them as possible duplicates.
    pub expired: Vec<u64>,
    /// The last query error (redacted), if a query failed; its ids stay pending.
    pub last_error: Option<String>,
    /// What an operator must fix for that error, when it is known exactly.
    pub cause: Option<classify::Cause>,
    /// Sequence numbers the receiver refused, each with the action its answer classifies as
    /// (park or dead-letter): RELP's `rsp 500`; HEC leaves it empty.
    pub refused: Vec<(u64, Action)>,
}

/// A destination's sender, as its worker drives it: [`send`](Sender::send) a batch, then, for
/// the records it answered [`AwaitingAck`](Action::AwaitingAck), their confirmation.
///
/// Every method is required: each kind states its confirmation capabilities (acks and the
/// loss window) itself, so a new kind cannot inherit another's by accident. A kind that
/// confirms every record within `send` says so by reporting nothing pending.
pub trait Sender: Send {
    /// Sends `batch` (in order) and says what became of each event.
    fn send(&mut self, batch: &[Item<'_>], now: Instant) -> Outcome;

    /// Polls the confirmations of the records awaiting one: HEC indexer acks, the syslog
    /// receiver's TCP acknowledgement, RELP answers. A kind without any reports nothing.
    fn poll_acks(&mut self, now: Instant) -> AckReport;

    /// How many records wait for their confirmation.
    fn pending_acks(&self) -> usize;

    /// How often the worker polls while records wait, when the sender has its own pace
    /// (syslog's TCP acknowledgements are local and cheap to read); `None`: the worker's ack
    /// poll interval.
    fn poll_interval(&self) -> Option<Duration>;

    /// The loss window: records reported delivered that a connection reset may have lost
    /// since start (syslog over TCP or TLS with `confirm = "write"`); 0 for a kind that
    /// reports a record delivered only once the receiver confirmed it.
    fn possible_loss(&self) -> u64;

    /// Called once when the worker stops cleanly: ends the session (RELP sends `close`) and
    /// reports the last confirmations; what stays unconfirmed stays in the spool.
    fn finish(&mut self) -> AckReport;
}
