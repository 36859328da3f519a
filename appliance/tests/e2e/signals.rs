//! The service under its signals and under the unit's restart policy (`etc/icsfwd.service`):
//! SIGHUP reloads and the process keeps running with the same pid; SIGTERM and SIGINT stop
//! it gracefully with the documented exit code (`icsfwd run --help`, `appliance/src/exit.rs`);
//! kill -9 ends it. For each ending, the unit's `Restart=` and `RestartPreventExitStatus=`
//! (parsed from the unit file) must start it again — no signal leaves the forwarder down —
//! while an invalid configuration (2) and a spool owned by another user (77) must not be
//! restarted in a loop. `systemd-analyze verify` checks the unit itself.

use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::e2e::{Service, scratch, socket_in, start_service, write_config_body};

const UNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../etc/icsfwd.service");

/// The restart settings of the unit's `[Service]` section.
#[derive(Debug)]
struct RestartPolicy {
    restart: String,
    prevent: Vec<i32>,
}

fn policy() -> RestartPolicy {
    let text = std::fs::read_to_string(UNIT).unwrap();
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::trim)
            .map(str::to_owned)
    };
    RestartPolicy {
        restart: value("Restart").unwrap_or_else(|| "no".to_owned()),
        prevent: value("RestartPreventExitStatus")
            .unwrap_or_default()
            .split_whitespace()
            .map(|code| code.parse().unwrap())
            .collect(),
    }
}

impl RestartPolicy {
    /// Whether systemd starts the service again after it ended with `status` (not by
    /// `systemctl stop`), following systemd.service(5): exit code 0 and the signals SIGHUP,
    /// SIGINT, SIGTERM and SIGPIPE are a clean ending; `RestartPreventExitStatus=` codes are
    /// never restarted.
    fn restarts(&self, status: ExitStatus) -> bool {
        if let Some(code) = status.code()
            && self.prevent.contains(&code)
        {
            return false;
        }
        let clean = match (status.code(), status.signal()) {
            (Some(code), _) => code == 0,
            (None, Some(signal)) => [1, 2, 13, 15].contains(&signal),
            (None, None) => false,
        };
        match self.restart.as_str() {
            "always" => true,
            "on-success" => clean,
            "on-failure" => !clean,
            "on-abnormal" => status
                .signal()
                .is_some_and(|s| ![1, 2, 13, 15].contains(&s)),
            "on-abort" => status
                .signal()
                .is_some_and(|s| ![1, 2, 13, 15].contains(&s)),
            _ => false,
        }
    }
}

fn config(dir: &Path) -> std::path::PathBuf {
    write_config_body(
        dir,
        "[[destination]]\nname = \"udp\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\nport = 9\n\
         transport = \"udp\"\n\n[[rule]]\nname = \"all\"\nactions = [\"udp\"]\n",
    )
}

fn signal(service: &Service, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &service.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

fn accepts(dir: &Path, id: u64) -> bool {
    let mut producer = crate::e2e::Producer::connect(&socket_in(dir));
    let answer = producer
        .exchange(crate::e2e::alert_line(id, "Major", "signal test").as_bytes())
        .unwrap();
    answer["status"] == "accepted"
}

#[test]
fn sighup_reloads_in_place_and_every_other_signal_ending_is_restarted_by_the_unit() {
    let policy = policy();
    let dir = scratch("signals");
    let config = config(&dir);

    let mut service = start_service(&config, &dir);
    let pid = service.pid();
    for round in 1..=3 {
        signal(&service, "HUP");
        let status =
            crate::e2e::wait_for_status("the reload", &config, Duration::from_secs(20), |s| {
                s["reload"]["applied"] == round
            });
        assert_eq!(status["pid"], pid, "the same process reloaded");
        assert!(service.exited().is_none(), "SIGHUP ended the process");
        assert!(accepts(&dir, round), "ingest goes on after a reload");
    }
    signal(&service, "TERM");
    let (status, log) = service.wait_log();
    assert_eq!(status.code(), Some(0), "SIGTERM stops gracefully: {log:#?}");
    assert!(
        policy.restarts(status),
        "{policy:?} leaves it down after SIGTERM"
    );

    let service = start_service(&config, &dir);
    signal(&service, "INT");
    let (status, log) = service.wait_log();
    assert_eq!(status.code(), Some(0), "SIGINT stops gracefully: {log:#?}");
    assert!(
        policy.restarts(status),
        "{policy:?} leaves it down after SIGINT"
    );

    let service = start_service(&config, &dir);
    signal(&service, "KILL");
    let (status, _) = service.wait_log();
    assert_eq!(status.signal(), Some(9));
    assert!(
        policy.restarts(status),
        "{policy:?} leaves it down after kill -9"
    );

    // What a restart cannot fix is not restarted in a loop.
    for code in [2, 77] {
        assert!(
            !policy.restarts(ExitStatus::from_raw(code << 8)),
            "{policy:?} restarts exit {code} in a loop"
        );
    }
    // A failed spool write is restarted.
    assert!(policy.restarts(ExitStatus::from_raw(75 << 8)));
}

#[test]
fn systemd_analyze_verifies_the_unit() {
    let probe = Command::new("systemd-analyze").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        println!(
            "SKIPPED: systemd-analyze cannot run here (install the Debian package systemd; \
             scripts/test-all.sh does)"
        );
        return;
    }
    let dir = scratch("unit");
    // The unit names /usr/bin/icsfwd; verify checks that every Exec*= is executable.
    let unit = std::fs::read_to_string(UNIT)
        .unwrap()
        .replace("/usr/bin/icsfwd", env!("CARGO_BIN_EXE_icsfwd"));
    let path = dir.join("icsfwd.service");
    std::fs::write(&path, unit).unwrap();
    let verified = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&verified.stderr);
    assert!(
        verified.status.success(),
        "systemd-analyze verify: {stderr}"
    );
    // A directive systemd cannot parse is only warned about: any output is a finding.
    assert!(
        stderr.trim().is_empty(),
        "systemd-analyze verify warns: {stderr}"
    );
}
