//! `scripts/test-all.sh` times its steps: `scripts/steps.sh`, which it sources, is run here
//! under bash with steps that pass, are skipped and fail, and its per-step lines and closing
//! table are read back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `body` in bash after sourcing scripts/steps.sh with its EXIT trap set; returns the
/// exit code and standard output.
fn run_steps(body: &str) -> (Option<i32>, String) {
    let script =
        format!("set -euo pipefail\nsource scripts/steps.sh\ntrap steps_on_exit EXIT\n{body}\n");
    let output = Command::new("bash")
        .args(["-c", &script])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// The table's rows after its heading: `(step, seconds, result)`.
fn table(out: &str) -> Vec<(String, f64, String)> {
    let mut lines = out.lines().skip_while(|l| !l.starts_with("step "));
    let heading = lines
        .next()
        .unwrap_or_else(|| panic!("no table in:\n{out}"));
    assert_eq!(
        heading.split_whitespace().collect::<Vec<_>>(),
        ["step", "seconds", "result"]
    );
    lines
        .map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap().to_owned();
            let seconds = words.next().unwrap().parse().unwrap();
            (name, seconds, words.collect::<Vec<_>>().join(" "))
        })
        .collect()
}

#[test]
fn each_step_prints_its_seconds_and_the_run_ends_with_a_table() {
    let (code, out) = run_steps(
        "step build\nsleep 0.3\nstep fidelity\nstep_result SKIPPED\nstep doc\nstep_end\necho done",
    );
    assert_eq!(code, Some(0), "{out}");
    let build = out
        .lines()
        .find_map(|l| l.strip_prefix("<== step build: "))
        .unwrap_or_else(|| panic!("no time for build:\n{out}"));
    let seconds: f64 = build.strip_suffix(" s").unwrap().parse().unwrap();
    assert!((0.3..5.0).contains(&seconds), "{out}");
    assert!(out.contains("\n==> step doc\n<== step doc: "), "{out}");
    let rows = table(&out);
    let names: Vec<&str> = rows.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(names, ["build", "fidelity", "doc", "total"], "{out}");
    assert_eq!(rows[0].2, "ok");
    assert_eq!(rows[1].2, "SKIPPED");
    let sum: f64 = rows[..3].iter().map(|(_, s, _)| s).sum();
    assert!((rows[3].1 - sum).abs() < 0.15, "{out}");
}

#[test]
fn a_failing_step_is_marked_failed_and_the_table_still_printed() {
    let (code, out) = run_steps("step fmt\nstep clippy\nfalse\nstep never");
    assert_eq!(code, Some(1), "{out}");
    let rows = table(&out);
    assert_eq!(rows[0].0, "fmt");
    assert_eq!(rows[0].2, "ok");
    assert_eq!(
        (rows[1].0.as_str(), rows[1].2.as_str()),
        ("clippy", "FAILED")
    );
    assert!(!out.contains("never"), "{out}");
}

#[test]
fn test_all_sources_the_step_timer() {
    let text = std::fs::read_to_string(workspace_root().join("scripts/test-all.sh")).unwrap();
    assert!(text.contains("source \"$ROOT/scripts/steps.sh\""));
    assert!(text.contains("trap steps_on_exit EXIT"));
    assert!(
        !text.contains("step() {"),
        "test-all.sh must not define its own untimed step()"
    );
}
