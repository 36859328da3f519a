//! The formats read back by independent readers: fidelity, hostile input, generated alerts, the fuzz corpus, the wire tables.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod fidelity;
mod fuzz_corpus;
mod generated_alerts;
mod hostile;
mod wire_tables;
