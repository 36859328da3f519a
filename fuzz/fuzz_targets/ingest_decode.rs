//! The `ingest_decode` target: the body is `icsfwd_tests::fuzz::ingest_decode` (see its docs), shared with
//! the stable replay of the committed corpus (`tests/tests/formats/fuzz_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(problem) = icsfwd_tests::fuzz::ingest_decode(data) {
        panic!("ingest_decode: {problem}");
    }
});
