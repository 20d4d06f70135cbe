//! `sched`: the queue's two halves (a sorted run for events entered in order, a heap
//! for the others), its slab of entries, and cancellation that leaves dead keys
//! behind. Each test checks the public behaviour those parts must keep.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::sched::{CancelError, EventState, Scheduler};

/// A scheduler on the virtual clock, and the log its actions write their number to.
fn scheduler_and_log() -> (Scheduler, Arc<Mutex<Vec<u64>>>) {
    (
        Scheduler::with_clock(Clock::virtual_clock()),
        Arc::new(Mutex::new(Vec::new())),
    )
}

fn enter_logged(s: &Scheduler, log: &Arc<Mutex<Vec<u64>>>, millis: u64, priority: i32, tag: u64) {
    let log = log.clone();
    s.enter(Duration::from_millis(millis), priority, move || {
        log.lock().unwrap().push(tag)
    });
}

/// Pseudo-random numbers without a dependency (a linear congruential generator).
fn numbers(count: usize) -> Vec<u64> {
    let mut x: u64 = 12345;
    (0..count)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        })
        .collect()
}

#[test]
fn events_entered_in_any_order_run_by_time_then_priority_then_sequence() {
    let (s, log) = scheduler_and_log();
    // Times in 0..50 ms, so that many share a time, and priorities in 0..3: some
    // events land in the sorted run, the others in the heap.
    let mut expected = Vec::new();
    for (sequence, n) in numbers(2_000).into_iter().enumerate() {
        let (millis, priority) = (n % 50, (n / 50 % 3) as i32);
        enter_logged(&s, &log, millis, priority, sequence as u64);
        expected.push((millis, priority, sequence as u64));
    }
    expected.sort();
    let in_order: Vec<u64> = expected.iter().map(|&(_, _, tag)| tag).collect();
    let queued: Vec<u64> = s.queue().iter().map(|e| e.sequence()).collect();
    assert_eq!(queued, in_order, "queue() lists the events in run order");
    s.run(true).unwrap();
    assert_eq!(*log.lock().unwrap(), in_order, "and run() runs them so");
}

#[test]
fn many_cancels_leave_the_rest_in_order_and_the_queue_empty_at_the_end() {
    let (s, log) = scheduler_and_log();
    let events: Vec<_> = (0..1_000)
        .map(|i| {
            let log = log.clone();
            // Decreasing times: every event after the first goes to the heap.
            s.enter(Duration::from_millis(1_000 - i), 1, move || {
                log.lock().unwrap().push(i)
            })
        })
        .collect();
    // Cancel nine events in ten: enough dead keys to make the queue compact itself.
    for (i, event) in events.iter().enumerate() {
        if i % 10 != 0 {
            assert_eq!(s.cancel(event), Ok(()));
        }
    }
    assert_eq!(s.queue().len(), 100);
    assert!(!s.empty());
    for (i, event) in events.iter().enumerate() {
        let expected = if i % 10 == 0 {
            EventState::Pending
        } else {
            EventState::Cancelled
        };
        assert_eq!(event.state(), expected, "event {i}");
    }
    s.run(true).unwrap();
    let kept: Vec<u64> = (0..1_000).rev().filter(|i| i % 10 == 0).collect();
    assert_eq!(
        *log.lock().unwrap(),
        kept,
        "the survivors ran, earliest time first"
    );
    assert!(s.empty());
}

#[test]
fn cancelling_everything_empties_the_queue() {
    let (s, log) = scheduler_and_log();
    let events: Vec<_> = (0..100)
        .map(|_| s.enter(Duration::ZERO, 1, || {}))
        .collect();
    for event in &events {
        s.cancel(event).unwrap();
    }
    assert!(s.empty(), "only dead keys are left, and they do not count");
    assert!(s.queue().is_empty());
    assert_eq!(
        s.run(false).unwrap(),
        None,
        "nothing runs, nothing is waited for"
    );
    assert!(log.lock().unwrap().is_empty());
}

#[test]
fn a_cancelled_event_stays_cancelled_when_its_place_is_reused() {
    let (s, log) = scheduler_and_log();
    let old = s.enter(Duration::from_secs(1), 1, || {});
    s.cancel(&old).unwrap();
    // The new event takes the place the cancelled one left in the slab.
    enter_logged(&s, &log, 2_000, 1, 7);
    let new = s.queue().pop().unwrap();
    assert_eq!(
        s.cancel(&old),
        Err(CancelError::AlreadyCancelled(old.clone())),
        "the old handle must not reach the new event"
    );
    assert_eq!(new.state(), EventState::Pending);
    s.run(true).unwrap();
    assert_eq!(*log.lock().unwrap(), [7]);
    assert_eq!(new.state(), EventState::Done);
}

#[test]
fn cancelling_the_head_makes_run_nonblocking_report_the_next_one() {
    let (s, log) = scheduler_and_log();
    let first = s.enter(Duration::from_secs(1), 1, || {});
    enter_logged(&s, &log, 3_000, 1, 3);
    assert_eq!(s.run(false).unwrap(), Some(Duration::from_secs(1)));
    s.cancel(&first).unwrap();
    assert_eq!(
        s.run(false).unwrap(),
        Some(Duration::from_secs(3)),
        "the dead head is skipped"
    );
}

/// Events share their state bytes 64 at a time (`event.rs`): each must still report
/// its own fate, on both sides of a page's edge, however the fates are mixed.
#[test]
fn every_event_keeps_its_own_state_across_the_pages_they_share() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    // 300 events: five pages, the last one partly used. Event i is cancelled when
    // i % 3 == 0, panics when i % 3 == 1, and returns otherwise.
    let events: Vec<_> = (0..300u64)
        .map(|i| {
            s.enter_named(Duration::from_millis(i), 1, "fate", i, |i| {
                assert!(i % 3 != 1, "event {i} panics");
            })
        })
        .collect();
    for event in events.iter().step_by(3) {
        s.cancel(event).unwrap();
    }
    let mut panics = 0;
    while let Err(error) = s.run(true) {
        assert_eq!(error.event().sequence() % 3, 1, "{error}");
        panics += 1;
    }
    assert_eq!(panics, 100);
    for (i, event) in events.iter().enumerate() {
        let expected = match i % 3 {
            0 => EventState::Cancelled,
            1 => EventState::Panicked,
            _ => EventState::Done,
        };
        assert_eq!(event.state(), expected, "event {i}: {event:?}");
        assert_eq!(event.sequence(), i as u64);
        assert_eq!(event.argument(), i.to_string());
    }
}

/// A handle owns what it needs to answer: it outlives its scheduler.
#[test]
fn an_event_outlives_its_scheduler_and_still_reports() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = s.enter(Duration::from_secs(2), 1, || {});
    let cancelled = s.enter_named(Duration::from_secs(3), 4, "later", ("x", 1), |_| {});
    s.cancel(&cancelled).unwrap();
    s.run(true).unwrap();
    drop(s);
    assert_eq!(ran.state(), EventState::Done);
    assert_eq!(
        format!("{cancelled:?}"),
        "Event(time=3.000, priority=4, sequence=1, action=later, argument=(\"x\", 1)) [Cancelled]"
    );
    assert_eq!(ran.clone(), ran, "a clone is the same event");
    assert_ne!(ran, cancelled);
}
