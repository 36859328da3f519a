//! Every metric family the endpoint exposes: name, type, unit, labels and help, one
//! constant each, and [`FAMILIES`] in the order [`render`](super::exposition::render)
//! writes them. `docs/operations.md` has the same table for operators (a test keeps the two
//! equal).

use super::exposition::{Family, Type};

const DEST: &[&str] = &["destination", "kind"];

macro_rules! family {
    ($const:ident, $name:literal, $kind:ident, $unit:expr, $labels:expr, $help:literal) => {
        #[doc = $help]
        pub(crate) const $const: Family = Family {
            name: $name,
            kind: Type::$kind,
            unit: $unit,
            labels: $labels,
            help: $help,
        };
    };
}

family!(
    BUILD_INFO,
    "icsfwd_build_info",
    Info,
    None,
    &["version"],
    "The running icsfwd version."
);
family!(
    START_TIME,
    "icsfwd_start_time_seconds",
    Gauge,
    Some("seconds"),
    &[],
    "When the service started, in seconds since the epoch."
);
family!(
    INGEST_CONNECTIONS,
    "icsfwd_ingest_connections_open",
    Gauge,
    None,
    &[],
    "Producer connections open now."
);
family!(
    INGEST_LINES,
    "icsfwd_ingest_lines_total",
    Counter,
    None,
    &[],
    "Ingest lines read."
);
family!(
    INGEST_ACCEPTED,
    "icsfwd_ingest_accepted_total",
    Counter,
    None,
    &[],
    "Ingest lines answered accepted (on disk; heartbeats included)."
);
family!(
    INGEST_NOT_FORWARDED,
    "icsfwd_ingest_not_forwarded_total",
    Counter,
    None,
    &[],
    "Ingest lines answered not_forwarded (no rule takes them)."
);
family!(
    INGEST_REFUSED,
    "icsfwd_ingest_refused_total",
    Counter,
    None,
    &[],
    "Ingest lines answered refused (bad input, spool full, spool failed)."
);
family!(
    INGEST_REFUSED_BY_SPOOL,
    "icsfwd_ingest_refused_by_spool_total",
    Counter,
    None,
    &[],
    "Ingest lines refused because of the spool (full or failed)."
);
family!(
    INGEST_ACCEPT_DURATION,
    "icsfwd_ingest_accept_duration_seconds",
    Histogram,
    Some("seconds"),
    &[],
    "Time from reading an alert line to answering it accepted (after its fsync)."
);
family!(
    SPOOL_APPENDED,
    "icsfwd_spool_appended_total",
    Counter,
    None,
    &[],
    "Records appended to the spool."
);
family!(
    SPOOL_FSYNCS,
    "icsfwd_spool_fsyncs_total",
    Counter,
    None,
    &[],
    "Spool fsyncs done by appends (several records per fsync)."
);
family!(
    SPOOL_LIVE_BYTES,
    "icsfwd_spool_live_bytes",
    Gauge,
    Some("bytes"),
    &[],
    "Bytes of records not yet delivered everywhere (what max_bytes bounds)."
);
family!(
    SPOOL_MAX_BYTES,
    "icsfwd_spool_max_bytes",
    Gauge,
    Some("bytes"),
    &[],
    "The spool quota: the configured max_bytes."
);
family!(
    SPOOL_DISK_BYTES,
    "icsfwd_spool_disk_bytes",
    Gauge,
    Some("bytes"),
    &[],
    "Spool segment bytes on disk."
);
family!(
    SPOOL_REFUSED_FULL,
    "icsfwd_spool_refused_full_total",
    Counter,
    None,
    &[],
    "Alerts refused because the spool was full."
);
family!(
    SPOOL_EVICTED,
    "icsfwd_spool_evicted_total",
    Counter,
    None,
    &[],
    "Queued alerts evicted by on_full = evict-lower-severity."
);
family!(
    SPOOL_DAMAGED_FRAMES,
    "icsfwd_spool_damaged_frames_total",
    Counter,
    None,
    &[],
    "Torn or corrupt spool frames skipped when the spool was opened."
);
family!(
    SPOOL_FSYNC_DURATION,
    "icsfwd_spool_fsync_duration_seconds",
    Histogram,
    Some("seconds"),
    &[],
    "Time of one group commit: the batch written and fsynced."
);
family!(
    RELOADS,
    "icsfwd_reloads_total",
    Counter,
    None,
    &["result"],
    "Reloads of the configuration (icsfwd reload, SIGHUP), by result: applied or refused."
);
family!(
    DESTINATION_STATE,
    "icsfwd_destination_state",
    Gauge,
    None,
    &["destination", "kind", "state"],
    "1 for the state the destination is in, 0 for the others."
);
family!(
    DESTINATION_PARKED,
    "icsfwd_destination_parked_info",
    Info,
    None,
    &["destination", "kind", "state", "reason"],
    "Why a parked or failed destination does not deliver, and what to fix."
);
family!(
    DESTINATION_BACKLOG,
    "icsfwd_destination_backlog",
    Gauge,
    None,
    DEST,
    "Records still to deliver."
);
family!(
    DESTINATION_ACKS_PENDING,
    "icsfwd_destination_acks_pending",
    Gauge,
    None,
    DEST,
    "Records sent and awaiting their confirmation (HEC ack, RELP answer, TCP acknowledgement)."
);
family!(
    DESTINATION_DELIVERED,
    "icsfwd_destination_delivered_total",
    Counter,
    None,
    DEST,
    "Records delivered (confirmed by the destination)."
);
family!(
    DESTINATION_RETRIES,
    "icsfwd_destination_retries_total",
    Counter,
    None,
    DEST,
    "Sends retried after a transient failure."
);
family!(
    DESTINATION_POSSIBLE_DUPLICATES,
    "icsfwd_destination_possible_duplicates_total",
    Counter,
    None,
    DEST,
    "Records sent again after an uncertain outcome: the destination may hold them twice."
);
family!(
    DESTINATION_DEAD_LETTERED,
    "icsfwd_destination_dead_lettered_total",
    Counter,
    None,
    DEST,
    "Records moved to the dead-letter file."
);
family!(
    DESTINATION_POSSIBLE_LOSS,
    "icsfwd_destination_possible_loss_total",
    Counter,
    None,
    DEST,
    "Syslog records counted delivered once written that a broken connection may have lost."
);
family!(
    DESTINATION_LAST_DELIVERY,
    "icsfwd_destination_last_delivery_timestamp_seconds",
    Gauge,
    Some("seconds"),
    DEST,
    "When a record was last delivered, in seconds since the epoch."
);
family!(
    DESTINATION_LAST_ERROR,
    "icsfwd_destination_last_error_timestamp_seconds",
    Gauge,
    Some("seconds"),
    DEST,
    "When the last error happened, in seconds since the epoch."
);
family!(
    DESTINATION_DELIVERY_LATENCY,
    "icsfwd_destination_delivery_latency_seconds",
    Histogram,
    Some("seconds"),
    DEST,
    "Time from a record's acceptance (its fsync) to its delivery."
);
family!(
    DESTINATION_ACK_LATENCY,
    "icsfwd_destination_ack_latency_seconds",
    Histogram,
    Some("seconds"),
    DEST,
    "Time from sending a record to its confirmation (HEC ack, RELP answer, TCP acknowledgement)."
);

/// Every family, in the order [`render`](super::exposition::render) writes them.
pub const FAMILIES: [&Family; 32] = [
    &BUILD_INFO,
    &START_TIME,
    &INGEST_CONNECTIONS,
    &INGEST_LINES,
    &INGEST_ACCEPTED,
    &INGEST_NOT_FORWARDED,
    &INGEST_REFUSED,
    &INGEST_REFUSED_BY_SPOOL,
    &INGEST_ACCEPT_DURATION,
    &SPOOL_APPENDED,
    &SPOOL_FSYNCS,
    &SPOOL_LIVE_BYTES,
    &SPOOL_MAX_BYTES,
    &SPOOL_DISK_BYTES,
    &SPOOL_REFUSED_FULL,
    &SPOOL_EVICTED,
    &SPOOL_DAMAGED_FRAMES,
    &SPOOL_FSYNC_DURATION,
    &RELOADS,
    &DESTINATION_STATE,
    &DESTINATION_PARKED,
    &DESTINATION_BACKLOG,
    &DESTINATION_ACKS_PENDING,
    &DESTINATION_DELIVERED,
    &DESTINATION_RETRIES,
    &DESTINATION_POSSIBLE_DUPLICATES,
    &DESTINATION_DEAD_LETTERED,
    &DESTINATION_POSSIBLE_LOSS,
    &DESTINATION_LAST_DELIVERY,
    &DESTINATION_LAST_ERROR,
    &DESTINATION_DELIVERY_LATENCY,
    &DESTINATION_ACK_LATENCY,
];
