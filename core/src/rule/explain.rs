//! Why an event goes where it goes: the suppressing exclusion and each rule's verdict.
//!
//! An [`Explanation`] borrows the rule set and the event and evaluates each rule lazily as its
//! verdicts are iterated, so building one costs only the exclusion check. Its
//! [`Display`](fmt::Display) is the multi-line report `icsfwd explain` prints; every name and
//! protocol in it is quoted and escaped, so no value can forge a line.
//!
//! Guarantees: nothing here panics or allocates.
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::destination::DestinationId;
//! use icsfwd_core::rule::{Rule, RuleSet, Verdict};
//!
//! let mut rules = RuleSet::new();
//! rules.push_rule(Rule::new("modbus-only")?.with_protocols(["Modbus"])?
//!     .with_action(DestinationId::new(1).unwrap()))?;
//! let mut alert = Alert::new(9, 0, Engine::Operational, Severity::Major);
//! alert.set_protocol("S7");
//! let event = Event::from(alert);
//! let explanation = rules.explain(&event, 0);
//! let verdict = explanation.verdicts().next().unwrap();
//! assert_eq!(verdict.verdict, Verdict::ProtocolNotListed { protocol: "S7" });
//! assert_eq!(
//!     format!("{verdict}"),
//!     r#"rule "modbus-only": protocol "S7" not in the rule's protocols"#
//! );
//! assert!(explanation.destinations().is_empty());
//! # Ok::<(), icsfwd_core::rule::Error>(())
//! ```

use core::fmt;
use core::iter::{Enumerate, FusedIterator};
use core::slice;

use crate::stack_text::StackText;

use super::{Exclusion, Rule};
use crate::alert::{Engine, Event, Severity};
use crate::destination::{DestinationId, DestinationSet};

/// One rule's verdict on one event: matched, or the first condition that failed.
///
/// Conditions are checked in this order: event kind forwarded, severity, protocol, engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Verdict<'e> {
    /// Every condition holds; the event goes to these destinations (unless suppressed).
    Matched(DestinationSet),
    /// The event is an alert and the rule does not forward alerts.
    AlertsNotForwarded,
    /// The event is a system notification and the rule does not forward those.
    NotificationsNotForwarded,
    /// The event is the forwarder's health report and the rule does not forward those.
    HealthNotForwarded,
    /// The alert's severity is below the rule's minimum.
    SeverityBelowMinimum {
        /// The alert's severity.
        severity: Severity,
        /// The rule's minimal severity.
        minimum: Severity,
    },
    /// The alert's protocol (trimmed) is not in the rule's list.
    ProtocolNotListed {
        /// The alert's protocol, trimmed.
        protocol: &'e str,
    },
    /// The alert's engine is not in the rule's set.
    EngineNotListed {
        /// The alert's engine.
        engine: Engine,
    },
}

impl Verdict<'_> {
    /// Whether the rule matched.
    pub const fn is_matched(&self) -> bool {
        matches!(self, Verdict::Matched(_))
    }

    /// The rule's destinations if it matched, else the empty set.
    pub const fn destinations(&self) -> DestinationSet {
        match self {
            Verdict::Matched(set) => *set,
            _ => DestinationSet::EMPTY,
        }
    }
}

/// Writes a text with `\\`, `\"`, `\t`, `\r`, `\n`, `\0` and `\u{..}` escapes for every
/// other control character (C0, DEL, C1) and for U+2028/U+2029, without the quotes, so that a
/// value can neither break a line nor be mistaken for a quoted one. The escapes are those of
/// `{:?}` for these characters; unlike `{:?}` no Unicode tables are needed, which keeps the
/// firmware image small.
struct Escaped<'a>(&'a str);

/// Writes a text between double quotes, escaped as [`Escaped`].
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", Escaped(self.0))
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(needs_escape) {
            // `find` returns a char boundary, so both halves exist; `get` avoids a panic path.
            let (clean, tail) = (
                rest.get(..at).unwrap_or_default(),
                rest.get(at..).unwrap_or_default(),
            );
            f.write_str(clean)?;
            let mut chars = tail.chars();
            match chars.next() {
                Some('"') => f.write_str("\\\"")?,
                Some('\\') => f.write_str("\\\\")?,
                Some('\t') => f.write_str("\\t")?,
                Some('\r') => f.write_str("\\r")?,
                Some('\n') => f.write_str("\\n")?,
                Some('\0') => f.write_str("\\0")?,
                Some(c) => {
                    let mut text = StackText::<{ "\\u{10ffff}".len() }>::new();
                    text.push_str("\\u{");
                    text.push_hex_short(u32::from(c));
                    text.push(b'}');
                    f.write_str(text.as_str())?;
                }
                None => {}
            }
            rest = chars.as_str();
        }
        f.write_str(rest)
    }
}

/// Whether [`Escaped`] escapes `c`.
fn needs_escape(c: char) -> bool {
    matches!(c, '"' | '\\' | '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}')
}

/// Writes a number in decimal, as `{}` does, without `core::fmt`'s integer formatting.
struct Decimal(u64);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::stack_text::display_decimal(f, self.0)
    }
}

/// How a report names a destination: by id (`#0`) or, given the configured names, as
/// `destination[0] ("soc-hec")`. Generic rather than dynamic so that a build that only uses
/// ids (the firmware) links none of the naming code.
trait Naming {
    /// Whether a matched rule's line names its destinations this way (else it is the
    /// verdict's own `matched -> destinations #0`).
    const NAMES_MATCHES: bool;
    /// Writes one destination.
    fn name(&self, f: &mut fmt::Formatter<'_>, id: DestinationId) -> fmt::Result;
}

/// `#0`: the destination's id.
struct ById;

impl Naming for ById {
    const NAMES_MATCHES: bool = false;

    fn name(&self, f: &mut fmt::Formatter<'_>, id: DestinationId) -> fmt::Result {
        write!(f, "{id}")
    }
}

/// `destination[0] ("soc-hec")`: the configuration's key path and the destination's name
/// (escaped as [`Quoted`]); an id without a name is written `destination[7]`.
struct ByName<'n>(&'n [&'n str]);

impl Naming for ByName<'_> {
    const NAMES_MATCHES: bool = true;

    fn name(&self, f: &mut fmt::Formatter<'_>, id: DestinationId) -> fmt::Result {
        write!(f, "destination[{}]", Decimal(u64::from(id.get())))?;
        match self.0.get(usize::from(id.get())) {
            Some(name) => write!(f, " ({})", Quoted(name)),
            None => Ok(()),
        }
    }
}

/// Writes the set's destinations separated by `, `, or `no destinations` for the empty set.
struct DestinationList<'a, N>(DestinationSet, &'a N);

impl<N: Naming> fmt::Display for DestinationList<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no destinations");
        }
        for (i, destination) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            self.1.name(f, destination)?;
        }
        Ok(())
    }
}

impl fmt::Display for Verdict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Matched(set) if set.is_empty() => f.write_str("matched -> no destinations"),
            Verdict::Matched(set) => {
                write!(
                    f,
                    "matched -> destinations {}",
                    DestinationList(*set, &ById)
                )
            }
            Verdict::AlertsNotForwarded => f.write_str("the rule does not forward alerts"),
            Verdict::NotificationsNotForwarded => {
                f.write_str("the rule does not forward system notifications")
            }
            Verdict::HealthNotForwarded => f.write_str("the rule does not forward health reports"),
            Verdict::SeverityBelowMinimum { severity, minimum } => {
                write!(f, "severity {severity} is below the minimum {minimum}")
            }
            Verdict::ProtocolNotListed { protocol } => {
                write!(
                    f,
                    "protocol {} not in the rule's protocols",
                    Quoted(protocol)
                )
            }
            Verdict::EngineNotListed { engine } => {
                write!(f, "engine {engine} not in the rule's engines")
            }
        }
    }
}

/// A rule and its verdict, as yielded by [`Verdicts`]; displays as one report line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RuleVerdict<'a> {
    /// The rule's position in the rule set.
    pub index: usize,
    /// The rule.
    pub rule: &'a Rule,
    /// Its verdict.
    pub verdict: Verdict<'a>,
}

impl fmt::Display for RuleVerdict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}: {}", Quoted(&self.rule.name), self.verdict)
    }
}

/// The exclusion that suppressed an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Suppression<'a> {
    /// The exclusion's position in the rule set.
    pub index: usize,
    /// The exclusion.
    pub exclusion: &'a Exclusion,
}

impl fmt::Display for Suppression<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "suppressed by exclusion {}",
            Quoted(&self.exclusion.name)
        )?;
        if let Some(window) = &self.exclusion.window {
            write!(f, " (active {window})")?;
        }
        Ok(())
    }
}

/// Each rule's verdict on one event, in rule order.
#[derive(Debug, Clone)]
pub struct Verdicts<'a> {
    rules: Enumerate<slice::Iter<'a, Rule>>,
    event: &'a Event,
}

impl<'a> Iterator for Verdicts<'a> {
    type Item = RuleVerdict<'a>;

    fn next(&mut self) -> Option<RuleVerdict<'a>> {
        let (index, rule) = self.rules.next()?;
        Some(RuleVerdict {
            index,
            rule,
            verdict: rule.verdict(self.event),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rules.size_hint()
    }
}

impl ExactSizeIterator for Verdicts<'_> {}

impl FusedIterator for Verdicts<'_> {}

/// Why an event goes where it goes; see [`RuleSet::explain`](super::RuleSet::explain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Explanation<'a> {
    /// The rule set's rules: all an explanation needs, whatever the set's capacities.
    rules: &'a [Rule],
    event: &'a Event,
    suppressed_by: Option<Suppression<'a>>,
}

impl<'a> Explanation<'a> {
    pub(super) fn new(
        rules: &'a [Rule],
        event: &'a Event,
        suppressed_by: Option<Suppression<'a>>,
    ) -> Explanation<'a> {
        Explanation {
            rules,
            event,
            suppressed_by,
        }
    }

    /// The event explained.
    pub fn event(&self) -> &'a Event {
        self.event
    }

    /// The first exclusion that suppresses the event, if any (never for a notification).
    pub fn suppressed_by(&self) -> Option<Suppression<'a>> {
        self.suppressed_by
    }

    /// Each rule's verdict, in rule order. Verdicts are reported even when the event is
    /// suppressed, to show what the exclusion overrides.
    pub fn verdicts(&self) -> Verdicts<'a> {
        Verdicts {
            rules: self.rules.iter().enumerate(),
            event: self.event,
        }
    }

    /// Where the event goes: empty if suppressed, else the union of the matched rules'
    /// destinations. Equal to [`RuleSet::route`](super::RuleSet::route) for the same event and
    /// time.
    pub fn destinations(&self) -> DestinationSet {
        if self.suppressed_by.is_some() {
            return DestinationSet::EMPTY;
        }
        self.verdicts().fold(DestinationSet::EMPTY, |set, v| {
            set.union(v.verdict.destinations())
        })
    }
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, &ById)
    }
}

/// An [`Explanation`] that names destinations as the configuration does; see
/// [`Explanation::with_names`].
#[derive(Debug, Clone, Copy)]
pub struct NamedExplanation<'n, 'a> {
    explanation: &'n Explanation<'a>,
    names: &'n [&'n str],
}

impl fmt::Display for NamedExplanation<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.explanation.write(f, &ByName(self.names))
    }
}

impl<'a> Explanation<'a> {
    /// The same report, each destination written `destination[0] ("soc-hec")` — the key path
    /// of its `[[destination]]` section and its name — instead of `#0`; `names[i]` is the name
    /// of destination `i`.
    ///
    /// ```
    /// use icsfwd_core::alert::{Alert, Engine, Event, Severity};
    /// use icsfwd_core::destination::DestinationId;
    /// use icsfwd_core::rule::{Rule, RuleSet};
    ///
    /// let mut rules = RuleSet::new();
    /// rules.push_rule(Rule::new("all")?.with_action(DestinationId::new(1).unwrap()))?;
    /// let event = Event::from(Alert::new(9, 0, Engine::Operational, Severity::Major));
    /// let explanation = rules.explain(&event, 0);
    /// let report = explanation.with_names(&["soc-hec", "siem"]).to_string();
    /// assert!(report.contains(r#"rule "all": matched -> destination[1] ("siem")"#));
    /// assert!(report.ends_with(r#"result: forwarded to destination[1] ("siem")"#));
    /// # Ok::<(), icsfwd_core::rule::Error>(())
    /// ```
    pub fn with_names<'n>(&'n self, names: &'n [&'n str]) -> NamedExplanation<'n, 'a> {
        NamedExplanation {
            explanation: self,
            names,
        }
    }

    /// The report, destinations written by `naming`.
    fn write<N: Naming>(&self, f: &mut fmt::Formatter<'_>, naming: &N) -> fmt::Result {
        match self.event {
            Event::Alert(alert) => write!(
                f,
                "alert {}-{} {}: severity {}, engine {}, protocol {}",
                Escaped(&alert.sensor.name),
                Decimal(alert.id),
                Quoted(&alert.title),
                alert.severity,
                alert.engine,
                Quoted(alert.protocol.trim())
            )?,
            Event::Notification(notification) => write!(
                f,
                "system notification {}-{} {}",
                Escaped(&notification.sensor.name),
                Decimal(notification.id),
                Quoted(notification.kind.as_str())
            )?,
        }
        if self.rules.is_empty() {
            f.write_str("\nno rules configured")?;
        }
        for verdict in self.verdicts() {
            match verdict.verdict {
                Verdict::Matched(set) if N::NAMES_MATCHES && !set.is_empty() => write!(
                    f,
                    "\nrule {}: matched -> {}",
                    Quoted(&verdict.rule.name),
                    DestinationList(set, naming)
                )?,
                _ => write!(f, "\n{verdict}")?,
            }
        }
        let destinations = self.destinations();
        match self.suppressed_by {
            Some(suppression) => write!(f, "\nresult: not forwarded, {suppression}"),
            None if destinations.is_empty() => {
                if self.verdicts().any(|v| v.verdict.is_matched()) {
                    f.write_str("\nresult: not forwarded, the matching rules have no destinations")
                } else {
                    f.write_str("\nresult: not forwarded, no rule matched")
                }
            }
            None => write!(
                f,
                "\nresult: forwarded to {}",
                DestinationList(destinations, naming)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Quoted;
    use std::format;

    #[test]
    fn quoting_escapes_like_debug_for_controls_quotes_and_line_separators() {
        for text in [
            "plain rule-name",
            "say \"hi\" \\ there",
            "tab\there\r\nnext\u{0}nul\u{1b}esc\u{7f}del",
            "c1 \u{85} \u{9f} and separators \u{2028}\u{2029}",
            "non-ASCII stays: é 日本 😀",
        ] {
            assert_eq!(format!("{}", Quoted(text)), format!("{text:?}"), "{text:?}");
        }
    }
}
