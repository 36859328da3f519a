//! Files keep their modes: every file icsfwd creates has mode 0640 and every directory 0750,
//! whatever the umask of the process that created it.
//!
//! The real binary runs under `umask 000` (without explicit modes: world-writable files) and
//! `umask 077` (without `fchmod`: files the group `icsfwd` cannot read): the service creates the
//! spool directory, the segments, the checkpoint, the progress log, the lock, the dead-letter
//! directory, a dead-letter file and its lock (a HEC destination refuses the first alert for
//! good); then `icsfwd deadletter replay` creates its replay lock and rewrites the dead-letter
//! file through its temporary file. Every entry under the spool directory is checked.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::{
    Producer, Service, alert_line, alerts_to, hec_destination, scratch, socket_in, wait_for,
    write_config_body,
};

/// `icsfwd <args>` under `umask`, through `sh` (which `exec`s it: the pid is icsfwd's).
fn under_umask(umask: &str, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_icsfwd"))
        .args(args);
    command
}

/// Every entry under `dir` (relative path) with its permission bits, `dir` itself first.
fn modes(dir: &Path) -> Vec<(String, bool, u32)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, bool, u32)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            out.push((name, meta.is_dir(), meta.permissions().mode() & 0o7777));
            if meta.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let meta = fs::metadata(dir).unwrap();
    let mut out = vec![(".".to_owned(), true, meta.permissions().mode() & 0o7777)];
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn every_file_is_0640_and_every_directory_0750_under(umask: &str) {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    // The first request is refused for good: its alert is dead-lettered.
    emulator
        .faults()
        .add("hec:status=400,code=6,next=1".parse().unwrap())
        .unwrap();
    let dir = scratch(&format!("modes-{umask}"));
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let body = hec_destination(
        "soc-hec",
        &[url],
        support::HEC_TOKEN,
        &tls.ca_file,
        "batch_max_events = 1",
    ) + &alerts_to("soc-hec");
    let config = write_config_body(&dir, &body);
    let config = config.to_str().unwrap();
    let spool = dir.join("spool");
    let dead_letters = spool.join("deadletter").join("soc-hec.jsonl");

    let service = Service::start_command(under_umask(umask, &["run", "-c", config]));
    let mut producer = Producer::connect(&socket_in(&dir));
    let answer = producer.exchange(alert_line(1, "major", "refused").as_bytes());
    assert_eq!(answer.unwrap()["status"], "accepted");
    wait_for("the dead letter", Duration::from_secs(30), || {
        dead_letters.exists()
    });
    for id in 2..=3 {
        let answer = producer.exchange(alert_line(id, "major", "delivered").as_bytes());
        assert_eq!(answer.unwrap()["status"], "accepted");
    }
    wait_for("two deliveries", Duration::from_secs(30), || {
        e2e::hec_ids(emulator.store()).len() == 2
    });
    drop(producer);
    let (status, log) = service.stop();
    assert!(status.success(), "{log:#?}");

    let replayed = under_umask(umask, &["deadletter", "replay", "soc-hec", "-c", config])
        .output()
        .unwrap();
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    assert_eq!(
        fs::read(&dead_letters).unwrap(),
        b"",
        "the replay rewrote it"
    );

    let found = modes(&spool);
    let names: Vec<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
    for expected in [
        ".",
        "checkpoint",
        "deadletter",
        "deadletter/soc-hec.jsonl",
        "deadletter/soc-hec.lock",
        "deadletter/soc-hec.replay.lock",
        "lock",
        "progress",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    assert!(names.iter().any(|n| n.ends_with(".seg")), "{names:?}");
    for (name, is_dir, mode) in &found {
        let want = if *is_dir { 0o750 } else { 0o640 };
        assert_eq!(
            *mode, want,
            "umask {umask}: {name} has mode {mode:o}, not {want:o}"
        );
    }
    drop(fs::remove_dir_all(&dir));
}

#[test]
fn under_a_lax_umask_nothing_is_readable_or_writable_by_others() {
    every_file_is_0640_and_every_directory_0750_under("000");
}

#[test]
fn under_a_strict_umask_the_group_still_reads_the_spool() {
    every_file_is_0640_and_every_directory_0750_under("077");
}
