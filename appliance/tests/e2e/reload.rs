//! Reload under load, against the real `icsfwd run` binary and the HEC emulator.
//!
//! - **The reload soak**: alerts stream into the service while `icsfwd reload` runs
//!   [`RELOADS`] times (`ICSFWD_RELOAD_SOAK_RELOADS`), cycling through configuration V1
//!   (destinations `a`, `b`, `c`), an invalid one (a rule naming an unknown destination) and
//!   V2 (`a`, `b`: `c` removed). Before each valid reload, `b`'s token file is rotated
//!   between two valid tokens, so `b` changes at every valid reload (its secret file is read
//!   again); `a` never changes; `c` is added at the first V1 (new), removed at every V2 (its
//!   backlog kept) and added back at every later V1. Asserted: every reload answered
//!   (applied with what changed, or refused with the `check-config` diagnostics), the refusals
//!   counted in `icsfwd status` and in `icsfwd_reloads_total`; no accepted alert lost on any
//!   destination; not one duplicate on `a`; `c` got nothing accepted before it was first
//!   added and everything accepted while it was configured.
//! - **A removed destination's backlog**: kept and reported ("removed, N records kept")
//!   until `icsfwd spool release-destination` lets it go.
//! - **Positions**: moving a destination that holds records is refused, nothing changed.
//!
//! `ICSFWD_RELOAD_SOAK_RELOADS` (default 100) sets the reloads of the soak; its figures are
//! printed (`docs/RELIABILITY.md` has them).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::e2e::{
    Producer, env_or, hec_destination, icsfwd, scratch, socket_in, start_service, wait_for_status,
    write_config_body,
};
use icsfwd_sim::splunk::emulator::{Emulator, RunningEmulator};
use icsfwd_sim::splunk::hec::Token;

/// Reloads of the soak in CI.
const RELOADS: u64 = 100;

/// A second valid HEC token: `b`'s token file alternates between it and `crate::support::HEC_TOKEN`.
const ROTATED_TOKEN: &str = "5d6e7f80-9a1b-4c2d-8e3f-40516273a4b5";

/// The emulator of `support`, with the rotated token too.
fn emulator(tls: &crate::support::Tls) -> RunningEmulator {
    let mut config = crate::support::config(tls);
    config
        .hec
        .tokens
        .push(Token::new("icsfwd-rotated", ROTATED_TOKEN));
    Emulator::start(config).unwrap()
}

/// Which configuration a reload puts in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// `a`, `b`, `c`.
    V1,
    /// A rule naming a destination that does not exist.
    Invalid,
    /// `a`, `b`.
    V2,
}

struct Setup {
    dir: PathBuf,
    url: String,
    ca: PathBuf,
}

impl Setup {
    fn write(&self, version: Version) -> PathBuf {
        let a = hec_destination(
            "a",
            std::slice::from_ref(&self.url),
            crate::support::HEC_TOKEN,
            &self.ca,
            "source = \"a\"",
        );
        let b = format!(
            "[[destination]]\nname = \"b\"\nkind = \"hec\"\nurls = [\"{url}\"]\n\
             token_file = \"{token}\"\nca_file = \"{ca}\"\nsource = \"b\"\n\
             batch_linger = \"20ms\"\nretry_min = \"100ms\"\nretry_max = \"1s\"\n",
            url = self.url,
            token = self.dir.join("b.token").display(),
            ca = self.ca.display(),
        );
        let c = hec_destination(
            "c",
            std::slice::from_ref(&self.url),
            crate::support::HEC_TOKEN,
            &self.ca,
            "source = \"c\"",
        );
        let names = match version {
            Version::V1 | Version::Invalid => "\"a\", \"b\", \"c\"",
            Version::V2 => "\"a\", \"b\"",
        };
        let mut body = format!("{a}\n{b}\n");
        if version != Version::V2 {
            body += &format!("{c}\n");
        }
        body += &format!("[[rule]]\nname = \"alerts\"\nactions = [{names}]\n");
        if version == Version::Invalid {
            body += "\n[[rule]]\nname = \"typo\"\nactions = [\"nope\"]\n";
        }
        body += &format!(
            "\n[metrics]\nlisten = \"unix:{}\"\n",
            self.dir.join("run").join("metrics.sock").display()
        );
        write_config_body(&self.dir, &body)
    }

    fn rotate_token(&self, round: u64) {
        let path = self.dir.join("b.token");
        let token = if round.is_multiple_of(2) {
            crate::support::HEC_TOKEN
        } else {
            ROTATED_TOKEN
        };
        std::fs::write(&path, token).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// One alert the producer sent: when, when answered, and whether it was accepted.
#[derive(Debug, Clone, Copy)]
struct Sent {
    id: u64,
    sent: Instant,
    answered: Instant,
    accepted: bool,
}

/// Streams alerts one at a time until `stop`; every alert's fate.
fn stream(socket: PathBuf, stop: Arc<AtomicBool>) -> Vec<Sent> {
    let mut producer = Producer::connect(&socket);
    let mut out = Vec::new();
    let mut id = 0;
    while !stop.load(Ordering::SeqCst) {
        id += 1;
        let sent = Instant::now();
        let line = crate::e2e::alert_line(id, "Major", "reload soak");
        let answer = producer.exchange(line.as_bytes()).expect("an answer");
        out.push(Sent {
            id,
            sent,
            answered: Instant::now(),
            accepted: answer["status"] == "accepted",
        });
        std::thread::sleep(Duration::from_millis(1));
    }
    out
}

/// One `icsfwd reload` as it happened.
#[derive(Debug)]
struct Reload {
    version: Version,
    began: Instant,
    ended: Instant,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn reload(config: &Path, version: Version) -> Reload {
    let began = Instant::now();
    let output = icsfwd(&["reload", "-c", config.to_str().unwrap()]);
    Reload {
        version,
        began,
        ended: Instant::now(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Per `source` (destination), each alert id HEC received with how often.
fn received(emulator: &RunningEmulator) -> BTreeMap<String, BTreeMap<u64, u64>> {
    let mut out: BTreeMap<String, BTreeMap<u64, u64>> = BTreeMap::new();
    for record in emulator.store().list(&Default::default()) {
        let json = record.to_json();
        let Some(id) = json["event"]["id"].as_str() else {
            continue;
        };
        let id: u64 = id.rsplit('-').next().unwrap().parse().unwrap();
        let source = json["source"].as_str().unwrap_or_default().to_owned();
        *out.entry(source).or_default().entry(id).or_insert(0) += 1;
    }
    out
}

/// `GET /metrics` on the service's Unix socket.
fn scrape(dir: &Path) -> String {
    let mut stream =
        std::os::unix::net::UnixStream::connect(dir.join("run").join("metrics.sock")).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: icsfwd\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

fn sample(metrics: &str, line_start: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in {metrics}"))
}

/// Checks each reload's answer; returns (applied, refused).
fn check_answers(reloads: &[Reload]) -> (u64, u64) {
    let (mut applied, mut refused) = (0, 0);
    let mut c_known = false;
    for r in reloads {
        match r.version {
            Version::Invalid => {
                assert_eq!(r.code, Some(2), "{r:?}");
                assert!(r.stderr.contains("icsfwd.toml:"), "{r:?}");
                assert!(
                    r.stderr.contains("no destination is named \"nope\""),
                    "{r:?}"
                );
                assert!(
                    r.stderr.contains("the running configuration stays"),
                    "{r:?}"
                );
                refused += 1;
            }
            Version::V1 | Version::V2 => {
                assert_eq!(r.code, Some(0), "{r:?}");
                assert!(r.stdout.starts_with("applied: "), "{r:?}");
                assert!(
                    r.stdout.contains("changed: b"),
                    "b's token file was rotated: {r:?}"
                );
                if r.version == Version::V1 {
                    assert!(r.stdout.contains("added: c"), "{r:?}");
                    c_known = true;
                } else if c_known {
                    assert!(r.stdout.contains("removed: c"), "{r:?}");
                }
                assert!(
                    !r.stdout.contains("a,") && !r.stdout.contains(": a;"),
                    "a is unchanged: {r:?}"
                );
                applied += 1;
            }
        }
    }
    (applied, refused)
}

/// The alerts `c` must hold: accepted while V1 was in force, from the answer of a V1 reload
/// to the start of the next V2 reload.
fn expected_on_c(reloads: &[Reload], sent: &[Sent]) -> BTreeSet<u64> {
    let mut windows = Vec::new();
    let mut open: Option<Instant> = None;
    for r in reloads {
        match r.version {
            Version::V1 => open = open.or(Some(r.ended)),
            Version::V2 => {
                if let Some(from) = open.take() {
                    windows.push((from, r.began));
                }
            }
            Version::Invalid => {}
        }
    }
    if let Some(from) = open {
        windows.push((from, Instant::now()));
    }
    sent.iter()
        .filter(|s| s.accepted)
        .filter(|s| {
            windows
                .iter()
                .any(|(from, to)| s.sent >= *from && s.answered <= *to)
        })
        .map(|s| s.id)
        .collect()
}

#[test]
fn a_hundred_reloads_while_alerts_stream_lose_nothing_and_duplicate_nothing_on_an_unchanged_destination()
 {
    let tls = crate::support::Tls::new();
    let emulator = emulator(&tls);
    let dir = scratch("reload-soak");
    let setup = Setup {
        dir: dir.to_path_buf(),
        url: format!("https://localhost:{}", emulator.hec_addr().port()),
        ca: tls.ca_file.clone(),
    };
    setup.rotate_token(0);
    let config = setup.write(Version::V2);
    let service = start_service(&config, &dir);

    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (socket, stop) = (socket_in(&dir), Arc::clone(&stop));
        std::thread::spawn(move || stream(socket, stop))
    };
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let total = env_or("ICSFWD_RELOAD_SOAK_RELOADS", RELOADS);
    let cycle = [Version::V1, Version::Invalid, Version::V2];
    let mut reloads = Vec::new();
    let mut rotations = 0;
    for round in 0..total {
        let version = cycle[(round % 3) as usize];
        if version != Version::Invalid {
            rotations += 1;
            setup.rotate_token(rotations);
        }
        setup.write(version);
        reloads.push(reload(&config, version));
    }
    // End on V1, so that `c` delivers what it kept while it was removed.
    if reloads.last().unwrap().version != Version::V1 {
        setup.rotate_token(rotations + 1);
        setup.write(Version::V1);
        reloads.push(reload(&config, Version::V1));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let sent = producer.join().unwrap();
    let streaming = started.elapsed();

    let (applied, refused) = check_answers(&reloads);
    let accepted: BTreeSet<u64> = sent.iter().filter(|s| s.accepted).map(|s| s.id).collect();
    assert_eq!(
        accepted.len(),
        sent.len(),
        "ingest refused alerts during reloads"
    );
    let status = wait_for_status(
        "every backlog delivered",
        &config,
        Duration::from_secs(60),
        |s| {
            s["destinations"]
                .as_array()
                .is_some_and(|ds| ds.len() == 3 && ds.iter().all(|d| d["backlog"] == 0))
                && s["reload"]["applied"] == applied
        },
    );
    assert_eq!(
        status["reload"]["refused"], refused,
        "every refusal counted: {status}"
    );
    // Counters only grow: b's restarted workers carry them on.
    let delivered = |i: usize| status["destinations"][i]["delivered"].as_u64().unwrap();
    assert_eq!(delivered(0), accepted.len() as u64, "{status}");
    assert!(delivered(1) >= accepted.len() as u64, "{status}");
    let metrics = scrape(&dir);
    assert_eq!(
        sample(&metrics, "icsfwd_reloads_total{result=\"refused\"} "),
        refused
    );
    assert_eq!(
        sample(&metrics, "icsfwd_reloads_total{result=\"applied\"} "),
        applied
    );

    let got = received(&emulator);
    let on = |name: &str| got.get(name).cloned().unwrap_or_default();
    let (a, b, c) = (on("a"), on("b"), on("c"));
    let lost_a: Vec<&u64> = accepted.iter().filter(|id| !a.contains_key(id)).collect();
    let lost_b: Vec<&u64> = accepted.iter().filter(|id| !b.contains_key(id)).collect();
    assert!(
        lost_a.is_empty() && lost_b.is_empty(),
        "lost on a: {lost_a:?}, on b: {lost_b:?}"
    );
    let duplicated_a: Vec<(&u64, &u64)> = a.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicated_a.is_empty(),
        "duplicates on the unchanged a: {duplicated_a:?}"
    );
    assert!(a.keys().all(|id| accepted.contains(id)) && b.keys().all(|id| accepted.contains(id)));
    let first_v1 = reloads
        .iter()
        .find(|r| r.version == Version::V1)
        .unwrap()
        .began;
    let before: Vec<u64> = sent
        .iter()
        .filter(|s| s.answered < first_v1)
        .map(|s| s.id)
        .collect();
    assert!(
        before.iter().all(|id| !c.contains_key(id)),
        "c got alerts accepted before it was added"
    );
    let expected_c = expected_on_c(&reloads, &sent);
    let lost_c: Vec<&u64> = expected_c.iter().filter(|id| !c.contains_key(id)).collect();
    assert!(lost_c.is_empty(), "lost on c: {lost_c:?}");
    assert!(c.keys().all(|id| accepted.contains(id)));

    let extra_b: u64 = b.values().map(|n| n - 1).sum();
    let extra_c: u64 = c.values().map(|n| n - 1).sum();
    println!(
        "reload soak: {} reloads ({applied} applied, {refused} refused) in {:.1} s while {} \
         alerts streamed ({} accepted); a: {} received, 0 lost, 0 duplicates; b (changed at \
         every valid reload): {} received, 0 lost, {extra_b} extra copies; c (added/removed): \
         {} received, {} required while configured, 0 lost, {extra_c} extra copies",
        reloads.len(),
        streaming.as_secs_f64(),
        sent.len(),
        accepted.len(),
        a.len(),
        b.len(),
        c.len(),
        expected_c.len(),
    );
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");
}

/// A HEC URL on 127.0.0.1 where nothing listens.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("https://localhost:{port}")
}

#[test]
fn a_removed_destinations_backlog_is_kept_and_reported_until_released_and_its_position_is_not_given_away()
 {
    let tls = crate::support::Tls::new();
    let emulator = emulator(&tls);
    let dir = scratch("reload-removed");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let a = hec_destination(
        "a",
        std::slice::from_ref(&url),
        crate::support::HEC_TOKEN,
        &tls.ca_file,
        "source = \"a\"",
    );
    let down = hec_destination(
        "down",
        &[closed_url()],
        crate::support::HEC_TOKEN,
        &tls.ca_file,
        "",
    );
    let d = hec_destination(
        "d",
        &[url],
        crate::support::HEC_TOKEN,
        &tls.ca_file,
        "source = \"d\"",
    );
    let rule = |names: &str| format!("[[rule]]\nname = \"alerts\"\nactions = [{names}]\n");
    let config = write_config_body(&dir, &format!("{a}\n{down}\n{}", rule("\"a\", \"down\"")));
    let service = start_service(&config, &dir);
    let mut producer = Producer::connect(&socket_in(&dir));
    for id in 1..=20 {
        let answer = producer
            .exchange(crate::e2e::alert_line(id, "Major", "kept").as_bytes())
            .unwrap();
        assert_eq!(answer["status"], "accepted");
    }
    wait_for_status("down's backlog", &config, Duration::from_secs(30), |s| {
        s["destinations"][1]["backlog"] == 20 && s["destinations"][0]["backlog"] == 0
    });

    // Removed: applied, and the backlog is kept and reported.
    write_config_body(&dir, &format!("{a}\n{}", rule("\"a\"")));
    let applied = icsfwd(&["reload", "-c", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&applied.stdout);
    assert_eq!(applied.status.code(), Some(0), "{applied:?}");
    assert!(stdout.contains("removed: down"), "{stdout}");
    let status = wait_for_status("down removed", &config, Duration::from_secs(10), |s| {
        s["destinations"][1]["state"] == "removed"
    });
    assert_eq!(status["destinations"][1]["backlog"], 20, "{status}");
    let text = icsfwd(&["status", "-c", config.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("down (hec): removed, 20 records kept"),
        "{text}"
    );
    assert!(
        text.contains("icsfwd spool release-destination down"),
        "{text}"
    );

    // A new destination may not take the position whose records are kept.
    write_config_body(&dir, &format!("{a}\n{d}\n{}", rule("\"a\", \"d\"")));
    let refused = icsfwd(&["reload", "-c", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(5), "{refused:?}");
    assert!(stderr.contains("release-destination down"), "{stderr}");
    assert!(
        stderr.contains("the running configuration stays"),
        "{stderr}"
    );

    // Releasing: not a configured destination, not an unknown one; then the removed one.
    for (name, why) in [
        ("a", "is in the configuration"),
        ("zzz", "keeps nothing for"),
    ] {
        let out = icsfwd(&[
            "spool",
            "release-destination",
            name,
            "-c",
            config.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{out:?}"
        );
    }
    let out = icsfwd(&[
        "spool",
        "release-destination",
        "down",
        "-c",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("released: 20 record(s)"),
        "{out:?}"
    );
    wait_for_status("down released", &config, Duration::from_secs(10), |s| {
        s["destinations"].as_array().is_some_and(|d| d.len() == 1)
    });

    // Now the position is free: d takes it and gets only what comes after.
    let applied = icsfwd(&["reload", "-c", config.to_str().unwrap()]);
    assert_eq!(applied.status.code(), Some(0), "{applied:?}");
    assert!(String::from_utf8_lossy(&applied.stdout).contains("added: d"));
    let answer = producer
        .exchange(crate::e2e::alert_line(21, "Major", "after").as_bytes())
        .unwrap();
    assert_eq!(answer["status"], "accepted");
    wait_for_status("d delivered", &config, Duration::from_secs(30), |s| {
        s["destinations"][1]["delivered"] == 1 && s["destinations"][0]["backlog"] == 0
    });
    let got = received(&emulator);
    assert_eq!(got["a"].len(), 21);
    assert_eq!(
        got["d"].keys().copied().collect::<Vec<_>>(),
        [21],
        "d starts after the reload"
    );
    let (code, log) = service.stop();
    assert_eq!(code.code(), Some(0), "{log:#?}");
}

#[test]
fn a_destination_added_by_a_reload_has_its_latency_histograms() {
    let tls = crate::support::Tls::new();
    let emulator = emulator(&tls);
    let dir = scratch("reload-metrics");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let destination = |name: &str| {
        hec_destination(
            name,
            std::slice::from_ref(&url),
            crate::support::HEC_TOKEN,
            &tls.ca_file,
            &format!("source = \"{name}\""),
        )
    };
    let metrics = format!(
        "\n[metrics]\nlisten = \"unix:{}\"\n",
        dir.join("run").join("metrics.sock").display()
    );
    let rule = |names: &str| format!("[[rule]]\nname = \"alerts\"\nactions = [{names}]\n");
    let config = write_config_body(
        &dir,
        &format!("{}\n{}{metrics}", destination("a"), rule("\"a\"")),
    );
    let service = start_service(&config, &dir);
    write_config_body(
        &dir,
        &format!(
            "{}\n{}\n{}{metrics}",
            destination("a"),
            destination("added"),
            rule("\"a\", \"added\"")
        ),
    );
    let answer = reload(&config, Version::V1);
    assert_eq!(answer.code, Some(0), "{answer:?}");
    let mut producer = Producer::connect(&socket_in(&dir));
    for id in 1..=20 {
        let answer = producer
            .exchange(crate::e2e::alert_line(id, "Major", "after the reload").as_bytes())
            .unwrap();
        assert_eq!(answer["status"], "accepted");
    }
    wait_for_status("both delivered", &config, Duration::from_secs(30), |s| {
        s["destinations"][0]["delivered"] == 20 && s["destinations"][1]["delivered"] == 20
    });
    // The scrape shows the status of the tick after the deliveries, and its positions.
    let deadline = Instant::now() + Duration::from_secs(10);
    let key =
        "icsfwd_destination_delivery_latency_seconds_count{destination=\"added\",kind=\"hec\"}";
    let mut text = scrape(&dir);
    while !text.contains(&format!("{key} 20")) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        text = scrape(&dir);
    }
    assert_eq!(sample(&text, key), 20, "{text}");
    let a = "icsfwd_destination_delivery_latency_seconds_count{destination=\"a\",kind=\"hec\"}";
    assert_eq!(sample(&text, a), 20);
    drop(service);
}
