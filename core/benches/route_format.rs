//! Route + format per alert, for each wire format, and record encode/decode.
//!
//! `cargo bench -p icsfwd-core --bench route_format`
//!
//! The rule set is a realistic deployment: eight rules (severity tiers, per-engine and
//! per-protocol rules, notifications) and two exclusions. Each routed alert is formatted into a
//! buffer of the format's `MAX_LEN`, as the appliance's workers do. Bytes per alert are printed
//! once per format before the timings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a bench setup fails loudly"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use icsfwd_core::alert::{Alert, Event};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::format::{self, Kind, SliceWriter, syslog};
use icsfwd_core::record::{self, Decoder, Record};

mod common;

use common::{NOW_MS, deployment, dest};

fn bench_route_format(c: &mut Criterion) {
    let rules = deployment();
    let event = Event::from(Alert::example(NOW_MS));
    assert!(!rules.route(&event, NOW_MS).is_empty());
    let options = format::Options::default();
    let mut buf = vec![0u8; format::MAX_LEN.max(syslog::MAX_FRAMED_LEN)];

    let mut group = c.benchmark_group("route");
    group.throughput(Throughput::Elements(1));
    group.bench_function("example_alert", |b| {
        b.iter(|| black_box(rules.route(black_box(&event), NOW_MS)))
    });
    group.finish();

    let mut group = c.benchmark_group("route+format");
    group.throughput(Throughput::Elements(1));
    for kind in Kind::ALL {
        let mut sink = SliceWriter::new(&mut buf);
        let n = format::write(kind, &event, &options, &mut sink).unwrap();
        eprintln!("bytes/alert {}: {n}", kind.as_str());
        group.bench_with_input(
            BenchmarkId::from_parameter(kind.as_str()),
            &kind,
            |b, &kind| {
                b.iter(|| {
                    let destinations = rules.route(black_box(&event), NOW_MS);
                    let mut sink = SliceWriter::new(&mut buf);
                    let n = format::write(kind, &event, &options, &mut sink).unwrap();
                    black_box((destinations, n))
                })
            },
        );
    }
    for kind in syslog::Payload::KINDS {
        let name = format!("syslog-{}", kind.as_str());
        let syslog_options = syslog::Options {
            payload: syslog::Payload::of(kind, &options).unwrap(),
            ..syslog::Options::default()
        };
        let mut sink = SliceWriter::new(&mut buf);
        let n = syslog::write_framed(&event, &syslog_options, &mut sink).unwrap();
        eprintln!("bytes/alert {name} (octet-counted): {n}");
        group.bench_function(BenchmarkId::from_parameter(&name), |b| {
            b.iter(|| {
                let destinations = rules.route(black_box(&event), NOW_MS);
                let mut sink = SliceWriter::new(&mut buf);
                let n = syslog::write_framed(&event, &syslog_options, &mut sink).unwrap();
                black_box((destinations, n))
            })
        });
        // The message alone (what a UDP datagram carries): the format without the transport
        // frame (which renders the message once and moves it behind its length).
        let unframed = format!("{name}-unframed");
        group.bench_function(BenchmarkId::from_parameter(unframed), |b| {
            b.iter(|| {
                let destinations = rules.route(black_box(&event), NOW_MS);
                let mut sink = SliceWriter::new(&mut buf);
                let n = syslog::write(&event, &syslog_options, &mut sink).unwrap();
                black_box((destinations, n))
            })
        });
    }
    group.finish();
}

fn bench_record(c: &mut Criterion) {
    let record = Record {
        seq: 123_456,
        destinations: DestinationSet::EMPTY.with(dest(0)).with(dest(3)),
        event: Event::from(Alert::example(NOW_MS)),
    };
    let mut frame = vec![0u8; record::MAX_FRAME];
    let n = record::encode(&record, &mut frame).unwrap();
    eprintln!("bytes/record (framed): {n}");
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode", |b| {
        b.iter(|| black_box(record::encode(black_box(&record), &mut frame).unwrap()))
    });
    let encoded = {
        let mut v = vec![0u8; record::MAX_FRAME];
        let n = record::encode(&record, &mut v).unwrap();
        v.truncate(n);
        v
    };
    // The checksum that closes every record, over one framed record's bytes (compare with
    // `--no-default-features`, the firmware's one-byte-a-step CRC).
    group.bench_function("crc32c", |b| {
        b.iter(|| black_box(record::crc::checksum(black_box(&encoded))))
    });
    group.bench_function("decode", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new();
            let decoded = decoder.feed(black_box(&encoded)).next().unwrap().unwrap();
            black_box(decoded.seq)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_route_format, bench_record);
criterion_main!(benches);
