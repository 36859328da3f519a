//! Every output format against its golden files and properties.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "../common/mod.rs"]
mod common;

mod cef;
mod hec;
mod leef;
mod syslog;
mod text;
