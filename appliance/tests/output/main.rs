//! Delivery: each destination kind's sender against a local receiver, the worker, dead-letter replay.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "../deliver_support/mod.rs"]
mod deliver_support;
#[allow(dead_code, reason = "this binary uses part of the shared support")]
#[path = "../e2e_support/mod.rs"]
mod e2e;
#[allow(dead_code, reason = "this binary uses part of the shared support")]
#[path = "../output_support/mod.rs"]
mod support;

mod deadletter_replay;
mod deliver_hec;
mod deliver_splunk;
mod deliver_worker;
mod hec;
mod hec_ack_state;
mod hec_in_flight;
mod hec_packed;
mod hec_streamed;
mod relp;
mod reply_head;
mod splunk;
mod syslog;
