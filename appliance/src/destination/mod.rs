//! Destinations: where alerts go, one folder per kind, and the pieces every kind shares.
//!
//! Each kind owns a folder: [`hec`], [`splunk`], [`syslog`] (RELP is a transport of
//! `syslog`). In it: its settings type (one type: what the configuration validates into and
//! what the sender runs on), `config.rs` (its serde struct of keys, read after `kind`,
//! `deny_unknown_fields`, and their validation), its sender, and `probe.rs` (its steps and
//! words for `icsfwd test`).
//!
//! This module holds only what is not one kind's:
//! - the dispatch over kinds: [`DestinationKind`] (one variant per kind, every `match` on it
//!   exhaustive) and `KINDS` (how each kind's keys are read, in the order messages list
//!   them), the [`Destination`] they make, [`Destination::sender`], [`Destination::probe`];
//! - [`Sender`]: what a destination's worker drives — `send` a batch and get an [`Outcome`],
//!   and the kind's confirmation capabilities (acks, the loss window), each stated by every
//!   kind;
//! - what every kind shares: [`Tls`], [`Timeouts`], [`Retry`] and their keys (`config.rs`),
//!   [`classify`] (the one table from every reply to an action, and the backoff), [`http`]
//!   (the HTTPS client of the Splunk kinds, redaction), [`secret`] ([`Secret`], a password or
//!   token that is never printed), [`probe`] (the steps of `icsfwd test` every kind shares),
//!   [`failover`] (several hosts behind one destination: spread, failover, mark-down).
//!
//! Adding a kind is a folder and one variant; `docs/ARCHITECTURE.md` lists every file to
//! touch.
//!
//! What it guarantees:
//! - Order: the parts of an [`Outcome`] cover the batch in order, without gaps; nothing after
//!   the first part that is not delivered was sent by that call (except inside one HEC
//!   request, whose `invalid-event-number` tells how far Splunk got).
//! - Every event ends in exactly one part: nothing is dropped without an action the worker
//!   must count.
//! - [`Outcome::uncertain`] is set when a request may have reached the receiver without a
//!   reply: a resend may duplicate, and the worker counts it as a possible duplicate. When the
//!   same call sent such events on to another host ([`failover`]) and they were taken there,
//!   [`Outcome::failed_over`] counts them: they are possible duplicates too.
//! - Secrets ([`Secret`]) never appear in `Debug`, in an error or in a reason.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;

use crate::spool::packed::Packed;
use icsfwd_core::destination::DestinationId;
use icsfwd_core::format::{self, Kind};

pub(crate) mod classify;
pub(crate) mod config;
pub(crate) mod failover;
pub(crate) mod hec;
pub(crate) mod http;
pub(crate) mod probe;
pub(crate) mod proxy;
pub(crate) mod secret;
mod shared;
pub(crate) mod splunk;
pub(crate) mod syslog;
pub(crate) mod trust;

use classify::Action;
use hec::Hec;
use hec::sender::{HecError, HecSender};
use http::Scheme;
use probe::{Conclusion, ProbeOptions, TestAlert, Words};
pub use secret::Secret;
pub use shared::{ClientCert, Timeouts, Tls};
pub(crate) use shared::{IDLE, Retry};
use splunk::Splunk;
use splunk::sender::{SplunkError, SplunkSender};
use syslog::Syslog;
use syslog::relp::RelpSender;
use syslog::sender::{SyslogError, SyslogSender};

/// Longest destination name; names become file names (cursors), so they are short and plain.
pub const MAX_NAME: usize = 64;

/// Every kind, as the configuration reads it, in the order messages list them: with
/// [`DestinationKind`], the two places that name each kind.
pub(crate) const KINDS: [&config::Kind; 3] = [
    &splunk::config::KIND,
    &hec::config::KIND,
    &syslog::config::KIND,
];

/// One `[[destination]]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Destination {
    /// Its id in the core's destination sets: its position in the file.
    pub id: DestinationId,
    /// Its unique name: letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// What it is and how to reach it.
    pub kind: DestinationKind,
    /// TLS settings (`splunk` and `hec` over https, `syslog` over tls).
    pub tls: Tls,
    /// Network timeouts.
    pub timeouts: Timeouts,
    /// Delay between retries.
    pub retry: Retry,
}

/// The kind of a destination, with its kind-specific settings: the one dispatch over kinds
/// (every `match` on it is exhaustive, so a new kind is asked for each of its parts).
#[expect(
    clippy::large_enum_variant,
    reason = "a handful of destinations, built once: boxing would only add indirection"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestinationKind {
    /// splunkd's REST receiver (`receivers/simple`, port 8089).
    Splunk(Splunk),
    /// The HTTP Event Collector (port 8088).
    Hec(Hec),
    /// A syslog receiver (RFC 5424).
    Syslog(Syslog),
}

/// How a destination's worker batches records: a batch is sent when it holds `max_events` or
/// its first record waited `linger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Batching {
    /// Most records per `send`.
    pub max_events: usize,
    /// How long the first record of a batch that is not full may wait for more.
    pub linger: Duration,
}

impl DestinationKind {
    /// `splunk`, `hec` or `syslog`: the kind's name in `kind = "..."`.
    pub(crate) const fn as_str(&self) -> &'static str {
        match self {
            DestinationKind::Splunk(_) => splunk::NAME,
            DestinationKind::Hec(_) => hec::NAME,
            DestinationKind::Syslog(_) => syslog::NAME,
        }
    }

    /// How the worker batches this kind's records.
    #[must_use]
    pub(crate) fn batching(&self) -> Batching {
        match self {
            DestinationKind::Splunk(_) => splunk::BATCHING,
            DestinationKind::Hec(h) => h.batching(),
            DestinationKind::Syslog(_) => syslog::BATCHING,
        }
    }

    /// How often the worker polls the confirmations of records awaiting one, given the
    /// service's `default` interval (HEC with acks polls at least twice per `ack_deadline`).
    #[must_use]
    pub(crate) fn ack_poll_interval(&self, default: Duration) -> Duration {
        match self {
            DestinationKind::Hec(h) => h.ack_poll_interval(default),
            // splunkd answers each request; syslog's senders set their own pace
            // (`Sender::poll_interval`).
            DestinationKind::Splunk(_) | DestinationKind::Syslog(_) => default,
        }
    }

    /// Whether it may run over TLS: the TLS keys apply (syslog only over `tls` and
    /// `relp-tls`).
    #[must_use]
    pub(crate) fn uses_tls(&self) -> bool {
        match self {
            DestinationKind::Splunk(_) | DestinationKind::Hec(_) => true,
            DestinationKind::Syslog(s) => s.transport.uses_tls(),
        }
    }

    /// The kind's words for the fixes `icsfwd test` gives.
    pub(crate) fn probe_words(&self) -> Words {
        match self {
            DestinationKind::Splunk(s) => splunk::probe::words(s),
            DestinationKind::Hec(h) => hec::probe::words(h),
            DestinationKind::Syslog(_) => syslog::probe::words(),
        }
    }
}

impl Destination {
    /// The core format this destination's events are rendered in (for `syslog`, the payload
    /// inside the RFC 5424 header).
    pub fn format(&self) -> Kind {
        match &self.kind {
            DestinationKind::Splunk(_) => Kind::Text,
            DestinationKind::Hec(_) => Kind::Hec,
            DestinationKind::Syslog(s) => match s.message.payload {
                format::syslog::Payload::Text(_) => Kind::Text,
                format::syslog::Payload::Cef(_) => Kind::Cef,
                format::syslog::Payload::Leef(_) => Kind::Leef,
            },
        }
    }

    /// The core format options this destination renders with (the HEC envelope's fields for
    /// `hec`, the defaults otherwise).
    pub fn format_options(&self) -> format::Options {
        let mut options = format::Options::default();
        match &self.kind {
            DestinationKind::Hec(h) => options.hec = h.envelope.clone(),
            DestinationKind::Splunk(_) | DestinationKind::Syslog(_) => {}
        }
        options
    }

    /// The syslog message options, for a `syslog` destination.
    pub fn syslog_options(&self) -> Option<&format::syslog::Options> {
        match &self.kind {
            DestinationKind::Syslog(s) => Some(&s.message),
            DestinationKind::Splunk(_) | DestinationKind::Hec(_) => None,
        }
    }

    /// Builds this destination's sender, the one its worker (and `icsfwd test`) drives;
    /// `sensor_ip` is the `host` of `splunk` requests.
    ///
    /// # Errors
    ///
    /// The sender refused its settings (a TLS file that cannot be used, a syslog host that is
    /// not a valid TLS server name).
    pub(crate) fn sender(&self, sensor_ip: IpAddr) -> Result<Box<dyn Sender>, SetupError> {
        let (tls, timeouts) = (&self.tls, &self.timeouts);
        Ok(match &self.kind {
            DestinationKind::Hec(h) => {
                Box::new(HecSender::new(h, tls, timeouts).map_err(SetupError::Hec)?)
            }
            DestinationKind::Splunk(s) => Box::new(
                SplunkSender::new(s, sensor_ip, tls, timeouts).map_err(SetupError::Splunk)?,
            ),
            DestinationKind::Syslog(s) if s.transport.is_relp() => {
                Box::new(RelpSender::new(s, tls, timeouts).map_err(SetupError::Syslog)?)
            }
            DestinationKind::Syslog(s) => {
                Box::new(SyslogSender::new(s, tls, timeouts).map_err(SetupError::Syslog)?)
            }
        })
    }

    /// `icsfwd test` of this destination: its kind's steps, written to `out`.
    ///
    /// # Errors
    ///
    /// Writing to `out` failed.
    pub(crate) fn probe(
        &self,
        sensor_ip: IpAddr,
        alert: &TestAlert,
        out: &mut dyn Write,
        options: &ProbeOptions,
    ) -> io::Result<Conclusion> {
        match &self.kind {
            DestinationKind::Hec(h) => hec::probe::run(self, h, alert, out, options),
            DestinationKind::Splunk(s) => {
                splunk::probe::run(self, s, sensor_ip, alert, out, options)
            }
            DestinationKind::Syslog(s) => syslog::probe::run(self, s, alert, out, options),
        }
    }

    /// What it trusts, for `check-config` (see [`trust::Trust::describe`]); `None` without
    /// TLS.
    #[must_use]
    pub(crate) fn trust_summary(&self) -> Option<String> {
        let uses_tls = match &self.kind {
            DestinationKind::Splunk(s) => s.scheme == Scheme::Https,
            DestinationKind::Hec(h) => h.urls.iter().any(|u| u.scheme == Scheme::Https),
            DestinationKind::Syslog(s) => s.transport.uses_tls(),
        };
        match (uses_tls, self.tls.verify) {
            (false, _) => None,
            (true, true) => Some(self.tls.trust.describe()),
            (true, false) => Some("none: verification is off (verify = false)".to_owned()),
        }
    }

    /// How an HTTP destination reaches its server, for `check-config`: `direct`, `proxy
    /// host:port`, or `the proxy the environment names (proxy = "env")`; `None` for syslog.
    #[must_use]
    pub(crate) fn path_summary(&self) -> Option<String> {
        let proxy = match &self.kind {
            DestinationKind::Splunk(s) => &s.proxy,
            DestinationKind::Hec(h) => &h.proxy,
            DestinationKind::Syslog(_) => return None,
        };
        Some(match proxy {
            proxy::Proxy::Direct => "direct".to_owned(),
            proxy::Proxy::Server(server) => {
                let mut text = format!("via proxy {}:{}", server.host, server.port);
                if !server.no_proxy.is_empty() {
                    text.push_str(&format!(", direct to {}", server.no_proxy.join(", ")));
                }
                text
            }
            proxy::Proxy::Env => {
                "the proxy HTTPS_PROXY, HTTP_PROXY or ALL_PROXY names when the service starts \
                 (proxy = \"env\")"
                    .to_owned()
            }
        })
    }

    /// Appends what the service must warn about at every start for this destination: TLS
    /// verification turned off, plain `http`, plain-text syslog.
    pub(crate) fn warnings(&self, out: &mut Vec<String>) {
        let name = &self.name;
        let tls_used = match &self.kind {
            DestinationKind::Splunk(s) => {
                if s.scheme == Scheme::Http {
                    out.push(format!(
                        "destination {name:?}: plain http: the credentials and alerts cross the \
                         network unencrypted"
                    ));
                }
                s.scheme == Scheme::Https
            }
            DestinationKind::Hec(h) => {
                for url in h.urls.iter().filter(|u| u.scheme == Scheme::Http) {
                    out.push(format!(
                        "destination {name:?}: plain http to {url}: the token and alerts cross \
                         the network unencrypted"
                    ));
                }
                h.urls.iter().any(|u| u.scheme == Scheme::Https)
            }
            DestinationKind::Syslog(s) => {
                if !s.transport.uses_tls() {
                    out.push(format!(
                        "destination {name:?}: syslog over {}: alerts cross the network \
                         unencrypted",
                        s.transport.as_str()
                    ));
                }
                s.transport.uses_tls()
            }
        };
        if tls_used && !self.tls.verify {
            out.push(format!(
                "destination {name:?}: TLS certificate verification is OFF (verify = false): \
                 anyone on the path can impersonate the receiver"
            ));
        }
    }
}

/// A destination's sender could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// The HEC sender refused its settings.
    Hec(HecError),
    /// The splunkd sender refused its settings.
    Splunk(SplunkError),
    /// The syslog sender refused its settings.
    Syslog(SyslogError),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hec(err) => write!(f, "{err}"),
            Self::Splunk(err) => write!(f, "{err}"),
            Self::Syslog(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Hec(err) => Some(err),
            Self::Splunk(err) => Some(err),
            Self::Syslog(err) => Some(err),
        }
    }
}

/// One event of a batch: its spool sequence number and the event.
pub type Item<'a> = (u64, &'a Event);

/// One host of a destination, as its sender sees it: the hosts of `hosts = [...]` (or HEC's
/// `urls`) take turns, and one that failed is skipped for `down_for` (docs/configuration.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostState {
    /// The host as configured: `host:port`, or HEC's and splunkd's base URL.
    pub host: String,
    /// How long it stays marked down (it failed; the others are tried first until then);
    /// `None` while it is up.
    pub down_for: Option<Duration>,
}

/// One record of a batch as a worker holds it: its spool sequence number and its event
/// packed ([`Packed`]: its record body, a few hundred bytes instead of the event's ~2.7 KB).
pub type PackedItem<'a> = (u64, &'a Packed);

/// The error of a batch that stopped at a record whose packed body did not unpack.
pub(crate) const UNPACK_FAILED: &str = "a record held for delivery could not be read back from memory: it is retried; if this \
     repeats, restart the service (the record is still in the spool)";

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
    /// The HTTP status of the last reply read (`hec`, `splunk`): what `icsfwd test` shows of
    /// a success; `None` for syslog or when no reply was read.
    pub status: Option<u16>,
    /// Events this call delivered (or dead-lettered) on another host after a request that may
    /// have reached a host which then failed without a reply (a reset, a timeout): each may
    /// now be held twice, and the worker counts it as a possible duplicate.
    pub failed_over: usize,
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

/// What a sender that keeps its confirmations across restarts says, at start, about a record
/// the previous run sent ([`Sender::restore`]). Ordered by how much is known: a record named
/// twice takes the stronger word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Restored {
    /// It may have been received (its request was answered, or the state cannot be
    /// trusted): send it again, counted as a possible duplicate.
    Resend,
    /// Its request awaits its confirmation: ask about it, send it only if that fails.
    Awaiting,
    /// Confirmed before the restart: delivered.
    Confirmed,
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

    /// [`send`](Sender::send) for a batch held packed, as the worker holds its window. The
    /// one provided method (an encoding, not a capability): it unpacks the whole batch and
    /// calls `send`. A kind that renders its events one at a time overrides it to unpack
    /// them one at a time, so the batch never exists as whole events (HEC: 500 events were
    /// ~1.35 MB per destination). A record that does not unpack (a body [`Packed::new`]
    /// wrote does) stops the batch there: it and the rest are retried.
    fn send_packed(&mut self, batch: &[PackedItem<'_>], now: Instant) -> Outcome {
        let mut events = Vec::with_capacity(batch.len());
        for &(seq, packed) in batch {
            match packed.unpack() {
                Ok(event) => events.push((seq, event)),
                Err(_) => break,
            }
        }
        let items: Vec<Item<'_>> = events.iter().map(|(seq, event)| (*seq, event)).collect();
        let mut outcome = self.send(&items, now);
        if items.len() < batch.len() {
            outcome.push(items.len()..batch.len(), Action::Retry { after: None });
            outcome.last_error = Some(UNPACK_FAILED.to_owned());
        }
        outcome
    }

    /// The destination's hosts and their marks at `now`, in configuration order (for
    /// `icsfwd status`); a sender with one host may return it or nothing.
    fn hosts(&self, now: Instant) -> Vec<HostState>;

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

    /// At start, before anything is sent: opens the state this destination (`name`) keeps
    /// across restarts under the spool directory `dir` and reads what the previous run left
    /// there. Returns the last sequence number it names, if any: the worker then reads its
    /// window that far and calls [`restore`](Self::restore). HEC with acks keeps the requests
    /// awaiting their ack (`hec::ack_state`); every other kind keeps nothing (`None`), and
    /// sends again whatever the previous run left unconfirmed. Required of every kind, so that
    /// a new kind states what it keeps.
    fn resume(&mut self, dir: &Path, name: &str) -> Option<u64>;

    /// After [`resume`](Self::resume): given the records read at start up to the sequence
    /// number it returned, each with its [`hec::ack_state::record_mark`], says what became of
    /// those the previous run sent. Records it does not name were never sent (or their send
    /// was never answered): the worker sends them as usual. A kind that keeps nothing
    /// returns an empty list.
    fn restore(&mut self, records: &[(u64, u32)], now: Instant) -> Vec<(u64, Restored)>;
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::classify::Action;
        use crate::destination::{Outcome, Part, Secret};

        let token = Secret::new("11111111-2222-3333-4444-555555555555");
        assert_eq!(format!("{token:?}"), "Secret([redacted])");
        let outcome = Outcome::whole(3, Action::Delivered);
        assert_eq!(
            outcome.parts,
            vec![Part {
                events: 0..3,
                action: Action::Delivered
            }]
        );
        assert!(outcome.all_delivered());
    }
}
