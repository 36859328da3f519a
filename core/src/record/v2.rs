//! The record body of format version 2: version 1 ([`super::v1`]) with two notification kinds
//! added, the forwarder's health report and a forwarded sensor heartbeat. **Frozen** like
//! version 1.
//!
//! ```text
//! body, event, alert, notification, endpoint, sensor, ip, engine, severity: as version 1
//! kind          = 00 Sensor online | 01 Sensor offline | 02 Backup failure | 03 Alerts dropped
//!               | 04 Health report | 05 Heartbeat
//! ```
//!
//! A record is written in the oldest version that holds its event (`super::version_for`):
//! only a notification of kind 04 or 05 is written in version 2, so a spool without them stays
//! readable by a release that reads only version 1, and one with them is refused by such a
//! release (`BadVersion`) instead of being misread. The two versions share one writer and one
//! reader in `v1.rs` (they differ in the kind codes only), which keeps the firmware image small.

use postcard::ser_flavors::Flavor;

use super::DecodeError;
use super::v1::{self, Writer};
use crate::alert::Event;

/// This format's version byte.
pub(super) const VERSION: u8 = 2;

/// The longest version-2 body: the same as version 1's (a kind code is still one byte).
pub(super) const MAX_BODY: usize = v1::MAX_BODY;

/// Whether version 2 can hold `event`: every event of this release (in core's own unit tests,
/// every one but an alert with the rehearsal's field of `v3.rs`).
pub(super) fn holds(event: &Event) -> bool {
    match event {
        #[cfg(test)]
        Event::Alert(alert) => alert.technique.is_none(),
        #[cfg(not(test))]
        Event::Alert(_) => true,
        Event::Notification(_) => true,
    }
}

/// Writes `event` as a version-2 body.
///
/// # Errors
///
/// The flavor's error (a full buffer).
pub(super) fn write<F: Flavor>(out: &mut Writer<F>, event: &Event) -> postcard::Result<()> {
    v1::write_as(out, event, VERSION)
}

/// Reads a version-2 body into `event`, field by field.
///
/// # Errors
///
/// [`DecodeError::Body`].
pub(super) fn read_into(body: &[u8], event: &mut Event) -> Result<(), DecodeError> {
    v1::read_into_as(body, event, VERSION)
}
