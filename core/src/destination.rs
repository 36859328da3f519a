//! Destination ids and sets: where a rule's actions send an event.
//!
//! A deployment has at most [`MAX_DESTINATIONS`] destinations (Splunk servers, HEC endpoints,
//! syslog receivers), numbered `0..MAX_DESTINATIONS` in configuration order. A
//! [`DestinationSet`] is a bitmask of them: copyable, fixed-size, and stored as is in every
//! spool record.
//!
//! ```
//! use icsfwd_core::destination::{DestinationId, DestinationSet};
//!
//! let splunk = DestinationId::new(0).unwrap();
//! let syslog = DestinationId::new(3).unwrap();
//! let set = DestinationSet::EMPTY.with(splunk).with(syslog);
//! assert!(set.contains(syslog));
//! assert_eq!(set.len(), 2);
//! assert_eq!(set.iter().map(|d| d.get()).collect::<heapless::Vec<u8, 4>>(), [0, 3]);
//! assert!(DestinationId::new(32).is_none());
//! ```

use core::fmt;

use serde::{Deserialize, Serialize};

/// How many destinations one deployment can have.
pub const MAX_DESTINATIONS: usize = 32;

/// The index of one destination, `0..MAX_DESTINATIONS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DestinationId(u8);

impl DestinationId {
    /// The id `index`, or `None` when `index >= MAX_DESTINATIONS`.
    pub const fn new(index: u8) -> Option<DestinationId> {
        if (index as usize) < MAX_DESTINATIONS {
            Some(DestinationId(index))
        } else {
            None
        }
    }

    /// The index.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for DestinationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("#")?;
        crate::stack_text::display_decimal(f, u64::from(self.0))
    }
}

/// A set of destinations, as a bitmask (bit `i` = destination `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DestinationSet(u32);

impl DestinationSet {
    /// No destination.
    pub const EMPTY: DestinationSet = DestinationSet(0);

    /// The set whose bitmask is `bits`.
    pub const fn from_bits(bits: u32) -> DestinationSet {
        DestinationSet(bits)
    }

    /// The bitmask.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// This set plus `id`.
    #[must_use]
    pub const fn with(self, id: DestinationId) -> DestinationSet {
        DestinationSet(self.0 | (1 << id.0))
    }

    /// This set without `id`.
    #[must_use]
    pub const fn without(self, id: DestinationId) -> DestinationSet {
        DestinationSet(self.0 & !(1 << id.0))
    }

    /// The union of both sets.
    #[must_use]
    pub const fn union(self, other: DestinationSet) -> DestinationSet {
        DestinationSet(self.0 | other.0)
    }

    /// Whether `id` is in the set.
    pub const fn contains(self, id: DestinationId) -> bool {
        self.0 & (1 << id.0) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many destinations are in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The destinations in ascending order.
    pub fn iter(self) -> impl Iterator<Item = DestinationId> {
        (0..MAX_DESTINATIONS as u8)
            .filter(move |&i| self.0 & (1 << i) != 0)
            .map(DestinationId)
    }
}

impl FromIterator<DestinationId> for DestinationSet {
    fn from_iter<I: IntoIterator<Item = DestinationId>>(iter: I) -> Self {
        iter.into_iter()
            .fold(DestinationSet::EMPTY, DestinationSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_displays_as_hash_and_decimal_index() {
        for (i, text) in [(0, "#0"), (7, "#7"), (31, "#31")] {
            let id = DestinationId::new(i).unwrap();
            assert_eq!(std::format!("{id}"), text);
        }
    }

    #[test]
    fn every_id_round_trips_through_the_set() {
        for i in 0..MAX_DESTINATIONS as u8 {
            let id = DestinationId::new(i).unwrap();
            let set = DestinationSet::EMPTY.with(id);
            assert!(set.contains(id));
            assert_eq!(set.len(), 1);
            assert!(set.without(id).is_empty());
            assert_eq!(set.iter().next(), Some(id));
        }
    }
}
