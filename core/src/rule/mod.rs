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
//! operations and one pass over the distinct protocol names (at most [`MAX_PROTOCOL_NAMES`],
//! mostly rejected on length), whatever the number of rules; exclusions are consulted only if
//! some rule matched. Nothing is allocated. [`RuleSet::explain`] evaluates each rule on its
//! own and reports the first failed condition; both agree (a property test proves it).
//!
//! Time windows are checked against the `now_ms` the caller passes (core reads no clock): the
//! appliance passes the time it accepts the event, so a maintenance window silences what
//! arrives during it, not what the sensor timestamped during it. Address matching, including
//! how IPv4-mapped IPv6 addresses are treated, is described on [`Subnet`].
//!
//! Guarantees: no function here panics or allocates; every capacity is a `MAX_*` constant and
//! exceeding one is an [`Error`] that names it.
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

pub use explain::{Explanation, RuleVerdict, Suppression, Verdict, Verdicts};
pub use subnet::{Subnet, SubnetError};

/// How many rules a [`RuleSet`] holds (one bit each in a `u32` mask).
pub const MAX_RULES: usize = 32;
/// How many exclusions a [`RuleSet`] holds.
pub const MAX_EXCLUSIONS: usize = 16;
/// Capacity in bytes of a rule's or an exclusion's name.
pub const MAX_RULE_NAME: usize = 64;
/// How many protocols one rule can list.
pub const MAX_RULE_PROTOCOLS: usize = 16;
/// How many subnets one exclusion can list.
pub const MAX_EXCLUSION_ADDRESSES: usize = 16;
/// How many titles one exclusion can list.
pub const MAX_EXCLUSION_TITLES: usize = 8;
/// How many sensor names one exclusion can list.
pub const MAX_EXCLUSION_SENSORS: usize = 8;
/// How many distinct protocol names (ignoring ASCII case) all the rules of a [`RuleSet`] can
/// list together. The rule set keeps one table of them, each with the mask of the rules that
/// list it, so routing compares an alert's protocol with each distinct name once.
pub const MAX_PROTOCOL_NAMES: usize = 64;

// A rule's bit in the routing masks.
type RuleMask = u32;
const _: () = assert!(MAX_RULES <= RuleMask::BITS as usize);

/// A list with a capacity, named in [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum List {
    /// The rules of a rule set ([`MAX_RULES`]).
    Rules,
    /// The exclusions of a rule set ([`MAX_EXCLUSIONS`]).
    Exclusions,
    /// A rule's protocols ([`MAX_RULE_PROTOCOLS`]).
    Protocols,
    /// The distinct protocol names of all rules together ([`MAX_PROTOCOL_NAMES`]).
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

/// `text` without surrounding blanks, as a `String<N>`, or why not.
fn bounded<const N: usize>(text: &str, field: Field) -> Result<String<N>, Error> {
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
fn trim_in_place<const N: usize>(text: &mut String<N>) {
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
    Specific(Vec<String<{ alert::MAX_PROTOCOL }>, MAX_RULE_PROTOCOLS>),
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
            let name: String<{ alert::MAX_PROTOCOL }> = bounded(name.as_ref(), Field::Protocol)?;
            if list.iter().any(|known: &String<_>| same_name(known, &name)) {
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
    pub name: String<MAX_RULE_NAME>,
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
    pub name: String<MAX_RULE_NAME>,
    /// Subnets; the alert matches if any contains its source or destination address.
    pub addresses: Vec<Subnet, MAX_EXCLUSION_ADDRESSES>,
    /// Titles; the alert matches if its title equals one (ASCII case-insensitive, trimmed).
    pub titles: Vec<String<{ alert::MAX_TITLE }>, MAX_EXCLUSION_TITLES>,
    /// Sensor names; the alert matches if its sensor is one (ASCII case-insensitive, trimmed).
    pub sensors: Vec<String<{ alert::MAX_SENSOR_NAME }>, MAX_EXCLUSION_SENSORS>,
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
    name: String<{ alert::MAX_PROTOCOL }>,
    rules: RuleMask,
}

/// Per condition value, the rules that accept it; kept in step with the rules on every push.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Index {
    alerts: RuleMask,
    notifications: RuleMask,
    /// By severity (as index): rules whose minimum is at or below it.
    severity: [RuleMask; Severity::ALL.len()],
    /// By engine (as index): rules that accept it.
    engine: [RuleMask; Engine::ALL.len()],
    /// Rules with [`Protocols::All`].
    any_protocol: RuleMask,
    /// Every protocol name some rule lists, once (ignoring ASCII case).
    protocols: Vec<ProtocolEntry, MAX_PROTOCOL_NAMES>,
}

impl Index {
    const fn new() -> Index {
        Index {
            alerts: 0,
            notifications: 0,
            severity: [0; Severity::ALL.len()],
            engine: [0; Engine::ALL.len()],
            any_protocol: 0,
            protocols: Vec::new(),
        }
    }

    /// How many of `rule`'s protocol names the table does not hold yet.
    fn new_protocol_names(&self, rule: &Rule) -> usize {
        let Protocols::Specific(names) = &rule.protocols else {
            return 0;
        };
        names
            .iter()
            .enumerate()
            .filter(|(i, name)| {
                let known = self
                    .protocols
                    .iter()
                    .any(|e| e.name.eq_ignore_ascii_case(name));
                let repeated = names.iter().take(*i).any(|n| n.eq_ignore_ascii_case(name));
                !known && !repeated
            })
            .count()
    }

    /// Adds `rule` as `bit`; the caller has checked that its protocol names fit.
    fn add(&mut self, bit: RuleMask, rule: &Rule) -> Result<(), Error> {
        if rule.forward_alerts {
            self.alerts |= bit;
        }
        if rule.forward_notifications {
            self.notifications |= bit;
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
        match &rule.protocols {
            Protocols::All => self.any_protocol |= bit,
            Protocols::Specific(names) => {
                for name in names {
                    match self
                        .protocols
                        .iter_mut()
                        .find(|e| e.name.eq_ignore_ascii_case(name))
                    {
                        Some(entry) => entry.rules |= bit,
                        None => self
                            .protocols
                            .push(ProtocolEntry {
                                name: name.clone(),
                                rules: bit,
                            })
                            .map_err(|_| Error::TooMany {
                                list: List::ProtocolNames,
                                max: MAX_PROTOCOL_NAMES,
                            })?,
                    }
                }
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

impl Default for Index {
    fn default() -> Index {
        Index::new()
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
/// [`RuleSet::rules`]. The value is large (tens of KiB, dominated by exclusion titles):
/// on a small target keep it in a `static`, built in place.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RuleSet {
    rules: Vec<Rule, MAX_RULES>,
    exclusions: Vec<Exclusion, MAX_EXCLUSIONS>,
    index: Index,
}

impl RuleSet {
    /// A rule set without rules or exclusions: it routes nothing.
    pub const fn new() -> RuleSet {
        RuleSet {
            rules: Vec::new(),
            exclusions: Vec::new(),
            index: Index::new(),
        }
    }

    /// A rule set of `rules` and `exclusions`, in order; the first refused item's error.
    pub fn from_parts<R, E>(rules: R, exclusions: E) -> Result<RuleSet, Error>
    where
        R: IntoIterator<Item = Rule>,
        E: IntoIterator<Item = Exclusion>,
    {
        let mut set = RuleSet::new();
        for rule in rules {
            set.push_rule(rule)?;
        }
        for exclusion in exclusions {
            set.push_exclusion(exclusion)?;
        }
        Ok(set)
    }

    /// Appends a rule after checking it, and trims its protocol names. Refused with
    /// [`Error::TooMany`] once [`MAX_RULES`] are held or when its protocols would take the
    /// rule set past [`MAX_PROTOCOL_NAMES`] distinct names; refused too when a field built by
    /// hand is blank or an empty `Specific` list. A refused rule changes nothing.
    pub fn push_rule(&mut self, mut rule: Rule) -> Result<(), Error> {
        trim_in_place(&mut rule.name);
        if let Protocols::Specific(names) = &mut rule.protocols {
            names.iter_mut().for_each(trim_in_place);
        }
        rule.validate()?;
        if self.rules.is_full() {
            return Err(Error::TooMany {
                list: List::Rules,
                max: MAX_RULES,
            });
        }
        let new_names = self.index.new_protocol_names(&rule);
        if self.index.protocols.len() + new_names > MAX_PROTOCOL_NAMES {
            return Err(Error::TooMany {
                list: List::ProtocolNames,
                max: MAX_PROTOCOL_NAMES,
            });
        }
        // Both checks passed, so neither the shift (fewer than MAX_RULES <= 32 rules) nor
        // anything below can fail; the index and the rules stay in step.
        let bit: RuleMask = 1 << self.rules.len();
        let mut index = self.index.clone();
        index.add(bit, &rule)?;
        self.rules.push(rule).map_err(|_| Error::TooMany {
            list: List::Rules,
            max: MAX_RULES,
        })?;
        self.index = index;
        Ok(())
    }

    /// Appends an exclusion after checking it, and trims its names. Refused with
    /// [`Error::TooMany`] once [`MAX_EXCLUSIONS`] are held, or when it has no criteria and no
    /// window, an empty window, or a blank title or sensor.
    pub fn push_exclusion(&mut self, mut exclusion: Exclusion) -> Result<(), Error> {
        trim_in_place(&mut exclusion.name);
        exclusion.titles.iter_mut().for_each(trim_in_place);
        exclusion.sensors.iter_mut().for_each(trim_in_place);
        exclusion.validate()?;
        self.exclusions.push(exclusion).map_err(|_| Error::TooMany {
            list: List::Exclusions,
            max: MAX_EXCLUSIONS,
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
        Explanation::new(self, event, self.suppressed_by(event, now_ms))
    }

    /// The mask of rules matching `event`, through the index.
    fn matching_rules(&self, event: &Event) -> RuleMask {
        let alert = match event {
            Event::Alert(alert) => alert,
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
