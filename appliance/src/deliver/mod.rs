//! Delivery: one worker thread per destination moves records from the spool to its server,
//! and a housekeeper removes what every destination has delivered.
//!
//! What it is:
//! - [`sender_for`] builds each destination's sender ([`Destination::sender`]) from its
//!   validated settings (the configuration's types are the senders' types: nothing is
//!   copied).
//! - [`worker::Worker`] reads its destination's records in order
//!   ([`Handle::peek_after`](crate::spool::Handle::peek_after)), batches them (max events,
//!   linger), sends, and applies the [`Outcome`](crate::destination::Outcome) part by part:
//!   delivered records are acknowledged in the spool, HEC records awaiting their ack, syslog
//!   records awaiting the receiver's TCP acknowledgement and RELP records awaiting their `rsp`
//!   are kept in flight while later records are sent, transient failures are retried with exponential
//!   backoff and jitter, credential or configuration problems park the destination (status
//!   says why, retried slowly), refused records go to the [dead-letter file](deadletter).
//! - [`housekeeper::Housekeeper`] checkpoints the spool periodically (and once more at
//!   shutdown), so delivered segments are removed.
//! - [`Shutdown`] is the one stop signal type every thread here watches (each worker has its
//!   own); [`Delivery::start`] starts everything, [`Running::reconfigure`] restarts, starts
//!   and stops workers at a reload (`crate::reload`) leaving the unchanged ones alone, and
//!   [`Running::shutdown`] stops everything within a deadline.
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
//!   itself), while a worker's window holds few records; sooner as it fills (the interval
//!   times the share of the window still free), never more often than every
//!   [`MIN_ACK_POLL`](worker::MIN_ACK_POLL) (1 s). A stopping worker polls at once and then
//!   every second for up to [`ACK_DRAIN_WAIT`](worker::ACK_DRAIN_WAIT). A record whose ack
//!   passes the destination's `ack_deadline` is resent.
//! - HEC requests awaiting their ack are persisted (`acks/<destination>.acks` in the spool
//!   directory, `destination::hec::ack_state`): after a restart the worker asks about them
//!   first, on their own channel, and resends only what is not confirmed within the deadline
//!   ([`Sender::resume`], [`Sender::restore`]; `docs/spool.md`, "HEC ack state").
//! - A parked destination is retried every `retry_max` and logs what to fix at most once per
//!   [`DeliveryOptions::park_log_interval`] (default 60 s).
//! - A worker keeps at most [`DeliveryOptions::max_in_flight`] records in memory (sent and
//!   awaiting acks, or read and not yet sent).
//! - `splunk` destinations send one event per request anyway; their worker takes up to
//!   [`splunk::BATCH`](crate::destination::splunk::BATCH) records per `send` with no
//!   linger; `syslog` destinations as many
//!   ([`syslog::BATCH`](crate::destination::syslog::BATCH)), written as they come.
//! - A destination whose sender cannot be set up (a CA file that cannot be read) gets no
//!   worker and the state
//!   [`Failed`](stats::State::Failed) with the reason: its records stay in the spool, the
//!   other destinations run.
//! - Logs go through the `log` facade (target `icsfwd::deliver::…`), which
//!   [`logging`](crate::logging) writes as journald lines.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::io;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config;
use crate::destination::{Destination, Sender, SetupError};
use crate::spool::Handle;

pub(crate) mod deadletter;
pub(crate) mod housekeeper;
pub(crate) mod replay;
pub(crate) mod stats;
pub(crate) mod worker;

use housekeeper::{Housekeeper, HousekeepingStats};
use stats::{DeliveryStats, State, StatsCell};
use worker::{Worker, WorkerSettings};

/// Builds the sender of `destination` for the configured `sensor` (whose address is the
/// `host` of `splunk` requests): [`Destination::sender`].
///
/// # Errors
///
/// The sender refused its settings (a TLS file that cannot be used, a syslog host that is
/// not a valid TLS server name).
pub fn sender_for(
    destination: &Destination,
    sensor: &config::Sensor,
) -> Result<Box<dyn Sender>, SetupError> {
    destination.sender(sensor.ip)
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
    pub(crate) fn wait_timeout(&self, timeout: Duration) -> bool {
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
    pub(crate) fn start(
        config: &config::Config,
        handle: Handle,
        spool_dir: &Path,
    ) -> io::Result<Running> {
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
            housekeeper: None,
            housekeeper_shutdown: Shutdown::new(),
            housekeeping: housekeeper::HousekeepingCell::default(),
            handle: handle.clone(),
            spool_dir: spool_dir.to_path_buf(),
            options,
        };
        for destination in &config.destinations {
            if let Err(err) = running.start_worker(destination, &config.sensor, None) {
                running.shutdown(Duration::from_secs(5));
                return Err(err);
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

/// One destination's worker: its settings (to tell a changed destination from an unchanged
/// one at a reload), its counters, its own stop signal and its thread (`None`: its sender
/// could not be set up, see [`State::Failed`]).
#[derive(Debug)]
struct WorkerSlot {
    destination: Destination,
    stats: StatsCell,
    shutdown: Shutdown,
    thread: Option<JoinHandle<()>>,
}

/// The running delivery threads.
#[derive(Debug)]
pub struct Running {
    /// In configuration order.
    workers: Vec<WorkerSlot>,
    housekeeper: Option<JoinHandle<()>>,
    housekeeper_shutdown: Shutdown,
    housekeeping: housekeeper::HousekeepingCell,
    handle: Handle,
    spool_dir: std::path::PathBuf,
    options: DeliveryOptions,
}

/// What [`Running::shutdown`] achieved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShutdownReport {
    /// Threads that had not stopped by the deadline (left running; a send in progress is
    /// bounded by its destination's timeouts). Empty when everything stopped.
    pub still_running: Vec<String>,
}

impl Running {
    /// Starts the worker of `destination` (or records why its sender could not be set up:
    /// [`State::Failed`], no thread) at the end of the list. Its counters go on from
    /// `previous` (those of the worker it replaces), so that they only grow.
    fn start_worker(
        &mut self,
        destination: &Destination,
        sensor: &config::Sensor,
        previous: Option<DeliveryStats>,
    ) -> io::Result<()> {
        let cell = StatsCell::new(&destination.name, destination.kind.as_str());
        if let Some(previous) = previous {
            cell.update(|s| {
                *s = DeliveryStats {
                    name: destination.name.clone(),
                    kind: destination.kind.as_str().to_owned(),
                    state: State::Idle,
                    acks_pending: 0,
                    ..previous
                };
            });
        }
        let shutdown = Shutdown::new();
        let mut slot = WorkerSlot {
            destination: destination.clone(),
            stats: cell.clone(),
            shutdown: shutdown.clone(),
            thread: None,
        };
        let sender = match sender_for(destination, sensor) {
            Ok(sender) => sender,
            Err(err) => {
                let reason = err.to_string();
                log::error!("destination {:?}: no delivery: {reason}", destination.name);
                cell.update(|s| s.state = State::Failed { reason });
                self.workers.push(slot);
                return Ok(());
            }
        };
        let mut settings = WorkerSettings::for_destination(destination, &self.options);
        settings.state_dir = Some(self.spool_dir.clone());
        let worker = Worker::new(
            settings,
            sender,
            self.handle.clone(),
            cell,
            shutdown,
            deadletter::DeadLetters::new(&self.spool_dir, &destination.name),
        );
        let thread = std::thread::Builder::new()
            .name(format!("deliver-{}", destination.name))
            .spawn(move || worker.run())?;
        slot.thread = Some(thread);
        self.workers.push(slot);
        Ok(())
    }

    /// Per destination, in configuration order: state and counters, with the backlog read
    /// from the spool now.
    #[must_use]
    pub fn stats(&self) -> Vec<DeliveryStats> {
        let spool = self.handle.stats().ok();
        self.workers
            .iter()
            .map(|slot| {
                let mut stats = slot.stats.snapshot();
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

    /// Whether the worker of `destination` runs on exactly these settings (same name, same
    /// position, same keys and secrets).
    #[must_use]
    pub fn runs(&self, destination: &Destination) -> bool {
        self.workers.iter().any(|w| w.destination == *destination)
    }

    /// Moves the workers to the destinations of `config`: the worker of a destination that
    /// is gone, or is in `restart`, or whose settings changed, is stopped (it finishes the
    /// request in flight within `deadline`, acknowledges what was confirmed, and leaves the
    /// rest in the spool); every destination then without a worker gets a new one, which
    /// reads on from the destination's cursor. The workers of unchanged destinations are not
    /// touched. Returns the workers that had not stopped by the deadline (they stop after
    /// their request; nothing they did not confirm is acknowledged).
    ///
    /// # Errors
    ///
    /// A thread could not be spawned (its destination has no worker until the next reload
    /// or restart; its records stay in the spool).
    pub(crate) fn reconfigure(
        &mut self,
        config: &config::Config,
        restart: &[String],
        deadline: Duration,
    ) -> io::Result<Vec<String>> {
        let until = Instant::now() + deadline;
        let (keep, stop): (Vec<WorkerSlot>, Vec<WorkerSlot>) = std::mem::take(&mut self.workers)
            .into_iter()
            .partition(|w| {
                config.destinations.contains(&w.destination)
                    && !restart.contains(&w.destination.name)
            });
        for slot in &stop {
            slot.shutdown.trigger();
        }
        let mut late = Vec::new();
        let mut previous = Vec::new();
        for slot in stop {
            if let Some(thread) = slot.thread
                && join_until(thread, until).is_err()
            {
                late.push(slot.destination.name.clone());
            }
            previous.push(slot.stats.snapshot());
        }
        let mut keep: Vec<Option<WorkerSlot>> = keep.into_iter().map(Some).collect();
        for destination in &config.destinations {
            let kept = keep
                .iter_mut()
                .find(|w| w.as_ref().is_some_and(|w| w.destination == *destination))
                .and_then(Option::take);
            match kept {
                Some(slot) => self.workers.push(slot),
                None => {
                    let counters = previous
                        .iter()
                        .find(|p| p.name == destination.name)
                        .cloned();
                    self.start_worker(destination, &config.sensor, counters)?;
                }
            }
        }
        Ok(late)
    }

    /// Stops the workers, then the housekeeper (which checkpoints once more), waiting for
    /// them at most `deadline` in all.
    pub fn shutdown(mut self, deadline: Duration) -> ShutdownReport {
        let until = Instant::now() + deadline;
        for slot in &self.workers {
            slot.shutdown.trigger();
        }
        let mut report = ShutdownReport::default();
        for slot in std::mem::take(&mut self.workers) {
            if let Some(thread) = slot.thread
                && join_until(thread, until).is_err()
            {
                report
                    .still_running
                    .push(format!("deliver-{}", slot.destination.name));
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
        for slot in &self.workers {
            slot.shutdown.trigger();
        }
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

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::deliver::Shutdown;
        use std::time::Duration;

        let shutdown = Shutdown::new();
        let watcher = shutdown.clone();
        let thread = std::thread::spawn(move || watcher.wait_timeout(Duration::from_secs(600)));
        shutdown.trigger();
        assert!(
            thread.join().unwrap(),
            "woken by the trigger, not the timeout"
        );
        assert!(shutdown.is_triggered());
    }
}

#[cfg(test)]
mod worker_doc_example {
    //! The example of `deliver/worker.rs`, run as a unit test (that module is internal to
    //! the crate; its own copy of the example is not run).

    #[test]
    fn worker_module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::deliver::Shutdown;
        use crate::deliver::deadletter::DeadLetters;
        use crate::deliver::stats::StatsCell;
        use crate::deliver::worker::{Worker, WorkerSettings};
        use crate::destination::classify::Action;
        use crate::destination::{AckReport, Item, Outcome, Restored, Sender};
        use crate::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig, storage::FsStorage};
        use icsfwd_core::alert::{Alert, Event};
        use icsfwd_core::destination::{DestinationId, DestinationSet};
        use std::time::{Duration, Instant};

        struct Accept;
        impl Sender for Accept {
            fn send(&mut self, batch: &[Item<'_>], _: Instant) -> Outcome {
                Outcome::whole(batch.len(), Action::Delivered)
            }
            // Delivered on the spot: nothing ever awaits a confirmation, nothing can be lost.
            fn poll_acks(&mut self, _: Instant) -> AckReport {
                AckReport::default()
            }
            // One host, nothing to show.
            fn hosts(&self, _: Instant) -> Vec<crate::destination::HostState> {
                Vec::new()
            }
            fn pending_acks(&self) -> usize {
                0
            }
            fn poll_interval(&self) -> Option<Duration> {
                None
            }
            fn possible_loss(&self) -> u64 {
                0
            }
            fn finish(&mut self) -> AckReport {
                AckReport::default()
            }
            // Keeps nothing across a restart.
            fn resume(&mut self, _: &std::path::Path, _: &str) -> Option<u64> {
                None
            }
            fn restore(&mut self, _: &[(u64, u32)], _: Instant) -> Vec<(u64, Restored)> {
                Vec::new()
            }
        }

        let dir = tempfile::tempdir()?;
        let (spool, _) = Spool::open(
            FsStorage::new(),
            dir.path(),
            SpoolConfig::default(),
            &["a".to_string()],
        )?;
        let group = GroupCommit::start(spool, GroupConfig::default())?;
        let dest = DestinationId::new(0).unwrap();
        group.handle().append(
            Event::from(Alert::example(0)),
            DestinationSet::EMPTY.with(dest),
        )?;

        let settings = WorkerSettings::new(dest, "a");
        let (stats, shutdown) = (StatsCell::new("a", "test"), Shutdown::new());
        let worker = Worker::new(
            settings,
            Box::new(Accept),
            group.handle(),
            stats.clone(),
            shutdown.clone(),
            DeadLetters::new(dir.path(), "a"),
        );
        let thread = std::thread::spawn(move || worker.run());
        let give_up = Instant::now() + Duration::from_secs(30);
        while stats.snapshot().delivered < 1 && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(10));
        }
        shutdown.trigger();
        thread.join().unwrap();
        assert_eq!(stats.snapshot().delivered, 1);
        assert!(
            group.handle().peek(dest, 10)?.is_empty(),
            "acknowledged in the spool"
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
