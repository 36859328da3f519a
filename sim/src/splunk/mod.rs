//! The Splunk emulator's protocol logic, SANS-IO: pure request → response functions that a
//! blocking HTTP server calls per request.
//!
//! - [`http`]: the shared request/response model and form/query decoding.
//! - [`hec`]: the HTTP Event Collector (port 8088): envelopes, raw, channels, acks, health.
//! - [`splunkd`]: the management REST API (port 8089): login, receivers, indexes, auth.

pub mod hec;
pub mod http;
pub mod splunkd;
