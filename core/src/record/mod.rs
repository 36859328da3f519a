//! The spool record: how one accepted event is stored, so that it survives a crash and a
//! reader can always tell a whole record from a torn or corrupted one.
//!
//! The full specification, with the hex vectors explained, is `docs/record-format.md`; the
//! facts in brief:
//!
//! ```text
//! record, format version 1 (integers little-endian):
//!
//! 0       2       3       4                       12              16      18          18+n      22+n
//! +-------+-------+-------+-----------------------+---------------+-------+-----------+---------+
//! | magic | ver   | flags | seq                   | destinations  | n     | body      | CRC-32C |
//! | 49 52 | 01    | 00    | u64                   | u32 bitmask   | u16   | n bytes   | u32     |
//! +-------+-------+-------+-----------------------+---------------+-------+-----------+---------+
//! |<------------------------------ covered by the CRC-32C ---------------------------->|
//!
//! frame:   COBS(record) 00         COBS output has no 0x00, so 0x00 only ever ends a frame
//! stream:  frame frame frame ...   a spool segment is frames back to back
//! ```
//!
//! | offset | size | field         | meaning                                              |
//! |--------|------|---------------|------------------------------------------------------|
//! | 0      | 2    | magic         | `49 52` (`"IR"`), [`MAGIC`]                          |
//! | 2      | 1    | version       | the body's layout: [`VERSION`] written, from         |
//! |        |      |               | [`OLDEST_VERSION`] to [`VERSION`] read                |
//! | 3      | 1    | flags         | reserved, 0 in version 1                             |
//! | 4      | 8    | seq           | the spool's sequence number (u64)                    |
//! | 12     | 4    | destinations  | [`DestinationSet`] bits, bit i = destination i (u32) |
//! | 16     | 2    | body length n | 1 ..= [`MAX_BODY`] (u16)                             |
//! | 18     | n    | body          | the [`Event`] in that version's layout (`v1.rs`)     |
//! | 18 + n | 4    | CRC-32C       | [`crc::checksum`] of bytes `0 .. 18 + n` (u32)       |
//!
//! - **Integrity**: CRC-32C (Castagnoli) over everything before it. A record is only ever
//!   delivered when its CRC matches, so no truncation or bit flip of a stream yields a record
//!   that was not written — the only exception is a CRC-32C collision (probability about
//!   2^-32 per damaged frame that still has the magic and a valid COBS structure).
//! - **Framing and resynchronisation**: the record is COBS-encoded ([`cobs`]) and followed by
//!   one `0x00`. After a torn or corrupt frame the [`Decoder`] skips to the next `0x00` and
//!   carries on; every skipped byte is counted ([`Stats`]).
//! - **Torn tail**: bytes after the last `0x00` of a stream are an incomplete frame (a write cut
//!   short by a crash), not corruption: [`Decoder::finish`] reports them apart, as a
//!   [`TornTail`]. A writer that reopens a stream with a torn tail must cut the stream at
//!   [`Decoder::frame_start`] (or write one `0x00`) before appending, so that the fragment does
//!   not merge with the next record.
//! - **Maxima**: [`MAX_BODY`] (the largest body of any version read), [`MAX_RECORD`], [`MAX_FRAME`]
//!   (COBS adds one byte per 254 and one more, plus the delimiter). An encoder buffer of
//!   [`MAX_FRAME`] bytes always suffices; the decoder holds one frame in a fixed buffer.
//! - **Versions**: the body is a wire type of its own, one frozen module per format version
//!   (`v1.rs`: the layout, its writer, and its reader, which is the conversion to the domain
//!   [`Event`]; `v2.rs`: version 1 with two notification kinds added). Encoding writes the
//!   oldest version that holds the event ([`version_for`]); decoding reads every version from
//!   [`OLDEST_VERSION`] to [`VERSION`] into the same domain type ([`decode_body_into`]). The
//!   domain types in `alert.rs` have no serde derive, so changing them cannot change what is on
//!   disk unnoticed: the writer of the newest version stops compiling or its tests fail.
//! - **Compatibility**: bytes 0..3 (magic, version) and the CRC as the last four bytes over all
//!   the others are fixed in every version. A record whose CRC is valid but whose version this
//!   reader does not read is [`DecodeError::BadVersion`], never garbage: the spool must refuse
//!   it (stop and keep the data), not skip or delete it. See [`DecodeError::must_refuse`].
//!   Postcard is not self-describing, so any change to the body's layout needs a new version;
//!   `docs/record-format.md` has the promise (which versions a release reads) and the recipe.
//!
//! Wire types are kept apart from domain types: [`Record`] is the domain value, [`RecordView`]
//! a checked view of a decoded record's bytes with typed getters, `v1` the body's layout.
//!
//! Guarantees: nothing in this module panics or allocates, for any input bytes. Encoding checks
//! its room and reports [`EncodeError::BufferTooSmall`] with the exact size needed; decoding
//! checks every length before it reads, and the decoder's memory is fixed ([`MAX_FRAME`]).
//!
//! ```
//! use icsfwd_core::alert::{Event, Notification, NotificationKind};
//! use icsfwd_core::destination::DestinationSet;
//! use icsfwd_core::record::{self, Decoder, Record, MAX_FRAME};
//!
//! let event = Event::from(Notification::new(7, 1_700_000_000_000, NotificationKind::SensorOnline));
//! let record = Record { seq: 1, destinations: DestinationSet::from_bits(0b101), event };
//! let mut frame = [0u8; MAX_FRAME];
//! let n = record::encode(&record, &mut frame).unwrap();
//! assert_eq!(frame[n - 1], 0x00); // the delimiter
//!
//! // A stream: the frame, then the first half of a second copy cut by a crash.
//! let mut stream = heapless::Vec::<u8, { 2 * MAX_FRAME }>::new();
//! stream.extend_from_slice(&frame[..n]).unwrap();
//! stream.extend_from_slice(&frame[..n / 2]).unwrap();
//!
//! let mut decoder = Decoder::new();
//! let mut records = decoder.feed(&stream);
//! assert_eq!(records.next(), Some(Ok(record)));
//! assert_eq!(records.next(), None);
//! assert_eq!(decoder.finish().map(|torn| torn.bytes), Some(n / 2));
//! assert_eq!(decoder.stats().records, 1);
//! ```

use core::fmt;
use core::ops::Range;

use postcard::ser_flavors::{self, Flavor};

use crate::alert::{Event, Notification, NotificationKind};
use crate::destination::DestinationSet;

pub mod cobs;
pub mod crc;
mod v1;
mod v2;
#[cfg(test)]
mod v3;

/// The newest body layout this release writes. In core's own unit tests it is the rehearsal
/// version 3 (`v3.rs`), so that they prove a release reading three versions.
#[cfg(not(test))]
use self::v2 as newest;
#[cfg(test)]
use self::v3 as newest;

/// The first two bytes of every record: `"IR"` (icsfwd record).
pub const MAGIC: [u8; 2] = *b"IR";
/// The newest record format version this release writes and reads. A record is written in
/// the oldest version that holds its event ([`version_for`]).
pub const VERSION: u8 = newest::VERSION;
/// The oldest record format version this release reads. It reads every version from this one
/// to [`VERSION`] (`docs/record-format.md`, "Compatibility and versioning").
pub const OLDEST_VERSION: u8 = v1::VERSION;
/// The frame delimiter: the one byte value COBS removes from the record.
pub const DELIMITER: u8 = 0x00;
/// Bytes before the body: magic, version, flags, seq, destinations, body length.
pub const HEADER_LEN: usize = 18;
/// Bytes of the CRC-32C that ends every record.
pub const CRC_LEN: usize = 4;

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// The longest body of any version this release reads: 2603 bytes (the version-1 body of an
/// alert with every field at its maximum).
pub const MAX_BODY: usize = max(v1::MAX_BODY, newest::MAX_BODY);
/// The longest record before framing: header, body and CRC.
pub const MAX_RECORD: usize = HEADER_LEN + MAX_BODY + CRC_LEN;
/// The longest frame: the COBS encoding of a [`MAX_RECORD`]-byte record plus the delimiter.
pub const MAX_FRAME: usize = cobs::max_encoded_len(MAX_RECORD) + 1;

// The body length field is a u16.
const _: () = assert!(MAX_BODY <= u16::MAX as usize);

/// One spooled event: the domain value a record carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Record {
    /// The spool's sequence number for this event.
    pub seq: u64,
    /// The destinations the event must still be delivered to.
    pub destinations: DestinationSet,
    /// The event.
    pub event: Event,
}

/// Why a record could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The frame buffer is too small; a buffer of `needed` bytes fits this record (one of
    /// [`MAX_FRAME`] bytes fits any record).
    BufferTooSmall {
        /// The length of this record's frame, delimiter included.
        needed: usize,
    },
    /// The body is longer than [`MAX_BODY`], so no reader would accept the record. Events this
    /// crate builds never are; this guards against a field added without updating
    /// [`MAX_BODY`].
    TooLong {
        /// The body length.
        body_len: usize,
    },
    /// Postcard could not serialise the event (no event this crate builds causes this).
    Body,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed } => {
                write!(f, "record frame buffer too small: {needed} bytes needed")
            }
            EncodeError::TooLong { body_len } => {
                write!(f, "record body of {body_len} bytes exceeds {MAX_BODY}")
            }
            EncodeError::Body => f.write_str("event could not be serialised"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Why a frame did not yield a record.
///
/// The first group (`Truncated`, `TooLong`, `Cobs`, `BadMagic`, `Crc`) means damage: the bytes
/// are not a record, and a reader skips them. The second group (`BadVersion`, `BadFlags`,
/// `BadLength`, `Body`) is only reported for a frame whose CRC is valid: a genuine record this
/// reader does not understand, which must be refused, never deleted
/// ([`must_refuse`](DecodeError::must_refuse)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes end before a record's fixed fields do (magic, version and CRC), or a frame
    /// lacks its delimiter.
    Truncated,
    /// The frame is longer than [`MAX_FRAME`].
    TooLong,
    /// The frame is not a valid COBS encoding.
    Cobs,
    /// The record does not start with [`MAGIC`].
    BadMagic,
    /// The CRC-32C stored in the record does not match its bytes.
    Crc {
        /// The CRC the record carries.
        stored: u32,
        /// The CRC of the bytes it covers.
        computed: u32,
    },
    /// A genuine record (valid CRC) of a format version this release does not read: newer
    /// than [`VERSION`] (a newer icsfwd wrote it) or older than [`OLDEST_VERSION`].
    BadVersion {
        /// The version byte found.
        found: u8,
    },
    /// A genuine version-1 record with reserved flag bits set.
    BadFlags {
        /// The flags byte found.
        found: u8,
    },
    /// A genuine version-1 record whose body length field disagrees with its size, or exceeds
    /// [`MAX_BODY`], or that is shorter than its header.
    BadLength,
    /// A genuine record whose body does not follow its version's layout exactly.
    Body,
}

impl DecodeError {
    /// Whether the frame is a genuine record (its CRC is valid) that this reader cannot
    /// interpret. Such a record must not be skipped as garbage or deleted: the spool refuses to
    /// go on (a newer writer, or a bug, made it; a newer reader may read it).
    pub const fn must_refuse(&self) -> bool {
        matches!(
            self,
            DecodeError::BadVersion { .. }
                | DecodeError::BadFlags { .. }
                | DecodeError::BadLength
                | DecodeError::Body
        )
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("record truncated"),
            DecodeError::TooLong => write!(f, "frame longer than {MAX_FRAME} bytes"),
            DecodeError::Cobs => f.write_str("frame is not valid COBS"),
            DecodeError::BadMagic => f.write_str("record magic missing"),
            DecodeError::Crc { stored, computed } => write!(
                f,
                "record CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            DecodeError::BadVersion { found } => write!(
                f,
                "record format version {found} is {} than this release reads ({})",
                if *found > VERSION { "newer" } else { "older" },
                ReadVersions
            ),
            DecodeError::BadFlags { found } => {
                write!(f, "record has reserved flags set: {found:#04x}")
            }
            DecodeError::BadLength => f.write_str("record body length is inconsistent"),
            DecodeError::Body => f.write_str("record body is not a valid event"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// The versions this release reads, for messages: `1`, or `1–2`.
#[derive(Debug, Clone, Copy)]
struct ReadVersions;

impl fmt::Display for ReadVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if OLDEST_VERSION == VERSION {
            write!(f, "{VERSION}")
        } else {
            write!(f, "{OLDEST_VERSION}\u{2013}{VERSION}")
        }
    }
}

/// Whether this release reads record format `version`.
pub const fn reads(version: u8) -> bool {
    OLDEST_VERSION <= version && version <= VERSION
}

/// A checked view of one decoded (un-COBSed) record's bytes.
///
/// [`new_checked`](RecordView::new_checked) validates the length, magic, CRC, version, flags
/// and body length once; the getters then cannot fail. Decoding the body into an [`Event`]
/// is a separate step, [`event`](RecordView::event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RecordView<'a> {
    bytes: &'a [u8],
    version: u8,
    flags: u8,
    seq: u64,
    destinations: DestinationSet,
    body: &'a [u8],
    crc: u32,
}

impl<'a> RecordView<'a> {
    /// Checks that `bytes` is exactly one record this reader understands.
    ///
    /// # Errors
    ///
    /// In the order checked: [`DecodeError::Truncated`] (shorter than magic, version and CRC),
    /// [`DecodeError::BadMagic`], [`DecodeError::Crc`], [`DecodeError::BadVersion`],
    /// [`DecodeError::BadLength`] (shorter than the header), [`DecodeError::BadFlags`],
    /// [`DecodeError::BadLength`] (body length field).
    pub fn new_checked(bytes: &'a [u8]) -> Result<RecordView<'a>, DecodeError> {
        let (covered, stored) = bytes
            .split_last_chunk::<CRC_LEN>()
            .ok_or(DecodeError::Truncated)?;
        let (&[magic0, magic1, version], _) = covered
            .split_first_chunk::<3>()
            .ok_or(DecodeError::Truncated)?;
        if [magic0, magic1] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let stored = u32::from_le_bytes(*stored);
        let computed = crc::checksum(covered);
        if stored != computed {
            return Err(DecodeError::Crc { stored, computed });
        }
        if !reads(version) {
            return Err(DecodeError::BadVersion { found: version });
        }
        let (header, body) = covered
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(DecodeError::BadLength)?;
        let [
            _,
            _,
            _,
            flags,
            s0,
            s1,
            s2,
            s3,
            s4,
            s5,
            s6,
            s7,
            d0,
            d1,
            d2,
            d3,
            n0,
            n1,
        ] = *header;
        if flags != 0 {
            return Err(DecodeError::BadFlags { found: flags });
        }
        let body_len = usize::from(u16::from_le_bytes([n0, n1]));
        if body_len != body.len() || body_len > MAX_BODY {
            return Err(DecodeError::BadLength);
        }
        Ok(RecordView {
            bytes,
            version,
            flags,
            seq: u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
            destinations: DestinationSet::from_bits(u32::from_le_bytes([d0, d1, d2, d3])),
            body,
            crc: stored,
        })
    }

    /// The format version (one this release reads, for a checked view).
    pub const fn version(&self) -> u8 {
        self.version
    }

    /// The flags byte (always 0 in version 1).
    pub const fn flags(&self) -> u8 {
        self.flags
    }

    /// The sequence number.
    pub const fn seq(&self) -> u64 {
        self.seq
    }

    /// The destination set.
    pub const fn destinations(&self) -> DestinationSet {
        self.destinations
    }

    /// The event in the layout of [`version`](RecordView::version).
    pub const fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The stored (and verified) CRC-32C.
    pub const fn crc(&self) -> u32 {
        self.crc
    }

    /// The whole record, CRC included.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Decodes the body, of any version this release reads, into a domain event.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Body`] when the body does not follow its version's layout exactly
    /// (bytes left over count as an error).
    pub fn event(&self) -> Result<Event, DecodeError> {
        decode_body(self.version, self.body)
    }

    /// The domain record.
    ///
    /// # Errors
    ///
    /// As [`event`](RecordView::event).
    pub fn to_record(&self) -> Result<Record, DecodeError> {
        Ok(Record {
            seq: self.seq,
            destinations: self.destinations,
            event: self.event()?,
        })
    }

    /// Decodes the body into an existing event, overwriting it field by field: the same result
    /// as [`event`](RecordView::event), without building a second event.
    ///
    /// This is the decoder for small stacks and hot loops: it reads the variant index, keeps
    /// `event`'s variant when it is the right one (or resets it to a blank of the right
    /// variant), and copies each field from the body into it, so no second event is ever on
    /// the stack ([`event`](RecordView::event) is this, into a fresh event).
    ///
    /// # Errors
    ///
    /// [`DecodeError::Body`], exactly when [`event`](RecordView::event) fails; `event` then
    /// holds an unspecified but valid event.
    ///
    /// ```
    /// use icsfwd_core::alert::{Alert, Engine, Event, Notification, NotificationKind, Severity};
    /// use icsfwd_core::destination::DestinationSet;
    /// use icsfwd_core::record::{self, cobs, Record, RecordView, MAX_FRAME};
    ///
    /// let mut alert = Alert::new(9, 1_700_000_000_000, Engine::Malware, Severity::Critical);
    /// alert.set_title("Ransomware note dropped");
    /// let record = Record { seq: 3, destinations: DestinationSet::EMPTY, event: alert.into() };
    /// let mut frame = [0u8; MAX_FRAME];
    /// let n = record::encode(&record, &mut frame).unwrap();
    /// let len = cobs::decode_in_place(&mut frame[..n - 1]).unwrap();
    /// let view = RecordView::new_checked(&frame[..len]).unwrap();
    ///
    /// // Any event will do as the slot, even one of the other variant.
    /// let mut slot = Event::from(Notification::new(0, 0, NotificationKind::SensorOnline));
    /// view.event_into(&mut slot).unwrap();
    /// assert_eq!(slot, record.event);
    /// ```
    pub fn event_into(&self, event: &mut Event) -> Result<(), DecodeError> {
        decode_body_into(self.version, self.body, event)
    }

    /// Decodes the whole record into an existing one, the event in place as
    /// [`event_into`](RecordView::event_into) does.
    ///
    /// # Errors
    ///
    /// As [`event_into`](RecordView::event_into); `record` is then unspecified but valid.
    pub fn record_into(&self, record: &mut Record) -> Result<(), DecodeError> {
        record.seq = self.seq;
        record.destinations = self.destinations;
        self.event_into(&mut record.event)
    }
}

/// Decodes a record body of format `version` into a domain event.
///
/// # Errors
///
/// [`DecodeError::BadVersion`] for a version this release does not read,
/// [`DecodeError::Body`] for a body that does not follow its version's layout exactly.
///
/// ```
/// use icsfwd_core::alert::{Alert, Event};
/// use icsfwd_core::record::{self, DecodeError, MAX_BODY, VERSION};
///
/// let event = Event::from(Alert::example(1_700_000_000_000));
/// let mut body = [0u8; MAX_BODY];
/// let n = record::encode_body(&event, &mut body).unwrap();
/// assert_eq!(record::decode_body(VERSION, &body[..n]), Ok(event));
/// assert_eq!(
///     record::decode_body(VERSION + 1, &body[..n]),
///     Err(DecodeError::BadVersion { found: VERSION + 1 })
/// );
/// ```
pub fn decode_body(version: u8, body: &[u8]) -> Result<Event, DecodeError> {
    let mut event = Event::Notification(Notification::new(0, 0, NotificationKind::SensorOnline));
    decode_body_into(version, body, &mut event)?;
    Ok(event)
}

/// Decodes a record body of format `version` into an existing event, in place (see
/// [`RecordView::event_into`]): every version this release reads maps to the domain type
/// here, the one place that knows them all.
///
/// # Errors
///
/// As [`decode_body`]; `event` is then unspecified but valid.
// Out of line, so that its frame is only on the stack while a body is decoded, not merged
// into the caller's.
#[inline(never)]
pub fn decode_body_into(version: u8, body: &[u8], event: &mut Event) -> Result<(), DecodeError> {
    match version {
        v1::VERSION => v1::read_into(body, event),
        v2::VERSION => v2::read_into(body, event),
        #[cfg(test)]
        v3::VERSION => v3::read_into(body, event),
        found => Err(DecodeError::BadVersion { found }),
    }
}

/// Writes `event`'s body in the layout of [`version_for`]`(event)` at the start of
/// `body_buf`; returns its length. A buffer of [`MAX_BODY`] bytes holds any event's body.
///
/// # Errors
///
/// [`EncodeError::BufferTooSmall`] with the body's length when `body_buf` is shorter.
pub fn encode_body(event: &Event, body_buf: &mut [u8]) -> Result<usize, EncodeError> {
    match write_body(event, ser_flavors::Slice::new(body_buf)) {
        Ok(body) => Ok(body.len()),
        Err(_) => Err(EncodeError::BufferTooSmall {
            needed: write_body(event, ser_flavors::Size::default())
                .map_err(|_| EncodeError::Body)?,
        }),
    }
}

/// The format version `event` is written in: the oldest that holds it — version 1 for
/// every alert and every notification but the forwarder's health report and a forwarded
/// heartbeat, which need version 2 (`docs/record-format.md`, "Body, version 2"). A spool
/// without those stays readable by a release that reads only version 1.
pub fn version_for(event: &Event) -> u8 {
    if v1::holds(event) {
        v1::VERSION
    } else if v2::holds(event) {
        v2::VERSION
    } else {
        newest::VERSION
    }
}

/// Writes `event`'s body in the layout of [`version_for`] through `flavor`.
fn write_body<F: Flavor>(event: &Event, flavor: F) -> postcard::Result<F::Output> {
    let mut out = postcard::Serializer { output: flavor };
    match version_for(event) {
        version @ (v1::VERSION | v2::VERSION) => v1::write_as(&mut out, event, version)?,
        _ => newest::write(&mut out, event)?,
    }
    out.output.finalize()
}

fn header(record: &Record, body_len: u16) -> [u8; HEADER_LEN] {
    header_of(
        version_for(&record.event),
        record.seq,
        record.destinations,
        body_len,
    )
}

fn header_of(
    version: u8,
    seq: u64,
    destinations: DestinationSet,
    body_len: u16,
) -> [u8; HEADER_LEN] {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = seq.to_le_bytes();
    let [d0, d1, d2, d3] = destinations.bits().to_le_bytes();
    let [n0, n1] = body_len.to_le_bytes();
    let [m0, m1] = MAGIC;
    [
        m0, m1, version, 0, s0, s1, s2, s3, s4, s5, s6, s7, d0, d1, d2, d3, n0, n1,
    ]
}

/// The body length as the header's u16, if the body is within [`MAX_BODY`].
fn checked_body_len(body_len: usize) -> Result<u16, EncodeError> {
    u16::try_from(body_len)
        .ok()
        .filter(|_| body_len <= MAX_BODY)
        .ok_or(EncodeError::TooLong { body_len })
}

/// A postcard flavor that feeds the body to the CRC and the COBS length count.
struct Measure {
    crc: crc::Crc32c,
    cobs: cobs::EncodedLen,
}

impl Flavor for Measure {
    type Output = Measure;

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.crc.update(data);
        self.cobs.update(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Measure> {
        Ok(self)
    }
}

/// The exact length of `record`'s frame, delimiter included, without writing it.
///
/// # Errors
///
/// [`EncodeError::TooLong`] or [`EncodeError::Body`], as [`encode`].
pub fn frame_len(record: &Record) -> Result<usize, EncodeError> {
    let body_len =
        write_body(&record.event, ser_flavors::Size::default()).map_err(|_| EncodeError::Body)?;
    let header = header(record, checked_body_len(body_len)?);
    let mut measure = Measure {
        crc: crc::Crc32c::new(),
        cobs: cobs::EncodedLen::new(),
    };
    measure.try_extend(&header).map_err(|_| EncodeError::Body)?;
    let mut measure = write_body(&record.event, measure).map_err(|_| EncodeError::Body)?;
    measure.cobs.update(&measure.crc.finish().to_le_bytes());
    Ok(measure.cobs.get() + 1)
}

/// Writes `record` as one complete frame — COBS-encoded record and the `0x00` delimiter — at
/// the start of `frame_buf`; returns the frame length.
///
/// The record is built in `frame_buf` and COBS-encoded in place, so no other memory is used.
/// A buffer of [`MAX_FRAME`] bytes always suffices; a buffer of exactly
/// [`frame_len(record)`](frame_len) bytes suffices for this record.
///
/// # Errors
///
/// [`EncodeError::BufferTooSmall`] with the exact frame length when `frame_buf` is shorter;
/// `frame_buf` is then unspecified. [`EncodeError::TooLong`] and [`EncodeError::Body`] cannot
/// happen for events this crate builds.
pub fn encode(record: &Record, frame_buf: &mut [u8]) -> Result<usize, EncodeError> {
    match encode_unchecked_room(record, frame_buf) {
        Err(EncodeError::BufferTooSmall { .. }) => Err(EncodeError::BufferTooSmall {
            needed: frame_len(record)?,
        }),
        other => other,
    }
}

/// Writes the frame of the record numbered `seq` for `destinations` whose body was written
/// before by [`encode_body`] (`body`, in format `version`, which [`version_for`] gave for its
/// event): the same bytes [`encode`] writes for that record, without writing the body again.
/// A queue that holds events as their bodies (an appliance's group commit) frames them
/// without decoding them.
///
/// # Errors
///
/// [`EncodeError::BufferTooSmall`] with the exact frame length when `frame_buf` is shorter
/// (`frame_buf` is then unspecified); [`EncodeError::TooLong`] for a body over [`MAX_BODY`];
/// [`EncodeError::Body`] for a `version` this release does not write.
pub fn encode_with_body(
    seq: u64,
    destinations: DestinationSet,
    version: u8,
    body: &[u8],
    frame_buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let writes = version == v1::VERSION || version == v2::VERSION || version == newest::VERSION;
    if !writes {
        return Err(EncodeError::Body);
    }
    let header = header_of(version, seq, destinations, checked_body_len(body.len())?);
    match frame_with_body(&header, body, frame_buf) {
        Err(EncodeError::BufferTooSmall { .. }) => {
            let mut crc = crc::Crc32c::new();
            let mut cobs = cobs::EncodedLen::new();
            for part in [&header[..], body] {
                crc.update(part);
                cobs.update(part);
            }
            cobs.update(&crc.finish().to_le_bytes());
            Err(EncodeError::BufferTooSmall {
                needed: cobs.get() + 1,
            })
        }
        other => other,
    }
}

/// [`encode_with_body`] once the header is known, reporting a full buffer with an
/// unspecified `needed`.
fn frame_with_body(
    header: &[u8; HEADER_LEN],
    body: &[u8],
    frame_buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let full = EncodeError::BufferTooSmall { needed: 0 };
    let covered_len = HEADER_LEN + body.len();
    let (covered, rest) = frame_buf.split_at_mut_checked(covered_len).ok_or(full)?;
    let (head, tail) = covered.split_at_mut(HEADER_LEN);
    head.copy_from_slice(header);
    tail.copy_from_slice(body);
    let crc = crc::checksum(covered);
    rest.get_mut(..CRC_LEN)
        .ok_or(full)?
        .copy_from_slice(&crc.to_le_bytes());
    let stuffed = cobs::encode_in_place(frame_buf, covered_len + CRC_LEN).map_err(|_| full)?;
    *frame_buf.get_mut(stuffed).ok_or(full)? = DELIMITER;
    Ok(stuffed + 1)
}

/// [`encode`], reporting a full buffer with an unspecified `needed`.
fn encode_unchecked_room(record: &Record, frame_buf: &mut [u8]) -> Result<usize, EncodeError> {
    let full = EncodeError::BufferTooSmall { needed: 0 };
    let (head, rest) = frame_buf.split_at_mut_checked(HEADER_LEN).ok_or(full)?;
    let body_len = match write_body(&record.event, ser_flavors::Slice::new(rest)) {
        Ok(body) => body.len(),
        Err(postcard::Error::SerializeBufferFull) => return Err(full),
        Err(_) => return Err(EncodeError::Body),
    };
    head.copy_from_slice(&header(record, checked_body_len(body_len)?));
    let covered_len = HEADER_LEN + body_len;
    let (covered, rest) = frame_buf.split_at_mut(covered_len);
    let crc = crc::checksum(covered);
    rest.get_mut(..CRC_LEN)
        .ok_or(full)?
        .copy_from_slice(&crc.to_le_bytes());
    let stuffed = cobs::encode_in_place(frame_buf, covered_len + CRC_LEN).map_err(|_| full)?;
    *frame_buf.get_mut(stuffed).ok_or(full)? = DELIMITER;
    Ok(stuffed + 1)
}

/// Decodes exactly one frame, delimiter included, into a record.
///
/// Uses a [`MAX_FRAME`]-byte scratch buffer on the stack; to read a stream, use a [`Decoder`].
///
/// # Errors
///
/// [`DecodeError::Truncated`] when `frame` does not end with the delimiter,
/// [`DecodeError::Cobs`] when it has a `0x00` before its end or is not valid COBS,
/// [`DecodeError::TooLong`] when it is longer than [`MAX_FRAME`], and the errors of
/// [`RecordView::new_checked`] and [`RecordView::event`].
pub fn decode_frame(frame: &[u8]) -> Result<Record, DecodeError> {
    let (&last, stuffed) = frame.split_last().ok_or(DecodeError::Truncated)?;
    if last != DELIMITER {
        return Err(DecodeError::Truncated);
    }
    let mut scratch = [0u8; MAX_FRAME];
    let scratch = scratch
        .get_mut(..stuffed.len())
        .ok_or(DecodeError::TooLong)?;
    scratch.copy_from_slice(stuffed);
    let len = cobs::decode_in_place(scratch).map_err(|_| DecodeError::Cobs)?;
    let record = scratch.get(..len).ok_or(DecodeError::Cobs)?;
    RecordView::new_checked(record)?.to_record()
}

/// How many skipped frames each [`DecodeError`] accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct SkipCounts {
    /// [`DecodeError::Truncated`].
    pub truncated: u64,
    /// [`DecodeError::TooLong`].
    pub too_long: u64,
    /// [`DecodeError::Cobs`].
    pub cobs: u64,
    /// [`DecodeError::BadMagic`].
    pub bad_magic: u64,
    /// [`DecodeError::Crc`].
    pub crc: u64,
    /// [`DecodeError::BadVersion`].
    pub bad_version: u64,
    /// [`DecodeError::BadFlags`].
    pub bad_flags: u64,
    /// [`DecodeError::BadLength`].
    pub bad_length: u64,
    /// [`DecodeError::Body`].
    pub body: u64,
}

impl SkipCounts {
    fn count(&mut self, error: DecodeError) {
        let counter = match error {
            DecodeError::Truncated => &mut self.truncated,
            DecodeError::TooLong => &mut self.too_long,
            DecodeError::Cobs => &mut self.cobs,
            DecodeError::BadMagic => &mut self.bad_magic,
            DecodeError::Crc { .. } => &mut self.crc,
            DecodeError::BadVersion { .. } => &mut self.bad_version,
            DecodeError::BadFlags { .. } => &mut self.bad_flags,
            DecodeError::BadLength => &mut self.bad_length,
            DecodeError::Body => &mut self.body,
        };
        *counter += 1;
    }

    /// Frames that must be refused rather than skipped ([`DecodeError::must_refuse`]).
    pub const fn refused(&self) -> u64 {
        self.bad_version + self.bad_flags + self.bad_length + self.body
    }
}

/// What a [`Decoder`] has seen. Every byte fed is in exactly one of `record_bytes`,
/// `bytes_skipped`, `torn_bytes`, or [`Decoder::pending`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Stats {
    /// Records delivered.
    pub records: u64,
    /// Stream bytes of the delivered records' frames, delimiters included.
    pub record_bytes: u64,
    /// Non-empty frames that did not yield a record (each was reported as an error).
    pub frames_skipped: u64,
    /// Stream bytes of the skipped frames, delimiters included, plus each `0x00` that ended an
    /// empty frame (zero padding is skipped silently but counted here).
    pub bytes_skipped: u64,
    /// `frames_skipped` by reason.
    pub reasons: SkipCounts,
    /// Torn tails reported by [`Decoder::finish`].
    pub torn_tails: u64,
    /// Bytes of those torn tails.
    pub torn_bytes: u64,
}

/// An incomplete frame at the end of a stream: a write cut short, not corruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TornTail {
    /// Stream offset where the incomplete frame starts (where a writer should cut the stream).
    pub start: u64,
    /// Its length in bytes.
    pub bytes: usize,
}

/// The longest COBS-encoded record, without the delimiter.
const MAX_STUFFED: usize = MAX_FRAME - 1;

/// A sans-IO streaming decoder: the caller feeds bytes as they are read, and gets back every
/// record they complete, in order, plus an error for every frame that was skipped.
///
/// Memory is fixed: one frame buffer of [`MAX_FRAME`] bytes. A frame longer than that is
/// discarded up to its delimiter and reported as [`DecodeError::TooLong`].
///
/// ```
/// use icsfwd_core::record::{Decoder, DecodeError};
///
/// let mut decoder = Decoder::new();
/// // Garbage, then a delimiter: skipped, counted, and reported.
/// let errors: heapless::Vec<_, 4> = decoder.feed(b"\x03ab\x00").collect();
/// assert_eq!(errors, [Err(DecodeError::Truncated)]);
/// assert_eq!(decoder.stats().bytes_skipped, 4);
/// assert_eq!(decoder.finish(), None);
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    buf: [u8; MAX_STUFFED],
    /// Bytes of the current frame seen so far (may exceed the buffer).
    pending: usize,
    position: u64,
    last_frame: Range<u64>,
    stats: Stats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub const fn new() -> Decoder {
        Decoder {
            buf: [0; MAX_STUFFED],
            pending: 0,
            position: 0,
            last_frame: 0..0,
            stats: Stats {
                records: 0,
                record_bytes: 0,
                frames_skipped: 0,
                bytes_skipped: 0,
                reasons: SkipCounts {
                    truncated: 0,
                    too_long: 0,
                    cobs: 0,
                    bad_magic: 0,
                    crc: 0,
                    bad_version: 0,
                    bad_flags: 0,
                    bad_length: 0,
                    body: 0,
                },
                torn_tails: 0,
                torn_bytes: 0,
            },
        }
    }

    /// Feeds `bytes`; the iterator yields each frame they complete: `Ok(record)` or the error
    /// that made the decoder skip it. Empty frames (a lone `0x00`) yield nothing.
    ///
    /// Bytes the iterator has not consumed when it is dropped are not fed; see
    /// [`Frames::remainder`].
    pub fn feed<'d, 'b>(&'d mut self, bytes: &'b [u8]) -> Frames<'d, 'b> {
        Frames {
            decoder: self,
            rest: bytes,
        }
    }

    /// Feeds bytes up to and including the first delimiter in `bytes`. Returns how many bytes
    /// were consumed and, when a non-empty frame was completed, its outcome.
    pub fn push(&mut self, bytes: &[u8]) -> (usize, Option<Result<Record, DecodeError>>) {
        self.push_with(bytes, |view| view.to_record())
    }

    /// [`push`](Decoder::push) for small stacks: a completed record is decoded into `record`,
    /// in place ([`RecordView::record_into`]), instead of being returned by value. `record` is
    /// only written when a frame completes: on `Some(Ok(()))` it holds that record; on
    /// `Some(Err(_))` it is unspecified but valid; on `None` it is untouched.
    ///
    /// ```
    /// use icsfwd_core::alert::{Event, Notification, NotificationKind};
    /// use icsfwd_core::destination::DestinationSet;
    /// use icsfwd_core::record::{self, Decoder, Record, MAX_FRAME};
    ///
    /// let event = Event::from(Notification::new(7, 0, NotificationKind::BackupFailure));
    /// let written = Record { seq: 5, destinations: DestinationSet::from_bits(1), event };
    /// let mut frame = [0u8; MAX_FRAME];
    /// let n = record::encode(&written, &mut frame).unwrap();
    ///
    /// let mut decoder = Decoder::new();
    /// let mut slot = Record {
    ///     seq: 0,
    ///     destinations: DestinationSet::EMPTY,
    ///     event: Notification::new(0, 0, NotificationKind::SensorOnline).into(),
    /// };
    /// let mut rest = &frame[..n];
    /// let mut decoded = 0;
    /// while !rest.is_empty() {
    ///     let (used, outcome) = decoder.push_into(&rest[..rest.len().min(16)], &mut slot);
    ///     rest = &rest[used..];
    ///     if let Some(outcome) = outcome {
    ///         outcome.unwrap();
    ///         decoded += 1;
    ///     }
    /// }
    /// assert_eq!((decoded, slot), (1, written));
    /// ```
    pub fn push_into(
        &mut self,
        bytes: &[u8],
        record: &mut Record,
    ) -> (usize, Option<Result<(), DecodeError>>) {
        self.push_with(bytes, |view| view.record_into(record))
    }

    /// [`push`](Decoder::push), with `decode` turning the checked record into the outcome:
    /// for a reader that needs less than the whole event (the header only, or the body's
    /// bytes as they are), or decodes it into a slot of its own. `decode` is called once per
    /// completed frame that passes [`RecordView::new_checked`]; a frame that does not is
    /// reported and counted as [`push`](Decoder::push) reports it, and so is an error
    /// `decode` returns.
    ///
    /// ```
    /// use icsfwd_core::alert::{Alert, Event};
    /// use icsfwd_core::destination::DestinationSet;
    /// use icsfwd_core::record::{self, Decoder, Record, MAX_FRAME};
    ///
    /// let written = Record { seq: 9, destinations: DestinationSet::from_bits(2), event: Event::from(Alert::example(0)) };
    /// let mut frame = [0u8; MAX_FRAME];
    /// let n = record::encode(&written, &mut frame).unwrap();
    ///
    /// // The header and the body's length, without decoding the event.
    /// let mut decoder = Decoder::new();
    /// let (used, outcome) = decoder.push_with(&frame[..n], |view| {
    ///     Ok((view.seq(), view.destinations(), view.body().len()))
    /// });
    /// assert_eq!(used, n);
    /// let (seq, destinations, body_len) = outcome.unwrap().unwrap();
    /// assert_eq!((seq, destinations), (9, written.destinations));
    /// assert!(body_len > 0 && body_len < n);
    /// ```
    pub fn push_with<T>(
        &mut self,
        bytes: &[u8],
        decode: impl FnOnce(&RecordView<'_>) -> Result<T, DecodeError>,
    ) -> (usize, Option<Result<T, DecodeError>>) {
        let Some(end) = bytes.iter().position(|&b| b == DELIMITER) else {
            self.append(bytes);
            return (bytes.len(), None);
        };
        let (data, _) = bytes.split_at(end);
        self.append(data);
        self.position += 1;
        let frame_len = self.pending + 1;
        let start = self.position - frame_len as u64;
        self.last_frame = start..self.position;
        let outcome = if self.pending == 0 {
            self.stats.bytes_skipped += 1;
            None
        } else {
            let outcome = self.complete_frame(decode);
            match &outcome {
                Ok(_) => {
                    self.stats.records += 1;
                    self.stats.record_bytes += frame_len as u64;
                }
                Err(error) => {
                    self.stats.frames_skipped += 1;
                    self.stats.bytes_skipped += frame_len as u64;
                    self.stats.reasons.count(*error);
                }
            }
            Some(outcome)
        };
        self.pending = 0;
        (end + 1, outcome)
    }

    fn append(&mut self, data: &[u8]) {
        if let Some(room) = self.buf.get_mut(self.pending..) {
            let n = room.len().min(data.len());
            if let (Some(dst), Some(src)) = (room.get_mut(..n), data.get(..n)) {
                dst.copy_from_slice(src);
            }
        }
        self.pending = self.pending.saturating_add(data.len());
        self.position += data.len() as u64;
    }

    fn complete_frame<T>(
        &mut self,
        decode: impl FnOnce(&RecordView<'_>) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        let frame = self
            .buf
            .get_mut(..self.pending)
            .ok_or(DecodeError::TooLong)?;
        let len = cobs::decode_in_place(frame).map_err(|_| DecodeError::Cobs)?;
        let record = frame.get(..len).ok_or(DecodeError::Cobs)?;
        decode(&RecordView::new_checked(record)?)
    }

    /// Ends the stream: an incomplete frame left over is a torn tail (a write cut short), not
    /// corruption, and is reported here and counted in [`Stats::torn_tails`]. The decoder is
    /// then ready for a new frame; its counters and position go on.
    #[must_use]
    pub fn finish(&mut self) -> Option<TornTail> {
        if self.pending == 0 {
            return None;
        }
        let torn = TornTail {
            start: self.frame_start(),
            bytes: self.pending,
        };
        self.stats.torn_tails += 1;
        self.stats.torn_bytes += self.pending as u64;
        self.pending = 0;
        Some(torn)
    }

    /// Bytes of the incomplete frame being assembled (0 right after a delimiter).
    pub const fn pending(&self) -> usize {
        self.pending
    }

    /// Bytes fed so far.
    pub const fn position(&self) -> u64 {
        self.position
    }

    /// The stream offset where the frame being assembled starts: just after the last
    /// delimiter. Everything before it is whole frames; a writer that appends after a crash
    /// cuts the stream here first.
    pub const fn frame_start(&self) -> u64 {
        self.position - self.pending as u64
    }

    /// The stream span of the most recently completed frame (record, skipped or empty),
    /// delimiter included; `0..0` before the first.
    pub fn last_frame(&self) -> Range<u64> {
        self.last_frame.clone()
    }

    /// The counters.
    pub const fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// The frames completed by one [`Decoder::feed`] call, in stream order.
#[derive(Debug)]
pub struct Frames<'d, 'b> {
    decoder: &'d mut Decoder,
    rest: &'b [u8],
}

impl<'b> Frames<'_, 'b> {
    /// The bytes not fed yet (empty once the iterator has returned `None`).
    pub fn remainder(&self) -> &'b [u8] {
        self.rest
    }
}

impl Iterator for Frames<'_, '_> {
    type Item = Result<Record, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            let (used, outcome) = self.decoder.push(self.rest);
            self.rest = self.rest.get(used..).unwrap_or_default();
            if outcome.is_some() {
                return outcome;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    //! The version dispatch, proved with the rehearsal version 3 (`v3.rs`): in this build the
    //! release writes version 3 for an alert with the rehearsal's field, and reads versions 1
    //! to 3.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use std::string::ToString as _;
    use std::vec::Vec;

    use super::*;
    use crate::alert::{Alert, Engine, Severity};

    /// The record bytes (before COBS) of `record` with its body in the layout of `version`.
    fn record_bytes(version: u8, record: &Record) -> Vec<u8> {
        let mut body = [0u8; MAX_BODY];
        let mut out = postcard::Serializer {
            output: ser_flavors::Slice::new(&mut body),
        };
        match version {
            1 => v1::write(&mut out, &record.event).unwrap(),
            2 => v2::write(&mut out, &record.event).unwrap(),
            _ => v3::write(&mut out, &record.event).unwrap(),
        }
        let body = out.output.finalize().unwrap();
        let mut bytes = header(record, u16::try_from(body.len()).unwrap()).to_vec();
        bytes[2] = version;
        bytes.extend_from_slice(body);
        let crc = crc::checksum(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    fn alert_record(seq: u64, technique: Option<u16>) -> Record {
        let mut alert = Alert::example(1_700_000_000_000 + seq);
        alert.technique = technique;
        Record {
            seq,
            destinations: DestinationSet::from_bits(0b11),
            event: Event::from(alert),
        }
    }

    fn technique(event: &Event) -> Option<u16> {
        match event {
            Event::Alert(alert) => alert.technique,
            Event::Notification(_) => None,
        }
    }

    #[test]
    fn this_build_writes_the_rehearsal_version_and_reads_one_to_three() {
        assert_eq!((OLDEST_VERSION, VERSION), (1, 3));
        assert_eq!(ReadVersions.to_string(), "1\u{2013}3");
        assert_eq!(MAX_BODY, v3::MAX_BODY);
        let record = alert_record(7, Some(843));
        let mut frame = [0u8; MAX_FRAME];
        let n = encode(&record, &mut frame).unwrap();
        assert_eq!(n, frame_len(&record).unwrap());
        let len = cobs::decode_in_place(&mut frame[..n - 1]).unwrap();
        let view = RecordView::new_checked(&frame[..len]).unwrap();
        assert_eq!(
            view.version(),
            3,
            "the rehearsal's field needs the newest version"
        );
        assert_eq!(view.to_record(), Ok(record));
    }

    #[test]
    fn a_version_1_and_a_version_3_record_both_decode_to_the_right_domain_values() {
        let old = record_bytes(1, &alert_record(1, None));
        let new = record_bytes(3, &alert_record(2, Some(843)));
        // The version-3 body is the version-1 body and the new field: 01 then varint 843.
        assert_eq!(new.len(), old.len() + 3);
        let old = RecordView::new_checked(&old).unwrap();
        let new = RecordView::new_checked(&new).unwrap();
        assert_eq!((old.version(), new.version()), (1, 3));
        assert_eq!(old.to_record(), Ok(alert_record(1, None)));
        assert_eq!(new.to_record(), Ok(alert_record(2, Some(843))));
    }

    #[test]
    fn an_alert_from_version_1_read_in_place_gets_the_default_of_the_field_it_lacks() {
        let old = record_bytes(1, &alert_record(1, None));
        let new = record_bytes(3, &alert_record(2, Some(843)));
        let mut slot = alert_record(9, Some(999));
        RecordView::new_checked(&new)
            .unwrap()
            .record_into(&mut slot)
            .unwrap();
        assert_eq!(technique(&slot.event), Some(843));
        // The same slot, still an alert: the old version must not leave the new field behind.
        RecordView::new_checked(&old)
            .unwrap()
            .record_into(&mut slot)
            .unwrap();
        assert_eq!(slot, alert_record(1, None));
    }

    #[test]
    fn the_committed_version_1_vector_still_reads_in_a_release_that_writes_version_3() {
        let text = include_str!("../../tests/vectors/valid.hex");
        let digits: Vec<u8> = text
            .lines()
            .flat_map(|line| line.split('#').next().unwrap_or("").bytes())
            .filter(u8::is_ascii_hexdigit)
            .collect();
        let frame: Vec<u8> = digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(core::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect();
        let record = decode_frame(&frame).unwrap();
        assert_eq!((record.seq, record.destinations.bits()), (1, 0b101));
        match record.event {
            Event::Notification(n) => {
                assert_eq!((n.id, n.kind), (77, NotificationKind::SensorOnline));
                assert_eq!((n.sensor.name.as_str(), n.text.as_str()), ("plc-gw", "up"));
            }
            Event::Alert(_) => panic!("the vector holds a notification"),
        }
    }

    #[test]
    fn a_version_outside_the_read_range_is_refused_naming_the_versions_read() {
        let mut bytes = record_bytes(3, &alert_record(3, None));
        for (found, age) in [(4, "newer"), (0, "older"), (255, "newer")] {
            bytes[2] = found;
            let crc_at = bytes.len() - CRC_LEN;
            let crc = crc::checksum(&bytes[..crc_at]);
            bytes[crc_at..].copy_from_slice(&crc.to_le_bytes());
            let error = RecordView::new_checked(&bytes).unwrap_err();
            assert_eq!(error, DecodeError::BadVersion { found });
            assert!(error.must_refuse());
            assert_eq!(
                error.to_string(),
                std::format!(
                    "record format version {found} is {age} than this release reads (1\u{2013}3)"
                )
            );
        }
    }

    #[test]
    fn only_the_kinds_version_1_lacks_are_written_in_version_2_and_read_back() {
        use crate::alert::Notification;
        for kind in NotificationKind::ALL {
            let record = Record {
                seq: 5,
                destinations: DestinationSet::from_bits(1),
                event: Event::from(Notification::new(9, 1_700_000_000_000, kind)),
            };
            let expected = if matches!(kind, NotificationKind::Health | NotificationKind::Heartbeat)
            {
                2
            } else {
                1
            };
            let mut frame = [0u8; MAX_FRAME];
            let n = encode(&record, &mut frame).unwrap();
            assert_eq!(n, frame_len(&record).unwrap());
            let len = cobs::decode_in_place(&mut frame[..n - 1]).unwrap();
            let view = RecordView::new_checked(&frame[..len]).unwrap();
            assert_eq!(view.version(), expected, "{kind}");
            assert_eq!(view.to_record(), Ok(record.clone()), "{kind}");
            // Version 1's reader refuses the new kinds' code rather than misreading it.
            let body = &frame[HEADER_LEN..len - CRC_LEN];
            let mut slot = Event::from(Alert::new(0, 0, Engine::Malware, Severity::Minor));
            assert_eq!(
                v1::read_into(body, &mut slot).is_ok(),
                expected == 1,
                "{kind}"
            );
        }
    }

    #[test]
    fn the_checked_view_and_the_body_dispatch_agree_on_every_version_byte() {
        let record = alert_record(4, Some(1));
        let body = &record_bytes(1, &record)[HEADER_LEN..];
        let body = &body[..body.len() - CRC_LEN];
        for version in 0..=u8::MAX {
            let mut slot = Event::from(Alert::new(0, 0, Engine::Malware, Severity::Minor));
            let dispatched = decode_body_into(version, body, &mut slot);
            assert_eq!(
                reads(version),
                dispatched != Err(DecodeError::BadVersion { found: version }),
                "version {version}"
            );
        }
    }
}
