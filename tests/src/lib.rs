//! icsfwd-tests: cross-crate end-to-end, fault-injection and fidelity tests of icsfwd.
//!
//! The tests live in `tests/tests/`; this library holds what they share.

pub mod formats;
pub mod fuzz;
pub mod hostile;

use icsfwd_core::alert::Event;
use icsfwd_core::format::{self, Kind, SliceWriter};

/// Renders `event` in `kind` with default options into a fresh buffer of the format's bound.
pub fn render(kind: Kind, event: &Event) -> Result<Vec<u8>, format::Error> {
    let mut buf = vec![0u8; format::MAX_LEN];
    let mut sink = SliceWriter::new(&mut buf);
    let n = format::write(kind, event, &format::Options::default(), &mut sink)?;
    buf.truncate(n);
    Ok(buf)
}
