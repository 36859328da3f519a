//! The real `icsfwd-sim` binary, run as a user would.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_same_seed_prints_the_same_alerts_and_says_which_seed() {
    let a = sim(&[
        "generate", "--seed", "5", "--count", "20", "--format", "cef",
    ]);
    let b = sim(&[
        "generate", "--seed", "5", "--count", "20", "--format", "cef",
    ]);
    assert!(a.status.success(), "{a:?}");
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(String::from_utf8_lossy(&a.stdout).lines().count(), 20);
    assert!(String::from_utf8_lossy(&a.stderr).contains("seed 5"));
    let c = sim(&[
        "generate", "--seed", "6", "--count", "20", "--format", "cef",
    ]);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn a_zero_count_is_refused() {
    let out = sim(&["generate", "--count", "0"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::Read as _;
    use std::process::Stdio;
    // Far more output than a pipe buffers, so the generator is still writing when the reader
    // goes away, as with `icsfwd-sim generate --count 1000000 | head -1`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_icsfwd-sim"))
        .args(["generate", "--count", "1000000", "--format", "hec"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains("error"), "{err}");
}
