//! The simulated plant: zones, devices, the protocols they speak, and the sensors watching them.
//!
//! A small Purdue-model site: a DMZ and Internet edge, Level 3 operations (historian, domain
//! controller, databases), Level 2 supervisory (HMIs, engineering workstations, SCADA server,
//! plus one unmanaged contractor laptop), Level 1 control (PLCs of several vendors, a building
//! controller) and an electrical substation (RTUs and a protection IED). Every internal device
//! has an address in its zone's subnet and a MAC whose first three bytes are its vendor's OUI.
//!
//! Guarantees (tested): device names and addresses are unique, every internal device sits in
//! its zone's subnet, every internal zone is watched by at least one sensor, and every protocol
//! with a well-known port maps to it in [`well_known_port`].
//!
//! OUIs: the ones marked `checked` in [`VENDORS`] are registrations we are confident of
//! (Siemens `00:1B:1B`, Rockwell `00:00:BC`, Schneider/Telemecanique `00:80:F4`, Beckhoff
//! `00:01:05`, SEL `00:30:A7`, Moxa `00:90:E8`, Dell `00:14:22`, VMware `00:50:56`, Hyper-V
//! `00:15:5D`); the others are illustrative and may not match the IEEE registry. Internet
//! addresses come from the documentation ranges (RFC 5737), so no real host is named.
//!
//! ```
//! use icsfwd_sim::plant::{DEVICES, Role, device_by_ip};
//!
//! let plc = DEVICES.iter().find(|d| d.role == Role::Plc).unwrap();
//! assert!(plc.zone.contains(plc.ip));
//! assert_eq!(device_by_ip(plc.ip).map(|d| d.name), Some(plc.name));
//! ```

/// A network zone of the plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    /// The Internet: addresses outside the plant.
    Internet,
    /// The DMZ between the corporate network and operations (Level 3.5).
    Dmz,
    /// Level 3 site operations: historian, domain controller, databases.
    Operations,
    /// Level 2 supervisory control: HMIs, engineering workstations, SCADA server.
    Supervisory,
    /// Level 1 basic control: PLCs and controllers.
    Control,
    /// The electrical substation: RTUs and protection IEDs.
    Substation,
}

impl Zone {
    /// Every zone.
    pub const ALL: [Zone; 6] = [
        Zone::Internet,
        Zone::Dmz,
        Zone::Operations,
        Zone::Supervisory,
        Zone::Control,
        Zone::Substation,
    ];

    /// The zone's IPv4 subnet as (network, prefix length); `None` for the Internet.
    pub const fn subnet(self) -> Option<([u8; 4], u8)> {
        match self {
            Zone::Internet => None,
            Zone::Dmz => Some(([172, 16, 10, 0], 24)),
            Zone::Operations => Some(([10, 10, 3, 0], 24)),
            Zone::Supervisory => Some(([10, 10, 2, 0], 24)),
            Zone::Control => Some(([10, 10, 1, 0], 24)),
            Zone::Substation => Some(([10, 20, 4, 0], 24)),
        }
    }

    /// Whether `ip` belongs to the zone (for the Internet: is outside every internal subnet).
    pub fn contains(self, ip: [u8; 4]) -> bool {
        match self.subnet() {
            Some((net, 24)) => ip[..3] == net[..3],
            Some(_) => false,
            None => Zone::ALL
                .iter()
                .filter(|z| **z != Zone::Internet)
                .all(|z| !z.contains(ip)),
        }
    }
}

/// What a device does in the plant; the generator pairs alerts by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An operator HMI station.
    Hmi,
    /// An engineering workstation, the known programming device.
    EngineeringWorkstation,
    /// A SCADA server polling outstations (DNP3, IEC 104).
    ScadaServer,
    /// A process historian.
    Historian,
    /// An OPC UA server aggregating controller tags.
    OpcServer,
    /// A Windows domain controller / file server.
    DomainController,
    /// A database server.
    DatabaseServer,
    /// A backup server.
    BackupServer,
    /// A remote-access jump host in the DMZ.
    JumpHost,
    /// A programmable logic controller.
    Plc,
    /// A building-automation controller (BACnet).
    BuildingController,
    /// A remote terminal unit (DNP3 / IEC 104 outstation).
    Rtu,
    /// A protection relay / IED (IEC 61850).
    Ied,
    /// An unmanaged laptop plugged into the plant network.
    RogueLaptop,
    /// An ordinary host on the Internet.
    InternetHost,
    /// An Internet host on a threat-intelligence block list.
    MaliciousHost,
}

/// A hardware vendor and its MAC OUI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vendor {
    /// The vendor's name.
    pub name: &'static str,
    /// The first three bytes of its MACs.
    pub oui: [u8; 3],
    /// Whether we are confident the OUI is registered to this vendor (else illustrative).
    pub checked: bool,
}

/// The vendors whose devices appear in the plant.
pub const VENDORS: &[Vendor] = &[
    vendor("Siemens", [0x00, 0x1b, 0x1b], true),
    vendor("Rockwell Automation", [0x00, 0x00, 0xbc], true),
    vendor("Schneider Electric", [0x00, 0x80, 0xf4], true),
    vendor("Beckhoff", [0x00, 0x01, 0x05], true),
    vendor(
        "Schweitzer Engineering Laboratories",
        [0x00, 0x30, 0xa7],
        true,
    ),
    vendor("Moxa", [0x00, 0x90, 0xe8], true),
    vendor("Dell", [0x00, 0x14, 0x22], true),
    vendor("VMware", [0x00, 0x50, 0x56], true),
    vendor("Microsoft Hyper-V", [0x00, 0x15, 0x5d], true),
    vendor("Omron", [0x00, 0x00, 0x0a], false),
    vendor("Mitsubishi Electric", [0x00, 0x26, 0x92], false),
    vendor("GE Automation", [0x00, 0x09, 0x91], false),
    vendor("Honeywell", [0x00, 0x40, 0x84], false),
    // Locally administered (randomised) MAC, as modern laptops use: no vendor.
    vendor("(randomised)", [0x02, 0x5e, 0x11], false),
];

const fn vendor(name: &'static str, oui: [u8; 3], checked: bool) -> Vendor {
    Vendor { name, oui, checked }
}

/// A device of the plant (or an Internet host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// Its name as the sensor knows it.
    pub name: &'static str,
    /// Its role.
    pub role: Role,
    /// Its zone.
    pub zone: Zone,
    /// Its IPv4 address.
    pub ip: [u8; 4],
    /// Its MAC address (OUI of its vendor); meaningless for Internet hosts (the sensor sees the
    /// edge router's MAC, which is what we put there).
    pub mac: [u8; 6],
    /// The protocols it speaks beyond the [`GENERIC`] ones every host speaks.
    pub protocols: &'static [&'static str],
}

impl Device {
    /// Whether the device speaks `protocol`.
    pub fn speaks(&self, protocol: &str) -> bool {
        GENERIC.contains(&protocol) || self.protocols.contains(&protocol)
    }
}

/// Protocols every IP host speaks.
pub const GENERIC: &[&str] = &["IP", "TCP", "UDP", "ICMP", "ARP"];

const WINDOWS: &[&str] = &["SMB", "RDP", "DNS", "HTTP", "TLS", "DCE RPC"];

const fn dev(
    name: &'static str,
    role: Role,
    zone: Zone,
    ip: [u8; 4],
    oui: [u8; 3],
    nic: [u8; 3],
    protocols: &'static [&'static str],
) -> Device {
    Device {
        name,
        role,
        zone,
        ip,
        mac: [oui[0], oui[1], oui[2], nic[0], nic[1], nic[2]],
        protocols,
    }
}

const SIEMENS: [u8; 3] = [0x00, 0x1b, 0x1b];
const ROCKWELL: [u8; 3] = [0x00, 0x00, 0xbc];
const SCHNEIDER: [u8; 3] = [0x00, 0x80, 0xf4];
const BECKHOFF: [u8; 3] = [0x00, 0x01, 0x05];
const SEL: [u8; 3] = [0x00, 0x30, 0xa7];
const MOXA: [u8; 3] = [0x00, 0x90, 0xe8];
const DELL: [u8; 3] = [0x00, 0x14, 0x22];
const VMWARE: [u8; 3] = [0x00, 0x50, 0x56];
const HYPERV: [u8; 3] = [0x00, 0x15, 0x5d];
const OMRON: [u8; 3] = [0x00, 0x00, 0x0a];
const MITSUBISHI: [u8; 3] = [0x00, 0x26, 0x92];
const GE: [u8; 3] = [0x00, 0x09, 0x91];
const HONEYWELL: [u8; 3] = [0x00, 0x40, 0x84];
const RANDOM: [u8; 3] = [0x02, 0x5e, 0x11];
/// The MAC the sensor sees for Internet hosts: the edge firewall's inside interface.
const EDGE: [u8; 3] = MOXA;

use Role as R;
use Zone as Z;

/// Every device of the plant, and a few Internet hosts.
#[rustfmt::skip]
pub const DEVICES: &[Device] = &[
    // DMZ
    dev("DMZ-JUMP01", R::JumpHost, Z::Dmz, [172, 16, 10, 10], VMWARE, [0x9a, 0x10, 0x0a], &["SMB", "RDP", "SSH", "TLS", "HTTP", "DNS", "DCE RPC"]),
    dev("DMZ-PIREPL01", R::Historian, Z::Dmz, [172, 16, 10, 20], VMWARE, [0x9a, 0x10, 0x14], &["SMB", "RDP", "HTTP", "TLS", "TDS", "DNS", "DCE RPC"]),
    dev("DMZ-WSUS01", R::BackupServer, Z::Dmz, [172, 16, 10, 30], VMWARE, [0x9a, 0x10, 0x1e], &["SMB", "HTTP", "TLS", "FTP", "DNS", "DCE RPC"]),
    // Level 3 operations
    dev("OPS-HIST01", R::Historian, Z::Operations, [10, 10, 3, 20], DELL, [0x4c, 0x03, 0x14], &["SMB", "RDP", "DNS", "HTTP", "TLS", "TDS", "TNS", "OPC UA", "Wonderware SuiteLink", "DCE RPC"]),
    dev("OPS-DC01", R::DomainController, Z::Operations, [10, 10, 3, 5], HYPERV, [0x03, 0x00, 0x05], WINDOWS),
    dev("OPS-SQL01", R::DatabaseServer, Z::Operations, [10, 10, 3, 30], HYPERV, [0x03, 0x00, 0x1e], &["SMB", "RDP", "TDS", "DNS", "TLS", "HTTP", "DCE RPC"]),
    dev("OPS-ORA01", R::DatabaseServer, Z::Operations, [10, 10, 3, 31], DELL, [0x4c, 0x03, 0x1f], &["SSH", "TNS", "DNS"]),
    dev("OPS-OPCUA01", R::OpcServer, Z::Operations, [10, 10, 3, 40], DELL, [0x4c, 0x03, 0x28], &["OPC UA", "DCE RPC", "SMB", "RDP", "S7", "EtherNet/IP", "Modbus/TCP", "DNS", "TLS", "HTTP"]),
    dev("OPS-BKP01", R::BackupServer, Z::Operations, [10, 10, 3, 50], DELL, [0x4c, 0x03, 0x32], &["SMB", "FTP", "SSH", "DNS", "TLS", "HTTP", "DCE RPC"]),
    // Level 2 supervisory
    dev("HMI-LINE1", R::Hmi, Z::Supervisory, [10, 10, 2, 11], SIEMENS, [0xaa, 0x02, 0x0b], &["SMB", "RDP", "S7", "S7-Plus", "Modbus/TCP", "OPC UA", "Wonderware SuiteLink", "BACnet", "DNS", "TLS", "HTTP", "DCE RPC"]),
    dev("HMI-LINE2", R::Hmi, Z::Supervisory, [10, 10, 2, 12], DELL, [0x4c, 0x02, 0x0c], &["SMB", "RDP", "EtherNet/IP", "Omron FINS", "Melsec", "GE SRTP", "OPC UA", "DNS", "TLS", "HTTP", "DCE RPC"]),
    dev("HMI-SUBSTN", R::Hmi, Z::Supervisory, [10, 10, 2, 13], DELL, [0x4c, 0x02, 0x0d], &["SMB", "RDP", "DNP3", "IEC 60870-5-104", "IEC 61850 MMS", "SICAM", "DNS", "TLS", "HTTP", "DCE RPC"]),
    dev("EWS-TIA01", R::EngineeringWorkstation, Z::Supervisory, [10, 10, 2, 21], DELL, [0x4c, 0x02, 0x15], &["SMB", "RDP", "S7", "S7-Plus", "Profinet DCP", "Modbus/TCP", "AMS (ADS)", "HTTP", "DNS", "TLS", "DCE RPC"]),
    dev("EWS-RSL01", R::EngineeringWorkstation, Z::Supervisory, [10, 10, 2, 22], DELL, [0x4c, 0x02, 0x16], &["SMB", "RDP", "EtherNet/IP", "Omron FINS", "Melsec", "GE SRTP", "BACnet", "HTTP", "DNS", "TLS", "DCE RPC"]),
    dev("EWS-PROT01", R::EngineeringWorkstation, Z::Supervisory, [10, 10, 2, 23], DELL, [0x4c, 0x02, 0x17], &["SMB", "RDP", "IEC 61850 MMS", "DNP3", "SICAM", "SSH", "FTP", "DNS", "TLS", "HTTP", "DCE RPC"]),
    dev("SCADA-FE01", R::ScadaServer, Z::Supervisory, [10, 10, 2, 30], HONEYWELL, [0x21, 0x02, 0x1e], &["DNP3", "IEC 60870-5-104", "SICAM", "IEC 61850 MMS", "SMB", "RDP", "DNS", "TLS", "HTTP", "DCE RPC"]),
    dev("LAPTOP-CONTRACTOR", R::RogueLaptop, Z::Supervisory, [10, 10, 2, 187], RANDOM, [0x7e, 0x4d, 0xbb], &["SMB", "HTTP", "TLS", "DNS", "SSH", "S7", "Modbus/TCP", "EtherNet/IP", "DNP3", "DCE RPC"]),
    // Level 1 control
    dev("PLC-S7-1500-PRESS", R::Plc, Z::Control, [10, 10, 1, 11], SIEMENS, [0x3c, 0x01, 0x0b], &["S7", "S7-Plus", "Profinet DCP", "OPC UA", "HTTP", "SNMP"]),
    dev("PLC-S7-300-BOILER", R::Plc, Z::Control, [10, 10, 1, 12], SIEMENS, [0x3c, 0x01, 0x0c], &["S7", "Profinet DCP", "SNMP"]),
    dev("PLC-CLX-PACK", R::Plc, Z::Control, [10, 10, 1, 21], ROCKWELL, [0x5b, 0x01, 0x15], &["EtherNet/IP", "HTTP", "SNMP"]),
    dev("PLC-M580-WATER", R::Plc, Z::Control, [10, 10, 1, 31], SCHNEIDER, [0x6c, 0x01, 0x1f], &["Modbus/TCP", "FTP", "HTTP", "SNMP"]),
    dev("VFD-PUMP3", R::Plc, Z::Control, [10, 10, 1, 32], SCHNEIDER, [0x6c, 0x01, 0x20], &["Modbus/TCP"]),
    dev("PLC-CX-CONVEYOR", R::Plc, Z::Control, [10, 10, 1, 41], BECKHOFF, [0x7d, 0x01, 0x29], &["AMS (ADS)", "Modbus/TCP", "SSH", "HTTP"]),
    dev("PLC-NJ-FILLER", R::Plc, Z::Control, [10, 10, 1, 51], OMRON, [0x8e, 0x01, 0x33], &["Omron FINS", "EtherNet/IP"]),
    dev("PLC-IQR-PALLET", R::Plc, Z::Control, [10, 10, 1, 61], MITSUBISHI, [0x9f, 0x01, 0x3d], &["Melsec"]),
    dev("PLC-RX3I-KILN", R::Plc, Z::Control, [10, 10, 1, 71], GE, [0xa1, 0x01, 0x47], &["GE SRTP", "Modbus/TCP"]),
    dev("BMS-HVAC01", R::BuildingController, Z::Control, [10, 10, 1, 81], HONEYWELL, [0x21, 0x01, 0x51], &["BACnet", "HTTP", "TLS"]),
    // Substation
    dev("RTU-SUB4-FEEDER", R::Rtu, Z::Substation, [10, 20, 4, 10], SEL, [0x1c, 0x04, 0x0a], &["DNP3", "SSH", "FTP"]),
    dev("RTU-SUB4-TX", R::Rtu, Z::Substation, [10, 20, 4, 11], SIEMENS, [0x3c, 0x04, 0x0b], &["IEC 60870-5-104", "SICAM", "DNP3"]),
    dev("IED-SUB4-BAY1", R::Ied, Z::Substation, [10, 20, 4, 21], SEL, [0x1c, 0x04, 0x15], &["IEC 61850 MMS", "IEC 61850 GOOSE", "DNP3", "FTP"]),
    dev("IED-SUB4-BAY2", R::Ied, Z::Substation, [10, 20, 4, 22], SEL, [0x1c, 0x04, 0x16], &["IEC 61850 MMS", "IEC 61850 GOOSE", "DNP3"]),
    dev("GW-SUB4", R::Rtu, Z::Substation, [10, 20, 4, 1], MOXA, [0x2a, 0x04, 0x01], &["DNP3", "Modbus/TCP", "SSH", "HTTP", "SNMP"]),
    // Internet (RFC 5737 documentation addresses)
    dev("update.vendor.example", R::InternetHost, Z::Internet, [198, 51, 100, 23], EDGE, [0x00, 0x00, 0xfe], &["HTTP", "TLS", "DNS", "FTP"]),
    dev("cdn.example.net", R::InternetHost, Z::Internet, [198, 51, 100, 140], EDGE, [0x00, 0x00, 0xfe], &["HTTP", "TLS", "DNS", "BACnet", "Modbus/TCP"]),
    dev("203.0.113.66", R::MaliciousHost, Z::Internet, [203, 0, 113, 66], EDGE, [0x00, 0x00, 0xfe], &["HTTP", "TLS", "DNS", "SMB", "SSH"]),
    dev("203.0.113.201", R::MaliciousHost, Z::Internet, [203, 0, 113, 201], EDGE, [0x00, 0x00, 0xfe], &["HTTP", "TLS", "DNS", "RDP"]),
];

/// A sensor of the plant and the zones its monitoring interfaces see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensorSite {
    /// The sensor's name.
    pub name: &'static str,
    /// Its management address.
    pub ip: [u8; 4],
    /// Its software version.
    pub version: &'static str,
    /// The zones it watches.
    pub watches: &'static [Zone],
}

/// The sensors of the plant.
#[rustfmt::skip]
pub const SENSORS: &[SensorSite] = &[
    SensorSite { name: "sensor-dmz", ip: [10, 1, 0, 5], version: "22.3.1", watches: &[Z::Dmz, Z::Internet] },
    SensorSite { name: "sensor-ops-l3", ip: [10, 1, 0, 6], version: "22.3.1", watches: &[Z::Operations, Z::Supervisory] },
    SensorSite { name: "sensor-cell-l1", ip: [10, 1, 0, 7], version: "22.2.6", watches: &[Z::Supervisory, Z::Control] },
    SensorSite { name: "sensor-substation", ip: [10, 1, 0, 8], version: "22.2.6", watches: &[Z::Substation] },
];

/// The device with address `ip`, if any.
pub fn device_by_ip(ip: [u8; 4]) -> Option<&'static Device> {
    DEVICES.iter().find(|d| d.ip == ip)
}

/// The well-known port of `protocol`, or `None` for protocols without one (layer 2, ICMP,
/// generic TCP/UDP, proprietary protocols whose port we could not confirm).
pub fn well_known_port(protocol: &str) -> Option<u16> {
    PORTS
        .iter()
        .find(|(p, _)| *p == protocol)
        .map(|(_, port)| *port)
}

/// Protocol → well-known port.
pub const PORTS: &[(&str, u16)] = &[
    ("Modbus/TCP", 502),
    ("S7", 102),
    ("S7-Plus", 102),
    ("IEC 61850 MMS", 102),
    ("DNP3", 20000),
    ("EtherNet/IP", 44818),
    ("BACnet", 47808),
    ("IEC 60870-5-104", 2404),
    ("OPC UA", 4840),
    ("Omron FINS", 9600),
    ("Melsec", 5007),
    ("GE SRTP", 18245),
    ("AMS (ADS)", 48898),
    ("Wonderware SuiteLink", 5413),
    ("SSH", 22),
    ("FTP", 21),
    ("HTTP", 80),
    ("TLS", 443),
    ("DNS", 53),
    ("SMB", 445),
    ("RDP", 3389),
    ("TDS", 1433),
    ("TNS", 1521),
    ("SNMP", 161),
    ("DCE RPC", 135),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_unique() {
        for (i, a) in DEVICES.iter().enumerate() {
            for b in &DEVICES[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.ip, b.ip, "{} {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn every_device_sits_in_its_zone_subnet() {
        for d in DEVICES {
            assert!(d.zone.contains(d.ip), "{} {:?}", d.name, d.zone);
            let in_zones = Zone::ALL.iter().filter(|z| z.contains(d.ip)).count();
            assert_eq!(in_zones, 1, "{}", d.name);
        }
    }

    #[test]
    fn every_mac_carries_a_listed_vendor_oui_and_is_unique_inside_the_plant() {
        for d in DEVICES {
            assert!(VENDORS.iter().any(|v| v.oui == d.mac[..3]), "{}", d.name);
        }
        let internal: Vec<_> = DEVICES
            .iter()
            .filter(|d| d.zone != Zone::Internet)
            .collect();
        for (i, a) in internal.iter().enumerate() {
            for b in &internal[i + 1..] {
                assert_ne!(a.mac, b.mac, "{} {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn every_zone_is_watched_by_a_sensor() {
        for zone in Zone::ALL {
            assert!(
                SENSORS.iter().any(|s| s.watches.contains(&zone)),
                "{zone:?}"
            );
        }
    }

    #[test]
    fn well_known_ports_follow_the_standards() {
        let table = [
            ("Modbus/TCP", Some(502)),
            ("S7", Some(102)),
            ("DNP3", Some(20000)),
            ("EtherNet/IP", Some(44818)),
            ("BACnet", Some(47808)),
            ("IEC 60870-5-104", Some(2404)),
            ("OPC UA", Some(4840)),
            ("SMB", Some(445)),
            ("ARP", None),
            ("IEC 61850 GOOSE", None),
            ("TCP", None),
        ];
        for (protocol, port) in table {
            assert_eq!(well_known_port(protocol), port, "{protocol}");
        }
    }
}
