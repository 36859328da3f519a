//! Syslog over RELP against a real receiver: Debian's `rsyslogd` with `imrelp` (package
//! `rsyslog-relp`), started here without privileges on 127.0.0.1 with the repository's config
//! (`tests/syslog/rsyslog-relp.conf.in`), which writes every message it receives to a file,
//! one per line, before it answers.
//!
//! The real `icsfwd run` binary forwards generated alerts (the mixed scenario) with
//! `transport = "relp"` or `"relp-tls"`; the tests prove that
//!
//! - every alert arrives exactly once (its event id in the RFC 5424 structured data), nothing
//!   else arrives, and the service reports each delivered with no possible duplicate;
//! - over TLS, verified against the test CA, the same holds;
//! - 10,000 alerts with the receiver killed (`kill -9`) and restarted twice mid-stream: none is
//!   lost, and the copies rsyslogd wrote beyond one per alert are at most the service's
//!   `possible_duplicates` (every duplicate counted).
//!
//! Without `rsyslogd` and `imrelp` (which `scripts/test-all.sh` installs), a test prints a loud
//! SKIPPED and passes, unless `ICSFWD_REQUIRE_ALL=1`, then it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use e2e::rsyslog::{
    find_rsyslogd, free_tcp_port, generated_alerts, skipped, spawn, stop, write_config,
};
use e2e::{alerts_to, destination, feed_all, scratch, start_service, wait_for, write_config_body};
use icsfwd_core::format::syslog;
use icsfwd_sim::splunk::tls::TlsMaterial;

/// The `rsyslogd` executable, if it is installed with its RELP input module.
fn rsyslogd_with_imrelp() -> Option<PathBuf> {
    let found = find_rsyslogd();
    let imrelp = [
        "/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so",
        "/usr/lib/aarch64-linux-gnu/rsyslog/imrelp.so",
        "/usr/lib/rsyslog/imrelp.so",
    ]
    .iter()
    .any(|p| Path::new(p).exists());
    if found.is_none() || !imrelp {
        skipped(
            "rsyslogd with imrelp",
            "apt-get install rsyslog rsyslog-relp (scripts/test-all.sh does)",
        );
        return None;
    }
    found
}

/// `rsyslogd -n` on `tests/syslog/rsyslog-relp.conf.in`; killed (`kill -9`) and restarted at
/// will, on the same ports and output file.
struct Rsyslog {
    binary: PathBuf,
    child: Option<Child>,
    dir: PathBuf,
    relp_port: u16,
    tls_port: u16,
    /// Syslog over TCP and TLS (imtcp), for the throughput comparison.
    plain_ports: (u16, u16),
}

impl Rsyslog {
    fn start(binary: &Path, dir: &Path) -> Rsyslog {
        let dir = dir.join("rsyslog");
        fs::create_dir_all(dir.join("work")).unwrap();
        // The receiver's certificate, and the client's (imrelp asks for one), each from its
        // own CA.
        let server = TlsMaterial::generate::<&str>(&[]).unwrap();
        server.write_ca(&dir.join("ca.pem")).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        server.write_server_pem(&cert, &key).unwrap();
        let client = TlsMaterial::generate::<&str>(&[]).unwrap();
        let client_ca = dir.join("client-ca.pem");
        client.write_ca(&client_ca).unwrap();
        client
            .write_server_pem(&dir.join("client-cert.pem"), &dir.join("client-key.pem"))
            .unwrap();
        let (relp_port, tls_port) = (free_tcp_port(), free_tcp_port());
        let plain_ports = (free_tcp_port(), free_tcp_port());
        // Room for the largest message icsfwd renders, rounded up to whole KiB.
        let max_data = (syslog::MAX_LEN / 1024 + 1) * 1024;
        write_config(
            &dir,
            "tests/syslog/rsyslog-relp.conf.in",
            &[
                ("@DIR@", dir.to_str().unwrap().to_owned()),
                ("@RELP_PORT@", relp_port.to_string()),
                ("@RELP_TLS_PORT@", tls_port.to_string()),
                ("@TCP_PORT@", plain_ports.0.to_string()),
                ("@TLS_PORT@", plain_ports.1.to_string()),
                ("@MAX_DATA@", max_data.to_string()),
                ("@IO_BUFFER@", (2 * max_data).to_string()),
                ("@CLIENT_CA@", client_ca.to_str().unwrap().to_owned()),
                ("@CERT@", cert.to_str().unwrap().to_owned()),
                ("@KEY@", key.to_str().unwrap().to_owned()),
            ],
        );
        let mut rsyslog = Rsyslog {
            binary: binary.to_owned(),
            child: None,
            dir,
            relp_port,
            tls_port,
            plain_ports,
        };
        rsyslog.spawn();
        rsyslog
    }

    fn spawn(&mut self) {
        let ports = [self.relp_port, self.tls_port];
        self.child = Some(spawn(&self.binary, &self.dir, Stdio::null(), &ports));
    }

    /// SIGKILL: no `serverclose`, no flush; the connections are reset by the kernel.
    fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// The TLS keys of a destination verifying this receiver and presenting the client
    /// certificate it trusts.
    fn tls_keys(&self) -> String {
        format!(
            "ca_file = \"{}\"\nclient_cert = \"{}\"\nclient_key = \"{}\"\n",
            self.dir.join("ca.pem").display(),
            self.dir.join("client-cert.pem").display(),
            self.dir.join("client-key.pem").display()
        )
    }

    /// Every line of the output file so far.
    fn lines(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("messages.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            stop(child);
        }
    }
}

/// Where RFC 5424 headers (`<PRI>1 `) start in `line`.
fn header_starts(line: &str) -> Vec<usize> {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .filter(|&at| {
            let digits = bytes[at + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            bytes[at] == b'<'
                && (1..=3).contains(&digits)
                && bytes[at + 1 + digits..].starts_with(b">1 ")
        })
        .collect()
}

/// The event ids of the whole alert messages in `lines`, and how many torn ones there were: a
/// kill -9 between two writes of one message leaves its start on a line that the next message
/// (written after the restart) continues; only the last message of a line is whole.
fn ids_and_torn(lines: &[String]) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut torn = 0;
    for line in lines {
        let starts = header_starts(line);
        let Some(&last) = starts.last() else {
            torn += 1;
            continue;
        };
        torn += starts.len() - 1 + usize::from(starts[0] != 0);
        let message = &line[last..];
        match sd_id(message) {
            Some(id) => ids.push(id.to_owned()),
            None => torn += 1,
        }
    }
    (ids, torn)
}

/// The `id` PARAM of a whole RFC 5424 alert message.
fn sd_id(message: &str) -> Option<&str> {
    let mut fields = message.splitn(4, ' ');
    let (_, _, _, rest) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let sd = rest.strip_prefix("icsfwd - alert [icsfwd@32473 ")?;
    let start = sd.find("id=\"")? + 4;
    let len = sd[start..].find('"')?;
    Some(&sd[start..start + len])
}

/// A syslog destination named `rsyslog` over `transport` to `port`, every alert to it.
fn config_body(transport: &str, port: u16, extra: &str) -> String {
    format!(
        "[[destination]]\nname = \"rsyslog\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\n\
         port = {port}\ntransport = \"{transport}\"\npayload = \"cef\"\nretry_min = \"100ms\"\n\
         retry_max = \"1s\"\nresponse_timeout = \"5s\"\n{extra}\n{rule}",
        rule = alerts_to("rsyslog"),
    )
}

/// Forwards `count` alerts over `transport` and checks they arrived exactly once each.
fn exactly_once(test: &str, transport: &str, count: usize) {
    let Some(binary) = rsyslogd_with_imrelp() else {
        return;
    };
    let dir = scratch(test);
    let rsyslog = Rsyslog::start(&binary, &dir);
    let (port, extra) = if transport == "relp-tls" {
        (rsyslog.tls_port, rsyslog.tls_keys())
    } else {
        (rsyslog.relp_port, String::new())
    };
    let config = write_config_body(&dir, &config_body(transport, port, &extra));
    let service = start_service(&config, &dir);
    let alerts = generated_alerts(count, 7);
    let sent = e2e::ids_of(&alerts);
    let tally = feed_all(&dir, alerts);
    assert_eq!(tally.accepted as usize, count, "{tally:?}");
    wait_for(
        "rsyslogd to write every alert",
        Duration::from_secs(60),
        || rsyslog.lines().len() >= count,
    );
    let status = e2e::wait_for_status(
        "every alert confirmed",
        &config,
        Duration::from_secs(30),
        |s| destination(s, "rsyslog")["delivered"].as_u64() == Some(count as u64),
    );
    let (exit, log) = service.stop();
    assert!(exit.success(), "icsfwd exited with {exit}: {log:#?}");
    let (ids, torn) = ids_and_torn(&rsyslog.lines());
    assert_eq!(torn, 0, "lines that are not one whole alert message");
    let mut seen = BTreeSet::new();
    for id in ids {
        assert!(sent.contains(&id), "a message for no alert sent: {id}");
        assert!(seen.insert(id.clone()), "received twice: {id}");
    }
    assert_eq!(seen.len(), count, "alerts missing at the receiver");
    let d = destination(&status, "rsyslog");
    assert_eq!(d["possible_duplicates"], 0, "{d}");
    assert_eq!(d["dead_lettered"], 0, "{d}");
    assert!(
        log.iter()
            .any(|l| l.contains("RELP session to 127.0.0.1:")
                && l.contains(" open (receiver librelp")),
        "the session start is logged: {log:#?}"
    );
    drop(rsyslog);
    drop(fs::remove_dir_all(&dir));
}

#[test]
fn alerts_over_relp_arrive_exactly_once_each() {
    exactly_once("relp-once", "relp", 1_000);
}

#[test]
fn alerts_over_relp_tls_arrive_exactly_once_each_with_the_receiver_verified() {
    exactly_once("relp-tls-once", "relp-tls", 300);
}

/// How many alerts the kill test forwards, and after how many written copies each kill comes.
const KILLED_ALERTS: usize = 10_000;
const KILL_AT: [usize; 2] = [3_000, 6_500];

#[test]
fn ten_thousand_alerts_survive_two_receiver_kills_with_every_duplicate_counted() {
    let Some(binary) = rsyslogd_with_imrelp() else {
        return;
    };
    let started = Instant::now();
    let dir = scratch("relp-kill");
    let mut rsyslog = Rsyslog::start(&binary, &dir);
    let config = write_config_body(&dir, &config_body("relp", rsyslog.relp_port, ""));
    let service = start_service(&config, &dir);
    let alerts = generated_alerts(KILLED_ALERTS, 7);
    let sent = e2e::ids_of(&alerts);
    let feeder = {
        let dir = dir.to_path_buf();
        std::thread::spawn(move || feed_all(&dir, alerts))
    };
    let mut written_at_kill = Vec::new();
    for at in KILL_AT {
        wait_for(
            "rsyslogd to write more alerts",
            Duration::from_secs(60),
            || rsyslog.lines().len() >= at,
        );
        rsyslog.kill_9();
        written_at_kill.push(rsyslog.lines().len());
        // Down long enough for the sender to find the session broken and retry.
        std::thread::sleep(Duration::from_millis(300));
        rsyslog.spawn();
    }
    let tally = feeder.join().unwrap();
    assert_eq!(tally.accepted as usize, KILLED_ALERTS, "{tally:?}");
    let distinct =
        |lines: &[String]| -> BTreeSet<String> { ids_and_torn(lines).0.into_iter().collect() };
    wait_for(
        "every alert at the receiver",
        Duration::from_secs(60),
        || distinct(&rsyslog.lines()).len() >= KILLED_ALERTS,
    );
    let status = e2e::wait_for_status(
        "every alert confirmed",
        &config,
        Duration::from_secs(30),
        |s| destination(s, "rsyslog")["delivered"].as_u64() >= Some(KILLED_ALERTS as u64),
    );
    let (exit, log) = service.stop();
    assert!(exit.success(), "icsfwd exited with {exit}: {log:#?}");

    let (ids, torn) = ids_and_torn(&rsyslog.lines());
    let copies: BTreeMap<String, u64> = e2e::counted(&ids);
    let unknown: Vec<&String> = copies.keys().filter(|id| !sent.contains(*id)).collect();
    assert!(
        unknown.is_empty(),
        "messages for no alert sent: {unknown:?}"
    );
    let lost: Vec<&String> = sent.iter().filter(|id| !copies.contains_key(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} alerts lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    let duplicates = ids.len() as u64 - copies.len() as u64;
    let d = destination(&status, "rsyslog");
    let counted = d["possible_duplicates"].as_u64().unwrap();
    assert!(
        duplicates <= counted,
        "{duplicates} duplicates written, only {counted} counted as possible: {d}"
    );
    assert!(
        torn <= KILL_AT.len(),
        "{torn} torn lines for {} kills",
        KILL_AT.len()
    );
    assert!(
        written_at_kill.iter().all(|&n| n < KILLED_ALERTS),
        "a kill came after the stream ended: {written_at_kill:?}"
    );
    assert!(
        log.iter()
            .filter(|l| l.contains("RELP session to")
                && (l.contains(" broke: ") || l.contains(" ended: ")))
            .count()
            >= KILL_AT.len(),
        "each kill is seen as a broken session: {log:#?}"
    );
    let _ = writeln!(
        std::io::stderr(),
        "relp kill test: {KILLED_ALERTS} alerts, kills after {written_at_kill:?} written, \
         0 lost, {duplicates} duplicates written, {counted} counted as possible duplicates, \
         {torn} torn lines, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(rsyslog);
    drop(fs::remove_dir_all(&dir));
}

#[test]
fn icsfwd_test_confirms_by_relp_receipt_and_names_a_missing_client_certificate() {
    let Some(binary) = rsyslogd_with_imrelp() else {
        return;
    };
    let dir = scratch("relp-probe");
    let rsyslog = Rsyslog::start(&binary, &dir);
    let probe = |body: String| {
        let config = write_config_body(&dir, &body);
        let output = e2e::icsfwd(&["test", "rsyslog", "-c", config.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code(), text)
    };

    let (code, text) = probe(config_body("relp", rsyslog.relp_port, ""));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("over relp\n"), "{text}");
    assert!(text.contains("RELP receipt: rsp 200 after "), "{text}");
    let (ids, _) = ids_and_torn(&rsyslog.lines());
    assert_eq!(ids.len(), 1, "the test alert arrived: {ids:?}");

    // Verified server, but no client certificate: imrelp closes the session at the open.
    let ca_only = format!("ca_file = \"{}\"\n", rsyslog.dir.join("ca.pem").display());
    let (code, text) = probe(config_body("relp-tls", rsyslog.tls_port, &ca_only));
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains("result: FAILED: RELP receiver 127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains("fix: the RELP receiver closed the TLS session"),
        "{text}"
    );
    drop(rsyslog);
    drop(fs::remove_dir_all(&dir));
}

/// Alerts/s from the first alert fed to the last one written by rsyslogd, through `transport`.
fn measured_rate(binary: &Path, transport: &str, count: usize) -> f64 {
    let dir = scratch(&format!("relp-rate-{transport}"));
    let rsyslog = Rsyslog::start(binary, &dir);
    let (port, keys) = match transport {
        "tcp" => (rsyslog.plain_ports.0, String::new()),
        "tls" => (
            rsyslog.plain_ports.1,
            format!("ca_file = \"{}\"\n", rsyslog.dir.join("ca.pem").display()),
        ),
        "relp" => (rsyslog.relp_port, String::new()),
        _ => (rsyslog.tls_port, rsyslog.tls_keys()),
    };
    let config = write_config_body(&dir, &config_body(transport, port, &keys));
    let service = start_service(&config, &dir);
    let alerts = generated_alerts(count, 7);
    let started = Instant::now();
    let tally = feed_all(&dir, alerts);
    assert_eq!(tally.accepted as usize, count, "{tally:?}");
    wait_for(
        "rsyslogd to write every alert",
        Duration::from_secs(600),
        || rsyslog.lines().len() >= count,
    );
    let rate = count as f64 / started.elapsed().as_secs_f64();
    let (exit, log) = service.stop();
    assert!(exit.success(), "icsfwd exited with {exit}: {log:#?}");
    drop(rsyslog);
    drop(fs::remove_dir_all(&dir));
    rate
}

/// docs/BENCHMARKS.md: `cargo test --release -p icsfwd --test e2e relp:: -- --ignored --nocapture`
/// (`ICSFWD_RELP_BENCH_ALERTS`, default 20,000 per run; `ICSFWD_RELP_BENCH_REPEATS`, default 3
/// runs per transport, interleaved, so a burst of load elsewhere on the machine hits every
/// transport alike; the median and the best are shown).
#[test]
#[ignore = "a measurement for docs/BENCHMARKS.md, run in release"]
fn throughput_to_rsyslogd_over_tcp_tls_relp_and_relp_tls() {
    let Some(binary) = rsyslogd_with_imrelp() else {
        return;
    };
    let count = usize::try_from(e2e::env_or("ICSFWD_RELP_BENCH_ALERTS", 20_000)).unwrap();
    let repeats = e2e::env_or("ICSFWD_RELP_BENCH_REPEATS", 3).max(1);
    let transports = ["tcp", "tls", "relp", "relp-tls"];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); transports.len()];
    for _ in 0..repeats {
        for (transport, rates) in transports.iter().zip(&mut rates) {
            rates.push(measured_rate(&binary, transport, count));
        }
    }
    let mut table = String::from(
        "| transport | alerts per run | runs | alerts/s median | alerts/s best |\n| --- | --- | --- | --- | --- |\n",
    );
    for (transport, mut rates) in transports.iter().zip(rates) {
        rates.sort_by(f64::total_cmp);
        let (median, best) = (rates[rates.len() / 2], rates[rates.len() - 1]);
        table.push_str(&format!(
            "| {transport} | {count} | {repeats} | {median:.0} | {best:.0} |\n"
        ));
    }
    let _ = writeln!(std::io::stderr(), "{table}");
}
