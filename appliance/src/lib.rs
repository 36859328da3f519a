//! `icsfwd`: the appliance library behind the `icsfwd` binary — the Linux shell around
//! icsfwd-core that takes alerts in, keeps them durable, and delivers them.
//!
//! Modules:
//! - [`spool`]: the durable, crash-safe queue between ingest and the delivery workers
//!   (segment files of icsfwd-core records, group commit, per-destination cursors, quota).

pub mod spool;
