//! The cases the firmware runs, and how one is judged.
//!
//! A [`Case`] names what it checks, the exact bytes it must produce, and a function that
//! renders into a [`Checker`] using the shared [`Bench`]. [`run_case`] runs one and returns
//! an [`Outcome`]: it passes only when the output equals the expected bytes and the length the
//! renderer reported equals the bytes it wrote.
//!
//! Expected bytes are either literal strings taken from the core's specs and doc examples, or
//! committed files: `vectors/record_*.frame` (regenerate on the host with
//! `UPDATE_VECTORS=1 cargo test --lib --target <host>`) and, for the wire formats, the host
//! golden files themselves through `include_bytes!("../../core/tests/golden/<name>")`, so the
//! image proves byte-identical output to the host tests.
//!
//! Adding a case is one entry in [`CASES`]:
//!
//! ```text
//! Case {
//!     name: "text.sample",
//!     expected: Expected::Bytes(include_bytes!("../../core/tests/golden/sample.text")),
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
//! use icsfwd_firmware::check::Expected;
//! use icsfwd_core::format::Out;
//!
//! let case = Case {
//!     name: "answer",
//!     expected: Expected::Bytes(b"42"),
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

use core::net::{IpAddr, Ipv4Addr};

use icsfwd_core::alert::{Engine, Event, NotificationKind, Severity};
use icsfwd_core::destination::{DestinationId, DestinationSet};
use icsfwd_core::format::{self, Out, syslog};
use icsfwd_core::record;
use icsfwd_core::rule::{self, Exclusion, Rule, Subnet};
use icsfwd_core::time::Civil;

use crate::bench::{Bench, FirmwareRules, Fixture, load_into};
use crate::check::{Checker, Expected, Verdict};
use crate::fixtures::SAMPLE_TIME_MS;
use crate::line::hex32;

/// One check the firmware runs.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// What is checked, printed in the log (`ok <name> <n> bytes`).
    pub name: &'static str,
    /// What the case must write: exact bytes or, for long golden files, their digest.
    pub expected: Expected,
    /// Renders into the checker and returns the length the renderer reports.
    pub run: fn(&mut Bench, &mut Checker) -> Result<usize, Failure>,
}

/// Why a case could not produce its output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A formatter stopped with an error.
    Format(format::Error),
    /// `record::encode` failed.
    RecordEncode(record::EncodeError),
    /// The record decoder skipped the frame.
    RecordDecode(record::DecodeError),
    /// A decoded value differs from the one encoded.
    RoundTrip,
    /// A rule or exclusion was refused.
    Rule(rule::Error),
    /// A value the case needs could not be built.
    Setup(&'static str),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Format(e) => write!(f, "format error: {e}"),
            Failure::RecordEncode(e) => write!(f, "record encode error: {e}"),
            Failure::RecordDecode(e) => write!(f, "record decode error: {e}"),
            Failure::RoundTrip => f.write_str("decoded value differs from the encoded one"),
            Failure::Rule(e) => write!(f, "rule refused: {e}"),
            Failure::Setup(what) => write!(f, "setup failed: {what}"),
        }
    }
}

impl Failure {
    /// What failed, in a few words: what the image prints (its `Display`, with the error's
    /// details, would link `core::fmt`'s integer and `Debug` formatting; the host test of the
    /// same case prints those).
    pub const fn what(&self) -> &'static str {
        match self {
            Failure::Format(format::Error::BufferFull) => "format error: output buffer full",
            Failure::Format(_) => "format error: output failed",
            Failure::RecordEncode(_) => "record encode error",
            Failure::RecordDecode(_) => "record decode error",
            Failure::RoundTrip => "decoded value differs from the encoded one",
            Failure::Rule(_) => "rule refused",
            Failure::Setup(what) => what,
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
    /// The output's length or CRC-32C differs from an [`Expected::Digest`].
    DigestMismatch {
        /// The output's length.
        len: usize,
        /// The output's CRC-32C.
        crc32c: u32,
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
    let mut checker = Checker::expecting(case.expected);
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
        Verdict::DigestDiffers { len, crc32c } => Outcome::DigestMismatch {
            len,
            crc32c,
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
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
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

#[inline(never)] // one copy, shared by every case that uses it (flash budget)
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
        w.str(sep).map_err(Failure::Format)?;
        w.fmt(format_args!("{id}")).map_err(Failure::Format)?;
    }
    let beyond = if DestinationId::new(32).is_some() {
        "some"
    } else {
        "none"
    };
    w.str(" len=").map_err(Failure::Format)?;
    w.decimal(set.len() as u64).map_err(Failure::Format)?;
    w.str(" bits=").map_err(Failure::Format)?;
    w.bytes(&hex32(set.bits())).map_err(Failure::Format)?;
    w.str(" id32=").map_err(Failure::Format)?;
    w.str(beyond).map_err(Failure::Format)?;
    w.finish().map_err(Failure::Format)
}

/// One spool record the record cases write and read: a fixture with a sequence number and a
/// destination set. `vectors/record_<name>.frame` is its frame as the host encodes it.
#[derive(Debug, Clone, Copy)]
pub struct RecordVector {
    /// The vector's name.
    pub name: &'static str,
    /// The event.
    pub fixture: Fixture,
    /// The sequence number.
    pub seq: u64,
    /// The destination set's bits.
    pub destinations: u32,
}

/// The record vectors, with unlike sequence numbers and destination sets so that a header
/// field written to the wrong place shows.
pub const RECORDS: [RecordVector; 4] = [
    RecordVector {
        name: "sample",
        fixture: Fixture::Sample,
        seq: 1,
        destinations: 0b101,
    },
    RecordVector {
        name: "hostile",
        fixture: Fixture::Hostile,
        seq: u64::MAX,
        destinations: 0x8000_0001,
    },
    RecordVector {
        name: "sensor_offline",
        fixture: Fixture::Notification(NotificationKind::SensorOffline),
        seq: 0x0102_0304_0506_0708,
        destinations: 0b10,
    },
    RecordVector {
        name: "max_ascii",
        fixture: Fixture::Max('x'),
        seq: 3,
        destinations: u32::MAX,
    },
];

/// Loads `vector`'s record into the bench's record slot.
fn load_record(bench: &mut Bench, vector: &RecordVector) {
    bench.load(vector.fixture);
    bench.record.seq = vector.seq;
    bench.record.destinations = DestinationSet::from_bits(vector.destinations);
}

/// Writes `RECORDS[i]` with `record::encode` into the scratch buffer and checks the frame:
/// the target must frame, checksum and stuff exactly as the host did.
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn record_encode(bench: &mut Bench, out: &mut Checker, i: usize) -> Result<usize, Failure> {
    let vector = RECORDS
        .get(i)
        .ok_or(Failure::Setup("no such record vector"))?;
    load_record(bench, vector);
    let (record, scratch) = bench.scratch().ok_or(Failure::Setup("no scratch buffer"))?;
    let n = record::encode(record, scratch).map_err(Failure::RecordEncode)?;
    out.feed(
        scratch
            .get(..n)
            .ok_or(Failure::Setup("frame longer than scratch"))?,
    );
    Ok(n)
}

/// The firmware's forwarding rules, a small deployment in the shape the appliance configures:
///
/// - `critical-to-soc`: Critical alerts of any engine and protocol → destination 0;
/// - `plc-commands`: S7 or Modbus/TCP alerts of the Operational or Policy Violation engines,
///   any severity → destination 1;
/// - `malware`: alerts of the Malware engine → destination 2;
/// - `notifications`: system notifications only → destination 3;
/// - exclusion `lab`: nothing from or to 10.99.0.0/16 is forwarded.
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn build_rules(rules: &mut FirmwareRules) -> Result<(), Failure> {
    // One builder chain run once per entry of `RULES`: the builders' code is linked once,
    // not once per rule (2 KiB of flash).
    for spec in &RULES {
        let mut rule = Rule::new(spec.name)
            .map_err(Failure::Rule)?
            .with_min_severity(spec.min_severity)
            .forwarding_alerts(spec.alerts)
            .forwarding_notifications(spec.notifications)
            .with_action(destination(spec.action)?);
        if !spec.protocols.is_empty() {
            rule = rule.with_protocols(spec.protocols).map_err(Failure::Rule)?;
        }
        if !spec.engines.is_empty() {
            rule = rule
                .with_engines(spec.engines.iter().copied())
                .map_err(Failure::Rule)?;
        }
        rules.push_rule(rule).map_err(Failure::Rule)?;
    }
    let lab = Subnet::new(IpAddr::V4(Ipv4Addr::new(10, 99, 0, 0)), 16)
        .map_err(|e| Failure::Rule(rule::Error::Subnet(e)))?;
    rules
        .push_exclusion(
            Exclusion::new("lab")
                .map_err(Failure::Rule)?
                .with_subnet(lab)
                .map_err(Failure::Rule)?,
        )
        .map_err(Failure::Rule)
}

/// One rule of [`build_rules`], as the arguments of its builder calls (empty lists: the
/// builder is not called, so the rule keeps its default of any protocol or engine).
struct RuleSpec {
    name: &'static str,
    min_severity: Severity,
    protocols: &'static [&'static str],
    engines: &'static [Engine],
    alerts: bool,
    notifications: bool,
    action: u8,
}

/// The rules of the routing cases: a severity tier, PLC protocols × engines, malware, and
/// notifications (the defaults are the console's: every severity, alerts only).
const RULES: [RuleSpec; 4] = [
    RuleSpec {
        name: "critical-to-soc",
        min_severity: Severity::Critical,
        protocols: &[],
        engines: &[],
        alerts: true,
        notifications: false,
        action: 0,
    },
    RuleSpec {
        name: "plc-commands",
        min_severity: Severity::Warning,
        protocols: &["S7", "Modbus/TCP"],
        engines: &[Engine::Operational, Engine::PolicyViolation],
        alerts: true,
        notifications: false,
        action: 1,
    },
    RuleSpec {
        name: "malware",
        min_severity: Severity::Warning,
        protocols: &[],
        engines: &[Engine::Malware],
        alerts: true,
        notifications: false,
        action: 2,
    },
    RuleSpec {
        name: "notifications",
        min_severity: Severity::Warning,
        protocols: &[],
        engines: &[],
        alerts: false,
        notifications: true,
        action: 3,
    },
];

struct Routed {
    name: &'static str,
    fixture: Fixture,
    change: fn(&mut Event),
}

/// The routing batch. The expected destination bits of each, by [`build_rules`]:
/// `sample` (Operational, Major, S7) → plc-commands → 0x2; `hostile` (Protocol Violation,
/// Critical, an odd protocol) → critical-to-soc → 0x1; `sensor_offline` → notifications → 0x8;
/// `max` (Policy Violation, Warning, protocol `xxx…`) → nothing → 0x0; `critical_malware`
/// (the sample as a Critical Malware alert) → critical-to-soc and malware → 0x5;
/// `lab_excluded` (the same from 10.99.3.4) → suppressed → 0x0; `modbus_lower_case`
/// (a Warning Policy Violation over `modbus/tcp`) → plc-commands, names match ignoring case
/// → 0x2.
const ROUTED: [Routed; 7] = [
    Routed {
        name: "sample",
        fixture: Fixture::Sample,
        change: |_| {},
    },
    Routed {
        name: "hostile",
        fixture: Fixture::Hostile,
        change: |_| {},
    },
    Routed {
        name: "sensor_offline",
        fixture: Fixture::Notification(NotificationKind::SensorOffline),
        change: |_| {},
    },
    Routed {
        name: "max",
        fixture: Fixture::Max('x'),
        change: |_| {},
    },
    Routed {
        name: "critical_malware",
        fixture: Fixture::Sample,
        change: critical_malware,
    },
    Routed {
        name: "lab_excluded",
        fixture: Fixture::Sample,
        change: from_the_lab,
    },
    Routed {
        name: "modbus_lower_case",
        fixture: Fixture::Sample,
        change: modbus_lower_case,
    },
];

fn critical_malware(event: &mut Event) {
    if let Event::Alert(alert) = event {
        alert.severity = Severity::Critical;
        alert.engine = Engine::Malware;
    }
}

fn from_the_lab(event: &mut Event) {
    critical_malware(event);
    if let Event::Alert(alert) = event {
        alert.source.ip = IpAddr::V4(Ipv4Addr::new(10, 99, 3, 4));
    }
}

fn modbus_lower_case(event: &mut Event) {
    if let Event::Alert(alert) = event {
        alert.severity = Severity::Warning;
        alert.engine = Engine::PolicyViolation;
        alert.set_protocol("modbus/tcp");
    }
}

/// Builds the rule set, routes the batch, and renders `<name>=<destination bits>` for each.
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn route_batch(bench: &mut Bench, out: &mut Checker) -> Result<usize, Failure> {
    let (record, rules) = bench.rules().ok_or(Failure::Setup("no rule set"))?;
    build_rules(rules)?;
    let mut w = Out::new(out);
    for (i, routed) in ROUTED.iter().enumerate() {
        load_into(&mut record.event, routed.fixture);
        (routed.change)(&mut record.event);
        let destinations = rules.route(&record.event, SAMPLE_TIME_MS);
        let sep = if i == 0 { "" } else { " " };
        w.str(sep).map_err(Failure::Format)?;
        w.str(routed.name).map_err(Failure::Format)?;
        w.str("=").map_err(Failure::Format)?;
        w.bytes(&hex32(destinations.bits()))
            .map_err(Failure::Format)?;
    }
    w.finish().map_err(Failure::Format)
}

/// Builds the rule set and renders `explain` for the `i`-th event of the routing batch.
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn explain(bench: &mut Bench, out: &mut Checker, i: usize) -> Result<usize, Failure> {
    let routed = ROUTED
        .get(i)
        .ok_or(Failure::Setup("no such routed event"))?;
    let (record, rules) = bench.rules().ok_or(Failure::Setup("no rule set"))?;
    build_rules(rules)?;
    load_into(&mut record.event, routed.fixture);
    (routed.change)(&mut record.event);
    display(out, &rules.explain(&record.event, SAMPLE_TIME_MS))
}

/// Bytes fed to the decoder at a time: an odd size, so frames arrive cut mid-field.
const DECODE_CHUNK: usize = 61;

/// Feeds `frame` (a committed vector, which the matching encode case proves is the target's
/// own encoding) to a streaming `record::Decoder` in [`DECODE_CHUNK`]-byte pieces, decoding in
/// place into the work area's record, and fails unless exactly one record comes out, equal
/// to `RECORDS[i]`. Renders what was decoded:
/// `records=1 bytes=<frame> seq=<seq> destinations=<bits> event=<event id>`.
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn record_decode(
    bench: &mut Bench,
    out: &mut Checker,
    i: usize,
    frame: &'static [u8],
) -> Result<usize, Failure> {
    let vector = RECORDS
        .get(i)
        .ok_or(Failure::Setup("no such record vector"))?;
    load_record(bench, vector);
    let (original, decoder, decoded) = bench.decoding().ok_or(Failure::Setup("no decoder"))?;
    let mut rest = frame;
    while !rest.is_empty() {
        let (chunk, _) = rest.split_at(rest.len().min(DECODE_CHUNK));
        let (used, outcome) = decoder.push_into(chunk, decoded);
        rest = rest.get(used..).unwrap_or_default();
        match outcome {
            Some(Ok(())) if *decoded != *original => return Err(Failure::RoundTrip),
            Some(Err(e)) => return Err(Failure::RecordDecode(e)),
            _ => {}
        }
    }
    if decoder.finish().is_some() {
        return Err(Failure::Setup("the frame left a torn tail"));
    }
    let stats = decoder.stats();
    let mut w = Out::new(out);
    w.str("records=").map_err(Failure::Format)?;
    w.decimal(stats.records).map_err(Failure::Format)?;
    w.str(" bytes=").map_err(Failure::Format)?;
    w.decimal(stats.record_bytes).map_err(Failure::Format)?;
    w.str(" seq=").map_err(Failure::Format)?;
    w.decimal(decoded.seq).map_err(Failure::Format)?;
    w.str(" destinations=").map_err(Failure::Format)?;
    w.bytes(&hex32(decoded.destinations.bits()))
        .map_err(Failure::Format)?;
    w.str(" event=").map_err(Failure::Format)?;
    w.fmt(format_args!("{}", decoded.event.event_id()))
        .map_err(Failure::Format)?;
    w.finish().map_err(Failure::Format)
}

/// A format case: renders the fixture with one formatter and checks it against the host's
/// golden file of the same name, so the target proves byte-identical output.
macro_rules! golden_case {
    ($name:literal, $golden:literal, $fixture:expr, $render:expr) => {
        Case {
            name: $name,
            expected: Expected::Bytes(include_bytes!(concat!("../../core/tests/golden/", $golden))),
            run: |bench, out| $render(bench.load($fixture), out),
        }
    };
    // The same against the golden file's length and CRC-32C (see `Expected::Digest`), for
    // the long files the flash budget cannot hold.
    (digest $name:literal, $golden:literal, $fixture:expr, $render:expr) => {
        Case {
            name: $name,
            expected: Expected::digest(include_bytes!(concat!(
                "../../core/tests/golden/",
                $golden
            ))),
            run: |bench, out| $render(bench.load($fixture), out),
        }
    };
}

/// `format::text` with default options (`core/tests/format/text.rs`).
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn text(event: &Event, out: &mut Checker) -> Result<usize, Failure> {
    format::text::write(event, &format::text::Options::default(), out).map_err(Failure::Format)
}

/// `format::hec` with default options (`core/tests/format/hec.rs`).
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn hec(event: &Event, out: &mut Checker) -> Result<usize, Failure> {
    format::hec::write(event, &format::hec::Options::default(), out).map_err(Failure::Format)
}

/// `format::cef` with default options (`core/tests/format/cef.rs`).
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn cef(event: &Event, out: &mut Checker) -> Result<usize, Failure> {
    format::cef::write(event, &format::cef::Options::default(), out).map_err(Failure::Format)
}

/// `format::leef` with default options (`core/tests/format/leef.rs`).
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn leef(event: &Event, out: &mut Checker) -> Result<usize, Failure> {
    format::leef::write(event, &format::leef::Options::default(), out).map_err(Failure::Format)
}

/// `format::syslog` with default options: facility user, the default level map, a CEF
/// payload, no BOM (`golden_cases` in `core/tests/format/syslog.rs`).
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn syslog_cef(event: &Event, out: &mut Checker) -> Result<usize, Failure> {
    syslog::write(event, &syslog::Options::default(), out).map_err(Failure::Format)
}

/// `syslog_leef_hostile_bom`: facility local0, every message at level alert, a LEEF payload
/// after a BOM.
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn syslog_leef_bom(event: &Event, out: &mut Checker) -> Result<usize, Failure> {
    let options = syslog::Options {
        facility: syslog::Facility::LOCAL0,
        level: syslog::Level::Fixed(syslog::SeverityCode::ALERT),
        payload: syslog::Payload::Leef(format::leef::Options::default()),
        bom: true,
    };
    syslog::write(event, &options, out).map_err(Failure::Format)
}

/// `syslog_text_sensor_offline`: the defaults with a text payload.
#[inline(never)] // one copy, shared by every case that uses it (flash budget)
fn syslog_text(event: &Event, out: &mut Checker) -> Result<usize, Failure> {
    let options = syslog::Options {
        payload: syslog::Payload::Text(format::text::Options::default()),
        ..syslog::Options::default()
    };
    syslog::write(event, &options, out).map_err(Failure::Format)
}

/// Every case the firmware runs, in order.
///
/// Not here: `syslog::write_framed` (RFC 6587 octet counting). It renders into a `SliceWriter`,
/// which instantiates the whole syslog and payload path a second time, 3 KiB of flash
/// the 48 KiB budget has no room for; the framing is the decimal length and a space in front
/// of the message the `syslog.*` cases check, and the host tests check it byte for byte.
pub static CASES: &[Case] = &[
    // time: facts from the calendar, as in the core's time tests and doc examples.
    Case {
        name: "time.rfc3339.epoch",
        expected: Expected::Bytes(b"1970-01-01T00:00:00.000Z"),
        run: |_, out| rfc3339(out, 0),
    },
    Case {
        name: "time.rfc3339.sample",
        expected: Expected::Bytes(b"2019-05-05T12:28:54.123Z"),
        run: |_, out| rfc3339(out, SAMPLE_TIME_MS),
    },
    Case {
        name: "time.rfc3339.leap_day",
        expected: Expected::Bytes(b"2024-02-29T23:59:59.999Z"),
        run: |_, out| rfc3339(out, 1_709_251_199_999),
    },
    Case {
        name: "time.legacy.sample",
        expected: Expected::Bytes(b"May 05 2019 12:28:54.123"),
        run: |_, out| legacy(out, SAMPLE_TIME_MS),
    },
    Case {
        name: "time.legacy.2100",
        expected: Expected::Bytes(b"Jan 01 2100 00:00:00.000"),
        run: |_, out| legacy(out, 4_102_444_800_000),
    },
    // event ids: `<sensor>-<id>`, the dedupe key Splunk searches use.
    Case {
        name: "event_id.sample",
        expected: Expected::Bytes(b"sensor-plant-a-1042"),
        run: |bench, out| event_id(bench, out, Fixture::Sample),
    },
    Case {
        name: "event_id.hostile",
        expected: Expected::Bytes(b"sensor \"evil\"|=\\]\n-18446744073709551615"),
        run: |bench, out| event_id(bench, out, Fixture::Hostile),
    },
    Case {
        name: "event_id.sensor_offline",
        expected: Expected::Bytes(b"sensor-plant-a-77"),
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
        expected: Expected::Bytes(b"ids=#0,#1,#2,#31 len=4 bits=0x80000007 id32=none"),
        run: |_, out| destination_set_ops(out),
    },
    // rules: a rule set built on the target routes a batch to the destinations its rules
    // name (see `ROUTED` for why each), and explains a decision as the host does.
    Case {
        name: "rule.route_batch",
        expected: Expected::Bytes(
            b"sample=0x00000002 hostile=0x00000001 sensor_offline=0x00000008 max=0x00000000 \
              critical_malware=0x00000005 lab_excluded=0x00000000 modbus_lower_case=0x00000002",
        ),
        run: route_batch,
    },
    Case {
        name: "rule.explain.critical_malware",
        expected: Expected::Bytes(include_bytes!("../vectors/explain_critical_malware.txt")),
        run: |bench, out| explain(bench, out, 4),
    },
    Case {
        name: "rule.explain.lab_excluded",
        expected: Expected::Bytes(include_bytes!("../vectors/explain_lab_excluded.txt")),
        run: |bench, out| explain(bench, out, 5),
    },
    // records: the target frames each record exactly as the host did (the committed
    // vectors), and its streaming decoder reads them back, in place, to the very record.
    Case {
        name: "record.encode.sample",
        expected: Expected::Bytes(include_bytes!("../vectors/record_sample.frame")),
        run: |bench, out| record_encode(bench, out, 0),
    },
    Case {
        name: "record.encode.hostile",
        expected: Expected::Bytes(include_bytes!("../vectors/record_hostile.frame")),
        run: |bench, out| record_encode(bench, out, 1),
    },
    Case {
        name: "record.encode.sensor_offline",
        expected: Expected::Bytes(include_bytes!("../vectors/record_sensor_offline.frame")),
        run: |bench, out| record_encode(bench, out, 2),
    },
    Case {
        name: "record.encode.max_ascii",
        expected: Expected::digest(include_bytes!("../vectors/record_max_ascii.frame")),
        run: |bench, out| record_encode(bench, out, 3),
    },
    Case {
        name: "record.decode.sample",
        expected: Expected::Bytes(b"records=1 bytes=225 seq=1 destinations=0x00000005 event=sensor-plant-a-1042"),
        run: |bench, out| record_decode(bench, out, 0, include_bytes!("../vectors/record_sample.frame")),
    },
    Case {
        name: "record.decode.hostile",
        expected: Expected::Bytes(b"records=1 bytes=369 seq=18446744073709551615 destinations=0x80000001 event=sensor \"evil\"|=\\]\n-18446744073709551615"),
        run: |bench, out| record_decode(bench, out, 1, include_bytes!("../vectors/record_hostile.frame")),
    },
    Case {
        name: "record.decode.sensor_offline",
        expected: Expected::Bytes(b"records=1 bytes=121 seq=72623859790382856 destinations=0x00000002 event=sensor-plant-a-77"),
        run: |bench, out| record_decode(bench, out, 2, include_bytes!("../vectors/record_sensor_offline.frame")),
    },
    // formats: every golden event of core/tests/golden/, rendered as the host tests render
    // it (see golden_case!), byte for byte.
    golden_case!(digest "text.sample", "text_sample.txt", Fixture::Sample, text),
    golden_case!(digest "text.hostile", "text_hostile.txt", Fixture::Hostile, text),
    golden_case!(
        digest "text.max_ascii",
        "text_max_ascii.txt",
        Fixture::Max('x'),
        text
    ),
    golden_case!(
        digest "text.sensor_online",
        "text_sensor_online.txt",
        Fixture::Notification(NotificationKind::SensorOnline),
        text
    ),
    golden_case!(digest "text.sensor_offline",
        "text_sensor_offline.txt",
        Fixture::Notification(NotificationKind::SensorOffline),
        text
    ),
    golden_case!(
        digest "text.backup_failure",
        "text_backup_failure.txt",
        Fixture::Notification(NotificationKind::BackupFailure),
        text
    ),
    golden_case!(
        digest "text.alerts_dropped",
        "text_alerts_dropped.txt",
        Fixture::Notification(NotificationKind::AlertsDropped),
        text
    ),
    golden_case!(digest "hec.sample", "hec_sample.json", Fixture::Sample, hec),
    golden_case!(digest "hec.hostile", "hec_hostile.json", Fixture::Hostile, hec),
    golden_case!(
        digest "hec.max_ascii",
        "hec_max_ascii.json",
        Fixture::Max('x'),
        hec
    ),
    golden_case!(
        digest "hec.sensor_online",
        "hec_sensor_online.json",
        Fixture::Notification(NotificationKind::SensorOnline),
        hec
    ),
    golden_case!(digest "hec.sensor_offline",
        "hec_sensor_offline.json",
        Fixture::Notification(NotificationKind::SensorOffline),
        hec
    ),
    golden_case!(
        digest "hec.backup_failure",
        "hec_backup_failure.json",
        Fixture::Notification(NotificationKind::BackupFailure),
        hec
    ),
    golden_case!(
        digest "hec.alerts_dropped",
        "hec_alerts_dropped.json",
        Fixture::Notification(NotificationKind::AlertsDropped),
        hec
    ),
    golden_case!(digest "cef.sample", "cef_sample", Fixture::Sample, cef),
    golden_case!(digest "cef.hostile", "cef_hostile", Fixture::Hostile, cef),
    golden_case!(digest "cef.max_ascii", "cef_max_ascii", Fixture::Max('x'), cef),
    golden_case!(digest "cef.no_version", "cef_no_version", Fixture::Unversioned, cef),
    golden_case!(
        digest "cef.sensor_online",
        "cef_sensor_online",
        Fixture::Notification(NotificationKind::SensorOnline),
        cef
    ),
    golden_case!(digest "cef.sensor_offline",
        "cef_sensor_offline",
        Fixture::Notification(NotificationKind::SensorOffline),
        cef
    ),
    golden_case!(
        digest "cef.backup_failure",
        "cef_backup_failure",
        Fixture::Notification(NotificationKind::BackupFailure),
        cef
    ),
    golden_case!(
        digest "cef.alerts_dropped",
        "cef_alerts_dropped",
        Fixture::Notification(NotificationKind::AlertsDropped),
        cef
    ),
    golden_case!(digest "leef.sample", "leef_sample", Fixture::Sample, leef),
    golden_case!(digest "leef.hostile", "leef_hostile", Fixture::Hostile, leef),
    golden_case!(digest "leef.max_ascii", "leef_max_ascii", Fixture::Max('x'), leef),
    golden_case!(digest "leef.no_version", "leef_no_version", Fixture::Unversioned, leef),
    golden_case!(
        digest "leef.sensor_online",
        "leef_sensor_online",
        Fixture::Notification(NotificationKind::SensorOnline),
        leef
    ),
    golden_case!(digest "leef.sensor_offline",
        "leef_sensor_offline",
        Fixture::Notification(NotificationKind::SensorOffline),
        leef
    ),
    golden_case!(
        digest "leef.backup_failure",
        "leef_backup_failure",
        Fixture::Notification(NotificationKind::BackupFailure),
        leef
    ),
    golden_case!(
        digest "leef.alerts_dropped",
        "leef_alerts_dropped",
        Fixture::Notification(NotificationKind::AlertsDropped),
        leef
    ),
    golden_case!(digest "syslog.cef.sample",
        "syslog_cef_sample",
        Fixture::Sample,
        syslog_cef
    ),
    golden_case!(
        digest "syslog.cef.hostile",
        "syslog_cef_hostile",
        Fixture::Hostile,
        syslog_cef
    ),
    golden_case!(
        digest "syslog.leef.hostile_bom",
        "syslog_leef_hostile_bom",
        Fixture::Hostile,
        syslog_leef_bom
    ),
    golden_case!(digest "syslog.text.sensor_offline",
        "syslog_text_sensor_offline",
        Fixture::Notification(NotificationKind::SensorOffline),
        syslog_text
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::path::Path;

    #[test]
    fn record_vectors_are_the_host_encoding_of_the_records() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
        let mut bench = Box::new(Bench::new());
        for vector in &RECORDS {
            load_record(&mut bench, vector);
            let mut buf = std::vec![0u8; record::MAX_FRAME];
            let n = record::encode(&bench.record, &mut buf).unwrap();
            let path = dir.join(std::format!("record_{}.frame", vector.name));
            if std::env::var_os("UPDATE_VECTORS").is_some() {
                std::fs::write(&path, &buf[..n]).unwrap();
            } else {
                let committed = std::fs::read(&path).unwrap();
                assert_eq!(
                    committed,
                    &buf[..n],
                    "{} is stale; rerun with UPDATE_VECTORS=1",
                    vector.name
                );
            }
            assert_eq!(
                record::decode_frame(&buf[..n]).unwrap(),
                bench.record,
                "{}",
                vector.name
            );
        }
    }

    #[test]
    fn explain_vectors_are_the_host_rendering() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
        for (i, name) in [(4, "critical_malware"), (5, "lab_excluded")] {
            let mut bench = Box::new(Bench::new());
            let mut text = std::string::String::new();
            let (record, rules) = bench.rules().unwrap();
            build_rules(rules).unwrap();
            load_into(&mut record.event, ROUTED[i].fixture);
            (ROUTED[i].change)(&mut record.event);
            use core::fmt::Write as _;
            write!(text, "{}", rules.explain(&record.event, SAMPLE_TIME_MS)).unwrap();
            let path = dir.join(std::format!("explain_{name}.txt"));
            if std::env::var_os("UPDATE_VECTORS").is_some() {
                std::fs::write(&path, &text).unwrap();
            } else {
                let committed = std::fs::read_to_string(&path).unwrap();
                assert_eq!(
                    committed, text,
                    "{name} is stale; rerun with UPDATE_VECTORS=1"
                );
            }
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
            expected: Expected::Bytes(b"2019-05-05T12:28:54.124Z"),
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
            expected: Expected::Bytes(b"ab"),
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
            expected: Expected::Bytes(b""),
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
