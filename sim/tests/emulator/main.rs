//! The Splunk emulator: HEC, splunkd, syslog receiver, TLS, control and faults.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod control;
mod faults;
mod hec;
mod server;
mod splunkd;
mod syslog_receiver;
mod tls;
