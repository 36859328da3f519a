//! Reliability S10: format compatibility.
//!
//! `spool_fixtures/v1/` is a golden spool written by this version (record format 1,
//! checkpoint format 1): two segments, two destinations, destination 0 acknowledged up to 2.
//! Regenerate it (only when the format changes on purpose, together with a migration) with:
//!
//! ```text
//! ICSFWD_WRITE_GOLDEN=1 cargo test -p icsfwd --test spool_compat -- --ignored write_golden_spool_v1
//! ```
//!
//! Asserted: the golden spool reopens with the exact records and cursors; this version still
//! writes exactly those bytes; a record or a checkpoint of an unknown format version is
//! refused with an error naming the version, and no file is changed or deleted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod spool_support;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use icsfwd::spool::storage::FsStorage;
use icsfwd::spool::{CheckpointState, OpenError, Spool, SpoolConfig, verify};
use icsfwd_core::alert::{Alert, Engine, Event, MacAddr, Notification, NotificationKind, Severity};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::record::DecodeError;
use spool_support::frames::{reframe, spans};
use spool_support::{dest, names};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spool_fixtures/v1")
}

fn config() -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 600,
        ..SpoolConfig::default()
    }
}

/// The golden events: every field kind used (IPv4 and IPv6, MAC, ports, UTF-8 text, a
/// truncated field, every engine and severity) and a notification.
fn golden_events() -> Vec<(Event, DestinationSet)> {
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

/// Writes the golden spool into `dir` (the same steps produced the committed fixture).
fn write_golden(dir: &Path) {
    let (mut spool, _) = Spool::open(FsStorage::new(), dir, config(), &names(2)).unwrap();
    for event in golden_events() {
        spool.append_batch(&[event]).unwrap();
    }
    spool.ack(dest(0), 2).unwrap();
    spool.checkpoint().unwrap();
}

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// `files` without the spool's lock file: the lock (recovery step 0) is taken before the
/// open reads anything, so a refused open leaves it behind, and nothing else.
fn without_lock(mut files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    files.remove(icsfwd::spool::lock::FILE);
    files
}

fn copy_golden() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in read_dir(&golden_dir()) {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

#[test]
#[ignore = "writes the golden fixture; run with ICSFWD_WRITE_GOLDEN=1"]
fn write_golden_spool_v1() {
    assert_eq!(
        std::env::var("ICSFWD_WRITE_GOLDEN").as_deref(),
        Ok("1"),
        "set ICSFWD_WRITE_GOLDEN=1"
    );
    let dir = golden_dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    write_golden(&dir);
}

#[test]
fn s10_the_golden_v1_spool_reopens_with_its_exact_records_and_cursors() {
    let dir = copy_golden();
    let (mut spool, recovery) =
        Spool::open(FsStorage::new(), dir.path(), config(), &names(2)).unwrap();
    assert_eq!(recovery.checkpoint, CheckpointState::Valid);
    assert_eq!((recovery.records, recovery.next_seq), (5, 6));
    assert!(recovery.segments >= 2, "{recovery:?}");
    assert!(recovery.torn.is_empty() && recovery.corrupt.is_empty());
    assert_eq!(recovery.destinations[0].acked, 2);
    let events = golden_events();
    for d in 0..2u8 {
        let cursor = recovery.destinations[usize::from(d)].acked;
        let want: Vec<(u64, &Event)> = events
            .iter()
            .enumerate()
            .map(|(i, (e, ds))| (i as u64 + 1, e, ds))
            .filter(|(seq, _, ds)| ds.contains(dest(d)) && *seq > cursor)
            .map(|(seq, e, _)| (seq, e))
            .collect();
        let got = spool.peek(dest(d), 100).unwrap();
        let got: Vec<(u64, &Event)> = got.iter().map(|r| (r.seq, &r.event)).collect();
        assert_eq!(got, want, "destination {d}");
    }
    assert!(
        events[3].0.truncated(),
        "the golden set holds a truncated alert"
    );
}

#[test]
fn s10_this_version_still_writes_the_golden_bytes() {
    let dir = tempfile::tempdir().unwrap();
    write_golden(dir.path());
    // The progress log (`icsfwd::spool::progress`) came after v1: a hint that a spool without
    // it opens fine (the test above), and that the checkpoint at the end of the write empties.
    let mut written = read_dir(dir.path());
    assert_eq!(written.remove("progress"), Some(Vec::new()));
    // The spool's lock file (`icsfwd::spool::lock`, after v1 too) holds the writer's pid.
    assert_eq!(
        written.remove("lock"),
        Some(format!("{}\n", std::process::id()).into_bytes())
    );
    assert_eq!(
        written,
        read_dir(&golden_dir()),
        "the on-disk format changed: add a migration and a new fixture"
    );
}

#[test]
fn s10_a_record_of_an_unknown_format_version_is_refused_with_a_clear_error_and_nothing_deleted() {
    let dir = copy_golden();
    let name = read_dir(dir.path())
        .keys()
        .rev()
        .find(|n| n.ends_with(".seg"))
        .unwrap()
        .clone();
    let path = dir.path().join(&name);
    let bytes = std::fs::read(&path).unwrap();
    let frames = spans(&bytes);
    // Rewrite the last record as version 2 (a newer writer), CRC valid.
    let last = frames.last().unwrap().clone();
    let mut forged = bytes[..last.start].to_vec();
    forged.extend(reframe(&bytes[last.clone()], |raw| raw[2] = 2));
    std::fs::write(&path, &forged).unwrap();
    let before = read_dir(dir.path());

    let error = Spool::open(FsStorage::new(), dir.path(), config(), &names(2)).unwrap_err();
    match &error {
        OpenError::Refused {
            segment,
            offset,
            error,
        } => {
            assert_eq!(segment, &path);
            assert_eq!(*offset, last.start as u64);
            assert_eq!(*error, DecodeError::BadVersion { found: 2 });
        }
        other => panic!("expected a refusal, got {other}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("version 2 is not supported") && message.contains("refusing to start"),
        "{message}"
    );
    assert_eq!(
        without_lock(read_dir(dir.path())),
        before,
        "a refused open must not change or delete any file"
    );
    let report = verify(dir.path()).unwrap();
    assert_eq!(report.refused(), 1);
    assert!(!report.is_clean());
}

#[test]
fn s10_a_checkpoint_of_an_unknown_format_version_is_refused_not_overwritten() {
    // Regression: a checkpoint with another header was taken for damage, every cursor reset,
    // and the next checkpoint silently overwrote it with version 1.
    let dir = copy_golden();
    let path = dir.path().join("checkpoint");
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    let body = text.replace("icsfwd-spool-checkpoint 1", "icsfwd-spool-checkpoint 2");
    let body = &body[..body.rfind("crc32c ").unwrap()];
    let forged = format!(
        "{body}crc32c {:08x}\n",
        icsfwd_core::record::crc::checksum(body.as_bytes())
    );
    std::fs::write(&path, &forged).unwrap();
    let before = read_dir(dir.path());

    let error = Spool::open(FsStorage::new(), dir.path(), config(), &names(2)).unwrap_err();
    assert!(matches!(error, OpenError::CheckpointRefused(_)), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("icsfwd-spool-checkpoint 2") && message.contains("refusing to start"),
        "{message}"
    );
    assert_eq!(
        without_lock(read_dir(dir.path())),
        before,
        "a refused open must not change or delete any file"
    );
    let report = verify(dir.path()).unwrap();
    assert!(report.checkpoint_refused && !report.is_clean());
    assert!(report.to_string().contains("REFUSED"), "{report}");
}
