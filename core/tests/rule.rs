//! Forwarding rules and exclusions: routing, explanations, capacities and subnets.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions (and the shared fixtures) fail by panicking"
)]

#[allow(dead_code, reason = "this binary uses part of the shared support")]
mod common;

use core::net::IpAddr;

use common::{arb_event, notification, sample_alert};
use icsfwd_core::alert::{Alert, Engine, Event, NotificationKind, Severity};
use icsfwd_core::destination::{DestinationId, DestinationSet};
use icsfwd_core::rule::{
    EngineSet, Engines, Error, Exclusion, Field, List, MAX_EXCLUSION_ADDRESSES,
    MAX_EXCLUSION_SENSORS, MAX_EXCLUSION_TITLES, MAX_EXCLUSIONS, MAX_PROTOCOL_NAMES, MAX_RULE_NAME,
    MAX_RULE_PROTOCOLS, MAX_RULES, Protocols, Rule, RuleSet, Subnet, SubnetError, TimeWindow,
    Verdict,
};
use proptest::prelude::*;

fn dest(i: u8) -> DestinationId {
    DestinationId::new(i).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn alert(severity: Severity, engine: Engine, protocol: &str) -> Event {
    let mut a = sample_alert();
    a.severity = severity;
    a.engine = engine;
    a.set_protocol(protocol);
    Event::from(a)
}

fn set_of(rules: impl IntoIterator<Item = Rule>) -> RuleSet {
    RuleSet::from_parts(rules, []).unwrap()
}

fn with_exclusion(exclusion: Exclusion) -> RuleSet {
    RuleSet::from_parts(
        [Rule::new("everything").unwrap().with_action(dest(0))],
        [exclusion],
    )
    .unwrap()
}

fn sample_with(edit: impl FnOnce(&mut Alert)) -> Event {
    let mut a = sample_alert();
    edit(&mut a);
    Event::from(a)
}

// ---- rules ----

#[test]
fn severity_threshold_includes_the_minimum_at_every_level() {
    for minimum in Severity::ALL {
        let rules = set_of([Rule::new("r")
            .unwrap()
            .with_min_severity(minimum)
            .with_action(dest(1))]);
        for severity in Severity::ALL {
            let event = alert(severity, Engine::Malware, "S7");
            let routed = rules.route(&event, 0);
            assert_eq!(
                !routed.is_empty(),
                severity >= minimum,
                "{severity} vs min {minimum}"
            );
            let verdict = rules.explain(&event, 0).verdicts().next().unwrap().verdict;
            if severity < minimum {
                assert_eq!(verdict, Verdict::SeverityBelowMinimum { severity, minimum });
            } else {
                assert_eq!(
                    verdict,
                    Verdict::Matched(DestinationSet::EMPTY.with(dest(1)))
                );
            }
        }
    }
}

#[test]
fn any_protocol_rule_takes_every_protocol_even_none() {
    let rules = set_of([Rule::new("all").unwrap().with_action(dest(0))]);
    for protocol in ["Modbus", "S7", "", "something new"] {
        assert!(
            !rules
                .route(&alert(Severity::Minor, Engine::Anomaly, protocol), 0)
                .is_empty()
        );
    }
}

#[test]
fn specific_protocols_match_ignoring_ascii_case_and_surrounding_blanks() {
    let rule = Rule::new("ot")
        .unwrap()
        .with_protocols(["Modbus", " s7 "])
        .unwrap();
    let rules = set_of([rule.with_action(dest(3))]);
    for protocol in ["Modbus", "MODBUS", "modbus ", "  S7", "s7"] {
        let event = alert(Severity::Warning, Engine::Operational, protocol);
        assert_eq!(
            rules.route(&event, 0),
            DestinationSet::EMPTY.with(dest(3)),
            "{protocol}"
        );
    }
    for protocol in ["DNP3", "", "Modbus/TCP", "S", "S7x"] {
        let event = alert(Severity::Warning, Engine::Operational, protocol);
        assert!(rules.route(&event, 0).is_empty(), "{protocol}");
    }
}

#[test]
fn hand_built_protocol_list_is_matched_trimmed_too() {
    let mut rule = Rule::new("hand").unwrap().with_action(dest(0));
    let mut list = heapless::Vec::new();
    list.push(heapless::String::try_from("  BACnet\t").unwrap())
        .unwrap();
    rule.protocols = Protocols::Specific(list);
    let rules = set_of([rule]);
    assert!(
        !rules
            .route(&alert(Severity::Major, Engine::Malware, "bacnet"), 0)
            .is_empty()
    );
}

#[test]
fn any_engine_vs_specific_engines() {
    let any = set_of([Rule::new("any").unwrap().with_action(dest(0))]);
    let specific = set_of([Rule::new("two")
        .unwrap()
        .with_engines([Engine::Malware, Engine::Anomaly])
        .unwrap()
        .with_action(dest(0))]);
    for engine in Engine::ALL {
        let event = alert(Severity::Major, engine, "S7");
        assert!(!any.route(&event, 0).is_empty());
        let expected = matches!(engine, Engine::Malware | Engine::Anomaly);
        assert_eq!(!specific.route(&event, 0).is_empty(), expected, "{engine}");
    }
}

#[test]
fn the_health_report_follows_only_the_health_flag_and_other_notifications_ignore_it() {
    let notes = Rule::new("notes")
        .unwrap()
        .forwarding_notifications(true)
        .with_action(dest(1));
    let health = Rule::new("health")
        .unwrap()
        .forwarding_alerts(false)
        .forwarding_health(true)
        .with_action(dest(2));
    let rules = set_of([notes, health]);
    for kind in NotificationKind::ALL {
        let event = Event::from(notification(kind));
        let (expected, verdicts) = if kind.is_health() {
            (
                dest(2),
                [
                    Verdict::HealthNotForwarded,
                    Verdict::Matched(DestinationSet::EMPTY.with(dest(2))),
                ],
            )
        } else {
            (
                dest(1),
                [
                    Verdict::Matched(DestinationSet::EMPTY.with(dest(1))),
                    Verdict::NotificationsNotForwarded,
                ],
            )
        };
        assert_eq!(
            rules.route(&event, 0),
            DestinationSet::EMPTY.with(expected),
            "{kind}"
        );
        let explained: Vec<_> = rules
            .explain(&event, 0)
            .verdicts()
            .map(|v| v.verdict)
            .collect();
        assert_eq!(explained, verdicts, "{kind}");
    }
    assert_eq!(
        Verdict::HealthNotForwarded.to_string(),
        "the rule does not forward health reports"
    );
}

#[test]
fn rule_that_does_not_forward_alerts_ignores_every_alert() {
    let rules = set_of([Rule::new("notes-only")
        .unwrap()
        .forwarding_alerts(false)
        .forwarding_notifications(true)
        .with_action(dest(0))]);
    let event = alert(Severity::Critical, Engine::Malware, "S7");
    assert!(rules.route(&event, 0).is_empty());
    assert_eq!(
        rules.explain(&event, 0).verdicts().next().unwrap().verdict,
        Verdict::AlertsNotForwarded
    );
}

#[test]
fn notifications_follow_only_the_forward_notifications_flag() {
    // Conditions that no notification could meet if they applied: they do not.
    let strict = Rule::new("strict")
        .unwrap()
        .with_min_severity(Severity::Critical)
        .with_protocols(["Modbus"])
        .unwrap()
        .with_engines([Engine::Malware])
        .unwrap()
        .forwarding_notifications(true)
        .with_action(dest(4));
    let silent = Rule::new("alerts-only").unwrap().with_action(dest(5));
    let rules = set_of([strict, silent]);
    for kind in NotificationKind::ALL.into_iter().filter(|k| !k.is_health()) {
        let event = Event::from(notification(kind));
        assert_eq!(
            rules.route(&event, 0),
            DestinationSet::EMPTY.with(dest(4)),
            "{kind}"
        );
        let verdicts: Vec<_> = rules
            .explain(&event, 0)
            .verdicts()
            .map(|v| v.verdict)
            .collect();
        assert_eq!(verdicts[1], Verdict::NotificationsNotForwarded);
    }
}

#[test]
fn matching_rules_union_their_actions_and_others_add_nothing() {
    let rules = set_of([
        Rule::new("a")
            .unwrap()
            .with_action(dest(0))
            .with_action(dest(2)),
        Rule::new("b")
            .unwrap()
            .with_action(dest(2))
            .with_action(dest(7)),
        Rule::new("never")
            .unwrap()
            .with_protocols(["DNP3"])
            .unwrap()
            .with_action(dest(9)),
        Rule::new("c")
            .unwrap()
            .with_min_severity(Severity::Major)
            .with_action(dest(31)),
    ]);
    let routed = rules.route(&alert(Severity::Major, Engine::Operational, "S7"), 0);
    let ids: Vec<u8> = routed.iter().map(DestinationId::get).collect();
    assert_eq!(ids, [0, 2, 7, 31]);
}

// ---- exclusions ----

#[test]
fn exclusion_by_source_address_suppresses() {
    let rules = with_exclusion(
        Exclusion::new("hmi")
            .unwrap()
            .with_address("10.20.1.7")
            .unwrap(),
    );
    assert!(rules.route(&Event::from(sample_alert()), 0).is_empty());
    let other = sample_with(|a| a.source.ip = ip("10.20.1.8"));
    assert!(!rules.route(&other, 0).is_empty());
}

#[test]
fn exclusion_by_destination_address_suppresses() {
    let rules = with_exclusion(
        Exclusion::new("plc")
            .unwrap()
            .with_address("10.20.3.11")
            .unwrap(),
    );
    assert!(rules.route(&Event::from(sample_alert()), 0).is_empty());
    let other = sample_with(|a| a.destination.ip = ip("10.20.3.12"));
    assert!(!rules.route(&other, 0).is_empty());
}

#[test]
fn exclusion_by_ipv4_subnet_covers_its_range_only() {
    let rules = with_exclusion(
        Exclusion::new("line3")
            .unwrap()
            .with_address("10.20.3.0/24")
            .unwrap(),
    );
    for (dst, excluded) in [
        ("10.20.3.0", true),
        ("10.20.3.255", true),
        ("10.20.4.0", false),
        ("10.20.2.255", false),
    ] {
        let event = sample_with(|a| a.destination.ip = ip(dst));
        assert_eq!(rules.route(&event, 0).is_empty(), excluded, "{dst}");
    }
}

#[test]
fn exclusion_by_ipv6_subnet_covers_its_range_only() {
    let rules = with_exclusion(
        Exclusion::new("ll")
            .unwrap()
            .with_address("fe80::/10")
            .unwrap(),
    );
    for (src, excluded) in [
        ("fe80::1", true),
        ("febf:ffff::1", true),
        ("fec0::", false),
        ("10.20.1.7", false),
    ] {
        let event = sample_with(|a| a.source.ip = ip(src));
        assert_eq!(rules.route(&event, 0).is_empty(), excluded, "{src}");
    }
}

#[test]
fn exclusion_by_title_is_exact_but_ignores_case_and_blanks() {
    let rules = with_exclusion(
        Exclusion::new("noise")
            .unwrap()
            .with_title(" plc program STOP ")
            .unwrap(),
    );
    assert!(rules.route(&Event::from(sample_alert()), 0).is_empty());
    let substring = sample_with(|a| a.set_title("PLC Program Stop Request"));
    assert!(!rules.route(&substring, 0).is_empty());
}

#[test]
fn exclusion_by_sensor_suppresses_only_that_sensor() {
    let rules = with_exclusion(
        Exclusion::new("lab")
            .unwrap()
            .with_sensor("SENSOR-PLANT-A")
            .unwrap(),
    );
    assert!(rules.route(&Event::from(sample_alert()), 0).is_empty());
    let other = sample_with(|a| a.set_sensor_name("sensor-plant-b"));
    assert!(!rules.route(&other, 0).is_empty());
}

#[test]
fn exclusion_criteria_combine_with_and_while_list_entries_combine_with_or() {
    let exclusion = Exclusion::new("combo")
        .unwrap()
        .with_address("192.168.0.0/16")
        .unwrap()
        .with_address("10.20.3.11")
        .unwrap()
        .with_sensor("elsewhere")
        .unwrap()
        .with_sensor("sensor-plant-a")
        .unwrap();
    let rules = with_exclusion(exclusion);
    // Second address and second sensor match: suppressed.
    assert!(rules.route(&Event::from(sample_alert()), 0).is_empty());
    // Address matches, sensor does not: not suppressed.
    let other_sensor = sample_with(|a| a.set_sensor_name("sensor-plant-b"));
    assert!(!rules.route(&other_sensor, 0).is_empty());
    // Sensor matches, neither address does: not suppressed.
    let other_hosts = sample_with(|a| {
        a.source.ip = ip("172.16.0.1");
        a.destination.ip = ip("172.16.0.2");
    });
    assert!(!rules.route(&other_hosts, 0).is_empty());
}

#[test]
fn exclusion_window_starts_inclusive_and_ends_exclusive() {
    let exclusion = Exclusion::new("timed")
        .unwrap()
        .with_sensor("sensor-plant-a")
        .unwrap()
        .with_window(TimeWindow::new(1_000, 2_000).unwrap());
    let rules = with_exclusion(exclusion);
    let event = Event::from(sample_alert());
    for (now, excluded) in [(999, false), (1_000, true), (1_999, true), (2_000, false)] {
        assert_eq!(rules.route(&event, now).is_empty(), excluded, "now = {now}");
    }
}

#[test]
fn exclusions_win_over_every_matching_rule() {
    let rules = RuleSet::from_parts(
        (0..4).map(|i| {
            Rule::new("r")
                .unwrap()
                .forwarding_notifications(true)
                .with_action(dest(i))
        }),
        [Exclusion::new("x")
            .unwrap()
            .with_title("PLC Program Stop")
            .unwrap()],
    )
    .unwrap();
    let event = Event::from(sample_alert());
    assert!(rules.route(&event, 0).is_empty());
    let explanation = rules.explain(&event, 0);
    assert_eq!(explanation.suppressed_by().unwrap().index, 0);
    assert!(explanation.verdicts().all(|v| v.verdict.is_matched()));
}

#[test]
fn maintenance_window_suppresses_every_alert_during_it_and_none_after() {
    let rules = with_exclusion(Exclusion::maintenance_window("upgrade", 10, 20).unwrap());
    let events = [
        Event::from(sample_alert()),
        alert(Severity::Critical, Engine::Malware, "DNP3"),
        sample_with(|a| a.source.ip = ip("2001:db8::1")),
    ];
    for event in &events {
        assert!(rules.route(event, 15).is_empty());
        assert!(!rules.route(event, 20).is_empty());
    }
}

#[test]
fn notifications_are_never_suppressed_even_in_a_maintenance_window() {
    let rules = RuleSet::from_parts(
        [Rule::new("ops")
            .unwrap()
            .forwarding_notifications(true)
            .forwarding_health(true)
            .with_action(dest(6))],
        [
            Exclusion::maintenance_window("upgrade", 0, u64::MAX).unwrap(),
            Exclusion::new("sensor")
                .unwrap()
                .with_sensor("sensor-plant-a")
                .unwrap(),
        ],
    )
    .unwrap();
    for kind in NotificationKind::ALL {
        let event = Event::from(notification(kind));
        assert_eq!(rules.route(&event, 5), DestinationSet::EMPTY.with(dest(6)));
        assert!(rules.explain(&event, 5).suppressed_by().is_none());
    }
    assert!(rules.route(&Event::from(sample_alert()), 5).is_empty());
}

// ---- explain ----

#[test]
fn explain_reports_the_first_failed_condition_of_each_rule() {
    let rules = set_of([
        Rule::new("no-alerts")
            .unwrap()
            .forwarding_alerts(false)
            .with_min_severity(Severity::Critical),
        Rule::new("critical")
            .unwrap()
            .with_min_severity(Severity::Critical)
            .with_protocols(["DNP3"])
            .unwrap(),
        Rule::new("dnp3")
            .unwrap()
            .with_protocols(["DNP3"])
            .unwrap()
            .with_engines([Engine::Malware])
            .unwrap(),
        Rule::new("malware")
            .unwrap()
            .with_engines([Engine::Malware])
            .unwrap(),
        Rule::new("ok").unwrap().with_action(dest(0)),
    ]);
    let event = Event::from(sample_alert()); // Major, Operational, S7
    let verdicts: Vec<_> = rules
        .explain(&event, 0)
        .verdicts()
        .map(|v| v.verdict)
        .collect();
    assert_eq!(
        verdicts,
        [
            Verdict::AlertsNotForwarded,
            Verdict::SeverityBelowMinimum {
                severity: Severity::Major,
                minimum: Severity::Critical
            },
            Verdict::ProtocolNotListed { protocol: "S7" },
            Verdict::EngineNotListed {
                engine: Engine::Operational
            },
            Verdict::Matched(DestinationSet::EMPTY.with(dest(0))),
        ]
    );
}

#[test]
fn explain_with_names_names_each_destination_by_key_path_and_name() {
    let rules = set_of([
        Rule::new("nowhere").unwrap(),
        Rule::new("plant-wide")
            .unwrap()
            .with_action(dest(0))
            .with_action(dest(2)),
    ]);
    let event = Event::from(sample_alert());
    let explanation = rules.explain(&event, 0);
    // Destination 2 has no name given: its key path alone; a name is quoted and escaped.
    let names = ["soc-hec", "siem"];
    let expected = "\
alert sensor-plant-a-1042 \"PLC Program Stop\": severity Major, engine Operational, protocol \"S7\"
rule \"nowhere\": matched -> no destinations
rule \"plant-wide\": matched -> destination[0] (\"soc-hec\"), destination[2]
result: forwarded to destination[0] (\"soc-hec\"), destination[2]";
    assert_eq!(explanation.with_names(&names).to_string(), expected);
    let hostile = ["a\"b\n", "x", "y"];
    let report = explanation.with_names(&hostile).to_string();
    assert!(
        report.ends_with(
            "result: forwarded to destination[0] (\"a\\\"b\\n\"), destination[2] (\"y\")"
        ),
        "{report}"
    );
    // Without names, the report is the plain one.
    assert!(
        explanation
            .to_string()
            .ends_with("result: forwarded to #0, #2")
    );
}

#[test]
fn explain_display_reads_as_a_report() {
    let rules = set_of([
        Rule::new("critical-to-soc")
            .unwrap()
            .with_min_severity(Severity::Critical)
            .with_action(dest(0)),
        Rule::new("modbus-only")
            .unwrap()
            .with_protocols(["Modbus"])
            .unwrap()
            .with_action(dest(1)),
        Rule::new("malware")
            .unwrap()
            .with_engines([Engine::Malware])
            .unwrap()
            .with_action(dest(1)),
        Rule::new("notes")
            .unwrap()
            .forwarding_alerts(false)
            .forwarding_notifications(true),
        Rule::new("plant-wide")
            .unwrap()
            .with_action(dest(0))
            .with_action(dest(2)),
    ]);
    let event = Event::from(sample_alert());
    let expected = "\
alert sensor-plant-a-1042 \"PLC Program Stop\": severity Major, engine Operational, protocol \"S7\"
rule \"critical-to-soc\": severity Major is below the minimum Critical
rule \"modbus-only\": protocol \"S7\" not in the rule's protocols
rule \"malware\": engine Operational not in the rule's engines
rule \"notes\": the rule does not forward alerts
rule \"plant-wide\": matched -> destinations #0, #2
result: forwarded to #0, #2";
    assert_eq!(rules.explain(&event, 0).to_string(), expected);

    let note = Event::from(notification(NotificationKind::SensorOffline));
    let expected = "\
system notification sensor-plant-a-77 \"Sensor offline\"
rule \"critical-to-soc\": the rule does not forward system notifications
rule \"modbus-only\": the rule does not forward system notifications
rule \"malware\": the rule does not forward system notifications
rule \"notes\": matched -> no destinations
rule \"plant-wide\": the rule does not forward system notifications
result: not forwarded, the matching rules have no destinations";
    assert_eq!(rules.explain(&note, 0).to_string(), expected);
}

#[test]
fn explain_display_names_the_suppressing_exclusion_and_unmatched_events() {
    let rules = RuleSet::from_parts(
        [Rule::new("all").unwrap().with_action(dest(3))],
        [
            Exclusion::new("other").unwrap().with_title("x").unwrap(),
            Exclusion::maintenance_window("upgrade", 0, 86_400_000).unwrap(),
        ],
    )
    .unwrap();
    let event = Event::from(sample_alert());
    let text = rules.explain(&event, 5).to_string();
    assert!(text.ends_with(
        "\nrule \"all\": matched -> destinations #3\nresult: not forwarded, suppressed by exclusion \
         \"upgrade\" (active [1970-01-01T00:00:00.000Z, 1970-01-02T00:00:00.000Z))"
    ), "{text}");
    assert_eq!(rules.explain(&event, 5).suppressed_by().unwrap().index, 1);

    let empty = RuleSet::new();
    let text = empty.explain(&event, 0).to_string();
    assert!(
        text.ends_with("\nno rules configured\nresult: not forwarded, no rule matched"),
        "{text}"
    );
}

#[test]
fn explain_escapes_names_and_protocols_so_no_line_can_be_forged() {
    let rules = set_of([Rule::new("a\"b\nrule \"x\": matched")
        .unwrap()
        .with_protocols(["Modbus"])
        .unwrap()]);
    let mut event = alert(Severity::Major, Engine::Malware, "S7\nresult: forwarded");
    if let Event::Alert(a) = &mut event {
        a.set_sensor_name("evil\"\nrule \"y\": matched");
    }
    let text = rules.explain(&event, 0).to_string();
    assert!(
        text.starts_with(r#"alert evil\"\nrule \"y\": matched-1042 "#),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains(r#"rule "a\"b\nrule \"x\": matched": protocol "S7\nresult: forwarded" not"#),
        "{text}"
    );
}

// ---- construction errors ----

#[test]
fn a_33rd_rule_is_refused_and_says_which_limit() {
    let mut rules = RuleSet::new();
    for _ in 0..MAX_RULES {
        rules.push_rule(Rule::new("r").unwrap()).unwrap();
    }
    let err = rules
        .push_rule(Rule::new("one too many").unwrap())
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooMany {
            list: List::Rules,
            max: MAX_RULES
        }
    );
    assert_eq!(err.to_string(), "too many rules (at most 32)");
    assert_eq!(rules.rules().len(), MAX_RULES);
    // The last rule still routes: the index covers every bit.
    let mut last = RuleSet::new();
    for i in 0..MAX_RULES {
        let rule = Rule::new("r")
            .unwrap()
            .forwarding_alerts(i == MAX_RULES - 1)
            .with_action(dest(i as u8));
        last.push_rule(rule).unwrap();
    }
    assert_eq!(
        last.route(&Event::from(sample_alert()), 0),
        DestinationSet::EMPTY.with(dest(31))
    );
}

#[test]
fn distinct_protocol_names_across_rules_are_bounded_and_a_refused_rule_changes_nothing() {
    let mut set = RuleSet::new();
    let per_rule = MAX_RULE_PROTOCOLS;
    for r in 0..MAX_PROTOCOL_NAMES / per_rule {
        let names: Vec<String> = (0..per_rule)
            .map(|i| format!("P{}", r * per_rule + i))
            .collect();
        set.push_rule(
            Rule::new("r")
                .unwrap()
                .with_protocols(&names)
                .unwrap()
                .with_action(dest(r as u8)),
        )
        .unwrap();
    }
    // Names already known (in any case) cost nothing.
    set.push_rule(
        Rule::new("again")
            .unwrap()
            .with_protocols(["p0", " P63 "])
            .unwrap()
            .with_action(dest(30)),
    )
    .unwrap();
    let err = set
        .push_rule(
            Rule::new("new")
                .unwrap()
                .with_protocols(["p1", "Brand-New"])
                .unwrap()
                .with_action(dest(31)),
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooMany {
            list: List::ProtocolNames,
            max: MAX_PROTOCOL_NAMES
        }
    );
    assert_eq!(set.rules().len(), MAX_PROTOCOL_NAMES / per_rule + 1);
    let routed = set.route(&alert(Severity::Minor, Engine::Malware, "P1"), 0);
    assert_eq!(routed, DestinationSet::EMPTY.with(dest(0)));
    let routed = set.route(&alert(Severity::Minor, Engine::Malware, "p63"), 0);
    let last = (MAX_PROTOCOL_NAMES / per_rule - 1) as u8;
    assert_eq!(
        routed,
        DestinationSet::EMPTY.with(dest(last)).with(dest(30))
    );
}

#[test]
fn hand_built_exclusion_names_are_trimmed_when_pushed() {
    let mut e = Exclusion::new("hand").unwrap();
    e.titles
        .push(heapless::String::try_from("  PLC Program Stop\t").unwrap())
        .unwrap();
    let rules = with_exclusion(e);
    assert!(rules.route(&Event::from(sample_alert()), 0).is_empty());
    assert_eq!(rules.exclusions()[0].titles[0], "PLC Program Stop");
}

#[test]
fn too_many_exclusions_is_refused() {
    let excl = || Exclusion::new("e").unwrap().with_sensor("s").unwrap();
    let err = RuleSet::from_parts([], (0..=MAX_EXCLUSIONS).map(|_| excl())).unwrap_err();
    assert_eq!(
        err,
        Error::TooMany {
            list: List::Exclusions,
            max: MAX_EXCLUSIONS
        }
    );
}

#[test]
fn per_rule_and_per_exclusion_lists_refuse_one_entry_too_many() {
    let names: Vec<String> = (0..=MAX_RULE_PROTOCOLS).map(|i| format!("P{i}")).collect();
    assert_eq!(
        Rule::new("r").unwrap().with_protocols(&names).unwrap_err(),
        Error::TooMany {
            list: List::Protocols,
            max: MAX_RULE_PROTOCOLS
        }
    );
    assert!(
        Rule::new("r")
            .unwrap()
            .with_protocols(&names[..MAX_RULE_PROTOCOLS])
            .is_ok()
    );
    // Duplicates under the matching rule count once.
    let mut dupes = names[..MAX_RULE_PROTOCOLS].to_vec();
    dupes.push("p0".into());
    assert!(Rule::new("r").unwrap().with_protocols(&dupes).is_ok());

    let mut e = Exclusion::new("e").unwrap();
    for i in 0..MAX_EXCLUSION_ADDRESSES {
        e = e.with_address(&format!("10.0.{i}.0/24")).unwrap();
    }
    assert_eq!(
        e.with_address("10.1.0.0/16").unwrap_err(),
        Error::TooMany {
            list: List::Addresses,
            max: MAX_EXCLUSION_ADDRESSES
        }
    );
    let mut e = Exclusion::new("e").unwrap();
    for i in 0..MAX_EXCLUSION_TITLES {
        e = e.with_title(&format!("t{i}")).unwrap();
    }
    assert_eq!(
        e.with_title("t").unwrap_err(),
        Error::TooMany {
            list: List::Titles,
            max: MAX_EXCLUSION_TITLES
        }
    );
    let mut e = Exclusion::new("e").unwrap();
    for i in 0..MAX_EXCLUSION_SENSORS {
        e = e.with_sensor(&format!("s{i}")).unwrap();
    }
    assert_eq!(
        e.with_sensor("s").unwrap_err(),
        Error::TooMany {
            list: List::Sensors,
            max: MAX_EXCLUSION_SENSORS
        }
    );
}

#[test]
fn over_long_and_blank_values_are_refused_not_cut() {
    let long = "n".repeat(MAX_RULE_NAME + 1);
    assert_eq!(
        Rule::new(&long).unwrap_err(),
        Error::TooLong {
            field: Field::RuleName,
            len: MAX_RULE_NAME + 1,
            max: MAX_RULE_NAME
        }
    );
    assert!(Rule::new(&long[1..]).is_ok());
    assert_eq!(
        Rule::new("  ").unwrap_err(),
        Error::Blank {
            field: Field::RuleName
        }
    );
    assert_eq!(
        Rule::new("r")
            .unwrap()
            .with_protocols(["Modbus", " "])
            .unwrap_err(),
        Error::Blank {
            field: Field::Protocol
        }
    );
    let err = Rule::new("r")
        .unwrap()
        .with_protocols(["x".repeat(33)])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "protocol name is 33 bytes long (at most 32)"
    );
    assert_eq!(
        Exclusion::new("e").unwrap().with_title("").unwrap_err(),
        Error::Blank {
            field: Field::Title
        }
    );
}

#[test]
fn empty_specific_lists_are_refused_by_builder_and_by_the_rule_set() {
    let none: [&str; 0] = [];
    assert_eq!(
        Rule::new("r").unwrap().with_protocols(none).unwrap_err(),
        Error::EmptyList {
            list: List::Protocols
        }
    );
    assert_eq!(
        Rule::new("r").unwrap().with_engines([]).unwrap_err(),
        Error::EmptyList {
            list: List::Engines
        }
    );
    let mut rule = Rule::new("r").unwrap();
    rule.engines = Engines::Specific(EngineSet::EMPTY);
    assert_eq!(
        RuleSet::new().push_rule(rule).unwrap_err(),
        Error::EmptyList {
            list: List::Engines
        }
    );
    let mut rule = Rule::new("r").unwrap();
    rule.protocols = Protocols::Specific(heapless::Vec::new());
    assert_eq!(
        RuleSet::new().push_rule(rule).unwrap_err(),
        Error::EmptyList {
            list: List::Protocols
        }
    );
}

#[test]
fn unconditional_exclusion_and_empty_window_are_refused() {
    let mut set = RuleSet::new();
    assert_eq!(
        set.push_exclusion(Exclusion::new("all").unwrap())
            .unwrap_err(),
        Error::Unconditional
    );
    assert_eq!(
        TimeWindow::new(5, 5).unwrap_err(),
        Error::EmptyWindow {
            start_ms: 5,
            end_ms: 5
        }
    );
    let mut hand = Exclusion::new("backwards").unwrap();
    hand.window = Some(TimeWindow {
        start_ms: 9,
        end_ms: 3,
    });
    assert_eq!(
        set.push_exclusion(hand).unwrap_err(),
        Error::EmptyWindow {
            start_ms: 9,
            end_ms: 3
        }
    );
    assert!(set.exclusions().is_empty());
    assert!(
        Error::Unconditional
            .to_string()
            .contains("would suppress every alert")
    );
}

// ---- subnets ----

#[test]
fn subnet_parse_refuses_bad_prefixes_and_garbage() {
    assert_eq!(
        Subnet::parse("10.0.0.0/33"),
        Err(SubnetError::PrefixTooLong {
            prefix: 33,
            max: 32
        })
    );
    assert_eq!(
        Subnet::parse("fe80::/129"),
        Err(SubnetError::PrefixTooLong {
            prefix: 129,
            max: 128
        })
    );
    assert_eq!(
        Subnet::parse("10.0.0.0/999"),
        Err(SubnetError::PrefixTooLong {
            prefix: 255,
            max: 32
        })
    );
    for bad_prefix in [
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0.0/-1",
        "10.0.0.0/8/8",
        "10.0.0.0/ 8",
        "10.0.0.0/x",
    ] {
        assert_eq!(
            Subnet::parse(bad_prefix),
            Err(SubnetError::BadPrefix),
            "{bad_prefix}"
        );
    }
    for garbage in [
        "",
        "plc-7",
        "10.0.0",
        "10.0.0.256/8",
        "/8",
        "fe80:::1",
        "10.0.0.0 /8",
    ] {
        assert_eq!(
            Subnet::parse(garbage),
            Err(SubnetError::BadAddress),
            "{garbage}"
        );
    }
    assert_eq!(
        Exclusion::new("e")
            .unwrap()
            .with_address("nope")
            .unwrap_err(),
        Error::Subnet(SubnetError::BadAddress)
    );
}

#[test]
fn subnet_parse_accepts_cidr_and_bare_addresses_and_clears_host_bits() {
    let s = Subnet::parse(" 10.20.1.7/24 ").unwrap();
    assert_eq!((s.network(), s.prefix()), (ip("10.20.1.0"), 24));
    assert_eq!(
        Subnet::parse("10.20.1.7").unwrap().to_string(),
        "10.20.1.7/32"
    );
    assert_eq!(Subnet::parse("fe80::1").unwrap().to_string(), "fe80::1/128");
    assert_eq!(
        Subnet::parse("fe80::1/10").unwrap().to_string(),
        "fe80::/10"
    );
    assert_eq!(Subnet::parse("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
}

#[test]
fn subnet_contains_at_its_boundaries() {
    let v4 = Subnet::parse("192.168.4.0/22").unwrap();
    assert!(v4.contains(ip("192.168.4.0")));
    assert!(v4.contains(ip("192.168.7.255")));
    assert!(!v4.contains(ip("192.168.3.255")));
    assert!(!v4.contains(ip("192.168.8.0")));
    let all_v4 = Subnet::parse("0.0.0.0/0").unwrap();
    assert!(all_v4.contains(ip("255.255.255.255")));
    assert!(!all_v4.contains(ip("::1")));
    let host = Subnet::parse("10.0.0.1/32").unwrap();
    assert!(host.contains(ip("10.0.0.1")) && !host.contains(ip("10.0.0.2")));

    let v6 = Subnet::parse("2001:db8::/32").unwrap();
    assert!(v6.contains(ip("2001:db8::")));
    assert!(v6.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
    assert!(!v6.contains(ip("2001:db9::")));
    assert!(!v6.contains(ip("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff")));
    let all_v6 = Subnet::parse("::/0").unwrap();
    assert!(all_v6.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    assert!(!all_v6.contains(ip("0.0.0.0")));
}

#[test]
fn ipv4_mapped_ipv6_addresses_count_as_their_ipv4_address() {
    let v4 = Subnet::parse("10.0.0.0/8").unwrap();
    assert!(v4.contains(ip("::ffff:10.1.2.3")));
    assert!(!v4.contains(ip("::ffff:11.1.2.3")));
    // The IPv4-compatible (deprecated) form is not a mapping: it stays IPv6.
    assert!(!v4.contains(ip("::10.1.2.3")));
    let mapped = Subnet::parse("::ffff:10.0.0.0/104").unwrap();
    assert_eq!(mapped, v4);
    assert!(mapped.contains(ip("10.200.0.1")));
    // An exclusion written for the IPv4 host catches the mapped form of its address.
    let rules = with_exclusion(
        Exclusion::new("x")
            .unwrap()
            .with_address("10.20.1.7")
            .unwrap(),
    );
    let mapped_src = sample_with(|a| {
        a.source.ip = ip("::ffff:10.20.1.7");
        a.destination.ip = ip("2001:db8::1");
    });
    assert!(rules.route(&mapped_src, 0).is_empty());
}

// ---- small capacities (the firmware's rule set) ----

const SMALL_RULES: usize = 4;
const SMALL_EXCLUSIONS: usize = 2;
const SMALL_PROTOCOL_NAMES: usize = 8;
/// The size a Cortex-M4 image with 16 KiB of RAM (stack included) can afford.
type SmallRuleSet = RuleSet<SMALL_RULES, SMALL_EXCLUSIONS, SMALL_PROTOCOL_NAMES>;

#[test]
fn small_rule_set_fits_the_firmware_ram_budget() {
    use core::mem::size_of;
    let small = size_of::<SmallRuleSet>();
    // Measured on the host, where lengths are 8-byte `usize`s where they are not `u8`: the
    // 32-bit target's value is smaller still.
    assert!(
        small < 6 * 1024,
        "RuleSet<4, 2, 8> is {small} bytes (Rule {}, Exclusion {}): over the 6 KiB budget",
        size_of::<Rule>(),
        size_of::<Exclusion>()
    );
    // The capacities really are the parameters: the default set is much bigger.
    assert!(size_of::<RuleSet>() > 4 * small);
}

#[test]
fn small_rule_set_refuses_the_fifth_rule_at_its_own_capacity() {
    let mut rules = SmallRuleSet::with_capacity();
    for i in 0..SMALL_RULES {
        let rule = Rule::new("r")
            .unwrap()
            .forwarding_alerts(i == SMALL_RULES - 1)
            .with_action(dest(i as u8));
        rules.push_rule(rule).unwrap();
    }
    let before = rules.clone();
    let err = rules.push_rule(Rule::new("fifth").unwrap()).unwrap_err();
    assert_eq!(
        err,
        Error::TooMany {
            list: List::Rules,
            max: SMALL_RULES
        }
    );
    assert_eq!(err.to_string(), "too many rules (at most 4)");
    assert_eq!(rules, before);
    // The last rule's bit is routed like any other.
    assert_eq!(
        rules.route(&Event::from(sample_alert()), 0),
        DestinationSet::EMPTY.with(dest(3))
    );
}

#[test]
fn small_rule_set_refuses_the_third_exclusion_at_its_own_capacity() {
    let excl = || Exclusion::new("e").unwrap().with_sensor("s").unwrap();
    let err = SmallRuleSet::from_parts_with_capacity([], (0..=SMALL_EXCLUSIONS).map(|_| excl()))
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooMany {
            list: List::Exclusions,
            max: SMALL_EXCLUSIONS
        }
    );
    assert_eq!(err.to_string(), "too many exclusions (at most 2)");
}

#[test]
fn small_protocol_table_refuses_a_rule_that_overflows_it_and_keeps_nothing_of_it() {
    let mut set = SmallRuleSet::with_capacity();
    let first: Vec<String> = (0..SMALL_PROTOCOL_NAMES - 1)
        .map(|i| format!("P{i}"))
        .collect();
    set.push_rule(
        Rule::new("first")
            .unwrap()
            .with_protocols(&first)
            .unwrap()
            .with_action(dest(0)),
    )
    .unwrap();
    let before = set.clone();
    // A known name (its entry gains the new rule's bit), one that still fits, one that does
    // not: the whole rule is refused and the table is as it was.
    let err = set
        .push_rule(
            Rule::new("overflow")
                .unwrap()
                .with_protocols(["p0", "New-1", "New-2"])
                .unwrap()
                .with_action(dest(1)),
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooMany {
            list: List::ProtocolNames,
            max: SMALL_PROTOCOL_NAMES
        }
    );
    assert_eq!(set, before);
    for protocol in ["P0", "New-1"] {
        let routed = set.route(&alert(Severity::Major, Engine::Malware, protocol), 0);
        let expected = if protocol == "P0" {
            DestinationSet::EMPTY.with(dest(0))
        } else {
            DestinationSet::EMPTY
        };
        assert_eq!(routed, expected, "{protocol}");
    }
    // The last free entry is still usable.
    set.push_rule(
        Rule::new("fits")
            .unwrap()
            .with_protocols(["p0", "New-1"])
            .unwrap()
            .with_action(dest(1)),
    )
    .unwrap();
    assert_eq!(
        set.route(&alert(Severity::Major, Engine::Malware, "new-1"), 0),
        DestinationSet::EMPTY.with(dest(1))
    );
}

#[test]
fn default_and_explicit_default_capacities_are_the_same_type() {
    let explicit: RuleSet<MAX_RULES, MAX_EXCLUSIONS, MAX_PROTOCOL_NAMES> = RuleSet::with_capacity();
    assert_eq!(explicit, RuleSet::new());
    assert_eq!(SmallRuleSet::default(), SmallRuleSet::with_capacity());
}

// ---- properties ----

const PROTOCOL_POOL: [&str; 5] = ["Modbus", "S7", "DNP3", "BACnet", "EtherNet/IP"];

/// A rule described by plain values, and turned into a [`Rule`] against a given event so that
/// protocol lists can contain that event's protocol in another case.
#[derive(Debug, Clone)]
struct RawRule {
    min: Severity,
    protocols: Option<(Vec<usize>, bool)>,
    engines: Option<u8>,
    alerts: bool,
    notifications: bool,
    health: bool,
    actions: u32,
}

fn arb_raw_rule() -> impl Strategy<Value = RawRule> {
    (
        prop::sample::select(Severity::ALL.to_vec()),
        prop::option::of((
            prop::collection::vec(0..PROTOCOL_POOL.len(), 0..3),
            any::<bool>(),
        )),
        prop::option::of(1u8..32),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        1u32..,
    )
        .prop_map(
            |(min, protocols, engines, alerts, notifications, health, actions)| RawRule {
                min,
                protocols,
                engines,
                alerts,
                notifications,
                health,
                actions,
            },
        )
}

/// Flips the case of every other ASCII letter and pads with blanks, if that still fits.
fn disguise(name: &str) -> String {
    let flipped: String = name
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let padded = format!(" {flipped} ");
    if padded.len() <= icsfwd_core::alert::MAX_PROTOCOL {
        padded
    } else {
        flipped
    }
}

fn build_rule(raw: &RawRule, event: &Event) -> Rule {
    let mut rule = Rule::new("generated")
        .unwrap()
        .with_min_severity(raw.min)
        .forwarding_alerts(raw.alerts)
        .forwarding_notifications(raw.notifications)
        .forwarding_health(raw.health)
        .with_actions(DestinationSet::from_bits(raw.actions));
    if let Some((picks, adopt)) = &raw.protocols {
        let mut names: Vec<String> = picks
            .iter()
            .map(|&i| PROTOCOL_POOL[i].to_string())
            .collect();
        if let Event::Alert(a) = event
            && *adopt
            && !a.protocol.trim().is_empty()
        {
            names.push(disguise(&a.protocol));
        }
        if names.is_empty() {
            names.push("Profinet".into());
        }
        rule = rule.with_protocols(&names).unwrap();
    }
    if let Some(bits) = raw.engines {
        let engines = Engine::ALL.into_iter().filter(|e| bits & e.bit() != 0);
        rule = rule.with_engines(engines).unwrap();
    }
    rule
}

#[derive(Debug, Clone)]
struct RawExclusion {
    /// 0: the source host, 1: the destination's /16 or /64, 2: an unrelated subnet.
    addresses: Vec<u8>,
    /// true: the event's title in another case, false: an unrelated title.
    titles: Vec<bool>,
    sensors: Vec<bool>,
    /// (start, length) relative to `now`.
    window: Option<(i64, u64)>,
}

fn arb_raw_exclusion() -> impl Strategy<Value = RawExclusion> {
    (
        prop::collection::vec(0u8..3, 0..3),
        prop::collection::vec(any::<bool>(), 0..3),
        prop::collection::vec(any::<bool>(), 0..3),
        prop::option::of((-3i64..3, 1u64..4)),
    )
        .prop_map(|(addresses, titles, sensors, window)| RawExclusion {
            addresses,
            titles,
            sensors,
            window,
        })
}

fn build_exclusion(raw: &RawExclusion, event: &Event, now: u64) -> Exclusion {
    let mut e = Exclusion::new("generated").unwrap();
    let (source, destination, title, sensor) = match event {
        Event::Alert(a) => (
            a.source.ip,
            a.destination.ip,
            a.title.trim(),
            a.sensor.name.trim(),
        ),
        Event::Notification(n) => (
            ip("10.0.0.1"),
            ip("10.0.0.2"),
            n.kind.as_str(),
            n.sensor.name.trim(),
        ),
    };
    for &pick in &raw.addresses {
        let subnet = match (pick, destination) {
            (0, _) => Subnet::host(source),
            (1, IpAddr::V4(_)) => Subnet::new(destination, 16).unwrap(),
            (1, IpAddr::V6(_)) => Subnet::new(destination, 64).unwrap(),
            _ => Subnet::parse("198.51.100.0/24").unwrap(),
        };
        e = e.with_subnet(subnet).unwrap();
    }
    for &adopt in &raw.titles {
        let t = if adopt && !title.is_empty() {
            title.to_ascii_uppercase()
        } else {
            "Unrelated title".into()
        };
        e = e.with_title(&t).unwrap();
    }
    for &adopt in &raw.sensors {
        let s = if adopt && !sensor.is_empty() {
            sensor.to_ascii_lowercase()
        } else {
            "other-sensor".into()
        };
        e = e.with_sensor(&s).unwrap();
    }
    let window = raw.window.map(|(start, len)| {
        let start = now.saturating_add_signed(start);
        TimeWindow::new(start, start + len).unwrap()
    });
    if let Some(w) = window {
        e = e.with_window(w);
    } else if e.addresses.is_empty() && e.titles.is_empty() && e.sensors.is_empty() {
        e = e.with_window(TimeWindow::new(now, now + 1).unwrap());
    }
    e
}

/// The verdict the rule semantics call for, computed from the rule's fields directly.
#[allow(
    clippy::manual_ignore_case_cmp,
    reason = "the model compares another way than the code under test, on purpose"
)]
fn model_verdict<'e>(rule: &Rule, event: &'e Event) -> Verdict<'e> {
    let a = match event {
        Event::Notification(n) if n.kind == NotificationKind::Health => {
            return if rule.forward_health {
                Verdict::Matched(rule.actions)
            } else {
                Verdict::HealthNotForwarded
            };
        }
        Event::Notification(_) => {
            return if rule.forward_notifications {
                Verdict::Matched(rule.actions)
            } else {
                Verdict::NotificationsNotForwarded
            };
        }
        Event::Alert(a) => a,
    };
    let protocol = a.protocol.trim();
    let listed = match &rule.protocols {
        Protocols::All => true,
        Protocols::Specific(names) => names
            .iter()
            .any(|n| n.trim().to_ascii_lowercase() == protocol.to_ascii_lowercase()),
    };
    let engine_ok = match rule.engines {
        Engines::All => true,
        Engines::Specific(set) => set.iter().any(|e| e == a.engine),
    };
    if !rule.forward_alerts {
        Verdict::AlertsNotForwarded
    } else if (a.severity as u8) < (rule.min_severity as u8) {
        Verdict::SeverityBelowMinimum {
            severity: a.severity,
            minimum: rule.min_severity,
        }
    } else if !listed {
        Verdict::ProtocolNotListed { protocol }
    } else if !engine_ok {
        Verdict::EngineNotListed { engine: a.engine }
    } else {
        Verdict::Matched(rule.actions)
    }
}

fn model_suppresses(e: &Exclusion, event: &Event, now: u64) -> bool {
    let Event::Alert(a) = event else { return false };
    let in_window = e.window.is_none_or(|w| w.start_ms <= now && now < w.end_ms);
    let lower = |s: &str| s.trim().to_ascii_lowercase();
    let by_address = e.addresses.is_empty()
        || e.addresses
            .iter()
            .any(|n| n.contains(a.source.ip) || n.contains(a.destination.ip));
    let by_title = e.titles.is_empty() || e.titles.iter().any(|t| lower(t) == lower(&a.title));
    let by_sensor =
        e.sensors.is_empty() || e.sensors.iter().any(|s| lower(s) == lower(&a.sensor.name));
    in_window && by_address && by_title && by_sensor
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn route_agrees_with_explain_and_with_the_rule_semantics(
        event in arb_event(),
        raw_rules in prop::collection::vec(arb_raw_rule(), 0..=MAX_RULES),
        raw_exclusions in prop::collection::vec(arb_raw_exclusion(), 0..4),
        now in 3u64..u64::MAX - 8,
    ) {
        let rules: Vec<Rule> = raw_rules.iter().map(|r| build_rule(r, &event)).collect();
        let exclusions: Vec<Exclusion> =
            raw_exclusions.iter().map(|x| build_exclusion(x, &event, now)).collect();
        let set = RuleSet::from_parts(rules.clone(), exclusions.clone()).unwrap();

        let routed = set.route(&event, now);
        let explanation = set.explain(&event, now);
        prop_assert_eq!(routed, explanation.destinations());

        let verdicts: Vec<Verdict> = explanation.verdicts().map(|v| v.verdict).collect();
        prop_assert_eq!(verdicts.len(), rules.len());
        for (rule, verdict) in rules.iter().zip(&verdicts) {
            prop_assert_eq!(*verdict, model_verdict(rule, &event));
        }
        let matched_union = verdicts
            .iter()
            .fold(DestinationSet::EMPTY, |set, v| set.union(v.destinations()));
        let suppressed = exclusions.iter().any(|x| model_suppresses(x, &event, now));
        prop_assert_eq!(explanation.suppressed_by().is_some(), suppressed);
        if let Some(s) = explanation.suppressed_by() {
            prop_assert!(model_suppresses(&exclusions[s.index], &event, now));
            prop_assert!(exclusions[..s.index].iter().all(|x| !model_suppresses(x, &event, now)));
        }
        let expected = if suppressed { DestinationSet::EMPTY } else { matched_union };
        prop_assert_eq!(routed, expected);
        // Every generated rule has at least one action, so "empty" means exactly this.
        let any_matched = verdicts.iter().any(Verdict::is_matched);
        prop_assert_eq!(routed.is_empty(), suppressed || !any_matched);
        if matches!(event, Event::Notification(_)) {
            prop_assert!(!suppressed);
        }
        // The report has a header, one line per rule (or "no rules"), and a result.
        let text = explanation.to_string();
        prop_assert_eq!(text.lines().count(), 2 + rules.len().max(1));
    }

    #[test]
    fn small_rule_set_routes_and_explains_like_the_default_one_up_to_its_capacity(
        event in arb_event(),
        raw_rules in prop::collection::vec(arb_raw_rule(), 0..=SMALL_RULES + 2),
        raw_exclusions in prop::collection::vec(arb_raw_exclusion(), 0..=SMALL_EXCLUSIONS + 1),
        now in 3u64..u64::MAX - 8,
    ) {
        // At most 7 distinct protocol names (the pool, the event's, "Profinet"): the small
        // protocol table never overflows here, so only the rule and exclusion counts do.
        let mut small = SmallRuleSet::with_capacity();
        let mut default = RuleSet::new();
        for (i, raw) in raw_rules.iter().enumerate() {
            let rule = build_rule(raw, &event);
            let pushed = small.push_rule(rule.clone());
            if i < SMALL_RULES {
                prop_assert_eq!(pushed, Ok(()));
            } else {
                prop_assert_eq!(
                    pushed,
                    Err(Error::TooMany { list: List::Rules, max: SMALL_RULES })
                );
                continue;
            }
            default.push_rule(rule).unwrap();
        }
        for (i, raw) in raw_exclusions.iter().enumerate() {
            let exclusion = build_exclusion(raw, &event, now);
            let pushed = small.push_exclusion(exclusion.clone());
            if i < SMALL_EXCLUSIONS {
                prop_assert_eq!(pushed, Ok(()));
            } else {
                prop_assert_eq!(
                    pushed,
                    Err(Error::TooMany { list: List::Exclusions, max: SMALL_EXCLUSIONS })
                );
                continue;
            }
            default.push_exclusion(exclusion).unwrap();
        }
        prop_assert_eq!(small.rules(), default.rules());
        prop_assert_eq!(small.exclusions(), default.exclusions());

        let routed = small.route(&event, now);
        prop_assert_eq!(routed, default.route(&event, now));
        let explanation = small.explain(&event, now);
        prop_assert_eq!(explanation, default.explain(&event, now));
        prop_assert_eq!(explanation.to_string(), default.explain(&event, now).to_string());
        prop_assert_eq!(routed, explanation.destinations());

        // And both follow the rule semantics, not merely each other.
        for (v, rule) in explanation.verdicts().zip(small.rules()) {
            prop_assert_eq!(v.verdict, model_verdict(rule, &event));
        }
        let suppressed = small.exclusions().iter().any(|x| model_suppresses(x, &event, now));
        prop_assert_eq!(explanation.suppressed_by().is_some(), suppressed);
        let matched = small
            .rules()
            .iter()
            .map(|r| model_verdict(r, &event).destinations())
            .fold(DestinationSet::EMPTY, DestinationSet::union);
        prop_assert_eq!(routed, if suppressed { DestinationSet::EMPTY } else { matched });
    }

    #[test]
    fn subnet_contains_exactly_the_addresses_sharing_its_prefix(
        addr in common::arb_ip(),
        probe in common::arb_ip(),
        prefix in 0u8..=128,
    ) {
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix % (width + 1);
        let subnet = Subnet::new(addr, prefix).unwrap();
        prop_assert!(subnet.contains(addr));
        let as_bits = |a: IpAddr| match a {
            IpAddr::V4(v4) => (true, u128::from(v4.to_bits()) << 96),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => (true, u128::from(v4.to_bits()) << 96),
                None => (false, v6.to_bits()),
            },
        };
        let (net_v4, net_bits) = as_bits(subnet.network());
        let (probe_v4, probe_bits) = as_bits(probe);
        // In the shared 128-bit layout an IPv4 prefix covers the top bits, like an IPv6 one.
        let shift = 128 - u32::from(subnet.prefix());
        let same_prefix = shift >= 128 || (net_bits >> shift) == (probe_bits >> shift);
        prop_assert_eq!(subnet.contains(probe), net_v4 == probe_v4 && same_prefix);
        let reparsed: Subnet = subnet.to_string().parse().unwrap();
        prop_assert_eq!(reparsed, subnet);
    }
}
