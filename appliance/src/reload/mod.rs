//! Reload: the running service takes a new configuration without stopping ingest.
//!
//! What it is: SIGHUP, or `icsfwd reload` through the control socket ([`control`]), asks the
//! service to read its configuration file again — with every secret file it names — and
//! [`Live::reload`] either applies it whole or refuses it whole, in these steps:
//!
//! 1. **Read and check** the file as `check-config` does: an unreadable or invalid file is
//!    refused with the same `file:line:col` diagnostics ([`Answer::Invalid`],
//!    [`Answer::Unreadable`]).
//! 2. **Fixed sections** (`fixed_sections_changed`): `[sensor]`, `[spool]`, `[ingest]`, `[log]`,
//!    `[metrics]` and `[health]` cannot change while the service runs (the spool and the sockets are
//!    open, the notifications carry the sensor); a change there is refused with what to do
//!    ([`Answer::RestartNeeded`]).
//! 3. **Destination positions** (`assign_positions`): the spool names a record's destinations
//!    by position (`docs/spool.md`), so every destination keeps its position and a new one
//!    takes the next free position, or one whose destination was removed and released. A
//!    position is given to a new name only when nothing is left in the spool for the old one;
//!    otherwise the reload is refused, nothing changed.
//! 4. **Workers** ([`deliver::Running::reconfigure`]): the worker of an unchanged destination
//!    runs on untouched; a changed destination (any key, a secret, or the contents of its TLS
//!    files) has its worker stopped — the request in flight finishes or times out, what was
//!    confirmed is acknowledged — and a new one continues from its cursor; a new destination
//!    gets a worker that starts at the records accepted from now on; a removed destination's
//!    worker stops and its backlog stays in the spool, reported by `icsfwd status` as
//!    "removed, N records kept" until `icsfwd spool release-destination NAME`
//!    ([`Live::release`]).
//! 5. **Rules**: the new `[[rule]]` and `[[exclusion]]` tables take over for the next event
//!    ([`SharedRules::replace`]).
//!
//! What it guarantees: a refused reload changes nothing (the checks of steps 1–3 come before
//! any change); no accepted record is skipped (a worker always starts at its destination's
//! cursor); the records a stopped worker sent but had not confirmed are sent again by its
//! successor (possible duplicates, only on a changed destination); every reload is logged and
//! counted, applied or refused ([`ReloadCounts`], in `icsfwd status` and the metrics).
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

pub(crate) mod control;

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use icsfwd_core::destination::DestinationId;
use log::{info, warn};

use crate::clock::now_ms;
use crate::config::{Config, LoadError, SharedRules};
use crate::deliver;
use crate::destination::trust::{Trust, system_bundle};
use crate::destination::{Destination, Tls};
use crate::spool::Handle;

/// How long a changed or removed destination's worker gets to finish its request in flight
/// at a reload before its successor starts anyway (the service's stop deadline).
pub(crate) const WORKER_STOP_DEADLINE: Duration = Duration::from_secs(5);

/// Largest TLS file read to tell whether it changed (a CA bundle, a certificate or a key).
const MAX_TLS_FILE: u64 = 4 << 20;

/// The service's answer to a reload or a release, as `icsfwd reload` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum Answer {
    /// The configuration is in place: one line of what changed.
    Applied(String),
    /// The file is not a valid configuration: every problem, as `check-config` prints it.
    Invalid(Vec<String>),
    /// The file could not be read: why.
    Unreadable(String),
    /// The file is valid but changes what only a restart can change (or a destination
    /// position the spool still needs): what and what to do.
    RestartNeeded(Vec<String>),
    /// `release-destination`: the backlog let go, in records.
    Released(u64),
    /// The request could not be carried out: why.
    Failed(String),
}

impl Answer {
    /// The answer as the control socket carries it: a first line `<word>: <text>`, then one
    /// line per detail.
    #[must_use]
    pub(crate) fn to_text(&self) -> String {
        let (word, lines): (&str, Vec<String>) = match self {
            Answer::Applied(summary) => ("applied", vec![summary.clone()]),
            Answer::Invalid(problems) => ("refused-invalid", problems.clone()),
            Answer::Unreadable(why) => ("refused-unreadable", vec![why.clone()]),
            Answer::RestartNeeded(why) => ("refused-restart", why.clone()),
            Answer::Released(records) => ("released", vec![records.to_string()]),
            Answer::Failed(why) => ("failed", vec![why.clone()]),
        };
        let mut text = format!("{word}:");
        for (i, line) in lines.iter().enumerate() {
            text.push(if i == 0 { ' ' } else { '\n' });
            text.push_str(line);
        }
        text.push('\n');
        text
    }

    /// Reads an answer written by [`to_text`](Answer::to_text).
    #[must_use]
    pub(crate) fn from_text(text: &str) -> Option<Answer> {
        let (word, rest) = text.split_once(':')?;
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        let lines: Vec<String> = rest.lines().map(str::to_owned).collect();
        let first = lines.first().cloned().unwrap_or_default();
        Some(match word {
            "applied" => Answer::Applied(first),
            "refused-invalid" => Answer::Invalid(lines),
            "refused-unreadable" => Answer::Unreadable(first),
            "refused-restart" => Answer::RestartNeeded(lines),
            "released" => Answer::Released(first.trim().parse().ok()?),
            "failed" => Answer::Failed(first),
            _ => return None,
        })
    }
}

/// The reloads since start, for `icsfwd status` and the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReloadCounts {
    /// Reloads applied.
    pub applied: u64,
    /// Reloads refused (invalid, unreadable, or needing a restart).
    pub refused: u64,
    /// The last answer's first line, and when (epoch milliseconds).
    pub last: Option<(String, u64)>,
}

/// What a reload may change while the service runs: the configuration in force, the
/// delivery workers, the rules every route reads, and what is known of each destination.
#[derive(Debug)]
pub(crate) struct Live {
    config: Config,
    delivery: deliver::Running,
    rules: SharedRules,
    handle: Handle,
    /// Per destination name, a fingerprint of its TLS files' contents when its worker started.
    tls: BTreeMap<String, u64>,
    /// Per destination name ever configured since start, its kind (for a removed one).
    kinds: BTreeMap<String, String>,
    counts: ReloadCounts,
}

impl Live {
    /// The live state of a service started on `config`.
    #[must_use]
    pub(crate) fn new(
        config: Config,
        delivery: deliver::Running,
        rules: SharedRules,
        handle: Handle,
    ) -> Live {
        let tls = tls_fingerprints(&config.destinations);
        let kinds = config
            .destinations
            .iter()
            .map(|d| (d.name.clone(), d.kind.as_str().to_owned()))
            .collect();
        Live {
            config,
            delivery,
            rules,
            handle,
            tls,
            kinds,
            counts: ReloadCounts::default(),
        }
    }

    /// The configuration in force.
    #[must_use]
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// The delivery workers.
    #[must_use]
    pub(crate) fn delivery(&self) -> &deliver::Running {
        &self.delivery
    }

    /// The reloads so far.
    #[must_use]
    pub(crate) fn counts(&self) -> &ReloadCounts {
        &self.counts
    }

    /// The kind a destination had when it was last configured.
    #[must_use]
    pub(crate) fn kind_of(&self, name: &str) -> Option<&str> {
        self.kinds.get(name).map(String::as_str)
    }

    /// Gives the delivery workers back (to stop them).
    #[must_use]
    pub(crate) fn into_delivery(self) -> deliver::Running {
        self.delivery
    }

    /// Reads the configuration file again (with its secret files) and applies it or refuses
    /// it whole: the steps of the [module docs](self). Logs and counts the answer.
    pub(crate) fn reload(&mut self) -> Answer {
        let answer = self.try_reload();
        match &answer {
            Answer::Applied(summary) => {
                self.counts.applied += 1;
                info!("reload applied: {summary}");
            }
            refused => {
                self.counts.refused += 1;
                let text = refused.to_text();
                warn!(
                    "reload refused, the running configuration stays: {}",
                    text.trim_end().replace('\n', "; ")
                );
            }
        }
        let first = answer
            .to_text()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        self.counts.last = Some((first, now_ms()));
        answer
    }

    fn try_reload(&mut self) -> Answer {
        let new = match Config::load(&self.config.path) {
            Ok(config) => config,
            Err(LoadError::Invalid(problems)) => {
                return Answer::Invalid(problems.iter().map(ToString::to_string).collect());
            }
            Err(e) => return Answer::Unreadable(e.to_string()),
        };
        let fixed = fixed_sections_changed(&self.config, &new);
        if !fixed.is_empty() {
            return Answer::RestartNeeded(fixed);
        }
        if let Err(refused) = self.check_positions(&new) {
            return Answer::RestartNeeded(vec![refused]);
        }
        let tls = tls_fingerprints(&new.destinations);
        let restart: Vec<String> = new
            .destinations
            .iter()
            .filter(|d| self.tls.get(&d.name) != tls.get(&d.name))
            .map(|d| d.name.clone())
            .collect();
        let summary = summarize(&self.config, &new, &restart);
        if let Err(e) = self.assign_positions(&new) {
            return Answer::Failed(e);
        }
        let late = match self
            .delivery
            .reconfigure(&new, &restart, WORKER_STOP_DEADLINE)
        {
            Ok(late) => late,
            Err(e) => return Answer::Failed(format!("starting a delivery worker: {e}")),
        };
        for name in late {
            warn!(
                "destination {name}: its old worker had not finished its request after {} s; \
                 it stops after it, and the new worker resends what it did not confirm",
                WORKER_STOP_DEADLINE.as_secs()
            );
        }
        self.rules.replace(new.rules.clone());
        for d in &new.destinations {
            self.kinds
                .insert(d.name.clone(), d.kind.as_str().to_owned());
        }
        self.tls = tls;
        self.config = new;
        Answer::Applied(summary)
    }

    /// Step 3, the check: every destination of `new` may take its position in the spool.
    fn check_positions(&self, new: &Config) -> Result<(), String> {
        let spool = self
            .handle
            .stats()
            .map_err(|e| format!("reading the spool: {e}"))?;
        for d in &new.destinations {
            let index = usize::from(d.id.get());
            if let Some(old) = spool.destinations.iter().position(|s| s.name == d.name)
                && old != index
            {
                return Err(format!(
                    "destination \"{}\" moved from position {} to {} in the file: the spool \
                     identifies destinations by position; keep the order of the \
                     [[destination]] entries and add new ones at the end (or restart after \
                     its backlog is delivered)",
                    d.name,
                    old + 1,
                    index + 1
                ));
            }
            if let Some(held) = spool.destinations.get(index)
                && held.name != d.name
                && held.backlog > 0
            {
                return Err(format!(
                    "destination \"{}\" would take the spool position of the removed \
                     destination \"{}\", which still holds {} record(s): release them first \
                     with `icsfwd spool release-destination {}`, or keep the order of the \
                     [[destination]] entries",
                    d.name, held.name, held.backlog, held.name
                ));
            }
        }
        Ok(())
    }

    /// Step 3, the change: new destinations get their positions in the spool.
    fn assign_positions(&self, new: &Config) -> Result<(), String> {
        for d in &new.destinations {
            self.handle
                .assign_destination(d.id, &d.name)
                .map_err(|e| format!("destination \"{}\": {e}", d.name))?;
        }
        Ok(())
    }

    /// `icsfwd spool release-destination NAME`: lets go of the backlog of a destination the
    /// configuration no longer names. Logged.
    pub(crate) fn release(&mut self, name: &str) -> Answer {
        if self.config.destination(name).is_some() {
            return Answer::Failed(format!(
                "destination \"{name}\" is in the configuration: remove it from the file and \
                 reload first (only a removed destination's backlog can be released)"
            ));
        }
        let Ok(spool) = self.handle.stats() else {
            return Answer::Failed("the spool is closed".to_owned());
        };
        let Some(index) = spool.destinations.iter().position(|d| d.name == name) else {
            let kept: Vec<&str> = spool
                .destinations
                .iter()
                .filter(|d| self.config.destination(&d.name).is_none())
                .map(|d| d.name.as_str())
                .collect();
            return Answer::Failed(format!(
                "the spool keeps nothing for \"{name}\" (removed destinations kept: {})",
                if kept.is_empty() {
                    "none".to_owned()
                } else {
                    kept.join(", ")
                }
            ));
        };
        let Some(id) = u8::try_from(index).ok().and_then(DestinationId::new) else {
            return Answer::Failed(format!("no spool position {index}"));
        };
        match self.handle.release_destination(id) {
            Ok(records) => {
                warn!(
                    "destination {name}: released by the operator: {records} record(s) kept \
                     since its removal will not be delivered"
                );
                Answer::Released(records)
            }
            Err(e) => Answer::Failed(format!("releasing \"{name}\": {e}")),
        }
    }
}

/// Step 2: the sections of `new` that differ from `old` and cannot change while the service
/// runs, each with what to do.
fn fixed_sections_changed(old: &Config, new: &Config) -> Vec<String> {
    let changed = [
        ("[sensor]", old.sensor != new.sensor),
        ("[spool]", old.spool != new.spool),
        ("[ingest]", old.ingest != new.ingest),
        ("[log]", old.log != new.log),
        ("[metrics]", old.metrics != new.metrics),
        ("[health]", old.health != new.health),
    ];
    changed
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(section, _)| {
            format!(
                "{section} changed: it cannot change while icsfwd runs; restart the service to \
                 apply it (systemctl restart icsfwd), or put it back as it was and reload"
            )
        })
        .collect()
}

/// The one line an applied reload reports: destinations added, changed, removed, and the
/// rules in force.
fn summarize(old: &Config, new: &Config, restart: &[String]) -> String {
    let names = |ds: &[Destination], pick: &dyn Fn(&Destination) -> bool| -> Vec<String> {
        ds.iter()
            .filter(|d| pick(d))
            .map(|d| d.name.clone())
            .collect()
    };
    let added = names(&new.destinations, &|d| old.destination(&d.name).is_none());
    let changed = names(&new.destinations, &|d| {
        old.destination(&d.name)
            .is_some_and(|o| o != d || restart.contains(&d.name))
    });
    let removed = names(&old.destinations, &|d| new.destination(&d.name).is_none());
    let mut parts = Vec::new();
    for (what, list) in [("added", added), ("changed", changed), ("removed", removed)] {
        if !list.is_empty() {
            parts.push(format!("destination(s) {what}: {}", list.join(", ")));
        }
    }
    if parts.is_empty() {
        parts.push("destinations unchanged".to_owned());
    }
    parts.push(format!(
        "{} rule(s) and {} exclusion(s) in force",
        new.rules.rules().len(),
        new.rules.exclusions().len()
    ));
    parts.join("; ")
}

/// Per destination, a fingerprint of the contents of its TLS files (CA, client certificate
/// and key): a reload restarts a destination whose files changed under the same names. Not a
/// secret: a hash that is only compared, never shown.
fn tls_fingerprints(destinations: &[Destination]) -> BTreeMap<String, u64> {
    destinations
        .iter()
        .map(|d| (d.name.clone(), tls_fingerprint(&d.tls)))
        .collect()
}

fn tls_fingerprint(tls: &Tls) -> u64 {
    let mut hasher = DefaultHasher::new();
    let roots = match &tls.trust {
        Trust::Bundled => None,
        Trust::System => system_bundle(|name| std::env::var(name).ok()),
        Trust::CaFile(path) => Some(path.clone()),
    };
    let files = [
        roots.as_deref(),
        tls.client.as_ref().map(|c| c.cert.as_path()),
        tls.client.as_ref().map(|c| c.key.as_path()),
    ];
    for file in files.into_iter().flatten() {
        file_contents(file).hash(&mut hasher);
    }
    hasher.finish()
}

/// A file's bytes (at most [`MAX_TLS_FILE`]); `None` when it cannot be read.
fn file_contents(path: &Path) -> Option<Vec<u8>> {
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_TLS_FILE).read_to_end(&mut bytes).ok()?;
    Some(bytes)
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
    fn every_answer_reads_back_as_itself() {
        for answer in [
            Answer::Applied("destinations unchanged".into()),
            Answer::Invalid(vec!["a.toml:1:1: x".into(), "    fix: y".into()]),
            Answer::Unreadable("cannot read a.toml".into()),
            Answer::RestartNeeded(vec!["[spool] changed".into()]),
            Answer::Released(42),
            Answer::Failed("no".into()),
        ] {
            assert_eq!(Answer::from_text(&answer.to_text()), Some(answer));
        }
        assert_eq!(Answer::from_text("what: ever"), None);
    }

    fn parse(extra: &str) -> Config {
        let text = format!(
            "[sensor]\nname = \"s\"\nip = \"10.0.0.1\"\n\n[[destination]]\nname = \"u\"\n\
             kind = \"syslog\"\nhost = \"127.0.0.1\"\ntransport = \"udp\"\n\n[[rule]]\n\
             name = \"all\"\nactions = [\"u\"]\n{extra}"
        );
        let origin = crate::config::Origin {
            path: "icsfwd.toml".into(),
            mode: 0o600,
        };
        Config::parse(&text, &origin, &|_| None).unwrap()
    }

    #[test]
    fn a_changed_fixed_section_is_named_with_what_to_do_and_rules_are_not_fixed() {
        let old = parse("");
        assert!(
            fixed_sections_changed(
                &old,
                &parse("[[exclusion]]\nname = \"x\"\nsensors = [\"t\"]\n")
            )
            .is_empty()
        );
        let changed = fixed_sections_changed(&old, &parse("[spool]\ndir = \"/var/lib/other\"\n"));
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert!(changed[0].starts_with("[spool] changed"), "{changed:?}");
        assert!(
            changed[0].contains("systemctl restart icsfwd"),
            "{changed:?}"
        );
        let both = fixed_sections_changed(
            &old,
            &parse("[ingest]\nsocket = \"/tmp/x.sock\"\n[log]\nlevel = \"debug\"\n"),
        );
        assert_eq!(both.len(), 2, "{both:?}");
        let health = fixed_sections_changed(&old, &parse("[health]\ninterval = \"5m\"\n"));
        assert_eq!(health.len(), 1, "{health:?}");
        assert!(health[0].starts_with("[health] changed"), "{health:?}");
    }

    #[test]
    fn a_tls_file_changed_under_the_same_name_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "one").unwrap();
        let tls = Tls {
            trust: Trust::CaFile(ca.clone()),
            ..Tls::default()
        };
        let before = tls_fingerprint(&tls);
        assert_eq!(tls_fingerprint(&tls), before);
        std::fs::write(&ca, "two").unwrap();
        assert_ne!(tls_fingerprint(&tls), before);
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::reload::Answer;

        let answer = Answer::Applied("1 destination added (siem)".into());
        let text = answer.to_text();
        assert_eq!(Answer::from_text(&text), Some(answer));
        assert!(text.starts_with("applied: "));
    }
}
