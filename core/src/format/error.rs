//! Why a formatter stopped: [`Error`], the one error type of every format and sink.

use core::fmt;

use embedded_io::ErrorKind;

/// Why a formatter stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The sink had no room for the whole output. A fixed buffer of the format's `MAX_LEN`
    /// never reports this.
    BufferFull,
    /// The sink failed for another reason.
    Io(ErrorKind),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BufferFull => f.write_str("output buffer full"),
            Error::Io(kind) => write!(f, "output failed: {kind:?}"),
        }
    }
}

impl core::error::Error for Error {}

impl embedded_io::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::BufferFull => ErrorKind::OutOfMemory,
            Error::Io(kind) => *kind,
        }
    }
}
