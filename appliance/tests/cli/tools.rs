//! `icsfwd explain`, `icsfwd spool verify` and `icsfwd send`, run as an operator would: the
//! built binary in a scratch directory, against a real configuration, spool and ingest socket.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use icsfwd::ingest::schema::encode_line;
use icsfwd::testing::ingest::server::{IngestConfig, IngestServer, SpoolAdmit};
use icsfwd::testing::spool::storage::FsStorage;
use icsfwd::testing::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig};
use icsfwd_core::alert::{Alert, Event, Severity};
use icsfwd_core::destination::{DestinationId, DestinationSet};
use icsfwd_core::rule::{Rule, RuleSet};

/// Two destinations; critical S7 alerts go to both, everything of major and up to "soc".
const CONFIG: &str = r#"[sensor]
name = "sensor-plant-a"
ip = "10.20.0.5"

[[destination]]
name = "soc"
kind = "hec"
urls = ["https://127.0.0.1:8088"]
token = "11111111-2222-3333-4444-555555555555"

[[destination]]
name = "ot-team"
kind = "splunk"
host = "127.0.0.1"
username = "admin"
password = "changeme-now"

[[rule]]
name = "major and up"
min_severity = "major"
actions = ["soc"]

[[rule]]
name = "critical S7"
min_severity = "critical"
protocols = ["S7"]
actions = ["ot-team"]
"#;

/// A test's scratch directory, removed with its contents when dropped; derefs to its path.
struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

/// A fresh scratch directory for `test`.
fn scratch(test: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new()
            .prefix(&format!("icsfwd-cli-tools-{test}-"))
            .tempdir()
            .unwrap(),
    )
}

fn write_private(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn icsfwd(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_icsfwd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that fails early (a bad config) may exit before reading its input.
    if let Err(e) = input.write_all(stdin.unwrap_or_default().as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn alert_line(severity: Severity, protocol: &str) -> String {
    let mut alert = Alert::example(1_700_000_000_000);
    alert.severity = severity;
    alert.set_protocol(protocol);
    encode_line(&Event::from(alert))
}

#[test]
fn explain_names_each_rule_verdict_and_the_destinations() {
    let dir = scratch("explain");
    let config = write_private(&dir, "icsfwd.toml", CONFIG);
    let config = config.to_str().unwrap();

    let both = icsfwd(
        &["explain", "-c", config],
        Some(&alert_line(Severity::Critical, "S7")),
    );
    assert!(both.status.success(), "{both:?}");
    let out = text(&both.stdout);
    // Destinations are named as the configuration has them, never `#0`.
    assert!(
        out.contains("rule \"major and up\": matched -> destination[0] (\"soc\")\n"),
        "{out}"
    );
    assert!(
        out.contains("rule \"critical S7\": matched -> destination[1] (\"ot-team\")\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "result: forwarded to destination[0] (\"soc\"), destination[1] (\"ot-team\")\n"
        ),
        "{out}"
    );
    assert!(!out.contains('#'), "{out}");
    assert!(out.ends_with("=> forwarded to: soc, ot-team\n"), "{out}");

    let soc_only = icsfwd(
        &["explain", "-c", config],
        Some(&alert_line(Severity::Critical, "Modbus")),
    );
    assert!(
        text(&soc_only.stdout).ends_with("=> forwarded to: soc\n"),
        "{soc_only:?}"
    );

    let none = icsfwd(
        &["explain", "-c", config, "-"],
        Some(&alert_line(Severity::Minor, "S7")),
    );
    let out = text(&none.stdout);
    assert!(none.status.success(), "{none:?}");
    assert!(
        out.ends_with("=> not forwarded: no rule takes it\n"),
        "{out}"
    );
    assert!(
        out.contains("severity"),
        "the failed condition is named: {out}"
    );
}

#[test]
fn explain_of_a_bad_line_says_why_it_would_be_refused() {
    let dir = scratch("explain-bad");
    let config = write_private(&dir, "icsfwd.toml", CONFIG);
    let output = icsfwd(
        &["explain", "-c", config.to_str().unwrap()],
        Some(r#"{"type":"alert","severity":"loud"}"#),
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        text(&output.stderr).contains("would be refused"),
        "{output:?}"
    );
}

#[test]
fn explain_with_an_invalid_config_points_at_check_config_without_showing_secrets() {
    let dir = scratch("explain-invalid");
    let config = write_private(
        &dir,
        "icsfwd.toml",
        &CONFIG.replace("actions = [\"soc\"]", "actions = [\"nowhere\"]"),
    );
    let output = icsfwd(
        &["explain", "-c", config.to_str().unwrap()],
        Some(&alert_line(Severity::Critical, "S7")),
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let err = text(&output.stderr);
    assert!(err.contains("icsfwd check-config"), "{err}");
    assert!(err.contains("nowhere"), "{err}");
    assert!(
        !err.contains("changeme-now") && !err.contains("11111111-2222"),
        "{err}"
    );
}

fn spool_with_records(dir: &Path, count: u64) {
    let names = vec!["soc".to_owned()];
    let (mut spool, _) =
        Spool::open(FsStorage::new(), dir, SpoolConfig::default(), &names).unwrap();
    let to_soc = DestinationSet::EMPTY.with(DestinationId::new(0).unwrap());
    let batch: Vec<(Event, DestinationSet)> = (0..count)
        .map(|i| (Event::from(Alert::example(1_700_000_000_000 + i)), to_soc))
        .collect();
    for result in spool.append_batch(&batch).unwrap() {
        result.unwrap();
    }
}

#[test]
fn spool_verify_reports_a_clean_spool_and_exits_2_on_damage() {
    let dir = scratch("verify");
    let spool_dir = dir.join("spool");
    spool_with_records(&spool_dir, 5);

    let clean = icsfwd(&["spool", "verify", spool_dir.to_str().unwrap()], None);
    assert!(clean.status.success(), "{clean:?}");
    assert!(text(&clean.stdout).contains('5'), "{clean:?}");

    let segment = fs::read_dir(&spool_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    let mut bytes = fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    fs::write(&segment, bytes).unwrap();
    let damaged = icsfwd(&["spool", "verify", spool_dir.to_str().unwrap()], None);
    assert_eq!(damaged.status.code(), Some(2), "{damaged:?}");

    let missing = icsfwd(
        &[
            "spool",
            "verify",
            dir.join("nothing-here").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(
        text(&missing.stderr).contains("nothing-here"),
        "{missing:?}"
    );
}

#[test]
fn send_submits_a_file_and_prints_numbered_answers() {
    let dir = scratch("send");
    let names = vec!["soc".to_owned()];
    let (spool, _) = Spool::open(
        FsStorage::new(),
        &dir.join("spool"),
        SpoolConfig::default(),
        &names,
    )
    .unwrap();
    let commit = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let mut rules: Box<RuleSet> = Box::default();
    rules
        .push_rule(
            Rule::new("major and up")
                .unwrap()
                .with_min_severity(Severity::Major)
                .with_action(DestinationId::new(0).unwrap()),
        )
        .unwrap();
    let admit = SpoolAdmit::new(rules, commit.handle(), Box::new(|_| {}));
    let socket = dir.join("ingest.sock");
    let server = IngestServer::start(IngestConfig::new(socket.clone()), Arc::new(admit)).unwrap();

    let lines = [
        alert_line(Severity::Critical, "S7"),
        alert_line(Severity::Warning, "S7"),
        r#"{"type":"alert"}"#.to_owned(),
    ]
    .join("\n");
    let input = write_private(&dir, "alerts.jsonl", &lines);
    let output = icsfwd(
        &[
            "send",
            input.to_str().unwrap(),
            "--socket",
            socket.to_str().unwrap(),
        ],
        None,
    );
    let out = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(3),
        "one line refused: {output:?}"
    );
    assert!(out.contains(r#"1: {"status":"accepted""#), "{out}");
    assert!(out.contains(r#"2: {"status":"not_forwarded""#), "{out}");
    assert!(out.contains(r#"3: {"status":"refused""#), "{out}");

    drop(server);
    let stored = commit.shutdown().unwrap().stats();
    assert_eq!(stored.appended, 1, "only the accepted line is stored");

    let nobody = icsfwd(
        &[
            "send",
            "--socket",
            dir.join("absent.sock").to_str().unwrap(),
        ],
        Some(&alert_line(Severity::Critical, "S7")),
    );
    assert_eq!(nobody.status.code(), Some(1), "{nobody:?}");
    assert!(
        text(&nobody.stderr).contains("is icsfwd running?"),
        "{nobody:?}"
    );
}

/// Ingest lines as an operator has them: a valid alert, text that is not JSON, a blank line,
/// a heartbeat, a line over the default 64 KiB bound, and a critical S7 alert.
fn operator_lines() -> String {
    let over = format!(
        "{} {}}}",
        alert_line(Severity::Major, "S7").trim_end_matches('}'),
        " ".repeat(64 * 1024)
    );
    [
        alert_line(Severity::Major, "Modbus"),
        "not json at all".to_owned(),
        String::new(),
        r#"{"type":"heartbeat","sensor":{"name":"s1","ip":"10.0.0.9"}}"#.to_owned(),
        over,
        alert_line(Severity::Critical, "S7"),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn render_input_renders_each_good_line_and_names_each_bad_one() {
    let dir = scratch("render-input");
    let input = write_private(&dir, "alerts.jsonl", &operator_lines());
    let out = icsfwd(
        &[
            "render",
            "--input",
            input.to_str().unwrap(),
            "--format",
            "cef",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        lines.len(),
        2,
        "one CEF line per good input line: {lines:#?}"
    );
    assert!(
        lines[0].starts_with("CEF:0|icsfwd|OT Sensor|22.3.1|OPERATIONAL:"),
        "{lines:#?}"
    );
    assert!(lines[0].contains(" app=Modbus "), "{lines:#?}");
    assert!(
        lines[1].contains("|10|") && lines[1].contains(" app=S7 "),
        "{lines:#?}"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "icsfwd: line 2: not rendered, ingest would refuse it: not JSON: the line starts \
             with \"not json at all\" (allowed: one JSON object per line)\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("icsfwd: line 4: a heartbeat: never forwarded"),
        "{err}"
    );
    assert!(
        err.contains("icsfwd: line 5: not rendered, ingest would refuse it: line is ")
            && err.contains("(allowed: at most 65536 bytes before the LF)"),
        "{err}"
    );
    assert!(!err.contains("line 3"), "a blank line is skipped: {err}");
}

#[test]
fn render_input_from_stdin_in_several_formats_puts_each_under_a_heading() {
    let line = alert_line(Severity::Major, "S7");
    let out = icsfwd(
        &[
            "render", "--input", "-", "--format", "hec", "--format", "leef",
        ],
        Some(&format!("{line}\n{line}\n")),
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    let headings: Vec<&str> = stdout.lines().filter(|l| l.starts_with("==> ")).collect();
    assert_eq!(
        headings,
        [
            "==> line 1: hec",
            "==> line 1: leef",
            "==> line 2: hec",
            "==> line 2: leef"
        ]
    );
    let envelope: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .skip_while(|l| *l != "==> line 1: hec")
            .nth(1)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(envelope["event"]["id"], "sensor-plant-a-1042");
}

#[test]
fn render_with_a_configuration_renders_as_each_destination_sends() {
    let dir = scratch("render-config");
    let config = CONFIG.replace(
        "token = \"11111111-2222-3333-4444-555555555555\"",
        "token = \"11111111-2222-3333-4444-555555555555\"\nindex = \"ot\"\nsourcetype = \"plant:alert\"",
    );
    let config = write_private(&dir, "icsfwd.toml", &config);
    let config = config.to_str().unwrap();
    let major_modbus = alert_line(Severity::Major, "Modbus");
    let out = icsfwd(
        &["render", "-c", config, "--input", "-"],
        Some(&major_modbus),
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("==> line 1: destination \"soc\" (hec)"));
    let envelope: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(
        envelope["index"], "ot",
        "the destination's own envelope: {envelope}"
    );
    assert_eq!(envelope["sourcetype"], "plant:alert", "{envelope}");
    assert_eq!(lines.next(), Some(""));
    assert_eq!(
        lines.next(),
        Some("==> line 1: destination \"ot-team\" (splunk) (not sent here)"),
        "{stdout}"
    );
    assert_eq!(lines.next(), None, "{stdout}");

    // One destination: the rendering alone; the splunkd REST body is the text format.
    let critical_s7 = alert_line(Severity::Critical, "S7");
    let out = icsfwd(
        &[
            "render",
            "-c",
            config,
            "--destination",
            "ot-team",
            "--input",
            "-",
        ],
        Some(&format!("{major_modbus}\n{critical_s7}\n")),
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("icsfwd Alert: "), "{stdout}");
    assert!(!stdout.contains("==>"), "{stdout}");
    assert_eq!(stdout.matches("icsfwd Alert: ").count(), 1, "{stdout}");
    assert!(
        text(&out.stderr)
            .contains("icsfwd: line 1: not sent to \"ot-team\": no rule sends this event there"),
        "{out:?}"
    );
}

#[test]
fn render_names_an_unknown_destination_and_refuses_mixed_options() {
    let dir = scratch("render-usage");
    let config = write_private(&dir, "icsfwd.toml", CONFIG);
    let config = config.to_str().unwrap();
    let out = icsfwd(
        &["render", "-c", config, "--destination", "siem", "--sample"],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        text(&out.stderr).contains(
            "no destination is named \"siem\" in the configuration; its destinations are: soc, \
             ot-team"
        ),
        "{out:?}"
    );
    for args in [
        &["render", "--sample", "--input", "-"][..],
        &["render", "--sample", "--destination", "soc"],
        &["render", "--sample", "--format", "cef", "-c", config],
    ] {
        let out = icsfwd(args, None);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {out:?}");
    }
}
