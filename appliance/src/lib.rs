//! icsfwd: the Linux service around [`icsfwd_core`] that takes alerts from the sensor's
//! detection engines, makes them durable and forwards them to Splunk and syslog receivers.
//!
//! The public modules are what the binary, the simulator and the tests crate use:
//!
//! - [`cli`]: the bodies of the `icsfwd` commands (the binary parses and dispatches).
//! - [`clock`]: the wall clock, read in one place as epoch milliseconds.
//! - [`config`]: the TOML configuration, validated into the values the service runs on.
//! - [`exit`]: the exit codes of every command, defined once.
//! - [`health`]: the forwarder's health reports and forwarded heartbeats (`[health]`).
//! - [`ingest`]: what producers send (JSON lines) and what they get back.
//! - [`service`]: `icsfwd run`, assembled from the parts and stopped in order.
//! - [`send`]: the `icsfwd send` client of the ingest socket.
//! - [`status`]: the snapshot the service writes and `icsfwd status` shows.
//!
//! The rest is internal to the crate (`pub(crate)`):
//!
//! - `deliver`: one worker thread per destination (spool → sender → spool cursor),
//!   retries, parking, dead letters, HEC acks, the housekeeper and per-destination stats.
//! - `destination`: one folder per destination kind (`hec`, `splunk`, `syslog`), each with
//!   its configuration keys, their validation, its sender and its `icsfwd test` steps; the
//!   dispatch over kinds, the `Sender` trait, and what every kind shares (TLS, timeouts,
//!   retry, the classification of every reply, the HTTP client, secrets).
//!   `docs/ARCHITECTURE.md` has the recipe for a new kind.
//! - `logging`: one journald-ready line per record on stderr.
//! - `metrics`: the opt-in Prometheus / OpenMetrics endpoint (`[metrics]`) and its
//!   latency histograms.
//! - `notify`: system notifications, the forwarder's own news about its sensors, forwarded
//!   like alerts.
//! - `probe`: `icsfwd test <destination>`, one test alert sent and every step reported.
//! - `reload`: SIGHUP and `icsfwd reload`: a new configuration applied whole, or refused
//!   whole, without stopping ingest; the control socket.
//! - `spool`: the durable, crash-safe queue between ingest and the delivery workers
//!   (segment files of icsfwd-core records, group commit, per-destination cursors, quota).
//!
//! With the cargo feature `_testing` (for this crate's own tests and benches only, no
//! stability promise), `testing` re-exports the internals they drive; see
//! `docs/ARCHITECTURE.md`.
//!
//! The binary `icsfwd` is a thin command line over this library.
//!
//! ```
//! use icsfwd::ingest::schema::{Answer, encode_line};
//! use icsfwd_core::alert::{Alert, Event};
//!
//! let line = encode_line(&Event::from(Alert::example(1_700_000_000_000)));
//! assert!(line.starts_with(r#"{"type":"alert","#));
//! let answer = Answer::Accepted { id: "sensor-plant-a-1042".into(), truncated: vec![] };
//! assert_eq!(answer.to_line(), r#"{"status":"accepted","id":"sensor-plant-a-1042"}"#);
//! ```
#![deny(missing_docs)]
// One module holds unsafe code, with its reason: destination/syslog/outq.rs.
#![deny(unsafe_code)]
// Some internals are reached only by the tests, through `testing`: dead code is judged in the
// builds that have it (every test build and `clippy --all-features`), not in a plain build.
#![cfg_attr(not(feature = "_testing"), allow(dead_code))]
// A `pub` item says it is part of the API (or of `testing`'s); one that no path outside the
// crate can reach is written `pub(crate)`. Checked where `testing` is on, so that its
// re-exports count as reachable.
#![cfg_attr(feature = "_testing", warn(unreachable_pub))]
// The internals `testing` re-exports link, in their docs, to neighbours it does not re-export.
#![cfg_attr(feature = "_testing", allow(rustdoc::private_intra_doc_links))]

pub(crate) mod arena;
pub mod cli;
pub mod clock;
pub mod config;
pub(crate) mod deliver;
pub(crate) mod destination;
pub mod exit;
pub mod health;
pub mod ingest;
pub(crate) mod logging;
pub(crate) mod metrics;
pub(crate) mod notify;
pub(crate) mod probe;
pub(crate) mod reload;
pub mod send;
pub mod service;
pub(crate) mod spool;
pub mod status;

#[cfg(feature = "_testing")]
pub mod testing;
