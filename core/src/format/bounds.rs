//! Output bounds shared by the formats' `MAX_LEN` expressions: the longest text of a number,
//! an address or a name, and a `const` [`max`].

pub(crate) use crate::stack_text::{MAX_IP_TEXT, MAX_MAC_TEXT, MAX_U64_TEXT};
/// `65535`.
pub(crate) const MAX_PORT_TEXT: usize = 5;

/// The larger of two lengths (`Ord::max` is not `const`).
pub(crate) const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// The longest [`Engine::as_str`](crate::alert::Engine::as_str).
pub(crate) const fn longest_engine_name() -> usize {
    let mut engines: &[crate::alert::Engine] = &crate::alert::Engine::ALL;
    let mut n = 0;
    while let [engine, rest @ ..] = engines {
        n = max(n, engine.as_str().len());
        engines = rest;
    }
    n
}

/// The longest [`NotificationKind::as_str`](crate::alert::NotificationKind::as_str).
pub(crate) const fn longest_notification_name() -> usize {
    let mut kinds: &[crate::alert::NotificationKind] = &crate::alert::NotificationKind::ALL;
    let mut n = 0;
    while let [kind, rest @ ..] = kinds {
        n = max(n, kind.as_str().len());
        kinds = rest;
    }
    n
}

/// The longest [`NotificationKind::token`](crate::alert::NotificationKind::token).
pub(crate) const fn longest_notification_token() -> usize {
    let mut kinds: &[crate::alert::NotificationKind] = &crate::alert::NotificationKind::ALL;
    let mut n = 0;
    while let [kind, rest @ ..] = kinds {
        n = max(n, kind.token().len());
        kinds = rest;
    }
    n
}

/// The longest [`Severity::as_str`](crate::alert::Severity::as_str).
pub(crate) const fn longest_severity_name() -> usize {
    let mut severities: &[crate::alert::Severity] = &crate::alert::Severity::ALL;
    let mut n = 0;
    while let [severity, rest @ ..] = severities {
        n = max(n, severity.as_str().len());
        severities = rest;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_name_helpers_see_every_variant() {
        assert_eq!(longest_engine_name(), "Protocol Violation".len());
        assert_eq!(longest_severity_name(), "Critical".len());
        assert_eq!(longest_notification_name(), "Sensor offline".len());
        assert_eq!(longest_notification_token(), "sensor_offline".len());
    }
}
