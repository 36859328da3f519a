//! The settings every destination kind shares: how its TLS is set up ([`Tls`]), its network
//! timeouts ([`Timeouts`]) and its retry backoff ([`Retry`]). One type each: the configuration
//! validates into them and the senders run on them.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::path::PathBuf;
use std::time::Duration;

use super::trust::Trust;

/// TLS settings of a destination (`splunk` and `hec` over https, `syslog` over `tls` or
/// `relp-tls`): how the server is authenticated, and how we authenticate to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// Whether the server's certificate and name are verified. Default true; false only when
    /// a configuration says so explicitly (`verify = false`).
    pub verify: bool,
    /// Which certificate authorities are trusted (`trust`, `ca_file`).
    pub trust: Trust,
    /// A client certificate and its key, for mutual TLS.
    pub client: Option<ClientCert>,
}

impl Default for Tls {
    fn default() -> Self {
        Self {
            verify: true,
            trust: Trust::Bundled,
            client: None,
        }
    }
}

/// A client certificate (PEM) and its private key (PEM; not readable by group or others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// Network timeouts of a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect (`connect_timeout`, default 10 s).
    pub connect: Duration,
    /// TLS handshake (`tls_timeout`, default 10 s); over HTTPS added to `connect` for the
    /// connect phase.
    pub tls: Duration,
    /// From request sent to response read (`response_timeout`, default 30 s); for syslog the
    /// longest write, for RELP the longest wait for an answer.
    pub response: Duration,
    /// How long an idle kept-alive HTTP connection is reused ([`IDLE`], not a key: below
    /// splunkd's and HEC's idle timeouts, so a pooled connection is rarely found closed by
    /// the server).
    pub idle: Duration,
}

/// [`Timeouts::idle`] of every destination.
pub(crate) const IDLE: Duration = Duration::from_secs(10);

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            tls: Duration::from_secs(10),
            response: Duration::from_secs(30),
            idle: IDLE,
        }
    }
}

/// Retry backoff of a destination: exponential from `min` to `max` (jitter added by the
/// worker, see [`Backoff`](super::classify::Backoff)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// First delay (`retry_min`, default 1 s).
    pub min: Duration,
    /// Longest delay (`retry_max`, default 300 s).
    pub max: Duration,
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::{Timeouts, Tls};
        use std::time::Duration;

        // What a destination without any of these keys gets.
        assert!(Tls::default().verify);
        assert_eq!(Timeouts::default().connect, Duration::from_secs(10));
        assert_eq!(Timeouts::default().response, Duration::from_secs(30));
    }
}
