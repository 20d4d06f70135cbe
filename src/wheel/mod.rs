//! The timer wheel: where sleeping tasks wait for their deadline.
//!
//! A runtime keeps thousands of timers (every `sleep`, every timeout) and, for most
//! of them, cancels them before they fire: a timeout guards a read that usually
//! succeeds in time. So inserting and cancelling must be cheap, and finding "what is
//! due now?" must not look at every timer. A *hierarchical timing wheel* (Varghese
//! and Lauck, "Hashed and Hierarchical Timing Wheels", 1987) does both: it files
//! each timer into a bucket chosen by its deadline, like a clock face whose hands
//! are bucket arrays, so insert and cancel are O(1) whatever the number of timers.
//!
//! ## The Python equivalent
//!
//! asyncio keeps its timers in a binary heap: `loop.call_at(when, callback)` builds
//! an `asyncio.TimerHandle` and `heapq.heappush`es it onto `BaseEventLoop._scheduled`;
//! `BaseEventLoop._run_once` pops every handle whose `when` has come. Inserting costs
//! O(log n). `TimerHandle.cancel()` is cheap only because it is lazy: the handle stays
//! in the heap, counted in `_timer_cancelled_count`, until it reaches the top or until
//! more than half of the (over 100) handles are cancelled and the heap is rebuilt.
//! The wheel removes a cancelled timer at once, in O(1), and its memory with it.
//!
//! Where clearloop differs: time is a `u64` count of *ticks*, not a float of
//! seconds. The wheel does not care what a tick is; the runtime uses 1 tick = 1
//! microsecond since it started. The wheel is a plain data structure: no clock, no
//! thread, no waker inside. Somebody else reads the clock and calls
//! [`advance`](TimerWheel::advance). And timers with equal deadlines fire in the order
//! they were inserted, which `heapq` (not a stable sort) does not promise.
//!
//! ## The picture
//!
//! Six levels of 64 slots. A slot of level 0 holds the timers of exactly one tick; a
//! slot of level `k` holds the timers of a span of 64^k ticks.
//!
//! ```text
//!            slot:  0    1    2         63
//!  level 5  [    |    |    | ... |    ]   one slot = 64^5 ticks
//!  level 4  [    |    |    | ... |    ]   one slot = 64^4 ticks
//!   ...
//!  level 1  [    |    |    | ... |    ]   one slot = 64 ticks
//!  level 0  [    |    | ## | ... |    ]   one slot = 1 tick
//!                       |
//!                       |  `occupied: u64` per level: bit s set <=> slot s has a live timer
//!                       v
//!  each slot is an array of records (deadline, slab index), in insertion order, and a
//!  lower bound on their deadlines; the values live in one slab (a Vec), where a free
//!  chain links the free entries:
//!
//!   slot:  earliest 1030   [ (1030, #0) | (1030, #2) | (1041, #3) ]
//!                                  |            |            |
//!   slab:        [ A, stamp 7 ] [ free ] [ B, stamp 9 ] [ C, stamp 12 ] [ free ]
//!   free chain:  4 -> 1 -> end   (free entries, reused first)
//! ```
//!
//! | level | one slot          | the level spans   | slot at 1 µs/tick | span at 1 µs/tick |
//! |-------|-------------------|-------------------|-------------------|-------------------|
//! | 0     | 1                 | 64                | 1 µs              | 64 µs             |
//! | 1     | 64                | 4,096             | 64 µs             | 4.1 ms            |
//! | 2     | 4,096             | 262,144           | 4.1 ms            | 262 ms            |
//! | 3     | 262,144           | 16,777,216        | 262 ms            | 16.8 s            |
//! | 4     | 16,777,216        | 1,073,741,824     | 16.8 s            | 17.9 min          |
//! | 5     | 1,073,741,824     | 68,719,476,736    | 17.9 min          | 19.1 h            |
//!
//! ## Cascading
//!
//! A coarse slot cannot fire: its timers have different deadlines. When time reaches
//! the start of a slot of level `k > 0`, the wheel empties it and files each of its
//! timers again, relative to the new time. Being less than 64^k ticks away now, each
//! lands on a finer level; the ones due at exactly that tick fire at once (nothing
//! else is due then: the finer levels are empty, or this slot would not be next).
//! A timer is refiled at most once per level, so at most six times in its life.
//! [`moves`](TimerWheel::moves) counts the refiles, so a benchmark can report the
//! average per timer: a timer d ticks ahead moves up to log64(d) times (a 100 ms
//! sleep at 1 µs per tick: level 2, then 1, then 0, two moves).
//!
//! Two shortcuts keep a lonely timer from that walk down the levels. Each slot keeps
//! a lower bound on its deadlines, so [`next_expiration`](TimerWheel::next_expiration)
//! answers the first *deadline*, not the first tick of a coarse slot: a runtime parks
//! once per deadline, not once per cascade as well. And when `advance` reaches a
//! slot holding one live timer and is going as far as its deadline, time moves to
//! that deadline before the refile, so the timer fires straight from its coarse slot.
//! With a million sleeps of 1 s to 1 h (about one timer per level-2 slot), that cut
//! the moves from 4.64 per timer to 3.35.
//!
//! ## Why it is built this way: what was measured
//!
//! The first version linked each slot's timers as a list through the slab. With a
//! million timers alive, walking a list to cascade or fire it missed the cache at
//! every entry, one miss after the other, since entry `i` says where `i + 1` is.
//! Now a slot is an array of records that carry the deadline: the wheel takes a
//! whole slot at once, and a cascade copies records from one array to the next
//! without reading the slab; firing reads each entry, to take its value (see
//! `slab.rs` for the price: a cancel leaves a stale record behind, dropped later).
//!
//! What is left at a million timers is memory: the instruction count per timer
//! hardly changes from 1k to 1M, the time does. So the layout is counted in bytes:
//!
//! - a record is 16 bytes (deadline, index: four to a cache line), not 24: a cancel
//!   *holds* its entry until the stale record goes, so a record needs no stamp to
//!   tell its timer from a newer one in the same entry (`slab.rs`);
//! - an entry holding a `Waker` is 32 bytes (value, deadline, stamp; "free" fits in
//!   the `Waker`'s null pointer niche), half a line;
//! - before a small cascade (at most 1,024 timers, `WARM_SLOT`), one tight read-only
//!   pass touches the slot's entries: the reads are independent, so the processor has
//!   many misses in flight at once, and the entries are in cache when their timers fire,
//!   soon after. Without it, firing waits for one miss after the other: 200 ns per
//!   timer instead of 100 at 1M timers of 1 s to 1 h, 100 instead of 65 at 1-100 ms.
//!
//! Insert + fire, ns per timer, N timers holding a `Waker` alive at once in a fresh
//! wheel, 1 µs ticks: the benchmark report's "timer wheel alone" table, built once
//! with the previous layout and once with this one, each run three times in turn
//! on a 2-core VM with a load average of 3.3 (the middle of three medians of 7
//! runs; expect ±15%); moves per timer below each row:
//!
//! ```text
//!   timers alive                           1k     10k    100k    1M
//!   1-100 ms,  lists (first version)       34     58      92     380
//!   1-100 ms,  24-byte records             43     49      66      96
//!              moves                     1.96    1.95    1.95    1.95
//!   1-100 ms,  now                         37     51      70      65
//!              moves                     1.42    1.94    1.94    1.94
//!   1 s-1 h,   lists (first version)       69     93     166     415
//!   1 s-1 h,   24-byte records             96     90     109     134
//!              moves                     4.65    4.63    4.64    4.64
//!   1 s-1 h,   now                         43     63      75      93
//!              moves                     1.76    2.20    2.78    3.35
//! ```
//!
//! (The lists' rows are from an earlier session.) Up to 100k timers of 1-100 ms, the
//! slab fits in the caches and little changed; beyond, and for long sleeps, the
//! bytes and the moves saved show. Counted by cachegrind, the instructions per
//! timer stayed or fell (294 as before at 1M timers of 1-100 ms, 523 instead of 639
//! at 1 s-1 h) and the simulated first-level cache misses fell by a quarter to a
//! third. Considered and not kept:
//!
//! - Values in the records, so that firing reads no slab entry at all: then
//!   [`get_mut`](TimerWheel::get_mut), which the runtime calls when a sleep is
//!   polled again, would have to search the timer's slot, tens of thousands of
//!   records in a crowded one.
//! - Entries aligned to 32 bytes (`#[repr(align(32))]`), so that none straddles
//!   two cache lines: growing a `Vec` of over-aligned values copies it instead of
//!   `realloc`ing it in place, and the copies cost more (simulated by cachegrind:
//!   6.7 first-level misses per timer instead of 5.2 at 1M).
//! - Jumping to the earliest deadline of a crowded slot too, not only of a lonely
//!   timer: its other timers differ from that deadline at the level below anyway,
//!   so it saves almost nothing.
//! - Refiling a cascaded slot sorted by deadline, so that neighbours in time are
//!   neighbours in memory: the records are contiguous already, and the slab entries
//!   cannot move (keys point at them), so sorting would buy nothing for its cost.
//! - A coarser tick (tokio's 1 ms): fewer moves (0.36 per timer instead of 1.95 for
//!   sleeps of 1 to 100 ms, 2.90 instead of 4.64 for 1 s to 1 h), but a sleep would
//!   wake up to a whole tick late. The runtime keeps 1 µs ticks and parks for the
//!   exact time left, which is why a 1 ms sleep wakes about 0.03 ms late, not up to
//!   1 ms (`src/runtime/timers.rs`).
//!
//! ## Overflow
//!
//! Deadlines more than the top level's span ahead (2^36 ticks, about 19 hours at
//! 1 µs) wait in one unsorted *overflow* list. When time enters their 2^36-tick
//! block the wheel walks that list once and files the ones now in range. A walk
//! costs O(overflow length) but happens at most once per 2^36 ticks.
//!
//! ## Example
//!
//! ```
//! use clearloop::wheel::TimerWheel;
//!
//! let mut wheel = TimerWheel::new();
//! wheel.insert(30, "tea");
//! let coffee = wheel.insert(10, "coffee");
//! wheel.insert(10, "toast"); // same deadline: fires after "coffee"
//! wheel.insert(5_000_000_000_000, "new year"); // far beyond the top level
//!
//! assert_eq!(wheel.next_expiration(), Some(10));
//! assert_eq!(wheel.cancel(coffee), Some("coffee"));
//!
//! let mut fired = Vec::new();
//! wheel.advance(100, |deadline, what| fired.push((deadline, what)));
//! assert_eq!(fired, [(10, "toast"), (30, "tea")]);
//! assert_eq!(wheel.cancel(coffee), None); // a key is good for one timer, once
//! assert_eq!(wheel.len(), 1);
//! ```

use std::fmt;

mod level;
mod slab;

use level::{Filed, Level, Place, Slot, overflow_entry_time, place_for, slot_for, slot_start};
use slab::{Node, Slab};

/// log2 of the number of slots per level: one level resolves 6 bits of a deadline.
const SLOT_BITS: u32 = 6;
/// Slots per level. 64 so that a level's occupancy fits in one `u64`.
const SLOTS: usize = 1 << SLOT_BITS;
/// Levels in the wheel; deadlines that differ from `now` above bit 36 overflow.
const LEVELS: usize = 6;
/// Ticks spanned by the whole wheel, as a power of two (6 levels x 6 bits).
const WHEEL_BITS: u32 = SLOT_BITS * LEVELS as u32;

/// "No entry": ends the free chain. It and `slab.rs`'s `HELD` are why the slab holds
/// at most `u32::MAX - 2` timers.
const NIL: u32 = u32::MAX;

/// A cascading slot with at most this many timers reads their slab entries even if
/// none was cancelled. Its timers fire soon after, and reading the entries together,
/// while the slot's indices are all known, lets the processor fetch them at once and
/// keeps them in cache until they fire, instead of one miss per fire later. Measured
/// with a million timers of 1 s to 1 h, spread thin over the fine slots: 100 ns per
/// timer instead of 200 (1-100 ms: 65 instead of 100). A larger slot (tens of
/// thousands of timers) would not stay in cache, so it is moved without a look at
/// the slab.
const WARM_SLOT: usize = 1024;

/// When the wheel empties, a slab with a larger capacity than this is shrunk to it,
/// so that a burst of a million timers does not keep its memory forever, while a
/// steady trickle does not reallocate each time the wheel runs dry.
const KEEP_CAPACITY: usize = 1024;

/// A handle to one timer, returned by [`TimerWheel::insert`].
///
/// It names the slab index where the timer lives *and* the timer's stamp, a number
/// the wheel never hands out twice. Once the timer fires or is cancelled, its index
/// is reused by later timers, but their stamps differ: an old key then finds a
/// stranger and every method answers `None`. A key cannot reach a newer timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey {
    index: u32,
    stamp: u64,
}

/// A hierarchical timer wheel holding values of type `T` until their deadline.
///
/// See the [module documentation](self) for the idea and the picture. The runtime
/// stores a [`std::task::Waker`] in each timer.
#[derive(Clone)]
pub struct TimerWheel<T> {
    /// The tick the wheel has advanced to. Invariant: every timer with a deadline
    /// `>= now` sits exactly where [`place_for`]`(now, deadline)` says. Insert,
    /// cancel and advance all keep it; cascading is what keeps it as time moves.
    now: u64,
    levels: [Level; LEVELS],
    /// Timers inserted with a deadline already before `now`; all fire at the next
    /// `advance`, so every one of them was inserted since the last `advance`.
    overdue: Slot,
    /// Timers further ahead than the wheel spans, unsorted.
    overflow: Slot,
    /// The slab: every timer's value lives here; slot records point into it by index.
    slab: Slab<T>,
    /// The stamp of the next timer. A u64 incremented once per insert does not wrap
    /// in practice (584,000 years at a million inserts per second).
    next_stamp: u64,
    /// Refiles so far: a timer cascaded from a coarse slot, or taken in from the
    /// overflow. Only counted, for [`moves`](Self::moves).
    moves: u64,
}

impl<T> TimerWheel<T> {
    /// An empty wheel at tick 0. It allocates nothing until the first insert.
    pub fn new() -> Self {
        TimerWheel {
            now: 0,
            levels: std::array::from_fn(|_| Level {
                occupied: 0,
                slots: std::array::from_fn(|_| Slot::default()),
            }),
            overdue: Slot::default(),
            overflow: Slot::default(),
            slab: Slab::new(),
            next_stamp: 0,
            moves: 0,
        }
    }

    /// The tick the wheel has advanced to (0 for a new wheel).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// How many times a timer has been refiled since the wheel was made: cascaded
    /// from a coarse slot to a finer level, or taken from the overflow into the
    /// wheel. Divided by the number of timers inserted, it is the average number of
    /// moves per timer, the wheel's cost beyond one insert and one fire. A timer that
    /// a cascade finds due at that very tick fires from there: that is not a move.
    ///
    /// ```
    /// use clearloop::wheel::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// wheel.insert(5, ()); // level 0: fires where it was filed
    /// wheel.insert(100, ()); // level 1, slot 1 (64..128), with the next one:
    /// wheel.insert(101, ()); // at tick 64 both cascade to level 0, one move each
    /// wheel.insert(3_000, ()); // level 1, slot 46, alone: fires from there
    /// wheel.advance(5_000, |_, _| {});
    /// assert_eq!(wheel.moves(), 2);
    /// ```
    pub fn moves(&self) -> u64 {
        self.moves
    }

    /// The number of pending timers.
    pub fn len(&self) -> usize {
        self.slab.len
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.slab.len == 0
    }

    /// How many timers the slab can hold without reallocating. It only shrinks when
    /// the wheel becomes empty: entries cannot move while keys point at them.
    pub fn capacity(&self) -> usize {
        self.slab.capacity()
    }

    /// Adds a timer that fires once time reaches `deadline`, and returns its key.
    ///
    /// A deadline at or before [`now`](Self::now) is not an error: the timer fires at
    /// the next [`advance`](Self::advance), whatever tick it is given. O(1).
    ///
    /// # Panics
    ///
    /// If `u32::MAX - 2` timers are already pending: records name entries by `u32`.
    pub fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        let index = self.slab.alloc(Node {
            value,
            deadline,
            stamp,
        });
        let filed = Filed { deadline, index };
        self.push(filed, place_for(self.now, deadline));
        TimerKey { index, stamp }
    }

    /// Removes a pending timer and returns its value; `None` if the key's timer has
    /// already fired or been cancelled. O(1).
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        self.slab.lookup(key)?;
        let node = self.slab.hold(key.index);
        self.forget(node.deadline);
        if self.slab.len == 0 {
            self.reset_slab();
        }
        Some(node.value)
    }

    /// The value of a pending timer, to change in place (the runtime swaps in the
    /// newest waker of the task that polls the sleep). `None` for a stale key.
    pub fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        self.slab.lookup_mut(key).map(|node| &mut node.value)
    }

    /// The deadline a pending timer was inserted with; `None` for a stale key.
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        self.slab.lookup(key).map(|node| node.deadline)
    }

    /// A tick at which [`advance`](Self::advance) will have work to do: a slot to fire
    /// or to cascade, or the overflow to walk. `None` when the wheel is empty. O(levels).
    ///
    /// It is never later than the earliest pending deadline, and usually equal to it:
    /// each slot keeps a lower bound on its deadlines, so even a coarse slot answers
    /// with its first timer's deadline, not with its first tick (it is earlier only
    /// when that timer was cancelled). A runtime sleeps until this tick, advances,
    /// and asks again.
    ///
    /// It may be *before* [`now`](Self::now) when a timer was inserted with a past
    /// deadline; such a timer is due, and `advance(now())` fires it.
    pub fn next_expiration(&self) -> Option<u64> {
        // The three places are in time order, so the first non-empty one answers:
        // overdue deadlines are < now; a wheel slot shares `now`'s bits above bit 36;
        // an overflow timer differs from `now` above bit 36, so it comes later.
        if !self.overdue.is_empty() {
            return Some(self.overdue.earliest);
        }
        if let Some((level, slot, start)) = self.next_wheel_slot() {
            let earliest = self.levels[level].slots[slot].earliest;
            debug_assert!(
                earliest >= start,
                "a slot holds no deadline before its start"
            );
            return Some(earliest);
        }
        if !self.overflow.is_empty() {
            return Some(overflow_entry_time(self.overflow.earliest));
        }
        None
    }

    /// Moves time forward to `now` and calls `fire(deadline, value)` for every timer
    /// whose deadline is `<= now`, in deadline order (equal deadlines: insertion order).
    ///
    /// A `now` earlier than [`now()`](Self::now) does nothing: time does not go back.
    /// An equal `now` fires what is due at that tick, including timers inserted with
    /// a past deadline.
    ///
    /// Time jumps from busy slot to busy slot, found with the occupancy bitmaps, so
    /// advancing by an hour costs the same as advancing by a tick when the wheel is
    /// quiet. Keys of fired timers are stale before `fire` sees their value.
    pub fn advance(&mut self, now: u64, mut fire: impl FnMut(u64, T)) {
        if now < self.now {
            return;
        }
        self.fire_overdue(&mut fire);
        loop {
            // The wheel before the overflow: overflow timers are all later (see
            // `next_expiration`), and walking the overflow moves `self.now`.
            if let Some((level, slot, start)) = self.next_wheel_slot()
                && start <= now
            {
                self.now = start;
                self.process_slot(level, slot, now, &mut fire);
            } else if !self.overflow.is_empty()
                && overflow_entry_time(self.overflow.earliest) <= now
            {
                self.now = overflow_entry_time(self.overflow.earliest);
                self.refill_from_overflow();
            } else {
                break;
            }
        }
        // Safe to jump: no slot starts in (self.now, now], so no timer changes level.
        self.now = now;
        if self.slab.len == 0 {
            self.reset_slab();
        }
    }

    /// Fires the overdue list. Unlike a level-0 slot it mixes deadlines, so it is
    /// sorted first; a stable sort keeps insertion order among equal deadlines.
    fn fire_overdue(&mut self, fire: &mut impl FnMut(u64, T)) {
        if self.overdue.is_empty() {
            return;
        }
        let mut due = std::mem::take(&mut self.overdue).timers;
        self.slab.retain_live(&mut due);
        due.sort_by_key(|filed| filed.deadline);
        for filed in due {
            let node = self.slab.release(filed.index);
            fire(node.deadline, node.value);
        }
    }

    /// The earliest non-empty slot: in the lowest level that has one (a finer level
    /// is always earlier, see `next_expiration`), its lowest occupied slot.
    fn next_wheel_slot(&self) -> Option<(usize, usize, u64)> {
        let (level, bits) = self
            .levels
            .iter()
            .enumerate()
            .find(|(_, level)| level.occupied != 0)
            .map(|(index, level)| (index, level.occupied))?;
        let slot = bits.trailing_zeros() as usize;
        // The invariant puts no timer in a slot behind `now`, so there is no wrap
        // around to handle: the lowest set bit is the next slot in time.
        debug_assert!(slot >= slot_for(self.now, level));
        Some((level, slot, slot_start(self.now, level, slot)))
    }

    /// Time has reached the start of this slot: fire it (level 0, one tick, every
    /// deadline equals `self.now`) or cascade it (refile each timer one level down
    /// or more). Both take the whole slot at once and walk it in order, so insertion
    /// order survives cascading. Firing reads each slab entry, to take its value. A
    /// cascade reads the entries (to drop stale records) when the slot holds some,
    /// and when it is small, see [`WARM_SLOT`].
    ///
    /// A coarse slot that holds one live timer, due by `target` (where `advance` is
    /// going), first moves time to the slot's bound, that timer's deadline (or
    /// earlier if a cancelled one set it): nothing in the wheel is due before it (the
    /// finer levels are empty, or this slot would not be next), so this is no
    /// different from advancing in two steps, and the timer is then due: it fires
    /// from here, with no move instead of one per level below. Sparse slots are the common case for long sleeps (a million timers of
    /// 1 s to 1 h leave about one timer per level-2 slot). A crowded slot is refiled
    /// from its first tick: jumping to its earliest deadline would save little (the
    /// others still differ from it at the level below).
    fn process_slot(
        &mut self,
        level: usize,
        slot: usize,
        target: u64,
        fire: &mut impl FnMut(u64, T),
    ) {
        let mut taken = std::mem::take(&mut self.levels[level].slots[slot]);
        self.levels[level].occupied &= !(1 << slot);
        if level == 0 {
            for &filed in &taken.timers {
                if self.slab.is_live(filed) {
                    let node = self.slab.release(filed.index);
                    debug_assert_eq!(node.deadline, self.now);
                    fire(node.deadline, node.value);
                } else {
                    self.slab.free_held(filed.index); // cancelled: its record goes now
                }
            }
        } else {
            let alone = taken.timers.len() - taken.cancelled as usize == 1;
            if alone && taken.earliest <= target {
                debug_assert!(taken.earliest >= self.now);
                self.now = taken.earliest;
            }
            if taken.cancelled > 0 {
                self.slab.retain_live(&mut taken.timers);
            } else if taken.timers.len() <= WARM_SLOT {
                self.slab.warm(&taken.timers);
            }
            let mut due = 0;
            for &filed in &taken.timers {
                if filed.deadline == self.now {
                    // Due at this very tick, and nothing else is (the finer levels
                    // are empty): fire it here, in slot order, rather than file it
                    // into level 0 only to take it out again.
                    let node = self.slab.release(filed.index);
                    fire(node.deadline, node.value);
                    due += 1;
                    continue;
                }
                let place = place_for(self.now, filed.deadline);
                debug_assert!(
                    matches!(place, Place::Wheel { level: l, .. } if (l as usize) < level)
                );
                self.push(filed, place);
            }
            self.moves += (taken.timers.len() - due) as u64;
        }
        // Give the emptied buffer back: this slot fills again one lap later. Nothing
        // was filed here meanwhile (refiles go to finer levels, `fire` cannot insert).
        taken.clear();
        self.levels[level].slots[slot] = taken;
    }

    /// `self.now` just entered a new 2^36-tick block: file every overflow timer that
    /// is in range now, and put the others back, recomputing the lower bound.
    fn refill_from_overflow(&mut self) {
        let mut taken = std::mem::take(&mut self.overflow);
        if taken.cancelled > 0 {
            self.slab.retain_live(&mut taken.timers);
        }
        for &filed in &taken.timers {
            let place = place_for(self.now, filed.deadline);
            if place != Place::Overflow {
                self.moves += 1;
            }
            self.push(filed, place);
        }
    }
}

impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Shows the wheel's time and load, not the values (which need not be `Debug`).
impl<T> fmt::Debug for TimerWheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("now", &self.now)
            .field("len", &self.len())
            .field("next_expiration", &self.next_expiration())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
