//! `icsfwd check-config`, the real binary: its documented exit codes and what it prints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::{BASE, scratch, write};

fn check_config(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icsfwd"))
        .arg("check-config")
        .args(args)
        .current_dir(dir)
        .env("TOKEN", "cli-token-SECRET-42")
        .env("ICSFWD_HEC_TOKEN", "cli-token-SECRET-42")
        .env("ICSFWD_SPLUNK_PASSWORD", "cli-password-SECRET-43")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_valid_config_exits_0_with_a_summary() {
    let dir = scratch("cli-valid");
    write(&dir, "icsfwd.toml", BASE, 0o644);
    let out = check_config(&dir, &["--config", "icsfwd.toml"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("valid") && stdout.contains("1 destination(s)"),
        "{stdout}"
    );
    assert!(!text(&out.stdout).contains("cli-token-SECRET-42"));
}

#[test]
fn the_example_config_exits_0() {
    let dir = scratch("cli-example");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/icsfwd.example.toml");
    let out = check_config(&dir, &["-c", example.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("SECRET"), "{all}");
}

#[test]
fn an_invalid_config_exits_2_listing_every_problem() {
    let dir = scratch("cli-invalid");
    let bad = format!("{BASE}colour = 1\n[spool]\non_full = \"drop\"\n");
    write(&dir, "icsfwd.toml", &bad, 0o600);
    let out = check_config(&dir, &["--config", "icsfwd.toml"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("icsfwd.toml:14:1: rule[0].colour: unknown key"),
        "{stderr}"
    );
    assert!(
        stderr.contains("icsfwd.toml:16:11: spool.on_full: unknown on_full"),
        "{stderr}"
    );
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
}

#[test]
fn an_inline_secret_in_an_open_file_exits_2_without_showing_it() {
    let dir = scratch("cli-inline");
    let bad = BASE.replace("token_env = \"TOKEN\"", "token = \"inline-SECRET-44\"");
    write(&dir, "icsfwd.toml", &bad, 0o644);
    let out = check_config(&dir, &["--config", "icsfwd.toml"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("chmod 600 icsfwd.toml"), "{all}");
    assert!(!all.contains("inline-SECRET-44"), "{all}");
}

#[test]
fn a_missing_file_exits_3() {
    let dir = scratch("cli-missing");
    let out = check_config(&dir, &["--config", "nope.toml"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        text(&out.stderr).contains("cannot read nope.toml"),
        "{out:?}"
    );
}

#[test]
fn a_missing_file_says_how_to_name_another_or_create_it() {
    let dir = scratch("cli-missing-hint");
    let out = check_config(&dir, &["--config", "nope.toml"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "cannot read nope.toml: No such file or directory (os error 2); pass -c FILE to use \
             another configuration, or create nope.toml (start from etc/icsfwd.example.toml; \
             docs/configuration.md)"
        ),
        "{stderr}"
    );
    // Without -c, the default path is read; on a machine without it the same hint shows.
    if !std::path::Path::new(icsfwd::config::DEFAULT_PATH).exists() {
        for command in [&["check-config"][..], &["status"], &["explain", "-"]] {
            let out = Command::new(env!("CARGO_BIN_EXE_icsfwd"))
                .args(command)
                .current_dir(&dir)
                .output()
                .unwrap();
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains("cannot read /etc/icsfwd/icsfwd.toml")
                    && stderr.contains("pass -c FILE"),
                "{command:?}: {stderr}"
            );
        }
    }
    // A file that exists but cannot be read gets no such hint: its problem is another.
    let out = check_config(&dir, &["--config", "."]);
    assert!(!text(&out.stderr).contains("pass -c FILE"), "{out:?}");
}

#[test]
fn a_scratch_directory_is_gone_when_its_test_is_done() {
    let dir = scratch("removed");
    write(&dir, "icsfwd.toml", BASE, 0o600);
    let path = dir.to_path_buf();
    assert!(path.join("icsfwd.toml").is_file());
    drop(dir);
    assert!(!path.exists(), "{} is left behind", path.display());
}

#[test]
fn a_directory_exits_3() {
    let dir = scratch("cli-dir");
    let out = check_config(&dir, &["--config", "."]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn a_usage_error_exits_64() {
    let dir = scratch("cli-usage");
    let out = check_config(&dir, &["--bogus"]);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
}

#[test]
fn help_documents_the_exit_codes() {
    let dir = scratch("cli-help");
    let out = check_config(&dir, &["--help"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let help = text(&out.stdout);
    for line in [
        "0   the configuration is valid",
        "2   the configuration is invalid",
        "3   the file cannot be read",
        "64  usage error",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn verify_false_is_warned_about_on_stderr() {
    let dir = scratch("cli-verify");
    write(
        &dir,
        "icsfwd.toml",
        &BASE.replace("token_env", "verify = false\ntoken_env"),
        0o600,
    );
    let out = check_config(&dir, &["--config", "icsfwd.toml"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text(&out.stderr)
            .contains("warning: destination \"hec\": TLS certificate verification is OFF"),
        "{out:?}"
    );
}
