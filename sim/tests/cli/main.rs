//! The `icsfwd-sim` command line.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod alerts;
mod commands;
mod control;
mod demo;
mod events;
