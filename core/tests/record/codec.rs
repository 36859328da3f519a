//! The spool record format: round trips, maxima, and what a reader does with torn, corrupt,
//! foreign and garbage bytes (docs/record-format.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test, and the shared fixtures it includes, report failure by panicking"
)]

use crate::common;

use std::path::Path;

use icsfwd_core::alert::{Event, NotificationKind};
use icsfwd_core::destination::DestinationSet;
use icsfwd_core::record::{
    self, DecodeError, Decoder, EncodeError, MAX_BODY, MAX_FRAME, MAX_RECORD, Record, RecordView,
    Stats, TornTail, cobs, crc,
};
use proptest::prelude::*;

use common::{SAMPLE_TIME_MS, WORST_CHARS, arb_event, max_alert, notification, sample_alert};

// ---- helpers ----

fn frame_of(record: &Record) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_FRAME];
    let n = record::encode(record, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// The event's body in the layout this release writes.
fn body_of(event: &Event) -> Vec<u8> {
    let mut body = vec![0u8; MAX_BODY];
    let n = record::encode_body(event, &mut body).unwrap();
    body.truncate(n);
    body
}

fn body_len(event: &Event) -> usize {
    body_of(event).len()
}

/// Un-COBSes a frame (delimiter included) into the record bytes.
fn unstuff(frame: &[u8]) -> Vec<u8> {
    let (last, stuffed) = frame.split_last().unwrap();
    assert_eq!(*last, 0);
    let mut out = vec![0u8; stuffed.len()];
    let n = cobs::decode(stuffed, &mut out).unwrap();
    out.truncate(n);
    out
}

/// COBS-encodes record bytes into a frame (delimiter included).
fn stuff(record: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; cobs::max_encoded_len(record.len())];
    let n = cobs::encode(record, &mut out).unwrap();
    out.truncate(n);
    out.push(0);
    out
}

/// A genuine record of the version this release writes (valid header and CRC) around any
/// body bytes.
fn sealed(body: &[u8]) -> Vec<u8> {
    let mut record = vec![b'I', b'R', record::VERSION, 0];
    record.extend_from_slice(&7u64.to_le_bytes());
    record.extend_from_slice(&1u32.to_le_bytes());
    record.extend_from_slice(&u16::try_from(body.len()).unwrap().to_le_bytes());
    record.extend_from_slice(body);
    record.extend_from_slice(&[0; 4]);
    reseal(&mut record);
    record
}

/// Rewrites a record's CRC so that it is valid again after an edit.
fn reseal(record: &mut [u8]) {
    let covered = record.len() - 4;
    let crc = crc::checksum(&record[..covered]);
    record[covered..].copy_from_slice(&crc.to_le_bytes());
}

struct Decoded {
    outcomes: Vec<Result<Record, DecodeError>>,
    stats: Stats,
    torn: Option<TornTail>,
}

impl Decoded {
    fn records(&self) -> Vec<Record> {
        self.outcomes
            .iter()
            .filter_map(|o| o.clone().ok())
            .collect()
    }

    fn errors(&self) -> Vec<DecodeError> {
        self.outcomes
            .iter()
            .filter_map(|o| o.clone().err())
            .collect()
    }
}

/// Feeds `stream` in chunks of `chunk` bytes, then ends it; checks the byte accounting.
fn decode_chunked(stream: &[u8], chunk: usize) -> Decoded {
    let mut decoder = Decoder::new();
    let mut outcomes = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        outcomes.extend(decoder.feed(piece));
    }
    assert_eq!(decoder.position(), stream.len() as u64);
    let torn = decoder.finish();
    let stats = *decoder.stats();
    assert_eq!(
        stats.record_bytes + stats.bytes_skipped + stats.torn_bytes,
        stream.len() as u64,
        "every byte is accounted for exactly once"
    );
    Decoded {
        outcomes,
        stats,
        torn,
    }
}

fn decode(stream: &[u8]) -> Decoded {
    decode_chunked(stream, stream.len())
}

fn small_record(seq: u64) -> Record {
    let mut n = notification(NotificationKind::ALL[(seq % 4) as usize]);
    n.id = seq;
    Record {
        seq,
        destinations: DestinationSet::from_bits(1 << (seq % 32)),
        event: Event::from(n),
    }
}

/// A stream of a few records of different sizes, and each frame's end offset.
fn sample_stream() -> (Vec<Record>, Vec<u8>, Vec<usize>) {
    let records = vec![
        small_record(1),
        Record {
            seq: 2,
            destinations: DestinationSet::from_bits(0b1011),
            event: Event::from(sample_alert()),
        },
        small_record(3),
    ];
    let mut stream = Vec::new();
    let mut ends = Vec::new();
    for r in &records {
        stream.extend(frame_of(r));
        ends.push(stream.len());
    }
    (records, stream, ends)
}

fn arb_record() -> impl Strategy<Value = Record> {
    (any::<u64>(), any::<u32>(), arb_event()).prop_map(|(seq, bits, event)| Record {
        seq,
        destinations: DestinationSet::from_bits(bits),
        event,
    })
}

// ---- round trip and maxima ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_then_decode_round_trips_every_record(record in arb_record()) {
        let frame = frame_of(&record);
        prop_assert_eq!(frame.len(), record::frame_len(&record).unwrap());
        prop_assert!(frame.len() <= MAX_FRAME);
        prop_assert_eq!(frame.iter().position(|&b| b == 0), Some(frame.len() - 1));
        prop_assert_eq!(record::decode_frame(&frame), Ok(record.clone()));

        let bytes = unstuff(&frame);
        let view = RecordView::new_checked(&bytes).unwrap();
        prop_assert_eq!(view.version(), record::version_for(&record.event));
        prop_assert_eq!(view.seq(), record.seq);
        prop_assert_eq!(view.destinations(), record.destinations);
        prop_assert_eq!(view.body().len(), body_len(&record.event));
        prop_assert_eq!(view.event(), Ok(record.event.clone()));

        let decoded = decode(&frame);
        prop_assert_eq!(decoded.outcomes, vec![Ok(record)]);
        prop_assert_eq!(decoded.torn, None);
    }

    #[test]
    fn a_frame_from_the_written_body_is_the_frame_of_the_record(
        record in arb_record(),
        short in 0usize..64,
    ) {
        let body = body_of(&record.event);
        let version = record::version_for(&record.event);
        let want = frame_of(&record);
        let mut buf = vec![0u8; MAX_FRAME];
        let n = record::encode_with_body(record.seq, record.destinations, version, &body, &mut buf)
            .unwrap();
        prop_assert_eq!(&buf[..n], &want[..]);
        // Too small by any amount: the exact length, as `encode` reports it.
        let mut small = vec![0u8; want.len().saturating_sub(short + 1)];
        prop_assert_eq!(
            record::encode_with_body(record.seq, record.destinations, version, &body, &mut small),
            Err(EncodeError::BufferTooSmall { needed: want.len() })
        );
    }

    #[test]
    fn decoding_in_place_over_any_previous_record_equals_decoding_by_value(
        record in arb_record(),
        previous in arb_record(),
        chunk in 1usize..300,
    ) {
        let frame = frame_of(&record);
        let bytes = unstuff(&frame);
        let view = RecordView::new_checked(&bytes).unwrap();
        // The slot starts as an unrelated record, of either variant: nothing of it may remain.
        let mut slot = previous.clone();
        prop_assert_eq!(view.event_into(&mut slot.event), Ok(()));
        prop_assert_eq!(&slot.event, &record.event);
        let mut slot = previous.clone();
        prop_assert_eq!(view.record_into(&mut slot), Ok(()));
        prop_assert_eq!(&slot, &record);

        // The streaming decoder, fed in chunks, fills the slot only when the frame completes.
        let mut decoder = Decoder::new();
        let mut slot = previous.clone();
        let mut outcomes = Vec::new();
        for piece in frame.chunks(chunk) {
            let mut rest = piece;
            while !rest.is_empty() {
                let (used, outcome) = decoder.push_into(rest, &mut slot);
                rest = &rest[used..];
                match outcome {
                    Some(outcome) => outcomes.push(outcome),
                    None => prop_assert_eq!(&slot, &previous),
                }
            }
        }
        prop_assert_eq!(outcomes, vec![Ok(())]);
        prop_assert_eq!(slot, record);
        prop_assert_eq!(decoder.stats().records, 1);
    }

    #[test]
    fn decoding_in_place_refuses_exactly_the_bodies_decoding_by_value_refuses(
        event in arb_event(),
        cut in 0usize..64,
        junk in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        // Truncated bodies, bodies with bytes left over, and arbitrary variant bytes.
        let mut body = body_of(&event);
        body.truncate(body.len().saturating_sub(cut));
        body.extend_from_slice(&junk);
        let record = sealed(&body);
        let view = RecordView::new_checked(&record).unwrap();
        let mut slot = Event::from(notification(NotificationKind::SensorOnline));
        let in_place = view.event_into(&mut slot);
        match view.event() {
            Ok(by_value) => {
                prop_assert_eq!(in_place, Ok(()));
                prop_assert_eq!(slot, by_value);
            }
            Err(e) => prop_assert_eq!(in_place, Err(e)),
        }
    }

    #[test]
    fn every_arbitrary_event_fits_max_body(event in arb_event()) {
        prop_assert!(body_len(&event) <= MAX_BODY);
    }
}

#[test]
fn max_body_bounds_the_largest_fixtures_and_is_reached() {
    for c in WORST_CHARS.into_iter().chain(['x', 'é', '😀']) {
        let record = Record {
            seq: u64::MAX,
            destinations: DestinationSet::from_bits(u32::MAX),
            event: Event::from(max_alert(c)),
        };
        assert!(body_len(&record.event) <= MAX_BODY, "fill {c:?}");
        let frame = frame_of(&record);
        assert!(frame.len() <= MAX_FRAME);
        assert_eq!(record::decode_frame(&frame), Ok(record));
    }
    for kind in NotificationKind::ALL {
        let mut n = notification(kind);
        n.id = u64::MAX;
        n.time_ms = u64::MAX;
        n.set_text(&"x".repeat(10_000));
        n.sensor = max_alert('x').sensor;
        assert!(body_len(&Event::from(n)) <= MAX_BODY);
    }
    // Every varint at its widest and every string full of one-byte characters: the bound is
    // reached exactly, so it is tight.
    let mut widest = max_alert('x');
    widest.time_ms = u64::MAX;
    assert_eq!(body_len(&Event::from(widest)), MAX_BODY);
    assert_eq!(MAX_RECORD, 18 + MAX_BODY + 4);
}

#[test]
fn a_frame_from_a_body_refuses_a_version_not_written_and_a_body_over_the_maximum() {
    let event = Event::from(sample_alert());
    let body = body_of(&event);
    let mut buf = vec![0u8; MAX_FRAME];
    let set = DestinationSet::from_bits(1);
    assert_eq!(
        record::encode_with_body(1, set, 0xEE, &body, &mut buf),
        Err(EncodeError::Body)
    );
    let long = vec![1u8; MAX_BODY + 1];
    assert_eq!(
        record::encode_with_body(1, set, record::version_for(&event), &long, &mut buf),
        Err(EncodeError::TooLong {
            body_len: MAX_BODY + 1
        })
    );
}

#[test]
fn encoding_into_a_too_small_buffer_reports_the_exact_size_needed() {
    let record = Record {
        seq: 9,
        destinations: DestinationSet::from_bits(3),
        event: Event::from(sample_alert()),
    };
    let frame = frame_of(&record);
    for size in 0..frame.len() {
        let mut buf = vec![0xA5u8; size];
        assert_eq!(
            record::encode(&record, &mut buf),
            Err(EncodeError::BufferTooSmall {
                needed: frame.len()
            }),
            "buffer of {size} bytes"
        );
    }
    // Exactly the needed size works, and stale bytes around cannot leak into the frame.
    let mut buf = vec![0xA5u8; frame.len() + 7];
    assert_eq!(
        record::encode(&record, &mut buf[..frame.len()]),
        Ok(frame.len())
    );
    assert_eq!(&buf[..frame.len()], &frame[..]);
    assert!(buf[frame.len()..].iter().all(|&b| b == 0xA5));
}

// ---- torn tails ----

#[test]
fn truncating_a_stream_at_every_offset_yields_exactly_the_records_before_the_cut() {
    let (records, stream, ends) = sample_stream();
    for cut in 0..=stream.len() {
        for chunk in [cut, 7] {
            let decoded = decode_chunked(&stream[..cut], chunk);
            let whole = ends.iter().filter(|&&end| end <= cut).count();
            assert_eq!(decoded.records(), records[..whole], "cut at {cut}");
            assert_eq!(
                decoded.errors(),
                vec![],
                "a torn tail is not an error (cut {cut})"
            );
            let last_end = if whole == 0 { 0 } else { ends[whole - 1] };
            let expected_torn = (cut > last_end).then_some(TornTail {
                start: last_end as u64,
                bytes: cut - last_end,
            });
            assert_eq!(decoded.torn, expected_torn, "cut at {cut}");
            assert_eq!(decoded.stats.torn_tails, u64::from(expected_torn.is_some()));
        }
    }
}

#[test]
fn decoder_locates_each_frame_and_the_torn_tail_in_the_stream() {
    let (records, stream, ends) = sample_stream();
    let cut = ends[2] - 5;
    let mut decoder = Decoder::new();
    let mut rest = &stream[..cut];
    let mut seen = Vec::new();
    while !rest.is_empty() {
        let (used, outcome) = decoder.push(rest);
        rest = &rest[used..];
        if let Some(outcome) = outcome {
            seen.push((outcome.unwrap(), decoder.last_frame()));
        }
    }
    assert_eq!(
        seen,
        vec![
            (records[0].clone(), 0..ends[0] as u64),
            (records[1].clone(), ends[0] as u64..ends[1] as u64),
        ]
    );
    assert_eq!(decoder.pending(), cut - ends[1]);
    assert_eq!(decoder.frame_start(), ends[1] as u64);
    assert_eq!(
        decoder.finish(),
        Some(TornTail {
            start: ends[1] as u64,
            bytes: cut - ends[1]
        })
    );
    assert_eq!((decoder.pending(), decoder.finish()), (0, None));
}

#[test]
fn torn_frame_is_truncated_for_decode_frame() {
    let frame = frame_of(&small_record(5));
    for cut in 0..frame.len() {
        assert_eq!(
            record::decode_frame(&frame[..cut]),
            Err(DecodeError::Truncated)
        );
    }
}

// ---- corruption ----

#[test]
fn flipping_any_single_bit_never_yields_a_foreign_record_and_later_records_survive() {
    let (records, stream, ends) = sample_stream();
    let starts: Vec<usize> = std::iter::once(0).chain(ends.iter().copied()).collect();
    for byte in 0..stream.len() {
        let hit = ends.iter().position(|&end| byte < end).unwrap();
        // A flipped delimiter joins the hit frame with the next one: both are lost.
        let lost = if byte == ends[hit] - 1 {
            hit..=hit + 1
        } else {
            hit..=hit
        };
        let expected: Vec<Record> = records
            .iter()
            .enumerate()
            .filter(|(i, _)| !lost.contains(i))
            .map(|(_, r)| r.clone())
            .collect();
        for bit in 0..8 {
            let mut damaged = stream.clone();
            damaged[byte] ^= 1 << bit;
            let decoded = decode(&damaged);
            assert_eq!(
                decoded.records(),
                expected,
                "bit {bit} of byte {byte} (frame {hit}, starting at {})",
                starts[hit]
            );
            assert!(
                decoded.errors().iter().all(|e| !e.must_refuse()),
                "damage is never mistaken for a foreign record: {:?}",
                decoded.errors()
            );
            // Only a flipped last delimiter can leave a torn tail.
            assert_eq!(decoded.torn.is_some(), byte == stream.len() - 1);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn garbage_between_records_is_skipped_and_counted_exactly(
        seqs in prop::collection::vec(any::<u64>(), 1..5),
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 5),
        chunk in 1usize..600,
    ) {
        let records: Vec<Record> = seqs.iter().map(|&s| small_record(s)).collect();
        let mut stream = Vec::new();
        let mut garbage_bytes = 0u64;
        let mut garbage_frames = 0u64;
        for (i, junk) in garbage.iter().enumerate() {
            // Each piece of garbage ends with a delimiter, as a writer's recovery leaves it.
            stream.extend(junk);
            stream.push(0);
            garbage_bytes += junk.len() as u64 + 1;
            garbage_frames += junk.split(|&b| b == 0).filter(|piece| !piece.is_empty()).count() as u64;
            if let Some(r) = records.get(i) {
                stream.extend(frame_of(r));
            }
        }
        let decoded = decode_chunked(&stream, chunk);
        prop_assert_eq!(decoded.records(), records);
        prop_assert_eq!(decoded.stats.bytes_skipped, garbage_bytes);
        prop_assert_eq!(decoded.stats.frames_skipped, garbage_frames);
        prop_assert_eq!(decoded.errors().len() as u64, garbage_frames);
        prop_assert_eq!(decoded.torn, None);
    }

    #[test]
    fn how_the_stream_is_split_into_reads_does_not_change_the_outcome(
        chunk in 1usize..400,
        cut in 0usize..2000,
        flip in any::<(usize, u8)>(),
    ) {
        let (_, mut stream, _) = sample_stream();
        let at = flip.0 % stream.len();
        stream[at] ^= 1 << (flip.1 % 8);
        let stream = &stream[..cut.min(stream.len())];
        let whole = decode(stream);
        let chunked = decode_chunked(stream, chunk);
        prop_assert_eq!(whole.outcomes, chunked.outcomes);
        prop_assert_eq!(whole.stats, chunked.stats);
        prop_assert_eq!(whole.torn, chunked.torn);
    }
}

#[test]
fn garbage_without_a_delimiter_costs_only_the_next_record() {
    let (records, stream, ends) = sample_stream();
    let mut damaged = stream[..ends[0]].to_vec();
    damaged.extend(b"\x07junk!!");
    damaged.extend(&stream[ends[0]..]);
    let decoded = decode(&damaged);
    assert_eq!(
        decoded.records(),
        vec![records[0].clone(), records[2].clone()]
    );
    assert_eq!(decoded.stats.frames_skipped, 1);
    assert_eq!(
        decoded.stats.bytes_skipped,
        (ends[1] - ends[0] + b"\x07junk!!".len()) as u64
    );
}

#[test]
fn zero_padding_is_skipped_silently_and_counted() {
    let record = small_record(8);
    let mut stream = vec![0u8; 100];
    stream.extend(frame_of(&record));
    stream.extend([0u8; 50]);
    let decoded = decode(&stream);
    assert_eq!(decoded.outcomes, vec![Ok(record)]);
    assert_eq!(decoded.stats.bytes_skipped, 150);
    assert_eq!(decoded.stats.frames_skipped, 0);
}

#[test]
fn overlong_frame_is_skipped_as_too_long_and_the_next_record_survives() {
    let record = small_record(4);
    let mut stream = vec![0x42u8; MAX_FRAME + 10];
    stream.push(0);
    stream.extend(frame_of(&record));
    for chunk in [1, 100, stream.len()] {
        let decoded = decode_chunked(&stream, chunk);
        assert_eq!(
            decoded.outcomes,
            vec![Err(DecodeError::TooLong), Ok(record.clone())]
        );
        assert_eq!(decoded.stats.reasons.too_long, 1);
        assert_eq!(decoded.stats.bytes_skipped, MAX_FRAME as u64 + 11);
    }
    assert_eq!(
        record::decode_frame(&stream[..MAX_FRAME + 11]),
        Err(DecodeError::TooLong)
    );
}

#[test]
fn the_longest_legal_frame_fits_the_decoder() {
    // A record's frame can be MAX_FRAME long only if it has no zero byte; this checks the
    // buffer edge with a COBS-valid frame of exactly MAX_FRAME bytes (not a record).
    let mut stream = vec![0x01u8; MAX_FRAME - 1];
    stream.push(0);
    let decoded = decode(&stream);
    assert_eq!(decoded.outcomes, vec![Err(DecodeError::BadMagic)]);
    stream.insert(0, 0x01);
    assert_eq!(decode(&stream).outcomes, vec![Err(DecodeError::TooLong)]);
}

// ---- versions and flags ----

#[test]
fn unknown_version_is_bad_version_and_refused_not_skipped_as_garbage() {
    let record = small_record(6);
    let mut bytes = unstuff(&frame_of(&record));
    bytes[2] = 3;
    // Without a valid CRC the same byte change is damage, not a foreign record.
    let damaged = record::decode_frame(&stuff(&bytes));
    assert!(matches!(damaged, Err(DecodeError::Crc { .. })));
    assert!(!damaged.unwrap_err().must_refuse());

    reseal(&mut bytes);
    let foreign = stuff(&bytes);
    assert_eq!(
        record::decode_frame(&foreign),
        Err(DecodeError::BadVersion { found: 3 })
    );
    let decoded = decode(&foreign);
    assert_eq!(decoded.errors(), vec![DecodeError::BadVersion { found: 3 }]);
    assert!(decoded.errors()[0].must_refuse());
    assert_eq!(decoded.stats.reasons.bad_version, 1);
    assert_eq!(decoded.stats.reasons.refused(), 1);
    assert_eq!(decoded.stats.reasons.crc, 0);
}

#[test]
fn reserved_flags_and_inconsistent_lengths_in_a_sealed_record_are_refused() {
    let record = small_record(7);
    let original = unstuff(&frame_of(&record));

    let mut flagged = original.clone();
    flagged[3] = 0x80;
    reseal(&mut flagged);
    assert_eq!(
        RecordView::new_checked(&flagged),
        Err(DecodeError::BadFlags { found: 0x80 })
    );

    let mut wrong_len = original.clone();
    wrong_len[16] = wrong_len[16].wrapping_add(1);
    reseal(&mut wrong_len);
    assert_eq!(
        RecordView::new_checked(&wrong_len),
        Err(DecodeError::BadLength)
    );

    let mut bad_body = original.clone();
    bad_body[18] = 0x7F; // no such Event variant
    reseal(&mut bad_body);
    let view = RecordView::new_checked(&bad_body).unwrap();
    assert_eq!(view.event(), Err(DecodeError::Body));
    assert!(DecodeError::Body.must_refuse() && DecodeError::BadLength.must_refuse());
}

#[test]
fn short_or_foreign_bytes_are_truncated_or_bad_magic() {
    assert_eq!(
        RecordView::new_checked(b"IR\x01\0\0\0"),
        Err(DecodeError::Truncated)
    );
    assert_eq!(
        RecordView::new_checked(b"XR\x01\0\0\0\0"),
        Err(DecodeError::BadMagic)
    );
    assert_eq!(record::decode_frame(b""), Err(DecodeError::Truncated));
    assert_eq!(record::decode_frame(b"\x05ab\0"), Err(DecodeError::Cobs));
    assert_eq!(
        record::decode_frame(b"\x02a\0\x01\0"),
        Err(DecodeError::Cobs)
    );
}

// ---- CRC and COBS ----

#[test]
fn crc32c_check_value_is_e3069283() {
    assert_eq!(crc::checksum(b"123456789"), 0xE306_9283);
    assert_eq!(crc::checksum(b""), 0);
}

fn arb_cobs_input() -> impl Strategy<Value = Vec<u8>> {
    let segment = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        prop::sample::select(vec![1usize, 253, 254, 255, 508, 509])
            .prop_flat_map(|n| prop::collection::vec(1u8..=255, n)),
        (0usize..600).prop_map(|n| vec![0u8; n]),
    ];
    prop::collection::vec(segment, 0..6).prop_map(|segments| segments.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn cobs_round_trips_and_never_emits_zero(data in arb_cobs_input()) {
        let mut encoded = vec![0xA5u8; cobs::max_encoded_len(data.len())];
        let n = cobs::encode(&data, &mut encoded).unwrap();
        prop_assert_eq!(n, cobs::encoded_len(&data));
        prop_assert!(n > data.len());
        prop_assert!(!encoded[..n].contains(&0));

        let mut in_place = data.clone();
        in_place.resize(n, 0xA5);
        prop_assert_eq!(cobs::encode_in_place(&mut in_place, data.len()), Ok(n));
        prop_assert_eq!(&in_place[..n], &encoded[..n]);

        let mut decoded = vec![0xA5u8; n];
        let m = cobs::decode(&encoded[..n], &mut decoded).unwrap();
        prop_assert_eq!(&decoded[..m], &data[..]);
        let mut buf = encoded[..n].to_vec();
        let m = cobs::decode_in_place(&mut buf).unwrap();
        prop_assert_eq!(&buf[..m], &data[..]);
    }

    #[test]
    fn cobs_decode_of_arbitrary_bytes_never_panics(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut out = vec![0u8; data.len()];
        let copied = cobs::decode(&data, &mut out);
        let mut buf = data.clone();
        let in_place = cobs::decode_in_place(&mut buf);
        prop_assert_eq!(copied.is_ok(), in_place.is_ok());
        if let (Ok(a), Ok(b)) = (copied, in_place) {
            prop_assert_eq!(&out[..a], &buf[..b]);
        }
    }
}

#[test]
fn cobs_splits_runs_of_254_and_255_and_encodes_zeros_as_ones() {
    let run254 = vec![0x11u8; 254];
    let mut out = vec![0u8; 300];
    let n = cobs::encode(&run254, &mut out).unwrap();
    assert_eq!(n, 256);
    assert_eq!((out[0], out[255]), (0xFF, 0x01));

    let run255 = vec![0x11u8; 255];
    let n = cobs::encode(&run255, &mut out).unwrap();
    assert_eq!(n, 257);
    assert_eq!((out[0], out[255], out[256]), (0xFF, 0x02, 0x11));

    for len in [0, 1, 253, 254, 255, 1000] {
        let zeros = vec![0u8; len];
        let mut out = vec![0u8; len + 1];
        assert_eq!(cobs::encode(&zeros, &mut out), Ok(len + 1));
        assert!(out.iter().all(|&b| b == 1));
    }
    assert_eq!(cobs::max_encoded_len(254), 256);
    assert_eq!(
        cobs::encode(&run254, &mut out[..255]),
        Err(cobs::Error::BufferTooSmall { needed: 256 })
    );
}

// ---- committed hex vectors ----

/// Reads `tests/vectors/<name>.hex`: hex digits, whitespace ignored, `#` to end of line is a
/// comment.
fn read_vector(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap();
    let digits: String = text
        .lines()
        .map(|line| line.split('#').next().unwrap())
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    assert_eq!(
        digits.len() % 2,
        0,
        "{}: odd number of hex digits",
        path.display()
    );
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// The record in `valid.hex`, as docs/record-format.md describes it.
fn vector_record() -> Record {
    let mut n = icsfwd_core::alert::Notification::new(
        77,
        SAMPLE_TIME_MS + 1000,
        NotificationKind::SensorOnline,
    );
    n.sensor = common::sensor("plc-gw");
    n.set_text("up");
    Record {
        seq: 1,
        destinations: DestinationSet::from_bits(0b101),
        event: Event::from(n),
    }
}

#[test]
fn valid_vector_decodes_to_the_documented_record_and_is_what_encode_writes() {
    let frame = read_vector("valid");
    assert_eq!(record::decode_frame(&frame), Ok(vector_record()));
    assert_eq!(
        frame_of(&vector_record()),
        frame,
        "the format changed: bump VERSION"
    );
    let bytes = unstuff(&frame);
    let view = RecordView::new_checked(&bytes).unwrap();
    assert_eq!((view.seq(), view.destinations().bits()), (1, 0b101));
    assert_eq!(view.crc(), 0x391C_1615);
}

#[test]
fn torn_vector_is_reported_as_a_torn_tail_after_the_valid_record() {
    let mut stream = read_vector("valid");
    let torn = read_vector("torn");
    stream.extend(&torn);
    let decoded = decode(&stream);
    assert_eq!(decoded.outcomes, vec![Ok(vector_record())]);
    assert_eq!(
        decoded.torn,
        Some(TornTail {
            start: (stream.len() - torn.len()) as u64,
            bytes: torn.len()
        })
    );
    assert_eq!(record::decode_frame(&torn), Err(DecodeError::Truncated));
}

#[test]
fn bit_flipped_vector_fails_its_crc_and_the_next_record_survives() {
    let flipped = read_vector("bit-flipped");
    assert_eq!(
        record::decode_frame(&flipped),
        Err(DecodeError::Crc {
            stored: 0x391C_1615,
            computed: 0x9C5D_846B
        })
    );
    let mut stream = flipped.clone();
    stream.extend(read_vector("valid"));
    let decoded = decode(&stream);
    assert_eq!(decoded.records(), vec![vector_record()]);
    assert_eq!(decoded.stats.reasons.crc, 1);
    assert_eq!(decoded.stats.bytes_skipped, flipped.len() as u64);
}

#[test]
fn future_version_vector_is_refused_as_bad_version() {
    let frame = read_vector("future-version");
    let err = record::decode_frame(&frame).unwrap_err();
    assert_eq!(err, DecodeError::BadVersion { found: 3 });
    assert!(err.must_refuse());
}
