//! A catalogue of realistic OT alerts, one entry per kind of alert a sensor raises.
//!
//! Titles, engines, severities and alert groups follow the public alert references of OT
//! sensors; the message templates are ours. The generator draws from this table.

use icsfwd_core::alert::{Engine, Severity};

/// One kind of alert the generator can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The alert title.
    pub title: &'static str,
    /// The engine that raises it.
    pub engine: Engine,
    /// Its default severity.
    pub severity: Severity,
    /// Its alert group.
    pub group: &'static str,
    /// The protocols it is seen with (one is drawn per alert).
    pub protocols: &'static [&'static str],
    /// The message; `{src}` and `{dst}` are replaced by the device names.
    pub message: &'static str,
}

const PLC: &[&str] = &["S7", "EtherNet/IP", "Modbus/TCP"];

/// The catalogue, grouped by engine.
pub const CATALOGUE: &[Entry] = &[
    Entry {
        title: "Unauthorized PLC Programming",
        engine: Engine::PolicyViolation,
        severity: Severity::Critical,
        group: "Programming",
        protocols: PLC,
        message: "{src} programmed {dst}, but {src} is not a known programming device.",
    },
    Entry {
        title: "Unauthorized PLC Configuration Write",
        engine: Engine::PolicyViolation,
        severity: Severity::Major,
        group: "Configuration changes",
        protocols: PLC,
        message: "{src} wrote the configuration of {dst} without authorization.",
    },
    Entry {
        title: "Unpermitted Usage of Modbus Function Code",
        engine: Engine::PolicyViolation,
        severity: Severity::Major,
        group: "Unauthorized communication behavior",
        protocols: &["Modbus/TCP"],
        message: "{src} used Modbus function code 15 (Write Multiple Coils) on {dst}, \
                  which is not in the learned baseline.",
    },
    Entry {
        title: "Internet Access Detected",
        engine: Engine::PolicyViolation,
        severity: Severity::Major,
        group: "Internet access",
        protocols: &["HTTP", "DNS", "TCP"],
        message: "{src} opened a connection to an Internet address ({dst}).",
    },
    Entry {
        title: "Address Scan Detected",
        engine: Engine::Anomaly,
        severity: Severity::Critical,
        group: "Scan",
        protocols: &["ICMP", "TCP"],
        message: "{src} contacted 50 addresses of the {dst} /16 subnet within 2 minutes.",
    },
    Entry {
        title: "Port Scan Detected",
        engine: Engine::Anomaly,
        severity: Severity::Critical,
        group: "Scan",
        protocols: &["TCP", "UDP"],
        message: "{src} probed 25 ports of {dst} within 2 minutes.",
    },
    Entry {
        title: "Excessive Login Attempts",
        engine: Engine::Anomaly,
        severity: Severity::Critical,
        group: "Authentication",
        protocols: &["SSH", "RDP", "SMB"],
        message: "{src} made 20 failed login attempts on {dst} within one minute.",
    },
    Entry {
        title: "Illegal MODBUS Operation (Function Code Zero)",
        engine: Engine::ProtocolViolation,
        severity: Severity::Major,
        group: "Illegal commands",
        protocols: &["Modbus/TCP"],
        message: "{src} sent a Modbus request with function code 0 to {dst}.",
    },
    Entry {
        title: "Illegal DNP3 Operation",
        engine: Engine::ProtocolViolation,
        severity: Severity::Major,
        group: "Illegal commands",
        protocols: &["DNP3"],
        message: "{src} sent a malformed DNP3 application fragment to outstation {dst}.",
    },
    Entry {
        title: "Illegal Connection Attempt on Port 0",
        engine: Engine::ProtocolViolation,
        severity: Severity::Minor,
        group: "Illegal commands",
        protocols: &["TCP", "UDP"],
        message: "{src} tried to connect to port 0 on {dst}.",
    },
    Entry {
        title: "Suspicion of Malicious Activity (Industroyer)",
        engine: Engine::Malware,
        severity: Severity::Critical,
        group: "Suspicion of malware",
        protocols: &["IEC 60870-5-104"],
        message: "Traffic from {src} to {dst} matches the IEC 104 module of the Industroyer toolkit.",
    },
    Entry {
        title: "Connection Attempt to Known Malicious IP",
        engine: Engine::Malware,
        severity: Severity::Major,
        group: "Suspicion of malicious activity",
        protocols: &["TCP"],
        message: "{src} tried to reach {dst}, an address on a threat-intelligence block list.",
    },
    Entry {
        title: "An S7 Stop PLC Command was Sent",
        engine: Engine::Operational,
        severity: Severity::Warning,
        group: "Restart and stop commands",
        protocols: &["S7"],
        message: "{src} sent a Stop command to {dst}; the PLC halts until a Start command arrives.",
    },
    Entry {
        title: "Device is Suspected to be Disconnected (Unresponsive)",
        engine: Engine::Operational,
        severity: Severity::Major,
        group: "Unresponsive",
        protocols: &["Modbus/TCP", "EtherNet/IP"],
        message: "{dst} did not answer {src} for 8 attempts within 5 minutes.",
    },
    Entry {
        title: "No Traffic Detected on Sensor Interface",
        engine: Engine::Operational,
        severity: Severity::Critical,
        group: "Sensor traffic",
        protocols: &["Ethernet"],
        message: "The monitoring interface facing {dst} has seen no traffic for 10 minutes.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_has_at_least_two_kinds_of_alert() {
        for engine in Engine::ALL {
            let n = CATALOGUE.iter().filter(|e| e.engine == engine).count();
            assert!(n >= 2, "{engine}: {n}");
        }
    }

    #[test]
    fn every_entry_fits_the_core_capacities() {
        for e in CATALOGUE {
            assert!(
                e.title.len() <= icsfwd_core::alert::MAX_TITLE,
                "{}",
                e.title
            );
            assert!(
                e.group.len() <= icsfwd_core::alert::MAX_GROUP,
                "{}",
                e.group
            );
            assert!(!e.protocols.is_empty(), "{}", e.title);
        }
    }
}
