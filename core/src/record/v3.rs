//! A rehearsal of adding a record version, compiled only for core's own unit tests: it proves
//! that the version dispatch of [`super`] reads two versions side by side into the domain
//! type, the way the next real version will (`docs/record-format.md`, "Adding a record
//! version"). Nothing of it ships.
//!
//! Version 3 is version 2 ([`super::v2`]) with one field added at the end of the alert:
//!
//! ```text
//! alert (v3)  = <the version-1 alert> technique:option<u16>
//! ```
//!
//! The domain [`Alert`](crate::alert::Alert) has the field only in this test build
//! (`technique`); a version-1 body reads as `None` ([`super::v1::read_alert`]).

use postcard::ser_flavors::Flavor;
use serde::Serialize as _;

use super::DecodeError;
use super::v1::{self, ALERT, NOTIFICATION, Reader, Writer, take};
use super::v2;
use crate::alert::Event;

/// This format's version byte.
pub(super) const VERSION: u8 = 3;

/// The longest version-3 body: version 2's and the widest `technique` (a tag byte and a
/// three-byte u16 varint).
pub(super) const MAX_BODY: usize = v2::MAX_BODY + 1 + 3;

/// Writes `event` as a version-3 body.
///
/// # Errors
///
/// The flavor's error (a full buffer).
pub(super) fn write<F: Flavor>(out: &mut Writer<F>, event: &Event) -> postcard::Result<()> {
    match event {
        Event::Alert(alert) => {
            ALERT.serialize(&mut *out)?;
            v1::write_alert(out, alert)?;
            alert.technique.serialize(&mut *out)
        }
        Event::Notification(_) => v2::write(out, event),
    }
}

/// Reads a version-3 body into `event`, field by field.
///
/// # Errors
///
/// [`DecodeError::Body`].
pub(super) fn read_into(body: &[u8], event: &mut Event) -> Result<(), DecodeError> {
    let mut input = Reader::from_bytes(body);
    match take::<u32>(&mut input)? {
        ALERT => {
            let alert = v1::alert_slot(event)?;
            v1::read_alert(&mut input, alert)?;
            alert.technique = take(&mut input)?;
        }
        NOTIFICATION => return v2::read_into(body, event),
        _ => return Err(DecodeError::Body),
    }
    v1::finish(input)
}
