//! The cooperative budget (issue 14, weakness 1): a task that awaits only ready
//! resources yields to the loop every `budget` of them, so a sleeper on the same
//! single-threaded loop wakes nearly on time.
//!
//! The clock is manual, and the hog moves it: each of its operations "takes" 1 µs.
//! So virtual time passes while the hog runs (an auto-advance clock would stand still
//! while any task is busy), and the sleeper's wake-up time measures how long the hog
//! kept the loop.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use clearloop::clock::Clock;
use clearloop::time::{now, sleep};
use clearloop::{Builder, spawn};

/// A resource that is always ready at once, like an uncontended lock: it takes part
/// in the budget, as every resource of clearloop does.
struct AlwaysReady;

impl Future for AlwaysReady {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        clearloop::task::coop::poll_budget(cx)
    }
}

const OPERATIONS: u32 = 10_000;
const EACH: Duration = Duration::from_micros(1);

/// When a 1 ms sleeper woke, after the start, with a hog doing `OPERATIONS` ready
/// operations of 1 µs each on the same loop.
fn sleeper_wakes_after(budget: Option<u32>) -> Duration {
    let runtime = Builder::new()
        .clock(Clock::manual(SystemTime::UNIX_EPOCH))
        .cooperative_budget(budget)
        .build();
    let clock = runtime.clock().clone();
    runtime.block_on(async move {
        let start = now();
        let sleeper = spawn(async move {
            sleep(Duration::from_millis(1)).await;
            now() - start
        });
        let hog = spawn(async move {
            for _ in 0..OPERATIONS {
                AlwaysReady.await;
                clock.advance(EACH);
            }
        });
        let woke = sleeper.await;
        hog.await;
        woke
    })
}

#[test]
fn with_the_budget_a_sleeper_is_late_by_at_most_two_budgets_of_work() {
    let woke = sleeper_wakes_after(Some(128));
    assert!(woke >= Duration::from_millis(1), "never early: {woke:?}");
    // The turn its timer is seen due, the hog (queued first) spends one more
    // budget before the sleeper runs: late by at most two budgets of 1 µs each.
    assert!(
        woke <= Duration::from_millis(1) + 2 * 128 * EACH,
        "woke at {woke:?}"
    );
}

#[test]
fn without_the_budget_the_hog_holds_the_loop_to_its_end() {
    // asyncio's behaviour: the sleeper waits for the whole 10 ms of the hog.
    let woke = sleeper_wakes_after(None);
    assert_eq!(woke, OPERATIONS * EACH);
}

#[test]
fn a_smaller_budget_means_a_smaller_delay() {
    let woke = sleeper_wakes_after(Some(16));
    assert!(
        woke <= Duration::from_millis(1) + 2 * 16 * EACH,
        "woke at {woke:?}"
    );
}

#[test]
#[should_panic(expected = "cooperative_budget(Some(0))")]
fn a_zero_budget_is_refused() {
    let _ = Builder::new().cooperative_budget(Some(0));
}

#[test]
fn a_future_that_spends_its_whole_budget_on_every_poll_still_times_out() {
    // The timeout's timer is looked at after the future it guards: if that future
    // spent the budget, the timer must still be seen (it used to answer `Pending`
    // for want of budget, for ever). A thread and a channel only turn such a hang
    // into a failure; the timeout itself runs on the virtual clock.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = Builder::new().clock(Clock::virtual_clock()).build();
        let outcome = runtime.block_on(clearloop::timeout(Duration::ZERO, async {
            loop {
                clearloop::task::coop::consume_budget().await;
            }
        }));
        done.send(outcome.is_err()).unwrap();
    });
    let timed_out = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("the timeout never fired: its timer was starved of budget");
    assert!(timed_out);
}
