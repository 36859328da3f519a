//! The spool record: framing, vectors, and the frozen version-1 body.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[allow(dead_code, reason = "this binary uses part of the shared support")]
#[path = "../common/mod.rs"]
mod common;

mod codec;
mod v1;
