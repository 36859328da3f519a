//! Files keep their owner: the commands that write into a spool run as its owner.
//!
//! What it is: the owner of the spool directory is the user the service runs as (the unit's
//! `User=icsfwd`: the service created the directory). A command that creates or replaces files
//! in it — `icsfwd run`, `icsfwd deadletter replay` — run by another user, typically root,
//! would leave files of that user behind (a dead-letter file renamed into place, a lock file,
//! a segment), which the service can no longer write: it would then fail to dead-letter a
//! refused event and send it again on every retry instead. [`check`] refuses to run as any
//! user but the owner; [`become_owner`] (`--as-owner`) switches the whole process to the
//! owner's uid, gid and groups first, as `runuser -u <owner>` would.
//!
//! What it guarantees:
//! - [`check`] compares the effective uid with the directory's owner and nothing else: it
//!   reads the directory's metadata and changes nothing. A missing directory passes (the
//!   command creates it, as its own).
//! - [`become_owner`] switches groups (the owner's supplementary groups from the group
//!   database, or only its primary group when it has no name), then the real, effective and
//!   saved gid, then the real, effective and saved uid — in that order, because once the uid
//!   is dropped the gids can no longer be changed — and checks that the effective uid is the
//!   owner's afterwards. It fails (changing nothing more) when the process may not switch
//!   (only root may). It must run before the command starts threads or touches the spool:
//!   the commands call it right after reading their configuration.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use nix::unistd::{self, Gid, Uid, User};

/// A user, as the messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    /// The uid.
    pub uid: u32,
    /// The user name, when the user database has one.
    pub name: Option<String>,
}

impl Account {
    /// The account of `uid`, its name looked up.
    pub(crate) fn of(uid: u32) -> Account {
        let name = User::from_uid(Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|user| user.name);
        Account { uid, name }
    }
}

impl fmt::Display for Account {
    /// `icsfwd (uid 998)`, or `uid 998` without a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} (uid {})", self.uid),
            None => write!(f, "uid {}", self.uid),
        }
    }
}

/// Why a command may not write into the spool, or could not become its owner.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum OwnerError {
    /// The command runs as another user than the spool directory's owner.
    NotOwner {
        /// The spool directory.
        dir: PathBuf,
        /// Its owner.
        owner: Account,
        /// Its group (the gid a switch to a nameless owner takes).
        group: u32,
        /// The user the command runs as (effective uid).
        user: Account,
    },
    /// The spool directory's owner could not be read.
    Io {
        /// The spool directory.
        dir: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Switching to the owner failed (only root may switch).
    Switch {
        /// The owner.
        owner: Account,
        /// The step that failed (`setgroups`, `setresgid`, `setresuid`, …).
        step: &'static str,
        /// The error.
        source: io::Error,
    },
}

impl fmt::Display for OwnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnerError::NotOwner {
                dir, owner, user, ..
            } => write!(
                f,
                "the spool {} belongs to {owner}, but this command runs as {user}: files it \
                 created would belong to {user}, and the service, running as {owner}, could no \
                 longer write them",
                dir.display()
            ),
            OwnerError::Io { dir, source } => {
                write!(f, "cannot read the owner of {}: {source}", dir.display())
            }
            OwnerError::Switch {
                owner,
                step,
                source,
            } => write!(
                f,
                "cannot switch to {owner} ({step}: {source}); only root can: run the command as \
                 {owner} instead"
            ),
        }
    }
}

impl std::error::Error for OwnerError {}

impl OwnerError {
    /// For [`OwnerError::NotOwner`], the words that run a command as the owner, to put before
    /// it: `runuser -u icsfwd --`, or for an owner without a user entry
    /// `setpriv --reuid=4242 --regid=4242 --clear-groups --`.
    pub(crate) fn run_as_owner(&self) -> Option<String> {
        match self {
            OwnerError::NotOwner { owner, group, .. } => Some(match &owner.name {
                Some(name) => format!("runuser -u {name} --"),
                None => format!(
                    "setpriv --reuid={} --regid={group} --clear-groups --",
                    owner.uid
                ),
            }),
            _ => None,
        }
    }
}

/// The owner (uid) and group (gid) of `dir`, or `None` when it does not exist.
fn owner_of(dir: &Path) -> Result<Option<(u32, u32)>, OwnerError> {
    match std::fs::metadata(dir) {
        Ok(meta) => Ok(Some((meta.uid(), meta.gid()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(OwnerError::Io {
            dir: dir.to_path_buf(),
            source,
        }),
    }
}

/// Refuses to go on when this process runs as another user than the owner of the spool
/// directory `dir` (a missing directory passes).
///
/// # Errors
///
/// [`OwnerError::NotOwner`], or the directory's metadata cannot be read.
pub(crate) fn check(dir: &Path) -> Result<(), OwnerError> {
    let euid = unistd::geteuid().as_raw();
    match owner_of(dir)? {
        Some((uid, gid)) if uid != euid => Err(OwnerError::NotOwner {
            dir: dir.to_path_buf(),
            owner: Account::of(uid),
            group: gid,
            user: Account::of(euid),
        }),
        _ => Ok(()),
    }
}

/// Switches this process to the owner of the spool directory `dir` (uid, gid and groups), if
/// it is not already running as the owner; returns the owner it switched to (`None`: nothing
/// to do, also for a missing directory).
///
/// # Errors
///
/// The directory's metadata cannot be read, or a step of the switch failed
/// ([`OwnerError::Switch`]; only root may switch).
pub(crate) fn become_owner(dir: &Path) -> Result<Option<Account>, OwnerError> {
    let Some((uid, dir_gid)) = owner_of(dir)? else {
        return Ok(None);
    };
    if uid == unistd::geteuid().as_raw() {
        return Ok(None);
    }
    let user = User::from_uid(Uid::from_raw(uid)).ok().flatten();
    let owner = Account {
        uid,
        name: user.as_ref().map(|u| u.name.clone()),
    };
    let fail = |step: &'static str| {
        let owner = owner.clone();
        move |errno: nix::Error| OwnerError::Switch {
            owner,
            step,
            source: io::Error::from(errno),
        }
    };
    // The owner's primary group, as `runuser` sets it; the directory's group for a uid
    // without a user entry.
    let gid = user.as_ref().map_or(Gid::from_raw(dir_gid), |u| u.gid);
    match user
        .as_ref()
        .and_then(|u| CString::new(u.name.clone()).ok())
    {
        Some(name) => unistd::initgroups(&name, gid).map_err(fail("initgroups"))?,
        None => unistd::setgroups(&[gid]).map_err(fail("setgroups"))?,
    }
    unistd::setresgid(gid, gid, gid).map_err(fail("setresgid"))?;
    let uid = Uid::from_raw(uid);
    unistd::setresuid(uid, uid, uid).map_err(fail("setresuid"))?;
    if unistd::geteuid() != uid {
        return Err(OwnerError::Switch {
            owner,
            step: "checking the effective uid",
            source: io::Error::other("still running as another user"),
        });
    }
    Ok(Some(owner))
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
    fn a_directory_of_this_user_and_a_missing_one_pass() {
        let dir = tempfile::tempdir().unwrap();
        check(dir.path()).unwrap();
        check(&dir.path().join("not-yet")).unwrap();
        assert_eq!(become_owner(dir.path()).unwrap(), None);
    }

    #[test]
    fn the_refusal_names_the_directory_its_owner_and_the_user() {
        let refused = OwnerError::NotOwner {
            dir: PathBuf::from("/var/lib/icsfwd/spool"),
            owner: Account {
                uid: 998,
                name: Some("icsfwd".to_owned()),
            },
            group: 997,
            user: Account {
                uid: 0,
                name: Some("root".to_owned()),
            },
        };
        assert_eq!(
            refused.to_string(),
            "the spool /var/lib/icsfwd/spool belongs to icsfwd (uid 998), but this command runs \
             as root (uid 0): files it created would belong to root (uid 0), and the service, \
             running as icsfwd (uid 998), could no longer write them"
        );
        assert_eq!(
            refused.run_as_owner().as_deref(),
            Some("runuser -u icsfwd --")
        );
        let nameless = OwnerError::NotOwner {
            dir: PathBuf::from("/srv/spool"),
            owner: Account {
                uid: 4242,
                name: None,
            },
            group: 4343,
            user: Account { uid: 0, name: None },
        };
        assert!(
            nameless.to_string().contains("belongs to uid 4242,"),
            "{nameless}"
        );
        assert_eq!(
            nameless.run_as_owner().as_deref(),
            Some("setpriv --reuid=4242 --regid=4343 --clear-groups --")
        );
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    #[ignore = "compiled, not run: it needs a live system (it was a no_run example)"]
    fn module_example() {
        use crate::spool::owner;

        let spool = std::path::Path::new("/var/lib/icsfwd/spool");
        match owner::check(spool) {
            Ok(()) => println!("this user owns {}", spool.display()),
            Err(refused) => eprintln!("{refused}"),
        }
    }
}
