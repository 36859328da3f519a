//! The internals that this crate's own integration tests and benches drive, behind the cargo
//! feature `_testing`: the spool with its fault-injecting [`Storage`](spool::storage::Storage)
//! seam and on-disk pieces, the delivery worker and its stats, each destination kind's sender,
//! the classification of replies, the ingest server, the metric families and the probe title.
//!
//! **For tests only.** Nothing here carries a stability promise: these are re-exports of
//! crate-private modules, and they change whenever the internals do. A normal build of the
//! library and the binary does not have this module; `appliance/Cargo.toml` turns the feature
//! on for the crate's tests and benches through a dev-dependency on the crate itself. The paths
//! mirror the crate's own (`testing::spool::storage` is `crate::spool::storage`), so a test
//! reads like the module it exercises.

/// The durable queue (`crate::spool`): open, append, checkpoint, recover, verify.
pub mod spool {
    pub use crate::spool::verify::{verify, verify_with};
    pub use crate::spool::{
        AppendError, CheckpointState, GroupCommit, GroupConfig, Handle, MAX_SEQ, OnFull, OpenError,
        Recovery, Spool, SpoolConfig, SpoolError, SpoolStats,
    };
    pub use crate::spool::{MAX_SPARES, PREALLOCATE_STEP, Resume, ZERO_FILL_BELOW};

    /// An event held as its record body.
    pub mod packed {
        pub use crate::spool::packed::Packed;
    }

    /// The group-commit writer's pending appends.
    pub mod commit {
        pub use crate::spool::commit::{Pending, Wait};
    }

    /// The per-destination cursor checkpoint file.
    pub mod cursor {
        pub use crate::spool::cursor::{Checkpoint, CursorEntry, TEMP, VERSION};
    }

    /// The spool's lock file.
    pub mod lock {
        pub use crate::spool::lock::{FILE, LockError};
    }

    /// The progress log between checkpoints.
    pub mod progress {
        pub use crate::spool::progress::{Applied, COMPACT_AT, FILE, Hint, Ignored, name_crc};
    }

    /// Segment file names.
    pub mod segment {
        pub use crate::spool::segment::{
            file_name, parse_file_name, parse_spare_file_name, spare_file_name,
        };
    }

    /// The storage seam: the real file system, and the trait a test implements to cut power
    /// or fail a write at a chosen step.
    pub mod storage {
        pub use crate::spool::storage::{FsStorage, Storage};
    }

    /// What `icsfwd spool verify` finds.
    pub mod verify {
        pub use crate::spool::verify::{Place, SequenceProblem};
    }
}

/// The delivery workers (`crate::deliver`).
pub mod deliver {
    pub use crate::deliver::{Delivery, DeliveryOptions, Running, Shutdown, sender_for};

    /// The dead-letter store.
    pub mod deadletter {
        pub use crate::deliver::deadletter::DeadLetters;
    }

    /// `icsfwd deadletter replay`.
    pub mod replay {
        pub use crate::deliver::replay::{Fate, ReplayError, ReplayOptions, path, replay};
    }

    /// Per-destination delivery statistics.
    pub mod stats {
        pub use crate::deliver::stats::{DeliveryStats, State, StatsCell};
    }

    /// One destination's worker loop.
    pub mod worker {
        pub use crate::deliver::worker::{Worker, WorkerSettings};
    }
}

/// The destination kinds and what they share (`crate::destination`).
pub mod destination {
    pub use crate::destination::{
        AckReport, ClientCert, DestinationKind, HostState, Item, Outcome, PackedItem, Part,
        Restored, Secret, Sender, Timeouts, Tls,
    };

    /// The classification of every reply.
    pub mod classify {
        pub use crate::destination::classify::Action;
    }

    /// A failover destination's endpoints.
    pub mod failover {
        pub use crate::destination::failover::Endpoint;
    }

    /// Splunk HTTP Event Collector.
    pub mod hec {
        pub use crate::destination::hec::{Hec, default_requests_in_flight};

        /// The persisted HEC ack state.
        pub mod ack_state {
            pub use crate::destination::hec::ack_state::{State, path, read, record_mark};
        }

        /// The HEC sender.
        pub mod sender {
            pub use crate::destination::hec::sender::{HecError, HecSender};
        }
    }

    /// The HTTP client's pieces.
    pub mod http {
        pub use crate::destination::http::{HTTP_BUFFER, Scheme};
    }

    /// splunkd REST.
    pub mod splunk {
        pub use crate::destination::splunk::{Auth, Splunk};

        /// The splunkd REST sender.
        pub mod sender {
            pub use crate::destination::splunk::sender::SplunkSender;
        }
    }

    /// Syslog over UDP, TCP, TLS and RELP.
    pub mod syslog {
        pub use crate::destination::syslog::{Confirm, Syslog, Transport};

        /// RELP framing and its sender.
        pub mod relp {
            pub use crate::destination::syslog::relp::{RelpSender, encode_frame, parse_frame};
        }

        /// The syslog sender.
        pub mod sender {
            pub use crate::destination::syslog::sender::{SyslogError, SyslogSender};
        }

        /// What a syslog session accepts.
        pub mod session {
            pub use crate::destination::syslog::session::Acceptance;
        }
    }

    /// The TLS trust store.
    pub mod trust {
        pub use crate::destination::trust::Trust;
    }
}

/// The ingest socket's server (`crate::ingest::server`).
pub mod ingest {
    /// The ingest server.
    pub mod server {
        pub use crate::ingest::server::{
            IngestConfig, IngestServer, IngestStats, RunningIngest, SpoolAdmit, StartError,
        };
    }
}

/// The metric families (`crate::metrics`).
pub mod metrics {
    /// Every metric family the endpoint exposes.
    pub mod families {
        pub use crate::metrics::families::FAMILIES;
    }
}

/// `icsfwd test <destination>` (`crate::probe`).
pub mod probe {
    pub use crate::destination::probe::TEST_TITLE;
}
