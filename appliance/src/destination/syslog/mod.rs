//! `kind = "syslog"`: a syslog receiver (RFC 5424 messages) over TCP, TLS, UDP or RELP, one
//! folder for all of it.
//!
//! - [`Syslog`], [`Transport`], [`Confirm`]: the validated settings of a syslog destination —
//!   what its keys in the configuration file become and what its senders run on.
//! - [`sender`]: [`SyslogSender`](sender::SyslogSender), over TCP, TLS or UDP, confirmed by
//!   the receiver's TCP acknowledgement ([`session`], [`outq`], [`unconfirmed`]).
//! - [`relp`]: [`RelpSender`](relp::RelpSender), RELP (a transport of this kind): every
//!   message answered by the receiver.
//! - [`probe`]: its steps and words for `icsfwd test`.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::time::Duration;

use icsfwd_core::format::syslog;

use super::Batching;
use super::failover::{DOWN_FOR, Endpoint};

pub(crate) mod config;
pub(crate) mod outq;
pub(crate) mod probe;
pub(crate) mod relp;
pub(crate) mod sender;
pub(crate) mod session;
pub(crate) mod unconfirmed;

/// The kind's name, as written in `kind = "syslog"`.
pub(crate) const NAME: &str = "syslog";

/// Records a `syslog` destination's worker hands to one `send`, without linger: messages are
/// written as they come, one frame each.
pub(crate) const BATCH: usize = 100;

/// How the worker batches a `syslog` destination: [`BATCH`] records, no linger.
pub(crate) const BATCHING: Batching = Batching {
    max_events: BATCH,
    linger: Duration::ZERO,
};

/// A `syslog` destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Syslog {
    /// The receivers (key `host`, or `hosts` for several, 1 to
    /// [`MAX_HOSTS`](super::failover::MAX_HOSTS)) with their ports (key `port`: default 514,
    /// 6514 for TLS, 2514 for RELP). Over TCP, TLS and RELP a connection goes to the next
    /// host in turn and stays there while it works; a host whose connection fails or breaks
    /// is marked down and the next connection goes to another ([`failover`](super::failover)).
    pub hosts: Vec<Endpoint>,
    /// TCP (default), TLS, UDP, RELP or RELP over TLS.
    pub transport: Transport,
    /// When a record counts as delivered over TCP or TLS (UDP has no confirmation: the key is
    /// refused there and this is left at its default, unused).
    pub confirm: Confirm,
    /// How messages are built: payload, facility, level.
    pub message: syslog::Options,
    /// With [`Confirm::TcpAck`]: how long a record stays acknowledged before it is confirmed
    /// (not a key: [`sender::SETTLE`]).
    pub settle: Duration,
    /// Largest UDP datagram; a longer message is dead-lettered (not a key:
    /// [`sender::DEFAULT_MAX_DATAGRAM`]).
    pub max_datagram: usize,
    /// Over RELP: most unanswered commands (not a key: [`relp::DEFAULT_WINDOW`]).
    pub window: usize,
    /// How long a host that failed is tried last (not a key: [`DOWN_FOR`]).
    pub down_for: Duration,
}

impl Syslog {
    /// A destination at `host:port` over `transport` with the defaults of every other key:
    /// `confirm = "tcp-ack"`, CEF payload, the default facility and levels.
    #[must_use]
    pub fn new(host: &str, port: u16, transport: Transport) -> Self {
        Self {
            hosts: vec![Endpoint::new(host, port)],
            transport,
            confirm: Confirm::default(),
            message: syslog::Options::default(),
            settle: sender::SETTLE,
            max_datagram: sender::DEFAULT_MAX_DATAGRAM,
            window: relp::DEFAULT_WINDOW,
            down_for: DOWN_FOR,
        }
    }

    /// Whether records wait for the receiver's TCP acknowledgement (TCP or TLS with
    /// [`Confirm::TcpAck`]; RELP's answers are read by its own sender).
    #[must_use]
    pub(crate) fn confirms(&self) -> bool {
        self.transport != Transport::Udp && self.confirm == Confirm::TcpAck
    }

    /// `host:port` of each host, an IPv6 address in brackets, separated by `, `.
    #[must_use]
    pub(crate) fn targets(&self) -> String {
        let targets: Vec<String> = self.hosts.iter().map(ToString::to_string).collect();
        targets.join(", ")
    }
}

/// The syslog transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP with RFC 6587 octet counting (default port 514).
    Tcp,
    /// TLS, RFC 5425 (default port 6514).
    Tls,
    /// UDP (default port 514).
    Udp,
    /// RELP over TCP: every message answered by the receiver (default port 2514).
    Relp,
    /// RELP over TLS (default port 2514).
    RelpTls,
}

impl Transport {
    /// `tcp`, `tls`, `udp`, `relp` or `relp-tls`.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Udp => "udp",
            Transport::Relp => "relp",
            Transport::RelpTls => "relp-tls",
        }
    }

    /// Whether it runs over TLS (`tls`, `relp-tls`): the TLS keys apply.
    pub const fn uses_tls(self) -> bool {
        matches!(self, Transport::Tls | Transport::RelpTls)
    }

    /// Whether it is RELP (`relp`, `relp-tls`): each message is answered.
    pub const fn is_relp(self) -> bool {
        matches!(self, Transport::Relp | Transport::RelpTls)
    }

    /// Its default port: 514, 6514 for TLS, 2514 for RELP.
    pub(crate) const fn default_port(self) -> u16 {
        match self {
            Transport::Tcp | Transport::Udp => 514,
            Transport::Tls => 6514,
            Transport::Relp | Transport::RelpTls => 2514,
        }
    }
}

/// When a record sent to a syslog receiver over TCP or TLS counts as delivered (key
/// `confirm`). Syslog has no application acknowledgement; see `docs/configuration.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Confirm {
    /// Once the receiver's TCP acknowledged every byte of it and the connection then stayed
    /// open for the settle time: a connection that breaks before re-sends what it left
    /// unconfirmed (counted as possible duplicates). At least once. The default.
    #[default]
    TcpAck,
    /// Once written to the socket (the kernel took it): a connection that breaks may lose
    /// what the receiver had not read, counted as possible loss, never re-sent.
    Write,
}

impl Confirm {
    /// `tcp-ack` or `write`, as written in the file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Confirm::TcpAck => "tcp-ack",
            Confirm::Write => "write",
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::syslog::{Confirm, Syslog, Transport};

        let syslog = Syslog::new("siem.example", 6514, Transport::Tls);
        assert_eq!(syslog.confirm, Confirm::TcpAck, "at least once by default");
        assert!(syslog.confirms() && syslog.transport.uses_tls());
        assert!(!Syslog::new("siem.example", 514, Transport::Udp).confirms());
    }
}
