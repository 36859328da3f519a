//! `kind = "splunk"`: splunkd's REST receiver (`receivers/simple`, port 8089), one folder
//! for all of it.
//!
//! - [`Splunk`], [`Auth`]: the validated settings of a splunkd destination — what its keys
//!   in the configuration file become and what its sender runs on.
//! - [`sender`]: [`SplunkSender`](sender::SplunkSender), one classic text event per request
//!   with Basic, session or bearer authentication.
//! - `probe`: its steps and words for `icsfwd test`.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::time::Duration;

use super::failover::{DOWN_FOR, Endpoint};
use super::http::Scheme;
use super::proxy::Proxy;
use super::{Batching, Secret};

pub(crate) mod config;
pub(crate) mod probe;
pub(crate) mod sender;

/// The kind's name, as written in `kind = "splunk"`.
pub(crate) const NAME: &str = "splunk";

/// Records a `splunk` destination's worker hands to one `send` (sent one per request, so
/// without linger).
pub(crate) const BATCH: usize = 100;

/// The sourcetype of the classic text events when the configuration names none: the one the
/// Splunk app in `splunk-app/` breaks into one event per alert and extracts fields from.
pub(crate) const DEFAULT_SOURCETYPE: &str = "icsfwd:text";

/// A `splunk` destination: `POST <scheme>://host:port/services/receivers/simple`, on one of
/// its hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Splunk {
    /// `https` (default) or `http`.
    pub scheme: Scheme,
    /// The splunkd hosts (key `host`, or `hosts` for several, 1 to
    /// [`MAX_HOSTS`](super::failover::MAX_HOSTS)) with their management ports (key `port`,
    /// default 8089): each event goes to the next host in turn, and to the next one when a
    /// host fails ([`failover`](super::failover)).
    pub hosts: Vec<Endpoint>,
    /// How to authenticate.
    pub auth: Auth,
    /// The `index` parameter; `None` leaves it out (the server's default index).
    pub index: Option<String>,
    /// The `source` parameter, default `icsfwd`.
    pub source: String,
    /// The `sourcetype` parameter, default [`DEFAULT_SOURCETYPE`].
    pub sourcetype: String,
    /// How splunkd is reached: direct (default) or through a proxy.
    pub proxy: Proxy,
    /// How long a host that failed is tried last (not a key: [`DOWN_FOR`]).
    pub down_for: Duration,
}

impl Splunk {
    /// A destination at `scheme://host:port` authenticating with `auth`, with the defaults of
    /// every other key: no index, source `icsfwd`, sourcetype [`DEFAULT_SOURCETYPE`], direct.
    #[must_use]
    pub fn new(scheme: Scheme, host: &str, port: u16, auth: Auth) -> Self {
        Self {
            scheme,
            hosts: vec![Endpoint::new(host, port)],
            auth,
            index: None,
            source: icsfwd_core::format::hec::DEFAULT_SOURCE.to_owned(),
            sourcetype: DEFAULT_SOURCETYPE.to_owned(),
            proxy: Proxy::Direct,
            down_for: DOWN_FOR,
        }
    }

    /// `scheme://host:port` of each host, an IPv6 address in brackets.
    #[must_use]
    pub(crate) fn base_urls(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|endpoint| format!("{}://{endpoint}", self.scheme.as_str()))
            .collect()
    }
}

/// How a `splunk` destination authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// HTTP Basic on every request (`auth = "basic"`, the default with a username).
    Basic {
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
    /// A session key from `/services/auth/login`, renewed on 401 (`auth = "session"`).
    Session {
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
    /// A Splunk authentication token (JWT), `Authorization: Bearer <token>` (`auth =
    /// "bearer"`, the default with a token).
    Bearer {
        /// The token.
        token: Secret,
    },
}

/// How the worker batches a `splunk` destination: [`BATCH`] records, no linger.
pub(crate) const BATCHING: Batching = Batching {
    max_events: BATCH,
    linger: Duration::ZERO,
};

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::Secret;
        use crate::destination::http::Scheme;
        use crate::destination::splunk::{Auth, Splunk};

        let auth = Auth::Bearer {
            token: Secret::new("eyJraWQ"),
        };
        let splunk = Splunk::new(Scheme::Https, "fe80::1", 8089, auth);
        assert_eq!(splunk.base_urls(), vec!["https://[fe80::1]:8089"]);
        assert_eq!(
            (splunk.source.as_str(), splunk.sourcetype.as_str()),
            ("icsfwd", "icsfwd:text")
        );
    }
}
