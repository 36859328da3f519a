//! A seeded, deterministic generator of realistic OT alerts.
//!
//! Each alert is drawn in four steps: a kind of alert from [`crate::catalogue::CATALOGUE`]; one
//! of its protocols; a destination device of the [`crate::plant`] whose role the entry allows
//! and that speaks the protocol; a source device whose role the entry allows and that speaks the
//! protocol too (a rogue laptop or an Internet host is assumed to speak anything). If no pair
//! fits the drawn protocol the next protocol of the entry is tried; a test proves every
//! (entry, protocol) has at least one pair. The sensor is one that watches the destination's
//! zone (the source's zone when the destination is on the Internet). The destination port is the
//! entry's override or the protocol's well-known port, the source port an ephemeral one
//! (49152..=65535) when there is a destination port.
//!
//! Guarantees: the same seed yields the same alerts, so a printed seed replays a run; ids
//! increase by one and times strictly increase (1 ms to 5 s apart); every field of the alert is
//! filled and nothing is cut to a core capacity.
//!
//! ```
//! use icsfwd_sim::generator::Generator;
//!
//! let a: Vec<_> = Generator::new(7, 1_700_000_000_000).take(3).collect();
//! let b: Vec<_> = Generator::new(7, 1_700_000_000_000).take(3).collect();
//! assert_eq!(a, b);
//! assert!(a.iter().all(|alert| !alert.message.contains('{')));
//! ```

use core::net::{IpAddr, Ipv4Addr};

use icsfwd_core::alert::{Alert, Endpoint, MacAddr, Sensor, Severity};

use crate::catalogue::{CATALOGUE, Entry};
use crate::plant::{DEVICES, Device, Role, SENSORS, SensorSite, Zone, well_known_port};

/// SplitMix64: tiny, fast, and good enough for test data; not for cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// One element of a non-empty slice, or `None` for an empty one.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let index = usize::try_from(self.below(items.len() as u64)).ok()?;
        items.get(index)
    }
}

/// Generates alerts from a seed, one after another, with increasing ids and times.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    next_id: u64,
    time_ms: u64,
}

/// The closing sentence of Major and Critical security alerts (our wording of the stock last
/// sentence of Defender for IoT's alert messages, which recommends notifying the security
/// officer).
pub const RECOMMENDATION: &str = "Notify the security officer of the incident.";

impl Generator {
    /// A generator whose first alert is raised shortly after `start_ms`.
    pub fn new(seed: u64, start_ms: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            next_id: 1,
            time_ms: start_ms,
        }
    }

    /// The next alert.
    pub fn next_alert(&mut self) -> Alert {
        let entry = self.rng.pick(CATALOGUE).copied().unwrap_or(FALLBACK);
        let (protocol, source, destination) = pick_pair(&mut self.rng, &entry);
        let sensor = pick_sensor(&mut self.rng, source, destination);
        self.time_ms += 1 + self.rng.below(5_000);
        let id = self.next_id;
        self.next_id += 1;

        let dst_port = entry.port.or_else(|| well_known_port(protocol));
        let src_port = dst_port.map(|_| 49_152 + (self.rng.below(16_384) as u16));
        let detail = 1 + self.rng.below(999);
        render(&Draw {
            entry: &entry,
            protocol,
            source,
            destination,
            sensor,
            id,
            time_ms: self.time_ms,
            src_port,
            dst_port,
            detail,
        })
    }
}

/// Everything one alert is made of once the random choices are made; [`render`] turns it into
/// an [`Alert`] without drawing anything, so scenarios can choose some parts themselves.
#[derive(Debug, Clone, Copy)]
pub struct Draw<'a> {
    /// The kind of alert.
    pub entry: &'a Entry,
    /// The protocol, one of the entry's.
    pub protocol: &'a str,
    /// The source device.
    pub source: &'a Device,
    /// The destination device.
    pub destination: &'a Device,
    /// The sensor that raises the alert.
    pub sensor: &'a SensorSite,
    /// The alert id.
    pub id: u64,
    /// The alert time in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The source port, if any.
    pub src_port: Option<u16>,
    /// The destination port, if any (the generator uses the entry's override or the protocol's
    /// well-known port).
    pub dst_port: Option<u16>,
    /// The detail number `{n}` of the message template (1..=999).
    pub detail: u64,
}

/// Renders a drawn alert: title, filled message (with the stock recommendation for Major and
/// Critical security alerts), protocol, group, endpoints and sensor.
pub fn render(draw: &Draw<'_>) -> Alert {
    let entry = draw.entry;
    let mut alert = Alert::new(draw.id, draw.time_ms, entry.engine, entry.severity);
    alert.set_title(entry.title);
    let mut message = fill(
        entry.message,
        &Context {
            source: draw.source,
            destination: draw.destination,
            protocol: draw.protocol,
            port: draw.dst_port,
            detail: draw.detail,
        },
    );
    if entry.severity >= Severity::Major && entry.engine != icsfwd_core::alert::Engine::Operational
    {
        message.push(' ');
        message.push_str(RECOMMENDATION);
    }
    alert.set_message(&message);
    alert.set_protocol(draw.protocol);
    alert.set_group(entry.group);
    alert.source = endpoint(draw.source, draw.src_port);
    alert.destination = endpoint(draw.destination, draw.dst_port);
    alert.sensor = sensor_of(draw.sensor);
    alert
}

/// A protocol of `entry` and a plausible (source, destination) pair for it, drawn from `rng`.
pub fn pick_pair(rng: &mut Rng, entry: &Entry) -> (&'static str, &'static Device, &'static Device) {
    let n = entry.protocols.len();
    let start = usize::try_from(rng.below(n as u64)).unwrap_or(0);
    for k in 0..n {
        let Some(protocol) = entry.protocols.get((start + k) % n).copied() else {
            continue;
        };
        let destinations = destinations(entry, protocol);
        let Some(destination) = rng.pick(&destinations).copied() else {
            continue;
        };
        let sources = sources(entry, protocol, destination);
        if let Some(source) = rng.pick(&sources).copied() {
            return (protocol, source, destination);
        }
    }
    // Unreachable for the shipped catalogue (tested); keeps the generator total.
    (
        entry.protocols.first().copied().unwrap_or("TCP"),
        DEVICES.first().unwrap_or(&FALLBACK_DEVICE),
        DEVICES.last().unwrap_or(&FALLBACK_DEVICE),
    )
}

/// The sensors that watch the destination's zone (the source's for Internet destinations).
pub fn watching(source: &Device, destination: &Device) -> Vec<&'static SensorSite> {
    let zone = if destination.zone == Zone::Internet {
        source.zone
    } else {
        destination.zone
    };
    SENSORS
        .iter()
        .filter(|s| s.watches.contains(&zone))
        .collect()
}

/// One of the sensors [`watching`] the pair, drawn from `rng` (the first sensor of the plant if
/// none does, which the plant's tests rule out).
pub fn pick_sensor(rng: &mut Rng, source: &Device, destination: &Device) -> &'static SensorSite {
    let watching = watching(source, destination);
    rng.pick(&watching)
        .copied()
        .or_else(|| SENSORS.first())
        .unwrap_or(&FALLBACK_SENSOR)
}

impl Iterator for Generator {
    type Item = Alert;

    fn next(&mut self) -> Option<Alert> {
        Some(self.next_alert())
    }
}

/// Whether `device` may send `protocol` traffic as a source: it speaks it, or it is a rogue or
/// outside host, which we assume may speak anything.
fn source_speaks(device: &Device, protocol: &str) -> bool {
    device.speaks(protocol)
        || matches!(
            device.role,
            Role::RogueLaptop | Role::InternetHost | Role::MaliciousHost
        )
}

/// The devices that may be the destination of `entry` over `protocol`.
pub fn destinations(entry: &Entry, protocol: &str) -> Vec<&'static Device> {
    DEVICES
        .iter()
        .filter(|d| entry.destinations.contains(&d.role) && d.speaks(protocol))
        .collect()
}

/// The devices that may be the source of `entry` over `protocol` towards `destination`.
pub fn sources(entry: &Entry, protocol: &str, destination: &Device) -> Vec<&'static Device> {
    DEVICES
        .iter()
        .filter(|d| {
            d.name != destination.name
                && entry.sources.contains(&d.role)
                && source_speaks(d, protocol)
        })
        .collect()
}

/// What a message template is filled with.
struct Context<'a> {
    source: &'a Device,
    destination: &'a Device,
    protocol: &'a str,
    port: Option<u16>,
    detail: u64,
}

fn dotted(ip: [u8; 4]) -> String {
    Ipv4Addr::from(ip).to_string()
}

/// Fills the placeholders of `template` (see [`crate::catalogue`]).
fn fill(template: &str, cx: &Context<'_>) -> String {
    let [a, b, _, _] = cx.destination.ip;
    template
        .replace("{src_ip}", &dotted(cx.source.ip))
        .replace("{dst_ip}", &dotted(cx.destination.ip))
        .replace("{dst_net16}", &format!("{a}.{b}.0.0/16"))
        .replace("{src}", cx.source.name)
        .replace("{dst}", cx.destination.name)
        .replace("{protocol}", cx.protocol)
        .replace(
            "{port}",
            &cx.port
                .map_or_else(|| "unknown".to_owned(), |p| p.to_string()),
        )
        .replace("{n}", &cx.detail.to_string())
}

const FALLBACK: Entry = Entry {
    row: 0,
    title: "Unknown",
    engine: icsfwd_core::alert::Engine::Anomaly,
    severity: Severity::Warning,
    group: "",
    protocols: &[],
    sources: &[],
    destinations: &[],
    port: None,
    message: "",
};

const FALLBACK_DEVICE: Device = Device {
    name: "unknown",
    role: Role::RogueLaptop,
    zone: Zone::Supervisory,
    ip: [0; 4],
    mac: [0; 6],
    protocols: &[],
};

const FALLBACK_SENSOR: SensorSite = SensorSite {
    name: "sensor",
    ip: [0; 4],
    version: "",
    watches: &[],
};

fn endpoint(device: &Device, port: Option<u16>) -> Endpoint {
    let (mut endpoint, _) = Endpoint::new(device.name, IpAddr::V4(Ipv4Addr::from(device.ip)));
    endpoint.mac = Some(MacAddr(device.mac));
    endpoint.port = port;
    endpoint
}

/// The core [`Sensor`] of a plant sensor site.
pub fn sensor_of(site: &SensorSite) -> Sensor {
    let mut sensor = Sensor::unknown();
    sensor.set_name(site.name);
    sensor.ip = IpAddr::V4(Ipv4Addr::from(site.ip));
    sensor.set_version(site.version);
    sensor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_replays_the_same_alerts() {
        let a: Vec<Alert> = Generator::new(42, 0).take(50).collect();
        let b: Vec<Alert> = Generator::new(42, 0).take(50).collect();
        assert_eq!(a, b);
        let c: Vec<Alert> = Generator::new(43, 0).take(50).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn ids_and_times_increase_and_placeholders_are_filled() {
        let alerts: Vec<Alert> = Generator::new(7, 1_000).take(200).collect();
        for pair in alerts.windows(2) {
            assert!(pair[1].id > pair[0].id);
            assert!(pair[1].time_ms > pair[0].time_ms);
        }
        for alert in &alerts {
            assert!(!alert.message.contains('{'), "{}", alert.message);
            assert!(!alert.truncated);
        }
    }

    #[test]
    fn a_long_run_covers_every_engine() {
        let alerts: Vec<Alert> = Generator::new(1, 0).take(500).collect();
        for engine in icsfwd_core::alert::Engine::ALL {
            assert!(alerts.iter().any(|a| a.engine == engine), "{engine}");
        }
    }

    #[test]
    fn every_protocol_of_every_entry_has_a_plausible_pair() {
        for entry in CATALOGUE {
            for protocol in entry.protocols {
                let pairs = destinations(entry, protocol)
                    .into_iter()
                    .map(|d| sources(entry, protocol, d).len())
                    .sum::<usize>();
                assert!(pairs > 0, "{} over {protocol}", entry.title);
            }
        }
    }

    #[test]
    fn every_filled_message_fits_the_core_capacity_with_no_placeholder_left() {
        use icsfwd_core::alert::MAX_MESSAGE;
        for entry in CATALOGUE {
            for protocol in entry.protocols {
                for destination in destinations(entry, protocol) {
                    for source in sources(entry, protocol, destination) {
                        let cx = Context {
                            source,
                            destination,
                            protocol,
                            port: entry.port.or_else(|| well_known_port(protocol)),
                            detail: 999,
                        };
                        let message = fill(entry.message, &cx);
                        assert!(
                            message.len() + 1 + RECOMMENDATION.len() <= MAX_MESSAGE,
                            "{}",
                            entry.title
                        );
                        assert!(!message.contains(['{', '}']), "{message}");
                        assert!(!message.contains("unknown"), "{message}");
                    }
                }
            }
        }
    }

    #[test]
    fn ten_thousand_alerts_are_never_truncated() {
        for alert in Generator::new(3, 0).take(10_000) {
            assert!(!alert.truncated, "{alert:?}");
            assert!(!alert.source.name.is_empty() && !alert.destination.name.is_empty());
            assert!(alert.source.mac.is_some() && alert.destination.mac.is_some());
            assert_ne!(alert.source.ip, alert.destination.ip);
        }
    }

    #[test]
    fn ports_match_the_protocol_or_the_entry_override() {
        for alert in Generator::new(11, 0).take(10_000) {
            let entry = CATALOGUE.iter().find(|e| e.title == alert.title.as_str());
            let Some(entry) = entry else {
                unreachable!("{} is not in the catalogue", alert.title)
            };
            let expected = entry.port.or_else(|| well_known_port(&alert.protocol));
            assert_eq!(alert.destination.port, expected, "{}", alert.title);
            match alert.source.port {
                Some(port) => assert!(port >= 49_152, "{port}"),
                None => assert_eq!(expected, None),
            }
        }
    }

    #[test]
    fn well_known_ports_appear_for_the_ot_protocols() {
        let table = [
            ("Modbus/TCP", 502),
            ("S7", 102),
            ("DNP3", 20000),
            ("EtherNet/IP", 44818),
            ("BACnet", 47808),
            ("IEC 60870-5-104", 2404),
            ("OPC UA", 4840),
        ];
        let alerts: Vec<Alert> = Generator::new(5, 0).take(10_000).collect();
        for (protocol, port) in table {
            let seen: Vec<_> = alerts
                .iter()
                .filter(|a| a.protocol.as_str() == protocol)
                .collect();
            assert!(!seen.is_empty(), "{protocol} never drawn");
            for alert in seen {
                if !alert.title.contains("Port 0") && !alert.title.contains("Standard Port") {
                    assert_eq!(alert.destination.port, Some(port), "{}", alert.title);
                }
            }
        }
    }

    #[test]
    fn the_sensor_watches_the_zone_of_the_source_or_the_destination() {
        use crate::plant::device_by_ip;
        for alert in Generator::new(17, 0).take(10_000) {
            let ip = |addr: IpAddr| match addr {
                IpAddr::V4(v4) => v4.octets(),
                IpAddr::V6(_) => [0; 4],
            };
            let src = device_by_ip(ip(alert.source.ip)).map(|d| d.zone);
            let dst = device_by_ip(ip(alert.destination.ip)).map(|d| d.zone);
            let sensor = SENSORS
                .iter()
                .find(|s| s.name == alert.sensor.name.as_str());
            let Some(sensor) = sensor else {
                unreachable!("unknown sensor {}", alert.sensor.name)
            };
            assert!(
                src.is_some_and(|z| sensor.watches.contains(&z))
                    || dst.is_some_and(|z| sensor.watches.contains(&z)),
                "{} for {} -> {}",
                sensor.name,
                alert.source.name,
                alert.destination.name
            );
        }
    }

    #[test]
    fn a_long_run_draws_every_entry() {
        let alerts: Vec<Alert> = Generator::new(23, 0).take(10_000).collect();
        for entry in CATALOGUE {
            assert!(
                alerts.iter().any(|a| a.title.as_str() == entry.title),
                "{}",
                entry.title
            );
        }
    }
}
