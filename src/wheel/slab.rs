//! Where the timers live: one slab (a `Vec` of entries), and slots that are `Vec`s
//! of filed timers pointing into it by index.
//!
//! Every timer is one entry of the slab, which holds its value; a slot of the wheel
//! lists its timers as [`Filed`] records (deadline, stamp, slab index), so the whole
//! structure is safe Rust. A cancel frees the entry at once and only *counts* one
//! stale record in the slot; a freed entry joins the free chain and is reused first.
//!
//! ```text
//!   slab:   [ A, stamp 7 ] [ free: next 4 ] [ B, stamp 9 ] [ C, stamp 12 ] [ free: end ]
//!   slot:   timers [ (A: 7, #0), (x: 8, #1), (B: 9, #2), (C: 12, #3) ]   cancelled 1
//!              (x, stamp 8, was cancelled: entry 1 is vacant now, or holds a newer stamp)
//!   free chain: 1 -> 4 -> end
//! ```
//!
//! ## Why arrays of records, not linked lists
//!
//! The first version threaded each slot as a doubly linked list through the slab.
//! Walking a list to cascade or fire it reads entry `i` to learn where entry `i + 1`
//! is: with a million timers every entry is a cache miss, and the misses come one
//! after the other (about 380 ns per timer at 1M, against 31 ns at 1k). A slot that
//! *is* an array carries what cascading needs (the deadline) in order, so a cascade
//! copies records from one array to others and never touches the slab; only firing
//! reads an entry, to take its value. The price: a cancelled record stays in its
//! slot until the slot is processed or compacted ([`TimerWheel::forget`]).

use super::{Filed, KEEP_CAPACITY, NIL, Place, Slot, TimerKey, TimerWheel, place_for};

/// A slot with fewer records than this is never compacted: rewriting it would cost
/// more than the few stale records it holds.
const COMPACT_MIN: usize = 32;

/// A cell of the slab.
#[derive(Clone)]
pub(super) enum Entry<T> {
    /// Free; `next_free` continues the free chain (`NIL` ends it).
    Vacant {
        next_free: u32,
    },
    Occupied(Node<T>),
}

/// A live timer. Its slot is not stored: it is `place_for(now, deadline)`.
#[derive(Clone)]
pub(super) struct Node<T> {
    pub(super) value: T,
    pub(super) deadline: u64,
    pub(super) stamp: u64,
}

impl<T> TimerWheel<T> {
    pub(super) fn slot_mut(&mut self, place: Place) -> &mut Slot {
        match place {
            Place::Wheel { level, slot } => &mut self.levels[level as usize].slots[slot as usize],
            Place::Overdue => &mut self.overdue,
            Place::Overflow => &mut self.overflow,
        }
    }

    /// Appends a timer to the slot of `place` (appending keeps insertion order).
    #[inline] // the body of every insert and every cascade
    pub(super) fn push(&mut self, filed: Filed, place: Place) {
        let deadline = filed.deadline;
        let slot = match place {
            Place::Wheel { level, slot } => {
                let level = &mut self.levels[level as usize];
                level.occupied |= 1 << slot;
                &mut level.slots[slot as usize]
            }
            // An empty list forgets its old bound, which may belong to cancelled timers.
            Place::Overdue => {
                let bound = self.overdue_min.min(deadline);
                self.overdue_min = if self.overdue.is_empty() {
                    deadline
                } else {
                    bound
                };
                &mut self.overdue
            }
            Place::Overflow => {
                let bound = self.overflow_min.min(deadline);
                self.overflow_min = if self.overflow.is_empty() {
                    deadline
                } else {
                    bound
                };
                &mut self.overflow
            }
        };
        slot.timers.push(filed);
    }

    /// Counts a cancelled timer (its entry already freed) as stale in its slot, found
    /// from its deadline. A slot left with no live timer is emptied at once; one with
    /// more stale records than live ones is compacted: since it was last compacted,
    /// half of it was cancelled, so the rewrite costs O(1) per cancel, amortized.
    pub(super) fn forget(&mut self, deadline: u64) {
        let place = place_for(self.now, deadline);
        let slot = self.slot_mut(place);
        slot.cancelled += 1;
        if slot.is_empty() {
            // Keep the buffer: a busy slot fills again soon.
            slot.timers.clear();
            slot.cancelled = 0;
            if let Place::Wheel { level, slot } = place {
                self.levels[level as usize].occupied &= !(1 << slot);
            }
        } else if slot.timers.len() >= COMPACT_MIN
            && 2 * slot.cancelled as usize > slot.timers.len()
        {
            let mut timers = std::mem::take(&mut slot.timers);
            timers.retain(|&filed| self.is_live(filed));
            let slot = self.slot_mut(place);
            slot.timers = timers;
            slot.cancelled = 0;
        }
    }

    // ---- slab --------------------------------------------------------------------

    /// Whether a filed record is still its timer's (not left behind by a cancel).
    #[inline]
    pub(super) fn is_live(&self, filed: Filed) -> bool {
        matches!(&self.entries[filed.index as usize], Entry::Occupied(node) if node.stamp == filed.stamp)
    }

    /// The node of a key, if the key is still live.
    pub(super) fn lookup(&self, key: TimerKey) -> Option<&Node<T>> {
        match self.entries.get(key.index as usize)? {
            Entry::Occupied(node) if node.stamp == key.stamp => Some(node),
            _ => None,
        }
    }

    /// Stores a node in a vacant entry, or at the end of the slab if none is free.
    pub(super) fn alloc(&mut self, node: Node<T>) -> u32 {
        self.len += 1;
        if self.free_head != NIL {
            let index = self.free_head;
            let slot = &mut self.entries[index as usize];
            let Entry::Vacant { next_free } = *slot else {
                unreachable!("free list links to occupied entry {index}")
            };
            self.free_head = next_free;
            *slot = Entry::Occupied(node);
            return index;
        }
        let index = u32::try_from(self.entries.len())
            .ok()
            .filter(|&index| index != NIL)
            .expect("TimerWheel holds at most u32::MAX - 1 timers: cancel some first");
        self.entries.push(Entry::Occupied(node));
        index
    }

    /// Frees an entry and returns its node (its slot still names it: the caller
    /// takes the record away, or counts it with [`forget`](Self::forget)).
    pub(super) fn release(&mut self, index: u32) -> Node<T> {
        self.len -= 1;
        let vacant = Entry::Vacant {
            next_free: self.free_head,
        };
        self.free_head = index;
        match std::mem::replace(&mut self.entries[index as usize], vacant) {
            Entry::Occupied(node) => node,
            Entry::Vacant { .. } => unreachable!("released entry {index} twice"),
        }
    }

    /// Called when no timer is left: every entry is vacant, so the slab can be
    /// emptied and give memory back. Stamps keep counting, so old keys stay stale.
    pub(super) fn reset_slab(&mut self) {
        debug_assert_eq!(self.len, 0);
        self.entries.clear();
        self.free_head = NIL;
        if self.entries.capacity() > KEEP_CAPACITY {
            // A burst is over: give back the slab and the slots' buffers it grew.
            self.entries.shrink_to(KEEP_CAPACITY);
            let slots = self
                .levels
                .iter_mut()
                .flat_map(|level| level.slots.iter_mut());
            for slot in slots.chain([&mut self.overdue, &mut self.overflow]) {
                slot.timers.shrink_to(KEEP_CAPACITY / super::SLOTS);
            }
        }
    }
}
