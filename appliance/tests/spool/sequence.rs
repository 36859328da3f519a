//! `spool verify` finds repeated and decreasing sequence numbers: what two writers on one
//! spool leave behind.
//!
//! `spool_fixtures/two-writers/` is the spool two icsfwd instances with the same `spool.dir`
//! wrote before the spool had a lock: both opened it when the next sequence number was 1 and
//! appended their batches to the same active segment, so every number up to 6 appears twice,
//! the second copy after higher numbers; writer A then started segment 6, so 6 repeats across
//! segments. Its checkpoint is writer A's (destination 0 `dest-0` acknowledged up to 0). It is
//! written by [`write_two_writers`] (exact bytes, checked by a test); regenerate it with:
//!
//! ```text
//! ICSFWD_WRITE_GOLDEN=1 cargo test -p icsfwd --test spool -- --ignored write_two_writers_fixture
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::spool_support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use icsfwd::testing::spool::cursor::{Checkpoint, CursorEntry};
use icsfwd::testing::spool::verify::{Place, SequenceProblem};
use icsfwd::testing::spool::{SpoolConfig, segment, verify};
use icsfwd_core::alert::{Event, Severity};
use icsfwd_core::record::{self, MAX_FRAME, Record};
use spool_support::{alert, dest, set};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/spool_fixtures")
        .join(name)
}

/// The frames of records `(seq, alert id)` for destination 0, back to back.
fn frames(records: &[(u64, u64)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut frame = vec![0u8; MAX_FRAME];
    for &(seq, id) in records {
        let record = Record {
            seq,
            destinations: set(&[0]),
            event: alert(id, Severity::Major),
        };
        let n = record::encode(&record, &mut frame).unwrap();
        out.extend_from_slice(&frame[..n]);
    }
    out
}

/// Writer A's records are alerts 11.., writer B's 61..: different alerts, same numbers (ids
/// below 128 keep every frame the same length).
fn a(seqs: &[u64]) -> Vec<(u64, u64)> {
    seqs.iter().map(|&s| (s, 10 + s)).collect()
}

fn b(seqs: &[u64]) -> Vec<(u64, u64)> {
    seqs.iter().map(|&s| (s, 60 + s)).collect()
}

/// The place of the `index`th frame of segment `segment`, holding alert `id`.
fn at(segment: u64, index: u64, id: u64) -> Place {
    Place {
        segment: segment::file_name(segment),
        offset: index * frames(&a(&[1])).len() as u64,
        event: format!("sensor-a-{id}"),
    }
}

/// The two-writer spool (see the module docs) in `dir`.
fn write_two_writers(dir: &Path) {
    let batches = [a(&[1, 2, 3]), b(&[1, 2]), a(&[4, 5]), b(&[3, 4, 5, 6])].concat();
    fs::write(dir.join(segment::file_name(1)), frames(&batches)).unwrap();
    fs::write(dir.join(segment::file_name(6)), frames(&a(&[6, 7]))).unwrap();
    let checkpoint = Checkpoint {
        next_seq: 8,
        destinations: vec![CursorEntry {
            index: 0,
            acked: 0,
            name: "dest-0".to_owned(),
        }],
        evicted: Default::default(),
    };
    fs::write(dir.join("checkpoint"), checkpoint.encode()).unwrap();
}

/// Every file of `dir` with its bytes.
fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// Every entry of `dir`: name, size, modification time.
fn listing(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                meta.len(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
#[ignore = "writes the fixture; run with ICSFWD_WRITE_GOLDEN=1"]
fn write_two_writers_fixture() {
    assert_eq!(
        std::env::var("ICSFWD_WRITE_GOLDEN").as_deref(),
        Ok("1"),
        "set ICSFWD_WRITE_GOLDEN=1"
    );
    let dir = fixture("two-writers");
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    write_two_writers(&dir);
}

#[test]
fn the_committed_two_writer_fixture_is_what_its_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    write_two_writers(dir.path());
    assert_eq!(read_dir(&fixture("two-writers")), read_dir(dir.path()));
}

#[test]
fn verify_lists_each_repeated_number_with_every_place_it_appears() {
    let report = verify(&fixture("two-writers")).unwrap();
    assert!(!report.is_clean());
    assert_eq!(report.records, 13);
    assert_eq!((report.repeated, report.decreasing), (6, 0));
    // Segment 1 holds A1 A2 A3 B1 B2 A4 A5 B3 B4 B5 B6, segment 6 holds A6 A7.
    let expected = [
        (1, vec![at(1, 0, 11), at(1, 3, 61)]),
        (2, vec![at(1, 1, 12), at(1, 4, 62)]),
        (3, vec![at(1, 2, 13), at(1, 7, 63)]),
        (4, vec![at(1, 5, 14), at(1, 8, 64)]),
        (5, vec![at(1, 6, 15), at(1, 9, 65)]),
        (6, vec![at(1, 10, 66), at(6, 0, 16)]),
    ];
    let expected: Vec<SequenceProblem> = expected
        .into_iter()
        .map(|(seq, places)| SequenceProblem::Repeated { seq, places })
        .collect();
    assert_eq!(report.sequence, expected);
}

#[test]
fn verify_tells_a_decreasing_number_from_a_repeated_one() {
    let dir = tempfile::tempdir().unwrap();
    // 3 and 4 come after 5 and were never seen: decreasing; the second 5 repeats.
    let records = [(1, 1), (2, 2), (5, 5), (3, 3), (4, 4), (5, 6), (6, 7)];
    fs::write(dir.path().join(segment::file_name(1)), frames(&records)).unwrap();
    let report = verify(dir.path()).unwrap();
    assert_eq!((report.repeated, report.decreasing), (1, 2));
    let frame = frames(&a(&[1])).len() as u64;
    assert_eq!(
        report.sequence,
        [
            SequenceProblem::Repeated {
                seq: 5,
                places: vec![at(1, 2, 5), at(1, 5, 6)]
            },
            SequenceProblem::Decreasing {
                seq: 3,
                at: at(1, 3, 3),
                after: 5,
                after_at: at(1, 2, 5)
            },
            SequenceProblem::Decreasing {
                seq: 4,
                at: at(1, 4, 4),
                after: 5,
                after_at: at(1, 2, 5)
            },
        ]
    );
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "SEQUENCE number 3 (segment {seg}, offset {} (event sensor-a-3)) comes after 5 \
             (segment {seg}, offset {} (event sensor-a-5))",
            3 * frame,
            2 * frame,
            seg = segment::file_name(1),
        )),
        "{text}"
    );
    assert!(
        text.ends_with(
            "result: PROBLEMS: 0 corrupt frame(s), 0 torn tail(s), 0 refused record(s), 1 \
             repeated and 2 decreasing sequence number(s)"
        ),
        "{text}"
    );
}

#[test]
fn numbers_that_skip_ahead_across_segments_are_sound() {
    // Gaps (a frame skipped as corrupt, segments removed) are not a sequence problem.
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(segment::file_name(3)),
        frames(&[(3, 3), (4, 4), (9, 9)]),
    )
    .unwrap();
    fs::write(
        dir.path().join(segment::file_name(10)),
        frames(&[(12, 12), (13, 13)]),
    )
    .unwrap();
    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{report}");
    assert!(report.sequence.is_empty());
}

#[test]
fn icsfwd_spool_verify_fails_on_the_two_writer_spool_saying_what_it_means() {
    let dir = fixture("two-writers");
    let before = listing(&dir);
    let out = e2e::icsfwd(&["spool", "verify", dir.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    let frame = frames(&a(&[1])).len() as u64;
    for expected in [
        format!(
            "SEQUENCE number 1 appears twice (segment {}, offsets 0 (event sensor-a-11) and {} \
             (event sensor-a-61))",
            segment::file_name(1),
            3 * frame
        ),
        format!(
            "SEQUENCE number 6 appears twice (segment {}, offset {} (event sensor-a-66); segment \
             {}, offset 0 (event sensor-a-16))",
            segment::file_name(1),
            10 * frame,
            segment::file_name(6)
        ),
        "two writers appended to this spool at once".to_owned(),
        "give each its own spool.dir".to_owned(),
        "result: PROBLEMS: 0 corrupt frame(s), 0 torn tail(s), 0 refused record(s), 6 repeated \
         and 0 decreasing sequence number(s)"
            .to_owned(),
    ] {
        assert!(stdout.contains(&expected), "{expected:?} not in:\n{stdout}");
    }
    assert_eq!(listing(&dir), before, "verify changed the fixture");
}

#[test]
fn icsfwd_spool_verify_still_passes_the_golden_v1_spool() {
    let dir = fixture("v1");
    let before = listing(&dir);
    let out = e2e::icsfwd(&["spool", "verify", dir.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.ends_with("result: ok\n"), "{stdout}");
    assert_eq!(listing(&dir), before, "verify changed the fixture");
}

#[test]
fn the_spool_delivers_a_two_writer_spool_by_number_missing_some_records_and_repeating_one() {
    // What docs/spool.md ("Two writers") says such a spool does: the reason verify fails it.
    let dir = tempfile::tempdir().unwrap();
    write_two_writers(dir.path());
    let (mut spool, recovery) = spool_support::open(dir.path(), SpoolConfig::default(), 1);
    assert_eq!((recovery.records, recovery.next_seq), (13, 8));
    let mut handed = Vec::new();
    loop {
        let records = spool.peek(dest(0), 3).unwrap();
        let Some(last) = records.last().map(|r| r.seq) else {
            break;
        };
        handed.extend(records.iter().map(|r| match &r.event {
            Event::Alert(alert) => alert.id,
            Event::Notification(_) => unreachable!("only alerts"),
        }));
        spool.ack(dest(0), last).unwrap();
    }
    assert_eq!(handed, [11, 12, 13, 14, 15, 64, 15, 65, 66, 17]);
    let all: BTreeSet<u64> = (11..=17).chain(61..=66).collect();
    let delivered: BTreeSet<u64> = handed.iter().copied().collect();
    let never: Vec<u64> = all.difference(&delivered).copied().collect();
    assert_eq!(never, [16, 61, 62, 63]);
    assert_eq!(spool.stats().destinations[0].backlog, 5);
}
