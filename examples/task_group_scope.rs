//! asyncio 3.11's `TaskGroup` as a scope: a child fails, the body stops at once.
//!
//! ```python
//! async def fetch(name, delay, error):
//!     await asyncio.sleep(delay)
//!     raise Exception(error)
//! async def main():
//!     try:
//!         async with asyncio.TaskGroup() as tg:
//!             tg.create_task(fetch("feed", 1, "the feed is down"))
//!             tg.create_task(fetch("disk", 1, "the disk is full"))
//!             tg.create_task(asyncio.sleep(10))      # a slow report
//!             await asyncio.sleep(5)
//!             print("body: done")                    # never printed
//!     except* Exception as group:
//!         print(group.exceptions)
//! ```
//!
//! What to watch: at t=1 both fetches fail. The body, asleep until t=5, is
//! dropped right there (its guard says so, its last line never runs), the slow
//! report is cancelled, and the group returns both failures together, at t=1, not
//! at t=5. In asyncio the body gets a `CancelledError` at its `await`; in Rust the
//! body future is dropped there, so its cleanup lives in `Drop`. The two panics
//! are printed on stderr as one line each, by clearloop's panic hook.
//!
//! Run: `cargo run --example task_group_scope` (real clock: 1 s), or add
//! `-- --virtual` (instant). It prints, on the virtual clock:
//!
//! ```text
//! t=0.000  body: spawned fetch(feed), fetch(disk) and a slow report; sleeping 5 s
//! t=1.000  body: dropped at its await (cleanup runs in Drop)
//! t=1.000  report: cancelled
//! t=1.000  unhandled errors in a TaskGroup (2 sub-exceptions)
//!   - task 'Task-1' panicked: the feed is down
//!   - task 'Task-2' panicked: the disk is full
//! ```

use std::time::{Duration, Instant};

use clearloop::Builder;
use clearloop::clock::Clock;
use clearloop::group::task_group;
use clearloop::time::sleep;

async fn fetch(delay: Duration, error: &'static str) {
    sleep(delay).await;
    panic!("{error}");
}

/// Prints `message` when dropped, with the time: shows when a future is dropped.
struct SayWhenDropped {
    start: Instant,
    clock: Clock,
    message: &'static str,
}

impl Drop for SayWhenDropped {
    fn drop(&mut self) {
        let t = self.clock.now() - self.start;
        println!("t={:.3}  {}", t.as_secs_f64(), self.message);
    }
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    // The fetches panic on purpose: one line each on stderr, not a backtrace.
    clearloop::panics::install_hook();
    let runtime = Builder::new().clock(clock.clone()).build();
    let start = clock.now();
    let say = |message| SayWhenDropped {
        start,
        clock: clock.clone(),
        message,
    };
    let result = runtime.block_on(task_group(|tg| async move {
        tg.spawn(fetch(Duration::from_secs(1), "the feed is down"));
        tg.spawn(fetch(Duration::from_secs(1), "the disk is full"));
        let report = say("report: cancelled");
        tg.spawn(async move {
            let _report = report;
            sleep(Duration::from_secs(10)).await;
        });
        println!("t=0.000  body: spawned fetch(feed), fetch(disk) and a slow report; sleeping 5 s");
        let _cleanup = say("body: dropped at its await (cleanup runs in Drop)");
        sleep(Duration::from_secs(5)).await;
        println!("body: done"); // never printed: the body is dropped at t=1
    }));
    let t = clock.now() - start;
    match result {
        Ok(()) => println!("t={:.3}  every task succeeded", t.as_secs_f64()),
        Err(group) => println!("t={:.3}  {group}", t.as_secs_f64()),
    }
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
