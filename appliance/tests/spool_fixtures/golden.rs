//! The golden spool `spool_fixtures/v1/`: a spool written by icsfwd 0.1 (record format 1,
//! checkpoint format 1), committed so that every later release must open it, drain it and
//! deliver exactly what it holds (`docs/spool.md`, "Compatibility").
//!
//! [`write`] made it, through the spool's own API, as the service would have:
//!
//! 1. five events are accepted, one batch each, into a spool of 600-byte segments (so two
//!    segments, `…01.seg` with records 1–3 and `…04.seg` with records 4–5): four alerts that
//!    use every field kind (IPv4 and IPv6, MACs, ports, UTF-8, every engine and severity, one
//!    alert truncated) and an "alerts dropped" notification ([`events`]);
//! 2. `dest-0` delivers record 1; Splunk refuses record 2 for good, so it goes to the
//!    dead-letter file `deadletter/dest-0.jsonl` (with its lock file `dest-0.lock`), and
//!    `dest-0` is acknowledged up to 2;
//! 3. a checkpoint persists that (`checkpoint`; `dest-1` still at 0) and empties the progress
//!    log;
//! 4. `dest-1` delivers record 1 and is acknowledged: one line in `progress`, no checkpoint
//!    (the service was killed before its next one).
//!
//! What a release that opens it must deliver ([`backlog`]): `dest-0` records 3 and 4, `dest-1`
//! records 3 and 5 (record 1 is covered by the progress log), each exactly once; and the dead
//! letter (record 2) on `icsfwd deadletter replay dest-0`.
//!
//! Regenerate it only when this version must change it on purpose — never for a new format
//! version, which gets a fixture of its own beside this one:
//!
//! ```text
//! ICSFWD_WRITE_GOLDEN=1 cargo test -p icsfwd --test spool -- --ignored write_golden_spool_v1
//! ```
#![allow(clippy::unwrap_used, reason = "tests")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use icsfwd::testing::deliver::deadletter::DeadLetters;
use icsfwd::testing::spool::storage::FsStorage;
use icsfwd::testing::spool::{Spool, SpoolConfig};
use icsfwd_core::alert::{Alert, Engine, Event, MacAddr, Notification, NotificationKind, Severity};
use icsfwd_core::destination::{DestinationId, DestinationSet};

/// The destinations, in configuration order (index = bit in the records).
pub const NAMES: [&str; 2] = ["dest-0", "dest-1"];

/// Why Splunk refused record 2, as the dead-letter file says.
pub const DEAD_LETTER_REASON: &str = "event refused: HTTP 400, HEC code 6 \"Invalid data format\"";

/// The committed fixture.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spool_fixtures/v1")
}

pub fn names() -> Vec<String> {
    NAMES.iter().map(|n| (*n).to_owned()).collect()
}

pub fn config() -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 600,
        ..SpoolConfig::default()
    }
}

fn dest(i: u8) -> DestinationId {
    DestinationId::new(i).unwrap()
}

/// The golden events with their destinations; record `i + 1` is element `i`.
pub fn events() -> Vec<(Event, DestinationSet)> {
    let mut out = Vec::new();
    for (i, severity) in Severity::ALL.into_iter().enumerate() {
        let engine = [
            Engine::ProtocolViolation,
            Engine::PolicyViolation,
            Engine::Malware,
            Engine::Anomaly,
        ][i];
        let mut alert = Alert::new(
            100 + i as u64,
            1_764_000_000_000 + i as u64,
            engine,
            severity,
        );
        alert.set_title(&format!("Golden alert {i} — Überwachung"));
        alert.set_message("Line one\nline \"two\" with tab\tand back\\slash");
        alert.set_protocol("Modbus/TCP");
        alert.set_group("Golden group");
        alert.source.ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1 + i as u8));
        alert.source.mac = Some(MacAddr([0, 0x50, 0x56, 1, 2, i as u8]));
        alert.source.port = Some(502);
        alert.set_source_name("HMI-01");
        alert.destination.ip = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x10 + i as u16));
        alert.set_destination_name("PLC-07");
        alert.set_sensor_name("sensor-golden");
        alert.set_sensor_version("1.0.0");
        if i == 3 {
            alert.set_group(&"g".repeat(200)); // cut to capacity: truncated flag set
        }
        let dests = DestinationSet::from_bits(if i % 2 == 0 { 0b11 } else { 0b01 });
        out.push((Event::from(alert), dests));
    }
    let mut notification = Notification::new(7, 1_764_000_000_100, NotificationKind::AlertsDropped);
    notification.set_text("3 alerts dropped (quota)");
    notification.set_sensor_name("sensor-golden");
    out.push((Event::from(notification), DestinationSet::from_bits(0b10)));
    out
}

/// The sequence numbers destination `index` must still receive from the fixture.
pub fn backlog(index: u8) -> Vec<u64> {
    match index {
        0 => vec![3, 4],
        _ => vec![3, 5],
    }
}

/// The event of record `seq`.
pub fn event(seq: u64) -> Event {
    events()[usize::try_from(seq - 1).unwrap()].0.clone()
}

/// Writes the golden spool into `dir`: the steps of the module docs, which made the committed
/// fixture.
pub fn write(dir: &Path) {
    let (mut spool, _) = Spool::open(FsStorage::new(), dir, config(), &names()).unwrap();
    for event in events() {
        spool.append_batch(&[event]).unwrap();
    }
    DeadLetters::new(dir, NAMES[0])
        .append(&[(2, &event(2))], DEAD_LETTER_REASON)
        .unwrap();
    spool.ack(dest(0), 2).unwrap();
    spool.checkpoint().unwrap();
    spool.ack(dest(1), 1).unwrap();
}

/// Every file under `dir` (the dead-letter directory included) by relative path, with its
/// bytes.
pub fn read_tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    for (path, meta) in walk(dir) {
        if meta.is_file() {
            files.insert(relative(dir, &path), std::fs::read(&path).unwrap());
        }
    }
    files
}

/// `tree` (from [`read_tree`]) with each segment cut at its data's end: a frame's last
/// byte is never its delimiter, so the data ends one byte after the last non-zero byte.
pub fn data_only(
    mut tree: std::collections::BTreeMap<String, Vec<u8>>,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    for (name, bytes) in &mut tree {
        if icsfwd::testing::spool::segment::parse_file_name(name).is_some() {
            let data = bytes
                .iter()
                .rposition(|&b| b != 0)
                .map_or(0, |last| last + 2);
            bytes.truncate(data);
        }
    }
    tree
}

/// A copy of the committed fixture in a fresh temporary directory.
pub fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_into(dir.path());
    dir
}

/// Copies the committed fixture into `dir`, with an empty lock file beside it.
///
/// The spool's lock file ([`icsfwd::testing::spool::lock::FILE`]) is taken by recovery step 0 before
/// anything is read, so even an open that refuses the spool writes its pid there. A spool
/// this release ever opened has one already (the file is never removed); the copy gets one
/// too, and [`snapshot`] leaves it out: it is the one file a refusal may write.
pub fn copy_into(dir: &Path) {
    for (name, bytes) in read_tree(&self::dir()) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    std::fs::write(dir.join(icsfwd::testing::spool::lock::FILE), b"").unwrap();
}

/// What a refusal must leave unchanged: every entry under `dir` (directories too) but the lock
/// file (see [`copy_into`]) with its kind, size, mode, modification time in nanoseconds and,
/// for a file, the CRC-32C of its bytes.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, (bool, u64, u32, i128, u32)> {
    use std::os::unix::fs::MetadataExt as _;
    walk(dir)
        .into_iter()
        .filter(|(path, _)| *path != dir.join(icsfwd::testing::spool::lock::FILE))
        .map(|(path, meta)| {
            let crc = if meta.is_file() {
                icsfwd_core::record::crc::checksum(&std::fs::read(&path).unwrap())
            } else {
                0
            };
            let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            (
                relative(dir, &path),
                (meta.is_dir(), meta.len(), meta.mode(), mtime, crc),
            )
        })
        .collect()
}

/// `dir` itself and everything below it, depth first.
fn walk(dir: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    let mut out = vec![(dir.to_path_buf(), std::fs::metadata(dir).unwrap())];
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push((path, meta));
        }
    }
    out
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Turns the copy in `dir` into a spool a release of another record format wrote: the last
/// record of the last segment gets format `version`, its CRC made valid again (a genuine
/// record, not damage). Returns that segment and the record's offset in it.
pub fn forge_record_version(dir: &Path, version: u8) -> (PathBuf, u64) {
    use icsfwd_core::record::{CRC_LEN, cobs, crc};
    let path = dir.join("00000000000000000004.seg");
    let bytes = std::fs::read(&path).unwrap();
    let body = &bytes[..bytes.len() - 1];
    let start = body.iter().rposition(|&b| b == 0).map_or(0, |i| i + 1);
    let mut raw = vec![0u8; bytes.len() - start];
    let n = cobs::decode(&bytes[start..bytes.len() - 1], &mut raw).unwrap();
    raw.truncate(n);
    raw[2] = version;
    let covered = raw.len() - CRC_LEN;
    let sum = crc::checksum(&raw[..covered]);
    raw[covered..].copy_from_slice(&sum.to_le_bytes());
    let mut frame = vec![0u8; cobs::max_encoded_len(raw.len())];
    let m = cobs::encode(&raw, &mut frame).unwrap();
    let mut forged = bytes[..start].to_vec();
    forged.extend_from_slice(&frame[..m]);
    forged.push(0);
    std::fs::write(&path, forged).unwrap();
    (path, start as u64)
}

/// Turns the copy in `dir` into a spool whose checkpoint a release of checkpoint format
/// `version` wrote (header changed, CRC valid).
pub fn forge_checkpoint_version(dir: &Path, version: u64) {
    let path = dir.join("checkpoint");
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    let text = text.replace(
        "icsfwd-spool-checkpoint 1\n",
        &format!("icsfwd-spool-checkpoint {version}\n"),
    );
    let body = &text[..text.rfind("crc32c ").unwrap()];
    let sum = icsfwd_core::record::crc::checksum(body.as_bytes());
    std::fs::write(&path, format!("{body}crc32c {sum:08x}\n")).unwrap();
}
