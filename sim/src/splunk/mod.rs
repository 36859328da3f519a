//! The Splunk emulator's protocol logic, SANS-IO: pure request → response functions that a
//! blocking HTTP server calls per request.
//!
//! - [`http`]: the shared request/response model and form/query decoding.
//! - [`hec`]: the HTTP Event Collector (port 8088): envelopes, raw, channels, acks, health.
//! - [`splunkd`]: the management REST API (port 8089): login, receivers, indexes, auth.
//! - [`store`]: the shared, bounded store of received events (optional JSONL mirror).
//! - [`server`]: the blocking HTTP/1.1 server that puts [`hec`] and [`splunkd`] on sockets.
//! - [`syslog`]: a syslog receiver (TCP with RFC 6587 framing, TLS, UDP) storing into [`store`].
//! - [`tls`]: a generated CA and server certificate, and the rustls transport for [`server`].
//! - [`faults`]: the fault model (down, hang, slow, trickle, status, resets, held acks) and
//!   its seeded registry.
//! - [`control`]: the control API (events, faults, stats) on its own port.
//! - [`control_client`]: a blocking client of [`control`], for tests and the CLI.
//! - [`emulator`]: HEC + splunkd + control started together over one store and one registry.

pub mod control;
pub mod control_client;
pub mod emulator;
pub mod faults;
pub mod hec;
pub mod http;
pub mod server;
pub mod splunkd;
pub mod store;
pub mod syslog;
pub mod tls;
