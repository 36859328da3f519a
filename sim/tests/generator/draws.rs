//! The generated alerts pair plausible devices, by the role rules written down below
//! independently of the catalogue's own role lists.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::collections::HashMap;
use std::net::IpAddr;

use icsfwd_core::alert::Alert;
use icsfwd_sim::generator::Generator;
use icsfwd_sim::plant::{Device, Role, Zone, device_by_ip};

fn device(ip: IpAddr) -> &'static Device {
    match ip {
        IpAddr::V4(v4) => device_by_ip(v4.octets()).unwrap_or_else(|| panic!("{ip} not in plant")),
        IpAddr::V6(_) => panic!("{ip} is not IPv4"),
    }
}

fn is_field(role: Role) -> bool {
    matches!(
        role,
        Role::Plc | Role::Rtu | Role::Ied | Role::BuildingController
    )
}

fn is_internal(d: &Device) -> bool {
    d.zone != Zone::Internet
}

type Rule = fn(&Device, &Device, &str) -> bool;

/// (title, what must hold of source, destination and protocol).
const RULES: &[(&str, Rule)] = &[
    ("Unauthorized PLC Programming", |s, d, _| {
        matches!(
            s.role,
            Role::EngineeringWorkstation | Role::RogueLaptop | Role::Hmi
        ) && d.role == Role::Plc
    }),
    ("An S7 Stop PLC Command was Sent", |s, d, p| {
        !is_field(s.role) && d.role == Role::Plc && p == "S7" && d.speaks("S7")
    }),
    ("Controller Stop", |s, d, _| {
        !is_field(s.role) && d.role == Role::Plc
    }),
    ("Outstation Restarted", |s, d, p| {
        !is_field(s.role) && d.role == Role::Rtu && p == "DNP3" && d.speaks("DNP3")
    }),
    ("Address Scan Detected", |s, d, _| {
        is_internal(s) && is_internal(d)
    }),
    ("Port Scan Detected", |s, d, _| {
        is_internal(s) && is_internal(d)
    }),
    ("Internet Access Detected", |s, d, _| {
        is_internal(s) && d.role == Role::InternetHost
    }),
    ("Unauthorized Internet Connectivity Detected", |s, d, _| {
        is_internal(s) && d.zone == Zone::Internet
    }),
    ("Connection Attempt to Known Malicious IP", |s, d, _| {
        is_internal(s) && d.role == Role::MaliciousHost
    }),
    ("Malicious Domain Name Request", |s, d, p| {
        is_internal(s) && d.role == Role::DomainController && p == "DNS"
    }),
    ("Suspicion of Malicious Activity (Stuxnet)", |s, d, p| {
        matches!(s.role, Role::EngineeringWorkstation | Role::Hmi)
            && d.role == Role::Plc
            && p == "S7"
    }),
    ("Suspicion of Malicious Activity (WannaCry)", |s, d, p| {
        !is_field(s.role) && !is_field(d.role) && p == "SMB" && d.speaks("SMB")
    }),
    ("Unpermitted Usage of DNP3 Function Code", |s, d, p| {
        !is_field(s.role) && matches!(d.role, Role::Rtu | Role::Ied) && p == "DNP3"
    }),
    ("Unpermitted Usage of Modbus Function Code", |s, d, p| {
        !is_field(s.role) && is_field(d.role) && p == "Modbus/TCP" && d.speaks(p)
    }),
    ("Unauthorized BACNet Object Access", |_, d, p| {
        d.role == Role::BuildingController && p == "BACnet"
    }),
    ("GOOSE Message Type Settings", |s, d, _| {
        s.role == Role::Ied && d.role == Role::Ied
    }),
    ("Unauthorized MMS Program Access", |_, d, p| {
        d.role == Role::Ied && p == "IEC 61850 MMS"
    }),
    ("Slave Device Received Illegal ASDU Type", |_, d, p| {
        d.role == Role::Rtu && p == "IEC 60870-5-104"
    }),
    ("Field Device Discovered Unexpectedly", |s, d, _| {
        is_field(s.role) && !is_field(d.role)
    }),
    ("New Asset Detected", |s, d, _| {
        s.role == Role::RogueLaptop && is_internal(d)
    }),
    ("Database Login Failed", |_, d, p| {
        matches!(d.role, Role::DatabaseServer | Role::Historian) && (p == "TDS" || p == "TNS")
    }),
];

fn generated() -> Vec<Alert> {
    Generator::new(2026, 1_700_000_000_000)
        .take(10_000)
        .collect()
}

#[test]
fn ten_thousand_alerts_pair_devices_by_the_role_rules() {
    let mut checked: HashMap<&str, usize> = HashMap::new();
    for alert in generated() {
        let (src, dst) = (device(alert.source.ip), device(alert.destination.ip));
        assert_ne!(src.name, dst.name, "{}", alert.title);
        assert_eq!(alert.source.name.as_str(), src.name);
        assert_eq!(alert.destination.name.as_str(), dst.name);
        assert_eq!(alert.source.mac.map(|m| m.0), Some(src.mac));
        assert_eq!(alert.destination.mac.map(|m| m.0), Some(dst.mac));
        assert!(
            dst.speaks(&alert.protocol),
            "{} does not speak {}",
            dst.name,
            alert.protocol
        );
        if let Some((title, rule)) = RULES.iter().find(|(t, _)| *t == alert.title.as_str()) {
            assert!(
                rule(src, dst, &alert.protocol),
                "{title}: {} ({:?}) -> {} ({:?}) over {}",
                src.name,
                src.role,
                dst.name,
                dst.role,
                alert.protocol
            );
            *checked.entry(title).or_default() += 1;
        }
    }
    for (title, _) in RULES {
        assert!(
            checked.get(title).copied().unwrap_or(0) > 0,
            "{title} never generated"
        );
    }
}

#[test]
fn different_seeds_give_different_runs() {
    let a: Vec<Alert> = Generator::new(1, 0).take(100).collect();
    let b: Vec<Alert> = Generator::new(2, 0).take(100).collect();
    let titles = |v: &[Alert]| v.iter().map(|a| a.title.to_string()).collect::<Vec<_>>();
    assert_ne!(titles(&a), titles(&b));
    assert_eq!(a, Generator::new(1, 0).take(100).collect::<Vec<_>>());
}
