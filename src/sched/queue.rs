//! The scheduler's queue: the pending events in run order, and the threads asleep
//! until the next one.
//!
//! CPython's `sched.scheduler` keeps a `heapq` list of `Event` tuples compared as
//! `(time, priority, sequence)`. Here too a binary heap orders the keys, but the
//! entries (the action and its [`Event`]) wait in a slab beside it, and a cancel
//! empties the entry's slab slot at once while its key stays in the heap, dead,
//! until it reaches the top (asyncio's way with cancelled handles). The module doc
//! of [`sched`](super) draws it and says why; this file holds the key, the heap, the
//! slab and the list of sleepers that an `enter` may have to wake.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::thread::Thread;
use std::time::Instant;

use super::event::{PAGE_LEN, StatePage};
use super::{Action, Event};

/// Everything the lock protects. Whoever holds it may read and change all of it;
/// nobody holds it while an action runs or while a thread sleeps.
pub(super) struct Queue {
    /// The keys entered in order (each one after the last one here): a sorted run,
    /// whose front is its first. Most events arrive this way (a zero delay, a
    /// later time), and then enter and run cost a push and a pop at the ends.
    ///
    /// Together with `heap`, these are the keys of the pending events and of
    /// cancelled ones not yet thrown away. Invariant: a key is *live* when
    /// `entries[slot]` holds the entry of the same sequence; exactly the live keys
    /// belong to `Pending` events.
    run: VecDeque<HeapKey>,
    /// The keys entered out of order (before the last key of `run`).
    heap: BinaryHeap<HeapKey>,
    /// The slab: the entries of the pending events, at the slot their key names.
    entries: Vec<Slot>,
    /// The first free slot of `entries` (`entries.len()`: none, the slab grows).
    /// Each free slot names the next one: the free list lives in the slab itself,
    /// so that freeing a slot never allocates.
    first_free: usize,
    /// How many keys in `heap` are dead (their event was cancelled).
    dead: usize,
    /// The sequence number of the next event entered.
    pub(super) next_sequence: u64,
    /// The page of state bytes that the events being entered share (see
    /// `event.rs`): a new one every [`PAGE_LEN`] sequence numbers.
    states: Arc<StatePage>,
    /// Threads parked in `run`, each with the deadline it sleeps until (`None`: a
    /// runner on an empty queue, waiting for any event). `enter` unparks those that
    /// a new event is due before.
    pub(super) sleepers: Vec<Sleeper>,
}

pub(super) struct Sleeper {
    pub(super) thread: Thread,
    pub(super) deadline: Option<Instant>,
}

/// The queue's sort key. The derived order compares the fields top to bottom: time
/// first, then priority (lower runs first), then sequence (entered first runs first).
///
/// The time is not kept as an [`Instant`] but as nanoseconds from the scheduler's
/// creation, shifted so that earlier times (an `enterabs` in the past) still sort
/// first: one `u64` comparison instead of an `Instant`'s seconds-then-nanoseconds,
/// and the run loop compares it with the time it last read without a subtraction.
/// Times more than 292 years away from the scheduler's creation all share the
/// farthest value, and so run in order of priority and sequence among themselves.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    pub(super) nanos: u64,
    pub(super) priority: i32,
    pub(super) sequence: u64,
}

/// What a `Key` counts its time from: the scheduler's creation is `ORIGIN` nanoseconds.
pub(super) const ORIGIN: u64 = 1 << 63;

impl Key {
    pub(super) fn new(start: Instant, time: Instant, priority: i32, sequence: u64) -> Key {
        Key {
            nanos: nanos_of(start, time),
            priority,
            sequence,
        }
    }
}

/// `time` on the scale of [`Key::nanos`].
pub(super) fn nanos_of(start: Instant, time: Instant) -> u64 {
    match time.checked_duration_since(start) {
        Some(after) => ORIGIN + after.as_nanos().min(u128::from(ORIGIN - 1)) as u64,
        None => ORIGIN - (start - time).as_nanos().min(u128::from(ORIGIN)) as u64,
    }
}

/// One element of the run or the heap: a key and the slab slot of its entry. Small
/// (32 bytes), because a heap moves its elements on every push and pop.
#[derive(Clone, Copy)]
struct HeapKey {
    key: Key,
    slot: usize,
}

// `BinaryHeap` pops its *greatest* element: reverse the key's order, so that the
// earliest key is the greatest.
impl Ord for HeapKey {
    fn cmp(&self, other: &HeapKey) -> Ordering {
        other.key.cmp(&self.key)
    }
}

impl PartialOrd for HeapKey {
    fn partial_cmp(&self, other: &HeapKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for HeapKey {
    fn eq(&self, other: &HeapKey) -> bool {
        self.key == other.key
    }
}

impl Eq for HeapKey {}

/// A pending event: what runs, and a copy of the handle `enter` returned, through
/// which the run loop reports its state.
pub(super) struct Entry {
    pub(super) event: Event,
    pub(super) action: Action,
}

/// One place in the slab.
enum Slot {
    /// The entry of a pending event.
    Full(Entry),
    /// A free place; `next` is the next free one (`entries.len()`: none).
    Free { next: usize },
}

impl Slot {
    /// Whether this slot holds the entry `key` was pushed with: if not, the key is
    /// dead (its event was cancelled, and the slot may have been reused since).
    fn holds(&self, sequence: u64) -> bool {
        matches!(self, Slot::Full(entry) if entry.event.sequence() == sequence)
    }
}

/// What is at the head of the queue, for a given time.
pub(super) enum Head {
    /// The first event was due: here it is, out of the queue.
    Due(Entry),
    /// The first event is due at this time, later.
    Later(Instant),
    /// No event is pending.
    Empty,
}

impl Queue {
    /// The queue of the scheduler numbered `scheduler`, created at `start`.
    pub(super) fn new(scheduler: u64, start: Instant) -> Queue {
        Queue {
            run: VecDeque::new(),
            heap: BinaryHeap::new(),
            entries: Vec::new(),
            first_free: 0,
            dead: 0,
            next_sequence: 0,
            states: StatePage::new(scheduler, start),
            sleepers: Vec::new(),
        }
    }

    /// The page holding the state byte of the event numbered `sequence`, which must
    /// be the next one: pages are handed out in order, [`PAGE_LEN`] events each.
    pub(super) fn state_page(&mut self, sequence: u64) -> Arc<StatePage> {
        // The first page is made with the queue, so a scheduler that enters fewer
        // than 64 events allocates exactly one.
        if sequence % PAGE_LEN == 0 && sequence > 0 {
            self.states = StatePage::new(self.states.scheduler(), self.states.start());
        }
        Arc::clone(&self.states)
    }

    /// How many events are pending.
    pub(super) fn len(&self) -> usize {
        self.run.len() + self.heap.len() - self.dead
    }

    /// The slot the next [`push`](Queue::push) will use: the event records it, so
    /// that `cancel` finds its entry without a search.
    pub(super) fn vacant_slot(&self) -> usize {
        self.first_free
    }

    /// Adds an entry at `slot`, which must be [`vacant_slot`](Queue::vacant_slot).
    pub(super) fn push(&mut self, key: Key, slot: usize, entry: Entry) {
        debug_assert_eq!(slot, self.first_free, "push() takes vacant_slot()");
        match self.entries.get_mut(slot) {
            Some(free) => {
                let Slot::Free { next } = *free else {
                    unreachable!("the free list names only free slots")
                };
                self.first_free = next;
                *free = Slot::Full(entry);
            }
            None => {
                self.entries.push(Slot::Full(entry));
                self.first_free = self.entries.len();
            }
        }
        let queued = HeapKey { key, slot };
        if self.run.back().is_none_or(|last| last.key < key) {
            self.run.push_back(queued);
        } else {
            self.heap.push(queued);
        }
    }

    /// The first key, live or dead: the smaller of the run's front and the heap's
    /// top, and whether it is the run's.
    fn first(&self) -> Option<(HeapKey, bool)> {
        match (self.run.front(), self.heap.peek()) {
            (Some(run), Some(heap)) if heap.key < run.key => Some((*heap, false)),
            (Some(run), _) => Some((*run, true)),
            (None, heap) => heap.map(|heap| (*heap, false)),
        }
    }

    fn pop_first(&mut self, from_run: bool) {
        if from_run {
            self.run.pop_front();
        } else {
            self.heap.pop();
        }
    }

    fn is_live(&self, key: &HeapKey) -> bool {
        self.entries[key.slot].holds(key.key.sequence)
    }

    /// Takes the entry out of `slot`, which must be full, and frees the slot.
    fn take(&mut self, slot: usize) -> Entry {
        let free = Slot::Free {
            next: self.first_free,
        };
        self.first_free = slot;
        match std::mem::replace(&mut self.entries[slot], free) {
            Slot::Full(entry) => entry,
            Slot::Free { .. } => unreachable!("a live key has its entry"),
        }
    }

    /// Takes out the first event if it is due at `now` (on the scale of
    /// [`Key::nanos`]), throwing away the dead keys found on top on the way.
    pub(super) fn pop_due(&mut self, now: u64) -> Head {
        while let Some((top, from_run)) = self.first() {
            if !self.is_live(&top) {
                self.pop_first(from_run);
                self.dead -= 1;
                continue;
            }
            // Due when its time is `now` or earlier, so an event entered with a zero
            // delay runs on this very pass (CPython: `if time > now: delay`).
            let slot = top.slot;
            if top.key.nanos > now {
                let Slot::Full(first) = &self.entries[slot] else {
                    unreachable!("a live key has its entry")
                };
                return Head::Later(first.event.time());
            }
            self.pop_first(from_run);
            return Head::Due(self.take(slot));
        }
        Head::Empty
    }

    /// Takes out the entry of the event numbered `sequence` at `slot`, if it is
    /// pending, and says whether it was the first to run. Its key stays behind, dead.
    pub(super) fn remove(&mut self, sequence: u64, slot: usize) -> Option<(Entry, bool)> {
        if !self
            .entries
            .get(slot)
            .is_some_and(|held| held.holds(sequence))
        {
            return None;
        }
        let entry = self.take(slot);
        self.dead += 1;
        // If the top is dead now, this event may have been the first: a thread may
        // sleep until its time. (The top may also be an older dead key; waking a
        // sleeper for nothing is harmless: it looks again and sleeps again.)
        let was_first = self.first().is_some_and(|(top, _)| !self.is_live(&top));
        self.compact_if_mostly_dead();
        Some((entry, was_first))
    }

    /// Rebuilds the heap without its dead keys once they outnumber the live ones,
    /// so that cancelled events do not make the heap grow without bound.
    fn compact_if_mostly_dead(&mut self) {
        if self.dead > 64 && self.dead > self.len() {
            let entries = &self.entries;
            let live = |k: &HeapKey| entries[k.slot].holds(k.key.sequence);
            self.run.retain(live);
            self.heap.retain(live);
            self.dead = 0;
        }
    }

    /// The pending events in run order.
    pub(super) fn events_in_order(&self) -> Vec<Event> {
        let mut live: Vec<(Key, usize)> = (self.run.iter().chain(self.heap.iter()))
            .filter(|k| self.is_live(k))
            .map(|k| (k.key, k.slot))
            .collect();
        live.sort_unstable_by_key(|&(key, _)| key);
        let event = |slot: usize| match &self.entries[slot] {
            Slot::Full(entry) => entry.event.clone(),
            Slot::Free { .. } => unreachable!("a live key has its entry"),
        };
        live.into_iter().map(|(_, slot)| event(slot)).collect()
    }

    /// The sleepers that must wake up to see an event due at `time`: those sleeping
    /// past it, or waiting for any event. Their deadline becomes `time`, so that the
    /// next thousand events entered for later do not unpark them again.
    pub(super) fn sleepers_to_wake_for(&mut self, time: Instant) -> Vec<Thread> {
        let mut to_wake = Vec::new();
        for sleeper in &mut self.sleepers {
            if sleeper.deadline.is_none_or(|deadline| time < deadline) {
                sleeper.deadline = Some(time);
                to_wake.push(sleeper.thread.clone());
            }
        }
        to_wake
    }

    pub(super) fn timed_sleepers(&self) -> Vec<Thread> {
        self.sleepers
            .iter()
            .filter(|s| s.deadline.is_some())
            .map(|s| s.thread.clone())
            .collect()
    }
}
