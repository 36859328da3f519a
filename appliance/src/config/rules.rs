//! `[[rule]]` and `[[exclusion]]`: the operator's forwarding rules, built into the core
//! [`RuleSet`] so that its own errors (capacities, name lengths, subnets, time windows) are
//! reported with their place and fix like any other.

use std::ops::Range;

use icsfwd_core::alert::{Engine, Severity};
use icsfwd_core::destination::DestinationId;
use icsfwd_core::rule::{Exclusion, Rule, RuleSet, TimeWindow};

use super::raw::{self, S};
use super::validate::{Ctx, flag, key, required};

/// The core rule or exclusion built from the required `name` of the `[[what]]` table at
/// `prefix`; a missing or refused name is reported against its key.
fn named<T>(
    ctx: &mut Ctx<'_>,
    name: &Option<S<String>>,
    span: &Range<usize>,
    prefix: &str,
    what: &str,
    make: fn(&str) -> Result<T, icsfwd_core::rule::Error>,
) -> Option<T> {
    let name_key = key(prefix, "name");
    let fix = format!("add name = \"<{what} name>\"");
    let name_v = required(ctx, name, span, &name_key, &fix)?;
    match make(name_v.get_ref()) {
        Ok(made) => Some(made),
        Err(e) => {
            core_error(ctx, name_v.span(), &name_key, &e);
            None
        }
    }
}

/// Reports a core rule error against `k`, with the fix for its kind.
fn core_error(ctx: &mut Ctx<'_>, span: Range<usize>, k: &str, e: &icsfwd_core::rule::Error) {
    use icsfwd_core::rule::Error as E;
    let fix = match e {
        E::TooMany { .. } => "remove some, or merge items that lead to the same destinations",
        E::TooLong { .. } => "shorten it",
        E::Blank { .. } => "write a value",
        E::EmptyList { .. } => "write \"all\" or list at least one",
        E::EmptyWindow { .. } => "make `end` later than `start`",
        E::Unconditional => "set addresses, titles, sensors, or a start and end",
        E::Subnet(_) => "write an address or a subnet such as \"10.0.0.0/8\" or \"fe80::/10\"",
        _ => "see docs/configuration.md",
    };
    ctx.report(span, k, e.to_string(), fix.to_owned());
}

pub(crate) fn rule_set(
    ctx: &mut Ctx<'_>,
    rules: &[Option<(raw::Rule, Range<usize>)>],
    exclusions: &[Option<(raw::Exclusion, Range<usize>)>],
    destinations: &[&str],
    destinations_incomplete: bool,
) -> Option<Box<RuleSet>> {
    if rules.is_empty() && !ctx.problems.iter().any(|(_, p)| p.key.starts_with("rule")) {
        ctx.report(
            0..0,
            "rule",
            "no [[rule]]: nothing would be forwarded".to_owned(),
            "add a [[rule]] with actions = [\"<destination name>\"]".to_owned(),
        );
    }
    let mut set = Box::new(RuleSet::new());
    let mut ok = true;
    for (i, entry) in rules.iter().enumerate() {
        let Some((raw, span)) = entry else {
            ok = false;
            continue;
        };
        let prefix = format!("rule[{i}]");
        match rule(
            ctx,
            raw,
            span,
            &prefix,
            destinations,
            destinations_incomplete,
        ) {
            Some(r) => {
                if let Err(e) = set.push_rule(r) {
                    ok = false;
                    core_error(ctx, span.clone(), &prefix, &e);
                }
            }
            None => ok = false,
        }
    }
    for (i, entry) in exclusions.iter().enumerate() {
        let Some((raw, span)) = entry else {
            ok = false;
            continue;
        };
        let prefix = format!("exclusion[{i}]");
        match exclusion(ctx, raw, span, &prefix) {
            Some(x) => {
                if let Err(e) = set.push_exclusion(x) {
                    ok = false;
                    core_error(ctx, span.clone(), &prefix, &e);
                }
            }
            None => ok = false,
        }
    }
    ok.then_some(set)
}

fn names(v: &S<raw::AllOr>) -> Result<Option<&[String]>, ()> {
    match v.get_ref() {
        raw::AllOr::Word(w) if w.trim().eq_ignore_ascii_case("all") => Ok(None),
        raw::AllOr::Word(_) => Err(()),
        raw::AllOr::List(list) => Ok(Some(list)),
    }
}

/// The core rule built from one `[[rule]]` table: its name, then each optional filter, then its
/// actions. Every problem is reported; the rule is returned only when there was none.
fn rule(
    ctx: &mut Ctx<'_>,
    raw: &raw::Rule,
    span: &Range<usize>,
    prefix: &str,
    destinations: &[&str],
    destinations_incomplete: bool,
) -> Option<Rule> {
    let mut rule = named(ctx, &raw.name, span, prefix, "rule", Rule::new)?;
    let mut ok = true;
    if let Some(v) = &raw.min_severity {
        ok &= min_severity(ctx, &mut rule, v, prefix);
    }
    if let Some(v) = &raw.protocols {
        ok &= protocols(ctx, &mut rule, v, prefix);
    }
    if let Some(v) = &raw.engines {
        ok = engines(ctx, &mut rule, v, prefix, ok);
    }
    rule = rule
        .forwarding_alerts(flag(&raw.alerts, true))
        .forwarding_notifications(flag(&raw.system_notifications, false))
        .forwarding_health(flag(&raw.health, false));
    let targets = Targets {
        names: destinations,
        incomplete: destinations_incomplete,
    };
    ok &= actions(ctx, &mut rule, &raw.actions, span, prefix, &targets);
    ok.then_some(rule)
}

/// The destination names a rule's actions may use: `names[i]` is destination `i` (blank
/// where that destination was refused); `incomplete` when some were refused, so that an
/// unknown name is not reported a second time.
struct Targets<'a> {
    names: &'a [&'a str],
    incomplete: bool,
}

/// `min_severity`: applied to `rule` when it names a severity; `false` after reporting it.
fn min_severity(ctx: &mut Ctx<'_>, rule: &mut Rule, v: &S<String>, prefix: &str) -> bool {
    let Some(s) = Severity::from_name(v.get_ref()) else {
        ctx.report(
            v.span(),
            &key(prefix, "min_severity"),
            format!("unknown severity {:?}", v.get_ref()),
            "use \"warning\", \"minor\", \"major\" or \"critical\"".to_owned(),
        );
        return false;
    };
    *rule = rule.clone().with_min_severity(s);
    true
}

/// `protocols`: `"all"` leaves `rule` as it is, a list narrows it; `false` after reporting.
fn protocols(ctx: &mut Ctx<'_>, rule: &mut Rule, v: &S<raw::AllOr>, prefix: &str) -> bool {
    let k = key(prefix, "protocols");
    match names(v) {
        Ok(None) => true,
        Ok(Some(list)) => match rule.clone().with_protocols(list.iter().map(String::as_str)) {
            Ok(r) => {
                *rule = r;
                true
            }
            Err(e) => {
                core_error(ctx, v.span(), &k, &e);
                false
            }
        },
        Err(()) => {
            ctx.report(
                v.span(),
                &k,
                "is neither \"all\" nor a list".to_owned(),
                "write \"all\" or a list such as [\"Modbus\", \"S7\"]".to_owned(),
            );
            false
        }
    }
}

/// `engines`: `"all"` leaves `rule` as it is, a list narrows it. Every unknown name is
/// reported; the list is given to the core (and its own refusal reported) only when the rule
/// had no problem so far (`ok`). Returns whether the rule still has none.
fn engines(
    ctx: &mut Ctx<'_>,
    rule: &mut Rule,
    v: &S<raw::AllOr>,
    prefix: &str,
    mut ok: bool,
) -> bool {
    let k = key(prefix, "engines");
    let list = match names(v) {
        Ok(None) => return ok,
        Ok(Some(list)) => list,
        Err(()) => {
            ctx.report(
                v.span(),
                &k,
                "is neither \"all\" nor a list".to_owned(),
                "write \"all\" or a list such as [\"malware\", \"operational\"]".to_owned(),
            );
            return false;
        }
    };
    let mut engines = Vec::new();
    for (i, name) in list.iter().enumerate() {
        match Engine::from_name(name) {
            Some(e) => engines.push(e),
            None => {
                ok = false;
                ctx.report(
                    v.span(),
                    &format!("{k}[{i}]"),
                    format!("unknown engine {name:?}"),
                    "use \"protocol violation\", \"policy violation\", \"malware\", \
                     \"anomaly\" or \"operational\""
                        .to_owned(),
                );
            }
        }
    }
    if !ok {
        return false;
    }
    match rule.clone().with_engines(engines) {
        Ok(r) => {
            *rule = r;
            true
        }
        Err(e) => {
            core_error(ctx, v.span(), &k, &e);
            false
        }
    }
}

/// The required, non-empty `actions`: each name resolved to its destination's id and added to
/// `rule`; `false` after reporting a missing or empty list or a name that is not defined.
fn actions(
    ctx: &mut Ctx<'_>,
    rule: &mut Rule,
    actions: &Option<S<Vec<S<String>>>>,
    span: &Range<usize>,
    prefix: &str,
    targets: &Targets<'_>,
) -> bool {
    let actions_key = key(prefix, "actions");
    let Some(list) = required(
        ctx,
        actions,
        span,
        &actions_key,
        "add actions = [\"<destination name>\", ...]",
    ) else {
        return false;
    };
    if list.get_ref().is_empty() {
        ctx.report(
            list.span(),
            &actions_key,
            "is empty: the rule would send nowhere".to_owned(),
            "name at least one destination".to_owned(),
        );
        return false;
    }
    let mut ok = true;
    for (i, name) in list.get_ref().iter().enumerate() {
        let wanted = name.get_ref().trim();
        let found = targets
            .names
            .iter()
            .position(|d| !d.is_empty() && *d == wanted);
        match found {
            Some(id) => match u8::try_from(id).ok().and_then(DestinationId::new) {
                Some(id) => *rule = rule.clone().with_action(id),
                None => ok = false,
            },
            None => {
                ok = false;
                if !targets.incomplete {
                    unknown_action(
                        ctx,
                        name.span(),
                        &format!("{actions_key}[{i}]"),
                        wanted,
                        targets,
                    );
                }
            }
        }
    }
    ok
}

/// Reports an action naming no destination, with the names that are defined.
fn unknown_action(
    ctx: &mut Ctx<'_>,
    span: Range<usize>,
    k: &str,
    wanted: &str,
    targets: &Targets<'_>,
) {
    let defined: Vec<&str> = targets
        .names
        .iter()
        .copied()
        .filter(|d| !d.is_empty())
        .collect();
    let known = if defined.is_empty() {
        "none is defined".to_owned()
    } else {
        format!("defined: {}", defined.join(", "))
    };
    ctx.report(
        span,
        k,
        format!("no destination is named {wanted:?}"),
        format!("use the name of a [[destination]] ({known})"),
    );
}

/// Milliseconds since the epoch of a TOML offset date-time.
fn epoch_ms(dt: &toml::value::Datetime) -> Option<u64> {
    let (date, time, offset) = (dt.date?, dt.time?, dt.offset?);
    let offset_minutes: i64 = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes),
    };
    // The TOML parser has checked the date exists, so this is `Some`.
    let days = icsfwd_core::time::days_from_civil(i32::from(date.year), date.month, date.day)?;
    let secs = days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second.unwrap_or(0))
        - offset_minutes * 60;
    let ms = secs * 1000 + i64::from(time.nanosecond.unwrap_or(0) / 1_000_000);
    u64::try_from(ms).ok()
}

fn exclusion(
    ctx: &mut Ctx<'_>,
    raw: &raw::Exclusion,
    span: &Range<usize>,
    prefix: &str,
) -> Option<Exclusion> {
    let mut x = named(ctx, &raw.name, span, prefix, "exclusion", Exclusion::new)?;
    let mut ok = true;
    type Add = fn(Exclusion, &str) -> Result<Exclusion, icsfwd_core::rule::Error>;
    type Names = Option<S<Vec<S<String>>>>;
    let lists: [(&str, &Names, Add); 3] = [
        ("addresses", &raw.addresses, Exclusion::with_address),
        ("titles", &raw.titles, Exclusion::with_title),
        ("sensors", &raw.sensors, Exclusion::with_sensor),
    ];
    for (name, list, add) in lists {
        let Some(list) = list else { continue };
        for (i, item) in list.get_ref().iter().enumerate() {
            match add(x.clone(), item.get_ref()) {
                Ok(next) => x = next,
                Err(e) => {
                    ok = false;
                    core_error(ctx, item.span(), &format!("{prefix}.{name}[{i}]"), &e);
                }
            }
        }
    }
    let mut time = |v: &Option<S<toml::value::Datetime>>, name: &str| -> Option<Option<u64>> {
        let Some(v) = v else { return Some(None) };
        match epoch_ms(v.get_ref()) {
            Some(ms) => Some(Some(ms)),
            None => {
                ctx.report(
                    v.span(),
                    &key(prefix, name),
                    format!(
                        "{} is not a date and time with an offset after 1970",
                        v.get_ref()
                    ),
                    "write it like 2026-12-01T02:00:00Z (without quotes)".to_owned(),
                );
                None
            }
        }
    };
    let start = time(&raw.start, "start");
    let end = time(&raw.end, "end");
    match (start, end) {
        (Some(Some(start)), Some(Some(end))) => match TimeWindow::new(start, end) {
            Ok(w) => x = x.with_window(w),
            Err(e) => {
                ok = false;
                let at = raw.end.as_ref().map_or(span.clone(), S::span);
                core_error(ctx, at, &key(prefix, "end"), &e);
            }
        },
        (Some(None), Some(None)) => {}
        (Some(Some(_)), Some(None)) | (Some(None), Some(Some(_))) => {
            ok = false;
            let (present, missing, at) = match (&raw.start, &raw.end) {
                (Some(s), _) => ("start", "end", s.span()),
                (_, Some(e)) => ("end", "start", e.span()),
                _ => ("start", "end", span.clone()),
            };
            ctx.report(
                at,
                &key(prefix, present),
                format!("{present} is set without {missing}"),
                format!("set {missing} too: a window has both ends"),
            );
        }
        _ => ok = false,
    }
    if ok
        && x.window.is_none()
        && x.addresses.is_empty()
        && x.titles.is_empty()
        && x.sensors.is_empty()
    {
        core_error(
            ctx,
            span.clone(),
            prefix,
            &icsfwd_core::rule::Error::Unconditional,
        );
        return None;
    }
    ok.then_some(x)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;

    #[test]
    fn offset_datetimes_convert_to_epoch_ms() {
        let dt: toml::value::Datetime = "2023-11-14T22:13:20.5Z".parse().unwrap();
        assert_eq!(epoch_ms(&dt), Some(1_700_000_000_500));
        let dt: toml::value::Datetime = "2023-11-15T00:13:20+02:00".parse().unwrap();
        assert_eq!(epoch_ms(&dt), Some(1_700_000_000_000));
        let local: toml::value::Datetime = "2023-11-15T00:13:20".parse().unwrap();
        assert_eq!(epoch_ms(&local), None);
    }
}
