//! Secrets: read from files, variables or (in a private config file) inline, refused with the
//! fix when a file is readable by others, and never shown — not by `Debug`, not in any error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::common;

use common::{BASE, load, parse_in, scratch, write};
use icsfwd::config::LoadError;
use icsfwd::testing::destination::DestinationKind;
use icsfwd::testing::destination::splunk::Auth;

const INLINE: &str = "inline-SECRET-0001";
const IN_FILE: &str = "file-SECRET-0002";
const ENV_TOKEN: &str = "env-token-VALUE-1234";
const ENV_PASSWORD: &str = "env-password-VALUE-5678";

fn hec_with(secret_lines: &str) -> String {
    BASE.replace("token_env = \"TOKEN\"", secret_lines)
}

fn token(config: &icsfwd::config::Config) -> &str {
    match &config.destinations[0].kind {
        DestinationKind::Hec(h) => h.token.expose(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_inline_secret_is_accepted_only_in_a_file_closed_to_group_and_others() {
    let dir = scratch("inline-modes");
    let text = hec_with(&format!("token = \"{INLINE}\""));
    for (mode, accepted) in [
        (0o600, true),
        (0o400, true),
        (0o640, false),
        (0o604, false),
        (0o644, false),
    ] {
        match load(&dir, &text, mode) {
            Ok(config) => {
                assert!(accepted, "mode {mode:o} accepted");
                assert_eq!(token(&config), INLINE);
            }
            Err(LoadError::Invalid(problems)) => {
                assert!(!accepted, "mode {mode:o} refused: {problems}");
                let p = problems.iter().next().unwrap();
                assert_eq!((p.key.as_str(), p.line), ("destination[0].token", 9));
                assert!(p.message.contains(&format!("mode {mode:04o}")), "{p}");
                let chmod = format!("chmod 600 {}", dir.join("icsfwd.toml").display());
                assert!(
                    p.fix.contains(&chmod) && p.fix.contains("token_file"),
                    "{p}"
                );
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_secret_file_must_be_closed_to_group_and_others() {
    let dir = scratch("file-modes");
    for (mode, accepted) in [(0o600, true), (0o400, true), (0o640, false), (0o604, false)] {
        let path = write(&dir, "hec.token", &format!("{IN_FILE}\n"), mode);
        let text = hec_with("token_file = \"hec.token\"");
        match parse_in(&dir, &text, 0o644) {
            Ok(config) => {
                assert!(accepted, "mode {mode:o} accepted");
                // The trailing line break is not part of the secret.
                assert_eq!(token(&config), IN_FILE);
            }
            Err(problems) => {
                assert!(!accepted, "mode {mode:o} refused: {problems}");
                let p = problems.iter().next().unwrap();
                assert_eq!(p.key, "destination[0].token_file");
                assert!(
                    p.fix.contains(&format!("chmod 600 {}", path.display())),
                    "{p}"
                );
            }
        }
    }
}

#[test]
fn a_client_key_readable_by_others_is_refused() {
    let dir = scratch("client-key");
    write(&dir, "client.pem", "-----BEGIN CERTIFICATE-----\n", 0o644);
    write(&dir, "client.key", "-----BEGIN PRIVATE KEY-----\n", 0o644);
    let text = BASE.replace(
        "token_env",
        "client_cert = \"client.pem\"\nclient_key = \"client.key\"\ntoken_env",
    );
    let problems = parse_in(&dir, &text, 0o600).unwrap_err();
    let p = problems.iter().next().unwrap();
    assert_eq!((p.key.as_str(), p.line), ("destination[0].client_key", 10));
    assert!(p.fix.starts_with("run `chmod 600"), "{p}");
    write(&dir, "client.key", "-----BEGIN PRIVATE KEY-----\n", 0o600);
    let config = parse_in(&dir, &text, 0o600).unwrap();
    let client = config.destinations[0].tls.client.as_ref().unwrap();
    assert_eq!(client.key, dir.join("client.key"));
}

#[test]
fn secrets_never_appear_in_debug_display_or_any_error() {
    let dir = scratch("never-shown");
    write(&dir, "ok.token", IN_FILE, 0o600);
    write(&dir, "open.token", IN_FILE, 0o644);
    write(
        &dir,
        "multi.token",
        &format!("{IN_FILE}\nsecond line"),
        0o600,
    );
    let splunk = |lines: &str| {
        format!("{BASE}[[destination]]\nname = \"sp\"\nkind = \"splunk\"\nhost = \"h\"\n{lines}\n")
    };
    let accepted = [
        (hec_with(&format!("token = \"{INLINE}\"")), 0o600),
        (hec_with("token_file = \"ok.token\""), 0o644),
        (hec_with("token_env = \"TOKEN\""), 0o644),
        (
            splunk("username = \"u\"\npassword_env = \"PASSWORD\""),
            0o644,
        ),
        (
            splunk(&format!(
                "auth = \"session\"\nusername = \"u\"\npassword = \"{INLINE}\""
            )),
            0o600,
        ),
    ];
    for (text, mode) in &accepted {
        let config = parse_in(&dir, text, *mode).unwrap_or_else(|p| panic!("{p}"));
        let shown = format!("{config:?}");
        for secret in [INLINE, IN_FILE, ENV_TOKEN, ENV_PASSWORD] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("[redacted]"));
    }
    let refused = [
        (hec_with(&format!("token = \"{INLINE}\"")), 0o644),
        (hec_with(&format!("token = \"{INLINE}\\u0007\"")), 0o600),
        (hec_with("token_file = \"open.token\""), 0o600),
        (hec_with("token_file = \"multi.token\""), 0o600),
        (
            hec_with(&format!("token = \"{INLINE}\"\ntoken_env = \"TOKEN\"")),
            0o600,
        ),
        (
            splunk(&format!(
                "auth = \"bearer\"\nusername = \"u\"\npassword = \"{INLINE}\""
            )),
            0o600,
        ),
        (
            splunk(&format!(
                "username = \"u\"\npassword = \"{INLINE}\"\nport = 0"
            )),
            0o600,
        ),
        (
            splunk(&format!("password = \"{INLINE}\"\ntoken_env = \"TOKEN\"")),
            0o600,
        ),
        (
            format!(
                "{}\ncolour = \"{INLINE}\"",
                hec_with("token_env = \"TOKEN\"")
            ),
            0o600,
        ),
        // A secret of the wrong type: serde would quote it.
        (hec_with("token = 918273645"), 0o600),
        (
            splunk("username = \"u\"\npassword = [\"918273645\"]"),
            0o600,
        ),
    ];
    for (text, mode) in &refused {
        let problems = parse_in(&dir, text, *mode).expect_err(text);
        let mut shown = format!("{problems}\n{problems:?}");
        for p in &problems {
            shown.push_str(&format!("{p}{p:?}{}{}", p.message, p.fix));
        }
        for secret in [INLINE, IN_FILE, ENV_TOKEN, ENV_PASSWORD, "918273645"] {
            assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
        }
    }
}

#[test]
fn splunk_session_auth_keeps_the_user_and_the_password() {
    let dir = scratch("session");
    write(&dir, "pw", "pw-from-file", 0o600);
    let text = format!(
        "{BASE}[[destination]]\nname = \"sp\"\nkind = \"splunk\"\nhost = \"h\"\nauth = \"session\"\n\
         username = \"admin\"\npassword_file = \"pw\"\n"
    );
    let config = parse_in(&dir, &text, 0o644).unwrap();
    let DestinationKind::Splunk(s) = &config.destinations[1].kind else {
        panic!()
    };
    let Auth::Session { username, password } = &s.auth else {
        panic!("{:?}", s.auth)
    };
    assert_eq!(
        (username.as_str(), password.expose()),
        ("admin", "pw-from-file")
    );
}
