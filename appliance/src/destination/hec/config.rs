//! The keys of a `hec` destination ([`Keys`], read after `kind`, unknown keys refused) and
//! their validation into [`Hec`], every problem with its place and fix.

use std::ops::Range;
use std::time::Duration;

use icsfwd_core::format::hec;
use serde::Deserialize;

use super::sender::is_guid;
use super::{Batch, Hec, HecUrl, MAX_REQUESTS_IN_FLIGHT, NAME};
use crate::config::raw::{S, Size, Text};
use crate::config::table::fields_of;
use crate::config::validate::{
    Ctx, MIB, duration, flag, key, optional_text, required, secret, size,
};
use crate::destination::DestinationKind;
use crate::destination::Secret;
use crate::destination::config::{Kind, KindKeys, Settings, check, keys_of};
use crate::destination::failover::{check_len, check_unique};
use crate::destination::proxy;

/// The keys of `kind = "hec"` (besides `name`, `kind` and the keys every kind shares).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Keys {
    urls: Option<S<Vec<S<String>>>>,
    token: Option<S<String>>,
    token_file: Option<S<String>>,
    token_env: Option<S<String>>,
    index: Option<S<String>>,
    source: Option<S<String>>,
    sourcetype: Option<S<String>>,
    ack: Option<S<bool>>,
    ack_deadline: Option<S<Text>>,
    batch_max_events: Option<S<i64>>,
    batch_max_bytes: Option<S<Size>>,
    batch_linger: Option<S<Text>>,
    gzip: Option<S<bool>>,
    requests_in_flight: Option<S<i64>>,
    event_host: Option<S<String>>,
    channel: Option<S<String>>,
    proxy: Option<S<String>>,
    proxy_credentials_file: Option<S<String>>,
    no_proxy: Option<S<Vec<S<String>>>>,
}

/// How a `hec` destination is read.
pub(crate) const KIND: Kind = Kind {
    name: NAME,
    about: " (HTTP Event Collector, 8088)",
    keys: fields_of::<Keys>,
    check: check::<Keys>,
    keys_of: keys_of::<Keys>,
};

impl KindKeys for Keys {
    const NAME: &'static str = NAME;
    const SETTINGS: Settings<Self> =
        |ctx, keys, span, prefix| validate(ctx, keys, span, prefix).map(DestinationKind::Hec);
}

/// The settings the keys `raw` (of the table at `span`, key path `prefix`) describe.
fn validate(ctx: &mut Ctx<'_>, raw: &Keys, span: &Range<usize>, prefix: &str) -> Option<Hec> {
    let urls = urls(ctx, raw, span, prefix);
    let token = token(ctx, raw, span, prefix);
    let ack = flag(&raw.ack, false);
    if !ack && let Some(v) = &raw.ack_deadline {
        ctx.report(
            v.span(),
            &key(prefix, "ack_deadline"),
            "ack_deadline is set but ack is not".to_owned(),
            "set ack = true, or remove ack_deadline".to_owned(),
        );
    }
    let ack_deadline = duration(
        ctx,
        &raw.ack_deadline,
        &key(prefix, "ack_deadline"),
        Duration::from_secs(300),
        (Duration::from_secs(1), Duration::from_secs(3600)),
    );
    let batch = batch(ctx, raw, prefix);
    let requests_in_flight = requests_in_flight(ctx, raw, prefix);
    let channel = channel(ctx, raw, prefix);
    let envelope = envelope(ctx, raw, prefix);
    let proxy = proxy::validate(
        ctx,
        (&raw.proxy, &raw.proxy_credentials_file, &raw.no_proxy),
        prefix,
    );
    let mut hec = Hec::new(urls?, token?);
    hec.ack = ack;
    hec.ack_deadline = ack_deadline?;
    hec.batch = batch?;
    hec.gzip = flag(&raw.gzip, false);
    hec.requests_in_flight = requests_in_flight?;
    hec.in_flight_by_cores = raw.requests_in_flight.is_none();
    hec.channel = channel?;
    hec.envelope = envelope?;
    hec.proxy = proxy?;
    Some(hec)
}

/// Parses `https://host[:port][/]`.
fn hec_url(text: &str) -> Result<HecUrl, &'static str> {
    text.parse()
}

/// `urls`: 1 to [`MAX_HOSTS`](crate::destination::failover::MAX_HOSTS) collectors' base URLs.
fn urls(ctx: &mut Ctx<'_>, raw: &Keys, span: &Range<usize>, prefix: &str) -> Option<Vec<HecUrl>> {
    let urls_key = key(prefix, "urls");
    let list = required(
        ctx,
        &raw.urls,
        span,
        &urls_key,
        "add urls = [\"https://splunk.example.com:8088\"]",
    )?;
    let example = "\"https://idx1.example:8088\", \"https://idx2.example:8088\"";
    if !check_len(ctx, list, &urls_key, "URLs", example) {
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, u) in list.get_ref().iter().enumerate() {
        match hec_url(u.get_ref()) {
            Ok(url) => out.push(url),
            Err(why) => {
                ok = false;
                ctx.report(
                    u.span(),
                    &format!("{urls_key}[{i}]"),
                    format!("{:?} {why}", u.get_ref()),
                    "write the collector's base URL, such as \
                     \"https://splunk.example.com:8088\""
                        .to_owned(),
                );
            }
        }
    }
    (ok && check_unique(ctx, list.get_ref(), &urls_key, &out)).then_some(out)
}

/// The required token, from `token`, `token_file` or `token_env`.
fn token(ctx: &mut Ctx<'_>, raw: &Keys, span: &Range<usize>, prefix: &str) -> Option<Secret> {
    match secret(
        ctx,
        prefix,
        "token",
        &raw.token,
        &raw.token_file,
        &raw.token_env,
    ) {
        Ok(Some(t)) => Some(t),
        Ok(None) => {
            ctx.report(
                span.clone(),
                &key(prefix, "token"),
                "is missing".to_owned(),
                "add token_file = \"/etc/icsfwd/hec.token\" (mode 0600) or token_env".to_owned(),
            );
            None
        }
        Err(()) => None,
    }
}

/// `batch_max_events`, `batch_max_bytes`, `batch_linger`.
fn batch(ctx: &mut Ctx<'_>, raw: &Keys, prefix: &str) -> Option<Batch> {
    let max_events =
        raw.batch_max_events
            .as_ref()
            .map_or(Some(500), |v| match usize::try_from(*v.get_ref()) {
                Ok(n) if (1..=10_000).contains(&n) => Some(n),
                _ => {
                    ctx.report(
                        v.span(),
                        &key(prefix, "batch_max_events"),
                        format!("{} is out of range", v.get_ref()),
                        "use 1 to 10000 events per request".to_owned(),
                    );
                    None
                }
            });
    let min_batch = u64::try_from(hec::MAX_LEN).unwrap_or(u64::MAX);
    let max_bytes = size(
        ctx,
        &raw.batch_max_bytes,
        &key(prefix, "batch_max_bytes"),
        1_000_000,
        (min_batch, 64 * MIB),
    )
    .and_then(|n| usize::try_from(n).ok());
    let linger = duration(
        ctx,
        &raw.batch_linger,
        &key(prefix, "batch_linger"),
        Duration::from_millis(50),
        (Duration::ZERO, Duration::from_secs(10)),
    );
    Some(Batch {
        max_events: max_events?,
        max_bytes: max_bytes?,
        linger: linger?,
    })
}

/// `requests_in_flight`: 1 to [`MAX_REQUESTS_IN_FLIGHT`]; default 2, lowered while the HEC
/// destinations share the cores ([`super::default_requests_in_flight`]).
fn requests_in_flight(ctx: &mut Ctx<'_>, raw: &Keys, prefix: &str) -> Option<usize> {
    let Some(v) = &raw.requests_in_flight else {
        return Some(2);
    };
    match usize::try_from(*v.get_ref()) {
        Ok(n) if (1..=MAX_REQUESTS_IN_FLIGHT).contains(&n) => Some(n),
        _ => {
            ctx.report(
                v.span(),
                &key(prefix, "requests_in_flight"),
                format!("{} is out of range", v.get_ref()),
                format!(
                    "use 1 (one request at a time) to {MAX_REQUESTS_IN_FLIGHT} requests in flight"
                ),
            );
            None
        }
    }
}

/// `channel`: a GUID, or none (one is generated at start).
fn channel(ctx: &mut Ctx<'_>, raw: &Keys, prefix: &str) -> Option<Option<String>> {
    match &raw.channel {
        Some(v) if !is_guid(v.get_ref().trim()) => {
            ctx.report(
                v.span(),
                &key(prefix, "channel"),
                format!("{:?} is not a GUID", v.get_ref()),
                "write a GUID such as \"0b8f2a4c-5d1e-4f3a-9c7b-2e6d8a1f0c3e\", or remove the \
                 key to generate one at start"
                    .to_owned(),
            );
            None
        }
        Some(v) => Some(Some(v.get_ref().trim().to_ascii_lowercase())),
        None => Some(None),
    }
}

fn bounded_option(value: &str) -> Option<heapless::String<{ hec::MAX_OPTION_LEN }>> {
    let mut out = heapless::String::new();
    out.push_str(value).ok()?;
    Some(out)
}

/// One envelope field's setter.
type SetField = fn(&mut hec::Options, heapless::String<{ hec::MAX_OPTION_LEN }>);

/// The envelope's `host` (`event_host`), `source`, `sourcetype` and `index`.
fn envelope(ctx: &mut Ctx<'_>, raw: &Keys, prefix: &str) -> Option<hec::Options> {
    let mut envelope = hec::Options::default();
    let mut envelope_ok = true;
    let fields: [(&str, &Option<S<String>>, SetField); 4] = [
        ("event_host", &raw.event_host, |e, v| e.host = Some(v)),
        ("source", &raw.source, |e, v| e.source = v),
        ("sourcetype", &raw.sourcetype, |e, v| e.sourcetype = Some(v)),
        ("index", &raw.index, |e, v| e.index = Some(v)),
    ];
    for (name, v, set) in fields {
        let Ok(Some(value)) = optional_text(ctx, v, &key(prefix, name), hec::MAX_OPTION_LEN) else {
            envelope_ok &= v.is_none();
            continue;
        };
        let Some(value) = bounded_option(&value) else {
            envelope_ok = false;
            continue;
        };
        set(&mut envelope, value);
    }
    envelope_ok.then_some(envelope)
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
    fn hec_urls_are_base_urls_with_a_default_port() {
        let url = hec_url("https://splunk.example:8443/").unwrap();
        assert_eq!(url.to_string(), "https://splunk.example:8443");
        assert_eq!(
            hec_url("http://[::1]").unwrap().to_string(),
            "http://[::1]:8088"
        );
        for bad in [
            "splunk:8088",
            "https://s/services/collector",
            "https://u:p@s",
            "https://s:0",
            "https://s:99999",
            "https://",
        ] {
            assert!(hec_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guids_are_8_4_4_4_12_hex() {
        assert!(is_guid("0b8f2a4c-5d1e-4f3a-9c7b-2e6d8a1f0c3e"));
        assert!(!is_guid("0b8f2a4c5d1e4f3a9c7b2e6d8a1f0c3e"));
        assert!(!is_guid("not-a-guid-at-all"));
    }
}
