//! `icsfwd test` for a `syslog` destination: syslog's own steps and words (no HTTP, no
//! Splunk).
//!
//! What it is: [`run`] builds the destination's [`SyslogSender`] exactly as the service does
//! (from its [`Syslog`] settings, TLS and timeouts), says what it connects to and what confirmation the destination can
//! give ([`confirmation`]: none for UDP, the receiver's TCP acknowledgement for tcp and tls
//! with `confirm = "tcp-ack"`, none beyond the write with `confirm = "write"`), sends the test
//! alert, shows the connection and, for TLS, the session — version, cipher suite, whether a
//! client certificate was offered, and how the receiver accepted or refused it — then, with
//! `tcp-ack`, waits for the confirmation. A failure ends with the fix ([`advice`]).
//!
//! Over RELP the steps are the HTTP kinds' (address, TLS, the send classified), and the
//! confirmation is the receiver's answer (the "RELP receipt"), read like HEC's acks.
//!
//! What it guarantees: as [`crate::probe`] — no spool, no secret, bounded in time (the
//! confirmation wait by [`ProbeOptions::ack_wait`], the RELP receipt by the response
//! timeout). The words match what the destination
//! proves: "delivered" only for a TCP acknowledgement, "sent" or "written" otherwise.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::relp::RelpSender;
use super::sender::{CONFIRM_POLL, SyslogSender};
use super::session::SessionInfo;
use super::{Confirm, Syslog, Transport};
use crate::destination::classify::Action;
use crate::destination::probe::{self, Conclusion, ProbeOptions, Sent, TestAlert, Words, header};
use crate::destination::{Destination, Sender as _, Tls};

/// What confirmation a syslog destination gives, in one sentence.
#[must_use]
pub(crate) fn confirmation(options: &Syslog) -> String {
    match (options.transport, options.confirm) {
        (Transport::Udp, _) => "none: UDP has no acknowledgement; a datagram the kernel took \
                                counts as delivered"
            .to_owned(),
        (Transport::Tcp | Transport::Tls, Confirm::TcpAck) => format!(
            "the receiver's TCP acknowledgement (confirm = \"tcp-ack\"): a record leaves the \
             spool once the receiver's TCP acknowledged every byte of it and the connection \
             stayed open {} ms after; a connection that breaks first re-sends it (syslog has no \
             acknowledgement from the receiving program)",
            options.settle.as_millis()
        ),
        (Transport::Relp | Transport::RelpTls, _) => {
            "the receiver's RELP answer: a record leaves the spool once the receiver answered \
             `rsp 200` for it; a session that breaks first re-sends it"
                .to_owned()
        }
        (Transport::Tcp | Transport::Tls, Confirm::Write) => {
            "none beyond the write (confirm = \"write\"): a record counts as delivered once \
             the kernel took it; a connection that breaks may lose it (counted as possible \
             loss)"
                .to_owned()
        }
    }
}

/// What to fix for a failure `reason` of a syslog destination, when it is recognised.
#[must_use]
pub(crate) fn advice(reason: &str) -> Option<String> {
    let lower = reason.to_ascii_lowercase();
    let fix = if lower.contains("requires a client certificate") {
        "set client_cert and client_key to a certificate (and its key) signed by a CA the \
         receiver trusts: the receiver refused the session without one"
    } else if lower.contains("did not accept the client certificate") {
        "check client_cert: signed by a CA the receiver trusts, valid now, and a client the \
         receiver permits (its permitted peers)"
    } else if lower.contains("refused the tls session") {
        "check the receiver's TLS settings (protocol versions, cipher suites) against \
         icsfwd's (TLS 1.2 and 1.3)"
    } else if lower.contains("tls") || lower.contains("certificate") {
        "TLS verification failed: set ca_file to the CA that signed the receiver's \
         certificate, and use the host name the certificate names (verify = false only for \
         a lab)"
    } else if lower.contains("cannot connect") && lower.contains("refused") {
        "connection refused: check host and port (514 for tcp, 6514 for tls), that the \
         receiver listens there with this transport, and the firewall"
    } else if lower.contains("cannot connect") {
        "cannot connect: check the host name, the port, routing and the firewall"
    } else if lower.contains("connection") {
        "the receiver dropped the connection: check its log (it may accept only some clients, \
         or be restarting)"
    } else if lower.contains("acknowledge") {
        "the receiver's TCP did not take the message: check that the receiver reads (its load, \
         its log) and the network path"
    } else {
        return None;
    };
    Some(fix.to_owned())
}

/// Runs the test of the syslog destination `destination` (`syslog` its settings) and writes
/// each step to `out`.
///
/// # Errors
///
/// Writing to `out` failed.
pub(crate) fn run(
    destination: &Destination,
    syslog: &Syslog,
    alert: &TestAlert,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    header(destination, out)?;
    let hosts: Vec<String> = syslog.hosts.iter().map(ToString::to_string).collect();
    probe::each_host(out, &hosts, |i, out| {
        let mut one = syslog.clone();
        one.hosts = syslog.hosts.get(i).cloned().into_iter().collect();
        if one.transport.is_relp() {
            run_relp(destination, &one, alert, out)
        } else {
            run_stream(destination, &one, alert, out, options)
        }
    })
}

/// The test of one host over tcp, tls or udp (`syslog` lists only it).
fn run_stream(
    destination: &Destination,
    syslog: &Syslog,
    alert: &TestAlert,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    describe(syslog, &destination.tls, out)?;
    let mut sender = match SyslogSender::new(syslog, &destination.tls, &destination.timeouts) {
        Ok(sender) => sender,
        Err(err) => return fail(out, format!("cannot set up the sender: {err}")),
    };
    alert.announce(out)?;
    let started = Instant::now();
    let outcome = sender.send(&[(0, &alert.event)], started);
    if let Some(info) = sender.session() {
        session(info, out)?;
    }
    let action = outcome
        .parts
        .first()
        .map_or(Action::Retry { after: None }, |p| p.action.clone());
    let reason = outcome.last_error;
    let event_id = &alert.event_id;
    match action {
        Action::AwaitingAck => confirm(&mut sender, event_id, out, options),
        Action::Delivered => {
            let how = if syslog.transport == Transport::Udp {
                "sent: one datagram, taken by the kernel (UDP gives no confirmation)"
            } else {
                "written: taken by the kernel (confirm = \"write\": no acknowledgement awaited)"
            };
            writeln!(out, "{how}")?;
            writeln!(
                out,
                "result: sent, not confirmed: look for event id {event_id} at the receiver"
            )?;
            Ok(Conclusion::Delivered)
        }
        Action::Park { reason } => {
            writeln!(
                out,
                "classified: park (the service would keep the alerts and alarm)"
            )?;
            fail(out, reason)
        }
        Action::Retry { .. } => {
            writeln!(
                out,
                "classified: retry (the service would keep the alerts and retry with backoff)"
            )?;
            fail(out, reason.unwrap_or_else(|| "the send failed".to_owned()))
        }
        Action::DeadLetter { reason } => {
            writeln!(
                out,
                "classified: dead-letter (the service would move the alert to the dead-letter \
                 file)"
            )?;
            fail(out, reason)
        }
    }
}

/// The address, the transport, TLS settings for tls, and the confirmation it can give.
fn describe(options: &Syslog, tls: &Tls, out: &mut dyn Write) -> io::Result<()> {
    for endpoint in &options.hosts {
        writeln!(
            out,
            "address: {endpoint} over {}",
            options.transport.as_str()
        )?;
    }
    if options.transport == Transport::Tls {
        if tls.verify {
            writeln!(out, "tls: verification on, trust: {}", tls.trust.describe())?;
        } else {
            writeln!(
                out,
                "tls: verification OFF (verify = false): anyone on the path can read the alerts"
            )?;
        }
        match &tls.client {
            Some(client) => writeln!(out, "tls: client certificate {}", client.cert.display())?,
            None => writeln!(out, "tls: no client certificate (client_cert not set)")?,
        }
    }
    writeln!(out, "confirmation: {}", confirmation(options))
}

/// The connection, and for TLS the session and how the receiver accepted it.
fn session(info: &SessionInfo, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "connected: {} in {} ms",
        info.peer,
        info.connect_time.as_millis()
    )?;
    if let Some(tls) = &info.tls {
        let certificate = if tls.client_certificate {
            "client certificate offered"
        } else {
            "no client certificate"
        };
        writeln!(
            out,
            "tls: {} ({}), handshake in {} ms, {certificate}; {}",
            tls.version,
            tls.cipher_suite,
            tls.handshake_time.as_millis(),
            tls.acceptance
        )?;
    }
    Ok(())
}

/// Polls the receiver's TCP acknowledgement of the test alert until it is confirmed, the
/// connection breaks, or the wait ends.
fn confirm(
    sender: &mut SyslogSender,
    event_id: &str,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    writeln!(
        out,
        "written: waiting for the receiver's TCP acknowledgement"
    )?;
    let started = Instant::now();
    let pause = options.ack_poll_interval.min(CONFIRM_POLL * 10);
    loop {
        let report = sender.poll_acks(Instant::now());
        if !report.indexed.is_empty() {
            writeln!(
                out,
                "confirmed: the receiver's TCP acknowledged the message and the connection \
                 stayed open; {} ms after it was written",
                started.elapsed().as_millis()
            )?;
            writeln!(
                out,
                "result: delivered (to the receiver's TCP; look for event id {event_id} in its \
                 log)"
            )?;
            return Ok(Conclusion::Delivered);
        }
        if !report.expired.is_empty() {
            let reason = report.last_error.unwrap_or_else(|| {
                "the connection broke before the receiver confirmed the message".to_owned()
            });
            return fail(out, reason);
        }
        if started.elapsed() >= options.ack_wait {
            let reason = format!(
                "the receiver's TCP did not acknowledge the message within {} s",
                started.elapsed().as_secs()
            );
            return fail(out, reason);
        }
        std::thread::sleep(pause);
    }
}

/// The test over RELP of one host (`syslog` lists only it): the address and TLS settings, the send classified as for the HTTP
/// kinds, then the receiver's answer (the RELP receipt).
fn run_relp(
    destination: &Destination,
    syslog: &Syslog,
    alert: &TestAlert,
    out: &mut dyn Write,
) -> io::Result<Conclusion> {
    for endpoint in &syslog.hosts {
        writeln!(
            out,
            "address: {endpoint} over {}",
            syslog.transport.as_str()
        )?;
    }
    probe::describe_tls(&destination.tls, out)?;
    let mut sender = match RelpSender::new(syslog, &destination.tls, &destination.timeouts) {
        Ok(sender) => sender,
        Err(err) => {
            let reason = format!("cannot set up the sender: {err}");
            return probe::fail(out, destination, reason);
        }
    };
    match probe::send(destination, &mut sender, alert, out)? {
        Sent::Ended(conclusion) => Ok(conclusion),
        Sent::Answered {
            delivered: true,
            took,
            ..
        } => relp_receipt(out, took),
        Sent::Answered {
            delivered: false,
            took,
            ..
        } => {
            writeln!(
                out,
                "reply: written in {} ms; waiting for the RELP receipt",
                took.as_millis()
            )?;
            wait_for_relp_receipt(&mut sender, destination, out)
        }
    }
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
    sender: &mut RelpSender,
    destination: &Destination,
    out: &mut dyn Write,
) -> io::Result<Conclusion> {
    let started = Instant::now();
    loop {
        // Each poll waits a few milliseconds for the answer (relp::POLL_WAIT).
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
                Action::Delivered | Action::AwaitingAck | Action::Retry { .. } => (
                    "retry (the service would retry with backoff)",
                    "the RELP receiver refused the message".to_owned(),
                ),
            };
            writeln!(out, "RELP receipt: refused; classified: {what}")?;
            return probe::fail(out, destination, reason);
        }
        if !report.expired.is_empty() || sender.pending_acks() == 0 {
            let reason = report
                .last_error
                .unwrap_or_else(|| "the RELP session ended before the receipt".to_owned());
            return probe::fail(out, destination, reason);
        }
        if started.elapsed() >= destination.timeouts.response {
            let reason = format!(
                "no RELP receipt within the response timeout ({} s): the receiver took the \
                 connection but did not answer; check its load and its logs",
                destination.timeouts.response.as_secs()
            );
            return probe::fail(out, destination, reason);
        }
    }
}

/// Syslog's words for the fixes that depend on the kind (a syslog receiver has no
/// credentials nor index; what answered is judged by the TLS session and the transport).
pub(crate) fn words() -> Words {
    Words {
        credentials: "check the credentials",
        index: None,
        index_whose: "",
        wrong_endpoint: "what answered is not a syslog receiver: check host, port and \
                         transport",
    }
}

fn fail(out: &mut dyn Write, reason: String) -> io::Result<Conclusion> {
    writeln!(out, "result: FAILED: {reason}")?;
    let fix = advice(&reason);
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

    use std::io::Read as _;
    use std::net::{TcpListener, UdpSocket};
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::config::{Config, Origin};
    use crate::destination::probe::TEST_TITLE;

    fn config(body: &str) -> Config {
        let text = format!(
            "[sensor]\nname = \"s1\"\nip = \"10.0.0.1\"\n\n[[destination]]\nname = \"siem\"\n\
             kind = \"syslog\"\nhost = \"127.0.0.1\"\n{body}\nconnect_timeout = \"2s\"\n\n\
             [[rule]]\nname = \"all\"\nactions = [\"siem\"]\n"
        );
        let origin = Origin {
            path: PathBuf::from("icsfwd.toml"),
            mode: 0o600,
        };
        Config::parse(&text, &origin, &|_| None).unwrap_or_else(|p| panic!("{p}"))
    }

    fn probe(config: &Config) -> (Conclusion, String) {
        let destination = config.destination("siem").unwrap();
        let crate::destination::DestinationKind::Syslog(syslog) = &destination.kind else {
            panic!("a syslog destination");
        };
        let mut out = Vec::new();
        let options = ProbeOptions {
            ack_wait: Duration::from_secs(10),
            ack_poll_interval: Duration::from_millis(10),
        };
        let now_ms = crate::clock::now_ms();
        let event = crate::probe::test_alert(&config.sensor, now_ms);
        let alert = TestAlert::new(event, &config.sensor.name, now_ms);
        let conclusion = run(destination, syslog, &alert, &mut out, &options).unwrap();
        let shown = String::from_utf8(out).unwrap();
        for word in ["HTTP", "Splunk", "HEC", "2xx"] {
            assert!(!shown.contains(word), "{word} in:\n{shown}");
        }
        (conclusion, shown)
    }

    #[test]
    fn over_tcp_the_test_waits_for_the_receivers_tcp_acknowledgement() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reader = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut text = String::new();
            drop(stream.read_to_string(&mut text));
            text
        });
        let config = config(&format!("port = {port}\ntransport = \"tcp\""));
        let (conclusion, shown) = probe(&config);
        assert_eq!(conclusion, Conclusion::Delivered, "{shown}");
        assert!(shown.contains("address: 127.0.0.1:"), "{shown}");
        assert!(shown.contains("over tcp"), "{shown}");
        assert!(
            shown.contains("confirmation: the receiver's TCP acknowledgement"),
            "{shown}"
        );
        assert!(
            shown.contains("confirmed: the receiver's TCP acknowledged"),
            "{shown}"
        );
        assert!(shown.contains("result: delivered"), "{shown}");
        let received = reader.join().unwrap();
        assert!(received.contains(TEST_TITLE), "{received}");
    }

    #[test]
    fn over_udp_the_test_says_nothing_can_be_confirmed() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let config = config(&format!("port = {port}\ntransport = \"udp\""));
        let (conclusion, shown) = probe(&config);
        assert_eq!(conclusion, Conclusion::Delivered, "{shown}");
        assert!(
            shown.contains("confirmation: none: UDP has no acknowledgement"),
            "{shown}"
        );
        assert!(shown.contains("result: sent, not confirmed"), "{shown}");
        assert!(!shown.contains("result: delivered"), "{shown}");
    }

    #[test]
    fn nothing_listening_fails_with_the_fix() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = config(&format!("port = {port}\ntransport = \"tcp\""));
        let (conclusion, shown) = probe(&config);
        let Conclusion::Failed { reason, fix } = conclusion else {
            panic!("{shown}");
        };
        assert!(reason.contains("cannot connect"), "{reason}");
        assert!(fix.unwrap().starts_with("connection refused"), "{shown}");
    }

    #[test]
    fn advice_names_the_client_certificate_keys_for_a_refused_session() {
        let refused = "the syslog receiver r:1 refused the TLS session (TLS alert \
                       certificate_required): it probably requires a client certificate; set \
                       client_cert and client_key";
        assert!(
            advice(refused)
                .unwrap()
                .contains("client_cert and client_key")
        );
        let rejected = "the syslog receiver r:1 refused the TLS session (TLS alert unknown_ca): \
                        it did not accept the client certificate /c.pem; check …";
        assert!(advice(rejected).unwrap().starts_with("check client_cert"));
        assert_eq!(advice("something else"), None);
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::syslog::probe::advice;

        let reason = "the syslog receiver siem:6514 refused the TLS session (TLS alert \
            certificate_required): it probably requires a client certificate; set client_cert and \
            client_key";
        assert!(
            advice(reason)
                .unwrap()
                .starts_with("set client_cert and client_key")
        );
    }
}
