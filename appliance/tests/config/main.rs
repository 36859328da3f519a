//! The configuration: validation diagnostics, the example, secrets, `[metrics]`, `check-config`.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

mod cli;
mod example;
mod failover;
mod health;
mod metrics;
mod secrets;
mod validation;
