//! Fault injection for the Splunk emulator: the fault model, its text and JSON forms, and the
//! shared registry the servers consult on every request.
//!
//! What it is: a [`FaultSpec`] says which server it targets ([`Target`]), optionally which
//! path prefix, what happens ([`Action`]), how often ([`Scope`]) and for how long. A
//! [`Faults`] registry (cloneable, `Arc` inside) holds the active ones; the emulator asks it
//! [`Faults::decide`] per request and [`Faults::is_down`] per accept poll.
//!
//! Text syntax (parsed by `FromStr`, printed by `Display`, round-trips):
//! `<target>:<action>[,<option>]...` with target `hec`, `splunkd` or `all`, and
//!
//! | action | meaning |
//! | --- | --- |
//! | `down` | the listener is closed (connects get ECONNREFUSED); re-bound when the fault ends |
//! | `hang` | read the request, never answer; close when the client gives up or the fault ends |
//! | `slow=<ms>` | answer normally after `ms` milliseconds |
//! | `trickle=<bytes/s>` | write the normal answer at that rate |
//! | `status=<http>[,code=<hec code>][,retry-after=<s>]` | answer that status instead (not handled) |
//! | `status=<http>,body=<html\|empty\|json\|text>` | answer that status with a body that is not Splunk's (not handled): what a load balancer, a proxy or another service on the port answers |
//! | `lost-response` | handle (index) the request, then reset the connection without a reply |
//! | `reset` | reset the connection before handling: nothing indexed |
//! | `ack=never` | ack ids issued by matching HEC requests read `false` for ever |
//! | `ack-delay=<ms>` | ack ids issued by matching HEC requests read `false` for `ms`, then `true` |
//!
//! Options: `next=<n>` (the next n matching requests), `fraction=<p>` (each matching request
//! with probability p, 0 < p ≤ 1, drawn from the registry's seeded RNG), neither = every
//! matching request until removed; `for=<duration>` (`500ms`, `30s`, `5m`, `1h`) expires the
//! fault; `path=<prefix>` only requests whose path starts with it.
//! Examples: `hec:status=503,code=9,next=10`, `all:down,for=5s`,
//! `hec:lost-response,fraction=0.1`, `hec:ack=never`, `splunkd:slow=2000`,
//! `hec:status=429,retry-after=5,next=3`, `hec:hang,path=/services/collector/ack`,
//! `hec:status=200,body=html`, `splunkd:status=200,body=empty`.
//!
//! What it guarantees:
//! - Determinism: one RNG ([`crate::generator::Rng`]) seeded once per registry; each
//!   consultation of a `fraction` fault draws exactly one number, so the same seed and the same
//!   request sequence fault the same requests (concurrent clients make the order, and so the
//!   draws, depend on scheduling).
//! - `next=n` fires exactly n times, then the fault is kept as spent (its count still listed).
//! - Faults are checked in the order added; a request gets at most one request-level action
//!   (the first that fires) and at most one ack action (`ack=never`/`ack-delay`).
//! - Every fault counts how often it fired: request faults per request they changed, ack faults
//!   per request whose acks they held, `down` once per listener it closed.
//! - Inputs are bounded: at most [`MAX_FAULTS`] faults, a spec of at most [`MAX_SPEC_LEN`] bytes.
//!
//! Choices (the fault vocabulary is the emulator's own):
//! - `down`, `hang` and `for` apply until removed/expired; `down` takes no `next`/`fraction`.
//! - Ack faults match HEC event requests only (`/services/collector…` except `/ack` and
//!   `/health`); a request whose token has no acks is unaffected.
//! - Status bodies: HEC with `code=n` is that [`STATUS_TABLE`] row's JSON; without a code,
//!   200→0 (a success without `ackId`: the "missing ack id" case), 400→6, 401→2, 403→4,
//!   429→26, 500→8, 503→9, any other status
//!   `{"text":"<reason>","code":<http>}`. splunkd: its XML error body with `WARN` "call not
//!   properly authenticated" for 401 and `ERROR` with the reason phrase otherwise.
//! - `body=` ([`ForeignBody`]) replaces that body on either server by one no Splunk endpoint
//!   sends: a web server's default HTML page, nothing, a load balancer's JSON health answer
//!   (`{"status":"ok"}`) or `OK` as plain text; it excludes `code=`.
//!
//! ```
//! use icsfwd_sim::splunk::faults::{Action, Decision, Faults, FaultSpec, Server};
//!
//! let spec: FaultSpec = "hec:status=503,code=9,next=2".parse().unwrap();
//! assert_eq!(spec.to_string(), "hec:status=503,code=9,next=2");
//! let faults = Faults::new(7);
//! let id = faults.add(spec).unwrap();
//! let fired = |faults: &Faults| faults.decide(Server::Hec, "/services/collector").action;
//! assert!(matches!(fired(&faults), Some(Action::Status { http: 503, .. })));
//! assert!(fired(&faults).is_some());
//! assert_eq!(fired(&faults), None);
//! assert_eq!(faults.list()[0].fired, 2);
//! assert!(faults.remove(id));
//! assert_eq!(faults.decide(Server::Splunkd, "/"), Decision::default());
//! ```
//!
//! [`STATUS_TABLE`]: super::hec::STATUS_TABLE

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::hec::{AckHold, Code, STATUS_TABLE};
use super::http::Response;
use crate::generator::Rng;

/// Most faults a registry holds (spent and expired ones included until removed).
pub const MAX_FAULTS: usize = 256;
/// Longest text spec accepted.
pub const MAX_SPEC_LEN: usize = 1024;
/// Longest `slow`/`ack-delay` (one day, in ms) and `for` (one day).
pub const MAX_DELAY_MS: u64 = 86_400_000;

/// Which emulated server a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Server {
    /// The HTTP Event Collector.
    Hec,
    /// The splunkd management port.
    Splunkd,
}

impl Server {
    /// `hec` or `splunkd`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hec => "hec",
            Self::Splunkd => "splunkd",
        }
    }
}

/// Which servers a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The HTTP Event Collector only.
    Hec,
    /// splunkd only.
    Splunkd,
    /// Both.
    All,
}

impl Target {
    /// Whether requests to `server` are targeted.
    #[must_use]
    pub const fn covers(self, server: Server) -> bool {
        matches!(
            (self, server),
            (Self::All, _) | (Self::Hec, Server::Hec) | (Self::Splunkd, Server::Splunkd)
        )
    }

    const fn name(self) -> &'static str {
        match self {
            Self::Hec => "hec",
            Self::Splunkd => "splunkd",
            Self::All => "all",
        }
    }
}

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Close the listener: connects are refused.
    Down,
    /// Read the request and never answer.
    Hang,
    /// Answer normally after this many milliseconds.
    Slow {
        /// The delay.
        ms: u64,
    },
    /// Write the normal answer at this many bytes per second.
    Trickle {
        /// The rate (≥ 1).
        bytes_per_sec: u64,
    },
    /// Answer this status without handling the request.
    Status {
        /// The HTTP status (100–599).
        http: u16,
        /// The HEC code whose [`STATUS_TABLE`] row is the body.
        code: Option<u16>,
        /// A `Retry-After` header, in seconds.
        retry_after: Option<u64>,
        /// A body that is not Splunk's, instead of the server's own.
        body: Option<ForeignBody>,
    },
    /// Handle the request (events are indexed), then reset the connection instead of replying.
    LostResponse,
    /// Reset the connection before handling the request.
    Reset,
    /// Ack ids issued read `false` for ever.
    AckNever,
    /// Ack ids issued read `false` for this many milliseconds after they were issued.
    AckDelay {
        /// The delay.
        ms: u64,
    },
}

impl Action {
    const fn is_ack(self) -> bool {
        matches!(self, Self::AckNever | Self::AckDelay { .. })
    }

    /// How this action holds back acks ([`AckHold::None`] for request-level actions).
    #[must_use]
    pub const fn ack_hold(self) -> AckHold {
        match self {
            Self::AckNever => AckHold::Forever,
            Self::AckDelay { ms } => AckHold::ForMs(ms),
            _ => AckHold::None,
        }
    }
}

/// A body no Splunk endpoint sends, for a `status=` fault: what answers when a URL reaches
/// something other than Splunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignBody {
    /// A web server's default HTML page (`text/html`).
    Html,
    /// No body at all.
    Empty,
    /// A load balancer's JSON health answer, `{"status":"ok"}`.
    Json,
    /// `OK` as `text/plain`.
    Text,
}

impl ForeignBody {
    /// `html`, `empty`, `json` or `text`: the word of the text syntax.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Empty => "empty",
            Self::Json => "json",
            Self::Text => "text",
        }
    }

    fn parse(word: &str) -> Result<Self, ParseError> {
        match word {
            "html" => Ok(Self::Html),
            "empty" => Ok(Self::Empty),
            "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            other => Err(ParseError::new(&format!(
                "body={other:?}: allowed are html, empty, json, text"
            ))),
        }
    }

    /// The response with `status` and this body.
    #[must_use]
    pub fn response(self, status: u16) -> Response {
        let (content_type, body): (Option<&str>, &str) = match self {
            Self::Html => (
                Some("text/html"),
                "<!DOCTYPE html>\n<html>\n<head><title>Welcome</title></head>\n<body>\n\
                 <h1>It works!</h1>\n<p>This is the default web page for this server.</p>\n\
                 </body>\n</html>\n",
            ),
            Self::Empty => (None, ""),
            Self::Json => (Some("application/json"), r#"{"status":"ok"}"#),
            Self::Text => (Some("text/plain"), "OK\n"),
        };
        Response {
            status,
            headers: content_type
                .map(|value| vec![("Content-Type".to_owned(), value.to_owned())])
                .unwrap_or_default(),
            body: body.as_bytes().to_vec(),
        }
    }
}

/// How many matching requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Scope {
    /// Every one, until removed or expired.
    #[default]
    Always,
    /// The next n.
    Next(u64),
    /// Each with this probability (0 < p ≤ 1), from the registry's seeded RNG.
    Fraction(f64),
}

/// One fault: where, what, how often, how long.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// The servers it applies to.
    pub target: Target,
    /// Only requests whose path starts with this.
    pub path: Option<String>,
    /// What happens.
    pub action: Action,
    /// How many requests.
    pub scope: Scope,
    /// It expires this long after it is added.
    pub duration: Option<Duration>,
}

impl FaultSpec {
    /// A fault doing `action` to every request to `target`, until removed.
    #[must_use]
    pub const fn new(target: Target, action: Action) -> Self {
        Self {
            target,
            path: None,
            action,
            scope: Scope::Always,
            duration: None,
        }
    }

    /// Whether this fault applies to a request for `path` on `server`.
    #[must_use]
    pub fn matches(&self, server: Server, path: &str) -> bool {
        let ack_path_ok = !self.action.is_ack()
            || (path.starts_with("/services/collector")
                && !path.starts_with("/services/collector/ack")
                && !path.starts_with("/services/collector/health"));
        self.target.covers(server)
            && self
                .path
                .as_deref()
                .is_none_or(|prefix| path.starts_with(prefix))
            && ack_path_ok
    }

    /// The JSON form: `{"target":"hec","action":"status","http":503,"code":9,
    /// "retry_after":5,"body":"html","next":10,"fraction":0.1,"for_ms":5000,"path":"/x",
    /// "ms":100,"bytes_per_sec":1}` (only the keys that apply).
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("target".into(), json!(self.target.name()));
        let (name, _) = action_parts(self.action);
        out.insert("action".into(), json!(name));
        match self.action {
            Action::Slow { ms } | Action::AckDelay { ms } => {
                out.insert("ms".into(), json!(ms));
            }
            Action::Trickle { bytes_per_sec } => {
                out.insert("bytes_per_sec".into(), json!(bytes_per_sec));
            }
            Action::Status {
                http,
                code,
                retry_after,
                body,
            } => {
                out.insert("http".into(), json!(http));
                if let Some(code) = code {
                    out.insert("code".into(), json!(code));
                }
                if let Some(seconds) = retry_after {
                    out.insert("retry_after".into(), json!(seconds));
                }
                if let Some(body) = body {
                    out.insert("body".into(), json!(body.name()));
                }
            }
            _ => {}
        }
        match self.scope {
            Scope::Always => {}
            Scope::Next(n) => {
                out.insert("next".into(), json!(n));
            }
            Scope::Fraction(p) => {
                out.insert("fraction".into(), json!(p));
            }
        }
        if let Some(duration) = self.duration {
            out.insert(
                "for_ms".into(),
                json!(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)),
            );
        }
        if let Some(path) = &self.path {
            out.insert("path".into(), json!(path));
        }
        Value::Object(out)
    }

    /// Parses the JSON form of [`FaultSpec::to_json`] (unknown keys are errors).
    ///
    /// # Errors
    /// Not an object, unknown key, wrong type, or what the text form would reject.
    pub fn from_json(value: &Value) -> Result<Self, ParseError> {
        let object = value
            .as_object()
            .ok_or_else(|| ParseError::new("a fault in JSON must be an object"))?;
        // Rebuild the text form and parse that: one validation path for both forms.
        let text_of = |key: &str| -> Result<Option<String>, ParseError> {
            match object.get(key) {
                None => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(Value::Number(number)) => Ok(Some(number.to_string())),
                Some(_) => Err(ParseError::new(&format!(
                    "\"{key}\" must be a string or a number"
                ))),
            }
        };
        const KEYS: [&str; 12] = [
            "target",
            "action",
            "ms",
            "bytes_per_sec",
            "http",
            "code",
            "retry_after",
            "body",
            "next",
            "fraction",
            "for_ms",
            "path",
        ];
        if let Some(unknown) = object.keys().find(|key| !KEYS.contains(&key.as_str())) {
            return Err(ParseError::new(&format!(
                "unknown key \"{unknown}\"; allowed: {}",
                KEYS.join(", ")
            )));
        }
        let target = text_of("target")?.ok_or_else(|| ParseError::new("\"target\" is missing"))?;
        let action = text_of("action")?.ok_or_else(|| ParseError::new("\"action\" is missing"))?;
        let mut text = format!("{target}:");
        match action.as_str() {
            "slow" | "ack-delay" => {
                let ms = text_of("ms")?.ok_or_else(|| ParseError::new("\"ms\" is missing"))?;
                text.push_str(&format!("{action}={ms}"));
            }
            "trickle" => {
                let rate = text_of("bytes_per_sec")?
                    .ok_or_else(|| ParseError::new("\"bytes_per_sec\" is missing"))?;
                text.push_str(&format!("trickle={rate}"));
            }
            "status" => {
                let http =
                    text_of("http")?.ok_or_else(|| ParseError::new("\"http\" is missing"))?;
                text.push_str(&format!("status={http}"));
                if let Some(code) = text_of("code")? {
                    text.push_str(&format!(",code={code}"));
                }
                if let Some(seconds) = text_of("retry_after")? {
                    text.push_str(&format!(",retry-after={seconds}"));
                }
                if let Some(body) = text_of("body")? {
                    text.push_str(&format!(",body={body}"));
                }
            }
            "ack=never" | "ack-never" => text.push_str("ack=never"),
            other => text.push_str(other),
        }
        for (key, option) in [("next", "next"), ("fraction", "fraction"), ("path", "path")] {
            if let Some(value) = text_of(key)? {
                text.push_str(&format!(",{option}={value}"));
            }
        }
        if let Some(ms) = text_of("for_ms")? {
            text.push_str(&format!(",for={ms}ms"));
        }
        text.parse()
    }
}

fn action_parts(action: Action) -> (&'static str, Option<String>) {
    match action {
        Action::Down => ("down", None),
        Action::Hang => ("hang", None),
        Action::Slow { ms } => ("slow", Some(ms.to_string())),
        Action::Trickle { bytes_per_sec } => ("trickle", Some(bytes_per_sec.to_string())),
        Action::Status { http, .. } => ("status", Some(http.to_string())),
        Action::LostResponse => ("lost-response", None),
        Action::Reset => ("reset", None),
        Action::AckNever => ("ack=never", None),
        Action::AckDelay { ms } => ("ack-delay", Some(ms.to_string())),
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, value) = action_parts(self.action);
        write!(f, "{}:{name}", self.target.name())?;
        if let Some(value) = value {
            write!(f, "={value}")?;
        }
        if let Action::Status {
            code,
            retry_after,
            body,
            ..
        } = self.action
        {
            if let Some(code) = code {
                write!(f, ",code={code}")?;
            }
            if let Some(seconds) = retry_after {
                write!(f, ",retry-after={seconds}")?;
            }
            if let Some(body) = body {
                write!(f, ",body={}", body.name())?;
            }
        }
        match self.scope {
            Scope::Always => {}
            Scope::Next(n) => write!(f, ",next={n}")?,
            Scope::Fraction(p) => write!(f, ",fraction={p}")?,
        }
        if let Some(duration) = self.duration {
            let ms = duration.as_millis();
            if ms % 1000 == 0 {
                write!(f, ",for={}s", ms / 1000)?;
            } else {
                write!(f, ",for={ms}ms")?;
            }
        }
        if let Some(path) = &self.path {
            write!(f, ",path={path}")?;
        }
        Ok(())
    }
}

/// Why a fault spec was rejected; the message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    message: String,
}

impl ParseError {
    fn new(message: &str) -> Self {
        Self {
            message: message.to_owned(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid fault: {}", self.message)
    }
}

impl std::error::Error for ParseError {}

const ACTIONS: &str = "down, hang, slow=<ms>, trickle=<bytes/s>, \
     status=<http>[,code=<hec code>|,body=<html|empty|json|text>][,retry-after=<s>], \
     lost-response, reset, ack=never, ack-delay=<ms>";

fn number<T: FromStr>(key: &str, value: &str, what: &str) -> Result<T, ParseError> {
    value
        .parse()
        .map_err(|_| ParseError::new(&format!("{key}={value:?}: expected {what}")))
}

fn duration(value: &str) -> Result<Duration, ParseError> {
    let bad = || {
        ParseError::new(&format!(
            "for={value:?}: expected a duration like 500ms, 30s, 5m or 1h (at most 24h)"
        ))
    };
    let (digits, unit_ms) = if let Some(digits) = value.strip_suffix("ms") {
        (digits, 1)
    } else if let Some(digits) = value.strip_suffix('s') {
        (digits, 1000)
    } else if let Some(digits) = value.strip_suffix('m') {
        (digits, 60_000)
    } else if let Some(digits) = value.strip_suffix('h') {
        (digits, 3_600_000)
    } else {
        return Err(bad());
    };
    let count: u64 = digits.parse().map_err(|_| bad())?;
    let ms = count.checked_mul(unit_ms).ok_or_else(bad)?;
    if ms == 0 || ms > MAX_DELAY_MS {
        return Err(bad());
    }
    Ok(Duration::from_millis(ms))
}

fn bounded_ms(key: &str, value: &str) -> Result<u64, ParseError> {
    let ms: u64 = number(key, value, "milliseconds")?;
    if ms > MAX_DELAY_MS {
        return Err(ParseError::new(&format!(
            "{key}={ms}: at most {MAX_DELAY_MS} ms"
        )));
    }
    Ok(ms)
}

impl FromStr for FaultSpec {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        if text.len() > MAX_SPEC_LEN {
            return Err(ParseError::new(&format!(
                "longer than {MAX_SPEC_LEN} bytes"
            )));
        }
        let (target, rest) = text.trim().split_once(':').ok_or_else(|| {
            ParseError::new(&format!(
                "{text:?}: expected <target>:<action>[,<option>]..., e.g. hec:status=503,code=9,next=10"
            ))
        })?;
        let target = parse_target(target)?;
        let mut items = rest.split(',');
        let mut action = parse_action(items.next().unwrap_or_default())?;
        let mut spec = FaultSpec::new(target, action);
        for item in items {
            apply_option(&mut spec, &mut action, item)?;
        }
        check_combination(&spec, action)?;
        spec.action = action;
        Ok(spec)
    }
}

/// The `<target>` of a fault spec.
fn parse_target(target: &str) -> Result<Target, ParseError> {
    match target {
        "hec" => Ok(Target::Hec),
        "splunkd" => Ok(Target::Splunkd),
        "all" => Ok(Target::All),
        other => Err(ParseError::new(&format!(
            "target {other:?}: allowed are hec, splunkd, all"
        ))),
    }
}

/// The `<action>` of a fault spec: the first item after the colon.
fn parse_action(first: &str) -> Result<Action, ParseError> {
    let (name, value) = match first.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (first, None),
    };
    let needs = |what: &str| {
        value.ok_or_else(|| ParseError::new(&format!("{name} needs ={what}, e.g. {name}=100")))
    };
    let action = match (name, value) {
        ("down", None) => Action::Down,
        ("hang", None) => Action::Hang,
        ("lost-response", None) => Action::LostResponse,
        ("reset", None) => Action::Reset,
        ("ack", Some("never")) => Action::AckNever,
        ("slow", _) => Action::Slow {
            ms: bounded_ms("slow", needs("<ms>")?)?,
        },
        ("ack-delay", _) => Action::AckDelay {
            ms: bounded_ms("ack-delay", needs("<ms>")?)?,
        },
        ("trickle", _) => {
            let rate: u64 = number("trickle", needs("<bytes/s>")?, "bytes per second")?;
            if rate == 0 {
                return Err(ParseError::new("trickle=0: the rate must be at least 1"));
            }
            Action::Trickle {
                bytes_per_sec: rate,
            }
        }
        ("status", _) => {
            let http: u16 = number("status", needs("<http>")?, "an HTTP status")?;
            if !(100..=599).contains(&http) {
                return Err(ParseError::new(&format!(
                    "status={http}: an HTTP status is 100..=599"
                )));
            }
            Action::Status {
                http,
                code: None,
                retry_after: None,
                body: None,
            }
        }
        _ => {
            return Err(ParseError::new(&format!(
                "action {first:?}: allowed are {ACTIONS}"
            )));
        }
    };
    Ok(action)
}

/// Applies one `key=value` option to `spec` (its scope, duration or path) or to `action`
/// (the options of `status=`).
fn apply_option(spec: &mut FaultSpec, action: &mut Action, item: &str) -> Result<(), ParseError> {
    let (key, value) = item
        .split_once('=')
        .ok_or_else(|| ParseError::new(&format!("option {item:?}: expected key=value")))?;
    match (key, action) {
        ("code", Action::Status { code, .. }) => {
            let number: u16 = number("code", value, "a HEC status code")?;
            if usize::from(number) >= STATUS_TABLE.len() {
                return Err(ParseError::new(&format!(
                    "code={number}: HEC codes are 0..={}",
                    STATUS_TABLE.len() - 1
                )));
            }
            *code = Some(number);
        }
        ("retry-after", Action::Status { retry_after, .. }) => {
            *retry_after = Some(number("retry-after", value, "seconds")?);
        }
        ("body", Action::Status { body, .. }) => *body = Some(ForeignBody::parse(value)?),
        ("next", _) => {
            let n: u64 = number("next", value, "a request count")?;
            if n == 0 {
                return Err(ParseError::new("next=0: the count must be at least 1"));
            }
            spec.scope = Scope::Next(n);
        }
        ("fraction", _) => {
            let p: f64 = number("fraction", value, "a probability")?;
            if !(p > 0.0 && p <= 1.0) {
                return Err(ParseError::new(&format!(
                    "fraction={value}: must be in (0, 1]"
                )));
            }
            spec.scope = Scope::Fraction(p);
        }
        ("for", _) => spec.duration = Some(duration(value)?),
        ("path", _) => {
            if !value.starts_with('/') {
                return Err(ParseError::new(&format!(
                    "path={value:?}: a path prefix starts with /"
                )));
            }
            spec.path = Some(value.to_owned());
        }
        _ => {
            return Err(ParseError::new(&format!(
                "option {key:?}: allowed are next=<n>, fraction=<p>, for=<duration>, \
                     path=<prefix> (and code=, body=, retry-after= after status=)"
            )));
        }
    }
    Ok(())
}

/// Refuses the option combinations that contradict each other.
fn check_combination(spec: &FaultSpec, action: Action) -> Result<(), ParseError> {
    if let Action::Status {
        code: Some(_),
        body: Some(_),
        ..
    } = action
    {
        return Err(ParseError::new(
            "code= and body= exclude each other: code= sends HEC's JSON for that code, \
             body= a body that is not Splunk's",
        ));
    }
    if action == Action::Down && spec.scope != Scope::Always {
        return Err(ParseError::new(
            "down takes no next= or fraction= (use for=<duration> or remove it)",
        ));
    }
    Ok(())
}

/// Whether a listed fault still acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// It can still fire.
    Active,
    /// `next=n` and it fired n times.
    Spent,
    /// Its `for=` time is over.
    Expired,
}

impl State {
    /// `active`, `spent` or `expired`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Spent => "spent",
            Self::Expired => "expired",
        }
    }
}

/// A fault in the registry, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultInfo {
    /// Its id (from 1, never reused in a registry).
    pub id: u64,
    /// What it is.
    pub spec: FaultSpec,
    /// How many times it fired.
    pub fired: u64,
    /// Whether it still acts.
    pub state: State,
}

impl FaultInfo {
    /// `{"id":1,"spec":"hec:…","fault":{…JSON form…},"fired":3,"state":"active"}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "spec": self.spec.to_string(),
            "fault": self.spec.to_json(),
            "fired": self.fired,
            "state": self.state.name(),
        })
    }
}

/// What the faults say about one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// The request-level action that fired, if any (with the id of its fault).
    pub action: Option<Action>,
    /// The fault the action came from.
    pub fault: Option<u64>,
    /// How the acks this request issues are held back.
    pub ack_hold: AckHold,
}

/// Why a fault could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddError {
    /// The registry holds [`MAX_FAULTS`] faults already.
    Full,
}

impl fmt::Display for AddError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the registry holds {MAX_FAULTS} faults already; remove some first"
        )
    }
}

impl std::error::Error for AddError {}

#[derive(Debug)]
struct Entry {
    info: FaultInfo,
    remaining: Option<u64>,
    expires: Option<Instant>,
    /// `down`: the servers whose listener it closed (counted once each).
    closed: [bool; 2],
}

impl Entry {
    fn refresh(&mut self, now: Instant) {
        if self.info.state == State::Active && self.expires.is_some_and(|at| now >= at) {
            self.info.state = State::Expired;
        }
    }
}

#[derive(Debug)]
struct Registry {
    seed: u64,
    rng: Rng,
    next_id: u64,
    entries: Vec<Entry>,
}

/// The shared, thread-safe fault registry (clones share it).
#[derive(Debug, Clone)]
pub struct Faults {
    inner: Arc<Mutex<Registry>>,
}

impl Faults {
    /// An empty registry whose `fraction` draws come from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Registry {
                seed,
                rng: Rng::new(seed),
                next_id: 1,
                entries: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The seed this registry was made with.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// Adds `spec`; returns its id. Its `for=` time starts now.
    ///
    /// # Errors
    /// [`AddError::Full`].
    pub fn add(&self, spec: FaultSpec) -> Result<u64, AddError> {
        let mut registry = self.lock();
        if registry.entries.len() >= MAX_FAULTS {
            return Err(AddError::Full);
        }
        let id = registry.next_id;
        registry.next_id += 1;
        let remaining = match spec.scope {
            Scope::Next(n) => Some(n),
            _ => None,
        };
        let expires = spec.duration.map(|length| Instant::now() + length);
        registry.entries.push(Entry {
            info: FaultInfo {
                id,
                spec,
                fired: 0,
                state: State::Active,
            },
            remaining,
            expires,
            closed: [false; 2],
        });
        Ok(id)
    }

    /// Removes fault `id`; false if there was none.
    pub fn remove(&self, id: u64) -> bool {
        let mut registry = self.lock();
        let before = registry.entries.len();
        registry.entries.retain(|entry| entry.info.id != id);
        registry.entries.len() != before
    }

    /// Removes every fault; returns how many there were.
    pub fn clear(&self) -> usize {
        std::mem::take(&mut self.lock().entries).len()
    }

    /// Every fault, in the order added, with its count and state.
    #[must_use]
    pub fn list(&self) -> Vec<FaultInfo> {
        let now = Instant::now();
        let mut registry = self.lock();
        registry
            .entries
            .iter_mut()
            .map(|entry| {
                entry.refresh(now);
                entry.info.clone()
            })
            .collect()
    }

    /// Whether fault `id` exists and is active.
    #[must_use]
    pub fn is_active(&self, id: u64) -> bool {
        let now = Instant::now();
        self.lock().entries.iter_mut().any(|entry| {
            entry.refresh(now);
            entry.info.id == id && entry.info.state == State::Active
        })
    }

    /// Whether fault `id` was removed or has expired (what ends a `hang`; a spent `next=n`
    /// hang keeps its connections hanging until removed).
    #[must_use]
    pub fn is_gone(&self, id: u64) -> bool {
        let now = Instant::now();
        !self.lock().entries.iter_mut().any(|entry| {
            entry.refresh(now);
            entry.info.id == id && entry.info.state != State::Expired
        })
    }

    /// Whether an active `down` fault targets `server` now.
    #[must_use]
    pub fn is_down(&self, server: Server) -> bool {
        let now = Instant::now();
        let slot = usize::from(server == Server::Splunkd);
        let mut down = false;
        for entry in &mut self.lock().entries {
            entry.refresh(now);
            let info = &mut entry.info;
            if info.state == State::Active
                && info.spec.action == Action::Down
                && info.spec.target.covers(server)
            {
                down = true;
                if let Some(closed) = entry.closed.get_mut(slot)
                    && !*closed
                {
                    *closed = true;
                    info.fired += 1;
                }
            }
        }
        down
    }

    /// What happens to a request for `path` on `server`: consults the active faults in order,
    /// counting those that fire and drawing for `fraction` ones.
    #[must_use]
    pub fn decide(&self, server: Server, path: &str) -> Decision {
        let now = Instant::now();
        let mut registry = self.lock();
        let Registry { rng, entries, .. } = &mut *registry;
        let mut decision = Decision::default();
        for entry in entries.iter_mut() {
            entry.refresh(now);
            let action = entry.info.spec.action;
            let wanted = if action.is_ack() {
                decision.ack_hold == AckHold::None
            } else {
                decision.action.is_none() && action != Action::Down
            };
            if !wanted
                || entry.info.state != State::Active
                || !entry.info.spec.matches(server, path)
            {
                continue;
            }
            let fires = match entry.info.spec.scope {
                Scope::Always | Scope::Next(_) => true,
                Scope::Fraction(p) => draw(rng) < p,
            };
            if !fires {
                continue;
            }
            entry.info.fired += 1;
            if let Some(remaining) = &mut entry.remaining {
                *remaining = remaining.saturating_sub(1);
                if *remaining == 0 {
                    entry.info.state = State::Spent;
                }
            }
            if action.is_ack() {
                decision.ack_hold = action.ack_hold();
            } else {
                decision.action = Some(action);
                decision.fault = Some(entry.info.id);
            }
        }
        decision
    }
}

/// A uniform draw in [0, 1) from the top 53 bits.
fn draw(rng: &mut Rng) -> f64 {
    #[expect(
        clippy::cast_precision_loss,
        reason = "53 bits fit an f64 mantissa exactly"
    )]
    let top = (rng.next_u64() >> 11) as f64;
    top / (1u64 << 53) as f64
}

/// The response a `status=` fault sends on `server` (see the module docs for the bodies):
/// `body`, if given, instead of the server's own.
#[must_use]
pub fn status_response(
    server: Server,
    http: u16,
    code: Option<u16>,
    retry_after: Option<u64>,
    body: Option<ForeignBody>,
) -> Response {
    let mut resp = match (body, server) {
        (Some(body), _) => body.response(http),
        (None, Server::Hec) => {
            let default_code = match http {
                200 => Some(Code::Success),
                400 => Some(Code::InvalidDataFormat),
                401 => Some(Code::TokenRequired),
                403 => Some(Code::InvalidToken),
                429 => Some(Code::QueueAtCapacity),
                500 => Some(Code::InternalServerError),
                503 => Some(Code::ServerBusy),
                _ => None,
            };
            let row = code
                .and_then(|number| STATUS_TABLE.get(usize::from(number)))
                .or_else(|| default_code.map(Code::row));
            let (text, number) = match row {
                Some(row) => (row.text, row.code.number()),
                None => (reason_phrase(http), http),
            };
            // Splunk's key order: text, then code.
            let body = format!("{{\"text\":{},\"code\":{number}}}", json!(text));
            let mut resp = Response::json(http, &body);
            for (name, value) in [("Server", "Splunkd"), ("X-Content-Type-Options", "nosniff")] {
                resp.headers.push((name.to_owned(), value.to_owned()));
            }
            resp
        }
        (None, Server::Splunkd) => {
            let (kind, text) = if http == 401 {
                ("WARN", super::splunkd::MSG_NOT_AUTHENTICATED)
            } else {
                ("ERROR", reason_phrase(http))
            };
            Response {
                status: http,
                headers: vec![(
                    "Content-Type".to_owned(),
                    "text/xml; charset=utf-8".to_owned(),
                )],
                body: format!(
                    "<response>\n  <messages>\n    <msg type=\"{kind}\">{text}</msg>\n  </messages>\n</response>\n"
                )
                .into_bytes(),
            }
        }
    };
    if let Some(seconds) = retry_after {
        resp.headers
            .push(("Retry-After".to_owned(), seconds.to_string()));
    }
    resp
}

fn reason_phrase(http: u16) -> &'static str {
    match http {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
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

    #[test]
    fn every_example_spec_round_trips_through_text_and_json() {
        for text in [
            "hec:status=503,code=9,next=10",
            "all:down,for=5s",
            "hec:lost-response,fraction=0.1",
            "hec:ack=never",
            "hec:ack-delay=1500,next=2",
            "splunkd:slow=2000",
            "hec:trickle=1,path=/services/collector",
            "hec:status=429,retry-after=5,next=3",
            "hec:hang,path=/services/collector/ack",
            "splunkd:reset,for=250ms",
            "all:status=413",
            "hec:status=200,body=html",
            "splunkd:status=200,body=empty,next=2",
            "all:status=204,body=json",
            "hec:status=200,retry-after=1,body=text,path=/services/collector/ack",
        ] {
            let spec: FaultSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
            assert_eq!(
                FaultSpec::from_json(&spec.to_json()).unwrap(),
                spec,
                "{text}"
            );
        }
    }

    #[test]
    fn bad_specs_say_what_is_allowed() {
        for (text, hint) in [
            ("hec", "<target>:<action>"),
            ("web:down", "hec, splunkd, all"),
            ("hec:explode", "allowed are down"),
            ("hec:slow", "slow needs"),
            ("hec:status=700", "100..=599"),
            ("hec:status=503,code=99", "0..=27"),
            ("hec:down,next=2", "down takes no"),
            ("hec:reset,fraction=1.5", "(0, 1]"),
            ("hec:reset,for=5", "500ms"),
            ("hec:reset,colour=red", "allowed are next"),
            ("hec:code=9", "allowed are down"),
            ("hec:reset,path=x", "starts with /"),
            (
                "hec:status=200,body=xml",
                "allowed are html, empty, json, text",
            ),
            ("hec:status=200,code=0,body=html", "exclude each other"),
            ("hec:reset,body=html", "allowed are next"),
        ] {
            let err = text.parse::<FaultSpec>().unwrap_err().to_string();
            assert!(err.contains(hint), "{text}: {err}");
        }
    }

    #[test]
    fn same_seed_fires_the_same_requests() {
        let run = |seed| {
            let faults = Faults::new(seed);
            faults
                .add("hec:reset,fraction=0.3".parse().unwrap())
                .unwrap();
            (0..200)
                .map(|_| faults.decide(Server::Hec, "/").action.is_some())
                .collect::<Vec<_>>()
        };
        let first = run(11);
        assert_eq!(first, run(11));
        assert_ne!(first, run(12));
        let hits = first.iter().filter(|hit| **hit).count();
        assert!((30..=90).contains(&hits), "{hits}");
    }

    #[test]
    fn ack_faults_skip_ack_and_health_paths_and_combine_with_request_faults() {
        let faults = Faults::new(1);
        faults.add("hec:ack=never".parse().unwrap()).unwrap();
        faults.add("hec:slow=5".parse().unwrap()).unwrap();
        let decision = faults.decide(Server::Hec, "/services/collector/event");
        assert_eq!(decision.ack_hold, AckHold::Forever);
        assert_eq!(decision.action, Some(Action::Slow { ms: 5 }));
        let ack = faults.decide(Server::Hec, "/services/collector/ack");
        assert_eq!(ack.ack_hold, AckHold::None);
        assert_eq!(faults.decide(Server::Splunkd, "/x").action, None);
    }

    #[test]
    fn hec_status_bodies_are_status_table_rows() {
        for (http, code, text) in [
            (503, Some(9), "Server is busy"),
            (500, Some(8), "Internal server error"),
            (403, Some(4), "Invalid token"),
            (401, Some(2), "Token is required"),
            (401, Some(3), "Invalid authorization"),
            (503, None, "Server is busy"),
        ] {
            let resp = status_response(Server::Hec, http, code, None, None);
            let body: Value = serde_json::from_slice(&resp.body).unwrap();
            assert_eq!(resp.status, http);
            assert_eq!(body["text"], text);
        }
        let too_big = status_response(Server::Hec, 413, None, None, None);
        assert_eq!(
            too_big.body_text(),
            r#"{"text":"Payload Too Large","code":413}"#
        );
        let busy = status_response(Server::Splunkd, 429, None, Some(5), None);
        assert_eq!(busy.header("retry-after"), Some("5"));
        assert!(
            busy.body_text()
                .contains("<msg type=\"ERROR\">Too Many Requests</msg>")
        );
    }

    #[test]
    fn foreign_bodies_are_what_something_other_than_splunk_answers_on_either_server() {
        for server in [Server::Hec, Server::Splunkd] {
            let html = status_response(server, 200, None, None, Some(ForeignBody::Html));
            assert_eq!(html.status, 200);
            assert_eq!(html.header("content-type"), Some("text/html"));
            assert!(html.body_text().starts_with("<!DOCTYPE html>"));
            let empty = status_response(server, 200, None, Some(2), Some(ForeignBody::Empty));
            assert!(empty.body.is_empty());
            assert_eq!(empty.header("content-type"), None);
            assert_eq!(empty.header("retry-after"), Some("2"));
            let json = status_response(server, 204, None, None, Some(ForeignBody::Json));
            assert_eq!(json.body_text(), r#"{"status":"ok"}"#);
            let text = status_response(server, 200, None, None, Some(ForeignBody::Text));
            assert_eq!(text.body_text(), "OK\n");
        }
    }
}
