//! The `icsfwd` command line and the documents that must agree with the code.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[allow(dead_code, reason = "this binary uses part of the shared support")]
#[path = "../e2e_support/mod.rs"]
mod e2e;
#[path = "../spool_support/mod.rs"]
mod spool_support;
#[allow(dead_code, reason = "this binary uses part of the shared support")]
#[path = "../output_support/mod.rs"]
mod support;

mod commands;
mod metrics_doc;
mod operations_doc;
mod send;
mod test_destination;
mod test_failover;
mod tools;
