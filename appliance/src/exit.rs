//! The exit codes of the `icsfwd` commands, defined once.
//!
//! [`Exit`] names every outcome a command reports and [`Exit::code`] is the one table of
//! their numbers. Each command that documents its codes has a [`Codes`] list (what each
//! code means for that command); its `--help` shows [`Codes::help`], and the table "Exit
//! codes" in `docs/operations.md` holds the same rows (a test compares them).
//!
//! Guarantee: a code's number never depends on the command; a number may stand for more
//! than one outcome (2 is "invalid configuration" for `check-config` and "degraded" for
//! `status`), never within one command.
//!
//! ```
//! use icsfwd::exit::{self, Exit};
//!
//! assert_eq!(Exit::Usage.code(), 64);
//! assert!(exit::CHECK_CONFIG.help().starts_with("Exit codes:\n  0   the configuration is valid"));
//! ```

use std::fmt::Write as _;
use std::process::ExitCode;

/// What a command reports through its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// 0: done as asked.
    Success,
    /// 1: the command ran and failed, or could not run (the message says why).
    Failed,
    /// 2: the configuration is invalid (every problem is listed).
    ConfigInvalid,
    /// 2, `status`: the service runs but a destination is retrying or parked, or the status
    /// is stale.
    Degraded,
    /// 2, `spool verify`: damage was found.
    Damaged,
    /// 3: the configuration file cannot be read.
    ConfigUnreadable,
    /// 3, `send`: some lines were refused.
    Refused,
    /// 4, `send`: the connection was lost or stalled with lines unanswered.
    Unanswered,
    /// 5, `reload`: the configuration is valid but changes what only a restart can change
    /// (the running configuration stays).
    RestartNeeded,
    /// 64 (BSD's `EX_USAGE`): a command-line usage error, for every command (2 already means
    /// "invalid configuration").
    Usage,
    /// 73 (BSD's `EX_CANTCREAT`), `run`: the spool is in use by another icsfwd (its lock is
    /// held); nothing in it was touched.
    SpoolInUse,
    /// 75 (`EX_TEMPFAIL`), `run`: stopped because a spool write or fsync failed; the unit's
    /// `Restart=always` starts it again, and the restart recovers the spool.
    SpoolFailed,
    /// 77 (BSD's `EX_NOPERM`): a command that writes into the spool runs as another user than
    /// the spool directory's owner; nothing was touched.
    NotOwner,
}

impl Exit {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::ConfigInvalid | Exit::Degraded | Exit::Damaged => 2,
            Exit::ConfigUnreadable | Exit::Refused => 3,
            Exit::Unanswered => 4,
            Exit::RestartNeeded => 5,
            Exit::Usage => 64,
            Exit::SpoolInUse => 73,
            Exit::SpoolFailed => 75,
            Exit::NotOwner => 77,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// The exit codes one command documents, in order, each with what it means there. A
/// meaning's `\n` starts a continuation line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codes {
    /// The command, as typed after `icsfwd`.
    pub command: &'static str,
    /// Each outcome with its meaning for this command.
    pub codes: &'static [(Exit, &'static str)],
}

impl Codes {
    /// The text `--help` shows after the options: `Exit codes:` and one line per code.
    pub fn help(&self) -> String {
        let mut text = String::from("Exit codes:");
        for (exit, meaning) in self.codes {
            let meaning = meaning.replace('\n', "\n      ");
            let _ = write!(text, "\n  {:<4}{meaning}", exit.code());
        }
        text
    }
}

/// `icsfwd run`.
pub const RUN: Codes = Codes {
    command: "run",
    codes: &[
        (
            Exit::Success,
            "stopped gracefully (SIGTERM or SIGINT; SIGHUP reloads instead); the unit's\n\
             Restart=always starts it again unless systemctl stopped it",
        ),
        (
            Exit::Failed,
            "could not start: the spool, the ingest socket or the metrics endpoint could not be set up (the log says why)",
        ),
        (
            Exit::ConfigInvalid,
            "the configuration is invalid (every problem is listed, as by check-config), or gives\n\
             the place of a removed destination to another one while the spool keeps its records\n\
             (the log says what to release); nothing was touched",
        ),
        (
            Exit::ConfigUnreadable,
            "the configuration file cannot be read",
        ),
        (Exit::Usage, "usage error"),
        (
            Exit::SpoolInUse,
            "another icsfwd runs on the same spool (the log names its pid); nothing was touched:\n\
             stop it, or give this instance its own spool.dir",
        ),
        (
            Exit::SpoolFailed,
            "stopped because a spool write or fsync failed (disk full or I/O error); the unit's\n\
             Restart=always starts it again, and the restart recovers the spool",
        ),
        (
            Exit::NotOwner,
            "runs as another user than the owner of the spool directory; nothing was touched:\n\
             start it as the owner (systemctl start icsfwd)",
        ),
    ],
};

/// `icsfwd check-config`.
pub const CHECK_CONFIG: Codes = Codes {
    command: "check-config",
    codes: &[
        (
            Exit::Success,
            "the configuration is valid (warnings, e.g. verify = false, go to stderr)",
        ),
        (
            Exit::ConfigInvalid,
            "the configuration is invalid; every problem is listed on stderr",
        ),
        (
            Exit::ConfigUnreadable,
            "the file cannot be read (missing, not a regular file, too large, not UTF-8)",
        ),
        (Exit::Usage, "usage error (unknown option)"),
    ],
};

/// `icsfwd send`.
pub const SEND: Codes = Codes {
    command: "send",
    codes: &[
        (
            Exit::Success,
            "every line was accepted or not forwarded (no rule takes it)",
        ),
        (
            Exit::Failed,
            "cannot connect (is icsfwd running?) or read the input",
        ),
        (
            Exit::Refused,
            "some lines were refused (each answer says which field and why)",
        ),
        (
            Exit::Unanswered,
            "the connection was lost or stalled with lines unanswered",
        ),
        (Exit::Usage, "usage error"),
    ],
};

/// `icsfwd test <destination>`.
pub const TEST: Codes = Codes {
    command: "test",
    codes: &[
        (
            Exit::Success,
            "the destination confirmed the test alert (2xx; with HEC acks, the ack read true)",
        ),
        (
            Exit::Failed,
            "it did not: the output says why and what to fix",
        ),
        (Exit::ConfigInvalid, "the configuration is invalid"),
        (
            Exit::ConfigUnreadable,
            "the configuration file cannot be read",
        ),
        (
            Exit::Usage,
            "usage error, or no destination of that name (the defined names are listed)",
        ),
    ],
};

/// `icsfwd reload`.
pub const RELOAD: Codes = Codes {
    command: "reload",
    codes: &[
        (
            Exit::Success,
            "applied: the new configuration is in force (the answer says what changed)",
        ),
        (
            Exit::Failed,
            "the service could not be reached (is it running?) or could not apply it (the\n\
             answer says why)",
        ),
        (
            Exit::ConfigInvalid,
            "refused: the configuration is invalid (every problem is listed, as by\n\
             check-config); the running configuration stays",
        ),
        (
            Exit::ConfigUnreadable,
            "refused: the service cannot read the configuration file; the running configuration\n\
             stays",
        ),
        (
            Exit::RestartNeeded,
            "refused: it changes a section that cannot change while icsfwd runs, or moves a\n\
             destination the spool still holds records for; the running configuration stays",
        ),
        (Exit::Usage, "usage error"),
    ],
};

/// `icsfwd spool release-destination`.
pub const SPOOL_RELEASE: Codes = Codes {
    command: "spool release-destination",
    codes: &[
        (
            Exit::Success,
            "released: the removed destination's records will not be delivered (the answer\n\
             says how many)",
        ),
        (
            Exit::Failed,
            "nothing released: the destination is still configured or has nothing kept, or the\n\
             spool could not be opened (the answer says which)",
        ),
        (Exit::Usage, "usage error"),
        (
            Exit::NotOwner,
            "with the service stopped: run as another user than the owner of the spool\n\
             directory; nothing was touched: run it as the owner, or add --as-owner",
        ),
    ],
};

/// `icsfwd status`.
pub const STATUS: Codes = Codes {
    command: "status",
    codes: &[
        (
            Exit::Success,
            "the service runs and every destination delivers",
        ),
        (
            Exit::Failed,
            "no status to read: the service is not running (or runs with another configuration)",
        ),
        (
            Exit::Degraded,
            "the service runs but a destination is retrying or parked, or the status is stale",
        ),
        (Exit::Usage, "usage error"),
    ],
};

/// `icsfwd spool verify`.
pub const SPOOL_VERIFY: Codes = Codes {
    command: "spool verify",
    codes: &[
        (Exit::Success, "the spool is clean"),
        (Exit::Failed, "the directory cannot be read"),
        (
            Exit::Damaged,
            "damage was found (torn or corrupt frames, refused records, repeated or decreasing\n\
             sequence numbers, a damaged checkpoint); the report says where and what to do",
        ),
        (Exit::Usage, "usage error"),
    ],
};

/// `icsfwd deadletter replay <destination>`.
pub const DEADLETTER_REPLAY: Codes = Codes {
    command: "deadletter replay",
    codes: &[
        (
            Exit::Success,
            "every record read was delivered (or nothing to replay; dry run: every record decodes)",
        ),
        (
            Exit::Failed,
            "some records are still in the file (refused again, not delivered, undecodable),\n\
             another replay is running, or the file could not be rewritten",
        ),
        (Exit::ConfigInvalid, "the configuration is invalid"),
        (
            Exit::ConfigUnreadable,
            "the configuration file cannot be read",
        ),
        (
            Exit::Usage,
            "usage error, or no destination of that name (the defined names are listed)",
        ),
        (
            Exit::NotOwner,
            "runs as another user than the owner of the spool directory; nothing was touched:\n\
             run it as the owner (the message gives the command), or add --as-owner",
        ),
    ],
};

/// Every command that documents its exit codes, in the order of `docs/operations.md`.
pub const EVERY_COMMAND: [&Codes; 9] = [
    &RUN,
    &RELOAD,
    &CHECK_CONFIG,
    &SEND,
    &TEST,
    &STATUS,
    &SPOOL_VERIFY,
    &SPOOL_RELEASE,
    &DEADLETTER_REPLAY,
];

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;

    /// The rows of the table under "### Exit codes" in docs/operations.md:
    /// (command, code, meaning).
    fn documented() -> Vec<(String, u8, String)> {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/operations.md"
        ))
        .unwrap();
        let start = doc
            .find("\n### Exit codes\n")
            .expect("docs/operations.md has an \"Exit codes\" section");
        let section = &doc[start + 1..];
        let section = &section[..section[1..].find("\n#").map_or(section.len(), |i| i + 1)];
        section
            .lines()
            .filter(|line| line.starts_with("| `"))
            .map(|line| {
                let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
                let [command, code, meaning] = cells[..] else {
                    panic!("not a row of three cells: {line}");
                };
                (
                    command.trim().trim_matches('`').to_owned(),
                    code.trim().parse().unwrap(),
                    meaning.trim().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn the_operations_doc_lists_every_commands_exit_codes_as_the_table_defines_them() {
        let defined: Vec<(String, u8, String)> = EVERY_COMMAND
            .iter()
            .flat_map(|codes| {
                codes.codes.iter().map(|(exit, meaning)| {
                    (
                        format!("icsfwd {}", codes.command),
                        exit.code(),
                        meaning.replace('\n', " "),
                    )
                })
            })
            .collect();
        assert_eq!(documented(), defined);
    }

    #[test]
    fn help_lists_each_code_padded_with_continuation_lines_indented() {
        assert_eq!(
            SPOOL_VERIFY.help(),
            "Exit codes:\n  0   the spool is clean\n  1   the directory cannot be read\n  2   \
             damage was found (torn or corrupt frames, refused records, repeated or \
             decreasing\n      sequence numbers, a damaged checkpoint); the report says where \
             and what to do\n  64  usage error"
        );
    }

    #[test]
    fn the_configuration_codes_agree_with_the_config_module() {
        assert_eq!(Exit::ConfigInvalid.code(), crate::config::EXIT_INVALID);
        assert_eq!(
            Exit::ConfigUnreadable.code(),
            crate::config::EXIT_UNREADABLE
        );
        assert_eq!(Exit::Usage.code(), crate::config::EXIT_USAGE);
    }

    #[test]
    fn no_command_gives_one_code_two_outcomes() {
        for codes in EVERY_COMMAND {
            let mut seen: Vec<u8> = codes.codes.iter().map(|(e, _)| e.code()).collect();
            let listed = seen.len();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), listed, "{}", codes.command);
        }
    }
}
