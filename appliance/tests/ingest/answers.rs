//! Each kind of answer, as the service's `SpoolAdmit` gives it through a real socket, spool and
//! rule set: an event with cut fields is answered `accepted` with their paths once it is
//! durable, a heartbeat `accepted` with its sensor at once, a bad line `refused` at once, in
//! line order. (A line in flight holds only what its answer needs; the answers stay the same.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::io::{BufRead, BufReader, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use icsfwd::ingest::schema::{Answer, encode_line};
use icsfwd::testing::ingest::server::{IngestConfig, IngestServer, SpoolAdmit};
use icsfwd::testing::spool::storage::FsStorage;
use icsfwd::testing::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig};
use icsfwd_core::alert::Severity;
use icsfwd_core::rule::{Rule, RuleSet};
use spool_support::{alert, dest, names};

#[test]
fn cut_fields_heartbeats_and_refusals_get_their_answers_in_line_order() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(
        FsStorage::new(),
        &dir.path().join("spool"),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let rule = Rule::new("all")
        .unwrap()
        .forwarding_notifications(true)
        .with_action(dest(0));
    let heartbeats = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&heartbeats);
    let admit = SpoolAdmit::new(
        Box::new(RuleSet::from_parts([rule], []).unwrap()),
        group.handle(),
        Box::new(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        }),
    );
    let socket = dir.path().join("ingest.sock");
    let server = IngestServer::start(IngestConfig::new(&socket), Arc::new(admit)).unwrap();

    let mut long: serde_json::Value =
        serde_json::from_str(&encode_line(&alert(1, Severity::Major))).unwrap();
    long["title"] = serde_json::Value::from("t".repeat(4000));
    let input = [
        long.to_string(),
        r#"{"type":"heartbeat","sensor":{"name":"s1","ip":"10.0.0.9"}}"#.to_owned(),
        "not json".to_owned(),
        encode_line(&alert(2, Severity::Major)),
    ]
    .join("\n")
        + "\n";

    let stream = UnixStream::connect(&socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    (&stream).write_all(input.as_bytes()).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let answers: Vec<Answer> = BufReader::new(&stream)
        .lines()
        .map(|l| Answer::parse(&l.unwrap()).unwrap())
        .collect();

    assert_eq!(answers.len(), 4, "{answers:?}");
    assert_eq!(
        answers[0],
        Answer::Accepted {
            id: "sensor-a-1".to_owned(),
            truncated: vec!["title".to_owned()],
        }
    );
    assert_eq!(
        answers[1],
        Answer::Accepted {
            id: "s1".to_owned(),
            truncated: vec![],
        }
    );
    assert!(
        matches!(&answers[2], Answer::Refused { error, .. } if !error.is_empty()),
        "{:?}",
        answers[2]
    );
    assert_eq!(
        answers[3],
        Answer::Accepted {
            id: "sensor-a-2".to_owned(),
            truncated: vec![],
        }
    );
    let stats = server.shutdown();
    assert_eq!((stats.accepted, stats.heartbeats, stats.refused), (3, 1, 1));
    assert_eq!(heartbeats.load(Ordering::SeqCst), 1);
    let spool = group.shutdown().unwrap();
    assert_eq!(
        spool.stats().appended,
        2,
        "the two alerts, not the heartbeat"
    );
}
