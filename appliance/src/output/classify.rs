//! The one table from a Splunk reply (or a failed request) to what the worker does.
//!
//! What it is: [`hec()`] classifies a HEC reply for a batch, [`splunkd()`] a
//! `receivers/simple` reply for one event, [`transport()`] a request that got no reply;
//! [`failover()`] says when a HEC sender tries its next URL. [`Backoff`] computes retry delays
//! (exponential, full jitter, seedable). Actions:
//!
//! - **Delivered**: remove from the spool. Without HEC acks, a 200 means *received* by HEC,
//!   not *indexed* (Splunk answers before the pipeline runs).
//! - **AwaitingAck**: HEC accepted the request and gave an `ackId`; keep the events until
//!   [`HecSender::poll_acks`](super::hec::HecSender::poll_acks) reports them indexed, or
//!   resend them after the ack deadline.
//! - **Retry { after }**: transient; resend after the backoff, and not before `after` (a
//!   server's `Retry-After`, capped by the backoff maximum).
//! - **Park { reason }**: a configuration or credentials problem that resending cannot fix
//!   by itself: raise an alarm with the reason, keep the events, retry slowly (at the backoff
//!   maximum) so the destination recovers when the operator fixes it.
//! - **DeadLetter { reason }**: the event itself is refused: move it to the dead-letter file
//!   (counted, replayable) and go on.
//!
//! ## HEC (`/services/collector/event`), by HTTP status and HEC `code`
//!
//! | HTTP | HEC code | action |
//! | --- | --- | --- |
//! | 2xx | 0, 24, 25, none | Delivered; with acks: AwaitingAck if the reply has an `ackId`, else Park ("acks requested but the reply has no ackId") — never a silent fall back to unacknowledged delivery |
//! | 400 | 5, 6, 7, 12, 13, 15 (data errors) | with `invalid-event-number` n: events before n Delivered (with acks: Retry, they carry no ack id), event n DeadLetter, the rest Retry; without it: one event DeadLetter, several: bisect (resend each half now) |
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
//! ## splunkd (`/services/receivers/simple`, one event), by HTTP status
//!
//! | HTTP | action |
//! | --- | --- |
//! | 2xx | Delivered (received by splunkd) |
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
//! (CFWD's "detention" observation) while on splunkd it is configuration; an unknown 400 code
//! parks rather than dead-letters, so a misconfigured proxy cannot dead-letter every event;
//! TLS failures park because they need an operator.
//!
//! ```
//! use std::time::Duration;
//! use icsfwd::output::classify::{self, Action, HecReply, Verdict};
//!
//! let busy = HecReply { status: 503, code: Some(9), ..HecReply::default() };
//! assert_eq!(classify::hec(&busy, 10, false), Verdict::Whole(Action::Retry { after: None }));
//! let slow_down = HecReply { status: 429, retry_after: Some(Duration::from_secs(5)), ..HecReply::default() };
//! assert_eq!(
//!     classify::hec(&slow_down, 1, false),
//!     Verdict::Whole(Action::Retry { after: Some(Duration::from_secs(5)) }),
//! );
//! ```

use std::time::Duration;

use super::http::{Reply, TransportError, TransportKind, bounded};

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

/// A HEC reply, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HecReply {
    /// The HTTP status.
    pub status: u16,
    /// The JSON `code`, if the body had one.
    pub code: Option<u16>,
    /// The JSON `text` (bounded), or empty.
    pub text: String,
    /// The JSON `invalid-event-number`, 0-based.
    pub invalid_event_number: Option<usize>,
    /// The JSON `ackId`.
    pub ack_id: Option<u64>,
    /// The `Retry-After` header.
    pub retry_after: Option<Duration>,
}

impl HecReply {
    /// Parses a reply; a body that is not the HEC JSON object leaves the fields empty.
    #[must_use]
    pub fn parse(reply: &Reply) -> Self {
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
        }
    }

    fn describe(&self) -> String {
        match self.code {
            Some(code) => format!("HTTP {} code {code} {:?}", self.status, self.text),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// The decision for one HEC request's batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
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

const DATA_ERRORS: [u16; 6] = [5, 6, 7, 12, 13, 15];

/// Classifies a HEC reply to a request of `batch_len` events; `acks` is whether the sender
/// asked for indexer acknowledgment. See the module table.
#[must_use]
pub fn hec(reply: &HecReply, batch_len: usize, acks: bool) -> Verdict {
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
        200..=299 => {
            let ok = matches!(reply.code, None | Some(0 | 24 | 25));
            if !ok {
                Verdict::Whole(Action::park(format!(
                    "unexpected success reply {}",
                    reply.describe()
                )))
            } else if !acks {
                Verdict::Whole(Action::Delivered)
            } else if reply.ack_id.is_some() {
                Verdict::Whole(Action::AwaitingAck)
            } else {
                Verdict::Whole(Action::park(
                    "acks requested but the reply has no ackId: enable indexer acknowledgment \
                     (useACK) on the token, or set ack = false",
                ))
            }
        }
        400 => match reply.code {
            Some(code) if DATA_ERRORS.contains(&code) => {
                let reason = format!("event refused: {}", reply.describe());
                match reply.invalid_event_number {
                    Some(_) => partial(Action::dead_letter(reason), Action::RETRY),
                    None if batch_len <= 1 => Verdict::Whole(Action::dead_letter(reason)),
                    None => Verdict::Bisect { reason },
                }
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

/// Whether a HEC sender should try its next URL after this status (and mark this one down).
#[must_use]
pub fn failover(status: u16) -> bool {
    status == 404 || (500..=599).contains(&status)
}

/// Classifies splunkd's reply to `receivers/simple` (one event). `message` is the text of
/// the reply's first `<msg>` (or JSON `text`). A 401 here is final: the session re-login is
/// done by the sender before it asks.
#[must_use]
pub fn splunkd(status: u16, message: &str, retry_after: Option<Duration>) -> Action {
    let said = if message.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status} {:?}", bounded(message))
    };
    match status {
        200..=299 => Action::Delivered,
        400 if message.to_ascii_lowercase().contains("index") => {
            Action::park(format!("index refused ({said}): check the index setting"))
        }
        400 => Action::dead_letter(format!("event refused: {said}")),
        401 => Action::park(format!("credentials rejected: {said}")),
        403 => Action::park(format!(
            "forbidden ({said}): the user needs the edit_tcp capability"
        )),
        404 => Action::park(format!("not found ({said}): check the URL and port")),
        408 | 500..=599 => Action::RETRY,
        429 => Action::Retry { after: retry_after },
        413 => Action::dead_letter(format!("event too large: {said}")),
        _ => Action::park(format!("unexpected reply: {said}")),
    }
}

/// Classifies a request that got no reply.
#[must_use]
pub fn transport(err: &TransportError) -> Action {
    match err.kind {
        TransportKind::Tls => Action::park(format!("TLS verification failed: {}", err.message)),
        TransportKind::Url => Action::park(err.message.clone()),
        _ => Action::RETRY,
    }
}

/// Exponential backoff with full jitter: attempt `n` (from 0) waits a uniformly random
/// duration in `[min, min(max, min · 2ⁿ)]`. Seedable, so a test or a replay is exact.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    state: u64,
}

impl Backoff {
    /// A backoff between `min` and `max` (swapped if given the wrong way round), seeded.
    #[must_use]
    pub fn new(min: Duration, max: Duration, seed: u64) -> Self {
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        Self {
            min,
            max,
            state: seed,
        }
    }

    /// The longest delay (also the pace of a parked destination).
    #[must_use]
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The delay before retry number `attempt` (0 = the first retry), at least `after`
    /// (a server's `Retry-After`) capped at the maximum.
    pub fn delay(&mut self, attempt: u32, after: Option<Duration>) -> Duration {
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

    fn reply(status: u16, code: Option<u16>) -> HecReply {
        HecReply {
            status,
            code,
            ..HecReply::default()
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
            (200, None, None, None, None, 5, false, "delivered"),
            (200, Some(24), None, None, None, 5, false, "delivered"),
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
            (400, Some(7), None, None, None, 1, false, "dead-letter"),
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
                shape(&hec(&r, len, acks)),
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
    fn splunkd_table_rows_give_their_documented_action() {
        let rows: &[(u16, &str, &str)] = &[
            (200, "", "delivered"),
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
            let action = splunkd(status, message, Some(Duration::from_secs(3)));
            assert_eq!(shape(&Verdict::Whole(action)), expected, "status {status}");
        }
    }

    #[test]
    fn transport_failures_retry_except_tls_and_url() {
        let err = |kind| TransportError {
            kind,
            message: "x".into(),
        };
        assert_eq!(transport(&err(TransportKind::Connect)), Action::RETRY);
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
    }
}
