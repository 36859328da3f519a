//! `[health]`: how often the forwarder reports its own health, and whether (and how often)
//! sensor heartbeats are forwarded. The keys are described in `docs/configuration.md`.

use std::time::Duration;

use super::raw::{self, S};
use super::validate::{Ctx, duration};
use super::{DEFAULT_HEALTH_INTERVAL, Health};

/// The shortest health interval: a report per destination every second is already noise.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// The longest: a day.
const MAX_INTERVAL: Duration = Duration::from_secs(86_400);

/// `[health]`, or its defaults when the section is absent.
pub(crate) fn health(ctx: &mut Ctx<'_>, raw: raw::Health) -> Option<Health> {
    let interval = switchable(
        ctx,
        &raw.interval,
        "health.interval",
        Some(DEFAULT_HEALTH_INTERVAL),
    );
    let heartbeat_interval = switchable(
        ctx,
        &raw.heartbeat_interval,
        "health.heartbeat_interval",
        None,
    );
    Some(Health {
        interval: interval?,
        heartbeat_interval: heartbeat_interval?,
    })
}

/// A duration that may also be `"off"`: `Some(None)` for off, `Some(Some(d))` for a duration,
/// `None` after a reported problem.
fn switchable(
    ctx: &mut Ctx<'_>,
    v: &Option<S<raw::Text>>,
    key: &str,
    default: Option<Duration>,
) -> Option<Option<Duration>> {
    let Some(value) = v else {
        return Some(default);
    };
    if let raw::Text::Text(t) = value.get_ref()
        && t.trim().eq_ignore_ascii_case("off")
    {
        return Some(None);
    }
    duration(ctx, v, key, MIN_INTERVAL, (MIN_INTERVAL, MAX_INTERVAL)).map(Some)
}
