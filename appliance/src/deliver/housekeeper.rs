//! The housekeeper: checkpoints the spool periodically so delivered segments are removed.
//!
//! What it is: a thread that calls [`Handle::checkpoint`] every interval and once more when
//! its [`Shutdown`] is triggered (after the workers stopped, so their last acknowledgements
//! are persisted). It counts checkpoints, removed segments and errors ([`HousekeepingStats`])
//! and logs each error.
//!
//! What it guarantees: it never sleeps without watching its [`Shutdown`]; a failed
//! checkpoint removes nothing (the spool's own guarantee) and is retried at the next tick; a
//! spool already shut down ([`SpoolError::Closed`]) ends the thread.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;

use super::Shutdown;
use crate::spool::{Handle, SpoolError};

/// The housekeeper's counters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HousekeepingStats {
    /// Checkpoints written.
    pub checkpoints: u64,
    /// Segments removed by them.
    pub segments_removed: u64,
    /// Of [`segments_removed`](HousekeepingStats::segments_removed), those kept as spare
    /// files to be reused as new segments (`docs/spool.md`, "Spare segment files").
    pub segments_spared: u64,
    /// Checkpoints that failed.
    pub errors: u64,
    /// The last error.
    pub last_error: Option<String>,
}

/// Shared [`HousekeepingStats`].
#[derive(Debug, Clone, Default)]
pub(crate) struct HousekeepingCell(Arc<Mutex<HousekeepingStats>>);

impl HousekeepingCell {
    /// A copy of the counters.
    #[must_use]
    pub(crate) fn snapshot(&self) -> HousekeepingStats {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut HousekeepingStats)) {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// See the [module docs](self).
#[derive(Debug)]
pub(crate) struct Housekeeper {
    handle: Handle,
    interval: Duration,
    shutdown: Shutdown,
    stats: HousekeepingCell,
}

impl Housekeeper {
    /// A housekeeper checkpointing through `handle` every `interval`.
    #[must_use]
    pub(crate) fn new(
        handle: Handle,
        interval: Duration,
        shutdown: Shutdown,
        stats: HousekeepingCell,
    ) -> Self {
        Self {
            handle,
            interval,
            shutdown,
            stats,
        }
    }

    /// Runs until the shutdown signal, then checkpoints once more.
    pub(crate) fn run(self) {
        loop {
            let stopping = self.shutdown.wait_timeout(self.interval);
            if !self.checkpoint() || stopping {
                return;
            }
        }
    }

    /// One checkpoint; false when the spool is closed.
    fn checkpoint(&self) -> bool {
        match self.handle.checkpoint() {
            Ok(outcome) => {
                self.stats.update(|s| {
                    s.checkpoints += 1;
                    s.segments_removed += outcome.segments_removed as u64;
                    s.segments_spared += outcome.segments_spared as u64;
                });
                true
            }
            Err(SpoolError::Closed) => false,
            Err(err) => {
                let message = err.to_string();
                log::error!(
                    "spool checkpoint failed (retried in {}): {message}",
                    crate::status::duration(
                        u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX)
                    )
                );
                self.stats.update(|s| {
                    s.errors += 1;
                    s.last_error = Some(message);
                });
                true
            }
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::deliver::Shutdown;
        use crate::deliver::housekeeper::{Housekeeper, HousekeepingCell};
        use crate::spool::{GroupCommit, GroupConfig, Spool, SpoolConfig, storage::FsStorage};
        use std::time::Duration;

        let dir = tempfile::tempdir()?;
        let (spool, _) = Spool::open(
            FsStorage::new(),
            dir.path(),
            SpoolConfig::default(),
            &["hec".to_string()],
        )?;
        let group = GroupCommit::start(spool, GroupConfig::default())?;
        let shutdown = Shutdown::new();
        let cell = HousekeepingCell::default();
        let keeper = Housekeeper::new(
            group.handle(),
            Duration::from_secs(5),
            shutdown.clone(),
            cell.clone(),
        );
        let thread = std::thread::spawn(move || keeper.run());
        shutdown.trigger();
        thread.join().unwrap();
        assert!(
            cell.snapshot().checkpoints >= 1,
            "one more checkpoint at shutdown"
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
}
