//! The whole file: parsed once into spanned TOML values, then each section and each array
//! element read on its own — so an unknown key in one destination does not hide a bad port
//! in another — and assembled into [`Config`]. Every problem is collected, in file order.
//!
//! This is the one place that knows every section: the destinations are read by
//! [`destination`](crate::destination)'s kinds, the rules by `rules.rs`, the rest by
//! `validate.rs`.

use std::collections::HashSet;
use std::ops::Range;

use icsfwd_core::destination::DestinationId;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::health::health;
use super::raw;
use super::rules::rule_set;
use super::table::{as_table, deserialize_table, table};
use super::validate::{Ctx, ingest, key, log, metrics, sensor, spool};
use super::{Config, MAX_DESTINATIONS, Origin, Problem, Problems};
use crate::destination::{self, Destination};

const SECTIONS: &str = "sensor, destination, rule, exclusion, spool, ingest, log, metrics, health";

/// Reads and validates the configuration `text` from `origin`.
pub(crate) fn config(
    text: &str,
    origin: &Origin,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Problems> {
    let mut ctx = Ctx::new(text, origin, env);
    let config = document(&mut ctx);
    let mut problems = ctx.problems;
    match config {
        Some(config) if problems.is_empty() => Ok(config),
        _ => {
            problems.sort_by_key(|(offset, _)| *offset);
            if problems.is_empty() {
                // Unreachable by construction (every `None` reports), but never say "valid".
                problems.push((
                    0,
                    Problem {
                        file: origin.path.clone(),
                        line: 1,
                        column: 1,
                        key: String::new(),
                        message: "the configuration is not valid".to_owned(),
                        fix: "run `icsfwd check-config`".to_owned(),
                    },
                ));
            }
            Err(Problems(problems.into_iter().map(|(_, p)| p).collect()))
        }
    }
}

/// The sections, as deserialized (a `None` section was absent or failed).
#[derive(Default)]
struct Sections<'a> {
    sensor: Option<(raw::Sensor, Range<usize>)>,
    /// The `[[destination]]` tables, read once the rest of the file is known.
    destinations: Vec<Option<(DeTable<'a>, Range<usize>)>>,
    rules: Vec<Option<(raw::Rule, Range<usize>)>>,
    exclusions: Vec<Option<(raw::Exclusion, Range<usize>)>>,
    spool: Option<raw::Spool>,
    ingest: Option<raw::Ingest>,
    log: Option<raw::Log>,
    metrics: Option<raw::Metrics>,
    health: Option<raw::Health>,
}

fn document(ctx: &mut Ctx<'_>) -> Option<Config> {
    let (doc, errors) = DeTable::parse_recoverable(ctx.text);
    if !errors.is_empty() {
        for e in errors {
            ctx.report(
                e.span().unwrap_or(0..0),
                "",
                format!("TOML syntax: {}", e.message().trim_end()),
                "correct the TOML syntax here (strings in double quotes, one key = value per \
                 line; see https://toml.io)"
                    .to_owned(),
            );
        }
        return None;
    }
    let mut sections = Sections::default();
    for (name, value) in doc.into_inner() {
        let span = name.span();
        match name.get_ref().as_ref() {
            "sensor" => sections.sensor = table(ctx, value, "sensor"),
            "spool" => sections.spool = table(ctx, value, "spool").map(|(t, _)| t),
            "ingest" => sections.ingest = table(ctx, value, "ingest").map(|(t, _)| t),
            "log" => sections.log = table(ctx, value, "log").map(|(t, _)| t),
            "metrics" => sections.metrics = table(ctx, value, "metrics").map(|(t, _)| t),
            "health" => sections.health = table(ctx, value, "health").map(|(t, _)| t),
            "destination" => sections.destinations = tables(ctx, value, "destination"),
            "rule" => sections.rules = array(ctx, value, "rule"),
            "exclusion" => sections.exclusions = array(ctx, value, "exclusion"),
            other => ctx.report(
                span,
                other,
                format!("unknown section or key `{other}`"),
                format!("the top level has only these: {SECTIONS}"),
            ),
        }
    }
    build(ctx, sections)
}

/// The tables of the array `value` (at key path `name`), each as written; an element that is
/// not a table is reported and `None`.
fn tables<'a>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'a>>,
    name: &str,
) -> Vec<Option<(DeTable<'a>, Range<usize>)>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| as_table(ctx, item, &format!("{name}[{i}]")))
            .collect(),
        other => {
            ctx.report(
                span,
                name,
                format!(
                    "`{name}` must be an array of tables, not a {}",
                    other.type_str()
                ),
                format!("write each one as a [[{name}]] section"),
            );
            Vec::new()
        }
    }
}

/// Deserializes an array of tables, element by element.
fn array<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'_>>,
    name: &str,
) -> Vec<Option<(T, Range<usize>)>> {
    tables(ctx, value, name)
        .into_iter()
        .enumerate()
        .map(|(i, element)| {
            let (t, span) = element?;
            deserialize_table(ctx, t, &span, &format!("{name}[{i}]")).map(|parsed| (parsed, span))
        })
        .collect()
}

/// The configuration from its sections.
fn build(ctx: &mut Ctx<'_>, s: Sections<'_>) -> Option<Config> {
    let sensor = sensor(ctx, s.sensor);
    let read = destinations(ctx, s.destinations);
    // Rules resolve names against every destination written, valid or not, so that a rule
    // naming a destination with a bad port is not also told the name is unknown.
    let names: Vec<&str> = read.names.iter().map(String::as_str).collect();
    let rules = rule_set(ctx, &s.rules, &s.exclusions, &names, read.any_failed);
    let spool = spool(ctx, s.spool.unwrap_or_default());
    let ingest = ingest(ctx, s.ingest.unwrap_or_default());
    let log = log(ctx, s.log.unwrap_or_default());
    // A [metrics] section that did not deserialize was reported: absent here, not valid.
    let metrics = match s.metrics {
        None => Some(None),
        Some(raw) => metrics(ctx, raw).map(Some),
    };
    let health = health(ctx, s.health.unwrap_or_default());
    Some(Config {
        path: ctx.origin.path.clone(),
        sensor: sensor?,
        destinations: read.valid,
        rules: rules?,
        spool: spool?,
        ingest: ingest?,
        log: log?,
        metrics: metrics?,
        health: health?,
    })
}

/// The `[[destination]]` elements, read.
struct Destinations {
    /// The valid ones, with their ids.
    valid: Vec<Destination>,
    /// Every element's name as written (empty when missing), in file order.
    names: Vec<String>,
    /// Whether an element could not be read at all (not a table, too many wrong keys).
    any_failed: bool,
}

/// Reads every `[[destination]]` element (see [`destination::config`]): names unique, at most
/// [`MAX_DESTINATIONS`], ids in file order.
fn destinations(
    ctx: &mut Ctx<'_>,
    elements: Vec<Option<(DeTable<'_>, Range<usize>)>>,
) -> Destinations {
    if elements.is_empty()
        && !ctx
            .problems
            .iter()
            .any(|(_, p)| p.key.starts_with("destination"))
    {
        ctx.report(
            0..0,
            "destination",
            "no [[destination]]: nothing would be forwarded".to_owned(),
            "add a [[destination]] (see etc/icsfwd.example.toml)".to_owned(),
        );
    }
    let count = elements.len();
    if count > MAX_DESTINATIONS {
        let span = elements
            .get(MAX_DESTINATIONS)
            .and_then(|d| d.as_ref().map(|(_, s)| s.clone()))
            .unwrap_or(0..0);
        ctx.report(
            span,
            &format!("destination[{MAX_DESTINATIONS}]"),
            format!("too many destinations: {count} (at most {MAX_DESTINATIONS})"),
            format!("remove destinations until {MAX_DESTINATIONS} are left"),
        );
    }
    let mut read = Destinations {
        valid: Vec::new(),
        names: Vec::new(),
        any_failed: false,
    };
    let mut seen: HashSet<String> = HashSet::new();
    for (i, element) in elements.into_iter().enumerate() {
        let prefix = format!("destination[{i}]");
        let Some((t, span)) = element else {
            read.any_failed = true;
            read.names.push(String::new());
            continue;
        };
        let validate = i < MAX_DESTINATIONS;
        let Some(element) = destination::config::read(ctx, t, &span, &prefix, validate) else {
            read.any_failed = true;
            read.names.push(String::new());
            continue;
        };
        read.names.push(element.written_name);
        if !validate {
            continue;
        }
        if let Some(name) = &element.name
            && !seen.insert(name.clone())
            && let Some(at) = element.name_span
        {
            ctx.report(
                at,
                &key(&prefix, "name"),
                format!("destination name {name:?} is used twice"),
                "give every destination its own name".to_owned(),
            );
        }
        let id = u8::try_from(i).ok().and_then(DestinationId::new);
        match (element.name, element.parts, id) {
            (Some(name), Some((kind, tls, timeouts, retry)), Some(id)) => {
                read.valid.push(Destination {
                    id,
                    name,
                    kind,
                    tls,
                    timeouts,
                    retry,
                });
            }
            _ if ctx.problems.is_empty() => {
                // A destination dropped without a report would shift ids silently.
                ctx.report(
                    span,
                    &prefix,
                    "is not valid".to_owned(),
                    "see the other messages".to_owned(),
                );
            }
            _ => {}
        }
    }
    read
}
