//! Debian's `rsyslogd` as a test receiver: found where Debian installs it (a missing one is a
//! loud SKIPPED, see [`skipped`]), its configuration written from a template in
//! `tests/syslog/`, started in the foreground without privileges on 127.0.0.1 and stopped
//! with SIGTERM.

use std::fs;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use icsfwd_core::alert::Event;
use icsfwd_sim::scenario::{Params, Scenario};

use super::wait_for;

/// The workspace's root directory (the templates and the fidelity venv are under it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Prints a loud SKIPPED (straight to stderr: libtest swallows a passing test's output) and
/// passes, or fails with `ICSFWD_REQUIRE_ALL=1`.
pub fn skipped(what: &str, fix: &str) {
    let bar = "!".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!!! SKIPPED: {what} is not installed: {fix}\n{bar}\n"
    );
    assert!(
        std::env::var("ICSFWD_REQUIRE_ALL").as_deref() != Ok("1"),
        "ICSFWD_REQUIRE_ALL=1: {what} missing: {fix}"
    );
}

/// The `rsyslogd` executable where Debian installs it, if it is installed.
pub fn find_rsyslogd() -> Option<PathBuf> {
    ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/bin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A loopback TCP port nothing listens on now (bound on port 0, then released for rsyslogd).
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes `dir/rsyslog.conf` from `template` (a path from the workspace root) with every
/// `(placeholder, value)` of `values` replaced, and returns its path.
pub fn write_config(dir: &Path, template: &str, values: &[(&str, String)]) -> PathBuf {
    let mut config = fs::read_to_string(workspace_root().join(template)).unwrap();
    for (placeholder, value) in values {
        config = config.replace(placeholder, value);
    }
    let path = dir.join("rsyslog.conf");
    fs::write(&path, config).unwrap();
    path
}

/// Starts `rsyslogd -n` (in the foreground: the child is the daemon) on `dir/rsyslog.conf`,
/// its pidfile in `dir` and its own messages to `stderr`, and waits until it accepts
/// connections on every port of `ports`.
pub fn spawn(binary: &Path, dir: &Path, stderr: Stdio, ports: &[u16]) -> Child {
    drop(fs::remove_file(dir.join("rsyslogd.pid")));
    let mut child = Command::new(binary)
        .args(["-n", "-f"])
        .arg(dir.join("rsyslog.conf"))
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    wait_for("rsyslogd to listen", Duration::from_secs(20), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("rsyslogd exited at start ({status})");
        }
        ports
            .iter()
            .all(|port| TcpStream::connect(("127.0.0.1", *port)).is_ok())
    });
    child
}

/// Stops rsyslogd as its service manager would (SIGTERM) and waits for it.
pub fn stop(child: &mut Child) {
    drop(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status(),
    );
    drop(child.wait());
}

/// The first `count` alerts of the mixed scenario drawn with `seed` (notifications left out:
/// a rule without `system_notifications` does not forward them), their event ids distinct.
pub fn generated_alerts(count: usize, seed: u64) -> Vec<(u64, Event)> {
    let params = Params {
        rate: 1_000_000.0,
        count: (count * 2) as u64,
        seed,
        ..Params::default()
    };
    let alerts: Vec<_> = Scenario::Mixed
        .events(&params)
        .unwrap()
        .filter(|(_, event)| matches!(event, Event::Alert(_)))
        .take(count)
        .collect();
    assert_eq!(alerts.len(), count);
    assert_eq!(
        super::ids_of(&alerts).len(),
        count,
        "the generator repeated an id"
    );
    alerts
}
