//! Forwarding rules and exclusions: which destinations an event goes to, and why.
//!
//! This mirrors the forwarding-rule form of an OT sensor's management console:
//!
//! - A [`Rule`] has a name, a minimal severity (inclusive: `Minor` forwards Minor, Major and
//!   Critical), a protocol condition ([`Protocols::All`] or a list, matched without regard to
//!   ASCII case or surrounding blanks), an engine condition ([`Engines::All`] or a set), whether
//!   it forwards alerts and whether it forwards system notifications, and its actions: the
//!   destinations it sends to. An alert matches a rule when the rule forwards alerts AND the
//!   severity reaches the minimum AND the protocol is listed AND the engine is listed.
//! - A system notification (sensor online/offline, backup failure, alerts dropped) matches a
//!   rule iff the rule forwards system notifications. The severity, protocol and engine
//!   conditions describe detection traffic and do not apply: a notification has no protocol or
//!   engine, and on the console the "report system notifications" checkbox sits beside, not
//!   under, those conditions.
//! - The forwarder's own health report (a notification of kind `Health`) matches a rule iff
//!   the rule forwards health reports: a SOC may want the forwarder's periodic state without
//!   the sensors' news, or the reverse.
//! - An [`Exclusion`] suppresses an alert when every criterion it sets matches — any of its
//!   subnets contains the source OR the destination address, AND the title is one of its
//!   titles (exact, ASCII case-insensitive), AND the sensor is one of its sensors (same
//!   comparison) — and, if it has a time window, `now` lies in that half-open window. An
//!   exclusion with only a window is a maintenance window: it suppresses every alert during
//!   it. One with neither criteria nor window would suppress everything forever and is refused.
//! - Exclusions win over rules: a suppressed alert goes nowhere, whatever rules match.
//! - Exclusions apply to alerts only. System notifications are never suppressed: an operator
//!   must learn that a sensor went offline or that alerts were dropped even during a
//!   maintenance window — that is exactly when the monitoring is at risk.
//!
//! [`RuleSet::route`] is the hot path. When a rule is added, the rule set records, per
//! severity, per engine, per event kind and per distinct protocol name, the bitmask of the
//! rules that accept it, and trims every stored name. Routing an alert is then a few mask
//! operations and one pass over the distinct protocol names (at most the set's
//! `PROTOCOL_NAMES`, mostly rejected on length), whatever the number of rules; exclusions are
//! consulted only if some rule matched. Nothing is allocated. [`RuleSet::explain`] evaluates
//! each rule on its own and reports the first failed condition; both agree (a property test
//! proves it).
//!
//! Time windows are checked against the `now_ms` the caller passes (core reads no clock): the
//! appliance passes the time it accepts the event, so a maintenance window silences what
//! arrives during it, not what the sensor timestamped during it. Address matching, including
//! how IPv4-mapped IPv6 addresses are treated, is described on [`Subnet`].
//!
//! Guarantees: no function here panics or allocates; every capacity is fixed — a `MAX_*`
//! constant for a rule's and an exclusion's lists, a const parameter of [`RuleSet`] (with the
//! `MAX_*` constants as defaults) for the rule set's own — and exceeding one is an [`Error`]
//! that names it and its actual capacity.
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Event, Severity};
//! use icsfwd_core::destination::DestinationId;
//! use icsfwd_core::rule::{Exclusion, Rule, RuleSet};
//!
//! let soc = DestinationId::new(0).unwrap();
//! let archive = DestinationId::new(2).unwrap();
//! let mut rules = RuleSet::new();
//! rules.push_rule(
//!     Rule::new("critical-to-soc")?.with_min_severity(Severity::Critical).with_action(soc),
//! )?;
//! rules.push_rule(
//!     Rule::new("modbus-archive")?.with_protocols(["Modbus"])?.with_action(archive),
//! )?;
//! rules.push_exclusion(Exclusion::new("lab")?.with_address("10.99.0.0/16")?)?;
//!
//! let mut alert = Alert::new(1, 0, Engine::Malware, Severity::Critical);
//! alert.set_protocol("MODBUS");
//! let event = Event::from(alert);
//! let routed = rules.route(&event, 0);
//! assert!(routed.contains(soc) && routed.contains(archive));
//!
//! let report = format!("{}", rules.explain(&event, 0));
//! assert!(report.contains(r#"rule "critical-to-soc": matched -> destinations #0"#));
//! # Ok::<(), icsfwd_core::rule::Error>(())
//! ```

use core::fmt;

use heapless::{String, Vec};

use crate::alert::{self, Alert, Engine, Event, Severity};
use crate::destination::{DestinationId, DestinationSet};
use crate::time::Civil;

mod explain;
mod subnet;

pub use explain::{Explanation, NamedExplanation, RuleVerdict, Suppression, Verdict, Verdicts};
pub use subnet::{Subnet, SubnetError};

/// How many rules a [`RuleSet`] holds by default (its `RULES` parameter). A rule set never
/// holds more than 32 rules: each rule is one bit of the `u32` routing masks, and a larger
/// `RULES` is refused at compile time.
pub const MAX_RULES: usize = 32;
/// How many exclusions a [`RuleSet`] holds by default (its `EXCLUSIONS` parameter).
pub const MAX_EXCLUSIONS: usize = 16;
/// Capacity in bytes of a rule's or an exclusion's name.
pub const MAX_RULE_NAME: usize = 64;
/// How many protocols one rule can list.
pub const MAX_RULE_PROTOCOLS: usize = 16;
/// How many subnets one exclusion can list.
pub const MAX_EXCLUSION_ADDRESSES: usize = 16;
/// How many titles one exclusion can list. Titles are the largest item (each up to
/// [`alert::MAX_TITLE`] bytes, held inline), so this is kept small; since an exclusion's
/// titles are alternatives, more titles with the same other criteria fit in a second
/// exclusion with exactly the same effect.
pub const MAX_EXCLUSION_TITLES: usize = 4;
/// How many sensor names one exclusion can list.
pub const MAX_EXCLUSION_SENSORS: usize = 8;
/// How many distinct protocol names (ignoring ASCII case) all the rules of a [`RuleSet`] can
/// list together by default (its `PROTOCOL_NAMES` parameter). The rule set keeps one table
/// of them, each with the mask of the rules that list it, so routing compares an alert's
/// protocol with each distinct name once.
pub const MAX_PROTOCOL_NAMES: usize = 64;

// A rule's bit in the routing masks; `RuleSet` checks at compile time that its `RULES` fit.
type RuleMask = u32;
const MASK_BITS: usize = RuleMask::BITS as usize;
const _: () = assert!(MAX_RULES <= MASK_BITS);

/// A list with a capacity, named in [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum List {
    /// The rules of a rule set (its `RULES` capacity, by default [`MAX_RULES`]).
    Rules,
    /// The exclusions of a rule set (its `EXCLUSIONS` capacity, by default
    /// [`MAX_EXCLUSIONS`]).
    Exclusions,
    /// A rule's protocols ([`MAX_RULE_PROTOCOLS`]).
    Protocols,
    /// The distinct protocol names of all rules together (the rule set's `PROTOCOL_NAMES`
    /// capacity, by default [`MAX_PROTOCOL_NAMES`]).
    ProtocolNames,
    /// A rule's engines.
    Engines,
    /// An exclusion's subnets ([`MAX_EXCLUSION_ADDRESSES`]).
    Addresses,
    /// An exclusion's titles ([`MAX_EXCLUSION_TITLES`]).
    Titles,
    /// An exclusion's sensors ([`MAX_EXCLUSION_SENSORS`]).
    Sensors,
}

impl List {
    const fn as_str(self) -> &'static str {
        match self {
            List::Rules => "rules",
            List::Exclusions => "exclusions",
            List::Protocols => "protocols in one rule",
            List::ProtocolNames => "distinct protocol names across all rules",
            List::Engines => "engines in one rule",
            List::Addresses => "addresses in one exclusion",
            List::Titles => "titles in one exclusion",
            List::Sensors => "sensors in one exclusion",
        }
    }
}

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text value with a capacity, named in [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Field {
    /// A rule's name ([`MAX_RULE_NAME`]).
    RuleName,
    /// An exclusion's name ([`MAX_RULE_NAME`]).
    ExclusionName,
    /// A protocol name ([`alert::MAX_PROTOCOL`]).
    Protocol,
    /// An alert title in an exclusion ([`alert::MAX_TITLE`]).
    Title,
    /// A sensor name in an exclusion ([`alert::MAX_SENSOR_NAME`]).
    Sensor,
}

impl Field {
    const fn as_str(self) -> &'static str {
        match self {
            Field::RuleName => "rule name",
            Field::ExclusionName => "exclusion name",
            Field::Protocol => "protocol name",
            Field::Title => "alert title",
            Field::Sensor => "sensor name",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a rule, an exclusion or a rule set could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A list is full; the value that did not fit was not added.
    TooMany {
        /// Which list.
        list: List,
        /// Its capacity.
        max: usize,
    },
    /// A text value is longer than its capacity (configuration is refused, never cut).
    TooLong {
        /// Which value.
        field: Field,
        /// Its length in bytes, after trimming surrounding blanks.
        len: usize,
        /// Its capacity in bytes.
        max: usize,
    },
    /// A text value is empty or only blanks.
    Blank {
        /// Which value.
        field: Field,
    },
    /// A `Specific` protocol list or engine set is empty: the rule could never match an
    /// alert. Use `All`, or stop forwarding alerts with the rule.
    EmptyList {
        /// Which list.
        list: List,
    },
    /// A time window whose end is not after its start.
    EmptyWindow {
        /// The window's start, ms since the epoch.
        start_ms: u64,
        /// The window's end, ms since the epoch.
        end_ms: u64,
    },
    /// An exclusion with no address, title or sensor and no time window, which would
    /// suppress every alert forever.
    Unconditional,
    /// An address is not a valid subnet.
    Subnet(SubnetError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooMany { list, max } => write!(f, "too many {list} (at most {max})"),
            Error::TooLong { field, len, max } => {
                write!(f, "{field} is {len} bytes long (at most {max})")
            }
            Error::Blank { field } => write!(f, "{field} is empty"),
            Error::EmptyList { list } => write!(
                f,
                "no {list} selected: the rule could never match an alert (use \"all\")"
            ),
            Error::EmptyWindow { start_ms, end_ms } => write!(
                f,
                "time window ends ({}) before it starts ({})",
                Civil::from_epoch_ms(*end_ms).rfc3339(),
                Civil::from_epoch_ms(*start_ms).rfc3339()
            ),
            Error::Unconditional => f.write_str(
                "exclusion has no address, title, sensor or time window: it would suppress \
                 every alert",
            ),
            Error::Subnet(e) => write!(f, "bad address: {e}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Subnet(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SubnetError> for Error {
    fn from(e: SubnetError) -> Error {
        Error::Subnet(e)
    }
}

/// `text` without surrounding blanks, as a `String<N, u8>`, or why not.
fn bounded<const N: usize>(text: &str, field: Field) -> Result<String<N, u8>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Blank { field });
    }
    let mut out = String::new();
    out.push_str(text).map_err(|_| Error::TooLong {
        field,
        len: text.len(),
        max: N,
    })?;
    Ok(out)
}

/// Whether two names are equal, ignoring ASCII case and surrounding blanks.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Removes surrounding blanks, so that matching need not trim stored names per event.
fn trim_in_place<const N: usize>(text: &mut String<N, u8>) {
    if text.trim().len() != text.len() {
        let mut trimmed = String::new();
        // Shorter than the original, so it fits.
        if trimmed.push_str(text.trim()).is_ok() {
            *text = trimmed;
        }
    }
}

/// A set of detection engines, as a bitmask of [`Engine::bit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EngineSet(u8);

impl EngineSet {
    /// No engine.
    pub const EMPTY: EngineSet = EngineSet(0);

    /// This set plus `engine`.
    #[must_use]
    pub const fn with(self, engine: Engine) -> EngineSet {
        EngineSet(self.0 | engine.bit())
    }

    /// Whether `engine` is in the set.
    pub const fn contains(self, engine: Engine) -> bool {
        self.0 & engine.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The engines in the set, in [`Engine::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Engine> {
        Engine::ALL.into_iter().filter(move |e| self.contains(*e))
    }
}

impl FromIterator<Engine> for EngineSet {
    fn from_iter<I: IntoIterator<Item = Engine>>(iter: I) -> Self {
        iter.into_iter().fold(EngineSet::EMPTY, EngineSet::with)
    }
}

impl fmt::Display for EngineSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, engine) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(engine.as_str())?;
        }
        Ok(())
    }
}

/// A rule's protocol condition.
#[expect(
    clippy::large_enum_variant,
    reason = "no alloc, so no Box: the list is held inline, and a rule needs room for it anyway"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Protocols {
    /// Any protocol, including none ("Any protocol detected").
    All,
    /// Only these protocols, compared without regard to ASCII case or surrounding blanks.
    Specific(Vec<String<{ alert::MAX_PROTOCOL }, u8>, MAX_RULE_PROTOCOLS, u8>),
}

impl Protocols {
    /// A `Specific` list of `names`, trimmed; duplicates (by the matching rule) are kept once.
    pub fn specific<I, S>(names: I) -> Result<Protocols, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for name in names {
            let name: String<{ alert::MAX_PROTOCOL }, u8> =
                bounded(name.as_ref(), Field::Protocol)?;
            if list
                .iter()
                .any(|known: &String<_, u8>| same_name(known, &name))
            {
                continue;
            }
            list.push(name).map_err(|_| Error::TooMany {
                list: List::Protocols,
                max: MAX_RULE_PROTOCOLS,
            })?;
        }
        if list.is_empty() {
            return Err(Error::EmptyList {
                list: List::Protocols,
            });
        }
        Ok(Protocols::Specific(list))
    }

    /// Whether `protocol` satisfies the condition: equal to a listed name, ignoring ASCII case
    /// and blanks around either.
    pub fn contains(&self, protocol: &str) -> bool {
        match self {
            Protocols::All => true,
            Protocols::Specific(list) => {
                let protocol = protocol.trim();
                list.iter().any(|name| same_name(name, protocol))
            }
        }
    }
}

/// A rule's engine condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Engines {
    /// Any engine ("Traffic detected by any engine").
    All,
    /// Only these engines.
    Specific(EngineSet),
}

impl Engines {
    /// Whether `engine` satisfies the condition.
    pub const fn contains(&self, engine: Engine) -> bool {
        match self {
            Engines::All => true,
            Engines::Specific(set) => set.contains(engine),
        }
    }
}

/// A forwarding rule: which events it takes, and where it sends them.
///
/// Build one with [`Rule::new`] and the `with_*` methods. Defaults are the console's: every
/// severity, any protocol, any engine, alerts forwarded, system notifications not, no action.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rule {
    /// The rule's name: only a label, shown by `explain`.
    pub name: String<MAX_RULE_NAME, u8>,
    /// The lowest severity forwarded (inclusive).
    pub min_severity: Severity,
    /// The protocol condition.
    pub protocols: Protocols,
    /// The engine condition.
    pub engines: Engines,
    /// Whether the rule forwards alerts ("Report Alert Notifications").
    pub forward_alerts: bool,
    /// Whether the rule forwards system notifications ("Report System Notifications").
    pub forward_notifications: bool,
    /// Whether the rule forwards the forwarder's health reports.
    pub forward_health: bool,
    /// The destinations matching events go to.
    pub actions: DestinationSet,
}

impl Rule {
    /// A rule named `name` (trimmed) with the console's defaults.
    pub fn new(name: &str) -> Result<Rule, Error> {
        Ok(Rule {
            name: bounded(name, Field::RuleName)?,
            min_severity: Severity::Warning,
            protocols: Protocols::All,
            engines: Engines::All,
            forward_alerts: true,
            forward_notifications: false,
            forward_health: false,
            actions: DestinationSet::EMPTY,
        })
    }

    /// Sets the minimal severity (inclusive).
    #[must_use]
    pub fn with_min_severity(mut self, severity: Severity) -> Rule {
        self.min_severity = severity;
        self
    }

    /// Restricts the rule to the protocols `names` (see [`Protocols::specific`]).
    pub fn with_protocols<I, S>(mut self, names: I) -> Result<Rule, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.protocols = Protocols::specific(names)?;
        Ok(self)
    }

    /// Restricts the rule to `engines`; an empty set is refused.
    pub fn with_engines<I: IntoIterator<Item = Engine>>(
        mut self,
        engines: I,
    ) -> Result<Rule, Error> {
        let set: EngineSet = engines.into_iter().collect();
        if set.is_empty() {
            return Err(Error::EmptyList {
                list: List::Engines,
            });
        }
        self.engines = Engines::Specific(set);
        Ok(self)
    }

    /// Sets whether the rule forwards alerts.
    #[must_use]
    pub fn forwarding_alerts(mut self, yes: bool) -> Rule {
        self.forward_alerts = yes;
        self
    }

    /// Sets whether the rule forwards system notifications.
    #[must_use]
    pub fn forwarding_notifications(mut self, yes: bool) -> Rule {
        self.forward_notifications = yes;
        self
    }

    /// Sets whether the rule forwards the forwarder's health reports.
    #[must_use]
    pub fn forwarding_health(mut self, yes: bool) -> Rule {
        self.forward_health = yes;
        self
    }

    /// Adds one destination to the rule's actions.
    #[must_use]
    pub fn with_action(mut self, destination: DestinationId) -> Rule {
        self.actions = self.actions.with(destination);
        self
    }

    /// Adds destinations to the rule's actions.
    #[must_use]
    pub fn with_actions(mut self, destinations: DestinationSet) -> Rule {
        self.actions = self.actions.union(destinations);
        self
    }

    /// Whether `event` matches this rule (exclusions aside).
    pub fn matches(&self, event: &Event) -> bool {
        self.verdict(event).is_matched()
    }

    /// This rule's verdict on `event`: matched, or the first condition that failed, checked in
    /// this order: event kind forwarded, severity, protocol, engine.
    pub fn verdict<'e>(&self, event: &'e Event) -> Verdict<'e> {
        let alert = match event {
            Event::Notification(n) if n.kind.is_health() => {
                return if self.forward_health {
                    Verdict::Matched(self.actions)
                } else {
                    Verdict::HealthNotForwarded
                };
            }
            Event::Notification(_) if self.forward_notifications => {
                return Verdict::Matched(self.actions);
            }
            Event::Notification(_) => return Verdict::NotificationsNotForwarded,
            Event::Alert(alert) => alert,
        };
        if !self.forward_alerts {
            Verdict::AlertsNotForwarded
        } else if alert.severity < self.min_severity {
            Verdict::SeverityBelowMinimum {
                severity: alert.severity,
                minimum: self.min_severity,
            }
        } else if !self.protocols.contains(&alert.protocol) {
            Verdict::ProtocolNotListed {
                protocol: alert.protocol.trim(),
            }
        } else if !self.engines.contains(alert.engine) {
            Verdict::EngineNotListed {
                engine: alert.engine,
            }
        } else {
            Verdict::Matched(self.actions)
        }
    }

    /// Checks what a rule built field by field could get wrong.
    fn validate(&self) -> Result<(), Error> {
        if self.name.trim().is_empty() {
            return Err(Error::Blank {
                field: Field::RuleName,
            });
        }
        if let Protocols::Specific(list) = &self.protocols {
            if list.is_empty() {
                return Err(Error::EmptyList {
                    list: List::Protocols,
                });
            }
            if list.iter().any(|name| name.trim().is_empty()) {
                return Err(Error::Blank {
                    field: Field::Protocol,
                });
            }
        }
        if let Engines::Specific(set) = self.engines
            && set.is_empty()
        {
            return Err(Error::EmptyList {
                list: List::Engines,
            });
        }
        Ok(())
    }
}

/// A half-open interval of time `[start_ms, end_ms)`, in ms since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TimeWindow {
    /// The first millisecond inside the window.
    pub start_ms: u64,
    /// The first millisecond after the window.
    pub end_ms: u64,
}

impl TimeWindow {
    /// The window `[start_ms, end_ms)`; refused unless `start_ms < end_ms`.
    pub const fn new(start_ms: u64, end_ms: u64) -> Result<TimeWindow, Error> {
        if start_ms < end_ms {
            Ok(TimeWindow { start_ms, end_ms })
        } else {
            Err(Error::EmptyWindow { start_ms, end_ms })
        }
    }

    /// Whether `now_ms` is inside: start inclusive, end exclusive.
    pub const fn contains(&self, now_ms: u64) -> bool {
        self.start_ms <= now_ms && now_ms < self.end_ms
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}, {})",
            Civil::from_epoch_ms(self.start_ms).rfc3339(),
            Civil::from_epoch_ms(self.end_ms).rfc3339()
        )
    }
}

/// An exclusion: alerts it matches are not forwarded at all, whatever the rules say.
///
/// Build one with [`Exclusion::new`] and the `with_*` methods. See the
/// [module documentation](self) for the matching rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Exclusion {
    /// The exclusion's name: only a label, shown by `explain`.
    pub name: String<MAX_RULE_NAME, u8>,
    /// Subnets; the alert matches if any contains its source or destination address.
    pub addresses: Vec<Subnet, MAX_EXCLUSION_ADDRESSES, u8>,
    /// Titles; the alert matches if its title equals one (ASCII case-insensitive, trimmed).
    pub titles: Vec<String<{ alert::MAX_TITLE }, u8>, MAX_EXCLUSION_TITLES, u8>,
    /// Sensor names; the alert matches if its sensor is one (ASCII case-insensitive, trimmed).
    pub sensors: Vec<String<{ alert::MAX_SENSOR_NAME }, u8>, MAX_EXCLUSION_SENSORS, u8>,
    /// When set, the exclusion is active only while `now` is in this window.
    pub window: Option<TimeWindow>,
}

impl Exclusion {
    /// An exclusion named `name` (trimmed) with no criteria yet.
    pub fn new(name: &str) -> Result<Exclusion, Error> {
        Ok(Exclusion {
            name: bounded(name, Field::ExclusionName)?,
            addresses: Vec::new(),
            titles: Vec::new(),
            sensors: Vec::new(),
            window: None,
        })
    }

    /// A maintenance window: suppresses every alert in `[start_ms, end_ms)`.
    pub fn maintenance_window(name: &str, start_ms: u64, end_ms: u64) -> Result<Exclusion, Error> {
        Ok(Exclusion::new(name)?.with_window(TimeWindow::new(start_ms, end_ms)?))
    }

    /// Adds a subnet.
    pub fn with_subnet(mut self, subnet: Subnet) -> Result<Exclusion, Error> {
        self.addresses.push(subnet).map_err(|_| Error::TooMany {
            list: List::Addresses,
            max: MAX_EXCLUSION_ADDRESSES,
        })?;
        Ok(self)
    }

    /// Adds a subnet parsed from `10.0.0.0/8`, `fe80::/10` or a bare address.
    pub fn with_address(self, text: &str) -> Result<Exclusion, Error> {
        self.with_subnet(Subnet::parse(text)?)
    }

    /// Adds a title (trimmed).
    pub fn with_title(mut self, title: &str) -> Result<Exclusion, Error> {
        let title = bounded(title, Field::Title)?;
        self.titles.push(title).map_err(|_| Error::TooMany {
            list: List::Titles,
            max: MAX_EXCLUSION_TITLES,
        })?;
        Ok(self)
    }

    /// Adds a sensor name (trimmed).
    pub fn with_sensor(mut self, sensor: &str) -> Result<Exclusion, Error> {
        let sensor = bounded(sensor, Field::Sensor)?;
        self.sensors.push(sensor).map_err(|_| Error::TooMany {
            list: List::Sensors,
            max: MAX_EXCLUSION_SENSORS,
        })?;
        Ok(self)
    }

    /// Limits the exclusion to a time window.
    #[must_use]
    pub fn with_window(mut self, window: TimeWindow) -> Exclusion {
        self.window = Some(window);
        self
    }

    /// Whether this exclusion suppresses `event` at `now_ms`; never true for a system
    /// notification. Titles and sensors are compared as stored, which the builders and
    /// [`RuleSet::push_exclusion`] leave trimmed.
    pub fn suppresses(&self, event: &Event, now_ms: u64) -> bool {
        match event {
            Event::Alert(alert) => self.suppresses_alert(&Subject::of(alert), now_ms),
            Event::Notification(_) => false,
        }
    }

    fn suppresses_alert(&self, subject: &Subject<'_>, now_ms: u64) -> bool {
        if let Some(window) = &self.window
            && !window.contains(now_ms)
        {
            return false;
        }
        // Stored names are trimmed (by the builders, or by `RuleSet::push_exclusion`) and the
        // subject's once per event, so only the case is left to ignore here.
        (self.sensors.is_empty()
            || self
                .sensors
                .iter()
                .any(|s| s.eq_ignore_ascii_case(subject.sensor)))
            && (self.addresses.is_empty()
                || self
                    .addresses
                    .iter()
                    .any(|net| net.contains(subject.source) || net.contains(subject.destination)))
            && (self.titles.is_empty()
                || self
                    .titles
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(subject.title)))
    }

    fn validate(&self) -> Result<(), Error> {
        if self.name.trim().is_empty() {
            return Err(Error::Blank {
                field: Field::ExclusionName,
            });
        }
        if let Some(window) = self.window {
            TimeWindow::new(window.start_ms, window.end_ms)?;
        }
        if self.titles.iter().any(|t| t.trim().is_empty()) {
            return Err(Error::Blank {
                field: Field::Title,
            });
        }
        if self.sensors.iter().any(|s| s.trim().is_empty()) {
            return Err(Error::Blank {
                field: Field::Sensor,
            });
        }
        if self.window.is_none()
            && self.addresses.is_empty()
            && self.titles.is_empty()
            && self.sensors.is_empty()
        {
            return Err(Error::Unconditional);
        }
        Ok(())
    }
}

/// What exclusions look at in an alert, prepared once per event.
struct Subject<'a> {
    source: core::net::IpAddr,
    destination: core::net::IpAddr,
    title: &'a str,
    sensor: &'a str,
}

impl<'a> Subject<'a> {
    fn of(alert: &'a Alert) -> Subject<'a> {
        Subject {
            source: subnet::canonical(alert.source.ip),
            destination: subnet::canonical(alert.destination.ip),
            title: alert.title.trim(),
            sensor: alert.sensor.name.trim(),
        }
    }
}

/// A distinct protocol name (trimmed) and the rules that list it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct ProtocolEntry {
    name: String<{ alert::MAX_PROTOCOL }, u8>,
    rules: RuleMask,
}

/// Per condition value, the rules that accept it; kept in step with the rules on every push.
/// `P` is the capacity of the protocol-name table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Index<const P: usize> {
    alerts: RuleMask,
    notifications: RuleMask,
    health: RuleMask,
    /// By severity (as index): rules whose minimum is at or below it.
    severity: [RuleMask; Severity::ALL.len()],
    /// By engine (as index): rules that accept it.
    engine: [RuleMask; Engine::ALL.len()],
    /// Rules with [`Protocols::All`].
    any_protocol: RuleMask,
    /// Every protocol name some rule lists, once (ignoring ASCII case).
    protocols: Vec<ProtocolEntry, P>,
}

impl<const P: usize> Index<P> {
    const fn new() -> Index<P> {
        Index {
            alerts: 0,
            notifications: 0,
            health: 0,
            severity: [0; Severity::ALL.len()],
            engine: [0; Engine::ALL.len()],
            any_protocol: 0,
            protocols: Vec::new(),
        }
    }

    /// Adds `rule` as `bit`, a bit no rule held yet. If its protocol names do not fit, the
    /// index is restored as it was (in place: a copy would cost a whole index of stack, which
    /// a small target does not have) and the error says so.
    fn add(&mut self, bit: RuleMask, rule: &Rule) -> Result<(), Error> {
        if let Protocols::Specific(names) = &rule.protocols {
            let known = self.protocols.len();
            for name in names {
                let added = match self
                    .protocols
                    .iter_mut()
                    .find(|e| e.name.eq_ignore_ascii_case(name))
                {
                    Some(entry) => {
                        entry.rules |= bit;
                        Ok(())
                    }
                    None => self.protocols.push(ProtocolEntry {
                        name: name.clone(),
                        rules: bit,
                    }),
                };
                if added.is_err() {
                    self.protocols.truncate(known);
                    self.protocols.iter_mut().for_each(|e| e.rules &= !bit);
                    return Err(Error::TooMany {
                        list: List::ProtocolNames,
                        max: P,
                    });
                }
            }
        } else {
            self.any_protocol |= bit;
        }
        if rule.forward_alerts {
            self.alerts |= bit;
        }
        if rule.forward_notifications {
            self.notifications |= bit;
        }
        if rule.forward_health {
            self.health |= bit;
        }
        for (mask, severity) in self.severity.iter_mut().zip(Severity::ALL) {
            if severity >= rule.min_severity {
                *mask |= bit;
            }
        }
        for (mask, engine) in self.engine.iter_mut().zip(Engine::ALL) {
            if rule.engines.contains(engine) {
                *mask |= bit;
            }
        }
        Ok(())
    }

    /// The rules that accept `protocol` (trimmed by the caller).
    fn protocol(&self, protocol: &str) -> RuleMask {
        let listed = self
            .protocols
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(protocol))
            .map_or(0, |e| e.rules);
        self.any_protocol | listed
    }
}

/// The bit numbers set in `mask`, lowest first.
fn rule_bits(mut mask: RuleMask) -> impl Iterator<Item = usize> {
    core::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let bit = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(bit)
    })
}

/// The operator's rules and exclusions, ready to route events.
///
/// Built empty and filled with [`RuleSet::push_rule`] and [`RuleSet::push_exclusion`] (or
/// [`RuleSet::from_parts`]); both validate what they are given. The rules are kept private
/// so that the routing index cannot fall out of step with them; read them through
/// [`RuleSet::rules`].
///
/// The capacities are parameters: at most `RULES` rules (never more than 32, one bit each in
/// the routing masks: a larger value does not compile), `EXCLUSIONS` exclusions and
/// `PROTOCOL_NAMES` distinct protocol names across the rules. Plain `RuleSet` is the
/// appliance's size ([`MAX_RULES`], [`MAX_EXCLUSIONS`], [`MAX_PROTOCOL_NAMES`]), built with
/// [`RuleSet::new`]; a small target names its own, e.g. `RuleSet<4, 2, 8>`, and builds it with
/// [`RuleSet::with_capacity`]. Everything else, including [`Explanation`], works the same
/// at any capacity. The value is held inline (the default one is tens of KiB, a
/// `RuleSet<4, 2, 8>` under 6 KiB): on a small target keep it in a `static` and fill it in
/// place rather than returning it by value.
///
/// ```
/// use icsfwd_core::rule::{Error, List, Rule, RuleSet};
///
/// static EMPTY: RuleSet<4, 2, 8> = RuleSet::with_capacity();
/// assert!(EMPTY.rules().is_empty());
///
/// let mut small = RuleSet::<2, 1, 4>::with_capacity();
/// small.push_rule(Rule::new("a")?)?;
/// small.push_rule(Rule::new("b")?)?;
/// assert_eq!(
///     small.push_rule(Rule::new("c")?),
///     Err(Error::TooMany { list: List::Rules, max: 2 })
/// );
/// # Ok::<(), Error>(())
/// ```
///
/// More than 32 rules is a compile-time error:
///
/// ```compile_fail
/// let too_big = icsfwd_core::rule::RuleSet::<33, 1, 1>::with_capacity();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RuleSet<
    const RULES: usize = MAX_RULES,
    const EXCLUSIONS: usize = MAX_EXCLUSIONS,
    const PROTOCOL_NAMES: usize = MAX_PROTOCOL_NAMES,
> {
    rules: Vec<Rule, RULES>,
    exclusions: Vec<Exclusion, EXCLUSIONS>,
    index: Index<PROTOCOL_NAMES>,
}

impl RuleSet {
    /// A rule set of the default capacities without rules or exclusions: it routes nothing.
    /// For other capacities see [`RuleSet::with_capacity`].
    pub const fn new() -> RuleSet {
        RuleSet::with_capacity()
    }

    /// A rule set of the default capacities holding `rules` and `exclusions`, in order; the
    /// first refused item's error. For other capacities see
    /// [`RuleSet::from_parts_with_capacity`].
    pub fn from_parts<R, E>(rules: R, exclusions: E) -> Result<RuleSet, Error>
    where
        R: IntoIterator<Item = Rule>,
        E: IntoIterator<Item = Exclusion>,
    {
        RuleSet::from_parts_with_capacity(rules, exclusions)
    }
}

impl<const RULES: usize, const EXCLUSIONS: usize, const PROTOCOL_NAMES: usize> Default
    for RuleSet<RULES, EXCLUSIONS, PROTOCOL_NAMES>
{
    fn default() -> Self {
        Self::with_capacity()
    }
}

impl<const RULES: usize, const EXCLUSIONS: usize, const PROTOCOL_NAMES: usize>
    RuleSet<RULES, EXCLUSIONS, PROTOCOL_NAMES>
{
    /// A rule set of the capacities named in its type, without rules or exclusions: it routes
    /// nothing. `RULES` above 32 is refused at compile time. Usable in a `static`.
    pub const fn with_capacity() -> Self {
        const {
            assert!(
                RULES <= MASK_BITS,
                "a RuleSet holds at most 32 rules (one bit each in the routing masks)"
            );
        }
        RuleSet {
            rules: Vec::new(),
            exclusions: Vec::new(),
            index: Index::new(),
        }
    }

    /// A rule set of the capacities named in its type holding `rules` and `exclusions`, in
    /// order; the first refused item's error. The value is returned by value, so on a small
    /// target prefer [`RuleSet::with_capacity`] in a `static` and the `push_*` methods.
    pub fn from_parts_with_capacity<R, E>(rules: R, exclusions: E) -> Result<Self, Error>
    where
        R: IntoIterator<Item = Rule>,
        E: IntoIterator<Item = Exclusion>,
    {
        let mut set = Self::with_capacity();
        for rule in rules {
            set.push_rule(rule)?;
        }
        for exclusion in exclusions {
            set.push_exclusion(exclusion)?;
        }
        Ok(set)
    }

    /// Appends a rule after checking it, and trims its protocol names. Refused with
    /// [`Error::TooMany`] once `RULES` rules are held or when its protocols would take the
    /// rule set past `PROTOCOL_NAMES` distinct names; refused too when a field built by
    /// hand is blank or an empty `Specific` list. A refused rule changes nothing.
    pub fn push_rule(&mut self, mut rule: Rule) -> Result<(), Error> {
        trim_in_place(&mut rule.name);
        if let Protocols::Specific(names) = &mut rule.protocols {
            names.iter_mut().for_each(trim_in_place);
        }
        rule.validate()?;
        let full = Error::TooMany {
            list: List::Rules,
            max: RULES,
        };
        // `with_capacity` proved RULES <= 32, so the shift cannot overflow while there is
        // room; `checked_shl` only makes that local.
        let bit = match u32::try_from(self.rules.len()) {
            Ok(n) if !self.rules.is_full() => RuleMask::checked_shl(1, n).ok_or(full)?,
            _ => return Err(full),
        };
        self.rules.push(rule).map_err(|_| full)?;
        if let Some(rule) = self.rules.last()
            && let Err(e) = self.index.add(bit, rule)
        {
            // `add` left the index as it was; so must the rules be.
            self.rules.pop();
            return Err(e);
        }
        Ok(())
    }

    /// Appends an exclusion after checking it, and trims its names. Refused with
    /// [`Error::TooMany`] once `EXCLUSIONS` exclusions are held, or when it has no criteria
    /// and no window, an empty window, or a blank title or sensor.
    pub fn push_exclusion(&mut self, mut exclusion: Exclusion) -> Result<(), Error> {
        trim_in_place(&mut exclusion.name);
        exclusion.titles.iter_mut().for_each(trim_in_place);
        exclusion.sensors.iter_mut().for_each(trim_in_place);
        exclusion.validate()?;
        self.exclusions.push(exclusion).map_err(|_| Error::TooMany {
            list: List::Exclusions,
            max: EXCLUSIONS,
        })
    }

    /// The rules, in the order they were added.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The exclusions, in the order they were added.
    pub fn exclusions(&self) -> &[Exclusion] {
        &self.exclusions
    }

    /// The destinations `event` goes to at `now_ms`: the union of the actions of every
    /// matching rule, or nothing if an exclusion suppresses it.
    pub fn route(&self, event: &Event, now_ms: u64) -> DestinationSet {
        let matched = self.matching_rules(event);
        if matched == 0 || self.suppressed_by(event, now_ms).is_some() {
            return DestinationSet::EMPTY;
        }
        rule_bits(matched)
            .filter_map(|i| self.rules.get(i))
            .fold(DestinationSet::EMPTY, |set, rule| set.union(rule.actions))
    }

    /// The first exclusion that suppresses `event` at `now_ms`, with its index; always `None`
    /// for a system notification.
    pub fn suppressed_by(&self, event: &Event, now_ms: u64) -> Option<Suppression<'_>> {
        let Event::Alert(alert) = event else {
            return None;
        };
        let subject = Subject::of(alert);
        self.exclusions
            .iter()
            .enumerate()
            .find(|(_, exclusion)| exclusion.suppresses_alert(&subject, now_ms))
            .map(|(index, exclusion)| Suppression { index, exclusion })
    }

    /// Why `event` goes where it goes at `now_ms`: the suppressing exclusion, if any, and each
    /// rule's verdict. Its [`Explanation::destinations`] always equals [`RuleSet::route`].
    pub fn explain<'a>(&'a self, event: &'a Event, now_ms: u64) -> Explanation<'a> {
        Explanation::new(&self.rules, event, self.suppressed_by(event, now_ms))
    }

    /// The mask of rules matching `event`, through the index.
    fn matching_rules(&self, event: &Event) -> RuleMask {
        let alert = match event {
            Event::Alert(alert) => alert,
            Event::Notification(n) if n.kind.is_health() => return self.index.health,
            Event::Notification(_) => return self.index.notifications,
        };
        let index = &self.index;
        let by_severity = index.severity.get(alert.severity as usize).copied();
        let by_engine = index.engine.get(alert.engine as usize).copied();
        let candidates = index.alerts & by_severity.unwrap_or(0) & by_engine.unwrap_or(0);
        if candidates == 0 {
            return 0;
        }
        candidates & index.protocol(alert.protocol.trim())
    }
}
