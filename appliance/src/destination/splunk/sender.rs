//! The splunkd management-port sender: one classic text event per
//! `POST /services/receivers/simple` request, on a kept-alive connection.
//!
//! What it is: a [`SplunkSender`] is built from the destination's [`Splunk`] settings, the
//! sensor's address, [`Tls`] and [`Timeouts`]. Each event is rendered with
//! icsfwd-core's `text` format and posted to
//! `/services/receivers/simple?host=<sensor ip>&source=icsfwd&sourcetype=<sourcetype>[&index=..]&output_mode=json`
//! (all metadata in the query string, as splunkd takes it; values percent-encoded; JSON
//! answers, whose receipt shape is the documented one). The reply is classified with
//! [`classify::splunkd`]. Authentication ([`Auth`]):
//! - `Basic`: `Authorization: Basic base64(user:password)` on every request;
//! - `Session`: `POST /services/auth/login` with the form `username`/`password`, the
//!   `<sessionKey>` of the XML reply sent as `Authorization: Splunk <key>`; on a 401 (the key
//!   expired, or splunkd restarted) the sender logs in again once and resends the event;
//! - `Bearer`: `Authorization: Bearer <token>`.
//!
//! What it guarantees:
//! - Order: events are sent one at a time in batch order; the first event that is not
//!   delivered or dead-lettered stops the batch, and the rest get its action unsent.
//! - Several hosts ([`Splunk::hosts`], [`failover`](crate::destination::failover)): each
//!   event starts at the next host in turn; a host that cannot be reached or answers 5xx is
//!   marked down for [`Splunk::down_for`] and the event goes to the next host at once. An
//!   event a failed host may have taken (no reply read) and another host then took is counted
//!   in [`Outcome::failed_over`]. Each host has its own session key.
//! - `Delivered` means splunkd answered 2xx with its receipt of the event (a JSON object with
//!   the `index` and the `bytes` it took; the same as XML elements also counts): the event was
//!   received (splunkd's REST receiver offers no indexing acknowledgment). A 2xx with anything
//!   else — an HTML page, an empty body, other JSON or text — parks the destination: it is not
//!   splunkd that answered.
//! - Secrets (the password, the token, the Basic credentials and the session key) never
//!   appear in an error or reason: every message is redacted.
//! - Bounded: replies are read up to [`MAX_REPLY_BODY`](crate::destination::http::MAX_REPLY_BODY); a
//!   session key longer than [`MAX_SESSION_KEY`] is refused.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use icsfwd_core::format::{self, SliceWriter};

use super::{Auth, Splunk};
use crate::destination::classify::{self, Action, Body, Cause, Sent, SplunkdReply};
use crate::destination::failover::Rotation;
use crate::destination::http::{HttpClient, Redactor, Reply, SetupError, bounded};
use crate::destination::{AckReport, Item, Outcome, Secret, Sender, Timeouts, Tls};

/// Longest session key accepted from `auth/login`.
pub(crate) const MAX_SESSION_KEY: usize = 4096;

/// Path of the simple receiver.
pub(crate) const SIMPLE_PATH: &str = "/services/receivers/simple";
/// Path of the login endpoint.
pub(crate) const LOGIN_PATH: &str = "/services/auth/login";

/// A [`SplunkSender`] could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum SplunkError {
    /// The URL is not `http(s)://host[:port]`.
    BadUrl(String),
    /// The HTTP client could not be built.
    Setup(SetupError),
}

impl fmt::Display for SplunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadUrl(url) => write!(f, "splunkd URL {url:?} is not http(s)://host[:port]"),
            Self::Setup(err) => write!(f, "splunkd client: {err}"),
        }
    }
}

impl std::error::Error for SplunkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Setup(err) => Some(err),
            Self::BadUrl(_) => None,
        }
    }
}

/// One splunkd host of a destination: its URLs and its session.
#[derive(Debug)]
struct Target {
    /// The base URL, as status shows the host.
    base: String,
    simple_url: String,
    /// `simple_url` without its query, for reasons.
    receiver_url: String,
    login_url: String,
    /// `Splunk <key>` once logged in (session auth): each splunkd has its own sessions.
    session_header: Option<Secret>,
}

/// What one host made of an event.
enum Tried {
    /// The host answered: the event's action.
    Answered(Action),
    /// The host failed (unreachable, a 5xx): try the next one; the action if none is left,
    /// and whether the host may have taken the event before it failed (no reply read).
    Failed(Action, bool),
}

/// The splunkd sender of one destination.
#[derive(Debug)]
pub struct SplunkSender {
    client: HttpClient,
    targets: Vec<Target>,
    rotation: Rotation,
    index: Option<String>,
    auth: Auth,
    /// The `Authorization` value for Basic or Bearer, fixed at construction.
    static_header: Option<Secret>,
    redactor: Redactor,
    format: format::Options,
    scratch: Vec<u8>,
    logins: u64,
}

impl SplunkSender {
    /// Builds the sender (no connection is made, no login done yet).
    ///
    /// # Errors
    /// A malformed URL, or TLS files that cannot be used.
    pub fn new(
        splunk: &Splunk,
        sensor_ip: IpAddr,
        tls: &Tls,
        timeouts: &Timeouts,
    ) -> Result<Self, SplunkError> {
        let client = HttpClient::new(tls, timeouts, &splunk.proxy).map_err(SplunkError::Setup)?;
        let mut query = format!(
            "host={}&source={}&sourcetype={}",
            percent_encode(&sensor_ip.to_string()),
            percent_encode(&splunk.source),
            percent_encode(&splunk.sourcetype)
        );
        if let Some(index) = &splunk.index {
            query.push_str("&index=");
            query.push_str(&percent_encode(index));
        }
        query.push_str("&output_mode=json");
        let static_header = match &splunk.auth {
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                Some(Secret::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )))
            }
            Auth::Bearer { token } => Some(Secret::new(format!("Bearer {}", token.expose()))),
            Auth::Session { .. } => None,
        };
        let mut redactor = Redactor::default();
        match &splunk.auth {
            Auth::Basic { password, .. } | Auth::Session { password, .. } => {
                redactor.add(password);
                redactor.add(&Secret::new(percent_encode(password.expose())));
            }
            Auth::Bearer { token } => redactor.add(token),
        }
        if let Some(header) = &static_header {
            redactor.add(header);
            if let Some((_, credentials)) = header.expose().split_once(' ') {
                redactor.add(&Secret::new(credentials));
            }
        }
        let mut targets = Vec::with_capacity(splunk.hosts.len());
        for (endpoint, base) in splunk.hosts.iter().zip(splunk.base_urls()) {
            if endpoint.host.is_empty() || endpoint.host.contains(['/', '?', '#', '@', ' ']) {
                return Err(SplunkError::BadUrl(bounded(&base)));
            }
            targets.push(Target {
                simple_url: format!("{base}{SIMPLE_PATH}?{query}"),
                receiver_url: format!("{base}{SIMPLE_PATH}"),
                login_url: format!("{base}{LOGIN_PATH}"),
                session_header: None,
                base,
            });
        }
        if targets.is_empty() {
            return Err(SplunkError::BadUrl(String::new()));
        }
        Ok(Self {
            client,
            rotation: Rotation::new(targets.len(), splunk.down_for),
            targets,
            index: splunk.index.clone(),
            auth: splunk.auth.clone(),
            static_header,
            redactor,
            format: format::Options::default(),
            scratch: vec![0u8; format::text::MAX_LEN],
            logins: 0,
        })
    }

    /// Whether TLS verification is off (the service warns at every start).
    #[must_use]
    pub fn verification_disabled(&self) -> bool {
        self.client.verification_disabled()
    }

    /// How many successful logins this sender made (session auth).
    #[must_use]
    pub fn logins(&self) -> u64 {
        self.logins
    }

    /// Logs in (session auth) and keeps the key.
    ///
    /// # Errors
    /// What became of the event that needed the login: Park when the credentials are
    /// rejected or what answered is not splunkd, Retry when splunkd is unreachable.
    fn login(&mut self, target: usize) -> Result<(), LoginFailure> {
        let Auth::Session { username, password } = &self.auth else {
            return Ok(());
        };
        let login_url = self
            .targets
            .get(target)
            .map(|t| t.login_url.clone())
            .unwrap_or_default();
        let form = format!(
            "username={}&password={}",
            percent_encode(username),
            percent_encode(password.expose())
        );
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        let reply = self
            .client
            .post(&login_url, &headers, form.as_bytes(), &self.redactor)
            .map_err(|err| LoginFailure {
                action: classify::transport(&err),
                cause: classify::transport_cause(&err),
                uncertain: err.maybe_delivered(),
                error: err.message,
            })?;
        if reply.status != 200 {
            let parsed = parse_reply(&reply);
            let (action, cause) = match reply.status {
                400 | 401 => (
                    Action::Park {
                        reason: self.redactor.redact(&format!(
                            "login failed, credentials rejected: {}",
                            parsed.describe()
                        )),
                    },
                    Some(Cause::Credentials),
                ),
                _ => {
                    let sent = Sent {
                        url: &login_url,
                        index: None,
                    };
                    (
                        redacted(classify::splunkd(&parsed, &sent), &self.redactor),
                        classify::splunkd_cause(&parsed),
                    )
                }
            };
            let error = self
                .redactor
                .redact(&format!("{}: {}", login_url, parsed.describe()));
            return Err(LoginFailure {
                action,
                error,
                uncertain: false,
                cause,
            });
        }
        let text = String::from_utf8_lossy(&reply.body);
        let key = element_text(&text, "sessionKey")
            .or_else(|| {
                serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("sessionKey")?.as_str().map(str::to_owned))
            })
            .filter(|k| !k.is_empty() && k.len() <= MAX_SESSION_KEY);
        let Some(key) = key else {
            let error = format!("{}: the login reply holds no usable sessionKey", login_url);
            return Err(LoginFailure {
                action: Action::Park {
                    reason: error.clone(),
                },
                error,
                uncertain: false,
                cause: Some(Cause::WrongEndpoint),
            });
        };
        let key = Secret::new(key);
        self.redactor.add(&key);
        let header = Secret::new(format!("Splunk {}", key.expose()));
        self.redactor.add(&header);
        if let Some(target) = self.targets.get_mut(target) {
            target.session_header = Some(header);
        }
        self.logins += 1;
        Ok(())
    }

    fn post_event(
        &self,
        target: &Target,
        body: &[u8],
    ) -> Result<Reply, crate::destination::http::TransportError> {
        let auth = self
            .static_header
            .as_ref()
            .or(target.session_header.as_ref())
            .map(Secret::expose)
            .unwrap_or_default();
        let headers = [
            ("Authorization", auth),
            ("Content-Type", "text/plain; charset=utf-8"),
        ];
        self.client
            .post(&target.simple_url, &headers, body, &self.redactor)
    }

    /// Sends one rendered event to the hosts in turn until one answers: its action. A host
    /// that fails is marked down and the event goes to the next one at once.
    fn send_one(&mut self, len: usize, now: Instant, outcome: &mut Outcome) -> Action {
        let mut action = Action::Retry { after: None };
        let mut maybe_taken = false;
        for target in self.rotation.order(now) {
            match self.send_to(target, len, outcome) {
                Tried::Answered(answered) => {
                    if maybe_taken
                        && matches!(answered, Action::Delivered | Action::DeadLetter { .. })
                    {
                        // A host that failed may hold it too.
                        outcome.failed_over += 1;
                    }
                    return answered;
                }
                Tried::Failed(failed, taken) => {
                    action = failed;
                    maybe_taken |= taken;
                    self.rotation.mark_down(target, now);
                }
            }
        }
        action
    }

    /// Sends one rendered event to host `target` (logging in first with session auth).
    fn send_to(&mut self, target: usize, len: usize, outcome: &mut Outcome) -> Tried {
        let is_session = matches!(self.auth, Auth::Session { .. });
        let mut fresh_login = false;
        let logged_in = self
            .targets
            .get(target)
            .is_some_and(|t| t.session_header.is_some());
        if is_session && !logged_in {
            if let Err(failure) = self.login(target) {
                return failure.apply(outcome);
            }
            fresh_login = true;
        }
        loop {
            let Some(host) = self.targets.get(target) else {
                return Tried::Failed(Action::Retry { after: None }, false);
            };
            let reply = match self.post_event(host, self.scratch.get(..len).unwrap_or_default()) {
                Ok(reply) => reply,
                Err(err) => {
                    outcome.uncertain |= err.maybe_delivered();
                    outcome.cause = classify::transport_cause(&err);
                    let action = classify::transport(&err);
                    let taken = err.maybe_delivered();
                    outcome.last_error = Some(err.message);
                    return Tried::Failed(action, taken);
                }
            };
            if reply.status == 401 && is_session && !fresh_login {
                // The key expired or splunkd restarted: one new login, one resend.
                if let Some(host) = self.targets.get_mut(target) {
                    host.session_header = None;
                }
                if let Err(failure) = self.login(target) {
                    return failure.apply(outcome);
                }
                fresh_login = true;
                continue;
            }
            return self.answered(target, &reply, outcome);
        }
    }

    /// What host `target`'s `reply` to an event means, noting the error and cause in
    /// `outcome`.
    fn answered(&self, target: usize, reply: &Reply, outcome: &mut Outcome) -> Tried {
        let receiver_url = self
            .targets
            .get(target)
            .map(|t| t.receiver_url.as_str())
            .unwrap_or_default();
        let parsed = parse_reply(reply);
        outcome.status = Some(reply.status);
        if !(200..300).contains(&reply.status) {
            outcome.last_error = Some(
                self.redactor
                    .redact(&format!("{receiver_url}: {}", parsed.describe())),
            );
        }
        if let Some(cause) = classify::splunkd_cause(&parsed) {
            outcome.cause = Some(cause);
        }
        let sent = Sent {
            url: receiver_url,
            index: self.index.as_deref(),
        };
        let action = redacted(classify::splunkd(&parsed, &sent), &self.redactor);
        if (200..300).contains(&reply.status) && action != Action::Delivered {
            // What answered may have passed the event on: a resend may duplicate it.
            outcome.uncertain = true;
        }
        match action {
            Action::Retry { .. } if classify::failover(reply.status) => {
                Tried::Failed(action, false)
            }
            action => Tried::Answered(action),
        }
    }
}

impl Sender for SplunkSender {
    fn resume(&mut self, _dir: &std::path::Path, _name: &str) -> Option<u64> {
        // splunkd has no acks to ask about later: unconfirmed events are sent again.
        None
    }

    fn restore(
        &mut self,
        _records: &[(u64, u32)],
        _now: std::time::Instant,
    ) -> Vec<(u64, crate::destination::Restored)> {
        Vec::new()
    }

    /// Sends the events one at a time, each to the next host in turn (failing over to the
    /// others); stops at the first that is neither delivered nor dead-lettered.
    fn send(&mut self, batch: &[Item<'_>], now: Instant) -> Outcome {
        let mut outcome = Outcome::default();
        for (i, (_, event)) in batch.iter().enumerate() {
            let mut scratch = std::mem::take(&mut self.scratch);
            let mut out = SliceWriter::new(&mut scratch);
            let rendered = format::write(format::Kind::Text, event, &self.format, &mut out);
            self.scratch = scratch;
            let action = match rendered {
                Ok(len) => self.send_one(len, now, &mut outcome),
                Err(_) => Action::DeadLetter {
                    reason: "the event could not be rendered as text".to_owned(),
                },
            };
            let blocking = !matches!(action, Action::Delivered | Action::DeadLetter { .. });
            outcome.push(i..i + 1, action.clone());
            if blocking {
                outcome.push(i + 1..batch.len(), action);
                break;
            }
        }
        outcome
    }

    /// splunkd answers each request: no record ever awaits a confirmation.
    fn hosts(&self, now: Instant) -> Vec<crate::destination::HostState> {
        let names = self.targets.iter().map(|t| t.base.clone());
        self.rotation.states(names, now)
    }

    fn poll_acks(&mut self, _now: Instant) -> AckReport {
        AckReport::default()
    }

    fn pending_acks(&self) -> usize {
        0
    }

    fn poll_interval(&self) -> Option<Duration> {
        None
    }

    /// A record is delivered on splunkd's answer: nothing reported delivered can be lost.
    fn possible_loss(&self) -> u64 {
        0
    }

    /// No session to end (a session key simply expires).
    fn finish(&mut self) -> AckReport {
        AckReport::default()
    }
}

/// Why a login did not give a session key, and what becomes of the event that needed it.
#[derive(Debug)]
struct LoginFailure {
    action: Action,
    error: String,
    uncertain: bool,
    cause: Option<Cause>,
}

impl LoginFailure {
    /// Records the failure in `outcome`; what became of the event: a host that could not be
    /// reached (a retry) is failed over, a refusal (a park) is the event's answer.
    fn apply(self, outcome: &mut Outcome) -> Tried {
        outcome.last_error = Some(self.error);
        outcome.uncertain |= self.uncertain;
        if self.cause.is_some() {
            outcome.cause = self.cause;
        }
        match self.action {
            // A login carries no event: the host did not take it.
            Action::Retry { .. } => Tried::Failed(self.action, false),
            action => Tried::Answered(action),
        }
    }
}

/// `action` with its reason redacted.
fn redacted(action: Action, redactor: &Redactor) -> Action {
    match action {
        Action::Park { reason } => Action::Park {
            reason: redactor.redact(&reason),
        },
        Action::DeadLetter { reason } => Action::DeadLetter {
            reason: redactor.redact(&reason),
        },
        other => other,
    }
}

/// A splunkd reply, parsed for [`classify::splunkd`].
fn parse_reply(reply: &Reply) -> SplunkdReply {
    SplunkdReply {
        status: reply.status,
        message: splunkd_message(reply),
        receipt: is_receipt(&reply.body),
        body: Body::of(&reply.body),
        retry_after: reply.retry_after,
    }
}

/// Whether `body` is splunkd's receipt of an event: a JSON object with a string `index` and
/// a number `bytes` (what `output_mode=json` gives), or a `<response>` with `<index>` and a
/// numeric `<bytes>` element.
fn is_receipt(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    if let Ok(serde_json::Value::Object(json)) = serde_json::from_str(&text) {
        return json.get("index").is_some_and(serde_json::Value::is_string)
            && json.get("bytes").is_some_and(serde_json::Value::is_u64);
    }
    text.trim_start().starts_with("<response")
        && element_text(&text, "index").is_some()
        && element_text(&text, "bytes").is_some_and(|bytes| bytes.parse::<u64>().is_ok())
}

/// The text of the first `<msg>` of a splunkd XML reply, or the first JSON
/// `messages[].text`, bounded; empty if none.
fn splunkd_message(reply: &Reply) -> String {
    let text = String::from_utf8_lossy(&reply.body);
    if let Some(msg) = element_text(&text, "msg") {
        return bounded(&msg);
    }
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("messages")?
                .get(0)?
                .get("text")?
                .as_str()
                .map(bounded)
        })
        .unwrap_or_default()
}

/// The text inside the first `<name ...>` … `</name>` of `xml`, with the five XML entities
/// decoded.
fn element_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}");
    let start = xml.find(&open)?;
    let rest = xml.get(start + open.len()..)?;
    // `<msg type="WARN">` or `<sessionKey>`; not `<sessionKeyX>`.
    if !rest.starts_with(['>', ' ']) {
        return None;
    }
    let content_start = rest.find('>')? + 1;
    let content = rest.get(content_start..)?;
    let end = content.find(&format!("</{name}>"))?;
    let raw = content.get(..end)?.trim();
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
#[must_use]
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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
    use crate::destination::http::Scheme;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            percent_encode("sensor a&b=c/ü"),
            "sensor%20a%26b%3Dc%2F%C3%BC"
        );
        assert_eq!(percent_encode("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn session_key_and_messages_are_read_from_splunkd_xml() {
        let login = "<response>\n  <sessionKey>abc&amp;def</sessionKey>\n</response>\n";
        assert_eq!(
            element_text(login, "sessionKey").as_deref(),
            Some("abc&def")
        );
        let error = Reply {
            status: 401,
            retry_after: None,
            body: br#"<response><messages><msg type="WARN">call not properly authenticated</msg></messages></response>"#.to_vec(),
        };
        assert_eq!(splunkd_message(&error), "call not properly authenticated");
        let json = Reply {
            status: 400,
            retry_after: None,
            body: br#"{"messages":[{"type":"WARN","text":"supplied index 'x' missing"}]}"#.to_vec(),
        };
        assert_eq!(splunkd_message(&json), "supplied index 'x' missing");
    }

    #[test]
    fn the_simple_url_carries_the_metadata_in_the_query() {
        let auth = Auth::Bearer {
            token: Secret::new("tok"),
        };
        let mut options = Splunk::new(Scheme::Https, "s", 8089, auth);
        options.sourcetype = "sensor a".into();
        options.index = Some("ot".into());
        let ip = "10.0.0.9".parse().unwrap();
        let sender =
            SplunkSender::new(&options, ip, &Tls::default(), &Timeouts::default()).unwrap();
        assert_eq!(
            sender.targets[0].simple_url,
            "https://s:8089/services/receivers/simple?host=10.0.0.9&source=icsfwd&sourcetype=sensor%20a&index=ot&output_mode=json"
        );
    }

    #[test]
    fn only_splunkds_receipt_counts_as_one() {
        for receipt in [
            &br#"{"index":"main","bytes":42,"host":"10.0.0.9","source":"icsfwd","sourcetype":"icsfwd:text"}"#[..],
            b"<response>\n  <index>main</index>\n  <bytes>42</bytes>\n</response>\n",
        ] {
            assert!(is_receipt(receipt), "{}", String::from_utf8_lossy(receipt));
        }
        for other in [
            &b""[..],
            b"<!DOCTYPE html><html><body>It works!</body></html>",
            br#"{"status":"ok"}"#,
            br#"{"index":"main"}"#,
            br#"{"index":"main","bytes":"many"}"#,
            br#"[{"index":"main","bytes":1}]"#,
            b"OK",
            b"<response><messages><msg type=\"WARN\">x</msg></messages></response>",
        ] {
            assert!(!is_receipt(other), "{}", String::from_utf8_lossy(other));
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    #[ignore = "compiled, not run: it needs a live system (it was a no_run example)"]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::destination::http::Scheme;
        use crate::destination::splunk::sender::SplunkSender;
        use crate::destination::splunk::{Auth, Splunk};
        use crate::destination::{Secret, Sender, Timeouts, Tls};
        use icsfwd_core::alert::{Alert, Event};
        use std::time::Instant;

        let auth = Auth::Session {
            username: "icsfwd".into(),
            password: Secret::new("s3cret"),
        };
        let splunk = Splunk::new(Scheme::Https, "splunk.example", 8089, auth);
        let sensor_ip = "10.1.2.3".parse()?;
        let mut sender =
            SplunkSender::new(&splunk, sensor_ip, &Tls::default(), &Timeouts::default())?;
        let event = Event::from(Alert::example(1_700_000_000_000));
        println!("{:?}", sender.send(&[(1, &event)], Instant::now()));
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
