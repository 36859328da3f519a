//! Ingest: how the sensor's detection engines hand events to icsfwd.
//!
//! Producers write one JSON object per line to the ingest socket and read one JSON answer line
//! per line. [`schema`] is the pure, I/O-free layer: it decodes and validates a line into a core
//! event (or refuses it, naming the field), encodes events into lines, and defines the answers.
//! The normative description of the wire is `docs/ingest.md`, with `docs/ingest.schema.json`.
//!
//! ```
//! use icsfwd::ingest::schema::{Message, decode_line, encode_line};
//! use icsfwd_core::alert::{Alert, Event};
//!
//! let event = Event::from(Alert::example(1_700_000_000_000));
//! let decoded = decode_line(encode_line(&event).as_bytes(), 0).unwrap();
//! assert_eq!(decoded.message, Message::Event(event));
//! ```

pub mod schema;
pub(crate) mod server;
