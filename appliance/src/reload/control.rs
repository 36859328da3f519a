//! The control socket: how `icsfwd reload` and `icsfwd spool release-destination` reach the
//! running service, and where SIGHUP is turned into a reload.
//!
//! What it is: a Unix socket beside the ingest socket ([`path_for`]:
//! `icsfwd.control.sock` in the same directory), mode 0600 whatever the umask — only the
//! service user and root may reload. A client writes one request line, `reload` or
//! `release-destination NAME`, and reads the [`Answer`] until the service closes the
//! connection. One thread ([`serve`]) takes the requests one at a time, and the SIGHUP flag
//! ([`Hangup`]) between them, so reloads never overlap.
//!
//! What it guarantees: a request is bounded ([`MAX_REQUEST`] bytes, [`IO_TIMEOUT`] to send
//! it); an unknown request is answered [`Answer::Failed`] and changes nothing; the socket
//! file is removed when the service stops; a socket another process still answers on is
//! never taken over.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Answer, Live};
use crate::deliver::Shutdown;

/// The control socket's file name, in the ingest socket's directory.
pub(crate) const FILE_NAME: &str = "icsfwd.control.sock";

/// Longest request line, in bytes.
pub(crate) const MAX_REQUEST: u64 = 256;

/// How long a client has to send its request, and the service to write its answer.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client waits for the answer: a reload may wait for a changed destination's
/// request in flight ([`super::WORKER_STOP_DEADLINE`] per reload).
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// How often the control thread looks at the stop signal and the SIGHUP flag.
const POLL: Duration = Duration::from_millis(50);

/// The control socket beside `ingest_socket`.
#[must_use]
pub(crate) fn path_for(ingest_socket: &Path) -> PathBuf {
    ingest_socket
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(FILE_NAME)
}

/// SIGHUP's request for a reload: set by the signal thread, taken by `serve`.
#[derive(Debug, Clone, Default)]
pub struct Hangup(Arc<AtomicBool>);

impl Hangup {
    /// No reload asked for yet.
    #[must_use]
    pub(crate) fn new() -> Hangup {
        Hangup::default()
    }

    /// Asks for a reload (several requests before it is served make one reload).
    pub(crate) fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a reload was asked for since the last call.
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

/// Binds the control socket at `path` (mode 0600). A socket file left by a process that
/// ended is replaced; one that still answers is not.
///
/// # Errors
///
/// Another process answers at `path`, a file that is not a socket is there, or binding
/// failed.
pub(crate) fn bind(path: &Path) -> io::Result<UnixListener> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket; remove it", path.display()),
            ));
        }
        if UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{} is in use by another process", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Serves reload and release requests from `listener`, and a reload for each [`Hangup`]
/// request, until `stop`; then removes the socket file at `path`.
pub(crate) fn serve(
    listener: &UnixListener,
    path: &Path,
    live: &Mutex<Live>,
    hup: &Hangup,
    stop: &Shutdown,
) {
    loop {
        if hup.take() {
            log::info!("SIGHUP: reloading the configuration");
            lock(live).reload();
        }
        match listener.accept() {
            Ok((stream, _)) => answer(stream, live),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if stop.wait_timeout(POLL) {
                    break;
                }
            }
            Err(e) => {
                log::warn!("control socket {}: {e}", path.display());
                if stop.wait_timeout(POLL) {
                    break;
                }
            }
        }
    }
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        log::warn!("removing the control socket {}: {e}", path.display());
    }
}

fn lock(live: &Mutex<Live>) -> std::sync::MutexGuard<'_, Live> {
    live.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads one request from `stream` and writes its answer.
fn answer(stream: UnixStream, live: &Mutex<Live>) {
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(IO_TIMEOUT)))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)));
    if let Err(e) = setup {
        log::warn!("control socket: {e}");
        return;
    }
    let mut line = String::new();
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    if BufReader::new(reader.take(MAX_REQUEST))
        .read_line(&mut line)
        .is_err()
    {
        return;
    }
    let request = line.trim_end_matches(['\n', '\r']);
    let reply = match request.split_once(' ') {
        None if request == "reload" => {
            log::info!("reload requested on the control socket");
            lock(live).reload()
        }
        Some(("release-destination", name)) if !name.is_empty() => lock(live).release(name),
        _ => Answer::Failed(
            "unknown request: the control socket takes `reload` or `release-destination NAME`"
                .to_owned(),
        ),
    };
    let mut stream = stream;
    if let Err(e) = stream.write_all(reply.to_text().as_bytes()) {
        log::warn!("control socket: answering: {e}");
    }
}

/// Sends `request` to the service's control socket at `path` and reads its answer.
///
/// # Errors
///
/// Nothing answers there (the service is not running), the answer timed out or could not be
/// read.
pub(crate) fn request(path: &Path, request: &str) -> io::Result<Answer> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    stream.write_all(format!("{request}\n").as_bytes())?;
    let mut text = String::new();
    stream.take(1 << 20).read_to_string(&mut text)?;
    Answer::from_text(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} answered something that is not an icsfwd answer",
                path.display()
            ),
        )
    })
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    #[ignore = "compiled, not run: it needs a live system (it was a no_run example)"]
    fn module_example() -> Result<(), std::io::Error> {
        use crate::reload::control;

        let socket = control::path_for("/run/icsfwd/ingest.sock".as_ref());
        let answer = control::request(&socket, "reload")?;
        print!("{}", answer.to_text());
        Ok::<(), std::io::Error>(())
    }
}
