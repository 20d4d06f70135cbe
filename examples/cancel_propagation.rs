//! Cancellation follows the await, and `asyncio.shield` opts out.
//!
//! ```python
//! async def inner():
//!     try:
//!         await asyncio.sleep(3)
//!         print("inner: finished")
//!     except asyncio.CancelledError:
//!         print("inner: cancelled")
//!         raise
//!
//! async def outer(task):
//!     await task                      # then: await asyncio.shield(task)
//!
//! async def main():
//!     task = asyncio.create_task(inner())
//!     waiter = asyncio.create_task(outer(task))
//!     await asyncio.sleep(1)
//!     waiter.cancel("the user pressed Ctrl-C")
//! ```
//!
//! What to watch: in the first half the outer task is cancelled at t=1 while it
//! awaits the inner one, and the inner task is cancelled with it, at t=1, with the
//! same message. In the second half the outer task awaits through `shield`: it is
//! cancelled at t=1 just the same, but the inner task runs on and finishes at t=3.
//! (A task handle that nobody awaits detaches when dropped, as an asyncio task runs
//! whether or not anyone awaits it; it is the *await* that binds the two.)
//!
//! Run: `cargo run --example cancel_propagation` (real clock: 8 s), or add
//! `-- --virtual` (instant). It prints:
//!
//! ```text
//! -- outer awaits inner
//! t=1.000  outer: task 'Task-2' was cancelled: the user pressed Ctrl-C
//! t=1.000  inner: task 'Task-1' was cancelled: the user pressed Ctrl-C
//! -- outer awaits shield(inner)
//! t=1.000  outer: task 'Task-4' was cancelled: the user pressed Ctrl-C
//! t=3.000  inner: finished
//! ```

use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::task::shield;
use clearloop::time::{now, sleep};
use clearloop::{Builder, spawn};

/// Prints a line with the time since `start`.
fn say(start: Instant, what: impl std::fmt::Display) {
    println!("t={:.3}  {what}", (now() - start).as_secs_f64());
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let runtime = Builder::new().clock(clock).build();
    runtime.block_on(async {
        for shielded in [false, true] {
            println!(
                "-- outer awaits {}",
                if shielded { "shield(inner)" } else { "inner" }
            );
            let start = now();
            let inner = spawn(async move {
                sleep(Duration::from_secs(3)).await;
                say(start, "inner: finished");
            });
            // asyncio's `except CancelledError` is a done-callback here: a Rust
            // future that is cancelled is dropped, it cannot run an except block.
            let _ = inner.add_done_callback(move |inner| {
                if let Ok(Some(error)) = inner.exception() {
                    say(start, format_args!("inner: {error}"));
                }
            });
            let outer = spawn(async move {
                if shielded {
                    shield(inner).await
                } else {
                    inner.await
                }
            });
            sleep(Duration::from_secs(1)).await;
            outer.cancel_with("the user pressed Ctrl-C");
            if let Err(error) = outer.join().await {
                say(start, format_args!("outer: {error}"));
            }
            sleep(Duration::from_secs(3)).await;
        }
    });
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
