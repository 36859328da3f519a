//! `[metrics]`: an opt-in Prometheus / OpenMetrics endpoint, and the hooks that time what
//! the status snapshot cannot (latency histograms).
//!
//! What it is:
//! - [`start`] (called first by [`crate::service`]) binds the configured listener — a
//!   loopback TCP address or a Unix socket with an explicit mode — and serves `GET /metrics`
//!   from one thread (`http.rs`), rendered by [`exposition`]. Without `[metrics]` it does
//!   nothing and every hook stays off.
//! - The counters and gauges are those of `icsfwd status`: the service hands each status
//!   snapshot to `publish` at its status tick (every second), so a scrape shows the
//!   counters as of the last tick.
//! - The histograms are recorded where their moments happen, each by a one-line hook:
//!
//! | histogram | from | to | hook |
//! | --- | --- | --- | --- |
//! | `icsfwd_ingest_accept_duration_seconds` | a line read (`stamp`) | its `accepted` answer | `ingest_answered` in `ingest/server.rs` |
//! | `icsfwd_spool_fsync_duration_seconds` | a group commit's write | its fsync done | `commit` in `spool/commit.rs` |
//! | `icsfwd_destination_delivery_latency_seconds` | the record's commit | its delivery | `delivered`, `confirmed` in `deliver/worker.rs` |
//! | `icsfwd_destination_ack_latency_seconds` | its send | its confirmation | `awaiting`, `confirmed` in `deliver/worker.rs` |
//!
//! The registry of the histograms is process-wide, like the logger, so that the spool's
//! writer thread and the workers need no handle passed to them. It is on only between
//! [`start`] and [`Running::stop`]; while it is off every hook costs one relaxed atomic
//! load and a branch (and `ingest_answered` a check of its `Stamp`).
//!
//! What it guarantees:
//! - The endpoint listens on a loopback address or a Unix socket only (the configuration
//!   refuses any other address: it has neither TLS nor authentication), and is bounded in
//!   connections, request size, headers and time (`http::LIMITS`).
//! - Recording never blocks ingest or delivery for longer than a short critical section:
//!   histogram buckets are atomics; the commit times and send times are behind their own
//!   mutexes, held for a lookup or an insert per record; the server only reads.
//! - No secret is exposed: the same redacted texts as `icsfwd status`.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use icsfwd_core::destination::{DestinationId, MAX_DESTINATIONS};

use crate::config::{Config, MetricsListen};
use crate::ingest::schema::Answer;
use crate::status::Snapshot;

pub(crate) mod accepted;
pub(crate) mod exposition;
pub(crate) mod families;
pub(crate) mod histogram;
pub(crate) mod http;

use accepted::{Commits, Sent};
use exposition::{Format, Scrape};
use histogram::Histogram;

/// The histograms, the moments they measure from, and the last snapshot.
#[derive(Debug)]
struct Registry {
    on: AtomicBool,
    ingest_accept: Histogram,
    spool_fsync: Histogram,
    delivery: [Histogram; MAX_DESTINATIONS],
    ack: [Histogram; MAX_DESTINATIONS],
    commits: Mutex<Commits>,
    sent: [Mutex<Sent>; MAX_DESTINATIONS],
    snapshot: Mutex<Option<Snapshot>>,
    /// The destinations' names by spool position (destination id), which index the
    /// per-destination histograms: set at start, kept current by [`positions`] (a reload
    /// adds destinations at new positions).
    positions: Mutex<Vec<String>>,
}

static REGISTRY: Registry = Registry {
    on: AtomicBool::new(false),
    ingest_accept: Histogram::new(&histogram::INGEST),
    spool_fsync: Histogram::new(&histogram::FSYNC),
    delivery: [const { Histogram::new(&histogram::DELIVERY) }; MAX_DESTINATIONS],
    ack: [const { Histogram::new(&histogram::ACK) }; MAX_DESTINATIONS],
    commits: Mutex::new(Commits::new()),
    sent: [const { Mutex::new(Sent::new()) }; MAX_DESTINATIONS],
    snapshot: Mutex::new(None),
    positions: Mutex::new(Vec::new()),
};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Timings stay usable after a panicking thread.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[inline]
fn on() -> bool {
    REGISTRY.on.load(Ordering::Relaxed)
}

/// A moment a later hook measures from: taken only while metrics are on.
pub(crate) type Stamp = Option<Instant>;

/// Now, while metrics are on.
#[inline]
#[must_use]
pub(crate) fn stamp() -> Stamp {
    if on() { Some(Instant::now()) } else { None }
}

/// Hook: a line read at `read_at` was answered `answer` (only `accepted` is observed).
#[inline]
pub(crate) fn ingest_answered(read_at: Stamp, answer: &Answer) {
    if let (Some(read_at), Answer::Accepted { .. }) = (read_at, answer) {
        REGISTRY.ingest_accept.observe(read_at.elapsed());
    }
}

/// Hook around a group commit: runs `write` (which appends a batch, fsyncs and returns its
/// outcome and the spool's next sequence number afterwards); while metrics are on, times it
/// and notes the records `next_seq_before..` as accepted now.
#[inline]
pub(crate) fn commit<T>(next_seq_before: u64, write: impl FnOnce() -> (T, u64)) -> (T, u64) {
    if !on() {
        return write();
    }
    let started = Instant::now();
    let (outcome, next_seq) = write();
    if next_seq > next_seq_before {
        let done = Instant::now();
        REGISTRY.spool_fsync.observe(done - started);
        lock(&REGISTRY.commits).note(next_seq_before, next_seq, done);
    }
    (outcome, next_seq)
}

/// Hook: records `seqs` of `dest` were sent and now await their confirmation.
#[inline]
pub(crate) fn awaiting(dest: DestinationId, seqs: impl Iterator<Item = u64>) {
    if !on() {
        return;
    }
    if let Some(sent) = REGISTRY.sent.get(usize::from(dest.get())) {
        lock(sent).sent(seqs, Instant::now());
    }
}

/// Hook: records `seqs` of `dest` were delivered (confirmed by the send itself).
#[inline]
pub(crate) fn delivered(dest: DestinationId, seqs: impl Iterator<Item = u64>) {
    if !on() {
        return;
    }
    let Some(histogram) = REGISTRY.delivery.get(usize::from(dest.get())) else {
        return;
    };
    let mut seqs: Vec<u64> = seqs.collect();
    // The commit log's lock is also taken by the spool's writer (while it holds the spool):
    // held only for a merge walk of sorted sequence numbers, observed after.
    seqs.sort_unstable();
    let accepted = lock(&REGISTRY.commits).when_each(&seqs);
    let now = Instant::now();
    for at in accepted.into_iter().flatten() {
        histogram.observe(now.saturating_duration_since(at));
    }
}

/// Hook: of the records of `dest` awaiting confirmation, `indexed` were confirmed and
/// `expired` will be sent again.
#[inline]
pub(crate) fn confirmed(dest: DestinationId, indexed: &[u64], expired: &[u64]) {
    if !on() || (indexed.is_empty() && expired.is_empty()) {
        return;
    }
    let index = usize::from(dest.get());
    let (Some(sent), Some(ack)) = (REGISTRY.sent.get(index), REGISTRY.ack.get(index)) else {
        return;
    };
    let now = Instant::now();
    let mut done = Vec::with_capacity(indexed.len());
    {
        let mut sent = lock(sent);
        for &seq in indexed {
            if let Some(wait) = sent.confirmed(seq, now) {
                ack.observe(wait);
                done.push(seq);
            }
        }
        for &seq in expired {
            sent.forget(seq);
        }
    }
    delivered(dest, done.into_iter());
}

/// Hook: the service's status snapshot of this tick, for the next scrapes.
#[inline]
pub(crate) fn publish(snapshot: &Snapshot) {
    if on() {
        *lock(&REGISTRY.snapshot) = Some(snapshot.clone());
    }
}

/// Hook: the destinations' names by spool position now (the spool's view, which a reload
/// changes), so that each destination's histograms are found by its name.
pub(crate) fn positions<'a>(names: impl Iterator<Item = &'a str>) {
    if !on() {
        return;
    }
    let names: Vec<&str> = names.collect();
    let mut positions = lock(&REGISTRY.positions);
    if positions
        .iter()
        .map(String::as_str)
        .eq(names.iter().copied())
    {
        return;
    }
    *positions = names.into_iter().map(str::to_owned).collect();
}

/// The exposition now, in `format`: the last published snapshot (an empty one before the
/// first) with the histograms of its destinations, found by their spool positions.
fn scrape(format: Format) -> String {
    let snapshot = lock(&REGISTRY.snapshot)
        .clone()
        .unwrap_or_else(|| Snapshot::new("", 0));
    let names = lock(&REGISTRY.positions).clone();
    let mut scrape = Scrape::empty(&snapshot);
    scrape.ingest_accept = REGISTRY.ingest_accept.counts();
    scrape.spool_fsync = REGISTRY.spool_fsync.counts();
    for (d, counts) in snapshot.destinations.iter().zip(&mut scrape.destinations) {
        if let Some(i) = names.iter().position(|n| *n == d.name)
            && let (Some(delivery), Some(ack)) = (REGISTRY.delivery.get(i), REGISTRY.ack.get(i))
        {
            *counts = (delivery.counts(), ack.counts());
        }
    }
    exposition::render(&scrape, format)
}

/// Why the endpoint could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The address or socket could not be bound.
    Bind {
        /// The configured `listen`.
        listen: String,
        /// Why.
        source: io::Error,
    },
    /// Another process answers on the socket path.
    InUse(PathBuf),
    /// A file that is not a socket is at the socket path; it is left alone.
    NotASocket(PathBuf),
    /// The listener or the thread could not be set up.
    Io(io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Bind { listen, source } => write!(
                f,
                "cannot listen on {listen}: {source}; set [metrics] listen to a free loopback \
                 port or a socket path in a directory icsfwd can write (is another icsfwd or \
                 exporter using it?)"
            ),
            StartError::InUse(path) => write!(
                f,
                "{} is in use by another process; stop it or set [metrics] listen to another \
                 path",
                path.display()
            ),
            StartError::NotASocket(path) => write!(
                f,
                "{} exists and is not a socket; remove it or set [metrics] listen to another \
                 path",
                path.display()
            ),
            StartError::Io(e) => write!(f, "starting the endpoint: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind { source, .. } | StartError::Io(source) => Some(source),
            StartError::InUse(_) | StartError::NotASocket(_) => None,
        }
    }
}

/// The running endpoint; dropping it ends it.
#[derive(Debug)]
pub(crate) struct Running {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    socket: Option<http::SocketFile>,
}

/// Starts the endpoint of `config`'s `[metrics]` and turns the hooks on; `Ok(None)` without
/// `[metrics]`.
///
/// # Errors
///
/// The listener could not be bound (address in use, a live or foreign file at the socket
/// path, a missing directory) or the thread not started.
pub(crate) fn start(config: &Config) -> Result<Option<Running>, StartError> {
    let Some(metrics) = &config.metrics else {
        return Ok(None);
    };
    let (listener, socket, shown) = match &metrics.listen {
        MetricsListen::Tcp(addr) => {
            let listener = http::bind_tcp(*addr)?;
            let bound = match &listener {
                http::Listener::Tcp(l) => l.local_addr().map_or(*addr, |a| a),
                http::Listener::Unix(_) => *addr,
            };
            (listener, None, format!("http://{bound}/metrics"))
        }
        MetricsListen::Unix { path, mode } => {
            let (listener, file) = http::bind_unix(path, *mode)?;
            (
                listener,
                Some(file),
                format!("unix:{} (GET /metrics)", path.display()),
            )
        }
    };
    *lock(&REGISTRY.positions) = config.destinations.iter().map(|d| d.name.clone()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    REGISTRY.on.store(true, Ordering::Relaxed);
    let spawned = std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            let render = scrape;
            http::serve(&listener, http::LIMITS, &flag, &render);
        });
    let thread = match spawned {
        Ok(thread) => thread,
        Err(e) => {
            turn_off();
            if let Some(file) = &socket {
                file.remove();
            }
            return Err(StartError::Io(e));
        }
    };
    log::info!("metrics endpoint on {shown}");
    Ok(Some(Running {
        stop,
        thread: Some(thread),
        socket,
    }))
}

/// Turns the hooks off and frees what they held.
fn turn_off() {
    REGISTRY.on.store(false, Ordering::Relaxed);
    lock(&REGISTRY.commits).clear();
    for sent in &REGISTRY.sent {
        lock(sent).clear();
    }
    *lock(&REGISTRY.snapshot) = None;
    lock(&REGISTRY.positions).clear();
}

impl Running {
    /// Stops serving (within one idle poll), removes the socket file it created, and turns
    /// the hooks off; dropping it does the same.
    #[cfg(test)]
    pub(crate) fn stop(self) {
        drop(self);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread has nothing left to report.
            let _ = thread.join();
        }
        if let Some(file) = &self.socket {
            file.remove();
        }
        turn_off();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::time::Duration;

    use super::*;

    /// No test of this crate turns the registry on (the service does, in its own process:
    /// `tests/e2e/metrics.rs`), so here it is off.
    #[test]
    fn while_off_the_hooks_record_nothing() {
        assert!(!on());
        assert_eq!(stamp(), None);
        let dest = DestinationId::new(0).unwrap();
        let before = (
            REGISTRY.spool_fsync.counts().count(),
            REGISTRY.delivery[0].counts().count(),
            REGISTRY.ack[0].counts().count(),
        );
        let (ran, next) = commit(1, || {
            std::thread::sleep(Duration::from_millis(1));
            (true, 9)
        });
        assert!(ran && next == 9, "the commit itself still runs");
        awaiting(dest, 1..9);
        confirmed(dest, &[1, 2], &[3]);
        delivered(dest, 4..9);
        ingest_answered(
            stamp(),
            &Answer::Accepted {
                id: "s1-1".into(),
                truncated: vec![],
            },
        );
        publish(&Snapshot::new("s1", 0));
        let after = (
            REGISTRY.spool_fsync.counts().count(),
            REGISTRY.delivery[0].counts().count(),
            REGISTRY.ack[0].counts().count(),
        );
        assert_eq!(before, after);
        assert_eq!(lock(&REGISTRY.commits).when(5), None);
        assert!(lock(&REGISTRY.sent[0]).is_empty());
        assert!(lock(&REGISTRY.snapshot).is_none());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    #[ignore = "compiled, not run: it needs a live system (it was a no_run example)"]
    fn module_example() {
        fn main() -> Result<(), Box<dyn std::error::Error>> {
            use crate::config::Config;

            let config = Config::load(std::path::Path::new("/etc/icsfwd/icsfwd.toml"))?;
            // What `icsfwd run` does first: nothing without [metrics].
            let running = crate::metrics::start(&config)?;
            // … the service runs, publishing each status snapshot …
            if let Some(running) = running {
                running.stop();
            }
            Ok(())
        }
        main().unwrap();
    }
}
