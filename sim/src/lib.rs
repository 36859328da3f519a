//! icsfwd-sim: the host simulator of the icsfwd OT alert forwarder.
//!
//! - [`catalogue`]: realistic kinds of OT alert, per engine.
//! - [`demo`]: the newcomer's demo: emulator, forwarder and scenario in one process.
//! - [`feed`]: the sender: events as ingest JSON lines to stdout, a file or the forwarder's socket.
//! - [`generator`]: a seeded, deterministic alert generator over that catalogue.
//! - [`plant`]: the simulated plant: zones, devices, protocols and sensors.
//! - [`scenario`]: seeded attack and failure stories over a steady background, as timed events.
//! - [`splunk`]: the Splunk emulator's SANS-IO protocol logic (HEC, splunkd REST).
//!
//! The Splunk emulator and the scenario driver are built on top of these.
//!
//! ```
//! use icsfwd_sim::generator::Generator;
//!
//! let mut alerts = Generator::new(42, 1_700_000_000_000);
//! let first = alerts.next_alert();
//! assert_eq!(first.id, 1);
//! assert!(!first.title.is_empty());
//! ```

pub mod catalogue;
pub mod demo;
pub mod feed;
pub mod generator;
pub mod plant;
pub mod scenario;
pub mod splunk;
