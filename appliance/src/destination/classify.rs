//! The one table from a Splunk reply (or a failed request) to what the worker does.
//!
//! What it is: [`hec()`] classifies a HEC reply for a batch, [`splunkd()`] a
//! `receivers/simple` reply for one event, [`transport()`] a request that got no reply;
//! [`failover()`] says when a HEC sender tries its next URL. [`Cause`] names, exactly, what an
//! operator must fix for a failure ([`hec_cause`], [`splunkd_cause`], [`transport_cause`]), for
//! `icsfwd test`'s advice. [`Backoff`] computes retry delays (exponential, full jitter,
//! seedable). Actions:
//!
//! - **Delivered**: remove from the spool. Without HEC acks, a 200 means *received* by HEC,
//!   not *indexed* (Splunk answers before the pipeline runs).
//! - **AwaitingAck**: HEC accepted the request and gave an `ackId`; keep the events until
//!   [`HecSender::poll_acks`](super::hec::sender::HecSender::poll_acks) reports them indexed, or
//!   resend them after the ack deadline.
//! - **Retry { after }**: transient; resend after the backoff, and not before `after` (a
//!   server's `Retry-After`, capped by the backoff maximum).
//! - **Park { reason }**: a configuration or credentials problem that resending cannot fix
//!   by itself: raise an alarm with the reason, keep the events, retry slowly (at the backoff
//!   maximum) so the destination recovers when the operator fixes it.
//! - **DeadLetter { reason }**: the event itself is refused: move it to the dead-letter file
//!   (counted, replayable) and go on.
//!
//! No silent success: a 2xx counts only when its body is the endpoint's own answer — HEC's
//! JSON object with a numeric `code` ([`HecReply::code`]), splunkd's receipt of the event
//! ([`SplunkdReply::receipt`]). A 2xx with an HTML page, an empty body, other JSON or other
//! text comes from something else on that URL (a load balancer's default page, a proxy, a
//! web server on the wrong port) and parks the destination; nothing is marked delivered.
//!
//! ## HEC (`/services/collector/event`), by HTTP status and HEC `code`
//!
//! | HTTP | HEC code | action |
//! | --- | --- | --- |
//! | 2xx | 0, 24, 25 | Delivered; with acks: AwaitingAck if the reply has an `ackId`, else Park ("acks requested but the reply has no ackId") — never a silent fall back to unacknowledged delivery |
//! | 2xx | none: HTML, empty body, JSON without a numeric `code`, other text | Park: not HEC's answer ("the server at `<url>` answered 200 with an HTML page: is the URL Splunk's HEC port?") |
//! | 2xx | another code | Park: unexpected success reply |
//! | 400 | 7 | Park: index missing (one index for every event: configuration, not the event's fault); with `invalid-event-number` n the events before n Delivered (acks: Retry) |
//! | 400 | 5, 6, 12, 13, 15 (data errors) | with `invalid-event-number` n: events before n Delivered (with acks: Retry, they carry no ack id), event n DeadLetter, the rest Retry; without it: one event DeadLetter, several: bisect (resend each half now) |
//! | 400 | 10, 11 | Park: channel missing or invalid (configuration) |
//! | 400 | 14 | Park: "ACK is disabled" on the token while `ack = true` |
//! | 400 | 16, 21, 22, other or none | Park: request refused for a reason that is not the event's |
//! | 401, 403 | any (1, 2, 3, 4) | Park: credentials rejected |
//! | 404 | any | Retry and fail over (an indexer in detention answers 404) |
//! | 408 | any | Retry |
//! | 413 | any | several events: bisect; one event: DeadLetter ("event too large") |
//! | 429 | any (26, 27) | Retry after `Retry-After` |
//! | 500, 502, 503, 504 | any (8, 9, 18–20, 23) | Retry and fail over; with `invalid-event-number` n the events before n are Delivered (acks: Retry) |
//! | other 5xx | any | Retry and fail over |
//! | 3xx | any | Park: unexpected redirect (not followed: it would carry the token) |
//! | other 1xx/4xx | any | Park |
//!
//! Codes 24 ("HEC queue is approaching its capacity limit") and 25 ("HEC ACK is approaching
//! its capacity limit") come with HTTP 200 as a warning on a success: the events were taken,
//! so they count as code 0 does.
//!
//! ## splunkd (`/services/receivers/simple?…&output_mode=json`, one event), by HTTP status
//!
//! | HTTP | action |
//! | --- | --- |
//! | 2xx with splunkd's receipt (`index` and `bytes` of the event) | Delivered (received by splunkd) |
//! | 2xx otherwise (HTML, empty body, other JSON, other text) | Park: not splunkd's answer ("is it splunkd's management port?") |
//! | 400 whose message names an index | Park: index missing (configuration) |
//! | 400 otherwise | DeadLetter |
//! | 401 | session auth: log in again once and resend; then (and for Basic/bearer) Park: credentials rejected |
//! | 403 | Park: the user lacks the `edit_tcp` capability |
//! | 404 | Park: wrong URL or port (splunkd always serves this path) |
//! | 408, 429, 5xx | Retry (429: after `Retry-After`) |
//! | 413 | DeadLetter: event too large |
//! | 3xx, other | Park |
//!
//! ## No reply ([`TransportError`])
//!
//! | failure | action |
//! | --- | --- |
//! | connect refused/unreachable/timeout, reset, EOF, response timeout, bad HTTP | Retry (HEC: fail over); reset/timeout/bad HTTP set `uncertain` (possible duplicate) |
//! | TLS handshake (untrusted certificate, wrong name) | Park: TLS verification failed |
//! | unusable URL | Park |
//!
//! ## Syslog (no reply at all)
//!
//! A syslog receiver never answers; its sender decides from the connection, with the same
//! actions: a connect failure Retry, a receiver certificate that does not verify or a refused
//! TLS session Park, a write error Retry (uncertain), a written record AwaitingAck until the
//! receiver's TCP acknowledged it (`confirm = "tcp-ack"`) or Delivered (`confirm = "write"`,
//! UDP), a message over the UDP datagram limit DeadLetter. The table is in the module docs of
//! [`syslog`](super::syslog).
//!
//! Choices (the reference gives codes, not client policy, for these): 404 on HEC is retried
//! (an indexer in detention answers 404) while on splunkd it is configuration; an unknown 400
//! code parks rather than dead-letters, so a misconfigured proxy cannot dead-letter every
//! event; code 7 parks because icsfwd names one index (or none) for every event of a
//! destination, so an index HEC refuses for one event it refuses for all; TLS failures park
//! because they need an operator. splunkd's receipt is read as JSON (icsfwd asks for
//! `output_mode=json`, whose shape — `index`, `bytes`, `host`, `source`, `sourcetype` — is the
//! documented one); the same fields as XML `<response>` elements also count, in case a
//! splunkd ignores `output_mode`.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::time::Duration;

use super::http::{Reply, TransportError, TransportKind, bounded, quoted};

/// What the worker does with events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Remove from the spool.
    Delivered,
    /// HEC took them with an `ackId`: keep until the ack poll says indexed or expired.
    AwaitingAck,
    /// Resend after the backoff, not before `after`.
    Retry {
        /// The server's `Retry-After`, if it gave one.
        after: Option<Duration>,
    },
    /// Keep, alarm with the reason, retry slowly.
    Park {
        /// Why (never holds a secret).
        reason: String,
    },
    /// Move to the dead-letter file and count.
    DeadLetter {
        /// Why (never holds a secret).
        reason: String,
    },
}

impl Action {
    const RETRY: Action = Action::Retry { after: None };

    fn park(reason: impl Into<String>) -> Self {
        Self::Park {
            reason: reason.into(),
        }
    }

    fn dead_letter(reason: impl Into<String>) -> Self {
        Self::DeadLetter {
            reason: reason.into(),
        }
    }
}

/// What a reply body is, as far as telling Splunk's answer from another server's goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Body {
    /// No bytes, or only white space.
    #[default]
    Empty,
    /// An HTML page (starts with `<` and has an `<html` or `<!doctype html` tag).
    Html,
    /// Any JSON value.
    Json,
    /// Anything else (plain text, XML).
    Text,
}

impl Body {
    /// Sorts `bytes` into one of the four kinds.
    ///
    /// (The example is the unit test `doc_examples::of_example` below: this module is
    /// internal to the crate, so its example names crate paths.)
    #[must_use]
    pub(crate) fn of(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        if text.is_empty() {
            return Self::Empty;
        }
        if text.starts_with('<') {
            let lower = text.to_ascii_lowercase();
            if lower.contains("<html") || lower.contains("<!doctype html") {
                return Self::Html;
            }
        }
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            return Self::Json;
        }
        Self::Text
    }

    /// `an HTML page`, `an empty body`, `JSON that is not <expected>`, `text that is neither
    /// JSON nor HTML`: what answered, for an operator.
    #[must_use]
    pub(crate) fn what(self, expected: &str) -> String {
        match self {
            Self::Empty => "an empty body".to_owned(),
            Self::Html => "an HTML page".to_owned(),
            Self::Json => format!("JSON that is not {expected}"),
            Self::Text => "text that is neither JSON nor HTML".to_owned(),
        }
    }
}

/// Where a request went, for the reasons an operator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Sent<'a> {
    /// The URL, without a query string (it never holds a secret).
    pub url: &'a str,
    /// The index every event of the request named, if the destination sets one.
    pub index: Option<&'a str>,
}

impl Sent<'_> {
    /// `the index "ot"`, or `the default index` when the destination names none.
    fn index_phrase(&self) -> String {
        match self.index {
            Some(index) => format!("the index {}", quoted(index)),
            None => "the default index".to_owned(),
        }
    }
}

/// A HEC reply, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct HecReply {
    /// The HTTP status.
    pub status: u16,
    /// The JSON `code`: set only when the body is a JSON object with a numeric `code`, HEC's
    /// own reply; `None` for any other body.
    pub code: Option<u16>,
    /// The JSON `text` (bounded), or empty.
    pub text: String,
    /// The JSON `invalid-event-number`, 0-based.
    pub invalid_event_number: Option<usize>,
    /// The JSON `ackId`.
    pub ack_id: Option<u64>,
    /// The `Retry-After` header.
    pub retry_after: Option<Duration>,
    /// What the body was.
    pub body: Body,
}

impl HecReply {
    /// Parses a reply; a body that is not the HEC JSON object leaves the fields empty.
    #[must_use]
    pub(crate) fn parse(reply: &Reply) -> Self {
        let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        let number = |key: &str| json.get(key).and_then(serde_json::Value::as_u64);
        Self {
            status: reply.status,
            code: number("code").and_then(|c| u16::try_from(c).ok()),
            text: json
                .get("text")
                .and_then(serde_json::Value::as_str)
                .map(bounded)
                .unwrap_or_default(),
            invalid_event_number: number("invalid-event-number")
                .and_then(|n| usize::try_from(n).ok()),
            ack_id: number("ackId"),
            retry_after: reply.retry_after,
            body: Body::of(&reply.body),
        }
    }

    /// The reply for an operator: `HTTP 400, HEC code 7 "Incorrect index"`, or
    /// `HTTP 502 with an HTML page` when the body is not HEC's.
    #[must_use]
    pub(crate) fn describe(&self) -> String {
        match (self.code, self.body) {
            (Some(code), _) if self.text.is_empty() => {
                format!("HTTP {}, HEC code {code}", self.status)
            }
            (Some(code), _) => {
                format!(
                    "HTTP {}, HEC code {code} {}",
                    self.status,
                    quoted(&self.text)
                )
            }
            (None, Body::Empty) => format!("HTTP {}", self.status),
            (None, body) => format!("HTTP {} with {}", self.status, body.what("HEC's reply")),
        }
    }
}

/// The decision for one HEC request's batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every event of the batch gets this action.
    Whole(Action),
    /// Splunk stopped at event `at` (`invalid-event-number`).
    Partial {
        /// Index of the event Splunk stopped at.
        at: usize,
        /// The action for events `0..at` (taken by Splunk).
        before: Action,
        /// The action for event `at`.
        failed: Action,
        /// The action for events after `at`.
        after: Action,
    },
    /// Resend the batch now as two halves, to isolate a refused event.
    Bisect {
        /// Why (413, or a data error without `invalid-event-number`).
        reason: String,
    },
}

/// HEC codes that refuse one event for its content (code 7, the index, is configuration).
const DATA_ERRORS: [u16; 5] = [5, 6, 12, 13, 15];

/// HEC codes on a 2xx that mean the events were taken (24 and 25 are capacity warnings).
const SUCCESS_CODES: [u16; 3] = [0, 24, 25];

/// Classifies a HEC reply to a request of `batch_len` events sent as `sent` says; `acks` is
/// whether the sender asked for indexer acknowledgment. See the module table.
#[must_use]
pub(crate) fn hec(reply: &HecReply, sent: &Sent<'_>, batch_len: usize, acks: bool) -> Verdict {
    let status = reply.status;
    let taken = if acks {
        Action::RETRY
    } else {
        Action::Delivered
    };
    let partial = |failed: Action, after: Action| match reply.invalid_event_number {
        Some(at) if at < batch_len => Verdict::Partial {
            at,
            before: taken.clone(),
            failed,
            after,
        },
        _ => Verdict::Whole(after),
    };
    match status {
        200..=299 => Verdict::Whole(hec_success(reply, sent, acks)),
        400 => match reply.code {
            Some(code) if DATA_ERRORS.contains(&code) => {
                let reason = format!("event refused: {}", reply.describe());
                match reply.invalid_event_number {
                    Some(_) => partial(Action::dead_letter(reason), Action::RETRY),
                    None if batch_len <= 1 => Verdict::Whole(Action::dead_letter(reason)),
                    None => Verdict::Bisect { reason },
                }
            }
            Some(7) => {
                let park = Action::park(format!(
                    "index missing ({}): {} is not writable with this token: create the \
                     index in Splunk or add it to the token's allowed indexes",
                    reply.describe(),
                    sent.index_phrase()
                ));
                partial(park.clone(), park)
            }
            Some(10 | 11) => Verdict::Whole(Action::park(format!(
                "channel refused ({}): check the channel setting",
                reply.describe()
            ))),
            Some(14) => Verdict::Whole(Action::park(format!(
                "ACK is disabled on the token ({}) while ack = true: enable useACK on the \
                 token or set ack = false",
                reply.describe()
            ))),
            _ => Verdict::Whole(Action::park(format!(
                "request refused: {}",
                reply.describe()
            ))),
        },
        401 | 403 => Verdict::Whole(Action::park(format!(
            "credentials rejected: {}",
            reply.describe()
        ))),
        413 if batch_len > 1 => Verdict::Bisect {
            reason: format!("request too large: {}", reply.describe()),
        },
        413 => Verdict::Whole(Action::dead_letter(format!(
            "event too large: {}",
            reply.describe()
        ))),
        404 | 408 => Verdict::Whole(Action::RETRY),
        429 => Verdict::Whole(Action::Retry {
            after: reply.retry_after,
        }),
        500..=599 => partial(
            Action::Retry {
                after: reply.retry_after,
            },
            Action::Retry {
                after: reply.retry_after,
            },
        ),
        300..=399 => Verdict::Whole(Action::park(format!(
            "unexpected redirect ({}): check the URL",
            reply.describe()
        ))),
        _ => Verdict::Whole(Action::park(format!(
            "unexpected reply: {}",
            reply.describe()
        ))),
    }
}

/// The action for a 2xx from HEC: delivered (or awaiting its ack) only on HEC's own success.
fn hec_success(reply: &HecReply, sent: &Sent<'_>, acks: bool) -> Action {
    match reply.code {
        None => Action::park(format!(
            "the server at {} answered {} with {}: is the URL Splunk's HEC port? check urls \
             (HEC listens on 8088 by default, once enabled in Splunk)",
            sent.url,
            reply.status,
            reply.body.what("HEC's reply")
        )),
        Some(code) if !SUCCESS_CODES.contains(&code) => Action::park(format!(
            "unexpected success reply ({}): a success carries code 0; check the URL",
            reply.describe()
        )),
        Some(_) if !acks => Action::Delivered,
        Some(_) if reply.ack_id.is_some() => Action::AwaitingAck,
        Some(_) => Action::park(
            "acks requested but the reply has no ackId: enable indexer acknowledgment \
             (useACK) on the token, or set ack = false",
        ),
    }
}

/// Whether a sender of several hosts (`hec`, `splunk`) should try its next host after this
/// status (and mark this one down).
#[must_use]
pub(crate) fn failover(status: u16) -> bool {
    status == 404 || (500..=599).contains(&status)
}

/// A splunkd `receivers/simple` reply, parsed by the sender.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SplunkdReply {
    /// The HTTP status.
    pub status: u16,
    /// The text of the reply's first message (XML `<msg>` or JSON `messages[].text`),
    /// bounded; empty if none.
    pub message: String,
    /// The body is splunkd's receipt of the event (its `index` and `bytes`).
    pub receipt: bool,
    /// What the body was.
    pub body: Body,
    /// The `Retry-After` header.
    pub retry_after: Option<Duration>,
}

impl SplunkdReply {
    /// The reply for an operator: `HTTP 400 "supplied index 'ot' missing"`, `HTTP 200 with
    /// an HTML page`.
    #[must_use]
    pub(crate) fn describe(&self) -> String {
        if !self.message.is_empty() {
            format!("HTTP {} {}", self.status, quoted(&self.message))
        } else if self.receipt || self.body == Body::Empty {
            format!("HTTP {}", self.status)
        } else {
            let what = self.body.what("splunkd's receipt");
            format!("HTTP {} with {what}", self.status)
        }
    }
}

/// Classifies splunkd's reply to a request sent as `sent` says (`receivers/simple`, one
/// event; or the login that event needed). A 401 here is final: the session re-login is done
/// by the sender before it asks.
#[must_use]
pub(crate) fn splunkd(reply: &SplunkdReply, sent: &Sent<'_>) -> Action {
    let said = reply.describe();
    match reply.status {
        200..=299 if reply.receipt => Action::Delivered,
        200..=299 => Action::park(format!(
            "the server at {} answered {} with {}: is it splunkd's management port? check \
             host and port (splunkd listens on 8089 by default)",
            sent.url,
            reply.status,
            reply.body.what("splunkd's receipt")
        )),
        400 if reply.message.to_ascii_lowercase().contains("index") => Action::park(format!(
            "index missing ({said}): {} is not writable by this user: create the index in \
             Splunk or fix the index setting (the user's role must be allowed to write to it)",
            sent.index_phrase()
        )),
        400 => Action::dead_letter(format!("event refused: {said}")),
        401 => Action::park(format!("credentials rejected: {said}")),
        403 => Action::park(format!(
            "forbidden ({said}): the user needs the edit_tcp capability"
        )),
        404 => Action::park(format!("not found ({said}): check the URL and port")),
        408 | 500..=599 => Action::RETRY,
        429 => Action::Retry {
            after: reply.retry_after,
        },
        413 => Action::dead_letter(format!("event too large: {said}")),
        _ => Action::park(format!("unexpected reply: {said}")),
    }
}

/// Classifies a request that got no reply.
#[must_use]
pub(crate) fn transport(err: &TransportError) -> Action {
    match err.kind {
        TransportKind::Tls => Action::park(format!("TLS verification failed: {}", err.message)),
        TransportKind::Url => Action::park(err.message.clone()),
        _ => Action::RETRY,
    }
}

/// What an operator must fix, known exactly from a status, a HEC code or a transport failure
/// (never guessed from a message's words). `icsfwd test` turns it into advice for the
/// destination's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The token, the password or the user is refused (HEC 401/403, splunkd 401, a refused
    /// login).
    Credentials,
    /// The server's certificate is not trusted or does not name the host.
    Tls,
    /// Nothing listens on the port: the connection was refused.
    Refused,
    /// No connection: the name does not resolve, no route, a firewall, a connect timeout.
    Unreachable,
    /// No reply within `response_timeout`.
    Timeout,
    /// The index does not exist or may not be written (HEC code 7, splunkd 400 naming it).
    Index,
    /// The splunkd user lacks the `edit_tcp` capability (splunkd 403).
    Capability,
    /// `ack = true` against a token without indexer acknowledgment (HEC code 14, or a
    /// success without `ackId`).
    AckDisabled,
    /// The HEC channel is missing or not a GUID (HEC codes 10, 11).
    Channel,
    /// Something other than the expected Splunk endpoint answered: a 2xx that is not
    /// Splunk's answer, a redirect, a 404, a success with a code that is not one.
    WrongEndpoint,
}

/// The [`Cause`] of a HEC reply that is not a success, if it is known exactly.
#[must_use]
pub(crate) fn hec_cause(reply: &HecReply, acks: bool) -> Option<Cause> {
    match (reply.status, reply.code) {
        (200..=299, Some(code)) if SUCCESS_CODES.contains(&code) => {
            (acks && reply.ack_id.is_none()).then_some(Cause::AckDisabled)
        }
        (200..=299 | 300..=399 | 404, _) => Some(Cause::WrongEndpoint),
        (400, Some(7)) => Some(Cause::Index),
        (400, Some(10 | 11)) => Some(Cause::Channel),
        (400, Some(14)) => Some(Cause::AckDisabled),
        (401 | 403, _) => Some(Cause::Credentials),
        _ => None,
    }
}

/// The [`Cause`] of a splunkd reply that is not a success, if it is known exactly.
#[must_use]
pub(crate) fn splunkd_cause(reply: &SplunkdReply) -> Option<Cause> {
    match reply.status {
        200..=299 => (!reply.receipt).then_some(Cause::WrongEndpoint),
        400 if reply.message.to_ascii_lowercase().contains("index") => Some(Cause::Index),
        401 => Some(Cause::Credentials),
        403 => Some(Cause::Capability),
        300..=399 | 404 => Some(Cause::WrongEndpoint),
        _ => None,
    }
}

/// The [`Cause`] of a request that got no reply, if it is known exactly.
#[must_use]
pub(crate) fn transport_cause(err: &TransportError) -> Option<Cause> {
    match err.kind {
        TransportKind::Refused => Some(Cause::Refused),
        TransportKind::Connect => Some(Cause::Unreachable),
        TransportKind::Timeout => Some(Cause::Timeout),
        TransportKind::Tls => Some(Cause::Tls),
        TransportKind::Protocol => Some(Cause::WrongEndpoint),
        TransportKind::Broken | TransportKind::Url => None,
    }
}

/// Exponential backoff with full jitter: attempt `n` (from 0) waits a uniformly random
/// duration in `[min, min(max, min · 2ⁿ)]`. Seedable, so a test or a replay is exact.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    state: u64,
}

impl Backoff {
    /// A backoff between `min` and `max` (swapped if given the wrong way round), seeded.
    #[must_use]
    pub(crate) fn new(min: Duration, max: Duration, seed: u64) -> Self {
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        Self {
            min,
            max,
            state: seed,
        }
    }

    /// The longest delay (also the pace of a parked destination).
    #[must_use]
    pub(crate) fn max(&self) -> Duration {
        self.max
    }

    /// The delay before retry number `attempt` (0 = the first retry), at least `after`
    /// (a server's `Retry-After`) capped at the maximum.
    pub(crate) fn delay(&mut self, attempt: u32, after: Option<Duration>) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        let cap = self.min.saturating_mul(factor).min(self.max);
        let span = cap.saturating_sub(self.min).as_nanos();
        let pick = if span == 0 {
            0
        } else {
            u128::from(self.next_u64()) % (span + 1)
        };
        let jittered = self.min.saturating_add(Duration::from_nanos(
            u64::try_from(pick).unwrap_or(u64::MAX),
        ));
        jittered.max(after.unwrap_or_default().min(self.max))
    }

    /// splitmix64: small, fast, good enough for jitter (not for secrets).
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
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

    const SENT: Sent<'static> = Sent {
        url: "https://idx1:8088/services/collector/event",
        index: None,
    };

    /// A reply whose body is HEC's JSON when it has a code, empty otherwise.
    fn reply(status: u16, code: Option<u16>) -> HecReply {
        HecReply {
            status,
            code,
            body: if code.is_some() {
                Body::Json
            } else {
                Body::Empty
            },
            ..HecReply::default()
        }
    }

    fn park_reason(verdict: Verdict) -> String {
        match verdict {
            Verdict::Whole(Action::Park { reason }) => reason,
            other => panic!("not parked: {other:?}"),
        }
    }

    /// What a verdict is, without its reason text.
    fn shape(verdict: &Verdict) -> String {
        let a = |action: &Action| match action {
            Action::Delivered => "delivered".to_owned(),
            Action::AwaitingAck => "awaiting-ack".to_owned(),
            Action::Retry { after: None } => "retry".to_owned(),
            Action::Retry { after: Some(d) } => format!("retry-after-{}s", d.as_secs()),
            Action::Park { .. } => "park".to_owned(),
            Action::DeadLetter { .. } => "dead-letter".to_owned(),
        };
        match verdict {
            Verdict::Whole(action) => a(action),
            Verdict::Partial {
                at,
                before,
                failed,
                after,
            } => format!("{}|{at}:{}|{}", a(before), a(failed), a(after)),
            Verdict::Bisect { .. } => "bisect".to_owned(),
        }
    }

    /// One row per line of the module's HEC table:
    /// (status, code, invalid-event-number, ackId, retry-after s, batch len, acks, expected).
    #[test]
    fn hec_table_rows_give_their_documented_action() {
        type Row = (
            u16,
            Option<u16>,
            Option<usize>,
            Option<u64>,
            Option<u64>,
            usize,
            bool,
            &'static str,
        );
        let rows: &[Row] = &[
            (200, Some(0), None, None, None, 5, false, "delivered"),
            (204, Some(0), None, None, None, 5, false, "delivered"),
            (200, None, None, None, None, 5, false, "park"),
            (200, None, None, Some(3), None, 5, true, "park"),
            (200, Some(24), None, None, None, 5, false, "delivered"),
            (200, Some(25), None, None, None, 5, false, "delivered"),
            (200, Some(25), None, Some(3), None, 5, true, "awaiting-ack"),
            (200, Some(17), None, None, None, 5, false, "park"),
            (200, Some(6), None, None, None, 5, false, "park"),
            (200, Some(0), None, Some(3), None, 5, true, "awaiting-ack"),
            (200, Some(0), None, None, None, 5, true, "park"),
            (
                400,
                Some(6),
                Some(2),
                None,
                None,
                5,
                false,
                "delivered|2:dead-letter|retry",
            ),
            (
                400,
                Some(6),
                Some(2),
                None,
                None,
                5,
                true,
                "retry|2:dead-letter|retry",
            ),
            (400, Some(7), None, None, None, 1, false, "park"),
            (400, Some(7), None, None, None, 5, false, "park"),
            (
                400,
                Some(7),
                Some(0),
                None,
                None,
                5,
                false,
                "delivered|0:park|park",
            ),
            (
                400,
                Some(7),
                Some(2),
                None,
                None,
                5,
                true,
                "retry|2:park|park",
            ),
            (400, Some(12), None, None, None, 4, false, "bisect"),
            (400, Some(5), None, None, None, 1, false, "dead-letter"),
            (
                400,
                Some(13),
                Some(0),
                None,
                None,
                3,
                false,
                "delivered|0:dead-letter|retry",
            ),
            (400, Some(15), None, None, None, 1, false, "dead-letter"),
            (400, Some(10), None, None, None, 2, true, "park"),
            (400, Some(11), None, None, None, 2, true, "park"),
            (400, Some(14), None, None, None, 2, true, "park"),
            (400, Some(16), None, None, None, 2, false, "park"),
            (400, None, None, None, None, 2, false, "park"),
            (401, Some(2), None, None, None, 2, false, "park"),
            (401, Some(3), None, None, None, 2, false, "park"),
            (403, Some(4), None, None, None, 2, false, "park"),
            (403, Some(1), None, None, None, 2, false, "park"),
            (404, None, None, None, None, 2, false, "retry"),
            (408, None, None, None, None, 2, false, "retry"),
            (413, Some(413), None, None, None, 2, false, "bisect"),
            (413, Some(413), None, None, None, 1, false, "dead-letter"),
            (
                429,
                Some(26),
                None,
                None,
                Some(7),
                2,
                false,
                "retry-after-7s",
            ),
            (429, None, None, None, None, 2, false, "retry"),
            (500, Some(8), None, None, None, 2, false, "retry"),
            (503, Some(9), None, None, None, 2, false, "retry"),
            (
                503,
                Some(9),
                Some(1),
                None,
                None,
                3,
                false,
                "delivered|1:retry|retry",
            ),
            (503, Some(9), Some(9), None, None, 3, false, "retry"),
            (502, None, None, None, None, 2, false, "retry"),
            (504, None, None, None, None, 2, false, "retry"),
            (503, Some(23), None, None, None, 2, false, "retry"),
            (301, None, None, None, None, 2, false, "park"),
            (418, None, None, None, None, 2, false, "park"),
        ];
        for &(status, code, ien, ack_id, after, len, acks, expected) in rows {
            let r = HecReply {
                invalid_event_number: ien,
                ack_id,
                retry_after: after.map(Duration::from_secs),
                ..reply(status, code)
            };
            assert_eq!(
                shape(&hec(&r, &SENT, len, acks)),
                expected,
                "row {status} code {code:?} ien {ien:?} len {len} acks {acks}"
            );
        }
    }

    #[test]
    fn failover_happens_on_404_and_5xx_only() {
        for (status, expected) in [
            (404, true),
            (500, true),
            (503, true),
            (504, true),
            (429, false),
            (401, false),
            (400, false),
            (200, false),
        ] {
            assert_eq!(failover(status), expected, "{status}");
        }
    }

    #[test]
    fn a_2xx_that_is_not_hecs_reply_parks_and_says_what_answered_and_where() {
        for (body, what) in [
            (Body::Html, "with an HTML page"),
            (Body::Empty, "with an empty body"),
            (Body::Json, "with JSON that is not HEC's reply"),
            (Body::Text, "with text that is neither JSON nor HTML"),
        ] {
            for acks in [false, true] {
                let r = HecReply {
                    body,
                    ack_id: Some(1),
                    ..reply(200, None)
                };
                let reason = park_reason(hec(&r, &SENT, 3, acks));
                assert!(
                    reason.starts_with(
                        "the server at https://idx1:8088/services/collector/event answered 200 "
                    ),
                    "{reason}"
                );
                assert!(reason.contains(what), "{reason}");
                assert!(reason.contains("is the URL Splunk's HEC port?"), "{reason}");
                assert_eq!(hec_cause(&r, acks), Some(Cause::WrongEndpoint));
            }
        }
    }

    #[test]
    fn code_7_parks_naming_the_index_and_the_fix_and_never_dead_letters() {
        let r = HecReply {
            text: "Incorrect index".into(),
            ..reply(400, Some(7))
        };
        let sent = Sent {
            index: Some("ics"),
            ..SENT
        };
        let reason = park_reason(hec(&r, &sent, 1, false));
        assert_eq!(
            reason,
            "index missing (HTTP 400, HEC code 7 \"Incorrect index\"): the index \"ics\" is \
             not writable with this token: create the index in Splunk or add it to the \
             token's allowed indexes"
        );
        let unnamed = park_reason(hec(&r, &SENT, 1, false));
        assert!(
            unnamed.contains("the default index is not writable"),
            "{unnamed}"
        );
        assert_eq!(hec_cause(&r, false), Some(Cause::Index));
    }

    #[test]
    fn replies_are_described_without_debug_forms() {
        let refused = HecReply {
            text: "Incorrect index".into(),
            ..reply(400, Some(7))
        };
        assert_eq!(
            refused.describe(),
            "HTTP 400, HEC code 7 \"Incorrect index\""
        );
        assert_eq!(reply(400, Some(7)).describe(), "HTTP 400, HEC code 7");
        assert_eq!(reply(503, None).describe(), "HTTP 503");
        let page = HecReply {
            body: Body::Html,
            ..reply(502, None)
        };
        assert_eq!(page.describe(), "HTTP 502 with an HTML page");
        let said = SplunkdReply {
            status: 400,
            message: "supplied index 'ot' missing\n".into(),
            ..SplunkdReply::default()
        };
        assert_eq!(said.describe(), "HTTP 400 \"supplied index 'ot' missing \"");
        for text in [
            refused.describe(),
            page.describe(),
            said.describe(),
            park_reason(hec(&refused, &SENT, 1, false)),
        ] {
            assert!(!text.contains("Some(") && !text.contains("None"), "{text}");
        }
    }

    #[test]
    fn the_cause_is_exact_a_token_without_acks_is_not_an_index_problem() {
        // "acks requested but the reply has no ackId: enable indexer acknowledgment" holds
        // the word "index"; the cause comes from the code, not from the words.
        let no_ack_id = reply(200, Some(0));
        assert_eq!(hec_cause(&no_ack_id, true), Some(Cause::AckDisabled));
        assert_eq!(hec_cause(&no_ack_id, false), None);
        assert_eq!(
            hec_cause(&reply(400, Some(14)), true),
            Some(Cause::AckDisabled)
        );
        assert_eq!(hec_cause(&reply(400, Some(11)), true), Some(Cause::Channel));
        assert_eq!(
            hec_cause(&reply(403, Some(4)), false),
            Some(Cause::Credentials)
        );
        assert_eq!(
            hec_cause(&reply(404, None), false),
            Some(Cause::WrongEndpoint)
        );
        assert_eq!(
            hec_cause(&reply(302, None), false),
            Some(Cause::WrongEndpoint)
        );
        assert_eq!(hec_cause(&reply(400, Some(6)), false), None);
        assert_eq!(hec_cause(&reply(503, Some(9)), false), None);
        let err = |kind| TransportError {
            kind,
            message: "x".into(),
        };
        assert_eq!(
            transport_cause(&err(TransportKind::Refused)),
            Some(Cause::Refused)
        );
        assert_eq!(
            transport_cause(&err(TransportKind::Timeout)),
            Some(Cause::Timeout)
        );
        assert_eq!(transport_cause(&err(TransportKind::Tls)), Some(Cause::Tls));
    }

    #[test]
    fn splunkd_table_rows_give_their_documented_action() {
        let sent = Sent {
            url: "https://s:8089/services/receivers/simple",
            index: Some("ot"),
        };
        let with_receipt = SplunkdReply {
            status: 200,
            receipt: true,
            body: Body::Json,
            ..SplunkdReply::default()
        };
        assert_eq!(splunkd(&with_receipt, &sent), Action::Delivered);
        assert_eq!(splunkd_cause(&with_receipt), None);
        for body in [Body::Html, Body::Empty, Body::Json, Body::Text] {
            let foreign = SplunkdReply {
                body,
                receipt: false,
                ..with_receipt.clone()
            };
            let Action::Park { reason } = splunkd(&foreign, &sent) else {
                panic!("{body:?}: not parked");
            };
            assert!(
                reason.starts_with(
                    "the server at https://s:8089/services/receivers/simple answered 200 with "
                ),
                "{reason}"
            );
            assert!(
                reason.contains("is it splunkd's management port?"),
                "{reason}"
            );
            assert_eq!(splunkd_cause(&foreign), Some(Cause::WrongEndpoint));
        }
        let rows: &[(u16, &str, &str)] = &[
            (400, "supplied index 'ot' missing", "park"),
            (400, "empty body", "dead-letter"),
            (401, "call not properly authenticated", "park"),
            (403, "", "park"),
            (404, "", "park"),
            (408, "", "retry"),
            (429, "", "retry-after-3s"),
            (500, "", "retry"),
            (503, "", "retry"),
            (413, "", "dead-letter"),
            (302, "", "park"),
        ];
        for &(status, message, expected) in rows {
            let reply = SplunkdReply {
                status,
                message: message.to_owned(),
                retry_after: Some(Duration::from_secs(3)),
                ..SplunkdReply::default()
            };
            let action = splunkd(&reply, &sent);
            assert_eq!(shape(&Verdict::Whole(action)), expected, "status {status}");
        }
        let index = SplunkdReply {
            status: 400,
            message: "supplied index 'ot' missing".into(),
            ..SplunkdReply::default()
        };
        let Action::Park { reason } = splunkd(&index, &sent) else {
            panic!("not parked")
        };
        assert!(
            reason.starts_with(
                "index missing (HTTP 400 \"supplied index 'ot' missing\"): the index \"ot\""
            ),
            "{reason}"
        );
        assert_eq!(splunkd_cause(&index), Some(Cause::Index));
    }

    #[test]
    fn transport_failures_retry_except_tls_and_url() {
        let err = |kind| TransportError {
            kind,
            message: "x".into(),
        };
        assert_eq!(transport(&err(TransportKind::Connect)), Action::RETRY);
        assert_eq!(transport(&err(TransportKind::Refused)), Action::RETRY);
        assert_eq!(transport(&err(TransportKind::Timeout)), Action::RETRY);
        assert_eq!(transport(&err(TransportKind::Broken)), Action::RETRY);
        assert_eq!(transport(&err(TransportKind::Protocol)), Action::RETRY);
        assert!(matches!(
            transport(&err(TransportKind::Tls)),
            Action::Park { .. }
        ));
        assert!(matches!(
            transport(&err(TransportKind::Url)),
            Action::Park { .. }
        ));
    }

    #[test]
    fn backoff_stays_within_min_and_the_doubling_cap_and_replays_from_its_seed() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(10));
        let mut a = Backoff::new(min, max, 42);
        let mut b = Backoff::new(min, max, 42);
        for attempt in 0..40 {
            let d = a.delay(attempt, None);
            assert_eq!(d, b.delay(attempt, None), "same seed, same delays");
            let cap = min
                .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
                .min(max);
            assert!(
                d >= min && d <= cap,
                "attempt {attempt}: {d:?} outside [{min:?}, {cap:?}]"
            );
        }
    }

    #[test]
    fn backoff_honours_retry_after_up_to_its_maximum() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(60), 1);
        assert!(backoff.delay(0, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
        assert_eq!(
            backoff.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn hec_reply_parse_reads_code_text_ack_and_invalid_event_number() {
        let parsed = HecReply::parse(&Reply {
            status: 400,
            retry_after: None,
            body: br#"{"text":"Invalid data format","code":6,"invalid-event-number":75}"#.to_vec(),
        });
        assert_eq!(parsed.code, Some(6));
        assert_eq!(parsed.text, "Invalid data format");
        assert_eq!(parsed.invalid_event_number, Some(75));
        let ok = HecReply::parse(&Reply {
            status: 200,
            retry_after: None,
            body: br#"{"text":"Success","code":0,"ackId":4}"#.to_vec(),
        });
        assert_eq!(ok.ack_id, Some(4));
        assert_eq!((ok.code, ok.body), (Some(0), Body::Json));
        for (body, kind) in [
            (&b"<html><body>Welcome</body></html>"[..], Body::Html),
            (b"", Body::Empty),
            (br#"{"status":"ok"}"#, Body::Json),
            (br#"[{"code":0}]"#, Body::Json),
            (br#"{"code":"0"}"#, Body::Json),
            (b"OK", Body::Text),
        ] {
            let parsed = HecReply::parse(&Reply {
                status: 200,
                retry_after: None,
                body: body.to_vec(),
            });
            assert_eq!((parsed.code, parsed.body), (None, kind), "{body:?}");
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::classify::{self, Action, Body, HecReply, Sent, Verdict};
        use std::time::Duration;

        let sent = Sent {
            url: "https://idx1:8088/services/collector/event",
            index: None,
        };
        let busy = HecReply {
            status: 503,
            code: Some(9),
            ..HecReply::default()
        };
        assert_eq!(
            classify::hec(&busy, &sent, 10, false),
            Verdict::Whole(Action::Retry { after: None })
        );
        let slow_down = HecReply {
            status: 429,
            retry_after: Some(Duration::from_secs(5)),
            ..HecReply::default()
        };
        assert_eq!(
            classify::hec(&slow_down, &sent, 1, false),
            Verdict::Whole(Action::Retry {
                after: Some(Duration::from_secs(5))
            }),
        );
        let page = HecReply {
            status: 200,
            body: Body::Html,
            ..HecReply::default()
        };
        let Verdict::Whole(Action::Park { reason }) = classify::hec(&page, &sent, 10, false) else {
            unreachable!()
        };
        assert_eq!(
            reason,
            "the server at https://idx1:8088/services/collector/event answered 200 with an HTML \
             page: is the URL Splunk's HEC port? check urls (HEC listens on 8088 by default, once \
             enabled in Splunk)",
        );
    }

    #[test]
    fn of_example() {
        use crate::destination::classify::Body;
        assert_eq!(Body::of(b" \r\n"), Body::Empty);
        assert_eq!(
            Body::of(b"<!DOCTYPE html><html><body>It works!</body></html>"),
            Body::Html
        );
        assert_eq!(Body::of(br#"{"status":"ok"}"#), Body::Json);
        assert_eq!(Body::of(b"OK"), Body::Text);
    }
}
