//! `icsfwd test <destination>`, the real binary against the TLS emulator, for what failover
//! and the probe's success line add: every host of a destination is tested (and a host that
//! fails is named), and a success shows the HTTP status the server really answered.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::e2e::{icsfwd, scratch};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use icsfwd_sim::splunk::store::{Filter, ReceiverKind};

/// A configuration of `destinations` (TOML, `{ca}` replaced by the CA file).
fn write_config(dir: &Path, tls: &crate::support::Tls, destinations: &str) -> PathBuf {
    let text = format!(
        "[sensor]\nname = \"sensor-plant-a\"\nip = \"10.20.0.5\"\n\n{destinations}\n\
         [[rule]]\nname = \"everything\"\nactions = [\"hec\"]\n\n\
         [spool]\ndir = \"{spool}\"\n\n[ingest]\nsocket = \"{socket}\"\n",
        destinations = destinations.replace("{ca}", &tls.ca_file.display().to_string()),
        spool = dir.join("spool").display(),
        socket = dir.join("run").join("ingest.sock").display(),
    );
    let path = dir.join("icsfwd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// `icsfwd test <name>`: its exit code and standard output (no secret in either stream).
fn test(config: &Path, name: &str) -> (Option<i32>, String) {
    let output = icsfwd(&["test", name, "-c", config.to_str().unwrap()]);
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    crate::support::assert_no_secret(&[stdout.clone(), stderr]);
    (output.status.code(), stdout)
}

/// How many records `emulator` stored through `receiver`.
fn stored(emulator: &RunningEmulator, receiver: ReceiverKind) -> usize {
    let all = emulator.store().list(&Filter::default());
    all.iter().filter(|r| r.receiver == receiver).count()
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_success_shows_the_status_code_the_server_answered() {
    let tls = crate::support::Tls::new();
    let emulator = crate::support::start(&tls);
    let dir = scratch("cli-test-status");
    let destinations = format!(
        "[[destination]]\nname = \"hec\"\nkind = \"hec\"\nurls = [\"https://localhost:{hec}\"]\n\
         token = \"{token}\"\nca_file = \"{{ca}}\"\n\n\
         [[destination]]\nname = \"splunkd\"\nkind = \"splunk\"\nhost = \"localhost\"\n\
         port = {splunkd}\nusername = \"{user}\"\npassword = \"{password}\"\nca_file = \"{{ca}}\"\n",
        hec = emulator.hec_addr().port(),
        splunkd = emulator.splunkd_addr().port(),
        token = crate::support::HEC_TOKEN,
        user = crate::support::USER,
        password = crate::support::PASSWORD,
    );
    let config = write_config(&dir, &tls, &destinations);

    for name in ["hec", "splunkd"] {
        let (code, out) = test(&config, name);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("reply: HTTP 200 in "), "{out}");
        assert!(!out.contains("2xx"), "the real code, not a class: {out}");
    }
    // A collector that answers its success with 201: the line shows 201.
    emulator
        .faults()
        .add("hec:status=201,code=0".parse().unwrap())
        .unwrap();
    let (code, out) = test(&config, "hec");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("reply: HTTP 201 in "), "{out}");
    assert!(out.contains("result: delivered"), "{out}");
    drop(fs::remove_dir_all(&dir));
}

#[test]
fn every_host_is_tested_and_a_host_that_fails_is_named() {
    let tls = crate::support::Tls::new();
    let with_syslog = || {
        Emulator::start(EmulatorConfig {
            syslog_port: Some(0),
            ..crate::support::config(&tls)
        })
        .unwrap()
    };
    let (a, b) = (with_syslog(), with_syslog());
    let closed = closed_port();
    let dir = scratch("cli-test-failover");
    let destinations = format!(
        "[[destination]]\nname = \"hec\"\nkind = \"hec\"\n\
         urls = [\"https://localhost:{hec_a}\", \"https://localhost:{hec_b}\"]\n\
         token = \"{token}\"\nca_file = \"{{ca}}\"\n\n\
         [[destination]]\nname = \"splunkd\"\nkind = \"splunk\"\n\
         hosts = [\"localhost:{splunkd_a}\", \"127.0.0.1:{closed}\"]\n\
         username = \"{user}\"\npassword = \"{password}\"\nca_file = \"{{ca}}\"\n\
         connect_timeout = \"2s\"\n\n\
         [[destination]]\nname = \"siem\"\nkind = \"syslog\"\ntransport = \"tls\"\n\
         hosts = [\"localhost:{syslog_a}\", \"localhost:{syslog_b}\"]\nca_file = \"{{ca}}\"\n",
        hec_a = a.hec_addr().port(),
        hec_b = b.hec_addr().port(),
        splunkd_a = a.splunkd_addr().port(),
        syslog_a = a.syslog_addr().unwrap().port(),
        syslog_b = b.syslog_addr().unwrap().port(),
        token = crate::support::HEC_TOKEN,
        user = crate::support::USER,
        password = crate::support::PASSWORD,
    );
    let config = write_config(&dir, &tls, &destinations);

    let (code, out) = test(&config, "hec");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("host 1 of 2: https://localhost:"), "{out}");
    assert!(out.contains("host 2 of 2: https://localhost:"), "{out}");
    assert!(
        out.contains("result: delivered by each of the 2 hosts"),
        "{out}"
    );
    assert_eq!(
        (stored(&a, ReceiverKind::Hec), stored(&b, ReceiverKind::Hec)),
        (1, 1),
        "one test alert at each collector"
    );

    let (code, out) = test(&config, "siem");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("result: delivered by each of the 2 hosts"),
        "{out}"
    );
    assert_eq!(
        (
            stored(&a, ReceiverKind::Syslog),
            stored(&b, ReceiverKind::Syslog)
        ),
        (1, 1),
        "one test alert at each receiver"
    );

    let (code, out) = test(&config, "splunkd");
    assert_eq!(code, Some(1), "{out}");
    let failed = format!(
        "result: FAILED: 1 of 2 hosts failed (the service fails over to the others): 127.0.0.1:{closed}: "
    );
    assert!(out.contains(&failed), "{out}");
    assert!(
        out.contains("fix: connection refused: check host and port"),
        "{out}"
    );
    assert_eq!(
        stored(&a, ReceiverKind::Simple),
        1,
        "the host up took it: {out}"
    );
    drop(fs::remove_dir_all(&dir));
}
