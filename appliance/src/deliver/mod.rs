//! Delivery: one worker thread per destination moves records from the spool to its server,
//! and a housekeeper removes what every destination has delivered.
//!
//! What it is:
//! - [`sender_for`] turns a validated [`config::Destination`] into its sender
//!   ([`HecSender`], [`SplunkSender`], [`SyslogSender`] or, for syslog over RELP,
//!   [`RelpSender`]); this is the one place where configuration names
//!   are mapped onto output options.
//! - [`worker::Worker`] reads its destination's records in order
//!   ([`Handle::peek_after`](crate::spool::Handle::peek_after)), batches them (max events,
//!   linger), sends, and applies the [`Outcome`](crate::output::Outcome) part by part:
//!   delivered records are acknowledged in the spool, HEC records awaiting their ack, syslog
//!   records awaiting the receiver's TCP acknowledgement and RELP records awaiting their `rsp`
//!   are kept in flight while later records are sent, transient failures are retried with exponential
//!   backoff and jitter, credential or configuration problems park the destination (status
//!   says why, retried slowly), refused records go to the [dead-letter file](deadletter).
//! - [`housekeeper::Housekeeper`] checkpoints the spool periodically (and once more at
//!   shutdown), so delivered segments are removed.
//! - [`Shutdown`] is the one stop signal every thread here watches; [`Delivery::start`] starts
//!   everything and [`Running::shutdown`] stops it within a deadline.
//! - [`stats::DeliveryStats`] per destination, for `icsfwd status` ([`Running::stats`]).
//!
//! What it guarantees (the delivery contract):
//! - A record leaves the spool (its destination's cursor passes it) only after the strongest
//!   confirmation its destination gives: HEC ack `true` with `ack = true`, else a 2xx; for
//!   syslog over TCP/TLS the receiver's TCP acknowledgement (`confirm = "tcp-ack"`, the
//!   default; the write with `confirm = "write"`), over RELP the receiver's `rsp 200`, over
//!   UDP the send — or after it was written and fsynced to the dead-letter file. The cursor is
//!   cumulative, so a
//!   record is acknowledged only when every record before it is too.
//! - Order per destination: records are sent in sequence order; a batch that must be retried
//!   is resent before anything after it (HEC acks that expire are the exception: those
//!   records are resent after later ones were sent; so are records refused by a RELP `rsp`
//!   that parks).
//! - Duplicates come only from resends after an uncertain outcome (lost response, reset,
//!   timeout), an expired HEC ack, a syslog connection that broke before the receiver
//!   confirmed its records, or a broken RELP session; each such resent record is counted in
//!   [`DeliveryStats::possible_duplicates`](stats::DeliveryStats::possible_duplicates) (an
//!   upper bound: a whole failed batch is counted).
//! - No thread sleeps without watching [`Shutdown`]: backoffs, parking and housekeeping wait
//!   on it; an idle worker looks at it every [`DeliveryOptions::idle_tick`]. A send in
//!   progress is bounded by the destination's timeouts.
//! - Destinations are independent: one thread each, no lock held across network I/O (the
//!   spool lock is held only for a peek or an ack), so a hanging server slows only its own
//!   destination.
//!
//! Choices (not in the references):
//! - HEC acks are polled every [`DeliveryOptions::ack_poll_interval`] (default 10 s, the
//!   reference's "poll every ~10 s"; tests use less), or every half `ack_deadline` when that
//!   is shorter (the deadline is checked at each poll, so it is honoured within half of
//!   itself), and every [`BLOCKED_ACK_POLL`](worker::BLOCKED_ACK_POLL) while a worker's window
//!   is full of records awaiting acks (it can do nothing else meanwhile). A record whose ack
//!   passes the destination's `ack_deadline` is resent.
//! - A parked destination is retried every `retry_max` and logs what to fix at most once per
//!   [`DeliveryOptions::park_log_interval`] (default 60 s).
//! - A worker keeps at most [`DeliveryOptions::max_in_flight`] records in memory (sent and
//!   awaiting acks, or read and not yet sent).
//! - `splunk` destinations send one event per request anyway; their worker takes up to
//!   [`SPLUNK_BATCH`] records per `send` with no linger.
//! - A destination whose sender cannot be set up (a CA file that cannot be read) gets no
//!   worker and the state
//!   [`Failed`](stats::State::Failed) with the reason: its records stay in the spool, the
//!   other destinations run.
//! - Logs go through the `log` facade (target `icsfwd::deliver::…`), which
//!   [`logging`](crate::logging) writes as journald lines.
//!
//! ```
//! use std::time::Duration;
//! use icsfwd::deliver::Shutdown;
//!
//! let shutdown = Shutdown::new();
//! let watcher = shutdown.clone();
//! let thread = std::thread::spawn(move || watcher.wait_timeout(Duration::from_secs(600)));
//! shutdown.trigger();
//! assert!(thread.join().unwrap(), "woken by the trigger, not the timeout");
//! assert!(shutdown.is_triggered());
//! ```

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::{self, DestinationKind, SplunkAuth};
use crate::output::hec::{AckReport, BatchLimits, HecError, HecOptions, HecSender};
use crate::output::http::{Timeouts, TlsOptions};
use crate::output::relp::{RelpOptions, RelpSender};
use crate::output::splunk::{Auth, SplunkError, SplunkOptions, SplunkSender};
use crate::output::syslog::{SyslogError, SyslogOptions, SyslogSender};
use crate::output::{Deliver, Secret};
use crate::spool::Handle;

pub mod deadletter;
pub mod housekeeper;
pub mod replay;
pub mod stats;
pub mod worker;

use housekeeper::{Housekeeper, HousekeepingStats};
use stats::{DeliveryStats, State, StatsCell};
use worker::{Worker, WorkerSettings};

/// Records a `splunk` destination's worker hands to one `send` (sent one per request).
pub const SPLUNK_BATCH: usize = 100;

/// A destination's sender as a worker drives it: [`Deliver`] plus, for the records it answers
/// [`AwaitingAck`](crate::output::classify::Action::AwaitingAck), their confirmation: HEC
/// indexer acks, or for syslog over TCP/TLS the receiver's TCP acknowledgement.
pub trait Sender: Deliver + Send {
    /// Polls the confirmations (see [`HecSender::poll_acks`],
    /// [`SyslogSender::poll_acks`]); senders without any report nothing.
    fn poll_acks(&mut self, now: Instant) -> AckReport {
        let _ = now;
        AckReport::default()
    }

    /// How many records wait for their confirmation.
    fn pending_acks(&self) -> usize {
        0
    }

    /// How often the worker polls while records wait, when the sender has its own pace
    /// (syslog's TCP acknowledgements are local and cheap to read); `None`: the worker's
    /// ack poll interval.
    fn poll_interval(&self) -> Option<Duration> {
        None
    }

    /// Records reported delivered that a connection reset may have lost since start (syslog
    /// over TCP or TLS with `confirm = "write"`); see [`SyslogSender::possible_loss`].
    fn possible_loss(&self) -> u64 {
        0
    }

    /// Called once when the worker stops cleanly: ends the session (RELP sends `close`) and
    /// reports the last confirmations; what stays unconfirmed stays in the spool. Senders
    /// without a session report nothing.
    fn finish(&mut self) -> AckReport {
        AckReport::default()
    }
}

impl Sender for HecSender {
    fn poll_acks(&mut self, now: Instant) -> AckReport {
        HecSender::poll_acks(self, now)
    }

    fn pending_acks(&self) -> usize {
        HecSender::pending_acks(self)
    }
}

impl Sender for SplunkSender {}

impl Sender for RelpSender {
    fn poll_acks(&mut self, now: Instant) -> AckReport {
        RelpSender::poll_acks(self, now)
    }

    fn pending_acks(&self) -> usize {
        RelpSender::pending_acks(self)
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(crate::output::relp::ACK_POLL_INTERVAL)
    }

    fn finish(&mut self) -> AckReport {
        RelpSender::finish(self)
    }
}

impl Sender for SyslogSender {
    fn poll_acks(&mut self, now: Instant) -> AckReport {
        SyslogSender::poll_acks(self, now)
    }

    fn pending_acks(&self) -> usize {
        SyslogSender::pending_acks(self)
    }

    fn poll_interval(&self) -> Option<Duration> {
        self.options()
            .confirms()
            .then_some(crate::output::syslog::CONFIRM_POLL)
    }

    fn possible_loss(&self) -> u64 {
        SyslogSender::possible_loss(self)
    }
}

/// A destination's sender could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// The HEC sender refused its options.
    Hec(HecError),
    /// The splunkd sender refused its options.
    Splunk(SplunkError),
    /// The syslog sender refused its options.
    Syslog(SyslogError),
    /// This kind of destination has no sender yet.
    Unsupported {
        /// The kind (`syslog`).
        kind: &'static str,
    },
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hec(err) => write!(f, "{err}"),
            Self::Splunk(err) => write!(f, "{err}"),
            Self::Syslog(err) => write!(f, "{err}"),
            Self::Unsupported { kind } => write!(
                f,
                "{kind} delivery is not supported yet (it comes in part 2); its records stay \
                 in the spool"
            ),
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Hec(err) => Some(err),
            Self::Splunk(err) => Some(err),
            Self::Syslog(err) => Some(err),
            Self::Unsupported { .. } => None,
        }
    }
}

fn tls_options(tls: &config::Tls) -> TlsOptions {
    TlsOptions {
        verify: tls.verify,
        ca_file: tls.ca_file.clone(),
        client_cert: tls.client.as_ref().map(|c| (c.cert.clone(), c.key.clone())),
    }
}

fn timeouts(timeouts: &config::Timeouts) -> Timeouts {
    Timeouts {
        connect: timeouts.connect,
        tls: timeouts.tls,
        response: timeouts.response,
        ..Timeouts::default()
    }
}

/// Builds the sender of `destination` from the validated configuration.
///
/// # Errors
///
/// The sender refused its options (a TLS file that cannot be used, a syslog host that is
/// not a valid TLS server name).
pub fn sender_for(
    destination: &config::Destination,
    sensor: &config::Sensor,
) -> Result<Box<dyn Sender>, SetupError> {
    match &destination.kind {
        DestinationKind::Hec(hec) => {
            let mut options = HecOptions::new(
                hec.urls.iter().map(ToString::to_string).collect(),
                hec.token.clone(),
            );
            options.tls = tls_options(&destination.tls);
            options.timeouts = timeouts(&destination.timeouts);
            options.gzip = hec.gzip;
            options.channel.clone_from(&hec.channel);
            options.ack_deadline = hec.ack.then_some(hec.ack_deadline);
            options.format = destination.format_options().hec;
            options.limits = BatchLimits {
                max_events: hec.batch.max_events,
                max_bytes: hec.batch.max_bytes,
            };
            Ok(Box::new(HecSender::new(options).map_err(SetupError::Hec)?))
        }
        DestinationKind::Splunk(splunk) => {
            let host = if splunk.host.contains(':') {
                format!("[{}]", splunk.host)
            } else {
                splunk.host.clone()
            };
            let url = format!("{}://{host}:{}", splunk.scheme.as_str(), splunk.port);
            let auth = match &splunk.auth {
                SplunkAuth::Basic { username, password } => Auth::Basic {
                    username: username.clone(),
                    password: password.clone(),
                },
                SplunkAuth::Session { username, password } => Auth::Session {
                    username: username.clone(),
                    password: password.clone(),
                },
                SplunkAuth::Bearer { token } => Auth::Bearer(Secret::clone(token)),
            };
            let mut options =
                SplunkOptions::new(&url, auth, &sensor.ip.to_string(), &splunk.sourcetype);
            options.source.clone_from(&splunk.source);
            options.index.clone_from(&splunk.index);
            options.tls = tls_options(&destination.tls);
            options.timeouts = timeouts(&destination.timeouts);
            options.text = destination.format_options().text;
            Ok(Box::new(
                SplunkSender::new(options).map_err(SetupError::Splunk)?,
            ))
        }
        DestinationKind::Syslog(syslog) if syslog.transport.is_relp() => {
            let tls = syslog.transport == config::Transport::RelpTls;
            let mut options = RelpOptions::new(&syslog.host, syslog.port, tls);
            options.message = syslog.options.clone();
            options.tls_options = tls_options(&destination.tls);
            options.timeouts = timeouts(&destination.timeouts);
            Ok(Box::new(
                RelpSender::new(options).map_err(SetupError::Syslog)?,
            ))
        }
        DestinationKind::Syslog(syslog) => Ok(Box::new(
            SyslogSender::new(syslog_options(destination, syslog)).map_err(SetupError::Syslog)?,
        )),
    }
}

/// The options of a `syslog` destination's sender (what [`sender_for`] builds it with; `icsfwd
/// test` builds its sender the same way).
#[must_use]
pub fn syslog_options(destination: &config::Destination, syslog: &config::Syslog) -> SyslogOptions {
    let mut options = SyslogOptions::new(&syslog.host, syslog.port, syslog.transport);
    options.confirm = syslog.confirm;
    options.message = syslog.options.clone();
    options.tls = tls_options(&destination.tls);
    options.timeouts = timeouts(&destination.timeouts);
    options
}

/// The stop signal of the delivery threads: cloneable, set once, waited on.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<(Mutex<bool>, Condvar)>);

impl Shutdown {
    /// A signal not yet triggered.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Triggers it: every waiter wakes up, every later wait returns at once.
    pub fn trigger(&self) {
        let (flag, changed) = &*self.0;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        changed.notify_all();
    }

    /// Whether it was triggered.
    #[must_use]
    pub fn is_triggered(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` for the trigger; returns whether it was triggered. This is how
    /// the delivery threads sleep.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let (flag, changed) = &*self.0;
        let deadline = Instant::now().checked_add(timeout);
        let mut triggered = flag.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *triggered {
                return true;
            }
            let wait = match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    deadline - now
                }
                None => Duration::from_secs(3600),
            };
            triggered = changed
                .wait_timeout(triggered, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// Settings of the delivery threads that are not in the configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryOptions {
    /// How often a HEC worker with records awaiting acks polls `/ack`. Default 10 s.
    pub ack_poll_interval: Duration,
    /// How often the housekeeper checkpoints the spool. Default 5 s.
    pub housekeeping_interval: Duration,
    /// Longest an idle worker waits for new records before looking at the shutdown signal
    /// again. Default 100 ms.
    pub idle_tick: Duration,
    /// Most records a worker holds in memory (in flight or read). Default 10,000.
    pub max_in_flight: usize,
    /// Least time between two "parked" log lines of one destination. Default 60 s.
    pub park_log_interval: Duration,
    /// Seed of the backoff jitter (mixed with the destination id); `None` from the clock.
    pub seed: Option<u64>,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            ack_poll_interval: Duration::from_secs(10),
            housekeeping_interval: Duration::from_secs(5),
            idle_tick: Duration::from_millis(100),
            max_in_flight: 10_000,
            park_log_interval: Duration::from_secs(60),
            seed: None,
        }
    }
}

/// Starts the delivery threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery;

impl Delivery {
    /// Starts one worker per destination of `config` and the housekeeper, with default
    /// [`DeliveryOptions`]. `spool_dir` holds the dead-letter files.
    ///
    /// # Errors
    ///
    /// A thread could not be spawned (the threads already started are stopped).
    pub fn start(config: &config::Config, handle: Handle, spool_dir: &Path) -> io::Result<Running> {
        Self::start_with(config, handle, spool_dir, DeliveryOptions::default())
    }

    /// [`start`](Delivery::start) with explicit options.
    ///
    /// # Errors
    ///
    /// As [`start`](Delivery::start).
    pub fn start_with(
        config: &config::Config,
        handle: Handle,
        spool_dir: &Path,
        options: DeliveryOptions,
    ) -> io::Result<Running> {
        let mut running = Running {
            workers: Vec::new(),
            stats: Vec::new(),
            worker_shutdown: Shutdown::new(),
            housekeeper: None,
            housekeeper_shutdown: Shutdown::new(),
            housekeeping: housekeeper::HousekeepingCell::default(),
            handle: handle.clone(),
        };
        for destination in &config.destinations {
            let cell = StatsCell::new(&destination.name, destination.kind.as_str());
            running.stats.push(cell.clone());
            let sender = match sender_for(destination, &config.sensor) {
                Ok(sender) => sender,
                Err(err) => {
                    let reason = err.to_string();
                    log::error!("destination {:?}: no delivery: {reason}", destination.name);
                    cell.update(|s| s.state = State::Failed { reason });
                    continue;
                }
            };
            let settings = WorkerSettings::for_destination(destination, &options);
            let worker = Worker::new(
                settings,
                sender,
                handle.clone(),
                cell,
                running.worker_shutdown.clone(),
                deadletter::DeadLetters::new(spool_dir, &destination.name),
            );
            let spawned = std::thread::Builder::new()
                .name(format!("deliver-{}", destination.name))
                .spawn(move || worker.run());
            match spawned {
                Ok(thread) => running.workers.push((destination.name.clone(), thread)),
                Err(err) => {
                    running.shutdown(Duration::from_secs(5));
                    return Err(err);
                }
            }
        }
        let keeper = Housekeeper::new(
            handle,
            options.housekeeping_interval,
            running.housekeeper_shutdown.clone(),
            running.housekeeping.clone(),
        );
        match std::thread::Builder::new()
            .name("housekeeper".into())
            .spawn(move || keeper.run())
        {
            Ok(thread) => running.housekeeper = Some(thread),
            Err(err) => {
                running.shutdown(Duration::from_secs(5));
                return Err(err);
            }
        }
        Ok(running)
    }
}

/// The running delivery threads.
#[derive(Debug)]
pub struct Running {
    workers: Vec<(String, JoinHandle<()>)>,
    stats: Vec<StatsCell>,
    worker_shutdown: Shutdown,
    housekeeper: Option<JoinHandle<()>>,
    housekeeper_shutdown: Shutdown,
    housekeeping: housekeeper::HousekeepingCell,
    handle: Handle,
}

/// What [`Running::shutdown`] achieved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShutdownReport {
    /// Threads that had not stopped by the deadline (left running; a send in progress is
    /// bounded by its destination's timeouts). Empty when everything stopped.
    pub still_running: Vec<String>,
}

impl Running {
    /// Per destination, in configuration order: state and counters, with the backlog read
    /// from the spool now.
    #[must_use]
    pub fn stats(&self) -> Vec<DeliveryStats> {
        let spool = self.handle.stats().ok();
        self.stats
            .iter()
            .map(|cell| {
                let mut stats = cell.snapshot();
                if let Some(d) = spool
                    .as_ref()
                    .and_then(|s| s.destinations.iter().find(|d| d.name == stats.name))
                {
                    stats.backlog = d.backlog;
                }
                stats
            })
            .collect()
    }

    /// The housekeeper's counters.
    #[must_use]
    pub fn housekeeping(&self) -> HousekeepingStats {
        self.housekeeping.snapshot()
    }

    /// Stops the workers, then the housekeeper (which checkpoints once more), waiting for
    /// them at most `deadline` in all.
    pub fn shutdown(mut self, deadline: Duration) -> ShutdownReport {
        let until = Instant::now() + deadline;
        self.worker_shutdown.trigger();
        let mut report = ShutdownReport::default();
        for (name, thread) in std::mem::take(&mut self.workers) {
            if join_until(thread, until).is_err() {
                report.still_running.push(format!("deliver-{name}"));
            }
        }
        self.housekeeper_shutdown.trigger();
        if let Some(thread) = self.housekeeper.take()
            && join_until(thread, until).is_err()
        {
            report.still_running.push("housekeeper".to_owned());
        }
        report
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Without an explicit shutdown, the threads are told to stop but not waited for.
        self.worker_shutdown.trigger();
        self.housekeeper_shutdown.trigger();
    }
}

/// Joins `thread` if it finishes by `until`; gives it back otherwise.
fn join_until(thread: JoinHandle<()>, until: Instant) -> Result<(), JoinHandle<()>> {
    let pause = Shutdown::new();
    while !thread.is_finished() {
        if Instant::now() >= until {
            return Err(thread);
        }
        // Nobody triggers `pause`: this is a bounded sleep between polls of the thread.
        pause.wait_timeout(Duration::from_millis(5));
    }
    // A panicked thread has stopped too; its panic was already printed.
    let _ = thread.join();
    Ok(())
}
