//! Group commit: many producer threads, one writer thread, one fsync per batch.
//!
//! [`GroupCommit::start`] moves a [`Spool`] into a writer thread. Producers call
//! [`Handle::append`], which queues the event and blocks until the writer's batch holding it
//! was written and fsynced — then returns its sequence number — or refused. A producer that
//! has several events in flight (a pipelining ingest connection) calls [`Handle::submit`]
//! for each, which queues and returns a [`Pending`] at once, and later [`Pending::wait`]s for
//! each: its events then share batches and fsyncs. A dropped [`Pending`] leaves nothing
//! behind (its event is still written; its result is discarded). The writer takes
//! everything queued (up to [`GroupConfig::max_batch`]), does one write and one fsync, and
//! wakes all producers of the batch; while it syncs, new events queue up for the next batch,
//! so the fsync cost is shared by every producer that arrived meanwhile.
//!
//! **The commit window** ([`GroupConfig::window`]): the writer may also hold a batch open
//! until its oldest event has waited that long, so that events arriving one by one (a paced
//! producer, several sensors at a trickle) share one fsync instead of paying one each. It
//! writes at once when the batch is full ([`GroupConfig::max_batch`]), when the stream pauses
//! (nothing arrived for twice the mean gap between arrivals: producers that pipeline are
//! waiting for their answers, so at full load the window costs no throughput) or shutdown
//! begins; an event that already waited through the previous fsync waits no more; and the
//! window is not held at all while events arrive further apart than it on average (a moving
//! average of the gaps between arrivals): alone, an event would only wait. The answer still
//! comes only after the fsync: the window adds at most its length to every answer's latency
//! and buys fewer fsyncs, each of which writes at least one page (`docs/spool.md`, flash
//! writes; the measured trade-off is in `docs/BENCHMARKS.md`).
//!
//! - The queue is bounded ([`GroupConfig::queue_capacity`]): a producer blocks while it is
//!   full (back-pressure to ingest). A queued event is held packed
//!   ([`Packed`](super::packed::Packed), its record body); the writer unpacks each one only
//!   while it encodes its record, so neither the queue nor the batch being written holds
//!   whole events.
//! - Delivery workers use the same [`Handle`] to [`peek`](Handle::peek),
//!   [`ack`](Handle::ack), [`checkpoint`](Handle::checkpoint), and wait for new records
//!   without polling ([`Handle::wait_for_records`]).
//! - Shutdown is one call, [`GroupCommit::shutdown`]: events already queued are still
//!   written and answered, later appends get [`AppendError::ShuttingDown`], waiting readers
//!   wake up with [`Wait::ShuttingDown`], and the spool is handed back for a final checkpoint.
//!   Dropping the `GroupCommit` shuts down the same way.
//!
//! The spool lock is held by the writer during its write and fsync, so a reader's `peek`
//! waits for at most one fsync.
//!
//! ```ignore
//! use icsfwd::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig, storage::FsStorage};
//! use icsfwd::spool::commit::Wait;
//! use icsfwd_core::alert::{Alert, Event};
//! use icsfwd_core::destination::{DestinationId, DestinationSet};
//! use std::time::Duration;
//!
//! let dir = tempfile::tempdir()?;
//! let names = ["hec".to_string()];
//! let (spool, _) = Spool::open(FsStorage::new(), dir.path(), SpoolConfig::default(), &names)?;
//! let group = GroupCommit::start(spool, GroupConfig::default())?;
//! let hec = DestinationId::new(0).unwrap();
//!
//! let producer = group.handle();
//! let worker = std::thread::spawn(move || {
//!     producer.append(Alert::example(0).into(), DestinationSet::EMPTY.with(hec))
//! });
//! let reader = group.handle();
//! let seen = 1; // the spool was empty: next_seq was 1
//! assert_eq!(reader.wait_for_records(seen, Duration::from_secs(30)), Wait::NewRecords);
//! assert_eq!(worker.join().unwrap(), Ok(1));
//! assert_eq!(reader.peek(hec, 10)?.len(), 1);
//!
//! let spool = group.shutdown()?;
//! assert_eq!(spool.stats().appended, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use icsfwd_core::alert::Event;
use icsfwd_core::destination::{DestinationId, DestinationSet};
use icsfwd_core::record::Record;

use super::packed::Packed;
use super::storage::{FsStorage, Storage};
use super::{AppendError, CheckpointOutcome, Spool, SpoolError, SpoolStats};

/// Settings of the group commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    /// Events queued at most; producers block beyond.
    pub queue_capacity: usize,
    /// Events written per batch at most.
    pub max_batch: usize,
    /// The commit window: how long a batch may stay open, counted from when its oldest event
    /// was queued, for more events to share its fsync ([module docs](self)). Zero: the writer
    /// writes whatever is queued as soon as it is free.
    pub window: Duration,
}

impl Default for GroupConfig {
    /// 1024 queued (one full batch waits while the previous one is fsynced), 1024 per batch.
    /// A queued event is held packed ([`Packed`], its record body: ~300 bytes for a typical
    /// alert, at most `MAX_BODY`), so a full queue is ~0.3 MB. No commit window (the service
    /// sets `[spool] commit_window`).
    fn default() -> Self {
        GroupConfig {
            queue_capacity: 1024,
            max_batch: 1024,
            window: Duration::ZERO,
        }
    }
}

impl GroupConfig {
    /// The batch that ends a commit window at once: `max_batch` events, or a full queue when
    /// that holds fewer (its producers would otherwise block until the window ends).
    fn full_batch(&self) -> usize {
        self.max_batch.min(self.queue_capacity)
    }
}

/// Why the group commit could not shut down cleanly.
#[derive(Debug)]
#[non_exhaustive]
pub enum ShutdownError {
    /// The writer thread panicked.
    WriterPanicked,
    /// The spool had already been taken.
    AlreadyShutDown,
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShutdownError::WriterPanicked => f.write_str("spool writer thread panicked"),
            ShutdownError::AlreadyShutDown => f.write_str("spool already shut down"),
        }
    }
}

impl std::error::Error for ShutdownError {}

/// What [`Handle::wait_for_records`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Records were made durable since the sequence number given.
    NewRecords,
    /// The timeout passed first.
    TimedOut,
    /// The group commit is shutting down.
    ShuttingDown,
}

type Ticket = u64;

/// A queued event: its ticket, the event packed (its record body, a few hundred bytes where
/// the event holds ~2.7 KB inline: a full queue and the batch drained from it were ~5.6 MB of
/// the service's peak RSS at full load), its destinations, and when it was queued (the commit
/// window counts from the oldest one's).
type Queued = (Ticket, Packed, DestinationSet, Instant);

#[derive(Debug)]
struct Queue {
    items: VecDeque<Queued>,
    results: HashMap<Ticket, Result<u64, AppendError>>,
    /// Tickets whose [`Pending`] was dropped before its result came: the writer discards
    /// their results.
    abandoned: HashSet<Ticket>,
    next_ticket: Ticket,
    stopping: bool,
    /// How often events arrive, for the commit window.
    arrivals: Arrivals,
}

/// The mean time between two events' arrivals (any producers), as a moving average: the
/// commit window holds a batch open only when another event is expected within it.
#[derive(Debug, Default)]
struct Arrivals {
    last: Option<Instant>,
    /// `None` until two events arrived.
    mean_gap: Option<Duration>,
}

impl Arrivals {
    /// Notes an arrival at `now`; returns whether it gave the first gap (a writer holding a
    /// window without one must look again). A gap counts at most `cap` (twice the window):
    /// one long silence says "no company expected" as clearly as a short one over the
    /// window, and the mean comes back down within a few events when a burst starts.
    fn note(&mut self, now: Instant, cap: Duration) -> bool {
        let first_gap = self.mean_gap.is_none() && self.last.is_some();
        if let Some(last) = self.last {
            let gap = now.saturating_duration_since(last).min(cap);
            self.mean_gap = Some(match self.mean_gap {
                None => gap,
                Some(mean) => mean.saturating_mul(3).saturating_add(gap) / 4,
            });
        }
        self.last = Some(now);
        first_gap
    }

    /// Whether another event is expected within `window` (also before any gap was seen).
    fn expects_company(&self, window: Duration) -> bool {
        self.mean_gap.is_none_or(|gap| gap < window)
    }

    /// When the stream counts as paused: twice the mean gap after the last arrival (`None`
    /// before any gap was seen).
    fn pause_after(&self) -> Option<Instant> {
        self.last?.checked_add(self.mean_gap?.saturating_mul(2))
    }
}

#[derive(Debug)]
struct Durable {
    next_seq: u64,
    stopping: bool,
}

#[derive(Debug)]
struct Shared<S: Storage> {
    config: GroupConfig,
    spool: Mutex<Option<Spool<S>>>,
    queue: Mutex<Queue>,
    /// The writer waits here for events.
    work: Condvar,
    /// Producers wait here for room in the queue.
    room: Condvar,
    /// Producers wait here for their result.
    done: Condvar,
    durable: Mutex<Durable>,
    /// Readers wait here for new durable records.
    durable_changed: Condvar,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves the data consistent enough for our use (results
    // and counters); carry on rather than cascade the panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The threaded front of a [`Spool`]: see the [module docs](self).
#[derive(Debug)]
pub struct GroupCommit<S: Storage + 'static = FsStorage> {
    shared: Arc<Shared<S>>,
    writer: Option<JoinHandle<()>>,
}

/// A cloneable handle for producers and readers.
#[derive(Debug)]
pub struct Handle<S: Storage + 'static = FsStorage> {
    shared: Arc<Shared<S>>,
}

impl<S: Storage + 'static> Clone for Handle<S> {
    fn clone(&self) -> Self {
        Handle {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: Storage + 'static> GroupCommit<S> {
    /// Starts the writer thread over `spool`.
    ///
    /// # Errors
    ///
    /// The thread could not be spawned.
    pub fn start(spool: Spool<S>, config: GroupConfig) -> io::Result<GroupCommit<S>> {
        let config = GroupConfig {
            queue_capacity: config.queue_capacity.max(1),
            max_batch: config.max_batch.max(1),
            window: config.window,
        };
        let shared = Arc::new(Shared {
            config,
            durable: Mutex::new(Durable {
                next_seq: spool.next_seq(),
                stopping: false,
            }),
            spool: Mutex::new(Some(spool)),
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                results: HashMap::new(),
                abandoned: HashSet::new(),
                next_ticket: 0,
                stopping: false,
                arrivals: Arrivals::default(),
            }),
            work: Condvar::new(),
            room: Condvar::new(),
            done: Condvar::new(),
            durable_changed: Condvar::new(),
        });
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("spool-writer".into())
            .spawn(move || write_batches(&writer_shared))?;
        Ok(GroupCommit {
            shared,
            writer: Some(writer),
        })
    }

    /// A handle for a producer or a reader thread.
    pub fn handle(&self) -> Handle<S> {
        Handle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops: queued events are still written and answered, later appends are refused,
    /// waiting readers wake up; returns the spool (e.g. for a final checkpoint).
    ///
    /// # Errors
    ///
    /// The writer thread panicked.
    pub fn shutdown(mut self) -> Result<Spool<S>, ShutdownError> {
        self.stop()?;
        lock(&self.shared.spool)
            .take()
            .ok_or(ShutdownError::AlreadyShutDown)
    }

    fn stop(&mut self) -> Result<(), ShutdownError> {
        lock(&self.shared.queue).stopping = true;
        self.shared.work.notify_all();
        self.shared.room.notify_all();
        lock(&self.shared.durable).stopping = true;
        self.shared.durable_changed.notify_all();
        match self.writer.take() {
            Some(writer) => writer.join().map_err(|_| ShutdownError::WriterPanicked),
            None => Ok(()),
        }
    }
}

impl<S: Storage + 'static> Drop for GroupCommit<S> {
    fn drop(&mut self) {
        // Errors have nowhere to go here; `shutdown` reports them.
        let _ = self.stop();
    }
}

/// The writer thread: wait for a batch (and its commit window), one write + one fsync, wake
/// everyone.
fn write_batches<S: Storage>(shared: &Shared<S>) {
    loop {
        let mut queue = lock(&shared.queue);
        while queue.items.is_empty() && !queue.stopping {
            queue = shared
                .work
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if queue.items.is_empty() {
            return;
        }
        queue = hold_window(shared, queue);
        let n = queue.items.len().min(shared.config.max_batch);
        let (tickets, events): (Vec<Ticket>, Vec<(Packed, DestinationSet)>) = queue
            .items
            .drain(..n)
            .map(|(ticket, event, dests, _)| (ticket, (event, dests)))
            .unzip();
        drop(queue);
        shared.room.notify_all();

        let (outcome, next_seq) = match lock(&shared.spool).as_mut() {
            Some(spool) => crate::metrics::commit(spool.next_seq(), || {
                (spool.append_packed(events), spool.next_seq())
            }),
            None => (Err(SpoolError::Closed), 0),
        };
        let results: Vec<Result<u64, AppendError>> = match outcome {
            Ok(results) => results,
            Err(error) => {
                let why = error.to_string();
                tickets
                    .iter()
                    .map(|_| Err(AppendError::Failed(why.clone())))
                    .collect()
            }
        };
        let mut queue = lock(&shared.queue);
        for (ticket, result) in tickets.into_iter().zip(results) {
            if !queue.abandoned.remove(&ticket) {
                queue.results.insert(ticket, result);
            }
        }
        drop(queue);
        shared.done.notify_all();

        let mut durable = lock(&shared.durable);
        if next_seq > durable.next_seq {
            durable.next_seq = next_seq;
            drop(durable);
            shared.durable_changed.notify_all();
        }
    }
}

/// The commit window: keeps the batch open until its oldest event has been queued for
/// [`GroupConfig::window`], the batch is full (`max_batch`, or a full queue), the stream
/// pauses (no arrival for twice the mean gap: producers that pipeline are all waiting for
/// their answers), or shutdown begins; not at all when events arrive further apart than the
/// window on average (no company to wait for: holding would only add latency). Producers wake the writer
/// only for the first event of a batch and for the one that fills it, so a window costs no
/// wake-up per event.
fn hold_window<'a, S: Storage>(
    shared: &'a Shared<S>,
    mut queue: MutexGuard<'a, Queue>,
) -> MutexGuard<'a, Queue> {
    let window = shared.config.window;
    if !queue.arrivals.expects_company(window) {
        return queue;
    }
    let Some(deadline) = queue
        .items
        .front()
        .and_then(|(_, _, _, queued)| queued.checked_add(window))
    else {
        return queue;
    };
    while !queue.stopping && queue.items.len() < shared.config.full_batch() {
        let now = Instant::now();
        // The stream paused (producers that pipeline wait for their answers now): more
        // waiting would only idle the disk.
        let until = deadline.min(queue.arrivals.pause_after().unwrap_or(deadline));
        if now >= until {
            break;
        }
        queue = shared
            .work
            .wait_timeout(queue, until - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    queue
}

impl<S: Storage + 'static> Handle<S> {
    /// Appends one event and blocks until it is durable (its batch fsynced): returns its
    /// sequence number, or why it was not accepted. Same as [`submit`](Handle::submit) then
    /// [`Pending::wait`].
    ///
    /// # Errors
    ///
    /// See [`AppendError`]; [`AppendError::ShuttingDown`] after shutdown began.
    pub fn append(&self, event: Event, destinations: DestinationSet) -> Result<u64, AppendError> {
        self.submit(event, destinations)?.wait()
    }

    /// Queues one event for the next batch and returns at once (blocking only while the queue
    /// is full) with a [`Pending`] that [`wait`](Pending::wait)s for its result. A producer
    /// that submits several events before waiting gets them written in one batch and one
    /// fsync.
    ///
    /// # Errors
    ///
    /// [`AppendError::ShuttingDown`] after shutdown began; [`AppendError::Encode`] for an
    /// event core cannot write as a record body (none it can parse); every other refusal
    /// comes from [`Pending::wait`].
    pub fn submit(
        &self,
        event: Event,
        destinations: DestinationSet,
    ) -> Result<Pending<S>, AppendError> {
        // Packed before the lock: producers encode in parallel, the writer only unpacks.
        let packed = Packed::new(&event).map_err(AppendError::Encode)?;
        let shared = &*self.shared;
        let mut queue = lock(&shared.queue);
        while !queue.stopping && queue.items.len() >= shared.config.queue_capacity {
            queue = shared
                .room
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if queue.stopping {
            return Err(AppendError::ShuttingDown);
        }
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        let now = Instant::now();
        let first_gap = queue
            .arrivals
            .note(now, shared.config.window.saturating_mul(2));
        queue.items.push_back((ticket, packed, destinations, now));
        // The writer waits for the first event of a batch, or (in its commit window) for the
        // batch to fill or the stream to pause; any other event it finds when it wakes.
        let queued = queue.items.len();
        drop(queue);
        if queued == 1 || first_gap || queued >= shared.config.full_batch() {
            shared.work.notify_one();
        }
        Ok(Pending {
            shared: Arc::clone(&self.shared),
            ticket: Some(ticket),
        })
    }

    fn with_spool<T>(
        &self,
        f: impl FnOnce(&mut Spool<S>) -> Result<T, SpoolError>,
    ) -> Result<T, SpoolError> {
        match lock(&self.shared.spool).as_mut() {
            Some(spool) => f(spool),
            None => Err(SpoolError::Closed),
        }
    }

    /// [`Spool::peek`].
    ///
    /// # Errors
    ///
    /// As [`Spool::peek`], or [`SpoolError::Closed`] after shutdown.
    pub fn peek(&self, dest: DestinationId, max_records: usize) -> Result<Vec<Record>, SpoolError> {
        self.with_spool(|spool| spool.peek(dest, max_records))
    }

    /// [`Spool::ack`].
    ///
    /// # Errors
    ///
    /// As [`Spool::ack`], or [`SpoolError::Closed`] after shutdown.
    pub fn ack(&self, dest: DestinationId, upto: u64) -> Result<u64, SpoolError> {
        self.with_spool(|spool| spool.ack(dest, upto))
    }

    /// [`Spool::checkpoint`].
    ///
    /// # Errors
    ///
    /// As [`Spool::checkpoint`], or [`SpoolError::Closed`] after shutdown.
    pub(crate) fn checkpoint(&self) -> Result<CheckpointOutcome, SpoolError> {
        self.with_spool(Spool::checkpoint)
    }

    /// [`Spool::assign_destination`]: under the spool's lock, so no append is in between.
    ///
    /// # Errors
    ///
    /// As [`Spool::assign_destination`], or [`SpoolError::Closed`] after shutdown.
    pub(crate) fn assign_destination(
        &self,
        id: DestinationId,
        name: &str,
    ) -> Result<(), super::slots::AssignError> {
        match lock(&self.shared.spool).as_mut() {
            Some(spool) => spool.assign_destination(id, name),
            None => Err(super::slots::AssignError::Spool(SpoolError::Closed)),
        }
    }

    /// [`Spool::release_destination`].
    ///
    /// # Errors
    ///
    /// As [`Spool::release_destination`], or [`SpoolError::Closed`] after shutdown.
    pub(crate) fn release_destination(&self, id: DestinationId) -> Result<u64, SpoolError> {
        self.with_spool(|spool| spool.release_destination(id))
    }

    /// [`Spool::stats`].
    ///
    /// # Errors
    ///
    /// [`SpoolError::Closed`] after shutdown.
    pub fn stats(&self) -> Result<SpoolStats, SpoolError> {
        self.with_spool(|spool| Ok(spool.stats()))
    }

    /// The next sequence number as of the last durable batch: read it before a
    /// [`peek`](Handle::peek) that finds nothing, then [`wait_for_records`] with it.
    ///
    /// [`wait_for_records`]: Handle::wait_for_records
    pub fn next_seq(&self) -> u64 {
        lock(&self.shared.durable).next_seq
    }

    /// Blocks until a batch made records durable beyond `seen_next_seq` (a value of
    /// [`next_seq`](Handle::next_seq)), the timeout passes, or shutdown begins.
    pub fn wait_for_records(&self, seen_next_seq: u64, timeout: Duration) -> Wait {
        // A timeout too large for the clock means "no timeout".
        let deadline = Instant::now().checked_add(timeout);
        let mut durable = lock(&self.shared.durable);
        loop {
            if durable.next_seq > seen_next_seq {
                return Wait::NewRecords;
            }
            if durable.stopping {
                return Wait::ShuttingDown;
            }
            let changed = &self.shared.durable_changed;
            durable = match deadline {
                None => changed
                    .wait(durable)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Wait::TimedOut;
                    }
                    changed
                        .wait_timeout(durable, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    /// [`Spool::peek_after`]: the records for `dest` after sequence number `after_seq`.
    ///
    /// # Errors
    ///
    /// As [`Spool::peek_after`], or [`SpoolError::Closed`] after shutdown.
    pub fn peek_after(
        &self,
        dest: DestinationId,
        after_seq: u64,
        max_records: usize,
    ) -> Result<Vec<Record>, SpoolError> {
        self.with_spool(|spool| spool.peek_after(dest, after_seq, max_records))
    }

    /// [`Spool::peek_packed_after`]: the records for `dest` after sequence number
    /// `after_seq`, each as its stored body.
    ///
    /// # Errors
    ///
    /// As [`Spool::peek_after`], or [`SpoolError::Closed`] after shutdown.
    pub fn peek_packed_after(
        &self,
        dest: DestinationId,
        after_seq: u64,
        max_records: usize,
    ) -> Result<Vec<(u64, Packed)>, SpoolError> {
        self.with_spool(|spool| spool.peek_packed_after(dest, after_seq, max_records))
    }
}

/// An event [`submit`](Handle::submit)ted and not yet known durable.
///
/// [`wait`](Pending::wait) blocks until its batch was written and fsynced. Dropping it
/// without waiting abandons the result, not the event: the event is still written, and the
/// writer discards the result instead of keeping it.
#[derive(Debug)]
#[must_use = "the event is not known durable until `wait` returns its sequence number"]
pub struct Pending<S: Storage + 'static = FsStorage> {
    shared: Arc<Shared<S>>,
    /// `None` once the result was taken.
    ticket: Option<Ticket>,
}

impl<S: Storage + 'static> Pending<S> {
    /// Blocks until the event's batch is durable: returns its sequence number, or why it was
    /// not accepted.
    ///
    /// # Errors
    ///
    /// See [`AppendError`].
    pub fn wait(mut self) -> Result<u64, AppendError> {
        let Some(ticket) = self.ticket.take() else {
            return Err(AppendError::ShuttingDown);
        };
        let shared = &*self.shared;
        let mut queue = lock(&shared.queue);
        loop {
            if let Some(result) = queue.results.remove(&ticket) {
                return result;
            }
            // The writer drains the queue before it exits, so every ticket gets a result.
            queue = shared
                .done
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Whether the result is in (so [`wait`](Pending::wait) would not block).
    pub(crate) fn is_ready(&self) -> bool {
        self.ticket
            .is_some_and(|ticket| lock(&self.shared.queue).results.contains_key(&ticket))
    }
}

impl<S: Storage + 'static> Drop for Pending<S> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let mut queue = lock(&self.shared.queue);
            // Either the result is in (take it out), or the writer has not answered yet (it
            // will skip an abandoned ticket).
            if queue.results.remove(&ticket).is_none() {
                queue.abandoned.insert(ticket);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;
    use crate::spool::SpoolConfig;
    use icsfwd_core::alert::Alert;
    use icsfwd_core::destination::DestinationId;

    #[test]
    fn dropped_pending_leaves_no_result_behind() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["hec".to_string()];
        let (spool, _) =
            Spool::open(FsStorage::new(), dir.path(), SpoolConfig::default(), &names).unwrap();
        let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
        let handle = group.handle();
        let dests = DestinationSet::EMPTY.with(DestinationId::new(0).unwrap());
        for i in 0..200 {
            drop(handle.submit(Alert::example(i).into(), dests).unwrap());
        }
        // A waited-for event after the dropped ones: its batch is at or after theirs.
        let last = handle.submit(Alert::example(999).into(), dests).unwrap();
        assert_eq!(last.wait(), Ok(201));
        let queue = lock(&group.shared.queue);
        assert!(
            queue.results.is_empty(),
            "results kept: {}",
            queue.results.len()
        );
        assert!(
            queue.abandoned.is_empty(),
            "abandoned kept: {}",
            queue.abandoned.len()
        );
        drop(queue);
        let spool = group.shutdown().unwrap();
        assert_eq!(
            spool.stats().appended,
            201,
            "dropped events are still written"
        );
    }
}
