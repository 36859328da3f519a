//! The harness of the icsfwd-core firmware image: fixtures, a checking sink, and the table of
//! cases the image runs on a Cortex-M4 under QEMU.
//!
//! The same code runs in two places: in the bare-metal image (`src/main.rs`, which prints
//! each outcome through semihosting and exits 0 only when every case passed), and as host unit
//! tests (`cargo test --lib --target <host>`), which also prove that the firmware's fixtures
//! are the very events the host golden tests render.
//!
//! - [`check`]: [`check::Checker`], an [`embedded_io::Write`] sink that compares what it is
//!   given with expected bytes as they arrive, without buffering the output.
//! - [`fixtures`]: the host tests' sample, hostile, at-capacity and notification events,
//!   built in place (no 2.6 KiB temporaries on a small stack).
//! - [`bench`](mod@bench): [`bench::Bench`], the one statically allocated workspace every
//!   case uses.
//! - [`cases`]: [`cases::Case`], the [`cases::CASES`] table and [`cases::run_case`].
//! - [`line`]: [`line::Line`], a log line assembled without `core::fmt` (flash budget).
//!
//! Nothing here panics, allocates or uses `unsafe`; the only `unsafe` of the firmware is the
//! stack scan in `main.rs`.
//!
//! ```
//! use icsfwd_firmware::bench::Bench;
//! use icsfwd_firmware::cases::{run_case, Outcome, CASES};
//!
//! let mut bench = Box::new(Bench::new());
//! for case in CASES {
//!     assert!(matches!(run_case(case, &mut bench), Outcome::Pass { .. }), "{}", case.name);
//! }
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod bench;
pub mod cases;
pub mod check;
pub mod fixtures;
pub mod line;

/// The host tests' shared fixtures, compiled here only to compare them with [`fixtures`].
/// Not ours to format: `cargo fmt` here must leave core's file alone.
#[cfg(test)]
#[rustfmt::skip]
#[path = "../../core/tests/common/mod.rs"]
mod host_common;
