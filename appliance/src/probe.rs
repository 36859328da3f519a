//! `icsfwd test <destination>`: the "send test message" button of the sensor's forwarding-rule
//! form.
//!
//! What it is: [`run`] builds the destination's sender exactly as the service does
//! ([`Destination::sender`]), sends one clearly marked test alert ([`test_alert`]: title
//! [`TEST_TITLE`], severity Warning, the configured sensor, the current time, a unique id) and
//! writes what happened, step by step, to the given writer: the URL(s) it sends to, the
//! authentication used, TLS verification and the CA, the reply as classified by
//! [`classify`](crate::destination::classify), for HEC with acks the ack polls until `true` or a
//! deadline, and on failure the precise error and what to fix: [`fix`] for a cause the sender
//! knows exactly ([`Cause`](crate::destination::classify::Cause), from the status, the HEC code or the transport failure),
//! [`advice`] from the message's words otherwise. Each kind's steps and words are in its folder
//! (`destination/<kind>/probe.rs`); a `syslog` destination has its own
//! ([`syslog::probe`](crate::destination::syslog::probe)): its transport, the TLS session and whether the receiver accepted it, and
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
//! - A success is shown with the HTTP status the server answered (`HTTP 200`, `HTTP 201`)
//!   and the action it was classified as.
//! - A destination with several hosts (`urls`, `hosts`) is tested on each of them in turn,
//!   each with its own steps; the test succeeds only when every host took the test alert, and
//!   a failure names the hosts that failed.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::io::{self, Write};

use icsfwd_core::alert::{Alert, Engine, Event, Severity};

use crate::config::{self, Config};
use crate::destination::Destination;
use crate::destination::probe::TestAlert;
pub(crate) use crate::destination::probe::{Conclusion, ProbeOptions, TEST_TITLE};

/// A destination name the configuration does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownDestination {
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
pub(crate) fn find_destination<'a>(
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
pub(crate) fn test_alert(sensor: &config::Sensor, now_ms: u64) -> Event {
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

/// Sends the test alert to `destination` and writes each step to `out`: the kind's steps
/// ([`Destination::probe`]).
///
/// # Errors
///
/// Writing to `out` failed (the test itself failing is a [`Conclusion::Failed`]).
pub(crate) fn run(
    config: &Config,
    destination: &Destination,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    let now_ms = crate::clock::now_ms();
    let event = test_alert(&config.sensor, now_ms);
    let alert = TestAlert::new(event, &config.sensor.name, now_ms);
    destination.probe(config.sensor.ip, &alert, out, options)
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::config::{Config, Origin};
        use crate::probe::{TEST_TITLE, find_destination, test_alert};
        use icsfwd_core::alert::{Event, Severity};

        let text = r#"
        [sensor]
        name = "sensor-plant-a"
        ip = "10.20.0.5"

        [[destination]]
        name = "soc-hec"
        kind = "hec"
        urls = ["https://splunk.example:8088"]
        token_env = "HEC_TOKEN"

        [[rule]]
        name = "everything"
        actions = ["soc-hec"]
        "#;
        let origin = Origin {
            path: "icsfwd.toml".into(),
            mode: 0o600,
        };
        let env = |_: &str| Some("11111111-2222-3333-4444-555555555555".to_owned());
        let config = Config::parse(text, &origin, &env).map_err(|p| format!("{p:?}"))?;
        let unknown = find_destination(&config, "soc").unwrap_err();
        assert_eq!(
            unknown.to_string(),
            r#"no destination named "soc" in the configuration; defined: soc-hec"#
        );
        let Event::Alert(alert) = test_alert(&config.sensor, 1_700_000_000_000) else {
            unreachable!()
        };
        assert_eq!(alert.title.as_str(), TEST_TITLE);
        assert_eq!(alert.severity, Severity::Warning);
        assert_eq!(alert.sensor.name.as_str(), "sensor-plant-a");
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
