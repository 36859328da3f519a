//! The metrics as text: the Prometheus text format 0.0.4 or OpenMetrics 1.0.
//!
//! What it is: [`render`] writes a [`Scrape`] — the service's last status [`Snapshot`] and
//! the histograms — as every family of [`FAMILIES`](super::families::FAMILIES), in that order, each with its `# HELP`
//! and `# TYPE` (and in OpenMetrics its `# UNIT`) even when it has no sample yet.
//! [`negotiate`] picks the format from a request's `Accept` header.
//!
//! The two formats differ only in how a family is named and typed, and in the end marker:
//!
//! | | Prometheus 0.0.4 | OpenMetrics 1.0 |
//! | --- | --- | --- |
//! | counter `icsfwd_ingest_lines_total` | `# TYPE icsfwd_ingest_lines_total counter` | `# TYPE icsfwd_ingest_lines counter` |
//! | info `icsfwd_build_info` | `# TYPE icsfwd_build_info gauge` | `# TYPE icsfwd_build info` |
//! | unit of `…_seconds`, `…_bytes` | — | `# UNIT icsfwd_spool_live_bytes bytes` |
//! | end | — | `# EOF` |
//!
//! Samples are written the same in both: counters with `_total`, info metrics with `_info`
//! and the value 1, histograms as cumulative `_bucket{le="…"}` up to `le="+Inf"`, then
//! `_sum` (seconds) and `_count`.
//!
//! What it guarantees:
//! - Label values are escaped as both formats require (`\` → `\\`, `"` → `\"`, line feed
//!   → `\n`); other control characters become spaces, and a park reason is cut to
//!   [`MAX_REASON_CHARS`] characters. No secret is shown: reasons come redacted from the
//!   output layer, like in `icsfwd status`.
//! - Names follow Prometheus' conventions: the `icsfwd_` prefix, `_total` on counters only,
//!   base units (seconds, bytes).
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt::Write as _;

use super::families::{
    BUILD_INFO, DESTINATION_ACK_LATENCY, DESTINATION_ACKS_PENDING, DESTINATION_BACKLOG,
    DESTINATION_DEAD_LETTERED, DESTINATION_DELIVERED, DESTINATION_DELIVERY_LATENCY,
    DESTINATION_LAST_DELIVERY, DESTINATION_LAST_ERROR, DESTINATION_PARKED,
    DESTINATION_POSSIBLE_DUPLICATES, DESTINATION_POSSIBLE_LOSS, DESTINATION_RETRIES,
    DESTINATION_STATE, INGEST_ACCEPT_DURATION, INGEST_ACCEPTED, INGEST_CONNECTIONS, INGEST_LINES,
    INGEST_NOT_FORWARDED, INGEST_REFUSED, INGEST_REFUSED_BY_SPOOL, RELOADS, SPOOL_APPENDED,
    SPOOL_DAMAGED_FRAMES, SPOOL_DISK_BYTES, SPOOL_EVICTED, SPOOL_FSYNC_DURATION, SPOOL_FSYNCS,
    SPOOL_LIVE_BYTES, SPOOL_MAX_BYTES, SPOOL_REFUSED_FULL, START_TIME,
};
use super::histogram::{self, Counts, Histogram};
use crate::status::{DestinationStatus, Snapshot};

/// Longest park reason shown, in characters (a longer one is cut and ends with `…`).
pub(crate) const MAX_REASON_CHARS: usize = 256;

/// The `Content-Type` of the Prometheus text format.
pub(crate) const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `Content-Type` of OpenMetrics text.
pub(crate) const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A text format of the exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The Prometheus text format 0.0.4 (the default).
    Prometheus,
    /// OpenMetrics 1.0.0.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` header of a response in this format.
    #[must_use]
    pub(crate) const fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => PROMETHEUS_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

/// The format a request's `Accept` header asks for: OpenMetrics when it accepts
/// `application/openmetrics-text` (version 1.0.0 or unversioned) with a quality above 0
/// and at least that of anything else it accepts; otherwise, and without the header, the
/// Prometheus text format.
///
/// (The example is the unit test `doc_examples::negotiate_example` below: this module is
/// internal to the crate, so its example names crate paths.)
#[must_use]
pub(crate) fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Prometheus;
    };
    let mut open_metrics = 0.0f64;
    let mut other = 0.0f64;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let mut quality = 1.0f64;
        let mut version_ok = true;
        for param in parts {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "q" => quality = value.parse().unwrap_or(0.0),
                "version" => version_ok = value == "1.0.0",
                _ => {}
            }
        }
        if media == "application/openmetrics-text" {
            if version_ok {
                open_metrics = open_metrics.max(quality);
            }
        } else {
            other = other.max(quality);
        }
    }
    if open_metrics > 0.0 && open_metrics >= other {
        Format::OpenMetrics
    } else {
        Format::Prometheus
    }
}

/// What a metric family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Only grows (since the service started); its name ends in `_total`.
    Counter,
    /// A value now.
    Gauge,
    /// Observations counted in fixed buckets.
    Histogram,
    /// Labels describing something, value 1; its name ends in `_info`.
    Info,
}

impl Type {
    /// The word of `docs/operations.md`'s table and of the 0.0.4 `# TYPE` line (info: gauge).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Type::Counter => "counter",
            Type::Gauge => "gauge",
            Type::Histogram => "histogram",
            Type::Info => "info",
        }
    }
}

/// One metric family: its name as queried, what it is and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The name of its samples (counters with `_total`, info with `_info`; a histogram's
    /// base name).
    pub name: &'static str,
    /// What it is.
    pub kind: Type,
    /// Its unit, when the name ends in one.
    pub unit: Option<&'static str>,
    /// Its labels.
    pub labels: &'static [&'static str],
    /// Its help text (no `\`, `"` or line feed).
    pub help: &'static str,
}

impl Family {
    /// The family's name on its `# TYPE` line in `format`.
    #[must_use]
    pub(crate) fn type_name(&self, format: Format) -> &'static str {
        let suffix = match (format, self.kind) {
            (Format::OpenMetrics, Type::Counter) => "_total",
            (Format::OpenMetrics, Type::Info) => "_info",
            _ => "",
        };
        self.name.strip_suffix(suffix).unwrap_or(self.name)
    }
}

/// The states of `icsfwd_destination_state`, as `icsfwd status` names them.
pub(crate) const STATES: [&str; 6] = ["idle", "sending", "retrying", "parked", "failed", "stopped"];

/// What one scrape shows: the last status snapshot and the histograms read now.
#[derive(Debug, Clone)]
pub(crate) struct Scrape<'a> {
    /// The service's last status snapshot.
    pub snapshot: &'a Snapshot,
    /// Ingest to accepted.
    pub ingest_accept: Counts,
    /// Group commit write and fsync.
    pub spool_fsync: Counts,
    /// Per entry of `snapshot.destinations`, in order: accepted to delivered, and sent to
    /// confirmed.
    pub destinations: Vec<(Counts, Counts)>,
}

impl<'a> Scrape<'a> {
    /// `snapshot` with empty histograms.
    #[must_use]
    pub(crate) fn empty(snapshot: &'a Snapshot) -> Scrape<'a> {
        let none = |bounds: &'static histogram::Buckets| Histogram::new(bounds).counts();
        Scrape {
            snapshot,
            ingest_accept: none(&histogram::INGEST),
            spool_fsync: none(&histogram::FSYNC),
            destinations: snapshot
                .destinations
                .iter()
                .map(|_| (none(&histogram::DELIVERY), none(&histogram::ACK)))
                .collect(),
        }
    }
}

/// `scrape` as text in `format`; see the [module docs](self).
#[must_use]
pub(crate) fn render(scrape: &Scrape<'_>, format: Format) -> String {
    let mut w = Writer {
        out: String::with_capacity(8192 + 4096 * scrape.snapshot.destinations.len()),
        format,
    };
    let s = scrape.snapshot;
    w.family(&BUILD_INFO);
    w.sample(BUILD_INFO.name, &[("version", &s.version)], "1");
    w.family(&START_TIME);
    w.sample(START_TIME.name, &[], &seconds(s.started_ms));
    let i = &s.ingest;
    w.single(&INGEST_CONNECTIONS, i.connections_open);
    w.single(&INGEST_LINES, i.lines);
    w.single(&INGEST_ACCEPTED, i.accepted);
    w.single(&INGEST_NOT_FORWARDED, i.not_forwarded);
    w.single(&INGEST_REFUSED, i.refused);
    w.single(&INGEST_REFUSED_BY_SPOOL, i.refused_by_spool);
    w.family(&INGEST_ACCEPT_DURATION);
    w.histogram(&INGEST_ACCEPT_DURATION, &[], &scrape.ingest_accept);
    let p = &s.spool;
    w.single(&SPOOL_APPENDED, p.appended);
    w.single(&SPOOL_FSYNCS, p.fsyncs);
    w.single(&SPOOL_LIVE_BYTES, p.live_bytes);
    w.single(&SPOOL_MAX_BYTES, p.max_bytes);
    w.single(&SPOOL_DISK_BYTES, p.disk_bytes);
    w.single(&SPOOL_REFUSED_FULL, p.refused_full);
    w.single(&SPOOL_EVICTED, p.evicted);
    w.single(&SPOOL_DAMAGED_FRAMES, p.damaged_frames);
    w.family(&SPOOL_FSYNC_DURATION);
    w.histogram(&SPOOL_FSYNC_DURATION, &[], &scrape.spool_fsync);
    w.family(&RELOADS);
    for (result, value) in [("applied", s.reload.applied), ("refused", s.reload.refused)] {
        w.sample(RELOADS.name, &[("result", result)], &value.to_string());
    }
    destination_families(&mut w, scrape);
    if format == Format::OpenMetrics {
        w.out.push_str("# EOF\n");
    }
    w.out
}

/// A destination's counter or gauge.
type Count = fn(&DestinationStatus) -> u64;

/// A destination's moment (epoch ms), when known.
type Moment = fn(&DestinationStatus) -> Option<u64>;

/// The per-destination families, each over every destination.
fn destination_families(w: &mut Writer, scrape: &Scrape<'_>) {
    let all = &scrape.snapshot.destinations;
    w.family(&DESTINATION_STATE);
    for d in all {
        for state in STATES {
            let value = if d.state == state { "1" } else { "0" };
            let labels = [
                ("destination", &*d.name),
                ("kind", &d.kind),
                ("state", state),
            ];
            w.sample(DESTINATION_STATE.name, &labels, value);
        }
    }
    w.family(&DESTINATION_PARKED);
    for d in all {
        if let (Some(reason), "parked" | "failed") = (&d.reason, d.state.as_str()) {
            let reason = cut(reason, MAX_REASON_CHARS);
            let labels = [
                ("destination", &*d.name),
                ("kind", &d.kind),
                ("state", &d.state),
                ("reason", &reason),
            ];
            w.sample(DESTINATION_PARKED.name, &labels, "1");
        }
    }
    let counters: [(&Family, Count); 7] = [
        (&DESTINATION_BACKLOG, |d| d.backlog),
        (&DESTINATION_ACKS_PENDING, |d| d.acks_pending),
        (&DESTINATION_DELIVERED, |d| d.delivered),
        (&DESTINATION_RETRIES, |d| d.retries),
        (&DESTINATION_POSSIBLE_DUPLICATES, |d| d.possible_duplicates),
        (&DESTINATION_DEAD_LETTERED, |d| d.dead_lettered),
        (&DESTINATION_POSSIBLE_LOSS, |d| d.possible_loss),
    ];
    for (family, value) in counters {
        w.family(family);
        for d in all {
            w.sample(family.name, &dest_labels(d), &value(d).to_string());
        }
    }
    let times: [(&Family, Moment); 2] = [
        (&DESTINATION_LAST_DELIVERY, |d| d.last_success_ms),
        (&DESTINATION_LAST_ERROR, |d| d.last_error_ms),
    ];
    for (family, value) in times {
        w.family(family);
        for d in all {
            if let Some(ms) = value(d) {
                w.sample(family.name, &dest_labels(d), &seconds(ms));
            }
        }
    }
    w.family(&DESTINATION_DELIVERY_LATENCY);
    for (d, (delivery, _)) in all.iter().zip(&scrape.destinations) {
        w.histogram(&DESTINATION_DELIVERY_LATENCY, &dest_labels(d), delivery);
    }
    w.family(&DESTINATION_ACK_LATENCY);
    for (d, (_, ack)) in all.iter().zip(&scrape.destinations) {
        w.histogram(&DESTINATION_ACK_LATENCY, &dest_labels(d), ack);
    }
}

fn dest_labels(d: &DestinationStatus) -> [(&'static str, &str); 2] {
    [("destination", &d.name), ("kind", &d.kind)]
}

/// Epoch milliseconds as seconds, exactly (`1700000000.123`).
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// `text` cut to `max` characters, with `…` when it was longer.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or_default()),
        None => text.to_owned(),
    }
}

/// A label value as both formats require it; see the [module docs](self).
#[must_use]
pub(crate) fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

struct Writer {
    out: String,
    format: Format,
}

impl Writer {
    /// The `# HELP`, `# TYPE` (and OpenMetrics `# UNIT`) lines of `family`.
    fn family(&mut self, family: &Family) {
        let name = family.type_name(self.format);
        let kind = match (self.format, family.kind) {
            (Format::Prometheus, Type::Info) => "gauge",
            (_, kind) => kind.as_str(),
        };
        let _ = writeln!(self.out, "# HELP {name} {}", family.help);
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        if let (Format::OpenMetrics, Some(unit)) = (self.format, family.unit) {
            let _ = writeln!(self.out, "# UNIT {name} {unit}");
        }
    }

    /// A family with one unlabelled sample.
    fn single(&mut self, family: &Family, value: u64) {
        self.family(family);
        self.sample(family.name, &[], &value.to_string());
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: &str) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{key}=\"{}\"", escape_label_value(value));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    fn histogram(&mut self, family: &Family, labels: &[(&str, &str)], counts: &Counts) {
        let bucket = format!("{}_bucket", family.name);
        let cumulative = counts.cumulative();
        let les = counts.bounds().iter().map(|b| b.le).chain(["+Inf"]);
        for (le, n) in les.zip(&cumulative) {
            let mut with_le: Vec<(&str, &str)> = labels.to_vec();
            with_le.push(("le", le));
            self.sample(&bucket, &with_le, &n.to_string());
        }
        self.sample(
            &format!("{}_sum", family.name),
            labels,
            &counts.sum_seconds().to_string(),
        );
        self.sample(
            &format!("{}_count", family.name),
            labels,
            &counts.count().to_string(),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use std::time::Duration;

    use super::*;
    use crate::metrics::families::FAMILIES;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::new("s1", 1_700_000_000_250);
        s.ingest.lines = 9;
        s.spool.max_bytes = 1 << 30;
        s.destinations.push(DestinationStatus {
            name: "soc".into(),
            kind: "hec".into(),
            state: "parked".into(),
            reason: Some(
                "credentials rejected (HTTP 403): check \"token\"\nC:\\x\u{1b}[31m".into(),
            ),
            backlog: 7,
            last_success_ms: Some(1_700_000_001_005),
            ..DestinationStatus::default()
        });
        s
    }

    /// The `# TYPE` lines: (name, type).
    fn types(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| {
                let (name, kind) = l.split_once(' ').unwrap();
                (name.to_owned(), kind.to_owned())
            })
            .collect()
    }

    #[test]
    fn every_family_is_written_in_order_with_help_and_type_in_both_formats() {
        let s = snapshot();
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let text = render(&Scrape::empty(&s), format);
            let names: Vec<String> = types(&text).into_iter().map(|(n, _)| n).collect();
            let want: Vec<&str> = FAMILIES.iter().map(|f| f.type_name(format)).collect();
            assert_eq!(names, want, "{format:?}");
            for family in FAMILIES {
                let name = family.type_name(format);
                assert!(text.contains(&format!("# HELP {name} ")), "{name}");
                assert!(name.starts_with("icsfwd_"));
                assert_eq!(
                    family.kind == Type::Counter,
                    family.name.ends_with("_total")
                );
                assert_eq!(family.kind == Type::Info, family.name.ends_with("_info"));
                assert!(!family.help.contains(['"', '\\', '\n']), "{name}");
                if let Some(unit) = family.unit {
                    assert!(family.name.ends_with(&format!("_{unit}")), "{name}");
                }
            }
        }
    }

    #[test]
    fn the_two_formats_name_counters_and_info_metrics_as_each_requires() {
        let s = snapshot();
        let prometheus = render(&Scrape::empty(&s), Format::Prometheus);
        assert!(prometheus.contains("# TYPE icsfwd_ingest_lines_total counter\n"));
        assert!(prometheus.contains("# TYPE icsfwd_build_info gauge\n"));
        assert!(!prometheus.contains("# UNIT"));
        assert!(!prometheus.contains("# EOF"));
        let open = render(&Scrape::empty(&s), Format::OpenMetrics);
        assert!(open.contains("# TYPE icsfwd_ingest_lines counter\n"));
        assert!(open.contains("icsfwd_ingest_lines_total 9\n"));
        assert!(open.contains("# TYPE icsfwd_build info\n"));
        assert!(open.contains("# UNIT icsfwd_spool_max_bytes bytes\n"));
        assert!(open.ends_with("\n# EOF\n"));
        assert_eq!(open.matches("# EOF").count(), 1);
    }

    #[test]
    fn label_values_are_escaped_and_control_characters_removed() {
        assert_eq!(
            escape_label_value("a\\b\"c\nd\re\u{1b}f"),
            "a\\\\b\\\"c\\nd e f"
        );
        let text = render(&Scrape::empty(&snapshot()), Format::Prometheus);
        let line = text
            .lines()
            .find(|l| l.starts_with("icsfwd_destination_parked_info{"))
            .unwrap();
        assert_eq!(
            line,
            "icsfwd_destination_parked_info{destination=\"soc\",kind=\"hec\",state=\"parked\",\
             reason=\"credentials rejected (HTTP 403): check \\\"token\\\"\\nC:\\\\x [31m\"} 1"
        );
    }

    #[test]
    fn a_long_reason_is_cut() {
        let mut s = snapshot();
        s.destinations[0].reason = Some("é".repeat(1000));
        let text = render(&Scrape::empty(&s), Format::Prometheus);
        let want = format!("reason=\"{}…\"", "é".repeat(MAX_REASON_CHARS));
        assert!(text.contains(&want));
    }

    #[test]
    fn one_state_is_1_and_the_others_0_and_no_info_unless_parked_or_failed() {
        let mut s = snapshot();
        let text = render(&Scrape::empty(&s), Format::Prometheus);
        let states: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("icsfwd_destination_state{"))
            .collect();
        assert_eq!(states.len(), STATES.len());
        assert_eq!(states.iter().filter(|l| l.ends_with(" 1")).count(), 1);
        assert!(states.iter().any(|l| l.ends_with("state=\"parked\"} 1")));
        s.destinations[0].state = "retrying".into();
        let text = render(&Scrape::empty(&s), Format::Prometheus);
        assert!(!text.contains("icsfwd_destination_parked_info{"));
    }

    #[test]
    fn timestamps_are_exact_seconds_and_absent_until_known() {
        let text = render(&Scrape::empty(&snapshot()), Format::Prometheus);
        assert!(text.contains("icsfwd_start_time_seconds 1700000000.250\n"));
        assert!(text.contains(
            "icsfwd_destination_last_delivery_timestamp_seconds{destination=\"soc\",kind=\"hec\"} \
             1700000001.005\n"
        ));
        assert!(!text.contains("icsfwd_destination_last_error_timestamp_seconds{"));
    }

    #[test]
    fn histograms_are_cumulative_with_inf_sum_and_count() {
        let s = snapshot();
        let fsync = Histogram::new(&histogram::FSYNC);
        fsync.observe(Duration::from_micros(90));
        fsync.observe(Duration::from_micros(400));
        fsync.observe(Duration::from_secs(4));
        let scrape = Scrape {
            spool_fsync: fsync.counts(),
            ..Scrape::empty(&s)
        };
        let text = render(&scrape, Format::Prometheus);
        let buckets: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("icsfwd_spool_fsync_duration_seconds_bucket"))
            .collect();
        assert_eq!(buckets.len(), histogram::FSYNC.len() + 1);
        assert_eq!(
            buckets[0],
            "icsfwd_spool_fsync_duration_seconds_bucket{le=\"0.0001\"} 1"
        );
        assert_eq!(
            buckets[2],
            "icsfwd_spool_fsync_duration_seconds_bucket{le=\"0.0005\"} 2"
        );
        assert_eq!(
            buckets[histogram::FSYNC.len() - 1],
            "icsfwd_spool_fsync_duration_seconds_bucket{le=\"2.5\"} 2"
        );
        assert_eq!(
            buckets[histogram::FSYNC.len()],
            "icsfwd_spool_fsync_duration_seconds_bucket{le=\"+Inf\"} 3"
        );
        assert!(text.contains("icsfwd_spool_fsync_duration_seconds_sum 4.00049\n"));
        assert!(text.contains("icsfwd_spool_fsync_duration_seconds_count 3\n"));
        // Per-destination histograms carry the destination's labels before `le`.
        assert!(text.contains(
            "icsfwd_destination_ack_latency_seconds_bucket{destination=\"soc\",kind=\"hec\",\
             le=\"+Inf\"} 0\n"
        ));
    }

    #[test]
    fn negotiation_prefers_what_the_client_prefers() {
        for (accept, want) in [
            ("application/openmetrics-text", Format::OpenMetrics),
            (
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                Format::OpenMetrics,
            ),
            (
                "Application/OpenMetrics-Text;q=0.9,text/plain;q=0.5",
                Format::OpenMetrics,
            ),
            (
                "application/openmetrics-text;version=0.0.1",
                Format::Prometheus,
            ),
            ("application/openmetrics-text;q=0", Format::Prometheus),
            (
                "text/plain;q=1,application/openmetrics-text;q=0.5",
                Format::Prometheus,
            ),
            ("*/*", Format::Prometheus),
            ("", Format::Prometheus),
        ] {
            assert_eq!(negotiate(Some(accept)), want, "{accept}");
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::metrics::exposition::{Format, Scrape, render};
        use crate::status::{DestinationStatus, Snapshot};

        let mut snapshot = Snapshot::new("sensor-plant-a", 1_700_000_000_000);
        snapshot.ingest.accepted = 42;
        snapshot.destinations.push(DestinationStatus {
            name: "soc".into(),
            kind: "hec".into(),
            state: "sending".into(),
            ..DestinationStatus::default()
        });
        let text = render(&Scrape::empty(&snapshot), Format::Prometheus);
        assert!(text.contains("icsfwd_ingest_accepted_total 42\n"));
        assert!(text.contains(
            "icsfwd_destination_state{destination=\"soc\",kind=\"hec\",state=\"sending\"} 1\n"
        ));
        let open = render(&Scrape::empty(&snapshot), Format::OpenMetrics);
        assert!(open.ends_with("# EOF\n"));
    }

    #[test]
    fn negotiate_example() {
        use crate::metrics::exposition::{Format, negotiate};

        // What Prometheus 2.x sends.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                          version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(negotiate(Some("text/plain")), Format::Prometheus);
        assert_eq!(negotiate(None), Format::Prometheus);
    }
}
