//! What the running service reports about itself, and how `icsfwd status` shows it.
//!
//! What it is: the service writes a [`Snapshot`] — ingest counters, spool counters, and one
//! [`DestinationStatus`] per destination — as JSON to a status file every second
//! ([`write()`]); `icsfwd status` reads it ([`read`]) and prints it for an operator
//! ([`Snapshot::render`]) or as JSON.
//!
//! The file lives beside the ingest socket ([`path_for`]: `icsfwd.status.json` in the runtime
//! directory, `/run/icsfwd/` by default), so it disappears with the service's runtime
//! directory and never lands in the spool.
//!
//! What it guarantees:
//! - A reader never sees half a file: it is written to a temporary name and renamed.
//! - The snapshot holds no secret: destination errors come from the output layer already
//!   redacted, and no configuration value other than names and kinds is copied into it.
//! - A stale file is detected: [`Snapshot::age_ms`] tells how old it is, and `render` says so
//!   when the service has not written it for [`STALE_AFTER_MS`].
//!
//! ```
//! use icsfwd::status::{DestinationStatus, Snapshot};
//!
//! let mut snapshot = Snapshot::new("sensor-plant-a", 1_700_000_000_000);
//! snapshot.written_ms = 1_700_000_005_000;
//! snapshot.destinations.push(DestinationStatus {
//!     name: "soc".into(),
//!     kind: "hec".into(),
//!     state: "parked".into(),
//!     reason: Some("credentials rejected (HTTP 403, HEC code 4): check the token".into()),
//!     ..DestinationStatus::default()
//! });
//! let shown = snapshot.render(1_700_000_006_000);
//! assert!(shown.contains("soc (hec): parked"));
//! assert!(shown.contains("check the token"));
//! assert!(!snapshot.healthy());
//! ```

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The status file's name, in the directory of the ingest socket.
pub(crate) const FILE_NAME: &str = "icsfwd.status.json";

/// A snapshot older than this (ms) means the service is not running or is stuck.
pub const STALE_AFTER_MS: u64 = 10_000;

/// The largest status file read (a snapshot is a few KiB per destination).
pub(crate) const MAX_FILE: u64 = 4 << 20;

/// Ingest counters since start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestStatus {
    /// Producer connections open now.
    pub connections_open: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines answered `accepted` (heartbeats included).
    pub accepted: u64,
    /// Lines answered `not_forwarded`.
    pub not_forwarded: u64,
    /// Lines answered `refused` (bad input, spool full, spool failed).
    pub refused: u64,
    /// Of those, refused because of the spool (full or failed).
    pub refused_by_spool: u64,
}

/// Spool counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolStatus {
    /// Records appended since start.
    pub appended: u64,
    /// fsyncs done by appends since start.
    pub fsyncs: u64,
    /// Live record bytes (what `max_bytes` bounds).
    pub live_bytes: u64,
    /// The configured bound.
    pub max_bytes: u64,
    /// Segment bytes on disk.
    pub disk_bytes: u64,
    /// Appends refused because the spool was full.
    pub refused_full: u64,
    /// Queued alerts evicted by `on_full = "evict-lower-severity"`.
    pub evicted: u64,
    /// Torn tails and corrupt frames skipped when the spool was opened.
    pub damaged_frames: u64,
    /// Spare segment files kept for reuse as the next segments (at most 2), and their bytes
    /// on disk (beside `disk_bytes`, within `max_bytes`).
    #[serde(default)]
    pub spares: u64,
    /// The bytes of the spare segment files.
    #[serde(default)]
    pub spare_bytes: u64,
    /// New segments since start that reused a spare file instead of a new one.
    #[serde(default)]
    pub segments_reused: u64,
}

/// The `state` of a destination a reload removed while the spool still holds records for it
/// (its backlog is kept until it is configured again or released).
pub const REMOVED: &str = "removed";

/// The reloads since the service started (`icsfwd reload`, SIGHUP).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadStatus {
    /// Reloads applied.
    pub applied: u64,
    /// Reloads refused (the running configuration stayed).
    pub refused: u64,
    /// The last reload's answer, first line (`applied: …` or `refused-…: …`).
    pub last: Option<String>,
    /// When it was given (ms since the epoch).
    pub last_ms: Option<u64>,
}

/// One destination, as its worker reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationStatus {
    /// The configured name.
    pub name: String,
    /// `splunk`, `hec` or `syslog`.
    pub kind: String,
    /// `idle`, `sending`, `retrying` or `parked`.
    pub state: String,
    /// Why it retries or is parked, and what to do (redacted).
    pub reason: Option<String>,
    /// Records still to deliver.
    pub backlog: u64,
    /// Records delivered since start.
    pub delivered: u64,
    /// Sends retried since start.
    pub retries: u64,
    /// Records sent again after an uncertain outcome (a lost reply, an expired ack, a syslog
    /// connection that broke before the receiver confirmed them).
    pub possible_duplicates: u64,
    /// Records moved to the dead-letter file since start.
    pub dead_lettered: u64,
    /// Records sent and awaiting their confirmation now: a HEC ack, or for syslog over TCP/TLS
    /// (`confirm = "tcp-ack"`) the receiver's TCP acknowledgement and the settle time.
    pub acks_pending: u64,
    /// Records a syslog connection reset may have lost after they were written (only with
    /// `confirm = "write"`; 0 otherwise and for Splunk destinations).
    #[serde(default)]
    pub possible_loss: u64,
    /// The last error (redacted).
    pub last_error: Option<String>,
    /// When it happened (ms since the epoch).
    pub last_error_ms: Option<u64>,
    /// The last successful delivery (ms since the epoch).
    pub last_success_ms: Option<u64>,
    /// A destination with several hosts (`hosts = [...]`, HEC's `urls`): each host and
    /// whether it is marked down; empty for one host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostStatus>,
}

/// One host of a destination with several.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStatus {
    /// The host as configured (`host:port`, or the base URL).
    pub host: String,
    /// `up`, or `down`: it failed, and the other hosts are tried first until `down_until_ms`.
    pub state: String,
    /// Until when it is marked down (ms since the epoch); `None` while up.
    pub down_until_ms: Option<u64>,
}

/// Everything `icsfwd status` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The service's version.
    pub version: String,
    /// Its process id.
    pub pid: u32,
    /// The sensor it forwards for.
    pub sensor: String,
    /// When it started (ms since the epoch).
    pub started_ms: u64,
    /// When this snapshot was written (ms since the epoch).
    pub written_ms: u64,
    /// Ingest counters.
    pub ingest: IngestStatus,
    /// Spool counters.
    pub spool: SpoolStatus,
    /// One entry per configured destination, in configuration order, then one per removed
    /// destination whose records the spool keeps (state [`REMOVED`]).
    pub destinations: Vec<DestinationStatus>,
    /// Reloads applied and refused.
    #[serde(default)]
    pub reload: ReloadStatus,
}

/// The status file beside `socket` (the ingest socket of the configuration).
#[must_use]
pub fn path_for(socket: &Path) -> PathBuf {
    socket
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(FILE_NAME)
}

/// Writes `snapshot` to `path` whole: a temporary file in the same directory, then a rename.
/// The file has mode 0640 whatever the umask, like every file icsfwd creates.
///
/// # Errors
///
/// Writing or renaming failed.
pub fn write(path: &Path, snapshot: &Snapshot) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(snapshot).map_err(io::Error::other)?;
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    let mut file = crate::spool::storage::open_creating(
        &temp,
        fs::OpenOptions::new().write(true).truncate(true),
    )?;
    crate::spool::storage::set_mode(&file, crate::spool::storage::FILE_MODE)?;
    file.write_all(&json)?;
    drop(file);
    fs::rename(&temp, path)
}

/// Reads the snapshot at `path`.
///
/// # Errors
///
/// The file is missing (the service is not running, or runs with another configuration),
/// too large, or not a snapshot.
pub fn read(path: &Path) -> io::Result<Snapshot> {
    let len = fs::metadata(path)?.len();
    if len > MAX_FILE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is {len} bytes, more than a status file can be",
                path.display()
            ),
        ));
    }
    let bytes = fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not an icsfwd status file: {e}", path.display()),
        )
    })
}

impl Snapshot {
    /// An empty snapshot of this version and process, started at `started_ms`.
    #[must_use]
    pub fn new(sensor: &str, started_ms: u64) -> Snapshot {
        Snapshot {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            sensor: sensor.to_owned(),
            started_ms,
            written_ms: started_ms,
            ..Snapshot::default()
        }
    }

    /// How old the snapshot is at `now_ms`.
    #[must_use]
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.written_ms)
    }

    /// Whether every destination delivers (none parked or retrying) and nothing is refused
    /// for lack of spool space right now.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.destinations
            .iter()
            .all(|d| d.state != "parked" && d.state != "retrying")
    }

    /// The snapshot as an operator reads it, at `now_ms`.
    #[must_use]
    pub fn render(&self, now_ms: u64) -> String {
        let mut out = String::new();
        let age = self.age_ms(now_ms);
        let _ = writeln!(
            out,
            "icsfwd {} (pid {}) for sensor {}, up {}, status written {} ago",
            self.version,
            self.pid,
            self.sensor,
            duration(now_ms.saturating_sub(self.started_ms)),
            duration(age)
        );
        if age > STALE_AFTER_MS {
            let _ = writeln!(
                out,
                "WARNING: not updated for {}: the service is not running or is stuck \
                 (systemctl status icsfwd; journalctl -u icsfwd)",
                duration(age)
            );
        }
        let i = &self.ingest;
        let _ = writeln!(
            out,
            "ingest: {} lines, {} accepted, {} not forwarded, {} refused ({} by the spool), \
             {} connection(s) open",
            i.lines, i.accepted, i.not_forwarded, i.refused, i.refused_by_spool, i.connections_open
        );
        let s = &self.spool;
        let _ = writeln!(
            out,
            "spool: {} of {} used ({} on disk), {} appended in {} fsync(s), {} refused full, \
             {} evicted, {} damaged frame(s) skipped at start",
            bytes(s.live_bytes),
            bytes(s.max_bytes),
            bytes(s.disk_bytes),
            s.appended,
            s.fsyncs,
            s.refused_full,
            s.evicted,
            s.damaged_frames
        );
        if s.spares + s.segments_reused > 0 {
            let _ = writeln!(
                out,
                "  {} spare segment file(s) kept for reuse ({}); {} new segment(s) reused one",
                s.spares,
                bytes(s.spare_bytes),
                s.segments_reused
            );
        }
        if self.reload.applied + self.reload.refused > 0 {
            let r = &self.reload;
            let when = r
                .last_ms
                .map(|ms| format!(" ({} ago)", duration(now_ms.saturating_sub(ms))))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "reloads: {} applied, {} refused; last{when}: {}",
                r.applied,
                r.refused,
                r.last.as_deref().unwrap_or_default()
            );
        }
        for d in &self.destinations {
            if d.state == REMOVED {
                let _ = writeln!(
                    out,
                    "{} ({}): removed, {} records kept",
                    d.name, d.kind, d.backlog
                );
                if let Some(reason) = &d.reason {
                    let _ = writeln!(out, "  why: {reason}");
                }
                continue;
            }
            let _ = writeln!(out, "{} ({}): {}", d.name, d.kind, d.state);
            if let Some(reason) = &d.reason {
                let _ = writeln!(out, "  why: {reason}");
            }
            render_counters(&mut out, d);
            render_hosts(&mut out, d, now_ms);
            if let Some(ms) = d.last_success_ms {
                let _ = writeln!(
                    out,
                    "  last delivery {} ago",
                    duration(now_ms.saturating_sub(ms))
                );
            }
            if let Some(error) = &d.last_error {
                let when = d
                    .last_error_ms
                    .map(|ms| format!(" ({} ago)", duration(now_ms.saturating_sub(ms))))
                    .unwrap_or_default();
                let _ = writeln!(out, "  last error{when}: {error}");
            }
        }
        out
    }
}

/// The counter lines of one destination: for syslog, the records awaiting the receiver's TCP
/// acknowledgement and those re-sent after a broken connection; for Splunk, the HEC acks.
fn render_counters(out: &mut String, d: &DestinationStatus) {
    if d.kind == "syslog" {
        let _ = writeln!(
            out,
            "  backlog {}, delivered {}, awaiting TCP acknowledgement {}, re-sent after a \
             broken connection {} (possible duplicates), retries {}, dead-lettered {}",
            d.backlog,
            d.delivered,
            d.acks_pending,
            d.possible_duplicates,
            d.retries,
            d.dead_lettered
        );
    } else {
        let _ = writeln!(
            out,
            "  backlog {}, delivered {}, retries {}, possible duplicates {}, \
             dead-lettered {}, acks pending {}",
            d.backlog,
            d.delivered,
            d.retries,
            d.possible_duplicates,
            d.dead_lettered,
            d.acks_pending
        );
    }
    if d.possible_loss > 0 {
        let _ = writeln!(
            out,
            "  possibly lost {}: counted delivered once written (confirm = \"write\"), then \
             the receiver's connection broke (see docs/operations.md)",
            d.possible_loss
        );
    }
}

/// The hosts line of a destination with several: `hosts: a:6514 up, b:6514 down (tried
/// again in 25s)`; nothing for one host.
fn render_hosts(out: &mut String, d: &DestinationStatus, now_ms: u64) {
    if d.hosts.len() < 2 {
        return;
    }
    let hosts: Vec<String> = d
        .hosts
        .iter()
        .map(|h| match h.down_until_ms {
            Some(until) if h.state == "down" && until > now_ms => format!(
                "{} down (tried again in {})",
                h.host,
                duration(until - now_ms)
            ),
            // Its down time is over: it is tried again at the next send.
            _ => format!("{} up", h.host),
        })
        .collect();
    let _ = writeln!(out, "  hosts: {}", hosts.join(", "));
}

/// `3h 05m`, `2m 07s`, `41s`, `850ms`.
pub(crate) fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms}ms"),
        1..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// `812 B`, `3.4 KiB`, `1.0 GiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS.get(unit).copied().unwrap_or("TiB"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn a_written_snapshot_reads_back_equal_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("icsfwd-status-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = path_for(&dir.join("ingest.sock"));
        let mut snapshot = Snapshot::new("s1", 5);
        snapshot.ingest.accepted = 7;
        snapshot.destinations.push(DestinationStatus {
            name: "soc".into(),
            ..DestinationStatus::default()
        });
        write(&path, &snapshot).unwrap();
        assert_eq!(read(&path).unwrap(), snapshot);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_status_file_has_mode_0640_whatever_the_umask_and_an_old_temporary_had() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("ingest.sock"));
        // A temporary left by a crash, readable by everyone, must not pass its mode on.
        let mut temp = path.as_os_str().to_owned();
        temp.push(".tmp");
        fs::write(&temp, "{}").unwrap();
        fs::set_permissions(&temp, fs::Permissions::from_mode(0o666)).unwrap();
        write(&path, &Snapshot::new("s1", 5)).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "{mode:o}");
    }

    #[test]
    fn a_stale_snapshot_says_the_service_is_not_running() {
        let snapshot = Snapshot::new("s1", 0);
        assert!(!snapshot.render(STALE_AFTER_MS).contains("WARNING"));
        assert!(
            snapshot
                .render(STALE_AFTER_MS + 1)
                .contains("not running or is stuck")
        );
    }

    #[test]
    fn retrying_or_parked_destinations_are_not_healthy() {
        for (state, healthy) in [
            ("idle", true),
            ("sending", true),
            ("retrying", false),
            ("parked", false),
        ] {
            let mut snapshot = Snapshot::new("s1", 0);
            snapshot.destinations.push(DestinationStatus {
                state: state.into(),
                ..DestinationStatus::default()
            });
            assert_eq!(snapshot.healthy(), healthy, "{state}");
        }
    }

    #[test]
    fn a_syslog_destination_shows_its_tcp_confirmation_window_and_its_re_sends() {
        let mut snapshot = Snapshot::new("s1", 0);
        snapshot.destinations.push(DestinationStatus {
            name: "siem".into(),
            kind: "syslog".into(),
            state: "sending".into(),
            delivered: 1_990,
            acks_pending: 37,
            possible_duplicates: 550,
            ..DestinationStatus::default()
        });
        snapshot.destinations.push(DestinationStatus {
            name: "soc".into(),
            kind: "hec".into(),
            acks_pending: 5,
            ..DestinationStatus::default()
        });
        let shown = snapshot.render(0);
        assert!(
            shown.contains(
                "delivered 1990, awaiting TCP acknowledgement 37, re-sent after a broken \
                 connection 550 (possible duplicates)"
            ),
            "{shown}"
        );
        assert!(shown.contains("acks pending 5"), "{shown}");
        assert!(!shown.contains("HEC"), "{shown}");
    }

    #[test]
    fn the_hosts_of_a_destination_with_several_are_shown_with_their_down_marks() {
        let host = |host: &str, down_until_ms: Option<u64>| HostStatus {
            host: host.into(),
            state: if down_until_ms.is_some() {
                "down"
            } else {
                "up"
            }
            .into(),
            down_until_ms,
        };
        let mut snapshot = Snapshot::new("s1", 0);
        snapshot.destinations.push(DestinationStatus {
            name: "siem".into(),
            kind: "syslog".into(),
            hosts: vec![
                host("a:6514", Some(25_000)),
                host("b:6514", None),
                host("c:6514", Some(4_000)),
            ],
            ..DestinationStatus::default()
        });
        snapshot.destinations.push(DestinationStatus {
            name: "soc".into(),
            kind: "hec".into(),
            hosts: vec![host("https://one:8088", None)],
            ..DestinationStatus::default()
        });
        // At 5 s: a is down for 20 s more; c's down time is over, so it is tried again.
        let shown = snapshot.render(5_000);
        assert!(
            shown.contains("  hosts: a:6514 down (tried again in 20s), b:6514 up, c:6514 up\n"),
            "{shown}"
        );
        assert_eq!(
            shown.matches("hosts:").count(),
            1,
            "one host shows none: {shown}"
        );
        let json = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(json["destinations"][0]["hosts"][0]["state"], "down");
        assert_eq!(json["destinations"][0]["hosts"][0]["down_until_ms"], 25_000);
        assert_eq!(
            json["destinations"][1]["hosts"][0]["host"],
            "https://one:8088"
        );
    }

    #[test]
    fn spare_segment_files_are_shown_only_when_the_spool_has_or_used_some() {
        let mut snapshot = Snapshot::new("s1", 0);
        assert!(!snapshot.render(0).contains("spare"));
        snapshot.spool.spares = 2;
        snapshot.spool.spare_bytes = 3 << 20;
        snapshot.spool.segments_reused = 7;
        let shown = snapshot.render(0);
        assert!(
            shown.contains(
                "  2 spare segment file(s) kept for reuse (3.0 MiB); 7 new segment(s) reused one\n"
            ),
            "{shown}"
        );
        // A status file written before these members reads with them at 0.
        let mut json = serde_json::to_value(&snapshot).unwrap();
        let spool = json["spool"].as_object_mut().unwrap();
        for member in ["spares", "spare_bytes", "segments_reused"] {
            assert!(spool.remove(member).is_some());
        }
        let old: Snapshot = serde_json::from_value(json).unwrap();
        assert_eq!(old.spool.spares, 0);
    }

    #[test]
    fn a_possible_loss_is_shown_only_when_there_is_one() {
        let mut snapshot = Snapshot::new("s1", 0);
        snapshot.destinations.push(DestinationStatus {
            name: "siem".into(),
            ..DestinationStatus::default()
        });
        assert!(!snapshot.render(0).contains("possibly lost"));
        if let Some(d) = snapshot.destinations.first_mut() {
            d.possible_loss = 12;
        }
        assert!(snapshot.render(0).contains("possibly lost 12"));
        let old_file = r#"{"name":"siem","kind":"syslog","state":"idle","reason":null,"backlog":0,
            "delivered":0,"retries":0,"possible_duplicates":0,"dead_lettered":0,"acks_pending":0,
            "last_error":null,"last_error_ms":null,"last_success_ms":null}"#;
        let read: DestinationStatus = serde_json::from_str(old_file).unwrap();
        assert_eq!(
            read.possible_loss, 0,
            "a file written before the field still reads"
        );
    }

    #[test]
    fn durations_and_sizes_read_naturally() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(41_000), "41s");
        assert_eq!(duration(127_000), "2m 07s");
        assert_eq!(duration(11_100_000), "3h 05m");
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(3 * 1024 + 400), "3.4 KiB");
        assert_eq!(bytes(1 << 30), "1.0 GiB");
    }

    #[test]
    fn a_file_that_is_not_a_snapshot_is_named_in_the_error() {
        let path = std::env::temp_dir().join(format!("icsfwd-status-bad-{}", std::process::id()));
        fs::write(&path, "hello").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("not an icsfwd status file"), "{err}");
        fs::remove_file(&path).unwrap();
    }
}
