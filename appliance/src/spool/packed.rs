//! An event held in memory as its record body: what the group commit's queue and a
//! destination's window keep instead of the event itself.
//!
//! What it is: a core [`Event`] holds its strings inline at their capacities (~2.7 KB for any
//! alert); its record body (`docs/record-format.md`) holds only the bytes used, a few hundred
//! for a typical alert. [`Packed::new`] writes the body of [`record::version_for`] the event;
//! [`Packed::unpack_into`] reads it back into an event the caller reuses.
//!
//! What it guarantees: unpacking gives back the event packed, field for field (the record
//! format's round trip, proven by core's tests); a packed event's heap size is its body's
//! length.
//!
//! ```ignore
//! use icsfwd::spool::packed::Packed;
//! use icsfwd_core::alert::{Alert, Event};
//!
//! let event = Event::from(Alert::example(1_700_000_000_000));
//! let packed = Packed::new(&event)?;
//! assert!(packed.len() < core::mem::size_of::<Event>() / 4);
//! let mut back = Event::from(Alert::example(0));
//! packed.unpack_into(&mut back)?;
//! assert_eq!(back, event);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use icsfwd_core::alert::{Event, Severity};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::record::{self, DecodeError, EncodeError, MAX_BODY};

/// An event as its record body; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    version: u8,
    /// The event's severity (what the spool's quota compares when it evicts).
    severity: Severity,
    /// Whether the event is an alert (a notification is never evicted).
    alert: bool,
    /// [`sensor_key`] of the event: what spreads a batch over HEC requests in flight
    /// without putting one sensor's alerts in two of them.
    sensor_key: u32,
    body: Box<[u8]>,
}

impl Packed {
    /// Packs `event`.
    ///
    /// # Errors
    ///
    /// What [`record::encode_body`] refuses; a body buffer of [`MAX_BODY`] bytes holds any
    /// event, so only an event core cannot write at all.
    pub fn new(event: &Event) -> Result<Self, EncodeError> {
        let mut body = [0u8; MAX_BODY];
        let n = record::encode_body(event, &mut body)?;
        Ok(Self {
            version: record::version_for(event),
            severity: event.severity(),
            alert: matches!(event, Event::Alert(_)),
            sensor_key: sensor_key(event),
            body: body.get(..n).unwrap_or_default().into(),
        })
    }

    /// The event of a stored record, from its body as it is: `body`, of format `version`,
    /// must be what `event` was decoded from (then [`unpack`](Self::unpack) gives `event`
    /// back, as it gives back any event packed; the spool's read hands out only bodies it
    /// decoded this way).
    #[must_use]
    pub fn from_body(version: u8, body: &[u8], event: &Event) -> Self {
        Self {
            version,
            severity: event.severity(),
            alert: matches!(event, Event::Alert(_)),
            sensor_key: sensor_key(event),
            body: body.into(),
        }
    }

    /// Writes the frame of the record numbered `seq` for `destinations` around the body as it
    /// is (core's [`record::encode_with_body`]): the bytes [`record::encode`] writes for the
    /// unpacked event, without unpacking it.
    ///
    /// # Errors
    ///
    /// [`EncodeError::BufferTooSmall`] when `frame` is shorter than the frame (a buffer of
    /// `record::MAX_FRAME` bytes never is).
    pub fn frame(
        &self,
        seq: u64,
        destinations: DestinationSet,
        frame: &mut [u8],
    ) -> Result<usize, EncodeError> {
        record::encode_with_body(seq, destinations, self.version, &self.body, frame)
    }

    /// [`sensor_key`] of the event.
    #[must_use]
    pub fn sensor_key(&self) -> u32 {
        self.sensor_key
    }

    /// The event's severity.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The alert's severity; `None` for a notification.
    #[must_use]
    pub fn alert_severity(&self) -> Option<Severity> {
        self.alert.then_some(self.severity)
    }

    /// Unpacks into `event` (reused: no allocation).
    ///
    /// # Errors
    ///
    /// What [`record::decode_body_into`] refuses; a body written by [`Packed::new`] decodes.
    pub fn unpack_into(&self, event: &mut Event) -> Result<(), DecodeError> {
        record::decode_body_into(self.version, &self.body, event)
    }

    /// Unpacks into a new event.
    ///
    /// # Errors
    ///
    /// As [`Packed::unpack_into`].
    pub fn unpack(&self) -> Result<Event, DecodeError> {
        record::decode_body(self.version, &self.body)
    }

    /// The body's length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Whether the body is empty (never, for an event packed by [`Packed::new`]).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }
}

/// A hash (CRC-32C) of the name of `event`'s sensor: equal for two events of one sensor.
#[must_use]
pub(crate) fn sensor_key(event: &Event) -> u32 {
    record::crc::checksum(event.event_id().sensor.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use icsfwd_core::alert::Alert;

    #[test]
    fn an_alert_round_trips_through_its_packed_body() {
        for i in 0..50u64 {
            let event = Event::from(Alert::example(1_700_000_000_000 + i));
            let packed = Packed::new(&event).unwrap();
            assert_eq!(packed.unpack().unwrap(), event);
            let mut reused = Event::from(Alert::example(0));
            packed.unpack_into(&mut reused).unwrap();
            assert_eq!(reused, event);
        }
    }

    #[test]
    fn a_packed_event_frames_as_the_event_itself() {
        use icsfwd_core::alert::{Notification, NotificationKind};
        use icsfwd_core::record::{MAX_FRAME, Record};
        let mut events: Vec<Event> = (0..20u64)
            .map(|i| Event::from(Alert::example(1_700_000_000_000 + i)))
            .collect();
        events.push(Event::from(Notification::new(
            7,
            1_700_000_000_000,
            NotificationKind::SensorOffline,
        )));
        for (i, event) in events.into_iter().enumerate() {
            let seq = 40 + i as u64;
            let destinations = DestinationSet::from_bits(0b1011);
            let packed = Packed::new(&event).unwrap();
            let mut from_packed = vec![0u8; MAX_FRAME];
            let n = packed.frame(seq, destinations, &mut from_packed).unwrap();
            let mut whole = vec![0u8; MAX_FRAME];
            let severity = event.severity();
            let alert = matches!(event, Event::Alert(_));
            let record = Record {
                seq,
                destinations,
                event,
            };
            let m = record::encode(&record, &mut whole).unwrap();
            assert_eq!(from_packed.get(..n), whole.get(..m));
            assert_eq!(packed.severity(), severity);
            assert_eq!(packed.alert_severity().is_some(), alert);
        }
    }

    #[test]
    fn a_packed_alert_is_a_fraction_of_the_event() {
        let packed = Packed::new(&Event::from(Alert::example(0))).unwrap();
        assert!(
            packed.len() * 4 < core::mem::size_of::<Event>(),
            "{}",
            packed.len()
        );
    }
}
