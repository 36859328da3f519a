//! A histogram of durations with fixed buckets, recorded with one atomic add per bucket.
//!
//! What it is: [`Histogram`] counts observations per bucket (not cumulatively: each
//! observation touches one bucket counter and the sum) and hands out a consistent-enough
//! [`Counts`] for the exposition, which makes the buckets cumulative and derives `_count`
//! from them, so `_count` always equals the `+Inf` bucket.
//!
//! What it guarantees: recording never blocks and never allocates (two `Relaxed` atomic
//! adds: the bucket and the sum); a value above the last bound lands in the `+Inf` bucket.
//! The sum is kept in microseconds: 10 million records delivered an hour late add up to 3.6 ×
//! 10¹⁶ µs, far from the 1.8 × 10¹⁹ where it would wrap.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The most buckets a histogram has (its bounds, plus `+Inf`).
pub(crate) const MAX_BUCKETS: usize = 20;

/// One bucket's upper bound: as the exposition writes it (`le`) and in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    /// The `le` label value (a float with at least one decimal, valid in both formats).
    pub le: &'static str,
    /// The bound in nanoseconds.
    pub nanos: u64,
}

const fn bound(le: &'static str, micros: u64) -> Bound {
    Bound {
        le,
        nanos: micros * 1_000,
    }
}

/// The buckets of one kind of histogram, in increasing order (`+Inf` is implied).
pub(crate) type Buckets = [Bound];

/// Ingest to `accepted`: dominated by the group commit's fsync (sub-millisecond on SSD, tens
/// of milliseconds on a slow disk), up to seconds under back-pressure.
pub(crate) const INGEST: [Bound; 14] = [
    bound("0.0005", 500),
    bound("0.001", 1_000),
    bound("0.0025", 2_500),
    bound("0.005", 5_000),
    bound("0.01", 10_000),
    bound("0.025", 25_000),
    bound("0.05", 50_000),
    bound("0.1", 100_000),
    bound("0.25", 250_000),
    bound("0.5", 500_000),
    bound("1.0", 1_000_000),
    bound("2.5", 2_500_000),
    bound("5.0", 5_000_000),
    bound("10.0", 10_000_000),
];

/// One group commit's write and fsync.
pub(crate) const FSYNC: [Bound; 14] = [
    bound("0.0001", 100),
    bound("0.00025", 250),
    bound("0.0005", 500),
    bound("0.001", 1_000),
    bound("0.0025", 2_500),
    bound("0.005", 5_000),
    bound("0.01", 10_000),
    bound("0.025", 25_000),
    bound("0.05", 50_000),
    bound("0.1", 100_000),
    bound("0.25", 250_000),
    bound("0.5", 500_000),
    bound("1.0", 1_000_000),
    bound("2.5", 2_500_000),
];

/// Accepted to delivered: tens of milliseconds while a destination keeps up, the length of
/// an outage after one (up to an hour and beyond: `+Inf`).
pub(crate) const DELIVERY: [Bound; 18] = [
    bound("0.005", 5_000),
    bound("0.01", 10_000),
    bound("0.025", 25_000),
    bound("0.05", 50_000),
    bound("0.1", 100_000),
    bound("0.25", 250_000),
    bound("0.5", 500_000),
    bound("1.0", 1_000_000),
    bound("2.5", 2_500_000),
    bound("5.0", 5_000_000),
    bound("10.0", 10_000_000),
    bound("30.0", 30_000_000),
    bound("60.0", 60_000_000),
    bound("120.0", 120_000_000),
    bound("300.0", 300_000_000),
    bound("900.0", 900_000_000),
    bound("1800.0", 1_800_000_000),
    bound("3600.0", 3_600_000_000),
];

/// Sent to confirmed (a HEC indexer ack, a RELP answer, a syslog receiver's TCP
/// acknowledgement): milliseconds for syslog, the ack poll interval (up to 10 s) and the
/// indexer's pace for HEC, up to the ack deadline (5 minutes by default).
pub(crate) const ACK: [Bound; 16] = [
    bound("0.005", 5_000),
    bound("0.01", 10_000),
    bound("0.025", 25_000),
    bound("0.05", 50_000),
    bound("0.1", 100_000),
    bound("0.25", 250_000),
    bound("0.5", 500_000),
    bound("1.0", 1_000_000),
    bound("2.5", 2_500_000),
    bound("5.0", 5_000_000),
    bound("10.0", 10_000_000),
    bound("20.0", 20_000_000),
    bound("30.0", 30_000_000),
    bound("60.0", 60_000_000),
    bound("120.0", 120_000_000),
    bound("300.0", 300_000_000),
];

/// Durations counted per bucket; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: &'static Buckets,
    /// `bounds.len()` buckets, then `+Inf`; the rest unused.
    buckets: [AtomicU64; MAX_BUCKETS],
    sum_micros: AtomicU64,
}

/// What a [`Histogram`] held when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counts {
    bounds: &'static Buckets,
    /// Per bucket (not cumulative), `+Inf` last.
    per_bucket: Vec<u64>,
    sum_micros: u64,
}

impl Histogram {
    /// An empty histogram over `bounds` (at most [`MAX_BUCKETS`] − 1 of them; more are
    /// ignored, so their observations land in `+Inf`).
    #[must_use]
    pub(crate) const fn new(bounds: &'static Buckets) -> Histogram {
        Histogram {
            bounds,
            buckets: [const { AtomicU64::new(0) }; MAX_BUCKETS],
            sum_micros: AtomicU64::new(0),
        }
    }

    fn used_bounds(&self) -> &'static Buckets {
        let n = self.bounds.len().min(MAX_BUCKETS - 1);
        self.bounds.get(..n).unwrap_or_default()
    }

    /// Counts one observation of `value`.
    pub(crate) fn observe(&self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        let bounds = self.used_bounds();
        let index = bounds
            .iter()
            .position(|b| nanos <= b.nanos)
            .unwrap_or(bounds.len());
        if let Some(bucket) = self.buckets.get(index) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The counts now.
    #[must_use]
    pub(crate) fn counts(&self) -> Counts {
        let bounds = self.used_bounds();
        Counts {
            bounds,
            per_bucket: self
                .buckets
                .iter()
                .take(bounds.len() + 1)
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            sum_micros: self.sum_micros.load(Ordering::Relaxed),
        }
    }
}

impl Counts {
    /// The bounds, `+Inf` excluded.
    #[must_use]
    pub(crate) fn bounds(&self) -> &'static Buckets {
        self.bounds
    }

    /// Cumulative counts: one per bound, then `+Inf` (which equals [`Counts::count`]).
    #[must_use]
    pub(crate) fn cumulative(&self) -> Vec<u64> {
        self.per_bucket
            .iter()
            .scan(0u64, |total, n| {
                *total = total.saturating_add(*n);
                Some(*total)
            })
            .collect()
    }

    /// Observations in all.
    #[must_use]
    pub(crate) fn count(&self) -> u64 {
        self.per_bucket
            .iter()
            .fold(0u64, |total, n| total.saturating_add(*n))
    }

    /// The sum of the observations, in seconds.
    #[must_use]
    pub(crate) fn sum_seconds(&self) -> f64 {
        self.sum_micros as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn a_value_on_a_bound_counts_in_that_bucket_and_larger_ones_in_inf() {
        let h = Histogram::new(&FSYNC);
        h.observe(Duration::from_micros(100)); // exactly the first bound
        h.observe(Duration::from_micros(101)); // the second bucket
        h.observe(Duration::from_secs(3)); // above 2.5 s: +Inf only
        let counts = h.counts();
        let cumulative = counts.cumulative();
        assert_eq!(cumulative.len(), FSYNC.len() + 1);
        assert_eq!(&cumulative[..3], &[1, 2, 2]);
        assert_eq!(cumulative[FSYNC.len() - 1], 2, "le=2.5 lacks the 3 s");
        assert_eq!(cumulative[FSYNC.len()], 3, "+Inf holds everything");
        assert_eq!(counts.count(), 3);
        assert!((counts.sum_seconds() - 3.000_201).abs() < 1e-9);
        assert_eq!(counts.sum_micros, 3_000_201);
    }

    #[test]
    fn cumulative_counts_never_decrease() {
        let h = Histogram::new(&DELIVERY);
        for ms in [3, 7, 7, 90, 2_000, 5_000_000] {
            h.observe(Duration::from_millis(ms));
        }
        let cumulative = h.counts().cumulative();
        assert!(
            cumulative.windows(2).all(|w| w[0] <= w[1]),
            "{cumulative:?}"
        );
        assert_eq!(cumulative.last().copied(), Some(6));
    }

    #[test]
    fn every_bucket_table_is_increasing_and_fits() {
        for table in [&INGEST[..], &FSYNC[..], &DELIVERY[..], &ACK[..]] {
            assert!(table.len() < MAX_BUCKETS);
            assert!(table.windows(2).all(|w| w[0].nanos < w[1].nanos));
            for bound in table {
                let seconds: f64 = bound.le.parse().unwrap();
                assert!(bound.le.contains('.'), "{}", bound.le);
                assert_eq!((seconds * 1e9).round() as u64, bound.nanos, "{}", bound.le);
            }
        }
    }

    #[test]
    fn the_sum_keeps_sub_millisecond_values_to_the_microsecond() {
        let h = Histogram::new(&FSYNC);
        for _ in 0..1000 {
            h.observe(Duration::from_nanos(250_400));
        }
        assert!((h.counts().sum_seconds() - 0.25).abs() < 1e-9);
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::metrics::histogram::{FSYNC, Histogram};
        use std::time::Duration;

        let h = Histogram::new(&FSYNC);
        h.observe(Duration::from_micros(800));
        h.observe(Duration::from_secs(60));
        let counts = h.counts();
        assert_eq!(counts.count(), 2);
        assert_eq!(counts.cumulative().last().copied(), Some(2)); // +Inf holds everything
    }
}
