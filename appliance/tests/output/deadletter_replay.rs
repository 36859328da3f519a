//! Dead-letter replay: the binary against the TLS emulator (delivered → file emptied, refused
//! again → kept, dry run → nothing changes), and the library against a fake sender for the
//! races with the service's worker (appends during a replay, two replays at once).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use e2e::{icsfwd, scratch, write_config};
use icsfwd::testing::deliver::deadletter::DeadLetters;
use icsfwd::testing::deliver::replay::{self, Fate, ReplayError, ReplayOptions};
use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::{AckReport, Item, Outcome, Sender};
use icsfwd_core::alert::Event;
use icsfwd_sim::splunk::store::Filter;

const REASON: &str = "event refused: HTTP 400 code 6 \"Invalid data format\"";

fn dead_letter(spool: &Path, name: &str, events: &[Event], first_seq: u64) {
    let mut file = DeadLetters::new(spool, name);
    for (i, event) in events.iter().enumerate() {
        file.append(&[(first_seq + i as u64, event)], REASON)
            .unwrap();
    }
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn cli(args: &[&str]) -> (Option<i32>, String, String) {
    let out = icsfwd(args);
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    support::assert_no_secret(&[stdout.clone(), stderr.clone()]);
    (out.status.code(), stdout, stderr)
}

#[test]
fn replay_after_the_cause_is_gone_delivers_every_record_and_empties_the_file() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("dl-replay-ok");
    let config = write_config(
        &dir,
        &tls,
        emulator.hec_addr().port(),
        emulator.splunkd_addr().port(),
    );
    let spool = dir.join("spool");
    dead_letter(&spool, "soc-hec", &support::events(3), 10);
    let file = replay::path(&spool, "soc-hec");

    let (code, listed, _) = cli(&["deadletter", "list", "-c", config.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(listed.contains("soc-hec: 3 record(s)"), "{listed}");
    assert!(listed.contains(&format!("     3  {REASON}")), "{listed}");

    let (code, out, err) = cli(&[
        "deadletter",
        "replay",
        "soc-hec",
        "-c",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(out.matches(": delivered").count(), 3, "{out}");
    assert!(out.contains("3 delivered, 0 still refused"), "{out}");
    assert_eq!(fs::read(&file).unwrap(), b"", "the file is emptied");
    assert_eq!(emulator.store().list(&Filter::default()).len(), 3);
}

#[test]
fn a_record_refused_again_stays_in_the_file_and_the_others_are_delivered() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("dl-replay-refused");
    let config = write_config(
        &dir,
        &tls,
        emulator.hec_addr().port(),
        emulator.splunkd_addr().port(),
    );
    let spool = dir.join("spool");
    dead_letter(&spool, "soc-hec", &support::events(3), 10);
    emulator
        .faults()
        .add("hec:status=400,code=6,next=1".parse().unwrap())
        .unwrap();

    let (code, out, err) = cli(&[
        "deadletter",
        "replay",
        "soc-hec",
        "-c",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(
        out.contains("line 1 seq 10 sensor-plant-a-1: still refused: event refused"),
        "{out}"
    );
    assert!(out.contains("2 delivered, 1 still refused"), "{out}");
    let kept = lines(&replay::path(&spool, "soc-hec"));
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["seq"], 10);
    assert_eq!(emulator.store().list(&Filter::default()).len(), 2);
}

#[test]
fn dry_run_sends_nothing_and_changes_nothing() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("dl-replay-dry");
    let config = write_config(
        &dir,
        &tls,
        emulator.hec_addr().port(),
        emulator.splunkd_addr().port(),
    );
    let spool = dir.join("spool");
    dead_letter(&spool, "soc-hec", &support::events(2), 1);
    let file = replay::path(&spool, "soc-hec");
    let before = fs::read(&file).unwrap();

    let (code, out, err) = cli(&[
        "deadletter",
        "replay",
        "soc-hec",
        "--dry-run",
        "-c",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(out.matches(": would be sent").count(), 2, "{out}");
    assert!(out.contains("nothing sent, nothing changed"), "{out}");
    assert_eq!(fs::read(&file).unwrap(), before);
    assert!(emulator.store().list(&Filter::default()).is_empty());
}

#[test]
fn an_unknown_destination_is_a_usage_error() {
    let tls = support::Tls::new();
    let dir = scratch("dl-replay-unknown");
    let config = write_config(&dir, &tls, 1, 1);
    let (code, _, err) = cli(&[
        "deadletter",
        "replay",
        "nope",
        "-c",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(64));
    assert!(err.contains("defined: soc-hec, soc-splunkd"), "{err}");
}

/// A sender that delivers everything and, on each send, runs `during` (the service's worker
/// appending, or a second replay).
struct Fake<F: FnMut() + Send> {
    sent: Vec<String>,
    during: F,
}

impl<F: FnMut() + Send> Sender for Fake<F> {
    fn resume(&mut self, _dir: &std::path::Path, _name: &str) -> Option<u64> {
        // A fake sender keeps nothing across a restart.
        None
    }

    fn restore(
        &mut self,
        _records: &[(u64, u32)],
        _now: std::time::Instant,
    ) -> Vec<(u64, icsfwd::testing::destination::Restored)> {
        Vec::new()
    }

    fn send(&mut self, batch: &[Item<'_>], _now: Instant) -> Outcome {
        (self.during)();
        self.sent
            .extend(batch.iter().map(|(_, e)| e.event_id().to_string()));
        Outcome::whole(batch.len(), Action::Delivered)
    }

    fn hosts(&self, _now: Instant) -> Vec<icsfwd::testing::destination::HostState> {
        Vec::new()
    }

    fn poll_acks(&mut self, _now: Instant) -> AckReport {
        AckReport::default()
    }

    fn pending_acks(&self) -> usize {
        0
    }

    fn poll_interval(&self) -> Option<Duration> {
        None
    }

    fn possible_loss(&self) -> u64 {
        0
    }

    fn finish(&mut self) -> AckReport {
        AckReport::default()
    }
}

#[test]
fn records_appended_while_a_replay_runs_are_kept_after_it() {
    let dir = scratch("dl-replay-append-during");
    dead_letter(&dir, "d", &support::events(3), 1);
    let late = support::events(6);
    let mut worker = DeadLetters::new(&dir, "d");
    let mut next = 3;
    let mut sender = Fake {
        sent: Vec::new(),
        during: move || {
            worker
                .append(&[(100 + next as u64, &late[next])], "late")
                .unwrap();
            next += 1;
        },
    };
    let summary = replay::replay(
        &dir,
        "d",
        &mut sender,
        &ReplayOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(summary.delivered, 3);
    assert_eq!(summary.appended_meanwhile, 3);
    let seqs: Vec<u64> = lines(&replay::path(&dir, "d"))
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        vec![103, 104, 105],
        "only the records appended meanwhile are left, in order"
    );
}

#[test]
fn concurrent_appends_and_replays_lose_no_record() {
    let dir = scratch("dl-replay-concurrent");
    let total = 200u64;
    let events = support::events(total);
    let appender = {
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            let mut file = DeadLetters::new(&dir, "d");
            for (i, event) in events.iter().enumerate() {
                file.append(&[(i as u64, event)], "refused").unwrap();
            }
        })
    };
    let mut delivered = Vec::new();
    let replay_all = |delivered: &mut Vec<String>| {
        let mut sender = Fake {
            sent: Vec::new(),
            during: || {},
        };
        match replay::replay(
            &dir,
            "d",
            &mut sender,
            &ReplayOptions::default(),
            &mut |_| {},
        ) {
            Ok(summary) => assert_eq!(summary.delivered, sender.sent.len()),
            // Other tests of this process spawn the binary: between fork and exec a child
            // holds a copy of every descriptor, so a just-released flock can look taken for
            // that instant. The next round tries again; nothing was sent.
            Err(ReplayError::Busy { .. }) => assert!(sender.sent.is_empty()),
            Err(err) => panic!("{err}"),
        }
        delivered.extend(sender.sent);
    };
    while !appender.is_finished() {
        replay_all(&mut delivered);
    }
    appender.join().unwrap();
    replay_all(&mut delivered);
    let distinct: BTreeSet<&String> = delivered.iter().collect();
    assert_eq!(
        delivered.len(),
        total as usize,
        "each record delivered exactly once"
    );
    assert_eq!(distinct.len(), total as usize);
    assert_eq!(fs::read(replay::path(&dir, "d")).unwrap(), b"");
}

#[test]
fn a_second_replay_of_the_same_destination_is_refused_while_one_runs() {
    let dir = scratch("dl-replay-busy");
    dead_letter(&dir, "d", &support::events(1), 1);
    let inner_dir = dir.to_path_buf();
    let mut second = None;
    let mut sender = Fake {
        sent: Vec::new(),
        during: || {
            let mut inner = Fake {
                sent: Vec::new(),
                during: || {},
            };
            second = Some(replay::replay(
                &inner_dir,
                "d",
                &mut inner,
                &ReplayOptions::default(),
                &mut |_| {},
            ));
        },
    };
    let mut fates = Vec::new();
    let first = replay::replay(
        &dir,
        "d",
        &mut sender,
        &ReplayOptions::default(),
        &mut |r| fates.push(r.fate.clone()),
    )
    .unwrap();
    assert_eq!(first.delivered, 1);
    assert_eq!(fates, vec![Fate::Delivered]);
    drop(sender);
    assert!(
        matches!(second, Some(Err(ReplayError::Busy { .. }))),
        "{second:?}"
    );
}

#[test]
fn an_undecodable_line_is_kept_verbatim() {
    let dir = scratch("dl-replay-garbage");
    dead_letter(&dir, "d", &support::events(1), 1);
    let path = replay::path(&dir, "d");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("not json\n");
    fs::write(&path, &text).unwrap();
    let mut sender = Fake {
        sent: Vec::new(),
        during: || {},
    };
    let summary = replay::replay(
        &dir,
        "d",
        &mut sender,
        &ReplayOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((summary.delivered, summary.undecodable), (1, 1));
    assert_eq!(fs::read_to_string(&path).unwrap(), "not json\n");
}
