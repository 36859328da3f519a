//! The spool: its API, recovery, crash and fault injection, capacity, compatibility with older spools.
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
#[path = "../spool_fixtures/golden.rs"]
mod golden;
#[path = "../spool_fixtures/golden_v2.rs"]
mod golden_v2;
#[path = "../spool_support/mod.rs"]
mod spool_support;
#[allow(dead_code, reason = "this binary uses part of the shared support")]
#[path = "../output_support/mod.rs"]
mod support;

mod api;
mod capacity;
mod checkpoint;
mod compat;
mod corrupt;
mod crash;
mod direct_writes;
mod group_commit;
mod io_faults;
mod kept;
mod lock;
mod model;
mod model_check;
mod owner;
mod preallocation;
mod progress;
mod quota;
mod read_marks;
mod recovery;
mod recycle;
mod sequence;
mod upgrade;
mod verify;
mod zero_fill;
