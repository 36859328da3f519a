//! The worker of one destination: spool → batch → sender → spool cursor.
//!
//! What it is: [`Worker::run`] first restores what its sender kept from before a restart
//! (HEC requests awaiting their ack: [`Sender::resume`], [`Sender::restore`]; they are asked
//! about before anything is sent), then loops until its [`Shutdown`]: it polls HEC acks when due,
//! acknowledges in the spool the prefix of its window that is confirmed, reads the records
//! that follow its window ([`Handle::peek_after`]), sends a batch when it is full or its
//! oldest record waited `linger` (and no backoff holds it), and otherwise waits for new
//! durable records, the linger, the backoff or the next ack poll, whichever comes first.
//!
//! The window holds the records read and not yet acknowledged in the spool, in sequence
//! order, each *pending* (to send), *awaiting* (a HEC ack, or a syslog receiver's TCP
//! acknowledgement) or *done* (delivered or dead-lettered). An [`Outcome`] is applied part by part:
//!
//! | action | the records become | and the worker |
//! | --- | --- | --- |
//! | Delivered | done | counts them delivered, resets the backoff |
//! | AwaitingAck | awaiting | polls at the sender's own [`Sender::poll_interval`] (syslog, 5 ms; RELP, every turn), HEC acks every ack poll interval, sooner as the window fills (down to [`MIN_ACK_POLL`]); confirmed (HEC ack `true`, syslog TCP acknowledgement) → done; expired (past the HEC ack deadline, or on a syslog connection that broke) → pending again (a possible duplicate when resent) |
//! | Retry { after } | pending | waits the backoff (at least `after`), state `retrying` |
//! | Park { reason } | pending | waits `retry_max`, state `parked` with the reason, logs it at most once per park log interval |
//! | DeadLetter { reason } | done once written and fsynced to the dead-letter file | counts them dead-lettered |
//!
//! Syslog over RELP uses the same path: its records await the receiver's `rsp`, polled at
//! every turn (its [`Sender::poll_interval`] is
//! [`ACK_POLL_INTERVAL`](crate::destination::syslog::relp::ACK_POLL_INTERVAL)); a broken
//! session expires them (pending again, possible duplicates); an answer that refuses a record
//! ([`AckReport::refused`]) dead-letters it or makes it pending behind a park or backoff. At a
//! clean stop the sender's [`finish`](super::Sender::finish) (RELP `close`) reports the last
//! answers before the confirmed prefix is acknowledged.
//!
//! What it guarantees: see the [module](super) docs — confirmed-only removal, per-destination
//! order, counted duplicates, no sleep that ignores the shutdown (once it is triggered, a
//! syslog worker polls its last TCP confirmations for at most [`FINAL_CONFIRM_WAIT`]), bounded
//! memory ([`WorkerSettings::max_in_flight`]).
//!
//! A worker can be driven by any [`Sender`]; tests use this to script outcomes:
//!
//! ```ignore
//! use std::time::{Duration, Instant};
//! use icsfwd::deliver::Shutdown;
//! use icsfwd::deliver::deadletter::DeadLetters;
//! use icsfwd::deliver::stats::StatsCell;
//! use icsfwd::deliver::worker::{Worker, WorkerSettings};
//! use icsfwd::destination::{AckReport, Item, Outcome, Restored, Sender};
//! use icsfwd::destination::classify::Action;
//! use icsfwd::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig, storage::FsStorage};
//! use icsfwd_core::alert::{Alert, Event};
//! use icsfwd_core::destination::{DestinationId, DestinationSet};
//!
//! struct Accept;
//! impl Sender for Accept {
//!     fn send(&mut self, batch: &[Item<'_>], _: Instant) -> Outcome {
//!         Outcome::whole(batch.len(), Action::Delivered)
//!     }
//!     // Delivered on the spot: nothing ever awaits a confirmation, nothing can be lost.
//!     fn poll_acks(&mut self, _: Instant) -> AckReport { AckReport::default() }
//!     fn hosts(&self, _: Instant) -> Vec<icsfwd::destination::HostState> { Vec::new() }
//!     fn pending_acks(&self) -> usize { 0 }
//!     fn poll_interval(&self) -> Option<Duration> { None }
//!     fn possible_loss(&self) -> u64 { 0 }
//!     fn finish(&mut self) -> AckReport { AckReport::default() }
//!     // Keeps nothing across a restart.
//!     fn resume(&mut self, _: &std::path::Path, _: &str) -> Option<u64> { None }
//!     fn restore(&mut self, _: &[(u64, u32)], _: Instant) -> Vec<(u64, Restored)> { Vec::new() }
//! }
//!
//! let dir = tempfile::tempdir()?;
//! let (spool, _) = Spool::open(FsStorage::new(), dir.path(), SpoolConfig::default(), &["a".to_string()])?;
//! let group = GroupCommit::start(spool, GroupConfig::default())?;
//! let dest = DestinationId::new(0).unwrap();
//! group.handle().append(Event::from(Alert::example(0)), DestinationSet::EMPTY.with(dest))?;
//!
//! let settings = WorkerSettings::new(dest, "a");
//! let (stats, shutdown) = (StatsCell::new("a", "test"), Shutdown::new());
//! let worker = Worker::new(settings, Box::new(Accept), group.handle(), stats.clone(),
//!     shutdown.clone(), DeadLetters::new(dir.path(), "a"));
//! let thread = std::thread::spawn(move || worker.run());
//! let give_up = Instant::now() + Duration::from_secs(30);
//! while stats.snapshot().delivered < 1 && Instant::now() < give_up {
//!     std::thread::sleep(Duration::from_millis(10));
//! }
//! shutdown.trigger();
//! thread.join().unwrap();
//! assert_eq!(stats.snapshot().delivered, 1);
//! assert!(group.handle().peek(dest, 10)?.is_empty(), "acknowledged in the spool");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;
use icsfwd_core::destination::DestinationId;

use super::deadletter::DeadLetters;
use super::stats::{State, StatsCell};
use super::{DeliveryOptions, Shutdown};
use crate::clock::now_ms;
use crate::destination::Destination;
use crate::destination::classify::{Action, Backoff};
use crate::destination::hec::ack_state::record_mark;
use crate::destination::{AckReport, Outcome, Restored, Sender, UNPACK_FAILED};
use crate::spool::commit::Wait;
use crate::spool::packed::Packed;
use crate::spool::{Handle, SpoolError};

/// Records read from the spool per call as whole records (each ~2.7 KB: the window resumed
/// at start, which needs the events' ack marks).
const READ_CHUNK: usize = 64;

/// Records per spool read as stored bodies ([`Worker::read`]): a few hundred bytes each, so a
/// chunk holds a full batch's worth in about 100 KB.
const PACKED_READ_CHUNK: usize = 256;

/// The shortest pace of HEC ack polls, reached when the window is (almost) full of records
/// awaiting acks or the worker is stopping. Splunk's advised
/// pace, every 10 s ([`DeliveryOptions::ack_poll_interval`]), is kept while the window is
/// nearly empty; as it fills, polls come sooner, never more than once a second per channel
/// and URL (an ack was seen turning `true` about 1 s after its request on a real Splunk).
/// The usual interval alone would cap a HEC destination with acks at `max_in_flight` records
/// per interval — 1,000 alerts/s with the defaults, measured 1,310/s by the end-to-end bench.
pub(crate) const MIN_ACK_POLL: Duration = Duration::from_secs(1);

/// Longest a stopping worker polls HEC acks (every [`MIN_ACK_POLL`]) to drain its window
/// before what is still awaited stays persisted in the ack state, to be asked about after the
/// restart: inside the service's 5 s stop.
pub(crate) const ACK_DRAIN_WAIT: Duration = Duration::from_secs(3);

/// Longest a stopping worker polls for the confirmations its sender reads locally (see
/// [`Worker::run`]): four times syslog's settle time, well inside the service's 5 s stop.
pub(crate) const FINAL_CONFIRM_WAIT: Duration = Duration::from_millis(200);

/// How one worker batches, backs off and polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// The destination's id in the spool.
    pub dest: DestinationId,
    /// Its name (logs).
    pub name: String,
    /// Most records per `send`.
    pub batch_max_events: usize,
    /// How long the oldest record of a batch that is not full may wait for more.
    pub linger: Duration,
    /// Backoff minimum.
    pub retry_min: Duration,
    /// Backoff maximum, also the pace of a parked destination.
    pub retry_max: Duration,
    /// See [`DeliveryOptions::ack_poll_interval`].
    pub ack_poll_interval: Duration,
    /// See [`DeliveryOptions::idle_tick`].
    pub idle_tick: Duration,
    /// See [`DeliveryOptions::max_in_flight`].
    pub max_in_flight: usize,
    /// See [`DeliveryOptions::park_log_interval`].
    pub park_log_interval: Duration,
    /// Backoff jitter seed.
    pub seed: u64,
    /// The spool directory, where a sender keeps its state across restarts
    /// ([`Sender::resume`]); `None`: no state kept.
    pub state_dir: Option<std::path::PathBuf>,
}

impl WorkerSettings {
    /// Settings with the defaults of [`DeliveryOptions`], 500 events per batch, 50 ms linger,
    /// backoff 1 s to 300 s.
    #[must_use]
    pub fn new(dest: DestinationId, name: &str) -> Self {
        let options = DeliveryOptions::default();
        Self {
            dest,
            name: name.to_owned(),
            batch_max_events: 500,
            linger: Duration::from_millis(50),
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            ack_poll_interval: options.ack_poll_interval,
            idle_tick: options.idle_tick,
            max_in_flight: options.max_in_flight,
            park_log_interval: options.park_log_interval,
            seed: seed(None, dest),
            state_dir: None,
        }
    }

    /// The settings of `destination`'s worker.
    ///
    /// A HEC destination with acks polls at least twice per `ack_deadline`: the deadline is
    /// only checked when acks are polled, so a deadline shorter than
    /// [`DeliveryOptions::ack_poll_interval`] would otherwise act as that interval.
    #[must_use]
    pub(crate) fn for_destination(destination: &Destination, options: &DeliveryOptions) -> Self {
        let batching = destination.kind.batching();
        let ack_poll_interval = destination
            .kind
            .ack_poll_interval(options.ack_poll_interval);
        Self {
            dest: destination.id,
            name: destination.name.clone(),
            batch_max_events: batching.max_events.max(1),
            linger: batching.linger,
            retry_min: destination.retry.min,
            retry_max: destination.retry.max,
            ack_poll_interval,
            idle_tick: options.idle_tick,
            max_in_flight: options.max_in_flight.max(1),
            park_log_interval: options.park_log_interval,
            seed: seed(options.seed, destination.id),
            state_dir: None,
        }
    }
}

/// The pace of HEC ack polls for a window of `len` records out of `max`: `interval` times the
/// share of the window still free, at least [`MIN_ACK_POLL`] (or `interval`, if shorter).
fn adaptive_ack_poll(interval: Duration, len: usize, max: usize) -> Duration {
    let max = max.max(1);
    let free = max.saturating_sub(len) as f64 / max as f64;
    interval.mul_f64(free).max(MIN_ACK_POLL.min(interval))
}

fn seed(seed: Option<u64>, dest: DestinationId) -> u64 {
    let base = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos().into())
            .unwrap_or(0)
    });
    base ^ u64::from(dest.get()).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// `event` packed for the window; `None` (logged) for one core cannot write as a record body,
/// which a record read from the spool always is: the entry is then read from the spool again
/// when it is sent.
fn pack(name: &str, seq: u64, event: &Event) -> Option<Packed> {
    match Packed::new(event) {
        Ok(packed) => Some(packed),
        Err(err) => {
            log::error!("destination {name:?}: record {seq} cannot be held in memory: {err}");
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Awaiting,
    Done,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    /// The event while it may still be sent, packed (its record body, a few hundred bytes:
    /// a core event holds its strings inline, ~2.7 KB, and a window of 500 of them was
    /// ~1.35 MB per destination); `None` once it awaits an ack or is done: a resend after an
    /// expired ack reads it from the spool again.
    event: Option<Packed>,
    status: Status,
    read_at: Instant,
    /// Possibly received by the server already: a resend counts as a possible duplicate.
    maybe_sent: bool,
}

/// What applying one outcome came to, and what the worker does next.
#[derive(Debug, Default)]
struct Applied {
    /// Records delivered.
    delivered: u64,
    /// Records written to the dead-letter file.
    dead_lettered: u64,
    /// Back off (with the longest delay a server asked for), unless parked.
    retry: Option<Option<Duration>>,
    /// Park, for this reason.
    park: Option<String>,
}

/// The worker of one destination; see the [module docs](self).
pub struct Worker {
    settings: WorkerSettings,
    sender: Box<dyn Sender>,
    handle: Handle,
    stats: StatsCell,
    shutdown: Shutdown,
    dead_letters: DeadLetters,
    window: VecDeque<Entry>,
    last_read: u64,
    backoff: Backoff,
    attempt: u32,
    hold_until: Option<Instant>,
    next_ack_poll: Instant,
    last_ack_poll: Instant,
    parked: Option<String>,
    last_park_log: Option<Instant>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("settings", &self.settings)
            .field("window", &self.window.len())
            .field("last_read", &self.last_read)
            .finish_non_exhaustive()
    }
}

/// What a spool call's failure means for the loop.
enum Flow {
    Continue,
    Stop,
}

impl Worker {
    /// A worker sending `settings.dest`'s records through `sender`.
    #[must_use]
    pub fn new(
        settings: WorkerSettings,
        sender: Box<dyn Sender>,
        handle: Handle,
        stats: StatsCell,
        shutdown: Shutdown,
        dead_letters: DeadLetters,
    ) -> Self {
        let backoff = Backoff::new(settings.retry_min, settings.retry_max, settings.seed);
        Self {
            settings,
            sender,
            handle,
            stats,
            shutdown,
            dead_letters,
            window: VecDeque::new(),
            last_read: 0,
            backoff,
            attempt: 0,
            hold_until: None,
            next_ack_poll: Instant::now(),
            last_ack_poll: Instant::now(),
            parked: None,
            last_park_log: None,
        }
    }

    /// Runs until the shutdown signal (or the spool closes).
    pub fn run(mut self) {
        log::info!("destination {:?}: delivery started", self.settings.name);
        self.resume_window();
        while !self.shutdown.is_triggered() {
            if let Flow::Stop = self.step() {
                break;
            }
        }
        self.final_confirmations();
        // A RELP session ends with `close`; its last answers count.
        let report = self.sender.finish();
        self.apply_ack_report(report, Instant::now());
        // Persist in memory what is confirmed; the housekeeper's last checkpoint writes it.
        let _ = self.release_done();
        let in_flight = self.window.len();
        self.stats
            .update(|s| s.state = super::stats::State::Stopped);
        log::info!(
            "destination {:?}: delivery stopped ({in_flight} records in flight stay in \
                 the spool)",
            self.settings.name
        );
    }

    /// At shutdown, gives the records awaiting a confirmation a last chance, so that a clean
    /// stop does not send them again after the restart: those the sender reads locally
    /// (syslog's TCP acknowledgement, its settle time away) up to [`FINAL_CONFIRM_WAIT`]; HEC
    /// acks up to [`ACK_DRAIN_WAIT`], polled at once and then every [`MIN_ACK_POLL`], until a
    /// poll fails (what is left stays in the ack state). The shutdown is already triggered:
    /// these are bounded pauses between polls, not a wait on it.
    fn final_confirmations(&mut self) {
        let (interval, wait) = match self.sender.poll_interval() {
            Some(interval) => (interval, FINAL_CONFIRM_WAIT),
            None => (self.ack_poll_interval().min(MIN_ACK_POLL), ACK_DRAIN_WAIT),
        };
        let until = Instant::now() + wait;
        while self.sender.pending_acks() > 0 && Instant::now() < until {
            let report = self.sender.poll_acks(Instant::now());
            let failed = report.last_error.is_some();
            self.apply_ack_report(report, Instant::now());
            if failed && self.sender.poll_interval().is_none() {
                break;
            }
            if self.sender.pending_acks() > 0 {
                std::thread::sleep(interval.min(until.saturating_duration_since(Instant::now())));
            }
        }
    }

    /// At start, before anything is sent: reads the window as far as the requests the
    /// sender's state names ([`Sender::resume`]), lets the sender say which of those records
    /// await a confirmation, were confirmed, or must be sent again ([`Sender::restore`]), and
    /// asks about the awaited ones first. Entries awaiting or confirmed drop their event;
    /// those to send keep it (re-reading each from the spool at its send would decode the
    /// window from the cursor every time): right after a restart the window may hold up to
    /// `max_in_flight` events (packed, a few hundred bytes each) until they are sent.
    fn resume_window(&mut self) {
        let Some(dir) = self.settings.state_dir.clone() else {
            return;
        };
        let Some(upto) = self.sender.resume(&dir, &self.settings.name) else {
            return;
        };
        let now = Instant::now();
        let mut marks = Vec::new();
        while self.last_read < upto && self.window.len() < self.settings.max_in_flight {
            let chunk = READ_CHUNK.min(self.settings.max_in_flight - self.window.len());
            let records = match self
                .handle
                .peek_after(self.settings.dest, self.last_read, chunk)
            {
                Ok(records) if records.is_empty() => break,
                Ok(records) => records,
                Err(err) => {
                    let _ = self.spool_error(&err, "reading the spool");
                    break;
                }
            };
            for record in records {
                marks.push((record.seq, record_mark(record.seq, &record.event)));
                self.last_read = record.seq;
                self.window.push_back(Entry {
                    seq: record.seq,
                    event: pack(&self.settings.name, record.seq, &record.event),
                    status: Status::Pending,
                    read_at: now,
                    maybe_sent: false,
                });
            }
        }
        let mut counts = [0u64; 3];
        for (seq, restored) in self.sender.restore(&marks, now) {
            let Ok(i) = self.window.binary_search_by_key(&seq, |e| e.seq) else {
                continue;
            };
            let Some(entry) = self.window.get_mut(i) else {
                continue;
            };
            match restored {
                Restored::Awaiting => entry.status = Status::Awaiting,
                Restored::Confirmed => entry.status = Status::Done,
                Restored::Resend => entry.maybe_sent = true,
            }
            if entry.status != Status::Pending {
                entry.event = None;
            }
            if let Some(count) = counts.get_mut(restored as usize) {
                *count += 1;
            }
        }
        let [resend, awaiting, confirmed] = counts;
        log::info!(
            "destination {:?}: from before the restart, {awaiting} record(s) await their ack \
             (asked first), {confirmed} were confirmed, {resend} are sent again (possible \
             duplicates)",
            self.settings.name
        );
        self.next_ack_poll = now;
        self.last_ack_poll = now;
    }

    /// One turn of the loop.
    fn step(&mut self) -> Flow {
        let now = Instant::now();
        if self.sender.pending_acks() > 0 && now >= self.ack_poll_due() {
            self.poll_acks(now);
        }
        if let Flow::Stop = self.release_done() {
            return Flow::Stop;
        }
        let seen = self.handle.next_seq();
        let room = self
            .settings
            .max_in_flight
            .saturating_sub(self.window.len());
        // Read only while a batch is not full (a read walks past the records in flight), and
        // only what fills it: records read ahead of the next batch would sit in memory
        // for nothing — reading the whole backlog at once (as events) cost ~80 MB of RSS.
        let wanted = room.min(
            self.settings
                .batch_max_events
                .saturating_sub(self.pending()),
        );
        if wanted > 0
            && let Flow::Stop = self.read(wanted, now)
        {
            return Flow::Stop;
        }
        let holding = self.hold_until.is_some_and(|until| now < until);
        let pending = self.pending();
        let mut wake = now + self.settings.idle_tick;
        if pending > 0 && !holding {
            let oldest = self
                .window
                .iter()
                .find(|e| e.status == Status::Pending)
                .map_or(now, |e| e.read_at);
            let linger_until = oldest + self.settings.linger;
            let full = pending >= self.settings.batch_max_events
                || self.window.len() >= self.settings.max_in_flight;
            if full || now >= linger_until {
                self.send();
                return Flow::Continue;
            }
            wake = wake.min(linger_until);
        }
        if pending == 0 && self.sender.pending_acks() == 0 && self.parked.is_none() {
            self.set_state(State::Idle);
        }
        if self.sender.pending_acks() > 0 {
            wake = wake.min(self.ack_poll_due().max(now));
        }
        if holding {
            if let Some(until) = self.hold_until {
                wake = wake.max(now).min(until.max(now));
                if self.sender.pending_acks() > 0 {
                    wake = wake.min(self.ack_poll_due().max(now));
                }
            }
            self.shutdown
                .wait_timeout(wake.saturating_duration_since(now));
            return Flow::Continue;
        }
        let timeout = wake.saturating_duration_since(now);
        if timeout.is_zero() {
            return Flow::Continue;
        }
        if room == 0 || pending >= self.settings.batch_max_events {
            // Nothing more would be read: new records do not matter.
            self.shutdown.wait_timeout(timeout);
        } else if self
            .handle
            .wait_for_records(self.wake_at(seen, pending), timeout)
            == Wait::ShuttingDown
        {
            // The spool is closing: do not spin on its answer.
            self.shutdown.wait_timeout(timeout);
        }
        Flow::Continue
    }

    /// The `next_seq` to wait past: while a batch lingers, until enough records are durable
    /// to fill it (or the linger ends), not each new record — every read walks the pending
    /// records again, which at 1,000 alerts/s made the worker read (and decode) ~25 records
    /// per alert. Records for other destinations can only make it wake sooner: never later
    /// than the next record after `seen` when the window is behind.
    fn wake_at(&self, seen: u64, pending: usize) -> u64 {
        if pending == 0 {
            return seen;
        }
        let needed = self.settings.batch_max_events.saturating_sub(pending) as u64;
        seen.max(self.last_read.saturating_add(needed))
    }

    /// When acks are polled next. A sender with its own pace (syslog) is polled at it. HEC acks
    /// adapt to the window: every ack poll interval (Splunk's advised 10 s) while the window
    /// holds few records, sooner as it fills — the interval times the share of the window
    /// still free — down to [`MIN_ACK_POLL`] when it is (nearly) full; a poll right after a
    /// restart asks about the requests restored.
    fn ack_poll_due(&self) -> Instant {
        if self.sender.poll_interval().is_some() {
            return self.next_ack_poll;
        }
        let pace = adaptive_ack_poll(
            self.ack_poll_interval(),
            self.window.len(),
            self.settings.max_in_flight,
        );
        self.next_ack_poll.min(self.last_ack_poll + pace)
    }

    /// The sender's own poll pace (syslog TCP confirmations), else the settings'.
    fn ack_poll_interval(&self) -> Duration {
        self.sender
            .poll_interval()
            .unwrap_or(self.settings.ack_poll_interval)
    }

    fn pending(&self) -> usize {
        self.window
            .iter()
            .filter(|e| e.status == Status::Pending)
            .count()
    }

    fn set_state(&self, state: State) {
        self.stats.update(|s| {
            if s.state != state {
                s.state = state;
            }
        });
    }

    /// Reads up to `room` records after the window, [`PACKED_READ_CHUNK`] at a time, each
    /// as its stored body ([`Handle::peek_packed_after`]: never decoded into a whole event,
    /// ~2.7 KB, to be packed again). A chunk bounds how long one read holds the spool's lock
    /// (the group commit waits for it); the spool continues after the last record handed
    /// out, so chunks cost no re-reading.
    fn read(&mut self, room: usize, now: Instant) -> Flow {
        let mut left = room;
        while left > 0 {
            let chunk = left.min(PACKED_READ_CHUNK);
            match self
                .handle
                .peek_packed_after(self.settings.dest, self.last_read, chunk)
            {
                Ok(records) => {
                    let got = records.len();
                    for (seq, packed) in records {
                        self.last_read = seq;
                        self.window.push_back(Entry {
                            seq,
                            event: Some(packed),
                            status: Status::Pending,
                            read_at: now,
                            maybe_sent: false,
                        });
                    }
                    if got < chunk {
                        break;
                    }
                    left -= got;
                }
                Err(err) => return self.spool_error(&err, "reading the spool"),
            }
        }
        Flow::Continue
    }

    /// Acknowledges in the spool the confirmed prefix of the window.
    fn release_done(&mut self) -> Flow {
        let mut upto = None;
        while let Some(front) = self.window.front() {
            if front.status != Status::Done {
                break;
            }
            upto = Some(front.seq);
            self.window.pop_front();
        }
        let Some(upto) = upto else {
            return Flow::Continue;
        };
        match self.handle.ack(self.settings.dest, upto) {
            Ok(_) => Flow::Continue,
            Err(err) => self.spool_error(&err, "acknowledging in the spool"),
        }
    }

    fn spool_error(&mut self, err: &SpoolError, what: &str) -> Flow {
        if matches!(err, SpoolError::Closed) {
            return Flow::Stop;
        }
        let message = format!("{what}: {err}");
        log::error!("destination {:?}: {message}", self.settings.name);
        self.stats.error(&message);
        let delay = self.backoff.delay(self.attempt, None);
        self.attempt = self.attempt.saturating_add(1);
        self.hold_until = Some(Instant::now() + delay);
        Flow::Continue
    }

    fn poll_acks(&mut self, now: Instant) {
        let report = self.sender.poll_acks(now);
        self.apply_ack_report(report, now);
    }

    /// Applies what an ack poll found: confirmed records done, expired ones pending again
    /// (possible duplicates), refused ones parked or dead-lettered.
    fn apply_ack_report(&mut self, report: AckReport, now: Instant) {
        self.next_ack_poll = now + self.ack_poll_interval();
        self.last_ack_poll = now;
        crate::metrics::confirmed(self.settings.dest, &report.indexed, &report.expired);
        let mut indexed = 0u64;
        for seq in &report.indexed {
            if let Ok(i) = self.window.binary_search_by_key(seq, |e| e.seq)
                && let Some(entry) = self.window.get_mut(i)
                && entry.status == Status::Awaiting
            {
                entry.status = Status::Done;
                indexed += 1;
            }
        }
        let mut expired = 0u64;
        for seq in &report.expired {
            if let Ok(i) = self.window.binary_search_by_key(seq, |e| e.seq)
                && let Some(entry) = self.window.get_mut(i)
                && entry.status == Status::Awaiting
            {
                entry.status = Status::Pending;
                entry.maybe_sent = true;
                expired += 1;
            }
        }
        if expired > 0 {
            log::warn!(
                "destination {:?}: {expired} records not acknowledged within the ack \
                     deadline: resending them (possible duplicates)",
                self.settings.name
            );
        }
        let pending = self.sender.pending_acks() as u64;
        let at = now_ms();
        self.stats.update(|s| {
            s.delivered += indexed;
            s.acks_pending = pending;
            if indexed > 0 {
                s.last_success_at_ms = Some(at);
            }
        });
        if let Some(error) = report.last_error {
            self.stats.error(&error);
        }
        if !report.refused.is_empty() {
            self.apply_refused(report.refused, now);
        }
    }

    /// Records a receiver refused after they were sent (RELP `rsp 500`): dead-lettered (the
    /// event read from the spool again: an entry awaiting an answer does not hold it), or
    /// pending again behind a park or a backoff. Not possible duplicates: the receiver said it
    /// did not take them.
    fn apply_refused(&mut self, refused: Vec<(u64, Action)>, now: Instant) {
        let mut hold: Option<(Duration, Option<String>)> = None;
        let mut dead_lettered = 0u64;
        for (seq, action) in refused {
            let Ok(i) = self.window.binary_search_by_key(&seq, |e| e.seq) else {
                continue;
            };
            if self
                .window
                .get(i)
                .is_none_or(|e| e.status != Status::Awaiting)
            {
                continue;
            }
            let status = match action {
                Action::DeadLetter { reason } => {
                    let records =
                        self.handle
                            .peek_after(self.settings.dest, seq.saturating_sub(1), 1);
                    let written = match records.as_deref() {
                        Ok([record, ..]) if record.seq == seq => self
                            .dead_letters
                            .append(&[(seq, &record.event)], &reason)
                            .map(|()| 1),
                        // Evicted meanwhile: nothing left to deliver.
                        Ok(_) => Ok(0),
                        Err(err) => Err(std::io::Error::other(err.to_string())),
                    };
                    match written {
                        Ok(n) => {
                            dead_lettered += n;
                            log::warn!(
                                "destination {:?}: record {seq} dead-lettered to {}: {reason}",
                                self.settings.name,
                                self.dead_letters.path().display()
                            );
                            Status::Done
                        }
                        Err(err) => {
                            let message = format!(
                                "cannot dead-letter record {seq} to {}: {err}",
                                self.dead_letters.path().display()
                            );
                            self.stats.error(&message);
                            hold.get_or_insert((self.backoff.delay(self.attempt, None), None));
                            Status::Pending
                        }
                    }
                }
                Action::Park { reason } => {
                    hold = Some((self.backoff.max(), Some(reason)));
                    Status::Pending
                }
                Action::Retry { after } => {
                    let delay = self.backoff.delay(self.attempt, after);
                    hold.get_or_insert((delay, None));
                    Status::Pending
                }
                Action::Delivered | Action::AwaitingAck => Status::Done,
            };
            if let Some(entry) = self.window.get_mut(i) {
                entry.status = status;
            }
        }
        self.stats.update(|s| s.dead_lettered += dead_lettered);
        let Some((delay, park)) = hold else {
            return;
        };
        self.hold_until = Some(now + delay);
        self.attempt = self.attempt.saturating_add(1);
        if let Some(reason) = park {
            log::error!(
                "destination {:?} parked: {reason}; nothing is lost (records stay in the spool), \
                 retrying every {:?} until it is fixed",
                self.settings.name,
                self.backoff.max()
            );
            self.stats.error(&reason);
            self.set_state(State::Parked {
                reason: reason.clone(),
            });
            self.parked = Some(reason);
            self.last_park_log = Some(now);
        }
    }

    /// Sends the first pending records of the window and applies the outcome.
    fn send(&mut self) {
        if self.attempt > 0 || self.parked.is_some() {
            self.drop_evicted();
        }
        let indexes: Vec<usize> = self
            .window
            .iter()
            .enumerate()
            .filter(|(_, e)| e.status == Status::Pending)
            .map(|(i, _)| i)
            .take(self.settings.batch_max_events)
            .collect();
        if indexes.is_empty() {
            // Every pending record was evicted: nothing to send.
            return;
        }
        let indexes = match self.reload(indexes) {
            Ok(indexes) if indexes.is_empty() => return,
            Ok(indexes) => indexes,
            Err(err) => {
                let _ = self.spool_error(&err, "reading records to resend");
                return;
            }
        };
        let mut resent = 0u64;
        for &i in &indexes {
            if let Some(entry) = self.window.get_mut(i)
                && entry.maybe_sent
            {
                entry.maybe_sent = false;
                resent += 1;
            }
        }
        if self.parked.is_none() {
            self.set_state(State::Sending);
        }
        let acks_before = self.sender.pending_acks();
        let outcome = {
            let batch: Vec<(u64, &Packed)> = indexes
                .iter()
                .filter_map(|&i| self.window.get(i))
                .filter_map(|e| e.event.as_ref().map(|event| (e.seq, event)))
                .collect();
            self.sender.send_packed(&batch, Instant::now())
        };
        let now = Instant::now();
        if acks_before == 0 && self.sender.pending_acks() > 0 {
            self.next_ack_poll = now + self.ack_poll_interval();
            self.last_ack_poll = now;
        }
        let applied = self.apply(&outcome, &indexes);
        self.count(&applied, resent, &outcome);
        self.settle(applied, now);
    }

    /// Applies `outcome`, part by part, to the records of the window at `indexes` (the batch
    /// sent): delivered or dead-lettered records are done, others await their ack or stay
    /// pending; says what the worker does next.
    fn apply(&mut self, outcome: &Outcome, indexes: &[usize]) -> Applied {
        let mut applied = Applied::default();
        let mut covered = 0usize;
        for part in &outcome.parts {
            let Some(slots) = indexes.get(part.events.clone()) else {
                continue;
            };
            covered += slots.len();
            match &part.action {
                Action::Delivered => {
                    self.mark(slots, Status::Done);
                    applied.delivered += slots.len() as u64;
                    crate::metrics::delivered(self.settings.dest, self.seqs(slots));
                }
                Action::AwaitingAck => {
                    self.mark(slots, Status::Awaiting);
                    crate::metrics::awaiting(self.settings.dest, self.seqs(slots));
                }
                Action::DeadLetter { reason } => {
                    if self.dead_letter(slots, reason) {
                        applied.dead_lettered += slots.len() as u64;
                    } else {
                        applied.retry.get_or_insert(None);
                    }
                }
                Action::Retry { after } => {
                    if outcome.uncertain {
                        self.mark_maybe_sent(slots);
                    }
                    let longest = match applied.retry.flatten() {
                        Some(d) => Some(after.unwrap_or_default().max(d)),
                        None => *after,
                    };
                    applied.retry = Some(longest);
                }
                Action::Park { reason } => {
                    if outcome.uncertain {
                        self.mark_maybe_sent(slots);
                    }
                    applied.park.get_or_insert_with(|| reason.clone());
                }
            }
        }
        if covered < indexes.len() && applied.retry.is_none() && applied.park.is_none() {
            // A sender must cover its batch; if not, the rest stays pending: back off.
            applied.retry = Some(None);
        }
        applied
    }

    /// Writes the records at `slots` to the dead-letter file for `reason`; they are done once
    /// written. `false` when the file could not be written (they stay pending).
    fn dead_letter(&mut self, slots: &[usize], reason: &str) -> bool {
        let written = {
            let events: std::io::Result<Vec<(u64, Event)>> = slots
                .iter()
                .filter_map(|&i| self.window.get(i))
                .filter_map(|e| e.event.as_ref().map(|event| (e.seq, event.unpack())))
                .map(|(seq, event)| event.map(|event| (seq, event)))
                .collect::<Result<_, _>>()
                .map_err(|err| std::io::Error::other(format!("{}: {err}", UNPACK_FAILED)));
            events.and_then(|events| {
                let records: Vec<(u64, &Event)> =
                    events.iter().map(|(seq, event)| (*seq, event)).collect();
                self.dead_letters.append(&records, reason)
            })
        };
        match written {
            Ok(()) => {
                self.mark(slots, Status::Done);
                log::warn!(
                    "destination {:?}: {} records dead-lettered to {}: {reason}",
                    self.settings.name,
                    slots.len(),
                    self.dead_letters.path().display()
                );
                true
            }
            Err(err) => {
                let message = format!(
                    "cannot write the dead-letter file {}: {err}",
                    self.dead_letters.path().display()
                );
                log::error!("destination {:?}: {message}", self.settings.name);
                self.stats.error(&message);
                false
            }
        }
    }

    /// Counts what a send came to in the destination's stats.
    /// The sender's hosts for status, when it has several (`None` for one host).
    fn host_statuses(&self, at_ms: u64) -> Option<Vec<crate::status::HostStatus>> {
        let hosts = self.sender.hosts(Instant::now());
        (hosts.len() > 1).then(|| {
            hosts
                .into_iter()
                .map(|h| crate::status::HostStatus {
                    host: h.host,
                    state: if h.down_for.is_some() { "down" } else { "up" }.to_owned(),
                    down_until_ms: h.down_for.map(|left| {
                        at_ms.saturating_add(u64::try_from(left.as_millis()).unwrap_or(u64::MAX))
                    }),
                })
                .collect()
        })
    }

    fn count(&mut self, applied: &Applied, resent: u64, outcome: &Outcome) {
        let at = now_ms();
        let acks_pending = self.sender.pending_acks() as u64;
        let possible_loss = self.sender.possible_loss();
        let (delivered, dead_lettered) = (applied.delivered, applied.dead_lettered);
        // Events a host may have taken before it failed, then taken by another host.
        let failed_over = outcome.failed_over as u64;
        let hosts = self.host_statuses(at);
        self.stats.update(|s| {
            if let Some(hosts) = hosts {
                s.hosts = hosts;
            }
            s.delivered += delivered;
            s.dead_lettered += dead_lettered;
            s.possible_duplicates += resent + failed_over;
            s.acks_pending = acks_pending;
            s.possible_loss = possible_loss;
            if delivered > 0 {
                s.last_success_at_ms = Some(at);
            }
        });
        if let Some(error) = &outcome.last_error {
            self.stats.error(error);
        }
    }

    /// What the worker does after a send: park, back off, or go on (leaving a park).
    fn settle(&mut self, applied: Applied, now: Instant) {
        if let Some(reason) = applied.park {
            self.hold_until = Some(now + self.backoff.max());
            let due = self.last_park_log.is_none_or(|t| {
                now.saturating_duration_since(t) >= self.settings.park_log_interval
            });
            if due || self.parked.as_deref() != Some(reason.as_str()) {
                log::error!(
                    "destination {:?} parked: {reason}; nothing is lost (records stay in \
                         the spool), retrying every {} until it is fixed",
                    self.settings.name,
                    crate::status::duration(
                        u64::try_from(self.backoff.max().as_millis()).unwrap_or(u64::MAX)
                    )
                );
                self.last_park_log = Some(now);
            }
            self.stats.error(&reason);
            self.set_state(State::Parked {
                reason: reason.clone(),
            });
            self.parked = Some(reason);
        } else if let Some(after) = applied.retry {
            let delay = self.backoff.delay(self.attempt, after);
            self.attempt = self.attempt.saturating_add(1);
            self.hold_until = Some(now + delay);
            self.stats.update(|s| {
                s.retries += 1;
                s.state = State::Retrying;
            });
        } else {
            self.attempt = 0;
            self.hold_until = None;
            if self.parked.take().is_some() {
                log::info!(
                    "destination {:?}: delivering again (no longer parked)",
                    self.settings.name
                );
                self.last_park_log = None;
            }
            self.set_state(State::Sending);
        }
    }

    /// Drops from the window the pending records the spool evicted while they waited for a
    /// retry (`on_full = "evict-lower-severity"` evicts the oldest queued alerts, which are
    /// the ones a worker holds when its destination is down): an evicted alert is counted
    /// as dropped, so it must not be delivered after all. Only on the retry path: the spool
    /// is read again (never-evicted records only, see `Spool::peek`), and the window is
    /// exactly the unacknowledged records from the cursor, so the first `window.len()` live
    /// records hold every live one of the window. If the read fails, the window is kept.
    fn drop_evicted(&mut self) {
        let Some(last) = self.window.back().map(|e| e.seq) else {
            return;
        };
        let Ok(records) = self.handle.peek(self.settings.dest, self.window.len()) else {
            return;
        };
        let live: std::collections::BTreeSet<u64> = records
            .iter()
            .map(|r| r.seq)
            .filter(|&seq| seq <= last)
            .collect();
        self.window
            .retain(|e| e.status != Status::Pending || live.contains(&e.seq));
    }

    /// The sequence numbers of the window's entries at `slots`.
    fn seqs<'a>(&'a self, slots: &'a [usize]) -> impl Iterator<Item = u64> + 'a {
        slots
            .iter()
            .filter_map(|&i| self.window.get(i))
            .map(|e| e.seq)
    }

    fn mark(&mut self, slots: &[usize], status: Status) {
        for &i in slots {
            if let Some(entry) = self.window.get_mut(i) {
                entry.status = status;
                if status != Status::Pending {
                    entry.event = None;
                }
            }
        }
    }

    /// Gives every selected pending entry its event again, reading from the spool those
    /// that dropped it while awaiting an ack (their ack expired). An entry the spool no
    /// longer holds was evicted meanwhile: it is marked done and left out, like
    /// [`drop_evicted`](Self::drop_evicted) does. Returns the entries to send, in order.
    fn reload(&mut self, indexes: Vec<usize>) -> Result<Vec<usize>, SpoolError> {
        let first_missing = indexes
            .iter()
            .copied()
            .find(|&i| self.window.get(i).is_some_and(|e| e.event.is_none()));
        let (Some(first), Some(&last)) = (first_missing, indexes.last()) else {
            return Ok(indexes);
        };
        let after = self
            .window
            .get(first)
            .map_or(0, |e| e.seq.saturating_sub(1));
        let mut records = self
            .handle
            .peek_packed_after(self.settings.dest, after, last - first + 1)?
            .into_iter()
            .peekable();
        for &i in &indexes {
            let Some(entry) = self.window.get_mut(i) else {
                continue;
            };
            if entry.event.is_some() {
                continue;
            }
            while records.next_if(|(seq, _)| *seq < entry.seq).is_some() {}
            match records.next_if(|(seq, _)| *seq == entry.seq) {
                Some((_, packed)) => entry.event = Some(packed),
                None => entry.status = Status::Done,
            }
        }
        Ok(indexes
            .into_iter()
            .filter(|&i| self.window.get(i).is_some_and(|e| e.event.is_some()))
            .collect())
    }

    fn mark_maybe_sent(&mut self, slots: &[usize]) {
        for &i in slots {
            if let Some(entry) = self.window.get_mut(i) {
                entry.maybe_sent = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

    use std::path::PathBuf;
    use std::time::Duration;

    use super::WorkerSettings;
    use crate::config::{Config, Origin};
    use crate::deliver::DeliveryOptions;

    fn destination_poll(hec_keys: &str) -> Duration {
        let text = format!(
            "[sensor]\nname = \"s\"\nip = \"10.0.0.1\"\n\n[[destination]]\nname = \"h\"\n\
             kind = \"hec\"\nurls = [\"https://localhost:8088\"]\ntoken = \"t\"\n{hec_keys}\n\n\
             [[rule]]\nname = \"all\"\nactions = [\"h\"]\n"
        );
        let origin = Origin {
            path: PathBuf::from("/etc/icsfwd/icsfwd.toml"),
            mode: 0o600,
        };
        let config = Config::parse(&text, &origin, &|_| None).unwrap_or_else(|p| panic!("{p}"));
        let destination = config.destination("h").unwrap();
        WorkerSettings::for_destination(destination, &DeliveryOptions::default()).ack_poll_interval
    }

    #[test]
    fn ack_polls_come_sooner_as_the_window_fills_but_never_under_a_second() {
        use super::{MIN_ACK_POLL, adaptive_ack_poll};
        let ten = Duration::from_secs(10);
        assert_eq!(
            adaptive_ack_poll(ten, 0, 10_000),
            ten,
            "Splunk's pace when quiet"
        );
        assert_eq!(
            adaptive_ack_poll(ten, 5_000, 10_000),
            Duration::from_secs(5)
        );
        assert_eq!(adaptive_ack_poll(ten, 9_500, 10_000), MIN_ACK_POLL);
        assert_eq!(adaptive_ack_poll(ten, 10_000, 10_000), MIN_ACK_POLL, "full");
        assert_eq!(adaptive_ack_poll(ten, 12_000, 10_000), MIN_ACK_POLL);
        // A shorter configured interval (tests, or half a short ack deadline) is kept.
        let short = Duration::from_millis(200);
        assert_eq!(adaptive_ack_poll(short, 10_000, 10_000), short);
        assert_eq!(
            adaptive_ack_poll(ten, 1, 0),
            MIN_ACK_POLL,
            "a window of 0 is one"
        );
    }

    #[test]
    fn acks_are_polled_at_least_twice_per_ack_deadline() {
        let default = DeliveryOptions::default().ack_poll_interval;
        for (keys, poll) in [
            ("", default),
            ("ack = true", default),
            ("ack = true\nack_deadline = \"60s\"", default),
            ("ack = true\nack_deadline = \"2s\"", Duration::from_secs(1)),
            (
                "ack = true\nack_deadline = \"1s\"",
                Duration::from_millis(500),
            ),
        ] {
            assert_eq!(destination_poll(keys), poll, "{keys:?}");
        }
    }
}
