//! `icsfwd-sim demo`: the newcomer's demo, everything in one process.
//!
//! What it is: [`run`] starts the Splunk emulator over TLS (a CA generated for the run), writes
//! a demo configuration into a fresh temporary directory, runs the forwarder
//! ([`icsfwd::service::run`]) on a thread, sends the generator's `mixed` scenario through the
//! forwarder's ingest socket, shows progress while it runs, waits until every destination's
//! backlog is 0, and then prints what "Splunk" received ([`Summary::render`]): counts per
//! destination, counts by engine, severity, protocol and sensor, one event in each format, and
//! the forwarder's own status. It then stops the forwarder and the emulator and removes the
//! directory (unless [`DemoOptions::keep`]).
//!
//! The demo configuration (four destinations, four rules):
//!
//! | destination | kind | Splunk side | rule |
//! |---|---|---|---|
//! | `soc-hec` | HEC, acks on | token with `useACK`, index `main` | every alert, system notifications and health reports (one per destination at start) |
//! | `ot-hec` | HEC, no acks | token without `useACK`, index `ot` | engines `malware` and `anomaly` |
//! | `soc-splunkd` | splunkd REST | user `icsfwd` (Basic), index `ot` | severity `major` and above |
//! | `siem-syslog` | syslog over TLS, CEF | the emulator's syslog receiver | severity `critical` |
//!
//! What it guarantees:
//! - Everything listens on 127.0.0.1 only, on ephemeral ports; TLS is verified against the
//!   run's CA (nothing is configured with `verify = false`).
//! - The temporary directory is mode 0700 and the configuration (which holds the demo's
//!   secrets inline) mode 0600; the secrets are never printed.
//! - Every wait has a deadline ([`DemoOptions::deadline`]): the demo ends with an error rather
//!   than hanging, and tears everything down on every path.
//! - The summary is computed from what the emulator stored, not from what was sent, so it
//!   shows what actually arrived.
//! - Syslog has no acknowledgement: after the backlogs reach 0 the demo also waits until the
//!   emulator's syslog receiver has stored as many messages as the forwarder counts delivered,
//!   so the summary never races the receiver.
//!
//! ```no_run
//! use icsfwd_sim::demo::{self, DemoOptions};
//!
//! let summary = demo::run(&DemoOptions { count: 300, ..DemoOptions::default() },
//!     &mut std::io::sink())?;
//! print!("{}", summary.render());
//! assert_eq!(summary.backlog, 0);
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, bail};
use icsfwd::clock::now_ms;
use icsfwd::config::Config;
use icsfwd::service::{self, ServiceError, Stop, StopReport};
use icsfwd::status::{self, Snapshot};
use icsfwd_core::alert::Severity;
use icsfwd_core::rule::{Engines, Protocols, Rule};

use crate::feed::{self, Options, Tally, Target};
use crate::scenario::{Params, Scenario};
use crate::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator, Transport};
use crate::splunk::hec::Token;
use crate::splunk::splunkd::User;
use crate::splunk::store::{Body, Filter, ReceiverKind, Stored};
use crate::splunk::tls::TlsMaterial;

/// The largest `--count` (three destinations must fit the emulator's store).
pub const MAX_COUNT: u64 = 20_000;

/// The HEC destination with acks: every alert and the system notifications.
pub const SOC_HEC: &str = "soc-hec";
/// The HEC destination without acks: malware and anomaly alerts.
pub const OT_HEC: &str = "ot-hec";
/// The splunkd REST destination: major and critical alerts.
pub const SOC_SPLUNKD: &str = "soc-splunkd";
/// The syslog destination (RFC 5425 TLS, CEF payload): critical alerts.
pub const SIEM_SYSLOG: &str = "siem-syslog";

/// The index `soc-hec` writes to (each destination has its own index or endpoint, so the
/// summary can tell them apart in the one store).
const SOC_HEC_INDEX: &str = "main";
const OT_INDEX: &str = "ot";

// Demo secrets: loopback only, for one run, in a 0600 file; never printed.
const ACK_TOKEN: &str = "5d0c9b1e-7a4f-4c2d-8e6b-3f1a2c4d5e6f";
const PLAIN_TOKEN: &str = "c7e1a2b3-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
const USER: &str = "icsfwd";
const PASSWORD: &str = "demo-pw-9f3K!x";

/// How the demo runs.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Events of the `mixed` scenario to send (1..=[`MAX_COUNT`]).
    pub count: u64,
    /// The scenario's seed: the same seed sends the same events.
    pub seed: u64,
    /// Time of the first event, epoch milliseconds (`None`: now).
    pub start_ms: Option<u64>,
    /// Keep the temporary directory (config, CA, spool) and print its path.
    pub keep: bool,
    /// Longest time for the whole run; past it the demo stops with an error.
    pub deadline: Duration,
}

impl Default for DemoOptions {
    /// 3,000 events, seed 1, starting now, directory removed, 100 s deadline.
    fn default() -> DemoOptions {
        DemoOptions {
            count: 3_000,
            seed: 1,
            start_ms: None,
            keep: false,
            deadline: Duration::from_secs(100),
        }
    }
}

/// What a destination received, as the emulator stored it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Received {
    /// Alerts.
    pub alerts: u64,
    /// System notifications.
    pub notifications: u64,
}

/// What the demo sent and what "Splunk" received.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// The seed of the scenario.
    pub seed: u64,
    /// The start time of the scenario.
    pub start_ms: u64,
    /// The sender's tally.
    pub sent: u64,
    /// Lines the forwarder answered `accepted`.
    pub accepted: u64,
    /// Lines answered `not forwarded` (no rule took them).
    pub not_forwarded: u64,
    /// Lines refused.
    pub refused: u64,
    /// Per destination name, what arrived.
    pub received: BTreeMap<String, Received>,
    /// The forwarding rules of the run's configuration, one line each.
    pub rules: Vec<String>,
    /// Per destination name, the exactly-once check of what arrived against what the rules
    /// route there (empty when the run did not check).
    pub deliveries: BTreeMap<String, Delivery>,
    /// `soc-hec`'s alerts by engine.
    pub by_engine: BTreeMap<String, u64>,
    /// `soc-hec`'s alerts by severity.
    pub by_severity: BTreeMap<String, u64>,
    /// `soc-hec`'s alerts by protocol.
    pub by_protocol: BTreeMap<String, u64>,
    /// `soc-hec`'s alerts by sensor.
    pub by_sensor: BTreeMap<String, u64>,
    /// One HEC event as stored (JSON line), if any arrived.
    pub hec_example: Option<String>,
    /// One splunkd event's text, if any arrived.
    pub splunkd_example: Option<String>,
    /// One syslog message (RFC 5424 header, CEF payload), if any arrived.
    pub syslog_example: Option<String>,
    /// The forwarder's status, rendered.
    pub status: String,
    /// The sum of the destinations' backlogs at the end (0 when all was delivered).
    pub backlog: u64,
    /// Where the files are, when kept.
    pub kept: Option<PathBuf>,
}

/// One destination's exactly-once check: every scenario event its rules route there must have
/// arrived once, nothing twice, nothing else but the forwarder's own notifications.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivery {
    /// Scenario events the rules route to this destination.
    pub expected: u64,
    /// Of those, how many arrived exactly once.
    pub once: u64,
    /// The forwarder's own system notifications that arrived (its sensor's, not the scenario's).
    pub own: u64,
    /// Event ids routed here that did not arrive.
    pub missing: Vec<String>,
    /// Event ids that arrived more than once.
    pub duplicated: Vec<String>,
    /// Event ids that arrived here but the rules do not route here.
    pub unexpected: Vec<String>,
}

impl Delivery {
    /// Whether every routed event arrived exactly once and nothing else did.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        self.once == self.expected
            && self.missing.is_empty()
            && self.duplicated.is_empty()
            && self.unexpected.is_empty()
    }
}

/// The event id (`<sensor>-<id>`) a stored record carries: HEC's `id` member, the text
/// format's `Alert ID:` line, CEF's `externalId`.
fn event_id_of(record: &Stored) -> Option<String> {
    match (&record.body, record.receiver) {
        (Body::Json(event), _) => event.get("id")?.as_str().map(str::to_owned),
        (Body::Text(text), ReceiverKind::Syslog) => {
            let rest = text.split_once(" externalId=")?.1;
            Some(rest.split(' ').next().unwrap_or(rest).to_owned())
        }
        (Body::Text(text), _) => text
            .lines()
            .find_map(|l| l.strip_prefix("Alert ID: "))
            .map(str::to_owned),
    }
}

/// Checks what each destination received (`records`, the emulator's store) against the event
/// ids the rules route to it (`expected`). A record of `own_sensor` (the forwarder's own
/// notifications) is counted apart, and must arrive once too.
#[must_use]
pub fn check_deliveries(
    expected: &BTreeMap<String, BTreeSet<String>>,
    records: &[Stored],
    own_sensor: &str,
) -> BTreeMap<String, Delivery> {
    let mut arrived: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for record in records {
        if let (Some(name), Some(id)) = (destination_of(record), event_id_of(record)) {
            *arrived.entry(name).or_default().entry(id).or_insert(0) += 1;
        }
    }
    let own_prefix = format!("{own_sensor}-");
    let mut checks = BTreeMap::new();
    for (name, routed) in expected {
        let got = arrived.remove(name.as_str()).unwrap_or_default();
        let mut check = Delivery {
            expected: u64::try_from(routed.len()).unwrap_or(u64::MAX),
            ..Delivery::default()
        };
        for id in routed {
            match got.get(id) {
                None => check.missing.push(id.clone()),
                Some(1) => check.once += 1,
                Some(_) => {}
            }
        }
        for (id, count) in got {
            if count > 1 {
                check.duplicated.push(id.clone());
            }
            if !routed.contains(&id) {
                if id.starts_with(&own_prefix) {
                    check.own += 1;
                } else {
                    check.unexpected.push(id);
                }
            }
        }
        checks.insert(name.clone(), check);
    }
    checks
}

/// The event ids the rules route to each destination, for the events of `params`.
fn routed_ids(
    config: &Config,
    params: &Params,
) -> anyhow::Result<BTreeMap<String, BTreeSet<String>>> {
    let mut routed: BTreeMap<String, BTreeSet<String>> = config
        .destinations
        .iter()
        .map(|d| (d.name.clone(), BTreeSet::new()))
        .collect();
    let now = now_ms();
    for (_, event) in Scenario::Mixed
        .events(params)
        .map_err(|e| anyhow!("scenario: {e}"))?
    {
        let set = config.rules.route(&event, now);
        for d in config.destinations.iter().filter(|d| set.contains(d.id)) {
            if let Some(ids) = routed.get_mut(&d.name) {
                ids.insert(event.event_id().to_string());
            }
        }
    }
    Ok(routed)
}

/// One line per rule of `config`: its name, what it takes, where it sends it.
fn describe_rules(config: &Config) -> Vec<String> {
    config
        .rules
        .rules()
        .iter()
        .map(|rule| {
            let targets: Vec<&str> = config
                .destinations
                .iter()
                .filter(|d| rule.actions.contains(d.id))
                .map(|d| d.name.as_str())
                .collect();
            format!(
                "\"{}\": {} -> {}",
                rule.name.as_str(),
                takes(rule),
                targets.join(", ")
            )
        })
        .collect()
}

/// What a rule takes, in words: `alerts of severity Major and up from engines Malware,
/// Anomaly`, `... and system notifications`.
fn takes(rule: &Rule) -> String {
    let mut parts = Vec::new();
    if rule.forward_alerts {
        let mut alerts = String::from("alerts");
        let mut conditions = Vec::new();
        if rule.min_severity != Severity::Warning {
            conditions.push(format!("of severity {} and up", rule.min_severity.as_str()));
        }
        if let Engines::Specific(engines) = rule.engines {
            conditions.push(format!("from engines {engines}"));
        }
        if let Protocols::Specific(protocols) = &rule.protocols {
            let names: Vec<&str> = protocols.iter().map(|p| p.as_str()).collect();
            conditions.push(format!("over {}", names.join(", ")));
        }
        if conditions.is_empty() {
            alerts.insert_str(0, "all ");
        } else {
            alerts.push(' ');
            alerts.push_str(&conditions.join(" "));
        }
        parts.push(alerts);
    }
    if rule.forward_notifications {
        parts.push("system notifications".to_owned());
    }
    if rule.forward_health {
        parts.push("health reports".to_owned());
    }
    match parts.split_last() {
        None => "nothing".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// What the demo says, once, when a destination waits for indexer acknowledgements: why its
/// backlog stays whole for a few seconds.
fn ack_note(snapshot: &Snapshot) -> Option<String> {
    let waiting = snapshot
        .destinations
        .iter()
        .find(|d| d.acks_pending > 0 && d.backlog > 0)?;
    Some(format!(
        "demo: {} uses indexer acknowledgement (ack = true): an event counts as delivered only \
         once Splunk says it is indexed, and the forwarder asks about every second here, so its \
         backlog stays whole for a few seconds and then falls in steps",
        waiting.name
    ))
}

/// Runs the whole demo, writing progress to `progress` (stderr in the CLI).
///
/// # Errors
///
/// A part could not start (emulator, configuration, forwarder), the sender failed, or the
/// deadline passed before every destination's backlog was 0. Everything started is stopped
/// and the directory removed (unless kept) on every path.
pub fn run(options: &DemoOptions, progress: &mut dyn Write) -> anyhow::Result<Summary> {
    if !(1..=MAX_COUNT).contains(&options.count) {
        bail!(
            "count {} is out of range: give 1 to {MAX_COUNT}",
            options.count
        );
    }
    let dir = temp_dir()?;
    let result = run_in(options, &dir, progress);
    if options.keep {
        writeln!(progress, "demo: kept {}", dir.display())?;
    } else if let Err(e) = fs::remove_dir_all(&dir) {
        writeln!(progress, "demo: removing {}: {e}", dir.display())?;
    }
    let mut summary = result?;
    if options.keep {
        summary.kept = Some(dir);
    }
    Ok(summary)
}

/// A new directory only this user can enter.
fn temp_dir() -> anyhow::Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("icsfwd-demo-{}-{nanos}", std::process::id()));
    DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn emulator_config(tls: &TlsMaterial) -> anyhow::Result<EmulatorConfig> {
    let mut config = EmulatorConfig {
        transport: Transport::Tls(tls.acceptor().map_err(|e| anyhow!("TLS: {e}"))?),
        syslog_port: Some(0),
        ..EmulatorConfig::default()
    };
    let mut ack = Token::new("icsfwd-ack", ACK_TOKEN);
    ack.use_ack = true;
    config.hec.tokens.push(ack);
    config.hec.tokens.push(Token::new("icsfwd", PLAIN_TOKEN));
    config.hec.indexes.push(OT_INDEX.to_owned());
    config.splunkd.users.push(User::new(USER, PASSWORD, true));
    config.splunkd.indexes.push(OT_INDEX.to_owned());
    Ok(config)
}

/// The demo configuration, pointing at the emulator's ports and the run's CA.
fn config_text(dir: &Path, ca: &Path, emulator: &RunningEmulator) -> anyhow::Result<String> {
    let syslog = emulator
        .syslog_addr()
        .ok_or_else(|| anyhow!("the emulator runs no syslog receiver"))?
        .port();
    let ports = Ports {
        hec: emulator.hec_addr().port(),
        splunkd: emulator.splunkd_addr().port(),
        syslog,
    };
    let destinations = destinations_text(&ports, ca);
    let spool = dir.join("spool");
    let socket = dir.join("run").join("ingest.sock");
    Ok(format!(
        r#"# icsfwd demo configuration, written by `icsfwd-sim demo` for one run.
[sensor]
name = "sensor-demo"
ip = "127.0.0.1"

{destinations}[[rule]]
name = "everything to the SOC"
system_notifications = true
health = true
actions = ["{SOC_HEC}"]

[[rule]]
name = "malware and anomalies to the OT team"
engines = ["malware", "anomaly"]
actions = ["{OT_HEC}"]

[[rule]]
name = "major and critical to splunkd"
min_severity = "major"
actions = ["{SOC_SPLUNKD}"]

[[rule]]
name = "critical to the SIEM"
min_severity = "critical"
actions = ["{SIEM_SYSLOG}"]

# The forwarder's health report, one per destination: at start and then every interval (a
# production forwarder wants the default 60s; the demo's run takes one round).
[health]
interval = "10m"

[spool]
dir = "{spool}"
max_bytes = "256 MiB"
segment_bytes = "8 MiB"

[ingest]
socket = "{socket}"
"#,
        spool = spool.display(),
        socket = socket.display(),
    ))
}

/// The emulator's listening ports the demo's destinations point at.
struct Ports {
    hec: u16,
    splunkd: u16,
    syslog: u16,
}

/// The demo's `[[destination]]` tables, one for each kind the emulator receives.
fn destinations_text(ports: &Ports, ca: &Path) -> String {
    let Ports {
        hec,
        splunkd,
        syslog,
    } = ports;
    let ca = ca.display();
    format!(
        r#"# Every alert and the sensor's system notifications, with indexer acknowledgement.
[[destination]]
name = "{SOC_HEC}"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{ACK_TOKEN}"
ack = true
# Acks are polled every half ack_deadline when that is under 10 s: a short deadline keeps the
# demo quick (a production Splunk wants the default 300s).
ack_deadline = "2s"
index = "{SOC_HEC_INDEX}"
ca_file = "{ca}"
batch_max_events = 500
batch_linger = "20ms"
retry_min = "100ms"
retry_max = "2s"

# Malware and anomalies for the OT team: HEC without acks.
[[destination]]
name = "{OT_HEC}"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{PLAIN_TOKEN}"
index = "{OT_INDEX}"
ca_file = "{ca}"
batch_max_events = 500
batch_linger = "20ms"
retry_min = "100ms"
retry_max = "2s"

# Major and critical alerts through the splunkd REST receiver.
[[destination]]
name = "{SOC_SPLUNKD}"
kind = "splunk"
host = "localhost"
port = {splunkd}
username = "{USER}"
password = "{PASSWORD}"
index = "{OT_INDEX}"
ca_file = "{ca}"
retry_min = "100ms"
retry_max = "2s"

# Critical alerts to a SIEM: RFC 5424 syslog over TLS (RFC 5425), CEF payload.
[[destination]]
name = "{SIEM_SYSLOG}"
kind = "syslog"
host = "localhost"
port = {syslog}
transport = "tls"
payload = "cef"
ca_file = "{ca}"
retry_min = "100ms"
retry_max = "2s"

"#
    )
}

/// Writes `text` to a new file of mode 0600.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The forwarder on its thread.
struct Forwarder {
    stop: Stop,
    thread: Option<JoinHandle<Result<StopReport, ServiceError>>>,
}

impl Forwarder {
    fn start(config: Config) -> anyhow::Result<Forwarder> {
        let stop = Stop::new();
        let theirs = stop.clone();
        let thread = std::thread::Builder::new()
            .name("icsfwd-service".to_owned())
            .spawn(move || service::run(&config, &theirs))
            .context("starting the forwarder's thread")?;
        Ok(Forwarder {
            stop,
            thread: Some(thread),
        })
    }

    fn has_ended(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops the forwarder and waits for it.
    fn stop(&mut self) -> anyhow::Result<StopReport> {
        self.stop.trigger();
        let thread = self
            .thread
            .take()
            .ok_or_else(|| anyhow!("the forwarder was already stopped"))?;
        match thread.join() {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(e)) => Err(anyhow!("the forwarder: {e}")),
            Err(_) => Err(anyhow!("the forwarder's thread panicked")),
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        if self.thread.is_some() {
            drop(self.stop());
        }
    }
}

/// Polls `done` every 50 ms until it is true, or fails past `until`.
fn wait_until(
    what: &str,
    until: Instant,
    mut done: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    while !done()? {
        if Instant::now() >= until {
            bail!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn progress_line(tally: Option<&Tally>, snapshot: Option<&Snapshot>) -> String {
    let mut line = String::from("demo:");
    if let Some(tally) = tally {
        let _ = write!(line, " sent {}, accepted {}", tally.sent, tally.accepted);
    }
    if let Some(snapshot) = snapshot {
        if tally.is_none() {
            let _ = write!(line, " accepted {}", snapshot.ingest.accepted);
        }
        for d in &snapshot.destinations {
            let _ = write!(
                line,
                " | {} delivered {} backlog {}",
                d.name, d.delivered, d.backlog
            );
            if d.acks_pending > 0 {
                let _ = write!(line, " ({} awaiting indexer acks)", d.acks_pending);
            }
        }
    }
    line
}

fn run_in(options: &DemoOptions, dir: &Path, progress: &mut dyn Write) -> anyhow::Result<Summary> {
    let until = Instant::now() + options.deadline;
    let tls = TlsMaterial::generate::<&str>(&[]).map_err(|e| anyhow!("TLS: {e}"))?;
    let ca = dir.join("splunk-ca.pem");
    tls.write_ca(&ca)
        .map_err(|e| anyhow!("writing {}: {e}", ca.display()))?;
    let emulator = Emulator::start(emulator_config(&tls)?).context("starting the emulator")?;
    writeln!(
        progress,
        "demo: Splunk emulator on {} (HEC) and {} (splunkd), HTTPS; syslog receiver on {}, TLS",
        emulator.hec_url(),
        emulator.splunkd_url(),
        emulator
            .syslog_addr()
            .map_or_else(|| "-".to_owned(), |addr| addr.to_string())
    )?;
    let result = run_with(options, dir, &ca, &emulator, until, progress);
    emulator.shutdown();
    result
}

fn run_with(
    options: &DemoOptions,
    dir: &Path,
    ca: &Path,
    emulator: &RunningEmulator,
    until: Instant,
    progress: &mut dyn Write,
) -> anyhow::Result<Summary> {
    DirBuilder::new()
        .mode(0o700)
        .create(dir.join("run"))
        .context("creating the socket directory")?;
    let config_path = dir.join("icsfwd.toml");
    write_private(&config_path, &config_text(dir, ca, emulator)?)?;
    let config = Config::load(&config_path).map_err(|e| anyhow!("{e}"))?;
    let rules = describe_rules(&config);
    writeln!(progress, "demo: the forwarding rules:")?;
    for rule in &rules {
        writeln!(progress, "demo:   {rule}")?;
    }
    let own_sensor = config.sensor.name.clone();
    let socket = config.ingest.socket.clone();
    let status_path = status::path_for(&socket);
    let start_ms = options.start_ms.unwrap_or_else(now_ms);
    let params = Params {
        rate: 1_000.0,
        count: options.count,
        seed: options.seed,
        start_ms,
        ..Params::default()
    };
    // The same seeded events, routed here by the same rules: what each destination must get.
    let routed = routed_ids(&config, &params)?;
    let mut forwarder = Forwarder::start(config)?;
    wait_until("the forwarder's ingest socket", until, || {
        if forwarder.has_ended() {
            bail!("the forwarder stopped at start");
        }
        Ok(socket.exists())
    })?;
    writeln!(
        progress,
        "demo: forwarder running, ingest on {}",
        socket.display()
    )?;

    let (tally, ack_explained) = send_scenario(options, &params, &socket, &status_path, progress)?;
    let snapshot =
        wait_until_drained(&status_path, tally.accepted, until, progress, ack_explained)?;
    wait_for_syslog(emulator, &snapshot, until)?;

    let records = emulator.store().list(&Filter::default());
    let mut summary = summarise(&records);
    summary.rules = rules;
    summary.deliveries = check_deliveries(&routed, &records, &own_sensor);
    summary.seed = options.seed;
    summary.start_ms = start_ms;
    summary.sent = tally.sent;
    summary.accepted = tally.accepted;
    summary.not_forwarded = tally.not_forwarded;
    summary.refused = tally.refused;
    summary.status = snapshot.render(now_ms());
    summary.backlog = snapshot.destinations.iter().map(|d| d.backlog).sum();

    let report = forwarder.stop()?;
    if !report.still_running.is_empty() {
        writeln!(
            progress,
            "demo: still sending at stop: {}",
            report.still_running.join(", ")
        )?;
    }
    writeln!(progress, "demo: forwarder stopped")?;
    Ok(summary)
}

/// Sends the scenario of `params` to the ingest `socket`, showing progress every 500 ms with
/// the forwarder's status (`status_path`); returns the sender's tally and whether it already
/// explained why a destination waits for indexer acks.
fn send_scenario(
    options: &DemoOptions,
    params: &Params,
    socket: &Path,
    status_path: &Path,
    progress: &mut dyn Write,
) -> anyhow::Result<(Tally, bool)> {
    let events = Scenario::Mixed
        .events(params)
        .map_err(|e| anyhow!("scenario: {e}"))?;
    let send_options = Options {
        window: 256,
        progress_every: Duration::from_millis(500),
        ..Options::default()
    };
    writeln!(
        progress,
        "demo: sending {} event(s) of the mixed scenario, seed {}, start {}",
        options.count, options.seed, params.start_ms
    )?;
    let mut ack_explained = false;
    let tally = feed::send(
        events.into_iter(),
        &Target::Unix(socket.to_owned()),
        &send_options,
        &mut |tally| {
            let snapshot = status::read(status_path).ok();
            drop(writeln!(
                progress,
                "{}",
                progress_line(Some(tally), snapshot.as_ref())
            ));
            if !ack_explained && let Some(note) = snapshot.as_ref().and_then(ack_note) {
                drop(writeln!(progress, "{note}"));
                ack_explained = true;
            }
        },
    )
    .context("sending to the ingest socket")?;
    for line in tally.to_string().lines() {
        writeln!(progress, "demo: {line}")?;
    }

    Ok((tally, ack_explained))
}

/// Waits for a snapshot written after the last answer that shows every accepted line and every
/// destination drained (no backlog, no ack outstanding), showing progress every 500 ms and,
/// unless `ack_explained`, why a destination waits for indexer acks.
fn wait_until_drained(
    status_path: &Path,
    accepted: u64,
    until: Instant,
    progress: &mut dyn Write,
    mut ack_explained: bool,
) -> anyhow::Result<Snapshot> {
    let sent_ms = now_ms();
    let mut last_shown = Instant::now();
    let mut last: Option<Snapshot> = None;
    wait_until("every destination's backlog to reach 0", until, || {
        let snapshot = status::read(status_path).ok();
        if last_shown.elapsed() >= Duration::from_millis(500) {
            writeln!(progress, "{}", progress_line(None, snapshot.as_ref()))?;
            last_shown = Instant::now();
        }
        if !ack_explained && let Some(note) = snapshot.as_ref().and_then(ack_note) {
            writeln!(progress, "{note}")?;
            ack_explained = true;
        }
        let done = snapshot.as_ref().is_some_and(|s| {
            s.written_ms > sent_ms
                && s.ingest.accepted == accepted
                && s.destinations
                    .iter()
                    .all(|d| d.backlog == 0 && d.acks_pending == 0)
        });
        last = snapshot;
        Ok(done)
    })?;
    let snapshot = last.ok_or_else(|| anyhow!("no status snapshot"))?;
    writeln!(progress, "{}", progress_line(None, Some(&snapshot)))?;
    Ok(snapshot)
}

/// Syslog has no acknowledgement: "delivered" means the kernel took the bytes, so this waits
/// until the receiver has stored as many messages as `snapshot` reports delivered.
fn wait_for_syslog(
    emulator: &RunningEmulator,
    snapshot: &Snapshot,
    until: Instant,
) -> anyhow::Result<()> {
    let syslog_delivered = snapshot
        .destinations
        .iter()
        .find(|d| d.name == SIEM_SYSLOG)
        .map_or(0, |d| d.delivered);
    let syslog_filter = Filter {
        sourcetype: Some(crate::splunk::syslog::SOURCETYPE.to_owned()),
        ..Filter::default()
    };
    wait_until(
        "the syslog receiver to store every delivered message",
        until,
        || {
            let stored = emulator
                .store()
                .list(&syslog_filter)
                .iter()
                .filter(|r| r.receiver == ReceiverKind::Syslog)
                .count();
            Ok(u64::try_from(stored).unwrap_or(u64::MAX) >= syslog_delivered)
        },
    )
}

/// Which demo destination a stored record came from.
fn destination_of(record: &Stored) -> Option<&'static str> {
    match (record.receiver, record.index.as_str()) {
        (ReceiverKind::Hec, SOC_HEC_INDEX) => Some(SOC_HEC),
        (ReceiverKind::Hec, OT_INDEX) => Some(OT_HEC),
        (ReceiverKind::Simple | ReceiverKind::Stream, _) => Some(SOC_SPLUNKD),
        (ReceiverKind::Syslog, _) => Some(SIEM_SYSLOG),
        _ => None,
    }
}

/// An indexed field's first value, or the event member of the same name.
fn field(record: &Stored, name: &str) -> String {
    record
        .fields
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, values)| values.first().cloned())
        .or_else(|| match &record.body {
            Body::Json(event) => event
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            Body::Text(_) => None,
        })
        .unwrap_or_else(|| "-".to_owned())
}

fn is_alert(record: &Stored) -> bool {
    match record.receiver {
        ReceiverKind::Hec => matches!(&record.body, Body::Json(e) if e.get("alert_id").is_some()),
        ReceiverKind::Simple | ReceiverKind::Stream => {
            !record.sourcetype.contains("notification")
                && !record.body.text().contains("notification")
        }
        // CEF: a notification's signature id is `notification:<kind>`.
        ReceiverKind::Syslog => !record.body.text().contains("|notification:"),
    }
}

/// The counts of what the emulator stored.
#[must_use]
pub fn summarise(records: &[Stored]) -> Summary {
    let mut summary = Summary::default();
    for name in [SOC_HEC, OT_HEC, SOC_SPLUNKD, SIEM_SYSLOG] {
        summary
            .received
            .insert(name.to_owned(), Received::default());
    }
    for record in records {
        let Some(name) = destination_of(record) else {
            continue;
        };
        let alert = is_alert(record);
        if let Some(received) = summary.received.get_mut(name) {
            if alert {
                received.alerts += 1;
            } else {
                received.notifications += 1;
            }
        }
        if name == SOC_HEC && alert {
            for (map, key) in [
                (&mut summary.by_engine, "engine"),
                (&mut summary.by_severity, "severity"),
                (&mut summary.by_protocol, "protocol"),
                (&mut summary.by_sensor, "sensor"),
            ] {
                *map.entry(field(record, key)).or_insert(0) += 1;
            }
        }
        if record.receiver == ReceiverKind::Hec && alert && summary.hec_example.is_none() {
            summary.hec_example = Some(record.to_json().to_string());
        }
        if name == SOC_SPLUNKD && alert && summary.splunkd_example.is_none() {
            summary.splunkd_example = Some(record.body.text());
        }
        if name == SIEM_SYSLOG && alert && summary.syslog_example.is_none() {
            summary.syslog_example = Some(record.body.text());
        }
    }
    summary
}

fn table(out: &mut String, title: &str, counts: &BTreeMap<String, u64>) {
    let _ = writeln!(out, "{title}:");
    let mut rows: Vec<(&String, &u64)> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (value, count) in rows {
        let _ = writeln!(out, "  {value:<36} {count:>7}");
    }
}

impl Summary {
    /// Whether the exactly-once check ran and every destination passed it.
    #[must_use]
    pub fn every_event_arrived_exactly_once(&self) -> bool {
        !self.deliveries.is_empty() && self.deliveries.values().all(Delivery::is_exact)
    }

    /// The exactly-once check, destination by destination, and why a HEC destination with
    /// acks took a few seconds.
    fn render_deliveries(&self, out: &mut String) {
        if self.deliveries.is_empty() {
            return;
        }
        let verdict = if self.every_event_arrived_exactly_once() {
            "every event arrived exactly once"
        } else {
            "NOT every event arrived exactly once"
        };
        let _ = writeln!(
            out,
            "\nchecked against the rules, event id by event id: {verdict}"
        );
        for (name, check) in &self.deliveries {
            let _ = write!(
                out,
                "  {name:<12} {:>7} routed here, {:>7} arrived once",
                check.expected, check.once
            );
            if check.own > 0 {
                let _ = write!(
                    out,
                    " (and {} of the forwarder's own notifications and health reports)",
                    check.own
                );
            }
            out.push('\n');
            for (what, ids) in [
                ("missing", &check.missing),
                ("more than once", &check.duplicated),
                ("not routed here", &check.unexpected),
            ] {
                if !ids.is_empty() {
                    let shown: Vec<&str> = ids.iter().take(5).map(String::as_str).collect();
                    let more = if ids.len() > 5 { ", ..." } else { "" };
                    let _ = writeln!(out, "    {} {what}: {}{more}", ids.len(), shown.join(", "));
                }
            }
        }
        let _ = writeln!(
            out,
            "  {SOC_HEC} uses indexer acknowledgement: an event counts as delivered only once \
             Splunk\n  confirms it is indexed, so its backlog stayed whole for a few seconds while \
             the others drained."
        );
    }

    /// The report a newcomer reads. Each count table is a `by <dimension> (soc-hec alerts):`
    /// line followed by lines of two spaces, the value, spaces and the count.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "== icsfwd demo: the mixed scenario, seed {}, start {} ==",
            self.seed, self.start_ms
        );
        let _ = writeln!(
            out,
            "sent {} event(s): {} accepted, {} not forwarded, {} refused",
            self.sent, self.accepted, self.not_forwarded, self.refused
        );
        if !self.rules.is_empty() {
            let _ = writeln!(
                out,
                "\nthe forwarding rules (an event goes to every destination whose rule takes it):"
            );
            for rule in &self.rules {
                let _ = writeln!(out, "  {rule}");
            }
        }
        let _ = writeln!(out, "\nwhat \"Splunk\" received, per destination:");
        for (name, received) in &self.received {
            let _ = writeln!(
                out,
                "  {name:<12} {:>7} alert(s) {:>4} notification(s)",
                received.alerts, received.notifications
            );
        }
        self.render_deliveries(&mut out);
        out.push('\n');
        table(&mut out, "by engine (soc-hec alerts)", &self.by_engine);
        table(&mut out, "by severity (soc-hec alerts)", &self.by_severity);
        table(&mut out, "by protocol (soc-hec alerts)", &self.by_protocol);
        table(&mut out, "by sensor (soc-hec alerts)", &self.by_sensor);
        let _ = writeln!(out, "\none HEC event (JSON, as stored by the emulator):");
        let _ = writeln!(
            out,
            "  {}",
            self.hec_example.as_deref().unwrap_or("(none arrived)")
        );
        let _ = writeln!(out, "\none splunkd REST event (text):");
        for line in self
            .splunkd_example
            .as_deref()
            .unwrap_or("(none arrived)")
            .lines()
        {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(out, "\none syslog message (RFC 5424, CEF payload):");
        let _ = writeln!(
            out,
            "  {}",
            self.syslog_example.as_deref().unwrap_or("(none arrived)")
        );
        let _ = writeln!(out, "\nthe forwarder's status (icsfwd status):");
        for line in self.status.lines() {
            let _ = writeln!(out, "  {line}");
        }
        if let Some(dir) = &self.kept {
            let _ = writeln!(
                out,
                "\nfiles kept in {} (icsfwd.toml, splunk-ca.pem, spool/)",
                dir.display()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;
    use serde_json::json;

    fn hec(index: &str, event: serde_json::Value, fields: &[(&str, &str)]) -> Stored {
        Stored {
            index: index.to_owned(),
            body: Body::Json(event),
            fields: fields
                .iter()
                .map(|(n, v)| ((*n).to_owned(), vec![(*v).to_owned()]))
                .collect(),
            ..Stored::new(ReceiverKind::Hec)
        }
    }

    #[test]
    fn summary_counts_alerts_per_destination_and_soc_hec_alerts_by_field() {
        let alert = json!({"alert_id": 1, "engine": "Malware"});
        let fields = [
            ("engine", "Malware"),
            ("severity", "Major"),
            ("sensor", "s1"),
            ("protocol", "S7"),
        ];
        let records = vec![
            hec("main", alert.clone(), &fields),
            hec("main", alert.clone(), &fields),
            hec(
                "main",
                json!({"notification_id": 1, "kind": "sensor_offline"}),
                &[],
            ),
            hec("ot", alert, &fields),
            Stored {
                body: Body::Text("alert text".to_owned()),
                ..Stored::new(ReceiverKind::Simple)
            },
            crate::splunk::syslog::record(b"<10>1 - s icsfwd - - - CEF:0|a|b|1|sig|t|10|", 0),
            crate::splunk::syslog::record(
                b"<14>1 - s icsfwd - - - CEF:0|a|b|1|notification:sensor_online|t|1|",
                0,
            ),
        ];
        let summary = summarise(&records);
        assert_eq!(
            summary.received[SOC_HEC],
            Received {
                alerts: 2,
                notifications: 1
            }
        );
        assert_eq!(summary.received[OT_HEC].alerts, 1);
        assert_eq!(summary.received[SOC_SPLUNKD].alerts, 1);
        assert_eq!(
            summary.received[SIEM_SYSLOG],
            Received {
                alerts: 1,
                notifications: 1
            }
        );
        assert!(
            summary
                .syslog_example
                .as_deref()
                .is_some_and(|m| m.contains("|sig|"))
        );
        assert_eq!(summary.by_engine.get("Malware"), Some(&2));
        assert_eq!(summary.by_protocol.get("S7"), Some(&2));
        assert_eq!(summary.splunkd_example.as_deref(), Some("alert text"));
        assert!(summary.hec_example.is_some());
        let text = summary.render();
        assert!(
            text.contains("by engine (soc-hec alerts):\n  Malware"),
            "{text}"
        );
    }

    fn ids(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_exactly_once_check_names_what_is_missing_twice_or_misrouted() {
        let hec_event = |id: &str| hec("main", json!({"id": id, "alert_id": 1}), &[]);
        let splunkd = |id: &str| Stored {
            body: Body::Text(format!(
                "2024-01-01T00:00:00.000Z icsfwd Alert: t\nAlert ID: {id}"
            )),
            ..Stored::new(ReceiverKind::Simple)
        };
        let syslog = |id: &str| {
            crate::splunk::syslog::record(
                format!("<10>1 - s icsfwd - - - CEF:0|a|b|1|sig|t|10|rt=1 externalId={id} cat=x")
                    .as_bytes(),
                0,
            )
        };
        let records = vec![
            hec_event("p-1"),
            hec_event("p-2"),
            hec_event("p-2"),
            hec_event("p-9"),
            hec_event("sensor-demo-1"),
            splunkd("p-1"),
            syslog("p-3"),
        ];
        let expected = BTreeMap::from([
            (SOC_HEC.to_owned(), ids(&["p-1", "p-2", "p-4"])),
            (SOC_SPLUNKD.to_owned(), ids(&["p-1"])),
            (SIEM_SYSLOG.to_owned(), ids(&["p-3"])),
            (OT_HEC.to_owned(), ids(&[])),
        ]);
        let checks = check_deliveries(&expected, &records, "sensor-demo");
        assert_eq!(
            checks[SOC_HEC],
            Delivery {
                expected: 3,
                once: 1,
                own: 1,
                missing: vec!["p-4".to_owned()],
                duplicated: vec!["p-2".to_owned()],
                unexpected: vec!["p-9".to_owned()],
            }
        );
        for name in [SOC_SPLUNKD, SIEM_SYSLOG, OT_HEC] {
            assert!(checks[name].is_exact(), "{name}: {:?}", checks[name]);
        }
        let summary = Summary {
            deliveries: checks,
            ..Summary::default()
        };
        assert!(!summary.every_event_arrived_exactly_once());
        let text = summary.render();
        assert!(
            text.contains("NOT every event arrived exactly once"),
            "{text}"
        );
        assert!(text.contains("    1 missing: p-4\n"), "{text}");
        assert!(text.contains("    1 more than once: p-2\n"), "{text}");
        assert!(text.contains("    1 not routed here: p-9\n"), "{text}");
        assert!(
            text.contains("  soc-splunkd        1 routed here,       1 arrived once\n"),
            "{text}"
        );
    }

    #[test]
    fn a_run_that_checked_nothing_does_not_claim_exactly_once() {
        assert!(!Summary::default().every_event_arrived_exactly_once());
        let exact = Summary {
            deliveries: BTreeMap::from([(SOC_HEC.to_owned(), Delivery::default())]),
            ..Summary::default()
        };
        assert!(exact.every_event_arrived_exactly_once());
        assert!(
            exact
                .render()
                .contains(": every event arrived exactly once\n")
        );
        assert!(exact.render().contains("indexer acknowledgement"));
    }

    #[test]
    fn rules_are_described_by_what_they_take_and_where_it_goes() {
        let all = Rule::new("all").unwrap().forwarding_notifications(true);
        assert_eq!(takes(&all), "all alerts and system notifications");
        let soc = all.clone().forwarding_health(true);
        assert_eq!(
            takes(&soc),
            "all alerts, system notifications and health reports"
        );
        let health = Rule::new("h")
            .unwrap()
            .forwarding_alerts(false)
            .forwarding_health(true);
        assert_eq!(takes(&health), "health reports");
        let narrow = Rule::new("n")
            .unwrap()
            .with_min_severity(Severity::Major)
            .with_engines([icsfwd_core::alert::Engine::Malware])
            .unwrap()
            .with_protocols(["S7", "Modbus"])
            .unwrap();
        assert_eq!(
            takes(&narrow),
            "alerts of severity Major and up from engines Malware over S7, Modbus"
        );
        let summary = Summary {
            rules: vec!["\"r\": all alerts -> soc-hec".to_owned()],
            ..Summary::default()
        };
        assert!(summary.render().contains(
            "the forwarding rules (an event goes to every destination whose rule takes it):\n  \
             \"r\": all alerts -> soc-hec\n"
        ));
    }

    #[test]
    fn a_destination_waiting_for_acks_is_shown_and_explained_once() {
        let mut snapshot = Snapshot::default();
        snapshot.destinations.push(status::DestinationStatus {
            name: SOC_HEC.to_owned(),
            backlog: 3000,
            acks_pending: 2500,
            ..status::DestinationStatus::default()
        });
        let line = progress_line(None, Some(&snapshot));
        assert!(
            line.ends_with("| soc-hec delivered 0 backlog 3000 (2500 awaiting indexer acks)"),
            "{line}"
        );
        let note = ack_note(&snapshot).unwrap();
        assert!(
            note.starts_with("demo: soc-hec uses indexer acknowledgement"),
            "{note}"
        );
        snapshot.destinations[0].acks_pending = 0;
        assert_eq!(ack_note(&snapshot), None);
    }

    #[test]
    fn a_count_out_of_range_is_refused_before_anything_starts() {
        for count in [0, MAX_COUNT + 1] {
            let options = DemoOptions {
                count,
                ..DemoOptions::default()
            };
            let err = run(&options, &mut std::io::sink()).unwrap_err();
            assert!(err.to_string().contains("out of range"), "{err}");
        }
    }
}
