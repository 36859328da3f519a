//! A seeded, deterministic generator of realistic OT alerts.
//!
//! The same seed always yields the same alerts, so a printed seed replays a run. Devices,
//! sensors and times are drawn from a small plant model; kinds of alert from
//! [`crate::catalogue::CATALOGUE`].

use core::net::{IpAddr, Ipv4Addr};

use icsfwd_core::alert::{Alert, Endpoint, MacAddr, Sensor};

use crate::catalogue::{CATALOGUE, Entry};

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

/// A device of the simulated plant.
#[derive(Debug, Clone, Copy)]
struct Device {
    name: &'static str,
    ip: [u8; 4],
    mac: [u8; 6],
}

const DEVICES: &[Device] = &[
    Device {
        name: "HMI-07",
        ip: [10, 20, 1, 7],
        mac: [0x00, 0x1b, 0x1b, 0xaa, 0x0f, 0x9e],
    },
    Device {
        name: "EWS-02",
        ip: [10, 20, 1, 12],
        mac: [0x00, 0x50, 0x56, 0x8a, 0x11, 0x02],
    },
    Device {
        name: "PLC-Line3",
        ip: [10, 20, 3, 11],
        mac: [0x00, 0x0e, 0x8c, 0x01, 0x02, 0x03],
    },
    Device {
        name: "PLC-Boiler1",
        ip: [10, 20, 3, 21],
        mac: [0x00, 0x1d, 0x9c, 0x55, 0x21, 0x01],
    },
    Device {
        name: "RTU-Substation4",
        ip: [10, 30, 4, 2],
        mac: [0x00, 0x20, 0x4a, 0x10, 0x04, 0x02],
    },
    Device {
        name: "Historian",
        ip: [10, 20, 0, 50],
        mac: [0x00, 0x15, 0x5d, 0x01, 0x00, 0x50],
    },
    Device {
        name: "Laptop-Contractor",
        ip: [10, 20, 9, 140],
        mac: [0x3c, 0x22, 0xfb, 0x90, 0x12, 0x7e],
    },
];

const SENSORS: &[(&str, [u8; 4])] = &[
    ("sensor-plant-a", [10, 1, 0, 5]),
    ("sensor-plant-b", [10, 1, 0, 6]),
    ("sensor-substation", [10, 1, 0, 7]),
];

/// Generates alerts from a seed, one after another, with increasing ids and times.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    next_id: u64,
    time_ms: u64,
}

impl Generator {
    /// A generator whose first alert is raised at `start_ms`.
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
        let (source, destination) = self.pick_pair();
        let (sensor_name, sensor_ip) = self
            .rng
            .pick(SENSORS)
            .copied()
            .unwrap_or(("sensor", [0; 4]));
        let protocol = self.rng.pick(entry.protocols).copied().unwrap_or("");
        self.time_ms += 1 + self.rng.below(5_000);
        let id = self.next_id;
        self.next_id += 1;

        let mut alert = Alert::new(id, self.time_ms, entry.engine, entry.severity);
        alert.set_title(entry.title);
        let message = entry
            .message
            .replace("{src}", source.name)
            .replace("{dst}", destination.name);
        alert.set_message(&message);
        alert.set_protocol(protocol);
        alert.set_group(entry.group);
        alert.source = endpoint(&source);
        alert.destination = endpoint(&destination);
        let mut sensor = Sensor::unknown();
        sensor.set_name(sensor_name);
        sensor.ip = IpAddr::V4(Ipv4Addr::from(sensor_ip));
        sensor.set_version("22.3.1");
        alert.sensor = sensor;
        alert
    }

    fn pick_pair(&mut self) -> (Device, Device) {
        let source = self.rng.pick(DEVICES).copied().unwrap_or(FALLBACK_DEVICE);
        let mut destination = self.rng.pick(DEVICES).copied().unwrap_or(FALLBACK_DEVICE);
        if destination.name == source.name {
            destination = self.rng.pick(DEVICES).copied().unwrap_or(FALLBACK_DEVICE);
        }
        (source, destination)
    }
}

impl Iterator for Generator {
    type Item = Alert;

    fn next(&mut self) -> Option<Alert> {
        Some(self.next_alert())
    }
}

const FALLBACK: Entry = Entry {
    title: "Unknown",
    engine: icsfwd_core::alert::Engine::Anomaly,
    severity: icsfwd_core::alert::Severity::Warning,
    group: "",
    protocols: &[],
    message: "",
};

const FALLBACK_DEVICE: Device = Device {
    name: "unknown",
    ip: [0; 4],
    mac: [0; 6],
};

fn endpoint(device: &Device) -> Endpoint {
    let (mut endpoint, _) = Endpoint::new(device.name, IpAddr::V4(Ipv4Addr::from(device.ip)));
    endpoint.mac = Some(MacAddr(device.mac));
    endpoint
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
}
