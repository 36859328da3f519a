//! The whole Splunk emulator in one call: HEC, splunkd and the control API, sharing one
//! [`Store`], one [`Faults`] registry and one [`Stats`].
//!
//! What it is: [`Emulator::start`] binds the three servers from an [`EmulatorConfig`] and
//! returns a [`RunningEmulator`] with their addresses and the shared state; tests of the
//! forwarder and the `icsfwd-sim splunk` CLI both use it. [`Faulty`] is the wrapper that
//! applies the faults to a server's handler.
//!
//! What it guarantees:
//! - Every address is loopback (anything else is refused with `InvalidInput`: the control API
//!   is unauthenticated); port 0 gives ephemeral ports.
//! - Optional syslog receivers ([`EmulatorConfig::syslog_port`] for TCP/TLS,
//!   [`EmulatorConfig::syslog_udp_port`] for UDP, see [`syslog`](super::syslog)) store into the
//!   same store with receiver `syslog`; faults do not apply to them.
//! - Faults apply to the HEC and splunkd ports only, never to the control port, and the
//!   faults given in the config are active before the first connection is accepted.
//! - A `down` fault closes the targeted listener within [`ACCEPT_POLL`](super::server::ACCEPT_POLL)
//!   (connects are refused) and resets requests arriving on connections already open; the
//!   listener is bound again on the same port when the fault is removed or expires.
//! - [`RunningEmulator::shutdown`] (and `Drop`) stops all three servers and joins their
//!   threads, also with hung, delayed or trickling connections (each waits in short steps).
//!
//! Transport: [`Transport::Plain`] or [`Transport::Tls`] (a [`TlsAcceptor`], e.g. from
//! [`TlsMaterial::generate`](super::tls::TlsMaterial::generate)) for the HEC and splunkd
//! ports; the control API stays plain HTTP on loopback (it is a test tool's back door, not a
//! Splunk endpoint).
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig};
//!
//! let mut config = EmulatorConfig::default();
//! config.faults.push("hec:status=503,code=9,next=1".parse().unwrap());
//! let emulator = Emulator::start(config).unwrap();
//! let mut conn = TcpStream::connect(emulator.hec_addr()).unwrap();
//! conn.write_all(b"GET /services/collector/health HTTP/1.1\r\nConnection: close\r\n\r\n")
//!     .unwrap();
//! let mut reply = String::new();
//! conn.read_to_string(&mut reply).unwrap();
//! assert!(reply.starts_with("HTTP/1.1 503 "));
//! assert!(reply.ends_with(r#"{"text":"Server is busy","code":9}"#));
//! assert_eq!(emulator.faults().list()[0].fired, 1);
//! emulator.shutdown();
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::control::{Control, Stats, control_server};
use super::faults::{Action, FaultSpec, Faults, Server as Kind, status_response};
use super::hec::{AckHold, Hec, HecConfig};
use super::http::{Request, Response};
use super::server::{
    Handler, HecHandler, Limits, Outcome, PlainTcp, RunningServer, Server, SplunkdHandler,
    hec_limits,
};
use super::splunkd::{Splunkd, SplunkdConfig};
use super::store::{Store, StoreConfig};
use super::syslog::{RunningSyslog, SyslogLimits, tcp_receiver, udp_receiver};
use super::tls::TlsAcceptor;

/// How the HEC and splunkd ports speak.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Transport {
    /// Plain HTTP.
    #[default]
    Plain,
    /// HTTPS with this acceptor's certificate.
    Tls(TlsAcceptor),
}

impl Transport {
    /// The URL scheme clients use: `http` or `https`.
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        match self {
            Transport::Plain => "http",
            Transport::Tls(_) => "https",
        }
    }
}

/// Everything the emulator is started with.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The address all three servers listen on (must be loopback).
    pub bind: IpAddr,
    /// HEC port (0: ephemeral).
    pub hec_port: u16,
    /// splunkd port (0: ephemeral).
    pub splunkd_port: u16,
    /// Control API port (0: ephemeral).
    pub control_port: u16,
    /// The collector's configuration.
    pub hec: HecConfig,
    /// The management API's configuration.
    pub splunkd: SplunkdConfig,
    /// The store's bound and JSONL mirror.
    pub store: StoreConfig,
    /// The seed of the fault registry's RNG.
    pub fault_seed: u64,
    /// Faults active from the start.
    pub faults: Vec<FaultSpec>,
    /// HEC and splunkd transport.
    pub transport: Transport,
    /// Syslog receiver port (0: ephemeral), speaking [`transport`](Self::transport) (TLS per
    /// RFC 5425, or plain TCP), with the default [`SyslogLimits`]; `None`: no syslog receiver.
    pub syslog_port: Option<u16>,
    /// Syslog UDP receiver port (0: ephemeral); `None`: none.
    pub syslog_udp_port: Option<u16>,
}

impl Default for EmulatorConfig {
    /// 127.0.0.1, every port ephemeral, default configs, seed 0, no faults, plain HTTP, no
    /// syslog receiver.
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            hec_port: 0,
            splunkd_port: 0,
            control_port: 0,
            hec: HecConfig::default(),
            splunkd: SplunkdConfig::default(),
            store: StoreConfig::default(),
            fault_seed: 0,
            faults: Vec::new(),
            transport: Transport::Plain,
            syslog_port: None,
            syslog_udp_port: None,
        }
    }
}

/// A server handler with the faults applied (see [`Faults::decide`]).
#[derive(Debug, Clone)]
pub struct Faulty<H> {
    inner: H,
    server: Kind,
    faults: Faults,
    stats: Stats,
}

/// A handler the fault layer can ask to hold back the acks it issues.
pub trait HoldsAcks: Handler {
    /// [`Handler::handle`] with acks held as `hold` says; by default `hold` is ignored.
    fn handle_holding(&self, req: &Request, peer: SocketAddr, hold: AckHold) -> Response {
        let _ = hold;
        self.handle(req, peer)
    }
}

impl HoldsAcks for HecHandler {
    fn handle_holding(&self, req: &Request, _peer: SocketAddr, hold: AckHold) -> Response {
        self.handle_holding_acks(req, hold)
    }
}

impl HoldsAcks for SplunkdHandler {}

impl<H: HoldsAcks> Faulty<H> {
    /// `inner` as the `server` of the emulator, consulting `faults` and counting into `stats`.
    #[must_use]
    pub const fn new(inner: H, server: Kind, faults: Faults, stats: Stats) -> Self {
        Self {
            inner,
            server,
            faults,
            stats,
        }
    }

    fn count(&self, outcome: Outcome) -> Outcome {
        let label = match &outcome {
            Outcome::Reply(resp) | Outcome::Delayed(_, resp) | Outcome::Trickle(resp, _) => {
                resp.status.to_string()
            }
            Outcome::Hang { .. } => "hang".to_owned(),
            _ => "reset".to_owned(),
        };
        self.stats.record(self.server, &label);
        outcome
    }
}

impl<H: HoldsAcks> Handler for Faulty<H> {
    /// The unfaulted answer; the server calls [`Handler::respond`], which applies the faults.
    fn handle(&self, req: &Request, peer: SocketAddr) -> Response {
        self.inner.handle(req, peer)
    }

    fn respond(&self, req: &Request, peer: SocketAddr) -> Outcome {
        if self.faults.is_down(self.server) {
            return self.count(Outcome::Reset);
        }
        let decision = self.faults.decide(self.server, &req.path);
        let handled = || self.inner.handle_holding(req, peer, decision.ack_hold);
        let outcome = match decision.action {
            None | Some(Action::Down | Action::AckNever | Action::AckDelay { .. }) => {
                Outcome::Reply(handled())
            }
            Some(Action::Slow { ms }) => Outcome::Delayed(Duration::from_millis(ms), handled()),
            Some(Action::Trickle { bytes_per_sec }) => Outcome::Trickle(handled(), bytes_per_sec),
            Some(Action::Status {
                http,
                code,
                retry_after,
                body,
            }) => Outcome::Reply(status_response(self.server, http, code, retry_after, body)),
            Some(Action::LostResponse) => {
                drop(handled());
                Outcome::Reset
            }
            Some(Action::Reset) => Outcome::Reset,
            Some(Action::Hang) => {
                let faults = self.faults.clone();
                let id = decision.fault.unwrap_or_default();
                Outcome::Hang {
                    release: Some(Arc::new(move || faults.is_gone(id))),
                }
            }
        };
        self.count(outcome)
    }

    fn accepting(&self) -> bool {
        !self.faults.is_down(self.server)
    }
}

/// Entry point of the emulator.
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// Starts HEC, splunkd and the control API as `config` says.
    ///
    /// # Errors
    /// A non-loopback address (`InvalidInput`), or binding a port failed.
    pub fn start(config: EmulatorConfig) -> io::Result<RunningEmulator> {
        if !config.bind.is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to listen on {}: the emulator only listens on loopback",
                    config.bind
                ),
            ));
        }
        let store = Store::new(config.store.clone())?;
        let faults = Faults::new(config.fault_seed);
        for spec in config.faults {
            faults
                .add(spec)
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
        }
        let stats = Stats::default();
        let hec_limits = hec_limits(&config.hec);
        let hec_handler = HecHandler::new(config.hec, store.clone());
        let hec_state = Arc::clone(&hec_handler.hec);
        let splunkd_handler = SplunkdHandler::new(config.splunkd, store.clone());
        let splunkd_state = Arc::clone(&splunkd_handler.splunkd);
        let hec = start_transport(
            &config.transport,
            SocketAddr::new(config.bind, config.hec_port),
            hec_limits,
            Faulty::new(hec_handler, Kind::Hec, faults.clone(), stats.clone()),
        )?;
        let splunkd = start_transport(
            &config.transport,
            SocketAddr::new(config.bind, config.splunkd_port),
            Limits::default(),
            Faulty::new(
                splunkd_handler,
                Kind::Splunkd,
                faults.clone(),
                stats.clone(),
            ),
        )?;
        // The cookie and Atom ids carry the port actually bound (it differs with port 0).
        splunkd_state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set_port(splunkd.local_addr().port());
        let control = control_server(
            SocketAddr::new(config.bind, config.control_port),
            Control {
                store: store.clone(),
                faults: faults.clone(),
                stats: stats.clone(),
                hec: Some(Arc::clone(&hec_state)),
                splunkd: Some(Arc::clone(&splunkd_state)),
            },
        )?;
        let syslog = match config.syslog_port {
            Some(port) => {
                let addr = SocketAddr::new(config.bind, port);
                let limits = SyslogLimits::default();
                Some(match &config.transport {
                    Transport::Plain => tcp_receiver(addr, limits, PlainTcp, store.clone())?,
                    Transport::Tls(acceptor) => {
                        tcp_receiver(addr, limits, acceptor.clone(), store.clone())?
                    }
                })
            }
            None => None,
        };
        let syslog_udp = match config.syslog_udp_port {
            Some(port) => Some(udp_receiver(
                SocketAddr::new(config.bind, port),
                SyslogLimits::default(),
                store.clone(),
            )?),
            None => None,
        };
        Ok(RunningEmulator {
            scheme: config.transport.scheme(),
            syslog,
            syslog_udp,
            hec,
            splunkd,
            control,
            store,
            faults,
            stats,
            hec_state,
            splunkd_state,
        })
    }
}

/// Creates index `name` on both servers; true if either did not have it.
pub(crate) fn create_index(hec: &Mutex<Hec>, splunkd: &Mutex<Splunkd>, name: &str) -> bool {
    let on_hec = hec
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .create_index(name);
    let on_splunkd = splunkd
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .create_index(name);
    on_hec || on_splunkd
}

/// Starts one emulated server on `transport`; the one place a new transport is wired in.
fn start_transport<H: Handler>(
    transport: &Transport,
    addr: SocketAddr,
    limits: Limits,
    handler: H,
) -> io::Result<RunningServer> {
    match transport {
        Transport::Plain => Server::start_with(addr, limits, PlainTcp, handler),
        Transport::Tls(acceptor) => Server::start_with(addr, limits, acceptor.clone(), handler),
    }
}

/// A started emulator; shut down explicitly or on drop.
#[derive(Debug)]
pub struct RunningEmulator {
    scheme: &'static str,
    hec: RunningServer,
    splunkd: RunningServer,
    control: RunningServer,
    syslog: Option<RunningSyslog>,
    syslog_udp: Option<RunningSyslog>,
    store: Store,
    faults: Faults,
    stats: Stats,
    hec_state: Arc<Mutex<Hec>>,
    splunkd_state: Arc<Mutex<Splunkd>>,
}

impl RunningEmulator {
    /// Where HEC listens.
    #[must_use]
    pub fn hec_addr(&self) -> SocketAddr {
        self.hec.local_addr()
    }

    /// `http` or `https`: how the HEC and splunkd ports speak.
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// HEC's base URL, e.g. `https://127.0.0.1:8088`.
    #[must_use]
    pub fn hec_url(&self) -> String {
        format!("{}://{}", self.scheme, self.hec_addr())
    }

    /// splunkd's base URL, e.g. `https://127.0.0.1:8089`.
    #[must_use]
    pub fn splunkd_url(&self) -> String {
        format!("{}://{}", self.scheme, self.splunkd_addr())
    }

    /// Where splunkd listens.
    #[must_use]
    pub fn splunkd_addr(&self) -> SocketAddr {
        self.splunkd.local_addr()
    }

    /// Where the syslog receiver (TCP or TLS) listens, if one was configured.
    #[must_use]
    pub fn syslog_addr(&self) -> Option<SocketAddr> {
        self.syslog.as_ref().map(RunningSyslog::local_addr)
    }

    /// Where the syslog UDP receiver listens, if one was configured.
    #[must_use]
    pub fn syslog_udp_addr(&self) -> Option<SocketAddr> {
        self.syslog_udp.as_ref().map(RunningSyslog::local_addr)
    }

    /// Where the control API listens.
    #[must_use]
    pub fn control_addr(&self) -> SocketAddr {
        self.control.local_addr()
    }

    /// The received events.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The fault registry (add or remove faults at run time).
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Request counts by server and outcome.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The HEC state machine (e.g. [`Hec::release_acks`], [`Hec::condition`]).
    #[must_use]
    pub fn hec(&self) -> &Arc<Mutex<Hec>> {
        &self.hec_state
    }

    /// The splunkd state machine.
    #[must_use]
    pub fn splunkd(&self) -> &Arc<Mutex<Splunkd>> {
        &self.splunkd_state
    }

    /// Creates index `name` on HEC and splunkd at once, as a Splunk administrator would while
    /// the emulator runs; true if either did not have it.
    pub fn create_index(&self, name: &str) -> bool {
        create_index(&self.hec_state, &self.splunkd_state, name)
    }

    /// Stops all servers (and the syslog receivers) and joins their threads.
    pub fn shutdown(self) {
        let Self {
            hec,
            splunkd,
            control,
            syslog,
            syslog_udp,
            ..
        } = self;
        hec.shutdown();
        splunkd.shutdown();
        control.shutdown();
        if let Some(receiver) = syslog {
            receiver.shutdown();
        }
        if let Some(receiver) = syslog_udp {
            receiver.shutdown();
        }
    }
}
