//! The emulator's in-memory event store, shared by the HEC and splunkd servers and by tests.
//!
//! What it is: a cloneable [`Store`] handle (an `Arc<Mutex<..>>` inside) holding [`Stored`]
//! records, one type for what HEC indexed ([`hec::StoredEvent`]), what splunkd received
//! ([`splunkd::StoredEvent`]) and what the syslog receiver took ([`super::syslog::record`]). Tests query it with [`Store::list`] and a small [`Filter`], or
//! tally it with [`Store::count_by`].
//!
//! What it guarantees:
//! - Bounded: at most [`StoreConfig::max_events`] records are kept. When a batch would exceed
//!   that, the *oldest* records are dropped and each one is counted in [`Store::dropped`], so a
//!   test can tell "never received" from "received and evicted". Nothing is dropped silently.
//! - Optional JSONL mirror ([`StoreConfig::jsonl`]): every appended record is also written as one
//!   JSON object per line ([`Stored::to_json`]) and the file is flushed once per batch. The file
//!   is append-only and unbounded: eviction applies to memory only. A write error is returned
//!   by [`Store::append`]; the records are kept in memory all the same.
//! - A poisoned lock (a panic in another thread while holding it) is recovered, not propagated:
//!   the store holds plain data that a panic cannot leave half-updated.
//! - splunkd bodies are bytes; they are stored as text, lossily decoded as UTF-8 (the
//!   forwarder sends UTF-8 only; invalid bytes become U+FFFD).
//!
//! ```
//! use icsfwd_sim::splunk::store::{Body, Field, Filter, ReceiverKind, Store, StoreConfig, Stored};
//!
//! let store = Store::new(StoreConfig { max_events: 2, jsonl: None }).unwrap();
//! let event = |host: &str| Stored {
//!     host: host.to_owned(),
//!     body: Body::Text(format!("plc stop on {host}")),
//!     ..Stored::new(ReceiverKind::Hec)
//! };
//! store.append(vec![event("a"), event("b"), event("c")]).unwrap();
//! assert_eq!(store.len(), 2);
//! assert_eq!(store.dropped(), 1, "the oldest was evicted and counted");
//! let on_b = store.list(&Filter { host: Some("b".to_owned()), ..Filter::default() });
//! assert_eq!(on_b.len(), 1);
//! assert_eq!(store.count_by(Field::Host).get("c"), Some(&1));
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

use super::{hec, splunkd};

/// The default bound of the store.
pub const DEFAULT_MAX_EVENTS: usize = 100_000;

/// Which endpoint a record came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReceiverKind {
    /// HEC (`/services/collector*`).
    Hec,
    /// splunkd `POST /services/receivers/simple`.
    Simple,
    /// splunkd `POST /services/receivers/stream`.
    Stream,
    /// The syslog receiver ([`syslog`](super::syslog)): TCP, TLS or UDP.
    Syslog,
}

impl ReceiverKind {
    /// The name used in JSONL and by [`Field::Receiver`]: `hec`, `simple`, `stream` or
    /// `syslog`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hec => "hec",
            Self::Simple => "simple",
            Self::Stream => "stream",
            Self::Syslog => "syslog",
        }
    }
}

/// A record's payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Text: a HEC string event or `/raw` line, or a splunkd body.
    Text(String),
    /// A HEC non-string `event`.
    Json(Value),
}

impl Body {
    /// The payload as text (JSON is serialised compactly).
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Json(value) => value.to_string(),
        }
    }
}

/// One received event, whichever endpoint it came through.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The endpoint it came through.
    pub receiver: ReceiverKind,
    /// The index.
    pub index: String,
    /// The host metadata.
    pub host: String,
    /// The source metadata.
    pub source: String,
    /// The sourcetype metadata.
    pub sourcetype: String,
    /// Event time (HEC) or receipt time (splunkd), epoch milliseconds.
    pub time_ms: u64,
    /// The payload.
    pub body: Body,
    /// HEC indexed fields; empty for splunkd.
    pub fields: Vec<(String, Vec<String>)>,
    /// HEC request channel.
    pub channel: Option<String>,
    /// HEC ack id.
    pub ack_id: Option<u64>,
    /// splunkd user it was sent as.
    pub user: Option<String>,
}

impl Stored {
    /// An empty record from `receiver` (empty strings, time 0, empty text), to fill in.
    #[must_use]
    pub fn new(receiver: ReceiverKind) -> Self {
        Self {
            receiver,
            index: String::new(),
            host: String::new(),
            source: String::new(),
            sourcetype: String::new(),
            time_ms: 0,
            body: Body::Text(String::new()),
            fields: Vec::new(),
            channel: None,
            ack_id: None,
            user: None,
        }
    }

    /// The record as one JSON object, the JSONL line format: `receiver`, `index`, `host`,
    /// `source`, `sourcetype`, `time_ms`, `event` (string or JSON), `fields` (object of
    /// arrays), `channel`, `ack_id`, `user` (the last three `null` when absent).
    #[must_use]
    pub fn to_json(&self) -> Value {
        let event = match &self.body {
            Body::Text(text) => Value::String(text.clone()),
            Body::Json(value) => value.clone(),
        };
        let fields: serde_json::Map<String, Value> = self
            .fields
            .iter()
            .map(|(name, values)| (name.clone(), json!(values)))
            .collect();
        json!({
            "receiver": self.receiver.name(),
            "index": self.index,
            "host": self.host,
            "source": self.source,
            "sourcetype": self.sourcetype,
            "time_ms": self.time_ms,
            "event": event,
            "fields": fields,
            "channel": self.channel,
            "ack_id": self.ack_id,
            "user": self.user,
        })
    }

    fn field(&self, field: Field) -> &str {
        match field {
            Field::Receiver => self.receiver.name(),
            Field::Index => &self.index,
            Field::Host => &self.host,
            Field::Source => &self.source,
            Field::Sourcetype => &self.sourcetype,
        }
    }
}

impl From<hec::StoredEvent> for Stored {
    fn from(event: hec::StoredEvent) -> Self {
        Self {
            receiver: ReceiverKind::Hec,
            index: event.index,
            host: event.host,
            source: event.source,
            sourcetype: event.sourcetype,
            time_ms: event.time_ms,
            body: match event.body {
                hec::EventBody::Text(text) => Body::Text(text),
                hec::EventBody::Json(value) => Body::Json(value),
            },
            fields: event.fields,
            channel: event.channel,
            ack_id: event.ack_id,
            user: None,
        }
    }
}

impl From<splunkd::StoredEvent> for Stored {
    fn from(event: splunkd::StoredEvent) -> Self {
        Self {
            receiver: match event.receiver {
                splunkd::Receiver::Simple => ReceiverKind::Simple,
                splunkd::Receiver::Stream => ReceiverKind::Stream,
            },
            index: event.index,
            host: event.host,
            source: event.source,
            sourcetype: event.sourcetype,
            time_ms: event.time_ms,
            body: Body::Text(String::from_utf8_lossy(&event.raw).into_owned()),
            fields: Vec::new(),
            channel: None,
            ack_id: None,
            user: Some(event.user),
        }
    }
}

/// A metadata field to tally with [`Store::count_by`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// [`ReceiverKind::name`].
    Receiver,
    /// The index.
    Index,
    /// The host.
    Host,
    /// The source.
    Source,
    /// The sourcetype.
    Sourcetype,
}

/// Which records [`Store::list`] returns: every `Some` condition must hold (exact match, except
/// `contains`, a substring of [`Body::text`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exact index.
    pub index: Option<String>,
    /// Exact sourcetype.
    pub sourcetype: Option<String>,
    /// Exact host.
    pub host: Option<String>,
    /// Substring of the payload text.
    pub contains: Option<String>,
}

impl Filter {
    /// Whether `record` passes this filter.
    #[must_use]
    pub fn matches(&self, record: &Stored) -> bool {
        let exact =
            |wanted: &Option<String>, actual: &str| wanted.as_deref().is_none_or(|w| w == actual);
        exact(&self.index, &record.index)
            && exact(&self.sourcetype, &record.sourcetype)
            && exact(&self.host, &record.host)
            && self
                .contains
                .as_deref()
                .is_none_or(|needle| record.body.text().contains(needle))
    }
}

/// How a [`Store`] is bounded and mirrored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// At most this many records are kept in memory (0 keeps none, counting all as dropped).
    pub max_events: usize,
    /// A file every record is appended to as a JSON line (created if missing).
    pub jsonl: Option<PathBuf>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_events: DEFAULT_MAX_EVENTS,
            jsonl: None,
        }
    }
}

#[derive(Debug)]
struct Inner {
    events: VecDeque<Stored>,
    dropped: u64,
    max_events: usize,
    jsonl: Option<BufWriter<File>>,
}

/// A cloneable handle on one shared store.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
}

impl Store {
    /// An empty store; opens (appending) the JSONL file if one is configured.
    ///
    /// # Errors
    /// The JSONL file cannot be opened.
    pub fn new(config: StoreConfig) -> io::Result<Self> {
        let jsonl = match &config.jsonl {
            Some(path) => Some(BufWriter::new(
                OpenOptions::new().create(true).append(true).open(path)?,
            )),
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                events: VecDeque::new(),
                dropped: 0,
                max_events: config.max_events,
                jsonl,
            })),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a batch, evicting (and counting) the oldest records beyond the bound, and
    /// writes the batch to the JSONL file, flushed once.
    ///
    /// # Errors
    /// Writing the JSONL file failed; the records are in memory all the same.
    pub fn append(&self, batch: Vec<Stored>) -> io::Result<()> {
        let mut inner = self.lock();
        let mut result = Ok(());
        if let Some(file) = inner.jsonl.as_mut() {
            result = write_lines(file, &batch);
        }
        inner.events.extend(batch);
        while inner.events.len() > inner.max_events {
            inner.events.pop_front();
            inner.dropped += 1;
        }
        result
    }

    /// How many records are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Whether no record is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many records were evicted by the bound since the store was created.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Forgets every held record (the dropped count stays); returns how many there were.
    pub fn clear(&self) -> usize {
        let mut inner = self.lock();
        let held = inner.events.len();
        inner.events.clear();
        held
    }

    /// Copies of the records passing `filter`, oldest first.
    #[must_use]
    pub fn list(&self, filter: &Filter) -> Vec<Stored> {
        self.lock()
            .events
            .iter()
            .filter(|record| filter.matches(record))
            .cloned()
            .collect()
    }

    /// How many held records have each value of `field`.
    #[must_use]
    pub fn count_by(&self, field: Field) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for record in &self.lock().events {
            *counts.entry(record.field(field).to_owned()).or_insert(0) += 1;
        }
        counts
    }
}

fn write_lines(file: &mut BufWriter<File>, batch: &[Stored]) -> io::Result<()> {
    for record in batch {
        serde_json::to_writer(&mut *file, &record.to_json())?;
        file.write_all(b"\n")?;
    }
    file.flush()
}
