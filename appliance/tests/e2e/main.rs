//! End to end: the real `icsfwd run` binary against the emulator and real receivers.
//!
//! One test binary for the area (each file a module), so that the suite links it once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "../e2e_support/mod.rs"]
mod e2e;
#[allow(dead_code, reason = "this binary uses part of the shared support")]
#[path = "../output_support/mod.rs"]
mod support;

mod ack_restart;
mod chaos;
mod crash;
mod delivery;
mod failover_duplicates;
mod failover_splunk;
mod failover_syslog;
mod faults;
mod file_modes;
mod health;
mod ingest;
mod metrics;
mod network;
mod notifications;
mod process;
mod proxy;
mod reload;
mod relp;
mod removed_restart;
mod rsyslog;
mod rules;
mod service;
mod signals;
mod spool_full;
mod status_matrix;
mod trust_store;
