//! The cases the firmware runs, and how one is judged.
//!
//! A [`Case`] names what it checks, the exact bytes it must produce, and a function that
//! renders into a [`Checker`] using the shared [`Bench`]. [`run_case`] runs one and returns
//! an [`Outcome`]: it passes only when the output equals the expected bytes and the length the
//! renderer reported equals the bytes it wrote.
//!
//! Expected bytes are either literal strings taken from the core's specs and doc examples, or
//! committed files: `vectors/*.postcard` (regenerate on the host with
//! `UPDATE_VECTORS=1 cargo test --lib --target <host>`) and, for the wire formats, the host
//! golden files themselves through `include_bytes!("../../core/tests/golden/<name>")`, so the
//! image proves byte-identical output to the host tests.
//!
//! Adding a case is one entry in [`CASES`]:
//!
//! ```text
//! Case {
//!     name: "text.sample",
//!     expected: include_bytes!("../../core/tests/golden/sample.text"),
//!     run: |bench, out| {
//!         let event = bench.load(Fixture::Sample);
//!         format::text::write(event, &format::text::Options::default(), out)
//!             .map_err(Failure::Format)
//!     },
//! },
//! ```
//!
//! Guarantees: no function here panics or allocates; a failing case is an [`Outcome`], never
//! a panic.
//!
//! ```
//! use icsfwd_firmware::bench::Bench;
//! use icsfwd_firmware::cases::{run_case, Case, Failure, Outcome};
//! use icsfwd_core::format::Out;
//!
//! let case = Case {
//!     name: "answer",
//!     expected: b"42",
//!     run: |_, out| {
//!         let mut w = Out::new(out);
//!         w.fmt(format_args!("{}", 6 * 7)).map_err(Failure::Format)?;
//!         w.finish().map_err(Failure::Format)
//!     },
//! };
//! let mut bench = Box::new(Bench::new());
//! assert_eq!(run_case(&case, &mut bench), Outcome::Pass { len: 2 });
//! ```

use core::fmt;

use icsfwd_core::alert::{Event, Notification, NotificationKind};
use icsfwd_core::destination::{DestinationId, DestinationSet};
use icsfwd_core::format::{self, Out};
use icsfwd_core::time::Civil;

use crate::bench::{Bench, Fixture};
use crate::check::{Checker, Verdict};
use crate::fixtures::SAMPLE_TIME_MS;

/// One check the firmware runs.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// What is checked, printed in the log (`ok <name> <n> bytes`).
    pub name: &'static str,
    /// The exact bytes the case must write.
    pub expected: &'static [u8],
    /// Renders into the checker and returns the length the renderer reports.
    pub run: fn(&mut Bench, &mut Checker) -> Result<usize, Failure>,
}

/// Why a case could not produce its output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A formatter stopped with an error.
    Format(format::Error),
    /// Encoding into the scratch buffer failed.
    Encode(postcard::Error),
    /// Decoding failed.
    Decode(postcard::Error),
    /// A decoded value differs from the one encoded.
    RoundTrip,
    /// A value the case needs could not be built.
    Setup(&'static str),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Format(e) => write!(f, "format error: {e}"),
            Failure::Encode(e) => write!(f, "encode error: {e}"),
            Failure::Decode(e) => write!(f, "decode error: {e}"),
            Failure::RoundTrip => f.write_str("decoded value differs from the encoded one"),
            Failure::Setup(what) => write!(f, "setup failed: {what}"),
        }
    }
}

impl core::error::Error for Failure {}

/// The result of [`run_case`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The output was exactly the expected bytes.
    Pass {
        /// Its length.
        len: usize,
    },
    /// The output differs from the expected bytes; see [`Verdict::Differs`].
    Mismatch {
        /// The offset of the first differing byte.
        at: usize,
        /// The output's byte there (`None`: the output ended).
        got: Option<u8>,
        /// The expected byte there (`None`: the output is too long).
        want: Option<u8>,
        /// The output's length.
        len: usize,
        /// The expected length.
        expected_len: usize,
    },
    /// The output was right but the renderer reported a different length.
    LengthDisagrees {
        /// The length the renderer returned.
        reported: usize,
        /// The bytes it wrote.
        written: usize,
    },
    /// The renderer failed.
    Failed(Failure),
}

impl Outcome {
    /// Whether the case passed.
    pub const fn passed(&self) -> bool {
        matches!(self, Outcome::Pass { .. })
    }
}

/// Runs `case` on `bench` and judges its output.
pub fn run_case(case: &Case, bench: &mut Bench) -> Outcome {
    let mut checker = Checker::new(case.expected);
    let reported = match (case.run)(bench, &mut checker) {
        Ok(n) => n,
        Err(e) => return Outcome::Failed(e),
    };
    match checker.verdict() {
        Verdict::Differs { at, got, want, len } => Outcome::Mismatch {
            at,
            got,
            want,
            len,
            expected_len: case.expected.len(),
        },
        Verdict::Match { len } if len != reported => Outcome::LengthDisagrees {
            reported,
            written: len,
        },
        Verdict::Match { len } => Outcome::Pass { len },
    }
}

/// Tallies of a run of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that did not.
    pub failed: usize,
}

/// Runs every case of `cases` in order, handing each outcome to `report`.
pub fn run_all(
    cases: &[Case],
    bench: &mut Bench,
    mut report: impl FnMut(&Case, &Outcome),
) -> Summary {
    let mut summary = Summary::default();
    for case in cases {
        let outcome = run_case(case, bench);
        if outcome.passed() {
            summary.passed += 1;
        } else {
            summary.failed += 1;
        }
        report(case, &outcome);
    }
    summary
}

/// Renders `value` through `Display` into the checker, as the formatters render fields.
fn display(out: &mut Checker, value: &dyn fmt::Display) -> Result<usize, Failure> {
    let mut w = Out::new(out);
    w.fmt(format_args!("{value}")).map_err(Failure::Format)?;
    w.finish().map_err(Failure::Format)
}

fn rfc3339(out: &mut Checker, ms: u64) -> Result<usize, Failure> {
    display(out, &Civil::from_epoch_ms(ms).rfc3339())
}

fn legacy(out: &mut Checker, ms: u64) -> Result<usize, Failure> {
    display(out, &Civil::from_epoch_ms(ms).legacy())
}

fn event_id(bench: &mut Bench, out: &mut Checker, fixture: Fixture) -> Result<usize, Failure> {
    let event = bench.load(fixture);
    display(out, &event.event_id())
}

fn destination(index: u8) -> Result<DestinationId, Failure> {
    DestinationId::new(index).ok_or(Failure::Setup("destination id out of range"))
}

/// Exercises every `DestinationSet` operation and renders the result as
/// `ids=#0,#1,#2,#31 len=4 bits=0x80000007 id32=none`.
fn destination_set_ops(out: &mut Checker) -> Result<usize, Failure> {
    let set = DestinationSet::EMPTY
        .with(destination(0)?)
        .with(destination(3)?)
        .with(destination(31)?)
        .without(destination(3)?)
        .union(DestinationSet::from_bits(0b110));
    let rebuilt: DestinationSet = set.iter().collect();
    if rebuilt != set || !set.contains(destination(31)?) || set.contains(destination(3)?) {
        return Err(Failure::Setup("destination set operations disagree"));
    }
    let mut w = Out::new(out);
    w.str("ids=").map_err(Failure::Format)?;
    for (i, id) in set.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        w.fmt(format_args!("{sep}{id}")).map_err(Failure::Format)?;
    }
    let beyond = if DestinationId::new(32).is_some() {
        "some"
    } else {
        "none"
    };
    w.fmt(format_args!(
        " len={} bits={:#010x} id32={beyond}",
        set.len(),
        set.bits()
    ))
    .map_err(Failure::Format)?;
    w.finish().map_err(Failure::Format)
}

/// Encodes the fixture with postcard into the scratch buffer and checks the bytes: the target
/// must encode exactly as the host did.
fn postcard_encode(
    bench: &mut Bench,
    out: &mut Checker,
    fixture: Fixture,
) -> Result<usize, Failure> {
    bench.load(fixture);
    let Bench { event, scratch } = bench;
    let encoded = postcard::to_slice(&*event, scratch).map_err(Failure::Encode)?;
    out.feed(encoded);
    Ok(encoded.len())
}

/// [`postcard_encode`] of a notification, then decodes the bytes and compares the decoded
/// notification with the original.
///
/// The `Event` enum is decoded by hand here (postcard's spec: a varint variant index, `1` for
/// `Notification`, then the variant's body) and only notifications are decoded on the target:
/// `postcard::from_bytes::<Event>` through the serde-derived `Deserialize` reserves an 11 KiB
/// stack frame on a Cortex-M4 (each 2 KiB string is built in a local, then moved into the
/// struct, the `Result` and the enum), more than the image's 16 KiB RAM budget leaves beside
/// its statics. The host test `postcard_round_trip_restores_every_fixture` proves the full
/// round trip; on the target that belongs to the record module's decoder, which must fill an
/// existing event in place.
fn postcard_round_trip(
    bench: &mut Bench,
    out: &mut Checker,
    kind: NotificationKind,
) -> Result<usize, Failure> {
    let len = postcard_encode(bench, out, Fixture::Notification(kind))?;
    let Bench { event, scratch } = bench;
    let Event::Notification(original) = event else {
        return Err(Failure::Setup("the fixture is not a notification"));
    };
    let body = match scratch.get(..len) {
        Some([NOTIFICATION_VARIANT, body @ ..]) => body,
        _ => return Err(Failure::RoundTrip),
    };
    if !decodes_to(body, original)? {
        return Err(Failure::RoundTrip);
    }
    Ok(len)
}

/// postcard's varint encoding of `Event::Notification`'s variant index.
const NOTIFICATION_VARIANT: u8 = 1;

/// Kept out of line so the decoded notification's frame is not merged into the caller's.
#[inline(never)]
fn decodes_to(body: &[u8], original: &Notification) -> Result<bool, Failure> {
    let decoded: Notification = postcard::from_bytes(body).map_err(Failure::Decode)?;
    Ok(decoded == *original)
}

/// Every case the firmware runs, in order.
pub static CASES: &[Case] = &[
    // time: facts from the calendar, as in the core's time tests and doc examples.
    Case {
        name: "time.rfc3339.epoch",
        expected: b"1970-01-01T00:00:00.000Z",
        run: |_, out| rfc3339(out, 0),
    },
    Case {
        name: "time.rfc3339.sample",
        expected: b"2019-05-05T12:28:54.123Z",
        run: |_, out| rfc3339(out, SAMPLE_TIME_MS),
    },
    Case {
        name: "time.rfc3339.leap_day",
        expected: b"2024-02-29T23:59:59.999Z",
        run: |_, out| rfc3339(out, 1_709_251_199_999),
    },
    Case {
        name: "time.legacy.sample",
        expected: b"May 05 2019 12:28:54.123",
        run: |_, out| legacy(out, SAMPLE_TIME_MS),
    },
    Case {
        name: "time.legacy.2100",
        expected: b"Jan 01 2100 00:00:00.000",
        run: |_, out| legacy(out, 4_102_444_800_000),
    },
    // event ids: `<sensor>-<id>`, the dedupe key Splunk searches use.
    Case {
        name: "event_id.sample",
        expected: b"sensor-plant-a-1042",
        run: |bench, out| event_id(bench, out, Fixture::Sample),
    },
    Case {
        name: "event_id.hostile",
        expected: b"sensor \"evil\"|=\\]\n-18446744073709551615",
        run: |bench, out| event_id(bench, out, Fixture::Hostile),
    },
    Case {
        name: "event_id.sensor_offline",
        expected: b"sensor-plant-a-77",
        run: |bench, out| {
            event_id(
                bench,
                out,
                Fixture::Notification(NotificationKind::SensorOffline),
            )
        },
    },
    // destinations: every set operation.
    Case {
        name: "destination.set_ops",
        expected: b"ids=#0,#1,#2,#31 len=4 bits=0x80000007 id32=none",
        run: |_, out| destination_set_ops(out),
    },
    // postcard: the target encodes exactly as the host did, and decodes a notification back
    // (see `postcard_round_trip` on why not an alert).
    Case {
        name: "postcard.sample",
        expected: include_bytes!("../vectors/sample.postcard"),
        run: |bench, out| postcard_encode(bench, out, Fixture::Sample),
    },
    Case {
        name: "postcard.hostile",
        expected: include_bytes!("../vectors/hostile.postcard"),
        run: |bench, out| postcard_encode(bench, out, Fixture::Hostile),
    },
    Case {
        name: "postcard.max_ascii",
        expected: include_bytes!("../vectors/max_ascii.postcard"),
        run: |bench, out| postcard_encode(bench, out, Fixture::Max('x')),
    },
    Case {
        name: "postcard.round_trip.sensor_offline",
        expected: include_bytes!("../vectors/sensor_offline.postcard"),
        run: |bench, out| postcard_round_trip(bench, out, NotificationKind::SensorOffline),
    },
    // Still to come, one entry each (see the module docs for the pattern), once the modules
    // land in core: rule.route of every fixture through a sample rule set; text, hec, cef,
    // leef and syslog of every golden event against core/tests/golden/; record encode of
    // every fixture against the record vectors, and record decode back to the event.
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::path::Path;

    /// The vectors the postcard cases compare with, and how each is produced.
    const VECTORS: &[(&str, Fixture)] = &[
        ("sample.postcard", Fixture::Sample),
        ("hostile.postcard", Fixture::Hostile),
        ("max_ascii.postcard", Fixture::Max('x')),
        (
            "sensor_offline.postcard",
            Fixture::Notification(NotificationKind::SensorOffline),
        ),
    ];

    #[test]
    fn postcard_vectors_are_the_host_encoding_of_the_fixtures() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
        let mut bench = Box::new(Bench::new());
        for &(name, fixture) in VECTORS {
            let event = bench.load(fixture).clone();
            let mut buf = std::vec![0u8; 8 * 1024];
            let encoded = postcard::to_slice(&event, &mut buf).unwrap();
            let path = dir.join(name);
            if std::env::var_os("UPDATE_VECTORS").is_some() {
                std::fs::write(&path, &encoded).unwrap();
            } else {
                let committed = std::fs::read(&path).unwrap();
                assert_eq!(
                    committed, encoded,
                    "{} is stale; rerun with UPDATE_VECTORS=1",
                    name
                );
            }
        }
    }

    #[test]
    fn postcard_round_trip_restores_every_fixture() {
        let mut bench = Box::new(Bench::new());
        for &(name, fixture) in VECTORS {
            let event = bench.load(fixture).clone();
            let mut buf = std::vec![0u8; 8 * 1024];
            let encoded = postcard::to_slice(&event, &mut buf).unwrap();
            let decoded: Event = postcard::from_bytes(encoded).unwrap();
            assert_eq!(decoded, event, "{name}");
        }
    }

    #[test]
    fn every_case_passes_on_the_host() {
        let mut bench = Box::new(Bench::new());
        let mut failures = std::vec::Vec::new();
        let summary = run_all(CASES, &mut bench, |case, outcome| {
            if !outcome.passed() {
                failures.push((case.name, outcome.clone()));
            }
        });
        assert_eq!(failures, [], "failing cases");
        assert_eq!(
            summary,
            Summary {
                passed: CASES.len(),
                failed: 0
            }
        );
    }

    #[test]
    fn a_corrupted_expectation_fails_at_the_corrupted_byte() {
        let case = Case {
            name: "corrupt",
            expected: b"2019-05-05T12:28:54.124Z",
            run: |_, out| rfc3339(out, SAMPLE_TIME_MS),
        };
        let mut bench = Box::new(Bench::new());
        assert_eq!(
            run_case(&case, &mut bench),
            Outcome::Mismatch {
                at: 22,
                got: Some(b'3'),
                want: Some(b'4'),
                len: 24,
                expected_len: 24
            }
        );
    }

    #[test]
    fn a_renderer_that_misreports_its_length_fails() {
        let case = Case {
            name: "liar",
            expected: b"ab",
            run: |_, out| {
                out.feed(b"ab");
                Ok(3)
            },
        };
        let mut bench = Box::new(Bench::new());
        assert_eq!(
            run_case(&case, &mut bench),
            Outcome::LengthDisagrees {
                reported: 3,
                written: 2
            }
        );
    }

    #[test]
    fn a_failing_renderer_is_reported_not_judged() {
        let case = Case {
            name: "broken",
            expected: b"",
            run: |_, _| Err(Failure::Setup("nothing to render")),
        };
        let mut bench = Box::new(Bench::new());
        assert_eq!(
            run_case(&case, &mut bench),
            Outcome::Failed(Failure::Setup("nothing to render"))
        );
    }

    #[test]
    fn case_names_are_unique() {
        for (i, a) in CASES.iter().enumerate() {
            for b in CASES.iter().skip(i + 1) {
                assert_ne!(a.name, b.name);
            }
        }
    }
}
