//! The keys of a `syslog` destination ([`Keys`], read after `kind`, unknown keys refused) and
//! their validation into [`Syslog`], every problem with its place and fix.

use std::ops::Range;

use icsfwd_core::format::syslog;
use serde::Deserialize;

use super::{Confirm, NAME, Syslog, Transport};
use crate::config::raw::{Level, S};
use crate::config::table::fields_of;
use crate::config::validate::{Ctx, key, port};
use crate::destination::DestinationKind;
use crate::destination::config::{Kind, KindKeys, Settings, check, keys_of};
use crate::destination::failover::hosts;

/// The keys of `kind = "syslog"` (besides `name`, `kind` and the keys every kind shares).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Keys {
    host: Option<S<String>>,
    hosts: Option<S<Vec<S<String>>>>,
    port: Option<S<i64>>,
    transport: Option<S<String>>,
    payload: Option<S<String>>,
    facility: Option<S<Level>>,
    level: Option<S<Level>>,
    level_map: Option<S<LevelMap>>,
    confirm: Option<S<String>>,
}

/// `level_map = { warning = .., minor = .., major = .., critical = .. }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelMap {
    warning: Option<S<Level>>,
    minor: Option<S<Level>>,
    major: Option<S<Level>>,
    critical: Option<S<Level>>,
}

/// How a `syslog` destination is read.
pub(crate) const KIND: Kind = Kind {
    name: NAME,
    about: "",
    keys: fields_of::<Keys>,
    check: check::<Keys>,
    keys_of: keys_of::<Keys>,
};

impl KindKeys for Keys {
    const NAME: &'static str = NAME;
    const SETTINGS: Settings<Self> =
        |ctx, keys, span, prefix| validate(ctx, keys, span, prefix).map(DestinationKind::Syslog);
}

/// The settings the keys `raw` (of the table at `span`, key path `prefix`) describe.
fn validate(ctx: &mut Ctx<'_>, raw: &Keys, span: &Range<usize>, prefix: &str) -> Option<Syslog> {
    let transport = transport(ctx, raw, prefix);
    let default_port = transport.map_or(514, Transport::default_port);
    let port = port(ctx, &raw.port, &key(prefix, "port"), default_port);
    let hosts = hosts(ctx, (&raw.host, &raw.hosts), port, span, prefix);
    let confirm = syslog_confirm(ctx, raw.confirm.as_ref(), transport, prefix);
    let payload = payload(ctx, raw, prefix);
    let facility = facility(ctx, raw, prefix);
    let level = level(ctx, raw, prefix)?;
    let message = syslog::Options {
        facility: facility?,
        level: level?,
        payload: payload?,
        bom: false,
    };
    let mut settings = Syslog::new("", default_port, transport?);
    settings.hosts = hosts?;
    settings.confirm = confirm?;
    settings.message = message;
    Some(settings)
}

/// `transport`: `tcp` (default), `tls`, `udp`, `relp` or `relp-tls`.
fn transport(ctx: &mut Ctx<'_>, raw: &Keys, prefix: &str) -> Option<Transport> {
    match raw
        .transport
        .as_ref()
        .map(|v| (v, v.get_ref().trim().to_ascii_lowercase()))
    {
        None => Some(Transport::Tcp),
        Some((_, t)) if t == "tcp" => Some(Transport::Tcp),
        Some((_, t)) if t == "tls" => Some(Transport::Tls),
        Some((_, t)) if t == "udp" => Some(Transport::Udp),
        Some((_, t)) if t == "relp" => Some(Transport::Relp),
        Some((_, t)) if t == "relp-tls" => Some(Transport::RelpTls),
        Some((v, _)) => {
            ctx.report(
                v.span(),
                &key(prefix, "transport"),
                format!("unknown transport {:?}", v.get_ref()),
                "use \"tcp\" (default), \"tls\", \"udp\", \"relp\" or \"relp-tls\"".to_owned(),
            );
            None
        }
    }
}

/// `payload`: `cef` (default), `leef` or `text`.
fn payload(ctx: &mut Ctx<'_>, raw: &Keys, prefix: &str) -> Option<syslog::Payload> {
    let Some(v) = &raw.payload else {
        return Some(syslog::Payload::default());
    };
    let kind = icsfwd_core::format::Kind::from_name(v.get_ref());
    let payload =
        kind.and_then(|k| syslog::Payload::of(k, &icsfwd_core::format::Options::default()));
    if payload.is_none() {
        ctx.report(
            v.span(),
            &key(prefix, "payload"),
            format!("unknown payload {:?}", v.get_ref()),
            "use \"cef\" (default), \"leef\" or \"text\"".to_owned(),
        );
    }
    payload
}

/// `facility`: a code or a name; default `user`.
fn facility(ctx: &mut Ctx<'_>, raw: &Keys, prefix: &str) -> Option<syslog::Facility> {
    let Some(v) = &raw.facility else {
        return Some(syslog::Facility::USER);
    };
    let code = match v.get_ref() {
        Level::Code(n) => u8::try_from(*n).ok(),
        Level::Name(name) => {
            let name = name.trim().to_ascii_lowercase();
            FACILITIES
                .iter()
                .position(|f| *f == name)
                .and_then(|i| u8::try_from(i).ok())
        }
    };
    let facility = code.and_then(syslog::Facility::new);
    if facility.is_none() {
        ctx.report(
            v.span(),
            &key(prefix, "facility"),
            "is not a syslog facility".to_owned(),
            format!("use 0-23 or a name: {}", FACILITIES.join(", ")),
        );
    }
    facility
}

/// `level` (`per-severity`, the default, or a fixed level) and `level_map`. The outer `None`:
/// the destination is refused outright (a map with a fixed level).
fn level(ctx: &mut Ctx<'_>, raw: &Keys, prefix: &str) -> Option<Option<syslog::Level>> {
    let per_severity = match &raw.level {
        None => true,
        Some(v) => {
            matches!(v.get_ref(), Level::Name(n) if n.trim().eq_ignore_ascii_case("per-severity"))
        }
    };
    if !per_severity {
        let fixed = raw
            .level
            .as_ref()
            .and_then(|v| syslog_level(ctx, v, &key(prefix, "level")));
        if let Some(m) = &raw.level_map {
            ctx.report(
                m.span(),
                &key(prefix, "level_map"),
                "level_map is set with a fixed level".to_owned(),
                "set level = \"per-severity\" to use the map, or remove level_map".to_owned(),
            );
            return None;
        }
        return Some(fixed.map(syslog::Level::Fixed));
    }
    let mut map = syslog::LevelMap::DEFAULT;
    let mut ok = true;
    if let Some(m) = &raw.level_map {
        let m = m.get_ref();
        for (name, v, slot) in [
            ("warning", &m.warning, &mut map.warning),
            ("minor", &m.minor, &mut map.minor),
            ("major", &m.major, &mut map.major),
            ("critical", &m.critical, &mut map.critical),
        ] {
            if let Some(v) = v {
                match syslog_level(ctx, v, &format!("{prefix}.level_map.{name}")) {
                    Some(code) => *slot = code,
                    None => ok = false,
                }
            }
        }
    }
    Some(ok.then_some(syslog::Level::PerSeverity(map)))
}

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];
const LEVELS: [&str; 8] = [
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "informational",
    "debug",
];

fn level_code(name: &str) -> Option<u8> {
    let name = name.trim().to_ascii_lowercase();
    let name = match name.as_str() {
        "emerg" | "panic" => "emergency",
        "crit" => "critical",
        "err" => "error",
        "warn" => "warning",
        "info" => "informational",
        other => other,
    };
    LEVELS
        .iter()
        .position(|l| *l == name)
        .and_then(|i| u8::try_from(i).ok())
}

fn syslog_level(ctx: &mut Ctx<'_>, v: &S<Level>, k: &str) -> Option<syslog::SeverityCode> {
    let code = match v.get_ref() {
        Level::Code(n) => u8::try_from(*n).ok(),
        Level::Name(name) => level_code(name),
    };
    match code.and_then(syslog::SeverityCode::new) {
        Some(c) => Some(c),
        None => {
            ctx.report(
                v.span(),
                k,
                "is not a syslog level".to_owned(),
                format!("use 0-7 or a name: {}", LEVELS.join(", ")),
            );
            None
        }
    }
}

/// `confirm`: `tcp-ack` (default) or `write`, for syslog over tcp or tls only (UDP gives no
/// confirmation at all and RELP its own answer, so the key would promise what it cannot do).
fn syslog_confirm(
    ctx: &mut Ctx<'_>,
    raw: Option<&S<String>>,
    transport: Option<Transport>,
    prefix: &str,
) -> Option<Confirm> {
    let Some(v) = raw else {
        return Some(Confirm::default());
    };
    let unconfirmable = match transport {
        Some(Transport::Udp) => Some(
            "remove it: UDP gives no confirmation at all (a datagram the kernel took counts as \
             delivered)",
        ),
        Some(Transport::Relp | Transport::RelpTls) => Some(
            "remove it: over RELP the receiver answers every message, and only that answer \
             confirms a record",
        ),
        Some(Transport::Tcp | Transport::Tls) | None => None,
    };
    if let Some(fix) = unconfirmable {
        ctx.report(
            v.span(),
            &key(prefix, "confirm"),
            "`confirm` applies only to syslog over tcp or tls".to_owned(),
            fix.to_owned(),
        );
        return None;
    }
    match v.get_ref().trim().to_ascii_lowercase().as_str() {
        "tcp-ack" => Some(Confirm::TcpAck),
        "write" => Some(Confirm::Write),
        _ => {
            ctx.report(
                v.span(),
                &key(prefix, "confirm"),
                format!("unknown confirmation {:?}", v.get_ref()),
                "use \"tcp-ack\" (default: at least once, a broken connection re-sends) or \
                 \"write\" (a broken connection may lose records, counted as possible loss)"
                    .to_owned(),
            );
            None
        }
    }
}
