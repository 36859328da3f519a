//! `icsfwd run`: the service, assembled from its parts.
//!
//! What it is: [`run`] is three phases, each a function of its own.
//!
//! - **Start** (`Service::start`): opens the spool (`open_spool`, recovering what a crash
//!   left), starts the group commit, one delivery worker per destination with the
//!   housekeeper, and the ingest server (`start_ingest`), then sends the "sensor online"
//!   system notification (`crate::notify`).
//! - **Serve** (`Service::serve`): writes a status snapshot every [`STATUS_INTERVAL`]
//!   (`Service::tick`) until it is told to stop ([`Stop`], triggered by SIGTERM or SIGINT in
//!   the binary) or the spool failed. Each status tick also reports sensors whose heartbeats
//!   stopped (or came back) and, at most once per tick, alerts evicted or dead-lettered;
//!   appends the heartbeats `[health] heartbeat_interval` lets through and, every `[health]
//!   interval`, one health report per destination ([`crate::health`]).
//!   Beside it, the control thread (`crate::reload::control`) serves `icsfwd reload`,
//!   `icsfwd spool release-destination` and SIGHUP ([`Hangup`]): a reload applies a new
//!   configuration whole or refuses it whole while ingest goes on (`crate::reload`).
//! - **Stop** (`Service::stop`), in the order that keeps the delivery contract, one function
//!   per step:
//!
//! 1. `stop_ingest`: ingest stops taking lines; every line already read is answered after its
//!    fsync;
//! 2. `announce_offline`: "sensor offline" is appended (fsynced) and the delivery workers get
//!    [`NOTIFY_DEADLINE`] to deliver it (a record not delivered by then stays in the spool
//!    and goes out at the next start; skipped when the spool failed);
//! 3. `stop_delivery`: the delivery workers stop (within [`SHUTDOWN_DEADLINE`]); the
//!    housekeeper checkpoints the cursors one last time;
//! 4. `close_spool`: the group commit drains and the spool closes;
//! 5. `remove_status_file`: the status file is removed, so `icsfwd status` says the service
//!    is not running.
//!
//! The metrics endpoint (`[metrics]`, `crate::metrics`) starts once the spool is open (and
//! locked), before its group commit and anything that records a timing, and stops last, so a
//! scrape sees the whole stop.
//!
//! What it guarantees:
//! - An alert is answered `accepted` only after it is on disk (the ingest server waits for
//!   the group commit's fsync); a crash at any point loses no accepted alert, and the next
//!   start resumes each destination at its last checkpoint (records delivered after it may be
//!   sent again: counted as possible duplicates by the workers, never lost).
//! - Nothing secret is logged: configuration secrets are `Secret`s and output errors come
//!   redacted.
//! - One service per spool: the spool's lock (`crate::spool::lock`) is taken first and held
//!   until the process ends; a second `icsfwd run` on the same `[spool] dir` stops at once
//!   with [`ServiceError::SpoolInUse`], having changed nothing.
//! - Every start logs what recovery found (records, torn tails, corrupt frames skipped) and
//!   every configuration warning (e.g. `verify = false`), each time.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use icsfwd_core::alert::NotificationKind;
use log::{error, info, warn};

use crate::clock::now_ms;
use crate::config::{self, Config, SharedRules};
use crate::deliver::{self, Delivery, Shutdown};
use crate::exit::Exit;
use crate::health::{self, HeartbeatGate};
use crate::ingest::server::{IngestConfig, IngestServer, IngestStats, RunningIngest, SpoolAdmit};
use crate::notify::{Change, DropWatch, HeartbeatTracker, Notifier};
pub use crate::reload::control::Hangup;
use crate::reload::{Live, control};
use crate::spool::lock::LockError;
use crate::spool::storage::FsStorage;
use crate::spool::{GroupCommit, GroupConfig, Handle, OpenError, Recovery, Spool, SpoolConfig};
use crate::status::{self, IngestStatus, Snapshot, SpoolStatus};

/// The service's group commit: at most 512 events queued and 512 per fsync. Each queued
/// event holds its strings inline (~2.7 KB) and the writer holds its batch beside the
/// refilling queue, so these bounds are ~2.8 MB of the peak RSS (5.6 MB at 1,024/1,024);
/// 512 events per fsync still allow 50,000 alerts/s with fsyncs of up to 10 ms. The commit
/// window is `[spool] commit_window`.
const SERVICE_GROUP: GroupConfig = GroupConfig {
    queue_capacity: 512,
    max_batch: 512,
    window: Duration::ZERO,
};

/// How often the status snapshot is written.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(1);

/// How long the delivery workers get to stop at shutdown.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// How long the delivery workers get, at a graceful stop, to deliver the "sensor offline"
/// notification before they are stopped.
pub const NOTIFY_DEADLINE: Duration = Duration::from_secs(3);

/// The request to stop the service: the same named type the delivery workers watch.
pub type Stop = Shutdown;

/// Why the service could not start or had to stop.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServiceError {
    /// Another icsfwd writes the spool: its lock is held (the message names the holder's pid).
    /// Nothing in the spool directory was read or changed.
    SpoolInUse(String),
    /// The spool directory could not be created or opened.
    Spool(String),
    /// The configuration gives a destination's position to another name while the spool
    /// keeps records for the one there (`OpenError::DestinationMismatch`); nothing on disk
    /// was changed.
    Positions(String),
    /// The ingest socket could not be set up.
    Ingest(io::Error),
    /// A thread could not be started.
    Threads(io::Error),
    /// The metrics endpoint (`[metrics]`) could not be set up.
    Metrics(crate::metrics::StartError),
    /// The control socket (`icsfwd reload`) could not be set up.
    Control(io::Error),
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceError::SpoolInUse(why) => f.write_str(why),
            ServiceError::Spool(why) => write!(f, "spool: {why}"),
            ServiceError::Positions(why) => f.write_str(why),
            ServiceError::Ingest(e) => write!(
                f,
                "ingest socket: {e} (is another icsfwd running? check [ingest] socket and its \
                 directory's permissions)"
            ),
            ServiceError::Threads(e) => write!(f, "starting threads: {e}"),
            ServiceError::Metrics(e) => write!(f, "metrics endpoint: {e}"),
            ServiceError::Control(e) => write!(
                f,
                "control socket: {e} (it is created beside [ingest] socket; check that \
                 directory's permissions)"
            ),
        }
    }
}

impl std::error::Error for ServiceError {}

/// What a graceful stop reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReport {
    /// Destinations whose worker had not stopped by the deadline.
    pub still_running: Vec<String>,
    /// Lines answered `accepted` since start.
    pub accepted: u64,
    /// The service stopped by itself because a spool write or fsync failed (disk full, I/O
    /// error): the spool refuses every append until it is opened again, so the process exits
    /// for its service manager to restart it ([`EXIT_SPOOL_FAILED`]).
    pub spool_failed: bool,
}

/// Exit code of `icsfwd run` after it stopped because its spool failed
/// ([`Exit::SpoolFailed`], `EX_TEMPFAIL`): the unit's `Restart=always` starts it again,
/// and the restart recovers the spool (a torn tail is cut) and accepts alerts again once the
/// disk has space.
pub const EXIT_SPOOL_FAILED: u8 = Exit::SpoolFailed.code();

pub(crate) fn spool_config(config: &config::Spool) -> SpoolConfig {
    SpoolConfig {
        max_bytes: config.max_bytes,
        segment_bytes: config.segment_bytes,
        on_full: config.on_full,
        ..SpoolConfig::default()
    }
}

/// Runs the service until `stop` is triggered; see the module docs for the order of things.
///
/// # Errors
///
/// The spool, the ingest socket or a thread could not be set up; nothing was accepted then.
pub fn run(config: &Config, stop: &Stop) -> Result<StopReport, ServiceError> {
    run_with_reloads(config, stop, &Hangup::new())
}

/// [`run`], reloading the configuration at each `hangup` request (SIGHUP in the binary) as
/// well as at each `icsfwd reload`.
///
/// # Errors
///
/// As [`run`].
pub(crate) fn run_with_reloads(
    config: &Config,
    stop: &Stop,
    hangup: &Hangup,
) -> Result<StopReport, ServiceError> {
    let service = Service::start(config)?;
    let control_path = control::path_for(&config.ingest.socket);
    let listener = match control::bind(&control_path) {
        Ok(listener) => listener,
        Err(e) => {
            service.stop(false);
            return Err(ServiceError::Control(e));
        }
    };
    let control_stop = Stop::new();
    let spool_failed = std::thread::scope(|scope| {
        let control = std::thread::Builder::new()
            .name("control".to_owned())
            .spawn_scoped(scope, || {
                control::serve(
                    &listener,
                    &control_path,
                    &service.live,
                    hangup,
                    &control_stop,
                );
            });
        if let Err(e) = &control {
            error!("starting the control thread: {e}; icsfwd reload and SIGHUP do nothing");
        }
        let spool_failed = service.serve(stop);
        control_stop.trigger();
        spool_failed
    });
    Ok(service.stop(spool_failed))
}

/// The running service: what [`Service::start`] set up, [`Service::serve`] watches and
/// [`Service::stop`] takes down again.
struct Service<'a> {
    config: &'a Config,
    started_ms: u64,
    commit: GroupCommit,
    handle: Handle,
    /// The configuration in force and the delivery workers: what a reload changes.
    live: Mutex<Live>,
    ingest: RunningIngest,
    notifier: Notifier,
    heartbeats: Arc<HeartbeatTracker>,
    /// Which heartbeats are forwarded (`[health] heartbeat_interval`); `None`: none.
    heartbeat_gate: Option<Arc<HeartbeatGate>>,
    /// Torn and corrupt frames the spool's recovery skipped (reported in every snapshot).
    damaged_frames: u64,
    status_path: PathBuf,
    metrics: Option<crate::metrics::Running>,
}

impl<'a> Service<'a> {
    /// Start: opens the spool (recovering what a crash left), starts the group commit, the
    /// delivery workers with the housekeeper and the ingest server, then sends "sensor
    /// online".
    fn start(config: &'a Config) -> Result<Service<'a>, ServiceError> {
        let started_ms = now_ms();
        for warning in config.warnings() {
            warn!("{warning}");
        }
        let (spool, damaged_frames) = open_spool(config)?;
        // After the spool's lock: a second icsfwd on this spool is refused for that, not for
        // the metrics address the first one holds.
        let metrics = crate::metrics::start(config).map_err(ServiceError::Metrics)?;
        let group = GroupConfig {
            window: config.spool.commit_window,
            ..SERVICE_GROUP
        };
        let commit = GroupCommit::start(spool, group).map_err(ServiceError::Threads)?;
        let handle = commit.handle();
        let delivery = Delivery::start(config, handle.clone(), &config.spool.dir)
            .map_err(ServiceError::Threads)?;
        let rules = SharedRules::new(config.rules.clone());
        let notifier = Notifier::new(
            rules.clone(),
            handle.clone(),
            &config.sensor.name,
            config.sensor.ip,
            started_ms,
        );
        let heartbeats = Arc::new(HeartbeatTracker::new(config.sensor.heartbeat_timeout));
        let heartbeat_gate = config
            .health
            .heartbeat_interval
            .map(|interval| Arc::new(HeartbeatGate::new(interval)));
        let ingest = start_ingest(config, &rules, &handle, &heartbeats, heartbeat_gate.clone())?;
        info!(
            "icsfwd {} running for sensor {}: ingest on {}{}, {} destination(s)",
            env!("CARGO_PKG_VERSION"),
            config.sensor.name,
            config.ingest.socket.display(),
            config
                .ingest
                .tcp
                .map(|a| format!(" and tcp {a}"))
                .unwrap_or_default(),
            config.destinations.len()
        );
        notifier.send_logged(
            NotificationKind::SensorOnline,
            notifier.sensor(),
            &format!(
                "sensor online: icsfwd {} started forwarding",
                env!("CARGO_PKG_VERSION")
            ),
            now_ms(),
        );
        Ok(Service {
            config,
            started_ms,
            commit,
            live: Mutex::new(Live::new(config.clone(), delivery, rules, handle.clone())),
            handle,
            ingest,
            notifier,
            heartbeats,
            heartbeat_gate,
            damaged_frames,
            status_path: status::path_for(&config.ingest.socket),
            metrics,
        })
    }

    /// Serve: a status tick every [`STATUS_INTERVAL`] until `stop` is triggered or the spool
    /// failed. Returns whether the spool failed.
    fn serve(&self, stop: &Stop) -> bool {
        let mut ticks = StatusTicks {
            snapshot: Snapshot::new(&self.config.sensor.name, self.started_ms),
            drops: DropWatch::new(&self.config.spool.dir.join("deadletter")),
            status_failed: false,
            // The first report at start: Splunk learns at once that the forwarder runs and
            // what it holds (a restart's recovered backlog included).
            next_health: self.config.health.interval.map(|_| Instant::now()),
        };
        ticks.snapshot.spool.max_bytes = self.config.spool.max_bytes;
        ticks.snapshot.spool.damaged_frames = self.damaged_frames;
        loop {
            let spool_failed = self.tick(&mut ticks);
            if spool_failed {
                error!(
                    "the spool failed (a write or fsync error, see above): every alert is \
                     refused until it is reopened; stopping so that the service manager \
                     restarts icsfwd (exit {EXIT_SPOOL_FAILED}); the restart recovers the spool \
                     and accepts alerts again once the disk has space"
                );
                return true;
            }
            if stop.wait_timeout(STATUS_INTERVAL) {
                return false;
            }
        }
    }

    /// One status tick: the snapshot, heartbeat and drop notifications, the status file.
    /// Returns whether the spool failed.
    fn tick(&self, ticks: &mut StatusTicks) -> bool {
        let mut spool_failed = false;
        let snapshot = &mut ticks.snapshot;
        let ingest_stats = self.ingest.stats();
        snapshot.written_ms = now_ms();
        snapshot.ingest = IngestStatus {
            connections_open: ingest_stats.connections_open,
            lines: ingest_stats.lines,
            accepted: ingest_stats.accepted,
            not_forwarded: ingest_stats.not_forwarded,
            refused: ingest_stats.refused,
            refused_by_spool: ingest_stats.refused_by_spool,
        };
        let spool_stats = self.handle.stats().ok();
        if let Some(spool_stats) = &spool_stats {
            spool_failed = spool_stats.failed;
            // The spool's positions index the latency histograms; a reload may add some.
            crate::metrics::positions(spool_stats.destinations.iter().map(|d| d.name.as_str()));
            snapshot.spool = SpoolStatus {
                appended: spool_stats.appended,
                fsyncs: spool_stats.fsyncs,
                live_bytes: spool_stats.live_bytes,
                max_bytes: self.config.spool.max_bytes,
                disk_bytes: spool_stats.disk_bytes,
                refused_full: spool_stats.refused_full,
                evicted: spool_stats.evicted_total(),
                damaged_frames: self.damaged_frames,
                spares: spool_stats.spares,
                spare_bytes: spool_stats.spare_bytes,
                segments_reused: spool_stats.segments_recycled,
            };
        }
        {
            let live = self.live();
            snapshot.destinations = destination_statuses(&live, spool_stats.as_ref());
            snapshot.reload = reload_status(live.counts());
        }
        notify_changes(
            &self.notifier,
            &self.heartbeats,
            self.config.sensor.heartbeat_timeout,
        );
        let dead: Vec<(&str, u64)> = snapshot
            .destinations
            .iter()
            .map(|d| (d.name.as_str(), d.dead_lettered))
            .collect();
        if let Some(text) = ticks.drops.observe(snapshot.spool.evicted, &dead) {
            self.notifier.send_logged(
                NotificationKind::AlertsDropped,
                self.notifier.sensor(),
                &text,
                now_ms(),
            );
        }
        if let Some(gate) = &self.heartbeat_gate {
            forward_heartbeats(&self.notifier, gate);
        }
        if let (Some(due), Some(interval)) = (ticks.next_health, self.config.health.interval)
            && Instant::now() >= due
        {
            ticks.next_health = Some(due + interval);
            report_health(&self.notifier, snapshot);
        }
        crate::metrics::publish(snapshot);
        match status::write(&self.status_path, snapshot) {
            Ok(()) => ticks.status_failed = false,
            Err(e) if !ticks.status_failed => {
                // Once per failure streak: the service goes on, only `icsfwd status` is blind.
                warn!(
                    "writing the status file {}: {e}",
                    self.status_path.display()
                );
                ticks.status_failed = true;
            }
            Err(_) => {}
        }
        spool_failed
    }

    /// Stop: the five steps of the module docs, in their order.
    fn stop(self, spool_failed: bool) -> StopReport {
        info!("stopping: answering the lines already read, then stopping the workers");
        let ingest_stats = stop_ingest(self.ingest);
        let live = self
            .live
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        // A failed spool takes no notification: the restart's "online" tells the SOC instead.
        if !spool_failed {
            announce_offline(live.config(), &self.notifier, live.delivery());
        }
        let still_running = stop_delivery(live.into_delivery());
        close_spool(self.commit);
        remove_status_file(&self.status_path);
        drop(self.metrics);
        info!(
            "stopped: {} line(s) accepted since start",
            ingest_stats.accepted
        );
        StopReport {
            still_running,
            accepted: ingest_stats.accepted,
            spool_failed,
        }
    }
}

impl Service<'_> {
    /// The configuration in force and the delivery workers, locked (a reload holds the lock
    /// while it applies).
    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The destinations of the status snapshot: those configured, in order, then those a reload
/// removed whose records the spool keeps ("removed, N records kept").
fn destination_statuses(
    live: &Live,
    spool: Option<&crate::spool::SpoolStats>,
) -> Vec<status::DestinationStatus> {
    let mut out: Vec<status::DestinationStatus> = live
        .delivery()
        .stats()
        .iter()
        .map(|d| d.to_status())
        .collect();
    let Some(spool) = spool else {
        return out;
    };
    for kept in &spool.destinations {
        if live.config().destination(&kept.name).is_some() || kept.backlog == 0 {
            continue;
        }
        out.push(status::DestinationStatus {
            name: kept.name.clone(),
            kind: live.kind_of(&kept.name).unwrap_or("removed").to_owned(),
            state: status::REMOVED.to_owned(),
            reason: Some(format!(
                "removed from the configuration; its {} record(s) are kept in the spool: add it \
                 back at its place and reload (or restart) to deliver them, or release them \
                 with `icsfwd spool release-destination {}`",
                kept.backlog, kept.name
            )),
            backlog: kept.backlog,
            ..status::DestinationStatus::default()
        });
    }
    out
}

/// The reload counters of the status snapshot.
fn reload_status(counts: &crate::reload::ReloadCounts) -> status::ReloadStatus {
    status::ReloadStatus {
        applied: counts.applied,
        refused: counts.refused,
        last: counts.last.as_ref().map(|(text, _)| text.clone()),
        last_ms: counts.last.as_ref().map(|(_, ms)| *ms),
    }
}

/// What the status ticks carry from one to the next.
struct StatusTicks {
    snapshot: Snapshot,
    drops: DropWatch,
    /// Whether the last status write failed (its warning is logged once per streak).
    status_failed: bool,
    /// When the next health report is due (`None`: `[health] interval = "off"`).
    next_health: Option<Instant>,
}

/// Start, first step: opens the spool in `[spool] dir` (creating it, and taking its lock for
/// the life of the process: a second icsfwd on the same spool is refused here, before it
/// touches the spool or the ingest socket) and logs what its recovery found. Returns the spool and the torn and corrupt frames skipped.
fn open_spool(config: &Config) -> Result<(Spool, u64), ServiceError> {
    let dir = &config.spool.dir;
    let names: Vec<String> = config.destinations.iter().map(|d| d.name.clone()).collect();
    // The open creates the directory (0750) and takes its lock before anything else.
    let (spool, recovery) = Spool::open(FsStorage::new(), dir, spool_config(&config.spool), &names)
        .map_err(|e| match e {
            OpenError::Lock(held @ LockError::Held { .. }) => {
                ServiceError::SpoolInUse(held.to_string())
            }
            e @ OpenError::DestinationMismatch { .. } => {
                ServiceError::Positions(format!("{e} (configuration {})", config.path.display()))
            }
            e => ServiceError::Spool(format!("opening {}: {e}", dir.display())),
        })?;
    log_recovery(dir, &recovery);
    let damaged_frames = u64::try_from(recovery.torn.len() + recovery.corrupt.len()).unwrap_or(0);
    Ok((spool, damaged_frames))
}

/// Logs what the spool's recovery found: records, damage, progress hints, backlogs.
fn log_recovery(dir: &Path, recovery: &Recovery) {
    info!(
        "spool {}: {} record(s) in {} segment(s), {} torn tail(s) and {} corrupt frame(s) \
         skipped, next sequence number {}",
        dir.display(),
        recovery.records,
        recovery.segments,
        recovery.torn.len(),
        recovery.corrupt.len(),
        recovery.next_seq
    );
    for applied in &recovery.progress.applied {
        info!(
            "destination {}: resumes after its progress hint at record {} (checkpoint {}): \
             {} record(s) delivered before a crash not sent again",
            applied.name, applied.resumed, applied.checkpoint, applied.records
        );
    }
    for ignored in &recovery.progress.ignored {
        warn!("spool progress hint ignored (records may be sent again): {ignored}");
    }
    if recovery.progress.damaged_lines > 0 {
        warn!(
            "spool progress log: {} damaged line(s) ignored",
            recovery.progress.damaged_lines
        );
    }
    for kept in recovery.kept_destinations.iter().filter(|k| k.backlog > 0) {
        warn!(
            "destination {}: in the spool's checkpoint but not in the configuration: its {} \
             record(s) are kept in the spool (and count toward [spool] max_bytes); to deliver \
             them, add it back at its place (the same [[destination]] position) and reload or \
             restart; to let them go, run `icsfwd spool release-destination {}`",
            kept.name, kept.backlog, kept.name
        );
    }
    for dropped in &recovery.dropped_destinations {
        warn!(
            "destination {dropped}: in the spool's checkpoint at a position past a gap (a \
             hand-edited checkpoint): its cursor is dropped"
        );
    }
    for resume in &recovery.destinations {
        info!(
            "destination {}: {} record(s) to deliver",
            resume.name, resume.backlog
        );
    }
}

/// Start, last part: the ingest server, admitting into the spool through `handle` and
/// telling `heartbeats` about every heartbeat.
fn start_ingest(
    config: &Config,
    rules: &SharedRules,
    handle: &Handle,
    heartbeats: &Arc<HeartbeatTracker>,
    gate: Option<Arc<HeartbeatGate>>,
) -> Result<RunningIngest, ServiceError> {
    let mut ingest_config = IngestConfig::new(config.ingest.socket.clone());
    ingest_config.socket_mode = config.ingest.socket_mode;
    ingest_config.tcp = config.ingest.tcp;
    ingest_config.max_line = config.ingest.max_line_bytes;
    let tracker = Arc::clone(heartbeats);
    let admit = SpoolAdmit::new(
        rules.clone(),
        handle.clone(),
        Box::new(move |heartbeat| {
            log::debug!("heartbeat from sensor {}", heartbeat.sensor.name.as_str());
            let now = Instant::now();
            tracker.beat(heartbeat, now);
            if let Some(gate) = &gate {
                gate.offer(&heartbeat.sensor, now_ms(), now);
            }
        }),
    );
    IngestServer::start(ingest_config, Arc::new(admit)).map_err(ServiceError::Ingest)
}

/// Stop step 1: ingest stops taking lines; every line already read is answered after its
/// fsync. Returns the ingest counters.
fn stop_ingest(ingest: RunningIngest) -> IngestStats {
    ingest.shutdown()
}

/// Stop step 2: "sensor offline" is appended (fsynced) and the delivery workers get
/// [`NOTIFY_DEADLINE`] to deliver it; a record not delivered by then stays in the spool and
/// goes out at the next start.
fn announce_offline(config: &Config, notifier: &Notifier, delivery: &deliver::Running) {
    let Some(sent) = notifier.send_logged(
        NotificationKind::SensorOffline,
        notifier.sensor(),
        "sensor offline: the forwarder stopped (graceful stop)",
        now_ms(),
    ) else {
        return;
    };
    let names: Vec<&str> = config
        .destinations
        .iter()
        .filter(|d| sent.destinations.contains(d.id))
        .map(|d| d.name.as_str())
        .collect();
    let until = Instant::now() + NOTIFY_DEADLINE;
    let pause = Stop::new();
    loop {
        let pending = delivery
            .stats()
            .iter()
            .any(|d| names.contains(&d.name.as_str()) && d.backlog > 0);
        if !pending {
            break;
        }
        if Instant::now() >= until {
            warn!(
                "the sensor offline notification was not delivered within {} s; it stays \
                 in the spool and goes out at the next start",
                NOTIFY_DEADLINE.as_secs()
            );
            break;
        }
        // Nobody triggers `pause`: a bounded sleep between polls of the backlog.
        pause.wait_timeout(Duration::from_millis(20));
    }
}

/// Stop step 3: the delivery workers stop (within [`SHUTDOWN_DEADLINE`]) and the
/// housekeeper checkpoints the cursors one last time. Returns the threads still running at
/// the deadline.
fn stop_delivery(delivery: deliver::Running) -> Vec<String> {
    let report = delivery.shutdown(SHUTDOWN_DEADLINE);
    if !report.still_running.is_empty() {
        warn!(
            "destination(s) still sending at the deadline: {}; their records stay in the spool",
            report.still_running.join(", ")
        );
    }
    report.still_running
}

/// Stop step 4: the group commit drains (every queued event is written and answered) and
/// the spool closes.
fn close_spool(commit: GroupCommit) {
    match commit.shutdown() {
        Ok(_spool) => {}
        Err(e) => error!("closing the spool: {e}"),
    }
}

/// Stop step 5: the status file is removed, so `icsfwd status` says the service is not
/// running.
fn remove_status_file(status_path: &Path) {
    if let Err(e) = fs::remove_file(status_path)
        && e.kind() != io::ErrorKind::NotFound
    {
        warn!("removing the status file {}: {e}", status_path.display());
    }
}

/// Appends one health report per destination, from the snapshot just taken.
fn report_health(notifier: &Notifier, snapshot: &Snapshot) {
    for destination in &snapshot.destinations {
        let text = health::report_text(destination, &snapshot.spool);
        notifier.send_routine(NotificationKind::Health, notifier.sensor(), &text, now_ms());
    }
}

/// Appends the heartbeats the gate let through since the last tick.
fn forward_heartbeats(notifier: &Notifier, gate: &HeartbeatGate) {
    for passed in gate.take() {
        notifier.send_routine(
            NotificationKind::Heartbeat,
            &passed.sensor,
            "heartbeat: the sensor is alive (heartbeats are forwarded at most once per \
             [health] heartbeat_interval)",
            passed.received_ms,
        );
    }
}

/// Sends the heartbeat tracker's changes as notifications.
fn notify_changes(notifier: &Notifier, heartbeats: &HeartbeatTracker, timeout: Duration) {
    for change in heartbeats.check(Instant::now()) {
        match change {
            Change::Offline(sensor) => notifier.send_logged(
                NotificationKind::SensorOffline,
                &sensor,
                &format!(
                    "sensor offline: no heartbeat for more than {} s",
                    timeout.as_secs_f64()
                ),
                now_ms(),
            ),
            Change::BackOnline(sensor) => notifier.send_logged(
                NotificationKind::SensorOnline,
                &sensor,
                "sensor back online: heartbeats resumed",
                now_ms(),
            ),
        };
    }
}
