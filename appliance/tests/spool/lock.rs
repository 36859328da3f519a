//! One writer per spool, with the real binary: a second `icsfwd run` whose configuration names
//! the spool of a running one (and another ingest socket) refuses at once, naming the running
//! one's pid, before it touches the spool or creates its socket; once the first stops, a start
//! with the second configuration runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use e2e::{Service, icsfwd_command, scratch, socket_in, start_service, write_config_body};

/// A configuration in `dir` whose spool is `spool` (its socket stays in `dir`), delivering
/// every alert to a syslog receiver over UDP that nobody listens to (sending still succeeds).
fn config(dir: &Path, spool: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let body = "[[destination]]\nname = \"syslog-soc\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\n\
                port = 9\ntransport = \"udp\"\n\n[[rule]]\nname = \"everything\"\n\
                system_notifications = true\nactions = [\"syslog-soc\"]\n";
    let path = write_config_body(dir, body);
    let text = fs::read_to_string(&path).unwrap().replace(
        &format!("dir = \"{}\"", dir.join("spool").display()),
        &format!("dir = \"{}\"", spool.display()),
    );
    fs::write(&path, text).unwrap();
    path
}

/// Every entry of `dir` and of its subdirectories: path, size, modification time (ns), inode.
fn listing(dir: &Path) -> Vec<(String, u64, i64, u64)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = fs::symlink_metadata(entry.path()).unwrap();
        out.push((
            entry.path().display().to_string(),
            meta.len(),
            meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            meta.ino(),
        ));
        if meta.is_dir() {
            out.extend(listing(&entry.path()));
        }
    }
    out.sort();
    out
}

/// `icsfwd run -c config`, killed if it is still running after `deadline` (a second instance
/// that was not refused would run until stopped).
fn run_with_deadline(config: &Path, deadline: Duration) -> Output {
    let mut child = icsfwd_command()
        .args(["run", "-c", config.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > deadline {
            drop(child.kill());
            let out = child.wait_with_output().unwrap();
            panic!(
                "the second instance was not refused: it ran for {deadline:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn signal(service: &Service, name: &str) {
    let sent = Command::new("kill")
        .args([name, &service.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn a_second_run_on_a_spool_in_use_refuses_before_touching_it_and_the_lock_is_released_at_stop() {
    let root = scratch("spool-lock");
    let spool = root.join("spool");
    let first_config = config(&root.join("first"), &spool);
    let second_config = config(&root.join("second"), &spool);
    let first = start_service(&first_config, &root.join("first"));
    assert_eq!(
        fs::read_to_string(spool.join("lock")).unwrap(),
        format!("{}\n", first.pid())
    );

    // The first is stopped (SIGSTOP) while the second runs: it cannot write meanwhile, so any
    // change to the spool directory would be the second's. Its lock stays held.
    signal(&first, "-STOP");
    let before = listing(&spool);
    let started = Instant::now();
    let out = run_with_deadline(&second_config, Duration::from_secs(20));
    let took = started.elapsed();
    let after = listing(&spool);
    signal(&first, "-CONT");

    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(73), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot run: icsfwd is already running on spool {} (pid {}); stop it, or give this \
             instance its own spool.dir",
            spool.display(),
            first.pid()
        )),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "refused after {took:?}");
    assert_eq!(
        after, before,
        "the refused instance changed the spool directory"
    );
    assert!(
        !socket_in(&root.join("second")).exists(),
        "the refused instance created its ingest socket"
    );

    // The lock goes with the process: after the first stops, the second configuration runs.
    let (status, log) = first.stop();
    assert!(status.success(), "{log:#?}");
    let third = start_service(&second_config, &root.join("second"));
    assert_eq!(
        fs::read_to_string(spool.join("lock")).unwrap(),
        format!("{}\n", third.pid())
    );
    let (status, log) = third.stop();
    assert!(status.success(), "{log:#?}");
    drop(fs::remove_dir_all(&root));
}

#[test]
fn a_killed_holder_leaves_no_lock_behind() {
    let root = scratch("spool-lock-kill");
    let spool = root.join("spool");
    let config = config(&root.join("a"), &spool);
    let first = start_service(&config, &root.join("a"));
    let pid = first.pid();
    drop(first.kill()); // kill -9: no clean-up runs
    assert_eq!(
        fs::read_to_string(spool.join("lock")).unwrap(),
        format!("{pid}\n"),
        "the stale pid is still in the file"
    );
    // The socket of the killed one is still there (the new start replaces it): wait for the
    // new holder's pid in the lock file instead (taken after its signal handler is set up).
    let mut second = Service::start(&config);
    let lock = spool.join("lock");
    e2e::wait_for(
        "the new start to take the lock",
        Duration::from_secs(30),
        || {
            assert_eq!(second.exited(), None, "the restart after kill -9 exited");
            fs::read_to_string(&lock).unwrap() == format!("{}\n", second.pid())
        },
    );
    let (status, log) = second.stop();
    assert!(status.success(), "{log:#?}");
    drop(fs::remove_dir_all(&root));
}
