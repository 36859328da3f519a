//! The senders of each destination kind (moving to `destination/<kind>/`).

pub mod hec;
pub mod relp;
pub mod splunk;
pub mod syslog;
