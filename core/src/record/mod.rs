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
//! | 2      | 1    | version       | [`VERSION`] = 1                                      |
//! | 3      | 1    | flags         | reserved, 0 in version 1                             |
//! | 4      | 8    | seq           | the spool's sequence number (u64)                    |
//! | 12     | 4    | destinations  | [`DestinationSet`] bits, bit i = destination i (u32) |
//! | 16     | 2    | body length n | 1 ..= [`MAX_BODY`] (u16)                             |
//! | 18     | n    | body          | postcard encoding of [`Event`]                       |
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
//! - **Maxima**: [`MAX_BODY`] (the largest postcard `Event`), [`MAX_RECORD`], [`MAX_FRAME`]
//!   (COBS adds one byte per 254 and one more, plus the delimiter). An encoder buffer of
//!   [`MAX_FRAME`] bytes always suffices; the decoder holds one frame in a fixed buffer.
//! - **Compatibility**: bytes 0..3 (magic, version) and the CRC as the last four bytes over all
//!   the others are fixed in every version. A record whose CRC is valid but whose version this
//!   reader does not know is [`DecodeError::BadVersion`], never garbage: the spool must refuse
//!   it (stop and keep the data), not skip or delete it. See [`DecodeError::must_refuse`].
//!   Postcard is not self-describing, so any change to the serde shape of `Event` needs a new
//!   version.
//!
//! Wire types are kept apart from domain types: [`Record`] is the domain value, [`RecordView`]
//! a checked view of a decoded record's bytes with typed getters.
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

use postcard::ser_flavors::Flavor;

use crate::alert::{
    Alert, Engine, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT,
    MAX_PROTOCOL, MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, Notification, NotificationKind,
    Severity,
};
use crate::destination::DestinationSet;

pub mod cobs;
pub mod crc;

/// The first two bytes of every record: `"IR"` (icsfwd record).
pub const MAGIC: [u8; 2] = *b"IR";
/// The record format version this code writes and reads.
pub const VERSION: u8 = 1;
/// The frame delimiter: the one byte value COBS removes from the record.
pub const DELIMITER: u8 = 0x00;
/// Bytes before the body: magic, version, flags, seq, destinations, body length.
pub const HEADER_LEN: usize = 18;
/// Bytes of the CRC-32C that ends every record.
pub const CRC_LEN: usize = 4;

// Postcard's size bound for `Event`, field by field (postcard spec: unsigned integers are
// LEB128 varints, a string is a varint length then its bytes, an enum is a varint variant index
// then its content, an `Option` one tag byte then its content, an array its bytes, `IpAddr` the
// enum `V4([u8; 4]) | V6([u8; 16])` because postcard is not human-readable).

/// Bytes of a varint holding at most `max`.
const fn varint_len(max: u64) -> usize {
    let mut len = 1;
    let mut rest = max >> 7;
    while rest != 0 {
        len += 1;
        rest >>= 7;
    }
    len
}
/// Bytes of a string of at most `capacity` bytes.
const fn string_len(capacity: usize) -> usize {
    varint_len(capacity as u64) + capacity
}
const U64_LEN: usize = varint_len(u64::MAX);
const U16_LEN: usize = varint_len(u16::MAX as u64);
/// Every enum in `Event` has fewer than 128 variants: one varint byte.
const VARIANT_LEN: usize = 1;
const BOOL_LEN: usize = 1;
const IP_LEN: usize = VARIANT_LEN + 16;
const ENDPOINT_LEN: usize = string_len(MAX_DEVICE_NAME) + IP_LEN + (1 + 6) + (1 + U16_LEN);
const SENSOR_LEN: usize = string_len(MAX_SENSOR_NAME) + IP_LEN + string_len(MAX_VERSION);
const ALERT_LEN: usize = 2 * U64_LEN
    + 2 * VARIANT_LEN
    + string_len(MAX_TITLE)
    + string_len(MAX_MESSAGE)
    + string_len(MAX_PROTOCOL)
    + string_len(MAX_GROUP)
    + 2 * ENDPOINT_LEN
    + SENSOR_LEN
    + BOOL_LEN;
const NOTIFICATION_LEN: usize =
    2 * U64_LEN + VARIANT_LEN + SENSOR_LEN + string_len(MAX_NOTIFICATION_TEXT) + BOOL_LEN;
const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// The longest postcard encoding of an [`Event`] (an alert with every field at its maximum):
/// 2603 bytes.
pub const MAX_BODY: usize = VARIANT_LEN + max(ALERT_LEN, NOTIFICATION_LEN);
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
    /// A genuine record (valid CRC) of a format version this reader does not know.
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
    /// A genuine version-1 record whose body is not exactly one postcard `Event`.
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
                "record format version {found} is not supported (this reader knows {VERSION})"
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
        if version != VERSION {
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

    /// The format version (always [`VERSION`] for a checked view).
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

    /// The postcard-encoded event.
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

    /// Decodes the body.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Body`] when the body is not exactly one postcard `Event` (bytes left over
    /// count as an error).
    pub fn event(&self) -> Result<Event, DecodeError> {
        match postcard::take_from_bytes::<Event>(self.body) {
            Ok((event, [])) => Ok(event),
            _ => Err(DecodeError::Body),
        }
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
    /// This is the decoder for small stacks. `event()` builds the decoded event in locals
    /// and moves it through the `Result` and the enum: on a Cortex-M4 that reserves a stack
    /// frame several times the size of an [`Alert`] (about 11 KiB).
    /// `event_into` reads the variant index, keeps `event`'s variant when it is the right
    /// one (or resets it to a blank of the right variant), and fills that in place with
    /// serde's `deserialize_in_place`, so only one text field at a time is ever on the stack.
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
        decode_event_into(self.body, event)
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

/// postcard's variant index of `Event::Alert` (declaration order in `alert.rs`).
const ALERT_VARIANT: u32 = 0;
/// postcard's variant index of `Event::Notification`.
const NOTIFICATION_VARIANT: u32 = 1;

/// [`RecordView::event_into`]. Out of line, so that its frame (one text field's worth) is
/// only on the stack while a body is decoded, not merged into the caller's.
#[inline(never)]
fn decode_event_into(body: &[u8], event: &mut Event) -> Result<(), DecodeError> {
    use serde::Deserialize as _;

    let mut de = postcard::Deserializer::from_bytes(body);
    // postcard writes an enum's variant index as a varint u32, exactly as it writes a u32.
    let variant = u32::deserialize(&mut de).map_err(|_| DecodeError::Body)?;
    let filled = match variant {
        ALERT_VARIANT => {
            if !matches!(event, Event::Alert(_)) {
                *event = Event::Alert(Alert::new(
                    0,
                    0,
                    Engine::ProtocolViolation,
                    Severity::Warning,
                ));
            }
            match event {
                Event::Alert(alert) => Alert::deserialize_in_place(&mut de, alert),
                Event::Notification(_) => return Err(DecodeError::Body),
            }
        }
        NOTIFICATION_VARIANT => {
            if !matches!(event, Event::Notification(_)) {
                *event =
                    Event::Notification(Notification::new(0, 0, NotificationKind::SensorOnline));
            }
            match event {
                Event::Notification(n) => Notification::deserialize_in_place(&mut de, n),
                Event::Alert(_) => return Err(DecodeError::Body),
            }
        }
        _ => return Err(DecodeError::Body),
    };
    match (filled, de.finalize()) {
        (Ok(()), Ok([])) => Ok(()),
        _ => Err(DecodeError::Body),
    }
}

fn header(record: &Record, body_len: u16) -> [u8; HEADER_LEN] {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = record.seq.to_le_bytes();
    let [d0, d1, d2, d3] = record.destinations.bits().to_le_bytes();
    let [n0, n1] = body_len.to_le_bytes();
    let [m0, m1] = MAGIC;
    [
        m0, m1, VERSION, 0, s0, s1, s2, s3, s4, s5, s6, s7, d0, d1, d2, d3, n0, n1,
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
        postcard::serialize_with_flavor(&record.event, postcard::ser_flavors::Size::default())
            .map_err(|_| EncodeError::Body)?;
    let header = header(record, checked_body_len(body_len)?);
    let mut measure = Measure {
        crc: crc::Crc32c::new(),
        cobs: cobs::EncodedLen::new(),
    };
    measure.try_extend(&header).map_err(|_| EncodeError::Body)?;
    let mut measure =
        postcard::serialize_with_flavor(&record.event, measure).map_err(|_| EncodeError::Body)?;
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

/// [`encode`], reporting a full buffer with an unspecified `needed`.
fn encode_unchecked_room(record: &Record, frame_buf: &mut [u8]) -> Result<usize, EncodeError> {
    let full = EncodeError::BufferTooSmall { needed: 0 };
    let (head, rest) = frame_buf.split_at_mut_checked(HEADER_LEN).ok_or(full)?;
    let body_len = match postcard::to_slice(&record.event, rest) {
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

    /// [`push`](Decoder::push), with `decode` turning a checked record into the outcome.
    fn push_with<T>(
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
    use super::*;

    #[test]
    fn max_body_is_the_sum_of_field_bounds() {
        // Alert: id, time, engine, severity, four texts, two endpoints, sensor, flag; plus
        // the Event variant. Independent arithmetic from the field list in alert.rs.
        let endpoint = (1 + 64) + 17 + 7 + 4;
        let sensor = (1 + 64) + 17 + (1 + 32);
        let alert = 10
            + 10
            + 1
            + 1
            + (2 + 128)
            + (2 + 2048)
            + (1 + 32)
            + (1 + 64)
            + 2 * endpoint
            + sensor
            + 1;
        assert_eq!(MAX_BODY, 1 + alert);
        assert_eq!(MAX_BODY, 2603);
        assert_eq!(MAX_FRAME, MAX_RECORD + MAX_RECORD / 254 + 1 + 1);
    }

    #[test]
    fn varint_lengths_follow_leb128() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(16_383), 2);
        assert_eq!(varint_len(16_384), 3);
        assert_eq!(varint_len(u64::MAX), 10);
    }
}
