//! The pieces of `icsfwd test` every destination kind shares: the test alert, how a test
//! ends, the common steps after the send (classification, advice) and the TLS lines. Each
//! kind's own steps and words are in its folder (`hec/probe.rs`, `splunk/probe.rs`,
//! `syslog/probe.rs`); [`crate::probe`] is the command around them.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::io::{self, Write};
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;

use super::classify::{Action, Cause};
use super::proxy::{Proxy, Routes};
use super::{Destination, Sender, Tls};

/// The title of the test alert.
pub const TEST_TITLE: &str = "icsfwd test message";

/// Settings of a test that are not in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProbeOptions {
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
pub(crate) enum Conclusion {
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

/// The test alert of one run, with what the steps print about it.
#[derive(Debug, Clone)]
pub(crate) struct TestAlert {
    /// The alert.
    pub event: Event,
    /// The configured sensor's name.
    pub sensor: String,
    /// Its event id, `<sensor>-<id>`, to search for at the receiver.
    pub event_id: String,
}

impl TestAlert {
    /// The test alert `event`, sent at `now_ms` on behalf of the sensor `sensor`.
    #[must_use]
    pub(crate) fn new(event: Event, sensor: &str, now_ms: u64) -> Self {
        Self {
            event,
            sensor: sensor.to_owned(),
            event_id: format!("{sensor}-{now_ms}"),
        }
    }

    /// Writes the `sending:` step.
    pub(crate) fn announce(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "sending: {TEST_TITLE:?}, severity Warning, sensor {:?}, event id {}",
            self.sensor, self.event_id
        )
    }
}

/// What a kind's words are for the causes whose fix depends on the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Words {
    /// What to check when credentials are rejected.
    pub(crate) credentials: &'static str,
    /// The index the destination names, if any.
    pub(crate) index: Option<String>,
    /// Whose setting lets the index be written to.
    pub(crate) index_whose: &'static str,
    /// What to check when what answered is not the expected endpoint.
    pub(crate) wrong_endpoint: &'static str,
}

pub(crate) const TLS_FIX: &str = "TLS verification failed: set ca_file to the CA that signed \
                                  Splunk's certificate, and use the host name the certificate \
                                  names (verify = false only for a lab)";
const REFUSED_FIX: &str = "connection refused: check host and port, that Splunk listens there \
                           (HEC enabled?), and the firewall";
const UNREACHABLE_FIX: &str = "cannot connect: check the host name, the port, routing and the \
                               firewall";
const PROXY_FIX: &str = "the proxy failed, not the destination: check `proxy` (host and port) \
                         and that the proxy runs; a 407 needs proxy_credentials_file, a 403 a \
                         proxy rule that allows CONNECT to the destination's host and port";
const TIMEOUT_FIX: &str = "Splunk did not answer within response_timeout: check its load, or \
                           raise response_timeout";

/// What to fix for `cause` on `destination`: one answer per cause, worded for the kind.
#[must_use]
pub(crate) fn fix(destination: &Destination, cause: Cause) -> String {
    let words = destination.kind.probe_words();
    match cause {
        Cause::Credentials => format!("credentials rejected: {}", words.credentials),
        Cause::Tls => TLS_FIX.to_owned(),
        Cause::Refused => REFUSED_FIX.to_owned(),
        Cause::Unreachable => UNREACHABLE_FIX.to_owned(),
        Cause::Timeout => TIMEOUT_FIX.to_owned(),
        Cause::Index => match words.index {
            Some(index) => format!(
                "index missing: create the index \"{index}\" in Splunk {}, or fix index",
                words.index_whose
            ),
            None => format!(
                "index missing: create the index in Splunk {}; icsfwd names none (no index \
                 key), so it is the default index of the token or user",
                words.index_whose
            ),
        },
        Cause::Capability => {
            "forbidden: give the Splunk user's role the edit_tcp capability".to_owned()
        }
        Cause::AckDisabled => "indexer acknowledgment is off on the HEC token while ack = \
                               true: enable it (useACK) on the token, or set ack = false"
            .to_owned(),
        Cause::Channel => {
            "channel refused: set channel to a GUID (uuidgen), or remove it".to_owned()
        }
        Cause::WrongEndpoint => words.wrong_endpoint.to_owned(),
    }
}

/// What to fix for a failure `reason` (a sender's message) of `destination`, from its words,
/// when no exact [`Cause`] is known (the syslog sender reports none).
#[must_use]
pub(crate) fn advice(destination: &Destination, reason: &str) -> Option<String> {
    let lower = reason.to_ascii_lowercase();
    let fix = if lower.contains("relp") && lower.contains("client certificate") {
        "the RELP receiver closed the TLS session at the open: check that client_cert and \
         client_key are signed by the CA it trusts (rsyslog imrelp: tls.cacert) and allowed by \
         its tls.authMode and tls.permittedPeer"
            .to_owned()
    } else if is_proxy_failure(reason) {
        PROXY_FIX.to_owned()
    } else if lower.contains("credentials rejected") {
        format!(
            "credentials rejected: {}",
            destination.kind.probe_words().credentials
        )
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

/// Whether `reason` is a proxy's own failure (see [`crate::destination::http`]): the
/// proxy refused, could not be reached or resolved, or refused `CONNECT`.
fn is_proxy_failure(reason: &str) -> bool {
    let lower = reason.to_ascii_lowercase();
    lower.contains("proxy ")
        && [
            "refused the connection",
            " to connect ",
            "gave no answer to connect",
            "its host name does not resolve",
            "cannot connect to the proxy",
        ]
        .iter()
        .any(|words| lower.contains(words))
}

/// How requests to each of `urls` travel with `proxy`: `path: direct` or `path: via proxy
/// host:port`, per URL when there are several.
pub(crate) fn describe_path(proxy: &Proxy, urls: &[String], out: &mut dyn Write) -> io::Result<()> {
    let routes = match Routes::resolve(proxy, |name| std::env::var(name).ok()) {
        Ok(routes) => routes,
        // The sender's setup reports it, with its fix.
        Err(_) => return Ok(()),
    };
    let path = |url: &str| match routes.hop_for(url) {
        Some(hop) => format!("via {hop}"),
        None => "direct".to_owned(),
    };
    match urls {
        [one] => writeln!(out, "path: {}", path(one)),
        many => {
            for url in many {
                writeln!(out, "path: {url}: {}", path(url))?;
            }
            Ok(())
        }
    }
}

/// The first step of every test: which destination, of which kind.
pub(crate) fn header(destination: &Destination, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "destination {:?} (kind {})",
        destination.name,
        destination.kind.as_str()
    )
}

/// The TLS settings (never a secret).
pub(crate) fn describe_tls(tls: &Tls, out: &mut dyn Write) -> io::Result<()> {
    if tls.verify {
        writeln!(out, "tls: verification on, trust: {}", tls.trust.describe())?;
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

/// Where the test stands after the send.
pub(crate) enum Sent {
    /// The destination took the test alert: delivered, or awaiting its confirmation.
    Answered {
        /// Confirmed already (`Delivered`), else `AwaitingAck`.
        delivered: bool,
        /// How long the send took.
        took: Duration,
        /// The HTTP status of the reply (`hec`, `splunk`).
        status: Option<u16>,
    },
    /// The test ended (classified retry, park or dead-letter), its steps written.
    Ended(Conclusion),
}

/// Sends the test alert through `sender` and writes the reply; a failure is classified and
/// ends the test here, with the fix.
pub(crate) fn send(
    destination: &Destination,
    sender: &mut dyn Sender,
    alert: &TestAlert,
    out: &mut dyn Write,
) -> io::Result<Sent> {
    alert.announce(out)?;
    let started = Instant::now();
    let outcome = sender.send(&[(0, &alert.event)], started);
    let action = outcome
        .parts
        .first()
        .map_or(Action::Retry { after: None }, |p| p.action.clone());
    let took = started.elapsed();
    if let Some(error) = &outcome.last_error {
        writeln!(out, "reply: {error}")?;
    }
    let cause = outcome.cause;
    let status = outcome.status;
    let ended = match action {
        Action::Delivered => {
            return Ok(Sent::Answered {
                delivered: true,
                took,
                status,
            });
        }
        Action::AwaitingAck => {
            return Ok(Sent::Answered {
                delivered: false,
                took,
                status,
            });
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
            fail_because(out, destination, reason, cause)?
        }
        Action::Park { reason } => {
            writeln!(
                out,
                "classified: park (the service would keep the alerts and alarm)"
            )?;
            fail_because(out, destination, reason, cause)?
        }
        Action::DeadLetter { reason } => {
            writeln!(
                out,
                "classified: dead-letter (the service would move the alert to the dead-letter \
                 file)"
            )?;
            fail_because(out, destination, reason, cause)?
        }
    };
    Ok(Sent::Ended(ended))
}

/// A failure, with the fix its words suggest.
pub(crate) fn fail(
    out: &mut dyn Write,
    destination: &Destination,
    reason: String,
) -> io::Result<Conclusion> {
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
        _ if is_proxy_failure(&reason) => Some(PROXY_FIX.to_owned()),
        Some(cause) => Some(fix(destination, cause)),
        None => advice(destination, &reason),
    };
    conclude(out, reason, fix)
}

/// The last steps: the result and, when known, the fix.
pub(crate) fn conclude(
    out: &mut dyn Write,
    reason: String,
    fix: Option<String>,
) -> io::Result<Conclusion> {
    writeln!(out, "result: FAILED: {reason}")?;
    if let Some(fix) = &fix {
        writeln!(out, "fix: {fix}")?;
    }
    Ok(Conclusion::Failed { reason, fix })
}

/// The end of an HTTP kind's test once the destination took the alert (`status` its answer,
/// a 2xx): delivered, or an ack id whose ack is then polled until `true` or the wait ends.
pub(crate) fn answered_over_http(
    sender: &mut dyn Sender,
    destination: &Destination,
    (delivered, took, status): (bool, Duration, Option<u16>),
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    // Every HTTP sender reports the status it read; "2xx" only if one ever did not.
    let status = status.map_or_else(|| "2xx".to_owned(), |code| code.to_string());
    if delivered {
        writeln!(
            out,
            "reply: HTTP {status} in {} ms; classified: delivered (received by Splunk)",
            took.as_millis()
        )?;
        writeln!(out, "result: delivered")?;
        return Ok(Conclusion::Delivered);
    }
    writeln!(
        out,
        "reply: HTTP {status} with an ackId in {} ms; classified: awaiting ack",
        took.as_millis()
    )?;
    wait_for_ack(sender, destination, out, options)
}

/// Tests each of a destination's `hosts` (their names, in list order) with `one`, when it
/// lists several: a heading per host with its steps indented below it, then the summary
/// (delivered when every host took the test alert, else which failed). With one host, just
/// `one`, as before failover existed.
pub(crate) fn each_host(
    out: &mut dyn Write,
    hosts: &[String],
    mut one: impl FnMut(usize, &mut dyn Write) -> io::Result<Conclusion>,
) -> io::Result<Conclusion> {
    if hosts.len() <= 1 {
        return one(0, out);
    }
    let mut failed = Vec::new();
    let mut first_fix = None;
    for (i, host) in hosts.iter().enumerate() {
        writeln!(out, "host {} of {}: {host}", i + 1, hosts.len())?;
        let mut indented = Indented {
            out: &mut *out,
            line_start: true,
        };
        if let Conclusion::Failed { reason, fix } = one(i, &mut indented)? {
            failed.push(format!("{host}: {reason}"));
            first_fix = first_fix.or(fix);
        }
    }
    if failed.is_empty() {
        writeln!(
            out,
            "result: delivered by each of the {} hosts",
            hosts.len()
        )?;
        return Ok(Conclusion::Delivered);
    }
    let reason = format!(
        "{} of {} hosts failed (the service fails over to the others): {}",
        failed.len(),
        hosts.len(),
        failed.join("; ")
    );
    conclude(out, reason, first_fix)
}

/// A writer that indents every line written through it by two spaces.
struct Indented<'a> {
    out: &'a mut dyn Write,
    line_start: bool,
}

impl Write for Indented<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for line in buf.split_inclusive(|&b| b == b'\n') {
            if self.line_start {
                self.out.write_all(b"  ")?;
            }
            self.out.write_all(line)?;
            self.line_start = line.ends_with(b"\n");
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
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

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]
    use super::*;
    use crate::config::{Config, Origin};

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
        let doc = include_str!("../../../docs/configuration.md");
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

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::probe::{Conclusion, ProbeOptions};
        use std::time::Duration;

        assert_eq!(ProbeOptions::default().ack_wait, Duration::from_secs(60));
        let failed = Conclusion::Failed {
            reason: "refused".into(),
            fix: None,
        };
        assert_ne!(failed, Conclusion::Delivered);
    }
}
