//! Runs one route + format workload a fixed number of times, for instruction-count profiling:
//! what the criterion bench `route_format` times, without criterion's own work around it.
//!
//! ```sh
//! cargo build --release -p icsfwd-core --example route_format_profile
//! valgrind --tool=callgrind --callgrind-out-file=hec.out \
//!     target/release/examples/route_format_profile hec 100000
//! callgrind_annotate hec.out | head -30      # total instructions / 100,000 = per alert
//! ```
//!
//! Workloads: `route`, `text`, `hec`, `cef`, `leef`, `syslog-<payload>` (octet-counted),
//! `syslog-<payload>-unframed`, `record-encode`, `record-decode`. Each routes the example alert
//! with the bench's rule set (eight rules, two exclusions) before formatting, as the bench
//! does. Prints the bytes of one output, so that a run shows it did the work.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a profiling harness fails loudly"
)]

use std::hint::black_box;

use icsfwd_core::alert::{Alert, Event};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::format::{self, Kind, SliceWriter, syslog};
use icsfwd_core::record::{self, Decoder, Record};

#[path = "../benches/common/mod.rs"]
mod common;

use common::{NOW_MS, deployment, dest};

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args
        .next()
        .expect("usage: route_format_profile <workload> [iterations]");
    let iterations: u64 = args.next().map_or(100_000, |n| n.parse().unwrap());
    let rules = deployment();
    let event = Event::from(Alert::example(NOW_MS));
    let options = format::Options::default();
    let mut buf = vec![0u8; format::MAX_LEN.max(syslog::MAX_FRAMED_LEN)];
    let mut last = 0;

    let kind = Kind::ALL.into_iter().find(|k| k.as_str() == workload);
    let syslog_kind = syslog::Payload::KINDS.into_iter().find_map(|k| {
        let name = format!("syslog-{}", k.as_str());
        if workload == name {
            Some((k, true))
        } else if workload == format!("{name}-unframed") {
            Some((k, false))
        } else {
            None
        }
    });
    if workload == "route" {
        for _ in 0..iterations {
            black_box(rules.route(black_box(&event), NOW_MS));
        }
    } else if let Some(kind) = kind {
        for _ in 0..iterations {
            let destinations = rules.route(black_box(&event), NOW_MS);
            let mut sink = SliceWriter::new(&mut buf);
            last = format::write(kind, &event, &options, &mut sink).unwrap();
            black_box((destinations, last));
        }
    } else if let Some((kind, framed)) = syslog_kind {
        let syslog_options = syslog::Options {
            payload: syslog::Payload::of(kind, &options).unwrap(),
            ..syslog::Options::default()
        };
        for _ in 0..iterations {
            let destinations = rules.route(black_box(&event), NOW_MS);
            let mut sink = SliceWriter::new(&mut buf);
            last = if framed {
                syslog::write_framed(&event, &syslog_options, &mut sink).unwrap()
            } else {
                syslog::write(&event, &syslog_options, &mut sink).unwrap()
            };
            black_box((destinations, last));
        }
    } else if workload == "record-encode" || workload == "record-decode" {
        let record = Record {
            seq: 123_456,
            destinations: DestinationSet::EMPTY.with(dest(0)).with(dest(3)),
            event,
        };
        let n = record::encode(&record, &mut buf).unwrap();
        last = n;
        let encoded = buf[..n].to_vec();
        for _ in 0..iterations {
            if workload == "record-encode" {
                black_box(record::encode(black_box(&record), &mut buf).unwrap());
            } else {
                let mut decoder = Decoder::new();
                let decoded = decoder.feed(black_box(&encoded)).next().unwrap().unwrap();
                black_box(decoded.seq);
            }
        }
    } else {
        panic!("unknown workload {workload}");
    }
    println!("{workload}: {iterations} iterations, {last} bytes per output");
}
