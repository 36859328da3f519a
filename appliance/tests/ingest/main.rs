//! Ingest: the line schema and the socket server.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "../spool_support/mod.rs"]
mod spool_support;

mod schema;
mod server;
