//! The scheduler's queue: the pending events in run order, and the threads asleep
//! until the next one.
//!
//! CPython's `sched.scheduler` keeps a `heapq` list of `Event` tuples compared as
//! `(time, priority, sequence)`. Here too a binary heap orders the keys, but the
//! entries (the action, its name, its time) wait in a slab beside it, and a cancel
//! empties the entry's slab slot at once while its key stays in the heap, dead,
//! until it reaches the top (asyncio's way with cancelled handles). The module doc
//! of [`sched`](super) draws it and says why; this file holds the key, the heap, the
//! slabs and the list of sleepers that an `enter` may have to wake.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::thread::Thread;
use std::time::Instant;

use super::event::{ActionName, EventState, PAGE_LEN, StatePage};
use super::slab::Slab;
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
    /// The entries of the pending events, at the slot their key names.
    entries: Slab<Entry>,
    /// How many keys in `heap` are dead (their event was cancelled).
    dead: usize,
    /// The sequence number of the next event entered.
    pub(super) next_sequence: u64,
    /// The pages of state bytes (see `event.rs`) the queue may still write to: the
    /// one new events get, and every page with a pending event. The queue holds one
    /// reference to each, and an entry only the page's index here: a reference per
    /// entry (an atomic add when entered, a subtraction when run) made `enter` and
    /// `run` about 10% slower, though this bookkeeping costs more instructions.
    pages: Slab<PageUse>,
    /// The index in `pages` of the page new events get.
    current_page: usize,
    /// Threads parked in `run`, each with the deadline it sleeps until (`None`: a
    /// runner on an empty queue, waiting for any event). `enter` unparks those that
    /// a new event is due before.
    pub(super) sleepers: Vec<Sleeper>,
}

pub(super) struct Sleeper {
    pub(super) thread: Thread,
    pub(super) deadline: Option<Instant>,
}

/// A page of state bytes the queue keeps, and how many of its events are pending.
struct PageUse {
    page: Arc<StatePage>,
    pending: usize,
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
    // Compared first, not `checked_duration_since`: on Windows that answers zero
    // for an instant up to one 100 ns tick earlier, which would sort "1 ns before"
    // with "at creation".
    if time >= start {
        ORIGIN + (time - start).as_nanos().min(u128::from(ORIGIN - 1)) as u64
    } else {
        ORIGIN - (start - time).as_nanos().min(u128::from(ORIGIN)) as u64
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

/// A pending event: what runs, and what it takes to rebuild its [`Event`] for
/// `queue()`, a `RunError` or the trace. Its slot is where its key points.
pub(super) struct Entry {
    pub(super) time: Instant,
    pub(super) sequence: u64,
    pub(super) priority: i32,
    /// The index in the queue's `pages` of the page holding its state byte.
    page: usize,
    pub(super) name: ActionName,
    pub(super) action: Action,
}

impl Entry {
    /// Its handle again, at `slot`, with its state page.
    pub(super) fn event(&self, slot: usize, page: &Arc<StatePage>) -> Event {
        let page = Arc::clone(page);
        Event::new(
            self.time,
            self.priority,
            self.sequence,
            slot,
            self.name.clone(),
            page,
        )
    }
}

/// What is at the head of the queue, for a given time.
pub(super) enum Head {
    /// The first event was due: here it is, out of the queue, `Running`, with the
    /// slot it had.
    Due(Entry, usize),
    /// The first event is due at this time, later.
    Later(Instant),
    /// No event is pending.
    Empty,
}

impl Queue {
    /// The queue of the scheduler numbered `scheduler`, created at `start`.
    pub(super) fn new(scheduler: u64, start: Instant) -> Queue {
        let mut pages = Slab::new();
        let current_page = pages.insert(PageUse {
            page: StatePage::new(scheduler, start),
            pending: 0,
        });
        Queue {
            run: VecDeque::new(),
            heap: BinaryHeap::new(),
            entries: Slab::new(),
            dead: 0,
            next_sequence: 0,
            pages,
            current_page,
            sleepers: Vec::new(),
        }
    }

    /// How many events are pending.
    pub(super) fn len(&self) -> usize {
        self.run.len() + self.heap.len() - self.dead
    }

    /// Adds the event numbered `key.sequence`, which must be `next_sequence - 1`.
    /// Returns its slot and its state page, for the handle `enter` returns.
    #[inline]
    pub(super) fn push(
        &mut self,
        key: Key,
        time: Instant,
        name: ActionName,
        action: Action,
    ) -> (usize, &Arc<StatePage>) {
        if key.sequence.is_multiple_of(PAGE_LEN) && key.sequence > 0 {
            self.turn_page();
        }
        let page = self.current_page;
        let slot = self.entries.insert(Entry {
            time,
            sequence: key.sequence,
            priority: key.priority,
            page,
            name,
            action,
        });
        let queued = HeapKey { key, slot };
        if self.run.back().is_none_or(|last| last.key < key) {
            self.run.push_back(queued);
        } else {
            self.heap.push(queued);
        }
        let used = self.page_use(page);
        used.pending += 1;
        (slot, &used.page)
    }

    /// Starts a new page for the next [`PAGE_LEN`] events, and lets go of the full
    /// one if none of its events is pending (otherwise the last of them will).
    #[cold]
    fn turn_page(&mut self) {
        let full = self.page_use(self.current_page);
        let fresh = StatePage::new(full.page.scheduler(), full.page.start());
        if full.pending == 0 {
            self.pages.remove(self.current_page);
        }
        self.current_page = self.pages.insert(PageUse {
            page: fresh,
            pending: 0,
        });
    }

    fn page_use(&mut self, page: usize) -> &mut PageUse {
        self.pages
            .get_mut(page)
            .expect("a pending event's page is kept until it runs")
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

    /// Whether `slot` holds the entry of the event numbered `sequence`: if not, a
    /// key naming them is dead (its event was cancelled, and the slot may have been
    /// reused since).
    fn holds(&self, slot: usize, sequence: u64) -> bool {
        self.entries
            .get(slot)
            .is_some_and(|entry| entry.sequence == sequence)
    }

    fn is_live(&self, key: &HeapKey) -> bool {
        self.holds(key.slot, key.key.sequence)
    }

    /// Takes the entry out of `slot`, which must be full, and writes `state` (which
    /// is not `Pending`) into its state byte. If `keep` is given, it is made to hold
    /// the entry's page: the run loop keeps the page of the event it runs, to write
    /// its end state, and finds it already there for the next event of that page.
    #[inline]
    fn take(
        &mut self,
        slot: usize,
        state: EventState,
        keep: Option<&mut Option<Arc<StatePage>>>,
    ) -> Entry {
        let entry = self.entries.remove(slot);
        let current_page = self.current_page;
        let used = self.page_use(entry.page);
        used.page.set(entry.sequence, state);
        if let Some(keep) = keep
            && !keep
                .as_ref()
                .is_some_and(|kept| Arc::ptr_eq(kept, &used.page))
        {
            *keep = Some(Arc::clone(&used.page));
        }
        used.pending -= 1;
        if used.pending == 0 && entry.page != current_page {
            self.pages.remove(entry.page);
        }
        entry
    }

    /// Takes out the first event if it is due at `now` (on the scale of
    /// [`Key::nanos`]), marked `Running`, throwing away the dead keys found on top
    /// on the way. `keep` is the run loop's page, as [`take`](Queue::take) says.
    #[inline]
    pub(super) fn pop_due(&mut self, now: u64, keep: &mut Option<Arc<StatePage>>) -> Head {
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
                let first = self.entries.get(slot).expect("a live key has its entry");
                return Head::Later(first.time);
            }
            self.pop_first(from_run);
            return Head::Due(self.take(slot, EventState::Running, Some(keep)), slot);
        }
        Head::Empty
    }

    /// Takes out the entry of the event numbered `sequence` at `slot`, if it is
    /// pending, marked `Cancelled`, and says whether it was the first to run. Its
    /// key stays behind, dead.
    pub(super) fn remove(&mut self, sequence: u64, slot: usize) -> Option<(Entry, bool)> {
        if !self.holds(slot, sequence) {
            return None;
        }
        let entry = self.take(slot, EventState::Cancelled, None);
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
            let live = |k: &HeapKey| {
                entries
                    .get(k.slot)
                    .is_some_and(|e| e.sequence == k.key.sequence)
            };
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
        let event = |slot: usize| {
            let entry = self.entries.get(slot).expect("a live key has its entry");
            let used = self
                .pages
                .get(entry.page)
                .expect("a pending event's page is kept");
            entry.event(slot, &used.page)
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::event::ActionName;
    use super::{Head, Key, Queue};

    fn enter(queue: &mut Queue, start: Instant, after: Duration) -> u64 {
        let sequence = queue.next_sequence;
        queue.next_sequence += 1;
        let key = Key::new(start, start + after, 1, sequence);
        queue.push(
            key,
            start + after,
            ActionName::TypeOf(|| "noop"),
            Box::new(|| {}),
        );
        sequence
    }

    fn run_due(queue: &mut Queue, now: u64) -> usize {
        let mut page = None;
        let mut ran = 0;
        while let Head::Due(_, _) = queue.pop_due(now, &mut page) {
            ran += 1;
        }
        ran
    }

    #[test]
    fn the_queue_lets_go_of_a_page_once_its_events_are_gone() {
        let start = Instant::now();
        let mut queue = Queue::new(0, start);
        // One event an hour ahead keeps its page; 1,000 due events fill 16 pages.
        let late = enter(&mut queue, start, Duration::from_secs(3600));
        for _ in 0..1_000 {
            enter(&mut queue, start, Duration::ZERO);
        }
        assert_eq!(
            queue.pages.count(),
            16,
            "pages with pending events are kept"
        );
        assert_eq!(run_due(&mut queue, super::ORIGIN), 1_000);
        assert_eq!(
            queue.pages.count(),
            2,
            "only the late event's page and the page new events get are left"
        );
        // Cancelling the late event lets its page go too.
        let (entry, _) = queue.remove(late, 0).expect("the late event is pending");
        assert_eq!(entry.sequence, late);
        assert_eq!(queue.pages.count(), 1);
        // And the freed places are reused: the slab does not grow as pages turn.
        for _ in 0..10_000 {
            enter(&mut queue, start, Duration::ZERO);
            assert_eq!(run_due(&mut queue, super::ORIGIN), 1);
        }
        assert_eq!(queue.pages.count(), 1);
        assert!(queue.pages.places() <= 16, "{}", queue.pages.places());
    }
}
