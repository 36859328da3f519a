//! Secrets (passwords, tokens) that never show up in output.
//!
//! A [`Secret`] holds the value; its `Debug` and `Display` print `[redacted]`, so a secret
//! inside any config struct, error or log line is never revealed by accident. The only way
//! to the value is [`Secret::expose`], which the senders call when they build a request.
//!
//! Where a secret comes from, in order of preference:
//!
//! - a file (`password_file`, `token_file`): the whole file, without a trailing line break;
//!   the file must be a regular file, at most [`MAX_SECRET_LEN`] bytes, and not readable by
//!   group or others (mode `0600` or `0400`), else it is refused with the `chmod` to run;
//! - an environment variable (`password_env`, `token_env`), e.g. set by systemd's
//!   `LoadCredential=`/`Environment=` or a container runtime;
//! - inline in the config file (`password`, `token`), accepted only when the config file
//!   itself is not readable by group or others.
//!
//! Guarantees: no `Debug`/`Display` of this module's types prints a secret value; an error
//! about a secret names where it came from (file, variable, key), never what it holds. The
//! value is not wiped from memory on drop (that would need `unsafe` or a dependency, and a
//! process dump reveals the config file's secrets anyway).
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;

/// Longest secret accepted from a file or a variable, in bytes. Tokens and passwords are far
/// shorter; the bound keeps a mistaken `token_file = "/var/log/syslog"` from being read whole.
pub(crate) const MAX_SECRET_LEN: usize = 4096;

/// The permission bits that let the group or others read a file.
pub(crate) const GROUP_OR_OTHER_READ: u32 = 0o044;

/// A password or token. `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for building a request. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why a secret could not be read: a message and the fix, without the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretError {
    pub(crate) message: String,
    pub(crate) fix: String,
}

/// Whether a file with `mode` may hold a secret: not readable by group or others.
pub(crate) fn is_private(mode: u32) -> bool {
    mode & GROUP_OR_OTHER_READ == 0
}

/// Reads a secret from `path` (see the module docs for the checks).
pub(crate) fn read_file(path: &Path) -> Result<Secret, SecretError> {
    let shown = path.display();
    let meta = fs::metadata(path).map_err(|e| SecretError {
        message: format!("cannot read secret file {shown}: {e}"),
        fix: format!("create {shown} (mode 0600, owned by the icsfwd user) or fix the path"),
    })?;
    if !meta.is_file() {
        return Err(SecretError {
            message: format!("secret file {shown} is not a regular file"),
            fix: "point the key at a regular file holding only the secret".to_owned(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if !is_private(mode) {
        return Err(SecretError {
            message: format!(
                "secret file {shown} is readable by group or others (mode {mode:04o}, uid {})",
                meta.uid()
            ),
            fix: format!("run `chmod 600 {shown}`"),
        });
    }
    let file = fs::File::open(path).map_err(|e| SecretError {
        message: format!("cannot open secret file {shown}: {e}"),
        fix: format!("make {shown} readable by the user icsfwd runs as"),
    })?;
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_SECRET_LEN + 2).unwrap_or(u64::MAX);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| SecretError {
            message: format!("cannot read secret file {shown}: {e}"),
            fix: format!("make {shown} readable by the user icsfwd runs as"),
        })?;
    let text = String::from_utf8(bytes).map_err(|_| SecretError {
        message: format!("secret file {shown} is not UTF-8 text"),
        fix: "write the secret as text on one line".to_owned(),
    })?;
    checked(
        strip_line_break(&text),
        &format!("secret file {shown}"),
        "write the secret on one line, nothing else, in the file",
    )
}

/// Reads a secret from the environment variable `name`, through `env`.
pub(crate) fn read_env(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, SecretError> {
    let value = env(name).ok_or_else(|| SecretError {
        message: format!("environment variable {name} is not set"),
        fix: format!("set {name} in the service's environment, or use a *_file key"),
    })?;
    checked(
        &value,
        &format!("environment variable {name}"),
        &format!("set {name} to the secret alone"),
    )
}

/// Checks an inline secret.
pub(crate) fn inline(value: &str) -> Result<Secret, SecretError> {
    checked(value, "inline secret", "write the secret itself")
}

fn strip_line_break(text: &str) -> &str {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.strip_suffix('\r').unwrap_or(text)
}

fn checked(value: &str, what: &str, fix: &str) -> Result<Secret, SecretError> {
    if value.is_empty() {
        return Err(SecretError {
            message: format!("{what} is empty"),
            fix: fix.to_owned(),
        });
    }
    if value.len() > MAX_SECRET_LEN {
        return Err(SecretError {
            message: format!("{what} is longer than {MAX_SECRET_LEN} bytes"),
            fix: fix.to_owned(),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(SecretError {
            message: format!("{what} contains a control character (a line break?)"),
            fix: fix.to_owned(),
        });
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2");
        let shown = format!("{secret} {secret:?} {:?}", Some(&secret));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn only_files_closed_to_group_and_others_are_private() {
        for (mode, private) in [
            (0o600, true),
            (0o400, true),
            (0o700, true),
            (0o640, false),
            (0o604, false),
            (0o644, false),
            (0o620, true),
        ] {
            assert_eq!(is_private(mode), private, "{mode:o}");
        }
    }

    #[test]
    fn one_trailing_line_break_is_not_part_of_the_secret() {
        assert_eq!(strip_line_break("abc\n"), "abc");
        assert_eq!(strip_line_break("abc\r\n"), "abc");
        assert_eq!(strip_line_break("abc"), "abc");
    }

    #[test]
    fn a_secret_with_a_line_break_inside_is_refused_without_echoing_it() {
        let err = inline("ab\ncd").unwrap_err();
        assert!(err.message.contains("control character"));
        assert!(!err.message.contains("ab") && !err.fix.contains("cd"));
    }

    #[test]
    fn an_unset_variable_is_named_in_the_error() {
        let err = read_env("ICSFWD_NOPE", &|_| None).unwrap_err();
        assert!(err.message.contains("ICSFWD_NOPE"));
        assert_eq!(
            read_env("T", &|_| Some("tok".to_owned())).unwrap().expose(),
            "tok"
        );
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::Secret;

        let token = Secret::new("11111111-2222-3333-4444-555555555555");
        assert_eq!(format!("{token}"), "[redacted]");
        assert_eq!(format!("{token:?}"), "Secret([redacted])");
        assert_eq!(token.expose().len(), 36);
    }
}
