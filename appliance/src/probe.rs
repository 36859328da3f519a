//! `icsfwd test <destination>`: the "send test message" button of the sensor's forwarding-rule
//! form.
//!
//! What it is: [`run`] builds the destination's sender exactly as the service does
//! ([`sender_for`]), sends one clearly marked test alert ([`test_alert`]: title
//! [`TEST_TITLE`], severity Warning, the configured sensor, the current time, a unique id) and
//! writes what happened, step by step, to the given writer: the URL(s) it sends to, the
//! authentication used, TLS verification and the CA, the reply as classified by
//! [`classify`](crate::output::classify), for HEC with acks the ack polls until `true` or a
//! deadline, and on failure the precise error and what to fix: [`fix`] for a cause the sender
//! knows exactly ([`Cause`], from the status, the HEC code or the transport failure),
//! [`advice`] from the message's words otherwise. A `syslog` destination has its own steps and
//! words ([`syslog`]): its transport, the TLS session and whether the receiver accepted it, and
//! the confirmation its kind can give; over RELP the confirmation is the receiver's answer (the
//! "RELP receipt"), read here like HEC's acks.
//!
//! What it guarantees:
//! - It never touches the spool or the dead-letter files: the test alert goes straight to the
//!   destination and nowhere else.
//! - No secret is written: URLs carry none (credentials travel in headers), the token and the
//!   password are named, never shown, and every error comes from the senders, which redact.
//! - Bounded in time: each request is bounded by the destination's timeouts, the ack wait by
//!   [`ProbeOptions::ack_wait`] (and the destination's `ack_deadline`).
//! - The same rule as the service: a 2xx that is not Splunk's own answer (an HTML page, an
//!   empty body, other JSON) is a failure, with what answered and the fix.
//!
//! Choices (not in the references):
//! - An unknown destination name is a usage error (exit 64, like any bad argument): the
//!   configuration is fine, the argument is not; the message lists the defined names
//!   ([`UnknownDestination`]).
//! - The test alert's id is the current time in milliseconds, so its event id
//!   (`<sensor>-<id>`) is unique per run and can be searched for in Splunk.
//! - The senders report the status of failed replies only; a success is shown as "HTTP 2xx"
//!   with the action it was classified as.
//!
//! ```
//! use icsfwd::config::{Config, Origin};
//! use icsfwd::probe::{TEST_TITLE, find_destination, test_alert};
//! use icsfwd_core::alert::{Event, Severity};
//!
//! let text = r#"
//! [sensor]
//! name = "sensor-plant-a"
//! ip = "10.20.0.5"
//!
//! [[destination]]
//! name = "soc-hec"
//! kind = "hec"
//! urls = ["https://splunk.example:8088"]
//! token_env = "HEC_TOKEN"
//!
//! [[rule]]
//! name = "everything"
//! actions = ["soc-hec"]
//! "#;
//! let origin = Origin { path: "icsfwd.toml".into(), mode: 0o600 };
//! let env = |_: &str| Some("11111111-2222-3333-4444-555555555555".to_owned());
//! let config = Config::parse(text, &origin, &env).map_err(|p| format!("{p:?}"))?;
//! let unknown = find_destination(&config, "soc").unwrap_err();
//! assert_eq!(unknown.to_string(), r#"no destination named "soc" in the configuration; defined: soc-hec"#);
//! let Event::Alert(alert) = test_alert(&config.sensor, 1_700_000_000_000) else { unreachable!() };
//! assert_eq!(alert.title.as_str(), TEST_TITLE);
//! assert_eq!(alert.severity, Severity::Warning);
//! assert_eq!(alert.sensor.name.as_str(), "sensor-plant-a");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use icsfwd_core::alert::{Alert, Engine, Event, Severity};

use crate::config::{self, Config, Destination, DestinationKind, SplunkAuth};
use crate::deliver::{Sender, sender_for};
use crate::output::classify::{Action, Cause};
use crate::output::splunk::percent_encode;

pub mod syslog;

/// The title of the test alert.
pub const TEST_TITLE: &str = "icsfwd test message";

/// Settings of a test that are not in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeOptions {
    /// Longest wait for a HEC ack to read `true` (also capped by the destination's
    /// `ack_deadline`). Default 60 s.
    pub ack_wait: Duration,
    /// Pause between two ack polls. Default 1 s.
    pub ack_poll_interval: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(60),
            ack_poll_interval: Duration::from_secs(1),
        }
    }
}

/// How a test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conclusion {
    /// The destination confirmed the test alert (2xx, or the HEC ack read `true`).
    Delivered,
    /// It did not.
    Failed {
        /// What went wrong (redacted).
        reason: String,
        /// What to fix, when the reason is recognised.
        fix: Option<String>,
    },
}

/// A destination name the configuration does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDestination {
    /// The name asked for.
    pub name: String,
    /// The names the configuration defines, in order.
    pub defined: Vec<String>,
}

impl fmt::Display for UnknownDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no destination named {:?} in the configuration",
            self.name
        )?;
        if self.defined.is_empty() {
            write!(f, " (it defines none)")
        } else {
            write!(f, "; defined: {}", self.defined.join(", "))
        }
    }
}

impl std::error::Error for UnknownDestination {}

/// The destination `name` of `config`, or the error listing the defined names.
///
/// # Errors
///
/// No destination has that name.
pub fn find_destination<'a>(
    config: &'a Config,
    name: &str,
) -> Result<&'a Destination, UnknownDestination> {
    config.destination(name).ok_or_else(|| UnknownDestination {
        name: name.to_owned(),
        defined: config.destinations.iter().map(|d| d.name.clone()).collect(),
    })
}

/// The test alert: [`TEST_TITLE`], Warning, engine Operational, the configured sensor, id and
/// time `now_ms`.
#[must_use]
pub fn test_alert(sensor: &config::Sensor, now_ms: u64) -> Event {
    let mut alert = Alert::new(now_ms, now_ms, Engine::Operational, Severity::Warning);
    alert.set_title(TEST_TITLE);
    alert.set_message(
        "Test message sent by `icsfwd test` to check this destination; no action is needed.",
    );
    alert.set_group("icsfwd test");
    alert.set_sensor_name(&sensor.name);
    alert.sensor.ip = sensor.ip;
    alert.set_sensor_version(env!("CARGO_PKG_VERSION"));
    Event::from(alert)
}

/// What to check when `destination`'s credentials are rejected.
fn credentials_advice(destination: &Destination) -> &'static str {
    match &destination.kind {
        DestinationKind::Hec(_) => {
            "check the HEC token (token, token_file or token_env) and that it is enabled in Splunk"
        }
        DestinationKind::Splunk(s) => match s.auth {
            SplunkAuth::Bearer { .. } => {
                "check the token (token, token_file or token_env) and that it is enabled in Splunk"
            }
            _ => "check username and password (password, password_file or password_env)",
        },
        DestinationKind::Syslog(_) => "check the credentials",
    }
}

const TLS_FIX: &str = "TLS verification failed: set ca_file to the CA that signed Splunk's \
                       certificate, and use the host name the certificate names (verify = false \
                       only for a lab)";
const REFUSED_FIX: &str = "connection refused: check host and port, that Splunk listens there \
                           (HEC enabled?), and the firewall";
const UNREACHABLE_FIX: &str = "cannot connect: check the host name, the port, routing and the \
                               firewall";
const TIMEOUT_FIX: &str = "Splunk did not answer within response_timeout: check its load, or \
                           raise response_timeout";

/// What to fix for `cause` on `destination`: one answer per cause, worded for the kind.
#[must_use]
pub fn fix(destination: &Destination, cause: Cause) -> String {
    let hec = matches!(destination.kind, DestinationKind::Hec(_));
    match cause {
        Cause::Credentials => {
            format!("credentials rejected: {}", credentials_advice(destination))
        }
        Cause::Tls => TLS_FIX.to_owned(),
        Cause::Refused => REFUSED_FIX.to_owned(),
        Cause::Unreachable => UNREACHABLE_FIX.to_owned(),
        Cause::Timeout => TIMEOUT_FIX.to_owned(),
        Cause::Index => {
            let (index, whose) = match &destination.kind {
                DestinationKind::Hec(h) => (
                    h.envelope.index.as_ref().map(|i| i.as_str().to_owned()),
                    "or add it to the token's allowed indexes (Settings › Data inputs › HTTP \
                     Event Collector)",
                ),
                DestinationKind::Splunk(s) => {
                    (s.index.clone(), "or allow the user's role to write to it")
                }
                DestinationKind::Syslog(_) => (None, ""),
            };
            match index {
                Some(index) => {
                    format!(
                        "index missing: create the index \"{index}\" in Splunk {whose}, or fix index"
                    )
                }
                None => format!(
                    "index missing: create the index in Splunk {whose}; icsfwd names none \
                     (no index key), so it is the default index of the token or user"
                ),
            }
        }
        Cause::Capability => {
            "forbidden: give the Splunk user's role the edit_tcp capability".to_owned()
        }
        Cause::AckDisabled => "indexer acknowledgment is off on the HEC token while ack = \
                               true: enable it (useACK) on the token, or set ack = false"
            .to_owned(),
        Cause::Channel => {
            "channel refused: set channel to a GUID (uuidgen), or remove it".to_owned()
        }
        Cause::WrongEndpoint if hec => "what answered is not Splunk's HEC: check urls (scheme, \
                                        host and port; HEC listens on 8088 by default, once \
                                        enabled in Settings › Data inputs › HTTP Event \
                                        Collector › Global Settings)"
            .to_owned(),
        Cause::WrongEndpoint => "what answered is not splunkd's management port: check host \
                                 and port (8089 by default; not the web port 8000 nor HEC's \
                                 8088)"
            .to_owned(),
    }
}

/// What to fix for a failure `reason` (a sender's message) of `destination`, from its words,
/// when no exact [`Cause`] is known (the syslog sender reports none).
#[must_use]
pub fn advice(destination: &Destination, reason: &str) -> Option<String> {
    let lower = reason.to_ascii_lowercase();
    let fix = if lower.contains("relp") && lower.contains("client certificate") {
        "the RELP receiver closed the TLS session at the open: check that client_cert and \
         client_key are signed by the CA it trusts (rsyslog imrelp: tls.cacert) and allowed by \
         its tls.authMode and tls.permittedPeer"
            .to_owned()
    } else if lower.contains("credentials rejected") {
        format!("credentials rejected: {}", credentials_advice(destination))
    } else if lower.contains("tls") || lower.contains("certificate") {
        TLS_FIX.to_owned()
    } else if lower.contains("refused") && lower.contains("cannot connect") {
        REFUSED_FIX.to_owned()
    } else if lower.contains("cannot connect") {
        UNREACHABLE_FIX.to_owned()
    } else if lower.contains("no reply in time") {
        TIMEOUT_FIX.to_owned()
    } else {
        return None;
    };
    Some(fix)
}

/// Sends the test alert to `destination` and writes each step to `out`.
///
/// # Errors
///
/// Writing to `out` failed (the test itself failing is a [`Conclusion::Failed`]).
pub fn run(
    config: &Config,
    destination: &Destination,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    match &destination.kind {
        // RELP's confirmation is the receiver's answer, read like HEC's acks below.
        DestinationKind::Syslog(settings) if !settings.transport.is_relp() => {
            return syslog::run(config, destination, settings, out, options);
        }
        DestinationKind::Syslog(_) | DestinationKind::Hec(_) | DestinationKind::Splunk(_) => {}
    }
    writeln!(
        out,
        "destination {:?} (kind {})",
        destination.name,
        destination.kind.as_str()
    )?;
    describe(config, destination, out)?;
    let mut sender = match sender_for(destination, &config.sensor) {
        Ok(sender) => sender,
        Err(err) => {
            let reason = format!("cannot set up the sender: {err}");
            return fail(out, destination, reason);
        }
    };
    let now_ms = crate::clock::now_ms();
    let event = test_alert(&config.sensor, now_ms);
    writeln!(
        out,
        "sending: {TEST_TITLE:?}, severity Warning, sensor {:?}, event id {}-{now_ms}",
        config.sensor.name, config.sensor.name
    )?;
    let started = Instant::now();
    let outcome = sender.send(&[(0, &event)], started);
    let action = outcome
        .parts
        .first()
        .map_or(Action::Retry { after: None }, |p| p.action.clone());
    let took = started.elapsed();
    if let Some(error) = &outcome.last_error {
        writeln!(out, "reply: {error}")?;
    }
    let cause = outcome.cause;
    match action {
        Action::Delivered if is_relp(destination) => relp_receipt(out, took),
        Action::AwaitingAck if is_relp(destination) => {
            writeln!(
                out,
                "reply: written in {} ms; waiting for the RELP receipt",
                took.as_millis()
            )?;
            wait_for_relp_receipt(sender.as_mut(), destination, out)
        }
        Action::Delivered => {
            writeln!(
                out,
                "reply: HTTP 2xx in {} ms; classified: delivered (received by Splunk)",
                took.as_millis()
            )?;
            writeln!(out, "result: delivered")?;
            Ok(Conclusion::Delivered)
        }
        Action::AwaitingAck => {
            writeln!(
                out,
                "reply: HTTP 2xx with an ackId in {} ms; classified: awaiting ack",
                took.as_millis()
            )?;
            wait_for_ack(sender.as_mut(), destination, out, options)
        }
        Action::Retry { after } => {
            let reason = outcome
                .last_error
                .unwrap_or_else(|| "the request failed".to_owned());
            let after = after.map_or(String::new(), |d| {
                format!(", not before {} s (Retry-After)", d.as_secs())
            });
            writeln!(
                out,
                "classified: retry (the service would retry with backoff{after})"
            )?;
            fail_because(out, destination, reason, cause)
        }
        Action::Park { reason } => {
            writeln!(
                out,
                "classified: park (the service would keep the alerts and alarm)"
            )?;
            fail_because(out, destination, reason, cause)
        }
        Action::DeadLetter { reason } => {
            writeln!(
                out,
                "classified: dead-letter (the service would move the alert to the dead-letter \
                 file)"
            )?;
            fail_because(out, destination, reason, cause)
        }
    }
}

/// Writes the URL(s), the authentication and the TLS settings (never a secret).
fn describe(config: &Config, destination: &Destination, out: &mut dyn Write) -> io::Result<()> {
    match &destination.kind {
        DestinationKind::Hec(hec) => {
            for url in &hec.urls {
                writeln!(out, "url: {url}{}", crate::output::hec::EVENT_PATH)?;
            }
            writeln!(out, "auth: HEC token (not shown)")?;
            if hec.ack {
                writeln!(
                    out,
                    "acks: on (ack_deadline {} s)",
                    hec.ack_deadline.as_secs()
                )?;
            } else {
                writeln!(out, "acks: off (a 200 means received, not indexed)")?;
            }
        }
        DestinationKind::Splunk(splunk) => {
            let host = if splunk.host.contains(':') {
                format!("[{}]", splunk.host)
            } else {
                splunk.host.clone()
            };
            let mut query = format!(
                "host={}&source={}&sourcetype={}",
                percent_encode(&config.sensor.ip.to_string()),
                percent_encode(&splunk.source),
                percent_encode(&splunk.sourcetype)
            );
            if let Some(index) = &splunk.index {
                query.push_str("&index=");
                query.push_str(&percent_encode(index));
            }
            query.push_str("&output_mode=json");
            writeln!(
                out,
                "url: {}://{host}:{}/services/receivers/simple?{query}",
                splunk.scheme.as_str(),
                splunk.port
            )?;
            match &splunk.auth {
                SplunkAuth::Basic { username, .. } => {
                    writeln!(out, "auth: basic, user {username:?} (password not shown)")?;
                }
                SplunkAuth::Session { username, .. } => writeln!(
                    out,
                    "auth: session key from /services/auth/login, user {username:?} (password \
                     not shown)"
                )?,
                SplunkAuth::Bearer { .. } => writeln!(out, "auth: bearer token (not shown)")?,
            }
        }
        DestinationKind::Syslog(syslog) => {
            writeln!(
                out,
                "address: {}:{} over {}",
                syslog.host,
                syslog.port,
                syslog.transport.as_str()
            )?;
        }
    }
    let tls = &destination.tls;
    if tls.verify {
        match &tls.ca_file {
            Some(ca) => writeln!(out, "tls: verification on, CA file {}", ca.display())?,
            None => writeln!(
                out,
                "tls: verification on, CA: the built-in Mozilla roots (no ca_file)"
            )?,
        }
    } else {
        writeln!(
            out,
            "tls: verification OFF (verify = false): anyone on the path can read the alerts \
             and the credentials"
        )?;
    }
    if let Some(client) = &tls.client {
        writeln!(out, "tls: client certificate {}", client.cert.display())?;
    }
    Ok(())
}

/// Polls the ack of the test alert until it reads `true`, the wait ends or the destination's
/// deadline expires it.
fn wait_for_ack(
    sender: &mut dyn Sender,
    destination: &Destination,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    let started = Instant::now();
    let mut polls = 0u32;
    let mut cause = None;
    loop {
        let report = sender.poll_acks(Instant::now());
        polls += 1;
        cause = report.cause.or(cause);
        if !report.indexed.is_empty() {
            writeln!(
                out,
                "ack: true after {} ms ({polls} poll(s)): indexed",
                started.elapsed().as_millis()
            )?;
            writeln!(out, "result: delivered")?;
            return Ok(Conclusion::Delivered);
        }
        if let Some(error) = &report.last_error {
            writeln!(out, "ack poll: {error}")?;
        }
        let expired = !report.expired.is_empty() || sender.pending_acks() == 0;
        if expired || started.elapsed() >= options.ack_wait {
            let reason = format!(
                "the ack did not read true within {} s ({polls} poll(s)): received by HEC but \
                 not confirmed as indexed",
                started.elapsed().as_secs()
            );
            let fix = cause
                .map(|cause| fix(destination, cause))
                .unwrap_or_else(|| {
                    "HEC took the alert but did not confirm it indexed: check the indexers' health \
                 and that a load balancer keeps a channel on one indexer; raise ack_deadline \
                 if Splunk is only slow"
                        .to_owned()
                });
            return conclude(out, reason, Some(fix));
        }
        std::thread::sleep(options.ack_poll_interval);
    }
}

/// Whether `destination` is syslog over RELP, whose confirmation is the receiver's answer.
fn is_relp(destination: &Destination) -> bool {
    matches!(&destination.kind, DestinationKind::Syslog(s) if s.transport.is_relp())
}

fn relp_receipt(out: &mut dyn Write, took: Duration) -> io::Result<Conclusion> {
    writeln!(
        out,
        "RELP receipt: rsp 200 after {} ms: the syslog receiver took the message",
        took.as_millis()
    )?;
    writeln!(out, "result: delivered")?;
    Ok(Conclusion::Delivered)
}

/// Reads the RELP receiver's answers until the test alert's (its RELP receipt), the session
/// breaks, or the destination's response timeout passes.
fn wait_for_relp_receipt(
    sender: &mut dyn Sender,
    destination: &Destination,
    out: &mut dyn Write,
) -> io::Result<Conclusion> {
    let started = Instant::now();
    loop {
        // Each poll waits a few milliseconds for the answer (output::relp::POLL_WAIT).
        let report = sender.poll_acks(Instant::now());
        if !report.indexed.is_empty() {
            return relp_receipt(out, started.elapsed());
        }
        if let Some((_, action)) = report.refused.into_iter().next() {
            let (what, reason) = match action {
                Action::DeadLetter { reason } => (
                    "dead-letter (the service would move the alert to the dead-letter file)",
                    reason,
                ),
                Action::Park { reason } => {
                    ("park (the service would keep the alerts and alarm)", reason)
                }
                _ => (
                    "retry (the service would retry with backoff)",
                    "the RELP receiver refused the message".to_owned(),
                ),
            };
            writeln!(out, "RELP receipt: refused; classified: {what}")?;
            return fail(out, destination, reason);
        }
        if !report.expired.is_empty() || sender.pending_acks() == 0 {
            let reason = report
                .last_error
                .unwrap_or_else(|| "the RELP session ended before the receipt".to_owned());
            return fail(out, destination, reason);
        }
        if started.elapsed() >= destination.timeouts.response {
            let reason = format!(
                "no RELP receipt within the response timeout ({} s): the receiver took the \
                 connection but did not answer; check its load and its logs",
                destination.timeouts.response.as_secs()
            );
            return fail(out, destination, reason);
        }
    }
}

fn fail(out: &mut dyn Write, destination: &Destination, reason: String) -> io::Result<Conclusion> {
    let fix = advice(destination, &reason);
    conclude(out, reason, fix)
}

/// A failure whose `cause` the sender may know exactly; its words are read only if not.
fn fail_because(
    out: &mut dyn Write,
    destination: &Destination,
    reason: String,
    cause: Option<Cause>,
) -> io::Result<Conclusion> {
    let fix = match cause {
        Some(cause) => Some(fix(destination, cause)),
        None => advice(destination, &reason),
    };
    conclude(out, reason, fix)
}

fn conclude(out: &mut dyn Write, reason: String, fix: Option<String>) -> io::Result<Conclusion> {
    writeln!(out, "result: FAILED: {reason}")?;
    if let Some(fix) = &fix {
        writeln!(out, "fix: {fix}")?;
    }
    Ok(Conclusion::Failed { reason, fix })
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
    use crate::config::Origin;

    fn config(destination: &str) -> Config {
        let text = format!(
            "[sensor]\nname = \"s\"\nip = \"10.0.0.5\"\n\n[[destination]]\nname = \"d\"\n\
             {destination}\n\n[[rule]]\nname = \"all\"\nactions = [\"d\"]\n"
        );
        let origin = Origin {
            path: "icsfwd.toml".into(),
            mode: 0o600,
        };
        Config::parse(&text, &origin, &|_| None).unwrap()
    }

    fn hec(extra: &str) -> Config {
        config(&format!(
            "kind = \"hec\"\nurls = [\"https://h:8088\"]\n\
             token = \"11111111-2222-3333-4444-555555555555\"\n{extra}"
        ))
    }

    #[test]
    fn a_token_without_acks_is_told_to_enable_acks_not_to_create_an_index() {
        let config = hec("ack = true");
        let destination = &config.destinations[0];
        // The park reason holds "indexer": the old word match answered "index unknown".
        let reason = "acks requested but the reply has no ackId: enable indexer acknowledgment \
                      (useACK) on the token, or set ack = false";
        let fix = fix(destination, Cause::AckDisabled);
        assert!(fix.contains("useACK"), "{fix}");
        assert!(
            !fix.contains("index missing") && !fix.contains("create the index"),
            "{fix}"
        );
        assert_eq!(advice(destination, reason), None, "no guess from the words");
    }

    #[test]
    fn the_timeout_fix_names_the_documented_key() {
        let config = hec("");
        let destination = &config.destinations[0];
        let doc = include_str!("../../docs/configuration.md");
        for fix in [
            fix(destination, Cause::Timeout),
            advice(destination, "no reply in time from https://h:8088: timeout").unwrap(),
        ] {
            assert!(fix.contains("response_timeout"), "{fix}");
            assert!(!fix.contains("timeout_response"), "{fix}");
        }
        assert!(
            doc.contains("| `response_timeout` |"),
            "the key is documented"
        );
    }

    #[test]
    fn the_index_fix_names_the_configured_index_and_the_kind_s_remedy() {
        let named = hec("index = \"ics\"");
        let fix_named = fix(&named.destinations[0], Cause::Index);
        assert!(
            fix_named.starts_with(
                "index missing: create the index \"ics\" in Splunk or add it to the token's \
                 allowed indexes"
            ),
            "{fix_named}"
        );
        let unnamed = hec("");
        let fix_unnamed = fix(&unnamed.destinations[0], Cause::Index);
        assert!(fix_unnamed.contains("default index"), "{fix_unnamed}");
        let splunk = config(
            "kind = \"splunk\"\nhost = \"s\"\nusername = \"u\"\npassword = \"p\"\nindex = \"ot\"",
        );
        let fix_splunk = fix(&splunk.destinations[0], Cause::Index);
        assert!(fix_splunk.contains("\"ot\""), "{fix_splunk}");
        assert!(fix_splunk.contains("user's role"), "{fix_splunk}");
    }

    #[test]
    fn a_wrong_endpoint_is_explained_for_the_kind() {
        let h = hec("");
        assert!(fix(&h.destinations[0], Cause::WrongEndpoint).contains("not Splunk's HEC"));
        let s = config("kind = \"splunk\"\nhost = \"s\"\nusername = \"u\"\npassword = \"p\"");
        assert!(
            fix(&s.destinations[0], Cause::WrongEndpoint).contains("not splunkd's management port")
        );
    }
}
