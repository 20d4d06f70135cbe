//! `timeout` and `wait_for` look the runtime up when first polled, not when called
//! (asyncio's `asyncio.run(asyncio.wait_for(f, d))`), and a misuse names the
//! function the user called and the user's own line. On the virtual clock.

mod common;
use common::{counting_waker, poll_once, virtual_runtime};

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::time::{now, sleep};
use clearloop::{Builder, TimeoutError, timeout, wait_for};

/// A future that takes `secs` seconds of loop time, and builds its `sleep` only
/// when first polled (so it too can be built outside a runtime).
async fn takes(secs: u64) -> u64 {
    sleep(Duration::from_secs(secs)).await;
    secs
}

#[test]
fn run_of_a_wait_for_built_outside_the_runtime_times_out_on_the_virtual_clock() {
    let clock = Clock::virtual_clock();
    let runtime = Builder::new().clock(clock.clone()).build();
    // Built here, on a thread with no runtime: asyncio.run(asyncio.wait_for(...)).
    let cut_off = wait_for(takes(10), Duration::from_secs(2));
    let start = clock.now();
    let outcome = runtime.block_on(cut_off);
    assert_eq!(outcome.unwrap_err().duration(), Duration::from_secs(2));
    assert_eq!(clock.now() - start, Duration::from_secs(2), "exactly 2 s");
    assert_eq!(runtime.pending_timers(), 0, "no timer left behind");

    let in_time = timeout(Duration::from_secs(5), takes(3));
    let start = clock.now();
    assert_eq!(runtime.block_on(in_time), Ok(3));
    assert_eq!(clock.now() - start, Duration::from_secs(3));
}

#[test]
fn clearloop_run_accepts_a_wait_for_as_asyncio_run_does() {
    // `run` uses the real clock: a future ready at once needs no waiting at all.
    assert_eq!(
        clearloop::run(wait_for(async { 7 }, Duration::from_secs(1))),
        Ok(7)
    );
    assert_eq!(
        clearloop::run(timeout(Duration::from_secs(1), async { 8 })),
        Ok(8)
    );
}

#[test]
fn the_deadline_counts_from_the_first_poll_not_from_the_call() {
    virtual_runtime().block_on(async {
        let start = now();
        let built_early = wait_for(takes(3), Duration::from_secs(2));
        sleep(Duration::from_secs(5)).await; // longer than the whole timeout
        let outcome: Result<u64, TimeoutError> = built_early.await;
        assert!(outcome.is_err());
        // 5 s before the await, then the whole 2 s: as asyncio's coroutine counts.
        assert_eq!(now() - start, Duration::from_secs(7));

        let start = now();
        let built_early = timeout(Duration::from_secs(4), takes(3));
        sleep(Duration::from_secs(5)).await;
        assert_eq!(built_early.await, Ok(3), "3 s of work fits in 4 s");
        assert_eq!(now() - start, Duration::from_secs(8));
    });
}

/// Polls `future` once on this thread, which runs no runtime, and returns the
/// panic's message.
fn panic_message_when_polled_outside(future: impl Future) -> String {
    let (waker, _) = counting_waker();
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let future = pin!(future);
        let _ = poll_once(future, &waker);
    }))
    .expect_err("polling outside a runtime panics");
    clearloop::panics::message(&*payload)
}

#[test]
fn wait_for_polled_outside_a_runtime_names_wait_for_and_the_callers_line() {
    let line = line!() + 1;
    let future = wait_for(async { 1 }, Duration::from_secs(1)); // building it is fine
    let message = panic_message_when_polled_outside(future);
    assert!(message.contains("clearloop::wait_for()"), "{message}");
    assert!(
        !message.contains("timeout()"),
        "names the function called: {message}"
    );
    let at = format!("tests/timeout_lazy.rs:{line}:");
    assert!(message.contains(&at), "points at {at}: {message}");
    assert!(
        message.contains("clearloop::run"),
        "says how to fix it: {message}"
    );
}

#[test]
fn timeout_polled_outside_a_runtime_names_timeout_and_the_callers_line() {
    let line = line!() + 1;
    let future = timeout(Duration::from_secs(1), async { 1 });
    let message = panic_message_when_polled_outside(future);
    assert!(message.contains("clearloop::timeout()"), "{message}");
    let at = format!("tests/timeout_lazy.rs:{line}:");
    assert!(message.contains(&at), "points at {at}: {message}");
}
