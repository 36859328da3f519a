//! The bodies of the cargo-fuzz targets in `fuzz/`, so that the nightly fuzzer and the stable
//! corpus replay (`tests/tests/formats/fuzz_corpus.rs`) run exactly the same checks.
//!
//! Each function takes one fuzz input and returns `Err` with what went wrong when a property
//! fails; a panic inside the code under test is a failure too (the fuzzer reports it, and the
//! stable replay runs each input under `catch_unwind`). The targets:
//!
//! | function | input | property |
//! | --- | --- | --- |
//! | [`record_decode`] | any bytes as a spool stream | byte accounting balances; split and whole feeds agree; every record re-encodes and decodes to itself |
//! | [`format_all`] | a spool record body of the newest version (`docs/record-format.md`): an [`Event`] | every format (and syslog around each payload) renders within its bound and passes [`formats::check_event`], with default options and with the event's own text as vendor, product, label and HEC metadata |
//! | [`ingest_decode`] | any bytes as one ingest line | an accepted line re-encodes within `MAX_LINE` to the same message; every answer is one parseable JSON line; a refusal says what was wrong |
//! | [`config_parse`] | any UTF-8 as `icsfwd.toml` | an invalid file lists a problem; no secret from the environment shows in a problem or in `Debug` |
//!
//! ```
//! use icsfwd_core::alert::{Alert, Event};
//!
//! let event = Event::from(Alert::example(1_557_059_334_123));
//! let mut body = [0u8; icsfwd_core::record::MAX_BODY];
//! let n = icsfwd_core::record::encode_body(&event, &mut body).unwrap();
//! icsfwd_tests::fuzz::format_all(&body[..n]).unwrap();
//! icsfwd_tests::fuzz::record_decode(b"not a record").unwrap();
//! ```

use std::path::PathBuf;

use icsfwd::config::{Config, Origin};
use icsfwd::ingest::schema::{self, Answer};
use icsfwd_core::alert::{Event, fill};
use icsfwd_core::format;
use icsfwd_core::record::{self, Decoder, MAX_FRAME, RecordView};

use crate::formats;

/// One target's body: `Err` names the property that failed.
pub type Body = fn(&[u8]) -> Result<(), String>;

/// The fuzz targets by name, as `fuzz/Cargo.toml` and `fuzz/corpus/<name>/` name them.
pub const TARGETS: [(&str, Body); 4] = [
    ("record_decode", record_decode),
    ("format_all", format_all),
    ("ingest_decode", ingest_decode),
    ("config_parse", config_parse),
];

/// `Err(message)` unless `condition`.
fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message()) }
}

/// Record decoding: see the module table.
pub fn record_decode(data: &[u8]) -> Result<(), String> {
    // The input as a stream, fed in two reads split at a point chosen by the input.
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (first, second) = data.split_at(split);
    let mut decoder = Decoder::new();
    let mut outcomes = Vec::new();
    outcomes.extend(decoder.feed(first));
    outcomes.extend(decoder.feed(second));
    let torn = decoder.finish();
    let stats = *decoder.stats();
    ensure(
        stats.record_bytes + stats.bytes_skipped + stats.torn_bytes == data.len() as u64,
        || {
            format!(
                "byte accounting {stats:?} does not add up to {}",
                data.len()
            )
        },
    )?;
    ensure(
        torn.map_or(0, |t| t.bytes as u64) == stats.torn_bytes,
        || "torn tail and torn_bytes differ".into(),
    )?;
    let mut whole = Decoder::new();
    let again: Vec<_> = whole.feed(data).collect();
    ensure(again == outcomes, || {
        "feeding at once differs from feeding in two".into()
    })?;
    let mut frame = vec![0u8; MAX_FRAME];
    for record in outcomes.iter().filter_map(|o| o.as_ref().ok()) {
        let n = record::encode(record, &mut frame)
            .map_err(|e| format!("a decoded record does not re-encode: {e}"))?;
        ensure(
            record::decode_frame(&frame[..n]).as_ref() == Ok(record),
            || "a re-encoded record decodes differently".into(),
        )?;
    }
    for piece in data.split_inclusive(|&b| b == 0) {
        let _ = record::decode_frame(piece);
    }
    if let Ok(view) = RecordView::new_checked(data) {
        ensure(view.as_bytes() == data, || {
            "a checked view changed its bytes".into()
        })?;
        let _ = view.event();
    }
    Ok(())
}

/// Options whose labels are the event's own (possibly hostile) text, cut to capacity.
pub fn hostile_options(event: &Event) -> format::Options {
    let mut options = format::Options::default();
    let title = event.title();
    let name = event.sensor().name.as_str();
    fill(&mut options.cef.vendor, title);
    fill(&mut options.cef.product, name);
    fill(&mut options.leef.vendor, title);
    fill(&mut options.leef.product, name);
    fill(&mut options.text.label, title);
    let mut metadata = heapless::String::new();
    fill(&mut metadata, title);
    options.hec.host = Some(metadata.clone());
    options.hec.sourcetype = Some(metadata.clone());
    options.hec.index = Some(metadata.clone());
    options.hec.source = metadata;
    options
}

/// Every output format: see the module table.
pub fn format_all(data: &[u8]) -> Result<(), String> {
    // The record body is the spool's own encoding of an event, so every decodable input is an
    // event the appliance could hand to a formatter.
    let Ok(event) = record::decode_body(record::VERSION, data) else {
        return Ok(());
    };
    formats::check_event(&event, &format::Options::default())?;
    formats::check_event(&event, &hostile_options(&event))
        .map_err(|e| format!("with hostile options: {e}"))
}

/// The receipt time passed to the ingest decoder (used when a line carries no time).
const RECEIVED_MS: u64 = 1_700_000_000_000;

/// Ingest lines: see the module table.
pub fn ingest_decode(data: &[u8]) -> Result<(), String> {
    match schema::decode_line(data, RECEIVED_MS) {
        Ok(decoded) => {
            let line = schema::encode_message(&decoded.message);
            ensure(line.len() <= schema::MAX_LINE, || {
                format!("an accepted message re-encodes to {} bytes", line.len())
            })?;
            let again = schema::decode_line(line.as_bytes(), RECEIVED_MS)
                .map_err(|r| format!("a re-encoded message is refused: {}", r.error))?;
            ensure(again.message == decoded.message, || {
                format!("re-encoding changed the message: {line}")
            })?;
            ensure(again.truncated.is_empty(), || "cut twice".into())?;
            let answer = Answer::accepted(decoded.message.id(), &decoded).to_line();
            ensure(
                Answer::parse(&answer).map(|a| a.to_line()).ok().as_ref() == Some(&answer),
                || format!("the answer does not round-trip: {answer}"),
            )
        }
        Err(refusal) => {
            ensure(!refusal.error.is_empty(), || {
                "a refusal without error".into()
            })?;
            let answer = Answer::refused(&refusal).to_line();
            ensure(!answer.contains('\n'), || "an answer of two lines".into())?;
            ensure(Answer::parse(&answer).is_ok(), || {
                format!("the answer does not parse: {answer}")
            })
        }
    }
}

/// What every `*_env` variable holds in [`config_parse`]; it must never be echoed.
pub const ENV_SECRET: &str = "fuzz-env-secret-4f1d";

/// Configuration files: see the module table.
pub fn config_parse(data: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let origin = Origin {
        path: PathBuf::from("fuzz.toml"),
        mode: 0o600,
    };
    let env = |_: &str| Some(ENV_SECRET.to_owned());
    match Config::parse(text, &origin, &env) {
        Ok(config) => {
            let _ = config.warnings();
            ensure(!format!("{config:?}").contains(ENV_SECRET), || {
                "a secret in the config's Debug".into()
            })
        }
        Err(problems) => {
            ensure(!problems.is_empty(), || "invalid without a problem".into())?;
            let shown = problems.to_string();
            ensure(!shown.contains(ENV_SECRET), || {
                format!("a secret leaked into: {shown}")
            })
        }
    }
}
