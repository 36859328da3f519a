//! The Splunk emulator's protocol logic, SANS-IO: pure request → response functions that a
//! blocking HTTP server calls per request.
//!
//! - [`http`]: the shared request/response model and form/query decoding.
//! - [`hec`]: the HTTP Event Collector (port 8088): envelopes, raw, channels, acks, health.

pub mod hec;
pub mod http;
