//! `asyncio.wait_for`: a slow coroutine cut off after a deadline.
//!
//! ```python
//! async def slow_report():
//!     await asyncio.sleep(5)
//!     return "report"
//!
//! try:
//!     await asyncio.wait_for(slow_report(), timeout=1.5)
//! except TimeoutError:
//!     print("gave up after 1.5 s")
//! ```
//!
//! Watch what gets dropped: on timeout the future is cancelled, and its `Drop` (the
//! "cleanup" line) runs at once, at 1.5 s. A `Task` given to `wait_for` is cancelled
//! at the deadline too: awaiting binds the task to its awaiter. The second half waits
//! on `task.wait()` instead, which does not bind, so the task is still running after
//! the timeout and the code chooses to `cancel()` it.
//!
//! Run: `cargo run --example timeout` (add `-- --virtual` for the virtual clock).
//! Prints:
//!
//! ```text
//! 1.500 s: cleanup: slow_report dropped before it finished
//! 1.500 s: wait_for gave up: timed out after 1.500 s: the future was cancelled (dropped)
//! 2.500 s: the task is still running after its timeout: cancel it
//! 2.500 s: cancelled: true
//! ```

use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::time::{now, sleep};
use clearloop::{Builder, spawn, wait_for};

/// Prints a line when dropped: shows when the cancelled future is cleaned up.
struct Cleanup(Instant);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let at = now() - self.0;
        println!(
            "{:.3} s: cleanup: slow_report dropped before it finished",
            at.as_secs_f64()
        );
    }
}

async fn slow_report(start: Instant) -> &'static str {
    let _cleanup = Cleanup(start);
    sleep(Duration::from_secs(5)).await;
    "report"
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock).build();
    runtime.block_on(async {
        let start = now();
        let elapsed = || (now() - start).as_secs_f64();
        match wait_for(slow_report(start), Duration::from_millis(1500)).await {
            Ok(report) => println!("got {report}"),
            Err(error) => println!("{:.3} s: wait_for gave up: {error}", elapsed()),
        }

        let task = spawn(sleep(Duration::from_secs(60)));
        if wait_for(task.wait(), Duration::from_secs(1)).await.is_err() {
            println!(
                "{:.3} s: the task is still running after its timeout: cancel it",
                elapsed()
            );
            task.cancel();
        }
        task.wait().await;
        println!("{:.3} s: cancelled: {}", elapsed(), task.cancelled());
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
