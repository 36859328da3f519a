//! How many bytes written to a TCP socket its peer has not acknowledged yet: Linux's
//! `SIOCOUTQ` ioctl (tcp(7): "the amount of unsent data in the socket send queue", which for
//! TCP counts every byte from the oldest unacknowledged one to the last written, sent or not).
//!
//! What it is: [`unacknowledged`], one of the two pieces of unsafe code of the appliance crate
//! (the other is `arena.rs`, the malloc arena cap). No
//! crate offers this ioctl (or `TCP_INFO`) behind a safe API — not `rustix` (its typed
//! [`Getter`] still needs `unsafe` to name the opcode's output type), not `nix`, not
//! `socket2` — so it is written here once, with `rustix`'s typed ioctl, which leaves only the
//! promise that the kernel writes one `int` for this opcode.
//!
//! What it guarantees: the answer is the kernel's count at the time of the call, or the
//! kernel's error; nothing else is read or written.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)
//!
//! [`Getter`]: rustix::ioctl::Getter
#![allow(
    unsafe_code,
    reason = "the one ioctl no crate wraps safely; see the module docs"
)]

use std::io;
use std::net::TcpStream;

use rustix::ioctl::{Getter, Opcode, ioctl};

/// `SIOCOUTQ` (the same number as `TIOCOUTQ`), per architecture as libc defines it.
const SIOCOUTQ: Opcode = libc::TIOCOUTQ as Opcode;

/// Bytes written to `tcp` that its peer's TCP has not acknowledged yet.
///
/// # Errors
///
/// The kernel refused the ioctl (not a TCP socket, or a listening one).
pub(crate) fn unacknowledged(tcp: &TcpStream) -> io::Result<u64> {
    // SAFETY: for SIOCOUTQ on a TCP socket the kernel writes exactly one `int` (the tcp(7)
    // manual page: "argument is a pointer to an integer"), which is the output type named
    // here; the file descriptor is borrowed from a live `TcpStream` for the whole call.
    let queued: libc::c_int = unsafe { ioctl(tcp, Getter::<SIOCOUTQ, libc::c_int>::new()) }?;
    Ok(u64::try_from(queued).unwrap_or(0))
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), std::io::Error> {
        use std::io::Write;
        use std::net::{TcpListener, TcpStream};

        let listener = TcpListener::bind("127.0.0.1:0")?;
        let mut client = TcpStream::connect(listener.local_addr()?)?;
        let (_server, _) = listener.accept()?;
        client.write_all(b"hello")?;
        // On loopback the peer acknowledges at once; give it a moment.
        let mut left = crate::destination::syslog::outq::unacknowledged(&client)?;
        for _ in 0..100 {
            if left == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            left = crate::destination::syslog::outq::unacknowledged(&client)?;
        }
        assert_eq!(left, 0);
        Ok::<(), std::io::Error>(())
    }
}
