//! The simulator's realistic alerts go through the core's router and every wire format.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use icsfwd_core::alert::{Engine, Event, Severity};
use icsfwd_core::destination::DestinationId;
use icsfwd_core::format::Kind;
use icsfwd_core::rule::{Rule, RuleSet};
use icsfwd_sim::generator::Generator;
use icsfwd_tests::render;

#[test]
fn ten_thousand_generated_alerts_render_in_every_format_and_hec_parses_back() {
    for alert in Generator::new(2024, 1_700_000_000_000).take(10_000) {
        let id = format!("{}", alert.event_id());
        let title = alert.title.to_string();
        let event = Event::from(alert);
        for kind in Kind::ALL {
            let out = render(kind, &event).unwrap();
            let text = std::str::from_utf8(&out).unwrap();
            assert!(
                text.contains(&id),
                "{kind:?} lacks the event id {id}: {text}"
            );
            match kind {
                Kind::Hec => {
                    let v: serde_json::Value = serde_json::from_str(text).unwrap();
                    assert_eq!(v["event"]["id"], id.as_str());
                    assert_eq!(v["event"]["title"], title.as_str());
                }
                Kind::Text => assert!(text.lines().next().unwrap().ends_with(&title)),
                Kind::Cef | Kind::Leef => assert!(!text.contains('\n'), "{text}"),
            }
        }
    }
}

#[test]
fn generated_alerts_split_by_severity_and_engine_as_the_rules_say() {
    let soc = DestinationId::new(0).unwrap();
    let malware_team = DestinationId::new(1).unwrap();
    let mut rules = RuleSet::new();
    rules
        .push_rule(
            Rule::new("major-and-above")
                .unwrap()
                .with_min_severity(Severity::Major)
                .with_action(soc),
        )
        .unwrap();
    rules
        .push_rule(
            Rule::new("malware")
                .unwrap()
                .with_engines([Engine::Malware])
                .unwrap()
                .with_action(malware_team),
        )
        .unwrap();

    let mut counts = [0usize; 2];
    for alert in Generator::new(99, 0).take(5_000) {
        let expect_soc = alert.severity >= Severity::Major;
        let expect_malware = alert.engine == Engine::Malware;
        let routed = rules.route(&Event::from(alert), 0);
        assert_eq!(routed.contains(soc), expect_soc);
        assert_eq!(routed.contains(malware_team), expect_malware);
        counts[0] += usize::from(expect_soc);
        counts[1] += usize::from(expect_malware);
    }
    assert!(counts[0] > 1000 && counts[1] > 100, "{counts:?}");
}
