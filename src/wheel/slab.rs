//! Where the timers live: one slab (a `Vec` of entries) and lists threaded through
//! it by index.
//!
//! Every timer is one entry of the slab; a slot of the wheel is a doubly linked list
//! whose links are slab indices (`u32`), not pointers, so the whole structure is safe
//! Rust and one allocation, and a cancel unlinks an entry in O(1) from whatever list
//! it is on. A freed entry joins the free chain and is reused first.
//!
//! ```text
//!   slab:   [ A: prev -, next 2 ] [ free: next 4 ] [ B: prev 0, next - ] ...
//!   slot:   head 0 -> A <-> B <- tail 2          free chain: 1 -> 4 -> end
//! ```

use super::{KEEP_CAPACITY, List, NIL, Place, TimerKey, TimerWheel};

/// A cell of the slab.
#[derive(Clone)]
pub(super) enum Entry<T> {
    /// Free; `next_free` continues the free chain (`NIL` ends it).
    Vacant {
        next_free: u32,
    },
    Occupied(Node<T>),
}

/// A live timer and its links.
#[derive(Clone)]
pub(super) struct Node<T> {
    pub(super) value: T,
    pub(super) deadline: u64,
    pub(super) stamp: u64,
    pub(super) place: Place,
    pub(super) prev: u32,
    pub(super) next: u32,
}

impl<T> TimerWheel<T> {
    pub(super) fn list_mut(&mut self, place: Place) -> &mut List {
        match place {
            Place::Wheel { level, slot } => &mut self.levels[level as usize].slots[slot as usize],
            Place::Overdue => &mut self.overdue,
            Place::Overflow => &mut self.overflow,
        }
    }

    /// Appends entry `index` to the list of `place` (appending keeps insertion order).
    pub(super) fn push_back(&mut self, index: u32, place: Place) {
        let deadline = self.node(index).deadline;
        let list = self.list_mut(place);
        let was_empty = list.head == NIL;
        let old_tail = list.tail;
        list.tail = index;
        if was_empty {
            list.head = index;
        }
        if !was_empty {
            self.node_mut(old_tail).next = index;
        }
        let node = self.node_mut(index);
        node.place = place;
        node.prev = old_tail;
        node.next = NIL;
        match place {
            Place::Wheel { level, slot } => self.levels[level as usize].occupied |= 1 << slot,
            // An empty list forgets its old bound, which may belong to cancelled timers.
            Place::Overdue if was_empty => self.overdue_min = deadline,
            Place::Overdue => self.overdue_min = self.overdue_min.min(deadline),
            Place::Overflow if was_empty => self.overflow_min = deadline,
            Place::Overflow => self.overflow_min = self.overflow_min.min(deadline),
        }
    }

    /// Takes entry `index` out of its list, wherever in the list it is.
    pub(super) fn unlink(&mut self, index: u32) {
        let Node {
            place, prev, next, ..
        } = *self.node(index);
        if prev == NIL {
            self.list_mut(place).head = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NIL {
            self.list_mut(place).tail = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
        if let Place::Wheel { level, slot } = place
            && self.levels[level as usize].slots[slot as usize].head == NIL
        {
            self.levels[level as usize].occupied &= !(1 << slot);
        }
    }

    // ---- slab --------------------------------------------------------------------

    /// The node of a key, if the key is still live.
    pub(super) fn lookup(&self, key: TimerKey) -> Option<&Node<T>> {
        match self.entries.get(key.index as usize)? {
            Entry::Occupied(node) if node.stamp == key.stamp => Some(node),
            _ => None,
        }
    }

    pub(super) fn node(&self, index: u32) -> &Node<T> {
        match &self.entries[index as usize] {
            Entry::Occupied(node) => node,
            Entry::Vacant { .. } => unreachable!("timer list links to vacant entry {index}"),
        }
    }

    pub(super) fn node_mut(&mut self, index: u32) -> &mut Node<T> {
        match &mut self.entries[index as usize] {
            Entry::Occupied(node) => node,
            Entry::Vacant { .. } => unreachable!("timer list links to vacant entry {index}"),
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

    /// Frees an entry (already unlinked) and returns its node.
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
            self.entries.shrink_to(KEEP_CAPACITY);
        }
    }
}
