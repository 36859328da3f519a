//! The syslog destination against a real receiver: Debian's `rsyslogd`, started here without
//! privileges on 127.0.0.1 with the repository's config (`tests/syslog/rsyslog.conf.in`), which
//! writes every message it receives to a file, one per line, exactly as it arrived.
//!
//! The real `icsfwd run` binary forwards 1,000 generated alerts (the mixed scenario, every
//! engine and severity) over TCP with RFC 6587 octet counting; the tests prove that
//!
//! - every alert arrives exactly once, as one message (its event id in the RFC 5424 structured
//!   data and in the payload), and nothing else arrives;
//! - with `payload = "cef"`, PyPI `pycef` (an independent CEF parser, run by
//!   `tests/syslog/parse_cef.py` in the fidelity venv) reads back exactly the header fields and
//!   extension keys the alert defines per `docs/output-formats.md`: no field missing, none extra;
//! - with `payload = "leef"`, the tab-separated attributes read back (split at the first `=`,
//!   as QRadar does) are exactly those the alert defines.
//!
//! - over TLS, against rsyslogd requiring client certificates (`tests/syslog/rsyslog-tls.conf.in`,
//!   the `ossl` driver with `x509/certvalid`; the CA and certificates made by the simulator's
//!   `TlsMaterial`): a destination without a client certificate parks with the fix named, marks
//!   nothing delivered and loses nothing, and `icsfwd test` fails with the fix; once the
//!   certificate is configured every spooled alert arrives exactly once.
//!
//! Without `rsyslogd` (Debian package `rsyslog`, which `scripts/test-all.sh` installs), its TLS
//! driver (`rsyslog-openssl`, likewise) or the pycef venv (`scripts/fidelity-deps.sh`), a test
//! prints a loud SKIPPED and passes, unless `ICSFWD_REQUIRE_ALL=1`, then it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;

use std::collections::BTreeMap;
use std::fs;
use std::net::{IpAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use e2e::rsyslog::{
    find_rsyslogd, free_tcp_port, generated_alerts, skipped, spawn, stop, workspace_root,
    write_config,
};
use e2e::{
    Shown, alerts_to, destination, feed_all, icsfwd, scratch, start_service, wait_for,
    wait_for_destination, write_config_body,
};
use icsfwd::testing::probe::TEST_TITLE;
use icsfwd_core::alert::{Alert, Event, Severity};
use icsfwd_sim::splunk::tls::TlsMaterial;

/// How many alerts each test forwards.
const ALERTS: usize = 1_000;

/// The `rsyslogd` executable, if installed.
fn rsyslogd() -> Option<PathBuf> {
    let found = find_rsyslogd();
    if found.is_none() {
        skipped(
            "rsyslogd",
            "apt-get install rsyslog (scripts/test-all.sh does)",
        );
    }
    found
}

/// Whether rsyslog's `ossl` TLS driver is installed.
fn rsyslog_tls_driver() -> bool {
    let found = fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("rsyslog/lmnsd_ossl.so"))
        .chain([PathBuf::from("/usr/lib/rsyslog/lmnsd_ossl.so")])
        .any(|path| path.exists());
    if !found {
        skipped(
            "rsyslog's TLS driver (lmnsd_ossl.so)",
            "apt-get install rsyslog-openssl (scripts/test-all.sh does)",
        );
    }
    found
}

/// The fidelity venv's python with pycef, if installed.
fn python_with_pycef() -> Option<PathBuf> {
    let venv = workspace_root().join("target/fidelity/venv");
    let python = venv.join("bin/python");
    let has_pycef = venv.join(".installed").exists()
        && Command::new(&python)
            .args(["-c", "import pycef"])
            .status()
            .is_ok_and(|s| s.success());
    if !has_pycef {
        skipped("pycef (Python venv)", "run scripts/fidelity-deps.sh");
        return None;
    }
    Some(python)
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `rsyslogd -n` on a config from `tests/syslog/rsyslog.conf.in`; stopped by its pidfile.
struct Rsyslog {
    child: Child,
    dir: PathBuf,
    tcp_port: u16,
    udp_port: u16,
}

impl Rsyslog {
    fn start(rsyslogd: &Path, dir: &Path) -> Rsyslog {
        Self::start_with(rsyslogd, dir, "tests/syslog/rsyslog.conf.in", &[])
    }

    /// rsyslogd on the configuration `template` (a path from the workspace root), with
    /// `@DIR@`, `@TCP_PORT@`, `@UDP_PORT@` and each `(placeholder, value)` of `extra`
    /// replaced; its own messages (stderr) go to `rsyslogd.stderr` in its directory.
    fn start_with(rsyslogd: &Path, dir: &Path, template: &str, extra: &[(&str, &Path)]) -> Rsyslog {
        let dir = dir.join("rsyslog");
        fs::create_dir_all(dir.join("work")).unwrap();
        let tcp_port = free_tcp_port();
        let udp_port = free_udp_port();
        let mut values = vec![
            ("@DIR@", dir.to_str().unwrap().to_owned()),
            ("@TCP_PORT@", tcp_port.to_string()),
            ("@UDP_PORT@", udp_port.to_string()),
        ];
        for (placeholder, value) in extra {
            values.push((placeholder, value.to_str().unwrap().to_owned()));
        }
        write_config(&dir, template, &values);
        let stderr = fs::File::create(dir.join("rsyslogd.stderr")).unwrap();
        let child = spawn(rsyslogd, &dir, stderr.into(), &[tcp_port]);
        Rsyslog {
            child,
            dir,
            tcp_port,
            udp_port,
        }
    }

    /// What rsyslogd reported about itself so far (its stderr).
    fn own_messages(&self) -> String {
        fs::read_to_string(self.dir.join("rsyslogd.stderr")).unwrap_or_default()
    }

    /// Every message received so far over `transport`, in arrival order.
    fn messages(&self, transport: &str) -> Vec<String> {
        if transport == "udp" {
            // One JSON-escaped message per line (see the config).
            fs::read_to_string(self.dir.join("messages-udp.log"))
                .unwrap_or_default()
                .lines()
                .map(|line| serde_json::from_str(&format!("\"{line}\"")).unwrap())
                .collect()
        } else {
            fs::read_to_string(self.dir.join("messages.log"))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Forwards `count` generated alerts through `icsfwd run` to rsyslogd over `transport` with
/// `payload`, and returns the alerts by event id and the messages rsyslogd received.
fn forward(
    test: &str,
    (transport, payload, count): (&str, &str, usize),
    rsyslogd: &Path,
) -> (BTreeMap<String, Alert>, Vec<String>) {
    let dir = scratch(test);
    let rsyslog = Rsyslog::start(rsyslogd, &dir);
    let body = format!(
        "[[destination]]\nname = \"rsyslog\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\n\
         port = {port}\ntransport = \"{transport}\"\npayload = \"{payload}\"\nretry_min = \"100ms\"\n\
         retry_max = \"1s\"\n\n{rule}",
        port = if transport == "udp" {
            rsyslog.udp_port
        } else {
            rsyslog.tcp_port
        },
        rule = alerts_to("rsyslog"),
    );
    let config = write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let events = generated_alerts(count, 5);
    let mut by_id = BTreeMap::new();
    for (_, event) in &events {
        if let Event::Alert(alert) = event {
            assert!(
                by_id
                    .insert(alert.event_id().to_string(), alert.clone())
                    .is_none(),
                "the generator repeated an id"
            );
        }
    }
    let tally = feed_all(&dir, events);
    assert_eq!(tally.accepted as usize, count, "{tally:?}");
    wait_for(
        "rsyslogd to write every alert",
        Duration::from_secs(30),
        || rsyslog.messages(transport).len() >= count,
    );
    let (status, log) = service.stop();
    assert!(status.success(), "icsfwd exited with {status}: {log:#?}");
    let messages = rsyslog.messages(transport);
    drop(rsyslog);
    drop(fs::remove_dir_all(&dir));
    (by_id, messages)
}

/// The `id` PARAM of the message's `[icsfwd@32473 …]` structured data.
fn sd_id(message: &str) -> &str {
    let start = message.find(" id=\"").expect("an id PARAM") + 5;
    let len = message[start..].find('"').expect("a closed id PARAM");
    &message[start..start + len]
}

/// Asserts one message per alert, exactly once each, and returns the messages by event id.
fn once_each<'a>(
    alerts: &BTreeMap<String, Alert>,
    messages: &'a [String],
) -> BTreeMap<String, &'a str> {
    let mut by_id: BTreeMap<String, &str> = BTreeMap::new();
    for message in messages {
        assert!(
            message.starts_with('<') && message.contains(" icsfwd - alert [icsfwd@32473 "),
            "not one whole RFC 5424 alert message: {message}"
        );
        let id = sd_id(message).to_owned();
        assert!(
            alerts.contains_key(&id),
            "a message for no alert sent: {message}"
        );
        assert!(
            by_id.insert(id, message).is_none(),
            "received twice: {message}"
        );
    }
    assert_eq!(by_id.len(), alerts.len(), "alerts missing at the receiver");
    assert_eq!(messages.len(), alerts.len());
    by_id
}

fn severity_number(severity: Severity) -> &'static str {
    match severity {
        Severity::Warning => "1",
        Severity::Minor => "4",
        Severity::Major => "8",
        Severity::Critical => "10",
    }
}

/// The kind id `<ENGINE_TOKEN>:<FNV-1a 32 of the title, 8 hex digits>`.
fn kind_id(alert: &Alert) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in alert.title.as_bytes() {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{}:{hash:08x}", alert.engine.token())
}

fn mac(mac: icsfwd_core::alert::MacAddr) -> String {
    let b = mac.0;
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

/// Every field pycef must read from the alert's CEF payload (custom labels applied), per the
/// CEF mapping of `docs/output-formats.md`.
fn expected_cef(alert: &Alert) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        f.insert(k.to_owned(), v);
    };
    put("CEFVersion", "0".into());
    put("DeviceVendor", "icsfwd".into());
    put("DeviceProduct", "OT Sensor".into());
    put("DeviceVersion", alert.sensor.version.to_string());
    put("DeviceEventClassID", kind_id(alert));
    put("Name", alert.title.to_string());
    put("DeviceName", alert.title.to_string());
    put("Severity", severity_number(alert.severity).into());
    put("DeviceSeverity", severity_number(alert.severity).into());
    put("rt", alert.time_ms.to_string());
    put("externalId", alert.event_id().to_string());
    let mut optional = |k: &str, v: &str| {
        if !v.is_empty() {
            f.insert(k.to_owned(), v.to_owned());
        }
    };
    optional("cat", &alert.group);
    optional("app", &alert.protocol);
    optional("shost", &alert.source.name);
    optional("dhost", &alert.destination.name);
    optional("dvchost", &alert.sensor.name);
    optional("msg", &alert.message);
    for (endpoint, v4, v6, port, mac_key) in [
        (&alert.source, "src", "Source IPv6 Address", "spt", "smac"),
        (
            &alert.destination,
            "dst",
            "Destination IPv6 Address",
            "dpt",
            "dmac",
        ),
    ] {
        let key = if endpoint.ip.is_ipv4() { v4 } else { v6 };
        f.insert(key.to_owned(), endpoint.ip.to_string());
        if let Some(p) = endpoint.port {
            f.insert(port.to_owned(), p.to_string());
        }
        if let Some(m) = endpoint.mac {
            f.insert(mac_key.to_owned(), mac(m));
        }
    }
    let dvc = match alert.sensor.ip {
        IpAddr::V4(_) => "dvc",
        IpAddr::V6(_) => "Device IPv6 Address",
    };
    f.insert(dvc.to_owned(), alert.sensor.ip.to_string());
    f.insert("engine".into(), alert.engine.as_str().into());
    f.insert("severity".into(), alert.severity.as_str().into());
    if alert.truncated {
        f.insert("truncated".into(), "true".into());
    }
    f
}

/// The UTC civil date and time of `time_ms`: (year, month 1–12, day, ms of the day), from the
/// days since the epoch by Howard Hinnant's algorithm.
fn civil(time_ms: u64) -> (i64, i64, i64, u64) {
    let days = i64::try_from(time_ms / 86_400_000).unwrap();
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, time_ms % 86_400_000)
}

fn hms(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `MMM dd yyyy HH:mm:ss.SSS` in UTC.
fn leef_time(time_ms: u64) -> String {
    let (year, month, day, ms) = civil(time_ms);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {day:02} {year} {}",
        months[usize::try_from(month - 1).unwrap()],
        hms(ms)
    )
}

/// RFC 3339 UTC with milliseconds.
fn rfc3339(time_ms: u64) -> String {
    let (year, month, day, ms) = civil(time_ms);
    format!("{year:04}-{month:02}-{day:02}T{}Z", hms(ms))
}

/// The text payload of the alert, per `docs/output-formats.md` (label `icsfwd`).
fn expected_text(alert: &Alert) -> String {
    let mut lines = vec![format!(
        "{} icsfwd Alert: {}",
        rfc3339(alert.time_ms),
        alert.title
    )];
    lines.push(format!("Type: {}", alert.engine.as_str()));
    lines.push(format!("Severity: {}", alert.severity.as_str()));
    for (side, endpoint) in [
        ("Source", &alert.source),
        ("Destination", &alert.destination),
    ] {
        lines.push(format!("{side} name: {}", endpoint.name));
        lines.push(format!("{side} IP: {}", endpoint.ip));
        if let Some(m) = endpoint.mac {
            lines.push(format!("{side} MAC: {}", mac(m)));
        }
        if let Some(p) = endpoint.port {
            lines.push(format!("{side} port: {p}"));
        }
    }
    lines.push(format!("Protocol: {}", alert.protocol));
    lines.push(format!("Alert group: {}", alert.group));
    lines.push(format!("Message: {}", alert.message));
    lines.push(format!("Sensor: {}", alert.sensor.name));
    lines.push(format!("Sensor IP: {}", alert.sensor.ip));
    lines.push(format!("Alert ID: {}", alert.event_id()));
    if alert.truncated {
        lines.push("Truncated: yes".to_owned());
    }
    lines.join("\n") + "\n"
}

/// Every attribute of the alert's LEEF payload, per `docs/output-formats.md`.
fn expected_leef(alert: &Alert) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        f.insert(k.to_owned(), v);
    };
    put(
        "header",
        format!(
            "LEEF:1.0|icsfwd|OT Sensor|{}|{}|",
            alert.sensor.version,
            kind_id(alert)
        ),
    );
    put("devTime", leef_time(alert.time_ms));
    put("devTimeFormat", "MMM dd yyyy HH:mm:ss.SSS".into());
    put("sev", severity_number(alert.severity).into());
    put("severity", alert.severity.as_str().into());
    put("engine", alert.engine.as_str().into());
    put("id", alert.event_id().to_string());
    let mut optional = |k: &str, v: &str| {
        if !v.is_empty() {
            f.insert(k.to_owned(), v.to_owned());
        }
    };
    optional("cat", &alert.group);
    optional("title", &alert.title);
    optional("proto", &alert.protocol);
    optional("srcName", &alert.source.name);
    optional("dstName", &alert.destination.name);
    optional("sensor", &alert.sensor.name);
    optional("msg", &alert.message);
    for (endpoint, ip, port, mac_key) in [
        (&alert.source, "src", "srcPort", "srcMAC"),
        (&alert.destination, "dst", "dstPort", "dstMAC"),
    ] {
        f.insert(ip.to_owned(), endpoint.ip.to_string());
        if let Some(p) = endpoint.port {
            f.insert(port.to_owned(), p.to_string());
        }
        if let Some(m) = endpoint.mac {
            f.insert(mac_key.to_owned(), mac(m));
        }
    }
    f.insert("sensorIP".into(), alert.sensor.ip.to_string());
    if alert.truncated {
        f.insert("truncated".into(), "true".into());
    }
    f
}

/// Reads a LEEF payload back: the header up to the fifth `|`, then tab-separated attributes
/// split at their first `=`; unescapes `\\`, `\t`, `\n`, `\r`.
fn parse_leef(payload: &str) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    let mut bars = payload.match_indices('|').map(|(i, _)| i);
    let end = bars.nth(4).expect("a LEEF header of five fields") + 1;
    f.insert("header".to_owned(), payload[..end].to_owned());
    for attribute in payload[end..].split('\t') {
        let (key, value) = attribute.split_once('=').expect("key=value");
        let value = value
            .replace("\\\\", "\u{0}")
            .replace("\\t", "\t")
            .replace("\\n", "\n")
            .replace("\\r", "\r")
            .replace('\u{0}', "\\");
        assert!(f.insert(key.to_owned(), value).is_none(), "{key} twice");
    }
    f
}

#[test]
fn cef_over_tcp_every_alert_arrives_once_and_pycef_reads_exactly_the_fields_sent() {
    let (Some(rsyslogd), Some(python)) = (rsyslogd(), python_with_pycef()) else {
        return;
    };
    let (alerts, messages) = forward("rsyslog-cef", ("tcp", "cef", ALERTS), &rsyslogd);
    let by_id = once_each(&alerts, &messages);

    let dir = scratch("rsyslog-cef-parse");
    let lines: Vec<&str> = by_id.values().copied().collect();
    let file = dir.join("cef.log");
    fs::write(&file, lines.join("\n") + "\n").unwrap();
    let parsed = Command::new(&python)
        .arg(workspace_root().join("tests/syslog/parse_cef.py"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let parsed: Vec<serde_json::Value> = String::from_utf8(parsed.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed.len(), lines.len());
    for ((id, message), fields) in by_id.iter().zip(&parsed) {
        let got: BTreeMap<String, String> = serde_json::from_value(fields.clone())
            .unwrap_or_else(|_| panic!("pycef could not parse {message}: {fields}"));
        assert_eq!(got, expected_cef(&alerts[id]), "{message}");
    }
    drop(fs::remove_dir_all(&dir));
}

#[test]
fn leef_over_tcp_every_alert_arrives_once_with_exactly_the_attributes_sent() {
    let Some(rsyslogd) = rsyslogd() else {
        return;
    };
    let (alerts, messages) = forward("rsyslog-leef", ("tcp", "leef", ALERTS), &rsyslogd);
    for (id, message) in once_each(&alerts, &messages) {
        let payload = &message[message.find("LEEF:").expect("a LEEF payload")..];
        assert_eq!(
            parse_leef(payload),
            expected_leef(&alerts[&id]),
            "{message}"
        );
    }
}

#[test]
fn time_renderings_match_the_documented_samples() {
    assert_eq!(leef_time(1_557_059_334_123), "May 05 2019 12:28:54.123");
    assert_eq!(leef_time(951_782_400_000), "Feb 29 2000 00:00:00.000");
    assert_eq!(rfc3339(1_557_059_334_123), "2019-05-05T12:28:54.123Z");
}

#[test]
fn text_over_udp_every_alert_arrives_once_as_one_datagram_with_exactly_the_text_sent() {
    let Some(rsyslogd) = rsyslogd() else {
        return;
    };
    // Fewer than over TCP: UDP has no flow control, and this proves the framing and the fields,
    // not throughput.
    let (alerts, messages) = forward("rsyslog-udp-text", ("udp", "text", 200), &rsyslogd);
    for (id, message) in once_each(&alerts, &messages) {
        let payload = &message[message.find("] ").expect("structured data") + 2..];
        assert_eq!(payload, expected_text(&alerts[&id]), "{message}");
    }
}

/// The PEM files of a test CA, rsyslogd's certificate and key, and a client certificate and
/// key, all made by the simulator's `TlsMaterial` (keys mode 0600).
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

impl Pki {
    fn write(dir: &Path) -> Pki {
        let dir = dir.join("pki");
        fs::create_dir_all(&dir).unwrap();
        let material = TlsMaterial::generate_with_client::<&str>(&[], "icsfwd-client").unwrap();
        let pki = Pki {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("rsyslog.pem"),
            server_key: dir.join("rsyslog.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        };
        material.write_ca(&pki.ca).unwrap();
        material
            .write_server_identity(&pki.server_cert, &pki.server_key)
            .unwrap();
        material
            .write_client_identity(&pki.client_cert, &pki.client_key)
            .unwrap();
        pki
    }

    /// The destination `rsyslog` over TLS to `port`, verified against the CA, with the client
    /// certificate when `client` is true.
    fn destination(&self, port: u16, client: bool) -> String {
        let client = if client {
            format!(
                "client_cert = \"{}\"\nclient_key = \"{}\"\n",
                self.client_cert.display(),
                self.client_key.display()
            )
        } else {
            String::new()
        };
        format!(
            "[[destination]]\nname = \"rsyslog\"\nkind = \"syslog\"\nhost = \"localhost\"\n\
             port = {port}\ntransport = \"tls\"\npayload = \"cef\"\nca_file = \"{ca}\"\n{client}\
             retry_min = \"100ms\"\nretry_max = \"1s\"\n\n{rule}",
            ca = self.ca.display(),
            rule = alerts_to("rsyslog"),
        )
    }
}

/// `icsfwd test rsyslog`: exit success and stdout.
fn probe(config: &Path) -> (bool, String) {
    let output = icsfwd(&["test", "rsyslog", "-c", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("icsfwd test rsyslog:\n{stdout}");
    for word in ["HTTP", "Splunk", "HEC"] {
        assert!(
            !stdout.contains(word),
            "{word} in `icsfwd test` of syslog:\n{stdout}"
        );
    }
    (output.status.success(), stdout)
}

#[test]
fn a_tls_receiver_requiring_client_certificates_parks_a_destination_without_one_and_after_the_fix_every_alert_arrives_once()
 {
    let Some(rsyslogd) = rsyslogd() else {
        return;
    };
    if !rsyslog_tls_driver() {
        return;
    }
    const COUNT: usize = 200;
    let dir = scratch("rsyslog-tls-client-cert");
    let pki = Pki::write(&dir);
    let rsyslog = Rsyslog::start_with(
        &rsyslogd,
        &dir,
        "tests/syslog/rsyslog-tls.conf.in",
        &[
            ("@CA@", &pki.ca),
            ("@CERT@", &pki.server_cert),
            ("@KEY@", &pki.server_key),
        ],
    );
    let mut shown = Shown::default();

    // Without a client certificate: the receiver refuses every session.
    let config = write_config_body(&dir, &pki.destination(rsyslog.tcp_port, false));
    let (ok, stdout) = probe(&config);
    assert!(!ok, "`icsfwd test` must fail:\n{stdout}");
    assert!(stdout.contains("refused the TLS session"), "{stdout}");
    assert!(stdout.contains("certificate_required"), "{stdout}");
    assert!(
        stdout.contains("fix: set client_cert and client_key"),
        "{stdout}"
    );
    assert!(
        stdout.contains("tls: no client certificate (client_cert not set)"),
        "{stdout}"
    );
    let service = start_service(&config, &dir);
    let events = generated_alerts(COUNT, 5);
    let mut alerts = BTreeMap::new();
    for (_, event) in &events {
        if let Event::Alert(alert) = event {
            alerts.insert(alert.event_id().to_string(), alert.clone());
        }
    }
    let tally = feed_all(&dir, events);
    assert_eq!(tally.accepted as usize, COUNT, "{tally:?}");
    let status = wait_for_destination(
        &mut shown,
        &config,
        "rsyslog",
        "the destination to park",
        Duration::from_secs(30),
        |d| d["state"] == "parked" && d["backlog"] == COUNT,
    );
    let parked = destination(&status, "rsyslog");
    let reason = parked["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("refused the TLS session")
            && reason.contains("set client_cert and client_key"),
        "{parked:#}"
    );
    assert_eq!(
        parked["delivered"], 0,
        "nothing marked delivered: {parked:#}"
    );
    assert_eq!(parked["possible_loss"], 0, "{parked:#}");
    assert_eq!(parked["acks_pending"], 0, "{parked:#}");
    let text = shown.status_text(&config);
    assert!(text.contains("rsyslog (syslog): parked"), "{text}");
    assert!(text.contains("set client_cert and client_key"), "{text}");
    assert!(
        rsyslog.messages("tcp").is_empty(),
        "rsyslogd wrote a message"
    );
    assert!(
        rsyslog
            .own_messages()
            .contains("peer did not return a certificate"),
        "rsyslogd's reason: {}",
        rsyslog.own_messages()
    );
    let (exit, log) = service.stop();
    assert!(exit.success(), "icsfwd exited with {exit}: {log:#?}");

    // With it: the test passes, and every alert kept in the spool arrives exactly once.
    let config = write_config_body(&dir, &pki.destination(rsyslog.tcp_port, true));
    let (ok, stdout) = probe(&config);
    assert!(ok, "`icsfwd test` must pass:\n{stdout}");
    assert!(
        stdout.contains("the receiver accepted the session (it sent a session ticket)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("confirmation: the receiver's TCP acknowledgement"),
        "{stdout}"
    );
    assert!(stdout.contains("result: delivered"), "{stdout}");
    let service = start_service(&config, &dir);
    let alert_messages = || -> Vec<String> {
        rsyslog
            .messages("tcp")
            .into_iter()
            .filter(|m| !m.contains(TEST_TITLE))
            .collect()
    };
    wait_for(
        "rsyslogd to write every alert",
        Duration::from_secs(30),
        || alert_messages().len() >= COUNT,
    );
    wait_for_destination(
        &mut shown,
        &config,
        "rsyslog",
        "every alert confirmed",
        Duration::from_secs(30),
        |d| d["delivered"] == COUNT && d["backlog"] == 0,
    );
    let (exit, log) = service.stop();
    assert!(exit.success(), "icsfwd exited with {exit}: {log:#?}");
    let messages = alert_messages();
    once_each(&alerts, &messages);
    let tests = rsyslog.messages("tcp").len() - messages.len();
    assert_eq!(tests, 1, "the one test message of `icsfwd test`");
    drop(rsyslog);
    drop(fs::remove_dir_all(&dir));
}
