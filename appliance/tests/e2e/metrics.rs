//! `[metrics]` of a real `icsfwd run` under load: alerts stream through the ingest socket to
//! the Splunk emulator (one HEC destination with indexer acks, one with a wrong token, so
//! parked) while the endpoint is scraped.
//!
//! - Every scrape taken under load passes Prometheus' own `promtool check metrics` with no
//!   error and no lint warning (Debian package `prometheus`).
//! - After the load, the values are what `icsfwd status` and the producer saw: lines
//!   accepted, the histograms' counts (one ingest observation per accepted line, one fsync
//!   observation per spool fsync, one delivery and one ack observation per delivered
//!   record), the parked destination's state and reason.
//! - The OpenMetrics answer (asked for by `Accept`) ends with `# EOF`.
//! - The metrics table of `docs/operations.md` lists exactly the families the endpoint
//!   exposes, with their types.
//! - A real Prometheus server (same package) scrapes the endpoint every second and its HTTP
//!   API returns the values (about 5 s more).
//!
//! Without the `prometheus` package those two checks print a loud SKIPPED and pass, unless
//! `ICSFWD_REQUIRE_ALL=1` (set by `scripts/test-all.sh` when it could install it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{destination, everything_to, hec_destination, scratch, start_service};
use icsfwd::testing::metrics::families::FAMILIES;
use icsfwd_sim::scenario::{Params, Scenario};
use serde_json::Value;

/// Alerts of the load, sent over about 4 s.
const ALERTS: u64 = 6_000;
const RATE: f64 = 1_500.0;

/// A token the emulator does not know: its destination parks ("credentials rejected").
const WRONG_TOKEN: &str = "00000000-1111-2222-3333-444444444444";

/// Prints a loud SKIPPED (straight to stderr) and passes, or fails with
/// `ICSFWD_REQUIRE_ALL=1`.
fn skipped(what: &str) {
    let bar = "!".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!!! SKIPPED: {what}: Debian package prometheus is not installed \
         (apt-get install prometheus)\n{bar}\n"
    );
    assert!(
        std::env::var("ICSFWD_REQUIRE_ALL").as_deref() != Ok("1"),
        "ICSFWD_REQUIRE_ALL=1: {what} needs the prometheus package"
    );
}

fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.0 GET: (status line and headers, body).
fn get(addr: SocketAddr, target: &str, accept: Option<&str>) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {target} HTTP/1.0\r\nHost: {addr}\r\n{accept}\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

/// Samples of a 0.0.4 exposition: `name{labels}` → value.
fn samples(body: &str) -> BTreeMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_owned(), value.parse().unwrap())
        })
        .collect()
}

fn value(samples: &BTreeMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no sample {key} in {samples:#?}"))
}

/// `promtool check metrics` on `body`: its exit status and everything it printed.
fn promtool_check(promtool: &Path, body: &str) -> (bool, String) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// The metrics table of docs/operations.md: name → type.
fn documented() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `icsfwd_"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = format!("icsfwd_{}", cells[0].trim_end_matches('`'));
            (name, cells[1].to_owned())
        })
        .collect()
}

#[test]
fn a_scrape_under_load_passes_promtool_shows_the_status_counters_and_prometheus_reads_it() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("metrics");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let port = free_port();
    let metrics: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let body = hec_destination(
        "soc-hec",
        std::slice::from_ref(&url),
        support::ACK_TOKEN,
        &tls.ca_file,
        "ack = true",
    ) + &hec_destination(
        "soc-noack",
        std::slice::from_ref(&url),
        support::HEC_TOKEN,
        &tls.ca_file,
        "",
    ) + &hec_destination("siem-bad", &[url], WRONG_TOKEN, &tls.ca_file, "")
        + &everything_to("soc-hec")
        + "[[rule]]\nname = \"all alerts\"\nactions = [\"soc-noack\"]\n\n"
        + "[[rule]]\nname = \"critical\"\nmin_severity = \"critical\"\nactions = [\"siem-bad\"]\n\n"
        + &format!("[metrics]\nlisten = \"{metrics}\"\n");
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let promtool = tool("promtool");

    // The load, and scrapes while it runs.
    let params = Params {
        rate: RATE,
        count: ALERTS,
        seed: 11,
        ..Params::default()
    };
    let events: Vec<_> = Scenario::Mixed.events(&params).unwrap().collect();
    let socket = e2e::socket_in(&dir);
    let feeder = std::thread::spawn(move || {
        let options = icsfwd_sim::feed::Options {
            pace: true,
            ..icsfwd_sim::feed::Options::default()
        };
        icsfwd_sim::feed::send(
            events.into_iter(),
            &icsfwd_sim::feed::Target::Unix(socket),
            &options,
            &mut |_| {},
        )
        .unwrap()
    });
    let mut under_load = 0;
    while !feeder.is_finished() {
        let (head, body) = get(metrics, "/metrics", None);
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
        let accepted = samples(&body)["icsfwd_ingest_accepted_total"];
        if feeder.is_finished() || accepted == 0.0 {
            continue;
        }
        under_load += 1;
        if let Some(promtool) = &promtool {
            let (ok, printed) = promtool_check(promtool, &body);
            assert!(
                ok && printed.trim().is_empty(),
                "promtool:\n{printed}\n{body}"
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let tally = feeder.join().unwrap();
    assert_eq!(tally.accepted, ALERTS, "{tally}");
    assert!(under_load >= 3, "only {under_load} scrapes under load");
    eprintln!(
        "{under_load} scrapes under load checked by promtool: {}",
        promtool.is_some()
    );
    if promtool.is_none() {
        skipped("promtool check metrics of the scrapes under load");
    }

    // After the load: the values of `icsfwd status` and of the histograms.
    let status = e2e::wait_for_status(
        "every line accepted and delivered",
        &config,
        Duration::from_secs(60),
        |s| {
            let soc = destination(s, "soc-hec");
            let noack = destination(s, "soc-noack");
            s["ingest"]["accepted"] == ALERTS
                && soc["backlog"] == 0
                && soc["acks_pending"] == 0
                && noack["backlog"] == 0
        },
    );
    let delivered = destination(&status, "soc-hec")["delivered"]
        .as_u64()
        .unwrap();
    let delivered_noack = destination(&status, "soc-noack")["delivered"]
        .as_u64()
        .unwrap();
    let fsyncs = status["spool"]["fsyncs"].as_u64().unwrap();
    let text = get(metrics, "/metrics", None).1;
    for secret in support::SECRETS.iter().chain([&WRONG_TOKEN]) {
        assert!(!text.contains(secret), "a secret in the metrics");
    }
    let scraped = samples(&text);
    let soc = "{destination=\"soc-hec\",kind=\"hec\"}";
    let bad = "{destination=\"siem-bad\",kind=\"hec\"}";
    assert_eq!(
        value(&scraped, "icsfwd_ingest_accepted_total"),
        ALERTS as f64
    );
    assert_eq!(
        value(&scraped, "icsfwd_ingest_accept_duration_seconds_count"),
        ALERTS as f64
    );
    assert_eq!(value(&scraped, "icsfwd_spool_fsyncs_total"), fsyncs as f64);
    assert_eq!(
        value(&scraped, "icsfwd_spool_fsync_duration_seconds_count"),
        fsyncs as f64
    );
    let name = |family: &str| format!("{family}{soc}");
    assert_eq!(
        value(&scraped, &name("icsfwd_destination_delivered_total")),
        delivered as f64
    );
    for histogram in [
        "icsfwd_destination_delivery_latency_seconds_count",
        "icsfwd_destination_ack_latency_seconds_count",
    ] {
        assert_eq!(
            value(&scraped, &name(histogram)),
            delivered as f64,
            "{histogram}"
        );
    }
    // Without acks a record is delivered by its send: timed, with no ack wait.
    let noack = |family: &str| format!("{family}{{destination=\"soc-noack\",kind=\"hec\"}}");
    assert_eq!(
        value(
            &scraped,
            &noack("icsfwd_destination_delivery_latency_seconds_count")
        ),
        delivered_noack as f64
    );
    assert_eq!(
        value(
            &scraped,
            &noack("icsfwd_destination_ack_latency_seconds_count")
        ),
        0.0
    );
    let parked = "icsfwd_destination_state{destination=\"siem-bad\",kind=\"hec\",state=\"parked\"}";
    assert_eq!(value(&scraped, parked), 1.0);
    assert!(value(&scraped, &format!("icsfwd_destination_backlog{bad}")) > 0.0);
    let info = scraped
        .keys()
        .find(|k| k.starts_with("icsfwd_destination_parked_info{destination=\"siem-bad\""))
        .expect("the parked destination's reason");
    assert!(info.contains("credentials rejected"), "{info}");
    assert!(!info.contains(WRONG_TOKEN), "{info}");

    // OpenMetrics when asked for.
    let (head, open) = get(
        metrics,
        "/metrics",
        Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
    );
    assert!(
        head.contains("Content-Type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(open.ends_with("\n# EOF\n"));
    assert!(open.contains("# TYPE icsfwd_ingest_accepted counter\n"));

    // docs/operations.md lists exactly what the endpoint exposes.
    let exposed: BTreeMap<String, String> = get(metrics, "/metrics", None)
        .1
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, _) = l.split_once(' ').unwrap();
            let family = FAMILIES.iter().find(|f| f.name == name).unwrap();
            (name.to_owned(), family.kind.as_str().to_owned())
        })
        .collect();
    assert_eq!(documented(), exposed, "docs/operations.md's metrics table");

    match tool("prometheus") {
        Some(prometheus) => {
            let started = Instant::now();
            prometheus_reads(&prometheus, &dir, metrics, delivered);
            eprintln!("Prometheus read the metrics in {:?}", started.elapsed());
        }
        None => skipped("the scrape by a real Prometheus server"),
    }
    let (status, log) = service.stop();
    assert!(status.success(), "{log:#?}");
    drop(std::fs::remove_dir_all(&dir));
}

/// A Prometheus server scraping `metrics` every second; its HTTP API must return the values.
fn prometheus_reads(binary: &Path, dir: &Path, metrics: SocketAddr, delivered: u64) {
    let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  \
             - job_name: icsfwd\n    static_configs:\n      - targets: ['{metrics}']\n"
        ),
    )
    .unwrap();
    let mut server = Server(
        Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={api}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let query = |q: &str| -> Value {
        let target = format!("/api/v1/query?query={}", percent(q));
        let (_, body) = get(api, &target, None);
        serde_json::from_str(&body).unwrap_or_default()
    };
    let first = |q: &str| -> Option<f64> {
        query(q)["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
    };
    let start = Instant::now();
    loop {
        assert!(
            server.0.try_wait().unwrap().is_none(),
            "prometheus exited at start"
        );
        let ready = TcpStream::connect(api).is_ok()
            && first("icsfwd_ingest_accepted_total") == Some(ALERTS as f64);
        if ready {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "Prometheus did not read icsfwd_ingest_accepted_total: {}",
            query("icsfwd_ingest_accepted_total")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The scrape itself was healthy (Prometheus asks for OpenMetrics first).
    let (_, targets) = get(api, "/api/v1/targets", None);
    let targets: Value = serde_json::from_str(&targets).unwrap();
    let target = &targets["data"]["activeTargets"][0];
    assert_eq!(target["health"], "up", "{target}");
    assert_eq!(target["lastError"], "", "{target}");
    let soc = "{destination=\"soc-hec\"}";
    assert_eq!(
        first(&format!(
            "icsfwd_destination_delivery_latency_seconds_count{soc}"
        )),
        Some(delivered as f64)
    );
    let parked = query("icsfwd_destination_parked_info");
    let reason = parked["data"]["result"][0]["metric"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("credentials rejected"), "{parked}");
    let quantile = first("histogram_quantile(0.99, icsfwd_spool_fsync_duration_seconds_bucket)");
    assert!(
        quantile.is_some_and(|q| q > 0.0 && q <= 2.5),
        "{quantile:?}"
    );
    server.stop();
}

/// A child process killed when dropped.
struct Server(Child);

impl Server {
    fn stop(&mut self) {
        drop(self.0.kill());
        drop(self.0.wait());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `text` percent-encoded for a query string.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The spool's lock comes before the metrics endpoint: a second `icsfwd run` of the same
/// configuration is refused for the spool in use (exit 73, naming the running pid), not for
/// the metrics address the first one holds, and the first one's endpoint still answers.
#[test]
fn a_second_run_on_the_same_spool_is_refused_for_the_spool_not_for_the_metrics_address() {
    let dir = scratch("metrics-second");
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let body = format!(
        "[[destination]]\nname = \"syslog-soc\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\n\
         port = 9\ntransport = \"udp\"\n\n{}\n[metrics]\nlisten = \"{metrics}\"\n",
        everything_to("syslog-soc")
    );
    let config = e2e::write_config_body(&dir, &body);
    let first = start_service(&config, &dir);
    let second = e2e::icsfwd(&["run", "-c", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(73), "{stderr}");
    assert!(
        stderr.contains(&format!("(pid {})", first.pid())),
        "{stderr}"
    );
    assert!(!stderr.contains("metrics endpoint"), "{stderr}");
    let (head, _) = get(metrics, "/metrics", None);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let (status, log) = first.stop();
    assert!(status.success(), "{log:#?}");
    drop(std::fs::remove_dir_all(&dir));
}
