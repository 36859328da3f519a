//! The alert model: what a detection engine raised, and the sensor's own system notifications.
//!
//! Every string has a fixed capacity (`MAX_*`). A value longer than its capacity is cut on a
//! UTF-8 character boundary and the event's `truncated` flag is set, so every output format can
//! show that the evidence was shortened; nothing is shortened silently.
//!
//! Guarantees: no function here allocates or panics; all setters are total.
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Severity};
//!
//! let mut alert = Alert::new(42, 1_700_000_000_000, Engine::Operational, Severity::Major);
//! alert.set_title("PLC Program Stop");
//! alert.set_protocol("S7");
//! alert.sensor.set_name("sensor-01");
//! assert_eq!(alert.severity, Severity::Major);
//! assert!(Severity::Major > Severity::Minor);
//! assert!(!alert.truncated);
//! # use core::fmt::Write as _;
//! let mut id = heapless::String::<96>::new();
//! write!(id, "{}", alert.event_id()).unwrap();
//! assert_eq!(id, "sensor-01-42");
//! ```

use core::fmt;
use core::net::{IpAddr, Ipv4Addr};

use heapless::String;

/// Capacity in bytes of an alert title.
pub const MAX_TITLE: usize = 128;
/// Capacity in bytes of an alert message.
pub const MAX_MESSAGE: usize = 2048;
/// Capacity in bytes of a protocol name (e.g. `Modbus`, `S7`, `DNP3`).
pub const MAX_PROTOCOL: usize = 32;
/// Capacity in bytes of an alert group (e.g. `Restart and stop commands`).
pub const MAX_GROUP: usize = 64;
/// Capacity in bytes of a device name (source or destination).
pub const MAX_DEVICE_NAME: usize = 64;
/// Capacity in bytes of a sensor name.
pub const MAX_SENSOR_NAME: usize = 64;
/// Capacity in bytes of a sensor software version.
pub const MAX_VERSION: usize = 32;
/// Capacity in bytes of a system notification's text.
pub const MAX_NOTIFICATION_TEXT: usize = 512;

/// The detection engine that raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Engine {
    /// Traffic that breaks the protocol's specification.
    ProtocolViolation,
    /// Traffic that breaks the learned or configured policy baseline.
    PolicyViolation,
    /// Known malicious software or indicators.
    Malware,
    /// Behaviour that deviates from the learned baseline.
    Anomaly,
    /// Operational events: stops, restarts, unresponsive devices.
    Operational,
}

impl Engine {
    /// All engines, in declaration order.
    pub const ALL: [Engine; 5] = [
        Engine::ProtocolViolation,
        Engine::PolicyViolation,
        Engine::Malware,
        Engine::Anomaly,
        Engine::Operational,
    ];

    /// The display name, as the sensor shows it: `Protocol Violation`, `Malware`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            Engine::ProtocolViolation => "Protocol Violation",
            Engine::PolicyViolation => "Policy Violation",
            Engine::Malware => "Malware",
            Engine::Anomaly => "Anomaly",
            Engine::Operational => "Operational",
        }
    }

    /// The upper-case API token: `PROTOCOL_VIOLATION`, `MALWARE`, ...
    pub const fn token(self) -> &'static str {
        match self {
            Engine::ProtocolViolation => "PROTOCOL_VIOLATION",
            Engine::PolicyViolation => "POLICY_VIOLATION",
            Engine::Malware => "MALWARE",
            Engine::Anomaly => "ANOMALY",
            Engine::Operational => "OPERATIONAL",
        }
    }

    /// Parses a display name or API token, ignoring ASCII case and treating `_`, `-` and a
    /// space alike (`protocol violation`, `PROTOCOL_VIOLATION`, `protocol-violation`).
    pub fn from_name(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|engine| {
            let canonical = engine.as_str().as_bytes();
            let given = name.trim().as_bytes();
            canonical.len() == given.len()
                && canonical.iter().zip(given).all(|(&c, &g)| {
                    let g = if g == b'_' || g == b'-' { b' ' } else { g };
                    c.eq_ignore_ascii_case(&g)
                })
        })
    }

    /// A bit unique to this engine, for engine sets.
    pub const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Alert severity, ordered: `Warning < Minor < Major < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Severity {
    /// The lowest level.
    Warning,
    /// Above Warning.
    Minor,
    /// Above Minor.
    Major,
    /// The highest level.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Warning,
        Severity::Minor,
        Severity::Major,
        Severity::Critical,
    ];

    /// The display name: `Warning`, `Minor`, `Major`, `Critical`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "Warning",
            Severity::Minor => "Minor",
            Severity::Major => "Major",
            Severity::Critical => "Critical",
        }
    }

    /// The 0–10 scale used by CEF and LEEF: Warning 1, Minor 4, Major 8, Critical 10.
    pub const fn level_0_to_10(self) -> u8 {
        match self {
            Severity::Warning => 1,
            Severity::Minor => 4,
            Severity::Major => 8,
            Severity::Critical => 10,
        }
    }

    /// Parses a display name, ignoring ASCII case and surrounding blanks.
    pub fn from_name(name: &str) -> Option<Severity> {
        let name = name.trim();
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Ethernet MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (either case).
    pub fn parse(text: &str) -> Option<MacAddr> {
        let bytes = text.as_bytes();
        if bytes.len() != 17 {
            return None;
        }
        let separator = *bytes.get(2)?;
        if separator != b':' && separator != b'-' {
            return None;
        }
        let mut out = [0u8; 6];
        for (i, slot) in out.iter_mut().enumerate() {
            let at = i * 3;
            if i > 0 && *bytes.get(at - 1)? != separator {
                return None;
            }
            let hi = hex_value(*bytes.get(at)?)?;
            let lo = hex_value(*bytes.get(at + 1)?)?;
            *slot = (hi << 4) | lo;
        }
        Some(MacAddr(out))
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Copies `src` into `dst`, cutting it on a UTF-8 boundary if it does not fit.
///
/// Returns `true` when the value was cut. `dst` is cleared first.
pub fn fill<const N: usize>(dst: &mut String<N>, src: &str) -> bool {
    dst.clear();
    let mut end = src.len().min(N);
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    // `end` is a char boundary within `src` and at most `N`, so `head` is the whole prefix and
    // fits; `get` keeps the (unreachable) failure a value rather than a panic path.
    let head = src.get(..end).unwrap_or_default();
    let pushed = dst.push_str(head).is_ok();
    end < src.len() || !pushed
}

/// One side of the suspicious traffic: a device on the industrial network.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Endpoint {
    /// The device name as the sensor knows it (may be empty when unknown).
    pub name: String<MAX_DEVICE_NAME>,
    /// The device's IP address.
    #[cfg_attr(feature = "defmt", defmt(Debug2Format))]
    pub ip: IpAddr,
    /// The device's MAC address, when seen.
    pub mac: Option<MacAddr>,
    /// The transport port, when the alert concerns one.
    pub port: Option<u16>,
}

impl Endpoint {
    /// An endpoint with no name, address `0.0.0.0`, and no MAC or port.
    pub const fn unknown() -> Endpoint {
        Endpoint {
            name: String::new(),
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            mac: None,
            port: None,
        }
    }

    /// An endpoint with the given name (cut to [`MAX_DEVICE_NAME`]) and address.
    ///
    /// Returns the endpoint and whether the name was cut.
    pub fn new(name: &str, ip: IpAddr) -> (Endpoint, bool) {
        let mut endpoint = Endpoint::unknown();
        endpoint.ip = ip;
        let cut = fill(&mut endpoint.name, name);
        (endpoint, cut)
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint::unknown()
    }
}

/// The sensor that raised the event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sensor {
    /// The sensor's name, unique in the deployment; the first half of every event id.
    pub name: String<MAX_SENSOR_NAME>,
    /// The sensor's management IP address.
    #[cfg_attr(feature = "defmt", defmt(Debug2Format))]
    pub ip: IpAddr,
    /// The sensor's software version.
    pub version: String<MAX_VERSION>,
}

impl Sensor {
    /// A sensor with empty name and version and address `0.0.0.0`.
    pub const fn unknown() -> Sensor {
        Sensor {
            name: String::new(),
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            version: String::new(),
        }
    }

    /// Sets the name, cut to [`MAX_SENSOR_NAME`]; returns whether it was cut.
    pub fn set_name(&mut self, name: &str) -> bool {
        fill(&mut self.name, name)
    }

    /// Sets the version, cut to [`MAX_VERSION`]; returns whether it was cut.
    pub fn set_version(&mut self, version: &str) -> bool {
        fill(&mut self.version, version)
    }
}

impl Default for Sensor {
    fn default() -> Self {
        Sensor::unknown()
    }
}

/// An alert raised by one of the sensor's detection engines.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Alert {
    /// The sensor's alert id; with the sensor name it forms the stable event id.
    pub id: u64,
    /// When the alert was raised, in milliseconds since 1970-01-01T00:00:00Z.
    pub time_ms: u64,
    /// The engine that raised it.
    pub engine: Engine,
    /// Its severity.
    pub severity: Severity,
    /// The alert title, e.g. `PLC Program Stop`.
    pub title: String<MAX_TITLE>,
    /// The alert message, the human explanation.
    pub message: String<MAX_MESSAGE>,
    /// The protocol of the suspicious traffic, e.g. `Modbus`.
    pub protocol: String<MAX_PROTOCOL>,
    /// The alert group (category), e.g. `Restart and stop commands`.
    pub group: String<MAX_GROUP>,
    /// Where the traffic came from.
    pub source: Endpoint,
    /// Where it went.
    pub destination: Endpoint,
    /// The sensor that saw it.
    pub sensor: Sensor,
    /// Set when any field was cut to its capacity.
    pub truncated: bool,
    /// Only in core's own unit tests: the field the rehearsal record version 2
    /// (`record/v2.rs`) adds, so that they prove a new field read from a new version and
    /// defaulted from an old one.
    #[cfg(test)]
    pub(crate) technique: Option<u16>,
}

impl Alert {
    /// An alert with the given identity and classification and every text empty.
    pub const fn new(id: u64, time_ms: u64, engine: Engine, severity: Severity) -> Alert {
        Alert {
            id,
            time_ms,
            engine,
            severity,
            title: String::new(),
            message: String::new(),
            protocol: String::new(),
            group: String::new(),
            source: Endpoint::unknown(),
            destination: Endpoint::unknown(),
            sensor: Sensor::unknown(),
            truncated: false,
            #[cfg(test)]
            technique: None,
        }
    }

    /// A realistic example: sensor `sensor-plant-a` saw engineering station `EWS-02` send an S7
    /// stop command to `PLC-Line3`. Used by `icsfwd render --sample`, the firmware self-test,
    /// and as the message `icsfwd test` sends to check a destination.
    pub fn example(time_ms: u64) -> Alert {
        let mut alert = Alert::new(1042, time_ms, Engine::Operational, Severity::Major);
        alert.set_title("An S7 Stop PLC Command was Sent");
        alert.set_message(
            "EWS-02 sent a Stop command to PLC-Line3 (CPU 1516-3 PN/DP); \
             the PLC halts its program until a Start command arrives.",
        );
        alert.set_protocol("S7");
        alert.set_group("Restart and stop commands");
        alert.source.ip = IpAddr::V4(Ipv4Addr::new(10, 20, 1, 12));
        alert.source.mac = Some(MacAddr([0x00, 0x50, 0x56, 0x8a, 0x11, 0x02]));
        alert.source.port = Some(49_152);
        alert.set_source_name("EWS-02");
        alert.destination.ip = IpAddr::V4(Ipv4Addr::new(10, 20, 3, 11));
        alert.destination.mac = Some(MacAddr([0x00, 0x0e, 0x8c, 0x01, 0x02, 0x03]));
        alert.destination.port = Some(102);
        alert.set_destination_name("PLC-Line3");
        alert.set_sensor_name("sensor-plant-a");
        alert.sensor.ip = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 5));
        alert.set_sensor_version("22.3.1");
        alert
    }

    /// Sets the title; an over-long value is cut and marks the alert truncated.
    pub fn set_title(&mut self, title: &str) {
        self.truncated |= fill(&mut self.title, title);
    }

    /// Sets the message; an over-long value is cut and marks the alert truncated.
    pub fn set_message(&mut self, message: &str) {
        self.truncated |= fill(&mut self.message, message);
    }

    /// Sets the protocol; an over-long value is cut and marks the alert truncated.
    pub fn set_protocol(&mut self, protocol: &str) {
        self.truncated |= fill(&mut self.protocol, protocol);
    }

    /// Sets the alert group; an over-long value is cut and marks the alert truncated.
    pub fn set_group(&mut self, group: &str) {
        self.truncated |= fill(&mut self.group, group);
    }

    /// Sets the source device name; an over-long value is cut and marks the alert truncated.
    pub fn set_source_name(&mut self, name: &str) {
        self.truncated |= fill(&mut self.source.name, name);
    }

    /// Sets the destination device name; an over-long value is cut and marks the alert
    /// truncated.
    pub fn set_destination_name(&mut self, name: &str) {
        self.truncated |= fill(&mut self.destination.name, name);
    }

    /// Sets the sensor name; an over-long value is cut and marks the alert truncated.
    pub fn set_sensor_name(&mut self, name: &str) {
        self.truncated |= self.sensor.set_name(name);
    }

    /// Sets the sensor version; an over-long value is cut and marks the alert truncated.
    pub fn set_sensor_version(&mut self, version: &str) {
        self.truncated |= self.sensor.set_version(version);
    }

    /// The stable event id `<sensor>-<alert id>`, for deduplication in Splunk.
    pub fn event_id(&self) -> EventId<'_> {
        EventId {
            sensor: &self.sensor.name,
            id: self.id,
        }
    }
}

/// What a system notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NotificationKind {
    /// The sensor came (back) online.
    SensorOnline,
    /// The sensor went offline (graceful stop, or no heartbeat within the timeout).
    SensorOffline,
    /// A remote backup of the sensor failed.
    BackupFailure,
    /// Alerts were dropped (evicted or dead-lettered); the text says how many and why.
    AlertsDropped,
    /// The forwarder's periodic health report about one destination; the text holds its
    /// `key=value` fields (docs/output-formats.md). Routed by a rule's health switch, not by
    /// its system-notification switch.
    Health,
    /// A sensor's heartbeat, forwarded (rate-limited) so that a silent sensor shows in the data.
    Heartbeat,
}

impl NotificationKind {
    /// All kinds, in declaration order.
    pub const ALL: [NotificationKind; 6] = [
        NotificationKind::SensorOnline,
        NotificationKind::SensorOffline,
        NotificationKind::BackupFailure,
        NotificationKind::AlertsDropped,
        NotificationKind::Health,
        NotificationKind::Heartbeat,
    ];

    /// The display name, e.g. `Sensor online`; used as the title in every format.
    pub const fn as_str(self) -> &'static str {
        match self {
            NotificationKind::SensorOnline => "Sensor online",
            NotificationKind::SensorOffline => "Sensor offline",
            NotificationKind::BackupFailure => "Backup failure",
            NotificationKind::AlertsDropped => "Alerts dropped",
            NotificationKind::Health => "Health report",
            NotificationKind::Heartbeat => "Heartbeat",
        }
    }

    /// A stable machine token, e.g. `sensor_online`; used as ids and signature ids.
    pub const fn token(self) -> &'static str {
        match self {
            NotificationKind::SensorOnline => "sensor_online",
            NotificationKind::SensorOffline => "sensor_offline",
            NotificationKind::BackupFailure => "backup_failure",
            NotificationKind::AlertsDropped => "alerts_dropped",
            NotificationKind::Health => "health_report",
            NotificationKind::Heartbeat => "heartbeat",
        }
    }

    /// The severity a notification of this kind is forwarded with.
    pub const fn severity(self) -> Severity {
        match self {
            NotificationKind::SensorOnline => Severity::Warning,
            NotificationKind::SensorOffline => Severity::Major,
            NotificationKind::BackupFailure => Severity::Minor,
            NotificationKind::AlertsDropped => Severity::Critical,
            NotificationKind::Health | NotificationKind::Heartbeat => Severity::Warning,
        }
    }

    /// Whether this is the forwarder's health report, which rules route by their health
    /// switch; every other kind is a system notification.
    pub const fn is_health(self) -> bool {
        matches!(self, NotificationKind::Health)
    }

    /// Parses a token (`sensor_online`) or display name (`Sensor online`), ignoring case.
    pub fn from_name(name: &str) -> Option<NotificationKind> {
        let name = name.trim();
        NotificationKind::ALL.into_iter().find(|kind| {
            kind.token().eq_ignore_ascii_case(name) || kind.as_str().eq_ignore_ascii_case(name)
        })
    }
}

impl fmt::Display for NotificationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A system notification about the sensor itself rather than the industrial network.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Notification {
    /// A per-sensor id; with the sensor name it forms the stable event id.
    pub id: u64,
    /// When it happened, in milliseconds since 1970-01-01T00:00:00Z.
    pub time_ms: u64,
    /// What happened.
    pub kind: NotificationKind,
    /// The sensor concerned.
    pub sensor: Sensor,
    /// Details for the operator.
    pub text: String<MAX_NOTIFICATION_TEXT>,
    /// Set when any field was cut to its capacity.
    pub truncated: bool,
}

impl Notification {
    /// A notification with an empty text and an unknown sensor.
    pub const fn new(id: u64, time_ms: u64, kind: NotificationKind) -> Notification {
        Notification {
            id,
            time_ms,
            kind,
            sensor: Sensor::unknown(),
            text: String::new(),
            truncated: false,
        }
    }

    /// Sets the text; an over-long value is cut and marks the notification truncated.
    pub fn set_text(&mut self, text: &str) {
        self.truncated |= fill(&mut self.text, text);
    }

    /// Sets the sensor name; an over-long value is cut and marks the notification truncated.
    pub fn set_sensor_name(&mut self, name: &str) {
        self.truncated |= self.sensor.set_name(name);
    }

    /// The stable event id `<sensor>-<id>`.
    pub fn event_id(&self) -> EventId<'_> {
        EventId {
            sensor: &self.sensor.name,
            id: self.id,
        }
    }
}

/// Anything icsfwd forwards: an alert or a system notification.
///
/// The variants differ in size; both are stored inline because core has no allocator.
#[expect(
    clippy::large_enum_variant,
    reason = "no allocator in core: an event lives inline in fixed buffers"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// A detection engine's alert.
    Alert(Alert),
    /// A system notification.
    Notification(Notification),
}

impl Event {
    /// The event time in milliseconds since the Unix epoch.
    pub fn time_ms(&self) -> u64 {
        match self {
            Event::Alert(a) => a.time_ms,
            Event::Notification(n) => n.time_ms,
        }
    }

    /// The sensor that raised the event.
    pub fn sensor(&self) -> &Sensor {
        match self {
            Event::Alert(a) => &a.sensor,
            Event::Notification(n) => &n.sensor,
        }
    }

    /// The event's severity (a notification's comes from its kind).
    pub fn severity(&self) -> Severity {
        match self {
            Event::Alert(a) => a.severity,
            Event::Notification(n) => n.kind.severity(),
        }
    }

    /// The human title: the alert title, or the notification kind's name.
    pub fn title(&self) -> &str {
        match self {
            Event::Alert(a) => &a.title,
            Event::Notification(n) => n.kind.as_str(),
        }
    }

    /// Whether any field was cut to its capacity.
    pub fn truncated(&self) -> bool {
        match self {
            Event::Alert(a) => a.truncated,
            Event::Notification(n) => n.truncated,
        }
    }

    /// The stable event id `<sensor>-<id>`.
    pub fn event_id(&self) -> EventId<'_> {
        match self {
            Event::Alert(a) => a.event_id(),
            Event::Notification(n) => n.event_id(),
        }
    }
}

impl From<Alert> for Event {
    fn from(alert: Alert) -> Self {
        Event::Alert(alert)
    }
}

impl From<Notification> for Event {
    fn from(notification: Notification) -> Self {
        Event::Notification(notification)
    }
}

/// The stable id `<sensor>-<id>` of an event, rendered through [`fmt::Display`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventId<'a> {
    /// The sensor name.
    pub sensor: &'a str,
    /// The alert or notification id.
    pub id: u64,
}

/// The longest rendered [`EventId`]: a full sensor name, `-`, and 20 digits.
pub const MAX_EVENT_ID: usize = MAX_SENSOR_NAME + 1 + 20;

impl fmt::Display for EventId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sensor)?;
        f.write_str("-")?;
        crate::stack_text::display_decimal(f, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn severities_are_ordered_warning_minor_major_critical() {
        assert!(Severity::Warning < Severity::Minor);
        assert!(Severity::Minor < Severity::Major);
        assert!(Severity::Major < Severity::Critical);
    }

    #[test]
    fn over_long_title_is_cut_on_a_char_boundary_and_flagged() {
        let mut alert = Alert::new(1, 0, Engine::Malware, Severity::Critical);
        // 'é' is two bytes; 127 ASCII bytes then 'é' straddles the 128-byte capacity.
        let long = format!("{}é", "a".repeat(MAX_TITLE - 1));
        alert.set_title(&long);
        assert_eq!(alert.title.len(), MAX_TITLE - 1);
        assert!(alert.truncated);
    }

    #[test]
    fn value_that_fits_exactly_is_not_flagged() {
        let mut alert = Alert::new(1, 0, Engine::Malware, Severity::Critical);
        alert.set_title(&"t".repeat(MAX_TITLE));
        assert_eq!(alert.title.len(), MAX_TITLE);
        assert!(!alert.truncated);
    }

    #[test]
    fn example_alert_fits_without_truncation() {
        let alert = Alert::example(0);
        assert!(!alert.truncated);
        assert_eq!(format!("{}", alert.event_id()), "sensor-plant-a-1042");
    }

    #[test]
    fn engine_names_parse_in_every_spelling() {
        for engine in Engine::ALL {
            assert_eq!(Engine::from_name(engine.as_str()), Some(engine));
            assert_eq!(Engine::from_name(engine.token()), Some(engine));
        }
        assert_eq!(
            Engine::from_name("protocol-violation"),
            Some(Engine::ProtocolViolation)
        );
        assert_eq!(Engine::from_name("Malwar"), None);
    }

    #[test]
    fn mac_parses_and_prints_lower_case_colon_form() {
        let mac = MacAddr::parse("00-1B-1b-AA-0f-9e").unwrap();
        assert_eq!(format!("{mac}"), "00:1b:1b:aa:0f:9e");
        assert_eq!(MacAddr::parse("00:1b:1b:aa:0f"), None);
        assert_eq!(MacAddr::parse("00:1b-1b:aa:0f:9e"), None);
        assert_eq!(MacAddr::parse("00:1b:1b:aa:0f:9g"), None);
    }

    #[test]
    fn event_id_is_sensor_dash_id() {
        let mut n = Notification::new(7, 0, NotificationKind::SensorOffline);
        n.set_sensor_name("plant-a");
        assert_eq!(format!("{}", Event::from(n).event_id()), "plant-a-7");
    }
}
