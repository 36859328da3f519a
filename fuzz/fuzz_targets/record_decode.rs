//! The `record_decode` target: the body is `icsfwd_tests::fuzz::record_decode` (see its docs), shared with
//! the stable replay of the committed corpus (`tests/tests/formats/fuzz_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(problem) = icsfwd_tests::fuzz::record_decode(data) {
        panic!("record_decode: {problem}");
    }
});
