//! The records written on one syslog connection that its receiver has not confirmed yet, and
//! the arithmetic that confirms them (`confirm = "tcp-ack"`, see the [parent](super) docs).
//!
//! What it is: [`Unconfirmed`] keeps, per batch written on a connection, its sequence numbers
//! and the offset of its last byte in the connection's byte stream (every byte handed to the
//! TCP socket since it was opened, TLS handshake and record overhead included). Given the
//! bytes written so far and the socket's unacknowledged output queue
//! ([`outq::unacknowledged`](super::outq::unacknowledged)), [`Unconfirmed::confirm`] finds
//! the batches whose last byte the peer's TCP acknowledged, and hands back those that have
//! stayed acknowledged, on an open connection, for the settle time.
//!
//! What it guarantees:
//! - A batch is confirmed only when every byte up to its end is acknowledged:
//!   `end <= written - unacknowledged` ([`acknowledged`]).
//! - ...and only once `settle` has passed since a poll first saw it acknowledged: a receiver
//!   that resets the connection shortly after its TCP took the bytes (they sat unread in its
//!   receive buffer) is seen breaking the connection first, and the batch is re-sent
//!   ([`Unconfirmed::take_all`]) instead of counted as delivered.
//! - Batches are confirmed in the order they were written (TCP acknowledges cumulatively), each
//!   sequence number handed out exactly once, by `confirm` or by `take_all`.
//! - No arithmetic can overflow or panic: counts saturate.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Bytes of a connection's stream that the peer acknowledged: those written minus those still
/// in the socket's output queue (saturating: a queue that counts more than was written, as a
/// FIN would, acknowledges nothing).
#[must_use]
pub(crate) const fn acknowledged(written: u64, unacknowledged: u64) -> u64 {
    written.saturating_sub(unacknowledged)
}

#[derive(Debug)]
struct Batch {
    seqs: Vec<u64>,
    end: u64,
    acked_at: Option<Instant>,
}

/// The unconfirmed batches of one connection, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Unconfirmed {
    batches: VecDeque<Batch>,
    records: usize,
}

impl Unconfirmed {
    /// A batch of records `seqs` written, its last byte at stream offset `end` (bytes written
    /// on the connection after its flush).
    pub(crate) fn push(&mut self, seqs: Vec<u64>, end: u64) {
        if seqs.is_empty() {
            return;
        }
        self.records = self.records.saturating_add(seqs.len());
        self.batches.push_back(Batch {
            seqs,
            end,
            acked_at: None,
        });
    }

    /// The records confirmed now: `written` bytes handed to the socket so far, `unacknowledged`
    /// of them still queued, at `now`; a batch must have been seen acknowledged at least
    /// `settle` before `now`.
    pub(crate) fn confirm(
        &mut self,
        written: u64,
        unacknowledged: u64,
        now: Instant,
        settle: Duration,
    ) -> Vec<u64> {
        let acked = acknowledged(written, unacknowledged);
        for batch in self.batches.iter_mut() {
            if batch.end > acked {
                break;
            }
            batch.acked_at.get_or_insert(now);
        }
        let mut confirmed = Vec::new();
        while let Some(batch) = self.batches.front() {
            let settled = batch
                .acked_at
                .is_some_and(|at| now.saturating_duration_since(at) >= settle);
            if !settled {
                break;
            }
            if let Some(batch) = self.batches.pop_front() {
                self.records = self.records.saturating_sub(batch.seqs.len());
                confirmed.extend(batch.seqs);
            }
        }
        confirmed
    }

    /// Every record not confirmed, oldest first, leaving the window empty (the connection
    /// broke: they are re-sent on the next one).
    pub(crate) fn take_all(&mut self) -> Vec<u64> {
        self.records = 0;
        self.batches.drain(..).flat_map(|b| b.seqs).collect()
    }

    /// How many records wait for confirmation.
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.records
    }

    /// Whether no record waits.
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.records == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    const SETTLE: Duration = Duration::from_millis(250);

    fn window(batches: &[(&[u64], u64)]) -> Unconfirmed {
        let mut window = Unconfirmed::default();
        for (seqs, end) in batches {
            window.push(seqs.to_vec(), *end);
        }
        window
    }

    #[test]
    fn acknowledged_bytes_are_written_minus_queued_and_never_negative() {
        assert_eq!(acknowledged(1000, 0), 1000);
        assert_eq!(acknowledged(1000, 1000), 0);
        assert_eq!(acknowledged(1000, 1), 999);
        assert_eq!(acknowledged(10, 11), 0, "a queue counting a FIN");
        assert_eq!(acknowledged(u64::MAX, 0), u64::MAX);
    }

    #[test]
    fn a_batch_is_confirmed_only_when_every_byte_up_to_its_end_is_acknowledged() {
        let t0 = Instant::now();
        let later = t0 + SETTLE;
        // Ends at 100, 250, 400; 400 written.
        let table: [(u64, &[u64]); 7] = [
            (400, &[]),            // nothing acknowledged
            (301, &[]),            // 99 acknowledged: one byte short of the first end
            (300, &[1]),           // exactly the first end
            (151, &[1]),           // one byte short of the second
            (150, &[1, 2, 3]),     // exactly the second end
            (1, &[1, 2, 3]),       // one byte short of the third
            (0, &[1, 2, 3, 4, 5]), // everything
        ];
        for (queued, want) in table {
            let mut w = window(&[(&[1], 100), (&[2, 3], 250), (&[4, 5], 400)]);
            assert!(
                w.confirm(400, queued, t0, SETTLE).is_empty(),
                "settle first"
            );
            assert_eq!(
                w.confirm(400, queued, later, SETTLE),
                want,
                "queued {queued}"
            );
            assert_eq!(w.len(), 5 - want.len());
        }
    }

    #[test]
    fn the_settle_time_counts_from_the_poll_that_first_saw_the_batch_acknowledged() {
        let t0 = Instant::now();
        let mut w = window(&[(&[1], 100), (&[2], 200)]);
        assert!(w.confirm(200, 100, t0, SETTLE).is_empty());
        // The second batch is acknowledged later: its settle time starts then.
        let t1 = t0 + SETTLE / 2;
        assert!(w.confirm(200, 0, t1, SETTLE).is_empty());
        assert_eq!(w.confirm(200, 0, t0 + SETTLE, SETTLE), vec![1]);
        assert!(w.confirm(200, 0, t1 + SETTLE / 2, SETTLE).is_empty());
        assert_eq!(w.confirm(200, 0, t1 + SETTLE, SETTLE), vec![2]);
        assert!(w.is_empty());
    }

    #[test]
    fn a_zero_settle_time_confirms_at_the_first_poll_that_sees_the_acknowledgement() {
        let t0 = Instant::now();
        let mut w = window(&[(&[7, 8], 64)]);
        assert_eq!(w.confirm(64, 0, t0, Duration::ZERO), vec![7, 8]);
    }

    #[test]
    fn a_broken_connection_hands_back_every_unconfirmed_record_once_in_order() {
        let t0 = Instant::now();
        let mut w = window(&[(&[1, 2], 100), (&[3], 200), (&[4], 300)]);
        assert!(w.confirm(300, 200, t0, SETTLE).is_empty());
        assert_eq!(w.confirm(300, 200, t0 + SETTLE, SETTLE), vec![1, 2]);
        assert_eq!(w.take_all(), vec![3, 4]);
        assert_eq!(w.take_all(), Vec::<u64>::new());
        assert!(w.confirm(300, 0, t0 + SETTLE * 2, SETTLE).is_empty());
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn an_empty_batch_is_not_kept() {
        let mut w = Unconfirmed::default();
        w.push(Vec::new(), 10);
        assert!(w.is_empty());
        assert!(w.take_all().is_empty());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::syslog::unconfirmed::Unconfirmed;
        use std::time::{Duration, Instant};

        let settle = Duration::from_millis(100);
        let t0 = Instant::now();
        let mut window = Unconfirmed::default();
        window.push(vec![1, 2], 300); // the batch's last byte is byte 300 of the connection
        window.push(vec![3], 450);
        // 400 bytes written so far, 100 of them not acknowledged: bytes up to 300 are.
        assert!(
            window.confirm(400, 100, t0, settle).is_empty(),
            "not settled yet"
        );
        assert_eq!(window.confirm(400, 100, t0 + settle, settle), vec![1, 2]);
        assert_eq!(window.len(), 1);
        // The connection breaks: what is left is re-sent.
        assert_eq!(window.take_all(), vec![3]);
        assert_eq!(window.len(), 0);
    }
}
