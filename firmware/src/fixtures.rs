//! The events the host golden tests render, rebuilt without `std` and in place.
//!
//! Each `fill_*` function overwrites an existing [`Alert`] or [`Notification`] with the same
//! field values as the function of the same name in `core/tests/common/mod.rs`
//! (`sample_alert()`, `hostile_alert()`, `max_alert(c)`, `notification(kind)`); a host test
//! (`fixtures_equal_the_host_golden_fixtures`) proves they are equal, so output rendered here
//! can be compared with the host's golden files byte for byte.
//!
//! They fill in place rather than return a value because an alert is about 2.6 KiB: on the
//! image's 10 KiB stack, returning one by value can cost two copies.
//!
//! Guarantees: no function here panics or allocates.
//!
//! ```
//! use icsfwd_core::alert::{Alert, Engine, Severity};
//! use icsfwd_firmware::fixtures;
//!
//! let mut alert = Alert::new(0, 0, Engine::Malware, Severity::Warning);
//! fixtures::fill_sample_alert(&mut alert);
//! assert_eq!(alert.title, "PLC Program Stop");
//! assert_eq!(alert.time_ms, fixtures::SAMPLE_TIME_MS);
//! ```

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use icsfwd_core::alert::{
    Alert, Engine, MacAddr, Notification, NotificationKind, Sensor, Severity,
};

/// 2019-05-05T12:28:54.123Z, the time of the sample alert.
pub const SAMPLE_TIME_MS: u64 = 1_557_059_334_123;

/// The characters that expand the most under some format's escaping (as in the host tests).
pub const WORST_CHARS: [char; 8] = ['\u{1}', '\u{7f}', '"', '\\', '\n', '|', '=', '\u{2028}'];

/// Overwrites `sensor` with the host tests' `sensor(name)`: address 10.1.0.5, version 22.3.1.
pub fn fill_sensor(sensor: &mut Sensor, name: &str) {
    *sensor = Sensor::unknown();
    sensor.set_name(name);
    sensor.ip = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 5));
    sensor.set_version("22.3.1");
}

/// Overwrites `a` with the host tests' `sample_alert()`: an S7 PLC stop command.
pub fn fill_sample_alert(a: &mut Alert) {
    *a = Alert::new(1042, SAMPLE_TIME_MS, Engine::Operational, Severity::Major);
    a.set_title("PLC Program Stop");
    a.set_message("A stop command was sent from HMI-07 to PLC-Line3 (CPU 1516-3 PN/DP).");
    a.set_protocol("S7");
    a.set_group("Restart and stop commands");
    a.set_source_name("HMI-07");
    a.source.ip = IpAddr::V4(Ipv4Addr::new(10, 20, 1, 7));
    a.source.mac = Some(MacAddr([0x00, 0x1b, 0x1b, 0xaa, 0x0f, 0x9e]));
    a.source.port = Some(49152);
    a.set_destination_name("PLC-Line3");
    a.destination.ip = IpAddr::V4(Ipv4Addr::new(10, 20, 3, 11));
    a.destination.mac = Some(MacAddr([0x00, 0x0e, 0x8c, 0x01, 0x02, 0x03]));
    a.destination.port = Some(102);
    fill_sensor(&mut a.sensor, "sensor-plant-a");
}

/// Overwrites `a` with the host tests' `hostile_alert()`: every text field tries to break out
/// of its format; IPv6 endpoints, no MACs or ports but one zero port.
pub fn fill_hostile_alert(a: &mut Alert) {
    *a = Alert::new(u64::MAX, 0, Engine::ProtocolViolation, Severity::Critical);
    a.set_title("Illegal \"Modbus\" | write=1 \\ ]\tCEF:0|x");
    a.set_message(
        "line1\nline2\r\nKey: forged\u{0}nul\u{1b}[31m esc\u{7f} del \u{85}nel \u{2028}ls é 日本 \
         <9>1 - - - - - [icsfwd@32473 id=\"x\"] msg=evil src=6.6.6.6 \\n \"}, \"event\": {",
    );
    a.set_protocol("Modbus\t|=\\]");
    a.set_group("Custom \"alerts\"\n=");
    a.set_source_name("src|name=\\\"]");
    a.source.ip = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0x21b, 0x1bff, 0xfeaa, 0xf9e));
    a.source.mac = None;
    a.source.port = None;
    a.set_destination_name("dst\r\nSource IP: 1.2.3.4");
    a.destination.ip = IpAddr::V6(Ipv6Addr::LOCALHOST);
    a.destination.mac = None;
    a.destination.port = Some(0);
    fill_sensor(&mut a.sensor, "sensor \"evil\"|=\\]\n");
    a.sensor.ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    a.sensor.set_version("1.0|=\\");
}

fn fill_with<const N: usize>(s: &mut heapless::String<N>, c: char) {
    s.clear();
    while s.push(c).is_ok() {}
}

/// Overwrites `a` with the host tests' `max_alert(fill_char)`: every text field at its
/// capacity in `fill_char`, the longest numbers and addresses, and the truncated flag set.
pub fn fill_max_alert(a: &mut Alert, fill_char: char) {
    *a = Alert::new(
        u64::MAX,
        u64::MAX / 4,
        Engine::PolicyViolation,
        Severity::Warning,
    );
    fill_with(&mut a.title, fill_char);
    fill_with(&mut a.message, fill_char);
    fill_with(&mut a.protocol, fill_char);
    fill_with(&mut a.group, fill_char);
    let all_ones = IpAddr::V6(Ipv6Addr::new(
        0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
    ));
    fill_with(&mut a.source.name, fill_char);
    a.source.ip = all_ones;
    a.source.mac = Some(MacAddr([0xff; 6]));
    a.source.port = Some(u16::MAX);
    a.destination.clone_from(&a.source);
    fill_with(&mut a.sensor.name, fill_char);
    a.sensor.ip = all_ones;
    fill_with(&mut a.sensor.version, fill_char);
    a.truncated = true;
}

/// Overwrites `a` with the host tests' `unversioned_alert()`: the sample alert from a sensor
/// that sends no software version.
pub fn fill_unversioned_alert(a: &mut Alert) {
    fill_sample_alert(a);
    a.sensor.version.clear();
}

/// Overwrites `n` with the host tests' `notification(kind)`.
pub fn fill_notification(n: &mut Notification, kind: NotificationKind) {
    *n = Notification::new(77, SAMPLE_TIME_MS + 1000, kind);
    fill_sensor(&mut n.sensor, "sensor-plant-a");
    n.set_text("Sensor sensor-plant-a stopped sending heartbeats 300 s ago.");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_common as host;

    fn blank_alert() -> Alert {
        Alert::new(0, 0, Engine::Malware, Severity::Warning)
    }

    #[test]
    fn fixtures_equal_the_host_golden_fixtures() {
        let mut a = blank_alert();
        fill_sample_alert(&mut a);
        assert_eq!(a, host::sample_alert());
        fill_hostile_alert(&mut a);
        assert_eq!(a, host::hostile_alert());
        fill_unversioned_alert(&mut a);
        assert_eq!(a, host::unversioned_alert());
        for c in ['x'].into_iter().chain(WORST_CHARS) {
            fill_max_alert(&mut a, c);
            assert_eq!(a, host::max_alert(c), "max_alert({c:?})");
        }
        let mut n = Notification::new(0, 0, NotificationKind::SensorOnline);
        for kind in NotificationKind::ALL {
            fill_notification(&mut n, kind);
            assert_eq!(n, host::notification(kind));
        }
        assert_eq!(SAMPLE_TIME_MS, host::SAMPLE_TIME_MS);
        assert_eq!(WORST_CHARS, host::WORST_CHARS);
    }

    #[test]
    fn filling_over_a_different_alert_leaves_nothing_of_it() {
        let mut a = blank_alert();
        fill_max_alert(&mut a, '|');
        fill_sample_alert(&mut a);
        assert_eq!(a, host::sample_alert());
    }
}
