//! The workspace every case uses: one record slot and one shared work area.
//!
//! The firmware keeps exactly one [`Bench`] in static memory (`.bss`, it is all zeros when
//! empty), so the stack never holds an event. A case loads the fixture it needs into the
//! record slot in place with [`Bench::load`], which is cheap: only the fields are written, not
//! a 2.6 KiB event.
//!
//! The work area, [`Space`], is either a scratch buffer for encoders or a record decoder with
//! the record it decodes into: never both at once, so the image pays for the larger of the two
//! only (about 5.4 KiB), not their sum; a small rule set ([`FirmwareRules`]) shares it too.
//! [`Bench::scratch`], [`Bench::decoding`] and [`Bench::rules`] switch it.
//!
//! Guarantees: no method panics or allocates.
//!
//! ```
//! use icsfwd_core::alert::NotificationKind;
//! use icsfwd_firmware::bench::{Bench, Fixture};
//!
//! let mut bench = Box::new(Bench::new());
//! assert_eq!(bench.load(Fixture::Sample).title(), "PLC Program Stop");
//! let event = bench.load(Fixture::Notification(NotificationKind::SensorOffline));
//! assert_eq!(event.title(), "Sensor offline");
//! let (record, scratch) = bench.scratch().unwrap();
//! assert_eq!((record.event.title(), scratch.len()), ("Sensor offline", 3 * 1024));
//! ```

use icsfwd_core::alert::{Alert, Engine, Event, Notification, NotificationKind, Severity};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::record::{Decoder, Record};
use icsfwd_core::rule::RuleSet;

use crate::fixtures;

/// Bytes in the scratch buffer: room for a record frame of the largest event
/// ([`icsfwd_core::record::MAX_FRAME`], about 2.6 KiB).
pub const SCRATCH_LEN: usize = 3 * 1024;

const _: () = assert!(SCRATCH_LEN >= icsfwd_core::record::MAX_FRAME);

/// Which of the host tests' events to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    /// `sample_alert()`: an S7 PLC stop command.
    Sample,
    /// `hostile_alert()`: every field tries to forge fields, lines or events.
    Hostile,
    /// `max_alert(c)`: every field at capacity in `c`.
    Max(char),
    /// `unversioned_alert()`: the sample alert without a sensor version.
    Unversioned,
    /// `notification(kind)`.
    Notification(NotificationKind),
}

/// The rule set the firmware routes with: 4 rules, 1 exclusion, 8 distinct protocol names
/// (about 4.2 KiB, so it shares the work area instead of adding to RAM).
pub type FirmwareRules = RuleSet<4, 1, 8>;

/// The shared work area; see the module docs.
///
/// `repr(u8)` fixes the tag of [`Space::Scratch`] at 0, so that an empty [`Bench`] is all
/// zero bytes and its `static` lands in `.bss`; with the default layout the tag is a niche
/// value in the decoder variant and the 8 KiB static would be copied from flash (`.data`).
#[derive(Debug)]
#[repr(u8)]
#[expect(
    clippy::large_enum_variant,
    reason = "the enum exists to overlay the large variants; it lives in a static, never moves"
)]
pub enum Space {
    /// A scratch buffer for encoders.
    Scratch([u8; SCRATCH_LEN]),
    /// A streaming record decoder and the record it decodes into.
    Decoding {
        /// The decoder (one frame buffer).
        decoder: Decoder,
        /// The slot [`Decoder::push_into`] fills.
        record: Record,
    },
    /// A rule set being built or routed with.
    Rules(FirmwareRules),
}

/// One record slot and the work area; see the module docs.
#[derive(Debug)]
pub struct Bench {
    /// The record whose event the current case works on; see [`Bench::load`].
    pub record: Record,
    /// The work area; see [`Bench::scratch`] and [`Bench::decoding`].
    pub space: Space,
}

const fn blank_alert() -> Event {
    Event::Alert(Alert::new(
        0,
        0,
        Engine::ProtocolViolation,
        Severity::Warning,
    ))
}

const fn blank_notification() -> Event {
    Event::Notification(Notification::new(0, 0, NotificationKind::SensorOnline))
}

impl Bench {
    /// An empty bench: a blank alert and a zeroed scratch buffer (all zero bytes, so a
    /// `static` of it lives in `.bss` and costs no flash).
    pub const fn new() -> Bench {
        Bench {
            record: Record {
                seq: 0,
                destinations: DestinationSet::EMPTY,
                event: blank_alert(),
            },
            space: Space::Scratch([0; SCRATCH_LEN]),
        }
    }

    /// Overwrites the record slot's event with `fixture` and returns it.
    pub fn load(&mut self, fixture: Fixture) -> &Event {
        load_into(&mut self.record.event, fixture)
    }

    /// The record slot and the work area as a scratch buffer (its contents unspecified).
    /// Always `Some`; an `Option` only so that no path can panic.
    #[inline(never)] // switching builds a variant: keep that frame off the case's stack
    pub fn scratch(&mut self) -> Option<(&mut Record, &mut [u8; SCRATCH_LEN])> {
        if !matches!(self.space, Space::Scratch(_)) {
            self.space = Space::Scratch([0; SCRATCH_LEN]);
        }
        match &mut self.space {
            Space::Scratch(bytes) => Some((&mut self.record, bytes)),
            Space::Decoding { .. } | Space::Rules(_) => None,
        }
    }

    /// The record slot, and the work area as an empty rule set for the case to fill. Always
    /// `Some`; an `Option` only so that no path can panic.
    #[inline(never)] // switching builds a variant: keep that frame off the case's stack
    pub fn rules(&mut self) -> Option<(&mut Record, &mut FirmwareRules)> {
        self.space = Space::Rules(FirmwareRules::with_capacity());
        match &mut self.space {
            Space::Rules(rules) => Some((&mut self.record, rules)),
            Space::Scratch(_) | Space::Decoding { .. } => None,
        }
    }

    /// The record slot, and the work area as a decoder at the start of a new stream with the
    /// record it decodes into (its contents unspecified). Always `Some`; an `Option` only so
    /// that no path can panic.
    #[inline(never)] // switching builds a variant: keep that frame off the decoder's stack
    pub fn decoding(&mut self) -> Option<(&Record, &mut Decoder, &mut Record)> {
        match &mut self.space {
            Space::Decoding { decoder, .. } => *decoder = Decoder::new(),
            Space::Scratch(_) | Space::Rules(_) => {
                self.space = Space::Decoding {
                    decoder: Decoder::new(),
                    record: Record {
                        seq: 0,
                        destinations: DestinationSet::EMPTY,
                        event: blank_notification(),
                    },
                }
            }
        }
        match &mut self.space {
            Space::Decoding { decoder, record } => Some((&self.record, decoder, record)),
            Space::Scratch(_) | Space::Rules(_) => None,
        }
    }
}

/// Overwrites `event` with `fixture` in place (turning it into the fixture's variant first if
/// needed) and returns it.
#[inline(never)] // one copy, shared by every case (flash budget)
pub fn load_into(event: &mut Event, fixture: Fixture) -> &Event {
    let wants_notification = matches!(fixture, Fixture::Notification(_));
    if wants_notification != matches!(event, Event::Notification(_)) {
        *event = if wants_notification {
            blank_notification()
        } else {
            blank_alert()
        };
    }
    match (&mut *event, fixture) {
        (Event::Alert(a), Fixture::Sample) => fixtures::fill_sample_alert(a),
        (Event::Alert(a), Fixture::Hostile) => fixtures::fill_hostile_alert(a),
        (Event::Alert(a), Fixture::Max(c)) => fixtures::fill_max_alert(a, c),
        (Event::Alert(a), Fixture::Unversioned) => fixtures::fill_unversioned_alert(a),
        (Event::Notification(n), Fixture::Notification(kind)) => {
            fixtures::fill_notification(n, kind);
        }
        // The event was given the fixture's variant just above, so no other pair occurs; if
        // one ever did, the stale event would fail its case's comparison, not pass.
        _ => {}
    }
    event
}

impl Default for Bench {
    fn default() -> Self {
        Bench::new()
    }
}
