//! A HEC request body produced as it is sent, so that a destination holds a few kilobytes of
//! rendered envelopes instead of its whole batch.
//!
//! What it is: the sender renders a batch once to learn each envelope's length (and the ack
//! marks), keeping the first envelopes, up to [`CACHE_BYTES`], in a [`Rendered`] cache. A
//! request is then a [`Stream`] over a range of the batch: it reads cached envelopes as they
//! are and renders the others again, one at a time, into the sender's scratch buffer, each
//! followed by `\n`. The request carries `Content-Length` (the sum of the lengths learned, one
//! separator each): some HEC front ends and proxies refuse chunked request bodies.
//!
//! What it guarantees:
//! - The bytes streamed for a range are those of the envelopes rendered the first time: a
//!   rendering is a pure function of the event and the options. An envelope whose length
//!   differs the second time ends the stream with an error instead of sending other bytes than
//!   announced (the request breaks and is retried).
//! - Memory: the cache never grows beyond [`CACHE_BYTES`]; the scratch buffer is one
//!   envelope's maximum (core's `format::hec::MAX_LEN`). A batch that fits the cache (a trickle
//!   or a storm's small batches) is rendered once.
//!
//! Choices: a cache of the batch's first envelopes, not a sliding window: a batch at full load
//! (500 typical alerts, ~0.5 MB) is rendered about twice, which costs CPU per destination
//! (the benchmark in docs/BENCHMARKS.md, "Streamed HEC requests") and saves ~0.5 MB of memory
//! per destination.

use std::io::{self, Read};
use std::ops::Range;

use icsfwd_core::alert::Event;
use icsfwd_core::format::{self, SliceWriter};

use crate::destination::{Item, PackedItem};

/// Bytes of rendered envelopes (each with its `\n`) a sender keeps from a batch: those of a
/// batch at a steady rate (tens of typical alerts) all fit.
pub(crate) const CACHE_BYTES: usize = 64 * 1024;

/// Where a batch's events come from: whole events, or packed records unpacked one at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    /// Whole events ([`crate::destination::Sender::send`]).
    Events(&'a [Item<'a>]),
    /// Packed records ([`crate::destination::Sender::send_packed`]).
    Packed(&'a [PackedItem<'a>]),
}

/// A packed record did not unpack.
#[derive(Debug)]
pub(crate) struct Unpackable;

impl<'a> Source<'a> {
    /// How many events the batch holds.
    pub(crate) fn len(self) -> usize {
        match self {
            Self::Events(items) => items.len(),
            Self::Packed(items) => items.len(),
        }
    }

    /// Event `i`'s [`sensor_key`](crate::spool::packed::sensor_key) (0 past the end).
    pub(crate) fn sensor_key(self, i: usize) -> u32 {
        match self {
            Self::Events(items) => items
                .get(i)
                .map_or(0, |(_, event)| crate::spool::packed::sensor_key(event)),
            Self::Packed(items) => items.get(i).map_or(0, |(_, packed)| packed.sensor_key()),
        }
    }

    /// Event `i`'s sequence number and event: borrowed, or unpacked into `slot` (reused from
    /// one event to the next). `Ok(None)` past the end.
    pub(crate) fn event<'s>(
        self,
        i: usize,
        slot: &'s mut Option<Box<Event>>,
    ) -> Result<Option<(u64, &'s Event)>, Unpackable>
    where
        'a: 's,
    {
        match self {
            Self::Events(items) => Ok(items.get(i).map(|&(seq, event)| (seq, event))),
            Self::Packed(items) => {
                let Some(&(seq, packed)) = items.get(i) else {
                    return Ok(None);
                };
                match slot {
                    Some(reused) => packed.unpack_into(reused).map_err(|_| Unpackable)?,
                    None => *slot = Some(Box::new(packed.unpack().map_err(|_| Unpackable)?)),
                }
                Ok(slot.as_deref().map(|event| (seq, event)))
            }
        }
    }
}

/// Renders `event`'s HEC envelope into `scratch`; its length, or `None` if it does not render
/// (which core's `MAX_LEN` bound rules out for a scratch of that size).
pub(crate) fn envelope(
    event: &Event,
    options: &format::Options,
    scratch: &mut [u8],
) -> Option<usize> {
    let mut out = SliceWriter::new(scratch);
    format::write(format::Kind::Hec, event, options, &mut out).ok()?;
    Some(out.written().len())
}

/// What the first rendering of a batch learned: each envelope's length, and the first ones'
/// bytes.
#[derive(Debug, Default)]
pub(crate) struct Rendered {
    /// The first [`cached`](Self::cached) envelopes, each followed by `\n`.
    cache: Vec<u8>,
    /// How many envelopes `cache` holds (a prefix of the batch).
    cached: usize,
    /// Each rendered envelope's length, without its `\n`.
    sizes: Vec<usize>,
}

impl Rendered {
    /// Empties it for a new batch, keeping the cache's allocation.
    pub(crate) fn clear(&mut self) {
        self.cache.clear();
        self.cached = 0;
        self.sizes.clear();
    }

    /// Notes the next envelope, `bytes`; kept in the cache while every envelope before it
    /// was and it fits.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let fits = self.cache.len() + bytes.len() < CACHE_BYTES;
        if self.cached == self.sizes.len() && fits {
            if self.cache.capacity() < CACHE_BYTES {
                self.cache.reserve_exact(CACHE_BYTES - self.cache.len());
            }
            self.cache.extend_from_slice(bytes);
            self.cache.push(b'\n');
            self.cached += 1;
        }
        self.sizes.push(bytes.len());
    }

    /// Each rendered envelope's length, without its `\n`.
    pub(crate) fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// How many envelopes rendered.
    pub(crate) fn len(&self) -> usize {
        self.sizes.len()
    }

    /// The body length of the envelopes `range`: each plus its `\n`; `None` outside what
    /// rendered.
    pub(crate) fn body_len(&self, range: &Range<usize>) -> Option<u64> {
        let sizes = self.sizes.get(range.clone())?;
        let bytes: usize = sizes.iter().sum::<usize>() + sizes.len();
        u64::try_from(bytes).ok()
    }

    /// Bytes held between batches (the cache's allocation).
    pub(crate) fn held(&self) -> usize {
        self.cache.capacity() + self.sizes.capacity() * std::mem::size_of::<usize>()
    }
}

/// A sender's envelopes: the options, what the first rendering of the current batch learned,
/// and the room to render one envelope again.
#[derive(Debug)]
pub(crate) struct Envelopes {
    options: format::Options,
    rendered: Rendered,
    /// One envelope's room (core's `format::hec::MAX_LEN`).
    scratch: Vec<u8>,
    /// The event a packed record unpacks into, reused.
    slot: Option<Box<Event>>,
}

impl Envelopes {
    /// Envelopes rendered with `options`.
    pub(crate) fn new(options: format::Options) -> Self {
        Self {
            options,
            rendered: Rendered::default(),
            scratch: vec![0u8; format::hec::MAX_LEN],
            slot: None,
        }
    }

    /// The envelope options.
    pub(crate) fn options(&self) -> &format::Options {
        &self.options
    }

    /// Renders `source` once: each envelope's length, the first envelopes kept, and each
    /// event's sequence number and `mark(seq, event)` appended to `marks`. Returns how many
    /// rendered and whether it stopped at a record that did not unpack (else it stops at the
    /// first event that does not render, which core's `MAX_LEN` bound rules out).
    pub(crate) fn render(
        &mut self,
        source: Source<'_>,
        marks: &mut Vec<(u64, u32)>,
        mark: impl Fn(u64, &Event) -> u32,
    ) -> (usize, bool) {
        self.rendered.clear();
        for i in 0..source.len() {
            let (seq, event) = match source.event(i, &mut self.slot) {
                Ok(Some(found)) => found,
                Ok(None) => break,
                Err(Unpackable) => return (self.rendered.len(), true),
            };
            let Some(len) = envelope(event, &self.options, &mut self.scratch) else {
                break;
            };
            self.rendered
                .push(self.scratch.get(..len).unwrap_or_default());
            marks.push((seq, mark(seq, event)));
        }
        (self.rendered.len(), false)
    }

    /// What the last [`render`](Self::render) learned.
    pub(crate) fn rendered(&self) -> &Rendered {
        &self.rendered
    }

    /// The body of envelopes `range` of `source` (the batch last rendered).
    pub(crate) fn stream<'s, 'a>(
        &'s mut self,
        source: Source<'a>,
        range: Range<usize>,
    ) -> Stream<'s, 'a> {
        let renderer = Renderer {
            source,
            options: &self.options,
            scratch: &mut self.scratch,
            slot: &mut self.slot,
        };
        Stream::new(renderer, &self.rendered, range)
    }

    /// The bodies of envelopes `ranges` of `source` (the batch last rendered), to be read at
    /// the same time on different threads: the first renders again in this sender's own
    /// room, the others each in one of `lanes` (at least `ranges.len() - 1` of them; ranges
    /// beyond get no stream).
    pub(crate) fn streams<'s, 'a>(
        &'s mut self,
        lanes: &'s mut [Lane],
        source: Source<'a>,
        ranges: &[Range<usize>],
    ) -> Vec<Stream<'s, 'a>> {
        let Envelopes {
            options,
            rendered,
            scratch,
            slot,
        } = self;
        let rooms = std::iter::once((scratch.as_mut_slice(), slot)).chain(
            lanes
                .iter_mut()
                .map(|l| (l.scratch.as_mut_slice(), &mut l.slot)),
        );
        ranges
            .iter()
            .zip(rooms)
            .map(|(range, (scratch, slot))| {
                let renderer = Renderer {
                    source,
                    options,
                    scratch,
                    slot,
                };
                Stream::new(renderer, rendered, range.clone())
            })
            .collect()
    }

    /// Bytes held between batches: the cache, the lengths and the scratch.
    pub(crate) fn held(&self) -> usize {
        self.rendered.held() + self.scratch.capacity()
    }
}

/// The room one more request in flight renders envelopes again in: a scratch buffer and an
/// event slot of its own, so that several [`Stream`]s of one batch are read at once.
#[derive(Debug)]
pub(crate) struct Lane {
    /// One envelope's room (core's `format::hec::MAX_LEN`).
    scratch: Vec<u8>,
    /// The event a packed record unpacks into, reused.
    slot: Option<Box<Event>>,
}

impl Lane {
    /// An empty lane.
    pub(crate) fn new() -> Self {
        Self {
            scratch: vec![0u8; format::hec::MAX_LEN],
            slot: None,
        }
    }

    /// Bytes it holds.
    pub(crate) fn held(&self) -> usize {
        self.scratch.capacity()
    }
}

/// What a [`Stream`] borrows to render an envelope again.
#[derive(Debug)]
struct Renderer<'s, 'a> {
    /// The batch.
    source: Source<'a>,
    /// The envelope options.
    options: &'s format::Options,
    /// One envelope's room (core's `format::hec::MAX_LEN`).
    scratch: &'s mut [u8],
    /// The reused event a packed record unpacks into.
    slot: &'s mut Option<Box<Event>>,
}

/// The envelope being read.
#[derive(Debug, Clone)]
enum Current {
    /// None loaded: load the next.
    Idle,
    /// In the cache at this span.
    Cached(Range<usize>),
    /// In the scratch buffer, this long.
    Scratch(usize),
}

/// The body of one request, envelopes `range` of a batch, produced as it is read.
#[derive(Debug)]
pub(crate) struct Stream<'s, 'a> {
    renderer: Renderer<'s, 'a>,
    rendered: &'s Rendered,
    /// The next envelope to load, and the end of the range.
    next: usize,
    end: usize,
    /// Where envelope `next` starts in the cache (while `next` is cached).
    cache_at: usize,
    current: Current,
    /// How many bytes of the current envelope and its `\n` were read.
    taken: usize,
}

impl<'s, 'a> Stream<'s, 'a> {
    /// The body of envelopes `range` (within what `rendered` learned).
    fn new(renderer: Renderer<'s, 'a>, rendered: &'s Rendered, range: Range<usize>) -> Self {
        let before = rendered.sizes.get(..range.start.min(rendered.cached));
        let cache_at = before.map_or(0, |sizes| sizes.iter().sum::<usize>() + sizes.len());
        Self {
            renderer,
            rendered,
            next: range.start,
            end: range.end.min(rendered.len()),
            cache_at,
            current: Current::Idle,
            taken: 0,
        }
    }

    /// Loads envelope `next`; `false` at the range's end.
    fn load(&mut self) -> io::Result<bool> {
        if self.next >= self.end {
            return Ok(false);
        }
        let i = self.next;
        let size = self.rendered.sizes.get(i).copied().unwrap_or(0);
        self.current = if i < self.rendered.cached {
            let span = self.cache_at..self.cache_at + size;
            self.cache_at = span.end + 1;
            Current::Cached(span)
        } else {
            let Renderer {
                source,
                options,
                scratch,
                slot,
            } = &mut self.renderer;
            let again = match source.event(i, slot) {
                Ok(Some((_, event))) => envelope(event, options, scratch),
                Ok(None) | Err(Unpackable) => None,
            };
            if again != Some(size) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a HEC envelope did not render as it did when the request was sized",
                ));
            }
            Current::Scratch(size)
        };
        self.next += 1;
        self.taken = 0;
        Ok(true)
    }
}

impl Read for Stream<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            let bytes: &[u8] = match &self.current {
                Current::Idle => {
                    if self.load()? {
                        continue;
                    }
                    break;
                }
                Current::Cached(span) => self.rendered.cache.get(span.clone()).unwrap_or_default(),
                Current::Scratch(len) => self.renderer.scratch.get(..*len).unwrap_or_default(),
            };
            let rest = buf.get_mut(filled..).unwrap_or_default();
            if let Some(left) = bytes.get(self.taken..).filter(|left| !left.is_empty()) {
                let n = left.len().min(rest.len());
                if let (Some(to), Some(from)) = (rest.get_mut(..n), left.get(..n)) {
                    to.copy_from_slice(from);
                }
                self.taken += n;
                filled += n;
            } else if let Some(first) = rest.first_mut() {
                *first = b'\n';
                filled += 1;
                self.current = Current::Idle;
            }
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use super::*;
    use crate::spool::packed::Packed;
    use icsfwd_core::alert::Alert;

    /// `n` alerts whose messages differ in length, so envelopes do not line up with reads.
    fn events(n: u64) -> Vec<Event> {
        (1..=n)
            .map(|id| {
                let mut alert = Alert::example(1_700_000_000_000 + id);
                alert.id = id;
                alert.set_message(&"m".repeat((id as usize * 37) % 900));
                Event::from(alert)
            })
            .collect()
    }

    /// Each event's envelope, as `format::write` renders it.
    fn envelopes(events: &[Event], options: &format::Options) -> Vec<Vec<u8>> {
        let mut scratch = vec![0u8; format::hec::MAX_LEN];
        events
            .iter()
            .map(|event| {
                let len = envelope(event, options, &mut scratch).unwrap();
                scratch[..len].to_vec()
            })
            .collect()
    }

    fn read_all(stream: &mut Stream<'_, '_>, step: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// Streams `range` of `source` after `rendered` learned it, read `step` bytes at a time.
    fn stream(
        source: Source<'_>,
        rendered: &Rendered,
        range: Range<usize>,
        step: usize,
    ) -> io::Result<Vec<u8>> {
        let options = format::Options::default();
        let mut scratch = vec![0u8; format::hec::MAX_LEN];
        let mut slot = None;
        let renderer = Renderer {
            source,
            options: &options,
            scratch: &mut scratch,
            slot: &mut slot,
        };
        read_all(&mut Stream::new(renderer, rendered, range), step)
    }

    #[test]
    fn a_render_learns_every_envelope_and_streams_them_back() {
        let events = events(300);
        let options = format::Options::default();
        let want: Vec<u8> = envelopes(&events, &options)
            .iter()
            .flat_map(|e| e.iter().copied().chain([b'\n']))
            .collect();
        let items: Vec<(u64, &Event)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u64 + 7, e))
            .collect();
        let mut envelopes = Envelopes::new(options);
        let mut marks = Vec::new();
        let (rendered, unpack_failed) =
            envelopes.render(Source::Events(&items), &mut marks, |seq, _| seq as u32 * 2);
        assert_eq!((rendered, unpack_failed), (300, false));
        assert_eq!(marks.first(), Some(&(7, 14)));
        assert_eq!(marks.len(), 300);
        assert_eq!(
            envelopes.rendered().body_len(&(0..300)),
            Some(want.len() as u64)
        );
        let got = read_all(&mut envelopes.stream(Source::Events(&items), 0..300), 999).unwrap();
        assert!(got == want);
        assert!(envelopes.held() <= CACHE_BYTES + 512 * 8 + format::hec::MAX_LEN);
    }

    #[test]
    fn a_streamed_range_is_its_envelopes_each_with_a_newline_cached_or_rendered_again() {
        let events = events(300);
        let options = format::Options::default();
        let envelopes = envelopes(&events, &options);
        let mut rendered = Rendered::default();
        for bytes in &envelopes {
            rendered.push(bytes);
        }
        assert!(
            rendered.cached > 10 && rendered.cached < events.len(),
            "the batch must overflow the cache: {}",
            rendered.cached
        );
        assert!(rendered.cache.len() <= CACHE_BYTES);
        let items: Vec<(u64, &Event)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u64, e))
            .collect();
        let packed: Vec<(u64, Packed)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u64, Packed::new(e).unwrap()))
            .collect();
        let packed_items: Vec<(u64, &Packed)> = packed.iter().map(|(seq, p)| (*seq, p)).collect();
        let c = rendered.cached;
        for range in [0..300, 0..c, c..300, c - 1..c + 1, 5..6, 150..300, 0..1] {
            let want: Vec<u8> = envelopes[range.clone()]
                .iter()
                .flat_map(|e| e.iter().copied().chain([b'\n']))
                .collect();
            assert_eq!(
                rendered.body_len(&range),
                Some(want.len() as u64),
                "{range:?}"
            );
            for source in [Source::Events(&items), Source::Packed(&packed_items)] {
                for step in [1, 7, 4096, 1 << 20] {
                    let got = stream(source, &rendered, range.clone(), step).unwrap();
                    assert!(got == want, "range {range:?}, read {step} at a time");
                }
            }
        }
    }

    #[test]
    fn an_envelope_that_renders_to_another_length_ends_the_stream_with_an_error() {
        let events = events(300);
        let options = format::Options::default();
        let mut rendered = Rendered::default();
        for bytes in envelopes(&events, &options) {
            rendered.push(&bytes);
        }
        // The last event is not cached; another event in its place renders differently.
        let mut changed = events.clone();
        let mut alert = Alert::example(1);
        alert.set_message("another length");
        changed[299] = Event::from(alert);
        let items: Vec<(u64, &Event)> = changed
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u64, e))
            .collect();
        let err = stream(Source::Events(&items), &rendered, 298..300, 4096).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn the_cache_keeps_a_prefix_of_the_batch_within_its_bound() {
        let mut rendered = Rendered::default();
        rendered.push(&[b'a'; 100]);
        rendered.push(&vec![b'b'; CACHE_BYTES]);
        rendered.push(&[b'c'; 100]);
        assert_eq!(
            rendered.cached, 1,
            "an envelope after one left out is not cached"
        );
        assert_eq!(rendered.len(), 3);
        assert!(rendered.cache.capacity() <= CACHE_BYTES);
        assert_eq!(
            rendered.body_len(&(0..3)),
            Some(100 + CACHE_BYTES as u64 + 100 + 3)
        );
        assert_eq!(rendered.body_len(&(2..4)), None);
    }
}
