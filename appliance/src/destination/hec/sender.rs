//! The HTTP Event Collector sender: batches of HEC JSON envelopes to
//! `POST /services/collector/event`, with gzip, a channel, indexer acks and several URLs.
//!
//! What it is: a [`HecSender`] is built from the destination's [`Hec`] settings, [`Tls`] and
//! [`Timeouts`] (one agent, one channel for the
//! sender's lifetime). [`HecSender::send`](Sender::send) renders a batch with icsfwd-core's
//! HEC format once to learn each envelope's length (keeping only the first envelopes,
//! [`super::body`]), splits it by [`Batch`], POSTs each request with
//! `Authorization: Splunk <token>`, `X-Splunk-Request-Channel` and its `Content-Length`,
//! streaming the body as it renders the envelopes again, and classifies each reply
//! with [`classify::hec`]. With acks ([`Hec::ack`]) a request answered with an
//! `ackId` leaves its events [`Action::AwaitingAck`]; [`HecSender::poll_acks`] asks
//! `/services/collector/ack` and reports which sequence numbers are indexed and which passed
//! the deadline (to be resent, counted as possible duplicates).
//!
//! What it guarantees:
//! - Without acks, `Delivered` means HEC *received* the events (a 200 code 0), not that they
//!   were indexed; with acks, only an ack read `true` confirms them.
//! - A 200 without an `ackId` while acks are on parks the destination with a clear reason: it
//!   never falls back silently to unacknowledged delivery.
//! - No silent success: a 2xx whose body is not HEC's JSON reply (an HTML page, an empty body,
//!   other JSON or text — a load balancer's default page, a proxy, the wrong port) parks the
//!   destination and marks nothing delivered; an ack query answered that way confirms
//!   nothing (the ids stay pending).
//! - Several URLs (an indexer cluster): each request starts at the next URL in turn
//!   (round-robin spread); a failed connection, a 404 or a 5xx marks that URL down for
//!   [`Hec::down_for`] and the same request is tried on the next URL at once. URLs
//!   marked down are tried last (earliest recovery first), never skipped, so a single-URL
//!   sender is paced by the worker's backoff only ([`Rotation`], shared with the other
//!   kinds).
//! - Ack ids belong to the URL (indexer) and channel that issued them and are polled there.
//!   With [`Sender::resume`] (the worker passes the spool directory), every request answered
//!   with an `ackId` is persisted in the ack state ([`super::ack_state`]) before its records
//!   count as awaiting; after a restart [`Sender::restore`] asks about them on their own
//!   channel (this run sends on a new one) and they are resent only if not confirmed within
//!   the deadline, counted from when they were sent.
//! - An ack id issued again on a channel and URL where an older request still waits for it
//!   (Splunk's counter restarted) expires the older request: it is never confirmed by
//!   another request's ack.
//! - A 413, or a data error without `invalid-event-number`, bisects the request (each half is
//!   sent at once) down to the single event, which is then dead-lettered.
//! - Bounded: a request body is at most `max_bytes` or one event; a reply is read up to
//!   [`MAX_REPLY_BODY`](crate::destination::http::MAX_REPLY_BODY); one ack query carries at most
//!   [`MAX_ACK_IDS_PER_QUERY`] ids.
//!
//! Known limit: a server that answers 413 from the request head and closes without reading
//! the body (the emulator does, above its body limit) breaks the body write; that is seen as
//! a broken connection (Retry, uncertain), not as a 413, so keep [`Batch::max_bytes`]
//! below the server's `max_content_length`.
//!
//! Choices: the channel is generated per sender when not configured (a random v4-style GUID;
//! Splunk requires one only with acks, and accepts it always); a batch is sent as envelopes
//! separated by `\n` (HEC accepts whitespace between objects); gzip is
//! `Content-Encoding: gzip` over the whole body (Splunk does not take `deflate`).
//!
//! ```ignore
//! use std::time::{Duration, Instant};
//! use icsfwd::destination::hec::Hec;
//! use icsfwd::destination::hec::sender::HecSender;
//! use icsfwd::destination::{Secret, Sender, Timeouts, Tls};
//! use icsfwd_core::alert::{Alert, Event};
//!
//! let url = "https://splunk.example:8088".parse().map_err(|e: &str| e.to_owned())?;
//! let mut hec = Hec::new(vec![url], Secret::new("11111111-2222-3333-4444-555555555555"));
//! hec.ack = true;
//! hec.ack_deadline = Duration::from_secs(300);
//! let mut sender = HecSender::new(&hec, &Tls::default(), &Timeouts::default())?;
//! let event = Event::from(Alert::example(1_700_000_000_000));
//! let outcome = sender.send(&[(1, &event)], Instant::now());
//! println!("{outcome:?}");
//! let acks = sender.poll_acks(Instant::now());
//! println!("indexed {:?}, to resend {:?}", acks.indexed, acks.expired);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;
use icsfwd_core::format;

use super::ack_state::{self, Line, Request, record_mark};
use super::body::{Envelopes, Lane, Source, Stream};
use super::{Batch, Hec, default_requests_in_flight};
use crate::clock::now_ms;
use crate::destination::classify::{self, Action, Body, HecReply, Sent, Verdict};
use crate::destination::failover::Rotation;
use crate::destination::http::{HttpClient, Redactor, Reply, SetupError, TransportError};
use crate::destination::{
    AckReport, Item, Outcome, PackedItem, Restored, Secret, Sender, Timeouts, Tls,
};

/// How many of the records confirmed last the ack state keeps through a rewrite: the
/// worker's default window (`max_in_flight`), the most that can be confirmed and not yet
/// acknowledged in the spool.
pub(crate) const KEEP_INDEXED: usize = 10_000;

/// Most ack ids in one `/services/collector/ack` query.
pub(crate) const MAX_ACK_IDS_PER_QUERY: usize = 1000;

/// Bytes the gzip body buffer keeps between batches: a compressed batch of typical alerts
/// fits, so it is reused as it is; one of large alerts grows it for its send only.
const RETAINED_BYTES: usize = 1 << 20;

/// A batch of fewer than twice this many events (a steady rate's tens) goes as one lane: in
/// requests one at a time, as it always did. Only a full batch (a storm, a backlog) is spread
/// over requests in flight ([`Lanes`]).
pub(crate) const MIN_SPLIT_EVENTS: usize = 100;

/// Event path, appended to each base URL.
pub(crate) const EVENT_PATH: &str = "/services/collector/event";
/// Ack path, appended to each base URL.
pub(crate) const ACK_PATH: &str = "/services/collector/ack";

/// A [`HecSender`] could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum HecError {
    /// No URL was given.
    NoUrls,
    /// A URL is not `http(s)://host[:port]`.
    BadUrl(String),
    /// The configured channel is not a GUID (`8-4-4-4-12` hex digits).
    BadChannel,
    /// The HTTP client could not be built.
    Setup(SetupError),
}

impl fmt::Display for HecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoUrls => f.write_str("no HEC URL configured"),
            Self::BadUrl(url) => write!(f, "HEC URL {url:?} is not http(s)://host[:port]"),
            Self::BadChannel => {
                f.write_str("the HEC channel is not a GUID (8-4-4-4-12 hex digits)")
            }
            Self::Setup(err) => write!(f, "HEC client: {err}"),
        }
    }
}

impl std::error::Error for HecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Setup(err) => Some(err),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Target {
    base: String,
    event_url: String,
    ack_url: String,
}

#[derive(Debug)]
struct PendingAck {
    target: usize,
    sent: Instant,
    /// The wave of requests in flight together it was sent in ([`HecSender::wave`]; 0 for
    /// one restored at start): the collector numbers those in the order it answers them.
    wave: u64,
    /// What the ack state persists: channel, URL, ack id, records.
    request: Request,
}

/// HEC senders alive in the process: in the service, one per HEC destination running. What
/// a destination that leaves `requests_in_flight` out shares the cores with.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// One sender counted in [`RUNNING`], from its making to its drop.
#[derive(Debug)]
struct Running(());

impl Running {
    fn join() -> Self {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        Self(())
    }

    /// The HEC senders alive now.
    fn count() -> usize {
        RUNNING.load(Ordering::Relaxed)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The HEC sender of one destination.
#[derive(Debug)]
pub struct HecSender {
    client: HttpClient,
    targets: Vec<Target>,
    rotation: Rotation,
    token_header: Secret,
    redactor: Redactor,
    channel: String,
    gzip: bool,
    ack_deadline: Option<Duration>,
    limits: Batch,
    pending: Vec<PendingAck>,
    /// Sequence numbers of pending acks made ambiguous by a reissued ack id (Splunk's counter
    /// restarted): reported expired at the next poll.
    ambiguous: Vec<u64>,
    /// The ack-state file (acks on, once [`Sender::resume`] opened it).
    log: Option<ack_state::Log>,
    /// What [`Sender::resume`] read, until [`Sender::restore`] decides.
    restored: Vec<(Request, ack_state::State)>,
    /// The requests confirmed last (at most [`KEEP_INDEXED`] records): kept in the ack state
    /// through its rewrites, so that records confirmed but still held in the worker's window
    /// (behind one that is not) are not sent again after a restart.
    indexed: std::collections::VecDeque<Request>,
    /// The envelope options and what rendering the current batch learned ([`super::body`]).
    envelopes: Envelopes,
    /// Per rendered event, its sequence number and [`record_mark`] (what an ack request
    /// records).
    marks: Vec<(u64, u32)>,
    /// The compressed body of one request (gzip only).
    body: Vec<u8>,
    /// The most requests of one batch in flight (`requests_in_flight`).
    in_flight: usize,
    /// With `requests_in_flight` left out, the machine's cores: the requests in flight are
    /// then also at most [`default_requests_in_flight`] for the HEC senders running.
    by_cores: Option<usize>,
    /// The rooms of the requests in flight beside the first, made when first needed (at most
    /// `in_flight - 1`).
    lanes: Vec<Lane>,
    /// This sender counted in [`RUNNING`] while it lives.
    _running: Running,
    /// The number of the current wave of requests sent together, counted from 1.
    wave: u64,
}

impl HecSender {
    /// Builds the sender (no connection is made yet).
    ///
    /// # Errors
    /// No URL, a malformed URL or channel, or TLS files that cannot be used.
    pub fn new(hec: &Hec, tls: &Tls, timeouts: &Timeouts) -> Result<Self, HecError> {
        if hec.urls.is_empty() {
            return Err(HecError::NoUrls);
        }
        let mut targets = Vec::with_capacity(hec.urls.len());
        for url in &hec.urls {
            let base = url.to_string();
            if url.host.is_empty() || url.host.contains(['/', '?', '#', '@', ' ']) {
                return Err(HecError::BadUrl(crate::destination::http::bounded(&base)));
            }
            targets.push(Target {
                event_url: format!("{base}{EVENT_PATH}"),
                ack_url: format!("{base}{ACK_PATH}"),
                base,
            });
        }
        let channel = match &hec.channel {
            Some(channel) if is_guid(channel) => channel.clone(),
            Some(_) => return Err(HecError::BadChannel),
            None => random_guid(),
        };
        let client = HttpClient::new(tls, timeouts, &hec.proxy).map_err(HecError::Setup)?;
        let token_header = Secret::new(format!("Splunk {}", hec.token.expose()));
        let redactor = Redactor::new(&[&hec.token, &token_header]);
        Ok(Self {
            client,
            rotation: Rotation::new(targets.len(), hec.down_for),
            targets,
            token_header,
            redactor,
            channel,
            gzip: hec.gzip,
            ack_deadline: hec.ack_deadline(),
            envelopes: Envelopes::new(format::Options {
                hec: hec.envelope.clone(),
                ..format::Options::default()
            }),
            limits: hec.batch,
            pending: Vec::new(),
            ambiguous: Vec::new(),
            log: None,
            restored: Vec::new(),
            indexed: std::collections::VecDeque::new(),
            marks: Vec::new(),
            body: Vec::new(),
            in_flight: hec.requests_in_flight.max(1),
            by_cores: hec.in_flight_by_cores.then(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            }),
            lanes: Vec::new(),
            _running: Running::join(),
            wave: 0,
        })
    }

    /// Bytes of rendered envelopes and request bodies the sender holds between batches
    /// (what the memory tests bound).
    #[cfg(feature = "_testing")]
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        self.envelopes.held()
            + self.body.capacity()
            + self.lanes.iter().map(Lane::held).sum::<usize>()
    }

    /// The channel GUID sent with every request.
    #[must_use]
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Whether TLS verification is off (the service warns at every start).
    #[must_use]
    pub fn verification_disabled(&self) -> bool {
        self.client.verification_disabled()
    }

    /// How many events wait for an ack.
    #[must_use]
    pub(crate) fn pending_acks(&self) -> usize {
        self.pending.iter().map(|p| p.request.seqs.len()).sum()
    }

    /// The base URLs marked down at `now`.
    #[must_use]
    pub fn urls_down(&self, now: Instant) -> Vec<&str> {
        self.rotation
            .down(now)
            .into_iter()
            .filter_map(|i| self.targets.get(i).map(|t| t.base.as_str()))
            .collect()
    }

    /// Asks each URL, on each channel with pending acks (the channel of this run, and those
    /// of requests restored from before a restart), which are indexed, then expires those
    /// sent at least the ack deadline before `now`. Without acks configured, reports nothing.
    pub(crate) fn poll_acks(&mut self, now: Instant) -> AckReport {
        let mut report = AckReport::default();
        let Some(deadline) = self.ack_deadline else {
            return report;
        };
        report.expired.append(&mut self.ambiguous);
        let mut groups: Vec<(usize, String)> = self
            .pending
            .iter()
            .map(|p| (p.target, p.request.channel.clone()))
            .collect();
        groups.sort();
        groups.dedup();
        if !groups.is_empty() {
            self.persist(&Line::Poll, false);
        }
        let polled = !groups.is_empty();
        for (target, channel) in groups {
            let ids: Vec<u64> = self
                .pending
                .iter()
                .filter(|p| p.target == target && p.request.channel == channel)
                .map(|p| p.request.ack_id)
                .collect();
            for chunk in ids.chunks(MAX_ACK_IDS_PER_QUERY) {
                match self.query_acks(target, &channel, chunk) {
                    Ok(acked) => {
                        let (done, kept): (Vec<PendingAck>, Vec<PendingAck>) =
                            self.pending.drain(..).partition(|p| {
                                p.target == target
                                    && p.request.channel == channel
                                    && acked.contains(&p.request.ack_id)
                            });
                        self.pending = kept;
                        for p in done {
                            report.indexed.extend(&p.request.seqs);
                            self.note_indexed(p.request.clone());
                            let r = p.request;
                            self.persist(&Line::Indexed(r.channel, r.url, r.ack_id), false);
                        }
                    }
                    Err((message, cause)) => {
                        report.last_error = Some(message);
                        report.cause = cause;
                    }
                }
            }
        }
        let (expired, kept): (Vec<PendingAck>, Vec<PendingAck>) = self
            .pending
            .drain(..)
            .partition(|p| now.saturating_duration_since(p.sent) >= deadline);
        self.pending = kept;
        for p in expired {
            self.persist(
                &Line::Expired(p.request.channel, p.request.url, p.request.ack_id),
                false,
            );
            report.expired.extend(p.request.seqs);
        }
        if polled {
            self.persist(&Line::Polled, false);
        }
        report.indexed.sort_unstable();
        report.expired.sort_unstable();
        report
    }

    /// [`Sender::resume`]: with acks, reads the ack state the previous run left in `dir` for
    /// destination `name` (`hec::ack_state`) and keeps it open for this run; returns the last
    /// sequence number a request still to settle names.
    pub fn resume(&mut self, dir: &Path, name: &str) -> Option<u64> {
        self.ack_deadline?;
        let mut log = ack_state::Log::new(ack_state::path(dir, name));
        let loaded = match ack_state::read(log.path()) {
            Ok(loaded) => loaded,
            Err(err) => {
                log::warn!(
                    "destination {name:?}: cannot read the HEC ack state {}: {err}; the records \
                     awaiting their ack before the restart are sent again (possible duplicates)",
                    log.path().display()
                );
                ack_state::Loaded::default()
            }
        };
        if let Some(why) = &loaded.ignored {
            log::warn!(
                "destination {name:?}: the HEC ack state {} is ignored ({why}): the records \
                 awaiting their ack before the restart are sent again (possible duplicates)",
                log.path().display()
            );
        } else if loaded.damaged > 0 {
            log::warn!(
                "destination {name:?}: {} damaged line(s) in the HEC ack state {} ignored: \
                 their records are sent again (possible duplicates)",
                loaded.damaged,
                log.path().display()
            );
        }
        let upto = loaded
            .requests
            .iter()
            .flat_map(|(r, _)| r.seqs.last())
            .max()
            .copied();
        if upto.is_none() && log.rewrite([]).is_err() {
            log::warn!(
                "destination {name:?}: cannot write the HEC ack state {}: after a restart, the \
                 records awaiting their ack are sent again (possible duplicates)",
                log.path().display()
            );
        }
        self.restored = loaded.requests;
        self.log = Some(log);
        upto
    }

    /// [`Sender::restore`]: checks each restored request against the records read at start
    /// (`(seq, record_mark)`): one whose records are not all there with its fingerprint is not
    /// trusted (its records present are sent again); an indexed one is confirmed; an awaiting
    /// one within its ack deadline (counted from when it was sent) and whose URL is still
    /// configured is asked about on its own channel, the others are sent again. Rewrites the
    /// ack state with what is still awaited.
    pub fn restore(&mut self, records: &[(u64, u32)], now: Instant) -> Vec<(u64, Restored)> {
        let marks: BTreeMap<u64, u32> = records.iter().copied().collect();
        let deadline = self.ack_deadline.unwrap_or_default();
        let wall_now = now_ms();
        let mut verdicts: BTreeMap<u64, Restored> = BTreeMap::new();
        for (request, state) in std::mem::take(&mut self.restored) {
            let found: Option<Vec<(u64, u32)>> = request
                .seqs
                .iter()
                .map(|seq| marks.get(seq).map(|mark| (*seq, *mark)))
                .collect();
            let trusted =
                found.is_some_and(|found| ack_state::fingerprint(found) == request.fingerprint);
            let age = Duration::from_millis(wall_now.saturating_sub(request.sent_ms));
            let target = self.targets.iter().position(|t| t.base == request.url);
            let verdict = match (trusted, state, target) {
                (true, ack_state::State::Indexed, _) => {
                    self.note_indexed(request.clone());
                    Restored::Confirmed
                }
                (true, ack_state::State::Awaiting, Some(target)) if age < deadline => {
                    self.pending.push(PendingAck {
                        wave: 0,
                        target,
                        sent: now.checked_sub(age).unwrap_or(now),
                        request: request.clone(),
                    });
                    Restored::Awaiting
                }
                _ => Restored::Resend,
            };
            for seq in request.seqs.iter().filter(|seq| marks.contains_key(seq)) {
                let slot = verdicts.entry(*seq).or_insert(verdict);
                *slot = (*slot).max(verdict);
            }
        }
        let (log, indexed, pending) = (&mut self.log, &self.indexed, &self.pending);
        if let Some(log) = log.as_mut()
            && log.rewrite(requests(indexed, pending)).is_err()
        {
            log::warn!(
                "cannot write the HEC ack state {}: after a restart, the records awaiting \
                 their ack are sent again (possible duplicates)",
                log.path().display()
            );
        }
        verdicts.into_iter().collect()
    }

    /// Remembers `request` as confirmed, forgetting the oldest beyond [`KEEP_INDEXED`] records.
    fn note_indexed(&mut self, request: Request) {
        self.indexed.push_back(request);
        let mut records: usize = self.indexed.iter().map(|r| r.seqs.len()).sum();
        while records > KEEP_INDEXED {
            match self.indexed.pop_front() {
                Some(oldest) => records -= oldest.seqs.len(),
                None => break,
            }
        }
    }

    /// Appends `line` to the ack-state file (if one is open), durably when `sync`.
    fn persist(&mut self, line: &Line, sync: bool) {
        if let Some(log) = self.log.as_mut() {
            let before = log.errors();
            log.append(line, sync, requests(&self.indexed, &self.pending));
            if log.errors() > before && before == 0 {
                log::warn!(
                    "cannot write the HEC ack state {}: after a restart, the records awaiting \
                     their ack are sent again (possible duplicates); check the spool \
                     directory's disk and permissions",
                    log.path().display()
                );
            }
        }
    }

    /// Records the request of `batch[range]` that `target` answered with `ack_id`: pending,
    /// persisted durably; pending acks of the same URL and channel whose id is not below it
    /// are ambiguous now (Splunk's counter restarted) and will be reported expired, except
    /// those of the same wave: requests in flight together are numbered in the order the
    /// collector finished them, not the order they are read here. `batch`
    /// is the batch's sequence numbers and [`record_mark`]s, taken while it was rendered.
    fn await_ack(
        &mut self,
        batch: &[(u64, u32)],
        range: Range<usize>,
        target: usize,
        ack_id: u64,
        now: Instant,
    ) {
        let items = batch.get(range).unwrap_or_default();
        let seqs: Vec<u64> = items.iter().map(|(seq, _)| *seq).collect();
        let fingerprint = ack_state::fingerprint(items.iter().copied());
        let url = self
            .targets
            .get(target)
            .map(|t| t.base.clone())
            .unwrap_or_default();
        let (stale, kept): (Vec<PendingAck>, Vec<PendingAck>) =
            self.pending.drain(..).partition(|p| {
                p.target == target
                    && p.wave != self.wave
                    && p.request.channel == self.channel
                    && p.request.ack_id >= ack_id
            });
        self.pending = kept;
        for p in stale {
            self.ambiguous.extend(p.request.seqs);
        }
        self.pending.push(PendingAck {
            target,
            sent: now,
            wave: self.wave,
            request: Request {
                channel: self.channel.clone(),
                url,
                ack_id,
                sent_ms: now_ms(),
                fingerprint,
                seqs,
            },
        });
        if let Some(request) = self.pending.last().map(|p| p.request.clone()) {
            self.persist(&Line::Sent(request), true);
        }
    }

    /// One `/ack` query: the ids read `true`, or a redacted error and its cause.
    fn query_acks(
        &self,
        target: usize,
        channel: &str,
        ids: &[u64],
    ) -> Result<Vec<u64>, (String, Option<classify::Cause>)> {
        let url = self
            .targets
            .get(target)
            .map(|t| t.ack_url.as_str())
            .unwrap_or_default();
        let body = serde_json::json!({ "acks": ids }).to_string();
        let headers = [
            ("Authorization", self.token_header.expose()),
            ("X-Splunk-Request-Channel", channel),
            ("Content-Type", "application/json"),
        ];
        let reply = self
            .client
            .post(url, &headers, body.as_bytes(), &self.redactor)
            .map_err(|err| {
                let cause = classify::transport_cause(&err);
                (err.message, cause)
            })?;
        if reply.status != 200 {
            let parsed = HecReply::parse(&reply);
            return Err((
                self.redactor.redact(&format!(
                    "ack query to {url} refused: {}",
                    parsed.describe()
                )),
                classify::hec_cause(&parsed, true),
            ));
        }
        // Only HEC's own answer, `{"acks":{"<id>":true,…}}`, confirms anything: an HTML
        // page, an empty body or other JSON leaves every id pending.
        let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        let acks = json
            .get("acks")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| {
                let message = format!(
                    "ack query to {url} answered 200 with {}: nothing is taken as indexed; is \
                     the URL Splunk's HEC port?",
                    Body::of(&reply.body).what("HEC's ack reply")
                );
                (message, Some(classify::Cause::WrongEndpoint))
            })?;
        Ok(acks
            .iter()
            .filter(|(_, v)| v.as_bool() == Some(true))
            .filter_map(|(k, _)| k.parse().ok())
            .collect())
    }

    /// Renders `source` once ([`Envelopes::render`]), noting each record's ack mark; empties
    /// the gzip buffer, giving back what a batch larger than [`RETAINED_BYTES`] grew it to.
    fn render(&mut self, source: Source<'_>) -> (usize, bool) {
        self.marks.clear();
        self.body.clear();
        self.body.shrink_to(RETAINED_BYTES);
        self.envelopes.render(source, &mut self.marks, record_mark)
    }

    /// With gzip, compresses the body of events `range` into `self.body`; `None` if it
    /// cannot be built.
    fn compress(&mut self, source: Source<'_>, range: &Range<usize>) -> Option<()> {
        let mut stream = self.envelopes.stream(source, range.clone());
        self.body.clear();
        let mut encoder = GzEncoder::new(std::mem::take(&mut self.body), Compression::fast());
        let copied = std::io::copy(&mut stream, &mut encoder).is_ok();
        // A body left partial by a failed copy is never sent: the caller retries the events.
        self.body = encoder.finish().ok()?;
        copied.then_some(())
    }

    /// POSTs the body of events `range` to `url`: the compressed `self.body` with gzip, else
    /// streamed as it is rendered ([`super::body::Stream`]).
    fn post_range(
        &mut self,
        url: &str,
        source: Source<'_>,
        range: &Range<usize>,
    ) -> Result<Reply, TransportError> {
        let mut headers = vec![
            ("Authorization", self.token_header.expose()),
            ("X-Splunk-Request-Channel", self.channel.as_str()),
            ("Content-Type", "application/json"),
        ];
        if self.gzip {
            headers.push(("Content-Encoding", "gzip"));
            return self.client.post(url, &headers, &self.body, &self.redactor);
        }
        let len = self.envelopes.rendered().body_len(range).unwrap_or(0);
        let mut stream = self.envelopes.stream(source, range.clone());
        self.client
            .post_streamed(url, &headers, len, &mut stream, &self.redactor)
    }

    /// Makes the requests of `wave` (uncompressed bodies) at once, each to the first URL of
    /// its `orders` entry: the first on this thread, the others each on a thread of its own
    /// rendering in a [`Lane`]. Each entry is that request's reply, or `None` when it was not
    /// made (no lane or thread for it: it is then sent on its own, after).
    fn post_wave(
        &mut self,
        source: Source<'_>,
        wave: &[Range<usize>],
        orders: &[Vec<usize>],
    ) -> Vec<Option<Result<Reply, TransportError>>> {
        let jobs: Vec<(String, u64)> = wave
            .iter()
            .zip(orders)
            .filter_map(|(range, order)| {
                let url = self.targets.get(*order.first()?)?.event_url.clone();
                Some((url, self.envelopes.rendered().body_len(range)?))
            })
            .collect();
        if jobs.len() != wave.len() {
            return Vec::new();
        }
        let headers = [
            ("Authorization", self.token_header.expose()),
            ("X-Splunk-Request-Channel", self.channel.as_str()),
            ("Content-Type", "application/json"),
        ];
        while self.lanes.len() + 1 < wave.len() {
            self.lanes.push(Lane::new());
        }
        let (client, redactor) = (&self.client, &self.redactor);
        let streams = self.envelopes.streams(&mut self.lanes, source, wave);
        let post = |(url, len): &(String, u64), stream: &mut Stream<'_, '_>| {
            client.post_streamed(url, &headers, *len, stream, redactor)
        };
        std::thread::scope(|scope| {
            let mut pairs = jobs.iter().zip(streams);
            let mine = pairs.next();
            let others: Vec<_> = pairs
                .map(|(job, mut stream)| {
                    std::thread::Builder::new()
                        .name("hec-request".to_owned())
                        .spawn_scoped(scope, move || post(job, &mut stream))
                        .ok()
                })
                .collect();
            let mut replies = Vec::with_capacity(wave.len());
            replies.push(mine.map(|(job, mut stream)| post(job, &mut stream)));
            // A thread that could not start made no request; one that panicked may have.
            replies.extend(others.into_iter().map(|thread| {
                thread.map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err(TransportError::lost_thread()))
                })
            }));
            replies
        })
    }

    /// Sends events `range` of `batch` as one request (bisecting when told to), appending
    /// parts to `outcome`.
    fn send_request(
        &mut self,
        batch: (Source<'_>, &[(u64, u32)]),
        range: Range<usize>,
        now: Instant,
        outcome: &mut Outcome,
    ) {
        let order = self.rotation.order(now);
        self.send_request_to(batch, range, (order, None), now, outcome);
    }

    /// [`send_request`](Self::send_request) to the URLs in `order`; `first`, when the request
    /// was already made to the first of them (with others in flight: [`Self::post_wave`],
    /// never with gzip), is its reply, taken as that URL's answer.
    fn send_request_to(
        &mut self,
        (source, batch): (Source<'_>, &[(u64, u32)]),
        range: Range<usize>,
        (order, mut first): (Vec<usize>, Option<Result<Reply, TransportError>>),
        now: Instant,
        outcome: &mut Outcome,
    ) {
        let built = self.envelopes.rendered().body_len(&range).is_some() && !range.is_empty();
        if !built || (self.gzip && self.compress(source, &range).is_none()) {
            outcome.push(range, Action::Retry { after: None });
            outcome.last_error = Some("could not build the request body".to_owned());
            return;
        }
        let len = range.len();
        let mut final_action = Action::Retry { after: None };
        // Whether a URL that failed may have taken this request before it failed.
        let mut maybe_taken = false;
        for target in order {
            let Some(url) = self.targets.get(target).map(|t| t.event_url.clone()) else {
                continue;
            };
            let posted = match first.take() {
                Some(posted) => posted,
                None => self.post_range(&url, source, &range),
            };
            let reply = match posted {
                Ok(reply) => reply,
                Err(err) => {
                    outcome.uncertain |= err.maybe_delivered();
                    maybe_taken |= err.maybe_delivered();
                    final_action = classify::transport(&err);
                    outcome.cause = classify::transport_cause(&err);
                    outcome.last_error = Some(err.message);
                    self.rotation.mark_down(target, now);
                    continue;
                }
            };
            let parsed = HecReply::parse(&reply);
            outcome.status = Some(reply.status);
            let verdict = self.classify(&url, &parsed, len, outcome);
            if maybe_taken && Self::taken(&verdict) {
                outcome.failed_over += len;
            }
            match verdict {
                Verdict::Whole(Action::Retry { after }) if classify::failover(reply.status) => {
                    final_action = Action::Retry { after };
                    self.rotation.mark_down(target, now);
                }
                Verdict::Whole(Action::AwaitingAck) => {
                    if let Some(ack_id) = parsed.ack_id {
                        self.await_ack(batch, range.clone(), target, ack_id, now);
                    }
                    outcome.push(range, Action::AwaitingAck);
                    return;
                }
                Verdict::Whole(action) => {
                    // A 2xx the classification does not take as delivered (a success without
                    // the ackId acks need, or an answer that is not HEC's): what answered may
                    // have taken or passed on the events, so a later resend is a possible
                    // duplicate and must be counted as one.
                    if (200..300).contains(&reply.status) && action != Action::Delivered {
                        outcome.uncertain = true;
                    }
                    outcome.push(range, action);
                    return;
                }
                Verdict::Partial {
                    at,
                    before,
                    failed,
                    after,
                } => {
                    let at = range.start + at;
                    outcome.push(range.start..at, before);
                    outcome.push(at..at + 1, failed);
                    outcome.push(at + 1..range.end, after);
                    return;
                }
                Verdict::Bisect { reason } => {
                    outcome.last_error = Some(self.redactor.redact(&reason));
                    self.bisect((source, batch), range, now, outcome);
                    return;
                }
            }
        }
        outcome.push(range, final_action);
    }

    /// Whether a `verdict` means this URL took the request (delivered, awaiting its ack,
    /// dead-lettered in part or whole): the request is not sent anywhere else.
    fn taken(verdict: &Verdict) -> bool {
        match verdict {
            Verdict::Whole(action) => matches!(
                action,
                Action::Delivered | Action::AwaitingAck | Action::DeadLetter { .. }
            ),
            Verdict::Partial { .. } | Verdict::Bisect { .. } => true,
        }
    }

    /// Classifies `reply` from `url` to a request of `len` events, noting in `outcome` the
    /// cause and (for a failure status) the redacted error.
    fn classify(&self, url: &str, reply: &HecReply, len: usize, outcome: &mut Outcome) -> Verdict {
        let acks = self.ack_deadline.is_some();
        let sent = Sent {
            url,
            index: self
                .envelopes
                .options()
                .hec
                .index
                .as_ref()
                .map(|index| index.as_str()),
        };
        if let Some(cause) = classify::hec_cause(reply, acks) {
            outcome.cause = Some(cause);
        }
        if !(200..300).contains(&reply.status) {
            outcome.last_error = Some(
                self.redactor
                    .redact(&format!("{url}: {}", reply.describe())),
            );
        }
        classify::hec(reply, &sent, len, acks)
    }

    /// Sends the two halves of `range` at once; the second only if the first went through
    /// (delivered, awaiting its ack or dead-lettered), else it gets the first's action.
    fn bisect(
        &mut self,
        batch: (Source<'_>, &[(u64, u32)]),
        range: Range<usize>,
        now: Instant,
        outcome: &mut Outcome,
    ) {
        let mid = range.start + range.len() / 2;
        self.send_request(batch, range.start..mid, now, outcome);
        match outcome.parts.last().map(|p| p.action.clone()) {
            Some(Action::Delivered | Action::AwaitingAck | Action::DeadLetter { .. }) => {
                self.send_request(batch, mid..range.end, now, outcome);
            }
            Some(action) => outcome.push(mid..range.end, action),
            None => outcome.push(mid..range.end, Action::Retry { after: None }),
        }
    }

    /// [`Sender::send`] of `batch` in lanes of `lanes` events.
    fn send_events(&mut self, batch: &[Item<'_>], lanes: &[usize], now: Instant) -> Outcome {
        let source = Source::Events(batch);
        let (rendered, _) = self.render(source);
        self.send_rendered(source, (batch.len(), rendered, lanes), now)
    }

    /// [`Sender::send_packed`] of `batch` in lanes of `lanes` events.
    fn send_packed_in(
        &mut self,
        batch: &[PackedItem<'_>],
        lanes: &[usize],
        now: Instant,
    ) -> Outcome {
        let source = Source::Packed(batch);
        let (rendered, unpack_failed) = self.render(source);
        if !unpack_failed {
            return self.send_rendered(source, (batch.len(), rendered, lanes), now);
        }
        let mut outcome = self.send_rendered(source, (rendered, rendered, lanes), now);
        outcome.push(rendered..batch.len(), Action::Retry { after: None });
        outcome.last_error = Some(crate::destination::UNPACK_FAILED.to_owned());
        outcome
    }

    /// How a batch is spread over requests in flight, or `None` to send it as one lane:
    /// with one request in flight (`requests_in_flight = 1`, or left out while the HEC
    /// senders running have fewer than two cores each), with gzip (each body is compressed
    /// into the one buffer), for a batch under twice [`MIN_SPLIT_EVENTS`], or when all its
    /// events fall in one lane.
    fn lanes(&self, source: Source<'_>) -> Option<Lanes> {
        let width = match self.by_cores {
            Some(cores) => self
                .in_flight
                .min(default_requests_in_flight(Running::count(), cores)),
            None => self.in_flight,
        };
        if self.gzip || width < 2 || source.len() < 2 * MIN_SPLIT_EVENTS {
            return None;
        }
        Lanes::new((0..source.len()).map(|i| source.sensor_key(i)), width)
    }

    /// Sends the `rendered` events of a batch of `len` whose lanes hold `lanes` events each,
    /// one after the other (one lane: the whole batch), in requests within the [`Batch`]
    /// limits: the first request of every lane at once, then the second of every lane, and
    /// so on; stops after the first wave with a request that is neither delivered, awaiting
    /// its ack, nor dead-lettered, and gives the rest of the batch that request's action
    /// (unsent). An event that did not render is dead-lettered, those after it retried.
    fn send_rendered(
        &mut self,
        source: Source<'_>,
        (len, rendered, lanes): (usize, usize, &[usize]),
        now: Instant,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let sizes = self.envelopes.rendered().sizes();
        let mut start = 0usize;
        let mut by_lane = Vec::with_capacity(lanes.len());
        for &n in lanes {
            let end = start.saturating_add(n).min(sizes.len());
            let cut = self.limits.split(sizes.get(start..end).unwrap_or_default());
            let at = start;
            by_lane.push(cut.into_iter().map(move |r| r.start + at..r.end + at));
            start = end;
        }
        let mut waves = Vec::new();
        loop {
            let wave: Vec<Range<usize>> = by_lane.iter_mut().filter_map(Iterator::next).collect();
            if wave.is_empty() {
                break;
            }
            waves.push(wave);
        }
        let marks = std::mem::take(&mut self.marks);
        let mut stop: Option<Action> = None;
        for wave in &waves {
            if let Some(action) = &stop {
                for range in wave {
                    outcome.push(range.clone(), action.clone());
                }
                continue;
            }
            self.wave += 1;
            let orders: Vec<Vec<usize>> = wave.iter().map(|_| self.rotation.order(now)).collect();
            let firsts = if wave.len() > 1 {
                self.post_wave(source, wave, &orders)
            } else {
                Vec::new()
            };
            let mut firsts = firsts.into_iter();
            // Every request of the wave was made: each reply is taken, in batch order, even
            // after one that stops the batch (a later one may have been delivered).
            for (range, order) in wave.iter().zip(orders) {
                let first = firsts.next().flatten();
                self.send_request_to(
                    (source, &marks),
                    range.clone(),
                    (order, first),
                    now,
                    &mut outcome,
                );
                match outcome.parts.last().map(|p| &p.action) {
                    Some(Action::Delivered | Action::AwaitingAck | Action::DeadLetter { .. })
                    | None => {}
                    Some(action) => {
                        stop.get_or_insert_with(|| action.clone());
                    }
                }
            }
        }
        self.marks = marks;
        if rendered < len {
            let action = stop.unwrap_or(Action::DeadLetter {
                reason: "the event could not be rendered as a HEC envelope".to_owned(),
            });
            outcome.push(rendered..rendered + 1, action);
            outcome.push(rendered + 1..len, Action::Retry { after: None });
        }
        outcome
    }
}

impl Sender for HecSender {
    /// Sends `batch` in requests within the [`Batch`] limits; stops at the first request that
    /// is neither delivered, awaiting its ack, nor dead-lettered, and gives the rest of the
    /// batch that request's action (unsent).
    fn send(&mut self, batch: &[Item<'_>], now: Instant) -> Outcome {
        let Some(lanes) = self.lanes(Source::Events(batch)) else {
            return self.send_events(batch, &[batch.len()], now);
        };
        let outcome = self.send_events(&lanes.permute(batch), &lanes.lens, now);
        lanes.restore(outcome)
    }

    /// As `send`, unpacking and rendering one event at a time: the batch is never held as
    /// whole events, nor as more rendered envelopes than [`super::body::CACHE_BYTES`]. A record that
    /// does not unpack is retried with the rest (it is not dead-lettered: it was never seen).
    fn send_packed(&mut self, batch: &[PackedItem<'_>], now: Instant) -> Outcome {
        let Some(lanes) = self.lanes(Source::Packed(batch)) else {
            return self.send_packed_in(batch, &[batch.len()], now);
        };
        let outcome = self.send_packed_in(&lanes.permute(batch), &lanes.lens, now);
        lanes.restore(outcome)
    }

    fn hosts(&self, now: Instant) -> Vec<crate::destination::HostState> {
        let names = self.targets.iter().map(|t| t.base.clone());
        self.rotation.states(names, now)
    }

    fn poll_acks(&mut self, now: Instant) -> AckReport {
        HecSender::poll_acks(self, now)
    }

    fn pending_acks(&self) -> usize {
        HecSender::pending_acks(self)
    }

    /// HEC acks are polled at the worker's ack poll interval.
    fn poll_interval(&self) -> Option<Duration> {
        None
    }

    /// A record is delivered on HEC's answer (or its ack): nothing reported delivered can be
    /// lost by a reset.
    fn possible_loss(&self) -> u64 {
        0
    }

    /// No session to end: what awaits an ack stays in the spool, and in the ack state
    /// (made durable now), to be asked about after the restart.
    fn finish(&mut self) -> AckReport {
        if let Some(log) = self.log.as_mut()
            && let Err(err) = log.sync()
        {
            log::warn!(
                "cannot sync the HEC ack state {}: {err}",
                log.path().display()
            );
        }
        AckReport::default()
    }

    fn resume(&mut self, dir: &Path, name: &str) -> Option<u64> {
        HecSender::resume(self, dir, name)
    }

    fn restore(&mut self, records: &[(u64, u32)], now: Instant) -> Vec<(u64, Restored)> {
        HecSender::restore(self, records, now)
    }
}

/// A batch spread over requests in flight: each event goes to the lane of its sensor
/// ([`lane`]), so one sensor's alerts are all in one lane, in the batch's order, and the
/// requests in flight together (one per lane) never hold two alerts of one sensor. Splunk may
/// index those requests in either order; each sensor's alerts still arrive in the order they
/// were accepted (`docs/RELIABILITY.md`, N1).
#[derive(Debug)]
struct Lanes {
    /// The batch's positions, lane after lane, each lane in batch order.
    order: Vec<usize>,
    /// How many events each lane holds, in that order.
    lens: Vec<usize>,
}

impl Lanes {
    /// The lanes of events with sensor `keys` over `width` lanes; `None` when they all fall
    /// in one.
    fn new(keys: impl Iterator<Item = u32>, width: usize) -> Option<Self> {
        let lanes: Vec<usize> = keys.map(|key| lane(key, width)).collect();
        let mut lens = vec![0usize; width];
        for &l in &lanes {
            if let Some(n) = lens.get_mut(l) {
                *n += 1;
            }
        }
        if lens.iter().filter(|&&n| n > 0).count() < 2 {
            return None;
        }
        let mut order: Vec<usize> = (0..lanes.len()).collect();
        order.sort_by_key(|&i| lanes.get(i).copied().unwrap_or(0));
        lens.retain(|&n| n > 0);
        Some(Self { order, lens })
    }

    /// `batch` in lane order.
    fn permute<T: Copy>(&self, batch: &[T]) -> Vec<T> {
        self.order
            .iter()
            .filter_map(|&i| batch.get(i).copied())
            .collect()
    }

    /// `outcome`, of the batch in lane order, as the outcome of the batch in its own order.
    fn restore(&self, outcome: Outcome) -> Outcome {
        let mut actions: Vec<Option<Action>> = vec![None; self.order.len()];
        for part in &outcome.parts {
            for at in part.events.clone() {
                if let Some(slot) = self.order.get(at).and_then(|&i| actions.get_mut(i)) {
                    *slot = Some(part.action.clone());
                }
            }
        }
        let mut restored = Outcome {
            parts: Vec::new(),
            ..outcome
        };
        for (i, action) in actions.into_iter().enumerate() {
            if let Some(action) = action {
                restored.push(i..i + 1, action);
            }
        }
        restored
    }
}

/// The lane, of `width`, of the events of the sensor whose name hashes to `key`
/// ([`crate::spool::packed::sensor_key`]).
fn lane(key: u32, width: usize) -> usize {
    usize::try_from(key).unwrap_or(0) % width.max(1)
}

/// What a rewrite of the ack state keeps: the requests confirmed last, then those awaiting.
fn requests<'a>(
    indexed: &'a std::collections::VecDeque<Request>,
    pending: &'a [PendingAck],
) -> impl Iterator<Item = (&'a Request, ack_state::State)> {
    let indexed = indexed.iter().map(|r| (r, ack_state::State::Indexed));
    indexed.chain(
        pending
            .iter()
            .map(|p| (&p.request, ack_state::State::Awaiting)),
    )
}

/// Whether `text` is a GUID: `8-4-4-4-12` hex digits.
#[must_use]
pub(crate) fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A random version-4-style GUID (lower-case hex), from the standard library's per-process
/// random hash keys, the clock and a counter (a channel id needs uniqueness, not secrecy).
#[must_use]
pub(crate) fn random_guid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut words = [0u64; 2];
    for (i, word) in words.iter_mut().enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_usize(i);
        hasher.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        hasher.write_u32(std::process::id());
        *word = hasher.finish();
    }
    let [hi, lo] = words;
    let hi = (hi & !0xF000) | 0x4000; // version 4
    let lo = (lo & !(0xC << 60)) | (0x8 << 60); // variant 10xx
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
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
    use crate::destination::hec::HecUrl;
    use crate::destination::http::Scheme;

    #[test]
    fn generated_channels_are_distinct_v4_guids() {
        let a = random_guid();
        let b = random_guid();
        assert!(is_guid(&a), "{a}");
        assert_ne!(a, b);
        assert_eq!(a.as_bytes()[14], b'4', "version nibble: {a}");
        assert!(
            matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'),
            "variant: {a}"
        );
    }

    #[test]
    fn lanes_keep_each_sensor_in_one_lane_in_batch_order_and_restore_the_outcome() {
        // Keys 0..6 over 3 lanes: lane 0 holds keys 0 and 3, lane 1 keys 1 and 4, lane 2
        // keys 2 and 5; positions keep their batch order within a lane.
        let keys = [0u32, 1, 2, 3, 4, 5, 3, 0];
        let lanes = Lanes::new(keys.iter().copied(), 3).unwrap();
        assert_eq!(lanes.order, [0, 3, 6, 7, 1, 4, 2, 5]);
        assert_eq!(lanes.lens, [4, 2, 2]);
        // One key, or one lane in use: not spread.
        assert!(Lanes::new([7u32, 7, 7].into_iter(), 4).is_none());
        assert!(Lanes::new([0u32, 2, 4].into_iter(), 2).is_none());
        // Empty lanes are left out.
        let lanes = Lanes::new([1u32, 3, 1].into_iter(), 4).unwrap();
        assert_eq!(lanes.lens, [2, 1]);
        assert_eq!(lanes.order, [0, 2, 1]);
        // An outcome in lane order comes back in batch order, merged where it can be.
        let lanes = Lanes::new(keys.iter().copied(), 3).unwrap();
        let mut outcome = Outcome::default();
        outcome.push(0..4, Action::Delivered);
        outcome.push(4..6, Action::Retry { after: None });
        outcome.push(6..8, Action::Delivered);
        outcome.failed_over = 3;
        let restored = lanes.restore(outcome);
        let actions: Vec<(Range<usize>, bool)> = restored
            .parts
            .iter()
            .map(|p| (p.events.clone(), p.action == Action::Delivered))
            .collect();
        assert_eq!(
            actions,
            [
                (0..1, true),
                (1..2, false),
                (2..4, true),
                (4..5, false),
                (5..8, true)
            ]
        );
        assert_eq!(restored.failed_over, 3);
    }

    #[test]
    fn batch_limits_split_by_count_and_bytes_and_never_leave_a_range_empty() {
        let limits = Batch {
            max_events: 2,
            max_bytes: 25,
            ..Batch::default()
        };
        assert_eq!(limits.split(&[]), Vec::<Range<usize>>::new());
        assert_eq!(limits.split(&[5, 5, 5]), vec![0..2, 2..3]);
        assert_eq!(limits.split(&[20, 20]), vec![0..1, 1..2]);
        assert_eq!(limits.split(&[100]), vec![0..1]);
        let zero = Batch {
            max_events: 0,
            max_bytes: 0,
            ..Batch::default()
        };
        assert_eq!(zero.split(&[1, 1]), vec![0..1, 1..2]);
    }

    #[test]
    fn a_bad_channel_or_url_is_refused_at_construction() {
        let new = |options: Hec| HecSender::new(&options, &Tls::default(), &Timeouts::default());
        let url = |host: &str| HecUrl {
            scheme: Scheme::Https,
            host: host.into(),
            port: 8088,
        };
        let mut options = Hec::new(vec![url("h")], Secret::new("t"));
        options.channel = Some("not-a-guid".into());
        assert!(matches!(new(options), Err(HecError::BadChannel)));
        let options = Hec::new(vec![url("h/x")], Secret::new("t"));
        assert!(matches!(new(options), Err(HecError::BadUrl(_))));
        let options = Hec::new(vec![], Secret::new("t"));
        assert!(matches!(new(options), Err(HecError::NoUrls)));
    }
}
