//! `sched`: which event runs when. Ordering, `enter` vs `enterabs`, `queue()`,
//! `run(false)`, and how an event displays. All on virtual clocks: exact and instant.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clearloop::clock::Clock;
use clearloop::sched::{EventState, Scheduler};
use proptest::prelude::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A shared list the actions append to.
#[derive(Clone, Default)]
struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T: Clone + Send + 'static> Log<T> {
    fn push(&self, value: T) {
        self.0.lock().unwrap().push(value);
    }
    fn get(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }
    /// An action that appends `value`.
    fn pusher(&self, value: T) -> impl FnOnce() + Send + 'static {
        let log = self.clone();
        move || log.push(value)
    }
}

#[test]
fn time_then_priority_then_sequence() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let log = Log::default();
    // (delay, priority, name), entered in a scrambled order.
    let plan = [
        (2, 1, "t2 p1 first"),
        (1, 5, "t1 p5"),
        (2, 0, "t2 p0"),
        (1, -3, "t1 p-3"),
        (2, 1, "t2 p1 second"),
        (0, 9, "t0 p9"),
    ];
    for (delay, priority, name) in plan {
        s.enter(secs(delay), priority, log.pusher(name));
    }
    s.run(true).unwrap();
    assert_eq!(
        log.get(),
        [
            "t0 p9",
            "t1 p-3",
            "t1 p5",
            "t2 p0",
            "t2 p1 first",
            "t2 p1 second"
        ]
    );
    assert_eq!(s.elapsed(), secs(2));
    assert!(s.empty());
}

#[test]
fn each_event_runs_at_its_own_time() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let log = Log::default();
    for delay in [5, 1, 3] {
        let (log, clock) = (log.clone(), s.clone());
        s.enter(secs(delay), 1, move || log.push((delay, clock.elapsed())));
    }
    s.run(true).unwrap();
    assert_eq!(log.get(), [(1, secs(1)), (3, secs(3)), (5, secs(5))]);
}

proptest! {
    /// Whatever the times and priorities, the run order is a stable sort by
    /// (time, priority): ties keep their entry order.
    #[test]
    fn run_order_is_a_stable_sort(plan in prop::collection::vec((0u64..4, -2i32..3), 0..40)) {
        let s = Scheduler::with_clock(Clock::virtual_clock());
        let log = Log::default();
        for (index, &(delay, priority)) in plan.iter().enumerate() {
            s.enter(secs(delay), priority, log.pusher(index));
        }
        s.run(true).unwrap();
        let mut expected: Vec<usize> = (0..plan.len()).collect();
        expected.sort_by_key(|&i| plan[i]); // sort_by_key is stable
        prop_assert_eq!(log.get(), expected);
    }
}

#[test]
fn enterabs_is_absolute_and_enter_is_relative_to_now() {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    let s = Scheduler::with_clock(clock.clone());
    let t0 = s.now();
    clock.advance(secs(5));
    let relative = s.enter(secs(2), 1, || {});
    let absolute = s.enterabs(t0 + secs(2), 1, || {});
    assert_eq!(relative.time(), t0 + secs(7));
    assert_eq!(absolute.time(), t0 + secs(2));
    // The absolute one is already past, so it is due now and comes first.
    assert_eq!(s.queue(), [absolute.clone(), relative.clone()]);
    assert_eq!(s.run(false).unwrap(), Some(secs(2)));
    assert_eq!(absolute.state(), EventState::Done);
    assert_eq!(relative.state(), EventState::Pending);
}

#[test]
fn queue_is_a_snapshot_in_run_order() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let c = s.enter(secs(3), 1, || {});
    let a = s.enter(secs(1), 1, || {});
    let b2 = s.enter(secs(2), 2, || {});
    let b1 = s.enter(secs(2), 1, || {});
    let snapshot = s.queue();
    assert_eq!(snapshot, [a.clone(), b1.clone(), b2.clone(), c.clone()]);

    // Changing the scheduler does not change the snapshot...
    s.cancel(&b2).unwrap();
    let d = s.enter(secs(0), 1, || {});
    assert_eq!(snapshot.len(), 4);
    assert_eq!(snapshot[2], b2);
    // ...but the events in it are live handles.
    assert_eq!(snapshot[2].state(), EventState::Cancelled);
    assert_eq!(s.queue(), [d, a, b1, c]);

    // Changing the snapshot does not change the scheduler.
    let mut mine = s.queue();
    mine.clear();
    assert_eq!(s.queue().len(), 4);
}

#[test]
fn run_nonblocking_runs_what_is_due_and_returns_the_delay() {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    let s = Scheduler::with_clock(clock.clone());
    let log = Log::default();
    assert_eq!(s.run(false).unwrap(), None, "empty queue");
    s.enter(secs(0), 1, log.pusher("now"));
    s.enter(secs(4), 1, log.pusher("at 4"));
    s.enter(secs(10), 1, log.pusher("at 10"));
    assert_eq!(s.run(false).unwrap(), Some(secs(4)));
    assert_eq!(log.get(), ["now"]);
    clock.advance(Duration::from_millis(1500));
    assert_eq!(s.run(false).unwrap(), Some(Duration::from_millis(2500)));
    clock.advance(secs(9));
    assert_eq!(s.run(false).unwrap(), None);
    assert_eq!(log.get(), ["now", "at 4", "at 10"]);
}

#[test]
fn run_nonblocking_never_moves_an_auto_advance_clock() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    s.enter(secs(60), 1, || {});
    assert_eq!(s.run(false).unwrap(), Some(secs(60)));
    assert_eq!(s.elapsed(), Duration::ZERO);
}

#[test]
fn events_display_like_cpython() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let named = s.enter_named(secs(3), 1, "addition", (10, 20), |(a, b)| {
        let _ = a + b;
    });
    assert_eq!(
        named.to_string(),
        "Event(time=3.000, priority=1, sequence=0, action=addition, argument=(10, 20))"
    );
    let one = s.enter_named(Duration::from_millis(1500), -2, "square", (5,), |(x,)| {
        let _ = x * x;
    });
    assert_eq!(
        one.to_string(),
        "Event(time=1.500, priority=-2, sequence=1, action=square, argument=(5,))"
    );
    let closure = s.enter(secs(1), 0, || {});
    assert_eq!(closure.argument(), "()");
    assert_eq!(
        closure.action(),
        "closure in events_display_like_cpython",
        "a closure is named after the function that wrote it"
    );
    assert_eq!(format!("{named:?}"), format!("{named} [Pending]"));
}

#[test]
fn named_events_hand_their_argument_to_the_action() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let log = Log::default();
    let l = log.clone();
    s.enter_named(secs(3), 1, "addition", (10, 20), move |(a, b)| {
        l.push(a + b)
    });
    s.run(true).unwrap();
    assert_eq!(log.get(), [30]);
}

#[test]
fn events_are_equal_only_to_themselves() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let a = s.enter(secs(1), 1, || {});
    let twin = s.enterabs(a.time(), 1, || {});
    assert_ne!(a, twin, "same time and priority, still two events");
    assert_eq!(a, a.clone());
    let other = Scheduler::with_clock(Clock::virtual_clock());
    let stranger = other.enter(secs(1), 1, || {});
    assert_eq!(stranger.sequence(), a.sequence());
    assert_ne!(a, stranger, "same sequence number, another scheduler");
}

#[test]
fn times_before_the_scheduler_was_created_still_run_in_time_order() {
    // The queue keys times as nanoseconds from the scheduler's creation: times
    // before it must sort below it, earliest first, and not collapse to one value.
    // On Windows std's `Instant::checked_duration_since` answers 0 for a time up to
    // one performance-counter tick (100 ns) *before* the other (its tolerance for
    // the counter's error): "1 ns before" must not be computed that way.
    let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    clock.advance(secs(100));
    let s = Scheduler::with_clock(clock.clone());
    let log = Log::default();
    let t0 = s.now();
    s.enterabs(t0, 0, log.pusher("at creation"));
    s.enterabs(t0 - secs(10), 5, log.pusher("10 s before"));
    s.enterabs(t0 - Duration::from_nanos(1), 9, log.pusher("1 ns before"));
    s.enterabs(t0 - secs(50), 9, log.pusher("50 s before"));
    let shown: Vec<_> = s.queue().iter().map(|e| e.since_start()).collect();
    assert_eq!(shown, [Duration::ZERO; 4], "display clamps the past to 0");
    s.run(true).unwrap();
    assert_eq!(
        log.get(),
        ["50 s before", "10 s before", "1 ns before", "at creation"]
    );
}
