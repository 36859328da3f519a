//! The spool's destination slots while the service runs: a reload (`crate::service`) adds a
//! destination or gives a released slot to a new one, and `icsfwd spool release-destination`
//! lets go of the backlog of a destination the configuration no longer names.
//!
//! A record names its destinations by position (the bits of its destination set), and the
//! checkpoint keeps one cursor per position with its name (`docs/spool.md`, "Layout"). So a
//! position keeps its name while the spool holds records for it: [`Spool::assign_destination`]
//! refuses to give a position with a backlog to another name, and a destination removed from
//! the configuration keeps its position, its cursor and its backlog until
//! [`Spool::release_destination`] acknowledges everything it still had.
//!
//! What it guarantees: a new destination starts after the last record accepted so far (it
//! receives only what is appended from then on); nothing another destination waits for is
//! acknowledged; a release acknowledges only the released position's records.

use std::fmt;

use icsfwd_core::destination::{DestinationId, MAX_DESTINATIONS};

use super::{Cursor, Spool, SpoolError, storage::Storage};

/// Why [`Spool::assign_destination`] refused.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum AssignError {
    /// The position is past the next free one, or past [`MAX_DESTINATIONS`].
    NoSuchPosition {
        /// The position asked for.
        index: u8,
        /// How many positions the spool has.
        positions: usize,
    },
    /// Another destination's records are still in the spool at this position.
    Occupied {
        /// The position.
        index: u8,
        /// The name the spool keeps there.
        held_by: String,
        /// Its records not yet delivered.
        backlog: u64,
    },
    /// The spool itself failed.
    Spool(SpoolError),
}

impl fmt::Display for AssignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssignError::NoSuchPosition { index, positions } => write!(
                f,
                "position {index} cannot be added: the spool has {positions} destination \
                 position(s) (at most {MAX_DESTINATIONS}); add new destinations at the end"
            ),
            AssignError::Occupied {
                index,
                held_by,
                backlog,
            } => write!(
                f,
                "position {index} still holds {backlog} record(s) of destination \"{held_by}\": \
                 keep the order of the [[destination]] entries, or release them first with \
                 `icsfwd spool release-destination {held_by}`"
            ),
            AssignError::Spool(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AssignError {}

impl<S: Storage> Spool<S> {
    /// Gives position `id` to destination `name`: nothing to do when it holds that name
    /// already; a new position (the next free one) starts after the last record accepted so
    /// far; a position that held another destination is taken over only once nothing is left
    /// for that one (it starts after the last record too).
    ///
    /// # Errors
    ///
    /// A position beyond the next free one, or one another destination's backlog holds.
    pub(crate) fn assign_destination(
        &mut self,
        id: DestinationId,
        name: &str,
    ) -> Result<(), AssignError> {
        let index = usize::from(id.get());
        let last = self.next_seq.saturating_sub(1);
        let hint = self
            .segments
            .last_key_value()
            .map_or((self.next_seq, 0), |(&first, seg)| (first, seg.len));
        let fresh = Cursor {
            acked: last,
            hint,
            backlog: 0,
            acked_records: 0,
        };
        if index == self.names.len() && index < MAX_DESTINATIONS {
            self.names.push(name.to_owned());
            self.cursors.push(fresh);
            self.read.push(std::collections::VecDeque::new());
            return Ok(());
        }
        let (Some(held_by), Some(cursor)) = (self.names.get(index), self.cursors.get(index)) else {
            return Err(AssignError::NoSuchPosition {
                index: id.get(),
                positions: self.names.len(),
            });
        };
        if held_by == name {
            return Ok(());
        }
        if cursor.backlog > 0 {
            return Err(AssignError::Occupied {
                index: id.get(),
                held_by: held_by.clone(),
                backlog: cursor.backlog,
            });
        }
        let acked_records = cursor.acked_records;
        if let (Some(slot), Some(cursor), Some(read)) = (
            self.names.get_mut(index),
            self.cursors.get_mut(index),
            self.read.get_mut(index),
        ) {
            name.clone_into(slot);
            *cursor = Cursor {
                acked_records,
                ..fresh
            };
            read.clear();
        }
        Ok(())
    }

    /// Acknowledges, for position `id`, every record accepted so far: the backlog of a
    /// destination the configuration no longer names is let go (the segments go at the next
    /// checkpoint when no other destination needs them). Returns how many records that was.
    ///
    /// # Errors
    ///
    /// An unknown position, or an I/O error reading a segment.
    pub fn release_destination(&mut self, id: DestinationId) -> Result<u64, SpoolError> {
        let last = self.next_seq.saturating_sub(1);
        self.cursor(id)?;
        if last == 0 {
            return Ok(0);
        }
        self.ack(id, last)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use icsfwd_core::alert::{Alert, Event};
    use icsfwd_core::destination::DestinationSet;

    use super::*;
    use crate::spool::SpoolConfig;
    use crate::spool::storage::FsStorage;

    fn id(i: u8) -> DestinationId {
        DestinationId::new(i).unwrap()
    }

    fn append(spool: &mut Spool, to: &[u8]) -> u64 {
        let set = to
            .iter()
            .fold(DestinationSet::EMPTY, |set, i| set.with(id(*i)));
        spool
            .append_batch(&[(Event::from(Alert::example(0)), set)])
            .unwrap()[0]
            .clone()
            .unwrap()
    }

    fn open(dir: &std::path::Path, names: &[&str]) -> Spool {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        Spool::open(FsStorage::new(), dir, SpoolConfig::default(), &names)
            .unwrap()
            .0
    }

    #[test]
    fn a_new_position_receives_only_what_is_appended_after_it_and_survives_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = open(dir.path(), &["a"]);
        append(&mut spool, &[0]);
        spool.assign_destination(id(1), "b").unwrap();
        let after = append(&mut spool, &[0, 1]);
        let records = spool.peek(id(1), 10).unwrap();
        assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [after]);
        assert_eq!(spool.stats().destinations[1].backlog, 1);
        spool.checkpoint().unwrap();
        drop(spool);
        let mut spool = open(dir.path(), &["a", "b"]);
        assert_eq!(
            spool.peek(id(1), 10).unwrap().len(),
            1,
            "the cursor was persisted"
        );
    }

    #[test]
    fn a_position_with_a_backlog_is_refused_to_another_name_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = open(dir.path(), &["a", "b"]);
        append(&mut spool, &[0, 1]);
        append(&mut spool, &[1]);
        let refused = spool.assign_destination(id(1), "c").unwrap_err();
        assert!(
            matches!(refused, AssignError::Occupied { backlog: 2, .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("release-destination b"));
        assert!(matches!(
            spool.assign_destination(id(3), "d"),
            Err(AssignError::NoSuchPosition { .. })
        ));
        assert_eq!(spool.release_destination(id(1)).unwrap(), 2);
        assert_eq!(
            spool.peek(id(0), 10).unwrap().len(),
            1,
            "a keeps its record"
        );
        spool.assign_destination(id(1), "c").unwrap();
        assert_eq!(spool.destination_names()[1], "c");
        assert!(spool.peek(id(1), 10).unwrap().is_empty());
        let next = append(&mut spool, &[1]);
        assert_eq!(spool.peek(id(1), 10).unwrap()[0].seq, next);
    }
}
