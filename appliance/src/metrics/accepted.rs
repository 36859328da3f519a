//! When each spool record became durable, and when each record sent was sent: the two
//! moments the delivery histograms measure from.
//!
//! What it is:
//! - [`Commits`] maps a sequence number to the instant its group commit's fsync finished
//!   (the moment the record was accepted). It keeps one entry per commit, at most
//!   [`MAX_COMMITS`]; when full, every other entry of the older half is dropped, so a
//!   record of a dropped commit takes the time of the next kept one. Recent records are
//!   timed exactly; records of a long backlog (more than [`MAX_COMMITS`] commits old) up to
//!   the span of the commits merged around them, which is small next to their age.
//! - [`Sent`] maps the sequence number of a record awaiting its confirmation to when it was
//!   sent, at most [`MAX_SENT`] records per destination (the lowest sequence numbers, left
//!   by records that never came back, go first).
//!
//! What it guarantees: bounded memory (24 bytes per commit entry, 4096 entries; a few tens
//! of bytes per record awaiting), no allocation per lookup, and no answer for a record it
//! cannot time: one accepted before this process started, or one it never saw sent.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Commit entries kept at most.
pub(crate) const MAX_COMMITS: usize = 4096;

/// Records awaiting their confirmation tracked per destination at most (twice the default
/// `max_in_flight` of a worker).
pub(crate) const MAX_SENT: usize = 20_000;

/// Sequence number → the instant its commit was durable; see the [module docs](self).
#[derive(Debug, Default)]
pub(crate) struct Commits {
    /// The first sequence number committed by this process.
    start: Option<u64>,
    /// `(last sequence number, durable at)`, both increasing.
    entries: VecDeque<(u64, Instant)>,
}

impl Commits {
    /// No commit yet.
    #[must_use]
    pub(crate) const fn new() -> Commits {
        Commits {
            start: None,
            entries: VecDeque::new(),
        }
    }

    /// Records `first..next` became durable at `at`. A commit that wrote nothing
    /// (`next <= first`) is ignored; one that goes back in sequence (a spool opened again)
    /// starts afresh.
    pub(crate) fn note(&mut self, first: u64, next: u64, at: Instant) {
        if next <= first {
            return;
        }
        let last = next - 1;
        let goes_back = self.entries.back().is_some_and(|&(end, _)| first <= end);
        if self.start.is_none() || goes_back {
            self.start = Some(first);
            self.entries.clear();
        }
        if self.entries.len() >= MAX_COMMITS {
            self.thin_older_half();
        }
        self.entries.push_back((last, at));
    }

    /// Drops every other entry of the older half (the later of each pair stays).
    fn thin_older_half(&mut self) {
        let half = self.entries.len() / 2;
        let mut index = 0usize;
        self.entries.retain(|_| {
            let keep = index >= half || index % 2 == 1;
            index += 1;
            keep
        });
    }

    /// When record `seq` became durable, if this process committed it.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn when(&self, seq: u64) -> Option<Instant> {
        if seq < self.start? {
            return None;
        }
        let at = self.entries.partition_point(|&(last, _)| last < seq);
        self.entries.get(at).map(|&(_, t)| t)
    }

    /// [`Commits::when`] of each of `seqs`, which must be in increasing order: one walk
    /// over the entries instead of a search per record.
    #[must_use]
    pub(crate) fn when_each(&self, seqs: &[u64]) -> Vec<Option<Instant>> {
        let Some(&first) = seqs.first() else {
            return Vec::new();
        };
        let mut at = self.entries.partition_point(|&(last, _)| last < first);
        let start = self.start;
        seqs.iter()
            .map(|&seq| {
                if start.is_none_or(|start| seq < start) {
                    return None;
                }
                while self.entries.get(at).is_some_and(|&(last, _)| last < seq) {
                    at += 1;
                }
                self.entries.get(at).map(|&(_, t)| t)
            })
            .collect()
    }

    /// Forgets everything (the service stopped).
    pub(crate) fn clear(&mut self) {
        self.start = None;
        self.entries = VecDeque::new();
    }
}

/// Sequence number → when it was sent, for the records of one destination awaiting their
/// confirmation; see the [module docs](self).
#[derive(Debug, Default)]
pub(crate) struct Sent {
    /// Microseconds after `base`.
    at: BTreeMap<u64, u64>,
    base: Option<Instant>,
}

impl Sent {
    /// Nothing sent.
    #[must_use]
    pub(crate) const fn new() -> Sent {
        Sent {
            at: BTreeMap::new(),
            base: None,
        }
    }

    /// Records `seqs` were sent at `at` (a resend replaces the earlier time).
    pub(crate) fn sent(&mut self, seqs: impl Iterator<Item = u64>, at: Instant) {
        let base = *self.base.get_or_insert(at);
        let micros = u64::try_from(at.saturating_duration_since(base).as_micros()).unwrap_or(0);
        for seq in seqs {
            if self.at.len() >= MAX_SENT && !self.at.contains_key(&seq) {
                self.at.pop_first();
            }
            self.at.insert(seq, micros);
        }
    }

    /// Record `seq` was confirmed at `now`: how long after it was sent, if it was seen sent.
    pub(crate) fn confirmed(&mut self, seq: u64, now: Instant) -> Option<Duration> {
        let micros = self.at.remove(&seq)?;
        let sent = self.base? + Duration::from_micros(micros);
        Some(now.saturating_duration_since(sent))
    }

    /// Record `seq` will not be confirmed (its confirmation expired: it is sent again).
    pub(crate) fn forget(&mut self, seq: u64) {
        self.at.remove(&seq);
    }

    /// Records awaiting now.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether none awaits.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// Forgets everything (the service stopped).
    pub(crate) fn clear(&mut self) {
        self.at = BTreeMap::new();
        self.base = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_commit_log_thins_its_older_half_and_still_times_every_record() {
        let t0 = Instant::now();
        let mut commits = Commits::new();
        let total = (MAX_COMMITS * 3) as u64;
        for i in 0..total {
            commits.note(100 + i, 101 + i, t0 + Duration::from_millis(i));
        }
        assert!(commits.entries.len() <= MAX_COMMITS);
        // The newest commits are exact.
        let newest = 100 + total - 1;
        assert_eq!(
            commits.when(newest),
            Some(t0 + Duration::from_millis(total - 1))
        );
        // Every record of this process has a time, never earlier than its own commit.
        let mut previous = t0;
        for seq in 100..100 + total {
            let at = commits
                .when(seq)
                .map(|t| t - t0)
                .map(|d| d.as_millis() as u64);
            let at = at.unwrap_or(u64::MAX);
            assert!(at >= seq - 100, "record {seq} timed before its commit");
            let t = t0 + Duration::from_millis(at);
            assert!(t >= previous, "times go back at {seq}");
            previous = t;
        }
        assert_eq!(commits.when(99), None);
    }

    #[test]
    fn one_walk_times_sorted_records_as_a_search_each_would() {
        let t0 = Instant::now();
        let mut commits = Commits::new();
        for i in 0..(MAX_COMMITS as u64 + 500) {
            // Commits of 1 to 3 records, 1 ms apart.
            let first = 10 + 2 * i;
            commits.note(first, first + 1 + i % 2, t0 + Duration::from_millis(i));
        }
        let seqs: Vec<u64> = (0..12_000).step_by(7).collect();
        let walked = commits.when_each(&seqs);
        let searched: Vec<Option<Instant>> = seqs.iter().map(|&s| commits.when(s)).collect();
        assert_eq!(walked, searched);
        assert!(walked.iter().any(Option::is_none) && walked.iter().any(Option::is_some));
        assert!(commits.when_each(&[]).is_empty());
    }

    #[test]
    fn a_spool_opened_again_starts_afresh() {
        let t0 = Instant::now();
        let mut commits = Commits::new();
        commits.note(50, 60, t0);
        commits.note(1, 2, t0 + Duration::from_secs(1));
        assert_eq!(commits.when(55), None);
        assert_eq!(commits.when(1), Some(t0 + Duration::from_secs(1)));
        commits.note(2, 2, t0 + Duration::from_secs(2));
        assert_eq!(commits.when(2), None, "an empty commit times nothing");
    }

    #[test]
    fn sent_records_are_timed_once_and_bounded() {
        let t0 = Instant::now();
        let mut sent = Sent::new();
        sent.sent(1..=3, t0);
        sent.sent(2..=2, t0 + Duration::from_millis(40)); // resent
        let later = t0 + Duration::from_millis(100);
        assert_eq!(sent.confirmed(1, later), Some(Duration::from_millis(100)));
        assert_eq!(sent.confirmed(2, later), Some(Duration::from_millis(60)));
        assert_eq!(sent.confirmed(2, later), None, "confirmed once");
        sent.forget(3);
        assert!(sent.is_empty());
        sent.sent(0..(MAX_SENT as u64 + 10), t0);
        assert_eq!(sent.len(), MAX_SENT);
        assert_eq!(sent.confirmed(0, later), None, "the lowest went first");
        assert!(sent.confirmed(MAX_SENT as u64 + 9, later).is_some());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::metrics::accepted::Commits;
        use std::time::{Duration, Instant};

        let t0 = Instant::now();
        let mut commits = Commits::new();
        commits.note(10, 13, t0); // records 10, 11, 12
        commits.note(13, 14, t0 + Duration::from_millis(5)); // record 13
        assert_eq!(commits.when(11), Some(t0));
        assert_eq!(commits.when(13), Some(t0 + Duration::from_millis(5)));
        assert_eq!(
            commits.when(9),
            None,
            "accepted before this process started"
        );
        assert_eq!(commits.when(14), None, "not committed yet");
    }
}
