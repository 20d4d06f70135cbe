//! Where the timers live: one slab (a `Vec` of entries) holding the values, and slots
//! that are `Vec`s of small records pointing into it by index.
//!
//! Every timer is one entry of the slab, which holds its value, deadline and stamp; a
//! slot of the wheel lists its timers as [`Filed`] records (deadline, slab index), so
//! the whole structure is safe Rust. A cancel takes the value out at once and only
//! *counts* one stale record in the slot; the entry is *held* (vacant, but out of the
//! free chain) until that record is dropped, and then joins the free chain.
//!
//! ```text
//!   slab:   [ A, stamp 7 ] [ held ] [ B, stamp 9 ] [ C, stamp 12 ] [ free: end ]
//!   slot:   timers [ (1030, #0), (1030, #1), (1030, #2), (1041, #3) ]   cancelled 1
//!              (#1 was cancelled: its record is stale, its entry held until the
//!               slot is processed or compacted, then freed)
//!   free chain: 4 -> end
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
//!
//! ## Why an entry is held, not freed, by a cancel
//!
//! If a cancel freed the entry, a new timer could reuse the index while the stale
//! record still names it, and the record would need the timer's 8-byte stamp to
//! tell the two apart. Holding the entry until its record goes makes the index alone
//! enough: a record is 16 bytes instead of 24, and a timer cascaded four or five
//! times (the deadlines of 1 s to 1 h) copies a third less. It also keeps one
//! entry at 32 bytes for a `Waker` value (half a cache line): "held" is a value of
//! the `Vacant` variant's link, not a third variant, which would cost a tag.

use super::{Filed, KEEP_CAPACITY, NIL, Place, Slot, TimerKey, TimerWheel, place_for};

/// A slot with fewer records than this is never compacted: rewriting it would cost
/// more than the few stale records it holds.
const COMPACT_MIN: usize = 32;

/// The link of a held entry: vacant, but a stale record still names it, so it is in
/// no free chain (the chain uses `NIL` and real indices, never this value).
const HELD: u32 = u32::MAX - 1;

/// A cell of the slab.
#[derive(Clone)]
pub(super) enum Entry<T> {
    /// No timer. `next_free` continues the free chain (`NIL` ends it), or is `HELD`.
    Vacant { next_free: u32 },
    /// A live timer. Exactly one record, in the slot `place_for(now, deadline)`,
    /// names it.
    Occupied(Node<T>),
}

/// A live timer. Its slot is not stored: it is `place_for(now, deadline)`.
#[derive(Clone)]
pub(super) struct Node<T> {
    pub(super) value: T,
    pub(super) deadline: u64,
    pub(super) stamp: u64,
}

/// The slab: entries, the head of the free chain, and how many entries are live.
///
/// Invariant: every `Occupied` or held entry is named by exactly one record, in a
/// slot or in the overdue or overflow list; a free entry by none.
#[derive(Clone)]
pub(super) struct Slab<T> {
    entries: Vec<Entry<T>>,
    /// Head of the chain of free entries, reused before the slab grows.
    free_head: u32,
    /// Live timers (the slab also holds free and held entries).
    pub(super) len: usize,
}

impl<T> Slab<T> {
    pub(super) const fn new() -> Self {
        Slab {
            entries: Vec::new(),
            free_head: NIL,
            len: 0,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Whether a record's timer is live. A record never names a reused entry (its
    /// entry is held while it exists), so `Occupied` is the whole test.
    #[inline]
    pub(super) fn is_live(&self, filed: Filed) -> bool {
        matches!(self.entries[filed.index as usize], Entry::Occupied(_))
    }

    /// The node of a key, if the key is still live.
    pub(super) fn lookup(&self, key: TimerKey) -> Option<&Node<T>> {
        match self.entries.get(key.index as usize)? {
            Entry::Occupied(node) if node.stamp == key.stamp => Some(node),
            _ => None,
        }
    }

    /// The node of a key, to change in place, if the key is still live.
    pub(super) fn lookup_mut(&mut self, key: TimerKey) -> Option<&mut Node<T>> {
        match self.entries.get_mut(key.index as usize)? {
            Entry::Occupied(node) if node.stamp == key.stamp => Some(node),
            _ => None,
        }
    }

    /// Stores a node in a free entry, or at the end of the slab if none is free.
    pub(super) fn alloc(&mut self, node: Node<T>) -> u32 {
        self.len += 1;
        if self.free_head != NIL {
            let index = self.free_head;
            let entry = &mut self.entries[index as usize];
            let Entry::Vacant { next_free } = *entry else {
                unreachable!("free chain links to occupied entry {index}")
            };
            self.free_head = next_free;
            *entry = Entry::Occupied(node);
            return index;
        }
        let index = u32::try_from(self.entries.len())
            .ok()
            .filter(|&index| index < HELD)
            .expect("TimerWheel holds at most u32::MAX - 2 timers: cancel some first");
        self.entries.push(Entry::Occupied(node));
        index
    }

    /// Takes the node out of a live entry, whose record is being taken away (fired):
    /// the entry is free at once.
    pub(super) fn release(&mut self, index: u32) -> Node<T> {
        let node = self.vacate(index, self.free_head);
        self.free_head = index;
        node
    }

    /// Takes the node out of a live entry whose record stays behind, stale (a
    /// cancel): the entry is held until [`free_held`](Self::free_held).
    pub(super) fn hold(&mut self, index: u32) -> Node<T> {
        self.vacate(index, HELD)
    }

    fn vacate(&mut self, index: u32, next_free: u32) -> Node<T> {
        self.len -= 1;
        let vacant = Entry::Vacant { next_free };
        match std::mem::replace(&mut self.entries[index as usize], vacant) {
            Entry::Occupied(node) => node,
            Entry::Vacant { .. } => unreachable!("entry {index} vacated twice"),
        }
    }

    /// The stale record naming a held entry is being dropped: the entry is free.
    pub(super) fn free_held(&mut self, index: u32) {
        let entry = &mut self.entries[index as usize];
        debug_assert!(matches!(entry, Entry::Vacant { next_free: HELD }));
        *entry = Entry::Vacant {
            next_free: self.free_head,
        };
        self.free_head = index;
    }

    /// Keeps the records of live timers, in order, and frees the entries of the
    /// stale ones. One tight pass that only reads the slab when nothing is stale:
    /// the processor can then have many of these (independent) reads in flight at
    /// once, which is why a cascade calls it before moving a small slot.
    pub(super) fn retain_live(&mut self, timers: &mut Vec<Filed>) {
        timers.retain(|&filed| {
            let live = self.is_live(filed);
            if !live {
                self.free_held(filed.index);
            }
            live
        });
    }

    /// Reads the entries of records that are all live, and nothing else: the reads
    /// are independent, so the processor has many in flight at once, and the
    /// entries are then in cache when their timers fire, soon after. (Firing them one
    /// at a time would wait for one miss after the other.) `black_box` keeps the
    /// compiler from dropping reads whose result is known to be `timers.len()`.
    pub(super) fn warm(&self, timers: &[Filed]) {
        let live = timers.iter().filter(|&&filed| self.is_live(filed)).count();
        debug_assert_eq!(live, timers.len());
        std::hint::black_box(live);
    }

    /// Drops records that are all stale (a slot whose last live timer was just
    /// cancelled), freeing their entries.
    fn drop_stale(&mut self, timers: &mut Vec<Filed>) {
        for filed in timers.drain(..) {
            self.free_held(filed.index);
        }
    }

    /// Called when no timer is left: every entry is free (no record names one), so
    /// the slab can be emptied and give memory back.
    fn reset(&mut self) {
        debug_assert_eq!(self.len, 0);
        debug_assert!(
            self.entries
                .iter()
                .all(|entry| matches!(entry, Entry::Vacant { next_free } if *next_free != HELD)),
            "an entry is held with no live timer left"
        );
        self.entries.clear();
        self.free_head = NIL;
        if self.entries.capacity() > KEEP_CAPACITY {
            self.entries.shrink_to(KEEP_CAPACITY);
        }
    }
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
    // `always`: the body of every insert and every cascade, and a call per record
    // (about 50 instructions) costs as much as the rest of a move.
    #[inline(always)]
    pub(super) fn push(&mut self, filed: Filed, place: Place) {
        let slot = match place {
            Place::Wheel { level, slot } => {
                let level = &mut self.levels[level as usize];
                level.occupied |= 1 << slot;
                &mut level.slots[slot as usize]
            }
            Place::Overdue => &mut self.overdue,
            Place::Overflow => &mut self.overflow,
        };
        slot.push(filed);
    }

    /// Counts a cancelled timer (its entry already held) as stale in its slot, found
    /// from its deadline. A slot left with no live timer is emptied at once; one with
    /// more stale records than live ones is compacted: since it was last compacted,
    /// half of it was cancelled, so the rewrite costs O(1) per cancel, amortized.
    /// Either way the dropped records' entries are freed.
    pub(super) fn forget(&mut self, deadline: u64) {
        let place = place_for(self.now, deadline);
        let slot = self.slot_mut(place);
        slot.cancelled += 1;
        let emptied = slot.is_empty();
        if !emptied
            && (slot.timers.len() < COMPACT_MIN || 2 * slot.cancelled as usize <= slot.timers.len())
        {
            return;
        }
        let mut timers = std::mem::take(&mut slot.timers);
        if emptied {
            self.slab.drop_stale(&mut timers);
            if let Place::Wheel { level, slot } = place {
                self.levels[level as usize].occupied &= !(1 << slot);
            }
        } else {
            self.slab.retain_live(&mut timers);
        }
        let slot = self.slot_mut(place);
        slot.timers = timers;
        slot.cancelled = 0;
        if emptied {
            slot.earliest = u64::MAX;
        }
    }

    /// Called when no timer is left: the slab can be emptied and give memory back.
    pub(super) fn reset_slab(&mut self) {
        let burst = self.slab.capacity() > KEEP_CAPACITY;
        self.slab.reset();
        if burst {
            // A burst is over: give back the slots' buffers it grew, as the slab's.
            let slots = self
                .levels
                .iter_mut()
                .flat_map(|level| level.slots.iter_mut());
            for slot in slots.chain([&mut self.overdue, &mut self.overflow]) {
                debug_assert!(slot.timers.is_empty());
                slot.timers.shrink_to(KEEP_CAPACITY / super::SLOTS);
            }
        }
    }
}
