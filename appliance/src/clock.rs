//! The wall clock: the one place the appliance reads the system time, as epoch milliseconds.
//!
//! icsfwd-core reads no clock (the caller passes the time in); the ingest server, the
//! delivery workers, the service and the command line take "now" from here, so a clock set
//! before 1970 (read as 0) or absurdly far ahead (capped at `u64::MAX`) is handled in one
//! place.
//!
//! ```
//! use icsfwd_core::time::Civil;
//!
//! let received_ms = icsfwd::clock::now_ms();
//! println!("received at {}", Civil::from_epoch_ms(received_ms).rfc3339());
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

/// The current wall-clock time in epoch milliseconds (0 if the clock is before 1970).
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_ms_reads_the_system_clock_in_milliseconds() {
        let millis = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis();
        let before = millis(SystemTime::now());
        let now = u128::from(now_ms());
        let after = millis(SystemTime::now());
        assert!(
            before <= now && now <= after,
            "{before} <= {now} <= {after}"
        );
    }
}
