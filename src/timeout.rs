//! Timeouts: give a future a deadline, and drop it when the deadline passes.
//!
//! `await asyncio.wait_for(fetch(), timeout=2)` runs `fetch()` and, if it is not done
//! after 2 seconds, cancels it and raises `TimeoutError`. Here:
//!
//! ```text
//!   wait_for(fetch(), 2 s)           builds the future: no runtime needed yet
//!   .await, first poll               finds the runtime; deadline = its now + 2 s
//!       poll fetch ──Ready(v)──────────────────────────> Ok(v)   (the timer is dropped: none left behind)
//!            └─Pending: arm a timer for the deadline
//!       ... timer fires first ──> drop fetch (its Drop runs) ──> Err(TimeoutError)
//! ```
//!
//! [`timeout`] (tokio's and asyncio 3.11's argument order) and [`wait_for`]
//! (asyncio's) are the same thing. Calling them does nothing yet: the future they
//! return looks up the runtime, reads its clock and fixes the deadline when it is
//! first polled, as asyncio's `wait_for` coroutine starts counting when it starts
//! running. So `clearloop::run(wait_for(f, d))` works as
//! `asyncio.run(asyncio.wait_for(f, d))` does, and a `wait_for` built early and
//! awaited later still gives its future the whole `d` (tokio's `timeout` fixes its
//! deadline at the call instead). The timer is only created if the future is not
//! ready at its first poll, so a future that finishes at once costs no timer at all.
//!
//! Cancellation is drop: a plain future is dropped on timeout, which cancels it.
//! A [`Task`](crate::Task) handle given to `wait_for` is awaited, so dropping it at
//! the deadline cancels the task too, as asyncio's `wait_for(task, t)` does
//! (cancellation follows the await: see [`task`](crate::task)). To give up waiting
//! but let the task run on, pass [`shield`](crate::task::shield)`(task)`, or wait on
//! [`task.wait()`](crate::Task::wait) and decide afterwards, as
//! `examples/timeout.rs` does.
//!
//! ```
//! use std::time::Duration;
//! use clearloop::{Builder, clock::Clock, time::sleep, wait_for};
//!
//! let slow = async {
//!     sleep(Duration::from_secs(10)).await;
//!     "too late"
//! };
//! // Built outside the runtime, awaited by it: asyncio.run(asyncio.wait_for(slow(), 2)).
//! let runtime = Builder::new().clock(Clock::virtual_clock()).build();
//! let outcome = runtime.block_on(wait_for(slow, Duration::from_secs(2)));
//! assert_eq!(outcome.unwrap_err().duration(), Duration::from_secs(2));
//! ```

use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::Location;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use crate::runtime::current_scheduler;
use crate::time::Sleep;

/// Runs `future` with a deadline `duration` after its first poll: `Ok(output)` if it
/// finishes in time, `Err(TimeoutError)` (and the future dropped) if not.
///
/// # Panics
///
/// When the returned future is polled outside a running clearloop runtime. The
/// message names `timeout()` and the line that called it.
#[track_caller]
pub fn timeout<F: Future>(
    duration: Duration,
    future: F,
) -> impl Future<Output = Result<F::Output, TimeoutError>> {
    with_deadline("clearloop::timeout()", Location::caller(), duration, future)
}

/// asyncio's `wait_for(future, timeout)`: [`timeout`] with asyncio's argument order.
///
/// # Panics
///
/// When the returned future is polled outside a running clearloop runtime. The
/// message names `wait_for()` and the line that called it.
#[track_caller]
pub fn wait_for<F: Future>(
    future: F,
    duration: Duration,
) -> impl Future<Output = Result<F::Output, TimeoutError>> {
    with_deadline(
        "clearloop::wait_for()",
        Location::caller(),
        duration,
        future,
    )
}

/// The future behind [`timeout`] and [`wait_for`]: an `async fn`, so nothing runs
/// before the first poll. `called` is the function the user called and `at` the line
/// they called it from: both only serve the panic message, since the runtime is
/// looked up at the first poll, far from the call.
async fn with_deadline<F: Future>(
    called: &'static str,
    at: &'static Location<'static>,
    duration: Duration,
    future: F,
) -> Result<F::Output, TimeoutError> {
    // The first poll: find the runtime polling us, and start counting now.
    let scheduler = current_scheduler(called).unwrap_or_else(|_| {
        panic!(
            "{called} (called at {at}) was polled outside a clearloop runtime; \
             await it inside clearloop::run(async {{ ... }}), or pass it to \
             clearloop::run() or Runtime::block_on()"
        )
    });
    let deadline = scheduler.clock.now().checked_add(duration);
    // Pinned inside this async fn's own state: no allocation, no unsafe.
    let mut future = pin!(future);
    let mut sleep: Option<Sleep> = None;
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let Some(deadline) = deadline else {
            return Poll::Pending; // a timeout too far away to represent: never
        };
        // The timer is created only now: a future ready at once costs none.
        let sleep = sleep.get_or_insert_with(|| Sleep::new(scheduler.clone(), deadline));
        // Looked at whatever budget the future left: a future that spends it all on
        // every poll must still time out (tokio polls its delay the same way).
        match crate::task::coop::unconstrained(|| Pin::new(sleep).poll(cx)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                if crate::trace::enabled() {
                    // The trace ends the task's row "timed out", not "done", if
                    // it returns in this poll.
                    crate::trace::hooks::timed_out(duration);
                }
                Poll::Ready(Err(TimeoutError { after: duration }))
            }
        }
    })
    .await
    // Returning drops `future` (cancelled if it timed out) and `sleep` (its timer
    // leaves the wheel): nothing is left behind either way.
}

/// The future did not finish in time (asyncio's `TimeoutError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutError {
    after: Duration,
}

impl TimeoutError {
    /// The time the future was given.
    pub fn duration(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:.3} s: the future was cancelled (dropped)",
            self.after.as_secs_f64()
        )
    }
}

impl std::error::Error for TimeoutError {}
