//! Record decoding: any bytes in, no panic; the byte accounting always balances; every record
//! delivered re-encodes into a frame that decodes to the same record; and the single-frame
//! decoder and the checked view agree with the stream decoder.
#![no_main]

use icsfwd_core::record::{self, Decoder, MAX_FRAME, RecordView};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The input as a stream, fed in two reads split at a point chosen by the input.
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (first, second) = data.split_at(split);
    let mut decoder = Decoder::new();
    let mut outcomes = Vec::new();
    outcomes.extend(decoder.feed(first));
    outcomes.extend(decoder.feed(second));
    let torn = decoder.finish();
    let stats = *decoder.stats();
    assert_eq!(
        stats.record_bytes + stats.bytes_skipped + stats.torn_bytes,
        data.len() as u64
    );
    assert_eq!(torn.map_or(0, |t| t.bytes as u64), stats.torn_bytes);

    // Feeding everything at once gives the same outcome.
    let mut whole = Decoder::new();
    let again: Vec<_> = whole.feed(data).collect();
    assert_eq!(again, outcomes);

    let mut frame = vec![0u8; MAX_FRAME];
    for record in outcomes.iter().filter_map(|o| o.as_ref().ok()) {
        let n = record::encode(record, &mut frame).expect("a decoded record re-encodes");
        assert_eq!(record::decode_frame(&frame[..n]).as_ref(), Ok(record));
    }

    // Each delimited piece through the single-frame decoder, and the raw input as a record.
    for piece in data.split_inclusive(|&b| b == 0) {
        let _ = record::decode_frame(piece);
    }
    if let Ok(view) = RecordView::new_checked(data) {
        assert_eq!(view.as_bytes(), data);
        let _ = view.event();
    }
});
