//! The timer wheel checked against the simplest correct timer queue: a sorted map
//! from `(deadline, insertion number)` to value, like asyncio's heap without the
//! laziness. proptest drives both with random operations and compares every answer.

use std::collections::BTreeMap;

use clearloop::wheel::{TimerKey, TimerWheel};
use proptest::prelude::*;

/// The reference: what a timer queue must do, with none of the cleverness.
#[derive(Default)]
struct Model {
    now: u64,
    /// (deadline, insertion number) -> value; the map's order is the firing order.
    pending: BTreeMap<(u64, u64), u64>,
    inserted: u64,
}

impl Model {
    fn insert(&mut self, deadline: u64, value: u64) -> (u64, u64) {
        let id = (deadline, self.inserted);
        self.inserted += 1;
        self.pending.insert(id, value);
        id
    }

    fn advance(&mut self, now: u64) -> Vec<(u64, u64)> {
        if now < self.now {
            return Vec::new();
        }
        self.now = now;
        let later = self.pending.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.pending, later);
        due.into_iter().map(|((d, _), v)| (d, v)).collect()
    }

    fn earliest(&self) -> Option<u64> {
        self.pending.keys().next().map(|&(deadline, _)| deadline)
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Deadline = now + offset (saturating).
    InsertAhead(u64),
    /// Deadline = now - offset (saturating): already due.
    InsertPast(u64),
    /// A fixed deadline, e.g. near u64::MAX.
    InsertAt(u64),
    /// Cancel the n-th key ever handed out (modulo), live or stale.
    Cancel(usize),
    /// Replace the value of the n-th key ever handed out.
    GetMut(usize),
    /// Advance by this many ticks (saturating).
    AdvanceBy(u64),
    /// Advance to `next_expiration()`, or to `now` if that is earlier.
    AdvanceToNext,
    /// Advance to a tick before now: must do nothing.
    AdvanceBack(u64),
}

fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..4,                    // same and next ticks, equal deadlines
        0u64..200,                  // level 0 and 1
        0u64..(1 << 20),            // middle levels
        0u64..(1 << 37),            // top level and just beyond
        (1u64 << 36)..(1u64 << 44), // overflow
        Just((1u64 << 36) - 1),     // the last tick in range
        Just(1u64 << 36),           // the first tick beyond
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => offset().prop_map(Op::InsertAhead),
        1 => (0u64..100).prop_map(Op::InsertPast),
        1 => prop_oneof![Just(u64::MAX), Just(u64::MAX - 1), (u64::MAX - 5000)..]
            .prop_map(Op::InsertAt),
        3 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::GetMut),
        3 => offset().prop_map(Op::AdvanceBy),
        2 => Just(Op::AdvanceToNext),
        1 => (1u64..1000).prop_map(Op::AdvanceBack),
    ]
}

fn advance(wheel: &mut TimerWheel<u64>, to: u64) -> Vec<(u64, u64)> {
    let mut fired = Vec::new();
    wheel.advance(to, |deadline, value| fired.push((deadline, value)));
    fired
}

fn check_invariants(wheel: &TimerWheel<u64>, model: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(wheel.len(), model.pending.len());
    prop_assert_eq!(wheel.is_empty(), model.pending.is_empty());
    prop_assert_eq!(wheel.now(), model.now);
    let next = wheel.next_expiration();
    prop_assert_eq!(next.is_some(), model.earliest().is_some());
    if let (Some(next), Some(earliest)) = (next, model.earliest()) {
        prop_assert!(
            next <= earliest,
            "next_expiration {} is after the earliest deadline {}",
            next,
            earliest
        );
        // Advancing to it must do something: fire a timer, or at least move the next
        // expiration later (a cascade or an overflow walk). Tried on a copy.
        let mut copy = wheel.clone();
        let target = next.max(copy.now());
        let fired = advance(&mut copy, target);
        let moved_on = copy.next_expiration().is_none_or(|after| after > target);
        prop_assert!(
            !fired.is_empty() || moved_on,
            "advance({}) made no progress (now {})",
            target,
            wheel.now()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn wheel_behaves_like_a_sorted_map(ops in prop::collection::vec(op(), 1..120)) {
        let mut wheel = TimerWheel::new();
        let mut model = Model::default();
        // Every key ever handed out, with its id in the model (stale ones stay).
        let mut keys: Vec<(TimerKey, (u64, u64))> = Vec::new();
        let mut next_value = 0u64;

        for op in ops {
            match op {
                Op::InsertAhead(_) | Op::InsertPast(_) | Op::InsertAt(_) => {
                    let deadline = match op {
                        Op::InsertAhead(by) => model.now.saturating_add(by),
                        Op::InsertPast(by) => model.now.saturating_sub(by),
                        Op::InsertAt(at) => at,
                        _ => unreachable!(),
                    };
                    next_value += 1;
                    let key = wheel.insert(deadline, next_value);
                    let id = model.insert(deadline, next_value);
                    prop_assert_eq!(wheel.deadline(key), Some(deadline));
                    keys.push((key, id));
                }
                Op::Cancel(n) if !keys.is_empty() => {
                    let (key, id) = keys[n % keys.len()];
                    let expected = model.pending.remove(&id);
                    prop_assert_eq!(wheel.cancel(key), expected);
                    prop_assert_eq!(wheel.deadline(key), None);
                }
                Op::GetMut(n) if !keys.is_empty() => {
                    let (key, id) = keys[n % keys.len()];
                    next_value += 1;
                    match (wheel.get_mut(key), model.pending.get_mut(&id)) {
                        (Some(in_wheel), Some(in_model)) => {
                            prop_assert_eq!(*in_wheel, *in_model);
                            *in_wheel = next_value;
                            *in_model = next_value;
                        }
                        (None, None) => {}
                        (in_wheel, in_model) => prop_assert!(
                            false,
                            "get_mut: wheel {:?}, model {:?}",
                            in_wheel.map(|v| *v),
                            in_model.map(|v| *v)
                        ),
                    }
                    prop_assert_eq!(wheel.deadline(key), model.pending.get(&id).map(|_| id.0));
                }
                Op::Cancel(_) | Op::GetMut(_) => {}
                Op::AdvanceBy(by) => {
                    let to = model.now.saturating_add(by);
                    prop_assert_eq!(advance(&mut wheel, to), model.advance(to));
                }
                Op::AdvanceToNext => {
                    let to = wheel.next_expiration().unwrap_or(0).max(model.now);
                    prop_assert_eq!(advance(&mut wheel, to), model.advance(to));
                }
                Op::AdvanceBack(by) => {
                    let to = model.now.saturating_sub(by);
                    if to < model.now {
                        prop_assert_eq!(advance(&mut wheel, to), Vec::new());
                    }
                }
            }
            check_invariants(&wheel, &model)?;
        }

        // Drain: everything left fires, in order, at the end of time.
        prop_assert_eq!(advance(&mut wheel, u64::MAX), model.advance(u64::MAX));
        prop_assert!(wheel.is_empty());
        prop_assert_eq!(wheel.next_expiration(), None);
    }
}

#[test]
fn equal_deadlines_fire_in_insertion_order() {
    let mut wheel = TimerWheel::new();
    // Some inserted far out (they cascade through several levels), some inserted
    // once the deadline is near: all must come out in insertion order.
    for value in 0..5 {
        wheel.insert(1_000_000, value);
    }
    wheel.advance(999_990, |_, _| panic!("nothing is due yet"));
    for value in 5..10 {
        wheel.insert(1_000_000, value);
    }
    let mut fired = Vec::new();
    wheel.advance(2_000_000, |deadline, value| fired.push((deadline, value)));
    let expected: Vec<_> = (0..10).map(|value| (1_000_000, value)).collect();
    assert_eq!(fired, expected);
}

#[test]
fn past_deadlines_fire_first_in_deadline_order() {
    let mut wheel = TimerWheel::new();
    wheel.advance(100, |_, _: &str| {});
    wheel.insert(100, "now");
    wheel.insert(40, "forty");
    wheel.insert(7, "seven");
    wheel.insert(40, "forty again");
    assert_eq!(wheel.next_expiration(), Some(7));
    let mut fired = Vec::new();
    // Advancing to the current tick is enough to fire them.
    wheel.advance(100, |deadline, what| fired.push((deadline, what)));
    assert_eq!(
        fired,
        [
            (7, "seven"),
            (40, "forty"),
            (40, "forty again"),
            (100, "now")
        ]
    );
    assert!(wheel.is_empty());
}

#[test]
fn cancel_after_fire_returns_none() {
    let mut wheel = TimerWheel::new();
    let key = wheel.insert(5, 'a');
    let _other = wheel.insert(50, 'b');
    let mut fired = Vec::new();
    wheel.advance(10, |_, value| fired.push(value));
    assert_eq!(fired, ['a']);
    assert_eq!(wheel.cancel(key), None);
    assert_eq!(wheel.get_mut(key), None);
    assert_eq!(wheel.deadline(key), None);
    assert_eq!(wheel.len(), 1);
}

#[test]
fn cancel_twice_returns_none_the_second_time() {
    let mut wheel = TimerWheel::new();
    let key = wheel.insert(5, 'a');
    let _keep = wheel.insert(6, 'b');
    assert_eq!(wheel.cancel(key), Some('a'));
    assert_eq!(wheel.cancel(key), None);
    assert_eq!(wheel.len(), 1);
}

#[test]
fn stale_key_does_not_touch_the_timer_that_reuses_its_slot() {
    let mut wheel = TimerWheel::new();
    let _keep = wheel.insert(1_000, "keeps the slab from being reset");
    let old = wheel.insert(20, "old");
    assert_eq!(wheel.cancel(old), Some("old"));
    // The freed entry is the first reused, so `new` sits where `old` was.
    let new = wheel.insert(20, "new");
    assert_ne!(old, new);
    assert_eq!(wheel.cancel(old), None);
    assert_eq!(wheel.get_mut(old), None);
    assert_eq!(wheel.deadline(old), None);
    assert_eq!(wheel.deadline(new), Some(20));
    assert_eq!(wheel.cancel(new), Some("new"));
}

#[test]
fn stale_key_stays_stale_after_the_wheel_empties() {
    let mut wheel = TimerWheel::new();
    let old = wheel.insert(20, 1);
    assert_eq!(wheel.cancel(old), Some(1));
    // The slab was reset; the next timer takes index 0 again.
    let new = wheel.insert(20, 2);
    assert_eq!(wheel.cancel(old), None);
    assert_eq!(wheel.get_mut(new).copied(), Some(2));
}

#[test]
fn get_mut_replaces_the_value_that_fires() {
    let mut wheel = TimerWheel::new();
    let key = wheel.insert(3, String::from("first waker"));
    *wheel.get_mut(key).unwrap() = String::from("newer waker");
    let mut fired = Vec::new();
    wheel.advance(3, |_, value| fired.push(value));
    assert_eq!(fired, ["newer waker"]);
}

#[test]
fn a_million_timers_inserted_then_cancelled_give_their_memory_back() {
    let mut wheel = TimerWheel::new();
    let keys: Vec<TimerKey> = (0..1_000_000u64)
        .map(|i| wheel.insert(i * 7919 % (1 << 40), i))
        .collect();
    assert_eq!(wheel.len(), 1_000_000);
    assert!(wheel.capacity() >= 1_000_000);
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(wheel.cancel(*key), Some(i as u64));
    }
    assert_eq!(wheel.len(), 0);
    assert!(wheel.is_empty());
    assert_eq!(wheel.next_expiration(), None);
    assert!(
        wheel.capacity() <= 1024,
        "capacity {} after emptying",
        wheel.capacity()
    );
}

#[test]
fn overflow_timer_fires_at_exactly_its_deadline() {
    let deadline = (3 << 36) + 12_345; // three top-level spans away
    let mut wheel = TimerWheel::new();
    let key = wheel.insert(deadline, "far");
    wheel.insert(10, "near");
    assert_eq!(wheel.deadline(key), Some(deadline));

    let mut fired = Vec::new();
    let mut steps = 0;
    // Follow next_expiration like a runtime would; each step must be in the future
    // and the far timer must come out at its own tick, not at a slot boundary.
    while let Some(next) = wheel.next_expiration() {
        assert!(
            next <= deadline,
            "next_expiration {next} overshot {deadline}"
        );
        wheel.advance(next, |at, what| fired.push((at, what, next)));
        steps += 1;
        assert!(steps < 100, "too many steps to reach {deadline}");
    }
    assert_eq!(fired, [(10, "near", 10), (deadline, "far", deadline)]);
    assert_eq!(wheel.now(), deadline);
}

#[test]
fn overflow_timer_does_not_fire_one_tick_early() {
    let deadline = (1 << 36) + 100;
    let mut wheel = TimerWheel::new();
    wheel.insert(deadline, ());
    let mut count = 0;
    wheel.advance(deadline - 1, |_, ()| count += 1);
    assert_eq!(count, 0);
    wheel.advance(deadline, |_, ()| count += 1);
    assert_eq!(count, 1);
}

#[test]
fn advancing_far_with_an_empty_wheel_is_immediate() {
    let mut wheel: TimerWheel<()> = TimerWheel::new();
    wheel.advance(u64::MAX - 1, |_, ()| unreachable!());
    assert_eq!(wheel.now(), u64::MAX - 1);
    let key = wheel.insert(u64::MAX, ());
    let mut fired = Vec::new();
    wheel.advance(u64::MAX, |deadline, ()| fired.push(deadline));
    assert_eq!(fired, [u64::MAX]);
    assert_eq!(wheel.cancel(key), None);
}

#[test]
fn advancing_backwards_does_nothing() {
    let mut wheel = TimerWheel::new();
    wheel.advance(500, |_, _: u8| {});
    wheel.insert(400, 1); // already due
    wheel.advance(499, |_, _| panic!("time does not go back"));
    assert_eq!(wheel.now(), 500);
    assert_eq!(wheel.len(), 1);
}

#[test]
fn moves_counts_each_level_a_timer_passes_through() {
    let mut wheel = TimerWheel::new();
    // 64^3 + 64^2 + 64 + 1 ticks ahead: filed in level 3, then refiled in levels 2,
    // 1 and 0 as time reaches each coarse slot: three moves before it fires.
    let far = 262_144 + 4_096 + 64 + 1;
    wheel.insert(far, 1);
    // Due in level 0 from the start: fires where it was filed.
    wheel.insert(7, 2);
    let mut fired = Vec::new();
    wheel.advance(far - 1, |deadline, value| fired.push((deadline, value)));
    assert_eq!(fired, [(7, 2)]);
    assert_eq!(wheel.moves(), 3, "levels 3 -> 2 -> 1 -> 0");
    wheel.advance(far, |deadline, value| fired.push((deadline, value)));
    assert_eq!(fired, [(7, 2), (far, 1)]);
    assert_eq!(wheel.moves(), 3, "firing is not a move");
}

#[test]
fn a_cancelled_timer_makes_no_more_moves() {
    let mut wheel = TimerWheel::new();
    let key = wheel.insert(262_144 + 4_096 + 64 + 1, ());
    wheel.advance(262_144, |_, _| {}); // level 3 -> level 2
    assert_eq!(wheel.moves(), 1);
    wheel.cancel(key).unwrap();
    wheel.advance(1 << 20, |_, _| {});
    assert_eq!(wheel.moves(), 1);
}

#[test]
fn a_cascade_moves_only_the_live_timers_of_a_slot() {
    let mut wheel = TimerWheel::new();
    // Three timers in one level-2 slot (4096..8192); the middle one is cancelled and
    // leaves a stale record there, which the cascade must drop, not refile.
    let first = wheel.insert(5_000, "first");
    let gone = wheel.insert(5_001, "gone");
    let last = wheel.insert(5_002, "last");
    assert_eq!(wheel.cancel(gone), Some("gone"));
    let mut fired = Vec::new();
    wheel.advance(4_096, |deadline, value| fired.push((deadline, value)));
    assert_eq!(
        wheel.moves(),
        2,
        "first and last move to level 1, not the cancelled one"
    );
    wheel.advance(6_000, |deadline, value| fired.push((deadline, value)));
    assert_eq!(fired, [(5_000, "first"), (5_002, "last")]);
    assert_eq!(wheel.moves(), 4, "and then to level 0");
    assert_eq!((wheel.cancel(first), wheel.cancel(last)), (None, None));
}

#[test]
fn a_cancelled_timer_does_not_fire_the_timer_that_reuses_its_entry() {
    let mut wheel = TimerWheel::new();
    let _keep = wheel.insert(90_000, "keeps the slab from being reset");
    // Same slot, same deadline: the stale record of `old` and the live one of `new`
    // sit side by side and name the same slab entry; only the stamp tells them apart.
    let old = wheel.insert(5_000, "old");
    assert_eq!(wheel.cancel(old), Some("old"));
    let new = wheel.insert(5_000, "new");
    let mut fired = Vec::new();
    wheel.advance(5_000, |deadline, value| fired.push((deadline, value)));
    assert_eq!(fired, [(5_000, "new")], "fires once, as itself");
    assert_eq!(wheel.cancel(new), None);
    assert_eq!(wheel.len(), 1);
}

#[test]
fn cancelling_most_of_a_crowded_slot_keeps_the_rest_in_order() {
    let mut wheel = TimerWheel::new();
    // 1,000 timers in one level-2 slot; cancel all but every tenth, which compacts
    // the slot several times on the way (stale records outnumber live ones).
    let keys: Vec<_> = (0..1_000u64)
        .map(|i| wheel.insert(5_000 + i % 7, i))
        .collect();
    for (i, key) in keys.iter().enumerate() {
        if i % 10 != 0 {
            assert_eq!(wheel.cancel(*key), Some(i as u64));
        }
    }
    assert_eq!(wheel.len(), 100);
    let mut fired = Vec::new();
    wheel.advance(10_000, |deadline, value| fired.push((deadline, value)));
    let mut expected: Vec<_> = (0..1_000u64)
        .filter(|i| i % 10 == 0)
        .map(|i| (5_000 + i % 7, i))
        .collect();
    expected.sort_by_key(|&(deadline, _)| deadline); // stable: insertion order kept
    assert_eq!(fired, expected);
    assert_eq!(
        wheel.moves(),
        200,
        "100 live timers, two moves each; no stale one moved"
    );
}

proptest! {
    /// Whatever the deadlines, a timer moves at most once per level below the one
    /// it was filed in, plus once out of the overflow: never more than six times.
    #[test]
    fn no_timer_moves_more_than_six_times(deadlines in prop::collection::vec(0u64..1 << 40, 1..200)) {
        let mut wheel = TimerWheel::new();
        for (i, deadline) in deadlines.iter().enumerate() {
            wheel.insert(*deadline, i);
        }
        let mut fired = 0;
        wheel.advance(1 << 40, |_, _| fired += 1);
        prop_assert_eq!(fired, deadlines.len());
        prop_assert!(wheel.moves() <= 6 * deadlines.len() as u64);
    }
}

/// Release-mode timing, not a pass/fail test:
/// `cargo test --release --test wheel_model -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release mode with --nocapture"]
fn timing_insert_and_cancel() {
    use std::time::Instant;
    const N: u64 = 1_000_000;
    let mut wheel = TimerWheel::new();
    // Deadlines spread over every level, like sleeps of 1 µs to 19 h.
    let deadline = |i: u64| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 28) % (1 << 36);

    let start = Instant::now();
    let keys: Vec<TimerKey> = (0..N).map(|i| wheel.insert(deadline(i), i)).collect();
    let insert = start.elapsed();
    let start = Instant::now();
    for key in &keys {
        std::hint::black_box(wheel.cancel(*key));
    }
    let cancel = start.elapsed();

    // Steady state: a few thousand live timers, each insert followed by a cancel
    // (a timeout that did not fire), with the slab already grown.
    let _live: Vec<TimerKey> = (0..4096).map(|i| wheel.insert(deadline(i), i)).collect();
    let start = Instant::now();
    for i in 0..N {
        let key = wheel.insert(deadline(i), i);
        std::hint::black_box(wheel.cancel(key));
    }
    let pair = start.elapsed();

    // Firing: a million timers spread over 2^20 ticks, drained by one advance.
    let mut wheel = TimerWheel::new();
    for i in 0..N {
        wheel.insert(deadline(i) % (1 << 20), i);
    }
    let start = Instant::now();
    let mut fired = 0u64;
    wheel.advance(1 << 20, |_, _| fired += 1);
    let fire = start.elapsed();
    assert_eq!(fired, N);

    let per = |d: std::time::Duration| d.as_nanos() as f64 / N as f64;
    println!("insert (1M, slab growing): {:6.1} ns/op", per(insert));
    println!("cancel (1M, spread):       {:6.1} ns/op", per(cancel));
    println!("insert+cancel pair (hot):  {:6.1} ns/op", per(pair));
    println!("fire via advance (1M):     {:6.1} ns/op", per(fire));
}
