//! Files keep their owner: `icsfwd deadletter replay` and `icsfwd run` refuse to write into a
//! spool that belongs to another user, naming the command to run instead; `--as-owner` makes a
//! replay switch to the owner first, so every file it creates or replaces is the owner's.
//!
//! The spool is given to `nobody` (uid 65534) with `chown`, which needs root: run as another
//! user, these tests check only what that user can (the refusal of a switch).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::{hec_destination, icsfwd, scratch, write_config_body};
use icsfwd::testing::deliver::deadletter::DeadLetters;
use icsfwd_sim::splunk::store::Filter;

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    fs::metadata("/proc/self").unwrap().uid() == 0
}

/// A scratch directory others may traverse (the owner of the spool inside must reach it).
fn open_scratch(test: &str) -> e2e::Scratch {
    let dir = scratch(test);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `chown -R uid:gid path`.
fn chown_all(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            chown_all(&entry.unwrap().path(), uid, gid);
        }
    }
}

/// Every entry under `dir`: path, owner, mode, size, modification time.
fn listing(dir: &Path) -> Vec<(PathBuf, u32, u32, u64, i64)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        out.push((
            path.clone(),
            meta.uid(),
            meta.mode(),
            meta.len(),
            meta.mtime_nsec() + meta.mtime() * 1_000_000_000,
        ));
        if meta.is_dir() {
            out.extend(listing(&path));
        }
    }
    out.sort();
    out
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = icsfwd(args);
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_replay_as_root_on_a_spool_of_another_user_refuses_or_switches_with_as_owner() {
    if !is_root() {
        eprintln!("skipped: giving the spool to another user needs root");
        return;
    }
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = open_scratch("owner-replay");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let body = hec_destination("soc-hec", &[url], support::HEC_TOKEN, &tls.ca_file, "")
        + "[[rule]]\nname = \"all\"\nactions = [\"soc-hec\"]\n";
    let config = write_config_body(&dir, &body);
    let config = config.to_str().unwrap();
    let spool = dir.join("spool");
    let events = support::events(2);
    let mut file = DeadLetters::new(&spool, "soc-hec");
    for (i, event) in events.iter().enumerate() {
        file.append(&[(10 + i as u64, event)], "event refused: HTTP 400 code 6")
            .unwrap();
    }
    chown_all(&spool, NOBODY, NOBODY);
    let before = listing(&spool);

    let (code, _, stderr) = run(&["deadletter", "replay", "soc-hec", "-c", config]);
    assert_eq!(code, Some(77), "{stderr}");
    for expected in [
        format!(
            "the spool {} belongs to nobody (uid 65534), but this command runs as root (uid 0)",
            spool.display()
        ),
        format!(
            "run it as the owner: runuser -u nobody -- {} deadletter replay soc-hec -c {config}",
            env!("CARGO_BIN_EXE_icsfwd")
        ),
        "--as-owner".to_owned(),
    ] {
        assert!(stderr.contains(&expected), "{expected:?} not in: {stderr}");
    }
    assert_eq!(
        listing(&spool),
        before,
        "the refused replay touched the spool"
    );
    assert!(emulator.store().list(&Filter::default()).is_empty());

    // The command it names works, and so does --as-owner: every file stays nobody's.
    let (code, out, stderr) = run(&[
        "deadletter",
        "replay",
        "soc-hec",
        "-c",
        config,
        "--as-owner",
    ]);
    assert_eq!(code, Some(0), "{out}\n{stderr}");
    assert!(out.contains("2 delivered, 0 still refused"), "{out}");
    assert_eq!(emulator.store().list(&Filter::default()).len(), 2);
    let deadletter = spool.join("deadletter");
    for name in ["soc-hec.jsonl", "soc-hec.lock", "soc-hec.replay.lock"] {
        let meta = fs::metadata(deadletter.join(name)).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o7777),
            (NOBODY, NOBODY, 0o640),
            "{name}"
        );
    }
    for (path, uid, ..) in listing(&spool) {
        assert_eq!(uid, NOBODY, "{} is not nobody's", path.display());
    }
    drop(fs::remove_dir_all(&dir));
}

#[test]
fn run_as_root_on_a_spool_of_another_user_refuses_before_touching_it() {
    if !is_root() {
        eprintln!("skipped: giving the spool to another user needs root");
        return;
    }
    let dir = open_scratch("owner-run");
    let body = "[[destination]]\nname = \"syslog-soc\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\n\
                port = 9\ntransport = \"udp\"\n\n[[rule]]\nname = \"all\"\n\
                actions = [\"syslog-soc\"]\n";
    let config = write_config_body(&dir, body);
    let spool = dir.join("spool");
    fs::create_dir(&spool).unwrap();
    chown_all(&spool, NOBODY, NOBODY);

    let (code, _, stderr) = run(&["run", "-c", config.to_str().unwrap()]);
    assert_eq!(code, Some(77), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot run: the spool {} belongs to nobody (uid 65534), but this command runs as \
             root (uid 0)",
            spool.display()
        )) && stderr.contains("start the service (systemctl start icsfwd), or run it as the owner: runuser -u nobody --"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_dir(&spool).unwrap().count(),
        0,
        "the refused run created files"
    );
    drop(fs::remove_dir_all(&dir));
}

#[test]
fn as_owner_run_by_a_user_who_may_not_switch_is_refused() {
    // Run as nobody (through setpriv when this is root), on a spool of another user.
    let dir = open_scratch("owner-switch");
    let spool = dir.join("spool");
    fs::create_dir(&spool).unwrap();
    let body = "[[destination]]\nname = \"syslog-soc\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\n\
                port = 9\ntransport = \"udp\"\n\n[[rule]]\nname = \"all\"\n\
                actions = [\"syslog-soc\"]\n";
    let config = write_config_body(&dir, body);
    let mut command = if is_root() {
        fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
        let mut command = Command::new("setpriv");
        command.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            env!("CARGO_BIN_EXE_icsfwd"),
        ]);
        command
    } else {
        // The spool is this user's: nothing to switch, the replay has nothing to do.
        Command::new(env!("CARGO_BIN_EXE_icsfwd"))
    };
    let out = command
        .args([
            "deadletter",
            "replay",
            "syslog-soc",
            "-c",
            config.to_str().unwrap(),
            "--as-owner",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    if is_root() {
        assert_eq!(out.status.code(), Some(77), "{stderr}");
        assert!(
            stderr.contains("cannot switch to root (uid 0) (")
                && stderr.contains("only root can: run the command as root (uid 0) instead"),
            "{stderr}"
        );
        assert_eq!(fs::read_dir(&spool).unwrap().count(), 0);
    } else {
        assert_eq!(out.status.code(), Some(0), "{stderr}");
    }
    drop(fs::remove_dir_all(&dir));
}
