//! Shared set-up of the output tests: a TLS emulator on 127.0.0.1 with its CA in a file,
//! events, and the "no secret in any error" check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use icsfwd::testing::destination::Outcome;
use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::{self, Timeouts};
use icsfwd_core::alert::{Alert, Event};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator, Transport};
use icsfwd_sim::splunk::hec::Token;
use icsfwd_sim::splunk::splunkd::{BearerToken, User};
use icsfwd_sim::splunk::tls::TlsMaterial;

pub const HEC_TOKEN: &str = "8a1f6c2e-6b0d-4c3e-9f5a-1d2e3f4a5b6c";
pub const ACK_TOKEN: &str = "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b";
pub const USER: &str = "icsfwd";
pub const PASSWORD: &str = "pw-Zx9!q#7-secret";
pub const BEARER: &str = "eyJraWQiOiJzcGx1bmsuc2VjcmV0IiwiYWxnIjoiSFM1MTIifQ.bearer-secret";

/// Every secret the tests use: none may appear in an error string.
pub const SECRETS: [&str; 4] = [HEC_TOKEN, ACK_TOKEN, PASSWORD, BEARER];

/// An emulator over TLS and the CA file that verifies it.
pub struct Tls {
    pub material: TlsMaterial,
    pub ca_file: PathBuf,
}

impl Tls {
    pub fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let material = TlsMaterial::generate::<&str>(&[]).unwrap();
        let ca_file = std::env::temp_dir().join(format!(
            "icsfwd-output-test-{}-{}.pem",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        material.write_ca(&ca_file).unwrap();
        Self { material, ca_file }
    }

    pub fn options(&self) -> destination::Tls {
        destination::Tls {
            trust: destination::trust::Trust::CaFile(self.ca_file.clone()),
            ..destination::Tls::default()
        }
    }
}

impl Drop for Tls {
    fn drop(&mut self) {
        drop(std::fs::remove_file(&self.ca_file));
    }
}

/// The emulator's configuration: HEC tokens with and without acks, a splunkd user and a
/// bearer token, index `ot` besides `main`.
pub fn config(tls: &Tls) -> EmulatorConfig {
    let mut config = EmulatorConfig {
        transport: Transport::Tls(tls.material.acceptor().unwrap()),
        ..EmulatorConfig::default()
    };
    config.hec.tokens.push(Token::new("icsfwd", HEC_TOKEN));
    let mut ack = Token::new("icsfwd-ack", ACK_TOKEN);
    ack.use_ack = true;
    config.hec.tokens.push(ack);
    config.hec.indexes.push("ot".to_owned());
    config.splunkd.users.push(User::new(USER, PASSWORD, true));
    config.splunkd.tokens.push(BearerToken {
        token: BEARER.to_owned(),
        user: USER.to_owned(),
    });
    config.splunkd.indexes.push("ot".to_owned());
    config
}

pub fn start(tls: &Tls) -> RunningEmulator {
    Emulator::start(config(tls)).unwrap()
}

/// Short timeouts so failure tests end quickly on a loaded machine (yet generous enough that
/// a healthy local request never hits them).
pub fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        tls: Duration::from_secs(5),
        response: Duration::from_secs(10),
        idle: Duration::from_secs(5),
    }
}

/// `n` distinct alerts (ids 1..=n).
pub fn events(n: u64) -> Vec<Event> {
    (1..=n)
        .map(|id| {
            let mut alert = Alert::example(1_700_000_000_000 + id * 1000);
            alert.id = id;
            alert.set_title(&format!("Alert number {id}"));
            Event::from(alert)
        })
        .collect()
}

/// The batch form senders take: sequence numbers from 100.
pub fn batch(events: &[Event]) -> Vec<(u64, &Event)> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| (100 + i as u64, e))
        .collect()
}

/// Every error string an outcome carries.
pub fn errors(outcome: &Outcome) -> Vec<String> {
    let mut all: Vec<String> = outcome.last_error.iter().cloned().collect();
    for part in &outcome.parts {
        match &part.action {
            Action::Park { reason } | Action::DeadLetter { reason } => all.push(reason.clone()),
            _ => {}
        }
    }
    all
}

/// Panics if any of `texts` holds a secret (or its Basic encoding).
pub fn assert_no_secret(texts: &[String]) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for text in texts {
        for secret in SECRETS.iter().copied().chain([basic.as_str()]) {
            assert!(!text.contains(secret), "a secret leaked into {text:?}");
        }
    }
}

/// The action of a one-part outcome.
pub fn only_action(outcome: &Outcome) -> &Action {
    assert_eq!(outcome.parts.len(), 1, "{outcome:?}");
    &outcome.parts[0].action
}
