//! The real `icsfwd` binary, run as a user would, in a fresh temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::process::{Command, Output};

/// Runs the binary in a fresh directory, removed afterwards.
fn icsfwd(args: &[&str]) -> Output {
    let dir = tempfile::Builder::new()
        .prefix("icsfwd-cli-")
        .tempdir()
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_icsfwd"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn render_sample_prints_every_format_under_its_heading() {
    let output = icsfwd(&["render", "--sample"]);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    for heading in [
        "==> text",
        "==> hec",
        "==> cef",
        "==> leef",
        "==> syslog-text",
        "==> syslog-cef",
        "==> syslog-leef",
    ] {
        assert!(
            text.lines().any(|l| l == heading),
            "missing {heading}:\n{text}"
        );
    }
    assert!(text.contains("Alert ID: sensor-plant-a-1042"));
    assert!(text.contains("CEF:0|icsfwd|OT Sensor|22.3.1|OPERATIONAL:"));
    assert!(text.contains("LEEF:1.0|icsfwd|OT Sensor|22.3.1|"));
}

#[test]
fn render_sample_hec_lines_are_json_envelopes_for_the_alert_and_the_notification() {
    let output = icsfwd(&["render", "--sample", "--format", "hec"]);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    let envelopes: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(envelopes.len(), 2, "{text}");
    assert_eq!(envelopes[0]["event"]["id"], "sensor-plant-a-1042");
    assert_eq!(envelopes[0]["sourcetype"], "icsfwd:alert");
    assert_eq!(envelopes[1]["event"]["kind"], "sensor_offline");
    assert_eq!(envelopes[1]["sourcetype"], "icsfwd:notification");
}

#[test]
fn render_time_option_sets_the_event_time() {
    let output = icsfwd(&["render", "--sample", "--format", "text", "--time-ms", "0"]);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).starts_with("1970-01-01T00:00:00.000Z icsfwd Alert: "));
}

#[test]
fn render_without_an_input_is_a_usage_error_with_exit_code_64() {
    let output = icsfwd(&["render"]);
    assert_eq!(
        output.status.code(),
        Some(64),
        "usage errors exit 64 (EX_USAGE): {output:?}"
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("--sample"), "{err}");
}

#[test]
fn unknown_format_is_refused_with_the_allowed_values() {
    let output = icsfwd(&["render", "--sample", "--format", "xml"]);
    assert_eq!(
        output.status.code(),
        Some(64),
        "usage errors exit 64 (EX_USAGE): {output:?}"
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("possible values") && err.contains("syslog-cef"),
        "{err}"
    );
}

#[test]
fn help_lists_the_render_command() {
    let output = icsfwd(&["--help"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("render"));
}
