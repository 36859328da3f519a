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
//! A record is written in the oldest version that holds its event (`super::encode`): only a
//! notification of kind 04 or 05 is written in version 2, so a spool without them stays
//! readable by a release that reads only version 1, and one with them is refused by such a
//! release (`BadVersion`) instead of being misread.

use postcard::ser_flavors::Flavor;
use serde::Serialize as _;

use super::DecodeError;
use super::v1::{self, ALERT, NOTIFICATION, Reader, Writer, take};
use crate::alert::{Event, NotificationKind};

/// This format's version byte.
pub(super) const VERSION: u8 = 2;

/// The longest version-2 body: the same as version 1's (a kind code is still one byte).
pub(super) const MAX_BODY: usize = v1::MAX_BODY;

const fn kind_code(kind: NotificationKind) -> u32 {
    match kind {
        NotificationKind::SensorOnline => 0,
        NotificationKind::SensorOffline => 1,
        NotificationKind::BackupFailure => 2,
        NotificationKind::AlertsDropped => 3,
        NotificationKind::Health => 4,
        NotificationKind::Heartbeat => 5,
    }
}

fn kind(code: u32) -> Result<NotificationKind, DecodeError> {
    Ok(match code {
        0 => NotificationKind::SensorOnline,
        1 => NotificationKind::SensorOffline,
        2 => NotificationKind::BackupFailure,
        3 => NotificationKind::AlertsDropped,
        4 => NotificationKind::Health,
        5 => NotificationKind::Heartbeat,
        _ => return Err(DecodeError::Body),
    })
}

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
    match event {
        Event::Alert(alert) => {
            ALERT.serialize(&mut *out)?;
            v1::write_alert(out, alert)
        }
        Event::Notification(n) => {
            NOTIFICATION.serialize(&mut *out)?;
            v1::write_notification(out, n, kind_code(n.kind))
        }
    }
}

/// Reads a version-2 body into `event`, field by field.
///
/// # Errors
///
/// [`DecodeError::Body`].
pub(super) fn read_into(body: &[u8], event: &mut Event) -> Result<(), DecodeError> {
    let mut input = Reader::from_bytes(body);
    match take::<u32>(&mut input)? {
        ALERT => v1::read_alert(&mut input, v1::alert_slot(event)?)?,
        NOTIFICATION => {
            v1::read_notification_with(&mut input, v1::notification_slot(event)?, kind)?;
        }
        _ => return Err(DecodeError::Body),
    }
    v1::finish(input)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn version_2_codes_extend_version_1_and_refuse_the_rest() {
        for (i, k) in NotificationKind::ALL.into_iter().enumerate() {
            let code = u32::try_from(i).unwrap();
            assert_eq!(kind_code(k), code);
            assert_eq!(kind(code), Ok(k));
        }
        assert_eq!(kind(6), Err(DecodeError::Body));
    }
}
