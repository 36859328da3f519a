//! Where a formatter writes: [`SliceWriter`] (a fixed buffer that refuses a chunk it has no
//! room for), [`Counter`] (only counts) and [`Out`], the writer every formatter renders
//! through, which counts bytes, maps the sink's errors to [`Error`] and writes numbers,
//! addresses and times without `core::fmt`.

use core::fmt;
use core::net::IpAddr;

use embedded_io::{ErrorKind, ErrorType, Write};

use super::Error;
use crate::alert::MacAddr;
use crate::stack_text::{MAX_IP_TEXT, MAX_MAC_TEXT, MAX_U64_TEXT, StackText, ipv4_text};
use crate::time::{Civil, MAX_LEGACY_TIME, MAX_RFC3339};

/// A writer into a fixed byte buffer that reports [`Error::BufferFull`] instead of writing
/// part of a chunk it has no room for.
#[derive(Debug)]
pub struct SliceWriter<'a> {
    // Seen by the formats: `syslog::write_framed` writes its frame in place, in the free part.
    pub(super) buf: &'a mut [u8],
    pub(super) len: usize,
}

impl<'a> SliceWriter<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceWriter { buf, len: 0 }
    }

    /// How many bytes have been written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl ErrorType for SliceWriter<'_> {
    type Error = Error;
}

impl Write for SliceWriter<'_> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        let end = self.len.checked_add(data.len()).ok_or(Error::BufferFull)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(Error::BufferFull)?;
        dst.copy_from_slice(data);
        self.len = end;
        Ok(data.len())
    }

    /// One `write`: it writes the whole chunk or nothing, so the default's loop (and its
    /// `WriteZero` case) is not needed on the formatters' hot path.
    #[inline]
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        self.write(data).map(|_| ())
    }

    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// A sink that only counts: renders an event to learn its exact length.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counter {
    /// Bytes seen so far.
    pub count: usize,
}

impl ErrorType for Counter {
    type Error = core::convert::Infallible;
}

impl Write for Counter {
    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<usize, Self::Error> {
        self.count = self.count.saturating_add(data.len());
        Ok(data.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The writer every formatter uses: counts bytes, turns sink errors into [`Error`], and
/// writes numbers, addresses and times without allocating ([`Out::decimal`], [`Out::ip`],
/// [`Out::mac`], [`Out::rfc3339`], [`Out::legacy_time`], each in one write without
/// `core::fmt`; [`Out::fmt`] for anything else).
#[derive(Debug)]
pub struct Out<'w, W: Write> {
    sink: &'w mut W,
    written: usize,
    failed: Option<Error>,
}

impl<'w, W: Write> Out<'w, W> {
    /// Wraps a sink.
    pub fn new(sink: &'w mut W) -> Self {
        Out {
            sink,
            written: 0,
            failed: None,
        }
    }

    /// Bytes written through this wrapper.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Writes all of `data`.
    #[inline]
    pub fn bytes(&mut self, data: &[u8]) -> Result<(), Error> {
        match self.sink.write_all(data) {
            Ok(()) => {
                self.written += data.len();
                Ok(())
            }
            Err(e) => {
                let kind = embedded_io::Error::kind(&e);
                let err = match kind {
                    ErrorKind::OutOfMemory | ErrorKind::WriteZero => Error::BufferFull,
                    other => Error::Io(other),
                };
                self.failed = Some(err);
                Err(err)
            }
        }
    }

    /// Writes a string as is (no escaping).
    #[inline]
    pub fn str(&mut self, s: &str) -> Result<(), Error> {
        self.bytes(s.as_bytes())
    }

    /// Writes formatted arguments as is (no escaping); the dedicated writers below are faster
    /// for numbers, addresses and times.
    pub fn fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), Error> {
        match fmt::Write::write_fmt(self, args) {
            Ok(()) => Ok(()),
            Err(fmt::Error) => Err(self.failed.unwrap_or(Error::BufferFull)),
        }
    }

    /// Finishes: flushes the sink and returns the number of bytes written.
    pub fn finish(self) -> Result<usize, Error> {
        self.sink.flush().map_err(|e| {
            let kind = embedded_io::Error::kind(&e);
            Error::Io(kind)
        })?;
        Ok(self.written)
    }
}

impl<W: Write> fmt::Write for Out<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

// ---- Numbers, addresses and times without `core::fmt` ----
//
// The formats write a dozen numbers, addresses and times per event; through `core::fmt` each
// costs a `Formatter`, padding logic and several tiny writes. These writers assemble the text
// on the stack (`crate::stack_text`) and hand it to the sink in one write; unit tests prove
// each equals the `Display` rendering it replaces.

impl<W: Write> Out<'_, W> {
    /// Writes `n` in decimal, as `u64`'s `Display` does.
    pub fn decimal(&mut self, n: u64) -> Result<(), Error> {
        let mut text = StackText::<MAX_U64_TEXT>::new();
        text.push_decimal(n, 1);
        self.bytes(text.as_bytes())
    }

    /// Writes an address as `IpAddr`'s `Display` does, without `core::fmt` (IPv6 in its
    /// shortest form: the first longest run of two or more zero groups as `::`, an
    /// IPv4-mapped address as `::ffff:a.b.c.d`).
    pub fn ip(&mut self, ip: IpAddr) -> Result<(), Error> {
        match ip {
            IpAddr::V4(ip) => {
                let (text, len) = ipv4_text(ip);
                self.bytes(text.get(..len).unwrap_or_default())
            }
            IpAddr::V6(ip) => {
                let mut text = StackText::<MAX_IP_TEXT>::new();
                text.push_ipv6(ip);
                self.bytes(text.as_bytes())
            }
        }
    }

    /// Writes a MAC address as `aa:bb:cc:dd:ee:ff` (lower-case hex), as `MacAddr`'s `Display`
    /// does.
    pub fn mac(&mut self, mac: MacAddr) -> Result<(), Error> {
        let mut text = StackText::<MAX_MAC_TEXT>::new();
        text.push_mac(mac.0);
        self.bytes(text.as_bytes())
    }

    /// Writes `time` as RFC 3339 (`2019-05-05T12:28:54.123Z`), as
    /// [`Rfc3339`](crate::time::Rfc3339)'s `Display` does.
    pub fn rfc3339(&mut self, time: Civil) -> Result<(), Error> {
        let mut text = StackText::<MAX_RFC3339>::new();
        text.push_rfc3339(time);
        self.bytes(text.as_bytes())
    }

    /// Writes `time` as `MMM dd yyyy HH:mm:ss.SSS` (`May 05 2019 12:28:54.123`), as
    /// [`Legacy`](crate::time::Legacy)'s `Display` does.
    pub fn legacy_time(&mut self, time: Civil) -> Result<(), Error> {
        let mut text = StackText::<MAX_LEGACY_TIME>::new();
        text.push_legacy_time(time);
        self.bytes(text.as_bytes())
    }
}

/// What `write` renders through an [`Out`] into a buffer of `len` bytes pre-filled with 0xA5,
/// as a string: the unit tests' view of the writers here and of `escape`.
#[cfg(test)]
pub(crate) fn rendered(
    len: usize,
    write: impl FnOnce(&mut Out<'_, SliceWriter<'_>>),
) -> std::string::String {
    let mut buf = std::vec![0xA5u8; len];
    let mut sink = SliceWriter::new(&mut buf);
    let mut out = Out::new(&mut sink);
    write(&mut out);
    let n = out.finish().unwrap();
    std::string::String::from_utf8(buf.get(..n).unwrap().to_vec()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_writer_refuses_a_chunk_that_does_not_fit_whole() {
        let mut buf = [0xA5u8; 4];
        let mut w = SliceWriter::new(&mut buf);
        assert_eq!(w.write(b"abc"), Ok(3));
        assert_eq!(w.write(b"de"), Err(Error::BufferFull));
        assert_eq!(w.written(), b"abc");
    }

    #[test]
    fn out_reports_buffer_full_through_write_macro() {
        let mut buf = [0u8; 3];
        let mut w = SliceWriter::new(&mut buf);
        let mut out = Out::new(&mut w);
        assert_eq!(out.fmt(format_args!("{}", 12345)), Err(Error::BufferFull));
    }

    use core::net::{Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;
    use std::format;

    #[test]
    fn decimal_writes_edge_values_like_display() {
        for n in [0, 9, 10, 99, 100, 65_535, u64::from(u32::MAX), u64::MAX] {
            let text = rendered(MAX_U64_TEXT, |out| out.decimal(n).unwrap());
            assert_eq!(text, format!("{n}"));
        }
    }

    #[test]
    fn ipv6_is_written_as_core_displays_it() {
        for ip in [
            Ipv6Addr::UNSPECIFIED,
            Ipv6Addr::LOCALHOST,
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0x21b, 0x1bff, 0xfeaa, 0xf9e),
            Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0005),
            Ipv6Addr::new(
                0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
            ),
        ] {
            let text = rendered(MAX_IP_TEXT, |out| out.ip(IpAddr::V6(ip)).unwrap());
            assert_eq!(text, format!("{ip}"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn ipv4_is_written_as_core_displays_it(bits in any::<u32>()) {
            let ip = Ipv4Addr::from(bits);
            let text = rendered(MAX_IP_TEXT, |out| out.ip(IpAddr::V4(ip)).unwrap());
            prop_assert_eq!(text, format!("{ip}"));
        }

        #[test]
        fn mac_is_written_as_its_display(bytes in any::<[u8; 6]>()) {
            let mac = MacAddr(bytes);
            let text = rendered(MAX_MAC_TEXT, |out| out.mac(mac).unwrap());
            prop_assert_eq!(text, format!("{mac}"));
        }

        #[test]
        fn decimal_is_written_as_display(n in any::<u64>()) {
            let text = rendered(MAX_U64_TEXT, |out| out.decimal(n).unwrap());
            prop_assert_eq!(text, format!("{n}"));
        }

        #[test]
        fn times_are_written_as_their_display(
            ms in prop_oneof![any::<u64>(), 0..=253_402_300_799_999u64, Just(u64::MAX)]
        ) {
            let time = Civil::from_epoch_ms(ms);
            // Both `Out` and the `Display` impls use `StackText`; the reference is
            // `core::fmt`'s zero padding.
            let t = &time;
            let clock = format!("{:02}:{:02}:{:02}.{:03}", t.hour, t.minute, t.second, t.millis);
            let expected = format!("{:04}-{:02}-{:02}T{clock}Z", t.year, t.month, t.day);
            let rfc3339 = rendered(MAX_RFC3339, |out| out.rfc3339(time).unwrap());
            prop_assert_eq!(&rfc3339, &expected);
            prop_assert_eq!(format!("{}", time.rfc3339()), expected);
            let expected = format!("{} {:02} {:04} {clock}", t.month_abbrev(), t.day, t.year);
            let legacy = rendered(MAX_LEGACY_TIME, |out| out.legacy_time(time).unwrap());
            prop_assert_eq!(&legacy, &expected);
            prop_assert_eq!(format!("{}", time.legacy()), expected);
        }

        #[test]
        fn any_ipv6_is_written_as_core_displays_it(
            segments in prop::array::uniform8(prop_oneof![Just(0u16), Just(0xffff), any::<u16>()])
        ) {
            let ip = Ipv6Addr::from(segments);
            let text = rendered(MAX_IP_TEXT, |out| out.ip(IpAddr::V6(ip)).unwrap());
            prop_assert_eq!(text, format!("{ip}"));
        }
    }
}
