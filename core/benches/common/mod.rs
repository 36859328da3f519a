//! The deployment that `benches/route_format.rs` times and `examples/route_format_profile.rs`
//! profiles, in one place so that both measure the same rule set: eight rules (severity
//! tiers, per-engine and per-protocol rules, notifications) and two exclusions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a bench setup fails loudly"
)]

use icsfwd_core::alert::{Engine, Severity};
use icsfwd_core::destination::DestinationId;
use icsfwd_core::rule::{Exclusion, Rule, RuleSet};

/// The alert's time and the routing clock.
pub const NOW_MS: u64 = 1_700_000_000_000;

/// Destination `i`.
pub fn dest(i: u8) -> DestinationId {
    DestinationId::new(i).unwrap()
}

/// The rule set.
pub fn deployment() -> RuleSet {
    let mut rules = RuleSet::new();
    let mut push = |rule: Rule| rules.push_rule(rule).unwrap();
    push(
        Rule::new("critical-to-soc")
            .unwrap()
            .with_min_severity(Severity::Critical)
            .with_action(dest(0)),
    );
    push(
        Rule::new("major-to-splunk")
            .unwrap()
            .with_min_severity(Severity::Major)
            .with_action(dest(1)),
    );
    push(
        Rule::new("malware-team")
            .unwrap()
            .with_engines([Engine::Malware])
            .unwrap()
            .with_action(dest(2)),
    );
    push(
        Rule::new("plc-commands")
            .unwrap()
            .with_protocols(["S7", "Modbus/TCP", "EtherNet/IP", "DNP3", "IEC 60870-5-104"])
            .unwrap()
            .with_engines([Engine::Operational, Engine::PolicyViolation])
            .unwrap()
            .with_action(dest(3)),
    );
    push(
        Rule::new("protocol-violations")
            .unwrap()
            .with_min_severity(Severity::Minor)
            .with_engines([Engine::ProtocolViolation])
            .unwrap()
            .with_action(dest(4)),
    );
    push(
        Rule::new("anomaly-scan")
            .unwrap()
            .with_engines([Engine::Anomaly])
            .unwrap()
            .with_protocols(["ICMP", "TCP", "UDP", "ARP"])
            .unwrap()
            .with_action(dest(5)),
    );
    push(
        Rule::new("notifications")
            .unwrap()
            .forwarding_alerts(false)
            .forwarding_notifications(true)
            .with_action(dest(0)),
    );
    push(
        Rule::new("archive-everything")
            .unwrap()
            .with_action(dest(6)),
    );
    rules
        .push_exclusion(
            Exclusion::new("lab-subnet")
                .unwrap()
                .with_address("10.99.0.0/16")
                .unwrap(),
        )
        .unwrap();
    rules
        .push_exclusion(
            Exclusion::new("noisy-title")
                .unwrap()
                .with_title("ICMP Flooding")
                .unwrap(),
        )
        .unwrap();
    rules
}
