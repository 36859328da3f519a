//! `kind = "hec"`: the HTTP Event Collector (port 8088), one folder for all of it.
//!
//! - [`Hec`], [`HecUrl`], [`Batch`]: the validated settings of a HEC destination — what its
//!   keys in the configuration file become and what its sender runs on (one type each).
//! - [`sender`]: [`HecSender`](sender::HecSender), batches of HEC envelopes with gzip, a
//!   channel, indexer acks and several URLs.
//! - `probe`: its steps and words for `icsfwd test`.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::time::Duration;

use icsfwd_core::format;

use super::Batching;
use super::Secret;
use super::http::Scheme;
use super::proxy::Proxy;

pub(crate) mod ack_state;
pub(crate) mod body;
pub(crate) mod config;
pub(crate) mod probe;
pub(crate) mod sender;

/// The kind's name, as written in `kind = "hec"`.
pub(crate) const NAME: &str = "hec";

/// A `hec` destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hec {
    /// One or more collectors (an indexer cluster): load spread over them, failover.
    pub urls: Vec<HecUrl>,
    /// The HEC token.
    pub token: Secret,
    /// Whether to use indexer acknowledgement. Default false.
    pub ack: bool,
    /// How long to wait for an ack before resending. Default 300 s.
    pub ack_deadline: Duration,
    /// Batching.
    pub batch: Batch,
    /// Whether to gzip request bodies. Default false.
    pub gzip: bool,
    /// Most requests of one batch in flight at once (`requests_in_flight`, 1 to
    /// [`MAX_REQUESTS_IN_FLIGHT`]). Default 2. A batch of at least twice
    /// [`sender::MIN_SPLIT_EVENTS`] is spread over that many lanes by sensor, one request
    /// per lane sent together; with gzip, one at a time.
    pub requests_in_flight: usize,
    /// Whether `requests_in_flight` was left out (the configuration's default; not for
    /// [`Hec::new`]): then the sender keeps at most [`default_requests_in_flight`] of them in
    /// flight for the HEC senders running in the process, decided at each batch.
    pub in_flight_by_cores: bool,
    /// The channel GUID; `None`: generate one per start.
    pub channel: Option<String>,
    /// The envelope's `host`, `source`, `sourcetype` and `index`.
    pub envelope: format::hec::Options,
    /// How long a URL that failed is tried last (not a key:
    /// [`DOWN_FOR`](super::failover::DOWN_FOR)).
    pub down_for: Duration,
    /// How the collectors are reached: direct (default) or through a proxy.
    pub proxy: Proxy,
}

/// Most requests of one batch a `hec` destination keeps in flight (`requests_in_flight`).
pub(crate) const MAX_REQUESTS_IN_FLIGHT: usize = 8;

/// The requests in flight of a `hec` destination that leaves `requests_in_flight` out, while
/// `hec_destinations` of them run on a machine with `cores`: 2 when there are at least two
/// cores per HEC destination, else 1.
///
/// A second request in flight fills the time one destination alone at full load spends
/// waiting for its answers: 91,000–99,000 against 80,000–91,000 alerts/s on 2 cores.
/// Several destinations at full load already keep the cores busy, and a second request each
/// only adds a connection, a thread and their memory: on 2 cores, 4 destinations with one
/// each peak at 9.3–9.6 against 9.5–10.0 MiB, with 5–20 % less CPU per alert at the same
/// rate, and 2 destinations deliver as fast or faster (docs/BENCHMARKS.md, "Memory with
/// four destinations").
#[must_use]
pub fn default_requests_in_flight(hec_destinations: usize, cores: usize) -> usize {
    if cores >= 2 * hec_destinations.max(1) {
        2
    } else {
        1
    }
}

impl Hec {
    /// A destination sending to `urls` with `token` and the defaults of every other key: no
    /// acks (deadline 300 s), the default [`Batch`], no gzip, a generated channel, core's
    /// default envelope, direct (no proxy).
    #[must_use]
    pub fn new(urls: Vec<HecUrl>, token: Secret) -> Self {
        Self {
            urls,
            token,
            ack: false,
            ack_deadline: Duration::from_secs(300),
            batch: Batch::default(),
            gzip: false,
            requests_in_flight: 2,
            in_flight_by_cores: false,
            channel: None,
            envelope: format::hec::Options::default(),
            down_for: super::failover::DOWN_FOR,
            proxy: Proxy::Direct,
        }
    }

    /// The ack deadline when acks are on.
    #[must_use]
    pub(crate) fn ack_deadline(&self) -> Option<Duration> {
        self.ack.then_some(self.ack_deadline)
    }

    /// How the worker batches: by [`Batch`].
    pub(crate) fn batching(&self) -> Batching {
        Batching {
            max_events: self.batch.max_events,
            linger: self.batch.linger,
        }
    }

    /// How often the worker polls acks: the `default` interval, or every half
    /// `ack_deadline` when that is shorter (the deadline is checked at each poll, so it is
    /// honoured within half of itself).
    pub(crate) fn ack_poll_interval(&self, default: Duration) -> Duration {
        if self.ack {
            default.min(self.ack_deadline / 2)
        } else {
            default
        }
    }
}

/// An HEC endpoint: `<scheme>://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HecUrl {
    /// `https` or `http`.
    pub scheme: Scheme,
    /// Host name or address (an IPv6 address without brackets).
    pub host: String,
    /// Port, default 8088.
    pub port: u16,
}

impl FromStr for HecUrl {
    type Err = &'static str;

    /// Parses `https://host[:port][/]`; the error completes "`<url>` ...".
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (scheme, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err("must start with https:// (or http:// for tests)");
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') || rest.contains('#') {
            return Err("has a path: icsfwd adds /services/collector/... itself");
        }
        if rest.contains('@') {
            return Err("has user information: put the token in token_file instead");
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or("has an unclosed [")?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err("has text after the IPv6 address"),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("has no valid host");
        }
        let port = match port {
            None => 8088,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err("has a port outside 1-65535"),
            },
        };
        Ok(HecUrl {
            scheme,
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for HecUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(
                f,
                "{}://[{}]:{}",
                self.scheme.as_str(),
                self.host,
                self.port
            )
        } else {
            write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
        }
    }
}

/// HEC batching limits: a batch is sent when any is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Events per request (`batch_max_events`). Default 500; at least 1 is used.
    pub max_events: usize,
    /// Body bytes per request before compression (`batch_max_bytes`). Default 1,000,000;
    /// one event larger than this still goes alone.
    pub max_bytes: usize,
    /// How long the first event of a batch may wait (`batch_linger`). Default 50 ms.
    pub linger: Duration,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            max_events: 500,
            max_bytes: 1_000_000,
            linger: Duration::from_millis(50),
        }
    }
}

impl Batch {
    /// Cuts events of the given rendered `sizes` (each plus one separator byte) into
    /// consecutive ranges within the limits; every range holds at least one event.
    ///
    /// (The example is the unit test `doc_examples::split_example` below: this module is
    /// internal to the crate, so its example names crate paths.)
    #[must_use]
    pub(crate) fn split(&self, sizes: &[usize]) -> Vec<Range<usize>> {
        let max_events = self.max_events.max(1);
        let mut ranges = Vec::new();
        let mut start = 0;
        let mut bytes = 0usize;
        for (i, size) in sizes.iter().enumerate() {
            let size = size.saturating_add(1);
            let count = i - start;
            if count > 0 && (count >= max_events || bytes.saturating_add(size) > self.max_bytes) {
                ranges.push(start..i);
                start = i;
                bytes = 0;
            }
            bytes = bytes.saturating_add(size);
        }
        if start < sizes.len() {
            ranges.push(start..sizes.len());
        }
        ranges
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), &'static str> {
        use crate::destination::Secret;
        use crate::destination::hec::{Hec, HecUrl};
        use std::time::Duration;

        let url: HecUrl = "https://splunk.example/".parse()?;
        assert_eq!(url.to_string(), "https://splunk.example:8088");
        let hec = Hec::new(
            vec![url],
            Secret::new("11111111-2222-3333-4444-555555555555"),
        );
        assert!(!hec.ack, "acks only when asked for");
        assert_eq!(hec.batch.max_events, 500);
        assert_eq!(hec.batch.linger, Duration::from_millis(50));
        Ok::<(), &'static str>(())
    }

    #[test]
    fn split_example() {
        use crate::destination::hec::Batch;
        let limits = Batch {
            max_events: 3,
            max_bytes: 100,
            ..Batch::default()
        };
        assert_eq!(
            limits.split(&[10, 10, 10, 10, 200, 10]),
            vec![0..3, 3..4, 4..5, 5..6]
        );
    }
}

#[cfg(test)]
mod sender_doc_example {
    //! The example of `destination/hec/sender.rs`, run as a unit test (that module is internal to
    //! the crate; its own copy of the example is not run).

    #[test]
    #[ignore = "compiled, not run: it needs a live system (it was a no_run example)"]
    fn sender_module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::destination::hec::Hec;
        use crate::destination::hec::sender::HecSender;
        use crate::destination::{Secret, Sender, Timeouts, Tls};
        use icsfwd_core::alert::{Alert, Event};
        use std::time::{Duration, Instant};

        let url = "https://splunk.example:8088"
            .parse()
            .map_err(|e: &str| e.to_owned())?;
        let mut hec = Hec::new(
            vec![url],
            Secret::new("11111111-2222-3333-4444-555555555555"),
        );
        hec.ack = true;
        hec.ack_deadline = Duration::from_secs(300);
        let mut sender = HecSender::new(&hec, &Tls::default(), &Timeouts::default())?;
        let event = Event::from(Alert::example(1_700_000_000_000));
        let outcome = sender.send(&[(1, &event)], Instant::now());
        println!("{outcome:?}");
        let acks = sender.poll_acks(Instant::now());
        println!("indexed {:?}, to resend {:?}", acks.indexed, acks.expired);
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}

#[cfg(test)]
mod tests {
    use super::default_requests_in_flight;

    #[test]
    fn requests_in_flight_left_out_are_two_with_two_cores_per_hec_destination_else_one() {
        assert_eq!(default_requests_in_flight(1, 2), 2);
        assert_eq!(default_requests_in_flight(1, 1), 1);
        assert_eq!(default_requests_in_flight(2, 2), 1);
        assert_eq!(default_requests_in_flight(2, 4), 2);
        assert_eq!(default_requests_in_flight(4, 2), 1);
        assert_eq!(default_requests_in_flight(4, 8), 2);
        assert_eq!(default_requests_in_flight(4, 7), 1);
        // None running yet counts as one (the sender asking is about to run).
        assert_eq!(default_requests_in_flight(0, 2), 2);
    }
}
