//! Unit tests of the timer wheel, beside the module they test.

use super::*;

/// The wheel slot whose records hold `key`'s timer (searching, not computing).
fn place_of<T>(wheel: &TimerWheel<T>, key: TimerKey) -> Option<Place> {
    let found = |slot: &Slot| slot.timers.iter().any(|filed| filed.index == key.index);
    (0..LEVELS)
        .flat_map(|level| (0..SLOTS).map(move |slot| (level, slot)))
        .find(|&(level, slot)| found(&wheel.levels[level].slots[slot]))
        .map(|(level, slot)| Place::Wheel {
            level: level as u8,
            slot: slot as u8,
        })
}

#[test]
fn stale_records_never_outnumber_live_ones_in_a_long_slot() {
    let mut wheel = TimerWheel::new();
    let keys: Vec<_> = (0..1_000).map(|i| wheel.insert(5_000 + i, i)).collect();
    let slot = |wheel: &TimerWheel<u64>| {
        let slot = &wheel.levels[2].slots[1]; // 4096..8192
        (slot.timers.len(), slot.cancelled as usize)
    };
    for (i, key) in keys.iter().enumerate().take(900) {
        wheel.cancel(*key).unwrap();
        let (records, stale) = slot(&wheel);
        assert!(
            2 * stale <= records,
            "after {} cancels: {records} records, {stale} stale",
            i + 1
        );
    }
    assert!(slot(&wheel).0 <= 200, "compacted: {:?}", slot(&wheel));
    for key in &keys[900..] {
        wheel.cancel(*key).unwrap();
    }
    assert_eq!(slot(&wheel), (0, 0), "the last cancel empties the slot");
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn cascade_moves_a_timer_down_and_fires_it_on_time() {
    let mut wheel = TimerWheel::new();
    wheel.advance(1000, |_, _: ()| {});
    let key = wheel.insert(1030, ());
    let at = |wheel: &TimerWheel<()>| place_of(wheel, key);
    assert_eq!(at(&wheel), Some(Place::Wheel { level: 1, slot: 16 }));
    // The slot starts at 1024, but its bound says nothing is due before 1030.
    assert_eq!(wheel.next_expiration(), Some(1030));

    let mut fired = Vec::new();
    wheel.advance(1024, |deadline, ()| fired.push(deadline));
    assert!(fired.is_empty());
    assert_eq!(at(&wheel), Some(Place::Wheel { level: 0, slot: 6 }));
    assert_eq!(wheel.next_expiration(), Some(1030));

    wheel.advance(1029, |deadline, ()| fired.push(deadline));
    assert!(fired.is_empty());
    wheel.advance(1030, |deadline, ()| fired.push(deadline));
    assert_eq!(fired, [1030]);
}

#[test]
fn next_expiration_is_a_coarse_slot_s_earliest_deadline_not_its_start() {
    let mut wheel = TimerWheel::new();
    wheel.insert(100_007, "late"); // level 2, slot 24: starts at 98,304
    wheel.insert(100_003, "early"); // same slot
    assert_eq!(wheel.next_expiration(), Some(100_003));
    let mut fired = Vec::new();
    wheel.advance(100_003, |deadline, what| fired.push((deadline, what)));
    assert_eq!(fired, [(100_003, "early")]);
    assert_eq!(wheel.next_expiration(), Some(100_007));
}

#[test]
fn a_cancelled_bound_only_makes_the_wheel_wake_early() {
    let mut wheel = TimerWheel::new();
    let early = wheel.insert(100_003, ());
    wheel.insert(100_007, ());
    wheel.cancel(early).unwrap();
    // The slot's bound is not raised by the cancel: early, never late.
    assert_eq!(wheel.next_expiration(), Some(100_003));
    let mut fired = Vec::new();
    wheel.advance(100_003, |deadline, ()| fired.push(deadline));
    assert!(fired.is_empty());
    // The cascade refiled the other timer and dropped the stale record and bound.
    assert_eq!(wheel.next_expiration(), Some(100_007));
    wheel.advance(100_007, |deadline, ()| fired.push(deadline));
    assert_eq!(fired, [100_007]);
}

#[test]
fn a_lonely_timer_fires_from_its_coarse_slot_without_a_move() {
    let mut wheel = TimerWheel::new();
    let key = wheel.insert(3_000_000, "alone"); // level 3
    assert!(matches!(
        place_of(&wheel, key),
        Some(Place::Wheel { level: 3, .. })
    ));
    let mut fired = Vec::new();
    wheel.advance(3_000_000, |deadline, what| fired.push((deadline, what)));
    assert_eq!(fired, [(3_000_000, "alone")]);
    assert_eq!(wheel.moves(), 0, "not refiled level by level on the way");
}

#[test]
fn a_lonely_timer_not_yet_due_cascades_level_by_level() {
    let mut wheel = TimerWheel::new();
    let key = wheel.insert(3_000_000, ());
    // Time reaches the slot's start, not the deadline: no jump past `advance`'s
    // target, so the timer drops one level, as it must to keep the invariant.
    wheel.advance(2_883_584, |_, ()| {}); // level-3 slot 11 starts here
    assert_eq!(wheel.moves(), 1);
    assert!(matches!(
        place_of(&wheel, key),
        Some(Place::Wheel { level: 2, .. })
    ));
}

#[test]
fn a_cascade_fires_what_is_due_at_its_tick_in_insertion_order() {
    let mut wheel = TimerWheel::new();
    // Three timers at 4096, the first tick of level-2 slot 1, and one later.
    wheel.insert(4_096, "a");
    wheel.insert(5_000, "later");
    wheel.insert(4_096, "b");
    wheel.insert(4_096, "c");
    let mut fired = Vec::new();
    wheel.advance(4_096, |deadline, what| fired.push((deadline, what)));
    assert_eq!(fired, [(4_096, "a"), (4_096, "b"), (4_096, "c")]);
    assert_eq!(wheel.moves(), 1, "only \"later\" was refiled");
}

#[test]
fn a_cancelled_entry_is_held_until_its_record_goes() {
    let mut wheel = TimerWheel::new();
    let first = wheel.insert(5_000, 1); // entry 0, level-2 slot 1
    wheel.insert(5_001, 2); // entry 1, same slot: keeps it from emptying
    wheel.cancel(first).unwrap();
    // Entry 0 is vacant, but a stale record still names it: not reused.
    let third = wheel.insert(9_000, 3);
    assert_eq!(third.index, 2);
    // The cascade at 4096 drops the stale record and frees entry 0.
    wheel.advance(4_096, |_, _| {});
    let fourth = wheel.insert(9_001, 4);
    assert_eq!(fourth.index, 0);
    assert_eq!(
        wheel.cancel(first),
        None,
        "the old key does not reach the new timer"
    );
    assert_eq!(wheel.deadline(fourth), Some(9_001));
}

#[test]
fn a_record_is_16_bytes_and_an_entry_holding_a_waker_32() {
    // The sizes the module documentation's measurements rest on.
    assert_eq!(std::mem::size_of::<level::Filed>(), 16);
    assert_eq!(std::mem::size_of::<slab::Entry<std::task::Waker>>(), 32);
}
