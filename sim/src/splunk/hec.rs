//! The HTTP Event Collector (HEC, port 8088) protocol logic, SANS-IO.
//!
//! What it is: [`Hec::handle`] takes one framed [`Request`] and the current time and returns the
//! [`Response`] Splunk would send plus the [`StoredEvent`]s it indexed, for the caller's store. It
//! covers `POST /services/collector`, `/collector/event`, `/collector/event/1.0`, `/collector/raw`,
//! `/collector/raw/1.0`, `/collector/ack` and `GET /collector/health`, `/collector/health/1.0`, as
//! Splunk's HEC documentation and [`STATUS_TABLE`] describe them. A server handles requests on
//! several connections at once, as Splunk's HEC does, in the three steps `handle` is made of:
//! [`Hec::begin`] (what needs the collector's state) and [`Hec::finish`] (the ack id) under its
//! lock, [`Parse::run`] (decompressing and parsing the events, the costly part) without it.
//!
//! What it guarantees:
//! - Every status answer is one row of [`STATUS_TABLE`] (codes 0–27, exact texts and HTTP
//!   statuses), rendered as `{"text":"..","code":n}` with `"invalid-event-number"` (per-event
//!   failures) or `"ackId"` (accepted with acks) appended, in that key order.
//! - No input panics; a gzip body is inflated only up to [`HecConfig::max_inflated_length`].
//! - Ack ids count from 0 per channel, in the order requests finish (for requests parsed at
//!   once, not necessarily the order they arrived in); an id reads `true` once, then is forgotten. With
//!   [`Hec::ack_delay`] set, ids stay `false` until [`Hec::release_acks`] marks them indexed —
//!   this is the hook the fault-injection layer uses for "slow" or "never" acks, as is
//!   [`Hec::handle_holding_acks`] (per request: ids pending until a time, or for ever).
//!
//! Order of checks (Splunk documents the codes, not their precedence; chosen here): route (404) →
//! shutting down (23) → health (its own token check) → body over `max_content_length` (413,
//! compressed size) → authentication (16, 2, 3, 4, 1) → `/ack`: ack disabled (14, before the
//! channel, as the third-party mockdr Splunk mock claims) → channel (10, 11) → server busy (9) →
//! decompression (6) → empty body (5) → per-event checks.
//!
//! Choices where Splunk's behaviour is undocumented or known only from third parties (each easy to
//! change here):
//! - Unknown path or method: 404 `{"text":"The requested URL was not found on this
//!   server.","code":404}`. 413 body: `{"text":"Content-Length of N too large (maximum is
//!   M)","code":413}`.
//! - A batch with a bad event: the events *before* it are indexed (opentelemetry-collector-contrib
//!   issue #36113: the number "tells where processing stopped"), the bad one and everything after
//!   are not, and the response is the error with `invalid-event-number` = 0-based position of the
//!   bad event (also for code 7: mockdr's "one higher" claim is unverified). Events taken from a
//!   failed request carry no ack id.
//! - A channel, when given, must be a GUID (`8-4-4-4-12` hex digits) even if the token has no
//!   acks (code 11); it is required only with acks (code 10).
//! - `time`: a number or numeric string of epoch seconds ≥ 0; anything else is code 15 (mockdr,
//!   "measured"). `host`/`source`/`sourcetype`/`index` that are not strings: code 6.
//! - `event` blank (code 13): `null`, `""`, or a string of only whitespace.
//! - `fields` not an object of strings or arrays of strings: code 15.
//! - A body that does not inflate, or a `Content-Encoding` other than `gzip`/`identity`: code 6.
//! - Defaults: host [`HecConfig::default_host`] (the real one is the client address), source
//!   `http:<token name>`, sourcetype the token's or `httpevent` (also for `/raw`), index the
//!   token's or `main`.
//! - `/raw`: each line (LF, optional CR stripped) that is not blank is one event, time = receipt.
//!   An event larger than `max_event_size` is code 6.
//! - Health: the token (header or `?token=`) is optional; unknown → 21, disabled → 22; otherwise
//!   17–20 from [`Hec::condition`]. [`Condition::QueuesFull`] makes event posts answer 9 (with
//!   `invalid-event-number` 0, as in a real capture); ack unavailability only shows on health.
//! - Code 8 and 24–27 are in the table but nothing here produces them yet.
//!
//! ```
//! use icsfwd_sim::splunk::hec::{Hec, HecConfig, Token};
//! use icsfwd_sim::splunk::http::Request;
//!
//! let mut config = HecConfig::default();
//! config.tokens.push(Token::new("ot", "11111111-2222-3333-4444-555555555555"));
//! let mut hec = Hec::new(config);
//! let req = Request::from_target("POST", "/services/collector/event")
//!     .with_header("Authorization", "Splunk 11111111-2222-3333-4444-555555555555")
//!     .with_body(br#"{"event":"plc stop","time":1700000000.5}{"event":{"id":2}}"#.to_vec());
//! let (resp, events) = hec.handle(&req, 1_700_000_001_000);
//! assert_eq!(resp.status, 200);
//! assert_eq!(resp.body_text(), r#"{"text":"Success","code":0}"#);
//! assert_eq!(events.len(), 2);
//! assert_eq!(events[0].time_ms, 1_700_000_000_500);
//! assert_eq!(events[1].sourcetype, "httpevent");
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde_json::Value;

use super::http::{Request, Response, basic_credentials};

/// One row of the HEC status-code table, [`STATUS_TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRow {
    /// The HEC `code` in the JSON body.
    pub code: Code,
    /// The HTTP status sent with it.
    pub http_status: u16,
    /// The exact `text` in the JSON body.
    pub text: &'static str,
}

/// HEC status codes; the discriminant is the wire number and the index into [`STATUS_TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u16)]
#[expect(
    missing_docs,
    reason = "each variant is documented by its STATUS_TABLE row text"
)]
pub enum Code {
    Success = 0,
    TokenDisabled = 1,
    TokenRequired = 2,
    InvalidAuthorization = 3,
    InvalidToken = 4,
    NoData = 5,
    InvalidDataFormat = 6,
    IncorrectIndex = 7,
    InternalServerError = 8,
    ServerBusy = 9,
    DataChannelMissing = 10,
    InvalidDataChannel = 11,
    EventFieldRequired = 12,
    EventFieldBlank = 13,
    AckDisabled = 14,
    IndexedFieldsError = 15,
    QueryStringAuthDisabled = 16,
    Healthy = 17,
    UnhealthyQueuesFull = 18,
    UnhealthyAckUnavailable = 19,
    UnhealthyQueuesFullAckUnavailable = 20,
    HealthInvalidToken = 21,
    HealthTokenDisabled = 22,
    ShuttingDown = 23,
    QueueNearCapacity = 24,
    AckNearCapacity = 25,
    QueueAtCapacity = 26,
    AckChannelAtCapacity = 27,
}

impl Code {
    /// The wire number.
    #[must_use]
    pub const fn number(self) -> u16 {
        self as u16
    }

    /// This code's row of [`STATUS_TABLE`].
    #[must_use]
    pub const fn row(self) -> &'static StatusRow {
        &STATUS_TABLE[self as usize]
    }
}

const fn row(code: Code, http_status: u16, text: &'static str) -> StatusRow {
    StatusRow {
        code,
        http_status,
        text,
    }
}

/// The full HEC status-code table, indexed by code number. Rows 0–22 are Splunk's (the table of
/// its "Troubleshoot HTTP Event Collector" page; codes 0–14 also in its `cloudfwd` HEC client's
/// `ServerErrors`); 23–27 come only from third-party emulator tables and an OpenTelemetry
/// collector issue.
pub const STATUS_TABLE: [StatusRow; 28] = [
    row(Code::Success, 200, "Success"),
    row(Code::TokenDisabled, 403, "Token disabled"),
    row(Code::TokenRequired, 401, "Token is required"),
    row(Code::InvalidAuthorization, 401, "Invalid authorization"),
    row(Code::InvalidToken, 403, "Invalid token"),
    row(Code::NoData, 400, "No data"),
    row(Code::InvalidDataFormat, 400, "Invalid data format"),
    row(Code::IncorrectIndex, 400, "Incorrect index"),
    row(Code::InternalServerError, 500, "Internal server error"),
    row(Code::ServerBusy, 503, "Server is busy"),
    row(Code::DataChannelMissing, 400, "Data channel is missing"),
    row(Code::InvalidDataChannel, 400, "Invalid data channel"),
    row(Code::EventFieldRequired, 400, "Event field is required"),
    row(Code::EventFieldBlank, 400, "Event field cannot be blank"),
    row(Code::AckDisabled, 400, "ACK is disabled"),
    row(
        Code::IndexedFieldsError,
        400,
        "Error in handling indexed fields",
    ),
    row(
        Code::QueryStringAuthDisabled,
        400,
        "Query string authorization is not enabled",
    ),
    row(Code::Healthy, 200, "HEC is healthy"),
    row(
        Code::UnhealthyQueuesFull,
        503,
        "HEC is unhealthy, queues are full",
    ),
    row(
        Code::UnhealthyAckUnavailable,
        503,
        "HEC is unhealthy, ack service unavailable",
    ),
    row(
        Code::UnhealthyQueuesFullAckUnavailable,
        503,
        "HEC is unhealthy, queues are full, ack service unavailable",
    ),
    row(Code::HealthInvalidToken, 400, "Invalid token"),
    row(Code::HealthTokenDisabled, 400, "Token disabled"),
    row(Code::ShuttingDown, 503, "Server is shutting down"),
    row(
        Code::QueueNearCapacity,
        200,
        "HEC queue is approaching its capacity limit",
    ),
    row(
        Code::AckNearCapacity,
        200,
        "HEC ACK is approaching its capacity limit",
    ),
    row(
        Code::QueueAtCapacity,
        429,
        "HEC queue is at capacity and cannot process any more requests",
    ),
    row(
        Code::AckChannelAtCapacity,
        429,
        "HEC ACK channel is at capacity and cannot process any more requests",
    ),
];

/// `limits.conf [http_input] max_content_length` default: 838860800 bytes (~800 MB).
pub const DEFAULT_MAX_CONTENT_LENGTH: usize = 838_860_800;
/// `inputs.conf [http] maxEventSize` default: 5 MB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 5 * 1024 * 1024;
/// `inputs.conf [http] maxIdleTime` default (600 s), after which an idle ack channel is dropped.
pub const DEFAULT_ACK_IDLE_TIMEOUT_MS: u64 = 600_000;
/// The sourcetype given when neither the envelope nor the token sets one.
pub const DEFAULT_SOURCETYPE: &str = "httpevent";
/// The index given when neither the envelope nor the token sets one.
pub const DEFAULT_INDEX: &str = "main";

/// One HEC token (`inputs.conf [http://<name>]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token value clients send (a GUID in real Splunk; any string accepted here).
    pub value: String,
    /// The stanza name; the default source is `http:<name>`.
    pub name: String,
    /// `disabled`: requests answer code 1 (health: code 22).
    pub disabled: bool,
    /// `indexes`: the indexes this token may write to; empty = any known index.
    pub indexes: Vec<String>,
    /// `index`: the index used when the event names none.
    pub default_index: Option<String>,
    /// `sourcetype`: used when the event names none.
    pub default_sourcetype: Option<String>,
    /// `useACK`: requests need a channel and get an `ackId`.
    pub use_ack: bool,
    /// `allowQueryStringAuth`: the token may be sent as `?token=`.
    pub allow_query_string_auth: bool,
}

impl Token {
    /// An enabled token named `name` with value `value`, any index, no acks.
    #[must_use]
    pub fn new(name: &str, value: &str) -> Self {
        Self {
            value: value.to_owned(),
            name: name.to_owned(),
            disabled: false,
            indexes: Vec::new(),
            default_index: None,
            default_sourcetype: None,
            use_ack: false,
            allow_query_string_auth: false,
        }
    }
}

/// The collector's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HecConfig {
    /// The tokens clients may use.
    pub tokens: Vec<Token>,
    /// The indexes that exist; an event naming another one gets code 7.
    pub indexes: Vec<String>,
    /// Largest accepted request body, compressed size (HTTP 413 above).
    pub max_content_length: usize,
    /// Largest single event (code 6 above).
    pub max_event_size: usize,
    /// Largest inflated gzip body (code 6 above). Not a Splunk setting: the emulator's guard
    /// against gzip bombs, independent of `max_content_length` since Splunk checks that one
    /// on the compressed size.
    pub max_inflated_length: usize,
    /// Host given to events that name none (Splunk would use the client address).
    pub default_host: String,
    /// Idle time after which an ack channel and its unread acks are dropped.
    pub ack_idle_timeout_ms: u64,
}

impl Default for HecConfig {
    fn default() -> Self {
        Self {
            tokens: Vec::new(),
            indexes: vec![DEFAULT_INDEX.to_owned()],
            max_content_length: DEFAULT_MAX_CONTENT_LENGTH,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            max_inflated_length: DEFAULT_MAX_CONTENT_LENGTH,
            default_host: "localhost".to_owned(),
            ack_idle_timeout_ms: DEFAULT_ACK_IDLE_TIMEOUT_MS,
        }
    }
}

/// The collector's health, set by the caller (the fault-injection layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Condition {
    /// Normal operation (health code 17).
    #[default]
    Healthy,
    /// Queues full: event posts get 9, health 18.
    QueuesFull,
    /// Ack service unavailable: health 19.
    AckUnavailable,
    /// Both of the above: event posts get 9, health 20.
    QueuesFullAndAckUnavailable,
    /// Every request gets 23.
    ShuttingDown,
}

/// The payload of an indexed event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    /// A string `event`, or one line of a `/raw` body.
    Text(String),
    /// A non-string `event` (object, number, array, boolean).
    Json(Value),
}

/// One event as indexed, for the caller's store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The index it went to.
    pub index: String,
    /// The host metadata.
    pub host: String,
    /// The source metadata.
    pub source: String,
    /// The sourcetype metadata.
    pub sourcetype: String,
    /// Event time in epoch milliseconds (envelope `time`, else receipt).
    pub time_ms: u64,
    /// The event payload.
    pub body: EventBody,
    /// Indexed fields from the envelope's `fields` (arrays become several values).
    pub fields: Vec<(String, Vec<String>)>,
    /// The request channel, if one was sent.
    pub channel: Option<String>,
    /// The ack id the request was answered with, if any.
    pub ack_id: Option<u64>,
}

#[derive(Debug, Clone, Default)]
struct Channel {
    next_ack_id: u64,
    /// Issued, not yet indexed: id → when it becomes indexed by itself (`None`: only by
    /// [`Hec::release_acks`]).
    pending: BTreeMap<u64, Option<u64>>,
    indexed: BTreeSet<u64>,
    last_used_ms: u64,
}

/// The HEC state machine: configuration, health and per-channel ack state.
#[derive(Debug, Clone)]
pub struct Hec {
    config: HecConfig,
    /// The health the collector reports and acts on.
    pub condition: Condition,
    /// When true, new ack ids stay pending (`false` on `/ack`) until [`Hec::release_acks`];
    /// when false (the default) they are indexed as soon as the request is handled.
    pub ack_delay: bool,
    /// How the acks issued by the next handled request are held back, on top of
    /// [`Hec::ack_delay`]; set per request by the fault-injection layer
    /// ([`Hec::handle_holding_acks`]).
    hold: AckHold,
    channels: BTreeMap<String, Channel>,
}

/// How a newly issued ack id is held back before it reads `true` (the fault-injection hook).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AckHold {
    /// Indexed at once (or as [`Hec::ack_delay`] says).
    #[default]
    None,
    /// `false` until this many milliseconds after it was issued, then `true` once.
    ForMs(u64),
    /// `false` until [`Hec::release_acks`] (for ever, if nobody calls it).
    Forever,
}

/// Why a request was refused: the code and the batch position, if per-event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Refusal {
    code: Code,
    event_number: Option<usize>,
}

impl From<Code> for Refusal {
    fn from(code: Code) -> Self {
        Self {
            code,
            event_number: None,
        }
    }
}

impl Hec {
    /// A healthy collector with no channels.
    #[must_use]
    pub fn new(config: HecConfig) -> Self {
        Self {
            config,
            condition: Condition::Healthy,
            ack_delay: false,
            hold: AckHold::None,
            channels: BTreeMap::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &HecConfig {
        &self.config
    }

    /// Creates index `name` (as an administrator would in Splunk): events naming it are
    /// accepted from now on (by tokens whose `indexes` allow it). False if it existed.
    pub fn create_index(&mut self, name: &str) -> bool {
        if self.config.indexes.iter().any(|known| known == name) {
            return false;
        }
        self.config.indexes.push(name.to_owned());
        true
    }

    /// Marks pending acks as indexed, on `channel` or on every channel if `None`; returns how
    /// many were released. Each then reads `true` once on `/ack`.
    pub fn release_acks(&mut self, channel: Option<&str>) -> usize {
        let mut released = 0;
        for (name, state) in &mut self.channels {
            if channel.is_none_or(|wanted| wanted == name) {
                released += state.pending.len();
                let pending = std::mem::take(&mut state.pending);
                state.indexed.extend(pending.into_keys());
            }
        }
        released
    }

    /// The ack ids issued on `channel` that are not yet indexed.
    #[must_use]
    pub fn pending_acks(&self, channel: &str) -> Vec<u64> {
        self.channels
            .get(channel)
            .map(|state| state.pending.keys().copied().collect())
            .unwrap_or_default()
    }

    /// How many ack ids are pending on all channels together.
    #[must_use]
    pub fn pending_total(&self) -> usize {
        self.channels
            .values()
            .map(|state| state.pending.len())
            .sum()
    }

    /// [`Hec::handle`], with the acks this request issues held back as `hold` says.
    pub fn handle_holding_acks(
        &mut self,
        req: &Request,
        now_ms: u64,
        hold: AckHold,
    ) -> (Response, Vec<StoredEvent>) {
        self.hold = hold;
        let answer = self.handle(req, now_ms);
        self.hold = AckHold::None;
        answer
    }

    /// Handles one request at `now_ms` (epoch ms): the response, and the events indexed by it.
    /// The same as [`Hec::begin`], [`Parse::run`] and [`Hec::finish`] one after the other.
    pub fn handle(&mut self, req: &Request, now_ms: u64) -> (Response, Vec<StoredEvent>) {
        match self.begin(req, now_ms) {
            Begun::Answered(response) => (response, Vec::new()),
            Begun::Parse(parse) => {
                let parsed = parse.run(req, now_ms);
                self.finish(&parse, parsed, now_ms)
            }
        }
    }

    /// The first step of [`Hec::handle`]: what needs the collector's state (routing,
    /// condition, token, channel, ack queries). A request that sends events is left to parse
    /// ([`Begun::Parse`]), which needs none of it: a server parses each request on its own
    /// thread, without the lock around the collector, as Splunk's HEC does.
    pub fn begin(&mut self, req: &Request, now_ms: u64) -> Begun {
        let timeout = self.config.ack_idle_timeout_ms;
        self.channels
            .retain(|_, state| now_ms.saturating_sub(state.last_used_ms) < timeout);
        let Some(endpoint) = route(req) else {
            return Begun::Answered(not_found());
        };
        if self.condition == Condition::ShuttingDown {
            return Begun::Answered(status(Code::ShuttingDown.into(), None));
        }
        if endpoint == Endpoint::Health {
            return Begun::Answered(self.health(req));
        }
        if req.body.len() > self.config.max_content_length {
            return Begun::Answered(too_large(req.body.len(), self.config.max_content_length));
        }
        match self.admit(endpoint, req, now_ms) {
            Ok(begun) => begun,
            Err(refusal) => Begun::Answered(status(refusal, None)),
        }
    }

    /// The last step of [`Hec::handle`]: issues the ack id of a request whose events `parsed`
    /// all were, and answers.
    pub fn finish(
        &mut self,
        parse: &Parse,
        parsed: Parsed,
        now_ms: u64,
    ) -> (Response, Vec<StoredEvent>) {
        let Parsed { events, refusal } = parsed;
        let ack_id = match (&parse.channel, parse.token.use_ack, refusal) {
            (Some(channel), true, None) => Some(self.issue_ack(channel, now_ms)),
            _ => None,
        };
        let events = events
            .into_iter()
            .map(|mut event| {
                event.channel.clone_from(&parse.channel);
                event.ack_id = ack_id;
                event
            })
            .collect();
        let response = match refusal {
            Some(refusal) => status(refusal, None),
            None => status(Code::Success.into(), ack_id),
        };
        (response, events)
    }

    /// [`Hec::finish`] with the acks it issues held back as `hold` says.
    pub fn finish_holding_acks(
        &mut self,
        parse: &Parse,
        parsed: Parsed,
        now_ms: u64,
        hold: AckHold,
    ) -> (Response, Vec<StoredEvent>) {
        self.hold = hold;
        let answer = self.finish(parse, parsed, now_ms);
        self.hold = AckHold::None;
        answer
    }

    fn health(&self, req: &Request) -> Response {
        let token = req.query_param("token").map(str::to_owned).or_else(|| {
            req.header("authorization")
                .and_then(|value| token_from_authorization(value).ok())
        });
        if let Some(value) = token {
            match self.config.tokens.iter().find(|token| token.value == value) {
                None => return status(Code::HealthInvalidToken.into(), None),
                Some(token) if token.disabled => {
                    return status(Code::HealthTokenDisabled.into(), None);
                }
                Some(_) => {}
            }
        }
        let code = match self.condition {
            Condition::Healthy | Condition::ShuttingDown => Code::Healthy,
            Condition::QueuesFull => Code::UnhealthyQueuesFull,
            Condition::AckUnavailable => Code::UnhealthyAckUnavailable,
            Condition::QueuesFullAndAckUnavailable => Code::UnhealthyQueuesFullAckUnavailable,
        };
        status(code.into(), None)
    }

    fn authenticate(&self, req: &Request) -> Result<&Token, Code> {
        let (value, from_query) = match req.query_param("token") {
            Some(value) => (value.to_owned(), true),
            None => match req.header("authorization") {
                None => return Err(Code::TokenRequired),
                Some(header) => (token_from_authorization(header)?, false),
            },
        };
        let token = self
            .config
            .tokens
            .iter()
            .find(|token| token.value == value)
            .ok_or(Code::InvalidToken)?;
        if from_query && !token.allow_query_string_auth {
            return Err(Code::QueryStringAuthDisabled);
        }
        if token.disabled {
            return Err(Code::TokenDisabled);
        }
        Ok(token)
    }

    /// What [`Hec::begin`] does once a request is routed and within the size limit.
    fn admit(&mut self, endpoint: Endpoint, req: &Request, now_ms: u64) -> Result<Begun, Refusal> {
        let token = self.authenticate(req)?.clone();
        if endpoint == Endpoint::Ack && !token.use_ack {
            return Err(Code::AckDisabled.into());
        }
        let channel = req
            .header("x-splunk-request-channel")
            .or_else(|| req.query_param("channel"))
            .map(str::to_owned);
        match &channel {
            None if token.use_ack => return Err(Code::DataChannelMissing.into()),
            Some(channel) if !is_guid(channel) => return Err(Code::InvalidDataChannel.into()),
            _ => {}
        }
        let busy = matches!(
            self.condition,
            Condition::QueuesFull | Condition::QueuesFullAndAckUnavailable
        );
        if busy && endpoint != Endpoint::Ack {
            return Err(Refusal {
                code: Code::ServerBusy,
                event_number: Some(0),
            });
        }
        if let (Endpoint::Ack, Some(channel)) = (endpoint, &channel) {
            let body = decoded_body(req, self.config.max_inflated_length)?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Err(Code::NoData.into());
            }
            return self
                .answer_acks(channel, &body, now_ms)
                .map(Begun::Answered);
        }
        Ok(Begun::Parse(Parse {
            raw: endpoint == Endpoint::Raw,
            token,
            channel,
            max_event_size: self.config.max_event_size,
            max_inflated_length: self.config.max_inflated_length,
            default_host: self.config.default_host.clone(),
            indexes: self.config.indexes.clone(),
        }))
    }

    fn answer_acks(
        &mut self,
        channel: &str,
        body: &[u8],
        now_ms: u64,
    ) -> Result<Response, Refusal> {
        let query: Value =
            serde_json::from_slice(body).map_err(|_| Refusal::from(Code::InvalidDataFormat))?;
        let ids = query
            .get("acks")
            .and_then(Value::as_array)
            .ok_or(Code::InvalidDataFormat)?
            .iter()
            .map(Value::as_u64)
            .collect::<Option<Vec<u64>>>()
            .ok_or(Code::InvalidDataFormat)?;
        let state = self.channels.get_mut(channel);
        let mut answers = serde_json::Map::new();
        match state {
            Some(state) => {
                state.last_used_ms = now_ms;
                let due: Vec<u64> = state
                    .pending
                    .iter()
                    .filter(|(_, release)| release.is_some_and(|at| at <= now_ms))
                    .map(|(id, _)| *id)
                    .collect();
                for id in due {
                    state.pending.remove(&id);
                    state.indexed.insert(id);
                }
                for id in ids {
                    answers.insert(id.to_string(), Value::Bool(state.indexed.remove(&id)));
                }
            }
            None => {
                for id in ids {
                    answers.insert(id.to_string(), Value::Bool(false));
                }
            }
        }
        let mut body = serde_json::Map::new();
        body.insert("acks".to_owned(), Value::Object(answers));
        Ok(json_response(200, &Value::Object(body).to_string()))
    }

    fn issue_ack(&mut self, channel: &str, now_ms: u64) -> u64 {
        let state = self.channels.entry(channel.to_owned()).or_default();
        let id = state.next_ack_id;
        state.next_ack_id = state.next_ack_id.saturating_add(1);
        state.last_used_ms = now_ms;
        match (self.hold, self.ack_delay) {
            (AckHold::ForMs(ms), _) => {
                state.pending.insert(id, Some(now_ms.saturating_add(ms)));
            }
            (AckHold::Forever, _) | (AckHold::None, true) => {
                state.pending.insert(id, None);
            }
            (AckHold::None, false) => {
                state.indexed.insert(id);
            }
        }
        id
    }
}

/// What [`Hec::begin`] decided about a request.
#[derive(Debug)]
pub enum Begun {
    /// Answered: nothing to parse, no event indexed.
    Answered(Response),
    /// Its events are to be parsed ([`Parse::run`]), then [`Hec::finish`]ed.
    Parse(Parse),
}

/// What parsing a request's events needs from the collector, copied from it by
/// [`Hec::begin`]: the token that authenticated it, its channel and the limits.
#[derive(Debug, Clone)]
pub struct Parse {
    /// Sent to `/raw` (lines), else to `/event` (envelopes).
    raw: bool,
    token: Token,
    channel: Option<String>,
    max_event_size: usize,
    max_inflated_length: usize,
    default_host: String,
    indexes: Vec<String>,
}

/// A request's events as [`Parse::run`] read them: those before the first refused, and why
/// it was.
#[derive(Debug)]
pub struct Parsed {
    events: Vec<StoredEvent>,
    refusal: Option<Refusal>,
}

impl Parse {
    /// Decodes and parses the events of `req` (received at `now_ms`); needs no lock.
    #[must_use]
    pub fn run(&self, req: &Request, now_ms: u64) -> Parsed {
        let refused = |refusal| Parsed {
            events: Vec::new(),
            refusal: Some(refusal),
        };
        let body = match decoded_body(req, self.max_inflated_length) {
            Ok(body) => body,
            Err(refusal) => return refused(refusal),
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return refused(Code::NoData.into());
        }
        let parsed = if self.raw {
            self.raw_events(req, &body, now_ms)
        } else {
            self.envelope_events(&body, now_ms)
        };
        match parsed {
            Ok(events) => Parsed {
                events,
                refusal: None,
            },
            Err((events, refusal)) => Parsed {
                events,
                refusal: Some(refusal),
            },
        }
    }

    fn check_index(&self, index: &str) -> bool {
        let token = &self.token;
        self.indexes.iter().any(|known| known == index)
            && (token.indexes.is_empty() || token.indexes.iter().any(|allowed| allowed == index))
    }

    fn defaults(&self, now_ms: u64) -> StoredEvent {
        let token = &self.token;
        StoredEvent {
            index: token
                .default_index
                .clone()
                .unwrap_or_else(|| DEFAULT_INDEX.to_owned()),
            host: self.default_host.clone(),
            source: format!("http:{}", token.name),
            sourcetype: token
                .default_sourcetype
                .clone()
                .unwrap_or_else(|| DEFAULT_SOURCETYPE.to_owned()),
            time_ms: now_ms,
            body: EventBody::Text(String::new()),
            fields: Vec::new(),
            channel: None,
            ack_id: None,
        }
    }

    fn raw_events(
        &self,
        req: &Request,
        body: &[u8],
        now_ms: u64,
    ) -> Result<Vec<StoredEvent>, (Vec<StoredEvent>, Refusal)> {
        let mut template = self.defaults(now_ms);
        for (key, slot) in [
            ("host", &mut template.host),
            ("source", &mut template.source),
            ("sourcetype", &mut template.sourcetype),
            ("index", &mut template.index),
        ] {
            if let Some(value) = req.query_param(key) {
                value.clone_into(slot);
            }
        }
        if !self.check_index(&template.index) {
            return Err((Vec::new(), Code::IncorrectIndex.into()));
        }
        let text = String::from_utf8_lossy(body);
        let mut events = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            if line.len() > self.max_event_size {
                let refusal = Refusal {
                    code: Code::InvalidDataFormat,
                    event_number: Some(events.len()),
                };
                return Err((events, refusal));
            }
            let mut event = template.clone();
            event.body = EventBody::Text(line.to_owned());
            events.push(event);
        }
        Ok(events)
    }

    fn envelope_events(
        &self,
        body: &[u8],
        now_ms: u64,
    ) -> Result<Vec<StoredEvent>, (Vec<StoredEvent>, Refusal)> {
        let mut events = Vec::new();
        let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
        loop {
            let start = stream.byte_offset();
            let Some(next) = stream.next() else {
                return Ok(events);
            };
            let position = events.len();
            let fail = |events, code| {
                let refusal = Refusal {
                    code,
                    event_number: Some(position),
                };
                Err((events, refusal))
            };
            let envelope = match next {
                Ok(envelope) => envelope,
                Err(_) => return fail(events, Code::InvalidDataFormat),
            };
            if stream.byte_offset().saturating_sub(start) > self.max_event_size {
                return fail(events, Code::InvalidDataFormat);
            }
            match self.envelope_event(envelope, now_ms) {
                Ok(event) => events.push(event),
                Err(code) => return fail(events, code),
            }
        }
    }

    fn envelope_event(&self, envelope: Value, now_ms: u64) -> Result<StoredEvent, Code> {
        let Value::Object(mut envelope) = envelope else {
            return Err(Code::InvalidDataFormat);
        };
        let mut event = self.defaults(now_ms);
        event.body = match envelope.remove("event") {
            None => return Err(Code::EventFieldRequired),
            Some(Value::Null) => return Err(Code::EventFieldBlank),
            Some(Value::String(text)) if text.trim().is_empty() => {
                return Err(Code::EventFieldBlank);
            }
            Some(Value::String(text)) => EventBody::Text(text),
            Some(other) => EventBody::Json(other),
        };
        for (key, slot) in [
            ("host", &mut event.host),
            ("source", &mut event.source),
            ("sourcetype", &mut event.sourcetype),
            ("index", &mut event.index),
        ] {
            match envelope.remove(key) {
                None => {}
                Some(Value::String(value)) => *slot = value,
                Some(_) => return Err(Code::InvalidDataFormat),
            }
        }
        if let Some(time) = envelope.remove("time") {
            event.time_ms = time_ms(&time).ok_or(Code::IndexedFieldsError)?;
        }
        if let Some(fields) = envelope.remove("fields") {
            event.fields = indexed_fields(fields).ok_or(Code::IndexedFieldsError)?;
        }
        if !self.check_index(&event.index) {
            return Err(Code::IncorrectIndex);
        }
        Ok(event)
    }
}

/// The body of `req`, inflated when it is gzip (at most `max_inflated` bytes).
fn decoded_body(req: &Request, max_inflated: usize) -> Result<Vec<u8>, Refusal> {
    match req.header("content-encoding").map(str::trim) {
        None | Some("") => Ok(req.body.clone()),
        Some(encoding) if encoding.eq_ignore_ascii_case("identity") => Ok(req.body.clone()),
        Some(encoding) if encoding.eq_ignore_ascii_case("gzip") => {
            let limit = u64::try_from(max_inflated).unwrap_or(u64::MAX);
            let mut inflated = Vec::new();
            flate2::read::GzDecoder::new(req.body.as_slice())
                .take(limit.saturating_add(1))
                .read_to_end(&mut inflated)
                .map_err(|_| Refusal::from(Code::InvalidDataFormat))?;
            if inflated.len() > max_inflated {
                return Err(Code::InvalidDataFormat.into());
            }
            Ok(inflated)
        }
        Some(_) => Err(Code::InvalidDataFormat.into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Event,
    Raw,
    Ack,
    Health,
}

fn route(req: &Request) -> Option<Endpoint> {
    let path = req.path.trim_end_matches('/');
    let endpoint = match path {
        "/services/collector" | "/services/collector/event" | "/services/collector/event/1.0" => {
            Endpoint::Event
        }
        "/services/collector/raw" | "/services/collector/raw/1.0" => Endpoint::Raw,
        "/services/collector/ack" => Endpoint::Ack,
        "/services/collector/health" | "/services/collector/health/1.0" => Endpoint::Health,
        _ => return None,
    };
    let method_ok = match endpoint {
        Endpoint::Health => req.method == "GET",
        _ => req.method == "POST",
    };
    method_ok.then_some(endpoint)
}

/// Extracts the token from `Splunk <token>` or `Basic base64(<any user>:<token>)`.
fn token_from_authorization(header: &str) -> Result<String, Code> {
    let (scheme, credentials) = header
        .trim()
        .split_once(' ')
        .ok_or(Code::InvalidAuthorization)?;
    let credentials = credentials.trim();
    if credentials.is_empty() {
        return Err(Code::InvalidAuthorization);
    }
    if scheme.eq_ignore_ascii_case("splunk") {
        Ok(credentials.to_owned())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let (_, password) = basic_credentials(credentials).ok_or(Code::InvalidAuthorization)?;
        Ok(password)
    } else {
        Err(Code::InvalidAuthorization)
    }
}

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of either case.
#[must_use]
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Epoch seconds (number, or string holding a number), fractional part allowed, to ms.
fn time_ms(time: &Value) -> Option<u64> {
    let seconds = match time {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !seconds.is_finite() || !(0.0..=1.0e15).contains(&seconds) {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "range checked above: finite, non-negative, far below u64::MAX ms"
    )]
    Some((seconds * 1000.0).round() as u64)
}

fn indexed_fields(fields: Value) -> Option<Vec<(String, Vec<String>)>> {
    let Value::Object(fields) = fields else {
        return None;
    };
    fields
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(text) => Some((name, vec![text])),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(text) => Some(text),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(|values| (name, values)),
            _ => None,
        })
        .collect()
}

/// The headers a real Splunk HEC sends with its JSON answers (signalfx chart #696).
fn json_response(status: u16, body: &str) -> Response {
    let mut response = Response::json(status, body);
    for (name, value) in [
        ("Server", "Splunkd"),
        ("Vary", "Authorization"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "SAMEORIGIN"),
    ] {
        response.headers.push((name.to_owned(), value.to_owned()));
    }
    response
}

fn status(refusal: Refusal, ack_id: Option<u64>) -> Response {
    let row = refusal.code.row();
    let mut body = format!(
        "{{\"text\":{},\"code\":{}",
        Value::String(row.text.to_owned()),
        row.code.number()
    );
    if let Some(position) = refusal.event_number {
        body.push_str(&format!(",\"invalid-event-number\":{position}"));
    }
    if let Some(id) = ack_id {
        body.push_str(&format!(",\"ackId\":{id}"));
    }
    body.push('}');
    json_response(row.http_status, &body)
}

fn not_found() -> Response {
    json_response(
        404,
        r#"{"text":"The requested URL was not found on this server.","code":404}"#,
    )
}

fn too_large(length: usize, maximum: usize) -> Response {
    json_response(
        413,
        &format!(
            "{{\"text\":\"Content-Length of {length} too large (maximum is {maximum})\",\"code\":413}}"
        ),
    )
}
