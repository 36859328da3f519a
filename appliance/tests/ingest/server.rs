//! The ingest server over a real Unix socket, a real spool and a real rule set: accepted only
//! after fsync, answers in order, group commit across one producer's lines, precise refusals
//! with the connection kept, the socket file's life cycle, limits and shutdown.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::spool_support;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use icsfwd::ingest::schema::{
    Answer, DEFAULT_MAX_LINE_BYTES, MAX_LINE, MAX_LINE_BYTES_LIMIT, Problem, encode_line,
};
use icsfwd::testing::ingest::server::{
    IngestConfig, IngestServer, IngestStats, RunningIngest, SpoolAdmit, StartError,
};
use icsfwd::testing::spool::lock::LockError;
use icsfwd::testing::spool::storage::{FsStorage, Storage};
use icsfwd::testing::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig, segment};
use icsfwd_core::alert::Severity;
use icsfwd_core::rule::{Rule, RuleSet};
use spool_support::{Recording, alert, decode_all, dest, names};

/// A disk whose fsync takes 5 ms, as a real disk's does: the group commit's batching then
/// does not depend on how fast this machine's fsync happens to be.
#[derive(Debug, Default)]
struct SlowDisk(FsStorage);

impl Storage for SlowDisk {
    fn create_dir_all(&mut self, dir: &Path) -> io::Result<()> {
        self.0.create_dir_all(dir)
    }
    fn list(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        self.0.list(dir)
    }
    fn create(&mut self, path: &Path) -> io::Result<()> {
        self.0.create(path)
    }
    fn append(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.0.append(path, data)
    }
    fn truncate(&mut self, path: &Path, len: u64) -> io::Result<()> {
        self.0.truncate(path, len)
    }
    fn read_at(&mut self, path: &Path, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read_at(path, offset, buf)
    }
    fn len(&mut self, path: &Path) -> io::Result<u64> {
        self.0.len(path)
    }
    fn sync_file(&mut self, path: &Path) -> io::Result<()> {
        thread::sleep(Duration::from_millis(5));
        self.0.sync_file(path)
    }
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        self.0.sync_dir(dir)
    }
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        self.0.rename(from, to)
    }
    fn remove(&mut self, path: &Path) -> io::Result<()> {
        self.0.remove(path)
    }

    fn lock_dir(&mut self, dir: &Path) -> Result<(), LockError> {
        self.0.lock_dir(dir)
    }
}

/// Every alert and notification of severity `min` or above goes to destination 0.
fn rules_from(min: Severity) -> Box<RuleSet> {
    let rule = Rule::new("all")
        .unwrap()
        .with_min_severity(min)
        .forwarding_notifications(true)
        .with_action(dest(0));
    Box::new(RuleSet::from_parts([rule], []).unwrap())
}

struct Fixture<S: Storage + 'static> {
    dir: tempfile::TempDir,
    group: Option<GroupCommit<S>>,
    server: Option<RunningIngest>,
    socket: PathBuf,
    heartbeats: Arc<AtomicU64>,
}

impl<S: Storage + 'static> Fixture<S> {
    fn start(
        storage: S,
        spool: SpoolConfig,
        rules: Box<RuleSet>,
        tune: impl FnOnce(&mut IngestConfig),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(storage, &dir.path().join("spool"), spool, &names(1)).unwrap();
        let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
        let heartbeats = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&heartbeats);
        let admit = SpoolAdmit::new(
            rules,
            group.handle(),
            Box::new(move |_| {
                seen.fetch_add(1, Ordering::SeqCst);
            }),
        );
        let socket = dir.path().join("ingest.sock");
        let mut config = IngestConfig::new(&socket);
        tune(&mut config);
        let server = IngestServer::start(config, Arc::new(admit)).unwrap();
        Fixture {
            dir,
            group: Some(group),
            server: Some(server),
            socket,
            heartbeats,
        }
    }

    fn server(&self) -> &RunningIngest {
        self.server.as_ref().unwrap()
    }

    fn spool_stats(&self) -> icsfwd::testing::spool::SpoolStats {
        self.group.as_ref().unwrap().handle().stats().unwrap()
    }

    /// Shuts down ingest, then the spool; returns the ingest counters and the stored alert ids.
    fn finish(mut self) -> (IngestStats, Vec<u64>) {
        let stats = self.server.take().unwrap().shutdown();
        drop(self.group.take().unwrap().shutdown().unwrap());
        let (mut spool, _) = Spool::open(
            FsStorage::new(),
            &self.dir.path().join("spool"),
            SpoolConfig::default(),
            &names(1),
        )
        .unwrap();
        let ids = spool
            .peek(dest(0), 1_000_000)
            .unwrap()
            .iter()
            .map(|r| match &r.event {
                icsfwd_core::alert::Event::Alert(a) => a.id,
                icsfwd_core::alert::Event::Notification(n) => n.id,
            })
            .collect();
        (stats, ids)
    }
}

fn fs_fixture() -> Fixture<FsStorage> {
    Fixture::start(
        FsStorage::new(),
        SpoolConfig::default(),
        rules_from(Severity::Warning),
        |_| {},
    )
}

fn line(id: u64, severity: Severity) -> Vec<u8> {
    let mut line = encode_line(&alert(id, severity)).into_bytes();
    line.push(b'\n');
    line
}

fn accepted(id: u64) -> Answer {
    Answer::Accepted {
        id: format!("sensor-a-{id}"),
        truncated: vec![],
    }
}

/// Writes `input` from a thread (so a large input cannot deadlock against unread answers),
/// shuts the write half, and reads every answer line until the server closes.
fn exchange(socket: &Path, input: Vec<u8>) -> Vec<Answer> {
    let stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut write_half = stream.try_clone().unwrap();
    let writer = thread::spawn(move || {
        write_half.write_all(&input).unwrap();
        write_half.shutdown(Shutdown::Write).unwrap();
    });
    let answers = BufReader::new(stream)
        .lines()
        .map(|l| Answer::parse(&l.unwrap()).unwrap())
        .collect();
    writer.join().unwrap();
    answers
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn each_accepted_answer_arrives_only_after_its_record_was_fsynced() {
    let storage = Recording::new();
    let log = storage.log.clone();
    let fixture = Fixture::start(
        storage,
        SpoolConfig::default(),
        rules_from(Severity::Warning),
        |_| {},
    );
    let segment_path = fixture.dir.path().join("spool").join(segment::file_name(1));

    let stream = UnixStream::connect(&fixture.socket).unwrap();
    let mut write_half = stream.try_clone().unwrap();
    let writer = thread::spawn(move || {
        for id in 0..200 {
            write_half.write_all(&line(id, Severity::Major)).unwrap();
        }
        write_half.shutdown(Shutdown::Write).unwrap();
    });
    let mut answered = 0;
    for (id, answer) in (0..).zip(BufReader::new(stream).lines()) {
        assert_eq!(Answer::parse(&answer.unwrap()).unwrap(), accepted(id));
        // At the moment the producer reads `accepted`, the record lies in fsynced bytes.
        let synced = log
            .lock()
            .unwrap()
            .synced_len
            .get(&segment_path)
            .copied()
            .unwrap();
        let bytes = std::fs::read(&segment_path).unwrap();
        let durable = decode_all(&bytes[..usize::try_from(synced).unwrap()]);
        assert!(
            durable
                .iter()
                .any(|r| r.event == alert(id, Severity::Major)),
            "alert {id} answered before its fsync"
        );
        answered += 1;
    }
    writer.join().unwrap();
    assert_eq!(answered, 200);
    let (stats, ids) = fixture.finish();
    assert_eq!(
        ids,
        (0..200).collect::<Vec<_>>(),
        "reopened spool holds every accepted alert"
    );
    assert_eq!((stats.lines, stats.accepted), (200, 200));
}

#[test]
fn one_pipelining_producer_gets_answers_in_order_and_many_lines_per_fsync() {
    let fixture = Fixture::start(
        SlowDisk::default(),
        SpoolConfig::default(),
        rules_from(Severity::Warning),
        |_| {},
    );
    let input: Vec<u8> = (0..1000).flat_map(|id| line(id, Severity::Major)).collect();
    let answers = exchange(&fixture.socket, input);
    assert_eq!(answers, (0..1000).map(accepted).collect::<Vec<_>>());
    let spool = fixture.spool_stats();
    assert_eq!(spool.appended, 1000);
    assert!(
        spool.fsyncs <= 100,
        "1000 pipelined lines took {} fsyncs; group commit should share each among many",
        spool.fsyncs
    );
    let (_, ids) = fixture.finish();
    assert_eq!(ids.len(), 1000);
}

/// A hostile or broken line, and the refusal it must get: (what, line, problem, field, error).
type Hostile = (&'static str, Vec<u8>, Problem, Option<&'static str>, String);

fn hostile_corpus() -> Vec<Hostile> {
    let valid = encode_line(&alert(1, Severity::Major));
    let mut huge = vec![b'x'; 1 << 20];
    huge[0] = b'{';
    vec![
        (
            "bad JSON",
            br#"{"type":"alert""#.to_vec(),
            Problem::Malformed,
            None,
            "malformed JSON at column 15: EOF while parsing an object".to_owned(),
        ),
        (
            "not an object",
            b"[1,2]".to_vec(),
            Problem::NotObject,
            None,
            "line is an array, not an object".to_owned(),
        ),
        (
            "wrong type",
            valid.replacen(r#""id":1"#, r#""id":"1""#, 1).into_bytes(),
            Problem::WrongType,
            Some("id"),
            "expected a whole number, found a string".to_owned(),
        ),
        (
            "one megabyte line",
            huge,
            Problem::TooLong,
            None,
            "line is 1048576 bytes long".to_owned(),
        ),
        (
            "line one byte over the default bound",
            vec![b' '; DEFAULT_MAX_LINE_BYTES + 1],
            Problem::TooLong,
            None,
            format!("line is {} bytes long", DEFAULT_MAX_LINE_BYTES + 1),
        ),
        (
            "invalid UTF-8",
            b"{\"type\":\"al\xffert\"}".to_vec(),
            Problem::NotUtf8,
            None,
            "line is not UTF-8 (invalid byte at offset 11)".to_owned(),
        ),
        (
            "NUL bytes",
            b"\0\0\0".to_vec(),
            Problem::Malformed,
            None,
            r#"not JSON: the line starts with "\0\0\0""#.to_owned(),
        ),
        (
            "NUL in a string",
            valid.replacen("PLC stop", "PLC\u{0}stop", 1).into_bytes(),
            Problem::Malformed,
            None,
            String::new(),
        ),
        (
            "unknown field",
            valid
                .replacen(r#""severity""#, r#""severty""#, 1)
                .into_bytes(),
            Problem::UnknownField,
            Some("severty"),
            "is not a field of an alert".to_owned(),
        ),
        (
            "blank line",
            Vec::new(),
            Problem::Malformed,
            None,
            "line is empty".to_owned(),
        ),
        (
            "repeated key",
            valid
                .replacen(r#""id":1,"#, r#""id":1,"id":2,"#, 1)
                .into_bytes(),
            Problem::DuplicateField,
            Some("id"),
            "is given more than once".to_owned(),
        ),
    ]
}

/// An alert line of exactly `len` bytes (without its LF): the message is padded with spaces
/// inside the JSON, which a producer's encoder may well write.
fn padded_line(id: u64, len: usize) -> Vec<u8> {
    let mut line = encode_line(&alert(id, Severity::Major)).into_bytes();
    let close = line.len() - 1;
    assert_eq!(line[close], b'}');
    line.splice(close..close, std::iter::repeat_n(b' ', len - line.len()));
    assert_eq!(line.len(), len);
    line
}

#[test]
fn the_configured_line_bound_is_honoured_and_an_over_long_line_costs_only_itself() {
    let bound = 100 * 1024;
    let fixture = Fixture::start(
        FsStorage::new(),
        SpoolConfig::default(),
        rules_from(Severity::Warning),
        |config| config.max_line = bound,
    );
    let lines: Vec<Vec<u8>> = vec![
        padded_line(1, 2048),
        // Between the encoder's 16 KiB and the configured bound: taken.
        padded_line(2, MAX_LINE + 1),
        padded_line(3, 80 * 1024),
        padded_line(4, bound),
        // One byte over the bound: refused, and the connection goes on.
        padded_line(5, bound + 1),
        padded_line(6, 2048),
        // Far over it (not buffered): refused too.
        padded_line(7, 3 * bound),
        padded_line(8, 2048),
    ];
    let input: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    let answers = exchange(&fixture.socket, input);
    let refusal = |len: usize| Answer::Refused {
        field: None,
        error: format!("line is {len} bytes long"),
        allowed: Some(format!("at most {bound} bytes before the LF")),
    };
    assert_eq!(
        answers,
        vec![
            accepted(1),
            accepted(2),
            accepted(3),
            accepted(4),
            refusal(bound + 1),
            accepted(6),
            refusal(3 * bound),
            accepted(8),
        ]
    );
    let (stats, ids) = fixture.finish();
    assert_eq!(
        ids,
        [1, 2, 3, 4, 6, 8],
        "every line within the bound is stored"
    );
    assert_eq!(stats.refused_for(Problem::TooLong), 2);
    assert_eq!(stats.answers_lost, 0);
}

#[test]
fn the_default_line_bound_is_the_configuration_default_and_within_the_limit() {
    let config = IngestConfig::new("/run/x.sock");
    assert_eq!(config.max_line, DEFAULT_MAX_LINE_BYTES);
    const {
        assert!(MAX_LINE < DEFAULT_MAX_LINE_BYTES && DEFAULT_MAX_LINE_BYTES <= MAX_LINE_BYTES_LIMIT)
    };
}

#[test]
fn each_hostile_line_gets_its_precise_refusal_and_the_connection_keeps_working() {
    let fixture = fs_fixture();
    let corpus = hostile_corpus();
    let mut input = Vec::new();
    for (i, (_, bad, ..)) in (0u64..).zip(&corpus) {
        input.extend_from_slice(bad);
        input.push(b'\n');
        input.extend_from_slice(&line(100 + i, Severity::Major));
    }
    let answers = exchange(&fixture.socket, input);
    assert_eq!(answers.len(), corpus.len() * 2);
    for (i, ((what, _, _, field, error), pair)) in
        (0u64..).zip(corpus.iter().zip(answers.chunks(2)))
    {
        let Answer::Refused {
            field: got_field,
            error: got_error,
            ..
        } = &pair[0]
        else {
            panic!("{what}: expected a refusal, got {:?}", pair[0]);
        };
        assert_eq!(got_field.as_deref(), *field, "{what}");
        if error.is_empty() {
            assert!(
                got_error.starts_with("malformed JSON at column"),
                "{what}: {got_error}"
            );
        } else {
            assert_eq!(got_error, error, "{what}");
        }
        assert_eq!(
            pair[1],
            accepted(100 + i),
            "{what}: the next valid line is accepted"
        );
    }
    let stored = fixture.spool_stats().appended;
    let (stats, ids) = fixture.finish();
    assert_eq!(
        stored,
        corpus.len() as u64,
        "only the valid lines were stored"
    );
    assert_eq!(ids, (100..100 + corpus.len() as u64).collect::<Vec<_>>());
    assert_eq!(stats.refused, corpus.len() as u64);
    for (what, _, problem, ..) in &corpus {
        let expected = corpus.iter().filter(|c| c.2 == *problem).count() as u64;
        assert_eq!(
            stats.refused_for(*problem),
            expected,
            "{what}: counted by problem"
        );
    }
}

#[test]
fn an_event_no_rule_takes_is_answered_not_forwarded_and_not_stored() {
    let fixture = Fixture::start(
        FsStorage::new(),
        SpoolConfig::default(),
        rules_from(Severity::Critical),
        |_| {},
    );
    let mut input = line(1, Severity::Warning);
    input.extend(line(2, Severity::Critical));
    let answers = exchange(&fixture.socket, input);
    assert_eq!(
        answers,
        vec![
            Answer::NotForwarded {
                id: "sensor-a-1".into(),
                reason: "no rule matched".into()
            },
            accepted(2),
        ]
    );
    let (stats, ids) = fixture.finish();
    assert_eq!(ids, vec![2]);
    assert_eq!((stats.not_forwarded, stats.accepted), (1, 1));
}

#[test]
fn a_full_spool_refuses_with_retry_after_and_stores_nothing() {
    let spool = SpoolConfig {
        max_bytes: 16,
        retry_after: Duration::from_millis(4_200),
        ..SpoolConfig::default()
    };
    let fixture = Fixture::start(
        FsStorage::new(),
        spool,
        rules_from(Severity::Warning),
        |_| {},
    );
    let answers = exchange(&fixture.socket, line(1, Severity::Major));
    assert_eq!(
        answers,
        vec![Answer::Refused {
            field: None,
            error: "spool full, retry after 5 s".into(),
            allowed: None
        }]
    );
    let (stats, ids) = fixture.finish();
    assert!(ids.is_empty(), "nothing stored: {ids:?}");
    assert_eq!((stats.refused, stats.refused_by_spool), (1, 1));
}

#[test]
fn a_heartbeat_is_accepted_reported_and_not_stored() {
    let fixture = fs_fixture();
    let answers = exchange(
        &fixture.socket,
        b"{\"type\":\"heartbeat\",\"sensor\":{\"name\":\"s1\",\"ip\":\"10.0.0.9\"}}\n".to_vec(),
    );
    assert_eq!(
        answers,
        vec![Answer::Accepted {
            id: "s1".into(),
            truncated: vec![]
        }]
    );
    assert_eq!(fixture.heartbeats.load(Ordering::SeqCst), 1);
    let (stats, ids) = fixture.finish();
    assert!(ids.is_empty());
    assert_eq!(stats.heartbeats, 1);
}

#[test]
fn concurrent_connections_each_get_their_own_answers_in_order() {
    let fixture = fs_fixture();
    let clients: Vec<_> = (0..16u64)
        .map(|c| {
            let socket = fixture.socket.clone();
            thread::spawn(move || {
                let ids: Vec<u64> = (c * 1000..c * 1000 + 100).collect();
                let input = ids
                    .iter()
                    .flat_map(|&id| line(id, Severity::Major))
                    .collect();
                let answers = exchange(&socket, input);
                assert_eq!(
                    answers,
                    ids.iter().map(|&id| accepted(id)).collect::<Vec<_>>()
                );
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let (stats, mut ids) = fixture.finish();
    ids.sort_unstable();
    let mut expected: Vec<u64> = (0..16).flat_map(|c| c * 1000..c * 1000 + 100).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert_eq!((stats.connections, stats.accepted), (16, 1600));
}

#[test]
fn one_connection_over_the_limit_gets_one_refused_line_and_is_closed() {
    let fixture = Fixture::start(
        FsStorage::new(),
        SpoolConfig::default(),
        rules_from(Severity::Warning),
        |c| {
            c.max_connections = 2;
        },
    );
    // Two connections, each proven registered by an answer.
    let mut open: Vec<(UnixStream, BufReader<UnixStream>)> = (0..2)
        .map(|i| {
            let mut stream = UnixStream::connect(&fixture.socket).unwrap();
            stream.write_all(&line(i, Severity::Major)).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut answer = String::new();
            reader.read_line(&mut answer).unwrap();
            assert_eq!(Answer::parse(&answer).unwrap(), accepted(i));
            (stream, reader)
        })
        .collect();

    let third = UnixStream::connect(&fixture.socket).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut text = String::new();
    BufReader::new(third).read_to_string(&mut text).unwrap();
    assert_eq!(
        text,
        "{\"status\":\"refused\",\"field\":null,\"error\":\"too many connections (2 open)\",\
         \"allowed\":\"at most 2 connections at a time; retry later\"}\n"
    );
    assert_eq!(fixture.server().stats().connections_refused, 1);

    // Closing one makes room again.
    let (stream, _) = open.remove(0);
    stream.shutdown(Shutdown::Both).unwrap();
    wait_until("the closed connection to be forgotten", || {
        fixture.server().stats().connections_open == 1
    });
    assert_eq!(
        exchange(&fixture.socket, line(7, Severity::Major)),
        vec![accepted(7)]
    );
    drop(open);
    fixture.finish();
}

#[test]
fn a_stale_socket_file_is_replaced_and_the_socket_gets_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ingest.sock");
    drop(UnixListener::bind(&socket).unwrap()); // the file stays, nobody listens
    let (spool, _) = Spool::open(
        FsStorage::new(),
        &dir.path().join("spool"),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let admit = SpoolAdmit::new(
        rules_from(Severity::Warning),
        group.handle(),
        Box::new(|_| {}),
    );
    let mut config = IngestConfig::new(&socket);
    config.socket_mode = 0o600;
    let server = IngestServer::start(config, Arc::new(admit)).unwrap();
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        exchange(&socket, line(3, Severity::Major)),
        vec![accepted(3)]
    );
    server.shutdown();
    assert!(!socket.exists(), "the socket file is removed at shutdown");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("spool")]);
}

#[test]
fn a_live_socket_is_not_stolen_and_a_plain_file_is_not_removed() {
    let fixture = fs_fixture();
    let nowhere = || {
        let (spool, _) = Spool::open(
            FsStorage::new(),
            &fixture.dir.path().join("other-spool"),
            SpoolConfig::default(),
            &names(1),
        )
        .unwrap();
        GroupCommit::start(spool, GroupConfig::default()).unwrap()
    };
    let group = nowhere();
    let admit = Arc::new(SpoolAdmit::new(
        rules_from(Severity::Warning),
        group.handle(),
        Box::new(|_| {}),
    ));
    let error = IngestServer::start(IngestConfig::new(&fixture.socket), admit.clone()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    let inner = error
        .get_ref()
        .unwrap()
        .downcast_ref::<StartError>()
        .unwrap();
    assert!(matches!(inner, StartError::InUse(_)));
    assert_eq!(
        exchange(&fixture.socket, line(4, Severity::Major)),
        vec![accepted(4)]
    );

    let plain = fixture.dir.path().join("not-a-socket");
    std::fs::write(&plain, b"keep me").unwrap();
    let error = IngestServer::start(IngestConfig::new(&plain), admit).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&plain).unwrap(), b"keep me");
    fixture.finish();
}

#[test]
fn tcp_ingest_works_on_loopback_and_is_refused_elsewhere() {
    let fixture = Fixture::start(
        FsStorage::new(),
        SpoolConfig::default(),
        rules_from(Severity::Warning),
        |c| {
            c.tcp = Some("127.0.0.1:0".parse().unwrap());
        },
    );
    let addr = fixture.server().tcp_addr().unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(&line(5, Severity::Major)).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    assert_eq!(Answer::parse(&text).unwrap(), accepted(5));

    let dir = tempfile::tempdir().unwrap();
    let mut config = IngestConfig::new(dir.path().join("x.sock"));
    config.tcp = Some("0.0.0.0:0".parse().unwrap());
    let group = GroupCommit::start(
        Spool::open(
            FsStorage::new(),
            &dir.path().join("spool"),
            SpoolConfig::default(),
            &names(1),
        )
        .unwrap()
        .0,
        GroupConfig::default(),
    )
    .unwrap();
    let admit = SpoolAdmit::new(
        rules_from(Severity::Warning),
        group.handle(),
        Box::new(|_| {}),
    );
    let error = IngestServer::start(config, Arc::new(admit)).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("not a loopback address"),
        "{error}"
    );
    assert!(!dir.path().join("x.sock").exists());
    fixture.finish();
}

#[test]
fn an_idle_connection_is_closed() {
    let fixture = Fixture::start(
        FsStorage::new(),
        SpoolConfig::default(),
        rules_from(Severity::Warning),
        |c| {
            c.idle_timeout = Duration::from_millis(100);
        },
    );
    let stream = UnixStream::connect(&fixture.socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut text = String::new();
    BufReader::new(stream).read_to_string(&mut text).unwrap();
    assert_eq!(text, "", "closed without an answer");
    wait_until("the idle close to be counted", || {
        fixture.server().stats().idle_closed == 1
    });
    fixture.finish();
}

#[test]
fn shutdown_with_lines_in_flight_answers_what_it_read_in_order_then_closes() {
    let fixture = Fixture::start(
        SlowDisk::default(),
        SpoolConfig::default(),
        rules_from(Severity::Warning),
        |_| {},
    );
    let stream = UnixStream::connect(&fixture.socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut write_half = stream.try_clone().unwrap();
    let writer = thread::spawn(move || {
        for id in 0..5000 {
            // The server stops reading at shutdown: a failed write is expected then.
            if write_half.write_all(&line(id, Severity::Major)).is_err() {
                break;
            }
        }
    });
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert_eq!(Answer::parse(&first).unwrap(), accepted(0));

    let Fixture {
        dir, group, server, ..
    } = fixture;
    let server = server.unwrap();
    let stopper = thread::spawn(move || server.shutdown());
    let mut answered = 1;
    for text in reader.lines() {
        let Ok(text) = text else { break };
        assert_eq!(
            Answer::parse(&text).unwrap(),
            accepted(answered),
            "answers stay in order"
        );
        answered += 1;
    }
    let stats = stopper.join().unwrap();
    writer.join().unwrap();
    assert!(
        answered < 5000,
        "the premise: the stop came with lines in flight"
    );
    assert_eq!(stats.accepted, answered, "every accepted line was answered");
    assert_eq!(stats.connections_open, 0);
    drop(group.unwrap().shutdown().unwrap());
    let (mut spool, _) = Spool::open(
        FsStorage::new(),
        &dir.path().join("spool"),
        SpoolConfig::default(),
        &names(1),
    )
    .unwrap();
    let stored = spool.peek(dest(0), 1_000_000).unwrap();
    assert_eq!(
        stored.len() as u64,
        answered,
        "what was answered is what was stored"
    );
    assert!(!dir.path().join("ingest.sock").exists());
}

#[test]
fn the_simulators_mixed_scenario_is_all_accepted() {
    use icsfwd_sim::feed::{self, Options, Outcome, Target};
    use icsfwd_sim::scenario::{Params, Scenario};

    let fixture = fs_fixture();
    let events = Scenario::Mixed
        .events(&Params {
            count: 2000,
            ..Params::default()
        })
        .unwrap();
    let tally = feed::send(
        events,
        &Target::Unix(fixture.socket.clone()),
        &Options::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((tally.sent, tally.accepted), (2000, 2000), "{tally:?}");
    assert_eq!(tally.outcome(), Outcome::Clean);
    let (stats, ids) = fixture.finish();
    assert_eq!(ids.len(), 2000);
    assert_eq!(stats.accepted, 2000);
}

#[test]
fn a_stop_requested_from_another_thread_closes_idle_connections_and_wait_returns() {
    let fixture = fs_fixture();
    let idle = UnixStream::connect(&fixture.socket).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // Proven registered by an answer before the stop.
    (&idle).write_all(&line(1, Severity::Major)).unwrap();
    let mut reader = BufReader::new(idle);
    let mut answer = String::new();
    reader.read_line(&mut answer).unwrap();
    assert_eq!(Answer::parse(&answer).unwrap(), accepted(1));

    let Fixture {
        dir, group, server, ..
    } = fixture;
    let server = server.unwrap();
    let stop = server.stopper();
    assert!(!stop.is_requested());
    let requester = thread::spawn(move || stop.request());
    let stats = server.wait();
    requester.join().unwrap();
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    assert_eq!(
        rest, "",
        "the idle connection was closed without more answers"
    );
    assert_eq!((stats.accepted, stats.connections_open), (1, 0));
    assert!(!dir.path().join("ingest.sock").exists());
    drop(group);
}

/// Each kind of answer, as the service's `SpoolAdmit` gives it: an event with cut fields is
/// answered `accepted` with their paths once it is durable, a heartbeat `accepted` with its
/// sensor at once, a bad line `refused` at once, in line order. (A line in flight holds only
/// what its answer needs; the answers stay the same.)
#[test]
fn cut_fields_heartbeats_and_refusals_get_their_answers_in_line_order() {
    let fixture = fs_fixture();
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

    let answers = exchange(&fixture.socket, input.into_bytes());

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
    assert_eq!(answers[3], accepted(2));
    assert_eq!(
        fixture.spool_stats().appended,
        2,
        "the two alerts, not the heartbeat"
    );
    assert_eq!(fixture.heartbeats.load(Ordering::SeqCst), 1);
    let (stats, _) = fixture.finish();
    assert_eq!((stats.accepted, stats.heartbeats, stats.refused), (3, 1, 1));
}
