//! HTTP destinations through a real proxy: Debian's `tinyproxy`, started by each test on
//! 127.0.0.1, in front of the TLS emulator. `icsfwd test` (the real binary, the real senders)
//! delivers through it, the proxy's own log shows the `CONNECT`; the proxy environment
//! variables are ignored unless `proxy = "env"`; a dead or refusing proxy is named in the
//! error; proxy authentication uses `proxy_credentials_file`, whose password is never printed.
//!
//! Without `tinyproxy` each test prints a loud SKIPPED and passes, unless
//! `ICSFWD_REQUIRE_ALL=1`, then it fails (`scripts/test-all.sh` installs it).

use std::fs;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::e2e::{icsfwd_command, scratch, wait_for};
use icsfwd_sim::splunk::emulator::RunningEmulator;

const PROXY_USER: &str = "icsfwdproxy";
// Letters and digits only: tinyproxy's BasicAuth line takes no other characters.
const PROXY_PASSWORD: &str = "proxyPw4ux9Zq";

/// Prints a loud SKIPPED (straight to stderr: libtest swallows a passing test's output) and
/// passes, or fails with `ICSFWD_REQUIRE_ALL=1`.
fn skipped(what: &str, fix: &str) {
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

/// The `tinyproxy` executable, if installed.
fn tinyproxy_binary() -> Option<PathBuf> {
    let found = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        skipped(
            "tinyproxy",
            "apt-get install tinyproxy (scripts/test-all.sh does)",
        );
    }
    found
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A running tinyproxy, stopped on drop.
struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Tinyproxy {
    /// Starts tinyproxy on 127.0.0.1 with `extra` configuration lines (`BasicAuth`,
    /// `ConnectPort`); without a `ConnectPort` line it tunnels to any port.
    fn start(binary: &Path, dir: &Path, extra: &str) -> Self {
        let port = free_port();
        let log = dir.join(format!("tinyproxy-{port}.log"));
        let conf = dir.join(format!("tinyproxy-{port}.conf"));
        let text = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{}\"\nLogLevel Info\n\
             MaxClients 20\nAllow 127.0.0.1\n{extra}\n",
            log.display()
        );
        fs::write(&conf, text).unwrap();
        let child = Command::new(binary)
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for("tinyproxy to listen", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Self { child, port, log }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// A configuration with one `hec` destination `hec` to the emulator (its `extra` lines
/// added) and one `splunk` destination `splunk` (its `splunk_extra` lines added).
fn write_config(
    dir: &Path,
    tls: &crate::support::Tls,
    emulator: &RunningEmulator,
    extra: &str,
    splunk_extra: &str,
) -> PathBuf {
    let text = format!(
        r#"[sensor]
name = "sensor-plant-a"
ip = "10.20.0.5"

[[destination]]
name = "hec"
kind = "hec"
urls = ["https://localhost:{hec}"]
token = "{token}"
ca_file = "{ca}"
connect_timeout = "2s"
tls_timeout = "5s"
response_timeout = "10s"
{extra}

[[destination]]
name = "splunk"
kind = "splunk"
host = "localhost"
port = {splunkd}
username = "{user}"
password = "{password}"
ca_file = "{ca}"
connect_timeout = "2s"
{splunk_extra}

[[rule]]
name = "everything"
actions = ["hec"]

[spool]
dir = "{spool}"

[ingest]
socket = "{socket}"
"#,
        hec = emulator.hec_addr().port(),
        splunkd = emulator.splunkd_addr().port(),
        token = crate::support::HEC_TOKEN,
        user = crate::support::USER,
        password = crate::support::PASSWORD,
        ca = tls.ca_file.display(),
        spool = dir.join("spool").display(),
        socket = dir.join("run").join("ingest.sock").display(),
    );
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The credentials file, mode 0600.
fn credentials_file(dir: &Path) -> PathBuf {
    let path = dir.join("proxy-credentials");
    fs::write(&path, format!("{PROXY_USER}:{PROXY_PASSWORD}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
}

/// `icsfwd test <name>` with `env` set and every proxy variable not in `env` removed.
fn test_destination(config: &Path, name: &str, env: &[(&str, &str)]) -> Run {
    let mut command = icsfwd_command();
    command.args(["test", name, "-c", config.to_str().unwrap()]);
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    crate::support::assert_no_secret(&[stdout.clone(), stderr.clone()]);
    assert!(
        !stdout.contains(PROXY_PASSWORD) && !stderr.contains(PROXY_PASSWORD),
        "the proxy password was printed:\n{stdout}\n{stderr}"
    );
    Run {
        code: output.status.code(),
        stdout: format!("{stdout}{stderr}"),
    }
}

fn assert_delivered(run: &Run, path: &str) {
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("result: delivered"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("path: {path}")),
        "path {path:?} missing from:\n{}",
        run.stdout
    );
}

/// How many `CONNECT`s to `localhost:<port>` tinyproxy logged.
fn connects(proxy: &Tinyproxy, port: u16) -> usize {
    let needle = format!("CONNECT localhost:{port}");
    proxy.log().matches(&needle).count()
}

#[test]
fn both_http_kinds_deliver_through_the_configured_proxy_and_its_log_shows_the_connect() {
    let Some(binary) = tinyproxy_binary() else {
        return;
    };
    let dir = scratch("proxy-configured");
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let proxy = Tinyproxy::start(&binary, &dir, "");
    let line = format!("proxy = \"{}\"", proxy.url());
    let config = write_config(&dir, &tls, &emulator, &line, &line);
    let via = format!("via proxy 127.0.0.1:{}", proxy.port);

    let hec = emulator.hec_addr().port();
    assert_eq!(connects(&proxy, hec), 0);
    assert_delivered(&test_destination(&config, "hec", &[]), &via);
    assert!(
        connects(&proxy, hec) >= 1,
        "tinyproxy log:\n{}",
        proxy.log()
    );

    let splunkd = emulator.splunkd_addr().port();
    assert_delivered(&test_destination(&config, "splunk", &[]), &via);
    assert!(
        connects(&proxy, splunkd) >= 1,
        "tinyproxy log:\n{}",
        proxy.log()
    );
}

#[test]
fn no_proxy_hosts_are_reached_directly() {
    let Some(binary) = tinyproxy_binary() else {
        return;
    };
    let dir = scratch("proxy-no-proxy");
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let proxy = Tinyproxy::start(&binary, &dir, "");
    let line = format!("proxy = \"{}\"\nno_proxy = [\"localhost\"]", proxy.url());
    let config = write_config(&dir, &tls, &emulator, &line, "");
    assert_delivered(&test_destination(&config, "hec", &[]), "direct");
    assert_eq!(
        connects(&proxy, emulator.hec_addr().port()),
        0,
        "{}",
        proxy.log()
    );
}

#[test]
fn the_proxy_environment_is_ignored_unless_proxy_is_env() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let env = [
        ("HTTPS_PROXY", dead.as_str()),
        ("https_proxy", dead.as_str()),
        ("ALL_PROXY", dead.as_str()),
        ("all_proxy", dead.as_str()),
    ];
    let dir = scratch("proxy-env-ignored");
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let config = write_config(&dir, &tls, &emulator, "", "");
    assert_delivered(&test_destination(&config, "hec", &env), "direct");
    assert_delivered(&test_destination(&config, "splunk", &env), "direct");
}

#[test]
fn proxy_env_honours_https_proxy_and_no_proxy() {
    let Some(binary) = tinyproxy_binary() else {
        return;
    };
    let dir = scratch("proxy-env");
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let proxy = Tinyproxy::start(&binary, &dir, "");
    let config = write_config(&dir, &tls, &emulator, "proxy = \"env\"", "");
    let url = proxy.url();
    let run = test_destination(&config, "hec", &[("HTTPS_PROXY", url.as_str())]);
    let via = format!("via proxy 127.0.0.1:{} (from HTTPS_PROXY)", proxy.port);
    assert_delivered(&run, &via);
    assert!(
        connects(&proxy, emulator.hec_addr().port()) >= 1,
        "{}",
        proxy.log()
    );

    // NO_PROXY names the host: direct, though HTTPS_PROXY names a dead proxy.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let env = [
        ("HTTPS_PROXY", dead.as_str()),
        ("NO_PROXY", "example.com,localhost"),
    ];
    assert_delivered(&test_destination(&config, "hec", &env), "direct");
}

#[test]
fn a_dead_or_refusing_proxy_is_named_in_the_error_with_its_fix() {
    let Some(binary) = tinyproxy_binary() else {
        return;
    };
    let dir = scratch("proxy-dead");
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let dead = free_port();
    let config = write_config(
        &dir,
        &tls,
        &emulator,
        &format!("proxy = \"http://127.0.0.1:{dead}\""),
        "",
    );
    let run = test_destination(&config, "hec", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("proxy 127.0.0.1:{dead} refused the connection")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("fix: the proxy failed, not the destination"),
        "{}",
        run.stdout
    );

    // A proxy that allows CONNECT only to port 443 answers 403 for the emulator's port.
    let strict = Tinyproxy::start(&binary, &dir, "ConnectPort 443");
    let line = format!("proxy = \"{}\"", strict.url());
    let config = write_config(&dir, &tls, &emulator, &line, "");
    let run = test_destination(&config, "hec", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let hec = emulator.hec_addr().port();
    let expected = format!(
        "proxy 127.0.0.1:{} answered 403 to CONNECT localhost:{hec}",
        strict.port
    );
    assert!(
        run.stdout.contains(&expected),
        "{expected:?} missing:\n{}",
        run.stdout
    );
}

#[test]
fn proxy_authentication_uses_the_credentials_file() {
    let Some(binary) = tinyproxy_binary() else {
        return;
    };
    let dir = scratch("proxy-auth");
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let proxy = Tinyproxy::start(
        &binary,
        &dir,
        &format!("BasicAuth {PROXY_USER} {PROXY_PASSWORD}"),
    );
    let without = format!("proxy = \"{}\"", proxy.url());
    let with = format!(
        "{without}\nproxy_credentials_file = \"{}\"",
        credentials_file(&dir).display()
    );
    let config = write_config(&dir, &tls, &emulator, &without, &with);
    let run = test_destination(&config, "hec", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout.contains("answered 407 to CONNECT"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("proxy_credentials_file"),
        "{}",
        run.stdout
    );

    let via = format!("via proxy 127.0.0.1:{}", proxy.port);
    assert_delivered(&test_destination(&config, "splunk", &[]), &via);
    assert!(
        connects(&proxy, emulator.splunkd_addr().port()) >= 1,
        "{}",
        proxy.log()
    );
}

/// `(destination lines, key path, message part, fix part)`: each refused by `check-config`.
const INVALID: &[(&str, &str, &str, &str)] = &[
    (
        "proxy = \"http://user:pw@127.0.0.1:3128\"",
        "destination[0].proxy",
        "the proxy URL holds credentials",
        "proxy_credentials_file (mode 0600)",
    ),
    (
        "proxy = \"socks5://127.0.0.1:1080\"",
        "destination[0].proxy",
        "socks5:// proxies are not supported",
        "fix: write proxy = \"http://",
    ),
    (
        "proxy = \"http://127.0.0.1\"",
        "destination[0].proxy",
        "the port is required",
        "fix: write proxy = \"http://",
    ),
    (
        "no_proxy = [\"localhost\"]",
        "destination[0].no_proxy",
        "no_proxy is set but no proxy is set",
        "fix: set proxy = \"http://host:port\", or remove no_proxy",
    ),
    (
        "proxy = \"env\"\nno_proxy = [\"localhost\"]",
        "destination[0].no_proxy",
        "proxy = \"env\" takes the proxy and its exceptions from the environment",
        "exceptions in NO_PROXY",
    ),
    (
        "proxy = \"http://127.0.0.1:3128\"\nno_proxy = [\"10.0.0.0/8\"]",
        "destination[0].no_proxy[0]",
        "is not a host name, domain or address",
        "no CIDR",
    ),
    (
        "proxy = \"http://127.0.0.1:3128\"\nproxy_credentials_file = \"OPEN\"",
        "destination[0].proxy_credentials_file",
        "readable by group or others",
        "chmod 600",
    ),
];

#[test]
fn invalid_proxy_settings_are_refused_with_place_and_fix() {
    let dir = scratch("proxy-invalid");
    let open = dir.join("open-credentials");
    fs::write(&open, format!("{PROXY_USER}:{PROXY_PASSWORD}\n")).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    for (lines, key, message, fix) in INVALID {
        let lines = lines.replace("OPEN", &open.display().to_string());
        let config = write_config(&dir, &tls, &emulator, &lines, "");
        let output = icsfwd_command()
            .args(["check-config", "-c", config.to_str().unwrap()])
            .output()
            .unwrap();
        let text = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{lines}: {text}");
        // The first destination's last lines start on line 14.
        let place = format!("{}:14:", config.display());
        let place_next = format!("{}:15:", config.display());
        assert!(
            text.contains(&place) || text.contains(&place_next),
            "{lines}: place missing:\n{text}"
        );
        for part in [*key, *message, *fix] {
            assert!(text.contains(part), "{lines}: {part:?} missing:\n{text}");
        }
        assert!(!text.contains(PROXY_PASSWORD), "{text}");
    }
    // On a syslog destination the keys do not apply.
    let syslog = format!(
        "{}\n[[destination]]\nname = \"siem\"\nkind = \"syslog\"\nhost = \"h\"\nproxy = \"env\"\n",
        fs::read_to_string(write_config(&dir, &tls, &emulator, "", "")).unwrap()
    );
    let config = dir.join("syslog.toml");
    fs::write(&config, syslog).unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
    let output = icsfwd_command()
        .args(["check-config", "-c", config.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stderr).unwrap();
    assert!(
        text.contains("`proxy` does not apply to a syslog destination"),
        "{text}"
    );
}

/// The service itself (not only `icsfwd test`) delivers through the proxy: 300 alerts, each
/// once, over connections the proxy's log shows it tunnelled.
#[test]
fn the_service_delivers_every_alert_once_through_the_proxy() {
    use icsfwd_sim::scenario::{Params, Scenario};
    use icsfwd_sim::splunk::store::ReceiverKind;

    let Some(binary) = tinyproxy_binary() else {
        return;
    };
    let dir = scratch("proxy-service");
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let proxy = Tinyproxy::start(&binary, &dir, "");
    let hec = emulator.hec_addr().port();
    let body = crate::e2e::hec_destination(
        "soc-hec",
        &[format!("https://localhost:{hec}")],
        crate::support::HEC_TOKEN,
        &tls.ca_file,
        &format!("proxy = \"{}\"\n", proxy.url()),
    ) + &crate::e2e::alerts_to("soc-hec");
    let config = crate::e2e::write_config_body(&dir, &body);
    let service = crate::e2e::start_service(&config, &dir);
    let mut shown = crate::e2e::Shown::default();
    let params = Params {
        rate: 1_000_000.0,
        count: 300,
        seed: 15,
        ..Params::default()
    };
    let events: Vec<_> = Scenario::Steady.events(&params).unwrap().collect();
    let all = crate::e2e::ids_of(&events);
    assert_eq!(crate::e2e::feed_all(&dir, events).accepted, 300);
    crate::e2e::wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "every alert delivered",
        Duration::from_secs(60),
        |d| d["delivered"] == 300 && d["backlog"] == 0,
    );
    let stored = crate::e2e::stored_ids(&emulator, ReceiverKind::Hec);
    let by = crate::e2e::counted(&stored);
    assert_eq!(
        by.keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        all
    );
    assert!(by.values().all(|n| *n == 1), "an alert arrived twice");
    assert!(
        connects(&proxy, hec) >= 1,
        "tinyproxy log:\n{}",
        proxy.log()
    );
    crate::e2e::stop_cleanly(service, &mut shown);
}
