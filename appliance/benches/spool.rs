//! Spool benchmark: appends/s through the group commit with a real fsync per batch, and recovery
//! time (`Spool::open` of a spool left with records) per 100 MB of segments.
//!
//! `cargo bench -p icsfwd --bench spool`. The spool lives on the real disk
//! (`ICSFWD_BENCH_DIR`, default `target/icsfwd-bench`; a tmpfs would make fsync free).
//!
//! | variable | default | what |
//! | --- | --- | --- |
//! | `ICSFWD_BENCH_SPOOL_APPENDS` | 100000 | events appended per append run |
//! | `ICSFWD_BENCH_SPOOL_PRODUCERS` | 1,4,16 | producer threads (comma list: one run each) |
//! | `ICSFWD_BENCH_SPOOL_WINDOW` | 256 | events in flight per producer (`submit` then `wait`) |
//! | `ICSFWD_BENCH_SPOOL_RECOVER_MB` | 100 | megabytes of records written, then recovered |
//! | `ICSFWD_BENCH_SPOOL_RUNS` | `append,recover` | which runs |
//!
//! Each figure also prints one `BENCH {json}` line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark: a failed step aborts the run with its cause"
)]

use std::collections::VecDeque;
use std::fs;
use std::path::PathBuf;
use std::thread;
use std::time::Instant;

use icsfwd::testing::spool::storage::FsStorage;
use icsfwd::testing::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig};
use icsfwd_core::alert::Event;
use icsfwd_core::destination::{DestinationId, DestinationSet};
use icsfwd_sim::scenario::{Params, Scenario};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

mod support;

use support::{bench_dir, env_u64 as number};

fn events(count: u64) -> Vec<Event> {
    let params = Params {
        rate: 1_000.0,
        count,
        seed: 4,
        ..Params::default()
    };
    Scenario::Steady
        .events(&params)
        .unwrap()
        .map(|(_, e)| e)
        .collect()
}

fn config() -> SpoolConfig {
    SpoolConfig {
        max_bytes: 64 << 30,
        ..SpoolConfig::default()
    }
}

/// `count` events from `producers` threads, each with `window` submitted and unanswered.
fn append(dir: &PathBuf, count: u64, producers: u64, window: usize) {
    drop(fs::remove_dir_all(dir));
    fs::create_dir_all(dir).unwrap();
    let names = ["soc".to_owned()];
    let (spool, _) = Spool::open(FsStorage::new(), dir, config(), &names).unwrap();
    let group = GroupCommit::start(spool, GroupConfig::default()).unwrap();
    let dest = DestinationSet::EMPTY.with(DestinationId::new(0).unwrap());
    let all = events(count);
    let per = all.len().div_ceil(usize::try_from(producers).unwrap());
    let parts: Vec<Vec<Event>> = all.chunks(per).map(<[Event]>::to_vec).collect();
    let start = Instant::now();
    let threads: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let handle = group.handle();
            thread::spawn(move || {
                let mut pending = VecDeque::new();
                for event in part {
                    if pending.len() >= window {
                        let p: icsfwd::testing::spool::commit::Pending =
                            pending.pop_front().unwrap();
                        p.wait().unwrap();
                    }
                    pending.push_back(handle.submit(event, dest).unwrap());
                }
                for p in pending {
                    p.wait().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed();
    let spool = group.shutdown().unwrap();
    let stats = spool.stats();
    let rate = count as f64 / elapsed.as_secs_f64();
    println!(
        "append: {count} events, {producers} producers × {window} in flight: {rate:.0} appends/s, \
         {} fsyncs ({:.0} events per fsync)",
        stats.fsyncs,
        count as f64 / stats.fsyncs.max(1) as f64
    );
    println!(
        "BENCH {}",
        serde_json::json!({
            "figure": "spool-append",
            "events": count,
            "producers": producers,
            "window": window,
            "appends_per_s": rate.round(),
            "fsyncs": stats.fsyncs,
            "events_per_fsync": (count as f64 / stats.fsyncs.max(1) as f64).round(),
        })
    );
    drop(spool);
    drop(fs::remove_dir_all(dir));
}

fn dir_bytes(dir: &PathBuf) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Writes `mb` megabytes of records (nothing acknowledged), then times `Spool::open`, with
/// the page cache as the writer left it (warm) — the usual restart after a crash of the
/// process, not of the machine.
fn recover(dir: &PathBuf, mb: u64) {
    drop(fs::remove_dir_all(dir));
    fs::create_dir_all(dir).unwrap();
    let names = ["soc".to_owned()];
    let (mut spool, _) = Spool::open(FsStorage::new(), dir, config(), &names).unwrap();
    let dest = DestinationSet::EMPTY.with(DestinationId::new(0).unwrap());
    let sample = events(10_000);
    let target = mb * 1_000_000;
    let mut i = 0;
    while dir_bytes(dir) < target {
        let batch: Vec<(Event, DestinationSet)> = (0..1_000)
            .map(|k| (sample[(i + k) % sample.len()].clone(), dest))
            .collect();
        i += 1_000;
        spool.append_batch(&batch).unwrap();
    }
    let records = spool.stats().appended;
    drop(spool);
    let bytes = dir_bytes(dir);
    let start = Instant::now();
    let (spool, recovery) = Spool::open(FsStorage::new(), dir, config(), &names).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(recovery.destinations[0].backlog, records);
    drop(spool);
    let per_100mb = elapsed.as_secs_f64() * 100_000_000.0 / bytes as f64;
    println!(
        "recover: {records} records, {:.1} MB: reopened in {:.3} s ({per_100mb:.3} s per 100 MB)",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    println!(
        "BENCH {}",
        serde_json::json!({
            "figure": "spool-recover",
            "records": records,
            "bytes": bytes,
            "reopen_s": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            "reopen_s_per_100mb": (per_100mb * 1000.0).round() / 1000.0,
        })
    );
    drop(fs::remove_dir_all(dir));
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("spool bench: skipped (run it with `cargo bench -p icsfwd --bench spool`)");
        return;
    }
    let dir = bench_dir().join("spool-bench");
    let runs = env_or("ICSFWD_BENCH_SPOOL_RUNS", "append,recover");
    let runs: Vec<&str> = runs.split(',').map(str::trim).collect();
    if runs.contains(&"append") {
        let count = number("ICSFWD_BENCH_SPOOL_APPENDS", 100_000);
        let window = usize::try_from(number("ICSFWD_BENCH_SPOOL_WINDOW", 256)).unwrap();
        for producers in env_or("ICSFWD_BENCH_SPOOL_PRODUCERS", "1,4,16").split(',') {
            let producers = producers.trim().parse().unwrap();
            append(&dir, count, producers, window);
        }
    }
    if runs.contains(&"recover") {
        recover(&dir, number("ICSFWD_BENCH_SPOOL_RECOVER_MB", 100));
    }
}
