//! One level of the wheel, and the arithmetic that picks a timer's level and slot.
//!
//! A deadline is a number of ticks; written in base 64, its digits *are* the slots:
//! digit 0 is the slot in level 0, digit 1 the slot in level 1, and so on. A timer
//! goes to the highest level where its deadline's digit differs from `now`'s, so a
//! level never holds two laps of time at once. These functions are pure, and tested
//! here on their own; [`super`] (the wheel) files, cascades and fires with them.
//!
//! ```text
//!   now      = 1000 = digits (0, 0, 0, 0, 15, 40)     level 1 differs: 15 vs 16
//!   deadline = 1030 = digits (0, 0, 0, 0, 16,  6)  -> level 1, slot 16
//! ```

use super::{LEVELS, SLOT_BITS, SLOTS, WHEEL_BITS};

/// One level: 64 slots and a bitmap saying which hold a live timer, so that
/// finding the next busy slot is one `trailing_zeros`, not a scan of 64 slots.
#[derive(Clone)]
pub(super) struct Level {
    pub(super) occupied: u64,
    pub(super) slots: [Slot; SLOTS],
}

/// A timer as a slot files it: its deadline beside its slab index, so that cascading
/// a slot reads and writes slots only, never the slab. 16 bytes: four to a cache line.
#[derive(Clone, Copy, Debug)]
pub(super) struct Filed {
    pub(super) deadline: u64,
    /// The timer's slab entry. While this record exists, the entry is this timer's
    /// or, after a cancel, *held* for it (see `slab.rs`): never another timer's.
    pub(super) index: u32,
}

/// The timers of one slot (or of the overdue or overflow list), in insertion order.
///
/// A cancel does not search the slot: it takes the value out of the slab entry and
/// counts one more `cancelled`, leaving a stale `Filed` behind. Stale ones are
/// recognised by their vacant entry and dropped when the slot is processed, or
/// earlier by a compaction once they outnumber the live ones, so they never hold
/// more than the live timers do.
#[derive(Clone, Debug)]
pub(super) struct Slot {
    /// Live and stale timers, in the order they arrived.
    pub(super) timers: Vec<Filed>,
    /// How many of `timers` are stale. While it is 0, every one is live, and
    /// cascading can move them without looking at the slab.
    pub(super) cancelled: u32,
    /// A lower bound on the deadlines of the live timers (`u64::MAX` when there are
    /// none). Not raised by a cancel: being early only costs a cascade that finds
    /// nothing due, being late would lose a timer. The wheel wakes up at it, and a
    /// cascade jumps time straight to it, see `TimerWheel::process_slot`.
    pub(super) earliest: u64,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            timers: Vec::new(),
            cancelled: 0,
            earliest: u64::MAX,
        }
    }
}

/// The capacity a slot's buffer starts with. `Vec` would start at 4 records and
/// double to 8, 16, 32: three reallocations for a slot that fills to 40, and a fresh
/// wheel fills dozens of slots. A thousand timers of 1-100 ms inserted into a new
/// wheel and fired cost 33 ns per timer with 32, 36 with 12, 40 with `Vec`'s own
/// growth. 32 records are 512 bytes, and a buffer is kept once grown.
const FIRST_CAPACITY: usize = 32;

impl Slot {
    /// Whether the slot holds no live timer (it may still hold stale ones).
    pub(super) fn is_empty(&self) -> bool {
        self.timers.len() == self.cancelled as usize
    }

    /// Appends a record. A slot with no live timer forgets its old bound, which may
    /// belong to cancelled ones.
    #[inline(always)] // inside `TimerWheel::push`, see there
    pub(super) fn push(&mut self, filed: Filed) {
        self.earliest = if self.is_empty() {
            filed.deadline
        } else {
            self.earliest.min(filed.deadline)
        };
        if self.timers.capacity() == 0 {
            self.timers.reserve_exact(FIRST_CAPACITY);
        }
        self.timers.push(filed);
    }

    /// Forgets every record, keeping the buffer: a busy slot fills again soon.
    pub(super) fn clear(&mut self) {
        self.timers.clear();
        self.cancelled = 0;
        self.earliest = u64::MAX;
    }
}

/// Which slot a timer is on. Not stored: the wheel's invariant makes it a function of
/// `now` and the deadline ([`place_for`]), so a cancel recomputes it in a few
/// instructions and the entry stays 8 bytes smaller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    Wheel { level: u8, slot: u8 },
    Overdue,
    Overflow,
}

/// The level a deadline belongs to, seen from `now`: the highest bit where the two
/// differ, divided by 6 (the bits one level resolves).
///
/// Example: `now = 1000`, `deadline = 1030`, only 30 ticks ahead.
///
/// ```text
///   now      =  1000 = 0b_01111_101000    1000 / 64 = 15 rem 40
///   deadline =  1030 = 0b_10000_000110    1030 / 64 = 16 rem  6
///   xor             = 0b_11111_101110    highest set bit: 10  ->  level 10 / 6 = 1
/// ```
///
/// Level 0 only holds the 64-tick block that `now` is in (960..1024), and 1030 is in
/// the next one, so the timer waits in level 1, slot 16. When `now` reaches 1024 that
/// slot cascades and the timer drops to level 0, slot 6. Choosing by differing bits,
/// rather than by distance, is what lets a slot index mean one span of time only:
/// a level never wraps around, so no slot mixes "this lap" and "next lap".
pub(super) fn level_for(now: u64, deadline: u64) -> usize {
    // `| (SLOTS - 1)` so that equal values (xor = 0) give level 0, not bit "-1".
    let differing = (now ^ deadline) | (SLOTS as u64 - 1);
    let highest_bit = 63 - differing.leading_zeros();
    (highest_bit / SLOT_BITS) as usize
}

/// The slot of `deadline` within `level`: its 6-bit digit in base 64.
pub(super) fn slot_for(deadline: u64, level: usize) -> usize {
    ((deadline >> (SLOT_BITS * level as u32)) & (SLOTS as u64 - 1)) as usize
}

/// Where a timer goes when the wheel is at `now`.
pub(super) fn place_for(now: u64, deadline: u64) -> Place {
    if deadline < now {
        return Place::Overdue;
    }
    let level = level_for(now, deadline);
    if level >= LEVELS {
        return Place::Overflow;
    }
    Place::Wheel {
        level: level as u8,
        slot: slot_for(deadline, level) as u8,
    }
}

/// The first tick covered by `slot` of `level` while the wheel is at `now`.
///
/// Every timer of a level-`k` slot shares all its bits above level `k` with `now`
/// (that is how its level was chosen), so the start is `now`'s high bits, the slot
/// number as digit `k`, and zeros below.
pub(super) fn slot_start(now: u64, level: usize, slot: usize) -> u64 {
    let shift = SLOT_BITS * level as u32;
    let shared_high_bits = now & !((1u64 << (shift + SLOT_BITS)) - 1);
    shared_high_bits | ((slot as u64) << shift)
}

/// The tick at which the overflow must be walked so its timers with deadline
/// `earliest` (or later in the same block) enter the wheel: the start of their
/// 2^36-tick block, where they start sharing the high bits with `now`.
pub(super) fn overflow_entry_time(earliest: u64) -> u64 {
    (earliest >> WHEEL_BITS) << WHEEL_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_for_picks_highest_differing_bit() {
        // (now, deadline, expected level)
        let cases = [
            (0, 0, 0),
            (0, 63, 0),
            (0, 64, 1),
            (1000, 1030, 1), // 30 ticks ahead, but in the next 64-tick block
            (1000, 1023, 0),
            (0, (1 << 12) - 1, 1),
            (0, 1 << 12, 2),
            (0, (1 << 36) - 1, 5),
            (0, 1 << 36, 6), // beyond the top level: overflow
            (1 << 36, (1 << 36) + 5, 0),
            (0, u64::MAX, 10),
        ];
        for (now, deadline, expected) in cases {
            assert_eq!(
                level_for(now, deadline),
                expected,
                "now = {now}, deadline = {deadline}"
            );
        }
    }

    #[test]
    fn slot_for_is_the_base_64_digit() {
        let cases = [
            (0, 0, 0),
            (63, 0, 63),
            (64, 0, 0),
            (64, 1, 1),
            (1030, 1, 16),
            (1030, 0, 6),
            (3 << 30, 5, 3),
            (u64::MAX, 5, 63),
        ];
        for (deadline, level, expected) in cases {
            assert_eq!(
                slot_for(deadline, level),
                expected,
                "deadline = {deadline}, level = {level}"
            );
        }
    }

    #[test]
    fn slot_start_keeps_the_high_bits_of_now() {
        // (now, level, slot, expected first tick)
        let cases = [
            (0, 0, 5, 5),
            (1000, 0, 50, 960 + 50),
            (1000, 1, 16, 1024),
            (5000, 1, 10, 4096 + 640),
            ((7 << 36) + 3, 5, 2, (7 << 36) + (2 << 30)),
        ];
        for (now, level, slot, expected) in cases {
            assert_eq!(
                slot_start(now, level, slot),
                expected,
                "now = {now}, level = {level}, slot = {slot}"
            );
        }
    }

    #[test]
    fn place_for_sorts_past_wheel_and_overflow() {
        let cases = [
            (10, 9, Place::Overdue),
            (10, 10, Place::Wheel { level: 0, slot: 10 }),
            (1000, 1030, Place::Wheel { level: 1, slot: 16 }),
            (0, 1 << 36, Place::Overflow),
            (1 << 36, (1 << 36) + 64, Place::Wheel { level: 1, slot: 1 }),
        ];
        for (now, deadline, expected) in cases {
            assert_eq!(
                place_for(now, deadline),
                expected,
                "now = {now}, deadline = {deadline}"
            );
        }
    }

    #[test]
    fn overflow_enters_at_the_start_of_its_block() {
        let cases = [
            (1 << 36, 1 << 36),
            ((1 << 36) + 12345, 1 << 36),
            ((5 << 36) - 1, 4 << 36),
        ];
        for (deadline, expected) in cases {
            assert_eq!(
                overflow_entry_time(deadline),
                expected,
                "deadline = {deadline}"
            );
        }
    }
}
