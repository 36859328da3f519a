//! Ingest lines: any bytes in, no panic; a line the decoder takes re-encodes to a line that
//! decodes to the same message (the encoder and the decoder agree on every accepted input),
//! and a refusal always names what was wrong.
#![no_main]

use icsfwd::ingest::schema::{self, Answer};
use libfuzzer_sys::fuzz_target;

/// The receipt time passed in (used when a line carries no time).
const RECEIVED_MS: u64 = 1_700_000_000_000;

fuzz_target!(|data: &[u8]| {
    match schema::decode_line(data, RECEIVED_MS) {
        Ok(decoded) => {
            let line = schema::encode_message(&decoded.message);
            assert!(
                line.len() <= schema::MAX_LINE,
                "an accepted message re-encodes within MAX_LINE"
            );
            let again = schema::decode_line(line.as_bytes(), RECEIVED_MS)
                .expect("a re-encoded message decodes");
            assert_eq!(again.message, decoded.message);
            assert!(again.truncated.is_empty(), "nothing is cut twice");
            let answer = Answer::accepted(decoded.message.id(), &decoded).to_line();
            assert_eq!(
                Answer::parse(&answer).map(|a| a.to_line()).ok(),
                Some(answer)
            );
        }
        Err(refusal) => {
            assert!(!refusal.error.is_empty());
            let answer = Answer::refused(&refusal).to_line();
            assert!(!answer.contains('\n'), "one answer is one line");
            assert!(Answer::parse(&answer).is_ok());
        }
    }
});
