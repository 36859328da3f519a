//! icsfwd, the alert forwarder of an OT/ICS network-security sensor: the Linux service's
//! library. The binary `icsfwd` is a thin command line over these modules.
//!
//! - [`config`]: the TOML configuration, validated into the values the service runs on.

pub mod config;
