//! The workspace every case uses: one event slot and one scratch buffer.
//!
//! The firmware keeps exactly one [`Bench`] in static memory (`.bss`, it is all zeros when
//! empty), so the stack never holds more than the transient event a decoder returns. A case
//! loads the fixture it needs into the slot in place with [`Bench::load`], which is cheap:
//! only the fields are written, not a 2.9 KiB event.
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
//! ```

use icsfwd_core::alert::{Alert, Engine, Event, Notification, NotificationKind, Severity};

use crate::fixtures;

/// Bytes in [`Bench::scratch`]: room for the postcard body of the largest event
/// (`max_alert`, about 2.6 KiB) with framing to spare.
pub const SCRATCH_LEN: usize = 3 * 1024;

/// Which of the host tests' events to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    /// `sample_alert()`: an S7 PLC stop command.
    Sample,
    /// `hostile_alert()`: every field tries to forge fields, lines or events.
    Hostile,
    /// `max_alert(c)`: every field at capacity in `c`.
    Max(char),
    /// `notification(kind)`.
    Notification(NotificationKind),
}

/// One event slot and one scratch buffer; see the module docs.
#[derive(Debug)]
pub struct Bench {
    /// The event the current case works on; see [`Bench::load`].
    pub event: Event,
    /// Scratch space for encoders (postcard bodies, records).
    pub scratch: [u8; SCRATCH_LEN],
}

impl Bench {
    /// An empty bench: a blank alert and a zeroed scratch buffer (all zero bytes, so a
    /// `static` of it lives in `.bss` and costs no flash).
    pub const fn new() -> Bench {
        Bench {
            event: Event::Alert(Alert::new(
                0,
                0,
                Engine::ProtocolViolation,
                Severity::Warning,
            )),
            scratch: [0; SCRATCH_LEN],
        }
    }

    /// Overwrites the event slot with `fixture` and returns it.
    pub fn load(&mut self, fixture: Fixture) -> &Event {
        let wants_notification = matches!(fixture, Fixture::Notification(_));
        if wants_notification != matches!(self.event, Event::Notification(_)) {
            self.event = match fixture {
                Fixture::Notification(kind) => Event::Notification(Notification::new(0, 0, kind)),
                _ => Event::Alert(Alert::new(
                    0,
                    0,
                    Engine::ProtocolViolation,
                    Severity::Warning,
                )),
            };
        }
        match (&mut self.event, fixture) {
            (Event::Alert(a), Fixture::Sample) => fixtures::fill_sample_alert(a),
            (Event::Alert(a), Fixture::Hostile) => fixtures::fill_hostile_alert(a),
            (Event::Alert(a), Fixture::Max(c)) => fixtures::fill_max_alert(a, c),
            (Event::Notification(n), Fixture::Notification(kind)) => {
                fixtures::fill_notification(n, kind);
            }
            // The slot was given the fixture's variant just above, so no other pair occurs;
            // if one ever did, the stale event would fail its case's comparison, not pass.
            _ => {}
        }
        &self.event
    }
}

impl Default for Bench {
    fn default() -> Self {
        Bench::new()
    }
}
