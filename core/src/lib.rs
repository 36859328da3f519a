//! icsfwd-core: the portable rule and formatting engine of the icsfwd OT alert forwarder.
//!
//! `#![no_std]`, no allocator, no `unsafe`: every capacity is a `const` (`MAX_*`) so memory is
//! bounded on the appliance and the same code runs on a Cortex-M4. Time and I/O are passed in;
//! nothing here reads a clock or touches a file.
//!
//! - [`alert`]: the alert and system-notification model, with fixed capacities.
//! - [`destination`]: destination ids and sets (bitmasks).
//! - [`rule`]: forwarding rules and exclusions; which destinations an event goes to, and why.
//! - [`format`]: the wire formats (text, HEC JSON, CEF, LEEF, RFC 5424 syslog).
//! - [`record`]: the crash-safe spool record (CRC-32C, COBS framing).
//! - [`time`]: UTC civil time from epoch milliseconds.
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::format::{text, SliceWriter};
//!
//! let mut alert = Alert::new(1, 1_700_000_000_000, Engine::Operational, Severity::Major);
//! alert.set_title("PLC Program Stop");
//! let mut buf = [0u8; text::MAX_LEN];
//! let mut out = SliceWriter::new(&mut buf);
//! let n = text::write(&Event::from(alert), &text::Options::default(), &mut out).unwrap();
//! assert!(out.written()[..n].starts_with(b"2023-11-14T22:13:20.000Z"));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::indexing_slicing)]

#[cfg(test)]
extern crate std;
// The shared test fixtures (core/tests/common/mod.rs) name the crate `icsfwd_core`; unit
// tests that include them need the crate under that name too.
#[cfg(test)]
extern crate self as icsfwd_core;

pub mod alert;
pub mod destination;
pub mod format;
pub mod record;
pub mod rule;
mod stack_text;
pub mod time;
