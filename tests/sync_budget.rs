//! The cooperative budget in the sync primitives: an `acquire()` (and so a
//! `lock()`) out of budget yields once, and a permit already handed to it is not
//! lost meanwhile.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;

use clearloop::clock::Clock;
use clearloop::sync::{Mutex, Semaphore};
use clearloop::task::yield_now;
use clearloop::{Builder, spawn};

#[test]
fn a_permit_handed_to_a_waiter_out_of_budget_waits_for_its_next_poll() {
    // A budget of one ready resource per poll.
    let runtime = Builder::new()
        .clock(Clock::virtual_clock())
        .cooperative_budget(Some(1))
        .build();
    let sem = Arc::new(Semaphore::new(1));
    let spare = Arc::new(Semaphore::new(1)); // always free: it only spends the budget
    let (in_task, spare_in_task, outside) = (sem.clone(), spare.clone(), sem.clone());
    let answers = runtime.block_on(async move {
        let held = sem.acquire().await;
        let waiter = spawn(async move {
            let mut acquire = pin!(in_task.acquire());
            let mut answers = Vec::new();
            let permit = poll_fn(|cx| {
                if answers.len() == 1 {
                    // The poll after the hand-off: spend the budget first.
                    let spent = pin!(spare_in_task.acquire()).poll(cx);
                    assert!(spent.is_ready(), "the spare semaphore is free");
                }
                let polled = acquire.as_mut().poll(cx);
                answers.push(polled.is_ready());
                polled
            })
            .await;
            drop(permit);
            answers
        });
        yield_now().await; // the waiter queues behind `held`
        assert_eq!(sem.waiting(), 1);
        drop(held); // handed to the waiter, which is woken
        assert_eq!(sem.available_permits(), 0, "the permit is the waiter's now");
        waiter.await
    });
    // Queued; served but out of budget (Pending, the permit kept); then ready.
    assert_eq!(answers, [false, false, true]);
    assert_eq!(
        outside.available_permits(),
        1,
        "the permit came back: none lost"
    );
    assert_eq!(spare.available_permits(), 1);
}

#[test]
fn a_loop_of_uncontended_locks_yields_every_budget() {
    let runtime = Builder::new()
        .clock(Clock::virtual_clock())
        .cooperative_budget(Some(8))
        .build();
    let turns = runtime.block_on(async {
        let lock = Arc::new(Mutex::new(0u32));
        let in_hog = lock.clone();
        let hog = spawn(async move {
            for _ in 0..100 {
                *in_hog.lock().await += 1;
            }
        });
        // Each time main runs, the hog has yielded: count how often.
        let mut turns = 0;
        while !hog.done() {
            turns += 1;
            yield_now().await;
        }
        assert_eq!(*lock.lock().await, 100);
        turns
    });
    // 100 locks at 8 a poll: the hog gives the loop back 12 times before its end.
    assert!((12..=14).contains(&turns), "main ran {turns} times");
}
